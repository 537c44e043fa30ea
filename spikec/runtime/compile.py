"""From model objects to a kernel-IR module: build the model IR, run the pass pipeline.

The result keeps both stages (`model_ir` as built, `kernel_ir` after the pipeline), which the
`spikec ir` command prints and the runtime executes. The pipeline's result comes from the
pipeline cache (`spikec/passes/pipeline_cache.py`) when the same model IR was lowered by the same
pipeline and spikec before; then no pass runs (`report.from_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from spikec.frontend.build_model import build_model_ir
from spikec.ir.core import Module
from spikec.passes.manager import PassManager, PipelineReport
from spikec.passes.pipeline_cache import PipelineCache, default_pipeline_cache


@dataclass
class CompiledModel:
    model_ir: Module
    kernel_ir: Module
    report: PipelineReport


def compile_model(objects: Iterable[Any], namespace: Mapping[str, Any], pipeline: str,
                  cache: PipelineCache | None = None, **pipeline_settings: object) -> CompiledModel:
    """Build the model IR of `objects` (names resolved in `namespace` after each object's own)
    and lower it with `pipeline` (a pass pipeline string)."""
    model_ir = build_model_ir(objects, namespace)
    kernel_ir, report = lower_model(model_ir, pipeline, cache, **pipeline_settings)
    return CompiledModel(model_ir, kernel_ir, report)


def lower_model(model_ir: Module, pipeline: str, cache: PipelineCache | None = None,
                **pipeline_settings: object) -> tuple[Module, PipelineReport]:
    """`model_ir` (left unchanged) lowered by `pipeline`, through the pipeline cache (`cache`,
    default the process's) unless the pipeline or the settings ask for printing."""
    reports: list[PipelineReport] = []

    def lower() -> Module:
        kernel_ir = model_ir.clone()
        reports.append(PassManager.from_pipeline(pipeline, **pipeline_settings).run(kernel_ir))
        return kernel_ir

    if not PipelineCache.cacheable(pipeline, pipeline_settings):
        kernel_ir = lower()
        return kernel_ir, reports[0]
    cache = default_pipeline_cache() if cache is None else cache
    kernel_ir, hit = cache.get_or_lower(cache.key(model_ir, pipeline, pipeline_settings), lower)
    return kernel_ir, (PipelineReport(from_cache=True) if hit else reports[0])
