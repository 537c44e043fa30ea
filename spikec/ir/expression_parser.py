"""Parsing model code (expressions and statement blocks) with the Lark grammar `expression.lark`.

One LALR parser per grammar is built on first use and kept (building takes ~20-50 ms; parsing an
equation line of ~65 characters takes ~0.6 ms, see benchmarks/frontend_parse.py). The built
tables are kept on disk under `$SPIKEC_CACHE_DIR/parsers` with Lark's own cache (`lalr_parser`):
loading them takes ~3 ms, which matters when every process builds a model. Lark's errors
never reach the user: they become `ModelSyntaxError`s that show the line and column with a caret
and say what was expected in words.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

import lark
from lark import Lark, Token, Transformer, v_args
from lark.visitors import Transformer_NonRecursive

from spikec.cache_directory import cache_directory
from spikec.errors import ModelSyntaxError, SourceLocation
from spikec.ir.expression import (BinaryOp, BoolOp, Call, Compare, Expr, Name, Number, Statement,
                                  UnaryOp, nesting_depth)

GRAMMAR_PATH = Path(__file__).with_name("expression.lark")

# What a user should read instead of Lark's terminal names.
_TERMINAL_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "LPAR": "'('", "RPAR": "')'", "COMMA": "','",
    "ADD_OP": "'+' or '-'", "MUL_OP": "'*', '/', '//' or '%'", "COMPARE_OP": "a comparison",
    "ASSIGN_OP": "'=', '+=', '-=', '*=' or '/='", "COLON": "':'", "SLASH": "'/'", "STAR": "'*'",
    "EQUAL": "'='", "FLAG": "a flag", "SIGNED_NUMBER": "a number",
    "$END": "the end of the text", "TRUE": "True", "FALSE": "False", "NOT": "'not'",
    "AND": "'and'", "OR": "'or'", "POWER_OP": "'**'",
}


def expression_grammar_text() -> str:
    """The grammar's source, for grammars that extend it (the frontend's equation grammar)."""
    return GRAMMAR_PATH.read_text()


class ExpressionBuilder(Transformer_NonRecursive):
    """Turns the parse tree into `spikec.ir.expression` trees with source spans.

    Non-recursive, so that a long sum (`a1 + a2 + ... + a1000`, a left-deep tree) does not
    exhaust Python's stack. `offset` shifts spans when a fragment of a larger text is parsed on
    its own (one statement of a block)."""

    def __init__(self, offset: int = 0):
        super().__init__()
        self.offset = offset

    def _span(self, meta) -> tuple[int, int] | None:
        if getattr(meta, "empty", True):
            return None
        return (meta.start_pos + self.offset, meta.end_pos + self.offset)

    def _token_span(self, token: Token) -> tuple[int, int]:
        return (token.start_pos + self.offset, token.end_pos + self.offset)

    @v_args(meta=True)
    def bool_or(self, meta, children):
        return BoolOp("or", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def bool_and(self, meta, children):
        return BoolOp("and", children[0], children[1], self._span(meta))

    @v_args(meta=True)
    def bool_not(self, meta, children):
        return UnaryOp("not", children[0], self._span(meta))

    @v_args(meta=True)
    def compare(self, meta, children):
        left, op, right = children
        return Compare(str(op), left, right, self._span(meta))

    @v_args(meta=True)
    def binary(self, meta, children):
        left, op, right = children
        return BinaryOp(str(op), left, right, self._span(meta))

    @v_args(meta=True)
    def power(self, meta, children):
        left, _, right = children
        return BinaryOp("**", left, right, self._span(meta))

    @v_args(meta=True)
    def unary(self, meta, children):
        op, operand = children
        return UnaryOp(str(op), operand, self._span(meta))

    def name(self, children):
        (token,) = children
        return Name(str(token), self._token_span(token))

    def number(self, children):
        (token,) = children
        text = str(token)
        is_int = not any(c in text for c in ".eE")
        return Number(int(text) if is_int else float(text), self._token_span(token))

    @v_args(meta=True)
    def true(self, meta, children):
        return Number(True, self._span(meta))

    @v_args(meta=True)
    def false(self, meta, children):
        return Number(False, self._span(meta))

    @v_args(meta=True)
    def call(self, meta, children):
        token, arguments = children
        args = tuple(arguments) if arguments is not None else ()
        return Call(str(token), args, self._span(meta), self._token_span(token))

    def arguments(self, children):
        return list(children)

    @v_args(meta=True)
    def statement(self, meta, children):
        target, op, expr = children
        return Statement(str(target), str(op), expr, self._span(meta), self._token_span(target))


@functools.cache
def _parser(start: str) -> Lark:
    return lalr_parser(expression_grammar_text(), start)


def lalr_parser(grammar: str, start: str) -> Lark:
    """A LALR parser of `grammar` from `start`. Lark caches its tables in a file that starts with a
    hash of the grammar, the options and Lark's and Python's versions, and rebuilds (and rewrites)
    it when they differ or the file is damaged; the file name also carries a hash of the grammar,
    so different grammars and versions of one do not overwrite each other."""
    directory = cache_directory("parsers")
    cache: str | bool = False
    if directory is not None:
        digest = hashlib.sha256(f"{start}\0{grammar}".encode()).hexdigest()[:16]
        try:
            directory.mkdir(parents=True, exist_ok=True)
            cache = str(directory / f"{start}-{digest}.lark")
        except OSError:  # no writable cache folder: build every time
            pass
    return Lark(grammar, start=start, parser="lalr", lexer="contextual",
                propagate_positions=True, maybe_placeholders=True, cache=cache)


def parse_with(parser: Lark, text: str, builder: Transformer, owner: str | None,
               what: str, full_text: str | None = None, offset: int = 0):
    """Run `parser` on `text` and build trees with `builder`; translate Lark's errors.

    `full_text`/`offset` place a fragment within the text the user wrote, so the caret lands in
    the right place of the original string."""
    source = full_text if full_text is not None else text
    try:
        tree = parser.parse(text)
        return builder.transform(tree)
    except lark.exceptions.UnexpectedCharacters as err:
        location = SourceLocation.from_offset(source, err.pos_in_stream + offset, owner)
        found = text[err.pos_in_stream]
        raise ModelSyntaxError(f"unexpected character {found!r} in {what}", location,
                               _mistake_hint(found) or _expected_hint(err.allowed)) from None
    except lark.exceptions.UnexpectedToken as err:
        token = err.token
        if token.type == "$END":
            location = SourceLocation.from_offset(source, len(text.rstrip()) + offset, owner)
            message = f"{what} ends too early"
        else:
            location = SourceLocation.from_offset(source, token.start_pos + offset, owner,
                                                  len(str(token)))
            message = f"unexpected {str(token)!r} in {what}"
        raise ModelSyntaxError(message, location, _mistake_hint(str(token))
                               or _expected_hint(err.accepts or err.expected)) from None
    except lark.exceptions.UnexpectedEOF as err:
        location = SourceLocation.from_offset(source, len(text.rstrip()) + offset, owner)
        raise ModelSyntaxError(f"{what} ends too early", location,
                               _expected_hint(err.expected)) from None
    except lark.exceptions.VisitError as err:  # a builder callback rejected the construct
        if isinstance(err.orig_exc, ModelSyntaxError):
            raise err.orig_exc from None
        raise


def _expected_hint(terminals) -> str | None:
    words = sorted({_TERMINAL_WORDS.get(t, t.lower()) for t in terminals or ()})
    if not words:
        return None
    if len(words) > 6:
        words = words[:6] + ["..."]
    return "expected " + ", ".join(words)


def _mistake_hint(found: str) -> str | None:
    """A hint for mistakes people make often, or None."""
    if found in ("<", "<=", ">", ">=", "==", "!="):
        return "comparisons do not chain: write '(a < b) and (b < c)'"
    if found == "=":
        return "'=' assigns and cannot appear in an expression; '==' compares"
    return None


# The deepest expression tree accepted. The checker, printer and sympy bridge walk trees
# recursively; this bound keeps them well inside Python's stack (a left-deep sum of 300 terms is
# 300 levels deep, far more than hand-written models need).
MAX_NESTING_DEPTH = 300


def require_shallow(expr: Expr, text: str, owner: str | None) -> Expr:
    """`expr` itself, or a ModelSyntaxError if it nests deeper than `MAX_NESTING_DEPTH`.
    `text` is the text `expr`'s spans point into."""
    depth = nesting_depth(expr)
    if depth > MAX_NESTING_DEPTH:
        start, end = expr.span or (0, len(text))
        raise ModelSyntaxError(f"the expression nests {depth} levels deep; at most "
                               f"{MAX_NESTING_DEPTH} are supported",
                               SourceLocation.from_offset(text, start, owner, end - start),
                               "split it into subexpressions")
    return expr


