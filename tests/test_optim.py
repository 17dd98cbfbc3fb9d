"""gpumath.optim: update rules against written-out PyTorch/optax formulas step by step,
schedules, mini-batches, and minimize() against SciPy on Rosenbrock and quadratics."""

from __future__ import annotations

import math

import numpy as np
import pytest
import scipy.optimize as so
from threadpoolctl import threadpool_limits

from gpumath import autodiff as ad
from gpumath import optim
from gpumath.testing import assert_close

STEPS = 6


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Small problems: BLAS threads only fight over CI's two cores."""
    with threadpool_limits(1):
        yield


def _run(opt, params, grads):
    """Apply ``opt`` for len(grads) steps; return the parameter trajectory."""
    state = opt.init(params)
    out = []
    for g in grads:
        updates, state = opt.update(g, state, params)
        params = optim.apply_updates(params, updates)
        out.append(params)
    return out


def _grads(rng, xp, shape=(3, 4)):
    return [xp.asarray(rng.standard_normal(shape)) for _ in range(STEPS)]


def _reference(rule, p0, grads):
    """Trajectory of a written-out rule ``rule(p, g, state, t) -> (p, state)``."""
    p, state, out = p0.copy(), {}, []
    for t, g in enumerate(grads, start=1):
        p, state = rule(p, g, state, t)
        out.append(p.copy())
    return out


def _compare(xp, rng, opt, rule):
    p0 = rng.standard_normal((3, 4))
    grads = _grads(rng, xp)
    ours = _run(opt, xp.asarray(p0), grads)
    ref = _reference(rule, p0, [np.asarray(g.get() if hasattr(g, "get") else g) for g in grads])
    for a, b in zip(ours, ref, strict=True):
        assert_close(a, b, like=xp.asarray(p0))


def test_sgd_matches_pytorch(xp, rng):
    lr = 0.1

    def rule(p, g, s, t):
        return p - lr * g, s

    _compare(xp, rng, optim.sgd(lr), rule)


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_pytorch(xp, rng, nesterov):
    lr, mom = 0.05, 0.9

    def rule(p, g, s, t):
        buf = g.copy() if t == 1 else mom * s["buf"] + g
        step = g + mom * buf if nesterov else buf
        return p - lr * step, {"buf": buf}

    _compare(xp, rng, optim.sgd(lr, momentum=mom, nesterov=nesterov), rule)


def test_adam_matches_the_paper(xp, rng):
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8

    def rule(p, g, s, t):
        m = b1 * s.get("m", 0) + (1 - b1) * g
        v = b2 * s.get("v", 0) + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        return p - lr * mhat / (np.sqrt(vhat) + eps), {"m": m, "v": v}

    _compare(xp, rng, optim.adam(lr, b1, b2, eps), rule)


def test_adamw_matches_pytorch(xp, rng):
    lr, b1, b2, eps, wd = 1e-2, 0.8, 0.99, 1e-6, 0.1

    def rule(p, g, s, t):
        p = p * (1 - lr * wd)  # torch.optim.AdamW: decoupled decay first
        m = b1 * s.get("m", 0) + (1 - b1) * g
        v = b2 * s.get("v", 0) + (1 - b2) * g * g
        mhat, vhat = m / (1 - b1**t), v / (1 - b2**t)
        return p - lr * mhat / (np.sqrt(vhat) + eps), {"m": m, "v": v}

    _compare(xp, rng, optim.adamw(lr, b1, b2, eps, weight_decay=wd), rule)


def test_adagrad_matches_pytorch(xp, rng):
    lr, eps = 0.1, 1e-10

    def rule(p, g, s, t):
        acc = s.get("acc", 0.0) + g * g
        return p - lr * g / (np.sqrt(acc) + eps), {"acc": acc}

    _compare(xp, rng, optim.adagrad(lr), rule)


@pytest.mark.parametrize("momentum", [0.0, 0.5])
def test_rmsprop_matches_pytorch(xp, rng, momentum):
    lr, alpha, eps = 0.01, 0.99, 1e-8

    def rule(p, g, s, t):
        v = alpha * s.get("v", 0.0) + (1 - alpha) * g * g
        u = g / (np.sqrt(v) + eps)
        if momentum:
            u = momentum * s.get("buf", 0.0) + u
        return p - lr * u, {"v": v, "buf": u}

    _compare(xp, rng, optim.rmsprop(lr, alpha, eps, momentum), rule)


