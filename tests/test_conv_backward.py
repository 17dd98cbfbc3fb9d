"""conv2d_backward / conv3d_backward against finite differences and the adjoint identities.

The forward convolution is linear in ``x`` and in ``weight``, so its Jacobian is exactly the
matrix whose columns are the SciPy reference applied to unit vectors (a finite difference
with step 1 is exact for a linear map): grad_x = J_x^T g and grad_weight = J_w^T g, built
from code nobody here wrote. Larger cases check the adjoint identities
<conv(x, w), g> = <x, grad_x(g)> = <w, grad_weight(g)> instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

from gpumath.ops import conv as conv_module
from gpumath.testing import assert_close

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_conv_reference import reference_conv  # noqa: E402

ALGORITHMS = [a for a in conv_module.ALGORITHMS if a != "winograd"]

# (x shape, weight shape, keyword arguments): stride > 1 (dilated gradient), padding larger
# than the dilated kernel (negative transposed padding, i.e. cropping), inputs the forward
# pass never reads (trailing rows with stride 3), asymmetric padding, dilation, groups.
SMALL = [
    ((1, 2, 5, 6), (3, 2, 3, 2), {"stride": 2, "padding": 1}),
    ((2, 2, 7, 5), (2, 1, 2, 3), {"stride": (3, 1), "padding": ((2, 0), (1, 3)), "groups": 2}),
    ((1, 1, 6, 6), (2, 1, 3, 3), {"stride": 3, "padding": 4}),
    ((1, 2, 6, 7), (2, 2, 2, 2), {"dilation": (2, 3), "padding": (1, 2)}),
    ((1, 2, 3, 4, 4), (2, 2, 2, 1, 3), {"stride": (1, 2, 1), "padding": 1, "dilation": (2, 1, 1)}),
]


def _jacobian_transpose_products(x, w, g, kw):
    """(J_x^T g, J_w^T g) of the SciPy reference, one unit vector at a time."""
    gx = np.zeros(x.size)
    for i in range(x.size):
        e = np.zeros(x.size)
        e[i] = 1.0
        gx[i] = np.vdot(reference_conv(e.reshape(x.shape), w, **kw), g)
    gw = np.zeros(w.size)
    for i in range(w.size):
        e = np.zeros(w.size)
        e[i] = 1.0
        gw[i] = np.vdot(reference_conv(x, e.reshape(w.shape), **kw), g)
    return gx.reshape(x.shape), gw.reshape(w.shape)


def _backward(nd):
    return conv_module.conv2d_backward if nd == 2 else conv_module.conv3d_backward


def _forward(nd):
    return conv_module.conv2d if nd == 2 else conv_module.conv3d


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("case", SMALL, ids=range(len(SMALL)))
def test_gradients_match_the_reference_jacobian(xp, rng, algorithm, case):
    xs, ws, kw = case
    nd = len(xs) - 2
    x, w = rng.standard_normal(xs), rng.standard_normal(ws)
    g = rng.standard_normal(reference_conv(x, w, **kw).shape)
    expect_gx, expect_gw = _jacobian_transpose_products(x, w, g, kw)
    gd, xd, wd = xp.asarray(g), xp.asarray(x), xp.asarray(w)
    gx, gw, gb = _backward(nd)(gd, xd, wd, algorithm=algorithm, **kw)
    assert_close(gx, expect_gx, rtol=1e-10, like=xd)
    assert_close(gw, expect_gw, rtol=1e-10, like=xd)
    assert_close(gb, g.sum(axis=(0, *range(2, 2 + nd))), rtol=1e-12, like=xd)


def test_winograd_backward_on_a_strided_3x3(xp, rng):
    # grad_x is a stride-1 transposed convolution with the flipped 3x3 kernel, so Winograd
    # serves it even for a strided forward pass.
    kw = {"stride": 2, "padding": (1, 0), "groups": 2}
    x, w = rng.standard_normal((1, 4, 7, 6)), rng.standard_normal((2, 2, 3, 3))
    g = rng.standard_normal(reference_conv(x, w, **kw).shape)
    expect_gx, expect_gw = _jacobian_transpose_products(x, w, g, kw)
    gx, gw, _ = conv_module.conv2d_backward(
        xp.asarray(g), xp.asarray(x), xp.asarray(w), algorithm="winograd", **kw
    )
    assert_close(gx, expect_gx, rtol=1e-10)
    assert_close(gw, expect_gw, rtol=1e-10)


def test_central_differences_of_our_forward(rng):
    # The forward itself, perturbed: a check of the loss gradient as autodiff will use it.
    kw = {"stride": 2, "padding": ((1, 0), (2, 1)), "dilation": (1, 2), "groups": 2}
    x = rng.standard_normal((2, 4, 7, 8))
    w = rng.standard_normal((4, 2, 3, 2))
    b = rng.standard_normal(4)
    g = rng.standard_normal(conv_module.conv2d(x, w, b, **kw).shape)

    def loss(x_, w_, b_):
        return float(np.vdot(conv_module.conv2d(x_, w_, b_, **kw), g))

    gx, gw, gb = conv_module.conv2d_backward(g, x, w, **kw)
    h = 1e-6
    for arr, grad, at in ((x, gx, 0), (w, gw, 1), (b, gb, 2)):
        for flat in rng.choice(arr.size, min(6, arr.size), replace=False):
            idx = np.unravel_index(flat, arr.shape)
            args_p = [x.copy(), w.copy(), b.copy()]
            args_m = [x.copy(), w.copy(), b.copy()]
            args_p[at][idx] += h
            args_m[at][idx] -= h
            fd = (loss(*args_p) - loss(*args_m)) / (2 * h)
            assert abs(fd - grad[idx]) < 1e-6 * max(1.0, abs(fd)), (at, idx, fd, grad[idx])


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize(
    "xs, ws, kw",
    [
        ((2, 6, 19, 17), (8, 3, 3, 3), {"stride": 2, "padding": 1, "groups": 2}),
        ((1, 4, 12, 13), (4, 1, 5, 5), {"padding": "same", "groups": 4, "dilation": 2}),
        ((2, 3, 6, 7, 5), (5, 3, 3, 3, 3), {"stride": (2, 1, 2), "padding": 1}),
    ],
)
def test_adjoint_identities(xp, rng, algorithm, dtype, xs, ws, kw):
    nd = len(xs) - 2
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    xd, wd = xp.asarray(x), xp.asarray(w)
    y = _forward(nd)(xd, wd, algorithm=algorithm, **kw)
    g = rng.standard_normal(y.shape).astype(dtype)
    gx, gw, gb = _backward(nd)(xp.asarray(g), xd, wd, algorithm=algorithm, **kw)
    assert gx.dtype == gw.dtype == gb.dtype == dtype
    y64 = reference_conv(x, w, **kw)
    lhs = np.vdot(y64, g.astype(np.float64))
    tol = 1e-4 if dtype == np.float32 else 1e-10
    scale = np.linalg.norm(y64) * np.linalg.norm(g)
    for a, ga in ((x, gx), (w, gw)):
        rhs = np.vdot(a.astype(np.float64), xp.asnumpy(ga) if xp is not np else ga)
        assert abs(lhs - rhs) <= tol * scale, (lhs, rhs)


def test_backward_checks_its_arguments(rng):
    x = rng.standard_normal((1, 2, 6, 6))
    w = rng.standard_normal((3, 2, 3, 3))
    with pytest.raises(
        ValueError,
        match=r"`grad_out` must have the forward output's shape "
        r"\(1, 3, 2, 2\) for `x` shape \(1, 2, 6, 6\); got \(1, 3, 4, 4\)",
    ):
        conv_module.conv2d_backward(np.ones((1, 3, 4, 4)), x, w, stride=2)
    with pytest.raises(TypeError, match="`grad_out` must have dtype float64; got float32"):
        conv_module.conv2d_backward(np.ones((1, 3, 4, 4), np.float32), x, w)
    with pytest.raises(ValueError, match="channel mismatch"):
        conv_module.conv2d_backward(np.ones((1, 3, 4, 4)), x, w[:, :1])
    gx, gw, gb = conv_module.conv2d_backward(np.ones((0, 3, 4, 4)), x[:0], w)
    assert gx.shape == (0, 2, 6, 6) and not gw.any() and gb.shape == (3,)
