"""From model objects to a kernel-IR module: build the model IR, run the pass pipeline.

The result keeps both stages (`model_ir` as built, `kernel_ir` after the pipeline), which the
`spikec ir` command prints and the runtime executes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from spikec.frontend.build_model import build_model_ir
from spikec.ir.core import Module
from spikec.passes.manager import PassManager, PipelineReport


@dataclass
class CompiledModel:
    model_ir: Module
    kernel_ir: Module
    report: PipelineReport


def compile_model(objects: Iterable[Any], namespace: Mapping[str, Any], pipeline: str,
                  **pipeline_settings: object) -> CompiledModel:
    """Build the model IR of `objects` (names resolved in `namespace` after each object's own)
    and lower it with `pipeline` (a pass pipeline string)."""
    model_ir = build_model_ir(objects, namespace)
    kernel_ir = model_ir.clone()
    report = PassManager.from_pipeline(pipeline, **pipeline_settings).run(kernel_ir)
    return CompiledModel(model_ir, kernel_ir, report)
