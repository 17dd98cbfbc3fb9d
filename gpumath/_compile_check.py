"""Compile every ``kernels/*.cu`` with nvcc for the GPUs we support; fail on warnings or spills.

Run as ``python -m gpumath check-kernels`` (or call :func:`check_kernels`). For each file and
architecture it runs ``nvcc -cubin -Xptxas -v`` and records, per kernel, the registers,
static shared memory and spill bytes that ptxas reports. A file fails when nvcc exits
non-zero, prints a warning, or any kernel spills registers to local memory.

An architecture this nvcc cannot target (CUDA 13 dropped sm_70) is reported as skipped with
the reason, not silently passed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path

__all__ = ["ARCHS", "CheckReport", "KernelUsage", "check_kernels", "format_report"]

ARCHS = ("sm_70", "sm_80", "sm_90")
# NVRTC (our runtime compiler) gets the same language level, so both see the same code.
NVCC_FLAGS = ("-std=c++17", "-Xptxas", "-v", "-cubin")

_ENTRY_RE = re.compile(r"Compiling entry function '(\w+)' for '(sm_\w+)'")
_PROPS_RE = re.compile(r"Function properties for (\w+)")
_SPILL_RE = re.compile(r"(\d+) bytes spill stores, (\d+) bytes spill loads")
_USED_RE = re.compile(r"Used (\d+) registers(?:.*?(\d+) bytes smem)?")
_WARNING_RE = re.compile(r"warning", re.IGNORECASE)


@dataclass
class KernelUsage:
    """Resources ptxas reports for one kernel on one architecture."""

    file: str
    arch: str
    kernel: str
    registers: int = 0
    shared_bytes: int = 0
    spill_store_bytes: int = 0
    spill_load_bytes: int = 0


@dataclass
class CheckReport:
    """Everything one compile check found."""

    nvcc_version: str
    usages: list[KernelUsage] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    skipped_archs: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)


def find_nvcc() -> str | None:
    """Return the nvcc executable (PATH, then $CUDA_HOME/bin), or None."""
    found = shutil.which("nvcc")
    if found:
        return found
    home = os.environ.get("CUDA_HOME") or os.environ.get("CUDA_PATH")
    candidate = Path(home, "bin", "nvcc") if home else None
    return str(candidate) if candidate and candidate.is_file() else None


def _supported_archs(nvcc: str) -> set[str]:
    out = subprocess.run([nvcc, "--list-gpu-arch"], capture_output=True, text=True, check=False)
    return {line.replace("compute_", "sm_").strip() for line in out.stdout.split()}


def _nvcc_version(nvcc: str) -> str:
    out = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=False)
    match = re.search(r"release ([\d.]+)", out.stdout)
    return match.group(1) if match else "unknown"


def _parse_ptxas(text: str, file: str, arch: str) -> list[KernelUsage]:
    """Turn ``-Xptxas -v`` output into one KernelUsage per kernel."""
    usages: dict[str, KernelUsage] = {}
    current: KernelUsage | None = None
    for line in text.splitlines():
        if m := _ENTRY_RE.search(line) or _PROPS_RE.search(line):
            name = m.group(1)
            current = usages.setdefault(name, KernelUsage(file, arch, name))
        elif current is not None and (m := _SPILL_RE.search(line)):
            current.spill_store_bytes, current.spill_load_bytes = int(m[1]), int(m[2])
        elif current is not None and (m := _USED_RE.search(line)):
            current.registers = int(m[1])
            current.shared_bytes = int(m[2] or 0)
    return list(usages.values())


def _check_one(nvcc: str, path: Path, arch: str, tmp: Path) -> tuple[list[KernelUsage], list[str]]:
    cubin = tmp / f"{path.stem}.{arch}.cubin"
    cmd = [nvcc, *NVCC_FLAGS, f"-arch={arch}", f"-I{path.parent}", "-o", str(cubin), str(path)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    text = proc.stdout + proc.stderr
    usages = _parse_ptxas(text, path.name, arch)
    problems = []
    if proc.returncode != 0:
        problems.append(f"{path.name} [{arch}]: nvcc failed (exit {proc.returncode}):\n{text}")
    warnings = [line for line in text.splitlines() if _WARNING_RE.search(line)]
    if warnings:
        problems.append(f"{path.name} [{arch}]: warnings:\n" + "\n".join(warnings))
    for u in usages:
        if u.spill_store_bytes or u.spill_load_bytes:
            problems.append(
                f"{path.name} [{arch}]: {u.kernel} spills registers "
                f"({u.spill_store_bytes} B stores, {u.spill_load_bytes} B loads)"
            )
    return usages, problems


def check_kernels(
    kernel_dir: Path | None = None, archs: tuple[str, ...] = ARCHS, nvcc: str | None = None
) -> CheckReport:
    """Compile every ``.cu`` file in ``kernel_dir`` for ``archs`` and collect the findings.

    Raises
    ------
    FileNotFoundError
        If nvcc cannot be found.
    """
    import tempfile

    from ._kernels import kernel_dir as default_kernel_dir

    nvcc = nvcc or find_nvcc()
    if nvcc is None:
        raise FileNotFoundError("nvcc not found on PATH or in $CUDA_HOME/bin")
    folder = Path(kernel_dir) if kernel_dir is not None else default_kernel_dir()
    report = CheckReport(nvcc_version=_nvcc_version(nvcc))
    supported = _supported_archs(nvcc)
    usable = []
    for arch in archs:
        if arch in supported:
            usable.append(arch)
        else:
            report.skipped_archs[arch] = f"nvcc {report.nvcc_version} cannot target {arch}"
    sources = sorted(folder.glob("*.cu"))
    if not sources:
        report.problems.append(f"no .cu files in {folder}")
    with tempfile.TemporaryDirectory() as tmp, ThreadPoolExecutor(os.cpu_count() or 2) as pool:
        jobs = [pool.submit(_check_one, nvcc, s, a, Path(tmp)) for s in sources for a in usable]
        for job in jobs:
            usages, problems = job.result()
            report.usages.extend(usages)
            report.problems.extend(problems)
    return report


def format_report(report: CheckReport) -> str:
    """Render a report as a plain-text table plus its problems."""
    lines = [f"nvcc {report.nvcc_version}", ""]
    lines.append(
        f"{'file':<16} {'arch':<6} {'kernel':<32} {'regs':>5} {'smem B':>7} {'spill B':>8}"
    )
    for u in sorted(report.usages, key=lambda u: (u.file, u.kernel, u.arch)):
        spill = u.spill_store_bytes + u.spill_load_bytes
        lines.append(
            f"{u.file:<16} {u.arch:<6} {u.kernel:<32} {u.registers:>5} "
            f"{u.shared_bytes:>7} {spill:>6}"
        )
    for arch, why in report.skipped_archs.items():
        lines.append(f"SKIPPED {arch}: {why}")
    lines.append("")
    lines.append("OK: no errors, warnings or spills" if report.ok else "FAILED:")
    lines.extend(report.problems)
    return "\n".join(lines)


def add_arguments(parser) -> None:
    """Add the command-line options of the check to an argparse parser."""
    parser.add_argument("--kernel-dir", type=Path, default=None)
    parser.add_argument("--json", type=Path, default=None, help="also write the report here")
    parser.add_argument(
        "--require-nvcc",
        action="store_true",
        default=os.environ.get("GPUMATH_REQUIRE_NVCC") == "1",
        help="fail when nvcc is missing (default from GPUMATH_REQUIRE_NVCC=1, set in CI)",
    )


def run(args) -> int:
    """Print the table; exit status 1 on problems, or when nvcc is required and absent."""
    try:
        report = check_kernels(args.kernel_dir)
    except FileNotFoundError as exc:
        print(f"compile check not run: {exc}")
        return 1 if args.require_nvcc else 0
    print(format_report(report))
    if args.json is not None:
        args.json.write_text(report.to_json())
    return 0 if report.ok else 1


def main(argv: list[str] | None = None) -> int:
    """Command-line entry (also ``python -m gpumath check-kernels``)."""
    import argparse

    parser = argparse.ArgumentParser(prog="gpumath check-kernels", description=__doc__)
    add_arguments(parser)
    return run(parser.parse_args(argv))
