"""Elementwise sparse ops: functions of the stored values, structured addition, comparisons.

An op here applied to sparse ``x`` computes only on ``x``'s stored values (``x.data``, explicit
zeros included) and returns a matrix with ``x``'s format and stored positions, as Theano's
``structured_monoid`` functions did (``sin(x)``, ``structured_exp(x)``, ``structured_pow(x, 2)``
...).  Their gradient is structured: the output gradient at ``x``'s stored positions times the
derivative there, a sparse matrix like ``x``.  One op class runs them all, from one table whose
rows name a scalar op of ``thx/tensor/elemwise.py`` (its NumPy function, dtype rule and Theano
gradient formula, applied to the data vector).  Comparisons (``eq``, ``lt`` ..., ``x < y``)
give uint8 matrices, sparse for two sparse operands and dense otherwise (Theano's rule).

>>> import scipy.sparse as sp, thx, thx.sparse as S
>>> x = S.csr_matrix('x')
>>> f = thx.function([x], [S.structured_exp(x), x < 1.5])
>>> e, small = f(sp.csr_matrix([[0., 2.], [1., 0.]]))
>>> e.toarray()  # exp of the stored values only: the zeros stay zeros
array([[0.        , 7.3890561 ],
       [2.71828183, 0.        ]])
>>> small
array([[1, 0],
       [1, 1]], dtype=uint8)
"""

from __future__ import annotations

import operator
import warnings
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np

from thx.graph.basic import Apply, Variable
from thx.sparse.basic import (CSM, CSMGrad, _dense, _pattern_like, _structure, cast, csm_data,
                              csm_properties, sp_sum, sp_zeros_like)
from thx.sparse.type import SparseOp, SparseType, as_sparse_variable, is_sparse_variable, issparse
from thx.tensor.elemwise import SCALAR_OPS, ScalarOp, float_out
from thx.tensor.type import TensorType, continuous_dtypes, discrete_dtypes, upcast

__all__ = ["StructuredElemwise", "STRUCTURED_OPS", "structured_sigmoid", "structured_exp",
           "structured_log", "structured_pow", "structured_minimum", "structured_maximum",
           "structured_add", "sin", "arcsin", "tan", "arctan", "sinh", "arcsinh", "tanh",
           "arctanh", "rad2deg", "deg2rad", "rint", "ceil", "floor", "trunc", "sgn", "log1p",
           "expm1", "sqr", "sqrt", "abs_", "StructuredAddSV", "structured_add_s_v",
           "ComparisonSS", "ComparisonSD", "eq", "neq", "lt", "gt", "le", "ge",
           "equal_s_s", "equal_s_d", "not_equal_s_s", "not_equal_s_d", "less_than_s_s",
           "less_than_s_d", "greater_than_s_s", "greater_than_s_d", "less_equal_s_s",
           "less_equal_s_d", "greater_equal_s_s", "greater_equal_s_d"]


def _is_sparse(x: Any) -> bool:
    return is_sparse_variable(x) or issparse(x)


# ---------------------------------------------------------------- the table

