"""Strong-Wolfe line search (Nocedal & Wright, Algorithms 3.5 and 3.6, cubic zoom).

The search decides on host numbers: each trial step fetches ``phi(a)`` and ``phi'(a)`` in
one small device-to-host copy. That is the one host synchronisation per function
evaluation that a line search cannot avoid.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

__all__ = ["LineSearchResult", "strong_wolfe"]

# evaluate(a) -> (phi(a), phi'(a), payload): the payload (new point, gradient...) is
# handed back untouched for the accepted step.
Evaluate = Callable[[float], tuple[float, float, Any]]


class LineSearchResult(NamedTuple):
    """Accepted step, its function value and payload, evaluations used, and success."""

    alpha: float
    phi: float
    payload: Any
    evaluations: int
    success: bool


def _cubic_min(a: float, fa: float, da: float, b: float, fb: float, db: float) -> float | None:
    """Minimiser of the cubic through (a, fa, da) and (b, fb, db), or None if it has none."""
    if a == b:
        return None
    d1 = da + db - 3.0 * (fa - fb) / (a - b)
    disc = d1 * d1 - da * db
    if not math.isfinite(disc) or disc < 0:
        return None
    d2 = math.copysign(math.sqrt(disc), b - a)
    denom = db - da + 2.0 * d2
    if denom == 0 or not math.isfinite(denom):
        return None
    return b - (b - a) * (db + d2 - d1) / denom


def strong_wolfe(
    evaluate: Evaluate,
    phi0: float,
    dphi0: float,
    alpha0: float = 1.0,
    *,
    c1: float = 1e-4,
    c2: float = 0.9,
    max_evaluations: int = 30,
    alpha_max: float = 1e10,
) -> LineSearchResult:
    """A step ``a`` with ``phi(a) <= phi0 + c1 a phi'(0)`` and ``|phi'(a)| <= c2 |phi'(0)|``.

    Parameters
    ----------
    evaluate : callable
        ``a -> (phi(a), phi'(a), payload)`` with host floats.
    phi0, dphi0 : float
        Value and slope at 0 (``dphi0 < 0``: a descent direction).

    Examples
    --------
    >>> from gpumath.optim._linesearch import strong_wolfe
    >>> res = strong_wolfe(lambda a: ((a - 2) ** 2, 2 * (a - 2), None), 4.0, -4.0, c2=0.1)
    >>> res.success, round(res.alpha, 6)
    (True, 2.0)
    """
    count = 0
    a_prev, f_prev, d_prev, p_prev = 0.0, phi0, dphi0, None
    a = alpha0
    while count < max_evaluations:
        f, d, payload = evaluate(a)
        count += 1
        if not math.isfinite(f):  # stepped out of the domain: shrink towards the last point
            a = a_prev + 0.1 * (a - a_prev)
            continue
        if f > phi0 + c1 * a * dphi0 or (count > 1 and f >= f_prev):
            return _zoom(
                evaluate,
                phi0,
                dphi0,
                c1,
                c2,
                count,
                max_evaluations,
                (a_prev, f_prev, d_prev, p_prev),
                (a, f, d, payload),
            )
        if abs(d) <= -c2 * dphi0:
            return LineSearchResult(a, f, payload, count, True)
        if d >= 0:
            return _zoom(
                evaluate,
                phi0,
                dphi0,
                c1,
                c2,
                count,
                max_evaluations,
                (a, f, d, payload),
                (a_prev, f_prev, d_prev, p_prev),
            )
        guess = _cubic_min(a_prev, f_prev, d_prev, a, f, d)
        lo, hi = a + 1.1 * (a - a_prev), a + 10.0 * (a - a_prev)
        nxt = guess if guess is not None and lo <= guess <= hi else 2.0 * a
        a_prev, f_prev, d_prev, p_prev = a, f, d, payload
        a = min(nxt, alpha_max)
    return LineSearchResult(a_prev, f_prev, p_prev, count, False)


def _zoom(
    evaluate: Evaluate,
    phi0: float,
    dphi0: float,
    c1: float,
    c2: float,
    count: int,
    max_evaluations: int,
    lo: tuple[float, float, float, Any],
    hi: tuple[float, float, float, Any],
) -> LineSearchResult:
    """Shrink the bracket [lo, hi] (lo: the best point satisfying sufficient decrease)."""
    while count < max_evaluations:
        a_lo, f_lo, d_lo, _ = lo
        a_hi, f_hi, d_hi, _ = hi
        left, right = min(a_lo, a_hi), max(a_lo, a_hi)
        width = right - left
        a = _cubic_min(a_lo, f_lo, d_lo, a_hi, f_hi, d_hi)
        # Keep the trial well inside the bracket, else bisect.
        if a is None or not (left + 0.1 * width <= a <= right - 0.1 * width):
            a = 0.5 * (a_lo + a_hi)
        f, d, payload = evaluate(a)
        count += 1
        if not math.isfinite(f) or f > phi0 + c1 * a * dphi0 or f >= f_lo:
            hi = (a, f, d, payload)
            continue
        if abs(d) <= -c2 * dphi0:
            return LineSearchResult(a, f, payload, count, True)
        if d * (a_hi - a_lo) >= 0:
            hi = lo
        lo = (a, f, d, payload)
        if width < 1e-16 * max(1.0, right):
            break
    a_lo, f_lo, _, p_lo = lo
    # Out of evaluations: the best point so far still decreases f (if it moved at all).
    return LineSearchResult(a_lo, f_lo, p_lo, count, False)
