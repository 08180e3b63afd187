"""runtara-build: compile runtara workflow scenarios into static binaries.

The public API. Importing this package is cheap: the heavy modules (pydantic, networkx) load
on first use of a name that needs them, through the module `__getattr__` below (STYLE §4).

- `validate_workflow(document, *, children=None, strict=False) -> list[Diagnostic]`
- `DependencyGraph`, `ScenarioReference`: the scenario call graph and its nodes
- `compile_scenario(CompilationInput) -> CompilationResult`: a static binary (file mode engine)
- `translate_scenario(scenario, *, children=None, scenario_id="scenario") -> str`: its Rust
- `workflow_has_side_effects(scenario) -> bool`
- `Diagnostic`, `BuildError`, `Label`, `__version__`
"""

from __future__ import annotations

# Not `typing.TYPE_CHECKING`: importing typing costs the no-op fast path ~8 ms (mypy knows
# the name either way).
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from runtara_build.check import validate_workflow
    from runtara_build.compile import (
        CompilationInput,
        CompilationResult,
        compile_scenario,
        translate_scenario,
        workflow_has_side_effects,
    )
    from runtara_build.depgraph import DependencyGraph
    from runtara_build.errors import BuildError, Diagnostic
    from runtara_build.label import Label
    from runtara_build.resolve import ScenarioReference

__version__ = "0.1.0"

_LAZY = {
    "BuildError": "runtara_build.errors",
    "Diagnostic": "runtara_build.errors",
    "Label": "runtara_build.label",
    "validate_workflow": "runtara_build.check",
    "DependencyGraph": "runtara_build.depgraph",
    "ScenarioReference": "runtara_build.resolve",
    "CompilationInput": "runtara_build.compile",
    "CompilationResult": "runtara_build.compile",
    "compile_scenario": "runtara_build.compile",
    "translate_scenario": "runtara_build.compile",
    "workflow_has_side_effects": "runtara_build.compile",
}

__all__ = [
    "BuildError",
    "CompilationInput",
    "CompilationResult",
    "DependencyGraph",
    "Diagnostic",
    "Label",
    "ScenarioReference",
    "__version__",
    "compile_scenario",
    "translate_scenario",
    "validate_workflow",
    "workflow_has_side_effects",
]


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'runtara_build' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
