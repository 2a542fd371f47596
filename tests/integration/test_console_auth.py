"""Signing in to the console: accounts from the CLI, one-time reset links, hashed passwords,
cookie flags, lock-out per account and per address, idle timeout, sign-out, CSRF on every form,
the language, and the append-only audit log."""

from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from notifier.cli import main
from notifier.staff import lockout, passwords, signin
from notifier.staff.tables import audit_log, staff_accounts, staff_login_failures, staff_sessions
from tests.console import PASSWORD, form_token, make_staff, post_form, problems_of, sign_in

NOW = datetime(2026, 12, 4, 1, 0, tzinfo=UTC)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(ctx) -> Clock:
    ctx.clock = Clock(NOW)
    return ctx.clock


def rows(ctx, table):
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(table)).mappings())


def test_the_cli_creates_an_account_whose_one_time_link_sets_the_password(ctx, client, env) -> None:
    created = CliRunner().invoke(
        main,
        [
            "staff",
            "create",
            "Park@Seosan.example.kr",
            "--name",
            "박매니저",
            "--center",
            "seosan",
            "--role",
            "manager",
        ],
        env=env,
    )
    assert created.exit_code == 0, created.output
    link = created.output.strip().splitlines()[-1]
    assert link.startswith(env["NOTIFIER_PUBLIC_URL"] + "/console/reset/")
    path = link.removeprefix(env["NOTIFIER_PUBLIC_URL"])
    assert sign_in(client, "park@seosan.example.kr", PASSWORD).status_code == 401  # no password yet

    page = client.get(path)
    assert page.status_code == 200 and "비밀번호 설정" in page.get_data(as_text=True)
    token = form_token(client, path)
    assert client.post(path, data={"password": PASSWORD, "csrf_token": token}).status_code == 303
    stored = rows(ctx, staff_accounts)[0]
    assert stored["password_hash"].startswith("$argon2id$") and PASSWORD not in stored["password_hash"]
    assert stored["email"] == "park@seosan.example.kr" and stored["role"] == "manager"

    again = client.post(path, data={"password": "another password 1", "csrf_token": token})
    assert again.status_code == 404 and "이미 사용되었습니다" in again.get_data(as_text=True)
    assert sign_in(client, "park@seosan.example.kr", "another password 1").status_code == 401
    assert sign_in(client, "park@seosan.example.kr").status_code == 303


def test_the_cli_refuses_an_unknown_centre_and_a_ministry_link_for_nobody(ctx, env) -> None:
    unknown = CliRunner().invoke(
        main, ["staff", "create", "a@b.kr", "--name", "가", "--center", "atlantis"], env=env
    )
    assert unknown.exit_code != 0 and "등록되지 않은 센터" in unknown.output
    nobody = CliRunner().invoke(main, ["staff", "reset-link", "nobody@b.kr"], env=env)
    assert nobody.exit_code != 0 and "계정이 없습니다" in nobody.output
    assert rows(ctx, staff_accounts) == []


def test_a_short_password_is_refused_in_korean_and_the_link_still_works(ctx, client) -> None:
    from notifier.staff import signin

    signin.create_account(ctx, "choi@seosan.example.kr", "최", "staff", ["seosan"])
    path = signin.issue_reset_link(ctx, "choi@seosan.example.kr").split("://", 1)[1].split("/", 1)[1]
    refused = client.post(
        f"/{path}", data={"password": "short", "csrf_token": form_token(client, f"/{path}")}
    )
    assert refused.status_code == 422
    assert "비밀번호는 10자 이상이어야 합니다" in refused.get_data(as_text=True)
    assert rows(ctx, staff_accounts)[0]["password_hash"] is None
    assert client.get(f"/{path}").status_code == 200


def reset_path(ctx, email: str) -> str:
    """The console path of a fresh reset link for ``email``."""
    return "/console/reset/" + signin.issue_reset_link(ctx, email).rsplit("/", 1)[1]


