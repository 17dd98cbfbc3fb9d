"""Shared benchmark machinery: timers, physical ceilings, result rows and report files.

Every benchmark module ``bench_<family>.py`` defines ``run(ctx) -> list[Row]``. A row
times our path and the vendor path on the same inputs in the same run and reports their
ratio next to the device's ceiling (copy bandwidth or peak matmul rate, measured here too,
at the start of the run). Absolute times vary between machines; the ratios are the result.

GPU timings are CUDA-event medians from ``cupyx.profiler.benchmark`` after warm-up; CPU
timings are ``time.perf_counter`` medians. Inputs are fresh random data larger than the
GPU's L2 cache, and outputs are poisoned (filled with NaN) before timing so a kernel that
writes nothing cannot pass its correctness check.
"""

from __future__ import annotations

import datetime as _dt
import json
import statistics
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import gpumath

__all__ = [
    "paired_time_it",
    "wall_time",
    "Context",
    "Row",
    "Ceilings",
    "format_table",
    "measure_ceilings",
    "time_it",
    "write_results",
]


@dataclass
class Ceilings:
    """Physical limits measured in this run: what the hardware can do at best."""

    copy_GBps: float  # bytes read + bytes written per second by a device-to-device copy
    matmul_TFLOPs: float  # vendor float32 GEMM rate at a large square size


@dataclass
class Context:
    """What a benchmark needs to know: where it runs, how long it may take."""

    device: str
    quick: bool
    xp: Any  # numpy or cupy
    ceilings: Ceilings | None = None
    rng: np.random.Generator = field(default_factory=np.random.default_rng)

    @property
    def on_gpu(self) -> bool:
        return self.device != "cpu"

    def random(self, shape: tuple[int, ...], dtype: Any = np.float32) -> Any:
        """Fresh standard-normal data on the benchmark's device (never zeros)."""
        if self.on_gpu:
            return self.xp.random.standard_normal(shape, dtype=np.float32).astype(dtype)
        return self.rng.standard_normal(shape, dtype=np.float32).astype(dtype)

    def sync(self) -> None:
        if self.on_gpu:
            self.xp.cuda.get_current_stream().synchronize()


@dataclass
class Row:
    """One line of the table: our path against the vendor path on one case."""

    op: str
    case: str
    ours_ms: float
    vendor_ms: float
    vendor: str
    rate: float  # our achieved rate in `unit`
    unit: str  # "GB/s" or "TFLOP/s"
    ceiling: float  # the matching ceiling in the same unit
    max_rel_err: float  # our result against the vendor's, checked in this run

    @property
    def speedup(self) -> float:
        """vendor time / our time: above 1 we are faster."""
        return self.vendor_ms / self.ours_ms

    @property
    def of_ceiling(self) -> float:
        return self.rate / self.ceiling if self.ceiling else float("nan")


