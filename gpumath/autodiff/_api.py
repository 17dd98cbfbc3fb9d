"""Derivative transformations: grad, value_and_grad, vjp, jvp, jacobian, hessian, hvp.

Forward mode (:func:`jvp`) uses the double-vjp trick: the vjp ``u -> J^T u`` is linear in
``u``, and its own vjp with cotangent ``v`` is ``J v``. Because every op's vjp is built
from traced ops, this needs no second set of derivative rules; it costs about one forward
and two backward sweeps. :func:`hessian` is forward-over-reverse: the forward-mode
Jacobian of the gradient, with the gradient graph built once and swept once per column.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np

from .._backend import to_numpy
from .._validate import check_callable
from . import _core
from ._core import Tensor, backward, data_of, make, scalar_like, zeros_like_shape
from ._tree import tree_flatten, tree_unflatten

__all__ = [
    "check_grad",
    "checkpoint",
    "grad",
    "hessian",
    "hvp",
    "jacobian",
    "jvp",
    "value_and_grad",
    "vjp",
]


@contextlib.contextmanager
def _level() -> Iterator[None]:
    """One derivative transformation is running: nested ones must record their sweeps."""
    _core._DEPTH[0] += 1
    try:
        yield
    finally:
        _core._DEPTH[0] -= 1


def _nested() -> bool:
    """Whether results must stay traced for an enclosing derivative."""
    return _core._RECORDING[0] and _core._DEPTH[0] > 0


def _identity(t: Tensor) -> Tensor:
    """A fresh node for an outer-level tensor, so this level's sweep stops here."""

    def vjp(g: Tensor, need: tuple[bool, ...]) -> tuple[Tensor]:
        return (g,)

    return make(t.data, (t,), vjp, t.xp)


def _leaf(x: Any, name: str) -> Tensor:
    if type(x) is Tensor:
        return (
            _identity(x)
            if x.requires_grad and _core._RECORDING[0]
            else Tensor(x.data, (), None, True, x.xp)
        )
    if not hasattr(x, "dtype") or np.dtype(x.dtype).kind != "f":
        raise TypeError(
            f"`{name}` must be a float32 or float64 array to be differentiated; "
            f"got {type(x).__name__} {getattr(x, 'dtype', '')}"
        )
    return Tensor(x, (), None, True)


def _argnums(argnums: int | Sequence[int], nargs: int) -> tuple[int, ...]:
    nums = (argnums,) if isinstance(argnums, int | np.integer) else argnums
    if not isinstance(nums, Sequence) or not all(
        isinstance(i, int | np.integer) and not isinstance(i, bool) for i in nums
    ):
        raise TypeError(f"`argnums` must be an int or a sequence of ints; got {argnums!r}")
    for i in nums:
        if not -nargs <= i < nargs:
            raise ValueError(f"`argnums` must index the {nargs} argument(s); got {i}")
    return tuple(i % nargs for i in nums)


def _trace_args(
    args: tuple[Any, ...], nums: tuple[int, ...]
) -> tuple[list[Any], list[Tensor], list[tuple[Any, int]]]:
    """Replace the differentiated arguments (trees of arrays) by traced leaves."""
    new_args = list(args)
    leaves: list[Tensor] = []
    specs = []
    for i in nums:
        flat, spec = tree_flatten(args[i])
        traced = [_leaf(x, f"args[{i}]") for x in flat]
        new_args[i] = tree_unflatten(spec, traced)
        specs.append((spec, len(traced)))
        leaves.extend(traced)
    return new_args, leaves, specs


def _finish(t: Tensor | None, like: Tensor, keep: bool) -> Any:
    """A cotangent as the caller wants it: traced when nested, else the raw array."""
    if t is None:
        t = Tensor(like.xp.zeros_like(like.data), xp=like.xp)
    return t if keep else _array(t)


def _array(t: Tensor) -> Any:
    """The raw result as an array (NumPy reductions give scalars, not 0-d arrays)."""
    return t.xp.asarray(t.data)


def _split(values: list[Any], specs: list[tuple[Any, int]]) -> list[Any]:
    out, start = [], 0
    for spec, n in specs:
        out.append(tree_unflatten(spec, values[start : start + n]))
        start += n
    return out


