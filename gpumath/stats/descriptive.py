"""Descriptive statistics with NumPy/SciPy semantics, written once against the array API.

Every function takes a NumPy or CuPy array and computes where it lives. Signatures follow
NumPy, ``(x, /, *, axis=None, keepdims=False, ...)``: note that ``axis=None`` (the whole
array) is the default here also where SciPy's default is ``axis=0`` (skew, kurtosis,
moment, describe, zscore, sem).

- dtype: float32 in, float32 out; float64 in, float64 out; bool and integers give float64
  (as NumPy's mean and var do), float16 gives float32.
- Stability: variances and higher moments are corrected two-pass (see ``_moments``), never
  ``E[x**2] - E[x]**2``, so data such as 1e8 + small noise keep their accuracy.
- On CUDA, :func:`describe`, :func:`skew` and :func:`kurtosis` of float32/float64 data run one
  fused kernel (kernels/moments.cu): a single read of the data, float64 accumulation, no
  atomics, deterministic.
- Empty slices and ``n - ddof <= 0`` give NaN with NumPy's RuntimeWarning ("Mean of empty
  slice", "Degrees of freedom <= 0 for slice"), decided from shapes alone (no device sync);
  :func:`describe` of an empty slice raises ValueError, as scipy.stats.describe does.
- NaN propagates (a slice with a NaN gives NaN), as in NumPy and SciPy.
"""

from __future__ import annotations

from collections import namedtuple
from typing import Any

import numpy as np

from .._backend import array_namespace, is_numpy_namespace
from .._nvtx import annotate
from ._blocked import centred_squares, shift_error_negligible
from ._bootstrap import BootstrapResult, bootstrap
from ._moments import (
    count,
    cuda_supports,
    finish,
    moments_cuda,
    moments_xp,
    normalize_axes,
    numpy_keepdims,
    prepare,
    warn_if_empty,
)
from ._order import histogram, median, quantile
from ._running import RunningMoments

__all__ = [
    "BootstrapResult",
    "DescribeResult",
    "RunningMoments",
    "bootstrap",
    "corrcoef",
    "cov",
    "describe",
    "histogram",
    "kurtosis",
    "mean",
    "median",
    "moment",
    "quantile",
    "sem",
    "skew",
    "std",
    "var",
    "zscore",
]

# RunningMoments, bootstrap, median, quantile and histogram live in their own modules and are
# re-exported here, so that gpumath.stats imports every descriptive name from this one.
DescribeResult = namedtuple(
    "DescribeResult", ("nobs", "minmax", "mean", "variance", "skewness", "kurtosis")
)


def _check_real(value: Any, name: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"`{name}` must be a real number; got {value!r}")
    return float(value)


class _Reduction:
    """Axes, slice size and result shapes of one reduction of ``x``."""

    def __init__(self, x: Any, axis: Any, keepdims: bool):
        if axis is None:  # the whole array (the default): no per-axis work
            self.axes, self.n, self.kept = tuple(range(x.ndim)), x.size, ()
            self.out_shape = (1,) * x.ndim if keepdims else ()
            return
        self.axes = normalize_axes(axis, x.ndim)
        self.n = count(tuple(x.shape), self.axes)
        self.kept = tuple(s for i, s in enumerate(x.shape) if i not in self.axes)
        self.out_shape = (
            tuple(1 if i in self.axes else s for i, s in enumerate(x.shape))
            if keepdims
            else self.kept
        )

    def shape(self, result: Any, xp: Any) -> Any:
        """Give a kept-shape result the requested shape (an array, also when 0-d)."""
        if isinstance(result, np.generic):  # a NumPy scalar: the 0-d array, 0.3 us not 2
            result = np.asarray(result)
            return result if not self.out_shape else result.reshape(self.out_shape)
        if result.shape == self.out_shape:
            return result  # already so: skip two wrapped calls (per-call overhead)
        return xp.reshape(xp.asarray(result), self.out_shape)

    def nan(self, x: Any, xp: Any) -> Any:
        return xp.full(self.out_shape, xp.nan, dtype=x.dtype, device=x.device)


