"""Top eigenpairs of a symmetric operator known only through ``v -> A v``.

Both methods take a matrix or a function (a Hessian-vector product, say), run on the device
of the starting vector and never synchronise with the host inside their loops:
:func:`power_iteration` checks convergence every ``check_every`` steps, :func:`lanczos`
runs a fixed Krylov dimension and keeps every scalar on the device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._backend import array_namespace, asarray, is_cupy_array
from .._validate import FLOAT_DTYPES
from ..ops.matmul import matmul
from ._decomp import EighResult

__all__ = ["PowerIterationResult", "lanczos", "power_iteration"]

_WHICH = ("LM", "LA", "SA")


class PowerIterationResult(NamedTuple):
    """Dominant eigenpair from :func:`power_iteration`.

    ``eigenvalue`` is a 0-d array and ``eigenvector`` a unit vector, on the operator's
    device; ``n_iter`` the products taken; ``converged`` whether the residual met ``tol``.
    """

    eigenvalue: Any
    eigenvector: Any
    n_iter: int
    converged: bool


def _as_operator(a: Any, name: str) -> tuple[Callable[[Any], Any], int | None, Any]:
    """A matvec function, the size if known and the array that fixes device/dtype."""
    if callable(a):
        return a, None, None
    if not (isinstance(a, np.ndarray) or is_cupy_array(a)):
        raise TypeError(
            f"`{name}` must be a square matrix or a function v -> A v; got {type(a).__name__}"
        )
    if a.ndim != 2 or a.shape[0] != a.shape[1]:
        raise ValueError(f"`{name}` must be a square 2-D matrix; got shape {tuple(a.shape)}")
    if np.dtype(a.dtype).kind != "f":
        raise TypeError(f"`{name}` must have dtype float32 or float64; got {a.dtype}")
    return (lambda v: matmul(a, v)), a.shape[0], a


def _start_vector(
    v0: Any, n: int | None, like: Any, dtype: Any, device: str | None, rng: Any
) -> Any:
    """``v0`` as given, or a random start on ``like``'s device (else ``device``)."""
    if v0 is not None:
        if not (isinstance(v0, np.ndarray) or is_cupy_array(v0)) or v0.ndim != 1:
            raise ValueError(f"`v0` must be a 1-D NumPy or CuPy array; got {v0!r:.60}")
        if n is not None and v0.shape[0] != n:
            raise ValueError(f"`v0` must have length {n}; got shape {tuple(v0.shape)}")
        if like is not None:
            array_namespace(like, v0)
        if np.dtype(v0.dtype) not in FLOAT_DTYPES:
            raise TypeError(f"`v0` must have dtype float32 or float64; got {v0.dtype}")
        # A zero start stays zero: every iterate would be 0 / 0 = NaN (one host sync, once).
        if not bool(array_namespace(v0).any(v0 != 0)):
            raise ValueError("`v0` must be a non-zero vector; got all zeros")
        return v0
    if n is None:
        raise ValueError("`n` (the operator's size) is required when `v0` is not given")
    if isinstance(n, bool) or not isinstance(n, int | np.integer):
        raise TypeError(f"`n` must be an int; got {n!r}")
    if n < 1:
        raise ValueError(f"`n` must be >= 1; got {n!r}")
    if like is None and np.dtype(dtype) not in FLOAT_DTYPES:
        raise TypeError(f"`dtype` must be float32 or float64; got {np.dtype(dtype)}")
    if like is not None:
        dtype, device = like.dtype, ("cpu" if not is_cupy_array(like) else f"cuda:{like.device.id}")
    host = np.random.default_rng(rng).standard_normal(n).astype(dtype)
    return asarray(host, device=device)  # an n-vector created explicitly on the device


def power_iteration(
    a: Any,
    *,
    n: int | None = None,
    v0: Any = None,
    max_iter: int = 1000,
    tol: float = 1e-6,
    check_every: int = 10,
    dtype: Any = np.float64,
    device: str | None = None,
    rng: Any = None,
) -> PowerIterationResult:
    """Dominant eigenpair (largest ``|λ|``) of a symmetric operator by power iteration.

    Parameters
    ----------
    a : array (N, N) or callable
        The matrix, or a function ``v -> A v`` on 1-D arrays (then give ``n`` or ``v0``).
    n : int, optional
        Operator size when ``a`` is a function and ``v0`` is not given.
    v0 : array, optional
        Start vector; by default a random one on ``a``'s device (or ``device``).
    max_iter : int
        Largest number of products.
    tol : float
        Stop when ``‖A v − λ v‖ <= tol |λ|``, checked every ``check_every`` products (one
        host synchronisation per check).
    dtype, device :
        For the random start when ``a`` is a function: its dtype and device (default the
        current device).
    rng : None, int or numpy.random.Generator
        Seed for the random start.

    Returns
    -------
    PowerIterationResult

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> res = la.power_iteration(np.diag([1.0, -5.0, 2.0]), rng=0)
    >>> round(float(res.eigenvalue), 6), res.converged
    (-5.0, True)
    """
    matvec, size, like = _as_operator(a, "a")
    if not tol > 0:
        raise ValueError(f"`tol` must be > 0; got {tol!r}")
    if max_iter < 1 or check_every < 1:
        raise ValueError(
            f"`max_iter` and `check_every` must be >= 1; got {max_iter!r} and {check_every!r}"
        )
    v = _start_vector(v0, size if size is not None else n, like, dtype, device, rng)
    xp = array_namespace(v)
    v = v / xp.linalg.vector_norm(v)
    lam = None
    for i in range(1, max_iter + 1):
        w = matvec(v)
        lam = xp.sum(v * w)  # Rayleigh quotient of the current unit vector
        if i % check_every == 0 or i == max_iter:
            residual = xp.linalg.vector_norm(w - lam * v)
            if bool(residual <= tol * xp.abs(lam)):
                return PowerIterationResult(lam, v, i, True)
        v = w / xp.linalg.vector_norm(w)
    return PowerIterationResult(lam, v, max_iter, False)


