"""The pass manager, pipeline strings and the registry."""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import ClassVar

import pytest

from spikec.errors import PassError
from spikec.ir.core import Module
from spikec.ir.kernel import kernels
from spikec.ir.kernel_ops import ConstantOp
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.ir.types import Type
from spikec.passes.manager import PassManager, run_pipeline
from spikec.passes.pass_base import ModulePass, PassContext, option
from spikec.passes.pipeline import parse_pipeline, split_pipeline
from spikec.passes.registry import available_passes, get_pass, register_pass

TEXT = """kernel.array @x {length = 2} : f64
kernel.kernel @k {space = elements(2)} invariants() {
} body(%i: i64) {
  %a = kernel.constant 2.0 : f64
  %b = kernel.constant 3.0 : f64
  %c = kernel.mul %a, %b : f64
  kernel.store @x[%i], %c : f64
}
"""


@register_pass
@dataclass(frozen=True)
class BreakTypes(ModulePass):
    """Test pass: puts an f32 constant where an f64 is stored, which the verifier must catch."""

    name: ClassVar[str] = "test-break-types"
    summary: ClassVar[str] = "break the module"

    def apply(self, ctx: PassContext, module: Module) -> None:
        body = next(kernels(module)).body
        bad = body.insert(0, ConstantOp(1.0, Type.F32))
        body.ops[-1].set_operand(1, bad.result)
        ctx.mark_changed()


@register_pass
@dataclass(frozen=True)
class Crash(ModulePass):
    """Test pass: raises."""

    name: ClassVar[str] = "test-crash"
    summary: ClassVar[str] = "crash"
    level: int = option(1, "how hard")
    label: str | None = option(None, "a label")

    def apply(self, ctx: PassContext, module: Module) -> None:
        raise RuntimeError("boom")


def test_pipeline_strings_with_options():
    assert split_pipeline("fold, cse{cse-loads=false},dce") == ["fold", "cse{cse-loads=false}", "dce"]
    passes = parse_pipeline("fold{fold-math=false},test-crash{level=3 label=x},cse")
    assert [p.name for p in passes] == ["fold", "test-crash", "cse"]
    assert passes[0].fold_math is False and passes[1].level == 3 and passes[1].label == "x"
    assert passes[1].pipeline_text() == "test-crash{level=3 label=x}"
    assert passes[2].pipeline_text() == "cse"


@pytest.mark.parametrize("pipeline, message", [
    ("fodl", "unknown pass 'fodl'"),
    ("cse{loads=1}", "pass 'cse' has no option 'loads'"),
    ("cse{cse-loads=maybe}", "bad value 'maybe' for option 'cse-loads'"),
    ("test-crash{level=high}", "bad value 'high' for option 'level'"),
    ("cse{cse-loads}", "needs a value"),
    ("cse{cse-loads=true", "unclosed '{'"),
    ("fold,,cse", "empty pass name"),
])
def test_bad_pipelines_are_pass_errors(pipeline, message):
    with pytest.raises(PassError, match=message.replace("{", r"\{").replace("(", r"\(")):
        parse_pipeline(pipeline)


def test_unknown_pass_suggests_close_names():
    with pytest.raises(PassError) as caught:
        get_pass("hoist-invariant")
    assert "did you mean hoist-invariants" in caught.value.hint


def test_registry_lists_builtin_passes_with_their_five_things():
    passes = available_passes()
    for name in ("fold", "cse", "dce", "hoist-invariants"):
        cls = passes[name]
        assert cls.name == name and cls.summary and cls.statistics and cls.options()
        assert len(cls.description()) > 100


def test_manager_reports_changes_statistics_and_prints_after_change():
    module = parse_module(TEXT)
    out = io.StringIO()
    manager = PassManager.from_pipeline("cse,fold,dce", print_after_all=True, print_only_after_change=True,
                                        output=out)
    report = manager.run(module)
    assert [(r.name, r.changed) for r in report.records] == [("cse", False), ("fold", True), ("dce", True)]
    assert report.records[1].statistics == {"folded": 1}
    assert report.records[2].statistics == {"removed": 2}
    dumps = out.getvalue()
    assert "IR dump after fold" in dumps and "IR dump after dce" in dumps and "after cse" not in dumps
    assert "kernel.constant 6.0 : f64" in dumps
    assert "fold" in report.format_timing() and "folded = 1" in report.format_statistics()


def test_print_after_a_named_pass_only():
    out = io.StringIO()
    PassManager.from_pipeline("fold,dce", print_after=frozenset({"dce"}), output=out).run(parse_module(TEXT))
    assert out.getvalue().count("IR dump after") == 1 and "after dce" in out.getvalue()


def test_invalid_module_after_a_pass_names_pipeline_pass_and_reproducer():
    with pytest.raises(PassError) as caught:
        run_pipeline(parse_module(TEXT), "fold,test-break-types,dce", source_name="in.ir")
    error = caught.value
    assert "pass 'test-break-types' (step 2 of pipeline 'fold,test-break-types,dce') left an invalid module" in error.message
    assert "@x holds f64, not f32" in error.message
    assert "spikec-opt in.ir --pass-pipeline='fold'" in error.hint
    assert "kernel.constant 6.0" in error.reproducer  # the IR just before the failing pass


def test_reproducer_is_the_module_before_the_failing_pass():
    """The reproducer is rebuilt on failure from the input; it must equal the text before the pass."""
    expected = parse_module(TEXT)
    run_pipeline(expected, "fold,dce")
    with pytest.raises(PassError) as caught:
        run_pipeline(parse_module(TEXT), "fold,dce,test-break-types")
    assert caught.value.reproducer == print_module(expected)


def test_no_module_is_printed_unless_asked(monkeypatch):
    """Compile-time guard: printing a module per pass (for reproducers) once cost more than the
    passes; a successful pipeline must print nothing unless a dump is requested."""
    import spikec.passes.manager as manager
    printed = []
    monkeypatch.setattr(manager, "print_module", lambda module: printed.append(module) or "")
    run_pipeline(parse_module(TEXT), "fold,cse,dce,hoist-invariants")
    assert printed == []


def test_exception_inside_a_pass_becomes_a_pass_error():
    with pytest.raises(PassError, match=r"pass 'test-crash' \(step 1 of pipeline 'test-crash'\) failed: RuntimeError: boom"):
        run_pipeline(parse_module(TEXT), "test-crash")
