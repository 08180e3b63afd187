"""The console script: the warm build server, else the no-op fast path, else the CLI.

A command goes to the build server (`client`, docs/SERVER.md) when one answers: its forked
child tries the fast path with everything imported already, and looks at the manifest once
for both the no-op and an edit's dirty set. Without a server, this process tries the fast
path itself, importing nothing but this, `client`, `manifest` and the stdlib (STYLE §4): no
argparse, no dataclasses, no pydantic or networkx; only a miss imports the CLI.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    argv = sys.argv[1:]
    if argv == ["shutdown"]:
        from runtara_build.client import shutdown

        return shutdown()
    from runtara_build.client import delegate

    delegated = delegate(argv)  # the server's command takes the fast path itself
    if delegated is not None:
        return delegated
    plan = None
    build = ["build", *argv] if argv and argv[0].startswith("//") else argv
    if build[:1] == ["build"]:
        from runtara_build.manifest import look

        replayed, plan = look(build, os.getcwd())
        if replayed is not None:
            return replayed
    from runtara_build.cli import main as full

    return full(argv, fast_path=False, plan=plan)


if __name__ == "__main__":
    sys.exit(main())
