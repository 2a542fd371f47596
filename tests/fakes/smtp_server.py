"""A real SMTP server on loopback, for tests and benchmarks.

Built on aiosmtpd, so ``smtplib`` (and the project's email channel) talks to it over TCP::

    with FakeSmtp(tls="starttls", auth=("notifier", "s3cret")) as fake:
        with smtplib.SMTP(fake.host, fake.port) as smtp:
            smtp.starttls(context=fake.ssl_context_for_clients())
            smtp.login("notifier", "s3cret")
            smtp.send_message(message)
        [mail] = fake.wait_for_messages(1)

Scripted behaviours: ``refuse_recipient``, ``fail_next`` (a reply code at MAIL, RCPT or DATA),
``drop_next`` (connection closed after DATA, before the reply) and ``latency``.

Standalone, for benchmarks (plain, no auth; serves until SIGTERM, prints its URL on stdout)::

    python -m tests.fakes.smtp_server --port 2525 --latency-ms 50
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import hmac
import signal
import ssl
import threading
from collections import deque
from dataclasses import dataclass
from email.message import EmailMessage
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import quote

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

Tls = Literal["none", "starttls", "implicit"]
Stage = Literal["mail", "rcpt", "data"]

HOST = "127.0.0.1"
AUTH_REQUIRED = "530 5.7.0 Authentication required"
DEFAULT_FAILURE_TEXT = {4: "4.3.0 Try again later", 5: "5.3.0 Requested action not taken"}


@dataclass(frozen=True)
class ReceivedMail:
    """One mail the fake accepted."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    message: EmailMessage
    login: str | None  # the user that authenticated, if any
    connection: int  # which connection (1, 2, ...) carried it


