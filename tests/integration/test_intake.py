"""Intake under load: group commit, the per-process lookups, and connections checked when idle.

Requests that arrive together share one transaction and one publisher (services/intake.py);
every message is still stored once, with its first history entry, and queued once, only after
its commit.
"""

from __future__ import annotations

import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import psycopg
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import IntegrityError

from notifier.centers import service as centers
from notifier.keys import repository as keys
from notifier.lookups import Lookups
from notifier.messages import intake
from notifier.messages import repository as repo
from notifier.messages.tables import idempotency_keys, message_events, messages
from notifier.storage.db import make_engine, ping_when_idle, upgrade
from notifier.templates import library as template_library
from tests.conftest import wait_for
from tests.factories import message_body


def post_together(app, auth, bodies, headers=None):
    """POST every body at once from its own thread; returns the responses in order."""
    start = threading.Barrier(len(bodies))

    def post(body):
        client = app.test_client()
        start.wait()
        return client.post("/v1/messages", json=body, headers={**auth, **(headers or {})})

    with ThreadPoolExecutor(len(bodies)) as pool:
        return list(pool.map(post, bodies))


def recording(ctx):
    queued: list[tuple[str, list[str]]] = []
    lock = threading.Lock()

    def enqueue(lane, ids):
        with lock:
            queued.append((lane, list(ids)))

    ctx.publish = enqueue
    return queued


def test_concurrent_requests_are_each_stored_once_with_their_first_event_and_queued_once(
    app, ctx, auth
) -> None:
    queued = recording(ctx)
    responses = post_together(app, auth, [message_body(reference=f"r{i}") for i in range(24)])
    assert [r.status_code for r in responses] == [202] * 24
    ids = {r.json["id"] for r in responses}
    assert len(ids) == 24
    with ctx.engine.connect() as conn:
        stored = set(conn.execute(select(messages.c.id)).scalars())
        events = list(conn.execute(select(message_events.c.message_id, message_events.c.status)))
    assert stored == ids
    assert sorted(m for m, _ in events) == sorted(ids) and {s for _, s in events} == {"queued"}
    rung = [i for lane, batch in queued for i in batch]
    assert sorted(rung) == sorted(ids) and {lane for lane, _ in queued} == {"transactional"}


def test_concurrent_twins_with_one_idempotency_key_store_one_message_and_get_one_answer(
    app, ctx, auth
) -> None:
    queued = recording(ctx)
    responses = post_together(app, auth, [message_body()] * 12, headers={"Idempotency-Key": "twins-1"})
    assert {r.status_code for r in responses} == {202}
    assert len({r.json["id"] for r in responses}) == 1
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 1
        assert conn.execute(select(func.count()).select_from(message_events)).scalar_one() == 1
    assert [i for _, batch in queued for i in batch] == [responses[0].json["id"]]


def a_stored_row(client, auth, ctx) -> dict:
    response = client.post("/v1/messages", json=message_body(), headers=auth)
    with ctx.engine.connect() as conn:
        row = conn.execute(select(messages).where(messages.c.id == response.json["id"])).mappings().one()
    return {k: v for k, v in row.items() if k not in ("created_at", "updated_at")}


def record(owner: str, key: str, now) -> dict:
    return {
        "owner": owner,
        "key": key,
        "request_hash": "h",
        "status_code": 202,
        "response": {"key": key},
        "created_at": now,
    }


def test_one_batch_stores_the_good_rows_and_answers_twins_and_a_bad_row_on_their_own(
    client, auth, ctx
) -> None:
    template = a_stored_row(client, auth, ctx)
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        conn.execute(idempotency_keys.insert().values(record("booking-system", "old", now)))
    queued = recording(ctx)

    def entry(key=None, **changes):
        row = {**template, "id": str(uuid.uuid4()), **changes}
        return intake.Entry(row, now, record("booking-system", key, now) if key else None)

    good, first, twin, seen_before = entry(), entry("new"), entry("new"), entry("old")
    bad = entry(owner=None)  # violates NOT NULL: only this request fails
    intake.IntakeWriter(ctx).write([good, first, bad, twin, seen_before])

    assert (good.stored, first.stored, twin.stored, seen_before.stored) == (True, True, False, False)
    assert bad.error is not None and bad.stored is None
    assert all(e.wake.is_set() for e in (good, first, twin, seen_before, bad))
    with ctx.engine.connect() as conn:
        ids = set(conn.execute(select(messages.c.id)).scalars())
        evented = set(conn.execute(select(message_events.c.message_id)).scalars())
    assert ids == evented == {template["id"], good.row["id"], first.row["id"]}
    assert sorted(i for _, batch in queued for i in batch) == sorted([good.row["id"], first.row["id"]])


