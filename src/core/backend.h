/*
 * backend.h — what a backend is: a table of op entry points plus a
 * supports() query, registered once in the device registry (registry.c).
 *
 * A context holds an ordered list of backends for its memory domain,
 * reference first and then ascending ISA level.  For every call the
 * dispatcher (dispatch.c) walks that list from the best backend down and
 * takes the first whose entry is non-NULL and whose supports() accepts the
 * problem; each rejection is logged with its reason under
 * SEQK_VERBOSE=dispatch.  The reference backend supports everything, so a
 * call always finds a kernel.
 *
 * Adding a backend: fill a seqk_backend, give it an is_available() that
 * checks the CPU/OS (or finds the device), and add one line to the
 * registry table in registry.c.
 */
#ifndef SEQK_CORE_BACKEND_H
#define SEQK_CORE_BACKEND_H

#include <stddef.h>

#include "core/problems.h"

typedef struct seqk_backend seqk_backend;

struct seqk_backend {
    const char *spec;       /* "ref", "avx2", ... */
    const char *name;       /* human-readable */
    seqk_device_kind kind;
    /* 1 if usable on this machine; else 0 and a reason in why. */
    int (*is_available)(char *why, size_t why_len);
    /* 1 if this backend takes the problem; else 0 and a reason.  With
     * problem == NULL: whether it has kernels for the op at all (for
     * `seqk info`).  A NULL hook means "everything its op entries cover". */
    int (*supports)(const seqk_backend *self, seqk_op op,
                    const void *problem, char *why, size_t why_len);
    /* Op entries: NULL when the backend has no kernel for the op.  The
     * kernel names (what__how) are for `seqk info` and the dispatch log. */
    seqk_status (*gemm)(seqk_context *, const seqk_backend *self,
                        const seqk_gemm_problem *);
    seqk_status (*matmul)(seqk_context *, const seqk_backend *self,
                          const seqk_matmul_problem *);
    seqk_status (*softmax)(seqk_context *, const seqk_backend *self,
                           const seqk_softmax_problem *);
    seqk_status (*rnn_layer)(seqk_context *, const seqk_backend *self,
                             const seqk_rnn_layer_problem *);
    seqk_status (*attention)(seqk_context *, const seqk_backend *self,
                             const seqk_attention_problem *);
    seqk_status (*seq_attention)(seqk_context *, const seqk_backend *self,
                                 const seqk_seq_attention_problem *);
    seqk_status (*gather)(seqk_context *, const seqk_backend *self,
                          const seqk_gather_problem *);
    seqk_status (*argmax)(seqk_context *, const seqk_backend *self,
                          const seqk_argmax_problem *);
    seqk_status (*topk)(seqk_context *, const seqk_backend *self,
                        const seqk_topk_problem *);
    seqk_status (*elementwise)(seqk_context *, const seqk_backend *self,
                               const seqk_elementwise_problem *);
    seqk_status (*concat)(seqk_context *, const seqk_backend *self,
                          const seqk_concat_problem *);
    seqk_status (*where)(seqk_context *, const seqk_backend *self,
                         const seqk_where_problem *);
    seqk_status (*cast)(seqk_context *, const seqk_backend *self,
                        const seqk_cast_problem *);
    seqk_status (*layout)(seqk_context *, const seqk_backend *self,
                          const seqk_layout_problem *);
    seqk_status (*reduce)(seqk_context *, const seqk_backend *self,
                          const seqk_reduce_problem *);
    seqk_status (*layer_norm)(seqk_context *, const seqk_backend *self,
                              const seqk_layer_norm_problem *);
    seqk_status (*conv1d)(seqk_context *, const seqk_backend *self,
                          const seqk_conv1d_problem *);
    seqk_status (*rnn_layer_train)(seqk_context *, const seqk_backend *self,
                                   const seqk_rnn_train_problem *);
    seqk_status (*rnn_layer_backward)(seqk_context *, const seqk_backend *self,
                                      const seqk_rnn_backward_problem *);
    const char *kernel_names[SEQK_OP_COUNT_];
    const void *impl;
    /* Optional, for a backend that decides per context and call (the
     * device offload of `auto` contexts, offload.c): 0 and a reason
     * passes the problem on to the next backend. */
    int (*accepts)(seqk_context *ctx, const seqk_backend *self, seqk_op op,
                   const void *problem, char *why, size_t why_len);
    /* 1: when an op entry fails, the dispatcher logs the error and runs
     * the next backend instead (a device that proves unusable). */
    int falls_back;       /* backend's own data, e.g. its ISA kernel table */
};

extern const seqk_backend seqk__backend_ref;
/* seqk__backend_<isa> (backend_cpu.c), defined in builds for the ISA's
 * architecture. */
#define SEQK_ISA(name, arch, needs, cflags, title)                          \
    extern const seqk_backend seqk__backend_##name;
#include "cpu_simd/isa.def"

#endif /* SEQK_CORE_BACKEND_H */
