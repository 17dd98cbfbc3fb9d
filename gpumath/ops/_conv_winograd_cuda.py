"""Launchers for kernels/winograd.cu: Winograd F(m x m, 3 x 3) convolution on CuPy arrays.

Three kernels around one batched GEMM, in the layouts of the array code in
_conv_winograd.py (which is their reference):

1. ``gm_winograd_weight_m<m>``: U = G g G^T, (alpha^2, G, K/G, C/G);
2. ``gm_winograd_input_m<m>``: V = B^T d B, (alpha^2, G, C/G, P), read straight from the NCHW
   input, the padding applied by index;
3. ``cupy.matmul(U, V)``: M, (alpha^2, G, K/G, P), one cuBLAS strided-batched GEMM over the
   alpha^2 transform points and the groups;
4. ``gm_winograd_output_m<m>``: A^T M A plus bias, written into the NCHW output, the ragged
   last tiles clipped.

Every kernel is a grid-stride loop over its work items (256 threads a block), so any grid
covers any size; extents go in as int, the kernels compute sizes and offsets in 64 bits.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .. import _kernels
from ._conv_args import ConvGeometry
from ._conv_winograd import tile_counts

__all__ = ["THREADS", "conv_winograd_cuda", "input_args", "launch_grid", "output_args"]

THREADS = 256  # GM_WG_THREADS: the kernels' __launch_bounds__
# Enough blocks to fill any current GPU many times over; the grid-stride loop covers the rest.
_MAX_BLOCKS = 1 << 16


def launch_grid(work: int) -> tuple[int]:
    """1-D grid for ``work`` items, one per thread: at least one block, at most _MAX_BLOCKS."""
    return (max(1, min(-(-work // THREADS), _MAX_BLOCKS)),)


def input_args(geom: ConvGeometry, m: int) -> tuple[np.int32, ...]:
    """(N, C, H, W, pad_top, pad_left, tiles_h, tiles_w) of gm_winograd_input_m<m>."""
    (pad_top, _), (pad_left, _) = geom.padding
    values = (geom.batch, geom.in_channels, *geom.in_size, pad_top, pad_left,
              *tile_counts(geom, m))  # fmt: skip
    return tuple(np.int32(v) for v in values)


def output_args(geom: ConvGeometry, m: int) -> tuple[np.int32, ...]:
    """(N, K, OH, OW, tiles_h, tiles_w) of gm_winograd_output_m<m>."""
    values = (geom.batch, geom.out_channels, *geom.out_size, *tile_counts(geom, m))
    return tuple(np.int32(v) for v in values)


def conv_winograd_cuda(x: Any, weight: Any, bias: Any, geom: ConvGeometry, m: int) -> Any:
    """Winograd F(m x m, 3 x 3) forward convolution of CuPy arrays; m is 2 or 4."""
    import cupy

    dtype = np.dtype(x.dtype)
    suffix = "f32" if dtype == np.float32 else "f64"
    n, c, k, g = geom.batch, geom.in_channels, geom.out_channels, geom.groups
    th, tw = tile_counts(geom, m)
    points, tiles = (m + 2) ** 2, n * th * tw
    x = cupy.ascontiguousarray(x)
    weight = cupy.ascontiguousarray(weight)
    shapes = f"x {tuple(x.shape)}, weight {tuple(weight.shape)} {dtype}"

    def run(what: str, work: int, args: tuple) -> None:
        kernel = _kernels.get_kernel("winograd", f"gm_winograd_{what}_m{m}_{suffix}")
        grid = launch_grid(work)
        _kernels.launch(kernel, grid, (THREADS,), args, op="conv2d", shapes=shapes)

    filters = k * (c // g)
    u = cupy.empty((points, g, k // g, c // g), dtype=dtype)
    run("weight", filters, (weight, u, np.int64(filters)))
    v = cupy.empty((points, g, c // g, tiles), dtype=dtype)
    run("input", c * tiles, (x, v, *input_args(geom, m)))
    prod = cupy.matmul(u, v)  # (points, G, K/G, tiles), a new C-ordered array
    out = cupy.empty(geom.out_shape, dtype=dtype)
    has_bias = bias is not None
    bias_arg = cupy.ascontiguousarray(bias) if has_bias else prod  # never read without bias
    run("output", k * tiles, (prod, bias_arg, np.int32(has_bias), out, *output_args(geom, m)))
    return out
