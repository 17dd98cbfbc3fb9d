"""Demo steps on the model layers (PCA, training, linear models) on real datasets."""

from __future__ import annotations

import time

import numpy as np

import gpumath

from ._timing import median_seconds


def pca(k: int = 10) -> bool:
    """PCA of a small real dataset (scikit-learn's digits) against NumPy's float64 SVD."""
    import gpumath.linalg

    try:
        from sklearn.datasets import load_digits

        host, name = load_digits().data, "digits 1797x64 (scikit-learn)"
    except ImportError:  # scikit-learn is only in the test extra: say so, use synthetic data
        rng = np.random.default_rng(0)
        host = rng.standard_normal((1797, 64)) * np.geomspace(8.0, 0.1, 64)
        name = "synthetic 1797x64 (scikit-learn not installed)"
    x = gpumath.asarray(host.astype(np.float32))
    pca = gpumath.linalg.PCA(k).fit(x)
    s = np.linalg.svd(host - host.mean(axis=0), compute_uv=False)
    ref = s[:k] ** 2 / (host.shape[0] - 1)
    ours = gpumath.to_numpy(pca.explained_variance_)
    err = np.linalg.norm(ours - ref) / np.linalg.norm(ref)
    kept = float(gpumath.to_numpy(pca.explained_variance_ratio_).sum())
    seconds = median_seconds(lambda: pca.fit(x), x)
    ok = err < 1e-4
    print(
        f"pca       {name} -> {k} components ({pca.svd_solver_}): {100 * kept:.1f}% of "
        f"variance, rel err {err:.1e} [{'ok' if ok else 'FAILED'}], {seconds * 1e3:.3f} ms"
    )
    return ok


def train() -> bool:
    """Train an MLP on 8x8 digit images (scikit-learn's digits, or synthetic ones without it)."""
    from gpumath import nn
    from gpumath import random as gm_random

    rng = np.random.default_rng(0)
    try:
        from sklearn.datasets import load_digits

        images, labels = load_digits(return_X_y=True)
        source = "scikit-learn digits"
    except ImportError:  # scikit-learn is a test extra: make 10 noisy prototype "digits"
        protos = rng.random((10, 64)) * 16
        labels = rng.integers(0, 10, 1800)
        images = np.clip(protos[labels] + rng.normal(0, 4, (1800, 64)), 0, 16)
        source = "synthetic 8x8 digits"
    order = rng.permutation(len(labels))
    images = (images[order] / 16.0).astype(np.float32)
    labels = labels[order].astype(np.int64)
    cut = len(labels) * 3 // 4
    x_train, y_train = gpumath.asarray(images[:cut]), gpumath.asarray(labels[:cut])
    x_test, y_test = gpumath.asarray(images[cut:]), gpumath.asarray(labels[cut:])
    device_rng = gm_random.default_rng(1, device=gpumath.device_of(x_train))
    start = time.perf_counter()
    model, _ = nn.train_mlp(x_train, y_train, 10, device_rng, hidden=(128,), epochs=20)
    seconds = time.perf_counter() - start
    acc = nn.accuracy(model, x_test, y_test)
    ok = acc >= 0.95
    print(
        f"train     MLP 64-128-10 on {source} (autodiff + Adam, 20 epochs): "
        f"test accuracy {acc:.3f} [{'ok' if ok else 'FAILED'}], {seconds:.2f} s"
    )
    return ok


