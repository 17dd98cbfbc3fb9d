"""What every gpumath estimator shares: scikit-learn's parameter protocol and input checks.

scikit-learn is a test dependency only, so the protocol (``get_params``/``set_params``,
``NotFittedError``) is re-implemented here with the same semantics; estimators then work in
scikit-learn's ``Pipeline``, ``clone`` and ``cross_val_score`` on NumPy inputs.
"""

from __future__ import annotations

import inspect
import sys
from typing import Any

import numpy as np

from .._backend import array_namespace, is_cupy_array, to_numpy

__all__ = [
    "BaseEstimator",
    "ConvergenceWarning",
    "NotFittedError",
    "check_is_fitted",
    "check_n_features",
    "check_sample_weight",
    "check_y_given",
    "validate_data",
    "weighted_gram",
]


class NotFittedError(ValueError, AttributeError):
    """Raised when an estimator is used before ``fit`` (scikit-learn's semantics)."""


class ConvergenceWarning(UserWarning):
    """An iterative fit stopped at ``max_iter`` before reaching ``tol``."""


class BaseEstimator:
    """Parameter protocol of scikit-learn: constructor arguments are the parameters.

    Subclasses set ``_estimator_type`` to ``"classifier"`` or ``"regressor"``:
    ``gpumath.model_selection`` and scikit-learn (through ``__sklearn_tags__``) read it.
    """

    _estimator_type: str | None = None

    def _positive_y(self) -> bool:
        """Whether ``y`` must be >= 0 (scikit-learn's ``positive_only`` target tag)."""
        return False

    def __sklearn_tags__(self) -> Any:
        # scikit-learn is a test dependency only: imported when scikit-learn asks.
        from sklearn.utils import ClassifierTags, InputTags, RegressorTags, Tags, TargetTags

        kind = self._estimator_type
        return Tags(
            estimator_type=kind,
            target_tags=TargetTags(required=True, positive_only=self._positive_y()),
            classifier_tags=ClassifierTags() if kind == "classifier" else None,
            regressor_tags=RegressorTags() if kind == "regressor" else None,
            input_tags=InputTags(),
        )

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return sorted(
            name
            for name, p in signature.parameters.items()
            if name != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
        )

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters (and nested ones, ``a__b``, when ``deep``)."""
        params = {}
        for name in self._param_names():
            value = getattr(self, name)
            if deep and hasattr(value, "get_params") and not isinstance(value, type):
                params.update({f"{name}__{k}": v for k, v in value.get_params().items()})
            params[name] = value
        return params

    def set_params(self, **params: Any) -> BaseEstimator:
        """Set constructor parameters (``a__b`` reaches a nested estimator); returns self."""
        valid = self._param_names()
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in valid:
                raise ValueError(
                    f"invalid parameter {name!r} for {type(self).__name__}; "
                    f"valid parameters are {valid}"
                )
            if sub:
                getattr(self, name).set_params(**{sub: value})
            else:
                setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        defaults = inspect.signature(type(self).__init__).parameters
        changed = [
            f"{name}={getattr(self, name)!r}"
            for name in self._param_names()
            if defaults[name].default is inspect.Parameter.empty
            or _differs(getattr(self, name), defaults[name].default)
        ]
        return f"{type(self).__name__}({', '.join(changed)})"


def _differs(value: Any, default: Any) -> bool:
    try:
        return bool(value != default)
    except (TypeError, ValueError):  # arrays compare elementwise
        return value is not default


_sklearn_not_fitted: dict[type, type] = {}


def _not_fitted_error() -> type:
    """NotFittedError, which is also scikit-learn's when scikit-learn is loaded (so that its
    checks and ``except`` clauses recognise it) without gpumath importing scikit-learn."""
    exceptions = sys.modules.get("sklearn.exceptions")
    if exceptions is None:
        return NotFittedError
    theirs = exceptions.NotFittedError
    if theirs not in _sklearn_not_fitted:
        _sklearn_not_fitted[theirs] = type("NotFittedError", (NotFittedError, theirs), {})
    return _sklearn_not_fitted[theirs]


def check_is_fitted(estimator: Any, attribute: str = "coef_") -> None:
    """Raise NotFittedError unless ``estimator`` has the fitted ``attribute``."""
    if not hasattr(estimator, attribute):
        raise _not_fitted_error()(
            f"This {type(estimator).__name__} instance is not fitted yet. Call 'fit' with "
            "appropriate arguments before using this estimator."
        )


def _as_array(obj: Any, name: str) -> Any:
    """NumPy and CuPy arrays pass through; lists and other array-likes become NumPy."""
    if isinstance(obj, np.ndarray) or is_cupy_array(obj):
        return obj
    if hasattr(obj, "toarray") and hasattr(obj, "nnz"):
        raise TypeError(
            f"`{name}` must be a dense array: sparse input is not supported; got "
            f"{type(obj).__name__} (convert with .toarray())"
        )
    try:
        return np.asarray(obj)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"`{name}` must be array-like; got {type(obj).__name__}") from exc


def validate_data(
    X: Any, y: Any = None, *, sample_weight: Any = None, y_numeric: bool = True
) -> tuple[Any, Any, Any, Any]:
    """Check and convert ``X`` (2-D, real, finite) and ``y``/``sample_weight`` (1-D, matching).

    Returns ``(X, y, sample_weight, xp)``: X as float32/float64 (other real dtypes become
    float64), everything on X's device. Checking finiteness costs one device sync per call,
    which is the price of a clear error instead of a NaN fit.

    Raises
    ------
    ValueError
        Wrong dimensions, mismatched lengths, NaN or infinity, an empty X.
    TypeError
        Complex or non-numeric data, or inputs from two array libraries.
    """
    X = _as_array(X, "X")
    arrays = [X] + [
        _as_array(a, n) for a, n in ((y, "y"), (sample_weight, "sample_weight")) if a is not None
    ]
    xp = array_namespace(*arrays)
    if X.ndim != 2:
        raise ValueError(
            f"`X` must be 2-D (n_samples, n_features); got shape {tuple(X.shape)}. Reshape "
            "your data with X.reshape(-1, 1) for one feature or X.reshape(1, -1) for one sample"
        )
    for axis, what in ((0, "sample(s)"), (1, "feature(s)")):  # scikit-learn's wording
        if X.shape[axis] == 0:
            raise ValueError(
                f"`X` has 0 {what} (shape={tuple(X.shape)}) while a minimum of 1 is required."
            )
    X = _as_float(X, "X", xp)
    _check_finite(X, "X", xp)
    if y is not None:
        y = arrays[1]
        if y.ndim != 1:
            raise ValueError(f"`y` must be 1-D (n_samples,); got shape {tuple(y.shape)}")
        if y.shape[0] != X.shape[0]:
            raise ValueError(
                f"`X` and `y` must have the same number of samples; got {X.shape[0]} and "
                f"{y.shape[0]}"
            )
        if y_numeric:
            y = xp.astype(_as_float(y, "y", xp), X.dtype)
            _check_finite(y, "y", xp)
    if sample_weight is not None:
        w = arrays[-1]
        if w.shape != (X.shape[0],):
            raise ValueError(
                f"`sample_weight` must have shape ({X.shape[0]},); got {tuple(w.shape)}"
            )
        sample_weight = xp.astype(_as_float(w, "sample_weight", xp), X.dtype)
        _check_finite(sample_weight, "sample_weight", xp)
    return X, y, sample_weight, xp


def _as_float(a: Any, name: str, xp: Any) -> Any:
    kind = np.dtype(a.dtype).kind
    if kind == "f" and np.dtype(a.dtype).itemsize >= 4:
        return a
    if kind in "biuf":
        return xp.astype(a, xp.float64)
    if kind == "c":  # scikit-learn's checks expect this ValueError and its wording
        raise ValueError(f"`{name}` holds complex numbers (Complex data not supported)")
    if kind == "O":  # object arrays of numbers, as scikit-learn accepts them
        try:
            return np.asarray(a, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`{name}` must hold real numbers: argument must be a string or a number "
                f"convertible to float; got dtype object ({exc})"
            ) from exc
    raise TypeError(f"`{name}` must hold real numbers; got dtype {a.dtype}")


def _check_finite(a: Any, name: str, xp: Any) -> None:
    if not bool(xp.all(xp.isfinite(a))):
        raise ValueError(f"`{name}` contains NaN or infinity")


def check_y_given(est: Any, y: Any) -> None:
    """ValueError for ``fit(X)`` without targets (scikit-learn's wording)."""
    if y is None:
        raise ValueError(f"{type(est).__name__} requires y to be passed, but the target y is None")


def check_n_features(est: Any, X: Any) -> None:
    """ValueError unless X has as many columns as the data ``est`` was fitted on.

    The message is scikit-learn's, which its estimator checks match.
    """
    if X.shape[1] != est.n_features_in_:
        raise ValueError(
            f"X has {X.shape[1]} features, but {type(est).__name__} is expecting "
            f"{est.n_features_in_} features as input (the number seen in fit)"
        )


def check_sample_weight(sw: Any, xp: Any) -> float | None:
    """The total of ``sw`` (None when there are no weights); ValueError for negative weights
    or weights that are all zero. One host read for both checks."""
    if sw is None:
        return None
    low, total = (float(v) for v in to_numpy(xp.stack([xp.min(sw), xp.sum(sw)])))
    if low < 0:
        raise ValueError(f"`sample_weight` must be >= 0; got a minimum of {low!r}")
    if total <= 0:
        raise ValueError(f"`sample_weight` must not be all zero; got a sum of {total!r}")
    return total


def weighted_gram(X: Any, d: Any, xp: Any) -> Any:
    """``X^T diag(d) X`` for weights ``d >= 0``, as ``B^T B`` with ``B = sqrt(d) X``: NumPy's
    matmul recognises a product with its own transpose and runs BLAS syrk, which forms one
    triangle (about 0.75x the time of the general product on the CPU)."""
    B = X * xp.sqrt(d)[:, None]
    return xp.matrix_transpose(B) @ B
