"""gpumath.stats descriptive statistics against NumPy/SciPy float64, on every backend."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.stats
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gpumath.testing import assert_close

stats = importlib.import_module("gpumath.stats.descriptive")
blocked = importlib.import_module("gpumath.stats._blocked")
moments = importlib.import_module("gpumath.stats._moments")

FLOATS = [np.float32, np.float64]
AXES = [None, 0, 1, (0, 2), -1]


def _tol(dtype):
    return 1e-4 if dtype == np.float32 else 1e-11


def _scipy_axis(host, axis):
    """SciPy reduces one axis at a time: move the reduced axes to the end and flatten them."""
    if axis is None:
        return host.reshape(-1), 0
    axes = (axis,) if isinstance(axis, int) else axis
    axes = tuple(a % host.ndim for a in axes)
    kept = [i for i in range(host.ndim) if i not in axes]
    moved = np.transpose(host, kept + list(axes))
    return moved.reshape([host.shape[i] for i in kept] + [-1]), -1


def _data(rng, shape, dtype, offset=0.0):
    """Skewed data (gamma), so that skewness and kurtosis are far from zero."""
    return (offset + rng.standard_gamma(2.0, shape)).astype(dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("axis", AXES)
def test_moments_match_scipy(xp, rng, dtype, axis):
    host = _data(rng, (6, 40, 5), dtype)
    x = xp.asarray(host)
    ref = host.astype(np.float64)
    flat, ax = _scipy_axis(ref, axis)
    tol = _tol(dtype)
    assert_close(stats.mean(x, axis=axis), np.mean(ref, axis=axis).astype(dtype), rtol=tol, like=x)
    for ddof in (0, 1):
        expect = np.var(ref, axis=axis, ddof=ddof).astype(dtype)
        assert_close(stats.var(x, axis=axis, ddof=ddof), expect, rtol=tol, like=x)
        expect = np.std(ref, axis=axis, ddof=ddof).astype(dtype)
        assert_close(stats.std(x, axis=axis, ddof=ddof), expect, rtol=tol, like=x)
    for bias in (True, False):
        expect = scipy.stats.skew(flat, axis=ax, bias=bias).astype(dtype)
        assert_close(stats.skew(x, axis=axis, bias=bias), expect, rtol=tol, like=x)
        for fisher in (True, False):
            expect = scipy.stats.kurtosis(flat, axis=ax, fisher=fisher, bias=bias).astype(dtype)
            got = stats.kurtosis(x, axis=axis, fisher=fisher, bias=bias)
            assert_close(got, expect, rtol=tol, like=x)
    for order in (0, 1, 2, 3, 4, 5):
        expect = np.asarray(scipy.stats.moment(flat, order=order, axis=ax)).astype(dtype)
        assert_close(stats.moment(x, order=order, axis=axis), expect, rtol=tol, like=x)
    expect = np.asarray(scipy.stats.sem(flat, axis=ax)).astype(dtype)
    assert_close(stats.sem(x, axis=axis), expect, rtol=tol, like=x)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("axis", [None, 0, 1])
def test_describe_matches_scipy(xp, rng, dtype, axis):
    host = _data(rng, (300, 7), dtype)
    x = xp.asarray(host)
    flat, ax = _scipy_axis(host.astype(np.float64), axis)
    for ddof, bias in ((1, True), (0, False)):
        got = stats.describe(x, axis=axis, ddof=ddof, bias=bias)
        ref = scipy.stats.describe(flat, axis=ax, ddof=ddof, bias=bias)
        assert got.nobs == ref.nobs and isinstance(got.nobs, int)
        tol = _tol(dtype)
        for name in ("mean", "variance", "skewness", "kurtosis"):
            expect = np.asarray(getattr(ref, name)).astype(dtype)
            assert_close(getattr(got, name), expect, rtol=tol, like=x)
        for k in (0, 1):  # min and max are data values: exact
            assert_close(got.minmax[k], np.asarray(ref.minmax[k]).astype(dtype), rtol=0, like=x)


def test_keepdims_shapes(xp, rng):
    x = xp.asarray(_data(rng, (3, 4, 5), np.float64))
    for fn in (stats.mean, stats.var, stats.std, stats.sem, stats.skew, stats.kurtosis):
        assert fn(x, axis=(0, 2), keepdims=True).shape == (1, 4, 1)
        assert fn(x, keepdims=True).shape == (1, 1, 1)
        assert fn(x).shape == ()
    assert stats.moment(x, order=3, axis=1, keepdims=True).shape == (3, 1, 5)


@pytest.mark.parametrize("offset", [1e8, -3e9])
def test_large_offset_float64(xp, rng, offset):
    # x - offset is exact in float64 (Sterbenz), so the moments of the noise are the truth;
    # the naive E[x^2] - E[x]^2 loses every digit of the variance on these data.
    host = offset + rng.standard_gamma(2.0, (4000, 3))
    noise = host - offset
    x = xp.asarray(host)
    naive = (host**2).mean(axis=0) - host.mean(axis=0) ** 2
    assert np.max(np.abs(naive - noise.var(axis=0)) / noise.var(axis=0)) > 1e-2
    assert_close(stats.var(x, axis=0, ddof=1), noise.var(axis=0, ddof=1), rtol=1e-10)
    assert_close(stats.std(x, axis=0), noise.std(axis=0), rtol=1e-10)
    assert_close(stats.skew(x, axis=0), scipy.stats.skew(noise), rtol=1e-10)
    assert_close(stats.kurtosis(x, axis=0), scipy.stats.kurtosis(noise), rtol=1e-10)
    assert_close(stats.moment(x, order=3, axis=0), scipy.stats.moment(noise, 3), rtol=1e-10)
    assert_close(stats.zscore(x, axis=0), scipy.stats.zscore(noise), rtol=1e-9)
    assert_close(stats.cov(x, rowvar=False), np.cov(noise, rowvar=False), rtol=1e-10)
    d = stats.describe(x, axis=0)
    ref = scipy.stats.describe(noise)
    assert_close(d.variance, ref.variance, rtol=1e-10)
    assert_close(d.skewness, ref.skewness, rtol=1e-10)
    assert_close(d.kurtosis, ref.kurtosis, rtol=1e-10)
    # The mean itself is a number near the offset: one rounding there (half an ulp of 3e9 is
    # 1e-7 of a noise mean near 2, which an rtol of 1e-7 on `mean - offset` missed in 2% of
    # seeds); the reference offset + mean adds another. 4 eps relative is 2.8 ulps.
    assert_close(d.mean, offset + ref.mean, rtol=4 * np.finfo(np.float64).eps)


@pytest.mark.parametrize("offset", [1e8, -3e9])
@pytest.mark.parametrize(
    "shape, axis",
    [((300_000,), None), ((100_000, 3), 0), ((600, 3, 500), (1, 2)), ((600, 500), None)],
)
def test_large_offset_large_arrays(xp, rng, offset, shape, axis):
    # Arrays this large take the cache-blocked sums on the CPU (gpumath.stats._blocked),
    # accumulated block by block or joined slice by slice: as accurate as the whole-array sums.
    host = offset + rng.standard_gamma(2.0, shape)
    noise = host - offset  # exact (Sterbenz)
    axes = tuple(range(len(shape))) if axis is None else axis
    if xp is np:
        shift = host.mean(axis=axes, keepdims=True)
        assert blocked.blocked_sums(
            host, shift, moments.normalize_axes(axis, host.ndim), (1, 2, 3, 4), True
        )
    x = xp.asarray(host)
    flat = noise.reshape(-1) if axis is None else noise
    ref_axis = 0 if axis is None else axis
    assert_close(stats.var(x, axis=axis, ddof=1), np.var(noise, axis=axis, ddof=1), rtol=1e-10)
    assert_close(
        stats.moment(x, order=3, axis=axis), scipy.stats.moment(flat, 3, axis=ref_axis), rtol=1e-9
    )
    d = stats.describe(x, axis=axis)
    ref = scipy.stats.describe(flat, axis=ref_axis)
    assert_close(d.variance, ref.variance, rtol=1e-10)
    assert_close(d.skewness, ref.skewness, rtol=1e-9)
    assert_close(d.kurtosis, ref.kurtosis, rtol=1e-9)
    assert_close(d.minmax[0], np.min(host, axis=axis), rtol=0)
    assert_close(d.minmax[1], np.max(host, axis=axis), rtol=0)


@pytest.mark.parametrize("n", [300_000, 5000])  # blocked sums, and whole-array sums
def test_variance_skips_the_shift_sum_only_where_negligible(rng, n):
    # NumPy path: sum(x - shift) (the shift correction) is summed only where
    # ((n + 1) eps)**2 (1 + mean**2 / var) > eps: here for the offset 1e8, not for 3.
    for offset, skipped in [(3.0, True), (1e8, False)]:
        host = offset + rng.standard_gamma(2.0, n)
        noise = host - offset  # exact
        s1, s2 = blocked.variance_sums(host, np.mean(host, keepdims=True), (0,), n)
        assert (s1 is None) is skipped
        assert_close(s2, np.sum((host - np.mean(host)) ** 2), rtol=1e-12)
        assert_close(stats.var(host, ddof=1), np.var(noise, ddof=1), rtol=1e-13)
        assert_close(stats.std(host[:, None], axis=0), np.std(noise[:, None], axis=0), rtol=1e-13)


def test_cov_skips_the_mean_correction_only_where_provably_negligible(rng):
    # NumPy path: the n u u^T correction (u: rounding error of the mean) is skipped where
    # ((n + 1) eps)**2 (1 + mean**2 / var) <= eps. For n = 5000 that allows |mean| / sd up to
    # 1.3e4: at 1e4 (skipped) and 1e9 (corrected) both must match the exact covariance.
    for offset, skipped in [(0.0, True), (1e4, True), (1e9, False)]:
        host = offset + rng.standard_gamma(2.0, (5000, 3))
        noise = host - offset  # exact
        data = host.T
        mean = data.mean(axis=1, keepdims=True)
        centred = data - mean
        gram = centred @ centred.T
        assert stats._mean_error_negligible(mean, gram, 5000, np) is skipped
        assert_close(stats.cov(host, rowvar=False), np.cov(noise, rowvar=False), rtol=1e-12)
    flat = np.ones((2, 5000))  # zero variance: never skipped (the bound is infinite)
    assert not stats._mean_error_negligible(
        flat.mean(axis=1, keepdims=True), 0 * flat[:, :2], 5000, np
    )


def test_large_offset_float32(xp, rng):
    host = (1e4 + rng.standard_gamma(2.0, 50_000)).astype(np.float32)
    noise = host.astype(np.float64) - 1e4  # exact
    x = xp.asarray(host)
    assert_close(stats.var(x), np.var(noise).astype(np.float32), rtol=1e-4)
    assert_close(stats.skew(x), np.float32(scipy.stats.skew(noise)), rtol=1e-4)
    assert_close(stats.kurtosis(x), np.float32(scipy.stats.kurtosis(noise)), rtol=1e-4)


@pytest.mark.parametrize("rowvar", [True, False])
@pytest.mark.parametrize("dtype", FLOATS)
def test_cov_corrcoef_match_numpy(xp, rng, rowvar, dtype):
    host = rng.standard_normal((4, 30)).astype(dtype)
    host[1] += 0.5 * host[0]
    other = rng.standard_normal((2, 30)).astype(dtype)
    if not rowvar:
        host, other = host.T.copy(), other.T.copy()
    x, y = xp.asarray(host), xp.asarray(other)
    ref, ref_y = host.astype(np.float64), other.astype(np.float64)
    tol = _tol(dtype)
    for ddof in (0, 1, 2):
        expect = np.cov(ref, rowvar=rowvar, ddof=ddof).astype(dtype)
        assert_close(stats.cov(x, rowvar=rowvar, ddof=ddof), expect, rtol=tol, like=x)
    expect = np.cov(ref, ref_y, rowvar=rowvar).astype(dtype)
    assert_close(stats.cov(x, y, rowvar=rowvar), expect, rtol=tol, like=x)
    expect = np.corrcoef(ref, rowvar=rowvar).astype(dtype)
    assert_close(stats.corrcoef(x, rowvar=rowvar), expect, rtol=tol, like=x)
    expect = np.corrcoef(ref, ref_y, rowvar=rowvar).astype(dtype)
    assert_close(stats.corrcoef(x, y, rowvar=rowvar), expect, rtol=tol, like=x)


def test_cov_of_vectors(xp, rng):
    a, b = rng.standard_normal(50), rng.standard_normal(50)
    xa, xb = xp.asarray(a), xp.asarray(b)
    assert_close(stats.cov(xa), np.cov(a), like=xa)  # one variable: a 0-d array
    assert_close(stats.cov(xa, xb), np.cov(a, b), like=xa)
    assert_close(stats.corrcoef(xa, xb), np.corrcoef(a, b), like=xa)


@pytest.mark.parametrize("axis, ddof", [(None, 0), (0, 1), (1, 0)])
def test_zscore_matches_scipy(xp, rng, axis, ddof):
    host = _data(rng, (20, 6), np.float64)
    flat_axis = axis
    expect = scipy.stats.zscore(host, axis=flat_axis, ddof=ddof)
    assert_close(stats.zscore(xp.asarray(host), axis=axis, ddof=ddof), expect, rtol=1e-12)
    host32 = host.astype(np.float32)
    got = stats.zscore(xp.asarray(host32), axis=axis, ddof=ddof)
    assert_close(got, expect.astype(np.float32), rtol=1e-5)


def test_nan_propagates(xp, rng):
    host = _data(rng, (50, 4), np.float64)
    host[7, 2] = np.nan
    x = xp.asarray(host)
    flat, ax = _scipy_axis(host, 0)
    for fn, ref in (
        (stats.mean, np.mean(host, axis=0)),
        (stats.var, np.var(host, axis=0)),
        (stats.skew, scipy.stats.skew(flat, axis=ax)),
        (stats.kurtosis, scipy.stats.kurtosis(flat, axis=ax)),
    ):
        assert_close(fn(x, axis=0), ref, rtol=1e-11)  # NaN exactly in column 2
    d = stats.describe(x, axis=0)
    for field in (d.minmax[0], d.minmax[1], d.mean, d.variance, d.skewness, d.kurtosis):
        isnan = np.isnan(np.asarray(field.get() if hasattr(field, "get") else field))
        assert isnan.tolist() == [False, False, True, False]


def test_constant_data(xp):
    x = xp.full((5, 3), 2.5)
    assert_close(stats.var(x, axis=0), np.zeros(3), like=x)
    assert_close(stats.skew(x, axis=0), np.full(3, np.nan), like=x)  # like SciPy
    assert_close(stats.kurtosis(x, axis=0), np.full(3, np.nan), like=x)
    assert_close(stats.zscore(x, axis=0), np.full((5, 3), np.nan), like=x)
    d = stats.describe(x)
    assert np.isnan(float(d.skewness)) and float(d.variance) == 0.0


def test_empty_and_single_values(xp):
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        assert_close(stats.mean(xp.zeros(0)), np.asarray(np.nan))
    with pytest.warns(RuntimeWarning, match="Mean of empty slice"):
        out = stats.var(xp.zeros((0, 3)), axis=0)
    assert_close(out, np.full(3, np.nan))
    one = xp.asarray([4.0])
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"):
        assert_close(stats.var(one, ddof=1), np.asarray(np.nan))
    assert_close(stats.var(one), np.asarray(0.0))
    assert_close(stats.skew(one), np.asarray(np.nan))
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"):
        d = stats.describe(one)
    assert d.nobs == 1 and float(d.mean) == 4.0 and np.isnan(float(d.variance))
    with pytest.raises(ValueError, match="`x` must have values along `axis`"):
        stats.describe(xp.zeros((0, 2)), axis=0)
    with pytest.warns(RuntimeWarning, match="Degrees of freedom <= 0"):
        assert_close(stats.cov(xp.asarray([[1.0], [2.0]])), np.full((2, 2), np.nan))
    scalar = xp.asarray(3.0)
    assert_close(stats.mean(scalar), np.asarray(3.0), like=scalar)


def test_integer_and_bool_inputs_give_float64(xp):
    host = np.arange(-5, 12)
    x = xp.asarray(host)
    assert_close(stats.mean(x), np.asarray(np.mean(host)), like=x)
    assert_close(stats.var(x, ddof=1), np.asarray(np.var(host, ddof=1)), like=x)
    assert_close(stats.skew(x), np.asarray(scipy.stats.skew(host)), like=x)
    d = stats.describe(x)
    assert d.mean.dtype == np.float64 and d.minmax[0].dtype == np.float64
    assert_close(stats.mean(xp.asarray([True, False, True, True])), np.asarray(0.75))


def test_non_contiguous_view(xp, rng):
    host = _data(rng, (40, 30), np.float64)
    view = xp.asarray(host)[::2, ::-3].T
    ref = host[::2, ::-3].T
    assert_close(stats.skew(view, axis=1), scipy.stats.skew(ref, axis=1), rtol=1e-11)
    d = stats.describe(view, axis=0)
    assert_close(d.kurtosis, scipy.stats.kurtosis(ref, axis=0), rtol=1e-11)


def test_bad_inputs_name_the_argument(xp):
    x = xp.ones((3, 4))
    with pytest.raises(TypeError, match="`x` must be a NumPy or CuPy array; got list"):
        stats.mean([1.0, 2.0])
    with pytest.raises(TypeError, match="`x` must have a real dtype"):
        stats.var(xp.ones(3, dtype=np.complex128))
    with pytest.raises(ValueError, match=r"`axis` must be in \[-2, 2\) for a 2-D array; got 2"):
        stats.skew(x, axis=2)
    with pytest.raises(TypeError, match="`axis` must be None, an int or a tuple of ints"):
        stats.mean(x, axis=1.0)
    with pytest.raises(ValueError, match="`axis` must not repeat an axis"):
        stats.kurtosis(x, axis=(0, -2))
    with pytest.raises(TypeError, match="`ddof` must be a real number; got '1'"):
        stats.var(x, ddof="1")
    with pytest.raises(ValueError, match="`order` must be a non-negative integer; got -1"):
        stats.moment(x, order=-1)
    with pytest.raises(ValueError, match=r"`x` and `y` must have the same number of observations"):
        stats.cov(x, xp.ones((2, 5)))
    with pytest.raises(ValueError, match=r"`x` must be 1-D or 2-D; got shape \(2, 2, 2\)"):
        stats.cov(xp.ones((2, 2, 2)))


@given(
    hnp.arrays(
        dtype=np.float64,
        shape=hnp.array_shapes(min_dims=1, max_dims=3, min_side=3, max_side=8),
        elements=st.floats(-1e6, 1e6),
    ),
    st.floats(-1e9, 1e9),
)
def test_property_matches_scipy_on_host(host, offset):
    host = host + np.round(offset)  # any offset: the results must not depend on it
    noise = host - np.round(offset)
    if np.ptp(noise) < 1e-3 * (np.abs(noise).max() + 1):
        return  # nearly constant data: skewness is numerically meaningless
    flat = noise.reshape(-1)
    scale = np.std(flat)
    assert np.isclose(float(stats.std(host)), scale, rtol=1e-8)
    assert np.isclose(float(stats.skew(host)), scipy.stats.skew(flat), rtol=1e-6, atol=1e-6)
    assert np.isclose(float(stats.kurtosis(host)), scipy.stats.kurtosis(flat), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize(
    "module",
    [
        "descriptive",
        "_bootstrap",
        "_order",
        "_running",
        "_dist_continuous",
        "_dist_discrete",
        "_dist_multivariate",
    ],
)
def test_docstring_examples(module):
    import doctest

    result = doctest.testmod(importlib.import_module(f"gpumath.stats.{module}"))
    assert result.attempted > 0 and result.failed == 0
