"""Which Apply nodes an XLA instruction came from: the compiled HLO text read back through the named scopes.

Each node's lowering runs inside ``jax.named_scope("<OpClass>#<n>")``
(``thx/lowering/program.py``), so every HLO instruction carries its node in
its ``op_name`` metadata.  A fusion of several nodes is split in proportion
to a cost estimate of its instructions (output elements; a dot times its
contracted size; a reduction its input size); an instruction XLA added (a
copy, a split reduction: no metadata) takes the node of the nearest
instruction using it, else of the one it reads.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

__all__ = ["Hlo"]

_INSTR = re.compile(r"^\s*(?:ROOT\s+)?%([\w.\-]+)\s*=\s*(.*)$")
_COMP = re.compile(r"^(?:ENTRY\s+)?%([\w.\-]+)\s.*\{\s*$")
_OP_NAME = re.compile(r'op_name="([^"]*)"')
_SCOPE = re.compile(r"([A-Za-z_]\w*#\d+)")
_DIMS = re.compile(r"\[([\d,]*)\]")
_MOVES = {"copy", "copy-start", "copy-done", "bitcast", "tuple", "get-tuple-element", "transpose"}
_FREE = {"parameter", "constant", "bitcast", "get-tuple-element", "tuple", "reshape", "broadcast",
         "copy-start", "copy-done", "iota"}


class Hlo:
    """A compiled module's instructions: which Apply nodes each came from, and their costs."""

    def __init__(self, text: str) -> None:
        self.instr: dict[str, tuple[str, str, list[str], str]] = {}  # name -> (opcode, shape, operands, rest)
        self.comp_of: dict[str, list[str]] = defaultdict(list)  # computation -> its instructions
        self.users: dict[str, list[str]] = defaultdict(list)  # instruction -> those reading it
        comp = None
        m = re.match(r"HloModule\s+([\w.\-]+)", text)
        self.module = m.group(1) if m else ""  # the name the profiler's events give (hlo_module)
        for line in text.splitlines():
            m = _COMP.match(line)
            if m and " = " not in line.split("{")[0]:
                comp = m.group(1)
                continue
            m = _INSTR.match(line)
            if m is None:
                continue
            shape, opcode, rest = _split_instr(m.group(2))
            operands = re.findall(r"%([\w.\-]+)", rest.split(")", 1)[0])
            self.instr[m.group(1)] = (opcode, shape, operands, rest)
            for o in operands:
                self.users[o].append(m.group(1))
            if comp is not None:
                self.comp_of[comp].append(m.group(1))
        self._cache: dict[str, dict[Any, float]] = {}

    def split(self, name: str) -> dict[Any, float]:
        """Apply node (None: unknown) -> share of the time of instruction ``name``."""
        got = self._cache.get(name)
        if got is not None:
            return got
        weights: dict[Any, float] = defaultdict(float)
        item = self.instr.get(name)
        if item is not None and item[0] == "fusion":
            m = re.search(r"calls=%([\w.\-]+)", item[3])
            for sub in self._fused(m.group(1) if m else ""):
                node = _node_of(self.instr[sub][3])
                if node is not None:  # an instruction XLA added has no node: the fusion's owner pays
                    weights[node] += self._cost(sub)
        if not weights or sum(weights.values()) == 0:
            weights = defaultdict(float, {self._owner(name): 1.0})
        total = sum(weights.values())
        got = self._cache[name] = {n: w / total for n, w in weights.items()}
        return got

    def _owner(self, name: str) -> Any:
        """The node of an instruction; one XLA added (no metadata) takes the node of the nearest
        instruction with one: a copy (moving a value) that of the value it copies, when a node
        made it (else, a copied argument, that of its user); other instructions (a split
        reduction) that of their user first."""
        seen, frontier = set(), [name]
        for _ in range(6):
            nxt = []
            for n in frontier:
                if n in seen or n not in self.instr:
                    continue
                seen.add(n)
                node = _node_of(self.instr[n][3])
                if node is not None:
                    return node
                if self.instr[n][0] in _MOVES:
                    nxt += self.instr[n][2] + self.users.get(n, [])
                else:
                    nxt += self.users.get(n, []) + self.instr[n][2]
            frontier = nxt
        return None

    def _fused(self, comp: str) -> list[str]:
        out = []
        for sub in self.comp_of.get(comp, []):
            opcode, _, _, rest = self.instr[sub]
            m = re.search(r"calls=%([\w.\-]+)", rest) if opcode == "fusion" else None
            out.extend(self._fused(m.group(1)) if m else [sub])
        return out

    def _cost(self, name: str) -> float:
        opcode, shape, operands, rest = self.instr[name]
        if opcode in _FREE:
            return 0.0
        n = _elements(shape)
        if opcode == "dot" and operands:
            lhs = _dims(self.instr.get(operands[0], ("", "", [], ""))[1])
            m = re.search(r"lhs_contracting_dims=\{([\d,]*)\}", rest)
            for d in (m.group(1).split(",") if m and m.group(1) else []):
                n *= lhs[int(d)] if int(d) < len(lhs) else 1
        elif opcode in ("reduce", "reduce-window", "convolution") and operands:
            n = max(n, _elements(self.instr.get(operands[0], ("", "", [], ""))[1]))
        return float(max(n, 1))


def _split_instr(s: str) -> tuple[str, str, str]:
    """``shape opcode(rest`` of an instruction's right-hand side."""
    if s.startswith("("):  # a tuple shape: up to its closing parenthesis
        depth = 0
        for k, ch in enumerate(s):
            depth += ch == "("
            depth -= ch == ")"
            if depth == 0:
                break
        shape, tail = s[:k + 1], s[k + 1:].lstrip()
    else:
        shape, _, tail = s.partition(" ")
    opcode, _, rest = tail.partition("(")
    return shape, opcode.strip(), rest


def _dims(shape: str) -> list[int]:
    m = _DIMS.search(shape)
    return [int(d) for d in m.group(1).split(",") if d] if m else []


def _elements(shape: str) -> int:
    total = 0
    for m in _DIMS.finditer(shape):
        n = 1
        for d in m.group(1).split(","):
            n *= int(d) if d else 1
        total += n
    return total


def _node_of(rest: str) -> Any:
    """The outermost Apply node named in an instruction's ``op_name`` (None if none is)."""
    from thx.lowering.program import NODE_OF_SCOPE
    m = _OP_NAME.search(rest)
    if m is None:
        return None
    for scope in _SCOPE.findall(m.group(1)):
        node = NODE_OF_SCOPE.get(scope)
        if node is not None:
            return node
    return None
