"""Which device runs networks: `set_device('cpu')` (default) or `set_device('cuda')`.

The selection is one explicit `DeviceSettings` object (`device_settings`), read when a network is
built, as Brian's `set_device` is. `'interpreter'` runs the reference interpreter (numpy): slow,
but the definition of the semantics, useful for checking a backend.
"""

from __future__ import annotations

from dataclasses import dataclass

from spikec.errors import SpikecError

DEVICES = ("cpu", "cuda", "interpreter")
DEFAULT_PIPELINE = ("check-units,inline-subexpressions,integrate,select-propagation,"
                    "lower-to-kernels,merge-rings,schedule,fuse-kernels,drop-unread-lists,expand-pow,fold,cse,dce,"
                    "hoist-invariants,hoist-reciprocals,share-reciprocals")


@dataclass
class DeviceSettings:
    """The current device, the pass pipeline networks are compiled with, and the random seed
    (None: a fresh seed per build, as Brian without `seed()`)."""

    device: str = "cpu"
    pipeline: str = DEFAULT_PIPELINE
    seed: int | None = None
    seed_calls: int = 0  # every seed() call restarts the random streams, even with one value
    build_only: bool = False  # `spikec ir`: compile at the first run, then stop the script


device_settings = DeviceSettings()


def set_device(device: str, pipeline: str | None = None, **options: object) -> None:
    """Choose where networks run from now on: 'cpu' (default), 'cuda' or 'interpreter'."""
    if device not in DEVICES:
        raise SpikecError(f"unknown device {device!r}", hint=f"use one of {', '.join(DEVICES)}")
    if options:
        raise SpikecError(f"set_device: unknown options {', '.join(sorted(options))}",
                          hint="set_device(device, pipeline=None) is all spikec takes")
    if device == "cuda":
        from spikec.backends import cuda_driver
        if not cuda_driver.available():
            raise SpikecError("set_device('cuda'): no usable NVIDIA GPU",
                              hint=f"{cuda_driver.unavailable_reason()}; "
                                   "or keep the default set_device('cpu')")
        # the context is created while the script builds its objects (compile time, docs/performance.md)
        cuda_driver.Context.warm_up()
    device_settings.device = device
    if pipeline is not None:
        device_settings.pipeline = pipeline


def get_device() -> str:
    return device_settings.device


def seed(value: int | None = None) -> None:
    """Fix the seed of every random number drawn from now on (rand(), randn(), xi, Poisson
    inputs); `seed()` returns to a fresh seed per build. The same seed gives the same numbers on
    every device."""
    if value is not None and not (isinstance(value, int) and 0 <= value < 2**64):
        raise SpikecError(f"seed({value!r}): the seed must be an integer in [0, 2**64)")
    device_settings.seed = value
    device_settings.seed_calls += 1
