"""gpumath.nn: values against SciPy/NumPy float64, gradients against central differences,
exactness at +-1000, batch norm against PyTorch's formulas, initialiser statistics,
vanishing gradients with naive vs Xavier initialisation, and digits end to end."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.special as sp
from hypothesis import given
from hypothesis import strategies as st
from threadpoolctl import threadpool_limits

from gpumath import autodiff as ad
from gpumath import nn
from gpumath.testing import assert_close

TOL = 1e-6


@pytest.fixture(autouse=True)
def _one_blas_thread():
    """Tiny matrices: BLAS threads only fight over CI's two cores."""
    with threadpool_limits(1):
        yield


def _gelu_tanh(x):
    return 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))


ELEMENTWISE = {
    "relu": (nn.relu, lambda x: np.maximum(x, 0)),
    "leaky_relu": (lambda x: nn.leaky_relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x)),
    "gelu": (nn.gelu, _gelu_tanh),
    "sigmoid": (nn.sigmoid, sp.expit),
    "tanh": (nn.tanh, np.tanh),
    "softplus": (nn.softplus, lambda x: np.logaddexp(0, x)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_activations_match_references_and_finite_differences(xp, rng, name):
    ours, ref = ELEMENTWISE[name]
    x = rng.standard_normal((5, 7)) * 3
    x = np.where(np.abs(x) < 1e-3, 0.5, x)  # away from the kinks of relu/leaky_relu
    y = ours(xp.asarray(x))
    assert_close(y, ref(x), like=xp.asarray(x))
    assert ad.check_grad(lambda t: ours(t), xp.asarray(x)) < TOL


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_activations_keep_float32(rng, dtype):
    x = rng.standard_normal(6).astype(dtype)
    for name, (ours, ref) in ELEMENTWISE.items():
        y = ours(x)
        assert y.dtype == dtype, name
        assert_close(
            y, ref(x.astype(np.float64)).astype(dtype), rtol=1e-5 if dtype == np.float32 else 1e-12
        )


@given(
    shape=st.lists(st.integers(1, 5), min_size=1, max_size=3).map(tuple),
    seed=st.integers(0, 2**32 - 1),
    data=st.data(),
)
def test_softmax_family_matches_scipy_and_finite_differences(shape, seed, data):
    x = np.random.default_rng(seed).standard_normal(shape) * 4
    axis = data.draw(st.integers(-len(shape), len(shape) - 1))
    assert_close(nn.softmax(x, axis=axis), sp.softmax(x, axis=axis))
    assert_close(nn.log_softmax(x, axis=axis), sp.log_softmax(x, axis=axis))
    assert_close(nn.logsumexp(x, axis=axis), sp.logsumexp(x, axis=axis))
    # Moderate logits for the finite differences: at a spread of ~15 softmax's gradient is
    # ~1e-7 and central differences only resolve it to a few digits.
    x = x / 4
    assert ad.check_grad(lambda t: nn.softmax(t, axis=axis), x) < TOL
    assert ad.check_grad(lambda t: nn.log_softmax(t, axis=axis), x) < TOL


def test_losses_match_written_out_formulas_and_finite_differences(xp, rng):
    z = rng.standard_normal((6, 4)) * 2
    labels = rng.integers(0, 4, 6)
    t = rng.random((6, 4))
    p = rng.standard_normal((6, 4))
    ce = np.mean(sp.logsumexp(z, axis=1) - z[np.arange(6), labels])
    assert_close(nn.cross_entropy(xp.asarray(z), xp.asarray(labels)), np.asarray(ce))
    bce = np.mean(-(t * np.log(sp.expit(z)) + (1 - t) * np.log(1 - sp.expit(z))))
    assert_close(nn.binary_cross_entropy_with_logits(xp.asarray(z), xp.asarray(t)), np.asarray(bce))
    assert_close(nn.mse_loss(xp.asarray(p), xp.asarray(z)), np.asarray(np.mean((p - z) ** 2)))
    lab, tt, zz = xp.asarray(labels), xp.asarray(t), xp.asarray(z)
    assert ad.check_grad(lambda u: nn.cross_entropy(u, lab), xp.asarray(z)) < TOL
    assert ad.check_grad(lambda u: nn.binary_cross_entropy_with_logits(u, tt), xp.asarray(z)) < TOL
    assert ad.check_grad(lambda u, v: nn.mse_loss(u, v), (xp.asarray(p), zz)) < TOL


def test_cross_entropy_matches_scikit_learn_log_loss(rng):
    from sklearn.metrics import log_loss

    z = rng.standard_normal((50, 5))
    labels = rng.integers(0, 5, 50)
    ref = log_loss(labels, sp.softmax(z, axis=1), labels=range(5))
    assert_close(nn.cross_entropy(z, labels), np.asarray(ref), rtol=1e-10)


def test_stable_functions_are_exact_at_plus_minus_1000():
    big = np.array([[1000.0, -1000.0, 999.0], [-1000.0, -1000.0, -1001.0]])
    lse = np.array([1000 + np.log1p(np.exp(-1.0)), -1000 + np.log(2 + np.exp(-1.0))])
    assert_close(nn.logsumexp(big, axis=1), lse)
    sm = nn.softmax(big, axis=1)
    assert np.all(np.isfinite(sm))
    assert_close(sm, sp.softmax(big, axis=1))
    assert_close(nn.log_softmax(big, axis=1), big - lse[:, None])
    ce = nn.cross_entropy(big, np.array([1, 2]))
    assert_close(ce, np.asarray(np.mean([lse[0] + 1000, lse[1] + 1001])))
    z = np.array([1000.0, -1000.0, 1000.0, -1000.0])
    tgt = np.array([0.0, 1.0, 1.0, 0.0])
    assert_close(nn.binary_cross_entropy_with_logits(z, tgt), np.asarray(500.0))
    assert_close(nn.sigmoid(z), np.array([1.0, 0.0, 1.0, 0.0]))
    assert_close(nn.softplus(z), np.array([1000.0, 0.0, 1000.0, 0.0]))
    g = ad.grad(lambda t: nn.cross_entropy(t, np.array([1, 2])))(big)
    assert np.all(np.isfinite(g))
    g = ad.grad(lambda t: nn.binary_cross_entropy_with_logits(t, tgt))(z)
    assert_close(g, (np.array([1.0, 0.0, 1.0, 0.0]) - tgt) / 4)


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")
def test_logsumexp_of_all_minus_inf_is_minus_inf():
    out = nn.logsumexp(np.array([[-np.inf, -np.inf], [0.0, -np.inf]]), axis=1)
    assert out[0] == -np.inf and out[1] == 0.0


def test_cross_entropy_rejects_bad_labels():
    with pytest.raises(ValueError, match=r"`logits` must have shape \(N, C\).*\(3, 2\) and \(2,\)"):
        nn.cross_entropy(np.ones((3, 2)), np.zeros(2, dtype=np.int64))
    with pytest.raises(
        TypeError, match="`labels` must hold integer class indices; got dtype float64"
    ):
        nn.cross_entropy(np.ones((3, 2)), np.zeros(3))


def test_dropout_keeps_the_mean_and_its_gradient_is_the_mask(rng):
    x = rng.standard_normal(100_000) + 3
    y = nn.dropout(x, 0.3, np.random.default_rng(5))
    kept = y != 0
    assert abs(kept.mean() - 0.7) < 0.01
    assert_close(y[kept], x[kept] / 0.7)
    assert nn.dropout(x, 0.3, rng, training=False) is x
    g = ad.grad(lambda t: ad.sum(nn.dropout(t, 0.3, np.random.default_rng(5))))(x)
    assert_close(g, kept / 0.7)
    with pytest.raises(ValueError, match=r"`p` must be in \[0, 1\); got 1.0"):
        nn.dropout(x, 1.0, rng)


def test_batch_norm_matches_pytorch_formulas(xp, rng):
    x = rng.normal(2.0, 3.0, (8, 3, 4, 5))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    rm_x, rv_x = xp.asarray(rm.copy()), xp.asarray(rv.copy())
    y = nn.batch_norm(xp.asarray(x), rm_x, rv_x, xp.asarray(w), xp.asarray(b), True, 0.1, 1e-5)
    mu = x.mean(axis=(0, 2, 3))
    var = x.var(axis=(0, 2, 3))
    ref = (x - mu[None, :, None, None]) / np.sqrt(var[None, :, None, None] + 1e-5)
    ref = ref * w[None, :, None, None] + b[None, :, None, None]
    assert_close(y, ref, like=xp.asarray(x))
    n = 8 * 4 * 5
    assert_close(rm_x, 0.9 * rm + 0.1 * mu)
    assert_close(rv_x, 0.9 * rv + 0.1 * var * n / (n - 1))
    y_eval = nn.batch_norm(xp.asarray(x), rm_x, rv_x, xp.asarray(w), xp.asarray(b), False)
    rm2, rv2 = 0.9 * rm + 0.1 * mu, 0.9 * rv + 0.1 * var * n / (n - 1)
    ref_eval = (x - rm2[None, :, None, None]) / np.sqrt(rv2[None, :, None, None] + 1e-5)
    assert_close(y_eval, ref_eval * w[None, :, None, None] + b[None, :, None, None])


def test_batch_norm_gradients_match_finite_differences(rng):
    x = rng.standard_normal((6, 3))
    w, b = rng.standard_normal(3), rng.standard_normal(3)
    fn = lambda x, w, b: nn.batch_norm(x, None, None, w, b, training=True) ** 2  # noqa: E731
    assert ad.check_grad(fn, (x, w, b)) < TOL
    with pytest.raises(ValueError, match=r"more than one value per channel; got \(1, 3\)"):
        nn.batch_norm(np.ones((1, 3)), None, None, training=True)


@pytest.mark.parametrize(
    ("init", "std"),
    [
        (nn.xavier_uniform, np.sqrt(2 / (300 + 200))),
        (nn.xavier_normal, np.sqrt(2 / (300 + 200))),
        (nn.he_uniform, np.sqrt(2 / 200)),
        (nn.he_normal, np.sqrt(2 / 200)),
    ],
)
def test_initialisers_have_the_prescribed_variance(rng, init, std):
    w = init((300, 200), rng)
    assert w.dtype == np.float32 and w.shape == (300, 200)
    assert abs(w.std() / std - 1) < 0.02
    assert abs(w.mean()) < 0.01 * std * 10
    assert init((4, 3), rng, dtype=np.float64).dtype == np.float64


def test_fans_and_bad_shapes():
    assert nn.fans((16, 3, 5, 5)) == (75, 400)
    with pytest.raises(ValueError, match=r"`shape` must have at least 2 axes.*got \(5,\)"):
        nn.xavier_uniform((5,), np.random.default_rng())


def _layer_grad_norms(init, rng, depth=20, width=64):
    """Per-layer gradient norms of a deep tanh network w.r.t. each layer's bias (the
    backpropagated signal, layer 0 = first) under a random linear read-out."""
    weights = [init((width, width), rng) for _ in range(depth)]
    biases = [np.zeros(width) for _ in range(depth)]
    x = rng.standard_normal((32, width))
    readout = rng.standard_normal((32, width))

    def loss(bs):
        h = x
        for w, b in zip(weights, bs, strict=True):
            h = ad.tanh(ad.matmul(h, w.T) + b)
        return ad.sum(h * readout)

    return np.array([np.linalg.norm(g) for g in ad.grad(loss)(biases)])


def test_deep_tanh_network_vanishes_with_naive_init_but_not_with_xavier(rng):
    naive = lambda shape, rng: rng.standard_normal(shape) * 0.01  # noqa: E731
    xavier = lambda shape, rng: nn.xavier_normal(shape, rng, dtype=np.float64)  # noqa: E731
    g_naive = _layer_grad_norms(naive, rng)
    g_xavier = _layer_grad_norms(xavier, rng)
    # Naive: each layer scales the backward signal by ~0.01 * sqrt(64) = 0.08, so the first
    # layer sees ~0.08**19 of the last one's gradient. Xavier keeps the layers comparable.
    assert g_naive[0] < 1e-15 * g_naive[-1]
    assert np.all(np.diff(np.log(g_naive)) > 0)  # monotone decay towards the input
    assert g_xavier[0] > 0.05 * g_xavier[-1]
    assert g_xavier.min() > 0.02 * g_xavier.max()


def test_modules_compose_and_expose_parameters(rng):
    net = nn.Sequential(nn.Linear(4, 8, rng), nn.ReLU(), nn.Linear(8, 3, rng, bias=False))
    params = net.parameters()
    assert [p.shape for p in params] == [(8, 4), (8,), (3, 8)]
    x = rng.standard_normal((5, 4)).astype(np.float32)
    w1, b1, w2 = params
    assert_close(net(x), np.maximum(x @ w1.T + b1, 0) @ w2.T, rtol=1e-5)
    net.set_parameters([p * 0 for p in params])
    assert np.all(net(x) == 0)
    with pytest.raises(ValueError, match="`params` must hold 3 arrays; got 2"):
        net.set_parameters(params[:2])


def test_batchnorm_module_trains_and_evaluates(rng):
    bn = nn.BatchNorm(3, np.zeros(1))
    x = rng.normal(5.0, 2.0, (64, 3))
    y = bn(x)
    assert np.allclose(y.mean(axis=0), 0, atol=1e-12) and np.allclose(y.std(axis=0), 1, atol=1e-4)
    assert np.allclose(bn.running_mean, 0.1 * x.mean(axis=0))
    bn.eval()
    y_eval = bn(x)
    ref = (x - bn.running_mean) / np.sqrt(bn.running_var + 1e-5)
    assert_close(y_eval, ref)


def test_mlp_learns_digits_to_95_percent(rng):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    X = (X / 16.0).astype(np.float32)
    X_tr, X_te, y_tr, y_te = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)
    model, loss = nn.train_mlp(X_tr, y_tr, 10, rng, hidden=(128,), epochs=20)
    assert all(p.dtype == np.float32 for p in model.parameters())
    assert model(X_te).dtype == np.float32
    assert nn.accuracy(model, X_te, y_te) >= 0.95
