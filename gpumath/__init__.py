"""gpumath: GPU-first array math for the mathematics under deep learning.

Pick a device (``gpumath.set_device("cuda")``, ``"cpu"`` or the default ``"auto"``), make
arrays with :func:`gpumath.asarray`, and call gpumath functions: they run where their inputs
live, through CuPy and gpumath's own CUDA kernels on an NVIDIA GPU, or NumPy on the CPU.
"""

from . import (
    autodiff,
    distributed,
    linalg,
    linear_model,
    metrics,
    model_selection,
    montecarlo,
    nn,
    optim,
    random,
    sparse,
)
from ._backend import (
    DeviceError,
    array_namespace,
    asarray,
    device_info,
    device_of,
    get_device,
    set_device,
    to_device,
    to_numpy,
    use_device,
)
from ._kernels import KernelError
from .ops import (
    clip,
    clip_by_global_norm,
    clip_by_norm,
    conv2d,
    conv2d_backward,
    conv3d,
    conv3d_backward,
    linear,
    matmul,
)

__version__ = "0.1.0"

__all__ = [
    "DeviceError",
    "KernelError",
    "__version__",
    "array_namespace",
    "asarray",
    "autodiff",
    "clip",
    "clip_by_global_norm",
    "clip_by_norm",
    "conv2d",
    "conv2d_backward",
    "conv3d",
    "conv3d_backward",
    "device_info",
    "device_of",
    "distributed",
    "get_device",
    "linear",
    "linear_model",
    "linalg",
    "matmul",
    "metrics",
    "model_selection",
    "montecarlo",
    "nn",
    "optim",
    "random",
    "set_device",
    "sparse",
    "to_device",
    "to_numpy",
    "use_device",
]
