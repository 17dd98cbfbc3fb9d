"""L-BFGS directions in the compact form of Byrd, Nocedal and Schnabel (1994).

With the last ``k`` pairs stacked as rows of ``S`` and ``Y`` (oldest first), ``R`` the upper
triangle of ``S Y^T``, ``D`` its diagonal and ``gamma = s.y / y.y`` of the newest pair,
the inverse-Hessian approximation of the two-loop recursion (Nocedal & Wright 7.4) is

    H g = gamma g + S^T p - gamma Y^T w,   w = R^-1 (S g),
    p = R^-T (D w + gamma (Y Y^T w - Y g))                          (N&W 7.24)

exactly, so the iterates are those of the two-loop recursion up to rounding. A direction
costs two products with the stacked ``(2k, n)`` history ``W = [S; Y]`` and a few
``k x k`` ones, instead of the two-loop's ``4 k`` vector operations: this is what makes an
iteration cheap in Python (one array operation each) and on the GPU (one launch each).
``R^-1`` is kept instead of ``R``: appending a pair appends a column to it, and dropping
the oldest pair drops its first row and column (the trailing block of the inverse of an
upper-triangular matrix is the inverse of its trailing block), so no solve is needed.
Everything stays on the device; nothing here reads a value back to the host.
"""

from __future__ import annotations

import math
from typing import Any

from array_api_compat import device as _device

from ._minimize import _Problem

__all__ = ["LBFGS", "quasi_newton_first_step"]


class LBFGS:
    """The last ``memory`` pairs ``(s, y)`` and the compact form's small matrices."""

    def __init__(self, problem: _Problem, hess: Any, opts: dict[str, Any]) -> None:
        self.memory = int(opts.pop("memory", 10))
        if self.memory <= 0:
            raise ValueError(f"`memory` must be a positive int; got {self.memory!r}")
        self.xp = problem.xp
        self.reset()

    def reset(self) -> None:
        self.k = 0  # pairs held
        self.W: Any = None  # (2k, n): S then Y
        self.Rinv: Any = None  # (k, k) upper triangular
        self.YY: Any = None  # (k, k)
        self.D: Any = None  # (k,) s_i . y_i
        self.gamma: Any = None

    def next(self, x: Any, g: Any) -> Any:
        k = self.k
        if k == 0:
            return -g
        uv = self.W @ g
        w = self.Rinv @ uv[:k]
        gamma = self.gamma
        p = (self.D * w + gamma * (self.YY @ w - uv[k:])) @ self.Rinv
        return -(gamma * g + self.xp.concat([p, -gamma * w]) @ self.W)

    def observe(self, s: Any, y: Any, g_new: Any, g: Any) -> None:
        xp = self.xp
        sy = s @ y
        yy = y @ y
        # Strong Wolfe gives s.y > 0; a pair without it (rounding on tiny steps) is stored
        # as zeros with D = 1, which makes it a no-op on the device (no host read).
        ok = xp.astype(sy > 0, s.dtype)
        s, y = s * ok, y * ok
        d = sy * ok + (1 - ok)
        self.gamma = sy / yy  # N&W (7.20): scale H0 by s.y / y.y of the newest pair
        k, drop = self.k, int(self.k == self.memory)
        keep = k - drop
        if keep == 0:
            self.W = xp.stack([s, y])
            self.Rinv = xp.reshape(1 / d, (1, 1))
            self.YY = xp.reshape(yy * ok, (1, 1))
            self.D = xp.reshape(d, (1,))
            self.k = 1
            return
        W = self.W
        cross = W @ y  # s_i . y then y_i . y (a dropped pair's entries are not read)
        Rk = self.Rinv[drop:, drop:]
        Rinv = xp.zeros((keep + 1, keep + 1), dtype=s.dtype, device=_device(s))
        Rinv[:keep, :keep] = Rk
        Rinv[:keep, keep] = (Rk @ cross[drop:k]) * (-1 / d)
        Rinv[keep, keep] = 1 / d
        YY = xp.zeros((keep + 1, keep + 1), dtype=s.dtype, device=_device(s))
        YY[:keep, :keep] = self.YY[drop:, drop:]
        YY[:keep, keep] = cross[k + drop :]
        YY[keep, :keep] = cross[k + drop :]
        YY[keep, keep] = yy * ok
        self.W = xp.concat([W[drop:k], s[None, :], W[k + drop :], y[None, :]])
        self.Rinv, self.YY = Rinv, YY
        self.D = xp.concat([self.D[drop:], d[None]])
        self.k = keep + 1

    def first_step(self, nit: int, slope: float, *_: Any) -> float:
        return quasi_newton_first_step(self.k == 0, slope)


def quasi_newton_first_step(fresh: bool, slope: float) -> float:
    """Trial step of a quasi-Newton method: 1, except along the first direction ``-g``
    (``fresh``), where it is ``1 / |g|`` at most, a step of length 1 (as L-BFGS-B does)."""
    if fresh:
        return min(1.0, 1.0 / math.sqrt(-slope)) if slope < 0 else 1.0
    return 1.0
