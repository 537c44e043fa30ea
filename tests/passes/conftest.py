"""Pass tests integrate with sympy every time: the process-wide integration cache is replaced by a
fresh, memory-only one per test, so no result comes from an earlier test or from disk."""

import pytest

from spikec.passes import integration_cache


@pytest.fixture(autouse=True)
def fresh_integration_cache(monkeypatch):
    cache = integration_cache.IntegrationCache(directory=None)
    monkeypatch.setattr(integration_cache, "_DEFAULT", [cache])
    return cache
