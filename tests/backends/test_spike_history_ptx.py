"""The spike-history propagation (STDP with per-synapse delays on both pathways) lowers to PTX
on any machine; the GPU comparison with the CPU is `tests/runtime/test_gpu_vs_cpu.py`
(`stdp-delays`, under -m cuda)."""

from __future__ import annotations

import pytest

from spikec.ir.history_spaces import History, Positions
from spikec.ir.kernel import KernelOp
from tests.backends.test_cuda_codegen import assemble, needs_ptxas, ptx_of
from tests.backends.test_subgroups_ptx import build_only, kernel_ir_of  # noqa: F401 (fixture)
from tests.runtime.synapse_models import stdp


def history_kernels(module) -> dict[str, KernelOp]:
    return {op.kernel_name: op for op in module.walk() if isinstance(op, KernelOp)
            and isinstance(op.space, (History, Positions))}


def test_both_pathways_use_the_spike_history(build_only):  # noqa: F811
    kernels = history_kernels(kernel_ir_of(stdp, delays=True))
    for pathway in ("pre", "post"):
        walking = [k for k in kernels.values() if k.kernel_name.endswith(f".{pathway}_history")]
        assert len(walking) == 1 and walking[0].space.rows > 1
        assert any(k.endswith(f".{pathway}_record") for k in kernels)


def test_the_spike_history_generates_ptx(build_only):  # noqa: F811
    ptx = ptx_of(kernel_ir_of(stdp, delays=True))
    assert "pre_history" in ptx and "post_record" in ptx


@needs_ptxas
def test_the_spike_history_assembles(build_only, tmp_path):  # noqa: F811
    assemble(ptx_of(kernel_ir_of(stdp, delays=True)), tmp_path)


@needs_ptxas
@pytest.mark.parametrize("block, grid", [(1024, False), (256, True)], ids=["block", "grid"])
def test_the_spike_history_assembles_in_the_tick_kernel(build_only, tmp_path, block,  # noqa: F811
                                                        grid):
    from spikec.backends.cuda_tick_kernel import TickShape
    from tests.backends.test_cuda_tick_kernel import ptxas_report, tick_ptx_shape

    ptxas_report(tick_ptx_shape(kernel_ir_of(stdp, delays=True), TickShape(block, grid)), tmp_path)
