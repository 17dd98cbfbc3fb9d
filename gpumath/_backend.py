"""Device selection, array namespaces and transfers: the only dispatch in gpumath.

The current device is ``"cpu"`` or ``"cuda:N"``. It comes from, in order: the innermost
``use_device`` block of this thread/task, the last ``set_device`` call, and the
``GPUMATH_DEVICE`` environment variable (default ``"auto"``). ``"auto"`` resolves to
``"cuda:0"`` when CuPy imports and a GPU answers, else to ``"cpu"``; the reason for a CPU
fallback is reported by :func:`device_info`.

CuPy is imported lazily, the first time a GPU is asked for (or probed by ``"auto"``), so
``import gpumath`` stays cheap and works where CuPy is absent or broken.
"""

from __future__ import annotations

import contextlib
import contextvars
import functools
import os
import re
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import array_api_compat
import numpy as np

__all__ = [
    "DeviceError",
    "array_namespace",
    "asarray",
    "device_info",
    "device_of",
    "get_device",
    "is_cupy_array",
    "is_cupy_namespace",
    "is_numpy_namespace",
    "set_device",
    "to_device",
    "to_numpy",
    "use_device",
]

_DEVICE_RE = re.compile(r"^(auto|cpu|cuda)(?::(\d+))?$")

# CUDA runtime status codes that get a specific explanation (cudaError_t values).
_CUDA_INSUFFICIENT_DRIVER = 35
_CUDA_NO_DEVICE = 100


class DeviceError(RuntimeError):
    """A requested device cannot be used; the message says why."""


@dataclass(frozen=True)
class _Probe:
    """Outcome of asking CuPy for one CUDA device: usable, or the reason it is not."""

    ok: bool
    reason: str = ""


_lock = threading.Lock()
_probes: dict[int, _Probe] = {}
_global_spec: str | None = None  # set by set_device; None means "read GPUMATH_DEVICE"
_context_spec: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "gpumath_device", default=None
)


# --------------------------------------------------------------------------- parsing


def _parse(spec: object, name: str = "device") -> tuple[str, int | None]:
    """Split ``"cuda:1"`` into ``("cuda", 1)``; raise ValueError naming the argument."""
    if not isinstance(spec, str):
        raise TypeError(
            f"`{name}` must be a string: 'auto', 'cpu', 'cuda' or 'cuda:N'; "
            f"got {type(spec).__name__} {spec!r}"
        )
    match = _DEVICE_RE.match(spec.strip().lower())
    if match is None or (match.group(2) is not None and match.group(1) != "cuda"):
        raise ValueError(f"`{name}` must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got {spec!r}")
    index = match.group(2)
    return match.group(1), None if index is None else int(index)


# --------------------------------------------------------------------------- probing


def _import_cupy() -> Any:
    """Import CuPy, or raise DeviceError saying it is missing or broken."""
    try:
        import cupy
    except ImportError as exc:
        raise DeviceError(
            "CuPy is not installed: install gpumath[cuda12] or gpumath[cuda13] "
            f"to use a GPU ({exc})"
        ) from exc
    except Exception as exc:  # a broken CuPy install raises all sorts of errors on import
        raise DeviceError(f"CuPy is installed but failed to import: {exc!r}") from exc
    return cupy


def _probe_cuda(index: int) -> _Probe:
    """Ask CuPy whether CUDA device ``index`` can be used; cached per process."""
    with _lock:
        cached = _probes.get(index)
    if cached is not None:
        return cached
    probe = _probe_cuda_uncached(index)
    with _lock:
        _probes[index] = probe
    return probe


def _probe_cuda_uncached(index: int) -> _Probe:
    try:
        cupy = _import_cupy()
    except DeviceError as exc:
        return _Probe(False, str(exc))
    runtime = cupy.cuda.runtime
    try:
        count = runtime.getDeviceCount()
    except runtime.CUDARuntimeError as exc:
        return _Probe(False, _explain_runtime_error(cupy, exc))
    except Exception as exc:  # libcuda.so missing surfaces as an import/OS error in CuPy
        return _Probe(False, f"no usable NVIDIA driver: {exc}")
    if index >= count:
        visible = os.environ.get("CUDA_VISIBLE_DEVICES")
        note = f" (CUDA_VISIBLE_DEVICES={visible!r})" if visible is not None else ""
        return _Probe(False, f"no CUDA device {index}: {count} device(s) visible{note}")
    return _Probe(True)


def _explain_runtime_error(cupy: Any, exc: Any) -> str:
    status = getattr(exc, "status", None)
    if status == _CUDA_INSUFFICIENT_DRIVER:
        driver = _safe(cupy.cuda.runtime.driverGetVersion)
        runtime = _safe(cupy.cuda.runtime.runtimeGetVersion)
        if not driver:  # CUDA reports a missing libcuda as "insufficient driver", version 0
            return f"no NVIDIA driver is installed (CuPy found no libcuda; {exc})"
        return (
            f"the NVIDIA driver is too old: it supports CUDA {_cuda_version(driver)}, "
            f"CuPy needs CUDA {_cuda_version(runtime)} ({exc})"
        )
    if status == _CUDA_NO_DEVICE:
        return f"no CUDA device is visible ({exc})"
    return f"no usable NVIDIA driver or device ({exc})"


