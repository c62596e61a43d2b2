/*
 * offload.c — a device backend's device as a backend of `auto` contexts.
 *
 * An `auto` context keeps its tensors in host memory and runs ops on the
 * best CPU backend, except where the tuning database says the device is
 * faster for this op and shape bucket (tunables "auto.<op>", measured by
 * `seqk tune` on the auto context itself, copies included, so the choice
 * is measured, never guessed).  The device is the first device of the
 * first device backend (registry.c); the op runs on a private context on
 * it (opened on first use) on copies, through the table's memory
 * functions (device.h):
 *
 *   host tensors --write--> device copies --op--> device copies --read-->
 *   host outputs
 *
 * Outputs are uploaded too before the op, so gaps between strided rows
 * keep their host values.  Host-only inputs the device backend reads on
 * the host anyway (RNN weight blocks, sequence lengths) pass through.
 *
 * If the device cannot be opened, or the op fails there (build failure,
 * out of device memory), the dispatcher runs the op on the CPU instead
 * and says so under SEQK_VERBOSE=dispatch (falls_back); a device that
 * cannot be opened is not tried again by this context.  SeqAttention is
 * never offloaded (its problems are small; no tunable).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "tune/tune.h"

#define OFFLOAD_MAX 12

typedef struct offload_state {
    seqk_context *octx;  /* the device context, NULL until opened */
    int broken;          /* opening failed: never again */
    char why[200];
} offload_state;

/* ---- tunables: the device per op and shape bucket (0 CPU, 1 device) -- */

#define DEVICE_PARAM {{"device", 2, {0, 1}, 0}}

const seqk_tunable seqk__tunable_auto_gemm = {
    "auto.gemm", NULL, "auto", 3, {"M", "N", "K"}, 1, DEVICE_PARAM, NULL};
const seqk_tunable seqk__tunable_auto_matmul = {
    "auto.matmul", NULL, "auto", 3, {"M", "N", "K"}, 1, DEVICE_PARAM, NULL};
const seqk_tunable seqk__tunable_auto_softmax = {
    "auto.softmax", NULL, "auto", 2, {"rows", "n"}, 1, DEVICE_PARAM, NULL};
const seqk_tunable seqk__tunable_auto_rnn_layer = {
    "auto.rnn_layer", NULL, "auto", 3, {"H", "B", "T"}, 1, DEVICE_PARAM,
    NULL};
const seqk_tunable seqk__tunable_auto_attention = {
    "auto.attention", NULL, "auto", 3, {"Sq", "Skv", "Dh"}, 1, DEVICE_PARAM,
    NULL};

const seqk_tunable *const seqk__offload_tunables[] = {
    &seqk__tunable_auto_gemm,
    &seqk__tunable_auto_matmul,
    &seqk__tunable_auto_softmax,
    &seqk__tunable_auto_rnn_layer,
    &seqk__tunable_auto_attention,
    NULL
};

/* The tunable and shape of a problem; NULL when op is never offloaded. */
static const seqk_tunable *tunable_of(seqk_op op, const void *problem,
                                      int64_t *shape)
{
    switch (op) {
    case SEQK_OP_GEMM: {
        const seqk_gemm_problem *p = problem;
        shape[0] = p->M; shape[1] = p->N; shape[2] = p->K;
        return &seqk__tunable_auto_gemm;
    }
    case SEQK_OP_MATMUL: {
        const seqk_matmul_problem *p = problem;
        shape[0] = p->M; shape[1] = p->N; shape[2] = p->K;
        return &seqk__tunable_auto_matmul;
    }
    case SEQK_OP_SOFTMAX: {
        const seqk_softmax_problem *p = problem;
        shape[0] = p->outer * p->inner; shape[1] = p->n;
        return &seqk__tunable_auto_softmax;
    }
    case SEQK_OP_RNN_LAYER: {
        const seqk_rnn_layer_problem *p = problem;
        shape[0] = p->H; shape[1] = p->B; shape[2] = p->T;
        return &seqk__tunable_auto_rnn_layer;
    }
    case SEQK_OP_ATTENTION: {
        const seqk_attention_problem *p = problem;
        shape[0] = p->Sq; shape[1] = p->Skv; shape[2] = p->Dh;
        return &seqk__tunable_auto_attention;
    }
    default:
        return NULL;
    }
}

static offload_state *state_of(seqk_context *ctx)
{
    if (!ctx->offload)
        ctx->offload = calloc(1, sizeof(offload_state));
    return ctx->offload;
}