@pytest.mark.parametrize("password", ["short", "x" * 201, " padded password ", "a good new password"])
def test_a_bad_link_answers_the_bad_link_page_whatever_the_password(ctx, client, clock, password) -> None:
    signin.create_account(ctx, "choi@seosan.example.kr", "최", "staff", ["seosan"])
    used = reset_path(ctx, "choi@seosan.example.kr")
    assert post_form(client, used, {"password": PASSWORD}, used).status_code == 303
    expired = reset_path(ctx, "choi@seosan.example.kr")
    clock.now += signin.RESET_LINK_VALID
    weakness = passwords.weakness(password)
    for path in ("/console/reset/not-a-reset-link", used, expired):
        answer = post_form(client, path, {"password": password}, "/console/login")
        html = answer.get_data(as_text=True)
        assert answer.status_code == 404, (path, html)
        assert signin.BAD_RESET_LINK.ko in html and problems_of(html) == []
        assert weakness is None or weakness.ko not in html
    assert sign_in(client, "choi@seosan.example.kr").status_code == 303


def test_a_weak_password_on_a_good_link_is_refused_and_leaves_the_link_for_a_good_one(ctx, client) -> None:
    signin.create_account(ctx, "choi@seosan.example.kr", "최", "staff", ["seosan"])
    path = reset_path(ctx, "choi@seosan.example.kr")
    weak = post_form(client, path, {"password": "short"}, path)
    assert weak.status_code == 422
    assert problems_of(weak.get_data(as_text=True)) == [("새 비밀번호", "비밀번호는 10자 이상이어야 합니다.")]
    assert post_form(client, path, {"password": PASSWORD}, path).status_code == 303
    again = post_form(client, path, {"password": "short"}, "/console/login")
    assert again.status_code == 404 and signin.BAD_RESET_LINK.ko in again.get_data(as_text=True)
    assert sign_in(client, "choi@seosan.example.kr").status_code == 303


def test_a_link_used_by_many_at_once_sets_one_password(ctx) -> None:
    signin.create_account(ctx, "choi@seosan.example.kr", "최", "staff", ["seosan"])
    token = signin.issue_reset_link(ctx, "choi@seosan.example.kr").rsplit("/", 1)[1]
    tries = 8
    start = threading.Barrier(tries)

    def use(n: int) -> str:
        """What became of this try: set, weak (refused for its password) or used (a bad link)."""
        start.wait(timeout=30)
        try:
            signin.set_password(ctx, token, "short" if n % 2 else f"new password {n}", "127.0.0.1")
        except signin.ResetRefused as refused:
            return "used" if refused.words == signin.BAD_RESET_LINK else "weak"
        return "set"

    with ThreadPoolExecutor(max_workers=tries) as pool:
        outcomes = list(pool.map(use, range(tries)))
    assert outcomes.count("set") == 1
    assert all(outcome in ("weak", "used") for n, outcome in enumerate(outcomes) if n % 2)
    with pytest.raises(signin.ResetRefused) as after:
        signin.set_password(ctx, token, "short", "127.0.0.1")
    assert after.value.words == signin.BAD_RESET_LINK


