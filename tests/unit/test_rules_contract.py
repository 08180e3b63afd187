"""Every rule honours the rule-file contract (STYLE §5): discovery, docs, hooks, packaging."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from pydantic import BaseModel

from runtara_build.api import StepRule
from runtara_build.errors import BuildError
from runtara_build.registry import builtin_rules, builtin_rules_dir, discover

RULES = builtin_rules()
STEP_TYPES = {
    "Finish", "Agent", "Conditional", "Switch", "Split", "StartScenario", "While", "Log",
    "Connection", "Error", "Filter", "GroupBy", "Delay", "WaitForSignal", "AiAgent",
}  # fmt: skip


def test_all_fifteen_step_types_are_discovered() -> None:
    assert set(RULES) == STEP_TYPES


def _models(model: type[BaseModel], seen: set[type[BaseModel]]) -> None:
    if model in seen:
        return
    seen.add(model)
    for field in model.model_fields.values():
        for arg in (*getattr(field.annotation, "__args__", ()), field.annotation):
            if isinstance(arg, type) and issubclass(arg, BaseModel):
                _models(arg, seen)


@pytest.mark.parametrize("step_type", sorted(STEP_TYPES))
def test_every_field_is_documented(step_type: str) -> None:
    rule = RULES[step_type]
    seen: set[type[BaseModel]] = set()
    _models(rule.model, seen)
    for model in seen:
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} has no description"


@pytest.mark.parametrize("step_type", sorted(STEP_TYPES))
def test_rule_has_docs_and_an_emitter(step_type: str) -> None:
    rule = RULES[step_type]
    assert isinstance(rule, StepRule)
    assert rule.model.__doc__ or Path(rule.source).read_text().startswith('"""')
    assert rule.emit is not StepRule.__dataclass_fields__["emit"].default
    assert Path(rule.source).parent == builtin_rules_dir()


def test_duplicate_step_types_fail_naming_both_files(tmp_path: Path) -> None:
    source = (builtin_rules_dir() / "log.py").read_text()
    (tmp_path / "a.py").write_text(source)
    (tmp_path / "b.py").write_text(source)
    with pytest.raises(BuildError) as err:
        discover(tmp_path)
    message = err.value.diagnostics[0].message
    assert "a.py" in message and "b.py" in message


@pytest.mark.slow
def test_wheel_ships_rules_and_runtime(tmp_path: Path) -> None:
    import subprocess
    import sys

    repo = Path(__file__).resolve().parents[2]
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp_path), str(repo)],
        check=True,
        capture_output=True,
    )
    (wheel,) = tmp_path.glob("*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for rule in RULES.values():
        assert f"runtara_build/_rules/{Path(rule.source).name}" in names
    assert "runtara_build/_runtime/Cargo.toml" in names
    assert "runtara_build/_runtime/src/lib.rs" in names
