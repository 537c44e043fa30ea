"""fuse-kernels keeps the interpreter's results: random schedules of several random kernels (own and
conflicting indices, emitted spikes, clears, two clocks), run before and after fusion, give
bit-identical arrays, both with the vectorised interpreter and with a strictly sequential one.

The vectorised interpreter runs a body op by op over all elements, so it runs a fused kernel
exactly as the two launches (first's ops, then second's): only the sequential run (element by
element, the semantics a GPU or a CPU loop may realise) shows a fusion that lets one element see
another's work."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from spikec.ir.attributes import SymbolRef
from spikec.ir.core import Module
from spikec.ir.equality import module_difference
from spikec.ir.index_spaces import Elements, Spikes
from spikec.ir import interpreter as interpreter_module
from spikec.ir.interpreter import Interpreter
from spikec.ir.kernel import ClearSpikesOp, ClockOp, KernelOp, LaunchOp, ScheduleOp, kernels
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import ArgOp, CastOp, StoreOp, typed
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.ir.types import Type
from spikec.ir.verify import verify_module
from spikec.passes.manager import run_pipeline
from tests.ir.kernel_generator import (DATA_ARRAYS, N, SPIKES, _body_op, _Pools, _pure_op,
                                       array_inputs, same_arrays)

PIPELINES = ["fuse-kernels", "fuse-kernels{max-kernels=2},fold,cse,dce,hoist-invariants"]


def _kernel(draw, name: str, sinks: list[str]) -> KernelOp:
    space = draw(st.sampled_from([Elements(N)] * 4 + [Elements(N - 1), Spikes(SymbolRef(SPIKES))]))
    kernel = KernelOp(name, space, draw(st.sampled_from([Type.I64, Type.I64, Type.I32])))
    invariant = _Pools()
    invariant.add(kernel.invariants.add(ArgOp("tau", Type.F64)))
    invariant.add(kernel.invariants.add(ArgOp("k", Type.I32)))
    for _ in range(draw(st.integers(0, 2))):
        _pure_op(draw, kernel.invariants, invariant)
    body = _Pools()
    for type, values in invariant.by_type.items():
        body.by_type[type] = list(values)
    body.add(kernel.index)
    emitted: list[bool] = [] if isinstance(space, Elements) else [True]
    for _ in range(draw(st.integers(1, 8))):
        _body_op(draw, kernel.body, body, kernel.index, emitted)
    for value in [v for values in body.by_type.values() for v in values if v not in invariant.by_type[v.type]]:
        if draw(st.integers(0, 2)) or len(sinks) >= 64:
            continue
        as_f64 = kernel.body.add(CastOp(value, Type.F64)) if value.type is not Type.F64 else value
        sinks.append(f"A.sink{len(sinks)}")
        kernel.body.append(StoreOp(sinks[-1], kernel.index, as_f64))
    return kernel


@st.composite
def kernel_schedules(draw) -> Module:
    """2 to 4 kernels launched in order (a clear of the spike list before each that emits), some
    on a second, slower clock."""
    sinks: list[str] = []
    kernel_ops = [_kernel(draw, f"A.k{j}", sinks) for j in range(draw(st.integers(2, 4)))]
    schedule = ScheduleOp()
    for kernel in kernel_ops:
        clock = draw(st.sampled_from(["defaultclock"] * 3 + ["slow"]))
        emits = any(op.name == "kernel.emit_spike" for op in kernel.body.ops)
        if emits or draw(st.integers(0, 4)) == 0:
            schedule.step.append(ClearSpikesOp(SPIKES, clock))
        args = {"tau": draw(st.sampled_from([0.01, 0.02])), "k": draw(st.sampled_from([3, 4]))}
        schedule.step.append(LaunchOp(kernel.kernel_name, clock, args))
    arrays = [ArrayOp(name, type, N) for name, type in DATA_ARRAYS.items()] + [ArrayOp(SPIKES, Type.I32, N + 1)]
    arrays += [ArrayOp(name, Type.F64, N) for name in sinks]
    clocks = [ClockOp("defaultclock", 1e-3), ClockOp("slow", 2e-3)]
    return Module([*arrays, *clocks, *kernel_ops, schedule])


class SequentialInterpreter(Interpreter):
    """Runs each launch one element after the other (each element's whole body, in the space's
    order), the definition the vectorised interpreter shortcuts."""

    def launch(self, kernel, args=None, step=0, time=0.0):
        if isinstance(kernel, str):
            kernel = self.module.lookup(kernel)
        launch = interpreter_module._Launch(self, kernel, dict(args or {}), step, time)
        for op in kernel.invariants.ops:
            launch.execute(op)
        for indices in kernel.space.rounds(self.arrays):
            for index in indices:
                launch.count = 1
                launch.env[kernel.index] = typed(np.array([index]), kernel.index.type)
                for op in kernel.body.ops:
                    launch.execute(op)


def _run(module, arrays, interpreter=Interpreter, seed=7):
    state = copy.deepcopy(arrays)
    try:
        interpreter(module, state, seed=seed).run(4)
    except Exception as error:  # a spike list overflow or bad index: fusion must fail the same way
        return type(error)
    return state


def _same(a, b) -> bool:
    return a == b if isinstance(a, type) or isinstance(b, type) else same_arrays(a, b)


@pytest.mark.parametrize("pipeline", PIPELINES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module=kernel_schedules(), arrays=array_inputs())
def test_fusion_keeps_interpreter_results(pipeline, module, arrays):
    verify_module(module)
    original_text = print_module(module)
    expected = [_run(module, arrays, kind) for kind in (Interpreter, SequentialInterpreter)]
    report = run_pipeline(module, pipeline)
    verify_module(module)
    after = [_run(module, arrays, kind) for kind in (Interpreter, SequentialInterpreter)]
    for kind, before, now in zip(("vectorised", "sequential"), expected, after):
        assert _same(before, now), f"{pipeline} changed the {kind} results of:\n{original_text}"
    text = print_module(module)
    assert module_difference(parse_module(text), module) is None
    assert report.changed == (text != original_text), f"{pipeline}: changed flag is wrong for\n{original_text}"


def test_generated_schedules_do_fuse():
    """The strategy above produces fusable schedules often enough to test something."""
    fused = []

    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
    @given(module=kernel_schedules())
    def count(module):
        fused.append(run_pipeline(module, "fuse-kernels").records[0].statistics.get("fused", 0))

    count()
    assert sum(1 for f in fused if f) >= 12, fused


@pytest.fixture
def interpreter_device():
    import spikec
    from spikec.runtime.devices import device_settings
    saved = (device_settings.device, device_settings.pipeline)
    spikec.set_device("interpreter")
    yield spikec
    device_settings.device, device_settings.pipeline = saved


def _lowered(spikec, reset: str | None, pipeline: str):
    from spikec.runtime.devices import device_settings
    device_settings.pipeline = pipeline
    spikec.seed(3)
    group = spikec.NeuronGroup(20, "dv/dt = (1.2 - v) / (10*ms) : 1 (unless refractory)",
                               threshold="v > 1", reset=reset, refractory=2 * spikec.ms,
                               method="exact", name="G")
    group.v = "rand()"
    monitor = spikec.SpikeMonitor(group)
    net = spikec.Network(group, monitor)
    net.run(20 * spikec.ms)
    return net.build.compiled.kernel_ir, np.array(group.v[:]), np.array(monitor.i[:]), np.array(monitor.t[:])


@pytest.mark.parametrize("reset", [None, "v = 0"])
def test_lowered_group_fuses_state_update_and_threshold(interpreter_device, reset):
    from spikec.runtime.devices import DEFAULT_PIPELINE
    fused_ir, *fused = _lowered(interpreter_device, reset, DEFAULT_PIPELINE)
    plain_ir, *plain = _lowered(interpreter_device, reset,
                                DEFAULT_PIPELINE.replace("fuse-kernels", "fuse-kernels{max-kernels=1}"))
    names = {k.kernel_name for k in kernels(fused_ir)}
    assert "G.stateupdate+spike_threshold" in names
    assert not names & {"G.stateupdate", "G.spike_threshold"}
    assert ("G.spike_reset" in names) == (reset is not None)
    assert len(list(kernels(fused_ir))) == len(list(kernels(plain_ir))) - 1
    assert len(fused[1]) > 0  # it spiked
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
