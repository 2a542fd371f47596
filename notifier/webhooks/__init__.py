"""Outbound webhooks: signed events to client services, retried until delivered."""
