"""Host-side timing for the demo: median wall time with the device synchronised."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import numpy as np

import gpumath


def median_seconds(fn: Callable[[], Any], x: Any, repeat: int = 20) -> float:
    """Median seconds of ``fn()`` over ``repeat`` runs after one warm-up, synchronising
    the device of ``x`` around each run."""
    sync = (lambda: None) if gpumath.device_of(x) == "cpu" else _cuda_sync
    fn()
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _cuda_sync() -> None:
    import cupy

    cupy.cuda.get_current_stream().synchronize()
