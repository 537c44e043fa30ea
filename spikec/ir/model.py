"""The model IR: the network as the user described it, one op per element, before any lowering.

    model.clock @defaultclock {dt = 0.0001}
    model.group @G {size = 100, clock = @defaultclock, dtype = f64,
                    methods = ["exact", "euler", "heun"]} body() {
      model.variable @v {role = "state", dim = "m^2 kg s^-3 A^-1", flags = ["unless refractory"]} : f64
      model.variable @i {role = "index", dim = "1", read_only = true} : i32
      model.constant @tau {value = 0.01, dim = "s"}
      model.equation @v {kind = "differential", expr = "(El - v) / tau"}
      model.event @spike {condition = "v > vt", code = ["v = vr"], refractory = 0.005}
      model.regular @G_run_regularly_0 {clock = @defaultclock, when = "start", order = 0, code = [...]}
    }
    model.synapses @S {source = @G, target = @G, size = 0, clock = @defaultclock, ...} body() {
      ... variables, constants, equations as in a group ...
      model.pathway @pre {direction = "pre", event = "spike", code = ["v_post += w"], delay = 0.002}
      model.connect {condition = "i != j", p = 0.1, n = 1, skip_if_invalid = false}
    }
    model.monitor @spikemonitor {kind = "spike", source = @G, event = "spike", variables = [], ...}

Values are plain SI floats; each variable and constant records its dimension as text
(`m^2 kg s^-3 A^-1`, `1` for none). Code is kept as code trees (`spikec.ir.expression`) and
printed as quoted strings in canonical form, so a module prints and parses back to an equal one.
External names are resolved when the IR is built: every name an expression uses is a variable or
constant of its object (or, in synapses, `x_pre`/`x_post` of the neuron groups), a special name
(`t`, `dt`, `xi`...), or a default function; the verifier checks that.
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any, ClassVar

from spikec.ir.attributes import AttributeCodec, SymbolRef
from spikec.ir.core import Block, Op, Trait
from spikec.ir.dimension_rules import is_noise_name
from spikec.ir.expression import Expr, Name, Statement, format_expression, identifiers
from spikec.ir.expression_parser import parse_expression, parse_statements
from spikec.ir.functions import DEFAULT_CONSTANTS, DEFAULT_FUNCTIONS
from spikec.ir.registry import register_op
from spikec.ir.syntax import OpSyntax, ParsedOp
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext
from spikec.units import DIMENSIONLESS, Dimension

VARIABLE_ROLES = ("state", "parameter", "subexpression", "index", "constant", "lastspike",
                  "not_refractory", "delay")
EQUATION_KINDS = ("differential", "subexpression")
MONITOR_KINDS = ("spike", "event", "state", "rate")
SCHEDULE_SLOTS = ("start", "groups", "thresholds", "synapses", "resets", "end")
# Names model code may use without declaring them (besides the noise terms and default functions).
SPECIAL_NAMES = frozenset({"t", "dt", *DEFAULT_CONSTANTS})


# ---- attribute codecs: richer values in attributes ------------------------------------------
def format_dimension(dim: Dimension) -> str:
    return str(dim)


_DIMENSION_TERM = re.compile(r"(m|kg|s|A|K|mol|cd)(?:\^(-?[0-9.]+))?\Z")
_SYMBOL_FIELDS = dict(zip(Dimension.SYMBOLS, ("length", "mass", "time", "current", "temperature",
                                               "amount", "luminosity")))


def parse_dimension(text: str) -> Dimension:
    """Inverse of `format_dimension`: `m^2 kg s^-3 A^-1`, `1`."""
    if text.strip() == "1":
        return DIMENSIONLESS
    exponents: dict[str, Fraction] = {}
    for term in text.split():
        match = _DIMENSION_TERM.match(term)
        if match is None:
            raise ValueError(f"{term!r} in dimension {text!r} is not a base symbol with an "
                             "optional ^exponent (m kg s A K mol cd)")
        symbol, exponent = match.groups()
        exponents[_SYMBOL_FIELDS[symbol]] = Fraction(exponent) if exponent else Fraction(1)
    return Dimension(**exponents)


def _decode_expression(value: Any) -> Expr:
    if not isinstance(value, str):
        raise ValueError(f"expected an expression string, found {value!r}")
    return parse_expression(value)


def _decode_code(value: Any) -> tuple[Statement, ...]:
    if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"expected a list of statement strings, found {value!r}")
    return tuple(statement for text in value for statement in parse_statements(text))


def _decode_expression_or_number(value: Any) -> Expr | float | int | tuple:
    """Numbers and index lists stay as they are; strings are expressions."""
    if isinstance(value, (int, float, tuple)) and not isinstance(value, bool):
        return value
    return _decode_expression(value)


def _encode_expression_or_number(value: Any) -> Any:
    return value if isinstance(value, (int, float, tuple)) else format_expression(value)


DIMENSION = AttributeCodec(format_dimension, lambda v: parse_dimension(_require_str(v)))
EXPRESSION = AttributeCodec(format_expression, _decode_expression)
CODE = AttributeCodec(lambda statements: tuple(str(s) for s in statements), _decode_code)
EXPRESSION_OR_NUMBER = AttributeCodec(_encode_expression_or_number, _decode_expression_or_number)


def _require_str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"expected a string, found {value!r}")
    return value


# ---- op classes -------------------------------------------------------------------------------
class ModelOp(Op):
    """Base of model ops, spelled ``model.op @name {attributes} : type body() {...}``.

    The symbol (if the op has one) is the only item; `type_attribute` (if any) is shown after the
    colon; every other attribute is in the dict. `required` lists attributes that must be there."""

    required: ClassVar[tuple[str, ...]] = ()
    type_attribute: ClassVar[str | None] = None
    has_symbol: ClassVar[bool] = True

    def syntax(self) -> OpSyntax:
        shown = {k: v for k, v in self.attributes.items() if k not in ("sym_name",
                                                                       self.type_attribute)}
        items = [self.attributes["sym_name"]] if self.has_symbol else []
        types = [self.attributes[self.type_attribute]] if self.type_attribute else []
        return OpSyntax(items=items, attributes=shown, types=types)

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "ModelOp":
        parsed.expect_item_count(1 if cls.has_symbol else 0)
        types = parsed.expect_types(1 if cls.type_attribute else 0)
        attributes = dict(parsed.attributes)
        if cls.has_symbol:
            attributes["sym_name"] = parsed.item(0, SymbolRef, "the op's @name")
        if cls.type_attribute:
            attributes[cls.type_attribute] = types[0]
        return cls.create(attributes=attributes, regions=parsed.regions)

    @property
    def sym_name(self) -> str:
        return self.attributes["sym_name"].name

    def verify(self, ctx: VerifyContext) -> None:
        for key in self.required:
            ctx.require(key in self.attributes, self, f"attribute {key!r} is missing")


@register_op
class ClockOp(ModelOp):
    """``model.clock @defaultclock {dt = 0.0001}``: a time step in seconds."""

    name = "model.clock"
    traits = frozenset({Trait.SYMBOL})
    required = ("dt",)

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        dt = self.attributes["dt"]
        ctx.require(isinstance(dt, float) and dt > 0, self, "dt must be a positive float")


class ObjectOp(ModelOp):
    """An object with variables and code (a group of neurons, or synapses); its `body` holds
    the variable, constant, equation, event, pathway and connect ops."""

    traits = frozenset({Trait.SYMBOL})
    region_names = ("body",)
    required = ("size", "clock", "dtype", "methods")

    @property
    def body(self) -> Block:
        return self.regions[0].block

    def members(self, kind: type[Op]) -> list:
        return [op for op in self.body.ops if isinstance(op, kind)]

    def variables(self) -> dict[str, "VariableOp"]:
        return {op.sym_name: op for op in self.members(VariableOp)}

    def constants(self) -> dict[str, "ConstantOp"]:
        return {op.sym_name: op for op in self.members(ConstantOp)}

    def known_names(self, ctx: VerifyContext) -> set[str]:
        """Names code in this object may use: its variables, constants and functions."""
        functions = {op.sym_name for op in self.members(FunctionMemberOp)}
        return set(self.variables()) | set(self.constants()) | functions

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(isinstance(self.attributes["size"], int) and self.attributes["size"] >= 0,
                    self, "size must be a non-negative integer")
        ctx.symbol(self, self.attributes["clock"], ClockOp, "a model.clock")
        ctx.require(self.attributes["dtype"] in (Type.F64, Type.F32), self,
                    "dtype must be f64 or f32")
        seen: set[str] = set()
        for op in self.body.ops:
            ctx.require(isinstance(op, MemberOp), op, f"{op.name} cannot be inside {self.name}")
            if op.has_symbol and op.kind_key() in seen:
                ctx.fail(op, f"'{op.sym_name}' is defined twice in @{self.sym_name}")
            if op.has_symbol:
                seen.add(op.kind_key())
        known = self.known_names(ctx)
        for op in self.body.ops:
            op.verify_names(ctx, self, known)


@register_op
class GroupOp(ObjectOp):
    """``model.group @G {size, clock, dtype, methods} body() {...}``: a group of neurons."""

    name = "model.group"


@register_op
class SynapsesOp(ObjectOp):
    """``model.synapses @S {source = @G, target = @H, ...} body() {...}``: synapses from one
    group to another. `size` is 0 until connectivity is built; code may use `x_pre`, `x_post`
    and (unsuffixed, after the synapse's own) the target's variables."""

    name = "model.synapses"
    required = ObjectOp.required + ("source", "target")

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        for end in ("source", "target"):
            group = ctx.symbol(self, self.attributes[end], ObjectOp, "a group")
            verify_range(ctx, self, f"{end}_range", group)

    def known_names(self, ctx: VerifyContext) -> set[str]:
        names = super().known_names(ctx)
        source = ctx.symbol(self, self.attributes["source"], ObjectOp, "a group")
        target = ctx.symbol(self, self.attributes["target"], ObjectOp, "a group")
        source_names = set(source.variables()) | set(source.constants())
        target_names = set(target.variables()) | set(target.constants())
        return (names | {f"{n}_pre" for n in source_names} | {f"{n}_post" for n in target_names}
                | target_names)


class MemberOp(ModelOp):
    """An op inside a group's or synapses' body."""

    def kind_key(self) -> str:
        return f"{type(self).__name__}:{self.sym_name}"

    def expressions(self) -> list[Expr]:
        """The code trees this op holds, for name checking."""
        return []

    def verify_names(self, ctx: VerifyContext, owner: ObjectOp, known: set[str]) -> None:
        for expr in self.expressions():
            for node_name in identifiers(expr):
                if node_name in known or node_name in SPECIAL_NAMES:
                    continue
                if node_name in DEFAULT_FUNCTIONS or is_noise_name(node_name):
                    continue
                ctx.fail(self, f"'{node_name}' is neither a variable nor a constant of "
                         f"@{owner.sym_name}", "declare it with model.variable or model.constant")


class FunctionMemberOp(MemberOp):
    """A member that the object's code may call as a function (`model.timed_array`)."""


@register_op
class VariableOp(MemberOp):
    """``model.variable @v {role, dim, flags?, shared?, read_only?} : f64``."""

    name = "model.variable"
    required = ("role", "dim")
    type_attribute = "type"
    attribute_codecs = {"dim": DIMENSION}

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(self.attributes["role"] in VARIABLE_ROLES, self,
                    f"role must be one of {', '.join(VARIABLE_ROLES)}")
        ctx.require(isinstance(self.attributes["type"], Type), self, "type missing")

    @property
    def dim(self) -> Dimension:
        return self.attributes["dim"]


@register_op
class ConstantOp(MemberOp):
    """``model.constant @tau {value = 0.01, dim = "s"}``: an external name's value, frozen when
    the IR was built (SI units)."""

    name = "model.constant"
    required = ("value", "dim")
    attribute_codecs = {"dim": DIMENSION}

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(isinstance(self.attributes["value"], (int, float)), self,
                    "value must be a number")


@register_op
class EquationOp(MemberOp):
    """``model.equation @v {kind = "differential", expr = "..."}``: dv/dt = expr, or the
    subexpression v = expr."""

    name = "model.equation"
    required = ("kind", "expr")
    attribute_codecs = {"expr": EXPRESSION}

    def expressions(self) -> list[Expr]:
        return [self.attributes["expr"]]

    def verify_names(self, ctx: VerifyContext, owner: ObjectOp, known: set[str]) -> None:
        ctx.require(self.attributes["kind"] in EQUATION_KINDS, self,
                    f"kind must be one of {', '.join(EQUATION_KINDS)}")
        variable = owner.variables().get(self.sym_name)
        ctx.require(variable is not None, self,
                    f"the equation's variable '{self.sym_name}' is not declared")
        super().verify_names(ctx, owner, known)


@register_op
class EventOp(MemberOp):
    """``model.event @spike {condition = "...", code = [...]?, refractory = 0.005 | "expr"?}``."""

    name = "model.event"
    required = ("condition",)
    attribute_codecs = {"condition": EXPRESSION, "code": CODE, "refractory": EXPRESSION_OR_NUMBER}

    def expressions(self) -> list[Expr]:
        found = [self.attributes["condition"]]
        found += _statement_trees(self.attributes.get("code", ()))
        refractory = self.attributes.get("refractory")
        if refractory is not None and not isinstance(refractory, (int, float)):
            found.append(refractory)
        return found


@register_op
class RegularOp(MemberOp):
    """``model.regular @name {clock, when, order, code}``: `run_regularly` code."""

    name = "model.regular"
    required = ("clock", "when", "order", "code")
    attribute_codecs = {"code": CODE}

    def expressions(self) -> list[Expr]:
        return _statement_trees(self.attributes["code"])

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.symbol(self, self.attributes["clock"], ClockOp, "a model.clock")
        ctx.require(self.attributes["when"] in SCHEDULE_SLOTS, self, "unknown schedule slot")


@register_op
class PathwayOp(MemberOp):
    """``model.pathway @pre {direction, event, code, delay?, max_delay?, min_delay?}``: what a
    source (`pre`) or target (`post`) event does to each of its synapses; no `delay` means one per
    synapse, the longest being `max_delay` (seconds, sizes the rings of the lowering), the
    shortest `min_delay` (seconds: a ring's sends then skip that many rows)."""

    name = "model.pathway"
    required = ("direction", "event", "code")
    attribute_codecs = {"code": CODE}

    def expressions(self) -> list[Expr]:
        return _statement_trees(self.attributes["code"])

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(self.attributes["direction"] in ("pre", "post"), self,
                    "direction must be 'pre' or 'post'")


@register_op
class ConnectOp(MemberOp):
    """``model.connect {condition?, i?, j?, p, n, skip_if_invalid}``: a `connect(...)` request."""

    name = "model.connect"
    has_symbol = False
    required = ("p", "n", "skip_if_invalid")
    attribute_codecs = {"condition": EXPRESSION, "p": EXPRESSION_OR_NUMBER,
                        "n": EXPRESSION_OR_NUMBER, "j": EXPRESSION_OR_NUMBER}

    def kind_key(self) -> str:
        return "connect"

    def expressions(self) -> list[Expr]:
        return [v for k, v in self.attributes.items() if k in ("condition", "p", "n", "j")
                and not isinstance(v, (int, float, tuple))]

    def verify_names(self, ctx: VerifyContext, owner: ObjectOp, known: set[str]) -> None:
        # Connect code sees i and j (and pre/post variables); it runs before synapses exist.
        super().verify_names(ctx, owner, known | {"i", "j"})


@register_op
class MonitorOp(ModelOp):
    """``model.monitor @M {kind, source, ...}``: kind `spike`/`event` (with `event`,
    `variables`, `record`), `state` (with `variables`, `record`, `clock`), or `rate`."""

    name = "model.monitor"
    traits = frozenset({Trait.SYMBOL})
    required = ("kind", "source")

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(self.attributes["kind"] in MONITOR_KINDS, self,
                    f"kind must be one of {', '.join(MONITOR_KINDS)}")
        source = ctx.symbol(self, self.attributes["source"], ObjectOp, "a group")
        verify_range(ctx, self, "source_range", source)
        for variable in self.attributes.get("variables", ()):
            ctx.require(variable in source.variables(), self,
                        f"@{source.sym_name} has no variable '{variable}'")


def verify_range(ctx: VerifyContext, op: Op, key: str, group: Op) -> None:
    """An optional subgroup range `key = [start, stop]` of `group`: 0 <= start < stop <= size."""
    value = op.attributes.get(key)
    if value is None:
        return
    size = group.attributes.get("size")
    ctx.require(isinstance(value, tuple) and len(value) == 2
                and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
                and 0 <= value[0] < value[1] <= size, op,
                f"{key} must be [start, stop] with 0 <= start < stop <= {size} "
                f"(the size of @{group.attributes['sym_name'].name}), not {value!r}")


def element_range(op: Op, key: str, group_size: int) -> tuple[int, int]:
    """(start, stop) of the subgroup `op` uses (`key`), the whole group without one."""
    value = op.attributes.get(key)
    return (0, group_size) if value is None else (value[0], value[1])


def _statement_trees(statements: Any) -> list[Expr]:
    """The expressions of a statement list, and the targets as names (they must exist too)."""
    trees: list[Expr] = []
    for statement in statements:
        trees.append(statement.expr)
        trees.append(Name(statement.target))
    return trees


__all__ = ["ClockOp", "GroupOp", "SynapsesOp", "VariableOp", "ConstantOp", "EquationOp",
           "EventOp", "RegularOp", "PathwayOp", "ConnectOp", "MonitorOp", "parse_dimension",
           "format_dimension", "verify_range", "element_range"]

from spikec.ir import model_state_update  # noqa: E402,F401  registers model.state_update
from spikec.ir import model_inputs  # noqa: E402,F401  registers model.timed_array, ...
