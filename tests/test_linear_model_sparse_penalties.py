"""Lasso and ElasticNet against scikit-learn (gpumath.linear_model._coordinate)."""

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
from test_linear_model_ls import BASE_VALIDATION_FAILURES  # noqa: E402

from gpumath.linear_model import ConvergenceWarning  # noqa: E402
from gpumath.linear_model._coordinate import ElasticNet, Lasso  # noqa: E402
from gpumath.testing import assert_close  # noqa: E402

SOLVERS = ("cd", "fista")

with warnings.catch_warnings():  # "does not inherit from sklearn.base.BaseEstimator": by design
    warnings.simplefilter("ignore", UserWarning)
    _CHECKS = parametrize_with_checks(
        [Lasso(), ElasticNet(), Lasso(solver="cd"), ElasticNet(l1_ratio=0.2, solver="fista")],
        expected_failed_checks=lambda estimator: BASE_VALIDATION_FAILURES,
    )


@_CHECKS
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def _reference(cls, **kw):
    """scikit-learn's coordinate descent run to a gap far below ours."""
    ref = {"Lasso": sk.Lasso, "ElasticNet": sk.ElasticNet}[cls.__name__]
    return ref(**kw, tol=1e-14, max_iter=1_000_000)


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize(
    "cls, kw", [(Lasso, {"alpha": 0.7}), (ElasticNet, {"alpha": 0.2, "l1_ratio": 0.4})]
)
@pytest.mark.parametrize("weighted", [False, True])
def test_matches_sklearn_on_diabetes(xp, rng, solver, cls, kw, weighted):
    X, y = _diabetes()
    sw = rng.uniform(0.1, 3.0, y.shape[0]) if weighted else None
    ref = _reference(cls, **kw).fit(X, y, sample_weight=sw)
    Xd = xp.asarray(X)
    model = cls(**kw, solver=solver, tol=1e-12, max_iter=100_000)
    fitted = model.fit(Xd, xp.asarray(y), sample_weight=None if sw is None else xp.asarray(sw))
    assert fitted is model
    assert_close(model.coef_, ref.coef_, rtol=1e-7, like=Xd)
    assert_close(model.intercept_, np.asarray(ref.intercept_), rtol=1e-9, like=Xd)
    # The L1 term zeroes the same coefficients.
    np.testing.assert_array_equal(np.asarray(model.coef_.tolist()) == 0, ref.coef_ == 0)
    assert 1 <= model.n_iter_ < 100_000 and float(model.dual_gap_) >= -1e-9


@pytest.mark.parametrize("solver", SOLVERS)
@pytest.mark.parametrize("shape", [(120, 40), (30, 50)])
def test_random_data_tall_and_wide(xp, rng, solver, shape):
    n, p = shape
    X = rng.standard_normal(shape)
    w = np.where(rng.random(p) < 0.2, rng.standard_normal(p), 0.0)
    y = X @ w + 0.1 * rng.standard_normal(n) + 1.5
    ref = _reference(ElasticNet, alpha=0.1, l1_ratio=0.8).fit(X, y)
    model = ElasticNet(alpha=0.1, l1_ratio=0.8, solver=solver, tol=1e-10, max_iter=100_000)
    model.fit(xp.asarray(X), xp.asarray(y))
    assert_close(model.coef_, ref.coef_, rtol=1e-6)


@pytest.mark.parametrize("solver", SOLVERS)
def test_float32(xp, rng, solver):
    X, y = _diabetes()
    ref = _reference(Lasso, alpha=0.3).fit(X, y)
    X32, y32 = xp.asarray(X.astype(np.float32)), xp.asarray(y.astype(np.float32))
    model = Lasso(alpha=0.3, solver=solver, tol=1e-7, max_iter=10_000).fit(X32, y32)
    assert model.coef_.dtype == np.float32 and model.intercept_.dtype == np.float32
    assert_close(model.coef_, ref.coef_.astype(np.float32), rtol=1e-4)


