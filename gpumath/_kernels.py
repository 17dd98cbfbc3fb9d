"""Find ``kernels/<family>.cu``, compile it once per (file, options, device), launch kernels.

Compilation goes through ``cupy.RawModule`` (NVRTC). CuPy keys its on-disk cache
(``CUPY_CACHE_DIR``) on the source text and options, not on included headers, so this module
inlines local ``#include "..."`` headers before compiling: an edit to ``common.cuh`` then
changes the key and can never be served a stale binary. Within a process, modules are kept
in a dict guarded by a lock, so concurrent first calls compile once.
"""

from __future__ import annotations

import re
import threading
from functools import cache
from pathlib import Path
from typing import Any

__all__ = [
    "KernelError",
    "elementwise_launch_config",
    "get_kernel",
    "kernel_dir",
    "kernel_source",
    "launch",
]

_PACKAGE_DIR = Path(__file__).resolve().parent
# An installed wheel carries the sources inside the package; a source checkout has them
# beside it (DESIGN.md §1).
_CANDIDATE_DIRS = (_PACKAGE_DIR / "kernels", _PACKAGE_DIR.parent / "kernels")
_INCLUDE_RE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*"([^"]+)"[ \t]*$', re.MULTILINE)
_DEFAULT_OPTIONS = ("--std=c++17",)

_lock = threading.Lock()
_modules: dict[tuple[str, tuple[str, ...], int], Any] = {}  # (family, options, device)
_functions: dict[tuple[str, tuple[str, ...], int, str], Any] = {}  # ... and kernel name


class KernelError(RuntimeError):
    """A kernel could not be found, compiled or launched; the message names it."""


def kernel_dir() -> Path:
    """Return the folder holding the ``.cu`` sources (installed package or source tree)."""
    for candidate in _CANDIDATE_DIRS:
        if (candidate / "common.cuh").is_file():
            return candidate
    raise KernelError(
        "kernel sources not found; looked in " + ", ".join(str(d) for d in _CANDIDATE_DIRS)
    )


def kernel_source(family: str) -> str:
    """Return the source of ``kernels/<family>.cu`` with its local headers inlined."""
    path = kernel_dir() / f"{family}.cu"
    if not path.is_file():
        raise KernelError(f"no kernel family {family!r}: {path} does not exist")
    return _inline_includes(path, seen=set())


def _inline_includes(path: Path, seen: set[Path]) -> str:
    if path in seen:  # `#pragma once` semantics
        return ""
    seen.add(path)
    text = path.read_text()

    def replace(match: re.Match[str]) -> str:
        header = path.parent / match.group(1)
        if not header.is_file():
            raise KernelError(f"{path.name}: included header {match.group(1)!r} not found")
        return f"// ---- begin {match.group(1)}\n{_inline_includes(header, seen)}\n"

    return _INCLUDE_RE.sub(replace, text)


def get_kernel(family: str, name: str, options: tuple[str, ...] = ()) -> Any:
    """Return the compiled ``cupy.RawKernel`` ``name`` from ``kernels/<family>.cu``.

    The module is compiled for the current CUDA device the first time it is asked for
    and reused afterwards (and across processes through CuPy's disk cache).

    Raises
    ------
    KernelError
        If the source is missing, does not compile (the NVRTC log is included), or has
        no kernel called ``name``.
    """
    import cupy

    options = _DEFAULT_OPTIONS + tuple(options)
    device = cupy.cuda.Device().id
    kernel = _functions.get((family, options, device, name))
    if kernel is not None:  # the hot path: no lock, no CuPy lookup
        return kernel
    key = (family, options, device)
    try:
        with _lock:  # one compile per key, even when threads ask at the same time
            module = _modules.get(key)
            if module is None:
                module = cupy.RawModule(code=kernel_source(family), options=options)
            kernel = module.get_function(name)  # CuPy compiles lazily, here, under the lock
            _modules[key] = module
            _functions[(*key, name)] = kernel
        return kernel
    except cupy.cuda.compiler.CompileException as exc:
        log = exc.get_message() if hasattr(exc, "get_message") else str(exc)
        raise KernelError(
            f"kernels/{family}.cu failed to compile (asked for {name}, options {options}):\n{log}"
        ) from exc
    except cupy.cuda.driver.CUDADriverError as exc:
        raise KernelError(f"kernels/{family}.cu has no usable kernel {name!r}: {exc}") from exc


def launch(
    kernel: Any,
    grid: tuple[int, ...],
    block: tuple[int, ...],
    args: tuple[Any, ...],
    *,
    op: str,
    shapes: str = "",
    shared_mem: int = 0,
) -> None:
    """Launch ``kernel``; a CUDA error is re-raised as KernelError naming op, kernel and shapes."""
    import cupy

    try:
        kernel(grid, block, args, shared_mem=shared_mem)
    except (cupy.cuda.driver.CUDADriverError, cupy.cuda.runtime.CUDARuntimeError) as exc:
        raise KernelError(
            f"{op}: launching {kernel.name} (grid {grid}, block {block}) on {shapes} failed: {exc}"
        ) from exc


@cache
def _multiprocessor_count(device_id: int) -> int:
    import cupy

    return int(cupy.cuda.Device(device_id).attributes["MultiProcessorCount"])


def elementwise_launch_config(n: int, block: int = 256, blocks_per_sm: int = 8) -> tuple:
    """Grid and block for a grid-stride loop over ``n`` elements on the current device.

    The grid is capped at a few waves of blocks per SM: more blocks than the GPU can hold
    at once only add scheduling work, and the grid-stride loop covers the rest.
    """
    import cupy

    sms = _multiprocessor_count(cupy.cuda.Device().id)
    blocks = max(1, min(-(-n // block), sms * blocks_per_sm))
    return (blocks,), (block,)
