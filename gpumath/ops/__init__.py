"""Kernel-backed primitives, one family per module (DESIGN.md §3)."""

from .clip import clip
from .matmul import matmul

__all__ = ["clip", "matmul"]
