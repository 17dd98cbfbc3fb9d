"""Elementwise arithmetic and products on tensors, each with its vjp next to it.

Broadcasting is undone in the vjp (``sum_to_shape``). A vjp that needs the op's own
output reuses the stored array in a first-order sweep and recomputes the output as a
traced op when the sweep is recorded (higher-order derivatives), so the graph never holds
a reference cycle through a result.
"""

from __future__ import annotations

from typing import Any

from .._xp import sign
from ..ops.clip import clip as _clip_arrays
from ..ops.linear import linear as _linear_arrays
from ..ops.matmul import matmul as _matmul_arrays
from . import _core
from ._core import Tensor, active, data_of, lift, make, namespace, scalar_like, unary
from ._ops_reduce import sum, sum_to_shape
from ._ops_shape import matrix_transpose, reshape

__all__ = [
    "abs",
    "add",
    "clip",
    "cos",
    "divide",
    "exp",
    "linear",
    "log",
    "log1p",
    "matmul",
    "maximum",
    "minimum",
    "multiply",
    "negative",
    "power",
    "sin",
    "sqrt",
    "square",
    "subtract",
    "tanh",
    "where",
]


def _xp_of(*args: Any) -> Any:
    for a in args:
        if type(a) is Tensor:
            return a.xp
    for a in args:
        if hasattr(a, "shape"):
            return namespace(a)
    raise TypeError("expected at least one Tensor or array; got only scalars")


def _meta(a: Any, b: Any) -> tuple[Any, bool]:
    """A binary op's namespace, and whether it must record (``active`` in one call)."""
    if type(a) is Tensor:
        record = a.requires_grad or (type(b) is Tensor and b.requires_grad)
        return a.xp, record and _core._RECORDING[0]
    if type(b) is Tensor:
        return b.xp, b.requires_grad and _core._RECORDING[0]
    return _xp_of(a, b), False


def _shape(a: Any) -> tuple[int, ...]:
    return getattr(a, "shape", ())


def _saved(y: Any, xp: Any, recompute: Any) -> Tensor:
    """The op's output inside its vjp: stored data, or a traced recomputation."""
    return recompute() if _core._RECORDING[0] else Tensor(y, (), None, False, xp)


# ------------------------------------------------------------------ binary arithmetic
# Each op computes on the raw arrays first and returns a plain constant tensor unless it
# must record (``active``): the vjp closure and the saved shapes are built only then.


def add(a: Any, b: Any) -> Tensor:
    """``a + b`` with broadcasting."""
    ad = a.data if type(a) is Tensor else a
    bd = b.data if type(b) is Tensor else b
    y = ad + bd
    xp, record = _meta(a, b)
    if not record:
        return Tensor(y, (), None, False, xp)
    sa, sb = _shape(ad), _shape(bd)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        return (
            sum_to_shape(g, sa) if need[0] else None,
            sum_to_shape(g, sb) if need[1] else None,
        )

    return Tensor(y, (a, b), vjp, True, xp)


def subtract(a: Any, b: Any) -> Tensor:
    """``a - b`` with broadcasting."""
    ad = a.data if type(a) is Tensor else a
    bd = b.data if type(b) is Tensor else b
    y = ad - bd
    xp, record = _meta(a, b)
    if not record:
        return Tensor(y, (), None, False, xp)
    sa, sb = _shape(ad), _shape(bd)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        return (
            sum_to_shape(g, sa) if need[0] else None,
            sum_to_shape(-g, sb) if need[1] else None,
        )

    return Tensor(y, (a, b), vjp, True, xp)


def multiply(a: Any, b: Any) -> Tensor:
    """``a * b`` with broadcasting."""
    ad = a.data if type(a) is Tensor else a
    bd = b.data if type(b) is Tensor else b
    y = ad * bd
    xp, record = _meta(a, b)
    if not record:
        return Tensor(y, (), None, False, xp)
    sa, sb = _shape(ad), _shape(bd)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        return (
            sum_to_shape(g * b, sa) if need[0] else None,
            sum_to_shape(g * a, sb) if need[1] else None,
        )

    return Tensor(y, (a, b), vjp, True, xp)


