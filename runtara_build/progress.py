"""Progress on stderr: a rich status line on a terminal (when rich is installed), plain
Bazel-style lines otherwise (`[3/5] Rustc //acme/orders:obj`), one per action that ran."""

from __future__ import annotations

import sys
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from runtara_build.executor import Outcome


class Progress:
    """Callable as the engine's progress hook; `close()` when the build is over."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._status: Any = None
        if sys.stderr.isatty():
            try:
                from rich.console import Console
            except ImportError:
                return
            self._status = Console(stderr=True).status("building…")
            self._status.start()

    def __call__(self, outcome: Outcome, done: int, total: int) -> None:
        if outcome.outcome == "hit" or (outcome.target.shared and outcome.outcome != "built"):
            if self._status is not None:
                self._status.update(f"[{done}/{total}] up to date")
            return
        line = f"[{done}/{total}] {outcome.mnemonic} {outcome.target}"
        if outcome.outcome == "failed":
            line += " FAILED"
        with self._lock:
            if self._status is not None:
                self._status.update(line)
                self._status.console.print(line, highlight=False)
            else:
                print(line, file=sys.stderr, flush=True)

    def close(self) -> None:
        if self._status is not None:
            self._status.stop()
