"""What the fake SOLAPI stores per message, and the JSON shapes the solapi SDK parses.

The send answer's ``groupInfo`` is validated by the SDK (5.0.3): every field below is
required there, so a missing one fails the send with a pydantic ValidationError.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

MAX_LIST_LIMIT = 500
ACCEPTED = "2000"
DELIVERED = "4000"
PRICES = {"SMS": 20.0, "LMS": 50.0, "MMS": 200.0, "ATA": 13.0}  # KRW; made up but plausible
STATUS_MESSAGES = {
    "1010": "필수 입력 값 미입력",
    "1025": "잘못된 메시지 타입",
    "1026": "중복 수신번호",
    "1030": "잔액 부족",
    "1031": "메시지 길이 초과",
    "1041": "유효한 플러스 친구 값이 아닙니다.",
    "1042": "유효한 템플릿 아이디가 아닙니다.",
    "1043": "등록한 템플릿과 내용이 다릅니다.",
    "1062": "발신번호 미등록",
    "2000": "정상 접수(이통사로 접수 예정)",
    "2230": "잔액 부족",
    "3000": "이통사로 접수(리포트를 기다리는 중)",
    "3010": "수신번호 형식 오류",
    "3032": "미가입자",
    "3103": "메시지와 템플릿 불일치",
    "3104": "카카오톡 미사용자",
    "4000": "수신 완료",
}


def iso(moment: datetime) -> str:
    """Format a time as SOLAPI does: UTC, milliseconds, ``Z``."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def byte_len(text: str) -> int:
    """Count cp949 bytes, as Korean carriers and SOLAPI do."""
    return len(text.encode("cp949", errors="replace"))


@dataclass(frozen=True)
class SolapiMessage:
    """One message the fake registered, as SOLAPI stores it (numbers in domestic format)."""

    message_id: str
    group_id: str
    type: str
    to: str
    from_: str
    text: str | None
    subject: str | None
    country: str
    custom_fields: dict[str, str]
    kakao_options: dict[str, Any] | None
    status_code: str
    date_created: datetime
    date_updated: datetime
    date_reported: datetime | None = None
    replacement: bool = False
    replacements: tuple[dict[str, Any], ...] = ()  # an AlimTalk's replacement messages (대체발송)

    @classmethod
    def from_request(
        cls, item: dict[str, Any], message_id: str, group_id: str, kind: str, code: str, now: datetime
    ) -> SolapiMessage:
        """Record one entry of ``messages`` in a send body."""
        return cls(
            message_id=message_id,
            group_id=group_id,
            type=kind,
            to=str(item.get("to") or ""),
            from_=str(item.get("from") or ""),
            text=item.get("text"),
            subject=item.get("subject"),
            country=str(item.get("country", "82")),
            custom_fields=dict(item.get("customFields") or {}),
            kakao_options=item.get("kakaoOptions"),
            replacements=tuple(item.get("replacements") or ()),
            status_code=code,
            date_created=now,
            date_updated=now,
        )

    def field(self, name: str) -> object:
        """Return the value of a list filter's camelCase name."""
        return {"messageId": self.message_id, "groupId": self.group_id, "from": self.from_}.get(
            name, getattr(self, {"statusCode": "status_code"}.get(name, name), None)
        )

    def in_window(self, start: datetime | None, end: datetime | None, *, updated: bool) -> bool:
        """Tell whether the message's creation (or update) time is within [start, end]."""
        moment = self.date_updated if updated else self.date_created
        return (start is None or moment >= start) and (end is None or moment <= end)

    def accepted_entry(self) -> dict[str, Any]:
        """Build this message's entry of ``messageList`` in a send answer."""
        entry = {"messageId": self.message_id, "statusCode": self.status_code}
        entry["statusMessage"] = STATUS_MESSAGES[self.status_code]
        return {**entry, **({"customFields": self.custom_fields} if self.custom_fields else {})}

    def failed_entry(self, account_id: str) -> dict[str, Any]:
        """Build this message's entry of ``failedMessageList`` in a send answer."""
        entry = {
            "to": self.to,
            "from": self.from_,
            "type": self.type,
            "country": self.country,
            "messageId": self.message_id,
            "statusCode": self.status_code,
            "statusMessage": STATUS_MESSAGES.get(self.status_code, "접수 실패"),
            "accountId": account_id,
        }
        return {**entry, **({"customFields": self.custom_fields} if self.custom_fields else {})}

    def report_data(self) -> dict[str, Any]:
        """Build the ``data`` of this message's status report (the SDK's SingleReportData)."""
        delivered = self.status_code == DELIVERED
        return {
            "messageId": self.message_id,
            "groupId": self.group_id,
            "type": self.type,
            "to": self.to,
            "from": self.from_,
            "statusCode": self.status_code,
            "statusMessage": STATUS_MESSAGES.get(self.status_code, ""),
            "dateProcessed": iso(self.date_updated),
            "dateReported": iso(self.date_reported) if self.date_reported else None,
            "dateReceived": iso(self.date_updated) if delivered else None,
            "networkCode": "SKT" if delivered else None,
            "kakaoOptions": self.kakao_options,
            "customFields": self.custom_fields,
        }

    def listed(self) -> dict[str, Any]:
        """Build this message as the list endpoint shows it."""
        return {
            "_id": self.message_id,
            "messageId": self.message_id,
            "groupId": self.group_id,
            "type": self.type,
            "country": self.country,
            "to": self.to,
            "from": self.from_,
            "text": self.text,
            "subject": self.subject,
            "customFields": self.custom_fields,
            "kakaoOptions": self.kakao_options,
            "replacement": self.replacement,
            "statusCode": self.status_code,
            "dateCreated": iso(self.date_created),
            "dateUpdated": iso(self.date_updated),
            "log": [],
        }


