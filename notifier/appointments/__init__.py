"""Appointments: booking, moving and cancelling them, their notices and reminders.

What happens when an appointment moves: ``service._change`` (the use case), ``rules`` (what it
decides) and ``claim_check`` (why a reminder queued for the old time is never sent).

service      put / cancel / read appointments (the booking system's use cases)
page         the person's page: find the appointment behind a link, record their answer
rules        the pure rules: the claim check, changes, the reminder plan, the page's closing
status       ``AppointmentStatus`` and its one table of transitions
appointment  ``Appointment``, the dataclass use cases pass around
repository   the SQL: appointments read and written, their pending messages cancelled
claim_check  loads what ``rules.still_true`` needs during a message's claim
notices      the confirmation, change and cancellation notices and the person's page link
tables       the appointments table
"""