def _stats(
    x: Any,
    red: _Reduction,
    xp: Any,
    *,
    ddof: float,
    bias: bool,
    fisher: bool,
    order: int = 4,
    minmax: bool = False,
) -> dict:
    """describe's statistics over ``red.axes``: the fused kernel on CUDA, else two-pass."""
    if cuda_supports(x, xp):
        return moments_cuda(x, red.axes, ddof=ddof, bias=bias, fisher=fisher)[1]
    m = moments_xp(x, red.axes, xp, order=order, minmax=minmax)
    eps = float(np.finfo(np.dtype(x.dtype)).eps)
    out = finish(m, xp, ddof=ddof, bias=bias, fisher=fisher, eps=eps)
    return out | {"min": m.lo, "max": m.hi}


def _is_dask(x: Any) -> bool:
    """A dask array, recognised without importing dask."""
    return type(x).__module__.startswith("dask.")


def mean(x: Any, /, *, axis: Any = None, keepdims: bool = False) -> Any:
    """Arithmetic mean along ``axis``, like ``numpy.mean``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import mean
    >>> mean(np.array([[1.0, 2.0], [3.0, 5.0]]), axis=0)
    array([2. , 3.5])
    """
    if _is_dask(x):  # chunk-wise records merged exactly (gpumath.distributed)
        from ..distributed import _stats as chunked

        if keepdims:
            raise ValueError("`keepdims` must be False for a dask array; got True")
        return chunked.mean(x, axis=axis)
    keepdims = numpy_keepdims(x, keepdims)
    x, xp = prepare(x)
    red = _Reduction(x, axis, keepdims)
    if warn_if_empty(red.n):
        return red.nan(x, xp)
    return red.shape(x.mean(axis=red.axes), xp)  # the method: NumPy's and CuPy's alike