def test_chain_clip_and_decay_with_a_schedule(xp, rng):
    sched = optim.exponential_decay(0.1, 2, 0.5)

    def rule(p, g, s, t):
        u = np.clip(g, -0.5, 0.5) + 0.01 * p
        return p - sched(t - 1) * u, s

    opt = optim.chain(optim.clip(0.5), optim.add_decayed_weights(0.01), optim.sgd(sched))
    _compare(xp, rng, opt, rule)


def test_optimizers_work_on_trees_and_keep_float32(rng):
    params = {"w": rng.standard_normal((2, 3)).astype(np.float32), "b": [np.zeros(2, np.float32)]}
    for opt in (
        optim.sgd(0.1, 0.9),
        optim.adam(1e-3),
        optim.adamw(1e-3),
        optim.rmsprop(1e-3),
        optim.adagrad(0.1),
    ):
        grads = {"w": np.ones((2, 3), np.float32), "b": [np.ones(2, np.float32)]}
        updates, _ = opt.update(grads, opt.init(params), params)
        new = optim.apply_updates(params, updates)
        assert new["w"].dtype == np.float32 and new["b"][0].dtype == np.float32
        assert np.all(new["w"] < params["w"])


def test_schedules_match_optax_formulas():
    assert optim.constant(0.3)(17) == 0.3
    e = optim.exponential_decay(2.0, 10, 0.1)
    assert math.isclose(e(5), 2.0 * 0.1**0.5)
    assert optim.exponential_decay(2.0, 10, 0.1, staircase=True)(15) == pytest.approx(0.2)
    c = optim.cosine_decay(1.0, 100, alpha=0.1)
    assert c(0) == 1.0 and math.isclose(c(100), 0.1) and math.isclose(c(500), 0.1)
    assert math.isclose(c(25), 0.9 * 0.5 * (1 + math.cos(math.pi / 4)) + 0.1)
    w = optim.warmup_cosine(0.0, 1.0, 10, 110, end_value=0.1)
    assert w(0) == 0.0 and math.isclose(w(5), 0.5) and w(10) == 1.0
    assert math.isclose(w(60), 0.1 + 0.9 * 0.5) and math.isclose(w(200), 0.1)
    with pytest.raises(ValueError, match="`decay_steps` must be > `warmup_steps`; got 5 and 10"):
        optim.warmup_cosine(0.0, 1.0, 10, 5)
    with pytest.raises(ValueError, match="`transition_steps` must be a positive int; got 0"):
        optim.exponential_decay(1.0, 0, 0.5)


def test_bad_hyperparameters_name_the_argument():
    with pytest.raises(ValueError, match="`learning_rate` must be >= 0; got -0.1"):
        optim.sgd(-0.1)
    with pytest.raises(ValueError, match=r"`b1` must be in \[0, 1\); got 1.0"):
        optim.adam(1e-3, b1=1.0)
    with pytest.raises(ValueError, match="`nesterov` needs `momentum` > 0"):
        optim.sgd(0.1, nesterov=True)
    with pytest.raises(ValueError, match="`max_delta` must be > 0; got 0"):
        optim.clip(0)
    with pytest.raises(ValueError, match="`params` must be given to add_decayed_weights"):
        t = optim.add_decayed_weights(0.1)
        t.update([np.ones(1)], t.init([np.ones(1)]))


def test_batches_cover_every_row_once(xp, rng):
    X = xp.asarray(np.arange(23 * 2, dtype=np.float64).reshape(23, 2))
    y = xp.asarray(np.arange(23))
    seen = []
    for xb, yb in optim.batches(X, y, 5, rng):
        assert xb.shape[0] == yb.shape[0] <= 5
        assert bool((xb[:, 0] == yb * 2.0).all())
        seen.extend(np.asarray(yb.get() if hasattr(yb, "get") else yb).tolist())
    assert sorted(seen) == list(range(23)) and seen != list(range(23))
    with pytest.raises(ValueError, match="`batch_size` must be a positive int; got 0"):
        next(optim.batches(X, y, 0, rng))
    with pytest.raises(ValueError, match=r"same number of rows; got \(23, 2\) and \(3,\)"):
        next(optim.batches(X, y[:3], 4, rng))


