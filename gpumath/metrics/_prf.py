"""Precision, recall and F1 with scikit-learn's averaging and zero-division rules."""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np

from ._classification import count_matrix, label_inputs, labels_array
from ._common import as_array, classes_of, encode, to_float, warn_undefined

__all__ = ["f1_score", "precision_score", "recall_score"]

_AVERAGES = ("binary", "micro", "macro", "weighted", None)


def _zero_division_value(zero_division: Any) -> float:
    """The score given where a denominator is 0: "warn" and 0 give 0.0, 1 gives 1.0, NaN."""
    if isinstance(zero_division, str) and zero_division == "warn":
        return 0.0
    if isinstance(zero_division, int | float | np.integer | np.floating) and not isinstance(
        zero_division, bool
    ):
        value = float(zero_division)
        if value in (0.0, 1.0) or math.isnan(value):
            return value
    raise ValueError(f"`zero_division` must be 'warn', 0, 1 or numpy.nan; got {zero_division!r}")


def _target_labels(y_true: Any, y_pred: Any, labels: Any, pos_label: Any, average: Any, xp: Any):
    """The labels to score, following scikit-learn's rules for ``average`` and ``pos_label``."""
    if average not in _AVERAGES:
        raise ValueError(
            f"`average` must be 'binary', 'micro', 'macro', 'weighted' or None; got {average!r}"
        )
    present = classes_of(xp, y_true, y_pred)
    if average == "binary":
        if present.shape[0] > 2:
            raise ValueError(
                "Target is multiclass but `average`='binary'; choose 'micro', 'macro', "
                "'weighted' or None"
            )
        pos = labels_array([pos_label], y_true, xp)
        classes_of(xp, present, pos)  # rejects a string/number mix
        if present.shape[0] == 2 and not bool(xp.any(present == pos)):
            raise ValueError(
                f"`pos_label`={pos_label!r} is not a valid label; it must be one of "
                f"{as_array(present, 'labels').tolist()}"
            )
        return pos
    if pos_label not in (None, 1):
        warnings.warn(
            f"`pos_label` (set to {pos_label!r}) is ignored when `average` != 'binary' (got "
            f"{average!r}); use labels=[pos_label] to score one class",
            UserWarning,
            stacklevel=4,
        )
    return present if labels is None else labels_array(labels, y_true, xp)


def _divide(num: Any, den: Any, value: float, xp: Any) -> tuple[Any, Any]:
    """``num / den`` with ``value`` where ``den == 0``; also returns that mask."""
    empty = den == 0
    ratio = num / xp.where(empty, xp.ones_like(den), den)
    return xp.where(empty, xp.full_like(ratio, value), ratio), empty


def _nanaverage(values: Any, weights: Any, xp: Any) -> Any:
    """Weighted mean over the non-NaN entries; plain mean if their weights sum to 0."""
    finite = ~xp.isnan(values)
    vals = xp.where(finite, values, xp.zeros_like(values))
    count = xp.sum(xp.astype(finite, values.dtype))
    plain = xp.sum(vals) / xp.where(count == 0, xp.ones_like(count), count)
    plain = xp.where(count == 0, xp.full_like(plain, math.nan), plain)
    if weights is None:
        return plain
    w = xp.where(finite, weights, xp.zeros_like(weights))
    total = xp.sum(w)
    weighted = xp.sum(w * vals) / xp.where(total == 0, xp.ones_like(total), total)
    return xp.where(total == 0, plain, weighted)


