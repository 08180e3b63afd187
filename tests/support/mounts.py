"""Small tmpfs mounts for store-failure tests (full disk, read-only); tests run as root."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _mount(*argv: str) -> None:
    proc = subprocess.run(["mount", *argv], capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")


@contextmanager
def tmpfs(where: Path, size: str = "64k") -> Iterator[Path]:
    """A fresh tmpfs of `size` at `where`, unmounted on exit."""
    where.mkdir(parents=True, exist_ok=True)
    _mount("-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], capture_output=True, check=False)


def remount_read_only(where: Path) -> None:
    _mount("-o", "remount,ro", str(where))


def fill(where: Path) -> None:
    """Fill the file system at `where` completely."""
    with (where / "filler").open("wb", buffering=0) as f:
        try:
            while True:
                f.write(b"\0" * 4096)
        except OSError:
            pass
