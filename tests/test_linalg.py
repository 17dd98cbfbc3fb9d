"""gpumath.linalg dense routines against NumPy float64, on every backend."""

from __future__ import annotations

import importlib

import numpy as np
import pytest

import gpumath as gm
from gpumath.testing import assert_close, rel_error

la = importlib.import_module("gpumath.linalg")

FLOATS = [np.float32, np.float64]
RTOL = {np.float32: 2e-4, np.float64: 1e-10}


def well_conditioned(rng, shape, dtype=np.float64):
    """Random matrices (or stacks) with a condition number of a few units."""
    n = shape[-1]
    a = rng.standard_normal(shape) / np.sqrt(n) + 2.0 * np.eye(n)
    return a.astype(dtype)


def with_condition(rng, n, cond):
    """n x n float64 matrix with singular values spread from 1 down to 1 / cond."""
    u, _ = np.linalg.qr(rng.standard_normal((n, n)))
    v, _ = np.linalg.qr(rng.standard_normal((n, n)))
    return (u * np.logspace(0, -np.log10(cond), n)) @ v.T


def rank_deficient(rng, m, n, rank):
    return rng.standard_normal((m, rank)) @ rng.standard_normal((rank, n))


# ------------------------------------------------------------------ inv, solve, det


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (64, 64), (3, 4, 9, 9)])
def test_inv_matches_numpy(xp, rng, dtype, shape):
    host = well_conditioned(rng, shape, dtype)
    a = xp.asarray(host)
    out = la.inv(a)
    assert_close(
        out, np.linalg.inv(host.astype(np.float64)).astype(dtype), rtol=RTOL[dtype], like=a
    )


@pytest.mark.parametrize("dtype", FLOATS)
def test_solve_vector_matrix_and_broadcast(xp, rng, dtype):
    host_a = well_conditioned(rng, (2, 1, 6, 6), dtype)
    host_b = rng.standard_normal((3, 6, 2)).astype(dtype)
    a, b = xp.asarray(host_a), xp.asarray(host_b)
    expect = np.linalg.solve(host_a.astype(np.float64), host_b.astype(np.float64))
    assert_close(la.solve(a, b), expect.astype(dtype), rtol=RTOL[dtype], like=a)
    vec = rng.standard_normal(6).astype(dtype)
    expect = np.linalg.solve(host_a.astype(np.float64), vec.astype(np.float64))
    assert_close(la.solve(a, xp.asarray(vec)), expect.astype(dtype), rtol=RTOL[dtype])
    a2 = xp.asarray(host_a[0, 0])
    expect = np.linalg.solve(host_a[0, 0].astype(np.float64), vec.astype(np.float64))
    assert_close(la.solve(a2, xp.asarray(vec)), expect.astype(dtype), rtol=RTOL[dtype])


def test_solve_ill_conditioned(xp, rng):
    """cond 1e6 in float64: the forward error stays near cond * eps of NumPy's answer."""
    host = with_condition(rng, 40, 1e6)
    b = rng.standard_normal(40)
    x = la.solve(xp.asarray(host), xp.asarray(b))
    assert rel_error(x, np.linalg.solve(host, b)) < 1e-7
    assert rel_error(xp.asarray(host) @ x, b) < 1e-10  # backward stable: small residual


@pytest.mark.parametrize("dtype", FLOATS)
def test_det_and_slogdet(xp, rng, dtype):
    host = well_conditioned(rng, (4, 7, 7), dtype)
    a = xp.asarray(host)
    ref = host.astype(np.float64)
    assert_close(la.det(a), np.linalg.det(ref).astype(dtype), rtol=RTOL[dtype], like=a)
    sign, logabsdet = la.slogdet(a)
    ref_sign, ref_log = np.linalg.slogdet(ref)
    assert_close(sign, ref_sign.astype(dtype), like=a)
    assert_close(logabsdet, ref_log.astype(dtype), rtol=RTOL[dtype], like=a)


