"""RunningMoments and bootstrap against one-shot SciPy/NumPy results; the CUDA moments path."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.stats

from gpumath.testing import assert_close

stats = importlib.import_module("gpumath.stats.descriptive")
moments = importlib.import_module("gpumath.stats._moments")


def _describe_ref(host, axis):
    flat = host.reshape(-1) if axis is None else host
    return scipy.stats.describe(flat, axis=0)


def _check_result(got, ref, dtype, rtol):
    assert got.nobs == ref.nobs
    for name in ("mean", "variance", "skewness", "kurtosis"):
        expect = np.asarray(getattr(ref, name)).astype(dtype)
        assert_close(getattr(got, name), expect, rtol=rtol)
    for k in (0, 1):
        assert_close(got.minmax[k], np.asarray(ref.minmax[k]).astype(dtype), rtol=0)


@pytest.mark.parametrize("axis", [None, 0])
def test_hundred_batches_equal_one_shot_float64(xp, rng, axis):
    host = 1e8 + rng.standard_gamma(2.0, (5000, 3))
    rm = stats.RunningMoments(axis=axis)
    for batch in np.array_split(host, 100):
        assert rm.update(xp.asarray(batch)) is rm
    assert rm.n == (host.size if axis is None else host.shape[0])
    got = rm.result()
    one_shot = stats.describe(xp.asarray(host), axis=axis)
    for name in ("variance", "skewness", "kurtosis"):
        assert_close(getattr(got, name), getattr(one_shot, name), rtol=1e-11)
    noise = host - 1e8  # exact: the truth for every moment but the mean
    ref = _describe_ref(noise, axis)
    for name in ("variance", "skewness", "kurtosis"):
        assert_close(getattr(got, name), np.asarray(getattr(ref, name)), rtol=1e-11)
    assert_close(got.mean - 1e8, np.asarray(ref.mean), rtol=1e-7)  # one rounding near 1e8
    assert_close(rm.std(ddof=1), np.sqrt(np.asarray(ref.variance)), rtol=1e-11)
    assert_close(
        rm.skew(bias=False),
        scipy.stats.skew(noise.reshape(-1) if axis is None else noise, bias=False),
        rtol=1e-11,
    )


@pytest.mark.parametrize("axis", [None, 0])
def test_hundred_batches_float32(xp, rng, axis):
    host = rng.standard_gamma(2.0, (20_000, 4)).astype(np.float32)
    rm = stats.RunningMoments(axis=axis)
    for batch in np.array_split(host, 100):
        rm.update(xp.asarray(batch))
    ref = _describe_ref(host.astype(np.float64), axis)
    _check_result(rm.result(), ref, np.float32, 1e-5)
    assert rm.mean.dtype == np.float32 and rm.var().dtype == np.float32


def test_merge_of_two_accumulators_and_ragged_batches(xp, rng):
    host = rng.standard_normal((777, 2)) * [1.0, 30.0] + [5.0, -2.0]
    left, right = stats.RunningMoments(axis=0), stats.RunningMoments(axis=0)
    for batch in np.array_split(host[:300], 7):
        left.update(xp.asarray(batch))
    for batch in np.array_split(host[300:], 1):
        right.update(xp.asarray(batch))
    right.update(xp.asarray(host[:0]))  # an empty batch changes nothing
    left.merge(right)
    _check_result(
        left.result(ddof=0, bias=False),
        scipy.stats.describe(host, ddof=0, bias=False),
        np.float64,
        1e-12,
    )
    assert_close(left.kurtosis(fisher=False), scipy.stats.kurtosis(host, fisher=False), rtol=1e-12)
    empty = stats.RunningMoments(axis=0).merge(left)
    assert_close(empty.var(), np.var(host, axis=0), rtol=1e-12)


def test_running_moments_bad_inputs(xp):
    rm = stats.RunningMoments(axis=0)
    with pytest.raises(ValueError, match=r"has seen no data: call `update\(batch\)` first"):
        rm.result()
    rm.update(xp.ones((4, 3)))
    with pytest.raises(ValueError, match=r"`batch` must have feature shape \(3,\).* got \(2,\)"):
        rm.update(xp.ones((4, 2)))
    with pytest.raises(TypeError, match="`batch` must be a NumPy or CuPy array; got list"):
        rm.update([1.0])
    with pytest.raises(TypeError, match="`other` must be a RunningMoments; got int"):
        rm.merge(3)
    other = stats.RunningMoments(axis=0).update(xp.ones((2, 5)))
    with pytest.raises(ValueError, match="`other` must have the same features and device"):
        rm.merge(other)


@pytest.mark.parametrize("method", ["percentile", "basic", "BCa"])
def test_bootstrap_same_resamples_as_scipy_give_the_same_interval(xp, rng, method):
    # With batch=None both call rng.integers(0, n, (n_resamples, n)) once, so one seed gives
    # both the same resamples: every method must then agree to rounding (no Monte Carlo
    # error), including BCa's jackknife acceleration and bias correction.
    host = rng.lognormal(0.0, 0.8, 120)
    seed = int(rng.integers(2**31))
    ours = stats.bootstrap(
        stats.mean,
        xp.asarray(host),
        n_resamples=3000,
        method=method,
        rng=np.random.default_rng(seed),
    )
    ref = scipy.stats.bootstrap(
        (host,), np.mean, n_resamples=3000, method=method, rng=np.random.default_rng(seed)
    )
    assert_close(ours.bootstrap_distribution, ref.bootstrap_distribution, rtol=1e-12)
    assert_close(ours.confidence_interval.low, ref.confidence_interval.low, rtol=1e-10)
    assert_close(ours.confidence_interval.high, ref.confidence_interval.high, rtol=1e-10)
    assert_close(ours.standard_error, ref.standard_error, rtol=1e-10)


def test_bootstrap_default_method_is_bca_like_scipy(rng):
    host = rng.exponential(1.0, 80)
    seed = int(rng.integers(2**31))
    ours = stats.bootstrap(np.median, host, n_resamples=2000, rng=np.random.default_rng(seed))
    ref = scipy.stats.bootstrap(
        (host,), np.median, n_resamples=2000, rng=np.random.default_rng(seed)
    )
    assert_close(ours.confidence_interval.low, ref.confidence_interval.low, rtol=1e-12)
    assert_close(ours.confidence_interval.high, ref.confidence_interval.high, rtol=1e-12)
    # The median's bootstrap distribution has ties (exercising the half-count of ties in the
    # bias correction); the mean's has none, so BCa and percentile endpoints differ there.
    bca = stats.bootstrap(np.mean, host, n_resamples=2000, rng=np.random.default_rng(seed))
    percentile = stats.bootstrap(
        np.mean, host, n_resamples=2000, method="percentile", rng=np.random.default_rng(seed)
    )
    assert float(percentile.confidence_interval.low) != float(bca.confidence_interval.low)


@pytest.mark.parametrize("method", ["percentile", "basic", "BCa"])
def test_bootstrap_matches_scipy_within_monte_carlo_error(xp, rng, method):
    host = rng.exponential(2.0, 150)
    x = xp.asarray(host)
    ours = stats.bootstrap(stats.mean, x, n_resamples=5000, method=method, rng=rng)
    ref = scipy.stats.bootstrap((host,), np.mean, n_resamples=5000, method=method, rng=rng)
    se = ref.standard_error
    # Independent resamples. Measured over 300 seeds (n = 150, 5000 resamples), an endpoint
    # varies by 0.039 SE (sd) for percentile/basic and 0.053 SE for BCa (its bias
    # correction is estimated too), so two runs differ by 0.055 / 0.074 SE (sd): 0.25 / 0.3 SE
    # are 4.5 / 4 sd, a false-alarm rate below 1e-4 per end. The SE itself: 0.014 SE (sd).
    tol = (0.3 if method == "BCa" else 0.25) * se
    assert abs(float(ours.standard_error) - se) < 0.07 * se
    assert abs(float(ours.confidence_interval.low) - ref.confidence_interval.low) < tol
    assert abs(float(ours.confidence_interval.high) - ref.confidence_interval.high) < tol
    assert ours.bootstrap_distribution.shape == (5000,)


def test_bootstrap_coverage_and_width_like_scipy():
    # 200 data sets of 40 skewed (exponential, mean 1) values: the 90% interval of the mean
    # covers the true mean in about 90% of them (less for n = 40 and skewed data, BCa the
    # nearest); ours and SciPy's agree, and BCa covers at least as often as percentile.
    rng = np.random.default_rng(12345)
    methods = ("percentile", "BCa")
    covered = {m: 0 for m in methods}
    covered_ref = {m: 0 for m in methods}
    widths = {m: [] for m in methods}
    widths_ref = {m: [] for m in methods}
    for _ in range(200):
        host = rng.exponential(1.0, 40)
        for m in methods:
            ours = stats.bootstrap(
                np.mean, host, n_resamples=999, confidence_level=0.9, method=m, rng=rng
            )
            ref = scipy.stats.bootstrap(
                (host,), np.mean, n_resamples=999, confidence_level=0.9, method=m, rng=rng
            )
            low, high = ours.confidence_interval
            covered[m] += bool(low < 1.0 < high)
            covered_ref[m] += bool(ref.confidence_interval.low < 1.0 < ref.confidence_interval.high)
            widths[m].append(high - low)
            widths_ref[m].append(ref.confidence_interval.high - ref.confidence_interval.low)
    for m in methods:
        # 200 Bernoulli(0.88) trials have sd 4.6: [0.80, 0.96] is more than 3.5 sd each way.
        assert 0.80 <= covered[m] / 200 <= 0.96, (m, covered[m])
        assert abs(covered[m] - covered_ref[m]) <= 12
        assert abs(np.mean(widths[m]) / np.mean(widths_ref[m]) - 1) < 0.02
    assert covered["BCa"] >= covered["percentile"] - 4


def test_bootstrap_batches_and_vector_statistic(rng):
    host = rng.standard_normal(60)
    seed = 99
    whole = stats.bootstrap(np.median, host, n_resamples=600, rng=np.random.default_rng(seed))
    batched = stats.bootstrap(
        np.median, host, n_resamples=600, batch=250, rng=np.random.default_rng(seed)
    )
    np.testing.assert_array_equal(whole.bootstrap_distribution, batched.bootstrap_distribution)

    def mean_and_std(sample, axis):
        return np.stack([np.mean(sample, axis=axis), np.std(sample, axis=axis)], axis=-1)

    res = stats.bootstrap(mean_and_std, host, n_resamples=400, rng=rng)
    assert res.confidence_interval.low.shape == (2,)
    assert np.all(res.confidence_interval.low < res.confidence_interval.high)


def test_bootstrap_bad_inputs(xp, rng):
    x = xp.ones(10)
    with pytest.raises(ValueError, match=r"`data` must be 1-D with at least 2 values"):
        stats.bootstrap(np.mean, xp.ones((2, 3)), rng=rng)
    with pytest.raises(ValueError, match="`n_resamples` must be >= 2; got 1"):
        stats.bootstrap(np.mean, x, n_resamples=1, rng=rng)
    with pytest.raises(ValueError, match=r"`confidence_level` must be in \(0, 1\); got 1.5"):
        stats.bootstrap(np.mean, x, confidence_level=1.5, rng=rng)
    with pytest.raises(
        ValueError, match="`method` must be one of percentile, basic, BCa; got 'bc'"
    ):
        stats.bootstrap(np.mean, x, method="bc", rng=rng)
    with pytest.raises(TypeError, match="`rng` must be a gpumath.random or numpy.random"):
        stats.bootstrap(np.mean, x, rng=42)


# ------------------------------------------------------------------------------ CUDA path


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape, axis", [((3 * 2**20 + 5,), None), ((513, 77), 0), ((77, 513), 1)])
def test_cuda_describe_uses_fused_kernel(gpu, rng, monkeypatch, dtype, shape, axis):
    calls = []
    real = moments.moments_cuda
    monkeypatch.setattr(stats, "moments_cuda", lambda *a, **k: calls.append(1) or real(*a, **k))
    host = rng.standard_gamma(2.0, shape).astype(dtype)
    x = gpu.asarray(host)
    got = stats.describe(x, axis=axis)
    ref = scipy.stats.describe(host.astype(np.float64), axis=None if axis is None else axis)
    tol = 2e-6 if dtype == np.float32 else 1e-12
    _check_result(got, ref, dtype, tol)
    assert_close(stats.skew(x, axis=axis), np.asarray(ref.skewness).astype(dtype), rtol=tol)
    assert len(calls) == 2, "describe and skew must run the fused kernel"


def test_cuda_kernel_matches_xp_path_with_offset(gpu, rng):
    host = 1e8 + rng.standard_gamma(2.0, (4, 100_003))
    x = gpu.asarray(host)
    record, cuda = moments.moments_cuda(x, (1,), ddof=1, bias=True, fisher=True)
    m = moments.moments_xp(host - 1e8, (1,), np, minmax=True)
    oracle = moments.finish(m, np, ddof=1, bias=True, fisher=True, eps=float(np.finfo(float).eps))
    for name in ("variance", "skewness", "kurtosis"):
        assert_close(cuda[name], oracle[name], rtol=1e-12)
    assert_close(record.full_mean() - 1e8, oracle["mean"], rtol=1e-7)


def test_cuda_running_moments_uses_fused_kernel(gpu, rng, monkeypatch):
    running = importlib.import_module("gpumath.stats._running")
    calls = []
    real = moments.moments_cuda
    monkeypatch.setattr(running, "moments_cuda", lambda *a, **k: calls.append(1) or real(*a, **k))
    host = rng.standard_gamma(2.0, (10_000, 5)).astype(np.float32)
    rm = stats.RunningMoments(axis=0)
    for batch in np.array_split(host, 10):
        rm.update(gpu.asarray(batch))
    assert len(calls) == 10
    _check_result(rm.result(), scipy.stats.describe(host.astype(np.float64)), np.float32, 2e-6)
