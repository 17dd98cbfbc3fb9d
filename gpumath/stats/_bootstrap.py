"""Bootstrap confidence intervals, resampled on the data's device."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from statistics import NormalDist
from typing import Any

import numpy as np

from .._backend import array_namespace, asarray, device_of, is_cupy_array
from .._validate import check_array, check_callable, check_real_dtype
from ._dist_base import special_for
from ._order import lerp, quantile

__all__ = ["BootstrapResult", "ConfidenceInterval", "bootstrap"]

ConfidenceInterval = namedtuple("ConfidenceInterval", ("low", "high"))
BootstrapResult = namedtuple(
    "BootstrapResult", ("confidence_interval", "bootstrap_distribution", "standard_error")
)
_METHODS = ("percentile", "basic", "bca")


def bootstrap(
    statistic: Callable[..., Any],
    data: Any,
    *,
    n_resamples: int = 9999,
    confidence_level: float = 0.95,
    method: str = "BCa",
    rng: Any,
    batch: int | None = None,
) -> BootstrapResult:
    """Two-sided bootstrap confidence interval of ``statistic(data)``, like scipy.stats.bootstrap.

    Draws ``n_resamples`` resamples of ``data`` with replacement in one vectorised step:
    ``rng.integers(0, n, size=(n_resamples, n))`` indices, gathered on the data's device,
    and ``statistic(resamples, axis=-1)`` evaluates them all at once.

    Parameters
    ----------
    statistic : callable
        ``statistic(sample, axis=-1)`` reducing the last axis (e.g. ``gpumath.stats.mean``
        or ``numpy.mean``); it may return extra trailing dimensions (one interval each).
    data : array
        1-D NumPy or CuPy array of observations.
    n_resamples : int
        Number of bootstrap resamples (>= 2).
    confidence_level : float
        In (0, 1).
    method : {"BCa", "percentile", "basic"}
        As in SciPy (case-insensitive; SciPy's default is BCa too). ``"percentile"``: the
        ``alpha`` and ``1 - alpha`` quantiles of the bootstrap distribution; ``"basic"``
        (reverse percentile): ``2 * statistic(data)`` minus those; ``"BCa"``, bias-corrected
        and accelerated (Efron & Tibshirani, *An Introduction to the Bootstrap*, §14.3): the
        quantiles at ``ndtr(z0 + (z0 + z) / (1 - a (z0 + z)))`` for ``z = ndtri(alpha)`` and
        ``ndtri(1 - alpha)``, with bias correction ``z0 = ndtri(fraction of resample statistics
        below statistic(data))`` (ties count half) and acceleration ``a`` from the jackknife
        (``n`` extra evaluations of ``statistic`` on the leave-one-out samples, ``batch`` at a
        time). BCa endpoints are NaN where they are undefined (degenerate data, or a
        statistic such as the minimum), where SciPy warns. Quantiles use the "linear" method.
    rng : generator
        A ``gpumath.random`` Generator (indices drawn on its device) or a
        ``numpy.random.Generator``. With GPU data, a NumPy generator draws the indices on the
        host and they are copied to the GPU: pass a GPU generator to keep it all there.
    batch : int, optional
        Resamples (and BCa jackknife samples) evaluated per step (default: all resamples at
        once), to bound memory. The same ``rng`` state gives the same resamples with any
        ``batch``, and with ``batch=None`` the same as ``scipy.stats.bootstrap`` (both call
        ``rng.integers(0, n, (n_resamples, n))``).

    Returns
    -------
    BootstrapResult
        ``confidence_interval`` (``low``, ``high``), ``bootstrap_distribution`` (the
        statistic of every resample, resamples first) and ``standard_error`` (its standard
        deviation, ddof=1), on the data's device.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import bootstrap
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(10.0, 2.0, size=200)
    >>> res = bootstrap(np.mean, x, n_resamples=2000, rng=rng)
    >>> bool(res.confidence_interval.low < 10.0 < res.confidence_interval.high)
    True
    """
    check_callable(statistic, "statistic")
    check_array(data, "data")
    check_real_dtype(data, "data")
    if data.ndim != 1 or data.shape[0] < 2:
        raise ValueError(f"`data` must be 1-D with at least 2 values; got shape {data.shape}")
    if isinstance(n_resamples, bool) or not isinstance(n_resamples, int | np.integer):
        raise TypeError(f"`n_resamples` must be an integer; got {n_resamples!r}")
    if n_resamples < 2:
        raise ValueError(f"`n_resamples` must be >= 2; got {n_resamples}")
    if not 0 < confidence_level < 1:
        raise ValueError(f"`confidence_level` must be in (0, 1); got {confidence_level!r}")
    kind = method.lower() if isinstance(method, str) else None
    if kind not in _METHODS:
        raise ValueError(f"`method` must be one of percentile, basic, BCa; got {method!r}")
    if batch is not None and (isinstance(batch, bool) or batch < 1):
        raise ValueError(f"`batch` must be a positive integer or None; got {batch!r}")
    if not callable(getattr(rng, "integers", None)):
        raise TypeError(
            f"`rng` must be a gpumath.random or numpy.random Generator; got {type(rng).__name__}"
        )
    xp = array_namespace(data)
    n = data.shape[0]
    step = n_resamples if batch is None else min(batch, n_resamples)
    parts = []
    for start in range(0, n_resamples, step):
        size = min(step, n_resamples - start)
        index = rng.integers(0, n, size=(size, n))
        if is_cupy_array(data) != is_cupy_array(index):
            index = asarray(index, device=device_of(data))
        resamples = xp.reshape(xp.take(data, xp.reshape(index, (-1,)), axis=0), (size, n))
        parts.append(xp.asarray(statistic(resamples, axis=-1)))
    theta = xp.concat(parts, axis=0) if len(parts) > 1 else parts[0]
    alpha = (1 - confidence_level) / 2
    estimate = None if kind == "percentile" else xp.asarray(statistic(data, axis=-1))
    if kind == "bca":
        alpha_low, alpha_high = _bca_levels(statistic, data, theta, estimate, alpha, step, xp)
        ordered = xp.sort(theta, axis=0)
        low, high = (
            _linear_quantile(ordered, alpha_low, xp),
            _linear_quantile(ordered, alpha_high, xp),
        )
    else:
        q = quantile(theta, [alpha, 1 - alpha], axis=0)
        low, high = q[0], q[1]
        if kind == "basic":
            low, high = 2 * estimate - high, 2 * estimate - low
    se = xp.std(theta, axis=0, correction=1)
    return BootstrapResult(ConfidenceInterval(low, high), theta, se)


def _bca_levels(
    statistic: Callable[..., Any],
    data: Any,
    theta: Any,
    estimate: Any,
    alpha: float,
    step: int,
    xp: Any,
) -> tuple[Any, Any]:
    """The BCa interval's quantile levels (arrays of the statistic's shape), as SciPy's."""
    special = special_for(xp)
    dtype = theta.dtype
    # Bias correction: where statistic(data) falls in the bootstrap distribution.
    below = xp.sum(xp.astype(theta < estimate, dtype), axis=0)
    at_or_below = xp.sum(xp.astype(theta <= estimate, dtype), axis=0)
    z0 = special.ndtri((below + at_or_below) / (2 * theta.shape[0]))
    # Acceleration: the skewness of the jackknife values. Leave-one-out sample r holds
    # data[c + (c >= r)] for c < n - 1, gathered on the data's device.
    n = data.shape[0]
    cols = xp.arange(n - 1, device=data.device)
    jack = []
    for start in range(0, n, step):
        rows = xp.arange(start, min(start + step, n), device=data.device)
        index = cols[None, :] + xp.astype(cols[None, :] >= rows[:, None], cols.dtype)
        sample = xp.reshape(xp.take(data, xp.reshape(index, (-1,)), axis=0), (-1, n - 1))
        jack.append(xp.asarray(statistic(sample, axis=-1)))
    jack = xp.concat(jack, axis=0) if len(jack) > 1 else jack[0]
    u = (n - 1) * (xp.mean(jack, axis=0) - jack)
    nf = float(n)  # a Python int past 2**64 (n**3 at n > 2.6M) overflows CuPy's scalar
    spread = (xp.sum(u**2, axis=0) / nf**2) ** 1.5
    # Constant jackknife values (degenerate data) leave `a` undefined: NaN, without 0/0.
    safe = xp.where(spread > 0, spread, xp.ones_like(spread))
    a = xp.sum(u**3, axis=0) / nf**3 / (6 * safe)
    a = xp.where(spread > 0, a, xp.full_like(a, xp.nan))
    z = NormalDist().inv_cdf(alpha)  # a host float: no ufunc on a Python scalar
    levels = []
    for zq in (z, -z):
        shifted = z0 + zq
        levels.append(special.ndtr(z0 + shifted / (1 - a * shifted)))
    return levels[0], levels[1]


def _linear_quantile(ordered: Any, q: Any, xp: Any) -> Any:
    """Linear (H&F 7) quantile of each column of ``ordered`` (sorted along axis 0), each at
    its own level ``q`` (an array of the column shape); NaN where ``q`` is NaN."""
    last = ordered.shape[0] - 1
    nan = xp.isnan(q)
    virtual = xp.clip(q * last, 0, last)
    below = xp.floor(xp.where(nan, xp.zeros_like(virtual), virtual))
    t = virtual - below
    lower = xp.astype(below, xp.int64)
    upper = xp.minimum(lower + 1, last)
    lo = xp.take_along_axis(ordered, lower[None, ...], axis=0)[0, ...]
    hi = xp.take_along_axis(ordered, upper[None, ...], axis=0)[0, ...]
    value = lerp(lo, hi, t, xp)
    return xp.where(nan, xp.full_like(value, xp.nan), value)
