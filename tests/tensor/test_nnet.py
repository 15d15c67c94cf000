"""The ``T.nnet`` surface: activations, cross-entropies, h_softmax, batch normalization, Theano import paths."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx
import thx.tensor as T
from tests.oracle import assert_close

N = T.nnet
SELU = (1.6732632423543772848170429916717, 1.0507009873554804934193349852946)

# name -> (thx function, NumPy value, jax.numpy function for the gradient)
ACTIVATIONS = {
    "sigmoid": (N.sigmoid, lambda x: 1 / (1 + np.exp(-x)), jax.nn.sigmoid),
    "ultra_fast_sigmoid": (N.ultra_fast_sigmoid, lambda x: 1 / (1 + np.exp(-x)), jax.nn.sigmoid),
    "hard_sigmoid": (N.hard_sigmoid, lambda x: np.clip(0.2 * x + 0.5, 0, 1),
                     lambda x: jnp.clip(0.2 * x + 0.5, 0, 1)),
    "softplus": (N.softplus, lambda x: np.log1p(np.exp(x)), jax.nn.softplus),
    "relu": (N.relu, lambda x: np.maximum(x, 0), jax.nn.relu),
    "relu_alpha": (lambda x: N.relu(x, 0.1), lambda x: np.where(x > 0, x, 0.1 * x),
                   lambda x: jnp.where(x > 0, x, 0.1 * x)),
    "elu": (N.elu, lambda x: np.where(x > 0, x, np.expm1(x)), jax.nn.elu),
    "selu": (N.selu, lambda x: SELU[1] * np.where(x > 0, x, SELU[0] * np.expm1(x)), jax.nn.selu),
    "softsign": (N.softsign, lambda x: x / (1 + np.abs(x)), jax.nn.soft_sign),
    "softmax": (N.softmax, lambda x: np.exp(x) / np.exp(x).sum(-1, keepdims=True),
                lambda x: jax.nn.softmax(x, axis=-1)),
    "logsoftmax": (N.logsoftmax, lambda x: x - np.log(np.exp(x).sum(-1, keepdims=True)),
                   lambda x: jax.nn.log_softmax(x, axis=-1)),
}


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_activation_values_and_gradients(name):
    fn, np_fn, jax_fn = ACTIVATIONS[name]
    xv = np.random.RandomState(0).randn(3, 4) * 2 + 0.05  # keeps away from the kinks at 0 and +-2.5
    x = T.dmatrix("x")
    y = fn(x)
    proj = np.random.RandomState(1).uniform(0.5, 1.5, size=(3, 4))
    val, g = thx.function([x], [y, T.grad(T.sum(T.constant(proj) * y), x)])(xv)
    assert_close(val, np_fn(xv), what=name)
    with jax.enable_x64(True):
        want = jax.grad(lambda a: jnp.sum(proj * jax_fn(a)))(xv)
    assert_close(g, want, what=f"grad {name}")


def test_crossentropies():
    rng = np.random.RandomState(0)
    xv, bv, yv = rng.randn(4, 5), rng.randn(5), np.array([0, 3, 4, 1])
    x, b, y = T.dmatrix("x"), T.dvector("b"), T.lvector("y")
    z = xv + bv
    sm = np.exp(z - z.max(1, keepdims=True))
    sm /= sm.sum(1, keepdims=True)
    nll, smv, am = N.crossentropy_softmax_argmax_1hot_with_bias(x, b, y)
    nll1, sm1 = N.crossentropy_softmax_1hot(x, y)
    out = thx.function([x, b, y], [nll, smv, am, nll1, N.crossentropy_categorical_1hot(smv, y),
                                   N.categorical_crossentropy(smv, y),
                                   N.softmax_with_bias(x, b)])(xv, bv, yv)
    want_nll = -np.log(sm[np.arange(4), yv])
    assert_close(out[0], want_nll)
    assert_close(out[1], sm)
    assert list(out[2]) == list(z.argmax(1))
    sm0 = np.exp(xv) / np.exp(xv).sum(1, keepdims=True)
    assert_close(out[3], -np.log(sm0[np.arange(4), yv]))
    assert_close(out[4], want_nll)
    assert_close(out[5], want_nll)
    assert_close(out[6], sm)
    # gradient of the nll wrt the logits: softmax - onehot, as jax says
    g = thx.function([x, b, y], T.grad(nll.sum(), x))(xv, bv, yv)
    with jax.enable_x64(True):
        want = jax.grad(lambda a: -jnp.sum(jax.nn.log_softmax(a + bv)[jnp.arange(4), yv]))(xv)
    assert_close(g, want)
    # binary cross-entropy
    p, t = T.dvector("p"), T.dvector("t")
    pv, tv = np.array([0.2, 0.7, 0.9]), np.array([0., 1., 1.])
    assert_close(thx.function([p, t], N.binary_crossentropy(p, t))(pv, tv),
                 -(tv * np.log(pv) + (1 - tv) * np.log(1 - pv)))


def test_h_softmax_matches_the_two_level_product():
    rng = np.random.RandomState(0)
    batch, n_hidden, n_classes, per_class, n_outputs = 3, 4, 3, 2, 5
    xv = rng.randn(batch, n_hidden)
    W1, b1 = rng.randn(n_hidden, n_classes), rng.randn(n_classes)
    W2, b2 = rng.randn(n_classes, n_hidden, per_class), rng.randn(n_classes, per_class)
    target = np.array([4, 0, 3])

    def sm(a):
        e = np.exp(a - a.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    p_class = sm(xv @ W1 + b1)
    p_in = sm(np.einsum("bh,chk->bck", xv, W2) + b2)
    full = (p_class[:, :, None] * p_in).reshape(batch, -1)[:, :n_outputs]
    x, t = T.dmatrix("x"), T.lvector("t")
    shared = [thx.shared(v) for v in (W1, b1, W2, b2)]
    all_p = N.h_softmax(x, batch, n_outputs, n_classes, per_class, *shared)
    tgt_p = N.h_softmax(x, batch, n_outputs, n_classes, per_class, *shared, target=t)
    g = T.grad(T.log(tgt_p).sum(), shared[2])
    got_all, got_t, got_g = thx.function([x, t], [all_p, tgt_p, g])(xv, target)
    assert_close(got_all, full)
    assert_close(got_t, full[np.arange(batch), target])
    with jax.enable_x64(True):
        def cost(w2):
            pc = jax.nn.softmax(xv @ W1 + b1)
            pi = jax.nn.softmax(jnp.einsum("bh,chk->bck", xv, w2) + b2)
            pr = (pc[:, :, None] * pi).reshape(batch, -1)
            return jnp.sum(jnp.log(pr[jnp.arange(batch), target]))
        assert_close(got_g, jax.grad(cost)(W2))


@pytest.mark.parametrize("axes,full_params", [("per-activation", False), ("spatial", True), ((0, 2), False)])
def test_batch_normalization_train_and_test(axes, full_params):
    rng = np.random.RandomState(0)
    xv = rng.randn(4, 3, 2, 2)
    ax = {"per-activation": (0,), "spatial": (0, 2, 3)}.get(axes, axes)
    kept = [d for d in range(4) if d not in ax]
    pshape = tuple(1 if d in ax else xv.shape[d] for d in range(4))
    gshape = pshape if full_params else tuple(xv.shape[d] for d in kept)
    gv, bv, rmv, rvv = (rng.rand(*gshape) + 0.5 for _ in range(4))
    x = T.dtensor4("x")
    ptype = T.TensorType("float64", [s == 1 and full_params for s in gshape])
    g, b, rm, rv = ptype("g"), ptype("b"), ptype("rm"), ptype("rv")
    out, mean, invstd, new_rm, new_rv = N.bn.batch_normalization_train(
        x, g, b, axes, epsilon=1e-5, running_average_factor=0.3, running_mean=rm, running_var=rv)
    test_out = N.bn.batch_normalization_test(x, g, b, rm, rv, axes, epsilon=1e-5)
    cost = T.sum(out * T.sin(x))
    grads = T.grad(cost, [x, g, b])
    f = thx.function([x, g, b, rm, rv], [out, mean, invstd, new_rm, new_rv, test_out] + grads)
    got = f(xv, gv, bv, rmv, rvv)

    m = xv.mean(axis=ax, keepdims=True)
    var = xv.var(axis=ax, keepdims=True)
    n = np.prod([xv.shape[a] for a in ax])
    gp, bp, rmp, rvp = (v.reshape(pshape) for v in (gv, bv, rmv, rvv))
    assert_close(got[0], (xv - m) / np.sqrt(var + 1e-5) * gp + bp)
    assert_close(got[1], m.reshape(gshape))
    assert_close(got[2], (1 / np.sqrt(var + 1e-5)).reshape(gshape))
    assert_close(got[3], (rmp * 0.7 + 0.3 * m).reshape(gshape))
    assert_close(got[4], (rvp * 0.7 + 0.3 * var * n / (n - 1)).reshape(gshape))
    assert_close(got[5], (xv - rmp) / np.sqrt(rvp + 1e-5) * gp + bp)
    with jax.enable_x64(True):
        def jcost(a, gg, bb):
            mu = a.mean(axis=ax, keepdims=True)
            va = a.var(axis=ax, keepdims=True)
            return jnp.sum(((a - mu) / jnp.sqrt(va + 1e-5) * gg.reshape(pshape) + bb.reshape(pshape))
                           * jnp.sin(a))
        want = jax.grad(jcost, argnums=(0, 1, 2))(xv, gv, bv)
    for k in range(3):
        assert_close(got[6 + k], want[k], what=f"bn grad {k}")


def test_batch_normalization_and_errors():
    x = T.dmatrix("x")
    xv = np.array([[1., 2.], [3., 6.]])
    y = N.batch_normalization(x, [2., 1.], [0., 1.], xv.mean(0), xv.std(0), mode="high_mem")
    assert_close(thx.function([x], y)(xv), (xv - xv.mean(0)) * (np.array([2., 1.]) / xv.std(0)) + [0., 1.])
    with pytest.raises(ValueError, match="mode"):
        N.batch_normalization(x, 1., 0., 0., 1., mode="fast")
    with pytest.raises(ValueError, match="axes"):
        N.bn.batch_normalization_train(x, [1., 1.], [0., 0.], axes="channels")
    with pytest.raises(ValueError, match="epsilon"):
        N.bn.batch_normalization_train(x, [1., 1.], [0., 0.], epsilon=1e-7)
    with pytest.raises(ValueError, match="gamma must have"):
        N.bn.batch_normalization_train(x, T.dtensor3(), [0., 0.])


def test_theano_import_paths():
    thx.install_theano_alias()
    try:
        import theano
        import theano.tensor as TT
        from theano.tensor.nnet import conv2d
        from theano.tensor.nnet.conv import conv2d as old_conv2d
        from theano.tensor.nnet.abstract_conv import AbstractConv2d_gradWeights
        from theano.tensor.nnet import bn
        from theano.tensor.signal import pool
        from theano.tensor.signal.pool import pool_2d
        import theano.tensor.signal.pool
        assert conv2d is thx.tensor.nnet.conv2d and TT.nnet.conv2d is conv2d
        assert old_conv2d is thx.tensor.nnet.conv.conv2d
        assert AbstractConv2d_gradWeights is thx.tensor.nnet.AbstractConv2d_gradWeights
        assert bn.batch_normalization_train is thx.tensor.nnet.bn.batch_normalization_train
        assert pool_2d is pool.pool_2d is theano.tensor.signal.pool.pool_2d
        assert importlib.import_module("theano.tensor.nnet.abstract_conv").conv2d is conv2d
        assert TT.signal.pool is pool
    finally:
        thx.uninstall_theano_alias()


def test_stabilized_forms_match_jax_where_naive_formulas_overflow():
    x, v = T.dmatrix("x"), T.dvector("v")
    xv, vv = np.array([[1000., 0., -5.]]), np.array([-1000., -3., 0., 800.])
    got = thx.function([x, v], [T.log(N.softmax(x)), T.log(N.sigmoid(v)), T.log1p(T.exp(v)),
                                T.grad(T.log(N.softmax(x))[0, 1], x)])(xv, vv)
    with jax.enable_x64(True):
        assert_close(got[0], jax.nn.log_softmax(xv, axis=-1))
        assert_close(got[1], jax.nn.log_sigmoid(vv))
        assert_close(got[2], jax.nn.softplus(vv))
        assert_close(got[3], jax.grad(lambda a: jax.nn.log_softmax(a, axis=-1)[0, 1])(xv))
    # Theano's LeNet cost: -mean(log(softmax(z))[arange(n), y]), with a class whose probability underflows
    y = T.lvector("y")
    cost = -T.mean(T.log(N.softmax(x))[T.arange(y.shape[0]), y])
    g = thx.function([x, y], T.grad(cost, x))(xv, np.array([1]))
    with jax.enable_x64(True):
        assert_close(g, jax.grad(lambda a: -jnp.mean(jax.nn.log_softmax(a)[jnp.arange(1), jnp.array([1])]))(xv))
