"""The OpenAPI 3.1 document at /openapi.json. Request schemas come from the pydantic models,
so the document cannot drift from what the API validates; a test checks every route is here
and that real responses match the response schemas."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from notifier.api import openapi_appointments
from notifier.api.recipients import OptOutIn, RecipientPut
from notifier.api.templates import PreviewIn, TemplateIn
from notifier.campaigns.service import CampaignIn, SendTestIn, StartIn
from notifier.schemas import MessageIn

bp = Blueprint("openapi", __name__)

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "MessageIn": MessageIn,
    "TemplateIn": TemplateIn,
    "PreviewIn": PreviewIn,
    "RecipientPut": RecipientPut,
    "OptOutIn": OptOutIn,
}
TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

RESPONSE_SCHEMAS: dict[str, Any] = {
    "Problem": {
        "type": "object",
        "required": ["type", "title", "status", "detail"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "detail": {"type": "string"},
            "instance": {"type": "string"},
            "errors": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["pointer", "detail"],
                    "properties": {"pointer": {"type": "string"}, "detail": {"type": "string"}},
                },
            },
        },
    },
    "Message": {
        "type": "object",
        "required": ["id", "status", "channel", "template", "to", "send_at", "created_at"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "status": {
                "enum": [
                    "scheduled",
                    "queued",
                    "sending",
                    "sent",
                    "delivered",
                    "failed",
                    "suppressed",
                    "cancelled",
                    "expired",
                ],
            },
            "channel": {"enum": ["sms", "email"]},
            "purpose": {"type": "string"},
            "template": {
                "type": "object",
                "properties": {"key": {"type": "string"}, "version": {"type": "integer"}},
            },
            "to": {
                "type": "object",
                "properties": {
                    "phone": {"type": ["string", "null"], "description": "E.164"},
                    "email": {"type": ["string", "null"]},
                    "name": {"type": "string"},
                },
            },
            "locale": {"type": "string"},
            "reference": {"type": ["string", "null"]},
            "send_at": TIMESTAMP,
            "created_at": TIMESTAMP,
            "segments": {"type": ["integer", "null"], "description": "Twilio segments (SMS)"},
            "kr_class": {"enum": ["SMS", "LMS", None]},
            "sandboxed": {"type": "boolean"},
            "provider_message_id": {"type": ["string", "null"]},
            "error": {
                "type": ["object", "null"],
                "properties": {"code": {"type": "string"}, "reason": {"type": ["string", "null"]}},
            },
            "history": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["status", "at"],
                    "properties": {
                        "status": {"type": "string"},
                        "at": TIMESTAMP,
                        "detail": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
    "CenterList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "name", "phone", "sms_sender", "timezone"],
                    "properties": {
                        "code": {"type": "string"},
                        "name": {"type": "string"},
                        "phone": {"type": "string", "description": "E.164"},
                        "phone_display": {"type": "string", "example": "041-661-5676"},
                        "address": {"type": ["string", "null"]},
                        "sms_sender": {"type": "string"},
                        "email_sender": {"type": "string"},
                        "reply_to": {"type": "string"},
                        "timezone": {"type": "string"},
                        "reminder_offsets": {
                            "type": "array",
                            "items": {"type": "integer"},
                            "description": "seconds before the start",
                        },
                        "quiet_hours": {"type": "string", "example": "21:00-08:00"},
                    },
                },
            }
        },
    },
    "MessageList": {
        "type": "object",
        "required": ["items", "next_cursor"],
        "properties": {
            "items": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}},
            "next_cursor": {"type": ["string", "null"]},
        },
    },
    "Template": {
        "type": "object",
        "required": [
            "key",
            "version",
            "description",
            "purpose",
            "channels",
            "values",
            "optional",
            "sample",
            "sources",
            "created_at",
            "created_by",
        ],
        "properties": {
            "key": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "description": {"type": "string"},
            "purpose": {"type": "string"},
            "channels": {"type": "array", "items": {"enum": ["sms", "email"]}},
            "values": {"type": "object", "additionalProperties": {"type": "string"}},
            "optional": {"type": "array", "items": {"type": "string"}},
            "sample": {"type": "object"},
            "sample_en": {"type": ["object", "null"]},
            "sources": {
                "type": "object",
                "description": "locale -> part file name -> Jinja source",
                "additionalProperties": {
                    "type": "object",
                    "additionalProperties": {"type": "string"},
                },
            },
            "created_at": TIMESTAMP,
            "created_by": {"type": "string", "description": "owner of the key that saved it"},
        },
    },
    "TemplateList": {
        "type": "object",
        "required": ["items"],
        "properties": {
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["key", "version", "description", "purpose", "channels", "locales"],
                    "properties": {
                        "key": {"type": "string"},
                        "version": {"type": "integer", "description": "the current version"},
                        "description": {"type": "string"},
                        "purpose": {"type": "string"},
                        "channels": {"type": "array", "items": {"enum": ["sms", "email"]}},
                        "locales": {"type": "array", "items": {"type": "string"}},
                    },
                },
            }
        },
    },
    "TemplateVersions": {
        "type": "object",
        "required": ["key", "current_version", "items"],
        "properties": {
            "key": {"type": "string"},
            "current_version": {"type": "integer"},
            "items": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["version", "created_at", "created_by"],
                    "properties": {
                        "version": {"type": "integer"},
                        "created_at": TIMESTAMP,
                        "created_by": {"type": "string"},
                    },
                },
            },
        },
    },
    "Preview": {
        "type": "object",
        "description": "SMS previews carry body and sizing; email previews subject, html and text.",
        "required": ["key", "version", "channel", "locale", "advertising"],
        "properties": {
            "key": {"type": "string"},
            "version": {"type": "integer"},
            "channel": {"enum": ["sms", "email"]},
            "locale": {"type": "string", "description": "the variant used (falls back to ko)"},
            "advertising": {"type": "boolean"},
            "body": {"type": "string"},
            "characters": {"type": "integer"},
            "cp949_bytes": {"type": "integer", "description": "size Korean carriers bill"},
            "kr_class": {"enum": ["SMS", "LMS", None]},
            "encoding": {"enum": ["GSM-7", "UCS-2"]},
            "segments": {"type": "integer", "description": "Twilio segments"},
            "too_long": {"type": "boolean"},
            "unencodable": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "char": {"type": "string"},
                        "position": {"type": "integer"},
                        "line": {"type": "integer"},
                        "column": {"type": "integer"},
                    },
                },
            },
            "subject": {"type": "string"},
            "html": {"type": "string"},
            "text": {"type": "string"},
        },
    },
    "Recipient": {
        "type": "object",
        "required": [
            "external_id",
            "name",
            "phone",
            "email",
            "locale",
            "center",
            "tags",
            "consents",
            "consent_valid",
            "created_at",
            "updated_at",
        ],
        "properties": {
            "external_id": {"type": "string"},
            "name": {"type": "string"},
            "phone": {"type": ["string", "null"], "description": "E.164 mobile number"},
            "email": {"type": ["string", "null"], "description": "lower-cased"},
            "locale": {"type": "string"},
            "center": {"type": ["string", "null"], "description": "centre code"},
            "tags": {"type": "array", "items": {"type": "string"}},
            "consents": {
                "type": "object",
                "additionalProperties": {
                    "type": ["object", "null"],
                    "properties": {"given_at": TIMESTAMP, "reconfirmed_at": TIMESTAMP},
                },
            },
            "consent_valid": {
                "type": "object",
                "description": "computed now: given or re-confirmed less than 2 years ago",
                "additionalProperties": {"type": "boolean"},
            },
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "OptOut": {
        "type": "object",
        "required": [
            "id",
            "channel",
            "address",
            "scope",
            "source",
            "created_at",
            "suppressed_messages",
            "confirmation_message_id",
        ],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "channel": {"enum": ["sms", "email"]},
            "address": {"type": "string", "description": "masked; only a keyed hash is stored"},
            "scope": {"enum": ["advertising", "all"]},
            "source": {"type": "string"},
            "created_at": TIMESTAMP,
            "suppressed_messages": {"type": "integer", "description": "pending messages suppressed now"},
            "confirmation_message_id": {"type": ["string", "null"], "description": "the confirmation sent"},
        },
    },
}


def _problems(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed JSON",
        401: "Missing or unknown API key",
        403: "The key lacks the scope",
        404: "Unknown resource",
        409: "Conflict",
        413: "Body too large",
        415: "Not JSON",
        422: "Invalid input; `errors` names each field by JSON pointer",
        410: "Gone: the link stopped working after the appointment",
        503: "A dependency is unreachable",
    }
    return {
        str(code): {
            "description": reasons[code],
            "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for code in codes
    }


def _json(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


PATHS: dict[str, Any] = {
    "/v1/messages": {
        "post": {
            "summary": "Send one message",
            "description": "Render a template and queue the message (or schedule it with `send_at`). "
            "With `Idempotency-Key`, a repeat returns the first answer and creates nothing.",
            "security": [{"apiKey": ["send"]}],
            "parameters": [
                {"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}}
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageIn"}}},
            },
            "responses": {"202": _json("Message", "Accepted"), **_problems(400, 401, 403, 413, 415, 422)},
        },
        "get": {
            "summary": "List messages, newest first",
            "security": [{"apiKey": ["send"]}],
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string"}},
                {"name": "reference", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "limit",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                },
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": _json("MessageList", "One page"), **_problems(401, 403, 422)},
        },
    },
    "/v1/messages/{message_id}": {
        "get": {
            "summary": "A message with its status history",
            "security": [{"apiKey": ["send"]}],
            "parameters": [
                {"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}
            ],
            "responses": {"200": _json("Message", "The message"), **_problems(401, 403, 404)},
        }
    },
    "/webhooks/twilio/status": {
        "post": {
            "summary": "Twilio status callback (signed with X-Twilio-Signature)",
            "parameters": [
                {"name": "message_id", "in": "query", "schema": {"type": "string"}},
                {
                    "name": "X-Twilio-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
            "responses": {"204": {"description": "Applied, or ignored as late"}, **_problems(403)},
        }
    },
    "/v1/centers": {
        "get": {
            "summary": "The centres messages can be sent on behalf of",
            "security": [{"apiKey": []}],
            "responses": {"200": _json("CenterList", "Every registered centre"), **_problems(401)},
        }
    },
    "/v1/templates": {
        "get": {
            "summary": "Every template at its current version",
            "security": [{"apiKey": ["templates"]}],
            "responses": {"200": _json("TemplateList", "The templates"), **_problems(401, 403)},
        }
    },
    "/v1/templates/{key}": {
        "get": {
            "summary": "One template version (the current one without `version`)",
            "security": [{"apiKey": ["templates"]}],
            "parameters": [
                {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "version",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                },
            ],
            "responses": {"200": _json("Template", "The version"), **_problems(401, 403, 404, 422)},
        },
        "put": {
            "summary": "Save a new version (or the first version of a new key)",
            "description": "The version is checked before it is stored: every part compiles, uses "
            "only declared values and (SMS) characters cp949 can encode, and every locale and "
            "channel renders with the sample data. A refused version stores nothing; `errors` "
            "name the part (`/sources/ko/sms.txt`) and the line.",
            "security": [{"apiKey": ["templates"]}],
            "parameters": [
                {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/TemplateIn"}},
                },
            },
            "responses": {
                "200": _json("Template", "A new version of an existing template"),
                "201": _json("Template", "The first version of a new template"),
                **_problems(400, 401, 403, 409, 413, 415, 422),
            },
        },
    },
    "/v1/templates/{key}/versions": {
        "get": {
            "summary": "Every version of a template, oldest first",
            "security": [{"apiKey": ["templates"]}],
            "parameters": [
                {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {
                "200": _json("TemplateVersions", "The versions"),
                **_problems(401, 403, 404),
            },
        }
    },
    "/v1/templates/{key}/preview": {
        "post": {
            "summary": "Render a template as a recipient would get it, without sending",
            "description": "SMS: body, Korean size class, cp949 bytes, Twilio encoding and "
            "segments. Email: subject, HTML and text. Without `data` the template's sample "
            "data is used. "
            "With `advertising` the (광고) markings are applied with a placeholder opt-out line; "
            "real campaigns use the centre's own free 080 number.",
            "security": [{"apiKey": ["templates"]}],
            "parameters": [
                {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
                {
                    "name": "version",
                    "in": "query",
                    "schema": {"type": "integer", "minimum": 1, "maximum": 2147483647},
                },
            ],
            "requestBody": {
                "required": True,
                "content": {
                    "application/json": {"schema": {"$ref": "#/components/schemas/PreviewIn"}},
                },
            },
            "responses": {
                "200": _json("Preview", "The rendered message"),
                **_problems(400, 401, 403, 404, 415, 422),
            },
        }
    },
    "/v1/recipients/{external_id}": {
        "put": {
            "summary": "Create or replace a recipient and its advertising consents",
            "description": "Stored per key owner. The phone must be a mobile number (stored E.164); "
            "consent timestamps need a UTC offset and may not lie in the future. Consent counts for "
            "2 years from the later of `given_at` and `reconfirmed_at`.",
            "security": [{"apiKey": ["campaigns"]}],
            "parameters": [
                {"name": "external_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/RecipientPut"}}},
            },
            "responses": {
                "200": _json("Recipient", "Replaced"),
                "201": _json("Recipient", "Created (also after an erasure)"),
                **_problems(400, 401, 403, 413, 415, 422),
            },
        },
        "get": {
            "summary": "A recipient, with `consent_valid` computed now",
            "security": [{"apiKey": ["campaigns"]}],
            "parameters": [
                {"name": "external_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"200": _json("Recipient", "The recipient"), **_problems(401, 403, 404)},
        },
        "delete": {
            "summary": "Erase a recipient's personal data",
            "description": "Name, phone, email, tags and consents are erased; opt-outs (stored as keyed "
            "hashes) keep blocking. Repeating the DELETE is a 204 again; an id never stored is a 404.",
            "security": [{"apiKey": ["campaigns"]}],
            "parameters": [
                {"name": "external_id", "in": "path", "required": True, "schema": {"type": "string"}},
            ],
            "responses": {"204": {"description": "Erased"}, **_problems(401, 403, 404)},
        },
    },
    "/v1/opt-outs": {
        "post": {
            "summary": "Opt a phone number or email address out",
            "description": "Takes effect at once for every owner: pending messages it covers are "
            "suppressed now, later ones when a worker claims them. `advertising` covers advertising "
            "messages; `all` every campaign message too. A person's own appointment messages "
            "(confirmation, reminder, change, cancellation) are never suppressed. The person gets a "
            "confirmation on the same channel from their recipient record's centre, else `center`, else "
            "the centre of the latest message to them (none if nobody ever wrote to them). An opt-out "
            "already in force is answered with 200 and confirmed no second time.",
            "security": [{"apiKey": ["campaigns"]}],
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/OptOutIn"}}},
            },
            "responses": {
                "200": _json("OptOut", "Already in force"),
                "201": _json("OptOut", "Recorded"),
                **_problems(400, 401, 403, 413, 415, 422),
            },
        }
    },
    "/u/{token}": {
        "get": {
            "summary": "Unsubscribe page (HTML, Korean); changes nothing",
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": {"description": "HTML page"}, "404": {"description": "Unknown link (HTML)"}},
        },
        "post": {
            "summary": "One-click unsubscribe (RFC 8058); no login, no cookie",
            "description": "The signed token is the credential. `List-Unsubscribe=One-Click` gets a "
            "plain-text answer, the page's own form an HTML page.",
            "parameters": [{"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}],
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "Opted out"}, "404": {"description": "Unknown link"}},
        },
    },
    "/webhooks/twilio/inbound": {
        "post": {
            "summary": "Incoming SMS (signed with X-Twilio-Signature)",
            "description": "`수신거부`, `거부` or `STOP` (any case; spaces ignored) opts the sender out of "
            "everything (`all`). Any other text changes nothing. Answers empty TwiML.",
            "parameters": [
                {
                    "name": "X-Twilio-Signature",
                    "in": "header",
                    "required": True,
                    "schema": {"type": "string"},
                },
            ],
            "requestBody": {"content": {"application/x-www-form-urlencoded": {"schema": {"type": "object"}}}},
            "responses": {"200": {"description": "Empty TwiML (text/xml)"}, **_problems(403)},
        }
    },
    "/healthz": {"get": {"summary": "Process alive", "responses": {"200": {"description": "ok"}}}},
    "/readyz": {
        "get": {
            "summary": "Database and broker reachable",
            "responses": {"200": {"description": "ready"}, **_problems(503)},
        }
    },
    "/outbox": {
        "get": {
            "summary": "Sandbox outbox (HTML, sandbox mode only)",
            "responses": {"200": {"description": "HTML page"}, **_problems(404)},
        }
    },
    "/openapi.json": {
        "get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}
    },
}


# ---- campaigns -----------------------------------------------------------------------------

_CAMPAIGN_ID = [{"name": "campaign_id", "in": "path", "required": True, "schema": {"type": "string"}}]
_CAMPAIGN_SECURITY = [{"apiKey": ["campaigns"]}]
RESPONSE_SCHEMAS["CampaignReport"] = {
    "type": "object",
    "description": "What the list held. SMS sizes are estimated by rendering one row per shape "
    "(channel, locale, which values are filled in and their lengths); workers render every message.",
    "required": [
        "rows",
        "usable",
        "rejected",
        "duplicates_merged",
        "excluded_opted_out",
        "excluded_no_consent",
        "sms",
        "lms",
        "segments",
        "email",
    ],
    "properties": {
        "rows": {"type": "integer", "description": "rows read (blank lines not counted)"},
        "usable": {"type": "integer", "description": "distinct recipients that will get a message"},
        "rejected": {
            "type": "object",
            "required": ["count", "items"],
            "properties": {
                "count": {"type": "integer"},
                "items": {
                    "type": "array",
                    "description": "the first 100; all of them at rejections.csv",
                    "items": {
                        "type": "object",
                        "required": ["row", "reason"],
                        "properties": {
                            "row": {
                                "type": "integer",
                                "description": "CSV: spreadsheet row (header = 1); "
                                "inline: index in `recipients`; filter: position from 1",
                            },
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        },
        "duplicates_merged": {"type": "integer"},
        "excluded_opted_out": {"type": "integer"},
        "excluded_no_consent": {"type": "integer", "description": "advertising only"},
        "sms": {"type": "integer"},
        "lms": {"type": "integer"},
        "segments": {"type": "integer", "description": "Twilio segments, all SMS/LMS together"},
        "email": {"type": "integer"},
        "sizes_estimated_from": {"type": "string"},
    },
}
RESPONSE_SCHEMAS["Campaign"] = {
    "type": "object",
    "required": [
        "id",
        "name",
        "status",
        "category",
        "channel",
        "template",
        "center",
        "counts",
        "progress",
        "report",
        "created_at",
    ],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "status": {"enum": ["draft", "scheduled", "running", "finished", "cancelled"]},
        "category": {"enum": ["informational", "advertising"]},
        "channel": {"enum": ["sms", "email", "auto"]},
        "template": {
            "type": "object",
            "properties": {"key": {"type": "string"}, "version": {"type": "integer"}},
        },
        "center": {"type": ["string", "null"]},
        "source": {"enum": ["csv", "inline", "filter"]},
        "opt_out_number": {"type": ["string", "null"], "description": "E.164 of the free 080 number"},
        "rate_per_second": {"type": ["number", "null"]},
        "send_at": TIMESTAMP,
        "created_at": TIMESTAMP,
        "started_at": TIMESTAMP,
        "finished_at": TIMESTAMP,
        "cancelled_at": TIMESTAMP,
        "counts": {
            "type": "object",
            "description": "messages by status",
            "additionalProperties": {"type": "integer"},
        },
        "progress": {
            "type": "object",
            "properties": {"total": {"type": "integer"}, "done": {"type": "integer"}},
        },
        "report": {"$ref": "#/components/schemas/CampaignReport"},
    },
}
RESPONSE_SCHEMAS["CampaignTestSend"] = {
    "type": "object",
    "required": ["items"],
    "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Message"}}},
}
REQUEST_MODELS.update({"CampaignIn": CampaignIn, "StartIn": StartIn, "SendTestIn": SendTestIn})
PATHS.update(
    {
        "/v1/campaigns": {
            "post": {
                "summary": "Create a campaign as a draft and get its validation report",
                "description": "JSON with inline `recipients` or a `filter` over stored recipients, or "
                "multipart/form-data with a CSV `file` (header row: `phone`, `email`, `name`, `locale` "
                "and template values; UTF-8, UTF-8 with BOM or CP949) and the other fields as form "
                "fields (`data` as a JSON string). Up to 1,000,000 rows and NOTIFIER_MAX_UPLOAD_BYTES. "
                "Nothing is sent until the campaign is started.",
                "security": _CAMPAIGN_SECURITY,
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {"schema": {"$ref": "#/components/schemas/CampaignIn"}},
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file", "name", "template", "category", "center"],
                                "properties": {
                                    "file": {"type": "string", "format": "binary"},
                                    "name": {"type": "string"},
                                    "template": {"type": "string"},
                                    "category": {"enum": ["informational", "advertising"]},
                                    "center": {"type": "string"},
                                    "channel": {"enum": ["sms", "email", "auto"]},
                                    "data": {"type": "string", "description": "a JSON object"},
                                    "opt_out_number": {"type": "string"},
                                    "rate_per_second": {"type": "number"},
                                },
                            }
                        },
                    },
                },
                "responses": {
                    "201": _json("Campaign", "The draft and its report"),
                    **_problems(400, 401, 403, 413, 415, 422),
                },
            }
        },
        "/v1/campaigns/{campaign_id}": {
            "get": {
                "summary": "A campaign: status, message counts by status, progress and report",
                "security": _CAMPAIGN_SECURITY,
                "parameters": _CAMPAIGN_ID,
                "responses": {"200": _json("Campaign", "The campaign"), **_problems(401, 403, 404)},
            }
        },
        "/v1/campaigns/{campaign_id}/messages": {
            "get": {
                "summary": "The campaign's messages, newest first",
                "security": _CAMPAIGN_SECURITY,
                "parameters": [
                    *_CAMPAIGN_ID,
                    {"name": "status", "in": "query", "schema": {"type": "string"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50},
                    },
                    {"name": "cursor", "in": "query", "schema": {"type": "string"}},
                ],
                "responses": {"200": _json("MessageList", "One page"), **_problems(401, 403, 404, 422)},
            }
        },
        "/v1/campaigns/{campaign_id}/rejections.csv": {
            "get": {
                "summary": "Every rejected row as CSV: row, reason, raw",
                "security": _CAMPAIGN_SECURITY,
                "parameters": _CAMPAIGN_ID,
                "responses": {
                    "200": {"description": "CSV", "content": {"text/csv": {"schema": {"type": "string"}}}},
                    **_problems(401, 403, 404),
                },
            }
        },
        "/v1/campaigns/{campaign_id}/test": {
            "post": {
                "summary": "Send the message, as the first recipient would get it, to these addresses now",
                "description": "Transactional lane, the campaign's category (so the (광고) markings "
                "show), reference `campaign-test:{id}`.",
                "security": _CAMPAIGN_SECURITY,
                "parameters": _CAMPAIGN_ID,
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/SendTestIn"}}},
                },
                "responses": {
                    "202": _json("CampaignTestSend", "The test messages"),
                    **_problems(400, 401, 403, 404, 409, 415, 422),
                },
            }
        },
        "/v1/campaigns/{campaign_id}/start": {
            "post": {
                "summary": "Start a draft now, or at `at` (with a UTC offset)",
                "security": _CAMPAIGN_SECURITY,
                "parameters": _CAMPAIGN_ID,
                "requestBody": {
                    "required": False,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/StartIn"}}},
                },
                "responses": {
                    "200": _json("Campaign", "Running or scheduled"),
                    **_problems(400, 401, 403, 404, 409, 415, 422),
                },
            }
        },
        "/v1/campaigns/{campaign_id}/cancel": {
            "post": {
                "summary": "Cancel: messages not yet handed to a worker are cancelled; sent ones stay sent",
                "security": _CAMPAIGN_SECURITY,
                "parameters": _CAMPAIGN_ID,
                "responses": {"200": _json("Campaign", "Cancelled"), **_problems(401, 403, 404, 409)},
            }
        },
    }
)


REQUEST_MODELS.update(openapi_appointments.MODELS)
RESPONSE_SCHEMAS.update(openapi_appointments.SCHEMAS)
PATHS.update(openapi_appointments.paths(_json, _problems))


def document() -> dict[str, Any]:
    """Build the whole OpenAPI document."""
    schemas: dict[str, Any] = dict(RESPONSE_SCHEMAS)
    for name, model in REQUEST_MODELS.items():
        schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
        schemas.update(schema.pop("$defs", {}))
        schemas[name] = schema
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "notifier",
            "version": "1",
            "description": "Appointment reminders and programme announcements for Korean employment centres.",
        },
        "paths": PATHS,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "apiKey": {
                    "type": "http",
                    "scheme": "bearer",
                    "description": "API key from `notifier keys create`",
                }
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    return document()
