"""The derivatives tutorial's Jacobian / Hessian / R- and L-operator examples, asserted exactly,
and jacobian, hessian, Rop, Lop for every core op family checked against ``jax.jacrev``,
``jax.hessian``, ``jax.jvp`` and ``jax.vjp`` on random inputs."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import thx as theano
import thx.tensor as T
from thx.gradient import DisconnectedInputError


@pytest.fixture(autouse=True)
def x64():
    with jax.enable_x64(True):
        yield


# ------------------------------------------------------------------ the tutorial, exactly

def test_tutorial_scan_jacobian_and_hessian():
    x = T.dvector('x')
    y = x ** 2
    J, updates = theano.scan(lambda i, y, x: T.grad(y[i], x), sequences=T.arange(y.shape[0]),
                             non_sequences=[y, x])
    f = theano.function([x], J, updates=updates)
    assert f([4, 4]).tolist() == [[8, 0], [0, 8]]
    cost = y.sum()
    gy = T.grad(cost, x)
    H, updates = theano.scan(lambda i, gy, x: T.grad(gy[i], x), sequences=T.arange(gy.shape[0]),
                             non_sequences=[gy, x])
    f = theano.function([x], H, updates=updates)
    assert f([4, 4]).tolist() == [[2, 0], [0, 2]]
    both = theano.function([x], [theano.gradient.jacobian(y, x), theano.gradient.hessian(cost, x)])
    j, h = both([4, 4])
    assert j.tolist() == [[8, 0], [0, 8]] and h.tolist() == [[2, 0], [0, 2]]


def test_tutorial_hessian_times_vector_both_ways():
    x, v = T.dvector('x'), T.dvector('v')
    y = T.sum(x ** 2)
    gy = T.grad(y, x)
    vH = T.grad(T.sum(gy * v), x)
    Hv = T.Rop(gy, x, v)
    f = theano.function([x, v], [vH, Hv])
    a, b = f([4, 4], [2, 2])
    assert a.tolist() == [4, 4] and b.tolist() == [4, 4]


def test_tutorial_rop_and_lop():
    W, V, x, v = T.dmatrix('W'), T.dmatrix('V'), T.dvector('x'), T.dvector('v')
    y = T.dot(x, W)
    f = theano.function([W, V, x], T.Rop(y, W, V))
    assert f([[1, 1], [1, 1]], [[2, 2], [2, 2]], [0, 1]).tolist() == [2, 2]
    f = theano.function([v, x], T.Lop(y, W, v))
    assert f([2, 2], [0, 1]).tolist() == [[0, 0], [2, 2]]


def test_tutorial_pitfall_raises_disconnected():
    x = T.dvector('x')
    y = x ** 2
    with pytest.raises(DisconnectedInputError):
        theano.scan(lambda y_i, x: T.grad(y_i, x), sequences=y, non_sequences=x)


# ------------------------------------------------------------------ one row per core op family

# (name, thx function, jax function, input shapes)
OPS = [
    ("elemwise", lambda a, b: a * T.exp(b) - T.tanh(a) / (1 + b ** 2),
     lambda a, b: a * jnp.exp(b) - jnp.tanh(a) / (1 + b ** 2), [(3,), (3,)]),
    ("elemwise_broadcast", lambda a, m: a * m + T.sin(m) * T.sum(T.cos(a)),
     lambda a, m: a * m + jnp.sin(m) * jnp.sum(jnp.cos(a)), [(3,), (2, 3)]),
    ("unary_table", lambda a: T.sigmoid(a) + T.softplus(a) + T.log1p(a ** 2) + T.sqrt(a ** 2 + 1)
     + T.switch(a > 0, a ** 3, -a),
     lambda a: jax.nn.sigmoid(a) + jax.nn.softplus(a) + jnp.log1p(a ** 2) + jnp.sqrt(a ** 2 + 1)
     + jnp.where(a > 0, a ** 3, -a), [(4,)]),
    ("sum_prod", lambda m: T.sum(m, axis=0) * T.prod(m, axis=1).sum(),
     lambda m: jnp.sum(m, axis=0) * jnp.prod(m, axis=1).sum(), [(2, 3)]),
    ("max_mean_var", lambda m: T.max(m, axis=1) + T.mean(m, axis=1) * T.var(m),
     lambda m: jnp.max(m, axis=1) + jnp.mean(m, axis=1) * jnp.var(m), [(2, 3)]),
    ("dot", lambda m, a: T.dot(m, a) + T.dot(m.T, T.dot(m, a)).sum(),
     lambda m, a: m @ a + (m.T @ (m @ a)).sum(), [(2, 3), (3,)]),
    ("dot_matrix", lambda m, n: T.dot(m, n), lambda m, n: m @ n, [(2, 3), (3, 2)]),
    ("reshape_dimshuffle", lambda m: m.reshape((3, 2)).T * T.flatten(m)[:2].dimshuffle(0, 'x'),
     lambda m: m.reshape((3, 2)).T * m.reshape(-1)[:2][:, None], [(2, 3)]),
    ("subtensor", lambda m, a: m[1:, ::-1] * a[0] + m[0, 1] + a[[0, 2, 2]],
     lambda m, a: m[1:, ::-1] * a[0] + m[0, 1] + a[jnp.array([0, 2, 2])], [(2, 3), (3,)]),
    ("inc_set_subtensor", lambda m, a: T.inc_subtensor(m[0], a) * T.set_subtensor(m[:, 1], a[:2]),
     lambda m, a: m.at[0].add(a) * m.at[:, 1].set(a[:2]), [(2, 3), (3,)]),
    ("join_stack", lambda m, a: T.concatenate([m, m * 2], axis=1).sum(axis=0)[:3] * T.stack([a, a ** 2])[1],
     lambda m, a: jnp.concatenate([m, m * 2], axis=1).sum(axis=0)[:3] * jnp.stack([a, a ** 2])[1],
     [(2, 3), (3,)]),
    ("alloc", lambda a: T.alloc(a, 2, 3) * T.alloc(a[0], 3).sum(),
     lambda a: jnp.broadcast_to(a, (2, 3)) * jnp.broadcast_to(a[0], (3,)).sum(), [(3,)]),
    ("softmax", lambda m: T.softmax(m) * 2 + T.logsoftmax(m),
     lambda m: jax.nn.softmax(m, axis=-1) * 2 + jax.nn.log_softmax(m, axis=-1), [(2, 3)]),
]


def _values(shapes, seed):
    rng = np.random.RandomState(seed)
    return [rng.uniform(0.3, 1.2, size=s) * rng.choice([-1, 1], size=s) for s in shapes]


def test_rop_lop_jacobian_of_every_core_op_family():
    outputs, layout = [], []
    inputs = []
    for k, (name, tfn, jfn, shapes) in enumerate(OPS):
        xs = [T.TensorType("float64", (False,) * len(s))(f"{name}_{i}") for i, s in enumerate(shapes)]
        evs = [T.TensorType("float64", (False,) * len(s))(f"{name}_ev{i}") for i, s in enumerate(shapes)]
        out = tfn(*xs)
        u = T.TensorType("float64", (False,) * out.ndim)(f"{name}_u")
        rop = T.Rop(out, xs, evs)
        lop = T.Lop(out, xs, u)
        jac = theano.gradient.jacobian(out, xs)
        layout.append((k, len(outputs), len(xs)))
        outputs += [out, rop] + lop + jac
        inputs += xs + evs + [u]
    # one compiled function for every family (fast), each result checked separately
    f = theano.function(inputs, outputs, on_unused_input="ignore")
    values, per_family = [], []
    for k, (name, tfn, jfn, shapes) in enumerate(OPS):
        xv, ev = _values(shapes, k), _values(shapes, 100 + k)
        uv = _values([np.shape(jax.eval_shape(jfn, *xv))], 200 + k)[0]
        values += xv + ev + [uv]
        per_family.append((xv, ev, uv))

    @jax.jit  # the oracle for every family in one compilation (eager JAX would compile per op)
    def oracle(per_family):
        out = []
        for (name, tfn, jfn, shapes), (xv, ev, uv) in zip(OPS, per_family):
            val, tangent = jax.jvp(jfn, xv, ev)
            _, vjp = jax.vjp(jfn, *xv)
            jac = jax.jacrev(jfn, argnums=tuple(range(len(xv))))(*xv)
            out.append([val, tangent] + list(vjp(uv)) + list(jac))
        return out

    expected_all = oracle(per_family)
    got = f(*values)
    for (k, start, n), expected in zip(layout, expected_all):
        name = OPS[k][0]
        what = ["value", "Rop"] + [f"Lop[{i}]" for i in range(n)] + [f"jacobian[{i}]" for i in range(n)]
        for w, g, e in zip(what, got[start: start + len(expected)], expected):
            np.testing.assert_allclose(g, np.asarray(e), rtol=1e-9, atol=1e-12, err_msg=f"{name}: {w}")


# ------------------------------------------------------------------ jacobian / hessian API

def test_hessian_against_jax_for_vectors_lists_and_matrices():
    a, b, W = T.dvector('a'), T.dvector('b'), T.dmatrix('W')
    cost = T.sum(T.exp(a) * b) + T.sum(T.tanh(T.dot(W, a)) ** 2) + T.dot(b, b) * a[0]
    h_ab = theano.gradient.hessian(cost, [a, b])
    h_W = theano.gradient.hessian(cost, W)
    j_tuple = theano.gradient.jacobian(T.dot(W, a) ** 2, (a, W))
    assert isinstance(h_ab, list) and isinstance(j_tuple, tuple)
    f = theano.function([a, b, W], h_ab + [h_W] + list(j_tuple))
    av, bv, Wv = np.array([0.3, -0.4]), np.array([1.1, 0.2]), np.array([[0.5, -1.], [0.2, 0.7]])

    def jcost(a, b, W):
        return jnp.sum(jnp.exp(a) * b) + jnp.sum(jnp.tanh(W @ a) ** 2) + (b @ b) * a[0]

    got = f(av, bv, Wv)
    H = jax.jit(jax.hessian(jcost, argnums=(0, 1, 2)))(av, bv, Wv)
    np.testing.assert_allclose(got[0], H[0][0], rtol=1e-10)
    np.testing.assert_allclose(got[1], H[1][1], rtol=1e-10)
    np.testing.assert_allclose(got[2], H[2][2], rtol=1e-10, atol=1e-14)
    J = jax.jit(jax.jacrev(lambda a, W: (W @ a) ** 2, argnums=(0, 1)))(av, Wv)
    np.testing.assert_allclose(got[3], J[0], rtol=1e-10)
    np.testing.assert_allclose(got[4], J[1], rtol=1e-10)


def test_jacobian_and_hessian_edge_cases():
    x, z = T.dvector('x'), T.dvector('z')
    with pytest.raises(DisconnectedInputError):
        theano.gradient.jacobian(x ** 2, z)
    jz = theano.gradient.jacobian(x ** 2, z, disconnected_inputs='ignore')
    h_lin = theano.gradient.hessian(T.sum(3 * x), x)  # linear cost: zero Hessian, no error
    g = theano.gradient.jacobian(T.sum(x ** 3), x)  # scalar expression: its gradient
    with pytest.raises(TypeError, match="scalar"):
        theano.gradient.hessian(x ** 2, x)
    f = theano.function([x, z], [jz, h_lin, g], on_unused_input='ignore')
    a, b, c = f([1., 2.], [0., 0., 0.])
    assert a.tolist() == [[0, 0, 0], [0, 0, 0]] and b.tolist() == [[0, 0], [0, 0]]
    assert c.tolist() == [3., 12.]
