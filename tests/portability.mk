# The second notebook run of `make test`: numpy and OpenBLAS on other instructions than this
# CPU's best, so the stored outputs are checked against another CPU's arithmetic.
# numpy >= 2.4 names its x86 SIMD groups X86_V2 (baseline, cannot be disabled), X86_V3 (AVX2,
# FMA3), X86_V4 (AVX-512 F/CD/BW/DQ/VL), AVX512_ICL, AVX512_SPR; the older names (AVX2 FMA3
# AVX512F ...) are silently ignored by numpy 2.4. Features this CPU lacks are ignored too.
# OPENBLAS_CORETYPE picks the kernel of a DYNAMIC_ARCH OpenBLAS (numpy's wheels); threadpoolctl
# reports it (the "notebook outputs" summary line prints it).
PORTABLE_NPY_DISABLE_CPU_FEATURES := X86_V3 X86_V4 AVX512_ICL AVX512_SPR
PORTABLE_OPENBLAS_CORETYPE := Sandybridge
