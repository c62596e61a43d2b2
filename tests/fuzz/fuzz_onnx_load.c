/*
 * fuzz_onnx_load.c — bytes as an ONNX model: load, then a plan on the
 * ref device with every symbolic or unknown dim set to 2 (inputs of more
 * than 4096 elements are skipped: the planner would rightly allocate
 * them).  Any status is fine; a crash, leak or sanitizer report is not.
 * Seeds: the tests/models/tiny models (tests/fuzz/corpus/fuzz_onnx_load/).
 */
#include <stddef.h>
#include <stdint.h>

#include "seqk.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    seqk_model_options o;
    seqk_model *m = NULL;
    seqk_model_options_init(&o);
    o.device = "ref";
    o.threads = 1;
    if (seqk_model_load_bytes(data, size, &o, &m) != SEQK_OK)
        return 0;
    int n = seqk_model_input_count(m), nd[64];
    int64_t dims[64][SEQK_MAX_DIMS];
    const int64_t *dp[64];
    int ok = n >= 0 && n <= 64;
    for (int k = 0; ok && k < n; k++) {
        seqk_model_io io = {.struct_size = sizeof io};
        int64_t numel = 1;
        seqk_model_input_info(m, k, &io);
        nd[k] = io.ndim < 0 ? 1 : io.ndim;
        for (int d = 0; d < nd[k]; d++) {
            dims[k][d] = io.ndim < 0 || io.dims[d] < 0 ? 2 : io.dims[d];
            if (dims[k][d] > 4096 || (numel *= dims[k][d]) > 4096)
                ok = 0;
        }
        dp[k] = dims[k];
    }
    if (ok) {
        seqk_model_prepare(m, n, NULL, nd, dp);
        char buf[256];
        seqk_model_describe(m, buf, sizeof buf);
    }
    seqk_model_destroy(m);
    return 0;
}
