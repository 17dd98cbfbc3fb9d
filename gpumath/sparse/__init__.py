"""Sparse matrices: CSR over SciPy (CPU) and cupyx/cuSPARSE (GPU), with gpumath's SpMV kernel.

>>> import numpy as np, gpumath.sparse as sp
>>> a = sp.csr_matrix((np.array([1.0, 2.0]), (np.array([0, 1]), np.array([1, 0]))), shape=(2, 2))
>>> a.to_dense()
array([[0., 1.],
       [2., 0.]])
"""

from ._csr import csr_matrix
from ._spmv import ALGORITHMS

__all__ = ["ALGORITHMS", "csr_matrix"]
