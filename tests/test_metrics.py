"""gpumath.metrics against scikit-learn on random and edge inputs, on every backend."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given
from hypothesis import strategies as st

import gpumath.metrics as gmm
from gpumath.metrics import UndefinedMetricWarning
from gpumath.testing import assert_close


def sk(fn, *args, **kwargs):
    """scikit-learn's value with its warnings silenced (ours are tested separately)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return fn(*args, **kwargs)


def quiet(fn, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UndefinedMetricWarning)
        return fn(*args, **kwargs)


# --------------------------------------------------------------------------- regression


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "r2_score"])
@pytest.mark.parametrize("shape", [(37,), (29, 3)])
@pytest.mark.parametrize("weighted", [False, True])
def test_regression_matches_sklearn(xp, rng, name, shape, weighted):
    y = rng.normal(size=shape)
    p = y + rng.normal(scale=0.5, size=shape)
    w = rng.uniform(0.1, 2.0, shape[0]) if weighted else None
    ours, ref = getattr(gmm, name), getattr(skm, name)
    got = ours(xp.asarray(y), xp.asarray(p), sample_weight=None if w is None else xp.asarray(w))
    assert isinstance(got, float)
    assert math.isclose(got, ref(y, p, sample_weight=w), rel_tol=1e-12)
    raw = ours(xp.asarray(y), xp.asarray(p), multioutput="raw_values")
    assert_close(raw, ref(y, p, multioutput="raw_values"), like=xp.asarray(y))


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "r2_score"])
def test_regression_float32_and_int(xp, rng, name):
    y = rng.normal(size=200).astype(np.float32)
    p = (y + rng.normal(size=200)).astype(np.float32)
    got = getattr(gmm, name)(xp.asarray(y), xp.asarray(p))
    ref = getattr(skm, name)(y.astype(np.float64), p.astype(np.float64))
    if name == "r2_score":
        # Here R^2 = 1 - SS_res/SS_tot sits near 0 (noise as large as the signal), where a
        # relative tolerance on R^2 itself is meaningless: float32 rounding is relative to
        # the ratio SS_res/SS_tot, so that is what is compared.
        got, ref = 1.0 - got, 1.0 - ref
    assert math.isclose(got, ref, rel_tol=1e-5)
    yi, pi = rng.integers(0, 9, 50), rng.integers(0, 9, 50)
    got = getattr(gmm, name)(xp.asarray(yi), xp.asarray(pi))
    assert math.isclose(got, getattr(skm, name)(yi, pi), rel_tol=1e-12)
    raw = getattr(gmm, name)(
        xp.asarray(y[:, None]), xp.asarray(p[:, None]), multioutput="raw_values"
    )
    assert raw.dtype == xp.float32


