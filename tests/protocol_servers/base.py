"""A small scriptable HTTP server on 127.0.0.1 that provider protocol servers build on.

Each provider server (OpenAI, Google Text-to-Speech, SendGrid) subclasses :class:`ProtocolServer`, implements
:meth:`ProtocolServer.handle` for the happy path and :meth:`ProtocolServer.error_reply` for its error shape, and
gets the rest from here:

* a ``ThreadingHTTPServer`` bound to ``127.0.0.1`` on an ephemeral port, served from a background thread
  (``start()`` / ``stop()`` / context manager, ``url``);
* a thread-safe log of every request (``requests``, ``wait_for_requests()``);
* a queue of scripted replies that take precedence over the default behaviour, one per incoming request, in order:
  ``respond_next()`` for an arbitrary reply, ``fail_next()`` for a provider-shaped error, ``drop_next()`` to close
  the connection without answering;
* a global ``delay`` (seconds before every reply) and a per-scripted-reply ``delay``, both cut short by ``stop()``;
* ``basic_credentials(request)`` for the servers whose API takes HTTP Basic (the HR vendors').

Scripted replies are consumed by the next requests whatever their path, because the clients under test talk to one
endpoint each; a test that needs otherwise can inspect ``requests`` or override :meth:`handle`.

Only the standard library is used so the servers start in milliseconds and need nothing installed.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import logging
import math
import socket
import threading
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar, Self
from urllib.parse import parse_qs, urlsplit

log = logging.getLogger(__name__)

LOOPBACK = "127.0.0.1"

_NO_JSON: Any = object()


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the server received it.

    ``headers`` keys are lower-cased; ``json`` is the parsed body, or ``None`` when the body is empty or not JSON.
    """

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    json: Any

    def header(self, name: str, default: str | None = None) -> str | None:
        """The value of header ``name`` (case-insensitive)."""
        return self.headers.get(name.lower(), default)


