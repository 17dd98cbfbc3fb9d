"""gpumath.clip against NumPy's clip (float64 reference), on every backend."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import gpumath as gm
from gpumath.testing import assert_close

# `gpumath.ops.clip` is the function (re-exported); the module holds the two paths.
clip_module = importlib.import_module("gpumath.ops.clip")

FLOATS = [np.float32, np.float64]
# Ragged sizes around the launch geometry (256-thread blocks) and a grid-stride wrap.
SIZES = [1, 2, 255, 256, 257, 1000, 65_537]


def _poisoned_like(xp, x):
    return xp.full(x.shape, np.nan, dtype=x.dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("n", SIZES)
def test_matches_numpy(xp, rng, dtype, n):
    host = (rng.standard_normal(n) * 3).astype(dtype)
    x = xp.asarray(host)
    out = gm.clip(x, -1.5, 0.75)
    assert_close(out, np.clip(host.astype(np.float64), -1.5, 0.75).astype(dtype), like=x)


@pytest.mark.parametrize("dtype", FLOATS)
def test_out_is_written_even_when_poisoned(xp, rng, dtype):
    host = rng.standard_normal((37, 41)).astype(dtype)
    x = xp.asarray(host)
    out = _poisoned_like(xp, x)
    result = gm.clip(x, -0.5, 0.5, out=out)
    assert result is out
    assert_close(out, np.clip(host, -0.5, 0.5), like=x)


def test_in_place(xp, rng):
    host = rng.standard_normal(1001)
    x = xp.asarray(host)
    assert gm.clip(x, -0.1, 0.2, out=x) is x
    assert_close(x, np.clip(host, -0.1, 0.2), like=x)


@pytest.mark.parametrize("lo, hi", [(None, 0.3), (-0.3, None), (None, None), (0.5, -0.5)])
def test_open_and_crossed_bounds(xp, rng, lo, hi):
    host = rng.standard_normal(300).astype(np.float32)
    x = xp.asarray(host)
    expected = host if lo is None and hi is None else np.clip(host, lo, hi)
    out = gm.clip(x, lo, hi)
    assert out is not x
    assert_close(out, expected, like=x)


def test_nan_propagates_from_data_and_bounds(xp):
    host = np.array([np.nan, -2.0, 0.0, 2.0, np.inf, -np.inf])
    x = xp.asarray(host)
    assert_close(gm.clip(x, -1.0, 1.0), np.clip(host, -1.0, 1.0), like=x)
    assert_close(gm.clip(x, np.nan, 1.0), np.clip(host, np.nan, 1.0), like=x)
    assert_close(gm.clip(x, -1.0, np.nan), np.clip(host, -1.0, np.nan), like=x)


def test_empty_and_zero_dimensional(xp):
    empty = xp.zeros((0, 3), dtype=np.float32)
    assert gm.clip(empty, 0, 1).shape == (0, 3)
    scalar = xp.asarray(np.float64(7.0))
    assert_close(gm.clip(scalar, 0, 1), np.asarray(1.0), like=scalar)


def test_non_contiguous_view(xp, rng):
    host = rng.standard_normal((64, 48))
    x = xp.asarray(host)[::2, ::-3].T
    assert_close(gm.clip(x, -0.2, 0.4), np.clip(host[::2, ::-3].T, -0.2, 0.4), like=x)


def test_broadcast_array_bounds(xp, rng):
    host = rng.standard_normal((5, 7))
    lo = rng.standard_normal((1, 7)) - 1
    hi = rng.standard_normal((5, 1)) + 1
    x = xp.asarray(host)
    assert_close(gm.clip(x, xp.asarray(lo), xp.asarray(hi)), np.clip(host, lo, hi), like=x)


def test_integer_input_follows_numpy_promotion(xp):
    host = np.arange(-5, 6)
    x = xp.asarray(host)
    assert_close(gm.clip(x, -2, 3), np.clip(host, -2, 3), like=x)
    assert_close(gm.clip(x, -2.5, 3.5), np.clip(host, -2.5, 3.5), like=x)


def test_numpy_scalar_bound_promotes_like_numpy(xp, rng):
    host = rng.standard_normal(10).astype(np.float32)
    x = xp.asarray(host)
    out = gm.clip(x, np.float64(-0.5), 0.5)
    assert_close(out, np.clip(host, np.float64(-0.5), 0.5), like=x)
    assert out.dtype == np.float64


def test_bad_inputs_name_the_argument(xp):
    x = xp.ones(3)
    with pytest.raises(TypeError, match="`x` must be a NumPy or CuPy array; got list"):
        gm.clip([1.0, 2.0], 0, 1)
    with pytest.raises(TypeError, match="`x` must have a real dtype"):
        gm.clip(xp.ones(3, dtype=np.complex64), 0, 1)
    with pytest.raises(TypeError, match="`lo` must be a NumPy or CuPy array; got str"):
        gm.clip(x, "0", 1)
    with pytest.raises(TypeError, match="`hi` must be real"):
        gm.clip(x, 0, 1j)
    with pytest.raises(ValueError, match=r"`out` must have shape \(3,\); got \(4,\)"):
        gm.clip(x, 0, 1, out=xp.ones(4))


@given(
    hnp.arrays(
        dtype=st.sampled_from(FLOATS),
        shape=hnp.array_shapes(min_dims=0, max_dims=3, min_side=0, max_side=9),
        elements={"allow_nan": True, "allow_infinity": True},
    ),
    st.one_of(st.none(), st.floats(-10, 10, width=32)),
    st.one_of(st.none(), st.floats(-10, 10, width=32)),
)
def test_property_matches_numpy_on_host(host, lo, hi):
    expected = host.copy() if lo is None and hi is None else np.clip(host, lo, hi)
    assert_close(gm.clip(host, lo, hi), expected, like=host, rtol=0)


def test_cuda_path_uses_our_kernel(gpu, rng, monkeypatch):
    calls = []
    real = clip_module._clip_cuda
    monkeypatch.setattr(clip_module, "_clip_cuda", lambda *a, **k: calls.append(1) or real(*a, **k))
    host = rng.standard_normal(3 * 2**20 + 5).astype(np.float32)  # several grid-stride waves
    x = gpu.asarray(host)
    assert_close(gm.clip(x, -1, 1), np.clip(host, -1, 1), like=x)
    assert calls, "float32 with scalar bounds must run our RawKernel"


def test_cuda_path_matches_xp_path(gpu, rng):
    import array_api_compat

    host = rng.standard_normal(100_003)
    x = gpu.asarray(host)
    ours = clip_module._clip_cuda(x, -0.3, None)
    oracle = clip_module._clip_xp(x, -0.3, None, xp=array_api_compat.array_namespace(x))
    assert_close(ours, gm.to_numpy(oracle), like=x, rtol=0)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("offset", [1, 2, 3])
def test_cuda_misaligned_views(gpu, rng, dtype, offset):
    # x[offset:] is C-contiguous but not 16-byte aligned: the kernel's scalar loop runs.
    host = rng.standard_normal(4099).astype(dtype)
    x = gpu.asarray(host)[offset:]
    out = gpu.full(x.shape, np.nan, dtype=dtype)
    gm.clip(x, -0.5, 0.5, out=out)
    assert_close(out, np.clip(host[offset:], -0.5, 0.5), like=x, rtol=0)
    shifted_out = gpu.full(x.size + 1, np.nan, dtype=dtype)[1:]  # aligned x, misaligned out
    gm.clip(gpu.asarray(host[: x.size]), -0.5, 0.5, out=shifted_out)
    assert_close(shifted_out, np.clip(host[: x.size], -0.5, 0.5), like=x, rtol=0)
