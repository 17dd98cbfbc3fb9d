"""Inverse, solve, determinants, Cholesky, least squares and pseudo-inverse (NumPy's API).

Each function checks its arguments, then runs ``numpy.linalg`` (LAPACK) on NumPy arrays and
``cupy.linalg`` (cuSOLVER/cuBLAS) on CuPy arrays through :func:`._common.call`, which turns a
singular or non-positive-definite matrix into :class:`LinAlgError` on both devices.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._backend import array_namespace, is_cupy_array
from .._validate import check_array
from ..ops.matmul import matmul
from ._common import call, check_matrix, check_square, lib

__all__ = ["SlogdetResult", "cholesky", "det", "inv", "lstsq", "pinv", "slogdet", "solve"]


class SlogdetResult(NamedTuple):
    """``sign`` and ``logabsdet`` of a determinant, like NumPy's result of the same name."""

    sign: Any
    logabsdet: Any


def inv(a: Any) -> Any:
    """Inverse of a square matrix or of each matrix in a stack, like ``numpy.linalg.inv``.

    Parameters
    ----------
    a : array, shape (..., M, M)
        NumPy or CuPy array.

    Returns
    -------
    array, shape (..., M, M)
        Same device; float32 stays float32, integers become float64.

    Raises
    ------
    LinAlgError
        If ``a`` is not square or is singular (also on the GPU, where CuPy alone would
        return inf/NaN: cuSOLVER's status is checked once after the call).

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> la.inv(np.array([[2.0, 0.0], [0.0, 4.0]]))
    array([[0.5 , 0.  ],
           [0.  , 0.25]])
    """
    check_square(a, "a", "inv")
    return call("inv", a, lib(a).linalg.inv, a)


def solve(a: Any, b: Any) -> Any:
    """Solve ``a @ x = b`` for ``x``, like ``numpy.linalg.solve`` (NumPy 2 rules).

    Parameters
    ----------
    a : array, shape (..., M, M)
    b : array, shape (M,) or (..., M, K)
        A 1-D ``b`` is one right-hand side for every matrix of ``a``; otherwise the batch
        axes of ``a`` and ``b`` broadcast.

    Returns
    -------
    array, shape (..., M) or (..., M, K)

    Raises
    ------
    LinAlgError
        If ``a`` is not square or is singular.
    ValueError
        If the shapes do not fit (the message names both).

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> la.solve(np.array([[3.0, 1.0], [1.0, 2.0]]), np.array([9.0, 8.0]))
    array([2., 3.])
    """
    check_square(a, "a", "solve")
    check_array(b, "b")
    array_namespace(a, b)
    if b.ndim == 0 or b.shape[-1 if b.ndim == 1 else -2] != a.shape[-1]:
        raise ValueError(
            f"solve: `b` must have shape (M,) or (..., M, K) with M = {a.shape[-1]} from "
            f"`a`; got `a` of shape {tuple(a.shape)} and `b` of shape {tuple(b.shape)}"
        )
    if not is_cupy_array(a):
        return call("solve", a, np.linalg.solve, a, b)
    # CuPy neither broadcasts batch axes nor handles a 1-D b against a stack: do both here.
    import cupy

    vector = b.ndim == 1
    b2 = b[:, None] if vector else b
    try:
        batch = np.broadcast_shapes(a.shape[:-2], b2.shape[:-2])
    except ValueError:
        raise ValueError(
            f"solve: batch axes do not broadcast: `a` has shape {tuple(a.shape)} and `b` "
            f"has shape {tuple(b.shape)}"
        ) from None
    a2 = cupy.ascontiguousarray(cupy.broadcast_to(a, batch + a.shape[-2:]))
    b2 = cupy.ascontiguousarray(cupy.broadcast_to(b2, batch + b2.shape[-2:]))
    x = call("solve", a, cupy.linalg.solve, a2, b2)
    return x[..., 0] if vector else x


def det(a: Any) -> Any:
    """Determinant of a square matrix or stack, like ``numpy.linalg.det`` (0 when singular).

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> float(la.det(np.array([[1.0, 2.0], [3.0, 4.0]])))
    -2.0000000000000004
    """
    check_square(a, "a", "det")
    return lib(a).linalg.det(a)


