"""Logistic regression: one full-batch gradient against the two-read bound, and a fit.

Gradient row: our solvers' gradient evaluation (``_Objective.value_grad``: loss and
``X^T (s (sigmoid(X w + b) - y)) + penalty``) against the same gradient written out in plain
``xp``. Both read ``X`` twice, so the floor is ``2 X.nbytes`` at copy bandwidth (the copy
ceiling counts bytes read + written, i.e. bytes moved): ``rate`` is ``2 X.nbytes / time``
and "of ceiling" is the bound's time over ours (the issue asks >= 1 / 1.2 = 83%).

Fit row: ``LogisticRegression(solver="lbfgs")`` on the device against scikit-learn's lbfgs on
this machine's CPU, same data, same ``tol``; ``rel err`` compares the coefficients.
"""

from __future__ import annotations

from typing import Any

import numpy as np

import gpumath
from gpumath._backend import array_namespace
from gpumath.linear_model._logistic import LogisticRegression, _Objective

from .harness import Context, Row, max_rel_err, time_it, wall_time


def run(ctx: Context) -> list[Row]:
    """Gradient over 2^20 x 256 float32 on a GPU (2^16 on the CPU); one lbfgs fit each."""
    rows = [_gradient_row(ctx)]
    try:
        import sklearn  # noqa: F401  (a test dependency: the fit row needs it)
    except ImportError:
        return rows
    rows.append(_fit_row(ctx))
    return rows


def _problem(ctx: Context, n: int, d: int) -> tuple[Any, Any]:
    """Fresh Gaussian X and labels from a noisy linear model (never separable)."""
    X = ctx.random((n, d))
    w = ctx.random((d,)) / np.float32(np.sqrt(d))
    y = (X @ w + ctx.random((n,)) > 0).astype(np.float32)
    return X, y


def _gradient_row(ctx: Context) -> Row:
    xp = ctx.xp
    # GPU: 1 GiB of X, twenty times the L2, even with --quick (smaller would time launches).
    n, d = (2**20, 256) if ctx.on_gpu else ((2**15, 256) if ctx.quick else (2**17, 256))
    X, y = _problem(ctx, n, d)
    s = xp.full((n,), 1.0 / n, dtype=xp.float32)
    lam = 1.0 / n
    obj = _Objective(X, y, s, lam, 1, True, array_namespace(X))
    theta = ctx.random((d + 1,)) * np.float32(0.1)
    w, b = theta[:d], theta[d]

    def vendor() -> Any:  # the same value and gradient, written out in plain xp
        z = X @ w + b
        r = (1.0 / (1.0 + xp.exp(-z)) - y) / n
        loss = xp.mean(xp.logaddexp(0.0, z) - y * z) + 0.5 * lam * xp.sum(w * w)
        return loss, xp.concatenate([X.T @ r + lam * w, xp.sum(r)[None]])

    ours_s = time_it(ctx, lambda: obj.value_grad(theta))
    vendor_s = time_it(ctx, vendor)
    moved = 2 * X.nbytes
    bound_ms = moved / (ctx.ceilings.copy_GBps * 1e9) * 1e3
    return Row(
        op="logreg gradient",
        case=f"{n} x {d} float32, two-read bound {bound_ms:.3f} ms",
        ours_ms=ours_s * 1e3,
        vendor_ms=vendor_s * 1e3,
        vendor=f"plain {xp.__name__}",
        rate=moved / ours_s / 1e9,
        unit="GB/s",
        ceiling=ctx.ceilings.copy_GBps,
        max_rel_err=max_rel_err(obj.value_grad(theta)[1], vendor()[1]),
    )


def _fit_row(ctx: Context) -> Row:
    from sklearn.linear_model import LogisticRegression as SkLogistic

    if ctx.on_gpu:  # scikit-learn's CPU fit of the full problem takes ~a minute: --quick cuts
        n, d = (2**17, 256) if ctx.quick else (2**20, 256)
    else:
        n, d = (2**14, 64) if ctx.quick else (2**16, 128)
    X, y = _problem(ctx, n, d)
    X_host, y_host = gpumath.to_numpy(X), gpumath.to_numpy(y)
    tol = 1e-6
    ours = LogisticRegression(solver="lbfgs", tol=tol, max_iter=500)
    ours.fit(X, y)  # warm-up: compile, allocate
    repeat = 3 if ctx.quick else 5
    ours_s = wall_time(ctx, lambda: ours.fit(X, y), repeat=repeat, warmup=False)
    ref = SkLogistic(tol=tol, max_iter=500)
    ref_s = wall_time(
        ctx, lambda: ref.fit(X_host, y_host), repeat=1 if ctx.on_gpu else repeat, warmup=False
    )
    where = "GPU" if ctx.on_gpu else "CPU"
    return Row(
        op="logreg fit lbfgs",
        case=f"{n} x {d} float32 tol {tol:g} on {where}: nit {int(ours.n_iter_[0])} vs "
        f"{int(ref.n_iter_[0])}",
        ours_ms=ours_s * 1e3,
        vendor_ms=ref_s * 1e3,
        vendor="scikit-learn lbfgs (CPU)",
        rate=float(ours.n_iter_[0]) / ours_s,
        unit="iter/s",
        ceiling=0.0,
        max_rel_err=max_rel_err(ours.coef_[0], ref.coef_[0]),
    )
