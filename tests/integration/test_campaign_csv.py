"""Campaign lists uploaded as CSV: encodings, duplicates, rejected rows, limits, and memory."""

from __future__ import annotations

import csv
import io
import tracemalloc

import pytest
from sqlalchemy import func, select
from werkzeug.datastructures import FileStorage
from werkzeug.test import encode_multipart

from notifier.campaigns.lists import SAMPLE_BYTES
from notifier.campaigns.service import CampaignIn, create_campaign
from notifier.campaigns.tables import campaign_recipients, campaigns
from notifier.messages.sending import deliver_many
from notifier.messages.tables import messages

TEMPLATE = "program_announcement_jobseekers"
# 똠 is in cp949 but not in euc-kr: a file Korean Excel saved must keep it.
LIST = (
    "phone,name,deadline\n"
    "010-2345-6789,홍길동,12월 19일(금)\n"
    "01023456789,홍길동,\n"
    "044-202-7369,김철수,\n"
    "\n"
    "010-3456-7890,똠방각하,12월 20일(토)\n"
)


@pytest.fixture
def admin(make_key):
    return {"Authorization": f"Bearer {make_key('campaigns', name='admin', owner='seosan-admin')}"}


def upload(client, admin, content, **fields):
    form = {
        "name": "12월 안내",
        "template": TEMPLATE,
        "category": "informational",
        "center": "seosan",
        "channel": "sms",
        **fields,
    }
    if content is not None:
        form["file"] = FileStorage(io.BytesIO(content), filename="list.csv", content_type="text/csv")
    # Encoded here, in memory: the test client would spool a large body to a file it never closes.
    boundary, body = encode_multipart(form)
    content_type = f"multipart/form-data; boundary={boundary}"
    return client.post("/v1/campaigns", data=body, headers=admin, content_type=content_type)


def stored(ctx):
    with ctx.engine.connect() as conn:
        return {r.phone: r for r in conn.execute(select(campaign_recipients))}


def count(ctx, table):
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949"])
def test_a_list_in_any_encoding_excel_saves_reads_the_same(client, admin, ctx, encoding) -> None:
    response = upload(client, admin, LIST.encode(encoding))
    assert response.status_code == 201, response.json
    report = response.json["report"]
    assert report["rows"] == 4  # the blank line is no row
    assert report["usable"] == 2
    assert report["duplicates_merged"] == 1
    assert report["rejected"]["items"] == [
        {"row": 4, "reason": "phone: 044-202-7369 is not a mobile number; SMS needs one"}
    ]
    people = stored(ctx)
    assert {p.name for p in people.values()} == {"홍길동", "똠방각하"}
    assert people["+821034567890"].data == {"deadline": "12월 20일(토)"}
    assert response.json["source"] == "csv"


def test_extra_columns_are_template_values_in_each_message(client, admin, ctx, twilio) -> None:
    campaign_id = upload(client, admin, LIST.encode("cp949")).json["id"]
    client.post(f"/v1/campaigns/{campaign_id}/start", headers=admin)
    with ctx.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(messages.c.id))]
    assert deliver_many(ctx, ids) == 2
    bodies = {m.to: m.body for m in twilio.messages}
    assert "똠방각하님" in bodies["+821034567890"]
    assert "신청 기한: 12월 20일(토)까지" in bodies["+821034567890"]
    assert "신청 기한: 12월 19일(금)까지" in bodies["+821023456789"]


def test_header_names_are_forgiving_about_case_and_space_and_rows_keep_their_numbers(client, admin) -> None:
    content = " Phone , NAME ,deadline\n010-2345-6789,홍길동,x,extra\n010-2345-6780,김영희,y\n"
    response = upload(client, admin, content.encode("utf-8-sig"))
    assert response.status_code == 201, response.json
    [rejected] = response.json["report"]["rejected"]["items"]
    assert rejected == {"row": 2, "reason": "the row has 4 fields but the header names 3"}
    assert response.json["report"]["usable"] == 1


def test_a_quote_never_closed_is_a_rejected_row_naming_the_lines_it_swallowed(client, admin, ctx) -> None:
    content = b'phone,name\n010-1111-2233,"abc\n010-1111-2234,def\n'
    response = upload(client, admin, content)
    assert response.status_code == 201, response.json
    report = response.json["report"]
    assert (report["rows"], report["usable"], report["rejected"]["count"]) == (1, 0, 1)
    [rejected] = report["rejected"]["items"]
    assert rejected["row"] == 2
    assert rejected["reason"].startswith("lines 2-3: not valid CSV: a quote opened on line 2 is never closed")
    assert count(ctx, campaign_recipients) == 0