def var(x: Any, /, *, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Any:
    """Variance ``sum((x - mean)**2) / (n - ddof)`` along ``axis``, like ``numpy.var``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import var
    >>> float(var(1e8 + np.array([1.0, 2.0, 3.0, 4.0]), ddof=1))
    1.6666666666666667
    """
    if _is_dask(x):  # chunk-wise records merged exactly (gpumath.distributed)
        from ..distributed import _stats as chunked

        if keepdims:
            raise ValueError("`keepdims` must be False for a dask array; got True")
        return chunked.var(x, axis=axis, ddof=ddof)
    keepdims = numpy_keepdims(x, keepdims)
    x, xp = prepare(x)
    return _variance(x, xp, axis, ddof, keepdims)


def _variance(x: Any, xp: Any, axis: Any, ddof: Any, keepdims: bool) -> Any:
    """:func:`var` of an ``x`` that :func:`prepare` returned."""
    ddof = _check_real(ddof, "ddof")
    red = _Reduction(x, axis, keepdims)
    if warn_if_empty(red.n, ddof):
        return red.nan(x, xp)
    if is_numpy_namespace(xp):
        m2 = centred_squares(x, red.axes, red.n)
    else:
        m2 = moments_xp(x, red.axes, xp, order=2).m2
    return red.shape(m2 / (red.n - ddof), xp)


def std(x: Any, /, *, axis: Any = None, ddof: float = 0, keepdims: bool = False) -> Any:
    """Standard deviation, the square root of :func:`var`, like ``numpy.std``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import std
    >>> float(std(np.array([2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0])))
    2.0
    """
    if _is_dask(x):  # chunk-wise records merged exactly (gpumath.distributed)
        from ..distributed import _stats as chunked

        if keepdims:
            raise ValueError("`keepdims` must be False for a dask array; got True")
        return chunked.std(x, axis=axis, ddof=ddof)
    keepdims = numpy_keepdims(x, keepdims)
    x, xp = prepare(x)
    return xp.sqrt(_variance(x, xp, axis, ddof, keepdims))


def sem(x: Any, /, *, axis: Any = None, ddof: float = 1, keepdims: bool = False) -> Any:
    """Standard error of the mean, ``std(x, ddof) / sqrt(n)``, like ``scipy.stats.sem``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import sem
    >>> round(float(sem(np.array([1.0, 2.0, 3.0, 4.0]))), 6)
    0.645497
    """
    x, xp = prepare(x)
    n = count(tuple(x.shape), normalize_axes(axis, x.ndim))
    return xp.sqrt(_variance(x, xp, axis, ddof, keepdims) / max(n, 1))


def zscore(x: Any, /, *, axis: Any = None, ddof: float = 0) -> Any:
    """Standard scores ``(x - mean) / std(ddof)`` along ``axis``, like ``scipy.stats.zscore``.

    Slices with zero spread give NaN, as in SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import zscore
    >>> zscore(np.array([1.0, 2.0, 3.0]))
    array([-1.22474487,  0.        ,  1.22474487])
    """
    shape = tuple(x.shape) if hasattr(x, "shape") else None
    x, xp = prepare(x)
    ddof = _check_real(ddof, "ddof")
    red = _Reduction(x, axis, keepdims=True)
    if red.n == 0:
        return xp.asarray(x, copy=True)
    if warn_if_empty(red.n, ddof):
        return xp.reshape(xp.full_like(x, xp.nan), shape)
    # x - mean(x) is exact for data near their rounded mean; subtracting the mean of those
    # deviations then centres them exactly, so data far from zero (1e8 + noise) keep their
    # precision, with no rounded full mean in between.
    centred = x - xp.mean(x, axis=red.axes, keepdims=True)
    centred -= xp.mean(centred, axis=red.axes, keepdims=True)
    spread = xp.sqrt(xp.sum(centred * centred, axis=red.axes, keepdims=True) / (red.n - ddof))
    # Zero spread gives NaN, as in SciPy (0 / NaN raises no floating-point warning).
    spread = xp.where(spread == 0, xp.full_like(spread, xp.nan), spread)
    centred /= spread
    return xp.reshape(centred, shape)


def moment(
    x: Any,
    /,
    *,
    order: int = 1,
    axis: Any = None,
    center: Any = None,
    keepdims: bool = False,
) -> Any:
    """Moment ``mean((x - center)**order)`` about ``center`` (default: the mean).

    Like ``scipy.stats.moment``: ``order=0`` gives 1 and the first central moment is 0.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import moment
    >>> float(moment(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), order=2))
    2.0
    """
    x, xp = prepare(x)
    if isinstance(order, bool) or not isinstance(order, int | np.integer) or order < 0:
        raise ValueError(f"`order` must be a non-negative integer; got {order!r}")
    if center is not None:
        _check_real(center, "center")
    red = _Reduction(x, axis, keepdims)
    if warn_if_empty(red.n):
        return red.nan(x, xp)
    if order == 0 or (order == 1 and center is None):
        # 1 and 0 by definition, but NaN where the slice holds NaN (scipy.stats.moment).
        has_nan = xp.any(xp.isnan(x), axis=red.axes)
        fill = xp.full(has_nan.shape, 1.0 if order == 0 else 0.0, dtype=x.dtype, device=x.device)
        return red.shape(xp.where(has_nan, xp.full_like(fill, xp.nan), fill), xp)
    if center is None and order <= 4:
        m = moments_xp(x, red.axes, xp, order=order)
        return red.shape((m.m2, m.m3, m.m4)[order - 2] / red.n, xp)
    c = xp.mean(x, axis=red.axes, keepdims=True) if center is None else center
    return red.shape(xp.mean((x - c) ** order, axis=red.axes), xp)


@annotate("gpumath.skew")
def skew(x: Any, /, *, axis: Any = None, bias: bool = True, keepdims: bool = False) -> Any:
    """Sample skewness ``m3 / m2**1.5`` along ``axis``, like ``scipy.stats.skew``.

    ``bias=False`` applies the adjusted Fisher–Pearson correction (where n > 2). Constant
    slices give NaN. On CUDA this is one read of the data by the fused moments kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import skew
    >>> round(float(skew(np.array([2.0, 8.0, 0.0, 4.0, 1.0, 9.0, 9.0, 0.0]))), 6)
    0.265055
    """
    x, xp = prepare(x)
    red = _Reduction(x, axis, keepdims)
    if warn_if_empty(red.n):
        return red.nan(x, xp)
    return red.shape(_stats(x, red, xp, bias=bias, ddof=0, fisher=True, order=3)["skewness"], xp)


@annotate("gpumath.kurtosis")
def kurtosis(
    x: Any,
    /,
    *,
    axis: Any = None,
    fisher: bool = True,
    bias: bool = True,
    keepdims: bool = False,
) -> Any:
    """Sample kurtosis ``m4 / m2**2`` (minus 3 when ``fisher``), like ``scipy.stats.kurtosis``.

    ``bias=False`` gives the unbiased estimator of the excess (where n > 3). Constant slices
    give NaN. On CUDA this is one read of the data by the fused moments kernel.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import kurtosis
    >>> float(kurtosis(np.array([1.0, 2.0, 3.0, 4.0]), fisher=False))
    1.64
    """
    x, xp = prepare(x)
    red = _Reduction(x, axis, keepdims)
    if warn_if_empty(red.n):
        return red.nan(x, xp)
    stats = _stats(x, red, xp, bias=bias, ddof=0, fisher=fisher)
    return red.shape(stats["kurtosis"], xp)


@annotate("gpumath.describe")
def describe(x: Any, /, *, axis: Any = None, ddof: float = 1, bias: bool = True):
    """Count, min/max, mean, variance, skewness and kurtosis, like ``scipy.stats.describe``.

    Returns
    -------
    DescribeResult
        ``(nobs, minmax, mean, variance, skewness, kurtosis)``: ``nobs`` is a Python int,
        ``minmax`` a pair of arrays, the rest arrays of the reduced shape in ``x``'s dtype;
        variance divides by ``n - ddof``; kurtosis is Fisher's (excess).

    Notes
    -----
    On CUDA (float32/float64) every field comes from one read of the data by the fused
    moments kernel (kernels/moments.cu), accumulating in float64.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import describe
    >>> d = describe(np.array([1.0, 2.0, 3.0, 4.0]))
    >>> d.nobs, float(d.mean), float(d.variance)
    (4, 2.5, 1.6666666666666667)
    """
    if _is_dask(x):  # chunk-wise records merged exactly (gpumath.distributed)
        from ..distributed import _stats as chunked

        return chunked.describe(x, axis=axis, ddof=ddof, bias=bias)
    x, xp = prepare(x)
    ddof = _check_real(ddof, "ddof")
    red = _Reduction(x, axis, keepdims=False)
    if red.n == 0:
        raise ValueError(f"`x` must have values along `axis` for describe; got shape {x.shape}")
    warn_if_empty(red.n, ddof)
    s = _stats(x, red, xp, ddof=ddof, bias=bias, fisher=True, minmax=True)
    minmax = (red.shape(s["min"], xp), red.shape(s["max"], xp))
    fields = (red.shape(s[k], xp) for k in ("mean", "variance", "skewness", "kurtosis"))
    return DescribeResult(red.n, minmax, *fields)


def _variables(x: Any, rowvar: bool, name: str, xp: Any) -> Any:
    """Data as (variables, observations), like numpy.cov's treatment of ``m`` and ``y``:
    a 1-D array is one variable whatever ``rowvar`` says."""
    if x.ndim > 2:
        raise ValueError(f"`{name}` must be 1-D or 2-D; got shape {tuple(x.shape)}")
    if x.ndim < 2:
        return xp.reshape(x, (1, -1))
    return x if rowvar else xp.matrix_transpose(x)


def cov(x: Any, y: Any = None, /, *, rowvar: bool = True, ddof: float = 1) -> Any:
    """Covariance matrix of the variables in ``x`` (and ``y``), like ``numpy.cov``.

    Rows are variables and columns observations (``rowvar=False``: the other way round);
    ``y`` adds variables. One variable gives a 0-d array. Unlike NumPy, float32 data give a
    float32 result (NumPy computes in float64).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import cov
    >>> cov(np.array([[0.0, 1.0, 2.0], [2.0, 1.0, 0.0]]))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    if y is None and _is_dask(x):  # per-chunk centred products, merged exactly
        from ..distributed import _stats as chunked

        return chunked.cov(x, rowvar=rowvar, ddof=ddof)
    x, xp = prepare(x)
    ddof = _check_real(ddof, "ddof")
    data = _variables(x, rowvar, "x", xp)
    if y is not None:
        y, _ = prepare(y, "y")
        array_namespace(x, y)  # same library and device, or a clear error
        other = _variables(y, rowvar, "y", xp)
        if other.shape[1] != data.shape[1]:
            raise ValueError(
                "`x` and `y` must have the same number of observations; "
                f"got shapes {tuple(x.shape)} and {tuple(y.shape)}"
            )
        dtype = xp.result_type(data.dtype, other.dtype)
        data = xp.concat([xp.astype(data, dtype), xp.astype(other, dtype)], axis=0)
    n = data.shape[1]
    k = data.shape[0]
    if warn_if_empty(n, ddof):
        c = xp.full((k, k), xp.nan, dtype=data.dtype, device=data.device)
    else:
        mean = xp.mean(data, axis=1, keepdims=True)
        centred = data - mean
        gram = centred @ xp.matrix_transpose(centred)
        # Remove the rounding error of the mean too (n * u u^T, u = mean of the centred
        # data): on data far from zero, a strided mean errs by up to 1e-5 and the plain
        # centred product is then off by 1e-10 of the covariance. Where that provably
        # stays below one rounding, its pass over the data is skipped (which made cov
        # 10-15% slower than numpy.cov).
        if not _mean_error_negligible(mean, gram, n, xp):
            u = xp.mean(centred, axis=1, keepdims=True)
            gram = gram - n * (u @ xp.matrix_transpose(u))
        c = gram / (n - ddof)
    return xp.reshape(c, ()) if k == 1 else c


def _mean_error_negligible(mean: Any, gram: Any, n: int, xp: Any) -> bool:
    """Whether cov may skip the correction ``n u u^T`` for the rounding error ``u`` of
    ``mean``: |n u_i u_j| <= sqrt of the diagonal terms' corrections, so the diagonal's test
    (:func:`~gpumath.stats._blocked.shift_error_negligible`) covers every entry. NumPy only:
    on a GPU the test would cost a host sync, and the correction is cheap there.
    """
    return is_numpy_namespace(xp) and shift_error_negligible(np.diagonal(gram), mean[:, 0], n)


def corrcoef(x: Any, y: Any = None, /, *, rowvar: bool = True) -> Any:
    """Pearson correlation coefficients, like ``numpy.corrcoef`` (clipped to [-1, 1]).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import corrcoef
    >>> corrcoef(np.array([[0.0, 1.0, 2.0], [2.0, 1.5, 0.0]]))
    array([[ 1.        , -0.96076892],
           [-0.96076892,  1.        ]])
    """
    c = cov(x, y, rowvar=rowvar, ddof=1)
    xp = array_namespace(c)
    if c.ndim == 0:
        return c / c  # NaN for zero variance, 1 otherwise, as NumPy
    d = xp.sqrt(xp.linalg.diagonal(c))
    r = c / d[:, None] / d[None, :]
    return xp.clip(r, -1.0, 1.0)
