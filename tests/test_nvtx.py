"""NVTX ranges: present when asked for and available, free otherwise."""

from __future__ import annotations

import sys
from types import SimpleNamespace

from gpumath import _nvtx


def f(x):
    return x + 1


def test_disabled_returns_the_function_itself(monkeypatch):
    monkeypatch.delenv("GPUMATH_NVTX", raising=False)
    assert _nvtx.annotate("gpumath.f")(f) is f


def test_enabled_without_nvtx_returns_the_function_itself(monkeypatch):
    monkeypatch.setenv("GPUMATH_NVTX", "1")
    monkeypatch.setitem(sys.modules, "nvtx", None)  # import nvtx raises ImportError
    assert _nvtx.annotate("gpumath.f")(f) is f


def test_enabled_with_nvtx_wraps_in_a_named_range(monkeypatch):
    ranges = []

    def annotate(message, domain):
        def decorator(fn):
            def wrapper(*args, **kwargs):
                ranges.append((domain, message))
                return fn(*args, **kwargs)

            return wrapper

        return decorator

    monkeypatch.setenv("GPUMATH_NVTX", "1")
    monkeypatch.setitem(sys.modules, "nvtx", SimpleNamespace(annotate=annotate))
    wrapped = _nvtx.annotate("gpumath.f")(f)
    assert wrapped(1) == 2
    assert ranges == [("gpumath", "gpumath.f")]
