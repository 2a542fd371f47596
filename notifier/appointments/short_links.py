"""Short links to a person's page, ``/s/{code}``, so an SMS with its link fits 90 bytes more often.

Threat: the code is the credential of the page, like the signed token it stands for. It is
random (``CODE_BYTES`` bytes, 64 bits, from ``secrets``), one per appointment, and good only
while the page is: once the appointment has ended (``rules.page_closed``) the code leads to
the "link expired" page. An unknown code leads to the "unknown link" page, the same as a
forged token. The code is stored (it names nobody, so retention keeps it); the page's signed
token is not, it is made on each visit.
"""

from __future__ import annotations

import secrets

from sqlalchemy import Connection, select
from sqlalchemy.exc import IntegrityError

from notifier.appointments.tables import short_links
from notifier.context import Context

CODE_BYTES = 8  # 64 bits; the issue asks for at least 48
CODE_PATTERN = r"^[A-Za-z0-9_\-]{11}$"  # token_urlsafe(8): 11 characters


def short_url(ctx: Context, conn: Connection, appointment_id: str) -> str:
    """The short link of an appointment's page, made on first use (in ``conn``'s transaction)."""
    return f"{ctx.settings.public_url}/s/{code_for(ctx, conn, appointment_id)}"


def code_for(ctx: Context, conn: Connection, appointment_id: str) -> str:
    """The appointment's code: the one it has, or a new random one."""
    found = conn.execute(
        select(short_links.c.code).where(short_links.c.appointment_id == appointment_id)
    ).scalar_one_or_none()
    if found is not None:
        return str(found)
    code = secrets.token_urlsafe(CODE_BYTES)
    try:
        with conn.begin_nested():  # a concurrent first use of the same appointment wins instead
            conn.execute(
                short_links.insert().values(code=code, appointment_id=appointment_id, created_at=ctx.clock())
            )
    except IntegrityError:
        return str(
            conn.execute(
                select(short_links.c.code).where(short_links.c.appointment_id == appointment_id)
            ).scalar_one()
        )
    return code


def appointment_id_for(ctx: Context, code: str) -> str | None:
    """The appointment a code stands for, or None for a code never given out."""
    with ctx.engine.connect() as conn:
        found = conn.execute(
            select(short_links.c.appointment_id).where(short_links.c.code == code)
        ).scalar_one_or_none()
    return str(found) if found is not None else None
