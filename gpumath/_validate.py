"""Argument checks with one error format (DESIGN.md §6).

Messages name the argument, what was expected and what was given, e.g.
``ValueError("`sigma` must be > 0; got -1.0")``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._backend import is_cupy_array

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def is_int(value: Any) -> bool:
    """A Python or NumPy integer, not a bool (NumPy would truncate 2.5 or 1.0 silently)."""
    return isinstance(value, int | np.integer) and not isinstance(value, bool)


def check_callable(value: Any, name: str) -> None:
    """TypeError unless ``value`` can be called: at the call that takes it, not deep inside
    the loop or the returned function that first calls it."""
    if not callable(value):
        raise TypeError(f"`{name}` must be callable; got {type(value).__name__}")


def check_array(x: Any, name: str) -> None:
    """Raise TypeError unless ``x`` is a NumPy or CuPy array."""
    if not (isinstance(x, np.ndarray) or is_cupy_array(x)):
        raise TypeError(
            f"`{name}` must be a NumPy or CuPy array; got {type(x).__name__} "
            "(convert with gpumath.asarray)"
        )


def check_real_dtype(x: Any, name: str) -> None:
    """Raise TypeError unless ``x`` holds booleans, integers or real floats."""
    kind = np.dtype(x.dtype).kind
    if kind not in "biuf":
        raise TypeError(f"`{name}` must have a real dtype (bool, int or float); got {x.dtype}")


def check_same_shape(a: Any, b: Any, a_name: str, b_name: str) -> None:
    """Raise ValueError naming both shapes when they differ."""
    if tuple(a.shape) != tuple(b.shape):
        raise ValueError(
            f"`{a_name}` and `{b_name}` must have the same shape; "
            f"got {tuple(a.shape)} and {tuple(b.shape)}"
        )


def check_out(out: Any, shape: tuple[int, ...], dtype: Any, name: str = "out") -> None:
    """Check an ``out=`` array: the right array type, shape and dtype for the result."""
    check_array(out, name)
    if tuple(out.shape) != tuple(shape):
        raise ValueError(f"`{name}` must have shape {tuple(shape)}; got {tuple(out.shape)}")
    if np.dtype(out.dtype) != np.dtype(dtype):
        raise TypeError(f"`{name}` must have dtype {np.dtype(dtype)}; got {out.dtype}")


def check_scalar_or_array(value: Any, name: str) -> None:
    """Allow None, a real Python/NumPy scalar, or an array; reject anything else."""
    if value is None or isinstance(value, int | float | np.integer | np.floating | np.bool_):
        return
    if isinstance(value, complex | np.complexfloating):
        raise TypeError(f"`{name}` must be real; got {value!r}")
    check_array(value, name)
