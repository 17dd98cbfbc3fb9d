"""``Generator``: NumPy's Generator API over NumPy (CPU) or CuPy (GPU) bit generators.

This is the one place outside ``ops`` that branches on the backend (DESIGN.md §4): random
generation is not part of the array API. Methods CuPy's ``Generator`` lacks are built on
the device from the ones it has (uniforms, normals, binomials); nothing goes through the host.
"""

from __future__ import annotations

import contextlib
import math
from typing import Any

import numpy as np

from .._backend import device_of, get_device, is_cupy_array, use_device
from ._common import (
    Size,
    as_shape,
    check_counts,
    check_scalar,
    float_dtype,
    on_device,
    scale_shift_kernel,
)
from ._sampling import SamplingMethods

__all__ = ["Generator", "default_rng"]

# CuPy passes the width of an integer range to its kernel as int32_t (cupy/random/
# _generator_api.pyx), so wider ranges are built from two 31-bit draws here.
_CUPY_INT_RANGE = 2**31 - 1


class Generator(SamplingMethods):
    """Random numbers on one device, with ``numpy.random.Generator``'s method names.

    Make one with :func:`default_rng`. Every method takes ``size=`` (an int or a shape; by
    default the broadcast shape of the parameters) and returns an array on the generator's
    device, a 0-d array where NumPy would return a Python scalar. Parameters may be Python
    scalars, sequences, or arrays on the generator's device; arrays elsewhere raise.

    Float methods take ``dtype=`` (float32 or float64; by default that of floating array
    parameters, else float64): NumPy has it on ``random``/``standard_normal`` only, here it is
    everywhere, so float32 draws never pass through float64 in memory.

    Scalar parameters are validated; device arrays are not (that would cost a host
    synchronisation per call), except probability vectors, whose validation does.

    Attributes
    ----------
    device : str
        ``"cpu"`` or ``"cuda:N"``.
    seed_sequence : numpy.random.SeedSequence
        The seed behind the stream; :meth:`spawn` derives independent children from it.
    """

    def __init__(self, seed_sequence: np.random.SeedSequence, device: str) -> None:
        self.seed_sequence = seed_sequence
        self.device = device
        if device == "cpu":
            self._xp: Any = np
            self._gen: Any = np.random.Generator(np.random.PCG64(seed_sequence))
        else:
            import cupy

            self._xp = cupy
            with self._device_context():
                self._gen = cupy.random.Generator(cupy.random.XORWOW(seed_sequence))

    def __repr__(self) -> str:
        bits = "PCG64" if self.device == "cpu" else "XORWOW"
        return f"gpumath.random.Generator({bits}) on {self.device}"

    def _device_context(self) -> Any:
        if self.device == "cpu":
            return contextlib.nullcontext()
        import cupy

        return cupy.cuda.Device(int(self.device.split(":")[1]))

    def _arr(self, value: Any, name: str, dtype: Any = None, *, real: bool = True) -> Any:
        """``value`` as an array on this generator's device (never copied across devices);
        with ``real``, one of bools, ints or floats (None, strings and complex numbers would
        otherwise become NaN, fail deep in NumPy, or lose their imaginary part)."""
        is_array = isinstance(value, np.ndarray) or is_cupy_array(value)
        if is_array and device_of(value) != self.device:
            raise TypeError(
                f"`{name}` lives on {device_of(value)} but the generator on {self.device}; "
                "move it with gpumath.to_device(x, device)"
            )
        if real:
            kind = np.dtype(value.dtype if is_array else np.asarray(value).dtype).kind
            if kind not in "biuf":
                got = f"dtype {value.dtype}" if is_array else repr(value)
                raise TypeError(f"`{name}` must hold real numbers; got {got}")
        return self._xp.asarray(value, dtype=dtype)

    def _param(self, value: Any, name: str, dtype: np.dtype) -> Any:
        """A float parameter: Python and NumPy scalars as a NumPy scalar of ``dtype`` (passed
        to the GPU by value, no host-to-device copy), anything else as an array of ``dtype``
        on this device."""
        if isinstance(value, int | float | np.integer | np.floating):
            return dtype.type(value)
        return self._arr(value, name, dtype)

    def _scale_shift(self, draw: Any, scale: Any, shift: Any) -> Any:
        """``draw * scale + shift`` in place (``scale``/``shift`` from :meth:`_param`).

        On a GPU one fused elementwise pass: drawing is bound by memory traffic, so every
        extra pass over ``draw`` costs about as much as the draw itself. On the CPU, NumPy's
        in-place multiply and add, skipping an identity scale or a zero shift.
        """
        if self.device != "cpu":
            return scale_shift_kernel()(scale, shift, draw)
        if not (np.ndim(scale) == 0 and scale == 1):
            draw *= scale
        if not (np.ndim(shift) == 0 and shift == 0):
            draw += shift
        return draw

    # ------------------------------------------------------------------ uniform

    @on_device
    def random(self, size: Size = None, dtype: Any = np.float64) -> Any:
        """Uniform floats in [0, 1).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> gr.default_rng(0, device="cpu").random(3).shape
        (3,)
        """
        dtype = float_dtype(dtype)
        return self._xp.asarray(self._gen.random(as_shape(size), dtype=dtype))

    @on_device
    def uniform(self, low: Any = 0.0, high: Any = 1.0, size: Size = None, dtype: Any = None) -> Any:
        """Uniform floats in [low, high).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> x = gr.default_rng(0, device="cpu").uniform(-1, 1, size=1000)
        >>> bool((x >= -1).all() and (x < 1).all())
        True
        """
        check_scalar(low, "low", math.isfinite, "finite")
        check_scalar(high, "high", math.isfinite, "finite")
        scalars = int | float | np.integer | np.floating
        if isinstance(low, scalars) and isinstance(high, scalars) and high < low:
            raise ValueError(f"`high` must be >= `low`; got low={low!r}, high={high!r}")
        dtype = float_dtype(dtype, low, high)
        shape = as_shape(size, low, high)
        if self.device == "cpu" and dtype == np.float64:  # NumPy's own: low + (high - low) * u
            lo, hi = self._arr(low, "low"), self._arr(high, "high")  # refuses GPU arrays
            return np.asarray(self._gen.uniform(lo, hi, shape))
        lo, hi = self._param(low, "low", dtype), self._param(high, "high", dtype)
        if not (isinstance(lo, np.generic) and isinstance(hi, np.generic)):
            lo, hi = self._arr(lo, "low", dtype), self._arr(hi, "high", dtype)
        u = self.random(shape, dtype=dtype)  # already the broadcast shape: scale in place
        return self._scale_shift(u, hi - lo, lo)

    @on_device
    def integers(
        self,
        low: Any,
        high: Any = None,
        size: Size = None,
        dtype: Any = np.int64,
        endpoint: bool = False,
    ) -> Any:
        """Uniform integers in [low, high) (or [low, high] with ``endpoint=True``).

        On a GPU, array bounds are drawn as ``low + floor(u * (high - low))`` from float64
        uniforms (non-uniformity below ``(high - low) / 2**53``), and scalar ranges wider
        than 2**31 from two 31-bit draws reduced modulo the range (bias below range / 2**62).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> d = gr.default_rng(0, device="cpu").integers(1, 7, size=100)
        >>> int(d.min()) >= 1 and int(d.max()) <= 6
        True
        """
        if high is None:
            low, high = 0, low
        for name, bound in (("low", low), ("high", high)):  # int() would truncate 2.5, fail on NaN
            check_scalar(bound, name, lambda v: math.isfinite(v) and v == int(v), "an integer")
        scalar = np.ndim(low) == 0 and np.ndim(high) == 0 and not is_cupy_array(low)
        if scalar and int(high) + int(endpoint) <= int(low):
            raise ValueError(f"`high` must be > `low`; got low={int(low)}, high={int(high)}")
        shape = as_shape(size, low, high)
        if self.device == "cpu":
            return np.asarray(self._gen.integers(low, high, shape, dtype=dtype, endpoint=endpoint))
        if scalar:
            lo, hi = int(low), int(high) + int(endpoint)
            if hi - lo - 1 <= _CUPY_INT_RANGE:
                return self._gen.integers(lo, hi, size=shape, dtype=dtype)
            top = self._gen.integers(0, 2**31, size=shape, dtype=np.int64)
            bottom = self._gen.integers(0, 2**31, size=shape, dtype=np.int64)
            return (lo + (top * 2**31 + bottom) % (hi - lo)).astype(dtype)
        lo = self._arr(low, "low", np.float64)
        hi = self._arr(high, "high", np.float64) + float(endpoint)
        draw = lo + self._xp.floor(self.random(shape) * (hi - lo))
        return self._xp.minimum(draw, hi - 1).astype(dtype)

    # ------------------------------------------------------------------ continuous

    @on_device
    def standard_normal(self, size: Size = None, dtype: Any = np.float64) -> Any:
        """Standard normal floats.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> gr.default_rng(0, device="cpu").standard_normal((2, 3), dtype="float32").dtype
        dtype('float32')
        """
        dtype = float_dtype(dtype)
        return self._xp.asarray(self._gen.standard_normal(as_shape(size), dtype=dtype))

    @on_device
    def normal(self, loc: Any = 0.0, scale: Any = 1.0, size: Size = None, dtype: Any = None) -> Any:
        """Normal floats with mean ``loc`` and standard deviation ``scale``.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> w = gr.default_rng(0, device="cpu").normal(0, 0.02, size=(256, 128), dtype="float32")
        >>> w.dtype, abs(float(w.std()) - 0.02) < 1e-3
        (dtype('float32'), True)
        """
        check_scalar(scale, "scale", lambda s: s >= 0, ">= 0")
        dtype = float_dtype(dtype, loc, scale)
        shape = as_shape(size, loc, scale)
        if self.device == "cpu" and dtype == np.float64:  # NumPy's own: loc + scale * z
            mu, sigma = self._arr(loc, "loc"), self._arr(scale, "scale")  # refuses GPU arrays
            return np.asarray(self._gen.normal(mu, sigma, shape))
        sigma, mu = self._param(scale, "scale", dtype), self._param(loc, "loc", dtype)
        z = self.standard_normal(shape, dtype=dtype)  # already the broadcast shape
        return self._scale_shift(z, sigma, mu)

    @on_device
    def exponential(self, scale: Any = 1.0, size: Size = None, dtype: Any = None) -> Any:
        """Exponential floats with mean ``scale``.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> bool((gr.default_rng(0, device="cpu").exponential(2.0, size=10) >= 0).all())
        True
        """
        check_scalar(scale, "scale", lambda s: s >= 0, ">= 0")
        dtype = float_dtype(dtype, scale)
        shape = as_shape(size, scale)
        draw = self._xp.asarray(self._gen.standard_exponential(shape, dtype=dtype))
        return self._scale_shift(draw, self._param(scale, "scale", dtype), dtype.type(0))

    @on_device
    def gamma(self, shape: Any, scale: Any = 1.0, size: Size = None, dtype: Any = None) -> Any:
        """Gamma floats with shape ``shape`` and scale ``scale`` (mean ``shape * scale``).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> g = gr.default_rng(0, device="cpu").gamma(2.0, 3.0, size=20000)
        >>> abs(float(g.mean()) - 6.0) < 0.2
        True
        """
        check_scalar(shape, "shape", lambda k: k >= 0, ">= 0")
        check_scalar(scale, "scale", lambda s: s >= 0, ">= 0")
        dtype = float_dtype(dtype, shape, scale)
        out_shape = as_shape(size, shape, scale)
        k = self._arr(shape, "shape", np.float64)
        draw = self._xp.asarray(self._gen.standard_gamma(k, size=out_shape, dtype=dtype))
        return self._scale_shift(draw, self._param(scale, "scale", dtype), dtype.type(0))

    @on_device
    def beta(self, a: Any, b: Any, size: Size = None, dtype: Any = None) -> Any:
        """Beta floats in [0, 1] with shape parameters ``a`` and ``b``.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> x = gr.default_rng(0, device="cpu").beta(2.0, 5.0, size=20000)
        >>> abs(float(x.mean()) - 2 / 7) < 0.01
        True
        """
        check_scalar(a, "a", lambda v: v > 0, "> 0")
        check_scalar(b, "b", lambda v: v > 0, "> 0")
        dtype = float_dtype(dtype, a, b)
        shape = as_shape(size, a, b)
        a_arr, b_arr = self._arr(a, "a", np.float64), self._arr(b, "b", np.float64)
        return self._xp.asarray(self._gen.beta(a_arr, b_arr, size=shape)).astype(dtype)

    # ------------------------------------------------------------------ discrete

    @on_device
    def poisson(self, lam: Any = 1.0, size: Size = None) -> Any:
        """Poisson counts (int64) with mean ``lam``.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> gr.default_rng(0, device="cpu").poisson(3.0, size=5).dtype
        dtype('int64')
        """
        check_scalar(lam, "lam", lambda v: v >= 0, ">= 0")
        shape = as_shape(size, lam)
        rate = self._arr(lam, "lam", np.float64)
        return self._xp.asarray(self._gen.poisson(rate, size=shape)).astype(np.int64)

    @on_device
    def bernoulli(self, p: Any = 0.5, size: Size = None, dtype: Any = np.bool_) -> Any:
        """Bernoulli draws: True (1) with probability ``p``; e.g. a dropout keep-mask.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> keep = gr.default_rng(0, device="cpu").bernoulli(0.9, size=(4, 5))
        >>> keep.dtype, keep.shape
        (dtype('bool'), (4, 5))
        """
        check_scalar(p, "p", lambda v: 0 <= v <= 1, "in [0, 1]")
        shape = as_shape(size, p)
        u_dtype = float_dtype(None, p)
        return (self.random(shape, dtype=u_dtype) < self._arr(p, "p", u_dtype)).astype(dtype)

    @on_device
    def binomial(self, n: Any, p: Any, size: Size = None) -> Any:
        """Binomial counts (int64): successes in ``n`` trials of probability ``p``.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> k = gr.default_rng(0, device="cpu").binomial(10, 0.5, size=1000)
        >>> int(k.min()) >= 0 and int(k.max()) <= 10
        True
        """
        check_counts(n, "n")
        check_scalar(p, "p", lambda v: 0 <= v <= 1, "in [0, 1]")
        shape = as_shape(size, n, p)
        trials, prob = self._arr(n, "n", np.int64), self._arr(p, "p", np.float64)
        return self._xp.asarray(self._gen.binomial(trials, prob, size=shape)).astype(np.int64)

    # ------------------------------------------------------------------ streams

    def spawn(self, n_children: int) -> list[Generator]:
        """``n_children`` independent generators on the same device (SeedSequence.spawn).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> a, b = gr.default_rng(0, device="cpu").spawn(2)
        >>> bool((a.random(4) != b.random(4)).all())
        True
        """
        if not isinstance(n_children, int | np.integer) or n_children < 0:
            raise ValueError(f"`n_children` must be a non-negative integer; got {n_children!r}")
        return [Generator(s, self.device) for s in self.seed_sequence.spawn(int(n_children))]


