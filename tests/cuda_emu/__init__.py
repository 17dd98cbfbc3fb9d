"""Kernel emulation lane: run kernels/*.cu on the CPU (see runner.py and cuda_emu.h)."""

from .runner import (
    EmuCompileError,
    EmuDeadlockError,
    EmuError,
    EmuLaunchError,
    EmuMemoryError,
    EmuOutOfBoundsError,
    EmuRaceError,
    EmuTimeoutError,
    EmuTrapError,
    EmuWarpError,
    all_kernels,
    emu_launch,
    kernels_in,
    load,
)

__all__ = [
    "EmuCompileError",
    "EmuDeadlockError",
    "EmuError",
    "EmuLaunchError",
    "EmuMemoryError",
    "EmuOutOfBoundsError",
    "EmuRaceError",
    "EmuTimeoutError",
    "EmuTrapError",
    "EmuWarpError",
    "all_kernels",
    "emu_launch",
    "kernels_in",
    "load",
]
