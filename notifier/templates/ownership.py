"""Which centre a template belongs to, for the staff console's centre rule.

A template belongs to whoever saved its first version: the shipped ones (``repository.SHIPPED``)
are shared by every centre; one first saved from the console by a centre's staff is recorded
with the author ``center:CODE`` and belongs to that centre; one first saved through the API by
a key's owner belongs to no centre (only the ministry sees it in the console).
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from notifier.templates.repository import SHIPPED
from notifier.templates.tables import template_versions

CENTER_PREFIX = "center:"


def center_author(code: str) -> str:
    """The author recorded for a version saved from the console for centre ``code``."""
    return f"{CENTER_PREFIX}{code}"


def first_authors(conn: Connection) -> dict[str, str]:
    """key -> the author of its first version, for every template."""
    query = select(template_versions.c.key, template_versions.c.created_by).where(
        template_versions.c.version == 1
    )
    return {key: author for key, author in conn.execute(query)}


def is_shipped(author: str) -> bool:
    return author == SHIPPED


def center_of(author: str) -> str | None:
    """The centre code of a first author; None for the shipped ones and API owners."""
    return author.removeprefix(CENTER_PREFIX) if author.startswith(CENTER_PREFIX) else None
