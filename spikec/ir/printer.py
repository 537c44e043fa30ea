"""The IR text printer: one form for every op (see `spikec.ir.syntax`), read back by the parser.

Value names come from the values' hints (``%v_next``) made unique within each module-level op
(``%v``, ``%v_1``, ...); values without a hint get numbers (``%0``). Module-level ops define no
values, so each of them is its own naming scope and printing one kernel does not rename another.
"""

from __future__ import annotations

import re

from spikec.ir.attributes import SymbolRef, format_attribute
from spikec.ir.core import Module, Op, Region, Value
from spikec.ir.syntax import IndexedSymbol, Item, Keyword

INDENT = "  "
_NAME_CHARS = re.compile(r"[^A-Za-z0-9_.$]")


class Printer:
    """Prints ops, remembering each op's header line so errors can quote an op as printed."""

    def __init__(self) -> None:
        self.names: dict[Value, str] = {}
        self.used: set[str] = set()
        self.counter = 0
        self.lines: list[str] = []
        self.header_of: dict[Op, str] = {}

    # -- names ---------------------------------------------------------------------------------
    def reset_names(self) -> None:
        self.names.clear()
        self.used.clear()
        self.counter = 0

    def name(self, value: Value) -> str:
        """``%name`` of `value`, choosing a fresh unique name on first sight."""
        if value not in self.names:
            hint = _NAME_CHARS.sub("_", value.name_hint) if value.name_hint else ""
            if hint:
                candidate, suffix = hint, 1
                while candidate in self.used:
                    candidate, suffix = f"{hint}_{suffix}", suffix + 1
            else:
                while str(self.counter) in self.used:
                    self.counter += 1
                candidate = str(self.counter)
            self.used.add(candidate)
            self.names[value] = candidate
        return "%" + self.names[value]

    # -- ops -------------------------------------------------------------------------------------
    def print_module(self, module: Module) -> str:
        chunks = []
        for op in module.ops:
            self.reset_names()
            self.lines = []
            self.print_op(op, 0)
            chunks.append("\n".join(self.lines))
        text = ""
        for index, chunk in enumerate(chunks):  # a blank line around every multi-line op
            if index:
                text += "\n\n" if "\n" in chunk or "\n" in chunks[index - 1] else "\n"
            text += chunk
        return text + ("\n" if chunks else "")

    def print_op(self, op: Op, depth: int) -> None:
        header = self.op_header(op)
        self.header_of[op] = header
        line = INDENT * depth + header
        for region_name, region in zip(op.region_names, op.regions):
            line += " " + self.region_header(region_name, region) + " {"
            self.lines.append(line)
            for nested in region.block.ops:
                self.print_op(nested, depth + 1)
            line = INDENT * depth + "}"
        self.lines.append(line)

    def op_header(self, op: Op) -> str:
        syntax = op.syntax()
        text = ""
        if op.results:
            text = ", ".join(self.name(r) for r in op.results) + " = "
        text += op.name
        if syntax.items:
            text += " " + ", ".join(self.item(i) for i in syntax.items)
        if syntax.mask is not None:
            text += " if " + self.name(syntax.mask)
        if syntax.attributes:
            codecs = op.attribute_codecs
            encoded = {key: codecs[key].encode(value) if key in codecs else value
                       for key, value in syntax.attributes.items()}
            text += " " + format_attribute(encoded)
        if syntax.types:
            text += " : " + ", ".join(str(t) for t in syntax.types)
        if syntax.result_types is not None:
            text += " -> " + ", ".join(str(t) for t in syntax.result_types)
        return text

    def region_header(self, name: str, region: Region) -> str:
        args = ", ".join(f"{self.name(a)}: {a.type}" for a in region.block.args)
        return f"{name}({args})"

    def item(self, item: Item) -> str:
        if isinstance(item, Value):
            return self.name(item)
        if isinstance(item, IndexedSymbol):
            return f"{item.symbol}[{self.name(item.index)}]"
        if isinstance(item, SymbolRef):
            return str(item)
        if isinstance(item, Keyword):
            return item.word
        if isinstance(item, (bool, int, float, str)):
            return format_attribute(item)
        raise TypeError(f"not an op item: {item!r}")


def print_module(module: Module) -> str:
    """The text of a whole module."""
    return Printer().print_module(module)


def print_op(op: Op) -> str:
    """The text of one op (and its regions), names chosen as in its module-level op."""
    printer = Printer()
    printer.print_op(op.top_level_op(), 0)  # assigns the names the module text uses
    printer.lines = []
    printer.print_op(op, 0)
    return "\n".join(printer.lines)


def describe_op(op: Op) -> str:
    """One line quoting `op` as printed (without its regions), for error messages."""
    printer = Printer()
    printer.print_op(op.top_level_op(), 0)
    return printer.header_of.get(op) or printer.op_header(op)
