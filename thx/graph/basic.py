"""The graph IR: Variable, Constant, Apply, and the walks over them.

Every walk here is iterative: graphs thousands of nodes deep are normal
(a 5000-op elementwise chain, a gradient of it) and must not hit Python's
recursion limit.
"""

from __future__ import annotations

import contextlib
import gc
import threading
import weakref
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from thx.config import config
from thx.graph import trace


class Node:
    """Base of graph nodes (Apply and Variable), as in Theano."""


class Variable(Node):
    """A symbolic value: the output of an Apply node, or a graph input.

    Parameters
    ----------
    type : Type
        What values this variable may hold.
    owner : Apply, optional
        The node that computes it (None for a graph input).
    index : int, optional
        Position of this variable in ``owner.outputs``.
    name : str, optional
        A name for printing.
    """

    __count = 0

    def __init__(self, type, owner: Apply | None = None, index: int | None = None,
                 name: str | None = None) -> None:
        self.type = type
        self.owner = owner
        self.index = index
        self.name = name
        self.tag = _Tag()
        self.tag.__dict__["_type"] = type  # a test value set on the tag is converted to it
        Variable.__count += 1
        self.auto_name = "auto_" + str(Variable.__count)

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        if self.owner is not None:
            op = self.owner.op
            if len(self.owner.outputs) == 1:
                return str(op) + ".0"
            return f"{op}.{self.index}"
        return f"<{self.type}>"

    def __repr__(self) -> str:
        return str(self)

    def clone(self) -> Variable:
        """A new, ownerless variable of the same type and name."""
        cp = self.__class__(self.type, None, None, self.name)
        cp.tag = self.tag.copy()
        return cp

    def get_parents(self) -> list[Node]:
        return [self.owner] if self.owner is not None else []

    def eval(self, inputs_to_values: dict | None = None) -> Any:
        """Compile and run a function computing this variable.

        Parameters
        ----------
        inputs_to_values : dict, optional
            Maps input variables to the values to use.

        Examples
        --------
        >>> import thx.tensor as T
        >>> x = T.dscalar('x')
        >>> (x + 1).eval({x: 2.0})
        array(3.)
        """
        # the graph layer's one upward import: eval() compiles its graph (Theano's Variable.eval)
        from thx.compile.function import function

        inputs_to_values = inputs_to_values or {}
        keys = list(inputs_to_values)
        cache = self.tag.__dict__.setdefault("_eval_cache", {})
        key = tuple(id(k) for k in keys)
        if key not in cache:
            cache[key] = function(keys, self, on_unused_input="ignore")
        return cache[key](*[inputs_to_values[k] for k in keys])

    def __getstate__(self):
        d = self.__dict__.copy()
        tag = d.get("tag")
        if tag is not None and "_eval_cache" in tag.__dict__:
            t = tag.copy()
            t.__dict__.pop("_eval_cache", None)
            d["tag"] = t
        return d

    def __copy__(self) -> Variable:
        cp = object.__new__(type(self))  # what copy.copy did before __reduce_ex__ below
        cp.__dict__.update(self.__getstate__())
        return cp

    def __reduce_ex__(self, protocol):
        # pickle recurses once per graph level (variable -> owner -> input -> ...) and dies
        # near 200 levels.  The first variable of a graph that pickle meets lists every
        # variable it depends on in topological order instead; those are then pickled
        # one level deep each (their owner's inputs are already in pickle's memo).
        pending = _pending()
        if self.owner is None or pending.pop(self, None) is not None:
            return object.__reduce_ex__(self, protocol)
        order: list[Any] = []
        for node in io_toposort((), [self]):
            order.extend(v for v in node.inputs + node.outputs if v.owner is not None)
        end = _EndOfGraph(order)
        for v in order:
            pending[v] = end
        # order ends with self: pickle's memo makes the two one object
        return _last, (order + [end],)