def _score(
    metric: str,
    y_true: Any,
    y_pred: Any,
    labels: Any,
    pos_label: Any,
    average: Any,
    sample_weight: Any,
    zero_division: Any,
) -> Any:
    value = _zero_division_value(zero_division)
    y_true, y_pred, w, xp = label_inputs(y_true, y_pred, sample_weight)
    targets = _target_labels(y_true, y_pred, labels, pos_label, average, xp)
    # Counts over every label seen, so samples of unscored classes still count as errors.
    every = classes_of(xp, y_true, y_pred, targets)
    cm, _ = count_matrix(y_true, y_pred, every, w, xp)
    idx, _ = encode(targets, every, xp)
    n = every.shape[0]
    tp = xp.take(xp.reshape(cm, (-1,))[:: n + 1], idx)
    pred_sum = xp.take(xp.sum(cm, axis=0), idx)
    true_sum = xp.take(xp.sum(cm, axis=1), idx)
    if average == "micro":
        tp, pred_sum, true_sum = (xp.reshape(xp.sum(a), (1,)) for a in (tp, pred_sum, true_sum))
    if metric == "precision":
        result, empty = _divide(tp, pred_sum, value, xp)
        why = "Precision is ill-defined and being set to 0.0 in labels with no predicted samples"
    elif metric == "recall":
        result, empty = _divide(tp, true_sum, value, xp)
        why = "Recall is ill-defined and being set to 0.0 in labels with no true samples"
    else:
        result, empty = _divide(2 * tp, true_sum + pred_sum, value, xp)
        why = (
            "F-score is ill-defined and being set to 0.0 in labels with no true nor "
            "predicted samples"
        )
    if isinstance(zero_division, str) and bool(xp.any(empty)):
        warn_undefined(f"{why}. Use the `zero_division` parameter to control this behaviour.")
    if average is None:
        return result
    return to_float(_nanaverage(result, true_sum if average == "weighted" else None, xp))


_DOC_PARAMETERS = """
    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples,)
        Class labels (NumPy or CuPy, one device).
    labels : array_like, optional
        Classes scored by ``average`` in {"macro", "weighted", None} (and summed by
        "micro"), in this order; default every class in either input. Samples of other
        classes still count as errors.
    pos_label : label, default 1
        The class scored when ``average="binary"`` (inputs with at most two classes).
    average : {"binary", "micro", "macro", "weighted", None}
        "micro" pools the counts over the labels, "macro" is the unweighted mean of the
        per-label scores, "weighted" weights them by true-class support; None returns the
        per-label scores as a float64 array on the inputs' device.
    sample_weight : array of shape (n_samples,), optional
    zero_division : {"warn", 0, 1, numpy.nan}
        The score where its denominator is 0. "warn" gives 0.0 and an
        ``UndefinedMetricWarning``; NaN scores are left out of the averages (a NaN result
        only when every score is NaN), as in scikit-learn.

    Returns
    -------
    float or array
        A Python float (one device sync), or an array for ``average=None``.
"""


def precision_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    return _score(
        "precision", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )


def recall_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    return _score(
        "recall", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division
    )


def f1_score(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    pos_label: Any = 1,
    average: str | None = "binary",
    sample_weight: Any = None,
    zero_division: Any = "warn",
) -> Any:
    return _score("f1", y_true, y_pred, labels, pos_label, average, sample_weight, zero_division)


precision_score.__doc__ = (
    """Precision ``tp / (tp + fp)``: the fraction of predicted positives that are right.
"""
    + _DOC_PARAMETERS
    + """
    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import precision_score
    >>> precision_score(np.array([0, 1, 1, 0]), np.array([1, 1, 1, 0]))
    0.6666666666666666
"""
)
recall_score.__doc__ = (
    """Recall ``tp / (tp + fn)``: the fraction of true positives that are found.
"""
    + _DOC_PARAMETERS
    + """
    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import recall_score
    >>> recall_score(np.array([0, 1, 1, 0]), np.array([1, 1, 0, 0]))
    0.5
"""
)
f1_score.__doc__ = (
    """F1 score ``2 tp / (2 tp + fp + fn)``, the harmonic mean of precision and recall.
"""
    + _DOC_PARAMETERS
    + """
    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import f1_score
    >>> f1_score(np.array([0, 1, 2, 0, 1, 2]), np.array([0, 2, 1, 0, 0, 1]), average="macro")
    0.26666666666666666
"""
)
