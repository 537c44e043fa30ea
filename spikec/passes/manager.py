"""Runs a pipeline of passes over a module: verifies after each pass, prints the IR on request,
times the passes and collects their statistics.

A failure inside a pass, or a module that no longer verifies after it, becomes a `PassError` that
names the pipeline and the pass and says how to reproduce it with ``spikec-opt``; the text of the
module before the failing pass is kept on the error (`PassError.reproducer`) so tools can save it.

Nothing is printed while the passes succeed: the manager keeps one clone of the input module and,
only when a pass fails, re-runs the passes before it on that clone to print the reproducer (passes
are deterministic). Printing the module before every pass cost more than most passes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from spikec.errors import PassError, SpikecError
from spikec.ir.core import Module
from spikec.ir.printer import print_module
from spikec.ir.verify import verify_module
from spikec.passes.pass_base import ModulePass, PassContext
from spikec.passes.pipeline import parse_pipeline


@dataclass
class PassRecord:
    """What one pass did: whether it changed the module, its statistics and its time."""

    name: str
    changed: bool
    statistics: dict[str, int]
    seconds: float


@dataclass
class PipelineReport:
    """The passes' records; none when the result came from the pipeline cache (`from_cache`:
    no pass ran, see `spikec/passes/pipeline_cache.py`)."""

    records: list[PassRecord] = field(default_factory=list)
    from_cache: bool = False

    @property
    def changed(self) -> bool:
        return any(r.changed for r in self.records)

    def format_timing(self) -> str:
        total = sum(r.seconds for r in self.records) or 1e-12
        lines = ["===- pass execution timing -===", f"  {'wall (s)':>10}  {'%':>6}  pass"]
        for record in self.records:
            lines.append(f"  {record.seconds:10.6f}  {100 * record.seconds / total:6.1f}  {record.name}")
        lines.append(f"  {sum(r.seconds for r in self.records):10.6f}  {100.0:6.1f}  total")
        return "\n".join(lines)

    def format_statistics(self) -> str:
        lines = ["===- pass statistics -==="]
        for record in self.records:
            counts = ", ".join(f"{k} = {v}" for k, v in sorted(record.statistics.items())) or "nothing changed"
            lines.append(f"  {record.name}: {counts}")
        return "\n".join(lines)


@dataclass
class PassManager:
    """A configured pipeline. `print_after` names passes whose output to print; with
    `print_only_after_change`, unchanged modules are not printed."""

    passes: list[ModulePass]
    verify_each: bool = True
    print_after_all: bool = False
    print_after: frozenset[str] = frozenset()
    print_only_after_change: bool = False
    source_name: str = "input.ir"
    output: TextIO = field(default_factory=lambda: sys.stderr)

    @classmethod
    def from_pipeline(cls, pipeline: str, **settings: object) -> "PassManager":
        return cls(parse_pipeline(pipeline), **settings)  # type: ignore[arg-type]

    @property
    def pipeline(self) -> str:
        return ",".join(p.pipeline_text() for p in self.passes)

    def run(self, module: Module) -> PipelineReport:
        """Run every pass on `module` in place; raise PassError when one fails."""
        report = PipelineReport()
        analyses: dict[type, object] = {}
        initial = module.clone()  # only read to print a reproducer when a pass fails
        verified = False
        for position, pass_ in enumerate(self.passes):
            ctx = PassContext(analyses)
            start = time.perf_counter()
            try:
                pass_.apply(ctx, module)
            except Exception as error:
                raise self._failure(position, f"failed: {_describe(error)}", initial) from error
            seconds = time.perf_counter() - start
            if ctx.changed:
                analyses.clear()
            # A pass that changed nothing leaves a module verified after an earlier pass valid.
            if self.verify_each and (ctx.changed or not verified):
                try:
                    verify_module(module)
                except SpikecError as error:
                    raise self._failure(position, f"left an invalid module: {error.render()}",
                                        initial) from None
                verified = True
            report.records.append(PassRecord(pass_.name, ctx.changed, dict(ctx.statistics), seconds))
            self._maybe_print(pass_, ctx.changed, module)
        return report

    def _maybe_print(self, pass_: ModulePass, changed: bool, module: Module) -> None:
        wanted = self.print_after_all or pass_.name in self.print_after
        if wanted and (changed or not self.print_only_after_change):
            self.output.write(f"// -----// IR dump after {pass_.pipeline_text()} //----- //\n")
            self.output.write(print_module(module))
            self.output.flush()

    def _failure(self, position: int, what: str, initial: Module) -> PassError:
        pass_ = self.passes[position]
        prefix = ",".join(p.pipeline_text() for p in self.passes[:position])
        reproduce = (f"spikec-opt {self.source_name} --pass-pipeline='{prefix}' > before.ir && "
                     f"spikec-opt before.ir --pass-pipeline='{pass_.pipeline_text()}'") if prefix else (
            f"spikec-opt {self.source_name} --pass-pipeline='{pass_.pipeline_text()}'")
        error = PassError(f"pass '{pass_.name}' (step {position + 1} of pipeline '{self.pipeline}') {what}",
                          hint=f"reproduce with: {reproduce}")
        error.reproducer = self._reproducer(initial, position)  # type: ignore[attr-defined]
        return error

    def _reproducer(self, initial: Module, position: int) -> str | None:
        """The text of the module just before pass `position`: the passes before it run again on
        (the clone of) the pipeline's input. None if that fails, which it should not."""
        try:
            for pass_ in self.passes[:position]:
                pass_.apply(PassContext(), initial)
            return print_module(initial)
        except Exception:  # noqa: BLE001 - the original error is what gets reported
            return None


def _describe(error: Exception) -> str:
    if isinstance(error, SpikecError):
        return error.render()
    return f"{type(error).__name__}: {error}"


def run_pipeline(module: Module, pipeline: str, **settings: object) -> PipelineReport:
    """Parse `pipeline` and run it on `module` (in place)."""
    return PassManager.from_pipeline(pipeline, **settings).run(module)
