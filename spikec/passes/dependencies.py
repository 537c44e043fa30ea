"""`DependencyGraph`: which code block of a model reads and writes which array, at which index.

The analysis behind `analyze-dependencies`, and the single source for scheduling, fusion and race
detection (`ctx.analysis(DependencyGraph, module)` computes it once per unchanged module).

A **block** is a piece of code that runs as one unit: an object's state update (before `integrate`:
each differential equation), an event's condition (the thresholder) and its code (the resetter),
a `run_regularly` operation, a synaptic pathway, a summed variable's expression, a `connect`
request, a monitor. An **array** is a stored variable of an object (`G.v`, `S.w`) or an event's
spike list (`G._spikespace`, `G._<event>space`, as `lower-to-kernels` names them). The graph
(`DependencyGraph.graph`, a networkx DiGraph) has an edge array -> block for each read and
block -> array for each write; the edge's `accesses` list says how (`Access`).

Every access has an **index**, the element the block's current iteration touches:

    own      the block's own element (a neuron of its group)
    synapse  the synapse a synaptic block iterates over
    pre      the synapse's source neuron  (`x_pre`)
    post     the synapse's target neuron  (`x_post`, or a plain name the synapse lacks)
    shared   the one element of a shared variable

Synaptic names resolve as in Brian: `x_pre` / `x_post`, and a plain name is the synapse's variable
or else the target's. Subexpressions are not arrays: a read of one is a read of what its
definition reads, at the same index. A compound assignment (`+=`, `-=`, `*=`, `/=`) reads the old
value too: it is listed as a read with `implicit = True`.

Writes at `pre`, `post` or `shared` from a block iterating synapses (and at `shared` from any
block) are where iterations may meet on one element: `DependencyGraph.races` lists them, and
`select-propagation` decides how each pathway keeps them correct.

On a kernel-IR module the same graph describes the step's kernels and spike-list clears instead
(`spikec/passes/kernel_dependencies.py`: indices `own`, `shared`, `indirect`, `append`, `space`,
`count`); `schedule` and `fuse-kernels` ask it there.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Iterator

import networkx as nx

from spikec.ir.core import Module, Op
from spikec.ir.expression import Expr, Name, Statement, walk
from spikec.ir.model import (ConnectOp, EquationOp, EventOp, MonitorOp, ObjectOp, PathwayOp,
                             RegularOp, SynapsesOp, VariableOp)
from spikec.ir.model_inputs import SpikeGeneratorOp
from spikec.ir.model_state_update import StateUpdateOp
from spikec.passes.kernel_dependencies import build_kernel_graph, is_kernel_module

INDICES = ("own", "pre", "post", "synapse", "shared")
# Roles of group variables that are not stored (the loop index `i`, the size `N`).
_UNSTORED_GROUP_ROLES = ("index", "constant", "subexpression")
_CONNECTIVITY = ("i", "j", "N_incoming", "N_outgoing", "N")
_BLOCK_KINDS = ("state_update", "equation", "refractoriness", "event_condition", "event_code",
                "regular", "pathway", "summed", "connect", "monitor", "spike_generator",
                "kernel", "clear_spikes")  # the last two: kernel IR


@dataclass(frozen=True, order=True)
class ArrayNode:
    """A stored variable (or spike list) `name` of object `owner`, printed `G.v`."""

    owner: str
    name: str

    def __str__(self) -> str:
        return f"{self.owner}.{self.name}"


@dataclass(frozen=True, order=True)
class BlockNode:
    """A code block: `kind` (one of `_BLOCK_KINDS`), its object `owner` (a monitor is its own
    owner) and a `name` unique among blocks of that kind and owner. Printed `S.pre`,
    `G.spike.condition`, `G.spike.code`, `G.state_update`, `G.v.equation`, `M`..."""

    kind: str
    owner: str
    name: str

    def __str__(self) -> str:
        if self.kind == "monitor":
            return self.owner
        suffix = {"event_condition": ".condition", "event_code": ".code",
                  "equation": ".equation", "clear_spikes": ".clear"}.get(self.kind, "")
        return f"{self.owner}.{self.name}{suffix}" if self.name else f"{self.owner}{suffix}"

    def describe(self) -> str:
        """The block in words, for messages: `the state update of G`, `pathway S.pre`."""
        phrases = {"state_update": "the state update of {o}", "equation": "the equation of {o}.{n}",
                   "refractoriness": "the refractoriness update of {o}",
                   "event_condition": "the condition of event {o}.{n}",
                   "event_code": "the code of event {o}.{n}", "regular": "run_regularly {o}.{n}",
                   "pathway": "pathway {o}.{n}", "summed": "summed variable {o}.{n}",
                   "connect": "{o}.{n}", "monitor": "monitor {o}",
                   "spike_generator": "the spike generator of {o}", "kernel": "kernel {o}.{n}",
                   "clear_spikes": "the clear of {o}.{n}"}
        return phrases[self.kind].format(o=self.owner, n=self.name)

    @property
    def iterates_synapses(self) -> bool:
        """Whether one iteration of this block is one synapse (pathways, summed variables and the
        code of synapses objects)."""
        return self.kind in ("pathway", "summed") or self.owner_is_synapses

    owner_is_synapses: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Access:
    """One read or write of `array` at `index` by `block`. For writes, `operator` is the
    statement's (`=`, `+=`, `-=`, `*=`, `/=`), `sum` for a summed variable, `emit` for an event
    filling its spike list. `statement` is the position of the statement in the block's code
    (None for accesses the block makes implicitly); `implicit` marks the read of the old value by
    a compound assignment."""

    block: BlockNode
    array: ArrayNode
    index: str
    mode: str                          # "read" or "write"
    operator: str | None = None
    statement: int | None = None
    implicit: bool = False

    @property
    def text(self) -> str:
        """`G.v@post`, and for writes with their operator `G.v@post +=`."""
        base = f"{self.array}@{self.index}"
        return f"{base} {self.operator}" if self.mode == "write" else base

    @property
    def is_accumulation(self) -> bool:
        """A write whose contributions commute and add up: `+=`, `-=`, a summed variable."""
        return self.mode == "write" and self.operator in ("+=", "-=", "sum")

    @property
    def may_race(self) -> bool:
        """Whether two iterations of the block may write this element: writes at `shared`, and
        at `pre`/`post` from blocks that iterate synapses."""
        if self.mode != "write" or self.block.kind == "connect":  # connect: built by the runtime
            return False
        if self.block.kind == "kernel":  # kernel IR: iterations meet where the index is not own
            return self.index in ("shared", "indirect")
        return self.index == "shared" or (self.block.iterates_synapses
                                          and self.index in ("pre", "post"))


class DependencyGraph:
    """The blocks of a model module and the arrays they access; see the module docstring.

    Queries (each returns sorted, deterministic results):
      blocks(kind, owner), arrays(), block_of(op), find(text), op_of(block)
      accesses(block, array, mode, index)    -- the general filter
      reads(block), writes(block)            -- one block's accesses
      readers(array, index), writers(array, index)
      feeds(writer, reader)                  -- arrays `writer` writes that `reader` reads
      conflicts(a, b)                        -- arrays both access, at least one writing
      races(block)                           -- writes two iterations may make to one element
      block_graph()                          -- blocks only; edge W -> R when R reads what W writes
      summary(block)                         -- (reads, writes) as sorted `G.v@post` strings
    """

    def __init__(self, module: Module):
        self.graph = nx.DiGraph()
        self._ops: dict[int, BlockNode] = {}
        # The edges' accesses again, by block and by array, so that queries need not scan.
        self._by_block: dict[BlockNode, list[Access]] = {}
        self._by_array: dict[ArrayNode, list[Access]] = {}
        if is_kernel_module(module):
            build_kernel_graph(module, self)
        else:
            _Builder(module, self).build()

    # -- building (used by _Builder) ----------------------------------------------------------
    def _add_block(self, block: BlockNode, op: Op | None) -> None:
        self.graph.add_node(block, node="block", op=op)
        if op is not None:
            self._ops.setdefault(id(op), block)

    def _add_access(self, access: Access) -> None:
        self.graph.add_node(access.array, node="array")
        edge = ((access.array, access.block) if access.mode == "read"
                else (access.block, access.array))
        data = self.graph.get_edge_data(*edge)
        if data is None:
            self.graph.add_edge(*edge, accesses=[], indices=set())
            data = self.graph.get_edge_data(*edge)
        if access not in data["accesses"]:
            data["accesses"].append(access)
            data["indices"].add(access.index)
            self._by_block.setdefault(access.block, []).append(access)
            self._by_array.setdefault(access.array, []).append(access)

    # -- queries --------------------------------------------------------------------------------
    def blocks(self, kind: str | None = None, owner: str | None = None) -> list[BlockNode]:
        return sorted(n for n, d in self.graph.nodes(data=True) if d["node"] == "block"
                      and kind in (None, n.kind) and owner in (None, n.owner))

    def arrays(self) -> list[ArrayNode]:
        return sorted(n for n, d in self.graph.nodes(data=True) if d["node"] == "array")

    def block_of(self, op: Op) -> BlockNode:
        """The block an op holds (for an event op: its condition block)."""
        try:
            return self._ops[id(op)]
        except KeyError:
            raise KeyError(f"{op.name} holds no code block of this graph") from None

    def op_of(self, block: BlockNode) -> Op | None:
        return self.graph.nodes[block]["op"]

    def find(self, text: str, kind: str | None = None) -> BlockNode:
        """The block printed as `text` (`S.pre`, `G.spike`...), of `kind` if given."""
        found = [b for b in self.blocks(kind) if str(b) == text]
        if len(found) != 1:
            raise KeyError(f"{len(found)} blocks are printed {text!r}"
                           + (f" (kinds: {', '.join(b.kind for b in found)})" if found else ""))
        return found[0]

    def accesses(self, block: BlockNode | None = None, array: ArrayNode | None = None,
                 mode: str | None = None, index: str | None = None) -> list[Access]:
        """Every access matching all the given filters, in block order then code order."""
        if block is not None:
            candidates: Iterable[Access] = self._by_block.get(block, ())
        elif array is not None:
            candidates = self._by_array.get(array, ())
        else:
            candidates = (a for accesses in self._by_block.values() for a in accesses)
        return sorted((a for a in candidates if array in (None, a.array)
                       and mode in (None, a.mode) and index in (None, a.index)), key=_access_key)

    def reads(self, block: BlockNode, index: str | None = None) -> list[Access]:
        return self.accesses(block=block, mode="read", index=index)

    def writes(self, block: BlockNode, index: str | None = None) -> list[Access]:
        return self.accesses(block=block, mode="write", index=index)

    def readers(self, array: ArrayNode, index: str | None = None) -> list[BlockNode]:
        return sorted({a.block for a in self.accesses(array=array, mode="read", index=index)})

    def writers(self, array: ArrayNode, index: str | None = None) -> list[BlockNode]:
        return sorted({a.block for a in self.accesses(array=array, mode="write", index=index)})

    def feeds(self, writer: BlockNode, reader: BlockNode) -> list[ArrayNode]:
        """Arrays `writer` writes and `reader` reads (`reader` must run after `writer` to see
        them): "does block B write something block A reads" is `feeds(B, A)`."""
        written = {a.array for a in self.writes(writer)}
        return sorted(written & {a.array for a in self.reads(reader)})

    def conflicts(self, a: BlockNode, b: BlockNode) -> list[ArrayNode]:
        """Arrays that `a` and `b` both access with at least one of them writing: the blocks
        cannot be reordered (or fused without care) when this is not empty."""
        a_reads, a_writes = ({x.array for x in self.reads(a)}, {x.array for x in self.writes(a)})
        b_reads, b_writes = ({x.array for x in self.reads(b)}, {x.array for x in self.writes(b)})
        return sorted((a_writes & (b_reads | b_writes)) | (b_writes & a_reads))

    def races(self, block: BlockNode) -> list[Access]:
        """Writes of `block` that two of its iterations may make to the same element."""
        return [a for a in self.writes(block) if a.may_race]

    def block_graph(self) -> nx.DiGraph:
        """Blocks only: an edge W -> R (with `arrays`) when R reads an array W writes."""
        result = nx.DiGraph()
        result.add_nodes_from(self.blocks())
        for array in self.arrays():
            for writer in self.writers(array):
                for reader in self.readers(array):
                    if writer != reader:
                        if not result.has_edge(writer, reader):
                            result.add_edge(writer, reader, arrays=[])
                        result.edges[writer, reader]["arrays"].append(array)
        return result

    def summary(self, block: BlockNode) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """(reads, writes) of `block` as sorted unique strings: `G.v@post`, `G.v@post +=`."""
        return (tuple(sorted({a.text for a in self.reads(block)})),
                tuple(sorted({a.text for a in self.writes(block)})))


def _access_key(access: Access) -> tuple:
    return (access.block, -1 if access.statement is None else access.statement,
            access.mode, access.array, access.index, access.operator or "")


def spike_list_name(event: str) -> str:
    """The array holding an event's spike list (`_spikespace`), as `lower-to-kernels` names it."""
    return f"_{event}space"


