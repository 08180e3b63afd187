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
    plan = None
    build = ["build", *argv] if argv and argv[0].startswith("//") else argv
    if build[:1] == ["build"]:
        from runtara_build.manifest import look

        replayed, plan = look(build, os.getcwd())
        if replayed is not None:
            return replayed
    if argv == ["shutdown"]:
        from runtara_build.client import shutdown

        return shutdown()
    from runtara_build.client import delegate

    delegated = delegate(argv, plan)
    if delegated is not None:
        return delegated
    from runtara_build.cli import main as full

    return full(argv, fast_path=False, plan=plan)


if __name__ == "__main__":
    sys.exit(main())