def test_every_line_after_a_malformed_row_is_still_read(client, admin) -> None:
    content = b'phone,name\n010-2345-6789,"kim"lee\n010-2345-6790,park\n'
    report = upload(client, admin, content).json["report"]
    assert (report["rows"], report["usable"], report["rejected"]["count"]) == (2, 1, 1)
    [rejected] = report["rejected"]["items"]
    assert rejected["row"] == 2
    assert rejected["reason"].startswith("line 2: not valid CSV")


@pytest.mark.parametrize(
    ("content", "fields", "pointer"),
    [
        (None, {}, "/file"),
        (b"", {}, "/file"),
        (b"name,city\n\xed\x99\x8d,Seosan\n", {}, "/file"),
        (b"phone,phone\n010-2345-6789,010-2345-6780\n", {}, "/file"),
        (b"phone,name\n", {}, "/file"),  # a header and no rows is no campaign
        (b"phone,name\n\n\n", {}, "/file"),
        (LIST.encode(), {"data": "{not json"}, "/data"),
        (LIST.encode(), {"colour": "blue"}, "/colour"),
        (LIST.encode(), {"category": "promotion"}, "/category"),
        (LIST.encode(), {"recipients": "[]"}, "/recipients"),
        (b"phone\n010-2345-6789\n" + b"x" * SAMPLE_BYTES + b"\n\xff\xfe\n", {}, "/file"),
    ],
)
def test_a_refused_upload_is_a_422_naming_the_field_and_stores_nothing(
    client, admin, ctx, content, fields, pointer
) -> None:
    response = upload(client, admin, content, **fields)
    assert response.status_code == 422, response.json
    assert pointer in [e["pointer"] for e in response.json["errors"]]
    assert count(ctx, campaigns) == 0
    assert count(ctx, campaign_recipients) == 0


