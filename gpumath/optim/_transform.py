"""Gradient transformations in optax's shape: ``init(params) -> state`` and
``update(updates, state, params) -> (updates, state)``, composed with :func:`chain`.

Parameters and updates are trees (arrays, or lists/tuples/dicts of them). The update
rules are the PyTorch/optax formulas, spelled out in each docstring. Step counts and
learning-rate schedules are Python numbers on the host, so no step reads the device.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from ..autodiff._core import namespace
from ..autodiff._tree import tree_leaves, tree_map

__all__ = [
    "GradientTransformation",
    "adagrad",
    "adam",
    "adamw",
    "add_decayed_weights",
    "apply_updates",
    "chain",
    "clip",
    "clip_by_global_norm",
    "rmsprop",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "sgd",
    "trace",
]

Schedule = Callable[[int], float]
ScalarOrSchedule = float | Schedule


class GradientTransformation(NamedTuple):
    """A pair of pure functions: ``init(params) -> state``, ``update(u, state, params)``."""

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]


class EmptyState(NamedTuple):
    """State of a stateless transformation."""


class CountState(NamedTuple):
    """Number of updates done (drives schedules and bias correction)."""

    count: int


class TraceState(NamedTuple):
    """Momentum buffers."""

    trace: Any


class AdamState(NamedTuple):
    """Adam's step count and first/second moment estimates."""

    count: int
    mu: Any
    nu: Any


class SumState(NamedTuple):
    """Adagrad's running sum of squared gradients."""

    sum_of_squares: Any


class RmsState(NamedTuple):
    """RMSprop's running mean of squared gradients and momentum buffer."""

    nu: Any
    trace: Any


def _zeros_like(tree: Any) -> Any:
    return tree_map(lambda p: namespace(p).zeros_like(p), tree)


def _sqrt(x: Any) -> Any:
    return namespace(x).sqrt(x)


def _check_positive(value: Any, name: str, allow_zero: bool = False) -> None:
    if callable(value):
        return
    if not isinstance(value, int | float) or math.isnan(value):
        raise TypeError(f"`{name}` must be a number or a schedule; got {value!r}")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"`{name}` must be {'>= 0' if allow_zero else '> 0'}; got {value!r}")


def chain(*transforms: GradientTransformation) -> GradientTransformation:
    """Apply ``transforms`` one after the other; the state is the tuple of their states.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> opt = optim.chain(optim.clip(1.0), optim.sgd(0.1))
    >>> state = opt.init([np.zeros(2)])
    >>> opt.update([np.array([5.0, -0.5])], state)[0]
    [array([-0.1 ,  0.05])]
    """

    def init(params: Any) -> tuple[Any, ...]:
        return tuple(t.init(params) for t in transforms)

    def update(updates: Any, state: tuple[Any, ...], params: Any = None) -> tuple[Any, Any]:
        new_states = []
        for t, s in zip(transforms, state, strict=True):
            updates, s = t.update(updates, s, params)
            new_states.append(s)
        return updates, tuple(new_states)

    return GradientTransformation(init, update)


