"""Emits Qinco.Core/Numerics/Gemm/GemmKernels.cs: the fully unrolled SGEMM micro-kernels (one per SIMD width).

Usage: python3 tools/generate_gemm_kernels.py [rows-of-the-Vector512-tile] > Qinco.Core/Numerics/Gemm/GemmKernels.cs
"""
import sys
MR512 = int(sys.argv[1]) if len(sys.argv) > 1 else 12

def aref(direct, mr, r, u):
    if not direct:
        return f"a[{u * mr + r}]"
    g, o = divmod(r, 3)
    off = ["", " + lda", " + lda2"][o]
    return f"*(ar{g}{off} + {u})"

def vec_kernel(name, vt, lanes, mr, nv, fma, doc):
    nr = lanes * nv
    L = []
    w = L.append
    w(f"/// <summary>{doc}</summary>")
    w(f"internal readonly struct {name} : ISgemmMicroKernel")
    w("{")
    w(f"    public static int Mr => {mr};")
    w("")
    w(f"    public static int Nr => {nr};")
    w("")
    w(f"    public static bool IsSupported => {vt}.IsHardwareAccelerated;")
    w("")
    vec_body(L, vt, lanes, mr, nv, fma, False)
    w("")
    vec_body(L, vt, lanes, mr, nv, fma, True)
    w("}")
    return "\n".join(L)

