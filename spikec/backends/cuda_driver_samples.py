"""Hand-written PTX kernels that exercise the driver layer without the compiler: used by the
tests (tests/runtime/test_cuda_driver.py) and the cost measurements
(benchmarks/cuda_driver_costs.py), and handy for checking a machine's GPU setup.

Kernels (all 1-D, one element per thread, bounds-checked against n):
- `empty()`: does nothing; for launch costs.
- `increment(u32* counter)`: counter[0] += 1 by thread 0 only; graph replays count with it.
- `affine_f32(f32* x, f32* y, f32 a, f32 b, u32 n)`: y[i] = a*x[i] + b.
- `affine_f64(f64* x, f64* y, f64 a, f64 b, u64 n)`: the same in float64, with a 64-bit n, so
  that parameters of every width are tested.
"""

HEADER = """.version 8.0
.target {arch}
.address_size 64
"""

EMPTY = """
.visible .entry empty()
{
    ret;
}
"""

INCREMENT = """
.visible .entry increment(.param .u64 counter_param)
{
    .reg .pred %p<2>;
    .reg .b32 %r<4>;
    .reg .b64 %rd<3>;

    mov.u32 %r1, %tid.x;
    mov.u32 %r2, %ctaid.x;
    or.b32 %r3, %r1, %r2;
    setp.ne.u32 %p1, %r3, 0;
    @%p1 bra DONE;
    ld.param.u64 %rd1, [counter_param];
    cvta.to.global.u64 %rd2, %rd1;
    ld.global.u32 %r1, [%rd2];
    add.u32 %r1, %r1, 1;
    st.global.u32 [%rd2], %r1;
DONE:
    ret;
}
"""

AFFINE = """
.visible .entry affine_{t}(
    .param .u64 x_param,
    .param .u64 y_param,
    .param .{t} a_param,
    .param .{t} b_param,
    .param .{n} n_param
)
{{
    .reg .pred %p<2>;
    .reg .b32 %r<6>;
    .reg .{t} %v<5>;
    .reg .b64 %rd<9>;

    ld.param.u64 %rd1, [x_param];
    ld.param.u64 %rd2, [y_param];
    ld.param.{t} %v1, [a_param];
    ld.param.{t} %v2, [b_param];
    ld.param.{n} %{nreg}, [n_param];
    {widen}
    mov.u32 %r1, %ctaid.x;
    mov.u32 %r2, %ntid.x;
    mov.u32 %r3, %tid.x;
    mad.lo.u32 %r4, %r1, %r2, %r3;
    cvt.u64.u32 %rd3, %r4;
    setp.ge.u64 %p1, %rd3, %rd8;
    @%p1 bra DONE;
    cvta.to.global.u64 %rd4, %rd1;
    cvta.to.global.u64 %rd5, %rd2;
    mul.lo.u64 %rd6, %rd3, {size};
    add.u64 %rd4, %rd4, %rd6;
    add.u64 %rd5, %rd5, %rd6;
    ld.global.{t} %v3, [%rd4];
    fma.rn.{t} %v4, %v1, %v3, %v2;
    st.global.{t} [%rd5], %v4;
DONE:
    ret;
}}
"""


def sample_ptx(arch: str = "sm_90") -> str:
    """A module holding all the sample kernels, for `arch` (e.g. 'sm_90')."""
    affine_f32 = AFFINE.format(t="f32", n="u32", nreg="r5", size=4, widen="cvt.u64.u32 %rd8, %r5;")
    affine_f64 = AFFINE.format(t="f64", n="u64", nreg="rd8", size=8, widen="// n is 64-bit already")
    return HEADER.format(arch=arch) + EMPTY + INCREMENT + affine_f32 + affine_f64
