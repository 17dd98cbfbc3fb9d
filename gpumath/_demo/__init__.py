"""``python -m gpumath demo``: a short tour of every layer on the current device.

Each step computes on the current device, checks its result against a reference nobody here
wrote (NumPy/SciPy float64, scikit-learn, statsmodels), prints one line with the error and
the time, and returns whether the check held.
"""

from __future__ import annotations

import gpumath

from . import kernels, models


def run(size: int, matmul_size: int) -> int:
    """Run every step; return the process exit status (1 if any check failed)."""
    info = gpumath.device_info()
    print(f"gpumath {gpumath.__version__} on {info['device']} ({info['device_name']})")
    if info["backend"] == "cpu":
        print(f"  CUDA not used: {info['cuda_unavailable_reason']}")
    checks = [
        kernels.clip(size),
        kernels.matmul(matmul_size),
        kernels.conv(),
        models.pca(),
        kernels.describe(size),
        kernels.montecarlo(),
        models.train(),
        models.logistic(),
        models.glm(),
    ]
    print("demo passed" if all(checks) else "demo FAILED: a result disagreed with NumPy")
    return 0 if all(checks) else 1
