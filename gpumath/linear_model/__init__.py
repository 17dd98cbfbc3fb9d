"""Linear models: regression, classification, GLMs, regularisation (scikit-learn's API)."""

from ._glm import GLM, GLMSummary, PoissonRegressor
from ._logistic import LogisticRegression

__all__ = ["GLM", "GLMSummary", "LogisticRegression", "PoissonRegressor"]
