"""Backward pass of convolution: gradients for the input, the weight and the bias.

* grad_x is a transposed convolution, run as a *forward* convolution (so on the GPU it goes
  through the same kernels as the forward pass): grad_out dilated by the stride (zeros in
  between), padded by ``dilation * (k - 1) - pad_before`` before and whatever makes the
  result as long as ``x`` after (negative amounts crop), correlated with the weight flipped
  in space and with input and output channels swapped within each group, stride 1.
* grad_weight is the correlation of ``x`` with grad_out: one GEMM per group of grad_out
  against the im2col matrix of ``x`` (array code: cuBLAS on the GPU, BLAS on the CPU; on
  NumPy at stride 1 along the first spatial axis, one GEMM per tap of that axis against the
  smaller matrix of ``_conv_xp.row_columns``).
* grad_bias sums grad_out over the batch and the spatial axes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from .._backend import is_numpy_namespace
from ._conv_args import ConvGeometry, make_geometry
from ._conv_xp import im2col, row_columns, rows_fit

__all__ = ["conv_backward"]

Forward = Callable[[Any, Any, Any, ConvGeometry], Any]


def grad_input(grad_out: Any, weight: Any, geom: ConvGeometry, forward: Forward, xp: Any) -> Any:
    """Gradient with respect to ``x``: the transposed convolution of ``grad_out``."""
    nd, g = geom.nd, geom.groups
    k, c = geom.out_channels, geom.in_channels
    dilated_size = tuple((o - 1) * s + 1 for o, s in zip(geom.out_size, geom.stride, strict=True))
    if any(s > 1 for s in geom.stride):
        dilated = xp.zeros((geom.batch, k, *dilated_size), dtype=grad_out.dtype)
        dilated[(slice(None), slice(None), *(slice(None, None, s) for s in geom.stride))] = grad_out
    else:
        dilated = grad_out
    w = weight.reshape(g, k // g, c // g, *geom.kernel).transpose(0, 2, 1, *range(3, 3 + nd))
    w = xp.flip(w, axis=tuple(range(3, 3 + nd)))
    w = xp.ascontiguousarray(w).reshape(c, k // g, *geom.kernel)
    padding = tuple(
        (d * (kk - 1) - lo, size - length + lo)
        for d, kk, (lo, _), size, length in zip(
            geom.dilation, geom.kernel, geom.padding, geom.in_size, dilated_size, strict=True
        )
    )
    transposed = make_geometry(
        geom.batch, k, c, g, dilated_size, geom.kernel, (1,) * nd, geom.dilation, padding,
        op=f"conv{nd}d_backward",
    )  # fmt: skip
    return forward(dilated, w, None, transposed)


def grad_weight(grad_out: Any, x: Any, geom: ConvGeometry, xp: Any) -> Any:
    """Gradient with respect to ``weight``: grad_out times the im2col matrix of ``x``."""
    if is_numpy_namespace(xp) and rows_fit(geom):
        return _grad_weight_rows(grad_out, x, geom)
    g, k = geom.groups, geom.out_channels
    cols = im2col(x, geom, xp)  # (G, R, N * P)
    gmat = grad_out.reshape(geom.batch, k, -1).transpose(1, 0, 2)
    gmat = xp.ascontiguousarray(gmat).reshape(g, k // g, -1)  # (G, Kg, N * P)
    # As (R x N*P) @ (N*P x Kg), transposed after: OpenBLAS threads the (Kg x N*P) @
    # (N*P x R) form badly (10x slower on 2 cores for Kg = 64, R = 576).
    gw = xp.matmul(cols, gmat.transpose(0, 2, 1)).transpose(0, 2, 1)
    return xp.ascontiguousarray(gw).reshape(k, geom.in_channels // g, *geom.kernel)


def _grad_weight_rows(grad_out: np.ndarray, x: np.ndarray, geom: ConvGeometry) -> np.ndarray:
    """grad_weight over the smaller im2col matrix of ``_conv_xp._conv_rows``.

    Its columns run over every padded row ``r`` of the first axis. With grad_out laid out
    the same way, zero in the rows that are no output (``o >= out_size[0]``), tap ``i`` of
    the first axis is one GEMM with the columns shifted by ``i * d0`` rows: the shift never
    pairs a non-zero gradient with a row of the next image.
    """
    g = geom.groups
    n, k = geom.batch, geom.out_channels
    kg, k0, d0, o0 = k // g, geom.kernel[0], geom.dilation[0], geom.out_size[0]
    cols, rows = row_columns(x, geom)  # (G, R', N * rows * per_row)
    per_row = math.prod(geom.out_size[1:])
    gpad = np.zeros((k, n, rows, per_row), dtype=grad_out.dtype)
    gpad[:, :, :o0] = grad_out.reshape(n, k, o0, per_row).transpose(1, 0, 2, 3)
    gpad = gpad.reshape(g, kg, -1)
    width = gpad.shape[-1] - (k0 - 1) * d0 * per_row
    gw = np.empty((g, k0, cols.shape[1], kg), dtype=grad_out.dtype)  # (G, k0, R', Kg)
    for i in range(k0):
        shift = i * d0 * per_row
        # (R' x width) @ (width x Kg): the orientation OpenBLAS threads well (see above).
        np.matmul(cols[:, :, shift : shift + width], gpad[:, :, :width].transpose(0, 2, 1),
                  out=gw[:, i])  # fmt: skip
    # (G, k0, Cg, *kernel_rest, Kg) -> (K, Cg, k0, *kernel_rest)
    gw = gw.reshape(g, k0, geom.in_channels // g, *geom.kernel[1:], kg)
    gw = np.moveaxis(np.moveaxis(gw, -1, 1), 2, 3)
    return np.ascontiguousarray(gw).reshape(k, geom.in_channels // g, *geom.kernel)


def conv_backward(
    grad_out: Any, x: Any, weight: Any, geom: ConvGeometry, forward: Forward, xp: Any
) -> tuple[Any, Any, Any]:
    """(grad_x, grad_weight, grad_bias) of a forward convolution with geometry ``geom``."""
    gx = grad_input(grad_out, weight, geom, forward, xp)
    gw = grad_weight(grad_out, x, geom, xp)
    gb = xp.sum(grad_out, axis=(0, *range(2, 2 + geom.nd)))
    return gx, gw, gb