class FakeSmtp:
    """Serve SMTP on 127.0.0.1 from aiosmtpd's background event loop."""

    def __init__(
        self,
        *,
        tls: Tls = "none",
        auth: tuple[str, str] | None = None,
        latency: float = 0.0,
        port: int = 0,
    ) -> None:
        if tls not in ("none", "starttls", "implicit"):
            raise ValueError(f"tls must be 'none', 'starttls' or 'implicit', not {tls!r}")
        self.host = HOST
        self.tls = tls
        self.auth = auth
        self.latency = latency
        self._requested_port = port
        self._changed = threading.Condition()  # guards the records and scripts below
        self._messages: list[ReceivedMail] = []
        self._connections = 0
        self._refusals: dict[str, str] = {}
        self._failures: dict[str, deque[str]] = {"mail": deque(), "rcpt": deque(), "data": deque()}
        self._drops = 0
        self._ca: trustme.CA | None = None
        self._controller: _Controller | None = None

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> Self:
        """Generate certificates if needed, bind a free port and serve."""
        if self._controller is not None:
            raise RuntimeError("FakeSmtp is already running")
        server_context = None
        if self.tls != "none":
            self._ca = trustme.CA()
            server_context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            self._ca.issue_cert(HOST, "localhost").configure_cert(server_context)
        starttls = {"tls_context": server_context, "require_starttls": True}
        controller = _Controller(
            self,
            hostname=HOST,
            port=self._requested_port,
            ssl_context=server_context if self.tls == "implicit" else None,
            server_hostname="localhost",  # spares a getfqdn() lookup per connection
            ident="FakeSmtp",
            authenticator=self._authenticate,
            # aiosmtpd counts only STARTTLS as encryption: demanding it for AUTH would
            # refuse AUTH on an implicit-TLS connection. AUTH before MAIL is enforced in
            # handle_MAIL, not with auth_required=, which warns when TLS is not required.
            auth_require_tls=self.tls == "starttls",
            **(starttls if self.tls == "starttls" else {}),
        )
        controller.start()
        self._controller = controller
        with self._changed:
            self._connections = 0  # forget the probe Controller.start() makes
        return self

    def stop(self) -> None:
        """Close client connections and stop the server thread."""
        controller = self._controller
        if controller is None:
            return
        # Controller.stop() ends the loop without closing client connections; their
        # transports would then be finalised by the GC with a ResourceWarning.
        asyncio.run_coroutine_threadsafe(controller.close_connections(), controller.loop).result(timeout=5)
        controller.stop()
        self._controller = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """Return the port the server listens on."""
        if self._controller is None:
            raise RuntimeError("FakeSmtp is not running")
        return int(self._controller.port)

    @property
    def url(self) -> str:
        """Return the notifier config URL: smtp[s]://user:pass@host:port[?starttls=true]."""
        scheme = "smtps" if self.tls == "implicit" else "smtp"
        userinfo = ""
        if self.auth is not None:
            user, password = self.auth
            userinfo = f"{quote(user, safe='')}:{quote(password, safe='')}@"
        query = "?starttls=true" if self.tls == "starttls" else ""
        return f"{scheme}://{userinfo}{self.host}:{self.port}{query}"

    def ssl_context_for_clients(self) -> ssl.SSLContext:
        """Return a client context that trusts this server's certificate."""
        context = ssl.create_default_context()
        self._require_ca().configure_trust(context)
        return context

    def ca_pem(self) -> bytes:
        """Return the CA certificate in PEM, for clients in other processes."""
        return self._require_ca().cert_pem.bytes()

    def _require_ca(self) -> trustme.CA:
        if self._ca is None:
            raise RuntimeError("a FakeSmtp with tls='none' (or not started) has no certificate")
        return self._ca

    # -- scripting -------------------------------------------------------------------------

    def refuse_recipient(self, address: str, code: int = 550, message: str = "5.1.1 User unknown") -> None:
        """Answer every RCPT TO ``address`` with ``code`` and ``message``."""
        with self._changed:
            self._refusals[address.lower()] = f"{code} {message}"

    def fail_next(
        self, code: int = 451, times: int = 1, stage: Stage = "data", message: str | None = None
    ) -> None:
        """Answer the next ``times`` commands at ``stage`` (mail, rcpt, data) with ``code``."""
        if stage not in self._failures:
            raise ValueError(f"stage must be 'mail', 'rcpt' or 'data', not {stage!r}")
        reply = f"{code} {message or DEFAULT_FAILURE_TEXT.get(code // 100, 'Failed')}"
        with self._changed:
            self._failures[stage].extend([reply] * times)

    def drop_next(self, times: int = 1) -> None:
        """Close the connection after the next ``times`` DATA payloads, before replying."""
        with self._changed:
            self._drops += times

    def reset(self) -> None:
        """Forget records and scripts (latency stays)."""
        with self._changed:
            self._messages.clear()
            self._connections = 0
            self._refusals.clear()
            for queue in self._failures.values():
                queue.clear()
            self._drops = 0

    # -- records ---------------------------------------------------------------------------

    @property
    def messages(self) -> list[ReceivedMail]:
        """Return the accepted mails, oldest first."""
        with self._changed:
            return list(self._messages)

    @property
    def connections(self) -> int:
        """Return how many client connections were opened."""
        with self._changed:
            return self._connections

    def wait_for_messages(self, n: int, timeout: float = 5.0) -> list[ReceivedMail]:
        """Return the accepted mails once there are at least ``n``."""
        with self._changed:
            if not self._changed.wait_for(lambda: len(self._messages) >= n, timeout):
                raise TimeoutError(f"{len(self._messages)} of {n} mails after {timeout}s")
            return list(self._messages)

    # -- called on the server's event loop -------------------------------------------------

    def _connected(self) -> int:
        with self._changed:
            self._connections += 1
            return self._connections

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        if self.auth is None or not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        user, password = (part.encode() for part in self.auth)
        # Check both halves whatever the first says: no early exit to time.
        ok = hmac.compare_digest(auth_data.login, user) & hmac.compare_digest(auth_data.password, password)
        return AuthResult(success=ok, handled=False, auth_data=auth_data)

    def _refusal(self, address: str) -> str | None:
        with self._changed:
            return self._refusals.get(address.lower())

    def _next_failure(self, stage: Stage) -> str | None:
        with self._changed:
            queue = self._failures[stage]
            return queue.popleft() if queue else None

    def _take_drop(self) -> bool:
        with self._changed:
            if self._drops:
                self._drops -= 1
                return True
            return False

    def _record(self, envelope: Envelope, session: Session, connection: int) -> None:
        data = envelope.original_content or b""
        credentials = session.auth_data  # what _authenticate() accepted
        mail = ReceivedMail(
            mail_from=envelope.mail_from or "",
            rcpt_tos=list(envelope.rcpt_tos),
            data=data,
            message=email.message_from_bytes(data, policy=email.policy.default),
            login=credentials.login.decode() if isinstance(credentials, LoginPassword) else None,
            connection=connection,
        )
        with self._changed:
            self._messages.append(mail)
            self._changed.notify_all()


