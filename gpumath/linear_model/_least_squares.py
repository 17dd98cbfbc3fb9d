"""Least squares: ``LinearRegression`` and ``Ridge`` (scikit-learn's API), and the shared core
of the least-squares family: centring, sample weights, prediction, R^2 and an accelerated
proximal-gradient solver that ``Lasso``/``ElasticNet`` reuse.

Every solver works on the centred, weight-scaled problem ``min ||sqrt(sw) (y - X w)||^2 +
alpha ||w||^2``; the intercept is recovered from the weighted means afterwards, as in
scikit-learn. Solvers reach LAPACK/cuSOLVER through :mod:`gpumath.linalg` and BLAS/cuBLAS
through array products, so the same code runs on NumPy and CuPy arrays (DESIGN.md §4).
"""

from __future__ import annotations

import functools
import warnings
from typing import Any

import numpy as np

from .. import linalg
from .._xp import sign
from ._base import (
    BaseEstimator,
    ConvergenceWarning,
    check_is_fitted,
    check_n_features,
    check_sample_weight,
    check_y_given,
    validate_data,
)

__all__ = ["LinearRegression", "Ridge"]

# The gradient-norm / duality-gap test runs every this many iterations: one host
# synchronisation per check, none in between (DESIGN.md §4).
CHECK_EVERY = 10
# "auto" trusts the normal equations when cond(X^T X) * eps stays below this (the forward
# error of a Cholesky solve); otherwise it falls back to the SVD.
_NORMAL_EQUATIONS_ERROR = 1e-4


