"""Statistics of ``dask.array`` data: per-chunk moment records merged exactly (Chan; Pébay).

Every chunk is reduced where it lives (NumPy chunks on a CPU worker, CuPy chunks on a GPU
worker, through the same code as :mod:`gpumath.stats`) to a float64 moment record; the
records are merged pairwise in a fixed tree with the formulas of
:func:`gpumath.stats._moments.merge`, so the result equals the one-process statistics up to
float64 merge rounding and does not depend on the scheduler or the number of workers.
Only records (a few numbers per feature) travel between workers.

By default the functions compute and return arrays of the chunks' type (NumPy or CuPy);
``compute=False`` returns a :class:`dask.delayed.Delayed` that computes to the same value.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import array_namespace, is_cupy_array
from ..stats._moments import Moments, cuda_supports, finish, merge, moments_cuda, moments_xp
from ..stats._moments import prepare as prepare_chunk
from ..stats._running import RunningMoments, _as_float64

__all__ = ["cov", "describe", "mean", "moments", "running_moments", "std", "var"]


def check_dask_array(x: Any, name: str = "x") -> Any:
    """``x`` itself if it is a ``dask.array.Array``, else TypeError in the shared format."""
    import dask.array as da

    if not isinstance(x, da.Array):
        raise TypeError(f"`{name}` must be a dask.array.Array; got {type(x).__name__}")
    return x


def out_dtype(dtype: Any) -> np.dtype:
    """The dtype of the statistics: float32/float64 stay, float16 -> float32, others float64."""
    dtype = np.dtype(dtype)
    if dtype == np.float16:
        return np.dtype(np.float32)
    return dtype if dtype.kind == "f" else np.dtype(np.float64)


def namespace(v: Any) -> Any:
    """Array namespace of a record field (NumPy merges may leave scalars behind)."""
    return array_namespace(v if is_cupy_array(v) else np.asarray(v))


def tree_reduce(items: list[Any], combine: Any) -> Any:
    """Pairwise merge of delayed ``items`` in a fixed order: ceil(log2(len)) levels."""
    import dask

    step = dask.delayed(combine, pure=True)
    while len(items) > 1:
        pairs = [step(items[i], items[i + 1]) for i in range(0, len(items) - 1, 2)]
        items = pairs + ([items[-1]] if len(items) % 2 else [])
    return items[0]


def _chunk_record(chunk: Any, axes: tuple[int, ...]) -> Moments | None:
    """Float64 record of one chunk (None for an empty chunk): the fused kernel on CUDA."""
    x, xp = prepare_chunk(chunk, "x")
    if math.prod(x.shape[a] for a in axes) == 0:
        return None
    if cuda_supports(x, xp):
        return moments_cuda(x, axes)[0]
    return _as_float64(moments_xp(x, axes, xp, minmax=True), xp)


def _merge_records(a: Moments | None, b: Moments | None) -> Moments | None:
    if a is None or b is None:
        return a if b is None else b
    return merge(a, b, namespace(a.m2))


def _blocks(x: Any, axis: Any) -> tuple[list[Any], tuple[int, ...]]:
    """Delayed chunks, each holding whole features, and the axes each is reduced over."""
    if axis is None:
        return list(x.to_delayed().ravel()), tuple(range(x.ndim))
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"`axis` must be None or an int; got {axis!r}")
    if not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"`axis` must be in [{-x.ndim}, {x.ndim}) for a {x.ndim}-D array; got {axis}"
        )
    import dask.array as da

    # Observations along axis 0, every feature axis in one chunk: records of whole features.
    x = da.moveaxis(x, int(axis), 0)
    x = x.rechunk({i: -1 for i in range(1, x.ndim)})
    return list(x.to_delayed().ravel()), (0,)


def moments(x: Any, /, *, axis: Any = None, compute: bool = True) -> Any:
    """The merged float64 moment record of a dask array over ``axis`` (None or an int).

    Returns a :class:`gpumath.stats._moments.Moments` (``n``, ``mean``, ``m2``..``m4``,
    ``lo``, ``hi``), or None when ``x`` has no values; a Delayed with ``compute=False``.

    Examples
    --------
    >>> import dask.array as da
    >>> from gpumath.distributed import moments
    >>> moments(da.arange(10.0, chunks=3)).n
    10
    """
    x = check_dask_array(x)
    if x.dtype.kind not in "biuf":
        raise TypeError(f"`x` must have a real dtype; got {x.dtype}")
    import dask

    blocks, axes = _blocks(x, axis)
    record = tree_reduce([dask.delayed(_chunk_record)(b, axes) for b in blocks], _merge_records)
    return record.compute() if compute else record


def _finish(record: Moments | None, dtype: Any, ddof: float, bias: bool) -> dict:
    if record is None:
        raise ValueError("`x` must have at least one value along `axis`; got an empty array")
    xp = namespace(record.m2)
    eps = float(np.finfo(dtype).eps)
    out = finish(record, xp, ddof=ddof, bias=bias, fisher=True, eps=eps)
    out |= {"min": record.lo, "max": record.hi}
    return {k: xp.astype(xp.asarray(v), dtype) for k, v in out.items()}


def _statistic(x: Any, axis: Any, compute: bool, pick: Any) -> Any:
    x = check_dask_array(x)
    dtype = out_dtype(x.dtype)
    record = moments(x, axis=axis, compute=False)
    import dask

    result = dask.delayed(pick, pure=True)(record, dtype)
    return result.compute() if compute else result


def _ddof(ddof: Any) -> float:
    if isinstance(ddof, bool) or not isinstance(ddof, int | float | np.integer | np.floating):
        raise TypeError(f"`ddof` must be a real number; got {ddof!r}")
    return float(ddof)


def mean(x: Any, /, *, axis: Any = None, compute: bool = True) -> Any:
    """Mean of a dask array over ``axis`` (None: all values; an int: one axis).

    Examples
    --------
    >>> import dask.array as da
    >>> from gpumath.distributed import mean
    >>> float(mean(da.arange(10.0, chunks=3)))
    4.5
    """
    return _statistic(x, axis, compute, lambda r, dt: _finish(r, dt, 0, True)["mean"])


def var(x: Any, /, *, axis: Any = None, ddof: float = 0, compute: bool = True) -> Any:
    """Variance ``M2 / (n - ddof)`` of a dask array over ``axis``.

    Examples
    --------
    >>> import dask.array as da
    >>> from gpumath.distributed import var
    >>> float(var(da.arange(10.0, chunks=3), ddof=1))
    9.166666666666666
    """
    ddof = _ddof(ddof)
    return _statistic(x, axis, compute, lambda r, dt: _finish(r, dt, ddof, True)["variance"])


def std(x: Any, /, *, axis: Any = None, ddof: float = 0, compute: bool = True) -> Any:
    """Standard deviation of a dask array over ``axis``.

    Examples
    --------
    >>> import dask.array as da
    >>> from gpumath.distributed import std
    >>> round(float(std(da.arange(4.0, chunks=2))) ** 2, 12)
    1.25
    """
    ddof = _ddof(ddof)

    def pick(r: Moments, dt: Any) -> Any:
        v = _finish(r, dt, ddof, True)["variance"]
        return array_namespace(v).sqrt(v)

    return _statistic(x, axis, compute, pick)


def describe(x: Any, /, *, axis: Any = None, ddof: float = 1, bias: bool = True, compute=True):
    """``gpumath.stats.describe`` of a dask array: one pass over the chunks.

    Returns
    -------
    DescribeResult
        ``(nobs, minmax, mean, variance, skewness, kurtosis)`` as from
        :func:`gpumath.stats.describe`, arrays of the chunks' type.

    Examples
    --------
    >>> import dask.array as da
    >>> from gpumath.distributed import describe
    >>> d = describe(da.arange(1.0, 5.0, chunks=2))
    >>> d.nobs, float(d.mean), float(d.variance)
    (4, 2.5, 1.6666666666666667)
    """
    from ..stats.descriptive import DescribeResult

    ddof = _ddof(ddof)

    def pick(r: Moments, dt: Any) -> Any:
        s = _finish(r, dt, ddof, bias)
        fields = (s["mean"], s["variance"], s["skewness"], s["kurtosis"])
        return DescribeResult(r.n, (s["min"], s["max"]), *fields)

    return _statistic(x, axis, compute, pick)


def running_moments(x: Any, /, *, axis: Any = None) -> RunningMoments:
    """A :class:`gpumath.stats.RunningMoments` holding all of ``x`` (computed).

    Merge it with other accumulators (``rm.merge(running_moments(x))``) to combine a dask
    data set with data streamed elsewhere.

    Examples
    --------
    >>> import dask.array as da
    >>> from gpumath.distributed import running_moments
    >>> float(running_moments(da.arange(6.0, chunks=4)).mean)
    2.5
    """
    x = check_dask_array(x)
    record = moments(x, axis=axis)
    rm = RunningMoments(axis=axis)
    if record is None:
        return rm
    # RunningMoments has no public constructor from a record: fill its state directly.
    rm._record, rm._dtype, rm._xp = record, out_dtype(x.dtype), namespace(record.m2)
    rm._features = tuple(np.shape(record.m2))
    rm._device = "cpu" if not is_cupy_array(record.m2) else f"cuda:{record.m2.device.id}"
    return rm


# ----------------------------------------------------------------------------- covariance


def chunk_comoments(chunk: Any, centre: bool = True) -> tuple | None:
    """``(n, origin, offset, S)`` of one (rows, k) chunk in float64 (None when empty).

    The column means are ``origin + offset``: ``origin`` the rounded chunk mean, ``offset``
    the small exact correction ``mean(x - origin)``; ``S`` the co-moment matrix
    ``sum (x - mean)(x - mean)^T``. Keeping the origin apart lets merges of data far from zero
    (1e8 + noise) form mean differences without the rounding of the means. ``centre=False``:
    zero means and the plain Gram matrix ``x^T x`` (a fit without intercept).
    """
    if chunk.shape[0] == 0:
        return None
    xp = array_namespace(chunk)
    c = xp.astype(chunk, xp.float64)
    n = chunk.shape[0]
    if not centre:
        zero = xp.zeros_like(c[0])
        return n, zero, zero, xp.matrix_transpose(c) @ c
    origin = xp.mean(c, axis=0)
    d = c - origin
    u = xp.mean(d, axis=0)
    # sum (d - u)(d - u)^T = d^T d - n u u^T: the exact shift from the rounded mean.
    s = xp.matrix_transpose(d) @ d - (u[:, None] * u[None, :]) * n
    return n, origin, u, s


def merge_comoments(a: tuple | None, b: tuple | None) -> tuple | None:
    """Chan's merge of two ``(n, origin, offset, S)`` records of disjoint rows (a's origin)."""
    if a is None or b is None:
        return a if b is None else b
    (na, oa, ua, sa), (nb, ob, ub, sb) = a, b
    n = na + nb
    delta = (ob - oa) + (ub - ua)  # nearby origins subtract exactly
    outer = delta[:, None] * delta[None, :]
    return n, oa, ua + delta * (nb / n), sa + sb + outer * (na * nb / n)


def cov(x: Any, /, *, rowvar: bool = False, ddof: float = 1, compute: bool = True) -> Any:
    """Covariance matrix of the columns of a tall dask array (rows are observations).

    ``rowvar=True`` takes rows as variables, as :func:`numpy.cov`'s default. Chunks are
    centred at their own means and merged exactly, so data far from zero lose nothing.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from gpumath.distributed import cov
    >>> cov(da.from_array(np.array([[0.0, 2.0], [1.0, 1.0], [2.0, 0.0]]), chunks=2))
    array([[ 1., -1.],
           [-1.,  1.]])
    """
    x = check_dask_array(x)
    if x.ndim != 2:
        raise ValueError(f"`x` must be 2-D; got shape {x.shape}")
    if x.dtype.kind not in "biuf":
        raise TypeError(f"`x` must have a real dtype; got {x.dtype}")
    ddof = _ddof(ddof)
    dtype = out_dtype(x.dtype)
    import dask

    x = (x.T if rowvar else x).rechunk({1: -1})
    parts = [dask.delayed(chunk_comoments)(b) for b in x.to_delayed().ravel()]
    record = tree_reduce(parts, merge_comoments)

    def pick(r: Any) -> Any:
        if r is None or r[0] - ddof <= 0:
            raise ValueError(f"`x` must have more than ddof={ddof} observations")
        n, _, _, c = r
        return array_namespace(c).astype(c / (n - ddof), dtype)

    result = dask.delayed(pick, pure=True)(record)
    return result.compute() if compute else result
