"""gpumath.stats quantile and histogram against NumPy, on every backend."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

from gpumath import to_numpy
from gpumath.testing import assert_close

stats = importlib.import_module("gpumath.stats.descriptive")
order = importlib.import_module("gpumath.stats._order")

Q = [0.0, 0.01, 0.25, 0.5, 0.77, 0.999, 1.0]


@pytest.mark.parametrize("method", order.METHODS)
@pytest.mark.parametrize("axis", [None, 0, 1, (0, 2)])
def test_quantile_matches_numpy_float64(xp, rng, method, axis):
    host = rng.standard_normal((5, 11, 3))
    x = xp.asarray(host)
    expect = np.quantile(host, Q, axis=axis, method=method)
    assert_close(stats.quantile(x, Q, axis=axis, method=method), expect, rtol=1e-14, like=x)
    expect = np.quantile(host, 0.3, axis=axis, method=method, keepdims=True)
    got = stats.quantile(x, 0.3, axis=axis, method=method, keepdims=True)
    assert_close(got, expect, rtol=1e-14, like=x)


@pytest.mark.parametrize("method", ["linear", "hazen", "lower", "midpoint", "inverted_cdf"])
def test_quantile_float32_and_integers(xp, rng, method):
    host = rng.standard_normal(101).astype(np.float32)
    x = xp.asarray(host)
    expect = np.quantile(host.astype(np.float64), Q, method=method).astype(np.float32)
    assert_close(stats.quantile(x, Q, method=method), expect, rtol=1e-6, like=x)
    ints = rng.integers(-50, 50, 40)
    expect = np.quantile(ints, Q, method=method)  # int64 for picking methods, else float64
    assert_close(stats.quantile(xp.asarray(ints), Q, method=method), expect, rtol=1e-14)


def test_quantile_nan_gives_nan_for_its_slice(xp, rng):
    host = rng.standard_normal((4, 9))
    host[2, 5] = np.nan
    got = stats.quantile(xp.asarray(host), [0.1, 0.9], axis=1)
    assert_close(got, np.quantile(host, [0.1, 0.9], axis=1))


@pytest.mark.parametrize("shape, axis", [((8, 11, 3), None), ((8, 11, 3), 0), ((8, 11), 1)])
@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int64])
def test_median_matches_numpy(xp, rng, shape, axis, dtype):
    # Even and odd counts along the axis: the mean of the two middle values, or the middle.
    host = (rng.standard_normal(shape) * 100).astype(dtype)
    expect = np.median(host, axis=axis)
    got = stats.median(xp.asarray(host), axis=axis)
    assert np.dtype(got.dtype) == expect.dtype
    # The mean of the two middle values takes a rounding or two relative to those values, not
    # to the median, which can sit near 0 between them: bound the error on their scale.
    exact = np.median(host.astype(np.float64), axis=axis)
    bound = 2 * np.finfo(expect.dtype).eps * np.max(np.abs(host), axis=axis)
    assert np.all(np.abs(to_numpy(got) - exact) <= bound)
    keep = stats.median(xp.asarray(host), axis=axis, keepdims=True)
    assert tuple(keep.shape) == np.median(host, axis=axis, keepdims=True).shape
    host = host.astype(np.float64)
    host[1, 2] = np.nan  # NaN gives NaN for its slice, as in NumPy
    assert_close(stats.median(xp.asarray(host), axis=axis), np.median(host, axis=axis))


def test_quantile_bad_inputs(xp):
    x = xp.ones(5)
    with pytest.raises(ValueError, match=r"`q` must be a probability .* got 1.5"):
        stats.quantile(x, 1.5)
    with pytest.raises(ValueError, match="`method` must be one of .* got 'cubic'"):
        stats.quantile(x, 0.5, method="cubic")
    with pytest.raises(ValueError, match=r"`x` must not be empty along `axis`; got shape \(0,\)"):
        stats.quantile(xp.ones(0), 0.5)
    with pytest.raises(TypeError, match="`x` must be a NumPy or CuPy array; got list"):
        stats.quantile([1.0], 0.5)


@pytest.mark.parametrize("bins", [1, 7, 64])
def test_histogram_matches_numpy(xp, rng, bins):
    host = rng.standard_normal(5000)
    x = xp.asarray(host)
    counts, edges = stats.histogram(x, bins)
    expect_counts, expect_edges = np.histogram(host, bins)
    assert_close(counts, expect_counts, rtol=0, like=x)
    assert_close(edges, expect_edges, rtol=1e-15, like=x)
    counts, edges = stats.histogram(x, bins, range=(-1.0, 0.5))
    expect_counts, expect_edges = np.histogram(host, bins, range=(-1.0, 0.5))
    assert_close(counts, expect_counts, rtol=0)
    density, _ = stats.histogram(x, bins, density=True)
    assert_close(density, np.histogram(host, bins, density=True)[0], rtol=1e-12)


def test_histogram_float32_edges_and_counts(xp, rng):
    host = rng.standard_normal((40, 30)).astype(np.float32)
    counts, edges = stats.histogram(xp.asarray(host), 13)
    assert edges.dtype == np.float32 and counts.dtype == np.int64
    # Counts must agree with NumPy's on our edges (values on an edge go right, the last bin
    # is closed); the edges themselves with NumPy's to float32 rounding.
    host_edges = np.asarray(edges.get() if hasattr(edges, "get") else edges)
    assert_close(counts, np.histogram(host, host_edges)[0], rtol=0)
    assert_close(edges, np.histogram(host, 13)[1], rtol=1e-6)


def test_histogram_given_edges_nan_and_integers(xp, rng):
    host = rng.standard_normal(1000)
    host[[3, 99]] = np.nan
    edges = np.array([-3.0, -1.0, 0.0, 0.25, 2.0])
    counts, got_edges = stats.histogram(xp.asarray(host), xp.asarray(edges))
    assert_close(counts, np.histogram(host, edges)[0], rtol=0)
    assert_close(got_edges, edges, rtol=0)
    counts, _ = stats.histogram(xp.asarray(host), 5, range=(-2, 2))  # NaN is not counted
    assert_close(counts, np.histogram(host, 5, range=(-2, 2))[0], rtol=0)
    ints = rng.integers(0, 10, 300)
    for got, expect in zip(
        stats.histogram(xp.asarray(ints), 4), np.histogram(ints, 4), strict=True
    ):
        assert_close(got, expect, rtol=0)
    for got, expect in zip(
        stats.histogram(xp.zeros(0), 3), np.histogram(np.zeros(0), 3), strict=True
    ):
        assert_close(got, expect, rtol=0)
    constant = stats.histogram(xp.full(5, 2.0), 2)  # equal min and max: widened by 0.5
    for got, expect in zip(constant, np.histogram(np.full(5, 2.0), 2), strict=True):
        assert_close(got, expect, rtol=0)


def test_histogram_bad_inputs(xp):
    x = xp.asarray([0.0, 1.0, np.nan])
    with pytest.raises(ValueError, match="`bins` must be a positive integer or 1-D edges; got 0"):
        stats.histogram(x, 0)
    with pytest.raises(ValueError, match="`bins` must increase monotonically"):
        stats.histogram(x, np.array([0.0, 2.0, 1.0]))
    with pytest.raises(ValueError, match=r"`x` must be finite to find the range .*nan"):
        stats.histogram(x, 3)
    with pytest.raises(ValueError, match=r"`range` must have min <= max; got \(2, 1\)"):
        stats.histogram(x, 3, range=(2, 1))
    with pytest.raises(ValueError, match=r"`range` must be finite"):
        stats.histogram(x, 3, range=(0, np.inf))
