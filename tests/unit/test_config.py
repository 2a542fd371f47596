from datetime import timedelta

import pytest

from notifier.config import DEFAULT_SOLAPI_BASE_URL, Settings, SmtpSettings, SolapiSettings
from notifier.errors import ConfigError

BASE = {"NOTIFIER_SECRET_KEY": "x"}


def test_defaults_need_no_servers(tmp_path) -> None:
    settings = Settings.from_env({**BASE, "NOTIFIER_DATA_DIR": str(tmp_path)})
    assert settings.database_url == f"sqlite:///{tmp_path}/notifier.sqlite"
    assert settings.broker_is_embedded
    assert settings.sandbox
    assert settings.timezone.key == "Asia/Seoul"
    assert settings.reminder_offsets == (timedelta(hours=24), timedelta(hours=2))


def test_without_a_secret_one_is_made_and_kept_in_the_data_folder(tmp_path) -> None:
    first = Settings.from_env({"NOTIFIER_DATA_DIR": str(tmp_path)})
    second = Settings.from_env({"NOTIFIER_DATA_DIR": str(tmp_path)})
    assert first.secret_key == second.secret_key
    assert len(first.secret_key) >= 32


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("NOTIFIER_TIMEZONE", "Mars/Olympus"),
        ("NOTIFIER_DATABASE_URL", "mysql://x"),
        ("NOTIFIER_BROKER_URL", "kafka://x"),
        ("NOTIFIER_PUBLIC_URL", "example.org"),
        ("NOTIFIER_SMTP_URL", "http://mail.example.org"),
        ("NOTIFIER_REMINDER_OFFSETS", "24 parsecs"),
        ("NOTIFIER_QUIET_HOURS", "late"),
        ("NOTIFIER_MAX_ATTEMPTS", "zero"),
        ("NOTIFIER_SCHEDULER_INTERVAL", "60"),
        ("NOTIFIER_TWILIO_BASE_URL", "ftp://x"),
        ("NOTIFIER_LOOKUP_TTL_SECONDS", "-1"),
        ("NOTIFIER_LOOKUP_TTL_SECONDS", "61"),
        ("NOTIFIER_PUBLIC_OUTBOX", "maybe"),
        ("NOTIFIER_TRUSTED_PROXIES", "-1"),
    ],
)
def test_invalid_configuration_fails_naming_the_variable(variable: str, value: str) -> None:
    env = {**BASE, variable: value}
    if variable == "NOTIFIER_TWILIO_BASE_URL":
        env.update(TWILIO_ACCOUNT_SID="AC" + "0" * 32, TWILIO_AUTH_TOKEN="t", TWILIO_FROM="+82416615676")
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert error.value.variable == variable
    assert variable in str(error.value)


def test_lookup_ttl_may_be_zero_to_read_on_every_request() -> None:
    assert Settings.from_env({**BASE, "NOTIFIER_LOOKUP_TTL_SECONDS": "0"}).lookup_ttl_seconds == 0
    assert Settings.from_env(BASE).lookup_ttl_seconds == 5


def test_half_configured_twilio_is_refused() -> None:
    with pytest.raises(ConfigError, match="TWILIO_AUTH_TOKEN"):
        Settings.from_env({**BASE, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32})
    with pytest.raises(ConfigError, match="TWILIO_FROM"):
        Settings.from_env({**BASE, "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t"})


def test_solapi_is_unset_by_default() -> None:
    assert Settings.from_env(BASE).solapi is None


def test_solapi_key_and_secret_configure_the_domestic_gateway() -> None:
    settings = Settings.from_env({**BASE, "SOLAPI_API_KEY": "NCS1", "SOLAPI_API_SECRET": "s3cret"})
    assert settings.solapi == SolapiSettings("NCS1", "s3cret", DEFAULT_SOLAPI_BASE_URL)
    assert not settings.sandbox
    assert "s3cret" not in repr(settings)


def test_solapi_base_url_points_the_sdk_elsewhere_without_a_trailing_slash() -> None:
    env = {
        **BASE,
        "SOLAPI_API_KEY": "k",
        "SOLAPI_API_SECRET": "s",
        "NOTIFIER_SOLAPI_BASE_URL": "http://127.0.0.1:8929/",
    }
    solapi = Settings.from_env(env).solapi
    assert solapi is not None
    assert solapi.base_url == "http://127.0.0.1:8929"


@pytest.mark.parametrize(
    ("present", "missing"),
    [("SOLAPI_API_KEY", "SOLAPI_API_SECRET"), ("SOLAPI_API_SECRET", "SOLAPI_API_KEY")],
)
def test_half_configured_solapi_is_refused_naming_the_missing_variable(present: str, missing: str) -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, present: "x"})
    assert error.value.variable == missing


def test_a_solapi_webhook_secret_without_solapi_is_refused_naming_the_missing_key() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, "NOTIFIER_SOLAPI_WEBHOOK_SECRET": "w" * 32})
    assert error.value.variable == "SOLAPI_API_KEY"