def _safe(fn: Any, default: Any = None) -> Any:
    try:
        return fn()
    except Exception:
        return default


def _cuda_version(code: int | None) -> str:
    if not code:
        return "none"
    return f"{code // 1000}.{(code % 1000) // 10}"


# --------------------------------------------------------------------------- current device


def _resolve(spec: str, name: str = "device") -> str:
    """Turn a device spec into ``"cpu"`` or ``"cuda:N"``, raising DeviceError for CUDA."""
    kind, index = _parse(spec, name)
    if kind == "cpu":
        return "cpu"
    if kind == "auto":
        return "cuda:0" if _probe_cuda(0).ok else "cpu"
    index = 0 if index is None else index
    probe = _probe_cuda(index)
    if not probe.ok:
        raise DeviceError(f"cannot use {spec!r}: {probe.reason}")
    return f"cuda:{index}"


def _current_spec() -> tuple[str, str]:
    """Return the current device spec and where it came from (for error messages)."""
    spec = _context_spec.get()
    if spec is not None:
        return spec, "device"
    if _global_spec is not None:
        return _global_spec, "device"
    return os.environ.get("GPUMATH_DEVICE", "auto"), "GPUMATH_DEVICE"


def set_device(device: str) -> None:
    """Set the default device for this process.

    Parameters
    ----------
    device : {"auto", "cpu", "cuda", "cuda:N"}
        ``"auto"`` uses the first GPU when CuPy and a GPU are usable, else the CPU.

    Raises
    ------
    DeviceError
        If a CUDA device is asked for and cannot be used; the message says why.

    Examples
    --------
    >>> import gpumath as gm
    >>> gm.set_device("cpu")
    >>> gm.get_device()
    'cpu'
    >>> gm.set_device("auto")
    """
    global _global_spec
    _resolve(device, "device")  # fail now, not at the first array
    _global_spec = device


def get_device() -> str:
    """Return the current device as ``"cpu"`` or ``"cuda:N"``.

    Examples
    --------
    >>> import gpumath as gm
    >>> with gm.use_device("cpu"):
    ...     gm.get_device()
    'cpu'
    """
    return _resolve(*_current_spec())


@contextlib.contextmanager
def use_device(device: str) -> Iterator[str]:
    """Make ``device`` current inside a ``with`` block (per thread and per asyncio task).

    Examples
    --------
    >>> import gpumath as gm
    >>> with gm.use_device("cpu") as dev:
    ...     dev
    'cpu'
    """
    resolved = _resolve(device, "device")
    token = _context_spec.set(device)
    try:
        yield resolved
    finally:
        _context_spec.reset(token)


# --------------------------------------------------------------------------- arrays


def is_cupy_array(x: object) -> bool:
    """True for a ``cupy.ndarray``, decided without importing CuPy."""
    return sys.modules.get("cupy") is not None and array_api_compat.is_cupy_array(x)


def is_cupy_namespace(xp: Any) -> bool:
    """True when ``xp`` (from :func:`array_namespace`) is CuPy's namespace."""
    return array_api_compat.is_cupy_namespace(xp)


def is_numpy_namespace(xp: Any) -> bool:
    """True when ``xp`` (from :func:`array_namespace`) is NumPy's namespace."""
    return array_api_compat.is_numpy_namespace(xp)


def device_of(x: Any) -> str:
    """Return where array ``x`` lives: ``"cpu"`` or ``"cuda:N"``."""
    if is_cupy_array(x):
        return f"cuda:{x.device.id}"
    if isinstance(x, np.ndarray | np.generic):
        return "cpu"
    raise TypeError(f"`x` must be a NumPy or CuPy array; got {type(x).__name__}")


def _describe(x: Any) -> str:
    return f"{type(x).__module__}.{type(x).__name__} on {device_of(x)}"


def array_namespace(*arrays: Any) -> Any:
    """Return the array-API namespace shared by ``arrays`` (Python scalars and None ignored).

    Raises
    ------
    TypeError
        If the inputs mix libraries (NumPy and CuPy) or are not arrays at all.
    ValueError
        If CuPy inputs live on two different GPUs.
    """
    if arrays and all(type(a) is np.ndarray for a in arrays):  # the CPU case, in 0.3 us
        return _numpy_namespace()
    found = [(i, a) for i, a in enumerate(arrays) if _is_array(a)]
    if not found:
        raise TypeError(
            "expected at least one NumPy or CuPy array; got "
            + (", ".join(type(a).__name__ for a in arrays) or "no arguments")
        )
    first_i, first = found[0]
    for i, a in found[1:]:
        if is_cupy_array(a) != is_cupy_array(first):
            raise TypeError(
                f"inputs mix array libraries: argument {first_i} is {_describe(first)}, "
                f"argument {i} is {_describe(a)}; move one with gpumath.to_device(x, device) "
                "(gpumath never copies between host and GPU implicitly)"
            )
        if device_of(a) != device_of(first):
            raise ValueError(
                f"inputs live on different devices: argument {first_i} is on "
                f"{device_of(first)}, argument {i} is on {device_of(a)}; "
                "move one with gpumath.to_device(x, device)"
            )
    return array_api_compat.array_namespace(*(a for _, a in found))


