"""Shared variables holding any Python object (Theano's ``GenericType`` / ``generic``)."""

from __future__ import annotations

import copy
from typing import Any

from thx.compile.sharedvalue import SharedVariable
from thx.graph.basic import Variable
from thx.graph.type import Type

__all__ = ["GenericType", "generic", "GenericSharedVariable"]


class GenericType(Type):
    """The type of a variable that may hold any Python object (Theano's ``Generic``).

    Examples
    --------
    >>> from thx.compile.generic_shared import generic
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
