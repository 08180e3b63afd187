"""`query deps|rdeps|somepath|allpaths` over the scenario dependency graph (DSL §11.4).

Outputs (the README's CLI reference documents each): `label` (one name per line),
`json` (`{"query", "targets", "nodes", "edges"}`) and `dot` (a Graphviz digraph).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runtara_build.check import Request, finish, is_label, load_request
from runtara_build.depgraph import DependencyGraph
from runtara_build.errors import Diagnostic
from runtara_build.resolve import ScenarioReference

QueryKind = Literal["deps", "rdeps", "somepath", "allpaths"]
OutputFormat = Literal["label", "json", "dot"]
PAIR_QUERIES = ("somepath", "allpaths")


@dataclass(frozen=True, slots=True)
class QueryResult:
    """The answer as text in the requested format, or the errors that prevented it."""

    text: str
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return not any(d.is_error for d in self.diagnostics)


def run_query(
    kind: QueryKind,
    request: Request,
    *,
    cwd: Path,
    output: OutputFormat = "label",
    universe: Sequence[str] = (),
) -> QueryResult:
    """Load the targets (and for rdeps the universe, by default `//...`) and answer."""
    if kind == "rdeps" and not universe and any(map(is_label, request.targets)):
        universe = ("//...",)
    loaded = load_request(
        Request((*request.targets, *universe), request.children_dir, request.child_files), cwd
    )
    problems = finish(loaded.diagnostics)
    if any(d.is_error for d in problems):
        return QueryResult("", problems)
    targets = [loaded.refs(t) for t in request.targets]
    refs = _answer(kind, loaded.graph, targets)
    return QueryResult(_format(loaded.graph, kind, request.targets, refs, output), problems)


def _answer(
    kind: QueryKind, graph: DependencyGraph, targets: list[list[ScenarioReference]]
) -> tuple[ScenarioReference, ...]:
    flat = [ref for refs in targets for ref in refs]
    if kind in PAIR_QUERIES:
        src, dst = flat[0], flat[-1]
        return graph.somepath(src, dst) if kind == "somepath" else graph.allpaths(src, dst)
    step = graph.deps if kind == "deps" else graph.rdeps
    found = {r for ref in flat for r in step(ref)}
    return tuple(sorted(found, key=lambda r: r.name))


def _format(
    graph: DependencyGraph,
    kind: QueryKind,
    targets: Sequence[str],
    refs: tuple[ScenarioReference, ...],
    output: OutputFormat,
) -> str:
    if output == "label":
        return graph.to_labels(refs)
    if output == "dot":
        return graph.to_dot(refs)
    body = {"query": kind, "targets": list(targets), **graph.to_json(refs)}
    return json.dumps(body, indent=2, ensure_ascii=False) + "\n"
