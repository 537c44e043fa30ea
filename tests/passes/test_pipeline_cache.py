"""The pipeline cache (`spikec/passes/pipeline_cache.py`): a hit gives the same module, and the
same simulation bit for bit, as running the passes; whatever changes the result changes the key;
a fresh process with a filled cache runs no pass (and imports neither the passes' networkx nor
sympy)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import spikec
from benchmarks.models import brunel_hakim, cobahh, cuba, mushroom_body, stdp
from spikec.ir import serialize
from spikec.ir.core import Module
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.passes import pipeline_cache
from spikec.passes.manager import PassManager
from spikec.passes.pipeline_cache import PipelineCache
from spikec.runtime.compile import lower_model
from spikec.runtime.devices import DEFAULT_PIPELINE, device_settings
from spikec.runtime.network import BuildOnlyStop

ROOT = Path(__file__).resolve().parents[2]

# The benchmark models, small: every kind of op the default pipeline produces for them
# (plasticity with event-driven traces, delays, spike generators, HH, exact LIF).
MODELS = {
    "cuba": lambda: cuba.build(spikec, 200)[0],
    "cobahh_pseudo": lambda: cobahh.build(spikec, 100, coupling="pseudo")[0],
    "brunel_hakim_heterog": lambda: brunel_hakim.build(spikec, 200, delays="heterogeneous")[0],
    "stdp": lambda: stdp.build(spikec, 2000, delays="homogeneous")[0],
    "mushroom_body": lambda: mushroom_body.build(spikec, 100, duration=0.1)[0],
}


@pytest.fixture(autouse=True)
def cpu_seeded():
    device, seed = device_settings.device, device_settings.seed
    spikec.set_device("cpu")
    spikec.seed(1)
    yield
    device_settings.device, device_settings.seed = device, seed


def model_ir_of(name: str, net=None) -> Module:
    """The model IR of model `name` (or of `net`): built, not lowered, not run. The seed is
    fixed first: the model IR holds the synapse counts of random connections."""
    if net is None:
        spikec.seed(1)
        net = MODELS[name]()
    device_settings.build_only = True
    try:
        net.run(0 * spikec.ms, namespace={})
    except BuildOnlyStop as stop:
        return stop.compiled.model_ir
    finally:
        device_settings.build_only = False
    raise AssertionError("build-only mode did not stop")


def lif(tau=10 * spikec.ms) -> spikec.Network:
    G = spikec.NeuronGroup(10, "dv/dt = (1.1 - v)/tau : 1", threshold="v > 1", reset="v = 0",
                           method="exact", namespace={"tau": tau})
    return spikec.Network(G)


def lowered_by_passes(model_ir: Module, pipeline: str = DEFAULT_PIPELINE) -> Module:
    kernel_ir = model_ir.clone()
    PassManager.from_pipeline(pipeline).run(kernel_ir)
    return kernel_ir


def uses_in_order(module: Module) -> list:
    """Each value's uses as (op position in text order, operand index): the structure the
    printer does not show."""
    position = {op: k for k, op in enumerate(module.walk())}
    found = []
    for op in module.walk():
        for result in op.results:
            found.append([(position[u.op], u.index) for u in result.uses])
        for region in op.regions:
            for argument in region.block.args:
                found.append([(position[u.op], u.index) for u in argument.uses])
    return found


@pytest.mark.parametrize("name", sorted(MODELS))
def test_serialized_modules_read_back_the_same(name):
    model_ir = model_ir_of(name)
    kernel_ir = lowered_by_passes(model_ir)
    for module in (model_ir, kernel_ir):
        data = serialize.dumps(module)
        back = serialize.loads(data)
        assert print_module(back) == print_module(module)
        assert [type(op) for op in back.walk()] == [type(op) for op in module.walk()]
        assert uses_in_order(back) == uses_in_order(module.clone())  # text order, as a clone
        assert print_module(serialize.loads(serialize.dumps(back))) == print_module(module)


def test_serialize_refuses_what_it_cannot_encode_exactly():
    kernel_ir = lowered_by_passes(model_ir_of("cuba"))
    op = next(op for op in kernel_ir.walk() if isinstance(op, ArrayOp))
    op.cached_thing = 1  # a field outside the standard ones would be lost
    with pytest.raises(ValueError, match="fields besides"):
        serialize.dumps(kernel_ir)
    with pytest.raises(ValueError, match="not a serialized module"):
        serialize.loads(b"not a pickle")


@pytest.mark.parametrize("name", sorted(MODELS))
def test_the_printed_model_ir_determines_the_lowered_module(name):
    """The key hashes the model IR's text: lowering the text read back gives the same module as
    lowering the objects' model IR, so nothing the passes use is missing from the text."""
    model_ir = model_ir_of(name)
    from_text = parse_module(print_module(model_ir))
    assert print_module(lowered_by_passes(from_text)) == print_module(lowered_by_passes(model_ir))