def test_a_single_insert_refuses_a_stored_idempotency_key_and_stores_nothing(client, auth, ctx) -> None:
    row = {**a_stored_row(client, auth, ctx), "id": str(uuid.uuid4())}
    now = ctx.clock()
    assert repo.insert_one(ctx.engine, row, now, record("booking-system", "k", now)) is True
    again = {**row, "id": str(uuid.uuid4())}
    assert repo.insert_one(ctx.engine, again, now, record("booking-system", "k", now)) is False
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 2
        assert conn.execute(select(func.count()).select_from(message_events)).scalar_one() == 2


def test_sqlite_batches_keep_the_first_of_twins_too(tmp_path, client, auth, ctx) -> None:
    template = a_stored_row(client, auth, ctx)
    engine = make_engine(f"sqlite:///{tmp_path / 'intake.sqlite'}")
    upgrade(engine)
    now = ctx.clock()
    rows = [{**template, "id": str(uuid.uuid4())} for _ in range(3)]
    twin = record("o", "k", now)
    items = [(rows[0], now, twin), (rows[1], now, dict(twin)), (rows[2], now, None)]
    with engine.begin() as conn:
        assert repo.insert_accepted(conn, items) == [True, False, True]
    with engine.connect() as conn:
        assert set(conn.execute(select(messages.c.id)).scalars()) == {rows[0]["id"], rows[2]["id"]}
    engine.dispose()


# ---- the lookups ------------------------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_a_revoked_key_is_refused_once_the_lookup_ttl_has_passed(client, ctx, make_key) -> None:
    clock = Clock()
    ctx.lookups = Lookups(5, timer=clock)
    key = make_key("send")
    headers = {"Authorization": f"Bearer {key}"}
    assert client.get("/v1/messages", headers=headers).status_code == 200
    with ctx.engine.begin() as conn:
        assert keys.revoke(conn, key.split("_")[1], ctx.clock())
    clock.now += 5.1
    assert client.get("/v1/messages", headers=headers).status_code == 401


def test_a_template_saved_in_this_process_is_used_by_the_next_message(client, auth, ctx) -> None:
    first = client.post("/v1/messages", json=message_body(), headers=auth).json
    current = template_library.find(ctx, "appointment_confirmation")
    assert current is not None
    sources = {locale: dict(parts) for locale, parts in current.sources.items()}
    part = next(name for name in sources["ko"] if name.startswith("sms"))
    sources["ko"][part] = sources["ko"][part].replace("{{ center.name }}", "[{{ center.name }}]", 1)
    template_library.save_template(
        ctx, current.key, current.spec, sources, template_library.Author("test", "test", admin=True)
    )
    second = client.post("/v1/messages", json=message_body(), headers=auth).json
    assert second["template"]["version"] == first["template"]["version"] + 1


def test_a_centre_loaded_in_this_process_registers_its_sender_at_once(client, auth, ctx) -> None:
    body = message_body(center={"name": "새 센터", "phone": "02-2004-7301", "sms_sender": "02-2004-7301"})
    refused = client.post("/v1/messages", json=body, headers=auth)
    assert refused.status_code == 422
    new = centers.CenterRecord(code="new", name="새 센터", phone="02-2004-7301", sms_sender="02-2004-7301")
    centers.load(ctx, [new])
    assert client.post("/v1/messages", json=body, headers=auth).status_code == 202


# ---- connections ------------------------------------------------------------------------


def test_a_connection_closed_while_idle_is_replaced_before_use(database_url) -> None:
    engine = make_engine(database_url, pool_size=1, max_overflow=0)
    ping_when_idle(engine, idle_seconds=0)  # a second listener that pings on every checkout
    with engine.connect() as conn:
        pid = conn.execute(text("SELECT pg_backend_pid()")).scalar_one()
    admin_url = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
    with engine.connect() as conn:  # the dead connection is found and replaced: no error
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar_one() != pid
    engine.dispose()


# ---- gathering a batch ------------------------------------------------------------------


