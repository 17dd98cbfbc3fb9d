"""gpumath.montecarlo: estimators, their error bars, variance reduction, MCMC diagnostics.

Statistical assertions use fixed seeds; each states the probability that a correct
implementation fails it over random seeds (false-alarm rate).
"""

from __future__ import annotations

import math
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.stats as st

import gpumath
from gpumath.montecarlo import (
    clt_experiment,
    effective_sample_size,
    estimate_pi,
    expectation,
    integrate,
    metropolis_hastings,
    split_r_hat,
)
from gpumath.random import default_rng
from gpumath.stats.distributions import Exponential, MultivariateNormal, Normal, Uniform

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_emu_montecarlo import reference_block_counts  # noqa: E402  (NumPy Philox stream)


def _device(xp) -> str:
    return "cpu" if xp is np else "cuda:0"


def _rng(xp, seed):
    return default_rng(seed, device=_device(xp))


def _f(r) -> tuple[float, float]:
    return float(r.estimate), float(r.stderr)


E_MINUS_1 = math.e - 1


# ------------------------------------------------------------------ integrate


def test_plain_integral_and_its_error_bar(xp):
    r = integrate(xp.exp, 0.0, 1.0, 200_000, rng=_rng(xp, 1))
    est, se = _f(r)
    sd = math.sqrt((math.e**2 - 1) / 2 - E_MINUS_1**2)  # sd of exp(U)
    assert abs(est - E_MINUS_1) < 5 * se  # false alarm 6e-7
    assert abs(se / (sd / math.sqrt(200_000)) - 1) < 0.02
    assert r.n == 200_000 and gpumath.device_of(r.estimate) == _device(xp)
    assert float(r.ci_low) < est < float(r.ci_high)
    assert float(r.ci_high) - est == pytest.approx(1.959964 * se, rel=1e-5)


def test_ci_coverage_over_200_seeds_is_near_95_percent(xp):
    # Binomial(200, 0.95) lies in [180, 198] with probability 0.997 (false alarm 3e-3).
    seeds = np.random.SeedSequence(2024).spawn(200)
    covered = 0
    for s in seeds:
        r = integrate(lambda x: x**2, 0.0, 2.0, 400, rng=default_rng(s, device=_device(xp)))
        covered += float(r.ci_low) <= 8 / 3 <= float(r.ci_high)
    assert 180 <= covered <= 198, covered


@pytest.mark.parametrize("method", ["antithetic", "stratified"])
def test_variance_reduction_on_a_monotone_integrand(xp, method):
    n = 40_000
    plain = integrate(xp.exp, 0.0, 1.0, n, rng=_rng(xp, 3))
    better = integrate(xp.exp, 0.0, 1.0, n, rng=_rng(xp, 3), method=method)
    est, se = _f(better)
    assert abs(est - E_MINUS_1) < 5 * se
    # antithetic: variance ratio ~ 1/30; stratified with 10000 cells: ~ 1e-7
    assert se < 0.2 * float(plain.stderr)


def test_stratified_and_plain_in_two_dimensions(xp):
    lo, hi = np.zeros(2), np.array([1.0, 2.0])
    f = lambda x: x[:, 0] * x[:, 1] ** 2  # noqa: E731  integral 8/6
    for method in ("plain", "stratified"):
        r = integrate(f, lo, hi, 50_000, rng=_rng(xp, 4), method=method)
        assert abs(float(r.estimate) - 4 / 3) < 5 * float(r.stderr)
    assert r.n == 111**2 * 4  # 111 x 111 cells (<= n / 4), 4 points in each


def test_importance_sampling_on_an_infinite_domain(xp):
    proposal = Normal(0.0, 1.5)
    r = integrate(
        lambda x: xp.exp(-0.5 * x * x), -np.inf, np.inf, 50_000, rng=_rng(xp, 5),
        method="importance", proposal=proposal,
    )  # fmt: skip
    assert abs(float(r.estimate) - math.sqrt(2 * math.pi)) < 5 * float(r.stderr)
    box = integrate(
        lambda x: x[:, 0] + x[:, 1], [0.0, 0.0], [1.0, 1.0], 50_000, rng=_rng(xp, 6),
        method="importance", proposal=MultivariateNormal(xp.full(2, 0.5), 0.2 * xp.eye(2)),
    )  # fmt: skip
    assert abs(float(box.estimate) - 1.0) < 5 * float(box.stderr)


