"""Exponential families and link functions for generalised linear models (array API only).

A family gives the variance function ``V(mu)``, the unit deviance ``d(y, mu)`` and the
valid range of ``y``; a link ``g`` maps the mean to the linear predictor ``eta = g(mu)``.
IRLS needs ``g``, ``g^-1`` and ``g'``. Everything is elementwise ``xp`` code, so it runs
where the data lives.
"""

from __future__ import annotations

from typing import Any

__all__ = ["FAMILIES", "LINKS", "Family", "Link", "get_family", "get_link"]


class Link:
    """``eta = g(mu)``: ``link``, its inverse ``inverse`` and derivative ``deriv``."""

    name = ""

    def link(self, mu: Any, xp: Any) -> Any:
        raise NotImplementedError

    def inverse(self, eta: Any, xp: Any) -> Any:
        raise NotImplementedError

    def deriv(self, mu: Any, xp: Any) -> Any:
        """``g'(mu)``."""
        raise NotImplementedError


class Identity(Link):
    name = "identity"

    def link(self, mu: Any, xp: Any) -> Any:
        return mu

    def inverse(self, eta: Any, xp: Any) -> Any:
        return eta

    def deriv(self, mu: Any, xp: Any) -> Any:
        return xp.ones_like(mu)


class Log(Link):
    name = "log"

    def link(self, mu: Any, xp: Any) -> Any:
        return xp.log(mu)

    def inverse(self, eta: Any, xp: Any) -> Any:
        return xp.exp(eta)

    def deriv(self, mu: Any, xp: Any) -> Any:
        return 1.0 / mu


class Logit(Link):
    name = "logit"

    def link(self, mu: Any, xp: Any) -> Any:
        return xp.log(mu) - xp.log1p(-mu)

    def inverse(self, eta: Any, xp: Any) -> Any:
        # Written with exp(-|eta|) <= 1 so that no branch overflows.
        e = xp.exp(-xp.abs(eta))
        return xp.where(eta >= 0, 1.0 / (1.0 + e), e / (1.0 + e))

    def deriv(self, mu: Any, xp: Any) -> Any:
        return 1.0 / (mu * (1.0 - mu))


class Inverse(Link):
    name = "inverse"

    def link(self, mu: Any, xp: Any) -> Any:
        return 1.0 / mu

    def inverse(self, eta: Any, xp: Any) -> Any:
        return 1.0 / eta

    def deriv(self, mu: Any, xp: Any) -> Any:
        return -1.0 / (mu * mu)


LINKS: dict[str, type[Link]] = {c.name: c for c in (Identity, Log, Logit, Inverse)}


class Family:
    """Variance ``V(mu)``, unit deviance, start values and the range ``y`` must lie in."""

    name = ""
    default_link = ""
    y_range = ""  # for the error message

    def variance(self, mu: Any, xp: Any) -> Any:
        raise NotImplementedError

    def unit_deviance(self, y: Any, mu: Any, xp: Any) -> Any:
        raise NotImplementedError

    def valid_y(self, y: Any, xp: Any) -> Any:
        """Device boolean: every ``y`` is in the family's support."""
        raise NotImplementedError

    def starting_mu(self, y: Any, xp: Any) -> Any:
        """statsmodels' start: halfway between each ``y`` and the mean of ``y``."""
        return (y + xp.mean(y)) / 2.0

    def clip_mu(self, mu: Any, xp: Any) -> Any:
        """Keep ``mu`` inside the domain of ``V`` and the link (no-op by default)."""
        return mu

    def fixed_scale(self) -> bool:
        """Whether the dispersion is 1 (Poisson, binomial) or estimated (Gaussian, Gamma)."""
        return False


def _xlogy_ratio(y: Any, mu: Any, xp: Any) -> Any:
    """``y log(y / mu)``, with the limit 0 at ``y = 0``."""
    safe = xp.where(y > 0, y, xp.ones_like(y))
    return xp.where(y > 0, y * xp.log(safe / mu), xp.zeros_like(y))


class Gaussian(Family):
    name, default_link, y_range = "gaussian", "identity", "finite"

    def variance(self, mu: Any, xp: Any) -> Any:
        return xp.ones_like(mu)

    def unit_deviance(self, y: Any, mu: Any, xp: Any) -> Any:
        return (y - mu) ** 2

    def valid_y(self, y: Any, xp: Any) -> Any:
        return xp.all(xp.isfinite(y))


class Binomial(Family):
    name, default_link, y_range = "binomial", "logit", "in [0, 1]"

    def variance(self, mu: Any, xp: Any) -> Any:
        return mu * (1.0 - mu)

    def unit_deviance(self, y: Any, mu: Any, xp: Any) -> Any:
        return 2.0 * (_xlogy_ratio(y, mu, xp) + _xlogy_ratio(1.0 - y, 1.0 - mu, xp))

    def valid_y(self, y: Any, xp: Any) -> Any:
        return xp.all((y >= 0) & (y <= 1))

    def starting_mu(self, y: Any, xp: Any) -> Any:
        return (y + 0.5) / 2.0

    def clip_mu(self, mu: Any, xp: Any) -> Any:
        eps = float(xp.finfo(mu.dtype).eps)
        return xp.clip(mu, eps, 1.0 - eps)

    def fixed_scale(self) -> bool:
        return True


class Poisson(Family):
    name, default_link, y_range = "poisson", "log", ">= 0 (counts)"

    def variance(self, mu: Any, xp: Any) -> Any:
        return mu

    def unit_deviance(self, y: Any, mu: Any, xp: Any) -> Any:
        return 2.0 * (_xlogy_ratio(y, mu, xp) - y + mu)

    def valid_y(self, y: Any, xp: Any) -> Any:
        return xp.all(y >= 0)

    def clip_mu(self, mu: Any, xp: Any) -> Any:
        return xp.maximum(mu, float(xp.finfo(mu.dtype).tiny))

    def fixed_scale(self) -> bool:
        return True


class Gamma(Family):
    # statsmodels' default Gamma link is the canonical inverse; the issue asks for log, which
    # keeps mu positive for any coefficients (scikit-learn's GammaRegressor does the same).
    name, default_link, y_range = "gamma", "log", "> 0"

    def variance(self, mu: Any, xp: Any) -> Any:
        return mu * mu

    def unit_deviance(self, y: Any, mu: Any, xp: Any) -> Any:
        return 2.0 * ((y - mu) / mu - xp.log(y / mu))

    def valid_y(self, y: Any, xp: Any) -> Any:
        return xp.all(y > 0)

    def clip_mu(self, mu: Any, xp: Any) -> Any:
        return xp.maximum(mu, float(xp.finfo(mu.dtype).tiny))


FAMILIES: dict[str, type[Family]] = {c.name: c for c in (Gaussian, Binomial, Poisson, Gamma)}


def get_family(name: Any) -> Family:
    """The family called ``name`` (one of ``FAMILIES``)."""
    if name not in FAMILIES:
        raise ValueError(f"`family` must be one of {sorted(FAMILIES)}; got {name!r}")
    return FAMILIES[name]()


def get_link(name: Any, family: Family) -> Link:
    """The link called ``name``, or the family's default when ``name`` is None."""
    if name is None:
        name = family.default_link
    if name not in LINKS:
        raise ValueError(f"`link` must be None or one of {sorted(LINKS)}; got {name!r}")
    return LINKS[name]()
