"""Compiled host code (`spikec.runtime.host_code_native`, `spikec.backends.host_code_llvm`)
against the interpreter (the reference, what the `interpreter` device runs) and against Brian 2:
the same arrays for the same seed, bit for bit where the interpreter's numbers are exact; the same
errors; the fallback and its reasons; one compiled function for code of one shape."""

import ctypes
import ctypes.util

import numpy as np
import pytest

import spikec
from spikec.errors import SpikecError
from spikec.ir.core import Module
from spikec.ir.index_spaces import Elements
from spikec.ir.interpreter import Interpreter
from spikec.ir.kernel import KernelOp
from spikec.ir.kernel_decls import ArrayOp
from spikec.ir.kernel_ops import AddOp, ConstantOp, LoadOp, RandNormalOp, StoreOp
from spikec.ir.types import Type
from spikec.runtime import host_code_native
from spikec.runtime.devices import device_settings
from spikec.runtime.host_code import HostCode
from spikec.units import mV, ms, pA, second

N_SOURCE, N_TARGET = 40, 50


@pytest.fixture
def compile_everything(monkeypatch):
    """Compile host code of any size (the policy interprets small groups)."""
    monkeypatch.setattr(host_code_native, "MIN_ELEMENTS", 0)
    saved = (device_settings.device, device_settings.seed)
    yield
    device_settings.device, device_settings.seed = saved


def network(device: str, assignments: list[tuple[str, str, str | None]], seed: int = 5,
            run_first: bool = False) -> dict[str, np.ndarray]:
    """Values of every variable after the assignments (object, code, condition) on `device`."""
    spikec.set_device(device)
    spikec.seed(seed)
    G = spikec.NeuronGroup(N_SOURCE, "v : volt\nk : integer\nflag : boolean\nx : 1 (shared)",
                           threshold="v > 1000*volt", name="G")
    H = spikec.NeuronGroup(N_TARGET, "du/dt = -u / (10*ms) : volt (unless refractory)",
                           threshold="u > 1000*volt", refractory=1 * ms, name="H")
    S = spikec.Synapses(G, H, "w : amp\nc : 1\nn : integer", on_pre="u += w * 1*ohm", name="S")
    S.connect(p=0.7)
    objects = {"G": G, "H": H, "S": S}
    if run_first:
        spikec.Network(G, H, S).run(1.5 * ms)
    for name, code, condition in assignments:
        target = objects[name]
        variable, expression = (part.strip() for part in code.split("=", 1))
        view = getattr(target, variable)
        if condition is None:
            setattr(target, variable, expression)
        else:
            view[condition] = expression
    return {f"{name}.{variable}": np.array(getattr(group, variable).get_value(), copy=True)
            for name, group in objects.items() for variable in group.variables
            if variable in ("v", "k", "flag", "x", "u", "w", "c", "n", "delay")}


EXACT = [
    [("G", "v = -70*mV + 5*mV*rand()", None)],
    [("G", "k = i // 3 - (i % 7) * 2", None), ("G", "flag = k > 2 or i == 0", None)],
    [("G", "v = i*mV", None), ("H", "u = -i*0.5*mV", None),
     ("S", "w = (v_pre - u_post) / (1*ohm) + rand()*pA", None)],
    [("S", "c = i * 100 + j + N_incoming / (N_outgoing + 1.0)", None)],
    [("S", "n = (i * 7 - j * 3) // 4 + (i - j) % 5", None)],
    [("S", "w = 2*pA", None), ("S", "w = w * 3 + rand()*pA", "i > j")],
    [("S", "delay = 1*ms + 2*ms*rand()", None), ("S", "c = delay / ms", "rand() < 0.5")],
    [("G", "x = 3.5", None), ("S", "c = x_pre * j + exp(-i / 10.) + sqrt(j)", None)],
    [("G", "v = clip(i*mV, 5*mV, 20*mV) + int(rand() < 0.3)*mV", None)],
]


@pytest.mark.parametrize("assignments", EXACT, ids=[str(i) for i in range(len(EXACT))])
def test_equal_to_the_interpreter_bit_for_bit(compile_everything, assignments):
    """Uniform draws, integer and boolean code, masks, pre/post reads, counts: the same bits."""
    reference = network("interpreter", assignments)
    host_code_native.statistics.compiled = 0
    compiled = network("cpu", assignments)
    assert host_code_native.statistics.compiled >= len(assignments)
    for name, values in reference.items():
        assert values.dtype == compiled[name].dtype, name
        np.testing.assert_array_equal(compiled[name], values, err_msg=name)