def _pending():
    """Variables a graph listing is about to pickle one level deep (this thread)."""
    d = getattr(_PICKLING, "pending", None)
    if d is None:
        d = _PICKLING.pending = weakref.WeakKeyDictionary()
    return d


class _EndOfGraph:
    """Last item of a graph listing: when pickle reaches it, the listing is done, and the
    variables it did not need (already pickled earlier) stop being pending."""

    def __init__(self, order: list) -> None:
        self.order = order

    def __reduce__(self):
        pending = _pending()
        for v in self.order:
            if pending.get(v) is self:
                del pending[v]
        return _nothing, ()


def _nothing() -> None:
    return None


_PICKLING = threading.local()


def _last(variables: list) -> Variable:
    """Unpickling helper: the variable a graph listing was made for."""
    return variables[-2]


class Constant(Variable):
    """A variable with a fixed value, known when the graph is built.

    Parameters
    ----------
    type : Type
    data : Any
        The value, already filtered by ``type``.
    name : str, optional
    """

    def __init__(self, type, data: Any, name: str | None = None) -> None:
        super().__init__(type, None, None, name)
        self.data = type.filter(data)

    def signature(self) -> tuple:
        """What makes two constants interchangeable (used to merge them)."""
        return (self.type, self.type.data_signature(self.data))

    def clone(self) -> Constant:
        cp = self.__class__(self.type, self.data, self.name)
        cp.tag = self.tag.copy()
        return cp

    def __str__(self) -> str:
        if self.name is not None:
            return self.name
        return f"{type(self).__name__}{{{self.data}}}"


class Apply(Node):
    """One application of an Op to input variables, producing outputs.

    Parameters
    ----------
    op : Op
    inputs : list of Variable
    outputs : list of Variable
        Ownerless variables; they become owned by this node.
    """

    def __init__(self, op, inputs: Sequence[Variable], outputs: Sequence[Variable]) -> None:
        self.op = op
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.tag = _Tag()
        for i, out in enumerate(self.outputs):
            if out.owner is not None and (out.owner is not self or out.index != i):
                raise ValueError(f"output {i} of {op} already belongs to another node")
            out.owner = self
            out.index = i
        trace.record(self.outputs)
        for hook in NODE_HOOKS:  # compute_test_value installs one (thx/graph/test_value.py)
            hook(self)

    def __str__(self) -> str:
        return f"{self.op}({', '.join(str(i) for i in self.inputs)})"

    __repr__ = __str__

    @property
    def out(self) -> Variable:
        """The single output of this node."""
        if len(self.outputs) != 1:
            raise AttributeError(f"{self.op} has {len(self.outputs)} outputs; use .outputs")
        return self.outputs[0]

    @property
    def nin(self) -> int:
        return len(self.inputs)

    @property
    def nout(self) -> int:
        return len(self.outputs)

    def get_parents(self) -> list[Node]:
        return list(self.inputs)

    def clone_with_new_inputs(self, inputs: Sequence[Variable], strict: bool = True) -> Apply:
        """A node of the same op on ``inputs`` (rebuilt through make_node if types differ)."""
        if all(a.type == b.type for a, b in zip(inputs, self.inputs)):
            new = Apply(self.op, inputs, [o.clone() for o in self.outputs])
            return new
        new = self.op.make_node(*inputs)
        for a, b in zip(new.outputs, self.outputs):
            trace.inherit(b, a)
        if strict:
            for a, b in zip(new.outputs, self.outputs):
                if a.type != b.type and not b.type.is_super(a.type):
                    raise TypeError(f"cloning {self.op} with new inputs changed its output type "
                                    f"from {b.type} to {a.type}")
        return new


# Called with each new Apply node once its outputs are set (empty unless a debugging aid is on).
NODE_HOOKS: list = []


