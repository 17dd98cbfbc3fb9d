"""Generator methods over categories and orderings: categorical, multinomial, choice,
permutation, shuffle. CuPy's Generator has none of them; on a GPU they are built here from
its uniforms and binomials, on the device."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .._backend import is_cupy_array
from ._common import Size, as_shape, check_counts, first, on_device


class SamplingMethods:
    """Mixin of :class:`gpumath.random.Generator` (it supplies ``_xp``, ``_gen``, ``_arr``,
    ``device``, ``random`` and ``integers``)."""

    def _check_probs(self, probs: Any, name: str) -> Any:
        """Validate probability vectors (last axis): >= 0 and summing to one within
        ``sqrt(eps)`` of their dtype (1.5e-8 for float64, 3.5e-4 for float32)."""
        xp = self._xp
        p = self._arr(probs, name)
        if p.dtype.kind != "f":
            p = p.astype(np.float64)
        if p.ndim == 0 or p.shape[-1] == 0:
            raise ValueError(f"`{name}` must have at least one category; got shape {p.shape}")
        tol = math.sqrt(float(np.finfo(p.dtype).eps))
        total = p.sum(axis=-1)
        bad_value = ~(p >= 0)  # catches NaN too
        bad_sum = ~(xp.abs(total - 1) <= tol)
        if bool(bad_value.any() | bad_sum.any()):  # one host sync for both checks
            if bool(bad_value.any()):
                raise ValueError(f"`{name}` must be >= 0; got {first(p, bad_value)!r}")
            raise ValueError(
                f"`{name}` must sum to 1 along the last axis (tolerance {tol:.1e}); "
                f"got sum {first(total, bad_sum)!r}"
            )
        return p

    @on_device
    def categorical(self, probs: Any = None, logits: Any = None, size: Size = None) -> Any:
        """Category indices (int64) drawn from ``probs`` or ``logits`` along the last axis.

        Inverse-CDF sampling: one uniform per draw, a binary search for one distribution,
        a comparison count across the categories for a batch of distributions (leading
        axes of ``probs``/``logits``, which ``size`` must broadcast with).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> c = gr.default_rng(0, device="cpu").categorical([0.2, 0.8], size=1000)
        >>> 0.7 < float((c == 1).mean()) < 0.9
        True
        """
        if (probs is None) == (logits is None):
            raise ValueError("give exactly one of `probs` and `logits`")
        xp = self._xp
        if probs is not None:
            weights = self._check_probs(probs, "probs")
        else:
            lg = self._arr(logits, "logits")
            lg = lg if lg.dtype.kind == "f" else lg.astype(np.float64)
            if lg.ndim == 0 or lg.shape[-1] == 0:
                raise ValueError(f"`logits` must have at least one category; got shape {lg.shape}")
            top = lg.max(axis=-1, keepdims=True)
            # +inf or an all -inf row would turn the shifted exponentials into NaN (or a
            # silently wrong last category): one host sync checks all three cases.
            bad = xp.isnan(lg) | xp.isinf(xp.broadcast_to(top, lg.shape))
            if bool(bad.any()):
                raise ValueError(
                    "`logits` must be free of NaN and +inf, with a finite maximum in every "
                    f"row; got {first(lg, bad)!r}"
                )
            weights = xp.exp(lg - top)  # stable softmax, unnormalised
        k = weights.shape[-1]
        shape = as_shape(size, weights[..., 0])
        cdf = xp.cumsum(weights, axis=-1)
        u = self.random(shape, dtype=cdf.dtype)
        if cdf.ndim == 1:
            idx = xp.searchsorted(cdf, u * cdf[-1], side="right")
        else:
            cdf = xp.broadcast_to(cdf, (*shape, k))
            idx = (cdf <= (u * cdf[..., -1])[..., None]).sum(axis=-1)
        return xp.minimum(idx, k - 1).astype(np.int64)

    @on_device
    def multinomial(self, n: Any, pvals: Any, size: Size = None) -> Any:
        """Counts (int64, last axis = categories) of ``n`` draws from ``pvals``.

        On a GPU, category ``j`` is a binomial draw of the trials left with probability
        ``pvals[j] / (mass left)`` (one device launch per category).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> c = gr.default_rng(0, device="cpu").multinomial(10, [0.5, 0.3, 0.2], size=4)
        >>> c.shape, bool((c.sum(axis=1) == 10).all())
        ((4, 3), True)
        """
        check_counts(n, "n")
        p = self._check_probs(pvals, "pvals").astype(np.float64)
        trials = self._arr(n, "n", np.int64)
        shape = as_shape(size, trials, p[..., 0])
        if self.device == "cpu":
            return self._gen.multinomial(trials, p, size=shape).astype(np.int64)
        xp = self._xp
        k = p.shape[-1]
        left = xp.array(xp.broadcast_to(trials, shape))
        mass_left = xp.ones(shape, dtype=np.float64)
        out = xp.empty((*shape, k), dtype=np.int64)
        for j in range(k - 1):
            pj = xp.broadcast_to(p[..., j], shape)
            ratio = xp.clip(pj / xp.where(mass_left > 0, mass_left, 1.0), 0.0, 1.0)
            draw = self._gen.binomial(left, ratio, size=shape)
            out[..., j] = draw
            left -= draw
            mass_left = mass_left - pj
        out[..., k - 1] = left
        return out

    # ------------------------------------------------------------------ permutations

    def _permutation_indices(self, n: int) -> Any:
        """A random permutation of range(n): argsort of float64 uniform keys (GPU path)."""
        return self._xp.argsort(self._gen.random(n))

    @on_device
    def permutation(self, x: Any) -> Any:
        """A shuffled ``arange(x)`` (int ``x``) or a shuffled copy of array ``x`` (axis 0).

        Examples
        --------
        >>> import gpumath.random as gr
        >>> sorted(gr.default_rng(0, device="cpu").permutation(5).tolist())
        [0, 1, 2, 3, 4]
        """
        if isinstance(x, int | np.integer):
            if x < 0:
                raise ValueError(f"`x` must be >= 0; got {int(x)}")
            if self.device == "cpu":
                return self._gen.permutation(int(x))
            return self._permutation_indices(int(x)).astype(np.int64)
        arr = self._arr(x, "x", real=False)
        if arr.ndim == 0:
            raise ValueError("`x` must be an integer or an array with at least one axis")
        if self.device == "cpu":
            return self._gen.permutation(arr)
        return arr[self._permutation_indices(arr.shape[0])]

    @on_device
    def shuffle(self, x: Any) -> None:
        """Shuffle array ``x`` in place along axis 0.

        Examples
        --------
        >>> import numpy as np, gpumath.random as gr
        >>> a = np.arange(5)
        >>> gr.default_rng(0, device="cpu").shuffle(a)
        >>> sorted(a.tolist())
        [0, 1, 2, 3, 4]
        """
        if not (isinstance(x, np.ndarray) or is_cupy_array(x)) or x.ndim == 0:
            raise TypeError(f"`x` must be an array with at least one axis; got {type(x).__name__}")
        self._arr(x, "x", real=False)  # device check
        if self.device == "cpu":
            self._gen.shuffle(x)
            return
        x[...] = x[self._permutation_indices(x.shape[0])]

    @on_device
    def choice(self, a: Any, size: Size = None, replace: bool = True, p: Any = None) -> Any:
        """Draw from ``arange(a)`` (int ``a``) or from the rows of array ``a``.

        Without replacement and with ``p``, the GPU path takes the top ``size`` of
        ``log(p) + Gumbel noise``, which is sequential sampling proportional to ``p``.

        Examples
        --------
        >>> import gpumath.random as gr
        >>> rng = gr.default_rng(0, device="cpu")
        >>> sorted(rng.choice(5, size=5, replace=False).tolist())
        [0, 1, 2, 3, 4]
        """
        shape = as_shape(size)
        m = math.prod(shape)
        if isinstance(a, int | np.integer):
            if a < 0 or (a == 0 and m > 0):  # as NumPy: a = 0 only when no samples are taken
                raise ValueError(f"`a` must be > 0; got {int(a)}")
            population, n = None, int(a)
        else:
            population = self._arr(a, "a", real=False)
            if population.ndim == 0 or (population.shape[0] == 0 and m > 0):
                raise ValueError("`a` must be a positive integer or a non-empty array")
            n = population.shape[0]
        probs = None if p is None else self._check_probs(p, "p")
        if probs is not None and probs.shape != (n,):
            raise ValueError(f"`p` must have shape ({n},) like the population; got {probs.shape}")
        if not replace and m > n:
            raise ValueError(f"cannot take {m} samples without replacement from {n}")
        if self.device == "cpu":
            return np.asarray(self._gen.choice(a, shape, replace=replace, p=probs))
        xp = self._xp
        if m == 0:  # no samples (the only case an empty population allows): no draw
            return xp.empty(shape, dtype=np.int64 if population is None else population.dtype)
        if replace and probs is not None:
            idx = self.categorical(probs, size=shape)
        elif replace:
            idx = self.integers(0, n, size=shape)
        elif probs is None:
            idx = self._permutation_indices(n)[:m].reshape(shape)
        else:
            if int((probs > 0).sum()) < m:
                raise ValueError(f"`p` has fewer than {m} non-zero entries for {m} samples")
            gumbel = -xp.log(-xp.log(self._gen.random(n)))
            keys = xp.log(probs.astype(np.float64)) + gumbel
            idx = xp.argsort(-keys)[:m].reshape(shape)
        return idx if population is None else population[idx]
