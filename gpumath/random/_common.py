"""Helpers shared by the Generator's methods: shapes, dtypes, scalar checks, device context."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._backend import is_cupy_array, to_numpy
from .._validate import is_int

Size = int | Sequence[int] | None


def as_shape(size: Size, *params: Any) -> tuple[int, ...]:
    """Output shape: ``size`` when given (parameters must broadcast to it), else theirs."""
    shapes = [np.shape(p) for p in params]
    try:
        param_shape = np.broadcast_shapes(*shapes)
    except ValueError:
        raise ValueError(f"the parameters must broadcast together; got shapes {shapes}") from None
    if size is None:
        return param_shape
    shape = (size,) if isinstance(size, int | np.integer) else size
    # A float or a string would pass int() and be truncated or parsed: accept only ints.
    if (
        isinstance(shape, str)
        or not isinstance(shape, Sequence | np.ndarray)
        or not all(is_int(s) for s in shape)
    ):
        raise TypeError(f"`size` must be None, an int or a sequence of ints; got {size!r}")
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"`size` must be non-negative; got {size!r}")
    try:
        fits = np.broadcast_shapes(shape, param_shape) == shape
    except ValueError:
        fits = False
    if not fits:
        raise ValueError(
            f"`size` {shape} must be a shape the parameters {param_shape} broadcast to"
        )
    return shape


def float_dtype(dtype: Any, *params: Any) -> np.dtype:
    """float32 or float64: ``dtype`` if given, else that of floating array parameters."""
    if dtype is None:
        found = [
            np.dtype(p.dtype)
            for p in params
            if (isinstance(p, np.ndarray) or is_cupy_array(p)) and np.dtype(p.dtype).kind == "f"
        ]
        dtype = np.result_type(*found) if found else np.float64
    dtype = np.dtype(dtype)
    if dtype not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise TypeError(f"`dtype` must be float32 or float64; got {dtype}")
    return dtype


def check_scalar(value: Any, name: str, test: Callable[[float], bool], text: str) -> None:
    """Check a scalar parameter (arrays on the device are not inspected: no host sync)."""
    if isinstance(value, int | float | np.integer | np.floating):
        if math.isnan(float(value)) or not test(float(value)):
            raise ValueError(f"`{name}` must be {text}; got {float(value)!r}")


def check_counts(n: Any, name: str) -> None:
    """Counts: a scalar must be a non-negative integer value; an array must have an integer
    dtype (casting 2.5 to int64 would silently give 2; its values are not read: no sync)."""
    if isinstance(n, int | float | np.integer | np.floating):
        check_scalar(n, name, lambda v: v >= 0 and v == int(v), "a non-negative integer")
        return
    dtype = n.dtype if isinstance(n, np.ndarray) or is_cupy_array(n) else np.asarray(n).dtype
    if np.dtype(dtype).kind not in "biu":
        raise TypeError(f"`{name}` must hold integers; got dtype {dtype}")


def first(values: Any, mask: Any) -> Any:
    """The first element of ``values`` where ``mask`` holds, as a Python number (error path:
    indexing happens on the host, which also handles 0-d masks)."""
    host, where = to_numpy(values), to_numpy(mask)
    return np.broadcast_to(host, where.shape)[where].ravel()[0].item()


def on_device(method: Callable) -> Callable:
    """Run a Generator method with the generator's GPU current (a no-op on the CPU)."""

    @functools.wraps(method)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        with self._device_context():
            result = method(self, *args, **kwargs)
        # NumPy turns 0-d results into scalars; a Generator always returns arrays.
        return np.asarray(result) if isinstance(result, np.generic) else result

    return wrapper


@functools.cache
def scale_shift_kernel() -> Any:
    """``z = z * scale + shift`` in place as one CuPy elementwise kernel (built on first GPU
    use: ``import gpumath`` never imports CuPy). ``T`` is fixed by the output ``z``; the
    parameters must be NumPy scalars or CuPy arrays of that same dtype, broadcasting to ``z``."""
    import cupy

    return cupy.ElementwiseKernel(
        "T scale, T shift", "T z", "z = z * scale + shift", "gm_random_scale_shift"
    )
