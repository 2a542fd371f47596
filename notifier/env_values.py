"""Numbers and flags read from the environment: a value that cannot work is a ``ConfigError``
naming its variable, at start-up."""

from __future__ import annotations

from collections.abc import Mapping

from notifier.errors import ConfigError


def env_int(env: Mapping[str, str], name: str, default: int, *, minimum: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ConfigError(name, f"must be a whole number, got {raw!r}") from exc
    if value < minimum:
        raise ConfigError(name, f"must be at least {minimum}")
    return value


def env_float(
    env: Mapping[str, str], name: str, default: float, *, maximum: float, zero_ok: bool = False
) -> float:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = float(raw)
    except ValueError as exc:
        raise ConfigError(name, f"must be a number, got {raw!r}") from exc
    if not (value >= 0 if zero_ok else value > 0) or value > maximum:
        lowest = "0" if zero_ok else "above 0"
        raise ConfigError(name, f"must be {lowest} and at most {maximum:g}")
    return value


def env_flag(env: Mapping[str, str], name: str) -> bool:
    raw = env.get(name, "").strip().lower()
    if raw not in ("", "0", "false", "no", "1", "true", "yes"):
        raise ConfigError(name, f"must be true or false, got {raw!r}")
    return raw in ("1", "true", "yes")
