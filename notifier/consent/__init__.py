"""Consent: stored recipients, their advertising consent, and opt-outs (unsubscribe links,
STOP replies, the opt-out claim check).
"""
