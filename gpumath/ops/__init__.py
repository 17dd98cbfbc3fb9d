"""Kernel-backed primitives, one family per module (DESIGN.md §3)."""

from .clip import clip
from .clip_norm import clip_by_global_norm, clip_by_norm
from .conv import conv2d, conv2d_backward, conv3d, conv3d_backward
from .linear import linear
from .matmul import matmul

__all__ = [
    "clip",
    "clip_by_global_norm",
    "clip_by_norm",
    "conv2d",
    "conv2d_backward",
    "conv3d",
    "conv3d_backward",
    "linear",
    "matmul",
]