def test_r2_edge_cases(xp):
    const = xp.asarray([2.0, 2.0, 2.0])
    assert gmm.r2_score(const, const) == skm.r2_score([2.0] * 3, [2.0] * 3) == 1.0
    off = xp.asarray([2.0, 2.0, 2.5])
    assert gmm.r2_score(const, off) == 0.0
    with np.errstate(divide="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        assert gmm.r2_score(const, off, force_finite=False) == -math.inf
    with pytest.warns(UndefinedMetricWarning, match="less than two samples"):
        assert math.isnan(gmm.r2_score(xp.asarray([1.0]), xp.asarray([2.0])))


def test_regression_bad_input(xp):
    a = xp.asarray([1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match=r"same number of samples; got shapes \(3,\) and \(2,\)"):
        gmm.mean_squared_error(a, xp.asarray([1.0, 2.0]))
    with pytest.raises(ValueError, match="`y_pred` contains NaN or infinity"):
        gmm.mean_absolute_error(a, xp.asarray([1.0, math.nan, 3.0]))
    with pytest.raises(ValueError, match="`multioutput` must be one of"):
        gmm.r2_score(a, a, multioutput="variance_weighted")
    with pytest.raises(ValueError, match=r"`sample_weight` must have shape \(3,\)"):
        gmm.r2_score(a, a, sample_weight=xp.asarray([1.0, 2.0]))
    with pytest.raises(ValueError, match="at least one sample"):
        gmm.mean_squared_error(xp.asarray([]), xp.asarray([]))


def test_inputs_must_share_a_library(gpu):
    with pytest.raises(TypeError, match="mix array libraries"):
        gmm.mean_squared_error(np.ones(3), gpu.ones(3))


# --------------------------------------------------------------------------- labels


@pytest.mark.parametrize("average", ["micro", "macro", "weighted", None])
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_prf_multiclass_matches_sklearn(xp, rng, name, average):
    y = rng.integers(0, 5, 300)
    p = np.where(rng.random(300) < 0.6, y, rng.integers(0, 5, 300))
    w = rng.uniform(0.0, 3.0, 300)
    for kwargs in ({}, {"sample_weight": w}, {"labels": [3, 1, 7]}):
        ref = sk(getattr(skm, name), y, p, average=average, **kwargs)
        dev = {k: xp.asarray(v) if k == "sample_weight" else v for k, v in kwargs.items()}
        got = quiet(getattr(gmm, name), xp.asarray(y), xp.asarray(p), average=average, **dev)
        if average is None:
            assert_close(got, ref, like=xp.asarray(y), dtype=np.float64)
        else:
            assert isinstance(got, float)
            assert math.isclose(got, ref, rel_tol=1e-12, abs_tol=1e-15)


@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_prf_binary_pos_label(xp, rng, name):
    y = rng.integers(0, 2, 100)
    p = rng.integers(0, 2, 100)
    for pos_label in (0, 1):
        ref = sk(getattr(skm, name), y, p, pos_label=pos_label)
        assert getattr(gmm, name)(
            xp.asarray(y), xp.asarray(p), pos_label=pos_label
        ) == pytest.approx(ref, rel=1e-12)
    ys, ps = np.array(["ham", "spam"])[y], np.array(["ham", "spam"])[p]
    if xp is np:
        ref = sk(getattr(skm, name), ys, ps, pos_label="spam")
        assert getattr(gmm, name)(ys, ps, pos_label="spam") == pytest.approx(ref, rel=1e-12)


# zero_division: "warn" -> 0.0 with UndefinedMetricWarning; 0 / 1 -> that value; NaN ->
# NaN, left out of the macro/weighted averages (NaN only when every label is NaN).
@pytest.mark.parametrize("zero_division", ["warn", 0.0, 1.0, np.nan])
@pytest.mark.parametrize("average", ["binary", "macro", "weighted", "micro", None])
@pytest.mark.parametrize("name", ["precision_score", "recall_score", "f1_score"])
def test_zero_division_matches_sklearn(xp, name, average, zero_division):
    # class 2 is never predicted, class 3 never true: each ratio hits 0/0 somewhere
    y = np.array([0, 1, 2, 2, 1, 0, 2])
    p = np.array([0, 1, 3, 0, 1, 0, 3])
    if average == "binary":
        y, p = np.array([0, 0, 0, 0]), np.array([0, 0, 0, 0])  # no positives at all
    ref = sk(getattr(skm, name), y, p, average=average, zero_division=zero_division)
    got = quiet(
        getattr(gmm, name),
        xp.asarray(y),
        xp.asarray(p),
        average=average,
        zero_division=zero_division,
    )
    assert_close(
        xp.asarray(got) if average is None else np.float64(got), np.asarray(ref, dtype=np.float64)
    )


def test_zero_division_warning_and_bad_values(xp):
    y, p = xp.asarray([0, 1, 2, 2]), xp.asarray([0, 1, 1, 1])
    with pytest.warns(UndefinedMetricWarning, match="Precision is ill-defined"):
        gmm.precision_score(y, p, average="macro")
    with pytest.warns(UndefinedMetricWarning, match="F-score is ill-defined"):
        gmm.f1_score(xp.asarray([0, 0]), xp.asarray([0, 0]))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        gmm.precision_score(y, p, average="macro", zero_division=0)
        gmm.recall_score(y, p, average="macro")  # every class has true samples
    with pytest.raises(
        ValueError, match="`zero_division` must be 'warn', 0, 1 or numpy.nan; got 0.5"
    ):
        gmm.recall_score(y, p, average="macro", zero_division=0.5)


def test_prf_bad_input(xp):
    y, p = xp.asarray([0, 1, 2, 2]), xp.asarray([0, 1, 1, 2])
    with pytest.raises(ValueError, match="Target is multiclass but `average`='binary'"):
        gmm.f1_score(y, p)
    with pytest.raises(
        ValueError, match=r"`pos_label`=5 is not a valid label; it must be one of \[0, 1\]"
    ):
        gmm.precision_score(xp.asarray([0, 1]), xp.asarray([1, 1]), pos_label=5)
    with pytest.raises(ValueError, match="`average` must be"):
        gmm.recall_score(y, p, average="samples")
    with pytest.raises(ValueError, match="continuous values"):
        gmm.f1_score(xp.asarray([0.5, 1.0]), xp.asarray([1.0, 1.0]))
    with pytest.raises(ValueError, match="`y_true` contains NaN"):
        gmm.accuracy_score(xp.asarray([math.nan, 1.0]), xp.asarray([1.0, 1.0]))
    with pytest.warns(UserWarning, match="`pos_label` .* is ignored"):
        gmm.f1_score(y, p, average="macro", pos_label=2)


@given(
    st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), min_size=1, max_size=30),
    st.sampled_from(["binary", "micro", "macro", "weighted"]),
)
def test_prf_property_vs_sklearn(pairs, average):
    y, p = np.array(pairs).T
    if average == "binary" and len(np.union1d(y, p)) > 2:
        average = "macro"
    for name in ("precision_score", "recall_score", "f1_score"):
        kwargs = {"average": average, "zero_division": 1.0}
        if average == "binary":
            kwargs["pos_label"] = int(np.max(np.union1d(y, p)))
        ref = sk(getattr(skm, name), y, p, **kwargs)
        assert getattr(gmm, name)(y, p, **kwargs) == pytest.approx(ref, rel=1e-12, abs=1e-15)


