"""Which row kernels may spread a row over lanes (`spikec.backends.row_order`), how many lanes the GPU
gives them (`spikec.backends.cuda_rows`), and the lane-strided loop in their LLVM IR and PTX."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from spikec.backends.abi import ModulePlan
from spikec.backends.cuda_codegen import generate_ptx, lower_for_cuda
from spikec.backends.cuda_rows import AUTO, ENVIRONMENT, choose_lanes, parse_row_lanes
from spikec.backends.row_order import row_order_dependence
from spikec.errors import SpikecError
from spikec.ir.kernel import kernels
from spikec.ir.parser import parse_module
from spikec.passes.manager import PassManager
from tests.backends.samples import parsed
from tests.backends.synapse_samples import synapse_module, with_source_store
from tests.backends.test_cuda_codegen import PTXAS, assemble

LOWER_SYNAPSES = Path(__file__).parents[1] / "lit" / "passes" / "lower-synapses.ir"


def lowered_strategies() -> dict[str, object]:
    """Every row kernel `lower-to-kernels` builds in tests/lit/passes/lower-synapses.ir, by
    '<case>:<kernel>'."""
    found = {}
    for number, case in enumerate(LOWER_SYNAPSES.read_text().split("// -----")):
        module = parse_module(case)
        PassManager.from_pipeline("lower-to-kernels").run(module)
        for kernel in kernels(module):
            if kernel.space.kind in ("outgoing", "segments"):
                found[f"{number}:{kernel.kernel_name}"] = kernel
    return found


def test_push_and_send_kernels_may_split_and_ordered_strategies_may_not():
    """push-atomic (with and without a homogeneous delay) and the dendritic ring's send are
    accumulations plus own-synapse writes; pull-ordered, spike-queue onto a target variable and
    the summed variables store at the target: their rows keep their order."""
    verdicts = {name: row_order_dependence(kernel) for name, kernel in lowered_strategies().items()}
    outgoing = [name for name in verdicts if name.endswith(("_push", "_send"))]
    assert len(outgoing) == 4
    assert all(verdicts[name] is None for name in outgoing), verdicts
    for name in ("1:S.pre_pull", "2:S.I_post_sum", "5:S.pre_queue"):
        assert "at another index than the element's" in verdicts[name]


ROW_KERNEL = """
kernel.array @G._spikespace {{length = 4}} : i32
kernel.array @S._offsets {{length = 4}} : i32
kernel.array @S._items {{length = 6}} : i32
kernel.array @S._post {{length = 6}} : i32
kernel.array @S._pre {{length = 6}} : i32
kernel.array @S.w {{length = 6}} : f64
kernel.array @H.x {{length = 3}} : f64
kernel.clock @defaultclock {{dt = 0.001}}
kernel.kernel @S.k {{space = outgoing(@G._spikespace, @S._offsets, @S._items)}} invariants() {{
}} body(%s: i64) {{
  %post = kernel.load @S._post[%s] : i32
  %pre = kernel.load @S._pre[%s] : i32
  %w = kernel.load @S.w[%s] : f64
{body}
}}
"""


@pytest.mark.parametrize("body, reason", [
    ("  kernel.atomic_add @H.x[%post], %w : f64\n  kernel.store @S.w[%s], %w : f64", None),
    ("  %x = kernel.load @S.w[%s] : f64\n  kernel.atomic_add @S.w[%s], %x : f64", None),
    ("  kernel.store @H.x[%post], %w : f64", "at another index than the element's"),
    ("  kernel.atomic_add @H.x[%post], %w : f64\n  %x = kernel.load @H.x[%pre] : f64",
     "@H.x is atomically added to and also loaded"),
    ("  kernel.atomic_add @H.x[%post], %w : f64\n  %x = kernel.load @H.x[%post] : f64",
     "@H.x is atomically added to and also loaded"),
    ("  kernel.store @S.w[%s], %w : f64\n  %x = kernel.load @S.w[%pre] : f64",
     "@S.w is written at the element's index and read at another"),
    ("  kernel.atomic_add @S.w[%pre], %w : f64\n  kernel.store @S.w[%s], %w : f64",
     "@S.w is atomically added to and also loaded or stored"),
    ("  %one = kernel.constant 1 : i32\n  kernel.atomic_add @S._items[%post], %one : i32",
     "@S._items is atomically added to"),
    ("  kernel.store @S._offsets[%s], %post : i32", "@S._offsets is written at the element's index"),
], ids=["accumulate-and-own-store", "own-atomic-and-own-load", "store-at-target", "read-after-add",
        "read-own-target-after-add", "read-after-own-write", "add-and-store", "space-items", "space-offsets"])
def test_order_dependence_from_the_body(body, reason):
    kernel = next(iter(kernels(parsed(ROW_KERNEL.format(body=body)))))
    found = row_order_dependence(kernel)
    if reason is None:
        assert found is None
    else:
        assert found is not None and reason in found


def test_emit_spike_and_spaces_without_rows_keep_their_order():
    text = synapse_module(5, 4, 12)
    module = parsed(text)
    fire = next(k for k in kernels(module) if k.kernel_name == "G.fire")
    assert row_order_dependence(fire) == "elements(...) has no rows"
    relay = parsed(ROW_KERNEL.format(body="").replace(
        "kernel.clock", "kernel.array @H._spikespace {length = 4} : i32\nkernel.clock").replace(
        "  %w = kernel.load @S.w[%s] : f64\n", "  %w = kernel.load @S.w[%s] : f64\n"
        "  kernel.emit_spike @H._spikespace, %post\n"))
    assert "appends in element order" in row_order_dependence(next(iter(kernels(relay))))


@pytest.mark.parametrize("mean, lanes", [(0, 32), (8, 32), (10, 64), (16, 64), (17, 128), (64, 256),
                                         (1000, 256), (10**6, 256)])
def test_lanes_follow_the_mean_row_length(mean, lanes):
    assert choose_lanes(mean) == lanes


def test_the_row_lanes_setting(monkeypatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert parse_row_lanes(None) == AUTO
    assert parse_row_lanes("64") == 64
    monkeypatch.setenv(ENVIRONMENT, "1")
    assert parse_row_lanes(None) == 1
    assert parse_row_lanes(256) == 256
    for bad in (0, 3, 512, "warp"):
        with pytest.raises(SpikecError, match="power of two from 1 to 256"):
            parse_row_lanes(bad)


# -- the lowering ---------------------------------------------------------------------------------
def lanes_of(text: str, row_lanes) -> dict[str, int]:
    lowered = lower_for_cuda(ModulePlan(parsed(text)), row_lanes).lowered
    return {name: abi.row_lanes for name, abi in lowered.kernels.items()}


def test_only_order_free_push_rows_get_lanes():
    text = synapse_module(300, 200, 5000)          # 16.7 synapses per source: 4 x 16.7 -> 128
    assert lanes_of(text, AUTO) == {"G.fire": 1, "S.push": 128, "S.pull": 1}
    assert lanes_of(synapse_module(3000, 200, 5000), AUTO)["S.push"] == 32      # 1.7 per source
    assert lanes_of(text, 256) == {"G.fire": 1, "S.push": 256, "S.pull": 1}
    assert lanes_of(text, 1) == {"G.fire": 1, "S.push": 1, "S.pull": 1}
    assert lanes_of(synapse_module(30, 200, 5000), AUTO)["S.push"] == 256      # 167 per source
    assert lanes_of(with_source_store(text), 256)["S.push"] == 1               # order matters


def entry(ptx: str, kernel: str) -> str:
    """The PTX body of the kernel entry whose name ends with `kernel`."""
    match = re.search(rf"\.entry spikec_k\d+_{kernel}\((.*?)\n}}\n", ptx, re.S)
    assert match, kernel
    return match.group(1)


def strides(body: str) -> set[int]:
    """The constants of ``add.s64 %rdN, %rdN, c`` (loop counters)."""
    return {int(c) for _, c in re.findall(r"add\.s64\s+(%rd\d+), \1, (\d+);", body)}


@pytest.mark.parametrize("row_lanes", [32, 256])
def test_the_push_loop_strides_by_its_lanes_and_the_pull_loop_by_one(row_lanes, tmp_path):
    """In the PTX the push kernel takes its lane as the global thread id modulo L, its group as the
    id over L, and steps its row counter by L (and the item pointer by 4 L bytes); the pull kernel
    steps by one element."""
    ptx = generate_ptx(lower_for_cuda(ModulePlan(parsed(synapse_module(300, 200, 5000))), row_lanes))
    push, pull = entry(ptx, "S_push"), entry(ptx, "S_pull")
    shift = row_lanes.bit_length() - 1
    assert re.search(rf"and\.b64\s+%rd\d+, %rd\d+, {row_lanes - 1};", push)
    assert re.search(rf"shr\.u64\s+%rd\d+, %rd\d+, {shift};", push)
    assert {row_lanes, 4 * row_lanes} <= strides(push) and 1 not in strides(push)
    assert 1 in strides(pull) and row_lanes not in strides(pull)
    assert not re.search(rf"and\.b64\s+%rd\d+, %rd\d+, {row_lanes - 1};", pull)
    if PTXAS:  # without ptxas the checks above still ran
        assemble(ptx, tmp_path)


def test_one_lane_is_the_sequential_walk():
    ptx = generate_ptx(lower_for_cuda(ModulePlan(parsed(synapse_module(300, 200, 5000))), 1))
    push = entry(ptx, "S_push")
    assert 1 in strides(push) and 32 not in strides(push)
    assert not re.search(r"and\.b64\s+%rd\d+, %rd\d+, 31;", push)
