"""``thx.tensor``: what ``import theano.tensor as T`` gives a Theano user."""

from thx.tensor import fft, nlinalg, nnet, printing, signal, slinalg
from thx.tensor.basic import (Alloc, ARange, Eye, Join, Split, alloc, arange, choose,
                              concatenate, eye, mgrid, ogrid, flatnonzero, full, full_like, identity_like, join, nonzero,
                              nonzero_values, ones, ones_like, repeat, roll, split, stack, tile,
                              zeros, zeros_like)
from thx.tensor.diagonal import AllocDiag, ExtractDiag, diag, diagonal, tri, tril, triu
from thx.tensor.shape import (Flatten, MakeVector, NotScalarConstantError, Rebroadcast, Reshape, Shape,
                              SpecifyShape, addbroadcast, flatten, get_scalar_constant_value,
                              patternbroadcast, reshape, shape, shape_padaxis, shape_padleft,
                              shape_padright, specify_shape, transpose, unbroadcast)
from thx.tensor.elemwise import (DimShuffle, Elemwise, ScalarOp, abs, abs_, add, and_, arccos,
                                 arccosh, arcsin, arcsinh, arctan, arctan2, arctanh, bitwise_and,
                                 bitwise_not, bitwise_or, bitwise_xor, cast, ceil, clip, cos, cosh,
                                 deg2rad, eq, erf, erfc, exp, exp2, expm1, fill, floor, floor_div,
                                 ge, gt, identity, int_div, inv, invert, isinf, isnan, le, log,
                                 log1p, log2, log10, lt, maximum, minimum, mod, mul, neg, neq,
                                 or_, pow, rad2deg, round, round_half_away_from_zero,
                                 round_half_to_even, second, sgn, sigmoid, sin, sinh, softplus,
                                 sqr, sqrt, sub, switch, tan, tanh, true_div, true_divide, trunc,
                                 where, xor)
from thx.tensor.math import (Argmax, Argmin, Dot, Max, Min, Prod, Sum, all, any, argmax, argmin,
                             batched_dot, dot, logsoftmax, logsumexp, max, max_and_argmax, mean,
                             min, outer, prod, softmax, std, sum, tensordot, var)
from thx.tensor.subtensor import (AdvancedIncSubtensor, AdvancedSubtensor, IncSubtensor,
                                  Subtensor, inc_subtensor, set_subtensor, sparse_grad, take)
from thx.tensor.type import (TensorType, all_dtypes, complex_dtypes, constructor_names,
                             continuous_dtypes, discrete_dtypes, float_dtypes, int_dtypes,
                             tensor, uint_dtypes, upcast)
from thx.tensor.type import _constructors as _ctors
from thx.tensor.var import TensorConstant, TensorVariable, as_tensor_variable, constant

from thx.tensor import xlogx  # Theano's module T.xlogx (xlogx.xlogx, xlogx.xlogy0)
from thx.tensor import intform  # integer linear forms (fixed-length slices); the lowering uses it
from thx.tensor import extra_ops, sort  # Theano's T.extra_ops and T.sort (a callable module: T.sort(a))
from thx.tensor.extra_ops import (bartlett, bincount, cumprod, cumsum, diff, fill_diagonal,
                                  fill_diagonal_offset, ravel_multi_index, searchsorted, squeeze,
                                  unravel_index)
from thx.tensor.sort import argsort, argtopk, topk, topk_and_argtopk

globals().update(_ctors)
as_tensor = as_tensor_variable
Tensor = TensorType  # Theano's old name
# Theano's dtype lists (lists of dtype names, as in theano.tensor.basic)
integer_dtypes = list(int_dtypes + uint_dtypes)
(all_dtypes, complex_dtypes, continuous_dtypes, discrete_dtypes, float_dtypes, int_dtypes,
 uint_dtypes) = map(list, (all_dtypes, complex_dtypes, continuous_dtypes, discrete_dtypes,
                           float_dtypes, int_dtypes, uint_dtypes))
mul_ = mul
sqr_ = sqr


def grad(*args, **kwargs):
    """``thx.gradient.grad`` (Theano's ``T.grad``)."""
    from thx.gradient import grad as _grad
    return _grad(*args, **kwargs)


def Rop(*args, **kwargs):
    """``thx.gradient.Rop`` (Theano's ``T.Rop``)."""
    from thx.gradient import Rop as _Rop
    return _Rop(*args, **kwargs)


def Lop(*args, **kwargs):
    """``thx.gradient.Lop`` (Theano's ``T.Lop``)."""
    from thx.gradient import Lop as _Lop
    return _Lop(*args, **kwargs)


def jacobian(*args, **kwargs):
    """``thx.gradient.jacobian``."""
    from thx.gradient import jacobian as _j
    return _j(*args, **kwargs)


def hessian(*args, **kwargs):
    """``thx.gradient.hessian``."""
    from thx.gradient import hessian as _h
    return _h(*args, **kwargs)


def verify_grad(*args, **kwargs):
    """``thx.gradient.verify_grad`` (Theano's ``T.verify_grad``)."""
    from thx.gradient import verify_grad as _v
    return _v(*args, **kwargs)
