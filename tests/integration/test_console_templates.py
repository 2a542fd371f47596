"""The console's template pages: versions with who saved each, the diff between two versions,
editing with a live preview and the save-time refusals at their line, restoring an old version;
another centre's template is a 404; a shipped template needs a manager or the ministry."""

from __future__ import annotations

from sqlalchemy import select

from notifier.staff.tables import audit_log
from notifier.templates import library
from notifier.templates import repository as repo
from tests.console import form_token, make_staff, sign_in

SHIPPED = "program_announcement_jobseekers"


def versions(ctx, key: str) -> list[int]:
    with ctx.engine.connect() as conn:
        return [v["version"] for v in repo.versions(conn, key)]


def sources(ctx, key: str, version: int | None = None) -> dict:
    with ctx.engine.connect() as conn:
        found = repo.get(conn, key, version)
    assert found is not None
    return {f"src:{lo}:{part}": text for lo, parts in found.sources.items() for part, text in parts.items()}


def centre_template(ctx, key: str, center: str) -> None:
    """A copy of the shipped template, first saved from the console for ``center``."""
    with ctx.engine.connect() as conn:
        shipped = repo.get(conn, SHIPPED)
    author = library.Author(owner=f"center:{center}", key_name=f"someone@{center}.example.kr")
    library.save_template(ctx, key, shipped.spec, shipped.sources, author)


def post(client, path: str, data: dict, token_from: str = "/console/templates"):
    return client.post(path, data={**data, "csrf_token": form_token(client, token_from)})


def audit_actions(ctx) -> list[str]:
    with ctx.engine.connect() as conn:
        query = select(audit_log.c.action).where(audit_log.c.object_type == "template")
        return list(conn.execute(query.order_by(audit_log.c.id)).scalars())


def test_staff_edit_their_centres_template_see_who_saved_it_and_the_diff(ctx, client) -> None:
    centre_template(ctx, "seosan_notice", "seosan")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    edited = sources(ctx, "seosan_notice")
    edited["src:ko:sms.txt"] = edited["src:ko:sms.txt"].replace("심리지원", "심리 상담 지원")
    saved = post(client, "/console/templates/seosan_notice", edited)
    assert saved.status_code == 303, saved.get_data(as_text=True)
    assert versions(ctx, "seosan_notice") == [1, 2]
    page = client.get("/console/templates/seosan_notice").get_data(as_text=True)
    assert "kim@seosan.example.kr" in page and "v2" in page
    diff = client.get("/console/templates/seosan_notice/diff?a=1&b=2").get_data(as_text=True)
    assert '<span class="del">-- 심리지원</span>' in diff
    assert '<span class="add">+- 심리 상담 지원</span>' in diff
    assert "ko/sms.txt" in diff and "email.txt" not in diff
    restored = post(client, "/console/templates/seosan_notice/restore", {"version": "1"})
    assert restored.status_code == 303
    assert versions(ctx, "seosan_notice") == [1, 2, 3]
    assert sources(ctx, "seosan_notice", 3) == sources(ctx, "seosan_notice", 1)
    assert audit_actions(ctx) == ["template_saved", "template_restored"]


def test_a_refused_save_shows_the_problem_at_its_line_and_stores_nothing(ctx, client) -> None:
    centre_template(ctx, "seosan_notice", "seosan")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    edited = sources(ctx, "seosan_notice")
    edited["src:ko:sms.txt"] = "안녕하세요.\n{{ center.name }}입니다 {{ nope }}\n끝"
    refused = post(client, "/console/templates/seosan_notice", edited)
    html = refused.get_data(as_text=True)
    assert refused.status_code == 422
    assert "저장할 수 없는 이유" in html and "nope" in html
    assert "줄 2" in html  # the line the refusal names, with the line's text
    assert 'aria-invalid="true"' in html and "아무것도 변경되지" in html
    assert versions(ctx, "seosan_notice") == [1] and audit_actions(ctx) == []