def divide(a: Any, b: Any) -> Tensor:
    """``a / b`` with broadcasting."""
    ad = a.data if type(a) is Tensor else a
    bd = b.data if type(b) is Tensor else b
    y = ad / bd
    xp, record = _meta(a, b)
    if not record:
        return Tensor(y, (), None, False, xp)
    sa, sb = _shape(ad), _shape(bd)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        return (
            sum_to_shape(g / b, sa) if need[0] else None,
            sum_to_shape(-g * a / (b * b), sb) if need[1] else None,
        )

    return Tensor(y, (a, b), vjp, True, xp)


def negative(a: Any) -> Tensor:
    """``-a``."""
    a = lift(a)
    if not active(a):
        return Tensor(-a.data, (), None, False, a.xp)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (-g,)

    return Tensor(-a.data, (a,), vjp, True, a.xp)


def power(a: Any, b: Any) -> Tensor:
    """``a ** b``; with a tensor exponent the vjp uses ``log(a)`` (``a > 0`` there)."""
    xp = _xp_of(a, b)
    y = data_of(a) ** data_of(b)
    if not active(a, b):
        return Tensor(y, (), None, False, xp)
    sa, sb = _shape(data_of(a)), _shape(data_of(b))

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        ga = gb = None
        if need[0]:
            ga = sum_to_shape(g * b * a ** (b - 1), sa)
        if need[1]:
            ga_out = _saved(y, xp, lambda: power(a, b))
            gb = sum_to_shape(g * ga_out * log(a), sb)
        return ga, gb

    return Tensor(y, (a, b), vjp, True, xp)


def square(a: Any) -> Tensor:
    """``a * a``."""
    return multiply(a, a)


def maximum(a: Any, b: Any) -> Tensor:
    """Elementwise maximum; ties send half the cotangent to each side (like PyTorch)."""
    return _extremum(a, b, lambda xp, u, v: xp.maximum(u, v), 1.0)


def minimum(a: Any, b: Any) -> Tensor:
    """Elementwise minimum; ties send half the cotangent to each side."""
    return _extremum(a, b, lambda xp, u, v: xp.minimum(u, v), -1.0)


def _extremum(a: Any, b: Any, fn: Any, orient: float) -> Tensor:
    xp = _xp_of(a, b)
    ad, bd = data_of(a), data_of(b)
    sa, sb = _shape(ad), _shape(bd)
    y = fn(xp, ad, bd)
    dtype = y.dtype

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        diff = (ad - bd) * orient  # +1: maximum, -1: minimum
        wa = xp.astype(diff > 0, dtype) + 0.5 * xp.astype(diff == 0, dtype)
        wa_t = Tensor(wa, xp=xp)
        return (
            sum_to_shape(g * wa_t, sa) if need[0] else None,
            sum_to_shape(g * (1.0 - wa_t), sb) if need[1] else None,
        )

    return make(y, (a, b), vjp, xp)


def where(condition: Any, a: Any, b: Any) -> Tensor:
    """``a`` where ``condition`` (a boolean array, not differentiated) else ``b``."""
    xp = _xp_of(a, b, condition)
    cond = data_of(condition)
    sa, sb = _shape(data_of(a)), _shape(data_of(b))

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[None, Any, Any]:
        zero = scalar_like(0, g.data, xp)
        return (
            None,
            sum_to_shape(where(cond, g, zero), sa) if need[1] else None,
            sum_to_shape(where(cond, zero, g), sb) if need[2] else None,
        )

    return make(xp.where(cond, data_of(a), data_of(b)), (condition, a, b), vjp, xp)


# ------------------------------------------------------------------ unary functions


def exp(x: Any) -> Tensor:
    """``e ** x``."""
    x = lift(x)
    return unary(x, x.xp.exp(x.data), lambda g, x, y: g * _saved(y, x.xp, lambda: exp(x)))


def log(x: Any) -> Tensor:
    """Natural logarithm."""
    x = lift(x)
    return unary(x, x.xp.log(x.data), lambda g, x, y: g / x)


