"""The estimator protocol and input checks shared by gpumath.linear_model."""

from __future__ import annotations

import numpy as np
import pytest

from gpumath.linear_model._base import (
    BaseEstimator,
    NotFittedError,
    check_is_fitted,
    validate_data,
)


class Toy(BaseEstimator):
    def __init__(self, alpha=1.0, inner=None):
        self.alpha = alpha
        self.inner = inner


def test_params_round_trip_and_nested():
    est = Toy(alpha=2.0, inner=Toy(alpha=3.0))
    params = est.get_params()
    assert params["alpha"] == 2.0 and params["inner__alpha"] == 3.0
    est.set_params(alpha=5.0, inner__alpha=7.0)
    assert est.alpha == 5.0 and est.inner.alpha == 7.0
    assert repr(Toy()) == "Toy()" and repr(Toy(alpha=2.0)) == "Toy(alpha=2.0)"
    with pytest.raises(ValueError, match="invalid parameter 'beta' for Toy"):
        est.set_params(beta=1)


def test_sklearn_clone_works():
    sklearn_base = pytest.importorskip("sklearn.base")
    clone = sklearn_base.clone(Toy(alpha=4.0))
    assert isinstance(clone, Toy) and clone.alpha == 4.0


def test_not_fitted():
    with pytest.raises(NotFittedError, match="This Toy instance is not fitted yet"):
        check_is_fitted(Toy())
    assert issubclass(NotFittedError, ValueError) and issubclass(NotFittedError, AttributeError)


def test_validate_data_converts_and_checks(xp):
    X = xp.asarray(np.arange(12).reshape(4, 3))
    y = xp.asarray([0, 1, 0, 1])
    Xc, yc, w, ns = validate_data(X, y, sample_weight=xp.ones(4))
    assert Xc.dtype == np.float64 and yc.dtype == np.float64 and w.dtype == np.float64
    X32 = xp.ones((4, 3), dtype=np.float32)
    assert validate_data(X32, y)[1].dtype == np.float32
    with pytest.raises(
        ValueError, match=r"`X` must be 2-D \(n_samples, n_features\); got shape \(4,\)"
    ):
        validate_data(xp.ones(4), y)
    with pytest.raises(
        ValueError, match="`X` and `y` must have the same number of samples; got 4 and 3"
    ):
        validate_data(X, xp.ones(3))
    with pytest.raises(ValueError, match="`X` contains NaN or infinity"):
        validate_data(xp.asarray([[np.nan, 1.0]]), None)
    with pytest.raises(ValueError, match="`y` contains NaN or infinity"):
        validate_data(X, xp.asarray([0.0, np.inf, 1.0, 2.0]))
    with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(4,\); got \(2,\)"):
        validate_data(X, y, sample_weight=xp.ones(2))
    with pytest.raises(ValueError, match=r"`X` holds complex numbers \(Complex data not"):
        validate_data(xp.ones((2, 2), dtype=np.complex128), None)
    with pytest.raises(ValueError, match=r"`X` has 0 feature\(s\) \(shape=\(4, 0\)\) while a"):
        validate_data(xp.ones((4, 0)), None)


def test_validate_data_accepts_lists_and_object_arrays():
    X, y, _, xp = validate_data([[1, 2], [3, 4]], [1, 2])
    assert isinstance(X, np.ndarray) and X.dtype == np.float64
    X, _, _, _ = validate_data(np.array([[1, 2.5]], dtype=object))
    assert X.dtype == np.float64 and X[0, 1] == 2.5


def test_sparse_input_is_refused_by_name():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="`X` must be a dense array: sparse input"):
        validate_data(sparse.csr_matrix(np.eye(3)))


def test_not_fitted_error_is_also_sklearns():
    exceptions = pytest.importorskip("sklearn.exceptions")
    with pytest.raises(exceptions.NotFittedError):
        check_is_fitted(Toy())
