"""Shared fixtures: one test body for every backend (DESIGN.md §7)."""

from __future__ import annotations

import os

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

from gpumath import _backend

# CI runs with HYPOTHESIS_PROFILE=ci: fewer examples, no deadline (2 shared cores), and
# derandomised so a red run is reproducible; developers get the default profile.
settings.register_profile(
    "ci",
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=100, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "dev"))


def _gpu_reason() -> str | None:
    """None when a CUDA GPU answers through CuPy; otherwise why not."""
    probe = _backend._probe_cuda(0)
    return None if probe.ok else probe.reason


def _skip_without_gpu() -> None:
    """Skip visibly without a GPU; fail instead where GPUMATH_REQUIRE_GPU=1 (gpu_check.sh)."""
    reason = _gpu_reason()
    if reason is None:
        return
    if os.environ.get("GPUMATH_REQUIRE_GPU") == "1":
        pytest.fail(f"GPUMATH_REQUIRE_GPU=1 but no GPU: {reason}")
    pytest.skip(f"no GPU: {reason}")


@pytest.fixture(
    params=[
        pytest.param("numpy", id="numpy"),
        pytest.param("cupy", id="cupy", marks=pytest.mark.gpu),
    ]
)
def xp(request):
    """The array module under test: numpy always, cupy when a GPU answers (else skipped)."""
    if request.param == "numpy":
        return np
    _skip_without_gpu()
    import cupy

    return cupy


@pytest.fixture
def rng():
    """Fresh random data every run (DESIGN.md §7): the seed is printed on failure."""
    seed = int(np.random.SeedSequence().entropy % 2**32)
    print(f"rng seed {seed}")
    return np.random.default_rng(seed)


@pytest.fixture
def gpu():
    """Skip (visibly) unless a CUDA GPU answers; returns the cupy module."""
    _skip_without_gpu()
    import cupy

    return cupy


@pytest.fixture(autouse=True)
def _restore_device():
    """Tests that call set_device must not leak the choice into the next test."""
    before = _backend._global_spec
    yield
    _backend._global_spec = before


def pytest_collection_modifyitems(config, items):
    # Tests that use the `gpu` fixture belong to `pytest -m gpu` too.
    for item in items:
        if "gpu" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gpu)
