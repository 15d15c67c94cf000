"""Theano 1.0's abstract convolutions: ``conv2d``/``conv3d`` and the AbstractConv ops with their gradients.

``AbstractConv`` computes a (grouped, strided, dilated, padded) correlation of
images ``(batch, channels, *spatial)`` with filters ``(out_channels,
channels // num_groups, *kernel)``; with ``filter_flip=True`` (the default)
the filters are flipped first, which makes it a true convolution, as in
Theano.  Its gradients are the two other ops of the family,
``AbstractConv_gradWeights`` (image, output gradient -> filters) and
``AbstractConv_gradInputs`` (filters, output gradient -> image); since the
three are bilinear, each one's gradient is expressed with the other two, so
higher derivatives and ``R_op`` never leave the family.  The NumPy
``perform`` of each is a plain loop over kernel offsets (the oracle); the
JAX lowering (``thx/lowering/conv.py``) uses ``lax.conv_general_dilated``.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor import elemwise as E
from thx.tensor.basic import _disconnected, shape, stack
from thx.tensor.type import TensorType, float_dtypes, upcast
from thx.tensor.var import as_tensor_variable

__all__ = ["conv2d", "conv3d", "separable_conv2d", "conv2d_grad_wrt_inputs", "conv2d_grad_wrt_weights",
           "conv3d_grad_wrt_inputs", "conv3d_grad_wrt_weights", "get_conv_output_shape",
           "get_conv_shape_1axis", "AbstractConv", "AbstractConv_gradWeights",
           "AbstractConv_gradInputs", "AbstractConv2d", "AbstractConv2d_gradWeights",
           "AbstractConv2d_gradInputs", "AbstractConv3d", "AbstractConv3d_gradWeights",
           "AbstractConv3d_gradInputs", "BaseAbstractConv"]


# ----------------------------------------------------------------------------- shapes and pads

def _int_tuple(v: Any, n: int, what: str) -> tuple[int, ...]:
    if isinstance(v, (int, np.integer)):
        v = (v,) * n
    v = tuple(int(a) for a in v)
    if len(v) != n:
        raise ValueError(f"{what} must have {n} elements, got {v}")
    return v


def _border_mode(border_mode: Any, n: int) -> str | tuple[int, ...]:
    """'valid', 'full', 'half' or a tuple of ``n`` non-negative pads (Theano's normalisation)."""
    if isinstance(border_mode, str):
        if border_mode not in ("valid", "full", "half"):
            raise ValueError(f"invalid border_mode {border_mode!r}: expected 'valid', 'full', "
                             f"'half', an int or a tuple of {n} ints")
        return border_mode
    try:
        pads = _int_tuple(border_mode, n, "border_mode")
    except (TypeError, ValueError):
        raise ValueError(f"invalid border_mode {border_mode!r}: expected 'valid', 'full', 'half', "
                         f"an int or a tuple of {n} ints") from None
    if any(p < 0 for p in pads):
        raise ValueError(f"border_mode {border_mode!r}: pads must be non-negative")
    return "valid" if all(p == 0 for p in pads) else pads


def _pads(border_mode: str | tuple[int, ...], kernel: Sequence[Any], dilation: Sequence[int]) -> list[Any]:
    """Padding on each side of each spatial axis (``kernel`` sizes may be symbolic)."""
    out = []
    for i, (k, d) in enumerate(zip(kernel, dilation)):
        dk = (k - 1) * d + 1
        if border_mode == "valid":
            out.append(0)
        elif border_mode == "full":
            out.append(dk - 1)
        elif border_mode == "half":
            out.append(dk // 2)
        else:
            out.append(border_mode[i])
    return out


def get_conv_shape_1axis(image_shape: Any, kernel_shape: Any, border_mode: Any, subsample: int,
                         dilation: int = 1) -> Any:
    """Output length of a convolution along one axis (ints, or ``None`` if either size is unknown).

    Examples
    --------
    >>> from thx.tensor.nnet.abstract_conv import get_conv_shape_1axis
    >>> get_conv_shape_1axis(28, 5, 'valid', 1), get_conv_shape_1axis(28, 5, 'full', 2)
    (24, 16)
    """
    if image_shape is None or kernel_shape is None:
        return None
    mode = border_mode if isinstance(border_mode, str) else (border_mode,)
    pad = _pads(mode if isinstance(mode, str) else tuple(mode), [kernel_shape], [dilation])[0]
    return (image_shape + 2 * pad - ((kernel_shape - 1) * dilation + 1)) // subsample + 1


def get_conv_output_shape(image_shape: Sequence[Any], kernel_shape: Sequence[Any], border_mode: Any,
                          subsample: Sequence[int], filter_dilation: Sequence[int] | None = None) -> tuple:
    """Shape of ``conv(image, kernel)`` from the two shapes (``None`` where unknown).

    Examples
    --------
    >>> from thx.tensor.nnet.abstract_conv import get_conv_output_shape
    >>> get_conv_output_shape((8, 3, 28, 28), (16, 3, 5, 5), 'half', (2, 2))
    (8, 16, 14, 14)
    """
    n = len(image_shape) - 2
    dil = (1,) * n if filter_dilation is None else tuple(filter_dilation)
    mode = _border_mode(border_mode, n)
    spatial = tuple(get_conv_shape_1axis(image_shape[2 + i], kernel_shape[2 + i],
                                         mode if isinstance(mode, str) else mode[i], subsample[i], dil[i])
                    for i in range(n))
    return (image_shape[0], kernel_shape[0]) + spatial


# ----------------------------------------------------------------------------- NumPy oracle

def _offset_slices(off, out_sp, strides, dil):
    return tuple(slice(o * d, o * d + (n - 1) * s + 1, s)
                 for o, n, s, d in zip(off, out_sp, strides, dil))


def np_correlate(img, kern, pads, strides, dil, groups):
    """Grouped, strided, dilated correlation of ``img`` with ``kern`` after zero ``pads`` (NumPy)."""
    nd = kern.ndim - 2
    x = np.pad(img, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    ks = kern.shape[2:]
    out_sp = [(x.shape[2 + i] - ((ks[i] - 1) * dil[i] + 1)) // strides[i] + 1 for i in range(nd)]
    dtype = np.result_type(img.dtype, kern.dtype)
    out = np.zeros((img.shape[0], kern.shape[0]) + tuple(max(n, 0) for n in out_sp), dtype=dtype)
    if min(out.shape, default=1) == 0:
        return out
    cg, og = img.shape[1] // groups, kern.shape[0] // groups
    for g in range(groups):
        xg, kg = x[:, g * cg:(g + 1) * cg], kern[g * og:(g + 1) * og]
        for off in np.ndindex(*ks):
            patch = xg[(slice(None), slice(None)) + _offset_slices(off, out_sp, strides, dil)]
            out[:, g * og:(g + 1) * og] += np.einsum("bc...,oc->bo...", patch, kg[(slice(None), slice(None)) + off])
    return out


def np_correlate_grad_input(kern, top, img_sp, pads, strides, dil, groups):
    """The transpose of :func:`np_correlate` in the image: the gradient w.r.t. an image of ``img_sp``."""
    nd = kern.ndim - 2
    c = kern.shape[1] * groups
    dtype = np.result_type(kern.dtype, top.dtype)
    x = np.zeros((top.shape[0], c) + tuple(img_sp[i] + 2 * pads[i] for i in range(nd)), dtype=dtype)
    out_sp, ks = top.shape[2:], kern.shape[2:]
    cg, og = kern.shape[1], kern.shape[0] // groups
    for g in range(groups):
        tg, kg = top[:, g * og:(g + 1) * og], kern[g * og:(g + 1) * og]
        for off in np.ndindex(*ks):
            idx = (slice(None), slice(g * cg, (g + 1) * cg)) + _offset_slices(off, out_sp, strides, dil)
            x[idx] += np.einsum("bo...,oc->bc...", tg, kg[(slice(None), slice(None)) + off])
    return x[(slice(None), slice(None)) + tuple(slice(p, p + n) for p, n in zip(pads, img_sp))]


def np_correlate_grad_weights(img, top, k_sp, pads, strides, dil, groups):
    """The transpose of :func:`np_correlate` in the filters: the gradient w.r.t. ``k_sp`` filters."""
    x = np.pad(img, [(0, 0), (0, 0)] + [(p, p) for p in pads])
    o = top.shape[1]
    cg, og = img.shape[1] // groups, o // groups
    dtype = np.result_type(img.dtype, top.dtype)
    w = np.zeros((o, cg) + tuple(k_sp), dtype=dtype)
    out_sp = top.shape[2:]
    summed = [0] + list(range(2, top.ndim))  # batch and output positions
    for g in range(groups):
        xg, tg = x[:, g * cg:(g + 1) * cg], top[:, g * og:(g + 1) * og]
        for off in np.ndindex(*k_sp):
            patch = xg[(slice(None), slice(None)) + _offset_slices(off, out_sp, strides, dil)]
            w[(slice(g * og, (g + 1) * og), slice(None)) + off] = np.tensordot(tg, patch, axes=(summed, summed))
    return w


def _flip(k, nd):
    return k[(Ellipsis,) + (slice(None, None, -1),) * nd]


# ----------------------------------------------------------------------------- the ops

class BaseAbstractConv(Op):
    """Shared parameters of the three ops: border mode, subsample, flip, dilation, groups, shape hints."""

    __props__ = ("convdim", "border_mode", "subsample", "filter_flip", "imshp", "kshp",
                 "filter_dilation", "num_groups")

    def __init__(self, convdim: int, imshp: Sequence[Any] | None = None, kshp: Sequence[Any] | None = None,
                 border_mode: Any = "valid", subsample: Sequence[int] | None = None,
                 filter_flip: bool = True, filter_dilation: Sequence[int] | None = None,
                 num_groups: int = 1) -> None:
        self.convdim = int(convdim)
        n = self.convdim
        self.border_mode = _border_mode(border_mode, n)
        self.subsample = _int_tuple((1,) * n if subsample is None else subsample, n, "subsample")
        self.filter_dilation = _int_tuple((1,) * n if filter_dilation is None else filter_dilation, n,
                                          "filter_dilation")
        if min(self.subsample) < 1 or min(self.filter_dilation) < 1:
            raise ValueError(f"subsample {self.subsample} and filter_dilation {self.filter_dilation} "
                             f"must be positive")
        self.filter_flip = bool(filter_flip)
        self.imshp = None if imshp is None else tuple(None if s is None else int(s) for s in imshp)
        self.kshp = None if kshp is None else tuple(None if s is None else int(s) for s in kshp)
        if int(num_groups) < 1:
            raise ValueError(f"num_groups must be a positive integer, got {num_groups}")
        self.num_groups = int(num_groups)

    def _params(self):
        return dict(imshp=self.imshp, kshp=self.kshp, border_mode=self.border_mode,
                    subsample=self.subsample, filter_flip=self.filter_flip,
                    filter_dilation=self.filter_dilation, num_groups=self.num_groups)

    def _family(self):
        """The (conv, gradWeights, gradInputs) ops with this op's parameters."""
        return tuple(_make_op(kind, self.convdim, **self._params()) for kind in range(3))

    def _check(self, v: Variable, what: str) -> None:
        if v.ndim != self.convdim + 2:
            raise TypeError(f"{type(self).__name__}: {what} must be a {self.convdim + 2}D tensor, "
                            f"got {v.type}")

    @staticmethod
    def _float_pair(a, b):
        a, b = as_tensor_variable(a), as_tensor_variable(b)
        dtype = upcast(a.dtype, b.dtype)
        if dtype not in float_dtypes:
            dtype = "float64"
        return (a if a.dtype == dtype else E.cast(a, dtype)), (b if b.dtype == dtype else E.cast(b, dtype))

    def _np_pads(self, kernel_spatial):
        return [int(p) for p in _pads(self.border_mode, kernel_spatial, self.filter_dilation)]

    def _check_shapes(self, img_shape, kern_shape):
        if img_shape[1] != kern_shape[1] * self.num_groups:
            raise ValueError(f"{type(self).__name__}: the image has {img_shape[1]} channels but the "
                             f"filters expect {kern_shape[1]} x num_groups={self.num_groups}")
        if kern_shape[0] % self.num_groups:
            raise ValueError(f"{type(self).__name__}: {kern_shape[0]} output channels are not "
                             f"divisible by num_groups={self.num_groups}")

    def pprint(self, node, ins):
        return f"{type(self).__name__}({', '.join(ins)})"


class AbstractConv(BaseAbstractConv):
    """``conv(img, kern)``: a batch of images ``(b, c, *sp)`` with filters ``(o, c // groups, *k)``."""

    def make_node(self, img, kern):
        img, kern = self._float_pair(img, kern)
        self._check(img, "img")
        self._check(kern, "kern")
        bcast = (img.broadcastable[0], kern.broadcastable[0]) + (False,) * self.convdim
        return Apply(self, [img, kern], [TensorType(img.dtype, bcast)()])

    def perform(self, node, inputs, out):
        img, kern = (np.asarray(v) for v in inputs)
        self._check_shapes(img.shape, kern.shape)
        k = _flip(kern, self.convdim) if self.filter_flip else kern
        res = np_correlate(img, k, self._np_pads(kern.shape[2:]), self.subsample,
                           self.filter_dilation, self.num_groups)
        out[0][0] = res.astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        img, kern = inputs
        (top,) = grads
        _, gw, gi = self._family()
        return [gi(kern, top, shape(img)[2:]), gw(img, top, shape(kern)[2:])]

    def R_op(self, inputs, eval_points):
        img, kern = inputs
        terms = []
        if eval_points[0] is not None:
            terms.append(self(eval_points[0], kern))
        if eval_points[1] is not None:
            terms.append(self(img, eval_points[1]))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]

    def infer_shape(self, fgraph, node, input_shapes):
        ishp, kshp = input_shapes
        pads = _pads(self.border_mode, kshp[2:], self.filter_dilation)
        sp = tuple((ishp[2 + i] + 2 * pads[i] - ((kshp[2 + i] - 1) * self.filter_dilation[i] + 1))
                   // self.subsample[i] + 1 for i in range(self.convdim))
        return [(ishp[0], kshp[0]) + sp]


class AbstractConv_gradWeights(BaseAbstractConv):
    """``gradWeights(img, topgrad, shape)``: the gradient of ``conv`` w.r.t. its filters.

    ``shape`` gives the filters' spatial size (it cannot be recovered from
    the output when ``subsample`` > 1).
    """

    def make_node(self, img, topgrad, shp):
        img, topgrad = self._float_pair(img, topgrad)
        self._check(img, "img")
        self._check(topgrad, "topgrad")
        shp = as_tensor_variable(shp)
        if shp.ndim != 1:
            raise TypeError(f"{type(self).__name__}: shape must be a vector of {self.convdim} ints")
        bcast = (topgrad.broadcastable[1], img.broadcastable[1]) + (False,) * self.convdim
        return Apply(self, [img, topgrad, shp], [TensorType(img.dtype, bcast)()])

    def perform(self, node, inputs, out):
        img, top, shp = (np.asarray(v) for v in inputs)
        k_sp = tuple(int(s) for s in shp)
        w = np_correlate_grad_weights(img, top, k_sp, self._np_pads(k_sp), self.subsample,
                                      self.filter_dilation, self.num_groups)
        out[0][0] = (_flip(w, self.convdim) if self.filter_flip else w).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        img, top, _ = inputs
        (gw_grad,) = grads
        conv, _, gi = self._family()
        return [gi(gw_grad, top, shape(img)[2:]), conv(img, gw_grad), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def R_op(self, inputs, eval_points):
        img, top, shp = inputs
        terms = []
        if eval_points[0] is not None:
            terms.append(self(eval_points[0], top, shp))
        if eval_points[1] is not None:
            terms.append(self(img, eval_points[1], shp))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]

    def infer_shape(self, fgraph, node, input_shapes):
        ishp, tshp, _ = input_shapes
        shp = node.inputs[2]
        return [(tshp[1], ishp[1] // self.num_groups) + tuple(shp[i] for i in range(self.convdim))]


class AbstractConv_gradInputs(BaseAbstractConv):
    """``gradInputs(kern, topgrad, shape)``: the gradient of ``conv`` w.r.t. its images.

    ``shape`` gives the images' spatial size (ambiguous from the output when ``subsample`` > 1).
    """

    def make_node(self, kern, topgrad, shp):
        kern, topgrad = self._float_pair(kern, topgrad)
        self._check(kern, "kern")
        self._check(topgrad, "topgrad")
        shp = as_tensor_variable(shp)
        if shp.ndim != 1:
            raise TypeError(f"{type(self).__name__}: shape must be a vector of {self.convdim} ints")
        bcast = (topgrad.broadcastable[0], kern.broadcastable[1] and self.num_groups == 1) \
            + (False,) * self.convdim
        return Apply(self, [kern, topgrad, shp], [TensorType(kern.dtype, bcast)()])

    def perform(self, node, inputs, out):
        kern, top, shp = (np.asarray(v) for v in inputs)
        img_sp = tuple(int(s) for s in shp)
        k = _flip(kern, self.convdim) if self.filter_flip else kern
        x = np_correlate_grad_input(k, top, img_sp, self._np_pads(kern.shape[2:]), self.subsample,
                                    self.filter_dilation, self.num_groups)
        out[0][0] = x.astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        kern, top, _ = inputs
        (gi_grad,) = grads
        conv, gw, _ = self._family()
        return [gw(gi_grad, top, shape(kern)[2:]), conv(gi_grad, kern), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [True], [False]]

    def R_op(self, inputs, eval_points):
        kern, top, shp = inputs
        terms = []
        if eval_points[0] is not None:
            terms.append(self(eval_points[0], top, shp))
        if eval_points[1] is not None:
            terms.append(self(kern, eval_points[1], shp))
        if not terms:
            return [None]
        return [terms[0] if len(terms) == 1 else terms[0] + terms[1]]

    def infer_shape(self, fgraph, node, input_shapes):
        kshp, tshp, _ = input_shapes
        shp = node.inputs[2]
        return [(tshp[0], kshp[1] * self.num_groups) + tuple(shp[i] for i in range(self.convdim))]


def _no_unshared(unshared: bool) -> None:
    if unshared:
        raise NotImplementedError("unshared (locally connected) convolutions are not supported by thx")


def _dim_class(base, convdim):
    def __init__(self, imshp=None, kshp=None, border_mode="valid", subsample=(1,) * convdim,
                 filter_flip=True, filter_dilation=(1,) * convdim, num_groups=1, unshared=False):
        _no_unshared(unshared)
        base.__init__(self, convdim, imshp, kshp, border_mode, subsample, filter_flip,
                      filter_dilation, num_groups)

    return __init__


class AbstractConv2d(AbstractConv):
    """Theano's ``AbstractConv2d``: 2D convolution of ``(b, c, h, w)`` images."""

    __init__ = _dim_class(AbstractConv, 2)


class AbstractConv2d_gradWeights(AbstractConv_gradWeights):
    """Theano's ``AbstractConv2d_gradWeights``: gradient of a 2D convolution w.r.t. the filters."""

    __init__ = _dim_class(AbstractConv_gradWeights, 2)


class AbstractConv2d_gradInputs(AbstractConv_gradInputs):
    """Theano's ``AbstractConv2d_gradInputs``: gradient of a 2D convolution w.r.t. the images."""

    __init__ = _dim_class(AbstractConv_gradInputs, 2)


class AbstractConv3d(AbstractConv):
    """Theano's ``AbstractConv3d``: 3D convolution of ``(b, c, d, h, w)`` volumes."""

    __init__ = _dim_class(AbstractConv, 3)


class AbstractConv3d_gradWeights(AbstractConv_gradWeights):
    """Theano's ``AbstractConv3d_gradWeights``: gradient of a 3D convolution w.r.t. the filters."""

    __init__ = _dim_class(AbstractConv_gradWeights, 3)


class AbstractConv3d_gradInputs(AbstractConv_gradInputs):
    """Theano's ``AbstractConv3d_gradInputs``: gradient of a 3D convolution w.r.t. the volumes."""

    __init__ = _dim_class(AbstractConv_gradInputs, 3)


_BY_DIM = {2: (AbstractConv2d, AbstractConv2d_gradWeights, AbstractConv2d_gradInputs),
           3: (AbstractConv3d, AbstractConv3d_gradWeights, AbstractConv3d_gradInputs)}
_GENERIC = (AbstractConv, AbstractConv_gradWeights, AbstractConv_gradInputs)


def _make_op(kind: int, convdim: int, **params: Any) -> BaseAbstractConv:
    """Op ``kind`` (0 conv, 1 gradWeights, 2 gradInputs), the 2D/3D class where Theano has one."""
    if convdim in _BY_DIM:
        return _BY_DIM[convdim][kind](**params)
    return _GENERIC[kind](convdim, **params)


# ----------------------------------------------------------------------------- functions

def _shape_hint(shape_: Any, n: int, what: str):
    if shape_ is None:
        return None
    shape_ = tuple(shape_)
    if len(shape_) != n:
        raise ValueError(f"{what} must have {n} elements, got {shape_}")
    return tuple(None if (s is None or isinstance(s, Variable)) else int(s) for s in shape_)


def _conv(convdim, input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
          filter_dilation, num_groups):
    op = _make_op(0, convdim, imshp=_shape_hint(input_shape, convdim + 2, "input_shape"),
                      kshp=_shape_hint(filter_shape, convdim + 2, "filter_shape"),
                      border_mode=border_mode, subsample=subsample, filter_flip=filter_flip,
                      filter_dilation=filter_dilation, num_groups=num_groups)
    return op(input, filters)


def conv2d(input: Any, filters: Any, input_shape: Sequence[Any] | None = None,
           filter_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
           subsample: Sequence[int] = (1, 1), filter_flip: bool = True,
           image_shape: Sequence[Any] | None = None, filter_dilation: Sequence[int] = (1, 1),
           num_groups: int = 1, unshared: bool = False, **kwargs: Any) -> Variable:
    """2D convolution of a batch of images with a bank of filters (Theano 1.0's ``nnet.conv2d``).

    Parameters
    ----------
    input : 4D tensor ``(batch, channels, rows, cols)``
    filters : 4D tensor ``(out_channels, channels // num_groups, krows, kcols)``
    input_shape, filter_shape : tuple, optional
        Shape hints (ints or None); ``image_shape`` is the deprecated name of ``input_shape``.
    border_mode : 'valid', 'full', 'half', int or (int, int)
        'valid': no padding; 'full': pad ``k - 1``; 'half': pad ``k // 2``; ints: explicit zero pads.
    subsample : (int, int)
        Strides of the output.
    filter_flip : bool
        True (default) flips the filters (a convolution); False computes a correlation.
    filter_dilation : (int, int)
        Spacing between filter taps.
    num_groups : int
        Split channels into this many independent groups.
    unshared : bool
        Theano 1.0.2's locally connected variant; only False is supported.

    Returns
    -------
    4D tensor ``(batch, out_channels, out_rows, out_cols)``

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, w = T.dtensor4('x'), T.dtensor4('w')
    >>> f = thx.function([x, w], T.nnet.conv2d(x, w, border_mode='half'))
    >>> f(np.ones((1, 1, 3, 3)), np.ones((1, 1, 3, 3)))[0, 0]
    array([[4., 6., 4.],
           [6., 9., 6.],
           [4., 6., 4.]])
    """
    if kwargs:
        raise TypeError(f"conv2d() got unexpected keyword arguments {sorted(kwargs)}")
    _no_unshared(unshared)
    if image_shape is not None:
        if input_shape is not None:
            raise ValueError("conv2d: give input_shape or image_shape (deprecated), not both")
        warnings.warn("The image_shape parameter of conv2d is deprecated; use input_shape",
                      DeprecationWarning, stacklevel=2)
        input_shape = image_shape
    return _conv(2, input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
                 filter_dilation, num_groups)


def conv3d(input: Any, filters: Any, input_shape: Sequence[Any] | None = None,
           filter_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
           subsample: Sequence[int] = (1, 1, 1), filter_flip: bool = True,
           filter_dilation: Sequence[int] = (1, 1, 1), num_groups: int = 1) -> Variable:
    """3D convolution of a batch of volumes ``(b, c, d, h, w)`` with filters ``(o, c, kd, kh, kw)``.

    Same parameters as :func:`conv2d`, with three spatial axes.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, w = T.dtensor5('x'), T.dtensor5('w')
    >>> f = thx.function([x, w], T.nnet.conv3d(x, w))
    >>> f(np.ones((1, 1, 3, 3, 3)), np.ones((2, 1, 2, 2, 2))).shape
    (1, 2, 2, 2, 2)
    """
    return _conv(3, input, filters, input_shape, filter_shape, border_mode, subsample, filter_flip,
                 filter_dilation, num_groups)


def _grad_inputs(convdim, output_grad, filters, input_shape, filter_shape, border_mode, subsample,
                 filter_flip, filter_dilation, num_groups):
    input_shape = tuple(input_shape)
    if len(input_shape) != convdim + 2:
        raise ValueError(f"input_shape must have {convdim + 2} elements, got {input_shape}")
    op = _make_op(2, convdim, imshp=_shape_hint(input_shape, convdim + 2, "input_shape"),
                      kshp=_shape_hint(filter_shape, convdim + 2, "filter_shape"),
                      border_mode=border_mode, subsample=subsample,
                      filter_flip=filter_flip, filter_dilation=filter_dilation,
                      num_groups=num_groups)
    spatial = stack([as_tensor_variable(s) for s in input_shape[2:]])
    return op(filters, output_grad, E.cast(spatial, "int64"))


def _grad_weights(convdim, input, output_grad, filter_shape, input_shape, border_mode, subsample,
                  filter_flip, filter_dilation, num_groups):
    filter_shape = tuple(filter_shape)
    if len(filter_shape) != convdim + 2:
        raise ValueError(f"filter_shape must have {convdim + 2} elements, got {filter_shape}")
    op = _make_op(1, convdim, imshp=_shape_hint(input_shape, convdim + 2, "input_shape"),
                      kshp=_shape_hint(filter_shape, convdim + 2, "filter_shape"),
                      border_mode=border_mode, subsample=subsample,
                      filter_flip=filter_flip, filter_dilation=filter_dilation,
                      num_groups=num_groups)
    spatial = stack([as_tensor_variable(s) for s in filter_shape[2:]])
    return op(input, output_grad, E.cast(spatial, "int64"))


def conv2d_grad_wrt_inputs(output_grad: Any, filters: Any, input_shape: Sequence[Any],
                           filter_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
                           subsample: Sequence[int] = (1, 1), filter_flip: bool = True,
                           filter_dilation: Sequence[int] = (1, 1), num_groups: int = 1) -> Variable:
    """Gradient of :func:`conv2d` w.r.t. its input (a transposed convolution).

    ``input_shape`` is the full 4D input shape (its last two entries may be symbolic).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> g, w = T.dtensor4('g'), T.dtensor4('w')
    >>> x = T.nnet.abstract_conv.conv2d_grad_wrt_inputs(g, w, (1, 1, 3, 3))
    >>> thx.function([g, w], x)(np.ones((1, 1, 2, 2)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    return _grad_inputs(2, output_grad, filters, input_shape, filter_shape, border_mode, subsample,
                        filter_flip, filter_dilation, num_groups)


def conv2d_grad_wrt_weights(input: Any, output_grad: Any, filter_shape: Sequence[Any],
                            input_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
                            subsample: Sequence[int] = (1, 1), filter_flip: bool = True,
                            filter_dilation: Sequence[int] = (1, 1), num_groups: int = 1) -> Variable:
    """Gradient of :func:`conv2d` w.r.t. its filters, of 4D shape ``filter_shape``.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, g = T.dtensor4('x'), T.dtensor4('g')
    >>> w = T.nnet.abstract_conv.conv2d_grad_wrt_weights(x, g, (1, 1, 2, 2))
    >>> thx.function([x, g], w)(np.ones((1, 1, 3, 3)), np.ones((1, 1, 2, 2)))[0, 0]
    array([[4., 4.],
           [4., 4.]])
    """
    return _grad_weights(2, input, output_grad, filter_shape, input_shape, border_mode, subsample,
                         filter_flip, filter_dilation, num_groups)


def conv3d_grad_wrt_inputs(output_grad: Any, filters: Any, input_shape: Sequence[Any],
                           filter_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
                           subsample: Sequence[int] = (1, 1, 1), filter_flip: bool = True,
                           filter_dilation: Sequence[int] = (1, 1, 1), num_groups: int = 1) -> Variable:
    """Gradient of :func:`conv3d` w.r.t. its input (see :func:`conv2d_grad_wrt_inputs`).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> g, w = T.dtensor5('g'), T.dtensor5('w')
    >>> x = T.nnet.abstract_conv.conv3d_grad_wrt_inputs(g, w, (1, 1, 3, 3, 3))
    >>> thx.function([g, w], x)(np.ones((1, 1, 2, 2, 2)), np.ones((1, 1, 2, 2, 2))).shape
    (1, 1, 3, 3, 3)
    """
    return _grad_inputs(3, output_grad, filters, input_shape, filter_shape, border_mode, subsample,
                        filter_flip, filter_dilation, num_groups)


def conv3d_grad_wrt_weights(input: Any, output_grad: Any, filter_shape: Sequence[Any],
                            input_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
                            subsample: Sequence[int] = (1, 1, 1), filter_flip: bool = True,
                            filter_dilation: Sequence[int] = (1, 1, 1), num_groups: int = 1) -> Variable:
    """Gradient of :func:`conv3d` w.r.t. its filters (see :func:`conv2d_grad_wrt_weights`).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, g = T.dtensor5('x'), T.dtensor5('g')
    >>> w = T.nnet.abstract_conv.conv3d_grad_wrt_weights(x, g, (1, 1, 2, 2, 2))
    >>> thx.function([x, g], w)(np.ones((1, 1, 3, 3, 3)), np.ones((1, 1, 2, 2, 2))).shape
    (1, 1, 2, 2, 2)
    """
    return _grad_weights(3, input, output_grad, filter_shape, input_shape, border_mode, subsample,
                         filter_flip, filter_dilation, num_groups)


def separable_conv2d(input: Any, depthwise_filters: Any, pointwise_filters: Any, num_channels: int,
                     input_shape: Sequence[Any] | None = None,
                     depthwise_filter_shape: Sequence[Any] | None = None,
                     pointwise_filter_shape: Sequence[Any] | None = None, border_mode: Any = "valid",
                     subsample: Sequence[int] = (1, 1), filter_flip: bool = True,
                     filter_dilation: Sequence[int] = (1, 1)) -> Variable:
    """Depthwise convolution (one group per input channel) followed by a 1x1 pointwise convolution.

    ``depthwise_filters`` is ``(depth_multiplier * num_channels, 1, kr, kc)``; ``pointwise_filters``
    is ``(out_channels, depth_multiplier * num_channels, 1, 1)``.  ``border_mode``, ``subsample``
    and ``filter_dilation`` apply to the depthwise step.

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> x, d, p = T.dtensor4('x'), T.dtensor4('d'), T.dtensor4('p')
    >>> y = T.nnet.separable_conv2d(x, d, p, num_channels=2)
    >>> thx.function([x, d, p], y)(np.ones((1, 2, 3, 3)), np.ones((2, 1, 2, 2)), np.ones((3, 2, 1, 1))).shape
    (1, 3, 2, 2)
    """
    depthwise = conv2d(input, depthwise_filters, input_shape, depthwise_filter_shape, border_mode,
                       subsample, filter_flip, filter_dilation=filter_dilation, num_groups=num_channels)
    return conv2d(depthwise, pointwise_filters, None, pointwise_filter_shape, "valid", (1, 1),
                  filter_flip)
