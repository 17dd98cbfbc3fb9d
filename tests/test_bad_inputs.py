"""Bad input gets a clear error naming the argument and its value (DESIGN.md §6).

One test per fix of the bad-input audit: each input used to crash deep inside (IndexError,
ZeroDivisionError, a NumPy message naming none of our arguments) or, worse, to return a
silently wrong result. Checks that do not depend on the backend take the ``xp`` fixture.
"""

from __future__ import annotations

import numpy as np
import pytest

import gpumath as gm
import gpumath.autodiff as ad
import gpumath.linalg as la
import gpumath.metrics as metrics
import gpumath.model_selection as ms
import gpumath.montecarlo as mc
import gpumath.nn as nn
import gpumath.optim as optim
import gpumath.random as gr
import gpumath.sparse as sparse
import gpumath.stats as stats
from gpumath.linear_model import Ridge


def _device(xp):
    return "cpu" if xp is np else "cuda"


# ---------------------------------------------------------------- autodiff and nn


@pytest.mark.parametrize(
    "reduce",
    [ad.sum, ad.mean, ad.max, ad.logsumexp, nn.softmax, nn.log_softmax, nn.logsumexp],
)
def test_out_of_range_axis_is_refused_not_wrapped(xp, reduce):
    # axis=5 on a 2-D array used to wrap to 5 % 2 = 1 and return a result.
    x = xp.ones((2, 3))
    with pytest.raises(ValueError, match=r"`axis` must be in \[-2, 2\) for a 2-D array; got 5"):
        reduce(x, axis=5)
    with pytest.raises(TypeError, match=r"`axis` must be an int; got 1\.0"):
        reduce(x, axis=1.0)


def test_expand_dims_and_squeeze_axis_range(xp):
    t = ad.Tensor(xp.ones((2, 1)))
    with pytest.raises(ValueError, match=r"`axis` must be in \[-3, 3\).*got 5"):
        ad.expand_dims(t, 5)
    with pytest.raises(ValueError, match=r"`axis` must be in \[-2, 2\).*got -3"):
        ad.squeeze(t, -3)
    with pytest.raises(ValueError, match=r"`axis` must not repeat an axis; got \(0, 0\)"):
        ad.sum(t, axis=(0, 0))


@pytest.mark.parametrize(
    "loss, names",
    [
        (nn.mse_loss, ("prediction", "target")),
        (nn.binary_cross_entropy_with_logits, ("logits", "targets")),
    ],
)
def test_losses_refuse_broadcasting_shapes(xp, loss, names):
    # (3, 1) against (3,) used to average 9 pairwise terms.
    pattern = rf"`{names[0]}` and `{names[1]}` must have the same shape; got \(3, 1\) and \(3,\)"
    with pytest.raises(ValueError, match=pattern):
        loss(xp.ones((3, 1)), xp.zeros(3))


def test_cross_entropy_out_of_range_labels(xp):
    logits = xp.asarray(np.random.default_rng(0).standard_normal((4, 3)))
    labels = xp.asarray(np.array([0, 1, 5, 1]))
    if xp is np:  # host labels: checked for free
        with pytest.raises(ValueError, match=r"`labels` must be class indices in \[0, 3\); got 5"):
            nn.cross_entropy(logits, labels)
        with pytest.raises(ValueError, match=r"got -1"):
            nn.cross_entropy(logits, np.array([0, -1, 2, 1]))
    else:  # device labels: no sync, the loss is NaN instead of -logit 0
        assert bool(xp.isnan(nn.cross_entropy(logits, labels)))


@pytest.mark.parametrize("fn", [nn.sigmoid, nn.relu, nn.softmax])
def test_nn_functions_refuse_complex(xp, fn):
    with pytest.raises(TypeError, match=r"`x` must have a real dtype; got complex128"):
        fn(xp.ones(2, dtype=xp.complex128))  # sigmoid used to drop the imaginary part


