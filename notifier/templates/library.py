"""The template library's use cases: list, read, save a checked new version, preview.

A saved version is immutable; an edit adds a version and makes it current, so messages already
accepted keep the content and the template key+version they were rendered with. A candidate is
checked before anything is stored (``check_candidate``): the pure checks in
``notifier.templates.checks``, then a render of every locale and channel with the
template's own sample data. A refused save stores nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from notifier.channels.pricing import sms_prices
from notifier.context import Context
from notifier.domain.sms import SMS_MAX_BYTES
from notifier.domain.templates import SMS_SHORT_PART, TemplateSpec, TemplateVersion
from notifier.errors import (
    Conflict,
    FieldError,
    Forbidden,
    MissingTemplateValues,
    NotFound,
    TemplateRejected,
    ValidationFailed,
)
from notifier.templates import repository as repo
from notifier.templates.checks import (
    check_alimtalk,
    check_key,
    check_part,
    check_sources,
    check_spec,
    pointer,
)
from notifier.templates.display_filters import LOCALE_KEY
from notifier.templates.rendering import Advertising, Renderer, line_prefix, prepare_context
from notifier.templates.views import (
    Preview,
    TemplateList,
    TemplateVersionEntry,
    TemplateVersions,
    summary_model,
    version_view,
)

T = TypeVar("T")

# Previews show where the opt-out line goes, but a preview is never sent, so it carries a
# placeholder. Real advertising campaigns use the centre's own free (080) opt-out number: the
# law requires a free line, so the centre's ordinary phone number would not do.
PREVIEW_OPT_OUT_LINE = "무료수신거부 080-000-0000 (예시)"
PREVIEW_OPT_OUT_PATH = "/u/preview"


# ---- reading ---------------------------------------------------------------------------


def list_templates(ctx: Context) -> dict[str, Any]:
    """Every template at its current version."""
    with ctx.engine.connect() as conn:
        current = repo.listing(conn)
    return TemplateList(items=[summary_model(v) for v in current]).dump()


def find(ctx: Context, key: str, version: int | None = None) -> TemplateVersion | None:
    """A stored version (the current one when None), through the process's lookups.

    Stored versions never change, so they are kept; which one is current is kept for the lookup
    TTL, and forgotten at once when this process saves a new version.
    """

    def read(query: Callable[[Connection], T]) -> T:
        with ctx.engine.connect() as conn:
            return query(conn)

    if version is None:
        version = ctx.lookups.recent(("template", key), lambda: read(lambda c: repo.current_number(c, key)))
        if version is None:
            return None
    number = version
    return ctx.lookups.forever(("template", key, number), lambda: read(lambda c: repo.get(c, key, number)))


def get_template(ctx: Context, key: str, version: int | None = None) -> dict[str, Any]:
    """One version of ``key`` (the current one when ``version`` is None); 404 if unknown."""
    with ctx.engine.connect() as conn:
        found = repo.get(conn, key, version)
        history = repo.versions(conn, key) if found else []
    if found is None:
        raise _not_found(key, version)
    row = next(h for h in history if h["version"] == found.version)
    return version_view(found, row["created_at"], row["created_by"], row["saved_by"])


def template_versions(ctx: Context, key: str) -> dict[str, Any]:
    """Every version of ``key``, oldest first, and which one is current."""
    with ctx.engine.connect() as conn:
        current = repo.get(conn, key)
        history = repo.versions(conn, key)
    if current is None:
        raise _not_found(key, None)
    return TemplateVersions(
        key=key,
        current_version=current.version,
        items=[
            TemplateVersionEntry(
                version=h["version"],
                created_at=h["created_at"],
                created_by=h["created_by"],
                saved_by=h["saved_by"],
            )
            for h in history
        ],
    ).dump()


def _not_found(key: str, version: int | None) -> NotFound:
    if version is None:
        return NotFound(f"no template named {key!r}")
    return NotFound(f"template {key!r} has no version {version}")


# ---- saving ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Author:
    """Who saves a version: the key's owner and name, and whether it holds the ``admin`` scope."""

    owner: str
    key_name: str
    admin: bool = False


def save_template(
    ctx: Context, key: str, spec: TemplateSpec, sources: Mapping[str, Mapping[str, str]], author: Author
) -> tuple[bool, dict[str, Any]]:
    """Check a candidate and store it as the next version of ``key``; True when ``key`` is new.

    The shipped templates are shared by every client: only an ``admin`` key may change one.
    """
    key_errors = check_key(key)
    if key_errors:
        raise ValidationFailed(key_errors)
    if not author.admin:  # before the checks: a refused edit of a shipped template says why first
        with ctx.engine.connect() as conn:
            shipped = repo.is_shipped(conn, key)
        if shipped:
            raise Forbidden(f"{key!r} is shipped and shared by every client; changing it needs 'admin'")
    plain = {locale: dict(parts) for locale, parts in sources.items()}
    errors = check_candidate(ctx, TemplateVersion(key=key, version=0, spec=spec, sources=plain))
    if errors:
        raise TemplateRejected(errors)
    now = ctx.clock()
    try:
        with ctx.engine.begin() as conn:
            created = not repo.versions(conn, key)
            stored = repo.add_version(conn, key, spec, plain, author.owner, now, author.key_name)
    except IntegrityError as exc:  # a concurrent save took the same version number
        raise Conflict(f"template {key!r} was changed at the same time; send the edit again") from exc
    ctx.lookups.forget(lambda cached: cached == ("template", key))
    return created, version_view(stored, now, author.owner, author.key_name)


