"""Theano's ``theano.sparse``: symbolic csr and csc matrices (SciPy's) and their ops.

>>> import numpy as np, scipy.sparse as sp, thx, thx.sparse as S, thx.tensor as T
>>> x, W = S.csr_matrix('x'), T.dmatrix('W')
>>> y = S.structured_dot(x, W)
>>> f = thx.function([x, W], thx.grad(y.sum(), W))
>>> f(sp.csr_matrix([[0., 2.], [1., 0.]]), np.ones((2, 3)))
array([[1., 1., 1.],
       [2., 2., 2.]])

Every sparse op runs its SciPy implementation on the host, between the jitted XLA segments
of the function (docs/sparse.md).
"""

from thx.sparse.type import *  # noqa: F401,F403
from thx.sparse.type import SparseType, SparseVariable, SparseConstant  # noqa: F401
from thx.sparse.basic import *  # noqa: F401,F403
from thx.sparse.products import *  # noqa: F401,F403
from thx.sparse.elemwise import *  # noqa: F401,F403
from thx.sparse.indexing import *  # noqa: F401,F403
from thx.sparse.check import verify_grad_sparse  # noqa: F401
from thx.sparse.sharedvar import SparseSharedVariable, sparse_constructor  # noqa: F401
from thx.sparse.sharedvar import sparse_constructor as shared  # noqa: F401
from thx.sparse import type as _type  # noqa: E402

_type._B.table = globals()  # the ops SparseVariable's methods call (x.T, x + y, x[i], ...)

from thx.sparse import basic as _basic, elemwise as _elemwise, indexing as _indexing, products as _products  # noqa: E402

__all__ = sorted(set(_type.__all__) | set(_basic.__all__) | set(_products.__all__)
                 | set(_elemwise.__all__) | set(_indexing.__all__)
                 | {"verify_grad_sparse", "SparseSharedVariable", "sparse_constructor", "shared"})