def _to_float(fn: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    # integers become the float dtype Theano types the result with (NumPy would give float16)
    return lambda x: fn(np.asarray(x, dtype=float_out([str(np.asarray(x).dtype)])))


# deg2rad and rad2deg are multiplications by a constant in thx.tensor, not rows of its table
_DEG2RAD = ScalarOp("deg2rad", 1, None, float_out, _to_float(np.deg2rad), "jnp.deg2rad",
                    lambda i, o, g: [g * np.asarray(np.pi / 180, dtype=o.dtype)])
_RAD2DEG = ScalarOp("rad2deg", 1, None, float_out, _to_float(np.rad2deg), "jnp.rad2deg",
                    lambda i, o, g: [g * np.asarray(180 / np.pi, dtype=o.dtype)])


@dataclass(frozen=True)
class StructuredRow:
    """One structured elementwise function.

    Attributes
    ----------
    name : str
        The public function, and how its op prints.
    scalar_op : ScalarOp
        What is applied to the stored values: its NumPy function, output dtype rule and
        gradient formula (a row of ``thx.tensor.elemwise.SCALAR_OPS``).
    n_params : int
        Scalar operands after ``x`` (the exponent of ``structured_pow`` ...).
    doc : str
    """

    name: str
    scalar_op: ScalarOp
    n_params: int
    doc: str


_ROWS = [
    # name, scalar op, scalar parameters, doc
    StructuredRow("structured_sigmoid", SCALAR_OPS["sigmoid"], 0, "Logistic sigmoid"),
    StructuredRow("structured_exp", SCALAR_OPS["exp"], 0, "Exponential"),
    StructuredRow("structured_log", SCALAR_OPS["log"], 0, "Natural logarithm"),
    StructuredRow("structured_pow", SCALAR_OPS["pow"], 1, "Power ``x ** p`` (a scalar ``p``)"),
    StructuredRow("structured_minimum", SCALAR_OPS["minimum"], 1, "Minimum with a scalar ``s``"),
    StructuredRow("structured_maximum", SCALAR_OPS["maximum"], 1, "Maximum with a scalar ``s``"),
    StructuredRow("structured_add", SCALAR_OPS["add"], 1, "Sum ``x + s`` with a scalar ``s``"),
    StructuredRow("sin", SCALAR_OPS["sin"], 0, "Sine"),
    StructuredRow("arcsin", SCALAR_OPS["arcsin"], 0, "Inverse sine"),
    StructuredRow("tan", SCALAR_OPS["tan"], 0, "Tangent"),
    StructuredRow("arctan", SCALAR_OPS["arctan"], 0, "Inverse tangent"),
    StructuredRow("sinh", SCALAR_OPS["sinh"], 0, "Hyperbolic sine"),
    StructuredRow("arcsinh", SCALAR_OPS["arcsinh"], 0, "Inverse hyperbolic sine"),
    StructuredRow("tanh", SCALAR_OPS["tanh"], 0, "Hyperbolic tangent"),
    StructuredRow("arctanh", SCALAR_OPS["arctanh"], 0, "Inverse hyperbolic tangent"),
    StructuredRow("rad2deg", _RAD2DEG, 0, "Radians to degrees"),
    StructuredRow("deg2rad", _DEG2RAD, 0, "Degrees to radians"),
    StructuredRow("rint", SCALAR_OPS["round_half_to_even"], 0, "Round half to even"),
    StructuredRow("ceil", SCALAR_OPS["ceil"], 0, "Ceiling"),
    StructuredRow("floor", SCALAR_OPS["floor"], 0, "Floor"),
    StructuredRow("trunc", SCALAR_OPS["trunc"], 0, "Truncation towards zero"),
    StructuredRow("sgn", SCALAR_OPS["sgn"], 0, "Sign"),
    StructuredRow("log1p", SCALAR_OPS["log1p"], 0, "``log(1 + x)``"),
    StructuredRow("expm1", SCALAR_OPS["expm1"], 0, "``exp(x) - 1``"),
    StructuredRow("sqr", SCALAR_OPS["sqr"], 0, "Square ``x * x``"),
    StructuredRow("sqrt", SCALAR_OPS["sqrt"], 0, "Square root"),
    StructuredRow("abs_", SCALAR_OPS["abs"], 0, "Absolute value (``abs(x)``)"),
]
STRUCTURED_OPS: dict[str, StructuredRow] = {r.name: r for r in _ROWS}


class StructuredElemwise(SparseOp):
    """A function of a sparse matrix's stored values (a row of ``STRUCTURED_OPS``).

    Inputs: sparse ``x`` and the row's scalar parameters (0-d tensors).  The output has ``x``'s
    format and stored positions.  Gradient (structured): wrt ``x``, the output gradient at
    ``x``'s stored positions times the derivative there; wrt a parameter, the sum over the
    stored values of its partial derivative times the output gradient.
    """

    __props__ = ("name",)

    def __init__(self, name: str) -> None:
        if name not in STRUCTURED_OPS:
            raise ValueError(f"StructuredElemwise: unknown function {name!r}; known: "
                             f"{', '.join(STRUCTURED_OPS)}")
        self.name = name

    @property
    def row(self) -> StructuredRow:
        return STRUCTURED_OPS[self.name]

    def make_node(self, x, *params):
        row = self.row
        if len(params) != row.n_params:
            raise TypeError(f"{self.name} takes a sparse matrix and {row.n_params} scalar "
                            f"operand(s), got {len(params)} operand(s) after the matrix")
        if not _is_sparse(x):
            raise TypeError(f"{self.name}: x must be a sparse matrix, got "
                            f"{getattr(x, 'type', type(x).__name__)}")
        x = as_sparse_variable(x)
        params = [_dense(p) for p in params]
        for k, p in enumerate(params):
            if p.ndim != 0:
                raise TypeError(f"{self.name}: operand {k + 1} must be a scalar, got {p.type} "
                                f"({p.ndim} dimensions)")
        try:
            dtype = row.scalar_op.out_dtype([x.dtype] + [p.dtype for p in params])
        except TypeError as e:
            raise TypeError(f"{self.name}: {e}") from None
        return Apply(self, [x, *params], [SparseType(x.format, dtype)()])

    def perform(self, node, inputs, out):
        x, *params = inputs
        dtype = node.outputs[0].dtype
        with np.errstate(all="ignore"):  # log(0), arcsin(2) ... give inf/nan as NumPy does
            data = self.row.scalar_op.numpy(x.data, *[np.asarray(p) for p in params])
        out[0][0] = _pattern_like(x, np.asarray(data, dtype=dtype).reshape(x.data.shape))

    def L_op(self, inputs, outputs, grads):
        from thx.tensor.basic import zeros_like
        from thx.tensor.math import sum as _sum
        (x, *params), (gz,) = inputs, grads
        formula = self.row.scalar_op.grad
        if x.dtype in discrete_dtypes or outputs[0].dtype in discrete_dtypes or formula is None:
            # piecewise constant (floor, sgn ...) or integer: zero gradients
            return [sp_zeros_like(x)] + [p.zeros_like(dtype=_float(p.dtype)) for p in params]
        data, indices, indptr, shape = csm_properties(x)
        g_data = CSMGrad(x.format)(indices, indptr, shape, gz)  # gz at x's stored positions
        terms = formula([data, *params], csm_data(outputs[0]), g_data)
        gx_data = zeros_like(data) if terms[0] is None else _dense(terms[0]).astype(x.dtype)
        result = [CSM(x.format)(gx_data, indices, indptr, shape)]
        for p, t in zip(params, terms[1:]):
            if t is None or p.dtype not in continuous_dtypes:
                result.append(p.zeros_like(dtype=_float(p.dtype)))
            else:
                result.append(_sum(t).astype(p.dtype))
        return result

    def __str__(self) -> str:
        return self.name


def _float(dtype: str) -> str:
    from thx.config import config
    return dtype if dtype in continuous_dtypes else config.floatX


def _structured_function(name: str) -> Callable[..., Variable]:
    op = StructuredElemwise(name)

    def f(*args):
        return op(*args)

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"{op.row.doc}, of the stored values of sparse ``x`` only (Theano's ``{name}``): "
                 f"a sparse matrix with ``x``'s format and stored positions.\n\nThe gradient is "
                 f"structured (only at ``x``'s stored positions).\n")
    f.op = op  # type: ignore[attr-defined]
    return f


