"""Monte Carlo on a ``dask.distributed.Client``: one reproducible stream per task.

The ``n`` evaluations are split into ``tasks`` parts of (nearly) equal size, a number that
depends on ``n`` and ``tasks`` only, never on the cluster. Part ``i`` draws from child ``i``
of ``rng``'s seed sequence (:meth:`gpumath.random.Generator.spawn`) on the same device kind
and runs the one-process estimator (:mod:`gpumath.montecarlo`) on its worker. The parts'
results merge on the client:

- ``estimate_pi``: hit counts are summed, so the estimate and its standard error are the
  one-process formulas over all points;
- ``integrate`` (plain, antithetic, importance) and ``expectation`` without a control
  variate: each part's mean and sum of squared deviations (recovered exactly from its
  estimate and standard error) merge with Chan's formula: the standard error of one run over
  all the parts' samples;
- stratified sampling and control variates: the parts' estimates are independent and
  unbiased, so they are averaged with weights ``n_i / n`` and their variances combined as
  ``sum (n_i / n)**2 stderr_i**2``.

The same seed and ``tasks`` give the same result on any number of workers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from ..montecarlo._core import MCResult, check_count, check_level, make_result
from ..random import Generator, default_rng

__all__ = ["estimate_pi", "expectation", "integrate"]

_PER_TASK = 2**24  # default points per task: ~0.3 s of CPU work, negligible scheduling cost


def _check_client(client: Any) -> Any:
    from distributed import Client

    if not isinstance(client, Client):
        raise TypeError(f"`client` must be a dask.distributed.Client; got {type(client).__name__}")
    return client


def _split(n: int, tasks: Any, minimum: int) -> list[int]:
    """Sizes of the parts: ``tasks`` of them (default ceil(n / 2**24)), each >= ``minimum``."""
    if tasks is None:
        tasks = max(1, min(-(-n // _PER_TASK), n // minimum))
    tasks = check_count(tasks, "tasks", 1)
    if tasks * minimum > n:
        raise ValueError(f"`tasks` must be at most n // {minimum} = {n // minimum}; got {tasks}")
    base, extra = divmod(n, tasks)
    return [base + (i < extra) for i in range(tasks)]


def _streams(rng: Any, tasks: int) -> tuple[list[np.random.SeedSequence], str]:
    """Independent seed sequences, one per task, and the device the parts draw on."""
    gen = rng if isinstance(rng, Generator) else default_rng(rng, device="cpu")
    return [g.seed_sequence for g in gen.spawn(tasks)], gen.device


def _run(client: Any, task: Callable, sizes: list[int], rng: Any, *args: Any) -> list[tuple]:
    seeds, device = _streams(rng, len(sizes))
    # pure=False: every call computes its parts (no reuse of an earlier call's results);
    # a part lost with its worker is rerun by Dask from its seed, so the result is the same.
    columns = ([a] * len(sizes) for a in args)
    futures = client.map(task, sizes, seeds, [device] * len(sizes), *columns, pure=False)
    return client.gather(futures)


def _summary(r: MCResult) -> tuple[float, float, int]:
    """A part's result as host numbers: the merge is tiny and runs on the client."""
    return float(r.estimate), float(r.stderr), int(r.n)


def _pi_task(n: int, seed: Any, device: str, batch_size: Any) -> tuple[float, float, int]:
    from ..montecarlo import estimate_pi as local

    return _summary(local(n, rng=default_rng(seed, device=device), batch_size=batch_size))


def estimate_pi(
    n: int,
    *,
    client: Any,
    rng: Any = None,
    tasks: int | None = None,
    batch_size: int | None = None,
    confidence_level: float = 0.95,
) -> MCResult:
    """:func:`gpumath.montecarlo.estimate_pi` split over the workers of ``client``.

    Parameters
    ----------
    n : int
        Number of points (>= 2).
    client : dask.distributed.Client
        Where the parts run.
    rng : Generator, seed or None
        Seeds the parts' streams and picks their device kind (a CUDA generator: each part
        draws on its worker's GPU, e.g. under ``dask_cuda.LocalCUDACluster``). Default CPU.
    tasks : int, optional
        Number of parts (default ``ceil(n / 2**24)``); fixes the result for a seed.
    batch_size : int, optional
        Points per batch inside a part (CPU path).
    confidence_level : float
        Level of the interval.

    Returns
    -------
    MCResult
        Host (NumPy) 0-d arrays; the estimate and standard error of all ``n`` points.

    Examples
    --------
    >>> from dask.distributed import Client, LocalCluster
    >>> from gpumath.distributed import estimate_pi
    >>> cluster = LocalCluster(n_workers=2, processes=False, dashboard_address=":0")
    >>> with cluster, Client(cluster) as client:
    ...     r = estimate_pi(10**6, client=client, rng=0, tasks=4)
    >>> abs(float(r.estimate) - 3.14159265) < 5 * float(r.stderr)
    True
    """
    n = check_count(n)
    level = check_level(confidence_level)
    sizes = _split(n, tasks, 2)
    parts = _run(_check_client(client), _pi_task, sizes, rng, batch_size)
    # estimate = 4 hits / n_i exactly recovers each part's integer hit count.
    hits = sum(round(est * m / 4) for est, _, m in parts)
    p = hits / n
    return make_result(np.float64(4 * p), np.float64(4 * math.sqrt(p * (1 - p) / n)), n, level)


