"""LinearRegression and Ridge against scikit-learn (gpumath.linear_model._least_squares)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import linear_model as sk  # noqa: E402
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402

from gpumath.linear_model._base import NotFittedError  # noqa: E402
from gpumath.linear_model._least_squares import (  # noqa: E402
    ConvergenceWarning,
    LinearRegression,
    Ridge,
)
from gpumath.testing import assert_close, rel_error  # noqa: E402

LR_SOLVERS = ("auto", "lstsq", "cholesky", "qr", "gd")
RIDGE_SOLVERS = ("auto", "cholesky", "svd", "qr", "gd")

# Checks of scikit-learn's suite these estimators fail on purpose; each with the reason.
BASE_VALIDATION_FAILURES = {
    "check_supervised_y_2d": "a (n, 1) y is an error by design ('`y` must be 1-D'), not a "
    "DataConversionWarning",
}
DIRECT_SOLVER_FAILURES = {
    "check_non_transformer_estimators_n_iter": "n_iter_ is None for the direct solvers, as "
    "in scikit-learn's Ridge (which its own suite excludes from this check)",
}


def _expected_failures(estimator):
    if estimator.solver == "gd":
        return BASE_VALIDATION_FAILURES
    return BASE_VALIDATION_FAILURES | DIRECT_SOLVER_FAILURES


with warnings.catch_warnings():  # "does not inherit from sklearn.base.BaseEstimator": by design
    warnings.simplefilter("ignore", UserWarning)
    _CHECKS = parametrize_with_checks(
        [LinearRegression(), Ridge(), LinearRegression(solver="gd"), Ridge(solver="qr")],
        expected_failed_checks=_expected_failures,
    )


@_CHECKS
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _diabetes(standardise: bool):
    X, y = load_diabetes(return_X_y=True)
    return (StandardScaler().fit_transform(X) if standardise else X), y


def _rtol(solver: str, dtype) -> float:
    if dtype == np.float32:
        return 1e-4
    return 1e-7 if solver == "gd" else 1e-9


@pytest.mark.parametrize("solver", LR_SOLVERS)
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_linear_regression_matches_sklearn_on_diabetes(xp, rng, solver, weighted, fit_intercept):
    X, y = _diabetes(standardise=solver == "gd")
    sw = rng.uniform(0.1, 3.0, y.shape[0]) if weighted else None
    ref = sk.LinearRegression(fit_intercept=fit_intercept).fit(X, y, sample_weight=sw)
    Xd, yd = xp.asarray(X), xp.asarray(y)
    model = LinearRegression(fit_intercept=fit_intercept, solver=solver, tol=1e-12)
    fitted = model.fit(Xd, yd, sample_weight=None if sw is None else xp.asarray(sw))
    assert fitted is model and model.n_features_in_ == 10
    assert_close(model.coef_, ref.coef_, rtol=_rtol(solver, np.float64), like=Xd)
    assert_close(model.intercept_, np.asarray(ref.intercept_), rtol=1e-9, like=Xd)
    assert (model.n_iter_ is None) == (solver != "gd")
    assert_close(model.predict(Xd), ref.predict(X), rtol=1e-9, like=Xd)
    assert model.score(Xd, yd) == pytest.approx(ref.score(X, y), rel=1e-9)


@pytest.mark.parametrize("solver", RIDGE_SOLVERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_ridge_matches_sklearn_weighted(xp, rng, solver, dtype):
    X, y = _diabetes(standardise=True)
    sw = rng.uniform(0.1, 3.0, y.shape[0])
    alpha = float(rng.uniform(0.1, 10.0))
    ref = sk.Ridge(alpha=alpha, solver="svd").fit(X, y, sample_weight=sw)
    Xd = xp.asarray(X.astype(dtype))
    model = Ridge(alpha=alpha, solver=solver, tol=1e-12 if dtype == np.float64 else 1e-7)
    model.fit(Xd, xp.asarray(y), sample_weight=xp.asarray(sw))
    assert_close(model.coef_, ref.coef_.astype(dtype), rtol=_rtol(solver, dtype), like=Xd)
    assert model.intercept_.dtype == dtype and model.predict(Xd).dtype == dtype


@pytest.mark.parametrize("shape", [(200, 30), (40, 90)])
@pytest.mark.parametrize("solver", LR_SOLVERS)
def test_random_tall_and_wide(xp, rng, shape, solver):
    n, p = shape
    X = rng.standard_normal(shape) + rng.uniform(-2, 2, p)
    y = X @ rng.standard_normal(p) + rng.standard_normal(n)
    # Wide problems have many solutions: scikit-learn returns the one of least norm.
    ref = sk.LinearRegression().fit(X, y)
    model = LinearRegression(solver=solver, tol=1e-12, max_iter=100000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # cholesky of a singular wide Gram
        model.fit(xp.asarray(X), xp.asarray(y))
    if p > n and solver == "cholesky":
        # The dual normal equations X X^T are singular once X is centred: only the
        # predictions on the training data are determined.
        assert_close(model.predict(xp.asarray(X)), ref.predict(X), rtol=1e-6)
        return
    assert_close(model.coef_, ref.coef_, rtol=1e-6 if solver == "gd" else 1e-8)
    ridge = sk.Ridge(alpha=2.5).fit(X, y)
    ours = Ridge(alpha=2.5, solver=solver if solver != "lstsq" else "svd", tol=1e-12).fit(
        xp.asarray(X), xp.asarray(y)
    )
    assert_close(ours.coef_, ridge.coef_, rtol=1e-7 if solver == "gd" else 1e-9)


def test_integer_weights_equal_repeated_rows(rng):
    X, y = rng.standard_normal((60, 4)), rng.standard_normal(60)
    counts = rng.integers(0, 4, 60)
    weighted = Ridge(alpha=0.7).fit(X, y, sample_weight=counts.astype(float))
    repeated = Ridge(alpha=0.7).fit(np.repeat(X, counts, axis=0), np.repeat(y, counts))
    assert rel_error(weighted.coef_, repeated.coef_) < 1e-12
    assert float(weighted.intercept_) == pytest.approx(float(repeated.intercept_), rel=1e-12)


def test_pipeline_and_cross_val_score(rng):
    X, y = _diabetes(standardise=False)
    for ours, ref in [
        (LinearRegression(), sk.LinearRegression()),
        (Ridge(alpha=3.0), sk.Ridge(alpha=3.0)),
    ]:
        got = cross_val_score(make_pipeline(StandardScaler(), ours), X, y, cv=5)
        want = cross_val_score(make_pipeline(StandardScaler(), ref), X, y, cv=5)
        np.testing.assert_allclose(got, want, rtol=1e-10)


def test_float32_stays_float32_and_get_params(xp, rng):
    X = xp.asarray(rng.standard_normal((50, 3), dtype=np.float32))
    y = xp.asarray(rng.standard_normal(50, dtype=np.float32))
    model = LinearRegression().fit(X, y)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    assert model.predict(X).dtype == np.float32
    assert Ridge(alpha=2.0).get_params() == {
        "alpha": 2.0,
        "fit_intercept": True,
        "max_iter": 10000,
        "solver": "auto",
        "tol": 1e-6,
    }


def test_auto_falls_back_to_svd_for_collinear_columns(rng):
    X = rng.standard_normal((30, 3))
    X = np.column_stack([X, X[:, 0] + X[:, 1]])  # rank 3: only the SVD gives sklearn's answer
    y = rng.standard_normal(30)
    assert_close(
        LinearRegression().fit(X, y).coef_, sk.LinearRegression().fit(X, y).coef_, rtol=1e-8
    )


def test_gd_warns_when_not_converged(rng):
    X, y = _diabetes(standardise=True)
    with pytest.warns(ConvergenceWarning, match="did not converge in max_iter=3"):
        model = LinearRegression(solver="gd", max_iter=3).fit(X, y)
    assert model.n_iter_ == 3


def test_bad_input_raises_clear_errors(xp):
    X, y = xp.asarray(np.arange(12.0).reshape(6, 2) ** 1.5), xp.asarray(np.arange(6.0))
    with pytest.raises(NotFittedError, match="This Ridge instance is not fitted yet"):
        Ridge().predict(X)
    with pytest.raises(ValueError, match="`X` contains NaN or infinity"):
        LinearRegression().fit(xp.where(X > 10, xp.nan, X), y)
    with pytest.raises(ValueError, match="`y` contains NaN or infinity"):
        LinearRegression().fit(X, xp.where(y > 3, xp.inf, y))
    with pytest.raises(ValueError, match=r"`y` must be 1-D \(n_samples,\); got shape \(6, 1\)"):
        LinearRegression().fit(X, y[:, None])
    with pytest.raises(ValueError, match="must have the same number of samples; got 6 and 5"):
        Ridge().fit(X, y[:5])
    with pytest.raises(ValueError, match="LinearRegression requires y to be passed"):
        LinearRegression().fit(X, None)
    with pytest.raises(ValueError, match=r"`solver` must be one of .*; got 'lu'"):
        LinearRegression(solver="lu").fit(X, y)
    with pytest.raises(ValueError, match="`alpha` must be >= 0.0; got -1.0"):
        Ridge(alpha=-1.0).fit(X, y)
    with pytest.raises(ValueError, match="`sample_weight` must be >= 0; got a minimum of -1.0"):
        Ridge().fit(X, y, sample_weight=xp.asarray([1.0, -1.0, 1, 1, 1, 1]))
    with pytest.raises(ValueError, match="`sample_weight` must not be all zero"):
        Ridge().fit(X, y, sample_weight=xp.zeros(6))
    model = Ridge().fit(X, y)
    with pytest.raises(ValueError, match="X has 3 features, but Ridge is expecting 2 features"):
        model.predict(xp.ones((2, 3)))
