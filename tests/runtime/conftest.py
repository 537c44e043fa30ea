"""The `device` fixture of the runtime tests: every test taking it runs on each CPU-side device
(the reference interpreter and the CPU backend), with the device settings restored afterwards."""

import pytest

import spikec
from spikec.runtime.devices import device_settings

DEVICES = ("interpreter", "cpu")


@pytest.fixture(params=DEVICES)
def device(request):
    saved = (device_settings.device, device_settings.pipeline, device_settings.seed)
    spikec.set_device(request.param)
    yield request.param
    device_settings.device, device_settings.pipeline, device_settings.seed = saved