class _Tag:
    """A free-form attribute bag (Theano's ``variable.tag``).

    A variable's tag knows the variable's type (``_type``): a ``test_value``
    set on it is converted to that type, as in Theano.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name == "test_value":
            vtype = self.__dict__.get("_type")
            if vtype is not None:
                value = vtype.filter(value)
        self.__dict__[name] = value

    def copy(self) -> _Tag:
        t = _Tag()
        t.__dict__.update(self.__dict__)
        return t


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large graph is built or rewritten.

    The collector runs after every few hundred new objects and walks all live
    ones, so building a graph of n nodes (each several objects) triggers
    collections whose total cost grows with n: a third of the time of
    ``grad`` on a 15,000-node chain.  Graph building makes few garbage
    cycles; they are collected as usual once the collector is back on.
    Nested uses are free.
    """
    if not gc.isenabled():
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


# ---------------------------------------------------------------- graph walks

def io_toposort(inputs: Iterable[Variable], outputs: Iterable[Variable]) -> list[Apply]:
    """Apply nodes between ``inputs`` and ``outputs`` in a topological order.

    Iterative depth-first post-order, so the order is deterministic and the
    walk never recurses per graph level.
    """
    stop = set(inputs)
    order: list[Apply] = []
    done: set[Apply] = set()
    for out in outputs:
        if out in stop or out.owner is None or out.owner in done:
            continue
        stack: list[tuple[Apply, int]] = [(out.owner, 0)]
        entered = {out.owner}
        while stack:
            node, i = stack[-1]
            if i < len(node.inputs):
                stack[-1] = (node, i + 1)
                inp = node.inputs[i]
                if inp in stop:
                    continue
                parent = inp.owner
                if parent is not None and parent not in done and parent not in entered:
                    entered.add(parent)
                    stack.append((parent, 0))
            else:
                stack.pop()
                done.add(node)
                order.append(node)
    return order


def toposort(outputs: Iterable[Variable]) -> list[Apply]:
    """All Apply nodes computing ``outputs``, in a topological order."""
    return io_toposort((), outputs)


