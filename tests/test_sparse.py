"""gpumath.sparse.csr_matrix against dense NumPy float64 and SciPy, on every backend."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
import scipy.sparse
from hypothesis import given
from hypothesis import strategies as st

import gpumath as gm
from gpumath.testing import assert_close

sp = importlib.import_module("gpumath.sparse")
spmv_module = importlib.import_module("gpumath.sparse._spmv")

FLOATS = [np.float32, np.float64]
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def ragged_dense(rng, rows, cols, dtype=np.float64):
    """Dense matrix with empty rows, short rows and rows longer than a warp."""
    a = np.zeros((rows, cols))
    for i in range(rows):
        length = [0, 1, 3, 7, 33, 100, cols][i % 7]
        picked = rng.choice(cols, min(length, cols), replace=False)
        a[i, picked] = rng.standard_normal(picked.size)
    return a.astype(dtype)


def algorithms(xp):
    return ["auto", "vendor"] if xp is np else ["auto", "vendor", "kernel"]


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("shape", [(1, 1), (1, 200), (57, 130), (300, 64)])
def test_matvec_matches_dense(xp, rng, dtype, shape):
    host = ragged_dense(rng, *shape, dtype=dtype)
    a = sp.csr_matrix(xp.asarray(host))
    assert a.nnz == np.count_nonzero(host) and a.shape == shape and a.dtype == dtype
    x = rng.standard_normal(shape[1]).astype(dtype)
    ref = (host.astype(np.float64) @ x.astype(np.float64)).astype(dtype)
    for algorithm in algorithms(xp):
        y = a.matvec(xp.asarray(x), algorithm=algorithm)
        assert_close(y, ref, rtol=RTOL[dtype], like=a.data)
    assert_close(a @ xp.asarray(x), ref, rtol=RTOL[dtype])


@pytest.mark.parametrize("dtype", FLOATS)
def test_matmat_and_transpose(xp, rng, dtype):
    host = ragged_dense(rng, 40, 70, dtype)
    a = sp.csr_matrix(xp.asarray(host))
    x = rng.standard_normal((70, 3)).astype(dtype)
    ref = host.astype(np.float64) @ x.astype(np.float64)
    for algorithm in algorithms(xp):
        assert_close(
            a.matvec(xp.asarray(x), algorithm=algorithm), ref.astype(dtype), rtol=RTOL[dtype]
        )
    at = a.T
    assert at.shape == (70, 40) and at.nnz == a.nnz
    assert_close(at.to_dense(), host.T)
    v = rng.standard_normal(40).astype(dtype)
    assert_close(
        at @ xp.asarray(v), (host.T.astype(np.float64) @ v).astype(dtype), rtol=RTOL[dtype]
    )
    assert_close(xp.asarray(v) @ a, (v.astype(np.float64) @ host).astype(dtype), rtol=RTOL[dtype])


def test_from_coo_sums_duplicates_and_matches_scipy(xp, rng):
    row = rng.integers(0, 30, 400)
    col = rng.integers(0, 20, 400)
    data = rng.standard_normal(400)
    a = sp.csr_matrix((xp.asarray(data), (xp.asarray(row), xp.asarray(col))), shape=(30, 20))
    ref = scipy.sparse.coo_array((data, (row, col)), shape=(30, 20)).tocsr()
    ref.sum_duplicates()
    assert a.nnz == ref.nnz
    assert_close(a.indptr, ref.indptr.astype(np.int32))
    assert_close(a.indices, ref.indices.astype(np.int32))
    assert_close(a.data, ref.data, rtol=1e-12)
    inferred = sp.csr_matrix((xp.asarray(data), (xp.asarray(row), xp.asarray(col))))
    assert inferred.shape == (int(row.max()) + 1, int(col.max()) + 1)


def test_from_csr_arrays_round_trip(xp, rng):
    ref = scipy.sparse.random_array((50, 45), density=0.1, rng=rng, format="csr")
    a = sp.csr_matrix(
        (xp.asarray(ref.data), xp.asarray(ref.indices), xp.asarray(ref.indptr)), shape=ref.shape
    )
    assert_close(a.to_dense(), ref.toarray())
    assert_close(a.toarray(), ref.toarray())
    assert "50x45" in repr(a)


def test_integer_data_becomes_float64(xp):
    a = sp.csr_matrix(xp.asarray(np.array([[0, 2], [3, 0]])))
    assert a.dtype == np.float64
    assert_close(a @ xp.asarray(np.array([1.0, 1.0])), np.array([2.0, 3.0]))


def test_empty_matrix(xp):
    a = sp.csr_matrix(xp.zeros((4, 3)))
    assert a.nnz == 0
    for algorithm in algorithms(xp):
        assert_close(a.matvec(xp.ones(3), algorithm=algorithm), np.zeros(4))
    assert sp.csr_matrix(xp.zeros((0, 3))).matvec(xp.ones(3)).shape == (0,)


MALFORMED = [  # (data, indices, indptr, shape, message)
    ([1.0, 2.0], [0, 1], [0, 2], (2, 2), r"`indptr` must have shape\[0\] \+ 1 = 3 entries"),
    ([1.0, 2.0], [0, 1], [1, 2, 2], (2, 2), r"`indptr` must start at 0; got indptr\[0\] = 1"),
    ([1.0, 2.0], [0, 1], [0, 2, 1], (2, 2), r"non-decreasing; .* at i = 1"),
    ([1.0, 2.0], [0, 1], [0, 1, 1], (2, 2), r"must end at nnz = len\(data\) = 2; got .* = 1"),
    ([1.0, 2.0], [1, 0], [0, 2, 2], (2, 2), r"sorted and unique .* indices\[1\] = 0 follows 1"),
    ([1.0, 2.0], [1, 1], [0, 2, 2], (2, 2), r"sorted and unique .* indices\[1\] = 1 follows 1"),
    ([1.0, 2.0], [0, 5], [0, 1, 2], (2, 2), r"`indices` must lie in \[0, 2\) .* indices\[1\] = 5"),
    (
        [1.0, 2.0],
        [-1, 0],
        [0, 1, 2],
        (2, 2),
        r"`indices` must lie in \[0, 2\) .* indices\[0\] = -1",
    ),
    ([1.0, 2.0], [0], [0, 1, 2], (2, 2), "`indices` and `data` must have the same length"),
]


@pytest.mark.parametrize("data, indices, indptr, shape, message", MALFORMED)
def test_malformed_csr_rejected_before_any_launch(xp, data, indices, indptr, shape, message):
    args = (xp.asarray(np.array(data)), xp.asarray(np.array(indices)), xp.asarray(np.array(indptr)))
    with pytest.raises(ValueError, match=message):
        sp.csr_matrix(args, shape=shape)


def test_row_boundaries_allow_decreasing_columns(xp):
    """Columns restart at each row: 1 then 0 across a row boundary is canonical."""
    a = sp.csr_matrix(
        (
            xp.asarray(np.array([1.0, 2.0])),
            xp.asarray(np.array([1, 0])),
            xp.asarray(np.array([0, 1, 2])),
        ),
        shape=(2, 2),
    )
    assert_close(a.to_dense(), np.array([[0.0, 1.0], [2.0, 0.0]]))


def test_bad_arguments(xp):
    a = sp.csr_matrix(xp.eye(3))
    with pytest.raises(ValueError, match=r"`x` must have shape \(3,\) or \(3, K\) .* got \(4,\)"):
        a @ xp.ones(4)
    with pytest.raises(ValueError, match="`algorithm` must be one of"):
        a.matvec(xp.ones(3), algorithm="merge")
    with pytest.raises(ValueError, match="`shape` is required"):
        sp.csr_matrix((xp.ones(1), xp.zeros(1, dtype=np.int32), xp.asarray(np.array([0, 1]))))
    with pytest.raises(ValueError, match="`shape` must be two non-negative ints"):
        sp.csr_matrix(
            (xp.ones(1), (xp.zeros(1, dtype=np.int64), xp.zeros(1, dtype=np.int64))), shape=(-1, 2)
        )
    with pytest.raises(ValueError, match=r"`col` indices must lie in \[0, 2\)"):
        sp.csr_matrix((xp.ones(1), (xp.zeros(1, dtype=np.int64), xp.full(1, 2))), shape=(2, 2))
    with pytest.raises(TypeError, match="`indices` must have an integer dtype; got float64"):
        sp.csr_matrix((xp.ones(1), xp.zeros(1), xp.asarray(np.array([0, 1]))), shape=(1, 1))
    with pytest.raises(TypeError, match="`arg` must be a dense 2-D array"):
        sp.csr_matrix([[1.0]])
    with pytest.raises(TypeError, match="complex"):
        sp.csr_matrix(xp.ones((2, 2), dtype=np.complex64))


def test_lanes_policy():
    assert [spmv_module.lanes_for(nnz, 10) for nnz in (0, 10, 25, 40, 100, 170, 1000)] == [
        1,
        1,
        4,
        4,
        16,
        32,
        32,
    ]


def test_kernel_float64_result_for_mixed_dtypes(gpu, rng):
    host = ragged_dense(rng, 20, 30, np.float32)
    a = sp.csr_matrix(gpu.asarray(host))
    x = rng.standard_normal(30)
    y = a.matvec(gpu.asarray(x), algorithm="kernel")
    assert_close(y, host.astype(np.float64) @ x, rtol=1e-12)


def test_mixed_devices_rejected(gpu):
    a = sp.csr_matrix(gpu.eye(2))
    with pytest.raises(TypeError, match="mix array libraries"):
        a @ np.ones(2)
    assert gm.device_of(a.data) == "cuda:0"


@pytest.mark.parametrize("mean_row", [0.5, 2, 7, 30, 200])
def test_kernel_every_lane_width(gpu, rng, mean_row):
    """Mean row lengths that make the launch policy pick 1, 2, 8, 32 and 32 lanes."""
    rows, cols = 333, 400
    host = np.where(
        rng.random((rows, cols)) < mean_row / cols, rng.standard_normal((rows, cols)), 0
    )
    a = sp.csr_matrix(gpu.asarray(host.astype(np.float32)))
    x = rng.standard_normal(cols).astype(np.float32)
    y = a.matvec(gpu.asarray(x), algorithm="kernel")
    assert_close(y, (host @ x.astype(np.float64)).astype(np.float32), rtol=1e-5, like=a.data)


@given(
    st.integers(1, 12),
    st.integers(1, 12),
    st.lists(st.tuples(st.integers(0, 11), st.integers(0, 11), st.floats(-4, 4)), max_size=60),
)
def test_property_coo_matches_dense_accumulation(rows, cols, triplets):
    kept = [(r, c, v) for r, c, v in triplets if r < rows and c < cols]
    row = np.array([t[0] for t in kept], dtype=np.int64)
    col = np.array([t[1] for t in kept], dtype=np.int64)
    data = np.array([t[2] for t in kept], dtype=np.float64)
    dense = np.zeros((rows, cols))
    np.add.at(dense, (row, col), data)
    a = sp.csr_matrix((data, (row, col)), shape=(rows, cols))
    np.testing.assert_allclose(a.to_dense(), dense, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(a.T.to_dense(), dense.T, rtol=1e-12, atol=1e-12)
    x = np.arange(1.0, cols + 1.0)
    np.testing.assert_allclose(a @ x, dense @ x, rtol=1e-12, atol=1e-12)
    # The arrays it holds pass its own canonical-CSR checks.
    sp.csr_matrix((a.data, a.indices, a.indptr), shape=a.shape)
