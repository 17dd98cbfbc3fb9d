"""Linear layer: our fused GEMM + bias + activation against the vendor GEMM and a separate pass.

On the GPU the vendor path is cuBLAS (``cupy.matmul(x, w.T)``) followed by one fused
elementwise kernel that adds the bias and applies the activation in place; ours is one
kernel (kernels/matmul.cu, gm_linear_*) that never reads the output back. On the CPU both
are NumPy: BLAS, then the bias and activation (ours in place, the vendor's out of place).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpumath.ops.linear import linear

from .harness import Context, Row, max_rel_err, paired_time_it

# (M, N, K, dtype, activation)
_GPU_CASES = [
    (8192, 4096, 4096, np.float32, "relu"),
    (8192, 4096, 4096, np.float32, "gelu"),
    (4096, 2048, 2048, np.float64, "relu"),
]
_CPU_CASES = [
    (1024, 512, 512, np.float32, "relu"),
    (512, 256, 256, np.float64, "gelu"),
]
# The vendor's epilogue: one elementwise pass over the output, in place.
_EPILOGUES = {
    "relu": "T v = y + b; y = v > (T)0 ? v : (T)0",
    "gelu": "T v = y + b; y = (T)0.5 * v * erfc(-v * (T)0.70710678118654752)",
}


def _vendor(ctx: Context, activation: str) -> Any:
    """A function (x, w, b) -> activation(x @ w.T + b) the straightforward way."""
    xp = ctx.xp
    if ctx.on_gpu:
        kernel = xp.ElementwiseKernel("T b", "T y", _EPILOGUES[activation], f"bench_{activation}")

        def gpu(x: Any, w: Any, b: Any) -> Any:
            y = xp.matmul(x, w.T)
            kernel(xp.broadcast_to(b, y.shape), y)  # in place: y is read and written
            return y

        return gpu

    def cpu(x: Any, w: Any, b: Any) -> Any:
        v = x @ w.T + b
        if activation == "relu":
            return np.maximum(v, 0)
        from scipy.special import erfc

        return 0.5 * v * erfc(-v / np.sqrt(2).astype(v.dtype))

    return cpu


def run(ctx: Context) -> list[Row]:
    """Time ``linear(x, w, b, activation=...)`` against GEMM + a separate epilogue pass."""
    rows = []
    for m, n, k, dtype, activation in _GPU_CASES if ctx.on_gpu else _CPU_CASES:
        x, w, b = ctx.random((m, k), dtype), ctx.random((n, k), dtype), ctx.random((n,), dtype)
        vendor_fn = _vendor(ctx, activation)
        ours, vendor = paired_time_it(
            ctx,
            lambda x=x, w=w, b=b, a=activation: linear(x, w, b, activation=a),
            lambda x=x, w=w, b=b, f=vendor_fn: f(x, w, b),
        )
        err = max_rel_err(linear(x, w, b, activation=activation), vendor_fn(x, w, b))
        rows.append(
            Row(
                op="linear",
                case=f"{m}x{n}x{k} (MxNxK) bias+{activation} {np.dtype(dtype).name}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor="cuBLAS + elementwise" if ctx.on_gpu else "numpy matmul + ufuncs",
                rate=2 * m * n * k / ours / 1e12,
                unit="TFLOP/s",
                ceiling=ctx.ceilings.matmul_TFLOPs,  # float32 vendor rate, also for float64
                max_rel_err=err,
            )
        )
        del x, w, b
    return rows
