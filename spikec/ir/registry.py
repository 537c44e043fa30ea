"""Which class implements which op name, and which module defines each dialect.

`register_op` is a class decorator storing the class under its `name`. The parser finds op classes
here; when a name's dialect (the part before the first dot) is not loaded yet, it imports the module
registered for that dialect with `register_dialect`, so reading a file never depends on which
modules happened to be imported before.
"""

from __future__ import annotations

import importlib
from typing import TypeVar

from spikec.ir.core import Op

OpClass = TypeVar("OpClass", bound=type[Op])

_OPS: dict[str, type[Op]] = {}
# dialect prefix -> module whose import registers the dialect's ops
_DIALECT_MODULES: dict[str, str] = {
    "kernel": "spikec.ir.kernel",
    "model": "spikec.ir.model",
}


def register_op(cls: OpClass) -> OpClass:
    """Class decorator: make `cls` the op class for `cls.name`."""
    if not cls.name or "." not in cls.name:
        raise ValueError(f"op class {cls.__name__} needs a dotted name like 'kernel.add'")
    existing = _OPS.get(cls.name)
    if existing is not None and existing is not cls:
        raise ValueError(f"op name {cls.name!r} is already registered by {existing.__name__}")
    _OPS[cls.name] = cls
    return cls


def register_dialect(prefix: str, module: str) -> None:
    """Say that importing `module` registers the ops named ``prefix.*``."""
    _DIALECT_MODULES[prefix] = module


def lookup_op(name: str) -> type[Op] | None:
    """The class registered for `name`, importing its dialect's module if needed."""
    if name not in _OPS:
        module = _DIALECT_MODULES.get(name.split(".", 1)[0])
        if module is not None:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as error:
                if error.name != module:
                    raise
    return _OPS.get(name)


def registered_ops() -> dict[str, type[Op]]:
    """Every op class registered so far (import the dialects first to see them all)."""
    return dict(_OPS)
