"""OpenAPI entries for appointments, webhooks and the person's page."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pydantic import BaseModel

from notifier.schemas import AppointmentIn, WebhookIn

MODELS: dict[str, type[BaseModel]] = {"AppointmentIn": AppointmentIn, "WebhookIn": WebhookIn}
_TS = {"type": "string", "format": "date-time"}

SCHEMAS: dict[str, Any] = {
    "Appointment": {
        "type": "object",
        "required": [
            "id",
            "external_id",
            "status",
            "revision",
            "starts_at",
            "ends_at",
            "page_url",
            "reminders",
        ],
        "properties": {
            "id": {"type": "string"},
            "external_id": {"type": "string"},
            "status": {"enum": ["booked", "cancelled"]},
            "version": {"type": ["integer", "null"], "description": "the booking system's version"},
            "revision": {"type": "integer", "description": "ours: +1 on every accepted change"},
            "recipient": {"type": "object"},
            "center": {"type": "string"},
            "kind": {"type": "string"},
            "starts_at": _TS,
            "ends_at": _TS,
            "duration_minutes": {"type": "integer"},
            "counselor": {"type": "string"},
            "location": {"type": "string"},
            "channels": {"type": "array", "items": {"enum": ["sms", "email"]}},
            "attendance": {"enum": [None, "confirmed", "change_requested"]},
            "page_url": {"type": "string", "description": "the person's page: confirm or ask for a change"},
            "reminders": {
                "type": "array",
                "description": "the reminder plan, including reminders moved for quiet hours or dropped",
                "items": {
                    "type": "object",
                    "required": ["offset_seconds", "outcome", "send_at"],
                    "properties": {
                        "offset_seconds": {"type": "integer"},
                        "outcome": {
                            "enum": [
                                "scheduled",
                                "moved_for_quiet_hours",
                                "dropped_past",
                                "dropped_quiet_hours",
                                "dropped_too_close",
                            ],
                        },
                        "send_at": {"type": ["string", "null"]},
                        "note": {"type": "string"},
                    },
                },
            },
            "messages": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["id", "purpose", "channel", "status", "send_at"],
                    "properties": {
                        "id": {"type": "string"},
                        "purpose": {"enum": ["confirmation", "reminder", "change", "cancellation"]},
                        "channel": {"enum": ["sms", "email"]},
                        "status": {"type": "string"},
                        "send_at": _TS,
                    },
                },
            },
            "created_at": _TS,
            "updated_at": _TS,
        },
    },
    "AppointmentList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": {"$ref": "#/components/schemas/Appointment"}}},
    },
    "Webhook": {
        "type": "object",
        "required": ["url", "events"],
        "properties": {
            "url": {"type": "string"},
            "events": {"type": "array", "items": {"type": "string"}},
            "secret": {"type": "string", "description": "only when the webhook is created; signs every call"},
            "deliveries": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "id": {"type": "string"},
                        "event": {"type": "string"},
                        "status": {"enum": ["pending", "delivering", "delivered", "failed"]},
                        "attempts": {"type": "integer"},
                        "last_status_code": {"type": ["integer", "null"]},
                        "last_error": {"type": ["string", "null"]},
                    },
                },
            },
        },
    },
}


def paths(
    json: Callable[[str, str], dict[str, Any]], problems: Callable[..., dict[str, Any]]
) -> dict[str, Any]:
    external_id = {
        "name": "external_id",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "maxLength": 200},
    }
    security = [{"apiKey": ["appointments"]}]
    body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/AppointmentIn"}}},
    }
    return {
        "/v1/appointments/{external_id}": {
            "put": {
                "summary": "Book or change an appointment",
                "description": "201 when created, 200 when changed. An identical replay changes nothing. "
                "A `version` older than or equal to the stored one is a 409 and changes nothing. "
                "A change cancels every pending message of the old time and schedules new ones.",
                "security": security,
                "parameters": [external_id],
                "requestBody": body,
                "responses": {
                    "201": json("Appointment", "Booked"),
                    "200": json("Appointment", "Changed, or replayed"),
                    **problems(400, 401, 403, 409, 413, 415, 422),
                },
            },
            "get": {
                "summary": "An appointment with its messages and reminder plan",
                "security": security,
                "parameters": [external_id],
                "responses": {"200": json("Appointment", "The appointment"), **problems(401, 403, 404)},
            },
            "delete": {
                "summary": "Cancel the appointment",
                "description": "Pending messages are cancelled and one cancellation notice goes out; "
                "repeating it answers the same and sends nothing.",
                "security": security,
                "parameters": [external_id],
                "responses": {"200": json("Appointment", "Cancelled"), **problems(401, 403, 404)},
            },
        },
        "/v1/appointments": {
            "get": {
                "summary": "Appointments by centre and time range",
                "security": security,
                "parameters": [
                    {"name": "center", "in": "query", "schema": {"type": "string"}},
                    {"name": "from", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                    {"name": "to", "in": "query", "schema": {"type": "string", "format": "date-time"}},
                    {
                        "name": "limit",
                        "in": "query",
                        "schema": {"type": "integer", "minimum": 1, "maximum": 500},
                    },
                ],
                "responses": {
                    "200": json("AppointmentList", "Matching appointments"),
                    **problems(401, 403, 422),
                },
            }
        },
        "/v1/webhooks": {
            "put": {
                "summary": "Register the webhook of this key's owner",
                "description": "Events are POSTed as JSON with `Notifier-Signature: t=<unix>,v1=<hex>`, "
                "the hex being HMAC-SHA256 with the secret over `t.body`. "
                "Retried with backoff on timeouts, 429 and 5xx.",
                "security": [{"apiKey": ["send", "appointments", "campaigns"]}],
                "requestBody": {
                    "required": True,
                    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/WebhookIn"}}},
                },
                "responses": {
                    "201": json("Webhook", "Created; the secret is shown now only"),
                    "200": json("Webhook", "Updated"),
                    **problems(400, 401, 403, 415, 422),
                },
            },
            "get": {
                "summary": "The webhook and its latest deliveries with their attempts",
                "security": [{"apiKey": []}],
                "responses": {"200": json("Webhook", "The webhook"), **problems(401, 404)},
            },
        },
        "/a/{token}": {
            "get": {
                "summary": "The person's appointment page (HTML, no login)",
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}}
                ],
                "responses": {"200": {"description": "HTML page"}, **problems(404, 410)},
            }
        },
        "/a/{token}/{answer}": {
            "post": {
                "summary": "Confirm attendance (`confirm`) or ask for a change (`change`)",
                "description": "A form on the person's page, protected against CSRF.",
                "parameters": [
                    {"name": "token", "in": "path", "required": True, "schema": {"type": "string"}},
                    {
                        "name": "answer",
                        "in": "path",
                        "required": True,
                        "schema": {"enum": ["confirm", "change"]},
                    },
                ],
                "responses": {"303": {"description": "Back to the page"}, **problems(400, 404, 409, 410)},
            }
        },
    }
