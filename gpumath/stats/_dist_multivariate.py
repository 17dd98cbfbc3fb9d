"""MultivariateNormal: densities through a Cholesky factor, sampling ``mean + L z``."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import array_namespace
from ._dist_base import LOG_2PI, Distribution, finite

__all__ = ["MultivariateNormal"]


class MultivariateNormal(Distribution):
    """Multivariate normal with ``mean`` (last axis ``d``) and ``cov`` (last two axes ``d, d``).

    Leading axes are batch axes and broadcast. ``cov`` must be symmetric (within
    ``sqrt(eps)`` of its largest entry) and positive definite. ``cdf``/``icdf`` have no closed
    form and are not provided.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import MultivariateNormal
    >>> d = MultivariateNormal(np.zeros(2), np.array([[1.0, 0.5], [0.5, 1.0]]))
    >>> d.sample((1000,), rng=0).shape
    (1000, 2)
    >>> round(float(d.logpdf(np.zeros(2))), 6)
    -1.694036
    """

    _event_ndim = 1

    def __init__(self, mean: Any, cov: Any) -> None:
        self._set_params(mean=mean, cov=cov)
        m, c = self._params["mean"], self._params["cov"]
        if m.ndim < 1 or c.ndim < 2 or c.shape[-2:] != (m.shape[-1], m.shape[-1]):
            raise ValueError(
                "`mean` must have shape (..., d) and `cov` (..., d, d); "
                f"got {m.shape} and {c.shape}"
            )
        self._require("mean", finite, "finite")
        self._require("cov", finite, "finite")
        xp = array_namespace(c)
        asym = xp.max(xp.abs(c - xp.matrix_transpose(c))) if c.size else 0.0
        tol = math.sqrt(float(np.finfo(np.dtype(c.dtype)).eps)) * (
            float(xp.max(xp.abs(c))) if c.size else 0.0
        )
        if float(asym) > tol:
            raise ValueError(f"`cov` must be symmetric; got max |cov - cov.T| = {float(asym)!r}")
        try:
            chol = xp.linalg.cholesky(c)
        except np.linalg.LinAlgError as exc:
            raise ValueError(f"`cov` must be positive definite; {exc}") from exc
        # CuPy does not raise by default (cupyx.errstate linalg="ignore"): a failed
        # factorisation shows as a factor that does not reproduce `cov`.
        d = c.shape[-1]
        recon = xp.matmul(chol, xp.matrix_transpose(chol))
        err = float(xp.max(xp.abs(recon - c))) if c.size else 0.0
        limit = 100 * d * float(np.finfo(np.dtype(c.dtype)).eps) * float(xp.max(xp.abs(c)))
        if not err <= limit:
            raise ValueError("`cov` must be positive definite; its Cholesky factorisation failed")
        self._params["scale_tril"] = chol

    @property
    def event_shape(self) -> tuple[int, ...]:
        """``(d,)``."""
        return (int(self._params["mean"].shape[-1]),)

    def _param_batch_shape(self, name: str) -> tuple[int, ...]:
        shape = tuple(self._params[name].shape)
        return shape[:-1] if name == "mean" else shape[:-2]

    def logpdf(self, x: Any) -> Any:
        """Log density of the points ``x`` (last axis ``d``)."""
        xp, x, dtype, (mean, cov, chol) = self._prepare(x)
        d = mean.shape[-1]
        if x.ndim == 0 or x.shape[-1] != d:
            raise ValueError(f"`x` must have {d} coordinates on its last axis; got {x.shape}")
        z = _solve_lower(xp, chol, x - mean)
        logdet = 2 * xp.sum(xp.log(xp.linalg.diagonal(chol)), axis=-1)
        value = -0.5 * (d * LOG_2PI + logdet + xp.sum(z * z, axis=-1))
        return self._finish(xp, value, dtype)

    def pdf(self, x: Any) -> Any:
        """Density ``exp(logpdf(x))``."""
        logp = self.logpdf(x)
        return array_namespace(logp).exp(logp)

    def mean(self) -> Any:
        """Mean vectors, shape ``batch_shape + (d,)``."""
        xp, dtype, (mean, cov, chol) = self._parameters()
        return self._finish(
            xp, xp.broadcast_to(mean, (*self.batch_shape, *self.event_shape)), dtype
        )

    def covariance(self) -> Any:
        """Covariance matrices, shape ``batch_shape + (d, d)``."""
        xp, dtype, (mean, cov, chol) = self._parameters()
        d = self.event_shape[0]
        return self._finish(xp, xp.broadcast_to(cov, (*self.batch_shape, d, d)), dtype)

    def variance(self) -> Any:
        """Variance of each coordinate (the diagonal of the covariance)."""
        cov = self.covariance()
        return array_namespace(cov).linalg.diagonal(cov)

    def entropy(self) -> Any:
        """Differential entropy ``d (1 + log 2 pi) / 2 + log det(cov) / 2``."""
        xp, dtype, (mean, cov, chol) = self._parameters()
        d = mean.shape[-1]
        half_logdet = xp.sum(xp.log(xp.linalg.diagonal(chol)), axis=-1)
        h = 0.5 * d * (1 + LOG_2PI) + half_logdet
        return self._finish(xp, xp.broadcast_to(h, self.batch_shape), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """Draws of shape ``shape + batch_shape + (d,)``."""
        gen, full, dtype, (mean, cov, chol) = self._sample_setup(shape, rng)
        z = gen.standard_normal((*full, mean.shape[-1]), dtype=dtype)
        xp = array_namespace(z)
        if chol.ndim == 2:
            return mean + z @ xp.matrix_transpose(chol)
        return mean + xp.matmul(chol, z[..., None])[..., 0]


def _solve_lower(xp: Any, chol: Any, rhs: Any) -> Any:
    """``L^{-1} rhs`` for vectors on the last axis of ``rhs`` (batch axes broadcast)."""
    d = chol.shape[-1]
    if chol.ndim == 2:  # one factor: one solve with every point as a right-hand side
        flat = xp.reshape(rhs, (-1, d))
        if flat.shape[0] == 0:
            return rhs
        return xp.reshape(xp.matrix_transpose(xp.linalg.solve(chol, flat.T)), rhs.shape)
    shape = np.broadcast_shapes(tuple(rhs.shape[:-1]), tuple(chol.shape[:-2]))
    a = xp.reshape(xp.broadcast_to(chol, (*shape, d, d)), (-1, d, d))
    b = xp.reshape(xp.broadcast_to(rhs, (*shape, d)), (-1, d, 1))
    return xp.reshape(xp.linalg.solve(a, b)[..., 0], (*shape, d))