def time_it(ctx: Context, fn: Callable[[], Any], *, repeat: int | None = None) -> float:
    """Median seconds of ``fn()`` after warm-up (CUDA events on GPU, perf_counter on CPU)."""
    repeat = repeat or (10 if ctx.quick else 50)
    if ctx.on_gpu:
        from cupyx.profiler import benchmark

        def call():  # cupyx's benchmark wants a __name__, which partial objects lack
            return fn()

        result = benchmark(call, n_repeat=repeat, n_warmup=max(3, repeat // 10))
        return float(np.median(result.gpu_times[0]))
    for _ in range(max(2, repeat // 10)):
        fn()
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def paired_time_it(
    ctx: Context, ours: Callable[[], Any], vendor: Callable[[], Any], *, repeat: int | None = None
) -> tuple[float, float]:
    """Median seconds of ``ours()`` and ``vendor()``; on the CPU interleaved call by call."""
    if ctx.on_gpu:  # CUDA-event medians; the GPU does not drift the way a shared CPU does
        return time_it(ctx, ours, repeat=repeat), time_it(ctx, vendor, repeat=repeat)
    repeat = repeat or (10 if ctx.quick else 40)
    for _ in range(2):
        ours()
        vendor()
    times: dict[Callable[[], Any], list[float]] = {ours: [], vendor: []}
    for i in range(repeat):
        for fn in (ours, vendor) if i % 2 == 0 else (vendor, ours):  # alternate who goes first
            start = time.perf_counter()
            fn()
            times[fn].append(time.perf_counter() - start)
    return statistics.median(times[ours]), statistics.median(times[vendor])


def wall_time(
    ctx: Context, fn: Callable[[], Any], *, repeat: int = 20, warmup: bool = True
) -> float:
    """Median wall-clock seconds of ``fn()``, the device synchronised around each call.

    For what CUDA events cannot see: host-side overhead, or whole fits that read results
    back to the host themselves.
    """
    if warmup:
        fn()
    times = []
    for _ in range(repeat):
        ctx.sync()
        start = time.perf_counter()
        fn()
        ctx.sync()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _copy_bandwidth(ctx: Context) -> float:
    """Device-to-device copy rate, read + write bytes: the roof of any elementwise op."""
    # 256 MiB on the GPU (far beyond any L2; --quick shrinks only CPU work, since a smaller
    # GPU input would time launch overhead instead of memory), 64/16 MiB on the CPU.
    mib = 256 if ctx.on_gpu else (16 if ctx.quick else 64)
    src = ctx.random((mib * 2**20 // 4,))
    dst = ctx.xp.empty_like(src)
    if ctx.on_gpu:  # cudaMemcpyAsync, the copy engine path the vendor anchors quote

        def copy():
            dst.data.copy_from_device_async(src.data, src.nbytes)
    else:

        def copy():
            np.copyto(dst, src)

    seconds = time_it(ctx, copy)
    return 2 * src.nbytes / seconds / 1e9


def _matmul_rate(ctx: Context) -> float:
    """Vendor float32 GEMM rate at a size where it is near its peak."""
    n = 4096 if ctx.on_gpu else (512 if ctx.quick else 1024)
    a, b = ctx.random((n, n)), ctx.random((n, n))
    seconds = time_it(ctx, lambda: ctx.xp.matmul(a, b), repeat=20)
    return 2 * n**3 / seconds / 1e12


def measure_ceilings(ctx: Context) -> Ceilings:
    """Measure copy bandwidth and vendor float32 matmul rate on this device, now."""
    return Ceilings(copy_GBps=_copy_bandwidth(ctx), matmul_TFLOPs=_matmul_rate(ctx))


def import_torch(family: str) -> Any:
    """PyTorch for comparison rows, with TF32 off (fp32 against fp32), or None with the
    reason printed: torch is a benchmark-only extra, not a dependency."""
    try:
        import torch
    except ImportError as exc:
        print(f"{family}: torch rows skipped: torch does not import ({exc})")
        return None
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    return torch


def max_rel_err(ours: Any, ref: Any) -> float:
    """‖ours − ref‖ / ‖ref‖ in float64 on the host (DESIGN.md §7); NaN counts as failure."""
    a = gpumath.to_numpy(ours).astype(np.float64).ravel()
    b = gpumath.to_numpy(ref).astype(np.float64).ravel()
    if not np.array_equal(np.isnan(a), np.isnan(b)):
        return float("inf")
    mask = ~np.isnan(b)
    denom = np.linalg.norm(b[mask]) or 1.0
    return float(np.linalg.norm(a[mask] - b[mask]) / denom)


def format_table(rows: list[Row], ceilings: Ceilings, device_name: str) -> str:
    """Markdown table: ours / vendor / ratio / rate against the ceiling."""
    head = [
        f"device: {device_name}; ceilings measured in this run: copy "
        f"{ceilings.copy_GBps:.1f} GB/s (read+write), float32 matmul "
        f"{ceilings.matmul_TFLOPs:.3f} TFLOP/s",
        "",
        "| op | case | ours ms | vendor | vendor ms | vendor/ours | ours rate | of ceiling "
        "| rel err |",
        "|---|---|---:|---|---:|---:|---:|---:|---:|",
    ]
    body = [
        f"| {r.op} | {r.case} | {r.ours_ms:.4f} | {r.vendor} | {r.vendor_ms:.4f} | "
        f"{r.speedup:.2f}x | {r.rate:.1f} {r.unit} | {100 * r.of_ceiling:.0f}% | "
        f"{r.max_rel_err:.1e} |"
        for r in rows
    ]
    return "\n".join(head + body)


def write_results(
    out_dir: Path, rows: list[Row], ceilings: Ceilings, info: dict[str, Any], table: str
) -> tuple[Path, Path]:
    """Write ``<device>.json`` and ``<device>.md`` (dated) under ``out_dir``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    slug = "".join(c if c.isalnum() else "-" for c in str(info.get("device_name", "cpu"))).strip(
        "-"
    )
    slug = slug.lower() or "cpu"
    now = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    payload = {
        "date": now,
        "device_info": info,
        "ceilings": asdict(ceilings),
        "rows": [asdict(r) | {"speedup": r.speedup, "of_ceiling": r.of_ceiling} for r in rows],
    }
    json_path = out_dir / f"{slug}.json"
    md_path = out_dir / f"{slug}.md"
    json_path.write_text(json.dumps(payload, indent=1, default=str))
    md_path.write_text(f"# gpumath benchmarks on {info.get('device_name')}\n\n{now}\n\n{table}\n")
    return json_path, md_path
