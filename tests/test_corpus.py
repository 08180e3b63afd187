"""Validation against the shared suites: the upstream corpus and the conformance cases.

Corpus (`corpus/README.md`): every file parses, and gives exactly the error codes of its
README row, read from the README itself at test time; `--strict` adds E052/E054 from the
warnings column. Conformance: an `invalid` case reports at least its codes (E057 is the
caller's), and every other scenario and child validates without an error.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from runtara_build.dsl.load import Document
from runtara_build.dsl.workflow import ExecutionGraph
from runtara_build.errors import Diagnostic, render
from runtara_build.validate import validate_document
from tests.shared import child_lookup, load_document, shared_dir, shared_dir_or_none

pytestmark = pytest.mark.shared

CODE = re.compile(r"\b[EW]\d{3}\b")
#: The child pairing of corpus/README.md: parent file -> (childScenarioId, child file).
PAIRING = {
    "fixtures/start_scenario_workflow.json": ("child_scenario", "fixtures/child_scenario.json"),
    "fixtures/parent_missing_child_input.json": (
        "child-with-schema",
        "fixtures/child_with_schema.json",
    ),
}
#: Resolving children is the caller's job: validate_document never reports these.
CALLER_CODES = {"E056", "E057"}


def _readme_rows(text: str) -> dict[str, tuple[set[str], set[str]]]:
    """File (relative to runtara/) -> (errors, warnings), from the tables of the README."""
    rows: dict[str, tuple[set[str], set[str]]] = {}
    folder, columns = "", [""]
    for line in text.splitlines():
        heading = re.match(r"### `runtara/(\w+)/`", line)
        if heading:
            folder = heading.group(1)
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("|") or len(cells) < 3:
            continue
        if cells[0] == "File":
            columns = cells
        elif cells[0].endswith(".json") and folder and "Errors" in columns:
            errors = set(CODE.findall(cells[columns.index("Errors")]))
            warnings = set(CODE.findall(cells[columns.index("Warnings")]))
            rows[f"{folder}/{cells[0]}"] = (errors - CALLER_CODES, warnings)
    return rows


def _corpus_files() -> list[str]:
    root = shared_dir_or_none()
    if root is None:
        return ["(shared suites missing)"]
    base = root / "corpus" / "runtara"
    return sorted(p.relative_to(base).as_posix() for p in base.glob("*/*.json"))


def _errors(diags: list[Diagnostic]) -> set[str]:
    return {d.code for d in diags if d.is_error}


def _validate_with_children(base: Path, name: str, *, strict: bool) -> list[Diagnostic]:
    doc = _loaded(base / name, name)
    children: dict[str, ExecutionGraph] = {}
    found: list[Diagnostic] = []
    if name in PAIRING:
        child_id, child_file = PAIRING[name]
        child = _loaded(base / child_file, child_file)
        assert child.graph is not None
        children[child_id] = child.graph
        found += validate_document(child, strict=strict)
    return found + validate_document(doc, strict=strict, children=child_lookup(children))


def _loaded(path: Path, name: str) -> Document:
    doc = load_document(path, name)
    assert not doc.diagnostics, "\n".join(map(render, doc.diagnostics))
    return doc


@pytest.fixture(scope="module")
def corpus() -> tuple[Path, dict[str, tuple[set[str], set[str]]]]:
    root = shared_dir() / "corpus"
    return root / "runtara", _readme_rows((root / "README.md").read_text(encoding="utf-8"))


def test_readme_lists_every_file(corpus: tuple[Path, dict[str, tuple[set[str], set[str]]]]) -> None:
    _base, rows = corpus
    assert sorted(rows) == _corpus_files()
    assert len(rows) == 63


@pytest.mark.parametrize("name", _corpus_files())
def test_corpus_file(name: str, corpus: tuple[Path, dict[str, tuple[set[str], set[str]]]]) -> None:
    base, rows = corpus
    expected, _warnings = rows[name]
    found = _validate_with_children(base, name, strict=False)
    assert _errors(found) == expected, "\n".join(map(render, found))


@pytest.mark.parametrize("name", _corpus_files())
def test_corpus_file_strict(
    name: str, corpus: tuple[Path, dict[str, tuple[set[str], set[str]]]]
) -> None:
    """Under --strict, E052 and E054 from the warnings column become errors too."""
    base, rows = corpus
    expected, warnings = rows[name]
    found = _validate_with_children(base, name, strict=True)
    assert _errors(found) == expected | (warnings & {"E052", "E054"})


# --------------------------------------------------------------------------- conformance


def _cases() -> list[str]:
    root = shared_dir_or_none()
    if root is None:
        return ["(shared suites missing)"]
    return sorted(p.name for p in (root / "conformance").iterdir() if p.is_dir())


def _validate_case(case: Path) -> tuple[set[str], list[Diagnostic]]:
    """Error codes of the scenario and of every child in `children/`, with children paired."""
    docs = [_loaded(case / "scenario.json", "scenario.json")]
    docs += [_loaded(p, p.name) for p in sorted((case / "children").glob("*.json"))]
    graphs = {Path(d.file).stem: d.graph for d in docs[1:] if d.graph is not None}
    lookup = child_lookup(graphs)
    found = [d for doc in docs for d in validate_document(doc, children=lookup)]
    return _errors(found), found


@pytest.mark.parametrize("name", _cases())
def test_conformance_case(name: str) -> None:
    case = shared_dir() / "conformance" / name
    expected = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    codes, found = _validate_case(case)
    if "invalid" in expected:
        wanted = set(expected["invalid"]) - CALLER_CODES
        assert wanted <= codes, "\n".join(map(render, found))
    else:
        assert not codes, "\n".join(map(render, found))