def test_nn_functions_name_a_list_input():
    with pytest.raises(TypeError, match=r"`x` must be a NumPy or CuPy array or a Tensor; got list"):
        nn.relu([1.0, 2.0])
    with pytest.raises(TypeError, match=r"`labels` must be a NumPy or CuPy array; got list"):
        nn.cross_entropy(np.ones((2, 2)), [0, 1])


def test_batch_norm_per_channel_shapes(xp):
    x = xp.ones((4, 3))
    with pytest.raises(ValueError, match=r"`running_mean` must have shape \(3,\).*got \(4,\)"):
        nn.batch_norm(x, xp.zeros(4), xp.ones(4))
    with pytest.raises(ValueError, match=r"`weight` must have shape \(3,\).*got \(5,\)"):
        nn.batch_norm(x, xp.zeros(3), xp.ones(3), weight=xp.ones(5))


def test_dropout_arguments(xp):
    with pytest.raises(TypeError, match=r"`rng` must be a generator .*; got NoneType"):
        nn.dropout(xp.ones(4), 0.5, None)


def test_layer_sizes_and_initialisers():
    rng = np.random.default_rng(0)
    with pytest.raises(ValueError, match=r"`in_features` must be a positive int; got 0"):
        nn.Linear(0, 3, rng)  # was ZeroDivisionError
    with pytest.raises(TypeError, match=r"`in_features` must be a positive int; got 2\.5"):
        nn.Linear(2.5, 3, rng)
    with pytest.raises(ValueError, match=r"`kernel_size` must be a positive int; got 0"):
        nn.Conv2d(1, 2, 0, rng)
    with pytest.raises(ValueError, match=r"`num_features` must be a positive int; got 0"):
        nn.BatchNorm(0, np.zeros(1))
    with pytest.raises(TypeError, match=r"`shape` must be a sequence of ints; got \(2\.5, 3\)"):
        nn.he_normal((2.5, 3), rng)  # was silently truncated to (2, 3)
    with pytest.raises(ValueError, match=r"`shape` must have non-zero fans; got \(3, 0\)"):
        nn.he_uniform((3, 0), rng)
    with pytest.raises(ValueError, match=r"`gain` must be finite; got nan"):
        nn.xavier_uniform((2, 3), rng, gain=float("nan"))


def test_train_mlp_counts():
    X, y = np.ones((4, 3), np.float32), np.array([0, 1, 0, 1])
    with pytest.raises(ValueError, match=r"`epochs` must be a positive int; got -1"):
        nn.train_mlp(X, y, 2, np.random.default_rng(0), epochs=-1)  # was a NaN loss
    with pytest.raises(ValueError, match=r"`n_classes` must be a positive int; got 0"):
        nn.train_mlp(X, y, 0, np.random.default_rng(0))


def test_accuracy_label_count():
    model = nn.Linear(3, 2, np.random.default_rng(0), dtype=np.float64)
    with pytest.raises(ValueError, match=r"`y` must have shape \(4,\).*got \(2,\)"):
        nn.accuracy(model, np.ones((4, 3)), np.array([0, 1]))


def test_grad_arguments():
    with pytest.raises(TypeError, match=r"`fun` must be callable; got NoneType"):
        ad.grad(None)
    with pytest.raises(
        TypeError, match=r"`argnums` must be an int or a sequence of ints; got 1\.0"
    ):
        ad.grad(lambda a, b: ad.sum(a * b), argnums=1.0)(np.ones(2), np.ones(2))


# ---------------------------------------------------------------- optim


def test_apply_updates_structure_and_shapes(xp):
    params = {"w": xp.ones(3)}
    with pytest.raises(ValueError, match=r"`updates` must have the structure of `params`.*'v'"):
        optim.apply_updates(params, {"v": xp.ones(3)})  # was paired silently by position
    with pytest.raises(
        ValueError, match=r"update of shape \(3,\) for a parameter of shape \(3, 1\)"
    ):
        optim.apply_updates({"w": xp.ones((3, 1))}, {"w": xp.ones(3)})  # was broadcast to (3, 3)


