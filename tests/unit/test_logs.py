import io
import json
import logging

from notifier.logs import MaskingJsonFormatter


def log_line(message: str, *args: object, **extra: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(MaskingJsonFormatter())
    logger = logging.getLogger("test.masking")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args, extra=extra)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


def test_phone_numbers_and_emails_are_masked_in_message_args_and_fields() -> None:
    line = log_line(
        "sending to %s and %s",
        "010-1234-5678",
        "hong@example.com",
        to="+821098765432",
        body="연락처 01055556666",
    )
    entry = json.loads(line)
    for secret in ("1234-5678", "hong@", "98765432", "55556666"):
        assert secret not in line
    assert "5678" in entry["msg"]
    assert entry["level"] == "warning"


def test_masking_leaves_ids_and_numbers_alone() -> None:
    line = log_line("message 3f1c2a9e-1b2c-4d5e-8f90-123456789abc took 12.5ms, status 503")
    assert "3f1c2a9e-1b2c-4d5e-8f90-123456789abc" in line
    assert "status 503" in line


def test_request_log_names_the_route_never_the_link_token(caplog) -> None:
    from flask import Flask

    from notifier.api import request_log

    app = Flask(__name__)
    request_log.register(app)

    @app.get("/a/<token>")
    def page(token: str) -> str:
        return "ok"

    with caplog.at_level(logging.INFO, logger="notifier.http"):
        app.test_client().get("/a/secret-token-value?phone=01012345678")
    [record] = [r for r in caplog.records if r.name == "notifier.http"]
    line = MaskingJsonFormatter().format(record)
    assert '"route": "/a/<token>"' in line
    assert "secret-token-value" not in line
    assert "01012345678" not in line


def test_database_errors_do_not_carry_personal_data_into_logs(tmp_path) -> None:
    import pytest
    from sqlalchemy import text
    from sqlalchemy.exc import IntegrityError

    from notifier.storage.db import make_engine

    engine = make_engine(f"sqlite:///{tmp_path / 'x.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (phone TEXT UNIQUE)"))
        conn.execute(text("INSERT INTO t VALUES (:p)"), {"p": "+821012345678"})
    with pytest.raises(IntegrityError) as error, engine.begin() as conn:
        conn.execute(text("INSERT INTO t VALUES (:p)"), {"p": "+821012345678"})
    assert "12345678" not in str(error.value)
    engine.dispose()
