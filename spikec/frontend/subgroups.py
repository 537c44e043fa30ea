"""Subgroups: `G[10:50]`, a contiguous range of a neuron group usable wherever the group is.

A `Subgroup` stores nothing: its variables are the parent's elements `start..stop-1`, read and
written through `SubgroupValues`, and code run on it sees `i` counted from the subgroup's first
element and `N` its size (Brian's semantics). Model objects that use a subgroup (synapses,
monitors, Poisson inputs) name the parent group in the model IR with the range as an attribute
(`source_range = [start, stop]`, docs/model-ir.md), so every pass keeps seeing whole groups and
only the lowering applies the offset. A subgroup of a subgroup is a range of the same parent.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.errors import SubgroupError
from spikec.frontend.naming import default_names
from spikec.frontend.variables import VariableView
from spikec.ir.expression import BinaryOp, Expr, Name, Number, substitute_names


class Subgroup:
    """Elements `start..stop-1` of `source` (a neuron group), as Brian's `Subgroup`."""

    def __init__(self, source: Any, start: int, stop: int):
        object.__setattr__(self, "source", source)
        object.__setattr__(self, "start", start)
        object.__setattr__(self, "stop", stop)
        object.__setattr__(self, "name", default_names.claim(None, f"{source.name}_subgroup"))

    # -- what a group offers ----------------------------------------------------------------
    @property
    def size(self) -> int:
        return self.stop - self.start

    def __len__(self) -> int:
        return self.size

    @property
    def owner(self) -> str:
        return f"Subgroup '{self.name}' ({self.source.name}[{self.start}:{self.stop}])"

    variables = property(lambda self: self.source.variables)
    events = property(lambda self: getattr(self.source, "events", {}))
    equations = property(lambda self: self.source.equations)
    clock = property(lambda self: self.source.clock)
    dtype = property(lambda self: self.source.dtype)
    namespace = property(lambda self: self.source.namespace)
    order = property(lambda self: getattr(self.source, "order", 0))

    @property
    def values(self) -> "SubgroupValues":
        """A view of the parent's current values (host arrays before a build, the
        executable's after), so it never goes stale."""
        return SubgroupValues(self.source.values, self.start, self.stop, self.source.variables)

    def index_values(self, name: str) -> np.ndarray:
        """`i` of a subgroup counts from its first element, as in Brian."""
        return np.arange(self.size, dtype=np.int32)

    def in_parent_frame(self, tree: Expr) -> Expr:
        """A parent's subexpression as code on this subgroup must compute it: its `i` and `N`
        are the parent's (Brian evaluates a referenced subexpression in its own group)."""
        if self.start == 0 and self.size == len(self.source):
            return tree
        return substitute_names(tree, {"i": BinaryOp("+", Name("i"), Number(self.start)),
                                       "N": Number(len(self.source))})

    def __getitem__(self, item: Any) -> "Subgroup":
        start, stop = element_range_of(self, item)
        return Subgroup(self.source, self.start + start, self.start + stop)

    def __getattr__(self, name: str) -> Any:
        if name in self.source.variables:
            return VariableView(self, name)
        raise AttributeError(f"{self.owner} has no attribute or variable '{name}'")

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self.source.variables:
            VariableView(self, name).set_item(slice(None), value, level=1)
        else:
            object.__setattr__(self, name, value)

    def __repr__(self) -> str:
        return f"<Subgroup '{self.name}' of '{self.source.name}' from {self.start} to {self.stop}>"


