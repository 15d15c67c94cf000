"""Type base class, and the special types used by gradients."""

from __future__ import annotations

from typing import Any

from thx.graph.basic import Variable


class Type:
    """What values a Variable may hold.

    Subclasses define ``filter`` (convert/validate a value) and equality.
    Calling a type makes a new variable: ``TensorType('float64', ())('x')``.
    """

    variable_type: type = Variable
    constant_type: type | None = None
    # Values of a host-only type (a SciPy sparse matrix) never enter an XLA program: the ops
    # reading them run on the host between jitted segments (thx/lowering/segments.py).
    host_only: bool = False

    def filter(self, data: Any, strict: bool = False, allow_downcast: bool | None = None) -> Any:
        """Return ``data`` converted to a legal value of this type, or raise TypeError."""
        raise NotImplementedError

    def is_valid_value(self, data: Any) -> bool:
        try:
            self.filter(data, strict=True)
            return True
        except (TypeError, ValueError):
            return False

    def is_super(self, other: Type) -> bool:
        """True if every value of ``other`` is a value of this type."""
        return self == other

    def convert_variable(self, var: Variable) -> Variable | None:
        """``var`` as a variable of this type, or None if impossible."""
        return var if var.type == self else None

    def data_signature(self, data: Any) -> Any:
        return data

    def make_variable(self, name: str | None = None) -> Variable:
        """A new ownerless variable of this type."""
        return self.variable_type(self, None, None, name)

    def __call__(self, name: str | None = None) -> Variable:
        return self.make_variable(name)


class NullType(Type):
    """The type of an undefined gradient; ``why_null`` says why."""

    def __init__(self, why_null: str = "(no explanation given)") -> None:
        self.why_null = why_null

    def filter(self, data, strict=False, allow_downcast=None):
        raise ValueError("No values may be assigned to a NullType")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "NullType"


class DisconnectedType(Type):
    """The type of the gradient of an output that does not depend on an input."""

    def filter(self, data, strict=False, allow_downcast=None):
        raise AssertionError("If you're assigning to a DisconnectedType you're doing something wrong.")

    def __eq__(self, other):
        return type(self) is type(other)

    def __hash__(self):
        return hash(type(self))

    def __str__(self):
        return "DisconnectedType"


null_type = NullType
disconnected_type = DisconnectedType()
