"""The dialect-agnostic IR: values, ops, blocks, regions and modules.

An op is a plain class with a dotted `name` (``kernel.add``), operands (SSA `Value`s), results, an
attribute dict (see `spikec.ir.attributes`) and named regions, each holding one `Block` whose
arguments are values defined by the region. Values keep their uses, so passes can replace a value
everywhere and ask whether a result is dead. A `Module` is a top-level block of ops; the ops at
module level define symbols (arrays, kernels, model groups) and no SSA values.

Concrete ops subclass `Op` with a meaningful constructor, a `verify` method and, when their text
form is not the generic one, `syntax`/`from_parsed` (see `spikec.ir.syntax`). They are registered
by name with `spikec.ir.registry.register_op` so the parser can find them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Iterable, Iterator, Mapping, Sequence

from spikec.errors import SourceLocation
from spikec.ir.attributes import AttributeCodec, SymbolRef
from spikec.ir.syntax import OpSyntax, ParsedOp
from spikec.ir.types import Type

if TYPE_CHECKING:
    from spikec.ir.verify import VerifyContext


class Trait(enum.Enum):
    """Facts about an op class that generic passes rely on."""

    PURE = "pure"                      # no side effect, no memory read: free to CSE, remove, move
    READS_MEMORY = "reads_memory"      # result depends on array contents (load)
    SIDE_EFFECT = "side_effect"        # writes memory or state: never removed or reordered
    VARIES_PER_STEP = "varies"         # result depends on the current step (step, time, rand)
    COMMUTATIVE = "commutative"        # operands may be swapped (CSE canonicalises the order)
    CONSTANT_LIKE = "constant"         # its single result is attribute "value"
    SYMBOL = "symbol"                  # module-level op defining attribute "sym_name"


@dataclass(eq=False)
class Use:
    """Operand `index` of `op` is the value this use belongs to."""

    op: "Op"
    index: int


class Value:
    """An SSA value: defined once (an op result or a block argument), typed, used by operands.

    `name_hint` is only a suggestion for the printer (``v_next`` prints as ``%v_next`` unless that
    name is taken); it carries no meaning and structural equality ignores it.
    """

    def __init__(self, type: Type, name_hint: str | None = None):
        self.type = type
        self.name_hint = name_hint
        self.uses: list[Use] = []

    @property
    def owner(self) -> "Op | Block":
        raise NotImplementedError

    def has_uses(self) -> bool:
        return bool(self.uses)

    def replace_all_uses_with(self, other: "Value") -> None:
        for use in list(self.uses):
            use.op.set_operand(use.index, other)

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name_hint or '?'}: {self.type}>"


class OpResult(Value):
    def __init__(self, type: Type, op: "Op", index: int, name_hint: str | None = None):
        super().__init__(type, name_hint)
        self.op = op
        self.index = index

    @property
    def owner(self) -> "Op":
        return self.op


class BlockArgument(Value):
    def __init__(self, type: Type, block: "Block", index: int, name_hint: str | None = None):
        super().__init__(type, name_hint)
        self.block = block
        self.index = index

    @property
    def owner(self) -> "Block":
        return self.block


class Op:
    """Base class of every op. Subclasses set `name` and usually `traits`; see the module doc."""

    name: ClassVar[str] = ""
    traits: ClassVar[frozenset[Trait]] = frozenset()
    # Text names of the regions, in order (``("invariants", "body")``); their count is fixed.
    region_names: ClassVar[tuple[str, ...]] = ()
    # Whether a region sees the values defined in the regions before it (kernel body sees invariants).
    sequential_regions: ClassVar[bool] = False
    # Custom print/parse hooks for attributes that hold richer objects than generic attributes.
    attribute_codecs: ClassVar[Mapping[str, AttributeCodec]] = {}

    def __init__(self, operands: Sequence[Value] = (), result_types: Sequence[Type] = (),
                 attributes: Mapping[str, Any] | None = None, regions: Sequence["Region"] = (),
                 result_names: Sequence[str | None] = ()):
        self._operands: list[Value] = []
        for value in operands:
            self._add_operand(value)
        names = list(result_names) + [None] * (len(result_types) - len(result_names))
        self.results: list[OpResult] = [OpResult(t, self, i, n)
                                        for i, (t, n) in enumerate(zip(result_types, names))]
        self.attributes: dict[str, Any] = dict(attributes or {})
        self.regions: list[Region] = []
        for region in regions:
            self.add_region(region)
        self.parent: Block | None = None
        self.location: SourceLocation | None = None

    @classmethod
    def create(cls, operands: Sequence[Value] = (), result_types: Sequence[Type] = (),
               attributes: Mapping[str, Any] | None = None, regions: Sequence["Region"] = (),
               result_names: Sequence[str | None] = ()) -> "Op":
        """Build an op of this class from its parts, bypassing the subclass constructor (used by
        the parser and by `clone`)."""
        op = cls.__new__(cls)
        Op.__init__(op, operands, result_types, attributes, regions, result_names)
        return op

    # -- operands ----------------------------------------------------------------------------
    @property
    def operands(self) -> tuple[Value, ...]:
        return tuple(self._operands)

    def _add_operand(self, value: Value) -> None:
        if not isinstance(value, Value):
            raise TypeError(f"{self.name}: operand must be a Value, not {value!r}")
        value.uses.append(Use(self, len(self._operands)))
        self._operands.append(value)

    def set_operand(self, index: int, value: Value) -> None:
        old = self._operands[index]
        old.uses = [u for u in old.uses if not (u.op is self and u.index == index)]
        value.uses.append(Use(self, index))
        self._operands[index] = value

    def drop_operand_uses(self) -> None:
        """Forget this op's (and its nested ops') uses of values, before erasing it."""
        for nested in self.walk():
            for index, value in enumerate(nested._operands):
                value.uses = [u for u in value.uses if not (u.op is nested and u.index == index)]

    # -- results, regions ---------------------------------------------------------------------
    @property
    def result(self) -> OpResult:
        """The single result of an op that has exactly one."""
        if len(self.results) != 1:
            raise ValueError(f"{self.name} has {len(self.results)} results, not one")
        return self.results[0]

    def add_region(self, region: "Region") -> None:
        region.parent = self
        self.regions.append(region)

    def region(self, name: str) -> "Region":
        return self.regions[self.region_names.index(name)]

    def walk(self) -> Iterator["Op"]:
        """This op, then every op nested in its regions, in text order."""
        yield self
        for region in self.regions:
            for block in region.blocks:
                for op in list(block.ops):
                    yield from op.walk()

    def has_trait(self, trait: Trait) -> bool:
        return trait in self.traits

    @property
    def symbol(self) -> SymbolRef | None:
        """The symbol this op defines, for ops with the SYMBOL trait."""
        value = self.attributes.get("sym_name")
        return value if isinstance(value, SymbolRef) else None

    def ancestors(self) -> Iterator["Op"]:
        """The ops whose regions contain this op, innermost first."""
        block = self.parent
        while block is not None and block.parent is not None and block.parent.parent is not None:
            op = block.parent.parent
            yield op
            block = op.parent

    def top_level_op(self) -> "Op":
        """The module-level op containing this op (itself when it is at module level)."""
        *_, last = [self, *self.ancestors()]
        return last

    # -- verification and text hooks ------------------------------------------------------------
    def verify(self, ctx: "VerifyContext") -> None:
        """Check this op's own invariants (types, attributes, region shapes); raise through
        `ctx.require`/`ctx.fail`. SSA dominance and symbol existence are checked generically."""

    def syntax(self) -> OpSyntax:
        """The generic form: operands as items, every attribute in the dict, result types."""
        return OpSyntax(items=list(self.operands), attributes=dict(self.attributes),
                        types=[r.type for r in self.results])

    @classmethod
    def from_parsed(cls, parsed: ParsedOp) -> "Op":
        """Build the op from its text; the inverse of `syntax` (default: the generic form)."""
        operands = [parsed.item(i, Value, "a value") for i in range(len(parsed.items))]
        if parsed.mask is not None or parsed.result_types is not None:
            raise parsed.error("this op takes neither 'if %mask' nor '-> types'")
        parsed.expect_results(len(parsed.types))
        return cls.create(operands, parsed.types, parsed.attributes, parsed.regions, parsed.result_names)

    def clone(self, value_map: dict[Value, Value] | None = None) -> "Op":
        """A deep copy; operands found in `value_map` are replaced (the map grows with results)."""
        value_map = {} if value_map is None else value_map
        regions = [region.clone(value_map) for region in self.regions]
        op = type(self).create([value_map.get(v, v) for v in self._operands],
                               [r.type for r in self.results], dict(self.attributes), regions,
                               [r.name_hint for r in self.results])
        op.location = self.location
        for old, new in zip(self.results, op.results):
            value_map[old] = new
        return op

    def __repr__(self) -> str:
        return f"<{self.name} op>"


class Block:
    """A list of ops run in order, with typed arguments defined by whoever runs the block."""

    def __init__(self, arg_types: Sequence[Type] = (), arg_names: Sequence[str | None] = (),
                 ops: Iterable[Op] = ()):
        names = list(arg_names) + [None] * (len(arg_types) - len(arg_names))
        self.args: list[BlockArgument] = [BlockArgument(t, self, i, n)
                                          for i, (t, n) in enumerate(zip(arg_types, names))]
        self.ops: list[Op] = []
        self.parent: Region | None = None
        for op in ops:
            self.append(op)

    def append(self, op: Op) -> Op:
        return self.insert(len(self.ops), op)

    def add(self, op: Op) -> Value:
        """Append `op` and return its single result (for building bodies fluently)."""
        return self.append(op).result

    def insert(self, index: int, op: Op) -> Op:
        if op.parent is not None:
            raise ValueError(f"{op.name} is already in a block; remove it first")
        op.parent = self
        self.ops.insert(index, op)
        return op

    def insert_before(self, anchor: Op, op: Op) -> Op:
        return self.insert(self.index_of(anchor), op)

    def index_of(self, op: Op) -> int:
        for index, candidate in enumerate(self.ops):
            if candidate is op:
                return index
        raise ValueError(f"{op.name} is not in this block")

    def remove(self, op: Op) -> Op:
        """Take `op` out of the block, keeping its operands (to move it elsewhere)."""
        del self.ops[self.index_of(op)]
        op.parent = None
        return op

    def erase(self, op: Op) -> None:
        """Delete `op`, whose results must be unused."""
        for result in op.results:
            if result.uses:
                raise ValueError(f"cannot erase {op.name}: its result is still used")
        self.remove(op)
        op.drop_operand_uses()

    def clone(self, value_map: dict[Value, Value]) -> "Block":
        block = Block([a.type for a in self.args], [a.name_hint for a in self.args])
        for old, new in zip(self.args, block.args):
            value_map[old] = new
        for op in self.ops:
            block.append(op.clone(value_map))
        return block


class Region:
    """The code an op owns: one block (the IRs have no branches, so regions never need more)."""

    def __init__(self, block: Block | None = None):
        self.block = block if block is not None else Block()
        self.block.parent = self
        self.parent: Op | None = None

    @property
    def blocks(self) -> list[Block]:
        return [self.block]

    def clone(self, value_map: dict[Value, Value]) -> "Region":
        return Region(self.block.clone(value_map))


class Module:
    """A whole program: module-level ops (arrays, kernels, schedule; or the model dialect's)."""

    def __init__(self, ops: Iterable[Op] = ()):
        self.body = Block()
        for op in ops:
            self.body.append(op)

    @property
    def ops(self) -> list[Op]:
        return self.body.ops

    def walk(self) -> Iterator[Op]:
        for op in list(self.body.ops):
            yield from op.walk()

    def symbols(self) -> dict[str, Op]:
        """Module-level ops by the symbol they define."""
        return {op.symbol.name: op for op in self.body.ops if op.symbol is not None}

    def lookup(self, name: str | SymbolRef) -> Op | None:
        key = name.name if isinstance(name, SymbolRef) else name
        return self.symbols().get(key)

    def clone(self) -> "Module":
        return Module(op.clone({}) for op in self.body.ops)

    def __str__(self) -> str:
        from spikec.ir.printer import print_module  # the printer imports this module

        return print_module(self)