@pytest.mark.parametrize("solver", SOLVERS)
def test_default_tolerance_is_sklearns_gap_rule(rng, solver):
    """At the default tol both stop on the same gap rule: the coefficients agree to the
    accuracy that rule guarantees, and our final gap meets it."""
    X, y = _diabetes()
    ref = sk.Lasso(alpha=0.5).fit(X, y)
    model = Lasso(alpha=0.5, solver=solver).fit(X, y)
    assert float(model.dual_gap_) <= 1e-4 * float(np.sum((y - y.mean()) ** 2)) / y.shape[0]
    assert_close(model.coef_, ref.coef_, rtol=1e-2)


def test_l1_ratio_zero_is_ridge_and_large_alpha_zeroes_all(rng):
    X, y = rng.standard_normal((80, 6)), rng.standard_normal(80)
    n, alpha = 80, 0.3
    ridge = sk.Ridge(alpha=alpha * n).fit(X, y)
    enet = ElasticNet(alpha=alpha, l1_ratio=0.0, tol=1e-12, max_iter=100_000).fit(X, y)
    assert_close(enet.coef_, ridge.coef_, rtol=1e-8)
    alpha_max = np.max(np.abs((X - X.mean(0)).T @ (y - y.mean()))) / n
    for solver in SOLVERS:
        model = Lasso(alpha=1.01 * alpha_max, solver=solver).fit(X, y)
        assert np.all(model.coef_ == 0) and float(model.intercept_) == pytest.approx(y.mean())


def test_pipeline_and_cross_val_score():
    X, y = load_diabetes(return_X_y=True)
    for ours, ref in [
        (Lasso(alpha=0.5, tol=1e-10), sk.Lasso(alpha=0.5, tol=1e-10)),
        (ElasticNet(alpha=0.1, tol=1e-10), sk.ElasticNet(alpha=0.1, tol=1e-10)),
    ]:
        got = cross_val_score(make_pipeline(StandardScaler(), ours), X, y, cv=4)
        want = cross_val_score(make_pipeline(StandardScaler(), ref), X, y, cv=4)
        np.testing.assert_allclose(got, want, rtol=1e-6)


def test_warns_when_not_converged():
    X, y = _diabetes()
    for solver in SOLVERS:
        with pytest.warns(ConvergenceWarning, match="Lasso did not converge in max_iter=2"):
            model = Lasso(alpha=0.01, solver=solver, tol=1e-12, max_iter=2).fit(X, y)
        assert model.n_iter_ == 2


def test_bad_input_raises_clear_errors(xp):
    X, y = xp.asarray(np.arange(12.0).reshape(6, 2) ** 1.5), xp.asarray(np.arange(6.0))
    with pytest.raises(ValueError, match="This Lasso instance is not fitted yet"):
        Lasso().predict(X)
    with pytest.raises(ValueError, match="`X` contains NaN or infinity"):
        Lasso().fit(xp.where(X > 10, xp.nan, X), y)
    with pytest.raises(ValueError, match=r"`y` must be 1-D \(n_samples,\); got shape \(6, 2\)"):
        ElasticNet().fit(X, X)
    with pytest.raises(ValueError, match=r"`l1_ratio` must be in \[0, 1\]; got 1.5"):
        ElasticNet(l1_ratio=1.5).fit(X, y)
    with pytest.raises(ValueError, match=r"`solver` must be one of \('auto', 'cd', 'fista'\)"):
        Lasso(solver="lars").fit(X, y)
    with pytest.raises(ValueError, match="`max_iter` must be a positive int; got 0"):
        Lasso(max_iter=0).fit(X, y)
    with pytest.raises(TypeError, match="`alpha` must be a real number; got 'big'"):
        Lasso(alpha="big").fit(X, y)


def _correlated(rng, n=200, p=12):
    """Features from 4 latent factors plus a little noise: plain coordinate sweeps crawl."""
    X = rng.standard_normal((n, 4)) @ rng.standard_normal((4, p))
    X = X + 0.1 * rng.standard_normal((n, p))
    y = X @ (rng.standard_normal(p) * (rng.random(p) < 0.5)) + 0.5 * rng.standard_normal(n)
    return X, y


