"""Shared variables: values that live across function calls (``thx.shared``), tensors or any object.

A tensor shared variable keeps its value on the device selected by
``config.device`` once the lowering layer has loaded: it installs the upload
function with :func:`install_device_put` (this floor imports no JAX).  Every
shared variable has a lock (``_lock``) that ``get_value``/``set_value`` and
the calls of functions updating it hold; ``_order`` fixes the order in which a
function takes several of them, so two functions never deadlock.
"""

from __future__ import annotations

import copy
import itertools
import threading
from collections.abc import Callable
from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Variable
from thx.graph.type import Type
from thx.tensor.type import TensorType
from thx.tensor.var import _TensorMethods


# ``put(ndarray, variable, private) -> device array`` and ``fetch(device array) -> array NumPy can
# read`` (the whole of a global array of several processes), installed by the lowering layer
# (thx/lowering/device.py).  ``private``: no one else holds the array; when False the caller keeps
# it (``shared(X)``), and the device value must not see later writes to it.
_DEVICE_PUT: list[Callable[[np.ndarray, Any, bool], Any]] = []
_FETCH: list[Callable[[Any], Any]] = []
_ORDER = itertools.count()  # creation order: the order in which a call takes several locks


def install_device_put(put: Callable[[np.ndarray, Any, bool], Any],
                       fetch: Callable[[Any], Any] = lambda v: v) -> None:
    """Make tensor shared variables keep their values where ``put`` uploads them
    (``get_value`` reads them through ``fetch``)."""
    _DEVICE_PUT[:] = [put]
    _FETCH[:] = [fetch]


class Container:
    """The storage of a shared variable's value (Theano's ``Container``): the value, the lock
    that reads, writes and updating calls hold, and the lock's place in the order in which a call
    takes several.  Every clone a graph makes of a shared variable shares its container, so a
    function's graph holds no copy of a dataset and sees every update."""

    __slots__ = ("value", "lock", "order")

    def __init__(self, value: Any) -> None:
        self.value = value
        self.lock = threading.Lock()
        self.order = next(_ORDER)

    @property
    def storage(self) -> list:
        return [self.value]


