"""Order statistics: quantile and histogram with NumPy's semantics, on the array API.

Both work on the data's device; the indices quantile reads are computed on the host from
the shape alone. Two functions outside the array API standard, which NumPy and CuPy both
have, keep them O(n): ``partition`` (quantile; else a full sort) and ``bincount`` (histogram
with equal-width bins; else sort and search).
"""

from __future__ import annotations

import math
import operator
from typing import Any

import numpy as np

from .._backend import array_namespace, is_cupy_array, is_numpy_namespace
from .._validate import check_array, check_real_dtype
from ._moments import normalize_axes, numpy_keepdims, prepare, warn_if_empty

__all__ = ["histogram", "median", "quantile"]

# NumPy's quantile methods: H&F (alpha, beta) for the continuous ones, and the rest by name.
_CONTINUOUS = {
    "interpolated_inverted_cdf": (0.0, 1.0),
    "hazen": (0.5, 0.5),
    "weibull": (0.0, 0.0),
    "linear": (1.0, 1.0),
    "median_unbiased": (1 / 3.0, 1 / 3.0),
    "normal_unbiased": (3 / 8.0, 3 / 8.0),
}
_DISCRETE = ("inverted_cdf", "averaged_inverted_cdf", "closest_observation")
_OTHER = ("lower", "higher", "midpoint", "nearest")
METHODS = (*_DISCRETE, *_CONTINUOUS, *_OTHER)


def _boundaries(index: np.ndarray, take_previous: np.ndarray) -> np.ndarray:
    previous = np.floor(index)
    out = np.where(take_previous, previous, previous + 1).astype(np.intp)
    return np.maximum(out, 0)