class SubgroupValues:
    """A parent's values seen through a range: the interface of `HostValues` (read, write,
    all_arrays, write_array, time); shared variables are the parent's single value."""

    def __init__(self, parent: Any, start: int, stop: int, specs: dict):
        self.parent, self.start, self.stop, self.specs = parent, start, stop, specs
        self.size = stop - start

    def _shared(self, name: str) -> bool:
        return self.specs[name].shared

    def read(self, name: str) -> np.ndarray:
        values = self.parent.read(name)
        return values if self._shared(name) else values[self.start:self.stop].copy()

    def write(self, name: str, values: np.ndarray, index: Any = slice(None)) -> None:
        if self._shared(name):
            self.parent.write(name, values, index)
            return
        self.parent.write(name, values, np.arange(self.start, self.stop)[index])

    def all_arrays(self) -> dict[str, np.ndarray]:
        return {name: values if self._shared(name) else values[self.start:self.stop].copy()
                for name, values in self.parent.all_arrays().items()}

    def write_array(self, name: str, values: np.ndarray) -> None:
        if self._shared(name):
            self.parent.write_array(name, values)
        else:
            self.parent.write(name, values, slice(self.start, self.stop))

    def time(self) -> float:
        return getattr(self.parent, "time", lambda: 0.0)()


def element_range(group: Any) -> tuple[Any, int, int]:
    """(parent group, start, stop) of a subgroup; (group, 0, len(group)) of a whole group."""
    if isinstance(group, Subgroup):
        return group.source, group.start, group.stop
    return group, 0, len(group)


def in_parent_frame(group: Any, tree: Expr) -> Expr:
    """`tree`, a subexpression of `group`'s parent, as code on `group` computes it."""
    return group.in_parent_frame(tree) if isinstance(group, Subgroup) else tree


def range_attribute(group: Any) -> tuple[int, int] | None:
    """The `[start, stop]` of a model IR op that uses `group`: None for a group (a subgroup
    spanning its whole parent keeps its range: Brian schedules a summed variable onto any
    subgroup one step later in the order, see synapse_kernels.py)."""
    return (group.start, group.stop) if isinstance(group, Subgroup) else None


def element_range_of(group: Any, item: Any) -> tuple[int, int]:
    """(start, stop) within `group` selected by `item` (a slice with step 1, an index, or
    increasing consecutive indices), checked: Brian's rules, but a bound beyond the group is an
    error rather than clipped."""
    size = len(group)
    shown = _item_text(item)

    def fail(why: str, hint: str) -> SubgroupError:
        return SubgroupError(f"{group.owner}[{shown}]: {why}", hint=hint)

    valid = f"{group.owner} has {size} elements: indices 0..{size - 1} (or -{size}..-1)"
    if isinstance(item, slice):
        for bound in (item.start, item.stop, item.step):
            if bound is not None and not _is_int(bound):
                raise fail("subgroup bounds must be integers", "e.g. G[10:50]")
        if item.step not in (None, 1):
            raise fail(f"subgroups are contiguous, so the step must be 1, not {item.step}",
                       "take G[a:b] and select elements inside it with a condition or indices")
        for bound in (item.start, item.stop):
            if bound is not None and not -size <= int(bound) <= size:
                raise fail(f"the bound {int(bound)} is outside the group", valid)
        start, stop, _ = item.indices(size)
    elif _is_int(item):
        start = int(item) + size if int(item) < 0 else int(item)
        if not 0 <= start < size:
            raise fail(f"index {int(item)} is outside the group", valid)
        stop = start + 1
    elif isinstance(item, (list, tuple, np.ndarray)):
        indices = np.asarray(item)
        if indices.ndim != 1 or not len(indices) or not np.issubdtype(indices.dtype, np.integer) \
                or np.any(np.diff(indices) != 1):
            raise fail("a subgroup needs consecutive increasing integer indices",
                       "use a slice, e.g. G[10:50]")
        start, stop = int(indices[0]), int(indices[-1]) + 1
        if start < 0 or stop > size:
            raise fail("indices are outside the group", valid)
    else:
        raise fail(f"cannot make a subgroup from a {type(item).__name__}",
                   "use a slice (G[10:50]), an index, or consecutive indices")
    if start >= stop:
        raise fail(f"the subgroup would be empty (start {start} >= stop {stop})",
                   f"give start < stop; {valid}")
    return start, stop


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_))


def _item_text(item: Any) -> str:
    if isinstance(item, slice):
        start, stop = ("" if bound is None else bound for bound in (item.start, item.stop))
        text = f"{start}:{stop}"
        return text + (f":{item.step}" if item.step is not None else "")
    return repr(item)
