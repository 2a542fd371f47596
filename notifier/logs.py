"""Structured logs: one JSON object per line, personal data masked in every line.

Masking happens in the formatter, on the finished line, so no call site can forget it.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any

from notifier.domain.phones import mask_personal_data

_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime"}


class MaskingJsonFormatter(logging.Formatter):
    """Format a record as JSON and mask phone numbers and email addresses in it."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask_personal_data(json.dumps(entry, ensure_ascii=False, default=str))


def configure(level: str = "INFO") -> None:
    """Send every log line through the masking formatter."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(MaskingJsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level)
    for noisy in ("twilio.http_client", "urllib3", "kombu", "amqp"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
