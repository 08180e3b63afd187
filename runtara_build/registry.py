"""Rule discovery: load `rules/*.py` by path, check the contract, assemble the step union.

Rules are plain files loaded the way Bazel loads .bzl files (STYLE §2, §5): the engine gets
each rule's bytes for cache keys, and adding a step type needs no edit anywhere else.
"""

from __future__ import annotations

import importlib.util
import sys
from dataclasses import replace
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Union

from pydantic import Field

from runtara_build.api import StepRule
from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument, StepBase
from runtara_build.errors import BuildError, Diagnostic


def builtin_rules_dir() -> Path:
    """`rules/` beside the package in a checkout, `runtara_build/_rules` in a wheel."""
    here = Path(__file__).resolve().parent
    for candidate in (here.parent / "rules", here / "_rules"):
        if candidate.is_dir():
            return candidate
    raise BuildError(Diagnostic("RB399", "the built-in rules directory is missing; reinstall"))


def _load(path: Path) -> StepRule:
    name = f"runtara_build._rule_{path.stem}"
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise BuildError(Diagnostic("RB399", f"cannot load rule file {path}"))
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    rule = getattr(module, "RULE", None)
    if not isinstance(rule, StepRule):
        raise BuildError(Diagnostic("RB399", f"rule file {path} must export RULE = StepRule(...)"))
    return replace(rule, source=str(path))


def discover(directory: Path) -> dict[str, StepRule]:
    """stepType -> rule, for every `*.py` in `directory` (sorted). Duplicate tags fail."""
    rules: dict[str, StepRule] = {}
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        rule = _load(path)
        tag = rule.step_type
        if not tag:
            raise BuildError(Diagnostic("RB399", f"{path}: the step model has no STEP_TYPE"))
        if tag in rules:
            raise BuildError(
                Diagnostic(
                    "RB399",
                    f"step type {tag!r} must be defined once, but both {rules[tag].source} "
                    f"and {path} define it",
                )
            )
        rules[tag] = rule
    return rules


@cache
def builtin_rules() -> dict[str, StepRule]:
    """The built-in rules, with the workflow models rebuilt around their step union."""
    rules = discover(builtin_rules_dir())
    models: list[type[StepBase]] = [r.model for r in rules.values()]
    union: Any = Annotated[Union[tuple(models)], Field(discriminator="step_type")]  # noqa: UP007
    namespace = {"AnyStep": union, "ExecutionGraph": ExecutionGraph}
    ExecutionGraph.model_rebuild(force=True, _types_namespace=namespace)
    for model in models:
        model.model_rebuild(force=True, _types_namespace=namespace)
    ScenarioDocument.model_rebuild(force=True, _types_namespace=namespace)
    return rules


def rule_for(step: StepBase) -> StepRule:
    return builtin_rules()[step.STEP_TYPE]
