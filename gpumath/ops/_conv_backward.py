"""Backward pass of convolution: gradients for the input, the weight and the bias.

* grad_x is a transposed convolution, run as a *forward* convolution (so on the GPU it goes
  through the same kernels as the forward pass): grad_out dilated by the stride (zeros in
  between), padded by ``dilation * (k - 1) - pad_before`` before and whatever makes the
  result as long as ``x`` after (negative amounts crop), correlated with the weight flipped
  in space and with input and output channels swapped within each group, stride 1.
* grad_weight is the correlation of ``x`` with grad_out: one GEMM per group of grad_out
  against the im2col matrix of ``x`` (array code: cuBLAS on the GPU, BLAS on the CPU).
* grad_bias sums grad_out over the batch and the spatial axes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._conv_args import ConvGeometry, make_geometry
from ._conv_xp import im2col

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
    g, k = geom.groups, geom.out_channels
    cols = im2col(x, geom, xp)  # (G, R, N * P)
    gmat = grad_out.reshape(geom.batch, k, -1).transpose(1, 0, 2)
    gmat = xp.ascontiguousarray(gmat).reshape(g, k // g, -1)  # (G, Kg, N * P)
    gw = xp.matmul(gmat, cols.transpose(0, 2, 1))
    return gw.reshape(k, geom.in_channels // g, *geom.kernel)


def conv_backward(
    grad_out: Any, x: Any, weight: Any, geom: ConvGeometry, forward: Forward, xp: Any
) -> tuple[Any, Any, Any]:
    """(grad_x, grad_weight, grad_bias) of a forward convolution with geometry ``geom``."""
    gx = grad_input(grad_out, weight, geom, forward, xp)
    gw = grad_weight(grad_out, x, geom, xp)
    gb = xp.sum(grad_out, axis=(0, *range(2, 2 + geom.nd)))
    return gx, gw, gb
