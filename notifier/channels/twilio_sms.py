"""SMS through the official twilio library."""

from __future__ import annotations

import threading
from datetime import datetime, timedelta

import requests
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError

from notifier.channels.base import Accepted, SmsRequest, provider_call
from notifier.config import TwilioSettings
from notifier.errors import UNKNOWN_OUTCOME, ProviderError

NAME = "twilio"
# Twilio error codes that no retry can fix.
PERMANENT_CODES = {21211, 21610, 21614, 21408, 21612, 21617, 21602, 21604, 21606, 30003, 30005, 30006}
RATE_LIMITED_CODES = {20429, 14107}


def classify(exc: Exception) -> ProviderError:
    """Sort Twilio failures into retry-later and give-up."""
    if isinstance(exc, TwilioRestException):
        code = int(exc.code) if exc.code is not None else None
        status = int(exc.status)
        retryable = status >= 500 or status == 429 or code in RATE_LIMITED_CODES
        if code in PERMANENT_CODES:
            retryable = False
        label = str(code) if code is not None else f"http_{status}"
        return ProviderError(retryable, label, str(exc.msg), NAME, status)
    reason = str(exc) or type(exc).__name__
    if never_reached_twilio(exc):
        return ProviderError(True, "network", reason, NAME)
    if isinstance(exc, requests.RequestException | TwilioException | OSError):
        # Sent, but no answer: Twilio may have taken it. Recovery asks before resending.
        return ProviderError(False, UNKNOWN_OUTCOME, reason, NAME)
    return ProviderError(False, "twilio_error", reason, NAME)


def never_reached_twilio(exc: Exception) -> bool:
    """True only when the request cannot have been sent: no connection was ever made."""
    if isinstance(exc, requests.ConnectTimeout):
        return True
    if isinstance(exc, requests.ConnectionError):
        reason = getattr(exc.args[0], "reason", None) if exc.args else None
        return isinstance(reason, NewConnectionError | ConnectTimeoutError)
    return False


class TwilioSender:
    """Send through one twilio ``Client`` per thread.

    A worker runs many threads. One shared client would hand them a connection pool smaller
    than their number (each surplus request opens and drops a connection, with a TLS handshake
    in production), and its HTTP client keeps each answer on itself before returning it.
    """

    name = NAME

    def __init__(self, settings: TwilioSettings, timeout: float = 10.0) -> None:
        self.settings = settings
        self.timeout = timeout
        self._local = threading.local()
        # Load the library's lazily imported modules now, not inside the first send.
        _ = self.client.messages

    @property
    def client(self) -> Client:
        """This thread's client, made on first use."""
        client: Client | None = getattr(self._local, "client", None)
        if client is None:
            from twilio.http.http_client import TwilioHttpClient

            client = Client(
                self.settings.account_sid,
                self.settings.auth_token,
                http_client=TwilioHttpClient(timeout=self.timeout),
            )
            # The seam that lets regional deployments and tests point the real client elsewhere.
            client.api.base_url = self.settings.base_url
            self._local.client = client
        return client

    def send(self, request: SmsRequest) -> Accepted:
        def call() -> Accepted:
            params = {"to": request.to, "from_": request.sender, "body": request.body}
            if request.status_callback:
                params["status_callback"] = request.status_callback
            created = self.client.messages.create(**params)
            return Accepted(NAME, str(created.sid), extra={"status": str(created.status)})

        return provider_call(NAME, "messages.create", request.message_id, call, classify)

    def find_sent(self, request: SmsRequest, since: datetime) -> str | None:
        def call() -> str | None:
            # Not filtered by DateSent: Twilio leaves it empty while a message waits in its queue.
            listed = self.client.messages.list(to=request.to, from_=request.sender, limit=50)
            for item in listed:
                created = item.date_created
                if item.body == request.body and (created is None or created >= since - timedelta(minutes=1)):
                    return str(item.sid)
            return None

        return provider_call(NAME, "messages.list", request.message_id, call, classify)
