"""End-to-end tests of the built-in agents and connections (issue 11, items 2-6).

Every scenario is written here, built with the real CLI in file mode (`runtara-build build
F --children D -o OUT`) and run with no RUNTARA_* variables except those a test sets. The
binaries talk only to servers on 127.0.0.1 started by the tests (tests/support/servers.py):
an echo server for `http/http-request` and a connection service (RUNTIME §9.2).

Covered: http (methods, headers, query parameters, bodies, response types, timeouts, non-2xx
with and without `fail_on_error`, connection refused, retries, at-most-once on replay, the
bearer and api-key extractors); the Connection step and Agent `connectionId` (200, 404, 429,
rate limited then success, service down, no URL); secrets never reaching the store, stdout or
stderr, on a run and on replays; the `file` workspace confinement for every file capability;
the stripped binary sizes ("pay only for what you use"); the agent catalogue (same as the
shared spec's, and not stale against the runtime crate).
"""

from __future__ import annotations

import base64
import itertools
import json
import os
import shutil
import sqlite3
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.shared import REPO, shared_dir
from tests.support.binaries import TEST_CACHE, build_env, runtara_build, without_runtara
from tests.support.servers import (
    BINARY,
    JSON_DOC,
    TEXT,
    ConnectionService,
    EchoServer,
    Reply,
    connection,
    rate_limited,
    refused_port,
)

pytestmark = [pytest.mark.rustc, pytest.mark.slow]

CATALOGUE = REPO / "runtara_build" / "catalogue" / "agents.json"
#: Environment variables a binary must not inherit from the test process.
SCRUBBED = ("CONNECTION_SERVICE_URL", "http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY")
RUN_TIMEOUT = 60


# ------------------------------------------------------------------ scenario helpers


#: `inputSchema` types of the `data` fields the scenarios read (descriptive only, DSL §1.5).
FIELD_TYPES = {
    "headers": "object",
    "query_parameters": "object",
    "body": "object",
    "multipart": "array",
    "timeout_ms": "integer",
    "fail_on_error": "boolean",
    "data": "object",
    "recursive": "boolean",
    "overwrite": "boolean",
    "create_dirs": "boolean",
    "create_if_missing": "boolean",
    "newline": "boolean",
}


def ref(path: str) -> dict[str, Any]:
    return {"valueType": "reference", "value": path}


def imm(value: Any) -> dict[str, Any]:
    return {"valueType": "immediate", "value": value}


def from_data(*names: str) -> dict[str, Any]:
    """An inputMapping taking each input from the member of `data` with the same name."""
    return {name: ref(f"data.{name}") for name in names}


def chain(
    steps: dict[str, dict[str, Any]], fields: tuple[str, ...] = (), required: tuple[str, ...] = ()
) -> dict[str, Any]:
    """A graph running `steps` in the given order; `fields` of `data` are declared."""
    keys = list(steps)
    schema = {f: {"type": FIELD_TYPES.get(f, "string"), "required": f in required} for f in fields}
    return {
        "steps": {k: {"id": k, **v} for k, v in steps.items()},
        "entryPoint": keys[0],
        "executionPlan": [{"fromStep": a, "toStep": b} for a, b in itertools.pairwise(keys)],
        "inputSchema": schema,
    }


def agent(module: str, capability: str, mapping: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "stepType": "Agent",
        "agentId": module,
        "capabilityId": capability,
        "inputMapping": mapping,
        **extra,
    }


def finish(mapping: dict[str, Any]) -> dict[str, Any]:
    return {"stepType": "Finish", "inputMapping": mapping}


def json_equal(a: Any, b: Any) -> bool:
    """JSON equality: member order ignored, numbers by value, booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(map(json_equal, a, b))
    return type(a) is type(b) and a == b


# ------------------------------------------------------------------ building and running

Builder = Callable[[str, dict[str, Any]], Path]


@pytest.fixture(scope="module")
def build(runtime_cache: Path, tmp_path_factory: pytest.TempPathFactory) -> Builder:
    """Build a scenario once per module: `build(name, doc)`; the scenario id is `name`."""
    root = tmp_path_factory.mktemp("agents-e2e")
    children = root / "children"
    children.mkdir()
    built: dict[str, Path] = {}

    def _build(name: str, doc: dict[str, Any]) -> Path:
        if name not in built:
            src = root / f"{name}.json"
            src.write_text(json.dumps(doc, indent=1))
            out = root / "bin" / name
            proc = runtara_build(
                ["build", str(src), "--children", str(children), "-o", str(out)],
                cwd=root,
                env=build_env(runtime_cache),
                timeout=900,
            )
            assert proc.returncode == 0, proc.stderr[-4000:]
            assert proc.stdout.splitlines()[-1] == str(out)
            built[name] = out
        return built[name]

    return _build


@dataclass
class Run:
    proc: subprocess.CompletedProcess[str]
    elapsed: float

    def ok(self) -> Any:
        """The workflow output of a completed run (exit 0, one stdout line)."""
        assert self.proc.returncode == 0, self.proc.stderr[-3000:]
        assert self.proc.stdout.endswith("\n") and self.proc.stdout.count("\n") == 1
        return json.loads(self.proc.stdout)

    def error(self, exit_code: int = 1) -> dict[str, Any]:
        """The error object of a failed run: the last stderr line, nothing on stdout."""
        assert self.proc.returncode == exit_code, (self.proc.stdout, self.proc.stderr[-3000:])
        assert self.proc.stdout == ""
        last = [line for line in self.proc.stderr.splitlines() if line.strip()][-1]
        error = json.loads(last)
        assert isinstance(error, dict)
        return error


def run(
    binary: Path,
    workdir: Path,
    data: Any = None,
    *,
    env: dict[str, str] | None = None,
    args: tuple[str, ...] = (),
    cwd: Path | None = None,
) -> Run:
    """Run `binary` with `data` as the input's `data` (on stdin) and `workdir/state.db`."""
    base = {
        k: v for k, v in os.environ.items() if not k.startswith("RUNTARA_") and k not in SCRUBBED
    }
    argv = [str(binary), "--input", "-", "--store", str(workdir / "state.db"), *args]
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        input=json.dumps({"data": data or {}}),
        cwd=cwd or workdir,
        env={**base, **(env or {})},
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT,
    )
    return Run(proc, time.monotonic() - started)


def header(headers: dict[str, Any], name: str) -> Any:
    """A header of an output or a request, whatever the case of its name."""
    found = [v for k, v in headers.items() if k.lower() == name.lower()]
    return found[0] if found else None


