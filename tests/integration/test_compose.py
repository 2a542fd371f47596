"""docker-compose.yml and the Dockerfile describe the deployment the code expects.

Read as data (PyYAML), so no Docker is needed: every service is there with a pinned image and a
health check, the app services get exactly the environment variables the code reads, and the
workers between them consume every queue.
"""

from __future__ import annotations

import ast
import re
import shlex
from pathlib import Path
from typing import Any

import pytest
import yaml

from notifier.tasks import QUEUES

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"

APP_SERVICES = ("api", "worker-transactional", "worker-bulk", "scheduler", "migrate")
LONG_RUNNING_APP_SERVICES = ("api", "worker-transactional", "worker-bulk", "scheduler")
BACKING_SERVICES = ("redis", "postgres", "mailpit")
ONE_SHOT = "migrate"
PRODUCTION_VARIABLES = frozenset(
    {
        "NOTIFIER_DATABASE_URL",
        "NOTIFIER_BROKER_URL",
        "NOTIFIER_PUBLIC_URL",
        "NOTIFIER_SECRET_KEY",
        "NOTIFIER_SMTP_URL",
        "NOTIFIER_MAIL_FROM",
        "TWILIO_ACCOUNT_SID",
        "TWILIO_AUTH_TOKEN",
        "TWILIO_FROM",
    }
)
VARIABLE_NAME = re.compile(r"(?:NOTIFIER|TWILIO)_[A-Z0-9_]+")
# ${NAME}, ${NAME:-default}, ${NAME:?error}; $${...} is an escaped dollar, not interpolation.
INTERPOLATION = re.compile(r"(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)")


def variables_the_code_reads() -> set[str]:
    """Every NOTIFIER_*/TWILIO_* name that appears as a string literal in the package."""
    names = set()
    for path in (ROOT / "notifier").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            is_text = isinstance(node, ast.Constant) and isinstance(node.value, str)
            if is_text and VARIABLE_NAME.fullmatch(node.value):
                names.add(node.value)
    return names


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def environment_of(service: dict[str, Any]) -> dict[str, Any]:
    env = service.get("environment") or {}
    if isinstance(env, list):  # the KEY=value list form
        return dict(item.split("=", 1) if "=" in item else (item, None) for item in env)
    return dict(env)


def command_of(service: dict[str, Any]) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(part) for part in command]


def queues_of(service: dict[str, Any]) -> set[str]:
    args = command_of(service)
    for index, arg in enumerate(args):
        if arg == "--queues" and index + 1 < len(args):
            return set(args[index + 1].split(","))
        if arg.startswith("--queues="):
            return set(arg.removeprefix("--queues=").split(","))
    return set()


def is_pinned(image: str) -> bool:
    """True for ``name:tag`` with a tag other than latest, or an image pinned by digest."""
    if "@sha256:" in image:
        return True
    name, _, tag = image.rpartition(":")
    return bool(name) and "/" not in tag and tag not in ("", "latest")


def test_every_service_of_the_production_shape_is_defined(services: dict[str, Any]) -> None:
    assert set(services) >= {*APP_SERVICES, *BACKING_SERVICES}


def test_app_services_are_built_from_the_dockerfile(services: dict[str, Any]) -> None:
    for name in APP_SERVICES:
        build = services[name].get("build")
        assert build in (".", {"context": "."}), f"{name} is not built from ./Dockerfile"
        assert "image" not in services[name] or is_pinned(services[name]["image"]), name


def test_backing_service_images_are_pinned(services: dict[str, Any]) -> None:
    for name in BACKING_SERVICES:
        image = services[name]["image"]
        assert is_pinned(image), f"{name}: {image} is not pinned"


@pytest.mark.parametrize(
    ("image", "pinned"),
    [
        ("redis:7.4.2-alpine", True),
        ("redis", False),
        ("redis:latest", False),
        ("localhost:5000/redis", False),
        ("postgres@sha256:" + "0" * 64, True),
    ],
)
def test_pinned_means_a_tag_other_than_latest(image: str, pinned: bool) -> None:
    assert is_pinned(image) is pinned


def test_dockerfile_base_image_is_pinned() -> None:
    lines = DOCKERFILE.read_text().splitlines()
    bases = [line.split()[1] for line in lines if line.upper().startswith("FROM ")]
    assert bases, "the Dockerfile has no FROM line"
    for base in bases:
        assert is_pinned(base), f"Dockerfile base image {base} is not pinned"


def test_every_service_but_the_one_shot_migration_has_a_healthcheck(
    services: dict[str, Any],
) -> None:
    for name, service in services.items():
        if name == ONE_SHOT:
            continue
        check = service.get("healthcheck") or {}
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"


def test_services_start_only_after_the_migration_completed(services: dict[str, Any]) -> None:
    assert command_of(services[ONE_SHOT]) == ["notifier", "db", "upgrade"]
    assert services[ONE_SHOT].get("restart", "no") == "no"
    for name in LONG_RUNNING_APP_SERVICES:
        depends = services[name].get("depends_on") or {}
        assert depends.get(ONE_SHOT, {}).get("condition") == "service_completed_successfully", name


def test_compose_uses_only_environment_variables_the_code_reads(services: dict[str, Any]) -> None:
    known = variables_the_code_reads()
    used = set(INTERPOLATION.findall(COMPOSE.read_text()))
    for name in APP_SERVICES:
        used |= set(environment_of(services[name]))
    assert used - known == set(), "compose sets variables the code never reads"


def test_the_scan_finds_the_variables_settings_reads() -> None:
    assert variables_the_code_reads() >= PRODUCTION_VARIABLES


def test_app_services_get_every_variable_production_needs(services: dict[str, Any]) -> None:
    for name in LONG_RUNNING_APP_SERVICES:
        missing = PRODUCTION_VARIABLES - set(environment_of(services[name]))
        assert not missing, f"{name} lacks {sorted(missing)}"


def test_app_services_share_one_environment(services: dict[str, Any]) -> None:
    environments = [environment_of(services[name]) for name in APP_SERVICES]
    assert all(env == environments[0] for env in environments)


def test_workers_together_consume_every_queue(services: dict[str, Any]) -> None:
    workers = {name: s for name, s in services.items() if command_of(s)[:2] == ["notifier", "worker"]}
    assert set(workers) >= {"worker-transactional", "worker-bulk"}
    consumed = set().union(*(queues_of(worker) for worker in workers.values()))
    assert consumed >= set(QUEUES), f"no worker consumes {sorted(set(QUEUES) - consumed)}"
    assert queues_of(workers["worker-transactional"]) == {"transactional"}
    assert queues_of(workers["worker-bulk"]) == {"bulk"}