void seqk__offload_free(seqk_context *ctx)
{
    offload_state *s = ctx->offload;
    if (!s)
        return;
    seqk_context_destroy(s->octx);
    free(s);
    ctx->offload = NULL;
}

static int offload_accepts(seqk_context *ctx, const seqk_backend *self,
                           seqk_op op, const void *problem, char *why,
                           size_t why_len)
{
    int64_t shape[SEQK_TUNE_MAX_SHAPE] = {0};
    const seqk_tunable *t = tunable_of(op, problem, shape);
    offload_state *s = state_of(ctx);
    int device = 0;
    if (!t) {
        snprintf(why, why_len, "auto never offloads %s", seqk__op_name(op));
        return 0;
    }
    for (int i = 0; i < t->num_shape; i++)
        if (shape[i] <= 0) {
            snprintf(why, why_len, "empty problem");
            return 0;
        }
    if (!s || s->broken) {
        const seqk_device_iface *dev = self->impl;
        snprintf(why, why_len, "%s device unusable: %s", dev->title,
                 s ? s->why : "out of memory");
        return 0;
    }
    seqk__tuned(ctx, t, shape, &device);
    if (device != 1) {
        snprintf(why, why_len, "tuning data for %s puts this shape on the "
                 "CPU (or has none)", t->id);
        return 0;
    }
    return 1;
}

/* ---- copies ------------------------------------------------------------ */

typedef struct copies {
    seqk_context *ctx, *octx;
    const seqk_device_iface *dev;
    struct { void *dev; void *host; size_t bytes; int output; }
        c[OFFLOAD_MAX];
    int n;
    seqk_status st;
} copies;

/* A device copy of `bytes` at host (NULL stays NULL); outputs are read
 * back by copies_finish.  Errors go to cp->st. */
static void *dev_of(copies *cp, const void *host, size_t bytes, int output)
{
    if (!host || cp->st)
        return NULL;
    if (cp->n == OFFLOAD_MAX) {
        cp->st = seqk__error(cp->ctx, SEQK_ERR_INTERNAL,
                             "auto offload: more than %d tensors",
                             OFFLOAD_MAX);
        return NULL;
    }
    void *range = NULL;
    size_t alloc = bytes ? bytes : 1;
    cp->st = cp->dev->alloc(cp->octx, alloc, &range);
    if (!cp->st && bytes)
        cp->st = cp->dev->write(cp->octx, range, host, bytes);
    if (cp->st) {
        if (range)
            cp->dev->free(cp->octx, range);
        return NULL;
    }
    cp->c[cp->n].dev = range;
    cp->c[cp->n].host = (void *)host;
    cp->c[cp->n].bytes = bytes;
    cp->c[cp->n].output = output;
    cp->n++;
    return range;
}

static seqk_status copies_finish(copies *cp, seqk_status st)
{
    for (int i = 0; i < cp->n; i++) {
        if (st == SEQK_OK && cp->c[i].output && cp->c[i].bytes)
            st = cp->dev->read(cp->octx, cp->c[i].host, cp->c[i].dev,
                               cp->c[i].bytes);
        cp->dev->free(cp->octx, cp->c[i].dev);
    }
    if (st != SEQK_OK && cp->ctx->error[0] == '\0')
        seqk__error(cp->ctx, st, "%s", seqk_last_error(cp->octx));
    return st;
}

/* Elements spanned by a strided view: 1 + sum (d_i - 1) * s_i (dims >= 1,
 * strides >= 0, the last stride 1 and last dim `inner`). */
static size_t span(int n, const int64_t *dims, const int64_t *strides)
{
    size_t e = 1;
    for (int i = 0; i < n; i++)
        e += (size_t)(dims[i] - 1) * (size_t)strides[i];
    return e;
}

static seqk_status open_device(seqk_context *ctx, offload_state *s,
                               const seqk_device_iface *dev)
{
    if (s->octx)
        return SEQK_OK;
    seqk_options o;
    seqk_options_init(&o);
    o.device = dev->name;
    o.tuning_db = ctx->tuning_db[0] ? ctx->tuning_db : NULL;
    seqk_status st = seqk_context_create(&o, &s->octx);
    if (st != SEQK_OK) {
        s->broken = 1;
        snprintf(s->why, sizeof s->why, "%s", seqk_last_error(NULL));
        return seqk__error(ctx, st, "auto: cannot open the %s device: "
                           "%s", dev->title, s->why);
    }
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "auto: opened %s for tuned ops",
              seqk_context_device(s->octx));
    return SEQK_OK;
}

