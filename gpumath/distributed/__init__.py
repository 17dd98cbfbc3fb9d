"""Scale out with Dask: statistics, Monte Carlo and linear models over many workers.

Optional: needs ``pip install gpumath[dask]`` (``dask[array,distributed]``; ``dask-cuda`` for
one worker per GPU). ``import gpumath`` never imports this package or Dask.

- statistics of ``dask.array`` data (NumPy or CuPy chunks), merged exactly chunk by chunk:
  :func:`mean`, :func:`var`, :func:`std`, :func:`describe`, :func:`cov`, :func:`moments`,
  :func:`running_moments`;
- Monte Carlo on a ``dask.distributed.Client``, one reproducible stream per task:
  :func:`estimate_pi`, :func:`integrate`, :func:`expectation`;
- linear models fitted on tall ``dask.array`` data: :func:`fit_linear` (LinearRegression,
  Ridge: merged normal equations), :func:`fit_logistic` (L-BFGS on distributed gradients).
"""

from ._linear import fit_linear
from ._logistic import fit_logistic
from ._montecarlo import estimate_pi, expectation, integrate
from ._stats import cov, describe, mean, moments, running_moments, std, var

__all__ = [
    "cov",
    "describe",
    "estimate_pi",
    "expectation",
    "fit_linear",
    "fit_logistic",
    "integrate",
    "mean",
    "moments",
    "running_moments",
    "std",
    "var",
]
