"""clip_by_norm / clip_by_global_norm against the written-out float64 formula, on every backend."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from gpumath.testing import assert_close

cn = importlib.import_module("gpumath.ops.clip_norm")

FLOATS = [np.float32, np.float64]


def _reference(arrays, max_norm):
    """norm = sqrt(sum of squares over all arrays); scale = 1 if norm <= max_norm else
    max_norm / norm; every array times scale. All in float64."""
    wide = [np.asarray(a, dtype=np.float64) for a in arrays]
    norm = np.sqrt(sum(float(np.sum(a * a)) for a in wide))
    scale = 1.0 if norm <= max_norm else max_norm / norm
    return [a * scale for a in wide], norm


def _arrays(rng, shapes, dtype):
    return [(rng.standard_normal(s) * 2).astype(dtype) for s in shapes]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(), (1,), (7, 5), (0, 3), (2**16 + 3,)], ids=str)
@pytest.mark.parametrize("max_norm", [0.1, 1e9, 0.0])
def test_clip_by_norm_matches_formula(xp, rng, dtype, shape, max_norm):
    host = (rng.standard_normal(shape) * 2).astype(dtype)
    x = xp.asarray(host)
    (expected,), _ = _reference([host], max_norm)
    out = cn.clip_by_norm(x, max_norm)
    assert out is not x
    assert_close(out, expected.astype(dtype), like=x, dtype=dtype)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("max_norm", [3.0, np.inf])
def test_global_norm_over_mixed_sizes(xp, rng, dtype, max_norm):
    # Empty arrays, size one, 0-d, a chunk boundary (2**16) crossed, ragged vector tails.
    shapes = [(0,), (1,), (), (5, 7), (2**16 + 5,), (3, 0, 2), (1023,), (2, 2, 3)]
    hosts = _arrays(rng, shapes, dtype)
    clipped, norm = cn.clip_by_global_norm([xp.asarray(h) for h in hosts], max_norm)
    expected, expected_norm = _reference(hosts, max_norm)
    assert len(clipped) == len(hosts)
    assert_close(norm, np.asarray(expected_norm, dtype=dtype), like=xp.asarray(hosts[0]))
    for got, want in zip(clipped, expected, strict=True):
        assert_close(got, want.astype(dtype), like=xp.asarray(hosts[0]), dtype=dtype)
    if max_norm == np.inf:  # never clips: the values come back unchanged, bit for bit
        for got, host in zip(clipped, hosts, strict=True):
            assert_close(got, host, rtol=0, check_namespace=False)


def test_outputs_are_new_arrays(xp, rng):
    hosts = _arrays(rng, [(10,), (4, 4)], np.float64)
    arrays = [xp.asarray(h.copy()) for h in hosts]
    clipped, _ = cn.clip_by_global_norm(arrays, 1e9)
    arrays[0][...] = 0  # writing an input must not change an output
    assert_close(clipped[0], hosts[0], rtol=0, like=arrays[0])


def test_all_empty_arrays(xp):
    clipped, norm = cn.clip_by_global_norm([xp.zeros(0), xp.zeros((2, 0))], 1.0)
    assert [tuple(c.shape) for c in clipped] == [(0,), (2, 0)]
    assert_close(norm, np.asarray(0.0), like=clipped[0])


@pytest.mark.parametrize("dtype", FLOATS)
def test_nan_propagates_and_inf_norm_zeroes(xp, rng, dtype):
    hosts = _arrays(rng, [(6,), (3, 3)], dtype)
    hosts[1][1, 2] = np.nan
    clipped, norm = cn.clip_by_global_norm([xp.asarray(h) for h in hosts], 1.0)
    assert np.isnan(float(norm))
    assert all(np.isnan(cn_to_numpy(c)).all() for c in clipped)
    hosts[1][1, 2] = -np.inf
    clipped, norm = cn.clip_by_global_norm([xp.asarray(h) for h in hosts], 1.0)
    assert float(norm) == np.inf
    with np.errstate(invalid="ignore"):  # scale 0: finite entries -> 0, the inf one -> NaN
        for got, host in zip(clipped, hosts, strict=True):
            assert_close(got, host * dtype(0), check_namespace=False, dtype=dtype)


def cn_to_numpy(a):
    import gpumath

    return gpumath.to_numpy(a)


def test_non_contiguous_inputs(xp, rng):
    host = rng.standard_normal((40, 30))
    view = xp.asarray(host)[::3, ::-2]
    (clipped,), norm = cn.clip_by_global_norm([view], 2.0)
    (expected,), expected_norm = _reference([host[::3, ::-2]], 2.0)
    assert_close(clipped, expected, like=view)
    assert_close(norm, np.asarray(expected_norm), like=view)


def test_bad_inputs_are_named(xp):
    x32, x64 = xp.ones(3, dtype=np.float32), xp.ones(3)
    with pytest.raises(ValueError, match="`arrays` must contain at least one array"):
        cn.clip_by_global_norm([], 1.0)
    with pytest.raises(TypeError, match="`arrays` must be a list or tuple of arrays; got"):
        cn.clip_by_global_norm(x64, 1.0)
    with pytest.raises(TypeError, match=r"`arrays\[0\]` is float32 and `arrays\[1\]` is float64"):
        cn.clip_by_global_norm([x32, x64], 1.0)
    with pytest.raises(TypeError, match=r"`arrays\[1\]` must have dtype float32 or float64; got"):
        cn.clip_by_global_norm([x64, xp.ones(3, dtype=np.int64)], 1.0)
    with pytest.raises(TypeError, match=r"`arrays\[0\]` must be a NumPy or CuPy array; got list"):
        cn.clip_by_global_norm([[1.0, 2.0]], 1.0)
    with pytest.raises(ValueError, match="`max_norm` must be >= 0; got -1.0"):
        cn.clip_by_norm(x64, -1.0)
    with pytest.raises(ValueError, match="`max_norm` must be >= 0; got nan"):
        cn.clip_by_norm(x64, float("nan"))
    with pytest.raises(TypeError, match="`max_norm` must be a real scalar; got str"):
        cn.clip_by_norm(x64, "1")


@given(
    st.lists(
        hnp.arrays(
            np.float64,
            hnp.array_shapes(min_dims=0, max_dims=2, min_side=0, max_side=6),
            elements=st.floats(-1e3, 1e3),
        ),
        min_size=1,
        max_size=4,
    ),
    st.floats(0, 100),
)
def test_property_matches_formula_on_host(hosts, max_norm):
    clipped, norm = cn.clip_by_global_norm(hosts, max_norm)
    expected, expected_norm = _reference(hosts, max_norm)
    assert_close(norm, np.asarray(expected_norm))
    for got, want in zip(clipped, expected, strict=True):
        assert_close(got, want)


def test_chunk_table_with_arrays_anywhere_in_memory():
    # Pointers out of order, an empty first array: offsets are relative to the first
    # non-empty array and may be negative; output segments start 16-byte aligned.
    def fake(ptr, size):
        return SimpleNamespace(size=size, data=SimpleNamespace(ptr=ptr))

    arrays = [fake(0, 0), fake(8000, 5), fake(4000, 2 * cn._CHUNK + 1), fake(12004, 3)]
    table, offsets, total, base = cn._chunk_table(arrays, np.dtype(np.float32))
    assert base == 1
    assert offsets.tolist() == [0, 0, 8, 8 + 2 * cn._CHUNK + 4]
    assert total == 8 + 2 * cn._CHUNK + 4 + 4
    assert table.tolist() == [
        [0, 0, 5],
        [-1000, 8, cn._CHUNK],
        [-1000 + cn._CHUNK, 8 + cn._CHUNK, cn._CHUNK],
        [-1000 + 2 * cn._CHUNK, 8 + 2 * cn._CHUNK, 1],
        [1001, offsets[3], 3],
    ]


def test_cuda_two_launches_for_many_arrays(gpu, rng, monkeypatch):
    launched = []
    real = cn._kernels.launch
    monkeypatch.setattr(
        cn._kernels, "launch", lambda k, *a, **kw: launched.append(k.name) or real(k, *a, **kw)
    )
    hosts = _arrays(rng, [(int(n),) for n in rng.integers(0, 5000, 100)], np.float32)
    clipped, norm = cn.clip_by_global_norm([gpu.asarray(h) for h in hosts], 1.0)
    assert launched == ["gm_sumsq_f32", "gm_scale_f32"]
    expected, expected_norm = _reference(hosts, 1.0)
    assert_close(norm, np.asarray(expected_norm, np.float32), dtype=np.float32)
    for got, want in zip(clipped, expected, strict=True):
        assert_close(got, want.astype(np.float32), dtype=np.float32)


def test_cuda_deterministic_and_unaligned(gpu, rng):
    # Views one element into their allocations: the kernels' scalar paths.
    hosts = _arrays(rng, [(3 * 2**16 + 7,), (1001,)], np.float32)
    arrays = [gpu.asarray(np.concatenate([[0], h]).astype(np.float32))[1:] for h in hosts]
    first, norm1 = cn.clip_by_global_norm(arrays, 10.0)
    second, norm2 = cn.clip_by_global_norm(arrays, 10.0)
    assert float(norm1) == float(norm2)  # bitwise: no floating-point atomics
    expected, expected_norm = _reference(hosts, 10.0)
    assert_close(norm1, np.asarray(expected_norm, np.float32), dtype=np.float32)
    for a, b, want in zip(first, second, expected, strict=True):
        assert_close(a, want.astype(np.float32), dtype=np.float32)
        assert_close(b, gpu.asnumpy(a), rtol=0)


@pytest.mark.parametrize("scale", [1e-25, 1e-18, 1e20, 1e35])
def test_float32_has_the_range_of_float64_sums(xp, rng, scale):
    # Squares below ~1e-38 or above ~3e38 do not exist in float32: the norm must still be
    # right (the float64 accumulation of the docstring), not 0 or inf.
    host = (rng.standard_normal(2**20 + 9) * scale).astype(np.float32)
    max_norm = float(np.linalg.norm(host.astype(np.float64))) / 2
    (clipped,), norm = cn.clip_by_global_norm([xp.asarray(host)], max_norm)
    (expected,), expected_norm = _reference([host], max_norm)
    assert_close(norm, np.asarray(expected_norm, dtype=np.float32), like=clipped)
    assert_close(clipped, expected.astype(np.float32), like=clipped, dtype=np.float32)


@pytest.mark.parametrize("dtype", FLOATS)
def test_large_sum_is_accurate_and_layouts_agree(xp, rng, dtype):
    # Within a few roundings of the float32 result (one float32 sum of millions of squares
    # can lose ~1e-6); an F-ordered and a C-ordered copy of the same values agree.
    host = (rng.standard_normal((2048, 1031)) + 3).astype(dtype)
    wide = host.astype(np.float64)
    want = np.sqrt(np.sum(wide * wide))
    _, norm = cn.clip_by_global_norm([xp.asarray(host)], 1.0)
    _, norm_f = cn.clip_by_global_norm([xp.asarray(np.asfortranarray(host))], 1.0)
    tol = 3e-7 if dtype == np.float32 else 1e-13
    assert abs(float(norm) / want - 1) < tol
    assert abs(float(norm_f) / want - 1) < tol
