"""Logistic regression on tall ``dask.array`` data: L-BFGS on distributed gradients.

Each evaluation of the objective sends the parameter vector (``K x (p + 1)`` numbers) to
the workers; every row chunk returns its share of the loss and gradient (the same
``_Objective`` code :class:`gpumath.linear_model.LogisticRegression` runs in memory, on
NumPy or CuPy chunks); the shares are summed in a fixed tree and the L2 penalty is added on
the client, where :func:`gpumath.optim.minimize` runs the same L-BFGS as the in-memory
fit. The rows never leave their workers: one round trip per iteration.
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._backend import array_namespace
from ._stats import check_dask_array, tree_reduce

__all__ = ["fit_logistic"]


def _targets(y: Any, classes: Any, xp: Any, dtype: Any) -> Any:
    """Binary: 1 for the second class; multinomial: one-hot rows."""
    if classes.shape[0] == 2:
        return xp.astype(y == classes[1], dtype)
    return xp.astype(y[:, None] == classes[None, :], dtype)


def _chunk_value_grad(x, y, classes, theta, rows, intercept, n) -> tuple[Any, Any]:
    """This chunk's share ``sum_i loss_i / n`` of the loss and of its gradient (no penalty)."""
    from ..linear_model._logistic import _Objective

    xp = array_namespace(x)
    s = xp.full((x.shape[0],), 1.0 / n, dtype=x.dtype, device=x.device)
    obj = _Objective(x, _targets(y, classes, xp, x.dtype), s, 0.0, rows, intercept, xp)
    return obj.value_grad(xp.asarray(theta, dtype=x.dtype, device=x.device))


def _unique(y: Any) -> Any:
    return array_namespace(y).unique_values(y)


def _add(a: tuple, b: tuple) -> tuple:
    return a[0] + b[0], a[1] + b[1]


def fit_logistic(estimator: Any, X: Any, y: Any) -> Any:
    """Fit a ``LogisticRegression`` (L2 or no penalty, L-BFGS) on tall dask arrays.

    Parameters
    ----------
    estimator : gpumath.linear_model.LogisticRegression
        ``C``, ``l1_ratio`` (must be 0), ``tol``, ``max_iter`` and ``fit_intercept`` are used;
        ``solver`` must be "auto" or "lbfgs". ``classes_``, ``coef_``, ``intercept_``,
        ``n_iter_`` and ``n_features_in_`` are set as by its own ``fit``.
    X : dask.array.Array, shape (n_samples, n_features)
        Persisted first (the optimiser reads it once per iteration).
    y : dask.array.Array, shape (n_samples,)
        Numeric class labels.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from gpumath.distributed import fit_logistic
    >>> from gpumath.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(200, 2))
    >>> y = (X[:, 0] - X[:, 1] > 0).astype(float)
    >>> m = fit_logistic(LogisticRegression(), da.from_array(X, 50), da.from_array(y, 50))
    >>> m.coef_.shape, m.classes_.tolist()
    ((1, 2), [0.0, 1.0])
    """
    import dask

    from .. import optim
    from ..linear_model import LogisticRegression
    from ..linear_model._base import ConvergenceWarning

    if not isinstance(estimator, LogisticRegression):
        raise TypeError(f"`estimator` must be a LogisticRegression; got {type(estimator).__name__}")
    l2, l1 = estimator._penalty_split()
    solver = estimator._check_params(l1)
    if solver != "lbfgs":
        raise ValueError(f"`solver` must be 'lbfgs' (or 'auto' with l1_ratio=0); got {solver!r}")
    X, y = check_dask_array(X, "X"), check_dask_array(y, "y")
    if X.ndim != 2 or y.ndim != 1 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(
            f"`X` must be 2-D and `y` 1-D with the same number (> 0) of rows; got shapes "
            f"{X.shape} and {y.shape}"
        )
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    X = X.rechunk({1: -1})
    y = y.rechunk((X.chunks[0],))
    X, y = dask.persist(X, y)
    # Labels per chunk, then on the client: works for NumPy and CuPy chunks alike.
    labels = dask.compute(*[dask.delayed(_unique)(b) for b in y.to_delayed().ravel()])
    xp = array_namespace(labels[0])
    classes = xp.unique_values(xp.concat(labels))
    if classes.shape[0] < 2:
        raise ValueError(f"`y` must contain at least two classes; got {classes.shape[0]}")
    n, d = X.shape
    K = classes.shape[0]
    rows = 1 if K == 2 else K
    intercept = bool(estimator.fit_intercept)
    p = d + int(intercept)
    lam = l2 / n
    mask = np.ones((rows, p))
    if intercept:
        mask[:, -1] = 0.0
    mask = xp.asarray(mask.reshape(-1), dtype=X.dtype)
    blocks = list(zip(X.to_delayed().ravel(), y.to_delayed().ravel(), strict=True))

    def value_grad(theta: Any) -> tuple[Any, Any]:
        parts = [
            dask.delayed(_chunk_value_grad)(xb, yb, classes, theta, rows, intercept, n)
            for xb, yb in blocks
        ]
        loss, grad = tree_reduce(parts, _add).compute()
        penalised = theta * mask
        return loss + 0.5 * lam * xp.sum(penalised * penalised), grad + lam * penalised

    theta0 = xp.zeros((rows * p,), dtype=X.dtype)
    tol = float(estimator.tol)
    res = optim.minimize(
        value_grad, theta0, method="lbfgs", jac=True, tol=tol, maxiter=int(estimator.max_iter)
    )
    if not res.success:
        warnings.warn(
            f"LogisticRegression (dask, lbfgs) stopped before max |gradient| <= tol={tol!r} "
            f"after {res.nit} iterations ({res.message}); increase max_iter or scale the data",
            ConvergenceWarning,
            stacklevel=2,
        )
    T = xp.reshape(res.x, (rows, p))
    if rows > 1:  # the centred solution, as the in-memory fit picks
        shift = xp.mean(T, axis=0, keepdims=True)
        if l2 > 0:
            shift = shift * (1.0 - mask[:p])
        T = T - shift
    estimator.classes_ = classes
    estimator.coef_ = T[:, :d]
    estimator.intercept_ = T[:, d] if intercept else xp.zeros((rows,), dtype=X.dtype)
    estimator.n_iter_ = np.array([res.nit], dtype=np.int32)
    estimator.n_features_in_ = d
    return estimator
