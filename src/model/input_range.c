/*
 * input_range.c — seqk_model_input_range: what an integer graph input may
 * hold, read off the last plan's shapes.  Tools that make random inputs
 * (`seqk bench model.onnx`) need token ids inside the embedding table and
 * sequence lengths no longer than the sequence.
 *
 * From the input, values are followed forward through nodes that carry
 * them unchanged (Cast, Identity, Reshape, Flatten, Squeeze, Unsqueeze,
 * Expand, Transpose) up to a Gather's indices (range 0..axis length - 1)
 * or an RNN's sequence_lens (0..T).  A bounded walk: each value is
 * visited once.
 */
#include <stdlib.h>
#include <string.h>

#include "model/model.h"

static int passes_through(const char *op)
{
    static const char *const ops[] = {"Cast", "Identity", "Reshape",
                                      "Flatten", "Squeeze", "Unsqueeze",
                                      "Expand", "Transpose"};
    for (size_t i = 0; i < sizeof ops / sizeof *ops; i++)
        if (!strcmp(op, ops[i]))
            return 1;
    return 0;
}

static int is_rnn(const char *op)
{
    return !strcmp(op, "LSTM") || !strcmp(op, "GRU") || !strcmp(op, "RNN");
}

/* Narrows (*kind, *hi) with what node n does with value v at input k. */
static void consider(const mdl_graph *g, const mdl_plan *p, int n, int k,
                     seqk_model_input_kind *kind, int64_t *hi)
{
    const mdl_node *nd = &g->nodes[n];
    const char *op = nd->op->name;
    int64_t bound = -1;
    seqk_model_input_kind what = SEQK_MODEL_INPUT_OTHER;
    if (!strcmp(op, "Gather") && k == 1 && nd->in[0] >= 0) {
        const mdl_info *data = &p->info[nd->in[0]];
        int ax;
        if (seqk__mdl_axis(seqk__mdl_gather_axis(nd), data->ndim, &ax) == 0 &&
            data->dims[ax] > 0) {
            bound = data->dims[ax] - 1;
            what = SEQK_MODEL_INPUT_INDICES;
        }
    } else if (is_rnn(op) && k == 4 && nd->in[0] >= 0) {
        const mdl_info *x = &p->info[nd->in[0]];
        if (x->ndim == 3) {
            bound = x->dims[seqk__mdl_rnn_layout(nd) ? 1 : 0];
            what = SEQK_MODEL_INPUT_LENGTHS;
        }
    }
    if (what == SEQK_MODEL_INPUT_OTHER)
        return;
    if (*kind == SEQK_MODEL_INPUT_OTHER || bound < *hi) {
        *kind = what;
        *hi = bound;
    }
}

seqk_status seqk_model_input_range(const seqk_model *m, int i,
                                   seqk_model_input_kind *kind, int64_t *lo,
                                   int64_t *hi)
{
    if (!m || !kind || !lo || !hi || i < 0 || i >= m->g.n_inputs)
        return seqk__error(m ? m->ctx : NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_model_input_range: NULL argument or input "
                           "%d outside 0..%d", i, m ? m->g.n_inputs - 1 : -1);
    if (!m->last)
        return seqk__error(m->ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_model_input_range: no plan yet (call "
                           "seqk_model_prepare or seqk_model_run first)");
    const mdl_graph *g = &m->g;
    const mdl_plan *p = m->last;
    *kind = SEQK_MODEL_INPUT_OTHER;
    *lo = *hi = 0;
    int *stack = malloc((size_t)g->n_values * sizeof *stack);
    unsigned char *seen = calloc((size_t)g->n_values, 1);
    if (!stack || !seen) {
        free(stack);
        free(seen);
        return seqk__error(m->ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_model_input_range: out of memory");
    }
    int top = 0;
    stack[top++] = g->inputs[i];
    seen[g->inputs[i]] = 1;
    while (top > 0) {
        int v = stack[--top];
        for (int n = 0; n < g->n_nodes; n++) {
            const mdl_node *nd = &g->nodes[n];
            for (int k = 0; k < nd->n_in; k++) {
                if (nd->in[k] != v)
                    continue;
                consider(g, p, n, k, kind, hi);
                int o = nd->out[0];
                if (k == 0 && passes_through(nd->op->name) && o >= 0 &&
                    !seen[o]) {
                    seen[o] = 1;
                    stack[top++] = o;
                }
            }
        }
    }
    free(stack);
    free(seen);
    return SEQK_OK;
}
