"""Model selection with scikit-learn's names: splitters, cross-validation, bias–variance.

Splits are computed with scikit-learn's random streams (an integer ``random_state`` gives
its indices) and the index arrays live on the data's device, where the folds are gathered.
"""

from ._bias_variance import BiasVarianceResult, bias_variance_decomposition
from ._split import KFold, StratifiedKFold, train_test_split
from ._validation import clone, cross_val_score

__all__ = [
    "BiasVarianceResult",
    "KFold",
    "StratifiedKFold",
    "bias_variance_decomposition",
    "clone",
    "cross_val_score",
    "train_test_split",
]
