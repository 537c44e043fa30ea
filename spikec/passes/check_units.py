"""The `check-units` pass: dimensional consistency of a model module, from the IR's own data."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from spikec.errors import SourceLocation
from spikec.ir.core import Module, Op
from spikec.ir.dimension_rules import (BOOLEAN, FLOAT, INTEGER, TIME, NameInfo, builtin_name,
                                       check_condition, check_dimension, check_refractory,
                                       check_statement, infer)
from spikec.ir.expression import Span, Statement
from spikec.ir.functions import MODEL_IR_FUNCTIONS, DimensionRule, FunctionSignature
from spikec.ir.model import EquationOp, EventOp, ObjectOp, PathwayOp, RegularOp, SynapsesOp
from spikec.ir.model_inputs import TimedArrayOp
from spikec.ir.model_state_update import StateUpdateOp
from spikec.ir.printer import describe_op
from spikec.ir.types import Type
from spikec.passes.pass_base import ModulePass, PassContext


@dataclass(frozen=True)
class CheckUnits(ModulePass):
    """Re-check the dimensions of every equation, event condition and code, refractory
    expression, pathway code, `run_regularly` code and state update of a model module, from the
    dimensions on its `model.variable` and `model.constant` ops.

    The rules are the frontend's own (`spikec.ir.dimension_rules`, which the frontend applies when
    it builds the IR); this pass gives hand-written or transformed model IR the same checks, with
    names resolved from the IR: the object's variables, constants and timed arrays (in synapses
    also the target's names, and `x_pre`/`x_post`), `t`, `dt`, the noise terms `xi*`, and `pi`,
    `e`, `inf`. Two model-IR conventions: a number literal in `timestep(...)` is a time in
    seconds (the integrate pass writes numeric refractory periods so), and the temporaries of a
    `model.state_update` (`_v`) take the dimension of the value assigned to them. The module is
    not changed; the first mismatch is an error naming the expression, and pointing at the op and
    its object (`@G in file.ir, line 5`).
    """

    name: ClassVar[str] = "check-units"
    summary: ClassVar[str] = "check the dimensional consistency of model code"
    statistics: ClassVar[dict[str, str]] = {"checked": "expressions and statements checked"}

    def apply(self, ctx: PassContext, module: Module) -> None:
        for owner in module.ops:
            if isinstance(owner, ObjectOp):
                checked = _check_object(_ModelNames(module, owner), owner)
                ctx.statistics["checked"] += checked  # a check changes nothing


def _check_object(names: _ModelNames, owner: ObjectOp) -> int:
    """Check every piece of code of `owner`; the number of expressions and statements checked."""
    checked = 0
    for op in owner.body.ops:
        at = _AtOp(owner, op)
        if isinstance(op, EquationOp):
            variable = names.resolve(op.sym_name)
            kind = op.attributes["kind"]
            what = f"the {kind} equation of '{op.sym_name}'"
            if variable.kind == BOOLEAN:
                check_condition(op.attributes["expr"], names, at, what)
            else:
                expected = variable.dim / TIME if kind == "differential" else variable.dim
                check_dimension(op.attributes["expr"], expected, names, at, what)
            checked += 1
        elif isinstance(op, EventOp):
            check_condition(op.attributes["condition"], names, at,
                            f"the condition of event '{op.sym_name}'")
            checked += 1 + _check_code(op.attributes.get("code", ()), names, at)
            refractory = op.attributes.get("refractory")
            if refractory is not None and not isinstance(refractory, (int, float)):
                check_refractory(refractory, names, at, "the refractory period")
                checked += 1
        elif isinstance(op, (RegularOp, PathwayOp, StateUpdateOp)):
            checked += _check_code(op.attributes["code"], names, at)
    return checked


def _check_code(statements: tuple[Statement, ...], names: _ModelNames, at: _AtOp) -> int:
    """Statements in order; an assignment to a new `_name` defines a temporary of the block."""
    names.temporaries.clear()
    for statement in statements:
        if statement.target.startswith("_") and statement.target not in names.names:
            value = infer(statement.expr, names, at)
            names.temporaries[statement.target] = NameInfo(statement.target, value.dim,
                                                           value.kind, "temporary")
        else:
            check_statement(statement, names, at)
    return len(statements)


class _ModelNames:
    """The names code of one model-IR object may use: check-units' `Resolver`."""

    def __init__(self, module: Module, owner: ObjectOp):
        self.names: dict[str, NameInfo] = {}
        if isinstance(owner, SynapsesOp):
            source = module.lookup(owner.attributes["source"])
            target = module.lookup(owner.attributes["target"])
            self._add(target, "{}")
            self._add(source, "{}_pre")
            self._add(target, "{}_post")
        self._add(owner, "{}")
        self.functions = {op.sym_name: FunctionSignature(
            op.sym_name, len(op.shape), len(op.shape), DimensionRule.TIMED_ARRAY,
            result_dim=op.attributes["dim"]) for op in owner.members(TimedArrayOp)}
        self.temporaries: dict[str, NameInfo] = {}

    def _add(self, obj: ObjectOp, spelling: str) -> None:
        for name, op in obj.variables().items():
            type_ = op.attributes["type"]
            kind = BOOLEAN if type_ == Type.BOOL else FLOAT if type_.is_float else INTEGER
            self.names[spelling.format(name)] = NameInfo(spelling.format(name), op.dim, kind,
                                                         "variable")
        for name, op in obj.constants().items():
            value = op.attributes["value"]
            kind = (BOOLEAN if isinstance(value, bool) else INTEGER if isinstance(value, int)
                    else FLOAT)
            self.names[spelling.format(name)] = NameInfo(spelling.format(name),
                                                         op.attributes["dim"], kind, "constant",
                                                         value)

    def resolve(self, name: str) -> NameInfo | None:
        return self.temporaries.get(name) or self.names.get(name) or builtin_name(name)

    def function(self, name: str) -> FunctionSignature | None:
        if name in self.names:
            return None
        return self.functions.get(name) or MODEL_IR_FUNCTIONS.get(name)


@dataclass(frozen=True)
class _AtOp:
    """Where check-units' errors point: at the op holding the code, named with its object (code
    in model IR keeps no offsets into the file, so a tree's span is not used)."""

    owner: ObjectOp
    op: Op

    def location(self, span: Span | None) -> SourceLocation | None:
        where = f"@{self.owner.sym_name}"
        at = self.op.location
        if at is None:
            line = describe_op(self.op)
            return SourceLocation(line, 1, 1, where, len(line))
        return SourceLocation(at.text, at.line, at.column,
                              f"{where} in {at.owner}" if at.owner else where, at.length)