# ------------------------------------------------------------------------ minimize


def _rosen(x):
    return ad.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)


def _rosen_start(n):
    return np.tile([-1.2, 1.0], n // 2)


@pytest.mark.parametrize("method", ["lbfgs", "bfgs", "cg", "newton"])
def test_line_search_methods_solve_rosenbrock_from_the_standard_start(method):
    res = optim.minimize(_rosen, _rosen_start(2), method=method, tol=1e-8)
    assert res.success, res.message
    assert_close(res.x, np.ones(2), rtol=1e-7)
    assert res.fun < 1e-14 and res.nfev >= res.nit > 5
    assert np.max(np.abs(res.jac)) <= 1e-8


def test_bfgs_and_newton_on_a_10d_rosenbrock():
    for method in ("bfgs", "newton"):
        res = optim.minimize(_rosen, _rosen_start(10), method=method, tol=1e-7)
        assert res.success, (method, res.message)
        assert_close(res.x, np.ones(10), rtol=1e-6)


def test_lbfgs_iterations_within_1_2x_scipy_on_1000d_rosenbrock():
    x0 = _rosen_start(1000)
    ours = optim.minimize(_rosen, x0, method="lbfgs", tol=1e-6, maxiter=20000)
    ref = so.minimize(
        so.rosen,
        x0,
        jac=so.rosen_der,
        method="L-BFGS-B",
        options={"gtol": 1e-6, "ftol": 0.0, "maxiter": 20000, "maxfun": 100000},
    )
    assert ours.success and np.max(np.abs(ours.jac)) <= 1e-6
    assert np.max(np.abs(ref.jac)) <= 1e-6  # SciPy got there too
    assert ours.nit <= 1.2 * ref.nit, (ours.nit, ref.nit)
    assert_close(ours.x, np.ones(1000), rtol=1e-5)


def _two_loop(pairs, g):
    """Nocedal & Wright Algorithm 7.4 (H0 = s.y / y.y of the newest pair), NumPy float64."""
    q, alphas = g.copy(), []
    for s, y in reversed(pairs):
        a = (s @ q) / (s @ y)
        q -= a * y
        alphas.append(a)
    s, y = pairs[-1]
    r = q * (s @ y) / (y @ y)
    for (s, y), a in zip(pairs, reversed(alphas), strict=True):
        r += s * (a - (y @ r) / (s @ y))
    return -r


def _lbfgs_state(xp, memory):
    from types import SimpleNamespace

    from gpumath._backend import array_namespace
    from gpumath.optim._lbfgs import LBFGS

    problem = SimpleNamespace(xp=array_namespace(xp.zeros(1)))
    return LBFGS(problem, None, {"memory": memory})


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_lbfgs_compact_form_equals_the_two_loop_recursion(xp, rng, dtype):
    n, memory = 40, 5
    A = rng.standard_normal((n, n))
    A = A @ A.T / n + np.diag(rng.uniform(0.1, 10.0, n))  # curvature over two decades
    state = _lbfgs_state(xp, memory)
    g = rng.standard_normal(n).astype(dtype)
    assert_close(state.next(None, xp.asarray(g)), -g, like=xp.asarray(g))
    pairs = []
    for _ in range(2 * memory + 2):  # past `memory`: the oldest pairs are dropped
        s = rng.standard_normal(n).astype(dtype)
        y = (A @ s).astype(dtype)
        state.observe(xp.asarray(s), xp.asarray(y), None, None)
        pairs = (pairs + [(s.astype(np.float64), y.astype(np.float64))])[-memory:]
        g = rng.standard_normal(n).astype(dtype)
        d = state.next(None, xp.asarray(g))
        assert d.dtype == dtype and state.k == len(pairs)
        rtol = 1e-4 if dtype == np.float32 else 1e-11
        assert_close(d, _two_loop(pairs, g.astype(np.float64)), rtol=rtol, dtype=dtype)


def test_lbfgs_pair_without_curvature_is_a_no_op(xp, rng):
    n = 12
    state = _lbfgs_state(xp, 4)
    good = []
    for i in range(3):
        s = rng.standard_normal(n)
        y = s * rng.uniform(0.5, 2.0, n)
        if i == 1:  # s.y < 0: the two-loop's 1 / s.y would flip the direction's sign
            state.observe(xp.asarray(s), xp.asarray(-s), None, None)
        state.observe(xp.asarray(s), xp.asarray(y), None, None)
        good.append((s, y))
    g = rng.standard_normal(n)
    assert_close(state.next(None, xp.asarray(g)), _two_loop(good, g), rtol=1e-11)
    state.reset()
    assert_close(state.next(None, xp.asarray(g)), -g)


@pytest.mark.parametrize("memory", [1, 3])
def test_lbfgs_short_memory_matches_scipy_minimum(xp, rng, memory):
    A = rng.standard_normal((30, 8))
    b = rng.standard_normal(30)

    def fg(x):
        r = A @ x - b
        return 0.5 * (r @ r) + 0.25 * ((x * x) @ (x * x)), A.T @ r + x**3

    x0 = xp.asarray(rng.standard_normal(8))
    res = optim.minimize(fg, x0, jac=True, method="lbfgs", tol=1e-10, options={"memory": memory})
    start = np.asarray(x0.get() if hasattr(x0, "get") else x0)
    ref = so.minimize(fg, start, jac=True, method="BFGS").x
    for _ in range(3):  # polish SciPy's minimum with Newton steps (strictly convex)
        ref = ref - np.linalg.solve(A.T @ A + np.diag(3 * ref**2), fg(ref)[1])
    assert res.success and res.nit > memory, (res.message, res.nit)
    assert np.max(np.abs(fg(ref)[1])) <= 1e-12
    assert_close(res.x, ref, rtol=1e-6, like=x0)


def test_newton_converges_in_one_step_on_a_strictly_convex_quadratic(rng):
    A = rng.standard_normal((6, 6))
    A = A @ A.T + 6 * np.eye(6)
    b = rng.standard_normal(6)
    res = optim.minimize(
        lambda x: 0.5 * ad.sum(x * ad.matmul(A, x)) - ad.sum(b * x),
        np.zeros(6),
        method="newton",
        tol=1e-10,
    )
    assert res.success and res.nit == 1
    assert_close(res.x, np.linalg.solve(A, b), rtol=1e-10)


def test_newton_converges_quadratically_on_a_strictly_convex_function(rng):
    A = rng.standard_normal((8, 5))

    def f(x):  # log-sum-exp of affine maps + ridge: smooth, strictly convex, not quadratic
        return ad.logsumexp(ad.matmul(A, x)) + 0.5 * ad.sum(x * x)

    x0 = rng.standard_normal(5) * 3
    path = [x0]
    res = optim.minimize(f, x0, method="newton", tol=1e-10, callback=lambda r: path.append(r.x))
    assert res.success
    errors = [np.max(np.abs(p - res.x)) for p in path[:-1]]
    errors = [e for e in errors if e > 1e-12]
    assert len(errors) >= 3
    # Quadratic: e_{k+1} <= C e_k^2 once close; the ratio e_{k+1}/e_k tends to 0.
    tail = errors[-3:]
    assert tail[2] <= 10.0 * tail[1] ** 2 and tail[1] / tail[0] < 0.5


def test_newton_with_user_hessian_and_jacobian(rng):
    A = np.diag([1.0, 10.0, 100.0])

    def fg(x):
        return 0.5 * x @ A @ x + np.sum(x**4), A @ x + 4 * x**3

    res = optim.minimize(
        fg, np.ones(3), jac=True, method="newton", hess=lambda x: A + np.diag(12 * x**2), tol=1e-10
    )
    assert res.success and np.max(np.abs(res.x)) < 1e-9


def test_newton_damping_handles_an_indefinite_start():
    f = lambda x: ad.sum(x**4) - ad.sum(x * x) + 0.1 * ad.sum(x)  # noqa: E731 indefinite at 0
    res = optim.minimize(f, np.zeros(3), method="newton", tol=1e-10)
    assert res.success
    ref = so.minimize(lambda x: np.sum(x**4 - x**2 + 0.1 * x), np.full(3, -0.7), method="BFGS")
    assert np.all(np.abs(res.x) > 0.5) and res.fun <= ref.fun + 1e-10


@pytest.mark.parametrize("method", ["gd", "momentum", "adam"])
def test_first_order_methods_solve_a_quadratic(rng, method):
    A = np.diag(rng.uniform(1, 3, 5))
    b = rng.standard_normal(5)
    res = optim.minimize(
        lambda x: 0.5 * ad.sum(x * ad.matmul(A, x)) - ad.sum(b * x),
        np.zeros(5),
        method=method,
        tol=1e-6,
        options={"lr": 0.05, "check_every": 7},
    )
    assert res.success and res.nit % 7 == 0
    assert_close(res.x, b / np.diag(A), rtol=1e-5)


def test_minimize_on_float32_and_backend(xp):
    x0 = xp.asarray(np.array([-1.2, 1.0], dtype=np.float32))
    res = optim.minimize(_rosen, x0, method="lbfgs", tol=1e-3)
    assert res.x.dtype == np.float32 and type(res.x) is type(x0)
    assert_close(res.x, np.ones(2, np.float32), rtol=1e-3)


def test_callback_can_stop_and_errors_name_arguments():
    res = optim.minimize(_rosen, _rosen_start(2), method="lbfgs", callback=lambda r: r.nit >= 3)
    assert not res.success and res.nit == 3 and res.message == "stopped by callback"
    with pytest.raises(ValueError, match="`method` must be one of"):
        optim.minimize(_rosen, np.ones(2), method="nelder-mead")
    with pytest.raises(
        TypeError, match="`x0` must be a float32 or float64 array; got ndarray int64"
    ):
        optim.minimize(_rosen, np.ones(2, dtype=np.int64))
    with pytest.raises(ValueError, match=r"`options` has unknown keys.*\['lr'\]"):
        optim.minimize(_rosen, np.ones(2), method="bfgs", options={"lr": 1.0})
    res = optim.minimize(_rosen, _rosen_start(2), method="adam", maxiter=5)
    assert not res.success and res.nit == 5 and res.message == "maximum number of iterations"


def test_strong_wolfe_conditions_hold_on_the_accepted_step():
    f = lambda a: (math.exp(a) - 3 * a, math.exp(a) - 3, None)  # noqa: E731
    res = optim.strong_wolfe(f, 1.0, -2.0, 0.1, c1=1e-4, c2=0.1)
    phi, dphi, _ = f(res.alpha)
    assert res.success and phi <= 1.0 + 1e-4 * res.alpha * -2.0 and abs(dphi) <= 0.2


def test_newton_stops_at_machine_precision_when_tol_is_out_of_reach(rng):
    A = rng.standard_normal((8, 5))

    def f(x):
        return ad.logsumexp(ad.matmul(A, x)) + 0.5 * ad.sum(x * x)

    res = optim.minimize(f, rng.standard_normal(5), method="newton", tol=1e-18)
    assert res.success, res.message
    assert res.message == "converged: no decrease possible at machine precision"
    # It stops once the Newton decrease g.H^-1 g >= |g|^2 / lambda_max(H) falls below
    # 16 eps |f|, so |g| is bounded by that rounding (a fixed 1e-8 failed ~1 seed in 6).
    lam_max = np.linalg.norm(A, 2) ** 2 + 1  # H = A^T (diag(p) - p p^T) A + I
    bound = np.sqrt(16 * np.finfo(np.float64).eps * abs(float(res.fun)) * lam_max)
    assert np.linalg.norm(res.jac) <= bound


def _host_array(a):
    return np.asarray(a.get() if hasattr(a, "get") else a)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(), (1,), (7,), (33, 5)])
