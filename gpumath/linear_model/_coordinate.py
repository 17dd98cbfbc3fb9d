"""L1 and elastic-net penalised least squares: ``Lasso`` and ``ElasticNet`` (scikit-learn's
objective and stopping rule), by coordinate descent or FISTA.

Objective, with sample weights rescaled to sum to ``n_samples`` as scikit-learn does::

    1/(2 n) sum_i sw_i (y_i - x_i w - b)^2 + alpha l1_ratio ||w||_1
        + alpha (1 - l1_ratio) / 2 ||w||^2

Both solvers stop when the duality gap falls below ``tol * y.y`` (scikit-learn's rule).
Coordinate descent updates one feature at a time: it forms the Gram matrix where X lives
and runs its sweeps on the host (a chain of scalar updates, which on a GPU would be several
kernel launches each), and is what ``solver="auto"`` picks for tall X. FISTA moves every
coefficient at once through Gram-matrix (or ``X``) products on X's device; ``"auto"`` picks
it for wide X, where the Gram matrix would be the larger one.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import linalg
from .._backend import asarray, device_of, to_numpy
from ._base import check_y_given
from ._least_squares import (
    LinearModelMixin,
    Quadratic,
    check_choice,
    check_number,
    check_positive_int,
    duality_gap,
    face_step,
    fista,
    improves,
    prepare,
    set_fitted,
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
    the residual, so one update costs O(n_features). The Gram matrix is formed where the
    data lives (the O(n p^2) part); the sweeps, a chain of scalar updates each depending on
    the last, run on the host: one copy of ``G`` down and of ``w`` back up, no device
    synchronisation per coordinate or per sweep (on a GPU each update would be several
    kernel launches). The stopping rule is :func:`fista`'s (the duality gap), tested as
    :func:`_sweeps` says.

    Returns ``(w, n_sweeps, converged)``, ``w`` on the device of ``q``.
    """
    gram = q.gram if q.gram is not None else q.X.T @ q.X
    G, b = to_numpy(gram), to_numpy(q.Xty)
    host = Quadratic.from_gram(G, b, to_numpy(q.yy), np)
    w, sweeps, converged = _sweeps(host, l1=l1, l2=l2, tol=tol, max_iter=max_iter)
    return asarray(w, device=device_of(q.Xty)), sweeps, converged


def _sweeps(
    q: Quadratic, *, l1: float, l2: float, tol: float, max_iter: int
) -> tuple[np.ndarray, int, bool]:
    """The sweeps of :func:`coordinate_descent` on host arrays (``q`` holds NumPy arrays).

    Scalars are Python floats (a NumPy scalar operation costs several times more), ``G w``
    is updated only when a coefficient moves (in a lasso most stay at 0), and recomputed
    every sweep so that float32 rounding in the updates does not accumulate. As in
    scikit-learn, the duality gap is computed only after a sweep whose largest update is at
    most ``tol`` times the largest coefficient (or at ``max_iter``): the gap is what stops,
    the cheap test only saves computing it after sweeps that still move a lot.

    Once a sweep leaves the signs of ``w`` as the sweep before did, an active-set step
    (:func:`face_step`: one linear solve on that sign pattern) moves ``w`` to a point at
    least as good; when the pattern is the optimal one that point is the optimum, its
    duality gap is at rounding level and the fit stops there. This replaces the slow tail
    of the sweeps (hundreds on correlated data) by one solve; the duality-gap rule still
    decides when to stop.
    """
    G, dtype = q.gram, q.gram.dtype
    G64, b64 = G.astype(np.float64), q.Xty.astype(np.float64)
    diag = np.diagonal(G).tolist()
    b = q.Xty.tolist()
    # A zero column with no L2 term has no curvature: its coefficient stays 0.
    inv = [1.0 / (d + l2) if d + l2 > 0 else 0.0 for d in diag]
    p = len(b)
    coef = [0.0] * p
    w = np.zeros(p, dtype=dtype)
    target = stop_target(q, l1, tol)
    previous = tried = None
    for sweep in range(1, max_iter + 1):
        gw = G @ w
        largest_move = 0.0
        for j in range(p):
            old = coef[j]
            rho = b[j] - gw.item(j) + diag[j] * old
            new = (rho - l1 if rho > l1 else rho + l1 if rho < -l1 else 0.0) * inv[j]
            if new != old:
                coef[j] = new
                gw += G[j] * (new - old)  # G is symmetric: row j is column j
                largest_move = max(largest_move, abs(new - old))
        w = np.asarray(coef, dtype=dtype)
        signs = np.sign(w)
        A = np.flatnonzero(signs)
        if A.size and np.array_equal(signs, previous) and not np.array_equal(signs, tried):
            tried = signs  # the same pattern gives the same solve: try each one once
            # On the support only (the face step's identity rows are the rest), in float64:
            # the host has it, and the solve's accuracy is the step's.
            try:
                jump = face_step(G64[np.ix_(A, A)], b64[A], w[A].astype(np.float64), l1, l2, np)
            except linalg.LinAlgError:  # a singular face: the sweeps carry on
                jump = None
            candidate = np.zeros_like(w)
            if jump is not None:
                candidate[A] = jump
            if jump is not None and improves(q, candidate, w, l1, l2):
                w = candidate
                coef = w.tolist()
                reached = np.array_equal(np.sign(w), signs)  # else a coefficient hit 0
                if reached and stop_criterion(q, w, l1, l2) <= target:
                    return w, sweep, True
                signs = np.sign(w)
        previous = signs
        largest = max(map(abs, coef))
        if largest_move <= tol * largest or sweep == max_iter:
            if stop_criterion(q, w, l1, l2) <= target:
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
        ``"cd"``: coordinate descent (sequential over features, on the host, from the Gram
        matrix formed on X's device); ``"fista"``: accelerated proximal gradient with
        adaptive restart, full-matrix products on X's device; ``"auto"``: ``"cd"`` when
        ``n_samples >= n_features``, else ``"fista"``. Both finish with active-set steps
        (one linear solve on a stable sign pattern).

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
        tall = q.gram is not None
        solve = (
            coordinate_descent
            if self.solver == "cd" or (self.solver, tall) == ("auto", True)
            else fista
        )
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