def test_time_after_a_run(compile_everything):
    """`t` is the group's time after a run (a state word, not step * dt) and draws stay step 0."""
    assignments = [("S", "c = t / second + rand()", None), ("G", "v = t * (1*volt/second)", None)]
    reference = network("interpreter", assignments, run_first=True)
    compiled = network("cpu", assignments, run_first=True)
    assert reference["G.v"][0] > 0
    for name, values in reference.items():
        np.testing.assert_array_equal(compiled[name], values, err_msg=name)


def _numpy_uses_libm() -> bool:
    """Whether numpy's float64 log and cos give libm's bits here (glibc with AVX2 numpy: yes;
    numpy's AVX512F code: not always)."""
    libm = ctypes.CDLL(ctypes.util.find_library("m"))
    for name in ("log", "cos"):
        getattr(libm, name).restype = ctypes.c_double
        getattr(libm, name).argtypes = [ctypes.c_double]
    x = np.random.default_rng(0).random(20000) + 1e-3
    return all(getattr(np, name)(x[k]) == getattr(libm, name)(x[k])
               for name in ("log", "cos") for k in range(len(x)))


def test_normals_equal_where_numpy_calls_libm(compile_everything):
    """randn goes through libm's log and cos: bit for bit where numpy's are libm's, else within
    a few ulps (the interpreter's normals are numpy's)."""
    assignments = [("S", "w = clip(3*pA + 1*pA*randn(), 0*pA, 4*pA)", None),
                   ("G", "v = -58*mV + 10*mV*randn()", None)]
    reference = network("interpreter", assignments)
    compiled = network("cpu", assignments)
    for name in ("S.w", "G.v"):
        if _numpy_uses_libm():
            np.testing.assert_array_equal(compiled[name], reference[name], err_msg=name)
        else:
            np.testing.assert_array_max_ulp(compiled[name], reference[name], maxulp=8)


def test_float32_groups(compile_everything):
    """float32 code: exact operations bit for bit; libm's expf against numpy's own float32 exp
    within two ulps (numpy has SIMD float32 math of its own)."""
    def values(device, code):
        spikec.set_device(device)
        spikec.seed(3)
        G = spikec.NeuronGroup(3000, "v : 1", name="G", dtype=np.float32)
        G.v = code
        return np.array(G.v[:])
    for code in ("rand()", "i * 0.1 + 0.3", "randn()"):
        np.testing.assert_array_equal(values("cpu", code), values("interpreter", code))
    compiled, reference = values("cpu", "exp(-i / 1000.)"), values("interpreter", "exp(-i / 1000.)")
    assert compiled.dtype == np.float32
    np.testing.assert_array_max_ulp(compiled, reference, maxulp=2)


def test_threads_split_the_elements(compile_everything, monkeypatch):
    """Ranges on several threads give one thread's arrays (more threads than cores included)."""
    monkeypatch.setattr(host_code_native, "PARALLEL_ELEMENTS", 0)
    assignments = [("S", "w = rand()*pA + i*pA", None), ("S", "c = randn()", "j > 3")]
    results = []
    for threads in ("1", "3"):
        monkeypatch.setenv("SPIKEC_CPU_THREADS", threads)
        results.append(network("cpu", assignments))
    for name, values in results[0].items():
        np.testing.assert_array_equal(results[1][name], values, err_msg=name)


def test_subgroups(compile_everything):
    """Code on a subgroup, and synapses between subgroups reading both sides' variables."""
    def values(device):
        spikec.set_device(device)
        spikec.seed(3)
        G = spikec.NeuronGroup(100, "v : volt\nx : 1 (shared)", threshold="v > 10*volt",
                               name="G")
        part = G[20:60]
        part.v = "i*mV + rand()*mV"
        G.x = 2
        part.v["i > 5"] = "v + x*mV"
        S = spikec.Synapses(G[10:50], G[30:90], "w : 1", on_pre="v += w*mV", name="S")
        S.connect(p=0.3)
        S.w = "v_pre/mV + v_post/mV + rand() + i - j"
        return np.array(G.v[:]), np.array(S.w[:])
    for compiled, reference in zip(values("cpu"), values("interpreter")):
        np.testing.assert_array_equal(compiled, reference)


def test_expressions_read_from_python(compile_everything):
    """`S.w[...]` with a condition and reading a subexpression go through `evaluate`."""
    def read(device):
        spikec.set_device(device)
        spikec.seed(2)
        G = spikec.NeuronGroup(30, "v : volt\nshifted = v + 2*mV : volt", name="G")
        G.v = "i*mV + rand()*mV"
        return np.asarray(G.shifted[:]), np.asarray(G.v["i > 10 and rand() < 0.5"])
    for compiled, reference in zip(read("cpu"), read("interpreter")):
        np.testing.assert_array_equal(compiled, reference)