def test_miss_memory_hit_disk_hit_give_the_same_module(tmp_path):
    model_ir = model_ir_of("stdp")
    expected = print_module(lowered_by_passes(model_ir))
    cache = PipelineCache(tmp_path)
    first, report = lower_model(model_ir, DEFAULT_PIPELINE, cache)
    assert not report.from_cache and report.records and cache.statistics.misses == 1
    second, report = lower_model(model_ir, DEFAULT_PIPELINE, cache)
    assert report.from_cache and not report.records and cache.statistics.memory_hits == 1
    assert second is not first  # decoded afresh: callers may change their module
    fresh = PipelineCache(tmp_path)  # a new process
    third, report = lower_model(model_ir, DEFAULT_PIPELINE, fresh)
    assert report.from_cache and fresh.statistics.disk_hits == 1
    assert print_module(first) == print_module(second) == print_module(third) == expected
    assert print_module(model_ir) == print_module(model_ir_of("stdp"))  # input unchanged


def test_keys_tell_apart_what_changes_the_result(monkeypatch):
    cache = PipelineCache(None)
    model_ir = model_ir_of("cuba")
    key = cache.key(model_ir, DEFAULT_PIPELINE, {})
    assert cache.key(model_ir_of("cuba"), DEFAULT_PIPELINE, {}) == key  # same model again
    spikec.seed(2)
    other_synapses = model_ir_of("cuba", cuba.build(spikec, 200)[0])
    keys = {key, cache.key(other_synapses, DEFAULT_PIPELINE, {}),
            cache.key(model_ir, DEFAULT_PIPELINE.replace(",hoist-reciprocals", ""), {}),
            cache.key(model_ir, DEFAULT_PIPELINE.replace("fuse-kernels", "fuse-kernels{max-kernels=1}"), {}),
            cache.key(model_ir, DEFAULT_PIPELINE, {"verify_each": False})}
    assert len(keys) == 5
    lif_keys = {cache.key(model_ir_of("", lif(tau)), DEFAULT_PIPELINE, {})
                for tau in (10 * spikec.ms, 10.000000000000002 * spikec.ms)}
    assert len(lif_keys) == 2  # constants to the last bit
    for name in ("sources", "spikec", "sympy", "numpy", "python"):  # the code that runs
        versions = dict(pipeline_cache.versions())
        monkeypatch.setattr(pipeline_cache, "_VERSIONS", [dict(versions, **{name: "other"})])
        assert cache.key(model_ir, DEFAULT_PIPELINE, {}) not in keys
        monkeypatch.setattr(pipeline_cache, "_VERSIONS", [versions])
    assert cache.key(model_ir, DEFAULT_PIPELINE, {}) == key


def test_a_changed_model_or_pipeline_misses(tmp_path):
    cache = PipelineCache(tmp_path)
    lower_model(model_ir_of("", lif()), DEFAULT_PIPELINE, cache)
    changed = model_ir_of("", lif(11 * spikec.ms))
    lowered, report = lower_model(changed, DEFAULT_PIPELINE, cache)
    assert not report.from_cache and cache.statistics.misses == 2
    assert print_module(lowered) == print_module(lowered_by_passes(changed))
    _, report = lower_model(changed, DEFAULT_PIPELINE.replace(",hoist-reciprocals", ""), cache)
    assert not report.from_cache and cache.statistics.misses == 3
    _, report = lower_model(changed, DEFAULT_PIPELINE, cache)
    assert report.from_cache and cache.statistics.memory_hits == 1


