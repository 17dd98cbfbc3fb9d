"""Argument normalisation for convolution: shapes, stride/padding/dilation/groups, dtypes.

Everything here is pure Python on shapes; no array data is touched. The result is a
:class:`ConvGeometry` that every algorithm (CPU im2col, FFT, CUDA kernels, backward) reads.
Padding is stored as one ``(before, after)`` pair per spatial axis. Public calls accept only
non-negative padding; the backward pass builds geometries with negative padding (cropping),
which every algorithm also handles.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from .._validate import FLOAT_DTYPES, check_array, is_int

__all__ = ["ConvGeometry", "conv_geometry", "check_grad_out"]


@dataclass(frozen=True)
class ConvGeometry:
    """Shapes and hyper-parameters of one N-d convolution (``nd`` spatial axes)."""

    batch: int
    in_channels: int
    out_channels: int
    groups: int
    in_size: tuple[int, ...]
    kernel: tuple[int, ...]
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    padding: tuple[tuple[int, int], ...]
    out_size: tuple[int, ...]

    @property
    def nd(self) -> int:
        return len(self.in_size)

    @property
    def out_shape(self) -> tuple[int, ...]:
        return (self.batch, self.out_channels, *self.out_size)

    def extent(self, axis: int) -> int:
        """Span of the dilated kernel along spatial ``axis``."""
        return self.dilation[axis] * (self.kernel[axis] - 1) + 1


def _int_tuple(value: Any, nd: int, name: str, minimum: int) -> tuple[int, ...]:
    """An int or a length-``nd`` sequence of ints, each >= ``minimum``."""
    items = (value,) * nd if is_int(value) else value
    if not isinstance(items, tuple | list) or len(items) != nd or not all(map(is_int, items)):
        raise ValueError(f"`{name}` must be an int or a tuple of {nd} ints; got {value!r}")
    if any(int(v) < minimum for v in items):
        raise ValueError(f"`{name}` must be >= {minimum} in every axis; got {value!r}")
    return tuple(int(v) for v in items)


def _padding_pairs(
    padding: Any, nd: int, kernel: tuple[int, ...], stride: tuple[int, ...], dilation: tuple
) -> tuple[tuple[int, int], ...]:
    """Turn int / tuple / tuple of pairs / "valid" / "same" into one (before, after) per axis."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0),) * nd
        if padding == "same":
            if any(s != 1 for s in stride):
                raise ValueError(f'padding="same" needs stride 1 in every axis; got {stride}')
            # Like torch: the odd element of an even total goes after.
            totals = [d * (k - 1) for k, d in zip(kernel, dilation, strict=True)]
            return tuple((t // 2, t - t // 2) for t in totals)
        raise ValueError(f"`padding` must be an int, a tuple, 'valid' or 'same'; got {padding!r}")
    if is_int(padding):
        padding = (int(padding),) * nd
    message = (
        f"`padding` must be an int, a tuple of {nd} ints or of {nd} (before, after) pairs, "
        f"'valid' or 'same'; got {padding!r}"
    )
    if not isinstance(padding, tuple | list) or len(padding) != nd:
        raise ValueError(message)
    pairs = []
    for item in padding:
        if is_int(item):
            pairs.append((int(item), int(item)))
        elif isinstance(item, tuple | list) and len(item) == 2 and all(map(is_int, item)):
            pairs.append((int(item[0]), int(item[1])))
        else:
            raise ValueError(message)
    if any(p < 0 for pair in pairs for p in pair):
        raise ValueError(f"`padding` must be >= 0; got {padding!r}")
    return tuple(pairs)


def _check_float(a: Any, name: str) -> None:
    if np.dtype(a.dtype) not in FLOAT_DTYPES:
        raise TypeError(f"`{name}` must have dtype float32 or float64; got {a.dtype}")


def conv_geometry(
    x: Any,
    weight: Any,
    bias: Any,
    *,
    nd: int,
    stride: Any,
    padding: Any,
    dilation: Any,
    groups: Any,
    op: str,
) -> ConvGeometry:
    """Check the arguments of an ``nd``-dimensional convolution and return its geometry.

    Raises TypeError for non-arrays and non-float or mismatched dtypes, ValueError for bad
    shapes (naming them), bad hyper-parameters, and kernels larger than the padded input.
    """
    check_array(x, "x")
    check_array(weight, "weight")
    _check_float(x, "x")
    _check_float(weight, "weight")
    if x.dtype != weight.dtype:
        raise TypeError(
            f"{op}: `x` and `weight` must have the same dtype; got {x.dtype} and {weight.dtype}"
        )
    layout = "NCHW" if nd == 2 else "NCDHW"
    if x.ndim != nd + 2:
        raise ValueError(f"{op}: `x` must be {nd + 2}-D ({layout}); got shape {tuple(x.shape)}")
    if weight.ndim != nd + 2:
        raise ValueError(
            f"{op}: `weight` must be {nd + 2}-D (out_channels, in_channels/groups, "
            f"*kernel); got shape {tuple(weight.shape)}"
        )
    if not is_int(groups) or groups < 1:
        raise ValueError(f"`groups` must be a positive int; got {groups!r}")
    groups = int(groups)
    batch, channels, *in_size = (int(s) for s in x.shape)
    out_channels, group_channels, *kernel = (int(s) for s in weight.shape)
    if channels < 1 or out_channels < 1 or min(in_size) < 1 or min(kernel) < 1:
        raise ValueError(
            f"{op}: channels and spatial sizes must be >= 1; got `x` shape {tuple(x.shape)} "
            f"and `weight` shape {tuple(weight.shape)}"
        )
    if channels % groups or out_channels % groups:
        raise ValueError(
            f"{op}: `groups`={groups} must divide the input channels ({channels}, `x` shape "
            f"{tuple(x.shape)}) and the output channels ({out_channels}, `weight` shape "
            f"{tuple(weight.shape)})"
        )
    if group_channels * groups != channels:
        raise ValueError(
            f"{op}: channel mismatch: `x` shape {tuple(x.shape)} has {channels} channels but "
            f"`weight` shape {tuple(weight.shape)} expects {group_channels} x groups={groups} "
            f"= {group_channels * groups}"
        )
    if bias is not None:
        check_array(bias, "bias")
        if tuple(bias.shape) != (out_channels,):
            raise ValueError(
                f"{op}: `bias` must have shape ({out_channels},) for `weight` shape "
                f"{tuple(weight.shape)}; got {tuple(bias.shape)}"
            )
        if bias.dtype != x.dtype:
            raise TypeError(f"{op}: `bias` must have dtype {x.dtype}; got {bias.dtype}")
    stride_t = _int_tuple(stride, nd, "stride", 1)
    dilation_t = _int_tuple(dilation, nd, "dilation", 1)
    pads = _padding_pairs(padding, nd, tuple(kernel), stride_t, dilation_t)
    return make_geometry(
        batch, channels, out_channels, groups, tuple(in_size), tuple(kernel), stride_t,
        dilation_t, pads, op=op, shapes=(tuple(x.shape), tuple(weight.shape)),
    )  # fmt: skip


def make_geometry(
    batch: int,
    channels: int,
    out_channels: int,
    groups: int,
    in_size: tuple[int, ...],
    kernel: tuple[int, ...],
    stride: tuple[int, ...],
    dilation: tuple[int, ...],
    padding: tuple[tuple[int, int], ...],
    *,
    op: str,
    shapes: tuple[tuple[int, ...], tuple[int, ...]] | None = None,
) -> ConvGeometry:
    """Build a geometry (padding pairs may be negative), computing the output size."""
    out = []
    for axis, size in enumerate(in_size):
        padded = size + padding[axis][0] + padding[axis][1]
        extent = dilation[axis] * (kernel[axis] - 1) + 1
        if extent > padded:
            where = f" (`x` shape {shapes[0]}, `weight` shape {shapes[1]})" if shapes else ""
            raise ValueError(
                f"{op}: the kernel is larger than the padded input in spatial axis {axis}: "
                f"dilated kernel extent {extent} > padded input {padded}{where}"
            )
        out.append((padded - extent) // stride[axis] + 1)
    return ConvGeometry(
        batch, channels, out_channels, groups, in_size, kernel, stride, dilation, padding,
        tuple(out),
    )  # fmt: skip


def check_grad_out(grad_out: Any, x: Any, geom: ConvGeometry, op: str) -> None:
    """``grad_out`` must be an array of the forward output's shape and of ``x``'s dtype."""
    check_array(grad_out, "grad_out")
    if tuple(grad_out.shape) != geom.out_shape:
        raise ValueError(
            f"{op}: `grad_out` must have the forward output's shape {geom.out_shape} for `x` "
            f"shape {tuple(x.shape)}; got {tuple(grad_out.shape)}"
        )
    if grad_out.dtype != x.dtype:
        raise TypeError(f"{op}: `grad_out` must have dtype {x.dtype}; got {grad_out.dtype}")
