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
from spikec.ir.kernel_ops import (ArgOp, AtomicAddOp, CastOp, ConstantOp, EmitSpikeOp, LoadOp,
                                  RandUniformOp, StoreOp, typed)
from spikec.ir.parser import parse_module
from spikec.ir.printer import print_module
from spikec.ir.types import Type
from spikec.ir.verify import verify_module
from spikec.passes.manager import run_pipeline
from tests.ir.kernel_generator import (DATA_ARRAYS, N, SPIKES, _body_op, _Pools, _pure_op,
                                       array_inputs, same_arrays)

PIPELINES = ["fuse-kernels", "schedule,fuse-kernels",
             "schedule,fuse-kernels{max-kernels=2},fold,cse,dce,hoist-invariants"]


def _kernel(draw, name: str, sinks: list[str], space=None, index_type: Type | None = None,
            role: str | None = None) -> KernelOp:
    """A random kernel; `role` "threshold" makes it emit its element, "reset" makes it access
    arrays only at its own element (what event-code fusion accepts)."""
    space = space or draw(st.sampled_from([Elements(N)] * 4 + [Elements(N - 1), Spikes(SymbolRef(SPIKES))]))
    kernel = KernelOp(name, space, index_type or draw(st.sampled_from([Type.I64, Type.I64, Type.I32])))
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
        if role == "reset":
            _own_index_op(draw, kernel.body, body, kernel.index)
        else:
            _body_op(draw, kernel.body, body, kernel.index, emitted)
    if role == "threshold" and not emitted:
        _pure_op(draw, kernel.body, body)
        mask = draw(st.sampled_from([None] + body.by_type[Type.BOOL] * 3))
        kernel.body.append(EmitSpikeOp(SPIKES, kernel.index, mask))
    for value in [v for values in body.by_type.values() for v in values if v not in invariant.by_type[v.type]]:
        if draw(st.integers(0, 2)) or len(sinks) >= 64:
            continue
        as_f64 = kernel.body.add(CastOp(value, Type.F64)) if value.type is not Type.F64 else value
        sinks.append(f"A.sink{len(sinks)}")
        kernel.body.append(StoreOp(sinks[-1], kernel.index, as_f64))
    return kernel


def _own_index_op(draw, block, pools: _Pools, element) -> None:
    """A body op of a reset-like kernel: loads, stores and atomic adds at the element's own index
    only (what event-code fusion accepts), random numbers, pure work."""
    kind = draw(st.sampled_from(["pure", "load", "load", "store", "atomic", "rand"]))
    if kind == "pure":
        _pure_op(draw, block, pools)
    elif kind == "load":
        name = draw(st.sampled_from(sorted(DATA_ARRAYS)))
        pools.add(block.add(LoadOp(name, element, DATA_ARRAYS[name])))
    elif kind == "rand":
        pools.add(block.add(RandUniformOp(element, draw(st.integers(0, 3)), 0)))
    else:
        name = draw(st.sampled_from(["A.x", "A.y", "A.acc"]))
        mask = draw(st.sampled_from([None] + pools.by_type[Type.BOOL]))
        value = draw(st.sampled_from(pools.by_type[Type.F64])) if pools.by_type[Type.F64] \
            else block.add(ConstantOp(0.5, Type.F64))
        block.append((StoreOp if kind == "store" else AtomicAddOp)(name, element, value, mask))


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


@st.composite
def event_code_schedules(draw) -> Module:
    """A group's step as lowering writes it: maybe an update, the clear of the spike list, a
    threshold emitting into it, 0-2 random kernels (synapses), a reset-like kernel over the list."""
    sinks: list[str] = []
    index_type = draw(st.sampled_from([Type.I64, Type.I32]))
    schedule, kernel_ops = ScheduleOp(), []
    roles = ["update"] * draw(st.integers(0, 1)) + ["threshold"] + \
        ["between"] * draw(st.integers(0, 2)) + ["reset"]
    for j, role in enumerate(roles):
        space = {"update": Elements(N), "threshold": Elements(N),
                 "reset": Spikes(SymbolRef(SPIKES))}.get(role)
        kernel = _kernel(draw, f"A.k{j}", sinks, space, index_type if space else None, role)
        kernel_ops.append(kernel)
        if role == "threshold":
            schedule.step.append(ClearSpikesOp(SPIKES, "defaultclock"))
        schedule.step.append(LaunchOp(kernel.kernel_name, "defaultclock", {"tau": 0.01, "k": 3}))
    arrays = [ArrayOp(name, type, N) for name, type in DATA_ARRAYS.items()] + [ArrayOp(SPIKES, Type.I32, N + 1)]
    arrays += [ArrayOp(name, Type.F64, N) for name in sinks]
    return Module([*arrays, ClockOp("defaultclock", 1e-3), *kernel_ops, schedule])


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


def _check_keeps_results(pipeline, module, arrays):
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
    return report


@pytest.mark.parametrize("pipeline", PIPELINES)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(module=kernel_schedules(), arrays=array_inputs())
def test_fusion_keeps_interpreter_results(pipeline, module, arrays):
    _check_keeps_results(pipeline, module, arrays)


def test_event_code_fusion_keeps_interpreter_results():
    """Thresholds with reset-like kernels after them (and kernels between): whatever `schedule`
    moves and `fuse-kernels` runs masked inside the threshold, both interpreters agree; and the
    strategy does produce such fusions."""
    fused = []

    @settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
    @given(module=event_code_schedules(), arrays=array_inputs())
    def check(module, arrays):
        report = _check_keeps_results("schedule,fuse-kernels", module, arrays)
        fused.append(report.records[1].statistics.get("event-code", 0))

    check()
    assert sum(1 for f in fused if f) >= 25, fused


def test_generated_schedules_do_fuse():
    """The strategy above produces fusable schedules often enough to test something: fusions and
    launches `schedule` moves."""
    fused, moved = [], []

    # derandomized: a count over random examples must not depend on the run's seed (with a
    # random one it fell below the bar in about one run of a few dozen)
    @settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
    @given(module=kernel_schedules())
    def count(module):
        schedule_record, fuse_record = run_pipeline(module, "schedule,fuse-kernels").records
        fused.append(fuse_record.statistics.get("fused", 0))
        moved.append(schedule_record.statistics.get("moved", 0))

    count()
    assert sum(1 for f in fused if f) >= 12, fused
    assert sum(1 for f in moved if f) >= 8, moved


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
def test_lowered_group_fuses_update_threshold_and_reset(interpreter_device, reset):
    """The default pipeline runs a group's state update, threshold and reset as one kernel, with
    the spikes and values of the pipeline without `schedule` and `fuse-kernels`."""
    from spikec.runtime.devices import DEFAULT_PIPELINE
    fused_ir, *fused = _lowered(interpreter_device, reset, DEFAULT_PIPELINE)
    plain_ir, *plain = _lowered(interpreter_device, reset,
                                DEFAULT_PIPELINE.replace("schedule,fuse-kernels,", ""))
    names = {k.kernel_name for k in kernels(fused_ir)}
    expected = "G.stateupdate+spike_threshold" + ("+spike_reset" if reset else "")
    assert expected in names
    assert not names & {"G.stateupdate", "G.spike_threshold", "G.spike_reset"}
    assert len(list(kernels(fused_ir))) == len(list(kernels(plain_ir))) - (2 if reset else 1)
    assert len(fused[1]) > 0  # it spiked
    for a, b in zip(fused, plain):
        np.testing.assert_array_equal(a, b)
