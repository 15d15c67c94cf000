"""Shared variables: values that live across function calls (``thx.shared``), tensors or any object."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from typing import Any

import numpy as np

from thx.graph.basic import Variable
from thx.graph.type import Type
from thx.tensor.type import TensorType
from thx.tensor.var import _TensorMethods


class SharedVariable(Variable):
    """A variable with a value stored outside any function, used by all of them.

    Functions read the current value on each call, and ``updates`` write it.
    """

    def __init__(self, name: str | None, type, value: Any, strict: bool,
                 allow_downcast: bool | None = None) -> None:
        super().__init__(type, None, None, name)
        self._allow_downcast = allow_downcast
        self._strict = strict
        self._value = type.filter(value, strict=strict, allow_downcast=allow_downcast)
        self._default_update = None

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        """The current value (a NumPy copy unless ``borrow``)."""
        v = self._value
        if return_internal_type:
            return v
        if not isinstance(v, np.ndarray):
            v = np.asarray(v)
            self._value = v if borrow else self._value
            return v
        return v if borrow else v.copy()

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        """Replace the value (checked against the variable's type)."""
        if hasattr(new_value, "__array__") and not isinstance(new_value, np.ndarray):
            new_value = np.asarray(new_value)
        v = self.type.filter(new_value, strict=self._strict, allow_downcast=self._allow_downcast)
        self._value = v if (borrow or v is not new_value) else v.copy()

    # Functions store the device value after an update without conversion.
    def _set_internal(self, v: Any) -> None:
        self._value = v

    @property
    def default_update(self):
        return self._default_update

    @default_update.setter
    def default_update(self, v):
        self._default_update = v

    @property
    def container(self):
        return self

    @property
    def value(self):
        return self.get_value()

    @property
    def storage(self):
        return [self._value]

    def zero(self, borrow: bool = False) -> None:
        """Set the value to zeros of the same shape."""
        self._value = np.zeros_like(self.get_value(borrow=True))

    def clone(self):
        cp = self.__class__(self.name, self.type, self.get_value(borrow=True), self._strict,
                            self._allow_downcast)
        cp._value = self._value
        cp.tag = copy.copy(self.tag)
        return cp

    def __getstate__(self):
        d = super().__getstate__()
        d["_value"] = np.asarray(self._value)
        return d


class TensorSharedVariable(_TensorMethods, SharedVariable):
    """A shared variable of a TensorType (supports the tensor operators)."""


def shared(value: Any, name: str | None = None, strict: bool = False,
           allow_downcast: bool | None = None, borrow: bool = False,
           broadcastable: Sequence[bool] | None = None, **kwargs: Any) -> TensorSharedVariable:
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
    if kwargs:
        unknown = ", ".join(sorted(kwargs))
        raise TypeError(f"shared() got unexpected keyword arguments: {unknown}")
    if hasattr(value, "__array__") and not isinstance(value, np.ndarray):
        value = np.asarray(value)
    if isinstance(value, np.ndarray):
        arr = value if borrow else value.copy()
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
    return TensorSharedVariable(name, t, arr, strict, allow_downcast)


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
                 allow_downcast: bool | None = None) -> None:
        super().__init__(name, type, value, strict, allow_downcast)

    def get_value(self, borrow: bool = False, return_internal_type: bool = False) -> Any:
        return self._value if (borrow or return_internal_type) else copy.deepcopy(self._value)

    def set_value(self, new_value: Any, borrow: bool = False) -> None:
        self._value = new_value if borrow else copy.deepcopy(new_value)

    def zero(self, borrow: bool = False) -> None:
        raise TypeError(f"zero(): {self} holds a generic Python object, which has no zero value")

    def __getstate__(self):
        return Variable.__getstate__(self)  # the value as it is (SharedVariable's makes an array)


def generic_shared(value: Any, name: str | None = None, strict: bool = False,
                   allow_downcast: bool | None = None, borrow: bool = False) -> GenericSharedVariable:
    """A GenericSharedVariable holding ``value`` (copied unless ``borrow``)."""
    return GenericSharedVariable(name, generic, value if borrow else copy.deepcopy(value), strict,
                                 allow_downcast)
