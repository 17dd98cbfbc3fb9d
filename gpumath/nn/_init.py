"""Weight initialisers (Glorot/Xavier and He/Kaiming), PyTorch's fan conventions.

``shape`` is ``(out, in, *kernel)``: fan_in = in * prod(kernel), fan_out = out * prod(kernel).
``rng`` is anything with NumPy Generator's ``random(size, dtype=)`` and
``standard_normal(size, dtype=)`` (NumPy's Generator, ``gpumath.random.default_rng``); the
result lives where ``rng`` draws.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["fans", "he_normal", "he_uniform", "xavier_normal", "xavier_uniform"]


def fans(shape: Sequence[int]) -> tuple[int, int]:
    """``(fan_in, fan_out)`` of a weight of ``shape`` ``(out, in, *kernel)``.

    Examples
    --------
    >>> from gpumath.nn import fans
    >>> fans((16, 3, 5, 5))
    (75, 400)
    """
    if not isinstance(shape, Sequence) or not all(
        isinstance(n, int | np.integer) and not isinstance(n, bool) for n in shape
    ):
        raise TypeError(f"`shape` must be a sequence of ints; got {shape!r}")
    if any(n < 0 for n in shape):
        raise ValueError(f"`shape` must be non-negative; got {tuple(shape)}")
    shape = tuple(int(n) for n in shape)
    if len(shape) < 2:
        raise ValueError(f"`shape` must have at least 2 axes (out, in, ...); got {shape}")
    receptive = math.prod(shape[2:])
    return shape[1] * receptive, shape[0] * receptive


def _scale(fan: int, numerator: float, gain: float, shape: Sequence[int]) -> float:
    """``gain * sqrt(numerator / fan)``; a zero fan (an axis of length 0) has no scale."""
    if fan == 0:
        raise ValueError(f"`shape` must have non-zero fans; got {tuple(shape)}")
    if not math.isfinite(gain):
        raise ValueError(f"`gain` must be finite; got {gain!r}")
    return gain * math.sqrt(numerator / fan)


def _uniform(shape: tuple[int, ...], bound: float, rng: Any, dtype: Any) -> Any:
    return (rng.random(shape, dtype=dtype) * 2 - 1) * np.dtype(dtype).type(bound)


def _normal(shape: tuple[int, ...], std: float, rng: Any, dtype: Any) -> Any:
    return rng.standard_normal(shape, dtype=dtype) * np.dtype(dtype).type(std)


def xavier_uniform(
    shape: Sequence[int], rng: Any, *, gain: float = 1.0, dtype: Any = np.float32
) -> Any:
    """U(-a, a) with ``a = gain * sqrt(6 / (fan_in + fan_out))`` (Glorot & Bengio, 2010).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.nn import xavier_uniform
    >>> w = xavier_uniform((200, 100), np.random.default_rng(0))
    >>> bool(abs(w).max() <= np.sqrt(6 / 300))
    True
    """
    fan_in, fan_out = fans(shape)
    return _uniform(tuple(shape), _scale(fan_in + fan_out, 6.0, gain, shape), rng, dtype)


def xavier_normal(
    shape: Sequence[int], rng: Any, *, gain: float = 1.0, dtype: Any = np.float32
) -> Any:
    """N(0, s^2) with ``s = gain * sqrt(2 / (fan_in + fan_out))``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.nn import xavier_normal
    >>> xavier_normal((3, 4), np.random.default_rng(0)).dtype
    dtype('float32')
    """
    fan_in, fan_out = fans(shape)
    return _normal(tuple(shape), _scale(fan_in + fan_out, 2.0, gain, shape), rng, dtype)


def he_uniform(shape: Sequence[int], rng: Any, *, dtype: Any = np.float32) -> Any:
    """U(-a, a) with ``a = sqrt(6 / fan_in)`` (He et al., 2015; for ReLU layers).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.nn import he_uniform
    >>> he_uniform((3, 4), np.random.default_rng(0), dtype=np.float64).shape
    (3, 4)
    """
    fan_in, _ = fans(shape)
    return _uniform(tuple(shape), _scale(fan_in, 6.0, 1.0, shape), rng, dtype)


def he_normal(shape: Sequence[int], rng: Any, *, dtype: Any = np.float32) -> Any:
    """N(0, 2 / fan_in) (He et al., 2015).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.nn import he_normal
    >>> he_normal((3, 4), np.random.default_rng(0)).shape
    (3, 4)
    """
    fan_in, _ = fans(shape)
    return _normal(tuple(shape), _scale(fan_in, 2.0, 1.0, shape), rng, dtype)
