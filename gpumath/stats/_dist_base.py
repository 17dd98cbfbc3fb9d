"""Shared machinery of the distribution objects: parameters, namespaces, dtypes, sampling.

Parameters are kept as given. Arrays (NumPy or CuPy) are *strong*: they fix the namespace,
device and dtype of results. Python scalars and sequences are *weak*: they follow the input
(``Normal(0, 1).logpdf(x32)`` is float32 and lives where ``x32`` lives), like Python scalars
in NumPy 2 arithmetic. Results never leave the device their inputs live on.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import array_api_compat
import numpy as np

from .._backend import (
    array_namespace,
    asarray,
    device_of,
    is_cupy_array,
    is_cupy_namespace,
    to_numpy,
)
from ..random import Generator, default_rng

__all__ = ["Distribution", "special_for"]


def special_for(xp: Any) -> Any:
    """``scipy.special`` for NumPy arrays, ``cupyx.scipy.special`` for CuPy arrays."""
    if is_cupy_namespace(xp):
        import cupyx.scipy.special as special
    else:
        import scipy.special as special
    return special


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_cupy_array(x)


def first_bad(values: Any, bad: Any) -> float:
    """The first value where ``bad`` holds, for error messages (indexed on the host)."""
    host, where = to_numpy(values), to_numpy(bad)
    return float(np.broadcast_to(host, where.shape)[where].ravel()[0])


class Distribution:
    """Base class: a batch of distributions sharing one family, parameters broadcast.

    Subclasses call :meth:`_set_params` in ``__init__`` and implement the densities with
    :meth:`_prepare` (the input on its device, parameters cast to the result dtype).
    """

    _event_ndim = 0  # axes of one draw: 0 for scalars, 1 for vectors

    def _set_params(self, **params: Any) -> None:
        self._params: dict[str, Any] = {}
        strong = []
        for name, value in params.items():
            if _is_array(value):
                if np.dtype(value.dtype).kind not in "biuf":
                    raise TypeError(f"`{name}` must be real; got dtype {value.dtype}")
                if np.dtype(value.dtype).kind != "f":
                    value = array_namespace(value).astype(value, np.float64)
                strong.append(value)
            else:
                # np.asarray would turn None into NaN and parse "3" as 3.0: check the kind.
                if np.asarray(value).dtype.kind not in "biuf":
                    raise TypeError(f"`{name}` must be a real number or array; got {value!r}")
                value = np.asarray(value, dtype=np.float64)
            self._params[name] = value
        self._strong = strong
        self._xp = array_namespace(*strong) if strong else None
        self._dtype = np.result_type(*(s.dtype for s in strong)) if strong else None
        try:
            self.batch_shape  # noqa: B018 (the parameters must broadcast together)
        except ValueError:
            shapes = ", ".join(f"`{n}` {tuple(v.shape)}" for n, v in self._params.items())
            raise ValueError(f"the parameters must broadcast together; got {shapes}") from None

    def _require(self, name: str, test: Callable[[Any], Any], text: str) -> None:
        """Raise ``ValueError("`name` must be <text>; got <first offending value>")``."""
        value = self._params[name]
        bad = ~test(value)  # NaN fails every comparison, so it is caught here
        bad = np.asarray(bad) if isinstance(bad, np.generic) else bad
        if bool(array_namespace(bad).any(bad)):
            raise ValueError(f"`{name}` must be {text}; got {first_bad(value, bad)!r}")

    @property
    def batch_shape(self) -> tuple[int, ...]:
        """Shape of the batch of distributions (the parameters broadcast)."""
        return np.broadcast_shapes(*(self._param_batch_shape(n) for n in self._params))

    @property
    def event_shape(self) -> tuple[int, ...]:
        """Shape of one draw: ``()`` for scalar distributions."""
        return ()

    def _param_batch_shape(self, name: str) -> tuple[int, ...]:
        return tuple(self._params[name].shape)

    def __repr__(self) -> str:
        def show(v: Any) -> str:
            return repr(float(v)) if v.ndim == 0 else f"array(shape={tuple(v.shape)})"

        args = ", ".join(f"{k}={show(v)}" for k, v in self._params.items())
        return f"{type(self).__name__}({args})"

    # ------------------------------------------------------------------ evaluation

    def _namespace(self, x: Any = None) -> tuple[Any, Any]:
        """Namespace and device for a computation on ``x`` (or on the parameters alone)."""
        if _is_array(x):
            xp = array_namespace(x, *self._strong)
            return xp, array_api_compat.device(x)
        if self._strong:
            return self._xp, array_api_compat.device(self._strong[0])
        probe = asarray(0.0)  # nothing to follow: the current device
        return array_namespace(probe), array_api_compat.device(probe)

    def _result_dtype(self, x: Any = None) -> Any:
        floats = [] if self._dtype is None else [self._dtype]
        if x is not None and np.dtype(x.dtype).kind == "f":
            floats.append(np.dtype(x.dtype))
        return np.result_type(*floats) if floats else np.dtype(np.float64)

    def _params_in(self, xp: Any, dtype: Any, device: Any) -> list[Any]:
        return [xp.asarray(v, dtype=dtype, device=device) for v in self._params.values()]

    def _prepare(self, x: Any, name: str = "x") -> tuple[Any, Any, Any, list[Any]]:
        """``(xp, x, dtype, params)``: ``x`` as an array of the result dtype on its device."""
        kind = np.dtype(x.dtype).kind if _is_array(x) else np.asarray(x).dtype.kind
        if kind not in "biuf":  # complex would lose its imaginary part, None become NaN
            got = f"dtype {x.dtype}" if _is_array(x) else repr(x)
            raise TypeError(f"`{name}` must hold real numbers; got {got}")
        xp, device = self._namespace(x)
        x = x if _is_array(x) else xp.asarray(x, device=device)
        dtype = self._result_dtype(x)
        return xp, xp.astype(x, dtype), dtype, self._params_in(xp, dtype, device)

    def _parameters(self) -> tuple[Any, Any, list[Any]]:
        """``(xp, dtype, params)`` for moments and entropy, on the parameters' device."""
        xp, device = self._namespace()
        dtype = self._result_dtype()
        return xp, dtype, self._params_in(xp, dtype, device)

    @staticmethod
    def _finish(xp: Any, value: Any, dtype: Any) -> Any:
        """Cast to the result dtype (SciPy turns 0-d results into scalars: undo that)."""
        return xp.astype(xp.asarray(value), dtype)

    def standard_deviation(self) -> Any:
        """Square root of :meth:`variance`."""
        variance = self.variance()
        return array_namespace(variance).sqrt(variance)

    # ------------------------------------------------------------------ sampling

    def _rng(self, rng: Any) -> Generator:
        """A gpumath Generator on the parameters' device (a seed or None makes one)."""
        device = device_of(self._strong[0]) if self._strong else None
        if isinstance(rng, Generator):
            if device is not None and rng.device != device:
                raise ValueError(f"`rng` draws on {rng.device} but the parameters live on {device}")
            return rng
        return default_rng(rng, device=device)

    def _sample_setup(self, shape: Any, rng: Any) -> tuple[Generator, tuple[int, ...], Any, list]:
        """Generator, full output shape (``shape + batch_shape``), dtype, params on its device."""
        gen = self._rng(rng)
        shape = (shape,) if isinstance(shape, int | np.integer) else shape
        if (
            isinstance(shape, str)
            or not isinstance(shape, Sequence)
            or not all(isinstance(s, int | np.integer) and not isinstance(s, bool) for s in shape)
        ):
            raise TypeError(f"`shape` must be an int or a sequence of ints; got {shape!r}")
        shape = tuple(shape)
        if any(int(s) < 0 for s in shape):
            raise ValueError(f"`shape` must be non-negative; got {shape}")
        dtype = self._result_dtype()
        params = [asarray(v, dtype=dtype, device=gen.device) for v in self._params.values()]
        return gen, (*(int(s) for s in shape), *self.batch_shape), dtype, params


def positive(v: Any) -> Any:
    """Test for ``> 0`` (NaN fails)."""
    return v > 0


def non_negative(v: Any) -> Any:
    """Test for ``>= 0`` (NaN fails)."""
    return v >= 0


def finite(v: Any) -> Any:
    """Test for a finite value."""
    return array_namespace(v).isfinite(v)


def probability(v: Any) -> Any:
    """Test for a value in [0, 1]."""
    return (v >= 0) & (v <= 1)


LOG_2PI = math.log(2 * math.pi)
