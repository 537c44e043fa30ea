"""Shared pytest hooks.

Tests marked `@pytest.mark.cuda` need an NVIDIA GPU and driver: where `cuda_driver.available()`
is False they are skipped (not failed), with the reason the driver layer gives.

Every test gets a fresh, memory-only pipeline cache (`spikec/passes/pipeline_cache.py`), so the
passes run in each test that builds a network, as they did before the cache: a lowered module
never comes from an earlier test or from disk (tests that patch a pass would otherwise not see
their patch).
"""

import pytest

from spikec.passes import pipeline_cache


@pytest.fixture(autouse=True)
def fresh_pipeline_cache(monkeypatch):
    cache = pipeline_cache.PipelineCache(directory=None)
    monkeypatch.setattr(pipeline_cache, "_DEFAULT", [cache])
    return cache


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
