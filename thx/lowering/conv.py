"""JAX lowering of thx/tensor/nnet/abstract_conv.py: ``lax.conv_general_dilated`` and its transposes."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

from thx.lowering.registry import is_concrete, register
from thx.tensor.nnet.abstract_conv import (AbstractConv, AbstractConv_gradInputs,
                                           AbstractConv_gradWeights, _pads)


def _conv_fn(op, kernel_spatial):
    """``f(img, kern)``: the forward convolution of ``op`` for filters of spatial size ``kernel_spatial``."""
    n = op.convdim
    pads = [(int(p), int(p)) for p in _pads(op.border_mode, kernel_spatial, op.filter_dilation)]
    spatial = "DHW"[-n:] if n <= 3 else None
    dn = (("NC" + spatial, "OI" + spatial, "NC" + spatial) if spatial
          else lax.ConvDimensionNumbers((0, 1) + tuple(range(2, n + 2)), (0, 1) + tuple(range(2, n + 2)),
                                        (0, 1) + tuple(range(2, n + 2))))
    flip_axes = tuple(range(2, n + 2))

    def f(img, kern):
        if op.filter_flip:
            kern = jnp.flip(kern, axis=flip_axes)
        return lax.conv_general_dilated(img, kern, window_strides=op.subsample, padding=pads,
                                        rhs_dilation=op.filter_dilation,
                                        dimension_numbers=dn, feature_group_count=op.num_groups)
    return f


def _spatial(shp):
    if not is_concrete(shp):
        raise TypeError("convolution gradient: the spatial shape depends on a value only known at "
                        "run time; thx needs it when the function is compiled")
    return tuple(int(s) for s in np.asarray(shp).reshape(-1))


@register(AbstractConv)
def _abstract_conv(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(img, kern):
        op._check_shapes(np.shape(img), np.shape(kern))
        return _conv_fn(op, np.shape(kern)[2:])(img, kern).astype(dtype)
    return impl


@register(AbstractConv_gradWeights, static_inputs=(2,))
def _abstract_conv_grad_weights(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(img, top, shp):
        k_sp = _spatial(shp)
        kshape = (np.shape(top)[1], np.shape(img)[1] // op.num_groups) + k_sp
        f = _conv_fn(op, k_sp)
        (w,) = jax.linear_transpose(lambda k: f(img, k), jax.ShapeDtypeStruct(kshape, dtype))(
            jnp.asarray(top, dtype))
        return w
    return impl


@register(AbstractConv_gradInputs, static_inputs=(2,))
def _abstract_conv_grad_inputs(op, node):
    dtype = np.dtype(node.outputs[0].dtype)

    def impl(kern, top, shp):
        img_sp = _spatial(shp)
        ishape = (np.shape(top)[0], np.shape(kern)[1] * op.num_groups) + img_sp
        f = _conv_fn(op, np.shape(kern)[2:])
        (x,) = jax.linear_transpose(lambda i: f(i, kern), jax.ShapeDtypeStruct(ishape, dtype))(
            jnp.asarray(top, dtype))
        return x
    return impl