def assert_step_error(
    error: dict[str, Any], code: str, category: str, step: str, step_type: str = "Agent"
) -> None:
    assert error["code"] == code, error
    assert error["category"] == category, error
    assert error["stepId"] == step, error
    assert error["stepType"] == step_type, error
    assert isinstance(error["message"], str) and error["instanceId"], error


# ------------------------------------------------------------------ servers


@pytest.fixture
def echo() -> Iterator[EchoServer]:
    with EchoServer() as server:
        yield server


@pytest.fixture
def service() -> Iterator[ConnectionService]:
    with ConnectionService() as server:
        yield server


@pytest.fixture
def refused_url() -> Iterator[str]:
    with refused_port() as port:
        yield f"http://127.0.0.1:{port}"


def service_env(service: ConnectionService) -> dict[str, str]:
    return {"CONNECTION_SERVICE_URL": service.url}


# ================================================================== http/http-request

HTTP_INPUTS = (
    "url",
    "method",
    "headers",
    "query_parameters",
    "body",
    "body_type",
    "multipart",
    "response_type",
    "timeout_ms",
    "fail_on_error",
)


@pytest.fixture(scope="module")
def http_bin(build: Builder) -> Path:
    """One http-request whose inputs all come from `data`; the output is its result."""
    steps = {
        "req": agent("http", "http-request", from_data(*HTTP_INPUTS), maxRetries=0),
        "done": finish({"outputs": ref("steps.req.outputs")}),
    }
    return build("http_call", chain(steps, HTTP_INPUTS, ("url",)))


@pytest.fixture(scope="module")
def http_retry_bin(build: Builder) -> Path:
    """The same call with 2 retries 10 ms apart."""
    steps = {
        "req": agent("http", "http-request", from_data(*HTTP_INPUTS), maxRetries=2, retryDelay=10),
        "done": finish({"outputs": ref("steps.req.outputs")}),
    }
    return build("http_retry", chain(steps, HTTP_INPUTS, ("url",)))


