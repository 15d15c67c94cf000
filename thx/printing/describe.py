"""``min_informative_str`` and ``var_descriptor``: short text descriptions of a variable (for messages).
"""

from __future__ import annotations

import hashlib
from typing import Any

import numpy as np

from thx.graph.basic import Variable
from thx.printing.debug import char_from_number

__all__ = ["min_informative_str", "var_descriptor"]


def min_informative_str(obj: Any, indent_level: int = 0) -> str:
    """A short description of a variable: its graph down to named variables.

    Each line is ``TAG. name`` for a named variable or ``TAG. op`` followed by
    the op's inputs one indentation level deeper; a variable seen before
    prints as ``<TAG>`` (Theano's format, meant for error messages).

    Examples
    --------
    >>> import thx.tensor as T
    >>> A, B, D, E = T.matrices('A', 'B', 'D', 'E')
    >>> C = A + B
    >>> C.name = 'C'
    >>> print(min_informative_str(C + (D + E)))
    A. Elemwise{add,no_inplace}
     B. C
     C. Elemwise{add,no_inplace}
      D. D
      E. E
    """
    tags: dict[int, str] = {}
    lines: list[str] = []
    stack: list[tuple[Any, int]] = [(obj, indent_level)]
    while stack:
        o, level = stack.pop()
        indent = " " * level
        if id(o) in tags:
            lines.append(f"{indent}<{tags[id(o)]}>")
            continue
        tag = char_from_number(len(tags))
        tags[id(o)] = tag
        children: list[Any] = []
        if hasattr(o, "__array__") and not isinstance(o, Variable):
            name = "<ndarray>"
        elif getattr(o, "name", None) is not None:
            name = o.name
        elif getattr(o, "owner", None) is not None:
            name = str(o.owner.op)
            children = o.owner.inputs
        else:
            name = str(o)
        lines.append(f"{indent}{tag}. {name}")
        stack.extend((c, level + 1) for c in reversed(children))
    return "\n".join(lines)


def var_descriptor(obj: Any) -> str:
    """A one-line string fully specifying how a variable is computed (Theano's format).

    Examples
    --------
    >>> import thx.tensor as T
    >>> x = T.dscalar('x')
    >>> var_descriptor(x * x)
    'A=Elemwise{mul,no_inplace}(B=x,<B>)'
    """
    tags: dict[int, str] = {}
    parts: list[str] = []
    # Stack of tokens: an object to describe, or a literal string to emit.
    stack: list[Any] = [("obj", obj)]
    while stack:
        kind, o = stack.pop()
        if kind == "str":
            parts.append(o)
            continue
        if id(o) in tags:
            parts.append(f"<{tags[id(o)]}>")
            continue
        tag = char_from_number(len(tags))
        tags[id(o)] = tag
        if hasattr(o, "__array__") and not isinstance(o, Variable):
            arr = np.ascontiguousarray(o)
            parts.append(f"{tag}=<ndarray:strides=[{','.join(str(s) for s in arr.strides)}],"
                         f"digest={hashlib.md5(arr.tobytes()).hexdigest()}>")
        elif getattr(o, "owner", None) is not None:
            parts.append(f"{tag}={o.owner.op}(")
            todo: list[Any] = [("str", ")")]
            for k, i in enumerate(reversed(o.owner.inputs)):
                todo.append(("obj", i))
                if k != len(o.owner.inputs) - 1:
                    todo.append(("str", ","))
            stack.extend(todo)
        elif getattr(o, "name", None) is not None:
            parts.append(f"{tag}={o.name}")
        elif isinstance(o, Variable):
            parts.append(f"{tag}=thx_var{{type={o.type}}}")
        else:
            parts.append(f"{tag}={o}")
    return "".join(parts)
