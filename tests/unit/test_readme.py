"""The README's two commands are the ones CI and newcomers actually run."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = text.split("```sh\n")[1:]
    return [block.split("\n```", 1)[0].strip() for block in blocks]


def test_the_readme_shows_exactly_two_commands_run_then_test() -> None:
    run, test = commands()
    assert run.endswith("notifier dev")
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim() -> None:
    _, test = commands()
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci


def test_every_setting_the_code_reads_is_documented() -> None:
    import re

    source = "\n".join(p.read_text(encoding="utf-8") for p in (ROOT / "notifier").rglob("*.py"))
    read = set(re.findall(r'"((?:NOTIFIER|TWILIO|SOLAPI)_[A-Z_]+)"', source)) - {"NOTIFIER_BENCH_ENDPOINTS"}
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert {name for name in read if f"`{name}`" not in readme} == set()
