"""The wheel carries the kernels; README, CI and Dockerfiles say what they must."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(cmd, cwd=None):
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False, timeout=900)
    assert proc.returncode == 0, f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}"
    return proc.stdout


@pytest.mark.slow
def test_wheel_installs_in_fresh_venv_and_finds_kernels(tmp_path):
    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(dist), str(ROOT)])
    [wheel] = list(dist.glob("gpumath-*.whl"))
    env_dir = tmp_path / "env"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    _run([str(python), "-m", "pip", "install", "-q", str(wheel)])
    probe = (
        "import gpumath, gpumath._kernels as k; "
        "print(k.kernel_dir()); print(len(k.kernel_source('clip')))"
    )
    out = _run([str(python), "-c", probe], cwd=tmp_path).split()
    assert str(env_dir) in out[0], f"kernels found outside the installed package: {out[0]}"
    assert int(out[1]) > 100
    demo = _run(
        [str(python), "-m", "gpumath", "--device", "cpu", "demo", "--size", "1000"], cwd=tmp_path
    )
    assert "demo passed" in demo


def readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text()
    block = re.search(r"^```[^\n]*\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
    assert block, "README has no fenced code block"
    return [line for line in block.group(1).splitlines()]


def test_readme_starts_with_exactly_two_commands():
    demo, tests = readme_commands()
    assert demo.endswith("python -m gpumath demo")
    assert "pip install" in tests and "[test" in tests and tests.endswith("python -m pytest")
    assert "cuda12" in tests  # CI exercises CuPy installed without a GPU


def test_ci_runs_the_readme_test_command_and_compile_check():
    script = (ROOT / ".ci" / "run").read_text()
    assert "README.md" in script and "sed -n 2p" in script
    assert "GPUMATH_REQUIRE_NVCC=1" in script
    assert "check-kernels" in script


def _dockerfile(name: str) -> list[tuple[str, str]]:
    """Parse a Dockerfile into (INSTRUCTION, arguments), joining continuation lines."""
    text = (ROOT / "docker" / name).read_text().replace("\\\n", " ")
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


@pytest.mark.parametrize(
    "name, base, extra",
    [
        ("Dockerfile", r"nvidia/cuda:12\.\d+\.\d+-\w+", "cuda12"),
        ("Dockerfile.cpu", r"python:3\.1\d\.\d+", None),
    ],
)
def test_dockerfile(name, base, extra):
    steps = _dockerfile(name)
    assert steps[0][0] == "FROM"
    image = steps[0][1]
    assert re.fullmatch(base + r"[\w.-]*", image), f"base image not pinned to a version: {image}"
    assert "latest" not in image
    runs = " ".join(args for instr, args in steps if instr == "RUN")
    assert re.search(r"pip install \"?\.(\[[\w,]+\])?", runs), "the package is not installed"
    if extra:
        assert f"[{extra}]" in runs
    copied = " ".join(args for instr, args in steps if instr == "COPY")
    for path in ("pyproject.toml", "gpumath", "kernels"):
        assert path in copied
    instr, cmd = steps[-1]
    assert instr == "CMD" and cmd == '["python", "-m", "gpumath", "info"]'