def test_optimizer_update_structure(xp):
    params = {"w": xp.ones(3)}
    opt = optim.adam(0.1)
    state = opt.init(params)
    with pytest.raises(ValueError, match=r"`updates` must have the structure of the optimizer"):
        opt.update({"v": xp.ones(3)}, state, params)
    with pytest.raises(ValueError, match=r"got \(4,\) for a state of shape \(3,\)"):
        opt.update({"w": xp.ones(4)}, state, params)


def test_optim_scalars():
    with pytest.raises(ValueError, match=r"`tree` must hold at least one array; got \{\}"):
        optim.global_norm({})  # was IndexError
    with pytest.raises(ValueError, match=r"`learning_rate` must be >= 0; got nan"):
        optim.sgd(float("nan"))
    optim.sgd(np.float32(0.1))  # NumPy scalars are numbers too
    with pytest.raises(TypeError, match=r"`transforms\[1\]` must be a GradientTransformation"):
        optim.chain(optim.sgd(0.1), None)
    with pytest.raises(ValueError, match=r"`step_size` must be finite; got nan"):
        optim.scale(float("nan"))
    with pytest.raises(TypeError, match=r"`X` must be a NumPy or CuPy array; got list"):
        next(optim.batches([[1.0]], np.ones(1), 1))


def test_minimize_arguments(xp):
    def f(v):
        return ad.sum((v - 1.0) ** 2)

    x0 = xp.zeros(3)
    with pytest.raises(ValueError, match=r"`tol` must be >= 0; got -1"):
        optim.minimize(f, x0, tol=-1)  # was accepted
    with pytest.raises(ValueError, match=r"`tol` must be >= 0; got nan"):
        optim.minimize(f, x0, tol=float("nan"))
    with pytest.raises(TypeError, match=r"`maxiter` must be None or an int; got 2\.5"):
        optim.minimize(f, x0, maxiter=2.5)
    with pytest.raises(TypeError, match=r"`fun` must be callable; got NoneType"):
        optim.minimize(None, x0)


# ---------------------------------------------------------------- random and distributions


def test_generator_size_must_be_ints(xp):
    g = gr.default_rng(0, device=_device(xp))
    with pytest.raises(
        TypeError, match=r"`size` must be None, an int or a sequence of ints; got 2\.5"
    ):
        g.random(2.5)  # was "'float' object is not iterable"
    with pytest.raises(TypeError, match=r"got \(2\.5,\)"):
        g.random((2.5,))  # was truncated to 2
    with pytest.raises(TypeError, match=r"got '3'"):
        g.standard_normal("3")  # was parsed as 3
    with pytest.raises(ValueError, match=r"`size` \(2,\) must be a shape the parameters \(3,\)"):
        g.normal(xp.zeros(3), 1.0, size=(2,))


def test_generator_parameter_values(xp):
    g = gr.default_rng(0, device=_device(xp))
    with pytest.raises(TypeError, match=r"`loc` must hold real numbers; got None"):
        g.normal(None, 1.0, 3)
    with pytest.raises(TypeError, match=r"`loc` must hold real numbers; got 'a'"):
        g.normal("a", 1.0, 3)
    with pytest.raises(ValueError, match=r"`high` must be >= `low`; got low=1, high=0"):
        g.uniform(1, 0, 3, dtype=np.float32)  # float32 used to draw silently from (0, 1]
    with pytest.raises(ValueError, match=r"`low` must be finite; got nan"):
        g.uniform(float("nan"), 1.0, 3)
    with pytest.raises(TypeError, match=r"`n` must hold integers; got dtype float64"):
        g.binomial(xp.asarray([2.5, 3.0]), 0.5)  # was truncated to 2
    with pytest.raises(ValueError, match=r"`high` must be an integer; got 2\.5"):
        g.integers(0, 2.5, 3)  # was truncated to 2
    with pytest.raises(ValueError, match=r"`high` must be an integer; got nan"):
        g.integers(0, float("nan"), 3)


