"""Continuous scalar distributions: Normal, Uniform, Exponential, Gamma, Beta.

Densities are evaluated where the input lives, with ``scipy.special`` on the CPU and
``cupyx.scipy.special`` on a GPU. Points outside the support give pdf 0 and logpdf -inf;
NaN inputs give NaN. ``icdf`` of a probability outside [0, 1] is NaN, as in SciPy.
"""

from __future__ import annotations

import math
from typing import Any

from .._backend import array_namespace
from ._dist_base import LOG_2PI, Distribution, finite, first_bad, positive, special_for

__all__ = ["Beta", "Exponential", "Gamma", "Normal", "Uniform"]


def _masked(xp: Any, x: Any, inside: Any, value: Any, outside: float) -> Any:
    """``value`` where ``inside``, ``outside`` elsewhere, NaN where ``x`` is NaN."""
    out = xp.where(inside, value, xp.asarray(outside, dtype=x.dtype))
    return xp.where(xp.isnan(x), x, out)


def _icdf_domain(xp: Any, q: Any, value: Any) -> Any:
    """NaN for probabilities outside [0, 1]."""
    return xp.where((q >= 0) & (q <= 1), value, xp.asarray(math.nan, dtype=q.dtype))


class _Continuous(Distribution):
    def pdf(self, x: Any) -> Any:
        """Probability density at ``x``: ``exp(logpdf(x))``."""
        logp = self.logpdf(x)
        return array_namespace(logp).exp(logp)