def check_candidate(ctx: Context, candidate: TemplateVersion) -> list[FieldError]:
    """Every reason ``candidate`` may not be saved; empty when it may."""
    errors = check_spec(candidate.spec) + check_sources(candidate.spec, candidate.sources)
    errors += check_alimtalk(candidate.spec, candidate.sources)
    if errors:
        return errors
    # A fresh renderer: the shared one caches compiled sources by key@version forever, and a
    # candidate must neither be cached under a number nor linger after it is refused.
    layout_dir = ctx.templates_dir / "_layout"
    renderer = Renderer(layout_dir)
    layouts = {
        f"_layout/{path.relative_to(layout_dir).as_posix()}"
        for path in layout_dir.rglob("*")
        if path.is_file()
    }
    for locale, parts in candidate.sources.items():
        for part, source in parts.items():
            errors += check_part(renderer.env, candidate.spec, locale, part, source, layouts)
    return errors or sample_render_problems(renderer, candidate)


def sample_render_problems(renderer: Renderer, candidate: TemplateVersion) -> list[FieldError]:
    """Render every part, then every channel, of every locale with the sample data."""
    errors: list[FieldError] = []
    for locale, parts in candidate.sources.items():
        field = "sample_en" if locale == "en" and candidate.spec.sample_en is not None else "sample"
        sample = candidate.spec.sample_for(locale)
        try:  # copies: prepare_context fills optional values into the nested dicts it is given
            context = prepare_context(candidate.spec, copy.deepcopy(sample))
        except ValidationFailed as exc:
            errors += [FieldError(f"/{field}{e.pointer.removeprefix('/data')}", e.detail) for e in exc.errors]
            continue
        part_errors = [
            error
            for part in parts
            for error in _part_render_problems(renderer, candidate, locale, part, context, field)
        ]
        if part_errors:  # the whole-channel render would only repeat them
            errors += part_errors
            continue
        if SMS_SHORT_PART in parts and not renderer.short_sms(
            candidate, locale, {**context, LOCALE_KEY: locale}
        ):
            detail = f"with the {field} data it does not fit one SMS ({SMS_MAX_BYTES} bytes in cp949)"
            errors.append(FieldError(pointer("sources", locale, SMS_SHORT_PART), detail))
        kakao = ("kakao",) if candidate.has_channel("kakao", locale) else ()
        for channel in (*candidate.spec.channels, *kakao):
            try:
                renderer.render(candidate, channel, locale, copy.deepcopy(sample))
            except ValidationFailed as exc:  # e.g. the SMS is too long to send
                part = {"sms": "sms.txt", "kakao": "alimtalk.txt"}.get(channel, "email.txt")
                where = pointer("sources", locale, part)
                errors += [FieldError(where, f"with the {field} data: {e.detail}") for e in exc.errors]
    return errors


def _part_render_problems(
    renderer: Renderer,
    candidate: TemplateVersion,
    locale: str,
    part: str,
    context: Mapping[str, Any],
    field: str,
) -> list[FieldError]:
    where = pointer("sources", locale, part)
    try:
        renderer.render_part(candidate, locale, part, context)
    except MissingTemplateValues as exc:
        return [FieldError(where, f"{_at(exc)}{n!r} is undefined with the {field} data") for n in exc.names]
    except TemplateRejected as exc:
        return [
            FieldError(where, e.detail if e.detail.startswith("line ") else f"{_at(exc)}{e.detail}")
            for e in exc.errors
        ]
    return []


def _at(exc: BaseException) -> str:
    return line_prefix(exc)


# ---- previewing ------------------------------------------------------------------------


def preview(
    ctx: Context,
    key: str,
    *,
    channel: str,
    locale: str = "ko",
    data: Mapping[str, Any] | None = None,
    advertising: bool = False,
    version: int | None = None,
) -> dict[str, Any]:
    """Render a stored version exactly as a message would be, without sending anything.

    Without ``data`` the template's sample data for the locale is used. With ``advertising``
    the legal markings are applied, with ``PREVIEW_OPT_OUT_LINE`` as a placeholder.
    """
    with ctx.engine.connect() as conn:
        found = repo.get(conn, key, version)
    if found is None:
        raise _not_found(key, version)
    # A copy: prepare_context fills optional values into the nested dicts it is given.
    data = copy.deepcopy(dict(found.spec.sample_for(found.locale_for(locale)) if data is None else data))
    marking = None
    if advertising:
        center = data.get("center")
        if not isinstance(center, Mapping) or not str(center.get("name") or "").strip():
            raise ValidationFailed(
                [FieldError("/data/center/name", "an advertising message must name its sender, the centre")]
            )
        marking = Advertising(
            opt_out_line=PREVIEW_OPT_OUT_LINE,
            opt_out_url=f"{ctx.settings.public_url}{PREVIEW_OPT_OUT_PATH}",
        )
    rendered = ctx.renderer.render(found, channel, locale, data, marking)
    view: dict[str, Any] = {
        "key": found.key,
        "version": found.version,
        "channel": channel,
        "locale": rendered.locale,
        "advertising": advertising,
    }
    if rendered.alimtalk is not None:  # its values, buttons and SMS/LMS fallback (the sizes are its)
        view["alimtalk"] = rendered.alimtalk.as_dict()
    if rendered.sms is not None:
        kind = rendered.sms.kr_class.value if rendered.sms.kr_class else None
        view["cost"] = [asdict(price) for price in sms_prices(ctx, kind)]
        return Preview.model_validate({**view, "body": rendered.body, **rendered.sms.as_dict()}).dump()
    return Preview.model_validate(
        {**view, "subject": rendered.subject, "html": rendered.html, "text": rendered.body}
    ).dump()
