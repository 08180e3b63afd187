"""Running processes: the one place (with toolchain/detect) that imports subprocess."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Completed:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str


def scrubbed_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """A minimal environment: nothing from the caller but a fixed PATH and locale."""
    env = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
    env.update(extra or {})
    return env


def run(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: Mapping[str, str],
    timeout: float = 1800,
) -> Completed:
    """Run a tool to completion, capturing its output; never raises on a non-zero exit."""
    try:
        proc = subprocess.run(
            list(argv),
            cwd=cwd,
            env=dict(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return Completed(tuple(argv), 127, "", str(exc))
    return Completed(tuple(argv), proc.returncode, proc.stdout, proc.stderr)


def exec_binary(argv: Sequence[str]) -> int:
    """Replace this process with the workflow binary (`run`): its streams and code are ours."""
    os.execv(argv[0], list(argv))
    return 127  # not reached