def test_small_groups_are_interpreted_with_the_reason(monkeypatch):
    """Below MIN_ELEMENTS the interpreter runs, and says why."""
    monkeypatch.setattr(host_code_native, "MIN_ELEMENTS", 100)
    spikec.set_device("cpu")
    G = spikec.NeuronGroup(10, "v : 1", name="G")
    code = HostCode(G, {}, "G, assignment", compiled=True)
    code.execute("v = rand()")
    assert code.interpreted_because == "fewer than 100 elements"
    big = spikec.NeuronGroup(200, "v : 1", name="big")
    code = HostCode(big, {}, "big, assignment", compiled=True)
    code.execute("v = rand()")
    assert code.interpreted_because is None


def test_interpreter_device_never_compiles(compile_everything):
    spikec.set_device("interpreter")
    before = host_code_native.statistics.compiled
    network("interpreter", [("S", "w = rand()*pA", None)])
    assert host_code_native.statistics.compiled == before


def test_one_compiled_function_for_every_size_constant_and_stream(compile_everything,
                                                                 monkeypatch):
    """The microcircuit's case: the same code over groups of other sizes, with other constants
    and streams, reuses the first compiled function."""
    programs = []
    compile_ = host_code_native.compile_host_code
    monkeypatch.setattr(host_code_native, "compile_host_code",
                        lambda module: programs.append(compile_(module)) or programs[-1])
    spikec.set_device("cpu")
    for size, mean in ((1000, 1.0), (3333, -4.0)):
        group = spikec.NeuronGroup(size, "w : 1", name=f"S{size}", namespace={"w_mean": mean})
        group.w = "w_mean + rand()"
        assert np.all((group.w[:] >= mean) & (group.w[:] < mean + 1))
    assert len(programs) == 2 and programs[0].native is programs[1].native


def _out_of_range_module(size: int, prefix: str = "", stream: int | None = None
                         ) -> tuple[Module, KernelOp]:
    """out[i] = values[i + 5] (+ a normal draw of `stream`) over `size` elements, values being
    `size` long: the last five elements read out of range."""
    kernel = KernelOp("host_code", Elements(size))
    index = kernel.index
    five = kernel.body.add(ConstantOp(5, Type.I64))
    shifted = kernel.body.add(AddOp(index, five))
    loaded = kernel.body.add(LoadOp(prefix + "values", shifted, Type.F64))
    if stream is not None:
        loaded = kernel.body.add(AddOp(loaded, kernel.body.add(RandNormalOp(index, stream))))
    kernel.body.append(StoreOp(prefix + "out", index, loaded))
    return Module([ArrayOp(prefix + "values", Type.F64, size),
                   ArrayOp(prefix + "out", Type.F64, size), kernel]), kernel


def test_an_index_out_of_range_falls_back_to_the_interpreter_error():
    """The native code records the error (and stops writing out of range); the caller is told
    to run the interpreter, whose error names the kernel and op."""
    size = 64
    module, kernel = _out_of_range_module(size)
    arrays = {"values": np.arange(size, dtype=np.float64), "out": np.zeros(size)}
    outcome = host_code_native.run_native(module, kernel, arrays, {}, 1, 3, 0.0, min_elements=0)
    assert outcome.reason == "the native code recorded an error" and outcome.wrote
    np.testing.assert_array_equal(arrays["out"][:size - 5], np.arange(5, size))
    with pytest.raises(SpikecError, match="index 64 is outside 0..63"):
        Interpreter(module, {"values": np.arange(size, dtype=np.float64),
                             "out": np.zeros(size)}, 1).launch(kernel, {}, 0, 0.0)


def test_user_errors_name_the_object_and_the_text(compile_everything):
    """Checks run before either path: the same messages on the cpu device."""
    spikec.set_device("cpu")
    G = spikec.NeuronGroup(20, "v : volt", name="G")
    with pytest.raises(SpikecError, match=r"(?s)G.*nonexistent"):
        G.v = "nonexistent * mV"
    with pytest.raises(SpikecError, match=r"(?s)G.*rand\(\) \* 3"):
        G.v = "rand() * 3"
    with pytest.raises(SpikecError, match=r"(?s)G.*\+\+"):
        G.v = "1*mV ++* 2"


# -- against Brian 2 ------------------------------------------------------------------------------
brian2 = pytest.importorskip("brian2")