def log1p(x: Any) -> Tensor:
    """``log(1 + x)``, accurate for small ``x``."""
    x = lift(x)
    return unary(x, x.xp.log1p(x.data), lambda g, x, y: g / (x + 1.0))


def _tanh_derivative(g: Tensor, x: Tensor, y: Any) -> Tensor:
    t = _saved(y, x.xp, lambda: tanh(x))
    return g * (1.0 - t * t)


def tanh(x: Any) -> Tensor:
    """Hyperbolic tangent."""
    x = lift(x)
    return unary(x, x.xp.tanh(x.data), _tanh_derivative)


def sqrt(x: Any) -> Tensor:
    """Square root."""
    x = lift(x)
    return unary(x, x.xp.sqrt(x.data), lambda g, x, y: g * 0.5 / _saved(y, x.xp, lambda: sqrt(x)))


def abs(x: Any) -> Tensor:  # noqa: A001
    """Absolute value; the derivative at 0 is taken as 0."""
    x = lift(x)
    return unary(x, x.xp.abs(x.data), lambda g, x, y: g * Tensor(sign(x.data, x.xp), xp=x.xp))


def sin(x: Any) -> Tensor:
    """Sine."""
    x = lift(x)
    return unary(x, x.xp.sin(x.data), lambda g, x, y: g * cos(x))


def cos(x: Any) -> Tensor:
    """Cosine."""
    x = lift(x)
    return unary(x, x.xp.cos(x.data), lambda g, x, y: -g * sin(x))


def clip(x: Any, lo: float | None = None, hi: float | None = None) -> Tensor:
    """``gpumath.clip`` traced: the cotangent passes where ``lo <= x <= hi``."""
    x = lift(x)
    xp = x.xp
    lo_d, hi_d = data_of(lo), data_of(hi)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        inside = xp.ones_like(x.data, dtype=xp.bool)
        if lo_d is not None:
            inside = inside & (x.data >= lo_d)
        if hi_d is not None:
            inside = inside & (x.data <= hi_d)
        return (g * Tensor(xp.astype(inside, x.data.dtype), xp=xp),)

    return make(_clip_arrays(x.data, lo_d, hi_d), (x,), vjp, xp)


# ------------------------------------------------------------------ products


def matmul(a: Any, b: Any) -> Tensor:
    """``gpumath.matmul`` traced (NumPy semantics, batch axes broadcast).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.matmul(ad.Tensor(np.eye(2)), np.ones((2, 3))).shape
    (2, 3)
    """
    a, b = lift(a), lift(b)
    if a.ndim == 1:
        return reshape(matmul(reshape(a, (1, a.shape[0])), b), _drop(b.shape, -2))
    if b.ndim == 1:
        return reshape(matmul(a, reshape(b, (b.shape[0], 1))), a.shape[:-1])
    y = _matmul_arrays(a.data, b.data)
    if not active(a, b):
        return Tensor(y, (), None, False, a.xp)
    sa, sb = a.shape, b.shape

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any]:
        return (
            sum_to_shape(matmul(g, matrix_transpose(b)), sa) if need[0] else None,
            sum_to_shape(matmul(matrix_transpose(a), g), sb) if need[1] else None,
        )

    return Tensor(y, (a, b), vjp, True, a.xp)


def _drop(shape: tuple[int, ...], axis: int) -> tuple[int, ...]:
    axis %= len(shape)
    return shape[:axis] + shape[axis + 1 :]


_ACTIVATIONS = (None, "relu", "tanh", "sigmoid", "gelu")


