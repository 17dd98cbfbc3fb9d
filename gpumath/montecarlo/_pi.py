"""``estimate_pi``: the classic Monte Carlo estimate, fused into one CUDA kernel on a GPU.

On CUDA, kernels/montecarlo.cu generates Philox-4x32-10 points, tests them and reduces the
count in registers, so no sample ever reaches memory; the generator only supplies the
Philox key and stream offset. Elsewhere (and as the test oracle), uniform points are drawn
in batches from the generator and counted with array code.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace
from .._nvtx import annotate
from ._core import (
    MCResult,
    batches,
    check_count,
    check_level,
    default_batch,
    generator,
    make_result,
)

__all__ = ["estimate_pi"]

_BLOCK = 256
# 46 registers a thread (ptxas, sm_90) allow 5 resident blocks of 256 an SM; 40 blocks an SM
# are 8 full waves, so the last wave idles little while the grid-stride loop balances work.
_BLOCKS_PER_SM = 40


@annotate("gpumath.estimate_pi")
def estimate_pi(
    n: int,
    *,
    rng: Any = None,
    batch_size: int | None = None,
    confidence_level: float = 0.95,
    client: Any = None,
    tasks: int | None = None,
) -> MCResult:
    """Estimate pi as 4 x the fraction of ``n`` uniform points of the unit square in the disc.

    Parameters
    ----------
    n : int
        Number of points (>= 2); on a GPU any count below 2**63, since nothing is stored.
    rng : Generator, seed or None
        Decides the device (a GPU runs the fused kernel) and seeds the points.
    batch_size : int, optional
        Points per batch for the array path (CPU); default 2**20.
    confidence_level : float
        Level of the interval; ``stderr = 4 sqrt(p (1 - p) / n)`` for the hit fraction ``p``.
    client : dask.distributed.Client, optional
        Split the work into ``tasks`` independent streams (``rng.spawn``) run on the
        cluster and merged exactly; see :mod:`gpumath.distributed`.
    tasks : int, optional
        Number of tasks with ``client``; default one per 2**24 points.

    Returns
    -------
    MCResult

    Notes
    -----
    The GPU stream is Philox-4x32-10 keyed by two 31-bit words drawn from ``rng`` (and offset by
    two more), so the same seed gives the same estimate on the same backend; the CPU path
    uses the generator's own uniforms. The two do not give the same numbers. Each GPU point
    is the midpoint of one of 2^21 x 2^21 cells (three points per Philox call); counting cell
    midpoints is exact integer arithmetic and biases the estimate by -3.7e-10, far below the
    standard error of any feasible ``n``.

    Examples
    --------
    >>> from gpumath.montecarlo import estimate_pi
    >>> from gpumath.random import default_rng
    >>> r = estimate_pi(1_000_000, rng=default_rng(0, device="cpu"))
    >>> abs(float(r.estimate) - 3.14159265) < 5 * float(r.stderr)
    True
    """
    if client is not None:  # one reproducible stream per task (gpumath.distributed)
        from ..distributed import estimate_pi as scattered

        return scattered(
            n,
            client=client,
            rng=rng,
            tasks=tasks,
            batch_size=batch_size,
            confidence_level=confidence_level,
        )
    n = check_count(n)
    level = check_level(confidence_level)
    gen = generator(rng)
    if gen.device != "cpu":
        hits = _estimate_pi_cuda(n, gen)
    else:
        hits = _count_hits_xp(n, gen, default_batch(batch_size, n, 2))
    xp = array_namespace(hits)
    p = xp.astype(hits, np.float64) / n
    return make_result(4 * p, 4 * xp.sqrt(p * (1 - p) / n), n, level)


def _count_hits_xp(n: int, gen: Any, batch: int) -> Any:
    """Points in the quarter disc among ``n`` uniform ones: array code, batch by batch."""
    hits = None
    for m in batches(n, batch):
        u = gen.random((2, m))
        xp = array_namespace(u)
        inside = xp.sum(xp.astype(u[0] * u[0] + u[1] * u[1] <= 1.0, xp.int64))
        hits = inside if hits is None else hits + inside
    return xp.asarray(hits)  # NumPy reduces to a scalar


def _estimate_pi_cuda(n: int, gen: Any) -> Any:
    """The fused kernel: one partial count per block, summed on the device (uint64)."""
    import cupy

    with cupy.cuda.Device(int(gen.device.split(":")[1])):
        seed = cupy.ascontiguousarray(gen.integers(0, 2**31, size=4).astype(cupy.uint32))
        philox_blocks = -(-n // 3)  # three points per Philox-4x32 call
        grid, block = _kernels.elementwise_launch_config(philox_blocks, _BLOCK, _BLOCKS_PER_SM)
        counts = cupy.empty(grid[0], dtype=cupy.uint64)
        kernel = _kernels.get_kernel("montecarlo", "gm_estimate_pi_u64")
        _kernels.launch(
            kernel, grid, block, (seed, np.int64(n), counts), op="estimate_pi", shapes=f"n={n}"
        )
        return counts.sum()
