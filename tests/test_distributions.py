"""gpumath.stats distributions against scipy.stats, on grids that include the tails.

Samplers are judged at fixed seeds by Kolmogorov-Smirnov (continuous) or chi-square
(discrete) tests at level 1e-3 (a correct sampler fails one with probability 1e-3 over
seeds), and by sample moments within 5 standard errors of the analytic ones.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gpumath
from gpumath.random import default_rng
from gpumath.stats.distributions import (
    Bernoulli,
    Beta,
    Categorical,
    Exponential,
    Gamma,
    Multinomial,
    MultivariateNormal,
    Normal,
    Poisson,
    Uniform,
)
from gpumath.testing import assert_close

ALPHA = 1e-3


def _device(xp) -> str:
    return "cpu" if xp is np else "cuda:0"


def _host(a):
    return gpumath.to_numpy(a)


# (name, ours(params as xp arrays), scipy frozen, grid of x, grid of q)
def _continuous_cases(xp):
    a = xp.asarray
    return [
        (
            "normal",
            Normal(a([0.0, 3.0]), a([1.0, 0.5])),
            st.norm([0.0, 3.0], [1.0, 0.5]),
            np.r_[-40, -8, -1.5, 0, 0.3, 2.9, 8, 40][:, None],
        ),
        ("uniform", Uniform(a(-1.0), a(3.0)), st.uniform(-1, 4), np.r_[-2, -1, 0, 2.99, 3, 5]),
        ("exponential", Exponential(a(2.0)), st.expon(scale=0.5), np.r_[-1, 0, 1e-8, 0.5, 10, 40]),
        (
            "gamma",
            Gamma(a([0.5, 3.0]), a([2.0, 0.25])),
            st.gamma([0.5, 3.0], scale=[0.5, 4.0]),
            np.r_[-1, 1e-12, 1e-3, 0.5, 3, 30, 120][:, None],
        ),
        (
            "beta",
            Beta(a([0.5, 2.0]), a([3.0, 0.7])),
            st.beta([0.5, 2.0], [3.0, 0.7]),
            np.r_[-0.1, 0, 1e-9, 0.2, 0.5, 0.999, 1, 1.1][:, None],
        ),
    ]


CONTINUOUS = ["normal", "uniform", "exponential", "gamma", "beta"]


@pytest.mark.parametrize("name", CONTINUOUS)
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_continuous_densities_and_quantiles_match_scipy(xp, name, dtype):
    _, dist, ref, grid = next(c for c in _continuous_cases(xp) if c[0] == name)
    x = xp.asarray(grid, dtype=dtype)
    rtol = 1e-10 if dtype == np.float64 else 2e-5
    with np.errstate(divide="ignore"):
        expect_logpdf = ref.logpdf(grid)
    # float64 parameters promote float32 points (dtype in = dtype out is for weak parameters)
    out_dtype = np.float64
    assert_close(dist.logpdf(x), expect_logpdf, rtol=rtol, like=x, dtype=out_dtype)
    assert_close(dist.pdf(x), ref.pdf(grid), rtol=rtol, like=x, dtype=out_dtype)
    # cupyx.scipy.special ports Cephes, SciPy uses Boost for some: agree to ~1e-10
    assert_close(dist.cdf(x), ref.cdf(grid), rtol=max(rtol, 1e-10), like=x, dtype=out_dtype)
    q = xp.asarray(np.r_[0.0, 1e-10, 0.01, 0.5, 0.9, 1 - 1e-6, 1.0][:, None], dtype=dtype)
    ref_q = ref.ppf(_host(q).astype(np.float64))
    assert_close(
        dist.icdf(q), ref_q, rtol=1e-9 if dtype == np.float64 else 1e-4, like=q, dtype=out_dtype
    )
    for ours, theirs in ((dist.mean(), ref.mean()), (dist.variance(), ref.var())):
        assert_close(ours, np.broadcast_to(theirs, dist.batch_shape), rtol=1e-12)
    assert_close(dist.entropy(), np.broadcast_to(ref.entropy(), dist.batch_shape), rtol=1e-10)


def test_weak_parameters_follow_the_input_dtype(xp):
    x = xp.asarray(np.linspace(-3, 3, 11), dtype=np.float32)
    for dist, ref in (
        (Normal(1.0, 2.0), st.norm(1, 2)),
        (Gamma(2.0, 1.5), st.gamma(2, scale=1 / 1.5)),
    ):
        out = dist.logpdf(x)
        with np.errstate(divide="ignore"):
            expect = ref.logpdf(_host(x).astype(np.float64))
        assert_close(out, expect, rtol=1e-5, like=x, dtype=np.float32)
    samples = Normal(xp.asarray(0.0, dtype=np.float32), 1.0).sample((10,), rng=0)
    assert samples.dtype == np.float32 and gpumath.device_of(samples) == _device(xp)


def test_out_of_support_is_zero_or_minus_inf_and_nan_propagates(xp):
    x = xp.asarray([-1.0, np.nan, 2.0])
    for dist in (Exponential(1.0), Beta(2.0, 2.0), Gamma(2.0, 1.0), Uniform(0.0, 1.0)):
        lp = _host(dist.logpdf(x))
        assert lp[0] == -np.inf and np.isnan(lp[1])
        assert _host(dist.pdf(x))[0] == 0.0
    k = xp.asarray([-1.0, 0.5, np.nan, 1.0])
    for dist in (Poisson(2.0), Bernoulli(0.3), Categorical([0.5, 0.5])):
        lp = _host(dist.logpmf(k))
        assert lp[0] == -np.inf and lp[1] == -np.inf and np.isnan(lp[2]) and np.isfinite(lp[3])


def test_discrete_masses_match_scipy(xp):
    k = xp.asarray(np.r_[-1, 0, 1, 2, 3, 7, 30, 100, 2.5])
    grid = _host(k)
    cases = [
        (
            Poisson(xp.asarray([0.5, 4.0, 40.0])[:, None]),
            st.poisson(np.r_[0.5, 4.0, 40.0][:, None]),
        ),
        (
            Bernoulli(xp.asarray([0.0, 0.3, 1.0])[:, None]),
            st.bernoulli(np.r_[0.0, 0.3, 1.0][:, None]),
        ),
    ]
    for dist, ref in cases:
        with np.errstate(divide="ignore"):
            assert_close(dist.logpmf(k), ref.logpmf(grid), rtol=1e-10, like=k)
        assert_close(dist.pmf(k), ref.pmf(grid), rtol=1e-10, like=k)
        assert_close(dist.cdf(k), ref.cdf(grid), rtol=1e-10, like=k)
        assert_close(dist.mean(), ref.mean(), rtol=1e-12)
        assert_close(dist.variance(), ref.var(), rtol=1e-12)
        assert_close(dist.entropy(), ref.entropy(), rtol=1e-10)
    q = xp.asarray([1e-9, 0.5, 0.7, 0.71, 1.0])
    assert_close(Bernoulli(0.3).icdf(q), st.bernoulli(0.3).ppf(_host(q)), rtol=0)
    # q = 0: the smallest point of the support (SciPy's ppf says -1, below the support)
    assert float(Bernoulli(0.3).icdf(xp.asarray(0.0))) == 0.0


def test_poisson_icdf_matches_scipy_ppf(xp, rng):
    rates = np.r_[0.0, 1e-3, rng.uniform(0.1, 5.0, 3), 47.2, rng.uniform(1e3, 2e4)]
    q = np.r_[1e-12, rng.uniform(0, 1, 20), 0.5, 0.999, 1 - 1e-12, 1.0]
    ours = Poisson(xp.asarray(rates)[:, None]).icdf(xp.asarray(q))
    assert_close(ours, st.poisson(rates[:, None]).ppf(q), rtol=0, like=ours)
    edges = Poisson(3.0).icdf(xp.asarray([0.0, -0.1, 1.5, np.nan]))
    np.testing.assert_array_equal(_host(edges), [0.0, np.nan, np.nan, np.nan])


def test_categorical_matches_scipy_multinomial_with_one_trial(xp):
    probs = np.array([[0.1, 0.0, 0.6, 0.3], [0.25, 0.25, 0.25, 0.25]])
    for dist in (
        Categorical(xp.asarray(probs)),
        Categorical(logits=xp.asarray(np.log(probs + 1e-300))),
    ):
        k = xp.asarray([[0.0], [1.0], [2.0], [3.0], [4.0], [-1.0]])
        expect = np.where((_host(k) >= 0) & (_host(k) < 4), 0.0, 0.0)
        idx = np.clip(_host(k).astype(int), 0, 3)
        expect = np.where((_host(k) >= 0) & (_host(k) < 4), probs[np.arange(2), idx], 0.0)
        assert_close(dist.pmf(k), expect, rtol=1e-12)
        assert_close(
            dist.cdf(k),
            np.where(_host(k) < 0, 0, np.cumsum(probs, 1)[np.arange(2), idx]),
            rtol=1e-12,
        )
        icdf = dist.icdf(xp.asarray([[0.05], [0.1], [0.65], [1.0]]))
        np.testing.assert_array_equal(_host(icdf), [[0, 0], [0, 0], [2, 2], [3, 3]])
        h = np.array([st.multinomial(1, p).entropy() for p in probs])
        assert_close(dist.entropy(), h, rtol=1e-9)
        assert_close(dist.mean(), probs @ np.arange(4), rtol=1e-12)


def test_multinomial_matches_scipy(xp):
    p = np.array([0.2, 0.3, 0.5])
    dist = Multinomial(xp.asarray([4.0, 7.0]), xp.asarray(p))
    ref = [st.multinomial(4, p), st.multinomial(7, p)]
    x = np.array([[1, 1, 2], [0, 0, 4], [2, 2, 3], [-1, 2, 3], [1.5, 1.5, 1]])
    lp = _host(dist.logpmf(xp.asarray(x[:, None, :])))
    with np.errstate(divide="ignore"):
        expect = np.stack([[r.logpmf(row) for r in ref] for row in x])
    expect[3:] = -np.inf  # negative or fractional counts
    np.testing.assert_allclose(lp, expect, rtol=1e-10)
    assert_close(dist.entropy(), [ref[0].entropy(), ref[1].entropy()], rtol=1e-10)
    assert_close(dist.covariance()[1], ref[1].cov(), rtol=1e-12)
    assert_close(dist.mean()[1], ref[1].mean(), rtol=1e-12)


def test_multivariate_normal_matches_scipy(xp, rng):
    d = 3
    a = rng.standard_normal((d, d))
    cov = a @ a.T + 0.5 * np.eye(d)
    mean = rng.standard_normal(d)
    ref = st.multivariate_normal(mean, cov)
    dist = MultivariateNormal(xp.asarray(mean), xp.asarray(cov))
    x = rng.standard_normal((7, d)) * 3
    assert_close(dist.logpdf(xp.asarray(x)), ref.logpdf(x), rtol=1e-10)
    assert_close(dist.entropy(), np.asarray(ref.entropy()), rtol=1e-10)
    batched = MultivariateNormal(
        xp.asarray(np.stack([mean, -mean])), xp.asarray(np.stack([cov, 2 * cov]))
    )
    ref2 = st.multivariate_normal(-mean, 2 * cov)
    out = _host(batched.logpdf(xp.asarray(x[:, None, :])))
    np.testing.assert_allclose(out[:, 1], ref2.logpdf(x), rtol=1e-10)
    np.testing.assert_allclose(out[:, 0], ref.logpdf(x), rtol=1e-10)
    draws = _host(dist.sample((40_000,), rng=default_rng(5, device=_device(xp))))
    assert draws.shape == (40_000, d)
    np.testing.assert_allclose(draws.mean(0), mean, atol=5 * np.sqrt(np.diag(cov).max() / 40_000))
    np.testing.assert_allclose(np.cov(draws.T), cov, atol=0.05 * np.abs(cov).max())


SAMPLERS = [
    ("normal", lambda: Normal(1.0, 2.0), st.norm(1, 2)),
    ("uniform", lambda: Uniform(-2.0, 1.0), st.uniform(-2, 3)),
    ("exponential", lambda: Exponential(3.0), st.expon(scale=1 / 3)),
    ("gamma", lambda: Gamma(0.7, 2.0), st.gamma(0.7, scale=0.5)),
    ("beta", lambda: Beta(2.0, 0.5), st.beta(2, 0.5)),
]


@pytest.mark.parametrize("name, make, ref", SAMPLERS, ids=[s[0] for s in SAMPLERS])
def test_continuous_samples_pass_ks_and_moments(xp, name, make, ref):
    x = _host(make().sample((20_000,), rng=default_rng(11, device=_device(xp))))
    assert st.kstest(x, ref.cdf).pvalue > ALPHA
    assert abs(x.mean() - ref.mean()) < 5 * ref.std() / np.sqrt(x.size)


def test_discrete_samples_pass_chi_square(xp):
    gen = default_rng(21, device=_device(xp))
    n = 20_000
    pois = _host(Poisson(3.0).sample((n,), rng=gen))
    bern = _host(Bernoulli(0.2).sample((n,), rng=gen))
    cat = _host(Categorical([0.1, 0.6, 0.3]).sample((n,), rng=gen))
    multi = _host(Multinomial(6, [0.5, 0.25, 0.25]).sample((n,), rng=gen))
    assert multi.shape == (n, 3) and (multi.sum(1) == 6).all()
    for s, probs in (
        (pois, st.poisson(3.0).pmf(np.arange(40))),
        (bern, [0.8, 0.2]),
        (cat, [0.1, 0.6, 0.3]),
        (multi[:, 0], st.binom(6, 0.5).pmf(np.arange(7))),
    ):
        observed = np.bincount(s, minlength=len(probs))[: len(probs)].astype(float)
        expected = np.asarray(probs) * n
        keep = expected >= 5
        rest_observed, rest_expected = n - observed[keep].sum(), n - expected[keep].sum()
        observed, expected = observed[keep], expected[keep]
        if rest_expected > 0.5:  # pool the tail; an empty tail must stay empty
            observed, expected = np.r_[observed, rest_observed], np.r_[expected, rest_expected]
        else:
            assert rest_observed == 0
        assert st.chisquare(observed, expected).pvalue > ALPHA


def test_sample_shapes_follow_batch(xp):
    d = Normal(xp.asarray([0.0, 10.0]), 1.0)
    assert d.batch_shape == (2,)
    s = d.sample((5, 3), rng=default_rng(0, device=_device(xp)))
    assert s.shape == (5, 3, 2) and gpumath.device_of(s) == _device(xp)
    assert Categorical(xp.ones((4, 3)) / 3).sample(7, rng=1).shape == (7, 4)


def test_invalid_parameters_raise(xp):
    a = xp.asarray
    cases = [
        (lambda: Normal(0.0, -1.0), r"`sigma` must be > 0; got -1.0"),
        (lambda: Normal(a([0.0, np.nan]), 1.0), r"`mu` must be finite; got nan"),
        (lambda: Normal(0.0, a([1.0, 0.0])), r"`sigma` must be > 0; got 0.0"),
        (lambda: Exponential(float("nan")), r"`rate` must be > 0; got nan"),
        (lambda: Gamma(-2.0, 1.0), r"`shape` must be > 0; got -2.0"),
        (lambda: Beta(1.0, 0.0), r"`b` must be > 0; got 0.0"),
        (lambda: Uniform(2.0, 1.0), r"`high` must be > `low`; got low=2.0, high=1.0"),
        (lambda: Bernoulli(1.5), r"`p` must be in \[0, 1\]; got 1.5"),
        (lambda: Poisson(-1.0), r"`rate` must be finite and >= 0; got -1.0"),
        (
            lambda: Categorical(a([0.2, 0.2])),
            r"`probs` must sum to 1 .*tolerance 1.5e-08.*got sum 0.4",
        ),
        (lambda: Categorical(a([1.5, -0.5])), r"`probs` must be >= 0; got -0.5"),
        (lambda: Categorical(), "exactly one of `probs` and `logits`"),
        (lambda: Multinomial(2.5, [1.0]), r"`n` must be an integer >= 0; got 2.5"),
        (
            lambda: MultivariateNormal(a([0.0, 0.0]), a([[1.0, 2.0], [2.0, 1.0]])),
            "positive definite",
        ),
        (lambda: MultivariateNormal(a([0.0, 0.0]), a([[1.0, 0.5], [0.0, 1.0]])), "symmetric"),
        (lambda: MultivariateNormal(a([0.0]), a([[1.0, 0.0], [0.0, 1.0]])), r"shape \(\.\.\., d\)"),
    ]
    for make, message in cases:
        with pytest.raises(ValueError, match=message):
            make()
    tolerance32 = Categorical(a(np.array([0.5, 0.5001], dtype=np.float32)))  # within 3.5e-4
    assert tolerance32.batch_shape == ()
