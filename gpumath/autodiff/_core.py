"""The traced array type and the reverse sweep: the engine under ``gpumath.autodiff``.

A :class:`Tensor` wraps a backend array (NumPy or CuPy). An op on tensors computes its
result on the raw arrays and, when recording is on and some input needs a gradient, keeps
its inputs (``parents``) and a ``vjp`` closure that maps the output's cotangent to the
inputs' cotangents. The closures are written with tensor ops themselves, so a backward
sweep run with recording on is traced too: that is what makes gradients of gradients work.
"""

from __future__ import annotations

import contextlib
import itertools
import operator
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
from array_api_compat import device as _device

from .._backend import array_namespace

__all__ = ["Tensor", "active", "backward", "lift", "no_record", "recording"]

# A vjp closure: (cotangent, which parents need one) -> one cotangent (or None) per parent.
Vjp = Callable[["Tensor", tuple[bool, ...]], Sequence["Tensor | None"]]

_XP_BY_TYPE: dict[type, Any] = {}
# Single flag for the process: tracing is a Python-level, single-threaded activity.
_RECORDING = [True]
# How many derivative transformations are running: inside one, sweeps are recorded.
_DEPTH = [0]
# Creation stamps. A node's parents exist before it, so sorting by stamp is a topological
# order: the backward sweep sorts (in C) instead of running a post-order DFS in Python.
_STAMP = itertools.count()
_by_stamp = operator.attrgetter("stamp")
_ONLY = (True,)


def namespace(data: Any) -> Any:
    """The array-API namespace of a NumPy or CuPy array, cached per array type.

    ``array_namespace`` costs microseconds; an op pays this dictionary lookup instead.
    Device mismatches between CuPy inputs are still caught by CuPy itself.
    """
    xp = _XP_BY_TYPE.get(type(data))
    if xp is None:
        # NumPy reductions of 0-d arrays give NumPy scalars: same namespace as arrays.
        xp = array_namespace(np.asarray(data) if isinstance(data, np.generic) else data)
        _XP_BY_TYPE[type(data)] = xp
    return xp


class Tensor:
    """A traced array: backend ``data`` plus how it was computed.

    Parameters
    ----------
    data : array
        NumPy or CuPy array (0-d allowed).
    parents : tuple, optional
        Inputs of the op that made this tensor (tensors, arrays or scalars).
    vjp : callable, optional
        ``vjp(cotangent, need) -> cotangents``, one per parent.
    requires_grad : bool
        True for a leaf being differentiated and for anything computed from one.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.autodiff import Tensor
    >>> t = Tensor(np.array([1.0, 2.0]))
    >>> float((t * t).sum().data)
    5.0
    """

    __slots__ = ("data", "parents", "vjp", "requires_grad", "xp", "stamp")
    __array_priority__ = 1000  # so ndarray + Tensor defers to Tensor.__radd__

    def __init__(
        self,
        data: Any,
        parents: tuple[Any, ...] = (),
        vjp: Vjp | None = None,
        requires_grad: bool = False,
        xp: Any = None,
    ) -> None:
        self.data = data
        self.parents = parents
        self.vjp = vjp
        self.requires_grad = requires_grad
        self.xp = xp if xp is not None else namespace(data)
        # Only traced tensors are ever sorted; constants skip the counter.
        self.stamp = next(_STAMP) if requires_grad else 0

    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape  # a tuple already, for NumPy and CuPy arrays and scalars

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        return int(self.data.size)

    def __len__(self) -> int:
        return len(self.data)

    def __repr__(self) -> str:
        return f"Tensor({self.data!r}, requires_grad={self.requires_grad})"

    def __bool__(self) -> bool:
        raise TypeError(
            "the truth value of a traced Tensor is not defined: branch on "
            "`tensor.data` explicitly (this leaves the traced graph)"
        )


def make(data: Any, parents: tuple[Any, ...], vjp: Vjp, xp: Any) -> Tensor:
    """Wrap an op's result; keep the graph only when recording and some input is traced."""
    if _RECORDING[0]:
        for p in parents:
            if type(p) is Tensor and p.requires_grad:
                return Tensor(data, parents, vjp, True, xp)
    return Tensor(data, (), None, False, xp)


def active(*parents: Any) -> bool:
    """Whether an op on ``parents`` must record its node (recording on, some input traced).

    Ops test this before building their vjp closure, so untraced calls (inference, and
    every op of a first-order backward sweep) pay for the array math and one wrapper only.
    """
    if _RECORDING[0]:
        for p in parents:
            if type(p) is Tensor and p.requires_grad:
                return True
    return False


