"""Gradient transformations in optax's shape: ``init(params) -> state`` and
``update(updates, state, params) -> (updates, state)``, composed with :func:`chain`.

Parameters and updates are trees (arrays, or lists/tuples/dicts of them). The update
rules are the PyTorch/optax formulas, spelled out in each docstring. Step counts and
learning-rate schedules are Python numbers on the host, so no step reads the device.

Updates never write into the caller's arrays (optax semantics), but they do finish each
leaf in place in the arrays they have just created (``_fused``), and ``adam``,
``adamw``, ``adagrad`` and ``rmsprop`` fold the learning rate into that last pass. Their
state is the state of the equivalent ``chain(..., scale_by_learning_rate(lr))``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..autodiff._core import namespace
from ..autodiff._tree import flatten_alike, tree_flatten, tree_leaves, tree_map, tree_unflatten
from ._fused import adam_leaf, add_square, axpby, scaled_ratio

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


def _check_positive(value: Any, name: str, allow_zero: bool = False) -> None:
    if callable(value):
        return
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise TypeError(f"`{name}` must be a number or a schedule; got {value!r}")
    if math.isnan(value) or value < 0 or (value == 0 and not allow_zero):
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

    for i, t in enumerate(transforms):
        if not (callable(getattr(t, "init", None)) and callable(getattr(t, "update", None))):
            raise TypeError(
                f"`transforms[{i}]` must be a GradientTransformation (init, update); got "
                f"{type(t).__name__}"
            )

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
    if isinstance(step_size, bool) or not isinstance(
        step_size, int | float | np.integer | np.floating
    ):
        raise TypeError(f"`step_size` must be a real number; got {step_size!r}")
    if not math.isfinite(step_size):
        raise ValueError(f"`step_size` must be finite; got {step_size!r}")

    def update(updates: Any, state: EmptyState, params: Any = None) -> tuple[Any, Any]:
        return tree_map(lambda u: u * step_size, updates), state

    return GradientTransformation(lambda params: EmptyState(), update)


def scale_by_learning_rate(learning_rate: ScalarOrSchedule) -> GradientTransformation:
    """``u <- -lr(t) * u`` with ``lr`` a number or a schedule of the step ``t = 0, 1, ...``."""
    _check_positive(learning_rate, "learning_rate", allow_zero=True)

    def update(updates: Any, state: CountState, params: Any = None) -> tuple[Any, Any]:
        step = -_lr_at(learning_rate, state.count)
        return tree_map(lambda u: u * step, updates), CountState(state.count + 1)

    return GradientTransformation(lambda params: CountState(0), update)


def _lr_at(learning_rate: ScalarOrSchedule, count: int) -> float:
    """The learning rate of step ``count`` as a Python float: a NumPy float64 scalar
    would promote float32 updates to float64."""
    return float(learning_rate(count) if callable(learning_rate) else learning_rate)


def _map_leaves(fn: Callable[..., tuple[Any, ...]], n_out: int, *trees: Any) -> list[Any]:
    """Apply ``fn`` leaf by leaf (all of one leaf's work before the next leaf, so the
    temporaries of one leaf are freed before the next one allocates); ``fn`` returns
    ``n_out`` arrays, regrouped here into ``n_out`` trees shaped like ``trees[0]``."""
    # e.g. updates for other parameters than the state was built for
    what = "`updates` must have the structure of the optimizer state"
    leaves, spec, others = flatten_alike(*trees, what=what)
    for t_leaves in others:
        for u, s in zip(leaves, t_leaves, strict=True):
            if tuple(u.shape) != tuple(s.shape):  # the fused kernels must not broadcast
                raise ValueError(
                    f"each update must have the shape of its optimizer state; got {tuple(u.shape)}"
                    f" for a state of shape {tuple(s.shape)}"
                )
    results = [fn(*xs) for xs in zip(leaves, *others, strict=True)]
    return [tree_unflatten(spec, [r[i] for r in results]) for i in range(n_out)]


def trace(decay: float, nesterov: bool = False) -> GradientTransformation:
    """Momentum (PyTorch's SGD buffer): ``b <- decay * b + u``; ``u <- b``.

    With ``nesterov``: ``u <- u + decay * b``.
    """
    _check_positive(decay, "momentum", allow_zero=True)

    def update(updates: Any, state: TraceState, params: Any = None) -> tuple[Any, Any]:
        buf = tree_map(lambda b, u: axpby(b, decay, u, 1.0), state.trace, updates)
        out = tree_map(lambda u, b: axpby(b, decay, u, 1.0), updates, buf) if nesterov else buf
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


def _check_betas(b1: float, b2: float, eps: float) -> None:
    for value, name in ((b1, "b1"), (b2, "b2")):
        if not 0.0 <= value < 1.0:
            raise ValueError(f"`{name}` must be in [0, 1); got {value!r}")
    _check_positive(eps, "eps", allow_zero=True)


def _adam_step(
    b1: float, b2: float, eps: float, updates: Any, state: AdamState, scale: float
) -> tuple[Any, AdamState]:
    """One Adam step over a tree: directions times ``scale``, and the new state."""
    t = state.count + 1
    # m_hat / (sqrt(v_hat) + eps) = k m / (sqrt(v) + eps'), k = sqrt(1-b2^t) / (1-b1^t),
    # eps' = eps sqrt(1-b2^t): the bias corrections become host scalars, folded with
    # ``scale`` (the learning rate, for adam) into the last pass.
    root = math.sqrt(1 - b2**t)
    k, eps_t = root / (1 - b1**t), eps * root
    mu, nu, out = _map_leaves(
        lambda g, m, v: adam_leaf(g, m, v, b1, b2, eps_t, k * scale),
        3,
        updates,
        state.mu,
        state.nu,
    )
    return out, AdamState(t, mu, nu)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's direction: ``m <- b1 m + (1-b1) g``, ``v <- b2 v + (1-b2) g^2``,
    ``u <- m_hat / (sqrt(v_hat) + eps)`` with bias-corrected ``m_hat, v_hat``."""
    _check_betas(b1, b2, eps)
    b1, b2, eps = float(b1), float(b2), float(eps)

    def init(params: Any) -> AdamState:
        return AdamState(0, _zeros_like(params), _zeros_like(params))

    def update(updates: Any, state: AdamState, params: Any = None) -> tuple[Any, Any]:
        return _adam_step(b1, b2, eps, updates, state, 1.0)

    return GradientTransformation(init, update)


def adam(
    learning_rate: ScalarOrSchedule, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8
) -> GradientTransformation:
    """Adam (Kingma & Ba): ``p <- p - lr * m_hat / (sqrt(v_hat) + eps)``.

    The same rule and state as ``chain(scale_by_adam(b1, b2, eps),
    scale_by_learning_rate(learning_rate))``, with the learning rate folded into Adam's
    last pass (one CuPy kernel per parameter on the GPU).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> opt = optim.adam(0.1)
    >>> updates, _ = opt.update([np.array([3.0])], opt.init([np.zeros(1)]))
    >>> updates  # the first step is -lr * sign(g)
    [array([-0.1])]
    """
    return _adam_with_lr(learning_rate, b1, b2, eps, None)


def _with_lr(
    init: Callable[[Any], Any],
    step: Callable[[Any, Any, Any, float], tuple[Any, Any]],
    learning_rate: ScalarOrSchedule,
    middle: tuple[Any, ...] = (),
) -> GradientTransformation:
    """``chain(core, *stateless, scale_by_learning_rate(lr))`` with ``-lr`` handed to the
    core's ``step(updates, state, params, scale)`` so it lands in the core's last pass.
    ``middle`` holds the states of stateless transformations in between."""
    _check_positive(learning_rate, "learning_rate", allow_zero=True)

    def init_all(params: Any) -> tuple[Any, ...]:
        return (init(params), *middle, CountState(0))

    def update(updates: Any, state: tuple[Any, ...], params: Any = None) -> tuple[Any, Any]:
        count = state[-1].count
        out, core = step(updates, state[0], params, -_lr_at(learning_rate, count))
        return out, (core, *middle, CountState(count + 1))

    return GradientTransformation(init_all, update)


def _adam_with_lr(
    learning_rate: ScalarOrSchedule, b1: float, b2: float, eps: float, weight_decay: float | None
) -> GradientTransformation:
    """Adam (``weight_decay`` None) or AdamW with the learning rate folded in."""
    _check_betas(b1, b2, eps)
    b1, b2, eps = float(b1), float(b2), float(eps)

    def init(params: Any) -> AdamState:
        return AdamState(0, _zeros_like(params), _zeros_like(params))

    def step(updates: Any, state: AdamState, params: Any, scale: float) -> tuple[Any, Any]:
        if weight_decay is None:
            return _adam_step(b1, b2, eps, updates, state, scale)
        if params is None:
            raise ValueError("`params` must be given to adamw's update; got None")
        out, state = _adam_step(b1, b2, eps, updates, state, 1.0)
        return tree_map(lambda u, p: _decay_and_scale(u, p, wd, scale), out, params), state

    if weight_decay is None:
        return _with_lr(init, step, learning_rate)
    _check_positive(weight_decay, "weight_decay", allow_zero=True)
    wd = float(weight_decay)
    return _with_lr(init, step, learning_rate, (EmptyState(),))


def _decay_and_scale(u: Any, p: Any, weight_decay: float, scale: float) -> Any:
    """``scale * (u + weight_decay * p)``, finishing ``u`` (a fresh array) in place."""
    u += p * weight_decay
    u *= scale
    return u


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """``u <- u + weight_decay * p`` (decoupled weight decay; needs ``params``)."""
    _check_positive(weight_decay, "weight_decay", allow_zero=True)

    def update(updates: Any, state: EmptyState, params: Any = None) -> tuple[Any, Any]:
        if params is None:
            raise ValueError("`params` must be given to add_decayed_weights' update; got None")
        return tree_map(lambda u, p: axpby(p, weight_decay, u, 1.0), updates, params), state

    return GradientTransformation(lambda params: EmptyState(), update)


def adamw(
    learning_rate: ScalarOrSchedule,
    b1: float = 0.9,
    b2: float = 0.999,
    eps: float = 1e-8,
    weight_decay: float = 1e-4,
) -> GradientTransformation:
    """AdamW: ``p <- p - lr * (m_hat / (sqrt(v_hat) + eps) + weight_decay * p)``.

    The rule and state of ``chain(scale_by_adam(b1, b2, eps),
    add_decayed_weights(weight_decay), scale_by_learning_rate(learning_rate))``.
    """
    return _adam_with_lr(learning_rate, b1, b2, eps, weight_decay)


def adagrad(
    learning_rate: ScalarOrSchedule, initial_accumulator_value: float = 0.0, eps: float = 1e-10
) -> GradientTransformation:
    """Adagrad, PyTorch's rule: ``s <- s + g^2``; ``p <- p - lr * g / (sqrt(s) + eps)``.

    State as ``chain(<the sum of squares>, scale_by_learning_rate(learning_rate))``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> opt = optim.adagrad(0.1)
    >>> opt.update([np.array([2.0])], opt.init([np.zeros(1)]))[0]
    [array([-0.1])]
    """
    _check_positive(initial_accumulator_value, "initial_accumulator_value", allow_zero=True)
    eps = float(eps)

    def init(params: Any) -> SumState:
        return SumState(
            tree_map(lambda p: namespace(p).zeros_like(p) + initial_accumulator_value, params)
        )

    def step(updates: Any, state: SumState, params: Any, scale: float) -> tuple[Any, Any]:
        def leaf(g: Any, a: Any) -> tuple[Any, Any]:
            s = add_square(a, 1.0, g, 1.0)
            return s, scaled_ratio(g, s, eps, scale)

        s, out = _map_leaves(leaf, 2, updates, state.sum_of_squares)
        return out, SumState(s)

    return _with_lr(init, step, learning_rate)


def rmsprop(
    learning_rate: ScalarOrSchedule, decay: float = 0.99, eps: float = 1e-8, momentum: float = 0.0
) -> GradientTransformation:
    """RMSprop, PyTorch's rule: ``v <- decay v + (1-decay) g^2``; ``u = g / (sqrt(v) + eps)``;
    with momentum ``b <- momentum b + u`` and ``u <- b``; ``p <- p - lr * u``.

    State as ``chain(<v and the momentum buffer>, scale_by_learning_rate(learning_rate))``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import optim
    >>> opt = optim.rmsprop(0.1, decay=0.75)
    >>> opt.update([np.array([2.0])], opt.init([np.zeros(1)]))[0]
    [array([-0.2])]
    """
    if not 0.0 <= decay < 1.0:
        raise ValueError(f"`decay` must be in [0, 1); got {decay!r}")
    decay, eps, momentum = float(decay), float(eps), float(momentum)

    def init(params: Any) -> RmsState:
        return RmsState(_zeros_like(params), _zeros_like(params) if momentum else None)

    def step(updates: Any, state: RmsState, params: Any, scale: float) -> tuple[Any, Any]:
        if not momentum:

            def leaf(g: Any, v: Any) -> tuple[Any, Any]:
                nu = add_square(v, decay, g, 1.0 - decay)
                return nu, scaled_ratio(g, nu, eps, scale)

            nu, out = _map_leaves(leaf, 2, updates, state.nu)
            return out, RmsState(nu, None)

        def leaf_momentum(g: Any, v: Any, b: Any) -> tuple[Any, Any, Any]:
            nu = add_square(v, decay, g, 1.0 - decay)
            buf = axpby(b, momentum, scaled_ratio(g, nu, eps, 1.0), 1.0)
            return nu, buf, buf * scale

        nu, buf, out = _map_leaves(leaf_momentum, 3, updates, state.nu, state.trace)
        return out, RmsState(nu, buf)

    return _with_lr(init, step, learning_rate)


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
    leaves, spec, (steps,) = flatten_alike(
        params, updates, what="`updates` must have the structure of `params`"
    )
    return tree_unflatten(spec, [_add_update(p, u) for p, u in zip(leaves, steps, strict=True)])


def _add_update(p: Any, u: Any) -> Any:
    """``p + u`` in ``p``'s dtype; an update must not broadcast a parameter to a new shape."""
    if tuple(u.shape) != tuple(p.shape):
        raise ValueError(
            f"each update must have its parameter's shape; got an update of shape "
            f"{tuple(u.shape)} for a parameter of shape {tuple(p.shape)}"
        )
    return p + namespace(p).astype(u, p.dtype, copy=False)


def global_norm(tree: Any) -> Any:
    """``sqrt(sum of squares)`` over every leaf, as a device scalar (no host sync)."""
    leaves = tree_leaves(tree)
    if not leaves:
        raise ValueError(f"`tree` must hold at least one array; got {tree!r}")
    xp = namespace(leaves[0])
    return xp.sqrt(sum(xp.sum(leaf * leaf) for leaf in leaves))
