"""Child resolution (DSL §11.2 workspace, §11.3 file mode) and scenario references."""

from __future__ import annotations

from pathlib import Path

import pytest

from runtara_build.errors import BuildError
from runtara_build.label import Label
from runtara_build.resolve import (
    INVALID_VERSION,
    Resolver,
    ScenarioReference,
    Unresolved,
    parse_version,
)
from runtara_build.workspace import Workspace

FINISH = '{"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "f"}'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("latest", None),
        ("current", None),
        ("LATEST", None),
        ("CuRrEnT", None),
        (1, 1),
        (42, 42),
        (0, INVALID_VERSION),
        (-1, INVALID_VERSION),
        ("v2", INVALID_VERSION),
        ("1", INVALID_VERSION),
        (True, INVALID_VERSION),
        (None, INVALID_VERSION),
        (1.0, INVALID_VERSION),
    ],
)
def test_parse_version(value: object, expected: object) -> None:
    assert parse_version(value) == expected


# --------------------------------------------------------------------------- workspace mode


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    write(
        tmp_path,
        {
            "WORKSPACE": "",
            "acme/orders/scenario.json": FINISH,
            "acme/orders/BUILD.toml": (
                '[children]\ninvoicing = "//acme/billing"\nremote = "//globex/tax"\n'
                'ghost = "//acme/ghost"\n[variables]\nlimit = 10\n'
            ),
            "acme/billing/scenario.json": FINISH,
            "acme/billing/BUILD.toml": "version = 3\n",
            "acme/billing/versions/1.json": FINISH,
            "acme/reports/scenario.json": FINISH,
            "acme/reports/BUILD.toml": 'scenario_id = "monthly"\n',
            "acme/shipping/scenario.json": FINISH,
            "globex/tax/scenario.json": FINISH,
        },
    )
    return Workspace(tmp_path)


def _child(ws: Workspace, child: str, version: object = "latest") -> object:
    resolver = Resolver(ws)
    return resolver.child(resolver.root_label(Label("acme", "orders")), child, version)


def test_root_label_reference(ws: Workspace) -> None:
    ref = Resolver(ws).root_label(Label("acme", "orders", "src"))
    assert (ref.name, ref.path, ref.scenario_id, ref.version, ref.tenant) == (
        "//acme/orders",
        "acme/orders/scenario.json",
        "orders",
        None,
        "acme",
    )
    assert ref.label == Label("acme", "orders")
    assert ref.file == ws.root / "acme/orders/scenario.json"
    assert ref.variables == (("limit", 10),)
    assert str(ref) == "//acme/orders"


def test_children_mapping_wins(ws: Workspace) -> None:
    ref = _child(ws, "invoicing")
    assert isinstance(ref, ScenarioReference)
    assert (ref.name, ref.version, ref.scenario_id) == ("//acme/billing", 3, "billing")


def test_children_mapping_may_cross_tenants(ws: Workspace) -> None:
    ref = _child(ws, "remote")
    assert isinstance(ref, ScenarioReference)
    assert (ref.name, ref.tenant) == ("//globex/tax", "globex")


def test_children_mapping_to_a_missing_package_is_unresolved(ws: Workspace) -> None:
    miss = _child(ws, "ghost")
    assert isinstance(miss, Unresolved)
    assert "//acme/ghost" in miss.message and "BUILD.toml" in miss.message


def test_scenario_id_then_directory(ws: Workspace) -> None:
    by_id = _child(ws, "monthly")
    by_dir = _child(ws, "shipping")
    assert isinstance(by_id, ScenarioReference) and isinstance(by_dir, ScenarioReference)
    assert (by_id.name, by_id.scenario_id) == ("//acme/reports", "monthly")
    assert by_dir.name == "//acme/shipping"
    # The directory rule applies after the scenario-id rule, even for a renamed package.
    renamed = _child(ws, "reports")
    assert isinstance(renamed, ScenarioReference) and renamed.name == "//acme/reports"


def test_other_tenants_are_not_searched(ws: Workspace) -> None:
    assert isinstance(_child(ws, "tax"), Unresolved)


@pytest.mark.parametrize(
    ("version", "name", "path"),
    [
        ("latest", "//acme/billing", "acme/billing/scenario.json"),
        ("Current", "//acme/billing", "acme/billing/scenario.json"),
        (3, "//acme/billing", "acme/billing/scenario.json"),
        (1, "//acme/billing@1", "acme/billing/versions/1.json"),
    ],
)
def test_versions(ws: Workspace, version: object, name: str, path: str) -> None:
    ref = _child(ws, "invoicing", version)
    assert isinstance(ref, ScenarioReference)
    assert (ref.name, ref.path) == (name, path)
    assert ref.version == (1 if version == 1 else 3)


def test_same_document_is_one_reference(ws: Workspace) -> None:
    assert _child(ws, "invoicing", "latest") == _child(ws, "invoicing", 3)
    assert _child(ws, "invoicing", 1) != _child(ws, "invoicing", 3)


def test_missing_version_is_unresolved(ws: Workspace) -> None:
    miss = _child(ws, "invoicing", 2)
    assert isinstance(miss, Unresolved)
    assert "versions/2.json" in miss.message


def test_invalid_version_is_left_to_e050(ws: Workspace) -> None:
    assert _child(ws, "invoicing", "v2") is None
    assert _child(ws, "invoicing", 0) is None


