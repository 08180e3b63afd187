"""The build server (docs/SERVER.md): a warm process that forks one child per command.

    python -m runtara_build.server DIRECTORY IDENTITY

It imports the whole tool and builds the step models once, then listens on
`DIRECTORY/IDENTITY.sock`. Each command forks a child that runs the ordinary CLI with the
client's stdio, working directory, environment and umask, so a command sees exactly what a
cold process would (nothing a previous command did leaks into the next) minus the start-up.
One thread, one selector: the listening socket, each client connection (a client that goes
away interrupts its command) and a pidfd per child (its exit code goes back to the client).
The server exits after `RUNTARA_BUILD_SERVER_IDLE` seconds without a command (default 900),
on `runtara-build shutdown`, or when its socket file is removed or taken by another server.
"""

from __future__ import annotations

import contextlib
import fcntl
import gc
import importlib
import io
import json
import marshal
import os
import selectors
import signal
import socket
import sys
import time
from dataclasses import dataclass
from pathlib import Path

#: Imported before the first fork, so no command pays for them.
WARM_MODULES = (
    "runtara_build.cli",
    "runtara_build.check",
    "runtara_build.build",
    "runtara_build.targets",
    "runtara_build.executor",
    "runtara_build.explain",
    "runtara_build.codegen.program",
    "runtara_build.codegen.main",
    "runtara_build.validate.document",
    "runtara_build.target_query",
    "runtara_build.cmd_cache",
    "runtara_build.progress",
    "runtara_build.store_cli",
    "runtara_build.store_inspect",
    "runtara_build.cache.local",
    "runtara_build.inputs",
    "runtara_build.manifest",
    "runtara_build.runtime_lib",
    "runtara_build.toolchain.identity",
    "rich.console",
    "rich.status",
    "runtara_build.query",
    "runtara_build.dirty",
    "encodings.hex_codec",  # diskcache names its blob files with it
)
_MAX_HEADER = 16 << 20
_CHECK_EVERY = 30.0


@dataclass
class Command:
    conn: socket.socket
    pid: int
    pidfd: int
    header: dict[str, object]
    started: float


def warm() -> None:
    for name in WARM_MODULES:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    from runtara_build.cli import build_parser
    from runtara_build.registry import builtin_rules

    builtin_rules()
    build_parser()


def _read_header(conn: socket.socket) -> tuple[dict[str, object], list[int]]:
    data, fds, _flags, _addr = socket.recv_fds(conn, 4096, 3)
    if len(data) < 4:
        raise ValueError("short header")
    size = int.from_bytes(data[:4], "big")
    if size > _MAX_HEADER:
        raise ValueError("header too large")
    body = bytearray(data[4:])
    while len(body) < size:
        chunk = conn.recv(min(1 << 20, size - len(body)))
        if not chunk:
            raise ValueError("truncated header")
        body += chunk
    value = marshal.loads(bytes(body))  # the client's `_frame`
    if not isinstance(value, dict):
        raise ValueError("header is not an object")
    return value, fds


def _child(header: dict[str, object], fds: list[int]) -> int:
    """Become the command: the client's streams, place and environment, then the CLI."""
    for fd, target in zip(fds, (0, 1, 2), strict=True):
        os.dup2(fd, target)
        os.close(fd)
    for stream in (sys.stdout, sys.stderr):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(line_buffering=stream.isatty())
    os.chdir(str(header["cwd"]))
    env = header["env"]
    assert isinstance(env, dict)
    os.environ.clear()
    os.environ.update({str(k): str(v) for k, v in env.items()})
    os.umask(int(str(header.get("umask", 0o022))))
    argv = [str(a) for a in header["argv"]]  # type: ignore[attr-defined]
    sys.argv = ["runtara-build", *argv]
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from runtara_build.cli import main

    return main(argv)  # the fast path first: the client leaves it to the server


def _answer(conn: socket.socket, code: int) -> None:
    """The child tells its client the exit code itself, once its output is out and its copies
    of the client's streams are closed (a reader of them sees the end now): the client need
    not wait for this process to be torn down and reaped. The server still answers on the
    child's exit, for a child that never got here; the client reads the first answer."""
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    finally:
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        with contextlib.suppress(OSError):
            conn.sendall(f"exit {code}\n".encode())


def _warm_store(header: dict[str, object]) -> None:
    """After a build, open its workspace's store here, so the next build's child inherits it
    open (`cache.local.warm`): the only state the server keeps between commands, and it is
    checked against the store's files before each use."""
    argv, cwd = header.get("argv"), header.get("cwd")
    if not isinstance(argv, list) or not argv or not isinstance(cwd, str):
        return
    if argv[0] in ("build", "run") or str(argv[0]).startswith("//"):
        from runtara_build.build import warm_store

        with contextlib.suppress(Exception):  # an optimisation: never the server's end
            warm_store(Path(cwd))


