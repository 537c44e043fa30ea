"""What a pass is: a frozen dataclass whose fields are its options, with a name, a summary, a
docstring for its description, declared statistics and an `apply(ctx, module)` method.

    @dataclass(frozen=True)
    class Fold(ModulePass):
        '''Fold constant computations and exact identities (x * 1 -> x) ...'''
        name: ClassVar[str] = "fold"
        summary: ClassVar[str] = "fold constants and exact algebraic identities"
        statistics: ClassVar[dict[str, str]] = {"folded": "ops replaced by a constant"}
        fold_math: bool = option(True, "also fold math functions (exp, log, ...)")

        def apply(self, ctx: PassContext, module: Module) -> None:
            ...
            ctx.count("folded")        # counts a statistic and marks the module changed

On the command line the option is ``fold{fold-math=false}``.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, ClassVar, TypeVar

from spikec.ir.core import Module

Analysis = TypeVar("Analysis")


def option(default: Any, help: str) -> Any:
    """A pass option: a dataclass field with a default and a one-line description."""
    return dataclasses.field(default=default, metadata={"help": help})


@dataclass(frozen=True)
class PassOption:
    """One option of a pass as the command line sees it (``cse-loads``, ``bool``, ``True``)."""

    name: str
    field: str
    type: Any
    default: Any
    help: str


class PassContext:
    """What a running pass reports to (statistics, whether it changed the IR) and asks for
    (analyses, computed once and cached until a pass changes the module)."""

    def __init__(self, analyses: dict[type, object] | None = None):
        self.statistics: Counter[str] = Counter()
        self.changed = False
        self._analyses = analyses if analyses is not None else {}

    def count(self, statistic: str, amount: int = 1) -> None:
        """Add to a statistic of changes made; a non-zero amount marks the module changed."""
        self.statistics[statistic] += amount
        if amount:
            self.changed = True

    def mark_changed(self) -> None:
        self.changed = True

    def analysis(self, kind: Callable[[Module], Analysis], module: Module) -> Analysis:
        """`kind(module)`, reused while no pass changes the module."""
        if kind not in self._analyses:
            self._analyses[kind] = kind(module)
        return self._analyses[kind]  # type: ignore[return-value]


@dataclass(frozen=True)
class ModulePass:
    """Base class of passes; see the module docstring."""

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    statistics: ClassVar[dict[str, str]] = {}

    def apply(self, ctx: PassContext, module: Module) -> None:
        raise NotImplementedError(f"pass {self.name} has no apply()")

    @classmethod
    def description(cls) -> str:
        return inspect.getdoc(cls) or cls.summary

    @classmethod
    def options(cls) -> list[PassOption]:
        hints = typing.get_type_hints(cls)
        return [PassOption(f.name.replace("_", "-"), f.name, hints[f.name], f.default, f.metadata.get("help", ""))
                for f in dataclasses.fields(cls)]

    def pipeline_text(self) -> str:
        """This pass as a pipeline element, with the options that differ from their defaults."""
        changed = [f"{o.name}={format_option(getattr(self, o.field))}" for o in self.options()
                   if getattr(self, o.field) != o.default]
        return self.name + ("{" + " ".join(changed) + "}" if changed else "")


def format_option(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)