class Normal(_Continuous):
    """Normal distribution with mean ``mu`` and standard deviation ``sigma``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Normal
    >>> d = Normal(mu=1.0, sigma=2.0)
    >>> float(d.cdf(np.array(1.0)))
    0.5
    >>> d.sample((1000,), rng=0).shape
    (1000,)
    """

    def __init__(self, mu: Any = 0.0, sigma: Any = 1.0) -> None:
        self._set_params(mu=mu, sigma=sigma)
        self._require("mu", finite, "finite")
        self._require("sigma", positive, "> 0")

    def logpdf(self, x: Any) -> Any:
        """Log density at ``x``."""
        xp, x, dtype, (mu, sigma) = self._prepare(x)
        z = (x - mu) / sigma
        return self._finish(xp, -0.5 * z * z - xp.log(sigma) - 0.5 * LOG_2PI, dtype)

    def cdf(self, x: Any) -> Any:
        """P(X <= x)."""
        xp, x, dtype, (mu, sigma) = self._prepare(x)
        return self._finish(xp, special_for(xp).ndtr((x - mu) / sigma), dtype)

    def icdf(self, q: Any) -> Any:
        """Quantile: the ``x`` with ``cdf(x) == q``."""
        xp, q, dtype, (mu, sigma) = self._prepare(q, "q")
        return self._finish(xp, mu + sigma * special_for(xp).ndtri(q), dtype)

    def mean(self) -> Any:
        """Mean ``mu``."""
        xp, dtype, (mu, sigma) = self._parameters()
        return self._finish(xp, xp.broadcast_to(mu, self.batch_shape), dtype)

    def variance(self) -> Any:
        """Variance ``sigma**2``."""
        xp, dtype, (mu, sigma) = self._parameters()
        return self._finish(xp, xp.broadcast_to(sigma * sigma, self.batch_shape), dtype)

    def entropy(self) -> Any:
        """Differential entropy ``log(sigma * sqrt(2 pi e))``."""
        xp, dtype, (mu, sigma) = self._parameters()
        h = 0.5 * (LOG_2PI + 1.0) + xp.log(sigma)
        return self._finish(xp, xp.broadcast_to(h, self.batch_shape), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """Draws of shape ``shape + batch_shape`` (``rng``: Generator, seed or None)."""
        gen, full, dtype, (mu, sigma) = self._sample_setup(shape, rng)
        return mu + sigma * gen.standard_normal(full, dtype=dtype)


class Uniform(_Continuous):
    """Uniform distribution on ``[low, high]``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Uniform
    >>> float(Uniform(0.0, 4.0).pdf(np.array(1.0)))
    0.25
    """

    def __init__(self, low: Any = 0.0, high: Any = 1.0) -> None:
        self._set_params(low=low, high=high)
        self._require("low", finite, "finite")
        self._require("high", finite, "finite")
        xp, _, (low_, high_) = self._parameters()
        low_, high_ = xp.broadcast_arrays(low_, high_)
        bad = ~(high_ > low_)
        if bool(xp.any(bad)):
            lo, hi = (first_bad(v, bad) for v in (low_, high_))
            raise ValueError(f"`high` must be > `low`; got low={lo!r}, high={hi!r}")

    def logpdf(self, x: Any) -> Any:
        """Log density at ``x``: ``-log(high - low)`` inside, -inf outside."""
        xp, x, dtype, (low, high) = self._prepare(x)
        inside = (x >= low) & (x <= high)
        return self._finish(xp, _masked(xp, x, inside, -xp.log(high - low), -math.inf), dtype)

    def cdf(self, x: Any) -> Any:
        """P(X <= x)."""
        xp, x, dtype, (low, high) = self._prepare(x)
        return self._finish(xp, xp.clip((x - low) / (high - low), 0.0, 1.0), dtype)

    def icdf(self, q: Any) -> Any:
        """Quantile ``low + q * (high - low)``."""
        xp, q, dtype, (low, high) = self._prepare(q, "q")
        return self._finish(xp, _icdf_domain(xp, q, low + q * (high - low)), dtype)

    def mean(self) -> Any:
        """Mean ``(low + high) / 2``."""
        xp, dtype, (low, high) = self._parameters()
        return self._finish(xp, xp.broadcast_to((low + high) / 2, self.batch_shape), dtype)

    def variance(self) -> Any:
        """Variance ``(high - low)**2 / 12``."""
        xp, dtype, (low, high) = self._parameters()
        return self._finish(xp, xp.broadcast_to((high - low) ** 2 / 12, self.batch_shape), dtype)

    def entropy(self) -> Any:
        """Differential entropy ``log(high - low)``."""
        xp, dtype, (low, high) = self._parameters()
        return self._finish(xp, xp.broadcast_to(xp.log(high - low), self.batch_shape), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """Draws of shape ``shape + batch_shape``."""
        gen, full, dtype, (low, high) = self._sample_setup(shape, rng)
        return low + (high - low) * gen.random(full, dtype=dtype)


class Exponential(_Continuous):
    """Exponential distribution with rate ``rate`` (mean ``1 / rate``).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Exponential
    >>> float(Exponential(2.0).logpdf(np.array(-1.0)))
    -inf
    """

    def __init__(self, rate: Any = 1.0) -> None:
        self._set_params(rate=rate)
        self._require("rate", positive, "> 0")

    def logpdf(self, x: Any) -> Any:
        """Log density ``log(rate) - rate * x`` for ``x >= 0``, -inf below."""
        xp, x, dtype, (rate,) = self._prepare(x)
        return self._finish(xp, _masked(xp, x, x >= 0, xp.log(rate) - rate * x, -math.inf), dtype)

    def cdf(self, x: Any) -> Any:
        """P(X <= x) ``= 1 - exp(-rate x)``."""
        xp, x, dtype, (rate,) = self._prepare(x)
        return self._finish(xp, -xp.expm1(-rate * xp.clip(x, 0.0, None)), dtype)

    def icdf(self, q: Any) -> Any:
        """Quantile ``-log1p(-q) / rate``."""
        xp, q, dtype, (rate,) = self._prepare(q, "q")
        safe = xp.clip(q, 0.0, 1.0)
        log_survival = special_for(xp).xlog1py(xp.ones_like(safe), -safe)  # -inf at q=1, quietly
        return self._finish(xp, _icdf_domain(xp, q, -log_survival / rate), dtype)

    def mean(self) -> Any:
        """Mean ``1 / rate``."""
        xp, dtype, (rate,) = self._parameters()
        return self._finish(xp, 1 / rate, dtype)

    def variance(self) -> Any:
        """Variance ``1 / rate**2``."""
        xp, dtype, (rate,) = self._parameters()
        return self._finish(xp, 1 / (rate * rate), dtype)

    def entropy(self) -> Any:
        """Differential entropy ``1 - log(rate)``."""
        xp, dtype, (rate,) = self._parameters()
        return self._finish(xp, 1 - xp.log(rate), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """Draws of shape ``shape + batch_shape``."""
        gen, full, dtype, (rate,) = self._sample_setup(shape, rng)
        return gen.exponential(1.0, full, dtype=dtype) / rate


class Gamma(_Continuous):
    """Gamma distribution with shape ``shape`` and rate ``rate`` (mean ``shape / rate``).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Gamma
    >>> round(float(Gamma(2.0, 1.0).cdf(np.array(1.0))), 6)
    0.264241
    """

    def __init__(self, shape: Any = 1.0, rate: Any = 1.0) -> None:
        self._set_params(shape=shape, rate=rate)
        self._require("shape", positive, "> 0")
        self._require("rate", positive, "> 0")

    def logpdf(self, x: Any) -> Any:
        """Log density; -inf for ``x < 0``."""
        xp, x, dtype, (k, rate) = self._prepare(x)
        sp = special_for(xp)
        safe = xp.clip(x, 0.0, None)
        value = sp.xlogy(k - 1, safe) + k * xp.log(rate) - rate * safe - sp.gammaln(k)
        return self._finish(xp, _masked(xp, x, x >= 0, value, -math.inf), dtype)

    def cdf(self, x: Any) -> Any:
        """P(X <= x): the regularised lower incomplete gamma function."""
        xp, x, dtype, (k, rate) = self._prepare(x)
        cdf = special_for(xp).gammainc(k, rate * xp.clip(x, 0.0, None))
        return self._finish(xp, xp.where(xp.isnan(x), x, cdf), dtype)

    def icdf(self, q: Any) -> Any:
        """Quantile through ``gammaincinv``."""
        xp, q, dtype, (k, rate) = self._prepare(q, "q")
        value = special_for(xp).gammaincinv(k, xp.clip(q, 0.0, 1.0)) / rate
        return self._finish(xp, _icdf_domain(xp, q, value), dtype)

    def mean(self) -> Any:
        """Mean ``shape / rate``."""
        xp, dtype, (k, rate) = self._parameters()
        return self._finish(xp, k / rate, dtype)

    def variance(self) -> Any:
        """Variance ``shape / rate**2``."""
        xp, dtype, (k, rate) = self._parameters()
        return self._finish(xp, k / (rate * rate), dtype)

    def entropy(self) -> Any:
        """``k - log(rate) + gammaln(k) + (1 - k) digamma(k)``."""
        xp, dtype, (k, rate) = self._parameters()
        sp = special_for(xp)
        return self._finish(xp, k - xp.log(rate) + sp.gammaln(k) + (1 - k) * sp.digamma(k), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """Draws of shape ``shape + batch_shape``."""
        gen, full, dtype, (k, rate) = self._sample_setup(shape, rng)
        return gen.gamma(k, 1.0, full, dtype=dtype) / rate


class Beta(_Continuous):
    """Beta distribution on [0, 1] with shape parameters ``a`` and ``b``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Beta
    >>> float(Beta(2.0, 2.0).cdf(np.array(0.5)))
    0.5
    """

    def __init__(self, a: Any = 1.0, b: Any = 1.0) -> None:
        self._set_params(a=a, b=b)
        self._require("a", positive, "> 0")
        self._require("b", positive, "> 0")

    def logpdf(self, x: Any) -> Any:
        """Log density; -inf outside [0, 1]."""
        xp, x, dtype, (a, b) = self._prepare(x)
        sp = special_for(xp)
        safe = xp.clip(x, 0.0, 1.0)
        value = sp.xlogy(a - 1, safe) + sp.xlog1py(b - 1, -safe) - sp.betaln(a, b)
        return self._finish(xp, _masked(xp, x, (x >= 0) & (x <= 1), value, -math.inf), dtype)

    def cdf(self, x: Any) -> Any:
        """P(X <= x): the regularised incomplete beta function."""
        xp, x, dtype, (a, b) = self._prepare(x)
        cdf = special_for(xp).betainc(a, b, xp.clip(x, 0.0, 1.0))
        return self._finish(xp, xp.where(xp.isnan(x), x, cdf), dtype)

    def icdf(self, q: Any) -> Any:
        """Quantile through ``betaincinv``."""
        xp, q, dtype, (a, b) = self._prepare(q, "q")
        value = special_for(xp).betaincinv(a, b, xp.clip(q, 0.0, 1.0))
        return self._finish(xp, _icdf_domain(xp, q, value), dtype)

    def mean(self) -> Any:
        """Mean ``a / (a + b)``."""
        xp, dtype, (a, b) = self._parameters()
        return self._finish(xp, a / (a + b), dtype)

    def variance(self) -> Any:
        """Variance ``ab / ((a + b)**2 (a + b + 1))``."""
        xp, dtype, (a, b) = self._parameters()
        s = a + b
        return self._finish(xp, a * b / (s * s * (s + 1)), dtype)

    def entropy(self) -> Any:
        """``betaln(a, b) - (a-1) psi(a) - (b-1) psi(b) + (a+b-2) psi(a+b)``."""
        xp, dtype, (a, b) = self._parameters()
        sp = special_for(xp)
        h = (
            sp.betaln(a, b)
            - (a - 1) * sp.digamma(a)
            - (b - 1) * sp.digamma(b)
            + (a + b - 2) * sp.digamma(a + b)
        )
        return self._finish(xp, h, dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """Draws of shape ``shape + batch_shape``."""
        gen, full, dtype, (a, b) = self._sample_setup(shape, rng)
        return gen.beta(a, b, full, dtype=dtype)
