"""gpumath.linalg.PCA against scikit-learn's PCA on real (digits, iris) and random data."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import gpumath as gm
from gpumath.linear_model import NotFittedError
from gpumath.testing import assert_close, rel_error

# scikit-learn is in the test extra; a bare GPU machine without it skips this file visibly.
datasets = pytest.importorskip("sklearn.datasets")
SkPCA = pytest.importorskip("sklearn.decomposition").PCA
PCA = importlib.import_module("gpumath.linalg").PCA

ATTRS = ["explained_variance_", "explained_variance_ratio_", "singular_values_", "mean_"]


def compare(ours, ref, rtol, *, components_rtol=None):
    assert ours.n_components_ == ref.n_components_
    for name in ATTRS:
        assert rel_error(getattr(ours, name), getattr(ref, name)) < rtol, name
    # Same sign convention (svd_flip on the rows), so components compare directly.
    err = rel_error(ours.components_, ref.components_)
    assert err < (components_rtol or rtol), f"components_: {err:.2e}"
    assert (
        abs(float(ours.noise_variance_) - ref.noise_variance_)
        <= rtol * max(ref.noise_variance_, 1e-12) + 1e-12
    )


@pytest.mark.parametrize("solver", ["full", "covariance_eigh", "auto"])
@pytest.mark.parametrize("dataset", ["digits", "iris"])
def test_matches_sklearn_on_real_data(xp, solver, dataset):
    host = (datasets.load_digits() if dataset == "digits" else datasets.load_iris()).data.astype(
        np.float64
    )
    k = 10 if dataset == "digits" else 2
    ours = PCA(k, svd_solver=solver).fit(xp.asarray(host))
    ref = SkPCA(k, svd_solver=solver).fit(host)
    # Digits has near-equal trailing variances; the top 10 are well separated.
    compare(ours, ref, 1e-8, components_rtol=1e-6)
    assert_close(ours.transform(xp.asarray(host)), ref.transform(host), rtol=1e-6)
    if solver == "auto":
        assert ours.svd_solver_ == "covariance_eigh"  # tall and narrow, as scikit-learn


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("whiten", [False, True])
def test_matches_sklearn_on_random_data(xp, rng, dtype, whiten):
    host = (rng.standard_normal((120, 40)) * np.linspace(3, 0.1, 40)).astype(dtype)
    x = xp.asarray(host)
    ours = PCA(5, svd_solver="full", whiten=whiten).fit(x)
    ref = SkPCA(5, svd_solver="full", whiten=whiten).fit(host.astype(np.float64))
    rtol = 1e-4 if dtype == np.float32 else 1e-10
    compare(ours, ref, rtol)
    for name in ATTRS + ["components_"]:
        value = getattr(ours, name)
        assert np.dtype(value.dtype) == dtype and gm.device_of(value) == gm.device_of(x), name
    z = ours.transform(x)
    assert_close(z, ref.transform(host.astype(np.float64)).astype(dtype), rtol=10 * rtol, like=x)
    assert_close(ours.fit_transform(x), gm.to_numpy(z), rtol=10 * rtol)
    back = ours.inverse_transform(z)
    assert_close(back, ref.inverse_transform(ref.transform(host)).astype(dtype), rtol=10 * rtol)


def test_randomized_solver_on_low_rank_data(xp, rng):
    u = rng.standard_normal((600, 8))
    host = u @ rng.standard_normal((8, 550)) * np.geomspace(
        1, 0.3, 550
    ) + 1e-3 * rng.standard_normal((600, 550))
    ours = PCA(8, svd_solver="auto", random_state=0).fit(xp.asarray(host))
    assert ours.svd_solver_ == "randomized"
    ref = SkPCA(8, svd_solver="full").fit(host)
    compare(ours, ref, 1e-6, components_rtol=1e-5)


def test_whole_rank_and_fraction_of_variance(xp, rng):
    host = rng.standard_normal((30, 6)) * np.array([5.0, 3.0, 2.0, 1.0, 0.5, 0.1])
    ours = PCA(None).fit(xp.asarray(host))
    assert ours.n_components_ == 6 and float(ours.noise_variance_) == 0.0
    assert abs(float(ours.explained_variance_ratio_.sum()) - 1.0) < 1e-12
    ours = PCA(0.9, svd_solver="full").fit(xp.asarray(host))
    ref = SkPCA(0.9, svd_solver="full").fit(host)
    compare(ours, ref, 1e-10)


def test_params_and_errors(xp, rng):
    pca = PCA(3, whiten=True)
    assert pca.get_params() == {
        "n_components": 3,
        "svd_solver": "auto",
        "whiten": True,
        "random_state": None,
        "iterated_power": "auto",
    }
    assert pca.set_params(n_components=2) is pca and pca.n_components == 2
    with pytest.raises(ValueError, match="unknown parameter 'alpha'"):
        pca.set_params(alpha=1)
    with pytest.raises(NotFittedError, match="This PCA instance is not fitted yet"):
        pca.transform(xp.ones((2, 3)))
    with pytest.raises(AttributeError):  # NotFittedError is also one, as in scikit-learn
        pca.inverse_transform(xp.ones((2, 2)))
    x = xp.asarray(rng.standard_normal((10, 4)))
    with pytest.raises(ValueError, match=r"`n_components` must be .* \[1, 4\]; got 5"):
        PCA(5).fit(x)
    with pytest.raises(ValueError, match="`svd_solver` must be one of"):
        PCA(2, svd_solver="arpack").fit(x)
    with pytest.raises(ValueError, match="fraction of variance needs svd_solver"):
        PCA(0.5, svd_solver="randomized").fit(x)
    with pytest.raises(ValueError, match="at least 2 samples"):
        PCA(1).fit(x[:1])
    fitted = PCA(2).fit(x)
    with pytest.raises(ValueError, match="`X` has 3 features but PCA was fitted with 4"):
        fitted.transform(x[:, :3])
    with pytest.raises(TypeError, match="`X` must be a NumPy or CuPy array"):
        PCA(2).fit([[1.0, 2.0]])
    ints = PCA(2).fit(xp.asarray(np.arange(40).reshape(10, 4) % 7))
    assert np.dtype(ints.components_.dtype) == np.float64


@pytest.mark.parametrize("solver", ["full", "covariance_eigh"])
def test_wide_data_matches_sklearn(xp, rng, solver):
    host = rng.standard_normal((20, 50))
    ours = PCA(5, svd_solver=solver).fit(xp.asarray(host))
    compare(ours, SkPCA(5, svd_solver=solver).fit(host), 1e-8)
