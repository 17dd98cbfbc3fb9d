"""Line-search ``minimize`` methods: L-BFGS, BFGS, nonlinear CG and damped Newton."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

from array_api_compat import device as _device

from .. import autodiff as ad
from ._lbfgs import LBFGS, quasi_newton_first_step
from ._linesearch import strong_wolfe
from ._minimize import OptimizeResult, _host, _Problem, finish, progress

__all__ = ["run_line_search_method"]


def run_line_search_method(
    method: str,
    problem: _Problem,
    x: Any,
    gtol: float,
    maxiter: int,
    callback: Callable[[OptimizeResult], Any] | None,
    hess: Callable[..., Any] | None,
    opts: dict[str, Any],
) -> OptimizeResult:
    """Iterate ``x <- x + a d`` with a strong-Wolfe step ``a`` along the method's ``d``."""
    disp = bool(opts.pop("disp", False))
    c1 = float(opts.pop("c1", 1e-4))
    c2 = float(opts.pop("c2", 0.1 if method == "cg" else 0.9))
    direction = _DIRECTIONS[method](problem, hess, opts)
    if opts:
        raise ValueError(f"`options` has unknown keys for method={method!r}: {sorted(opts)}")
    xp = problem.xp
    eps = float(xp.finfo(x.dtype).eps)  # the rounding of f limits how far it can decrease
    f, g = problem.value_grad(x)
    fh, gnorm = _host(xp, f, xp.max(xp.abs(g)))
    nit = 0
    prev_slope = None
    alpha_prev = None
    while True:
        progress(disp, nit, fh, gnorm)
        if not math.isfinite(fh):
            return finish(problem, x, f, g, nit, False, "function value is not finite")
        if gnorm <= gtol:
            return finish(problem, x, f, g, nit, True, "gradient norm below tol")
        if nit >= maxiter:
            return finish(problem, x, f, g, nit, False, "maximum number of iterations")
        d = direction.next(x, g)
        (slope,) = _host(xp, g @ d)
        if not slope < 0:  # not a descent direction: fall back to steepest descent
            direction.reset()
            d = -g
            (slope,) = _host(xp, -(g @ g))
        alpha0 = direction.first_step(nit, slope, prev_slope, alpha_prev, gnorm, xp, g)
        # A step whose promised decrease is below the rounding of f cannot lower f: x is a
        # minimiser to machine precision even when `tol` asks more of the gradient than the
        # function's rounding allows (SciPy calls this "precision loss").
        if abs(slope) * alpha0 <= 16 * eps * abs(fh):
            message = "converged: no decrease possible at machine precision"
            return finish(problem, x, f, g, nit, True, message)

        def evaluate(a: float, x: Any = x, d: Any = d) -> tuple[float, float, Any]:
            x_new = x + d * a
            f_new, g_new = problem.value_grad(x_new)
            fv, dv, gn = _host(xp, f_new, g_new @ d, xp.max(xp.abs(g_new)))
            return fv, dv, (x_new, f_new, g_new, gn)

        search = strong_wolfe(evaluate, fh, slope, alpha0, c1=c1, c2=c2)
        if search.payload is None:
            return finish(problem, x, f, g, nit, False, "line search found no decrease")
        x_new, f, g_new, gnorm = search.payload
        direction.observe(x_new - x, g_new - g, g_new, g)
        x, g, fh = x_new, g_new, search.phi
        prev_slope, alpha_prev = slope, search.alpha
        nit += 1
        if callback is not None and callback(OptimizeResult(x=x, fun=fh, nit=nit)):
            return finish(problem, x, f, g, nit, False, "stopped by callback")
        if not search.success and gnorm > gtol:
            return finish(problem, x, f, g, nit, False, "line search failed (strong Wolfe)")


