"""Scale-out with Dask on the CPU: Monte Carlo over 1 and 2 workers; a tall regression.

- ``estimate_pi``: 2**32 points (2**28 with --quick) split into 2**24-point tasks on a
  ``LocalCluster`` of process workers with one thread each. "ours" is 2 workers, the
  "vendor" column is the same call on 1 worker, so ``speedup`` is the scaling (target
  >= 1.6x on a 2-core machine); ``max_rel_err`` compares the two estimates, which must agree
  exactly (same seed, same tasks).
- ``fit_linear``: LinearRegression on 10**7 x 32 float64 rows (10**6 with --quick) in 16
  row chunks on the 2-worker cluster, against the in-memory fit (NumPy), relative error of
  the coefficients (target <= 1e-8).

Dask is an optional extra: without it this family reports no rows. Everything runs on CPU
workers whatever the device; a GPU cluster (dask_cuda) is not measured here.
"""

from __future__ import annotations

import importlib.util
import time

import numpy as np

from .harness import Context, Row, max_rel_err


def _cluster(workers: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(
        n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
    )
    return cluster, Client(cluster)


def _timed(fn) -> tuple[float, object]:
    start = time.perf_counter()
    out = fn()
    return time.perf_counter() - start, out


def _pi_seconds(workers: int, n: int) -> tuple[float, float]:
    """Wall seconds of one estimate on a warm cluster of ``workers``, and the estimate."""
    from gpumath.distributed import estimate_pi

    cluster, client = _cluster(workers)
    try:
        client.run(lambda: __import__("gpumath.montecarlo"))  # imports off the clock
        estimate_pi(2**22, client=client, rng=1, tasks=2 * workers)  # warm the workers
        seconds, r = _timed(lambda: estimate_pi(n, client=client, rng=0))
        return seconds, float(r.estimate)
    finally:
        client.close()
        cluster.close()


def _linear_row(ctx: Context, rows: int) -> Row:
    import dask.array as da
    from distributed import wait

    from gpumath.distributed import fit_linear
    from gpumath.linear_model import LinearRegression

    cluster, client = _cluster(2)
    try:
        # The data are drawn on the workers (no 10**7-row graph to ship), fresh every run.
        rng = da.random.default_rng(int(ctx.rng.integers(2**31)))
        dX = rng.normal(size=(rows, 32), chunks=(rows // 16, 32)) + rng.normal(size=32)
        dy = dX @ rng.normal(size=32) + 1.0 + rng.normal(size=rows, chunks=rows // 16)
        dX, dy = client.persist([dX, dy])
        wait([dX, dy])
        seconds, ours = _timed(lambda: fit_linear(LinearRegression(), dX, dy))
        X, y = dX.compute(), dy.compute()
    finally:
        client.close()
        cluster.close()
    ref_seconds, ref = _timed(lambda: LinearRegression().fit(X, y))
    return Row(
        op="fit_linear (dask, 2 workers)",
        case=f"{rows}x32 f64, 16 chunks",
        ours_ms=seconds * 1e3,
        vendor_ms=ref_seconds * 1e3,
        vendor="in-memory LinearRegression",
        rate=X.nbytes / seconds / 1e9,
        unit="GB/s",
        ceiling=0.0,
        max_rel_err=max_rel_err(ours.coef_, ref.coef_),
    )


def run(ctx: Context) -> list[Row]:
    """Monte Carlo scaling 1 -> 2 workers and a tall regression on a CPU LocalCluster."""
    if importlib.util.find_spec("distributed") is None:
        print("bench_distributed: dask[distributed] is not installed (the `dask` extra); skipped")
        return []
    n = 2**28 if ctx.quick else 2**32
    one, est_one = _pi_seconds(1, n)
    two, est_two = _pi_seconds(2, n)
    pi_row = Row(
        op="estimate_pi (dask, 2 vs 1 worker)",
        case=f"2**{n.bit_length() - 1} points",
        ours_ms=two * 1e3,
        vendor_ms=one * 1e3,
        vendor="gpumath.distributed, 1 worker",
        rate=n / two / 1e9,
        unit="Gpts/s",
        ceiling=0.0,
        max_rel_err=max_rel_err(np.asarray(est_two), np.asarray(est_one)),
    )
    return [pi_row, _linear_row(ctx, 10**6 if ctx.quick else 10**7)]
