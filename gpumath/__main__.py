"""Command line: ``python -m gpumath info | demo | bench | check-kernels``."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
import time
from pathlib import Path
from types import ModuleType

import numpy as np

import gpumath
from gpumath import _compile_check


def cmd_info(args: argparse.Namespace) -> int:
    """Print the device report, and why CUDA is not used when it is not."""
    info = gpumath.device_info()
    if args.json:
        print(json.dumps(info, indent=1))
        return 0
    width = max(map(len, info))
    for key, value in info.items():
        print(f"{key:<{width}}  {value}")
    return 0


def _demo_clip(n: int) -> bool:
    """Clip on the current device against NumPy float64; print error and timings."""
    rng = np.random.default_rng()
    host = rng.standard_normal(n, dtype=np.float32) * 3
    x = gpumath.asarray(host)
    path = "our CUDA kernel" if gpumath.device_of(x) != "cpu" else "NumPy"
    ours = gpumath.clip(x, -1.0, 1.0)
    ref = np.clip(host.astype(np.float64), -1.0, 1.0)
    err = np.linalg.norm(gpumath.to_numpy(ours) - ref) / np.linalg.norm(ref)
    seconds = _median_seconds(lambda: gpumath.clip(x, -1.0, 1.0, out=ours), x)
    ok = err < 1e-6
    print(
        f"clip      {n:>11,} float32 via {path}: rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{2 * x.nbytes / seconds / 1e9:.1f} GB/s"
    )
    return ok


def _demo_matmul(n: int) -> bool:
    """float32 matmul on the current device against NumPy float64; error and rate."""
    rng = np.random.default_rng()
    host_a = rng.standard_normal((n, n), dtype=np.float32)
    host_b = rng.standard_normal((n, n), dtype=np.float32)
    a, b = gpumath.asarray(host_a), gpumath.asarray(host_b)
    path = "our tiled kernel" if gpumath.device_of(a) != "cpu" else "NumPy BLAS"
    ours = gpumath.matmul(a, b, algorithm="tiled")  # our kernel, even where cuBLAS is faster
    ref = host_a.astype(np.float64) @ host_b.astype(np.float64)
    err = np.linalg.norm(gpumath.to_numpy(ours) - ref) / np.linalg.norm(ref)
    seconds = _median_seconds(lambda: gpumath.matmul(a, b, algorithm="tiled"), a)
    ok = err < 1e-5
    print(
        f"matmul    {n}x{n}x{n} float32 via {path}: rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{2 * n**3 / seconds / 1e12:.2f} TFLOP/s"
    )
    return ok


def _demo_pca(k: int = 10) -> bool:
    """PCA of a small real dataset (scikit-learn's digits) against NumPy's float64 SVD."""
    import gpumath.linalg

    try:
        from sklearn.datasets import load_digits

        host, name = load_digits().data, "digits 1797x64 (scikit-learn)"
    except ImportError:  # scikit-learn is only in the test extra: say so, use synthetic data
        rng = np.random.default_rng(0)
        host = rng.standard_normal((1797, 64)) * np.geomspace(8.0, 0.1, 64)
        name = "synthetic 1797x64 (scikit-learn not installed)"
    x = gpumath.asarray(host.astype(np.float32))
    pca = gpumath.linalg.PCA(k).fit(x)
    s = np.linalg.svd(host - host.mean(axis=0), compute_uv=False)
    ref = s[:k] ** 2 / (host.shape[0] - 1)
    ours = gpumath.to_numpy(pca.explained_variance_)
    err = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
    kept = float(gpumath.to_numpy(pca.explained_variance_ratio_).sum())
    seconds = _median_seconds(lambda: pca.fit(x), x)
    ok = err < 1e-4
    print(
        f"pca       {name} -> {k} components ({pca.svd_solver_}): {100 * kept:.1f}% of "
        f"variance, rel err {err:.1e} [{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms"
    )
    return ok


def _demo_describe(n: int) -> bool:
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
    seconds = _median_seconds(lambda: describe(x), x, repeat=5)
    ok = err < 1e-4 and ours.nobs == n
    print(
        f"describe  {n:>11,} float32 via {path}: max rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{x.nbytes / seconds / 1e9:.1f} GB/s (one read)"
    )
    return ok


def _demo_montecarlo() -> bool:
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


def _demo_conv(batch: int = 8) -> bool:
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
    seconds = _median_seconds(lambda: gpumath.conv2d(x, w, padding=1), x, repeat=5)
    ok = err < 1e-4
    print(
        f"conv2d    N{batch} C64 56x56 K64 3x3 float32 via {path}: rel err {err:.1e} "
        f"[{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms, "
        f"{2 * batch * 64 * 56 * 56 * 64 * 9 / seconds / 1e12:.2f} TFLOP/s"
    )
    return ok


def _demo_train() -> bool:
    """Train an MLP on 8x8 digit images (scikit-learn's digits, or synthetic ones without it)."""
    from gpumath import nn
    from gpumath import random as gm_random

    rng = np.random.default_rng(0)
    try:
        from sklearn.datasets import load_digits

        images, labels = load_digits(return_X_y=True)
        source = "scikit-learn digits"
    except ImportError:  # scikit-learn is a test extra: make 10 noisy prototype "digits"
        protos = rng.random((10, 64)) * 16
        labels = rng.integers(0, 10, 1800)
        images = np.clip(protos[labels] + rng.normal(0, 4, (1800, 64)), 0, 16)
        source = "synthetic 8x8 digits"
    order = rng.permutation(len(labels))
    images = (images[order] / 16.0).astype(np.float32)
    labels = labels[order].astype(np.int64)
    cut = len(labels) * 3 // 4
    x_train, y_train = gpumath.asarray(images[:cut]), gpumath.asarray(labels[:cut])
    x_test, y_test = gpumath.asarray(images[cut:]), gpumath.asarray(labels[cut:])
    device_rng = gm_random.default_rng(1, device=gpumath.device_of(x_train))
    start = time.perf_counter()
    model, _ = nn.train_mlp(x_train, y_train, 10, device_rng, hidden=(128,), epochs=20)
    seconds = time.perf_counter() - start
    acc = nn.accuracy(model, x_test, y_test)
    ok = acc >= 0.95
    print(
        f"train     MLP 64-128-10 on {source} (autodiff + Adam, 20 epochs): "
        f"test accuracy {acc:.3f} [{'ok' if ok else 'FAILED'}], {seconds:.2f} s"
    )
    return ok


def _demo_logistic() -> bool:
    """Logistic regression on breast cancer (scikit-learn's, or synthetic data without it)."""
    from gpumath.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    try:
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        source = "breast cancer 569x30 (scikit-learn)"
    except ImportError:  # scikit-learn is a test extra: two overlapping Gaussian classes
        y = rng.integers(0, 2, 569)
        X = rng.standard_normal((569, 30)) + 0.8 * y[:, None]
        source = "synthetic 569x30 (scikit-learn not installed)"
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    cut = len(y) * 3 // 4
    mean, std = X[:cut].mean(axis=0), X[:cut].std(axis=0)
    X = (X - mean) / std
    x_train, y_train = gpumath.asarray(X[:cut]), gpumath.asarray(y[:cut])
    start = time.perf_counter()
    clf = LogisticRegression(tol=1e-8, max_iter=1000).fit(x_train, y_train)
    seconds = time.perf_counter() - start
    pred = gpumath.to_numpy(clf.predict(gpumath.asarray(X[cut:])))
    proba = gpumath.to_numpy(clf.predict_proba(gpumath.asarray(X[cut:])))[:, 1]
    truth = y[cut:]
    tp, fp = np.sum((pred == 1) & (truth == 1)), np.sum((pred == 1) & (truth == 0))
    fn = np.sum((pred == 0) & (truth == 1))
    precision, recall = tp / max(tp + fp, 1), tp / max(tp + fn, 1)
    f1 = 2 * precision * recall / max(precision + recall, 1e-12)
    p = np.clip(proba, 1e-15, 1 - 1e-15)
    log_loss = -np.mean(truth * np.log(p) + (1 - truth) * np.log1p(-p))
    acc = np.mean(pred == truth)
    ok = acc >= 0.9
    try:
        from sklearn.linear_model import LogisticRegression as SkLogistic

        ref = SkLogistic(tol=1e-10, max_iter=1000).fit(X[:cut], y[:cut]).coef_
        err = np.linalg.norm(gpumath.to_numpy(clf.coef_) - ref) / np.linalg.norm(ref)
        ok = ok and err < 1e-4
        versus = f"coef rel err {err:.1e} vs scikit-learn"
    except ImportError:
        versus = "no scikit-learn to compare coefficients"
    print(
        f"logistic  {source}, lbfgs: test accuracy {acc:.3f}, precision {precision:.3f}, "
        f"recall {recall:.3f}, F1 {f1:.3f}, log loss {log_loss:.3f}, {versus} "
        f"[{'ok' if ok else 'FAILED'}], fit {seconds * 1e3:.1f} ms"
    )
    return ok


def _demo_glm() -> bool:
    """Poisson GLM (IRLS) on statsmodels' cpunish counts (synthetic counts without it)."""
    from gpumath.linear_model import GLM

    try:
        from statsmodels.datasets import cpunish

        data = cpunish.load_pandas()
        X = data.exog.to_numpy(dtype=float)
        X[:, 3] = np.log(X[:, 3])  # log(income), as in statsmodels' own example
        y = data.endog.to_numpy(dtype=float)
        source = "cpunish executions 17x6 (statsmodels)"
    except ImportError:  # statsmodels is a test extra: counts from a known log-linear model
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200, 3))
        y = rng.poisson(np.exp(0.5 + X @ [0.4, -0.3, 0.2])).astype(float)
        source = "synthetic counts 200x3 (statsmodels not installed)"
    model = GLM(family="poisson").fit(gpumath.asarray(X), gpumath.asarray(y))
    s = model.summary()
    mu = gpumath.to_numpy(model.predict(gpumath.asarray(X)))
    # The Poisson score equations X1^T (y - mu) = 0 hold at the maximum likelihood.
    X1 = np.column_stack([np.ones(len(y)), X])
    score = np.abs(X1.T @ (y - mu)).max() / np.abs(X1.T @ y).max()
    null = 2 * np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / y.mean()), 0))
    ok = score < 1e-8 and s.deviance < null
    try:
        import statsmodels.api as sm

        ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-12)
        err = np.max(np.abs(s.bse - ref.bse) / ref.bse)
        ok = ok and err < 1e-5
        versus = f"std err rel err {err:.1e} vs statsmodels"
    except ImportError:
        versus = "no statsmodels to compare"
    significant = int(np.sum(s.pvalues < 0.05))
    print(
        f"glm       Poisson/log on {source} (IRLS): deviance {s.deviance:.3f} (null "
        f"{null:.3f}), {significant}/{len(s.params)} coefficients with p < 0.05, {versus} "
        f"[{'ok' if ok else 'FAILED'}]"
    )
    return ok


