"""Which emulation-lane test runs which kernel: ``@covers`` and the registry it fills.

Each kernel family keeps its lane tests in ``tests/test_emu_<family>.py`` and marks them
``@covers("gm_<op>_f32", ...)``; tests/test_emu_coverage.py imports every such file and fails
for a kernel in kernels/*.cu that no test covers.
"""

from __future__ import annotations

import importlib
from pathlib import Path

# kernel name -> names of the tests that run it in the lane
COVERED: dict[str, list[str]] = {}


def covers(*kernels: str):
    """Register the decorated test as the emulation test of ``kernels``."""

    def mark(test):
        for k in kernels:
            COVERED.setdefault(k, []).append(f"{test.__module__}.{test.__name__}")
        return test

    return mark


def load_lane_tests(tests_dir: Path) -> dict[str, list[str]]:
    """Import every ``test_emu_*.py`` in ``tests_dir`` (filling COVERED) and return it."""
    for path in sorted(tests_dir.glob("test_emu_*.py")):
        importlib.import_module(path.stem)  # tests/ is on sys.path; a repeat is a no-op
    return COVERED
