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

import marshal
import os
import sys
from collections.abc import Sequence

TYPE_CHECKING = False  # not typing's: this module is on every command's path (see entry)
if TYPE_CHECKING:
    import socket
    from typing import BinaryIO

#: Bump when the wire format changes (it is part of the identity, so old servers idle out).
PROTOCOL = 4
# os.path, not pathlib: importing pathlib costs every delegated command ~5 ms.
_PACKAGE = os.path.dirname(os.path.realpath(__file__))


def enabled() -> bool:
    """On unless RUNTARA_BUILD_SERVER=0, and off by default in CI (one build per machine)."""
    explicit = os.environ.get("RUNTARA_BUILD_SERVER")
    if explicit is not None:
        return explicit.strip().lower() not in ("0", "false", "no", "off", "")
    return os.environ.get("CI", "").strip().lower() not in ("true", "1", "yes")


def server_dir() -> str:
    explicit = os.environ.get("RUNTARA_BUILD_SERVER_DIR")
    if explicit:
        return explicit
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if runtime and os.path.isdir(runtime):
        return os.path.join(runtime, "runtara-build")
    return f"/tmp/runtara-build-{os.getuid()}"


def _code_roots() -> list[str]:
    roots = [_PACKAGE]
    for rules in (
        os.path.join(os.path.dirname(_PACKAGE), "rules"),
        os.path.join(_PACKAGE, "_rules"),
    ):
        if os.path.isdir(rules):
            roots.append(rules)
            break
    return roots


def identity() -> str:
    """Which code a server runs: the interpreter and the stat of every source file we load.

    An edited or upgraded runtara-build gets a new server; the old one idles out.
    """
    try:  # hashlib's import loads OpenSSL (~3 ms); blake2 is built in
        from _blake2 import blake2b
    except ImportError:  # pragma: no cover - an interpreter without the builtin module
        from hashlib import blake2b

    digest = blake2b(digest_size=8)
    digest.update(f"{PROTOCOL}\0{sys.executable}\0{sys.version}\0".encode())
    todo = _code_roots()
    while todo:
        entries = sorted(os.scandir(todo.pop()), key=lambda e: e.name)
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                if entry.name != "__pycache__":
                    todo.append(entry.path)
            elif entry.name.endswith((".py", ".json")):
                st = entry.stat()
                digest.update(f"{entry.path}\0{st.st_mtime_ns}\0{st.st_size}\0".encode())
    return digest.hexdigest()


def _socket_dir() -> str | None:
    """The per-user socket directory, created 0700; None if it is not safely ours."""
    directory = server_dir()
    try:
        os.makedirs(directory, mode=0o700, exist_ok=True)
        st = os.stat(directory)
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
    import socket  # here, not above: a command without a server never pays for it

    ident = identity()
    path = os.path.join(directory, f"{ident}.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        sock.connect(path)
    except OSError:
        sock.close()
        _spawn(directory, ident)
        return None
    with sock:
        return _converse(sock, argv)


def _frame(header: dict[str, object]) -> bytes:
    """A request as the server reads it: a 4-byte big-endian length, then marshal data.

    marshal, not JSON: no import (json costs every command ~4 ms), and both ends are the
    same code (the identity says so) talking through a socket only this user can reach.
    """
    body = marshal.dumps(header)
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
    import contextlib
    import signal
    import socket

    umask = os.umask(0o022)
    os.umask(umask)
    header = {"argv": list(argv), "cwd": os.getcwd(), "env": dict(os.environ), "umask": umask}
    message = _frame(header)
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
    """N from the server's next line, `<member> N`, or None if the line is not that."""
    try:
        name, _, value = reader.readline().decode("ascii").partition(" ")
        return int(value) if name == member else None
    except (OSError, ValueError):
        return None


def _spawn(directory: str, ident: str) -> None:
    """Start a server in its own session, unless one is starting already (its lock is held)."""
    import contextlib
    import fcntl
    import subprocess

    try:
        with open(os.path.join(directory, f"{ident}.lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            fcntl.flock(lock, fcntl.LOCK_UN)
        log = open(os.path.join(directory, f"{ident}.log"), "ab")  # noqa: SIM115 - handed to the child
    except OSError:
        return
    with log, contextlib.suppress(OSError):  # no server this time: the command ran here
        subprocess.Popen(
            [sys.executable, "-m", "runtara_build.server", directory, ident],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=log,
            start_new_session=True,
            close_fds=True,
        )


def shutdown() -> int:
    """Stop every server of this user (`runtara-build shutdown`). Always exit 0."""
    import contextlib
    import socket

    directory = server_dir()
    if not os.path.isdir(directory):
        return 0
    for name in sorted(n for n in os.listdir(directory) if n.endswith(".sock")):
        path = os.path.join(directory, name)
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
            try:
                sock.settimeout(5)
                sock.connect(path)
                sock.sendall(_frame({"shutdown": True}))
                stopped = sock.recv(64).startswith(b"bye")
            except OSError:
                stopped = False
        if not stopped:  # nobody listens, or a server of another protocol version: a server
            with contextlib.suppress(OSError):  # whose socket file is gone exits on its own
                os.unlink(path)
    return 0
