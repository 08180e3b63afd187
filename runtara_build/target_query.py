"""`query` over the target graph (`:src`/`:obj`/`:bin` targets), and `--changed-since`.

A query whose targets carry an explicit kind (`//acme/orders:obj`) is answered on the target
DAG of `graph`; without one, `query.py` answers on the scenario call graph as before.
`--changed-since=REV` maps the files git reports as changed since REV (and untracked files)
to packages, and lists every `:bin` of the workspace that depends on one of them; a change
to WORKSPACE, the rules, the runtime or runtara-build itself affects every binary.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from runtara_build.check import Loaded, Request, finish, load_request
from runtara_build.errors import BuildError, Diagnostic
from runtara_build.graph import Target, TargetGraph, TargetKind
from runtara_build.query import QueryResult

_KIND = re.compile(r":(src|obj|bin)\Z")
#: Paths (relative to the repository) whose change rebuilds everything.
_GLOBAL = ("WORKSPACE", "rules/", "runtime/", "runtara_build/")


def wants_targets(targets: Sequence[str]) -> bool:
    """True when some target names a kind: the target graph is queried."""
    return any(_KIND.search(t) for t in targets)


def _graph(loaded: Loaded) -> TargetGraph:
    docs = loaded.graph.documents
    calls = {ref.name: [c.name for c in loaded.graph.children(ref)] for ref in docs}
    roots = [(ref.name, "bin") for ref in loaded.graph.roots]
    return TargetGraph.build(calls, roots)  # type: ignore[arg-type]


def _target(loaded: Loaded, text: str) -> Target:
    kind: TargetKind = "bin"
    match = _KIND.search(text)
    if match:
        kind = match.group(1)  # type: ignore[assignment]
        text = text[: match.start()]
    refs = loaded.refs(text)
    if len(refs) != 1:
        raise BuildError(Diagnostic("RB001", f"query needs single targets, but {text!r} is not"))
    return Target(refs[0].name, kind)


def target_query(kind: str, request: Request, *, cwd: Path, output: str = "label") -> QueryResult:
    """deps/rdeps/somepath/allpaths over the target graph of the whole workspace."""
    bare = tuple(_KIND.sub("", t) for t in request.targets)
    universe = ("//...",) if any(t.startswith("//") for t in bare) else bare
    loaded = load_request(Request(universe, request.children_dir, request.child_files), cwd)
    problems = finish(loaded.diagnostics)
    if any(d.is_error for d in problems):
        return QueryResult("", problems)
    graph = _graph(loaded)
    chosen = [_target(loaded, t) for t in request.targets]
    if kind in ("somepath", "allpaths"):
        step = graph.somepath if kind == "somepath" else graph.allpaths
        found: Sequence[Target] = step(chosen[0], chosen[-1])
    else:
        pick = graph.deps if kind == "deps" else graph.rdeps
        found = sorted({x for t in chosen if t in graph for x in pick(t)})
    return QueryResult(_format(kind, request.targets, found, graph, output), problems)


def changed_since(rev: str, *, cwd: Path, output: str = "label") -> QueryResult:
    """The `:bin` targets affected by the files changed since `rev`."""
    loaded = load_request(Request(("//...",)), cwd)
    problems = finish(loaded.diagnostics)
    ws = loaded.workspace
    if ws is None or any(d.is_error for d in problems):
        return QueryResult("", problems)
    files = _changed_files(rev, ws.root)
    graph = _graph(loaded)
    bins = [t for t in graph.targets() if t.kind == "bin"]
    if any(f.startswith(_GLOBAL) or f.endswith("/WORKSPACE") for f in files):
        return QueryResult(_format("changed", (rev,), bins, graph, output), problems)
    packages = {"//" + "/".join(f.split("/")[:2]) for f in _relative(files, ws.root)}
    hit = {
        x for ref in loaded.graph.documents if ref.name.split("@")[0] in packages
        for x in graph.rdeps(Target(ref.name, "src")) if x.kind == "bin"
    }  # fmt: skip
    return QueryResult(_format("changed", (rev,), sorted(hit), graph, output), problems)


def _changed_files(rev: str, root: Path) -> list[str]:
    from runtara_build.executor import run, scrubbed_env

    top = run(["git", "rev-parse", "--show-toplevel"], cwd=root, env=scrubbed_env())
    diff = run(["git", "diff", "--name-only", rev, "--"], cwd=root, env=scrubbed_env())
    new = run(["git", "ls-files", "--others", "--exclude-standard"], cwd=root, env=scrubbed_env())
    if top.returncode or diff.returncode:
        msg = f"--changed-since needs a git revision, but git said: {diff.stderr.strip()}"
        raise BuildError(Diagnostic("RB032", msg))
    base = Path(top.stdout.strip())
    untracked = [str((root / f).relative_to(base)) for f in new.stdout.split()]
    return [*diff.stdout.split(), *untracked]


def _relative(files: list[str], root: Path) -> list[str]:
    from runtara_build.executor import run, scrubbed_env

    top = run(["git", "rev-parse", "--show-toplevel"], cwd=root, env=scrubbed_env())
    base = Path(top.stdout.strip())
    found = []
    for name in files:
        path = base / name
        if path.is_relative_to(root):
            found.append(path.relative_to(root).as_posix())
    return found


def _format(
    kind: str, targets: Sequence[str], found: Sequence[Target], graph: TargetGraph, output: str
) -> str:
    if output == "label":
        return "".join(f"{t}\n" for t in found)
    chosen = set(found)
    edges = [(d, t) for t in found for d in graph.dependencies(t) if d in chosen]
    if output == "dot":
        lines = [f'  "{t}";' for t in found] + [f'  "{t}" -> "{d}";' for d, t in edges]
        return "\n".join(["digraph runtara {", *lines, "}"]) + "\n"
    body = {
        "query": kind,
        "targets": list(targets),
        "nodes": [{"label": str(t), "kind": t.kind} for t in found],
        "edges": [{"from": str(t), "to": str(d)} for d, t in edges],
    }
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
