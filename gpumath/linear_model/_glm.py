"""Generalised linear models fitted by IRLS (Fisher scoring), with statsmodels' summary.

The objective is scikit-learn's::

    1 / (2 W) sum_i w_i d(y_i, mu_i) + alpha / 2 ||coef||^2,    mu = g^-1(X coef + b)

with ``d`` the family's unit deviance and ``W = sum w_i``. Each IRLS step solves the
weighted normal equations ``(X^T D X / W + alpha P) step = -gradient`` with
``gpumath.linalg.solve`` (``D = w / (V(mu) g'(mu)^2)``) and halves the step until the
objective decreases. It stops when the largest gradient entry is at most ``tol``, or when
a full step changes the objective only at rounding level (the optimum to the dtype's
precision). Newton-type methods take few iterations, each dominated by one
``(p, p)`` solve, so the host reads the objective and gradient norm once per iteration.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np
from array_api_compat import device as _device

from .. import linalg
from .._backend import array_namespace, to_numpy
from ._base import (
    BaseEstimator,
    ConvergenceWarning,
    check_is_fitted,
    check_n_features,
    check_sample_weight,
    check_y_given,
    validate_data,
    weighted_gram,
)
from ._families import Family, Link, get_family, get_link

__all__ = ["GLM", "GLMSummary", "PoissonRegressor"]


@dataclass
class GLMSummary:
    """statsmodels-style results of an unpenalised GLM fit (NumPy arrays on the host).

    ``params``, ``bse``, ``tvalues``, ``pvalues`` and ``conf_int`` (shape (p, 2)) list the
    intercept first (statsmodels' ``add_constant`` order), then the coefficients.
    ``tvalues`` are z statistics unless ``use_t``.
    """

    names: list[str]
    params: np.ndarray
    bse: np.ndarray
    tvalues: np.ndarray
    pvalues: np.ndarray
    conf_int: np.ndarray
    family: str
    link: str
    nobs: int
    df_model: int
    df_resid: int
    scale: float
    deviance: float
    pearson_chi2: float
    use_t: bool
    alpha: float

    def __str__(self) -> str:
        stat = "t" if self.use_t else "z"
        lo, hi = f"[{self.alpha / 2:.3g}", f"{1 - self.alpha / 2:.3g}]"
        head = [
            f"GLM  family: {self.family}  link: {self.link}  nobs: {self.nobs}  "
            f"df_model: {self.df_model}  df_resid: {self.df_resid}",
            f"deviance: {self.deviance:.6g}  pearson chi2: {self.pearson_chi2:.6g}  "
            f"scale: {self.scale:.6g}",
            f"{'':<12}{'coef':>12}{'std err':>12}{stat:>10}{'P>|' + stat + '|':>10}"
            f"{lo:>12}{hi:>12}",
        ]
        body = [
            f"{n:<12}{p:>12.4f}{s:>12.4f}{t:>10.3f}{pv:>10.3f}{a:>12.4f}{b:>12.4f}"
            for n, p, s, t, pv, (a, b) in zip(
                self.names,
                self.params,
                self.bse,
                self.tvalues,
                self.pvalues,
                self.conf_int,
                strict=True,
            )
        ]
        return "\n".join(head + body)


class _GLMBase(BaseEstimator):
    """IRLS fit and prediction shared by ``GLM`` and ``PoissonRegressor``."""

    _estimator_type = "regressor"

    def _components(self) -> tuple[Family, Link]:
        raise NotImplementedError

    def _positive_y(self) -> bool:
        """Whether ``y`` must be >= 0 (scikit-learn's ``positive_only`` target tag)."""
        try:
            return self._components()[0].name != "gaussian"
        except ValueError:  # an invalid family: fit will say so
            return False

    def _check_params(self) -> None:
        a = self.alpha
        if isinstance(a, bool) or not isinstance(a, (int, float, np.number)) or not a >= 0:
            raise ValueError(f"`alpha` must be a float >= 0; got {a!r}")
        mi = self.max_iter
        if isinstance(mi, bool) or not isinstance(mi, (int, np.integer)) or mi < 1:
            raise ValueError(f"`max_iter` must be an int >= 1; got {mi!r}")
        if not isinstance(self.tol, (int, float, np.number)) or not self.tol > 0:
            raise ValueError(f"`tol` must be a float > 0; got {self.tol!r}")

    def fit(self, X: Any, y: Any, sample_weight: Any = None) -> _GLMBase:
        """Fit by IRLS; returns self.

        Parameters
        ----------
        X : array, shape (n_samples, n_features)
        y : array, shape (n_samples,)
            In the family's range: counts >= 0 (Poisson), in [0, 1] (binomial), > 0 (Gamma).
        sample_weight : array, shape (n_samples,), optional
            Weights of the deviance terms (statsmodels' ``var_weights``).
        """
        self._check_params()
        family, link = self._components()
        check_y_given(self, y)
        X, y, sw, xp = validate_data(X, y, sample_weight=sample_weight)
        if not bool(family.valid_y(y, xp)):
            low, high = (float(v) for v in to_numpy(xp.stack([xp.min(y), xp.max(y)])))
            raise ValueError(
                f"`y` must be {family.y_range} for family={family.name!r}; got values in "
                f"[{low!r}, {high!r}]"
            )
        n, d = X.shape
        if sw is None:
            sw = xp.ones((n,), dtype=X.dtype, device=_device(X))
        else:
            check_sample_weight(sw, xp)
        Xa = X
        if self.fit_intercept:
            Xa = xp.concat([X, xp.ones((n, 1), dtype=X.dtype, device=_device(X))], axis=1)
        beta, nit, converged, info = _irls(Xa, y, sw, family, link, float(self.alpha), self, xp)
        if not converged:
            warnings.warn(
                f"{type(self).__name__} (IRLS) stopped before max |gradient| <= tol="
                f"{self.tol!r} in max_iter={nit} iterations; increase max_iter or raise tol",
                ConvergenceWarning,
                stacklevel=2,
            )
        self.coef_ = beta[:d]
        self.intercept_ = (
            beta[d] if self.fit_intercept else xp.zeros((), dtype=X.dtype, device=_device(X))
        )
        self.n_iter_ = nit
        self.n_features_in_ = d
        # What summary() needs, kept instead of the data: the Fisher information at the fit
        # (unit scale), the deviance and Pearson's chi2.
        mu = family.clip_mu(link.inverse(Xa @ beta, xp), xp)
        V = family.variance(mu, xp)
        if info is None:
            gp = link.deriv(mu, xp)
            info = weighted_gram(Xa, sw / (V * gp * gp), xp)
        totals = xp.stack(
            [xp.sum(sw * family.unit_deviance(y, mu, xp)), xp.sum(sw * (y - mu) ** 2 / V)]
        )
        self._fit_stats = (info, totals, n)
        return self

    def _linear_predictor(self, X: Any) -> Any:
        check_is_fitted(self)
        X, _, _, xp = validate_data(X)
        check_n_features(self, X)
        return X @ xp.astype(self.coef_, X.dtype) + self.intercept_

    def predict(self, X: Any) -> Any:
        """Predicted mean ``g^-1(X coef_ + intercept_)``."""
        eta = self._linear_predictor(X)
        return self._components()[1].inverse(eta, array_namespace(eta))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """D^2, the fraction of deviance explained (scikit-learn's GLM score)."""
        mu = self.predict(X)
        X, y, sw, xp = validate_data(X, y, sample_weight=sample_weight)
        family = self._components()[0]
        if sw is None:
            sw = xp.ones_like(y)
        null = xp.sum(sw * y) / xp.sum(sw)
        dev = xp.sum(sw * family.unit_deviance(y, family.clip_mu(mu, xp), xp))
        dev_null = xp.sum(sw * family.unit_deviance(y, xp.ones_like(y) * null, xp))
        return float(to_numpy(1.0 - dev / dev_null))


def _irls(
    Xa: Any, y: Any, sw: Any, family: Family, link: Link, alpha: float, est: Any, xp: Any
) -> tuple[Any, int, bool, Any]:
    """Penalised Fisher scoring from statsmodels' start ``mu0``.

    Returns ``(beta, nit, ok, info)``: ``info`` is the unpenalised Fisher information
    ``X^T D X`` at ``beta`` when the last one formed was at ``beta`` (the usual exit: the
    gradient test), else None. It is the costliest product of an iteration, so ``fit``
    reuses it instead of forming it again.
    """
    p = Xa.shape[1]
    W = xp.sum(sw)
    mask = xp.ones((p,), dtype=Xa.dtype, device=_device(Xa))
    if est.fit_intercept:
        mask[-1] = 0.0
    ridge = xp.eye(p, dtype=Xa.dtype, device=_device(Xa)) * (alpha * mask)

    def fisher(mu: Any) -> tuple[Any, Any]:
        gp = link.deriv(mu, xp)
        D = sw / (family.variance(mu, xp) * gp * gp)
        return weighted_gram(Xa, D, xp), gp

    def state(beta: Any) -> tuple[Any, Any, Any]:
        mu = family.clip_mu(link.inverse(Xa @ beta, xp), xp)
        obj = xp.sum(sw * family.unit_deviance(y, mu, xp)) / (2.0 * W)
        obj = obj + 0.5 * alpha * xp.sum((beta * mask) ** 2)
        return mu, obj

    # First step: weighted least squares on the working response at mu0 (statsmodels).
    mu0 = family.clip_mu(family.starting_mu(y, xp), xp)
    info, gp = fisher(mu0)
    z = link.link(mu0, xp) + (y - mu0) * gp
    D = sw / (family.variance(mu0, xp) * gp * gp)
    beta = linalg.solve(info / W + ridge, xp.matrix_transpose(Xa) @ (D * z) / W)
    mu, obj = state(beta)
    tol = float(est.tol)
    eps = float(xp.finfo(Xa.dtype).eps)
    for nit in range(1, int(est.max_iter) + 1):
        info, gp = fisher(mu)
        grad = -(xp.matrix_transpose(Xa) @ (sw * (y - mu) / (family.variance(mu, xp) * gp)))
        grad = grad / W + alpha * mask * beta
        obj_h, gmax = (float(v) for v in to_numpy(xp.stack([obj, xp.max(xp.abs(grad))])))
        if gmax <= tol:
            return beta, nit, True, info
        step = linalg.solve(info / W + ridge, -grad)
        for _ in range(30):  # step halving keeps log/inverse links from overshooting
            mu_new, obj_new = state(beta + step)
            new_h = float(to_numpy(obj_new))
            if new_h <= obj_h:
                break
            step = step / 2.0
        else:  # no step along a descent direction decreases it: rounding decides now
            return beta, nit, True, info
        beta, mu, obj = beta + step, mu_new, obj_new
        if obj_h - new_h <= 10.0 * eps * abs(obj_h):
            # A Newton step gains about half its decrement; a gain at rounding level means
            # the optimum is reached to the dtype's precision (statsmodels' test is the
            # relative change of the deviance), whatever the gradient's units.
            return beta, nit, True, None
    return beta, int(est.max_iter), False, None


class GLM(_GLMBase):
    """Generalised linear model fitted by IRLS, with a statsmodels-style ``summary()``.

    Parameters
    ----------
    family : {"gaussian", "binomial", "poisson", "gamma"}, default "gaussian"
    link : {None, "identity", "log", "logit", "inverse"}, default None
        None is the family's default: identity, logit, log, and log for gamma (statsmodels'
        Gamma default is the inverse link: pass ``link="inverse"`` to match it).
    alpha : float, default 0.0
        L2 penalty on the coefficients (not the intercept), scikit-learn's scaling.
    fit_intercept : bool, default True
    max_iter : int, default 100
    tol : float, default 1e-8
        Stop when the largest entry of the objective's gradient is at most ``tol`` (or a
        full step changes the objective only at rounding level).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model import GLM
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> model = GLM(family="poisson").fit(X, np.array([1.0, 2.0, 4.0, 9.0]))
    >>> model.summary().params.shape
    (2,)
    """

    def __init__(
        self,
        family: str = "gaussian",
        link: str | None = None,
        alpha: float = 0.0,
        *,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-8,
    ) -> None:
        self.family = family
        self.link = link
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _components(self) -> tuple[Family, Link]:
        family = get_family(self.family)
        return family, get_link(self.link, family)

    def summary(self, alpha: float = 0.05, use_t: bool = False) -> GLMSummary:
        """Coefficients, standard errors, z (or t) statistics, p-values, confidence intervals.

        Follows statsmodels' ``GLM(...).fit()``: the covariance is ``scale (X^T D X)^-1``
        at the fit, the scale is 1 for Poisson and binomial and Pearson's chi2 / df_resid
        for Gaussian and Gamma; z statistics and normal p-values unless ``use_t`` (then
        Student t with df_resid, statsmodels' ``fit(use_t=True)``).

        Parameters
        ----------
        alpha : float, default 0.05
            Confidence intervals cover ``1 - alpha``.
        use_t : bool, default False

        Raises
        ------
        ValueError
            For a penalised fit (``alpha > 0`` in the constructor): its standard errors are
            not those of the unpenalised likelihood.
        """
        from scipy import stats

        check_is_fitted(self)
        if not 0 < alpha < 1:
            raise ValueError(f"`alpha` must be in (0, 1); got {alpha!r}")
        if self.alpha != 0:
            raise ValueError(f"summary() needs an unpenalised fit; got GLM(alpha={self.alpha!r})")
        family, link = self._components()
        info, totals, n = self._fit_stats
        xp = array_namespace(info)
        beta = self.coef_
        if self.fit_intercept:
            beta = xp.concat([self.coef_, xp.reshape(self.intercept_, (1,))])
        p = info.shape[0]
        # Solve, not invert: the diagonal of info^-1 from info C = I.
        cov_unit = linalg.solve(info, xp.eye(p, dtype=info.dtype, device=_device(info)))
        df_resid = n - p
        dev_h, pearson_h = (float(v) for v in to_numpy(totals))
        scale = 1.0 if family.fixed_scale() else pearson_h / df_resid
        order = [p - 1, *range(p - 1)] if self.fit_intercept else list(range(p))
        params = to_numpy(beta).astype(np.float64)[order]
        bse = np.sqrt(scale * np.diag(to_numpy(cov_unit)).astype(np.float64))[order]
        tvalues = params / bse
        dist = stats.t(df_resid) if use_t else stats.norm()
        q = dist.ppf(1 - alpha / 2)
        names = [f"x{i}" for i in range(p - int(self.fit_intercept))]
        return GLMSummary(
            names=(["intercept"] if self.fit_intercept else []) + names,
            params=params,
            bse=bse,
            tvalues=tvalues,
            pvalues=2 * dist.sf(np.abs(tvalues)),
            conf_int=np.stack([params - q * bse, params + q * bse], axis=1),
            family=family.name,
            link=link.name,
            nobs=n,
            df_model=p - int(self.fit_intercept),
            df_resid=df_resid,
            scale=scale,
            deviance=dev_h,
            pearson_chi2=pearson_h,
            use_t=use_t,
            alpha=alpha,
        )


class PoissonRegressor(_GLMBase):
    """Poisson regression with the log link, L2-penalised (scikit-learn's PoissonRegressor).

    Parameters
    ----------
    alpha : float, default 1.0
        L2 penalty on the coefficients; 0 is an unpenalised Poisson GLM.
    fit_intercept : bool, default True
    max_iter : int, default 100
    tol : float, default 1e-4
        Stop when the largest entry of the objective's gradient is at most ``tol`` (or a
        full step changes the objective only at rounding level).

    Examples
    --------
    >>> import numpy as np
    >>> from gpumath.linear_model import PoissonRegressor
    >>> X = np.array([[1.0, 2.0], [2.0, 3.0], [3.0, 4.0], [4.0, 3.0]])
    >>> reg = PoissonRegressor().fit(X, np.array([12.0, 17.0, 22.0, 21.0]))
    >>> reg.predict(np.array([[1.0, 1.0]])).shape
    (1,)
    """

    def __init__(
        self,
        *,
        alpha: float = 1.0,
        fit_intercept: bool = True,
        max_iter: int = 100,
        tol: float = 1e-4,
    ) -> None:
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.max_iter = max_iter
        self.tol = tol

    def _components(self) -> tuple[Family, Link]:
        family = get_family("poisson")
        return family, get_link(None, family)