def test_streaming_in_batches_matches_one_batch():
    # NumPy fills arrays in stream order, so batches of 777 see the same points as one batch.
    one = integrate(np.exp, 0.0, 1.0, 10_001, rng=default_rng(8, device="cpu"))
    many = integrate(np.exp, 0.0, 1.0, 10_001, rng=default_rng(8, device="cpu"), batch_size=777)
    assert float(many.estimate) == pytest.approx(float(one.estimate), rel=1e-13)
    assert float(many.stderr) == pytest.approx(float(one.stderr), rel=1e-10)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_result_dtype_follows_the_points(xp, dtype):
    r = integrate(lambda x: x * x, 0.0, 1.0, 10_000, rng=_rng(xp, 9), dtype=dtype)
    assert r.estimate.dtype == dtype and r.stderr.dtype == dtype
    assert abs(float(r.estimate) - 1 / 3) < 5 * float(r.stderr)


# ------------------------------------------------------------------ expectation, CLT


def test_expectation_with_and_without_control_variate(xp):
    dist = Uniform(0.0, 1.0)
    plain = expectation(xp.exp, dist, 50_000, rng=_rng(xp, 10))
    cv = expectation(xp.exp, dist, 50_000, rng=_rng(xp, 10), control_variate=(lambda u: u, 0.5))
    for r in (plain, cv):
        assert abs(float(r.estimate) - E_MINUS_1) < 5 * float(r.stderr)
    assert float(cv.stderr) < 0.2 * float(plain.stderr)  # theory: sqrt(1 - 0.984) = 0.125
    second = expectation(lambda x: x * x, Normal(1.0, 2.0), 100_000, rng=_rng(xp, 11))
    assert abs(float(second.estimate) - 5.0) < 5 * float(second.stderr)


def test_clt_experiment_gives_standard_normal_means(xp):
    z = gpumath.to_numpy(clt_experiment(Exponential(2.0), 400, 2000, _rng(xp, 12)))
    assert z.shape == (2000,)
    assert st.kstest(z, "norm").pvalue > 1e-3  # skewness 2/sqrt(400) is far below KS power
    assert abs(z.mean()) < 5 / math.sqrt(2000) and abs(z.std() - 1) < 0.1


# ------------------------------------------------------------------ estimate_pi


def test_estimate_pi(xp):
    n = 2_000_002  # n % 3 == 1: the last Philox block holds one point on the GPU
    r = estimate_pi(n, rng=_rng(xp, 13))
    est, se = _f(r)
    assert abs(est - math.pi) < 5 * se
    p = math.pi / 4
    assert se == pytest.approx(4 * math.sqrt(p * (1 - p) / n), rel=0.01)
    assert _f(estimate_pi(n, rng=_rng(xp, 13))) == (est, se)
    assert _f(estimate_pi(n, rng=_rng(xp, 14)))[0] != est


def test_estimate_pi_kernel_counts_the_philox_stream_exactly(gpu):
    n = 100_003
    twin = default_rng(15, device="cuda")
    seed = tuple(int(s) for s in gpumath.to_numpy(twin.integers(0, 2**31, size=4)))
    expect = int(reference_block_counts(seed, n, 1, 1).sum())
    r = estimate_pi(n, rng=default_rng(15, device="cuda"))
    assert round(float(r.estimate) * n / 4) == expect


def test_estimate_pi_large_n_on_gpu(gpu):
    n = 10**10  # 10 G points, nothing stored: far beyond what fits as arrays
    r = estimate_pi(n, rng=default_rng(16, device="cuda"))
    assert abs(float(r.estimate) - math.pi) < 5 * float(r.stderr)
    assert float(r.stderr) < 2e-5


# ------------------------------------------------------------------ MCMC


