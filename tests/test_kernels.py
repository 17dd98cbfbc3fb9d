"""The kernel loader (gpumath/_kernels.py): finding, inlining, compiling, launching."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from gpumath import _kernels
from gpumath._kernels import KernelError


def test_kernel_sources_are_found_and_headers_inlined():
    src = _kernels.kernel_source("clip")
    assert 'extern "C" __global__ void gm_clip_f32' in src
    assert "#include" not in src  # common.cuh was inlined, so CuPy's cache key covers it
    assert "gm_global_thread_index" in src


def test_missing_family_names_it():
    with pytest.raises(KernelError, match="no kernel family 'nope'"):
        _kernels.kernel_source("nope")


def test_missing_header_names_it(tmp_path, monkeypatch):
    (tmp_path / "common.cuh").write_text("#pragma once\n")
    (tmp_path / "bad.cu").write_text('#include "missing.cuh"\n')
    monkeypatch.setattr(_kernels, "_CANDIDATE_DIRS", (tmp_path,))
    with pytest.raises(KernelError, match="bad.cu: included header 'missing.cuh' not found"):
        _kernels.kernel_source("bad")


def test_each_header_is_inlined_once(tmp_path, monkeypatch):
    (tmp_path / "common.cuh").write_text("#pragma once\nint shared_symbol;\n")
    (tmp_path / "two.cu").write_text('#include "common.cuh"\n#include "common.cuh"\n')
    monkeypatch.setattr(_kernels, "_CANDIDATE_DIRS", (tmp_path,))
    assert _kernels.kernel_source("two").count("int shared_symbol;") == 1


def test_compiles_once_across_threads(gpu):
    results = []
    threads = [
        threading.Thread(target=lambda: results.append(_kernels.get_kernel("clip", "gm_clip_f32")))
        for _ in range(4)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    modules = {id(_kernels._modules[k]) for k in _kernels._modules if k[0] == "clip"}
    assert len(results) == 4 and len(modules) == 1


def test_compile_error_names_file_and_kernel(gpu, tmp_path, monkeypatch):
    (tmp_path / "common.cuh").write_text("#pragma once\n")
    (tmp_path / "broken.cu").write_text(
        'extern "C" __global__ void gm_broken(float* x) { x[0] = y; }'
    )
    monkeypatch.setattr(_kernels, "_CANDIDATE_DIRS", (tmp_path,))
    with pytest.raises(
        KernelError, match=r"kernels/broken.cu failed to compile \(asked for gm_broken"
    ):
        _kernels.get_kernel("broken", "gm_broken")


def test_unknown_kernel_name(gpu):
    with pytest.raises(KernelError, match="no usable kernel 'gm_nope'"):
        _kernels.get_kernel("clip", "gm_nope")


def test_launch_error_names_op_and_kernel(gpu):
    kernel = _kernels.get_kernel("clip", "gm_clip_f32")
    x = gpu.ones(4, dtype=np.float32)
    with pytest.raises(KernelError, match=r"clip: launching gm_clip_f32 .* on \(4,\) failed"):
        # 4096 threads per block exceeds every GPU's limit: an invalid launch, not a fault.
        _kernels.launch(
            kernel,
            (1,),
            (4096,),
            (x, x, np.float32(0), np.float32(1), np.int64(4)),
            op="clip",
            shapes="(4,)",
        )