@pytest.mark.parametrize("solver", ("auto",) + SOLVERS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_active_set_finish_on_correlated_data(xp, rng, solver, dtype):
    """The face steps end the fit at scikit-learn's solution, with fewer sweeps than its
    coordinate descent needs for the same gap (cd), on either dtype."""
    X, y = _correlated(rng)
    ref = sk.Lasso(alpha=0.05, tol=1e-14, max_iter=1_000_000).fit(X, y)
    tol, rtol = (1e-10, 1e-7) if dtype == np.float64 else (1e-6, 2e-3)
    model = Lasso(alpha=0.05, solver=solver, tol=tol, max_iter=100_000)
    model.fit(xp.asarray(X.astype(dtype)), xp.asarray(y.astype(dtype)))
    assert model.coef_.dtype == dtype and type(model.coef_) is type(xp.asarray(X))
    assert_close(model.coef_, ref.coef_.astype(dtype), rtol=rtol)
    if solver != "fista":
        assert model.n_iter_ < ref.n_iter_


def test_auto_is_cd_when_tall_and_fista_when_wide(rng):
    for shape, same in (((60, 8), "cd"), ((20, 40), "fista")):
        X, y = rng.standard_normal(shape), rng.standard_normal(shape[0])
        auto = ElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-8).fit(X, y)
        named = ElasticNet(alpha=0.05, l1_ratio=0.7, tol=1e-8, solver=same).fit(X, y)
        assert auto.n_iter_ == named.n_iter_
        np.testing.assert_array_equal(auto.coef_, named.coef_)


def _objective(X, y, coef, intercept, alpha):
    r = y - X @ coef - intercept
    return r @ r / (2 * len(y)) + alpha * np.abs(coef).sum()


@pytest.mark.parametrize("solver", SOLVERS)
def test_duplicated_column_singular_faces(rng, solver):
    """A duplicated feature makes every face holding both copies singular: the fit still
    reaches scikit-learn's objective (the split between the copies is not unique)."""
    X = rng.standard_normal((80, 6))
    X = np.concatenate([X, X[:, :1]], axis=1)
    y = X[:, :3] @ np.array([2.0, -1.0, 0.5]) + 0.1 * rng.standard_normal(80)
    ref = sk.Lasso(alpha=0.02, tol=1e-14, max_iter=1_000_000).fit(X, y)
    model = Lasso(alpha=0.02, solver=solver, tol=1e-10, max_iter=100_000).fit(X, y)
    ours = _objective(X, y, model.coef_, model.intercept_, 0.02)
    assert ours == pytest.approx(_objective(X, y, ref.coef_, ref.intercept_, 0.02), rel=1e-8)
    np.testing.assert_allclose(model.predict(X), ref.predict(X), rtol=1e-5, atol=1e-6)


def test_face_step(xp, rng):
    """An active-set step never makes the objective worse, keeps to the face (signs kept
    or set to 0) and, from a point on the optimum's face, lands on the optimum."""
    from gpumath._backend import array_namespace
    from gpumath.linear_model._least_squares import Quadratic, face_step, objective

    X, y = _correlated(rng, n=100, p=8)
    X, y = X - X.mean(0), y - y.mean()
    n, alpha = X.shape[0], 0.05
    ref = sk.Lasso(alpha=alpha, tol=1e-14, max_iter=1_000_000, fit_intercept=False).fit(X, y)
    Xd = xp.asarray(X)
    ns = array_namespace(Xd)  # the array-API namespace the estimators use
    q = Quadratic(Xd, xp.asarray(y), ns)
    l1 = n * alpha
    for start in (rng.standard_normal(8) * (rng.random(8) < 0.7), ref.coef_ * 1.3 + 0.01):
        w = xp.asarray(np.where(start == 0, 0.0, start))
        new = face_step(q.gram, q.Xty, w, l1, 0.0, ns)
        assert float(objective(q, new, l1, 0.0)) <= float(objective(q, w, l1, 0.0)) + 1e-9
        signs_w, signs_new = np.sign(start), np.sign(np.asarray(new.tolist()))
        assert np.all((signs_new == signs_w) | (signs_new == 0))
    # Started on the optimum's face with its signs (and no crossing), it lands there.
    w = xp.asarray(ref.coef_ + 1e-3 * np.sign(ref.coef_))
    assert_close(face_step(q.gram, q.Xty, w, l1, 0.0, ns), ref.coef_, rtol=1e-8)