def pathway_delay_variable(pathway: PathwayOp) -> str:
    """The synaptic variable holding a pathway's per-synapse delays (Brian's names)."""
    return "delay" if pathway.sym_name == "pre" else f"{pathway.sym_name}_delay"


def expression_names(expr: Expr) -> list[str]:
    """The variable-like names `expr` uses (not called functions), in order."""
    return [node.id for node in walk(expr) if isinstance(node, Name)]


class Scope:
    """Resolves names of one object's code to (array, index) pairs, as Brian does."""

    def __init__(self, objects: dict[str, ObjectOp]):
        self.objects = objects

    def resolve(self, owner: ObjectOp, name: str, index: str | None = None
                ) -> list[tuple[ArrayNode, str]]:
        """The arrays the name `name` in code of `owner` stands for. `index` is the index of
        `owner`'s own elements (default: `synapse` for synapses, `own` for groups)."""
        return sorted(set(self._resolve(owner, name, index, frozenset())))

    def _resolve(self, owner: ObjectOp, name: str, index: str | None,
                 seen: frozenset) -> Iterator[tuple[ArrayNode, str]]:
        synaptic = isinstance(owner, SynapsesOp)
        own_index = index or ("synapse" if synaptic else "own")
        variables = owner.variables()
        if name in variables:
            yield from self._variable(owner, variables[name], own_index, seen)
        elif synaptic and own_index == "synapse":
            for suffix, side in (("_pre", "source"), ("_post", "target")):
                group = self.objects.get(owner.attributes[side].name)
                if name.endswith(suffix) and group is not None:
                    yield from self._resolve(group, name[:-len(suffix)], suffix[1:], seen)
                    return
            target = self.objects.get(owner.attributes["target"].name)
            if target is not None:
                yield from self._resolve(target, name, "post", seen)

    def _variable(self, owner: ObjectOp, variable: VariableOp, index: str,
                  seen: frozenset) -> Iterator[tuple[ArrayNode, str]]:
        name = variable.sym_name
        role = variable.attributes["role"]
        if role == "subexpression":
            key = (owner.sym_name, name)
            definition = subexpression_definition(owner, name)
            if definition is not None and key not in seen:
                for used in expression_names(definition):
                    yield from self._resolve(owner, used, index, seen | {key})
            return
        if role in _UNSTORED_GROUP_ROLES and not isinstance(owner, SynapsesOp):
            return
        shared = variable.attributes.get("shared", False)
        yield ArrayNode(owner.sym_name, name), "shared" if shared else index


