"""Matrix products: ``gpumath.matmul`` with NumPy semantics, on our tiled kernel or the vendor's."""

from __future__ import annotations

import functools
import math
import sys
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_numpy_namespace
from .._nvtx import annotate
from .._validate import FLOAT_DTYPES, check_array, check_out, check_real_dtype
from .linear import _launch_linear

__all__ = ["ALGORITHMS", "matmul"]

ALGORITHMS = ("auto", "tiled", "vendor")

# The tiled kernels: (kernels/<family>.cu, kernel, (rows, columns) of the tile of C per
# thread block), which must match the kernel's source. float64 runs on the FP64 tensor cores
# (DMMA, through WMMA) on compute capability 8.0 and newer, on FMA units below that.
_KERNEL_F32 = ("matmul", "gm_matmul_f32", (128, 128))
_KERNEL_F64_FMA = ("matmul", "gm_matmul_f64", (64, 64))
_KERNEL_F64_DMMA = ("matmul_dmma", "gm_matmul_dmma_f64", (128, 64))
_KERNELS_F64 = (_KERNEL_F64_FMA, _KERNEL_F64_DMMA)
_DMMA_MIN_CAPABILITY = 80  # double WMMA fragments need sm_80
_THREADS = 256  # both files: 256 threads per block
_MAX_GRID_Z = 65535  # CUDA's limit on gridDim.z: larger batches are launched in chunks
_INT32_MAX = 2**31 - 1  # the kernel takes M, N, K and the tile count as int


@annotate("gpumath.matmul")
def matmul(a: Any, b: Any, /, *, out: Any = None, algorithm: str = "auto") -> Any:
    """Matrix product of two arrays, like ``numpy.matmul``.

    2-D operands give the matrix product; operands with more dimensions are stacks of
    matrices in the last two axes, and the leading (batch) axes broadcast. A 1-D ``a`` is
    a row vector and a 1-D ``b`` a column vector; that axis is dropped from the result.

    Parameters
    ----------
    a : array, shape (..., M, K) or (K,)
        NumPy or CuPy array of a real dtype.
    b : array, shape (..., K, N) or (K,)
        Same library and device as ``a``.
    out : array, optional
        Where to write the result: the result's shape and dtype
        (``numpy.result_type(a, b)``).
    algorithm : {"auto", "tiled", "vendor"}
        On CUDA arrays: ``"tiled"`` runs gpumath's tiled GEMM kernel (float32 and float64
        only; other dtypes raise ValueError), ``"vendor"`` runs ``cupy.matmul`` (cuBLAS),
        and ``"auto"`` picks one for the shape. On NumPy arrays every algorithm runs
        ``numpy.matmul`` (BLAS): gpumath has no CPU kernel.

    Returns
    -------
    array
        Shape ``broadcast(a.shape[:-2], b.shape[:-2]) + (M, N)`` (minus 1-D operand axes),
        dtype ``numpy.result_type(a, b)``, on the inputs' device. ``K == 0`` gives zeros.

    Raises
    ------
    ValueError
        If the inner dimensions differ or the batch axes do not broadcast (the message
        names both shapes), an operand is 0-d, or ``algorithm`` is unknown.
    TypeError
        If an operand is not an array or has a complex dtype, or the inputs mix NumPy and
        CuPy arrays.

    Notes
    -----
    The tiled kernel reads C-contiguous operands. A 2-D ``b`` that is the transpose of a
    C-contiguous matrix (``w.T``) is read as it is by the transposed-operand kernel of
    ``gpumath.linear``; other strided inputs are copied to C order first
    (``xp.ascontiguousarray``), and a batch axis that broadcasts partially (e.g. ``(2, 1)``
    against ``(1, 3)``) is materialised. Float32 products are
    true float32 (FMA in float32, no TF32 tensor cores). Float64 products run on the FP64
    tensor cores on GPUs of compute capability 8.0 and newer (IEEE float64 multiply-adds,
    as on the FMA units used below 8.0).

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> gm.matmul(np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[5.0], [6.0]]))
    array([[17.],
           [39.]])
    >>> gm.matmul(np.ones((4, 2, 3)), np.ones(3)).shape
    (4, 2)
    """
    check_array(a, "a")
    check_array(b, "b")
    check_real_dtype(a, "a")
    check_real_dtype(b, "b")
    if algorithm not in ALGORITHMS:
        raise ValueError(f"`algorithm` must be one of {ALGORITHMS}; got {algorithm!r}")
    shape = _result_shape(a.shape, b.shape)
    dtype = a.dtype if a.dtype == b.dtype else np.result_type(a.dtype, b.dtype)
    # Fast dispatch for plain NumPy or CuPy operands: array_namespace costs ~10 us per call,
    # more than BLAS takes for a small product. Anything unusual takes the general path.
    if type(a) is np.ndarray and type(b) is np.ndarray and (out is None or type(out) is np.ndarray):
        is_cupy = False
    elif _plain_cupy(a, b, out):
        is_cupy = True
    else:
        is_cupy = not is_numpy_namespace(array_namespace(a, b, out))
    if out is not None:
        check_out(out, shape, dtype)
    if not is_cupy:  # no CPU kernel: BLAS through NumPy for every algorithm
        return np.matmul(a, b, out=out)
    import cupy

    if a.shape[-1] == 0 or math.prod(shape) == 0:  # no launch; K == 0 sums no terms: zeros
        result = cupy.empty(shape, dtype=dtype) if out is None else out
        result.fill(0)
        return result
    if algorithm == "tiled":
        _check_tiled(a, b, dtype)
        return _matmul_tiled(a, b, shape, dtype, out)
    # "auto" is cuBLAS for now: on an H100 (benchmarks/results/nvidia-h100-80gb-hbm3.md,
    # 2026-11-26) our kernel ran at 0.71-0.78x cuBLAS for float32 at 2048-8192 and ragged
    # sizes, 0.44x batched 256 x 128^3 and 0.24x for float64 (the FMA kernel), so no measured
    # shape favours it. The float64 tensor-core kernel (kernels/matmul_dmma.cu) has not been
    # timed on a GPU yet, so float64 stays on cuBLAS too. When a shape measures faster, its
    # crossover goes here, from that table.
    return cupy.matmul(a, b, out=out)


