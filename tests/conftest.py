"""Shared pytest hooks.

Tests marked `@pytest.mark.cuda` need an NVIDIA GPU and driver: where `cuda_driver.available()`
is False they are skipped (not failed), with the reason the driver layer gives.
"""

import pytest


def pytest_collection_modifyitems(config, items):
    cuda_items = [item for item in items if item.get_closest_marker("cuda") is not None]
    if not cuda_items:
        return
    from spikec.backends.cuda_driver import unavailable_reason
    reason = unavailable_reason()
    if reason:
        skip = pytest.mark.skip(reason=f"no usable CUDA GPU: {reason}")
        for item in cuda_items:
            item.add_marker(skip)
