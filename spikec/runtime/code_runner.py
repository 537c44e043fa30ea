"""The runtime's `CodeRunner`: what the frontend's variable views and `connect` call to run code.

`spikec/__init__.py` registers it in the frontend's slot (the frontend cannot import the runtime,
a layer above it). Groups' code runs in `HostCode`, synapses' in `SynapticHostCode`, and
`Synapses.connect` builds its synapses with `spikec.runtime.connect`: natively
(`spikec.runtime.connect_compiled`) on the cpu and cuda devices, with the numpy reference on the
interpreter. Assignments and expressions likewise run natively on the cpu and cuda devices where
they can (`spikec.runtime.host_code_native`).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from spikec.frontend.groups import Group
from spikec.frontend.synapses import Synapses
from spikec.runtime.connect import build_synapses
from spikec.runtime.connect_compiled import walk_compiled
from spikec.runtime.devices import device_settings
from spikec.runtime.host_code import HostCode, _current_time
from spikec.runtime.synaptic_code import SynapticHostCode


def host_code_for(group: Group, namespace: dict[str, Any], owner: str) -> HostCode:
    """The group's host code, compiled where it can be except on the `interpreter` device (the
    reference runs everything there, as connect)."""
    compiled = device_settings.device != "interpreter"
    if isinstance(group, Synapses):
        return SynapticHostCode(group, namespace, owner, compiled=compiled)
    return HostCode(group, namespace, owner, compiled=compiled)


class HostCodeRunner:
    """Runs string code for the frontend's variable views, and builds connectivity."""

    def execute(self, group: Group, code: str, condition: str | None,
                namespace: dict[str, Any]) -> None:
        host_code_for(group, namespace, f"{group.owner}, assignment").execute(
            code, condition, _current_time(group))

    def evaluate(self, group: Group, expression: str, namespace: dict[str, Any]) -> np.ndarray:
        values, _ = host_code_for(group, namespace, f"{group.owner}, expression").evaluate(
            expression, _current_time(group))
        return values

    def connect(self, synapses: Synapses, plan: Any,
                namespace: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
        walk = None if device_settings.device == "interpreter" else walk_compiled
        return build_synapses(synapses, plan, namespace, walk)
