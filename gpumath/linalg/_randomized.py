"""Randomized SVD (Halko, Martinsson & Tropp 2011) and low-rank approximation.

Written once against the array API: the products run through :func:`gpumath.matmul` and
the small factorisations through ``xp.linalg`` on the input's device. Nothing here
synchronises with the host, so a GPU call is queued end to end.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .._backend import array_namespace, is_cupy_array
from .._validate import check_array
from ..ops.matmul import matmul
from ._decomp import SVDResult

__all__ = ["LowRank", "gaussian_like", "low_rank", "randomized_svd"]

_LOW_RANK_METHODS = ("auto", "svd", "randomized")


def gaussian_like(a: Any, shape: tuple[int, ...], rng: Any = None) -> Any:
    """Standard-normal array of ``shape`` with ``a``'s dtype, drawn on ``a``'s device.

    ``rng`` is None, an int seed or a ``numpy.random.Generator``. On the GPU the draw is
    cuRAND's (``cupy.random.RandomState``) seeded from ``rng``, so nothing crosses the bus
    but the seed; the same seed therefore gives different numbers on the two devices.
    """
    if rng is not None and not isinstance(rng, int | np.integer | np.random.Generator):
        raise TypeError(
            f"`rng` must be None, an int seed or a numpy.random.Generator; got {type(rng).__name__}"
        )
    generator = np.random.default_rng(rng)
    if not is_cupy_array(a):
        return generator.standard_normal(shape, dtype=a.dtype)
    import cupy

    with a.device:
        state = cupy.random.RandomState(int(generator.integers(2**63)))
        return state.standard_normal(shape, dtype=a.dtype)


def _as_float(a: Any, xp: Any) -> Any:
    """Float arrays as they are; integers and booleans as float64 (as numpy.linalg does)."""
    return a if np.dtype(a.dtype).kind == "f" else xp.astype(a, xp.float64)


def _check_2d_float(a: Any, name: str, op: str) -> None:
    check_array(a, name)
    kind = np.dtype(a.dtype).kind
    if kind not in "biuf" or np.dtype(a.dtype) == np.float16:
        raise TypeError(
            f"{op}: `{name}` must have a real float32/float64 or integer dtype; got {a.dtype}"
        )
    if a.ndim != 2:
        raise ValueError(f"{op}: `{name}` must be 2-D; got shape {tuple(a.shape)}")


def _check_rank(k: Any, shape: tuple[int, ...], op: str) -> None:
    limit = min(shape)
    if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= limit:
        raise ValueError(
            f"{op}: `k` must be an integer in [1, min(a.shape)] = [1, {limit}]; got {k!r}"
        )


def randomized_svd(
    a: Any, k: int, *, n_oversamples: int = 10, n_iter: int = 4, rng: Any = None
) -> SVDResult:
    """Top-``k`` singular triplets of ``a`` by randomized range finding (Halko et al.).

    A Gaussian test matrix of ``k + n_oversamples`` columns samples the range of ``a``;
    ``n_iter`` power iterations ``(a a^T)^q`` sharpen a slowly decaying spectrum, with a QR
    re-orthonormalisation after each product so float32 does not lose the small directions.
    The SVD of the small projected matrix gives the triplets.

    Parameters
    ----------
    a : array, shape (M, N)
    k : int
        Number of singular triplets, ``1 <= k <= min(M, N)``.
    n_oversamples : int
        Extra sampled directions (Halko et al. recommend 5-10).
    n_iter : int
        Power iterations; 4 suits data with a decaying spectrum, more for a flat one.
    rng : None, int or numpy.random.Generator
        Seed for the test matrix (drawn on ``a``'s device, see :func:`gaussian_like`).

    Returns
    -------
    SVDResult
        ``U`` (M, k), ``S`` (k,) descending, ``Vh`` (k, N), on ``a``'s device and dtype.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> a = np.outer(np.arange(1.0, 5.0), np.arange(1.0, 4.0))  # rank 1
    >>> u, s, vh = la.randomized_svd(a, 1, rng=0)
    >>> round(float(s[0]), 6) == round(float(np.linalg.norm(a)), 6)
    True
    """
    _check_2d_float(a, "a", "randomized_svd")
    _check_rank(k, a.shape, "randomized_svd")
    for name, value in (("n_oversamples", n_oversamples), ("n_iter", n_iter)):
        if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 0:
            raise ValueError(f"`{name}` must be an integer >= 0; got {value!r}")
    xp = array_namespace(a)
    a = _as_float(a, xp)
    m, n = a.shape
    width = min(k + n_oversamples, m, n)
    at = a.T  # a view: matmul copies it to C order where its kernel needs that
    omega = gaussian_like(a, (n, width), rng)
    q, _ = xp.linalg.qr(matmul(a, omega))
    for _ in range(n_iter):
        q, _ = xp.linalg.qr(matmul(at, q))
        q, _ = xp.linalg.qr(matmul(a, q))
    b = matmul(q.T, a)  # (width, N): a projected on the sampled range
    u_small, s, vh = xp.linalg.svd(b, full_matrices=False)
    return SVDResult(matmul(q, u_small[:, :k]), s[:k], vh[:k])


class LowRank(NamedTuple):
    """A rank-``k`` approximation ``U @ diag(S) @ Vh`` of a matrix and its relative error.

    Attributes
    ----------
    U : array, shape (M, k)
    S : array, shape (k,)
    Vh : array, shape (k, N)
    rel_error : 0-d array
        ``‖a − U diag(S) Vh‖_F / ‖a‖_F`` on the input's device.
    """

    U: Any
    S: Any
    Vh: Any
    rel_error: Any

    def to_dense(self) -> Any:
        """The approximation as a dense (M, N) array."""
        return matmul(self.U * self.S, self.Vh)


def low_rank(a: Any, k: int, *, method: str = "auto", rng: Any = None) -> LowRank:
    """Best rank-``k`` approximation of ``a`` in factored form, with its relative error.

    Parameters
    ----------
    a : array, shape (M, N)
    k : int
        Rank, ``1 <= k <= min(M, N)``.
    method : {"auto", "svd", "randomized"}
        ``"svd"`` truncates the full SVD (exact, ``O(M N min(M, N))``);
        ``"randomized"`` runs :func:`randomized_svd` (``O(M N k)``); ``"auto"`` takes the
        randomized path when ``min(M, N) > 500`` and ``k <= min(M, N) / 10``, where it is
        much faster and, on the decaying spectra of real weights and data, as accurate.
    rng : None, int or numpy.random.Generator
        Seed for the randomized path.

    Returns
    -------
    LowRank
        Factors and ``rel_error`` (Frobenius norm), on ``a``'s device.

    Examples
    --------
    >>> import numpy as np, gpumath.linalg as la
    >>> a = np.diag([3.0, 2.0, 0.001])
    >>> approx = la.low_rank(a, 2)
    >>> round(float(approx.rel_error), 6)
    0.000277
    """
    _check_2d_float(a, "a", "low_rank")
    _check_rank(k, a.shape, "low_rank")
    if method not in _LOW_RANK_METHODS:
        raise ValueError(f"`method` must be one of {_LOW_RANK_METHODS}; got {method!r}")
    xp = array_namespace(a)
    a = _as_float(a, xp)
    small = min(a.shape)
    if method == "auto":
        method = "randomized" if small > 500 and k <= small // 10 else "svd"
    if method == "randomized":
        u, s, vh = randomized_svd(a, k, rng=rng)
    else:
        u, s, vh = xp.linalg.svd(a, full_matrices=False)
        u, s, vh = u[:, :k], s[:k], vh[:k]
    residual = a - matmul(u * s, vh)
    rel_error = xp.sqrt(xp.sum(residual * residual)) / xp.sqrt(xp.sum(a * a))
    return LowRank(u, s, vh, rel_error)
