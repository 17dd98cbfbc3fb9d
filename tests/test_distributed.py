"""gpumath.distributed: statistics, Monte Carlo and linear models over Dask.

References are NumPy/SciPy on the concatenated data and the one-process gpumath functions
run on the same spawned streams. One in-process LocalCluster (2 workers, 1 thread each)
serves the whole module: starting clusters dominates the time otherwise.
"""

from __future__ import annotations

import concurrent.futures
import math
import subprocess
import sys
import time

import numpy as np
import pytest
import scipy.stats
from numpy.testing import assert_allclose

da = pytest.importorskip("dask.array", reason="the `dask` extra is not installed")
distributed = pytest.importorskip("distributed")

import gpumath.distributed as gd  # noqa: E402
import gpumath.distributed._montecarlo as gdm  # noqa: E402
from gpumath.linear_model import LinearRegression, LogisticRegression, Ridge  # noqa: E402
from gpumath.montecarlo import estimate_pi, expectation, integrate  # noqa: E402
from gpumath.random import default_rng  # noqa: E402
from gpumath.stats import RunningMoments  # noqa: E402
from gpumath.stats.distributions import Normal  # noqa: E402


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    )
    c = distributed.Client(cluster)
    yield c
    c.close()
    cluster.close()


def _chunked(x, xp, chunks):
    """A dask array of ``x`` with chunks of ``xp`` (NumPy or CuPy)."""
    return da.from_array(xp.asarray(x), chunks=chunks, asarray=False)


def _host(v):
    return np.asarray(v.get() if hasattr(v, "get") else v)


# ----------------------------------------------------------------------------- statistics


@pytest.mark.parametrize("offset", [0.0, 1e8])
def test_moments_match_numpy_on_concatenated_data(xp, rng, offset):
    x = rng.normal(size=(1003, 3)) * 2.0 + offset  # ragged row chunks, split columns
    X = _chunked(x, xp, (137, 2))
    # x - offset is exact here (nearby floats), so the reference keeps full precision.
    centred = x - offset
    assert_allclose(_host(gd.mean(X, axis=0)) - offset, centred.mean(axis=0), rtol=0, atol=1e-7)
    assert_allclose(_host(gd.var(X, axis=0, ddof=1)), centred.var(axis=0, ddof=1), rtol=1e-11)
    assert_allclose(_host(gd.std(X, axis=0)), centred.std(axis=0), rtol=1e-11)
    assert_allclose(_host(gd.cov(X)), np.cov(centred, rowvar=False), rtol=1e-12, atol=1e-13)
    d = gd.describe(X, axis=0)
    ref = scipy.stats.describe(centred, axis=0)
    assert d.nobs == 1003
    assert_allclose(_host(d.skewness), ref.skewness, rtol=1e-9, atol=1e-12)
    assert_allclose(_host(d.kurtosis), ref.kurtosis, rtol=1e-9, atol=1e-12)
    assert_allclose(_host(d.minmax[0]), x.min(axis=0), rtol=0, atol=0)
    assert_allclose(_host(d.minmax[1]), x.max(axis=0), rtol=0, atol=0)


def test_axis_none_any_chunks_and_rowvar(xp, rng):
    x = rng.normal(size=(40, 30)) + 3.0
    X = _chunked(x, xp, (7, 11))
    assert_allclose(float(_host(gd.mean(X))), x.mean(), rtol=1e-14)
    assert_allclose(float(_host(gd.var(X))), x.var(), rtol=1e-12)
    assert_allclose(_host(gd.var(X, axis=1)), x.var(axis=1), rtol=1e-12)
    assert_allclose(_host(gd.cov(X, rowvar=True)), np.cov(x), rtol=1e-11, atol=1e-13)


def test_float32_stays_float32_and_ints_become_float64(xp, rng):
    x = rng.normal(size=(500, 2)).astype(np.float32)
    X = _chunked(x, xp, (64, 2))
    out = gd.describe(X, axis=0)
    assert out.mean.dtype == np.float32 and out.variance.dtype == np.float32
    assert gd.cov(X).dtype == np.float32
    assert_allclose(_host(out.variance), x.astype(np.float64).var(axis=0, ddof=1), rtol=1e-6)
    ints = _chunked(np.arange(10), xp, 3)
    assert gd.mean(ints).dtype == np.float64 and float(_host(gd.mean(ints))) == 4.5


