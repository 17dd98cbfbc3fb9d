"""Edge-case semantics against NumPy/SciPy/scikit-learn: empty and zero-size axes, 0-d data,
infinities and NaN, constant data, non-contiguous inputs. Each case here once gave a result
different from the reference (a wrong value, a wrong shape or a crash on valid input)."""

from __future__ import annotations

import importlib
import warnings

import numpy as np
import pytest
import scipy.stats
from sklearn.decomposition import PCA as SkPCA

from gpumath import to_numpy
from gpumath.testing import assert_close

stats = importlib.import_module("gpumath.stats.descriptive")
order = importlib.import_module("gpumath.stats._order")
running = importlib.import_module("gpumath.stats._running")
pca = importlib.import_module("gpumath.linalg._pca")
dense = importlib.import_module("gpumath.linalg._dense")
decomp = importlib.import_module("gpumath.linalg._decomp")
matmul_mod = importlib.import_module("gpumath.ops.matmul")
conv_mod = importlib.import_module("gpumath.ops.conv")

INF = np.inf


def _quiet(fn, *args, **kwargs):
    """Call ``fn`` with NumPy's empty-slice and invalid-value warnings silenced."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        return fn(*args, **kwargs)


# --- reductions whose result is empty: (3, 0) along axis 0, (0, 4) along axis 1 ----------


@pytest.mark.parametrize(("shape", "axis"), [((3, 0), 0), ((0, 4), 1), ((0, 4), -1)])
@pytest.mark.parametrize("keepdims", [False, True])
@pytest.mark.parametrize("name", ["var", "std", "sem"])
def test_spread_with_no_slices_is_empty(xp, shape, axis, keepdims, name):
    host = np.zeros(shape)
    ref_fn = scipy.stats.sem if name == "sem" else getattr(np, name)
    ref = _quiet(ref_fn, host, axis=axis, keepdims=keepdims)
    got = getattr(stats, name)(xp.asarray(host), axis=axis, keepdims=keepdims)
    assert_close(got, ref)


@pytest.mark.parametrize(("shape", "axis"), [((3, 0), 0), ((0, 4), 1)])
def test_moment_with_no_slices_is_empty(xp, shape, axis):
    host = np.zeros(shape)
    for k in (2, 3):
        ref = scipy.stats.moment(host, order=k, axis=axis)
        assert_close(stats.moment(xp.asarray(host), order=k, axis=axis), ref)


@pytest.mark.parametrize(("shape", "rowvar"), [((0, 4), True), ((3, 0), False)])
def test_cov_of_no_variables_is_empty(xp, shape, rowvar):
    host = np.zeros(shape)
    x = xp.asarray(host)
    assert_close(stats.cov(x, rowvar=rowvar), _quiet(np.cov, host, rowvar=rowvar))
    assert_close(stats.corrcoef(x, rowvar=rowvar), _quiet(np.corrcoef, host, rowvar=rowvar))


# --- median: numpy.median's arithmetic, not the interpolating quantile --------------------


@pytest.mark.parametrize(
    "values",
    [[-INF, INF, 3.0], [1.0, INF], [-INF, 1.0, 2.0, INF], [INF, INF], [-INF, -INF, 1.0]],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_median_with_infinities_matches_numpy(xp, values, dtype):
    host = np.array(values, dtype=dtype)
    assert_close(order.median(xp.asarray(host)), np.median(host))


def test_median_with_infinities_along_an_axis(xp, rng):
    host = rng.normal(size=(7, 6))
    host[0, 1], host[2, 1], host[3, 2], host[4, 4], host[5, 4] = INF, -INF, INF, -INF, np.nan
    for axis in (0, 1):
        ref = np.median(host, axis=axis)
        assert_close(order.median(xp.asarray(host), axis=axis), ref)
    # the interpolating quantile keeps NumPy's quantile semantics (NaN next to an infinity)
    line = np.array([-INF, 3.0, INF])
    assert_close(order.quantile(xp.asarray(line), 0.5), np.quantile(line, 0.5))


@pytest.mark.parametrize(
    ("shape", "axis", "keepdims"),
    [((0,), None, False), ((0, 4), 0, False), ((0, 4), 0, True), ((3, 0), 1, False)],
)
def test_median_of_empty_slice_is_nan_with_warning(xp, shape, axis, keepdims):
    host = np.zeros(shape)
    ref = _quiet(np.median, host, axis=axis, keepdims=keepdims)
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        got = order.median(xp.asarray(host), axis=axis, keepdims=keepdims)
    assert_close(got, ref)


# --- NaN and infinities in the moments ----------------------------------------------------


@pytest.mark.parametrize("axis", [None, 0, 1])
@pytest.mark.parametrize("k", [0, 1])
def test_moment_orders_0_and_1_propagate_nan(xp, axis, k):
    host = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, INF]])
    ref = _quiet(scipy.stats.moment, host, order=k, axis=axis)
    assert_close(stats.moment(xp.asarray(host), order=k, axis=axis), ref)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_describe_mean_with_infinities_matches_scipy(xp, rng, dtype):
    host = rng.normal(size=(50, 5)).astype(dtype)
    host[3, 1], host[7, 2], host[9, 2], host[1, 3], host[4, 4] = INF, -INF, INF, -INF, np.nan
    got = stats.describe(xp.asarray(host), axis=0)
    ref = _quiet(scipy.stats.describe, host.astype(np.float64), axis=0)
    # Infinities and NaN where SciPy has them; the one finite column's mean (of 50 normals,
    # near 0) bounded on the data's scale, not relative to itself.
    assert_close(got.mean, ref.mean.astype(dtype), rtol=np.inf)
    mean, finite = to_numpy(got.mean).astype(np.float64), np.isfinite(ref.mean)
    bound = 50 * np.finfo(dtype).eps * np.max(np.abs(host[:, 0]))
    assert np.all(np.abs(mean[finite] - ref.mean[finite]) <= bound)
    assert_close(got.minmax[1], ref.minmax[1].astype(dtype))


@pytest.mark.parametrize(
    "batches",
    [[[1.0, INF], [2.0]], [[1.0, 2.0], [INF]], [[INF], [-INF]], [[-INF, 1.0], [3.0]]],
)
def test_running_mean_with_infinities_matches_numpy(xp, batches):
    rm = running.RunningMoments()
    for batch in batches:
        rm.update(xp.asarray(np.array(batch)))
    ref = _quiet(np.mean, np.concatenate([np.array(b) for b in batches]))
    assert_close(rm.mean, ref)
    assert_close(rm.result().mean, ref)


# --- cov of a 1-D variable, 0-d data ------------------------------------------------------


def test_cov_of_1d_data_ignores_rowvar(xp, rng):
    a, b = rng.normal(size=6), rng.normal(size=6)
    for args in ((a,), (a, b)):
        on = tuple(xp.asarray(v) for v in args)
        assert_close(stats.cov(*on, rowvar=False), np.cov(*args, rowvar=False))
        assert_close(stats.corrcoef(*on, rowvar=False), np.corrcoef(*args, rowvar=False))
    two = rng.normal(size=(6, 2))  # 2-D x (observations in rows) with a 1-D y
    assert_close(
        stats.cov(xp.asarray(two), xp.asarray(a), rowvar=False), np.cov(two, a, rowvar=False)
    )


@pytest.mark.parametrize("name", ["mean", "var", "std", "median"])
def test_0d_keepdims_stays_0d(xp, name):
    host = np.array(2.5)
    module = order if name == "median" else stats
    got = getattr(module, name)(xp.asarray(host), keepdims=True)
    assert_close(got, getattr(np, name)(host, keepdims=True))
    got = order.quantile(xp.asarray(host), [0.25, 0.75], keepdims=True)
    assert_close(got, np.quantile(host, [0.25, 0.75], keepdims=True))


def test_0d_zscore_keeps_its_shape(xp):
    host = np.array(2.5)
    for ddof in (0, 1):
        ref = _quiet(scipy.stats.zscore, host, axis=None, ddof=ddof)
        assert_close(_quiet(stats.zscore, xp.asarray(host), ddof=ddof), ref)


# --- PCA on constant and integer data -----------------------------------------------------


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_pca_whiten_of_constant_data_is_zero_like_sklearn(xp, dtype):
    data = np.full((6, 3), 2.0, dtype=dtype)
    model = _quiet(pca.PCA(n_components=2, whiten=True).fit, xp.asarray(data))
    got = model.transform(xp.asarray(data))
    ref = _quiet(SkPCA(n_components=2, whiten=True, svd_solver="full").fit, data).transform(data)
    assert not np.isnan(ref).any()
    assert_close(got, ref)


def test_pca_transform_takes_integers_as_fit_does(xp, rng):
    host = rng.integers(0, 9, size=(20, 4))
    model = pca.PCA(n_components=2).fit(xp.asarray(host))
    ref = SkPCA(n_components=2, svd_solver="full").fit(host).transform(host)
    assert_close(xp.abs(model.transform(xp.asarray(host))), np.abs(ref), rtol=1e-10)


# --- non-contiguous inputs give the contiguous results -------------------------------------


def _view(host, xp, view):
    """A non-contiguous view, on ``xp``'s device, of the values of ``host``."""
    if view == "transposed":
        return xp.asarray(np.ascontiguousarray(host.swapaxes(-1, -2))).swapaxes(-1, -2)
    if view == "reversed":
        return xp.asarray(np.ascontiguousarray(host[..., ::-1, ::-1]))[..., ::-1, ::-1]
    if view == "strided":
        return xp.repeat(xp.asarray(host), 2, axis=-1)[..., ::2]
    return xp.asfortranarray(xp.asarray(host))


