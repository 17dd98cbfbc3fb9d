"""Descriptive statistics: ``describe`` (GPU: one fused moments kernel) against the vendor.

GPU: gpumath.stats.describe (kernels/moments.cu, one read of the data) against plain CuPy
mean, var, skewness and kurtosis written the way a user would (cupyx.scipy.stats has no
skew/kurtosis), plus min and max so both compute the same fields. The bound is one read of
the data, so the rate is ``nbytes / time`` and the ceiling ``copy_GBps / 2`` (the copy
ceiling counts bytes read plus bytes written). CPU: against scipy.stats.describe.
"""

from __future__ import annotations

import numpy as np

from gpumath.stats.descriptive import describe

from .harness import Context, Row, max_rel_err, time_it


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


def _stack(values) -> np.ndarray:
    import gpumath

    return np.array([float(gpumath.to_numpy(v)) for v in values])


def run(ctx: Context) -> list[Row]:
    """Time ``describe`` against the vendor's statistics on fresh random data."""
    if ctx.on_gpu:
        # 2**28 float32 = 1 GiB (2**26 with --quick), far beyond the 50 MiB L2.
        cases = [(2**26 if ctx.quick else 2**28, np.float32)]
        if not ctx.quick:
            cases.append((2**27, np.float64))
    else:
        cases = [(2**22, np.float64)]
    rows = []
    for n, dtype in cases:
        x = ctx.random((n,), dtype) + 1.5  # an offset: the mean is not zero
        ours_out = _stack(_fields(describe(x)))
        ours = time_it(ctx, lambda x=x: describe(x))
        if ctx.on_gpu:
            vendor_out = _stack(_vendor_gpu(ctx.xp, x))
            vendor = time_it(ctx, lambda x=x: _vendor_gpu(ctx.xp, x))
            name = "cupy mean/var/skew/kurt/min/max"
        else:
            import scipy.stats

            vendor_out = _stack(_fields(scipy.stats.describe(x)))
            vendor = time_it(ctx, lambda x=x: scipy.stats.describe(x), repeat=10)
            name = "scipy.stats.describe"
        rows.append(
            Row(
                op="describe",
                case=f"{n} {np.dtype(dtype).name}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor=name,
                rate=x.nbytes / ours / 1e9,
                unit="GB/s",
                ceiling=ctx.ceilings.copy_GBps / 2,  # one read; the copy moves 2 bytes per byte
                max_rel_err=max_rel_err(ours_out, vendor_out),
            )
        )
    return rows
