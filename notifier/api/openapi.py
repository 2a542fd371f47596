"""The OpenAPI 3.1 document at /openapi.json. Request schemas come from the pydantic models,
so the document cannot drift from what the API validates; a test checks every route is here
and that real responses match the response schemas."""

from __future__ import annotations

from typing import Any

from flask import Blueprint
from pydantic import BaseModel

from notifier.api.templates import PreviewIn, TemplateIn
from notifier.schemas import MessageIn

bp = Blueprint("openapi", __name__)

REQUEST_MODELS: dict[str, type[BaseModel]] = {
    "MessageIn": MessageIn,
    "TemplateIn": TemplateIn,
    "PreviewIn": PreviewIn,
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
                "enum": ["scheduled", "queued", "sending", "sent", "delivered", "failed",
                         "suppressed", "cancelled", "expired"],
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
                    "properties": {"status": {"type": "string"}, "at": TIMESTAMP, "detail": {"type": ["string", "null"]}},
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
                        "reminder_offsets": {"type": "array", "items": {"type": "integer"}, "description": "seconds before the start"},
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
        "required": ["key", "version", "description", "purpose", "channels", "values", "optional",
                     "sample", "sources", "created_at", "created_by"],
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
}


def _problems(*codes: int) -> dict[str, Any]:
    reasons = {
        400: "Malformed JSON", 401: "Missing or unknown API key", 403: "The key lacks the scope",
        404: "Unknown resource", 409: "Conflict", 413: "Body too large", 415: "Not JSON",
        422: "Invalid input; `errors` names each field by JSON pointer",
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
    return {"description": description, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}


PATHS: dict[str, Any] = {
    "/v1/messages": {
        "post": {
            "summary": "Send one message",
            "description": "Render a template and queue the message (or schedule it with `send_at`). "
            "With `Idempotency-Key`, a repeat returns the first answer and creates nothing.",
            "security": [{"apiKey": ["send"]}],
            "parameters": [{"name": "Idempotency-Key", "in": "header", "schema": {"type": "string", "maxLength": 200}}],
            "requestBody": {"required": True, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/MessageIn"}}}},
            "responses": {"202": _json("Message", "Accepted"), **_problems(400, 401, 403, 413, 415, 422)},
        },
        "get": {
            "summary": "List messages, newest first",
            "security": [{"apiKey": ["send"]}],
            "parameters": [
                {"name": "status", "in": "query", "schema": {"type": "string"}},
                {"name": "reference", "in": "query", "schema": {"type": "string"}},
                {"name": "limit", "in": "query", "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}},
                {"name": "cursor", "in": "query", "schema": {"type": "string"}},
            ],
            "responses": {"200": _json("MessageList", "One page"), **_problems(401, 403, 422)},
        },
    },
    "/v1/messages/{message_id}": {
        "get": {
            "summary": "A message with its status history",
            "security": [{"apiKey": ["send"]}],
            "parameters": [{"name": "message_id", "in": "path", "required": True, "schema": {"type": "string"}}],
            "responses": {"200": _json("Message", "The message"), **_problems(401, 403, 404)},
        }
    },
    "/webhooks/twilio/status": {
        "post": {
            "summary": "Twilio status callback (signed with X-Twilio-Signature)",
            "parameters": [
                {"name": "message_id", "in": "query", "schema": {"type": "string"}},
                {"name": "X-Twilio-Signature", "in": "header", "required": True, "schema": {"type": "string"}},
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
    "/healthz": {"get": {"summary": "Process alive", "responses": {"200": {"description": "ok"}}}},
    "/readyz": {
        "get": {
            "summary": "Database and broker reachable",
            "responses": {"200": {"description": "ready"}, **_problems(503)},
        }
    },
    "/outbox": {"get": {"summary": "Sandbox outbox (HTML, sandbox mode only)", "responses": {"200": {"description": "HTML page"}, **_problems(404)}}},
    "/openapi.json": {"get": {"summary": "This document", "responses": {"200": {"description": "OpenAPI 3.1"}}}},
}


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
            "securitySchemes": {"apiKey": {"type": "http", "scheme": "bearer", "description": "API key from `notifier keys create`"}},
        },
    }


@bp.get("/openapi.json")
def openapi_json() -> dict[str, Any]:
    return document()
