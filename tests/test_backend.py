"""Device selection, namespaces and transfers (gpumath/_backend.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from types import SimpleNamespace

import numpy as np
import pytest

import gpumath as gm
from gpumath import _backend, _xp


def run_python(code: str, **env: str) -> subprocess.CompletedProcess:
    """Run ``code`` in a fresh interpreter (import state matters for these tests)."""
    full_env = {**os.environ, **env}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=full_env, check=False
    )


def test_import_does_not_import_cupy():
    proc = run_python("import sys, gpumath; print('cupy' in sys.modules)")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False"


def test_cpu_device_and_context_manager():
    gm.set_device("cpu")
    assert gm.get_device() == "cpu"
    with gm.use_device("cpu") as dev:
        assert dev == "cpu"
        assert gm.get_device() == "cpu"
    x = gm.asarray([1.0, 2.0])
    assert isinstance(x, np.ndarray)


def test_use_device_is_per_thread():
    seen = {}

    def worker():
        seen["thread"] = _backend._context_spec.get()

    with gm.use_device("cpu"):
        t = threading.Thread(target=worker)
        t.start()
        t.join()
        assert _backend._context_spec.get() == "cpu"
    assert seen["thread"] is None  # another thread is not inside this block


def test_environment_variable_selects_device():
    proc = run_python("import gpumath; print(gpumath.get_device())", GPUMATH_DEVICE="cpu")
    assert proc.stdout.strip() == "cpu", proc.stderr


def test_bad_environment_variable_names_it():
    proc = run_python("import gpumath; gpumath.get_device()", GPUMATH_DEVICE="tpu")
    assert proc.returncode != 0
    assert "`GPUMATH_DEVICE` must be 'auto', 'cpu', 'cuda' or 'cuda:N'; got 'tpu'" in proc.stderr


@pytest.mark.parametrize("bad", ["gpu", "cuda:x", "cpu:1", "", "cuda:-1"])
def test_bad_device_string(bad):
    with pytest.raises(ValueError, match="`device` must be 'auto', 'cpu', 'cuda' or 'cuda:N'"):
        gm.set_device(bad)


def test_non_string_device():
    with pytest.raises(TypeError, match="`device` must be a string"):
        gm.set_device(0)


def test_cuda_without_gpu_raises_device_error_with_reason():
    probe = _backend._probe_cuda(0)
    if probe.ok:
        pytest.skip("a GPU answers here; this test is for machines without one")
    with pytest.raises(gm.DeviceError, match="cannot use 'cuda'") as info:
        gm.set_device("cuda")
    assert probe.reason in str(info.value)
    assert gm.get_device() == "cpu"  # the failed call did not change the setting


def test_cuda_without_cupy_says_cupy_is_missing():
    code = (
        "import sys; sys.modules['cupy'] = None\n"
        "import gpumath\n"
        "try:\n    gpumath.set_device('cuda')\n"
        "except gpumath.DeviceError as e:\n    print(e)\n"
        "print(gpumath.device_info()['cuda_unavailable_reason'])"
    )
    proc = run_python(code, GPUMATH_DEVICE="auto")
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.strip().splitlines()
    assert "CuPy is not installed" in lines[0]
    assert "CuPy is not installed" in lines[1]


def _fake_cupy(monkeypatch, runtime):
    fake = SimpleNamespace(cuda=SimpleNamespace(runtime=runtime))
    monkeypatch.setattr(_backend, "_import_cupy", lambda: fake)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)


class _FakeCudaError(Exception):
    def __init__(self, status):
        super().__init__(f"cuda status {status}")
        self.status = status


def test_missing_device_index_message(monkeypatch):
    _fake_cupy(
        monkeypatch, SimpleNamespace(getDeviceCount=lambda: 1, CUDARuntimeError=_FakeCudaError)
    )
    assert _backend._probe_cuda_uncached(3).reason == "no CUDA device 3: 1 device(s) visible"


def test_old_driver_message(monkeypatch):
    def fail():
        raise _FakeCudaError(35)

    runtime = SimpleNamespace(
        getDeviceCount=fail,
        CUDARuntimeError=_FakeCudaError,
        driverGetVersion=lambda: 11080,
        runtimeGetVersion=lambda: 12090,
    )
    _fake_cupy(monkeypatch, runtime)
    reason = _backend._probe_cuda_uncached(0).reason
    assert "the NVIDIA driver is too old: it supports CUDA 11.8, CuPy needs CUDA 12.9" in reason


def test_real_missing_device_index(gpu):
    count = gpu.cuda.runtime.getDeviceCount()
    with pytest.raises(gm.DeviceError, match=f"no CUDA device {count}: {count} device"):
        gm.set_device(f"cuda:{count}")


def test_auto_falls_back_to_cpu_and_says_why():
    if _backend._probe_cuda(0).ok:
        pytest.skip("a GPU answers here")
    with gm.use_device("auto") as dev:
        assert dev == "cpu"
        info = gm.device_info()
    assert info["backend"] == "cpu"
    assert info["requested"] == "auto"
    assert info["cuda_unavailable_reason"]


def test_device_info_keys():
    info = gm.device_info()
    for key in (
        "backend",
        "device",
        "device_name",
        "numpy_version",
        "cupy_version",
        "cuda_runtime_version",
        "cuda_driver_version",
    ):
        assert key in info


def test_asarray_dtype_and_to_numpy():
    x = gm.asarray([1, 2, 3], dtype=np.float32, device="cpu")
    assert x.dtype == np.float32
    np.testing.assert_array_equal(gm.to_numpy(x), [1, 2, 3])
    np.testing.assert_array_equal(gm.to_device(x, "cpu"), x)
    with pytest.raises(TypeError, match="`x` must be a NumPy or CuPy array; got list"):
        gm.to_device([1, 2], "cpu")


def test_array_namespace_rejects_non_arrays():
    with pytest.raises(TypeError, match="expected at least one NumPy or CuPy array; got list"):
        gm.array_namespace([1, 2])


class _FakeGpuArray:
    """Stands in for a cupy.ndarray on machines without a GPU (see monkeypatch below)."""

    __module__ = "cupy"

    def __init__(self, device_id: int):
        self.device = type("Dev", (), {"id": device_id})()


def test_mixing_host_and_gpu_arrays_names_both(monkeypatch):
    monkeypatch.setattr(_backend, "is_cupy_array", lambda x: isinstance(x, _FakeGpuArray))
    with pytest.raises(TypeError) as info:
        gm.array_namespace(np.ones(3), _FakeGpuArray(0))
    message = str(info.value)
    assert "argument 0 is numpy.ndarray on cpu" in message
    assert "argument 1 is cupy._FakeGpuArray on cuda:0" in message
    assert "never copies between host and GPU implicitly" in message


def test_two_gpus_are_not_mixed(monkeypatch):
    monkeypatch.setattr(_backend, "is_cupy_array", lambda x: isinstance(x, _FakeGpuArray))
    with pytest.raises(ValueError, match="argument 0 is on cuda:0, argument 1 is on cuda:1"):
        gm.array_namespace(_FakeGpuArray(0), _FakeGpuArray(1))


def test_real_mixed_namespaces_on_gpu(gpu):
    x = gpu.ones(3)
    with pytest.raises(TypeError, match="inputs mix array libraries"):
        gm.clip(x, np.zeros(3), 1.0)


def test_gpu_round_trip(gpu):
    host = np.arange(5.0)
    with gm.use_device("cuda"):
        x = gm.asarray(host)
    assert isinstance(x, gpu.ndarray)
    assert gm.device_of(x) == "cuda:0"
    np.testing.assert_array_equal(gm.to_numpy(x), host)
    assert isinstance(gm.to_device(x, "cpu"), np.ndarray)
    info = gm.device_info() if gm.get_device() != "cpu" else None
    if info is not None:
        assert info["backend"] == "cuda" and info["compute_capability"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_sign_propagates_nan_like_numpy(xp, rng, dtype):
    host = rng.standard_normal(101).astype(dtype)
    host[[3, 50]] = 0.0
    host[[7, 90]] = np.nan
    host[11] = -np.inf
    got = _xp.sign(xp.asarray(host), _backend.array_namespace(xp.asarray(host)))
    assert got.dtype == dtype
    np.testing.assert_array_equal(gm.to_numpy(got), np.sign(host))  # NaN where NaN
