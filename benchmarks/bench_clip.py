"""Clip: our RawKernel (GPU) or NumPy path (CPU) against the vendor clip, bandwidth-bound."""

from __future__ import annotations

from typing import Any

import numpy as np

import gpumath

from .harness import Context, Row, max_rel_err, paired_time_it, time_it


def run(ctx: Context) -> list[Row]:
    """Time ``gpumath.clip(x, lo, hi, out=...)`` against ``xp.clip`` for float32 and float64."""
    return _clip_rows(ctx)


def _clip_rows(ctx: Context) -> list[Row]:
    # GPU: 2**26 floats = 256 MiB (float32), far beyond the H100's 50 MiB L2, even with
    # --quick: a smaller input times launch overhead, not memory. CPU: 64 or 16 MiB.
    n = 2**26 if ctx.on_gpu else (2**22 if ctx.quick else 2**24)
    rows = []
    for dtype in (np.float32, np.float64):
        x = ctx.random((n,), dtype)
        ours_out = ctx.xp.full_like(x, np.nan)  # poisoned: a kernel that writes nothing fails
        vendor_out = ctx.xp.full_like(x, np.nan)
        ours, vendor = paired_time_it(
            ctx,
            lambda x=x, o=ours_out: gpumath.clip(x, -0.5, 0.5, out=o),
            lambda x=x, o=vendor_out: ctx.xp.clip(x, -0.5, 0.5, out=o),
        )
        case = f"{n} {np.dtype(dtype).name}"
        rows.append(_clip_row(ctx, case, x, ours, vendor, max_rel_err(ours_out, vendor_out)))
        if ctx.on_gpu and dtype == np.float32:
            rows.append(_capped_grid_row(ctx, x, vendor, vendor_out))
    return rows


def _clip_row(ctx: Context, case: str, x: Any, ours: float, vendor: float, err: float) -> Row:
    moved = 2 * x.nbytes  # one read of x, one write of out
    return Row(
        op="clip",
        case=case,
        ours_ms=ours * 1e3,
        vendor_ms=vendor * 1e3,
        vendor=f"{ctx.xp.__name__}.clip",
        rate=moved / ours / 1e9,
        unit="GB/s",
        ceiling=ctx.ceilings.copy_GBps,
        max_rel_err=err,
    )


def _capped_grid_row(ctx: Context, x: Any, vendor: float, vendor_out: Any) -> Row:
    """The same kernel launched with the grid-stride geometry of elementwise_launch_config
    (8 blocks per SM) instead of the op's one-trip-per-thread grid: which one to keep."""
    from gpumath import _kernels

    out = ctx.xp.full_like(x, np.nan)
    kernel = _kernels.get_kernel("clip", "gm_clip_f32")
    grid, block = _kernels.elementwise_launch_config(x.size)
    args = (x, out, np.float32(-0.5), np.float32(0.5), np.int64(x.size))
    seconds = time_it(ctx, lambda: kernel(grid, block, args))
    case = f"{x.size} float32 (grid capped at 8 blocks/SM)"
    return _clip_row(ctx, case, x, seconds, vendor, max_rel_err(out, vendor_out))