def test_a_list_larger_than_the_json_limit_is_accepted_but_not_beyond_the_upload_limit(
    client, admin, ctx
) -> None:
    rows = "".join(
        f"010-2{i // 10000:03d}-{i % 10000:04d},이름{i},2026년 12월 19일(금)\n" for i in range(30_000)
    )
    content = ("phone,name,deadline\n" + rows).encode()
    assert len(content) > ctx.settings.max_body_bytes
    response = upload(client, admin, content)
    assert response.status_code == 201, response.json
    assert response.json["report"]["rows"] == 30_000
    ctx.settings = ctx.settings.with_overrides(max_upload_bytes=len(content) // 2)
    too_big = upload(client, admin, content)
    assert too_big.status_code == 413
    assert count(ctx, campaigns) == 1


def peak_bytes_reading(ctx, path):
    spec = CampaignIn(name="n", template=TEMPLATE, category="informational", center="seosan", channel="sms")
    with path.open("rb") as stream:
        tracemalloc.start()
        try:
            create_campaign(ctx, "memory-test", spec, stream)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


def test_memory_does_not_grow_with_the_list(ctx, tmp_path) -> None:
    sizes = {}
    for rows in (1_000, 10_000):
        path = tmp_path / f"{rows}.csv"
        with path.open("w", encoding="utf-8") as out:
            out.write("phone,name,deadline\n")
            for i in range(rows):
                out.write(f"010-3{i // 10000:03d}-{i % 10000:04d},홍길동{i},12월 {i % 28 + 1}일\n")
        sizes[rows] = peak_bytes_reading(ctx, path)
    # Ten times the rows: the same caches and one batch in memory, not ten times the memory.
    assert sizes[10_000] < sizes[1_000] * 1.25 + 256 * 1024, sizes


def test_an_admin_runs_a_campaign_from_the_command_line(ctx, env, tmp_path) -> None:
    from click.testing import CliRunner

    from notifier.cli import main

    path = tmp_path / "list.csv"
    path.write_bytes(LIST.encode("cp949"))
    runner = CliRunner(env=env)
    args = [
        "campaign",
        "create",
        "--name",
        "12월 안내",
        "--template",
        TEMPLATE,
        "--category",
        "informational",
    ]
    created = runner.invoke(main, [*args, "--center", "seosan", "--csv", str(path), "--channel", "sms"])
    assert created.exit_code == 0, created.output
    *report, campaign_id = created.output.strip().splitlines()
    assert any("usable" in line and line.endswith(" 2") for line in report), report
    assert any(line.startswith("  row 4: phone:") for line in report), report
    naive = runner.invoke(main, ["campaign", "start", campaign_id, "--at", "2026-12-01T10:00:00"])
    assert naive.exit_code != 0
    assert "UTC offset" in naive.output
    started = runner.invoke(main, ["campaign", "start", campaign_id])
    assert started.exit_code == 0, started.output
    assert started.output.startswith("running ")
    status = runner.invoke(main, ["campaign", "status", campaign_id])
    assert "queued 2" in status.output
    other = runner.invoke(main, ["campaign", "status", campaign_id, "--owner", "someone-else"])
    assert other.exit_code != 0
    assert "Not found" in other.output


def test_rejected_rows_come_back_as_csv_that_no_spreadsheet_runs_as_a_formula(client, admin) -> None:
    content = 'phone,name\n"=HYPERLINK(""http://evil.example"",""x"")",홍길동\n010-2345-6789,김영희\n'
    campaign_id = upload(client, admin, content.encode()).json["id"]
    response = client.get(f"/v1/campaigns/{campaign_id}/rejections.csv", headers=admin)
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["row", "reason", "raw"]
    [(row, reason, raw)] = rows[1:]
    assert row == "2"
    assert reason.startswith("phone:")
    assert raw.startswith("'=HYPERLINK(")


def test_a_list_longer_than_the_limit_is_refused_whole(client, admin, ctx, monkeypatch) -> None:
    from notifier.campaigns import lists as campaign_lists

    monkeypatch.setattr(campaign_lists, "MAX_ROWS", 3)  # the real limit is 1,000,000 rows
    content = "phone\n" + "".join(f"010-2345-000{i}\n" for i in range(4))
    response = upload(client, admin, content.encode())
    assert response.status_code == 422
    assert response.json["errors"] == [{"pointer": "/file", "detail": "the list has more than 3 rows"}]
    assert count(ctx, campaigns) == 0


def test_the_command_line_finds_lists_and_cancels_a_campaign_made_through_the_api(
    client, admin, ctx, env
) -> None:
    from click.testing import CliRunner

    from notifier.cli import main

    campaign_id = upload(client, admin, LIST.encode()).json["id"]  # owner seosan-admin
    runner = CliRunner(env=env)
    status = runner.invoke(main, ["campaign", "status", campaign_id])
    assert status.exit_code == 0, status.output
    assert status.output.strip().startswith("draft ")
    listed = runner.invoke(main, ["campaign", "list"])
    assert listed.exit_code == 0, listed.output
    assert f"{campaign_id}  draft" in listed.output and "12월 안내" in listed.output
    assert campaign_id not in runner.invoke(main, ["campaign", "list", "--owner", "someone-else"]).output
    cancelled = runner.invoke(main, ["campaign", "cancel", campaign_id])
    assert cancelled.exit_code == 0, cancelled.output
    assert cancelled.output.startswith("cancelled ")
    assert client.get(f"/v1/campaigns/{campaign_id}", headers=admin).json["status"] == "cancelled"
    again = runner.invoke(main, ["campaign", "cancel", campaign_id])
    assert again.exit_code != 0 and "already cancelled" in again.output


def test_a_campaign_started_from_the_command_line_is_sent_from_the_servers_address(
    ctx, env, tmp_path, smtp
) -> None:
    from click.testing import CliRunner

    from notifier.cli import main

    path = tmp_path / "list.csv"
    path.write_text("email,name,deadline\nkim@example.com,김영희,12월 19일(금)\n", encoding="utf-8")
    runner = CliRunner(env={**env, "NOTIFIER_MAIL_FROM": "someone@admin-laptop.example"})
    args = [
        "campaign",
        "create",
        "--name",
        "12월 안내",
        "--template",
        TEMPLATE,
        "--category",
        "informational",
    ]
    created = runner.invoke(main, [*args, "--center", "seosan", "--csv", str(path), "--channel", "email"])
    assert created.exit_code == 0, created.output
    campaign_id = created.output.strip().splitlines()[-1]
    assert runner.invoke(main, ["campaign", "start", campaign_id]).exit_code == 0
    with ctx.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(messages.c.id).where(messages.c.campaign_id == campaign_id))]
    assert deliver_many(ctx, ids) == 1  # the worker, with the server's environment
    [mail] = smtp.wait_for_messages(1)
    assert mail.message["From"].addresses[0].addr_spec == env["NOTIFIER_MAIL_FROM"]
    assert mail.mail_from == env["NOTIFIER_MAIL_FROM"]