def _median_seconds(fn, x, repeat: int = 20) -> float:
    sync = (lambda: None) if gpumath.device_of(x) == "cpu" else _cuda_sync
    fn()
    times = []
    for _ in range(repeat):
        sync()
        start = time.perf_counter()
        fn()
        sync()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def _cuda_sync() -> None:
    import cupy

    cupy.cuda.get_current_stream().synchronize()


def cmd_demo(args: argparse.Namespace) -> int:
    """A short tour of every layer that exists, on the current device, checked and timed."""
    info = gpumath.device_info()
    print(f"gpumath {gpumath.__version__} on {info['device']} ({info['device_name']})")
    if info["backend"] == "cpu":
        print(f"  CUDA not used: {info['cuda_unavailable_reason']}")
    checks = [
        _demo_clip(args.size),
        _demo_matmul(args.matmul_size),
        _demo_conv(),
        _demo_pca(),
        _demo_describe(args.size),
        _demo_montecarlo(),
        _demo_train(),
        _demo_logistic(),
        _demo_glm(),
    ]
    print("demo passed" if all(checks) else "demo FAILED: a result disagreed with NumPy")
    return 0 if all(checks) else 1


def _benchmark_package() -> ModuleType:
    """The benchmarks shipped in the wheel, or those of the source checkout."""
    try:
        return importlib.import_module("gpumath.benchmarks")
    except ImportError:
        root = Path(gpumath.__file__).resolve().parent.parent
        if not (root / "benchmarks" / "harness.py").is_file():
            raise SystemExit("no benchmarks found beside the package") from None
        sys.path.insert(0, str(root))
        return importlib.import_module("benchmarks")


