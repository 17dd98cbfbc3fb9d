"""Winograd convolution F(m x m, 3 x 3): three transforms around one batched GEMM.

For a 2-D 3 x 3 kernel at stride 1 and dilation 1, each m x m output tile is
``A^T [(G g G^T) * (B^T d B)] A`` for the (m + 2)^2 input tile ``d`` (Lavin & Gray, 2015).
The channel sum moves inside: for each of the (m + 2)^2 transform points, one GEMM of the
transformed weights (K/G x C/G) with the transformed tiles (C/G x tiles), so the GEMM work
is (m + 2)^2 / (9 m^2) of im2col's: 4/9 for F(2x2, 3x3), 1/4 for F(4x4, 3x3).

On CuPy arrays the transforms are the kernels of kernels/winograd.cu (launched from
_conv_winograd_cuda.py: the input read in place, padding applied by index, each tile
transformed in registers) around one batched ``cupy.matmul``. Here, for NumPy arrays and as
the reference of the emulation-lane tests, they are array code: ``tensordot`` with the small
matrices over a strided view of the padded input, the same layouts, one batched BLAS GEMM.

F(4x4, 3x3) uses points 0, +-1, +-2 and +-1/2, which costs precision: expect float32
relative errors up to about 1e-4 (F(2x2, 3x3): about 1e-6), against ~1e-6 for im2col.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import is_cupy_namespace
from ._conv_args import ConvGeometry, make_geometry
from ._conv_xp import _windows, pad_spatial

__all__ = [
    "conv_winograd",
    "input_transform",
    "output_transform",
    "tile_counts",
    "tile_size",
    "weight_transform",
    "winograd_unsupported_reason",
]

# (B^T, G, A^T) for output tile m = 2 and m = 4.
_MATRICES = {
    2: (
        [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]],
        [[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]],
        [[1, 1, 1, 0], [0, 1, -1, -1]],
    ),
    4: (
        [
            [4, 0, -5, 0, 1, 0],
            [0, -4, -4, 1, 1, 0],
            [0, 4, -4, -1, 1, 0],
            [0, -2, -1, 2, 1, 0],
            [0, 2, -1, -2, 1, 0],
            [0, 4, 0, -5, 0, 1],
        ],
        [
            [1 / 4, 0, 0],
            [-1 / 6, -1 / 6, -1 / 6],
            [-1 / 6, 1 / 6, -1 / 6],
            [1 / 24, 1 / 12, 1 / 6],
            [1 / 24, -1 / 12, 1 / 6],
            [0, 0, 1],
        ],
        [[1, 1, 1, 1, 1, 0], [0, 1, -1, 2, -2, 0], [0, 1, 1, 4, 4, 0], [0, 1, -1, 8, -8, 1]],
    ),
}


def winograd_unsupported_reason(geom: ConvGeometry) -> str | None:
    """Why Winograd cannot run this geometry, or None."""
    if geom.nd != 2 or geom.kernel != (3, 3) or geom.stride != (1, 1) or geom.dilation != (1, 1):
        return (
            "Winograd supports 2-D 3x3 kernels at stride 1 and dilation 1; got kernel "
            f"{geom.kernel}, stride {geom.stride}, dilation {geom.dilation}"
        )
    return None


def _transform(t: Any, mat: Any, xp: Any) -> Any:
    """``mat @ t[i, j] @ mat^T`` over the two leading axes of ``t``; stays leading."""
    t = xp.tensordot(mat, t, axes=([1], [0]))  # (a, j, ...)
    t = xp.tensordot(mat, t, axes=([1], [1]))  # (b, a, ...)
    return xp.moveaxis(t, 0, 1)  # (a, b, ...)


def _matrix(m: int, which: int, dtype: Any, xp: Any) -> Any:
    """B^T (which 0), G (1) or A^T (2) of F(m x m, 3 x 3) as an ``xp`` array of ``dtype``."""
    return xp.asarray(np.asarray(_MATRICES[m][which], dtype=dtype))


def tile_size(geom: ConvGeometry, tile: int | None = None) -> int:
    """Output tile side m: ``tile`` if given, else 4, or 2 when an output side is below 4."""
    return tile or (4 if min(geom.out_size) >= 4 else 2)


def tile_counts(geom: ConvGeometry, m: int) -> tuple[int, int]:
    """Tiles per output column and row: ceil(OH / m), ceil(OW / m)."""
    oh, ow = geom.out_size
    return -(-oh // m), -(-ow // m)


def weight_transform(weight: Any, m: int, geom: ConvGeometry, xp: Any) -> Any:
    """U = G g G^T of every 3 x 3 filter, shape (alpha^2, G, K/G, C/G), C-contiguous."""
    alpha, g = m + 2, geom.groups
    gm = _matrix(m, 1, weight.dtype, xp)
    u = _transform(xp.moveaxis(xp.moveaxis(weight, 2, 0), 3, 1), gm, xp)  # (a, b, K, Cg)
    return xp.ascontiguousarray(u).reshape(alpha * alpha, g, geom.out_channels // g, -1)


def input_transform(x: Any, m: int, geom: ConvGeometry, xp: Any) -> Any:
    """V = B^T d B of every input tile d, shape (alpha^2, G, C/G, N * tiles), C-contiguous.

    Tile p = (n, tile row, tile column) reads the padded input from row ``m`` * tile row and
    column ``m`` * tile column; the padded input is extended with zeros after, so that the
    tiles cover the output exactly (the extra outputs are never read back).
    """
    alpha = m + 2
    n, c, g = geom.batch, geom.in_channels, geom.groups
    th, tw = tile_counts(geom, m)
    (pt, pb), (pl, pr) = geom.padding
    oh, ow = geom.out_size
    padding = ((pt, pb + th * m - oh), (pl, pr + tw * m - ow))
    xpad = pad_spatial(xp.ascontiguousarray(x), padding, xp)
    tiles_geom = make_geometry(
        n, c, 1, 1, tuple(xpad.shape[2:]), (alpha, alpha), (m, m), (1, 1), ((0, 0), (0, 0)),
        op="winograd",
    )  # fmt: skip
    tiles = _windows(xpad, tiles_geom, xp)  # (N, C, th, tw, alpha, alpha), a view
    bt = _matrix(m, 0, x.dtype, xp)
    v = _transform(xp.moveaxis(xp.moveaxis(tiles, 4, 0), 5, 1), bt, xp)  # (a, b, N, C, th, tw)
    v = xp.moveaxis(v, 3, 2)  # (a, b, C, N, th, tw)
    return xp.ascontiguousarray(v).reshape(alpha * alpha, g, c // g, n * th * tw)


def output_transform(prod: Any, bias: Any, m: int, geom: ConvGeometry, xp: Any) -> Any:
    """The output from the transformed products ``prod`` (alpha^2, G, K/G, N * tiles):
    A^T prod A per tile, clipped to the output size, plus ``bias`` (or None)."""
    alpha = m + 2
    n, k = geom.batch, geom.out_channels
    oh, ow = geom.out_size
    th, tw = tile_counts(geom, m)
    at = _matrix(m, 2, prod.dtype, xp)
    y = _transform(prod.reshape(alpha, alpha, k, n, th, tw), at, xp)  # (i, j, K, N, th, tw)
    y = xp.ascontiguousarray(y.transpose(3, 2, 4, 0, 5, 1)).reshape(n, k, th * m, tw * m)
    y = xp.ascontiguousarray(y[:, :, :oh, :ow])
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y


def conv_winograd(
    x: Any, weight: Any, bias: Any, geom: ConvGeometry, xp: Any, tile: int | None = None
) -> Any:
    """Forward convolution by Winograd F(tile x tile, 3 x 3); tile 4 (default) or 2.

    CuPy arrays run the kernels of kernels/winograd.cu around one ``cupy.matmul``
    (_conv_winograd_cuda.py); other arrays the array code here, which is also their reference.
    """
    m = tile_size(geom, tile)
    if is_cupy_namespace(xp):
        from ._conv_winograd_cuda import conv_winograd_cuda

        return conv_winograd_cuda(x, weight, bias, geom, m)
    u = weight_transform(weight, m, geom, xp)
    v = input_transform(x, m, geom, xp)
    return output_transform(xp.matmul(u, v), bias, m, geom, xp)
