"""GET/POST /u/{token}: the unsubscribe page and one-click unsubscribe (RFC 8058).

Threat: someone opting a person out who did not ask to, or a person unable to opt out.
The opaque token (``consent.opt_out_links.opt_out_url``) is the only credential: it stands for
one stored address and cannot be guessed (160 bits of an HMAC keyed by the secret key); links
sent before, which sign the address itself, cannot be forged or altered without that key. No
login and no cookie is asked for, because the person has neither and RFC 8058 mail clients
post without them. The page names the centre that sent the message, and its phone.

CSRF: deliberately exempt. A cross-site POST needs the unguessable token, and whoever has the
token may opt that address out anyway; the worst a forged request can do is what the link
itself does.

GET never opts out: link scanners and mail previews fetch links. It shows a small page whose
수신거부 (Unsubscribe) button POSTs back, or, when an opt-out covering the link is already in
force, says so and offers no button. Any POST opts out: a mail client's one-click POST (body
``List-Unsubscribe=One-Click``) gets a plain-text 200, the page's form an HTML page. A bad
token is a 404 page (``link_problem.html``: the link is not valid, call the centre) and
changes nothing.

Pages are in the language the owner writes to that address in (its stored recipient's locale,
else its latest message's: the language of the opt-out confirmation too); when that is not
known, or the link is bad, in the browser's (Accept-Language), Korean by default. Every answer
is kept private (``pages.register``).
"""

from __future__ import annotations

from flask import Blueprint, Response, request
from pydantic import BaseModel, Field

from notifier.api.context import context
from notifier.api.openapi import PUBLIC, Answers, doc, text
from notifier.api.pages import UNKNOWN, html_page, language, link_problem
from notifier.consent import opt_outs
from notifier.consent.opt_out_links import OptOutRequest, read_opt_out_token

bp = Blueprint("unsubscribe", __name__, url_prefix="/u")
ONE_CLICK = "One-Click"
PAGE = text("text/html")
PAGE_OR_PLAIN = {**text("text/html"), **text("text/plain")}


class UnsubscribeForm(BaseModel):
    """A mail client's one-click POST (RFC 8058), or the page's own form."""

    one_click: str | None = Field(
        default=None, alias="List-Unsubscribe", description="`One-Click` from a mail client"
    )
    confirm: str | None = Field(default=None, description="sent by the page's button")


@bp.get("/<token>")
@doc(
    resp=Answers(
        HTTP_200=(None, "HTML page"), HTTP_404=(None, "Unknown link (HTML)"), content={200: PAGE, 404: PAGE}
    ),
    security=PUBLIC,
)
def show(token: str) -> Response:
    """Unsubscribe page (HTML, in the person's language); changes nothing"""
    wanted = read_opt_out_token(context(), token)
    if wanted is None:
        return link_problem(404, UNKNOWN)
    in_force = opt_outs.opt_out_covering(context(), wanted.channel, wanted.address, wanted.scope)
    if in_force is not None:
        return _done(wanted, in_force.scope, already=True)
    lang = language(wanted.locale)
    scope_label = opt_outs.SCOPE_LABELS[lang][wanted.scope]
    return html_page(
        "unsubscribe.html", lang=lang, wanted=wanted, scope_label=scope_label, action=request.path
    )


def _done(wanted: OptOutRequest, scope: str, already: bool) -> Response:
    """The page saying the address is opted out of ``scope`` (just now, or ``already``)."""
    lang = language(wanted.locale)
    scope_label = opt_outs.SCOPE_LABELS[lang][scope]
    return html_page("unsubscribed.html", lang=lang, wanted=wanted, scope_label=scope_label, already=already)


@bp.post("/<token>")
@doc(
    form=UnsubscribeForm,
    resp=Answers(
        HTTP_200=(None, "Opted out"),
        HTTP_404=(None, "Unknown link"),
        content={200: PAGE_OR_PLAIN, 404: PAGE_OR_PLAIN},
    ),
    security=PUBLIC,
)
def unsubscribe(token: str) -> Response:
    """One-click unsubscribe (RFC 8058); no login, no cookie

    The link's token is the credential. `List-Unsubscribe=One-Click` gets a plain-text answer,
    the page's own form an HTML page.
    """
    one_click = request.form.get("List-Unsubscribe") == ONE_CLICK
    wanted = read_opt_out_token(context(), token)
    if wanted is None:
        if one_click:
            return Response("unknown unsubscribe link\n", status=404, mimetype="text/plain")
        return link_problem(404, UNKNOWN)
    new, opt_out = opt_outs.record_opt_out(
        context(),
        channel=wanted.channel,
        address=wanted.address,
        scope=wanted.scope,
        source="unsubscribe_link",
        owner=wanted.owner,
    )
    if one_click:
        return Response("unsubscribed\n", mimetype="text/plain")
    return _done(wanted, opt_out["scope"], already=not new)