@pytest.mark.parametrize(
    "logits, bad", [([np.inf, 0.0], "inf"), ([-np.inf, -np.inf], "-inf"), ([np.nan, 0.0], "nan")]
)
def test_categorical_logits_must_be_usable(xp, logits, bad):
    g = gr.default_rng(0, device=_device(xp))
    # +inf or an all -inf row used to give NaN weights and a silently wrong category.
    with pytest.raises(ValueError, match=rf"`logits` must be free of NaN and \+inf.*; got {bad}$"):
        g.categorical(logits=xp.asarray(logits), size=3)


def test_distribution_parameters(xp):
    with pytest.raises(
        ValueError, match=r"must broadcast together; got `shape` \(3,\), `rate` \(2,\)"
    ):
        stats.Gamma(xp.ones(3), xp.ones(2))  # was accepted
    with pytest.raises(TypeError, match=r"`mu` must be a real number or array; got None"):
        stats.Normal(None, 1.0)  # was "`mu` must be finite; got nan"
    with pytest.raises(TypeError, match=r"`sigma` must be a real number or array; got '2'"):
        stats.Normal(0.0, "2")  # was parsed as 2.0


def test_distribution_evaluation_inputs(xp):
    d = stats.Normal(xp.zeros(2), xp.ones(2))
    with pytest.raises(TypeError, match=r"`x` must hold real numbers; got dtype complex128"):
        d.pdf(xp.ones(2, dtype=xp.complex128))  # the imaginary part was dropped
    with pytest.raises(TypeError, match=r"`x` must hold real numbers; got None"):
        d.logpdf(None)  # was NaN
    with pytest.raises(TypeError, match=r"`q` must hold real numbers; got 'a'"):
        d.icdf("a")
    with pytest.raises(TypeError, match=r"`k` must hold real numbers"):
        stats.Poisson(1.0).pmf(np.array(["a"]))


def test_distribution_sample_shape():
    d = stats.Normal(0.0, 1.0)
    with pytest.raises(TypeError, match=r"`shape` must be an int or a sequence of ints; got 2\.5"):
        d.sample(2.5, rng=0)
    with pytest.raises(TypeError, match=r"got None"):
        d.sample(None, rng=0)


def test_bootstrap_statistic_callable():
    with pytest.raises(TypeError, match=r"`statistic` must be callable; got NoneType"):
        stats.bootstrap(None, np.ones(5), rng=np.random.default_rng(0))


# ---------------------------------------------------------------- montecarlo


@pytest.mark.parametrize("diagnostic", [mc.effective_sample_size, mc.split_r_hat])
def test_chain_diagnostics_need_3d_real_chains(xp, diagnostic):
    draws = xp.asarray(np.random.default_rng(0).standard_normal((4, 50)))
    with pytest.raises(ValueError, match=r"`chains` must be 3-D .*; got shape \(4, 50\)"):
        diagnostic(draws)  # was IndexError
    with pytest.raises(
        TypeError, match=r"`chains` must have an integer or float dtype; got complex"
    ):
        diagnostic(xp.ones((4, 10, 1), dtype=xp.complex128))  # was NaN


def test_metropolis_hastings_logp_shape(xp):
    with pytest.raises(
        ValueError, match=r"`logp` must map points of shape \(4, 2\) to \(4,\).*\(4, 2\)"
    ):
        mc.metropolis_hastings(lambda x: -(x**2) / 2, xp.zeros(2), 10, rng=0)
    with pytest.raises(ValueError, match=r"`step_size` must be a scalar or have shape \(2,\)"):
        mc.metropolis_hastings(lambda x: -(x**2).sum(axis=1), xp.zeros(2), 10, step_size=xp.ones(3))
    with pytest.raises(TypeError, match=r"`logp` must be callable; got NoneType"):
        mc.metropolis_hastings(None, xp.zeros(2), 10, rng=0)


def test_expectation_arguments():
    d = stats.Normal(0.0, 1.0)
    with pytest.raises(TypeError, match=r"`f` must be callable; got NoneType"):
        mc.expectation(None, d, 10, rng=0)
    with pytest.raises(TypeError, match=r"`dist` must be a distribution .*; got NoneType"):
        mc.expectation(lambda x: x, None, 10, rng=0)
    with pytest.raises(ValueError, match=r"`control_variate` must be a pair .*; got \(<function"):
        mc.expectation(lambda x: x, d, 10, rng=0, control_variate=(lambda x: x,))
    with pytest.raises(TypeError, match=r"`dist` must be a distribution"):
        mc.clt_experiment(None, 5, 10, rng=0)


