"""The `inline-subexpressions` pass: subexpressions replaced by their definitions where used."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from spikec.errors import EquationError
from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Module
from spikec.ir.expression import Expr, Name, Statement, identifiers, substitute_names, walk
from spikec.ir.model import (ConnectOp, EquationOp, EventOp, MemberOp, MonitorOp, ObjectOp,
                             PathwayOp, RegularOp, SynapsesOp, VariableOp)
from spikec.ir.model_state_update import StateUpdateOp
from spikec.passes.pass_base import ModulePass, PassContext, option

CONSTANT_OVER_DT = "constant over dt"
# Brian updates "constant over dt" subexpressions in its `before_start` slot, before anything
# else of the step. The model IR's first slot is `start`; the smallest order puts the update first.
BEFORE_START_ORDER = -(2 ** 31)


@dataclass(frozen=True)
class InlineSubexpressions(ModulePass):
    """Substitute each subexpression (`model.equation` of kind "subexpression") into every
    expression and statement of its object that uses it, then remove it.

    Subexpressions are resolved in dependency order, so one that uses another is substituted
    fully; a cycle (`a = b`, `b = a`) is an error naming the cycle. A use inside statements gets
    the value at that point of the code, which is what Brian computes (it re-evaluates a
    subexpression after any statement that changes what it depends on).

    Kept in place (the equation and its variable): summed variables (`(summed)`, lowered with the
    synapses), and subexpressions something outside the object's code reads: a `model.monitor`
    recording them, or another object's code naming them (`I_post` in synapses). Uses inside the
    object are inlined all the same. With `keep-all`, nothing is removed.

    "constant over dt" subexpressions follow Brian: the variable becomes a parameter, and a new
    `model.regular @subexpression_update {when = "start", order = -2147483648}` computes it once
    per time step before anything else runs (Brian's `before_start` slot), in dependency order.
    Uses elsewhere then read the parameter.
    """

    name: ClassVar[str] = "inline-subexpressions"
    summary: ClassVar[str] = "substitute subexpressions into the code that uses them"
    statistics: ClassVar[dict[str, str]] = {
        "inlined": "uses of a subexpression replaced by its definition",
        "removed": "subexpression equations (and their variables) removed",
        "kept": "subexpressions kept because a monitor or another object reads them",
        "constant-over-dt": "'constant over dt' subexpressions turned into updated parameters",
    }
    keep_all: bool = option(False, "inline uses but keep every subexpression's equation")

    def apply(self, ctx: PassContext, module: Module) -> None:
        external = _externally_read(module)
        for owner in module.ops:
            if isinstance(owner, ObjectOp):
                self._object(ctx, owner, external.get(owner.sym_name, set()))

    def _object(self, ctx: PassContext, owner: ObjectOp, external: set[str]) -> None:
        definitions = substituted_subexpressions(owner, include_constant_over_dt=True)
        if not definitions:
            return
        variables = owner.variables()
        constant = [n for n in definitions if CONSTANT_OVER_DT in _flags(variables[n])]
        inlined = {n: tree for n, tree in definitions.items() if n not in constant}
        for op in list(owner.body.ops):
            if isinstance(op, EquationOp) and op.sym_name in definitions:
                continue
            ctx.count("inlined", _substitute_in(op, inlined))
        equations = {op.sym_name: op for op in owner.members(EquationOp)}
        if constant:
            self._constant_over_dt(ctx, owner, constant, definitions, equations)
        for name in inlined:
            if name in external or self.keep_all:
                equations[name].attributes["expr"] = definitions[name]
                ctx.count("kept")
                continue
            owner.body.erase(equations[name])
            owner.body.erase(variables[name])
            ctx.count("removed")

    def _constant_over_dt(self, ctx: PassContext, owner: ObjectOp, names: list[str],
                          definitions: dict[str, Expr], equations: dict[str, EquationOp]) -> None:
        """Brian's SubexpressionUpdater: parameters computed at the start of every step."""
        code = tuple(Statement(n, "=", definitions[n]) for n in names)
        taken = {op.sym_name for op in owner.members(RegularOp)}
        symbol, count = "subexpression_update", 1
        while symbol in taken:
            symbol, count = f"subexpression_update_{count}", count + 1
        regular = RegularOp.create(attributes={
            "sym_name": SymbolRef(symbol), "clock": owner.attributes["clock"], "when": "start",
            "order": BEFORE_START_ORDER, "code": code})
        owner.body.insert_before(equations[names[0]], regular)
        for name in names:
            owner.body.erase(equations[name])
            variable = owner.variables()[name]
            flags = tuple(f for f in _flags(variable) if f != CONSTANT_OVER_DT)
            variable.attributes.pop("read_only", None)
            variable.attributes["role"] = "parameter"
            if flags:
                variable.attributes["flags"] = flags
            else:
                variable.attributes.pop("flags", None)
            ctx.count("constant-over-dt")


def substituted_subexpressions(owner: ObjectOp, include_constant_over_dt: bool = False
                               ) -> dict[str, Expr]:
    """The object's subexpressions (not summed ones), each with the subexpressions it uses
    substituted, in dependency order. "constant over dt" ones are treated as parameters (their
    names are not substituted into others) unless `include_constant_over_dt`, where they are
    listed too, with the others substituted into them. Raises EquationError on a cycle."""
    variables = owner.variables()
    raw = {op.sym_name: op.attributes["expr"] for op in owner.members(EquationOp)
           if op.attributes["kind"] == "subexpression"
           and "summed" not in _flags(variables.get(op.sym_name))}
    substitutable = {n for n in raw if CONSTANT_OVER_DT not in _flags(variables.get(n))}
    order = _dependency_order(owner, raw)
    resolved: dict[str, Expr] = {}
    for name in order:
        tree = substitute_names(raw[name], {n: resolved[n] for n in identifiers(raw[name])
                                            if n in substitutable and n in resolved})
        if name in substitutable or include_constant_over_dt:
            resolved[name] = tree
    return {n: resolved[n] for n in order if n in resolved}


def _dependency_order(owner: ObjectOp, raw: dict[str, Expr]) -> list[str]:
    """Subexpression names, each after those it uses (depth-first); cycles are errors."""
    order: list[str] = []
    state: dict[str, str] = {}

    def visit(name: str, path: list[str]) -> None:
        if state.get(name) == "done":
            return
        if state.get(name) == "active":
            cycle = path[path.index(name):] + [name]
            raise EquationError(
                f"@{owner.sym_name}: the subexpressions {' -> '.join(cycle)} depend on each "
                "other in a cycle", hint="define at least one of them without the others")
        state[name] = "active"
        for used in sorted(identifiers(raw[name]) & set(raw)):
            visit(used, path + [name])
        state[name] = "done"
        order.append(name)

    for name in raw:
        visit(name, [])
    return order


def _substitute_in(op: MemberOp, definitions: dict[str, Expr]) -> int:
    """Replace subexpression names in `op`'s code; return how many uses were replaced."""
    if not definitions:
        return 0
    count = 0

    def tree(expr: Expr) -> Expr:
        nonlocal count
        used = identifiers(expr) & set(definitions)
        if not used:
            return expr
        count += sum(_count_names(expr, name) for name in used)
        return substitute_names(expr, definitions)

    def code(statements: Any) -> tuple:
        return tuple(Statement(s.target, s.op, tree(s.expr), s.span, s.target_span)
                     for s in statements)

    attributes = op.attributes
    if isinstance(op, EquationOp):
        attributes["expr"] = tree(attributes["expr"])
    elif isinstance(op, EventOp):
        attributes["condition"] = tree(attributes["condition"])
        if "code" in attributes:
            attributes["code"] = code(attributes["code"])
        refractory = attributes.get("refractory")
        if refractory is not None and not isinstance(refractory, (int, float)):
            attributes["refractory"] = tree(refractory)
    elif isinstance(op, (RegularOp, PathwayOp, StateUpdateOp)):
        attributes["code"] = code(attributes["code"])
    elif isinstance(op, ConnectOp):
        for key in ("condition", "p", "n", "j"):
            value = attributes.get(key)
            if value is not None and not isinstance(value, (int, float, tuple)):
                attributes[key] = tree(value)
    return count


def _count_names(expr: Expr, name: str) -> int:
    return sum(1 for node in walk(expr) if isinstance(node, Name) and node.id == name)


def _externally_read(module: Module) -> dict[str, set[str]]:
    """Per object name, its variable names read from outside its own code: by monitors, and
    by synapses (`x_pre`, `x_post`, and the target's names without suffix)."""
    found: dict[str, set[str]] = {}
    for op in module.ops:
        if isinstance(op, MonitorOp):
            found.setdefault(op.attributes["source"].name, set()).update(
                op.attributes.get("variables", ()))
        if isinstance(op, SynapsesOp):
            used = set()
            for member in op.body.ops:
                if isinstance(member, MemberOp):
                    for expr in member.expressions():
                        used |= identifiers(expr)
            source, target = op.attributes["source"].name, op.attributes["target"].name
            found.setdefault(source, set()).update(n[:-4] for n in used if n.endswith("_pre"))
            found.setdefault(target, set()).update(n[:-5] for n in used if n.endswith("_post"))
            found[target].update(n for n in used if n not in op.variables())
    return found


def _flags(variable: VariableOp | None) -> tuple:
    return tuple(variable.attributes.get("flags", ())) if variable is not None else ()
