"""Descriptive statistics against the vendor, on the same fresh random data in the same run.

GPU: gpumath.stats.describe (kernels/moments.cu, one read of the data) against plain CuPy
mean, var, skewness and kurtosis written the way a user would (cupyx.scipy.stats has no
skew/kurtosis), plus min and max so both compute the same fields; and mean, var, std,
quantile, histogram, cov and corrcoef against CuPy's own (CuPy's cov/corrcoef work in
float64, ours in the data's float32). CPU: every statistic against NumPy or SciPy doing the
same (the issue's target: within 10%), timed interleaved call by call.

The bound is one read of the data, so the rate is ``nbytes / time`` and the ceiling
``copy_GBps / 2`` (the copy ceiling counts bytes read plus bytes written).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from gpumath.stats import descriptive as gs

from .harness import Context, Row, max_rel_err, paired_time_it, time_it

# (op, ours, vendor, vendor name): callables of the 1-D sample x and the (64, n/64) matrix X.
Case = tuple[str, Callable[[Any, Any], Any], Callable[[Any, Any], Any], str]
_Q = [0.25, 0.5, 0.75]


def _fields(d) -> list:
    return [d.mean, d.variance, d.skewness, d.kurtosis, d.minmax[0], d.minmax[1]]


def _vendor_gpu(xp, x) -> list:
    """mean, var, skew, kurtosis, min, max: plain CuPy, one reduction per moment."""
    mean = x.mean()
    var = x.var(ddof=1)
    d = x - mean
    m2 = (d**2).mean()
    skew = (d**3).mean() / m2**1.5
    kurt = (d**4).mean() / m2**2 - 3
    return [mean, var, skew, kurt, x.min(), x.max()]


def _host(values) -> np.ndarray:
    """Results (arrays, scalars, tuples of them) as one flat float64 host array."""
    import gpumath

    if isinstance(values, tuple | list):
        return np.concatenate([_host(v) for v in values])
    return np.ravel(gpumath.to_numpy(values)).astype(np.float64)


def _array_cases(xp: Any, name: str) -> list[Case]:
    """The statistics NumPy and CuPy both have, against ``xp``'s own (``name``)."""
    return [
        ("mean", lambda x, X: gs.mean(x), lambda x, X: xp.mean(x), name),
        ("var", lambda x, X: gs.var(x), lambda x, X: xp.var(x), name),
        ("std", lambda x, X: gs.std(x), lambda x, X: xp.std(x), name),
        ("quantile", lambda x, X: gs.quantile(x, _Q), lambda x, X: xp.quantile(x, _Q), name),
        (
            "histogram(50)",
            lambda x, X: gs.histogram(x, 50)[0],
            lambda x, X: xp.histogram(x, 50)[0],
            name,
        ),
        ("cov", lambda x, X: gs.cov(X), lambda x, X: xp.cov(X), name),
        ("corrcoef", lambda x, X: gs.corrcoef(X), lambda x, X: xp.corrcoef(X), name),
    ]


def _cpu_cases() -> list[Case]:
    """NumPy's statistics, and SciPy's for those NumPy lacks."""
    import scipy.stats as ss

    return _array_cases(np, "numpy") + [
        ("skew", lambda x, X: gs.skew(x), lambda x, X: ss.skew(x), "scipy.stats"),
        ("kurtosis", lambda x, X: gs.kurtosis(x), lambda x, X: ss.kurtosis(x), "scipy.stats"),
        (
            "moment(3)",
            lambda x, X: gs.moment(x, order=3),
            lambda x, X: ss.moment(x, 3),
            "scipy.stats",
        ),
        (
            "describe",
            lambda x, X: _fields(gs.describe(x)),
            lambda x, X: _fields(ss.describe(x)),
            "scipy.stats",
        ),
        ("zscore", lambda x, X: gs.zscore(x), lambda x, X: ss.zscore(x), "scipy.stats"),
        ("sem", lambda x, X: gs.sem(x), lambda x, X: ss.sem(x), "scipy.stats"),
    ]


def _describe_rows(ctx: Context) -> list[Row]:
    """``describe`` on the GPU: the fused kernel against plain CuPy, one pass per moment."""
    # 2**28 float32 = 1 GiB (2**26 with --quick), far beyond the 50 MiB L2.
    cases = [(2**26 if ctx.quick else 2**28, np.float32)]
    if not ctx.quick:
        cases.append((2**27, np.float64))
    rows = []
    for n, dtype in cases:
        x = ctx.random((n,), dtype) + 1.5  # an offset: the mean is not zero
        ours_out = _host(_fields(gs.describe(x)))
        ours = time_it(ctx, lambda x=x: gs.describe(x))
        vendor_out = _host(_vendor_gpu(ctx.xp, x))
        vendor = time_it(ctx, lambda x=x: _vendor_gpu(ctx.xp, x))
        rows.append(
            Row(
                op="describe",
                case=f"{n} {np.dtype(dtype).name}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor="cupy mean/var/skew/kurt/min/max",
                rate=x.nbytes / ours / 1e9,
                unit="GB/s",
                ceiling=ctx.ceilings.copy_GBps / 2,  # one read; the copy moves 2 bytes per byte
                max_rel_err=max_rel_err(ours_out, vendor_out),
            )
        )
    return rows


def run(ctx: Context) -> list[Row]:
    """Time every statistic against the vendor's on fresh random data (offset from zero)."""
    if ctx.on_gpu:  # 256 MiB of float32, beyond the L2 even with --quick
        return _describe_rows(ctx) + _rows(ctx, 2**26, np.float32, _array_cases(ctx.xp, "cupy"))
    # CPU: 16 or 32 MiB of float64, and 512 KiB, where a fixed per-call cost would show.
    large = 2**21 if ctx.quick else 2**22
    small = _rows(ctx, 2**16, np.float64, _cpu_cases(), repeat=100 if ctx.quick else 400)
    return _rows(ctx, large, np.float64, _cpu_cases()) + small


def _rows(
    ctx: Context, n: int, dtype: Any, cases: list[Case], repeat: int | None = None
) -> list[Row]:
    """One row per case on ``n`` fresh values (and a (64, n/64) matrix), offset from zero."""
    rows = []
    x = ctx.random((n,), dtype) + 1.5
    X = ctx.random((64, n // 64), dtype) + 1.5
    for op, ours_fn, vendor_fn, vendor_name in cases:
        ours_out, vendor_out = _host(ours_fn(x, X)), _host(vendor_fn(x, X))
        ours, vendor = paired_time_it(
            ctx, lambda f=ours_fn: f(x, X), lambda f=vendor_fn: f(x, X), repeat=repeat
        )
        data = X if op in ("cov", "corrcoef") else x
        rows.append(
            Row(
                op=op,
                case=f"{tuple(data.shape)} {np.dtype(dtype).name}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor=vendor_name,
                rate=data.nbytes / ours / 1e9,
                unit="GB/s",
                ceiling=ctx.ceilings.copy_GBps / 2,
                max_rel_err=max_rel_err(ours_out, vendor_out),
            )
        )
    return rows
