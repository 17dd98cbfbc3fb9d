"""Neural-network numerics: stable activations and losses, initialisers, batch norm, modules.

Functions take ``gpumath.autodiff`` tensors (and return tensors, for training) or plain
arrays (and return arrays).

Examples
--------
>>> import numpy as np
>>> from gpumath import nn
>>> nn.softmax(np.array([1000.0, 1000.0]))
array([0.5, 0.5])
"""

from ._example import accuracy, train_mlp
from ._functional import (
    batch_norm,
    binary_cross_entropy_with_logits,
    cross_entropy,
    dropout,
    gelu,
    leaky_relu,
    log_softmax,
    logsumexp,
    mse_loss,
    relu,
    sigmoid,
    softmax,
    softplus,
    tanh,
)
from ._init import fans, he_normal, he_uniform, xavier_normal, xavier_uniform
from ._modules import BatchNorm, Conv2d, Flatten, Linear, Module, ReLU, Sequential

__all__ = [
    "BatchNorm",
    "Conv2d",
    "Flatten",
    "Linear",
    "Module",
    "ReLU",
    "Sequential",
    "accuracy",
    "batch_norm",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "dropout",
    "fans",
    "gelu",
    "he_normal",
    "he_uniform",
    "leaky_relu",
    "log_softmax",
    "logsumexp",
    "mse_loss",
    "relu",
    "sigmoid",
    "softmax",
    "softplus",
    "tanh",
    "train_mlp",
    "xavier_normal",
    "xavier_uniform",
]