def group_info(
    group_id: str,
    account_id: str,
    accepted: list[SolapiMessage],
    failed: int,
    body: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """Build the ``groupInfo`` of a send answer."""
    charge: dict[str, dict[str, float]] = {}
    for message in accepted:
        per_country = charge.setdefault(message.type.lower(), {})
        per_country[message.country] = per_country.get(message.country, 0) + 1
    requested = sum(PRICES[m.type] for m in accepted)
    return {
        "count": {
            "total": len(accepted) + failed,
            "sentTotal": 0,
            "sentFailed": 0,
            "sentSuccess": 0,
            "sentPending": len(accepted),
            "sentReplacement": 0,
            "refund": 0,
            "registeredFailed": failed,
            "registeredSuccess": len(accepted),
        },
        "countForCharge": charge,
        "balance": {"requested": requested, "replacement": 0, "refund": 0, "sum": requested},
        "point": {"requested": 0, "replacement": 0, "refund": 0, "sum": 0},
        "app": {"profit": {kind.lower(): 0 for kind in PRICES}, "appId": body.get("appId")},
        "log": [{"createAt": iso(now), "message": "메시지 그룹이 생성되었습니다."}],
        "status": "SENDING" if accepted else "FAILED",
        "allowDuplicates": bool(body.get("allowDuplicates")),
        "isRefunded": False,
        "accountId": account_id,
        "masterAccountId": None,
        "apiVersion": "4",
        "groupId": group_id,
        "price": {"82": {kind.lower(): price for kind, price in PRICES.items()}},
        "dateCreated": iso(now),
        "dateUpdated": iso(now),
        "scheduledDate": body.get("scheduledDate"),
        "dateSent": iso(now),
        "dateCompleted": None,
    }


def check_template(templates: dict[str, dict[str, str]], item: dict[str, Any]) -> str:
    """Check an AlimTalk against its approved template; fill ``item["text"]`` when it matches."""
    kakao = item.get("kakaoOptions") or {}
    approved_by_id = templates.get(kakao.get("pfId") or "")
    if approved_by_id is None:
        return "1041"
    approved = approved_by_id.get(kakao.get("templateId") or "")
    if approved is None:
        return "1042"
    rendered = approved
    for name, value in (kakao.get("variables") or {}).items():
        rendered = rendered.replace(name, str(value))
    text = item.get("text")
    if re.search(r"#\{[^}]+\}", rendered) or (text and text != rendered):
        return "1043"
    item["text"] = rendered
    return ACCEPTED


def _aware(value: str | None) -> datetime | None:
    if not value:
        return None
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def list_page(stored: list[SolapiMessage], query: str) -> dict[str, Any]:
    """Answer ``GET /messages/v4/list-old`` with its camelCase query; raise ValueError if malformed."""
    q = {k: v[-1] for k, v in parse_qs(query).items()}
    limit = max(1, min(int(q.get("limit", 20)), MAX_LIST_LIMIT))
    start, end = _aware(q.get("startDate")), _aware(q.get("endDate"))
    ids: set[str] | None = None
    if "messageIds" in q:  # SDK 5.0.3 urlencodes the list as its Python repr
        raw = q["messageIds"]
        ids = {str(i).strip() for i in (ast.literal_eval(raw) if raw.startswith("[") else raw.split(","))}
    wanted = {k: q[k] for k in ("messageId", "groupId", "to", "from", "type", "statusCode") if q.get(k)}
    updated = q.get("dateType") == "UPDATED"
    rows = [
        m
        for m in stored
        if all(str(m.field(k)) == v for k, v in wanted.items())
        and (ids is None or m.message_id in ids)
        and m.in_window(start, end, updated=updated)
    ]
    keys = [m.message_id for m in rows]
    first = keys.index(q["startKey"]) if q.get("startKey") in keys else 0
    page = rows[first : first + limit]
    next_key = keys[first + limit] if first + limit < len(keys) else None
    listed = {m.message_id: m.listed() for m in page}
    return {"startKey": q.get("startKey"), "limit": limit, "nextKey": next_key, "messageList": listed}
