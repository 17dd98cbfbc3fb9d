"""L1 and elastic-net penalised least squares: ``Lasso`` and ``ElasticNet`` (scikit-learn's
objective and stopping rule), by coordinate descent or FISTA.

Objective, with sample weights rescaled to sum to ``n_samples`` as scikit-learn does::

    1/(2 n) sum_i sw_i (y_i - x_i w - b)^2 + alpha l1_ratio ||w||_1
        + alpha (1 - l1_ratio) / 2 ||w||^2

Both solvers stop when the duality gap falls below ``tol * y.y`` (scikit-learn's rule).
Coordinate descent updates one feature at a time, so on a GPU it launches a few tiny kernels
per feature; FISTA moves every coefficient at once through Gram-matrix (or ``X``) products
and is what ``solver="auto"`` picks.
"""

from __future__ import annotations

from typing import Any

from ._base import check_y_given
from ._least_squares import (
    LinearModelMixin,
    Quadratic,
    check_choice,
    check_number,
    check_positive_int,
    duality_gap,
    fista,
    prepare,
    set_fitted,
    soft_threshold,
    stop_criterion,
    stop_target,
    warn_not_converged,
)

__all__ = ["ElasticNet", "Lasso"]

SOLVERS = ("auto", "cd", "fista")


def coordinate_descent(
    q: Quadratic, *, l1: float, l2: float, tol: float, max_iter: int
) -> tuple[Any, int, bool]:
    """Cyclic coordinate descent on ``1/2||y - Xw||^2 + l1 ||w||_1 + l2/2 ||w||^2``.

    Covariance updates (Friedman et al. 2010): the Gram matrix ``G`` and ``G w`` replace
    the residual, so one update costs O(n_features). Every scalar stays on the device; the
    stopping rule (see :func:`fista`) is checked once per sweep over the features.

    Returns ``(w, n_sweeps, converged)``.
    """
    xp = q.xp
    gram = q.gram if q.gram is not None else q.X.T @ q.X
    diag = xp.linalg.diagonal(gram)
    denom = diag + l2
    # A zero column with no L2 term has no curvature: its coefficient stays 0.
    denom = xp.where(denom > 0, denom, xp.full_like(denom, xp.inf))
    w = xp.zeros_like(q.Xty)
    target = stop_target(q, l1, tol)
    for sweep in range(1, max_iter + 1):
        # G @ w, updated after each coordinate; recomputed every sweep (O(p^2), like the
        # sweep) so that float32 rounding in the updates does not accumulate.
        gw = gram @ w
        for j in range(w.shape[0]):
            rho = q.Xty[j] - gw[j] + diag[j] * w[j]
            new = soft_threshold(rho, l1, xp) / denom[j]
            # The change is taken before the write: CuPy's w[j] is a view, not a copy.
            delta = new - w[j]
            w[j] = new
            gw += gram[j] * delta  # G is symmetric: row j is column j
        if bool(stop_criterion(q, w, l1, l2) <= target):
            return w, sweep, True
    return w, max_iter, False


class ElasticNet(LinearModelMixin):
    """Elastic-net regression, like ``sklearn.linear_model.ElasticNet``.

    Parameters
    ----------
    alpha : float
        Penalty strength (>= 0).
    l1_ratio : float
        Share of the L1 term, in [0, 1]: 1 is the lasso, 0 ridge.
    fit_intercept : bool
    max_iter : int
        Sweeps over the features (``"cd"``) or proximal-gradient steps (``"fista"``).
    tol : float
        Stop when the duality gap is below ``tol * y.y`` (centred, weighted ``y``); without
        an L1 term, when ``||gradient|| <= tol ||X^T y||``.
    solver : {"auto", "cd", "fista"}
        ``"cd"``: coordinate descent (sequential over features); ``"fista"``: accelerated
        proximal gradient with adaptive restart, full-matrix products; ``"auto"``: FISTA.

    Attributes
    ----------
    coef_ : array (n_features,), intercept_ : 0-d array
        On X's device, in X's floating dtype.
    n_iter_ : int
    dual_gap_ : 0-d array
        Duality gap at the solution, in the objective's scaling (divided by n_samples).
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model._coordinate import ElasticNet
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> model = ElasticNet(alpha=0.1, l1_ratio=0.7).fit(X, X @ np.array([2.0, 0.0]))
    >>> np.round(model.coef_, 3)
    array([1.898, 0.   ])
    """

    def __init__(
        self,
        alpha: float = 1.0,
        l1_ratio: float = 0.5,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        solver: str = "auto",
    ):
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _ratio(self) -> float:
        ratio = check_number(self.l1_ratio, "l1_ratio")
        if ratio > 1:
            raise ValueError(f"`l1_ratio` must be in [0, 1]; got {self.l1_ratio!r}")
        return ratio

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> ElasticNet:
        """Fit the penalised problem; returns self.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
        y : array, shape (n_samples,)
        sample_weight : array, shape (n_samples,), optional
            Non-negative; rescaled to sum to ``n_samples`` (scikit-learn's semantics).
        """
        alpha = check_number(self.alpha, "alpha")
        ratio = self._ratio()
        max_iter = check_positive_int(self.max_iter, "max_iter")
        tol = check_number(self.tol, "tol")
        check_choice(self.solver, "solver", SOLVERS)
        check_y_given(self, y)
        Xw, yw, x_mean, y_mean, xp = prepare(
            X, y, sample_weight, self.fit_intercept, normalize_weights=True
        )
        n = Xw.shape[0]
        # scikit-learn's unnormalised form: 1/2||R||^2 + n alpha (rho ||w||_1 + (1-rho)/2 ||w||^2)
        l1, l2 = n * alpha * ratio, n * alpha * (1 - ratio)
        q = Quadratic(Xw, yw, xp)
        solve = coordinate_descent if self.solver == "cd" else fista
        coef, self.n_iter_, converged = solve(q, l1=l1, l2=l2, tol=tol, max_iter=max_iter)
        if not converged:
            warn_not_converged(self, max_iter)
        self.dual_gap_ = duality_gap(q, coef, l1, l2) / n
        set_fitted(self, coef, x_mean, y_mean, xp)
        return self


class Lasso(ElasticNet):
    """L1-penalised least squares, like ``sklearn.linear_model.Lasso``: :class:`ElasticNet`
    with ``l1_ratio=1``, minimising ``1/(2n) ||y - Xw - b||^2 + alpha ||w||_1``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model._coordinate import Lasso
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> np.round(Lasso(alpha=0.1).fit(X, X @ np.array([2.0, 0.0])).coef_, 3)
    array([1.92, 0.  ])
    """

    def __init__(
        self,
        alpha: float = 1.0,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float = 1e-4,
        solver: str = "auto",
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.solver = solver

    def _ratio(self) -> float:
        return 1.0
