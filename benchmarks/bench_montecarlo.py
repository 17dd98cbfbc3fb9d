"""Monte Carlo pi: the fused Philox kernel (GPU) against a straightforward vectorised estimator.

The vendor column is what one writes with the array library alone: draw uniform points in
batches, test x^2 + y^2 <= 1, count. On a GPU that moves every point through memory; the
fused kernel (kernels/montecarlo.cu) keeps them in registers. The rate is points per
second; there is no memory ceiling for a kernel that touches no memory, so none is shown.
``rel err`` compares the two estimates of pi (both carry Monte Carlo error ~ 1/sqrt(n)).
"""

from __future__ import annotations

import numpy as np

from gpumath.montecarlo import estimate_pi
from gpumath.random import default_rng

from .harness import Context, Row, time_it

_BATCH = 2**26  # points per batch of the vendor estimator: 512 MiB of float32 on a GPU


def _vendor_pi(xp, gen, n: int, dtype) -> float:
    hits = 0
    for start in range(0, n, _BATCH):
        m = min(_BATCH, n - start)
        u = gen.random((2, m), dtype=dtype)
        hits = hits + ((u[0] * u[0] + u[1] * u[1]) <= 1).sum()
    return 4 * hits / n


def run(ctx: Context) -> list[Row]:
    """Time ``estimate_pi(n)`` against the vectorised estimator on the same device."""
    xp = ctx.xp
    if ctx.on_gpu:
        n, dtype = (2**31 if ctx.quick else 2**33), np.float32
        vendor_gen = xp.random.default_rng(1)
    else:
        n, dtype = (2**22 if ctx.quick else 2**24), np.float64
        vendor_gen = np.random.default_rng(1)
    gen = default_rng(2, device=ctx.device)
    ours = estimate_pi(n, rng=gen)
    vendor = _vendor_pi(xp, vendor_gen, n, dtype)
    ours_s = time_it(ctx, lambda: estimate_pi(n, rng=gen), repeat=10 if ctx.quick else 20)
    vendor_s = time_it(ctx, lambda: _vendor_pi(xp, vendor_gen, n, dtype), repeat=5)
    ours_pi, vendor_pi = float(ours.estimate), float(vendor)
    return [
        Row(
            op="estimate_pi",
            case=f"{n} points",
            ours_ms=ours_s * 1e3,
            vendor_ms=vendor_s * 1e3,
            vendor=f"vectorised {ctx.xp.__name__}",
            rate=n / ours_s / (1e9 if ctx.on_gpu else 1e6),
            unit="Gpt/s" if ctx.on_gpu else "Mpt/s",
            ceiling=0.0,
            max_rel_err=abs(ours_pi - vendor_pi) / abs(vendor_pi),
        )
    ]
