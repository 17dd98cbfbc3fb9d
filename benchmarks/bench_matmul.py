"""Matmul: our tiled GEMM kernel (GPU) or NumPy (CPU) against the vendor GEMM, compute-bound."""

from __future__ import annotations

import numpy as np

from gpumath.ops.matmul import matmul

from .harness import Context, Row, max_rel_err, paired_time_it

# (label, batch, M, N, K, dtype); batch 0 means plain 2-D operands.
_GPU_CASES = [
    ("2048^3", 0, 2048, 2048, 2048, np.float32),
    ("4096^3", 0, 4096, 4096, 4096, np.float32),
    ("8192^3", 0, 8192, 8192, 8192, np.float32),
    ("4095x4097x4093 (MxNxK)", 0, 4095, 4097, 4093, np.float32),
    ("256 x 128^3 batched", 256, 128, 128, 128, np.float32),
    ("2048^3", 0, 2048, 2048, 2048, np.float64),
    ("4096^3", 0, 4096, 4096, 4096, np.float64),
]
# Quick mode stays well under a minute: no 8192 float32 (~22 ms per cuBLAS call), and
# float64 at 2048 only.
_GPU_QUICK_SKIP = {("8192^3", np.float32), ("4096^3", np.float64)}
_GPU_FULL_SKIP = {("2048^3", np.float64)}
_CPU_CASES = [
    ("1024^3", 0, 1024, 1024, 1024, np.float32),
    ("512^3", 0, 512, 512, 512, np.float64),
]


def _cases(ctx: Context) -> list[tuple]:
    if not ctx.on_gpu:
        return _CPU_CASES
    skip = _GPU_QUICK_SKIP if ctx.quick else _GPU_FULL_SKIP
    return [c for c in _GPU_CASES if (c[0], c[5]) not in skip]


def run(ctx: Context) -> list[Row]:
    """Time ``matmul(a, b, out=..., algorithm="tiled")`` against ``xp.matmul`` (cuBLAS/BLAS)."""
    rows = []
    for label, batch, m, n, k, dtype in _cases(ctx):
        lead = (batch,) if batch else ()
        a = ctx.random((*lead, m, k), dtype)
        b = ctx.random((*lead, k, n), dtype)
        ours_out = ctx.xp.full((*lead, m, n), np.nan, dtype=dtype)  # poisoned
        vendor_out = ctx.xp.full((*lead, m, n), np.nan, dtype=dtype)
        ours, vendor = paired_time_it(
            ctx,
            lambda a=a, b=b, o=ours_out: matmul(a, b, out=o, algorithm="tiled"),
            lambda a=a, b=b, o=vendor_out: ctx.xp.matmul(a, b, out=o),
        )
        flops = 2 * max(batch, 1) * m * n * k
        rows.append(
            Row(
                op="matmul",
                case=f"{label} {np.dtype(dtype).name}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor="cupy.matmul (cuBLAS)" if ctx.on_gpu else "numpy.matmul",
                rate=flops / ours / 1e12,
                unit="TFLOP/s",
                ceiling=ctx.ceilings.matmul_TFLOPs,  # float32 vendor rate, also for float64
                max_rel_err=max_rel_err(ours_out, vendor_out),
            )
        )
        del a, b, ours_out, vendor_out  # 8192^2 operands: free before the next case
    return rows
