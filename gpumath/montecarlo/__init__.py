"""Monte Carlo: estimators with honest error bars, variance reduction, and MCMC.

- :func:`integrate` — integrals over a box (plain, antithetic, stratified, importance
  sampling), streamed in batches so ``n`` can exceed device memory;
- :func:`expectation` — ``E[f(X)]`` for a distribution object, with control variates;
- :func:`estimate_pi` — the classic estimate, one fused Philox kernel on a GPU;
- :func:`metropolis_hastings` — random-walk Metropolis with all chains vectorised, and its
  diagnostics :func:`split_r_hat` and :func:`effective_sample_size`;
- :func:`clt_experiment` — standardised sample means, for the Central Limit Theorem.

Everything runs where the generator (``rng=``) draws: on the CPU or on a GPU.
"""

from ._core import MCResult
from ._integrate import clt_experiment, expectation, integrate
from ._mcmc import MCMCResult, effective_sample_size, metropolis_hastings, split_r_hat
from ._pi import estimate_pi

__all__ = [
    "MCMCResult",
    "MCResult",
    "clt_experiment",
    "effective_sample_size",
    "estimate_pi",
    "expectation",
    "integrate",
    "metropolis_hastings",
    "split_r_hat",
]
