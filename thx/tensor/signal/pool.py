"""Theano 1.0's pooling: ``pool_2d``/``pool_3d``, ``max_pool_2d_same_size`` and the Pool ops with their gradients.

``Pool`` reduces windows of size ``ws`` moved by ``stride`` over the last
``ndim`` axes (max, sum or average), after zero-padding by ``pad``.  Max and
sum ignore the padding; ``average_inc_pad`` divides by the window size
(clipped to the padded image), ``average_exc_pad`` by the number of real
pixels.  With ``ignore_border=False`` a partial window at the end still
produces an output.  Theano's gradient semantics: ``MaxPoolGrad`` gives the
output gradient to *every* input equal to the window's maximum (ties all
receive it), ``AveragePoolGrad`` spreads it evenly, and
``DownsampleFactorMaxGradGrad`` (the gradient of ``MaxPoolGrad`` and Pool's
``R_op``) sums the perturbation over the maximal positions.  The NumPy
``perform`` of each is a loop over windows; ``thx/lowering/pool.py`` uses
``lax.reduce_window`` and strided slices.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor import elemwise as E
from thx.tensor.basic import zeros_like
from thx.tensor.type import TensorType
from thx.tensor.var import as_tensor_variable

__all__ = ["pool_2d", "pool_3d", "max_pool_2d_same_size", "Pool", "PoolGrad", "MaxPoolGrad",
           "AveragePoolGrad", "DownsampleFactorMaxGradGrad"]

MODES = ("max", "sum", "average_inc_pad", "average_exc_pad")


def _out_len(n: Any, ws: int, st: int, pad: int, ignore_border: bool) -> Any:
    """Theano's number of windows along one axis (``n`` an int or a symbolic scalar)."""
    n = n + 2 * pad
    symbolic = isinstance(n, Variable)
    if ignore_border:
        out = (n - ws) // st + 1
        return E.maximum(out, 0) if symbolic else max(int(out), 0)
    if st >= ws:
        return (n - 1) // st + 1
    out = (n - 1 - ws) // st + 1
    return (E.maximum(out, 0) if symbolic else max(int(out), 0)) + 1


def _windows(n: int, out: int, ws: int, st: int, pad: int, with_pad: bool) -> list[tuple[int, int]]:
    """``(start, end)`` of each window along one axis, in padded coordinates.

    ``with_pad`` keeps the padding inside the window (average_inc_pad); otherwise
    the window is clipped to the real pixels ``[pad, pad + n)``.
    """
    res = []
    for j in range(out):
        start, end = j * st, min(j * st + ws, n + 2 * pad)
        if not with_pad:
            start, end = max(start, pad), min(end, n + pad)
        res.append((start, end))
    return res


