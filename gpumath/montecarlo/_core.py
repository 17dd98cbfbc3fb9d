"""Shared pieces of the Monte Carlo estimators: results, streaming moments, argument checks."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import device_of, is_cupy_array
from ..random import Generator, default_rng

__all__ = ["MCResult", "Accumulator", "check_count", "generator", "make_result"]


@dataclass(frozen=True)
class MCResult:
    """A Monte Carlo estimate with its error bar.

    ``estimate``, ``stderr``, ``ci_low`` and ``ci_high`` are 0-d arrays on the device that
    computed them (read them with ``float(...)``, which synchronises); ``n`` is the number of
    function evaluations (points) used. The interval is ``estimate +- z * stderr`` with the
    normal quantile ``z`` of the requested confidence level (1.96 for 95%).
    """

    estimate: Any
    stderr: Any
    ci_low: Any
    ci_high: Any
    n: int

    def __repr__(self) -> str:
        return (
            f"MCResult(estimate={float(self.estimate):.6g}, stderr={float(self.stderr):.3g}, "
            f"ci=[{float(self.ci_low):.6g}, {float(self.ci_high):.6g}], n={self.n})"
        )


def make_result(estimate: Any, stderr: Any, n: int, confidence_level: float) -> MCResult:
    """Wrap an estimate and its standard error with a normal-theory confidence interval."""
    z = statistics.NormalDist().inv_cdf(0.5 + confidence_level / 2)
    # NumPy reduces to scalars; the result holds 0-d arrays on every backend.
    estimate, stderr = (
        np.asarray(v) if isinstance(v, np.generic) else v for v in (estimate, stderr)
    )
    return MCResult(estimate, stderr, estimate - z * stderr, estimate + z * stderr, n)


def check_count(n: Any, name: str = "n", minimum: int = 2) -> int:
    """An integer count >= ``minimum``, or ValueError in the shared format."""
    if isinstance(n, bool) or not isinstance(n, int | np.integer) or n < minimum:
        raise ValueError(f"`{name}` must be an integer >= {minimum}; got {n!r}")
    return int(n)


def check_level(confidence_level: float) -> float:
    """A confidence level strictly between 0 and 1."""
    if not (isinstance(confidence_level, int | float) and 0 < confidence_level < 1):
        raise ValueError(f"`confidence_level` must be in (0, 1); got {confidence_level!r}")
    return float(confidence_level)


def check_distribution(dist: Any) -> None:
    """TypeError unless ``dist`` is a distribution object with ``sample(shape, rng=)``."""
    if not callable(getattr(dist, "sample", None)):
        raise TypeError(
            "`dist` must be a distribution with sample(shape, rng=) (e.g. "
            f"gpumath.stats.Normal); got {type(dist).__name__}"
        )


def generator(rng: Any, *like: Any) -> Generator:
    """``rng`` as a gpumath Generator, made on the device of the arrays in ``like`` if needed."""
    arrays = [a for a in like if isinstance(a, np.ndarray) or is_cupy_array(a)]
    device = device_of(arrays[0]) if arrays else None
    if isinstance(rng, Generator):
        if device is not None and rng.device != device:
            raise ValueError(f"`rng` draws on {rng.device} but the inputs live on {device}")
        return rng
    return default_rng(rng, device=device)


class Accumulator:
    """Streaming mean and (co)moments of columns, merged batch by batch (Chan et al. 1979).

    Everything stays on the device; the counts are host integers (batch sizes are known), so
    an update never synchronises. ``full=True`` keeps the co-moment matrix of ``k`` columns,
    else only each column's sum of squared deviations.
    """

    def __init__(self, xp: Any, k: int, dtype: Any, device: Any, *, full: bool = False) -> None:
        self.xp, self.full, self.count = xp, full, 0
        self.mean = xp.zeros((k,), dtype=dtype, device=device)
        shape = (k, k) if full else (k,)
        self.m2 = xp.zeros(shape, dtype=dtype, device=device)

    def update(self, values: Any) -> None:
        """Merge a batch: ``values`` has shape ``(m, k)``."""
        xp = self.xp
        m = values.shape[0]
        if m == 0:
            return
        mean = xp.mean(values, axis=0)
        dev = values - mean
        if self.full:
            m2 = xp.matmul(xp.matrix_transpose(dev), dev)
        else:
            m2 = xp.sum(dev * dev, axis=0)
        total = self.count + m
        delta = mean - self.mean
        self.mean = self.mean + delta * (m / total)
        scale = self.count * m / total
        if self.full:
            self.m2 = self.m2 + m2 + (delta[:, None] * delta[None, :]) * scale
        else:
            self.m2 = self.m2 + m2 + delta * delta * scale
        self.count = total

    def variance(self) -> Any:
        """Sample variance (ddof=1) of each column, or the covariance matrix when ``full``."""
        return self.m2 / max(self.count - 1, 1)


def batches(n: int, batch_size: int) -> list[int]:
    """Sizes of the batches that stream ``n`` items ``batch_size`` at a time."""
    full, rest = divmod(n, batch_size)
    return [batch_size] * full + ([rest] if rest else [])


def default_batch(batch_size: Any, n: int, per_item: int = 1) -> int:
    """Batch size (items): ``batch_size`` if given, else 2**20 values' worth."""
    if batch_size is None:
        return max(1, min(n, 2**20 // max(per_item, 1)))
    return check_count(batch_size, "batch_size", 1)
