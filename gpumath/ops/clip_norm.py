"""Clipping by L2 norm: one array (``clip_by_norm``) or many at once (``clip_by_global_norm``).

On CUDA both run kernels/clip_norm.cu: one launch sums the squares of every array and
computes the scale on the device, a second launch scales every array, whatever their number.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_cupy_namespace
from .._nvtx import annotate
from .._validate import FLOAT_DTYPES, check_array

__all__ = ["clip_by_global_norm", "clip_by_norm"]

_CHUNK = 2**16  # elements per thread block of kernels/clip_norm.cu
_THREADS = 256
_VECTOR = 16  # bytes: output segments start 16-byte aligned so the vector path runs
_HOST_CHUNK = 2**20  # float32 elements per BLAS dot on the CPU: few calls, ~1e-7 relative
# Mean square per element under which a float32 block sum is redone in float64: squares
# below 2**-126 (~1.2e-38) are lost, at most 1e-8 of such a block.
_F32_TINY_MEAN = 1e-30
_SUFFIX = {np.dtype(np.float32): "f32", np.dtype(np.float64): "f64"}


@annotate("gpumath.clip_by_norm")
def clip_by_norm(x: Any, max_norm: float) -> Any:
    """Scale ``x`` down so that its L2 norm is at most ``max_norm``.

    With ``norm = sqrt(sum(x**2))`` over all elements (the Frobenius norm of a matrix), the
    result is ``x`` when ``norm <= max_norm`` and ``x * (max_norm / norm)`` otherwise: the
    semantics of ``optax.clip_by_global_norm`` for one array, and of
    ``torch.nn.utils.clip_grad_norm_`` without its ``1e-6`` term.

    Parameters
    ----------
    x : array
        NumPy or CuPy array, float32 or float64, any shape (empty included).
    max_norm : float
        Largest norm allowed, ``>= 0`` (``inf`` never clips).

    Returns
    -------
    array
        A new array of the shape, dtype and device of ``x``. If ``x`` holds NaN the norm is
        NaN and every element of the result is NaN; if the norm is infinite the scale is 0
        (finite entries become 0, infinite ones NaN).

    Notes
    -----
    The sum of squares is accumulated in float64 for both dtypes, without rescaling: float64
    entries above ~1e154 overflow it to inf. On the CPU float32 squares are first summed by
    BLAS in float32 blocks of 2**20 (about 1e-7 relative, the rounding of a float32 result),
    with the range of float64.

    Examples
    --------
    >>> import numpy as np, gpumath.ops.clip_norm as cn
    >>> cn.clip_by_norm(np.array([3.0, 4.0]), 1.0)
    array([0.6, 0.8])
    """
    check_array(x, "x")  # named here: the shared check below would call it `arrays[0]`
    if x.dtype not in FLOAT_DTYPES:
        raise TypeError(f"`x` must have dtype float32 or float64; got {x.dtype}")
    clipped, _ = clip_by_global_norm([x], max_norm)
    return clipped[0]


@annotate("gpumath.clip_by_global_norm")
def clip_by_global_norm(arrays: Sequence[Any], max_norm: float) -> tuple[list[Any], Any]:
    """Scale every array by one factor so that their joint L2 norm is at most ``max_norm``.

    ``global_norm = sqrt(sum over arrays of sum(a**2))``; every array is multiplied by
    ``scale = 1`` when ``global_norm <= max_norm``, else ``max_norm / global_norm``
    (``optax.clip_by_global_norm``; ``torch.nn.utils.clip_grad_norm_`` without its ``1e-6``).

    Parameters
    ----------
    arrays : sequence of arrays
        At least one NumPy or CuPy array, all of one library, device and dtype (float32 or
        float64), of any shapes and sizes (empty arrays count 0).
    max_norm : float
        Largest joint norm allowed, ``>= 0`` (``inf`` never clips).

    Returns
    -------
    clipped : list of arrays
        New arrays, one per input, same shapes, dtype and device. On CUDA they are views into
        one buffer allocated for all of them.
    global_norm : 0-d array
        The joint norm before clipping, in the arrays' dtype, on their device (on CUDA it is
        computed on the device: reading it is the caller's first host synchronisation).

    Raises
    ------
    TypeError
        If ``arrays`` is not a sequence of NumPy/CuPy arrays, a dtype is not float32/float64,
        the dtypes differ, or libraries/devices are mixed.
    ValueError
        If ``arrays`` is empty or ``max_norm`` is negative or NaN.

    Notes
    -----
    NaN anywhere makes the global norm NaN and every output NaN; an infinite global norm
    makes the scale 0 (finite entries become 0, infinite ones NaN). The sum of squares is
    accumulated in float64, deterministically (the same inputs give the same bits; on the
    CPU, float32 blocks of 2**20 squares are summed in float32 by BLAS first, see
    ``clip_by_norm``). On CUDA the work is two kernel launches for all arrays together;
    non-contiguous arrays are copied to C order first.

    Examples
    --------
    >>> import numpy as np, gpumath.ops.clip_norm as cn
    >>> clipped, norm = cn.clip_by_global_norm([np.array([3.0]), np.array([[4.0]])], 2.5)
    >>> norm, clipped[0], clipped[1]
    (array(5.), array([1.5]), array([[2.]]))
    """
    dtype = _check(arrays, max_norm)
    xp = array_namespace(*arrays)  # all NumPy arrays: its fast path, well under 1 us
    if is_cupy_namespace(xp):
        return _clip_cuda(list(arrays), float(max_norm), dtype)
    return _clip_numpy(arrays, float(max_norm), dtype)


def _check(arrays: Any, max_norm: Any) -> np.dtype:
    """Validate the arguments; return the arrays' common dtype."""
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence):
        raise TypeError(
            f"`arrays` must be a list or tuple of arrays; got {type(arrays).__name__} "
            "(use clip_by_norm for one array)"
        )
    if len(arrays) == 0:
        raise ValueError("`arrays` must contain at least one array; got an empty sequence")
    real = int | float | np.integer | np.floating
    if isinstance(max_norm, bool) or not isinstance(max_norm, real):
        raise TypeError(f"`max_norm` must be a real scalar; got {type(max_norm).__name__}")
    if not max_norm >= 0:  # also rejects NaN
        raise ValueError(f"`max_norm` must be >= 0; got {max_norm!r}")
    dtype = None
    for i, a in enumerate(arrays):
        if dtype is not None and type(a) is np.ndarray and a.dtype == dtype:
            continue  # the common case, checked without formatting a name
        check_array(a, f"arrays[{i}]")
        if a.dtype not in FLOAT_DTYPES:
            raise TypeError(f"`arrays[{i}]` must have dtype float32 or float64; got {a.dtype}")
        if dtype is None:
            dtype = np.dtype(a.dtype)
        elif a.dtype != dtype:
            raise TypeError(
                f"all arrays must have one dtype: `arrays[0]` is {dtype} and "
                f"`arrays[{i}]` is {a.dtype}"
            )
    return dtype