class PoolBase(Op):
    """Parameters shared by the pooling ops (window, stride, padding, mode, pooled axes)."""

    __props__ = ("ws", "ignore_border", "stride", "pad", "mode", "ndim")

    def __init__(self, ws: Sequence[int] | None = None, ignore_border: bool = False,
                 stride: Sequence[int] | None = None, pad: Sequence[int] | None = None,
                 mode: str = "max", ndim: int = 2, openmp: Any = None) -> None:
        if isinstance(ws, bool):  # Theano 1.0's Pool(ignore_border, mode): the window comes with the inputs
            ws, ignore_border, mode = None, ws, (ignore_border if isinstance(ignore_border, str) else mode)
        self.ndim = int(ndim)
        self.ignore_border = bool(ignore_border)
        if mode not in MODES:
            raise ValueError(f"Pool mode parameter only supports {', '.join(map(repr, MODES))}; "
                             f"got {mode!r}")
        self.mode = mode
        if ws is None:  # Theano 1.0 style: ws, stride and pad are given to make_node
            self.ws = self.stride = self.pad = None
            return
        self.ws = self._ints(ws, "ws")
        self.stride = self.ws if stride is None else self._ints(stride, "stride")
        self.pad = (0,) * self.ndim if pad is None else self._ints(pad, "pad")
        if any(self.pad) and not self.ignore_border:
            raise NotImplementedError("padding works only with ignore_border=True")
        if any(p >= w for p, w in zip(self.pad, self.ws)):
            raise NotImplementedError(f"padding {self.pad} must be smaller than the window {self.ws}")
        if min(self.ws) < 1 or min(self.stride) < 1 or min(self.pad) < 0:
            raise ValueError(f"Pool: ws {self.ws} and stride {self.stride} must be positive, "
                             f"pad {self.pad} non-negative")

    def _with_window(self, ws: Any, stride: Any, pad: Any) -> PoolBase:
        """This op, or (Theano 1.0's calling convention) a copy with the window given to make_node."""
        if ws is None or (isinstance(ws, Variable) and ws.ndim != 1):  # 0.8's AveragePoolGrad dummy
            if self.ws is None:
                raise TypeError(f"{type(self).__name__}: give the window size ws")
            return self
        def const(v):
            if isinstance(v, Variable):
                if not hasattr(v, "data"):
                    raise TypeError(f"{type(self).__name__}: thx needs constant window sizes, strides "
                                    f"and pads (they set the output shape); got {v}")
                v = np.asarray(v.data)
            return None if v is None else tuple(int(a) for a in v)
        return type(self)(ws=const(ws), ignore_border=self.ignore_border, stride=const(stride),
                          pad=const(pad), mode=self.mode, ndim=self.ndim)

    def _ints(self, v, what):
        try:
            v = tuple(v)
        except TypeError:
            raise TypeError(f"Pool: {what} must be a tuple of {self.ndim} ints, got {v!r}") from None
        if len(v) != self.ndim or not all(isinstance(a, (int, np.integer)) for a in v):
            raise ValueError(f"Pool: {what} must be a tuple of {self.ndim} ints, got {v!r}")
        return tuple(int(a) for a in v)

    def _params(self):
        return dict(ws=self.ws, ignore_border=self.ignore_border, stride=self.stride, pad=self.pad,
                    ndim=self.ndim)

    def _check_input(self, x: Variable, what: str) -> Variable:
        x = as_tensor_variable(x)
        if x.ndim < self.ndim:
            raise TypeError(f"{type(self).__name__}: {what} needs at least {self.ndim} dimensions, "
                            f"got {x.type}")
        return x

    def out_spatial(self, spatial: Sequence[Any]) -> list[Any]:
        return [_out_len(n, w, s, p, self.ignore_border)
                for n, w, s, p in zip(spatial, self.ws, self.stride, self.pad)]

    def windows(self, spatial: Sequence[int], with_pad: bool) -> list[list[tuple[int, int]]]:
        """Per axis, the ``(start, end)`` padded-coordinate windows of each output position."""
        out = self.out_spatial(spatial)
        return [_windows(n, o, w, s, p, with_pad)
                for n, o, w, s, p in zip(spatial, out, self.ws, self.stride, self.pad)]

    def _padded(self, x, fill=0):
        nd = self.ndim
        return np.pad(x, [(0, 0)] * (x.ndim - nd) + [(p, p) for p in self.pad], constant_values=fill)

    def _unpad(self, x, spatial):
        return x[(Ellipsis,) + tuple(slice(p, p + n) for p, n in zip(self.pad, spatial))]

    def _regions(self, spatial, with_pad):
        """Yield ``(output index, slices into the padded input)`` for every window."""
        win = self.windows(spatial, with_pad)
        for r in np.ndindex(*[len(w) for w in win]):
            yield r, tuple(slice(*win[i][r[i]]) for i in range(self.ndim))

    def pprint(self, node, ins):
        return f"{type(self).__name__}({', '.join(ins)})"