def default_rng(seed: Any = None, *, device: str | None = None) -> Generator:
    """A :class:`Generator` on ``device`` (default: the current device).

    Parameters
    ----------
    seed : None, int, sequence of ints, numpy.random.SeedSequence or Generator
        Entropy for ``numpy.random.SeedSequence``; ``None`` takes fresh entropy from the OS.
        A gpumath Generator is returned unchanged (it must live on ``device``).
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``.

    Notes
    -----
    The same seed reproduces the same stream on the same backend. On the CPU the stream is
    exactly ``numpy.random.default_rng(seed)``'s (PCG64) for the methods NumPy has with the
    same arguments; on a GPU it is CuPy's (cuRAND XORWOW). The two backends give different
    numbers for the same seed.

    Examples
    --------
    >>> import numpy as np, gpumath.random as gr
    >>> x = gr.default_rng(42, device="cpu").random(3)
    >>> bool((x == np.random.default_rng(42).random(3)).all())
    True
    """
    if isinstance(seed, Generator):
        if device is not None:
            with use_device(device) as target:
                if target != seed.device:
                    raise ValueError(
                        f"`seed` is a Generator on {seed.device}, `device` asks for {target}"
                    )
        return seed
    if device is None:
        target = get_device()
    else:
        with use_device(device) as target:
            pass
    if isinstance(seed, np.random.SeedSequence):
        sequence = seed
    else:
        if isinstance(seed, int | np.integer) and seed < 0:
            raise ValueError(f"`seed` must be a non-negative integer; got {int(seed)}")
        try:
            sequence = np.random.SeedSequence(seed)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"`seed` must be None, a non-negative int, a sequence of them, a SeedSequence "
                f"or a Generator; got {seed!r}"
            ) from exc
    return Generator(sequence, target)