@pytest.mark.parametrize(
    ("child", "hint"),
    [
        ("shiping", 'did you mean "shipping"?'),
        ("monthy", 'did you mean "monthly"?'),
        ("../globex/tax", None),
        ("", None),
        ("\x00", None),
    ],
)
def test_unknown_child_is_unresolved_with_hint(ws: Workspace, child: str, hint: str | None) -> None:
    miss = _child(ws, child)
    assert isinstance(miss, Unresolved)
    assert miss.hint == hint
    assert "tenant" in miss.message


def test_duplicate_ids_make_children_unresolved_with_rb015(ws: Workspace) -> None:
    write(
        ws.root,
        {"acme/dup/scenario.json": FINISH, "acme/dup/BUILD.toml": 'scenario_id = "shipping"'},
    )
    miss = _child(ws, "shipping")
    assert isinstance(miss, Unresolved)
    assert [d.code for d in miss.problems] == ["RB015"]


def test_broken_child_build_toml_is_reported(ws: Workspace) -> None:
    write(ws.root, {"acme/shipping/BUILD.toml": "verison = 1\n"})
    mapped = Resolver(ws).child(Resolver(ws).root_label(Label("acme", "orders")), "invoicing", 1)
    assert isinstance(mapped, ScenarioReference)  # the index is not needed for [children]
    miss = _child(ws, "shipping")
    assert isinstance(miss, Unresolved)
    assert [d.code for d in miss.problems] == ["RB011"]


def test_missing_root_version_is_rb020(ws: Workspace) -> None:
    with pytest.raises(BuildError) as info:
        Resolver(ws).root_label(Label("acme", "billing"), 7)
    assert info.value.diagnostics[0].code == "RB020"


# --------------------------------------------------------------------------- file mode


@pytest.fixture
def files(tmp_path: Path) -> Path:
    return write(
        tmp_path,
        {
            "main.json": FINISH,
            "children/leaf.json": FINISH,
            "children/other.json": FINISH,
            "elsewhere/leaf2.json": FINISH,
            "secret.json": FINISH,
        },
    )


def test_root_file(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files)
    ref = Resolver().root_file("main.json")
    assert (ref.name, ref.path, ref.scenario_id, ref.version, ref.label) == (
        "main.json",
        "main.json",
        "main",
        None,
        None,
    )
    assert ref.file == (files / "main.json").resolve()


@pytest.mark.parametrize("path", ["missing.json", "children", "a\x00b", "x" * 5000])
def test_root_file_problems_are_rb023(
    files: Path, monkeypatch: pytest.MonkeyPatch, path: str
) -> None:
    monkeypatch.chdir(files)
    with pytest.raises(BuildError) as info:
        Resolver().root_file(path)
    assert info.value.diagnostics[0].code == "RB023"


def test_file_children(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files)
    resolver = Resolver(children_dir="children", child_files={"leaf": "elsewhere/leaf2.json"})
    root = resolver.root_file("main.json")
    by_flag = resolver.child(root, "leaf", "latest")
    by_dir = resolver.child(root, "other", 7)
    assert isinstance(by_flag, ScenarioReference) and isinstance(by_dir, ScenarioReference)
    assert (by_flag.path, by_flag.scenario_id) == ("elsewhere/leaf2.json", "leaf")
    assert (by_dir.path, by_dir.scenario_id) == ("children/other.json", "other")
    # One file serves every version, even an invalid one (E050 reports that).
    assert resolver.child(root, "other", "v2") == by_dir


def test_file_child_missing_is_unresolved(files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(files)
    resolver = Resolver(children_dir="children")
    root = resolver.root_file("main.json")
    miss = resolver.child(root, "lef", "latest")
    assert isinstance(miss, Unresolved)
    assert miss.hint == 'did you mean "leaf"?'
    assert "children has no lef.json" in miss.message


@pytest.mark.parametrize("child", ["../secret", "..", "", "a/b", "a\\b", "\x00"])
def test_file_child_ids_are_names_not_paths(
    files: Path, monkeypatch: pytest.MonkeyPatch, child: str
) -> None:
    monkeypatch.chdir(files)
    resolver = Resolver(children_dir="children")
    assert isinstance(resolver.child(resolver.root_file("main.json"), child, 1), Unresolved)


def test_file_child_without_options_or_with_missing_paths(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    root = Resolver().root_file("main.json")
    miss = Resolver().child(root, "leaf", 1)
    assert isinstance(miss, Unresolved) and "neither --children" in miss.message
    resolver = Resolver(children_dir="nowhere", child_files={"x": "nope.json"})
    missing_flag = resolver.child(root, "x", 1)
    assert isinstance(missing_flag, Unresolved) and "--child x=nope.json" in missing_flag.message
    assert isinstance(resolver.child(root, "leaf", 1), Unresolved)  # a missing DIR is no error


def test_two_spellings_of_a_file_are_one_reference(
    files: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(files)
    resolver = Resolver(children_dir="children", child_files={"x": "./children/../main.json"})
    root = resolver.root_file("main.json")
    assert resolver.child(root, "x", 1) == root
    assert hash(resolver.child(root, "x", 1)) == hash(root)


def test_memory_children() -> None:
    resolver = Resolver(memory={"scenario.json": b"{}", "children/leaf.json": b"[]"})
    root = resolver.root_memory("scenario.json", "scenario")
    leaf = resolver.child(root, "leaf", "latest")
    assert isinstance(leaf, ScenarioReference)
    assert (leaf.path, resolver.read(leaf)) == ("children/leaf.json", b"[]")
    miss = resolver.child(root, "lef", 1)
    assert isinstance(miss, Unresolved) and miss.hint == 'did you mean "leaf"?'
