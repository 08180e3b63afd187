"""The console script: the no-op fast path first, then the warm build server, then the CLI.

Kept apart from `cli` so an up-to-date build imports nothing but this, `manifest` and the
stdlib (STYLE §4): no argparse, no dataclasses, no pydantic or networkx. A miss goes to the
build server (`client`, docs/SERVER.md), which has all of those imported already; only when
there is none does this process import them itself.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv and argv[0].startswith("//"):
        from pathlib import Path

        from runtara_build.manifest import try_noop

        replayed = try_noop(["build", *argv], Path(os.getcwd()))
        if replayed is not None:
            return replayed
    elif argv[:1] == ["build"]:
        from pathlib import Path

        from runtara_build.manifest import try_noop

        replayed = try_noop(argv, Path(os.getcwd()))
        if replayed is not None:
            return replayed
    if argv == ["shutdown"]:
        from runtara_build.client import shutdown

        return shutdown()
    from runtara_build.client import delegate

    delegated = delegate(argv)
    if delegated is not None:
        return delegated
    from runtara_build.cli import main as full

    return full(argv, fast_path=False)


if __name__ == "__main__":
    sys.exit(main())
