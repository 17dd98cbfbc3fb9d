"""Random-walk Metropolis-Hastings with every chain advanced at once, and its diagnostics.

Each step proposes ``x + step_size * N(0, I)`` for all chains in one array operation and
accepts by ``log u < logp(proposal) - logp(x)`` elementwise: no per-chain Python loop and no
host synchronisation per step. Diagnostics follow Gelman et al., *Bayesian Data Analysis*
(3rd ed.), §11.4-11.5: split-R-hat, and the effective sample size from the chains' FFT
autocorrelations truncated at Geyer's first negative pair sum.

The Bayesian logistic-regression example in :func:`metropolis_hastings` shows a posterior.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .._backend import array_namespace, asarray
from .._validate import check_array, check_callable
from ._core import check_count, generator

__all__ = ["MCMCResult", "effective_sample_size", "metropolis_hastings", "split_r_hat"]


@dataclass(frozen=True)
class MCMCResult:
    """Draws and diagnostics of :func:`metropolis_hastings`.

    ``samples`` has shape ``(n_chains, n_draws, d)``; ``r_hat`` and ``ess`` shape ``(d,)``;
    ``acceptance_rate`` shape ``(n_chains,)``. All live on the sampler's device.
    """

    samples: Any
    r_hat: Any
    ess: Any
    acceptance_rate: Any


def metropolis_hastings(
    logp: Callable[[Any], Any],
    x0: Any,
    n_steps: int,
    *,
    n_chains: int = 4,
    step_size: Any = 1.0,
    rng: Any = None,
    burn_in: int = 0,
    thin: int = 1,
) -> MCMCResult:
    """Sample ``exp(logp)`` with ``n_chains`` random-walk Metropolis chains in parallel.

    Parameters
    ----------
    logp : callable
        Log target density up to a constant, vectorised: ``(n_chains, d)`` in,
        ``(n_chains,)`` out. NaN or -inf rejects the proposal.
    x0 : array
        Start: shape ``(d,)`` (every chain starts there) or ``(n_chains, d)``; a scalar means
        ``d = 1``. Its float dtype (float32/float64) is the dtype of the chains.
    n_steps : int
        Steps after burn-in; every ``thin``-th is kept (``n_steps // thin`` draws).
    step_size : float or array of shape (d,)
        Standard deviation of the Gaussian proposal.
    rng : Generator, seed or None
        Device and stream of the chains.

    Returns
    -------
    MCMCResult
        ``samples``, split-``r_hat``, ``ess`` (effective sample size over all chains) and
        ``acceptance_rate``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.montecarlo import metropolis_hastings
    >>> from gpumath.random import default_rng
    >>> r = metropolis_hastings(lambda x: -0.5 * (x**2).sum(axis=1), np.zeros(1), 2000,
    ...                         n_chains=4, step_size=2.0, rng=default_rng(0, device="cpu"))
    >>> r.samples.shape
    (4, 2000, 1)

    A Bayesian logistic-regression posterior: 200 labels from ``P(y=1) = sigmoid(0.5 - x)``,
    a N(0, 10) prior on both coefficients, 8 chains. The log density is vectorised over
    the chains (one matrix product for all of them):

    >>> data = np.random.default_rng(1)
    >>> X = np.c_[np.ones(200), data.standard_normal(200)]
    >>> y = (data.random(200) < 1 / (1 + np.exp(-(X @ [0.5, -1.0])))).astype(float)
    >>> def logp(w):  # w: (chains, 2) -> (chains,)
    ...     z = X @ w.T  # (200, chains)
    ...     loglik = (y[:, None] * z - np.logaddexp(0, z)).sum(axis=0)
    ...     return loglik - 0.5 * (w**2).sum(axis=1) / 10.0
    >>> r = metropolis_hastings(logp, np.zeros(2), 3000, n_chains=8, step_size=0.25,
    ...                         rng=default_rng(0, device="cpu"), burn_in=500)
    >>> r.samples.shape, bool((r.r_hat < 1.01).all())
    ((8, 3000, 2), True)
    >>> draws = r.samples.reshape(-1, 2)  # the posterior: mean, sd and 95% credible intervals
    >>> post_mean, post_sd = draws.mean(axis=0), draws.std(axis=0)
    >>> bool(np.all(np.abs(post_mean - [0.5, -1.0]) < 3 * post_sd))
    True
    >>> np.quantile(draws, [0.025, 0.975], axis=0).shape
    (2, 2)
    """
    check_callable(logp, "logp")
    n_steps = check_count(n_steps, "n_steps", 4)
    n_chains = check_count(n_chains, "n_chains", 1)
    burn_in = check_count(burn_in, "burn_in", 0)
    thin = check_count(thin, "thin", 1)
    n_keep = n_steps // thin
    if n_keep < 4:
        raise ValueError(f"`n_steps // thin` must be >= 4 draws; got {n_keep}")
    gen = generator(rng, x0)
    xp = array_namespace(gen.random((0,)))
    x = asarray(x0, device=gen.device)  # host values (lists, NumPy) go to the generator's GPU
    dtype = x.dtype if x.dtype in (xp.float32, xp.float64) else xp.float64
    x = xp.astype(x, dtype)
    x = xp.reshape(x, (1,)) if x.ndim == 0 else x
    if x.ndim == 1:
        x = xp.broadcast_to(x[None, :], (n_chains, x.shape[0]))
    if x.ndim != 2 or x.shape[0] != n_chains:
        raise ValueError(f"`x0` must have shape (d,) or ({n_chains}, d); got {tuple(x.shape)}")
    d = x.shape[1]
    step = xp.astype(asarray(step_size, device=gen.device), dtype)
    if step.ndim > 1 or (step.ndim == 1 and step.shape[0] not in (1, d)):
        raise ValueError(
            f"`step_size` must be a scalar or have shape ({d},); got shape {tuple(step.shape)}"
        )
    if not bool(xp.all(step > 0)):
        raise ValueError(f"`step_size` must be > 0; got {step_size!r}")
    x = xp.asarray(x, copy=True)
    lp = logp(x)
    if tuple(getattr(lp, "shape", ())) != (n_chains,):
        raise ValueError(
            f"`logp` must map points of shape ({n_chains}, {d}) to ({n_chains},) log densities; "
            f"got shape {tuple(getattr(lp, 'shape', ()))}"
        )
    samples = xp.empty((n_keep, n_chains, d), dtype=dtype, device=x.device)
    accepted = xp.zeros((n_chains,), dtype=dtype, device=x.device)
    kept = 0
    for t in range(burn_in + n_steps):
        proposal = x + step * gen.standard_normal((n_chains, d), dtype=dtype)
        lp_new = logp(proposal)
        accept = xp.log(gen.random((n_chains,), dtype=dtype)) < lp_new - lp
        x = xp.where(accept[:, None], proposal, x)
        lp = xp.where(accept, lp_new, lp)
        if t >= burn_in:
            accepted = accepted + xp.astype(accept, dtype)
            if (t - burn_in + 1) % thin == 0 and kept < n_keep:
                samples[kept, ...] = x
                kept += 1
    chains = xp.moveaxis(samples, 0, 1)
    return MCMCResult(
        chains, split_r_hat(chains), effective_sample_size(chains), accepted / n_steps
    )


def _check_chains(chains: Any) -> None:
    """Draws must be a real ``(n_chains, n_draws, d)`` array."""
    check_array(chains, "chains")
    if np.dtype(chains.dtype).kind not in "iuf":
        raise TypeError(f"`chains` must have an integer or float dtype; got {chains.dtype}")
    if chains.ndim != 3:
        raise ValueError(
            f"`chains` must be 3-D (n_chains, n_draws, d); got shape {tuple(chains.shape)} "
            "(for one parameter add the last axis: chains[..., None])"
        )


def _split(chains: Any) -> Any:
    """``(m, n, d)`` -> ``(2m, n // 2, d)``: each chain's halves as separate chains."""
    xp = array_namespace(chains)
    half = chains.shape[1] // 2
    if half < 2:
        raise ValueError(f"chains must have at least 4 draws; got {chains.shape[1]}")
    return xp.concat([chains[:, :half], chains[:, chains.shape[1] - half :]], axis=0)


def split_r_hat(chains: Any) -> Any:
    """Split-R-hat of draws ``(n_chains, n_draws, d)``: near 1 when the chains agree.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.montecarlo import split_r_hat
    >>> float(split_r_hat(np.random.default_rng(0).standard_normal((4, 1000, 1)))[0]) < 1.01
    True
    """
    _check_chains(chains)
    xp = array_namespace(chains)
    split = _split(chains)
    n = split.shape[1]
    within = xp.mean(xp.var(split, axis=1, correction=1), axis=0)
    between_over_n = xp.var(xp.mean(split, axis=1), axis=0, correction=1)
    var_plus = (n - 1) / n * within + between_over_n
    return xp.sqrt(var_plus / within)


def effective_sample_size(chains: Any) -> Any:
    """Effective number of independent draws in ``(n_chains, n_draws, d)``, over all chains.

    Autocorrelations come from FFTs of the split chains, combined across chains as in BDA3
    (11.7), and summed in pairs up to the first negative pair (Geyer's initial positive
    sequence, without the monotone adjustment).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.montecarlo import effective_sample_size
    >>> white = np.random.default_rng(0).standard_normal((4, 1000, 1))
    >>> 3000 < float(effective_sample_size(white)[0]) < 5000
    True
    """
    _check_chains(chains)
    xp = array_namespace(chains)
    split = _split(chains)
    m, n = split.shape[0], split.shape[1]
    centred = split - xp.mean(split, axis=1, keepdims=True)
    size = 1 << (2 * n - 1).bit_length()
    spectrum = xp.fft.rfft(centred, n=size, axis=1)
    acov = xp.fft.irfft(spectrum * xp.conj(spectrum), n=size, axis=1)[:, :n] / n  # (m, n, d)
    within = xp.mean(acov[:, 0] * (n / (n - 1)), axis=0)
    var_plus = (n - 1) / n * within + xp.var(xp.mean(split, axis=1), axis=0, correction=1)
    rho = 1 - (within - xp.mean(acov, axis=0)) / var_plus  # (n, d)
    pairs = n // 2
    pair_sums = rho[: 2 * pairs : 2] + rho[1 : 2 * pairs : 2]  # (pairs, d)
    negative = pair_sums < 0
    first = xp.where(
        xp.any(negative, axis=0), xp.argmax(xp.astype(negative, xp.int32), axis=0), pairs
    )
    keep = xp.arange(pairs, device=rho.device)[:, None] < first[None, :]
    tau = -1 + 2 * xp.sum(xp.where(keep, pair_sums, xp.zeros_like(pair_sums)), axis=0)
    tau = xp.maximum(tau, xp.asarray(1 / math.log10(m * n), dtype=tau.dtype))
    return m * n / tau
