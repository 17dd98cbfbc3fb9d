"""cross_val_score for any estimator with fit/predict/score, on the data's device."""

from __future__ import annotations

import copy
import numbers
from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import array_namespace, asarray, device_of
from ..metrics import (
    accuracy_score,
    log_loss,
    mean_absolute_error,
    mean_squared_error,
    r2_score,
)
from ..metrics._common import as_array
from ._split import KFold, StratifiedKFold

__all__ = ["clone", "cross_val_score"]


def clone(estimator: Any) -> Any:
    """An unfitted copy: ``type(est)(**est.get_params(deep=False))``, nested ones cloned too.

    Lists and tuples (a Pipeline's steps) are cloned item by item; other parameter values
    are deep-copied, as scikit-learn's ``clone`` does.
    """
    if isinstance(estimator, list | tuple):
        return type(estimator)(clone(e) for e in estimator)
    if isinstance(estimator, type) or not callable(getattr(estimator, "get_params", None)):
        return copy.deepcopy(estimator)
    params = estimator.get_params(deep=False)
    return type(estimator)(**{name: clone(value) for name, value in params.items()})


def is_classifier(estimator: Any) -> bool:
    """scikit-learn's test: the estimator's tags (or ``_estimator_type``) say classifier."""
    tags = getattr(estimator, "__sklearn_tags__", None)
    if callable(tags):
        try:
            return tags().estimator_type == "classifier"
        except (AttributeError, TypeError):
            pass
    return getattr(estimator, "_estimator_type", None) == "classifier"


def _holds_classes(y: Any, xp: Any) -> bool:
    """True for 1-D class labels (not continuous targets); one sync for float labels."""
    kind = np.dtype(y.dtype).kind
    if y.ndim != 1 or kind not in "biuUSOf":
        return False
    return kind != "f" or bool(xp.all(y == xp.round(y)))


def _splits(cv: Any, X: Any, y: Any, classifier: bool, xp: Any) -> list[tuple[Any, Any]]:
    """scikit-learn's ``check_cv``: an int gives (Stratified)KFold, else a splitter/iterable."""
    if isinstance(cv, numbers.Integral) and not isinstance(cv, bool):
        stratify = classifier and y is not None and _holds_classes(y, xp)
        cv = StratifiedKFold(int(cv)) if stratify else KFold(int(cv))
    # A string has a split method and iterates characters: neither is a cross-validator.
    if callable(getattr(cv, "split", None)) and not isinstance(cv, str | bytes):
        return list(cv.split(X, y))
    try:
        if isinstance(cv, str | bytes):
            raise TypeError
        return [(train, test) for train, test in cv]
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"`cv` must be an int, a splitter with split(X, y) or an iterable of "
            f"(train, test) index pairs; got {cv!r:.80}"
        ) from exc


_SCORERS: dict[str, tuple[Callable[..., float], float, str]] = {
    "accuracy": (accuracy_score, 1.0, "predict"),
    "r2": (r2_score, 1.0, "predict"),
    "neg_mean_squared_error": (mean_squared_error, -1.0, "predict"),
    "neg_mean_absolute_error": (mean_absolute_error, -1.0, "predict"),
    "neg_log_loss": (log_loss, -1.0, "predict_proba"),
}


def get_scorer(scoring: Any) -> Callable[[Any, Any, Any], Any]:
    """A ``scorer(estimator, X, y)``: None uses ``estimator.score``; a name or a callable."""
    if scoring is None:
        return lambda est, X, y: est.score(X, y)
    if callable(scoring):
        return scoring
    if scoring not in _SCORERS:
        raise ValueError(
            f"`scoring` must be None, a callable or one of {sorted(_SCORERS)}; got {scoring!r}"
        )
    metric, sign, method = _SCORERS[scoring]

    def scorer(est: Any, X: Any, y: Any) -> Any:
        output = getattr(est, method)(X)
        if metric is log_loss and hasattr(est, "classes_"):
            return sign * metric(y, output, labels=est.classes_)
        return sign * metric(y, output)

    return scorer


def _take(a: Any, index: Any, xp: Any) -> Any:
    """Rows ``index`` of ``a``; indices from another device (a NumPy splitter) are copied."""
    return xp.take(a, asarray(as_array(index, "index"), device=device_of(a)), axis=0)


def cross_val_score(
    estimator: Any, X: Any, y: Any = None, *, cv: Any = 5, scoring: Any = None
) -> np.ndarray:
    """Score a fresh clone of ``estimator`` on each cross-validation fold.

    Parameters
    ----------
    estimator : object
        Anything with ``fit``, ``predict`` and (for ``scoring=None``) ``score``, and
        ``get_params`` so it can be cloned: gpumath or scikit-learn estimators.
    X : array of shape (n_samples, ...)
        NumPy or CuPy; folds are gathered on its device.
    y : array of shape (n_samples,), optional
    cv : int, splitter or iterable
        An int gives :class:`StratifiedKFold` for a classifier with class labels, else
        :class:`KFold` (no shuffling), like scikit-learn; or any object with
        ``split(X, y)``, or an iterable of ``(train, test)`` index arrays.
    scoring : None, str or callable
        None: ``estimator.score``; "accuracy", "r2", "neg_mean_squared_error",
        "neg_mean_absolute_error", "neg_log_loss"; or ``scorer(estimator, X_test, y_test)``.

    Returns
    -------
    numpy.ndarray of shape (n_splits,)
        float64 scores on the host, like scikit-learn. Scores that are device arrays are
        read back after the last fold; gpumath's metrics return Python floats, so a named
        ``scoring`` costs one device sync per fold. An error in a fold is raised
        (scikit-learn's ``error_score="raise"``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LinearRegression
    >>> from gpumath.model_selection import cross_val_score
    >>> X = np.arange(20.0).reshape(10, 2)
    >>> cross_val_score(LinearRegression(), X, 3 * X[:, 0] + 1, cv=5).round(6).tolist()
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    for method in ("fit", "predict"):
        if not callable(getattr(estimator, method, None)):
            raise TypeError(
                f"`estimator` must have a {method} method; got {type(estimator).__name__}"
            )
    X = as_array(X, "X")
    y = None if y is None else as_array(y, "y")
    xp = array_namespace(X) if y is None else array_namespace(X, y)
    if y is not None and (y.ndim == 0 or y.shape[0] != X.shape[0]):
        raise ValueError(
            f"`X` and `y` must have the same number of samples; got shapes {tuple(X.shape)} "
            f"and {tuple(y.shape)}"
        )
    scorer = get_scorer(scoring)
    scores = []
    for train, test in _splits(cv, X, y, is_classifier(estimator), xp):
        model = clone(estimator)
        if y is None:
            model.fit(_take(X, train, xp))
            scores.append(scorer(model, _take(X, test, xp), None))
        else:
            model.fit(_take(X, train, xp), _take(y, train, xp))
            scores.append(scorer(model, _take(X, test, xp), _take(y, test, xp)))
    return np.asarray([float(s) for s in scores], dtype=np.float64)
