"""Random streams (Theano's ``theano.tensor.shared_randomstreams``), drawn with ``jax.random``.

Each random variable is the second output of a ``RandomFunction`` node
whose first input is its generator state: a shared variable holding JAX
``threefry2x32`` key data (two ``uint32``).  The node's first output is the
next key, installed as the shared variable's ``default_update``, so every
call of a compiled function draws fresh numbers, unless the function is
built with ``no_default_updates=True``.  Inside one call a random variable
is drawn once, wherever it is used.

Differences from Theano: the numbers differ (the generator is JAX's, not
NumPy's ``RandomState``), and ``rv.rng.get_value()`` returns the key data as
a :class:`RandomKey` array, whose ``seed``, ``get_state`` and ``set_state``
methods mirror the ``RandomState`` ones the tutorial uses.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.tensor.sharedvar import SharedVariable
from thx.config import config
from thx.graph.basic import Apply, Variable
from thx.graph.op import Op
from thx.graph.type import DisconnectedType
from thx.tensor.type import TensorType, upcast

__all__ = ["RandomStreams", "RandomFunction", "RandomKey", "RandomStateSharedVariable",
           "random_state_type", "uniform", "normal", "binomial", "random_integers", "choice",
           "poisson", "multinomial", "permutation"]

# JAX threefry2x32 key data; the lowering wraps it with that implementation explicitly.
random_state_type = TensorType("uint32", (False,))


def seed_key(seed: int) -> np.ndarray:
    """The key data ``jax.random.PRNGKey(seed)`` gives, computed without JAX.

    Examples
    --------
    >>> seed_key(234)
    array([  0, 234], dtype=uint32)
    """
    seed = int(seed)
    if seed < 0:
        raise ValueError(f"a random seed must be a non-negative integer, got {seed}")
    return np.array([(seed >> 32) & 0xFFFFFFFF, seed & 0xFFFFFFFF], dtype="uint32")


class RandomKey(np.ndarray):
    """Key data of a random stream, with the ``RandomState`` methods scripts call on it.

    Examples
    --------
    >>> k = RandomKey.from_seed(1)
    >>> k.seed(89234); k
    RandomKey([    0, 89234], dtype=uint32)
    """

    @classmethod
    def from_seed(cls, seed: int) -> RandomKey:
        return seed_key(seed).view(cls)

    def seed(self, seed: int) -> None:
        """Reset this key in place to the one ``seed`` gives."""
        self[...] = seed_key(seed)

    def get_state(self) -> np.ndarray:
        """A plain copy of the key data (give it back to ``set_state``)."""
        return np.array(self, dtype="uint32")

    def set_state(self, state: Any) -> None:
        """Restore key data saved by ``get_state``."""
        self[...] = np.asarray(state, dtype="uint32")


def _key_data(value: Any) -> np.ndarray:
    """Key data from key data, an integer seed, or a NumPy RandomState (which draws a seed)."""
    if isinstance(value, np.random.RandomState):
        return seed_key(value.randint(2 ** 30))
    if isinstance(value, (int, np.integer)):
        return seed_key(int(value))
    arr = np.asarray(value)
    if arr.shape != (2,) or arr.dtype.kind not in "iu":
        raise TypeError(f"a random state must be key data (2 uint32, as rv.rng.get_value() "
                        f"returns), an integer seed or a numpy RandomState; got {value!r}")
    return np.array(arr, dtype="uint32")


class RandomStateSharedVariable(SharedVariable):
    """The shared generator state of one random variable (JAX key data).

    ``get_value`` returns a :class:`RandomKey`; ``set_value`` also accepts an
    integer seed or a ``numpy.random.RandomState``.
    """

    def __init__(self, value: Any, name: str | None = None) -> None:
        super().__init__(name, random_state_type, _key_data(value), strict=False)
        self.tag.is_rng = True

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        with self._lock:
            v = self._value
        if return_internal_type:
            return v
        # Always a writable copy: the stored value may be a device array.
        return np.array(v, dtype="uint32").view(RandomKey)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        v = _key_data(new_value)
        with self._lock:
            self._value = v

    def clone(self) -> RandomStateSharedVariable:
        cp = RandomStateSharedVariable(np.asarray(self._value), self.name)
        cp.tag = self.tag.copy()
        return cp


# ---------------------------------------------------------------------------- the op

_DISTS = ("uniform", "normal", "truncated_normal", "binomial", "random_integers", "choice",
          "choice_without_replacement", "poisson", "multinomial", "permutation")


class RandomFunction(Op):
    """Draw from a distribution: ``(rng, size, *params) -> (new_rng, sample)``.

    ``size`` is an int64 vector that must be known when the function is
    compiled.  The sample has no gradient w.r.t. the parameters (as in
    Theano); ``rng`` only flows to ``new_rng``.

    Parameters
    ----------
    dist : str
        One of ``uniform``, ``normal``, ``truncated_normal``, ``binomial``,
        ``random_integers``, ``choice``, ``choice_without_replacement``,
        ``poisson``, ``multinomial``.
    dtype : str
    broadcastable : tuple of bool
        Of the sample.
    """

    __props__ = ("dist", "dtype", "broadcastable")

    def __init__(self, dist: str, dtype: str, broadcastable: Sequence[bool]) -> None:
        if dist not in _DISTS:
            raise ValueError(f"RandomFunction: unknown distribution {dist!r}; known: {', '.join(_DISTS)}")
        self.dist = dist
        self.dtype = str(np.dtype(dtype))
        self.broadcastable = tuple(bool(b) for b in broadcastable)

    def __str__(self) -> str:
        return f"RandomFunction{{{self.dist}}}"

    def make_node(self, rng: Any, size: Any, *params: Any) -> Apply:
        from thx.tensor import as_tensor_variable, cast
        rng = as_tensor_variable(rng)
        if rng.type != random_state_type:
            raise TypeError(f"{self}: the first input must be a random state ({random_state_type}), "
                            f"got {rng} of type {rng.type}")
        size = as_tensor_variable(size)
        if size.ndim != 1 or size.dtype[:3] not in ("int", "uin"):
            raise TypeError(f"{self}: size must be a vector of integers, got {size} of type {size.type}")
        size = cast(size, "int64")
        params = [as_tensor_variable(p) for p in params]
        return Apply(self, [rng, size] + params,
                     [rng.type(), TensorType(self.dtype, self.broadcastable)()])

    def connection_pattern(self, node: Apply) -> list[list[bool]]:
        return [[True, False], [False, False]] + [[False, True] for _ in node.inputs[2:]]

    def L_op(self, inputs, outputs, output_grads):
        from thx.gradient import grad_undefined
        return ([DisconnectedType()(), DisconnectedType()()]
                + [grad_undefined(self, k, p, "No gradient defined through raw random numbers op")
                   for k, p in enumerate(inputs[2:], start=2)])

    def R_op(self, inputs, eval_points):
        return [None, None]

    def infer_shape(self, fgraph, node, input_shapes):
        size = node.inputs[1]
        sample_shape = tuple(size[i] for i in range(node.outputs[1].ndim))
        return [input_shapes[0], sample_shape]


# ---------------------------------------------------------------------------- raw functions

def _infer_ndim_bcast(ndim: int | None, size: Any, *params: Variable) -> tuple[int, Variable, tuple]:
    """``(ndim, size vector, broadcastable)`` from ``size`` (or from the params when it is None).

    As in Theano: a ``size`` entry ``-1`` takes the length of a parameter's
    matching dimension.
    """
    import thx.tensor as T
    params_ndim = max((p.ndim for p in params), default=0)
    if isinstance(size, (tuple, list)):
        if ndim is not None and ndim != len(size):
            raise ValueError(f"ndim should be equal to len(size), but ndim = {ndim}, "
                             f"len(size) = {len(size)}, size = {size}")
        ndim = len(size)
        entries, bcast = [], []
        for i, s in enumerate(size):
            if isinstance(s, Variable):
                entries.append(s)
                bcast.append(False)
            elif s >= 0:
                entries.append(T.constant(int(s), dtype="int64"))
                bcast.append(s == 1)
            elif s == -1:
                src = next((p for p in params if i >= ndim - p.ndim
                            and not p.broadcastable[i + p.ndim - ndim]), None)
                if src is None:
                    raise ValueError(f"size entry -1 at position {i} must match a non-broadcastable "
                                     f"dimension of one of the parameters")
                entries.append(src.shape[i + src.ndim - ndim])
                bcast.append(False)
            else:
                raise ValueError(f"negative size entry {s} at position {i}")
        v_size = T.stack(entries) if entries else T.constant(np.zeros(0, dtype="int64"))
    elif size is None:
        if not params:
            raise TypeError("cannot infer the shape of a random draw without either size or "
                            "parameters: pass size")
        template = params[0]
        for p in params[1:]:
            template = template + p
        v_size, bcast, ndim = template.shape, list(template.broadcastable), template.ndim
    else:
        v_size = T.as_tensor_variable(size)
        if v_size.ndim != 1:
            raise TypeError(f"size must be a vector or list of scalars, got {v_size}")
        if ndim is None:
            ndim = _vector_length(v_size)
        bcast = [False] * ndim
    if params_ndim > ndim:
        raise ValueError(f"ndim should be at least as big as required by the parameters "
                         f"(ndim={ndim}, parameters need {params_ndim})")
    return ndim, T.cast(v_size, "int64"), tuple(bcast)


def _vector_length(v: Variable) -> int:
    """The length of a symbolic vector known when the graph is built (a size argument)."""
    from thx.graph.basic import Constant
    from thx.tensor.basic import MakeVector, Shape
    from thx.tensor.elemwise import Elemwise
    while True:
        if isinstance(v, Constant):
            return len(v.data)
        op = v.owner.op if v.owner is not None else None
        if isinstance(op, Shape):
            return v.owner.inputs[0].ndim
        if isinstance(op, MakeVector):
            return len(v.owner.inputs)
        if isinstance(op, Elemwise) and len(v.owner.inputs) == 1:  # a cast
            v = v.owner.inputs[0]
            continue
        raise TypeError(f"cannot tell the number of dimensions of size {v}: pass ndim")


def _float_dtype(dtype: str | None, *params: Variable) -> str:
    return dtype if dtype is not None else upcast(config.floatX, *[p.dtype for p in params])


def _draw(dist: str, dtype: str, bcast: tuple, random_state: Variable, size: Variable,
          *params: Any) -> list[Variable]:
    return RandomFunction(dist, dtype, bcast)(random_state, size, *params)


def uniform(random_state: Variable, size: Any = None, low: Any = 0.0, high: Any = 1.0,
            ndim: int | None = None, dtype: str | None = None) -> list[Variable]:
    """``[new_rng, sample]`` uniform on ``[low, high)`` (Theano's ``raw_random.uniform``)."""
    import thx.tensor as T
    low, high = T.as_tensor_variable(low), T.as_tensor_variable(high)
    ndim, size, bcast = _infer_ndim_bcast(ndim, size, low, high)
    return _draw("uniform", _float_dtype(dtype, low, high), bcast, random_state, size, low, high)


def normal(random_state: Variable, size: Any = None, avg: Any = 0.0, std: Any = 1.0,
           ndim: int | None = None, dtype: str | None = None,
           truncate: bool = False) -> list[Variable]:
    """``[new_rng, sample]`` normal of mean ``avg`` and deviation ``std``.

    ``truncate=True`` redraws values more than two deviations from the mean
    (the MRG generator's option).
    """
    import thx.tensor as T
    avg, std = T.as_tensor_variable(avg), T.as_tensor_variable(std)
    ndim, size, bcast = _infer_ndim_bcast(ndim, size, avg, std)
    return _draw("truncated_normal" if truncate else "normal", _float_dtype(dtype, avg, std),
                 bcast, random_state, size, avg, std)


def binomial(random_state: Variable, size: Any = None, n: Any = 1, p: Any = 0.5,
             ndim: int | None = None, dtype: str = "int64", prob: Any = None) -> list[Variable]:
    """``[new_rng, sample]``: successes in ``n`` trials of probability ``p``."""
    import thx.tensor as T
    p = T.as_tensor_variable(prob if prob is not None else p)
    n = T.as_tensor_variable(n)
    ndim, size, bcast = _infer_ndim_bcast(ndim, size, n, p)
    return _draw("binomial", dtype, (False,) * ndim, random_state, size, n, p)


def random_integers(random_state: Variable, size: Any = None, low: Any = 0, high: Any = 1,
                    ndim: int | None = None, dtype: str = "int64") -> list[Variable]:
    """``[new_rng, sample]`` of integers in ``[low, high]``, both ends included."""
    import thx.tensor as T
    low, high = T.as_tensor_variable(low), T.as_tensor_variable(high)
    ndim, size, bcast = _infer_ndim_bcast(ndim, size, low, high)
    return _draw("random_integers", dtype, bcast, random_state, size, low, high)


def choice(random_state: Variable, size: Any = None, a: Any = 2, replace: bool = True,
           p: Any = None, ndim: int | None = None, dtype: str = "int64") -> list[Variable]:
    """``[new_rng, sample]`` of elements of ``a`` (or of ``range(a)`` for a scalar ``a``).

    ``p`` gives the probabilities (uniform when None).  ``replace`` must be
    a Python bool: it is fixed when the graph is built.
    """
    import thx.tensor as T
    if not isinstance(replace, (bool, np.bool_)):
        raise TypeError(f"choice: replace must be a Python bool in thx (it selects the sampler "
                        f"when the graph is built), got {replace!r}")
    a = T.as_tensor_variable(a)
    if a.ndim > 1:
        raise ValueError(f"choice: a.ndim ({a.ndim}) must be 0 or 1")
    p = T.as_tensor_variable(np.zeros(0, dtype=config.floatX) if p is None else p)
    if p.ndim != 1:
        raise ValueError(f"choice: p.ndim ({p.ndim}) must be 1")
    ndim, size, bcast = _infer_ndim_bcast(ndim, () if size is None else size)
    dist = "choice" if replace else "choice_without_replacement"
    return _draw(dist, dtype, bcast, random_state, size, a, p)


def poisson(random_state: Variable, size: Any = None, lam: Any = 1.0, ndim: int | None = None,
            dtype: str = "int64") -> list[Variable]:
    """``[new_rng, sample]`` Poisson of mean ``lam``."""
    import thx.tensor as T
    lam = T.as_tensor_variable(lam)
    ndim, size, bcast = _infer_ndim_bcast(ndim, size, lam)
    return _draw("poisson", dtype, bcast, random_state, size, lam)


def multinomial(random_state: Variable, size: Any = None, n: Any = 1, pvals: Any = (0.5, 0.5),
                ndim: int | None = None, dtype: str = "int64") -> list[Variable]:
    """``[new_rng, sample]``: counts of ``n`` draws among ``len(pvals)`` outcomes.

    The sample has shape ``size + (len(pvals),)``; ``pvals`` may also be a
    matrix (one distribution per row) when ``size`` is None.
    """
    import thx.tensor as T
    pvals = T.as_tensor_variable(pvals)
    n = T.as_tensor_variable(n)
    if size is None:
        ndim, size = pvals.ndim - 1, pvals.shape[:-1]
    else:
        ndim, size, _ = _infer_ndim_bcast(ndim, size)
    return _draw("multinomial", dtype, (False,) * (ndim + 1), random_state, T.cast(size, "int64"),
                 n, pvals)


def permutation(random_state: Variable, size: Any = None, n: Any = 1, ndim: int | None = None,
                dtype: str = "int64") -> list[Variable]:
    """``[new_rng, sample]``: random permutations of ``range(n)``, one per entry of ``size``.

    The sample has shape ``size + (n,)`` (``ndim + 1`` dimensions); without
    ``size`` it is one permutation, a vector.  ``n`` must be known when the
    function is compiled (it decides the shape).
    """
    import thx.tensor as T
    if size is None or (isinstance(size, (tuple, list)) and len(size) == 0):
        if ndim not in (None, 0, 1):
            raise TypeError(f"permutation: one permutation was asked for (no size) but ndim={ndim}")
        size, bcast = T.constant(np.zeros(0, dtype="int64")), ()
    else:
        _, size, bcast = _infer_ndim_bcast(ndim, size)
    n = T.cast(T.as_tensor_variable(n), "int64")
    if n.ndim != 0:
        raise TypeError(f"permutation: n must be a scalar, got {n} with {n.ndim} dimension(s)")
    full_size = T.join(0, size, n.dimshuffle("x"))  # n is the last dimension of the sample
    return _draw("permutation", dtype, tuple(bcast) + (False,), random_state, full_size)


def _permute_row_elements(x: Variable, perm: Variable) -> Variable:
    """``out[..., j] = x[..., perm[..., j]]`` for ``perm`` shaped like ``x``."""
    import thx.tensor as T
    nd = x.ndim
    idx = tuple(T.arange(x.shape[d]).dimshuffle(*["x" if k != d else 0 for k in range(nd)])
                for d in range(nd - 1)) + (perm,)
    return x[idx]


# ---------------------------------------------------------------------------- the streams

class RandomStreams:
    """Random variables for thx graphs, with an interface like ``numpy.random.RandomState``.

    Parameters
    ----------
    seed : int, optional
        Seeds the generator that gives each new random variable its own seed.

    Attributes
    ----------
    state_updates : list of (RandomStateSharedVariable, Variable)
        ``(rng, new_rng)`` for every random variable made by this object.

    Examples
    --------
    >>> import thx
    >>> srng = RandomStreams(seed=234)
    >>> rv_u = srng.uniform((2, 2))
    >>> f = thx.function([], rv_u)
    >>> a, b = f(), f()
    >>> a.shape, bool((a != b).all()), bool(((0 <= a) & (a < 1)).all())
    ((2, 2), True, True)
    >>> nearly_zeros = thx.function([], rv_u + rv_u - 2 * rv_u)
    >>> nearly_zeros()
    array([[0., 0.],
           [0., 0.]])
    """

    def __init__(self, seed: int | None = None) -> None:
        self.state_updates: list[tuple[RandomStateSharedVariable, Variable]] = []
        self.default_instance_seed = seed
        self.gen_seedgen = np.random.RandomState(seed)

    def updates(self) -> list[tuple[RandomStateSharedVariable, Variable]]:
        """The ``(rng, new_rng)`` pairs of every random variable made so far."""
        return list(self.state_updates)

    def seed(self, seed: int | None = None) -> None:
        """Re-seed every random variable made so far, deterministically from ``seed``."""
        if seed is None:
            seed = self.default_instance_seed
        seedgen = np.random.RandomState(seed)
        for old_r, _ in self.state_updates:
            old_r.set_value(int(seedgen.randint(2 ** 30)))

    def __getitem__(self, item: RandomStateSharedVariable) -> RandomKey:
        """The state of one random variable's generator (``srng[rv.rng]``)."""
        return item.get_value(borrow=True)

    def __setitem__(self, item: RandomStateSharedVariable, val: Any) -> None:
        item.set_value(val, borrow=True)

    def gen(self, op: Any, *args: Any, **kwargs: Any) -> Variable:
        """A new random variable from ``op(rng, *args, **kwargs) -> (new_rng, sample)``.

        ``op`` is one of this module's raw functions (``uniform`` ...).  The
        sample gets ``.rng`` (its generator state) and ``.update``.
        """
        seed = int(self.gen_seedgen.randint(2 ** 30))
        rng = RandomStateSharedVariable(seed)
        new_r, out = op(rng, *args, **kwargs)
        out.rng = rng
        out.update = (rng, new_r)
        self.state_updates.append(out.update)
        rng.default_update = new_r
        return out

    def uniform(self, size: Any = None, low: Any = 0.0, high: Any = 1.0, ndim: int | None = None,
                dtype: str | None = None) -> Variable:
        """Uniform samples on ``[low, high)``; dtype defaults to floatX (or wider params)."""
        return self.gen(uniform, size, low, high, ndim=ndim, dtype=dtype)

    def normal(self, size: Any = None, avg: Any = 0.0, std: Any = 1.0, ndim: int | None = None,
               dtype: str | None = None) -> Variable:
        """Normal samples of mean ``avg`` and standard deviation ``std``."""
        return self.gen(normal, size, avg, std, ndim=ndim, dtype=dtype)

    def binomial(self, size: Any = None, n: Any = 1, p: Any = 0.5, ndim: int | None = None,
                 dtype: str = "int64", prob: Any = None) -> Variable:
        """Number of successes in ``n`` trials of probability ``p``."""
        return self.gen(binomial, size, n, p, ndim=ndim, dtype=dtype, prob=prob)

    def random_integers(self, size: Any = None, low: Any = 0, high: Any = 1,
                        ndim: int | None = None, dtype: str = "int64") -> Variable:
        """Integers in ``[low, high]`` (both included)."""
        return self.gen(random_integers, size, low, high, ndim=ndim, dtype=dtype)

    def choice(self, size: Any = None, a: Any = 2, replace: bool = True, p: Any = None,
               ndim: int | None = None, dtype: str = "int64") -> Variable:
        """Elements of ``a`` (or of ``range(a)``), with probabilities ``p``."""
        return self.gen(choice, size, a, replace, p, ndim=ndim, dtype=dtype)

    def poisson(self, size: Any = None, lam: Any = 1.0, ndim: int | None = None,
                dtype: str = "int64") -> Variable:
        """Poisson samples of mean ``lam``."""
        return self.gen(poisson, size, lam, ndim=ndim, dtype=dtype)

    def multinomial(self, size: Any = None, n: Any = 1, pvals: Any = (0.5, 0.5),
                    ndim: int | None = None, dtype: str = "int64") -> Variable:
        """Counts of ``n`` draws among ``len(pvals)`` outcomes (last axis)."""
        return self.gen(multinomial, size, n, pvals, ndim=ndim, dtype=dtype)

    def permutation(self, size: Any = None, n: Any = 1, ndim: int | None = None,
                    dtype: str = "int64") -> Variable:
        """Random permutations of ``range(n)``: shape ``size + (n,)`` (one vector without size).

        Examples
        --------
        >>> import numpy as np, thx
        >>> srng = RandomStreams(seed=1)
        >>> p = thx.function([], srng.permutation(size=(2,), n=4))()
        >>> p.shape, np.sort(p, axis=1).tolist()
        ((2, 4), [[0, 1, 2, 3], [0, 1, 2, 3]])
        """
        return self.gen(permutation, size, n, ndim=ndim, dtype=dtype)

    def shuffle_row_elements(self, input: Any) -> Variable:
        """``input`` with the elements of each row (last axis) shuffled independently.

        The permutation used is the result's ``.permutation`` attribute.

        Examples
        --------
        >>> import numpy as np, thx, thx.tensor as T
        >>> srng = RandomStreams(seed=1)
        >>> m = T.dmatrix('m')
        >>> out = thx.function([m], srng.shuffle_row_elements(m))(np.arange(6.).reshape(2, 3))
        >>> np.sort(out, axis=1)
        array([[0., 1., 2.],
               [3., 4., 5.]])
        """
        import thx.tensor as T
        input = T.as_tensor_variable(input)
        if input.ndim < 1:
            raise TypeError(f"shuffle_row_elements: {input} is a scalar; it has no rows")
        perm = self.permutation(size=input.shape[:-1], n=input.shape[-1], ndim=input.ndim - 1)
        shuffled = _permute_row_elements(input, perm)
        shuffled.permutation = perm
        return shuffled