@pytest.mark.parametrize("secret", ["short", "w" * 31, "has/a/slash" + "w" * 30, "w" * 129])
def test_a_solapi_webhook_secret_must_be_a_long_path_segment(secret: str) -> None:
    env = {**BASE, "SOLAPI_API_KEY": "k", "SOLAPI_API_SECRET": "s", "NOTIFIER_SOLAPI_WEBHOOK_SECRET": secret}
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert error.value.variable == "NOTIFIER_SOLAPI_WEBHOOK_SECRET"


def test_solapi_base_url_must_be_http() -> None:
    env = {**BASE, "SOLAPI_API_KEY": "k", "SOLAPI_API_SECRET": "s", "NOTIFIER_SOLAPI_BASE_URL": "ftp://x"}
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env)
    assert error.value.variable == "NOTIFIER_SOLAPI_BASE_URL"


def test_postgres_urls_use_psycopg_3() -> None:
    settings = Settings.from_env({**BASE, "NOTIFIER_DATABASE_URL": "postgresql://u@h/db"})
    assert settings.database_url == "postgresql+psycopg://u@h/db"


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", SmtpSettings("mail.example.org", 25)),
        ("smtp://mail.example.org?timeout=3", SmtpSettings("mail.example.org", 25, timeout=3.0)),
        (
            "smtp://user%40x:p%3Ass@mail.example.org:587?starttls=true",
            SmtpSettings("mail.example.org", 587, "user@x", "p:ss", starttls=True),
        ),
        ("smtps://u:p@mail.example.org", SmtpSettings("mail.example.org", 465, "u", "p", implicit_tls=True)),
    ],
)
def test_smtp_url_forms(url: str, expected: SmtpSettings) -> None:
    assert SmtpSettings.parse(url) == expected


def test_smtp_url_refuses_both_tls_modes_and_unknown_options() -> None:
    with pytest.raises(ConfigError, match="either"):
        SmtpSettings.parse("smtps://h?starttls=true")
    with pytest.raises(ConfigError, match="unknown option"):
        SmtpSettings.parse("smtp://h?tls=yes")


def test_smtp_credentials_smtplib_cannot_send_are_refused_at_start_up() -> None:
    with pytest.raises(ConfigError, match="ASCII"):
        SmtpSettings.parse("smtp://mailer:%EB%B9%84%EB%B0%80@mail.example.org")


def test_recovery_cannot_be_set_to_act_while_a_provider_call_may_still_run() -> None:
    with pytest.raises(ConfigError) as error:
        Settings.from_env({**BASE, "NOTIFIER_STUCK_AFTER_SECONDS": "20"})  # provider timeout 10 s
    assert error.value.variable == "NOTIFIER_STUCK_AFTER_SECONDS"
    fast = Settings.from_env(
        {**BASE, "NOTIFIER_STUCK_AFTER_SECONDS": "1", "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "0.3"}
    )
    assert fast.provider_timeout == 0.3
    with pytest.raises(ConfigError, match="NOTIFIER_STUCK_AFTER_SECONDS"):
        Settings.from_env(
            {
                **BASE,
                "NOTIFIER_STUCK_AFTER_SECONDS": "1",
                "NOTIFIER_PROVIDER_TIMEOUT_SECONDS": "0.3",
                "NOTIFIER_SMTP_URL": "smtp://mail.example.org?timeout=30",
            }
        )


def test_the_outbox_keeps_each_channel_that_has_no_provider() -> None:
    smtp = {"NOTIFIER_SMTP_URL": "smtp://mail.example.org"}
    solapi = {"SOLAPI_API_KEY": "k", "SOLAPI_API_SECRET": "s"}
    assert Settings.from_env(BASE).outbox_channels == ("sms", "email")
    assert Settings.from_env({**BASE, **smtp}).outbox_channels == ("sms",)
    assert Settings.from_env({**BASE, **solapi}).outbox_channels == ("email",)
    assert Settings.from_env({**BASE, **smtp, **solapi}).outbox_channels == ()


def test_the_outbox_is_public_in_a_trial_and_otherwise_only_where_staging_says_so() -> None:
    smtp = {"NOTIFIER_SMTP_URL": "smtp://mail.example.org"}
    solapi = {"SOLAPI_API_KEY": "k", "SOLAPI_API_SECRET": "s"}
    staging = {"NOTIFIER_PUBLIC_OUTBOX": "true"}
    assert Settings.from_env(BASE).outbox_shown  # nothing configured: a trial
    # A provider for SMS: the emails kept are real people's.
    assert not Settings.from_env({**BASE, **solapi}).outbox_shown
    assert not Settings.from_env({**BASE, **smtp}).outbox_shown
    assert Settings.from_env({**BASE, **solapi, **staging}).outbox_shown
    # Every channel has a provider: nothing is kept, nothing to show.
    assert not Settings.from_env({**BASE, **smtp, **solapi, **staging}).outbox_shown
