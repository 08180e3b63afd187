"""`--explain` lines: one grammar, digests cut to 12 digits, (none) without a record."""

from __future__ import annotations

from pathlib import Path

from runtara_build.explain import Records, changed_fields

A, B = "3f2a91c07d1e" + "0" * 20, "9c1d07aa5b32" + "1" * 20


def test_changed_fields_one_line_per_field() -> None:
    lines = changed_fields("//acme/x:src", {"scenario.json": A, "generator": A}, {
        "scenario.json": B, "generator": A})  # fmt: skip
    assert lines == ("//acme/x:src scenario.json: 3f2a91c07d1e → 9c1d07aa5b32",)


def test_no_record_is_none_and_text_is_kept() -> None:
    lines = changed_fields("//acme/x:obj", None, {"toolchain": f"rustc 1.96.0 {A}"})
    assert lines == ("//acme/x:obj toolchain: (none) → rustc 1.96.0 3f2a91c07d1e",)


def test_records_round_trip_and_survive_garbage(tmp_path: Path) -> None:
    path = tmp_path / "records.sqlite"
    path.write_text("{torn")
    records = Records(path)
    assert records.fields("//a/b:src") is None
    records.update("//a/b:src", {"f": "v"}, {"lib.rs": [A, 1, 2, 3]})
    records.save()
    again = Records(path)
    assert again.fields("//a/b:src") == {"f": "v"}
    assert again.output_stat("//a/b:src", "lib.rs") == [A, 1, 2, 3]
