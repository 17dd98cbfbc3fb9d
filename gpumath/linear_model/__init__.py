"""Linear models: regression, classification, GLMs, regularisation (scikit-learn's API)."""

from ._base import ConvergenceWarning, NotFittedError
from ._coordinate import ElasticNet, Lasso
from ._glm import GLM, GLMSummary, PoissonRegressor
from ._least_squares import LinearRegression, Ridge
from ._logistic import LogisticRegression
from ._sgd import SGDClassifier, SGDRegressor

__all__ = [
    "GLM",
    "ConvergenceWarning",
    "ElasticNet",
    "GLMSummary",
    "Lasso",
    "LinearRegression",
    "LogisticRegression",
    "NotFittedError",
    "PoissonRegressor",
    "Ridge",
    "SGDClassifier",
    "SGDRegressor",
]
