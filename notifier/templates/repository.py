"""Template versions. Versions are immutable: an edit adds a version and moves ``current``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, update

from notifier.domain.templates import TemplateSpec, TemplateVersion
from notifier.templates.tables import template_versions, templates

SHIPPED = "shipped"  # the author of a template's first version when it comes from templates/


def _version(row: Any) -> TemplateVersion:
    return TemplateVersion(
        key=row.key, version=row.version, spec=TemplateSpec.from_dict(row.spec), sources=row.sources
    )


def current_number(conn: Connection, key: str) -> int | None:
    """The number of ``key``'s current version; None for an unknown key."""
    found = conn.execute(select(templates.c.current_version).where(templates.c.key == key)).scalar()
    return int(found) if found is not None else None


def get(conn: Connection, key: str, version: int | None = None) -> TemplateVersion | None:
    """Return one version, or the current one when ``version`` is None."""
    if version is None:
        current = current_number(conn, key)
        if current is None:
            return None
        version = current
    row = conn.execute(
        select(template_versions).where(
            template_versions.c.key == key, template_versions.c.version == version
        )
    ).first()
    return _version(row) if row else None


def versions(conn: Connection, key: str) -> list[Any]:
    query = (
        select(
            template_versions.c.version,
            template_versions.c.created_at,
            template_versions.c.created_by,
            template_versions.c.saved_by,
        )
        .where(template_versions.c.key == key)
        .order_by(template_versions.c.version)
    )
    return list(conn.execute(query).mappings())


def listing(conn: Connection) -> list[TemplateVersion]:
    query = (
        select(template_versions)
        .join(
            templates,
            (templates.c.key == template_versions.c.key)
            & (templates.c.current_version == template_versions.c.version),
        )
        .order_by(templates.c.key)
    )
    return [_version(row) for row in conn.execute(query)]


def add_version(
    conn: Connection,
    key: str,
    spec: TemplateSpec,
    sources: dict[str, dict[str, str]],
    author: str,
    now: datetime,
    saved_by: str | None = None,
) -> TemplateVersion:
    """Store a new version of ``key`` and make it current."""
    latest = conn.execute(
        select(func.max(template_versions.c.version)).where(template_versions.c.key == key)
    ).scalar()
    number = (latest or 0) + 1
    if latest is None:
        conn.execute(
            templates.insert().values(key=key, current_version=number, created_at=now, updated_at=now)
        )
    conn.execute(
        template_versions.insert().values(
            key=key,
            version=number,
            spec=spec.as_dict(),
            sources=sources,
            created_at=now,
            created_by=author,
            saved_by=saved_by,
        )
    )
    if latest is not None:
        conn.execute(
            update(templates).where(templates.c.key == key).values(current_version=number, updated_at=now)
        )
    return TemplateVersion(key=key, version=number, spec=spec, sources=sources)


def is_shipped(conn: Connection, key: str) -> bool:
    """Whether ``key`` is one of the templates the service ships (its first version came from disk)."""
    query = select(template_versions.c.created_by).where(
        template_versions.c.key == key, template_versions.c.version == 1
    )
    return conn.execute(query).scalar() == SHIPPED


def sync_shipped(conn: Connection, shipped: Iterable[TemplateVersion], now: datetime) -> list[str]:
    """Store each shipped template as version 1 unless the key already exists."""
    existing = set(conn.execute(select(templates.c.key)).scalars())
    added = []
    for version in shipped:
        if version.key not in existing:
            sources = dict(version.sources)
            add_version(conn, version.key, version.spec, sources, SHIPPED, now)  # type: ignore[arg-type]
            added.append(version.key)
    return added
