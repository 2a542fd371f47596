"""Messages: from an accepted request to the provider and back.

accept      validate, resolve recipient and sender, render, store (one message)
intake      group commit: requests arriving together share one transaction
publisher   hand committed ids to the broker, from a background thread in the API
model       Message: a typed row of the messages table, as the worker carries it
claims      queued -> sending, once, after the claim checks features register
sending     claim, send, record: one loop for one message or a batch of them
throttle    the shared per-sender rate limit (Redis)
outcomes    record what the provider said: sent, retry later, failed
callbacks   provider status callbacks (a status only moves forward)
scheduler   due -> queued, expired, lost ids published again, stuck ones recovered
views       the public JSON shape of messages
repository, batches, tables   the SQL and the tables
"""