def test_adam_leaf_fused_and_array_paths_match_the_formulas(xp, rng, dtype, shape):
    """One body for both paths: on CuPy ``adam_leaf`` is the fused ElementwiseKernel, and
    the array path is run explicitly next to it; both against float64 written-out Adam."""
    from gpumath.optim import _fused

    b1, b2, eps, scale = 0.8, 0.95, 1e-3, -0.37
    g = rng.standard_normal(shape).astype(dtype).astype(np.float64)
    # m0 shares g's sign so that b1 m0 + (1-b1) g never cancels: a one-element case
    # would otherwise measure the conditioning of the sum, not the code.
    m0 = (np.abs(rng.standard_normal(shape)) * np.sign(g)).astype(dtype).astype(np.float64)
    v0 = (rng.standard_normal(shape) ** 2).astype(dtype).astype(np.float64)
    m_ref = b1 * m0 + (1 - b1) * g
    v_ref = b2 * v0 + (1 - b2) * g * g
    u_ref = scale * m_ref / (np.sqrt(v_ref) + eps)
    args = [xp.asarray(a.astype(dtype)) for a in (g, m0, v0)]
    before = [_host_array(a).copy() for a in args]
    for path in (_fused.adam_leaf, _fused.adam_leaf_xp):
        m, v, u = path(*args, b1, b2, eps, scale)
        for got, ref in ((m, m_ref), (v, v_ref), (u, u_ref)):
            assert_close(xp.asarray(got), ref.astype(dtype), like=args[0])
    for a, b in zip(args, before, strict=True):  # the caller's arrays are never written
        np.testing.assert_array_equal(_host_array(a), b)


