"""Email over SMTP with smtplib: STARTTLS or implicit TLS, login, one connection per batch."""

from __future__ import annotations

import smtplib
import socket
import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY

from notifier.channels.base import Accepted, provider_call
from notifier.config import SmtpSettings
from notifier.errors import UNKNOWN_OUTCOME, ProviderError

NAME = "smtp"


def classify(exc: Exception) -> ProviderError:
    """Sort SMTP failures into retry-later and give-up."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        code = codes[0] if codes else 550
        reason = "; ".join(msg.decode(errors="replace") for _, msg in exc.recipients.values())
        return ProviderError(retryable=code < 500, code=f"smtp_{code}", message=reason, provider=NAME)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = (
            exc.smtp_error.decode(errors="replace")
            if isinstance(exc.smtp_error, bytes)
            else str(exc.smtp_error)
        )
        permanent = 500 <= exc.smtp_code < 600 and not isinstance(exc, smtplib.SMTPAuthenticationError)
        return ProviderError(
            retryable=not permanent, code=f"smtp_{exc.smtp_code}", message=text, provider=NAME
        )
    if isinstance(
        exc, smtplib.SMTPServerDisconnected | socket.timeout | TimeoutError | OSError | ssl.SSLError
    ):
        return ProviderError(
            retryable=True, code="network", message=str(exc) or type(exc).__name__, provider=NAME
        )
    return ProviderError(retryable=False, code="smtp_error", message=str(exc), provider=NAME)


class SmtpBatch:
    def __init__(self, connection: smtplib.SMTP) -> None:
        self.connection = connection

    def send(self, message_id: str, email: EmailMessage) -> Accepted:
        """Send in explicit steps, so a failure is known to come before or after the data."""

        def call() -> Accepted:
            connection = self.connection
            sender = email["From"].addresses[0].addr_spec
            recipient = email["To"].addresses[0].addr_spec
            code, reply = connection.mail(sender)
            if code != 250:
                connection.rset()
                raise smtplib.SMTPSenderRefused(code, reply, sender)
            code, reply = connection.rcpt(recipient)
            if code not in (250, 251):
                connection.rset()
                raise smtplib.SMTPRecipientsRefused({recipient: (code, reply)})
            try:
                code, reply = connection.data(email.as_bytes(policy=SMTP_POLICY))
            except (smtplib.SMTPServerDisconnected, OSError) as exc:
                # The server may have queued the mail before the line dropped.
                raise ProviderError(False, UNKNOWN_OUTCOME, str(exc) or type(exc).__name__, NAME) from exc
            if code != 250:
                raise smtplib.SMTPDataError(code, reply)
            return Accepted(NAME, str(email["Message-ID"]).strip("<>"))

        return provider_call(NAME, "send_email", message_id, call, classify)


class SmtpSender:
    name = NAME

    def __init__(self, settings: SmtpSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self.ssl_context = ssl_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        s = self.settings
        if s.implicit_tls:
            connection: smtplib.SMTP = smtplib.SMTP_SSL(
                s.host, s.port, timeout=s.timeout or 10.0, context=self.ssl_context
            )
        else:
            connection = smtplib.SMTP(s.host, s.port, timeout=s.timeout or 10.0)
        try:
            connection.ehlo()
            if s.starttls:
                connection.starttls(context=self.ssl_context)
                connection.ehlo()
            if s.username:
                connection.login(s.username, s.password or "")
        except BaseException:
            connection.close()
            raise
        return connection

    @contextmanager
    def batch(self) -> Iterator[SmtpBatch]:
        connection = provider_call(NAME, "connect", "-", self._connect, classify)
        try:
            yield SmtpBatch(connection)
        finally:
            try:
                connection.quit()
            except (smtplib.SMTPException, OSError):
                connection.close()
