"""Random generation: gpumath.random's Generator against the vendor generator it wraps.

GPU: ``cupy.random.Generator`` (cuRAND XORWOW) seeded with the same SeedSequence, so both
produce the same numbers and ``rel err`` checks that the wrapper adds nothing but dispatch.
CPU: ``numpy.random.default_rng`` (PCG64), likewise. Output is write-bound: the rate is
float32 numbers per second against the copy bandwidth / 4 bytes (one write per number).
"""

from __future__ import annotations

import numpy as np

from gpumath.random import default_rng

from .harness import Context, Row, max_rel_err, time_it

_SEED = 20261126


def _vendor_generator(ctx: Context):
    seed = np.random.SeedSequence(_SEED)
    if ctx.on_gpu:
        import cupy

        return cupy.random.Generator(cupy.random.XORWOW(seed))
    return np.random.Generator(np.random.PCG64(seed))


# (label, ours(gen, n), vendor(gen, n)): the vendor column is what a user of the vendor API
# writes for the same draw (CuPy's Generator has no `normal`: standard_normal, then scale).
def _vendor_normal(gen, n):
    z = gen.standard_normal(n, dtype=np.float32)
    z *= np.float32(0.02)
    return z


_CASES = [
    ("random", lambda g, n: g.random(n, dtype=np.float32), lambda v, n: v.random(n, np.float32)),
    (
        "standard_normal",
        lambda g, n: g.standard_normal(n, dtype=np.float32),
        lambda v, n: v.standard_normal(n, dtype=np.float32),
    ),
    (
        "uniform(-1, 1)",
        lambda g, n: g.uniform(-1.0, 1.0, n, dtype=np.float32),
        lambda v, n: v.random(n, dtype=np.float32) * np.float32(2.0) - np.float32(1.0),
    ),
    ("normal(0, 0.02)", lambda g, n: g.normal(0.0, 0.02, n, dtype=np.float32), _vendor_normal),
]


def run(ctx: Context) -> list[Row]:
    """Time float32 draws of 2**26 numbers (GPU; 2**22 / 2**24 on the CPU)."""
    # 2**26 float32 = 256 MiB, far beyond the H100's 50 MiB L2, even with --quick.
    n = 2**26 if ctx.on_gpu else (2**22 if ctx.quick else 2**24)
    device = ctx.device
    ceiling = ctx.ceilings.copy_GBps / 4  # G numbers/s if writing ran at copy speed
    scale, prefix = (1e9, "G") if ctx.on_gpu else (1e6, "M")
    rows = []
    for label, ours_fn, vendor_fn in _CASES:
        ours_out = ours_fn(default_rng(_SEED, device=device), n)  # same seed, same numbers
        vendor_out = vendor_fn(_vendor_generator(ctx), n)
        gen, vendor = default_rng(_SEED + 1, device=device), _vendor_generator(ctx)
        ours_s = time_it(ctx, lambda f=ours_fn, g=gen: f(g, n))
        vendor_s = time_it(ctx, lambda f=vendor_fn, v=vendor: f(v, n))
        rows.append(
            Row(
                op="random",
                case=f"{label} {n} float32",
                ours_ms=ours_s * 1e3,
                vendor_ms=vendor_s * 1e3,
                vendor=f"{ctx.xp.__name__}.random.Generator",
                rate=n / ours_s / scale,
                unit=f"{prefix}num/s",
                ceiling=ceiling * 1e9 / scale,
                max_rel_err=max_rel_err(ours_out, vendor_out),
            )
        )
    return rows
