"""SGDRegressor and SGDClassifier (gpumath.linear_model._sgd).

Mini-batch SGD is stochastic, so exact comparisons use ``batch_size = n_samples`` (full-batch
gradient descent, deterministic), which must converge to the closed-form or scikit-learn
optimum of the same objective; mini-batch runs are judged on their score.
"""

from __future__ import annotations

import warnings

import numpy as np
import pytest

sklearn = pytest.importorskip("sklearn")
from sklearn import linear_model as sk  # noqa: E402
from sklearn.datasets import load_breast_cancer, load_diabetes, load_iris  # noqa: E402
from sklearn.model_selection import cross_val_score  # noqa: E402
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils.estimator_checks import parametrize_with_checks  # noqa: E402
from test_linear_model_ls import BASE_VALIDATION_FAILURES  # noqa: E402

from gpumath import optim  # noqa: E402
from gpumath.linear_model import ConvergenceWarning  # noqa: E402
from gpumath.linear_model._sgd import SGDClassifier, SGDRegressor  # noqa: E402
from gpumath.testing import assert_close  # noqa: E402

SGD_FAILURES = BASE_VALIDATION_FAILURES | {
    "check_sample_weight_equivalence_on_dense_data": "stochastic mini-batches: repeating a "
    "row is not the same run as weighting it by 2 (scikit-learn's SGD estimators fail it too)",
}

with warnings.catch_warnings():  # "does not inherit from sklearn.base.BaseEstimator": by design
    warnings.simplefilter("ignore", UserWarning)
    _CHECKS = parametrize_with_checks(
        [SGDRegressor(), SGDClassifier(), SGDClassifier(loss="log_loss")],
        expected_failed_checks=lambda estimator: SGD_FAILURES,
    )


@_CHECKS
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        check(estimator)


def test_full_batch_regressor_reaches_weighted_ridge(xp, rng):
    n, p, alpha = 300, 5, 1e-2
    X = rng.standard_normal((n, p))
    y = X @ rng.standard_normal(p) + 0.1 * rng.standard_normal(n) + 3.0
    sw = rng.uniform(0.0, 2.0, n)
    # mean_i sw_i (y_i - f_i)^2 / 2 + alpha ||w||^2 / 2 is Ridge with alpha * n.
    ref = sk.Ridge(alpha=alpha * n).fit(X, y, sample_weight=sw)
    Xd = xp.asarray(X)
    model = SGDRegressor(
        alpha=alpha, batch_size=n, optimizer=optim.sgd(0.3, momentum=0.9), tol=None, max_iter=300
    )
    assert model.fit(Xd, xp.asarray(y), sample_weight=xp.asarray(sw)) is model
    assert_close(model.coef_, ref.coef_, rtol=1e-6, like=Xd)
    assert abs(float(model.intercept_) - ref.intercept_) < 1e-6
    assert model.n_iter_ == 300 and model.t_ == 300


def test_full_batch_log_loss_reaches_logistic_regression(xp):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    n, alpha = X.shape[0], 1e-2
    ref = sk.LogisticRegression(C=1 / (alpha * n), tol=1e-12, max_iter=10_000).fit(X, y)
    model = SGDClassifier(
        loss="log_loss",
        alpha=alpha,
        batch_size=n,
        optimizer=optim.sgd(1.0, momentum=0.9),
        tol=None,
        max_iter=500,
    ).fit(xp.asarray(X), xp.asarray(y))
    assert_close(model.coef_, ref.coef_, rtol=1e-5)
    assert_close(model.predict_proba(xp.asarray(X)), ref.predict_proba(X), rtol=1e-5)


