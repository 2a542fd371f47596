"""The ways people start the service: the README's run command, ``celery -A worker worker``,
and a RabbitMQ broker instead of Redis."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import uuid

import pytest
import requests

from notifier import bootstrap, create_app
from notifier.config import Settings
from notifier.tasks import create_celery, worker_context
from tests.conftest import ROOT, free_port, wait_for
from tests.factories import message_body

pytestmark = pytest.mark.slow


def test_the_readme_run_command_serves_and_sends_to_the_outbox(tmp_path) -> None:
    """`notifier dev` with nothing configured: SQLite, the embedded broker, the sandbox outbox."""
    port = free_port()
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "TWILIO_"))}
    log = tmp_path / "dev.log"
    with log.open("wb") as out:
        dev = subprocess.Popen(
            [sys.executable, "-m", "notifier", "dev", "--port", str(port)],
            cwd=tmp_path,
            env=clean_env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        printed = wait_for(
            lambda: re.search(r"demo API key \(admin\): (\S+)", log.read_text()), 60, what="the key"
        )
        key = printed.group(1)
        body = re.search(r"-d '(.+)'", log.read_text()).group(1)
        url = f"http://127.0.0.1:{port}"
        assert f"{url}/outbox" in log.read_text()
        # Five processes import and start at once on this machine's two cores: the first answer
        # may take several seconds, so the post waits for the service to be ready, then long.
        wait_for(lambda: _ready(url), 60, what="the service to be ready")
        answer = _post(url, key, body, timeout=60)
        assert answer is not None
        assert answer.status_code == 202, answer.text
        message_id = answer.json()["id"]
        outbox = wait_for(
            lambda: message_id in (page := requests.get(f"{url}/outbox", timeout=5).text) and page,
            60,
            what="outbox",
        )
        assert "서산고용복지+센터" in outbox
        shown = requests.get(
            f"{url}/v1/messages/{message_id}", headers={"Authorization": f"Bearer {key}"}, timeout=5
        ).json()
        assert (shown["status"], shown["sandboxed"]) == ("sent", True)
        assert (tmp_path / "instance" / "notifier.sqlite").exists()
    finally:
        os.killpg(dev.pid, signal.SIGTERM)
        dev.wait(timeout=30)
    wait_for(lambda: _refused(port), 10, what="the API to stop")


def test_the_served_app_keeps_its_start_up_objects_out_of_garbage_collection(tmp_path) -> None:
    """`notifier api` serves ``serve_app()``: a full collection must not walk every import again."""
    clean_env = {k: v for k, v in os.environ.items() if not k.startswith(("NOTIFIER_", "TWILIO_"))}
    script = "import gc; from notifier import serve_app; serve_app(); print(gc.get_freeze_count())"
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=tmp_path,
        env={**clean_env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert int(done.stdout.split()[-1]) > 50_000


def _ready(url: str) -> bool:
    try:
        return requests.get(f"{url}/readyz", timeout=30).status_code == 200
    except requests.RequestException:
        return False


def _post(url: str, key: str, body: str, timeout: float = 5) -> requests.Response | None:
    try:
        return requests.post(
            f"{url}/v1/messages",
            data=body.encode(),
            timeout=timeout,
            headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
        )
    except requests.ConnectionError:
        return None


def _refused(port: int) -> bool:
    try:
        requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
    except requests.ConnectionError:
        return True
    return False


def test_celery_dash_a_worker_works(env, client, auth, twilio, tmp_path) -> None:
    log = tmp_path / "celery.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "worker",
                "worker",
                "-Q",
                "transactional",
                "-P",
                "threads",
                "-c",
                "1",
                "--without-gossip",
                "--without-mingle",
                "-l",
                "INFO",
            ],
            cwd=ROOT,
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        wait_for(lambda: "ready." in log.read_text(), 30, what="celery ready")
        wait_for(lambda: "worker warmed up" in log.read_text(), 30, what="the context built before any task")
        assert client.post("/v1/messages", json=message_body(), headers=auth).status_code == 202
        assert len(twilio.wait_for_messages(1, timeout=20)) == 1
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)


@pytest.mark.parametrize(("pool", "processes_running_tasks"), [("threads", 1), ("solo", 1), ("prefork", 2)])
def test_a_worker_is_warm_before_its_first_task(clean_db, processes, pool, processes_running_tasks) -> None:
    """Each process that runs tasks builds its context and connects at start, not on the first message."""
    worker = processes("worker", "--queues", "transactional", "--pool", pool, "--concurrency", "2")
    wait_for(
        lambda: worker.output().count("worker warmed up") == processes_running_tasks,
        30,
        what=f"{processes_running_tasks} warm process(es)",
    )
    assert "Traceback" not in worker.output()


def test_a_worker_whose_database_is_down_at_start_still_runs(clean_db, processes) -> None:
    """The warm-up fails and says so; the prefork children are not lost over it."""
    down = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/nowhere"
    worker = processes(
        "worker",
        "--queues",
        "transactional",
        "--pool",
        "prefork",
        "--concurrency",
        "2",
        extra_env={"NOTIFIER_DATABASE_URL": down},
    )
    wait_for(lambda: worker.output().count("worker warm-up failed") == 2, 30, what="two failed warm-ups")
    assert worker.proc.poll() is None
    assert "WorkerLostError" not in worker.output()


def test_threads_that_start_together_share_one_worker_context(settings) -> None:
    app = create_celery(settings)
    start = threading.Barrier(8)
    contexts: list[object] = []

    def first_task() -> None:
        start.wait(timeout=10)
        contexts.append(worker_context(app))

    threads = [threading.Thread(target=first_task) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(contexts) == 8
    assert all(ctx is contexts[0] for ctx in contexts)


@pytest.fixture
def rabbitmq_vhost():
    """A throwaway RabbitMQ virtual host, so runs cannot disturb each other."""
    ctl = shutil.which("rabbitmqctl")
    assert ctl, "RabbitMQ is part of this machine; .ci/run starts it"
    vhost = f"notifier-test-{uuid.uuid4().hex[:8]}"
    subprocess.run([ctl, "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        [ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"], check=True, capture_output=True
    )
    yield f"amqp://guest:guest@127.0.0.1:5672/{vhost}"
    subprocess.run([ctl, "delete_vhost", vhost], check=True, capture_output=True)


def test_a_rabbitmq_broker_works_too(env, clean_db, processes, twilio, rabbitmq_vhost, make_key) -> None:
    settings = Settings.from_env({**env, "NOTIFIER_BROKER_URL": rabbitmq_vhost})
    ctx = bootstrap.build(settings, engine=clean_db)
    app = create_app(ctx=ctx)
    processes("worker", "--queues", "transactional", extra_env={"NOTIFIER_BROKER_URL": rabbitmq_vhost})
    headers = {"Authorization": f"Bearer {make_key('send')}"}
    response = app.test_client().post("/v1/messages", json=message_body(), headers=headers)
    assert response.status_code == 202
    assert len(twilio.wait_for_messages(1, timeout=20)) == 1
    assert app.test_client().get("/readyz").json["checks"]["broker"] == "ok"


def test_readyz_says_which_dependency_is_down(settings, clean_db) -> None:
    broken = settings.with_overrides(broker_url="redis://127.0.0.1:1/0")
    app = create_app(ctx=bootstrap.build(broken, engine=clean_db))
    response = app.test_client().get("/readyz")
    assert response.status_code == 503
    assert response.mimetype == "application/problem+json"
    assert response.json["checks"]["database"] == "ok"
    assert response.json["checks"]["broker"].startswith("unreachable")
