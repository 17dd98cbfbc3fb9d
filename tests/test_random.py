"""gpumath.random: NumPy's Generator API on NumPy (CPU) and CuPy (GPU).

Goodness of fit is judged at fixed seeds with Kolmogorov-Smirnov (continuous) or chi-square
(discrete) tests at level 1e-3: a correct sampler fails one such test with probability
1e-3 over seeds, so the ~25 fixed-seed tests here would have a ~2.5% chance to include one
false alarm had their seeds been picked at random; fixed seeds make a pass reproducible.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.stats as st

import gpumath
from gpumath.random import Generator, default_rng

ALPHA = 1e-3
N = 20_000


def _device(xp) -> str:
    return "cpu" if xp is np else "cuda:0"


def _host(a):
    return gpumath.to_numpy(a)


def _chi2_pvalue(samples, probs):
    """Chi-square goodness of fit of integer samples to ``probs`` (bins with < 5 pooled)."""
    probs = np.asarray(probs, dtype=np.float64)
    observed = np.bincount(samples.ravel(), minlength=probs.size).astype(np.float64)
    assert observed.size == probs.size, "a sample fell outside the support"
    assert (observed[probs == 0] == 0).all(), "a zero-probability value was drawn"
    observed, probs = observed[probs > 0], probs[probs > 0]
    expected = probs / probs.sum() * samples.size
    small = expected < 5
    if small.any():
        observed = np.r_[observed[~small], observed[small].sum()]
        expected = np.r_[expected[~small], expected[small].sum()]
    return st.chisquare(observed, expected).pvalue


@pytest.fixture
def gen(xp):
    return default_rng(12345, device=_device(xp))


# ------------------------------------------------------------------ construction, streams


def test_default_rng_uses_the_current_device(xp):
    with gpumath.use_device(_device(xp)):
        g = default_rng(0)
        assert isinstance(g, Generator) and g.device == _device(xp)
        assert gpumath.device_of(g.random(2)) == _device(xp)
    assert default_rng(g) is g


def test_cpu_stream_is_numpy_default_rng():
    ours, ref = default_rng(42, device="cpu"), np.random.default_rng(42)
    np.testing.assert_array_equal(ours.random(5), ref.random(5))
    np.testing.assert_array_equal(ours.standard_normal(5), ref.standard_normal(5))
    np.testing.assert_array_equal(ours.integers(0, 10, size=5), ref.integers(0, 10, size=5))
    np.testing.assert_array_equal(ours.poisson(3.0, size=5), ref.poisson(3.0, size=5))


def test_cpu_float64_normal_and_uniform_are_numpys_own():
    ours, ref = default_rng(9, device="cpu"), np.random.default_rng(9)
    np.testing.assert_array_equal(ours.normal(1.5, 0.2, size=7), ref.normal(1.5, 0.2, size=7))
    np.testing.assert_array_equal(ours.uniform(-1, 3, size=7), ref.uniform(-1, 3, size=7))
    loc = np.array([0.0, 5.0])
    np.testing.assert_array_equal(ours.normal(loc, 2.0, (3, 2)), ref.normal(loc, 2.0, (3, 2)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_scaled_draws_are_the_unit_draws_scaled(xp, dtype):
    # normal, uniform and exponential apply loc and scale to the unit draw of the same
    # stream (on a GPU in one fused in-place pass): scalar and array parameters, both dtypes.
    dev, n = _device(xp), 1000
    tol = 4 * float(np.finfo(dtype).eps)  # one rounding of z*s+l (fused or not) and of (h-l)
    loc = xp.asarray(np.linspace(-3.0, 3.0, 4), dtype=dtype)
    cases = [
        (
            lambda g: g.normal(2.5, 0.02, n, dtype=dtype),
            lambda g: g.standard_normal(n, dtype),
            0.02,
            2.5,
        ),
        (
            lambda g: g.normal(loc, 3.0, (n, 4), dtype=dtype),
            lambda g: g.standard_normal((n, 4), dtype),
            3.0,
            loc,
        ),
        (lambda g: g.uniform(-1.0, 1.0, n, dtype=dtype), lambda g: g.random(n, dtype), 2.0, -1.0),
        (
            lambda g: g.uniform(loc, 4.0, (n, 4), dtype=dtype),
            lambda g: g.random((n, 4), dtype),
            4.0 - loc,
            loc,
        ),
    ]
    for draw, unit, scale, shift in cases:
        got = draw(default_rng(21, device=dev))
        assert got.dtype == dtype and gpumath.device_of(got) == dev
        expect = _host(unit(default_rng(21, device=dev))).astype(np.float64)
        expect = expect * _host(xp.asarray(scale)) + _host(xp.asarray(shift))
        np.testing.assert_allclose(_host(got), expect, rtol=tol, atol=tol * 4)
    ex = default_rng(21, device=dev).exponential(0.5, n, dtype=dtype)
    unit = default_rng(21, device=dev).exponential(1.0, n, dtype=dtype)
    np.testing.assert_allclose(_host(ex), 0.5 * _host(unit), rtol=tol)


METHODS = {
    "random": lambda g: g.random(50),
    "uniform": lambda g: g.uniform(-2, 3, size=50),
    "integers": lambda g: g.integers(0, 1000, size=50),
    "integers_wide": lambda g: g.integers(0, 2**40, size=50),
    "standard_normal": lambda g: g.standard_normal(50, dtype=np.float32),
    "normal": lambda g: g.normal(1.0, 2.0, size=50),
    "exponential": lambda g: g.exponential(2.0, size=50),
    "gamma": lambda g: g.gamma(2.5, 1.5, size=50),
    "beta": lambda g: g.beta(2.0, 3.0, size=50),
    "poisson": lambda g: g.poisson(4.0, size=50),
    "bernoulli": lambda g: g.bernoulli(0.3, size=50),
    "binomial": lambda g: g.binomial(10, 0.4, size=50),
    "categorical": lambda g: g.categorical([0.1, 0.2, 0.7], size=50),
    "multinomial": lambda g: g.multinomial(10, [0.1, 0.2, 0.7], size=50),
    "choice": lambda g: g.choice(100, size=20, replace=False),
    "permutation": lambda g: g.permutation(50),
}


@pytest.mark.parametrize("method", sorted(METHODS))
def test_same_seed_same_stream_other_seed_other_stream(xp, method):
    draw = METHODS[method]
    a = _host(draw(default_rng(7, device=_device(xp))))
    b = _host(draw(default_rng(7, device=_device(xp))))
    c = _host(draw(default_rng(8, device=_device(xp))))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)


def test_spawn_gives_reproducible_independent_children(xp):
    kids = default_rng(3, device=_device(xp)).spawn(3)
    again = default_rng(3, device=_device(xp)).spawn(3)
    draws = [_host(k.random(100)) for k in kids]
    np.testing.assert_array_equal(draws[0], _host(again[0].random(100)))
    assert abs(np.corrcoef(draws[0], draws[1])[0, 1]) < 0.4
    assert all(k.device == _device(xp) for k in kids)


# ------------------------------------------------------------------ shapes, dtypes, devices


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_float_methods_keep_dtype_and_device(xp, gen, dtype):
    for out in (
        gen.random((3, 4), dtype=dtype),
        gen.uniform(0, 1, (3, 4), dtype=dtype),
        gen.standard_normal((3, 4), dtype=dtype),
        gen.normal(0, 1, (3, 4), dtype=dtype),
        gen.exponential(1, (3, 4), dtype=dtype),
        gen.gamma(2.0, 1.0, (3, 4), dtype=dtype),
        gen.beta(2.0, 2.0, (3, 4), dtype=dtype),
    ):
        assert out.dtype == dtype and out.shape == (3, 4)
        assert gpumath.device_of(out) == _device(xp)
    assert gen.normal(xp.zeros(3, dtype=dtype)).dtype == dtype  # from a float array parameter


def test_sizes_and_parameter_broadcasting(xp, gen):
    assert gen.random().shape == ()
    assert gen.standard_normal(5).shape == (5,)
    loc = xp.asarray([0.0, 10.0, 20.0])
    x = gen.normal(loc, 0.1, size=(1000, 3))
    assert x.shape == (1000, 3)
    np.testing.assert_allclose(_host(x).mean(axis=0), [0, 10, 20], atol=0.05)
    assert gen.poisson(xp.asarray([1.0, 100.0])).shape == (2,)
    assert gen.binomial(xp.asarray([5, 10]), 0.5).dtype == np.int64
    k = gen.integers(xp.asarray([0, 100]), xp.asarray([10, 110]), size=(500, 2))
    h = _host(k)
    assert (
        h[:, 0].min() >= 0 and h[:, 0].max() < 10 and h[:, 1].min() >= 100 and h[:, 1].max() < 110
    )


# ------------------------------------------------------------------ goodness of fit

CONTINUOUS = [
    ("uniform", lambda g: g.uniform(-1, 3, N), st.uniform(-1, 4)),
    ("normal", lambda g: g.normal(2.0, 3.0, N), st.norm(2, 3)),
    ("normal32", lambda g: g.normal(2.0, 3.0, N, dtype=np.float32), st.norm(2, 3)),
    ("exponential", lambda g: g.exponential(0.5, N), st.expon(scale=0.5)),
    ("gamma_small", lambda g: g.gamma(0.5, 2.0, N), st.gamma(0.5, scale=2.0)),
    ("gamma", lambda g: g.gamma(3.0, 2.0, N), st.gamma(3.0, scale=2.0)),
    ("beta", lambda g: g.beta(0.7, 2.5, N), st.beta(0.7, 2.5)),
]


@pytest.mark.parametrize("name, draw, ref", CONTINUOUS, ids=[c[0] for c in CONTINUOUS])
def test_continuous_samplers_pass_ks_and_match_moments(xp, gen, name, draw, ref):
    x = _host(draw(gen)).astype(np.float64)
    assert st.kstest(x, ref.cdf).pvalue > ALPHA
    assert abs(x.mean() - ref.mean()) < 5 * ref.std() / np.sqrt(N)
    assert abs(x.var() / ref.var() - 1) < 0.1


def test_discrete_samplers_pass_chi_square(xp, gen):
    softmax = np.exp([0.0, 1.0, 2.0]) / np.exp([0.0, 1.0, 2.0]).sum()
    weights = [0.05, 0.15, 0.2, 0.25, 0.35]
    cases = [
        (gen.poisson(3.5, N), st.poisson(3.5).pmf(np.arange(60))),
        (gen.binomial(12, 0.3, N), st.binom(12, 0.3).pmf(np.arange(13))),
        (gen.bernoulli(0.3, N, dtype=np.int64), [0.7, 0.3]),
        (gen.integers(0, 7, N), np.full(7, 1 / 7)),
        (gen.categorical([0.1, 0.0, 0.2, 0.7], size=N), [0.1, 0.0, 0.2, 0.7]),
        (gen.categorical(logits=xp.asarray([0.0, 1.0, 2.0]), size=N), softmax),
        (gen.choice(5, N, p=weights), weights),
    ]
    for samples, probs in cases:
        assert _chi2_pvalue(_host(samples).astype(np.int64), probs) > ALPHA


def test_batched_categorical_and_multinomial(xp, gen):
    probs = xp.asarray([[0.5, 0.5, 0.0], [0.1, 0.1, 0.8]])
    c = _host(gen.categorical(probs, size=(N, 2)))
    assert _chi2_pvalue(c[:, 0], [0.5, 0.5, 0.0]) > ALPHA
    assert _chi2_pvalue(c[:, 1], [0.1, 0.1, 0.8]) > ALPHA
    m = _host(gen.multinomial(xp.asarray([5, 20]), probs, size=(N, 2)))
    assert m.shape == (N, 2, 3) and m.dtype == np.int64
    np.testing.assert_array_equal(m.sum(axis=-1), np.broadcast_to([5, 20], (N, 2)))
    assert (m[:, 0, 2] == 0).all()
    # each count is binomial(n, p_j): chi-square of its marginal
    assert _chi2_pvalue(m[:, 1, 2], st.binom(20, 0.8).pmf(np.arange(21))) > ALPHA
    assert _chi2_pvalue(m[:, 0, 0], st.binom(5, 0.5).pmf(np.arange(6))) > ALPHA


def test_choice_permutation_shuffle(xp, gen):
    pick = _host(gen.choice(1000, size=1000, replace=False))
    assert np.array_equal(np.sort(pick), np.arange(1000))
    rows = xp.reshape(xp.arange(12.0), (6, 2))
    sub = _host(gen.choice(rows, size=3, replace=False))
    assert sub.shape == (3, 2) and len({tuple(r) for r in sub}) == 3
    weighted = _host(gen.choice(6, size=4, replace=False, p=[0.0, 0.0, 0.25, 0.25, 0.25, 0.25]))
    assert sorted(weighted.tolist()) == [2, 3, 4, 5]
    assert np.array_equal(np.sort(_host(gen.permutation(100))), np.arange(100))
    perm = _host(gen.permutation(rows))
    assert sorted(map(tuple, perm)) == sorted(map(tuple, _host(rows)))
    x = xp.arange(50)
    gen.shuffle(x)
    h = _host(x)
    assert np.array_equal(np.sort(h), np.arange(50)) and not np.array_equal(h, np.arange(50))
    # first draw without replacement follows p
    firsts = np.array(
        [int(_host(gen.choice(3, 2, replace=False, p=[0.2, 0.3, 0.5]))[0]) for _ in range(600)]
    )
    assert _chi2_pvalue(firsts, [0.2, 0.3, 0.5]) > ALPHA


# ------------------------------------------------------------------ bad input


def test_bad_arguments_raise_clear_errors(xp, gen):
    with pytest.raises(ValueError, match=r"`scale` must be >= 0; got -1.0"):
        gen.normal(0.0, -1.0)
    with pytest.raises(ValueError, match=r"`scale` must be >= 0; got nan"):
        gen.exponential(float("nan"))
    with pytest.raises(ValueError, match=r"`p` must be in \[0, 1\]; got 1.5"):
        gen.bernoulli(1.5)
    with pytest.raises(
        ValueError, match=r"`probs` must sum to 1 .*tolerance 1.5e-08.*got sum 0.75"
    ):
        gen.categorical([0.25, 0.5])
    with pytest.raises(ValueError, match=r"`pvals` must be >= 0; got -0.5"):
        gen.multinomial(3, [1.5, -0.5])
    with pytest.raises(ValueError, match="exactly one of `probs` and `logits`"):
        gen.categorical()
    with pytest.raises(TypeError, match="`dtype` must be float32 or float64; got int32"):
        gen.random(3, dtype=np.int32)
    with pytest.raises(ValueError, match="`size` must be non-negative"):
        gen.random(-1)
    with pytest.raises(ValueError, match="cannot take 5 samples without replacement from 3"):
        gen.choice(3, 5, replace=False)
    with pytest.raises(ValueError, match=r"`high` must be > `low`"):
        gen.integers(5, 5)
    with pytest.raises(ValueError, match=r"`seed` must be a non-negative integer; got -3"):
        default_rng(-3, device=_device(xp))


def test_arrays_from_another_device_are_refused(gpu):
    g = default_rng(0, device="cpu")
    with pytest.raises(TypeError, match="`loc` lives on cuda:0 but the generator on cpu"):
        g.normal(gpu.zeros(3))
    h = default_rng(0, device="cuda")
    with pytest.raises(TypeError, match="`loc` lives on cpu but the generator on cuda:0"):
        h.normal(np.zeros(3))


@pytest.mark.parametrize("module", ["_generator", "_sampling"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"gpumath.random.{module}"))
    assert result.attempted > 0 and result.failed == 0
