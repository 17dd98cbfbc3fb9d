"""Reductions and broadcasting on tensors (sum, mean, max, broadcast_to), with their vjps."""

from __future__ import annotations

from typing import Any

from ._core import Tensor, active, lift, make
from ._ops_shape import axis_index, reshape

__all__ = ["broadcast_to", "max", "mean", "sum", "sum_to_shape"]


def _axes(axis: int | tuple[int, ...] | None, ndim: int) -> tuple[int, ...]:
    if axis is None:
        return tuple(range(ndim))
    if not isinstance(axis, tuple | list):
        axis = (axis,)
    axes = tuple(sorted(axis_index(a, ndim) for a in axis))
    if len(set(axes)) != len(axes):
        raise ValueError(f"`axis` must not repeat an axis; got {axis!r}")
    return axes


def _kept_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else n for i, n in enumerate(shape))


def sum(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Sum over ``axis``; vjp broadcasts the cotangent back over the summed axes.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.sum(ad.Tensor(np.ones((2, 3))), axis=0).data
    array([2., 2., 2.])
    """
    x = lift(x)
    shape = x.shape
    axes = _axes(axis, x.ndim)
    y = x.xp.sum(x.data, axis=axes, keepdims=keepdims)
    if not active(x):
        return Tensor(y, (), None, False, x.xp)
    kept = _kept_shape(shape, axes)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (broadcast_to(reshape(g, kept), shape),)

    return Tensor(y, (x,), vjp, True, x.xp)


def mean(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:
    """Arithmetic mean over ``axis`` (a sum divided by the count)."""
    x = lift(x)
    axes = _axes(axis, x.ndim)
    count = 1
    for a in axes:
        count *= x.shape[a]
    return sum(x, axes, keepdims) * (1.0 / (count or 1))


def max(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Tensor:  # noqa: A001
    """Maximum over ``axis``; the cotangent is shared evenly among tied maxima.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.max(ad.Tensor(np.array([1.0, 3.0, 2.0]))).data
    array(3.)
    """
    x = lift(x)
    xp = x.xp
    axes = _axes(axis, x.ndim)
    kept = _kept_shape(x.shape, axes)
    top = xp.max(x.data, axis=axes, keepdims=True)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        mask = xp.astype(x.data == top, x.data.dtype)
        share = Tensor(mask / xp.sum(mask, axis=axes, keepdims=True), xp=xp)
        return (reshape(g, kept) * share,)

    out = (
        top
        if keepdims
        else xp.reshape(top, tuple(n for i, n in enumerate(x.shape) if i not in axes))
    )
    return make(out, (x,), vjp, xp)


def broadcast_to(x: Any, shape: tuple[int, ...]) -> Tensor:
    """Broadcast ``x`` to ``shape``; vjp sums the cotangent back to ``x``'s shape."""
    x = lift(x)
    shape = tuple(shape)
    if x.shape == shape:
        return x
    y = x.xp.broadcast_to(x.data, shape)
    if not active(x):
        return Tensor(y, (), None, False, x.xp)
    xshape = x.shape

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (sum_to_shape(g, xshape),)

    return Tensor(y, (x,), vjp, True, x.xp)


def sum_to_shape(g: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Undo broadcasting: sum ``g`` over the axes that broadcasting added or stretched."""
    if g.data.shape == shape:
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and g.shape[lead + i] != 1
    )
    return reshape(sum(g, axes), shape)