class _Handler:
    """aiosmtpd hooks; each decides one SMTP reply from the fake's script."""

    def __init__(self, fake: FakeSmtp) -> None:
        self._fake = fake

    async def handle_EHLO(
        self,
        server: SMTP,
        session: Session,
        envelope: Envelope,
        hostname: str,
        responses: list[str],
    ) -> list[str]:
        session.host_name = hostname
        if self._fake.auth is None:  # a server without accounts does not offer AUTH
            return [line for line in responses if not line.startswith("250-AUTH")]
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._fake.auth is not None and not session.authenticated:
            return AUTH_REQUIRED
        failure = self._fake._next_failure("mail")
        if failure is not None:
            return failure
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        refusal = self._fake._refusal(address) or self._fake._next_failure("rcpt")
        if refusal is not None:
            return refusal
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: _Connection, session: Session, envelope: Envelope) -> str:
        if self._fake._take_drop():
            assert server.transport is not None
            server.transport.close()
            await asyncio.Future()  # connection_lost() cancels this session's task
        if self._fake.latency:
            await asyncio.sleep(self._fake.latency)
        failure = self._fake._next_failure("data")
        if failure is not None:
            return failure
        self._fake._record(envelope, session, server.number)
        return "250 OK: queued"


class _Connection(SMTP):
    """aiosmtpd's protocol for one client connection: numbered, and closable on stop."""

    number = 0  # 0 until the client is connected (after the handshake, with implicit TLS)

    def __init__(self, handler: _Handler, *, controller: _Controller, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._controller = controller
        self.lost: asyncio.Future[None] = self.loop.create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        if not self.number:  # STARTTLS calls this again for the same client
            self.number = self._controller.opened(self)
        super().connection_made(transport)

    def connection_lost(self, error: Exception | None) -> None:
        super().connection_lost(error)
        self._controller.closed(self)


class _Controller(Controller):
    def __init__(self, fake: FakeSmtp, **kwargs: Any) -> None:
        super().__init__(_Handler(fake), **kwargs)
        self._fake = fake
        self._live: set[_Connection] = set()  # touched only on the loop thread

    def factory(self) -> _Connection:
        # Passing the loop spares aiosmtpd's get_event_loop() probe, which swaps the
        # process-wide warning filters from this thread.
        return _Connection(self.handler, controller=self, loop=self.loop, **self.SMTP_kwargs)

    def opened(self, connection: _Connection) -> int:
        self._live.add(connection)
        return self._fake._connected()

    def closed(self, connection: _Connection) -> None:
        self._live.discard(connection)
        if not connection.lost.done():
            connection.lost.set_result(None)

    def _trigger_server(self) -> None:
        # Bound to port 0: learn the real port before Controller.start() probes it.
        assert isinstance(self.server, asyncio.Server)
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()  # type: ignore[no-untyped-call]

    async def close_connections(self) -> None:
        live = list(self._live)
        for connection in live:
            if isinstance(connection.transport, asyncio.Transport):
                connection.transport.abort()
        await asyncio.wait_for(asyncio.gather(*(c.lost for c in live)), timeout=5)
        await asyncio.sleep(0)  # let the cancelled session tasks unwind


def main(argv: list[str] | None = None) -> None:
    """Serve a plain FakeSmtp until SIGTERM or SIGINT."""
    parser = argparse.ArgumentParser(prog="python -m tests.fakes.smtp_server")
    parser.add_argument("--port", type=int, default=2525)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    args = parser.parse_args(argv)
    # Block the signals before any thread starts, so only sigwait() below receives them.
    stop_signals = {signal.SIGTERM, signal.SIGINT}
    signal.pthread_sigmask(signal.SIG_BLOCK, stop_signals)
    with FakeSmtp(latency=args.latency_ms / 1000, port=args.port) as fake:
        print(fake.url, flush=True)
        signal.sigwait(stop_signals)


if __name__ == "__main__":
    main()
