"""Requests larger than the API reads, and methods a route does not take: a 4xx problem+json."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select

from notifier.api.limits import MAX_HEADER_BYTES, MAX_PATH_BYTES
from notifier.cli.processes import GUNICORN_MAX_HEADER_BYTES, GUNICORN_MAX_HEADERS, GUNICORN_MAX_REQUEST_LINE
from notifier.messages.tables import messages
from tests.factories import message_body

PROBLEM = "application/problem+json"


def problem(answer, status: int) -> None:
    assert answer.status_code == status, answer.get_data(as_text=True)
    assert answer.mimetype == PROBLEM
    assert answer.json["status"] == status


def stored_messages(ctx) -> int:
    with ctx.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(messages)).scalar_one()


def test_the_apps_limits_sit_below_gunicorns() -> None:
    assert GUNICORN_MAX_REQUEST_LINE - len("DELETE  HTTP/1.1") > MAX_PATH_BYTES
    assert MAX_HEADER_BYTES < GUNICORN_MAX_HEADERS * GUNICORN_MAX_HEADER_BYTES


def chunked_body(size: int) -> bytes:
    """A JSON message body padded with spaces to ``size`` bytes."""
    text = json.dumps(message_body()).encode()
    return text + b" " * (size - len(text))


def test_a_chunked_body_over_the_limit_is_413_not_cut_short(client, ctx, auth, settings) -> None:
    big = chunked_body(settings.max_body_bytes + 10)
    answer = client.post(
        "/v1/messages",
        input_stream=io.BytesIO(big),
        headers={**auth, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    problem(answer, 413)
    assert stored_messages(ctx) == 0


def test_a_chunked_body_within_the_limit_is_read_whole(client, auth) -> None:
    answer = client.post(
        "/v1/messages",
        input_stream=io.BytesIO(chunked_body(4096)),
        headers={**auth, "Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert answer.status_code == 202, answer.json


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("DELETE", "/v1/messages", {"GET", "POST"}),
        ("PATCH", "/v1/appointments/a-1", {"GET", "PUT", "DELETE"}),
        ("GET", "/v1/campaigns/x/start", {"POST"}),
    ],
)
def test_a_method_the_route_does_not_take_is_405_with_allow(client, auth, method, path, allowed) -> None:
    answer = client.open(path, method=method, headers=auth)
    problem(answer, 405)
    assert allowed <= {m.strip() for m in answer.headers["Allow"].split(",")}


def test_a_path_over_the_limit_is_414(client, auth) -> None:
    problem(client.get("/v1/messages/" + "a" * MAX_PATH_BYTES, headers=auth), 414)
    problem(client.get("/v1/messages?reference=" + "a" * MAX_PATH_BYTES, headers=auth), 414)
    assert client.get("/v1/messages/" + "a" * 100, headers=auth).status_code == 404


def test_headers_over_the_limit_are_431(client, ctx, auth) -> None:
    padding = {f"X-Pad-{n}": "p" * 4000 for n in range(MAX_HEADER_BYTES // 4000 + 1)}
    problem(client.post("/v1/messages", json=message_body(), headers={**auth, **padding}), 431)
    assert stored_messages(ctx) == 0
    small = {"X-Pad": "p" * 4000}
    assert client.post("/v1/messages", json=message_body(), headers={**auth, **small}).status_code == 202


def test_the_readme_states_the_limits_the_code_enforces() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    assert f"over {MAX_PATH_BYTES} bytes (`MAX_PATH_BYTES`)" in readme
    assert f"over {MAX_HEADER_BYTES} bytes together (`MAX_HEADER_BYTES`)" in readme
