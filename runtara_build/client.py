"""The client half of the build server (docs/SERVER.md). Stdlib only, like `entry`.

A cold `runtara-build` spends most of a small rebuild importing pydantic and networkx and
building the step models (about 0.4 s here), not building. So, as Bazel does, a command that
misses the no-op fast path is handed to a warm server process: it forks a child per command,
and the child runs the ordinary CLI with this process's stdin, stdout and stderr (passed as
file descriptors), working directory, environment and umask. The exit code comes back over
the socket. When no server answers, the command runs here as before and a server is started
in the background for the next one, so the server is only ever an optimisation.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

#: Bump when the wire format changes (it is part of the identity, so old servers idle out).
PROTOCOL = 1
_PACKAGE = Path(__file__).resolve().parent


def enabled() -> bool:
    """On unless RUNTARA_BUILD_SERVER=0, and off by default in CI (one build per machine)."""
    explicit = os.environ.get("RUNTARA_BUILD_SERVER")
    if explicit is not None:
        return explicit.strip().lower() not in ("0", "false", "no", "off", "")
    return os.environ.get("CI", "").strip().lower() not in ("true", "1", "yes")


def server_dir() -> Path:
    explicit = os.environ.get("RUNTARA_BUILD_SERVER_DIR")
    if explicit:
        return Path(explicit)
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return Path(runtime) / "runtara-build"
    return Path("/tmp") / f"runtara-build-{os.getuid()}"


def _code_roots() -> list[Path]:
    roots = [_PACKAGE]
    for rules in (_PACKAGE.parent / "rules", _PACKAGE / "_rules"):
        if rules.is_dir():
            roots.append(rules)
            break
    return roots


def identity() -> str:
    """Which code a server runs: the interpreter and the stat of every source file we load.

    An edited or upgraded runtara-build gets a new server; the old one idles out.
    """
    import hashlib

    digest = hashlib.blake2b(digest_size=8)
    digest.update(f"{PROTOCOL}\0{sys.executable}\0{sys.version}\0".encode())
    todo = _code_roots()
    while todo:
        entries = sorted(os.scandir(todo.pop()), key=lambda e: e.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    todo.append(Path(entry.path))
            elif entry.name.endswith((".py", ".json")):
                st = entry.stat()
                digest.update(f"{entry.path}\0{st.st_mtime_ns}\0{st.st_size}\0".encode())
    return digest.hexdigest()


def _socket_dir() -> Path | None:
    """The per-user socket directory, created 0700; None if it is not safely ours."""
    directory = server_dir()
    try:
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        st = directory.stat()
    except OSError:
        return None
    if st.st_uid != os.getuid() or st.st_mode & 0o077:
        return None  # someone else's, or open to others: never hand it our terminal
    return directory


def delegate(argv: Sequence[str]) -> int | None:
    """Run the command in the warm server; None when there is none (the caller runs it)."""
    if not enabled() or not _stdio_open():
        return None
    directory = _socket_dir()
    if directory is None:
        return None
    ident = identity()
    path = directory / f"{ident}.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(str(path))
    except OSError:
        sock.close()
        _spawn(directory, ident)
        return None
    with sock:
        return _converse(sock, argv)


def _frame(header: dict[str, object]) -> bytes:
    """A request as the server reads it: a 4-byte big-endian length, then JSON."""
    body = json.dumps(header).encode()
    return len(body).to_bytes(4, "big") + body


def _stdio_open() -> bool:
    """All three standard streams exist (a closed one would be a socket we open next)."""
    try:
        for fd in (0, 1, 2):
            os.fstat(fd)
    except OSError:
        return False
    return True


def _converse(sock: socket.socket, argv: Sequence[str]) -> int | None:
    umask = os.umask(0o022)
    os.umask(umask)
    message = _frame(
        {"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask}
    )
    try:
        socket.send_fds(sock, [message[:4096]], [0, 1, 2])
        sock.sendall(message[4096:])
    except OSError:
        return None  # a closed stdio stream or a dying server: run it here
    reader = sock.makefile("rb")
    pid = _reply(reader, "pid")
    if pid is None:
        return None  # the server refused before starting anything: run it here

    def forward(signum: int, _frame: object) -> None:
        with contextlib.suppress(OSError):
            os.kill(pid, signum)

    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, forward)
    code = _reply(reader, "exit")
    if code is None:
        sys.stderr.write(
            "error[RB399]: the build server stopped before the command finished; "
            "run it again (RUNTARA_BUILD_SERVER=0 runs it without the server)\n"
        )
        return 70
    return code if code >= 0 else 128 - code  # killed by a signal: the shell's convention


def _reply(reader: BinaryIO, member: str) -> int | None:
    """The integer `member` of the server's next line, or None if the line is not that."""
    try:
        value = json.loads(reader.readline() or b"null")
    except (OSError, ValueError):
        return None
    found = value.get(member) if isinstance(value, dict) else None
    return found if isinstance(found, int) else None


def _spawn(directory: Path, ident: str) -> None:
    """Start a server in its own session, unless one is starting already (its lock is held)."""
    import fcntl
    import subprocess

    try:
        with open(directory / f"{ident}.lock", "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)
        log = open(directory / f"{ident}.log", "ab")  # noqa: SIM115 - handed to the child
    except OSError:
        return
    with log, contextlib.suppress(OSError):
        subprocess.Popen(
            [sys.executable, "-m", "runtara_build.server", str(directory), ident],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def shutdown() -> int:
    """Stop every server of this user (`runtara-build shutdown`). Always exit 0."""
    directory = server_dir()
    if not directory.is_dir():
        return 0
    for path in sorted(directory.glob("*.sock")):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            try:
                sock.settimeout(5)
                sock.connect(str(path))
                sock.sendall(_frame({"shutdown": True}))
                sock.recv(64)
            except OSError:
                with contextlib.suppress(OSError):
                    path.unlink()  # nobody listens: a stale socket file
    return 0
