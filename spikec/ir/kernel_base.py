"""The base classes of the kernel body ops and the helpers their families share.

`BodyOp` marks ops allowed in a kernel's regions. Pure computations (`ComputeOp`) carry their
reference semantics in `evaluate` (numpy, on scalars or on vectors of all elements at once): the
interpreter runs it and the `fold` pass folds with it, so folding never disagrees with the
interpreter. Their `fold` hook adds the algebraic identities that are exact in IEEE arithmetic.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Op, Trait, Value
from spikec.ir.types import Type
from spikec.ir.verify import VerifyContext

PURE = frozenset({Trait.PURE})
PURE_COMMUTATIVE = frozenset({Trait.PURE, Trait.COMMUTATIVE})
INDEX_TYPES = (Type.I32, Type.I64)


def typed(value: object, type: Type) -> object:
    """`value` as a numpy scalar (0-d input) or array of `type`'s dtype."""
    with np.errstate(invalid="ignore", over="ignore"):  # nan or out-of-range to int: undefined
        array = np.asarray(value).astype(type.numpy_dtype, copy=False)
    return array[()] if array.ndim == 0 else array


class BodyOp(Op):
    """Base of the ops allowed inside a kernel's regions."""

    def __init__(self, operands: Sequence[Value] = (), result_types: Sequence[Type] = (),
                 attributes: dict | None = None, name: str | None = None):
        super().__init__(operands, result_types, attributes, result_names=[name] if name else [])


class ComputeOp(BodyOp):
    """A pure op whose result is a function of its operands and attributes (foldable)."""

    traits = PURE

    def evaluate(self, *operands: object) -> object:
        """The result for operand values (numpy scalars or arrays of the operand types)."""
        raise NotImplementedError(self.name)

    def fold(self, constants: Sequence[object | None]) -> object | Value | None:
        """A constant for the result, an existing value equal to it, or None. `constants[i]` is
        operand i's value when a constant defines it, else None."""
        if constants and all(c is not None for c in constants):
            with np.errstate(all="ignore"):
                return typed(self.evaluate(*constants), self.result.type)
        return None


def is_constant(constant: object, number: float, *, negative_zero: bool | None = None) -> bool:
    """Whether a folded constant equals `number` (and, for zeros, has the given sign)."""
    if constant is None or isinstance(constant, (bool, np.bool_)):
        return False
    if constant != number:
        return False
    return negative_zero is None or bool(np.signbit(constant)) == negative_zero


TYPE_CLASSES = {
    "numeric": (Type.F64, Type.F32, Type.I32, Type.I64),
    "float": (Type.F64, Type.F32),
    "integer": INDEX_TYPES,
    "bool": (Type.BOOL,),
}


def verify_same_types(ctx: VerifyContext, op: Op, type_class: str) -> None:
    """All operands and the single result share one type, of the given class."""
    types = [v.type for v in op.operands] + [r.type for r in op.results]
    ctx.require(len(op.results) == 1, op, "must have one result")
    ctx.require(len(set(types)) == 1, op, f"operand and result types differ ({', '.join(map(str, types))})")
    ctx.require(types[0] in TYPE_CLASSES[type_class], op, f"type must be {type_class}, not {types[0]}")


def symbol_ref(name: str | SymbolRef) -> SymbolRef:
    return name if isinstance(name, SymbolRef) else SymbolRef(name)
