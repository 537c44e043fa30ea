"""The generic shape every op's text takes, shared by the printer, the parser and the op classes.

    %r1, %r2 = dialect.op item, item, ... if %mask {attr = value, ...} : type, ... -> type, ...
        region_name(%arg: type, ...) {
            ops...
        } other_region() { ... }

An op class decides which of its operands, attributes and types appear in which slot by returning an
`OpSyntax` from `Op.syntax()` and by building itself from a `ParsedOp` in `Op.from_parsed()`. So
every op has exactly one text form, and one grammar reads all of them.

Items are: a value (``%v``), a symbol (``@G.v``), an indexed symbol (``@G.v[%i]``), a keyword
(``lt``, ``exp``, ``true``) or a literal number or string.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Union

from spikec.errors import IRParseError, SourceLocation
from spikec.ir.attributes import Attribute, SymbolRef
from spikec.ir.types import Type

if TYPE_CHECKING:
    from spikec.ir.core import Region, Value


@dataclass(frozen=True)
class Keyword:
    """A bare word among an op's items: a predicate (``lt``), a function name (``exp``)."""

    word: str


@dataclass(frozen=True)
class IndexedSymbol:
    """``@array[%index]``: an array access among an op's items."""

    symbol: SymbolRef
    index: "Value"


Item = Union["Value", SymbolRef, IndexedSymbol, Keyword, int, float, str]


@dataclass
class OpSyntax:
    """What an op shows between its name and its regions (attributes not yet encoded)."""

    items: list[Item] = field(default_factory=list)
    mask: "Value | None" = None
    attributes: dict[str, object] = field(default_factory=dict)
    types: list[Type] = field(default_factory=list)
    result_types: list[Type] | None = None


@dataclass
class ParsedOp:
    """One op as read from the text, names resolved, attributes decoded, regions built."""

    name: str
    result_names: list[str]
    items: list[Item]
    mask: "Value | None"
    attributes: dict[str, object]
    types: list[Type]
    result_types: list[Type] | None
    regions: list["Region"]
    location: SourceLocation

    def error(self, message: str, hint: str | None = None) -> IRParseError:
        """An IRParseError pointing at this op (raise it)."""
        return IRParseError(f"{self.name}: {message}", self.location, hint)

    def expect_types(self, count: int) -> list[Type]:
        if len(self.types) != count:
            raise self.error(f"expected {count} type(s) after ':', found {len(self.types)}")
        return self.types

    def expect_results(self, count: int) -> None:
        if len(self.result_names) != count:
            raise self.error(f"expected {count} result(s), found {len(self.result_names)}")

    def item(self, position: int, kind: type | tuple[type, ...], what: str) -> Item:
        """Item `position`, checked to be of `kind`; `what` describes it for the error message."""
        if position < len(self.items) and isinstance(self.items[position], kind):
            return self.items[position]
        raise self.error(f"item {position + 1} must be {what}")

    def symbol_op_parts(self, what: str, required: tuple[str, ...], optional: tuple[str, ...] = (),
                        types: int = 0) -> tuple[SymbolRef, list[Type]]:
        """Check the shape ``op @symbol {attrs} [: types]`` and return the symbol and the types;
        `what` describes the symbol, `required`/`optional` name the attributes allowed."""
        self.expect_item_count(1)
        found_types = self.expect_types(types)
        keys = set(self.attributes)
        if not set(required) <= keys or keys - set(required) - set(optional):
            allowed = ", ".join(required) + (f" and optionally {', '.join(optional)}" if optional else "")
            raise self.error(f"takes the attributes {allowed}")
        return self.item(0, SymbolRef, what), found_types

    def expect_item_count(self, counts: int | tuple[int, ...]) -> None:
        allowed = counts if isinstance(counts, tuple) else (counts,)
        if len(self.items) not in allowed:
            expected = " or ".join(str(c) for c in allowed)
            raise self.error(f"expected {expected} item(s), found {len(self.items)}")


__all__ = ["Attribute", "IndexedSymbol", "Item", "Keyword", "OpSyntax", "ParsedOp"]
