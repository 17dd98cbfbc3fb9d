"""Linear models: regression, classification, GLMs, regularisation (scikit-learn's API)."""