def parse_expression(text: str, owner: str | None = None) -> Expr:
    """Parse one expression (`-v/tau`, `v > vt and not_refractory`).

    `owner` names where the text comes from, for error messages
    (`"NeuronGroup 'G', threshold"`)."""
    if not text.strip():
        raise ModelSyntaxError("empty expression", SourceLocation.from_offset(text, 0, owner),
                               "write an expression, e.g. 'v > 10*mV'")
    expr = parse_with(_parser("expression"), text, ExpressionBuilder(), owner, "the expression")
    return require_shallow(expr, text, owner)


def split_statements(code: str) -> list[tuple[int, str]]:
    """The statements of a code block as (offset, text) pairs: one per line or `;`-separated
    part, comments and blank parts dropped. A line ending in a backslash continues."""
    pieces: list[tuple[int, str]] = []
    start = 0
    i = 0
    in_comment = False
    while i <= len(code):
        char = code[i] if i < len(code) else "\n"
        if char == "#":
            in_comment = True
        if char == "\\" and code[i + 1:i + 2] == "\n" and not in_comment:
            i += 2
            continue
        if char == "\n" or (char == ";" and not in_comment):
            piece = code[start:i]
            body = piece.split("#", 1)[0]
            if body.strip():
                pieces.append((start, body))
            start = i + 1
            in_comment = False
        i += 1
    return pieces


def parse_statements(code: str, owner: str | None = None) -> list[Statement]:
    """Parse a code block (`v = vr; w += b` or one statement per line) into statements."""
    parser = _parser("statement")
    statements = [parse_with(parser, piece, ExpressionBuilder(offset), owner, "the statement",
                             full_text=code, offset=offset)
                  for offset, piece in split_statements(code)]
    for statement in statements:
        require_shallow(statement.expr, code, owner)
    return statements
