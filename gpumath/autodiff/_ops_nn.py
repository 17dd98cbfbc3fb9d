"""Neural-network primitives on tensors: stable activations, log-sum-exp, convolution.

These are single graph nodes with hand-written vjps where a composition of simpler ops
would overflow (sigmoid, softplus, logsumexp at |x| ~ 1000) or cost more.
"""

from __future__ import annotations

import math
from typing import Any

from . import _core
from ._core import Tensor, lift, make, scalar_like, unary, zeros_like_shape
from ._ops_arith import _saved, exp, multiply, tanh, where
from ._ops_reduce import _axes, _kept_shape
from ._ops_shape import reshape

__all__ = ["conv2d", "conv3d", "gelu", "leaky_relu", "logsumexp", "relu", "sigmoid", "softplus"]


def relu(x: Any) -> Tensor:
    """``max(x, 0)``; the derivative at 0 is taken as 0."""
    x = lift(x)
    xp = x.xp
    y = xp.maximum(x.data, scalar_like(0, x.data, xp))
    return unary(x, y, lambda g, x, y: g * Tensor(xp.astype(x.data > 0, x.data.dtype), xp=xp))


def leaky_relu(x: Any, negative_slope: float = 0.01) -> Tensor:
    """``x`` where ``x > 0`` else ``negative_slope * x``."""
    x = lift(x)
    return where(x.data > 0, x, x * negative_slope)


def sigmoid(x: Any) -> Tensor:
    """Logistic function ``1 / (1 + exp(-x))``, evaluated without overflow for any ``x``."""
    x = lift(x)
    xp = x.xp
    e = xp.exp(-xp.abs(x.data))  # in (0, 1]: never overflows
    one = scalar_like(1, e, xp)
    y = xp.where(x.data >= 0, one / (one + e), e / (one + e))

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        s = _saved(y, xp, lambda: sigmoid(x))
        return (g * s * (1.0 - s),)

    return make(y, (x,), vjp, xp)


def softplus(x: Any) -> Tensor:
    """``log(1 + exp(x))`` as ``max(x, 0) + log1p(exp(-|x|))``: exact for large ``|x|``."""
    x = lift(x)
    xp = x.xp
    y = xp.maximum(x.data, scalar_like(0, x.data, xp)) + xp.log1p(xp.exp(-xp.abs(x.data)))

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (g * sigmoid(x),)

    return make(y, (x,), vjp, xp)


_GELU_C = math.sqrt(2.0 / math.pi)


def gelu(x: Any) -> Tensor:
    """GELU, tanh form: ``0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))``.

    This is PyTorch's ``gelu(approximate="tanh")``; it differs from the erf form by under
    1e-3 (the array API has no erf).
    """
    x = lift(x)
    inner = (x + 0.044715 * (x * x * x)) * _GELU_C
    return multiply(x * 0.5, tanh(inner) + 1.0)


def logsumexp(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """``log(sum(exp(x)))`` over ``axis`` with the maximum shifted out (no overflow).

    The vjp is the softmax of ``x`` times the cotangent. Rows that are all ``-inf`` give
    ``-inf``, as in SciPy.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> float(ad.logsumexp(np.array([1000.0, 1000.0])).data)
    1000.6931471805599
    """
    x = lift(x)
    xp = x.xp
    axes = _axes(axis, x.ndim)
    kept = _kept_shape(x.shape, axes)
    m = xp.max(x.data, axis=axes, keepdims=True) if x.size else zeros_like_shape(kept, x.data, xp)
    # An all -inf (or +inf) row would give inf - inf = NaN in the shift: shift by 0 there.
    m = xp.where(xp.isfinite(m), m, scalar_like(0, m, xp))
    out = xp.log(xp.sum(xp.exp(x.data - m), axis=axes, keepdims=True)) + m

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        if _core._RECORDING[0]:
            soft = exp(x - logsumexp(x, axes, keepdims=True))
        else:
            soft = Tensor(xp.exp(x.data - out), xp=xp)
        return (reshape(g, kept) * soft,)

    y = (
        out
        if keepdims
        else xp.reshape(out, tuple(n for i, n in enumerate(x.shape) if i not in axes))
    )
    return make(y, (x,), vjp, xp)


def conv2d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple[int, int] = 0,
    dilation: int | tuple[int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """``gpumath.conv2d`` traced (NCHW, cross-correlation); vjp via ``conv2d_backward``.

    First derivatives only: a recorded (higher-order) sweep through a convolution raises.
    """
    return _conv("conv2d", x, weight, bias, stride, padding, dilation, groups)


def conv3d(
    x: Any,
    weight: Any,
    bias: Any = None,
    *,
    stride: int | tuple[int, int, int] = 1,
    padding: int | tuple[int, int, int] = 0,
    dilation: int | tuple[int, int, int] = 1,
    groups: int = 1,
) -> Tensor:
    """``gpumath.conv3d`` traced (NCDHW); vjp via ``conv3d_backward``. First derivatives only."""
    return _conv("conv3d", x, weight, bias, stride, padding, dilation, groups)


def _conv(
    name: str, x: Any, weight: Any, bias: Any, stride: Any, padding: Any, dilation: Any, groups: int
) -> Tensor:
    from ..ops import conv as _conv_ops  # lands separately; imported where it is used

    forward = getattr(_conv_ops, name)
    backward = getattr(_conv_ops, f"{name}_backward")
    x, weight = lift(x), lift(weight)
    b = bias.data if type(bias) is Tensor else bias
    opts = {"stride": stride, "padding": padding, "dilation": dilation, "groups": groups}
    y = forward(x.data, weight.data, b, **opts)
    xp = x.xp

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any, Any]:
        if _core._RECORDING[0]:
            raise NotImplementedError(
                f"second derivatives through {name} are not supported: "
                f"{name}_backward is not itself traced"
            )
        gx, gw, gb = backward(g.data, x.data, weight.data, **opts)
        return (
            Tensor(gx, xp=xp) if need[0] else None,
            Tensor(gw, xp=xp) if need[1] else None,
            Tensor(gb, xp=xp) if need[2] and gb is not None else None,
        )

    return make(y, (x, weight, bias), vjp, xp)