def test_singular_det_is_zero_not_an_error(xp):
    a = xp.asarray(np.array([[1.0, 2.0], [2.0, 4.0]]))
    assert float(la.det(a)) == 0.0
    sign, logabsdet = la.slogdet(a)
    assert float(sign) == 0.0 and float(logabsdet) == -np.inf


SINGULAR = [
    np.array([[1.0, 2.0], [2.0, 4.0]]),
    np.zeros((3, 3)),
    np.array([[1.0, 0.0, 2.0], [3.0, 0.0, 1.0], [4.0, 0.0, 5.0]]),  # a zero column
]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("index", range(len(SINGULAR)))
def test_singular_raises_linalg_error(xp, dtype, index):
    a = xp.asarray(SINGULAR[index].astype(dtype))
    with pytest.raises(la.LinAlgError, match="singular"):
        la.inv(a)
    with pytest.raises(la.LinAlgError, match="singular"):
        la.solve(a, xp.ones(a.shape[0], dtype=dtype))


def test_singular_in_a_stack_raises(xp, rng):
    host = well_conditioned(rng, (5, 3, 3))
    host[2] = SINGULAR[2]
    with pytest.raises(la.LinAlgError, match=r"singular.*stack"):
        la.inv(xp.asarray(host))


def test_linalg_error_is_numpys(xp):
    with pytest.raises(np.linalg.LinAlgError):
        la.inv(xp.zeros((2, 2)))


@pytest.mark.parametrize(
    "fn", [la.inv, la.det, la.slogdet, la.cholesky, la.eigh, la.eigvalsh, la.eig]
)
def test_non_square_raises(xp, fn):
    with pytest.raises(la.LinAlgError, match=r"must be square.*\(2, 3\)"):
        fn(xp.ones((2, 3)))
    with pytest.raises(la.LinAlgError, match="at least 2 dimensions"):
        fn(xp.ones(3))


def test_bad_arguments(xp):
    with pytest.raises(TypeError, match=r"`a` must be a NumPy or CuPy array; got list"):
        la.inv([[1.0]])
    with pytest.raises(TypeError, match="complex64"):
        la.svd(xp.ones((2, 2), dtype=np.complex64))
    with pytest.raises(TypeError, match="float16"):
        la.inv(xp.eye(2, dtype=np.float16))
    with pytest.raises(ValueError, match=r"`b` must have shape \(M,\).*\(3, 3\).*\(4,\)"):
        la.solve(xp.eye(3), xp.ones(4))
    with pytest.raises(ValueError, match="`UPLO` must be 'L' or 'U'; got 'X'"):
        la.eigh(xp.eye(2), UPLO="X")
    with pytest.raises(ValueError, match="`mode` must be one of"):
        la.qr(xp.eye(2), mode="full")


def test_mixed_devices_rejected(gpu):
    with pytest.raises(TypeError, match="mix array libraries"):
        la.solve(gpu.eye(2), np.ones(2))


# ------------------------------------------------------------------ cholesky, qr, svd, eig


@pytest.mark.parametrize("dtype", FLOATS)
def test_cholesky_reconstructs(xp, rng, dtype):
    g = rng.standard_normal((3, 12, 12))
    host = (g @ np.swapaxes(g, -1, -2) + 12 * np.eye(12)).astype(dtype)
    low = la.cholesky(xp.asarray(host))
    assert_close(low, np.linalg.cholesky(host.astype(np.float64)).astype(dtype), rtol=RTOL[dtype])
    assert_close(low @ xp.swapaxes(low, -1, -2), host, rtol=RTOL[dtype])


def test_cholesky_not_positive_definite(xp):
    with pytest.raises(la.LinAlgError, match="not positive definite"):
        la.cholesky(xp.asarray(np.array([[1.0, 2.0], [2.0, 1.0]])))


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(9, 5), (5, 9), (2, 7, 7)])
def test_qr_reconstructs(xp, rng, dtype, shape):
    host = rng.standard_normal(shape).astype(dtype)
    a = xp.asarray(host)
    q, r = la.qr(a)
    k = min(shape[-2:])
    assert q.shape == shape[:-1] + (k,) and r.shape == shape[:-2] + (k, shape[-1])
    assert_close(q @ r, host, rtol=RTOL[dtype], like=a)
    eye = np.broadcast_to(np.eye(k, dtype=dtype), shape[:-2] + (k, k))
    assert_close(xp.swapaxes(q, -1, -2) @ q, eye, rtol=RTOL[dtype])
    q_full, _ = la.qr(a, mode="complete")
    assert q_full.shape[-1] == shape[-2]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(12, 7), (7, 12), (3, 6, 6)])
