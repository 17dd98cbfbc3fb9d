"""Clipping: ``gpumath.clip`` with NumPy semantics, on our CUDA kernel or the array API."""

from __future__ import annotations

import sys
from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_cupy_namespace, is_numpy_namespace
from .._nvtx import annotate
from .._validate import (
    check_array,
    check_out,
    check_real_dtype,
    check_scalar_or_array,
)

__all__ = ["clip"]

# Kernel name, C scalar type and elements per 16-byte vector, per dtype (kernels/clip.cu).
_KERNELS = {
    np.dtype(np.float32): ("gm_clip_f32", np.float32, 4),
    np.dtype(np.float64): ("gm_clip_f64", np.float64, 2),
}
_THREADS = 256
_VECTORS_PER_THREAD = 4  # GM_CLIP_UNROLL
_MAX_GRID = 2**31 - 1  # gridDim.x; the kernel's grid-stride loop covers anything beyond
_HOST_BOUND_TYPES = (type(None), float, int, np.ndarray)


@annotate("gpumath.clip")
def clip(x: Any, lo: Any = None, hi: Any = None, /, *, out: Any = None) -> Any:
    """Limit the values of ``x`` to ``[lo, hi]``, like ``numpy.clip``.

    Computes ``minimum(maximum(x, lo), hi)`` elementwise on the device where ``x`` lives.

    Parameters
    ----------
    x : array
        NumPy or CuPy array of a real dtype.
    lo, hi : scalar, array or None
        Bounds, broadcastable against ``x``; ``None`` leaves that side open. When
        ``lo > hi`` the result is ``hi``, as in NumPy.
    out : array, optional
        Where to write the result (shape and dtype of the result); ``out=x`` clips in place.

    Returns
    -------
    array
        Same namespace and device as ``x``. NaN in ``x`` or in a bound propagates.

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> gm.clip(np.array([-2.0, 0.5, 3.0]), -1, 1)
    array([-1. ,  0.5,  1. ])
    """
    check_array(x, "x")
    check_real_dtype(x, "x")
    check_scalar_or_array(lo, "lo")
    check_scalar_or_array(hi, "hi")
    if not (_is_scalar(lo) and _is_scalar(hi)):
        _check_bounds_broadcast(x, lo, hi)
    # Fast dispatch for the common cases: array_namespace costs ~10 us per call, as much as
    # np.clip on a small array. Anything unusual takes the general path below.
    if type(x) is np.ndarray and _host_only(lo, hi, out):
        return _clip_numpy(x, lo, hi, out)
    cupy = sys.modules.get("cupy")
    if (
        cupy is not None
        and type(x) is cupy.ndarray
        and (out is None or (type(out) is cupy.ndarray and out.device.id == x.device.id))
        and _cuda_supports(x, lo, hi, out)
    ):
        return _clip_cuda(x, lo, hi, out=out)
    xp = array_namespace(x, lo, hi, out)
    if is_cupy_namespace(xp) and _cuda_supports(x, lo, hi, out):
        return _clip_cuda(x, lo, hi, out=out)
    if is_numpy_namespace(xp):
        return _clip_numpy(x, lo, hi, out)
    return _clip_xp(x, lo, hi, out=out, xp=xp)


def _host_only(lo: Any, hi: Any, out: Any) -> bool:
    """True when the bounds are None, real scalars or NumPy arrays, and out None or NumPy."""
    return (
        (out is None or type(out) is np.ndarray)
        and (type(lo) in _HOST_BOUND_TYPES or _is_scalar(lo))
        and (type(hi) in _HOST_BOUND_TYPES or _is_scalar(hi))
    )


def _check_bounds_broadcast(x: Any, lo: Any, hi: Any) -> None:
    """Array bounds must broadcast against ``x`` (named here, not in a NumPy/CuPy message)."""
    shapes = (tuple(x.shape), tuple(np.shape(lo)), tuple(np.shape(hi)))
    try:
        np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(
            "`lo` and `hi` must broadcast against `x`; got shapes "
            f"x {shapes[0]}, lo {shapes[1]}, hi {shapes[2]}"
        ) from None


def _clip_numpy(x: Any, lo: Any, hi: Any, out: Any) -> Any:
    """NumPy's clip is this very definition, in one pass and without copies."""
    if out is not None:
        if _is_scalar(lo) and _is_scalar(hi):
            shape = x.shape
        else:
            shape = np.broadcast_shapes(x.shape, np.shape(lo), np.shape(hi))
        # The result's own dtype, as on the GPU: NumPy would cast silently into any
        # same-kind `out` (float64 results into a float32 `out`).
        check_out(out, shape, np.result_type(x, *(b for b in (lo, hi) if b is not None)))
    return np.clip(x, lo, hi, out=out)


def _clip_xp(x: Any, lo: Any, hi: Any, *, out: Any = None, xp: Any) -> Any:
    """Array-API clip: the CPU path, the GPU fallback and the test oracle."""
    result = x
    if lo is not None:
        result = xp.maximum(result, lo)
    if hi is not None:
        result = xp.minimum(result, hi)
    if result is x:  # both bounds open: still a new array, as np.clip returns
        result = xp.asarray(x, copy=True)
    if out is None:
        return result
    check_out(out, result.shape, result.dtype)
    out[...] = result
    return out


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, int | float | np.integer | np.floating)


def _cuda_supports(x: Any, lo: Any, hi: Any, out: Any) -> bool:
    """Our kernel handles float32/float64 C-contiguous data with scalar bounds."""
    if x.dtype not in _KERNELS or not x.flags.c_contiguous:
        return False
    if not (_is_scalar(lo) and _is_scalar(hi)):
        return False
    # Python scalars are weak (NEP 50) and never promote a float array; NumPy scalars are
    # strongly typed: a float64 (or int64) bound promotes a float32 x.
    for bound in (lo, hi):
        if isinstance(bound, np.generic) and np.result_type(x.dtype, bound) != x.dtype:
            return False
    return out is None or (out.flags.c_contiguous and out.dtype == x.dtype and out.shape == x.shape)


def _launch_geometry(n: int, per_vector: int) -> tuple[tuple[int], tuple[int]]:
    """Enough 256-thread blocks that each thread makes one trip of four vectors.

    The alternative is the grid-stride cap of ``elementwise_launch_config`` (8 blocks per
    SM, ~60 trips per thread at 2**26 floats), under which the earlier one-vector loop
    reached 79% of copy bandwidth on an H100; benchmarks/bench_clip.py times both
    geometries side by side.
    """
    per_block = _THREADS * _VECTORS_PER_THREAD * per_vector
    return (max(1, min(-(-n // per_block), _MAX_GRID)),), (_THREADS,)


def _clip_cuda(x: Any, lo: Any, hi: Any, *, out: Any = None) -> Any:
    import cupy

    name, ctype, per_vector = _KERNELS[x.dtype]
    result = cupy.empty_like(x) if out is None else out
    n = x.size
    if n == 0:
        return result
    lo_c = ctype(-np.inf if lo is None else lo)
    hi_c = ctype(np.inf if hi is None else hi)
    kernel = _kernels.get_kernel("clip", name)
    grid, block = _launch_geometry(n, per_vector)
    _kernels.launch(
        kernel, grid, block, (x, result, lo_c, hi_c, np.int64(n)), op="clip", shapes=str(x.shape)
    )
    return result
