"""Streaming moments: statistics of data fed batch by batch, merged exactly."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import device_of
from ._moments import (
    Moments,
    count,
    cuda_supports,
    finish,
    merge,
    moments_cuda,
    moments_xp,
    normalize_axes,
    prepare,
)

__all__ = ["RunningMoments"]


class RunningMoments:
    """Mean, variance, skewness, kurtosis, min and max of data seen in batches.

    Each :meth:`update` reduces one batch to a moment record (count, mean, central moment
    sums M2..M4, min, max) and merges it into the running record with the exact formulas of
    Chan et al. and Pébay, so the result equals the one-shot statistics of all batches
    together, while only one batch needs to be in (device) memory at a time: data larger
    than the GPU can be streamed through it. On CUDA each update of float32/float64 data is
    one read of the batch by the fused moments kernel. The running record is float64 on the
    batches' device; results come back in the batches' dtype.

    Parameters
    ----------
    axis : None, int or tuple of ints
        The axes a batch is reduced over (batches are concatenated along them); the other
        axes are features with their own statistics. None (default): every value is one
        observation of a single quantity. ``axis=0`` for (samples, features) batches.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats import RunningMoments
    >>> rm = RunningMoments(axis=0)
    >>> for batch in np.array_split(np.arange(12.0).reshape(6, 2), 3):
    ...     _ = rm.update(batch)
    >>> rm.n, rm.mean
    (6, array([5., 6.]))
    """

    def __init__(self, *, axis: Any = None):
        self.axis = axis
        self._record: Moments | None = None
        self._dtype: Any = None
        self._features: tuple[int, ...] | None = None
        self._device: str | None = None
        self._xp: Any = None

    @property
    def n(self) -> int:
        """Observations seen so far (per feature)."""
        return 0 if self._record is None else self._record.n

    def update(self, batch: Any) -> RunningMoments:
        """Merge the statistics of ``batch`` into the running ones; returns ``self``."""
        x, xp = prepare(batch, "batch")
        axes = normalize_axes(self.axis, x.ndim)
        features = tuple(s for i, s in enumerate(x.shape) if i not in axes)
        self._check_compatible(x, features)
        self._xp = xp
        if count(tuple(x.shape), axes) == 0:
            return self  # a batch without observations changes nothing
        if cuda_supports(x, xp):
            record = moments_cuda(x, axes)[0]
        else:
            record = _as_float64(moments_xp(x, axes, xp, minmax=True), xp)
        self._absorb(record, xp)
        return self

    def merge(self, other: RunningMoments) -> RunningMoments:
        """Merge another accumulator's data into this one (e.g. from another worker)."""
        if not isinstance(other, RunningMoments):
            raise TypeError(f"`other` must be a RunningMoments; got {type(other).__name__}")
        if other._record is None:
            return self
        if self._record is None:
            self._dtype, self._features, self._device = (
                other._dtype,
                other._features,
                other._device,
            )
            self._record, self._xp = other._record, other._xp
            return self
        if other._features != self._features or other._device != self._device:
            raise ValueError(
                f"`other` must have the same features and device; got {other._features} on "
                f"{other._device}, this one has {self._features} on {self._device}"
            )
        self._absorb(other._record, self._xp)
        return self

    def _check_compatible(self, x: Any, features: tuple[int, ...]) -> None:
        if self._features is None:
            self._features, self._dtype, self._device = features, x.dtype, device_of(x)
            return
        if features != self._features:
            raise ValueError(
                f"`batch` must have feature shape {self._features} (the shape of the earlier "
                f"batches without the reduced axes); got {features} from shape {tuple(x.shape)}"
            )
        if device_of(x) != self._device:
            raise ValueError(f"`batch` must be on {self._device}; got {device_of(x)}")
        self._dtype = np.result_type(self._dtype, x.dtype)

    def _absorb(self, record: Moments, xp: Any) -> None:
        self._record = record if self._record is None else merge(self._record, record, xp)

    def _stats(self, *, ddof: float = 0, bias: bool = True, fisher: bool = True) -> dict:
        if self._record is None:
            raise ValueError("RunningMoments has seen no data: call `update(batch)` first")
        xp = self._xp
        eps = float(np.finfo(self._dtype).eps)
        out = finish(self._record, xp, ddof=ddof, bias=bias, fisher=fisher, eps=eps)
        out |= {"min": self._record.lo, "max": self._record.hi}
        return {k: xp.astype(v, self._dtype) for k, v in out.items()}

    @property
    def mean(self) -> Any:
        """Mean of every feature."""
        return self._stats()["mean"]

    def var(self, ddof: float = 0) -> Any:
        """Variance ``M2 / (n - ddof)`` of every feature."""
        return self._stats(ddof=ddof)["variance"]

    def std(self, ddof: float = 0) -> Any:
        """Standard deviation of every feature."""
        return self._xp.sqrt(self.var(ddof))

    def skew(self, bias: bool = True) -> Any:
        """Skewness of every feature, as :func:`gpumath.stats.skew`."""
        return self._stats(bias=bias)["skewness"]

    def kurtosis(self, fisher: bool = True, bias: bool = True) -> Any:
        """Kurtosis of every feature, as :func:`gpumath.stats.kurtosis`."""
        return self._stats(bias=bias, fisher=fisher)["kurtosis"]

    @property
    def min(self) -> Any:
        """Smallest value of every feature."""
        return self._stats()["min"]

    @property
    def max(self) -> Any:
        """Largest value of every feature."""
        return self._stats()["max"]

    def result(self, *, ddof: float = 1, bias: bool = True):
        """All statistics as :func:`gpumath.stats.describe` returns them."""
        from .descriptive import DescribeResult  # descriptive imports this module

        s = self._stats(ddof=ddof, bias=bias)
        return DescribeResult(
            self.n, (s["min"], s["max"]), s["mean"], s["variance"], s["skewness"], s["kurtosis"]
        )


def _as_float64(m: Moments, xp: Any) -> Moments:
    """The record in float64: the running sums keep full precision for float32 batches."""

    def f64(v: Any) -> Any:
        return None if v is None else xp.asarray(v, dtype=xp.float64)

    return Moments(
        m.n, f64(m.mean), f64(m.m2), f64(m.m3), f64(m.m4), f64(m.lo), f64(m.hi), f64(m.origin)
    )
