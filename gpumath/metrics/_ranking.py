"""Ranking metric: area under the ROC curve for binary targets."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import device as _device

from ._common import check_finite, check_labels, check_pair, classes_of, to_float, warn_undefined

__all__ = ["roc_auc_score"]


def roc_auc_score(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Area under the ROC curve of a binary classifier's scores.

    Computed as the (weighted) Mann–Whitney statistic: the probability that a random
    positive scores above a random negative, ties counting one half. This is exactly the
    trapezoidal area under scikit-learn's ROC curve, ties included, and costs one sort.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        Two classes; the greater label is the positive one (as in scikit-learn).
    y_score : array of shape (n_samples,)
        Scores, probabilities or decision values of the positive class.
    sample_weight : array of shape (n_samples,), optional

    Returns
    -------
    float
        A Python float (one device sync). NaN with an ``UndefinedMetricWarning`` when
        ``y_true`` holds one class only, as in scikit-learn.

    Raises
    ------
    ValueError
        More than two classes (multiclass one-vs-rest/one-vs-one is not implemented), a
        2-D ``y_score``, NaN or infinite scores.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import roc_auc_score
    >>> roc_auc_score(np.array([0, 0, 1, 1]), np.array([0.1, 0.4, 0.35, 0.8]))
    0.75
    """
    y_true, y_score, w, xp = check_pair(y_true, y_score, sample_weight, "y_score")
    check_labels(y_true, "y_true", xp)
    if y_score.ndim != 1 or np.dtype(y_score.dtype).kind not in "biuf":
        raise ValueError(
            "`y_score` must be a real 1-D array (binary targets only); got dtype "
            f"{y_score.dtype} and shape {tuple(y_score.shape)}"
        )
    check_finite(y_score, "y_score", xp)
    classes = classes_of(xp, y_true)
    if classes.shape[0] > 2:
        raise ValueError(
            f"`y_true` must hold two classes (binary ROC AUC only); got {classes.shape[0]}"
        )
    if classes.shape[0] < 2:
        warn_undefined(
            "Only one class is present in y_true. ROC AUC score is not defined in that case."
        )
        return math.nan
    positive = y_true == classes[1]
    weight = xp.ones(y_true.shape, dtype=xp.float64, device=_device(y_true)) if w is None else w
    zero = xp.zeros_like(weight)
    distinct, group = xp.unique_inverse(y_score)
    n = distinct.shape[0]
    group = xp.reshape(group, (-1,))
    pos_w = xp.bincount(group, weights=xp.where(positive, weight, zero), minlength=n)
    neg_w = xp.bincount(group, weights=xp.where(positive, zero, weight), minlength=n)
    # Negatives scoring strictly lower win fully, those tied with the positive win half.
    below = xp.cumulative_sum(neg_w) - neg_w
    wins = xp.sum(pos_w * (below + 0.5 * neg_w))
    return to_float(wins / (xp.sum(pos_w) * xp.sum(neg_w)))
