/*
 * backend_opencl.c — the OpenCL backend's table.
 *
 * Ops with an OpenCL kernel run it (GEMM, MatMul, softmax so far).  Every other op runs
 * the reference kernel on host copies ("fallback with copy"): each device
 * pointer in the problem is replaced by a host shadow of its whole tensor
 * (downloaded once per call), the ref kernel runs, and the shadows of
 * outputs are uploaded back.  Pointers outside any device tensor are host
 * memory the front end owns (RNN weight blocks, lengths) and pass through.
 * The fallback is logged under SEQK_VERBOSE=dispatch.
 */
#include <stdio.h>
#include <string.h>

#include "cl_gemm.h"
#include "cl_internal.h"
#include "ref/ref.h"

#define MAX_SHADOWS 16

typedef struct shadow {
    uintptr_t base;
    size_t size;
    cl_mem mem;
    unsigned char *host;
    int output;
} shadow;

typedef struct shadows {
    seqk_context *ctx;
    shadow s[MAX_SHADOWS];
    int n;
    seqk_status st;
} shadows;

/* The host address standing for dev (NULL stays NULL; host pointers pass
 * through); on failure sets sh->st and returns NULL. */
static void *host_of(shadows *sh, const void *dev, int output)
{
    if (!dev || sh->st)
        return NULL;
    const seqk_cl_range *r = seqk_cl_find_range(sh->ctx->cl, dev);
    if (!r)
        return (void *)dev;
    size_t off = (size_t)((uintptr_t)dev - r->base);
    for (int i = 0; i < sh->n; i++)
        if (sh->s[i].base == r->base) {
            sh->s[i].output |= output;
            return sh->s[i].host + off;
        }
    if (sh->n == MAX_SHADOWS) {
        sh->st = seqk__error(sh->ctx, SEQK_ERR_INTERNAL,
                             "OpenCL fallback: more than %d tensors",
                             MAX_SHADOWS);
        return NULL;
    }
    shadow *s = &sh->s[sh->n];
    s->host = seqk__aligned_alloc(r->size);
    if (!s->host) {
        sh->st = seqk__error(sh->ctx, SEQK_ERR_OUT_OF_MEMORY,
                             "OpenCL fallback: out of memory for a host "
                             "copy of %zu bytes", r->size);
        return NULL;
    }
    sh->st = seqk_cl_check(sh->ctx,
                           clEnqueueReadBuffer(sh->ctx->cl->queue, r->mem,
                                               CL_TRUE, 0, r->size, s->host,
                                               0, NULL, NULL),
                           "clEnqueueReadBuffer (fallback)");
    if (sh->st) {
        seqk__aligned_free(s->host);
        return NULL;
    }
    s->base = r->base;
    s->size = r->size;
    s->mem = r->mem;
    s->output = output;
    sh->n++;
    return s->host + off;
}

/* Uploads the outputs (when st is SEQK_OK) and frees the shadows. */
static seqk_status finish(shadows *sh, seqk_status st)
{
    for (int i = 0; i < sh->n; i++) {
        shadow *s = &sh->s[i];
        if (st == SEQK_OK && s->output)
            st = seqk_cl_check(sh->ctx,
                               clEnqueueWriteBuffer(sh->ctx->cl->queue,
                                                    s->mem, CL_TRUE, 0,
                                                    s->size, s->host, 0,
                                                    NULL, NULL),
                               "clEnqueueWriteBuffer (fallback)");
        seqk__aligned_free(s->host);
    }
    sh->n = 0;
    return st;
}

static void log_fallback(seqk_context *ctx, const char *op)
{
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
              "opencl: %s has no OpenCL kernel yet; running ref on host "
              "copies", op);
}

static seqk_status cl_gemm(seqk_context *ctx, const seqk_backend *self,
                           const seqk_gemm_problem *p)
{
    (void)self;
    return seqk_cl_gemm(ctx, p);
}

static seqk_status cl_matmul(seqk_context *ctx, const seqk_backend *self,
                             const seqk_matmul_problem *p)
{
    (void)self;
    return seqk_cl_matmul(ctx, p);
}

