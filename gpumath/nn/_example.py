"""A small end-to-end training loop: an MLP classifier trained with Adam on mini-batches.

Used by the tests (scikit-learn's digits), the demo and the benchmarks; it is also the
pattern to copy: ``value_and_grad`` over the parameter list, an optax-style update, and
no host synchronisation inside the loop (the loss is read once, at the end).
"""

from __future__ import annotations

from typing import Any

from .. import autodiff as ad
from .. import optim
from .._validate import check_array
from ._functional import cross_entropy
from ._modules import Linear, ReLU, Sequential, _check_sizes

__all__ = ["accuracy", "train_mlp"]


def train_mlp(
    X: Any,
    y: Any,
    n_classes: int,
    rng: Any,
    *,
    hidden: tuple[int, ...] = (128,),
    epochs: int = 20,
    batch_size: int = 64,
    learning_rate: float = 3e-3,
) -> tuple[Sequential, float]:
    """Train ``Linear-ReLU-...-Linear`` on ``(X, y)`` with cross-entropy and Adam.

    Parameters
    ----------
    X : array (N, features), float32 or float64
    y : array (N,) of integer class labels in ``[0, n_classes)``, on ``X``'s device
    rng : generator
        Draws the initial weights (on ``X``'s device) and shuffles the batches.

    Returns
    -------
    model, last_loss
        The trained model and the loss of the last mini-batch (one host read).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath import nn
    >>> rng = np.random.default_rng(0)
    >>> X = rng.standard_normal((200, 4)); y = (X[:, 0] > 0).astype(np.int64)
    >>> model, loss = nn.train_mlp(X, y, 2, rng, epochs=5)
    >>> nn.accuracy(model, X, y) > 0.9
    True
    """
    check_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"`X` must be 2-D (N, features); got shape {tuple(X.shape)}")
    # epochs=0 would return an untrained model and a NaN loss without complaint
    _check_sizes(n_classes=n_classes, epochs=epochs)
    sizes = (X.shape[1], *hidden, n_classes)
    layers: list[Any] = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        layers.append(Linear(n_in, n_out, rng, dtype=X.dtype))
        if i < len(sizes) - 2:
            layers.append(ReLU())
    model = Sequential(*layers)

    def loss_fn(params: list[Any], xb: Any, yb: Any) -> Any:
        return cross_entropy(model.apply(params, xb), yb)

    step = ad.value_and_grad(loss_fn)
    opt = optim.adam(learning_rate)
    params = model.parameters()
    state = opt.init(params)
    loss = None
    for _ in range(epochs):
        for xb, yb in optim.batches(X, y, batch_size, rng):
            loss, grads = step(params, xb, yb)
            updates, state = opt.update(grads, state, params)
            params = optim.apply_updates(params, updates)
    model.set_parameters(params)
    return model, float(loss) if loss is not None else float("nan")


def accuracy(model: Any, X: Any, y: Any) -> float:
    """Fraction of rows whose arg-max logit is the label (one host read)."""
    logits = model(X)
    if tuple(y.shape) != (logits.shape[0],):
        raise ValueError(
            f"`y` must have shape ({logits.shape[0]},), one label per row of `X`; "
            f"got {tuple(y.shape)}"
        )
    xp = ad.Tensor(logits).xp
    return float(xp.mean(xp.astype(xp.argmax(logits, axis=1) == y, xp.float64)))