@pytest.mark.parametrize("optimizer", [None, optim.adam(1e-2), optim.rmsprop(1e-2)])
def test_mini_batch_regressor_scores_like_ridge(optimizer):
    X, y = load_diabetes(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    y = (y - y.mean()) / y.std()  # adaptive optimizers take steps of about their rate
    ridge = sk.Ridge(alpha=1e-4 * X.shape[0]).fit(X, y)
    model = SGDRegressor(optimizer=optimizer, random_state=0, max_iter=300).fit(X, y)
    assert model.score(X, y) == pytest.approx(ridge.score(X, y), abs=0.01)


@pytest.mark.parametrize(
    "loss", ["hinge", "log_loss", "modified_huber", "squared_hinge", "perceptron"]
)
def test_classifier_losses_on_breast_cancer(loss):
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    model = SGDClassifier(loss=loss, random_state=0).fit(X, y)
    assert model.coef_.shape == (1, 30) and model.intercept_.shape == (1,)
    assert model.score(X, y) > 0.95
    np.testing.assert_array_equal(model.classes_, [0, 1])
    assert hasattr(model, "predict_proba") == (loss == "log_loss")


def test_multiclass_string_labels_and_proba(xp):
    X, y = load_iris(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    model = SGDClassifier(loss="log_loss", random_state=0).fit(X, labels)
    np.testing.assert_array_equal(model.classes_, ["setosa", "versicolor", "virginica"])
    assert model.coef_.shape == (3, 4) and model.decision_function(X).shape == (150, 3)
    proba = model.predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_array_equal(model.predict(X), model.classes_[np.argmax(proba, axis=1)])
    assert model.score(X, labels) > 0.8
    # Numeric labels on the device: classes_ and predictions stay there.
    Xd, yd = xp.asarray(X), xp.asarray(y)
    fitted = SGDClassifier(random_state=0).fit(Xd, yd)
    assert type(fitted.predict(Xd)) is type(Xd) and type(fitted.classes_) is type(Xd)


def test_float32_and_pipeline_cross_val_score(rng):
    X = rng.standard_normal((200, 4)).astype(np.float32)
    y = (X @ np.array([1.0, -1.0, 0.5, 0.0], dtype=np.float32)).astype(np.float32)
    model = SGDRegressor(alpha=0.0, random_state=0).fit(X, y)
    assert model.coef_.dtype == np.float32 and model.predict(X).dtype == np.float32
    Xb, yb = load_breast_cancer(return_X_y=True)
    scores = cross_val_score(make_pipeline(StandardScaler(), SGDClassifier(random_state=0)), Xb, yb)
    assert scores.shape == (5,) and scores.min() > 0.9


def test_same_random_state_same_fit(rng):
    X, y = rng.standard_normal((100, 3)), rng.standard_normal(100)
    a = SGDRegressor(random_state=7, max_iter=5, tol=None).fit(X, y)
    b = SGDRegressor(random_state=7, max_iter=5, tol=None).fit(X, y)
    np.testing.assert_array_equal(a.coef_, b.coef_)


def test_bad_input_raises_clear_errors(xp):
    X, y = xp.asarray(np.arange(12.0).reshape(6, 2)), xp.asarray([0, 1, 0, 1, 0, 1])
    with pytest.raises(ValueError, match="This SGDClassifier instance is not fitted yet"):
        SGDClassifier().predict(X)
    with pytest.raises(ValueError, match="`y` must hold at least two classes; got 1 class"):
        SGDClassifier().fit(X, xp.zeros(6))
    with pytest.raises(ValueError, match="`y` must hold class labels; got continuous values"):
        SGDClassifier().fit(X, xp.linspace(0, 1, 6))
    with pytest.raises(ValueError, match="`y` contains NaN or infinity"):
        SGDClassifier().fit(X, xp.asarray([0, 1, 0, 1, 0, np.nan]))
    with pytest.raises(ValueError, match=r"`loss` must be one of .*; got 'hinge'"):
        SGDRegressor(loss="hinge").fit(X, y)
    with pytest.raises(ValueError, match=r"`penalty` must be one of .*; got 'l3'"):
        SGDRegressor(penalty="l3").fit(X, y)
    with pytest.raises(ValueError, match="`batch_size` must be a positive int; got 0"):
        SGDRegressor(batch_size=0).fit(X, y)
    with pytest.raises(ValueError, match="SGDRegressor requires y to be passed"):
        SGDRegressor().fit(X, None)
    with pytest.raises(AttributeError, match="predict_proba is available for loss='log_loss'"):
        SGDClassifier().predict_proba  # noqa: B018 - the attribute access is the test
    with np.errstate(all="ignore"), pytest.raises(FloatingPointError, match="loss became"):
        SGDRegressor(optimizer=optim.sgd(1e3), tol=None, max_iter=100).fit(X * 1e3, y)
