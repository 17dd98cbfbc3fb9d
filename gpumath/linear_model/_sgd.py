"""Mini-batch stochastic gradient descent for linear models: ``SGDRegressor`` and
``SGDClassifier`` (scikit-learn's losses and penalties), trained by any
:mod:`gpumath.optim` gradient transformation.

Unlike scikit-learn, which updates after every sample, one step here uses the mean gradient
of a mini-batch (``batch_size`` rows), so the same code saturates a GPU; with
``batch_size=1`` and ``optim.sgd`` it is plain SGD. Each epoch reads the device once, to
test the stopping rule (scikit-learn's: ``n_iter_no_change`` epochs without the mean
training loss improving by ``tol``).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import optim
from .._backend import array_namespace
from .._xp import sign
from ._base import (
    BaseEstimator,
    check_is_fitted,
    check_n_features,
    check_sample_weight,
    check_y_given,
    validate_data,
)
from ._least_squares import (
    LinearModelMixin,
    check_choice,
    check_number,
    check_positive_int,
    warn_not_converged,
)

__all__ = ["SGDClassifier", "SGDRegressor"]

PENALTIES = ("l2", "l1", "elasticnet", None)
REGRESSION_LOSSES = ("squared_error", "huber")
CLASSIFICATION_LOSSES = ("hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron")


def default_optimizer() -> optim.GradientTransformation:
    """SGD with Nesterov momentum 0.9 and learning rate 0.01 (for standardised features)."""
    return optim.sgd(0.01, momentum=0.9, nesterov=True)


def loss_and_slope(loss: str, f: Any, y: Any, epsilon: float, xp: Any) -> tuple[Any, Any]:
    """Per-sample loss and its derivative in the prediction ``f`` (targets ``y``; for the
    classification losses ``y`` is +-1 and the loss is a function of the margin ``y f``)."""
    if loss == "squared_error":
        r = f - y
        return 0.5 * r * r, r
    if loss == "huber":
        r = f - y
        a = xp.abs(r)
        quad = a <= epsilon
        return xp.where(quad, 0.5 * r * r, epsilon * a - 0.5 * epsilon**2), xp.clip(
            r, -epsilon, epsilon
        )
    z = y * f
    if loss == "log_loss":
        # log(1 + exp(-z)) and its slope -1 / (1 + exp(z)), both stable for any z.
        return xp.logaddexp(xp.zeros_like(z), -z), -y / (1 + xp.exp(z))
    if loss == "hinge":
        h = xp.maximum(1 - z, 0)
        return h, xp.where(h > 0, -y, xp.zeros_like(y))
    if loss == "squared_hinge":
        h = xp.maximum(1 - z, 0)
        return h * h, -2 * y * h
    if loss == "modified_huber":
        h = xp.maximum(1 - z, 0)
        linear = z < -1
        return xp.where(linear, -4 * z, h * h), xp.where(linear, -4 * y, -2 * y * h)
    # perceptron: the slope is -y on a wrong or zero margin, so training starts at w = 0
    return xp.maximum(-z, 0), xp.where(z <= 0, -y, xp.zeros_like(y))


class _SGDBase(BaseEstimator):
    """Training loop shared by the regressor and the classifier."""

    _losses: tuple[str, ...] = ()

    def _penalty_grad(self, w: Any, xp: Any) -> Any:
        if self.penalty is None or self.alpha == 0:
            return xp.zeros_like(w)
        if self.penalty == "l2":
            return self.alpha * w
        if self.penalty == "l1":
            return self.alpha * sign(w, xp)
        rho = self.l1_ratio
        return self.alpha * (rho * sign(w, xp) + (1 - rho) * w)

    def _check_params(self) -> None:
        check_choice(self.loss, "loss", self._losses)
        check_choice(self.penalty, "penalty", PENALTIES)
        check_number(self.alpha, "alpha")
        ratio = check_number(self.l1_ratio, "l1_ratio")
        if ratio > 1:
            raise ValueError(f"`l1_ratio` must be in [0, 1]; got {self.l1_ratio!r}")
        check_number(self.epsilon, "epsilon")
        for name in ("max_iter", "batch_size", "n_iter_no_change"):
            check_positive_int(getattr(self, name), name)
        if self.tol is not None:
            check_number(self.tol, "tol")

    def _train(self, X: Any, Y: Any, sw: Any, xp: Any) -> None:
        """Fit ``coef_`` (p, k) and ``intercept_`` (k,) to targets ``Y`` (n, k)."""
        n, p = X.shape
        k = Y.shape[1]
        params = {"coef": xp.zeros((p, k), dtype=X.dtype, device=X.device)}
        if self.fit_intercept:
            params["intercept"] = xp.zeros((k,), dtype=X.dtype, device=X.device)
        opt = self.optimizer if self.optimizer is not None else default_optimizer()
        state = opt.init(params)
        rs = self.random_state
        rng = rs if hasattr(rs, "permutation") else np.random.default_rng(rs)
        # Targets and weights travel together through optim.batches.
        T = xp.concat(
            [Y, xp.ones((n, 1), dtype=X.dtype, device=X.device) if sw is None else sw[:, None]],
            axis=1,
        )
        tol = -np.inf if self.tol is None else float(self.tol)
        best, stale = np.inf, 0
        self.n_iter_ = self.max_iter
        for epoch in range(1, self.max_iter + 1):
            total = xp.zeros((), dtype=X.dtype, device=X.device)
            for Xb, Tb in optim.batches(X, T, self.batch_size, rng=rng, shuffle=self.shuffle):
                Yb, wb = Tb[:, :k], Tb[:, k:]
                f = Xb @ params["coef"]
                if self.fit_intercept:
                    f = f + params["intercept"]
                loss, slope = loss_and_slope(self.loss, f, Yb, self.epsilon, xp)
                total = total + xp.sum(wb * loss)
                slope = slope * (wb / Xb.shape[0])
                grads = {"coef": Xb.T @ slope + self._penalty_grad(params["coef"], xp)}
                if self.fit_intercept:
                    grads["intercept"] = xp.sum(slope, axis=0)
                updates, state = opt.update(grads, state, params)
                params = optim.apply_updates(params, updates)
            mean_loss = float(total) / (n * k)  # the one host read per epoch
            if not np.isfinite(mean_loss):
                raise FloatingPointError(
                    f"{type(self).__name__}: the training loss became {mean_loss} in epoch "
                    f"{epoch}; lower the optimizer's learning rate or standardise X"
                )
            stale = stale + 1 if mean_loss > best - tol else 0
            best = min(best, mean_loss)
            if stale >= self.n_iter_no_change:
                self.n_iter_ = epoch
                break
        else:
            if self.tol is not None:
                warn_not_converged(self, self.max_iter)
        self.t_ = self.n_iter_ * -(-n // self.batch_size)
        coef = params["coef"]
        intercept = params.get("intercept", xp.zeros((k,), dtype=X.dtype, device=X.device))
        self._store(coef, intercept)
        self.n_features_in_ = p


def check_labels(y: Any, xp: Any) -> None:
    """Float labels must be finite whole numbers: continuous targets are a regression."""
    if np.dtype(y.dtype).kind != "f":
        return
    if not bool(xp.all(xp.isfinite(y))):
        raise ValueError("`y` contains NaN or infinity")
    if not bool(xp.all(y == xp.round(y))):
        raise ValueError(
            "`y` must hold class labels; got continuous values (use SGDRegressor for a "
            "continuous target)"
        )


class SGDRegressor(_SGDBase, LinearModelMixin):
    """Linear regression by mini-batch SGD, like ``sklearn.linear_model.SGDRegressor``.

    Minimises ``mean_i sw_i L(y_i, x_i w + b) + alpha R(w)`` with ``R`` the ``penalty``
    (``l2``: ``||w||^2 / 2``; ``l1``: ``||w||_1``; ``elasticnet``: ``l1_ratio ||w||_1 +
    (1 - l1_ratio) ||w||^2 / 2``; L1 terms by subgradient).

    Parameters
    ----------
    loss : {"squared_error", "huber"}
        ``1/2 (y - f)^2``, or Huber's loss with threshold ``epsilon``.
    penalty : {"l2", "l1", "elasticnet", None}
    alpha, l1_ratio : float
    fit_intercept : bool
    max_iter : int
        Epochs (passes over the data).
    tol : float or None
        Stop after ``n_iter_no_change`` epochs whose mean loss is not below the best minus
        ``tol``; None runs ``max_iter`` epochs.
    shuffle : bool
        Reshuffle the rows every epoch.
    random_state : None, int or numpy Generator
        Seeds the shuffling.
    batch_size : int
        Rows per step.
    optimizer : optim.GradientTransformation, optional
        Any gpumath.optim transformation, e.g. ``optim.adam(1e-3)``; default SGD with
        Nesterov momentum 0.9 and learning rate 0.01.
    n_iter_no_change : int
    epsilon : float
        Huber threshold.

    Attributes
    ----------
    coef_ : array (n_features,), intercept_ : 0-d array
    n_iter_ : int
        Epochs run. ``t_`` counts the optimizer steps.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> from gpumath.linear_model._sgd import SGDRegressor
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((500, 3))
    >>> model = SGDRegressor(alpha=0.0, optimizer=optim.adam(0.05), random_state=0)
    >>> np.round(model.fit(X, X @ np.array([1.0, -2.0, 0.5])).coef_, 1)
    array([ 1. , -2. ,  0.5])
    """

    _losses = REGRESSION_LOSSES

    def __init__(
        self,
        loss: str = "squared_error",
        penalty: str | None = "l2",
        alpha: float = 1e-4,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        random_state: Any = None,
        batch_size: int = 32,
        optimizer: Any = None,
        n_iter_no_change: int = 5,
        epsilon: float = 0.1,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.n_iter_no_change = n_iter_no_change
        self.epsilon = epsilon

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDRegressor:
        """Train on ``(X, y)``; returns self."""
        self._check_params()
        check_y_given(self, y)
        X, y, sw, xp = validate_data(X, y, sample_weight=sample_weight)
        check_sample_weight(sw, xp)
        self._train(X, y[:, None], sw, xp)
        return self

    def _store(self, coef: Any, intercept: Any) -> None:
        self.coef_, self.intercept_ = coef[:, 0], intercept[0]


class SGDClassifier(_SGDBase):
    """Linear classifier by mini-batch SGD, like ``sklearn.linear_model.SGDClassifier``.

    Two classes train one weight vector on targets +-1 (``classes_[1]`` is +1); more train
    one-vs-rest, all classes in the same matrix products. Parameters as
    :class:`SGDRegressor`, with ``loss`` one of ``"hinge"`` (linear SVM), ``"log_loss"``
    (logistic regression; enables ``predict_proba``), ``"modified_huber"``,
    ``"squared_hinge"``, ``"perceptron"``.

    Attributes
    ----------
    classes_ : array (n_classes,)
    coef_ : array (1, n_features) or (n_classes, n_features)
    intercept_ : array (1,) or (n_classes,)
    n_iter_ : int

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model._sgd import SGDClassifier
    >>> X = np.array([[-2.0], [-1.0], [1.0], [2.0]])
    >>> SGDClassifier(random_state=0).fit(X, [0, 0, 1, 1]).predict(np.array([[-3.0], [3.0]]))
    array([0, 1])
    """

    _estimator_type = "classifier"

    _losses = CLASSIFICATION_LOSSES

    def __init__(
        self,
        loss: str = "hinge",
        penalty: str | None = "l2",
        alpha: float = 1e-4,
        l1_ratio: float = 0.15,
        fit_intercept: bool = True,
        max_iter: int = 1000,
        tol: float | None = 1e-3,
        shuffle: bool = True,
        random_state: Any = None,
        batch_size: int = 32,
        optimizer: Any = None,
        n_iter_no_change: int = 5,
        epsilon: float = 0.1,
    ):
        self.loss = loss
        self.penalty = penalty
        self.alpha = alpha
        self.l1_ratio = l1_ratio
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol
        self.shuffle = shuffle
        self.random_state = random_state
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.n_iter_no_change = n_iter_no_change
        self.epsilon = epsilon

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> SGDClassifier:
        """Train on ``(X, y)`` with ``y`` any labels (at least two classes); returns self."""
        self._check_params()
        check_y_given(self, y)
        X, y, sw, xp = validate_data(X, y, sample_weight=sample_weight, y_numeric=False)
        check_sample_weight(sw, xp)
        check_labels(y, xp)
        classes = xp.unique_values(y)
        if classes.shape[0] < 2:
            raise ValueError(f"`y` must hold at least two classes; got 1 class: {classes[0]!r}")
        self.classes_ = classes
        index = xp.searchsorted(classes, y)
        if classes.shape[0] == 2:
            Y = xp.astype(index, X.dtype)[:, None] * 2 - 1
        else:
            hot = index[:, None] == xp.arange(classes.shape[0], device=X.device)[None, :]
            Y = xp.astype(hot, X.dtype) * 2 - 1
        self._train(X, Y, sw, xp)
        return self

    def _store(self, coef: Any, intercept: Any) -> None:
        self.coef_, self.intercept_ = coef.T, intercept

    def decision_function(self, X: Any) -> Any:
        """Signed distances ``X @ coef_.T + intercept_``: (n_samples,) for two classes (the
        positive class is ``classes_[1]``), else (n_samples, n_classes)."""
        check_is_fitted(self, "coef_")
        X, _, _, xp = validate_data(X)
        check_n_features(self, X)
        scores = X @ xp.astype(self.coef_.T, X.dtype) + xp.astype(self.intercept_, X.dtype)
        return scores[:, 0] if scores.shape[1] == 1 else scores

    def predict(self, X: Any) -> Any:
        """The class with the largest decision value (positive score: ``classes_[1]``)."""
        scores = self.decision_function(X)
        xp = array_namespace(scores)
        index = xp.astype(scores > 0, xp.int64) if scores.ndim == 1 else xp.argmax(scores, axis=1)
        return xp.take(self.classes_, index, axis=0)

    @property
    def predict_proba(self) -> Any:
        """Class probabilities (``loss="log_loss"`` only): the sigmoid of the decision value;
        one-vs-rest sigmoids normalised to sum to one for more than two classes."""
        if self.loss != "log_loss":
            raise AttributeError(
                f"predict_proba is available for loss='log_loss' only; got loss={self.loss!r}"
            )
        return self._predict_proba

    def _predict_proba(self, X: Any) -> Any:
        scores = self.decision_function(X)
        xp = array_namespace(scores)
        p = 1 / (1 + xp.exp(-scores))
        if scores.ndim == 1:
            return xp.stack([1 - p, p], axis=1)
        return p / xp.sum(p, axis=1, keepdims=True)

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy of ``predict(X)`` against ``y`` (weighted); a Python float."""
        pred = self.predict(X)
        _, y, sw, xp = validate_data(X, y, sample_weight=sample_weight, y_numeric=False)
        hit = xp.astype(pred == y, xp.float64)
        if sw is None:
            return float(xp.mean(hit))
        return float(xp.sum(hit * sw) / xp.sum(sw))
