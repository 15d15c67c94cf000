"""pool_2d / pool_3d and the Pool ops: values vs a loop oracle, Theano's gradient semantics, jax.grad and jvp."""

from __future__ import annotations

import warnings

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import thx
import thx.tensor as T
from thx.tensor.signal import pool
from thx.tensor.signal.pool import max_pool_2d_same_size, pool_2d, pool_3d
from tests.oracle import assert_close, numpy_eval


# ----------------------------------------------------------------------------- oracles (Theano's rules)

def ref_out_len(n, ws, st, pad, ignore_border):
    n += 2 * pad
    if ignore_border:
        return max((n - ws) // st + 1, 0)
    if st >= ws:
        return (n - 1) // st + 1
    return max(0, (n - 1 - ws) // st + 1) + 1


def ref_windows(n, ws, st, pad, ignore_border, mode):
    out = []
    for j in range(ref_out_len(n, ws, st, pad, ignore_border)):
        s, e = j * st, min(j * st + ws, n + 2 * pad)
        if mode != "average_inc_pad":
            s, e = max(s, pad), min(e, n + pad)
        out.append((s, e))
    return out


def ref_pool(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """Pool the last two axes, one window at a time."""
    stride = stride or ws
    H, W = x.shape[-2:]
    xp = np.zeros(x.shape[:-2] + (H + 2 * pad[0], W + 2 * pad[1]))
    xp[..., pad[0]:pad[0] + H, pad[1]:pad[1] + W] = x
    rows = ref_windows(H, ws[0], stride[0], pad[0], ignore_border, mode)
    cols = ref_windows(W, ws[1], stride[1], pad[1], ignore_border, mode)
    out = np.zeros(x.shape[:-2] + (len(rows), len(cols)))
    for lead in np.ndindex(*x.shape[:-2]):
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                region = xp[lead + (slice(r0, r1), slice(c0, c1))]
                out[lead + (i, j)] = {"max": np.max, "sum": np.sum}.get(mode, np.mean)(region)
    return out


def ref_max_pool_grad(x, gz, ws, ignore_border=True, stride=None, pad=(0, 0)):
    """Theano's rule: every input equal to its window's maximum receives the window's gradient."""
    stride = stride or ws
    maxout = ref_pool(x, ws, ignore_border, stride, pad, "max")
    H, W = x.shape[-2:]
    gx = np.zeros(x.shape[:-2] + (H + 2 * pad[0], W + 2 * pad[1]))
    rows = ref_windows(H, ws[0], stride[0], pad[0], ignore_border, "max")
    cols = ref_windows(W, ws[1], stride[1], pad[1], ignore_border, "max")
    for lead in np.ndindex(*x.shape[:-2]):
        for i, (r0, r1) in enumerate(rows):
            for j, (c0, c1) in enumerate(cols):
                for r in range(r0, r1):
                    for c in range(c0, c1):
                        if x[lead + (r - pad[0], c - pad[1])] == maxout[lead + (i, j)]:
                            gx[lead + (r, c)] += gz[lead + (i, j)]
    return gx[..., pad[0]:pad[0] + H, pad[1]:pad[1] + W]


def jax_pool(x, ws, ignore_border=True, stride=None, pad=(0, 0), mode="max"):
    """The same pooling in plain lax.reduce_window (counts from the oracle's windows)."""
    stride = stride or ws
    H, W = x.shape[-2:]
    outs = [ref_out_len(n, w, s, p, ignore_border) for n, w, s, p in zip((H, W), ws, stride, pad)]
    hi = [max(0, (o - 1) * s + w - n - p) for o, s, w, n, p in zip(outs, stride, ws, (H, W), pad)]
    padding = [(0, 0)] * (x.ndim - 2) + [(pad[0], hi[0]), (pad[1], hi[1])]
    dims, strides = (1,) * (x.ndim - 2) + tuple(ws), (1,) * (x.ndim - 2) + tuple(stride)
    if mode == "max":
        return lax.reduce_window(x, -jnp.inf, lax.max, dims, strides, padding)
    s = lax.reduce_window(x, 0.0, lax.add, dims, strides, padding)
    if mode == "sum":
        return s
    rows = ref_windows(H, ws[0], stride[0], pad[0], ignore_border, mode)
    cols = ref_windows(W, ws[1], stride[1], pad[1], ignore_border, mode)
    counts = np.outer([e - b for b, e in rows], [e - b for b, e in cols])
    return s / counts


CASES = [  # (input shape, ws, ignore_border, stride, pad, mode)
    ((2, 3, 6, 6), (2, 2), True, None, (0, 0), "max"),
    ((2, 2, 5, 7), (2, 3), False, None, (0, 0), "max"),
    ((1, 2, 7, 6), (3, 2), False, (1, 2), (0, 0), "max"),
    ((1, 2, 7, 6), (3, 3), True, (2, 1), (1, 2), "max"),
    ((2, 5, 5), (2, 2), False, None, (0, 0), "sum"),
    ((1, 2, 7, 6), (3, 2), True, (2, 2), (1, 1), "sum"),
    ((1, 2, 5, 7), (2, 3), False, (1, 2), (0, 0), "average_inc_pad"),
    ((1, 2, 7, 6), (3, 3), True, (2, 2), (2, 1), "average_inc_pad"),
    ((1, 2, 5, 7), (3, 2), False, (2, 1), (0, 0), "average_exc_pad"),
    ((1, 2, 7, 6), (3, 3), True, (1, 2), (1, 2), "average_exc_pad"),
    ((6, 5), (2, 2), True, (1, 1), (0, 0), "max"),
]


def _build(case):
    shp, ws, ib, st, pad, mode = case
    x = T.TensorType("float64", (False,) * len(shp))("x")
    return x, pool_2d(x, ws, ignore_border=ib, stride=st, pad=pad, mode=mode)


@pytest.mark.parametrize("case", CASES, ids=[f"{c[5]}-{c[1]}-{c[2]}-{c[3]}-{c[4]}" for c in CASES])
def test_pool_2d_values_and_gradients(case):
    shp, ws, ib, st, pad, mode = case
    xv = np.random.RandomState(0).randn(*shp)  # no ties: jax.grad's max routing agrees with Theano's
    x, y = _build(case)
    want = ref_pool(xv, ws, ib, st, pad, mode)
    proj = np.random.RandomState(1).uniform(0.5, 1.5, size=want.shape)
    g = T.grad(T.sum(T.constant(proj) * y), x)
    val, got_g, shp_out = thx.function([x], [y, g, y.shape])(xv)
    assert_close(val, want, what="pool value")
    assert tuple(shp_out) == want.shape
    with jax.enable_x64(True):
        want_g = jax.grad(lambda a: jnp.sum(proj * jax_pool(a, ws, ib, st, pad, mode)))(xv)
    assert_close(got_g, want_g, what="pool gradient")
    np_val, np_g = numpy_eval([y, g], {x: xv})
    assert_close(np_val, want, what="Pool perform")
    assert_close(np_g, want_g, what="pool gradient perform")


def test_max_pool_gradient_goes_to_every_tied_maximum():
    xv = np.array([[[[1., 3., 3., 0.],
                     [3., 2., 1., 1.],
                     [0., 0., 5., 5.],
                     [0., 0., 5., 4.]]]])
    x = T.dtensor4("x")
    y = pool_2d(x, (2, 2), ignore_border=True)
    gz = np.array([[[[10., 20.], [30., 40.]]]])
    g = T.grad(T.sum(T.constant(gz) * y), x)
    want = ref_max_pool_grad(xv, gz, (2, 2))
    # the all-zero window's gradient 30 goes to all four of its zeros
    assert_close(want[0, 0], [[0, 10, 20, 0], [10, 0, 0, 0], [30, 30, 40, 40], [30, 30, 40, 0]])
    assert_close(thx.function([x], g)(xv), want, what="tied max gradient (JAX)")
    assert_close(numpy_eval([g], {x: xv})[0], want, what="tied max gradient (perform)")
    # overlapping windows with ties and padding
    xv2 = np.round(np.random.RandomState(3).randn(1, 2, 6, 5))
    y2 = pool_2d(x, (3, 2), ignore_border=True, stride=(2, 1), pad=(1, 1))
    gz2 = np.random.RandomState(4).randn(*ref_pool(xv2, (3, 2), True, (2, 1), (1, 1)).shape)
    g2 = T.grad(T.sum(T.constant(gz2) * y2), x)
    assert_close(thx.function([x], g2)(xv2), ref_max_pool_grad(xv2, gz2, (3, 2), True, (2, 1), (1, 1)))


SECOND = [("max", (3, 2), True, (2, 1), (1, 1)), ("average_exc_pad", (3, 2), True, (2, 1), (1, 1)),
          ("max", (2, 2), False, None, (0, 0))]  # the last: tiling windows, a partial one at the end


@pytest.mark.parametrize("mode,ws,ib,st,pad", SECOND)
def test_second_derivative_and_rop(mode, ws, ib, st, pad):
    rng = np.random.RandomState(0)
    xv, vv = rng.randn(1, 2, 7, 6), rng.randn(1, 2, 7, 6)
    x, v = T.dtensor4("x"), T.dtensor4("v")
    kw = dict(ignore_border=ib, stride=st, pad=pad, mode=mode)
    y = pool_2d(x, ws, **kw)
    g = T.grad(T.sum(T.tanh(y) ** 2), x)
    h = T.grad(T.sum(g * T.cos(x)), x)  # through MaxPoolGrad/AveragePoolGrad's gradients
    r = T.Rop(y, x, v)
    rg = T.Rop(g, x, v)
    got = thx.function([x, v], [h, r, rg])(xv, vv)
    with jax.enable_x64(True):
        def jp(a):
            return jax_pool(a, ws, ib, st, pad, mode)

        def jg(a):
            return jax.grad(lambda b: jnp.sum(jnp.tanh(jp(b)) ** 2))(a)

        want_h = jax.grad(lambda a: jnp.sum(jg(a) * jnp.cos(a)))(xv)
        want_r = jax.jvp(jp, (xv,), (vv,))[1]
        want_rg = jax.jvp(jg, (xv,), (vv,))[1]
    assert_close(got[0], want_h, what="grad of grad")
    assert_close(got[1], want_r, what="Rop of pool")
    assert_close(got[2], want_rg, what="Rop of the pool gradient")
    ops = {type(n.owner.op).__name__ for n in (g, h) if n.owner is not None}
    assert ops & {"MaxPoolGrad", "AveragePoolGrad", "Elemwise"}


def test_max_pool_2d_same_size():
    xv = np.random.RandomState(0).randn(2, 1, 4, 5)
    x = T.dtensor4("x")
    got = thx.function([x], max_pool_2d_same_size(x, (2, 2)))(xv)
    want = np.zeros_like(xv)
    for i in range(0, 4, 2):
        for j in range(0, 4, 2):  # ignore_border: the 5th column is dropped
            blk = xv[:, :, i:i + 2, j:j + 2]
            want[:, :, i:i + 2, j:j + 2] = np.where(blk == blk.max(axis=(2, 3), keepdims=True), blk, 0)
    assert_close(got, want)


def test_pool_3d_and_higher_rank_inputs():
    xv = np.random.RandomState(0).randn(2, 5, 4, 6)
    x = T.dtensor4("x")
    y = pool_3d(x, (2, 2, 3), ignore_border=False, mode="sum")
    want = np.zeros((2, 3, 2, 2))
    for d in range(3):
        for r in range(2):
            for c in range(2):
                want[:, d, r, c] = xv[:, 2 * d:2 * d + 2, 2 * r:2 * r + 2, 3 * c:3 * c + 3].sum(axis=(1, 2, 3))
    g = T.grad(T.sum(y ** 2), x)
    val, gv = thx.function([x], [y, g])(xv)
    assert_close(val, want)
    with jax.enable_x64(True):
        def jp(a):
            return lax.reduce_window(a, 0.0, lax.add, (1, 2, 2, 3), (1, 2, 2, 3), [(0, 0), (0, 1), (0, 0), (0, 0)])
        assert_close(gv, jax.grad(lambda a: jnp.sum(jp(a) ** 2))(xv))
    x5 = T.TensorType("float64", (False,) * 5)("x5")
    v5 = np.random.RandomState(1).randn(2, 1, 3, 4, 4)
    assert_close(thx.function([x5], pool_2d(x5, (2, 2), ignore_border=True))(v5), ref_pool(v5, (2, 2)))


def test_theano_signature_aliases_and_errors():
    x = T.dtensor4("x")
    xv = np.random.RandomState(0).randn(1, 1, 5, 5)
    with pytest.warns(DeprecationWarning, match="parameter is deprecated"):
        y = pool_2d(x, ds=(2, 2), st=(1, 1), ignore_border=True, mode="sum")
    assert_close(thx.function([x], y)(xv), ref_pool(xv, (2, 2), True, (1, 1), mode="sum"))
    with pytest.warns(UserWarning, match="ignore_border"):
        y = pool_2d(x, (2, 2))  # Theano 1.0: None means False, with a warning
    assert thx.function([x], y)(xv).shape == (1, 1, 3, 3)
    with pytest.raises(ValueError, match="both 'ds' and 'ws'"):
        pool_2d(x, ws=(2, 2), ds=(2, 2), ignore_border=True)
    with pytest.raises(NotImplementedError, match="ignore_border=True"):
        pool_2d(x, (2, 2), ignore_border=False, pad=(1, 1))
    with pytest.raises(NotImplementedError, match="smaller than the window"):
        pool_2d(x, (2, 2), ignore_border=True, pad=(2, 0))
    with pytest.raises(ValueError, match="mode"):
        pool_2d(x, (2, 2), ignore_border=True, mode="average")
    with pytest.raises(NotImplementedError, match="dimension >= 2"):
        pool_2d(T.dvector(), (2, 2), ignore_border=True)
    assert pool.Pool.out_shape((1, 1, 5, 5), (2, 2), ignore_border=False) == [1, 1, 3, 3]
    assert pool.Pool.out_shape((7, 6), (3, 3), True, (2, 1), (1, 2)) == [4, 8]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pool_2d(x, (2, 2), ignore_border=True)  # explicit arguments: no warning


def test_float32_and_ops_are_theanos():
    x = T.ftensor4("x")
    y = pool_2d(x, (2, 2), ignore_border=True, mode="average_inc_pad")
    g = T.grad(y.sum(), x)
    assert isinstance(y.owner.op, pool.Pool) and isinstance(g.owner.op, pool.AveragePoolGrad)
    out = thx.function([x], [y, g])(np.ones((1, 1, 4, 4), "float32"))
    assert [o.dtype for o in out] == ["float32", "float32"]
    assert_close(out[1], np.full((1, 1, 4, 4), 0.25))
    ym = pool_2d(x, (2, 2), ignore_border=True)
    assert isinstance(T.grad(ym.sum(), x).owner.op, pool.MaxPoolGrad)


@pytest.mark.parametrize("case", [CASES[1], CASES[3], CASES[8]], ids=["partial", "padded", "exc_pad"])
def test_infer_shape(case):
    x, y = _build(case)
    xv = np.random.RandomState(0).randn(*case[0])
    g = T.grad(y.sum(), x)
    for out in (y, g):
        node = out.owner
        shapes = [tuple(T.shape(i)[k] for k in range(i.ndim)) for i in node.inputs]
        (sym,) = node.op.infer_shape(None, node, shapes)
        got = numpy_eval([T.stack([T.cast(s, "int64") for s in sym])], {x: xv})[0]
        assert tuple(got) == numpy_eval([out], {x: xv})[0].shape


def test_old_downsample_module_and_signal_conv():
    from thx.tensor.signal import conv, downsample
    xv = np.random.RandomState(0).randn(2, 5, 5)
    x = T.dtensor3("x")
    with pytest.warns(DeprecationWarning, match="moved"):
        y = downsample.max_pool_2d(x, (2, 2), ignore_border=False)
    assert_close(thx.function([x], y)(xv), ref_pool(xv, (2, 2), False))
    # signal.conv.conv2d: 2D/3D images and filters, a true (flipped) convolution
    wv = np.random.RandomState(1).randn(3, 2, 2)
    w, m = T.dtensor3("w"), T.dmatrix("m")
    outs = thx.function([x, w, m], [conv.conv2d(x, w), conv.conv2d(m, w[0]), conv.conv2d(x, w[0], border_mode="full")])(
        xv, wv, xv[0])
    full = np.zeros((2, 3, 4, 4))
    for b in range(2):
        for k in range(3):
            for r in range(4):
                for c in range(4):
                    full[b, k, r, c] = np.sum(xv[b, r:r + 2, c:c + 2] * wv[k, ::-1, ::-1])
    assert_close(outs[0], full)
    assert_close(outs[1], full[0, 0])
    assert outs[2].shape == (2, 6, 6)


def test_theano_1_0_op_calling_convention():
    """Theano 1.0 builds ``Pool(ignore_border, mode)`` and gives ws/stride/pad to make_node."""
    xv = np.random.RandomState(0).randn(1, 2, 7, 6)
    x = T.dtensor4("x")
    y = pool.Pool(True, mode="sum")(x, (3, 2), (2, 1), (1, 1))
    assert y.owner.op == pool.Pool((3, 2), True, (2, 1), (1, 1), "sum")
    maxout = pool.Pool(ignore_border=True)(x, ws=(2, 2))
    g = pool.MaxPoolGrad(True)(x, maxout, maxout, (2, 2))
    a = pool.AveragePoolGrad(True, "average_exc_pad")(x, maxout, (2, 2))
    got = thx.function([x], [y, g, a])(xv)
    assert_close(got[0], ref_pool(xv, (3, 2), True, (2, 1), (1, 1), "sum"))
    m = ref_pool(xv, (2, 2))
    assert_close(got[1], ref_max_pool_grad(xv, m, (2, 2)))
    spread = np.repeat(np.repeat(m / 4, 2, axis=2), 2, axis=3)  # each window's gz / 4 over its 2x2
    assert_close(got[2], np.pad(spread, [(0, 0), (0, 0), (0, 1), (0, 0)]))  # the 7th row is in no window
    with pytest.raises(TypeError, match="give the window size"):
        pool.Pool(True)(x)