def unary(x: Tensor, y: Any, derivative: Callable[[Tensor, Tensor, Any], Tensor]) -> Tensor:
    """The node of a one-input op with result data ``y``; ``derivative(g, x, y)`` gives the
    cotangent of ``x``. The vjp closure is made only when the node records (see
    :func:`active`)."""
    if not active(x):
        return Tensor(y, (), None, False, x.xp)
    return Tensor(y, (x,), lambda g, need: (derivative(g, x, y),), True, x.xp)


def lift(x: Any) -> Tensor:
    """A tensor for ``x``: tensors pass through, arrays become constant leaves."""
    if type(x) is Tensor:
        return x
    return Tensor(x)


def data_of(x: Any) -> Any:
    """The raw array (or scalar) behind ``x``."""
    return x.data if type(x) is Tensor else x


def recording() -> bool:
    """Whether ops currently record the graph."""
    return _RECORDING[0]


@contextlib.contextmanager
def no_record() -> Iterator[None]:
    """Ops inside the block compute values only (no graph): inference, optimizer steps.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.autodiff import Tensor, no_record
    >>> with no_record():
    ...     y = Tensor(np.ones(2), requires_grad=True) * 2
    >>> y.requires_grad
    False
    """
    before = _RECORDING[0]
    _RECORDING[0] = False
    try:
        yield
    finally:
        _RECORDING[0] = before


@contextlib.contextmanager
def _set_recording(on: bool) -> Iterator[None]:
    before = _RECORDING[0]
    _RECORDING[0] = on
    try:
        yield
    finally:
        _RECORDING[0] = before


def _needed_order(out: Tensor, stop: set[int]) -> tuple[list[Tensor], set[int]]:
    """Nodes between the inputs (ids in ``stop``) and ``out``, in reverse topological order.

    The walk stops at the inputs (their own history belongs to an outer derivative) and
    keeps only nodes that depend on an input, so no work is spent on other branches.
    Returns those nodes (inputs excluded) and the ids of all of them, inputs included.
    """
    seen = {id(out): out}
    stack = [out]
    while stack:
        node = stack.pop()
        if id(node) in stop:
            continue
        for p in node.parents:
            if type(p) is Tensor and p.requires_grad and id(p) not in seen:
                seen[id(p)] = p
                stack.append(p)
    needed = set(stop)
    order = []
    for node in sorted(seen.values(), key=_by_stamp):  # parents before children
        key = id(node)
        if key in needed:  # an input: its cotangent is collected, its vjp never runs
            continue
        # Non-tensor parents are alive too, so their ids cannot collide with a node's.
        for p in node.parents:
            if id(p) in needed:
                needed.add(key)
                order.append(node)
                break
    order.reverse()
    return order, needed


def backward(
    out: Tensor, inputs: Sequence[Tensor], seed: Tensor, *, create_graph: bool
) -> list[Tensor | None]:
    """Cotangents of ``inputs`` for the cotangent ``seed`` of ``out`` (reverse sweep).

    With ``create_graph`` the sweep itself is recorded (for higher-order derivatives);
    without it the sweep computes values only. An input that ``out`` does not depend on
    gets None.
    """
    stop = {id(t) for t in inputs}
    order, inside = _needed_order(out, stop) if out.requires_grad else ([], stop)
    grads: dict[int, Tensor] = {id(out): seed}
    pop, get = grads.pop, grads.get
    with _set_recording(create_graph):
        for node in order:  # every node here has parents, hence a vjp
            g = pop(id(node), None)  # free cotangents as soon as they are consumed
            if g is None:
                continue
            parents = node.parents
            # A node is here because a parent is needed: an only parent always is.
            need = _ONLY if len(parents) == 1 else tuple([id(p) in inside for p in parents])
            for p, gp, wanted in zip(parents, node.vjp(g, need), need, strict=True):
                if wanted and gp is not None:
                    k = id(p)
                    prev = get(k)
                    grads[k] = gp if prev is None else prev + gp
    return [grads.get(id(t)) for t in inputs]


def scalar_like(value: float, like: Any, xp: Any) -> Any:
    """A 0-d array holding ``value`` with ``like``'s dtype, on ``like``'s device."""
    return xp.full((), value, dtype=like.dtype, device=_device(like))


def zeros_like_shape(shape: tuple[int, ...], like: Any, xp: Any) -> Any:
    """Zeros of ``shape`` with ``like``'s dtype, on ``like``'s device."""
    return xp.zeros(shape, dtype=like.dtype, device=_device(like))
