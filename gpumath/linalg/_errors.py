"""The error raised by gpumath.linalg when a matrix has no answer (singular, not square...)."""

from __future__ import annotations

import numpy as np

__all__ = ["LinAlgError"]


class LinAlgError(np.linalg.LinAlgError):
    """A linear-algebra routine cannot produce a result; the message says why.

    A subclass of ``numpy.linalg.LinAlgError`` (itself a ``ValueError``), so code that
    catches NumPy's error catches this one too, on the CPU and on the GPU alike.
    """
