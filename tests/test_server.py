"""The build server (docs/SERVER.md): commands through a real warm server, compared with the
same commands run in their own process. Every test starts its own server in a private
directory and shuts it down, so none outlives the suite."""

from __future__ import annotations

import json
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from runtara_build import client
from tests.support.binaries import CLI, without_runtara
from tests.test_binaries import make_workspace

VALID = {"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "f"}
BROKEN = {"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "nowhere"}


class Server:
    """A private server directory and the environment that points the CLI at it."""

    def __init__(self) -> None:
        # AF_UNIX paths are short (108 bytes): not under pytest's long tmp_path.
        self.dir = Path(tempfile.mkdtemp(prefix="rbs-", dir="/tmp"))
        self.env = {**without_runtara(), "RUNTARA_BUILD_SERVER": "1",
                    "RUNTARA_BUILD_SERVER_DIR": str(self.dir),
                    "RUNTARA_BUILD_SERVER_IDLE": "120"}  # fmt: skip

    def run(self, *args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
        return subprocess.run([str(CLI), *args], cwd=cwd, env=self.env, capture_output=True,
                              text=True, timeout=300, **kwargs)  # type: ignore[call-overload]  # fmt: skip

    def sockets(self) -> list[Path]:
        return sorted(self.dir.glob("*.sock"))

    def wait_ready(self, timeout: float = 60) -> Path:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for path in self.sockets():
                with socket.socket(socket.AF_UNIX) as probe:
                    try:
                        probe.connect(str(path))
                    except OSError:
                        continue
                    return path
            time.sleep(0.05)
        logs = "".join(p.read_text() for p in self.dir.glob("*.log"))
        raise AssertionError(f"no build server came up in {self.dir}:\n{logs}")

    def served(self, count: int = 0) -> list[dict[str, object]]:
        """The commands the server ran, from its log, once it has logged `count` of them (a
        client has its answer from the command before the server logs the command's end)."""
        deadline = time.monotonic() + 30
        while True:
            lines = "".join(p.read_text() for p in self.dir.glob("*.log")).splitlines()
            found = [json.loads(line) for line in lines if line.startswith("{")]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.02)


@pytest.fixture
def server() -> Iterator[Server]:
    found = Server()
    try:
        yield found
    finally:
        servers = {int(str(line["server"])) for line in found.served() if "server" in line}
        subprocess.run([str(CLI), "shutdown"], env=found.env, timeout=60, check=True)
        deadline = time.monotonic() + 30
        while (found.sockets() or any(map(_alive, servers))) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not found.sockets(), "shutdown left a server listening"
        # A server waiting forever on a command it lost track of exits neither on shutdown
        # nor when idle: every server that ran a command must be gone.
        assert not [pid for pid in servers if _alive(pid)], "a server outlived shutdown"
        shutil.rmtree(found.dir, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"  # a zombie has exited; its reaper may be slow


def workspace(root: Path) -> Path:
    root.mkdir(parents=True)
    (root / "WORKSPACE").write_text("")
    for name, doc in (("ok", VALID), ("bad", BROKEN)):
        (root / "acme" / name).mkdir(parents=True)
        (root / "acme" / name / "scenario.json").write_text(json.dumps(doc, indent=2))
    return root


def test_a_command_through_the_server_prints_and_exits_as_in_its_own_process(
    server: Server, tmp_path: Path
) -> None:
    ws = workspace(tmp_path / "ws")
    alone = subprocess.run([str(CLI), "check", "//...", "--output=json"], cwd=ws,
                           env={**server.env, "RUNTARA_BUILD_SERVER": "0"},
                           capture_output=True, text=True, check=False)  # fmt: skip
    assert alone.returncode == 1 and "/entryPoint" in alone.stdout
    assert not server.sockets()  # RUNTARA_BUILD_SERVER=0: no server was started

    first = server.run("check", "//...", "--output=json", cwd=ws)  # runs here, starts one
    server.wait_ready()
    second = server.run("check", "//...", "--output=json", cwd=ws)
    for result in (first, second):
        assert (result.returncode, result.stdout, result.stderr) == (
            alone.returncode, alone.stdout, alone.stderr)  # fmt: skip
    served = server.served(1)
    assert [s["argv"] for s in served] == [["check", "//...", "--output=json"]]
    assert served[0]["cwd"] == str(ws) and served[0]["exit"] == 1


def test_no_op_and_dirty_builds_through_the_server(server: Server, tmp_path: Path) -> None:
    # The server's child takes the fast path: a no-op replays, an edit builds its target only.
    ws = workspace(tmp_path / "ws")
    (ws / "acme" / "bad").rename(ws / "acme" / "other")
    (ws / "acme" / "other" / "scenario.json").write_text(json.dumps(VALID))
    events = tmp_path / "events.jsonl"
    build = ("build", "//...:src", "--events", str(events))
    first = server.run(*build, cwd=ws)  # runs here, starts a server
    assert first.returncode == 0, first.stderr
    server.wait_ready()
    noop = server.run(*build, cwd=ws)
    assert (noop.returncode, noop.stdout, noop.stderr) == (0, first.stdout, "")
    edited = {**VALID, "name": "edited", "steps": {"f": {"stepType": "Finish", "id": "f",
              "inputMapping": {"x": {"valueType": "immediate", "value": 7}}}}}  # fmt: skip
    (ws / "acme" / "ok" / "scenario.json").write_text(json.dumps(edited))
    dirty = server.run(*build, cwd=ws)
    assert (dirty.returncode, dirty.stdout) == (0, first.stdout), dirty.stderr
    assert dirty.stderr.splitlines() == ["[1/1] Generate //acme/ok:src"]
    outcomes = [json.loads(line) for line in events.read_text().splitlines()]
    assert {e["label"]: e["outcome"] for e in outcomes} == {
        "//acme/ok:src": "built", "//acme/other:src": "hit"}  # fmt: skip
    assert [s["argv"][:2] for s in server.served(2)] == [["build", "//...:src"]] * 2


def test_quick_commands_through_the_server_run_once_each(server: Server, tmp_path: Path) -> None:
    # A no-op answers within milliseconds of the fork: its `exit` must never overtake the
    # `pid` line, or the client would run the command again and the server lose track of it.
    ws = workspace(tmp_path / "ws")
    (ws / "acme" / "bad" / "scenario.json").write_text(json.dumps(VALID))
    first = server.run("build", "//...:src", cwd=ws)  # runs here, starts a server
    assert first.returncode == 0, first.stderr
    server.wait_ready()
    for _ in range(25):
        again = server.run("build", "//...:src", cwd=ws)
        assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
    served = server.served(25)
    assert len(served) == 25 and all(s["exit"] == 0 for s in served)


def test_the_command_gets_the_clients_directory_environment_and_umask(
    server: Server, tmp_path: Path
) -> None:
    ws = workspace(tmp_path / "ws")
    sub = ws / "acme" / "ok"
    server.run("check", "//acme/ok", cwd=sub)
    server.wait_ready()
    # From a subdirectory (the workspace is found upwards), with a variable only this
    # command has: the cache of `clean --expunge` in file mode comes from the environment.
    cache = tmp_path / "elsewhere-cache"
    cache.mkdir()
    (cache / "blob").write_text("x")
    outside = tmp_path / "outside"
    outside.mkdir()
    env_cmd = subprocess.run([str(CLI), "clean", "--expunge"], cwd=outside,
                             env={**server.env, "RUNTARA_CACHE_DIR": str(cache)},
                             capture_output=True, text=True, check=False)  # fmt: skip
    assert env_cmd.returncode == 0, env_cmd.stderr
    assert not (cache / "blob").exists()
    checked = server.run("check", "//acme/ok", cwd=sub)
    assert checked.returncode == 0, checked.stderr
    served = server.served(2)
    assert [s["cwd"] for s in served] == [str(outside), str(sub)]


@pytest.mark.rustc
@pytest.mark.slow
def test_build_and_run_through_the_server(
    server: Server, tmp_path: Path, runtime_cache: Path
) -> None:
    ws = make_workspace(tmp_path / "ws", runtime_cache)
    server.run("check", "//...", cwd=ws)
    server.wait_ready()

    old = os.umask(0o077)
    try:
        built = server.run("build", "//acme/greet", cwd=ws)
    finally:
        os.umask(old)
    assert built.returncode == 0, built.stderr
    binary = Path(built.stdout.strip())
    assert binary.is_file()
    # The umask is the client's: directories the command creates are private.
    assert stat.S_IMODE((ws / "runtara-out" / "bin").stat().st_mode) == 0o700

    # stdin is the client's too: the binary reads its input from it.
    data = json.dumps({"data": {"name": "server"}})
    ran = server.run("run", "//acme/greet", "--", "--input", "-", cwd=ws, input=data)
    direct = subprocess.run([str(binary), "--input", "-"], cwd=tmp_path, env={}, input=data,
                            capture_output=True, text=True, check=False)  # fmt: skip
    assert ran.returncode == direct.returncode == 0, ran.stderr
    assert ran.stdout.splitlines()[-1] == direct.stdout.splitlines()[-1]
    assert [s["argv"][0] for s in server.served(2)] == ["build", "run"]

    # A failing binary's exit code comes back through the server unchanged.
    failing = server.run("run", "//acme/greet", "--", "--input", "-", cwd=ws, input="{")
    assert failing.returncode == 2, failing.stderr
    assert server.served(3)[-1]["exit"] == 2


def test_a_closed_stdin_falls_back_to_running_here(server: Server, tmp_path: Path) -> None:
    ws = workspace(tmp_path / "ws")
    server.run("check", "//acme/ok", cwd=ws)
    server.wait_ready()
    result = server.run("check", "//acme/ok", cwd=ws, stdin=None, preexec_fn=lambda: os.close(0))
    assert result.returncode == 0, result.stderr
    assert server.served() == []  # the descriptors could not be passed: it ran in-process


def test_shutdown_without_a_server_is_fine(tmp_path: Path) -> None:
    env = {**without_runtara(), "RUNTARA_BUILD_SERVER_DIR": str(tmp_path / "none")}
    result = subprocess.run([str(CLI), "shutdown"], env=env, capture_output=True, text=True,
                            check=False)  # fmt: skip
    assert result.returncode == 0 and result.stdout == result.stderr == ""


def test_the_server_is_off_in_ci_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    for variable in ("RUNTARA_BUILD_SERVER", "CI"):
        monkeypatch.delenv(variable, raising=False)
    assert client.enabled()
    monkeypatch.setenv("CI", "true")
    assert not client.enabled()
    monkeypatch.setenv("RUNTARA_BUILD_SERVER", "1")
    assert client.enabled()
    monkeypatch.setenv("RUNTARA_BUILD_SERVER", "0")
    monkeypatch.delenv("CI")
    assert not client.enabled()


def test_identity_follows_the_code(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    source = tmp_path / "pkg" / "mod.py"
    source.write_text("A = 1\n")
    monkeypatch.setattr(client, "_code_roots", lambda: [tmp_path / "pkg"])
    before = client.identity()
    assert client.identity() == before
    source.write_text("A = 22\n")
    assert client.identity() != before


def test_a_socket_directory_open_to_others_is_not_used(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o777)
    shared.chmod(0o777)
    monkeypatch.setenv("RUNTARA_BUILD_SERVER_DIR", str(shared))
    monkeypatch.setenv("RUNTARA_BUILD_SERVER", "1")
    assert client.delegate(["check"]) is None
    assert list(shared.iterdir()) == []  # nothing spawned, nothing written