def ancestors(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """Every variable that ``outputs`` depend on (outputs included)."""
    blockers = set(blockers)
    seen: set[Variable] = set()
    order: list[Variable] = []
    stack = list(outputs)[::-1]
    while stack:
        v = stack.pop()
        if v in seen:
            continue
        seen.add(v)
        order.append(v)
        if v.owner is not None and v not in blockers:
            stack.extend(reversed(v.owner.inputs))
    return order


def graph_inputs(outputs: Iterable[Variable], blockers: Iterable[Variable] = ()) -> list[Variable]:
    """The root variables (no owner, or blocked) that ``outputs`` depend on."""
    blockers = set(blockers)
    return [v for v in ancestors(outputs, blockers) if v.owner is None or v in blockers]


inputs = graph_inputs  # Theano's name: theano.gof.graph.inputs


def variables(ins: Iterable[Variable], outs: Iterable[Variable]) -> list[Variable]:
    """Variables on paths from ``ins`` to ``outs``."""
    ins = list(ins)
    seen = set(ins)
    result = list(ins)
    for node in io_toposort(ins, outs):
        for v in node.inputs + node.outputs:
            if v not in seen:
                seen.add(v)
                result.append(v)
    for o in outs:
        if o not in seen:
            seen.add(o)
            result.append(o)
    return result


def is_in_ancestors(node: Apply, target: Apply) -> bool:
    """True if ``target`` is an ancestor node of ``node``."""
    return any(v.owner is target for v in ancestors(node.inputs))


def clone_replace(outputs: Sequence[Variable], replace: dict | None = None,
                  copy_inputs: bool = False) -> list[Variable]:
    """Copy the graph computing ``outputs``, substituting variables.

    Parameters
    ----------
    outputs : list of Variable
    replace : dict, optional
        ``{old_variable: new_variable}``; ``old_variable`` and everything only
        it computes are not copied.
    copy_inputs : bool
        Also copy the root inputs (default: share them).

    Returns
    -------
    list of Variable
        The copied outputs.
    """
    memo: dict[Variable, Variable] = dict(replace or {})
    order = io_toposort(list(memo), outputs)
    for node in order:
        if all(o in memo for o in node.outputs):
            continue
        for v in node.inputs:
            if v not in memo:
                if copy_inputs and v.owner is None and not isinstance(v, Constant):
                    memo[v] = v.clone()
                else:
                    memo[v] = v
        new_inputs = [memo[v] for v in node.inputs]
        if all(a is b for a, b in zip(new_inputs, node.inputs)):
            for o in node.outputs:
                memo.setdefault(o, o)
            continue
        new = node.clone_with_new_inputs(new_inputs, strict=False)
        for o, n in zip(node.outputs, new.outputs):
            n.name = o.name
            memo.setdefault(o, n)
    result = []
    for o in outputs:
        if o not in memo:
            memo[o] = o.clone() if (copy_inputs and o.owner is None and not isinstance(o, Constant)) else o
        result.append(memo[o])
    return result


def clone(ins: Sequence[Variable], outs: Sequence[Variable]) -> tuple[list[Variable], list[Variable]]:
    """Copy a graph with fresh inputs: returns ``(new_inputs, new_outputs)``."""
    memo = {i: i.clone() for i in ins}
    memo_all: dict[Variable, Variable] = dict(memo)
    for node in io_toposort(ins, outs):
        new_inputs = [memo_all.setdefault(v, v) for v in node.inputs]
        new = Apply(node.op, new_inputs, [o.clone() for o in node.outputs])
        for o, n in zip(node.outputs, new.outputs):
            n.name = o.name
            memo_all[o] = n
    return [memo[i] for i in ins], [memo_all.get(o, o) for o in outs]


# ------------------------------------------------------------ literals
# How a plain value (a number, an array, a list) becomes a graph variable.  The graph layer has no
# array type of its own: thx/tensor/var.py installs ``as_tensor_variable`` here when it loads, so
# layers below tensor (the gradient core) can accept literals without importing tensor.
_as_variable_hook: list = []


def as_variable(x: Any) -> Variable:
    """``x`` as a graph variable: variables pass through the installed converter, literals become
    constants (``thx.tensor.as_tensor_variable`` once ``thx.tensor`` is loaded)."""
    if _as_variable_hook:
        return _as_variable_hook[0](x)
    if isinstance(x, Variable):
        return x
    raise TypeError(f"cannot turn {type(x).__name__} {x!r} into a graph variable: no converter "
                    f"installed (import thx.tensor)")


# ------------------------------------------------------------ short printed forms
# The printers (thx/printing/) build on these; the graph layer uses them for its own messages.

# Theano's LeafPrinter prints these variable names as TeX symbols.
GREEK = dict(alpha="\\alpha", beta="\\beta", gamma="\\gamma", delta="\\delta", epsilon="\\epsilon")


def constant_text(data: Any) -> str:
    """A constant's value as printed, long values shortened (``'[0 1 2 ... 9]'``)."""
    s = str(data)
    if len(s) > 20:
        s = s[:10].strip() + " ... " + s[-5:].strip()
    return s


def leaf_str(v: Variable) -> str:
    """How ``pp`` prints a graph leaf: a constant's value, a name, or ``<type>``."""
    if isinstance(v, Constant):
        if config.print_constants == "short" and v.name is None and hasattr(v, "data"):
            return constant_text(v.data)
        return str(v)
    if v.name is not None:
        return GREEK.get(v.name, v.name)
    return f"<{v.type}>"


def describe(v: Variable) -> str:
    """A one-level printed form of ``v``: its op's ``pprint`` of its inputs' short forms."""
    node = v.owner
    if node is None:
        return leaf_str(v)
    ins = [leaf_str(i) if i.owner is None else str(i) for i in node.inputs]
    printer = getattr(node.op, "pprint", None)
    s = printer(node, ins) if printer is not None else f"{node.op}({', '.join(ins)})"
    return s if len(node.outputs) == 1 else f"{s}[{v.index}]"
