"""Least squares on tall ``dask.array`` data: merged normal equations.

Every row chunk (NumPy or CuPy) is reduced on its worker to the co-moment record of the
columns ``[X | y]`` (means, ``Sxx = Xc^T Xc`` and ``Sxy = Xc^T yc`` of the rows centred at the
chunk's own means; :func:`gpumath.distributed._stats.chunk_comoments`); records merge exactly
with Chan's formula (a rank-one correction by the difference of the
means), so the merged ``Sxx`` is the Gram matrix of the globally centred data, as
:class:`gpumath.linear_model.LinearRegression` and ``Ridge`` form it in memory (their
Cholesky solver), without the cancellation of uncentred sums. Only ``p x p`` matrices
travel between workers; the ``p x p`` system is solved on the client's side of the arrays.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._backend import array_namespace
from ._stats import check_dask_array, chunk_comoments, merge_comoments, out_dtype, tree_reduce

__all__ = ["fit_linear"]


def _chunk_joint(x: Any, y: Any, centre: bool) -> tuple | None:
    xp = array_namespace(x, y)
    dtype = xp.result_type(x.dtype, y.dtype, xp.float32)
    z = xp.concat([xp.astype(x, dtype), xp.astype(y, dtype)[:, None]], axis=1)
    return chunk_comoments(z, centre)


def fit_linear(estimator: Any, X: Any, y: Any) -> Any:
    """Fit a ``LinearRegression`` or ``Ridge`` on tall dask arrays; returns the estimator.

    Parameters
    ----------
    estimator : gpumath.linear_model.LinearRegression or Ridge
        Its ``fit_intercept`` (and ``alpha``) are used; ``coef_``, ``intercept_`` and
        ``n_features_in_`` are set as by its own ``fit`` (arrays of the chunks' type), so
        ``predict`` works on in-memory data.
    X : dask.array.Array, shape (n_samples, n_features)
        Row chunks of any size; column chunks are merged first.
    y : dask.array.Array, shape (n_samples,)
        Rechunked to ``X``'s row chunks.

    Notes
    -----
    Normal equations ``(Sxx + alpha I) w = Sxy`` of the centred data, solved by
    ``linalg.solve``: the same system the in-memory Cholesky solver forms, so the
    coefficients agree with it to rounding for a well-conditioned ``X`` (the normal
    equations square the condition number: prefer the in-memory ``lstsq`` for nearly
    collinear features). ``sample_weight`` and 2-D ``y`` are not supported.

    Examples
    --------
    >>> import dask.array as da
    >>> import numpy as np
    >>> from gpumath.distributed import fit_linear
    >>> from gpumath.linear_model import LinearRegression
    >>> X = np.random.default_rng(0).normal(size=(100, 2))
    >>> y = X @ np.array([2.0, -1.0]) + 0.5
    >>> m = fit_linear(LinearRegression(), da.from_array(X, chunks=30), da.from_array(y, chunks=30))
    >>> np.round(m.coef_, 6), round(float(m.intercept_), 6)
    (array([ 2., -1.]), 0.5)
    """
    from ..linear_model import LinearRegression, Ridge
    from ..linear_model._least_squares import check_number, set_fitted

    if not isinstance(estimator, LinearRegression | Ridge):
        raise TypeError(
            f"`estimator` must be a LinearRegression or Ridge; got {type(estimator).__name__}"
        )
    alpha = check_number(estimator.alpha, "alpha") if isinstance(estimator, Ridge) else 0.0
    X, y = check_dask_array(X, "X"), check_dask_array(y, "y")
    if X.ndim != 2 or y.ndim != 1:
        raise ValueError(f"`X` must be 2-D and `y` 1-D; got shapes {X.shape} and {y.shape}")
    if X.shape[0] != y.shape[0]:
        raise ValueError(
            f"`X` and `y` must have the same number of rows; got {X.shape[0]} and {y.shape[0]}"
        )
    if X.shape[0] == 0:
        raise ValueError("`X` must have at least one row; got 0")
    dtype = np.result_type(out_dtype(X.dtype), out_dtype(y.dtype))
    import dask

    X = X.rechunk({1: -1})
    y = y.rechunk((X.chunks[0],))
    centre = bool(estimator.fit_intercept)
    # One co-moment record of the columns [X | y]: Sxx, Sxy and the means in one merge.
    parts = [
        dask.delayed(_chunk_joint)(xb, yb, centre)
        for xb, yb in zip(X.to_delayed().ravel(), y.to_delayed().ravel(), strict=True)
    ]
    _, origin, offset, s = tree_reduce(parts, merge_comoments).compute()
    xp = array_namespace(s)
    p = X.shape[1]
    sxx, sxy, means = s[:p, :p], s[:p, p], origin + offset
    x_mean, y_mean = means[:p], means[p]
    a = sxx + alpha * xp.eye(p, dtype=sxx.dtype, device=sxx.device)
    coef = xp.linalg.solve(a, sxy[:, None])[:, 0]

    def cast(v: Any) -> Any:
        return xp.astype(xp.asarray(v), dtype)

    set_fitted(estimator, cast(coef), cast(x_mean), cast(y_mean), xp)
    estimator.n_iter_ = None
    return estimator