def cmd_bench(args: argparse.Namespace) -> int:
    """Run every ``bench_*`` module on the current device; print and save one table."""
    package = _benchmark_package()
    harness = importlib.import_module(f"{package.__name__}.harness")
    info = gpumath.device_info()
    device = info["device"]
    if device == "cpu":
        xp = np
    else:
        import cupy as xp
    ctx = harness.Context(device=device, quick=args.quick, xp=xp)
    ctx.ceilings = harness.measure_ceilings(ctx)
    rows = []
    names = sorted(m.name for m in pkgutil.iter_modules(package.__path__))
    for name in names:
        if name.startswith("bench_") and (not args.only or name[6:] in args.only):
            module = importlib.import_module(f"{package.__name__}.{name}")
            rows.extend(module.run(ctx))
    table = harness.format_table(rows, ctx.ceilings, f"{info['device_name']} ({device})")
    print(table)
    out_dir = args.out or Path(package.__path__[0]) / "results"
    json_path, md_path = harness.write_results(out_dir, rows, ctx.ceilings, info, table)
    print(f"\nwritten: {md_path} and {json_path.name}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gpumath", description=gpumath.__doc__)
    parser.add_argument("--device", help="device for this command: auto, cpu, cuda, cuda:N")
    sub = parser.add_subparsers(dest="command", required=True)
    info = sub.add_parser("info", help="report the device and why CUDA is or is not used")
    info.add_argument("--json", action="store_true")
    info.set_defaults(fn=cmd_info)
    demo = sub.add_parser("demo", help="a checked, timed tour of gpumath on the device")
    demo.add_argument("--size", type=int, default=10_000_000, help="elements for clip")
    demo.add_argument("--matmul-size", type=int, default=1024, help="n for n x n matmul")
    demo.set_defaults(fn=cmd_demo)
    bench = sub.add_parser("bench", help="benchmarks: ours against the vendor library")
    bench.add_argument("--quick", action="store_true", help="smaller inputs, fewer repeats")
    bench.add_argument("--only", nargs="*", help="families to run, e.g. clip matmul")
    bench.add_argument("--out", type=Path, help="results folder (default benchmarks/results)")
    bench.set_defaults(fn=cmd_bench)
    check = sub.add_parser("check-kernels", help="nvcc compile check of kernels/*.cu")
    _compile_check.add_arguments(check)
    check.set_defaults(fn=_compile_check.run)
    args = parser.parse_args(argv)
    if args.device:
        gpumath.set_device(args.device)
    return args.fn(args)


if __name__ == "__main__":
    sys.exit(main())
