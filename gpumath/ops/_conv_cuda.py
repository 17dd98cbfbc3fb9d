"""Launchers for kernels/conv.cu: direct and implicit-GEMM convolution on CuPy arrays.

Both kernels are 3-D; 2-D problems run with a depth of 1. The geometry is passed as 22 int
scalars (kernels/conv.cu, GM_CONV_PARAMS), padding as the "before" amount of each axis. The
implicit-GEMM kernel also takes a table decoding its GEMM-K index (:func:`tap_table`), built
once per (channels, kernel, dilation) and device and kept on the device.
"""

from __future__ import annotations

import math
import threading
from typing import Any

import numpy as np

from .. import _kernels
from ._conv_args import ConvGeometry

__all__ = [
    "DIRECT_MAX_SHARED",
    "conv_cuda",
    "direct_shared_bytes",
    "kernel_args",
    "launch_config",
    "tap_table",
    "unsupported_reason",
]

_THREADS = 256
_DIRECT_TILE = 16  # GM_CD_TILE: output pixels per block side
_DIRECT_KB = 8  # GM_CD_KB: output channels per thread
_IGEMM_BM = 64  # GM_IG_BM: output channels per block
_IGEMM_BN = 128  # GM_IG_BN: output pixels per block
DIRECT_MAX_SHARED = 48 * 1024  # the default dynamic shared memory limit of a launch
_INT32_MAX = 2**31 - 1
_MAX_GRID_Y = 65535


def _as3d(geom: ConvGeometry) -> tuple[tuple[int, ...], ...]:
    """(in_size, kernel, out_size, stride, pad_before, dilation), each padded to 3 axes."""
    lead = 3 - geom.nd
    return (
        (1,) * lead + geom.in_size,
        (1,) * lead + geom.kernel,
        (1,) * lead + geom.out_size,
        (1,) * lead + geom.stride,
        (0,) * lead + tuple(lo for lo, _ in geom.padding),
        (1,) * lead + geom.dilation,
    )


def kernel_args(geom: ConvGeometry) -> tuple[np.int32, ...]:
    """The 22 geometry scalars of GM_CONV_PARAMS, in order."""
    size, kernel, out, stride, pad, dil = _as3d(geom)
    values = (
        geom.batch, geom.in_channels, *size, geom.out_channels, *kernel, *out,
        *stride, *pad, *dil, geom.groups,
    )  # fmt: skip
    return tuple(np.int32(v) for v in values)


def direct_shared_bytes(geom: ConvGeometry, itemsize: int) -> int:
    """Dynamic shared memory of the direct kernel: one input tile with its halo."""
    _, kernel, _, stride, _, dil = _as3d(geom)
    rows = (_DIRECT_TILE - 1) * stride[1] + (kernel[1] - 1) * dil[1] + 1
    cols = (_DIRECT_TILE - 1) * stride[2] + (kernel[2] - 1) * dil[2] + 1
    return rows * cols * itemsize


def launch_config(geom: ConvGeometry, algorithm: str) -> tuple[tuple[int, int], int]:
    """Grid and dynamic shared bytes for ``algorithm`` ("direct" or "implicit_gemm")."""
    _, _, out, *_ = _as3d(geom)
    kg = geom.out_channels // geom.groups
    if algorithm == "direct":
        tiles = -(-out[1] // _DIRECT_TILE) * -(-out[2] // _DIRECT_TILE)
        return (tiles * geom.batch * out[0], geom.groups * -(-kg // _DIRECT_KB)), 0
    pixels = geom.batch * math.prod(out)
    return (-(-pixels // _IGEMM_BN), geom.groups * -(-kg // _IGEMM_BM)), 0


def tap_table(geom: ConvGeometry) -> np.ndarray:
    """int32 (R, 4): GEMM-K index r = (c, td, th, tw) -> (c, td * dd, th * dh, tw * dw)."""
    _, kernel, _, _, _, dil = _as3d(geom)
    c = np.arange(geom.in_channels // geom.groups)
    grids = np.meshgrid(c, *(np.arange(k) * d for k, d in zip(kernel, dil, strict=True)),
                        indexing="ij")  # fmt: skip
    return np.ascontiguousarray(np.stack([a.ravel() for a in grids], axis=1), dtype=np.int32)


_tables: dict[tuple, Any] = {}
_tables_lock = threading.Lock()


def _device_tap_table(geom: ConvGeometry) -> Any:
    """:func:`tap_table` on the current device, copied there once per key."""
    import cupy

    _, kernel, _, _, _, dil = _as3d(geom)
    key = (geom.in_channels // geom.groups, kernel, dil, cupy.cuda.Device().id)
    table = _tables.get(key)
    if table is None:
        table = cupy.asarray(tap_table(geom))
        with _tables_lock:
            _tables[key] = table
    return table


def unsupported_reason(geom: ConvGeometry, algorithm: str, itemsize: int) -> str | None:
    """Why our kernel cannot run this geometry (32-bit extents, grid, shared memory), or None."""
    grid, _ = launch_config(geom, algorithm)
    rows = geom.in_channels // geom.groups * math.prod(geom.kernel)
    pixels = geom.batch * math.prod(geom.out_size)
    if max(grid[0], rows, pixels) > _INT32_MAX or grid[1] > _MAX_GRID_Y:
        return f"extents of {geom} exceed the kernel's 32-bit indices or grid"
    if algorithm == "direct" and direct_shared_bytes(geom, itemsize) > DIRECT_MAX_SHARED:
        return (
            f"the direct kernel's input tile needs {direct_shared_bytes(geom, itemsize)} bytes "
            f"of shared memory (> {DIRECT_MAX_SHARED}) for kernel {geom.kernel}, stride "
            f"{geom.stride}, dilation {geom.dilation}"
        )
    return None


def conv_cuda(x: Any, weight: Any, bias: Any, geom: ConvGeometry, algorithm: str) -> Any:
    """Run the "direct" or "implicit_gemm" kernel; the caller checked unsupported_reason."""
    import cupy

    dtype = np.dtype(x.dtype)
    suffix = "f32" if dtype == np.float32 else "f64"
    name = "direct" if algorithm == "direct" else "igemm"
    x = cupy.ascontiguousarray(x)
    weight = cupy.ascontiguousarray(weight)
    out = cupy.empty(geom.out_shape, dtype=dtype)
    has_bias = bias is not None
    bias_arg = cupy.ascontiguousarray(bias) if has_bias else weight  # never read without bias
    grid, _ = launch_config(geom, algorithm)
    shared = direct_shared_bytes(geom, dtype.itemsize) if algorithm == "direct" else 0
    kernel = _kernels.get_kernel("conv", f"gm_conv_{name}_{suffix}")
    tables = () if algorithm == "direct" else (_device_tap_table(geom),)
    _kernels.launch(
        kernel,
        grid,
        (_THREADS,),
        (x, weight, *tables, bias_arg, np.int32(has_bias), out, *kernel_args(geom)),
        op=f"conv{geom.nd}d",
        shapes=f"x {tuple(x.shape)}, weight {tuple(weight.shape)} {dtype}",
        shared_mem=shared,
    )
    return out
