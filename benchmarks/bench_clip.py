"""Clip: our RawKernel (GPU) or NumPy path (CPU) against the vendor clip, bandwidth-bound."""

from __future__ import annotations

import numpy as np

import gpumath

from .harness import Context, Row, max_rel_err, time_it


def run(ctx: Context) -> list[Row]:
    """Time ``gpumath.clip(x, lo, hi, out=...)`` against ``xp.clip`` for float32 and float64."""
    # GPU: 2**26 floats = 256 MiB (float32), far beyond the H100's 50 MiB L2, even with
    # --quick: a smaller input times launch overhead, not memory. CPU: 64 or 16 MiB.
    n = 2**26 if ctx.on_gpu else (2**22 if ctx.quick else 2**24)
    rows = []
    for dtype in (np.float32, np.float64):
        x = ctx.random((n,), dtype)
        ours_out = ctx.xp.full_like(x, np.nan)  # poisoned: a kernel that writes nothing fails
        vendor_out = ctx.xp.full_like(x, np.nan)
        ours = time_it(ctx, lambda x=x, o=ours_out: gpumath.clip(x, -0.5, 0.5, out=o))
        vendor = time_it(ctx, lambda x=x, o=vendor_out: ctx.xp.clip(x, -0.5, 0.5, out=o))
        moved = 2 * x.nbytes  # one read of x, one write of out
        rows.append(
            Row(
                op="clip",
                case=f"{n} {np.dtype(dtype).name}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor=f"{ctx.xp.__name__}.clip",
                rate=moved / ours / 1e9,
                unit="GB/s",
                ceiling=ctx.ceilings.copy_GBps,
                max_rel_err=max_rel_err(ours_out, vendor_out),
            )
        )
    return rows