def _scale(norm: float, max_norm: float) -> float:
    """The factor of the docstrings; a NaN norm fails the comparison and gives NaN."""
    return 1.0 if norm <= max_norm else max_norm / norm


def _sum_squares_numpy(flat: np.ndarray) -> float:
    """sum(flat**2) of a 1-d contiguous array, accumulated in float64.

    float64 is one BLAS ``ddot``, as in a NumPy norm (OpenBLAS runs it on two threads: on a
    busy 2-core machine it can stall like NumPy's own, where the single-threaded ``einsum``
    dot stays steady but is ~15% slower on an idle one). float32 is ``sdot`` over blocks of
    ``_HOST_CHUNK`` squares (float32 sums, ~1e-7 relative), added in float64: one call per
    array up to 4 MiB, and no error growing with the array. A block whose float32 sum may
    have overflowed or underflowed is summed again with float64 squares, so the result has
    the range of the documented float64 accumulation.
    """
    if flat.itemsize == 8 or flat.size == 0:
        return float(np.dot(flat, flat))
    if flat.size <= _HOST_CHUNK:  # one block: the common case, without the loop
        return _float32_block(flat)
    return sum(
        _float32_block(flat[start : start + _HOST_CHUNK])
        for start in range(0, flat.size, _HOST_CHUNK)
    )


def _float32_block(part: np.ndarray) -> float:
    """sum(part**2) by ``sdot``; again with float64 squares if the float32 sum may have
    overflowed or lost squares below ~1e-38 that matter (mean square under 1e-30)."""
    block = float(np.dot(part, part))
    if part.size * _F32_TINY_MEAN <= block < math.inf:
        return block
    return float(np.square(part, dtype=np.float64).sum())


