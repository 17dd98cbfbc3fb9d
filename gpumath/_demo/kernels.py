"""Demo steps on the kernel-backed and statistical layers; each checks itself and prints."""

from __future__ import annotations

import time

import numpy as np

import gpumath

from ._timing import median_seconds


def clip(n: int) -> bool:
    """Clip on the current device against NumPy float64; print error and timings."""
    rng = np.random.default_rng()
    host = rng.standard_normal(n, dtype=np.float32) * 3
    x = gpumath.asarray(host)
    path = "our CUDA kernel" if gpumath.device_of(x) != "cpu" else "NumPy"
    ours = gpumath.clip(x, -1.0, 1.0)
    ref = np.clip(host.astype(np.float64), -1.0, 1.0)
    err = np.linalg.norm(gpumath.to_numpy(ours) - ref) / np.linalg.norm(ref)
    seconds = median_seconds(lambda: gpumath.clip(x, -1.0, 1.0, out=ours), x)
    ok = err < 1e-6
    print(
        f"clip      {n:>11,} float32 via {path}: rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{2 * x.nbytes / seconds / 1e9:.1f} GB/s"
    )
    return ok


def matmul(n: int) -> bool:
    """float32 matmul on the current device against NumPy float64; error and rate."""
    rng = np.random.default_rng()
    host_a = rng.standard_normal((n, n), dtype=np.float32)
    host_b = rng.standard_normal((n, n), dtype=np.float32)
    a, b = gpumath.asarray(host_a), gpumath.asarray(host_b)
    path = "our tiled kernel" if gpumath.device_of(a) != "cpu" else "NumPy BLAS"
    ours = gpumath.matmul(a, b, algorithm="tiled")  # our kernel, even where cuBLAS is faster
    ref = host_a.astype(np.float64) @ host_b.astype(np.float64)
    err = np.linalg.norm(gpumath.to_numpy(ours) - ref) / np.linalg.norm(ref)
    seconds = median_seconds(lambda: gpumath.matmul(a, b, algorithm="tiled"), a)
    ok = err < 1e-5
    print(
        f"matmul    {n}x{n}x{n} float32 via {path}: rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{2 * n**3 / seconds / 1e12:.2f} TFLOP/s"
    )
    return ok


def conv(batch: int = 8) -> bool:
    """float32 conv2d (N8 C64 56x56, K64 3x3, padding 1) on the device against SciPy."""
    import scipy.signal

    rng = np.random.default_rng()
    host_x = rng.standard_normal((batch, 64, 56, 56), dtype=np.float32)
    host_w = rng.standard_normal((64, 64, 3, 3), dtype=np.float32)
    x, w = gpumath.asarray(host_x), gpumath.asarray(host_w)
    on_gpu = gpumath.device_of(x) != "cpu"
    path = "our implicit-GEMM kernel" if on_gpu else "im2col + BLAS"
    ours = gpumath.to_numpy(gpumath.conv2d(x, w, padding=1))
    # float64 reference for image 0, output channels 0-3: SciPy correlate summed over inputs.
    xpad = np.pad(host_x[0].astype(np.float64), [(0, 0), (1, 1), (1, 1)])
    ref = np.stack(
        [
            sum(
                scipy.signal.correlate(xpad[c], host_w[k, c].astype(np.float64), "valid")
                for c in range(64)
            )
            for k in range(4)
        ]
    )
    err = np.linalg.norm(ours[0, :4] - ref) / np.linalg.norm(ref)
    seconds = median_seconds(lambda: gpumath.conv2d(x, w, padding=1), x, repeat=5)
    ok = err < 1e-4
    print(
        f"conv2d    N{batch} C64 56x56 K64 3x3 float32 via {path}: rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{2 * batch * 64 * 56 * 56 * 64 * 9 / seconds / 1e12:.2f} TFLOP/s"
    )
    return ok


def describe(n: int) -> bool:
    """describe on the current device (CUDA: one fused moments kernel) against SciPy."""
    import scipy.stats

    from gpumath.stats import describe

    rng = np.random.default_rng()
    host = (1e3 + rng.standard_gamma(2.0, n)).astype(np.float32)  # skewed, offset data
    x = gpumath.asarray(host)
    path = "our fused moments kernel" if gpumath.device_of(x) != "cpu" else "NumPy two-pass"
    ours = describe(x)
    ref = scipy.stats.describe(host.astype(np.float64))
    fields = ("mean", "variance", "skewness", "kurtosis")
    got = np.array([float(gpumath.to_numpy(getattr(ours, f))) for f in fields])
    want = np.array([getattr(ref, f) for f in fields])
    err = float(np.max(np.abs(got - want) / np.abs(want)))
    seconds = median_seconds(lambda: describe(x), x, repeat=5)
    ok = err < 1e-4 and ours.nobs == n
    print(
        f"describe  {n:>11,} float32 via {path}: max rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{x.nbytes / seconds / 1e9:.1f} GB/s (one read)"
    )
    return ok


def montecarlo() -> bool:
    """estimate_pi with its error bar, and a KS check of Normal sampling, on the device."""
    import scipy.stats

    from gpumath.montecarlo import estimate_pi
    from gpumath.random import default_rng
    from gpumath.stats.distributions import Normal

    rng = default_rng()
    on_gpu = rng.device != "cpu"
    n = 2**32 if on_gpu else 10_000_000
    path = "the fused Philox kernel" if on_gpu else "NumPy batches"
    float(estimate_pi(1_000, rng=rng).estimate)  # warm-up: compiles the kernel on a GPU
    start = time.perf_counter()
    result = estimate_pi(n, rng=rng)
    est, se = float(result.estimate), float(result.stderr)  # float() waits for the device
    seconds = time.perf_counter() - start
    ok_pi = abs(est - np.pi) < 5 * se  # false alarm 6e-7
    print(
        f"pi        {n:>11,} points via {path}: {est:.7f} +- {se:.1e} "
        f"(truth {abs(est - np.pi) / se:.1f} stderr away) [{'ok' if ok_pi else 'FAILED'}], "
        f"{seconds * 1e3:.1f} ms, {n / seconds / 1e9:.2f} G points/s"
    )
    draws = gpumath.to_numpy(Normal(1.0, 2.0).sample((100_000,), rng=rng))
    p_value = scipy.stats.kstest(draws, scipy.stats.norm(1.0, 2.0).cdf).pvalue
    ok_ks = p_value > 1e-4  # false alarm 1e-4
    print(
        f"normal        100,000 draws of Normal(1, 2) on {rng.device}: KS p-value "
        f"{p_value:.3f} [{'ok' if ok_ks else 'FAILED'}]"
    )
    return ok_pi and ok_ks
