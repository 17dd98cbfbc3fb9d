"""gpumath conv2d / conv3d forward against SciPy float64, on every backend and algorithm."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gpumath._backend import to_numpy as gm_to_numpy
from gpumath.ops import _conv_xp
from gpumath.ops import conv as conv_module
from gpumath.ops._conv_args import conv_geometry
from gpumath.ops._conv_cuda import unsupported_reason
from gpumath.ops._conv_xp import _windows, pad_spatial, strided_windows
from gpumath.testing import assert_close

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_conv_reference import reference_conv  # noqa: E402

conv2d, conv3d = conv_module.conv2d, conv_module.conv3d
# Winograd runs only 3x3 kernels at stride 1; it has its own tests below.
ALGORITHMS = [a for a in conv_module.ALGORITHMS if a != "winograd"]
F = np.float32
RTOL = {np.float32: 1e-4, np.float64: 1e-10}

# (x shape, weight shape, keyword arguments): every feature, odd and ragged sizes (not
# multiples of the 16 x 16 direct tile or the 64-wide GEMM tiles), batch 1, 1x1 kernels.
CASES_2D = [
    ((1, 1, 1, 1), (1, 1, 1, 1), {}),
    ((1, 3, 17, 19), (5, 3, 3, 3), {"padding": 1}),
    ((2, 4, 9, 18), (6, 2, 3, 2), {"stride": (2, 1), "padding": ((1, 2), (0, 1)),
                                   "dilation": (1, 2), "groups": 2}),
    ((1, 2, 23, 20), (70, 2, 3, 3), {"stride": 2, "dilation": 2, "padding": 2}),
    ((2, 6, 10, 7), (6, 1, 3, 3), {"padding": "same", "groups": 6}),  # depthwise
    ((1, 5, 6, 9), (4, 5, 2, 4), {"padding": "same"}),  # even kernels: asymmetric "same"
    ((3, 20, 5, 6), (9, 20, 1, 1), {}),  # 1x1
    ((1, 3, 16, 16), (8, 3, 7, 7), {"stride": 2, "padding": 3}),
    ((1, 2, 24, 21), (3, 2, 9, 8), {"padding": "valid"}),  # 72 taps: auto picks FFT
    ((2, 8, 5, 5), (4, 4, 5, 5), {"groups": 2, "padding": (2, 1)}),
]  # fmt: skip
CASES_3D = [
    ((1, 1, 1, 1, 1), (1, 1, 1, 1, 1), {}),
    ((1, 2, 4, 5, 6), (3, 2, 2, 3, 1), {"stride": (1, 2, 1), "padding": 1,
                                        "dilation": (2, 1, 1)}),
    ((2, 4, 5, 6, 7), (4, 2, 3, 3, 3), {"groups": 2, "padding": ((1, 0), (0, 2), 1)}),
    ((1, 3, 6, 5, 4), (2, 3, 1, 1, 1), {"stride": 2}),
    ((1, 2, 8, 8, 8), (2, 2, 4, 4, 4), {"padding": "same"}),  # 64 taps: auto picks FFT
]  # fmt: skip


def _data(rng, xs, ws, dtype, bias=True):
    x = rng.standard_normal(xs).astype(dtype)
    w = rng.standard_normal(ws).astype(dtype)
    b = rng.standard_normal(ws[0]).astype(dtype) if bias else None
    return x, w, b


def _to(xp, *arrays):
    return [None if a is None else xp.asarray(a) for a in arrays]


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES_2D, ids=range(len(CASES_2D)))
def test_conv2d_matches_scipy(xp, rng, algorithm, dtype, case):
    xs, ws, kw = case
    x, w, b = _data(rng, xs, ws, dtype, bias=xs[1] % 2 == 0)
    expect = reference_conv(x, w, b, **kw)
    xd, wd, bd = _to(xp, x, w, b)
    out = conv2d(xd, wd, bd, algorithm=algorithm, **kw)
    assert_close(out, expect, rtol=RTOL[dtype], like=xd, dtype=dtype)


@pytest.mark.parametrize("algorithm", ALGORITHMS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", CASES_3D, ids=range(len(CASES_3D)))
def test_conv3d_matches_scipy(xp, rng, algorithm, dtype, case):
    xs, ws, kw = case
    x, w, b = _data(rng, xs, ws, dtype)
    expect = reference_conv(x, w, b, **kw)
    xd, wd, bd = _to(xp, x, w, b)
    out = conv3d(xd, wd, bd, algorithm=algorithm, **kw)
    assert_close(out, expect, rtol=RTOL[dtype], like=xd, dtype=dtype)


@settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    nd=st.sampled_from([2, 3]),
    batch=st.integers(1, 2),
    groups=st.integers(1, 3),
    cg=st.integers(1, 2),
    kg=st.integers(1, 3),
    sizes=st.lists(st.integers(1, 7), min_size=3, max_size=3),
    kernel=st.lists(st.integers(1, 3), min_size=3, max_size=3),
    stride=st.lists(st.integers(1, 3), min_size=3, max_size=3),
    dilation=st.lists(st.integers(1, 2), min_size=3, max_size=3),
    pads=st.lists(st.tuples(st.integers(0, 2), st.integers(0, 2)), min_size=3, max_size=3),
    algorithm=st.sampled_from(ALGORITHMS),
)
def test_random_geometries_match_scipy(
    xp, nd, batch, groups, cg, kg, sizes, kernel, stride, dilation, pads, algorithm
):
    rng = np.random.default_rng(sum(sizes) * 31 + sum(kernel))
    xs = (batch, groups * cg, *sizes[:nd])
    ws = (groups * kg, cg, *kernel[:nd])
    padded = [s + a + b for s, (a, b) in zip(sizes, pads, strict=True)]
    extent = [d * (k - 1) + 1 for k, d in zip(kernel, dilation, strict=True)]
    assume(all(e <= p for e, p in zip(extent[:nd], padded[:nd], strict=True)))
    kw = {"stride": tuple(stride[:nd]), "padding": tuple(pads[:nd]),
          "dilation": tuple(dilation[:nd]), "groups": groups}  # fmt: skip
    x, w, b = _data(rng, xs, ws, np.float64)
    expect = reference_conv(x, w, b, **kw)
    xd, wd, bd = _to(xp, x, w, b)
    out = (conv2d if nd == 2 else conv3d)(xd, wd, bd, algorithm=algorithm, **kw)
    assert_close(out, expect, rtol=1e-10, like=xd, dtype=np.float64)


def test_non_contiguous_inputs_and_empty_batch(xp, rng):
    x, w, _ = _data(rng, (2, 6, 11, 13), (4, 3, 3, 3), np.float32, bias=False)
    xd, wd = _to(xp, x, w)
    view = xd[:, ::2, :, ::-1]  # strided and reversed
    expect = reference_conv(x[:, ::2, :, ::-1], w)
    for algorithm in ALGORITHMS:
        assert_close(conv2d(view, wd, algorithm=algorithm), expect, rtol=1e-4, like=xd, dtype=F)
    empty = conv2d(view[:0], wd, padding=1)
    assert empty.shape == (0, 4, 11, 13) and empty.dtype == np.float32


@pytest.mark.parametrize("algorithm", ["direct", "implicit_gemm"])
def test_nan_reaches_exactly_the_windows_that_hold_it(xp, rng, algorithm):
    x, w, _ = _data(rng, (1, 2, 9, 8), (3, 2, 3, 3), np.float64, bias=False)
    x[0, 1, 4, 0] = np.nan
    expect = np.zeros((1, 3, 9, 8), bool)
    expect[:, :, 3:6, 0:2] = True  # padding 1: outputs (3..5, 0..1) read input (4, 0)
    out = conv2d(xp.asarray(x), xp.asarray(w), padding=1, algorithm=algorithm)
    np.testing.assert_array_equal(np.isnan(gm_to_numpy(out)), expect)


def test_large_kernel_fft_matches(xp, rng):
    # One channel, a 31 x 31 kernel: the FFT case of the benchmarks, scaled down.
    x, w, _ = _data(rng, (1, 1, 64, 70), (1, 1, 31, 31), np.float32, bias=False)
    expect = reference_conv(x, w, padding=15)
    xd, wd = _to(xp, x, w)
    for algorithm in ("fft", "auto", "implicit_gemm"):
        out = conv2d(xd, wd, padding=15, algorithm=algorithm)
        assert_close(out, expect, rtol=1e-4, like=xd, dtype=np.float32)


# (x shape, weight shape, padding, groups): F(2x2, 3x3) for outputs below 4, F(4x4, 3x3)
# otherwise, ragged tile counts, asymmetric padding, groups, batch 1.
WINOGRAD_CASES = [
    ((1, 1, 3, 3), (1, 1, 3, 3), 0, 1),
    ((1, 3, 5, 4), (2, 3, 3, 3), 1, 1),
    ((2, 4, 13, 10), (6, 2, 3, 3), ((0, 2), (1, 1)), 2),
    ((1, 6, 9, 17), (6, 1, 3, 3), "same", 6),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", WINOGRAD_CASES, ids=range(len(WINOGRAD_CASES)))
def test_winograd_matches_scipy(xp, rng, dtype, case):
    xs, ws, padding, groups = case
    x, w, b = _data(rng, xs, ws, dtype)
    expect = reference_conv(x, w, b, padding=padding, groups=groups)
    xd, wd, bd = _to(xp, x, w, b)
    out = conv2d(xd, wd, bd, padding=padding, groups=groups, algorithm="winograd")
    assert_close(out, expect, rtol=RTOL[dtype], like=xd, dtype=dtype)


def test_winograd_refuses_what_it_cannot_run():
    x, w = np.ones((1, 2, 8, 8), F), np.ones((3, 2, 3, 3), F)
    for kw in ({"stride": 2}, {"dilation": 2}):
        with pytest.raises(ValueError, match=r'algorithm="winograd" cannot run.*stride 1'):
            conv2d(x, w, algorithm="winograd", **kw)
    with pytest.raises(ValueError, match=r"kernel \(5, 5\)"):
        conv2d(x, np.ones((3, 2, 5, 5), F), algorithm="winograd")
    with pytest.raises(ValueError, match="2-D 3x3"):
        conv3d(np.ones((1, 2, 4, 4, 4), F), np.ones((3, 2, 3, 3, 3), F), algorithm="winograd")


@pytest.mark.parametrize("case", CASES_2D[1:4] + CASES_3D[1:3], ids=range(5))
def test_cupy_window_view_equals_sliding_window_view(rng, case):
    # The CuPy path builds its im2col view with as_strided; check the same strides on NumPy.
    xs, ws, kw = case
    x = rng.standard_normal(xs)
    geom = conv_geometry(x, np.ones(ws), None, nd=len(xs) - 2, op="t", **{
        "stride": 1, "padding": 0, "dilation": 1, "groups": 1, **kw})  # fmt: skip
    xpad = pad_spatial(x, geom.padding, np)
    expect = _windows(xpad, geom, np)
    got = strided_windows(xpad, geom, np.lib.stride_tricks.as_strided)
    np.testing.assert_array_equal(got, expect)


# Shapes where the NumPy path leaves the first spatial axis out of the im2col matrix
# (_conv_rows): stride 1 along it, and tall enough that few padded rows are computed.
ROWS_CASES = [
    ((2, 6, 31, 9), (4, 3, 3, 2), {"padding": (2, 1), "groups": 2, "dilation": (2, 1)}),
    ((2, 4, 30, 10), (4, 4, 5, 3), {"stride": (1, 2), "padding": 2}),
    ((2, 4, 17, 7), (4, 1, 3, 3), {"padding": 1, "groups": 4}),  # depthwise
    ((1, 5, 24, 9), (3, 5, 4, 2), {"padding": "same"}),  # even kernel: asymmetric "same"
    ((1, 3, 20, 7, 8), (5, 3, 3, 3, 3), {"padding": 1}),
    ((1, 2, 20, 12, 12), (2, 2, 2, 3, 1), {"stride": (1, 2, 3), "dilation": (3, 1, 2)}),
]  # fmt: skip


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", ROWS_CASES, ids=range(len(ROWS_CASES)))
def test_first_axis_rows_path_matches_scipy(rng, dtype, case):
    xs, ws, kw = case
    nd = len(xs) - 2
    x, w, b = _data(rng, xs, ws, dtype)
    geom = conv_geometry(x, w, b, nd=nd, op="t", **{
        "stride": 1, "padding": 0, "dilation": 1, "groups": 1, **kw})  # fmt: skip
    assert _conv_xp.rows_fit(geom)
    forward, backward = (conv2d, conv_module.conv2d_backward) if nd == 2 else (
        conv3d, conv_module.conv3d_backward)  # fmt: skip
    out = forward(x, w, b, algorithm="implicit_gemm", **kw)
    assert out.dtype == dtype and out.flags.c_contiguous
    assert_close(out, reference_conv(x, w, b, **kw), rtol=RTOL[dtype], dtype=dtype)
    # The backward pass runs the same path (grad_x is a forward convolution): adjoints.
    g = rng.standard_normal(out.shape)
    gx, gw, _ = backward(g.astype(dtype), x, w, algorithm="implicit_gemm", **kw)
    y64 = reference_conv(x, w, **kw)
    scale = np.linalg.norm(y64) * np.linalg.norm(g)
    for a, ga in ((x, gx), (w, gw)):
        assert abs(np.vdot(y64, g) - np.vdot(a.astype(np.float64), ga)) <= RTOL[dtype] * scale


def test_auto_rule():
    def geom(ws, stride=1, groups=1):
        x = np.zeros((1, ws[1] * groups, 40, 40))
        return conv_geometry(x, np.zeros(ws), None, nd=2, stride=stride, padding=0,
                             dilation=1, groups=groups, op="t")  # fmt: skip

    choose = conv_module._choose
    assert choose(geom((8, 8, 7, 7)), "auto", on_gpu=True) == "fft"
    assert choose(geom((8, 8, 7, 7), stride=2), "auto", on_gpu=True) == "implicit_gemm"
    assert choose(geom((8, 1, 3, 3), groups=8), "auto", on_gpu=True) == "direct"
    assert choose(geom((8, 1, 3, 3), groups=8), "auto", on_gpu=False) == "implicit_gemm"
    assert choose(geom((64, 64, 3, 3)), "auto", on_gpu=True) == "implicit_gemm"
    assert choose(geom((64, 64, 3, 3)), "fft", on_gpu=True) == "fft"


def test_direct_kernel_limits_are_reported():
    x = np.zeros((1, 1, 400, 400))
    big = conv_geometry(x, np.zeros((1, 1, 31, 31)), None, nd=2, stride=4, padding=0,
                        dilation=4, groups=1, op="t")  # fmt: skip
    reason = unsupported_reason(big, "direct", 4)
    assert reason is not None and "shared memory" in reason
    assert unsupported_reason(big, "implicit_gemm", 4) is None


def test_direct_by_name_says_why_it_cannot_run(gpu, rng):
    x = gpu.asarray(rng.standard_normal((1, 1, 400, 400)).astype(np.float32))
    w = gpu.asarray(rng.standard_normal((1, 1, 31, 31)).astype(np.float32))
    with pytest.raises(ValueError, match='algorithm="direct" cannot run.*shared memory'):
        conv2d(x, w, stride=4, dilation=4, algorithm="direct")
    out = conv2d(x, w, stride=4, dilation=4)  # auto takes another path
    # The NumPy path (checked against SciPy above) as reference: SciPy's direct correlation
    # with a 121 x 121 dilated kernel would take seconds.
    x64, w64 = gpu.asnumpy(x).astype(np.float64), gpu.asnumpy(w).astype(np.float64)
    expect = conv2d(x64, w64, stride=4, dilation=4)
    assert_close(out, expect, rtol=1e-4, like=x, dtype=np.float32)


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    "xs, ws, kw, error, match",
    [
        ((1, 3, 8, 8), (4, 2, 3, 3), {}, ValueError,
         r"channel mismatch: `x` shape \(1, 3, 8, 8\) has 3 channels but `weight` shape "
         r"\(4, 2, 3, 3\) expects 2"),
        ((1, 4, 8, 8), (6, 1, 3, 3), {"groups": 3}, ValueError,
         r"`groups`=3 must divide the input channels \(4"),
        ((1, 4, 8, 8), (5, 2, 3, 3), {"groups": 2}, ValueError,
         r"`groups`=2 must divide .* output channels \(5"),
        ((1, 2, 4, 4), (3, 2, 5, 5), {}, ValueError,
         r"kernel is larger than the padded input .* extent 5 > padded input 4 "
         r"\(`x` shape \(1, 2, 4, 4\), `weight` shape \(3, 2, 5, 5\)\)"),
        ((1, 2, 4, 4), (3, 2, 3, 3), {"dilation": 2}, ValueError, r"extent 5 > padded input 4"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"padding": "same", "stride": 2}, ValueError,
         r'padding="same" needs stride 1'),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"padding": "full"}, ValueError, r"`padding` must be"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"padding": (1, 2, 3)}, ValueError, r"`padding` must be"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"padding": -1}, ValueError, r"`padding` must be >= 0"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"stride": 0}, ValueError, r"`stride` must be >= 1"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"dilation": (1,)}, ValueError,
         r"`dilation` must be an int or a tuple of 2 ints"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"groups": 0}, ValueError, r"`groups` must be a positive"),
        ((2, 8, 8), (3, 2, 3, 3), {}, ValueError, r"`x` must be 4-D \(NCHW\); got shape"),
        ((1, 2, 0, 8), (3, 2, 1, 1), {}, ValueError, r"spatial sizes must be >= 1; got `x` "
         r"shape \(1, 2, 0, 8\)"),
        ((1, 2, 8, 8), (3, 2, 3), {}, ValueError, r"`weight` must be 4-D"),
        ((1, 2, 8, 8), (3, 2, 3, 3), {"algorithm": "winograd2"}, ValueError, r"`algorithm`"),
    ],
)  # fmt: skip
def test_bad_arguments_raise_clear_errors(xs, ws, kw, error, match):
    with pytest.raises(error, match=match):
        conv2d(np.ones(xs, F), np.ones(ws, F), **kw)


def test_bad_dtypes_and_bias():
    x, w = np.ones((1, 2, 5, 5), F), np.ones((3, 2, 3, 3), F)
    with pytest.raises(TypeError, match="`x` must have dtype float32 or float64; got int64"):
        conv2d(np.ones((1, 2, 5, 5), np.int64), w)
    with pytest.raises(TypeError, match="`weight` must have dtype float32 or float64; got float16"):
        conv2d(x, w.astype(np.float16))
    with pytest.raises(TypeError, match="same dtype; got float32 and float64"):
        conv2d(x, w.astype(np.float64))
    with pytest.raises(ValueError, match=r"`bias` must have shape \(3,\)"):
        conv2d(x, w, np.ones(2, F))
    with pytest.raises(TypeError, match="`bias` must have dtype float32; got float64"):
        conv2d(x, w, np.ones(3))
    with pytest.raises(TypeError, match="`x` must be a NumPy or CuPy array"):
        conv2d(x.tolist(), w)
    with pytest.raises(ValueError, match=r"`x` must be 5-D \(NCDHW\)"):
        conv3d(x, w)
