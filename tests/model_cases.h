/* model_cases.h — what the plan-rewrite suites (test_model_fuse.c,
 * test_model_layout.c) share: a test model loaded with extra values kept
 * as outputs (which blocks the rewrites that would consume them), run on
 * its committed input set, and its plan text searched. */
#ifndef SEQK_TEST_MODEL_CASES_H
#define SEQK_TEST_MODEL_CASES_H

#include <stddef.h>

#include "seqk.h"

#define MC_MAX_IO 32

/* The folder of dir "tiny" (SEQK_MODEL_DIR) or of the exported models
 * (SEQK_MODELS_DIR); defaults relative to the source tree. */
const char *mc_dir(const char *dir);
/* Occurrences of needle in s. */
int mc_count(const char *s, const char *needle);
/* dir/model.onnx on test device dev with outputs outs (NULL-ended) plus,
 * if keep (NULL-ended, may be NULL), those values added to the graph's
 * outputs and asked for. */
seqk_model *mc_load(const char *dir, const char *model,
                    const char *const *outs, const char *const *keep,
                    int dev);
/* Runs m on dir/model<set>/inputs/<input>.npy (set "" or "/b1" ...) for
 * outputs outs (NULL-ended): out[] (owned by m), the plan's describe
 * text in text. */
void mc_run(seqk_model *m, const char *dir, const char *model,
            const char *set, const char *const *outs, seqk_tensor **out,
            char *text, size_t text_len);

#endif
