"""Clip by global norm: our two-kernel pass (GPU) or NumPy path (CPU) over 100 arrays,
against the straightforward implementation (one norm per array, their sum, one scale each)."""

from __future__ import annotations

from typing import Any

import numpy as np

from gpumath.ops.clip_norm import clip_by_global_norm

from .harness import Context, Row, max_rel_err, paired_time_it

_NORM_ARRAYS = 100


def run(ctx: Context) -> list[Row]:
    """Time ``clip_by_global_norm`` on 100 ragged arrays totalling 2**28 floats (GPU)."""
    return _global_norm_rows(ctx)


def _norm_sizes(ctx: Context, total: int) -> list[int]:
    """100 ragged sizes (a few large, many small, like a model's parameters) summing to total."""
    weights = ctx.rng.lognormal(0.0, 1.5, _NORM_ARRAYS)
    sizes = np.maximum(1, (weights / weights.sum() * total).astype(np.int64))
    sizes[np.argmax(sizes)] += total - sizes.sum()
    return [int(s) for s in sizes]


def _naive_global_norm(arrays: list[Any], max_norm: float, xp: Any) -> tuple[list[Any], Any]:
    """The straightforward implementation: one norm per array, their sum, one scale per array."""
    norms = [xp.linalg.norm(a) for a in arrays]
    norm = xp.sqrt(sum(n * n for n in norms))
    scale = xp.where(norm <= max_norm, xp.ones_like(norm), max_norm / norm)
    return [a * scale for a in arrays], norm


def _global_norm_rows(ctx: Context) -> list[Row]:
    total = 2**28 if ctx.on_gpu else (2**20 if ctx.quick else 2**22)
    max_norm = 0.5 * float(np.sqrt(total))  # below the norm (about sqrt(total)): clips
    rows = []
    for dtype in (np.float32,) if ctx.on_gpu else (np.float32, np.float64):
        arrays = [ctx.random((s,), dtype) for s in _norm_sizes(ctx, total)]
        ours, vendor = paired_time_it(
            ctx,
            lambda a=arrays: clip_by_global_norm(a, max_norm),
            lambda a=arrays: _naive_global_norm(a, max_norm, ctx.xp),
        )
        got, norm = clip_by_global_norm(arrays, max_norm)
        want, want_norm = _naive_global_norm(arrays, max_norm, ctx.xp)
        largest = int(np.argmax([a.size for a in arrays]))
        err = max(max_rel_err(got[i], want[i]) for i in (0, largest, len(arrays) - 1))
        nbytes = sum(a.nbytes for a in arrays)
        rows.append(
            Row(
                op="clip_by_global_norm",
                case=f"{_NORM_ARRAYS} arrays, {total} {np.dtype(dtype).name} (3 passes)",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor=f"{ctx.xp.__name__} per-array norms",
                rate=3 * nbytes / ours / 1e9,  # two reads and one write: the least traffic
                unit="GB/s",
                ceiling=ctx.ceilings.copy_GBps,
                max_rel_err=max(err, max_rel_err(norm, want_norm)),
            )
        )
        del arrays, got, want
    return rows