def logistic() -> bool:
    """Logistic regression on breast cancer (scikit-learn's, or synthetic data without it)."""
    from gpumath import metrics
    from gpumath.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    try:
        from sklearn.datasets import load_breast_cancer

        X, y = load_breast_cancer(return_X_y=True)
        source = "breast cancer 569x30 (scikit-learn)"
    except ImportError:  # scikit-learn is a test extra: two overlapping Gaussian classes
        y = rng.integers(0, 2, 569)
        X = rng.standard_normal((569, 30)) + 0.8 * y[:, None]
        source = "synthetic 569x30 (scikit-learn not installed)"
    order = rng.permutation(len(y))
    X, y = X[order], y[order]
    cut = len(y) * 3 // 4
    mean, std = X[:cut].mean(axis=0), X[:cut].std(axis=0)
    X = (X - mean) / std
    x_train, y_train = gpumath.asarray(X[:cut]), gpumath.asarray(y[:cut])
    start = time.perf_counter()
    clf = LogisticRegression(tol=1e-8, max_iter=1000).fit(x_train, y_train)
    seconds = time.perf_counter() - start
    x_test, y_test = gpumath.asarray(X[cut:]), gpumath.asarray(y[cut:])
    pred, proba = clf.predict(x_test), clf.predict_proba(x_test)
    acc = metrics.accuracy_score(y_test, pred)
    precision, recall = metrics.precision_score(y_test, pred), metrics.recall_score(y_test, pred)
    f1, log_loss = metrics.f1_score(y_test, pred), metrics.log_loss(y_test, proba)
    ok = acc >= 0.9
    try:
        from sklearn.linear_model import LogisticRegression as SkLogistic

        ref = SkLogistic(tol=1e-10, max_iter=1000).fit(X[:cut], y[:cut]).coef_
        err = np.linalg.norm(gpumath.to_numpy(clf.coef_) - ref) / np.linalg.norm(ref)
        ok = ok and err < 1e-4
        versus = f"coef rel err {err:.1e} vs scikit-learn"
    except ImportError:
        versus = "no scikit-learn to compare coefficients"
    print(
        f"logistic  {source}, lbfgs: test accuracy {acc:.3f}, precision {precision:.3f}, "
        f"recall {recall:.3f}, F1 {f1:.3f}, log loss {log_loss:.3f}, {versus} "
        f"[{'ok' if ok else 'FAILED'}], fit {seconds * 1e3:.1f} ms"
    )
    return ok


def glm() -> bool:
    """Poisson GLM (IRLS) on statsmodels' cpunish counts (synthetic counts without it)."""
    from gpumath.linear_model import GLM

    try:
        from statsmodels.datasets import cpunish

        data = cpunish.load_pandas()
        X = data.exog.to_numpy(dtype=float)
        X[:, 3] = np.log(X[:, 3])  # log(income), as in statsmodels' own example
        y = data.endog.to_numpy(dtype=float)
        source = "cpunish executions 17x6 (statsmodels)"
    except ImportError:  # statsmodels is a test extra: counts from a known log-linear model
        rng = np.random.default_rng(0)
        X = rng.standard_normal((200, 3))
        y = rng.poisson(np.exp(0.5 + X @ [0.4, -0.3, 0.2])).astype(float)
        source = "synthetic counts 200x3 (statsmodels not installed)"
    model = GLM(family="poisson").fit(gpumath.asarray(X), gpumath.asarray(y))
    s = model.summary()
    mu = gpumath.to_numpy(model.predict(gpumath.asarray(X)))
    # The Poisson score equations X1^T (y - mu) = 0 hold at the maximum likelihood.
    X1 = np.column_stack([np.ones(len(y)), X])
    score = np.abs(X1.T @ (y - mu)).max() / np.abs(X1.T @ y).max()
    null = 2 * np.sum(np.where(y > 0, y * np.log(np.where(y > 0, y, 1) / y.mean()), 0))
    ok = score < 1e-8 and s.deviance < null
    try:
        import statsmodels.api as sm

        ref = sm.GLM(y, sm.add_constant(X), family=sm.families.Poisson()).fit(tol=1e-12)
        err = np.max(np.abs(s.bse - ref.bse) / ref.bse)
        ok = ok and err < 1e-5
        versus = f"std err rel err {err:.1e} vs statsmodels"
    except ImportError:
        versus = "no statsmodels to compare"
    significant = int(np.sum(s.pvalues < 0.05))
    print(
        f"glm       Poisson/log on {source} (IRLS): deviance {s.deviance:.3f} (null "
        f"{null:.3f}), {significant}/{len(s.params)} coefficients with p < 0.05, {versus} "
        f"[{'ok' if ok else 'FAILED'}]"
    )
    return ok
