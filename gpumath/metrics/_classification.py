"""Classification metrics from labels and probabilities: accuracy, confusion matrix, log loss."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from array_api_compat import device as _device

from .._backend import asarray, device_of
from ._common import (
    as_array,
    check_finite,
    check_labels,
    check_pair,
    classes_of,
    encode,
    float_dtype,
    to_float,
)

__all__ = ["accuracy_score", "confusion_matrix", "log_loss"]

_NORMALIZE = (None, "true", "pred", "all")


def label_inputs(y_true: Any, y_pred: Any, sample_weight: Any) -> tuple:
    """``check_pair`` plus: both hold class labels (1-D, integral, one kind)."""
    y_true, y_pred, w, xp = check_pair(y_true, y_pred, sample_weight)
    check_labels(y_true, "y_true", xp)
    check_labels(y_pred, "y_pred", xp)
    return y_true, y_pred, w, xp


def labels_array(labels: Any, like: Any, xp: Any) -> Any:
    """User-given ``labels`` as a 1-D array on ``like``'s device."""
    lab = as_array(labels, "labels")
    lab = asarray(lab, device=device_of(like))
    if lab.ndim != 1 or lab.shape[0] == 0:
        raise ValueError(f"`labels` must be 1-D with at least one label; got shape {lab.shape}")
    return lab


def count_matrix(y_true: Any, y_pred: Any, labels: Any, weights: Any, xp: Any) -> Any:
    """Summed weights (float64) of (true, predicted) pairs over ``labels`` in their order.

    Samples whose true or predicted label is not in ``labels`` are left out.
    """
    n = labels.shape[0]
    order = xp.argsort(labels)
    ordered = xp.take(labels, order)
    t, t_found = encode(y_true, ordered, xp)
    p, p_found = encode(y_pred, ordered, xp)
    keep = xp.astype(t_found & p_found, xp.float64)
    w = keep if weights is None else keep * weights
    flat = xp.take(order, t) * n + xp.take(order, p)
    return xp.reshape(xp.bincount(flat, weights=w, minlength=n * n), (n, n)), t_found


def confusion_matrix(
    y_true: Any,
    y_pred: Any,
    *,
    labels: Any = None,
    sample_weight: Any = None,
    normalize: str | None = None,
) -> Any:
    """Confusion matrix ``C[i, j]``: samples of true class ``i`` predicted as class ``j``.

    Parameters
    ----------
    y_true, y_pred : array of shape (n_samples,)
        Class labels (integers, integral floats, booleans or, on NumPy, strings).
    labels : array_like, optional
        Classes to index the matrix, in this order; default the sorted union of both inputs.
        Samples with a label outside ``labels`` are left out.
    sample_weight : array of shape (n_samples,), optional
    normalize : {None, "true", "pred", "all"}
        Divide by the row sums, column sums or total (empty rows/columns give 0).

    Returns
    -------
    array of shape (n_labels, n_labels)
        On the inputs' device: int64 counts without weights or with integer weights, else
        float64.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import confusion_matrix
    >>> confusion_matrix(np.array([2, 0, 2, 2, 0, 1]), np.array([0, 0, 2, 2, 0, 2]))
    array([[2, 0, 0],
           [0, 0, 1],
           [1, 0, 2]])
    """
    if normalize not in _NORMALIZE:
        raise ValueError(f"`normalize` must be None, 'true', 'pred' or 'all'; got {normalize!r}")
    integral = sample_weight is None or np.dtype(as_array(sample_weight, "w").dtype).kind in "biu"
    y_true, y_pred, w, xp = label_inputs(y_true, y_pred, sample_weight)
    if labels is None:
        lab = classes_of(xp, y_true, y_pred)
    else:
        lab = labels_array(labels, y_true, xp)
        classes_of(xp, y_true, y_pred, lab)  # rejects a string/number mix
    cm, t_found = count_matrix(y_true, y_pred, lab, w, xp)
    if labels is not None and not bool(xp.any(t_found)):
        raise ValueError("`labels` must contain at least one label present in `y_true`")
    if normalize is None:
        return xp.astype(cm, xp.int64) if integral else cm
    if normalize == "true":
        total = xp.sum(cm, axis=1, keepdims=True)
    elif normalize == "pred":
        total = xp.sum(cm, axis=0, keepdims=True)
    else:
        total = xp.sum(cm)
    return xp.where(
        total == 0, xp.zeros_like(cm), cm / xp.where(total == 0, xp.ones_like(total), total)
    )


