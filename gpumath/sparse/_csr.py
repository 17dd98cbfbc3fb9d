"""``csr_matrix``: compressed sparse rows on the CPU (SciPy) or the GPU (cupyx, cuSPARSE)."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import array_namespace, device_of, is_cupy_array, to_numpy
from .._validate import check_array
from ._checks import INDEX_LIMIT, as_data, check_coo, check_csr, check_shape
from ._spmv import spmv

__all__ = ["csr_matrix"]


def _lib(x: Any) -> Any:
    if is_cupy_array(x):
        import cupy

        return cupy
    return np


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_cupy_array(x)


class csr_matrix:  # noqa: N801 - SciPy's name
    """A sparse matrix in canonical CSR form, on the device of the arrays it is built from.

    Parameters
    ----------
    arg : array or tuple
        * a dense 2-D array: its non-zeros;
        * ``(data, (row, col))``: COO triplets; duplicates are summed;
        * ``(data, indices, indptr)``: CSR arrays, checked (``indptr`` of ``rows + 1``
          non-decreasing offsets from 0 to ``nnz``; column indices in range, sorted and
          unique within each row). Malformed input raises ValueError here, before any kernel
          could read it.
    shape : (int, int), optional
        Required for CSR arrays; inferred from the indices for COO when absent.

    Attributes
    ----------
    data : array (nnz,) float32/float64
    indices : array (nnz,) int32 column indices
    indptr : array (rows + 1,) int32 row offsets
    shape, dtype, nnz, device

    Notes
    -----
    Values are float32 or float64 (integers become float64). Column indices and row offsets
    are 32-bit, as cuSPARSE needs, so ``nnz`` and each dimension stay below 2**31.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.sparse import csr_matrix
    >>> a = csr_matrix(np.array([[0.0, 2.0], [3.0, 0.0]]))
    >>> a.nnz, a @ np.array([1.0, 1.0])
    (2, array([2., 3.]))
    """

    # NumPy and CuPy arrays hand `dense @ sparse` to our __rmatmul__ (NEP 13 opt-out).
    __array_ufunc__ = None

    def __init__(self, arg: Any, shape: Any = None) -> None:
        if _is_array(arg):
            data, indices, indptr, dense_shape = _from_dense(arg)
            if shape is not None and check_shape(shape) != dense_shape:
                raise ValueError(
                    f"`shape` must match the dense `arg` of shape {dense_shape}; got {shape!r}"
                )
            shape = dense_shape
        elif isinstance(arg, tuple) and len(arg) == 2 and isinstance(arg[1], tuple):
            data, (row, col) = arg
            data, indices, indptr, shape = _from_coo(data, row, col, shape)
        elif isinstance(arg, tuple) and len(arg) == 3:
            if shape is None:
                raise ValueError("`shape` is required with (data, indices, indptr)")
            shape = check_shape(shape)
            data = as_data(arg[0])
            indices, indptr = arg[1], arg[2]
            array_namespace(data, indices, indptr)
            check_csr(data, indices, indptr, shape)
            xp = _lib(data)
            indices = xp.ascontiguousarray(indices, dtype=xp.int32)
            indptr = xp.ascontiguousarray(indptr, dtype=xp.int32)
            data = xp.ascontiguousarray(data)
        else:
            raise TypeError(
                "`arg` must be a dense 2-D array, (data, (row, col)) or (data, indices, "
                f"indptr); got {type(arg).__name__}"
            )
        self.data, self.indices, self.indptr = data, indices, indptr
        self.shape: tuple[int, int] = shape
        self._vendor: Any = None

    @classmethod
    def _trusted(cls, data: Any, indices: Any, indptr: Any, shape: tuple[int, int]) -> csr_matrix:
        """Wrap arrays that are canonical CSR by construction (no checks, no sync)."""
        self = cls.__new__(cls)
        self.data, self.indices, self.indptr, self.shape = data, indices, indptr, shape
        self._vendor = None
        return self

    # ------------------------------------------------------------------ properties

    @property
    def dtype(self) -> np.dtype:
        return np.dtype(self.data.dtype)

    @property
    def nnz(self) -> int:
        """Stored values (known on the host: no synchronisation)."""
        return int(self.data.shape[0])

    @property
    def ndim(self) -> int:
        return 2

    @property
    def device(self) -> str:
        return device_of(self.data)

    def __repr__(self) -> str:
        return (
            f"<gpumath.sparse.csr_matrix {self.shape[0]}x{self.shape[1]}, {self.nnz} stored "
            f"{self.dtype} values on {self.device}>"
        )

    # ------------------------------------------------------------------ conversions

    def to_vendor(self, dtype: Any = None) -> Any:
        """The same matrix as ``scipy.sparse.csr_array`` or ``cupyx.scipy.sparse.csr_matrix``,
        sharing the index arrays (built once; a ``dtype`` other than ours makes a cast copy)."""
        if dtype is not None and np.dtype(dtype) != self.dtype:
            return csr_matrix._trusted(
                self.data.astype(dtype), self.indices, self.indptr, self.shape
            ).to_vendor()
        if self._vendor is None:
            if is_cupy_array(self.data):
                import cupyx.scipy.sparse as cusparse

                self._vendor = cusparse.csr_matrix(
                    (self.data, self.indices, self.indptr), shape=self.shape
                )
            else:
                import scipy.sparse

                self._vendor = scipy.sparse.csr_array(
                    (self.data, self.indices, self.indptr), shape=self.shape
                )
        return self._vendor

    def _row_ids(self) -> Any:
        """Row of every stored value."""
        xp = _lib(self.data)
        positions = xp.arange(self.nnz, dtype=xp.int64)
        offsets = self.indptr.astype(xp.int64)
        return (xp.searchsorted(offsets, positions, side="right") - 1).astype(xp.int64)

    def to_dense(self) -> Any:
        """The matrix as a dense 2-D array on its device.

        Examples
        --------
        >>> import numpy as np
        >>> from gpumath.sparse import csr_matrix
        >>> csr_matrix(np.eye(2)).to_dense()
        array([[1., 0.],
               [0., 1.]])
        """
        xp = _lib(self.data)
        dense = xp.zeros(self.shape, dtype=self.data.dtype)
        dense[self._row_ids(), self.indices] = self.data  # canonical: no duplicate (i, j)
        return dense

    toarray = to_dense

    def transpose(self) -> csr_matrix:
        """The transpose, again in canonical CSR form."""
        data, indices, indptr, shape = _coo_to_csr(
            self.data, xp_int64(self.indices), self._row_ids(), self.shape[::-1], sum_dup=False
        )
        return csr_matrix._trusted(data, indices, indptr, shape)

    @property
    def T(self) -> csr_matrix:  # noqa: N802 - NumPy's name
        return self.transpose()

    # ------------------------------------------------------------------ products

    def matvec(self, x: Any, *, algorithm: str = "auto") -> Any:
        """``self @ x`` for a dense vector (N,) or matrix (N, K).

        Parameters
        ----------
        x : array
            Same device as the matrix.
        algorithm : {"auto", "kernel", "vendor"}
            On the GPU: ``"kernel"`` is gpumath's CSR SpMV (kernels/spmv.cu; a matrix ``x``
            is taken column by column), ``"vendor"`` is cuSPARSE through cupyx, and
            ``"auto"`` picks one for the shape. On the CPU every choice runs SciPy.

        Examples
        --------
        >>> import numpy as np
        >>> from gpumath.sparse import csr_matrix
        >>> csr_matrix(np.array([[1.0, 2.0]])).matvec(np.array([3.0, 4.0]))
        array([11.])
        """
        return spmv(self, x, algorithm=algorithm)

    def __matmul__(self, other: Any) -> Any:
        if not _is_array(other):
            return NotImplemented
        return spmv(self, other, algorithm="auto")

    def __rmatmul__(self, other: Any) -> Any:
        if not _is_array(other):
            return NotImplemented
        # x @ A = (A^T x^T)^T
        result = spmv(self.transpose(), other.T, algorithm="auto")
        return result.T


def xp_int64(x: Any) -> Any:
    return x.astype(_lib(x).int64)


def _from_dense(dense: Any) -> tuple[Any, Any, Any, tuple[int, int]]:
    check_array(dense, "arg")
    if dense.ndim != 2:
        raise ValueError(f"a dense `arg` must be 2-D; got shape {tuple(dense.shape)}")
    shape = check_shape(dense.shape)
    dense = as_data(dense, "arg")
    xp = _lib(dense)
    rows, cols = xp.nonzero(dense)  # row-major order: canonical CSR already
    if rows.shape[0] > INDEX_LIMIT:
        raise ValueError(f"at most 2**31 - 1 stored values are supported; got {rows.shape[0]}")
    counts = xp.bincount(rows, minlength=shape[0])
    indptr = xp.zeros(shape[0] + 1, dtype=xp.int32)
    indptr[1:] = xp.cumsum(counts)
    return xp.ascontiguousarray(dense[rows, cols]), cols.astype(xp.int32), indptr, shape


def _from_coo(data: Any, row: Any, col: Any, shape: Any) -> tuple[Any, Any, Any, tuple[int, int]]:
    data = as_data(data)
    for name, idx in (("row", row), ("col", col)):
        check_array(idx, name)
    array_namespace(data, row, col)
    if shape is None:
        if data.shape[0] == 0:
            raise ValueError("`shape` is required for an empty COO input")
        top = to_numpy(_lib(data).stack([row.max(), col.max()])).tolist()
        shape = (int(top[0]) + 1, int(top[1]) + 1)
    shape = check_shape(shape)
    check_coo(data, row, col, shape)
    return _coo_to_csr(data, xp_int64(row), xp_int64(col), shape, sum_dup=True)


def _coo_to_csr(
    data: Any, row: Any, col: Any, shape: tuple[int, int], *, sum_dup: bool
) -> tuple[Any, Any, Any, tuple[int, int]]:
    """Sort triplets by (row, col), sum duplicates, build the offsets: canonical CSR."""
    xp = _lib(data)
    key = row * shape[1] + col  # < 2**62: both factors below 2**31
    order = xp.argsort(key)  # keys are unique per (row, col); duplicates are summed
    key, values = key[order], data[order]
    if sum_dup and key.shape[0] > 1:
        first = xp.ones(key.shape[0], dtype=bool)
        first[1:] = key[1:] != key[:-1]
        group = xp.cumsum(first.astype(xp.int64)) - 1
        n_unique = int(to_numpy(group[-1])) + 1  # the output size must be known on the host
        values = xp.bincount(group, weights=values, minlength=n_unique).astype(data.dtype)
        key = key[first]
    rows = key // shape[1] if shape[1] else key
    counts = xp.bincount(rows, minlength=shape[0]) if key.shape[0] else xp.zeros(shape[0], xp.int64)
    indptr = xp.zeros(shape[0] + 1, dtype=xp.int32)
    indptr[1:] = xp.cumsum(counts)
    cols = (key - rows * shape[1]).astype(xp.int32)
    return xp.ascontiguousarray(values), cols, indptr, shape
