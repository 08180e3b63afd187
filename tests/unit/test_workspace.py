"""WORKSPACE, BUILD.toml and package discovery (DSL §11.2, STYLE §10): RB002–RB022."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from runtara_build.errors import BuildError, Diagnostic, render
from runtara_build.label import Label, Pattern
from runtara_build.tomlfile import toml_line, validate_toml
from runtara_build.workspace import (
    BuildConfig,
    CacheConfig,
    Workspace,
    WorkspaceConfig,
    parse_size,
)

REPO = Path(__file__).resolve().parents[2]
FINISH = '{"steps": {"f": {"stepType": "Finish", "id": "f"}}, "entryPoint": "f"}'


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def problems(call: object) -> tuple[Diagnostic, ...]:
    with pytest.raises(BuildError) as info:
        call()  # type: ignore[operator]
    return info.value.diagnostics


# --------------------------------------------------------------------------- root and WORKSPACE


def test_find_walks_up_to_the_workspace_file(tmp_path: Path) -> None:
    write(tmp_path, {"WORKSPACE": "", "acme/orders/scenario.json": FINISH})
    assert Workspace.find(tmp_path / "acme" / "orders").root == tmp_path.resolve()


def test_no_workspace_is_rb002(tmp_path: Path) -> None:
    (diag,) = problems(lambda: Workspace.find(tmp_path))
    assert diag.code == "RB002"
    assert "WORKSPACE" in (diag.hint or "")


def test_empty_workspace_has_the_defaults(tmp_path: Path) -> None:
    config = Workspace(write(tmp_path, {"WORKSPACE": ""})).config
    assert config == WorkspaceConfig()
    assert config.toolchain.rustc == "/usr/bin/rustc"
    assert config.toolchain.target == "x86_64-unknown-linux-musl"
    assert (config.cache.dir, config.cache.remote, config.cache.max_size) == ("cache", "", "5GiB")
    assert config.build.jobs is None
    assert config.output.dir == "runtara-out"


def test_workspace_example_documents_every_setting_and_parses() -> None:
    text = (REPO / "WORKSPACE.example").read_text()
    parsed = validate_toml(WorkspaceConfig, REPO / "WORKSPACE.example", "x", ("a", "b", "c"))
    assert parsed.model_dump() == WorkspaceConfig().model_dump()
    for section, model in WorkspaceConfig.model_fields.items():
        assert f"[{section}]" in text
        annotation = model.annotation
        assert annotation is not None
        for key in annotation.model_fields:
            assert f"{key} = " in text, f"WORKSPACE.example must document {section}.{key}"


def test_example_workspace_points_at_the_repo_cache() -> None:
    config = Workspace(REPO / "examples" / "workspace").config
    assert config.cache.dir == "../../cache"


def test_unknown_key_is_rb003_with_line_pointer_and_hint(tmp_path: Path) -> None:
    text = '[toolchain]\nrustc = "/usr/bin/rustc"\n\n[cache]\ndir = "cache"\nremtoe = "x"\n'
    ws = Workspace(write(tmp_path, {"WORKSPACE": text}))
    (diag,) = problems(lambda: ws.config)
    assert render(diag) == (
        'WORKSPACE:6:1: error[RB003]: unknown key "remtoe" in [cache]\n'
        "  at #/cache/remtoe\n"
        '  hint: did you mean "remote"?'
    )


def test_unknown_section_is_rb003(tmp_path: Path) -> None:
    ws = Workspace(write(tmp_path, {"WORKSPACE": "[ouptut]\ndir = 'x'\n"}))
    (diag,) = problems(lambda: ws.config)
    assert (diag.code, diag.location.line, diag.hint) == ("RB003", 1, 'did you mean "output"?')


@pytest.mark.parametrize(
    ("text", "pointer"),
    [
        ("[build]\njobs = 0\n", "/build/jobs"),
        ('[build]\njobs = "4"\n', "/build/jobs"),
        ("[cache]\nmax_size = '5 gigs'\n", "/cache/max_size"),
        ("[cache]\nremote = 'ftp://x'\n", "/cache/remote"),
        ("[toolchain]\nrustc = 1\n", "/toolchain/rustc"),
        ("cache = 3\n", "/cache"),
    ],
)
def test_bad_values_are_rb004(tmp_path: Path, text: str, pointer: str) -> None:
    ws = Workspace(write(tmp_path, {"WORKSPACE": text}))
    (diag,) = problems(lambda: ws.config)
    assert (diag.code, diag.location.pointer, diag.location.file) == ("RB004", pointer, "WORKSPACE")
    assert "must" in diag.message


@pytest.mark.parametrize("text", ["[cache\n", "a = \n", "x = 1\nx = 2\n", "\udcff"])
def test_malformed_toml_is_rb005(tmp_path: Path, text: str) -> None:
    (tmp_path / "WORKSPACE").write_bytes(text.encode("utf-8", "surrogateescape"))
    ws = Workspace(tmp_path)
    (diag,) = problems(lambda: ws.config)
    assert diag.code == "RB005"
    assert diag.location.file == "WORKSPACE"


@pytest.mark.parametrize(
    ("text", "size"),
    [("5GiB", 5 * 2**30), ("500MB", 500 * 10**6), ("1024", 1024), ("1.5 KiB", 1536)],
)
def test_parse_size(text: str, size: int) -> None:
    assert parse_size(text) == size
    assert CacheConfig(max_size=text).max_size == text


@pytest.mark.parametrize("text", ["", "GiB", "-1GiB", "5 GB GB", "5gib"])
def test_parse_size_rejects(text: str) -> None:
    with pytest.raises(ValueError):
        parse_size(text)


def test_toml_line_finds_keys_tables_and_dotted_keys() -> None:
    text = '# c\ntenant = "a"\n[children]\n"bill ing" = "//a/b"\n[variables]\nx.y = 1\n'
    assert toml_line(text, ("tenant",)) == 2
    assert toml_line(text, ("children",)) == 3
    assert toml_line(text, ("children", "bill ing")) == 4
    assert toml_line(text, ("variables", "x", "y")) == 6
    assert toml_line(text, ("variables", "nope")) == 5  # the table, when the key is not found
    assert toml_line(text, ("nope",)) is None


# --------------------------------------------------------------------------- BUILD.toml


def _package(tmp_path: Path, build: str, name: str = "acme/orders") -> Workspace:
    write(tmp_path, {"WORKSPACE": "", f"{name}/scenario.json": FINISH, f"{name}/BUILD.toml": build})
    return Workspace(tmp_path)


def test_build_toml_is_parsed(tmp_path: Path) -> None:
    build = (
        'tenant = "acme"\nscenario_id = "o"\nversion = 3\n[children]\nbilling = "//acme/b"\n'
        '[variables]\nlimit = 10\nnested = {a = [1, "x"]}\n'
    )
    package = _package(tmp_path, build).package(Label("acme", "orders"))
    assert package.config == BuildConfig(
        tenant="acme",
        scenario_id="o",
        version=3,
        children={"billing": "//acme/b"},
        variables={"limit": 10, "nested": {"a": [1, "x"]}},
    )
    assert package.scenario_id == "o"
    assert package.build_file == "acme/orders/BUILD.toml"
    assert package.document_name(None) == "scenario.json"
    assert package.document_name(3) == "scenario.json"
    assert package.document_name(2) == "versions/2.json"


def test_package_without_build_toml_defaults(tmp_path: Path) -> None:
    write(tmp_path, {"WORKSPACE": "", "acme/orders/scenario.json": FINISH})
    package = Workspace(tmp_path).package(Label("acme", "orders", "src"))
    assert package.label == Label("acme", "orders")
    assert package.scenario_id == "orders"
    assert package.config == BuildConfig()


def test_unknown_build_key_is_rb011_with_hint(tmp_path: Path) -> None:
    ws = _package(tmp_path, "verison = 2\n")
    (diag,) = problems(lambda: ws.package(Label("acme", "orders")))
    assert render(diag) == (
        'acme/orders/BUILD.toml:1:1: error[RB011]: unknown key "verison"\n'
        "  at #/verison\n"
        '  hint: did you mean "version"?'
    )


@pytest.mark.parametrize(
    "build",
    [
        "version = 0\n",
        'version = "3"\n',
        "version = 2.0\n",
        'scenario_id = ""\n',
        "[children]\nbilling = 'acme/billing'\n",
        "[children]\nbilling = 3\n",
        "[variables]\nwhen = 1979-05-27\n",
        "[variables]\nwhen = [{a = 07:32:00}]\n",
    ],
)
def test_bad_build_values_are_rb012(tmp_path: Path, build: str) -> None:
    ws = _package(tmp_path, build)
    codes = {d.code for d in problems(lambda: ws.package(Label("acme", "orders")))}
    assert codes == {"RB012"}


def test_malformed_build_toml_is_rb010(tmp_path: Path) -> None:
    ws = _package(tmp_path, "version = \n")
    (diag,) = problems(lambda: ws.package(Label("acme", "orders")))
    assert (diag.code, diag.location.file, diag.location.line) == (
        "RB010",
        "acme/orders/BUILD.toml",
        1,
    )


def test_tenant_mismatch_is_rb013(tmp_path: Path) -> None:
    ws = _package(tmp_path, '# x\ntenant = "globex"\n')
    (diag,) = problems(lambda: ws.package(Label("acme", "orders")))
    assert (diag.code, diag.location.line) == ("RB013", 2)
    assert '"acme"' in diag.message and '"globex"' in diag.message


def test_undeclared_variable_override_is_rb014(tmp_path: Path) -> None:
    package = _package(tmp_path, "[variables]\nlimt = 1\nlimit = 2\n").package(
        Label("acme", "orders")
    )
    assert package.check_variables({"limit"}) == package.check_variables({"limit", "other"})
    (diag,) = package.check_variables({"limit"})
    assert (diag.code, diag.location.line, diag.hint) == ("RB014", 2, 'did you mean "limit"?')
    assert diag.location.pointer == "/variables/limt"


# --------------------------------------------------------------------------- packages


def _tree(tmp_path: Path) -> Workspace:
    write(
        tmp_path,
        {
            "WORKSPACE": "",
            "acme/orders/scenario.json": FINISH,
            "acme/billing/scenario.json": FINISH,
            "acme/notes/README.md": "not a package",
            "globex/greeter/scenario.json": FINISH,
            ".git/x/scenario.json": FINISH,
            "bad name/x/scenario.json": FINISH,
            "acme/orders/versions/1.json": FINISH,
            "deep/a/b/scenario.json": FINISH,
        },
    )
    return Workspace(tmp_path)


def test_packages_are_the_two_level_dirs_with_scenario_json(tmp_path: Path) -> None:
    assert _tree(tmp_path).package_labels == (
        Label("acme", "billing"),
        Label("acme", "orders"),
        Label("globex", "greeter"),
    )


def test_patterns_expand_with_their_kind(tmp_path: Path) -> None:
    ws = _tree(tmp_path)
    assert ws.expand(Pattern(None, "src")) == tuple(lb.with_kind("src") for lb in ws.package_labels)
    assert ws.expand(Pattern("acme")) == (Label("acme", "billing"), Label("acme", "orders"))
    assert ws.expand(Label("globex", "greeter", "obj")) == (Label("globex", "greeter", "obj"),)


def test_pattern_matching_nothing_is_rb021(tmp_path: Path) -> None:
    (diag,) = problems(lambda: _tree(tmp_path).expand(Pattern("acem")))
    assert (diag.code, diag.hint) == ("RB021", 'did you mean "acme/..."?')


@pytest.mark.parametrize(
    ("label", "hint", "why"),
    [
        (Label("acme", "order"), 'did you mean "//acme/orders"?', "does not exist"),
        (Label("acme", "notes"), 'did you mean "//acme/orders"?', "has no scenario.json"),
        (Label("nobody", "zzzzzz"), None, "does not exist"),
    ],
)
def test_missing_package_is_rb020(tmp_path: Path, label: Label, hint: str | None, why: str) -> None:
    (diag,) = problems(lambda: _tree(tmp_path).package(label))
    assert (diag.code, diag.hint) == ("RB020", hint)
    assert diag.message.endswith(why)


def test_document_paths(tmp_path: Path) -> None:
    ws = _tree(tmp_path)
    package = ws.package(Label("acme", "orders"))
    assert ws.document(package, None) == (
        (tmp_path / "acme/orders/scenario.json").resolve(),
        "acme/orders/scenario.json",
    )
    assert ws.document(package, 1) == (
        (tmp_path / "acme/orders/versions/1.json").resolve(),
        "acme/orders/versions/1.json",
    )
    assert ws.document(package, 2) is None


def test_symlinked_package_leaving_the_workspace_is_rb022(tmp_path: Path) -> None:
    outside = write(tmp_path / "outside", {"x/scenario.json": FINISH}) / "x"
    root = write(tmp_path / "ws", {"WORKSPACE": ""})
    (root / "acme").mkdir()
    os.symlink(outside, root / "acme" / "evil")
    ws = Workspace(root)
    assert Label("acme", "evil") in ws.package_labels
    (diag,) = problems(lambda: ws.package(Label("acme", "evil")))
    assert diag.code == "RB022"


def test_symlinked_files_leaving_the_workspace_are_rb022(tmp_path: Path) -> None:
    secret = write(tmp_path / "outside", {"secret.json": FINISH, "BUILD.toml": ""})
    root = write(tmp_path / "ws", {"WORKSPACE": "", "acme/a/scenario.json": FINISH})
    (root / "acme/a/versions").mkdir()
    os.symlink(secret / "secret.json", root / "acme/a/versions/1.json")
    os.symlink(secret / "BUILD.toml", root / "acme/a/BUILD.toml")
    ws = Workspace(root)
    assert problems(lambda: ws.package(Label("acme", "a")))[0].code == "RB022"
    os.unlink(root / "acme/a/BUILD.toml")
    package = ws.package(Label("acme", "a"))
    assert problems(lambda: ws.document(package, 1))[0].code == "RB022"


def test_symlink_inside_the_workspace_is_fine(tmp_path: Path) -> None:
    root = write(tmp_path, {"WORKSPACE": "", "acme/real/scenario.json": FINISH})
    os.symlink(root / "acme/real", root / "acme/alias")
    assert Workspace(root).package(Label("acme", "alias")).path == (root / "acme/real").resolve()


def test_symlink_loop_is_rb022(tmp_path: Path) -> None:
    root = write(tmp_path, {"WORKSPACE": ""})
    (root / "acme").mkdir()
    os.symlink(root / "acme/b", root / "acme/a")
    os.symlink(root / "acme/a", root / "acme/b")
    ws = Workspace(root)
    assert ws.package_labels == ()
    (diag,) = problems(lambda: ws.package(Label("acme", "a")))
    assert diag.code in ("RB020", "RB022")


def test_duplicate_scenario_ids_are_rb015(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "WORKSPACE": "",
            "acme/x/scenario.json": FINISH,
            "acme/y/scenario.json": FINISH,
            "acme/y/BUILD.toml": 'scenario_id = "x"\n',
            "globex/x/scenario.json": FINISH,
        },
    )
    ws = Workspace(tmp_path)
    (diag,) = problems(lambda: ws.scenario_index("acme"))
    assert diag.code == "RB015"
    assert "//acme/x" in diag.message and "//acme/y" in diag.message
    assert (diag.location.file, diag.location.line) == ("acme/y/BUILD.toml", 1)
    assert ws.scenario_index("globex") == {"x": Label("globex", "x")}
    assert problems(lambda: ws.scenario_index("acme"))[0] == diag  # cached, reported the same
