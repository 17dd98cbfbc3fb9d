"""Convolution with deep-learning semantics (like ``torch.nn.functional.conv2d/conv3d``).

``conv2d`` (NCHW) and ``conv3d`` (NCDHW) share one N-d implementation:

* CUDA (CuPy arrays): ``"direct"`` and ``"implicit_gemm"`` are our kernels
  (kernels/conv.cu), ``"fft"`` is cuFFT through ``cupy.fft``;
* CPU (NumPy arrays): ``"direct"`` and ``"implicit_gemm"`` both run im2col (a strided view,
  one copy) and one BLAS GEMM per group, at stride 1 along the first spatial axis with that
  axis left out of the copy (``_conv_xp._conv_rows``), ``"fft"`` runs ``numpy.fft``;
* ``"winograd"`` (2-D 3x3, stride 1, dilation 1): on CuPy arrays the transform kernels of
  kernels/winograd.cu (_conv_winograd_cuda.py) around one batched cuBLAS GEMM; on NumPy
  arrays the array code of _conv_winograd.py (transforms plus one batched BLAS GEMM).

The backward functions build on the same paths (``_conv_backward``).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import array_namespace, is_cupy_namespace
from .._nvtx import annotate
from ._conv_args import ConvGeometry, check_grad_out, conv_geometry
from ._conv_backward import conv_backward
from ._conv_winograd import conv_winograd, winograd_unsupported_reason
from ._conv_xp import conv_fft, conv_im2col

__all__ = ["ALGORITHMS", "conv2d", "conv2d_backward", "conv3d", "conv3d_backward"]

ALGORITHMS = ("auto", "direct", "implicit_gemm", "winograd", "fft")

# "auto" thresholds. Nothing has been measured on a GPU yet: these are first guesses from
# operation counts, and the crossovers must come from the H100 run of benchmarks/bench_conv.py.
# FFT costs O(L log L) per channel pair whatever the kernel, im2col/implicit GEMM O(L * k^d):
# FFT is guessed to win from a 7 x 7 kernel (49 taps) on, at stride 1. On the 2-core CPU of
# the CI machine (2026-11-26, N4 C32 56x56 K32, float32) the crossover lay between 5 x 5
# (im2col 108 ms, FFT 158 ms) and 7 x 7 (232 ms, 159 ms); the same rule serves both devices.
_FFT_MIN_TAPS = 49
# The direct kernel keeps 8 output channels per thread and no input-channel tiling: it is
# guessed to beat implicit GEMM (64 x 64 channel x pixel tiles) only when a group has few
# input and output channels, as in depthwise layers.
_DIRECT_MAX_GROUP_CHANNELS = 4
# "auto" never picks Winograd: its float32 error is larger (F(4x4, 3x3): up to ~1e-4) and its
# speed against implicit GEMM on 3x3 layers is unmeasured; bench_conv.py times both.


def _choose(geom: ConvGeometry, algorithm: str, on_gpu: bool) -> str:
    """The algorithm ``"auto"`` stands for on this geometry (see the thresholds above)."""
    if algorithm != "auto":
        return algorithm
    if all(s == 1 for s in geom.stride) and math.prod(geom.kernel) >= _FFT_MIN_TAPS:
        return "fft"
    group_in = geom.in_channels // geom.groups
    group_out = geom.out_channels // geom.groups
    if on_gpu and max(group_in, group_out) <= _DIRECT_MAX_GROUP_CHANNELS:
        return "direct"
    return "implicit_gemm"


def _forward(x: Any, weight: Any, bias: Any, geom: ConvGeometry, algorithm: str, xp: Any) -> Any:
    """Run ``algorithm`` on checked arguments; C-contiguous result of shape geom.out_shape."""
    if geom.batch == 0:
        return xp.zeros(geom.out_shape, dtype=x.dtype)
    on_gpu = is_cupy_namespace(xp)
    chosen = _choose(geom, algorithm, on_gpu)
    if chosen == "fft":
        return conv_fft(x, weight, bias, geom, xp)
    if chosen == "winograd":
        reason = winograd_unsupported_reason(geom)
        if reason is not None:
            raise ValueError(f'algorithm="winograd" cannot run this convolution: {reason}')
        return conv_winograd(x, weight, bias, geom, xp)
    if not on_gpu:
        return conv_im2col(x, weight, bias, geom, xp)
    from ._conv_cuda import conv_cuda, unsupported_reason

    itemsize = np.dtype(x.dtype).itemsize
    reason = unsupported_reason(geom, chosen, itemsize)
    if reason is None:
        return conv_cuda(x, weight, bias, geom, chosen)
    if algorithm == chosen:  # asked for by name: say why it cannot run
        raise ValueError(f'algorithm="{algorithm}" cannot run this convolution: {reason}')
    if chosen == "direct" and unsupported_reason(geom, "implicit_gemm", itemsize) is None:
        return conv_cuda(x, weight, bias, geom, "implicit_gemm")
    return conv_im2col(x, weight, bias, geom, xp)


def _check_algorithm(algorithm: Any) -> None:
    if algorithm not in ALGORITHMS:
        raise ValueError(f"`algorithm` must be one of {ALGORITHMS}; got {algorithm!r}")


def _conv(x, weight, bias, stride, padding, dilation, groups, algorithm, nd) -> Any:
    op = f"conv{nd}d"
    geom = conv_geometry(
        x, weight, bias, nd=nd, stride=stride, padding=padding, dilation=dilation,
        groups=groups, op=op,
    )  # fmt: skip
    _check_algorithm(algorithm)
    xp = array_namespace(x, weight, bias)
    return _forward(x, weight, bias, geom, algorithm, xp)


def _backward(grad_out, x, weight, stride, padding, dilation, groups, algorithm, nd) -> tuple:
    op = f"conv{nd}d_backward"
    geom = conv_geometry(
        x, weight, None, nd=nd, stride=stride, padding=padding, dilation=dilation,
        groups=groups, op=op,
    )  # fmt: skip
    check_grad_out(grad_out, x, geom, op)
    _check_algorithm(algorithm)
    xp = array_namespace(grad_out, x, weight)
    if geom.batch == 0:
        return xp.zeros_like(x), xp.zeros_like(weight), xp.zeros(weight.shape[0], dtype=x.dtype)

    def forward(a: Any, w: Any, b: Any, g: ConvGeometry) -> Any:
        return _forward(a, w, b, g, algorithm, xp)

    return conv_backward(grad_out, x, weight, geom, forward, xp)


@annotate("gpumath.conv2d")
def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    algorithm: str = "auto",
) -> Any:
    """2-D convolution (cross-correlation) of NCHW data, like ``torch.nn.functional.conv2d``.

    ``out[n, k, i, j] = bias[k] + sum_{c, a, b} weight[k, c, a, b] *
    x_pad[n, g * C/G + c, i * sh + a * dh, j * sw + b * dw]`` for ``k`` in group ``g``.

    Parameters
    ----------
    x : array, shape (N, C, H, W)
        float32 or float64, NumPy or CuPy.
    weight : array, shape (K, C / groups, KH, KW)
        Same dtype, library and device as ``x``.
    bias : array, shape (K,), optional
    stride, dilation : int or (int, int)
        Positive.
    padding : int, (int, int), ((int, int), (int, int)), "valid" or "same"
        Zeros added around the spatial axes: one amount for both sides of every axis, one per
        axis, or a (before, after) pair per axis (asymmetric). ``"valid"`` is 0; ``"same"``
        (stride 1 only) keeps the input size and, like torch, puts the odd element of an
        even total after.
    groups : int
        Divides C and K: each group of K/groups outputs sees C/groups inputs
        (``groups == C`` is depthwise).
    algorithm : {"auto", "direct", "implicit_gemm", "winograd", "fft"}
        On CuPy arrays: our tiled direct kernel, our implicit-GEMM kernel, or cuFFT. On NumPy
        arrays "direct" and "implicit_gemm" both run im2col + BLAS, "fft" runs numpy.fft.
        "winograd" (3x3 kernels, stride 1, dilation 1; F(4x4, 3x3), or F(2x2, 3x3) when an
        output side is below 4) runs on both, with float32 errors up to about 1e-4.
        "auto" picks by shape (FFT for kernels of 49+ taps at stride 1; on the GPU the
        direct kernel for <= 4 channels per group; implicit GEMM otherwise; never Winograd).

    Returns
    -------
    array, shape (N, K, OH, OW)
        ``OH = (H + pad_h - dh * (KH - 1) - 1) // sh + 1`` (likewise OW); dtype of ``x``.

    Raises
    ------
    ValueError
        Channel mismatch, ``groups`` not dividing the channels, a kernel larger than the
        padded input, ``"same"`` with a stride, bad hyper-parameters (messages name shapes),
        an algorithm asked for by name that cannot run the shape (the message says why).
    TypeError
        Non-float or mismatched dtypes, non-array inputs, NumPy mixed with CuPy.

    Notes
    -----
    NaN and Inf in ``x`` reach the outputs whose windows hold them, except with ``"fft"``
    (and ``"auto"`` where it picks FFT), where they spread over the whole image, and with
    ``"winograd"``, where they spread over the output tiles that read them. The CUDA
    kernels accumulate in the input dtype with FMA (no TF32).

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> gm.conv2d(x, np.ones((1, 1, 2, 2)), stride=2)
    array([[[[10., 18.],
             [42., 50.]]]])
    """
    return _conv(x, weight, bias, stride, padding, dilation, groups, algorithm, 2)


@annotate("gpumath.conv3d")
def conv3d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
    algorithm: str = "auto",
) -> Any:
    """3-D convolution (cross-correlation) of NCDHW data, like ``torch.nn.functional.conv3d``.

    Parameters are those of :func:`conv2d` with three spatial axes: ``x`` (N, C, D, H, W),
    ``weight`` (K, C / groups, KD, KH, KW), ``padding`` an int, 3 ints, 3 (before, after)
    pairs, ``"valid"`` or ``"same"``.

    Returns
    -------
    array, shape (N, K, OD, OH, OW)

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> gm.conv3d(np.ones((1, 2, 3, 3, 3)), np.ones((4, 2, 3, 3, 3)), padding=1).shape
    (1, 4, 3, 3, 3)
    """
    return _conv(x, weight, bias, stride, padding, dilation, groups, algorithm, 3)


@annotate("gpumath.conv2d_backward")
def conv2d_backward(
    grad_out: Any,
    x: Any,
    weight: Any,
    *,
    stride: int | tuple[int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
    algorithm: str = "auto",
) -> tuple[Any, Any, Any]:
    """Gradients of ``sum(conv2d(x, weight, bias, ...) * grad_out)``.

    Parameters
    ----------
    grad_out : array, shape (N, K, OH, OW)
        Gradient with respect to the forward output; dtype of ``x``.
    x, weight, stride, padding, dilation, groups
        As given to the forward :func:`conv2d`.
    algorithm : str
        The forward algorithm that computes ``grad_x`` (a transposed convolution run as a
        forward one; see :func:`conv2d`). ``grad_weight`` is always im2col + GEMM.

    Returns
    -------
    grad_x : array, shape of ``x``
    grad_weight : array, shape of ``weight``
    grad_bias : array, shape (K,)

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> gx, gw, gb = gm.conv2d_backward(np.ones((1, 1, 2, 2)), np.ones((1, 1, 3, 3)),
    ...                                 np.ones((1, 1, 2, 2)))
    >>> gx[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    >>> gb
    array([4.])
    """
    return _backward(grad_out, x, weight, stride, padding, dilation, groups, algorithm, 2)


@annotate("gpumath.conv3d_backward")
def conv3d_backward(
    grad_out: Any,
    x: Any,
    weight: Any,
    *,
    stride: int | tuple[int, int, int] = 1,
    padding: Any = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
    algorithm: str = "auto",
) -> tuple[Any, Any, Any]:
    """Gradients of ``sum(conv3d(x, weight, bias, ...) * grad_out)``; see :func:`conv2d_backward`.

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> g = np.ones((1, 1, 1, 1, 1))
    >>> [a.shape for a in gm.conv3d_backward(g, np.ones((1, 2, 2, 2, 2)), np.ones((1, 2, 2, 2, 2)))]
    [(1, 2, 2, 2, 2), (1, 2, 2, 2, 2), (1,)]
    """
    return _backward(grad_out, x, weight, stride, padding, dilation, groups, algorithm, 3)