def lanczos(
    matvec: Any,
    n: int | None = None,
    k: int = 6,
    *,
    which: str = "LM",
    n_steps: int | None = None,
    v0: Any = None,
    dtype: Any = np.float64,
    device: str | None = None,
    rng: Any = None,
) -> EighResult:
    """``k`` extreme eigenpairs of a symmetric operator by Lanczos with full reorthogonalisation.

    Builds an orthonormal Krylov basis ``V`` of ``n_steps`` vectors and the tridiagonal
    ``T = V^T A V``; the eigenpairs of ``T`` (Ritz pairs) approximate those of ``A`` at the
    ends of the spectrum. Each new vector is orthogonalised against the whole basis twice
    ("twice is enough"), which keeps the basis orthonormal in float32 and avoids the ghost
    eigenvalues of plain Lanczos. Cost: ``n_steps`` products and ``O(n n_steps^2)`` flops.

    Parameters
    ----------
    matvec : callable or array (N, N)
        ``v -> A v`` on 1-D arrays (e.g. a Hessian-vector product), or the matrix itself.
    n : int
        Operator size (taken from the matrix or ``v0`` when those are given).
    k : int
        Number of eigenpairs, ``1 <= k <= n``.
    which : {"LM", "LA", "SA"}
        Largest magnitude, largest algebraic, smallest algebraic (as ``scipy``'s ``eigsh``).
    n_steps : int, optional
        Krylov dimension; default ``min(n, max(2 k + 40, 4 k))``. More steps, more accuracy
        for clustered spectra.
    v0 : array, optional
        Start vector; by default random on the operator's device (or ``device``).
    dtype, device, rng :
        For the random start when ``matvec`` is a function.

    Returns
    -------
    EighResult
        ``eigenvalues`` (k,) ascending and ``eigenvectors`` (n, k) as columns, like
        ``scipy.sparse.linalg.eigsh``.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> a = np.diag(np.r_[np.linspace(0.0, 1.0, 98), 5.0, 10.0])
    >>> w, v = la.lanczos(lambda x: a @ x, 100, 2, rng=0, device="cpu")
    >>> np.round(w, 6)
    array([ 5., 10.])
    """
    op, size, like = _as_operator(matvec, "matvec")
    v = _start_vector(v0, size if size is not None else n, like, dtype, device, rng)
    n = v.shape[0]
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= n:
        raise ValueError(f"`k` must be an integer in [1, n] = [1, {n}]; got {k!r}")
    if which not in _WHICH:
        raise ValueError(f"`which` must be one of {_WHICH}; got {which!r}")
    m = min(n, max(2 * k + 40, 4 * k)) if n_steps is None else n_steps
    if not k <= m <= n:
        raise ValueError(f"`n_steps` must be in [k, n] = [{k}, {n}]; got {n_steps!r}")
    xp = array_namespace(v)
    basis = xp.zeros((m, n), dtype=v.dtype)  # rows are the Lanczos vectors; zero rows add 0
    alpha = xp.zeros(m, dtype=v.dtype)
    beta = xp.zeros(m, dtype=v.dtype)
    tiny = np.finfo(np.dtype(v.dtype)).tiny
    basis[0] = v / xp.linalg.vector_norm(v)
    for j in range(m):
        w = op(basis[j])
        alpha[j] = xp.sum(w * basis[j])
        for _ in range(2):  # full reorthogonalisation, twice
            w = w - matmul(basis.T, matmul(basis, w))
        if j + 1 < m:
            norm = xp.linalg.vector_norm(w)
            beta[j] = norm
            # An invariant subspace (norm ~ 0) leaves a zero row: T decouples, no NaN.
            basis[j + 1] = xp.where(norm > tiny, w / xp.where(norm > tiny, norm, 1), 0)
    t = xp.zeros((m, m), dtype=v.dtype)
    idx = xp.arange(m)
    t[idx, idx] = alpha
    t[idx[:-1], idx[1:]] = beta[:-1]
    t[idx[1:], idx[:-1]] = beta[:-1]
    theta, s = xp.linalg.eigh(t)
    if which == "LA":
        pick = idx[m - k :]
    elif which == "SA":
        pick = idx[:k]
    else:
        pick = xp.sort(xp.argsort(xp.abs(theta))[m - k :])
    return EighResult(theta[pick], matmul(basis.T, s[:, pick]))