def linear(x: Any, weight: Any, bias: Any = None, *, activation: str | None = None) -> Tensor:
    """``gpumath.linear`` traced: ``activation(x @ weight.T + bias)``, ``weight`` is (out, in).

    The forward pass is gpumath's fused linear kernel (GEMM + bias + activation in one
    launch on CUDA). The vjp takes the activation's derivative from the output, then
    flattens the batch axes so the weight gradient is one ``(out, batch) @ (batch, in)``
    product.

    Parameters
    ----------
    x : Tensor or array, shape (..., in)
    weight : Tensor or array, shape (out, in)
    bias : Tensor or array, shape (out,), optional
    activation : {None, "relu", "tanh", "sigmoid", "gelu"}
        ``"gelu"`` here is the tanh form of ``gpumath.nn.gelu`` applied after the fused
        product (the kernel's exact erf form has no array-API derivative).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.linear(np.ones((4, 3)), ad.Tensor(np.ones((2, 3))), activation="relu").shape
    (4, 2)
    """
    if activation not in _ACTIVATIONS:
        raise ValueError(f"`activation` must be one of {_ACTIVATIONS}; got {activation!r}")
    x, weight = lift(x), lift(weight)
    if weight.ndim != 2 or x.ndim < 1 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            "`x` must have shape (..., in) and `weight` shape (out, in); "
            f"got {x.shape} and {weight.shape}"
        )
    if activation == "gelu":
        from . import _ops_nn

        return _ops_nn.gelu(_linear(x, weight, bias, None))
    return _linear(x, weight, bias, activation)


def _linear(x: Tensor, w: Tensor, bias: Any, activation: str | None) -> Tensor:
    """One node for the fused layer; its vjp differentiates the activation from the output."""
    xp = x.xp
    n_in, n_out = w.shape[1], w.shape[0]
    y = _linear_arrays(x.data, w.data, data_of(bias), activation=activation)
    if not active(x, w, bias):
        return Tensor(y, (), None, False, xp)

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Any, Any, Any]:
        if activation is not None:
            out = _saved(y, xp, lambda: _linear(x, w, bias, activation))
            if activation == "relu":
                g = g * Tensor(xp.astype(y > 0, y.dtype), xp=xp)
            elif activation == "sigmoid":
                g = g * out * (1.0 - out)
            else:  # tanh
                g = g * (1.0 - out * out)
        g2 = reshape(g, (-1, n_out))
        return (
            matmul(g, w) if need[0] else None,
            matmul(matrix_transpose(g2), reshape(x, (-1, n_in))) if need[1] else None,
            sum(g2, axis=0) if need[2] else None,
        )

    return Tensor(y, (x, w, bias), vjp, True, xp)


def _install_operators() -> None:
    """Give Tensor its Python operators, all routed to the traced ops above."""
    from . import _ops_reduce, _ops_shape

    def rsub(self: Tensor, other: Any) -> Tensor:
        return subtract(other, self)

    def rdiv(self: Tensor, other: Any) -> Tensor:
        return divide(other, self)

    def rpow(self: Tensor, other: Any) -> Tensor:
        return power(other, self)

    def rmatmul(self: Tensor, other: Any) -> Tensor:
        return matmul(other, self)

    Tensor.__add__ = add
    Tensor.__radd__ = add
    Tensor.__sub__ = subtract
    Tensor.__rsub__ = rsub
    Tensor.__mul__ = multiply
    Tensor.__rmul__ = multiply
    Tensor.__truediv__ = divide
    Tensor.__rtruediv__ = rdiv
    Tensor.__pow__ = power
    Tensor.__rpow__ = rpow
    Tensor.__matmul__ = matmul
    Tensor.__rmatmul__ = rmatmul
    Tensor.__neg__ = negative
    Tensor.__getitem__ = _ops_shape.getitem
    Tensor.__abs__ = abs
    Tensor.sum = _ops_reduce.sum
    Tensor.mean = _ops_reduce.mean
    Tensor.max = _ops_reduce.max
    Tensor.reshape = lambda self, *shape: reshape(
        self, shape[0] if len(shape) == 1 and not isinstance(shape[0], int) else shape
    )
    Tensor.T = property(lambda self: _ops_shape.permute_dims(self, tuple(range(self.ndim))[::-1]))
    Tensor.mT = property(matrix_transpose)
    # Comparisons give plain boolean arrays: they are not differentiable.
    Tensor.__gt__ = lambda self, other: self.data > data_of(other)
    Tensor.__ge__ = lambda self, other: self.data >= data_of(other)
    Tensor.__lt__ = lambda self, other: self.data < data_of(other)
    Tensor.__le__ = lambda self, other: self.data <= data_of(other)


_install_operators()
