"""Signing in and out, and choosing a password through a reset link (``notifier staff reset-link``)."""

from __future__ import annotations

from flask import Blueprint, Response, redirect, request, url_for

from notifier.api.context import context
from notifier.console.i18n import said, word
from notifier.console.pages import FormProblem, page
from notifier.console.session import (
    client_address,
    current_staff,
    forget_session,
    login_required,
    remember_session,
    session_token,
)
from notifier.staff import signin

bp = Blueprint("auth", __name__)
MAX_EMAIL = 320


def _bad_link() -> FormProblem:
    """The 404 page of a reset link that is wrong, expired or already used."""
    return FormProblem(404, said(signin.BAD_RESET_LINK.ko, signin.BAD_RESET_LINK.en))


@bp.get("/login")
def login() -> Response:
    notice = None
    if request.args.get("expired"):
        notice = word("session_over")
    elif request.args.get("signed_out"):
        notice = word("signed_out")
    elif request.args.get("password_set"):
        notice = word("password_set")
    return page("console/login.html", notice=notice, error=None, email="")


@bp.post("/login")
def login_submit() -> Response:
    email = request.form.get("email", "").strip()[:MAX_EMAIL]
    password = request.form.get("password", "")
    if not email or not password:
        details: list[tuple[str, str]] = []
        if not email:
            details.append((word("email"), said("이메일을 입력하세요.", "Enter your email.")))
        if not password:
            details.append((word("password"), said("비밀번호를 입력하세요.", "Enter your password.")))
        return page(
            "console/login.html",
            422,
            notice=None,
            error=said("입력한 내용을 확인해 주세요.", "Please check what you entered."),
            details=details,
            email=email,
        )
    try:
        _, token = signin.sign_in(context(), email, password, client_address())
    except signin.SignInRefused as refused:
        status = 429 if refused.locked else 401
        error = said(refused.words.ko, refused.words.en)
        return page("console/login.html", status, notice=None, error=error, details=[], email=email)
    response: Response = redirect(url_for("console.home.index"), code=303)  # type: ignore[assignment]
    remember_session(response, token)
    return response


@bp.post("/logout")
@login_required
def logout() -> Response:
    token = session_token()
    if token:
        signin.sign_out(context(), token, current_staff(), client_address())
    response: Response = redirect(url_for("console.auth.login", signed_out=1), code=303)  # type: ignore[assignment]
    forget_session(response)
    return response


@bp.get("/reset/<token>")
def reset(token: str) -> Response:
    if not signin.reset_link_valid(context(), token):
        raise _bad_link()
    return page("console/reset.html", token=token, error=None)


@bp.post("/reset/<token>")
def reset_submit(token: str) -> Response:
    password = request.form.get("password", "")
    try:
        signin.set_password(context(), token, password, client_address())
    except signin.ResetRefused as refused:
        if refused.words == signin.BAD_RESET_LINK:
            raise _bad_link() from refused
        problem = said(refused.words.ko, refused.words.en)
        raise FormProblem(422, problem, [(word("new_password"), problem)]) from refused
    return redirect(url_for("console.auth.login", password_set=1), code=303)  # type: ignore[return-value]