structured_sigmoid = _structured_function("structured_sigmoid")
structured_exp = _structured_function("structured_exp")
structured_log = _structured_function("structured_log")
structured_pow = _structured_function("structured_pow")
structured_minimum = _structured_function("structured_minimum")
structured_maximum = _structured_function("structured_maximum")
sin = _structured_function("sin")
arcsin = _structured_function("arcsin")
tan = _structured_function("tan")
arctan = _structured_function("arctan")
sinh = _structured_function("sinh")
arcsinh = _structured_function("arcsinh")
tanh = _structured_function("tanh")
arctanh = _structured_function("arctanh")
rad2deg = _structured_function("rad2deg")
deg2rad = _structured_function("deg2rad")
rint = _structured_function("rint")
ceil = _structured_function("ceil")
floor = _structured_function("floor")
trunc = _structured_function("trunc")
sgn = _structured_function("sgn")
log1p = _structured_function("log1p")
expm1 = _structured_function("expm1")
sqr = _structured_function("sqr")
sqrt = _structured_function("sqrt")
abs_ = _structured_function("abs_")
_structured_add_scalar = StructuredElemwise("structured_add")


# ---------------------------------------------------------------- structured addition

class StructuredAddSV(SparseOp):
    """Sparse ``x`` plus dense vector ``y`` at ``x``'s stored positions only: the entry in
    column ``j`` gets ``y[j]``; a sparse matrix like ``x`` (Theano's ``structured_add_s_v``).

    Gradient (structured): wrt ``x``, the output gradient at ``x``'s stored positions; wrt
    ``y``, its column sums there.
    """

    __props__ = ()

    def make_node(self, x, y):
        if not _is_sparse(x):
            raise TypeError(f"structured_add_s_v: x must be a sparse matrix, got "
                            f"{getattr(x, 'type', type(x).__name__)}")
        x, y = as_sparse_variable(x), _dense(y)
        if y.ndim != 1:
            raise TypeError(f"structured_add_s_v: y must be a vector, got {y.type} "
                            f"({y.ndim} dimensions)")
        return Apply(self, [x, y], [SparseType(x.format, upcast(x.dtype, y.dtype))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        if y.shape[0] != x.shape[1]:
            raise ValueError(f"structured_add_s_v: the vector has {y.shape[0]} entries, the "
                             f"matrix {x.shape[1]} columns")
        _, cols = _structure(x)
        out[0][0] = _pattern_like(x, np.asarray(x.data + y[cols], dtype=node.outputs[0].dtype))

    def L_op(self, inputs, outputs, grads):
        (x, y), (gz,) = inputs, grads
        data, indices, indptr, shape = csm_properties(x)
        g_data = CSMGrad(x.format)(indices, indptr, shape, gz)
        gx = CSM(x.format)(g_data, indices, indptr, shape)
        return [cast(gx, x.dtype), sp_sum(gx, axis=0, sparse_grad=True).astype(y.dtype)]

    def __str__(self) -> str:
        return "StructuredAddSV"


structured_add_s_v = StructuredAddSV()


def structured_add(x, s):
    """``s`` added to the stored values of sparse ``x`` (Theano's ``structured_add``).

    ``s`` is a scalar, or a dense vector with one entry per column (``structured_add_s_v``:
    the stored entry in column ``j`` gets ``s[j]``).  The result has ``x``'s format and stored
    positions; the gradient is structured.

    Examples
    --------
    >>> import numpy as np, scipy.sparse as sp, thx, thx.sparse as S
    >>> x = S.csr_matrix('x')
    >>> f = thx.function([x], S.structured_add(x, 10.0))
    >>> f(sp.csr_matrix([[0., 2.], [1., 0.]])).toarray()
    array([[ 0., 12.],
           [11.,  0.]])
    """
    s = _dense(s)
    if s.ndim == 1:
        return structured_add_s_v(x, s)
    if s.ndim != 0:
        raise TypeError(f"structured_add: s must be a scalar or a vector, got {s.type} "
                        f"({s.ndim} dimensions)")
    return _structured_add_scalar(x, s)


structured_add.op = _structured_add_scalar  # type: ignore[attr-defined]


# ---------------------------------------------------------------- comparisons

# thx name -> (Theano's op name stem, the comparison, the comparison with its operands swapped)
_COMPARISONS: dict[str, tuple[str, Callable[[Any, Any], Any], str]] = {
    "eq": ("Equal", operator.eq, "eq"),
    "neq": ("NotEqual", operator.ne, "neq"),
    "lt": ("LessThan", operator.lt, "gt"),
    "gt": ("GreaterThan", operator.gt, "lt"),
    "le": ("LessEqual", operator.le, "ge"),
    "ge": ("GreaterEqual", operator.ge, "le"),
}


class _Comparison(SparseOp):
    """Shared by the two comparison ops: a table key, and zero gradients (a comparison is
    piecewise constant)."""

    __props__ = ("cmp",)
    kind = ""

    def __init__(self, cmp: str) -> None:
        if cmp not in _COMPARISONS:
            raise ValueError(f"unknown comparison {cmp!r}; known: {', '.join(_COMPARISONS)}")
        self.cmp = cmp

    def compare(self, a: Any, b: Any) -> Any:
        with warnings.catch_warnings():  # SciPy warns that sparse == sparse stores many Trues
            warnings.simplefilter("ignore")
            return _COMPARISONS[self.cmp][1](a, b)

    def L_op(self, inputs, outputs, grads):
        return [i.zeros_like(dtype=_float(i.dtype)) for i in inputs]

    def __str__(self) -> str:
        return _COMPARISONS[self.cmp][0] + self.kind


class ComparisonSS(_Comparison):
    """A comparison of two sparse matrices of one format: a sparse uint8 matrix of that format
    (Theano's ``EqualSS``, ``LessThanSS`` ...; prints so)."""

    kind = "SS"

    def make_node(self, x, y):
        x, y = as_sparse_variable(x), as_sparse_variable(y)
        if x.format != y.format:
            raise NotImplementedError(f"{self}: comparing a {x.format} and a {y.format} matrix; "
                                      f"convert one first (Theano compares one format)")
        return Apply(self, [x, y], [SparseType(x.format, "uint8")()])

    def perform(self, node, inputs, out):
        x, y = inputs
        if x.shape != y.shape:
            raise ValueError(f"{self}: shapes {x.shape} and {y.shape} differ")
        r = self.compare(x, y).asformat(node.outputs[0].format).astype("uint8")
        out[0][0] = r


class ComparisonSD(_Comparison):
    """A comparison of sparse ``x`` and dense ``y`` (a matrix of ``x``'s shape, or anything
    that broadcasts to it): a dense uint8 matrix (Theano's ``EqualSD``, ``LessThanSD`` ...)."""

    kind = "SD"

    def make_node(self, x, y):
        x, y = as_sparse_variable(x), _dense(y)
        if y.ndim > 2:
            raise TypeError(f"{self}: cannot compare a sparse matrix with a {y.ndim}-d tensor")
        return Apply(self, [x, y], [TensorType("uint8", (False, False))()])

    def perform(self, node, inputs, out):
        x, y = inputs
        y = np.asarray(y)
        try:
            fits = np.broadcast_shapes(x.shape, y.shape) == x.shape
        except ValueError:
            fits = False
        if not fits:
            raise ValueError(f"{self}: a dense operand of shape {y.shape} does not broadcast to "
                             f"the sparse matrix's shape {x.shape}")
        out[0][0] = np.asarray(self.compare(x.toarray(), y), dtype="uint8")


def _comparison(name: str) -> Callable[[Any, Any], Variable]:
    stem, _, swapped = _COMPARISONS[name]
    ss, sd, ds = ComparisonSS(name), ComparisonSD(name), ComparisonSD(swapped)

    def f(x, y):
        xs, ys = _is_sparse(x), _is_sparse(y)
        if xs and ys:
            return ss(x, y)
        if xs:
            return sd(x, y)
        if ys:
            return ds(y, x)  # a dense left operand: the swapped comparison, sparse first
        raise TypeError(f"sparse.{name} needs at least one sparse operand, got "
                        f"{getattr(x, 'type', type(x).__name__)} and "
                        f"{getattr(y, 'type', type(y).__name__)}")

    f.__name__ = f.__qualname__ = name
    f.__doc__ = (f"``x {_SYMBOLS[name]} y`` elementwise, with at least one sparse operand: a "
                 f"sparse uint8 matrix when both are sparse, else a dense uint8 matrix "
                 f"(``{stem}SS`` / ``{stem}SD``).  Its gradient is zero.\n")
    return f


_SYMBOLS = {"eq": "==", "neq": "!=", "lt": "<", "gt": ">", "le": "<=", "ge": ">="}

eq, neq, lt, gt, le, ge = (_comparison(n) for n in ("eq", "neq", "lt", "gt", "le", "ge"))

# Theano's op instances
equal_s_s, equal_s_d = ComparisonSS("eq"), ComparisonSD("eq")
not_equal_s_s, not_equal_s_d = ComparisonSS("neq"), ComparisonSD("neq")
less_than_s_s, less_than_s_d = ComparisonSS("lt"), ComparisonSD("lt")
greater_than_s_s, greater_than_s_d = ComparisonSS("gt"), ComparisonSD("gt")
less_equal_s_s, less_equal_s_d = ComparisonSS("le"), ComparisonSD("le")
greater_equal_s_s, greater_equal_s_d = ComparisonSS("ge"), ComparisonSD("ge")
