"""Monte Carlo integration and expectations with error bars, streamed in batches.

Every estimator draws ``batch_size`` points at a time and merges the batch's mean and
squared deviations into running totals on the device (:class:`Accumulator`), so ``n`` may
exceed device memory and no batch waits for the host.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import array_namespace, asarray, to_numpy
from .._validate import check_callable
from ._core import (
    Accumulator,
    MCResult,
    batches,
    check_count,
    check_distribution,
    check_level,
    default_batch,
    generator,
    make_result,
)

__all__ = ["clt_experiment", "expectation", "integrate"]

_METHODS = ("plain", "antithetic", "stratified", "importance")
_MAX_STRATA = 2**16


def _host_bounds(lower: Any, upper: Any) -> tuple[np.ndarray, np.ndarray, bool]:
    """Bounds as host float64 vectors, and whether the integrand takes scalars (1-D)."""
    lo = np.atleast_1d(np.asarray(to_numpy(lower), dtype=np.float64))
    hi = np.atleast_1d(np.asarray(to_numpy(upper), dtype=np.float64))
    if lo.ndim != 1 or hi.shape != lo.shape:
        raise ValueError(
            "`lower` and `upper` must be scalars or 1-d of one length; "
            f"got {lo.shape} and {hi.shape}"
        )
    for name, b in (("lower", lo), ("upper", hi)):
        if np.isnan(b).any():
            raise ValueError(f"`{name}` must not be NaN; got {b.tolist()}")
    if not (hi > lo).all():
        raise ValueError(f"`upper` must be > `lower`; got lower={lo.tolist()}, upper={hi.tolist()}")
    return lo, hi, np.ndim(lower) == 0 and np.ndim(upper) == 0


def _evaluate(f: Callable, x: Any, m: int) -> Any:
    """``f(x)`` checked to give one value per point."""
    y = f(x)
    if tuple(getattr(y, "shape", ())) != (m,):
        raise ValueError(f"`f` must return one value per point, shape ({m},); got {np.shape(y)}")
    return y


def integrate(
    f: Callable[[Any], Any],
    lower: Any,
    upper: Any,
    n: int,
    *,
    rng: Any = None,
    method: str = "plain",
    proposal: Any = None,
    batch_size: int | None = None,
    confidence_level: float = 0.95,
    dtype: Any = np.float64,
    client: Any = None,
    tasks: int | None = None,
) -> MCResult:
    """Monte Carlo estimate of the integral of ``f`` over the box ``[lower, upper]``.

    Parameters
    ----------
    f : callable
        Vectorised integrand: for scalar bounds it gets points of shape ``(m,)``, for
        ``d``-vectors of bounds points of shape ``(m, d)``; it returns shape ``(m,)``.
    lower, upper : float or 1-d array_like
        The box. Infinite bounds are allowed only with ``method="importance"``.
    n : int
        Number of evaluations of ``f`` (>= 2). ``"antithetic"`` uses ``n // 2`` pairs and
        ``"stratified"`` a multiple of its number of strata; ``MCResult.n`` says how many.
    rng : Generator, seed or None
        Where and from what the points are drawn.
    method : {"plain", "antithetic", "stratified", "importance"}
        ``"antithetic"`` pairs each point ``u`` with ``1 - u``; ``"stratified"`` splits the box
        into ``K**d`` equal cells (at most ``min(n // 4, 2**16)``) with the same number of
        points in each; ``"importance"`` draws from ``proposal`` and weights by its density.
    proposal : distribution, optional
        For ``"importance"``: an object with ``sample(shape, rng=)`` and ``logpdf(x)``
        (e.g. :class:`gpumath.stats.distributions.Normal`), on the generator's device.
    batch_size : int, optional
        Points per batch (default about 2**20 values).
    confidence_level : float
        Level of the normal-theory interval ``[ci_low, ci_high]``.
    dtype : float32 or float64
        Dtype of the uniform points (and so usually of the result).
    client : dask.distributed.Client, optional
        Split the work into ``tasks`` independent streams (``rng.spawn``) run on the
        cluster and merged exactly; see :mod:`gpumath.distributed`.
    tasks : int, optional
        Number of tasks with ``client``; default one per 2**24 points.

    Returns
    -------
    MCResult

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.montecarlo import integrate
    >>> from gpumath.random import default_rng
    >>> r = integrate(np.exp, 0.0, 1.0, 100_000, rng=default_rng(0, device="cpu"))
    >>> abs(float(r.estimate) - (np.e - 1)) < 4 * float(r.stderr)
    True
    """
    if client is not None:  # one reproducible stream per task (gpumath.distributed)
        from ..distributed import integrate as scattered

        return scattered(
            f,
            lower,
            upper,
            n,
            client=client,
            rng=rng,
            tasks=tasks,
            method=method,
            proposal=proposal,
            batch_size=batch_size,
            confidence_level=confidence_level,
            dtype=dtype,
        )
    n = check_count(n)
    level = check_level(confidence_level)
    check_callable(f, "f")
    if method not in _METHODS:
        raise ValueError(f"`method` must be one of {', '.join(_METHODS)}; got {method!r}")
    lo, hi, scalar = _host_bounds(lower, upper)
    if method == "importance":
        if proposal is None:
            raise ValueError("`proposal` must be given for method='importance'")
        gen = generator(rng)
        return _importance(f, lo, hi, scalar, n, gen, proposal, batch_size, level)
    if not (np.isfinite(lo).all() and np.isfinite(hi).all()):
        raise ValueError(f"`lower` and `upper` must be finite for method={method!r}")
    gen = generator(rng)
    if method == "stratified":
        return _stratified(f, lo, hi, scalar, n, gen, batch_size, level, dtype)
    volume = float(np.prod(hi - lo))
    probe = gen.random((0,), dtype=dtype)
    xp = array_namespace(probe)
    lo_d = asarray(lo, dtype=dtype, device=gen.device)
    width = asarray(hi - lo, dtype=dtype, device=gen.device)

    def points(u: Any) -> Any:
        x = lo_d + width * u
        return x[:, 0] if scalar else x

    acc = None
    pairs = method == "antithetic"
    count = n // 2 if pairs else n
    size = default_batch(batch_size, count, 2 if pairs else 1)
    for m in batches(count, size):
        u = gen.random((m, lo.size), dtype=dtype)
        y = _evaluate(f, points(u), m)
        if pairs:
            y = (y + _evaluate(f, points(1 - u), m)) / 2
        if acc is None:
            acc = Accumulator(xp, 1, y.dtype, probe.device)
        acc.update(y[:, None])
    estimate = volume * acc.mean[0]
    stderr = volume * xp.sqrt(acc.variance()[0] / count)
    return make_result(estimate, stderr, 2 * count if pairs else count, level)


def _stratified(f, lo, hi, scalar, n, gen, batch_size, level, dtype) -> MCResult:
    """Equal cells, the same number of points in each: the variance of the cell means."""
    d = lo.size
    per_dim = max(1, int(math.floor(min(n // 4, _MAX_STRATA) ** (1 / d) + 1e-9)))
    strata = per_dim**d
    per_cell = n // strata
    probe = gen.random((0,), dtype=dtype)
    xp = array_namespace(probe)
    index = xp.arange(strata, device=probe.device)
    digits = [(index // per_dim**j) % per_dim for j in range(d)]
    corner = xp.astype(xp.stack(digits, axis=-1), dtype) / per_dim  # (strata, d)
    lo_d = asarray(lo, dtype=dtype, device=gen.device)
    width = asarray(hi - lo, dtype=dtype, device=gen.device)
    rounds = default_batch(batch_size, per_cell * strata) // strata or 1
    acc = None
    for r in batches(per_cell, rounds):
        u = corner + gen.random((r, strata, d), dtype=dtype) / per_dim
        x = xp.reshape(lo_d + width * u, (r * strata, d))
        y = _evaluate(f, x[:, 0] if scalar else x, r * strata)
        if acc is None:
            acc = Accumulator(xp, strata, y.dtype, probe.device)
        acc.update(xp.reshape(y, (r, strata)))
    volume = float(np.prod(hi - lo))
    estimate = volume * xp.mean(acc.mean)
    var_of_mean = xp.sum(acc.variance()) / (per_cell * strata * strata)
    return make_result(estimate, volume * xp.sqrt(var_of_mean), per_cell * strata, level)


def _importance(f, lo, hi, scalar, n, gen, proposal, batch_size, level) -> MCResult:
    """``f(x) / q(x)`` on the box (0 outside) for ``x`` drawn from the proposal ``q``."""
    acc = None
    for m in batches(n, default_batch(batch_size, n)):
        x = proposal.sample((m,), rng=gen)
        xp = array_namespace(x)
        if scalar != (x.ndim == 1) or (not scalar and x.shape[-1] != lo.size):
            raise ValueError(f"`proposal` draws of shape {x.shape[1:]} do not match the bounds")
        lo_d = asarray(lo, dtype=x.dtype, device=gen.device)
        hi_d = asarray(hi, dtype=x.dtype, device=gen.device)
        xs = x[:, None] if scalar else x
        inside = xp.all((xs >= lo_d) & (xs <= hi_d), axis=-1)
        value = _evaluate(f, x, m) * xp.exp(-proposal.logpdf(x))
        y = xp.where(inside, value, xp.zeros_like(value))
        if acc is None:
            acc = Accumulator(xp, 1, y.dtype, x.device)
        acc.update(y[:, None])
    return make_result(acc.mean[0], acc.xp.sqrt(acc.variance()[0] / n), n, level)


def expectation(
    f: Callable[[Any], Any],
    dist: Any,
    n: int,
    *,
    rng: Any = None,
    control_variate: tuple[Callable[[Any], Any], float] | None = None,
    batch_size: int | None = None,
    confidence_level: float = 0.95,
    client: Any = None,
    tasks: int | None = None,
) -> MCResult:
    """Monte Carlo estimate of ``E[f(X)]`` for ``X ~ dist``.

    Parameters
    ----------
    f : callable
        Vectorised: draws of shape ``(m, *event_shape)`` in, shape ``(m,)`` out.
    dist : distribution
        Anything with ``sample(shape, rng=)`` (the gpumath distributions).
    n : int
        Number of draws (>= 2).
    control_variate : (g, mean_g), optional
        A function ``g`` with known mean ``E[g(X)] = mean_g``; the estimate becomes
        ``mean(f) - c (mean(g) - mean_g)`` with the variance-minimising ``c`` estimated from
        the same draws.
    client : dask.distributed.Client, optional
        Split the work into ``tasks`` independent streams (``rng.spawn``) run on the
        cluster and merged exactly; see :mod:`gpumath.distributed`.
    tasks : int, optional
        Number of tasks with ``client``; default one per 2**24 points.

    Examples
    --------
    >>> from gpumath.montecarlo import expectation
    >>> from gpumath.random import default_rng
    >>> from gpumath.stats.distributions import Normal
    >>> r = expectation(lambda x: x**2, Normal(0.0, 1.0), 100_000,
    ...                 rng=default_rng(0, device="cpu"), control_variate=(lambda x: x, 0.0))
    >>> abs(float(r.estimate) - 1.0) < 4 * float(r.stderr)
    True
    """
    if client is not None:  # one reproducible stream per task (gpumath.distributed)
        from ..distributed import expectation as scattered

        return scattered(
            f,
            dist,
            n,
            client=client,
            rng=rng,
            tasks=tasks,
            control_variate=control_variate,
            batch_size=batch_size,
            confidence_level=confidence_level,
        )
    n = check_count(n)
    level = check_level(confidence_level)
    check_callable(f, "f")
    check_distribution(dist)
    gen = generator(rng)
    if control_variate is not None:
        pair = isinstance(control_variate, tuple | list) and len(control_variate) == 2
        g, mean_g = control_variate if pair else (None, math.nan)
        if (
            not callable(g)
            or not isinstance(mean_g, int | float | np.integer | np.floating)
            or not math.isfinite(mean_g)
        ):
            raise ValueError(
                "`control_variate` must be a pair (callable g, finite mean of g); "
                f"got {control_variate!r}"
            )
    acc = None
    for m in batches(n, default_batch(batch_size, n)):
        x = dist.sample((m,), rng=gen)
        xp = array_namespace(x)
        y = _evaluate(f, x, m)
        cols = y[:, None] if control_variate is None else xp.stack([y, _evaluate(g, x, m)], axis=1)
        if acc is None:
            dtype = np.result_type(y.dtype, np.float32)
            acc = Accumulator(xp, cols.shape[1], dtype, x.device, full=True)
        acc.update(xp.astype(cols, acc.mean.dtype))
    xp, cov = acc.xp, acc.variance()
    if control_variate is None:
        return make_result(acc.mean[0], xp.sqrt(cov[0, 0] / n), n, level)
    safe = xp.where(cov[1, 1] > 0, cov[1, 1], xp.ones_like(cov[1, 1]))
    c = xp.where(cov[1, 1] > 0, cov[0, 1] / safe, xp.zeros_like(cov[0, 1]))
    estimate = acc.mean[0] - c * (acc.mean[1] - float(mean_g))
    residual = xp.clip(cov[0, 0] - c * cov[0, 1], 0.0, None)
    return make_result(estimate, xp.sqrt(residual / n), n, level)


def clt_experiment(
    dist: Any,
    sample_size: int,
    n_repeats: int,
    rng: Any = None,
    *,
    batch_size: int | None = None,
) -> Any:
    """Standardised means ``(mean of sample_size draws - mu) / (sigma / sqrt(sample_size))``.

    By the Central Limit Theorem they approach a standard normal as ``sample_size`` grows,
    whatever the (finite-variance) distribution. Returns ``n_repeats`` of them.

    Examples
    --------
    >>> from gpumath.montecarlo import clt_experiment
    >>> from gpumath.random import default_rng
    >>> from gpumath.stats.distributions import Exponential
    >>> z = clt_experiment(Exponential(1.0), 100, 2000, default_rng(0, device="cpu"))
    >>> z.shape, abs(float(z.mean())) < 0.1
    ((2000,), True)
    """
    sample_size = check_count(sample_size, "sample_size", 1)
    n_repeats = check_count(n_repeats, "n_repeats", 1)
    check_distribution(dist)
    if tuple(dist.batch_shape) != () or tuple(dist.event_shape) != ():
        raise ValueError("`dist` must be one scalar distribution (no batch or event axes)")
    gen = generator(rng)
    rows = default_batch(batch_size, n_repeats * sample_size) // sample_size or 1
    parts = []
    for r in batches(n_repeats, rows):
        draws = dist.sample((r, sample_size), rng=gen)
        xp = array_namespace(draws)
        parts.append(xp.mean(xp.astype(draws, np.result_type(draws.dtype, np.float32)), axis=1))
    means = xp.concat(parts)
    mu = asarray(dist.mean(), dtype=means.dtype, device=gen.device)
    sigma = asarray(dist.standard_deviation(), dtype=means.dtype, device=gen.device)
    return (means - mu) / (sigma / math.sqrt(sample_size))
