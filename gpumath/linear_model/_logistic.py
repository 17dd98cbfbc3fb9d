"""Logistic regression, binary and multinomial, with scikit-learn's objective and API.

The objective is scikit-learn's (>= 1.8)::

    sum_i s_i loss_i + (1 - l1_ratio) / (2 C W) ||coef||^2 + l1_ratio / (C W) ||coef||_1

with ``s_i = w_i / W`` the normalised sample weights (``W = sum w_i``, ``n`` unweighted),
the intercept unpenalised, ``loss_i`` the binary cross-entropy or the softmax cross-entropy.
The gradient is analytic, ``X^T (s (p - y)) + penalty``: two reads of ``X`` per evaluation.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
from array_api_compat import device as _device

from .. import linalg, nn, optim
from .._backend import array_namespace, to_numpy
from ._base import (
    BaseEstimator,
    ConvergenceWarning,
    _as_array,
    check_is_fitted,
    check_n_features,
    check_sample_weight,
    check_y_given,
    validate_data,
    weighted_gram,
)
from ._least_squares import soft_threshold

__all__ = ["LogisticRegression"]

_SOLVERS = ("auto", "lbfgs", "newton", "proximal", "gd", "adam")
_PENALTIES = ("deprecated", "l2", "l1", "elasticnet", None)


class _Objective:
    """Smooth part of the objective on a flat parameter vector laid out as ``(K, p)``.

    Row ``k`` holds class ``k``'s coefficients then (with an intercept) its intercept;
    ``K = 1`` for the binary model, whose one row scores the second class.
    """

    def __init__(self, X: Any, Y: Any, s: Any, lam: float, K: int, intercept: bool, xp: Any):
        self.X, self.Y, self.s, self.lam, self.K = X, Y, s, lam, K
        self.intercept, self.xp = intercept, xp
        self.d = X.shape[1]
        self.p = self.d + int(intercept)
        # 1 on penalised entries (coefficients), 0 on intercepts.
        mask = xp.ones((K, self.p), dtype=X.dtype, device=_device(X))
        if intercept:
            mask[:, -1] = 0.0
        self.mask = xp.reshape(mask, (-1,))

    def scores(self, theta: Any) -> Any:
        """``X W^T + b``, shape (n, K)."""
        T = self.xp.reshape(theta, (self.K, self.p))
        Z = self.X @ self.xp.matrix_transpose(T[:, : self.d])
        return Z + T[:, self.d] if self.intercept else Z

    def value_grad(self, theta: Any) -> tuple[Any, Any]:
        xp, s = self.xp, self.s
        penalised = theta * self.mask
        penalty = 0.5 * self.lam * (penalised @ penalised)
        if self.K == 1:
            # Matrix-vector products (gemv) for the two reads of X: the binary model's cost.
            z = self.X @ theta[: self.d]
            if self.intercept:
                z = z + theta[self.d]
            # softplus(z) and sigmoid(z) from one exp(-|z|) (it never overflows), on plain
            # arrays: gpumath.nn wraps every call for autodiff, which costs here.
            e = xp.exp(-xp.abs(z))
            loss = s @ (xp.maximum(z, xp.zeros_like(z)) + xp.log1p(e) - self.Y * z)
            r = s * (xp.where(z >= 0, xp.ones_like(e), e) / (1.0 + e) - self.Y)
            g = r @ self.X
            if self.intercept:
                g = xp.concat([g, xp.sum(r)[None]])
            return loss + penalty, g + self.lam * penalised
        Z = self.scores(theta)
        # One exp over (n, K): softmax and log-sum-exp from the same shifted exponentials.
        M = xp.max(Z, axis=1, keepdims=True)
        E = xp.exp(Z - M)
        total = xp.sum(E, axis=1, keepdims=True)
        lse = M[:, 0] + xp.log(total[:, 0])
        # Row sums, not vecdot: CuPy has no vecdot and array-api-compat's makes n tiny matmuls.
        loss = s @ (lse - xp.sum(self.Y * Z, axis=1))
        R = s[:, None] * (E / total - self.Y)
        G = xp.matrix_transpose(R) @ self.X  # (K, d): the second read of X
        if self.intercept:
            G = xp.concat([G, xp.sum(R, axis=0)[:, None]], axis=1)
        return loss + penalty, xp.reshape(G, (-1,)) + self.lam * penalised

    def hessian(self, theta: Any) -> Any:
        """Exact Hessian, ``(K p, K p)``, for the Newton solver."""
        xp = self.xp
        Z = self.scores(theta)
        Xa = self.X
        if self.intercept:
            Xa = xp.concat([Xa, xp.ones((Xa.shape[0], 1), dtype=Xa.dtype, device=_device(Xa))], 1)
        if self.K == 1:
            P = nn.sigmoid(Z)
            H = weighted_gram(Xa, self.s * P[:, 0] * (1.0 - P[:, 0]), xp)
        else:
            # Block (k, j) is X^T diag(s p_k (delta_kj - p_j)) X, and block (j, k) is its
            # transpose: the products (each O(n p^2), the Hessian's cost) run for j >= k only.
            # Off the diagonal the weights are <= 0: minus the Gram of their magnitudes.
            P = nn.softmax(Z, axis=1)
            K = self.K
            upper = {
                (k, j): weighted_gram(Xa, self.s * P[:, k] * (1.0 - P[:, k]), xp)
                if k == j
                else -weighted_gram(Xa, self.s * P[:, k] * P[:, j], xp)
                for k in range(K)
                for j in range(k, K)
            }
            rows = [
                [upper[k, j] if j >= k else xp.matrix_transpose(upper[j, k]) for j in range(K)]
                for k in range(K)
            ]
            H = xp.concat([xp.concat(row, axis=1) for row in rows], axis=0)
        H = H + xp.eye(H.shape[0], dtype=H.dtype, device=_device(H)) * (self.lam * self.mask)
        if self.K > 1:
            H = H + self._shift_curvature(H)
        return H

    def _shift_curvature(self, H: Any) -> Any:
        """Curvature along the directions softmax ignores, to add to the Hessian.

        Adding the same vector to every class's unpenalised entries (the intercepts; with no
        penalty, everything) changes no probability: the Hessian is singular along those
        directions, and the gradient is orthogonal to them. ``H + c P``, with ``P`` the
        projector onto them and ``c`` the Hessian's mean diagonal, is invertible and gives
        the same Newton step with no component along them (the minimum-norm step), instead
        of one whose size there depends on rounding.
        """
        xp = self.xp
        free = xp.astype(self.lam * self.mask[: self.p] == 0, H.dtype)
        block = xp.eye(self.p, dtype=H.dtype, device=_device(H)) * (free / self.K)
        return xp.mean(xp.linalg.diagonal(H)) * xp.tile(block, (self.K, self.K))

    def lipschitz(self) -> float:
        """Upper bound on the gradient's Lipschitz constant (one Gram matrix, one host read)."""
        xp, Xa = self.xp, self.X
        if self.intercept:
            Xa = xp.concat([Xa, xp.ones((Xa.shape[0], 1), dtype=Xa.dtype, device=_device(Xa))], 1)
        gram = weighted_gram(Xa, self.s, xp)  # sample weights s >= 0
        # The logistic loss curves at most 1/4, the softmax cross-entropy at most 1/2.
        curvature = 0.25 if self.K == 1 else 0.5
        top = float(to_numpy(linalg.eigvalsh(gram)[-1]))
        return curvature * top + self.lam


