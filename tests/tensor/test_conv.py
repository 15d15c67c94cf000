"""conv2d / conv3d and the AbstractConv ops: values vs a loop oracle, gradients vs jax.grad and finite differences."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax import lax

import thx
import thx.tensor as T
from thx.tensor.nnet import abstract_conv as AC
from thx.tensor.nnet import conv as old_conv
from tests.oracle import assert_close, numpy_eval


# ----------------------------------------------------------------------------- oracles

def ref_pads(border_mode, kshape, dil):
    dk = [(k - 1) * d + 1 for k, d in zip(kshape, dil)]
    if border_mode == "valid":
        return [0] * len(dk)
    if border_mode == "full":
        return [k - 1 for k in dk]
    if border_mode == "half":
        return [k // 2 for k in dk]
    if isinstance(border_mode, int):
        return [border_mode] * len(dk)
    return list(border_mode)


def ref_conv(img, kern, border_mode="valid", subsample=(1, 1), filter_flip=True, dil=(1, 1), groups=1):
    """The definition, one output element at a time (2D)."""
    pads = ref_pads(border_mode, kern.shape[2:], dil)
    if filter_flip:
        kern = kern[:, :, ::-1, ::-1]
    x = np.zeros(img.shape[:2] + (img.shape[2] + 2 * pads[0], img.shape[3] + 2 * pads[1]))
    x[:, :, pads[0]:pads[0] + img.shape[2], pads[1]:pads[1] + img.shape[3]] = img
    kh, kw = kern.shape[2:]
    oh = (x.shape[2] - (kh - 1) * dil[0] - 1) // subsample[0] + 1
    ow = (x.shape[3] - (kw - 1) * dil[1] - 1) // subsample[1] + 1
    cg, og = img.shape[1] // groups, kern.shape[0] // groups
    out = np.zeros((img.shape[0], kern.shape[0], oh, ow))
    for b in range(img.shape[0]):
        for o in range(kern.shape[0]):
            g = o // og
            for r in range(oh):
                for c in range(ow):
                    rs, cs = r * subsample[0], c * subsample[1]
                    patch = x[b, g * cg:(g + 1) * cg, rs:rs + (kh - 1) * dil[0] + 1:dil[0],
                              cs:cs + (kw - 1) * dil[1] + 1:dil[1]]
                    out[b, o, r, c] = np.sum(patch * kern[o])
    return out


def jax_conv(img, kern, border_mode="valid", subsample=(1, 1), filter_flip=True, dil=(1, 1), groups=1):
    """The same convolution written with plain ``lax.conv_general_dilated``."""
    pads = ref_pads(border_mode, kern.shape[2:], dil)
    if filter_flip:
        kern = kern[:, :, ::-1, ::-1]
    return lax.conv_general_dilated(img, kern, subsample, [(p, p) for p in pads], rhs_dilation=dil,
                                    dimension_numbers=("NCHW", "OIHW", "NCHW"),
                                    feature_group_count=groups)


CASES = [  # (image shape, filter shape, border_mode, subsample, filter_flip, dilation, groups)
    ((2, 3, 7, 6), (4, 3, 3, 2), "valid", (1, 1), True, (1, 1), 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), "full", (1, 1), True, (1, 1), 1),
    ((2, 3, 7, 6), (4, 3, 3, 3), "half", (1, 1), False, (1, 1), 1),
    ((1, 2, 6, 6), (2, 2, 4, 2), "half", (1, 1), True, (1, 1), 1),
    ((2, 3, 7, 6), (4, 3, 3, 2), 1, (2, 2), True, (1, 1), 1),
    ((2, 3, 8, 7), (4, 3, 3, 2), (2, 1), (2, 3), False, (1, 1), 1),
    ((1, 2, 9, 8), (3, 2, 3, 2), "valid", (1, 1), True, (2, 3), 1),
    ((1, 2, 9, 8), (3, 2, 2, 3), "full", (2, 1), True, (2, 2), 1),
    ((2, 4, 6, 6), (6, 2, 3, 3), "valid", (1, 1), True, (1, 1), 2),
    ((1, 6, 7, 5), (3, 2, 2, 2), "half", (2, 1), False, (2, 1), 3),
]


def _setup(case, seed=0):
    ishp, kshp, mode, sub, flip, dil, groups = case
    rng = np.random.RandomState(seed)
    img, kern = rng.randn(*ishp), rng.randn(*kshp)
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.nnet.conv2d(x, w, border_mode=mode, subsample=sub, filter_flip=flip,
                      filter_dilation=dil, num_groups=groups)
    kw = dict(border_mode=mode, subsample=sub, filter_flip=flip, dil=dil, groups=groups)
    return img, kern, x, w, y, kw


@pytest.mark.parametrize("case", CASES, ids=[str(c[2:]) for c in CASES])
def test_conv2d_values_gradients_and_perform(case):
    img, kern, x, w, y, kw = _setup(case)
    want = ref_conv(img, kern, **kw)
    proj = np.random.RandomState(1).uniform(0.5, 1.5, size=want.shape)
    cost = T.sum(T.constant(proj) * y)
    gx, gw = T.grad(cost, [x, w])
    f = thx.function([x, w], [y, gx, gw, y.shape])
    val, got_gx, got_gw, shp = f(img, kern)
    assert_close(val, want, what="conv2d value")
    assert tuple(shp) == want.shape

    with jax.enable_x64(True):
        jx, jw = jax.grad(lambda a, b: jnp.sum(proj * jax_conv(a, b, **kw)), argnums=(0, 1))(img, kern)
    assert_close(got_gx, jx, what="grad wrt input")
    assert_close(got_gw, jw, what="grad wrt filters")

    # the NumPy perform of the three ops (conv, gradInputs, gradWeights) agree too
    np_val, np_gx, np_gw = numpy_eval([y, gx, gw], {x: img, w: kern})
    assert_close(np_val, want, what="perform value")
    assert_close(np_gx, jx, what="gradInputs perform")
    assert_close(np_gw, jw, what="gradWeights perform")


def test_gradient_ops_are_theanos():
    img, kern, x, w, y, kw = _setup(CASES[4])
    gx, gw = T.grad(y.sum(), [x, w])
    assert isinstance(y.owner.op, T.nnet.AbstractConv2d)
    assert isinstance(gx.owner.op, T.nnet.AbstractConv2d_gradInputs)
    assert isinstance(gw.owner.op, T.nnet.AbstractConv2d_gradWeights)
    assert gw.owner.op.subsample == (2, 2) and gw.owner.op.border_mode == (1, 1)


def test_finite_differences_of_the_numpy_oracle():
    case = ((1, 2, 5, 4), (2, 2, 2, 3), "half", (2, 1), True, (1, 1), 1)
    img, kern, x, w, y, kw = _setup(case, seed=3)
    proj = np.random.RandomState(2).uniform(0.5, 1.5, size=ref_conv(img, kern, **kw).shape)
    gx, gw = thx.function([x, w], T.grad(T.sum(T.constant(proj) * y), [x, w]))(img, kern)
    eps = 1e-6
    for arr, got in ((img, gx), (kern, gw)):
        num = np.zeros_like(arr)
        for i in np.ndindex(*arr.shape):
            old = arr[i]
            arr[i] = old + eps
            fp = np.sum(proj * ref_conv(img, kern, **kw))
            arr[i] = old - eps
            fm = np.sum(proj * ref_conv(img, kern, **kw))
            arr[i] = old
            num[i] = (fp - fm) / (2 * eps)
        assert_close(got, num, rtol=1e-5, atol=1e-6, what="finite differences")


@pytest.mark.parametrize("case", [CASES[5], CASES[7], CASES[9]], ids=["strided", "dilated", "grouped"])
def test_second_derivatives_and_rop(case):
    img, kern, x, w, y, kw = _setup(case, seed=4)
    rng = np.random.RandomState(5)
    vx, vw = T.dtensor4("vx"), T.dtensor4("vw")
    v_img, v_kern = rng.randn(*img.shape), rng.randn(*kern.shape)
    proj = rng.uniform(0.5, 1.5, size=ref_conv(img, kern, **kw).shape)
    cost = T.sum(T.constant(proj) * T.tanh(y))
    gx, gw = T.grad(cost, [x, w])
    cost2 = T.sum(gw ** 2) + T.sum(gx * T.sin(gx))  # through gradWeights and gradInputs
    hx, hw = T.grad(cost2, [x, w])
    r = T.Rop(y, [x, w], [vx, vw])
    rg = T.Rop(gw, [x, w], [vx, vw])  # R_op of the gradient ops
    f = thx.function([x, w, vx, vw], [hx, hw, r, rg])
    got = f(img, kern, v_img, v_kern)

    with jax.enable_x64(True):
        def jcost(a, b):
            return jnp.sum(proj * jnp.tanh(jax_conv(a, b, **kw)))

        def jcost2(a, b):
            ga, gb = jax.grad(jcost, argnums=(0, 1))(a, b)
            return jnp.sum(gb ** 2) + jnp.sum(ga * jnp.sin(ga))

        want_h = jax.grad(jcost2, argnums=(0, 1))(img, kern)
        want_r = jax.jvp(lambda a, b: jax_conv(a, b, **kw), (img, kern), (v_img, v_kern))[1]
        want_rg = jax.jvp(lambda a, b: jax.grad(jcost, argnums=1)(a, b), (img, kern), (v_img, v_kern))[1]
    assert_close(got[0], want_h[0], rtol=1e-6, what="grad of grad wrt input")
    assert_close(got[1], want_h[1], rtol=1e-6, what="grad of grad wrt filters")
    assert_close(got[2], want_r, what="Rop of conv")
    assert_close(got[3], want_rg, rtol=1e-6, what="Rop of gradWeights")


def test_conv3d_value_and_gradient():
    rng = np.random.RandomState(0)
    img, kern = rng.randn(2, 2, 5, 4, 4), rng.randn(3, 2, 2, 3, 2)
    x, w = T.dtensor5("x"), T.dtensor5("w")
    y = T.nnet.conv3d(x, w, border_mode="half", subsample=(1, 2, 1), filter_dilation=(2, 1, 1))
    gx, gw = T.grad(T.sum(y ** 2), [x, w])
    val, got_gx, got_gw = thx.function([x, w], [y, gx, gw])(img, kern)
    assert isinstance(gw.owner.op, T.nnet.AbstractConv3d_gradWeights)

    with jax.enable_x64(True):
        def jconv(a, b):
            pads = [(1, 1), (1, 1), (1, 1)]  # half of the dilated sizes 3, 3, 2: size // 2
            return lax.conv_general_dilated(a, b[:, :, ::-1, ::-1, ::-1], (1, 2, 1), pads,
                                            rhs_dilation=(2, 1, 1),
                                            dimension_numbers=("NCDHW", "OIDHW", "NCDHW"))
        want = jconv(img, kern)
        jx, jw = jax.grad(lambda a, b: jnp.sum(jconv(a, b) ** 2), argnums=(0, 1))(img, kern)
    assert_close(val, want, what="conv3d")
    assert_close(got_gx, jx, what="conv3d grad input")
    assert_close(got_gw, jw, what="conv3d grad filters")
    np_val, = numpy_eval([y], {x: img, w: kern})
    assert_close(np_val, want, what="conv3d perform")


def test_old_conv2d_is_a_flipped_convolution():
    rng = np.random.RandomState(0)
    img, kern = rng.randn(2, 2, 6, 5), rng.randn(3, 2, 3, 2)
    x, w = T.dtensor4("x"), T.dtensor4("w")
    for mode, sub in (("valid", (1, 1)), ("full", (2, 1))):
        y = old_conv.conv2d(x, w, image_shape=(2, 2, 6, 5), filter_shape=(3, 2, 3, 2),
                            border_mode=mode, subsample=sub, unroll_batch=2)
        assert_close(thx.function([x, w], y)(img, kern),
                     ref_conv(img, kern, border_mode=mode, subsample=sub), what=f"old conv2d {mode}")
    with pytest.raises(ValueError, match="stack size"):
        old_conv.conv2d(x, w, image_shape=(2, 2, 6, 5), filter_shape=(3, 4, 3, 2))
    with pytest.raises(ValueError, match="output_mode"):
        old_conv.conv2d(x, w, border_mode="half")
    assert old_conv.ConvOp.getOutputShape((6, 5), (3, 2), (2, 1), "full") == (4, 6)


def test_transposed_convolutions_are_jax_vjps():
    rng = np.random.RandomState(0)
    top, kern, img = rng.randn(2, 3, 3, 4), rng.randn(3, 2, 3, 2), rng.randn(2, 2, 7, 6)
    g, w, x = T.dtensor4("g"), T.dtensor4("w"), T.dtensor4("x")
    gi = T.nnet.conv2d_transpose(g, w, (2, 2, 7, 6), border_mode=1, input_dilation=(3, 2))
    gw = AC.conv2d_grad_wrt_weights(x, g, (3, 2, 3, 2), border_mode=1, subsample=(3, 2))
    got_i, got_w = thx.function([g, w, x], [gi, gw])(top, kern, img)
    with jax.enable_x64(True):
        _, vjp = jax.vjp(lambda a, b: jax_conv(a, b, border_mode=1, subsample=(3, 2)), img, kern)
        want_i, want_w = vjp(top)
    assert_close(got_i, want_i, what="conv2d_transpose")
    assert_close(got_w, want_w, what="conv2d_grad_wrt_weights")


def test_shapes_helpers_and_errors():
    assert AC.get_conv_output_shape((2, 3, 7, 6), (4, 3, 3, 2), "full", (2, 1)) == (2, 4, 5, 7)
    assert AC.get_conv_output_shape((None, 3, 7, 6), (4, 3, 3, 2), (1, 2), (1, 1), (2, 1)) == \
        (None, 4, 5, 9)
    x, w = T.dtensor4("x"), T.dtensor4("w")
    with pytest.raises(ValueError, match="border_mode"):
        T.nnet.conv2d(x, w, border_mode="same")
    with pytest.raises(TypeError, match="img must be a 4D tensor"):
        T.nnet.conv2d(T.dmatrix(), w)
    with pytest.raises(ValueError, match="not both"):
        T.nnet.conv2d(x, w, input_shape=(1, 1, 2, 2), image_shape=(1, 1, 2, 2))
    f = thx.function([x, w], T.nnet.conv2d(x, w))
    with pytest.raises(Exception, match="channels"):
        f(np.ones((1, 3, 4, 4)), np.ones((1, 2, 2, 2)))
    # integer inputs are upcast to a float convolution
    xi = T.imatrix("xi").dimshuffle("x", "x", 0, 1)
    assert T.nnet.conv2d(xi, w).dtype == "float64"


def test_float32_stays_float32():
    x, w = T.ftensor4("x"), T.ftensor4("w")
    y = T.nnet.conv2d(x, w, border_mode="full")
    gx, gw = T.grad(y.sum(), [x, w])
    outs = thx.function([x, w], [y, gx, gw])(np.ones((1, 1, 3, 3), "float32"), np.ones((2, 1, 2, 2), "float32"))
    assert [o.dtype for o in outs] == ["float32"] * 3
    assert_close(outs[0], ref_conv(np.ones((1, 1, 3, 3)), np.ones((2, 1, 2, 2)), "full"), rtol=1e-6)


@pytest.mark.parametrize("case", [CASES[1], CASES[5], CASES[7], CASES[9]], ids=["full", "pads", "dilated", "grouped"])
def test_infer_shape_of_the_three_ops(case):
    img, kern, x, w, y, kw = _setup(case)
    gx, gw = T.grad(y.sum(), [x, w])
    for out, ins in ((y, [x, w]), (gx, None), (gw, None)):
        node = out.owner
        shapes = [tuple(T.shape(i)[k] for k in range(i.ndim)) for i in node.inputs]
        (sym,) = node.op.infer_shape(None, node, shapes)
        got = numpy_eval([T.stack([T.cast(s, "int64") for s in sym])], {x: img, w: kern})[0]
        want = numpy_eval([out], {x: img, w: kern})[0].shape
        assert tuple(got) == want, (node.op, tuple(got), want)


def test_separable_conv2d_is_depthwise_then_pointwise():
    rng = np.random.RandomState(0)
    img, dw, pw = rng.randn(2, 3, 6, 5), rng.randn(6, 1, 3, 2), rng.randn(4, 6, 1, 1)
    x, d, p = T.dtensor4("x"), T.dtensor4("d"), T.dtensor4("p")
    y = T.nnet.separable_conv2d(x, d, p, num_channels=3, border_mode="half", subsample=(2, 1))
    got = thx.function([x, d, p], y)(img, dw, pw)
    depth = ref_conv(img, dw, "half", (2, 1), groups=3)
    assert_close(got, np.einsum("bchw,oc->bohw", depth, pw[:, :, 0, 0]))


def test_check_against_jax_differentiates_the_lowered_conv_and_pool():
    from thx.check import check_against_jax
    from thx.tensor.signal.pool import pool_2d
    x, w = T.dtensor4("x"), T.dtensor4("w")
    y = T.tanh(pool_2d(T.nnet.conv2d(x, w, border_mode="half"), (2, 2), ignore_border=True))
    rng = np.random.RandomState(0)
    report = check_against_jax((y ** 2).sum(), [x, w], {x: rng.randn(2, 2, 6, 6), w: rng.randn(3, 2, 3, 3)})
    assert report.passed and len(list(report)) == 2


def test_lenet_style_training_matches_jax_step_by_step():
    """The deeplearning.net LeNet pattern: shared data through givens, SGD updates.

    (The tutorial's minibatch slice ``train_x[index * 4:(index + 1) * 4]`` needs the traced slice
    starts of the dynamic-shapes work; here one call takes a shared array set per step.)
    """
    from thx.tensor.signal.pool import pool_2d
    rng = np.random.RandomState(0)
    data, labels = rng.rand(8, 1, 10, 10), rng.randint(0, 3, size=8)
    init = [rng.randn(2, 1, 3, 3) / 3, np.zeros(2), rng.randn(8, 3) / 3, np.zeros(3)]
    params = [thx.shared(p.copy()) for p in init]
    W1, b1, W2, b2 = params
    x, y = T.dmatrix("x"), T.lvector("y")
    batch_x, batch_y = thx.shared(data[:4]), thx.shared(labels[:4].astype("int64"))
    h = pool_2d(T.nnet.conv2d(x.reshape((4, 1, 10, 10)), W1, filter_shape=(2, 1, 3, 3)), ws=(2, 2),
                ignore_border=True)
    h = T.tanh(h + b1.dimshuffle("x", 0, "x", "x")).flatten(2)  # (4, 2 * 4 * 4)
    h = T.tanh(T.dot(h, T.ones((32, 8)) / 32.0))
    p = T.nnet.softmax(T.dot(h, W2) + b2)
    cost = -T.mean(T.log(p)[T.arange(y.shape[0]), y])
    grads = T.grad(cost, params)
    train = thx.function([], cost, updates=[(v, v - 0.5 * g) for v, g in zip(params, grads)],
                         givens={x: batch_x.reshape((4, 100)), y: batch_y})

    with jax.enable_x64(True):
        def jcost(ps, xb, yb):
            w1, c1, w2, c2 = ps
            z = jax_conv(xb, w1)
            z = lax.reduce_window(z, -jnp.inf, lax.max, (1, 1, 2, 2), (1, 1, 2, 2), "VALID")
            z = jnp.tanh(z + c1[None, :, None, None]).reshape(4, -1)
            z = jnp.tanh(z @ (jnp.ones((32, 8)) / 32.0))
            return -jnp.mean(jax.nn.log_softmax(z @ w2 + c2)[jnp.arange(4), yb])

        ps = [jnp.asarray(p) for p in init]
        for step in range(4):
            i = step % 2
            want, gs = jax.value_and_grad(jcost)(ps, data[i * 4:(i + 1) * 4], labels[i * 4:(i + 1) * 4])
            batch_x.set_value(data[i * 4:(i + 1) * 4])
            batch_y.set_value(labels[i * 4:(i + 1) * 4].astype("int64"))
            got = train()
            assert_close(got, want, rtol=1e-10, what=f"cost at step {step}")
            ps = [p - 0.5 * g for p, g in zip(ps, gs)]
        for v, p in zip(params, ps):
            assert_close(v.get_value(), p, rtol=1e-9)
