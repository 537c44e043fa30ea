"""Model code run on the host for synapses, or for candidate (i, j) pairs while connecting.

`S.w = 'rand()*wmax'`, `S.w['i > j'] = ...`, `S.delay = '1*ms + 0.1*ms*j'` and connect
conditions all run here: the same `HostCode` machinery as groups (checked, lowered with the
kernels' `BodyEmitter`, run by the reference interpreter), over a list of pairs. Besides the
synapses' own variables, code sees Brian's names: `i`, `j`, `x_pre` (the source's `x` at `i`),
`x_post` and an unsuffixed target variable `x` (the target's `x` at `j`), `N_pre`, `N_post`,
`N_incoming` and `N_outgoing` (per pair, of its target and source).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.errors import EquationError
from spikec.frontend.synapses import Synapses
from spikec.frontend.variables import CONSTANT, INDEX, SUBEXPRESSION_ROLE
from spikec.ir.dimension_rules import INTEGER
from spikec.ir.expression import Expr, identifiers
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_ops import CastOp, LoadOp
from spikec.ir.types import Type
from spikec.passes.lowering.code_to_ssa import BodyEmitter
from spikec.runtime.host_code import HostCode, element_type, type_of
from spikec.units import DIMENSIONLESS

_COUNTS = ("N_incoming", "N_outgoing")


def pair_variables(synapses: Synapses) -> dict[str, tuple[Any, str, str, str]]:
    """Names of the source's and target's variables as synaptic code sees them:
    name -> (dimension, kind, 'pre' or 'post', the variable's name in its group). Unsuffixed
    target variables come first, so the suffixed forms win where a name is both."""
    found: dict[str, tuple[Any, str, str, str]] = {}
    for side, group, suffixes in (("post", synapses.target, ("", "_post")),
                                  ("pre", synapses.source, ("_pre",))):
        for name, spec in group.variables.items():
            if spec.role in (INDEX, CONSTANT):
                continue  # i, N... of a group mean other things in synapses
            for suffix in suffixes:
                found[name + suffix] = (spec.dim, spec.kind, side, name)
    return found


class SynapticHostCode(HostCode):
    """Code over pairs (i, j): a synapses' own synapses (`bindings=None`), or candidate pairs
    while connecting (`bindings` maps 'i', 'j' and extra integer or float names to arrays of
    one value per pair; the synapses' own variables are then not visible)."""

    def __init__(self, synapses: Synapses, namespace: dict[str, Any], owner: str,
                 bindings: dict[str, np.ndarray] | None = None,
                 extra: dict[str, tuple] | None = None, compiled: bool = False):
        self.connecting = bindings is not None
        self.pairs = pair_variables(synapses)
        self.extra = dict(extra or {})
        super().__init__(synapses, namespace, owner, compiled)
        if bindings is None:
            bindings = {"i": synapses._pre, "j": synapses._post}
        self.bindings = bindings
        self.size = len(next(iter(bindings.values())))

    def _visible_variables(self) -> dict[str, tuple]:
        group: Synapses = self.group
        names = {n: (dim, kind) for n, (dim, kind, _, _) in self.pairs.items()}
        names.update({"i": (DIMENSIONLESS, INTEGER), "j": (DIMENSIONLESS, INTEGER),
                      "N_pre": (DIMENSIONLESS, INTEGER), "N_post": (DIMENSIONLESS, INTEGER),
                      "N": (DIMENSIONLESS, INTEGER)})
        if not self.connecting:
            names.update({n: (s.dim, s.kind) for n, s in group.variables.items()})
        names.update(self.extra)
        return names

    def _read_only(self) -> set[str]:
        own = super()._read_only() if not self.connecting else set()
        return own | set(self.pairs) | set(self.extra) | {"i", "j", "N_pre", "N_post", "N"}

    def _own_arrays(self, touched: set[str]) -> dict[str, np.ndarray]:
        return {} if self.connecting else super()._own_arrays(touched)

    def _emitter(self, kernel: KernelOp, trees: list[Expr]) -> BodyEmitter:
        group: Synapses = self.group
        names = self._names(trees)
        if self.connecting:
            names.arrays.clear()
            names.subexpressions.clear()
        names.constants.update({"N_pre": (len(group.source), Type.I64),
                                "N_post": (len(group.target), Type.I64),
                                "N": (len(group), Type.I64)})
        emitter = BodyEmitter(kernel, names, self.float_type, 0)
        used = set().union(*(identifiers(t) for t in list(trees) + list(
            names.subexpressions.values())))
        for name in sorted(used & (set(self.bindings) | {"i", "j"})):
            emitter.values[name] = self._load_binding(emitter, kernel, name)
        index = {"pre": lambda: self._index(emitter, kernel, "i"),
                 "post": lambda: self._index(emitter, kernel, "j")}
        for name in sorted(used):
            if name in emitter.values or name not in self.pairs:
                continue
            if not self.connecting and name in group.variables:
                continue
            _, kind, side, variable = self.pairs[name]
            source = group.source if side == "pre" else group.target
            spec = source.variables[variable]
            if spec.role == SUBEXPRESSION_ROLE:
                raise EquationError(f"{self.owner}: '{name}' is a subexpression of "
                                    f"{source.owner}, which synaptic code on the host cannot "
                                    "read yet", hint="write out its expression instead")
            array = f"{source.name}.{variable}"
            self.input_values[array] = np.ascontiguousarray(source.values.read(variable))
            at = emitter.constant(0, Type.I64) if spec.shared else index[side]()
            emitter.values[name] = emitter.body.add(LoadOp(
                array, at, element_type(kind, self.float_type), name))
        for name in sorted(used & set(_COUNTS)):
            if not self.connecting and name not in emitter.values:
                emitter.values[name] = self._count(emitter, kernel, name)
        return emitter

    def _index(self, emitter: BodyEmitter, kernel: KernelOp, name: str):
        if name not in emitter.values:
            emitter.values[name] = self._load_binding(emitter, kernel, name)
        return emitter.values[name]

    def _load_binding(self, emitter: BodyEmitter, kernel: KernelOp, name: str):
        values = np.ascontiguousarray(self.bindings[name])
        array = f"_pairs.{name}"
        self.input_values[array] = values
        loaded = emitter.body.add(LoadOp(array, kernel.index, type_of(values), name))
        return emitter.body.add(CastOp(loaded, Type.I64)) if loaded.type == Type.I32 else loaded

    def _count(self, emitter: BodyEmitter, kernel: KernelOp, name: str):
        """N_incoming (synapses onto this pair's target) or N_outgoing (from its source)."""
        group: Synapses = self.group
        side, length = ((group._post, len(group.target)) if name == "N_incoming"
                        else (group._pre, len(group.source)))
        array = f"_pairs.{name}"
        self.input_values[array] = np.bincount(side, minlength=length).astype(np.int32)
        at = self._index(emitter, kernel, "j" if name == "N_incoming" else "i")
        loaded = emitter.body.add(LoadOp(array, at, Type.I32, name))
        return emitter.body.add(CastOp(loaded, Type.I64))
