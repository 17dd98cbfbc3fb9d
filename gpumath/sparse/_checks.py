"""Validation of CSR and COO index arrays, done before any kernel can read them.

A RawKernel trusts its arguments: an index out of range is a wild read on the GPU. Every
structural check runs here, on the arrays' own device with whole-array operations, and
brings back one small vector of flags (one host synchronisation per check, at construction
time only).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import array_namespace, to_numpy
from .._validate import check_array

__all__ = ["INDEX_LIMIT", "check_coo", "check_csr", "check_shape", "as_data"]

# cuSPARSE and our kernel read 32-bit column indices and row offsets.
INDEX_LIMIT = 2**31 - 1


def check_shape(shape: Any) -> tuple[int, int]:
    """A (rows, cols) pair of non-negative ints below the 32-bit index limit."""
    try:
        rows, cols = (int(s) for s in shape)
        ok = rows >= 0 and cols >= 0 and all(int(s) == s for s in shape)
    except (TypeError, ValueError):
        ok = False
    if not ok or max(rows, cols) > INDEX_LIMIT:
        raise ValueError(f"`shape` must be two non-negative ints below 2**31; got {shape!r}")
    return rows, cols


def as_data(data: Any, name: str = "data") -> Any:
    """Values as float32/float64 (booleans and integers become float64, as in SciPy's ops)."""
    check_array(data, name)
    kind = np.dtype(data.dtype).kind
    if kind == "f" and np.dtype(data.dtype) != np.float16:
        return data
    if kind in "biu":
        return array_namespace(data).astype(data, np.float64)
    raise TypeError(
        f"`{name}` must have a float32, float64, integer or bool dtype; got {data.dtype}"
    )


def _check_index_array(x: Any, name: str) -> None:
    check_array(x, name)
    if np.dtype(x.dtype).kind not in "iu":
        raise TypeError(f"`{name}` must have an integer dtype; got {x.dtype}")
    if x.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D; got shape {tuple(x.shape)}")


def check_csr(data: Any, indices: Any, indptr: Any, shape: tuple[int, int]) -> None:
    """Raise ValueError unless (data, indices, indptr) is canonical CSR of ``shape``.

    Canonical: ``indptr`` has ``rows + 1`` entries, starts at 0, never decreases and ends
    at ``nnz``; column indices lie in ``[0, cols)`` and strictly increase within each row.
    """
    _check_index_array(indices, "indices")
    _check_index_array(indptr, "indptr")
    if data.ndim != 1:
        raise ValueError(f"`data` must be 1-D; got shape {tuple(data.shape)}")
    xp = array_namespace(data, indices, indptr)
    rows, cols = shape
    nnz = data.shape[0]
    if indices.shape[0] != nnz:
        raise ValueError(
            f"`indices` and `data` must have the same length; got {indices.shape[0]} and {nnz}"
        )
    if indptr.shape[0] != rows + 1:
        raise ValueError(
            f"`indptr` must have shape[0] + 1 = {rows + 1} entries for shape {shape}; "
            f"got {indptr.shape[0]}"
        )
    if nnz > INDEX_LIMIT:
        raise ValueError(f"at most 2**31 - 1 stored values are supported; got {nnz}")
    ptr = xp.astype(indptr, xp.int64)
    steps = ptr[1:] - ptr[:-1]
    decreasing = steps < 0
    head, tail, n_decreasing = to_numpy(
        xp.stack([ptr[0], ptr[-1], xp.astype(xp.sum(xp.astype(decreasing, xp.int64)), xp.int64)])
    ).tolist()
    if head != 0:
        raise ValueError(f"`indptr` must start at 0; got indptr[0] = {head}")
    if n_decreasing:
        raise ValueError(
            "`indptr` must be non-decreasing; indptr[i + 1] < indptr[i] at i = "
            f"{_first_index(xp, decreasing)}"
        )
    if tail != nnz:
        raise ValueError(f"`indptr` must end at nnz = len(data) = {nnz}; got indptr[-1] = {tail}")
    if nnz == 0:
        return
    col = xp.astype(indices, xp.int64)
    # Position k > 0 must exceed k - 1 unless a row starts at k.
    row_start = xp.zeros(nnz, dtype=xp.bool)
    starts = ptr[:-1]
    row_start[starts[starts < nnz]] = True
    unsorted = (col[1:] <= col[:-1]) & ~row_start[1:]
    out_of_range = (col < 0) | (col >= cols)
    flags = xp.stack([xp.any(out_of_range), xp.any(unsorted)])
    bad = to_numpy(flags).tolist()
    if bad[0]:
        k = _first_index(xp, out_of_range)
        raise ValueError(
            f"`indices` must lie in [0, {cols}) for shape {shape}; got indices[{k}] = "
            f"{int(to_numpy(col[k]))}"
        )
    if bad[1]:
        k = _first_index(xp, unsorted) + 1
        raise ValueError(
            "`indices` must be sorted and unique within each row (canonical CSR); "
            f"indices[{k}] = {int(to_numpy(col[k]))} follows {int(to_numpy(col[k - 1]))}"
        )


def check_coo(data: Any, row: Any, col: Any, shape: tuple[int, int]) -> None:
    """Raise ValueError unless ``row``/``col`` match ``data`` and lie inside ``shape``."""
    _check_index_array(row, "row")
    _check_index_array(col, "col")
    if data.ndim != 1 or not data.shape[0] == row.shape[0] == col.shape[0]:
        raise ValueError(
            "`data`, `row` and `col` must be 1-D of one length; got shapes "
            f"{tuple(data.shape)}, {tuple(row.shape)} and {tuple(col.shape)}"
        )
    xp = array_namespace(data, row, col)
    if data.shape[0] == 0:
        return
    flags = to_numpy(
        xp.stack(
            [
                xp.any((row < 0) | (row >= shape[0])),
                xp.any((col < 0) | (col >= shape[1])),
            ]
        )
    ).tolist()
    for bad, name, limit in zip(flags, ("row", "col"), shape, strict=True):
        if bad:
            raise ValueError(f"`{name}` indices must lie in [0, {limit}) for shape {shape}")


def _first_index(xp: Any, mask: Any) -> int:
    return int(to_numpy(xp.argmax(xp.astype(mask, xp.int8))))
