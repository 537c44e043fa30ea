"""``spikec-opt``: read IR text, run a pass pipeline, print the result (the mlir-opt of spikec).

    spikec-opt input.ir --pass-pipeline='fold,cse,dce' [--print-ir-after-all]
               [--print-ir-after=cse] [--print-ir-after-change] [--time-passes]
               [--pass-statistics] [--split-input-file] [--verify-diagnostics] [-o out.ir]
    spikec-opt --list-passes

The result goes to stdout (or -o); IR dumps, timing and statistics go to stderr. Errors are printed
as ``file:line:column: error: message`` with the line and a caret, and the exit status is 1; no
traceback. With --split-input-file the input is cut at lines ``// -----`` and each part is handled
on its own (line numbers stay those of the whole file). With --verify-diagnostics a part may
announce the error it must produce, on the offending line or relative to it:

    kernel.frobnicate %x : f64   // expected-error {{unknown op}}
    // expected-error@+1 {{operand and result types differ}}
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass

from spikec.errors import PassError, SpikecError
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.ir.verify import verify_module
from spikec.passes.manager import PassManager
from spikec.passes.pipeline import parse_pipeline
from spikec.passes.registry import available_passes

SPLIT_MARKER = re.compile(r"^// -----\s*$", re.MULTILINE)
EXPECTED = re.compile(r"//\s*expected-error(@([+-]\d+))?\s*\{\{(.*?)\}\}")


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikec-opt", description="Run spikec passes on IR text.")
    parser.add_argument("input", nargs="?", default="-", help="IR file ('-' or nothing: stdin)")
    parser.add_argument("--pass-pipeline", default="", help="passes to run, e.g. 'fold,cse{cse-loads=false},dce'")
    parser.add_argument("-o", "--output", default="-", help="where to write the result (default: stdout)")
    parser.add_argument("--print-ir-after-all", action="store_true", help="print the IR after every pass (stderr)")
    parser.add_argument("--print-ir-after", action="append", default=[], metavar="PASS",
                        help="print the IR after this pass (repeatable)")
    parser.add_argument("--print-ir-after-change", action="store_true",
                        help="with the options above, print only when the pass changed the IR")
    parser.add_argument("--time-passes", action="store_true", help="report each pass's time (stderr)")
    parser.add_argument("--pass-statistics", action="store_true", help="report each pass's statistics (stderr)")
    parser.add_argument("--no-verify-each", action="store_true", help="do not verify after every pass")
    parser.add_argument("--split-input-file", action="store_true", help="handle parts split by '// -----' alone")
    parser.add_argument("--verify-diagnostics", action="store_true",
                        help="check errors against 'expected-error' comments instead of printing them")
    parser.add_argument("--list-passes", action="store_true", help="list every pass with its summary and options")
    return parser


@dataclass
class _Part:
    """One input part: its text padded with newlines so line numbers are those of the file."""

    text: str
    first_line: int


def main(argv: list[str] | None = None) -> int:
    args = _arguments().parse_args(argv)
    if args.list_passes:
        sys.stdout.write(list_passes())
        return 0
    source_name = "<stdin>" if args.input == "-" else args.input
    try:
        text = sys.stdin.read() if args.input == "-" else open(args.input, encoding="utf-8").read()
        if args.pass_pipeline:
            parse_pipeline(args.pass_pipeline)  # report a bad pipeline once, before any input
    except OSError as error:
        print(f"spikec-opt: error: cannot read {source_name}: {error.strerror}", file=sys.stderr)
        return 1
    except SpikecError as error:
        print(format_diagnostic(error, source_name), file=sys.stderr)
        return 1
    parts = _split(text) if args.split_input_file else [_Part(text, 1)]
    outputs, status = [], 0
    for part in parts:
        try:
            outputs.append(_run_part(part, source_name, args))
            if args.verify_diagnostics and _expectations(part):
                status |= _report_missing(part, source_name)
        except SpikecError as error:
            if args.verify_diagnostics:
                status |= _check_expected(error, part, source_name)
            else:
                print(format_diagnostic(error, source_name), file=sys.stderr)
                status = 1
    result = "// -----\n".join(outputs)
    if args.output == "-":
        sys.stdout.write(result)
    else:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(result)
    return status


def _run_part(part: _Part, source_name: str, args: argparse.Namespace) -> str:
    module = parse_module(part.text, source_name)
    verify_module(module)
    if args.pass_pipeline:
        manager = PassManager.from_pipeline(
            args.pass_pipeline, verify_each=not args.no_verify_each, print_after_all=args.print_ir_after_all,
            print_after=frozenset(args.print_ir_after), print_only_after_change=args.print_ir_after_change,
            source_name=source_name, output=sys.stderr)
        report = manager.run(module)
        if args.time_passes:
            print(report.format_timing(), file=sys.stderr)
        if args.pass_statistics:
            print(report.format_statistics(), file=sys.stderr)
    return print_module(module)


def _split(text: str) -> list[_Part]:
    starts, ends = [0], []
    for marker in SPLIT_MARKER.finditer(text):
        ends.append(marker.start())
        starts.append(marker.end())
    ends.append(len(text))
    parts = []
    for start, end in zip(starts, ends):
        line = text.count("\n", 0, start) + 1
        parts.append(_Part("\n" * (line - 1) + text[start:end], line))
    return parts


def format_diagnostic(error: SpikecError, source_name: str) -> str:
    """``file:line:col: error: message`` with the offending line, a caret and the hint."""
    location = error.location
    where = f"{location.owner or source_name}:{location.line}:{location.column}" if location else source_name
    lines = [f"{where}: error: {error.message}"]
    if location is not None:
        lines.append(location.excerpt())
    if error.hint:
        lines.append(f"note: {error.hint}")
    if isinstance(error, PassError) and getattr(error, "reproducer", None):
        lines.append("note: the IR before the failing pass was kept (PassError.reproducer)")
    return "\n".join(lines)


# -- --verify-diagnostics --------------------------------------------------------------------------
def _expectations(part: _Part) -> list[tuple[int, str]]:
    found = []
    for number, line in enumerate(part.text.splitlines(), start=1):
        for match in EXPECTED.finditer(line):
            found.append((number + int(match.group(2) or 0), match.group(3)))
    return found


def _check_expected(error: SpikecError, part: _Part, source_name: str) -> int:
    line = error.location.line if error.location is not None else None
    for expected_line, text in _expectations(part):
        if text in error.message and (line is None or line == expected_line):
            return 0
    print(f"{source_name}:{line or part.first_line}: error: unexpected error: {error.message}", file=sys.stderr)
    return 1


def _report_missing(part: _Part, source_name: str) -> int:
    for line, text in _expectations(part):
        print(f"{source_name}:{line}: error: expected error \"{text}\" was not produced", file=sys.stderr)
    return 1


def list_passes() -> str:
    """Every pass with its summary, options (with defaults) and statistics."""
    lines = ["Available passes:"]
    for name, cls in available_passes().items():
        if isinstance(cls, Exception):
            lines.append(f"  {name:<20} (cannot be imported: {type(cls).__name__}: {cls})")
            continue
        lines.append(f"  {name:<20} {cls.summary}")
        for option in cls.options():
            default = "true" if option.default is True else "false" if option.default is False else option.default
            lines.append(f"      {{{option.name}={default}}}  {option.help}")
        for statistic, meaning in cls.statistics.items():
            lines.append(f"      statistic {statistic}: {meaning}")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
