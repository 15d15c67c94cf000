"""Theano's ``theano.tensor.nnet.neighbours``: ``images2neibs`` (patches of images as the rows of a
matrix) and its inverse ``neibs2images``.

``images2neibs(ten4, neib_shape, neib_step=None, mode='valid')`` takes a 4-d tensor
``(batch, channels, height, width)`` and returns one row per patch, in Theano's order (batch,
channel, patch row, patch column), each row the flattened ``neib_shape`` patch.  Modes:

* ``'valid'``: patches inside the image; the image size must be ``neib_shape + k * neib_step``
  (else ``ValueError``, Theano's message);
* ``'ignore_borders'``: as 'valid', leaving out a border the steps do not reach;
* ``'wrap_centered'``: a patch (odd sizes) centered on every ``neib_step``-th pixel, the image
  wrapped around its edges;
* ``'half'`` / ``'full'``: 'valid' on the image padded with zeros by ``neib_shape // 2`` /
  ``neib_shape - 1`` on each side.

Both directions are one gather of fixed positions (``neib_positions``, computed with NumPy from
the static shapes) and its adjoint, a scatter-add: :class:`Images2Neibs`' gradient is
:class:`Neibs2Images` and the other way round, for every mode and step (Theano's gradient
needed ``neib_step == neib_shape`` and mode 'valid' or 'ignore_borders').  Lowered in
``thx/lowering/neighbours.py``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.tensor.elemwise import _zero_grad
from thx.tensor.shape import _disconnected, shape
from thx.tensor.type import TensorType, discrete_dtypes
from thx.tensor.var import as_tensor_variable

__all__ = ["Images2Neibs", "Neibs2Images", "images2neibs", "neibs2images", "neib_positions", "MODES"]

MODES = ("valid", "ignore_borders", "wrap_centered", "half", "full")


def _pair(v: Any, what: str) -> Variable:
    v = as_tensor_variable(v)
    if v.ndim != 1 or v.dtype not in discrete_dtypes:
        raise TypeError(f"images2neibs: {what} must be a vector of 2 integers, got {v.type}")
    return v


def neib_positions(mode: str, image_shape: tuple[int, int], neib_shape: tuple[int, int],
                   neib_step: tuple[int, int]) -> tuple[np.ndarray, np.ndarray, tuple[int, int]]:
    """Where each patch entry is read: ``(rows, cols, pad)``.

    ``rows[a, i]`` is the image row of entry ``i`` of the ``a``-th patch row (``cols[b, j]``
    likewise for columns), in the image padded by ``pad = (pad_rows, pad_cols)`` zeros on each
    side.  Raises ``ValueError`` with Theano's messages for sizes a mode does not accept.
    """
    if mode not in MODES:
        raise ValueError(f"Images2Neibs: unknown mode {mode!r} (one of {', '.join(MODES)})")
    (h, w), (c, d), (sx, sy) = image_shape, neib_shape, neib_step
    if c <= 0 or d <= 0 or sx <= 0 or sy <= 0:
        raise ValueError(f"Images2Neibs: neib_shape {(c, d)} and neib_step {(sx, sy)} must be positive")
    if mode == "wrap_centered":
        if c % 2 != 1 or d % 2 != 1:
            raise ValueError("Images2Neibs: in mode wrap_centered need patch with odd shapes")
        if h < c or w < d:
            raise ValueError(f"Images2Neibs: in wrap_centered mode, don't support image shapes smaller "
                             f"then the patch shapes: neib_shape=({c},{d}), ten4[2:]=[{h},{w}]")
        grid_c, grid_d = -(-h // sx), -(-w // sy)
        rows = (np.arange(grid_c)[:, None] * sx + np.arange(c)[None, :] - c // 2) % h
        cols = (np.arange(grid_d)[:, None] * sy + np.arange(d)[None, :] - d // 2) % w
        return rows, cols, (0, 0)
    pad = {"half": (c // 2, d // 2), "full": (c - 1, d - 1)}.get(mode, (0, 0))
    hp, wp = h + 2 * pad[0], w + 2 * pad[1]
    if mode != "ignore_borders":
        if hp < c or (hp - c) % sx != 0:
            raise ValueError(f"neib_shape[0]={c}, neib_step[0]={sx} and ten4.shape[2]={h} not consistent")
        if wp < d or (wp - d) % sy != 0:
            raise ValueError(f"neib_shape[1]={d}, neib_step[1]={sy} and ten4.shape[3]={w} not consistent")
    grid_c, grid_d = max(0, 1 + (hp - c) // sx), max(0, 1 + (wp - d) // sy)
    rows = np.arange(grid_c)[:, None] * sx + np.arange(c)[None, :]
    cols = np.arange(grid_d)[:, None] * sy + np.arange(d)[None, :]
    return rows, cols, pad


def _ints(v: Any) -> tuple[int, ...]:
    return tuple(int(k) for k in np.asarray(v).ravel())


def images2neibs_array(x: Any, mode: str, neib_shape: Any, neib_step: Any, xp: Any = np) -> Any:
    """:class:`Images2Neibs` on arrays of the module ``xp`` (NumPy for ``perform``, ``jax.numpy``
    for the lowering): one gather at the positions of :func:`neib_positions`."""
    rows, cols, pad = neib_positions(mode, tuple(x.shape[2:]), _ints(neib_shape), _ints(neib_step))
    if any(pad):
        x = xp.pad(x, [(0, 0), (0, 0), (pad[0], pad[0]), (pad[1], pad[1])])
    # patches[n, s, a, b, i, j] = x[n, s, rows[a, i], cols[b, j]]
    patches = x[:, :, rows[:, None, :, None], cols[None, :, None, :]]
    return patches.reshape(-1, rows.shape[1] * cols.shape[1])


def neibs2images_numpy(z: np.ndarray, mode: str, neib_shape: Any, neib_step: Any,
                       original_shape: Any) -> np.ndarray:
    """NumPy reference of :class:`Neibs2Images`: every row of ``z`` added back where it was read."""
    n, s, h, w = _ints(original_shape)
    rows, cols, pad = neib_positions(mode, (h, w), _ints(neib_shape), _ints(neib_step))
    out = np.zeros((n, s, h + 2 * pad[0], w + 2 * pad[1]), dtype=z.dtype)
    if z.shape != (n * s * rows.shape[0] * cols.shape[0], rows.shape[1] * cols.shape[1]):
        raise ValueError(f"neibs2images: neibs of shape {z.shape} do not hold the patches of an image "
                         f"of shape {(n, s, h, w)}")
    z6 = z.reshape(n, s, rows.shape[0], cols.shape[0], rows.shape[1], cols.shape[1])
    np.add.at(out, (slice(None), slice(None), rows[:, None, :, None], cols[None, :, None, :]), z6)
    return out[:, :, pad[0]:pad[0] + h, pad[1]:pad[1] + w]


class Images2Neibs(Op):
    """Patches of a 4-d tensor as the rows of a matrix (Theano's ``Images2Neibs``); inputs
    ``(ten4, neib_shape, neib_step)``, the last two static (they set the output's shape)."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "valid") -> None:
        if mode not in MODES:
            raise NotImplementedError(f"Only the modes {', '.join(MODES)} have been implemented for "
                                      f"the op Images2Neibs, got {mode!r}")
        self.mode = mode

    def __str__(self) -> str:
        return f"Images2Neibs{{{self.mode}}}"

    def make_node(self, ten4, neib_shape, neib_step=None):
        ten4 = as_tensor_variable(ten4)
        if ten4.ndim != 4:
            raise TypeError(f"images2neibs: ten4 must be a 4-d tensor, got {ten4.type}")
        neib_shape = _pair(neib_shape, "neib_shape")
        neib_step = neib_shape if neib_step is None else _pair(neib_step, "neib_step")
        return Apply(self, [ten4, neib_shape, neib_step], [TensorType(ten4.dtype, (False, False))()])

    def perform(self, node, inputs, out):
        x, ns, st = inputs
        out[0][0] = images2neibs_array(x, self.mode, ns, st)

    def infer_shape(self, fgraph, node, input_shapes):
        from thx.tensor.shape import NotScalarConstantError, get_scalar_constant_value
        x, ns, st = node.inputs
        try:
            (c, d), (sx, sy) = ([int(get_scalar_constant_value(v[k])) for k in range(2)] for v in (ns, st))
        except NotScalarConstantError:
            raise NotImplementedError("Images2Neibs.infer_shape: neib_shape and neib_step are not "
                                      "constants") from None
        n, s_, h, w = input_shapes[0]
        if self.mode == "wrap_centered":
            grid_c, grid_d = (h + sx - 1) // sx, (w + sy - 1) // sy
        else:
            pr, pc = {"half": (c // 2, d // 2), "full": (c - 1, d - 1)}.get(self.mode, (0, 0))
            grid_c, grid_d = 1 + (h + 2 * pr - c) // sx, 1 + (w + 2 * pc - d) // sy
        return [(n * s_ * grid_c * grid_d, c * d)]

    def L_op(self, inputs, outputs, grads):
        x, ns, st = inputs
        if x.dtype in discrete_dtypes:
            return [_zero_grad(x), _disconnected(), _disconnected()]
        return [Neibs2Images(self.mode)(grads[0], ns, st, shape(x)), _disconnected(), _disconnected()]

    def connection_pattern(self, node):
        return [[True], [False], [False]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], inputs[1], inputs[2])]


class Neibs2Images(Op):
    """The adjoint of :class:`Images2Neibs`: each row of ``neibs`` added back at the pixels it was
    read from, in a zero tensor of ``original_shape``; for disjoint patches (the default step)
    the inverse.  Inputs ``(neibs, neib_shape, neib_step, original_shape)``."""

    __props__ = ("mode",)

    def __init__(self, mode: str = "valid") -> None:
        if mode not in MODES:
            raise NotImplementedError(f"Neibs2Images: unknown mode {mode!r}")
        self.mode = mode

    def __str__(self) -> str:
        return f"Neibs2Images{{{self.mode}}}"

    def make_node(self, neibs, neib_shape, neib_step, original_shape):
        neibs = as_tensor_variable(neibs)
        if neibs.ndim != 2:
            raise TypeError(f"neibs2images: neibs must be a matrix, got {neibs.type}")
        ns, st = _pair(neib_shape, "neib_shape"), _pair(neib_step, "neib_step")
        original_shape = as_tensor_variable(original_shape)
        if original_shape.ndim != 1 or original_shape.dtype not in discrete_dtypes:
            raise TypeError(f"neibs2images: original_shape must be a vector of 4 integers, got "
                            f"{original_shape.type}")
        return Apply(self, [neibs, ns, st, original_shape], [TensorType(neibs.dtype, (False,) * 4)()])

    def perform(self, node, inputs, out):
        z, ns, st, sh = inputs
        out[0][0] = neibs2images_numpy(z, self.mode, ns, st, sh)

    def infer_shape(self, fgraph, node, input_shapes):
        sh = node.inputs[3]
        return [tuple(sh[k] for k in range(4))]

    def L_op(self, inputs, outputs, grads):
        z, ns, st, _ = inputs
        if z.dtype in discrete_dtypes:
            return [_zero_grad(z)] + [_disconnected()] * 3
        return [Images2Neibs(self.mode)(grads[0], ns, st)] + [_disconnected()] * 3

    def connection_pattern(self, node):
        return [[True], [False], [False], [False]]

    def R_op(self, inputs, eval_points):
        if eval_points[0] is None:
            return [None]
        return [self(eval_points[0], *inputs[1:])]


def images2neibs(ten4: Any, neib_shape: Any, neib_step: Any = None, mode: str = "valid") -> Variable:
    """The ``neib_shape`` patches of the images in ``ten4``, one flattened patch per row
    (Theano's ``images2neibs``; see the module docstring for the modes).

    Examples
    --------
    >>> import numpy as np, thx.tensor as T
    >>> from thx.tensor.nnet.neighbours import images2neibs
    >>> images2neibs(np.arange(16.).reshape(1, 1, 4, 4), (2, 2)).eval()
    array([[ 0.,  1.,  4.,  5.],
           [ 2.,  3.,  6.,  7.],
           [ 8.,  9., 12., 13.],
           [10., 11., 14., 15.]])
    """
    return Images2Neibs(mode)(ten4, neib_shape, neib_step)


def neibs2images(neibs: Any, neib_shape: Any, original_shape: Any, mode: str = "valid") -> Variable:
    """The images whose disjoint ``neib_shape`` patches are the rows of ``neibs`` (Theano's
    ``neibs2images``, the inverse of :func:`images2neibs` with its default step); a border
    'ignore_borders' left out is zero.

    Raises
    ------
    NotImplementedError
        For modes other than 'valid' and 'ignore_borders', as Theano.
    """
    if mode not in ("valid", "ignore_borders"):
        raise NotImplementedError(f"neibs2images do not support mode={mode}")
    neib_shape = _pair(neib_shape, "neib_shape")
    return Neibs2Images(mode)(neibs, neib_shape, neib_shape, original_shape)