class Pool(PoolBase):
    """Pool windows of the last ``ndim`` axes (Theano's ``Pool``; see :func:`pool_2d`)."""

    @staticmethod
    def out_shape(imgshape: Sequence[Any], ws: Sequence[int] | None = None, ignore_border: bool = False,
                  stride: Sequence[int] | None = None, pad: Sequence[int] | None = None, ndim: int = 2,
                  ds: Sequence[int] | None = None, st: Sequence[int] | None = None,
                  padding: Sequence[int] | None = None) -> list[Any]:
        """Shape of the pooled output for an input of shape ``imgshape`` (Theano's ``Pool.out_shape``).

        Examples
        --------
        >>> from thx.tensor.signal.pool import Pool
        >>> Pool.out_shape((1, 1, 5, 5), (2, 2), ignore_border=False)
        [1, 1, 3, 3]
        """
        ws = ds if ws is None else ws
        stride = st if stride is None else stride
        pad = padding if pad is None else pad
        op = Pool(ws, ignore_border, stride, pad, "max", ndim)
        if len(imgshape) < ndim:
            raise TypeError(f"imgshape must have at least {ndim} elements")
        return list(imgshape[:-ndim]) + op.out_spatial(imgshape[-ndim:])

    def make_node(self, x, ws=None, stride=None, pad=None):
        op = self._with_window(ws, stride, pad)
        if op is not self:
            return op.make_node(x)
        x = self._check_input(x, "input")
        bcast = x.broadcastable[:-self.ndim] + (False,) * self.ndim
        return Apply(self, [x], [TensorType(x.dtype, bcast)()])

    def perform(self, node, inputs, out):
        x = np.asarray(inputs[0])
        nd, spatial = self.ndim, x.shape[-self.ndim:]
        y = self._padded(x)
        z = np.zeros(x.shape[:-nd] + tuple(self.out_spatial(spatial)), dtype=x.dtype)
        axes = tuple(range(x.ndim - nd, x.ndim))
        with_pad = self.mode == "average_inc_pad"
        for r, sl in self._regions(spatial, with_pad):
            region = y[(Ellipsis,) + sl]
            if self.mode == "max":
                z[(Ellipsis,) + r] = region.max(axis=axes)
            elif self.mode == "sum":
                z[(Ellipsis,) + r] = region.sum(axis=axes)
            else:
                z[(Ellipsis,) + r] = region.mean(axis=axes)
        out[0][0] = z

    def L_op(self, inputs, outputs, grads):
        (x,), (maxout,), (gz,) = inputs, outputs, grads
        if self.mode == "max":
            return [MaxPoolGrad(**self._params())(x, maxout, gz)]
        return [AveragePoolGrad(mode=self.mode, **self._params())(x, gz)]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        if self.mode == "max":
            return [DownsampleFactorMaxGradGrad(**self._params())(inputs[0], self(inputs[0]),
                                                                  eval_points[0])]
        return [self(eval_points[0])]  # sum and averages are linear

    def infer_shape(self, fgraph, node, input_shapes):
        (shp,) = input_shapes
        return [tuple(shp[:-self.ndim]) + tuple(self.out_spatial(shp[-self.ndim:]))]


class PoolGrad(PoolBase):
    """Base of the pooling gradients (output shaped like the pooled input)."""

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[0]]


class MaxPoolGrad(PoolGrad):
    """``MaxPoolGrad(x, maxout, gz)``: gradient of max pooling; every maximal input gets ``gz``."""

    def __init__(self, ws=None, ignore_border=False, stride=None, pad=None, ndim=2, mode="max", openmp=None):
        if mode != "max":
            raise ValueError(f"MaxPoolGrad is for mode 'max', got {mode!r}")
        super().__init__(ws, ignore_border, stride, pad, "max", ndim)

    def make_node(self, x, maxout, gz, ws=None, stride=None, pad=None):
        op = self._with_window(ws, stride, pad)
        if op is not self:
            return op.make_node(x, maxout, gz)
        x = self._check_input(x, "x")
        maxout, gz = self._check_input(maxout, "maxout"), self._check_input(gz, "gz")
        return Apply(self, [x, maxout, gz], [x.type()])

    def perform(self, node, inputs, out):
        x, maxout, gz = (np.asarray(v) for v in inputs)
        spatial = x.shape[-self.ndim:]
        y = self._padded(x)
        gx = np.zeros(y.shape, dtype=np.result_type(x.dtype, gz.dtype))
        for r, sl in self._regions(spatial, False):
            idx = (Ellipsis,) + r
            win = (Ellipsis,) + sl
            mask = y[win] == maxout[idx][(Ellipsis,) + (None,) * self.ndim]
            gx[win] += mask * gz[idx][(Ellipsis,) + (None,) * self.ndim]
        out[0][0] = self._unpad(gx, spatial).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        x, maxout, _ = inputs
        return [zeros_like(x), zeros_like(maxout),
                DownsampleFactorMaxGradGrad(**self._params())(x, maxout, grads[0])]

    def R_op(self, inputs, eval_points):
        if eval_points[2] is None:
            return [None]
        return [self(inputs[0], inputs[1], eval_points[2])]  # piecewise constant in x and maxout


