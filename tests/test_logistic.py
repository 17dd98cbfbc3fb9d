"""LogisticRegression against scikit-learn on real and fresh random data, on every backend."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from gpumath import to_numpy
from gpumath.linear_model import ConvergenceWarning, LogisticRegression
from gpumath.linear_model._base import NotFittedError

sklearn = pytest.importorskip("sklearn")
from sklearn import datasets  # noqa: E402
from sklearn.linear_model import LogisticRegression as SkLogistic  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402


def _standardised(loader):
    X, y = loader(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.fixture(scope="module")
def cancer():
    return _standardised(datasets.load_breast_cancer)


@pytest.fixture(scope="module")
def iris():
    return _standardised(datasets.load_iris)


def _rel(ours, ref) -> float:
    ours = to_numpy(ours).astype(np.float64)
    return float(np.max(np.abs(ours - ref)) / np.max(np.abs(ref)))


def _sklearn(X, y, **kw):
    kw.setdefault("tol", 1e-10)
    kw.setdefault("max_iter", 10_000)
    return SkLogistic(**kw).fit(X, y)


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_binary_breast_cancer_matches_sklearn(xp, cancer, solver):
    X, y = cancer
    ref = _sklearn(X, y, C=0.5)
    ours = LogisticRegression(C=0.5, solver=solver, tol=1e-8, max_iter=1000)
    ours.fit(xp.asarray(X), xp.asarray(y))
    assert ours.coef_.shape == (1, 30) and ours.intercept_.shape == (1,)
    assert _rel(ours.coef_, ref.coef_) < 1e-5
    assert _rel(ours.intercept_, ref.intercept_) < 1e-5
    Xd = xp.asarray(X)
    assert _rel(ours.predict_proba(Xd), ref.predict_proba(X)) < 1e-5
    assert _rel(ours.decision_function(Xd), ref.decision_function(X)) < 1e-5
    np.testing.assert_array_equal(to_numpy(ours.predict(Xd)), ref.predict(X))
    assert ours.score(Xd, xp.asarray(y)) == pytest.approx(ref.score(X, y))


@pytest.mark.parametrize("solver", ["lbfgs", "newton"])
def test_multinomial_iris_matches_sklearn(xp, iris, solver):
    X, y = iris
    ref = _sklearn(X, y)
    ours = LogisticRegression(solver=solver, tol=1e-8, max_iter=1000)
    ours.fit(xp.asarray(X), xp.asarray(y))
    assert ours.coef_.shape == (3, 4)
    assert _rel(ours.coef_, ref.coef_) < 1e-5
    assert _rel(ours.intercept_, ref.intercept_) < 1e-5
    Xd = xp.asarray(X)
    assert _rel(ours.predict_log_proba(Xd), ref.predict_log_proba(X)) < 1e-5
    np.testing.assert_array_equal(to_numpy(ours.classes_), [0, 1, 2])


@pytest.mark.parametrize("l1_ratio", [1.0, 0.5])
def test_l1_and_elastic_net_match_saga(xp, iris, l1_ratio):
    X, y = iris
    ref = _sklearn(X, y, C=0.5, l1_ratio=l1_ratio, solver="saga", tol=1e-9, max_iter=100_000)
    ours = LogisticRegression(C=0.5, l1_ratio=l1_ratio, tol=1e-9, max_iter=100_000)
    ours.fit(xp.asarray(X), xp.asarray(y))
    coef = to_numpy(ours.coef_)
    assert _rel(coef, ref.coef_) < 1e-5
    # Exact zeros where saga has them: the proximal step produces true sparsity.
    np.testing.assert_array_equal(coef == 0, ref.coef_ == 0)


def test_no_penalty_and_deprecated_penalty_names(rng):
    n = 300
    X = rng.standard_normal((n, 4))
    y = (X @ [1.0, -0.5, 0.2, 0.0] + rng.logistic(size=n) > 0).astype(int)
    ref = _sklearn(X, y, C=np.inf)
    ours = LogisticRegression(C=np.inf, tol=1e-9).fit(X, y)
    assert _rel(ours.coef_, ref.coef_) < 1e-5
    with pytest.warns(FutureWarning, match="penalty"):
        none = LogisticRegression(penalty=None, tol=1e-9).fit(X, y)
    np.testing.assert_allclose(none.coef_, ours.coef_, rtol=1e-6)
    with pytest.warns(FutureWarning, match="penalty"):
        l1 = LogisticRegression(penalty="l1", C=0.05, tol=1e-9, max_iter=10_000).fit(X, y)
    same = LogisticRegression(l1_ratio=1.0, C=0.05, tol=1e-9, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(l1.coef_, same.coef_, rtol=1e-12)
    assert np.count_nonzero(l1.coef_) < 4  # C=0.05 zeroes the weak features


def test_random_multinomial_with_sample_weight_matches_sklearn(xp, rng):
    n, d, k = 400, 5, 4
    X = rng.standard_normal((n, d))
    y = np.argmax(X @ rng.standard_normal((d, k)) + rng.gumbel(size=(n, k)), axis=1)
    w = rng.uniform(0.1, 3.0, size=n)
    ref = _sklearn(X, y, C=2.0).fit(X, y, sample_weight=w)
    ours = LogisticRegression(C=2.0, tol=1e-9, max_iter=1000)
    ours.fit(xp.asarray(X), xp.asarray(y), sample_weight=xp.asarray(w))
    assert _rel(ours.coef_, ref.coef_) < 1e-5
    assert _rel(ours.intercept_, ref.intercept_) < 1e-5


def test_integer_weights_equal_repeated_rows(xp, rng):
    X = rng.standard_normal((60, 3))
    y = (X[:, 0] + rng.standard_normal(60) > 0).astype(int)
    w = rng.integers(0, 4, size=60)
    weighted = LogisticRegression(tol=1e-10).fit(xp.asarray(X), xp.asarray(y), xp.asarray(w))
    repeated = LogisticRegression(tol=1e-10).fit(
        xp.asarray(np.repeat(X, w, axis=0)), xp.asarray(np.repeat(y, w))
    )
    assert _rel(weighted.coef_, to_numpy(repeated.coef_)) < 1e-6


@pytest.mark.parametrize("solver", ["gd", "adam"])
def test_first_order_solvers_reach_the_lbfgs_solution(xp, rng, solver):
    X = rng.standard_normal((200, 3))
    y = (X @ [1.0, -1.0, 0.5] + rng.logistic(size=200) > 0).astype(int)
    exact = LogisticRegression(tol=1e-8).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        ours = LogisticRegression(solver=solver, tol=1e-6, max_iter=5000)
        ours.fit(xp.asarray(X), xp.asarray(y))
    assert _rel(ours.coef_, exact.coef_) < 1e-3


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_dtype_out(xp, cancer, dtype):
    X, y = cancer
    Xd = xp.asarray(X.astype(dtype))
    clf = LogisticRegression(tol=1e-3).fit(Xd, xp.asarray(y))
    assert clf.coef_.dtype == dtype and clf.intercept_.dtype == dtype
    proba = clf.predict_proba(Xd)
    assert proba.dtype == dtype
    np.testing.assert_allclose(to_numpy(xp.sum(proba, axis=1)), 1.0, rtol=1e-6)
    ref = _sklearn(X, y, tol=1e-3)
    assert _rel(clf.coef_, ref.coef_) < (1e-2 if dtype == np.float32 else 1e-3)


def test_string_labels_and_probability_identities(iris):
    X, y = iris
    names = np.array(["setosa", "versicolor", "virginica"])[y]
    clf = LogisticRegression(tol=1e-6).fit(X, names)
    np.testing.assert_array_equal(clf.classes_, ["setosa", "versicolor", "virginica"])
    assert clf.predict(X).dtype.kind == "U"
    assert clf.score(X, names) > 0.9
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), clf.predict_proba(X))
    binary = LogisticRegression().fit(X, names == "setosa")
    assert binary.classes_.tolist() == [False, True]
    assert binary.decision_function(X).shape == (150,)
    # Extreme scores stay finite in log space (no log(0)).
    far = LogisticRegression(C=np.inf, tol=1e-6, max_iter=20).fit(X[:, :1] * 1e3, y > 0)
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        assert np.all(np.isfinite(far.predict_log_proba(X[:, :1] * 1e6)))


def test_bad_input_raises_clear_errors(xp, cancer):
    X, y = cancer
    Xd, yd = xp.asarray(X[:20]), xp.asarray(y[:20])
    with pytest.raises(NotFittedError, match="not fitted yet"):
        LogisticRegression().predict(Xd)
    with pytest.raises(ValueError, match="at least two classes; got one class"):
        LogisticRegression().fit(Xd, xp.zeros(20))
    bad = X[:20].copy()
    bad[3, 1] = np.nan
    with pytest.raises(ValueError, match="`X` contains NaN"):
        LogisticRegression().fit(xp.asarray(bad), yd)
    with pytest.raises(ValueError, match="`y` contains NaN"):
        LogisticRegression().fit(Xd, xp.asarray(np.where(y[:20] == 1, np.nan, 0.0)))
    with pytest.raises(ValueError, match="Unknown label type: continuous"):
        LogisticRegression().fit(Xd, xp.asarray(np.linspace(0, 1, 20)))
    with pytest.raises(ValueError, match=r"`y` must be 1-D"):
        LogisticRegression().fit(Xd, xp.asarray(y[:20, None]))
    with pytest.raises(ValueError, match="requires y to be passed"):
        LogisticRegression().fit(Xd, None)
    with pytest.raises(ValueError, match="must not be all zero"):
        LogisticRegression().fit(Xd, yd, sample_weight=xp.zeros(20))
    with pytest.raises(ValueError, match="`sample_weight` must be >= 0"):
        LogisticRegression().fit(Xd, yd, sample_weight=-xp.ones(20))
    fitted = LogisticRegression().fit(Xd, yd)
    with pytest.raises(ValueError, match="X has 2 features, but LogisticRegression is expecting"):
        fitted.predict(Xd[:, :2])


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"C": -1.0}, r"`C` must be a float > 0 .*got -1.0"),
        ({"l1_ratio": 1.5}, r"`l1_ratio` must be a float in \[0, 1\]; got 1.5"),
        ({"solver": "sag"}, r"`solver` must be one of .*got 'sag'"),
        ({"l1_ratio": 0.5, "solver": "lbfgs"}, r"handles only L2 .*solver='proximal'"),
        ({"max_iter": -1}, r"`max_iter` must be an int >= 0; got -1"),
        ({"tol": -1e-3}, r"`tol` must be a float >= 0; got -0.001"),
        ({"penalty": "l3"}, r"`penalty` must be one of .*got 'l3'"),
    ],
)
def test_bad_parameters_are_named(params, match):
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    with pytest.raises(ValueError, match=match):
        LogisticRegression(**params).fit(X, np.array([0, 1, 0, 1]))


def test_sparse_input_is_refused():
    sparse = pytest.importorskip("scipy.sparse")
    with pytest.raises(TypeError, match="sparse input is not supported"):
        LogisticRegression().fit(sparse.csr_array(np.eye(3)), np.array([0, 1, 1]))


def test_pipeline_and_cross_val_score_match_sklearn():
    from sklearn.model_selection import cross_val_score
    from sklearn.pipeline import make_pipeline

    X, y = datasets.load_breast_cancer(return_X_y=True)
    ours = cross_val_score(
        make_pipeline(StandardScaler(), LogisticRegression(tol=1e-8, max_iter=500)), X, y, cv=5
    )
    ref = cross_val_score(
        make_pipeline(StandardScaler(), SkLogistic(tol=1e-8, max_iter=500)), X, y, cv=5
    )
    np.testing.assert_allclose(ours, ref)


# Checks that fail because of the shared input validation in _base.validate_data (messages
# and types that scikit-learn's checks pattern-match) or by design (2-D y is an error here).
EXPECTED_CHECK_FAILURES = {
    "check_supervised_y_2d",  # a column y raises (the issue asks for a clear error)
}


def test_sklearn_check_estimator():
    from sklearn.utils.estimator_checks import check_estimator

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = check_estimator(LogisticRegression(), on_fail=None)
    failed = {r["check_name"] for r in results if r["status"] == "failed"}
    assert failed <= EXPECTED_CHECK_FAILURES, failed - EXPECTED_CHECK_FAILURES
    assert sum(r["status"] == "passed" for r in results) >= 50


@pytest.mark.parametrize("K", [1, 4])
def test_hessian_is_the_gradients_jacobian(xp, rng, K):
    """The Hessian (upper blocks formed, lower ones mirrored) against central differences
    of the analytic gradient, in float64. With several classes the softmax is blind to a
    shift of every class's intercept: there the Hessian has curvature added (its mean
    diagonal) so that Newton steps have no component along the shift."""
    from gpumath._backend import array_namespace
    from gpumath.linear_model._logistic import _Objective

    n, d = 60, 5
    X = rng.standard_normal((n, d))
    labels = rng.integers(0, max(K, 2), n)
    Y = labels.astype(float) if K == 1 else (labels[:, None] == np.arange(K)).astype(float)
    s = rng.uniform(0.5, 1.5, n)
    Xd = xp.asarray(X)
    ns = array_namespace(Xd)  # the array-API namespace the estimators use
    obj = _Objective(Xd, xp.asarray(Y), xp.asarray(s / s.sum()), 0.1, K, True, ns)
    theta = rng.standard_normal(K * (d + 1)) * 0.3
    H = to_numpy(obj.hessian(xp.asarray(theta)))
    h = 1e-6
    numeric = np.empty_like(H)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        plus = to_numpy(obj.value_grad(xp.asarray(theta + e))[1])
        minus = to_numpy(obj.value_grad(xp.asarray(theta - e))[1])
        numeric[:, i] = (plus - minus) / (2 * h)
    np.testing.assert_allclose(H, H.T, rtol=0, atol=1e-14)
    shift = np.zeros(theta.size)
    if K > 1:
        shift[d :: d + 1] = 1 / np.sqrt(K)  # every class's intercept, unit length
        np.testing.assert_allclose(numeric @ shift, 0, atol=1e-8)  # the blind direction
        added = shift @ H @ shift  # the Hessian proper is 0 along the shift
        np.testing.assert_allclose(H @ shift, added * shift, rtol=1e-6, atol=1e-9)
        assert added == pytest.approx(np.mean(np.diag(H - added * np.outer(shift, shift))))
    keep = np.eye(theta.size) - np.outer(shift, shift)
    np.testing.assert_allclose(keep @ H @ keep, keep @ numeric @ keep, rtol=1e-6, atol=1e-8)


def test_newton_on_digits_matches_sklearn(xp):
    """Ten classes and always-zero pixels: a nearly singular Hessian, whose shift direction
    must not leak into the Newton steps."""
    X, y = datasets.load_digits(return_X_y=True)
    X = X / 16.0
    ref = SkLogistic(solver="newton-cholesky", tol=1e-8, max_iter=100).fit(X, y)
    ours = LogisticRegression(solver="newton", tol=1e-8, max_iter=100)
    ours.fit(xp.asarray(X), xp.asarray(y))
    assert _rel(ours.coef_, ref.coef_) < 1e-6
    assert _rel(ours.intercept_, ref.intercept_) < 1e-6
