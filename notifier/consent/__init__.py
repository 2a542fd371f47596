"""Consent: stored recipients, their advertising consent, and opt-outs.

recipients           a client's recipients, their consents, and their erasure
coverage             what an opt-out covers (pure rules)
addresses            normalised addresses and the hashes opt-outs are stored as
opt_outs             recording an opt-out (and confirming it); the opt-out claim check
advertising_consent  advertising and night-time consent checks
opt_out_links        signed one-click opt-out (unsubscribe) links
replies              STOP replies by SMS
repository           the SQL of recipients and opt-outs
tables               recipients and opt_outs
"""
