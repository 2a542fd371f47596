"""Attendance: what happened at each appointment, the reports on it, and reminder-plan experiments.

- ``outcomes``: record an appointment's outcome (attended, no-show, ...) and send its webhook.
- ``reports``: the attendance report, SQL aggregates over the appointments, small cells hidden.
- ``experiments``: start, read and stop an experiment; assign each new appointment an arm.
- ``statistics``: the intervals, tests and power figures, from statsmodels.

The rules are pure, in ``notifier.domain.attendance``.
"""
