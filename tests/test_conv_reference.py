"""The convolution reference the conv tests compare with: SciPy, float64, nobody here wrote it.

``reference_conv`` pads with ``numpy.pad``, dilates the kernel by inserting zeros, runs
``scipy.signal.correlate(mode="valid")`` per (batch, output channel, input channel) and sums
over the group's input channels, then subsamples by the stride. It shares no code with
gpumath except the argument normalisation (padding pairs, output size), which the tests
below pin against hand-computed values.
"""

from __future__ import annotations

import numpy as np
import scipy.signal

from gpumath.ops._conv_args import conv_geometry


def reference_conv(x, w, b=None, *, stride=1, padding=0, dilation=1, groups=1):
    """float64 convolution of NumPy arrays through scipy.signal.correlate."""
    nd = x.ndim - 2
    g = conv_geometry(
        x, w, b, nd=nd, stride=stride, padding=padding, dilation=dilation, groups=groups,
        op="reference",
    )  # fmt: skip
    x = np.asarray(x, np.float64)
    w = np.asarray(w, np.float64)
    xpad = np.pad(x, [(0, 0), (0, 0), *g.padding])
    wd = np.zeros(w.shape[:2] + tuple(g.extent(a) for a in range(nd)))
    wd[(slice(None), slice(None), *(slice(None, None, d) for d in g.dilation))] = w
    keep = tuple(slice(0, (o - 1) * s + 1, s) for o, s in zip(g.out_size, g.stride, strict=True))
    kg, cg = g.out_channels // groups, g.in_channels // groups
    out = np.zeros(g.out_shape)
    for n in range(g.batch):
        for k in range(g.out_channels):
            first = k // kg * cg
            full = sum(
                scipy.signal.correlate(xpad[n, first + c], wd[k, c], mode="valid", method="direct")
                for c in range(cg)
            )
            out[n, k] = full[keep] + (0.0 if b is None else float(b[k]))
    return out


def _naive_conv2d(x, w, stride, pad, dilation):
    """The textbook 6-loop definition (one group, symmetric padding), for tiny inputs."""
    n_, c_, h, wd = x.shape
    k_, _, kh, kw = w.shape
    xp = np.pad(x, [(0, 0), (0, 0), (pad, pad), (pad, pad)])
    oh = (h + 2 * pad - dilation * (kh - 1) - 1) // stride + 1
    ow = (wd + 2 * pad - dilation * (kw - 1) - 1) // stride + 1
    out = np.zeros((n_, k_, oh, ow))
    for n in range(n_):
        for k in range(k_):
            for i in range(oh):
                for j in range(ow):
                    for c in range(c_):
                        for a in range(kh):
                            for bb in range(kw):
                                out[n, k, i, j] += (
                                    w[k, c, a, bb]
                                    * xp[
                                        n, c, i * stride + a * dilation, j * stride + bb * dilation
                                    ]
                                )
    return out


def test_reference_matches_the_textbook_loops(rng):
    x = rng.standard_normal((2, 3, 7, 6))
    w = rng.standard_normal((4, 3, 3, 2))
    for stride, pad, dilation in [(1, 0, 1), (2, 1, 1), (1, 2, 2), (3, 1, 2)]:
        expect = _naive_conv2d(x, w, stride, pad, dilation)
        got = reference_conv(x, w, stride=stride, padding=pad, dilation=dilation)
        np.testing.assert_allclose(got, expect, rtol=1e-12, atol=1e-12)


def test_geometry_output_sizes_and_padding_pairs():
    x = np.zeros((1, 2, 10, 9))
    w = np.zeros((3, 2, 4, 3))
    g = conv_geometry(x, w, None, nd=2, stride=(3, 2), padding=((1, 2), 0), dilation=(1, 2),
                      groups=1, op="t")  # fmt: skip
    assert g.padding == ((1, 2), (0, 0))
    assert g.out_size == ((10 + 3 - 4) // 3 + 1, (9 - 5) // 2 + 1) == (4, 3)
    same = conv_geometry(x, w, None, nd=2, stride=1, padding="same", dilation=1, groups=1,
                         op="t")  # fmt: skip
    assert same.padding == ((1, 2), (1, 1))  # torch: the odd element of an even total after
    assert same.out_size == (10, 9)
