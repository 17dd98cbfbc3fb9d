"""QR, eigen-decompositions and the SVD (NumPy's API, on LAPACK or cuSOLVER)."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._backend import is_cupy_array
from ._common import call, check_matrix, check_square, lib

__all__ = [
    "EigResult",
    "EighResult",
    "QRResult",
    "SVDResult",
    "eig",
    "eigh",
    "eigvalsh",
    "qr",
    "svd",
]

_UPLO = ("L", "U")
_QR_MODES = ("reduced", "complete", "r", "raw")


class QRResult(NamedTuple):
    """``Q`` and ``R`` with ``a = Q @ R``."""

    Q: Any
    R: Any


class EigResult(NamedTuple):
    """``eigenvalues`` and right ``eigenvectors`` (columns) of a general matrix."""

    eigenvalues: Any
    eigenvectors: Any


class EighResult(NamedTuple):
    """Ascending ``eigenvalues`` and orthonormal ``eigenvectors`` (columns)."""

    eigenvalues: Any
    eigenvectors: Any


class SVDResult(NamedTuple):
    """``U``, singular values ``S`` (descending) and ``Vh`` with ``a = U @ diag(S) @ Vh``."""

    U: Any
    S: Any
    Vh: Any


def qr(a: Any, mode: str = "reduced") -> Any:
    """QR factorisation of a matrix or stack, like ``numpy.linalg.qr``.

    Parameters
    ----------
    a : array, shape (..., M, N)
    mode : {"reduced", "complete", "r", "raw"}
        As NumPy: ``"reduced"`` gives Q (..., M, K) and R (..., K, N) with K = min(M, N).

    Returns
    -------
    QRResult or array
        ``(Q, R)``; only ``R`` for ``mode="r"``; LAPACK's ``(h, tau)`` for ``"raw"``.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> a = np.array([[3.0, 1.0], [4.0, 2.0]])
    >>> q, r = la.qr(a)
    >>> bool(np.allclose(q @ r, a))
    True
    """
    check_matrix(a, "a", "qr")
    if mode not in _QR_MODES:
        raise ValueError(f"`mode` must be one of {_QR_MODES}; got {mode!r}")
    result = call("qr", a, lib(a).linalg.qr, a, mode=mode)
    return QRResult(*result) if mode in ("reduced", "complete") else result


def svd(
    a: Any, full_matrices: bool = True, compute_uv: bool = True, hermitian: bool = False
) -> Any:
    """Singular value decomposition of a matrix or stack, like ``numpy.linalg.svd``.

    Parameters
    ----------
    a : array, shape (..., M, N)
    full_matrices : bool
        True: U (..., M, M) and Vh (..., N, N); False: U (..., M, K), Vh (..., K, N),
        K = min(M, N). (The array API spells this the same way; its ``svdvals`` is
        ``compute_uv=False`` here.)
    compute_uv : bool
        False returns only the singular values.
    hermitian : bool
        NumPy may then use ``eigh``; the GPU path always runs cuSOLVER's SVD.

    Returns
    -------
    SVDResult or array
        ``(U, S, Vh)``, or ``S`` alone (descending) when ``compute_uv`` is False.

    Raises
    ------
    LinAlgError
        If the SVD does not converge.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> la.svd(np.array([[3.0, 0.0], [0.0, -4.0]]), compute_uv=False)
    array([4., 3.])
    """
    check_matrix(a, "a", "svd")
    if is_cupy_array(a):
        import cupy

        result = call("svd", a, cupy.linalg.svd, a, full_matrices, compute_uv)
    else:
        result = call("svd", a, np.linalg.svd, a, full_matrices, compute_uv, hermitian)
    return SVDResult(*result) if compute_uv else result


def eigh(a: Any, UPLO: str = "L") -> EighResult:  # noqa: N803 - NumPy's argument name
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix, like ``numpy.linalg.eigh``.

    Only the triangle named by ``UPLO`` is read.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> w, v = la.eigh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    >>> w
    array([1., 3.])
    """
    check_square(a, "a", "eigh")
    _check_uplo(UPLO)
    return EighResult(*call("eigh", a, lib(a).linalg.eigh, a, UPLO=UPLO))


def eigvalsh(a: Any, UPLO: str = "L") -> Any:  # noqa: N803 - NumPy's argument name
    """Eigenvalues (ascending) of a symmetric matrix, like ``numpy.linalg.eigvalsh``.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> la.eigvalsh(np.array([[2.0, 1.0], [1.0, 2.0]]))
    array([1., 3.])
    """
    check_square(a, "a", "eigvalsh")
    _check_uplo(UPLO)
    return call("eigh", a, lib(a).linalg.eigvalsh, a, UPLO=UPLO)


def eig(a: Any) -> EigResult:
    """Eigenvalues and right eigenvectors of a general square matrix, like ``numpy.linalg.eig``.

    As in NumPy, the results are real when every eigenvalue is real, complex otherwise.

    Notes
    -----
    On the GPU this needs CuPy's ``cupy.linalg.eig`` (CuPy >= 14 with cuSOLVER's ``Xgeev``,
    CUDA >= 12.6). Deciding between the real and the complex result costs one host
    synchronisation. Without ``Xgeev`` it raises NotImplementedError rather than copying
    the matrix to the host behind the caller's back: use :func:`eigh` for a symmetric
    matrix, or move ``a`` with ``gpumath.to_device(a, "cpu")`` explicitly.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> w, v = la.eig(np.array([[2.0, 0.0], [0.0, 3.0]]))
    >>> w
    array([2., 3.])
    """
    check_square(a, "a", "eig")
    if not is_cupy_array(a):
        return EigResult(*call("eig", a, np.linalg.eig, a))
    import cupy

    unavailable = (
        f"eig: this CuPy ({cupy.__version__}) has no general eigensolver on the GPU "
        "(needs CuPy >= 14 and cuSOLVER's Xgeev, CUDA >= 12.6); use gpumath.linalg.eigh "
        "for a symmetric matrix, or gpumath.to_device(a, 'cpu') and eig on the host"
    )
    if not hasattr(cupy.linalg, "eig"):
        raise NotImplementedError(unavailable)
    try:
        w, v = call("eig", a, cupy.linalg.eig, a)
    except RuntimeError as exc:  # "geev is not available", or cuSOLVER's NOT_SUPPORTED stub
        raise NotImplementedError(unavailable) from exc
    if a.size and not bool(cupy.any(w.imag != 0)):  # NumPy's rule: real when all are real
        return EigResult(w.real.copy(), v.real.copy())
    return EigResult(w, v)


def _check_uplo(uplo: Any) -> None:
    if uplo not in _UPLO:
        raise ValueError(f"`UPLO` must be 'L' or 'U'; got {uplo!r}")