def _plain_cupy(a: Any, b: Any, out: Any) -> bool:
    """True for CuPy ndarrays (out None or one too) all on one device."""
    cupy = sys.modules.get("cupy")
    if cupy is None or type(a) is not cupy.ndarray or type(b) is not cupy.ndarray:
        return False
    device = a.device.id
    if b.device.id != device:
        return False
    return out is None or (type(out) is cupy.ndarray and out.device.id == device)


def _result_shape(a_shape: tuple[int, ...], b_shape: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy matmul's result shape; ValueError naming both shapes when there is none."""
    if len(a_shape) == 0 or len(b_shape) == 0:
        raise ValueError(
            f"matmul needs operands with at least 1 dimension; got shapes {a_shape} and {b_shape}"
        )
    if len(a_shape) == 2 and len(b_shape) == 2 and a_shape[1] == b_shape[0]:
        return (a_shape[0], b_shape[1])  # the common case, without broadcast_shapes (~3 us)
    a2 = a_shape if len(a_shape) > 1 else (1, *a_shape)
    b2 = b_shape if len(b_shape) > 1 else (*b_shape, 1)
    if a2[-1] != b2[-2]:
        raise ValueError(
            f"matmul: inner dimensions differ: `a` has shape {a_shape} (K = {a2[-1]}) and "
            f"`b` has shape {b_shape} (K = {b2[-2]})"
        )
    try:
        batch = np.broadcast_shapes(a2[:-2], b2[:-2])
    except ValueError:
        raise ValueError(
            f"matmul: batch dimensions do not broadcast: `a` has shape {a_shape} and "
            f"`b` has shape {b_shape}"
        ) from None
    rows = (a2[-2],) if len(a_shape) > 1 else ()
    cols = (b2[-1],) if len(b_shape) > 1 else ()
    return (*batch, *rows, *cols)


def _extents(a: Any, b: Any) -> tuple[int, int, int]:
    m = a.shape[-2] if a.ndim > 1 else 1
    k = a.shape[-1]
    n = b.shape[-1] if b.ndim > 1 else 1
    return m, n, k


def _tiled_supports(a: Any, b: Any, dtype: Any) -> bool:
    """Our kernels take float32/float64 and int32 extents and tile counts."""
    if np.dtype(dtype) not in FLOAT_DTYPES:
        return False
    m, n, k = _extents(a, b)
    # float64 has two kernels (which one runs depends on the GPU): both must fit.
    kernels = (_KERNEL_F32,) if np.dtype(dtype) == np.float32 else _KERNELS_F64
    tile_counts = (-(-m // rows) * -(-n // cols) for _, _, (rows, cols) in kernels)
    return max(m, n, k) <= _INT32_MAX and max(tile_counts) <= _INT32_MAX


def _check_tiled(a: Any, b: Any, dtype: Any) -> None:
    """ValueError saying why ``algorithm="tiled"`` cannot run these operands."""
    if np.dtype(dtype) not in FLOAT_DTYPES:
        raise ValueError(
            f'algorithm="tiled" supports float32 and float64; got {a.dtype} @ {b.dtype} '
            f"(result {np.dtype(dtype)}); use algorithm='vendor' or 'auto'"
        )
    if not _tiled_supports(a, b, dtype):
        raise ValueError(
            f'algorithm="tiled": extents of {a.shape} @ {b.shape} exceed the kernel\'s '
            "32-bit M, N, K; use algorithm='vendor' or 'auto'"
        )


def _batched_operand(x: Any, batch: tuple[int, ...], xp: Any) -> tuple[Any, int]:
    """C-contiguous (rows, cols) matrices for the kernel, and their batch stride (0: shared)."""
    rows, cols = x.shape[-2:]
    own = x.shape[:-2]
    if not own:  # a plain matrix: no reshape, which costs a few us in CuPy
        return xp.ascontiguousarray(x), 0
    if math.prod(own) == 1:  # one matrix for the whole batch: stride 0 broadcasts it
        return xp.ascontiguousarray(x.reshape(rows, cols)), 0
    if (1,) * (len(batch) - len(own)) + own != batch:  # partial broadcast: materialise
        x = xp.broadcast_to(x, (*batch, rows, cols))
    return xp.ascontiguousarray(x), rows * cols


def _may_overlap(out: Any, x: Any) -> bool:
    """Whether ``out`` (C-contiguous) may share memory with ``x``; cheap for contiguous ``x``."""
    import cupy

    if not x.flags.c_contiguous:
        return bool(cupy.may_share_memory(out, x))
    start, end = out.data.ptr, out.data.ptr + out.nbytes
    return x.data.ptr < end and start < x.data.ptr + x.nbytes


def _matmul_tiled(a: Any, b: Any, shape: tuple[int, ...], dtype: Any, out: Any) -> Any:
    """Run our tiled kernel on non-empty CuPy operands; the result has ``shape`` and ``dtype``."""
    import cupy

    a2 = a[None, :] if a.ndim == 1 else a
    b2 = b[:, None] if b.ndim == 1 else b
    if a2.dtype != dtype:
        a2 = a2.astype(dtype)
    if b2.dtype != dtype:
        b2 = b2.astype(dtype)
    m, n, k = _extents(a2, b2)
    if a2.ndim == 2 and b2.ndim == 2:
        batch: tuple[int, ...] = ()
    else:
        batch = np.broadcast_shapes(a2.shape[:-2], b2.shape[:-2])
    count = math.prod(batch)
    direct = (
        out is not None
        and out.flags.c_contiguous
        and not _may_overlap(out, a)
        and not _may_overlap(out, b)
    )
    result = out if direct else cupy.empty(shape, dtype=dtype)
    if not batch and not b2.flags.c_contiguous and b2.T.flags.c_contiguous:
        # b is the transpose of a C-contiguous (N, K) matrix: the linear kernel reads it
        # along K as it is, with no bias and no activation, instead of copying it.
        shapes = f"{tuple(a.shape)} @ {tuple(b.shape)} (transposed) {dtype}"
        _launch_linear(cupy.ascontiguousarray(a2), b2.T, b2.T, result, False, 0, shapes)
    else:
        a3, stride_a = _batched_operand(a2, batch, cupy)
        b3, stride_b = _batched_operand(b2, batch, cupy)
        _launch(a3, b3, result, m, n, k, count, stride_a, stride_b)
    if out is not None and result is not out:
        out[...] = result
        return out
    return result


def _launch(
    a: Any,
    b: Any,
    c: Any,
    m: int,
    n: int,
    k: int,
    count: int,
    stride_a: int,
    stride_b: int,
    options: tuple[str, ...] = (),
) -> None:
    """Launch the tiled kernel over ``count`` matrices, at most 65535 per launch (grid z).

    ``options`` are extra compiler flags, e.g. the tuning knobs of kernels/matmul.cu.
    """
    import cupy

    if c.dtype == np.float32:
        family, name, (rows, cols), needs = (*_KERNEL_F32, ())
    else:
        family, name, (rows, cols), needs = _float64_kernel(cupy.cuda.Device().id)
    kernel = _kernels.get_kernel(family, name, needs + tuple(options))
    tiles = -(-m // rows) * -(-n // cols)
    stride_c = m * n
    scalars = (np.int32(m), np.int32(n), np.int32(k))
    strides = (np.int64(stride_a), np.int64(stride_b), np.int64(stride_c))
    shapes = f"({count} x {m}x{k}) @ ({k}x{n}) {c.dtype}"
    if count <= _MAX_GRID_Z:  # one launch on the arrays themselves (views cost us each)
        args = (a, b, c, *scalars, *strides)
        _kernels.launch(kernel, (tiles, 1, count), (_THREADS,), args, op="matmul", shapes=shapes)
        return
    flat_a, flat_b, flat_c = a.reshape(-1), b.reshape(-1), c.reshape(-1)
    for first in range(0, count, _MAX_GRID_Z):
        chunk = min(_MAX_GRID_Z, count - first)
        args = (
            flat_a[first * stride_a :],  # views: the kernel sees the chunk's first matrix
            flat_b[first * stride_b :],
            flat_c[first * stride_c :],
            *scalars,
            *strides,
        )
        _kernels.launch(kernel, (tiles, 1, chunk), (_THREADS,), args, op="matmul", shapes=shapes)


@functools.cache
def _float64_kernel(device_id: int) -> tuple[str, str, tuple[int, int], tuple[str, ...]]:
    """The float64 kernel for a device, and the compiler options it needs.

    Tensor cores from compute capability 8.0, FMA units below. Cached per device.
    kernels/matmul_dmma.cu includes <mma.h>, which NVRTC finds only on an include path:
    CuPy passes its CUDA toolkit's, and when that lacks the header (NVRTC from a pip wheel)
    the toolkit beside nvcc is tried. Should neither compile, the FMA kernel runs instead,
    after a RuntimeWarning that carries the compiler's log.
    """
    if _compute_capability(device_id) < _DMMA_MIN_CAPABILITY:
        return (*_KERNEL_F64_FMA, ())
    family, name, tile = _KERNEL_F64_DMMA
    errors = []
    for options in _mma_include_options():
        try:
            _kernels.get_kernel(family, name, options)
        except _kernels.KernelError as exc:
            errors.append(str(exc))
            continue
        return family, name, tile, options
    warnings.warn(
        f"gpumath.matmul: the float64 tensor-core kernel does not compile for CUDA device "
        f"{device_id}; using the FMA kernel instead.\n" + "\n".join(errors),
        RuntimeWarning,
        stacklevel=3,
    )
    return (*_KERNEL_F64_FMA, ())


def _mma_include_options() -> list[tuple[str, ...]]:
    """Compiler options to try for <mma.h>: none (CuPy's include path), then nvcc's toolkit."""
    from .._compile_check import find_nvcc

    candidates: list[tuple[str, ...]] = [()]
    nvcc = find_nvcc()
    if nvcc is not None:
        include = Path(nvcc).resolve().parent.parent / "include"
        if (include / "mma.h").is_file():
            candidates.append((f"-I{include}",))
    return candidates


def _compute_capability(device_id: int) -> int:
    """Compute capability of a CUDA device as major * 10 + minor (CuPy gives e.g. "90")."""
    import cupy

    return int(cupy.cuda.Device(device_id).compute_capability)