def _proximal(
    obj: _Objective, theta: Any, l1: float, tol: float, max_iter: int
) -> tuple[Any, int, bool]:
    """FISTA with gradient-based adaptive restart (O'Donoghue & Candes 2015).

    The momentum and restart decisions stay on the device; the host reads the gradient
    mapping's size every 10 iterations to test ``max |G| <= tol``.
    """
    xp = obj.xp
    step = 1.0 / obj.lipschitz()
    thresh = (step * l1) * obj.mask
    x = theta
    y = theta
    t = xp.asarray(1.0, dtype=theta.dtype, device=_device(theta))
    for it in range(1, max_iter + 1):
        _, g = obj.value_grad(y)
        x_new = soft_threshold(y - step * g, thresh, xp)
        mapping = (y - x_new) / step
        # Restart the momentum when it points uphill: (y - x_new) . (x_new - x) > 0.
        restart = xp.sum((y - x_new) * (x_new - x)) > 0
        t_next = (1.0 + xp.sqrt(1.0 + 4.0 * t * t)) / 2.0
        beta = xp.where(restart, xp.zeros_like(t), (t - 1.0) / t_next)
        t = xp.where(restart, xp.ones_like(t), t_next)
        y = x_new + beta * (x_new - x)
        x = x_new
        if it % 10 == 0 or it == max_iter:
            if float(to_numpy(xp.max(xp.abs(mapping)))) <= tol:
                return x, it, True
    return x, max_iter, max_iter == 0


