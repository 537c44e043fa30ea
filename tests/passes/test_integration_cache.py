"""Compile-time guards for `integrate` (counts, never timings): the sympy work per system is
bounded, a system is integrated once per cache, and a cache hit needs no sympy at all."""

from __future__ import annotations

import importlib
import os
import subprocess
import sys
from pathlib import Path

import sympy

from spikec.ir.model_state_update import state_update_of
from spikec.passes import integration_cache
from spikec.ir.expression import BinaryOp, Name, Number, UnaryOp
from spikec.passes.integration_cache import IntegrationCache, decode_statement, encode_statement

from tests.passes.test_integrate import HH, HH_NS
from tests.passes.test_integrate_helpers import spikec_group

ROOT = Path(__file__).resolve().parents[2]


def hh_code(method="exponential_euler"):
    return state_update_of(spikec_group(HH, method, HH_NS)).code


def test_exponential_euler_bounds_its_sympy_work(monkeypatch):
    """Per equation: one expand of the right-hand side, one derivative, one expand of the rest;
    never simplify (once the largest compile-time cost)."""
    calls = {"expand": 0, "diff": 0, "simplify": 0}
    for name in calls:
        original = getattr(sympy, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            calls[_name] += 1
            return _original(*args, **kwargs)
        monkeypatch.setattr(sympy, name, counted)
    hh_code()
    assert calls == {"expand": 8, "diff": 4, "simplify": 0}


def test_a_system_is_integrated_once_per_cache(tmp_path, monkeypatch):
    cache = IntegrationCache(tmp_path)
    monkeypatch.setattr(integration_cache, "_DEFAULT", [cache])
    first = hh_code()
    second = hh_code()
    assert (cache.statistics.misses, cache.statistics.memory_hits) == (1, 1)
    fresh = IntegrationCache(tmp_path)  # a new process: the result comes from disk
    monkeypatch.setattr(integration_cache, "_DEFAULT", [fresh])
    assert hh_code() == first == second and fresh.statistics.disk_hits == 1
    assert hh_code("rk4") != first and fresh.statistics.misses == 1  # the method is in the key


def test_keys_tell_apart_what_changes_the_result():
    cache = IntegrationCache(None)
    tau = BinaryOp("/", UnaryOp("-", Name("v")), Number(0.01))
    close = BinaryOp("/", UnaryOp("-", Name("v")), Number(0.010000000000000002))
    keys = {cache.key({"v": tau}, (), (), ("exact",)), cache.key({"v": close}, (), (), ("exact",)),
            cache.key({"v": tau}, ("v",), (), ("exact",)), cache.key({"v": tau}, (), (), ("euler",))}
    assert len(keys) == 4
    assert cache.key({"v": tau}, (), (), ("exact",)) == cache.key({"v": tau}, (), (), ("exact",))


def test_stored_statements_decode_to_equal_trees():
    for statement in hh_code():
        assert decode_statement(encode_statement(statement)) == statement


def test_a_cache_hit_does_not_import_sympy(tmp_path):
    """A fresh process with a filled cache builds an exponential_euler model without sympy."""
    script = (
        "import sys, spikec\n"
        "from benchmarks.models import cobahh_uncoupled\n"
        "spikec.set_device('interpreter')\n"
        "cobahh_uncoupled.build(spikec, 10).run(0*spikec.ms)\n"
        "print('sympy' in sys.modules)\n")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, SPIKEC_CACHE_DIR=str(tmp_path), PYTHONPATH=path)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=300) for _ in range(2)]
    assert [r.stdout.strip().splitlines()[-1] for r in runs] == ["True", "False"], runs[-1].stderr


def test_event_driven_equations_are_integrated_once_per_cache(tmp_path, monkeypatch):
    """STDP's `(event-driven)` traces go through the cache too: a new process with a filled
    cache lowers the model without sympy's `exact` solver, to the same module."""
    from spikec.ir.printer import print_module
    exact_module = importlib.import_module("spikec.passes.state_updaters.exact")
    from tests.passes.test_pipeline_cache import lowered_by_passes, model_ir_of

    model_ir = model_ir_of("stdp")
    cache = IntegrationCache(tmp_path)
    monkeypatch.setattr(integration_cache, "_DEFAULT", [cache])
    first = print_module(lowered_by_passes(model_ir))
    assert cache.statistics.misses == 2  # the neurons' equations, the synapses' traces
    fresh = IntegrationCache(tmp_path)
    monkeypatch.setattr(integration_cache, "_DEFAULT", [fresh])

    def no_sympy(system):
        raise AssertionError("solved again")
    monkeypatch.setattr(exact_module, "exact", no_sympy)
    assert print_module(lowered_by_passes(model_ir)) == first
    assert (fresh.statistics.disk_hits, fresh.statistics.misses) == (2, 0)
