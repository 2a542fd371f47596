"""Campaigns: lawful announcements to many recipients, at the provider's speed, never twice.

service   create, start, cancel, read; the validation report
lists     reading recipient lists (CSV, inline, stored recipients)
upload    checking and storing the rows of a list
render    rendering campaign messages as workers claim them
fanout    turning a started campaign into messages, batch by batch; finishing it
repository the SQL of campaigns, their recipients, rejected rows and messages; status changes
tables    campaigns, their recipients and rejected rows
"""
