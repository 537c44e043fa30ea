"""Structural equality of modules: same ops, attributes, types and dataflow, whatever the names.

Two modules are equal when their ops correspond one to one, in order, with equal names, result
types, attributes (compared through the ops' codecs, telling 1 from 1.0 and -0.0 from 0.0) and
region shapes, and when every operand is the value corresponding to the other's operand. Value
name hints are ignored: they are only suggestions for the printer.
"""

from __future__ import annotations

from spikec.ir.attributes import freeze_attribute
from spikec.ir.core import Block, Module, Op, Value


def modules_equal(a: Module, b: Module) -> bool:
    return module_difference(a, b) is None


def module_difference(a: Module, b: Module) -> str | None:
    """None when the modules are structurally equal, else a sentence locating the first difference."""
    return _block_difference(a.body, b.body, {}, "module")


def code_difference(a: Op, b: Op) -> str | None:
    """None when the two ops' regions are structurally equal (the ops' own attributes aside: two
    kernels of different names with the same code), else a sentence locating the first difference."""
    if len(a.regions) != len(b.regions):
        return "region counts differ"
    mapping: dict[Value, Value] = {}
    for name, x, y in zip(a.region_names, a.regions, b.regions):
        difference = _block_difference(x.block, y.block, mapping, f"region {name}")
        if difference is not None:
            return difference
    return None


def op_key_attributes(op: Op) -> object:
    """A hashable key of `op`'s attributes, equal exactly when the attributes are equal."""
    codecs = op.attribute_codecs
    return freeze_attribute({k: codecs[k].encode(v) if k in codecs else v for k, v in op.attributes.items()})


def _block_difference(a: Block, b: Block, mapping: dict[Value, Value], where: str) -> str | None:
    if [x.type for x in a.args] != [y.type for y in b.args]:
        return f"{where}: block argument types differ"
    mapping.update(zip(a.args, b.args))
    if len(a.ops) != len(b.ops):
        return f"{where}: {len(a.ops)} ops against {len(b.ops)}"
    for index, (x, y) in enumerate(zip(a.ops, b.ops)):
        difference = _op_difference(x, y, mapping, f"{where}, op {index + 1} ({x.name})")
        if difference is not None:
            return difference
    return None


def _op_difference(a: Op, b: Op, mapping: dict[Value, Value], where: str) -> str | None:
    if type(a) is not type(b) or a.name != b.name:
        return f"{where}: {a.name} against {b.name}"
    if len(a.operands) != len(b.operands) or any(mapping.get(x) is not y for x, y in zip(a.operands, b.operands)):
        return f"{where}: operands differ"
    if [r.type for r in a.results] != [r.type for r in b.results]:
        return f"{where}: result types differ"
    if op_key_attributes(a) != op_key_attributes(b):
        return f"{where}: attributes differ"
    if len(a.regions) != len(b.regions):
        return f"{where}: region counts differ"
    for name, x, y in zip(a.region_names, a.regions, b.regions):
        difference = _block_difference(x.block, y.block, mapping, f"{where}, region {name}")
        if difference is not None:
            return difference
    mapping.update(zip(a.results, b.results))
    return None
