"""Shape ops on tensors (reshape, transpose, indexing, concatenate), each with its vjp."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ._core import Tensor, active, data_of, lift, make, zeros_like_shape

__all__ = [
    "concatenate",
    "expand_dims",
    "getitem",
    "matrix_transpose",
    "permute_dims",
    "reshape",
    "squeeze",
    "stack",
]


def reshape(x: Any, shape: Sequence[int]) -> Tensor:
    """``x`` with a new shape (same data order); vjp reshapes back.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.reshape(ad.Tensor(np.arange(6.0)), (2, 3)).shape
    (2, 3)
    """
    x = lift(x)
    y = x.xp.reshape(x.data, tuple(shape))
    if not active(x):
        return Tensor(y, (), None, False, x.xp)
    xshape = x.shape

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (reshape(g, xshape),)

    return Tensor(y, (x,), vjp, True, x.xp)


def permute_dims(x: Any, axes: Sequence[int]) -> Tensor:
    """Permute the axes of ``x`` (``numpy.transpose`` with explicit axes).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.permute_dims(ad.Tensor(np.ones((2, 3, 4))), (2, 0, 1)).shape
    (4, 2, 3)
    """
    x = lift(x)
    axes = tuple(int(a) % max(x.ndim, 1) for a in axes)
    y = x.xp.permute_dims(x.data, axes)
    if not active(x):
        return Tensor(y, (), None, False, x.xp)
    inverse = tuple(sorted(range(len(axes)), key=axes.__getitem__))

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (permute_dims(g, inverse),)

    return Tensor(y, (x,), vjp, True, x.xp)


def matrix_transpose(x: Any) -> Tensor:
    """Swap the last two axes (``x.mT``); a 1-D or 0-D ``x`` is returned unchanged."""
    x = lift(x)
    if x.ndim < 2:
        return x
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return permute_dims(x, axes)


def _check_basic_key(key: Any) -> None:
    """Integer-array keys may repeat an index, which assignment cannot scatter-add."""
    items = key if isinstance(key, tuple) else (key,)
    for k in items:
        if k is None or k is Ellipsis or isinstance(k, int | slice):
            continue
        kind = getattr(getattr(k, "dtype", None), "kind", None)
        if kind == "b":
            continue
        raise TypeError(
            "traced indexing takes ints, slices, None, Ellipsis and boolean masks; "
            f"got {type(k).__name__} {getattr(k, 'dtype', '')} (integer-array indexing "
            "may repeat an index: use a one-hot product instead)"
        )


def getitem(x: Any, key: Any) -> Tensor:
    """``x[key]`` for basic indexing and boolean masks; vjp scatters into zeros.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.getitem(ad.Tensor(np.arange(5.0)), slice(1, 3)).data
    array([1., 2.])
    """
    x = lift(x)
    key = data_of(key)
    _check_basic_key(key)
    xshape = x.shape

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (_scatter(g, xshape, key),)

    return make(x.data[key], (x,), vjp, x.xp)


def _scatter(g: Tensor, shape: tuple[int, ...], key: Any) -> Tensor:
    """Zeros of ``shape`` with ``g`` placed at ``key``: the transpose of ``getitem``."""
    out = zeros_like_shape(shape, g.data, g.xp)
    out[key] = g.data

    def vjp(h: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (getitem(h, key),)

    return make(out, (g,), vjp, g.xp)


def concatenate(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along an existing axis; vjp slices the cotangent back apart.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.concatenate([ad.Tensor(np.ones(2)), ad.Tensor(np.zeros(3))]).shape
    (5,)
    """
    ts = [lift(x) for x in xs]
    if not ts:
        raise ValueError("`xs` must hold at least one array; got an empty sequence")
    xp = ts[0].xp
    ndim = ts[0].ndim
    axis = axis % ndim
    bounds = [0]
    for t in ts:
        bounds.append(bounds[-1] + t.shape[axis])
    lead = (slice(None),) * axis

    def vjp(g: Tensor, need: tuple[bool, ...]) -> list[Tensor | None]:
        return [
            getitem(g, lead + (slice(lo, hi),)) if wanted else None
            for lo, hi, wanted in zip(bounds[:-1], bounds[1:], need, strict=True)
        ]

    return make(xp.concat([t.data for t in ts], axis=axis), tuple(ts), vjp, xp)


def axis_index(axis: Any, ndim: int) -> int:
    """``axis`` as an index in ``[0, ndim)``; an out-of-range axis must not wrap silently."""
    if isinstance(axis, bool) or not isinstance(axis, int | np.integer):
        raise TypeError(f"`axis` must be an int; got {axis!r}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"`axis` must be in [{-ndim}, {ndim}) for a {ndim}-D array; got {axis}")
    return int(axis) % ndim


def expand_dims(x: Any, axis: int) -> Tensor:
    """Insert a length-1 axis at ``axis``."""
    x = lift(x)
    shape = list(x.shape)
    shape.insert(axis_index(axis, x.ndim + 1), 1)
    return reshape(x, shape)


def squeeze(x: Any, axis: int) -> Tensor:
    """Remove the length-1 axis ``axis``."""
    x = lift(x)
    axis = axis_index(axis, x.ndim)
    if x.shape[axis] != 1:
        raise ValueError(f"`axis` must name a length-1 axis; got axis {axis} of shape {x.shape}")
    return reshape(x, x.shape[:axis] + x.shape[axis + 1 :])


def stack(xs: Sequence[Any], axis: int = 0) -> Tensor:
    """Join tensors along a new axis."""
    ts = [lift(x) for x in xs]
    if not ts:
        raise ValueError("`xs` must hold at least one array; got an empty sequence")
    return concatenate([expand_dims(t, axis) for t in ts], axis=axis)