@functools.cache
def _numpy_namespace() -> Any:
    """array-api-compat's NumPy namespace (looked up once: the lookup costs about 5 us)."""
    return array_api_compat.array_namespace(np.empty(0))


def _is_array(x: Any) -> bool:
    return isinstance(x, np.ndarray) or is_cupy_array(x)


def asarray(obj: Any, *, dtype: Any = None, device: str | None = None) -> Any:
    """Convert ``obj`` to an array on ``device`` (default: the current device).

    This is the explicit way onto a device: a NumPy array given here is copied to the GPU
    when the device is CUDA. Use :func:`to_device` to move an existing array.

    Parameters
    ----------
    obj : array_like
        Python scalars and sequences, NumPy or CuPy arrays.
    dtype : dtype, optional
        Result dtype; by default NumPy's inference.
    device : str, optional
        ``"cpu"``, ``"cuda"``, ``"cuda:N"`` or ``"auto"``; default :func:`get_device`.

    Examples
    --------
    >>> import gpumath as gm
    >>> gm.asarray([1.0, 2.0], device="cpu")
    array([1., 2.])
    """
    target = get_device() if device is None else _resolve(device, "device")
    if target == "cpu":
        if is_cupy_array(obj):
            obj = obj.get()
        return np.asarray(obj, dtype=dtype)
    cupy = _import_cupy()
    index = int(target.split(":")[1])
    with cupy.cuda.Device(index):
        if is_cupy_array(obj) and obj.device.id != index:
            return cupy.array(obj, dtype=dtype, copy=True)  # peer copy between GPUs
        return cupy.asarray(obj, dtype=dtype)


def to_device(x: Any, device: str) -> Any:
    """Move array ``x`` to ``device`` (a copy unless it is already there).

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> gm.to_device(np.arange(3.0), "cpu")
    array([0., 1., 2.])
    """
    if not _is_array(x):
        raise TypeError(f"`x` must be a NumPy or CuPy array; got {type(x).__name__}")
    return asarray(x, device=device)


def to_numpy(x: Any) -> np.ndarray:
    """Return ``x`` as a NumPy array on the host (copying from the GPU if needed).

    Examples
    --------
    >>> import gpumath as gm
    >>> gm.to_numpy(gm.asarray([1, 2], device="cpu"))
    array([1, 2])
    """
    if is_cupy_array(x):
        return x.get()
    return np.asarray(x)


# --------------------------------------------------------------------------- reporting


def device_info() -> dict[str, Any]:
    """Describe the current device and the software under it.

    Returns
    -------
    dict
        ``backend`` ("cuda" or "cpu"), ``device``, ``device_name``, ``compute_capability``,
        ``memory_total_bytes``/``memory_free_bytes`` (GPU only), ``requested`` (the setting),
        ``cuda_unavailable_reason`` (why CUDA is not used, when it is not), and the versions
        of NumPy, array-api-compat, CuPy, the CUDA runtime and driver.

    Examples
    --------
    >>> import gpumath as gm
    >>> with gm.use_device("cpu"):
    ...     gm.device_info()["backend"]
    'cpu'
    """
    import platform

    device = get_device()
    info: dict[str, Any] = {
        "backend": "cpu" if device == "cpu" else "cuda",
        "device": device,
        "requested": _current_spec()[0],
        "numpy_version": np.__version__,
        "array_api_compat_version": array_api_compat.__version__,
        "python_version": platform.python_version(),
        "cupy_version": None,
        "cuda_runtime_version": None,
        "cuda_driver_version": None,
    }
    if device == "cpu":
        info["device_name"] = platform.processor() or platform.machine()
        info["cpu_count"] = os.cpu_count()
        probe = _probe_cuda(0)
        info["cuda_unavailable_reason"] = (
            f"device {info['requested']!r} was requested" if probe.ok else probe.reason
        )
        info["cupy_version"] = getattr(sys.modules.get("cupy"), "__version__", None)
        return info
    cupy = _import_cupy()
    index = int(device.split(":")[1])
    props = cupy.cuda.runtime.getDeviceProperties(index)
    with cupy.cuda.Device(index):
        free, total = cupy.cuda.runtime.memGetInfo()
    name = props["name"]
    info.update(
        device_name=name.decode() if isinstance(name, bytes) else str(name),
        compute_capability=f"{props['major']}.{props['minor']}",
        multiprocessor_count=props["multiProcessorCount"],
        memory_total_bytes=int(total),
        memory_free_bytes=int(free),
        cupy_version=cupy.__version__,
        cuda_runtime_version=_cuda_version(cupy.cuda.runtime.runtimeGetVersion()),
        cuda_driver_version=_cuda_version(cupy.cuda.runtime.driverGetVersion()),
        cuda_unavailable_reason=None,
    )
    return info
