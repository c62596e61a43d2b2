/*
 * model_cases.c — see model_cases.h.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model_cases.h"
#include "npy.h"
#include "onnx_loader.h"
#include "testutil.h"

const char *mc_dir(const char *dir)
{
    const char *d = getenv(!strcmp(dir, "tiny") ? "SEQK_MODEL_DIR"
                                                : "SEQK_MODELS_DIR");
    return d ? d : !strcmp(dir, "tiny") ? "tests/models/tiny"
                                        : "tests/models";
}

int mc_count(const char *s, const char *needle)
{
    int n = 0;
    for (const char *p = s; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

seqk_model *mc_load(const char *dir, const char *model,
                    const char *const *outs_in, const char *const *keep,
                    int dev)
{
    char path[1024], err[OL_MSG_LEN];
    uint8_t *buf = NULL;
    size_t len = 0;
    seqk_model_options o;
    seqk_model *m = NULL;
    const char *outs[MC_MAX_IO + 3];
    int n = 0;

    snprintf(path, sizeof path, "%s/%s.onnx", mc_dir(dir), model);
    ck_assert_msg(ol_read_file(path, OL_MAX_FILE_BYTES, &buf, &len, err) == 0,
                  "%s", err);
    Onnx__ModelProto *mp = onnx__model_proto__unpack(NULL, len, buf);
    free(buf);
    ck_assert(mp && mp->graph);
    Onnx__GraphProto *g = mp->graph;
    for (; n < MC_MAX_IO && outs_in[n]; n++)
        outs[n] = outs_in[n];
    for (int k = 0; keep && k < 3 && keep[k]; k++) {
        int have = 0;
        for (size_t i = 0; i < g->n_output; i++)
            have |= !strcmp(g->output[i]->name, keep[k]);
        outs[n++] = keep[k];
        if (have)
            continue;
        Onnx__ValueInfoProto *vi = calloc(1, sizeof *vi);
        Onnx__TypeProto *tp = calloc(1, sizeof *tp);
        Onnx__TypeProto__Tensor *tt = calloc(1, sizeof *tt);
        ck_assert(vi && tp && tt);
        onnx__value_info_proto__init(vi);
        onnx__type_proto__init(tp);
        onnx__type_proto__tensor__init(tt);
        tt->has_elem_type = 1;
        tt->elem_type = ONNX__TENSOR_PROTO__DATA_TYPE__FLOAT;
        tp->value_case = ONNX__TYPE_PROTO__VALUE_TENSOR_TYPE;
        tp->tensor_type = tt;
        vi->name = strdup(keep[k]);
        vi->type = tp;
        g->output = realloc(g->output, (g->n_output + 1) * sizeof *g->output);
        ck_assert(g->output != NULL);
        g->output[g->n_output++] = vi;
    }
    len = onnx__model_proto__get_packed_size(mp);
    buf = malloc(len + 1);
    ck_assert(buf != NULL);
    onnx__model_proto__pack(mp, buf);
    onnx__model_proto__free_unpacked(mp, NULL);

    seqk_model_options_init(&o);
    o.device = tu_device(dev);
    o.n_outputs = n;
    o.outputs = outs;
    ck_assert_msg(seqk_model_load_bytes(buf, len, &o, &m) == SEQK_OK,
                  "load %s on %s: %s", model, o.device,
                  seqk_last_error(NULL));
    free(buf);
    return m;
}

void mc_run(seqk_model *m, const char *dir, const char *model,
            const char *set, const char *const *outs, seqk_tensor **out,
            char *text, size_t text_len)
{
    char path[1200], err[512];
    seqk_context *ctx = seqk_model_context(m);
    int n_in = seqk_model_input_count(m), n_out = 0;
    seqk_tensor *in[MC_MAX_IO] = {NULL};
    ck_assert(n_in > 0 && n_in <= MC_MAX_IO);
    while (n_out < MC_MAX_IO && outs[n_out])
        n_out++;
    for (int k = 0; k < n_in; k++) {
        seqk_model_io io = {.struct_size = sizeof io};
        npy_array a;
        ck_assert(seqk_model_input_info(m, k, &io) == SEQK_OK);
        snprintf(path, sizeof path, "%s/%s%s/inputs/%s.npy", mc_dir(dir),
                 model, set, io.name);
        ck_assert_msg(npy_read(path, &a, err, sizeof err) == NPY_OK, "%s",
                      err);
        TU_OK(ctx, seqk_tensor_create(ctx, a.ndim, a.dims,
                                      a.dtype == NPY_BOOL  ? SEQK_BOOL
                                      : a.dtype == NPY_I64 ? SEQK_I64
                                      : a.dtype == NPY_I32 ? SEQK_I32
                                                           : SEQK_F32,
                                      &in[k]));
        TU_OK(ctx, seqk_tensor_write(in[k], a.data, a.bytes));
        npy_free(&a);
    }
    TU_OK(ctx, seqk_model_run(m, n_in, NULL, (const seqk_tensor *const *)in,
                              n_out, outs, out));
    for (int k = 0; k < n_in; k++)
        seqk_tensor_destroy(in[k]);
    seqk_model_describe(m, text, text_len);
}
