"""python -m gpumath info | demo | bench."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest


def gpumath_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "gpumath", *args],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        check=False,
        timeout=600,
    )


def test_info_on_cpu_says_why_cuda_is_not_used():
    proc = gpumath_cli("--device", "cpu", "info", "--json")
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    assert info["backend"] == "cpu"
    assert info["cuda_unavailable_reason"]


def test_info_auto_reports_a_backend():
    proc = gpumath_cli("info")
    assert proc.returncode == 0, proc.stderr
    assert "backend" in proc.stdout and "cuda_unavailable_reason" in proc.stdout


def test_demo_passes_on_cpu():
    proc = gpumath_cli("--device", "cpu", "demo", "--size", "100000", "--matmul-size", "129")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for op in ("clip", "matmul"):
        assert any(line.startswith(op) and "[ok]" in line for line in proc.stdout.splitlines())
    assert "demo passed" in proc.stdout


def test_bad_device_flag_is_reported():
    proc = gpumath_cli("--device", "tpu", "info")
    assert proc.returncode != 0
    assert "`device` must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'tpu'" in proc.stderr


def test_bench_quick_writes_table_and_results(tmp_path):
    proc = gpumath_cli(
        "--device", "cpu", "bench", "--quick", "--only", "clip", "--out", str(tmp_path)
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "| clip |" in proc.stdout and "copy" in proc.stdout
    [result] = list(tmp_path.glob("*.json"))
    payload = json.loads(result.read_text())
    assert payload["ceilings"]["copy_GBps"] > 0 and payload["ceilings"]["matmul_TFLOPs"] > 0
    rows = payload["rows"]
    assert {r["case"].split()[1] for r in rows} == {"float32", "float64"}
    for row in rows:
        assert row["max_rel_err"] == 0.0  # clip is exact
        assert row["ours_ms"] > 0 and row["vendor_ms"] > 0
    assert list(tmp_path.glob("*.md"))


@pytest.mark.gpu
def test_demo_on_gpu(gpu):
    proc = gpumath_cli("--device", "cuda", "demo")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "our CUDA kernel" in proc.stdout and "our tiled kernel" in proc.stdout
