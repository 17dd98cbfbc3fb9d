"""Probability distributions as objects, after SciPy's new distribution infrastructure.

``Normal(mu, sigma)``, ``Uniform(low, high)``, ``Exponential(rate)``, ``Gamma(shape, rate)``,
``Beta(a, b)``, ``Bernoulli(p)``, ``Poisson(rate)``, ``Categorical(probs | logits)``,
``Multinomial(n, probs)`` and ``MultivariateNormal(mean, cov)``, each with
``sample(shape, rng=)``, ``pdf``/``logpdf`` (``pmf``/``logpmf`` for discrete ones), ``cdf`` and
``icdf`` where a closed form or special function exists, ``mean()``, ``variance()``,
``standard_deviation()`` and ``entropy()``.

Parameters broadcast into a batch of distributions. Array parameters fix the device and
dtype of every result; Python scalars follow the input. Invalid parameters raise
``ValueError("`sigma` must be > 0; got -1.0")``; points outside the support give density 0
and log density -inf.
"""

from ._dist_base import Distribution
from ._dist_continuous import Beta, Exponential, Gamma, Normal, Uniform
from ._dist_discrete import Bernoulli, Categorical, Multinomial, Poisson
from ._dist_multivariate import MultivariateNormal

__all__ = [
    "Bernoulli",
    "Beta",
    "Categorical",
    "Distribution",
    "Exponential",
    "Gamma",
    "Multinomial",
    "MultivariateNormal",
    "Normal",
    "Poisson",
    "Uniform",
]