def test_adam_fused_kernel_equals_array_path_on_gpu(gpu, rng):
    """The CUDA kernel and the array path round alike (up to fused multiply-adds)."""
    from gpumath.optim import _fused

    g, m0, v0 = (gpu.asarray(rng.standard_normal(100_003).astype(np.float32)) for _ in range(3))
    v0 = v0 * v0
    fused = _fused.adam_leaf_cuda(g, m0, v0, 0.9, 0.999, 1e-8, -1e-3)
    array = _fused.adam_leaf_xp(g, m0, v0, 0.9, 0.999, 1e-8, -1e-3)
    for a, b in zip(fused, array, strict=True):
        assert a.dtype == np.float32
        assert_close(a, b, rtol=1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda: optim.sgd(0.1, momentum=0.9, nesterov=True),
        lambda: optim.adam(1e-2),
        lambda: optim.adamw(1e-2, weight_decay=0.1),
        lambda: optim.adagrad(0.1),
        lambda: optim.rmsprop(1e-2, momentum=0.5),
        lambda: optim.chain(optim.add_decayed_weights(0.1), optim.scale_by_adam()),
    ],
)
def test_updates_never_write_the_callers_arrays(xp, rng, make):
    """Optax semantics: in-place work only on arrays the update itself created."""
    from gpumath.autodiff._tree import tree_leaves

    opt = make()
    params = [xp.asarray(rng.standard_normal((4, 3))), xp.asarray(rng.standard_normal(5))]
    state = opt.init(params)
    for _ in range(2):  # the second step reads a state the first step created
        grads = [xp.asarray(rng.standard_normal(p.shape)) for p in params]
        watched = tree_leaves((params, grads, state))
        copies = [_host_array(a).copy() for a in watched if hasattr(a, "shape")]
        updates, state = opt.update(grads, state, params)
        after = [_host_array(a) for a in watched if hasattr(a, "shape")]
        for a, b in zip(after, copies, strict=True):
            np.testing.assert_array_equal(a, b)
        params = optim.apply_updates(params, updates)


def test_numpy_scalar_learning_rates_keep_float32(rng):
    """A schedule returning NumPy float64 must not promote float32 updates."""
    params = [rng.standard_normal(3).astype(np.float32), np.float32(0.5) * np.ones((), np.float32)]
    grads = [np.ones(3, np.float32), np.ones((), np.float32)]
    for opt in (
        optim.adam(lambda t: np.float64(1e-3)),
        optim.sgd(lambda t: np.float64(0.1)),
        optim.rmsprop(lambda t: np.float64(0.1)),
    ):
        updates, _ = opt.update(grads, opt.init(params), params)
        assert [u.dtype for u in updates] == [np.float32, np.float32]
