"""gpumath.autodiff: every op against central differences, higher-order derivatives,
forward vs reverse Jacobians, Hessians against analytic ones, and the API's errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import mutually_broadcastable_shapes

from gpumath import autodiff as ad
from gpumath.testing import assert_close

TOL = 1e-6  # the bound for check_grad in float64

pair_shapes = mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=3, max_side=4)
seeds = st.integers(0, 2**32 - 1)


def _data(shape, seed, positive=False):
    r = np.random.default_rng(seed).standard_normal(shape)
    return np.abs(r) + 0.5 if positive else r


BINARY = {
    "add": (lambda a, b: ad.add(a, b), False),
    "subtract": (lambda a, b: a - b, False),
    "multiply": (lambda a, b: a * b, False),
    "divide": (lambda a, b: a / b, True),
    "power": (lambda a, b: a**b, True),
    "maximum": (lambda a, b: ad.maximum(a, b), False),
    "minimum": (lambda a, b: ad.minimum(a, b), False),
    "where": (lambda a, b: ad.where(a.data > b.data, a * a, b), False),
}


@pytest.mark.parametrize("name", sorted(BINARY))
@given(shapes=pair_shapes, seed=seeds)
def test_binary_ops_match_finite_differences_with_broadcasting(name, shapes, seed):
    fn, positive = BINARY[name]
    a = _data(shapes.input_shapes[0], seed, positive)
    b = _data(shapes.input_shapes[1], seed + 1, positive)
    assert ad.check_grad(fn, (a, b)) < TOL


UNARY = {
    "exp": (ad.exp, False),
    "log": (ad.log, True),
    "log1p": (ad.log1p, True),
    "tanh": (ad.tanh, False),
    "sqrt": (ad.sqrt, True),
    "abs": (ad.abs, False),
    "sin": (ad.sin, False),
    "cos": (ad.cos, False),
    "negative": (lambda x: -x, False),
    "square": (ad.square, False),
    "clip": (lambda x: ad.clip(x, -0.5, 0.7), False),
    "relu": (ad.relu, False),
    "sigmoid": (ad.sigmoid, False),
    "softplus": (ad.softplus, False),
    "gelu": (ad.gelu, False),
    "leaky_relu": (lambda x: ad.leaky_relu(x, 0.2), False),
    "scalar_pow": (lambda x: x**3, True),  # near 0, f' ~ 3x^2 drowns in the h^2 error
    "rsub_rdiv": (lambda x: 2.0 - 3.0 / (x + 4.0), True),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@given(shape=st.lists(st.integers(1, 4), max_size=3).map(tuple), seed=seeds)
def test_unary_ops_match_finite_differences(name, shape, seed):
    fn, positive = UNARY[name]
    x = _data(shape, seed, positive)
    if name in ("abs", "relu", "leaky_relu", "clip"):  # keep away from the kinks
        x = np.where(np.abs(x) < 1e-3, 0.3, x)
        x = np.where(np.abs(x + 0.5) < 1e-3, 0.3, x)
        x = np.where(np.abs(x - 0.7) < 1e-3, 0.3, x)
    assert ad.check_grad(fn, x) < TOL


@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    seed=seeds,
    keepdims=st.booleans(),
    data=st.data(),
)
def test_reductions_match_finite_differences(shape, seed, keepdims, data):
    x = _data(shape, seed)
    axis = data.draw(st.one_of(st.none(), st.integers(-len(shape), len(shape) - 1)))
    for fn in (ad.sum, ad.mean, ad.max, ad.logsumexp):
        assert ad.check_grad(lambda t, fn=fn: fn(t, axis=axis, keepdims=keepdims), x) < TOL


def test_shape_ops_match_finite_differences(rng):
    x = rng.standard_normal((3, 4, 2))
    y = rng.standard_normal((3, 1, 2))
    cases = [
        lambda t: ad.reshape(t, (4, 6)) * 2.0,
        lambda t: ad.permute_dims(t, (2, 0, 1)) ** 2,
        lambda t: t.T * t.T,
        lambda t: t[1:, ::2, 0] ** 2,
        lambda t: t[..., None, 1] ** 3,
        lambda t: t[t.data > 0] ** 2,
        lambda t: ad.concatenate([t, t * t], axis=1),
        lambda t: ad.stack([t, ad.exp(t)], axis=-1),
        lambda t: ad.squeeze(ad.expand_dims(t, 0), 0) * t,
        lambda t: ad.broadcast_to(t[:, :1, :], (3, 4, 2)) * t,
    ]
    for fn in cases:
        assert ad.check_grad(fn, x) < TOL
    assert ad.check_grad(lambda a, b: ad.concatenate([a, b], axis=1), (x, y)) < TOL


@given(
    batch=mutually_broadcastable_shapes(num_shapes=2, min_dims=0, max_dims=2, max_side=3),
    m=st.integers(1, 4),
    k=st.integers(1, 4),
    n=st.integers(1, 4),
    seed=seeds,
)
def test_matmul_matches_finite_differences_with_batch_broadcasting(batch, m, k, n, seed):
    a = _data(batch.input_shapes[0] + (m, k), seed)
    b = _data(batch.input_shapes[1] + (k, n), seed + 1)
    assert ad.check_grad(ad.matmul, (a, b)) < TOL


def test_matmul_vector_operands(rng):
    a, v = rng.standard_normal((3, 4)), rng.standard_normal(4)
    assert ad.check_grad(ad.matmul, (a, v)) < TOL
    assert ad.check_grad(ad.matmul, (v, a.T)) < TOL
    assert ad.check_grad(ad.matmul, (v, v)) < TOL


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "gelu"])
def test_linear_matches_reference_and_finite_differences(rng, activation):
    x, w, b = rng.standard_normal((2, 5, 3)), rng.standard_normal((4, 3)), rng.standard_normal(4)
    y = ad.linear(x, w, b, activation=activation).data
    pre = x @ w.T + b
    ref = {
        None: pre,
        "relu": np.maximum(pre, 0),
        "tanh": np.tanh(pre),
        "sigmoid": 1 / (1 + np.exp(-pre)),
        "gelu": 0.5 * pre * (1 + np.tanh(np.sqrt(2 / np.pi) * (pre + 0.044715 * pre**3))),
    }[activation]
    assert_close(y, ref)
    fn = lambda x, w, b: ad.linear(x, w, b, activation=activation)  # noqa: E731
    assert ad.check_grad(fn, (x, w, b)) < TOL


@pytest.mark.parametrize("activation", [None, "relu", "tanh", "sigmoid", "gelu"])
def test_linear_second_derivatives_match_finite_differences(rng, activation):
    x, b = rng.standard_normal((2, 4)), rng.standard_normal(3)
    w = rng.standard_normal((3, 4))

    def grad_w(t):
        return ad.grad(lambda u: ad.sum(ad.linear(x, u, b, activation=activation) ** 2))(t)

    assert ad.check_grad(grad_w, w) < TOL


def test_linear_rejects_mismatched_shapes():
    with pytest.raises(
        ValueError, match=r"`x` must have shape \(\.\.\., in\).*\(2, 3\) and \(4, 5\)"
    ):
        ad.linear(np.ones((2, 3)), np.ones((4, 5)))
    with pytest.raises(ValueError, match="`activation` must be one of"):
        ad.linear(np.ones((2, 3)), np.ones((4, 3)), activation="swish")


def test_second_derivatives_of_every_smooth_unary_op(rng):
    x = rng.uniform(0.5, 1.5, 5)
    # f'' of sum(f(x)) against written-out second derivatives.
    cases = {
        ad.exp: np.exp(x),
        ad.log: -1 / x**2,
        ad.tanh: -2 * np.tanh(x) * (1 - np.tanh(x) ** 2),
        ad.sqrt: -0.25 * x**-1.5,
        ad.sin: -np.sin(x),
        ad.sigmoid: (s := 1 / (1 + np.exp(-x))) * (1 - s) * (1 - 2 * s),
        ad.softplus: s * (1 - s),
        (lambda t: t**3): 6 * x,
    }
    for fn, second in cases.items():
        g2 = ad.grad(lambda t, fn=fn: ad.sum(ad.grad(lambda u: ad.sum(fn(u)))(t)))(x)
        assert_close(g2, second, rtol=1e-12)


def test_third_derivative_through_nested_grad():
    f = lambda x: ad.sum(x**4)  # noqa: E731
    d3 = ad.grad(lambda x: ad.sum(ad.grad(lambda y: ad.sum(ad.grad(f)(y)))(x)))
    assert_close(d3(np.array([1.5, -2.0])), 24 * np.array([1.5, -2.0]))


def test_hessian_matches_analytic_quadratic_and_logsumexp(rng):
    A = rng.standard_normal((4, 4))
    b = rng.standard_normal(4)
    x = rng.standard_normal(4)
    H = ad.hessian(lambda t: 0.5 * ad.sum(t * ad.matmul(A, t)) + ad.sum(b * t))(x)
    assert_close(H, 0.5 * (A + A.T))
    p = np.exp(x - np.log(np.sum(np.exp(x))))
    assert_close(ad.hessian(ad.logsumexp)(x), np.diag(p) - np.outer(p, p), rtol=1e-12)


def test_hessian_of_a_small_network_matches_finite_differences_of_its_gradient(rng):
    W = rng.standard_normal((3, 4))
    f = lambda x: ad.sum(ad.tanh(ad.matmul(W, x)) ** 2)  # noqa: E731
    x = rng.standard_normal(4)
    H = ad.hessian(f)(x)
    g = ad.grad(f)
    h = 1e-5
    fd = np.stack([(g(x + h * e) - g(x - h * e)) / (2 * h) for e in np.eye(4)], axis=1)
    assert_close(H, fd, rtol=1e-8)
    assert_close(H, H.T, rtol=1e-12)


def test_forward_and_reverse_jacobians_agree(rng):
    W = rng.standard_normal((3, 2, 4))
    f = lambda x: ad.tanh(ad.matmul(W, x)) * ad.sum(x)  # noqa: E731  (3, 2) from (4,)
    x = rng.standard_normal(4)
    jr = ad.jacobian(f, mode="rev")(x)
    jf = ad.jacobian(f, mode="fwd")(x)
    assert jr.shape == (3, 2, 4)
    assert_close(jf, jr, rtol=1e-12)
    h = 1e-6
    fd = np.stack([(f(x + h * e).data - f(x - h * e).data) / (2 * h) for e in np.eye(4)], -1)
    assert_close(jr, fd, rtol=1e-8)


def test_jvp_and_hvp_match_dense_products(rng):
    A = rng.standard_normal((3, 5))
    x, v = rng.standard_normal(5), rng.standard_normal(5)
    f = lambda t: ad.sin(ad.matmul(A, t))  # noqa: E731
    y, jv = ad.jvp(f, (x,), (v,))
    assert_close(y, np.sin(A @ x))
    assert_close(jv, np.cos(A @ x) * (A @ v))
    loss = lambda t: ad.sum(ad.exp(ad.matmul(A, t)))  # noqa: E731
    H = A.T @ np.diag(np.exp(A @ x)) @ A
    assert_close(ad.hvp(loss, x, v), H @ v)


def test_vjp_is_reusable_and_checks_the_cotangent_shape(rng):
    x = rng.standard_normal((2, 3))
    y, back = ad.vjp(lambda t: ad.exp(t) * 2.0, x)
    for _ in range(2):
        c = rng.standard_normal((2, 3))
        (gx,) = back(c)
        assert_close(gx, 2 * np.exp(x) * c)
    with pytest.raises(ValueError, match=r"`cotangent` must have the output's shape \(2, 3\)"):
        back(np.ones(3))


def test_grad_over_trees_and_argnums(rng):
    params = {"w": rng.standard_normal((2, 3)), "b": [rng.standard_normal(2)]}
    x = rng.standard_normal(3)

    def loss(p, x):
        return ad.sum((ad.matmul(p["w"], x) + p["b"][0]) ** 2)

    gp, gx = ad.grad(loss, argnums=(0, 1))(params, x)
    r = params["w"] @ x + params["b"][0]
    assert_close(gp["w"], 2 * np.outer(r, x))
    assert_close(gp["b"][0], 2 * r)
    assert_close(gx, 2 * params["w"].T @ r)
    (value, aux), g = ad.value_and_grad(lambda t: (ad.sum(t * t), "aux"), has_aux=True)(x)
    assert aux == "aux" and np.isclose(value, np.sum(x * x))


def test_gradient_of_an_unused_argument_is_zero(rng):
    x, y = rng.standard_normal(3), rng.standard_normal(2)
    gx, gy = ad.grad(lambda a, b: ad.sum(a * a), argnums=(0, 1))(x, y)
    assert_close(gy, np.zeros(2))


def test_checkpoint_gives_the_same_gradients_and_second_derivatives(rng):
    W = rng.standard_normal((4, 4)) / 2
    block = lambda t: ad.tanh(ad.matmul(W, ad.tanh(ad.matmul(W, t))))  # noqa: E731
    f_plain = lambda t: ad.sum(block(block(t)) ** 2)  # noqa: E731
    cblock = ad.checkpoint(block)
    f_ckpt = lambda t: ad.sum(cblock(cblock(t)) ** 2)  # noqa: E731
    x = rng.standard_normal(4)
    assert_close(ad.grad(f_ckpt)(x), ad.grad(f_plain)(x), rtol=1e-13)
    assert_close(ad.hessian(f_ckpt)(x), ad.hessian(f_plain)(x), rtol=1e-12)


def test_checkpoint_stores_no_intermediate_nodes():
    x = ad.Tensor(np.ones(3), requires_grad=True)
    y = ad.checkpoint(lambda t: ad.exp(ad.exp(t)))(x)
    assert y.parents == (x,)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_dtype_in_equals_dtype_out(xp, dtype):
    x = xp.asarray(np.linspace(-1, 1, 6).reshape(2, 3), dtype=dtype)
    f = lambda t: ad.sum(ad.tanh(t) * 2.0 + ad.logsumexp(t, axis=1, keepdims=True) / 3.0)  # noqa: E731
    g = ad.grad(f)(x)
    assert g.dtype == dtype and type(g) is type(x)
    assert ad.hessian(lambda t: ad.sum(t**3))(x[0]).dtype == dtype


def test_backend_gradients_match_numpy(xp, rng):
    W = rng.standard_normal((5, 4))
    x = rng.standard_normal((3, 4))

    def loss(w, x):
        h = ad.linear(x, w, activation="relu")
        return ad.mean(ad.logsumexp(h, axis=1) - h[:, 0])

    ref = ad.grad(loss)(W, x)
    ours = ad.grad(loss)(xp.asarray(W), xp.asarray(x))
    assert_close(ours, ref, rtol=1e-12, like=xp.asarray(W))
    assert ad.check_grad(lambda w: loss(w, xp.asarray(x)), xp.asarray(W)) < TOL


def test_float32_gradients_are_accurate(rng):
    x = rng.standard_normal((8, 5)).astype(np.float32)
    g = ad.grad(lambda t: ad.sum(ad.tanh(t) ** 2))(x)
    x64 = x.astype(np.float64)
    ref = 2 * np.tanh(x64) * (1 - np.tanh(x64) ** 2)
    assert_close(g, ref.astype(np.float32), rtol=1e-5)


def test_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"must return a scalar; got shape \(3,\)"):
        ad.grad(lambda t: t * 2.0)(np.ones(3))
    with pytest.raises(TypeError, match=r"`args\[0\]` must be a float32 or float64 array.*int64"):
        ad.grad(lambda t: ad.sum(t))(np.arange(3))
    with pytest.raises(ValueError, match=r"`argnums` must index the 1 argument\(s\); got 2"):
        ad.grad(lambda t: ad.sum(t), argnums=2)(np.ones(2))
    with pytest.raises(ValueError, match="`mode` must be 'rev' or 'fwd'; got 'side'"):
        ad.jacobian(lambda t: t, mode="side")
    with pytest.raises(TypeError, match="traced indexing takes ints, slices"):
        ad.Tensor(np.ones(3))[np.array([0, 0])]
    with pytest.raises(TypeError, match="truth value of a traced Tensor"):
        bool(ad.Tensor(np.ones(1)))
    with pytest.raises(
        ValueError, match=r"`tangents` must match `primals` one to one; got 2 and 1"
    ):
        ad.jvp(lambda t: t, (np.ones(1),), (np.ones(1), np.ones(1)))


def test_no_record_builds_no_graph():
    x = ad.Tensor(np.ones(2), requires_grad=True)
    with ad.no_record():
        y = ad.exp(x) * x
    assert not y.requires_grad and y.parents == ()


def test_check_grad_detects_a_wrong_derivative():
    def bad(x):  # value sin(x), derivative claimed cos(x) + 0.01: check_grad must notice
        out = ad.sin(x)
        return out + ad.where(np.ones(x.shape, bool), x, x) * 0.0 + _tweak(x)

    def _tweak(x):
        t = ad.Tensor(np.zeros(x.shape))
        node = ad.Tensor(t.data, (x,), lambda g, need: (g * 0.01,), True)
        return node

    assert ad.check_grad(lambda t: ad.sum(bad(t)), np.array([0.3, 1.2])) > 1e-3


def test_mixed_partials_skip_branches_of_the_outer_variable(rng):
    """d/dy (sum d/dx f): the inner sweep meets traced y-only nodes (y * y) and must
    neither sweep them nor stop the outer sweep from reaching them."""
    x, y = rng.standard_normal(4), rng.standard_normal(4)

    def f(x, y):
        yy = y * y
        s = ad.sin(x)
        return ad.sum(s * yy + s * s * y + yy * yy)

    got = ad.grad(lambda y: ad.sum(ad.grad(f, 0)(x, y)))(y)
    want = 2 * y * np.cos(x) + 2 * np.sin(x) * np.cos(x)
    assert_close(got, want)
