"""Convolution: our algorithms against cuDNN (through PyTorch) or CuPy/NumPy/SciPy baselines.

GPU: the layer shapes of issue 5, float32. The vendor is cuDNN through PyTorch when torch
imports (TF32 off, ``cudnn.benchmark`` on so it picks its fastest algorithm; data shared
with DLPack, no copies), else im2col + ``cupy.matmul`` (cuBLAS). Single-channel images are
compared with ``cupyx.scipy.ndimage.correlate``. Each row is one of our algorithms; "auto"
rows show what the current crossover guesses in gpumath/ops/conv.py pick, the named rows
give the measurements that should replace those guesses. The two 3x3 layers also get a
"winograd vs implicit_gemm" row, quick mode included: our Winograd against our implicit-GEMM
kernel in the vendor column, the ratio issue 5 asks to be >= 1.5.

CPU: N8 C64 56x56 K64 3x3 forward and backward against PyTorch's CPU convolution when
torch imports (as many threads as the process may use), else the forward against
``numpy.einsum`` over a sliding-window view (no im2col copy); and a single-channel image
with a 31 x 31 kernel against ``scipy.signal.correlate(method="fft")``. CPU pairs are timed
interleaved, call by call.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from gpumath.ops._conv_args import conv_geometry
from gpumath.ops._conv_xp import conv_im2col
from gpumath.ops.conv import conv2d, conv2d_backward, conv3d

from .harness import Context, Row, import_torch, max_rel_err, paired_time_it, time_it

# (label, x shape, weight shape, stride, padding, algorithms in full mode, in quick mode)
_LAYERS = [
    ("N32 C64 56x56 K64 3x3", (32, 64, 56, 56), (64, 64, 3, 3), 1, 1,
     ("auto", "implicit_gemm", "winograd", "fft", "direct"), ("auto", "winograd", "direct")),
    ("N32 C256 14x14 K256 3x3", (32, 256, 14, 14), (256, 256, 3, 3), 1, 1,
     ("auto", "winograd", "fft"), ()),
    ("N32 C3 224x224 K64 7x7 s2", (32, 3, 224, 224), (64, 3, 7, 7), 2, 3,
     ("auto", "direct"), ()),
    ("N32 C128 28x28 K128 1x1", (32, 128, 28, 28), (128, 128, 1, 1), 1, 0, ("auto",), ()),
    ("conv3d N8 C32 32x64x64 K32 3^3", (8, 32, 32, 64, 64), (32, 32, 3, 3, 3), 1, 1,
     ("auto", "direct"), ()),
    ("conv3d N4 C64 16x56x56 K64 3^3", (4, 64, 16, 56, 56), (64, 64, 3, 3, 3), 1, 1,
     ("auto",), ()),
]  # fmt: skip
# Issue 5 asks Winograd (kernels/winograd.cu + cuBLAS) to run >= 1.5x our implicit-GEMM
# kernel on these 3x3 layers: one row each, quick mode included, with our implicit GEMM in
# the vendor column, so the row's speedup is that ratio.
_WINOGRAD_VS_IGEMM = ("N32 C64 56x56 K64 3x3", "N32 C256 14x14 K256 3x3")
# Single-channel images against cupyx.scipy.ndimage.correlate ("same" output).
_IMAGES = [
    ("N1 C1 4096^2 k3", 4096, 3, ("auto", "implicit_gemm"), ()),
    ("N1 C1 4096^2 k31", 4096, 31, ("auto", "fft", "direct"), ("fft", "direct")),
]


def _flops(geom: Any) -> float:
    group_in = geom.in_channels // geom.groups
    return (
        2.0
        * geom.batch
        * geom.out_channels
        * math.prod(geom.out_size)
        * group_in
        * math.prod(geom.kernel)
    )


def _row(ctx, label, algorithm, geom, ours_s, vendor_s, vendor, ours_out, vendor_out) -> Row:
    return Row(
        op="conv3d" if geom.nd == 3 else "conv2d",
        case=f"{label} float32 {algorithm}",
        ours_ms=ours_s * 1e3,
        vendor_ms=vendor_s * 1e3,
        vendor=vendor,
        rate=_flops(geom) / ours_s / 1e12,
        unit="TFLOP/s",
        ceiling=ctx.ceilings.matmul_TFLOPs,
        max_rel_err=max_rel_err(ours_out, vendor_out),
    )


def _winograd_ratio_row(ctx: Context, label: str, x: Any, w: Any, padding: int, geom) -> Row:
    """conv2d with algorithm="winograd" against "implicit_gemm", both ours, same inputs."""

    def winograd():
        return conv2d(x, w, padding=padding, algorithm="winograd")

    def implicit_gemm():
        return conv2d(x, w, padding=padding, algorithm="implicit_gemm")

    ours_s, igemm_s = paired_time_it(ctx, winograd, implicit_gemm)
    return _row(ctx, label, "winograd vs implicit_gemm", geom, ours_s, igemm_s,
                "our implicit_gemm kernel", winograd(), implicit_gemm())  # fmt: skip


def _gpu_layers(ctx: Context) -> list[Row]:
    import cupy

    torch = import_torch("bench_conv")
    if torch is not None:
        torch.backends.cudnn.benchmark = True  # cuDNN's own algorithm search, as in training
    rows = []
    for label, xs, ws, stride, padding, full, quick in _LAYERS:
        algorithms = quick if ctx.quick else full
        if not algorithms and label not in _WINOGRAD_VS_IGEMM:
            continue
        x, w = ctx.random(xs), ctx.random(ws)
        fn = conv2d if len(xs) == 4 else conv3d
        geom = conv_geometry(x, w, None, nd=len(xs) - 2, stride=stride, padding=padding,
                             dilation=1, groups=1, op=label)  # fmt: skip
        if label in _WINOGRAD_VS_IGEMM:
            rows.append(_winograd_ratio_row(ctx, label, x, w, padding, geom))
        if not algorithms:
            continue
        if torch is not None:
            tfn = torch.nn.functional.conv2d if len(xs) == 4 else torch.nn.functional.conv3d
            tx, tw = torch.from_dlpack(x), torch.from_dlpack(w)
            vendor_name = "cuDNN (torch, TF32 off)"

            def vendor(tfn=tfn, tx=tx, tw=tw, stride=stride, padding=padding):
                return tfn(tx, tw, stride=stride, padding=padding)

            vendor_out = cupy.from_dlpack(vendor())
        else:
            vendor_name = "im2col + cupy.matmul"

            def vendor(x=x, w=w, geom=geom):
                return conv_im2col(x, w, None, geom, cupy)

            vendor_out = vendor()
        vendor_s = time_it(ctx, vendor)
        for algorithm in algorithms:

            def ours(x=x, w=w, fn=fn, stride=stride, padding=padding, algorithm=algorithm):
                return fn(x, w, stride=stride, padding=padding, algorithm=algorithm)

            ours_s = time_it(ctx, ours)
            rows.append(
                _row(ctx, label, algorithm, geom, ours_s, vendor_s, vendor_name, ours(), vendor_out)
            )
        del x, w, vendor_out
    return rows


def _gpu_images(ctx: Context) -> list[Row]:
    from cupyx.scipy import ndimage

    rows = []
    for label, size, k, full, quick in _IMAGES:
        algorithms = quick if ctx.quick else full
        if not algorithms:
            continue
        x, w = ctx.random((1, 1, size, size)), ctx.random((1, 1, k, k))
        geom = conv_geometry(x, w, None, nd=2, stride=1, padding="same", dilation=1, groups=1,
                             op=label)  # fmt: skip

        def vendor(x=x, w=w):
            return ndimage.correlate(x[0, 0], w[0, 0], mode="constant")

        vendor_s = time_it(ctx, vendor)
        vendor_out = vendor()[None, None]
        for algorithm in algorithms:

            def ours(x=x, w=w, algorithm=algorithm):
                return conv2d(x, w, padding="same", algorithm=algorithm)

            ours_s = time_it(ctx, ours)
            rows.append(
                _row(ctx, label, algorithm, geom, ours_s, vendor_s,
                     "cupyx.scipy.ndimage.correlate", ours(), vendor_out)
            )  # fmt: skip
    return rows


def _torch_cpu() -> Any:
    """PyTorch for the CPU rows, with as many threads as this process may use (OpenBLAS's
    default too, so both sides get the same cores), or None."""
    torch = import_torch("bench_conv")
    if torch is not None:
        torch.set_num_threads(len(os.sched_getaffinity(0)))
    return torch


def _cpu(ctx: Context) -> list[Row]:
    torch = _torch_cpu()
    repeat = 5 if ctx.quick else 15
    label = "N8 C64 56x56 K64 3x3"
    x, w = ctx.random((8, 64, 56, 56)), ctx.random((64, 64, 3, 3))
    geom = conv_geometry(x, w, None, nd=2, stride=1, padding=1, dilation=1, groups=1, op="cpu")
    if torch is not None:
        tx, tw = torch.from_numpy(x), torch.from_numpy(w)
        vendor_name = f"torch CPU conv2d ({torch.get_num_threads()} threads)"

        def vendor():
            return torch.nn.functional.conv2d(tx, tw, padding=1).numpy()
    else:
        vendor_name = "numpy.einsum over sliding_window_view"
        xpad = np.pad(x, [(0, 0), (0, 0), (1, 1), (1, 1)])

        def vendor():
            view = np.lib.stride_tricks.sliding_window_view(xpad, (3, 3), axis=(2, 3))
            return np.einsum("nchwij,kcij->nkhw", view, w, optimize=True)

    def ours():
        return conv2d(x, w, padding=1)

    ours_s, vendor_s = paired_time_it(ctx, ours, vendor, repeat=repeat)
    rows = [_row(ctx, label, "auto", geom, ours_s, vendor_s, vendor_name, ours(), vendor())]
    if torch is not None:
        rows.append(_cpu_backward_row(ctx, torch, label, x, w, geom, repeat))
    rows.append(_cpu_fft_row(ctx))
    return rows


def _cpu_backward_row(ctx, torch, label, x, w, geom, repeat) -> Row:
    """conv2d_backward (grad_x, grad_weight, grad_bias) against aten's convolution_backward
    (what torch's autograd runs for conv2d), on the same random grad_out."""
    g = ctx.random(geom.out_shape)
    tg, tx, tw = torch.from_numpy(g), torch.from_numpy(x), torch.from_numpy(w)

    def vendor():
        return torch.ops.aten.convolution_backward(
            tg, tx, tw, [w.shape[0]], [1, 1], [1, 1], [1, 1], False, [0, 0], 1,
            [True, True, True],
        )  # fmt: skip

    def ours():
        return conv2d_backward(g, x, w, stride=1, padding=1, dilation=1, groups=1)

    ours_s, vendor_s = paired_time_it(ctx, ours, vendor, repeat=repeat)
    errs = [max_rel_err(a, b.numpy()) for a, b in zip(ours(), vendor(), strict=True)]
    return Row(
        op="conv2d",
        case=f"{label} float32 auto backward (dx, dw, db)",
        ours_ms=ours_s * 1e3,
        vendor_ms=vendor_s * 1e3,
        vendor=f"torch CPU convolution_backward ({torch.get_num_threads()} threads)",
        rate=2 * _flops(geom) / ours_s / 1e12,  # grad_x and grad_weight: a forward's each
        unit="TFLOP/s",
        ceiling=ctx.ceilings.matmul_TFLOPs,
        max_rel_err=max(errs),
    )


def _cpu_fft_row(ctx: Context) -> Row:
    import scipy.signal

    size = 512 if ctx.quick else 1024
    img, k31 = ctx.random((1, 1, size, size)), ctx.random((1, 1, 31, 31))
    geom = conv_geometry(img, k31, None, nd=2, stride=1, padding="same", dilation=1, groups=1,
                         op="cpu")  # fmt: skip

    def scipy_fft():
        return scipy.signal.correlate(img[0, 0], k31[0, 0], mode="same", method="fft")

    def ours():
        return conv2d(img, k31, padding="same")

    ours_s, vendor_s = paired_time_it(ctx, ours, scipy_fft, repeat=3 if ctx.quick else 10)
    return _row(ctx, f"N1 C1 {size}^2 k31", "auto", geom, ours_s, vendor_s,
                "scipy.signal.correlate fft", ours(), scipy_fft()[None, None])  # fmt: skip


def run(ctx: Context) -> list[Row]:
    """Time conv2d/conv3d (float32) against the vendor on the issue's shapes."""
    if not ctx.on_gpu:
        return _cpu(ctx)
    return _gpu_layers(ctx) + _gpu_images(ctx)