class _BFGS:
    """Dense inverse-Hessian update (N&W 6.17), kept on the device."""

    def __init__(self, problem: _Problem, hess: Any, opts: dict[str, Any]) -> None:
        opts.pop("memory", None)  # accepted, as by lbfgs; the dense update has no memory
        self.xp = problem.xp
        self.H: Any = None
        self.n = math.prod(problem.shape)

    def reset(self) -> None:
        self.H = None

    def next(self, x: Any, g: Any) -> Any:
        return -g if self.H is None else -(self.H @ g)

    def observe(self, s: Any, y: Any, g_new: Any, g: Any) -> None:
        xp = self.xp
        sy = s @ y
        rho = _safe_inverse(sy, xp)
        if self.H is None:  # N&W (6.20): first scale H0 by s.y / y.y
            eye = xp.eye(self.n, dtype=s.dtype, device=_device(s))
            self.H = eye * (sy * _safe_inverse(y @ y, xp))
        Hy = self.H @ y
        # H+ = H - rho (s Hy' + Hy s') + (rho^2 y'Hy + rho) s s'
        coeff = rho * rho * (y @ Hy) + rho
        self.H = (
            self.H
            - rho * (xp.linalg.outer(s, Hy) + xp.linalg.outer(Hy, s))
            + coeff * xp.linalg.outer(s, s)
        )

    def first_step(self, nit: int, slope: float, *_: Any) -> float:
        return quasi_newton_first_step(self.H is None, slope)


class _CG:
    """Nonlinear conjugate gradients, Polak-Ribiere+ (restart when beta < 0)."""

    def __init__(self, problem: _Problem, hess: Any, opts: dict[str, Any]) -> None:
        self.xp = problem.xp
        self.d: Any = None
        self.beta: Any = None

    def reset(self) -> None:
        self.d = None

    def next(self, x: Any, g: Any) -> Any:
        self.d = -g if self.d is None else -g + self.d * self.beta
        return self.d

    def observe(self, s: Any, y: Any, g_new: Any, g: Any) -> None:
        xp = self.xp
        beta = (g_new @ y) * _safe_inverse(g @ g, xp)
        self.beta = xp.maximum(beta, xp.zeros_like(beta))

    def first_step(
        self, nit: int, slope: float, prev_slope: float | None, alpha_prev: float | None, *_: Any
    ) -> float:
        if prev_slope is None or alpha_prev is None:
            return min(1.0, 1.0 / math.sqrt(-slope))
        return min(1.0, 1.01 * alpha_prev * prev_slope / slope)  # N&W (3.60)


class _Newton:
    """``(H + lam I) p = -g`` by a solve; ``lam`` grows until ``p`` is a descent direction."""

    def __init__(self, problem: _Problem, hess: Any, opts: dict[str, Any]) -> None:
        self.xp = problem.xp
        self.damping = float(opts.pop("damping", 0.0))
        if self.damping < 0:
            raise ValueError(f"`damping` must be >= 0; got {self.damping!r}")
        shape = problem.shape
        args = problem.args
        if hess is None:
            fun = problem.fun

            self.hess = ad.hessian(lambda z: fun(ad.reshape(z, shape), *args))
        else:
            self.hess = lambda z: hess(self.xp.reshape(z, shape), *args)

    def reset(self) -> None:
        """Newton keeps no history."""

    def next(self, x: Any, g: Any) -> Any:
        xp = self.xp
        n = g.shape[0]
        H = xp.reshape(xp.asarray(self.hess(x)), (n, n))
        eye = xp.eye(n, dtype=H.dtype, device=_device(H))
        scale = max(_host(xp, xp.max(xp.abs(H)))[0], 1e-12)
        lam = self.damping
        for _ in range(30):
            p = xp.linalg.solve(H + eye * lam, -g) if lam else _solve(xp, H, g)
            slope, finite = _host(xp, g @ p, xp.all(xp.isfinite(p)))
            # Descent with a Hessian that is not too indefinite: accept; else add damping.
            if finite and slope < 0:
                return p
            lam = max(2.0 * lam, 1e-6 * scale)
        return -g

    def observe(self, *_: Any) -> None:
        """Newton keeps no history."""

    def first_step(self, *_: Any) -> float:
        return 1.0


def _safe_inverse(v: Any, xp: Any) -> Any:
    """``1 / v`` where ``v > 0``, else 0, in ``v``'s dtype, on the device (no host read)."""
    ok = v > 0
    one = xp.ones_like(v)
    return xp.where(ok, one / xp.where(ok, v, one), xp.zeros_like(v))


def _solve(xp: Any, H: Any, g: Any) -> Any:
    """``H^-1 (-g)``; a singular ``H`` gives NaN (which triggers damping) instead of raising."""
    try:
        return xp.linalg.solve(H, -g)
    except Exception:  # NumPy raises LinAlgError on an exactly singular matrix
        return g * float("nan")


_DIRECTIONS = {"lbfgs": LBFGS, "bfgs": _BFGS, "cg": _CG, "newton": _Newton}