def test_svd_matches_numpy_and_reconstructs(xp, rng, dtype, shape):
    host = rng.standard_normal(shape).astype(dtype)
    a = xp.asarray(host)
    u, s, vh = la.svd(a, full_matrices=False)
    ref_s = np.linalg.svd(host.astype(np.float64), compute_uv=False)
    assert_close(s, ref_s.astype(dtype), rtol=RTOL[dtype], like=a)
    assert_close((u * s[..., None, :]) @ vh, host, rtol=RTOL[dtype])
    assert_close(la.svd(a, compute_uv=False), ref_s.astype(dtype), rtol=RTOL[dtype])
    u_full, _, vh_full = la.svd(a)
    assert u_full.shape[-1] == shape[-2] and vh_full.shape[-2] == shape[-1]


def test_svd_rank_deficient_and_ill_conditioned(xp, rng):
    for host in (rank_deficient(rng, 20, 15, 4), with_condition(rng, 20, 1e6)):
        s = la.svd(xp.asarray(host), compute_uv=False)
        ref = np.linalg.svd(host, compute_uv=False)
        assert rel_error(s, ref) < 1e-12
        u, s, vh = la.svd(xp.asarray(host), full_matrices=False)
        assert rel_error((u * s) @ vh, host) < 1e-12


@pytest.mark.parametrize("dtype", FLOATS)
def test_eigh_and_eigvalsh(xp, rng, dtype):
    g = rng.standard_normal((2, 10, 10))
    host = (g + np.swapaxes(g, -1, -2)).astype(dtype)
    a = xp.asarray(host)
    w, v = la.eigh(a)
    ref = np.linalg.eigvalsh(host.astype(np.float64))
    assert_close(w, ref.astype(dtype), rtol=RTOL[dtype], like=a)
    assert_close(la.eigvalsh(a), ref.astype(dtype), rtol=RTOL[dtype])
    assert_close((v * w[..., None, :]) @ xp.swapaxes(v, -1, -2), host, rtol=RTOL[dtype])
    w_upper = la.eigvalsh(xp.asarray(np.triu(host)), UPLO="U")  # reads only the upper half
    assert_close(w_upper, ref.astype(dtype), rtol=RTOL[dtype])


def complex_rel_error(actual, desired):
    a, d = np.asarray(gm.to_numpy(actual)), np.asarray(desired)
    return float(np.linalg.norm(a - d) / np.linalg.norm(d))


@pytest.mark.parametrize("dtype", FLOATS)
def test_eig_reconstructs(xp, rng, dtype):
    host = rng.standard_normal((8, 8)).astype(dtype)
    a = xp.asarray(host)
    try:
        w, v = la.eig(a)
    except NotImplementedError as exc:  # a GPU whose CuPy/cuSOLVER has no Xgeev
        assert xp is not np and "eigh" in str(exc) and "to_device" in str(exc)
        return
    ref = np.linalg.eigvals(host.astype(np.float64))
    got = np.sort_complex(gm.to_numpy(w))
    assert complex_rel_error(got, np.sort_complex(ref)) < RTOL[dtype]
    recon = v @ (w[:, None] * xp.linalg.inv(v))
    assert complex_rel_error(recon, host.astype(np.complex128)) < 10 * RTOL[dtype]


