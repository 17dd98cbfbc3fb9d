"""Moment records (count, mean, central moment sums, min, max) and their exact merge.

A record holds, for every slice of a reduction, ``mean`` and ``m2, m3, m4`` =
``sum((x - mean)**p)``, plus ``lo``/``hi`` (min/max) where asked for. Two records of
disjoint data merge exactly with the formulas of Chan, Golub & LeVeque (1979) and Pébay
(2008): that is how :class:`~gpumath.stats.RunningMoments` streams batches and how the CUDA
kernel (kernels/moments.cu) reduces threads, warps and blocks.

Two ways to compute a record, written like a kernel-backed op (DESIGN.md §3):

- :func:`moments_cuda`: CuPy float32/float64 arrays, one fused read of the data by
  ``gm_moments_partial_*`` (per-block records, float64 accumulation) and
  ``gm_moments_merge_*`` (one record per slice, plus describe's statistics in the data's
  dtype). Reductions over trailing axes of a C-contiguous array read the data in place;
  any other axes are first moved to the end by one contiguous copy (one extra read and
  write of the data): the kernel reduces the rows of a (batch, length) array.
- :func:`moments_xp`: array-API code for every other case, the CPU path and the test oracle.
  Corrected two-pass: sums of powers of ``d = x - shift`` with ``shift`` the (rounded) mean,
  then the exact shift of origin ``u = mean(d)``, so a large offset (1e8 + small noise) costs
  no accuracy and even the first-order error of the rounded mean cancels in ``m3``.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_numpy_namespace
from .._validate import check_array, check_real_dtype
from ._blocked import blocked_sums, variance_sums

__all__ = [
    "Moments",
    "finish",
    "merge",
    "moments_cuda",
    "moments_xp",
    "normalize_axes",
    "numpy_keepdims",
    "prepare",
]

_FIELDS = 7  # n, mean, m2, m3, m4, lo, hi: one record in kernels/moments.cu
_BLOCK = 256
_CHUNK_LOADS = 8  # GM_MOM_CHUNK: loads per chunk and thread
_BLOCKS_PER_SM = 2  # ptxas: ~120 registers at 256 threads: one wave of resident blocks
_MAX_GRID_Y = 65_535


@dataclass(frozen=True)
class Moments:
    """Moment record of every slice: ``n`` values each (the same count for all slices).

    The mean is ``origin + mean`` (``origin`` None means 0): keeping a nearby origin apart
    from the small offset ``mean`` preserves the absolute precision of the mean of data far
    from zero through merges, where the first-order error of a rounded mean would otherwise
    enter ``m3``.
    """

    n: int
    mean: Any
    m2: Any
    m3: Any = None
    m4: Any = None
    lo: Any = None
    hi: Any = None
    origin: Any = None

    def full_mean(self) -> Any:
        """The mean itself: ``origin + mean``."""
        return self.mean if self.origin is None else self.origin + self.mean

    def rebased(self, origin: Any) -> Moments:
        """The same record with its mean relative to ``origin`` (exact for nearby origins)."""
        if origin is self.origin:
            return self
        old = 0.0 if self.origin is None else self.origin
        new = 0.0 if origin is None else origin
        return replace(self, mean=(old - new) + self.mean, origin=origin)


def prepare(x: Any, name: str = "x") -> tuple[Any, Any]:
    """Validate ``x`` and return ``(x as a float array, xp)``.

    float32 and float64 stay as they are; bool and integers become float64 (as in NumPy's
    mean and var); float16 becomes float32, since its sums overflow. A 0-d ``x`` becomes
    1-D (its reductions are the same).
    """
    if type(x) is np.ndarray and x.dtype in _KEPT and x.ndim:  # the common case, 0.2 us
        return x, array_namespace(x)
    check_array(x, name)
    check_real_dtype(x, name)
    xp = array_namespace(x)
    if x.ndim == 0:  # one value: a 1-D view keeps every reduction over a real axis
        x = xp.reshape(x, (1,))
    dtype = np.dtype(x.dtype)
    if dtype == np.float16:
        x = xp.astype(x, xp.float32)
    elif dtype.kind != "f":
        x = xp.astype(x, xp.float64)
    return x, xp


_KEPT = (np.dtype(np.float32), np.dtype(np.float64))  # dtypes prepare() returns unchanged


def numpy_keepdims(x: Any, keepdims: bool) -> bool:
    """``keepdims`` for ``x`` before :func:`prepare` makes a 0-d ``x`` 1-D: NumPy keeps the
    zero axes of a 0-d array, so its result stays 0-d (SciPy's functions, which take 0-d
    data as 1-D, keep one axis)."""
    return keepdims and getattr(x, "ndim", None) != 0


def normalize_axes(axis: Any, ndim: int, name: str = "axis") -> tuple[int, ...]:
    """Turn ``axis`` (None, an int or a tuple of ints) into sorted non-negative axes."""
    if axis is None:
        return tuple(range(ndim))
    items = axis if isinstance(axis, tuple) else (axis,)
    axes = []
    for a in items:
        if isinstance(a, bool) or not isinstance(a, int | np.integer):
            raise TypeError(f"`{name}` must be None, an int or a tuple of ints; got {axis!r}")
        if not -ndim <= a < ndim:
            raise ValueError(f"`{name}` must be in [{-ndim}, {ndim}) for a {ndim}-D array; got {a}")
        axes.append(int(a) % ndim)
    if len(set(axes)) != len(axes):
        raise ValueError(f"`{name}` must not repeat an axis; got {axis!r}")
    return tuple(sorted(axes))


def count(shape: tuple[int, ...], axes: tuple[int, ...]) -> int:
    """Number of values in each slice of the reduction."""
    return math.prod(shape[a] for a in axes)


def warn_if_empty(n: int, ddof: float = 0) -> bool:
    """Warn like NumPy for an empty slice or ``n - ddof <= 0``; True when results are NaN."""
    if n == 0:
        warnings.warn("Mean of empty slice", RuntimeWarning, stacklevel=3)
        return True
    if n - ddof <= 0:
        warnings.warn("Degrees of freedom <= 0 for slice", RuntimeWarning, stacklevel=3)
        return True
    return False


def moments_xp(
    x: Any,
    axes: tuple[int, ...],
    xp: Any,
    *,
    order: int = 4,
    minmax: bool = False,
) -> Moments:
    """Corrected two-pass record of ``x`` over ``axes`` (``n`` must be > 0).

    ``order``: the highest central moment wanted (2, 3 or 4); ``minmax``: also min and max.
    """
    n = count(tuple(x.shape), axes)
    kept = tuple(s for i, s in enumerate(x.shape) if i not in axes)
    shift = xp.mean(x, axis=axes, keepdims=True)
    origin = xp.reshape(shift, kept)
    sums = None
    if is_numpy_namespace(xp) and order == 2 and not minmax:
        sums = variance_sums(x, shift, axes, n)
        if sums[0] is None:  # the shift's error is provably negligible: no correction
            sums[0] = xp.zeros_like(sums[1])
    elif is_numpy_namespace(xp):
        sums = blocked_sums(x, shift, axes, tuple(range(1, order + 1)), minmax)
    if sums is None:  # CuPy, or NumPy moments of data too small to block
        sums = _whole_sums(x, shift, axes, xp, order, minmax)
    s1, s2 = sums[0], sums[1]
    u = s1 / n
    m3 = m4 = lo = hi = None
    if order >= 3:
        s3 = sums[2]
        m3 = s3 - 3 * u * s2 + 2 * u * u * s1
    if order >= 4:
        m4 = sums[3] - 4 * u * s3 + 6 * u * u * s2 - 3 * u * u * u * s1
    if minmax:
        lo, hi = sums[-2], sums[-1]
    # The shift correction stays even for the variance: the error of the shift enters m2
    # as n*u**2, and NumPy's strided mean along a leading axis is a sequential sum, whose
    # error on data offset by 3e9 made that term 1e-10 of the variance.
    return Moments(n, u, s2 - s1 * u, m3, m4, lo, hi, origin=origin)


def _whole_sums(
    x: Any, shift: Any, axes: tuple[int, ...], xp: Any, order: int, minmax: bool
) -> list[Any]:
    """:func:`~gpumath.stats._blocked.blocked_sums` as whole-array expressions (GPU, small
    arrays): ``[s1, .., s_order]`` plus min and max where ``minmax``."""
    d = x - shift
    sums = [xp.sum(d, axis=axes)]
    if order == 2:
        d *= d  # in place: d itself is not needed again
        sums.append(xp.sum(d, axis=axes))
    else:
        d2 = d * d
        sums += [xp.sum(d2, axis=axes), xp.sum(d2 * d, axis=axes)]
        if order >= 4:
            sums.append(xp.sum(d2 * d2, axis=axes))
    if minmax:
        sums += [xp.min(x, axis=axes), xp.max(x, axis=axes)]
    return sums


def merge(a: Moments, b: Moments, xp: Any) -> Moments:
    """Exact record of the union of two disjoint data sets (Chan et al.; Pébay).

    The result keeps ``a``'s origin.
    """
    if b.n == 0:
        return a
    if a.n == 0:
        return b.rebased(a.origin)
    b = b.rebased(a.origin)
    na, nb = float(a.n), float(b.n)
    n = na + nb
    delta = b.mean - a.mean
    dn = delta / n
    dn2 = dn * dn
    nanb = na * nb
    m3 = m4 = lo = hi = None
    if a.m3 is not None and b.m3 is not None:
        m3 = a.m3 + b.m3 + delta * dn2 * (nanb * (na - nb)) + 3 * dn * (na * b.m2 - nb * a.m2)
    if a.m4 is not None and b.m4 is not None:
        m4 = (
            a.m4
            + b.m4
            + delta * dn2 * dn * (nanb * (na * na - nanb + nb * nb))
            + 6 * dn2 * (na * na * b.m2 + nb * nb * a.m2)
            + 4 * dn * (na * b.m3 - nb * a.m3)
        )
    if a.lo is not None and b.lo is not None:
        lo, hi = xp.minimum(a.lo, b.lo), xp.maximum(a.hi, b.hi)
    m2 = a.m2 + b.m2 + delta * dn * nanb
    return Moments(a.n + b.n, a.mean + nb * dn, m2, m3, m4, lo, hi, origin=a.origin)


def mean_with_infinities(mean: Any, lo: Any, hi: Any, xp: Any) -> Any:
    """``mean`` where a slice holds +-inf made NumPy's: the moment sums give inf - inf = NaN
    there, while numpy.mean gives the infinity (NaN for both signs), which is ``lo + hi``."""
    return xp.where(xp.isinf(lo) | xp.isinf(hi), lo + hi, mean)


def finish(m: Moments, xp: Any, *, ddof: float, bias: bool, fisher: bool, eps: float) -> dict:
    """describe's statistics from a record, with SciPy's definitions (``m.n`` > 0).

    Skewness and kurtosis are NaN where ``m2/n <= (eps * mean)**2`` (constant data), as in
    scipy.stats.skew and kurtosis; the bias corrections apply where ``n > 2`` / ``n > 3``.
    """
    n = float(m.n)
    m2 = m.m2 / n
    mean = m.full_mean()
    if m.lo is not None:
        mean = mean_with_infinities(mean, m.lo, m.hi, xp)
    flat = m2 <= (eps * mean) ** 2
    safe = xp.where(flat, xp.ones_like(m2), m2)  # no 0/0 warnings where the result is NaN
    nan = xp.full_like(m2, xp.nan)
    out = {"mean": mean, "variance": m.m2 / (n - ddof) if n - ddof > 0 else nan}
    if m.m3 is not None:
        sk = (m.m3 / n) / (safe * xp.sqrt(safe))
        if not bias and n > 2:
            sk = sk * (math.sqrt((n - 1.0) * n) / (n - 2.0))
        out["skewness"] = xp.where(flat, nan, sk)
    if m.m4 is not None:
        ku = (m.m4 / n) / (safe * safe)
        if not bias and n > 3:
            ku = ((n * n - 1.0) * ku - 3.0 * (n - 1.0) ** 2) / ((n - 2.0) * (n - 3.0)) + 3.0
        out["kurtosis"] = xp.where(flat, nan, ku - 3.0 if fisher else ku)
    return out


def cuda_supports(x: Any, xp: Any) -> bool:
    """The fused kernel takes CuPy float32/float64 data with at least one value per slice."""
    from .._backend import is_cupy_namespace

    return is_cupy_namespace(xp) and np.dtype(x.dtype) in (np.float32, np.float64) and x.size > 0


def launch_geometry(length: int, batch: int, width: int, cap: int) -> tuple[int, int, int]:
    """Grid of the partial kernel (x: blocks per row, y: rows) and the merge kernel's block.

    At most ``cap`` blocks in all (one wave of resident blocks), no more per row than the
    row has chunks for (``width`` values per load); the merge block is a multiple of 32.
    """
    per_block = _BLOCK * width * _CHUNK_LOADS  # values one block reads in one chunk
    blocks_x = max(1, min(-(-length // per_block), -(-cap // batch)))
    merge_block = min(_BLOCK, 32 * -(-blocks_x // 32))
    return blocks_x, min(batch, _MAX_GRID_Y), merge_block


def moments_cuda(
    x: Any, axes: tuple[int, ...], *, ddof: float = 0, bias: bool = True, fisher: bool = True
) -> tuple[Moments, dict]:
    """Fused record and describe statistics of CuPy ``x`` over ``axes`` (x.size > 0).

    Returns the float64 record (for merging; its origin is each slice's first value) and
    ``mean, variance, skewness, kurtosis, min, max`` in ``x``'s dtype, of the kept shape.
    """
    import cupy

    shape = tuple(x.shape)
    kept_axes = tuple(i for i in range(x.ndim) if i not in axes)
    kept = tuple(shape[i] for i in kept_axes)
    length = count(shape, axes)
    batch = math.prod(kept)
    rows = cupy.ascontiguousarray(cupy.transpose(x, kept_axes + axes)).reshape(batch, length)
    dtype = np.dtype(x.dtype)
    suffix, width = ("f32", 4) if dtype == np.float32 else ("f64", 2)

    (cap,), _ = _kernels.elementwise_launch_config(2**62, _BLOCK, _BLOCKS_PER_SM)
    blocks_x, blocks_y, merge_block = launch_geometry(length, batch, width, cap)
    partials = cupy.empty((batch, blocks_x, _FIELDS), dtype=np.float64)
    records = cupy.empty((batch, _FIELDS), dtype=np.float64)
    stats = cupy.empty((6, batch), dtype=dtype)
    where = f"x of shape {shape}, axes {axes}"
    kernel = _kernels.get_kernel("moments", f"gm_moments_partial_{suffix}")
    _kernels.launch(
        kernel,
        (blocks_x, blocks_y),
        (_BLOCK,),
        (rows, partials, np.int64(length), np.int64(batch)),
        op="moments",
        shapes=where,
    )
    kernel = _kernels.get_kernel("moments", f"gm_moments_merge_{suffix}")
    sizes = (np.int64(length), np.int64(blocks_x), np.int64(batch))
    args = (rows, partials, records, stats, *sizes, np.float64(ddof))
    flags = (np.int32(bool(bias)), np.int32(bool(fisher)), np.float64(np.finfo(dtype).eps))
    _kernels.launch(
        kernel,
        (min(batch, _MAX_GRID_Y),),
        (merge_block,),
        args + flags,
        op="moments",
        shapes=where,
    )
    fields = [records[:, k].reshape(kept) for k in range(_FIELDS)]
    origin = rows[:, 0].astype(np.float64).reshape(kept)
    record = Moments(length, *fields[1:], origin=origin)
    names = ("mean", "variance", "skewness", "kurtosis", "min", "max")
    out = {name: stats[k].reshape(kept) for k, name in enumerate(names)}
    out["mean"] = mean_with_infinities(out["mean"], out["min"], out["max"], cupy)
    return record, out
