/*
 * cpu_simd.h — the CPU SIMD backend: ISA-independent drivers (packing,
 * blocking, threading; compiled without ISA flags) over per-ISA kernel
 * tables (compiled with that ISA's flags in its own static library).
 *
 *   src/cpu_simd/          drivers, the backend tables (backend_cpu.c)
 *   src/cpu_simd/isa.def   the ISA list: name, architecture, CPU features,
 *                          compiler flags (avx2, avx512, neon)
 *   src/cpu_simd/<isa>/    that ISA's kernels, built with its flags
 *
 * An ISA is one seqk_cpu_isa: a table per op family.  A NULL table means
 * the ISA has no kernels for that family and dispatch falls back to the
 * next backend down (ultimately ref), saying so under SEQK_VERBOSE.
 */
#ifndef SEQK_CPU_SIMD_H
#define SEQK_CPU_SIMD_H

#include "core/internal.h"

/* Defined by the op families, each in its own header:
 *   gemm.h       struct seqk_gemm_kernels   (SGEMM microkernels, packing)
 *   rnn.h        struct seqk_rnn_kernels    (gate math, GEMV)
 *   attention.h  struct seqk_attn_kernels   (softmax, attention tiles)
 *   elementwise.h struct seqk_ew_kernels    (element-wise rows, ArgMax) */
struct seqk_gemm_kernels;
struct seqk_rnn_kernels;
struct seqk_attn_kernels;
struct seqk_ew_kernels;

typedef struct seqk_cpu_isa {
    const char *spec; /* the isa.def name: "avx2", ... */
    const struct seqk_gemm_kernels *gemm;
    const struct seqk_rnn_kernels *rnn;
    const struct seqk_attn_kernels *attn;
    const struct seqk_ew_kernels *ew;
} seqk_cpu_isa;

/* Drivers: the backend table's op entries (self->impl is the ISA). */
seqk_status seqk__cpu_gemm(seqk_context *ctx, const seqk_cpu_isa *isa,
                          const seqk_gemm_problem *p);
seqk_status seqk__cpu_matmul(seqk_context *ctx, const seqk_cpu_isa *isa,
                            const seqk_matmul_problem *p);
seqk_status seqk__cpu_softmax(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_softmax_problem *p);
seqk_status seqk__cpu_rnn_layer(seqk_context *ctx, const seqk_cpu_isa *isa,
                               const seqk_rnn_layer_problem *p);
seqk_status seqk__cpu_attention(seqk_context *ctx, const seqk_cpu_isa *isa,
                               const seqk_attention_problem *p);
seqk_status seqk__cpu_seq_attention(seqk_context *ctx, const seqk_cpu_isa *isa,
                                   const seqk_seq_attention_problem *p);
seqk_status seqk__cpu_elementwise(seqk_context *ctx, const seqk_cpu_isa *isa,
                                  const seqk_elementwise_problem *p);
seqk_status seqk__cpu_argmax(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_argmax_problem *p);
seqk_status seqk__cpu_conv1d(seqk_context *ctx, const seqk_cpu_isa *isa,
                             const seqk_conv1d_problem *p);
seqk_status seqk__cpu_layer_norm(seqk_context *ctx, const seqk_cpu_isa *isa,
                                 const seqk_layer_norm_problem *p);
/* layout_driver.c: plain C, the same on every ISA (pads go to ref). */
seqk_status seqk__cpu_layout(seqk_context *ctx, const seqk_layout_problem *p);

/* Whether the drivers take a problem on this ISA; why on refusal.
 * seqk__cpu_supports checks the ISA has the op family's table, then asks
 * the family's driver, which may refuse shapes it does not cover. */
int seqk__cpu_supports(const seqk_cpu_isa *isa, seqk_op op,
                      const void *problem, char *why, size_t why_len);
int seqk__cpu_gemm_supports(const seqk_cpu_isa *isa, seqk_op op,
                           const void *problem, char *why, size_t why_len);
int seqk__cpu_rnn_supports(const seqk_cpu_isa *isa,
                          const seqk_rnn_layer_problem *p, char *why,
                          size_t why_len);
int seqk__cpu_attn_supports(const seqk_cpu_isa *isa, seqk_op op,
                           const void *problem, char *why, size_t why_len);
int seqk__cpu_ew_supports(const seqk_cpu_isa *isa, seqk_op op,
                          const void *problem, char *why, size_t why_len);

/* The ISA tables seqk__cpu_isa_<isa>, one per ISA library (isa_table.c),
 * defined in builds for the ISA's architecture. */
#define SEQK_ISA(name, arch, needs, cflags, title)                          \
    extern const seqk_cpu_isa seqk__cpu_isa_##name;
#include "cpu_simd/isa.def"

/* The ISA tables this build compiled, in isa.def order, then NULL. */
extern const seqk_cpu_isa *const seqk__cpu_isas[];

/* The compiled ISA table named spec ("avx2"), or NULL. */
const seqk_cpu_isa *seqk__cpu_isa_find(const char *spec);

/* Threads to use for a call on ctx (>= 1). */
int seqk__cpu_threads(seqk_context *ctx);

#endif