VIEWS = ["transposed", "reversed", "strided", "fortran"]


@pytest.mark.parametrize("view", VIEWS)
def test_non_contiguous_inputs_match_contiguous(xp, rng, view):
    host = rng.normal(size=(6, 6)) + 3 * np.eye(6)
    other = rng.normal(size=(6, 2))
    a, b = _view(host, xp, view), _view(other, xp, view)
    assert not a.flags.c_contiguous and not b.flags.c_contiguous
    base_a, base_b = xp.asarray(host), xp.asarray(other)
    calls = {
        "var": lambda m, _: stats.var(m, axis=0, ddof=1),
        "skew": lambda m, _: stats.skew(m, axis=1),
        "median": lambda m, _: order.median(m, axis=0),
        "cov": lambda m, _: stats.cov(m),
        "zscore": lambda m, _: stats.zscore(m, axis=0),
        "solve": lambda m, r: dense.solve(m, r),
        "inv": lambda m, _: dense.inv(m),
        "det": lambda m, _: dense.det(m),
        "svdvals": lambda m, _: decomp.svd(m, compute_uv=False),
        "eigvalsh": lambda m, _: decomp.eigvalsh(m + m.T),
        "lstsq": lambda m, r: dense.lstsq(m[:, :4], r)[0],
        "matmul": lambda m, r: matmul_mod.matmul(m, r),
    }
    for name, call in calls.items():
        try:
            assert_close(call(a, b), call(base_a, base_b), rtol=1e-12)
        except AssertionError as err:
            raise AssertionError(f"{name}: {err}") from err


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_conv2d_of_non_contiguous_inputs(xp, rng, dtype):
    x = rng.normal(size=(2, 3, 7, 8)).astype(dtype)
    w = rng.normal(size=(4, 3, 3, 3)).astype(dtype)
    base = conv_mod.conv2d(xp.asarray(x), xp.asarray(w), padding=1)
    rtol = 1e-5 if dtype == np.float32 else 1e-12
    for view in VIEWS:
        got = conv_mod.conv2d(_view(x, xp, view), _view(w, xp, view), padding=1)
        assert_close(got, base, rtol=rtol)


