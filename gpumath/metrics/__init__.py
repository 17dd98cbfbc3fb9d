"""Model evaluation metrics with scikit-learn's names, arguments and conventions.

Inputs are NumPy or CuPy arrays (one library, one device; lists become NumPy), and every
metric computes where its inputs live. Scalar results are Python floats, as scikit-learn
returns: one device sync per call, which classification metrics need anyway to learn the
label set and check it. Per-label or per-output results (``average=None``,
``multioutput="raw_values"``, ``confusion_matrix``) are arrays on the inputs' device.
"""

from ._classification import accuracy_score, confusion_matrix, log_loss
from ._common import UndefinedMetricWarning
from ._prf import f1_score, precision_score, recall_score
from ._ranking import roc_auc_score
from ._regression import mean_absolute_error, mean_squared_error, r2_score

__all__ = [
    "UndefinedMetricWarning",
    "accuracy_score",
    "confusion_matrix",
    "f1_score",
    "log_loss",
    "mean_absolute_error",
    "mean_squared_error",
    "precision_score",
    "r2_score",
    "recall_score",
    "roc_auc_score",
]