def scale(step_size: float) -> GradientTransformation:
    """``u <- step_size * u``."""

    def update(updates: Any, state: EmptyState, params: Any = None) -> tuple[Any, Any]:
        return tree_map(lambda u: u * step_size, updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale_by_learning_rate(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """``u <- -lr(t) * u`` with ``lr`` a number or a schedule of the step ``t = 0, 1, ...``."""
    _check_positive(learning_rate, "learning_rate", allow_zero=True)

    def update(updates: Any, state: CountState, params: Any = None) -> tuple[Any, Any]:
        lr = learning_rate(state.count) if callable(learning_rate) else learning_rate
        return tree_map(lambda u: u * (-lr), updates), CountState(state.count + 1)

    return GradientTransformation(lambda params: CountState(0), update)


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum (PyTorch's SGD buffer): ``b <- decay * b + u``; ``u <- b``.

    With ``nesterov``: ``u <- u + decay * b``.
    """
    _check_positive(decay, "momentum", allow_zero=True)

    def update(updates: Any, state: TraceState, params: Any = None) -> tuple[Any, Any]:
        buf = tree_map(lambda b, u: b * decay + u, state.trace, updates)
        out = tree_map(lambda u, b: u + b * decay, updates, buf) if nesterov else buf
        return out, TraceState(buf)

    return GradientTransformation(lambda params: TraceState(_zeros_like(params)), update)


def sgd(
    learning_rate: ScalarOrSchedule, momentum: float = 0.0, nesterov: bool = False
) -> GradientTransformation:
    """Stochastic gradient descent, PyTorch's rule: ``p <- p - lr * (momentum buffer)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> opt = optim.sgd(0.1, momentum=0.9)
    >>> params = [np.ones(2)]
    >>> updates, state = opt.update([np.ones(2)], opt.init(params), params)
    >>> optim.apply_updates(params, updates)
    [array([0.9, 0.9])]
    """
    if nesterov and momentum <= 0:
        raise ValueError(f"`nesterov` needs `momentum` > 0; got momentum={momentum!r}")
    if momentum == 0:
        return scale_by_learning_rate(learning_rate)
    return chain(trace(momentum, nesterov), scale_by_learning_rate(learning_rate))


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's direction: ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``u <- m_hat / (sqrt(v_hat) + eps)`` with bias-corrected ``m_hat, v_hat``."""
    for value, name in ((b1, "b1"), (b2, "b2")):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1); got {value!r}")
    _check_positive(eps, "eps", allow_zero=True)

    def init(params: Any) -> AdamState:
        return AdamState(0, _zeros_like(params), _zeros_like(params))

    def update(updates: Any, state: AdamState, params: Any = None) -> tuple[Any, Any]:
        mu = tree_map(lambda m, g: m * b1 + g * (1 - b1), state.mu, updates)
        nu = tree_map(lambda v, g: v * b2 + (g * g) * (1 - b2), state.nu, updates)
        t = state.count + 1
        # m_hat / (sqrt(v_hat) + eps) = k m / (sqrt(v) + eps'), k = sqrt(1-b2^t) / (1-b1^t),
        # eps' = eps sqrt(1-b2^t): the bias corrections become host scalars (4 passes, not 6).
        root = math.sqrt(1 - b2**t)
        k, eps_t = root / (1 - b1**t), eps * root
        out = tree_map(lambda m, v: (m / (_sqrt(v) + eps_t)) * k, mu, nu)
        return out, AdamState(t, mu, nu)

    return GradientTransformation(init, update)


def adam(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam (Kingma & Ba): ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> opt = optim.adam(0.1)
    >>> updates, _ = opt.update([np.array([3.0])], opt.init([np.zeros(1)]))
    >>> updates  # the first step is -lr * sign(g)
    [array([-0.1])]
    """
    return chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(learning_rate))


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """``u <- u + weight_decay * p`` (decoupled weight decay; needs ``params``)."""
    _check_positive(weight_decay, "weight_decay", allow_zero=True)

    def update(updates: Any, state: EmptyState, params: Any = None) -> tuple[Any, Any]:
        if params is None:
            raise ValueError("`params` must be given to add_decayed_weights' update; got None")
        return tree_map(lambda u, p: u + p * weight_decay, updates, params), state

    return GradientTransformation(lambda params: EmptyState(), update)


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-4,
) -> GradientTransformation:
    """AdamW: ``p <- p - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)``."""
    return chain(
        scale_by_adam(b1, b2, eps),
        add_decayed_weights(weight_decay),
        scale_by_learning_rate(learning_rate),
    )


def adagrad(
    learning_rate: ScalarOrSchedule, initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> GradientTransformation:
    """Adagrad, PyTorch's rule: ``s <- s + g^2``; ``p <- p - lr * g / (sqrt(s) + eps)``."""
    _check_positive(initial_accumulator_value, "initial_accumulator_value", allow_zero=True)

    def init(params: Any) -> SumState:
        return SumState(
            tree_map(lambda p: namespace(p).zeros_like(p) + initial_accumulator_value, params)
        )

    def update(updates: Any, state: SumState, params: Any = None) -> tuple[Any, Any]:
        s = tree_map(lambda a, g: a + g * g, state.sum_of_squares, updates)
        return tree_map(lambda g, a: g / (_sqrt(a) + eps), updates, s), SumState(s)

    return chain(GradientTransformation(init, update), scale_by_learning_rate(learning_rate))


def rmsprop(
    learning_rate: ScalarOrSchedule, decay: float = 0.99, eps: float = 1e-8, momentum: float = 0.0
) -> GradientTransformation:
    """RMSprop, PyTorch's rule: ``v <- decay v + (1-decay) g^2``; ``u = g / (sqrt(v) + eps)``;
    with momentum ``b <- momentum b + u`` and ``u <- b``; ``p <- p - lr * u``."""
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"`decay` must be in [0, 1); got {decay!r}")

    def init(params: Any) -> RmsState:
        return RmsState(_zeros_like(params), _zeros_like(params) if momentum else None)

    def update(updates: Any, state: RmsState, params: Any = None) -> tuple[Any, Any]:
        nu = tree_map(lambda v, g: v * decay + (g * g) * (1 - decay), state.nu, updates)
        out = tree_map(lambda g, v: g / (_sqrt(v) + eps), updates, nu)
        buf = None
        if momentum:
            buf = tree_map(lambda b, u: b * momentum + u, state.trace, out)
            out = buf
        return out, RmsState(nu, buf)

    return chain(GradientTransformation(init, update), scale_by_learning_rate(learning_rate))


def clip(max_delta: float) -> GradientTransformation:
    """Clip every update element to ``[-max_delta, max_delta]`` (``gpumath.clip``)."""
    _check_positive(max_delta, "max_delta")
    from ..ops.clip import clip as clip_array

    def update(updates: Any, state: EmptyState, params: Any = None) -> tuple[Any, Any]:
        return tree_map(lambda u: clip_array(u, -max_delta, max_delta), updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Scale all updates by ``min(1, max_norm / ||updates||_2)`` over the whole tree.

    Runs ``gpumath.ops.clip_norm.clip_by_global_norm`` (one fused kernel on the GPU).
    """
    _check_positive(max_norm, "max_norm")

    def update(updates: Any, state: EmptyState, params: Any = None) -> tuple[Any, Any]:
        from ..autodiff._tree import tree_flatten, tree_unflatten
        from ..ops.clip_norm import clip_by_global_norm as clip_arrays

        leaves, spec = tree_flatten(updates)
        clipped, _ = clip_arrays(leaves, max_norm)
        return tree_unflatten(spec, list(clipped)), state

    return GradientTransformation(lambda params: EmptyState(), update)


def apply_updates(params: Any, updates: Any) -> Any:
    """``params + updates``, leafwise, keeping each parameter's dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> optim.apply_updates({"w": np.ones(2)}, {"w": np.full(2, -0.5)})
    {'w': array([0.5, 0.5])}
    """
    return tree_map(lambda p, u: p + namespace(p).astype(u, p.dtype, copy=False), params, updates)


def global_norm(tree: Any) -> Any:
    """``sqrt(sum of squares)`` over every leaf, as a device scalar (no host sync)."""
    leaves = tree_leaves(tree)
    xp = namespace(leaves[0])
    return xp.sqrt(sum(xp.sum(leaf * leaf) for leaf in leaves))