class AveragePoolGrad(PoolGrad):
    """``AveragePoolGrad(x, gz)``: gradient of sum/average pooling (``gz`` spread over each window)."""

    def __init__(self, ws=None, ignore_border=False, stride=None, pad=None, ndim=2, mode="average_inc_pad",
                 openmp=None):
        if isinstance(ws, bool) and isinstance(ignore_border, str):  # Theano 1.0: (ignore_border, mode)
            ws, ignore_border, mode = None, ws, ignore_border
        if mode == "max":
            raise ValueError("AveragePoolGrad is for modes 'sum', 'average_inc_pad', 'average_exc_pad'")
        super().__init__(ws, ignore_border, stride, pad, mode, ndim)

    def make_node(self, x, gz, ws=None, stride=None, pad=None):
        op = self._with_window(ws, stride, pad)
        if op is not self:
            return op.make_node(x, gz)
        x, gz = self._check_input(x, "x"), self._check_input(gz, "gz")
        return Apply(self, [x, gz], [x.type()])

    def perform(self, node, inputs, out):
        x, gz = (np.asarray(v) for v in inputs)
        spatial = x.shape[-self.ndim:]
        gx = np.zeros(self._padded(x).shape, dtype=np.result_type(x.dtype, gz.dtype))
        for r, sl in self._regions(spatial, self.mode == "average_inc_pad"):
            g = gz[(Ellipsis,) + r]
            if self.mode != "sum":
                g = g / np.prod([s.stop - s.start for s in sl])
            gx[(Ellipsis,) + sl] += g[(Ellipsis,) + (None,) * self.ndim]
        out[0][0] = self._unpad(gx, spatial).astype(node.outputs[0].dtype)

    def L_op(self, inputs, outputs, grads):
        x, _ = inputs
        return [zeros_like(x), Pool(mode=self.mode, **self._params())(grads[0])]

    def R_op(self, inputs, eval_points):
        if eval_points[1] is None:
            return [None]
        return [self(inputs[0], eval_points[1])]


class DownsampleFactorMaxGradGrad(PoolBase):
    """``DownsampleFactorMaxGradGrad(x, maxout, ggx)``: per window, ``ggx`` summed over the maximal inputs.

    The gradient of :class:`MaxPoolGrad` w.r.t. its ``gz``, and Pool's ``R_op`` in max mode.
    """

    def __init__(self, ws=None, ignore_border=False, stride=None, pad=None, ndim=2, mode="max", openmp=None):
        super().__init__(ws, ignore_border, stride, pad, "max", ndim)

    def make_node(self, x, maxout, ggx, ws=None, stride=None, pad=None):
        op = self._with_window(ws, stride, pad)
        if op is not self:
            return op.make_node(x, maxout, ggx)
        x = self._check_input(x, "x")
        maxout, ggx = self._check_input(maxout, "maxout"), self._check_input(ggx, "ggx")
        return Apply(self, [x, maxout, ggx], [maxout.type()])

    def perform(self, node, inputs, out):
        x, maxout, ggx = (np.asarray(v) for v in inputs)
        spatial = x.shape[-self.ndim:]
        y, gg = self._padded(x), self._padded(ggx)
        axes = tuple(range(x.ndim - self.ndim, x.ndim))
        z = np.zeros(maxout.shape, dtype=node.outputs[0].dtype)
        for r, sl in self._regions(spatial, False):
            idx, win = (Ellipsis,) + r, (Ellipsis,) + sl
            mask = y[win] == maxout[idx][(Ellipsis,) + (None,) * self.ndim]
            z[idx] = (mask * gg[win]).sum(axis=axes)
        out[0][0] = z

    def L_op(self, inputs, outputs, grads):
        x, maxout, _ = inputs
        return [zeros_like(x), zeros_like(maxout), MaxPoolGrad(**self._params())(x, maxout, grads[0])]

    def R_op(self, inputs, eval_points):
        if eval_points[2] is None:
            return [None]
        return [self(inputs[0], inputs[1], eval_points[2])]

    def infer_shape(self, fgraph, node, input_shapes):
        return [input_shapes[1]]


# ----------------------------------------------------------------------------- functions

