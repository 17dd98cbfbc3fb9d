"""Kernel-backed primitives, one family per module (DESIGN.md §3)."""

from .clip import clip
from .clip_norm import clip_by_global_norm, clip_by_norm
from .linear import linear
from .matmul import matmul

__all__ = ["clip", "clip_by_global_norm", "clip_by_norm", "linear", "matmul"]
