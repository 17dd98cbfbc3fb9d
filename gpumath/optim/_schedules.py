"""Learning-rate schedules: functions of the step count ``t = 0, 1, ...`` (optax's forms)."""

from __future__ import annotations

import math
from collections.abc import Callable

__all__ = ["constant", "cosine_decay", "exponential_decay", "warmup_cosine"]


def _positive_int(value: int, name: str) -> None:
    if not isinstance(value, int) or value <= 0:
        raise ValueError(f"`{name}` must be a positive int; got {value!r}")


def constant(value: float) -> Callable[[int], float]:
    """``lr(t) = value``.

    Examples
    --------
    >>> from gpumath import optim
    >>> optim.constant(0.1)(100)
    0.1
    """
    return lambda t: value


def exponential_decay(
    init_value: float, transition_steps: int, decay_rate: float, *, staircase: bool = False
) -> Callable[[int], float]:
    """``lr(t) = init_value * decay_rate ** (t / transition_steps)`` (floored if ``staircase``).

    Examples
    --------
    >>> from gpumath import optim
    >>> optim.exponential_decay(1.0, 10, 0.5)(20)
    0.25
    """
    _positive_int(transition_steps, "transition_steps")
    if decay_rate <= 0:
        raise ValueError(f"`decay_rate` must be > 0; got {decay_rate!r}")

    def schedule(t: int) -> float:
        p = t / transition_steps
        return init_value * decay_rate ** (math.floor(p) if staircase else p)

    return schedule


def cosine_decay(init_value: float, decay_steps: int, alpha: float = 0.0) -> Callable[[int], float]:
    """``lr(t) = init_value * ((1 - alpha) * c + alpha)``, ``c = (1 + cos(pi min(t, T) / T)) / 2``.

    Examples
    --------
    >>> from gpumath import optim
    >>> optim.cosine_decay(1.0, 100)(50)
    0.5
    """
    _positive_int(decay_steps, "decay_steps")

    def schedule(t: int) -> float:
        c = 0.5 * (1 + math.cos(math.pi * min(t, decay_steps) / decay_steps))
        return init_value * ((1 - alpha) * c + alpha)

    return schedule


def warmup_cosine(
    init_value: float,
    peak_value: float,
    warmup_steps: int,
    decay_steps: int,
    end_value: float = 0.0,
) -> Callable[[int], float]:
    """Linear warm-up from ``init_value`` to ``peak_value`` over ``warmup_steps``, then cosine
    decay to ``end_value`` at step ``decay_steps`` (optax's ``warmup_cosine_decay_schedule``).

    Examples
    --------
    >>> from gpumath import optim
    >>> s = optim.warmup_cosine(0.0, 1.0, 10, 110)
    >>> s(5), s(10), s(110)
    (0.5, 1.0, 0.0)
    """
    _positive_int(warmup_steps, "warmup_steps")
    if decay_steps <= warmup_steps:
        raise ValueError(
            f"`decay_steps` must be > `warmup_steps`; got {decay_steps!r} and {warmup_steps!r}"
        )
    span = decay_steps - warmup_steps

    def schedule(t: int) -> float:
        if t < warmup_steps:
            return init_value + (peak_value - init_value) * t / warmup_steps
        c = 0.5 * (1 + math.cos(math.pi * min(t - warmup_steps, span) / span))
        return end_value + (peak_value - end_value) * c

    return schedule
