"""A minimal module set (Sequential, Linear, Conv2d, BatchNorm, ReLU, Flatten).

Modules are functional at heart: ``module.apply(params, x)`` computes the output from an
explicit list of parameter arrays (what ``gpumath.autodiff.grad`` differentiates), and
``module(x)`` uses the module's own ``parameters()``. After an optimizer step, hand the new
arrays back with ``set_parameters``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from .. import autodiff as ad
from ..autodiff._core import Tensor, data_of
from ._functional import batch_norm
from ._init import he_uniform

__all__ = ["BatchNorm", "Conv2d", "Flatten", "Linear", "Module", "ReLU", "Sequential"]


def _check_sizes(**sizes: Any) -> None:
    """Layer sizes are positive ints (a zero fan would divide by zero in the initialiser)."""
    for name, n in sizes.items():
        if isinstance(n, bool) or not isinstance(n, int | np.integer):
            raise TypeError(f"`{name}` must be a positive int; got {n!r}")
        if n < 1:
            raise ValueError(f"`{name}` must be a positive int; got {n!r}")


class Module:
    """Base class: parameters as a flat list, a functional ``apply`` and a training flag."""

    training: bool = True

    def parameters(self) -> list[Any]:
        """The module's parameter arrays, in a fixed order."""
        return []

    def set_parameters(self, params: Sequence[Any]) -> None:
        """Replace the parameters (same order and shapes as ``parameters()``)."""
        if len(params) != 0:
            raise ValueError(f"`params` must be empty for {type(self).__name__}; got {len(params)}")

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        """The output for input ``x`` with parameters ``params``."""
        raise NotImplementedError

    def __call__(self, x: Any) -> Any:
        out = self.apply(self.parameters(), x)
        return out if type(x) is Tensor else data_of(out)

    def train(self, mode: bool = True) -> Module:
        """Set training mode (batch statistics in BatchNorm); returns self."""
        self.training = mode
        return self

    def eval(self) -> Module:
        """Set inference mode; returns self."""
        return self.train(False)


class _Params(Module):
    """A module whose parameters are named attributes."""

    _names: tuple[str, ...] = ()

    def parameters(self) -> list[Any]:
        return [getattr(self, n) for n in self._names if getattr(self, n) is not None]

    def set_parameters(self, params: Sequence[Any]) -> None:
        names = [n for n in self._names if getattr(self, n) is not None]
        if len(params) != len(names):
            raise ValueError(
                f"`params` must hold {len(names)} arrays for {type(self).__name__}; "
                f"got {len(params)}"
            )
        for n, p in zip(names, params, strict=True):
            setattr(self, n, p)

    def _unpack(self, params: Sequence[Any]) -> dict[str, Any]:
        it = iter(params)
        return {n: (next(it) if getattr(self, n) is not None else None) for n in self._names}


class Linear(_Params):
    """``x @ weight.T + bias`` with ``weight`` (out, in), He-uniform initialised.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> layer = nn.Linear(3, 2, np.random.default_rng(0))
    >>> layer(np.ones((5, 3), dtype=np.float32)).shape
    (5, 2)
    """

    _names = ("weight", "bias")

    def __init__(
        self,
        in_features: int,
        out_features: int,
        rng: Any,
        *,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        _check_sizes(in_features=in_features, out_features=out_features)
        self.weight = he_uniform((out_features, in_features), rng, dtype=dtype)
        # PyTorch's bias bound 1/sqrt(fan_in): small, non-zero, on the weight's device.
        b = he_uniform((out_features, in_features), rng, dtype=dtype)[:, 0] / math.sqrt(6.0)
        self.bias = b if bias else None

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        p = self._unpack(params)
        return ad.linear(x, p["weight"], p["bias"])


class Conv2d(_Params):
    """2-D convolution (NCHW) through ``gpumath.conv2d``; He-uniform weights.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> conv = nn.Conv2d(1, 4, 3, np.random.default_rng(0), padding=1)
    >>> [p.shape for p in conv.parameters()]
    [(4, 1, 3, 3), (4,)]
    """

    _names = ("weight", "bias")

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        rng: Any,
        *,
        stride: int = 1,
        padding: int = 0,
        bias: bool = True,
        dtype: Any = np.float32,
    ) -> None:
        _check_sizes(in_channels=in_channels, out_channels=out_channels, kernel_size=kernel_size)
        shape = (out_channels, in_channels, kernel_size, kernel_size)
        self.weight = he_uniform(shape, rng, dtype=dtype)
        self.bias = self.weight[:, 0, 0, 0] * 0 if bias else None
        self.stride, self.padding = stride, padding

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        p = self._unpack(params)
        return ad.conv2d(x, p["weight"], p["bias"], stride=self.stride, padding=self.padding)


class BatchNorm(_Params):
    """Batch normalisation over axis 1 with learned scale/shift and running statistics.

    ``like`` is any array on the target device and dtype (e.g. a layer's weight).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> bn = nn.BatchNorm(3, np.zeros(1, dtype=np.float32))
    >>> bn(np.random.default_rng(0).normal(size=(8, 3)).astype(np.float32)).shape
    (8, 3)
    """

    _names = ("weight", "bias")

    def __init__(
        self, num_features: int, like: Any, *, momentum: float = 0.1, eps: float = 1e-5
    ) -> None:
        _check_sizes(num_features=num_features)
        xp = ad.Tensor(like).xp
        base = xp.reshape(like, (-1,))[:1] * 0  # one zero on like's device and dtype
        self.bias = xp.broadcast_to(base, (num_features,)) + 0
        self.weight = self.bias + 1
        self.running_mean = self.bias + 0
        self.running_var = self.bias + 1
        self.momentum, self.eps = momentum, eps

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        p = self._unpack(params)
        return batch_norm(
            x if type(x) is Tensor else Tensor(x),
            self.running_mean,
            self.running_var,
            p["weight"],
            p["bias"],
            self.training,
            self.momentum,
            self.eps,
        )


class ReLU(Module):
    """``max(x, 0)`` as a module."""

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        return ad.relu(x)


class Flatten(Module):
    """Flatten every axis after the first: (N, ...) -> (N, prod(...))."""

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        x = ad.Tensor(x) if type(x) is not Tensor else x
        return ad.reshape(x, (x.shape[0], -1))


class Sequential(Module):
    """Modules applied in order; parameters concatenated in order.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> rng = np.random.default_rng(0)
    >>> net = nn.Sequential(nn.Linear(4, 8, rng), nn.ReLU(), nn.Linear(8, 2, rng))
    >>> len(net.parameters()), net(np.ones((3, 4), dtype=np.float32)).shape
    (4, (3, 2))
    """

    def __init__(self, *modules: Module) -> None:
        self.modules = list(modules)

    def parameters(self) -> list[Any]:
        return [p for m in self.modules for p in m.parameters()]

    def set_parameters(self, params: Sequence[Any]) -> None:
        params = list(params)
        expected = len(self.parameters())
        if len(params) != expected:
            raise ValueError(f"`params` must hold {expected} arrays; got {len(params)}")
        start = 0
        for m in self.modules:
            n = len(m.parameters())
            m.set_parameters(params[start : start + n])
            start += n

    def apply(self, params: Sequence[Any], x: Any) -> Any:
        start = 0
        for m in self.modules:
            n = len(m.parameters())
            x = m.apply(params[start : start + n], x)
            start += n
        return x

    def train(self, mode: bool = True) -> Sequential:
        self.training = mode
        for m in self.modules:
            m.train(mode)
        return self