def test_printing_settings_bypass_the_cache(tmp_path, capsys):
    cache = PipelineCache(tmp_path)
    model_ir = model_ir_of("cuba")
    for _ in range(2):
        _, report = lower_model(model_ir, "check-units", cache, print_after_all=True)
        assert not report.from_cache
    assert "IR dump after check-units" in capsys.readouterr().err
    explained = DEFAULT_PIPELINE.replace("schedule", "schedule{explain=true}")
    for _ in range(2):
        _, report = lower_model(model_ir, explained, cache)
        assert not report.from_cache
    assert capsys.readouterr().err
    assert cache.statistics.misses == cache.statistics.memory_hits == 0 and not cache.memory


def test_a_damaged_entry_is_lowered_again(tmp_path):
    model_ir = model_ir_of("cuba")
    cache = PipelineCache(tmp_path)
    expected = print_module(lower_model(model_ir, DEFAULT_PIPELINE, cache)[0])
    [entry] = (tmp_path).glob("*.module")
    entry.write_bytes(entry.read_bytes()[:100])
    fresh = PipelineCache(tmp_path)
    lowered, report = lower_model(model_ir, DEFAULT_PIPELINE, fresh)
    assert not report.from_cache and fresh.statistics.misses == 1
    assert print_module(lowered) == expected
    assert serialize.loads(entry.read_bytes())  # rewritten whole


def test_a_module_that_cannot_be_encoded_is_not_cached(tmp_path, monkeypatch):
    cache = PipelineCache(tmp_path)

    def refuse(module):
        raise ValueError("no")
    monkeypatch.setattr(serialize, "dumps", refuse)
    lowered, report = lower_model(model_ir_of("cuba"), DEFAULT_PIPELINE, cache)
    assert not report.from_cache and not cache.memory and not list(tmp_path.glob("*"))
    assert print_module(lowered) == print_module(lowered_by_passes(model_ir_of("cuba")))


def simulate(name: str) -> dict[str, bytes]:
    """Every array of model `name` after 20 ms on the CPU, as bytes."""
    spikec.seed(1)
    net = MODELS[name]()
    net.run(20 * spikec.ms, namespace={})
    executable = net.build.executable
    arrays = {op.attributes["sym_name"].name: executable.read(op.attributes["sym_name"].name)
              for op in net.build.compiled.kernel_ir.ops if isinstance(op, ArrayOp)}
    return {k: v.tobytes() for k, v in arrays.items()}


@pytest.mark.parametrize("name", ["brunel_hakim_heterog", "stdp", "mushroom_body"])
def test_a_hit_simulates_bit_for_bit_as_the_passes(name, tmp_path, monkeypatch):
    monkeypatch.setattr(PipelineCache, "cacheable", staticmethod(lambda *_: False))
    passes = simulate(name)  # no cache at all
    monkeypatch.undo()
    monkeypatch.setattr(pipeline_cache, "_DEFAULT", [PipelineCache(tmp_path)])
    miss = simulate(name)
    monkeypatch.setattr(pipeline_cache, "_DEFAULT", [PipelineCache(tmp_path)])
    hit = simulate(name)
    assert pipeline_cache.default_pipeline_cache().statistics.disk_hits == 1
    assert passes.keys() == miss.keys() == hit.keys()
    for array in passes:
        assert passes[array] == miss[array] == hit[array], array


def test_a_fresh_process_with_a_filled_cache_runs_no_pass(tmp_path):
    script = (
        "import sys, spikec\n"
        "from benchmarks.models import stdp\n"
        "spikec.seed(1)\n"
        "net = stdp.build(spikec, 2000)[0]\n"
        "net.run(0*spikec.ms, namespace={})\n"
        "print(net.build.compiled.report.from_cache, 'networkx' in sys.modules, "
        "'sympy' in sys.modules)\n")
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)
    env = dict(os.environ, SPIKEC_CACHE_DIR=str(tmp_path), PYTHONPATH=path)
    runs = [subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                           env=env, cwd=ROOT, timeout=300) for _ in range(2)]
    assert all(run.returncode == 0 for run in runs), runs[-1].stderr[-2000:]
    assert runs[0].stdout.split()[0] == "False"
    assert runs[1].stdout.split() == ["True", "False", "False"]
    assert len(list((tmp_path / "pipeline").glob("*.module"))) == 1
