"""Norms, condition numbers and numerical rank (NumPy's API)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_cupy_array
from .._validate import check_array, check_real_dtype, is_int
from ._common import call, check_matrix, lib
from ._decomp import svd
from ._errors import LinAlgError

__all__ = ["cond", "matrix_rank", "norm"]


def norm(x: Any, ord: Any = None, axis: Any = None, keepdims: bool = False) -> Any:  # noqa: A002
    """Vector or matrix norm, like ``numpy.linalg.norm`` (same ``ord`` and ``axis`` rules).

    Returns a 0-d array on the GPU (no host synchronisation) and a NumPy scalar on the CPU.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> float(la.norm(np.array([3.0, 4.0])))
    5.0
    >>> float(la.norm(np.eye(3), ord="fro"))
    1.7320508075688772
    """
    check_array(x, "x")
    check_real_dtype(x, "x")
    axes = axis if isinstance(axis, tuple) else (axis,)
    if axis is not None and not all(is_int(a) for a in axes):  # NumPy truncates 1.0 to 1
        raise TypeError(f"`axis` must be None, an int or a tuple of ints; got {axis!r}")
    try:
        return call("svd", x, lib(x).linalg.norm, x, ord=ord, axis=axis, keepdims=keepdims)
    except ValueError as exc:
        if "Invalid norm order" not in str(exc):
            raise
        raise ValueError(
            "`ord` must be a vector norm order (a number, inf or -inf) or a matrix one "
            f"(None, 'fro', 'nuc', inf, -inf, 1, -1, 2, -2) as `axis` selects; got {ord!r}"
        ) from None


def cond(x: Any, p: Any = None) -> Any:
    """Condition number of a matrix or stack, like ``numpy.linalg.cond``.

    ``p`` is ``None``/2/-2 (ratio of singular values), ``"fro"``, 1, -1, inf or -inf. A
    singular matrix gives inf (no error), as in NumPy.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> float(la.cond(np.diag([1.0, 1e-3])))
    1000.0
    """
    check_matrix(x, "x", "cond")
    if x.shape[-1] == 0 or x.shape[-2] == 0:
        raise LinAlgError(f"cond: `x` is empty (shape {tuple(x.shape)}); cond is undefined")
    if x.size == 0:  # an empty stack of matrices: an empty stack of numbers, as in NumPy
        dtype = x.dtype if np.dtype(x.dtype).kind == "f" else np.float64  # NumPy's result type
        return lib(x).empty(x.shape[:-2], dtype=dtype)
    try:
        return call("svd", x, lib(x).linalg.cond, x, p)
    except ValueError as exc:
        if "Invalid norm order" not in str(exc):
            raise
        raise ValueError(
            f"`p` must be None, 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2; got {p!r}"
        ) from None


def matrix_rank(
    A: Any,  # noqa: N803 - NumPy's argument name
    tol: Any = None,
    hermitian: bool = False,
    *,
    rtol: Any = None,
) -> Any:
    """Numerical rank by the SVD, like ``numpy.linalg.matrix_rank`` (NumPy 2 signature).

    Parameters
    ----------
    A : array, shape (..., M, N), or 1-D / 0-d
    tol : float or array, optional
        Absolute threshold: singular values above it count. Excludes ``rtol``.
    hermitian : bool
        Whether ``A`` is symmetric (NumPy may use ``eigh``; the GPU uses the SVD).
    rtol : float or array, optional
        Relative threshold: ``rtol * max(s)``; default ``max(M, N) * eps``.

    Returns
    -------
    int array
        Shape ``A.shape[:-2]``; 0-d on the GPU, a NumPy integer on the CPU.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> int(la.matrix_rank(np.array([[1.0, 2.0], [2.0, 4.0]])))
    1
    """
    check_array(A, "A")
    check_real_dtype(A, "A")
    if tol is not None and rtol is not None:
        raise ValueError(f"`tol` and `rtol` cannot both be set; got tol={tol!r}, rtol={rtol!r}")
    if not is_cupy_array(A):
        return call("svd", A, np.linalg.matrix_rank, A, tol, hermitian, rtol=rtol)
    import cupy

    if A.ndim < 2:
        return cupy.any(A != 0).astype(np.intp)
    s = svd(A, compute_uv=False)
    if tol is None:
        if rtol is None:
            rtol = max(A.shape[-2:]) * np.finfo(s.dtype).eps
        rtol = cupy.asarray(rtol, dtype=s.dtype)[..., None]
        threshold = s.max(axis=-1, keepdims=True) * rtol
    else:
        threshold = cupy.asarray(tol, dtype=s.dtype)[..., None]
    return cupy.count_nonzero(s > threshold, axis=-1).astype(np.intp)