def value_and_grad(
    fun: Callable[..., Any], argnums: int | Sequence[int] = 0, *, has_aux: bool = False
) -> Callable[..., tuple[Any, Any]]:
    """A function returning ``fun``'s value and its gradient w.r.t. ``args[argnums]``.

    Parameters
    ----------
    fun : callable
        Returns a scalar (size-1) tensor or array; with ``has_aux`` a pair
        ``(scalar, aux)`` whose ``aux`` is passed through untouched.
    argnums : int or sequence of int
        Which arguments to differentiate; each may be an array or a tree (list, tuple,
        dict) of float arrays. A sequence gives a tuple of gradients.

    Returns
    -------
    callable
        ``(*args) -> (value, grads)`` (``((value, aux), grads)`` with ``has_aux``). Values
        and gradients are raw arrays, or traced tensors inside another derivative.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.value_and_grad(lambda x: ad.sum(x ** 3))(np.array([1.0, 2.0]))
    (array(9.), array([ 3., 12.]))
    """
    check_callable(fun, "fun")

    def wrapped(*args: Any) -> tuple[Any, Any]:
        nums = _argnums(argnums, len(args))
        keep = _nested()
        with _level():
            new_args, leaves, specs = _trace_args(args, nums)
            result = fun(*new_args)
            out, aux = result if has_aux else (result, None)
            out = _scalar(out)
            seed = Tensor(out.xp.ones_like(out.data), xp=out.xp)
            grads = backward(out, leaves, seed, create_graph=keep)
        finished = [_finish(g, leaf, keep) for g, leaf in zip(grads, leaves, strict=True)]
        per_arg = _split(finished, specs)
        value = out if keep else _array(out)
        g = per_arg[0] if isinstance(argnums, int) else tuple(per_arg)
        return ((value, aux) if has_aux else value), g

    return wrapped


def _scalar(out: Any) -> Tensor:
    out = out if type(out) is Tensor else Tensor(out)
    if out.size != 1:
        raise ValueError(
            f"the differentiated function must return a scalar; got shape {out.shape} "
            "(use vjp or jacobian for array outputs)"
        )
    return out


def grad(fun: Callable[..., Any], argnums: int | Sequence[int] = 0) -> Callable[..., Any]:
    """The gradient of a scalar function, as a function (reverse mode).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.grad(lambda x: ad.sum(ad.exp(x)))(np.zeros(2))
    array([1., 1.])
    >>> ad.grad(ad.grad(lambda x: ad.sum(x ** 3)))(np.array(2.0))  # 6 x
    array(12.)
    """
    vg = value_and_grad(fun, argnums)

    def wrapped(*args: Any) -> Any:
        return vg(*args)[1]

    return wrapped


def vjp(fun: Callable[..., Any], *primals: Any) -> tuple[Any, Callable[[Any], tuple[Any, ...]]]:
    """``fun``'s value and a function mapping an output cotangent to input cotangents.

    The graph is kept, so the returned function can be called many times.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> y, back = ad.vjp(lambda x: x * 2.0, np.ones(3))
    >>> back(np.array([1.0, 2.0, 3.0]))
    (array([2., 4., 6.]),)
    """
    keep = _nested()
    with _level():
        new_args, leaves, specs = _trace_args(primals, tuple(range(len(primals))))
        out = fun(*new_args)
        out = out if type(out) is Tensor else Tensor(out)

    def back(cotangent: Any) -> tuple[Any, ...]:
        seed = cotangent if type(cotangent) is Tensor else Tensor(cotangent, xp=out.xp)
        if tuple(seed.shape) != out.shape:
            raise ValueError(
                f"`cotangent` must have the output's shape {out.shape}; got {seed.shape}"
            )
        with _level():
            grads = backward(out, leaves, seed, create_graph=keep or _nested())
        finished = [_finish(g, leaf, keep) for g, leaf in zip(grads, leaves, strict=True)]
        return tuple(_split(finished, specs))

    return (out if keep else _array(out)), back


def _linearize(fun: Callable[..., Any], primals: tuple[Any, ...]) -> tuple[Tensor, Tensor, list]:
    """Trace ``fun`` and its vjp at a traced zero cotangent ``u`` (for the double-vjp trick)."""
    new_args, leaves, _ = _trace_args(primals, tuple(range(len(primals))))
    out = fun(*new_args)
    out = out if type(out) is Tensor else Tensor(out)
    u = Tensor(out.xp.zeros_like(out.data), (), None, True, out.xp)
    gx = backward(out, leaves, u, create_graph=True)
    return out, u, gx


