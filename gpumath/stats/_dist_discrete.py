"""Discrete distributions: Bernoulli, Poisson, Categorical, Multinomial.

``pmf``/``logpmf`` are 0/-inf at points outside the support (negative, non-integer, or, for
Multinomial, counts that do not sum to ``n``); NaN inputs give NaN. Probability vectors must
be >= 0 and sum to one along their last axis within ``sqrt(eps)`` of their dtype (1.5e-8 for
float64, 3.5e-4 for float32).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import array_namespace
from ._dist_base import (
    Distribution,
    finite,
    first_bad,
    non_negative,
    probability,
    special_for,
)

__all__ = ["Bernoulli", "Categorical", "Multinomial", "Poisson"]


def _masked(xp: Any, nan: Any, inside: Any, value: Any, outside: float, dtype: Any) -> Any:
    """``value`` where ``inside``, ``outside`` elsewhere, NaN where ``nan``."""
    out = xp.where(inside, value, xp.asarray(outside, dtype=dtype))
    return xp.where(nan, xp.asarray(math.nan, dtype=dtype), out)


def _integer(xp: Any, k: Any) -> Any:
    return xp.isfinite(k) & (k == xp.floor(k))


class _Discrete(Distribution):
    def pmf(self, k: Any) -> Any:
        """Probability mass at ``k``: ``exp(logpmf(k))``."""
        logp = self.logpmf(k)
        return array_namespace(logp).exp(logp)


class _WithProbs(_Discrete):
    """A distribution over the last axis of a probability vector ``probs``."""

    def _set_probs(self, probs: Any, logits: Any, **others: Any) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("give exactly one of `probs` and `logits`")
        if logits is not None:
            self._set_params(**others, probs=logits)
            self._require("probs", lambda v: ~array_namespace(v).isnan(v), "free of NaN (logits)")
            lg = self._params["probs"]
            xp = array_namespace(lg)
            w = xp.exp(lg - xp.max(lg, axis=-1, keepdims=True))
            self._params["probs"] = w / xp.sum(w, axis=-1, keepdims=True)
        else:
            self._set_params(**others, probs=probs)
        p = self._params["probs"]
        if p.ndim == 0 or p.shape[-1] == 0:
            raise ValueError(f"`probs` must have at least one category; got shape {p.shape}")
        self._require("probs", non_negative, ">= 0")
        xp = array_namespace(p)
        tol = math.sqrt(float(np.finfo(np.dtype(p.dtype)).eps))
        total = xp.sum(p, axis=-1)
        bad = ~(xp.abs(total - 1) <= tol)
        if bool(xp.any(bad)):
            got = first_bad(total, bad)
            raise ValueError(
                f"`probs` must sum to 1 along the last axis (tolerance {tol:.1e}); got sum {got!r}"
            )

    def _param_batch_shape(self, name: str) -> tuple[int, ...]:
        shape = tuple(self._params[name].shape)
        return shape[:-1] if name == "probs" else shape


class Bernoulli(_Discrete):
    """Bernoulli distribution: 1 with probability ``p``, else 0.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Bernoulli
    >>> Bernoulli(0.25).pmf(np.array([0, 1, 2])).tolist()
    [0.75, 0.25, 0.0]
    """

    def __init__(self, p: Any = 0.5) -> None:
        self._set_params(p=p)
        self._require("p", probability, "in [0, 1]")

    def logpmf(self, k: Any) -> Any:
        """Log mass at ``k``; -inf outside {0, 1}."""
        xp, k, dtype, (p,) = self._prepare(k, "k")
        sp = special_for(xp)
        inside = (k == 0) | (k == 1)
        ks = xp.where(inside, k, xp.zeros_like(k))
        value = sp.xlogy(ks, p) + sp.xlog1py(1 - ks, -p)
        return self._finish(xp, _masked(xp, xp.isnan(k), inside, value, -math.inf, dtype), dtype)

    def cdf(self, k: Any) -> Any:
        """P(X <= k)."""
        xp, k, dtype, (p,) = self._prepare(k, "k")
        one = xp.ones_like(k)
        value = xp.where(k < 0, 0 * one, xp.where(k < 1, 1 - p, one))
        return self._finish(xp, xp.where(xp.isnan(k), k, value), dtype)

    def icdf(self, q: Any) -> Any:
        """Smallest ``k`` with ``cdf(k) >= q``; NaN outside [0, 1]."""
        xp, q, dtype, (p,) = self._prepare(q, "q")
        value = xp.where(q <= 1 - p, 0 * q, 0 * q + 1)
        inside = (q >= 0) & (q <= 1)
        return self._finish(xp, xp.where(inside, value, xp.asarray(math.nan, dtype=dtype)), dtype)

    def mean(self) -> Any:
        """Mean ``p``."""
        xp, dtype, (p,) = self._parameters()
        return self._finish(xp, p, dtype)

    def variance(self) -> Any:
        """Variance ``p (1 - p)``."""
        xp, dtype, (p,) = self._parameters()
        return self._finish(xp, p * (1 - p), dtype)

    def entropy(self) -> Any:
        """Entropy in nats."""
        xp, dtype, (p,) = self._parameters()
        sp = special_for(xp)
        return self._finish(xp, sp.entr(p) + sp.entr(1 - p), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """int64 draws of shape ``shape + batch_shape``."""
        gen, full, dtype, (p,) = self._sample_setup(shape, rng)
        return gen.bernoulli(p, full, dtype=np.int64)


class Poisson(_Discrete):
    """Poisson distribution with mean ``rate``.

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Poisson
    >>> round(float(Poisson(2.0).pmf(np.array(0))), 6)
    0.135335
    """

    def __init__(self, rate: Any = 1.0) -> None:
        self._set_params(rate=rate)
        self._require("rate", lambda v: non_negative(v) & finite(v), "finite and >= 0")

    def logpmf(self, k: Any) -> Any:
        """Log mass ``k log(rate) - rate - log(k!)``; -inf off the non-negative integers."""
        xp, k, dtype, (rate,) = self._prepare(k, "k")
        sp = special_for(xp)
        inside = _integer(xp, k) & (k >= 0)
        ks = xp.where(inside, k, xp.zeros_like(k))
        value = sp.xlogy(ks, rate) - rate - sp.gammaln(ks + 1)
        return self._finish(xp, _masked(xp, xp.isnan(k), inside, value, -math.inf, dtype), dtype)

    def cdf(self, k: Any) -> Any:
        """P(X <= k) ``= gammaincc(floor(k) + 1, rate)``."""
        xp, k, dtype, (rate,) = self._prepare(k, "k")
        kf = xp.floor(xp.where(xp.isfinite(k) & (k >= 0), k, xp.zeros_like(k)))
        value = special_for(xp).gammaincc(kf + 1, rate)
        one = xp.ones_like(value)
        value = xp.where(k < 0, 0 * one, xp.where(xp.isinf(k), one, value))
        return self._finish(xp, xp.where(xp.isnan(k), k, value), dtype)

    def icdf(self, q: Any) -> Any:
        """Smallest ``k`` with ``cdf(k) >= q`` (SciPy's ``ppf`` for 0 < q <= 1, so ``inf``
        at ``q = 1``); 0 at ``q = 0`` like the other discrete icdfs here; NaN outside [0, 1].

        A bisection over the integers on ``gammaincc`` (``cupyx.scipy.special`` has no
        ``pdtrik``), with a fixed number of steps: finding the bracket costs one host sync.
        """
        xp, q, dtype, (rate,) = self._prepare(q, "q")
        sp = special_for(xp)
        top = float(xp.max(rate)) if rate.size else 0.0
        # P(X > rate + 10 sqrt(rate) + 50) is below 1e-20 for every rate: cdf(hi) >= q there
        # for any q < 1 that a float can hold.
        bound = math.ceil(top + 10 * math.sqrt(top) + 50)
        lo = xp.full_like(q + rate, -1.0)  # invariant: cdf(lo) < q <= cdf(hi)
        hi = xp.full_like(lo, float(bound))
        for _ in range(bound.bit_length() + 1):
            mid = xp.floor((lo + hi) / 2)
            below = (mid < 0) | (sp.gammaincc(xp.maximum(mid, 0 * mid) + 1, rate) < q)
            lo, hi = xp.where(below, mid, lo), xp.where(below, hi, mid)
        value = xp.where(q >= 1, xp.asarray(math.inf, dtype=dtype), hi)
        inside = (q >= 0) & (q <= 1)
        return self._finish(xp, xp.where(inside, value, xp.asarray(math.nan, dtype=dtype)), dtype)

    def mean(self) -> Any:
        """Mean ``rate``."""
        xp, dtype, (rate,) = self._parameters()
        return self._finish(xp, rate, dtype)

    def variance(self) -> Any:
        """Variance ``rate``."""
        return self.mean()

    def entropy(self) -> Any:
        """Entropy in nats, summed over ``k <= max(rate) + 12 sqrt(max(rate)) + 30``.

        The tail beyond is below 1e-30 of the mass. Finding the range costs one host sync.
        """
        xp, dtype, (rate,) = self._parameters()
        sp = special_for(xp)
        top = float(xp.max(rate)) if rate.size else 0.0
        count = int(math.ceil(top + 12 * math.sqrt(top) + 30)) + 1
        ks = xp.reshape(xp.arange(count, dtype=dtype), (count,) + (1,) * rate.ndim)
        logp = sp.xlogy(ks, rate) - rate - sp.gammaln(ks + 1)
        return self._finish(xp, xp.sum(sp.entr(xp.exp(logp)), axis=0), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """int64 draws of shape ``shape + batch_shape``."""
        gen, full, dtype, (rate,) = self._sample_setup(shape, rng)
        return gen.poisson(rate, full)


class Categorical(_WithProbs):
    """Categorical distribution over ``0 .. K-1`` from ``probs`` or ``logits`` (last axis).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Categorical
    >>> d = Categorical(logits=np.log(np.array([0.2, 0.3, 0.5])))
    >>> np.round(d.pmf(np.array([0, 2, 3])), 6).tolist()
    [0.2, 0.5, 0.0]
    """

    def __init__(self, probs: Any = None, *, logits: Any = None) -> None:
        self._set_probs(probs, logits)

    def _lookup(self, xp: Any, table: Any, k: Any) -> Any:
        """``table[..., k]`` with ``k`` (float, any valid index) broadcast against the batch."""
        n = table.shape[-1]
        idx = xp.astype(xp.clip(xp.where(xp.isfinite(k), k, xp.zeros_like(k)), 0, n - 1), np.int64)
        shape = np.broadcast_shapes(tuple(idx.shape), tuple(table.shape[:-1]))
        table = xp.broadcast_to(table, (*shape, n))
        idx = xp.broadcast_to(idx, shape)[..., None]
        return xp.take_along_axis(table, idx, axis=-1)[..., 0]

    def logpmf(self, k: Any) -> Any:
        """Log probability of category ``k``; -inf outside ``0 .. K-1``."""
        xp, k, dtype, (p,) = self._prepare(k, "k")
        n = p.shape[-1]
        inside = _integer(xp, k) & (k >= 0) & (k <= n - 1)
        value = self._lookup(xp, p, xp.floor(k))
        logv = special_for(xp).xlogy(xp.ones_like(value), value)
        return self._finish(xp, _masked(xp, xp.isnan(k), inside, logv, -math.inf, dtype), dtype)

    def cdf(self, k: Any) -> Any:
        """P(X <= k)."""
        xp, k, dtype, (p,) = self._prepare(k, "k")
        n = p.shape[-1]
        value = self._lookup(xp, xp.cumulative_sum(p, axis=-1), xp.floor(k))
        value = xp.where(k < 0, 0 * value, xp.where(k >= n - 1, 0 * value + 1, value))
        return self._finish(xp, xp.where(xp.isnan(k), k, value), dtype)

    def icdf(self, q: Any) -> Any:
        """Smallest category ``k`` with ``cdf(k) >= q``; NaN for ``q`` outside [0, 1]."""
        xp, q, dtype, (p,) = self._prepare(q, "q")
        n = p.shape[-1]
        cdf = xp.cumulative_sum(p, axis=-1)
        count = xp.sum(xp.astype(cdf < q[..., None], dtype), axis=-1)
        value = xp.minimum(count, xp.asarray(n - 1, dtype=dtype))
        inside = (q >= 0) & (q <= 1)
        return self._finish(xp, xp.where(inside, value, xp.asarray(math.nan, dtype=dtype)), dtype)

    def _index_moment(self, power: int) -> tuple[Any, Any, Any]:
        xp, dtype, (p,) = self._parameters()
        k = xp.arange(p.shape[-1], dtype=dtype)
        return xp, dtype, xp.sum(k**power * p, axis=-1)

    def mean(self) -> Any:
        """Mean category index ``sum_k k p_k``."""
        xp, dtype, m1 = self._index_moment(1)
        return self._finish(xp, m1, dtype)

    def variance(self) -> Any:
        """Variance of the category index."""
        xp, dtype, m2 = self._index_moment(2)
        m1 = self.mean()
        return self._finish(xp, m2 - m1 * m1, dtype)

    def entropy(self) -> Any:
        """Entropy ``-sum p log p`` in nats."""
        xp, dtype, (p,) = self._parameters()
        return self._finish(xp, xp.sum(special_for(xp).entr(p), axis=-1), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """int64 category indices of shape ``shape + batch_shape``."""
        gen, full, dtype, (p,) = self._sample_setup(shape, rng)
        return gen.categorical(probs=p, size=full)


class Multinomial(_WithProbs):
    """Counts of ``n`` draws from ``probs`` over ``K`` categories (event shape ``(K,)``).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.stats.distributions import Multinomial
    >>> d = Multinomial(3, np.array([0.5, 0.5]))
    >>> float(d.pmf(np.array([1.0, 2.0])))
    0.375
    """

    def __init__(self, n: Any, probs: Any = None, *, logits: Any = None) -> None:
        self._set_probs(probs, logits, n=n)
        self._require("n", lambda v: non_negative(v) & finite(v) & (v == v // 1), "an integer >= 0")

    @property
    def event_shape(self) -> tuple[int, ...]:
        """``(K,)``: one draw is a vector of counts."""
        return (int(self._params["probs"].shape[-1]),)

    def logpmf(self, x: Any) -> Any:
        """Log probability of the count vectors ``x`` (last axis ``K``)."""
        xp, x, dtype, (n, p) = self._prepare(x)
        sp = special_for(xp)
        if x.ndim == 0 or x.shape[-1] != p.shape[-1]:
            raise ValueError(f"`x` must have {p.shape[-1]} counts on its last axis; got {x.shape}")
        ok = _integer(xp, x) & (x >= 0)
        xs = xp.where(ok, x, xp.zeros_like(x))
        inside = xp.all(ok, axis=-1) & (xp.sum(xs, axis=-1) == n)
        value = sp.gammaln(n + 1) + xp.sum(sp.xlogy(xs, p) - sp.gammaln(xs + 1), axis=-1)
        nan = xp.any(xp.isnan(x), axis=-1)
        return self._finish(xp, _masked(xp, nan, inside, value, -math.inf, dtype), dtype)

    def mean(self) -> Any:
        """Mean counts ``n p``."""
        xp, dtype, (n, p) = self._parameters()
        return self._finish(xp, n[..., None] * p, dtype)

    def variance(self) -> Any:
        """Variance of each count ``n p (1 - p)``."""
        xp, dtype, (n, p) = self._parameters()
        return self._finish(xp, n[..., None] * p * (1 - p), dtype)

    def covariance(self) -> Any:
        """Covariance matrix ``n (diag(p) - p p^T)`` (last two axes)."""
        xp, dtype, (n, p) = self._parameters()
        eye = xp.eye(p.shape[-1], dtype=dtype)
        outer = p[..., :, None] * p[..., None, :]
        return self._finish(xp, n[..., None, None] * (p[..., :, None] * eye - outer), dtype)

    def entropy(self) -> Any:
        """Entropy in nats, summed exactly over the binomial marginals (SciPy's formula).

        Costs ``O((max n + 1) * K)`` work per distribution and one host sync for ``max n``.
        """
        xp, dtype, (n, p) = self._parameters()
        sp = special_for(xp)
        top = int(float(xp.max(n))) if n.size else 0
        batch = np.broadcast_shapes(tuple(n.shape), tuple(p.shape[:-1]))
        ks = xp.reshape(xp.arange(top + 1, dtype=dtype), (top + 1,) + (1,) * (len(batch) + 1))
        nn = n[..., None]
        inside = ks <= nn
        rest = xp.where(inside, nn - ks, xp.zeros_like(nn - ks))
        log_binom = (
            sp.gammaln(nn + 1)
            - sp.gammaln(ks + 1)
            - sp.gammaln(rest + 1)
            + sp.xlogy(ks, p)
            + sp.xlog1py(rest, -p)
        )
        term = xp.where(inside, xp.exp(log_binom) * sp.gammaln(ks + 1), xp.zeros_like(log_binom))
        h = -sp.gammaln(n + 1) - n * xp.sum(sp.xlogy(p, p), axis=-1)
        return self._finish(xp, h + xp.sum(term, axis=(0, -1)), dtype)

    def sample(self, shape: Any = (), *, rng: Any = None) -> Any:
        """int64 counts of shape ``shape + batch_shape + (K,)``."""
        gen, full, dtype, (n, p) = self._sample_setup(shape, rng)
        # n was checked to be whole at construction; the generator takes counts as integers.
        return gen.multinomial(n.astype(np.int64), p, size=full)
