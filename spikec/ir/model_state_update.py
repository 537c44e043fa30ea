"""``model.state_update``: one integration step of an object's differential equations.

    model.state_update {method = "exact", code = ["_v = El + (v - El) * exp(-dt / tau)",
                                                  "v = _v"]}

The `integrate` pass replaces an object's (clock-driven) `model.equation` ops of kind
"differential" by this op. `method` names the state updater that produced `code` (exact, euler,
rk2, rk4, heun, milstein, exponential_euler); `code` is a list of statements run once per element
and time step, in order. They may use the object's names, `t` and `dt`, `randn()` (one standard
normal draw per call) and temporaries whose names start with an underscore (`_v`, `_k1_v`,
`_dW_xi`); model names never start with one, so temporaries cannot clash with them. A temporary
must be assigned (with `=`) before it is read; the statements that are not temporaries assign
state variables. See docs/state-updaters.md.
"""

from __future__ import annotations

from typing import Any

from spikec.ir.core import Op
from spikec.ir.expression import Name, walk
from spikec.ir.model import CODE, MemberOp, ObjectOp
from spikec.ir.registry import register_op
from spikec.ir.verify import VerifyContext


@register_op
class StateUpdateOp(MemberOp):
    """``model.state_update {method, code}``: integrates the object's differential equations."""

    name = "model.state_update"
    has_symbol = False
    required = ("method", "code")
    attribute_codecs = {"code": CODE}

    @property
    def method(self) -> str:
        return self.attributes["method"]

    @property
    def code(self) -> tuple:
        return self.attributes["code"]

    def kind_key(self) -> str:
        return "state_update"  # one per object

    def expressions(self) -> list:
        return [s.expr for s in self.code]

    def verify(self, ctx: VerifyContext) -> None:
        super().verify(ctx)
        ctx.require(isinstance(self.attributes["method"], str), self, "method must be a string")

    def verify_names(self, ctx: VerifyContext, owner: ObjectOp, known: set[str]) -> None:
        temporaries: set[str] = set()
        variables = owner.variables()
        for statement in self.code:
            # Temporaries read before their assignment would be undefined: check in order.
            used = [n for n in _names(statement.expr) if n.startswith("_")]
            for name in used:
                ctx.require(name in temporaries, self,
                            f"temporary '{name}' is read before it is assigned")
            if statement.target.startswith("_"):
                ctx.require(statement.op == "=", self,
                            f"temporary '{statement.target}' must be assigned with '='")
                temporaries.add(statement.target)
            else:
                ctx.require(statement.target in variables, self,
                            f"'{statement.target}' is not a variable of @{owner.sym_name}")
        super().verify_names(ctx, owner, known | temporaries)


def _names(expr: Any) -> list[str]:
    return [node.id for node in walk(expr) if isinstance(node, Name)]


def state_update_of(owner: ObjectOp) -> StateUpdateOp | None:
    """The object's `model.state_update`, if the `integrate` pass has run."""
    found: list[Op] = owner.members(StateUpdateOp)
    return found[0] if found else None


__all__ = ["StateUpdateOp", "state_update_of"]
