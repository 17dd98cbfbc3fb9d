"""Winograd convolution F(m x m, 3 x 3) in array code: transforms + one batched GEMM.

For a 2-D 3 x 3 kernel at stride 1 and dilation 1, each m x m output tile is
``A^T [(G g G^T) * (B^T d B)] A`` for the (m + 2)^2 input tile ``d`` (Lavin & Gray, 2015).
The channel sum moves inside: for each of the (m + 2)^2 transform points, one GEMM of the
transformed weights (K/G x C/G) with the transformed tiles (C/G x tiles), so the GEMM work
is (m + 2)^2 / (9 m^2) of im2col's: 4/9 for F(2x2, 3x3), 1/4 for F(4x4, 3x3).

The transforms are ``tensordot`` with the small matrices (BLAS / cuBLAS) over a strided view
of the padded input. F(4x4, 3x3) uses points 0, +-1, +-2 and +-1/2, which costs precision:
expect float32 relative errors up to about 1e-4 (F(2x2, 3x3): about 1e-6), against ~1e-6
for im2col.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._conv_args import ConvGeometry, make_geometry
from ._conv_xp import _windows, pad_spatial

__all__ = ["conv_winograd", "winograd_unsupported_reason"]

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


def conv_winograd(
    x: Any, weight: Any, bias: Any, geom: ConvGeometry, xp: Any, tile: int | None = None
) -> Any:
    """Forward convolution by Winograd F(tile x tile, 3 x 3); tile 4 (default) or 2."""
    m = tile or (4 if min(geom.out_size) >= 4 else 2)
    bt, gm, at = (xp.asarray(np.asarray(a, dtype=x.dtype)) for a in _MATRICES[m])
    alpha = m + 2
    n, c, k, g = geom.batch, geom.in_channels, geom.out_channels, geom.groups
    oh, ow = geom.out_size
    th, tw = -(-oh // m), -(-ow // m)
    # Pad so that the tiles cover the output exactly: extra zeros after, never read back.
    (pt, pb), (pl, pr) = geom.padding
    padding = ((pt, pb + th * m - oh), (pl, pr + tw * m - ow))
    xpad = pad_spatial(xp.ascontiguousarray(x), padding, xp)
    tiles_geom = make_geometry(
        n, c, 1, 1, tuple(xpad.shape[2:]), (alpha, alpha), (m, m), (1, 1), ((0, 0), (0, 0)),
        op="winograd",
    )  # fmt: skip
    tiles = _windows(xpad, tiles_geom, xp)  # (N, C, th, tw, alpha, alpha), a view
    v = _transform(xp.moveaxis(xp.moveaxis(tiles, 4, 0), 5, 1), bt, xp)  # (a, b, N, C, th, tw)
    v = xp.moveaxis(v, 3, 2)  # (a, b, C, N, th, tw)
    v = xp.ascontiguousarray(v).reshape(alpha * alpha, g, c // g, n * th * tw)
    u = _transform(xp.moveaxis(xp.moveaxis(weight, 2, 0), 3, 1), gm, xp)  # (a, b, K, Cg)
    u = xp.ascontiguousarray(u).reshape(alpha * alpha, g, k // g, c // g)
    prod = xp.matmul(u, v).reshape(alpha, alpha, k, n, th, tw)
    y = _transform(prod, at, xp)  # (i, j, K, N, th, tw)
    y = xp.ascontiguousarray(y.transpose(3, 2, 4, 0, 5, 1)).reshape(n, k, th * m, tw * m)
    y = xp.ascontiguousarray(y[:, :, :oh, :ow])
    if bias is not None:
        y += bias.reshape(1, -1, 1, 1)
    return y
