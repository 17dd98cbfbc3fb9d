"""Shared plumbing of gpumath.linalg: argument checks and the call into LAPACK or cuSOLVER.

Dense routines call ``numpy.linalg`` on NumPy arrays and ``cupy.linalg`` (cuSOLVER/cuBLAS)
on CuPy arrays: both keep NumPy's signatures, which the array-API ``linalg`` extension
changes (``solve``'s vector rule, ``matrix_rank``'s ``rtol``...). CuPy does not raise on a
singular or non-positive-definite matrix by default, it returns inf/NaN; :func:`call` runs
it under ``cupyx.errstate(linalg="raise")`` so that cuSOLVER's ``info`` is checked once after
the call (one host synchronisation per call, the price of a raising API) and turns either
library's error into :class:`LinAlgError` with the reason.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import is_cupy_array
from .._validate import check_array
from ._errors import LinAlgError

__all__ = ["call", "check_matrix", "check_square", "lib", "REASONS"]

# What a LinAlgError from LAPACK/cuSOLVER means, per routine (their own messages are terse:
# NumPy says "Singular matrix", CuPy "Error reported by getrf in cuSOLVER. devInfo = [1]").
REASONS = {
    "inv": "the matrix is singular (an exact zero pivot in its LU factorisation)",
    "solve": "the matrix is singular (an exact zero pivot in its LU factorisation)",
    "cholesky": "the matrix is not positive definite",
    "svd": "the SVD did not converge",
    "eig": "the eigenvalue algorithm did not converge",
    "eigh": "the eigenvalue algorithm did not converge",
}


def lib(a: Any) -> Any:
    """``cupy`` for a CuPy array, else ``numpy``: the library whose ``linalg`` runs ``a``."""
    if is_cupy_array(a):
        import cupy

        return cupy
    return np


def _check_dtype(a: Any, name: str) -> None:
    kind = np.dtype(a.dtype).kind
    if kind not in "biuf" or np.dtype(a.dtype) == np.float16:
        raise TypeError(
            f"`{name}` must have a float32, float64, integer or bool dtype (complex and "
            f"float16 are not supported); got {a.dtype}"
        )


def check_matrix(a: Any, name: str, op: str) -> None:
    """An array of at least two dimensions (a matrix or a stack of them)."""
    check_array(a, name)
    _check_dtype(a, name)
    if a.ndim < 2:
        raise LinAlgError(
            f"{op}: `{name}` must have at least 2 dimensions (a matrix or a stack of "
            f"matrices); got shape {tuple(a.shape)}"
        )


def check_square(a: Any, name: str, op: str) -> None:
    """A matrix or stack of matrices that are square in the last two axes."""
    check_matrix(a, name, op)
    if a.shape[-1] != a.shape[-2]:
        raise LinAlgError(
            f"{op}: `{name}` must be square in its last two axes; got shape {tuple(a.shape)}"
        )


def call(op: str, a: Any, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    """Run ``fn(*args, **kwargs)``, raising :class:`LinAlgError` with ``op``'s reason."""
    try:
        if is_cupy_array(a):
            import cupyx

            with cupyx.errstate(linalg="raise"):
                return fn(*args, **kwargs)
        return fn(*args, **kwargs)
    except LinAlgError:
        raise
    except np.linalg.LinAlgError as exc:  # CuPy raises NumPy's class too
        batch = " (in at least one matrix of the stack)" if a.ndim > 2 else ""
        reason = REASONS.get(op, str(exc))
        raise LinAlgError(
            f"{op}: {reason}{batch}; `a` has shape {tuple(a.shape)}, dtype {a.dtype}"
        ) from exc
