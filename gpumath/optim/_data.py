"""Mini-batches for training loops."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from .._backend import asarray, device_of
from .._validate import check_array

__all__ = ["batches"]


def batches(
    X: Any, y: Any, batch_size: int, rng: Any = None, shuffle: bool = True
) -> Iterator[tuple[Any, Any]]:
    """Yield ``(X[idx], y[idx])`` mini-batches covering every row once (the last may be short).

    Parameters
    ----------
    X, y : array
        Same number of rows, on the same device.
    batch_size : int
        Rows per batch (> 0).
    rng : generator, optional
        Anything with ``permutation(n)`` (NumPy's Generator, ``gpumath.random``); needed
        when ``shuffle``. A host permutation is copied to ``X``'s device once per epoch.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> X, y = np.arange(10.0).reshape(5, 2), np.arange(5)
    >>> [b[1].tolist() for b in optim.batches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    """
    if not isinstance(batch_size, int) or batch_size <= 0:
        raise ValueError(f"`batch_size` must be a positive int; got {batch_size!r}")
    check_array(X, "X")
    check_array(y, "y")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(
            f"`X` and `y` must have the same number of rows; got {tuple(X.shape)} and "
            f"{tuple(y.shape)}"
        )
    if shuffle:
        if rng is None:
            raise ValueError("`rng` must be given when `shuffle` is True; got None")
        order = asarray(rng.permutation(n), device=device_of(X))
        for start in range(0, n, batch_size):
            idx = order[start : start + batch_size]
            yield X[idx], y[idx]
    else:
        for start in range(0, n, batch_size):
            yield X[start : start + batch_size], y[start : start + batch_size]
