"""The linear layer ``activation(x @ weight.T + bias)``, fused into one GEMM kernel on CUDA."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _kernels
from .._backend import array_namespace, is_cupy_namespace
from .._nvtx import annotate
from .._validate import FLOAT_DTYPES, check_array

__all__ = ["ACTIVATIONS", "linear"]

# Codes of the epilogue in kernels/matmul.cu (GM_ACT_*).
_ACTIVATION_CODES = {None: 0, "relu": 1, "gelu": 2, "sigmoid": 3, "tanh": 4}
ACTIVATIONS = tuple(_ACTIVATION_CODES)
# Tile of Y per thread block of gm_linear_*, per dtype (kernels/matmul.cu).
_TILE = {np.dtype(np.float32): 128, np.dtype(np.float64): 64}
_KERNEL_NAMES = {np.dtype(np.float32): "gm_linear_f32", np.dtype(np.float64): "gm_linear_f64"}
_THREADS = 256
_INT32_MAX = 2**31 - 1
_HOST_BIAS = (type(None), np.ndarray)


@annotate("gpumath.linear")
def linear(x: Any, weight: Any, bias: Any = None, *, activation: str | None = None) -> Any:
    """Fully connected layer ``activation(x @ weight.T + bias)`` (``torch.nn.functional.linear``).

    On CUDA arrays this is one kernel: gpumath's tiled GEMM reads ``weight`` row by row
    (no transposed copy), adds the bias and applies the activation before it stores the
    result, so the output is written once and never read back.

    Parameters
    ----------
    x : array, shape (..., K)
        Inputs, float32 or float64; leading axes are batch axes.
    weight : array, shape (N, K)
        The layer's weight, same dtype, library and device as ``x``.
    bias : array, shape (N,), optional
        Added to every output row; same dtype as ``x``.
    activation : {None, "relu", "gelu", "sigmoid", "tanh"}
        Applied elementwise after the bias. ``"gelu"`` is the exact form
        ``0.5 * v * (1 + erf(v / sqrt(2)))`` (PyTorch's default), not the tanh approximation.

    Returns
    -------
    array, shape (..., N)
        Same dtype, library and device as ``x``. NaN and inf propagate as in the written-out
        formula (``relu(nan)`` is NaN).

    Raises
    ------
    ValueError
        If ``weight`` is not 2-D, ``x`` is 0-d, the inner dimensions differ, ``bias`` is not
        of shape ``(N,)`` (messages name the shapes), ``activation`` is unknown, or on
        CUDA an extent M (rows of ``x``), N or K reaches 2**31.
    TypeError
        If an input is not a NumPy/CuPy array, the dtypes are not one of float32/float64,
        or the inputs differ in dtype or mix NumPy and CuPy arrays.

    Notes
    -----
    On the CPU the product is ``numpy.matmul(x, weight.T)`` (BLAS reads the transposed view
    without a copy) and the bias and activation are applied in place on its result. On CUDA,
    ``x``, ``weight`` and ``bias`` are read C-contiguous: other layouts (e.g. a weight that
    is itself a transposed view) are copied to C order first. Float32 sums are true float32
    FMA sums (no TF32).

    Examples
    --------
    >>> import numpy as np, gpumath as gm
    >>> x = np.array([[1.0, -2.0]])
    >>> w = np.array([[1.0, 1.0], [2.0, 0.0]])
    >>> gm.linear(x, w, np.array([0.5, 3.0]), activation="relu")
    array([[0., 5.]])
    """
    dtype = _check(x, weight, bias, activation)
    # Plain NumPy inputs skip array_namespace (~10 us, more than a small layer takes).
    if type(x) is np.ndarray and type(weight) is np.ndarray and type(bias) in _HOST_BIAS:
        return _linear_numpy(x, weight, bias, activation)
    if is_cupy_namespace(array_namespace(x, weight, bias)):
        return _linear_cuda(x, weight, bias, activation, dtype)
    return _linear_numpy(x, weight, bias, activation)


def _check(x: Any, weight: Any, bias: Any, activation: Any) -> np.dtype:
    """Validate the arguments; return the common float dtype."""
    check_array(x, "x")
    check_array(weight, "weight")
    if bias is not None:
        check_array(bias, "bias")
    if activation not in _ACTIVATION_CODES:
        raise ValueError(f"`activation` must be one of {ACTIVATIONS}; got {activation!r}")
    dtype = np.dtype(x.dtype)
    if dtype not in FLOAT_DTYPES:
        raise TypeError(f"`x` must have dtype float32 or float64; got {x.dtype}")
    for name, arr in (("weight", weight), ("bias", bias)):
        if arr is not None and arr.dtype != dtype:
            raise TypeError(f"`{name}` must have the dtype of `x` ({dtype}); got {arr.dtype}")
    if weight.ndim != 2:
        raise ValueError(f"`weight` must be 2-D (N, K); got shape {tuple(weight.shape)}")
    if x.ndim == 0 or x.shape[-1] != weight.shape[1]:
        raise ValueError(
            f"linear: `x` has shape {tuple(x.shape)} and `weight` has shape "
            f"{tuple(weight.shape)}: the last axis of `x` must equal weight.shape[1] (K)"
        )
    if bias is not None and tuple(bias.shape) != (weight.shape[0],):
        raise ValueError(
            f"`bias` must have shape ({weight.shape[0]},) to match `weight` of shape "
            f"{tuple(weight.shape)}; got {tuple(bias.shape)}"
        )
    return dtype


def _linear_numpy(x: Any, weight: Any, bias: Any, activation: str | None) -> Any:
    """NumPy path: one BLAS product, then bias and activation in place on its result."""
    out = np.matmul(x, weight.T)
    if bias is not None:
        out += bias
    if activation == "relu":
        np.maximum(out, 0, out=out)  # maximum, not clip: NaN propagates
    elif activation == "gelu":
        import scipy.special

        # erfc(-v / sqrt 2) = 1 + erf(v / sqrt 2) without cancellation for negative v.
        tmp = np.multiply(out, -np.sqrt(0.5, dtype=out.dtype))
        scipy.special.erfc(tmp, out=tmp)
        out *= tmp
        out *= 0.5
    elif activation == "sigmoid":
        import scipy.special

        scipy.special.expit(out, out=out)
    elif activation == "tanh":
        np.tanh(out, out=out)
    return out


def _linear_cuda(x: Any, weight: Any, bias: Any, activation: str | None, dtype: np.dtype) -> Any:
    """Run gm_linear_* on CuPy operands: one launch writes the finished output."""
    import cupy

    k = x.shape[-1]
    n = weight.shape[0]
    lead = x.shape[:-1]
    m = math.prod(lead)
    out = cupy.empty((*lead, n), dtype=dtype)
    if m == 0 or n == 0:
        return out
    tile = _TILE[dtype]
    tiles = -(-m // tile) * -(-n // tile)
    if max(m, n, k, tiles) > _INT32_MAX:
        raise ValueError(
            f"linear: `x` of shape {tuple(x.shape)} and `weight` of shape "
            f"{tuple(weight.shape)} exceed the CUDA kernel's 32-bit M, N, K"
        )
    x2 = cupy.ascontiguousarray(x).reshape(m, k)
    w = cupy.ascontiguousarray(weight)
    b = w if bias is None else cupy.ascontiguousarray(bias)  # not read without a bias
    shapes = f"x {tuple(x.shape)}, weight {tuple(weight.shape)} {dtype}"
    _launch_linear(x2, w, b, out, bias is not None, _ACTIVATION_CODES[activation], shapes)
    return out


def _launch_linear(
    x: Any, w: Any, bias: Any, out: Any, has_bias: bool, activation: int, shapes: str
) -> None:
    """Launch gm_linear_* on C-contiguous x (M, K), w (N, K), bias (N,) and out (M, N).

    Also the transposed-operand path of ``matmul``: ``a @ w.T`` with no bias and code 0.
    """
    (m, k), n = x.shape, w.shape[0]
    tiles = -(-m // _TILE[out.dtype]) * -(-n // _TILE[out.dtype])
    kernel = _kernels.get_kernel("matmul", _KERNEL_NAMES[out.dtype])
    args = (
        x,
        w,
        bias,
        out,
        np.int32(m),
        np.int32(n),
        np.int32(k),
        np.int32(has_bias),
        np.int32(activation),
    )
    _kernels.launch(kernel, (tiles,), (_THREADS,), args, op="linear", shapes=shapes)