def test_metropolis_hastings_on_a_correlated_gaussian(xp):
    cov = np.array([[1.0, 0.8], [0.8, 1.0]])
    mean = np.array([1.0, -2.0])
    prec = xp.asarray(np.linalg.inv(cov))
    mu = xp.asarray(mean)

    def logp(x):
        d = x - mu
        return -0.5 * xp.sum((d @ prec) * d, axis=1)

    start = np.random.default_rng(17).standard_normal((8, 2)) * 4
    r = metropolis_hastings(
        logp, xp.asarray(start), 10_000, n_chains=8, step_size=0.9, rng=_rng(xp, 18), burn_in=1000
    )
    s = gpumath.to_numpy(r.samples)
    assert s.shape == (8, 10_000, 2) and gpumath.device_of(r.samples) == _device(xp)
    flat = s.reshape(-1, 2)
    ess = gpumath.to_numpy(r.ess)
    assert (ess > 2500).all() and (ess < 80_000).all()
    tol = 5 / np.sqrt(ess.min())  # 5 Monte Carlo standard errors
    np.testing.assert_allclose(flat.mean(0), mean, atol=tol)
    np.testing.assert_allclose(np.cov(flat.T), cov, atol=4 * tol)
    assert (gpumath.to_numpy(r.r_hat) < 1.01).all()
    acc = gpumath.to_numpy(r.acceptance_rate)
    assert ((acc > 0.2) & (acc < 0.8)).all()


def test_diagnostics_against_known_answers(xp):
    rng = np.random.default_rng(19)
    phi, n = 0.5, 20_000
    noise = rng.standard_normal((4, n, 1))
    ar = np.empty_like(noise)
    ar[:, 0] = noise[:, 0] / math.sqrt(1 - phi**2)
    for t in range(1, n):
        ar[:, t] = phi * ar[:, t - 1] + noise[:, t]
    ess = float(gpumath.to_numpy(effective_sample_size(xp.asarray(ar)))[0])
    assert ess == pytest.approx(4 * n * (1 - phi) / (1 + phi), rel=0.15)
    assert float(gpumath.to_numpy(split_r_hat(xp.asarray(ar)))[0]) < 1.01
    shifted = ar + np.arange(4)[:, None, None]  # chains that disagree
    assert float(gpumath.to_numpy(split_r_hat(xp.asarray(shifted)))[0]) > 1.2


# ------------------------------------------------------------------ bad input


def test_bad_input_raises_clear_errors(xp):
    g = _rng(xp, 0)
    cases = [
        (lambda: integrate(xp.exp, 0.0, 1.0, -5, rng=g), r"`n` must be an integer >= 2; got -5"),
        (lambda: integrate(xp.exp, 0.0, 1.0, 10, rng=g, method="qmc"), "`method` must be one of"),
        (lambda: integrate(xp.exp, float("nan"), 1.0, 10, rng=g), "`lower` must not be NaN"),
        (lambda: integrate(xp.exp, 1.0, 0.0, 10, rng=g), r"`upper` must be > `lower`"),
        (lambda: integrate(xp.exp, 0.0, np.inf, 10, rng=g), "must be finite for method='plain'"),
        (lambda: integrate(xp.exp, 0.0, 1.0, 10, rng=g, method="importance"), "`proposal`"),
        (lambda: integrate(lambda x: x[:2], 0.0, 1.0, 10, rng=g), r"one value per point"),
        (lambda: integrate(xp.exp, 0.0, 1.0, 10, rng=g, confidence_level=1.5), "confidence"),
        (lambda: estimate_pi(0, rng=g), r"`n` must be an integer >= 2; got 0"),
        (lambda: expectation(xp.exp, Normal(), 10, rng=g, control_variate=(1, 0)), "pair"),
        (lambda: clt_experiment(Normal(xp.zeros(2)), 10, 10, g), "one scalar distribution"),
        (
            lambda: metropolis_hastings(lambda x: x[:, 0], xp.zeros((3, 2)), 10, n_chains=4, rng=g),
            r"`x0` must have shape \(d,\) or \(4, d\)",
        ),
        (
            lambda: metropolis_hastings(lambda x: x[:, 0], xp.zeros(2), 10, step_size=0.0, rng=g),
            "`step_size` must be > 0",
        ),
        (
            lambda: metropolis_hastings(lambda x: x[:, 0], xp.zeros(2), 10, thin=5, rng=g),
            r"`n_steps // thin` must be >= 4",
        ),
    ]
    for call, message in cases:
        with pytest.raises(ValueError, match=message):
            call()


@pytest.mark.parametrize("module", ["_integrate", "_mcmc", "_pi"])
def test_docstring_examples(module):
    # _mcmc's includes the Bayesian logistic-regression posterior (r_hat < 1.01).
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"gpumath.montecarlo.{module}"))
    assert result.attempted > 0 and result.failed == 0
