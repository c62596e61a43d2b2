/*
 * model_stub.c — the model API of a build without protobuf-c (meson
 * -Donnx=disabled, or libprotobuf-c/protoc-c/onnx.proto missing).
 */
#include <stddef.h>

#include "core/internal.h"
#include "seqk.h"

#define NO_ONNX "seqk was built without ONNX support (protobuf-c); " \
    "rebuild with -Donnx=enabled"

void seqk_model_options_init(seqk_model_options *opts)
{
    if (opts)
        *opts = (seqk_model_options){.struct_size = sizeof *opts};
}

seqk_status seqk_model_load(const char *path, const seqk_model_options *opts,
                            seqk_model **model)
{
    (void)path; (void)opts;
    if (model)
        *model = NULL;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}

seqk_status seqk_model_load_bytes(const void *data, size_t size,
                                  const seqk_model_options *opts,
                                  seqk_model **model)
{
    (void)data; (void)size; (void)opts;
    if (model)
        *model = NULL;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}

seqk_status seqk_model_destroy(seqk_model *m) { (void)m; return SEQK_OK; }
seqk_context *seqk_model_context(const seqk_model *m) { (void)m; return NULL; }
int seqk_model_input_count(const seqk_model *m) { (void)m; return -1; }
int seqk_model_output_count(const seqk_model *m) { (void)m; return -1; }

seqk_status seqk_model_input_info(const seqk_model *m, int i,
                                  seqk_model_io *info)
{
    (void)m; (void)i; (void)info;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}

seqk_status seqk_model_output_info(const seqk_model *m, int i,
                                   seqk_model_io *info)
{
    (void)m; (void)i; (void)info;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}

seqk_status seqk_model_run(seqk_model *m, int n_in, const char *const *in_names,
                           const seqk_tensor *const *inputs, int n_out,
                           const char *const *out_names, seqk_tensor **outputs)
{
    (void)m; (void)n_in; (void)in_names; (void)inputs; (void)n_out;
    (void)out_names; (void)outputs;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}

seqk_status seqk_model_prepare(seqk_model *m, int n_in,
                               const char *const *in_names, const int *ndims,
                               const int64_t *const *dims)
{
    (void)m; (void)n_in; (void)in_names; (void)ndims; (void)dims;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}

size_t seqk_model_describe(seqk_model *m, char *buf, size_t len)
{
    (void)m;
    if (buf && len)
        buf[0] = '\0';
    return 0;
}

seqk_status seqk_model_input_range(const seqk_model *m, int i,
                                   seqk_model_input_kind *kind, int64_t *lo,
                                   int64_t *hi)
{
    (void)m; (void)i; (void)kind; (void)lo; (void)hi;
    return seqk__error(NULL, SEQK_ERR_UNSUPPORTED, NO_ONNX);
}
