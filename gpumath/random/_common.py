"""Helpers shared by the Generator's methods: shapes, dtypes, scalar checks, device context."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .._backend import is_cupy_array, to_numpy

Size = int | Sequence[int] | None


def as_shape(size: Size, *params: Any) -> tuple[int, ...]:
    """Output shape: ``size`` when given (parameters must broadcast to it), else theirs."""
    param_shape = np.broadcast_shapes(*(np.shape(p) for p in params))
    if size is None:
        return param_shape
    shape = (size,) if isinstance(size, int | np.integer) else tuple(size)
    if any(int(s) < 0 for s in shape):
        raise ValueError(f"`size` must be non-negative; got {size!r}")
    shape = tuple(int(s) for s in shape)
    if np.broadcast_shapes(shape, param_shape) != shape:
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