def test_eig_real_when_eigenvalues_are_real(xp, rng):
    host = np.triu(rng.standard_normal((6, 6))) + np.diag(np.arange(6.0))  # real spectrum
    try:
        w, v = la.eig(xp.asarray(host))
    except NotImplementedError:
        assert xp is not np
        return
    assert np.dtype(w.dtype) == np.float64 and np.dtype(v.dtype) == np.float64
    assert complex_rel_error(np.sort(gm.to_numpy(w)), np.sort(np.diag(host))) < 1e-12
    rotation = xp.asarray(np.array([[0.0, -1.0], [1.0, 0.0]]))
    assert np.dtype(la.eig(rotation).eigenvalues.dtype) == np.complex128


# ------------------------------------------------------------------ lstsq, pinv, norms, rank


def test_lstsq_matches_numpy(xp, rng):
    for host in (rng.standard_normal((30, 6)), rank_deficient(rng, 30, 6, 3)):
        b = rng.standard_normal((30, 2))
        x, residuals, rank, s = la.lstsq(xp.asarray(host), xp.asarray(b))
        rx, rres, rrank, rs = np.linalg.lstsq(host, b)
        assert rel_error(x, rx) < 1e-10
        assert int(rank) == rrank
        assert rel_error(s, rs) < 1e-12
        if rrank == 6:
            assert rel_error(residuals, rres) < 1e-10


@pytest.mark.parametrize("dtype", FLOATS)
def test_pinv_matches_numpy(xp, rng, dtype):
    for host in (rng.standard_normal((2, 9, 5)), rank_deficient(rng, 9, 7, 3)):
        host = host.astype(dtype)
        ref = np.linalg.pinv(host.astype(np.float64), rcond=1e-5)
        assert_close(la.pinv(xp.asarray(host), rcond=1e-5), ref.astype(dtype), rtol=5 * RTOL[dtype])


@pytest.mark.parametrize(
    "ord_, axis",
    [
        (None, None),
        ("fro", None),
        (1, None),
        (np.inf, None),
        (2, None),
        ("nuc", None),
        (3, 1),
        (None, 0),
    ],
)
def test_norm_matches_numpy(xp, rng, ord_, axis):
    host = rng.standard_normal((6, 4))
    assert_close(
        xp.asarray(la.norm(xp.asarray(host), ord=ord_, axis=axis)),
        np.asarray(np.linalg.norm(host, ord=ord_, axis=axis)),
        rtol=1e-12,
    )


def test_cond_matches_numpy(xp, rng):
    host = with_condition(rng, 12, 1e6)
    for p in (None, 2, -2, "fro", 1, np.inf):
        assert rel_error(la.cond(xp.asarray(host), p), np.linalg.cond(host, p)) < 1e-6
    assert float(la.cond(xp.asarray(SINGULAR[1]), 1)) == np.inf


def test_matrix_rank(xp, rng):
    host = np.stack([rank_deficient(rng, 10, 8, r) for r in (1, 4, 8)])
    assert gm.to_numpy(la.matrix_rank(xp.asarray(host))).tolist() == [1, 4, 8]
    ill = with_condition(rng, 10, 1e6)
    assert int(la.matrix_rank(xp.asarray(ill))) == 10
    assert int(la.matrix_rank(xp.asarray(ill), rtol=1e-4)) == int(
        np.linalg.matrix_rank(ill, rtol=1e-4)
    )
    assert int(la.matrix_rank(xp.asarray(ill), tol=1e-3)) == int(
        np.linalg.matrix_rank(ill, tol=1e-3)
    )
    assert int(la.matrix_rank(xp.asarray(np.zeros(3)))) == 0
    with pytest.raises(ValueError, match="`tol` and `rtol` cannot both be set"):
        la.matrix_rank(xp.asarray(ill), tol=1.0, rtol=1.0)


def test_integer_input_becomes_float64(xp):
    a = xp.asarray(np.array([[2, 0], [0, 4]]))
    out = la.inv(a)
    assert np.dtype(out.dtype) == np.float64
    assert_close(out, np.array([[0.5, 0.0], [0.0, 0.25]]))


def test_empty_matrices(xp):
    assert la.inv(xp.zeros((0, 0))).shape == (0, 0)
    assert float(la.det(xp.zeros((0, 0)))) == 1.0
