"""The nvcc compile check: real kernels pass, planted warnings and spills fail."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest

from gpumath import _compile_check
from gpumath._kernels import kernel_dir


@pytest.fixture(scope="module")
def nvcc():
    """nvcc, or a skip; in CI (GPUMATH_REQUIRE_NVCC=1) a missing nvcc fails instead."""
    found = _compile_check.find_nvcc()
    if found is None:
        if os.environ.get("GPUMATH_REQUIRE_NVCC") == "1":
            pytest.fail("GPUMATH_REQUIRE_NVCC=1 but nvcc is not on PATH or in $CUDA_HOME/bin")
        pytest.skip("nvcc not found")
    return found


def test_every_kernel_compiles_cleanly(nvcc):
    report = _compile_check.check_kernels(nvcc=nvcc)
    assert report.ok, _compile_check.format_report(report)
    files = {p.name for p in kernel_dir().glob("*.cu")}
    assert {u.file for u in report.usages} == files
    checked = set(_compile_check.ARCHS) - set(report.skipped_archs)
    assert checked, "no architecture could be checked"
    assert {u.arch for u in report.usages} == checked
    assert all(u.registers > 0 for u in report.usages)


def _planted(tmp_path, body: str):
    shutil.copy(kernel_dir() / "common.cuh", tmp_path / "common.cuh")
    (tmp_path / "planted.cu").write_text('#include "common.cuh"\n' + body)
    return tmp_path


def test_planted_warning_fails(nvcc, tmp_path):
    folder = _planted(
        tmp_path,
        'extern "C" __global__ void gm_planted(float* x) {\n'
        "    int never_used = 3;\n"
        "    x[threadIdx.x] = 1.0f;\n"
        "}\n",
    )
    report = _compile_check.check_kernels(folder, archs=("sm_90",), nvcc=nvcc)
    assert not report.ok
    assert "planted.cu [sm_90]: warnings" in report.problems[0]
    assert "never_used" in report.problems[0]


def test_planted_compile_error_fails(nvcc, tmp_path):
    folder = _planted(tmp_path, 'extern "C" __global__ void gm_planted(float* x) { x[0] = y; }\n')
    report = _compile_check.check_kernels(folder, archs=("sm_90",), nvcc=nvcc)
    assert not report.ok
    assert "planted.cu [sm_90]: nvcc failed" in report.problems[0]


def test_cli_exit_status_follows_the_report(nvcc, tmp_path):
    folder = _planted(
        tmp_path, 'extern "C" __global__ void gm_planted(float* x) { int unused = 1; }\n'
    )
    bad = subprocess.run(
        [sys.executable, "-m", "gpumath", "check-kernels", "--kernel-dir", str(folder)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert bad.returncode == 1 and "FAILED" in bad.stdout
    good = subprocess.run(
        [sys.executable, "-m", "gpumath", "check-kernels"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert good.returncode == 0, good.stdout + good.stderr
    assert "gm_clip_f32" in good.stdout


PTXAS_SAMPLE = """\
ptxas info    : Compiling entry function 'gm_tile' for 'sm_90'
ptxas info    : Function properties for gm_tile
    8 bytes stack frame, 12 bytes spill stores, 16 bytes spill loads
ptxas info    : Used 255 registers, used 1 barriers, 8192 bytes smem, 400 bytes cmem[0]
ptxas info    : Compiling entry function 'gm_small' for 'sm_90'
ptxas info    : Function properties for gm_small
    0 bytes stack frame, 0 bytes spill stores, 0 bytes spill loads
ptxas info    : Used 12 registers, used 0 barriers, 384 bytes cmem[0]
"""


def test_ptxas_report_is_parsed():
    usages = {u.kernel: u for u in _compile_check._parse_ptxas(PTXAS_SAMPLE, "t.cu", "sm_90")}
    assert usages["gm_tile"].registers == 255
    assert usages["gm_tile"].shared_bytes == 8192
    assert (usages["gm_tile"].spill_store_bytes, usages["gm_tile"].spill_load_bytes) == (12, 16)
    assert usages["gm_small"].registers == 12 and usages["gm_small"].shared_bytes == 0


def test_missing_nvcc_fails_when_required(monkeypatch, capsys):
    monkeypatch.setattr(_compile_check, "find_nvcc", lambda: None)
    assert _compile_check.main(["--require-nvcc"]) == 1
    monkeypatch.delenv("GPUMATH_REQUIRE_NVCC", raising=False)
    assert _compile_check.main([]) == 0
    assert "compile check not run: nvcc not found" in capsys.readouterr().out
