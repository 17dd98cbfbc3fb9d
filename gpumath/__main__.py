"""Command line: ``python -m gpumath info | demo | bench | check-kernels``."""

from __future__ import annotations

import argparse
import importlib
import json
import pkgutil
import sys
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


def cmd_demo(args: argparse.Namespace) -> int:
    """A short tour of every layer, on the current device, checked and timed."""
    from ._demo import run

    return run(args.size, args.matmul_size)


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