def test_a_writer_waits_for_requests_still_being_prepared_and_writes_them_together(client, auth, ctx) -> None:
    template = a_stored_row(client, auth, ctx)
    queued = recording(ctx)
    writer = intake.IntakeWriter(ctx, gather_seconds=10)
    rows = [{**template, "id": str(uuid.uuid4())} for _ in range(2)]
    both_coming = threading.Barrier(2)

    def request(row):
        with writer.coming():
            both_coming.wait()  # both are announced before either stores
            return writer.store(row, ctx.clock(), None)

    started = time.monotonic()
    with ThreadPoolExecutor(2) as pool:
        assert list(pool.map(request, rows)) == [True, True]
    assert time.monotonic() - started < 5  # the writer stopped waiting when the other arrived
    assert [sorted(ids) for _, ids in queued] == [sorted(r["id"] for r in rows)]  # one batch, one ring


def test_a_request_that_stores_nothing_does_not_hold_up_the_writer(client, auth, ctx) -> None:
    row = {**a_stored_row(client, auth, ctx), "id": str(uuid.uuid4())}
    writer = intake.IntakeWriter(ctx, gather_seconds=10)
    refused = threading.Event()
    release = threading.Event()

    def refused_request():
        with writer.coming():
            release.wait(10)  # validation finds a problem here: a 422, nothing stored
        refused.set()

    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(refused_request)
        wait_for(lambda: writer._coming == 1, what="the refused request announced")
        release.set()
        started = time.monotonic()
        with writer.coming():
            assert writer.store(row, ctx.clock(), None) is True
        pending.result()
    assert refused.is_set() and time.monotonic() - started < 5


def test_a_shared_write_keeps_the_first_of_each_key_in_one_transaction(client, auth, ctx) -> None:
    template = a_stored_row(client, auth, ctx)
    now = ctx.clock()
    with ctx.engine.begin() as conn:
        conn.execute(idempotency_keys.insert().values(record("booking-system", "old", now)))
    queued = recording(ctx)

    def entry(key=None, request_hash="h"):
        row = {**template, "id": str(uuid.uuid4())}
        found = {**record("booking-system", key, now), "request_hash": request_hash} if key else None
        return intake.Entry(row, now, found)

    batch = [entry("k1"), entry("k1"), entry("old"), entry("k2", "a"), entry("k2", "b"), entry()]
    intake.IntakeWriter(ctx).write(batch)
    assert [e.stored for e in batch] == [True, False, False, True, False, True]
    assert all(e.error is None for e in batch)
    with ctx.engine.connect() as conn:
        kept = conn.execute(
            select(idempotency_keys.c.request_hash).where(idempotency_keys.c.key == "k2")
        ).scalar_one()
    assert kept == "a"  # the first of the batch with that key; the other is answered a 422
    assert sorted(i for _, ids in queued for i in ids) == sorted(e.row["id"] for e in batch if e.stored)


def test_a_shared_write_that_committed_unseen_counts_its_rows_as_stored(client, auth, ctx) -> None:
    template = a_stored_row(client, auth, ctx)
    now = ctx.clock()
    batch = [intake.Entry({**template, "id": str(uuid.uuid4())}, now) for _ in range(2)]
    with ctx.engine.begin() as conn:  # as if the batch's COMMIT went through but its answer was lost
        repo.insert_accepted(conn, [(e.row, e.now, None) for e in batch])
    queued = recording(ctx)
    intake.IntakeWriter(ctx).write(batch)  # the retry finds its own rows
    assert [(e.stored, e.error) for e in batch] == [(True, None), (True, None)]
    assert sorted(i for _, ids in queued for i in ids) == sorted(e.row["id"] for e in batch)
    with ctx.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(messages)).scalar_one() == 3


def test_only_a_duplicate_key_counts_as_an_idempotency_conflict(client, auth, ctx) -> None:
    row = {**a_stored_row(client, auth, ctx), "id": str(uuid.uuid4())}
    bad = {**row, "owner": None, "body": "idempotency_keys"}  # NOT NULL fails; the text misleads
    with pytest.raises(IntegrityError):
        repo.insert_one(ctx.engine, bad, ctx.clock(), record("booking-system", "k", ctx.clock()))


def test_a_copied_context_gets_its_own_writer(ctx) -> None:
    copy = replace(ctx, clock=ctx.clock)
    assert intake.writer(copy).ctx is copy and intake.writer(ctx).ctx is ctx
    assert intake.writer(ctx) is intake.writer(ctx)
