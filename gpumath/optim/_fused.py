"""Per-array update rules with as few passes and allocations as the backend allows.

Each rule computes one parameter's new state and update from its gradient. The array
path (NumPy, and CuPy's fallback) writes into arrays it has just created, in place, so a
rule allocates only the arrays it returns; the caller's arrays are never written. On CuPy
the Adam rule is one ``ElementwiseKernel`` launch (read g, m, v; write m, v, u) instead of
about ten. Both paths take the same host scalars, so they round alike up to fused
multiply-adds.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .._backend import is_cupy_namespace
from ..autodiff._core import namespace

__all__ = [
    "adam_leaf",
    "adam_leaf_cuda",
    "adam_leaf_xp",
    "add_square",
    "axpby",
    "scaled_ratio",
]


def adam_leaf(
    g: Any, m0: Any, v0: Any, b1: float, b2: float, eps: float, scale: float
) -> tuple[Any, Any, Any]:
    """Adam's moments and scaled direction for one array.

    ``m = b1 m0 + (1-b1) g``, ``v = b2 v0 + (1-b2) g^2``, ``u = scale m / (sqrt(v) + eps)``
    (bias corrections and the learning rate are folded into ``eps`` and ``scale`` by the
    caller). Returns new arrays ``(m, v, u)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.optim._fused import adam_leaf
    >>> m, v, u = adam_leaf(np.array([2.0]), np.zeros(1), np.zeros(1), 0.5, 0.75, 0.0, 1.0)
    >>> m, v, u
    (array([1.]), array([1.]), array([1.]))
    """
    xp = namespace(g)
    if is_cupy_namespace(xp) and _fusable(g, m0, v0):
        return adam_leaf_cuda(g, m0, v0, b1, b2, eps, scale)
    return adam_leaf_xp(g, m0, v0, b1, b2, eps, scale)


def _fusable(g: Any, m0: Any, v0: Any) -> bool:
    """One kernel needs one float dtype and one shape (no broadcasting between states)."""
    return (
        g.dtype == m0.dtype == v0.dtype
        and g.dtype in (np.float32, np.float64)
        and g.shape == m0.shape == v0.shape
    )


def adam_leaf_xp(
    g: Any, m0: Any, v0: Any, b1: float, b2: float, eps: float, scale: float
) -> tuple[Any, Any, Any]:
    """:func:`adam_leaf` in array code: three allocations (the results), eleven passes."""
    xp = namespace(g)
    if not _in_place_ok(g, m0, v0):
        m = m0 * b1 + g * (1.0 - b1)
        v = v0 * b2 + (g * g) * (1.0 - b2)
        return m, v, (m / (xp.sqrt(v) + eps)) * scale
    u = g * (1.0 - b1)  # scratch until the last step, then the update itself
    m = m0 * b1
    m += u
    v = g * g
    v *= 1.0 - b2
    xp.multiply(v0, b2, out=u)
    v += u
    xp.sqrt(v, out=u)
    u += eps
    xp.divide(m, u, out=u)
    u *= scale
    return m, v, u


def _in_place_ok(*arrays: Any) -> bool:
    """Whether results can be built in place: one dtype and shape, and not 0-d (NumPy
    gives scalars, not arrays, for 0-d arithmetic)."""
    first = arrays[0]
    return first.ndim > 0 and all(
        a.shape == first.shape and a.dtype == first.dtype for a in arrays[1:]
    )


@functools.cache
def _adam_kernel() -> Any:
    """The fused Adam ``ElementwiseKernel``, built on first GPU use (``import gpumath`` never
    imports CuPy)."""
    import cupy

    return cupy.ElementwiseKernel(
        "T g, T m0, T v0, T b1, T c1, T b2, T c2, T eps, T scale",
        "T m, T v, T u",
        """
        m = b1 * m0 + c1 * g;
        v = b2 * v0 + c2 * (g * g);
        u = scale * (m / (sqrt(v) + eps));
        """,
        "gm_adam_update",
        return_tuple=True,
    )


def adam_leaf_cuda(
    g: Any, m0: Any, v0: Any, b1: float, b2: float, eps: float, scale: float
) -> tuple[Any, Any, Any]:
    """:func:`adam_leaf` as one CuPy ``ElementwiseKernel`` (arrays of one dtype and shape)."""
    # Scalars as the arrays' own type: the placeholder T then binds to one dtype, and the
    # host computes 1 - b1 etc. in double exactly as the array path does.
    t = g.dtype.type
    return _adam_kernel()(g, m0, v0, t(b1), t(1.0 - b1), t(b2), t(1.0 - b2), t(eps), t(scale))


def axpby(x: Any, a: float, y: Any, b: float) -> Any:
    """``a x + b y`` in one new array (``b = 1`` skips a pass).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.optim._fused import axpby
    >>> axpby(np.ones(2), 0.5, np.full(2, 2.0), 1.0)
    array([2.5, 2.5])
    """
    if not _in_place_ok(x, y):
        return x * a + (y if b == 1.0 else y * b)
    out = x * a
    out += y if b == 1.0 else y * b
    return out


def add_square(v: Any, a: float, g: Any, c: float) -> Any:
    """``a v + c g^2`` in one new array (running sums and averages of squared gradients).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.optim._fused import add_square
    >>> add_square(np.ones(2), 0.5, np.full(2, 2.0), 0.25)
    array([1.5, 1.5])
    """
    if not _in_place_ok(g, v):
        return v * a + (g * g) * c
    out = g * g
    if c != 1.0:
        out *= c
    out += v if a == 1.0 else v * a
    return out


def scaled_ratio(g: Any, s: Any, eps: float, scale: float) -> Any:
    """``scale g / (sqrt(s) + eps)`` in one new array (Adagrad's and RMSprop's step)."""
    xp = namespace(g)
    if not _in_place_ok(g, s):
        return (g / (xp.sqrt(s) + eps)) * scale
    out = xp.sqrt(s)
    out += eps
    xp.divide(g, out, out=out)
    if scale != 1.0:
        out *= scale
    return out
