"""First-order ``minimize`` methods: gd, momentum, adam (optimizers from ``_transform``)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import _transform as T
from ._minimize import OptimizeResult, _host, _Problem, finish, progress

__all__ = ["run_first_order"]


def run_first_order(
    method: str,
    problem: _Problem,
    x: Any,
    gtol: float,
    maxiter: int,
    callback: Callable[[OptimizeResult], Any] | None,
    opts: dict[str, Any],
) -> OptimizeResult:
    """Fixed-step iterations; the gradient norm is read every ``check_every`` steps only."""
    lr = float(opts.pop("lr", 1e-2))
    check_every = int(opts.pop("check_every", 10))
    disp = bool(opts.pop("disp", False))
    momentum = float(opts.pop("momentum", 0.9))
    if opts:
        raise ValueError(f"`options` has unknown keys for method={method!r}: {sorted(opts)}")
    if check_every <= 0:
        raise ValueError(f"`check_every` must be a positive int; got {check_every!r}")
    if method == "gd":
        opt = T.sgd(lr)
    elif method == "momentum":
        opt = T.sgd(lr, momentum=momentum)
    else:
        opt = T.adam(lr)
    xp = problem.xp
    state = opt.init(x)
    f, g = problem.value_grad(x)
    nit = 0
    while True:
        if nit % check_every == 0 or nit == maxiter:
            fh, gnorm = _host(xp, f, xp.max(xp.abs(g)))
            progress(disp, nit, fh, gnorm)
            if gnorm <= gtol:
                return finish(problem, x, f, g, nit, True, "gradient norm below tol")
            if nit >= maxiter:
                return finish(problem, x, f, g, nit, False, "maximum number of iterations")
        updates, state = opt.update(g, state, x)
        x = T.apply_updates(x, updates)
        f, g = problem.value_grad(x)
        nit += 1
        if callback is not None and callback(OptimizeResult(x=x, nit=nit)):
            return finish(problem, x, f, g, nit, False, "stopped by callback")
