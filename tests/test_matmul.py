"""gpumath.matmul against NumPy float64 matmul, on every backend and every algorithm."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import gpumath as gm
from gpumath.testing import assert_close

# The submodule, not the function that gpumath.ops re-exports under the same name.
matmul_module = importlib.import_module("gpumath.ops.matmul")
matmul = matmul_module.matmul

FLOATS = [np.float32, np.float64]
ALGORITHMS = list(matmul_module.ALGORITHMS)
# (M, K, N): ones, primes, the float32 tile (128) and float64 tile (64) plus and minus one,
# K below/above the K step (8) and not a multiple of the vector width (4).
SHAPES = [
    (1, 1, 1),
    (1, 7, 1),
    (2, 3, 4),
    (17, 9, 33),
    (63, 65, 64),
    (127, 128, 129),
    (128, 128, 128),
    (129, 127, 131),
    (1, 300, 257),
    (300, 5, 1),
    (257, 12, 130),
]


def _operands(xp, rng, a_shape, b_shape, dtype):
    a_host = rng.standard_normal(a_shape).astype(dtype)
    b_host = rng.standard_normal(b_shape).astype(dtype)
    return a_host, b_host, xp.asarray(a_host), xp.asarray(b_host)


def _reference(a_host, b_host):
    return np.matmul(a_host.astype(np.float64), b_host.astype(np.float64))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("mkn", SHAPES, ids=lambda s: "x".join(map(str, s)))
def test_matches_float64_reference(xp, rng, dtype, mkn):
    m, k, n = mkn
    a_host, b_host, a, b = _operands(xp, rng, (m, k), (k, n), dtype)
    assert_close(matmul(a, b), _reference(a_host, b_host), like=a, dtype=dtype)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_every_algorithm_matches(xp, rng, algorithm, dtype):
    a_host, b_host, a, b = _operands(xp, rng, (3, 70, 45), (3, 45, 61), dtype)
    out = matmul(a, b, algorithm=algorithm)
    assert_close(out, _reference(a_host, b_host), like=a, dtype=dtype)


@pytest.mark.parametrize(
    "a_shape, b_shape",
    [
        ((4, 6, 8), (8, 5)),  # b shared by the batch (stride 0)
        ((6, 8), (3, 8, 5)),  # a shared
        ((2, 1, 5, 7), (3, 7, 4)),  # a broadcasts over the middle batch axis
        ((2, 1, 9, 4), (1, 3, 4, 6)),  # partial broadcast on both sides
        ((1, 5, 3), (2, 3, 2)),
        ((5, 33, 17), (5, 17, 130)),
    ],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_batched_with_broadcasting(xp, rng, a_shape, b_shape, algorithm):
    a_host, b_host, a, b = _operands(xp, rng, a_shape, b_shape, np.float32)
    out = matmul(a, b, algorithm=algorithm)
    assert_close(out, _reference(a_host, b_host), like=a, dtype=np.float32)


@pytest.mark.parametrize(
    "a_shape, b_shape", [((7,), (7, 5)), ((6, 7), (7,)), ((7,), (7,)), ((3, 6, 7), (7,))]
)
@pytest.mark.parametrize("dtype", FLOATS)
def test_one_dimensional_operands(xp, rng, a_shape, b_shape, dtype):
    a_host, b_host, a, b = _operands(xp, rng, a_shape, b_shape, dtype)
    out = matmul(a, b)
    expected = np.asarray(_reference(a_host, b_host))
    assert tuple(out.shape) == expected.shape
    assert_close(out, expected, like=a, dtype=dtype, rtol=np.inf)  # namespace, dtype, shape
    # A sum of 7 products can cancel to near 0 (a 1-D @ 1-D result is one such sum), so the
    # error is bounded per entry on the scale of |a| @ |b|: k eps (Higham's gamma_k).
    scale = np.matmul(np.abs(a_host.astype(np.float64)), np.abs(b_host.astype(np.float64)))
    k = a_shape[-1]
    assert np.all(np.abs(gm.to_numpy(out) - expected) <= k * np.finfo(dtype).eps * scale)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_transposed_and_strided_inputs(xp, rng, algorithm, dtype):
    a_big = rng.standard_normal((90, 70)).astype(dtype)
    b_big = rng.standard_normal((130, 60)).astype(dtype)
    a_view = xp.asarray(a_big)[::2, 1:].T  # (69, 45), neither C- nor F-contiguous
    b_view = xp.asarray(b_big)[:45, ::-1]  # (45, 60), negative strides
    out = matmul(a_view, b_view, algorithm=algorithm)
    expected = _reference(a_big[::2, 1:].T, b_big[:45, ::-1])
    assert_close(out, expected, like=a_view, dtype=dtype)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", FLOATS)
def test_out_is_written_even_when_poisoned(xp, rng, algorithm, dtype):
    a_host, b_host, a, b = _operands(xp, rng, (2, 37, 19), (2, 19, 41), dtype)
    out = xp.full((2, 37, 41), np.nan, dtype=dtype)
    assert matmul(a, b, out=out, algorithm=algorithm) is out
    assert_close(out, _reference(a_host, b_host), like=a, dtype=dtype)


def test_out_non_contiguous_and_aliasing_an_input(xp, rng):
    a_host, b_host, a, b = _operands(xp, rng, (33, 33), (33, 33), np.float64)
    strided = xp.full((33, 33), np.nan).T  # F-ordered: the GPU path writes through a copy
    assert matmul(a, b, out=strided) is strided
    assert_close(strided, a_host @ b_host, like=a)
    expected = a_host @ b_host  # before the call: on NumPy, `a` is `a_host`
    assert matmul(a, b, out=a) is a  # out overlaps an operand: computed before written
    assert_close(a, expected, like=b)


@pytest.mark.parametrize(
    "a_shape, b_shape, expected",
    [
        ((0, 3), (3, 4), (0, 4)),
        ((3, 4), (4, 0), (3, 0)),
        ((3, 0), (0, 4), (3, 4)),  # K == 0: zeros
        ((2, 0, 3), (3, 4), (2, 0, 4)),
        ((0, 3, 4), (4, 5), (0, 3, 5)),
        ((0,), (0,), ()),
    ],
)
@pytest.mark.parametrize("algorithm", ALGORITHMS)
def test_empty_extents(xp, rng, a_shape, b_shape, expected, algorithm):
    a_host, b_host, a, b = _operands(xp, rng, a_shape, b_shape, np.float32)
    out = matmul(a, b, algorithm=algorithm)
    assert tuple(out.shape) == expected
    assert_close(out, np.zeros(expected, np.float32), check_namespace=False)


def test_empty_inner_dimension_overwrites_poisoned_out(xp):
    a, b = xp.ones((3, 0), dtype=np.float64), xp.ones((0, 5), dtype=np.float64)
    out = xp.full((3, 5), np.nan)
    assert matmul(a, b, out=out) is out
    assert_close(out, np.zeros((3, 5)), like=a)


def test_integer_and_mixed_dtypes_follow_numpy(xp, rng):
    ints_a = rng.integers(-50, 50, (9, 13))
    ints_b = rng.integers(-50, 50, (13, 6))
    out = matmul(xp.asarray(ints_a), xp.asarray(ints_b))
    assert_close(out, ints_a @ ints_b, like=xp.asarray(ints_a), rtol=0)
    a_host, b_host, a, _ = _operands(xp, rng, (9, 13), (13, 6), np.float32)
    b64 = b_host.astype(np.float64)
    assert_close(matmul(a, xp.asarray(b64)), _reference(a_host, b64), like=a)
    assert_close(matmul(xp.asarray(ints_a), a.T), ints_a @ a_host.T.astype(np.float64), like=a)


def test_large_float32_product_is_true_float32(xp, rng):
    a_host, b_host, a, b = _operands(xp, rng, (515, 1031), (1031, 389), np.float32)
    assert_close(matmul(a, b), _reference(a_host, b_host), like=a, dtype=np.float32, rtol=1e-5)


def test_bad_inputs_are_named(xp):
    a, b = xp.ones((3, 4)), xp.ones((5, 6))
    with pytest.raises(ValueError, match=r"`a` has shape \(3, 4\).*`b` has shape \(5, 6\)"):
        matmul(a, b)
    with pytest.raises(ValueError, match=r"\(2, 3, 4\).*\(3, 4, 6\)"):
        matmul(xp.ones((2, 3, 4)), xp.ones((3, 4, 6)))
    with pytest.raises(TypeError, match="`b` must have a real dtype.*complex64"):
        matmul(a, xp.ones((4, 2), dtype=np.complex64))
    with pytest.raises(ValueError, match="`algorithm` must be one of .*got 'cublas'"):
        matmul(a, xp.ones((4, 2)), algorithm="cublas")
    with pytest.raises(ValueError, match="at least 1 dimension"):
        matmul(xp.asarray(2.0), a)
    with pytest.raises(TypeError, match="`a` must be a NumPy or CuPy array; got list"):
        matmul([[1.0]], a)
    with pytest.raises(ValueError, match=r"`out` must have shape \(3, 2\); got \(2, 3\)"):
        matmul(a, xp.ones((4, 2)), out=xp.ones((2, 3)))


def test_exported_at_top_level():
    assert gm.matmul is matmul


def test_mixed_numpy_and_cupy_raise(gpu):
    with pytest.raises(TypeError, match="mix array libraries"):
        matmul(np.ones((2, 2)), gpu.ones((2, 2)))


def test_tiled_rejects_integers_on_gpu(gpu):
    with pytest.raises(ValueError, match='"tiled" supports float32 and float64; got int64'):
        matmul(
            gpu.ones((2, 2), dtype=np.int64), gpu.ones((2, 2), dtype=np.int64), algorithm="tiled"
        )


# "auto" follows the measured crossovers; today cuBLAS wins every measured shape.
@pytest.mark.parametrize("algorithm, ours", [("auto", False), ("tiled", True), ("vendor", False)])
def test_cuda_algorithms_pick_the_right_path(gpu, rng, monkeypatch, algorithm, ours):
    calls = []
    real = matmul_module._matmul_tiled
    monkeypatch.setattr(
        matmul_module, "_matmul_tiled", lambda *a, **k: calls.append(1) or real(*a, **k)
    )
    a_host, b_host, a, b = _operands(gpu, rng, (40, 50), (50, 30), np.float32)
    assert_close(
        matmul(a, b, algorithm=algorithm), _reference(a_host, b_host), like=a, dtype=np.float32
    )
    assert bool(calls) == ours


@pytest.mark.parametrize("dtype", FLOATS)
def test_cuda_unaligned_operands_take_the_scalar_path(gpu, rng, dtype):
    # Views that start one element into an allocation are not 16-byte aligned.
    a_host = rng.standard_normal(1 + 130 * 68).astype(dtype)
    b_host = rng.standard_normal(1 + 68 * 132).astype(dtype)
    a = gpu.asarray(a_host)[1:].reshape(130, 68)
    b = gpu.asarray(b_host)[1:].reshape(68, 132)
    expected = _reference(a_host[1:].reshape(130, 68), b_host[1:].reshape(68, 132))
    assert_close(matmul(a, b, algorithm="tiled"), expected, like=a, dtype=dtype)


def test_cuda_batch_beyond_one_grid(gpu, rng):
    # 65537 matrices: more than gridDim.z allows, so the batch is launched in two chunks.
    a_host, b_host, a, b = _operands(gpu, rng, (65537, 3, 5), (65537, 5, 2), np.float32)
    out = matmul(a, b, algorithm="tiled")
    assert_close(out, _reference(a_host, b_host), like=a, dtype=np.float32)


def test_cuda_path_matches_vendor(gpu, rng):
    a_host, b_host, a, b = _operands(gpu, rng, (4, 300, 260), (4, 260, 301), np.float64)
    ours = matmul(a, b, algorithm="tiled")
    assert_close(ours, gm.to_numpy(gpu.matmul(a, b)), like=a, rtol=1e-13)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("a_shape, n", [((130, 67), 129), ((67,), 5), ((1, 9), 70)], ids=str)
def test_cuda_transposed_b_runs_without_a_copy(gpu, rng, monkeypatch, dtype, a_shape, n):
    launched = []
    real = matmul_module._kernels.launch
    monkeypatch.setattr(
        matmul_module._kernels,
        "launch",
        lambda kernel, *a, **k: launched.append(kernel.name) or real(kernel, *a, **k),
    )
    k = a_shape[-1]
    a_host = rng.standard_normal(a_shape).astype(dtype)
    w_host = rng.standard_normal((n, k)).astype(dtype)  # b = w.T is F-ordered
    out = matmul(gpu.asarray(a_host), gpu.asarray(w_host).T, algorithm="tiled")
    suffix = "f32" if dtype == np.float32 else "f64"
    assert launched == [f"gm_linear_{suffix}"]
    assert_close(out, _reference(a_host, w_host.T), dtype=dtype)
