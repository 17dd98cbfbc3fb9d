"""Bootstrap confidence intervals, resampled on the data's device."""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import array_namespace, asarray, device_of, is_cupy_array
from .._validate import check_array, check_real_dtype
from ._order import quantile

__all__ = ["BootstrapResult", "ConfidenceInterval", "bootstrap"]

ConfidenceInterval = namedtuple("ConfidenceInterval", ("low", "high"))
BootstrapResult = namedtuple(
    "BootstrapResult", ("confidence_interval", "bootstrap_distribution", "standard_error")
)
_METHODS = ("percentile", "basic")


def bootstrap(
    statistic: Callable[..., Any],
    data: Any,
    *,
    n_resamples: int = 9999,
    confidence_level: float = 0.95,
    method: str = "percentile",
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
    method : {"percentile", "basic"}
        Percentile interval, or the basic (reverse percentile) interval
        ``2 * statistic(data) - quantiles``. Quantiles use the "linear" method.
    rng : generator
        A ``gpumath.random`` Generator (indices drawn on its device) or a
        ``numpy.random.Generator``. With GPU data, a NumPy generator draws the indices on the
        host and they are copied to the GPU: pass a GPU generator to keep it all there.
    batch : int, optional
        Resamples evaluated per step (default: all at once), to bound memory.

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
    if method not in _METHODS:
        raise ValueError(f"`method` must be one of {', '.join(_METHODS)}; got {method!r}")
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
    q = quantile(theta, [alpha, 1 - alpha], axis=0)
    if method == "percentile":
        low, high = q[0], q[1]
    else:
        estimate = xp.asarray(statistic(data, axis=-1))
        low, high = 2 * estimate - q[1], 2 * estimate - q[0]
    se = xp.std(theta, axis=0, correction=1)
    return BootstrapResult(ConfidenceInterval(low, high), theta, se)