def subexpression_definition(owner: ObjectOp, name: str) -> Expr | None:
    for op in owner.members(EquationOp):
        if op.sym_name == name and op.attributes["kind"] == "subexpression":
            return op.attributes["expr"]
    return None


def _flags(variable: VariableOp | None) -> tuple:
    return tuple(variable.attributes.get("flags", ())) if variable is not None else ()


class _Builder:
    """Walks a model module and records each block's accesses into a DependencyGraph."""

    def __init__(self, module: Module, graph: DependencyGraph):
        self.module = module
        self.graph = graph
        self.objects = {op.sym_name: op for op in module.ops if isinstance(op, ObjectOp)}
        self.scope = Scope(self.objects)

    def build(self) -> None:
        for op in self.module.ops:
            if isinstance(op, ObjectOp):
                self._object(op)
            elif isinstance(op, MonitorOp):
                self._monitor(op)

    # -- helpers ----------------------------------------------------------------------------
    def _block(self, kind: str, owner: ObjectOp | MonitorOp, name: str, op: Op | None) -> BlockNode:
        block = BlockNode(kind, owner.sym_name, name, isinstance(owner, SynapsesOp))
        self.graph._add_block(block, op)
        return block

    def _read(self, block: BlockNode, owner: ObjectOp, names: Iterable[str],
              statement: int | None = None, index: str | None = None) -> None:
        for name in names:
            for array, at in self.scope.resolve(owner, name, index):
                self.graph._add_access(Access(block, array, at, "read", None, statement))

    def _write(self, block: BlockNode, owner: ObjectOp, name: str, operator: str,
               statement: int | None = None, index: str | None = None) -> None:
        for array, at in self.scope.resolve(owner, name, index):
            if operator not in ("=", "sum", "emit"):
                self.graph._add_access(Access(block, array, at, "read", None, statement, True))
            self.graph._add_access(Access(block, array, at, "write", operator, statement))

    def _code(self, block: BlockNode, owner: ObjectOp, code: Iterable[Statement]) -> None:
        for position, statement in enumerate(code):
            self._read(block, owner, expression_names(statement.expr), position)
            if not statement.target.startswith("_"):  # `_x`: a state updater's temporary
                self._write(block, owner, statement.target, statement.op, position)

    def _spike_list(self, group: ObjectOp, event: str) -> ArrayNode:
        return ArrayNode(group.sym_name, spike_list_name(event))

    # -- blocks -----------------------------------------------------------------------------
    def _object(self, owner: ObjectOp) -> None:
        self._state_update(owner)
        for op in owner.body.ops:
            if isinstance(op, EventOp):
                self._event(owner, op)
            elif isinstance(op, RegularOp):
                block = self._block("regular", owner, op.sym_name, op)
                self._code(block, owner, op.attributes["code"])
            elif isinstance(op, PathwayOp):
                self._pathway(owner, op)
            elif isinstance(op, EquationOp) and "summed" in _flags(owner.variables().get(op.sym_name)):
                self._summed(owner, op)
            elif isinstance(op, ConnectOp):
                self._connect(owner, op)
            elif isinstance(op, SpikeGeneratorOp):
                block = self._block("spike_generator", owner, op.sym_name, op)
                self.graph._add_access(Access(block, self._spike_list(owner, op.sym_name),
                                              "own", "write", "emit"))

    def _state_update(self, owner: ObjectOp) -> None:
        variables = owner.variables()
        spike = next((op for op in owner.members(EventOp) if op.sym_name == "spike"), None)
        refractory = spike.attributes.get("refractory") if spike is not None else None
        updates = owner.members(StateUpdateOp)
        code: list[Statement] = list(updates[0].code) if updates else []
        if updates:
            block = self._block("state_update", owner, "state_update", updates[0])
            self._code(block, owner, code)
        else:  # before `integrate`: each clock-driven differential equation is a block
            for op in owner.members(EquationOp):
                if op.attributes["kind"] != "differential" or \
                        "event-driven" in _flags(variables.get(op.sym_name)):
                    continue
                block = self._block("equation", owner, op.sym_name, op)
                self._read(block, owner, expression_names(op.attributes["expr"]))
                self._write(block, owner, op.sym_name, "=")
        if refractory is not None and not any(s.target == "not_refractory" for s in code):
            # Brian's not_refractory update, made at the start of the state update.
            block = (self.graph.block_of(updates[0]) if updates
                     else self._block("refractoriness", owner, "not_refractory", None))
            names = ["t", "lastspike", "not_refractory"]
            if not isinstance(refractory, (int, float)):
                names += expression_names(refractory)
            self._read(block, owner, names)
            self._write(block, owner, "not_refractory", "=")
        if "not_refractory" in variables:
            unless = [n for n, v in variables.items() if "unless refractory" in _flags(v)]
            for block in self.graph.blocks(owner=owner.sym_name):
                if block.kind in ("state_update", "equation") and any(
                        a.array.name in unless for a in self.graph.writes(block)):
                    self._read(block, owner, ["not_refractory"])

    def _event(self, owner: ObjectOp, event: EventOp) -> None:
        name = event.sym_name
        condition = self._block("event_condition", owner, name, event)
        self._read(condition, owner, expression_names(event.attributes["condition"]))
        if name == "spike" and event.attributes.get("refractory") is not None:
            self._read(condition, owner, ["not_refractory"])
            self._write(condition, owner, "not_refractory", "=")
            self._write(condition, owner, "lastspike", "=")
        self.graph._add_access(Access(condition, self._spike_list(owner, name), "own", "write",
                                      "emit"))
        if event.attributes.get("code"):
            code = self._block("event_code", owner, name, None)
            self.graph.graph.nodes[code]["op"] = event
            self.graph._add_access(Access(code, self._spike_list(owner, name), "own", "read"))
            self._code(code, owner, event.attributes["code"])

    def _pathway(self, owner: ObjectOp, pathway: PathwayOp) -> None:
        block = self._block("pathway", owner, pathway.sym_name, pathway)
        side, index = (("source", "pre") if pathway.attributes["direction"] == "pre"
                       else ("target", "post"))
        group = self.objects.get(owner.attributes[side].name)
        if group is not None:
            self.graph._add_access(Access(block, self._spike_list(group, pathway.attributes["event"]),
                                          index, "read"))
        if "delay" not in pathway.attributes:
            self._read(block, owner, [pathway_delay_variable(pathway)])
        variables = owner.variables()
        for op in owner.members(EquationOp):  # event-driven variables are updated first
            if "event-driven" in _flags(variables.get(op.sym_name)):
                self._read(block, owner, expression_names(op.attributes["expr"]))
                self._write(block, owner, op.sym_name, "=")
        self._code(block, owner, pathway.attributes["code"])

    def _summed(self, owner: ObjectOp, equation: EquationOp) -> None:
        block = self._block("summed", owner, equation.sym_name, equation)
        self._read(block, owner, expression_names(equation.attributes["expr"]))
        base, _, side = equation.sym_name.rpartition("_")
        group = self.objects.get(owner.attributes["target" if side == "post" else "source"].name)
        if group is not None and side in ("pre", "post"):  # `g_post`: the target's `g`
            self._write(block, group, base, "sum", index=side)

    def _connect(self, owner: ObjectOp, connect: ConnectOp) -> None:
        position = len(self.graph.blocks("connect", owner.sym_name))
        block = self._block("connect", owner, f"connect_{position}", connect)
        for key in ("condition", "p", "n", "j"):
            value = connect.attributes.get(key)
            if value is not None and not isinstance(value, (int, float, tuple)):
                # `i` and `j` are the candidate pair here, not the synapses' arrays.
                self._read(block, owner, [n for n in expression_names(value) if n not in ("i", "j")])
        for name in _CONNECTIVITY:
            if name in owner.variables():
                self._write(block, owner, name, "=")

    def _monitor(self, monitor: MonitorOp) -> None:
        source = self.objects.get(monitor.attributes["source"].name)
        if source is None:
            return
        block = self._block("monitor", monitor, monitor.sym_name, monitor)
        kind = monitor.attributes["kind"]
        if kind in ("spike", "event", "rate"):
            event = monitor.attributes.get("event", "spike")
            own = "synapse" if isinstance(source, SynapsesOp) else "own"
            self.graph._add_access(Access(block, self._spike_list(source, event), own, "read"))
        self._read(block, source, monitor.attributes.get("variables", ()))


__all__ = ["INDICES", "Access", "ArrayNode", "BlockNode", "DependencyGraph", "Scope",
           "expression_names", "pathway_delay_variable", "spike_list_name"]