class LogisticRegression(BaseEstimator):
    """Logistic regression (binary, or multinomial softmax for more than two classes).

    Parameters
    ----------
    penalty : {"l2", "l1", "elasticnet", None}, deprecated
        scikit-learn's deprecated spelling: "l2" is ``l1_ratio=0``, "l1" is ``l1_ratio=1``,
        "elasticnet" uses ``l1_ratio``, None is ``C=inf``. Leave it out.
    C : float, default 1.0
        Inverse regularisation strength (> 0); ``np.inf`` means no penalty.
    l1_ratio : float in [0, 1], default 0.0
        0 is L2, 1 is L1, in between elastic net. Any L1 part needs ``solver="proximal"``.
    solver : {"auto", "lbfgs", "newton", "proximal", "gd", "adam"}, default "auto"
        "auto" is "proximal" with an L1 part and "lbfgs" otherwise.
    max_iter : int, default 100
    tol : float, default 1e-4
        Stop when the largest gradient entry (for "proximal": of the gradient mapping) is
        at most ``tol``, as scikit-learn's lbfgs does.
    fit_intercept : bool, default True

    Attributes
    ----------
    classes_ : array, shape (n_classes,)
    coef_ : array, shape (1, n_features) for two classes, else (n_classes, n_features)
    intercept_ : array, shape (1,) or (n_classes,)
    n_iter_ : ndarray, shape (1,)
    n_features_in_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model import LogisticRegression
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> clf = LogisticRegression().fit(X, np.array([0, 0, 1, 1]))
    >>> clf.predict(np.array([[0.2], [2.8]]))
    array([0, 1])
    """

    _estimator_type = "classifier"

    def __init__(
        self,
        penalty: Any = "deprecated",
        *,
        C: float = 1.0,
        l1_ratio: float = 0.0,
        solver: str = "auto",
        max_iter: int = 100,
        tol: float = 1e-4,
        fit_intercept: bool = True,
    ) -> None:
        self.penalty = penalty
        self.C = C
        self.l1_ratio = l1_ratio
        self.solver = solver
        self.max_iter = max_iter
        self.tol = tol
        self.fit_intercept = fit_intercept

    def _penalty_split(self) -> tuple[float, float]:
        """``(l2 fraction, l1 fraction)`` of ``1 / C`` after the deprecated ``penalty``."""
        if self.penalty not in _PENALTIES:
            raise ValueError(f"`penalty` must be one of {_PENALTIES}; got {self.penalty!r}")
        C, r = self.C, self.l1_ratio
        if isinstance(C, bool) or not isinstance(C, (int, float, np.number)) or not C > 0:
            raise ValueError(f"`C` must be a float > 0 (np.inf for no penalty); got {C!r}")
        if isinstance(r, bool) or not isinstance(r, (int, float, np.number)) or not 0 <= r <= 1:
            raise ValueError(f"`l1_ratio` must be a float in [0, 1]; got {r!r}")
        if self.penalty != "deprecated":
            warnings.warn(
                "`penalty` was deprecated in scikit-learn 1.8: use l1_ratio=0 for 'l2', "
                "l1_ratio=1 for 'l1', 0 < l1_ratio < 1 for 'elasticnet', C=np.inf for None",
                FutureWarning,
                stacklevel=3,
            )
            r = {"l2": 0.0, "l1": 1.0, "elasticnet": r, None: 0.0}[self.penalty]
            if self.penalty is None:
                return 0.0, 0.0
        if math.isinf(C):
            return 0.0, 0.0
        return (1.0 - float(r)) / float(C), float(r) / float(C)

    def _check_params(self, l1: float) -> str:
        if self.solver not in _SOLVERS:
            raise ValueError(f"`solver` must be one of {_SOLVERS}; got {self.solver!r}")
        mi = self.max_iter
        if isinstance(mi, bool) or not isinstance(mi, (int, np.integer)) or mi < 0:
            raise ValueError(f"`max_iter` must be an int >= 0; got {mi!r}")
        if not isinstance(self.tol, (int, float, np.number)) or not self.tol >= 0:
            raise ValueError(f"`tol` must be a float >= 0; got {self.tol!r}")
        solver = self.solver
        if solver == "auto":
            solver = "proximal" if l1 > 0 else "lbfgs"
        if l1 > 0 and solver != "proximal":
            raise ValueError(
                f"`solver`={solver!r} handles only L2 penalties; got l1_ratio="
                f"{self.l1_ratio!r} (an L1 part): use solver='proximal' or 'auto'"
            )
        return solver

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> LogisticRegression:
        """Fit the model; returns self.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
        y : array, shape (n_samples,)
            Class labels: any type ``numpy.unique`` sorts (ints, strings) on the CPU;
            numbers on the GPU.
        sample_weight : array, shape (n_samples,), optional
        """
        if type(X).__module__.startswith("dask."):  # L-BFGS on gradients summed over chunks
            if sample_weight is not None:
                raise ValueError("`sample_weight` must be None for dask inputs; got an array")
            from ..distributed import fit_logistic

            return fit_logistic(self, X, y)
        l2, l1 = self._penalty_split()
        solver = self._check_params(l1)
        check_y_given(self, y)
        X, y, sw, xp = validate_data(X, y, sample_weight=sample_weight, y_numeric=False)
        classes, y_idx = _encode_labels(y, xp)
        n, d = X.shape
        K = classes.shape[0]
        if sw is None:
            sw_sum = float(n)
            s = xp.full((n,), 1.0 / n, dtype=X.dtype, device=_device(X))
        else:
            sw_sum = check_sample_weight(sw, xp)
            s = sw / sw_sum
        rows = 1 if K == 2 else K
        if K == 2:
            Y = xp.astype(y_idx, X.dtype)
        else:
            Y = xp.astype(y_idx[:, None] == xp.arange(K, device=_device(X))[None, :], X.dtype)
        obj = _Objective(X, Y, s, l2 / sw_sum, rows, bool(self.fit_intercept), xp)
        theta0 = xp.zeros((rows * obj.p,), dtype=X.dtype, device=_device(X))
        tol = float(self.tol)
        if solver == "proximal":
            theta, nit, converged = _proximal(obj, theta0, l1 / sw_sum, tol, int(self.max_iter))
            why = "maximum number of iterations"
        else:
            options: dict[str, Any] = {}
            if solver == "gd":
                options["lr"] = 1.0 / obj.lipschitz()
            res = optim.minimize(
                lambda t: obj.value_grad(t),
                theta0,
                method=solver,
                jac=True,
                hess=obj.hessian if solver == "newton" else None,
                tol=tol,
                maxiter=int(self.max_iter),
                options=options,
            )
            theta, nit, converged = res.x, res.nit, res.success
            why = res.message
        if not converged:
            warnings.warn(
                f"LogisticRegression (solver={solver!r}) stopped before max |gradient| <= "
                f"tol={tol!r} after {nit} iterations ({why}); increase max_iter, raise tol "
                "or scale the data",
                ConvergenceWarning,
                stacklevel=2,
            )
        T = xp.reshape(theta, (rows, obj.p))
        if rows > 1:
            # Softmax ignores a shift shared by all classes; the unpenalised intercepts (and
            # with C=inf the coefficients) are fixed only up to it. Pick the centred solution,
            # the one scikit-learn's lbfgs reaches from zero.
            shift = xp.mean(T, axis=0, keepdims=True)
            if l2 > 0 or l1 > 0:
                shift = shift * (1.0 - obj.mask[: obj.p])
            T = T - shift
        self.classes_ = classes
        self.coef_ = T[:, :d]
        self.intercept_ = (
            T[:, d] if self.fit_intercept else xp.zeros((rows,), dtype=X.dtype, device=_device(X))
        )
        self.n_iter_ = np.array([nit], dtype=np.int32)
        self.n_features_in_ = d
        return self

    def decision_function(self, X: Any) -> Any:
        """Scores ``X coef_^T + intercept_``: shape (n,) for two classes, else (n, K)."""
        check_is_fitted(self)
        X, _, _, xp = validate_data(X)
        check_n_features(self, X)
        Z = X @ xp.matrix_transpose(xp.astype(self.coef_, X.dtype)) + self.intercept_
        return Z[:, 0] if Z.shape[1] == 1 else Z

    def predict_log_proba(self, X: Any) -> Any:
        """Log-probabilities of each class, shape (n, n_classes), stable for any score."""
        Z = self.decision_function(X)
        xp = array_namespace(Z)
        if Z.ndim == 1:
            return -nn.softplus(xp.stack([Z, -Z], axis=1))
        return nn.log_softmax(Z, axis=1)

    def predict_proba(self, X: Any) -> Any:
        """Class probabilities, shape (n, n_classes); rows sum to 1."""
        Z = self.decision_function(X)
        xp = array_namespace(Z)
        if Z.ndim == 1:
            return nn.sigmoid(xp.stack([-Z, Z], axis=1))
        return nn.softmax(Z, axis=1)

    def predict(self, X: Any) -> Any:
        """The most probable class of each row (an element of ``classes_``)."""
        Z = self.decision_function(X)
        xp = array_namespace(Z)
        idx = xp.astype(Z > 0, xp.int64) if Z.ndim == 1 else xp.argmax(Z, axis=1)
        return xp.take(self.classes_, idx)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted by ``sample_weight``)."""
        pred = self.predict(X)
        y = _as_array(y, "y")
        xp = array_namespace(pred, y)  # no implicit host <-> device copy of y
        hit = xp.astype(pred == y, xp.float64)
        if sample_weight is None:
            return float(to_numpy(xp.mean(hit)))
        w = xp.astype(_as_array(sample_weight, "sample_weight"), xp.float64)
        return float(to_numpy(xp.sum(hit * w) / xp.sum(w)))


def _encode_labels(y: Any, xp: Any) -> tuple[Any, Any]:
    """``(classes, index of each label in classes)``; at least two classes, no NaN."""
    kind = np.dtype(y.dtype).kind
    if kind == "f":
        if not bool(xp.all(xp.isfinite(y))):
            raise ValueError("`y` contains NaN or infinity")
        if not bool(xp.all(y == xp.round(y))):
            raise ValueError(
                "Unknown label type: continuous. `y` must hold class labels (ints, strings "
                "or whole-valued floats); use a regressor for continuous targets"
            )
    elif kind == "c":
        raise TypeError(f"`y` must hold class labels; got complex dtype {y.dtype}")
    classes, inverse = xp.unique_inverse(y)
    if classes.shape[0] < 2:
        raise ValueError(
            f"`y` must contain at least two classes; got one class: {to_numpy(classes).tolist()!r}"
        )
    return classes, inverse