class Server:
    def __init__(self, directory: Path, ident: str) -> None:
        self.path = directory / f"{ident}.sock"
        self.idle = float(os.environ.get("RUNTARA_BUILD_SERVER_IDLE", "900"))
        self.selector = selectors.DefaultSelector()
        self.commands: dict[int, Command] = {}
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.inode = 0
        self.stopping = False

    def bind(self) -> None:
        """Listen on a private name, then rename it into place: a client never meets a
        server that is not ready, and two racing servers leave exactly one reachable."""
        tmp = self.path.with_name(f".{self.path.stem}.{os.getpid()}.sock")
        tmp.unlink(missing_ok=True)
        self.listener.bind(str(tmp))
        self.listener.listen(64)
        os.replace(tmp, self.path)
        self.inode = os.stat(self.path).st_ino
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, None)

    def owns_socket(self) -> bool:
        try:
            return os.stat(self.path).st_ino == self.inode
        except OSError:
            return False

    def serve(self) -> None:
        last = time.monotonic()
        while True:
            busy = bool(self.commands)
            if not busy and (self.stopping or time.monotonic() - last > self.idle):
                return
            for key, _ in self.selector.select(timeout=_CHECK_EVERY):
                if key.data is None:
                    self.accept()
                else:
                    self.finish(key.data, from_pidfd=key.fd == key.data.pidfd)
                last = time.monotonic()
            if not self.stopping and not self.owns_socket():
                self.stop()

    def stop(self) -> None:
        self.stopping = True
        self.selector.unregister(self.listener)
        self.listener.close()
        if self.owns_socket():
            self.path.unlink(missing_ok=True)

    def accept(self) -> None:
        try:
            conn, _ = self.listener.accept()
        except OSError:
            return
        conn.setblocking(True)
        conn.settimeout(10)
        fds: list[int] = []
        try:
            header, fds = _read_header(conn)
            if header.get("shutdown"):
                conn.sendall(b"bye 0\n")
                conn.close()
                self.stop()
                return
            if len(fds) != 3:
                raise ValueError("expected three file descriptors")
            self.fork(conn, header, fds)
        except (OSError, ValueError, KeyError, TypeError):
            conn.close()  # the client runs the command itself
        finally:
            for fd in fds:
                with contextlib.suppress(OSError):
                    os.close(fd)

    def fork(self, conn: socket.socket, header: dict[str, object], fds: list[int]) -> None:
        pid = os.fork()
        if pid == 0:
            code = 70
            try:
                self.selector.close()
                self.listener.close()
                for other in self.commands.values():
                    other.conn.close()
                    os.close(other.pidfd)
                # The child, not the server, says its pid first: it may answer `exit` within
                # milliseconds (a no-op), and that must never reach the client before `pid`.
                conn.sendall(f"pid {os.getpid()}\n".encode())
                code = _child(header, fds)
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else 1
            except BaseException:
                import traceback

                traceback.print_exc()
            finally:
                try:
                    _answer(conn, code)
                finally:
                    os._exit(code)
        pidfd = os.pidfd_open(pid)
        command = Command(conn, pid, pidfd, header, time.monotonic())
        self.commands[pid] = command
        self.selector.register(pidfd, selectors.EVENT_READ, command)
        self.selector.register(conn, selectors.EVENT_READ, command)

    def finish(self, command: Command, *, from_pidfd: bool) -> None:
        if command.pid not in self.commands:
            return  # reaped earlier in this batch: its pid may already be someone else's
        if not from_pidfd:
            try:
                gone = command.conn.recv(4096, socket.MSG_DONTWAIT) == b""
            except BlockingIOError:
                gone = False
            except OSError:
                gone = True
            if gone:  # the client went away (killed): interrupt its command
                with contextlib.suppress(OSError):
                    os.kill(command.pid, signal.SIGINT)
                self.selector.unregister(command.conn)
            return
        _, status = os.waitpid(command.pid, 0)
        self.selector.unregister(command.pidfd)
        os.close(command.pidfd)
        with contextlib.suppress(KeyError):
            self.selector.unregister(command.conn)
        exit_code = os.waitstatus_to_exitcode(status)
        with contextlib.suppress(OSError):
            command.conn.sendall(f"exit {exit_code}\n".encode())
        ms = int((time.monotonic() - command.started) * 1000)
        log = {"server": os.getpid(), "pid": command.pid, "argv": command.header.get("argv"),
               "cwd": command.header.get("cwd"), "exit": exit_code, "ms": ms}  # fmt: skip
        print(json.dumps(log), flush=True)  # one line per command in the server's log
        command.conn.close()
        del self.commands[command.pid]
        _warm_store(command.header)


def main(argv: list[str]) -> int:
    directory, ident = Path(argv[0]), argv[1]
    lock = open(directory / f"{ident}.lock", "a")  # noqa: SIM115 - held for our lifetime
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return 0  # another server of this identity is starting or running
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    warm()
    server = Server(directory, ident)
    server.bind()
    gc.freeze()  # the warm heap stays shared with the children instead of being copied
    try:
        server.serve()
    finally:
        if not server.stopping:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
