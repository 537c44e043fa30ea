"""Launches per time step of the benchmark models, counted from the kernel IR (no run).

    python benchmarks/launch_counts.py [--size 1000] [--pipeline PIPELINE ...]

Each model is built in build-only mode (`spikec ir`'s mechanism: the first `run` compiles and
stops) with each pipeline (default: the default pipeline, and the same without `schedule` and
`fuse-kernels`); the table counts the schedule's `kernel.launch` ops, the kernels launched in one
step of the fastest clock (clears of spike lists are not launches). GPU launches per tick are the
same number (a leading clear is done by the tick's first node)."""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MODELS = ("cobahh_uncoupled", "cuba", "cobahh", "brunel_hakim", "stdp", "mushroom_body",
          "microcircuit")


def unfused_pipeline(pipeline: str) -> str:
    """`pipeline` without the passes that reorder and merge launches."""
    return ",".join(p for p in pipeline.split(",") if p.split("{")[0] not in ("schedule", "fuse-kernels"))


def count_launches(model: str, size: int, pipeline: str) -> int:
    import spikec
    from spikec.ir.kernel import LaunchOp, schedule
    from spikec.runtime.devices import device_settings
    from spikec.runtime.network import BuildOnlyStop
    saved = (device_settings.pipeline, device_settings.build_only)
    device_settings.pipeline, device_settings.build_only = pipeline, True
    try:
        spikec.seed(1)
        built = importlib.import_module(f"benchmarks.models.{model}").build(spikec, size)
        net = built[0] if isinstance(built, tuple) else built
        try:
            net.run(0.1 * spikec.ms)
        except BuildOnlyStop as stop:
            step = schedule(stop.compiled.kernel_ir)
            return sum(isinstance(op, LaunchOp) for op in step.step.ops)
        raise RuntimeError(f"{model}: build-only mode did not stop the run")
    finally:
        device_settings.pipeline, device_settings.build_only = saved


def main() -> None:
    from spikec.runtime.devices import DEFAULT_PIPELINE
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1000)
    parser.add_argument("--models", nargs="*", default=list(MODELS))
    parser.add_argument("--pipeline", nargs="*",
                        default=[unfused_pipeline(DEFAULT_PIPELINE), DEFAULT_PIPELINE])
    args = parser.parse_args()
    print("| model | " + " | ".join(f"`{p}`" for p in args.pipeline) + " |")
    print("| --- |" + " --- |" * len(args.pipeline))
    for model in args.models:
        counts = [count_launches(model, args.size, p) for p in args.pipeline]
        print(f"| {model} | " + " | ".join(str(c) for c in counts) + " |", flush=True)


if __name__ == "__main__":
    main()
