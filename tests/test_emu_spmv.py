"""kernels/spmv.cu in the emulation lane: CSR SpMV on ragged rows against the NumPy/SciPy path.

Rows are empty, shorter than a lane group, exactly 32 long and longer than a warp; the grid
is sometimes smaller than the rows (grid-stride wrap), and every lane width 1..32 runs.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/, package or not

from cuda_emu import emu_launch  # noqa: E402
from cuda_emu.coverage import covers  # noqa: E402
from cuda_emu.runner import CXX  # noqa: E402

needs_cxx = pytest.mark.skipif(shutil.which(CXX) is None, reason=f"no C++ compiler ({CXX})")

ROW_LENGTHS = [0, 1, 2, 5, 31, 32, 33, 70, 0, 0, 3]


def ragged_csr(rows, cols, dtype, rng):
    lengths = [min(ROW_LENGTHS[i % len(ROW_LENGTHS)], cols) for i in range(rows)]
    indptr = np.zeros(rows + 1, np.int32)
    indptr[1:] = np.cumsum(lengths)
    indices = np.concatenate(
        [np.sort(rng.choice(cols, n, replace=False)) for n in lengths] + [np.zeros(0, int)]
    ).astype(np.int32)
    data = rng.standard_normal(indices.size).astype(dtype)
    return data, indices, indptr


def reference(data, indices, indptr, x, shape):
    """The CPU path of gpumath.sparse (SciPy), in float64."""
    a = scipy.sparse.csr_array((data.astype(np.float64), indices, indptr), shape=shape)
    return a @ x.astype(np.float64)


CASES = [  # (rows, cols, lanes, grid, block)
    (1, 1, 1, 1, 32),
    (1, 80, 32, 1, 32),
    (1, 80, 4, 1, 64),
    (11, 90, 1, 1, 32),
    (11, 90, 2, 2, 64),
    (23, 90, 8, 1, 32),
    (23, 90, 16, 3, 64),
    (40, 100, 32, 2, 64),
    (40, 100, 4, 1, 128),
]


@needs_cxx
@covers("gm_spmv_csr_f32", "gm_spmv_csr_f64")
@pytest.mark.parametrize("dtype, suffix", [(np.float32, "f32"), (np.float64, "f64")])
@pytest.mark.parametrize("rows, cols, lanes, grid, block", CASES)
def test_spmv_kernel_matches_scipy(dtype, suffix, rows, cols, lanes, grid, block):
    rng = np.random.default_rng(rows * 1000 + lanes)
    data, indices, indptr = ragged_csr(rows, cols, dtype, rng)
    x = rng.standard_normal(cols).astype(dtype)
    y = np.full(rows, np.nan, dtype)  # poisoned: every row, empty ones too, must be written
    emu_launch(
        "spmv.cu",
        f"gm_spmv_csr_{suffix}",
        grid,
        block,
        [data, indices, indptr, x, y, np.int64(rows), np.int32(lanes)],
    )
    expect = reference(data, indices, indptr, x, (rows, cols))
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(y, expect, rtol=tol, atol=tol * np.abs(data).max(initial=1.0) * 10)


@needs_cxx
@covers("gm_spmv_csr_f32")
def test_spmv_kernel_with_the_python_launch_policy():
    """The lane width gpumath picks for a mean row length of ~10 (benchmark's shape)."""
    from gpumath.sparse._spmv import lanes_for

    rng = np.random.default_rng(5)
    rows, cols = 50, 64
    dense = np.where(rng.random((rows, cols)) < 10 / cols, rng.standard_normal((rows, cols)), 0)
    a = scipy.sparse.csr_array(dense.astype(np.float32))
    lanes = lanes_for(a.nnz, rows)
    x = rng.standard_normal(cols).astype(np.float32)
    y = np.full(rows, np.nan, np.float32)
    emu_launch(
        "spmv.cu",
        "gm_spmv_csr_f32",
        2,
        64,
        [
            a.data,
            a.indices.astype(np.int32),
            a.indptr.astype(np.int32),
            x,
            y,
            np.int64(rows),
            np.int32(lanes),
        ],
    )
    np.testing.assert_allclose(y, dense @ x.astype(np.float64), rtol=1e-5, atol=1e-5)
