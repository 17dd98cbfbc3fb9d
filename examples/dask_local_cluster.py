"""gpumath on a Dask cluster: Monte Carlo, statistics and a regression over many workers.

Run: ``python examples/dask_local_cluster.py`` (needs ``pip install gpumath[dask]``).

This starts a ``LocalCluster`` of CPU worker processes on this machine. The same code runs
on GPUs: start one worker per GPU with dask-cuda and hand out CuPy chunks and CUDA
generators instead of NumPy ones::

    from dask_cuda import LocalCUDACluster            # pip install dask-cuda
    cluster = LocalCUDACluster()                      # one worker per visible GPU
    rng = gpumath.random.default_rng(0, device="cuda")  # parts draw on each worker's GPU
    X = X.map_blocks(cupy.asarray)                    # CuPy chunks: reductions run on GPUs

On several machines, connect the Client to a scheduler instead
(``Client("tcp://scheduler:8786")``); nothing else changes.
"""

from __future__ import annotations

import math

import dask.array as da
import numpy as np
from dask.distributed import Client, LocalCluster

import gpumath.distributed as gd
from gpumath.linear_model import LinearRegression


def main() -> None:
    with (
        LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=":0") as cluster,
        Client(cluster) as client,
    ):
        print(client)

        # Monte Carlo: 2**26 points in 16 independent, reproducible streams (one per task).
        r = gd.estimate_pi(2**26, client=client, rng=0, tasks=16)
        error = float(r.estimate) - math.pi
        print(f"pi ~ {float(r.estimate):.6f} +- {float(r.stderr):.1e} (error {error:+.1e})")
        r = gd.integrate(lambda x: np.exp(-x * x), 0.0, 1.0, 2**24, client=client, rng=1)
        print(f"int_0^1 exp(-x^2) dx ~ {float(r.estimate):.6f} +- {float(r.stderr):.1e}")

        # Statistics over a tall array in row chunks, merged exactly chunk by chunk.
        rng = da.random.default_rng(2)
        X = rng.normal(size=(2_000_000, 8), chunks=(250_000, 8)) + 1e6
        d = gd.describe(X, axis=0)
        print("mean - 1e6:", np.round(d.mean - 1e6, 4))
        print("variance:", np.round(d.variance, 4))
        print("cov[:3, :3]:\n", np.round(gd.cov(X)[:3, :3], 4))

        # Linear regression on the same rows: merged normal equations, no data leaves a worker.
        Xc = X - 1e6
        y = Xc @ np.arange(8.0) + 3.0 + rng.normal(size=X.shape[0], chunks=X.chunks[0])
        model = gd.fit_linear(LinearRegression(), Xc, y)
        print("coef:", np.round(model.coef_, 3), "intercept:", round(float(model.intercept_), 3))


if __name__ == "__main__":
    main()
