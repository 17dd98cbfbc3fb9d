"""gpumath.model_selection against scikit-learn's splitters and cross-validation."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import sklearn.model_selection as skms
from sklearn.linear_model import LinearRegression, LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import gpumath.model_selection as gms
from gpumath._backend import array_namespace, is_cupy_array, to_numpy
from gpumath.metrics import mean_squared_error, r2_score


class PolyFit:
    """A tiny least-squares polynomial regressor written on the array API (both backends)."""

    def __init__(self, degree: int = 1) -> None:
        self.degree = degree

    def get_params(self, deep=True):
        return {"degree": self.degree}

    def set_params(self, **params):
        self.degree = params.get("degree", self.degree)
        return self

    def _design(self, X):
        xp = array_namespace(X)
        powers = xp.arange(self.degree + 1, dtype=X.dtype, device=X.device)
        return X[:, :1] ** powers

    def fit(self, X, y):
        xp = array_namespace(X)
        q, r = xp.linalg.qr(self._design(X))
        self.coef_ = xp.linalg.solve(r, q.T @ y)
        return self

    def predict(self, X):
        return self._design(X) @ self.coef_

    def score(self, X, y):
        return r2_score(y, self.predict(X))


def same(a, b):
    np.testing.assert_array_equal(to_numpy(a), np.asarray(b))


# --------------------------------------------------------------------------- splitters


@pytest.mark.parametrize("n, k", [(10, 2), (17, 5), (5, 5), (103, 7)])
def test_kfold_matches_sklearn(xp, n, k):
    X = xp.zeros((n, 2))
    for shuffle, seed in ((False, None), (True, 3)):
        ours = list(gms.KFold(k, shuffle=shuffle, random_state=seed).split(X))
        ref = list(skms.KFold(k, shuffle=shuffle, random_state=seed).split(np.zeros((n, 2))))
        assert len(ours) == len(ref) == k
        for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
            assert is_cupy_array(tr) == is_cupy_array(X) == is_cupy_array(te)
            same(tr, rtr)
            same(te, rte)


@pytest.mark.parametrize("shuffle, seed", [(False, None), (True, 0), (True, 11)])
def test_stratified_kfold_matches_sklearn(xp, rng, shuffle, seed):
    y = rng.choice([0, 1, 2], size=97, p=[0.6, 0.3, 0.1])
    y[:6] = [0, 0, 1, 1, 2, 2]  # each class has at least 2 members
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # small classes, checked below
        ours = list(
            gms.StratifiedKFold(4, shuffle=shuffle, random_state=seed).split(
                xp.zeros((97, 1)), xp.asarray(y)
            )
        )
        ref = list(
            skms.StratifiedKFold(4, shuffle=shuffle, random_state=seed).split(np.zeros((97, 1)), y)
        )
    for (tr, te), (rtr, rte) in zip(ours, ref, strict=True):
        same(tr, rtr)
        same(te, rte)
    # class proportions: every fold holds each class's count / 4, give or take one
    counts = np.bincount(y)
    for _, te in ours:
        fold = np.bincount(y[to_numpy(te)], minlength=3)
        assert np.all(np.abs(fold - counts / 4) < 1)


def test_splitter_errors(xp):
    with pytest.raises(ValueError, match="`n_splits` must be >= 2"):
        gms.KFold(1)
    with pytest.raises(ValueError, match="`n_splits` must be an integer; got 2.5"):
        gms.KFold(2.5)
    with pytest.raises(ValueError, match="`random_state` has no effect when `shuffle` is False"):
        gms.KFold(3, random_state=0)
    with pytest.raises(
        ValueError, match="`n_splits`=5 cannot be greater than the number of samples 3"
    ):
        list(gms.KFold(5).split(xp.zeros((3, 1))))
    y = xp.asarray([0, 0, 1, 1, 2])
    with pytest.raises(
        ValueError, match="cannot be greater than the number of members in each class"
    ):
        list(gms.StratifiedKFold(3).split(xp.zeros((5, 1)), y))
    with pytest.warns(UserWarning, match="least populated class in y has only 2 members"):
        list(gms.StratifiedKFold(3).split(xp.zeros((6, 1)), xp.asarray([0, 0, 1, 1, 1, 1])))
    with pytest.raises(ValueError, match=r"`y` must have shape \(5,\)"):
        list(gms.StratifiedKFold(2).split(xp.zeros((5, 1)), xp.asarray([0, 1])))
    with pytest.raises(TypeError, match="`random_state` must be None, an int"):
        list(gms.KFold(2, shuffle=True, random_state="seed").split(xp.zeros((4, 1))))


@pytest.mark.parametrize(
    "kwargs",
    [
        {},
        {"test_size": 0.3},
        {"test_size": 7},
        {"train_size": 0.5},
        {"train_size": 20, "test_size": 0.2},
        {"shuffle": False, "test_size": 0.2},
    ],
)
def test_train_test_split_matches_sklearn(xp, rng, kwargs):
    X = rng.normal(size=(41, 3))
    y = rng.integers(0, 3, 41)
    seed = None if kwargs.get("shuffle") is False else int(rng.integers(1000))
    ours = gms.train_test_split(xp.asarray(X), xp.asarray(y), random_state=seed, **kwargs)
    ref = skms.train_test_split(X, y, random_state=seed, **kwargs)
    assert len(ours) == 4
    for a, b in zip(ours, ref, strict=True):
        assert is_cupy_array(a) == (xp is not np)
        same(a, b)


def test_stratified_train_test_split(xp, rng):
    y = rng.choice([0, 1, 2], size=120, p=[0.5, 0.35, 0.15])
    y[:6] = [0, 0, 1, 1, 2, 2]
    X = np.arange(120.0)
    ours = gms.train_test_split(
        xp.asarray(X), xp.asarray(y), test_size=0.25, random_state=5, stratify=xp.asarray(y)
    )
    ref = skms.train_test_split(X, y, test_size=0.25, random_state=5, stratify=y)
    for a, b in zip(ours, ref, strict=True):
        same(a, b)
    test_counts = np.bincount(to_numpy(ours[3]), minlength=3)
    assert np.all(np.abs(test_counts - np.bincount(y) * 0.25) <= 1)


def test_train_test_split_errors(xp):
    a = xp.zeros((10, 2))
    with pytest.raises(ValueError, match="arrays\\[0\\] has 10, arrays\\[1\\] has 9"):
        gms.train_test_split(a, xp.zeros(9))
    with pytest.raises(ValueError, match=r"`test_size` must be in \(0, 1\) as a fraction; got 1.5"):
        gms.train_test_split(a, test_size=1.5)
    with pytest.raises(ValueError, match=r"`train_size` must be in \(0, 10\) as a count; got 10"):
        gms.train_test_split(a, train_size=10)
    with pytest.raises(ValueError, match="`test_size` \\+ `train_size` must be <= 1"):
        gms.train_test_split(a, test_size=0.6, train_size=0.6)
    with pytest.raises(ValueError, match="`stratify` needs shuffle=True"):
        gms.train_test_split(a, shuffle=False, stratify=xp.zeros(10))
    with pytest.raises(ValueError, match="at least one array"):
        gms.train_test_split()


# --------------------------------------------------------------------------- cross-validation


def test_cross_val_score_sklearn_estimators(rng):
    X = rng.normal(size=(90, 4))
    y = np.repeat([0, 1, 2], 30)
    X[:, 0] += y
    clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.5))
    for scoring in (None, "accuracy", "neg_log_loss"):
        ours = gms.cross_val_score(clf, X, y, cv=4, scoring=scoring)
        ref = skms.cross_val_score(clf, X, y, cv=4, scoring=scoring)
        np.testing.assert_allclose(ours, ref, rtol=1e-10)
    t = X @ np.array([1.0, -2.0, 0.5, 0.0]) + rng.normal(size=90)
    for scoring in ("r2", "neg_mean_squared_error", "neg_mean_absolute_error"):
        ours = gms.cross_val_score(Ridge(alpha=2.0), X, t, cv=5, scoring=scoring)
        ref = skms.cross_val_score(Ridge(alpha=2.0), X, t, cv=5, scoring=scoring)
        np.testing.assert_allclose(ours, ref, rtol=1e-10)
    cv = skms.ShuffleSplit(3, random_state=0)
    ours = gms.cross_val_score(LinearRegression(), X, t, cv=cv)
    np.testing.assert_allclose(
        ours, skms.cross_val_score(LinearRegression(), X, t, cv=cv), rtol=1e-10
    )


def test_cross_val_score_own_estimator(xp, rng):
    X = rng.uniform(-1, 1, size=(60, 1))
    y = np.sin(3 * X[:, 0]) + 0.1 * rng.normal(size=60)
    ours = gms.cross_val_score(PolyFit(3), xp.asarray(X), xp.asarray(y), cv=5)
    assert isinstance(ours, np.ndarray) and ours.dtype == np.float64 and ours.shape == (5,)
    expected = []
    for tr, te in skms.KFold(5).split(X):
        coef = np.polynomial.polynomial.polyfit(X[tr, 0], y[tr], 3)
        pred = np.polynomial.polynomial.polyval(X[te, 0], coef)
        expected.append(1 - np.sum((y[te] - pred) ** 2) / np.sum((y[te] - y[te].mean()) ** 2))
    np.testing.assert_allclose(ours, expected, rtol=1e-9)

    def neg_mse(est, X_te, y_te):
        return -mean_squared_error(y_te, est.predict(X_te))

    custom = gms.cross_val_score(
        PolyFit(3),
        xp.asarray(X),
        xp.asarray(y),
        cv=gms.KFold(4, shuffle=True, random_state=1),
        scoring=neg_mse,
    )
    assert np.all(custom < 0) and custom.shape == (4,)


def test_cross_val_score_errors(xp):
    X, y = xp.zeros((10, 1)), xp.zeros(10)
    with pytest.raises(TypeError, match="`estimator` must have a fit method"):
        gms.cross_val_score(object(), X, y)
    with pytest.raises(
        ValueError, match=r"same number of samples; got shapes \(10, 1\) and \(9,\)"
    ):
        gms.cross_val_score(PolyFit(1), X, xp.zeros(9))
    with pytest.raises(ValueError, match="`scoring` must be None, a callable or one of"):
        gms.cross_val_score(PolyFit(1), X, y, scoring="f2")
    with pytest.raises(TypeError, match="`cv` must be an int, a splitter"):
        gms.cross_val_score(PolyFit(1), X, y, cv=2.5)


def test_clone_is_unfitted_and_deep():
    pipe = make_pipeline(StandardScaler(), Ridge(alpha=3.0)).fit(np.eye(3), np.ones(3))
    copy = gms.clone(pipe)
    assert copy.steps[1][1].alpha == 3.0 and copy.steps[1][1] is not pipe.steps[1][1]
    assert not hasattr(copy.steps[1][1], "coef_")


# --------------------------------------------------------------------------- bias-variance


def test_bias_variance_identity_and_reference(xp, rng):
    X = rng.uniform(-1, 1, size=(40, 1))
    y = np.sin(3 * X[:, 0]) + 0.3 * rng.normal(size=40)
    X_te = np.linspace(-0.9, 0.9, 25)[:, None]
    y_te = np.sin(3 * X_te[:, 0]) + 0.3 * rng.normal(size=25)
    seed = int(rng.integers(2**31))
    res = gms.bias_variance_decomposition(
        PolyFit(3),
        xp.asarray(X),
        xp.asarray(y),
        X_test=xp.asarray(X_te),
        y_test=xp.asarray(y_te),
        n_rounds=30,
        rng=np.random.default_rng(seed),
    )
    assert res.noise is None and res.cross is None
    assert res.loss == pytest.approx(res.bias2 + res.variance, rel=1e-12)
    # reference: the same bootstrap indices, fitted with NumPy's polyfit
    idx = np.random.default_rng(seed).integers(0, 40, size=(30, 40))
    preds = np.stack(
        [
            np.polynomial.polynomial.polyval(
                X_te[:, 0], np.polynomial.polynomial.polyfit(X[i, 0], y[i], 3)
            )
            for i in idx
        ]
    )
    main = preds.mean(axis=0)
    assert res.loss == pytest.approx(np.mean((preds - y_te) ** 2), rel=1e-8)
    assert res.bias2 == pytest.approx(np.mean((main - y_te) ** 2), rel=1e-8)
    assert res.variance == pytest.approx(np.mean((preds - main) ** 2), rel=1e-8)


def test_bias_variance_polynomial_degrees(xp, rng):
    # 200 points, noise 0.7, test points inside [-0.8, 0.8]: over 500 seeds degree 10 always
    # had >= 1.75x the variance of degree 1 and a lower bias^2 (degree 12 on 100 points
    # sometimes fitted wild bootstrap curves that inflated both)
    X = rng.uniform(-1, 1, size=(200, 1))
    y = np.sin(3 * X[:, 0]) + 0.7 * rng.normal(size=200)
    X_te = np.linspace(-0.8, 0.8, 30)[:, None]
    y_te = np.sin(3 * X_te[:, 0]) + 0.7 * rng.normal(size=30)

    def truth(Xt):
        return xp.sin(3 * Xt[:, 0])

    results = {
        d: gms.bias_variance_decomposition(
            PolyFit(d),
            xp.asarray(X),
            xp.asarray(y),
            X_test=xp.asarray(X_te),
            y_test=xp.asarray(y_te),
            n_rounds=60,
            rng=int(rng.integers(2**31)),
            y_true_function=truth,
        )
        for d in (1, 10)
    }
    low, high = results[1], results[10]
    assert high.variance > 1.5 * low.variance
    assert high.bias2 < low.bias2
    for r in (low, high):
        assert r.noise == pytest.approx(np.mean((y_te - np.sin(3 * X_te[:, 0])) ** 2), rel=1e-10)
        assert r.loss == pytest.approx(r.bias2 + r.variance + r.noise + r.cross, rel=1e-10)


def test_bias_variance_errors(xp):
    X, y = xp.zeros((8, 1)), xp.zeros(8)
    with pytest.raises(ValueError, match="`n_rounds` must be an integer >= 2; got 1"):
        gms.bias_variance_decomposition(PolyFit(1), X, y, n_rounds=1)
    with pytest.raises(ValueError, match="`X_test` and `y_test` must be given together"):
        gms.bias_variance_decomposition(PolyFit(1), X, y, X_test=X)
    with pytest.raises(ValueError, match="`y` must be 1-D with one value per row of `X`"):
        gms.bias_variance_decomposition(PolyFit(1), X, xp.zeros(7))


@pytest.mark.parametrize("module", ["_split", "_validation", "_bias_variance"], ids=lambda m: m)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"gpumath.model_selection.{module}"))
    assert result.attempted > 0 and result.failed == 0
