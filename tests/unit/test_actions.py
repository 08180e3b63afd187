"""Key inputs: the canonical document digest keeps semantic order and drops cosmetics."""

from __future__ import annotations

import json
from typing import Any

from runtara_build.actions import document_digest
from runtara_build.dsl.load import load
from runtara_build.dsl.workflow import ExecutionGraph, ScenarioDocument
from runtara_build.keys import action_key
from runtara_build.registry import builtin_rules


def digest(doc: dict[str, Any], indent: int | None = None) -> str:
    builtin_rules()
    loaded = load(
        json.dumps(doc, indent=indent).encode(), "s.json", ExecutionGraph, ScenarioDocument
    )
    assert loaded.graph is not None
    return document_digest(loaded.graph)


def finish(mapping: dict[str, Any], **extra: Any) -> dict[str, Any]:
    step = {"stepType": "Finish", "id": "f", "inputMapping": mapping, **extra}
    return {"steps": {"f": step}, "entryPoint": "f"}


A = {"valueType": "immediate", "value": 1}
B = {"value": 2, "valueType": "immediate"}


def test_whitespace_member_order_and_ignored_members_do_not_matter() -> None:
    base = digest(finish({"a": A, "b": B}))
    assert digest(finish({"a": A, "b": B}), indent=5) == base
    reordered = {"entryPoint": "f", "steps": finish({"a": A, "b": B})["steps"]}
    assert digest(reordered) == base
    assert digest({**finish({"a": A, "b": B}), "description": "docs"}) == base
    assert digest(finish({"a": A, "b": B}, unknownMember=3)) == base


def test_input_mapping_order_and_step_name_matter() -> None:
    base = digest(finish({"a": A, "b": B}))
    assert digest(finish({"b": B, "a": A})) != base
    assert digest(finish({"a": A, "b": B}, name="Done")) != base


def test_action_key_is_one_function_of_named_fields() -> None:
    key = action_key("Rustc", {"a": "1", "b": "2"})
    assert key == action_key("Rustc", {"b": "2", "a": "1"})
    assert key != action_key("Link", {"a": "1", "b": "2"})
    assert key != action_key("Rustc", {"a": "1", "b": "3"})