class SharedVariable(Variable):
    """A variable with a value stored outside any function, used by all of them.

    Functions read the current value on each call, and ``updates`` write it.
    A tensor value lives on the device (uploaded once, by ``shared``,
    ``set_value`` or the first function using it); ``get_value`` copies it to
    a NumPy array.

    Parameters
    ----------
    name : str or None
    type : Type
        The type of the value (``TensorType`` for ``shared`` of an array).
    value : object
        The initial value, checked by ``type.filter``.
    strict, allow_downcast : bool
        How later ``set_value`` calls convert their values (Theano's rules).
    sharding : sequence, optional
        A mesh axis name (or None) per dimension (docs/distributed.md).
    borrow : bool
        The variable may keep ``value`` itself (default, as in Theano); False: the caller keeps
        it, and the stored value is a copy (made by the upload, see ``_place``).
    """

    _device_resident = False  # tensor shared variables say True
    sharding: tuple | None = None  # a mesh axis (or None) per dimension: docs/distributed.md
    _any_sharded = False  # set once some variable has a sharding (compile looks for them then)

    def __init__(self, name: str | None, type, value: Any, strict: bool,
                 allow_downcast: bool | None = None, sharding: Sequence | None = None,
                 *, borrow: bool = True) -> None:
        super().__init__(type, None, None, name)
        if sharding is not None:
            self.sharding = _sharding_spec(sharding, type.ndim, name)
            SharedVariable._any_sharded = True
        self._allow_downcast = allow_downcast
        self._strict = strict
        v = type.filter(value, strict=strict, allow_downcast=allow_downcast)
        self.container = Container(self._place(v, borrow or v is not value))
        self._default_update = None

    # The value, its lock and the lock's order live in the container (shared with graph clones).
    @property
    def _value(self) -> Any:
        return self.container.value

    @_value.setter
    def _value(self, v: Any) -> None:
        self.container.value = v

    @property
    def _lock(self) -> threading.Lock:
        return self.container.lock

    @property
    def _order(self) -> int:
        return self.container.order

    def _place(self, v: Any, private: bool = True) -> Any:
        """``v`` as this variable stores it: uploaded to the device when the variable lives there
        and the upload is installed.  ``private=False``: the caller still holds ``v`` (``shared(X)``,
        ``set_value(X)``), so the stored value must not see the caller's later writes: the upload
        makes its own copy (one copy, not a NumPy copy and then an upload), or ``v`` is copied."""
        if self._device_resident and _DEVICE_PUT and isinstance(v, np.ndarray):
            return _DEVICE_PUT[0](v, self, private)
        return v if private or not isinstance(v, np.ndarray) else v.copy()

    def _to_device(self) -> None:
        """Upload a value still held in NumPy (functions call this once, when they are built)."""
        with self._lock:
            if isinstance(self._value, np.ndarray):
                self._value = self._place(self._value)

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The current value: a NumPy copy, or with ``borrow`` possibly a read-only view.

        ``return_internal_type`` returns the stored object itself (a device
        array for a tensor); don't keep it: a function updating this variable
        may reuse that memory (donation) unless it sees the reference.
        """
        with self._lock:
            v = self._value
        if return_internal_type:
            return v
        if _FETCH:
            v = _FETCH[0](v)
        if isinstance(v, np.ndarray):
            return v if borrow else v.copy()
        return np.asarray(v) if borrow else np.array(v)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Replace the value (checked against the variable's type, uploaded once)."""
        if hasattr(new_value, "__array__") and not isinstance(new_value, np.ndarray):
            new_value = np.asarray(new_value)
        v = self.type.filter(new_value, strict=self._strict, allow_downcast=self._allow_downcast)
        placed = self._place(v, borrow or v is not new_value)
        with self._lock:
            self._value = placed

    # Functions store the device value after an update without conversion (holding the lock).
    def _set_internal(self, v: Any) -> None:
        self._value = v

    @property
    def default_update(self):
        return self._default_update

    @default_update.setter
    def default_update(self, v):
        self._default_update = v

    @property
    def value(self):
        return self.get_value()

    @property
    def storage(self):
        return [self._value]

    def zero(self, borrow: bool = False) -> None:
        """Set the value to zeros of the same shape."""
        z = self._place(np.zeros_like(self.get_value(borrow=True)))
        with self._lock:
            self._value = z

    def clone(self) -> SharedVariable:
        """A new variable over the same container, as in Theano: no copy of the value, and an
        update through either is seen by both (a graph's copies of its inputs are clones)."""
        cp = object.__new__(type(self))
        cp.__dict__.update(self.__dict__)
        Variable.__init__(cp, self.type, None, None, self.name)
        cp.tag = copy.copy(self.tag)
        cp._default_update = None
        return cp

    def __getstate__(self):
        d = super().__getstate__()
        d.pop("container", None)
        v = self._value
        if self._device_resident:  # a device array: pickled as the NumPy array it holds
            v = np.asarray(_FETCH[0](v) if _FETCH else v)
        d["_stored"] = v
        return d

    def __setstate__(self, d: dict) -> None:
        d = dict(d)
        value = d.pop("_stored", None)
        if "_value" in d:  # pickled before values lived in a container
            value = d.pop("_value")
        d.pop("_lock", None)
        d.pop("_order", None)
        self.__dict__.update(d)
        self.container = Container(self._place(value, False))  # (copy.copy: a view of a device value)

    def __copy__(self) -> SharedVariable:
        cp = object.__new__(type(self))
        cp.__setstate__(self.__getstate__())
        return cp


class TensorSharedVariable(_TensorMethods, SharedVariable):
    """A shared variable of a TensorType (supports the tensor operators); its value lives on the device."""

    _device_resident = True


# Constructors tried before the tensor one, the last registered first (Theano's
# ``shared_constructor``); each raises TypeError for a value it does not take.
_CONSTRUCTORS: list[Callable[..., Any]] = []