def test_accuracy_matches_sklearn(xp, rng):
    y, p = rng.integers(0, 4, 90), rng.integers(0, 4, 90)
    w = rng.uniform(0, 2, 90)
    for normalize in (True, False):
        for weight in (None, w):
            ref = skm.accuracy_score(y, p, normalize=normalize, sample_weight=weight)
            got = gmm.accuracy_score(
                xp.asarray(y),
                xp.asarray(p),
                normalize=normalize,
                sample_weight=None if weight is None else xp.asarray(weight),
            )
            assert isinstance(got, float) and got == pytest.approx(ref, rel=1e-12)


@pytest.mark.parametrize("normalize", [None, "true", "pred", "all"])
def test_confusion_matrix_matches_sklearn(xp, rng, normalize):
    y = rng.integers(0, 4, 120)
    p = np.where(y == 3, 0, rng.integers(0, 3, 120))  # class 3 is never predicted
    w = rng.uniform(0, 2, 120)
    wi = rng.integers(1, 4, 120)
    for kwargs in ({}, {"sample_weight": w}, {"sample_weight": wi}, {"labels": [3, 0, 9]}):
        ref = sk(skm.confusion_matrix, y, p, normalize=normalize, **kwargs)
        dev = {k: xp.asarray(v) if k == "sample_weight" else v for k, v in kwargs.items()}
        got = gmm.confusion_matrix(xp.asarray(y), xp.asarray(p), normalize=normalize, **dev)
        assert_close(got, ref, like=xp.asarray(y))


def test_confusion_matrix_bad_input(xp):
    y = xp.asarray([0, 1, 1])
    with pytest.raises(ValueError, match="at least one label present in `y_true`"):
        gmm.confusion_matrix(y, y, labels=[5, 6])
    with pytest.raises(ValueError, match="`labels` must be 1-D with at least one label"):
        gmm.confusion_matrix(y, y, labels=[])
    with pytest.raises(ValueError, match="`normalize` must be"):
        gmm.confusion_matrix(y, y, normalize="rows")
    with pytest.raises(ValueError, match=r"`y_true` must be 1-D class labels; got shape \(3, 1\)"):
        gmm.confusion_matrix(xp.reshape(y, (3, 1)), xp.reshape(y, (3, 1)))


def test_string_labels_on_numpy():
    y = np.array(["cat", "dog", "dog", "emu"])
    p = np.array(["cat", "cat", "dog", "dog"])
    assert_close(gmm.confusion_matrix(y, p), skm.confusion_matrix(y, p))
    assert gmm.f1_score(y, p, average="weighted") == pytest.approx(
        sk(skm.f1_score, y, p, average="weighted")
    )
    with pytest.raises(TypeError, match="labels mix strings and numbers"):
        gmm.accuracy_score(y, np.array([1, 2, 3, 4]))


# --------------------------------------------------------------------------- probabilities


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_log_loss_matches_sklearn(xp, rng, dtype):
    proba = rng.dirichlet(np.ones(4), 80).astype(dtype)
    y = rng.integers(0, 4, 80)
    w = rng.uniform(0, 2, 80)
    rtol = 1e-12 if dtype == np.float64 else 1e-5
    for normalize in (True, False):
        ref = sk(skm.log_loss, y, proba.astype(np.float64), normalize=normalize, sample_weight=w)
        got = gmm.log_loss(
            xp.asarray(y), xp.asarray(proba), normalize=normalize, sample_weight=xp.asarray(w)
        )
        assert got == pytest.approx(ref, rel=rtol)
    yb, pb = rng.integers(0, 2, 50), rng.random(50)
    pb[:3] = [0.0, 1.0, 1.0]  # clipped to eps before the log, as in scikit-learn
    assert gmm.log_loss(xp.asarray(yb), xp.asarray(pb)) == pytest.approx(
        skm.log_loss(yb, pb), rel=1e-12
    )
    # a class absent from y_true, given through labels
    y3 = np.where(y == 3, 0, y)
    ref = sk(skm.log_loss, y3, proba.astype(np.float64), labels=[0, 1, 2, 3])
    assert gmm.log_loss(xp.asarray(y3), xp.asarray(proba), labels=[0, 1, 2, 3]) == pytest.approx(
        ref, rel=rtol
    )