static seqk_status offload(seqk_context *ctx, const seqk_backend *self,
                           seqk_op op, const void *problem)
{
    const seqk_device_iface *dev = self->impl;
    offload_state *s = state_of(ctx);
    seqk_status st = s ? open_device(ctx, s, dev) : SEQK_ERR_OUT_OF_MEMORY;
    if (st)
        return st;
    copies cp = {.ctx = ctx, .octx = s->octx, .dev = dev};
    const size_t f = sizeof(float);
    switch (op) {
    case SEQK_OP_GEMM: {
        seqk_gemm_problem p = *(const seqk_gemm_problem *)problem;
        const int64_t ad[2] = {p.trans_a ? p.K : p.M, p.trans_a ? p.M : p.K};
        const int64_t bd[2] = {p.trans_b ? p.N : p.K, p.trans_b ? p.K : p.N};
        const int64_t as[2] = {p.lda, 1}, bs[2] = {p.ldb, 1};
        const int64_t cd[2] = {p.M, p.N}, cs[2] = {p.c_sm, p.c_sn};
        const int64_t ys[2] = {p.ldy, 1};
        p.A = dev_of(&cp, p.A, span(2, ad, as) * f, 0);
        p.B = dev_of(&cp, p.B, span(2, bd, bs) * f, 0);
        p.C = dev_of(&cp, p.C, span(2, cd, cs) * f, 0);
        p.Y = dev_of(&cp, p.Y, span(2, cd, ys) * f, 1);
        st = cp.st ? cp.st : seqk__dispatch(s->octx, op, &p);
        break;
    }
    case SEQK_OP_MATMUL: {
        seqk_matmul_problem p = *(const seqk_matmul_problem *)problem;
        size_t a = (size_t)(p.M * p.K), b = (size_t)(p.K * p.N);
        size_t y = (size_t)(p.M * p.N);
        for (int i = 0; i < p.nbatch; i++) {
            a += (size_t)(p.batch_dims[i] - 1) * (size_t)p.a_bstride[i];
            b += (size_t)(p.batch_dims[i] - 1) * (size_t)p.b_bstride[i];
            y *= (size_t)p.batch_dims[i];
        }
        p.A = dev_of(&cp, p.A, a * f, 0);
        p.B = dev_of(&cp, p.B, b * f, 0);
        p.Y = dev_of(&cp, p.Y, y * f, 1);
        st = cp.st ? cp.st : seqk__dispatch(s->octx, op, &p);
        break;
    }
    case SEQK_OP_SOFTMAX: {
        seqk_softmax_problem p = *(const seqk_softmax_problem *)problem;
        size_t n = (size_t)(p.outer * p.n * p.inner) * f;
        p.X = dev_of(&cp, p.X, n, 0);
        p.Y = dev_of(&cp, p.Y, n, 1);
        st = cp.st ? cp.st : seqk__dispatch(s->octx, op, &p);
        break;
    }
    case SEQK_OP_RNN_LAYER: {
        seqk_rnn_layer_problem p = *(const seqk_rnn_layer_problem *)problem;
        const int64_t D = p.num_dirs;
        const int64_t xd[3] = {p.T, p.B, p.I}, xs[3] = {p.x_st, p.x_sb, 1};
        const int64_t hd[3] = {D, p.B, p.H}, hs[3] = {p.h0_sd, p.h0_sb, 1};
        const int64_t yd[4] = {p.T, D, p.B, p.H};
        const int64_t ys[4] = {p.y_st, p.y_sd, p.y_sb, 1};
        const int64_t os[3] = {p.yh_sd, p.yh_sb, 1};
        p.x = dev_of(&cp, p.x, span(3, xd, xs) * f, 0);
        p.h0 = dev_of(&cp, p.h0, span(3, hd, hs) * f, 0);
        p.c0 = dev_of(&cp, p.c0, span(3, hd, hs) * f, 0);
        p.y = dev_of(&cp, p.y, span(4, yd, ys) * f, 1);
        p.yh = dev_of(&cp, p.yh, span(3, hd, os) * f, 1);
        p.yc = dev_of(&cp, p.yc, span(3, hd, os) * f, 1);
        st = cp.st ? cp.st : seqk__dispatch(s->octx, op, &p);
        break;
    }
    case SEQK_OP_ATTENTION: {
        seqk_attention_problem p = *(const seqk_attention_problem *)problem;
        const int64_t qd[4] = {p.B, p.Hq, p.Sq, p.Dh};
        const int64_t qs[4] = {p.q_sb, p.q_sh, p.q_ss, 1};
        const int64_t kd[4] = {p.B, p.Hkv, p.Skv, p.Dh};
        const int64_t ks[4] = {p.k_sb, p.k_sh, p.k_ss, 1};
        const int64_t vd[4] = {p.B, p.Hkv, p.Skv, p.Dv};
        const int64_t vs[4] = {p.v_sb, p.v_sh, p.v_ss, 1};
        const int64_t yd[4] = {p.B, p.Hq, p.Sq, p.Dv};
        const int64_t ys[4] = {p.y_sb, p.y_sh, p.y_ss, 1};
        const int64_t md[4] = {p.B, p.Hq, p.Sq,
                               p.mask_kv_len > 0 ? p.mask_kv_len : 1};
        const int64_t ms[4] = {p.m_sb, p.m_sh, p.m_sq, p.m_sk};
        const size_t melem = p.mask_kind == SEQK_MASK_BOOL ? 1 : f;
        p.q = dev_of(&cp, p.q, span(4, qd, qs) * f, 0);
        p.k = dev_of(&cp, p.k, span(4, kd, ks) * f, 0);
        p.v = dev_of(&cp, p.v, span(4, vd, vs) * f, 0);
        p.mask = dev_of(&cp, p.mask, span(4, md, ms) * melem, 0);
        p.y = dev_of(&cp, p.y, span(4, yd, ys) * f, 1);
        st = cp.st ? cp.st : seqk__dispatch(s->octx, op, &p);
        break;
    }
    default:
        st = seqk__error(ctx, SEQK_ERR_INTERNAL, "auto: %s is not offloaded",
                         seqk__op_name(op));
    }
    return copies_finish(&cp, st);
}

