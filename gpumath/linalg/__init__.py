"""Linear algebra: NumPy's ``numpy.linalg`` API on LAPACK (CPU) or cuSOLVER (GPU), plus
randomized SVD, low-rank approximation, Lanczos/power iteration and PCA.

Functions compute where their inputs live. Singular, non-square or non-positive-definite
input raises :class:`LinAlgError` (a ``numpy.linalg.LinAlgError``) on both devices.
"""

from ._decomp import EighResult, EigResult, QRResult, SVDResult, eig, eigh, eigvalsh, qr, svd
from ._dense import SlogdetResult, cholesky, det, inv, lstsq, pinv, slogdet, solve
from ._errors import LinAlgError
from ._iterative import PowerIterationResult, lanczos, power_iteration
from ._norms import cond, matrix_rank, norm
from ._pca import PCA
from ._randomized import LowRank, low_rank, randomized_svd

__all__ = [
    "PCA",
    "EigResult",
    "EighResult",
    "LinAlgError",
    "LowRank",
    "PowerIterationResult",
    "QRResult",
    "SVDResult",
    "SlogdetResult",
    "cholesky",
    "cond",
    "det",
    "eig",
    "eigh",
    "eigvalsh",
    "inv",
    "lanczos",
    "low_rank",
    "lstsq",
    "matrix_rank",
    "norm",
    "pinv",
    "power_iteration",
    "qr",
    "randomized_svd",
    "slogdet",
    "solve",
    "svd",
]