def test_the_session_cookie_is_httponly_lax_and_scoped_to_the_console(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    answer = sign_in(client, "kim@seosan.example.kr")
    cookie = next(v for v in answer.headers.getlist("Set-Cookie") if v.startswith("notifier_console="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/console" in cookie
    assert "Secure" not in cookie  # NOTIFIER_PUBLIC_URL is http:// in the tests
    token = cookie.split(";")[0].split("=", 1)[1]
    stored = rows(ctx, staff_sessions)[0]["token_hash"]
    assert token not in stored and len(stored) == 64


def test_the_cookies_are_secure_when_the_public_url_is_https(ctx, settings) -> None:
    from notifier import create_app

    ctx.settings = settings.with_overrides(secure_cookies=True)
    app = create_app(ctx=ctx)
    try:
        client = app.test_client()
        make_staff(ctx, "kim@seosan.example.kr")
        answer = sign_in(client, "kim@seosan.example.kr")
        cookies = answer.headers.getlist("Set-Cookie")
        assert cookies and all("Secure" in c for c in cookies)
    finally:
        app.extensions["publisher"].close()


@pytest.mark.parametrize(("proxies", "recorded"), [(0, "127.0.0.1"), (1, "203.0.113.9")])
def test_the_address_recorded_is_the_one_a_trusted_proxy_saw_and_never_the_clients_own_word(
    ctx, settings, proxies: int, recorded: str
) -> None:
    from notifier import create_app

    ctx.settings = settings.with_overrides(trusted_proxies=proxies)
    app = create_app(ctx=ctx)
    try:
        client = app.test_client()
        client.environ_base["HTTP_X_FORWARDED_FOR"] = "203.0.113.9"
        make_staff(ctx, "kim@seosan.example.kr")
        assert sign_in(client, "kim@seosan.example.kr", "not my password").status_code == 401
        assert sign_in(client, "kim@seosan.example.kr").status_code == 303
    finally:
        app.extensions["publisher"].close()
    assert [row["address"] for row in rows(ctx, staff_login_failures)] == []  # cleared by the success
    signed_in = [row for row in rows(ctx, audit_log) if row["action"] == "signed_in"]
    assert [row["address"] for row in signed_in] == [recorded]


def test_wrong_passwords_lock_the_account_even_for_the_right_one(ctx, client, clock) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    for _ in range(lockout.ACCOUNT_LIMIT):
        refused = sign_in(client, "kim@seosan.example.kr", "not my password")
        assert refused.status_code == 401
        assert "이메일 또는 비밀번호가 맞지 않습니다" in refused.get_data(as_text=True)
    locked = sign_in(client, "kim@seosan.example.kr")
    assert locked.status_code == 429
    assert "로그인 시도가 너무 많아 잠시 잠겼습니다" in locked.get_data(as_text=True)
    assert "notifier_console=" not in " ".join(locked.headers.getlist("Set-Cookie"))
    clock.now += lockout.WINDOW + timedelta(seconds=1)
    assert sign_in(client, "kim@seosan.example.kr").status_code == 303


def test_many_failures_from_one_address_lock_every_account_from_it(ctx, client, clock) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    for n in range(lockout.ADDRESS_LIMIT):
        assert sign_in(client, f"guess{n}@seosan.example.kr", "password guess").status_code == 401
    assert sign_in(client, "kim@seosan.example.kr").status_code == 429
    assert len(rows(ctx, staff_login_failures)) == lockout.ADDRESS_LIMIT  # a refused attempt is not counted


def test_a_burst_of_guesses_sent_together_tries_no_more_passwords_than_the_limit(ctx, clock) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    guesses = 4 * lockout.ACCOUNT_LIMIT
    start = threading.Barrier(guesses)

    def guess(n: int) -> bool:
        """Whether this guess's password was checked (refused as wrong, not as locked)."""
        start.wait(timeout=30)
        try:
            signin.sign_in(ctx, "kim@seosan.example.kr", f"guess {n}", "203.0.113.7")
        except signin.SignInRefused as refused:
            return not refused.locked
        raise AssertionError("a guess signed in")

    with ThreadPoolExecutor(max_workers=guesses) as pool:
        checked = list(pool.map(guess, range(guesses)))
    assert sum(checked) == lockout.ACCOUNT_LIMIT
    assert len(rows(ctx, staff_login_failures)) == lockout.ACCOUNT_LIMIT
    with pytest.raises(signin.SignInRefused) as right_one:
        signin.sign_in(ctx, "kim@seosan.example.kr", PASSWORD, "203.0.113.8")
    assert right_one.value.locked


def test_a_session_ends_after_the_idle_timeout(ctx, client, clock) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    clock.now += timedelta(minutes=29)
    assert client.get("/console/").status_code == 200
    clock.now += timedelta(minutes=29)  # used 29 minutes ago: still alive
    assert client.get("/console/").status_code == 200
    clock.now += ctx.settings.console_idle_timeout + timedelta(seconds=1)
    gone = client.get("/console/")
    assert gone.status_code == 303 and gone.headers["Location"].endswith("/console/login?expired=1")
    assert "다시 로그인하세요" in client.get(gone.headers["Location"]).get_data(as_text=True)
    assert rows(ctx, staff_sessions) == []


def test_signing_out_ends_the_session_for_good(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    answer = sign_in(client, "kim@seosan.example.kr")
    token = re.search(r"notifier_console=([^;]+)", answer.headers["Set-Cookie"]).group(1)
    out = client.post("/console/logout", data={"csrf_token": form_token(client, "/console/")})
    assert out.status_code == 303
    other = client.application.test_client()  # the old cookie, presented by someone who copied it
    other.set_cookie("notifier_console", token, path="/console")
    assert other.get("/console/").status_code == 303
    assert rows(ctx, staff_sessions) == []


def test_every_page_needs_a_signed_in_account(client) -> None:
    for path in ("/console/", "/console/audit"):
        answer = client.get(path)
        assert answer.status_code == 303 and "/console/login" in answer.headers["Location"]


def test_a_form_without_its_csrf_token_is_refused_and_changes_nothing(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    forged = client.post("/console/login", data={"email": "kim@seosan.example.kr", "password": PASSWORD})
    assert forged.status_code == 400
    assert "양식이 만료되었거나" in forged.get_data(as_text=True)
    assert "아무것도 변경되지 않았습니다" in forged.get_data(as_text=True)
    assert rows(ctx, staff_sessions) == []


def test_a_blank_sign_in_form_names_each_missing_field(client) -> None:
    answer = client.post(
        "/console/login", data={"email": "", "password": "", "csrf_token": form_token(client)}
    )
    assert answer.status_code == 422
    html = answer.get_data(as_text=True)
    assert "이메일을 입력하세요" in html and "비밀번호를 입력하세요" in html


def test_english_through_the_browser_or_the_switch(client) -> None:
    assert "Sign in" in client.get("/console/login", headers={"Accept-Language": "en-GB,en"}).get_data(
        as_text=True
    )
    token = form_token(client)
    switched = client.post(
        "/console/language", data={"lang": "en", "next": "/console/login", "csrf_token": token}
    )
    assert switched.status_code == 303 and switched.headers["Location"] == "/console/login"
    assert '<html lang="en">' in client.get("/console/login").get_data(as_text=True)
    elsewhere = client.post(
        "/console/language", data={"lang": "ko", "next": "https://evil.example/", "csrf_token": token}
    )
    assert elsewhere.headers["Location"] == "/console/"


def test_managers_read_their_centres_audit_log_staff_do_not(ctx, client) -> None:
    make_staff(ctx, "staff@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    make_staff(ctx, "boss@gumi.example.kr", role="manager", centers=["gumi"])
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "staff@seosan.example.kr")
    assert client.get("/console/audit").status_code == 404
    assert "감사 기록" not in client.get("/console/").get_data(as_text=True)

    sign_in(client, "boss@seosan.example.kr")
    seosan = client.get("/console/audit").get_data(as_text=True)
    assert (
        "직원 계정 생성" in seosan and "staff_created" not in seosan and "staff@seosan.example.kr" in seosan
    )
    assert "boss@gumi.example.kr" not in seosan

    sign_in(client, "moel@moel.example.kr")
    every = client.get("/console/audit").get_data(as_text=True)
    assert "boss@gumi.example.kr" in every and "<td>로그인</td>" in every and "signed_in" not in every


def test_nobody_can_edit_the_audit_log(ctx, app) -> None:
    """The audit log has no update or delete path: no route writes to it, and the only module
    that touches its table offers ``record`` and ``read``."""
    import inspect
    from pathlib import Path

    import notifier
    from notifier.staff import audit

    audit_routes = [r for r in app.url_map.iter_rules() if "audit" in r.rule]
    assert audit_routes and all(r.methods <= {"GET", "HEAD", "OPTIONS"} for r in audit_routes)
    public = {n for n, f in inspect.getmembers(audit, inspect.isfunction) if f.__module__ == audit.__name__}
    assert public == {"record", "read", "entries_for"}  # entries_for: a reader too
    root = Path(notifier.__file__).parent
    touching = {
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "migrations" not in p.parts and re.search(r"\baudit_log\b", p.read_text(encoding="utf-8"))
    }
    assert touching <= {"staff/audit.py", "staff/tables.py", "console/session.py", "console/audit_page.py"}
    source = (root / "staff" / "audit.py").read_text(encoding="utf-8")
    assert ".update(" not in source and ".delete(" not in source and "delete(" not in source
    assert rows(ctx, audit_log) == []


def test_the_scheduler_forgets_old_failures_idle_sessions_and_used_links(ctx, client, clock) -> None:
    from notifier.messages import scheduler
    from notifier.staff.tables import staff_reset_tokens

    make_staff(ctx, "kim@seosan.example.kr")  # its reset link is used
    sign_in(client, "kim@seosan.example.kr", "wrong password!")
    sign_in(client, "kim@seosan.example.kr")
    scheduler.tick(ctx)
    assert len(rows(ctx, staff_login_failures)) == 0  # cleared by the successful sign-in
    assert rows(ctx, staff_reset_tokens) == []
    sign_in(client, "nobody@seosan.example.kr", "guess password")
    assert len(rows(ctx, staff_sessions)) == 1 and len(rows(ctx, staff_login_failures)) == 1
    clock.now += timedelta(hours=1)
    ctx.memo.pop("staff_housekeeping", None)  # the hook runs at most every ten minutes
    scheduler.tick(ctx)
    assert rows(ctx, staff_sessions) == [] and rows(ctx, staff_login_failures) == []
