"""The base of the response models, and the field types they share.

Each feature builds its JSON answers from a pydantic model next to the function that builds
them; the API documents the same models at /openapi.json, so the document cannot drift from
the answers. A field left unset is left out of the body; a field set to None is a JSON null.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainSerializer, WithJsonSchema


def iso_utc(value: datetime) -> str:
    """ISO 8601 with ``Z`` for UTC, the way every timestamp of the API is written."""
    return value.isoformat().replace("+00:00", "Z")


Timestamp = Annotated[
    datetime,
    PlainSerializer(iso_utc, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]


class ResponseModel(BaseModel):
    """A JSON answer of the API (or a part of one)."""

    model_config = ConfigDict(extra="forbid")

    def dump(self) -> dict[str, Any]:
        """The JSON body: fields never set are left out, fields set to None are null."""
        return self.model_dump(mode="json", exclude_unset=True)