def slogdet(a: Any) -> SlogdetResult:
    """Sign and log of the absolute determinant, like ``numpy.linalg.slogdet``.

    A singular matrix gives ``sign == 0`` and ``logabsdet == -inf`` (no error), as in NumPy.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> sign, logabsdet = la.slogdet(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> float(sign), round(float(logabsdet), 6)
    (-1.0, 1.791759)
    """
    check_square(a, "a", "slogdet")
    sign, logabsdet = lib(a).linalg.slogdet(a)
    return SlogdetResult(sign, logabsdet)


def cholesky(a: Any) -> Any:
    """Lower Cholesky factor ``L`` with ``a = L @ L.T``, like ``numpy.linalg.cholesky``.

    Only the lower triangle of ``a`` is read.

    Raises
    ------
    LinAlgError
        If ``a`` is not square or not positive definite (on both devices).

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> la.cholesky(np.array([[4.0, 2.0], [2.0, 5.0]]))
    array([[2., 0.],
           [1., 2.]])
    """
    check_square(a, "a", "cholesky")
    return call("cholesky", a, lib(a).linalg.cholesky, a)


def lstsq(a: Any, b: Any, rcond: float | None = None) -> tuple[Any, Any, Any, Any]:
    """Least-squares solution of ``a @ x ≈ b``, like ``numpy.linalg.lstsq``.

    Parameters
    ----------
    a : array, shape (M, N)
    b : array, shape (M,) or (M, K)
    rcond : float, optional
        Singular values below ``rcond * max(s)`` count as zero; default
        ``eps * max(M, N)`` (NumPy 2's default).

    Returns
    -------
    x, residuals, rank, s
        As NumPy: ``residuals`` is empty unless ``rank == N < M``; ``rank`` is an integer
        on the CPU and a 0-d array on the GPU (no host synchronisation).

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> x, res, rank, s = la.lstsq(np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
    ...                            np.array([1.0, 2.0, 3.0]))
    >>> np.round(x, 6), int(rank)
    (array([1., 2.]), 2)
    """
    check_matrix(a, "a", "lstsq")
    check_array(b, "b")
    array_namespace(a, b)
    if a.ndim != 2 or b.ndim not in (1, 2) or b.shape[0] != a.shape[0]:
        raise ValueError(
            "lstsq: `a` must have shape (M, N) and `b` shape (M,) or (M, K); got "
            f"`a` of shape {tuple(a.shape)} and `b` of shape {tuple(b.shape)}"
        )
    return call("svd", a, lib(a).linalg.lstsq, a, b, rcond=rcond)


def pinv(a: Any, rcond: Any = None, hermitian: bool = False) -> Any:
    """Moore-Penrose pseudo-inverse through the SVD, like ``numpy.linalg.pinv``.

    Parameters
    ----------
    a : array, shape (..., M, N)
    rcond : float or array, optional
        Singular values at or below ``rcond * max(s)`` are dropped; default 1e-15
        (NumPy's). Broadcasts against the stack.
    hermitian : bool
        Whether ``a`` is symmetric/Hermitian (lets NumPy use ``eigh``; the GPU path
        always uses the SVD, which gives the same result).

    Returns
    -------
    array, shape (..., N, M)

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> la.pinv(np.array([[1.0, 0.0], [0.0, 0.0]]))
    array([[1., 0.],
           [0., 0.]])
    """
    check_matrix(a, "a", "pinv")
    rcond = 1e-15 if rcond is None else rcond
    if not is_cupy_array(a):
        return call("svd", a, np.linalg.pinv, a, rcond=rcond, hermitian=hermitian)
    import cupy

    m, n = a.shape[-2:]
    if a.size == 0:
        return cupy.empty(a.shape[:-2] + (n, m), dtype=np.result_type(a.dtype, np.float64))
    u, s, vt = call("svd", a, cupy.linalg.svd, a.conj(), full_matrices=False)
    cutoff = cupy.asarray(rcond, dtype=s.dtype)[..., None] * s.max(axis=-1, keepdims=True)
    s_inv = cupy.where(s > cutoff, 1 / cupy.where(s > cutoff, s, 1), 0).astype(s.dtype)
    return matmul(cupy.swapaxes(vt, -1, -2), s_inv[..., None] * cupy.swapaxes(u, -1, -2))