def shared_constructor(ctor: Callable[..., Any], remove: bool = False) -> Callable[..., Any]:
    """Register (or with ``remove``, unregister) a constructor ``shared()`` tries first.

    ``ctor(value, name=, strict=, allow_downcast=, borrow=, **kwargs)`` returns a shared
    variable, or raises TypeError for a value it does not take.  Usable as a decorator.
    """
    if remove:
        if ctor in _CONSTRUCTORS:
            _CONSTRUCTORS.remove(ctor)
    elif ctor not in _CONSTRUCTORS:
        _CONSTRUCTORS.append(ctor)
    return ctor


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, borrow: bool = False,
           broadcastable: Sequence[bool] | None = None, sharding: Sequence | None = None,
           **kwargs: Any) -> TensorSharedVariable:
    """A shared variable holding ``value`` (an array or a number).

    Parameters
    ----------
    value : array_like
    name : str, optional
    strict : bool
        Later ``set_value`` calls must pass exactly this dtype.
    allow_downcast : bool, optional
    borrow : bool
        Use ``value`` without copying it.
    broadcastable : tuple of bool, optional
        Defaults to all False (as in Theano).
    sharding : tuple, optional
        A mesh axis name (or None) per dimension: how the value is laid out over the
        device mesh (``config.mesh``); replicated when omitted.  See docs/distributed.md.

    Examples
    --------
    >>> import thx
    >>> state = thx.shared(0, name='state')
    >>> state.get_value()
    array(0)
    """
    if isinstance(value, Variable):
        raise TypeError("Shared variable constructor needs numeric values and not symbolic "
                        "variables.")
    for ctor in reversed(_CONSTRUCTORS):  # registered constructors first (Theano's order)
        try:
            return ctor(value, name=name, strict=strict, allow_downcast=allow_downcast,
                        borrow=borrow, **kwargs)
        except TypeError:
            continue
    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise TypeError(f"shared() got unexpected keyword arguments: {unknown}")
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        arr = value  # not copied here: the variable copies it as it stores it (_place)
    elif isinstance(value, (bool, int, float, complex, np.generic)):
        arr = np.asarray(value)
    else:
        try:
            arr = np.asarray(value)
        except Exception:  # ragged lists and other objects NumPy refuses
            arr = None
        if arr is None or arr.dtype.kind not in "biufc":  # any other object: Theano's generic
            return generic_shared(value, name, strict, allow_downcast, borrow)  # type: ignore[return-value]
    if broadcastable is None:
        broadcastable = (False,) * arr.ndim
    t = TensorType(str(arr.dtype), broadcastable)
    return TensorSharedVariable(name, t, arr, strict, allow_downcast, sharding,
                                borrow=borrow or arr is not value)


def _sharding_spec(sharding: Sequence, ndim: int, name: str | None) -> tuple:
    """``sharding`` checked: one mesh axis name, tuple of names, or None per dimension."""
    spec = tuple(tuple(e) if isinstance(e, list) else e for e in sharding) \
        if isinstance(sharding, (tuple, list)) else None
    ok = spec is not None and len(spec) == ndim and all(
        e is None or isinstance(e, str) or (isinstance(e, tuple) and all(isinstance(a, str) for a in e))
        for e in spec)
    if not ok:
        raise ValueError(f"shared variable {name or '<unnamed>'}: sharding must be a tuple of "
                         f"{ndim} mesh axis names or None (one per dimension), got {sharding!r}")
    return spec


# ---------------------------------------------------------------- any Python object (Theano's generic)

class GenericType(Type):
    """The type of a variable that may hold any Python object (Theano's ``Generic``).

    Examples
    --------
    >>> from thx.tensor.sharedvar import generic
    >>> generic.filter({'a': 1})
    {'a': 1}
    """

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        return data

    def is_valid_value(self, data: Any) -> bool:
        return True

    def values_eq(self, a: Any, b: Any) -> bool:
        return a == b

    def values_eq_approx(self, a: Any, b: Any, **kwargs: Any) -> bool:
        return a == b

    def data_signature(self, data: Any) -> Any:
        return id(data)

    def __eq__(self, other: object) -> bool:
        return type(self) is type(other)

    def __hash__(self) -> int:
        return hash(type(self))

    def __str__(self) -> str:
        return "generic"

    __repr__ = __str__


generic = GenericType()


class GenericSharedVariable(SharedVariable):
    """A shared variable of ``generic`` type: ``thx.shared`` of a non-numeric Python object.

    ``get_value`` returns a deep copy unless ``borrow=True``; ``set_value``
    accepts any object.  Such a variable cannot enter a compiled function
    (no thx op works on arbitrary objects).

    Examples
    --------
    >>> import thx
    >>> s = thx.shared({'lr': 0.1}, name='hyper')
    >>> s.type, s.get_value()
    (generic, {'lr': 0.1})
    >>> s.set_value(['anything']); s.get_value()
    ['anything']
    """

    def __init__(self, name: str | None, type: Type, value: Any, strict: bool,
                 allow_downcast: bool | None = None, sharding: None = None) -> None:
        super().__init__(name, type, value, strict, allow_downcast)

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        return self._value if (borrow or return_internal_type) else copy.deepcopy(self._value)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        self._value = new_value if borrow else copy.deepcopy(new_value)

    def zero(self, borrow: bool = False) -> None:
        raise TypeError(f"zero(): {self} holds a generic Python object, which has no zero value")


def generic_shared(value: Any, name: str | None = None, strict: bool = False,
                   allow_downcast: bool | None = None, borrow: bool = False) -> GenericSharedVariable:
    """A GenericSharedVariable holding ``value`` (copied unless ``borrow``)."""
    return GenericSharedVariable(name, generic, value if borrow else copy.deepcopy(value), strict,
                                 allow_downcast)
