"""A module as bytes and back, fast and exact: what the pipeline cache stores.

The text form (`print_module` / `parse_module`) is the readable one, but parsing it back takes
Lark ~0.15 s for a mushroom-body kernel module. Here a module is flattened into nested tuples (op
class, operand numbers, result types and name hints, attributes, location, regions with their
block arguments and ops) and pickled: values are numbered in definition order, so the nesting is
only as deep as the regions (pickling the op graph itself recurses along use chains and overflows
Python's recursion limit on a few hundred ops). `loads(dumps(m))` rebuilds every op with its
class's `create` (as `Module.clone` does): same classes, attributes, types, names, locations and
region structure, and each value's uses listed in text order.

`dumps` raises `ValueError` for what it cannot encode exactly (an operand defined after its use,
an op with instance fields besides the standard ones, an unpicklable attribute); callers that
only cache treat that as "do not cache". The bytes hold Python classes by name (pickle): load only
what spikec itself wrote, like the compiled objects of the kernel cache next to them.
"""

from __future__ import annotations

import pickle
from typing import Any

from spikec.ir.core import Block, Module, Op, Region, Value

FORMAT = 1
_STANDARD_FIELDS = frozenset({"_operands", "results", "attributes", "regions", "parent", "location"})


def dumps(module: Module) -> bytes:
    """The bytes of `module` (ValueError when it cannot be encoded exactly)."""
    numbers: dict[Value, int] = {}

    def define(values: list) -> None:
        for value in values:
            numbers[value] = len(numbers)

    def region(region: Region) -> tuple:
        block = region.block
        define(block.args)
        return (tuple(a.type for a in block.args), tuple(a.name_hint for a in block.args),
                tuple(op_record(op) for op in block.ops))

    def op_record(op: Op) -> tuple:
        extra = set(vars(op)) - _STANDARD_FIELDS
        if extra:
            raise ValueError(f"{op.name} has fields besides the standard ones: {sorted(extra)}")
        try:
            operands = tuple(numbers[v] for v in op._operands)
        except KeyError:
            raise ValueError(f"{op.name} uses a value defined after it") from None
        regions = tuple(region(r) for r in op.regions)
        define(op.results)
        return (type(op), operands, tuple(r.type for r in op.results),
                tuple(r.name_hint for r in op.results), op.attributes, op.location, regions)

    flat = (FORMAT, tuple(op_record(op) for op in module.ops))
    try:
        return pickle.dumps(flat, protocol=pickle.HIGHEST_PROTOCOL)
    except (pickle.PicklingError, TypeError, AttributeError, RecursionError) as error:
        raise ValueError(f"the module cannot be pickled: {error}") from None


def loads(data: bytes) -> Module:
    """The module `dumps` encoded (ValueError when `data` is not such bytes)."""
    try:
        version, records = pickle.loads(data)
    except Exception as error:  # noqa: BLE001 - damaged or foreign bytes
        raise ValueError(f"not a serialized module: {error}") from None
    if version != FORMAT:
        raise ValueError(f"serialized module format {version}, expected {FORMAT}")
    values: list[Value] = []

    def region(record: tuple) -> Region:
        types, names, ops = record
        block = Block(types, names)
        values.extend(block.args)
        for op in ops:
            block.append(build(op))
        return Region(block)

    def build(record: tuple) -> Op:
        cls, operands, types, names, attributes, location, regions = record
        built: Any = [region(r) for r in regions]
        op = cls.create([values[n] for n in operands], types, attributes, built, names)
        op.location = location
        values.extend(op.results)
        return op

    return Module(build(record) for record in records)
