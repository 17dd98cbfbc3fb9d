"""Sparse matrix times dense vector/matrix: our CSR kernel (kernels/spmv.cu) or the vendor's."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_cupy_array
from .._nvtx import annotate
from .._validate import FLOAT_DTYPES, check_array

if TYPE_CHECKING:
    from ._csr import csr_matrix

__all__ = ["ALGORITHMS", "lanes_for", "spmv"]

ALGORITHMS = ("auto", "kernel", "vendor")
_BLOCK = 256


def lanes_for(nnz: int, rows: int) -> int:
    """Threads per row for the kernel: the power of two (1..32) nearest above the mean row
    length, so a warp's lanes mostly hold non-zeros (CUSP's csr_vector heuristic)."""
    mean = nnz / max(rows, 1)
    lanes = 1
    while lanes < 32 and lanes < mean:
        lanes *= 2
    return lanes


@annotate("gpumath.sparse.spmv")
def spmv(a: csr_matrix, x: Any, *, algorithm: str = "auto") -> Any:
    """``a @ x`` for a dense vector (N,) or matrix (N, K) ``x`` on ``a``'s device."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"`algorithm` must be one of {ALGORITHMS}; got {algorithm!r}")
    check_array(x, "x")
    array_namespace(a.data, x)
    if x.ndim not in (1, 2) or x.shape[0] != a.shape[1]:
        raise ValueError(
            f"sparse matmul: `x` must have shape ({a.shape[1]},) or ({a.shape[1]}, K) for a "
            f"matrix of shape {a.shape}; got {tuple(x.shape)}"
        )
    if np.dtype(x.dtype).kind not in "biuf":
        raise TypeError(f"`x` must have a real dtype; got {x.dtype}")
    dtype = np.result_type(a.dtype, x.dtype)
    if a.nnz == 0:  # no launch, no vendor call on an empty structure: A x = 0
        xp = array_namespace(x)
        return xp.zeros((a.shape[0],) + tuple(x.shape[1:]), dtype=dtype)
    if not is_cupy_array(x):  # SciPy for every algorithm: gpumath has no CPU kernel
        return a.to_vendor() @ x
    # "auto": our kernel for a vector, where an H100 measured it 1.80x cuSPARSE (262144^2,
    # 10 non-zeros a row, float32; benchmarks/results/nvidia-h100-80gb-hbm3-all-quick.md);
    # cuSPARSE for a matrix right-hand side, which our kernel takes one column at a time.
    use_vendor = algorithm == "vendor" or (algorithm == "auto" and x.ndim == 2)
    if use_vendor or np.dtype(dtype) not in FLOAT_DTYPES:
        if algorithm == "kernel":
            raise ValueError(f"algorithm='kernel' needs float32 or float64 operands; got {dtype}")
        return a.to_vendor(dtype) @ x.astype(dtype, copy=False)
    return _spmv_kernel(a, x.astype(dtype, copy=False), dtype)


def _spmv_kernel(a: csr_matrix, x: Any, dtype: Any) -> Any:
    import cupy

    data = a.data.astype(dtype, copy=False)
    rows = a.shape[0]
    if x.ndim == 2:  # one launch per column; no host synchronisation between them
        xt = cupy.ascontiguousarray(x.T)
        out = cupy.empty((x.shape[1], rows), dtype=dtype)
        for j in range(x.shape[1]):
            out[j] = _launch(a, data, xt[j], dtype)
        return out.T
    return _launch(a, data, cupy.ascontiguousarray(x), dtype)


def _launch(a: csr_matrix, data: Any, x: Any, dtype: Any) -> Any:
    import cupy

    rows = a.shape[0]
    y = cupy.empty(rows, dtype=dtype)
    if rows == 0:
        return y
    lanes = lanes_for(a.nnz, rows)
    suffix = "f32" if np.dtype(dtype) == np.float32 else "f64"
    kernel = _kernels.get_kernel("spmv", f"gm_spmv_csr_{suffix}")
    grid, block = _kernels.elementwise_launch_config(rows * lanes, block=_BLOCK)
    _kernels.launch(
        kernel,
        grid,
        block,
        (data, a.indices, a.indptr, x, y, np.int64(rows), np.int32(lanes)),
        op="sparse.spmv",
        shapes=f"{a.shape} nnz={a.nnz}",
    )
    return y
