"""Convolution in array code (NumPy on the CPU, CuPy on the GPU): im2col + GEMM, and FFT.

Both run on N-d data ``(N, C, *spatial)`` with the geometry from ``_conv_args``; there are
no Python loops over pixels or channels (the FFT path loops over nothing; im2col builds one
strided view). The im2col matrix is materialised here, once per call: on the CPU that copy
plus one BLAS GEMM per group is the fastest portable route. On NumPy, at stride 1 along the
first spatial axis, that axis stays out of the copy (``_conv_rows``): the taps along it
become a strided sum over the GEMM's output, and the copy shrinks by the kernel's length.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import is_numpy_namespace
from ._conv_args import ConvGeometry, make_geometry

__all__ = [
    "conv_fft",
    "conv_im2col",
    "im2col",
    "pad_spatial",
    "row_columns",
    "rows_fit",
    "strided_windows",
]

# The first-axis path (_conv_rows) computes GEMM columns for padded rows it never keeps: it
# runs only where they add at most this fraction to the work of a full im2col.
_ROWS_MAX_WASTE = 0.25


def pad_spatial(x: Any, padding: tuple[tuple[int, int], ...], xp: Any) -> Any:
    """Zero-pad (or, for negative amounts, crop) the spatial axes of ``(N, C, *spatial)``."""
    crop = tuple(
        slice(max(-lo, 0), size - max(-hi, 0))
        for (lo, hi), size in zip(padding, x.shape[2:], strict=True)
    )
    x = x[(slice(None), slice(None), *crop)]
    if all(lo <= 0 and hi <= 0 for lo, hi in padding):
        return x
    grown = [max(lo, 0) for lo, _ in padding], [max(hi, 0) for _, hi in padding]
    shape = (*x.shape[:2], *(s + a + b for s, a, b in zip(x.shape[2:], *grown, strict=True)))
    out = xp.zeros(shape, dtype=x.dtype)
    inner = tuple(slice(a, a + s) for a, s in zip(grown[0], x.shape[2:], strict=True))
    out[(slice(None), slice(None), *inner)] = x
    return out


def _windows(xpad: Any, geom: ConvGeometry, xp: Any) -> Any:
    """Read-only view ``(N, C, *out_size, *kernel)`` of the padded input: no copy."""
    nd = geom.nd
    if is_numpy_namespace(xp):
        extents = tuple(geom.extent(a) for a in range(nd))
        view = np.lib.stride_tricks.sliding_window_view(xpad, extents, axis=tuple(range(2, 2 + nd)))
        steps = tuple(
            slice(None, o * s, s) for o, s in zip(geom.out_size, geom.stride, strict=True)
        )
        taps = tuple(slice(None, None, d) for d in geom.dilation)
        return view[(slice(None), slice(None), *steps, *taps)]
    # CuPy: sliding_window_view is recent there, as_strided is long-standing; same view.
    import cupy

    return strided_windows(xpad, geom, cupy.lib.stride_tricks.as_strided)


def strided_windows(xpad: Any, geom: ConvGeometry, as_strided: Any) -> Any:
    """The view of :func:`_windows` built with ``as_strided`` (NumPy's or CuPy's)."""
    spatial = xpad.strides[2:]
    strides = (
        *xpad.strides[:2],
        *(st * s for st, s in zip(spatial, geom.stride, strict=True)),
        *(st * d for st, d in zip(spatial, geom.dilation, strict=True)),
    )
    shape = (*xpad.shape[:2], *geom.out_size, *geom.kernel)
    return as_strided(xpad, shape=shape, strides=strides)


def im2col(x: Any, geom: ConvGeometry, xp: Any) -> Any:
    """The im2col matrices, one per group: ``(G, C/G * prod(kernel), N * prod(out_size))``.

    Rows are ordered like the flattened weight ``(C/G, *kernel)``; columns like the output
    ``(N, *out_size)``. The copy runs along output pixels (long inner loops).
    """
    nd, g = geom.nd, geom.groups
    xpad = pad_spatial(xp.ascontiguousarray(x), geom.padding, xp)
    view = _windows(xpad, geom, xp)
    n, c = geom.batch, geom.in_channels
    view = view.reshape(n, g, c // g, *geom.out_size, *geom.kernel)
    # (N, G, Cg, *O, *k) -> (G, Cg, *k, N, *O)
    order = (1, 2, *range(3 + nd, 3 + 2 * nd), 0, *range(3, 3 + nd))
    rows = c // g * math.prod(geom.kernel)
    return xp.ascontiguousarray(view.transpose(order)).reshape(g, rows, -1)


def _finish(y: Any, bias: Any, geom: ConvGeometry, xp: Any) -> Any:
    """``(G, K/G, N * P)`` GEMM output -> ``(N, K, *out_size)`` C-contiguous, plus bias."""
    y = y.reshape(geom.out_channels, geom.batch, -1).transpose(1, 0, 2)
    y = xp.ascontiguousarray(y).reshape(geom.out_shape)
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * geom.nd)
    return y


def conv_im2col(x: Any, weight: Any, bias: Any, geom: ConvGeometry, xp: Any) -> Any:
    """Forward convolution as one GEMM per group over the im2col matrix.

    On NumPy, at stride 1 along the first spatial axis, :func:`_conv_rows` runs instead.
    """
    if is_numpy_namespace(xp) and rows_fit(geom):
        return _conv_rows(x, weight, bias, geom)
    g = geom.groups
    cols = im2col(x, geom, xp)
    w = xp.ascontiguousarray(weight).reshape(g, geom.out_channels // g, -1)
    return _finish(xp.matmul(w, cols), bias, geom, xp)


def rows_fit(geom: ConvGeometry) -> bool:
    """Whether :func:`_conv_rows` serves ``geom``: stride 1 and more than one tap along the
    first spatial axis, and few padded rows computed for nothing (the GEMM runs over every
    padded input row: ``out + extent - 1`` of them for ``out`` kept)."""
    if geom.stride[0] != 1 or geom.kernel[0] == 1:
        return False
    kept = geom.out_size[0]
    return kept + geom.extent(0) - 1 <= (1 + _ROWS_MAX_WASTE) * kept


def row_columns(x: np.ndarray, geom: ConvGeometry) -> tuple[np.ndarray, int]:
    """The im2col matrices of :func:`_conv_rows`, ``(G, C/G * prod(kernel[1:]), N * rows *
    prod(out_size[1:]))``, and ``rows``, the padded length of the first spatial axis.

    Rows are ordered like the flattened weight ``(C/G, *kernel[1:])``, columns like
    ``(N, rows, *out_size[1:])``: every padded row, not only the output rows.
    """
    # That is im2col of the same input with the first axis's kernel, stride and dilation 1:
    # its output length along that axis is the padded length.
    one = (1,)
    rows_geom = make_geometry(
        geom.batch, geom.in_channels, geom.out_channels, geom.groups, geom.in_size,
        one + geom.kernel[1:], one + geom.stride[1:], one + geom.dilation[1:], geom.padding,
        op="conv",
    )  # fmt: skip
    return im2col(x, rows_geom, np), rows_geom.out_size[0]


def _conv_rows(x: np.ndarray, weight: np.ndarray, bias: Any, geom: ConvGeometry) -> np.ndarray:
    """NumPy forward convolution with an im2col matrix over all spatial axes but the first.

    The columns run over every padded input row ``r`` of the first axis, the rows over the
    channels and the taps of the other axes. One GEMM with the weights of all ``k0`` taps of
    the first axis stacked gives ``z[i, r] = w[:, :, i] . cols[r]``, and output row ``o`` is
    ``sum_i z[i, o + i * d0]``: a strided add over ``z``. The copy that feeds BLAS is
    ``k0`` times smaller than the full im2col matrix (a third, for 3 x 3 kernels), which on
    a memory-bound 2-core CPU is most of the difference to a direct convolution.
    """
    nd, g = geom.nd, geom.groups
    n, k = geom.batch, geom.out_channels
    cg, kg = geom.in_channels // g, k // g
    k0, d0, o0 = geom.kernel[0], geom.dilation[0], geom.out_size[0]
    rest_out = geom.out_size[1:]
    cols, rows = row_columns(x, geom)
    # (K, Cg, k0, *kernel_rest) -> (G, k0 * Kg, Cg * prod(kernel_rest)), rows like cols'
    w = weight.reshape(g, kg, cg, k0, -1).transpose(0, 3, 1, 2, 4)
    w = np.ascontiguousarray(w).reshape(g, k0 * kg, -1)
    z = np.matmul(w, cols).reshape(g, k0, kg, n, rows, *rest_out)
    out = np.empty((n, g, kg, o0, *rest_out), dtype=z.dtype)

    def tap(i: int) -> np.ndarray:  # (N, G, Kg, o0, *out_rest) view of z for tap i
        return np.moveaxis(z[:, i, :, :, i * d0 : i * d0 + o0], 2, 0)

    np.add(tap(0), tap(1), out=out)
    for i in range(2, k0):
        out += tap(i)
    out = out.reshape(geom.out_shape)
    if bias is not None:
        out += bias.reshape((1, -1) + (1,) * nd)
    return out


def _fast_len(n: int) -> int:
    """Smallest 5-smooth integer >= n: FFT sizes that cuFFT and pocketfft handle fastest."""
    best = 1 << max(n - 1, 0).bit_length()
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35
            while m < n:
                m *= 2
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


def conv_fft(x: Any, weight: Any, bias: Any, geom: ConvGeometry, xp: Any) -> Any:
    """Forward convolution through real FFTs over the spatial axes.

    Correlation is ``irfft(rfft(x) * conj(rfft(w)))``: with the transform as long as the
    padded input, the outputs we keep (``0 <= o <= L - extent``) never wrap around. The
    channel sum is a batched complex GEMM per frequency. Cost is independent of the kernel
    size, which is why this path wins for large kernels.
    """
    nd, g = geom.nd, geom.groups
    n, k, c = geom.batch, geom.out_channels, geom.in_channels
    axes = tuple(range(2, 2 + nd))
    xpad = pad_spatial(xp.ascontiguousarray(x), geom.padding, xp)
    lengths = tuple(xpad.shape[2:])
    sizes = tuple(_fast_len(s) for s in lengths)
    extents = tuple(geom.extent(a) for a in range(nd))
    wd = xp.zeros((k, c // g, *extents), dtype=x.dtype)
    wd[(slice(None), slice(None), *(slice(None, None, d) for d in geom.dilation))] = weight
    if is_numpy_namespace(xp):  # scipy.fft (pocketfft C++): ~4x numpy.fft, 1080^2 float32
        import scipy.fft as fft
    else:
        fft = xp.fft
    xf = fft.rfftn(xpad, s=sizes, axes=axes)
    wf = xp.conj(fft.rfftn(wd, s=sizes, axes=axes))
    freq = xf.shape[2:]
    nf = math.prod(freq)
    xf = xf.reshape(n, g, c // g, nf).transpose(1, 3, 0, 2)  # (G, F, N, Cg)
    wf = wf.reshape(g, k // g, c // g, nf).transpose(0, 3, 2, 1)  # (G, F, Cg, Kg)
    # One input channel per group (depthwise, single images): a broadcast product, not a
    # batched GEMM of 1 x 1 matrices over every frequency.
    yf = xf * wf if c == g else xp.matmul(xf, wf)
    yf = yf.transpose(2, 0, 3, 1).reshape(n, k, *freq)
    y = fft.irfftn(yf, s=sizes, axes=axes)
    keep = tuple(
        slice(0, (o - 1) * s + 1, s) for o, s in zip(geom.out_size, geom.stride, strict=True)
    )
    y = xp.ascontiguousarray(y[(slice(None), slice(None), *keep)]).astype(x.dtype, copy=False)
    if bias is not None:
        y += bias.reshape((1, -1) + (1,) * nd)
    return y
