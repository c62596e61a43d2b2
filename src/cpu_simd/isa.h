/*
 * isa.h — what C needs to expand the ISA list (isa.def) beyond its fields:
 * whether this build compiled an entry's kernels.
 *
 * meson builds an ISA's static library when the entry's arch is the target
 * cpu_family, so the compiler's own target macros say the same:
 *
 *   SEQK_ISA_BUILT(arch, ...)   the other arguments in a build for arch,
 *                               nothing in other builds
 *
 * e.g. SEQK_ISA_BUILT(x86_64, &seqk__cpu_isa_avx2,).  An isa.def entry for
 * a new architecture needs one more pair of lines here.
 */
#ifndef SEQK_CPU_SIMD_ISA_H
#define SEQK_CPU_SIMD_ISA_H

#define SEQK_ISA_BUILT(arch, ...) SEQK_ISA_BUILT_##arch(__VA_ARGS__)

#if defined(__x86_64__)
#define SEQK_ISA_BUILT_x86_64(...) __VA_ARGS__
#else
#define SEQK_ISA_BUILT_x86_64(...)
#endif

#if defined(__aarch64__)
#define SEQK_ISA_BUILT_aarch64(...) __VA_ARGS__
#else
#define SEQK_ISA_BUILT_aarch64(...)
#endif

#endif /* SEQK_CPU_SIMD_ISA_H */
