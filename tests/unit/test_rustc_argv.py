"""Analysis tests of the rustc argv builders: no rustc runs (STYLE §11 rule 11)."""

from __future__ import annotations

from runtara_build.toolchain.rustc import RustcFlags, compile_argv, link_argv

RT = ("/c/runtime/librt.rlib", "/c/runtime/deps")


def test_compile_is_an_rlib_against_the_runtime_only() -> None:
    argv = compile_argv("/usr/bin/rustc", "lib.rs", "out", crate_name="wf_x_0123456789",
                        runtime=RT, remap_from="/tmp/w", flags=RustcFlags())  # fmt: skip
    joined = " ".join(argv)
    assert "--crate-type rlib" in joined and "--crate-name wf_x_0123456789" in joined
    assert "--extern runtara_runtime=/c/runtime/librt.rlib" in joined
    assert "--remap-path-prefix /tmp/w=." in joined
    assert argv.count("--extern") == 1
    assert argv[-3:] == ("-o", "out", "lib.rs")


def test_link_names_every_crate_and_strips() -> None:
    crates = (("wf_p", "/o/libwf_p.rlib"), ("wf_k", "/o/libwf_k.rlib"))
    argv = link_argv("/usr/bin/rustc", "main.rs", "out", crates=crates, runtime=RT,
                     remap_from="/tmp/w", flags=RustcFlags())  # fmt: skip
    joined = " ".join(argv)
    assert "--crate-type bin" in joined and "strip=symbols" in joined
    assert "--extern wf_p=/o/libwf_p.rlib" in joined and "--extern wf_k=/o/libwf_k.rlib" in joined
    assert "--target x86_64-unknown-linux-musl" in joined and "opt-level=s" in joined
