"""Randomized SVD, low-rank approximation, power iteration and Lanczos against NumPy/SciPy."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.sparse.linalg

import gpumath as gm
from gpumath.testing import rel_error

la = importlib.import_module("gpumath.linalg")

FLOATS = [np.float32, np.float64]


def decaying(rng, m, n, rank=30, noise=1e-3, dtype=np.float64):
    """Low rank plus noise: singular values 1, 0.9, 0.81, ... then a noise floor."""
    u, _ = np.linalg.qr(rng.standard_normal((m, rank)))
    v, _ = np.linalg.qr(rng.standard_normal((n, rank)))
    a = (u * 0.9 ** np.arange(rank)) @ v.T + noise * rng.standard_normal((m, n)) / np.sqrt(n)
    return a.astype(dtype)


def symmetric_with_gap(rng, n):
    """Symmetric matrix: a bulk in [-1, 1] and six well separated eigenvalues."""
    q, _ = np.linalg.qr(rng.standard_normal((n, n)))
    w = np.concatenate([rng.uniform(-1, 1, n - 6), [3.0, 4.5, 6.0, -2.5, -3.5, -5.0]])
    return (q * w) @ q.T


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(300, 120), (120, 300)])
def test_randomized_svd_top_singular_values(xp, rng, dtype, shape):
    host = decaying(rng, *shape, dtype=dtype)
    a = xp.asarray(host)
    u, s, vh = la.randomized_svd(a, 10, rng=rng)
    assert u.shape == (shape[0], 10) and s.shape == (10,) and vh.shape == (10, shape[1])
    assert np.dtype(s.dtype) == dtype and gm.device_of(s) == gm.device_of(a)
    ref = np.linalg.svd(host.astype(np.float64), compute_uv=False)[:10]
    # float64: the error is the sketch's, ~(s_21 / s_10)**18 = 7e-10 times a heavy-tailed
    # random factor. Over 12000 seeds at (120, 300): median 9e-11, 0.28% above 1e-8 (the old
    # bound, a flaky test), max 4.7e-8; one fewer power iteration would give ~7e-8 typical.
    assert rel_error(s, ref) < (1e-4 if dtype == np.float32 else 3e-7)
    # Orthonormal factors and the right subspace: U^T A V = diag(s).
    assert rel_error(xp.swapaxes(u, 0, 1) @ u, np.eye(10)) < 1e-5
    assert rel_error(xp.swapaxes(u, 0, 1) @ a @ xp.swapaxes(vh, 0, 1), np.diag(ref)) < 1e-4


def test_randomized_svd_seed_reproducible_and_validation(xp, rng):
    a = xp.asarray(decaying(rng, 50, 40))
    s1 = la.randomized_svd(a, 3, n_iter=0, rng=7).S
    s2 = la.randomized_svd(a, 3, n_iter=0, rng=7).S
    assert gm.to_numpy(s1).tolist() == gm.to_numpy(s2).tolist()
    with pytest.raises(
        ValueError, match=r"`k` must be an integer in \[1, min\(a.shape\)\] = \[1, 40\]; got 41"
    ):
        la.randomized_svd(a, 41)
    with pytest.raises(ValueError, match="`n_iter` must be an integer >= 0; got -1"):
        la.randomized_svd(a, 2, n_iter=-1)
    with pytest.raises(
        TypeError, match="`rng` must be None, an int seed or a numpy.random.Generator"
    ):
        la.randomized_svd(a, 2, rng="seed")
    with pytest.raises(ValueError, match=r"must be 2-D; got shape \(2, 3, 4\)"):
        la.randomized_svd(xp.ones((2, 3, 4)), 1)


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("method", ["svd", "randomized", "auto"])
def test_low_rank_is_near_optimal(xp, rng, dtype, method):
    host = decaying(rng, 200, 150, dtype=dtype)
    a = xp.asarray(host)
    approx = la.low_rank(a, 8, method=method, rng=rng)
    s = np.linalg.svd(host.astype(np.float64), compute_uv=False)
    optimal = np.sqrt(np.sum(s[8:] ** 2) / np.sum(s**2))  # Eckart-Young
    err = float(approx.rel_error)
    assert optimal <= err * (1 + 1e-4) and err <= optimal * 1.01
    dense = approx.to_dense()
    assert dense.shape == host.shape and np.dtype(dense.dtype) == dtype
    assert abs(rel_error(dense, host) - optimal) < 1e-3 * optimal + 1e-6
    with pytest.raises(ValueError, match="`method` must be one of"):
        la.low_rank(a, 2, method="exact")


@pytest.mark.parametrize("dtype", FLOATS)
def test_power_iteration_finds_dominant_eigenpair(xp, rng, dtype):
    host = symmetric_with_gap(rng, 60)
    a = xp.asarray(host.astype(dtype))
    res = la.power_iteration(a, tol=1e-5, rng=rng)
    w, v = np.linalg.eigh(host)
    assert res.converged and abs(float(res.eigenvalue) - 6.0) < 1e-4
    vec = gm.to_numpy(res.eigenvector).astype(np.float64)
    assert abs(abs(vec @ v[:, -1]) - 1) < 1e-6
    fn = la.power_iteration(lambda x: a @ x, v0=res.eigenvector, max_iter=5, check_every=1)
    assert fn.n_iter >= 1 and abs(float(fn.eigenvalue) - 6.0) < 1e-4


def test_power_iteration_validation(xp):
    with pytest.raises(ValueError, match=r"square 2-D matrix; got shape \(2, 3\)"):
        la.power_iteration(xp.ones((2, 3)))
    with pytest.raises(ValueError, match="`n`"):
        la.power_iteration(lambda v: v)
    with pytest.raises(ValueError, match="`tol` must be > 0; got 0"):
        la.power_iteration(xp.eye(2), tol=0)


@pytest.mark.parametrize("which", ["LM", "LA", "SA"])
def test_lanczos_matches_eigsh(xp, rng, which):
    host = symmetric_with_gap(rng, 150)
    a = xp.asarray(host)
    w, v = la.lanczos(lambda x: a @ x, 150, 3, which=which, rng=rng, device=gm.device_of(a))
    ref_w, ref_v = scipy.sparse.linalg.eigsh(host, k=3, which=which)
    assert rel_error(w, ref_w) < 1e-8
    overlap = np.abs(gm.to_numpy(v).T @ ref_v)
    assert rel_error(np.diag(overlap), np.ones(3)) < 1e-6


def test_lanczos_float32_and_matrix_operator(xp, rng):
    host = symmetric_with_gap(rng, 100)
    a = xp.asarray(host.astype(np.float32))
    w, v = la.lanczos(a, k=2, which="LA", rng=rng)
    assert np.dtype(w.dtype) == np.float32 and v.shape == (100, 2)
    assert rel_error(w, [4.5, 6.0]) < 1e-5
    # Ritz vectors stay orthonormal (full reorthogonalisation) and are eigenvectors.
    assert rel_error(xp.swapaxes(v, 0, 1) @ v, np.eye(2)) < 1e-5
    assert rel_error(a @ v, v * w) < 1e-4


def test_lanczos_small_operator_exact(xp, rng):
    """n_steps == n: the Krylov space is everything, the answer exact (breakdown handled)."""
    host = np.diag([1.0, 2.0, 3.0, 4.0, 5.0])
    w, _ = la.lanczos(xp.asarray(host), k=5, which="LA", rng=rng)
    assert rel_error(w, [1.0, 2.0, 3.0, 4.0, 5.0]) < 1e-12
    w, _ = la.lanczos(xp.asarray(np.eye(6)), k=2, rng=rng)  # invariant after one step
    assert np.all(np.isfinite(gm.to_numpy(w)))


def test_lanczos_validation(xp):
    with pytest.raises(ValueError, match=r"`k` must be an integer in \[1, n\] = \[1, 4\]; got 5"):
        la.lanczos(xp.eye(4), k=5)
    with pytest.raises(ValueError, match="`which` must be one of"):
        la.lanczos(xp.eye(4), k=1, which="BE")
    with pytest.raises(ValueError, match=r"`n_steps` must be in \[k, n\]"):
        la.lanczos(xp.eye(4), k=2, n_steps=1)