static seqk_status cl_softmax(seqk_context *ctx, const seqk_backend *self,
                              const seqk_softmax_problem *p)
{
    (void)self;
    return seqk_cl_softmax(ctx, p);
}

static seqk_status cl_rnn_layer(seqk_context *ctx, const seqk_backend *self,
                                const seqk_rnn_layer_problem *p)
{
    (void)self;
    shadows sh = {.ctx = ctx};
    seqk_rnn_layer_problem h = *p;
    log_fallback(ctx, "RNN layer");
    h.x = host_of(&sh, p->x, 0);
    h.W = host_of(&sh, p->W, 0);
    h.R = host_of(&sh, p->R, 0);
    h.bias = host_of(&sh, p->bias, 0);
    h.P = host_of(&sh, p->P, 0);
    h.seq_lens = host_of(&sh, p->seq_lens, 0);
    h.h0 = host_of(&sh, p->h0, 0);
    h.c0 = host_of(&sh, p->c0, 0);
    h.y = host_of(&sh, p->y, 1);
    h.yh = host_of(&sh, p->yh, 1);
    h.yc = host_of(&sh, p->yc, 1);
    return finish(&sh, sh.st ? sh.st : seqk_ref_rnn_layer(&h));
}

static seqk_status cl_attention(seqk_context *ctx, const seqk_backend *self,
                                const seqk_attention_problem *p)
{
    (void)self;
    shadows sh = {.ctx = ctx};
    seqk_attention_problem h = *p;
    log_fallback(ctx, "Attention");
    h.q = host_of(&sh, p->q, 0);
    h.k = host_of(&sh, p->k, 0);
    h.v = host_of(&sh, p->v, 0);
    h.mask = host_of(&sh, p->mask, 0);
    h.y = host_of(&sh, p->y, 1);
    return finish(&sh, sh.st ? sh.st : seqk_ref_attention(&h));
}

static seqk_status cl_seq_attention(seqk_context *ctx,
                                    const seqk_backend *self,
                                    const seqk_seq_attention_problem *p)
{
    (void)self;
    shadows sh = {.ctx = ctx};
    seqk_seq_attention_problem h = *p;
    log_fallback(ctx, "SeqAttention");
    h.query = host_of(&sh, p->query, 0);
    h.keys = host_of(&sh, p->keys, 0);
    h.values = host_of(&sh, p->values, 0);
    h.key_lens = host_of(&sh, p->key_lens, 0);
    h.W = host_of(&sh, p->W, 0);
    h.W1 = host_of(&sh, p->W1, 0);
    h.W2 = host_of(&sh, p->W2, 0);
    h.v = host_of(&sh, p->v, 0);
    h.Wloc = host_of(&sh, p->Wloc, 0);
    h.context = host_of(&sh, p->context, 1);
    h.weights = host_of(&sh, p->weights, 1);
    return finish(&sh, sh.st ? sh.st : seqk_ref_seq_attention(&h));
}

const seqk_backend seqk_backend_opencl = {
    .spec = "opencl",
    .name = "OpenCL",
    .kind = SEQK_DEVICE_OPENCL,
    .gemm = cl_gemm,
    .matmul = cl_matmul,
    .softmax = cl_softmax,
    .rnn_layer = cl_rnn_layer,
    .attention = cl_attention,
    .seq_attention = cl_seq_attention,
    .kernel_names = {
        [SEQK_OP_GEMM] = "seqk_f32_gemm__opencl",
        [SEQK_OP_MATMUL] = "seqk_f32_matmul__opencl",
        [SEQK_OP_SOFTMAX] = "seqk_f32_softmax__opencl",
        [SEQK_OP_RNN_LAYER] = "seqk_f32_rnn_layer__ref_on_host_copy",
        [SEQK_OP_ATTENTION] = "seqk_f32_attention__ref_on_host_copy",
        [SEQK_OP_SEQ_ATTENTION] = "seqk_f32_seq_attention__ref_on_host_copy",
    },
};
