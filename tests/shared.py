"""Where the shared suites (`corpus/`, `conformance/`, `spec/`) are, and how tests load them.

The directory comes from `RUNTARA_SHARED_DIR`, by default `<repo>/../shared` (STYLE §8). When
it is absent the calling test is skipped with one line saying why, unless `CI` is set: under
CI a missing suite is a failure, never a silent skip.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from runtara_build.dsl.load import Document, load
from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument, StepBase
from runtara_build.registry import builtin_rules

REPO = Path(__file__).resolve().parent.parent


def shared_dir() -> Path:
    """The shared directory; skips the test (or fails it under CI) when it is missing."""
    path = Path(os.environ.get("RUNTARA_SHARED_DIR", REPO.parent / "shared"))
    if not path.is_dir():
        reason = f"shared suites not found at {path} (set RUNTARA_SHARED_DIR)"
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    return path


def shared_dir_or_none() -> Path | None:
    """The shared directory, or None: for parametrising at collection time without skipping."""
    path = Path(os.environ.get("RUNTARA_SHARED_DIR", REPO.parent / "shared"))
    return path if path.is_dir() else None


def load_document(path: Path, name: str | None = None) -> Document:
    """Load one workflow file with the built-in step models."""
    builtin_rules()
    return load(path.read_bytes(), name or path.name, ExecutionGraph, ScenarioDocument)


def child_lookup(graphs: dict[str, ExecutionGraph]) -> Callable[[StepBase], ExecutionGraph | None]:
    """A `children` callable for validation: childScenarioId -> graph, whatever the version."""

    def lookup(step: StepBase) -> ExecutionGraph | None:
        return graphs.get(str(getattr(step, "child_scenario_id", "")))

    return lookup
