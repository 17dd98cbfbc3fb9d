"""Optimizers in optax's shape, learning-rate schedules, mini-batches and ``minimize``.

Examples
--------
>>> import numpy as np
>>> from gpumath import optim
>>> opt = optim.adam(1e-3)
>>> params = {"w": np.zeros(3)}
>>> state = opt.init(params)
>>> updates, state = opt.update({"w": np.ones(3)}, state, params)
>>> params = optim.apply_updates(params, updates)
"""

from ._data import batches
from ._linesearch import strong_wolfe
from ._minimize import METHODS, OptimizeResult, minimize
from ._schedules import constant, cosine_decay, exponential_decay, warmup_cosine
from ._transform import (
    GradientTransformation,
    adagrad,
    adam,
    adamw,
    add_decayed_weights,
    apply_updates,
    chain,
    clip,
    clip_by_global_norm,
    global_norm,
    rmsprop,
    scale,
    scale_by_adam,
    scale_by_learning_rate,
    sgd,
    trace,
)

__all__ = [
    "METHODS",
    "GradientTransformation",
    "OptimizeResult",
    "adagrad",
    "adam",
    "adamw",
    "add_decayed_weights",
    "apply_updates",
    "batches",
    "chain",
    "clip",
    "clip_by_global_norm",
    "constant",
    "cosine_decay",
    "exponential_decay",
    "global_norm",
    "minimize",
    "rmsprop",
    "scale",
    "scale_by_adam",
    "scale_by_learning_rate",
    "sgd",
    "strong_wolfe",
    "trace",
    "warmup_cosine",
]
