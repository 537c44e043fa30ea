"""Pipeline strings: ``fold,cse{cse-loads=false},dce`` -> configured pass instances.

A pipeline is a comma-separated list of pass names, each optionally followed by ``{...}`` holding
``option=value`` pairs separated by spaces or commas. Values are converted to the option's declared
type (bool: true/false/1/0; int; float; str; an optional type also accepts an empty value for
None; a Literal type accepts only its choices). Every mistake is a PassError naming the pipeline.
"""

from __future__ import annotations

import types
import typing
from typing import Any, Literal

from spikec.errors import PassError
from spikec.passes.pass_base import ModulePass, PassOption
from spikec.passes.registry import get_pass


def parse_pipeline(text: str) -> list[ModulePass]:
    """The passes of a pipeline string, configured with their options."""
    return [_instantiate(element, text) for element in split_pipeline(text)]


def split_pipeline(text: str) -> list[str]:
    """Split at the commas that are not inside an option block."""
    elements, depth, current = [], 0, ""
    for char in text:
        if char == "{":
            depth += 1
        elif char == "}":
            depth -= 1
            if depth < 0:
                raise PassError(f"unbalanced '}}' in pipeline {text!r}")
        if char == "," and depth == 0:
            elements.append(current.strip())
            current = ""
        else:
            current += char
    if depth:
        raise PassError(f"unclosed '{{' in pipeline {text!r}")
    elements.append(current.strip())
    if any(not e for e in elements) and text.strip():
        raise PassError(f"empty pass name in pipeline {text!r}", hint="remove the doubled or trailing comma")
    return [e for e in elements if e]


def _instantiate(element: str, pipeline: str) -> ModulePass:
    name, _, rest = element.partition("{")
    name = name.strip()
    cls = get_pass(name)
    options = {o.name: o for o in cls.options()}
    values: dict[str, Any] = {}
    body = rest.rstrip()
    if rest and not body.endswith("}"):
        raise PassError(f"text after the options of {name!r} in pipeline {pipeline!r}")
    for pair in body[:-1].replace(",", " ").split() if rest else []:
        key, equals, raw = pair.partition("=")
        option = options.get(key)
        if option is None:
            known = ", ".join(options) or "none"
            raise PassError(f"pass {name!r} has no option {key!r} (pipeline {pipeline!r})", hint=f"its options: {known}")
        if not equals:
            raise PassError(f"option {key!r} of pass {name!r} needs a value: {key}=...")
        values[option.field] = convert_option(option, raw, name)
    return cls(**values)


def convert_option(option: PassOption, raw: str, pass_name: str) -> Any:
    """`raw` as a value of the option's type; PassError when it is not one."""
    declared = option.type
    args = typing.get_args(declared)
    optional = typing.get_origin(declared) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        if raw == "":
            return None
        declared = next(a for a in args if a is not type(None))
    try:
        if typing.get_origin(declared) is Literal:
            choices = typing.get_args(declared)
            if raw not in choices:
                raise ValueError(f"choose one of {', '.join(map(str, choices))}")
            return raw
        if declared is bool:
            lowered = raw.lower()
            if lowered not in ("true", "false", "1", "0"):
                raise ValueError("expected true or false")
            return lowered in ("true", "1")
        if declared in (int, float, str):
            return declared(raw)
    except ValueError as error:
        raise PassError(f"bad value {raw!r} for option {option.name!r} of pass {pass_name!r}: {error}") from None
    raise PassError(f"option {option.name!r} of pass {pass_name!r} has a type the command line cannot set")
