"""Test helpers for gpumath and its users: backend-aware closeness checks."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import device_of, is_cupy_array, to_numpy

__all__ = ["assert_close", "rel_error"]


def rel_error(actual: Any, desired: Any) -> float:
    """‖actual − desired‖ / ‖desired‖ over the finite entries, computed in float64 on the host."""
    a = to_numpy(actual).astype(np.float64, copy=False)
    d = np.asarray(to_numpy(desired), dtype=np.float64)
    finite = np.isfinite(d)
    a, d = a[finite], d[finite]
    scale = float(np.max(np.abs(d), initial=0.0))
    if scale == 0.0:
        return float(np.max(np.abs(a), initial=0.0))
    # Scaling first keeps the norms finite for data near the float64 range.
    return float(np.linalg.norm(a / scale - d / scale) / np.linalg.norm(d / scale))


def assert_close(
    actual: Any,
    desired: Any,
    *,
    rtol: float | None = None,
    like: Any = None,
    dtype: Any = None,
    check_namespace: bool = True,
) -> None:
    """Assert that ``actual`` matches ``desired`` in namespace, dtype, shape and values.

    Parameters
    ----------
    actual : array
        The result under test (NumPy or CuPy).
    desired : array_like
        The reference, usually NumPy float64 computed by code nobody here wrote.
    rtol : float, optional
        Bound on ``rel_error(actual, desired)``; default 1e-5 for float32 results and
        1e-12 for float64 and integers (DESIGN.md §7).
    like : array, optional
        An input whose namespace and device ``actual`` must share (default: no check).
    dtype : dtype, optional
        The dtype ``actual`` must have (default: ``desired``'s dtype).
    check_namespace : bool
        Whether to check ``like``'s namespace and device.

    Notes
    -----
    NaN and infinities must sit at the same places with the same signs.
    """
    if check_namespace and like is not None:
        assert is_cupy_array(actual) == is_cupy_array(like), (
            f"namespace: result is {type(actual).__module__}.{type(actual).__name__}, "
            f"input is {type(like).__module__}.{type(like).__name__}"
        )
        assert device_of(actual) == device_of(like), (
            f"device: result on {device_of(actual)}, input on {device_of(like)}"
        )
    desired_np = np.asarray(to_numpy(desired))
    expected_dtype = np.dtype(dtype) if dtype is not None else desired_np.dtype
    assert np.dtype(actual.dtype) == expected_dtype, f"dtype: {actual.dtype} != {expected_dtype}"
    assert tuple(actual.shape) == desired_np.shape, (
        f"shape: {tuple(actual.shape)} != {desired_np.shape}"
    )
    actual_np = to_numpy(actual)
    if expected_dtype.kind in "fc":
        for name, mask in (("NaN", np.isnan), ("+inf", np.isposinf), ("-inf", np.isneginf)):
            bad = mask(actual_np) != mask(desired_np)
            assert not bad.any(), f"{name} positions differ at {np.argwhere(bad)[:5].tolist()}"
    if rtol is None:
        rtol = 1e-5 if expected_dtype == np.float32 else 1e-12
    err = rel_error(actual_np, desired_np)
    assert err <= rtol, f"relative error {err:.3e} > rtol {rtol:.1e}"
