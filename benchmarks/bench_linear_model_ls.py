"""Least-squares family fits: LinearRegression, Ridge, Lasso and ElasticNet.

GPU: ``LinearRegression`` and ``Ridge`` fits on tall float32/float64 data (2^20 x 256;
2^18 x 256 with --quick, still 256 MiB, far beyond the L2) against ``cupy.linalg.lstsq``
(SVD) on the same problem: Ridge's vendor path solves the augmented system
``[X; sqrt(alpha) I] w ~ [y; 0]``. Rates are the Gram product's ``2 n p^2`` FLOP against the
float32 matmul ceiling.

CPU: each fit against scikit-learn's on the same data, same solver where both have it, and
the same tolerance; the rate is the bytes of X read once against the copy ceiling. The CPU
rows need scikit-learn (a test dependency) and are left out without it.

Fits synchronise with the host (finite-input checks, convergence tests), so they are timed
as whole calls on the wall clock: medians after warm-up, ours and the reference's calls
interleaved on the CPU.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpumath.linear_model._coordinate import ElasticNet, Lasso
from gpumath.linear_model._least_squares import LinearRegression, Ridge

from .bench_clip import paired_time_it
from .harness import Context, Row, max_rel_err, wall_time

_P = 256
_RIDGE_ALPHA = 1.0


def run(ctx: Context) -> list[Row]:
    """GPU: ours against CuPy's lstsq; CPU: ours against scikit-learn."""
    return _gpu_rows(ctx) if ctx.on_gpu else _cpu_rows(ctx)


def _problem(ctx: Context, n: int, p: int, dtype: Any) -> tuple[Any, Any]:
    """Fresh Gaussian X and a noisy linear target with a sparse true coefficient vector."""
    X = ctx.random((n, p), dtype)
    w = ctx.random((p,), dtype) * (ctx.xp.arange(p) % 4 == 0)
    return X, X @ w + ctx.random((n,), dtype)


def _gpu_rows(ctx: Context) -> list[Row]:
    n = 2**18 if ctx.quick else 2**20
    dtypes = (np.float32,) if ctx.quick else (np.float32, np.float64)
    return [row for dtype in dtypes for row in _gpu_dtype_rows(ctx, n, dtype)]


def _gpu_dtype_rows(ctx: Context, n: int, dtype: Any) -> list[Row]:
    """Three fits on one fresh problem; its arrays are freed when this returns."""
    xp = ctx.xp
    repeat = 3 if ctx.quick else 10
    X, y = _problem(ctx, n, _P, dtype)
    root = np.sqrt(_RIDGE_ALPHA).astype(dtype)
    X_aug = xp.concatenate([X, root * xp.eye(_P, dtype=dtype)])
    y_aug = xp.concatenate([y, xp.zeros(_P, dtype=dtype)])
    cases = [
        ("LinearRegression", "auto", LinearRegression(fit_intercept=False), X, y),
        ("LinearRegression", "qr", LinearRegression(fit_intercept=False, solver="qr"), X, y),
        ("Ridge", "auto", Ridge(alpha=_RIDGE_ALPHA, fit_intercept=False), X_aug, y_aug),
    ]
    rows = []
    for name, solver, model, Xv, yv in cases:
        ours = wall_time(ctx, lambda m=model: m.fit(X, y), repeat=repeat)
        vendor = wall_time(ctx, lambda a=Xv, b=yv: xp.linalg.lstsq(a, b, rcond=None), repeat=repeat)
        ref = xp.linalg.lstsq(Xv, yv, rcond=None)[0]
        rows.append(
            Row(
                op=f"{name}.fit",
                case=f"{n} x {_P} {np.dtype(dtype).name} solver={solver}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor="cupy.linalg.lstsq (SVD)",
                rate=2 * n * _P**2 / ours / 1e12,
                unit="TFLOP/s",
                ceiling=ctx.ceilings.matmul_TFLOPs if ctx.ceilings else 0.0,
                max_rel_err=max_rel_err(model.fit(X, y).coef_, ref),
            )
        )
    return rows


def _cpu_rows(ctx: Context) -> list[Row]:
    try:
        from sklearn import linear_model as sk
    except ImportError:  # scikit-learn is a test dependency, not a benchmark one
        return []
    n, p = (20_000, 100) if ctx.quick else (100_000, 200)
    repeat = 5 if ctx.quick else 10
    X, y = _problem(ctx, n, p, np.float64)
    tol = 1e-4
    cases = [
        ("LinearRegression", "auto vs lstsq", LinearRegression(), sk.LinearRegression()),
        (
            "LinearRegression",
            "lstsq vs lstsq",
            LinearRegression(solver="lstsq"),
            sk.LinearRegression(),
        ),
        ("Ridge", "cholesky", Ridge(solver="cholesky"), sk.Ridge(solver="cholesky")),
        ("Ridge", "svd", Ridge(solver="svd"), sk.Ridge(solver="svd")),
        ("Lasso", "fista vs cd", Lasso(alpha=0.1, tol=tol), sk.Lasso(alpha=0.1, tol=tol)),
        (
            "Lasso",
            "cd vs cd",
            Lasso(alpha=0.1, tol=tol, solver="cd"),
            sk.Lasso(alpha=0.1, tol=tol),
        ),
        (
            "ElasticNet",
            "fista vs cd",
            ElasticNet(alpha=0.1, tol=tol),
            sk.ElasticNet(alpha=0.1, tol=tol),
        ),
    ]
    rows = []
    for name, solvers, ours_model, ref_model in cases:
        # Interleaved call by call: a shared CPU drifts between two separate series.
        ours, vendor = paired_time_it(
            ctx, lambda m=ours_model: m.fit(X, y), lambda m=ref_model: m.fit(X, y), repeat=repeat
        )
        iters = getattr(ours_model, "n_iter_", None)
        note = f" nit {iters} vs {ref_model.n_iter_}" if iters is not None else ""
        rows.append(
            Row(
                op=f"{name}.fit",
                case=f"{n} x {p} float64 {solvers}{note}",
                ours_ms=ours * 1e3,
                vendor_ms=vendor * 1e3,
                vendor="scikit-learn",
                rate=X.nbytes / ours / 1e9,
                unit="GB/s",
                ceiling=ctx.ceilings.copy_GBps if ctx.ceilings else 0.0,
                max_rel_err=max_rel_err(ours_model.coef_, ref_model.coef_),
            )
        )
    return rows