def test_log_loss_bad_input(xp):
    y = xp.asarray([0, 1, 1])
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\]; got values from -0.1 to 0.9"):
        gmm.log_loss(y, xp.asarray([-0.1, 0.9, 0.5]))
    with pytest.raises(ValueError, match="probabilities in"):
        gmm.log_loss(y, xp.asarray([1.1, 0.9, 0.5]))
    with pytest.raises(ValueError, match="`y_proba` contains NaN"):
        gmm.log_loss(y, xp.asarray([math.nan, 0.9, 0.5]))
    rows = xp.asarray([[0.5, 0.5], [0.2, 0.8], [0.3, 0.71]])
    with pytest.raises(
        ValueError, match=r"rows of `y_proba` must sum to 1 \(within 2.5e-08\); one is off by 0.01"
    ):
        gmm.log_loss(y, rows)
    nearly = xp.asarray([[0.5, 0.5], [0.2, 0.8], [0.3, 0.7 + 1e-9]])
    assert math.isfinite(gmm.log_loss(y, nearly))  # inside the tolerance
    with pytest.raises(ValueError, match=r"holds one class only \(1\)"):
        gmm.log_loss(xp.asarray([1, 1]), xp.asarray([0.3, 0.9]))
    with pytest.raises(ValueError, match="3 columns but there are 2 classes"):
        gmm.log_loss(y, xp.ones((3, 3)) / 3)
    with pytest.raises(ValueError, match=r"same number of samples; got shapes \(3,\) and \(2,\)"):
        gmm.log_loss(y, xp.asarray([0.5, 0.5]))


def test_roc_auc_matches_sklearn(xp, rng):
    y = rng.integers(0, 2, 200)
    s = rng.normal(size=200) + y
    w = rng.uniform(0, 2, 200)
    assert gmm.roc_auc_score(xp.asarray(y), xp.asarray(s)) == pytest.approx(
        skm.roc_auc_score(y, s), rel=1e-12
    )
    got = gmm.roc_auc_score(xp.asarray(y), xp.asarray(s), sample_weight=xp.asarray(w))
    assert got == pytest.approx(skm.roc_auc_score(y, s, sample_weight=w), rel=1e-12)
    ties = np.round(s, 0).astype(np.float32)  # heavy ties, float32
    assert gmm.roc_auc_score(xp.asarray(y), xp.asarray(ties)) == pytest.approx(
        skm.roc_auc_score(y, ties), rel=1e-12
    )
    assert (
        gmm.roc_auc_score(xp.asarray(y), xp.ones(200)) == skm.roc_auc_score(y, np.ones(200)) == 0.5
    )
    pm = 2 * y - 1  # labels {-1, 1}
    assert gmm.roc_auc_score(xp.asarray(pm), xp.asarray(-s)) == pytest.approx(
        skm.roc_auc_score(pm, -s), rel=1e-12
    )


@given(st.lists(st.tuples(st.booleans(), st.integers(0, 4)), min_size=2, max_size=40))
def test_roc_auc_property_ties(pairs):
    y, s = (np.array(c) for c in zip(*pairs, strict=True))
    if len(np.unique(y)) < 2:
        return
    assert gmm.roc_auc_score(y, s) == pytest.approx(skm.roc_auc_score(y, s), rel=1e-12)


def test_roc_auc_edge_and_bad_input(xp):
    with pytest.warns(UndefinedMetricWarning, match="Only one class"):
        assert math.isnan(gmm.roc_auc_score(xp.asarray([1, 1, 1]), xp.asarray([0.1, 0.2, 0.3])))
    with pytest.raises(ValueError, match="two classes \\(binary ROC AUC only\\); got 3"):
        gmm.roc_auc_score(xp.asarray([0, 1, 2]), xp.asarray([0.1, 0.2, 0.3]))
    with pytest.raises(ValueError, match="`y_score` contains NaN"):
        gmm.roc_auc_score(xp.asarray([0, 1, 1]), xp.asarray([0.1, math.nan, 0.3]))
    with pytest.raises(ValueError, match="`y_score` must be a real 1-D array"):
        gmm.roc_auc_score(xp.asarray([0, 1]), xp.ones((2, 2)))


@pytest.mark.parametrize(
    "module", ["_classification", "_prf", "_ranking", "_regression"], ids=lambda m: m
)
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"gpumath.metrics.{module}"))
    assert result.attempted > 0 and result.failed == 0
