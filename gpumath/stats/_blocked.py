"""Cache-blocked power sums for the NumPy path of :func:`~gpumath.stats._moments.moments_xp`.

The corrected two-pass record needs ``sum(d**p)`` for ``d = x - shift``. Written as whole-array
NumPy expressions, every ``d``, ``d**2``, ... is a fresh temporary as large as ``x``: on the
CPU the time goes to allocating (page faults) and streaming those through memory, and the
extra sum of ``d`` the shift correction needs would make ``var`` slower than ``numpy.var``.
Here ``x`` is walked in blocks of about ``BLOCK`` values along its first axis with two
cache-resident scratch buffers, so ``x`` is read from memory once (after the mean) and nothing
of its size is allocated. The sums are the same up to rounding: pairwise within a block,
added block by block.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

__all__ = ["BLOCK", "blocked_sums", "centred_squares", "shift_error_negligible", "variance_sums"]

BLOCK = 1 << 15  # values per block: 256 KiB of float64, two buffers well inside L2


def blocked_sums(
    x: np.ndarray,
    shift: np.ndarray,
    axes: tuple[int, ...],
    powers: tuple[int, ...],
    minmax: bool,
) -> list[np.ndarray] | None:
    """``[sum((x - shift)**p) for p in powers]`` over ``axes``, plus min and max where
    ``minmax``, all of the kept shape; None where blocking does not apply (a small ``x``, or
    slices along axis 0 larger than a block), and the caller sums whole arrays.

    ``powers``: ``(1,)``, ``(2,)`` or ``(1, 2, .., order)``. ``shift`` has ``x``'s rank with
    length-one reduced axes (``keepdims=True``).
    """
    if x.size < 8 * BLOCK:
        return None
    if len(axes) == x.ndim > 1:  # a full reduction: walk the values as one flat axis
        if not x.flags.c_contiguous:
            return None
        x, shift, axes = x.reshape(-1), shift.reshape(1), (0,)
    length = x.shape[0]
    per_row = x.size // length
    if per_row > BLOCK:
        return None
    step = max(1, BLOCK // per_row)
    along = 0 in axes  # blocks of one slice to accumulate, or of different slices to join
    top = max(powers)
    buffer = np.empty((min(step, length), *x.shape[1:]), dtype=x.dtype)
    square = np.empty_like(buffer) if top >= 3 else buffer  # d**2 in place when d is done
    parts = []
    for start in range(0, length, step):
        stop = min(start + step, length)
        block = x[start:stop]
        d = np.subtract(block, shift if along else shift[start:stop], out=buffer[: stop - start])
        sums = [d.sum(axis=axes)] if 1 in powers else []
        if top >= 2:
            d2 = np.multiply(d, d, out=square[: stop - start])
            sums.append(d2.sum(axis=axes))
        if top >= 3:
            sums.append(np.multiply(d2, d, out=d).sum(axis=axes))  # d is no longer needed
        if top >= 4:
            sums.append(np.multiply(d2, d2, out=d2).sum(axis=axes))
        if minmax:
            sums += [block.min(axis=axes), block.max(axis=axes)]
        parts.append(sums)
    columns = list(zip(*parts, strict=True))
    if not along:
        return [np.concatenate(column, axis=0) for column in columns]
    totals = [np.sum(np.stack(column), axis=0) for column in columns[: len(powers)]]
    if minmax:
        totals += [np.min(np.stack(columns[-2]), axis=0), np.max(np.stack(columns[-1]), axis=0)]
    return totals


def variance_sums(
    x: np.ndarray, shift: np.ndarray, axes: tuple[int, ...], n: int
) -> list[np.ndarray] | None:
    """``[s1, s2]`` for a variance (NumPy data, ``n`` > 0 values a slice), with ``s1``
    summed only where it can matter (else None): blocked where :func:`blocked_sums` applies,
    else as whole-array sums.

    ``s1 = n u`` carries the rounding error ``u`` of the shift (the mean), and corrects the
    variance sum by ``n u**2``. Summed in any order, ``|u| <= (n + 1) eps sqrt(var +
    mean**2)``, so where ``((n + 1) eps)**2 (1 + mean**2 / var) <= eps`` the correction is
    below one rounding of ``s2``, and its sum (a quarter of the work of a block) is skipped.
    Elsewhere (data far from zero, large float32 data) a second walk sums it.
    """
    found = blocked_sums(x, shift, axes, (2,), False)
    if found is None:  # small or unblockable: whole-array sums, d squared in place
        d = np.subtract(x, shift)
        s2 = np.multiply(d, d, out=d).sum(axis=axes)
    else:
        s2 = found[0]
    if shift_error_negligible(s2, shift, n):
        return [None, s2]
    if found is None:
        return [np.subtract(x, shift).sum(axis=axes), s2]
    return [blocked_sums(x, shift, axes, (1,), False)[0], s2]


def centred_squares(x: np.ndarray, axes: tuple[int, ...], n: int) -> np.ndarray:
    """``sum((x - mean)**2)`` over ``axes`` (``n`` > 0 values a slice) of NumPy data: the
    corrected two-pass sum of squares of ``moments_xp`` without its other fields (``var``'s
    path; a few microseconds less per call on small arrays)."""
    shift = x.mean(axis=axes, keepdims=True)
    s1, s2 = variance_sums(x, shift, axes, n)
    return s2 if s1 is None else s2 - s1 * (s1 / n)


def shift_error_negligible(s2: Any, shift: Any, n: int) -> bool:
    """Whether the correction ``n u**2`` of every centred sum of squares ``s2`` (``n``
    values about ``shift``, the rounded mean) is provably below one rounding of ``s2``:
    the test of :func:`variance_sums`, also used by ``cov`` on its diagonal."""
    var = s2 / n
    eps = _EPS[np.dtype(var.dtype)]
    if np.size(var) == 0:  # no slices (shape (0, 4) along axis 1): nothing to correct
        return True
    if np.ndim(var) == 0:  # one slice: Python floats, a quarter of the time of NumPy's
        v, m = float(var), float(shift.item())  # shift: one value, of any rank
        worst = (v + m * m) / v if v > 0 else math.inf  # zero variance: never negligible
    else:
        with np.errstate(divide="ignore", invalid="ignore"):  # inf or NaN: never negligible
            worst = float(np.max((var + np.reshape(shift, np.shape(var)) ** 2) / var))
    return math.isfinite(worst) and ((n + 1) * eps) ** 2 * worst <= eps


_EPS = {np.dtype(t): float(np.finfo(t).eps) for t in (np.float32, np.float64)}
