"""New kernels cannot land untested: every kernel in kernels/*.cu needs a lane test."""

from __future__ import annotations

import sys
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(TESTS_DIR))  # tests/, package or not

from cuda_emu import all_kernels  # noqa: E402
from cuda_emu.coverage import load_lane_tests  # noqa: E402
from cuda_emu.runner import KERNELS_DIR  # noqa: E402


def test_every_kernel_has_an_emulation_test():
    found = all_kernels()
    assert found, f"no kernels found in {KERNELS_DIR}"
    covered = load_lane_tests(TESTS_DIR)
    missing = sorted(k for k in found if k not in covered)
    assert not missing, (
        "kernels without an emulation-lane test: "
        + ", ".join(f"{k} ({found[k]})" for k in missing)
        + ". Add a test to tests/test_emu_<family>.py that launches each with emu_launch() "
        "on several shapes (size 1, ragged edges) against the op's NumPy path, decorated "
        "with @covers(...) from tests/cuda_emu/coverage.py."
    )
    stale = sorted(k for k in covered if k not in found)
    assert not stale, f"@covers names kernels that no longer exist in kernels/*.cu: {stale}"
