/*
 * cl_internal.h — the per-context OpenCL state behind cl_backend.h, shared
 * by the files of src/opencl/ only.
 */
#ifndef SEQK_OPENCL_CL_INTERNAL_H
#define SEQK_OPENCL_CL_INTERNAL_H

#include <stdint.h>

#include "opencl/cl_backend.h"

/* A device tensor: its reserved host range [base, base + size) and the
 * buffer of the same size behind it. */
typedef struct seqk_cl_range {
    uintptr_t base;
    size_t size;      /* data + guard bytes */
    cl_mem mem;
} seqk_cl_range;

#define SEQK_CL_MAX_KERNELS 16

/* One built program: (source name, options) and its kernels by name. */
typedef struct seqk_cl_program {
    char *source;
    char *options;
    cl_program program;
    int num_kernels;
    char *kernel_names[SEQK_CL_MAX_KERNELS];
    cl_kernel kernels[SEQK_CL_MAX_KERNELS];
    struct seqk_cl_program *next;
} seqk_cl_program;

/* The state of ctx, an OpenCL context (seqk__cl_state_of() checks). */
static inline seqk_cl_state *seqk_cl_st(const seqk_context *ctx)
{
    return ctx->dev_state;
}

struct seqk_cl_state {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_command_queue queue;
    seqk_cl_device_facts facts;
    /* facts in the device table's form, made on first use (tune/ reads
     * them on every call that looks up tuned values) */
    seqk__device_facts table_facts;
    int table_facts_made;
    seqk_cl_range *ranges;   /* sorted by base */
    size_t num_ranges, cap_ranges;
    seqk_cl_program *programs;
    /* profiling (cl_profile.c) */
    int profiling;
    cl_event *events;
    size_t num_events, cap_events;
    double profiled_ns;
    /* device-side checks, reported at the next synchronization
     * (cl_checks.c) */
    cl_mem check_flags;
    struct seqk_cl_check *checks;
    int num_checks;
};

/* cl_profile.c */
cl_command_queue_properties seqk__cl_profile_queue_props(void);
void seqk__cl_profile_init(seqk_cl_state *s);
/* Where the next launch stores its event, or NULL when not profiling;
 * seqk__cl_profile_commit() after the launch succeeded. */
cl_event *seqk__cl_profile_slot(seqk_context *ctx);
void seqk__cl_profile_commit(seqk_context *ctx);
void seqk__cl_profile_release(seqk_cl_state *s);

/* cl_checks.c: a flag slot for a Gather's id check (flags, slot), and
 * the report of every check since the last one — called where the host
 * waits anyway (reads, clFinish). */
#define SEQK_CL_CHECK_SLOTS 64
typedef struct seqk_cl_check seqk_cl_check;
seqk_status seqk__cl_check_slot(seqk_context *ctx,
                                const seqk_gather_problem *p,
                                cl_mem *flags, cl_long *slot);
seqk_status seqk__cl_checks_drain(seqk_context *ctx);
void seqk__cl_checks_release(seqk_cl_state *s);

/* cl_memory.c / cl_program.c cleanup, called by seqk__cl_close. */
void seqk__cl_memory_release(seqk_cl_state *s);
void seqk__cl_programs_release(seqk_cl_state *s);
/* The range holding ptr (base <= ptr <= base + size), or NULL. */
const seqk_cl_range *seqk__cl_find_range(const seqk_cl_state *s,
                                        const void *ptr);

/* Op drivers (cl_<op>.c). */
seqk_status seqk__cl_softmax(seqk_context *ctx, const seqk_softmax_problem *p);
seqk_status seqk__cl_attention(seqk_context *ctx, const seqk_attention_problem *p);
seqk_status seqk__cl_seq_attention(seqk_context *ctx, const seqk_seq_attention_problem *p);
/* cl_tensor_ops.c */
seqk_status seqk__cl_gather(seqk_context *ctx, const seqk_gather_problem *p);
seqk_status seqk__cl_concat(seqk_context *ctx, const seqk_concat_problem *p);
seqk_status seqk__cl_elementwise(seqk_context *ctx,
                                 const seqk_elementwise_problem *p);
seqk_status seqk__cl_argmax(seqk_context *ctx, const seqk_argmax_problem *p);
/* cl_tensor_ops.c helpers: buffer argument i and its offset argument
 * i + 1 in units of unit bytes; a 1-D launch of items work-items in
 * groups of min(64, the kernel's limit). */
seqk_status seqk__cl_arg_mem(seqk_context *ctx, cl_kernel k,
                             const char *name, cl_uint i, const void *ptr,
                             size_t unit);
seqk_status seqk__cl_launch_1d(seqk_context *ctx, cl_kernel k,
                               const char *name, int64_t items);
/* cl_onnx_ops.c */
seqk_status seqk__cl_ew_bool(seqk_context *ctx,
                             const seqk_elementwise_problem *p);
seqk_status seqk__cl_where(seqk_context *ctx, const seqk_where_problem *p);
seqk_status seqk__cl_cast(seqk_context *ctx, const seqk_cast_problem *p);
seqk_status seqk__cl_layout(seqk_context *ctx, const seqk_layout_problem *p);
seqk_status seqk__cl_reduce(seqk_context *ctx, const seqk_reduce_problem *p);
seqk_status seqk__cl_log_softmax(seqk_context *ctx,
                                 const seqk_softmax_problem *p);
seqk_status seqk__cl_layer_norm(seqk_context *ctx,
                                const seqk_layer_norm_problem *p);
seqk_status seqk__cl_conv1d(seqk_context *ctx,
                            const seqk_conv1d_problem *p);
seqk_status seqk__cl_topk(seqk_context *ctx, const seqk_topk_problem *p);

#endif /* SEQK_OPENCL_CL_INTERNAL_H */