def _clip_numpy(
    arrays: Sequence[np.ndarray], max_norm: float, dtype: np.dtype
) -> tuple[list[Any], Any]:
    """NumPy path: the same formula, array by array, one read for the norm and one pass
    that scales into fresh outputs (a non-contiguous input's C-order copy is its output)."""
    with np.errstate(over="ignore", invalid="ignore", under="ignore"):
        copies: list[np.ndarray | None] = []
        total = 0.0
        for a in arrays:
            flags = a.flags
            if flags.c_contiguous or flags.f_contiguous:
                copies.append(None)
                total += _sum_squares_numpy(a.ravel(order="K"))  # a view: no copy
            else:
                copy = a.copy(order="C")
                copies.append(copy)
                total += _sum_squares_numpy(copy.reshape(-1))
        norm = math.sqrt(total)
        scale = dtype.type(_scale(norm, max_norm))
        clipped = [  # out= keeps 0-d arrays 0-d; a copy is scaled in place
            (a * scale if a.ndim else np.multiply(a, scale, out=np.empty_like(a)))
            if copy is None
            else np.multiply(copy, scale, out=copy)
            for a, copy in zip(arrays, copies, strict=True)
        ]
    return clipped, np.asarray(norm, dtype=dtype)


def _chunk_table(arrays: list[Any], dtype: np.dtype) -> tuple[np.ndarray, np.ndarray, int, int]:
    """Per chunk of work, (src, dst, len) in elements, and each array's output offset.

    src is relative to the data pointer of ``arrays[base]``, the first non-empty array (the
    arrays are separate allocations), dst to the output buffer, whose segments start 16-byte
    aligned. Returns the table (chunks, 3) as int64, the output offsets, the output buffer's
    length and ``base``.
    """
    itemsize = dtype.itemsize
    sizes = np.array([a.size for a in arrays], dtype=np.int64)
    ptrs = np.array([a.data.ptr for a in arrays], dtype=np.int64)
    base = int(np.argmax(sizes > 0))
    src = (ptrs - ptrs[base]) // itemsize  # exact: every pointer is itemsize-aligned
    pad = _VECTOR // itemsize
    padded = -(-sizes // pad) * pad
    dst = np.zeros_like(sizes)
    np.cumsum(padded[:-1], out=dst[1:])
    per_array = -(-sizes // _CHUNK)
    owner = np.repeat(np.arange(len(arrays)), per_array)
    first = np.zeros_like(per_array)
    np.cumsum(per_array[:-1], out=first[1:])
    start = (np.arange(owner.size, dtype=np.int64) - first[owner]) * _CHUNK
    table = np.empty((owner.size, 3), dtype=np.int64)
    table[:, 0] = src[owner] + start
    table[:, 1] = dst[owner] + start
    table[:, 2] = np.minimum(_CHUNK, sizes[owner] - start)
    return table, dst, int(padded.sum()), base


def _clip_cuda(arrays: list[Any], max_norm: float, dtype: np.dtype) -> tuple[list[Any], Any]:
    """Two launches for all arrays: sum of squares with the scale, then the scaling."""
    import cupy

    # The kernels read C order from itemsize-aligned pointers (a view made with .view() from
    # a byte buffer may be unaligned): anything else is copied first.
    arrays = [
        a if a.flags.c_contiguous and a.data.ptr % dtype.itemsize == 0 else a.copy() for a in arrays
    ]
    table, offsets, total, base = _chunk_table(arrays, dtype)
    buffer = cupy.empty(total, dtype=dtype)
    norm = cupy.empty((), dtype=dtype)
    if table.shape[0] == 0:  # every array is empty: the norm of nothing is 0
        norm.fill(0)
    else:
        chunks = cupy.asarray(table)  # an asynchronous copy through pinned memory
        partials = cupy.empty(table.shape[0], dtype=np.float64)
        arrived = cupy.zeros(1, dtype=np.uint32)
        norm_scale = cupy.empty(2, dtype=np.float64)
        suffix = _SUFFIX[dtype]
        grid, block = (table.shape[0],), (_THREADS,)
        shapes = f"{len(arrays)} arrays, {int(table[:, 2].sum())} elements, {dtype}"
        sumsq = _kernels.get_kernel("clip_norm", f"gm_sumsq_{suffix}")
        args = (arrays[base], chunks, partials, arrived, np.float64(max_norm), norm_scale, norm)
        _kernels.launch(sumsq, grid, block, args, op="clip_by_global_norm", shapes=shapes)
        scale = _kernels.get_kernel("clip_norm", f"gm_scale_{suffix}")
        args = (arrays[base], buffer, chunks, norm_scale)
        _kernels.launch(scale, grid, block, args, op="clip_by_global_norm", shapes=shapes)
    base = buffer.data
    clipped = [
        cupy.ndarray(a.shape, dtype=dtype, memptr=base + int(off) * dtype.itemsize)
        for a, off in zip(arrays, offsets, strict=True)
    ]
    return clipped, norm
