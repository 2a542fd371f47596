"""The console's attendance report, experiments and outcome form: every permission rule
(another centre's report, experiment or appointment is a 404; staff read experiments but
cannot start or stop them; the ministry sees every centre) and every form's bad input (a
Korean problem page, nothing changed). Read back from the page HTML, the CSV and the rows."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from notifier.appointments.tables import appointments
from notifier.attendance.statistics import wilson
from notifier.attendance.tables import experiments
from notifier.staff.tables import audit_log
from tests.console import form_token, make_staff, sign_in
from tests.integration.test_appointments_api import NOW, booking
from tests.integration.test_attendance_api import AFTER, COUNSELING, SUPPORT, book_and_record

PLAN = {
    "seosan": [(COUNSELING, "attended")] * 4
    + [(COUNSELING, "no_show")] * 2
    + [(COUNSELING, None)]
    + [(SUPPORT, "no_show"), (SUPPORT, "attended")],
    "gumi": [(SUPPORT, "no_show")] * 5,
}
TRIAL = {
    "center": "seosan",
    "name": "48시간 전 안내 비교",
    "plan_0": "24h,2h",
    "share_0": "50",
    "plan_1": "48h,3h",
    "share_1": "50",
}


@pytest.fixture
def headers(make_key):
    return {"Authorization": f"Bearer {make_key('appointments', 'admin')}"}


def post(client, path: str, data: dict, token_from: str = "/console/"):
    return client.post(path, data={**data, "csrf_token": form_token(client, token_from)})


def rows(ctx, table):
    with ctx.engine.connect() as conn:
        return list(conn.execute(select(table)).mappings())


def actions(ctx) -> list[str]:
    """The audit entries of the attendance pages (accounts and sign-ins have their own)."""
    mine = ("experiment_started", "experiment_stopped", "outcome_recorded")
    return [row["action"] for row in rows(ctx, audit_log) if row["action"] in mine]


def signed_in(ctx, client, email: str, role: str = "staff", centers=("seosan",)) -> None:
    make_staff(ctx, email, role=role, centers=centers)
    assert sign_in(client, email).status_code == 303


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


# ---- the attendance report -------------------------------------------------------------------


def test_staff_see_their_centres_report_with_small_cells_hidden(ctx, client, headers, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    signed_in(ctx, client, "kim@seosan.example.kr")
    answer = client.get("/console/attendance?group_by=kind")
    html = re.sub(r">\s+<", "><", answer.get_data(as_text=True))
    assert answer.status_code == 200
    counseling = html.split("심층 상담</th>", 1)[1].split("</tr>", 1)[0]
    interval = wilson(2, 6)
    assert "<td>7</td><td>6</td><td>4</td><td>2</td>" in counseling
    assert f"{percent(2 / 6)}</td>" in counseling
    assert f"{percent(interval.low)} – {percent(interval.high)}" in counseling
    support = html.split("심리 지원</th>", 1)[1].split("</tr>", 1)[0]
    assert support.count("<td>&lt;5</td>") == 5 and "%" not in support
    chart = html.split('<svg class="chart" id="no-show-chart"', 1)[1].split("</svg>", 1)[0]
    assert 'role="img"' in html and "<title id=" in chart and "<desc id=" in chart
    assert chart.count('<rect class="rate"') == 1 and chart.count('class="hidden-cell"') == 1
    assert "gumi" not in html  # the other centre is neither listed nor counted
    assert '<option value="seosan" selected>서산고용복지+센터 (seosan)</option>' in html  # by name


def test_staff_asking_for_another_centres_report_get_404(ctx, client, headers, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    signed_in(ctx, client, "kim@seosan.example.kr")
    assert client.get("/console/attendance?center=gumi").status_code == 404
    assert client.get("/console/attendance.csv?center=gumi").status_code == 404


def test_the_ministry_sees_every_centre(ctx, client, headers, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    signed_in(ctx, client, "moel@moel.example.kr", role="ministry", centers=())
    html = re.sub(r">\s+<", "><", client.get("/console/attendance?group_by=center").get_data(as_text=True))
    assert '<th scope="row">gumi</th><td>5</td>' in html
    assert '<th scope="row">seosan</th><td>9</td>' in html
    one = client.get("/console/attendance?center=gumi&shown=1")
    assert one.status_code == 200 and "· 구미고용복지+센터 (gumi)" in one.get_data(as_text=True)
    total = re.sub(r">\s+<", "><", client.get("/console/attendance?shown=1").get_data(as_text=True))
    assert '<th scope="row">전체</th><td>14</td>' in total  # no group ticked: every centre together
    csv_link = re.search(r'id="csv-link" href="([^"]+)"', total).group(1).replace("&amp;", "&")
    assert client.get(csv_link).get_data(as_text=True).splitlines()[1].startswith("14,")


def test_the_csv_is_the_apis_csv_of_the_same_report(ctx, client, headers, clock) -> None:
    book_and_record(client, headers, clock, PLAN)
    signed_in(ctx, client, "kim@seosan.example.kr")
    console = client.get("/console/attendance.csv?group_by=kind&from=2026-12-01&to=2026-12-31")
    assert console.status_code == 200 and console.mimetype == "text/csv"
    span = "from=2026-11-30T15:00:00Z&to=2026-12-31T15:00:00Z"
    api = client.get(f"/v1/reports/attendance?group_by=kind&center=seosan&{span}&format=csv", headers=headers)
    assert console.get_data(as_text=True) == api.get_data(as_text=True)
    assert "psychological_support,<5,<5,<5,<5,<5,,," in console.get_data(as_text=True)


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("kind=bogus", "상담 종류를 고르세요"),
        ("channel=fax", "채널을 고르세요"),
        ("group_by=person", "기준만 고를 수 있습니다"),
        ("from=2026-13-01", "YYYY-MM-DD"),
        ("from=2026-12-10&to=2026-12-01", "시작일은 종료일보다 늦을 수 없습니다"),
        ("from=2020-01-01&to=2026-12-01", "3년을 넘을 수 없습니다"),
    ],
)
def test_bad_report_filters_are_a_korean_422_page(ctx, client, clock, query, problem) -> None:
    signed_in(ctx, client, "kim@seosan.example.kr")
    answer = client.get(f"/console/attendance?{query}")
    assert answer.status_code == 422
    assert problem in answer.get_data(as_text=True)
    assert "아무것도 변경되지 않았습니다" in answer.get_data(as_text=True)


# ---- experiments -----------------------------------------------------------------------------


def test_a_manager_starts_and_stops_an_experiment_and_both_are_audited(ctx, client, clock) -> None:
    signed_in(ctx, client, "lee@seosan.example.kr", role="manager")
    started = post(client, "/console/experiments", TRIAL, "/console/experiments")
    assert started.status_code == 303
    [stored] = rows(ctx, experiments)
    assert stored["arms"] == [{"plan": "24h,2h", "share": 0.5}, {"plan": "48h,3h", "share": 0.5}]
    assert stored["created_by"] == "lee@seosan.example.kr"
    report = client.get(started.headers["Location"]).get_data(as_text=True)
    assert "실험을 시작했습니다" in report and "수치를 읽는 방법" in report and "p값" in report
    assert "진행 중" in report
    stopped = post(client, f"/console/experiments/{stored['id']}/stop", {}, "/console/experiments")
    assert stopped.status_code == 303
    assert rows(ctx, experiments)[0]["stopped_at"] is not None
    assert "중지됨" in client.get(stopped.headers["Location"]).get_data(as_text=True)
    assert actions(ctx) == ["experiment_started", "experiment_stopped"]


def test_staff_read_experiments_but_cannot_start_or_stop_them(ctx, client, clock) -> None:
    signed_in(ctx, client, "lee@seosan.example.kr", role="manager")
    post(client, "/console/experiments", TRIAL, "/console/experiments")
    [stored] = rows(ctx, experiments)
    client.post("/console/logout", data={"csrf_token": form_token(client)})
    signed_in(ctx, client, "kim@seosan.example.kr")
    listing = client.get("/console/experiments").get_data(as_text=True)
    assert "48시간 전 안내 비교" in listing and 'action="/console/experiments"' not in listing
    report = client.get(f"/console/experiments/{stored['id']}").get_data(as_text=True)
    assert "수치를 읽는 방법" in report and "/stop" not in report
    assert "<dd>서산고용복지+센터 (seosan)</dd>" in report  # the centre by its name
    refused = post(client, "/console/experiments", {**TRIAL, "name": "다른 실험"}, "/console/experiments")
    assert refused.status_code == 403 and "센터 관리자와 고용노동부" in refused.get_data(as_text=True)
    stop = post(client, f"/console/experiments/{stored['id']}/stop", {}, "/console/experiments")
    assert stop.status_code == 403
    assert len(rows(ctx, experiments)) == 1 and rows(ctx, experiments)[0]["stopped_at"] is None
    assert actions(ctx) == ["experiment_started"]


def test_another_centres_experiment_is_a_404_to_its_managers_and_staff(ctx, client, clock) -> None:
    signed_in(ctx, client, "moel@moel.example.kr", role="ministry", centers=())
    assert post(client, "/console/experiments", TRIAL, "/console/experiments").status_code == 303
    [stored] = rows(ctx, experiments)
    assert "48시간 전 안내 비교" in client.get("/console/experiments").get_data(as_text=True)
    client.post("/console/logout", data={"csrf_token": form_token(client)})
    signed_in(ctx, client, "park@gumi.example.kr", role="manager", centers=("gumi",))
    assert "48시간 전 안내 비교" not in client.get("/console/experiments").get_data(as_text=True)
    assert client.get(f"/console/experiments/{stored['id']}").status_code == 404
    stop = post(client, f"/console/experiments/{stored['id']}/stop", {}, "/console/experiments")
    assert stop.status_code == 404
    other = post(client, "/console/experiments", TRIAL, "/console/experiments")  # seosan's
    assert other.status_code == 404
    assert len(rows(ctx, experiments)) == 1 and rows(ctx, experiments)[0]["stopped_at"] is None


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": ""}, "실험 이름을"),
        ({"plan_1": "", "share_1": ""}, "두 개 이상"),
        ({"plan_1": "24 hours"}, "숫자와 단위"),
        ({"plan_1": "2h,24h"}, "서로 다른 알림 계획"),
        ({"share_1": "60"}, "합이 100"),
        ({"share_1": "abc"}, "100 이하인 숫자"),
        ({"starts_at": "2026-12-05T10:00", "ends_at": "2026-12-04T10:00"}, "종료는 시작 이후"),
        ({"starts_at": "내일"}, "YYYY-MM-DD HH:MM"),
        ({"center": ""}, "센터를 고르세요"),
    ],
)
def test_bad_experiment_forms_are_a_korean_422_page_and_start_nothing(
    ctx, client, clock, changes, problem
) -> None:
    signed_in(ctx, client, "lee@seosan.example.kr", role="manager")
    answer = post(client, "/console/experiments", {**TRIAL, **changes}, "/console/experiments")
    assert answer.status_code == 422
    assert problem in answer.get_data(as_text=True)
    assert rows(ctx, experiments) == [] and actions(ctx) == []


def test_an_overlapping_experiment_is_a_409_page(ctx, client, clock) -> None:
    signed_in(ctx, client, "lee@seosan.example.kr", role="manager")
    assert post(client, "/console/experiments", TRIAL, "/console/experiments").status_code == 303
    again = post(client, "/console/experiments", {**TRIAL, "name": "두 번째"}, "/console/experiments")
    assert again.status_code == 409 and "이미 진행 중이거나 예정된 실험" in again.get_data(as_text=True)
    assert len(rows(ctx, experiments)) == 1


# ---- outcomes --------------------------------------------------------------------------------


def book(client, headers, external_id: str, center: str = "seosan") -> str:
    answer = client.put(f"/v1/appointments/{external_id}", json=booking(center=center), headers=headers)
    assert answer.status_code == 201, answer.json
    return answer.json["id"]


def stored_outcome(ctx, appointment_id: str):
    with ctx.engine.connect() as conn:
        return conn.execute(
            select(appointments.c.outcome).where(appointments.c.id == appointment_id)
        ).scalar_one()


def test_staff_record_an_outcome_after_the_start_and_it_is_audited(ctx, client, headers, clock) -> None:
    appointment = book(client, headers, "c1")
    clock.now = AFTER
    signed_in(ctx, client, "kim@seosan.example.kr")
    path = f"/console/appointments/{appointment}/outcome"
    answer = post(client, path, {"outcome": "no_show", "next": "/console/attendance"}, path)
    assert answer.status_code == 303 and answer.headers["Location"] == "/console/attendance"
    assert stored_outcome(ctx, appointment) == "no_show"
    shown = client.get(path).get_data(as_text=True)
    assert '<dd id="current-outcome">불참' in shown
    assert actions(ctx) == ["outcome_recorded"]
    api = client.get("/v1/appointments/c1", headers=headers).json
    assert api["outcome"]["outcome"] == "no_show"


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        ({"outcome": "attended"}, "예약 시작 시각이 지난 뒤에만"),
        ({"outcome": "maybe"}, "참석 결과를 고르세요"),
        ({"outcome": "late_cancellation", "recorded_at": "2026-12-31T10:00"}, "지금보다 뒤일 수 없습니다"),
        ({"outcome": "late_cancellation", "recorded_at": "12/01"}, "YYYY-MM-DD HH:MM"),
    ],
)
def test_a_refused_outcome_is_a_korean_422_page_and_changes_nothing(
    ctx, client, headers, clock, data, problem
) -> None:
    appointment = book(client, headers, "c2")
    signed_in(ctx, client, "kim@seosan.example.kr")
    path = f"/console/appointments/{appointment}/outcome"
    answer = post(client, path, data, path)
    assert answer.status_code == 422
    assert problem in answer.get_data(as_text=True)
    assert stored_outcome(ctx, appointment) is None and actions(ctx) == []


def test_a_later_outcome_already_stored_makes_an_earlier_one_a_409(ctx, client, headers, clock) -> None:
    appointment = book(client, headers, "c3")
    clock.now = AFTER + timedelta(hours=2)
    signed_in(ctx, client, "kim@seosan.example.kr")
    path = f"/console/appointments/{appointment}/outcome"
    later = {"outcome": "attended", "recorded_at": "2026-12-03T15:30"}
    assert post(client, path, later, path).status_code == 303
    earlier = post(client, path, {"outcome": "no_show", "recorded_at": "2026-12-03T15:00"}, path)
    assert earlier.status_code == 409
    assert stored_outcome(ctx, appointment) == "attended"


def test_another_centres_appointment_outcome_is_a_404(ctx, client, headers, clock) -> None:
    appointment = book(client, headers, "g1", center="gumi")
    clock.now = AFTER
    signed_in(ctx, client, "kim@seosan.example.kr")
    path = f"/console/appointments/{appointment}/outcome"
    assert client.get(path).status_code == 404
    assert post(client, path, {"outcome": "attended"}).status_code == 404
    assert client.get("/console/appointments/no-such-id/outcome").status_code == 404
    assert stored_outcome(ctx, appointment) is None and actions(ctx) == []


def test_the_experiment_report_shows_each_arms_figures_with_their_meaning(
    ctx, client, headers, clock
) -> None:
    from notifier.attendance.experiments import experiment_report

    signed_in(ctx, client, "lee@seosan.example.kr", role="manager")
    assert post(client, "/console/experiments", TRIAL, "/console/experiments").status_code == 303
    [stored] = rows(ctx, experiments)
    later = "2026-12-10T14:00:00+09:00"
    for index in range(40):
        body = booking(starts_at=later)
        assert client.put(f"/v1/appointments/e{index}", json=body, headers=headers).status_code == 201
    clock.now = NOW + timedelta(days=10)
    with ctx.engine.connect() as conn:
        arms = conn.execute(select(appointments.c.external_id, appointments.c.experiment_arm)).all()
    for index, (external_id, arm) in enumerate(sorted(arms)):
        result = (
            "no_show"
            if (arm == "24h,2h" and index % 2) or (arm == "48h,3h" and index % 7 == 0)
            else "attended"
        )
        answer = client.post(
            f"/v1/appointments/{external_id}/outcome", json={"outcome": result}, headers=headers
        )
        assert answer.status_code == 200
    expected = experiment_report(ctx, stored["id"])["arms"]
    assert all(arm["appointments"] >= 5 for arm in expected)  # no arm hidden: every figure shown
    signed_in(ctx, client, "lee2@seosan.example.kr", role="manager")
    html = re.sub(r">\s+<", "><", client.get(f"/console/experiments/{stored['id']}").get_data(as_text=True))
    second = html.split('<th scope="row">48h,3h</th>', 1)[1].split("</tr>", 1)[0]
    arm = expected[1]
    assert f"{arm['no_show_rate'] * 100:.1f}% ({arm['no_show_rate_low'] * 100:.1f}%" in second
    assert f"{arm['difference'] * 100:+.1f}%p ({arm['difference_low'] * 100:+.1f}%p" in second
    assert f"<td>{arm['p_value']:.3f}</td><td>{arm['n_per_arm_for_80_power']}</td>" in second
    assert "두 계획의 효과가 실제로 같다면" in html  # what the p-value means, in plain Korean


def test_the_pages_speak_english_when_the_console_is_switched(ctx, client, clock) -> None:
    signed_in(ctx, client, "lee@seosan.example.kr", role="manager")
    client.set_cookie("console_lang", "en", path="/console")
    report = client.get("/console/attendance").get_data(as_text=True)
    assert "No-show rate per group" in report and "불참률" not in report
    assert post(client, "/console/experiments", TRIAL, "/console/experiments").status_code == 303
    [stored] = rows(ctx, experiments)
    shown = client.get(f"/console/experiments/{stored['id']}").get_data(as_text=True)
    assert "How to read these figures" in shown and "Running" in shown
