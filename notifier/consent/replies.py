"""STOP replies: an SMS answer that opts its sender out of everything.

The replies ``수신거부``, ``거부`` or ``STOP`` (any case, full-width or spaced) opt the sender
out with scope ``all``; no other keyword is recognised.
"""

from __future__ import annotations

import logging
import unicodedata

from notifier.consent.opt_outs import record_opt_out
from notifier.context import Context
from notifier.domain.phones import mask_phone, parse_phone
from notifier.errors import InvalidPhoneNumber

log = logging.getLogger("notifier.opt_outs")

STOP_KEYWORDS = frozenset({"수신거부", "거부", "STOP"})


def is_stop_keyword(text: str) -> bool:
    """Tell whether an SMS reply asks to stop: 수신거부, 거부 or STOP, spacing and case ignored."""
    return "".join(unicodedata.normalize("NFKC", text).split()).upper() in STOP_KEYWORDS


def opt_out_by_reply(ctx: Context, sender: str, to: str, text: str) -> bool:
    """Opt ``sender`` out of everything if ``text`` is a stop keyword; returns whether it did."""
    if not is_stop_keyword(text):
        return False
    try:
        phone = parse_phone(sender).e164
    except InvalidPhoneNumber:
        log.warning("stop keyword from an unusable number", extra={"sender": mask_phone(sender)})
        return False
    record_opt_out(ctx, channel="sms", address=phone, scope="all", source="sms_reply", texted=to)
    return True
