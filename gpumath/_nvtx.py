"""NVTX ranges around public kernel-backed ops, for Nsight Systems timelines.

``@annotate("gpumath.clip")`` wraps a function in an NVTX range when the ``nvtx`` package
imports and ``GPUMATH_NVTX=1`` is set at import time of gpumath. Otherwise it returns the
function itself, so the annotation costs nothing at call time.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import TypeVar

F = TypeVar("F", bound=Callable)

DOMAIN = "gpumath"


def annotate(name: str) -> Callable[[F], F]:
    """Return a decorator that runs the function inside NVTX range ``name`` when enabled."""
    if os.environ.get("GPUMATH_NVTX") != "1":
        return _identity
    try:
        import nvtx
    except ImportError:
        return _identity
    return nvtx.annotate(message=name, domain=DOMAIN)


def _identity(fn: F) -> F:
    return fn
