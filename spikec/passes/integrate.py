"""The `integrate` pass: each object's differential equations become one `model.state_update`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from spikec.errors import EquationError
from spikec.ir.core import Module
from spikec.ir.expression import (BinaryOp, BoolOp, Call, Compare, Expr, Name, Number, Statement,
                                  UnaryOp, identifiers, map_tree, substitute_names)
from spikec.ir.model import EquationOp, EventOp, ObjectOp
from spikec.ir.model_inputs import TimedArrayOp
from spikec.ir.model_state_update import StateUpdateOp
from spikec.passes.inline_subexpressions import substituted_subexpressions
from spikec.passes.integration_cache import default_integration_cache
from spikec.passes.pass_base import ModulePass, PassContext, option

if TYPE_CHECKING:  # the state updaters import sympy (~0.3 s): only when something is integrated
    from spikec.passes.state_updaters import DifferentialSystem

EVENT_DRIVEN = "event-driven"
SAME_METHOD = {"linear": "exact"}  # Brian's alias


@dataclass(frozen=True)
class Integrate(ModulePass):
    """Replace each object's differential equations by one `model.state_update` op holding the
    statements of one integration step (see docs/state-updaters.md).

    The method is the first of the object's `methods` attribute that can integrate its equations
    (Brian's default list is exact, euler, heun); a method that cannot (exact on non-linear or
    stochastic equations, euler with multiplicative noise...) is skipped, and when none can, the
    error names the object, its equations and each method's reason. The `method` option replaces
    every object's list by one method. Subexpressions are substituted first (a
    "constant over dt" one counts as a parameter); the derivative of an `(unless refractory)`
    variable is multiplied by `int(not_refractory)` and its final write only takes effect where
    `not_refractory` is true (op attribute `unless_refractory`, Brian's conditional write); with
    a refractory period, the step first updates `not_refractory` as Brian's state updater does.
    `(event-driven)` equations are left in place for the synapse lowering (see
    `event_driven_update`). Results come from the integration cache when the same equations were
    integrated before (`spikec/passes/integration_cache.py`): then sympy is not even imported.
    """

    name: ClassVar[str] = "integrate"
    summary: ClassVar[str] = "replace differential equations by state update code (exact, euler...)"
    statistics: ClassVar[dict[str, str]] = {
        "integrated": "objects whose differential equations became a model.state_update",
        "equations": "differential equations replaced",
        "fallbacks": "objects integrated by a later method than the first of their list",
    }
    method: str = option("", "use this method for every object instead of its `methods` list")

    def apply(self, ctx: PassContext, module: Module) -> None:
        for owner in module.ops:
            if isinstance(owner, ObjectOp):
                self._object(ctx, owner, module.lookup(owner.attributes["clock"]).attributes["dt"])

    def _object(self, ctx: PassContext, owner: ObjectOp, dt: float) -> None:
        equations = clock_driven_equations(owner)
        if not equations:
            return
        methods = (self.method,) if self.method else tuple(owner.attributes["methods"])
        trees = equation_trees(owner, equations)
        unless_refractory = _unless_refractory(owner)
        locally_constant = _locally_constant(owner, dt)

        def integrate() -> tuple[str, tuple[Statement, ...]]:
            from spikec.passes.state_updaters import DifferentialSystem
            system = DifferentialSystem.from_trees(f"@{owner.sym_name}", trees, unless_refractory)
            system.locally_constant = locally_constant
            integration = choose_and_integrate(system, methods)
            return integration.method, integration.code()

        cache = default_integration_cache()
        method, step = cache.get_or_integrate(
            cache.key(trees, unless_refractory, locally_constant, methods), integrate)
        code = refractory_code(owner) + specialize_not_refractory(step, unless_refractory)
        attributes = {"method": method, "code": code}
        conditional = [n for n in trees if n in unless_refractory]
        if conditional:
            attributes["unless_refractory"] = tuple(conditional)
        owner.body.insert_before(equations[0], StateUpdateOp.create(attributes=attributes))
        for equation in equations:
            owner.body.erase(equation)
        ctx.count("integrated")
        ctx.count("equations", len(equations))
        if SAME_METHOD.get(method, method) != SAME_METHOD.get(methods[0], methods[0]):
            ctx.count("fallbacks")


def clock_driven_equations(owner: ObjectOp) -> list[EquationOp]:
    """The object's differential equations that are integrated every step."""
    variables = owner.variables()
    return [op for op in owner.members(EquationOp) if op.attributes["kind"] == "differential"
            and EVENT_DRIVEN not in variables[op.sym_name].attributes.get("flags", ())]


def equation_trees(owner: ObjectOp, equations: list[EquationOp]) -> dict[str, Expr]:
    """The right-hand side of each of `equations`, with the object's subexpressions substituted."""
    definitions = substituted_subexpressions(owner)
    return {op.sym_name: substitute_names(op.attributes["expr"], definitions) for op in equations}


def _locally_constant(owner: ObjectOp, dt: float | None) -> frozenset[str]:
    """With the object's `dt`, its TimedArrays whose steps are whole multiples of dt count as
    constant over a step (Brian's `is_locally_constant`)."""
    if dt is None:
        return frozenset()
    return frozenset(op.sym_name for op in owner.members(TimedArrayOp)
                     if dt <= op.attributes["dt"] and (op.attributes["dt"] / dt).is_integer())


def differential_system(owner: ObjectOp, equations: list[EquationOp],
                        dt: float | None = None) -> DifferentialSystem:
    """The system of `equations` (see `equation_trees` and `_locally_constant`)."""
    from spikec.passes.state_updaters import DifferentialSystem
    system = DifferentialSystem.from_trees(f"@{owner.sym_name}", equation_trees(owner, equations),
                                           _unless_refractory(owner))
    system.locally_constant = _locally_constant(owner, dt)
    return system


def choose_and_integrate(system: DifferentialSystem, methods: tuple[str, ...]):
    """The first method of `methods` that applies (Brian's rule); EquationError if none does."""
    from spikec.passes.state_updaters import METHODS, UnsupportedEquations
    reasons = []
    for method in methods:
        function = METHODS.get(method)
        if function is None:
            raise EquationError(f"{system.owner}: unknown integration method '{method}'",
                                hint=f"use one of {', '.join(sorted(METHODS))}")
        try:
            integration = function(system)
        except UnsupportedEquations as reason:
            reasons.append(f"{method}: {reason}")
            continue
        integration.method = "exact" if method == "linear" else method
        return integration
    equations = "; ".join(system.texts[n] for n in system.names)
    if len(methods) == 1:
        message = f"{system.owner}: method '{methods[0]}' cannot integrate '{equations}': {reasons[0].split(': ', 1)[1]}"
    else:
        message = (f"{system.owner}: no integration method in [{', '.join(methods)}] can "
                   f"integrate '{equations}' ({'; '.join(reasons)})")
    raise EquationError(message, hint="choose a method that fits these equations with method=... "
                        "(euler or rk4 for non-linear deterministic equations, heun or milstein "
                        "for multiplicative noise); see docs/state-updaters.md")


def refractory_code(owner: ObjectOp) -> tuple[Statement, ...]:
    """Brian's update of `not_refractory` at the start of the state update, when the object
    has a refractory period: a time (`timestep(t - lastspike, dt) >= timestep(ref, dt)`) or a
    condition (`not_refractory = not_refractory or not (cond)`)."""
    if "not_refractory" not in owner.variables() or "lastspike" not in owner.variables():
        return ()
    spike = next((op for op in owner.members(EventOp) if op.sym_name == "spike"), None)
    refractory = spike.attributes.get("refractory") if spike is not None else None
    if refractory is None:
        return ()
    if not isinstance(refractory, (int, float)) and _is_condition(refractory, owner):
        value: Expr = BoolOp("or", Name("not_refractory"), UnaryOp("not", refractory))
    else:
        period = Number(float(refractory)) if isinstance(refractory, (int, float)) else refractory
        value = Compare(">=", Call("timestep", (BinaryOp("-", Name("t"), Name("lastspike")),
                                                Name("dt"))),
                        Call("timestep", (period, Name("dt"))))
    return (Statement("not_refractory", "=", value),)


def specialize_not_refractory(step: tuple[Statement, ...],
                              unless_refractory: frozenset[str]) -> tuple[Statement, ...]:
    """`step` with `int(not_refractory)` replaced by 1 in the statements whose value only matters
    where `not_refractory` holds: those that feed nothing but the conditional writes of
    `(unless refractory)` variables (where it is false, the write keeps the old value). Their
    coefficients (`exp(-dt*int(not_refractory)/tau)` from `exact`) then no longer depend on the
    element and `hoist-invariants` computes them once per launch, as Brian's code generation does
    by evaluating such expressions for each value of the boolean. A statement that also feeds a
    variable without the flag (a coupled system) keeps the factor. Where the factor was 1 the
    expression is the same (a division that is now invariant is no longer turned into a product
    by a reciprocal by `hoist-reciprocals`, so results can differ in the last bit)."""
    if not unless_refractory:
        return step
    needed: set[str] = set()  # names read by statements that matter for refractory elements
    keep = [False] * len(step)
    for k in range(len(step) - 1, -1, -1):
        statement = step[k]
        target = statement.target
        if target in needed or (not target.startswith("_") and target not in unless_refractory):
            keep[k] = True
            needed |= identifiers(statement.expr)
            if statement.op != "=":
                needed.add(target)

    def one(expr: Expr) -> Expr:
        if (isinstance(expr, Call) and expr.func == "int" and len(expr.args) == 1
                and isinstance(expr.args[0], Name) and expr.args[0].id == "not_refractory"):
            return Number(1)
        return expr

    return tuple(statement if kept else
                 Statement(statement.target, statement.op, map_tree(statement.expr, one),
                           statement.span, statement.target_span)
                 for statement, kept in zip(step, keep))


def _is_condition(expr: Expr, owner: ObjectOp) -> bool:
    if isinstance(expr, (Compare, BoolOp)) or (isinstance(expr, UnaryOp) and expr.op == "not"):
        return True
    if isinstance(expr, Number):
        return isinstance(expr.value, bool)
    if isinstance(expr, Name):
        variable = owner.variables().get(expr.id)
        return variable is not None and str(variable.attributes["type"]) == "bool"
    return False


def _unless_refractory(owner: ObjectOp) -> frozenset[str]:
    """Variables flagged `(unless refractory)`, when the object has refractoriness at all."""
    variables = owner.variables()
    if "not_refractory" not in variables:
        return frozenset()
    return frozenset(n for n, v in variables.items()
                     if "unless refractory" in v.attributes.get("flags", ()))


def event_driven_update(owner: ObjectOp) -> tuple[Statement, ...]:
    """Statements advancing the object's `(event-driven)` equations exactly over the time since
    their last update, `t - lastupdate` (Brian: the `exact` solution with dt replaced); the
    caller adds `lastupdate = t` after the pathway's code. Raises EquationError when they are
    not linear (Brian: use `(clock-driven)` instead). Through the integration cache, as the
    clock-driven equations (method `event-driven` in the key): a hit needs no sympy."""
    variables = owner.variables()
    equations = [op for op in owner.members(EquationOp) if op.attributes["kind"] == "differential"
                 and EVENT_DRIVEN in variables[op.sym_name].attributes.get("flags", ())]
    if not equations:
        return ()

    def integrate() -> tuple[str, tuple[Statement, ...]]:
        from spikec.ir.expression_sympy import symbol
        from spikec.passes.state_updaters import UnsupportedEquations
        from spikec.passes.state_updaters.exact import exact
        from spikec.passes.state_updaters.system import DT, T
        system = differential_system(owner, equations)
        try:
            integration = exact(system)
        except UnsupportedEquations as reason:
            raise EquationError(f"@{owner.sym_name}: cannot solve the equations "
                                f"{'; '.join(system.texts.values())} as event-driven ({reason})",
                                hint="mark them (clock-driven) instead") from None
        elapsed = T - symbol("lastupdate")
        integration.statements = [(target, value.xreplace({DT: elapsed})
                                   if hasattr(value, "xreplace") else value)
                                  for target, value in integration.statements]
        return EVENT_DRIVEN, integration.code()

    cache = default_integration_cache()
    key = cache.key(equation_trees(owner, equations), _unless_refractory(owner), (),
                    (EVENT_DRIVEN,))
    return cache.get_or_integrate(key, integrate)[1]


__all__ = ["Integrate", "event_driven_update", "clock_driven_equations", "choose_and_integrate"]