static seqk_status off_gemm(seqk_context *ctx, const seqk_backend *self,
                            const seqk_gemm_problem *p)
{
    return offload(ctx, self, SEQK_OP_GEMM, p);
}

static seqk_status off_matmul(seqk_context *ctx, const seqk_backend *self,
                              const seqk_matmul_problem *p)
{
    return offload(ctx, self, SEQK_OP_MATMUL, p);
}

static seqk_status off_softmax(seqk_context *ctx, const seqk_backend *self,
                               const seqk_softmax_problem *p)
{
    return offload(ctx, self, SEQK_OP_SOFTMAX, p);
}

static seqk_status off_rnn_layer(seqk_context *ctx, const seqk_backend *self,
                                 const seqk_rnn_layer_problem *p)
{
    return offload(ctx, self, SEQK_OP_RNN_LAYER, p);
}

static seqk_status off_attention(seqk_context *ctx, const seqk_backend *self,
                                 const seqk_attention_problem *p)
{
    return offload(ctx, self, SEQK_OP_ATTENTION, p);
}

/* The table is filled once, for the first device backend: its spec and
 * kernel names carry the backend's name ("opencl-offload",
 * "seqk_f32_gemm__opencl_offload"). */
static seqk_backend offload_backend;
static char offload_spec[32], offload_name[96];
static char offload_kernels[SEQK_OP_COUNT_][64];
static pthread_once_t offload_once = PTHREAD_ONCE_INIT;

static void offload_init(void)
{
    const seqk_device_iface *dev = seqk__device_backend(0);
    if (!dev)
        return;
    static const seqk_op ops[] = {SEQK_OP_GEMM, SEQK_OP_MATMUL,
                                  SEQK_OP_SOFTMAX, SEQK_OP_RNN_LAYER,
                                  SEQK_OP_ATTENTION};
    snprintf(offload_spec, sizeof offload_spec, "%s-offload", dev->name);
    snprintf(offload_name, sizeof offload_name,
             "%s device for tuned ops of auto contexts", dev->title);
    seqk_backend *b = &offload_backend;
    b->spec = offload_spec;
    b->name = offload_name;
    b->kind = dev->kind;
    b->gemm = off_gemm;
    b->matmul = off_matmul;
    b->softmax = off_softmax;
    b->rnn_layer = off_rnn_layer;
    b->attention = off_attention;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        snprintf(offload_kernels[ops[i]], sizeof offload_kernels[ops[i]],
                 "seqk_f32_%s__%s_offload", seqk__op_name(ops[i]), dev->name);
        b->kernel_names[ops[i]] = offload_kernels[ops[i]];
    }
    b->impl = dev;
    b->accepts = offload_accepts;
    b->falls_back = 1;
}

const seqk_backend *seqk__offload_backend(void)
{
    pthread_once(&offload_once, offload_init);
    return offload_backend.impl ? &offload_backend : NULL;
}