def _brian_synapses(code: list[str]):
    brian2.start_scope()
    brian2.prefs.codegen.target = "numpy"
    brian2.seed(4)
    G = brian2.NeuronGroup(300, "v : volt", threshold="v > 1000*volt")
    G.v = "i*0.1*mV"
    S = brian2.Synapses(G, G, "w : amp", on_pre="v += w * 1*ohm")
    S.connect(j="k for k in range(N_post) if k % 3 == i % 3")
    for line in code:
        exec(line, {"S": S, "G": G, **vars(brian2)})
    return {"w": np.asarray(S.w[:] / brian2.amp), "delay": np.asarray(S.delay[:] / brian2.second),
            "i": np.asarray(S.i[:]), "j": np.asarray(S.j[:])}


def _spikec_synapses(code: list[str]):
    spikec.set_device("cpu")
    spikec.seed(4)
    G = spikec.NeuronGroup(300, "v : volt", threshold="v > 1000*volt", name="G")
    G.v = "i*0.1*mV"
    S = spikec.Synapses(G, G, "w : amp", on_pre="v += w * 1*ohm", name="S")
    S.connect(j="k for k in range(N_post) if k % 3 == i % 3")
    for line in code:
        exec(line, {"S": S, "G": G, "mV": mV, "ms": ms, "pA": pA, "second": second})
    return {"w": np.asarray(S.w[:] / pA) * 1e-12, "delay": np.asarray(S.delay[:] / ms) * 1e-3,
            "i": np.asarray(S.i[:]), "j": np.asarray(S.j[:])}


def test_deterministic_code_equals_brian(compile_everything):
    """Units, clip, integer division and modulo, pre/post reads: Brian's values."""
    code = ["S.w = 'clip((i - j) * 1.5*pA, -50*pA, 80*pA) + (i // 7 - j % 4) * pA'",
            "S.delay = '0.1*ms + (v_pre + v_post) / mV * 0.01*ms'",
            "S.w['i > j'] = 'w * 2 + int(j > 100) * pA'"]
    ours, brians = _spikec_synapses(code), _brian_synapses(code)
    order = np.lexsort((ours["j"], ours["i"]))
    brian_order = np.lexsort((brians["j"], brians["i"]))
    for name in ("w", "delay"):
        np.testing.assert_allclose(ours[name][order], brians[name][brian_order], rtol=1e-12,
                                   atol=1e-24, err_msg=name)


def test_random_code_distributions_match_brian(compile_everything):
    """clip(mean + sd*randn()) and a uniform delay: Brian's distributions (its own generator):
    a two-sample Kolmogorov-Smirnov test, the clipped mass (Brian's and the normal's), ranges."""
    stats = pytest.importorskip("scipy.stats")
    code = ["S.w = 'clip(20*pA + 10*pA*randn(), 10*pA, inf*pA)'",
            "S.delay = '0.5*ms + 1.5*ms*rand()'"]
    ours, brians = _spikec_synapses(code), _brian_synapses(code)
    assert len(ours["w"]) == len(brians["w"]) == 30000
    for name in ("w", "delay"):
        assert stats.ks_2samp(ours[name], brians[name]).pvalue > 1e-4, name
    assert ours["w"].min() == pytest.approx(10e-12) and brians["w"].min() == pytest.approx(10e-12)
    clipped = np.mean(ours["w"] <= 10e-12 * (1 + 1e-12))
    assert clipped == pytest.approx(np.mean(brians["w"] <= 10e-12 * (1 + 1e-12)), abs=0.02)
    assert clipped == pytest.approx(stats.norm.cdf(-1), abs=0.02)
    assert 0.5e-3 <= ours["delay"].min() and ours["delay"].max() < 2e-3


def test_kernels_of_one_shape_print_the_same_llvm_ir():
    """What `host_code_llvm.shape` leaves out (sizes, array names, streams) must not reach the
    LLVM IR, or code of one shape would share a function that is not its own."""
    from spikec.backends.abi import ModulePlan
    from spikec.backends.host_code_llvm import (HostCodeHooks, HostCodeLowering, _build_entry,
                                                shape)
    from spikec.backends.lower_to_llvm import lower_module

    def lowered(size: int, prefix: str, stream: int) -> tuple[str, str]:
        module, kernel = _out_of_range_module(size, prefix, stream)
        plan = ModulePlan(module)
        result = lower_module(plan, HostCodeHooks(), "spikec_host_code", HostCodeLowering)
        abi = result.kernels["host_code"]
        _build_entry(result.llvm_module, abi)
        return str(result.llvm_module), shape(kernel, plan, abi)

    first, second = lowered(64, "A.", 3), lowered(1000, "B.", 99)
    assert first[1] == second[1]
    assert first[0] == second[0]
