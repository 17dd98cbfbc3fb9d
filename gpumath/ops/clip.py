"""Clipping: ``gpumath.clip`` with NumPy semantics, on our CUDA kernel or the array API."""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_cupy_namespace, is_numpy_namespace
from .._nvtx import annotate
from .._validate import (
    FLOAT_DTYPES,
    check_array,
    check_out,
    check_real_dtype,
    check_scalar_or_array,
)

__all__ = ["clip"]


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
    xp = array_namespace(x, lo, hi, out)
    if is_cupy_namespace(xp) and _cuda_supports(x, lo, hi, out):
        return _clip_cuda(x, lo, hi, out=out)
    if is_numpy_namespace(xp):  # NumPy's clip is this very definition, in one pass
        if out is not None:
            check_out(out, np.broadcast_shapes(x.shape, np.shape(lo), np.shape(hi)), out.dtype)
        return np.clip(x, lo, hi, out=out)
    return _clip_xp(x, lo, hi, out=out, xp=xp)


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
    if np.dtype(x.dtype) not in FLOAT_DTYPES or not x.flags.c_contiguous:
        return False
    if not (_is_scalar(lo) and _is_scalar(hi)):
        return False
    # NumPy scalars are strongly typed (NEP 50): a float64 bound promotes a float32 x.
    bounds = [b for b in (lo, hi) if b is not None]
    if np.result_type(x.dtype, *bounds) != x.dtype:
        return False
    return out is None or (out.flags.c_contiguous and out.dtype == x.dtype and out.shape == x.shape)


def _clip_cuda(x: Any, lo: Any, hi: Any, *, out: Any = None) -> Any:
    import cupy

    ctype = np.dtype(x.dtype).type
    suffix = "f32" if ctype is np.float32 else "f64"
    result = cupy.empty_like(x) if out is None else out
    n = x.size
    if n == 0:
        return result
    lo_c = ctype(-np.inf if lo is None else lo)
    hi_c = ctype(np.inf if hi is None else hi)
    kernel = _kernels.get_kernel("clip", f"gm_clip_{suffix}")
    grid, block = _kernels.elementwise_launch_config(n)
    _kernels.launch(
        kernel, grid, block, (x, result, lo_c, hi_c, np.int64(n)), op="clip", shapes=str(x.shape)
    )
    return result