def _resolve(new: Any, old: Any, new_name: str, old_name: str, default: Any = None) -> Any:
    if old is not None:
        if new is not None:
            raise ValueError(f"You can't provide a tuple value to both '{old_name}' and "
                             f"'{new_name}' (the deprecated name of '{new_name}' is '{old_name}')")
        warnings.warn(f"The '{old_name}' parameter is deprecated; use '{new_name}'",
                      DeprecationWarning, stacklevel=3)
        return old
    return default if new is None else new


def _pool_nd(nd, input, ws, ignore_border, stride, pad, mode, ds, st, padding, fname):
    ws = _resolve(ws, ds, "ws", "ds")
    if ws is None:
        raise ValueError(f"{fname}: give the window size ws")
    stride = _resolve(stride, st, "stride", "st")
    pad = _resolve(None if pad == (0,) * nd else pad, padding, "pad", "padding", (0,) * nd)
    input = as_tensor_variable(input)
    if input.ndim < nd:
        raise NotImplementedError(f"{fname} requires a dimension >= {nd}")
    if ignore_border is None:
        warnings.warn(f"{fname}() will have the parameter ignore_border default value changed to "
                      f"True (currently False). To have consistent behavior with all Theano "
                      f"versions, explicitly add the parameter ignore_border=True.", stacklevel=3)
        ignore_border = False
    return Pool(ws, ignore_border, stride, pad, mode, nd)(input)


def pool_2d(input: Any, ws: Sequence[int] | None = None, ignore_border: bool | None = None,
            stride: Sequence[int] | None = None, pad: Sequence[int] = (0, 0), mode: str = "max",
            ds: Sequence[int] | None = None, st: Sequence[int] | None = None,
            padding: Sequence[int] | None = None) -> Variable:
    """Pool the last two axes of ``input`` over ``ws`` windows (Theano 1.0's ``pool_2d``).

    Parameters
    ----------
    input : tensor of at least 2 dimensions
    ws : (int, int)
        Window size (``ds`` is its deprecated name).
    ignore_border : bool
        False (the default, with a warning when omitted): a partial window at the end still
        produces an output; True: it is dropped.
    stride : (int, int), optional
        Window step (default ``ws``; ``st`` is the deprecated name).
    pad : (int, int)
        Zero padding on each side (needs ``ignore_border=True``; ``padding`` is the deprecated name).
    mode : {'max', 'sum', 'average_inc_pad', 'average_exc_pad'}
        Max and sum ignore the padding; the averages include it or not in the count.

    Returns
    -------
    tensor with the last two axes pooled

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.signal.pool import pool_2d
    >>> x = T.dmatrix('x')
    >>> f = thx.function([x], pool_2d(x, (2, 2), ignore_border=True))
    >>> f(np.arange(16.).reshape(4, 4))
    array([[ 5.,  7.],
           [13., 15.]])
    """
    return _pool_nd(2, input, ws, ignore_border, stride, pad, mode, ds, st, padding, "pool_2d")


def pool_3d(input: Any, ws: Sequence[int] | None = None, ignore_border: bool | None = None,
            stride: Sequence[int] | None = None, pad: Sequence[int] = (0, 0, 0), mode: str = "max",
            ds: Sequence[int] | None = None, st: Sequence[int] | None = None,
            padding: Sequence[int] | None = None) -> Variable:
    """Pool the last three axes of ``input`` (Theano 1.0's ``pool_3d``; see :func:`pool_2d`).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.signal.pool import pool_3d
    >>> x = T.dtensor3('x')
    >>> thx.function([x], pool_3d(x, (2, 2, 2), ignore_border=True, mode='sum'))(np.ones((2, 2, 2)))
    array([[[8.]]])
    """
    return _pool_nd(3, input, ws, ignore_border, stride, pad, mode, ds, st, padding, "pool_3d")


def max_pool_2d_same_size(input: Any, patch_size: Sequence[int]) -> Variable:
    """Keep each ``patch_size`` patch's maximum in place and zero the rest (same shape as ``input``).

    Examples
    --------
    >>> import numpy as np, thx, thx.tensor as T
    >>> from thx.tensor.signal.pool import max_pool_2d_same_size
    >>> x = T.dmatrix('x')
    >>> thx.function([x], max_pool_2d_same_size(x, (2, 2)))(np.array([[1., 2.], [4., 3.]]))
    array([[0., 0.],
           [4., 0.]])
    """
    input = as_tensor_variable(input)
    output = Pool(patch_size, True)(input)
    return MaxPoolGrad(patch_size, True)(input, output, output)