# ---------------------------------------------------------------- linalg, ops, sparse


def test_power_iteration_and_lanczos_arguments(xp):
    a = xp.asarray(np.diag([1.0, -5.0, 2.0]))
    with pytest.raises(ValueError, match=r"`v0` must be a non-zero vector; got all zeros"):
        la.power_iteration(a, v0=xp.zeros(3))  # was a NaN eigenpair
    with pytest.raises(TypeError, match=r"`v0` must have dtype float32 or float64; got int64"):
        la.power_iteration(a, v0=xp.ones(3, dtype=xp.int64))
    with pytest.raises(TypeError, match=r"`dtype` must be float32 or float64; got int64"):
        la.power_iteration(lambda v: v, n=3, dtype=np.int64)  # was a NaN eigenpair
    with pytest.raises(ValueError, match=r"`n` must be >= 1; got -1"):
        la.power_iteration(lambda v: v, n=-1)
    with pytest.raises(TypeError, match=r"`n` must be an int; got 2\.5"):
        la.lanczos(lambda v: v, n=2.5, k=1)


def test_norm_arguments(xp):
    a = xp.ones((3, 3))
    with pytest.raises(
        TypeError, match=r"`axis` must be None, an int or a tuple of ints; got 1\.0"
    ):
        la.norm(a, axis=1.0)  # NumPy truncates it to 1
    with pytest.raises(ValueError, match=r"`ord` must be .*; got 'nope'"):
        la.norm(a, ord="nope")
    with pytest.raises(ValueError, match=r"`p` must be None, 'fro', .*; got 'nope'"):
        la.cond(a, p="nope")
    with pytest.raises(TypeError, match=r"`A` must have a real dtype .*; got complex128"):
        la.matrix_rank(xp.ones((2, 2), dtype=xp.complex128))  # was accepted


def test_clip_out_dtype_and_bounds(xp):
    x = xp.ones(4)
    # NumPy would cast the float64 result into a float32 `out`; the GPU path refuses it.
    with pytest.raises(TypeError, match=r"`out` must have dtype float64; got float32"):
        gm.clip(x, 0.0, 0.5, out=xp.zeros(4, dtype=xp.float32))
    with pytest.raises(ValueError, match=r"`lo` and `hi` must broadcast against `x`.*lo \(3,\)"):
        gm.clip(x, xp.zeros(3), 1.0)


def test_clip_by_norm_names_x():
    with pytest.raises(TypeError, match=r"`x` must be a NumPy or CuPy array; got list"):
        gm.clip_by_norm([3.0, 4.0], 1.0)  # used to say `arrays[0]`
    with pytest.raises(TypeError, match=r"`x` must have dtype float32 or float64; got int64"):
        gm.clip_by_norm(np.arange(3), 1.0)


def test_csr_dense_shape_must_match(xp):
    dense = xp.asarray([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]])
    with pytest.raises(ValueError, match=r"`shape` must match the dense `arg` of shape \(2, 3\)"):
        sparse.csr_matrix(dense, shape=(3, 3))  # was ignored


# ---------------------------------------------------------------- metrics, model_selection


def test_regression_multioutput_array(xp):
    y = xp.ones((5, 2))
    with pytest.raises(ValueError, match=r"`multioutput` must be one of .*; got array"):
        metrics.r2_score(y, y, multioutput=np.ones(3))  # was "truth value ... ambiguous"


def test_cross_val_score_cv_string():
    X = np.random.default_rng(0).standard_normal((20, 3))
    with pytest.raises(TypeError, match=r"`cv` must be an int, a splitter .*; got 'nope'"):
        ms.cross_val_score(Ridge(), X, X.sum(axis=1), cv="nope")
