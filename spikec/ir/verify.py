"""The verifier: generic invariants (SSA dominance, region shapes, attribute kinds, unique symbols)
here, op-specific ones (types, referenced arrays) in each op's `verify`.

Errors are `VerificationError`s whose message quotes the op as printed and says what is wrong; when
the op came from text they carry its location, so ``spikec-opt`` shows the line with a caret.
"""

from __future__ import annotations

from typing import NoReturn

from spikec.errors import VerificationError
from spikec.ir.attributes import SymbolRef, is_attribute
from spikec.ir.core import Module, Op, Region, Value
from spikec.ir.printer import describe_op


class VerifyContext:
    """What an op's `verify` may consult: the module and its symbol table."""

    def __init__(self, module: Module):
        self.module = module
        self.symbols: dict[str, Op] = {}

    def fail(self, op: Op, message: str, hint: str | None = None) -> NoReturn:
        raise VerificationError(f"{message}, in '{describe_op(op)}'", op.location, hint)

    def require(self, condition: bool, op: Op, message: str, hint: str | None = None) -> None:
        if not condition:
            self.fail(op, message, hint)

    def symbol(self, op: Op, ref: object, kind: type[Op] | tuple[type[Op], ...], what: str) -> Op:
        """The module-level op `ref` names, checked to be of `kind` (`what` names the kind)."""
        if not isinstance(ref, SymbolRef):
            self.fail(op, f"expected a symbol reference to {what}, found {ref!r}")
        found = self.symbols.get(ref.name)
        if found is None:
            self.fail(op, f"{ref} is not defined", f"declare {what} {ref} at module level")
        if not isinstance(found, kind):
            self.fail(op, f"{ref} is a {found.name}, not {what}")
        return found


def verify_module(module: Module) -> None:
    """Raise VerificationError at the first broken invariant of `module`."""
    ctx = VerifyContext(module)
    for op in module.ops:
        symbol = op.symbol
        if symbol is not None:
            if symbol.name in ctx.symbols:
                ctx.fail(op, f"symbol {symbol} is defined twice")
            ctx.symbols[symbol.name] = op
    for op in module.ops:
        _verify_op(ctx, op, [])


def _verify_op(ctx: VerifyContext, op: Op, visible: list[set[Value]]) -> None:
    for index, operand in enumerate(op.operands):
        if not any(operand in scope for scope in visible):
            ctx.fail(op, f"operand {index + 1} is not defined before this op (SSA dominance)",
                     "a value must be defined earlier in the same block or an enclosing region")
    for key, value in op.attributes.items():
        if key not in op.attribute_codecs and not is_attribute(value):
            ctx.fail(op, f"attribute {key!r} holds {type(value).__name__}, not an attribute value")
    if len(op.regions) != len(op.region_names):
        ctx.fail(op, f"has {len(op.regions)} region(s), expected {len(op.region_names)}")
    outer = len(visible)
    for region in op.regions:
        if not op.sequential_regions:
            del visible[outer:]
        visible.append(set())
        _verify_region(ctx, region, visible)
    del visible[outer:]
    op.verify(ctx)
    if visible:
        visible[-1].update(op.results)


def _verify_region(ctx: VerifyContext, region: Region, visible: list[set[Value]]) -> None:
    block = region.block
    visible[-1].update(block.args)
    for nested in block.ops:
        if nested.parent is not block:
            ctx.fail(nested, "op's parent link is broken (it was moved without Block.remove)")
        _verify_op(ctx, nested, visible)
