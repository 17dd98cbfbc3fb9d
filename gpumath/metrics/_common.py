"""Input checks and label encoding shared by the metrics (one error format, DESIGN.md §6)."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

from .._backend import array_namespace, is_cupy_array

_LABEL_KINDS = "biuUSO"


class UndefinedMetricWarning(UserWarning):
    """A metric is ill-defined for the input (scikit-learn's warning of the same name)."""


def as_array(obj: Any, name: str) -> Any:
    """NumPy and CuPy arrays pass through; lists and other array-likes become NumPy."""
    if isinstance(obj, np.ndarray) or is_cupy_array(obj):
        return obj
    try:
        return np.asarray(obj)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be array-like; got {type(obj).__name__}") from exc


def check_pair(y_true: Any, y_pred: Any, sample_weight: Any, pred_name: str = "y_pred") -> tuple:
    """Arrays, one namespace, equal first dimension, at least one sample.

    Returns ``(y_true, y_pred, sample_weight, xp)``; ``sample_weight`` is 1-D, finite and
    float64 (or None).
    """
    y_true = as_array(y_true, "y_true")
    y_pred = as_array(y_pred, pred_name)
    arrays = [y_true, y_pred]
    if sample_weight is not None:
        sample_weight = as_array(sample_weight, "sample_weight")
        arrays.append(sample_weight)
    xp = array_namespace(*arrays)
    if y_true.ndim == 0 or y_pred.ndim == 0:
        raise ValueError(
            f"`y_true` and `{pred_name}` must be arrays of samples; got shapes "
            f"{tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"`y_true` and `{pred_name}` must have the same number of samples; got shapes "
            f"{tuple(y_true.shape)} and {tuple(y_pred.shape)}"
        )
    if y_true.shape[0] == 0:
        raise ValueError("`y_true` must hold at least one sample; got 0")
    if sample_weight is not None:
        if tuple(sample_weight.shape) != (y_true.shape[0],):
            raise ValueError(
                f"`sample_weight` must have shape ({y_true.shape[0]},); "
                f"got {tuple(sample_weight.shape)}"
            )
        if np.dtype(sample_weight.dtype).kind not in "biuf":
            raise TypeError(f"`sample_weight` must be real; got dtype {sample_weight.dtype}")
        sample_weight = xp.astype(sample_weight, xp.float64)
        check_finite(sample_weight, "sample_weight", xp)
        if not bool(xp.any(sample_weight != 0)):  # as scikit-learn: no 0/0 NaN result
            raise ValueError("`sample_weight` must contain at least one non-zero number; got all 0")
    return y_true, y_pred, sample_weight, xp


def check_finite(a: Any, name: str, xp: Any) -> None:
    """Raise ValueError if a float array holds NaN or infinity (one device sync)."""
    if np.dtype(a.dtype).kind == "f" and not bool(xp.all(xp.isfinite(a))):
        raise ValueError(f"`{name}` contains NaN or infinity")


def float_dtype(xp: Any, *arrays: Any) -> Any:
    """The floating dtype results are computed in: the inputs' float type, else float64."""
    floats = [a.dtype for a in arrays if a is not None and np.dtype(a.dtype).kind == "f"]
    if not floats:
        return xp.float64
    return xp.result_type(*floats)


def check_labels(y: Any, name: str, xp: Any) -> None:
    """Class labels: 1-D, of a label dtype, and integral when stored as floats."""
    if y.ndim != 1:
        raise ValueError(f"`{name}` must be 1-D class labels; got shape {tuple(y.shape)}")
    kind = np.dtype(y.dtype).kind
    if kind not in _LABEL_KINDS + "f":
        raise TypeError(f"`{name}` must hold class labels; got dtype {y.dtype}")
    if kind == "f":
        check_finite(y, name, xp)
        if not bool(xp.all(y == xp.round(y))):
            raise ValueError(
                f"`{name}` must hold class labels; got continuous values (non-integer floats)"
            )


def classes_of(xp: Any, *label_arrays: Any) -> Any:
    """Sorted unique labels of all the arrays together (a string/number mix raises)."""
    textual = {np.dtype(a.dtype).kind in "USO" for a in label_arrays}
    if len(textual) > 1:
        raise TypeError("labels mix strings and numbers; give all of them one type")
    return xp.unique_values(xp.concat([xp.reshape(a, (-1,)) for a in label_arrays]))


def encode(y: Any, classes: Any, xp: Any) -> tuple[Any, Any]:
    """Positions of ``y`` in sorted ``classes`` and a mask of the values found there."""
    if y.dtype != classes.dtype and np.dtype(y.dtype).kind in "biuf":
        y = xp.astype(y, classes.dtype)  # labels are integral: exact, and one searchsorted type
    pos = xp.searchsorted(classes, y)
    pos = xp.clip(pos, 0, classes.shape[0] - 1)
    return pos, xp.take(classes, pos) == y


def to_float(value: Any) -> float:
    """A 0-d result as a Python float (one device sync, as scikit-learn's metrics return)."""
    return float(value)


def warn_undefined(message: str) -> None:
    warnings.warn(message, UndefinedMetricWarning, stacklevel=3)
