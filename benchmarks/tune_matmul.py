"""Measure the tuning knobs of kernels/matmul.cu on the current GPU, against cuBLAS.

    python -m benchmarks.tune_matmul [--out DIR]

Each variant is the float32 kernel compiled with other -D values (see the top of
kernels/matmul.cu); every variant is checked against cuBLAS before it is timed. The default
build's knobs should be the fastest line of this table on the GPUs we target.
"""

from __future__ import annotations

import argparse
import importlib
import json
from functools import partial
from pathlib import Path

import numpy as np

import gpumath

from .harness import Context, max_rel_err, time_it

VARIANTS = {
    # Default: tile depth 16 (half the barriers per FLOP, 33 KiB shared memory), K loop fully
    # unrolled, 165 registers, one block per SM by launch bounds.
    "default (bk 16, unroll 16)": (),
    "bk 16, unroll 8": ("-DGM_MM_UNROLL_K=8",),
    "bk 8, unroll 8 (earlier default)": ("-DGM_MM_BK_F32=8", "-DGM_MM_UNROLL_K=8"),
    "min_blocks 2, bk 8, unroll 2": (
        "-DGM_MM_MIN_BLOCKS=2",
        "-DGM_MM_BK_F32=8",
        "-DGM_MM_UNROLL_K=2",
    ),
    # Tile-row group of the block swizzle (L2 reuse of the A and B panels); default 8.
    "group_m 4": ("-DGM_MM_GROUP_M=4",),
    "group_m 16": ("-DGM_MM_GROUP_M=16",),
}
# Every variant compiles without spills (nvcc 13.0, sm_80/sm_90) and passes the emulation
# lane on ragged shapes: tests/test_emu_kernels.py::test_matmul_variants_are_correct.
SHAPES = [(4096, 4096, 4096), (8192, 8192, 8192), (4095, 4097, 4093), (2048, 2048, 2048)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    import cupy

    matmul = importlib.import_module("gpumath.ops.matmul")
    ctx = Context(device=gpumath.get_device(), quick=True, xp=cupy)
    rows = []
    for m, n, k in SHAPES:
        a, b = ctx.random((m, k)), ctx.random((k, n))
        ref = cupy.matmul(a, b)
        vendor = time_it(ctx, lambda a=a, b=b: cupy.matmul(a, b))
        flops = 2.0 * m * n * k
        print(f"{m}x{n}x{k} cuBLAS {flops / vendor / 1e12:.1f} TFLOP/s")
        for name, options in VARIANTS.items():
            c = cupy.full((m, n), np.nan, dtype=np.float32)
            launch = partial(matmul._launch, a, b, c, m, n, k, 1, 0, 0, options=options)
            launch()
            err = max_rel_err(c, ref)
            seconds = time_it(ctx, launch)
            row = {
                "shape": f"{m}x{n}x{k}",
                "variant": name,
                "TFLOPs": flops / seconds / 1e12,
                "vs_cublas": vendor / seconds,
                "rel_err": err,
            }
            rows.append(row)
            print(
                f"  {name:<34} {row['TFLOPs']:6.1f} TFLOP/s  {row['vs_cublas']:.2f}x  err {err:.1e}"
            )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "tune_matmul.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