def basic_credentials(request: RecordedRequest) -> tuple[str, str] | None:
    """``(user, password)`` of an ``Authorization: Basic`` header, or None (shared by the HR vendor servers)."""
    scheme, _, encoded = (request.header("authorization") or "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        user, sep, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
    except (binascii.Error, ValueError):
        return None
    return (user, password) if sep else None


@dataclass
class Reply:
    """What the server sends back. ``drop`` closes the connection instead of answering (a network fault)."""

    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False

    @classmethod
    def json(cls, status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
        """A JSON reply with the right content type."""
        merged = {"Content-Type": "application/json"}
        merged.update(headers or {})
        return cls(status=status, body=json.dumps(payload).encode(), headers=merged)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # Set before bind; keeps a quick restart on the same port from failing.
    allow_reuse_address = True

    def __init__(self, owner: ProtocolServer) -> None:
        self.owner = owner
        self.open_connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__((LOOPBACK, 0), _Handler)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client hanging up mid-reply (timeouts, dropped faults, stop()) is expected in tests; don't spam stderr.
        log.debug("%s: connection error from %s", self.owner.name, client_address, exc_info=True)


class _Handler(BaseHTTPRequestHandler):
    # HTTP/1.1 so pooled clients (httpx, requests) reuse connections as they would against the real API.
    protocol_version = "HTTP/1.1"
    # An idle keep-alive connection must not pin a thread forever.
    timeout = 30
    server: _Server

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.open_connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            with self.server.connections_lock:
                self.server.open_connections.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s: " + format, self.server.owner.name, *args)

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    # Trailers end with an empty line.
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _serve(self) -> None:
        body = self._read_body()
        parts = urlsplit(self.path)
        parsed: Any = None
        if body:
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        request = RecordedRequest(
            method=self.command,
            path=parts.path,
            query=parse_qs(parts.query),
            headers={k.lower(): v for k, v in self.headers.items()},
            body=body,
            json=parsed,
        )
        reply = self.server.owner._dispatch(request)
        if reply.drop:
            self.close_connection = True
            with contextlib.suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body and self.command != "HEAD":
            self.wfile.write(reply.body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve


class ProtocolServer:
    """Base class: a provider's HTTP API on ``127.0.0.1:<ephemeral port>``, scriptable from a test.

    Subclasses implement :meth:`handle` (the provider's normal behaviour) and :meth:`error_reply` (the provider's
    error body for a status code).
    """

    name: ClassVar[str] = "protocol"

    def __init__(self) -> None:
        #: Seconds to wait before every reply (in addition to a scripted reply's own delay).
        self.delay: float = 0.0
        #: Exceptions raised by :meth:`handle` (each also answered with a provider-shaped 500).
        self.errors: list[BaseException] = []
        self._lock = threading.Condition()
        self._requests: list[RecordedRequest] = []
        self._script: deque[Reply] = deque()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle ---------------------------------------------------------------------------------------------

    def start(self) -> Self:
        """Bind to 127.0.0.1 on a free port and serve from a daemon thread. Returns ``self``."""
        if self._server is not None:
            raise RuntimeError(f"{self.name} server already started")
        self._stopping.clear()
        self._server = _Server(self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"{self.name}-protocol-server",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving, cut open keep-alive connections and pending delays, and release the port."""
        server, thread = self._server, self._thread
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        with server.connections_lock:
            connections = list(server.open_connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        """The bound port (only while started)."""
        if self._server is None:
            raise RuntimeError(f"{self.name} server is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:<port>`` with no trailing slash."""
        return f"http://{LOOPBACK}:{self.port}"

    # --- recorded requests -------------------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received so far, oldest first."""
        with self._lock:
            return list(self._requests)

    def clear(self) -> None:
        """Forget recorded requests, pending scripted replies and handler errors."""
        with self._lock:
            self._requests.clear()
            self._script.clear()
            self.errors.clear()

    def wait_for_requests(self, count: int, timeout: float = 5.0) -> list[RecordedRequest]:
        """Block until at least ``count`` requests arrived; raise ``TimeoutError`` otherwise."""
        with self._lock:
            if not self._lock.wait_for(lambda: len(self._requests) >= count, timeout=timeout):
                raise TimeoutError(f"{self.name}: {len(self._requests)} of {count} requests after {timeout}s")
            return list(self._requests)

    # --- scripting ---------------------------------------------------------------------------------------------

    def respond_next(
        self,
        status: int,
        json_body: Any = _NO_JSON,
        *,
        body: bytes | None = None,
        headers: Mapping[str, str] | None = None,
        times: int = 1,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests with ``status`` and ``json_body`` (or raw ``body``), verbatim."""
        if json_body is not _NO_JSON:
            reply = Reply.json(status, json_body, headers)
        else:
            reply = Reply(status=status, body=body or b"", headers=dict(headers or {}))
        reply.delay = delay
        self._enqueue(reply, times)

    def fail_next(
        self,
        status: int = 503,
        *,
        times: int = 1,
        message: str | None = None,
        retry_after: float | None = None,
        delay: float = 0.0,
    ) -> None:
        """Answer the next ``times`` requests with the provider's error body for ``status``.

        ``retry_after`` (seconds) adds the provider's retry-after header(s).
        """
        if times < 1:
            raise ValueError("times must be at least 1")
        for _ in range(times):
            reply = self.error_reply(status, message)
            if retry_after is not None:
                reply.headers.update(self.retry_after_headers(retry_after))
            reply.delay = delay
            self._enqueue(reply, 1)

    def drop_next(self, *, times: int = 1, delay: float = 0.0) -> None:
        """Close the connection without answering the next ``times`` requests (a connection-reset fault)."""
        self._enqueue(Reply(drop=True, delay=delay), times)

    @property
    def pending_replies(self) -> int:
        """How many scripted replies have not been consumed yet."""
        with self._lock:
            return len(self._script)

    def _enqueue(self, reply: Reply, times: int) -> None:
        if times < 1:
            raise ValueError("times must be at least 1")
        with self._lock:
            for _ in range(times):
                self._script.append(Reply(reply.status, reply.body, dict(reply.headers), reply.delay, reply.drop))

    # --- provider hooks ----------------------------------------------------------------------------------------

    def handle(self, request: RecordedRequest) -> Reply:
        """The provider's normal behaviour for ``request``. Subclasses override."""
        return self.error_reply(404, f"no route for {request.method} {request.path}")

    def error_reply(self, status: int, message: str | None = None) -> Reply:
        """The provider's error reply for ``status``. Subclasses override to match the provider's JSON shape."""
        return Reply.json(status, {"error": {"code": status, "message": message or "error"}})

    def retry_after_headers(self, seconds: float) -> dict[str, str]:
        """Headers telling the client how long to wait; standard ``Retry-After`` is whole seconds."""
        return {"Retry-After": str(max(0, math.ceil(seconds)))}

    # --- internals ---------------------------------------------------------------------------------------------

    def _dispatch(self, request: RecordedRequest) -> Reply:
        with self._lock:
            self._requests.append(request)
            scripted = self._script.popleft() if self._script else None
            self._lock.notify_all()
        if scripted is not None:
            reply = scripted
        else:
            try:
                reply = self.handle(request)
            except Exception as exc:  # a bug in a test's handler must surface, not hang the client
                log.exception("%s: handler failed for %s %s", self.name, request.method, request.path)
                with self._lock:
                    self.errors.append(exc)
                reply = self.error_reply(500, f"test server handler raised {type(exc).__name__}: {exc}")
        total_delay = self.delay + reply.delay
        if total_delay > 0:
            self._stopping.wait(total_delay)
        return reply

    def iter_json_bodies(self, path: str | None = None) -> Iterator[Any]:
        """Parsed JSON bodies of recorded requests, optionally only those for ``path``."""
        for request in self.requests:
            if path is None or request.path == path:
                yield request.json
