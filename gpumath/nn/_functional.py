"""Activations, losses, dropout and batch normalisation, numerically stable and traced.

Every function takes tensors or raw arrays. Given tensors it returns a tensor (so it can
be differentiated with ``gpumath.autodiff``); given only arrays it returns an array.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
from array_api_compat import device as _device

from .. import autodiff as ad
from .._backend import is_cupy_array
from .._validate import check_array, check_same_shape
from ..autodiff._core import Tensor, data_of, scalar_like

__all__ = [
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "gelu",
    "leaky_relu",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
]

F = TypeVar("F", bound=Callable[..., Any])


def _arrays_in_arrays_out(fn: F) -> F:
    """Unwrap the result when no argument was a tensor: plain arrays in, plain array out.

    The first argument (the input) is checked by its name, for a clear error on a list.
    """
    first = next(iter(inspect.signature(fn).parameters))

    @functools.wraps(fn)
    def wrapped(*args: Any, **kwargs: Any) -> Any:
        if args and not _is_tensor_or_array(args[0]):
            raise TypeError(
                f"`{first}` must be a NumPy or CuPy array or a Tensor; got "
                f"{type(args[0]).__name__} (convert with gpumath.asarray)"
            )
        if args and np.dtype(args[0].dtype).kind not in "biuf":  # complex: sigmoid drops .imag
            raise TypeError(f"`{first}` must have a real dtype; got {args[0].dtype}")
        out = fn(*args, **kwargs)
        traced = any(type(a) is Tensor for a in args) or any(
            type(v) is Tensor for v in kwargs.values()
        )
        return out if traced else data_of(out)

    return wrapped  # type: ignore[return-value]


def _is_tensor_or_array(x: Any) -> bool:
    return type(x) is Tensor or isinstance(x, np.ndarray | np.generic) or is_cupy_array(x)


def _check_same_shape(a: Any, b: Any, a_name: str, b_name: str) -> None:
    """Loss operands must match: broadcasting (N, 1) against (N,) would average N * N terms."""
    check_same_shape(_array_of(a, a_name), _array_of(b, b_name), a_name, b_name)


def _array_of(x: Any, name: str) -> Any:
    """The array under a tensor, or ``x`` itself once it is checked to be an array."""
    x = data_of(x)
    check_array(x, name)
    return x


@_arrays_in_arrays_out
def relu(x: Any) -> Any:
    """``max(x, 0)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.relu(np.array([-1.0, 2.0]))
    array([0., 2.])
    """
    return ad.relu(x)


@_arrays_in_arrays_out
def leaky_relu(x: Any, negative_slope: float = 0.01) -> Any:
    """``x`` for ``x > 0``, else ``negative_slope * x``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.leaky_relu(np.array([-1.0, 2.0]), 0.1)
    array([-0.1,  2. ])
    """
    return ad.leaky_relu(x, negative_slope)


@_arrays_in_arrays_out
def gelu(x: Any) -> Any:
    """GELU in its tanh form (PyTorch's ``approximate="tanh"``).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> float(nn.gelu(np.array(0.0)))
    0.0
    """
    return ad.gelu(x)


@_arrays_in_arrays_out
def sigmoid(x: Any) -> Any:
    """``1 / (1 + exp(-x))`` without overflow at any ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    array([0. , 0.5, 1. ])
    """
    return ad.sigmoid(x)


@_arrays_in_arrays_out
def tanh(x: Any) -> Any:
    """Hyperbolic tangent.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.tanh(np.array([0.0]))
    array([0.])
    """
    return ad.tanh(x)


@_arrays_in_arrays_out
def softplus(x: Any) -> Any:
    """``log(1 + exp(x))``, exact for large ``|x|``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.softplus(np.array([1000.0]))
    array([1000.])
    """
    return ad.softplus(x)


@_arrays_in_arrays_out
def logsumexp(x: Any, axis: int | tuple[int, ...] | None = None, keepdims: bool = False) -> Any:
    """``log(sum(exp(x), axis))`` with the maximum shifted out.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> float(nn.logsumexp(np.array([-1000.0, -1000.0])))
    -999.3068528194401
    """
    return ad.logsumexp(x, axis, keepdims)


@_arrays_in_arrays_out
def log_softmax(x: Any, axis: int = -1) -> Any:
    """``x - logsumexp(x, axis)``: log-probabilities, finite for any finite ``x``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.log_softmax(np.array([1000.0, 1000.0]))
    array([-0.69314718, -0.69314718])
    """
    return ad.subtract(x, ad.logsumexp(x, axis, keepdims=True))


@_arrays_in_arrays_out
def softmax(x: Any, axis: int = -1) -> Any:
    """``exp(log_softmax(x))``: probabilities along ``axis``, no overflow.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> nn.softmax(np.array([1000.0, 1000.0]))
    array([0.5, 0.5])
    """
    return ad.exp(ad.subtract(x, ad.logsumexp(x, axis, keepdims=True)))


@_arrays_in_arrays_out
def mse_loss(prediction: Any, target: Any) -> Any:
    """Mean squared error ``mean((prediction - target) ** 2)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> float(nn.mse_loss(np.array([1.0, 2.0]), np.array([1.0, 4.0])))
    2.0
    """
    _check_same_shape(prediction, target, "prediction", "target")
    d = ad.subtract(prediction, target)
    return ad.mean(d * d)


@_arrays_in_arrays_out
def binary_cross_entropy_with_logits(logits: Any, targets: Any) -> Any:
    """Mean of ``softplus(z) - z * t``: binary cross-entropy on logits, exact at ``|z| ~ 1e3``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> float(nn.binary_cross_entropy_with_logits(np.array([1000.0]), np.array([0.0])))
    1000.0
    """
    _check_same_shape(logits, targets, "logits", "targets")
    return ad.mean(ad.softplus(logits) - ad.multiply(logits, targets))


@_arrays_in_arrays_out
def cross_entropy(logits: Any, labels: Any) -> Any:
    """Mean softmax cross-entropy of ``logits`` (N, C) against integer ``labels`` (N,).

    Computed as ``logsumexp(logits) - logits[label]`` (the label's logit picked by a one-hot
    product), so it is exact for logits of any magnitude.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> float(nn.cross_entropy(np.array([[1000.0, 0.0]]), np.array([1])))
    1000.0
    """
    z = ad.Tensor(logits) if type(logits) is not Tensor else logits
    labels = _array_of(labels, "labels")
    if z.ndim != 2 or labels.ndim != 1 or labels.shape[0] != z.shape[0]:
        raise ValueError(
            "`logits` must have shape (N, C) and `labels` shape (N,); "
            f"got {z.shape} and {tuple(labels.shape)}"
        )
    if labels.dtype.kind not in "iu":
        raise TypeError(f"`labels` must hold integer class indices; got dtype {labels.dtype}")
    xp = z.xp
    n_classes = z.shape[1]
    if isinstance(labels, np.ndarray):  # on the host the range check costs no device sync
        bad = (labels < 0) | (labels >= n_classes)
        if bad.any():
            raise ValueError(
                f"`labels` must be class indices in [0, {n_classes}); got {labels[bad][0]}"
            )
    device = _device(z.data)
    hit = labels[:, None] == xp.arange(n_classes, device=device)
    picked = ad.sum(z * xp.astype(hit, z.dtype), axis=1)
    losses = ad.logsumexp(z, axis=1) - picked
    if isinstance(labels, np.ndarray):  # range checked above
        return ad.mean(losses)
    # A label outside [0, C) on the device matches no class: make its loss NaN, not -logit 0.
    zero, nan = scalar_like(0.0, z.data, xp), scalar_like(xp.nan, z.data, xp)
    return ad.mean(losses + xp.where(xp.any(hit, axis=1), zero, nan))


@_arrays_in_arrays_out
def dropout(x: Any, p: float, rng: Any, training: bool = True) -> Any:
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Parameters
    ----------
    rng : generator
        Anything with ``random(size, dtype=)`` on ``x``'s device (NumPy's Generator,
        ``gpumath.random.default_rng``).
    training : bool
        When False (or ``p == 0``) ``x`` is returned unchanged.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> y = nn.dropout(np.ones(1000), 0.5, np.random.default_rng(0))
    >>> sorted(set(y.tolist()))
    [0.0, 2.0]
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"`p` must be in [0, 1); got {p!r}")
    if not training or p == 0.0:
        return x
    _array_of(x, "x")
    if not callable(getattr(rng, "random", None)):
        raise TypeError(
            "`rng` must be a generator with random(size, dtype=) (gpumath.random.default_rng "
            f"or numpy.random.default_rng); got {type(rng).__name__}"
        )
    shape = tuple(data_of(x).shape)
    dtype = data_of(x).dtype
    keep = rng.random(shape, dtype=dtype) >= p
    zero = scalar_like(0, data_of(x), ad.Tensor(data_of(x)).xp)
    return ad.where(keep, x, zero) * (1.0 / (1.0 - p))


def batch_norm(
    x: Any,
    running_mean: Any,
    running_var: Any,
    weight: Any = None,
    bias: Any = None,
    training: bool = False,
    momentum: float = 0.1,
    eps: float = 1e-5,
) -> Any:
    """Batch normalisation over every axis but axis 1 (channels), like PyTorch's.

    In training the batch statistics normalise ``x`` (biased variance) and, when given,
    ``running_mean``/``running_var`` are updated in place with ``momentum`` (unbiased
    variance, as PyTorch does). Otherwise the running statistics normalise ``x``.

    Parameters
    ----------
    x : tensor or array, shape (N, C, ...)
    running_mean, running_var : array, shape (C,), or None
    weight, bias : tensor or array, shape (C,), optional
        Per-channel scale and shift.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> x = np.random.default_rng(0).normal(3.0, 2.0, (64, 4))
    >>> y = nn.batch_norm(x, None, None, training=True)
    >>> bool(np.allclose(y.mean(axis=0), 0.0, atol=1e-12))
    True
    """
    traced = any(type(a) is Tensor for a in (x, weight, bias))
    xt = x if type(x) is Tensor else ad.Tensor(x)
    if xt.ndim < 2:
        raise ValueError(f"`x` must have shape (N, C, ...); got {xt.shape}")
    per_channel = {"running_mean": running_mean, "running_var": running_var}
    per_channel.update(weight=weight, bias=bias)
    for name, v in per_channel.items():
        if v is not None and tuple(_array_of(v, name).shape) != (xt.shape[1],):
            raise ValueError(
                f"`{name}` must have shape ({xt.shape[1]},) for the {xt.shape[1]} channels of "
                f"`x` {xt.shape}; got {tuple(data_of(v).shape)}"
            )
    axes = (0,) + tuple(range(2, xt.ndim))
    channel_shape = (1, xt.shape[1]) + (1,) * (xt.ndim - 2)
    if training:
        count = xt.size // xt.shape[1]
        if count < 2:
            raise ValueError(f"`x` must hold more than one value per channel; got {xt.shape}")
        mu = ad.mean(xt, axes, keepdims=True)
        centred = xt - mu
        var = ad.mean(centred * centred, axes, keepdims=True)
        if running_mean is not None:
            m = momentum
            running_mean[...] = (1 - m) * running_mean + m * ad.reshape(mu, (-1,)).data
        if running_var is not None:
            unbiased = ad.reshape(var, (-1,)).data * (count / (count - 1))
            running_var[...] = (1 - momentum) * running_var + momentum * unbiased
        y = centred / ad.sqrt(var + eps)
    else:
        if running_mean is None or running_var is None:
            raise ValueError("`running_mean` and `running_var` are needed when not training")
        y = (xt - ad.reshape(running_mean, channel_shape)) / ad.sqrt(
            ad.reshape(running_var, channel_shape) + eps
        )
    if weight is not None:
        y = y * ad.reshape(weight, channel_shape)
    if bias is not None:
        y = y + ad.reshape(bias, channel_shape)
    return y if traced else y.data
