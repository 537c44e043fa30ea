"""Finds passes by name, importing only what is asked for.

A pass named ``hoist-invariants`` lives in module ``spikec.passes.hoist_invariants``: dropping a file
into spikec/passes/ is all it takes to add a built-in pass, and looking one pass up imports one
module. Other packages add passes through the entry-point group ``spikec.passes``
(``my-pass = "mypackage.passes:MyPass"``), the way other simulators plug into spikec. Tests and
programs may also `register_pass` a class directly.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.metadata
import pkgutil
from typing import Callable

from spikec.errors import PassError
from spikec.passes.pass_base import ModulePass

ENTRY_POINT_GROUP = "spikec.passes"
_PACKAGE = "spikec.passes"
_EXPLICIT: dict[str, type[ModulePass]] = {}


def register_pass(cls: type[ModulePass]) -> type[ModulePass]:
    """Make `cls` available under `cls.name` (usable as a class decorator)."""
    _EXPLICIT[cls.name] = cls
    return cls


def _passes_in_module(module_name: str) -> dict[str, type[ModulePass]]:
    module = importlib.import_module(module_name)
    return {cls.name: cls for cls in vars(module).values()
            if isinstance(cls, type) and issubclass(cls, ModulePass) and cls.name
            and cls.__module__ == module_name}


def _entry_points() -> dict[str, Callable[[], type[ModulePass]]]:
    return {ep.name: ep.load for ep in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP)}


def get_pass(name: str) -> type[ModulePass]:
    """The pass class called `name`; PassError (with close matches) when there is none."""
    if name in _EXPLICIT:
        return _EXPLICIT[name]
    module_name = f"{_PACKAGE}.{name.replace('-', '_')}"
    try:
        found = _passes_in_module(module_name).get(name)
    except ModuleNotFoundError as error:
        if error.name != module_name:
            raise
        found = None
    if found is not None:
        return found
    loader = _entry_points().get(name)
    if loader is not None:
        return loader()
    known = sorted(available_passes())
    close = difflib.get_close_matches(name, known, n=3)
    hint = f"did you mean {', '.join(close)}?" if close else f"known passes: {', '.join(known)}"
    raise PassError(f"unknown pass {name!r}", hint=hint)


def available_passes() -> dict[str, type[ModulePass] | Exception]:
    """Every pass by name (built-in, entry points, registered); a module or entry point that fails
    to import appears as its exception, so listing never hides a broken pass."""
    found: dict[str, type[ModulePass] | Exception] = {}
    package = importlib.import_module(_PACKAGE)
    for info in pkgutil.iter_modules(package.__path__):
        module_name = f"{_PACKAGE}.{info.name}"
        try:
            found.update(_passes_in_module(module_name))
        except Exception as error:  # report it in the listing rather than failing the listing
            found[info.name.replace("_", "-")] = error
    for name, loader in _entry_points().items():
        try:
            found[name] = loader()
        except Exception as error:
            found[name] = error
    found.update(_EXPLICIT)
    return dict(sorted(found.items()))
