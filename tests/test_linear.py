"""gpumath.ops.linear.linear against activation(x @ w.T + b) written out in NumPy/SciPy float64."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.special import erfc

from gpumath.testing import assert_close

linear_module = importlib.import_module("gpumath.ops.linear")
linear = linear_module.linear

FLOATS = [np.float32, np.float64]
ACTIVATIONS = [None, "relu", "gelu", "sigmoid", "tanh"]


def _reference(x, w, b, activation):
    """The written-out float64 formula (torch.nn.functional.linear + activation)."""
    v = x.astype(np.float64) @ w.astype(np.float64).T
    if b is not None:
        v = v + b.astype(np.float64)
    if activation == "relu":
        return np.where(v < 0, 0.0, v)
    if activation == "gelu":
        # 1 + erf(v / sqrt 2) written as erfc(-v / sqrt 2): for v < -3 the sum cancels and
        # loses up to 1e-10 of the value, which the tiny float64 results then failed on.
        return 0.5 * v * erfc(-v / np.sqrt(2.0))
    if activation == "sigmoid":
        return 1.0 / (1.0 + np.exp(-v))
    if activation == "tanh":
        return np.tanh(v)
    return v


def _operands(xp, rng, x_shape, n, dtype, bias=True):
    k = x_shape[-1]
    x = rng.standard_normal(x_shape).astype(dtype)
    w = (rng.standard_normal((n, k)) / np.sqrt(max(k, 1))).astype(dtype)
    b = rng.standard_normal(n).astype(dtype) if bias else None
    dev = (xp.asarray(x), xp.asarray(w), None if b is None else xp.asarray(b))
    return (x, w, b), dev


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("activation", ACTIVATIONS)
@pytest.mark.parametrize("bias", [True, False], ids=["bias", "nobias"])
def test_matches_float64_formula(xp, rng, dtype, activation, bias):
    # Ragged against both tiles (128 float32, 64 float64) and the K step.
    (x, w, b), (xd, wd, bd) = _operands(xp, rng, (131, 37), 66, dtype, bias)
    out = linear(xd, wd, bd, activation=activation)
    assert_close(out, _reference(x, w, b, activation), like=xd, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize(
    "x_shape, n",
    [((1, 1), 1), ((7,), 5), ((2, 3, 17), 9), ((4, 1, 5, 64), 129), ((65, 128), 127)],
)
def test_shapes_and_batched_inputs(xp, rng, dtype, x_shape, n):
    (x, w, b), (xd, wd, bd) = _operands(xp, rng, x_shape, n, dtype)
    out = linear(xd, wd, bd, activation="gelu")
    assert tuple(out.shape) == (*x_shape[:-1], n)
    assert_close(out, _reference(x, w, b, "gelu"), like=xd, dtype=dtype)


@pytest.mark.parametrize(
    "x_shape, n", [((0, 4), 3), ((3, 4), 0), ((2, 0, 4), 5), ((3, 0), 4)], ids=str
)
def test_empty_extents(xp, rng, x_shape, n):
    (x, w, b), (xd, wd, bd) = _operands(xp, rng, x_shape, n, np.float32)
    out = linear(xd, wd, bd, activation="sigmoid")
    assert tuple(out.shape) == (*x_shape[:-1], n)
    # K == 0 sums no terms: the result is activation(bias) in every row.
    assert_close(out, _reference(x, w, b, "sigmoid"), like=xd, dtype=np.float32)


@pytest.mark.filterwarnings("ignore:invalid value:RuntimeWarning")
def test_nan_and_inf_propagate(xp):
    x = np.array([[np.nan, 1.0], [np.inf, 0.0], [-np.inf, 0.0], [1.0, 2.0]])
    w = np.array([[1.0, 0.0], [0.0, 1.0]])
    for activation in ACTIVATIONS:
        out = linear(xp.asarray(x), xp.asarray(w), activation=activation)
        with np.errstate(invalid="ignore"):  # inf * 0 in the product and in gelu
            expected = _reference(x, w, None, activation)
        assert_close(out, expected, like=xp.asarray(x))


def test_non_contiguous_inputs(xp, rng):
    x_big = rng.standard_normal((40, 90))
    w_big = rng.standard_normal((50, 70))
    x = xp.asarray(x_big)[::2, 1:71]  # (20, 70), strided rows
    w = xp.asarray(w_big)[:, ::-1]  # (50, 70), negative strides
    wt = xp.asarray(np.ascontiguousarray(w_big[:, ::-1].T)).T  # F-ordered weight
    expected = _reference(x_big[::2, 1:71], w_big[:, ::-1], None, "tanh")
    assert_close(linear(x, w, activation="tanh"), expected, like=x)
    assert_close(linear(x, wt, activation="tanh"), expected, like=x)


def test_bad_inputs_are_named(xp):
    x, w, b = xp.ones((3, 4)), xp.ones((5, 4)), xp.ones(5)
    with pytest.raises(ValueError, match=r"`x` has shape \(3, 4\) and `weight` has shape \(5, 6\)"):
        linear(x, xp.ones((5, 6)))
    with pytest.raises(ValueError, match=r"`bias` must have shape \(5,\).*got \(4,\)"):
        linear(x, w, xp.ones(4))
    with pytest.raises(ValueError, match=r"`weight` must be 2-D \(N, K\); got shape \(4,\)"):
        linear(x, xp.ones(4))
    with pytest.raises(ValueError, match=r"`x` has shape \(\)"):
        linear(xp.asarray(1.0), w)
    with pytest.raises(ValueError, match="`activation` must be one of .*got 'softmax'"):
        linear(x, w, b, activation="softmax")
    with pytest.raises(TypeError, match="`x` must have dtype float32 or float64; got int64"):
        linear(xp.ones((3, 4), dtype=np.int64), w)
    with pytest.raises(TypeError, match=r"`weight` must have the dtype of `x` \(float64\)"):
        linear(x, xp.ones((5, 4), dtype=np.float32))
    with pytest.raises(TypeError, match=r"`bias` must have the dtype of `x` \(float64\)"):
        linear(x, w, xp.ones(5, dtype=np.float32))
    with pytest.raises(TypeError, match="`weight` must be a NumPy or CuPy array; got list"):
        linear(x, [[1.0] * 4])


@given(
    m=st.integers(0, 9),
    n=st.integers(0, 9),
    k=st.integers(0, 9),
    activation=st.sampled_from(ACTIVATIONS),
    dtype=st.sampled_from(FLOATS),
    bias=st.booleans(),
    seed=st.integers(0, 2**32 - 1),
)
def test_property_matches_formula_on_host(m, n, k, activation, dtype, bias, seed):
    (x, w, b), _ = _operands(np, np.random.default_rng(seed), (m, k), n, dtype, bias)
    out = linear(x, w, b, activation=activation)
    assert_close(out, _reference(x, w, b, activation), dtype=dtype)


def test_mixed_numpy_and_cupy_raise(gpu):
    with pytest.raises(TypeError, match="mix array libraries"):
        linear(np.ones((2, 2)), gpu.ones((2, 2)))


def test_cuda_runs_one_fused_kernel(gpu, rng, monkeypatch):
    launched = []
    real = linear_module._kernels.launch
    monkeypatch.setattr(
        linear_module._kernels,
        "launch",
        lambda kernel, *a, **k: launched.append(kernel.name) or real(kernel, *a, **k),
    )
    (x, w, b), (xd, wd, bd) = _operands(gpu, rng, (300, 260), 301, np.float32)
    out = linear(xd, wd, bd, activation="relu")
    assert launched == ["gm_linear_f32"]
    assert_close(out, _reference(x, w, b, "relu"), like=xd, dtype=np.float32)


@pytest.mark.parametrize("dtype", FLOATS)
def test_cuda_unaligned_operands(gpu, rng, dtype):
    # Views one element into an allocation are not 16-byte aligned: scalar loads and stores.
    x_host = rng.standard_normal(1 + 70 * 33).astype(dtype)
    w_host = rng.standard_normal(1 + 45 * 33).astype(dtype)
    x = gpu.asarray(x_host)[1:].reshape(70, 33)
    w = gpu.asarray(w_host)[1:].reshape(45, 33)
    expected = _reference(x_host[1:].reshape(70, 33), w_host[1:].reshape(45, 33), None, "gelu")
    assert_close(linear(x, w, activation="gelu"), expected, like=x, dtype=dtype)
