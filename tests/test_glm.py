"""GLM (IRLS) against statsmodels, PoissonRegressor against scikit-learn, on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gpumath import to_numpy
from gpumath.linear_model._base import NotFittedError
from gpumath.linear_model._glm import GLM, PoissonRegressor

sm = pytest.importorskip("statsmodels.api")
pytest.importorskip("sklearn")
from sklearn.datasets import load_diabetes  # noqa: E402
from sklearn.linear_model import PoissonRegressor as SkPoisson  # noqa: E402


def _cpunish():
    d = sm.datasets.cpunish.load_pandas()
    X = d.exog.to_numpy(dtype=float)
    X[:, 3] = np.log(X[:, 3])  # statsmodels' own example takes log(income)
    return X, d.endog.to_numpy(dtype=float), None


def _scotland():
    d = sm.datasets.scotland.load_pandas()
    return d.exog.to_numpy(dtype=float), d.endog.to_numpy(dtype=float), None


def _star98():
    d = sm.datasets.star98.load_pandas()
    counts = d.endog.to_numpy(dtype=float)
    trials = counts.sum(axis=1)
    return d.exog.to_numpy(dtype=float), counts[:, 0] / trials, trials


def _diabetes():
    X, y = load_diabetes(return_X_y=True)
    return X, y, None


CASES = {
    "cpunish-poisson": (_cpunish, "poisson", None, lambda: sm.families.Poisson()),
    "scotland-gamma-inverse": (_scotland, "gamma", "inverse", lambda: sm.families.Gamma()),
    "scotland-gamma-log": (
        _scotland,
        "gamma",
        None,
        lambda: sm.families.Gamma(sm.families.links.Log()),
    ),
    "star98-binomial": (_star98, "binomial", None, lambda: sm.families.Binomial()),
    "diabetes-gaussian": (_diabetes, "gaussian", None, lambda: sm.families.Gaussian()),
}


@pytest.mark.parametrize("use_t", [False, True])
@pytest.mark.parametrize("case", sorted(CASES))
def test_summary_matches_statsmodels(xp, case, use_t):
    load, family, link, sm_family = CASES[case]
    X, y, w = load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # statsmodels' DomainWarning for Gamma's inverse link
        ref = sm.GLM(y, sm.add_constant(X), family=sm_family(), var_weights=w)
        ref = ref.fit(tol=1e-13, use_t=use_t)
    model = GLM(family=family, link=link, tol=1e-10)
    model.fit(xp.asarray(X), xp.asarray(y), None if w is None else xp.asarray(w))
    s = model.summary(use_t=use_t)
    rtol = 1e-5
    np.testing.assert_allclose(s.params, ref.params, rtol=rtol)
    np.testing.assert_allclose(s.bse, ref.bse, rtol=rtol)
    np.testing.assert_allclose(s.tvalues, ref.tvalues, rtol=rtol)
    np.testing.assert_allclose(s.pvalues, ref.pvalues, rtol=rtol, atol=1e-300)
    np.testing.assert_allclose(s.conf_int, ref.conf_int(), rtol=rtol)
    np.testing.assert_allclose(s.deviance, ref.deviance, rtol=rtol)
    np.testing.assert_allclose(s.pearson_chi2, ref.pearson_chi2, rtol=rtol)
    np.testing.assert_allclose(s.scale, ref.scale, rtol=rtol)
    assert s.df_resid == ref.df_resid and s.df_model == ref.df_model
    mu = to_numpy(model.predict(xp.asarray(X)))
    np.testing.assert_allclose(mu, ref.fittedvalues, rtol=rtol)
    text = str(s)
    assert ("P>|t|" if use_t else "P>|z|") in text and "intercept" in text


@pytest.mark.parametrize("alpha", [0.0, 0.1, 1.0])
def test_poisson_regressor_matches_sklearn(xp, alpha):
    X, y, _ = _cpunish()
    X = (X - X.mean(0)) / X.std(0)
    ref = SkPoisson(alpha=alpha, tol=1e-10, max_iter=10_000).fit(X, y)
    ours = PoissonRegressor(alpha=alpha, tol=1e-10).fit(xp.asarray(X), xp.asarray(y))
    np.testing.assert_allclose(to_numpy(ours.coef_), ref.coef_, rtol=1e-5)
    np.testing.assert_allclose(float(ours.intercept_), ref.intercept_, rtol=1e-5)
    Xd, yd = xp.asarray(X), xp.asarray(y)
    np.testing.assert_allclose(to_numpy(ours.predict(Xd)), ref.predict(X), rtol=1e-5)
    assert ours.score(Xd, yd) == pytest.approx(ref.score(X, y), rel=1e-6)


def test_random_weighted_poisson_and_glm_agree_with_sklearn(xp, rng):
    n, d = 500, 4
    X = rng.standard_normal((n, d))
    y = rng.poisson(np.exp(0.3 + X @ [0.5, -0.2, 0.1, 0.0])).astype(float)
    w = rng.uniform(0.2, 2.0, size=n)
    ref = SkPoisson(alpha=0.05, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=w)
    Xd, yd, wd = xp.asarray(X), xp.asarray(y), xp.asarray(w)
    ours = PoissonRegressor(alpha=0.05, tol=1e-10).fit(Xd, yd, sample_weight=wd)
    glm = GLM(family="poisson", alpha=0.05, tol=1e-10).fit(Xd, yd, sample_weight=wd)
    np.testing.assert_allclose(to_numpy(ours.coef_), ref.coef_, rtol=1e-5)
    np.testing.assert_allclose(to_numpy(glm.coef_), ref.coef_, rtol=1e-5)
    assert ours.score(Xd, yd, wd) == pytest.approx(ref.score(X, y, w), rel=1e-6)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_dtype_out(xp, dtype):
    X, y, _ = _cpunish()
    X = (X - X.mean(0)) / X.std(0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the default tol is below float32's reach: no warning
        model = GLM(family="poisson").fit(xp.asarray(X.astype(dtype)), xp.asarray(y))
    assert model.n_iter_ < 10  # stops at the precision limit instead of running max_iter
    assert model.coef_.dtype == dtype
    assert model.predict(xp.asarray(X.astype(dtype))).dtype == dtype
    ref = sm.GLM(y, sm.add_constant(X, prepend=False), family=sm.families.Poisson()).fit()
    tol = 1e-4 if dtype == np.float32 else 1e-6
    np.testing.assert_allclose(to_numpy(model.coef_), ref.params[:-1], rtol=tol)


def test_no_intercept_matches_statsmodels(xp):
    X, y, _ = _scotland()
    ref = sm.GLM(y, X, family=sm.families.Gamma(sm.families.links.Log())).fit(tol=1e-13)
    model = GLM(family="gamma", fit_intercept=False, tol=1e-10).fit(xp.asarray(X), xp.asarray(y))
    s = model.summary()
    np.testing.assert_allclose(s.params, ref.params, rtol=1e-5)
    np.testing.assert_allclose(s.bse, ref.bse, rtol=1e-5)
    assert float(model.intercept_) == 0.0 and s.names[0] == "x0"


def test_bad_input_raises_clear_errors(xp):
    X = xp.asarray(np.arange(12.0).reshape(6, 2))
    y = xp.asarray(np.array([1.0, 0.0, 3.0, 2.0, 5.0, 4.0]))
    with pytest.raises(NotFittedError, match="not fitted yet"):
        PoissonRegressor().predict(X)
    with pytest.raises(NotFittedError, match="not fitted yet"):
        GLM().summary()
    with pytest.raises(ValueError, match=r"`y` must be >= 0 \(counts\) for family='poisson'"):
        PoissonRegressor().fit(X, y - 2.0)
    with pytest.raises(ValueError, match=r"`y` must be > 0 for family='gamma'"):
        GLM(family="gamma").fit(X, y)
    with pytest.raises(ValueError, match=r"`y` must be in \[0, 1\] for family='binomial'"):
        GLM(family="binomial").fit(X, y)
    with pytest.raises(ValueError, match="`y` contains NaN"):
        GLM().fit(X, y * xp.nan)
    with pytest.raises(ValueError, match="`X` contains NaN"):
        GLM().fit(X * xp.nan, y)
    with pytest.raises(ValueError, match="must not be all zero"):
        GLM().fit(X, y, sample_weight=xp.zeros(6))
    with pytest.raises(ValueError, match=r"summary\(\) needs an unpenalised fit"):
        GLM(alpha=1.0).fit(X, y).summary()
    with pytest.raises(ValueError, match="X has 1 features, but GLM is expecting 2"):
        GLM().fit(X, y).predict(X[:, :1])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"family": "tweedie"}, r"`family` must be one of .*got 'tweedie'"),
        ({"link": "cloglog"}, r"`link` must be None or one of .*got 'cloglog'"),
        ({"alpha": -1.0}, r"`alpha` must be a float >= 0; got -1.0"),
        ({"max_iter": 0}, r"`max_iter` must be an int >= 1; got 0"),
        ({"tol": 0.0}, r"`tol` must be a float > 0; got 0.0"),
    ],
)
def test_bad_parameters_are_named(params, match):
    with pytest.raises(ValueError, match=match):
        GLM(**params).fit(np.eye(3), np.array([1.0, 2.0, 3.0]))


def test_pipeline_cross_val_score_and_check_estimator():
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils.estimator_checks import check_estimator

    X, y, _ = _cpunish()
    X = np.vstack([X, X * 1.01])  # 34 rows so 3-fold CV has enough data per fold
    y = np.concatenate([y, y])
    ours = cross_val_score(make_pipeline(StandardScaler(), PoissonRegressor(tol=1e-10)), X, y)
    ref = cross_val_score(
        make_pipeline(StandardScaler(), SkPoisson(tol=1e-10, max_iter=1000)), X, y
    )
    np.testing.assert_allclose(ours, ref, rtol=1e-5)
    expected = {
        "check_supervised_y_2d",  # a column y raises (see tests/test_logistic.py)
        # default tol=1e-4 stops before the 1e-7 agreement this check demands; see below
        "check_sample_weight_equivalence_on_dense_data",
    }
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(PoissonRegressor(), on_fail=None)
        tight = check_estimator(PoissonRegressor(tol=1e-12), on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed <= expected, failed - expected
    tight_failed = {r["check_name"] for r in tight if r["status"] == "failed"}
    assert "check_sample_weight_equivalence_on_dense_data" not in tight_failed