def test_the_live_preview_renders_the_edit_with_the_sample_data(ctx, client) -> None:
    centre_template(ctx, "seosan_notice", "seosan")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    edited = sources(ctx, "seosan_notice")
    edited["src:ko:sms.txt"] = "{{ center.name }}: 미리보기 시험"
    shown = post(client, "/console/templates/seosan_notice/preview", edited)
    html = shown.get_data(as_text=True)
    assert shown.status_code == 200 and "서산고용복지+센터: 미리보기 시험" in html and "SMS" in html
    edited["src:ko:sms.txt"] = "{{ nope }}"
    bad = post(client, "/console/templates/seosan_notice/preview", edited)
    assert bad.status_code == 422 and "nope" in bad.get_data(as_text=True)
    assert versions(ctx, "seosan_notice") == [1]


def test_another_centres_template_is_not_found_on_every_page_and_form(ctx, client) -> None:
    centre_template(ctx, "gumi_notice", "gumi")
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    form = sources(ctx, "gumi_notice")
    for email in ("kim@seosan.example.kr", "boss@seosan.example.kr"):
        sign_in(client, email)
        assert "gumi_notice" not in client.get("/console/templates").get_data(as_text=True)
        for path in ("", "/edit", "/diff?a=1&b=1"):
            assert client.get(f"/console/templates/gumi_notice{path}").status_code == 404, path
        for path, data in (("", form), ("/preview", form), ("/restore", {"version": "1"})):
            assert post(client, f"/console/templates/gumi_notice{path}", data).status_code == 404, path
        assert client.get("/console/templates/no-such").status_code == 404
    assert versions(ctx, "gumi_notice") == [1] and audit_actions(ctx) == []
    make_staff(ctx, "moel@moel.example.kr", role="ministry", centers=[])
    sign_in(client, "moel@moel.example.kr")
    assert client.get("/console/templates/gumi_notice").status_code == 200


def test_a_shipped_template_is_changed_only_by_a_manager_or_the_ministry(ctx, client) -> None:
    make_staff(ctx, "kim@seosan.example.kr")
    make_staff(ctx, "boss@seosan.example.kr", role="manager")
    edited = sources(ctx, SHIPPED)
    edited["src:ko:sms.txt"] = edited["src:ko:sms.txt"] + "\n감사합니다."
    sign_in(client, "kim@seosan.example.kr")
    assert client.get(f"/console/templates/{SHIPPED}").status_code == 200  # staff may read it
    refused = post(client, f"/console/templates/{SHIPPED}", edited)
    assert refused.status_code == 403 and "센터 관리자 또는 고용노동부만" in refused.get_data(as_text=True)
    assert post(client, f"/console/templates/{SHIPPED}/restore", {"version": "1"}).status_code == 403
    assert versions(ctx, SHIPPED) == [1]
    sign_in(client, "boss@seosan.example.kr")
    assert post(client, f"/console/templates/{SHIPPED}", edited).status_code == 303
    assert versions(ctx, SHIPPED) == [1, 2]


def test_bad_template_forms_get_a_korean_problem_page_and_change_nothing(ctx, client) -> None:
    centre_template(ctx, "seosan_notice", "seosan")
    make_staff(ctx, "kim@seosan.example.kr")
    sign_in(client, "kim@seosan.example.kr")
    for version in ("", "x", "99"):
        answer = post(client, "/console/templates/seosan_notice/restore", {"version": version})
        assert answer.status_code in (404, 422) and "아무것도 변경되지" in answer.get_data(as_text=True)
    assert client.get("/console/templates/seosan_notice/diff?a=1&b=zz").status_code == 422
    huge = sources(ctx, "seosan_notice")
    huge["src:ko:sms.txt"] = "가" * 100_001
    assert post(client, "/console/templates/seosan_notice", huge).status_code == 422
    assert versions(ctx, "seosan_notice") == [1] and audit_actions(ctx) == []
