"""The `check-units` pass: dimensional consistency of a model module, from the IR's own data."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction
from typing import ClassVar

from spikec.errors import DimensionMismatchError, ModelSyntaxError
from spikec.ir.core import Module, Op
from spikec.ir.expression import (BinaryOp, BoolOp, Call, Compare, Expr, Name, Number, Statement,
                                  UnaryOp, format_expression)
from spikec.ir.model import (EquationOp, EventOp, ObjectOp, PathwayOp, RegularOp, SynapsesOp)
from spikec.ir.model_inputs import TimedArrayOp
from spikec.ir.model_state_update import StateUpdateOp
from spikec.ir.types import Type
from spikec.passes.pass_base import ModulePass, PassContext
from spikec.units import DIMENSIONLESS, Dimension

TIME = Dimension(time=1)
NOISE = Dimension(time=Fraction(-1, 2))
BOOLEAN = "boolean"
_DIMENSIONLESS_FUNCTIONS = {"exp", "log", "log10", "expm1", "log1p", "exprel", "sin", "cos",
                            "tan", "sinh", "cosh", "tanh", "arcsin", "arccos", "arctan", "int",
                            "rand", "randn", "poisson"}
_SAME_FUNCTIONS = {"abs", "floor", "ceil", "clip"}


@dataclass(frozen=True)
class CheckUnits(ModulePass):
    """Re-check the dimensions of every equation, event condition and code, refractory
    expression, pathway code, `run_regularly` code and state update of a model module, from the
    dimensions on its `model.variable` and `model.constant` ops.

    The frontend checks the same rules when it builds the IR; this pass gives hand-written or
    transformed model IR the same checks. Rules: `+ - %`, comparisons and `clip`/`abs`/...
    need equal dimensions; `exp`, `log`, ... need dimensionless arguments; a dimensioned base
    needs a constant exponent; dx/dt = expr needs expr in x's unit per second; `=`, `+=`, `-=`
    need the target's dimension, `*=`, `/=` a dimensionless value; conditions must be boolean;
    a refractory expression is a time or a condition. `t`, `dt` are times, `xi` has dimension
    s^-1/2. Temporaries of a `model.state_update` take the dimension of their first value. The
    module is not changed; the first mismatch is an error naming the object, op and expression.
    """

    name: ClassVar[str] = "check-units"
    summary: ClassVar[str] = "check the dimensional consistency of model code"
    statistics: ClassVar[dict[str, str]] = {"checked": "expressions and statements checked"}

    def apply(self, ctx: PassContext, module: Module) -> None:
        for owner in module.ops:
            if isinstance(owner, ObjectOp):
                checked = _ObjectChecker(module, owner).check()
                ctx.statistics["checked"] += checked  # a check changes nothing


class _ObjectChecker:
    def __init__(self, module: Module, owner: ObjectOp):
        self.owner = owner
        self.names: dict[str, tuple[Dimension, str]] = {}
        if isinstance(owner, SynapsesOp):
            source = module.lookup(owner.attributes["source"])
            target = module.lookup(owner.attributes["target"])
            self.names.update(self._of(target))
            self.names.update({f"{n}_pre": v for n, v in self._of(source).items()})
            self.names.update({f"{n}_post": v for n, v in self._of(target).items()})
        self.names.update(self._of(owner))
        self.timed_arrays = {op.sym_name: op.attributes["dim"]
                             for op in owner.members(TimedArrayOp)}
        self.count = 0
        self.op: Op | None = None

    @staticmethod
    def _of(owner: ObjectOp) -> dict[str, tuple[Dimension, str]]:
        names = {n: (op.dim, BOOLEAN if op.attributes["type"] == Type.BOOL else "number")
                 for n, op in owner.variables().items()}
        names.update({n: (op.attributes["dim"], "number") for n, op in owner.constants().items()})
        return names

    def check(self) -> int:
        for op in self.owner.body.ops:
            self.op = op
            if isinstance(op, EquationOp):
                var_dim, kind = self.names[op.sym_name]
                expected = var_dim / TIME if op.attributes["kind"] == "differential" else var_dim
                what = f"the {op.attributes['kind']} equation of '{op.sym_name}'"
                if kind == BOOLEAN:
                    self.condition(op.attributes["expr"], what)
                else:
                    self.expect(op.attributes["expr"], expected, what)
            elif isinstance(op, EventOp):
                self.condition(op.attributes["condition"], f"the condition of event '{op.sym_name}'")
                self.code(op.attributes.get("code", ()))
                refractory = op.attributes.get("refractory")
                if refractory is not None and not isinstance(refractory, (int, float)):
                    dim, kind = self.infer(refractory)
                    if kind != BOOLEAN and dim != TIME:
                        self.fail(refractory, f"the refractory period '{format_expression(refractory)}'"
                                  f" must be a time or a condition, not '{dim}'", dim, TIME)
            elif isinstance(op, (RegularOp, PathwayOp, StateUpdateOp)):
                self.code(op.attributes["code"])
        return self.count

    # -- rules -------------------------------------------------------------------------------
    def fail(self, expr: Expr | None, message: str, *dims: Dimension) -> None:
        raise DimensionMismatchError(f"@{self.owner.sym_name}: {message}", *dims,
                                     location=self.op.location if self.op else None,
                                     hint="check the units of the names used (model.variable "
                                     "and model.constant 'dim')")

    def expect(self, expr: Expr, expected: Dimension, what: str) -> None:
        self.count += 1
        dim, _ = self.infer(expr)
        if dim != expected:
            self.fail(expr, f"{what}: '{format_expression(expr)}' has dimension '{dim}', but "
                      f"should have '{expected}'", dim, expected)

    def condition(self, expr: Expr, what: str) -> None:
        self.count += 1
        if self.infer(expr)[1] != BOOLEAN:
            raise ModelSyntaxError(f"@{self.owner.sym_name}: {what} must be a condition, but "
                                   f"'{format_expression(expr)}' is not boolean",
                                   self.op.location if self.op else None)

    def code(self, statements: tuple[Statement, ...]) -> None:
        temporaries: dict[str, tuple[Dimension, str]] = {}
        for statement in statements:
            self.count += 1
            value_dim, value_kind = self.infer(statement.expr, temporaries)
            if statement.target.startswith("_") and statement.target not in self.names:
                temporaries[statement.target] = (value_dim, value_kind)
                continue
            target_dim, target_kind = self.names[statement.target]
            if target_kind == BOOLEAN and statement.op == "=":
                if value_kind != BOOLEAN:
                    self.condition(statement.expr, f"the value assigned to '{statement.target}'")
                continue
            expected = DIMENSIONLESS if statement.op in ("*=", "/=") else target_dim
            if value_dim != expected:
                self.fail(statement.expr, f"in '{statement}', the right side has dimension "
                          f"'{value_dim}', but '{statement.op}' on '{statement.target}' needs "
                          f"'{expected}'", value_dim, expected)

    def infer(self, expr: Expr, temporaries: dict | None = None) -> tuple[Dimension, str]:
        """(dimension, kind) of `expr`; kind is 'boolean' or 'number'."""
        if isinstance(expr, Number):
            return DIMENSIONLESS, BOOLEAN if isinstance(expr.value, bool) else "number"
        if isinstance(expr, Name):
            return self.name(expr.id, temporaries or {})
        if isinstance(expr, UnaryOp):
            dim, kind = self.infer(expr.operand, temporaries)
            return (DIMENSIONLESS, BOOLEAN) if expr.op == "not" else (dim, "number")
        if isinstance(expr, (Compare, BoolOp)):
            left, right = self.infer(expr.left, temporaries), self.infer(expr.right, temporaries)
            if isinstance(expr, Compare) and left[0] != right[0]:
                self.fail(expr, f"cannot compare '{format_expression(expr.left)}' ('{left[0]}') "
                          f"with '{format_expression(expr.right)}' ('{right[0]}')", left[0], right[0])
            return DIMENSIONLESS, BOOLEAN
        if isinstance(expr, Call):
            return self.call(expr, [self.infer(a, temporaries)[0] for a in expr.args])
        left, right = self.infer(expr.left, temporaries)[0], self.infer(expr.right, temporaries)[0]
        if expr.op in ("+", "-", "%"):
            if left != right:
                self.fail(expr, f"the operands of '{expr.op}' in '{format_expression(expr)}' have "
                          f"different dimensions: '{left}' and '{right}'", left, right)
            return left, "number"
        if expr.op == "*":
            return left * right, "number"
        if expr.op in ("/", "//"):
            return left / right, "number"
        return self.power(expr, left, right), "number"

    def name(self, name: str, temporaries: dict) -> tuple[Dimension, str]:
        if name in temporaries:
            return temporaries[name]
        if name in self.names:
            return self.names[name]
        if name in ("t", "dt", "lastupdate"):
            return TIME, "number"
        if name == "xi" or name.startswith("xi_"):
            return NOISE, "number"
        return DIMENSIONLESS, "number"  # pi, e, inf; unknown names are the verifier's business

    def power(self, expr: BinaryOp, base: Dimension, exponent: Dimension) -> Dimension:
        if not exponent.is_dimensionless:
            self.fail(expr, f"the exponent in '{format_expression(expr)}' must be dimensionless",
                      exponent)
        if base.is_dimensionless:
            return DIMENSIONLESS
        value = self.constant(expr.right)
        if value is None:
            self.fail(expr, f"'{format_expression(expr.left)}' has dimension '{base}', so its "
                      "exponent must be a constant number", base)
        return base ** value

    def constant(self, expr: Expr) -> float | None:
        if isinstance(expr, Number):
            return float(expr.value)
        if isinstance(expr, UnaryOp) and expr.op == "-":
            value = self.constant(expr.operand)
            return None if value is None else -value
        if isinstance(expr, BinaryOp) and expr.op in ("+", "-", "*", "/"):
            left, right = self.constant(expr.left), self.constant(expr.right)
            if left is None or right is None or (expr.op == "/" and right == 0):
                return None
            return {"+": left + right, "-": left - right, "*": left * right,
                    "/": left / (right or 1)}[expr.op]
        return None

    def call(self, expr: Call, args: list[Dimension]) -> tuple[Dimension, str]:
        if expr.func in self.timed_arrays:
            if args[0] != TIME:
                self.fail(expr, f"the first argument of '{expr.func}' must be a time in "
                          f"'{format_expression(expr)}'", args[0], TIME)
            return self.timed_arrays[expr.func], "number"
        if expr.func in _DIMENSIONLESS_FUNCTIONS:
            for arg_expr, dim in zip(expr.args, args):
                if not dim.is_dimensionless:
                    self.fail(expr, f"the argument of '{expr.func}' must be dimensionless, but "
                              f"'{format_expression(arg_expr)}' has dimension '{dim}'", dim)
            return DIMENSIONLESS, "number"
        if expr.func in _SAME_FUNCTIONS:
            if any(dim != args[0] for dim in args[1:]):
                self.fail(expr, f"the arguments of '{expr.func}' must have the same dimension",
                          *args)
            return args[0], "number"
        if expr.func == "sqrt":
            return args[0] ** 0.5, "number"
        if expr.func == "timestep":
            # A literal is a time in seconds there (the integrate pass writes refractory periods so).
            if any(dim != TIME and self.constant(arg) is None for arg, dim in zip(expr.args, args)):
                self.fail(expr, f"the arguments of 'timestep' must be times in "
                          f"'{format_expression(expr)}'", *args)
        return DIMENSIONLESS, "number"  # sign, timestep, user functions
