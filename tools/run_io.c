/*
 * run_io.c — `seqk run`'s inputs and outputs: .npy files to tensors (with
 * the dtype rules of each input kind) and the requested outputs back to
 * .npy, all or none.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "npy.h"
#include "run_ops.h"
#include "seqk.h"

/* ---------------------------------------------------------------- inputs */

/* Reads path as input name of kind spec->kind into a new tensor *t. */
static int load_npy(run_state *st, const in_spec *spec, const char *name,
                    const char *path, seqk_tensor **t)
{
    npy_array a;
    char err[400];
    int rc = 0;
    void *conv = NULL;

    if (npy_read(path, &a, err, sizeof err))
        return run_fail(1, "input %s: %s", name, err);

    seqk_dtype dt = SEQK_F32;
    const void *data = a.data;
    size_t bytes = a.bytes;
    if (spec->kind == IN_F32 && a.dtype != NPY_F32) {
        rc = run_fail(1, "input %s: expected float32, got %s (%s)", name,
                      npy_dtype_name(a.dtype), path);
        goto cleanup;
    }
    if (spec->kind == IN_MASK) {
        if (a.dtype != NPY_BOOL && a.dtype != NPY_F32) {
            rc = run_fail(1, "input %s: expected bool or float32, got %s (%s)",
                          name, npy_dtype_name(a.dtype), path);
            goto cleanup;
        }
        dt = a.dtype == NPY_BOOL ? SEQK_BOOL : SEQK_F32;
    }
    if (spec->kind == IN_LENS) {
        if (a.dtype != NPY_I32 && a.dtype != NPY_I64) {
            rc = run_fail(1, "input %s: expected int32 or int64, got %s (%s)",
                          name, npy_dtype_name(a.dtype), path);
            goto cleanup;
        }
        dt = SEQK_I32;
        if (a.dtype == NPY_I64) {
            const int64_t *src = a.data;
            int32_t *dst = malloc(a.numel ? (size_t)a.numel * 4 : 1);
            if (!dst) {
                rc = run_fail(1, "input %s: out of memory", name);
                goto cleanup;
            }
            conv = dst;
            for (int64_t i = 0; i < a.numel; i++) {
                if (src[i] < INT32_MIN || src[i] > INT32_MAX) {
                    rc = run_fail(1,
                                  "input %s: value %lld at index %lld does "
                                  "not fit int32",
                                  name, (long long)src[i], (long long)i);
                    goto cleanup;
                }
                dst[i] = (int32_t)src[i];
            }
            data = conv;
            bytes = (size_t)a.numel * 4;
        }
    }
    if (seqk_tensor_create(st->ctx, a.ndim, a.dims, dt, t) ||
        seqk_tensor_write(*t, data, bytes)) {
        rc = run_fail(1, "input %s: %s", name, seqk_last_error(st->ctx));
        goto cleanup;
    }

cleanup:
    free(conv);
    npy_free(&a);
    return rc;
}

static int load_input(run_state *st, int k)
{
    const in_spec *spec = &st->op->inputs[k];
    return load_npy(st, spec, spec->name, st->in_path[k], &st->in[k]);
}

/* The weights of RNN layers >= 1 (-i W_l1=...), all float32. */
static int load_layer_inputs(run_state *st)
{
    static const char letter[LW_COUNT] = { 'W', 'R', 'B', 'P' };
    static const in_spec f32 = { "W_l", IN_F32, 0 };
    for (int l = 1; l < MAX_RNN_LAYERS; l++)
        for (int w = 0; w < LW_COUNT; w++) {
            if (!st->layer_path[l][w])
                continue;
            char name[16];
            snprintf(name, sizeof name, "%c_l%d", letter[w], l);
            int rc = load_npy(st, &f32, name, st->layer_path[l][w],
                              &st->layer_in[l][w]);
            if (rc)
                return rc;
        }
    return 0;
}

/* Output k into a temporary beside its path (*staged); write_outputs
 * renames them all once every one is written. */
static int stage_output(const run_state *st, int k, char **staged)
{
    const seqk_tensor *t = st->out[k];
    const char *name = st->op->outputs[k];
    int64_t dims[SEQK_MAX_DIMS];
    char err[400];
    int rc = 0;

    if (!t)
        return run_fail(1, "output %s was not computed", name);
    size_t bytes = seqk_tensor_bytes(t);
    float *host = malloc(bytes ? bytes : 1);
    if (!host)
        return run_fail(1, "output %s: out of memory", name);
    int nd = seqk_tensor_ndim(t);
    for (int i = 0; i < nd; i++)
        dims[i] = seqk_tensor_dim(t, i);
    if (seqk_tensor_read(t, host, bytes))
        rc = run_fail(1, "output %s: %s", name, seqk_last_error(st->ctx));
    else if (npy_stage(st->out_path[k],
                       seqk_tensor_dtype(t) == SEQK_I64 ? NPY_I64 : NPY_F32,
                       nd, dims, host, staged,
                       err, sizeof err))
        rc = run_fail(1, "output %s: %s", name, err);
    free(host);
    return rc;
}

/* All requested outputs, or none: each is staged first; if one fails the
 * others' temporaries are removed and every path keeps what it had. */
int run_write_outputs(const run_state *st)
{
    char *staged[MAX_OP_OUTPUTS] = {NULL};
    int rc = 0;
    for (int k = 0; !rc && k < MAX_OP_OUTPUTS; k++)
        if (st->out_path[k])
            rc = stage_output(st, k, &staged[k]);
    for (int k = 0; k < MAX_OP_OUTPUTS; k++) {
        if (!staged[k])
            continue;
        char err[400];
        if (rc)
            npy_discard(staged[k]);
        else if (npy_commit(staged[k], st->out_path[k], err, sizeof err))
            rc = run_fail(1, "output %s: %s", st->op->outputs[k], err);
    }
    return rc;
}

int run_load_inputs(run_state *st)
{
    int rc = 0;
    for (int k = 0; !rc && k < MAX_OP_INPUTS; k++)
        if (st->in_path[k])
            rc = load_input(st, k);
    return rc ? rc : load_layer_inputs(st);
}