def _merge_parts(parts: list[tuple], units: list[int], exact: bool, level: float) -> MCResult:
    """Merged estimate and standard error of independent parts; ``units``: samples per part.

    ``exact``: the parts report ``stderr = sqrt(M2 / (c (c - 1)))`` over ``c`` samples, so
    ``M2`` is recovered and the parts merge with Chan's formula.
    """
    n_total = sum(r[2] for r in parts)
    c_total = sum(units)
    if exact:
        count, mean, m2 = 0, 0.0, 0.0
        for (est, se, _), c in zip(parts, units, strict=True):
            delta = est - mean
            new = count + c
            m2 += se * se * c * (c - 1) + delta * delta * count * c / new
            mean += delta * c / new
            count = new
        stderr = math.sqrt(m2 / (c_total * (c_total - 1)))
    else:
        weights = [c / c_total for c in units]
        mean = math.fsum(w * r[0] for w, r in zip(weights, parts, strict=True))
        stderr = math.sqrt(math.fsum((w * r[1]) ** 2 for w, r in zip(weights, parts, strict=True)))
    return make_result(np.float64(mean), np.float64(stderr), n_total, level)


def _integrate_task(n, seed, device, f, lower, upper, kwargs) -> tuple[float, float, int]:
    from ..montecarlo import integrate as local

    return _summary(local(f, lower, upper, n, rng=default_rng(seed, device=device), **kwargs))


def integrate(
    f: Callable[[Any], Any],
    lower: Any,
    upper: Any,
    n: int,
    *,
    client: Any,
    rng: Any = None,
    tasks: int | None = None,
    method: str = "plain",
    confidence_level: float = 0.95,
    **kwargs: Any,
) -> MCResult:
    """:func:`gpumath.montecarlo.integrate` split over the workers of ``client``.

    ``f`` (and a ``proposal``) must pickle for process workers (Dask uses cloudpickle, so
    lambdas are fine). Other keywords (``proposal``, ``batch_size``, ``dtype``) go to every
    part; ``tasks`` and ``rng`` as in :func:`estimate_pi`.

    Examples
    --------
    >>> from dask.distributed import Client, LocalCluster
    >>> from gpumath.distributed import integrate
    >>> cluster = LocalCluster(n_workers=2, processes=False, dashboard_address=":0")
    >>> with cluster, Client(cluster) as client:
    ...     r = integrate(lambda x: x * x, 0.0, 1.0, 10**5, client=client, rng=0, tasks=4)
    >>> abs(float(r.estimate) - 1 / 3) < 5 * float(r.stderr)
    True
    """
    n = check_count(n)
    level = check_level(confidence_level)
    if method == "antithetic":  # whole pairs per part: the parts use all n // 2 pairs
        sizes = [2 * m for m in _split(n // 2, tasks, 1)]
    else:  # a stratified part needs >= 4 points (one stratum)
        sizes = _split(n, tasks, 4 if method == "stratified" else 2)
    args = dict(kwargs, method=method, confidence_level=level)
    parts = _run(_check_client(client), _integrate_task, sizes, rng, f, lower, upper, args)
    units = [r[2] // 2 if method == "antithetic" else r[2] for r in parts]
    return _merge_parts(parts, units, method != "stratified", level)


def _expectation_task(n, seed, device, f, dist, kwargs) -> tuple[float, float, int]:
    from ..montecarlo import expectation as local

    return _summary(local(f, dist, n, rng=default_rng(seed, device=device), **kwargs))


def expectation(
    f: Callable[[Any], Any],
    dist: Any,
    n: int,
    *,
    client: Any,
    rng: Any = None,
    tasks: int | None = None,
    control_variate: tuple[Callable[[Any], Any], float] | None = None,
    confidence_level: float = 0.95,
    batch_size: int | None = None,
) -> MCResult:
    """:func:`gpumath.montecarlo.expectation` split over the workers of ``client``.

    Examples
    --------
    >>> from dask.distributed import Client, LocalCluster
    >>> from gpumath.distributed import expectation
    >>> from gpumath.stats.distributions import Normal
    >>> cluster = LocalCluster(n_workers=2, processes=False, dashboard_address=":0")
    >>> with cluster, Client(cluster) as client:
    ...     r = expectation(lambda x: x * x, Normal(0.0, 1.0), 10**5, client=client, rng=0)
    >>> abs(float(r.estimate) - 1.0) < 5 * float(r.stderr)
    True
    """
    n = check_count(n)
    level = check_level(confidence_level)
    sizes = _split(n, tasks, 2)
    args = {
        "control_variate": control_variate,
        "confidence_level": level,
        "batch_size": batch_size,
    }
    parts = _run(_check_client(client), _expectation_task, sizes, rng, f, dist, args)
    return _merge_parts(parts, [r[2] for r in parts], control_variate is None, level)