def _positions(n: int, q: np.ndarray, method: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lower and upper order-statistic indices and interpolation weights, as in NumPy."""
    if method == "inverted_cdf":
        index = n * q - 1
        idx = _boundaries(index, (index - np.floor(index)) == 0)
        return idx, idx, np.zeros_like(q)
    if method == "closest_observation":
        index = n * q - 1 - 0.5
        g = index - np.floor(index)
        idx = _boundaries(index, (g == 0) & (np.floor(index) % 2 == 1))
        return idx, idx, np.zeros_like(q)
    if method in ("lower", "higher", "nearest"):
        rounding = {"lower": np.floor, "higher": np.ceil, "nearest": np.around}[method]
        idx = rounding((n - 1) * q).astype(np.intp)
        return idx, idx, np.zeros_like(q)
    if method == "linear":
        virtual = (n - 1) * q
    elif method in ("averaged_inverted_cdf",):
        virtual = n * q - 1
    elif method == "midpoint":
        virtual = 0.5 * (np.floor((n - 1) * q) + np.ceil((n - 1) * q))
    else:
        alpha, beta = _CONTINUOUS[method]
        virtual = n * q + (alpha + q * (1 - alpha - beta)) - 1
    previous = np.floor(virtual)
    gamma = virtual - previous
    if method == "averaged_inverted_cdf":
        gamma = np.where(gamma == 0, 0.5, 1.0)
    elif method == "midpoint":
        gamma = np.where(virtual % 1 == 0, 0.0, 0.5)
    lower = previous.astype(np.intp)
    upper = lower + 1
    above, below = virtual >= n - 1, virtual < 0
    lower[above], upper[above] = n - 1, n - 1
    lower[below], upper[below] = 0, 0
    return lower, upper, gamma


def quantile(
    x: Any, q: Any, /, *, axis: Any = None, method: str = "linear", keepdims: bool = False
) -> Any:
    """Quantiles of ``x`` along ``axis``, like ``numpy.quantile`` (every NumPy ``method``).

    Parameters
    ----------
    x : array
        NumPy or CuPy array of a real dtype.
    q : float or sequence of floats in [0, 1]
        Probabilities (host values: they fix which order statistics are read). An array
        ``q`` puts its axis first in the result, as in NumPy.
    axis : None, int or tuple of ints
        Axes to reduce; None: the flattened array.
    method : str
        ``"linear"`` (the default, H&F 7) or any other NumPy method: ``inverted_cdf``,
        ``averaged_inverted_cdf``, ``closest_observation``, ``interpolated_inverted_cdf``,
        ``hazen``, ``weibull``, ``median_unbiased``, ``normal_unbiased``, ``lower``,
        ``higher``, ``midpoint``, ``nearest``.
    keepdims : bool
        Keep reduced axes with length one.

    Returns
    -------
    array
        In ``x``'s dtype for float data (integers give float64 where values are interpolated).
        A slice with a NaN gives NaN.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import quantile
    >>> quantile(np.array([1.0, 2.0, 3.0, 4.0]), [0.25, 0.5])
    array([1.75, 2.5 ])
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {', '.join(METHODS)}; got {method!r}")
    qs = np.asarray(q.get() if is_cupy_array(q) else q, dtype=np.float64)
    if qs.ndim > 1 or not np.all((qs >= 0) & (qs <= 1)):
        raise ValueError(f"`q` must be a probability or a 1-D sequence of them in [0, 1]; got {q}")
    return _quantile(x, qs, axis, method, keepdims, median=False)


def _quantile(x: Any, qs: np.ndarray, axis: Any, method: str, keepdims: bool, median: bool) -> Any:
    """:func:`quantile` of checked arguments; ``median``: numpy.median's arithmetic (the
    middle value itself, or the mean of the two middle values), not interpolation."""
    interpolates = method in _CONTINUOUS or method in ("averaged_inverted_cdf", "midpoint")
    keepdims = numpy_keepdims(x, keepdims)
    if interpolates:
        x, xp = prepare(x)
    else:
        check_array(x, "x")
        check_real_dtype(x, "x")
        xp = array_namespace(x)
    axes = normalize_axes(axis, x.ndim)
    kept = [i for i in range(x.ndim) if i not in axes]
    n = math.prod(x.shape[a] for a in axes)
    out_shape = tuple(1 if i in axes else x.shape[i] for i in range(x.ndim)) if keepdims else None
    rest = out_shape if keepdims else tuple(x.shape[i] for i in kept)
    if n == 0 and median:  # numpy.median: NaN with "Mean of empty slice"
        warn_if_empty(n)
        return xp.full(rest, xp.nan, dtype=x.dtype, device=x.device)
    if n == 0:
        raise ValueError(f"`x` must not be empty along `axis`; got shape {tuple(x.shape)}")
    flat = xp.reshape(xp.permute_dims(x, (*axes, *kept)), (n, *(x.shape[i] for i in kept)))
    lower, upper, gamma = _positions(n, qs.ravel(), method)
    # Only the order statistics read below (and the last, where NaN sorts) need to be in
    # place: NumPy and CuPy partition, O(n), where they have it; else a full sort.
    kth = np.unique(np.concatenate([lower, upper, [n - 1]]))
    partition = getattr(xp, "partition", None)
    ordered = xp.sort(flat, axis=0) if partition is None else partition(flat, kth.tolist(), axis=0)
    device = x.device
    lo = xp.take(ordered, xp.asarray(lower, device=device), axis=0)
    result = lo
    if median:
        # numpy.median: the middle value itself, or the mean of the two middle values. With
        # infinities, interpolation differs: 3 + (inf - 3) * 0 is NaN, not 3.
        if n % 2 == 0:
            hi = xp.take(ordered, xp.asarray(upper, device=device), axis=0)
            result = (lo + hi) / 2
    elif interpolates:
        hi = xp.take(ordered, xp.asarray(upper, device=device), axis=0)
        t = xp.reshape(xp.asarray(gamma, dtype=x.dtype, device=device), (-1,) + (1,) * len(kept))
        result = lerp(lo, hi, t, xp)
    if np.dtype(x.dtype).kind == "f":
        has_nan = xp.isnan(ordered[-1:, ...])  # sorting puts NaN last
        result = xp.where(has_nan, xp.asarray(xp.nan, dtype=x.dtype, device=device), result)
    return xp.reshape(result, qs.shape + rest)


def lerp(lo: Any, hi: Any, t: Any, xp: Any) -> Any:
    """``lo + t (hi - lo)`` as NumPy's quantile computes it: from the nearer end, so ``t = 0``
    and ``t = 1`` give ``lo`` and ``hi`` exactly."""
    diff = hi - lo
    return xp.where(t >= 0.5, hi - diff * (1 - t), lo + diff * t)


def median(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
    """Median along ``axis``, like ``numpy.median``: the middle value, or the mean of the
    two middle values of an even count (so ``[-inf, 3, inf]`` gives 3, where the
    interpolating 0.5 :func:`quantile` gives NaN, as NumPy's does). An empty slice gives
    NaN with NumPy's RuntimeWarning.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import median
    >>> median(np.array([[4.0, 1.0, 3.0], [2.0, 8.0, 6.0]]), axis=1)
    array([3., 6.])
    """
    return _quantile(x, np.asarray(0.5), axis, "linear", keepdims, median=True)


def _bin_count(bins: Any) -> int | None:
    try:
        return operator.index(bins)
    except TypeError:
        return None


def histogram(x: Any, /, bins: Any = 10, *, range: Any = None, density: bool = False):
    """Histogram of the values of ``x``, like ``numpy.histogram``.

    Parameters
    ----------
    x : array
        NumPy or CuPy array of a real dtype, flattened.
    bins : int or 1-D array
        Number of equal-width bins in ``range``, or the bin edges (increasing). Every bin
        is half-open ``[a, b)`` except the last, which includes its right edge.
    range : (float, float), optional
        Lower and upper edge; default ``(x.min(), x.max())`` (one host sync), widened by 0.5
        on each side when they are equal, ``(0, 1)`` for empty ``x``. Values outside, and
        NaN, are not counted.
    density : bool
        Return the probability density (counts / (total * width)) in float64 instead.

    Returns
    -------
    counts : array
        int64 counts (float64 densities) on ``x``'s device.
    edges : array
        ``bins + 1`` edges in ``x``'s float dtype (float64 for integer data).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import histogram
    >>> histogram(np.array([0.0, 0.5, 1.0, 1.5, 2.0]), bins=2)
    (array([2, 3]), array([0., 1., 2.]))
    """
    values, xp = prepare(x)
    values = xp.reshape(values, (-1,))
    device = values.device
    n_bins = _bin_count(bins)
    if n_bins is not None:
        if n_bins < 1:
            raise ValueError(f"`bins` must be a positive integer or 1-D edges; got {bins!r}")
        first, last = _outer_edges(values, range, xp)
        edges = xp.linspace(first, last, n_bins + 1, dtype=values.dtype, device=device)
    else:
        if range is not None:
            raise ValueError("`range` must be None when `bins` gives the edges")
        edges = xp.asarray(bins, device=device) if is_cupy_array(bins) else np.asarray(bins)
        if edges.ndim != 1 or edges.shape[0] < 2:
            raise ValueError(f"`bins` must be a positive integer or 1-D edges; got {bins!r}")
        edges = xp.asarray(edges, dtype=xp.result_type(edges.dtype, values.dtype), device=device)
        if bool(xp.any(edges[:-1] > edges[1:])):
            raise ValueError("`bins` must increase monotonically when an array")
    if is_numpy_namespace(xp):  # numpy.histogram is this very definition, cache-blocked
        uniform = {"bins": n_bins, "range": (first, last)} if n_bins is not None else {}
        return np.histogram(values, density=density, **({"bins": edges} | uniform))
    values = xp.astype(values, edges.dtype, copy=False)
    if n_bins is not None and hasattr(xp, "bincount"):
        counts = _uniform_counts(values, edges, n_bins, xp)
    else:
        counts = _sorted_counts(values, edges, xp)
    if not density:
        return counts, edges
    widths = xp.astype(edges[1:] - edges[:-1], xp.float64)
    return xp.astype(counts, xp.float64) / widths / xp.astype(xp.sum(counts), xp.float64), edges


def _uniform_counts(values: Any, edges: Any, n_bins: int, xp: Any) -> Any:
    """Counts in equal-width bins: NumPy's computed bin index, corrected against the edges
    (so every value lands where a comparison with ``edges`` puts it), then one bincount."""
    first, last = edges[0], edges[-1]
    inside = (values >= first) & (values <= last)  # False for NaN
    scaled = (values - first) / (last - first) * n_bins
    index = xp.astype(xp.where(inside, scaled, xp.zeros_like(scaled)), xp.int64)
    index = xp.clip(index, 0, n_bins - 1)  # the last edge belongs to the last bin
    index = xp.where(values < xp.take(edges, index), index - 1, index)
    above = (values >= xp.take(edges, index + 1)) & (index != n_bins - 1)
    index = xp.where(above, index + 1, index)
    index = xp.where(inside, index, xp.full_like(index, n_bins))  # outside: a spare bin
    return xp.astype(xp.bincount(index, minlength=n_bins + 1)[:n_bins], xp.int64)


def _sorted_counts(values: Any, edges: Any, xp: Any) -> Any:
    """Counts between arbitrary increasing edges: sort, then search each edge."""
    # NaN sorts last and searchsorted treats it as the largest value: it is never counted.
    ordered = xp.sort(values)
    below = xp.concat(  # values below each edge; the last bin includes its right edge
        [
            xp.searchsorted(ordered, edges[:-1], side="left"),
            xp.searchsorted(ordered, edges[-1:], side="right"),
        ]
    )
    return xp.astype(below[1:] - below[:-1], xp.int64)


def _outer_edges(values: Any, range: Any, xp: Any) -> tuple[float, float]:
    """NumPy's _get_outer_edges: the histogram's lower and upper edge as host floats."""
    if range is not None:
        try:
            first, last = (float(v) for v in range)
        except (TypeError, ValueError):
            raise ValueError(f"`range` must be a pair of numbers; got {range!r}") from None
        if first > last:
            raise ValueError(f"`range` must have min <= max; got {range!r}")
        if not (math.isfinite(first) and math.isfinite(last)):
            raise ValueError(f"`range` must be finite; got {range!r}")
    elif values.shape[0] == 0:
        first, last = 0.0, 1.0
    else:
        first, last = float(xp.min(values)), float(xp.max(values))
        if not (math.isfinite(first) and math.isfinite(last)):
            raise ValueError(
                f"`x` must be finite to find the range automatically; got [{first}, {last}]"
                " (pass `range`)"
            )
    if first == last:
        first, last = first - 0.5, last + 0.5
    return first, last