@pytest.mark.parametrize("method", ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"])
def test_http_methods(method: str, http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    out = run(http_bin, tmp_path, {"url": f"{echo.url}/echo/m", "method": method}).ok()
    assert [r.method for r in echo.requests] == [method]
    assert out["status_code"] == 200 and out["success"] is True
    if method == "HEAD":
        assert out["body"] == ""
    else:
        assert out["body"]["method"] == method
        assert header(out["headers"], "x-echo") == "yes"


def test_http_default_method_is_get(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    run(http_bin, tmp_path, {"url": f"{echo.url}/echo/d"}).ok()
    assert [r.method for r in echo.requests] == ["GET"]


def test_http_headers_and_query_parameters(
    http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    data = {
        "url": f"{echo.url}/echo/q?a=1",
        "headers": {"X-Trace": "abc-123", "Accept": "application/json"},
        "query_parameters": {"q": "a b&c=d", "ü": "x/y~z"},
    }
    run(http_bin, tmp_path, data).ok()
    [req] = echo.requests
    assert req.headers["x-trace"] == "abc-123"
    assert req.headers["accept"] == "application/json"
    # Appended with `&` after the URL's own query, percent-encoded, unreserved kept.
    assert req.raw_query.startswith("a=1&")
    pairs = req.raw_query.split("&")
    assert "q=a%20b%26c%3Dd" in pairs, req.raw_query
    assert "%C3%BC=x%2Fy~z" in pairs, req.raw_query
    assert req.query == {"a": "1", "q": "a b&c=d", "ü": "x/y~z"}


def test_http_query_parameters_without_query(
    http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    run(http_bin, tmp_path, {"url": f"{echo.url}/echo", "query_parameters": {"k": "v"}}).ok()
    assert echo.requests[0].raw_query == "k=v"


def test_http_json_body(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    body = {"name": "Zoë", "n": [1, 2.5, None, True], "nested": {"emoji": "😀"}}
    out = run(http_bin, tmp_path, {"url": f"{echo.url}/echo", "method": "POST", "body": body}).ok()
    [req] = echo.requests
    assert json.loads(req.body) == body
    assert req.headers["content-type"] == "application/json"
    assert json.loads(out["body"]["body"]) == body


@pytest.mark.parametrize("method", ["PUT", "PATCH"])
def test_http_text_body_with_content_type(
    method: str, http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    data = {
        "url": f"{echo.url}/echo",
        "method": method,
        "body": "plain ✓ text",
        "headers": {"Content-Type": "text/plain; charset=utf-8"},
        "body_type": "text",
    }
    run(http_bin, tmp_path, data).ok()
    [req] = echo.requests
    assert req.body == "plain ✓ text".encode()
    assert req.headers["content-type"] == "text/plain; charset=utf-8"


def test_http_string_body_is_sent_as_is(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    b64 = base64.b64encode(BINARY).decode()
    data = {"url": f"{echo.url}/echo", "method": "POST", "body": b64, "body_type": "binary"}
    run(http_bin, tmp_path, data).ok()
    [req] = echo.requests
    assert req.body == b64.encode()
    assert req.headers["content-type"] == "application/json"  # no content type given


def test_http_number_body_is_json_text(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    run(http_bin, tmp_path, {"url": f"{echo.url}/echo", "method": "POST", "body": 42}).ok()
    assert echo.requests[0].body == b"42"


@pytest.mark.parametrize(
    ("method", "body"),
    [("POST", None), ("POST", ""), ("GET", {"ignored": True}), ("DELETE", "ignored")],
)
def test_http_no_body_sent(
    method: str, body: Any, http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    data = {"url": f"{echo.url}/echo", "method": method, "body": body}
    run(http_bin, tmp_path, data).ok()
    [req] = echo.requests
    assert req.body == b""


def test_http_multipart_is_accepted(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    data = {
        "url": f"{echo.url}/echo",
        "method": "POST",
        "body_type": "multipart",
        "multipart": [
            {"name": "a", "value": "1"},
            {"name": "f", "content": "aGk=", "filename": "x"},
        ],
    }
    assert run(http_bin, tmp_path, data).ok()["status_code"] == 200


def test_http_json_response(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    out = run(http_bin, tmp_path, {"url": f"{echo.url}/json"}).ok()
    assert json_equal(out["body"], JSON_DOC)
    assert header(out["headers"], "x-custom") == "custom-value"
    assert header(out["headers"], "content-type") == "application/json"
    assert out["success"] is True


def test_http_json_response_that_is_not_json(
    http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    out = run(http_bin, tmp_path, {"url": f"{echo.url}/notjson"}).ok()
    assert out["body"] == "this is not { json"


def test_http_text_response(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    data = {"url": f"{echo.url}/text", "response_type": "text"}
    assert run(http_bin, tmp_path, data).ok()["body"] == TEXT
    data = {"url": f"{echo.url}/json", "response_type": "text"}
    assert json.loads(run(http_bin, tmp_path, data).ok()["body"]) == JSON_DOC


def test_http_text_response_is_lossy_utf8(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    data = {"url": f"{echo.url}/badutf8", "response_type": "text"}
    assert run(http_bin, tmp_path, data).ok()["body"] == "ok \ufffd\ufffd end"


def test_http_binary_response(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    data = {"url": f"{echo.url}/binary", "response_type": "binary"}
    out = run(http_bin, tmp_path, data).ok()
    assert base64.b64decode(out["body"]) == BINARY


def test_http_timeout(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    url = f"{echo.url}/slow?ms=4000"
    result = run(http_bin, tmp_path, {"url": url, "timeout_ms": 300})
    error = result.error()
    assert_step_error(error, "NETWORK_ERROR", "transient", "req")
    assert error["severity"] == "warning"
    assert error["attributes"]["url"] == url
    assert result.elapsed < 3.0


def test_http_within_timeout(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    out = run(http_bin, tmp_path, {"url": f"{echo.url}/slow?ms=200", "timeout_ms": 5000}).ok()
    assert out["body"] == {"slow": 200}


STATUS_CODES = [
    (400, "HTTP_BAD_REQUEST", "permanent"),
    (401, "HTTP_UNAUTHORIZED", "permanent"),
    (403, "HTTP_FORBIDDEN", "permanent"),
    (404, "HTTP_NOT_FOUND", "permanent"),
    (408, "HTTP_TIMEOUT", "transient"),
    (418, "HTTP_ERROR", "permanent"),
    (429, "HTTP_RATE_LIMITED", "transient"),
    (500, "HTTP_INTERNAL_ERROR", "transient"),
    (502, "HTTP_BAD_GATEWAY", "transient"),
    (503, "HTTP_SERVICE_UNAVAILABLE", "transient"),
    (504, "HTTP_GATEWAY_TIMEOUT", "transient"),
    (507, "HTTP_ERROR", "transient"),
    (300, "HTTP_ERROR", "permanent"),
]


@pytest.mark.parametrize(("status", "code", "category"), STATUS_CODES)
def test_http_non_2xx_fails(
    status: int, code: str, category: str, http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    url = f"{echo.url}/status/{status}"
    error = run(http_bin, tmp_path, {"url": url}).error()
    assert_step_error(error, code, category, "req")
    assert error["severity"] == ("warning" if category == "transient" else "error")
    assert error["message"] == f"HTTP {status} error: status {status} body"
    assert error["attributes"] == {"status_code": str(status), "url": url}
    assert error["agentId"] == "http" and error["capabilityId"] == "http-request"


@pytest.mark.parametrize("status", [404, 500, 201])
def test_http_non_2xx_without_fail_on_error(
    status: int, http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    data = {"url": f"{echo.url}/status/{status}", "fail_on_error": False}
    out = run(http_bin, tmp_path, data).ok()
    assert out["status_code"] == status
    assert out["success"] is (200 <= status < 300)
    assert out["body"] == f"status {status} body"


def test_http_connection_refused(http_bin: Path, refused_url: str, tmp_path: Path) -> None:
    url = f"{refused_url}/nothing"
    error = run(http_bin, tmp_path, {"url": url}).error()
    assert_step_error(error, "NETWORK_ERROR", "transient", "req")
    assert error["severity"] == "warning"
    assert error["attributes"]["url"] == url
    assert error["agentId"] == "http" and error["capabilityId"] == "http-request"


def test_http_connection_closed_without_answer(
    http_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    url = f"{echo.url}/hangup"
    error = run(http_bin, tmp_path, {"url": url}).error()
    assert_step_error(error, "NETWORK_ERROR", "transient", "req")
    assert error["attributes"]["url"] == url


def test_http_transient_status_is_retried(
    http_retry_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    echo.script("/flaky", Reply(503, "busy"), Reply(502, "bad"), Reply(200, {"finally": 1}))
    out = run(http_retry_bin, tmp_path, {"url": f"{echo.url}/flaky"}).ok()
    assert out["body"] == {"finally": 1}
    assert len(echo.requests_to("/flaky")) == 3


def test_http_permanent_status_is_not_retried(
    http_retry_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    error = run(http_retry_bin, tmp_path, {"url": f"{echo.url}/status/404"}).error()
    assert error["code"] == "HTTP_NOT_FOUND"
    assert len(echo.requests) == 1


def test_http_retries_run_out_with_the_last_error(
    http_retry_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    error = run(http_retry_bin, tmp_path, {"url": f"{echo.url}/status/500"}).error()
    assert error["code"] == "HTTP_INTERNAL_ERROR"
    assert len(echo.requests) == 3


def test_http_side_effect_once_on_replay(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    data = {"url": f"{echo.url}/count", "method": "POST", "body": {"x": 1}}
    args = ("--instance-id", "count-once")
    first = run(http_bin, tmp_path, data, args=args)
    assert first.ok()["body"] == {"count": 1}
    second = run(http_bin, tmp_path, data, args=args)
    assert second.proc.stdout == first.proc.stdout
    assert echo.count == 1


def test_http_bad_method_is_input_error(http_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    error = run(http_bin, tmp_path, {"url": f"{echo.url}/echo", "method": "FETCH"}).error()
    assert_step_error(error, "INPUT_DESERIALIZATION_ERROR", "permanent", "req")
    assert echo.requests == []


# ================================================================== connections


def connection_steps(conn: dict[str, Any] | None) -> dict[str, dict[str, Any]]:
    """[Connection step `conn` ->] http call `call` (url and headers from data) -> Finish."""
    mapping = from_data("url", "headers")
    steps: dict[str, dict[str, Any]] = {}
    if conn is None:
        call = agent("http", "http-request", mapping, connectionId="agent-conn")
        call.update(maxRetries=1, retryDelay=10)
    else:
        steps["conn"] = {"stepType": "Connection", **conn}
        mapping["_connection"] = ref("steps.conn.outputs")
        call = agent("http", "http-request", mapping, maxRetries=0)
    steps["call"] = call
    steps["done"] = finish({"status": ref("steps.call.outputs.status_code")})
    return steps


@pytest.fixture(scope="module")
def bearer_bin(build: Builder) -> Path:
    conn = {"connectionId": "bearer-conn", "integrationId": "http_bearer"}
    return build("conn_bearer", chain(connection_steps(conn), ("url", "headers"), ("url",)))


@pytest.fixture(scope="module")
def api_key_bin(build: Builder) -> Path:
    conn = {"connectionId": "key-conn", "integrationId": "http_api_key"}
    return build("conn_api_key", chain(connection_steps(conn), ("url", "headers"), ("url",)))


@pytest.fixture(scope="module")
def agent_conn_bin(build: Builder) -> Path:
    """An http Agent with `connectionId` (one retry, 10 ms), no Connection step."""
    return build("agent_conn", chain(connection_steps(None), ("url", "headers"), ("url",)))


def bearer(token: str, base_url: str | None = None) -> Reply:
    params = {"token": token} if base_url is None else {"token": token, "base_url": base_url}
    return connection(params, "http_bearer", subtype="bearer")


def api_key(key: str, header_name: str | None = None, base_url: str | None = None) -> Reply:
    params: dict[str, Any] = {"api_key": key}
    if header_name is not None:
        params["header_name"] = header_name
    if base_url is not None:
        params["base_url"] = base_url
    return connection(params, "http_api_key")


# ------------------------------------------------------------------ Connection step


def test_connection_step_bearer(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", bearer("tok-123", base_url=f"{echo.url}/echo"), tenant="acme")
    args = ("--instance-id", "inst-1", "--tenant", "acme")
    data = {"url": "/rel/path?x=1"}
    out = run(bearer_bin, tmp_path, data, env=service_env(service), args=args).ok()
    assert out == {"status": 200}
    [fetch] = service.requests
    assert fetch.method == "GET" and fetch.path == "/acme/bearer-conn"
    assert fetch.query == {
        "tag": "http_bearer",
        "stepId": "conn",
        "scenarioId": "conn_bearer",
        "instanceId": "inst-1",
    }
    [req] = echo.requests
    assert req.path == "/echo/rel/path" and req.query == {"x": "1"}  # base_url prefix
    assert req.headers["authorization"] == "Bearer tok-123"
    assert req.headers["content-type"] == "application/json"


def test_connection_request_is_percent_encoded(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", bearer("tok"), tenant="acme%20corp%2Feu")
    args = ("--tenant", "acme corp/eu", "--instance-id", "i/1 ü")
    data = {"url": f"{echo.url}/echo"}
    assert run(bearer_bin, tmp_path, data, env=service_env(service), args=args).ok()
    [fetch] = service.requests
    assert fetch.path == "/acme%20corp%2Feu/bearer-conn"
    assert "instanceId=i%2F1%20%C3%BC" in fetch.raw_query.split("&")
    assert fetch.query["instanceId"] == "i/1 ü"


def test_connection_step_absolute_url_is_not_prefixed(
    bearer_bin: Path,
    service: ConnectionService,
    echo: EchoServer,
    refused_url: str,
    tmp_path: Path,
) -> None:
    service.set("bearer-conn", bearer("tok", base_url=refused_url))
    data = {"url": f"{echo.url}/echo/abs"}
    assert run(bearer_bin, tmp_path, data, env=service_env(service)).ok() == {"status": 200}
    assert echo.requests[0].headers["authorization"] == "Bearer tok"


def test_connection_input_headers_override(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", bearer("tok"))
    headers = {"authorization": "Basic b3ZlcnJpZGU=", "content-type": "text/csv"}
    data = {"url": f"{echo.url}/echo", "headers": headers}
    run(bearer_bin, tmp_path, data, env=service_env(service)).ok()
    [req] = echo.requests
    assert req.headers["authorization"] == "Basic b3ZlcnJpZGU="
    assert req.headers["content-type"] == "text/csv"


def test_connection_service_url_with_trailing_slash(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", bearer("tok"))
    env = {"CONNECTION_SERVICE_URL": f"{service.url}/"}
    assert run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=env).ok()
    assert [r.path for r in service.requests] == ["/default/bearer-conn"]


@pytest.mark.parametrize(("header_name", "sent_as"), [(None, "x-api-key"), ("X-Key", "x-key")])
def test_connection_step_api_key(
    header_name: str | None,
    sent_as: str,
    api_key_bin: Path,
    service: ConnectionService,
    echo: EchoServer,
    tmp_path: Path,
) -> None:
    service.set("key-conn", api_key("k-456", header_name, base_url=echo.url))
    out = run(api_key_bin, tmp_path, {"url": "echo/k"}, env=service_env(service)).ok()
    assert out == {"status": 200}
    assert service.requests[0].query["tag"] == "http_api_key"
    [req] = echo.requests
    assert req.path == "/echo/k"
    assert req.headers[sent_as] == "k-456"
    assert req.headers["content-type"] == "application/json"
    assert "authorization" not in req.headers


def test_connection_step_not_found(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    data = {"url": f"{echo.url}/echo"}
    error = run(bearer_bin, tmp_path, data, env=service_env(service)).error()
    assert_step_error(error, "CONNECTION_NOT_FOUND", "permanent", "conn", "Connection")
    assert len(service.requests) == 1 and echo.requests == []


def test_connection_step_rate_limited_429(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", Reply(429, {"error": "slow down"}, {"Retry-After": "3"}))
    data = {"url": f"{echo.url}/echo"}
    error = run(bearer_bin, tmp_path, data, env=service_env(service)).error()
    assert_step_error(error, "CONNECTION_RATE_LIMITED", "transient", "conn", "Connection")
    assert error["retryAfterMs"] == 3000
    assert len(service.requests) == 1  # a Connection step is never retried
    assert echo.requests == []


def test_connection_step_rate_limit_then_success(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", rate_limited(150), rate_limited(150), bearer("tok"))
    result = run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=service_env(service))
    assert result.ok() == {"status": 200}
    assert len(service.requests) == 3
    assert result.elapsed >= 0.3
    assert echo.requests[0].headers["authorization"] == "Bearer tok"


def test_connection_step_rate_limit_default_wait(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", rate_limited(None), bearer("tok"))
    result = run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=service_env(service))
    assert result.ok() == {"status": 200}
    assert len(service.requests) == 2
    assert result.elapsed >= 1.0  # retry_after_ms defaults to 1000


@pytest.mark.parametrize(
    "reply", [Reply(500, "boom"), Reply(200, "<html>not json"), Reply(403, "no")]
)
def test_connection_step_other_failures(
    reply: Reply, bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", reply)
    error = run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=service_env(service))
    assert_step_error(error.error(), "CONNECTION_FETCH_FAILED", "transient", "conn", "Connection")
    assert echo.requests == []


def test_connection_step_service_down(
    bearer_bin: Path, refused_url: str, echo: EchoServer, tmp_path: Path
) -> None:
    env = {"CONNECTION_SERVICE_URL": refused_url}
    error = run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=env).error()
    assert_step_error(error, "CONNECTION_FETCH_FAILED", "transient", "conn", "Connection")
    assert echo.requests == []


def test_connection_step_not_configured(bearer_bin: Path, echo: EchoServer, tmp_path: Path) -> None:
    error = run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}).error()
    assert_step_error(error, "CONNECTION_SERVICE_NOT_CONFIGURED", "permanent", "conn", "Connection")
    assert echo.requests == []


def test_connection_step_fetched_on_every_run(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("bearer-conn", bearer("tok"))
    echo.script("/flaky", Reply(503, "not yet"), Reply(200, {"ok": True}))
    args = ("--instance-id", "again")
    data = {"url": f"{echo.url}/flaky"}
    first = run(bearer_bin, tmp_path, data, env=service_env(service), args=args)
    assert first.error()["code"] == "HTTP_SERVICE_UNAVAILABLE"
    second = run(bearer_bin, tmp_path, data, env=service_env(service), args=args)
    assert second.ok() == {"status": 200}
    assert len(service.requests) == 2  # never checkpointed: fetched again
    third = run(bearer_bin, tmp_path, data, env=service_env(service), args=args)
    assert third.proc.stdout == second.proc.stdout
    # A replay of a completed instance fetches again, unless the binary short-circuits it by
    # printing the stored output (RUNTIME §4.3 allows that); the call itself never repeats.
    assert len(service.requests) in (2, 3)
    assert len(echo.requests) == 2


# ------------------------------------------------------------------ Agent connectionId


def test_agent_connection_bearer(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("agent-conn", bearer("tok-a", base_url=echo.url))
    args = ("--instance-id", "a-1")
    out = run(agent_conn_bin, tmp_path, {"url": "/echo/a"}, env=service_env(service), args=args)
    assert out.ok() == {"status": 200}
    [fetch] = service.requests
    assert fetch.path == "/default/agent-conn"
    assert fetch.query == {
        "tag": "http_http-request",
        "stepId": "call",
        "scenarioId": "agent_conn",
        "instanceId": "a-1",
    }
    [req] = echo.requests
    assert req.path == "/echo/a"
    assert req.headers["authorization"] == "Bearer tok-a"


def test_agent_connection_api_key(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("agent-conn", api_key("k-a", "X-Token"))
    data = {"url": f"{echo.url}/echo"}
    assert run(agent_conn_bin, tmp_path, data, env=service_env(service)).ok() == {"status": 200}
    assert echo.requests[0].headers["x-token"] == "k-a"


def test_agent_connection_not_found(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    data = {"url": f"{echo.url}/echo"}
    error = run(agent_conn_bin, tmp_path, data, env=service_env(service)).error()
    assert_step_error(error, "CONNECTION_NOT_FOUND", "permanent", "call")
    assert error["agentId"] == "http" and error["capabilityId"] == "http-request"
    assert len(service.requests) == 1  # permanent: not retried
    assert echo.requests == []


def test_agent_connection_rate_limited_429_is_retried(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("agent-conn", Reply(429, "", {"Retry-After": "2"}))
    data = {"url": f"{echo.url}/echo"}
    error = run(agent_conn_bin, tmp_path, data, env=service_env(service)).error()
    assert_step_error(error, "CONNECTION_RATE_LIMITED", "transient", "call")
    assert error["retryAfterMs"] == 2000
    assert len(service.requests) == 2  # fetched inside each attempt
    assert echo.requests == []


def test_agent_connection_transient_failure_then_success(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("agent-conn", Reply(500, "boom"), bearer("tok"))
    data = {"url": f"{echo.url}/echo"}
    assert run(agent_conn_bin, tmp_path, data, env=service_env(service)).ok() == {"status": 200}
    assert len(service.requests) == 2
    assert len(echo.requests) == 1


def test_agent_connection_rate_limit_then_success(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("agent-conn", rate_limited(100), bearer("tok"))
    data = {"url": f"{echo.url}/echo"}
    result = run(agent_conn_bin, tmp_path, data, env=service_env(service))
    assert result.ok() == {"status": 200}
    assert len(service.requests) == 2 and result.elapsed >= 0.1


def test_agent_connection_service_down(
    agent_conn_bin: Path, refused_url: str, echo: EchoServer, tmp_path: Path
) -> None:
    env = {"CONNECTION_SERVICE_URL": refused_url}
    error = run(agent_conn_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=env).error()
    assert_step_error(error, "CONNECTION_FETCH_FAILED", "transient", "call")
    assert echo.requests == []


def test_agent_connection_not_configured(
    agent_conn_bin: Path, echo: EchoServer, tmp_path: Path
) -> None:
    error = run(agent_conn_bin, tmp_path, {"url": f"{echo.url}/echo"}).error()
    assert_step_error(error, "CONNECTION_SERVICE_NOT_CONFIGURED", "permanent", "call")
    assert echo.requests == []


def test_agent_connection_not_fetched_on_replay(
    agent_conn_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    service.set("agent-conn", bearer("tok"))
    args = ("--instance-id", "replayed")
    data = {"url": f"{echo.url}/echo"}
    first = run(agent_conn_bin, tmp_path, data, env=service_env(service), args=args)
    second = run(agent_conn_bin, tmp_path, data, env=service_env(service), args=args)
    assert first.ok() == {"status": 200}
    assert second.proc.stdout == first.proc.stdout
    assert len(service.requests) == 1 and len(echo.requests) == 1


# ================================================================== secrets


@pytest.fixture(scope="module")
def secrets_bin(build: Builder) -> Path:
    """Connection step -> http with `_connection`; then an http Agent with `connectionId`.

    `debugMode` is on, so the debug events are written too.
    """
    steps = {
        "conn": {
            "stepType": "Connection",
            "connectionId": "sec-conn",
            "integrationId": "http_bearer",
        },
        "first": agent(
            "http",
            "http-request",
            {"url": ref("data.url1"), "_connection": ref("steps.conn.outputs")},
            maxRetries=0,
        ),
        "second": agent(
            "http", "http-request", {"url": ref("data.url2")}, maxRetries=0, connectionId="sec-key"
        ),
        "done": finish(
            {"a": ref("steps.first.outputs.body"), "b": ref("steps.second.outputs.body")}
        ),
    }
    graph = chain(steps, ("url1", "url2"), ("url1", "url2"))
    graph["variables"] = {"note": {"type": "string", "value": "no secret here"}}
    return build("secrets", {"executionGraph": graph, "debugMode": True})


def assert_no_secret(secrets: tuple[str, ...], workdir: Path, *results: Run) -> None:
    blobs: dict[str, bytes] = {}
    for path in sorted(workdir.glob("state.db*")):
        blobs[path.name] = path.read_bytes()
    assert "state.db" in blobs
    for i, result in enumerate(results):
        blobs[f"stdout#{i}"] = result.proc.stdout.encode()
        blobs[f"stderr#{i}"] = result.proc.stderr.encode()
    for secret in secrets:
        for name, blob in blobs.items():
            assert secret.encode() not in blob, f"secret found in {name}"


def test_connection_secrets_never_stored_or_printed(
    secrets_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    token, key = f"tok-{os.urandom(12).hex()}", f"key-{os.urandom(12).hex()}"
    service.set("sec-conn", bearer(token))
    service.set("sec-key", api_key(key))
    echo.script("/flaky", Reply(503, "down for now"), Reply(200, {"second": "ok"}))
    data = {"url1": f"{echo.url}/ok", "url2": f"{echo.url}/flaky"}
    env = {**service_env(service), "RUNTARA_LOG": "debug"}
    args = ("--instance-id", "secret-instance")

    # Run 1: the second call fails (transient 503, no retries): the run fails.
    first = run(secrets_bin, tmp_path, data, env=env, args=args)
    assert first.error()["code"] == "HTTP_SERVICE_UNAVAILABLE"
    assert len(service.fetches("sec-conn")) == 1 and len(service.fetches("sec-key")) == 1
    assert echo.requests_to("/ok")[0].headers["authorization"] == f"Bearer {token}"
    assert echo.requests_to("/flaky")[0].headers["x-api-key"] == key
    assert_no_secret((token, key), tmp_path, first)

    # Run 2 (replay of the failed instance): the Connection step is fetched again, `first`
    # replays from its checkpoint, `second` executes again and so fetches its connection.
    second = run(secrets_bin, tmp_path, data, env=env, args=args)
    assert second.ok() == {"a": {"ok": True}, "b": {"second": "ok"}}
    assert len(service.fetches("sec-conn")) == 2
    assert len(service.fetches("sec-key")) == 2
    assert len(echo.requests_to("/ok")) == 1 and len(echo.requests_to("/flaky")) == 2
    assert_no_secret((token, key), tmp_path, first, second)

    # Run 3 (replay of the completed instance): no Agent executes; the Connection step
    # fetches again unless the binary short-circuits the completed instance (RUNTIME §4.3).
    third = run(secrets_bin, tmp_path, data, env=env, args=args)
    assert third.proc.stdout == second.proc.stdout
    assert len(service.fetches("sec-conn")) in (2, 3)
    assert len(service.fetches("sec-key")) == 2
    assert len(echo.requests) == 3
    assert_no_secret((token, key), tmp_path, first, second, third)

    with sqlite3.connect(tmp_path / "state.db") as db:
        keys = {row[0] for row in db.execute("SELECT checkpoint_id FROM checkpoints")}
        events = db.execute("SELECT count(*) FROM events").fetchone()[0]
    assert keys == {
        "root::agent::http::http-request::first",
        "root::agent::http::http-request::second",
    }
    assert events > 0


def test_connection_failure_messages_hide_the_response(
    bearer_bin: Path, service: ConnectionService, echo: EchoServer, tmp_path: Path
) -> None:
    secret = f"leak-{os.urandom(12).hex()}"
    service.set("bearer-conn", Reply(500, {"parameters": {"token": secret}}))
    result = run(bearer_bin, tmp_path, {"url": f"{echo.url}/echo"}, env=service_env(service))
    assert result.error()["code"] == "CONNECTION_FETCH_FAILED"
    assert_no_secret((secret,), tmp_path, result)


# ================================================================== file: workspace confinement


def file_capabilities() -> list[dict[str, Any]]:
    catalogue = json.loads(CATALOGUE.read_text())
    [module] = [m for m in catalogue["modules"] if m["id"] == "file"]
    return [c for c in module["capabilities"] if c["available"]]


FILE_CAPS = {c["id"]: [i["name"] for i in c["inputs"]] for c in file_capabilities()}


@pytest.fixture(scope="module")
def file_bins(build: Builder) -> dict[str, Path]:
    """One binary per file capability: every input comes from `data`; output = its result."""
    bins = {}
    for cap, inputs in FILE_CAPS.items():
        steps = {
            "op": agent("file", cap, from_data(*inputs), maxRetries=0),
            "done": finish({"outputs": ref("steps.op.outputs")}),
        }
        bins[cap] = build(cap.replace("-", "_"), chain(steps, tuple(inputs)))
    return bins


@dataclass
class Layout:
    """`ws` is the workspace; `outside` is its sibling; `elsewhere` is the cwd in env mode."""

    root: Path
    ws: Path
    outside: Path
    elsewhere: Path
    env_mode: bool
    extra_env: dict[str, str] = field(default_factory=dict)

    def run(self, binary: Path, data: dict[str, Any]) -> Run:
        if self.env_mode:
            env = {**self.extra_env, "RUNTARA_WORKSPACE_DIR": str(self.ws)}
            return run(binary, self.root, data, env=env, cwd=self.elsewhere)
        return run(binary, self.root, data, env=self.extra_env, cwd=self.ws)

    def snapshot(self) -> dict[str, Any]:
        tree: dict[str, Any] = {}
        for base in (self.ws, self.outside, self.elsewhere):
            for path in sorted(base.rglob("*")):
                rel = str(path.relative_to(self.root))
                if path.is_symlink():
                    tree[rel] = ("link", os.readlink(path))
                elif path.is_dir():
                    tree[rel] = "dir"
                else:
                    tree[rel] = path.read_bytes()
        return tree


@pytest.fixture(params=["cwd", "env"])
def layout(request: pytest.FixtureRequest, tmp_path: Path) -> Layout:
    """The workspace: the cwd (default), or RUNTARA_WORKSPACE_DIR with another cwd."""
    ws, outside, elsewhere = tmp_path / "ws", tmp_path / "outside", tmp_path / "elsewhere"
    for d in (ws / "sub", outside / "dir", elsewhere):
        d.mkdir(parents=True)
    (ws / "inside.txt").write_text("inside")
    (ws / "sub" / "a.csv").write_text("a,b\n1,2\n")
    (outside / "victim.txt").write_text("victim")
    (outside / "dir" / "v.txt").write_text("v")
    (ws / "out_link").symlink_to(outside, target_is_directory=True)
    (ws / "file_link").symlink_to(outside / "victim.txt")
    (ws / "in_link").symlink_to(ws / "sub", target_is_directory=True)
    (ws / "dangling").symlink_to(outside / "not-yet")  # outside, and does not exist
    (elsewhere / "inside.txt").write_text("decoy!")  # the cwd in env mode: never used
    return Layout(tmp_path, ws, outside, elsewhere, request.param == "env")


#: Escaping paths: kind -> (to an existing file, to a directory, to a new entry).
def escaping(kind: str, lay: Layout) -> tuple[str, str, str]:
    if kind == "absolute":
        o = lay.outside
        return str(o / "victim.txt"), str(o / "dir"), str(o / "new")
    if kind == "absolute-inside":
        return str(lay.ws / "inside.txt"), str(lay.ws / "sub"), str(lay.ws / "new")
    if kind == "dotdot":
        return "../outside/victim.txt", "../outside", "../outside/new"
    if kind == "dotdot-nested":
        return "sub/../../outside/victim.txt", "sub/../../outside/dir", "sub/../../outside/new"
    if kind == "symlink-dir":
        return "out_link/victim.txt", "out_link", "out_link/new"
    if kind == "symlink-dangling":
        return "dangling", "dangling", "dangling"
    assert kind == "symlink-file"
    return "file_link", "file_link", "file_link"


KINDS = [
    "absolute",
    "absolute-inside",
    "dotdot",
    "dotdot-nested",
    "symlink-dir",
    "symlink-file",
    "symlink-dangling",
]
TEXT_DATA = {"text": "pwned"}


def escape_inputs(cap: str, role: str, kind: str, lay: Layout) -> dict[str, Any]:
    file, directory, new = escaping(kind, lay)
    return {
        "file-write-file": {"path": file, "data": TEXT_DATA, "overwrite": True},
        "file-read-file": {"path": file},
        "file-list-files": {"path": directory, "recursive": True},
        "file-delete-file": {"path": file, "recursive": True},
        "file-file-exists": {"path": file},
        "file-copy-file": {"source": file, "destination": "copied.txt"}
        if role == "source"
        else {"source": "inside.txt", "destination": file, "overwrite": True},
        "file-move-file": {"source": file, "destination": "moved.txt"}
        if role == "source"
        else {"source": "inside.txt", "destination": file, "overwrite": True},
        "file-create-directory": {"path": new},
        "file-get-file-info": {"path": file},
        "file-append-file": {"path": file, "data": TEXT_DATA},
    }[cap]


ESCAPES = [
    pytest.param(cap, role, kind, id=f"{cap}-{role}-{kind}" if role else f"{cap}-{kind}")
    for cap in FILE_CAPS
    for role in (
        ("source", "destination") if cap in ("file-copy-file", "file-move-file") else ("",)
    )
    for kind in KINDS
]


def test_every_file_capability_is_covered() -> None:
    assert sorted(FILE_CAPS) == sorted(
        {
            "file-write-file",
            "file-read-file",
            "file-list-files",
            "file-delete-file",
            "file-file-exists",
            "file-copy-file",
            "file-move-file",
            "file-create-directory",
            "file-get-file-info",
            "file-append-file",
        }
    )


@pytest.mark.parametrize(("cap", "role", "kind"), ESCAPES)
def test_file_path_outside_workspace_is_refused(
    cap: str, role: str, kind: str, file_bins: dict[str, Path], layout: Layout
) -> None:
    before = layout.snapshot()
    error = layout.run(file_bins[cap], escape_inputs(cap, role, kind, layout)).error()
    assert_step_error(error, "CAPABILITY_ERROR", "permanent", "op")
    assert error["agentId"] == "file" and error["capabilityId"] == cap
    assert layout.snapshot() == before, "a refused file operation changed the file system"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def check_write(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-write-file"], {"path": "new/dir/a.txt", "data": TEXT_DATA}).ok()
    assert out == {"path": "new/dir/a.txt", "bytes_written": 5, "created_dirs": True}
    assert (lay.ws / "new" / "dir" / "a.txt").read_text() == "pwned"


def check_read(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-read-file"], {"path": "inside.txt"}).ok()
    assert out == {"content": b64("inside"), "filename": "inside.txt", "mimeType": "text/plain"}
    data = {"path": "sub/../inside.txt", "response_format": "text"}
    assert lay.run(bins["file-read-file"], data).ok() == "inside"
    data = {"path": "in_link/a.csv", "response_format": "text"}  # a symlink inside the root
    assert lay.run(bins["file-read-file"], data).ok() == "a,b\n1,2\n"


def check_list(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-list-files"], {"path": "sub"}).ok()
    assert [(e["name"], e["size"], e["is_directory"]) for e in out] == [("a.csv", 8, False)]
    names = {e["name"] for e in lay.run(bins["file-list-files"], {}).ok()}
    assert {"inside.txt", "sub"} <= names and "decoy" not in str(names)
    # A recursive listing does not descend through a symlink to the outside.
    listed = lay.run(bins["file-list-files"], {"path": "", "recursive": True}).ok()
    assert "a.csv" in {e["name"] for e in listed}
    assert not {"victim.txt", "v.txt"} & {e["name"] for e in listed}, listed


def check_delete(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-delete-file"], {"path": "inside.txt"}).ok()
    assert out["success"] is True and out["path"] == "inside.txt"
    assert not (lay.ws / "inside.txt").exists()
    assert (lay.elsewhere / "inside.txt").exists()
    # Deleting a directory recursively removes a symlink in it, not what it points to.
    (lay.ws / "sub" / "link").symlink_to(lay.outside, target_is_directory=True)
    out = lay.run(bins["file-delete-file"], {"path": "sub", "recursive": True}).ok()
    assert out["success"] is True and not (lay.ws / "sub").exists()


def check_exists(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-file-exists"], {"path": "inside.txt"}).ok()
    assert out == {"exists": True, "is_directory": False, "size": 6}
    assert lay.run(bins["file-file-exists"], {"path": "nope.txt"}).ok()["exists"] is False


def check_copy(lay: Layout, bins: dict[str, Path]) -> None:
    data = {"source": "inside.txt", "destination": "sub/copy.txt"}
    out = lay.run(bins["file-copy-file"], data).ok()
    assert out == {"source": "inside.txt", "destination": "sub/copy.txt", "bytes_copied": 6}
    assert (lay.ws / "sub" / "copy.txt").read_text() == "inside"
    assert (lay.ws / "inside.txt").exists()


def check_move(lay: Layout, bins: dict[str, Path]) -> None:
    data = {"source": "inside.txt", "destination": "sub/moved.txt"}
    out = lay.run(bins["file-move-file"], data).ok()
    assert out == {"source": "inside.txt", "destination": "sub/moved.txt"}
    assert (lay.ws / "sub" / "moved.txt").read_text() == "inside"
    assert not (lay.ws / "inside.txt").exists()


def check_mkdir(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-create-directory"], {"path": "a/b/c"}).ok()
    assert out == {"path": "a/b/c", "created": True}
    assert (lay.ws / "a" / "b" / "c").is_dir()


def check_info(lay: Layout, bins: dict[str, Path]) -> None:
    out = lay.run(bins["file-get-file-info"], {"path": "inside.txt"}).ok()
    assert {k: out[k] for k in ("name", "extension", "size", "is_directory", "mime_type")} == {
        "name": "inside.txt",
        "extension": "txt",
        "size": 6,
        "is_directory": False,
        "mime_type": "text/plain",
    }
    assert isinstance(out["modified_time"], int)


def check_append(lay: Layout, bins: dict[str, Path]) -> None:
    data = {"path": "inside.txt", "data": {"text": "+more"}}
    out = lay.run(bins["file-append-file"], data).ok()
    assert {k: out[k] for k in ("bytes_appended", "total_size", "created")} == {
        "bytes_appended": 5,
        "total_size": 11,
        "created": False,
    }
    assert (lay.ws / "inside.txt").read_text() == "inside+more"


INSIDE_CHECKS: dict[str, Callable[[Layout, dict[str, Path]], None]] = {
    "file-write-file": check_write,
    "file-read-file": check_read,
    "file-list-files": check_list,
    "file-delete-file": check_delete,
    "file-file-exists": check_exists,
    "file-copy-file": check_copy,
    "file-move-file": check_move,
    "file-create-directory": check_mkdir,
    "file-get-file-info": check_info,
    "file-append-file": check_append,
}


@pytest.mark.parametrize("cap", sorted(FILE_CAPS))
def test_file_path_inside_workspace_works(
    cap: str, file_bins: dict[str, Path], layout: Layout
) -> None:
    outside = {k: v for k, v in layout.snapshot().items() if k.startswith("outside")}
    INSIDE_CHECKS[cap](layout, file_bins)
    assert {k: v for k, v in layout.snapshot().items() if k.startswith("outside")} == outside


def test_file_size_limits(file_bins: dict[str, Path], layout: Layout) -> None:
    layout.extra_env = {"RUNTARA_MAX_FILE_SIZE": "4", "RUNTARA_MAX_READ_SIZE": "5"}
    data = {"path": "big.txt", "data": TEXT_DATA}  # 5 bytes
    error = layout.run(file_bins["file-write-file"], data).error()
    assert_step_error(error, "CAPABILITY_ERROR", "permanent", "op")
    assert not (layout.ws / "big.txt").exists()
    error = layout.run(file_bins["file-read-file"], {"path": "inside.txt"}).error()  # 6 bytes
    assert_step_error(error, "CAPABILITY_ERROR", "permanent", "op")
    data = {"path": "small.txt", "data": {"text": "tiny"}}
    assert layout.run(file_bins["file-write-file"], data).ok()["bytes_written"] == 4
    data = {"path": "small.txt", "response_format": "text"}
    assert layout.run(file_bins["file-read-file"], data).ok() == "tiny"


# ================================================================== pay only for what you use


def stripped_size(binary: Path, tmp: Path) -> int:
    copy = tmp / f"{binary.name}.stripped"
    shutil.copy2(binary, copy)
    strip = shutil.which("strip")
    if strip:
        subprocess.run([strip, str(copy)], check=True, capture_output=True, timeout=60)
    return copy.stat().st_size


def test_pay_only_for_what_you_use(build: Builder, tmp_path: Path) -> None:
    none = build("size_no_agent", chain({"done": finish({"r": imm(1)})}))
    transform = build(
        "size_transform",
        chain(
            {
                "len": agent("transform", "array-length", {"value": imm([1, 2, 3])}),
                "done": finish({"r": ref("steps.len.outputs")}),
            }
        ),
    )
    http = build(
        "size_http",
        chain(
            {
                "get": agent("http", "http-request", {"url": ref("data.url")}, maxRetries=0),
                "done": finish({"r": ref("steps.get.outputs.status_code")}),
            },
            ("url",),
        ),
    )
    sizes = {name: stripped_size(b, tmp_path) for name, b in [
        ("no agent", none), ("transform", transform), ("http", http)]}  # fmt: skip
    print("\nstripped binary sizes: " + ", ".join(f"{k} {v:,} B" for k, v in sizes.items()))
    assert sizes["http"] - sizes["transform"] >= 1_000_000, sizes  # the HTTP/TLS stack
    assert abs(sizes["no agent"] - sizes["transform"]) <= 200_000, sizes
    for binary, links_tls in ((none, False), (transform, False), (http, True)):
        assert (b"rustls" in binary.read_bytes()) is links_tls, binary.name
    assert run(transform, tmp_path).ok() == {"r": {"length": 3, "is_array": True}}


# ================================================================== the catalogue


def test_catalogue_matches_the_shared_spec() -> None:
    shared = shared_dir() / "spec" / "agents.json"
    ours = json.loads(CATALOGUE.read_text())
    theirs = json.loads(shared.read_text())
    if not json_equal(ours, theirs):
        ours_caps = {(m["id"], c["id"]): c for m in ours["modules"] for c in m["capabilities"]}
        theirs_caps = {(m["id"], c["id"]): c for m in theirs["modules"] for c in m["capabilities"]}
        differ = sorted(
            k for k in ours_caps.keys() | theirs_caps.keys()
            if not json_equal(ours_caps.get(k), theirs_caps.get(k))
        )  # fmt: skip
        pytest.fail(f"the catalogue differs from {shared}: {differ or 'module metadata'}")


def test_catalogue_is_not_stale(tmp_path: Path) -> None:
    """The checked-in catalogue is what the runtime crate's `catalogue` example prints."""
    env = without_runtara()
    env.update(
        PATH=f"/usr/bin:{env.get('PATH', '')}",
        RUSTC="/usr/bin/rustc",
        CC_x86_64_unknown_linux_musl="musl-gcc",
        CARGO_TARGET_DIR=str(TEST_CACHE / "cargo-examples"),
    )
    argv = [
        "/usr/bin/cargo", "run", "--release", "--locked", "--offline", "-q",
        "--example", "catalogue", "--target", "x86_64-unknown-linux-musl",
    ]  # fmt: skip
    proc = subprocess.run(argv, cwd=REPO / "runtime", env=env, capture_output=True, timeout=1800)
    assert proc.returncode == 0, proc.stderr.decode(errors="replace")[-4000:]
    generated = proc.stdout
    checked_in = CATALOGUE.read_bytes()
    if generated != checked_in:
        (tmp_path / "agents.json").write_bytes(generated)
        same = json_equal(json.loads(generated), json.loads(checked_in))
        pytest.fail(
            f"{CATALOGUE.relative_to(REPO)} is stale"
            + (" (formatting only)" if same else "")
            + ": regenerate it with `cargo run --release --target x86_64-unknown-linux-musl "
            "--example catalogue` in runtime/ (the fresh output is in "
            f"{tmp_path / 'agents.json'})"
        )