def test_lazy_results_compute_to_the_same_value(rng):
    x = rng.normal(size=100)
    X = da.from_array(x, chunks=13)
    lazy = gd.var(X, ddof=1, compute=False)
    assert hasattr(lazy, "compute")
    assert float(lazy.compute()) == float(gd.var(X, ddof=1))
    assert_allclose(
        gd.cov(da.stack([X, 2 * X], axis=1), compute=False).compute()[0, 1], 2 * x.var(ddof=1)
    )


def test_running_moments_merge_with_streamed_data(rng):
    a, b = rng.normal(size=(300, 2)), rng.normal(size=(77, 2)) + 5.0
    rm = gd.running_moments(da.from_array(a, chunks=(50, 1)), axis=0)
    rm.merge(RunningMoments(axis=0).update(b))
    both = np.concatenate([a, b])
    assert rm.n == 377
    assert_allclose(rm.var(ddof=1), both.var(axis=0, ddof=1), rtol=1e-12)
    # Excess kurtosis can be near 0, where a relative test means nothing: compare m4 / m2^2.
    assert_allclose(rm.kurtosis() + 3, scipy.stats.kurtosis(both, fisher=False), rtol=1e-10)


def test_runs_on_the_distributed_client(client, rng):
    x = rng.normal(size=(2000, 4))
    X = da.from_array(x, chunks=(300, 4))
    assert_allclose(gd.cov(X), np.cov(x, rowvar=False), rtol=1e-12)  # the client is the default
    kurtosis = gd.describe(X, axis=0).kurtosis  # excess, near 0 for normal data: compare + 3
    assert_allclose(kurtosis + 3, scipy.stats.kurtosis(x, axis=0, fisher=False), rtol=1e-10)


def test_statistics_errors():
    with pytest.raises(TypeError, match="`x` must be a dask.array.Array; got ndarray"):
        gd.mean(np.ones(3))
    with pytest.raises(TypeError, match="`axis` must be None or an int; got"):
        gd.var(da.ones(4, chunks=2), axis=(0,))
    with pytest.raises(ValueError, match=r"`axis` must be in \[-1, 1\) for a 1-D array; got 3"):
        gd.mean(da.ones(4, chunks=2), axis=3)
    with pytest.raises(ValueError, match="`x` must have at least one value"):
        gd.describe(da.ones((0,), chunks=1))
    with pytest.raises(ValueError, match="`x` must be 2-D; got shape"):
        gd.cov(da.ones(4, chunks=2))
    with pytest.raises(TypeError, match="`x` must have a real dtype; got complex128"):
        gd.mean(da.ones(4, chunks=2, dtype=complex))


# ----------------------------------------------------------------------------- Monte Carlo


def test_merge_of_parts_is_chan_on_raw_samples(rng):
    parts_data = [rng.exponential(size=m) for m in (10, 37, 5, 200)]
    parts = [(s.mean(), s.std(ddof=1) / math.sqrt(s.size), s.size) for s in parts_data]
    merged = gdm._merge_parts(parts, [p[2] for p in parts], True, 0.95)
    both = np.concatenate(parts_data)
    assert merged.n == both.size
    assert_allclose(float(merged.estimate), both.mean(), rtol=1e-14)
    assert_allclose(float(merged.stderr), both.std(ddof=1) / math.sqrt(both.size), rtol=1e-13)


def _children(seed, tasks):
    return default_rng(seed, device="cpu").spawn(tasks)


def test_estimate_pi_equals_the_one_process_streams(client):
    n, tasks = 100_001, 4
    r = gd.estimate_pi(n, client=client, rng=7, tasks=tasks)
    sizes = gdm._split(n, tasks, 2)
    local = [estimate_pi(m, rng=g) for m, g in zip(sizes, _children(7, tasks), strict=True)]
    hits = sum(round(float(q.estimate) * m / 4) for q, m in zip(local, sizes, strict=True))
    p = hits / n
    assert r.n == n
    assert float(r.estimate) == 4 * p
    assert_allclose(float(r.stderr), 4 * math.sqrt(p * (1 - p) / n), rtol=1e-15)
    assert abs(float(r.estimate) - math.pi) < 5 * float(r.stderr)
    again = gd.estimate_pi(n, client=client, rng=default_rng(7, device="cpu"), tasks=tasks)
    assert float(again.estimate) == float(r.estimate)  # seed -> result, whatever ran where


