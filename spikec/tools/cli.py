"""``spikec``: run a Brian-style model script, or show its IR at a stage.

    spikec run SCRIPT.py [--device cpu|cuda|interpreter] [-- args for the script...]
    spikec ir SCRIPT.py --stage model|kernel|llvm|ptx [--print-ir-after-all] [--device ...]

`ir` runs the script in build-only mode: its first `run()` compiles the network and stops the
script; the chosen stage is printed (`model`: the model IR as built; `kernel`: after the pass
pipeline; `llvm`: the CPU backend's LLVM IR; `ptx`: the CUDA backend's PTX, which needs no GPU).
Errors print as spikec formats them, without a traceback, and exit with status 1.
"""

from __future__ import annotations

import argparse
import runpy
import sys

from spikec.errors import SpikecError
from spikec.runtime.devices import DEVICES, device_settings, set_device
from spikec.runtime.network import BuildOnlyStop, magic_network

STAGES = ("model", "kernel", "llvm", "ptx")


def _arguments() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="spikec", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run a model script")
    run.add_argument("script")
    run.add_argument("--device", choices=DEVICES, default=None,
                     help="where networks run (overrides the script's set_device)")
    run.add_argument("script_args", nargs="*", help="after '--': arguments for the script")
    show = commands.add_parser("ir", help="print a model script's IR at a stage")
    show.add_argument("script")
    show.add_argument("--stage", choices=STAGES, default="kernel")
    show.add_argument("--print-ir-after-all", action="store_true",
                      help="also print the IR after every pass of the pipeline (stderr)")
    show.add_argument("--device", choices=DEVICES, default=None)
    show.add_argument("script_args", nargs="*", help="after '--': arguments for the script")
    return parser


class _ForcedDevice:
    """Keeps `--device` in force even when the script calls set_device itself."""

    def __init__(self, device: str | None):
        self.device = device

    def __enter__(self):
        if self.device is not None:
            set_device(self.device)
            import spikec
            self.original = spikec.set_device
            spikec.set_device = lambda *args, **kwargs: None
        return self

    def __exit__(self, *exc):
        if self.device is not None:
            import spikec
            spikec.set_device = self.original


def _run_script(path: str, script_args: list[str]) -> None:
    sys.argv = [path, *script_args]
    runpy.run_path(path, run_name="__main__")


def _show(stage: str, compiled) -> str:
    if stage == "model":
        return str(compiled.model_ir)
    if stage == "kernel":
        return str(compiled.kernel_ir)
    if stage == "llvm":
        from spikec.backends.abi import ModulePlan
        from spikec.backends.cpu import lower_for_cpu
        return str(lower_for_cpu(ModulePlan(compiled.kernel_ir)).llvm_module)
    from spikec.backends.cuda import compile_cuda
    return compile_cuda(compiled.kernel_ir).ptx


def main(argv: list[str] | None = None) -> int:
    options = _arguments().parse_args(argv)
    try:
        with _ForcedDevice(options.device):
            if options.command == "run":
                _run_script(options.script, options.script_args)
                return 0
            device_settings.build_only = True
            magic_network.pipeline_settings = (
                {"print_after_all": True} if options.print_ir_after_all else {})
            try:
                _run_script(options.script, options.script_args)
            except BuildOnlyStop as stop:
                print(_show(options.stage, stop.compiled))
                return 0
            finally:
                device_settings.build_only = False
            print("spikec ir: the script never called run(), so there is no network to show",
                  file=sys.stderr)
            return 1
    except SpikecError as error:
        print(f"spikec: {type(error).__name__}: {error}", file=sys.stderr)
        return 1
    except FileNotFoundError as error:
        print(f"spikec: {error}", file=sys.stderr)
        return 1
    except BrokenPipeError:  # the reader (e.g. `| head`) stopped reading: not an error
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main())
