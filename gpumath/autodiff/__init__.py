"""Automatic differentiation over whole arrays: reverse mode, forward mode, Hessians.

Functions written with the ops of this module (or Python operators on :class:`Tensor`)
can be differentiated by :func:`grad`, :func:`value_and_grad`, :func:`vjp`, :func:`jvp`,
:func:`jacobian`, :func:`hessian` and :func:`hvp`, on NumPy or CuPy arrays alike.
Each op's derivative sits next to the op (``_ops_*.py``). Gradients of gradients work:
a backward sweep run inside another derivative is itself traced.

Examples
--------
>>> import numpy as np
>>> from gpumath import autodiff as ad
>>> ad.grad(lambda x: ad.sum(x * x))(np.array([1.0, 2.0]))
array([2., 4.])
"""

from ._api import (
    check_grad,
    checkpoint,
    grad,
    hessian,
    hvp,
    jacobian,
    jvp,
    value_and_grad,
    vjp,
)
from ._core import Tensor, no_record
from ._ops_arith import (
    abs,
    add,
    clip,
    cos,
    divide,
    exp,
    linear,
    log,
    log1p,
    matmul,
    maximum,
    minimum,
    multiply,
    negative,
    power,
    sin,
    sqrt,
    square,
    subtract,
    tanh,
    where,
)
from ._ops_nn import conv2d, conv3d, gelu, leaky_relu, logsumexp, relu, sigmoid, softplus
from ._ops_reduce import broadcast_to, max, mean, sum
from ._ops_shape import (
    concatenate,
    expand_dims,
    getitem,
    matrix_transpose,
    permute_dims,
    reshape,
    squeeze,
    stack,
)

__all__ = [
    "Tensor",
    "abs",
    "add",
    "broadcast_to",
    "check_grad",
    "checkpoint",
    "clip",
    "concatenate",
    "conv2d",
    "conv3d",
    "cos",
    "divide",
    "exp",
    "expand_dims",
    "gelu",
    "getitem",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "leaky_relu",
    "linear",
    "log",
    "log1p",
    "logsumexp",
    "matmul",
    "matrix_transpose",
    "max",
    "maximum",
    "mean",
    "minimum",
    "multiply",
    "negative",
    "no_record",
    "permute_dims",
    "power",
    "relu",
    "reshape",
    "sigmoid",
    "sin",
    "softplus",
    "sqrt",
    "square",
    "squeeze",
    "stack",
    "subtract",
    "sum",
    "tanh",
    "value_and_grad",
    "vjp",
    "where",
]
