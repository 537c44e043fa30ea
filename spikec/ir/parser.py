"""Reads the IR text (grammar in ``ir.lark``) back into a `Module`.

Lark parses the generic op shape; this module resolves value names (scoped per module-level op,
regions nested, a later region of a `sequential_regions` op seeing the earlier ones), decodes
attributes through the op class's codecs and lets the op class build itself (`Op.from_parsed`).
Every problem becomes an `IRParseError` with line, column and caret; no Lark exception escapes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Iterator

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, UnexpectedToken

from spikec.errors import IRParseError, SourceLocation, SpikecError
from spikec.ir.attributes import CallAttr, SymbolRef
from spikec.ir.core import Block, Module, Op, Region, Value
from spikec.ir.registry import lookup_op
from spikec.ir.syntax import IndexedSymbol, Keyword, ParsedOp
from spikec.ir.types import Type

_WORDS = {"true": True, "false": False}
_OPENERS = {"LPAR": "paren", "LSQB": "paren", "LBRACE": None}
_CLOSERS = {"RPAR", "RSQB", "RBRACE"}


class _NewlinesInBrackets:
    """Post-lexer dropping newlines inside (), [] and attribute dicts, but not inside a region's
    braces (a region's `{` is the one that follows the `)` of its argument list)."""

    always_accept = ("_NL",)

    def process(self, stream: Iterator[Token]) -> Iterator[Token]:
        stack: list[str] = []
        previous = None
        for token in stream:
            if token.type == "_NL" and stack and stack[-1] != "region":
                continue
            if token.type in _OPENERS:
                kind = _OPENERS[token.type] or ("region" if previous == "RPAR" else "paren")
                stack.append(kind)
            elif token.type in _CLOSERS and stack:
                stack.pop()
            previous = token.type
            yield token


_GRAMMAR = Lark((Path(__file__).with_name("ir.lark")).read_text(), parser="lalr",
                postlex=_NewlinesInBrackets(), propagate_positions=True, maybe_placeholders=True)


def parse_module(text: str, owner: str | None = None) -> Module:
    """Parse IR text into a module (not verified: call `verify_module` for that)."""
    try:
        tree = _GRAMMAR.parse(text)
    except UnexpectedInput as error:
        raise _syntax_error(text, owner, error) from None
    builder = _ModuleBuilder(text, owner)
    return Module(builder.top_level_op(child) for child in tree.children if isinstance(child, Tree))


def _syntax_error(text: str, owner: str | None, error: UnexpectedInput) -> IRParseError:
    if isinstance(error, UnexpectedEOF) or getattr(error, "token", None) == "$END" or (
            isinstance(error, UnexpectedToken) and error.token.type == "$END"):
        location = SourceLocation.from_offset(text, len(text.rstrip()), owner)
        return IRParseError("unexpected end of input", location, "an op or region is unfinished")
    location = SourceLocation(text, error.line, error.column, owner)
    if isinstance(error, UnexpectedCharacters):
        char = text[error.pos_in_stream] if error.pos_in_stream < len(text) else "?"
        return IRParseError(f"unexpected character {char!r}", location)
    token = error.token
    shown = "end of line" if token.type == "_NL" else repr(str(token))
    location = SourceLocation(text, token.line, token.column, owner, len(str(token).rstrip()) or 1)
    expected = sorted(_describe_terminal(t) for t in getattr(error, "expected", ()) or ())
    hint = f"expected {', '.join(expected)}" if expected else None
    return IRParseError(f"unexpected {shown}", location, hint)


def _describe_terminal(name: str) -> str:
    described = {"VALUE": "a value (%name)", "SYMBOL": "a symbol (@name)", "OP_NAME": "an op name",
                 "IDENT": "a word", "TYPE_NAME": "a type", "_NL": "end of line", "INT": "an integer",
                 "FLOAT": "a float", "STRING": "a string", "COMMA": "','", "COLON": "':'",
                 "EQUAL": "'='", "LBRACE": "'{'", "RBRACE": "'}'", "LPAR": "'('", "RPAR": "')'",
                 "LSQB": "'['", "RSQB": "']'", "IF": "'if'", "__ANON_0": "'->'"}
    return described.get(name, name)


class _ModuleBuilder:
    """Turns the parse tree into ops, one naming scope per module-level op."""

    def __init__(self, text: str, owner: str | None):
        self.text = text
        self.owner = owner
        self.scopes: list[dict[str, Value]] = []

    def location(self, token: Token | Tree) -> SourceLocation:
        if isinstance(token, Token):
            return SourceLocation(self.text, token.line, token.column, self.owner, len(token) or 1)
        meta = token.meta
        return SourceLocation(self.text, meta.line, meta.column, self.owner)

    def error(self, message: str, token: Token | Tree, hint: str | None = None) -> IRParseError:
        return IRParseError(message, self.location(token), hint)

    # -- values and scopes -------------------------------------------------------------------
    def top_level_op(self, tree: Tree) -> Op:
        self.scopes = [{}]
        return self.op(tree)

    def lookup(self, token: Token) -> Value:
        for scope in reversed(self.scopes):
            if str(token) in scope:
                return scope[str(token)]
        raise self.error(f"use of undefined value {token}", token,
                         "values must be defined before they are used, in this op or an enclosing one")

    def define(self, token: Token, value: Value) -> None:
        if any(str(token) in scope for scope in self.scopes):
            raise self.error(f"redefinition of {token}", token, "every SSA value is defined once")
        self.scopes[-1][str(token)] = value
        hint = str(token)[1:]
        value.name_hint = None if hint.isdigit() else hint

    def type(self, token: Token) -> Type:
        found = Type.from_name(str(token))
        if found is None:
            raise self.error(f"unknown type {token}", token, "types are f64, f32, i32, i64, bool")
        return found

    # -- ops -----------------------------------------------------------------------------------
    def op(self, tree: Tree) -> Op:
        results, name_token, items, mask, attr_dict, types, *regions = tree.children
        name = str(name_token)
        cls = lookup_op(name)
        if cls is None:
            raise self.error(f"unknown op {name}", name_token,
                             "is the dialect that defines it registered (spikec.ir.registry)?")
        parsed = ParsedOp(
            name=name,
            result_names=[str(t) for t in results.children] if results is not None else [],
            items=[self.item(i) for i in items.children] if items is not None else [],
            mask=self.lookup(mask.children[0]) if mask is not None else None,
            attributes=self.attributes(cls, attr_dict) if attr_dict is not None else {},
            types=[self.type(t) for t in types.children[0].children] if types is not None else [],
            result_types=self.result_types(types),
            regions=self.regions(cls, name_token, regions),
            location=self.location(name_token),
        )
        try:
            op = cls.from_parsed(parsed)
        except (ValueError, TypeError) as error:
            raise parsed.error(str(error)) from None
        op.location = parsed.location
        if len(op.results) != len(parsed.result_names):
            raise parsed.error(f"has {len(op.results)} result(s), but {len(parsed.result_names)} named")
        for token, result in zip(results.children if results is not None else [], op.results):
            self.define(token, result)
        return op

    def result_types(self, types: Tree | None) -> list[Type] | None:
        if types is None or types.children[1] is None:
            return None
        return [self.type(t) for t in types.children[1].children]

    def item(self, tree: Tree | Token) -> object:
        kind, children = tree.data, tree.children
        token = children[0]
        if kind == "value_item":
            return self.lookup(token)
        if kind == "indexed_item":
            return IndexedSymbol(_symbol(token), self.lookup(children[1]))
        if kind == "symbol_item":
            return _symbol(token)
        if kind == "keyword_item":
            return Keyword(str(token))
        if kind == "int_item":
            return int(token)
        if kind == "float_item":
            return float(token)
        return json.loads(str(token))

    def regions(self, cls: type[Op], name_token: Token, trees: list[Tree]) -> list[Region]:
        names = [str(t.children[0]) for t in trees]
        if names != list(cls.region_names):
            expected = ", ".join(cls.region_names) or "none"
            raise self.error(f"{name_token} has regions ({', '.join(names) or 'none'}), expected ({expected})",
                             name_token)
        outer = len(self.scopes)
        built = []
        for tree in trees:
            if not cls.sequential_regions:
                del self.scopes[outer:]
            self.scopes.append({})
            built.append(self.region(tree))
        del self.scopes[outer:]
        return built

    def region(self, tree: Tree) -> Region:
        _, *rest = tree.children
        arg_trees = [c for c in rest if isinstance(c, Tree) and c.data == "block_arg"]
        op_trees = [c for c in rest if isinstance(c, Tree) and c.data == "op"]
        block = Block([self.type(t.children[1]) for t in arg_trees])
        for arg_tree, arg in zip(arg_trees, block.args):
            self.define(arg_tree.children[0], arg)
        for op_tree in op_trees:
            block.append(self.op(op_tree))
        return Region(block)

    # -- attributes -------------------------------------------------------------------------------
    def attributes(self, cls: type[Op], tree: Tree) -> dict[str, object]:
        decoded: dict[str, object] = {}
        for entry in tree.children:
            if entry is None:
                continue
            key_token, value_tree = entry.children
            key = json.loads(str(key_token)) if key_token.type == "STRING" else str(key_token)
            if key in decoded:
                raise self.error(f"attribute {key!r} given twice", key_token)
            value = self.attribute(value_tree)
            codec = cls.attribute_codecs.get(key)
            if codec is not None:
                try:
                    value = codec.decode(value)
                except SpikecError as error:
                    raise self.error(f"bad attribute {key!r}: {error.message}", key_token, error.hint) from None
                except Exception as error:  # a codec's own validation: report, never a traceback
                    raise self.error(f"bad attribute {key!r}: {error}", key_token) from None
            decoded[key] = value
        return decoded

    def attribute(self, tree: Tree | Token) -> object:
        kind = tree.data
        children = [c for c in tree.children if c is not None]
        if kind == "int_attr":
            return int(children[0])
        if kind == "float_attr":
            return float(children[0])
        if kind == "string_attr":
            return json.loads(str(children[0]))
        if kind == "symbol_attr":
            return _symbol(children[0])
        if kind == "word_attr":
            return self.word(children[0])
        if kind == "call_attr":
            return CallAttr(str(children[0]), tuple(self.attribute(c) for c in children[1:]))
        if kind == "list_attr":
            return tuple(self.attribute(c) for c in children)
        return {self._key(e.children[0]): self.attribute(e.children[1]) for e in children}

    @staticmethod
    def _key(token: Token) -> str:
        return json.loads(str(token)) if token.type == "STRING" else str(token)

    def word(self, token: Token) -> object:
        if str(token) in _WORDS:
            return _WORDS[str(token)]
        found = Type.from_name(str(token))
        if found is None:
            raise self.error(f"unknown attribute value {token}", token,
                             "bare words are true, false and type names; quote strings")
        return found


def _symbol(token: Token) -> SymbolRef:
    text = str(token)[1:]
    return SymbolRef(json.loads(text) if text.startswith('"') else text)
