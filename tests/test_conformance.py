"""The shared conformance suite, run exactly as ../shared/conformance/README.md says.

Each case is built with the real CLI in file mode, `runtara-build build C/scenario.json
--children C/children -o T/wf`, from an empty directory with no RUNTARA_* variables, and
the binary is run and compared; then the replay check runs it twice more under one
instance id and requires the same result and no new checkpoint row.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.shared import REPO, shared_dir, shared_dir_or_none
from tests.support.cases import check_case

SHARED = shared_dir_or_none()
CASES = sorted(p.name for p in (SHARED / "conformance").iterdir() if p.is_dir()) if SHARED else []

pytestmark = [pytest.mark.rustc, pytest.mark.slow, pytest.mark.shared]


@pytest.mark.parametrize("name", CASES)
def test_conformance_case(name: str, tmp_path: Path, runtime_cache: Path) -> None:
    case = shared_dir() / "conformance" / name
    check_case(case, tmp_path, runtime_cache, f"conf-{name[:3]}")


def test_repo_is_not_the_shared_dir() -> None:
    assert SHARED is None or REPO not in SHARED.resolve().parents
