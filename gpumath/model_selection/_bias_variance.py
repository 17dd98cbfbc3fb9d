"""Bootstrap bias–variance decomposition of an estimator's squared loss."""

from __future__ import annotations

import numbers
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from .._backend import array_namespace, asarray, device_of
from ..metrics._common import as_array, check_finite, float_dtype
from ..random import default_rng
from ._validation import clone

__all__ = ["BiasVarianceResult", "bias_variance_decomposition"]


class BiasVarianceResult(NamedTuple):
    """Averages over the test points of the squared-loss decomposition (Python floats)."""

    loss: float
    bias2: float
    variance: float
    noise: float | None
    cross: float | None


def _bootstrap_indices(rng: Any, n_rounds: int, n: int, like: Any) -> Any:
    """(n_rounds, n) resample indices on ``like``'s device."""
    if isinstance(rng, np.random.RandomState):
        return asarray(rng.randint(0, n, size=(n_rounds, n)), device=device_of(like))
    if isinstance(rng, np.random.Generator):
        return asarray(rng.integers(0, n, size=(n_rounds, n)), device=device_of(like))
    return default_rng(rng, device=device_of(like)).integers(0, n, size=(n_rounds, n))


def bias_variance_decomposition(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    X_test: Any = None,
    y_test: Any = None,
    n_rounds: int = 200,
    rng: Any = None,
    y_true_function: Callable[[Any], Any] | None = None,
) -> BiasVarianceResult:
    """Estimate bias^2, variance (and noise) of ``estimator`` under squared loss by bootstrap.

    ``n_rounds`` clones are fitted on bootstrap resamples of ``(X, y)`` and predict
    ``X_test``, giving predictions ``p[r, i]``. With ``m[i] = mean_r p[r, i]`` and all
    averages also taken over the test points ``i``:

    - ``loss = mean (p - y_test)**2``, the expected test loss;
    - ``variance = mean (p - m)**2``;
    - without ``y_true_function``: ``bias2 = mean (m - y_test)**2`` (it holds the noise of
      ``y_test``, as in mlxtend's ``bias_variance_decomp``), and ``loss == bias2 + variance``
      exactly (up to rounding); ``noise`` and ``cross`` are None;
    - with ``f = y_true_function(X_test)``, the noise-free target: ``bias2 = mean (m - f)**2``,
      ``noise = mean (y_test - f)**2`` and ``cross = 2 mean (m - f)(f - y_test)``, so that
      ``loss == bias2 + variance + noise + cross`` exactly; ``cross`` is 0 in expectation
      when the test noise is independent of the fits.

    Parameters
    ----------
    estimator : object
        Regressor with ``fit``/``predict`` and ``get_params`` (cloned every round).
    X, y : arrays of shape (n_samples, ...) and (n_samples,)
        Training data, NumPy or CuPy; resamples are gathered on its device.
    X_test, y_test : arrays, optional
        Where the loss is measured; default the training points themselves.
    n_rounds : int
        Bootstrap rounds (>= 2).
    rng : None, int, gpumath.random.Generator, numpy Generator or RandomState
        Source of the resample indices (None, an int or a gpumath Generator draw them on
        the data's device).
    y_true_function : callable, optional
        ``f(X_test)``: the noise-free regression function, to separate the noise.

    Returns
    -------
    BiasVarianceResult
        ``(loss, bias2, variance, noise, cross)`` as Python floats (read back once at the
        end; no host sync between rounds beyond what the estimator itself does).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from gpumath.model_selection import bias_variance_decomposition
    >>> g = np.random.default_rng(0)
    >>> X = g.uniform(-1, 1, (50, 1)); y = 2 * X[:, 0] + g.normal(0, 0.1, 50)
    >>> r = bias_variance_decomposition(LinearRegression(), X, y, n_rounds=20, rng=0)
    >>> bool(abs(r.loss - (r.bias2 + r.variance)) < 1e-12)
    True
    """
    if isinstance(n_rounds, bool) or not isinstance(n_rounds, numbers.Integral) or n_rounds < 2:
        raise ValueError(f"`n_rounds` must be an integer >= 2; got {n_rounds!r}")
    if (X_test is None) != (y_test is None):
        raise ValueError("`X_test` and `y_test` must be given together")
    X, y = as_array(X, "X"), as_array(y, "y")
    X_test = X if X_test is None else as_array(X_test, "X_test")
    y_test = y if y_test is None else as_array(y_test, "y_test")
    xp = array_namespace(X, y, X_test, y_test)
    for a, b, na, nb in ((X, y, "X", "y"), (X_test, y_test, "X_test", "y_test")):
        if b.ndim != 1 or a.ndim == 0 or a.shape[0] != b.shape[0]:
            raise ValueError(
                f"`{nb}` must be 1-D with one value per row of `{na}`; got shapes "
                f"{tuple(a.shape)} and {tuple(b.shape)}"
            )
        if np.dtype(b.dtype).kind not in "biuf":
            raise TypeError(f"`{nb}` must hold real numbers; got dtype {b.dtype}")
    dtype = float_dtype(xp, y, y_test)
    target = xp.astype(y_test, dtype)
    check_finite(target, "y_test", xp)
    index = _bootstrap_indices(rng, int(n_rounds), X.shape[0], X)
    predictions = []
    for r in range(int(n_rounds)):
        rows = index[r, :]
        model = clone(estimator).fit(xp.take(X, rows, axis=0), xp.take(y, rows, axis=0))
        predictions.append(xp.reshape(xp.astype(xp.asarray(model.predict(X_test)), dtype), (-1,)))
    p = xp.stack(predictions)
    main = xp.mean(p, axis=0)
    loss = xp.mean((p - target) ** 2)
    variance = xp.mean((p - main) ** 2)
    if y_true_function is None:
        return BiasVarianceResult(
            float(loss), float(xp.mean((main - target) ** 2)), float(variance), None, None
        )
    f = xp.reshape(xp.astype(xp.asarray(y_true_function(X_test)), dtype), (-1,))
    if f.shape != target.shape:
        raise ValueError(
            f"`y_true_function(X_test)` must give shape {tuple(target.shape)}; got {f.shape}"
        )
    return BiasVarianceResult(
        float(loss),
        float(xp.mean((main - f) ** 2)),
        float(variance),
        float(xp.mean((target - f) ** 2)),
        float(2 * xp.mean((main - f) * (f - target))),
    )
