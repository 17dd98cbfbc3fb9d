"""``minimize(fun, x0, method=...)``: SciPy's interface over first- and second-order methods.

First-order methods (``gd``, ``momentum``, ``adam``) never read the device inside the loop
except every ``check_every`` iterations (``options``), when the gradient norm is fetched.
The line-search methods (``lbfgs``, ``bfgs``, ``cg``, ``newton``) decide each step on host
numbers, and these are their only reads of the device: per iteration the slope ``g . d``
(the descent test and the first trial step need it before any evaluation), and per function
evaluation ``f``, ``g . d`` and ``max |g|`` in one copy (the strong-Wolfe tests and the
stopping rule). Their other state (L-BFGS pairs and small matrices, the BFGS inverse
Hessian, CG's beta) stays on the device.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any

import numpy as np

from .. import autodiff as ad
from .._backend import is_numpy_namespace, to_numpy
from .._validate import check_callable
from ..autodiff._core import namespace

__all__ = ["METHODS", "OptimizeResult", "minimize"]

METHODS = ("gd", "momentum", "adam", "newton", "lbfgs", "bfgs", "cg")


class OptimizeResult(dict):
    """SciPy's result: a dict with attribute access (``x, fun, jac, nit, nfev, success,
    message``)."""

    __getattr__ = dict.__getitem__
    __setattr__ = dict.__setitem__

    def __repr__(self) -> str:
        keys = ("success", "message", "fun", "nit", "nfev")
        return "OptimizeResult(" + ", ".join(f"{k}={self.get(k)!r}" for k in keys) + ")"


class _Problem:
    """``fun`` on flat vectors: value and gradient (autodiff by default), evaluation count."""

    def __init__(self, fun: Callable[..., Any], jac: Any, x0: Any, args: tuple[Any, ...]) -> None:
        self.shape = tuple(x0.shape)
        self.nfev = 0
        self.xp = namespace(x0)
        self.fun, self.args = fun, args
        shape = self.shape
        if jac is None:

            def flat_fun(z: Any) -> Any:
                return fun(ad.reshape(z, shape), *args)

            self._vg = ad.value_and_grad(flat_fun)
        elif jac is True:
            self._vg = lambda z: fun(self.xp.reshape(z, shape), *args)
        elif callable(jac):
            self._vg = lambda z: (
                fun(self.xp.reshape(z, shape), *args),
                jac(self.xp.reshape(z, shape), *args),
            )
        else:
            raise TypeError(f"`jac` must be None, True or a callable; got {jac!r}")

    def value_grad(self, z: Any) -> tuple[Any, Any]:
        """``f(z)`` (device scalar) and the flat gradient."""
        self.nfev += 1
        f, g = self._vg(z)
        return self.xp.asarray(f), self.xp.reshape(self.xp.asarray(g), (-1,))


def _host(xp: Any, *scalars: Any) -> list[float]:
    """Several device scalars in one device-to-host copy (NumPy's are read directly)."""
    if is_numpy_namespace(xp):
        return [float(s) for s in scalars]
    return [
        float(v) for v in to_numpy(xp.stack([xp.asarray(s, dtype=xp.float64) for s in scalars]))
    ]


def minimize(
    fun: Callable[..., Any],
    x0: Any,
    args: tuple[Any, ...] = (),
    *,
    method: str = "lbfgs",
    jac: Any = None,
    hess: Callable[..., Any] | None = None,
    tol: float | None = None,
    maxiter: int | None = None,
    callback: Callable[[OptimizeResult], Any] | None = None,
    options: dict[str, Any] | None = None,
) -> OptimizeResult:
    """Minimise a scalar function of one array, like ``scipy.optimize.minimize``.

    Parameters
    ----------
    fun : callable
        ``fun(x, *args)``; written with ``gpumath.autodiff`` ops (or Tensor operators) when
        ``jac`` is None, so its gradient comes from autodiff.
    x0 : array
        Starting point (float32 or float64, any shape, NumPy or CuPy); the result keeps it.
    method : {"gd", "momentum", "adam", "newton", "lbfgs", "bfgs", "cg"}
    jac : None, True or callable
        None: autodiff. True: ``fun`` returns ``(f, g)``. Callable: ``jac(x, *args)``.
    hess : callable, optional
        ``hess(x, *args) -> (n, n)`` for Newton; default autodiff (forward-over-reverse).
    tol : float, optional
        Stop when ``max |grad| <= tol`` (default 1e-5, or ``options["gtol"]``).
    maxiter : int, optional
        Iteration limit (default 1000; 10000 for first-order methods).
    callback : callable, optional
        Called after each iteration with an ``OptimizeResult`` holding ``x`` and ``nit``
        (and ``fun`` for line-search methods); a true return value stops the run.
    options : dict, optional
        ``lr`` (first-order step, default 1e-2), ``momentum`` (0.9), ``check_every``
        (first-order convergence check period, default 10), ``memory`` (L-BFGS pairs,
        10), ``c1``/``c2`` (Wolfe constants), ``damping`` (Newton's initial
        Levenberg shift, 0), ``disp`` (print progress to stderr), ``gtol``.

    Returns
    -------
    OptimizeResult
        ``x`` (device array), ``fun`` and ``nit``/``nfev`` (host numbers), ``jac``,
        ``success``, ``message``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad, optim
    >>> rosen = lambda x: ad.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2)
    >>> res = optim.minimize(rosen, np.array([-1.2, 1.0]), method="lbfgs", tol=1e-8)
    >>> res.success, np.round(res.x, 6)
    (True, array([1., 1.]))
    """
    if method not in METHODS:
        raise ValueError(f"`method` must be one of {METHODS}; got {method!r}")
    check_callable(fun, "fun")
    if tol is not None:
        if isinstance(tol, bool) or not isinstance(tol, int | float | np.integer | np.floating):
            raise TypeError(f"`tol` must be None or a real number; got {tol!r}")
        if not tol >= 0:  # also rejects NaN
            raise ValueError(f"`tol` must be >= 0; got {tol!r}")
    if maxiter is not None and (
        isinstance(maxiter, bool) or not isinstance(maxiter, int | np.integer)
    ):
        raise TypeError(f"`maxiter` must be None or an int; got {maxiter!r}")
    if not hasattr(x0, "dtype") or np.dtype(x0.dtype).kind != "f":
        raise TypeError(
            f"`x0` must be a float32 or float64 array; got {type(x0).__name__} "
            f"{getattr(x0, 'dtype', '')}"
        )
    opts = dict(options or {})
    gtol = float(opts.pop("gtol", 1e-5 if tol is None else tol))
    first_order = method in ("gd", "momentum", "adam")
    maxiter = maxiter if maxiter is not None else (10000 if first_order else 1000)
    if maxiter < 0:
        raise ValueError(f"`maxiter` must be >= 0; got {maxiter!r}")
    problem = _Problem(fun, jac, x0, tuple(args))
    x = problem.xp.reshape(x0, (-1,))
    if first_order:
        from ._first_order import run_first_order

        return run_first_order(method, problem, x, gtol, maxiter, callback, opts)
    from ._second_order import run_line_search_method

    return run_line_search_method(method, problem, x, gtol, maxiter, callback, hess, opts)


def finish(
    problem: _Problem, x: Any, f: Any, g: Any, nit: int, success: bool, message: str
) -> OptimizeResult:
    """Build the result in ``x0``'s shape."""
    xp = problem.xp
    return OptimizeResult(
        x=xp.reshape(x, problem.shape),
        fun=float(to_numpy(f)),
        jac=xp.reshape(g, problem.shape),
        nit=nit,
        nfev=problem.nfev,
        success=success,
        message=message,
    )


def progress(disp: bool, nit: int, f: float, gnorm: float) -> None:
    """One progress line on stderr when ``options["disp"]`` is set."""
    if disp:
        print(f"minimize: iter {nit:6d}  f {f: .6e}  max|g| {gnorm:.3e}", file=sys.stderr)
