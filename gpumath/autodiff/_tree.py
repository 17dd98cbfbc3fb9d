"""Nested lists, tuples and dicts of arrays ("trees"): flatten, rebuild, map."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

__all__ = ["tree_flatten", "tree_leaves", "tree_map", "tree_unflatten"]

_LEAF = None


def tree_flatten(tree: Any) -> tuple[list[Any], Any]:
    """Leaves of ``tree`` in order, and a definition to rebuild it from new leaves.

    Examples
    --------
    >>> from gpumath.autodiff._tree import tree_flatten, tree_unflatten
    >>> leaves, spec = tree_flatten({"w": [1, 2], "b": 3})
    >>> leaves, tree_unflatten(spec, [4, 5, 6])
    ([3, 1, 2], {'b': 4, 'w': [5, 6]})
    """
    leaves: list[Any] = []
    return leaves, _flatten(tree, leaves)


def _flatten(tree: Any, leaves: list[Any]) -> Any:
    if isinstance(tree, dict):
        keys = sorted(tree)
        return ("dict", keys, [_flatten(tree[k], leaves) for k in keys])
    if isinstance(tree, list):
        return ("list", None, [_flatten(t, leaves) for t in tree])
    if isinstance(tree, tuple) and not hasattr(tree, "_fields"):
        return ("tuple", None, [_flatten(t, leaves) for t in tree])
    leaves.append(tree)
    return _LEAF


def tree_unflatten(spec: Any, leaves: list[Any]) -> Any:
    """Rebuild the tree described by ``spec`` with ``leaves`` in order."""
    it = iter(leaves)
    return _unflatten(spec, it)


def _unflatten(spec: Any, it: Any) -> Any:
    if spec is _LEAF:
        return next(it)
    kind, keys, children = spec
    built = [_unflatten(c, it) for c in children]
    if kind == "dict":
        return dict(zip(keys, built, strict=True))
    return built if kind == "list" else tuple(built)


def tree_leaves(tree: Any) -> list[Any]:
    """The leaves of ``tree`` in order."""
    return tree_flatten(tree)[0]


def flatten_alike(
    tree: Any, *rest: Any, what: str = "the trees must have one structure"
) -> tuple[list[Any], Any, list[list[Any]]]:
    """``(leaves, spec)`` of ``tree`` and the leaves of each of ``rest``, which must have
    ``tree``'s structure: ValueError ``"{what}; got <tree> and <other>"`` otherwise."""
    leaves, spec = tree_flatten(tree)
    others = []
    for r in rest:
        r_leaves, r_spec = tree_flatten(r)
        # Equal leaf counts are not enough: {"w": .} and {"v": .} would pair silently.
        if r_spec != spec:
            raise ValueError(f"{what}; got {describe(tree)} and {describe(r)}")
        others.append(r_leaves)
    return leaves, spec, others


def tree_map(fn: Callable[..., Any], tree: Any, *rest: Any) -> Any:
    """Apply ``fn`` leafwise to ``tree`` and trees of the same structure."""
    leaves, spec, others = flatten_alike(tree, *rest)
    return tree_unflatten(spec, [fn(*xs) for xs in zip(leaves, *others, strict=True)])


def describe(tree: Any) -> str:
    """The structure of ``tree`` with each leaf shown by its shape (for error messages)."""
    leaves, spec = tree_flatten(tree)
    return repr(tree_unflatten(spec, [_Leaf(x) for x in leaves]))


class _Leaf:
    """A leaf placeholder whose repr is the leaf's shape, or its type if it has none."""

    def __init__(self, leaf: Any) -> None:
        shape = getattr(leaf, "shape", None)
        self.text = f"shape {tuple(shape)}" if shape is not None else type(leaf).__name__

    def __repr__(self) -> str:
        return f"<{self.text}>"