@pytest.mark.parametrize("method", ["plain", "antithetic", "stratified", "importance"])
def test_integrate_merges_the_parts(client, method):
    n, tasks = 40_000, 3
    kw = {"proposal": Normal(0.0, 0.8)} if method == "importance" else {}
    lo, hi = (-np.inf, np.inf) if method == "importance" else (0.0, 1.0)
    exact = math.sqrt(math.pi) if method == "importance" else math.sqrt(math.pi) / 2 * math.erf(1)

    def f(x):
        return np.exp(-x * x)

    r = gd.integrate(f, lo, hi, n, client=client, rng=3, tasks=tasks, method=method, **kw)
    if method == "antithetic":
        sizes = [2 * m for m in gdm._split(n // 2, tasks, 1)]
    else:
        sizes = gdm._split(n, tasks, 2)
    local = [
        integrate(f, lo, hi, m, rng=g, method=method, **kw)
        for m, g in zip(sizes, _children(3, tasks), strict=True)
    ]
    counts = [q.n for q in local]
    assert r.n == sum(counts)
    assert_allclose(
        float(r.estimate), np.average([float(q.estimate) for q in local], weights=counts)
    )
    assert float(r.stderr) > 0
    assert abs(float(r.estimate) - exact) < 5 * float(r.stderr) + 1e-12
    if method in ("plain", "importance"):  # Chan merge: one run's stderr, up to sampling
        one = integrate(f, lo, hi, n, rng=11, method=method, **kw)
        assert 0.8 < float(r.stderr) / float(one.stderr) < 1.25


def test_expectation_with_and_without_control_variate(client):
    dist = Normal(1.0, 2.0)
    r = gd.expectation(lambda x: x * x, dist, 30_000, client=client, rng=5, tasks=3)
    assert abs(float(r.estimate) - 5.0) < 5 * float(r.stderr)
    cv = gd.expectation(
        lambda x: x * x + x,
        dist,
        30_000,
        client=client,
        rng=5,
        tasks=3,
        control_variate=(lambda x: x, 1.0),
    )
    assert abs(float(cv.estimate) - 6.0) < 5 * float(cv.stderr)
    assert float(cv.stderr) < float(r.stderr) * 1.2
    local = expectation(lambda x: x * x, dist, 10_000, rng=_children(5, 3)[0])
    assert_allclose(float(r.stderr), float(local.stderr) / math.sqrt(3), rtol=0.1)


def test_montecarlo_errors(client):
    with pytest.raises(TypeError, match="`client` must be a dask.distributed.Client; got str"):
        gd.estimate_pi(100, client="tcp://localhost:8786")
    with pytest.raises(ValueError, match=r"`tasks` must be at most n // 2 = 5; got 6"):
        gd.estimate_pi(10, client=client, tasks=6)
    with pytest.raises(ValueError, match="`tasks` must be an integer >= 1; got 0"):
        gd.estimate_pi(10, client=client, tasks=0)
    with pytest.raises(ValueError, match="`n` must be an integer >= 2; got 1"):
        gd.integrate(np.sin, 0.0, 1.0, 1, client=client)


# ----------------------------------------------------------------------------- linear models


@pytest.mark.parametrize(
    "model", [LinearRegression(), LinearRegression(fit_intercept=False), Ridge(alpha=3.0)]
)
def test_fit_linear_equals_the_in_memory_fit(xp, rng, client, model):
    X = rng.normal(size=(2000, 6)) + rng.normal(size=6) * 10
    y = X @ rng.normal(size=6) + 4.0 + rng.normal(size=2000)
    ours = gd.fit_linear(
        type(model)(**model.get_params()), _chunked(X, xp, (125, 4)), _chunked(y, xp, 300)
    )
    ref = type(model)(**model.get_params()).fit(xp.asarray(X), xp.asarray(y))
    assert_allclose(_host(ours.coef_), _host(ref.coef_), rtol=1e-8, atol=1e-10)
    assert_allclose(float(ours.intercept_), float(ref.intercept_), rtol=1e-8, atol=1e-10)
    assert ours.n_features_in_ == 6
    assert_allclose(_host(ours.predict(xp.asarray(X[:5]))), _host(ref.predict(xp.asarray(X[:5]))))


def test_fit_linear_float32_and_errors(rng):
    X = rng.normal(size=(300, 3)).astype(np.float32)
    y = (X @ np.array([1.0, 2.0, 3.0], dtype=np.float32)).astype(np.float32)
    m = gd.fit_linear(LinearRegression(), da.from_array(X, chunks=70), da.from_array(y, chunks=70))
    assert m.coef_.dtype == np.float32
    assert_allclose(m.coef_, np.array([1.0, 2.0, 3.0]), rtol=1e-5, atol=1e-5)
    dX, dy = da.from_array(X, chunks=70), da.from_array(y, chunks=70)
    with pytest.raises(TypeError, match="`estimator` must be a LinearRegression or Ridge; got"):
        gd.fit_linear(LogisticRegression(), dX, dy)
    with pytest.raises(TypeError, match="`X` must be a dask.array.Array; got ndarray"):
        gd.fit_linear(LinearRegression(), X, dy)
    with pytest.raises(ValueError, match="`X` and `y` must have the same number of rows; got 300"):
        gd.fit_linear(LinearRegression(), dX, dy[:10])
    with pytest.raises(ValueError, match="`alpha` must be"):
        gd.fit_linear(Ridge(alpha=-1.0), dX, dy)


@pytest.mark.parametrize("kwargs", [{}, {"C": np.inf}, {"fit_intercept": False, "C": 0.5}])
@pytest.mark.parametrize("classes", [2, 3])
def test_fit_logistic_equals_the_in_memory_fit(xp, rng, client, classes, kwargs):
    X = rng.normal(size=(1500, 4))
    scores = X[:, :classes] * 2.0 + rng.logistic(size=(1500, classes))
    y = np.argmax(scores, axis=1).astype(np.float64) * 3.0  # labels 0, 3(, 6)
    ours = gd.fit_logistic(
        LogisticRegression(**kwargs), _chunked(X, xp, (200, 4)), _chunked(y, xp, 300)
    )
    ref = LogisticRegression(**kwargs).fit(xp.asarray(X), xp.asarray(y))
    assert_allclose(_host(ours.classes_), _host(ref.classes_))
    assert_allclose(_host(ours.coef_), _host(ref.coef_), rtol=1e-8, atol=1e-10)
    assert_allclose(_host(ours.intercept_), _host(ref.intercept_), rtol=1e-8, atol=1e-10)
    assert int(ours.n_iter_[0]) == int(ref.n_iter_[0]) > 1
    assert_allclose(
        _host(ours.predict_proba(xp.asarray(X[:9]))),
        _host(ref.predict_proba(xp.asarray(X[:9]))),
        rtol=1e-8,
    )


def test_fit_logistic_errors(rng):
    X, y = da.from_array(rng.normal(size=(20, 2)), 5), da.from_array(np.arange(20.0) % 2, 5)
    with pytest.raises(TypeError, match="`estimator` must be a LogisticRegression; got Ridge"):
        gd.fit_logistic(Ridge(), X, y)
    with pytest.raises(ValueError, match="`solver` must be 'lbfgs'"):
        gd.fit_logistic(LogisticRegression(solver="newton"), X, y)
    with pytest.raises(ValueError, match="`y` must contain at least two classes; got 1"):
        gd.fit_logistic(LogisticRegression(), X, da.zeros(20, chunks=5))
    with pytest.raises(ValueError, match=r"`X` must be 2-D and `y` 1-D with the same number"):
        gd.fit_logistic(LogisticRegression(), X, y[:4])


@pytest.mark.parametrize("module", ["_stats", "_linear", "_logistic"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(f"gpumath.distributed.{module}"))
    assert result.failed == 0 and result.attempted > 0


def test_import_gpumath_does_not_import_dask():
    code = "import gpumath, gpumath.stats, gpumath.montecarlo, sys; print('dask' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# Last in the module: it leaves the shared cluster with one worker.
def test_a_worker_lost_mid_run_does_not_change_the_result(client):
    n, tasks = 2**23, 8
    ref = gd.estimate_pi(n, client=client, rng=9, tasks=tasks)
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        run = pool.submit(gd.estimate_pi, n, client=client, rng=9, tasks=tasks)
        deadline = time.monotonic() + 30
        while not any(client.processing().values()) and time.monotonic() < deadline:
            time.sleep(0.005)
        busy = [w for w, keys in client.processing().items() if keys]
        assert busy, "no task started"
        victim = next(w for w in client.cluster.workers.values() if w.address == busy[0])
        client.sync(victim.close)  # the scheduler reruns its tasks on the other worker
        r = run.result(timeout=60)
    assert len(client.scheduler_info()["workers"]) == 1
    assert float(r.estimate) == float(ref.estimate)
    assert float(r.stderr) == float(ref.stderr)


def test_public_functions_dispatch_dask_inputs_and_clients(client, rng):
    """gpumath.stats, montecarlo and linear_model take dask inputs / client= themselves."""
    import gpumath.montecarlo as mc
    from gpumath import stats
    from gpumath.linear_model import LinearRegression, LogisticRegression

    host = rng.standard_normal((600, 4)) + 1e6
    x = da.from_array(host, chunks=(150, 4))
    np.testing.assert_allclose(_host(stats.mean(x, axis=0)), host.mean(axis=0), rtol=1e-14)
    np.testing.assert_allclose(
        _host(stats.var(x, axis=0, ddof=1)), host.var(axis=0, ddof=1), rtol=1e-10
    )
    np.testing.assert_allclose(
        _host(stats.cov(x, rowvar=False)), np.cov(host, rowvar=False), rtol=1e-9
    )
    with pytest.raises(ValueError, match="`keepdims` must be False for a dask array"):
        stats.mean(x, keepdims=True)
    r = mc.estimate_pi(2**20, rng=default_rng(3, device="cpu"), client=client, tasks=4)
    assert abs(float(r.estimate) - np.pi) < 6 * float(r.stderr)
    coef = rng.standard_normal(4)
    y_host = (host - 1e6) @ coef + 0.5
    X = da.from_array(host - 1e6, chunks=(150, 4))
    fitted = LinearRegression().fit(X, da.from_array(y_host, chunks=150))
    np.testing.assert_allclose(_host(fitted.coef_), coef, rtol=1e-8)
    labels = (y_host > 0.5).astype(np.int64)
    dist = LogisticRegression(tol=1e-10).fit(X, da.from_array(labels, chunks=150))
    local = LogisticRegression(tol=1e-10).fit(host - 1e6, labels)
    np.testing.assert_allclose(_host(dist.coef_), _host(local.coef_), rtol=1e-6)


def test_a_killed_worker_process_does_not_change_the_result():
    """A real LocalCluster of worker processes on loopback: one process is killed (SIGKILL)
    while its task runs; Dask reruns the task and the estimate is unchanged."""
    import os
    import signal

    n, tasks = 2**26, 8
    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=":0",
        ) as cluster,
        distributed.Client(cluster) as c,
    ):
        ref = gd.estimate_pi(n, client=c, rng=11, tasks=tasks)
        pids = c.run(os.getpid)
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            run = pool.submit(gd.estimate_pi, n, client=c, rng=11, tasks=tasks)
            deadline = time.monotonic() + 60
            while not any(c.processing().values()) and time.monotonic() < deadline:
                time.sleep(0.005)
            busy = [w for w, keys in c.processing().items() if keys]
            assert busy and not run.done(), "the run must still be going when the worker dies"
            os.kill(pids[busy[0]], signal.SIGKILL)
            r = run.result(timeout=120)
    assert float(r.estimate) == float(ref.estimate)
    assert float(r.stderr) == float(ref.stderr)