def vec_body(L, vt, lanes, mr, nv, fma, direct):
    nr = lanes * nv
    w = L.append
    w("    [MethodImpl(MethodImplOptions.AggressiveOptimization)]")
    if direct:
        w("    public static unsafe void RunDirect(float* a, nint lda, float* b, nint kc, float* c, nint ldc, float alpha, float betaEff, bool accumulate)")
    else:
        w("    public static unsafe void Run(float* a, float* b, nint kc, float* c, nint ldc, float alpha, float betaEff, bool accumulate)")
    w("    {")
    if direct:
        w("        nint lda2 = lda * 2;")
        for g in range((mr + 2) // 3):
            w(f"        float* ar{g} = a + ({3 * g} * lda);")
    for r in range(mr):
        w("        " + " ".join(f"{vt}<float> c{r}_{v} = default;" for v in range(nv)))
    def step(u, ind):
        for v in range(nv):
            w(f"{ind}{vt}<float> b{v} = {vt}.Load(b + {u * nr + v * lanes});")
        for r in range(mr):
            w(f"{ind}{vt}<float> a{r} = {vt}.Create({aref(direct, mr, r, u)});")
            for v in range(nv):
                w(f"{ind}c{r}_{v} = {fma(f'a{r}', f'b{v}', f'c{r}_{v}')};")
    w("        nint p = 0;")
    w("        for (; p + 4 <= kc; p += 4)")
    w("        {")
    for u in range(4):
        w("            {")
        step(u, "                ")
        w("            }")
    adv(w, direct, mr, 4, "            ")
    w(f"            b += {4 * nr};")
    w("        }")
    w("        for (; p < kc; p++)")
    w("        {")
    step(0, "            ")
    adv(w, direct, mr, 1, "            ")
    w(f"            b += {nr};")
    w("        }")
    w(f"        {vt}<float> va = {vt}.Create(alpha);")
    w("        float* cr = c;")
    w("        if (accumulate)")
    w("        {")
    w(f"            {vt}<float> vb = {vt}.Create(betaEff);")
    for r in range(mr):
        for v in range(nv):
            w(f"            {vt}.Store({fma('va', f'c{r}_{v}', f'vb * {vt}.Load(cr + {v * lanes})')}, cr + {v * lanes});")
        if r < mr - 1:
            w("            cr += ldc;")
    w("        }")
    w("        else")
    w("        {")
    for r in range(mr):
        for v in range(nv):
            w(f"            {vt}.Store(va * c{r}_{v}, cr + {v * lanes});")
        if r < mr - 1:
            w("            cr += ldc;")
    w("        }")
    w("    }")

def adv(w, direct, mr, steps, ind):
    if direct:
        for g in range((mr + 2) // 3):
            w(f"{ind}ar{g} += {steps};")
    else:
        w(f"{ind}a += {steps * mr};")

def scalar_kernel(mr, nr):
    L = []
    w = L.append
    w("/// <summary>Portable scalar micro-kernel: a 4 x 4 tile of C in locals, separate multiply and add.</summary>")
    w("internal readonly struct SgemmScalarKernel : ISgemmMicroKernel")
    w("{")
    w(f"    public static int Mr => {mr};")
    w("")
    w(f"    public static int Nr => {nr};")
    w("")
    w("    public static bool IsSupported => true;")
    w("")
    w("    public static unsafe void Run(float* a, float* b, nint kc, float* c, nint ldc, float alpha, float betaEff, bool accumulate)")
    w("    {")
    for r in range(mr):
        w("        " + " ".join(f"float c{r}_{v} = 0f;" for v in range(nr)))
    w("        for (nint p = 0; p < kc; p++)")
    w("        {")
    w("            " + " ".join(f"float b{v} = b[{v}];" for v in range(nr)))
    for r in range(mr):
        w(f"            float a{r} = a[{r}];")
        w("            " + " ".join(f"c{r}_{v} += a{r} * b{v};" for v in range(nr)))
    w(f"            a += {mr};")
    w(f"            b += {nr};")
    w("        }")
    w("        float* cr = c;")
    w("        if (accumulate)")
    w("        {")
    for r in range(mr):
        w("            " + " ".join(f"cr[{v}] = (alpha * c{r}_{v}) + (betaEff * cr[{v}]);" for v in range(nr)))
        if r < mr - 1:
            w("            cr += ldc;")
    w("        }")
    w("        else")
    w("        {")
    for r in range(mr):
        w("            " + " ".join(f"cr[{v}] = alpha * c{r}_{v};" for v in range(nr)))
        if r < mr - 1:
            w("            cr += ldc;")
    w("        }")
    w("    }")
    w("")
    w("    public static unsafe void RunDirect(float* a, nint lda, float* b, nint kc, float* c, nint ldc, float alpha, float betaEff, bool accumulate)")
    w("    {")
    for r in range(mr):
        w("        " + " ".join(f"float c{r}_{v} = 0f;" for v in range(nr)))
    w("        for (nint p = 0; p < kc; p++)")
    w("        {")
    w("            " + " ".join(f"float b{v} = b[{v}];" for v in range(nr)))
    for r in range(mr):
        w(f"            float a{r} = a[({r} * lda) + p];")
        w("            " + " ".join(f"c{r}_{v} += a{r} * b{v};" for v in range(nr)))
    w(f"            b += {nr};")
    w("        }")
    w("        float* cr = c;")
    w("        if (accumulate)")
    w("        {")
    for r in range(mr):
        w("            " + " ".join(f"cr[{v}] = (alpha * c{r}_{v}) + (betaEff * cr[{v}]);" for v in range(nr)))
        if r < mr - 1:
            w("            cr += ldc;")
    w("        }")
    w("        else")
    w("        {")
    for r in range(mr):
        w("            " + " ".join(f"cr[{v}] = alpha * c{r}_{v};" for v in range(nr)))
        if r < mr - 1:
            w("            cr += ldc;")
    w("        }")
    w("    }")
    w("}")
    return "\n".join(L)

fused512 = lambda x, y, z: f"Vector512.FusedMultiplyAdd({x}, {y}, {z})"
est256 = lambda x, y, z: f"Vector256.MultiplyAddEstimate({x}, {y}, {z})"
est128 = lambda x, y, z: f"Vector128.MultiplyAddEstimate({x}, {y}, {z})"

print("""// <auto-generated>
// Register-blocked SGEMM micro-kernels, one struct per kernel variant. The bodies are fully unrolled (one local per
// accumulator, k unrolled by 4) so that every accumulator stays in a register. Generated by
// tools/generate_gemm_kernels.py: edit the script and run `python3 tools/generate_gemm_kernels.py >
// Qinco.Core/Numerics/Gemm/GemmKernels.cs`, never this file. Run and RunDirect must do the same operations in the same
// order (results must match bit for bit).
// </auto-generated>
#nullable enable
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Qinco.Core.Numerics;
""")
print(vec_kernel("Sgemm512Kernel", "Vector512", 16, MR512, 2, fused512,
      f"AVX-512 micro-kernel: a {MR512} x 32 tile of C in {MR512 * 2} zmm accumulators, broadcast A, fused multiply-add with packed B."))
print()
print(vec_kernel("Sgemm256Kernel", "Vector256", 8, 6, 2, est256,
      "256-bit micro-kernel: a 6 x 16 tile of C in 12 accumulators (fits the 16 AVX2 registers)."))
print()
print(vec_kernel("Sgemm128Kernel", "Vector128", 4, 6, 2, est128,
      "128-bit micro-kernel: a 6 x 8 tile of C in 12 accumulators (SSE / AdvSimd)."))
print()
print(scalar_kernel(4, 4))
