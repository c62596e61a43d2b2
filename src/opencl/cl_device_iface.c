/*
 * cl_device_iface.c — the OpenCL backend as core/ and tune/ see it: the
 * device table (core/device.h) that opens, synchronizes, times and closes
 * an OpenCL context, moves tensor memory, and reports the device facts
 * and the tunables the tuner keys on.  core/registry.c finds it through
 * seqk_devices.def, which src/meson.build generates.
 */
#include <stdio.h>
#include <string.h>

#include "opencl/cl_internal.h"
#include "tune/tune.h"

/* Declared beside their code: cl_gemm.c, cl_rnn.c, cl_attention.c,
 * cl_seq_attention.c, cl_softmax.c. */
extern const seqk_tunable seqk__cl_gemm_tiled_tunable;
extern const seqk_tunable seqk__cl_gemm_direct_tunable;
extern const seqk_tunable seqk__cl_gemm_rows_tunable;
extern const seqk_tunable seqk__cl_gemm_path_tunable;
extern const seqk_tunable seqk__cl_rnn_gates_tunable;
extern const seqk_tunable seqk__cl_rnn_step_tunable;
extern const seqk_tunable seqk__cl_attention_tunable;
extern const seqk_tunable seqk__cl_seq_attention_tunable;
extern const seqk_tunable seqk__cl_softmax_tunable;

static const seqk_tunable *const cl_tunables[] = {
    /* GEMM */
    &seqk__cl_gemm_tiled_tunable,
    &seqk__cl_gemm_direct_tunable,
    &seqk__cl_gemm_rows_tunable,
    &seqk__cl_gemm_path_tunable,
    /* RNN */
    &seqk__cl_rnn_gates_tunable,
    &seqk__cl_rnn_step_tunable,
    /* attention */
    &seqk__cl_attention_tunable,
    &seqk__cl_seq_attention_tunable,
    /* softmax */
    &seqk__cl_softmax_tunable,
    NULL
};

/* The facts were read when the device was opened (cl_device.c) and are
 * converted once; the queries that may fail without failing the open are
 * reported here. */
static seqk_status cl_facts(seqk_context *ctx, seqk__device_facts *out)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    const seqk_cl_device_facts *f = &s->facts;
    seqk__device_facts *t = &s->table_facts;
    if (!s->table_facts_made) {
        memset(t, 0, sizeof *t);
        snprintf(t->name, sizeof t->name, "%s", f->name);
        snprintf(t->vendor, sizeof t->vendor, "%s", f->vendor);
        snprintf(t->driver, sizeof t->driver, "%s", f->driver_version);
        snprintf(t->version, sizeof t->version, "%s", f->version);
        snprintf(t->platform, sizeof t->platform, "%s",
                 f->platform_version);
        t->is_gpu = f->is_gpu;
        t->compute_units = (int)f->compute_units;
        t->local_mem = (int64_t)f->local_mem_size;
        t->max_wg = (int64_t)f->max_work_group_size;
        for (int i = 0; i < 3; i++)
            t->max_item[i] = (int64_t)f->max_work_item_sizes[i];
        t->global_mem = (int64_t)f->global_mem_size;
        t->fp16 = f->fp16;
        s->table_facts_made = 1;
    }
    *out = *t;
    cl_int err = f->type_err ? f->type_err : f->platform_err;
    if (err == CL_SUCCESS)
        return SEQK_OK;
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
              "opencl: %s of %s: %s (%d); left %s",
              f->type_err ? "clGetDeviceInfo(CL_DEVICE_TYPE)"
                          : "the platform version",
              f->name, seqk__cl_error_name(err), (int)err,
              f->type_err ? "as a non-GPU device" : "empty");
    return seqk__cl_status(err);
}

const seqk_device_iface seqk__device_opencl = {
    .name = "opencl",
    .title = "OpenCL",
    .kind = SEQK_DEVICE_OPENCL,
    .backend = &seqk__backend_opencl,
    .probe = seqk__cl_probe,
    .open = seqk__cl_open,
    .close = seqk__cl_close,
    .synchronize = seqk__cl_finish,
    .device_time = seqk__cl_device_time,
    .alloc = seqk__cl_alloc,
    .free = seqk__cl_free,
    .write = seqk__cl_write,
    .read = seqk__cl_read,
    .copy = seqk__cl_copy,
    .facts = cl_facts,
    .tunables = cl_tunables,
    .source_text = seqk__cl_source_text,
};
