"""Small threaded HTTP servers on 127.0.0.1 for the agent and connection end-to-end tests.

- `EchoServer`: the target of `http/http-request`. Every request is recorded (method, path,
  query, headers, body). Routes: `/echo/...` (JSON description of the request), `/json`,
  `/text`, `/binary`, `/notjson`, `/badutf8`, `/status/<code>`, `/slow?ms=N`, `/count`
  (a POST counter), `/ok` and `/hangup` (closes the connection without answering); `script(path, ...)` overrides any path with canned replies.
- `ConnectionService`: RUNTIME §9.2, `GET /{tenant}/{connectionId}?tag=..&stepId=..&...`.
  Connections are configured per id with `script`; an unknown id answers 404.
- `refused_port()`: a port where nothing listens (connections are refused): "service down".

Each server binds an ephemeral port, serves from a daemon thread, and is a context manager;
`stop()` never waits for a slow handler. Every reply is bounded in time.
"""

from __future__ import annotations

import base64
import json
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

#: The longest a handler ever sleeps (`/slow`), so a test can never hang on a server.
MAX_SLEEP_S = 5.0


@dataclass(frozen=True)
class Request:
    """One request as the server received it."""

    method: str
    target: str  # the raw request target: path and query, still percent-encoded
    headers: dict[str, str]  # lower-case names
    body: bytes

    @property
    def path(self) -> str:
        return urlsplit(self.target).path

    @property
    def raw_query(self) -> str:
        return urlsplit(self.target).query

    @property
    def query(self) -> dict[str, str]:
        return dict(parse_qsl(self.raw_query, keep_blank_values=True))


@dataclass(frozen=True)
class Reply:
    """A canned reply: `body` is bytes, text, or any other value sent as JSON."""

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def encoded(self) -> tuple[bytes, str]:
        if isinstance(self.body, bytes):
            return self.body, "application/octet-stream"
        if isinstance(self.body, str):
            return self.body.encode(), "text/plain; charset=utf-8"
        return json.dumps(self.body).encode(), "application/json"


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        req = Request(
            self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body
        )
        owner = self.server.owner
        owner.record(req)
        if req.path == "/hangup":
            self.close_connection = True  # close the socket without any answer
            return
        reply = owner.reply_for(req)
        if reply.delay_s:
            time.sleep(min(reply.delay_s, MAX_SLEEP_S))
        data, content_type = reply.encoded()
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": content_type, **reply.headers}
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            if self.command != "HEAD" and reply.status not in (204, 304):
                self.wfile.write(data)
        except OSError:
            pass  # the client gave up (a timeout test): nothing to answer

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _handle

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    owner: BaseServer

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hangs up (timeouts, keep-alive) is not a server failure


class BaseServer:
    """A recording server on 127.0.0.1 with scripted replies per path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[Request] = []
        self._scripts: dict[str, list[Reply]] = {}
        self._httpd = _Server(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> BaseServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> BaseServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def record(self, req: Request) -> None:
        with self._lock:
            self._requests.append(req)

    @property
    def requests(self) -> list[Request]:
        with self._lock:
            return list(self._requests)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def script(self, path: str, *replies: Reply) -> None:
        """Answer `path` with `replies` in turn; the last one repeats."""
        with self._lock:
            self._scripts[path] = list(replies)

    def _scripted(self, path: str) -> Reply | None:
        with self._lock:
            replies = self._scripts.get(path)
            if not replies:
                return None
            return replies.pop(0) if len(replies) > 1 else replies[0]

    def reply_for(self, req: Request) -> Reply:
        return self._scripted(req.path) or self.route(req)

    def route(self, req: Request) -> Reply:
        return Reply(404, {"error": "no route", "path": req.path})


#: Bytes 0..255 twice: not UTF-8, not JSON.
BINARY = bytes(range(256)) * 2
#: A JSON document with non-ASCII text.
JSON_DOC = {"items": [1, 2.5, "ü€😀"], "nested": {"ok": True, "none": None}}
TEXT = "plain text, ünïcödé ✓\n"


class EchoServer(BaseServer):
    """The target of `http/http-request`."""

    def __init__(self) -> None:
        super().__init__()
        self._count = 0

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def route(self, req: Request) -> Reply:
        path = req.path
        if path.startswith("/echo"):
            return Reply(
                200,
                {
                    "method": req.method,
                    "path": path,
                    "raw_query": req.raw_query,
                    "headers": req.headers,
                    "body": req.body.decode("utf-8", "replace"),
                    "body_b64": base64.b64encode(req.body).decode(),
                },
                {"X-Echo": "yes"},
            )
        if path == "/ok":
            return Reply(200, {"ok": True})
        if path == "/json":
            return Reply(200, JSON_DOC, {"X-Custom": "custom-value"})
        if path == "/text":
            return Reply(200, TEXT)
        if path == "/binary":
            return Reply(200, BINARY)
        if path == "/notjson":
            return Reply(200, b"this is not { json", {"Content-Type": "application/json"})
        if path == "/badutf8":
            return Reply(200, b"ok \xff\xfe end", {"Content-Type": "text/plain"})
        if path.startswith("/status/"):
            status = int(path.rsplit("/", 1)[1])
            headers = {"Retry-After": "7"} if status in (429, 503) else {}
            return Reply(status, f"status {status} body", headers)
        if path == "/slow":
            ms = int(req.query.get("ms", "1000"))
            return Reply(200, {"slow": ms}, delay_s=ms / 1000)
        if path == "/count" and req.method == "POST":
            with self._lock:
                self._count += 1
                n = self._count
            return Reply(200, {"count": n})
        return super().route(req)


def connection(
    parameters: dict[str, Any],
    integration_id: str,
    subtype: str | None = None,
    rate_limit: dict[str, Any] | None = None,
) -> Reply:
    """A 200 answer of the connection service (RUNTIME §9.2)."""
    body: dict[str, Any] = {"parameters": parameters, "integration_id": integration_id}
    if subtype is not None:
        body["connection_subtype"] = subtype
    if rate_limit is not None:
        body["rate_limit"] = rate_limit
    return Reply(200, body)


def rate_limited(retry_after_ms: int | None = None) -> Reply:
    """A 200 answer with `rate_limit.is_limited`: the runtime waits and fetches again."""
    limit: dict[str, Any] = {"is_limited": True, "remaining": 0}
    if retry_after_ms is not None:
        limit["retry_after_ms"] = retry_after_ms
    return Reply(200, {"rate_limit": limit})


class ConnectionService(BaseServer):
    """RUNTIME §9.2: `GET /{tenant}/{connectionId}`; configure with `set(id, *replies)`."""

    def set(self, connection_id: str, *replies: Reply, tenant: str = "default") -> None:
        self.script(f"/{tenant}/{connection_id}", *replies)

    def fetches(self, connection_id: str, tenant: str = "default") -> list[Request]:
        return self.requests_to(f"/{tenant}/{connection_id}")


@contextmanager
def refused_port() -> Iterator[int]:
    """A port bound on 127.0.0.1 but not listening: every connection attempt is refused."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        yield int(sock.getsockname()[1])
