"""Autodiff: an MLP's forward, gradient and Adam step, ours against hand-written backprop.

The network is the issue's: 4 Linear layers (ReLU between), width 2048, batch 4096, float32
on the GPU (smaller on the CPU). "Vendor" is the same math written out by hand in
CuPy/NumPy (``x @ W.T + b``, ``maximum``, the backward products and Adam's formulas), so
a row's ratio is the price of tracing. The last row times the Python overhead per traced
op (forward + backward) on tiny arrays, against the issue's 20 microsecond budget.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from gpumath import autodiff as ad
from gpumath import nn, optim

from .harness import Context, Row, max_rel_err, time_it, wall_time


def _sizes(ctx: Context) -> tuple[int, int, int]:
    """(batch, width, layers)."""
    if ctx.on_gpu:
        return 4096, 2048, 4
    return (256, 256, 4) if ctx.quick else (1024, 512, 4)


def _params(ctx: Context, width: int, layers: int) -> list[Any]:
    params = []
    for _ in range(layers):
        params.append(ctx.random((width, width)) * np.float32(1 / np.sqrt(width)))
        params.append(ctx.random((width,)) * np.float32(0.01))
    return params


def _forward_ours(params: list[Any], x: Any) -> Any:
    h = x
    n = len(params) // 2
    for i in range(n):
        h = ad.linear(h, params[2 * i], params[2 * i + 1], activation="relu" if i < n - 1 else None)
    return h


def _loss_ours(params: list[Any], x: Any, y: Any) -> Any:
    return nn.mse_loss(_forward_ours(params, x), y)


def _forward_vendor(xp: Any, params: list[Any], x: Any) -> tuple[Any, list[Any]]:
    hs = [x]
    n = len(params) // 2
    h = x
    for i in range(n):
        h = h @ params[2 * i].T + params[2 * i + 1]
        if i < n - 1:
            h = xp.maximum(h, 0)
        hs.append(h)
    return h, hs


def _grad_vendor(xp: Any, params: list[Any], x: Any, y: Any) -> list[Any]:
    """Hand-written backprop of mean((mlp(x) - y)^2)."""
    out, hs = _forward_vendor(xp, params, x)
    g = (out - y) * np.float32(2.0 / out.size)
    n = len(params) // 2
    grads: list[Any] = [None] * len(params)
    for i in reversed(range(n)):
        grads[2 * i] = g.T @ hs[i]
        grads[2 * i + 1] = g.sum(axis=0)
        if i > 0:
            g = (g @ params[2 * i]) * (hs[i] > 0)
    return grads


def _adam_vendor(xp: Any, params: list[Any], grads: list[Any], m: list[Any], v: list[Any], t: int):
    lr, b1, b2, eps = 1e-3, 0.9, 0.999, 1e-8
    out = []
    for i, (p, g) in enumerate(zip(params, grads, strict=True)):
        m[i] = b1 * m[i] + (1 - b1) * g
        v[i] = b2 * v[i] + (1 - b2) * g * g
        mhat = m[i] / (1 - b1**t)
        vhat = v[i] / (1 - b2**t)
        out.append(p - lr * mhat / (xp.sqrt(vhat) + eps))
    return out


def run(ctx: Context) -> list[Row]:
    """MLP forward / gradient / Adam step, and per-op tracing overhead."""
    xp = ctx.xp
    batch, width, layers = _sizes(ctx)
    params = _params(ctx, width, layers)
    x, y = ctx.random((batch, width)), ctx.random((batch, width))
    flops = 2 * batch * width * width * layers
    peak = ctx.ceilings.matmul_TFLOPs
    case = f"{layers}x{width} relu mlp, batch {batch} float32"
    rows = []

    fwd_ours = time_it(ctx, lambda: _forward_ours(params, x))
    fwd_vendor = time_it(ctx, lambda: _forward_vendor(xp, params, x))
    err = max_rel_err(_forward_ours(params, x).data, _forward_vendor(xp, params, x)[0])
    rows.append(
        Row(
            "mlp forward",
            case,
            fwd_ours * 1e3,
            fwd_vendor * 1e3,
            "hand-written " + xp.__name__,
            flops / fwd_ours / 1e12,
            "TFLOP/s",
            peak,
            err,
        )
    )

    vg = ad.value_and_grad(_loss_ours)
    grad_ours = time_it(ctx, lambda: vg(params, x, y))
    grad_vendor = time_it(ctx, lambda: _grad_vendor(xp, params, x, y))
    err = max_rel_err(vg(params, x, y)[1][0], _grad_vendor(xp, params, x, y)[0])
    rows.append(
        Row(
            "mlp gradient",
            f"{case}; grad/forward {grad_ours / fwd_ours:.2f}x",
            grad_ours * 1e3,
            grad_vendor * 1e3,
            "hand-written " + xp.__name__,
            3 * flops / grad_ours / 1e12,
            "TFLOP/s",
            peak,
            err,
        )
    )

    opt = optim.adam(1e-3)
    state = opt.init(params)

    def step_ours() -> Any:
        _, grads = vg(params, x, y)
        updates, _ = opt.update(grads, state, params)
        return optim.apply_updates(params, updates)

    zeros = [xp.zeros_like(p) for p in params]

    def step_vendor() -> Any:
        grads = _grad_vendor(xp, params, x, y)
        return _adam_vendor(xp, params, grads, list(zeros), list(zeros), 1)

    adam_ours = time_it(ctx, step_ours)
    adam_vendor = time_it(ctx, step_vendor)
    err = max_rel_err(step_ours()[0], step_vendor()[0])
    rows.append(
        Row(
            "mlp adam step",
            f"{case}; step/forward {adam_ours / fwd_ours:.2f}x",
            adam_ours * 1e3,
            adam_vendor * 1e3,
            "hand-written " + xp.__name__,
            3 * flops / adam_ours / 1e12,
            "TFLOP/s",
            peak,
            err,
        )
    )
    rows.append(_overhead_row(ctx))
    return rows


def _overhead_row(ctx: Context) -> Row:
    """Microseconds of Python per traced op (forward + backward) on 8-element arrays."""
    xp = ctx.xp
    x = ctx.random((8,), np.float64)
    n_ops = 3 * 50 + 1

    def traced(t: Any) -> Any:
        for _ in range(50):
            t = ad.tanh(t * 1.01 + 0.1)
        return ad.sum(t)

    def plain(t: Any) -> Any:
        for _ in range(50):
            t = xp.tanh(t * 1.01 + 0.1)
        return t.sum()

    g = ad.grad(traced)
    ours = wall_time(ctx, lambda: g(x))
    vendor = wall_time(ctx, lambda: plain(x))
    per_op = (ours - vendor) / n_ops * 1e6
    err = max_rel_err(ad.grad(traced)(x), ad.grad(traced)(x))
    return Row(
        "autodiff overhead",
        f"{n_ops}-op chain, fwd+bwd, 8 float64",
        ours * 1e3,
        vendor * 1e3,
        f"{xp.__name__} forward only",
        per_op,
        "us/op",
        20.0,
        err,
    )