def jvp(
    fun: Callable[..., Any], primals: Sequence[Any], tangents: Sequence[Any]
) -> tuple[Any, Any]:
    """Forward mode: ``fun(*primals)`` and the directional derivative ``J @ tangents``.

    Computed with the double-vjp trick (see the module notes).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.jvp(lambda x: x * x, (np.array([3.0]),), (np.array([1.0]),))
    (array([9.]), array([6.]))
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(
            f"`tangents` must match `primals` one to one; got {len(tangents)} and {len(primals)}"
        )
    keep = _nested()
    with _level():
        out, u, gx = _linearize(fun, primals)
        total = None
        for g, t in zip(gx, tangents, strict=True):
            if g is not None:
                term = (g * t).sum()
                total = term if total is None else total + term
        if total is None or not total.requires_grad:
            jv = None
        else:
            seed = Tensor(total.xp.ones_like(total.data), xp=total.xp)
            jv = backward(total, [u], seed, create_graph=keep)[0]
    return (out if keep else _array(out)), _finish(jv, u, keep)


def jacobian(fun: Callable[..., Any], argnums: int = 0, *, mode: str = "rev") -> Callable[..., Any]:
    """The Jacobian of ``fun`` w.r.t. one array argument, shape ``out.shape + x.shape``.

    Parameters
    ----------
    mode : {"rev", "fwd"}
        ``"rev"``: one vjp per output element (good for few outputs). ``"fwd"``: one
        forward-mode column per input element (good for few inputs).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.jacobian(lambda x: x[:2] * x[1:], mode="fwd")(np.array([1.0, 2.0, 3.0]))
    array([[2., 1., 0.],
           [0., 3., 2.]])
    """
    check_callable(fun, "fun")
    if mode not in ("rev", "fwd"):
        raise ValueError(f"`mode` must be 'rev' or 'fwd'; got {mode!r}")
    if not isinstance(argnums, int):
        raise TypeError(f"`argnums` must be an int for jacobian; got {argnums!r}")

    def wrapped(*args: Any) -> Any:
        i = _argnums(argnums, len(args))[0]
        keep = _nested()
        with _level():
            new_args = list(args)
            x = _leaf(args[i], f"args[{i}]")
            new_args[i] = x
            if mode == "rev":
                rows = _jacobian_rev(fun, new_args, x, keep)
            else:
                rows = _jacobian_fwd(fun, new_args, x, keep)
        return rows if keep else _array(rows)

    return wrapped


def _stack_rows(pieces: list[Tensor], shape: tuple[int, ...]) -> Tensor:
    from ._ops_shape import reshape, stack

    return reshape(stack(pieces, axis=0), shape)


def _basis(out: Tensor, k: int) -> Tensor:
    e = zeros_like_shape((out.size,), out.data, out.xp)
    e[k] = 1
    return Tensor(out.xp.reshape(e, out.shape), xp=out.xp)


def _jacobian_rev(fun: Callable[..., Any], args: list[Any], x: Tensor, keep: bool) -> Tensor:
    out = fun(*args)
    out = out if type(out) is Tensor else Tensor(out)
    rows = [
        _finish(backward(out, [x], _basis(out, k), create_graph=keep)[0], x, True)
        for k in range(out.size)
    ]
    return _stack_rows(rows, out.shape + x.shape)


def _jacobian_fwd(fun: Callable[..., Any], args: list[Any], x: Tensor, keep: bool) -> Tensor:
    out = fun(*args)
    out = out if type(out) is Tensor else Tensor(out)
    u = Tensor(out.xp.zeros_like(out.data), (), None, True, out.xp)
    (gx,) = backward(out, [x], u, create_graph=True)
    if gx is None or not gx.requires_grad:
        cols = [Tensor(out.xp.zeros_like(out.data), xp=out.xp) for _ in range(x.size)]
    else:
        flat = gx.reshape((x.size,))
        one = Tensor(scalar_like(1, out.data, out.xp), xp=out.xp)
        cols = [
            _finish(backward(flat[j], [u], one, create_graph=keep)[0], u, True)
            for j in range(x.size)
        ]
    from ._ops_shape import permute_dims

    stacked = _stack_rows(cols, x.shape + out.shape)  # columns first, then move them last
    nx = x.ndim
    return permute_dims(stacked, tuple(range(nx, nx + out.ndim)) + tuple(range(nx)))


def hessian(fun: Callable[..., Any], argnums: int = 0) -> Callable[..., Any]:
    """The Hessian of a scalar function (forward-over-reverse), shape ``x.shape * 2``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.hessian(lambda x: ad.sum(x ** 3))(np.array([1.0, 2.0]))
    array([[ 6.,  0.],
           [ 0., 12.]])
    """
    return jacobian(grad(fun, argnums), argnums, mode="fwd")


def hvp(fun: Callable[..., Any], x: Any, v: Any) -> Any:
    """Hessian-vector product ``H(x) @ v`` of a scalar function, without forming ``H``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.hvp(lambda x: ad.sum(x ** 3), np.array([1.0, 2.0]), np.array([1.0, 1.0]))
    array([ 6., 12.])
    """
    return jvp(grad(fun), (x,), (v,))[1]


def check_grad(
    fun: Callable[..., Any], x: Any, *, eps: float | None = None, seed: int = 0
) -> float:
    """Worst relative error between ``grad(fun)`` and central differences.

    ``x`` is an array or a tuple of arrays; ``fun`` always receives tensors (``fun(*x)``,
    traced or not), so it may branch on ``t.data``. A non-scalar output is first
    contracted with a fixed random cotangent (seeded by ``seed``). The error is
    ``max|g - g_fd| / max|g_fd|`` per argument, the worst argument returned.

    Parameters
    ----------
    eps : float, optional
        Step; default ``cbrt(machine eps) * max(1, |x_i|)`` per element.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> ad.check_grad(lambda x: ad.sum(ad.tanh(x)), np.array([0.1, 0.5])) < 1e-8
    True
    """
    args = tuple(x) if isinstance(x, tuple) else (x,)
    probe = fun(*(Tensor(a) for a in args))
    shape = tuple(data_of(probe).shape)
    xp = _core.namespace(args[0])
    dtype = args[0].dtype
    w = None
    if int(np.prod(shape)) != 1:
        w_host = np.random.default_rng(seed).standard_normal(shape)
        w = xp.asarray(w_host.astype(dtype))

    def scalar(*a: Any) -> Any:
        out = fun(*a)
        return (out * w).sum() if w is not None else out

    analytic = grad(scalar, tuple(range(len(args))))(*args)
    step_base = float(np.finfo(np.dtype(dtype)).eps) ** (1 / 3)
    worst = 0.0
    for i, a in enumerate(args):
        flat = to_numpy(a).astype(np.float64).ravel()
        numeric = np.empty_like(flat)
        for j in range(flat.size):
            h = eps if eps is not None else step_base * max(1.0, abs(flat[j]))
            values = []
            for sign in (1.0, -1.0):
                moved = flat.copy()
                moved[j] += sign * h
                trial = [Tensor(a) for a in args]
                trial[i] = Tensor(xp.asarray(moved.reshape(a.shape).astype(dtype)))
                values.append(float(to_numpy(data_of(scalar(*trial))).reshape(-1)[0]))
            numeric[j] = (values[0] - values[1]) / (2 * h)
        g = to_numpy(analytic[i]).astype(np.float64).ravel()
        scale = max(float(np.max(np.abs(numeric), initial=0.0)), np.finfo(np.float64).tiny)
        worst = max(worst, float(np.max(np.abs(g - numeric), initial=0.0)) / scale)
    return worst


def checkpoint(fun: Callable[..., Any]) -> Callable[..., Any]:
    """``fun`` with rematerialisation: its activations are recomputed in the backward sweep.

    The forward pass runs without recording, so only ``fun``'s inputs and output are
    kept; the vjp replays ``fun`` to rebuild its graph. ``fun`` must return one tensor.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import autodiff as ad
    >>> block = ad.checkpoint(lambda x: ad.tanh(ad.tanh(x)))
    >>> ad.grad(lambda x: ad.sum(block(x)))(np.zeros(2))
    array([1., 1.])
    """
    check_callable(fun, "fun")

    def wrapped(*args: Any) -> Any:
        traced = [a for a in args if type(a) is Tensor and a.requires_grad]
        if not traced or not _core._RECORDING[0]:
            return fun(*args)
        with _core.no_record():
            out = fun(*args)
        out = out if type(out) is Tensor else Tensor(out)
        parents = tuple(args)

        def vjp(g: Tensor, need: tuple[bool, ...]) -> list[Tensor | None]:
            create = _core._RECORDING[0]
            with _core._set_recording(True):
                replay = fun(*args)
            wanted = [p for p, n in zip(parents, need, strict=True) if n]
            grads = iter(backward(replay, wanted, g, create_graph=create))
            return [next(grads) if n else None for n in need]

        return make(out.data, parents, vjp, out.xp)

    return wrapped