class LinearModelMixin(BaseEstimator):
    """Prediction, R^2 score and scikit-learn tags shared by the least-squares regressors."""

    _estimator_type = "regressor"

    def _check_X(self, X: Any) -> tuple[Any, Any]:
        check_is_fitted(self, "coef_")
        X, _, _, xp = validate_data(X)
        check_n_features(self, X)
        return X, xp

    def predict(self, X: Any) -> Any:
        """Predict ``X @ coef_ + intercept_`` on X's device, in X's floating dtype.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)

        Returns
        -------
        array, shape (n_samples,)
        """
        X, xp = self._check_X(X)
        return X @ xp.astype(self.coef_, X.dtype) + xp.astype(self.intercept_, X.dtype)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Coefficient of determination R^2 of ``predict(X)`` against ``y`` (weighted).

        Returns a Python float (one host synchronisation), as scikit-learn's scorers expect.
        """
        pred = self.predict(X)
        _, y, sw, xp = validate_data(X, y, sample_weight=sample_weight)
        sw = xp.ones_like(y) if sw is None else sw
        y = xp.astype(y, pred.dtype)
        mean = xp.sum(sw * y) / xp.sum(sw)
        ss_res = float(xp.sum(sw * (y - pred) ** 2))
        ss_tot = float(xp.sum(sw * (y - mean) ** 2))
        if ss_tot == 0.0:  # scikit-learn's r2_score convention for a constant target
            return 1.0 if ss_res == 0.0 else 0.0
        return 1.0 - ss_res / ss_tot


def check_choice(value: Any, name: str, choices: tuple[str, ...]) -> None:
    """ValueError unless ``value`` is one of ``choices``."""
    if value not in choices:
        raise ValueError(f"`{name}` must be one of {choices}; got {value!r}")


def check_positive_int(value: Any, name: str) -> int:
    """A positive integer (bools rejected), returned as an int."""
    if isinstance(value, bool) or not isinstance(value, int | np.integer) or value < 1:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}")
    return int(value)


def check_number(value: Any, name: str, *, low: float = 0.0, strict: bool = False) -> float:
    """A real number ``>= low`` (``> low`` when ``strict``), returned as a float."""
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"`{name}` must be a real number; got {value!r}")
    bad = value <= low if strict else value < low
    if bad or not np.isfinite(value):
        raise ValueError(f"`{name}` must be {'>' if strict else '>='} {low}; got {value!r}")
    return float(value)


def prepare(
    X: Any, y: Any, sample_weight: Any, fit_intercept: bool, *, normalize_weights: bool = False
) -> tuple[Any, Any, Any, Any, Any]:
    """Validate, centre (weighted means) and scale rows by ``sqrt(sample_weight)``.

    Returns ``(Xw, yw, x_mean, y_mean, xp)``. With ``normalize_weights`` the weights are
    rescaled to sum to ``n_samples`` first (scikit-learn's Lasso/ElasticNet semantics).
    """
    X, y, sw, xp = validate_data(X, y, sample_weight=sample_weight)
    check_sample_weight(sw, xp)
    if sw is not None and normalize_weights:
        sw = sw * (X.shape[0] / xp.sum(sw))
    if fit_intercept:
        total = X.shape[0] if sw is None else xp.sum(sw)
        x_mean = (xp.sum(X, axis=0) if sw is None else sw @ X) / total
        y_mean = xp.sum(y if sw is None else sw * y) / total
        X, y = X - x_mean, y - y_mean
    else:
        x_mean, y_mean = xp.zeros_like(X[0]), xp.zeros_like(y[0])
    if sw is not None:
        root = xp.sqrt(sw)
        X, y = X * root[:, None], y * root
    return X, y, x_mean, y_mean, xp


def set_fitted(est: Any, coef: Any, x_mean: Any, y_mean: Any, xp: Any) -> None:
    """Store ``coef_``, ``intercept_`` (0-d, on the device) and ``n_features_in_``."""
    est.coef_ = coef
    est.intercept_ = y_mean - xp.sum(x_mean * coef) if est.fit_intercept else y_mean
    est.n_features_in_ = int(coef.shape[0])


# ----------------------------------------------------------------------------- direct solvers


def _add_diagonal(a: Any, value: float, xp: Any) -> Any:
    return a + value * xp.eye(a.shape[0], dtype=a.dtype, device=a.device) if value else a


def _cholesky_solve(a: Any, b: Any) -> tuple[Any, Any]:
    """Solve ``a x = b`` for symmetric positive definite ``a``; also return the factor."""
    factor = linalg.cholesky(a)
    return linalg.solve(factor.T, linalg.solve(factor, b)), factor


def solve_cholesky(X: Any, y: Any, alpha: float, xp: Any, *, check_cond: bool = False) -> Any:
    """Normal equations ``(X^T X + alpha I) w = X^T y`` (the dual ``X X^T`` form when wide).

    With ``check_cond`` returns None when the Cholesky factor shows ``cond * eps`` above
    ``_NORMAL_EQUATIONS_ERROR`` (one host synchronisation), so the caller can use the SVD.
    """
    n, p = X.shape
    if p <= n:
        w, factor = _cholesky_solve(_add_diagonal(X.T @ X, alpha, xp), X.T @ y)
    else:
        dual, factor = _cholesky_solve(_add_diagonal(X @ X.T, alpha, xp), y)
        w = X.T @ dual
    if check_cond:
        d = xp.abs(xp.linalg.diagonal(factor))
        cond = float((xp.max(d) / xp.min(d)) ** 2)
        if not cond * np.finfo(np.dtype(X.dtype)).eps < _NORMAL_EQUATIONS_ERROR:
            return None
    return w


def solve_svd(X: Any, y: Any, alpha: float, xp: Any) -> Any:
    """``w = V diag(s / (s^2 + alpha)) U^T y``; minimum-norm least squares when alpha is 0."""
    if alpha == 0:
        return linalg.lstsq(X, y)[0]
    u, s, vt = linalg.svd(X, full_matrices=False)
    return vt.T @ ((s / (s * s + alpha)) * (u.T @ y))


def solve_qr(X: Any, y: Any, alpha: float, xp: Any) -> Any:
    """Householder QR of ``[X; sqrt(alpha) I]``; assumes full column rank.

    A wide unpenalised problem is rank deficient (more so once centred), where QR gives no
    minimum-norm solution: it goes to the SVD.
    """
    n, p = X.shape
    if alpha:
        X = xp.concat([X, alpha**0.5 * xp.eye(p, dtype=X.dtype, device=X.device)])
        y = xp.concat([y, xp.zeros(p, dtype=y.dtype, device=y.device)])
    elif p > n:
        return solve_svd(X, y, alpha, xp)
    q, r = linalg.qr(X)
    return linalg.solve(r, q.T @ y)


# ----------------------------------------------------------------------------- iterative solver


def soft_threshold(v: Any, t: Any, xp: Any) -> Any:
    """``sign(v) * max(|v| - t, 0)``, the proximal map of ``t ||.||_1`` (``t >= 0``; an
    array ``t`` thresholds each entry by its own), as ``v - clip(v, -t, t)``: three
    elementwise operations for a scalar ``t``."""
    return v - xp.minimum(xp.maximum(v, -t), t)


class Quadratic:
    """``1/2 ||y - X w||^2`` through the Gram matrix when ``X`` is tall, else through ``X``."""

    def __init__(self, X: Any, y: Any, xp: Any):
        self.xp, self.X, self.y = xp, X, y
        self.gram = X.T @ X if X.shape[1] <= X.shape[0] else None
        self.Xty = X.T @ y
        self.yy = xp.sum(y * y)

    @classmethod
    def from_gram(cls, gram: Any, Xty: Any, yy: Any, xp: Any) -> Quadratic:
        """The same quadratic from ``X^T X``, ``X^T y`` and ``y.y`` alone (no ``X``)."""
        q = cls.__new__(cls)
        q.xp, q.X, q.y, q.gram, q.Xty, q.yy = xp, None, None, gram, Xty, yy
        return q

    @functools.cached_property
    def lipschitz(self) -> Any:
        """Largest eigenvalue of ``X^T X`` (from the smaller of the two Gram matrices)."""
        small = self.gram if self.gram is not None else self.X @ self.X.T
        return linalg.eigvalsh(small)[-1]

    def Xt_residual(self, w: Any) -> Any:
        """``X^T (y - X w)``."""
        if self.gram is not None:
            return self.Xty - self.gram @ w
        return self.X.T @ (self.y - self.X @ w)

    def residual_terms(self, w: Any) -> tuple[Any, Any, Any]:
        """``X^T R``, ``R.R`` and ``R.y`` for the residual ``R = y - X w``."""
        xp = self.xp
        if self.gram is not None:
            xtr = self.Xty - self.gram @ w
            ry = self.yy - xp.sum(w * self.Xty)
            return xtr, ry - xp.sum(w * xtr), ry
        r = self.y - self.X @ w
        return self.X.T @ r, xp.sum(r * r), xp.sum(r * self.y)


def duality_gap(q: Quadratic, w: Any, l1: float, l2: float) -> Any:
    """Gap of ``1/2||R||^2 + l1 ||w||_1 + l2/2 ||w||^2`` at a scaled residual dual point
    (scikit-learn's ``enet_coordinate_descent`` rule), as a 0-d device array."""
    xp = q.xp
    xtr, rr, ry = q.residual_terms(w)
    dual_norm = xp.max(xp.abs(xtr - l2 * w))
    one = xp.ones_like(dual_norm)
    scaled = dual_norm > l1  # then shrink the residual into the dual feasible set
    const = xp.where(scaled, l1 / xp.where(scaled, dual_norm, one), one)
    gap = xp.where(scaled, 0.5 * rr * (1 + const * const), rr)
    ww = xp.sum(w * w)
    return gap + l1 * xp.sum(xp.abs(w)) - const * ry + 0.5 * l2 * (1 + const * const) * ww


def face_step(gram: Any, Xty: Any, w: Any, l1: float, l2: float, xp: Any) -> Any:
    """An active-set step from ``w`` on ``1/2 w.G.w - w.X^T y + l1 ||w||_1 + l2/2 ||w||^2``.

    On the face of ``w``'s sign pattern (zeros held at 0) the objective is a convex
    quadratic whose minimiser ``v`` solves ``(G_AA + l2 I) v_A = (X^T y - l1 s)_A`` on the
    support ``A`` (one fixed-shape ``(p, p)`` solve with identity rows off ``A``, so no
    data-dependent shapes reach the device). Every point of the segment from ``w`` to ``v``
    inside the face is at least as good as ``w``: the step goes to ``v``, or stops where the
    first coefficient reaches 0 and sets it to 0. At the optimum's pattern ``v`` is the
    optimum, to the accuracy of the solve. Raises LinAlgError for a singular face.
    """
    signs = sign(w, xp)
    m = xp.astype(signs != 0, gram.dtype)
    eye = xp.eye(gram.shape[0], dtype=gram.dtype, device=gram.device)
    H = gram * (m[:, None] * m[None, :]) + eye * (l2 * m + (1 - m))
    v = linalg.solve(H, m * (Xty - l1 * signs))
    crossing = (m > 0) & (signs * v <= 0)  # these would leave the face before v
    ratios = xp.where(
        crossing, w / xp.where(crossing, w - v, xp.ones_like(w)), xp.full_like(w, xp.inf)
    )
    t = xp.minimum(xp.min(ratios), xp.ones_like(ratios[0]))
    new = w + t * (v - w)
    return xp.where(crossing & (ratios == t), xp.zeros_like(w), new)


def objective(q: Quadratic, w: Any, l1: float, l2: float) -> Any:
    """``1/2 w.G.w - w.X^T y + l1 ||w||_1 + l2/2 ||w||^2`` (the objective less ``y.y / 2``),
    from the Gram matrix, as a 0-d array."""
    xp = q.xp
    quad = w @ (0.5 * (q.gram @ w) - q.Xty)  # @, not vecdot: CuPy has no native vecdot
    return quad + l1 * xp.sum(xp.abs(w)) + 0.5 * l2 * (w @ w)


def improves(q: Quadratic, new: Any, w: Any, l1: float, l2: float) -> bool:
    """Whether ``new`` is finite and no worse than ``w`` (one host read): guards a face step
    against a nearly singular solve, which CuPy answers without an error."""
    xp = q.xp
    ok = xp.all(xp.isfinite(new)) & (objective(q, new, l1, l2) <= objective(q, w, l1, l2))
    return bool(ok)


def fista(
    q: Quadratic, *, l1: float, l2: float, tol: float, max_iter: int
) -> tuple[Any, int, bool]:
    """Minimise ``1/2||y - Xw||^2 + l1 ||w||_1 + l2/2 ||w||^2`` by FISTA with adaptive
    restart (O'Donoghue & Candes 2015), step ``1 / (lambda_max(X^T X) + l2)``.

    Momentum ``k / (k + 3)`` after ``k`` steps since the last restart (Chambolle & Dossal's
    form of FISTA's sequence); a restart (the step goes against the momentum) sets ``k``
    back to 0. Stops when the duality gap is below ``tol * y.y`` (``l1 > 0``;
    scikit-learn's rule) or, without an L1 term, when ``||gradient|| <= tol ||X^T y||``;
    the test runs every ``CHECK_EVERY`` iterations. Momentum and restart stay on the device.

    With an L1 term and the Gram matrix at hand, a test that finds the sign pattern of
    ``w`` unchanged since the last one also takes a :func:`face_step` (once per pattern):
    FISTA finds the support long before it converges on it. The step's point restarts the
    momentum, and is returned at once when it meets the gap rule.

    Returns ``(w, n_iter, converged)``.
    """
    xp = q.xp
    step = 1 / (q.lipschitz + l2)
    w = xp.zeros_like(q.Xty)
    z, zero = w, xp.zeros_like(step)
    k = zero
    target = stop_target(q, l1, tol)
    # A face step's (p, p) solve costs about p/3 iterations: worth it below a few thousand.
    finish = l1 > 0 and q.gram is not None and q.gram.shape[0] <= 2048
    previous = tried = None
    if q.gram is not None and l1 > 0:
        # The gradient step z + step (X^T y - G z - l2 z) as one product: A z + c. On small
        # problems each array call's overhead is the cost, so the loop keeps them few. Not
        # without L1: the gradient-norm test then needs the residual X^T y - G z formed
        # explicitly (A z + c loses it to cancellation in float32).
        eye = xp.eye(q.gram.shape[0], dtype=q.gram.dtype, device=q.gram.device)
        A, c = eye - step * (q.gram + l2 * eye), step * q.Xty

        def forward(z: Any) -> Any:
            return A @ z + c
    else:

        def forward(z: Any) -> Any:
            return z + step * (q.Xt_residual(z) - l2 * z if l2 else q.Xt_residual(z))

    threshold = step * l1
    for it in range(1, max_iter + 1):
        w_new = forward(z)
        if l1 > 0:
            w_new = soft_threshold(w_new, threshold, xp)
        move = w_new - w
        k = xp.where((z - w_new) @ move > 0, zero, k + 1)
        z = w_new + (k / (k + 3)) * move
        w = w_new
        if it % CHECK_EVERY == 0 or it == max_iter:
            if bool(stop_criterion(q, w, l1, l2) <= target):
                return w, it, True
            if finish:
                signs = sign(w, xp)
                if previous is not None and _same_new_pattern(signs, previous, tried, xp):
                    tried = signs
                    try:
                        new = face_step(q.gram, q.Xty, w, l1, l2, xp)
                    except linalg.LinAlgError:  # a singular face: FISTA carries on
                        new = None
                    if new is not None and improves(q, new, w, l1, l2):
                        w = z = new
                        k = zero
                        if bool(stop_criterion(q, w, l1, l2) <= target):
                            return w, it, True
                        signs = sign(w, xp)
                previous = signs
    return w, max_iter, False


def _same_new_pattern(signs: Any, previous: Any, tried: Any, xp: Any) -> bool:
    """Whether ``signs`` equals ``previous`` and differs from ``tried`` (one host read)."""
    same = xp.all(signs == previous)
    if tried is not None:
        same = same & xp.any(signs != tried)
    return bool(same)


def stop_target(q: Quadratic, l1: float, tol: float) -> Any:
    """Threshold of :func:`stop_criterion`: ``tol * y.y`` with L1, else ``tol ||X^T y||``."""
    return tol * q.yy if l1 > 0 else tol * q.xp.sqrt(q.xp.sum(q.Xty * q.Xty))


def stop_criterion(q: Quadratic, w: Any, l1: float, l2: float) -> Any:
    """Duality gap with an L1 term, else the norm of the gradient."""
    if l1 > 0:
        return duality_gap(q, w, l1, l2)
    g = q.Xt_residual(w) - l2 * w
    return q.xp.sqrt(q.xp.sum(g * g))


def warn_not_converged(est: Any, max_iter: int) -> None:
    """ConvergenceWarning naming the estimator and the limit reached."""
    warnings.warn(
        f"{type(est).__name__} did not converge in max_iter={max_iter} iterations; increase "
        "`max_iter`, loosen `tol` or standardise X",
        ConvergenceWarning,
        stacklevel=3,
    )


# ----------------------------------------------------------------------------- estimators

_DIRECT = {"cholesky": solve_cholesky, "svd": solve_svd, "lstsq": solve_svd, "qr": solve_qr}


class _LeastSquares(LinearModelMixin):
    """Shared ``fit`` of LinearRegression and Ridge: penalty ``alpha ||w||^2``."""

    _solvers: tuple[str, ...] = ()

    def _fit(self, X: Any, y: Any, sample_weight: Any, alpha: float) -> Any:
        if type(X).__module__.startswith("dask."):  # tall dask X: merged normal equations
            if sample_weight is not None or self.solver not in ("auto", "cholesky"):
                raise ValueError(
                    "dask inputs are fitted by the normal equations: `sample_weight` must be "
                    f"None and `solver` 'auto' or 'cholesky'; got solver={self.solver!r}"
                )
            from ..distributed import fit_linear

            return fit_linear(self, X, y)
        check_choice(self.solver, "solver", self._solvers)
        max_iter = check_positive_int(self.max_iter, "max_iter")
        tol = check_number(self.tol, "tol")
        check_y_given(self, y)
        Xw, yw, x_mean, y_mean, xp = prepare(X, y, sample_weight, self.fit_intercept)
        self.n_iter_ = None
        if self.solver == "gd":
            # 1/2 ||r||^2 + alpha/2 ||w||^2 has the same minimiser with l2 = alpha.
            coef, self.n_iter_, converged = fista(
                Quadratic(Xw, yw, xp), l1=0.0, l2=alpha, tol=tol, max_iter=max_iter
            )
            if not converged:
                warn_not_converged(self, max_iter)
        elif self.solver == "auto":
            coef = None
            if Xw.shape[1] <= Xw.shape[0] or alpha > 0:
                try:
                    coef = solve_cholesky(Xw, yw, alpha, xp, check_cond=True)
                except linalg.LinAlgError:  # not positive definite: the SVD copes
                    coef = None
            if coef is None:
                coef = solve_svd(Xw, yw, alpha, xp)
        elif self.solver == "cholesky":
            try:
                coef = solve_cholesky(Xw, yw, alpha, xp)
            except linalg.LinAlgError:
                warnings.warn(
                    "X^T X is singular or not positive definite: using the SVD (least-squares "
                    "solution) instead of Cholesky",
                    RuntimeWarning,
                    stacklevel=3,
                )
                coef = solve_svd(Xw, yw, alpha, xp)
        else:
            coef = _DIRECT[self.solver](Xw, yw, alpha, xp)
        set_fitted(self, coef, x_mean, y_mean, xp)
        return self


class LinearRegression(_LeastSquares):
    """Ordinary (weighted) least squares, like ``sklearn.linear_model.LinearRegression``.

    Parameters
    ----------
    fit_intercept : bool
        Fit an intercept (X and y are centred by their weighted means).
    solver : {"auto", "lstsq", "cholesky", "qr", "gd"}
        ``"lstsq"``: SVD, minimum-norm solution (scikit-learn's); ``"cholesky"``: normal
        equations; ``"qr"``: Householder QR; ``"gd"``: accelerated gradient descent;
        ``"auto"``: Cholesky when its condition estimate allows, else ``"lstsq"``.
    tol, max_iter : float, int
        Stopping rule of ``"gd"``: ``||X^T (y - Xw)|| <= tol ||X^T y||``.

    Attributes
    ----------
    coef_ : array (n_features,), intercept_ : 0-d array
        On X's device, in X's floating dtype.
    n_iter_ : int or None
        Iterations of ``"gd"``; None for the direct solvers.
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model._least_squares import LinearRegression
    >>> X = np.array([[0.0, 1.0], [1.0, 0.0], [2.0, 2.0], [3.0, 1.0]])
    >>> model = LinearRegression().fit(X, X @ np.array([2.0, -1.0]) + 0.5)
    >>> np.round(model.coef_, 6), round(float(model.intercept_), 6)
    (array([ 2., -1.]), 0.5)
    """

    _solvers = ("auto", "lstsq", "cholesky", "qr", "gd")

    def __init__(
        self,
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-6,
        max_iter: int = 10000,
    ):
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LinearRegression:
        """Fit by minimising ``sum_i sw_i (y_i - x_i w - b)^2``; returns self."""
        return self._fit(X, y, sample_weight, 0.0)


class Ridge(_LeastSquares):
    """L2-penalised least squares, like ``sklearn.linear_model.Ridge`` (one target).

    Minimises ``sum_i sw_i (y_i - x_i w - b)^2 + alpha ||w||^2``.

    Parameters
    ----------
    alpha : float
        Penalty strength (>= 0).
    fit_intercept : bool
    solver : {"auto", "cholesky", "svd", "qr", "gd"}
        ``"auto"`` is Cholesky (the ``X X^T`` dual when wide), falling back to the SVD.
    tol, max_iter : float, int
        Stopping rule of ``"gd"`` (see :class:`LinearRegression`).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model._least_squares import Ridge
    >>> X = np.array([[1.0], [2.0], [3.0]])
    >>> round(float(Ridge(alpha=2.0, fit_intercept=False).fit(X, 2 * X[:, 0]).coef_[0]), 6)
    1.75
    """

    _solvers = ("auto", "cholesky", "svd", "qr", "gd")

    def __init__(
        self,
        alpha: float = 1.0,
        fit_intercept: bool = True,
        solver: str = "auto",
        tol: float = 1e-6,
        max_iter: int = 10000,
    ):
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Ridge:
        """Fit the penalised weighted least-squares problem; returns self."""
        return self._fit(X, y, sample_weight, check_number(self.alpha, "alpha"))