# --- empty stacks and samples that NumPy / scikit-learn accept, and all-zero weights -------


def test_cond_of_an_empty_stack_is_an_empty_stack(xp):
    norms = importlib.import_module("gpumath.linalg._norms")
    for dtype in (np.float32, np.float64):
        host = np.zeros((2, 0, 3, 3), dtype)
        got = norms.cond(xp.asarray(host))
        assert_close(got, np.linalg.cond(host), like=xp.asarray(host))
    with pytest.raises(norms.LinAlgError, match=r"`x` is empty \(shape \(0, 0\)\)"):
        norms.cond(xp.zeros((0, 0)))


def test_choice_of_nothing_takes_an_empty_population(xp):
    import gpumath.random as gr

    rng = gr.default_rng(0, device="cuda" if xp is not np else "cpu")
    ref = np.random.default_rng(0)
    for a, size in [(0, 0), (0, (2, 0)), (xp.arange(0.0), 0), (xp.arange(3), (0, 4))]:
        got = rng.choice(a, size=size)
        host_a = a if isinstance(a, int) else np.asarray(a.get() if xp is not np else a)
        expect = ref.choice(host_a, size=size)
        assert tuple(got.shape) == expect.shape and np.dtype(got.dtype) == expect.dtype
    with pytest.raises(ValueError, match=r"`a` must be > 0; got 0"):
        rng.choice(0, size=1)


@pytest.mark.parametrize("name", ["mean_squared_error", "mean_absolute_error", "r2_score"])
def test_all_zero_sample_weights_are_an_error_as_in_sklearn(xp, name):
    metrics = importlib.import_module("gpumath.metrics")
    y = xp.arange(5.0)
    with pytest.raises(ValueError, match=r"`sample_weight` must contain at least one non-zero"):
        getattr(metrics, name)(y, y + 1, sample_weight=xp.zeros(5))
