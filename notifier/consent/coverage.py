"""What an opt-out covers (정보통신망법 제50조), for one address across every owner.

- scope ``advertising``: every message whose category is ``advertising``;
- scope ``all``: every campaign message as well (``campaign_id`` set), informational or not;
- never: informational messages about the person's own case (appointment confirmation,
  reminder, change, cancellation: ``OWN_CASE_PURPOSES``) and the opt-out confirmation itself.
  An advertising message is never exempt, whatever its purpose. A single informational message
  a client sends itself (``POST /v1/messages``, no campaign) is not a campaign message either.

Pure rules: ``consent.repository`` writes ``is_covered`` as SQL, and the two must agree.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Literal, get_args

ADVERTISING = "advertising"
SCOPES = ("advertising", "all")
Source = Literal["api", "unsubscribe_link", "sms_reply", "call_center", "email_reply", "in_person", "written"]
SOURCES: tuple[str, ...] = get_args(Source)
OWN_CASE_PURPOSES = frozenset({"confirmation", "reminder", "change", "cancellation"})
CONFIRMATION_TEMPLATE = "opt_out_confirmation"


def is_covered(
    scope: str, *, category: str, campaign: bool, purpose: str | None = None, template_key: str | None = None
) -> bool:
    """Tell whether an opt-out of ``scope`` forbids a message of this kind."""
    if category == ADVERTISING:
        return True
    if purpose in OWN_CASE_PURPOSES or template_key == CONFIRMATION_TEMPLATE:
        return False
    return scope == "all" and campaign


def reason_text(scope: str, source: str) -> str:
    """What a suppressed message's history says about the opt-out that stopped it."""
    return f"recipient opted out ({scope}, via {source})"


def first_reason(opt_outs_of_address: Iterable[tuple[str, str]], **kind: Any) -> str | None:
    """The reason of the first (scope, source) opt-out that covers a message of ``kind``."""
    for scope, source in opt_outs_of_address:
        if is_covered(scope, **kind):
            return reason_text(scope, source)
    return None