def accuracy_score(
    y_true: Any, y_pred: Any, *, normalize: bool = True, sample_weight: Any = None
) -> float:
    """Fraction (or, with ``normalize=False``, weighted number) of correct predictions.

    Returns a Python float (one device sync), like scikit-learn.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import accuracy_score
    >>> accuracy_score(np.array([0, 1, 2, 3]), np.array([0, 2, 1, 3]))
    0.5
    """
    y_true, y_pred, w, xp = label_inputs(y_true, y_pred, sample_weight)
    classes_of(xp, y_true[:1], y_pred[:1])  # rejects a string/number mix
    correct = xp.astype(y_true == y_pred, xp.float64)
    if w is not None:
        correct = correct * w
    total = xp.sum(correct)
    if normalize:
        total = total / (y_true.shape[0] if w is None else xp.sum(w))
    return to_float(total)


def log_loss(
    y_true: Any,
    y_proba: Any,
    *,
    normalize: bool = True,
    sample_weight: Any = None,
    labels: Any = None,
) -> float:
    """Cross-entropy of predicted probabilities: ``-mean(log p[i, y_true[i]])``.

    Parameters
    ----------
    y_true : array of shape (n_samples,)
        Class labels.
    y_proba : array of shape (n_samples,) or (n_samples, n_classes)
        Probabilities, columns in the sorted order of the classes; a 1-D array holds the
        probability of the greater of two classes. Clipped to ``[eps, 1 - eps]`` (the
        dtype's machine epsilon) before the log, like scikit-learn.
    normalize : bool
        Mean over samples (True) or sum (False).
    sample_weight : array of shape (n_samples,), optional
    labels : array_like, optional
        All the classes, when ``y_true`` does not show every one.

    Returns
    -------
    float
        A Python float (one device sync).

    Raises
    ------
    ValueError
        Probabilities outside [0, 1], NaN, rows not summing to 1 within
        ``1e-8 + sqrt(eps)`` (2.5e-8 in float64, 3.5e-4 in float32; scikit-learn
        only warns here), one class only, or a column count that is not the class count.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.metrics import log_loss
    >>> p = np.array([[0.1, 0.9], [0.9, 0.1], [0.8, 0.2], [0.35, 0.65]])
    >>> round(log_loss(np.array([1, 0, 0, 1]), p), 5)
    0.21616
    """
    y_true, y_proba, w, xp = check_pair(y_true, y_proba, sample_weight, "y_proba")
    check_labels(y_true, "y_true", xp)
    if np.dtype(y_proba.dtype).kind not in "biuf" or y_proba.ndim > 2:
        raise ValueError(
            "`y_proba` must be a real 1-D or 2-D array of probabilities; got "
            f"dtype {y_proba.dtype} and shape {tuple(y_proba.shape)}"
        )
    dtype = float_dtype(xp, y_proba)
    p = xp.astype(y_proba, dtype)
    check_finite(p, "y_proba", xp)
    low, high = float(xp.min(p)), float(xp.max(p))
    if low < 0 or high > 1:
        raise ValueError(
            f"`y_proba` must hold probabilities in [0, 1]; got values from {low} to {high}"
        )
    if labels is None:
        classes = classes_of(xp, y_true)
    else:
        classes = classes_of(xp, labels_array(labels, y_true, xp))
    idx, found = encode(y_true, classes, xp)
    if not bool(xp.all(found)):
        raise ValueError("`y_true` holds labels that are not in `labels`")
    n_classes = classes.shape[0]
    if n_classes == 1:
        raise ValueError(
            f"`y_true` holds one class only ({classes[0]}); give all the classes with `labels`"
        )
    if p.ndim == 1:
        p = xp.reshape(p, (-1, 1))
    if p.shape[1] == 1:
        p = xp.concat([1 - p, p], axis=1)
    if p.shape[1] != n_classes:
        raise ValueError(
            f"`y_proba` has {p.shape[1]} columns but there are {n_classes} classes; "
            "give all the classes with `labels`"
        )
    tol = 1e-8 + math.sqrt(float(xp.finfo(dtype).eps))
    worst = float(xp.max(xp.abs(xp.sum(p, axis=1) - 1)))
    if worst > tol:
        raise ValueError(
            f"rows of `y_proba` must sum to 1 (within {tol:.1e}); one is off by {worst:.3g}"
        )
    eps = float(xp.finfo(dtype).eps)
    p = xp.clip(p, eps, 1 - eps)
    hit = idx[:, None] == xp.arange(n_classes, device=_device(p))[None, :]
    loss = -xp.sum(xp.where(hit, xp.log(p), xp.zeros_like(p)), axis=1)
    if w is not None:
        loss = loss * xp.astype(w, dtype)
    total = xp.sum(loss)
    if normalize:
        total = total / (y_true.shape[0] if w is None else xp.astype(xp.sum(w), dtype))
    return to_float(total)
