"""Kernel-backed primitives, one family per module (DESIGN.md §3)."""

from .clip import clip

__all__ = ["clip"]
