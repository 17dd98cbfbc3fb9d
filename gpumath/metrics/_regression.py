"""Regression metrics: mean squared/absolute error and R^2 (scikit-learn's definitions)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from ._common import check_finite, check_pair, float_dtype, to_float, warn_undefined

__all__ = ["mean_absolute_error", "mean_squared_error", "r2_score"]

_MULTIOUTPUT = ("raw_values", "uniform_average")


def _prepare(y_true: Any, y_pred: Any, sample_weight: Any, multioutput: str) -> tuple:
    """Validated float arrays of one shape, the weights in their dtype, and xp."""
    if not isinstance(multioutput, str) or multioutput not in _MULTIOUTPUT:
        raise ValueError(
            f"`multioutput` must be one of {', '.join(_MULTIOUTPUT)}; got {multioutput!r}"
        )
    y_true, y_pred, w, xp = check_pair(y_true, y_pred, sample_weight)
    for a, name in ((y_true, "y_true"), (y_pred, "y_pred")):
        if a.ndim > 2:
            raise ValueError(f"`{name}` must be 1-D or 2-D; got shape {tuple(a.shape)}")
        if np.dtype(a.dtype).kind not in "biuf":
            raise TypeError(f"`{name}` must hold real numbers; got dtype {a.dtype}")
    if y_true.ndim == 1:
        y_true = xp.reshape(y_true, (-1, 1))
    if y_pred.ndim == 1:
        y_pred = xp.reshape(y_pred, (-1, 1))
    if y_true.shape != y_pred.shape:
        raise ValueError(
            "`y_true` and `y_pred` must have the same number of outputs; got shapes "
            f"{tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    dtype = float_dtype(xp, y_true, y_pred)
    y_true, y_pred = xp.astype(y_true, dtype), xp.astype(y_pred, dtype)
    check_finite(y_true, "y_true", xp)
    check_finite(y_pred, "y_pred", xp)
    if w is not None:
        w = xp.astype(w, dtype)
    return y_true, y_pred, w, xp


def _average(values: Any, w: Any, xp: Any) -> Any:
    """Mean over samples (axis 0), weighted when ``w`` is given."""
    if w is None:
        return xp.mean(values, axis=0)
    return xp.sum(values * w[:, None], axis=0) / xp.sum(w)


def _finish(per_output: Any, multioutput: str, xp: Any) -> Any:
    if multioutput == "raw_values":
        return per_output
    return to_float(xp.mean(per_output))


def mean_squared_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: str = "uniform_average"
) -> Any:
    """Mean squared error, ``mean((y_true - y_pred)**2)``.

    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples,) or (n_samples, n_outputs)
        NumPy or CuPy arrays (one library, one device); lists become NumPy.
    sample_weight : array of shape (n_samples,), optional
    multioutput : {"uniform_average", "raw_values"}
        Average the outputs' errors into a float, or return one per output as an array on
        the inputs' device.

    Returns
    -------
    float or array
        A Python float (one device sync), like scikit-learn. Computed in the inputs'
        floating dtype (float64 for integer inputs).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import mean_squared_error
    >>> mean_squared_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))
    0.375
    """
    y_true, y_pred, w, xp = _prepare(y_true, y_pred, sample_weight, multioutput)
    diff = y_true - y_pred
    return _finish(_average(diff * diff, w, xp), multioutput, xp)


def mean_absolute_error(
    y_true: Any, y_pred: Any, *, sample_weight: Any = None, multioutput: str = "uniform_average"
) -> Any:
    """Mean absolute error, ``mean(|y_true - y_pred|)``; arguments as :func:`mean_squared_error`.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import mean_absolute_error
    >>> mean_absolute_error(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8]))
    0.5
    """
    y_true, y_pred, w, xp = _prepare(y_true, y_pred, sample_weight, multioutput)
    return _finish(_average(xp.abs(y_true - y_pred), w, xp), multioutput, xp)


def r2_score(
    y_true: Any,
    y_pred: Any,
    *,
    sample_weight: Any = None,
    multioutput: str = "uniform_average",
    force_finite: bool = True,
) -> Any:
    """Coefficient of determination, ``1 - SS_res / SS_tot``.

    Parameters
    ----------
    y_true, y_pred, sample_weight, multioutput
        As in :func:`mean_squared_error`.
    force_finite : bool
        Like scikit-learn: a constant ``y_true`` (``SS_tot == 0``) scores 1.0 when the
        prediction is perfect and 0.0 otherwise, instead of NaN / -inf.

    Returns
    -------
    float or array
        NaN with an ``UndefinedMetricWarning`` for fewer than two samples.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import r2_score
    >>> round(r2_score(np.array([3.0, -0.5, 2, 7]), np.array([2.5, 0.0, 2, 8])), 4)
    0.9486
    """
    y_true, y_pred, w, xp = _prepare(y_true, y_pred, sample_weight, multioutput)
    if y_true.shape[0] < 2:
        warn_undefined("R^2 score is not well-defined with less than two samples.")
        return math.nan
    weights = xp.ones_like(y_true[:, 0]) if w is None else w
    diff = y_true - y_pred
    numerator = xp.sum(weights[:, None] * diff * diff, axis=0)
    centred = y_true - _average(y_true, w, xp)
    denominator = xp.sum(weights[:, None] * centred * centred, axis=0)
    if force_finite:
        safe = xp.where(denominator == 0, xp.ones_like(denominator), denominator)
        scores = xp.where(
            denominator != 0,
            1 - numerator / safe,
            xp.where(numerator == 0, xp.ones_like(numerator), xp.zeros_like(numerator)),
        )
    else:
        scores = 1 - numerator / denominator
    return _finish(scores, multioutput, xp)
