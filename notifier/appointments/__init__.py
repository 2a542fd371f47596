"""Appointments: booking, moving and cancelling them, their notices and reminders.

service   put / cancel / read appointments; what changes when one moves (``still_true``)
notices   the confirmation, change and cancellation notices and the person's page link
tables    the appointments table
"""
