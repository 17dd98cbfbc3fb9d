"""Principal component analysis with scikit-learn's API, on the device of the data."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import array_namespace, to_numpy
from .._validate import check_array
from .._xp import sign
from ..ops.matmul import matmul
from ._randomized import randomized_svd

__all__ = ["PCA"]

_SOLVERS = ("auto", "full", "covariance_eigh", "randomized")
_PARAMS = ("n_components", "svd_solver", "whiten", "random_state", "iterated_power")


def svd_flip_rows(vh: Any, u: Any = None, *, xp: Any) -> tuple[Any, Any]:
    """scikit-learn's ``svd_flip(u, v, u_based_decision=False)``: the largest-magnitude
    entry of each row of ``vh`` becomes positive, so components compare across solvers."""
    rows = xp.arange(vh.shape[0])
    signs = sign(vh[rows, xp.argmax(xp.abs(vh), axis=1)], xp)
    signs = xp.where(signs == 0, 1, signs).astype(vh.dtype)
    return vh * signs[:, None], None if u is None else u * signs


class PCA:
    """Principal component analysis, API and attributes of ``sklearn.decomposition.PCA``.

    Centres the data and projects it on the directions of largest variance. Fitted
    attributes (ending in ``_``) are arrays on the device of the data given to :meth:`fit`.

    Parameters
    ----------
    n_components : int, float or None
        Components to keep: an int ``1 <= k <= min(n_samples, n_features)``; a float in
        (0, 1) keeps the fewest components explaining that fraction of the variance
        ("full" and "covariance_eigh" only; one host synchronisation); None keeps all.
    svd_solver : {"auto", "full", "covariance_eigh", "randomized"}
        ``"full"``: SVD of the centred data. ``"covariance_eigh"``: eigendecomposition of
        the ``n_features^2`` covariance (fast for tall, narrow data). ``"randomized"``:
        :func:`gpumath.linalg.randomized_svd`. ``"auto"`` follows scikit-learn: covariance
        when ``n_features <= 1000`` and ``n_samples >= 10 n_features``, else full when
        ``max(shape) <= 500``, else randomized when ``k < 0.8 min(shape)``, else full.
    whiten : bool
        Scale the projections to unit variance.
    random_state : None, int or numpy.random.Generator
        Seed of the randomized solver.
    iterated_power : int or "auto"
        Power iterations of the randomized solver; "auto" is 7 when ``k < 0.1 min(shape)``
        and 4 otherwise (scikit-learn's rule).

    Attributes
    ----------
    components_ : array (k, n_features)
        Principal axes, sign-fixed like scikit-learn (``svd_flip``).
    explained_variance_, explained_variance_ratio_, singular_values_ : array (k,)
    mean_ : array (n_features,)
    n_components_ : int
    noise_variance_ : 0-d array
        Mean of the variances left out (probabilistic PCA's noise).
    n_samples_, n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linalg import PCA
    >>> x = np.random.default_rng(0).standard_normal((100, 5)) * [5.0, 2.0, 1.0, 0.5, 0.1]
    >>> pca = PCA(2).fit(x)
    >>> pca.transform(x).shape, bool(pca.explained_variance_ratio_.sum() > 0.9)
    ((100, 2), True)
    """

    def __init__(
        self,
        n_components: Any = None,
        *,
        svd_solver: str = "auto",
        whiten: bool = False,
        random_state: Any = None,
        iterated_power: Any = "auto",
    ) -> None:
        self.n_components = n_components
        self.svd_solver = svd_solver
        self.whiten = whiten
        self.random_state = random_state
        self.iterated_power = iterated_power

    # ------------------------------------------------------------------ scikit-learn API

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor parameters, as scikit-learn's ``get_params``."""
        return {name: getattr(self, name) for name in _PARAMS}

    def set_params(self, **params: Any) -> PCA:
        """Set constructor parameters; unknown names raise ValueError."""
        for name, value in params.items():
            if name not in _PARAMS:
                raise ValueError(f"unknown parameter {name!r} for PCA; valid: {_PARAMS}")
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"PCA({args})"

    def fit(self, X: Any, y: Any = None) -> PCA:  # noqa: N803 - scikit-learn's name
        """Fit the model on ``X`` (n_samples, n_features); returns self."""
        xp, X = self._check_fit_input(X)
        n, p = X.shape
        k = self._resolve_k(n, p)
        solver = self._resolve_solver(n, p, k)
        self.mean_ = xp.mean(X, axis=0)
        centred = X - self.mean_
        if solver == "covariance_eigh":
            variances, vh = self._fit_covariance(centred, xp)
        elif solver == "randomized":
            _, s, vh = randomized_svd(
                centred, k, n_iter=self._n_iter(n, p, k), rng=self.random_state
            )
            variances = s * s / (n - 1)
        else:
            _, s, vh = xp.linalg.svd(centred, full_matrices=False)
            variances = s * s / (n - 1)
        vh, _ = svd_flip_rows(vh, xp=xp)
        if solver == "randomized":
            total = xp.sum(xp.var(X, axis=0, correction=1))
        else:
            total = xp.sum(variances)
        ratio = variances / total
        if isinstance(k, float):  # fraction of variance: the one host synchronisation
            k = int(np.searchsorted(to_numpy(xp.cumulative_sum(ratio)), k, side="right")) + 1
            k = min(k, variances.shape[0])
        self.n_components_ = k
        self.components_ = vh[:k]
        self.explained_variance_ = variances[:k]
        self.explained_variance_ratio_ = ratio[:k]
        self.singular_values_ = xp.sqrt(variances[:k] * (n - 1))
        self.noise_variance_ = self._noise_variance(variances, total, k, n, p, solver, xp)
        self.n_samples_, self.n_features_in_ = n, p
        self.svd_solver_ = solver
        return self

    def transform(self, X: Any) -> Any:  # noqa: N803
        """Project ``X`` on the components: ``(X - mean_) @ components_.T``."""
        self._check_fitted()
        xp, X = self._check_input(X, self.n_features_in_)
        projected = matmul(X - self.mean_, self.components_.T)
        if self.whiten:
            # scikit-learn floors the scale at eps: a component of zero variance (constant
            # data) projects to 0, not 0/0 = NaN.
            scale = xp.sqrt(self.explained_variance_)
            floor = xp.full_like(scale, xp.finfo(scale.dtype).eps)
            projected = projected / xp.maximum(scale, floor)
        return projected

    def fit_transform(self, X: Any, y: Any = None) -> Any:  # noqa: N803
        """``fit(X).transform(X)``."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: Any) -> Any:  # noqa: N803
        """Map projections back to the data space (exact for the kept components)."""
        self._check_fitted()
        xp = array_namespace(X, self.components_)
        check_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.n_components_:
            raise ValueError(f"`X` must have shape (n, {self.n_components_}); got {tuple(X.shape)}")
        components = self.components_
        if self.whiten:
            components = xp.sqrt(self.explained_variance_)[:, None] * components
        return matmul(X, components) + self.mean_

    # ------------------------------------------------------------------ helpers

    def _check_input(self, X: Any, n_features: int | None = None) -> tuple[Any, Any]:
        """``(xp, X)``: X checked, integers as float64 (as scikit-learn converts them)."""
        check_array(X, "X")
        if np.dtype(X.dtype).kind in "biu":
            X = array_namespace(X).astype(X, np.float64)
        kind = np.dtype(X.dtype).kind
        if kind != "f" or np.dtype(X.dtype) == np.float16:
            raise TypeError(f"`X` must have dtype float32 or float64; got {X.dtype}")
        if X.ndim != 2:
            raise ValueError(f"`X` must be 2-D (n_samples, n_features); got shape {X.shape}")
        if n_features is not None and X.shape[1] != n_features:
            raise ValueError(f"`X` has {X.shape[1]} features but PCA was fitted with {n_features}")
        return (array_namespace(X) if n_features is None else array_namespace(X, self.mean_)), X

    def _check_fit_input(self, X: Any) -> tuple[Any, Any]:
        xp, X = self._check_input(X)
        if X.shape[0] < 2:
            raise ValueError(f"PCA needs at least 2 samples; got shape {tuple(X.shape)}")
        return xp, X

    def _check_fitted(self) -> None:
        # scikit-learn's NotFittedError (a ValueError and an AttributeError), as the linear
        # models raise it; imported here because gpumath.linear_model imports gpumath.linalg.
        from ..linear_model._base import check_is_fitted

        check_is_fitted(self, "components_")

    def _resolve_k(self, n: int, p: int) -> Any:
        k, limit = self.n_components, min(n, p)
        if k is None:
            return limit
        if isinstance(k, float | np.floating) and not isinstance(k, bool) and 0 < k < 1:
            if self.svd_solver == "randomized":
                raise ValueError(
                    "`n_components` as a fraction of variance needs svd_solver 'full', "
                    "'covariance_eigh' or 'auto'; got svd_solver='randomized'"
                )
            return float(k)
        if isinstance(k, bool) or not isinstance(k, int | np.integer) or not 1 <= k <= limit:
            raise ValueError(
                f"`n_components` must be None, a float in (0, 1) or an int in "
                f"[1, min(n_samples, n_features)] = [1, {limit}]; got {k!r}"
            )
        return int(k)

    def _resolve_solver(self, n: int, p: int, k: Any) -> str:
        if self.svd_solver not in _SOLVERS:
            raise ValueError(f"`svd_solver` must be one of {_SOLVERS}; got {self.svd_solver!r}")
        if self.svd_solver != "auto":
            return self.svd_solver
        if p <= 1000 and n >= 10 * p:
            return "covariance_eigh"
        if max(n, p) <= 500 or isinstance(k, float):
            return "full"
        return "randomized" if k < 0.8 * min(n, p) else "full"

    def _n_iter(self, n: int, p: int, k: int) -> int:
        if self.iterated_power == "auto":
            return 7 if k < 0.1 * min(n, p) else 4
        return self.iterated_power

    @staticmethod
    def _fit_covariance(centred: Any, xp: Any) -> tuple[Any, Any]:
        """Eigen-decomposition of the covariance: descending variances and rows of axes."""
        n = centred.shape[0]
        cov = matmul(centred.T, centred) / (n - 1)
        eigenvalues, eigenvectors = xp.linalg.eigh(cov)
        variances = xp.maximum(xp.flip(eigenvalues), 0)  # round-off can make tiny ones < 0
        return variances, xp.flip(eigenvectors, axis=1).T

    @staticmethod
    def _noise_variance(
        variances: Any, total: Any, k: int, n: int, p: int, solver: str, xp: Any
    ) -> Any:
        rank = min(n, p)
        if k >= rank:
            return xp.zeros((), dtype=variances.dtype)
        if solver == "randomized":  # only k variances are known: the rest from the total
            return (total - xp.sum(variances)) / (rank - k)
        return xp.mean(variances[k:])  # all of them, as scikit-learn (covariance: p values)
