/*
 * cl_rnn.c — one RNN / LSTM / GRU layer on OpenCL (kernels/rnn.cl),
 * ONNX semantics as src/ref/rnn.c.
 *
 * Per layer, all enqueued on the context's in-order queue, no host wait
 * between steps:
 *   1. seqk_f32_rnn_init: states [D][B][H] from h0/c0 or zeros;
 *   2. per direction ONE GEMM  xp[d] = X[T*B, I] . W[d]^T + bias, the bias
 *      folded in as a broadcast C (Wb + Rb; GRU lbr=1 keeps Rbh out);
 *      when X's strides cannot be one [rows, I] matrix, one GEMM per t;
 *   3. per step s:
 *        GEMM variant   per direction rg[d] = h . R[d]^T (M = B), then one
 *                       gates kernel for every direction;
 *                       GRU lbr=0: GEMM (z,r rows), gru_zr kernel,
 *                       GEMM (r.h) . Rh^T, gru kernel;
 *        fused variants one gates kernel computing the recurrent dot
 *                       products itself (two for GRU lbr=0): one launch
 *                       per step.  From R transposed (work-items read
 *                       neighbouring floats: GPUs) or from R as it is
 *                       (each work-item streams its rows: CPU devices,
 *                       where launches, not FLOPs, bound small layers);
 *                       chosen only through the "opencl.rnn.step"
 *                       tunable (auto = GEMM);
 *        sequence       instead of 3, ONE launch for all steps: a
 *                       work-group per (direction, batch row) runs its
 *                       recurrence with h in local memory and a barrier
 *                       per step (seqk_f32_rnn_seq_*; SWG work-items); wins
 *                       where launches cost more than a step's work
 *                       (small H), tunable only;
 *   4. seqk_f32_rnn_final: yh / yc from the final states.
 *
 * Weights (host pointers of the plan) are uploaded once per plan into the
 * layer's seqk_backend_cache (cl_rnn_cache.c), with device scratch (xp, rg, state
 * ping-pong, lengths) that grows when a call needs more.  Lengths are
 * uploaded (a blocking write) only when they differ from the last call's.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_gemm.h"
#include "opencl/cl_rnn.h"
#include "opencl/cl_rnn_cache.h"

/* ---------------------------------------------------------- tunables */

static int gates_legal(const int *v, const seqk_tune_limits *lim,
                       const int64_t *shape)
{
    (void)shape;
    if (!lim->is_device)
        return 1;
    return v[0] <= lim->max_wg && v[0] <= lim->max_item[0];
}

const seqk_tunable seqk__cl_rnn_gates_tunable = {
    .id = "opencl.rnn.gates",
    .source = "rnn",
    .backend = "opencl",
    .num_shape = 2,
    .shape_names = {"H", "B"},
    .num_params = 1,
    .params = {{"WG", 5, {16, 32, 64, 128, 256}, 64}},
    .legal = gates_legal,
};

enum { VARIANT_AUTO = 0, VARIANT_GEMM = 1, VARIANT_FUSED = 2,
       VARIANT_FUSED_ROWS = 3, VARIANT_SEQUENCE = 4 };
enum { S_VARIANT, S_SWG, S_NUM };
#define DEFAULT_SWG 64

/* Local floats of the sequence kernel: h ping-pong, GRU lbr=0 also r.h
 * and z. */
static int64_t seq_local_floats(int64_t H, int gru_lbr0)
{
    return (gru_lbr0 ? 4 : 2) * H;
}

/* SWG (the sequence kernel's work-group) only varies with that variant;
 * its local memory is sized for the largest cell (GRU lbr=0). */
static int step_legal(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    if (v[S_VARIANT] != VARIANT_SEQUENCE)
        return v[S_SWG] == DEFAULT_SWG;
    if (!lim->is_device)
        return 1;
    if (v[S_SWG] > lim->max_wg || v[S_SWG] > lim->max_item[0])
        return 0;
    return !shape || seq_local_floats(shape[0], 1) * 4 <= lim->local_mem;
}

const seqk_tunable seqk__cl_rnn_step_tunable = {
    .id = "opencl.rnn.step",
    .source = "rnn",
    .backend = "opencl",
    .num_shape = 3,
    .shape_names = {"H", "B", "D"},
    .num_params = S_NUM,
    .params = {
        {"variant", 5, {0, 1, 2, 3, 4}, 0},
        {"SWG", 4, {32, 64, 128, 256}, DEFAULT_SWG},
    },
    .legal = step_legal,
};

/* --------------------------------------------------------------- run */

typedef struct rnn_run {
    seqk_context *ctx;
    const seqk_rnn_layer_problem *p;
    seqk_cl_rnn_cache *c;
    int D, G, lbr0, launches;
    int fused;      /* the kernels' fused: 0 GEMM, 1 R transposed, 2 R */
    int sequence;   /* one launch for all steps (seqk_f32_rnn_seq_*) */
    cl_kernel kseq; /* that kernel */
    const char *seq_name;
    size_t swg;     /* its work-group */
    int64_t GH, DBH;
    size_t wg;
    float *xp, *rg, *hs, *cs, *z, *rh;
    int32_t *lens;
    int64_t xp_sd, xp_st, xp_sb;
    int proj_rows;  /* 1: one GEMM over T*B rows; 0: one per t */
    int64_t x_ld;   /* row stride of X as the GEMM's A */
} rnn_run;

/* Lays out (and if needed grows) the scratch of r->c for p. */
static seqk_status scratch_for(rnn_run *r)
{
    const seqk_rnn_layer_problem *p = r->p;
    seqk_cl_rnn_cache *c = r->c;
    const uint64_t D = (uint64_t)r->D, B = (uint64_t)p->B, T = (uint64_t)p->T;
    const uint64_t GH = (uint64_t)r->GH, H = (uint64_t)p->H;
    uint64_t nxp, ntb, nrg, dbh, total, bytes;
    if (!seqk_cl_rnn_mul_ok(T, B, &ntb) ||
        !seqk_cl_rnn_mul_ok(ntb, GH * D, &nxp) ||
        !seqk_cl_rnn_mul_ok(B * D, GH, &nrg) ||
        !seqk_cl_rnn_mul_ok(B * D, H, &dbh) ||
        ntb > INT_MAX || dbh > INT_MAX || GH > INT_MAX)
        return seqk__error(r->ctx, SEQK_ERR_OVERFLOW,
                           "OpenCL RNN: T=%lld B=%lld H=%lld is too large "
                           "for the device kernels", (long long)p->T,
                           (long long)p->B, (long long)p->H);
    const uint64_t rdbh = seqk_cl_rnn_round_floats(dbh);
    const uint64_t oxp = 0, org = oxp + seqk_cl_rnn_round_floats(nxp);
    const uint64_t ohs = org + seqk_cl_rnn_round_floats(nrg);
    const uint64_t ocs = ohs + 2 * rdbh;
    const uint64_t oz = ocs + (p->cell == SEQK_CELL_LSTM ? 2 * rdbh : 0);
    const uint64_t orh = oz + (r->lbr0 ? rdbh : 0);
    const uint64_t olens = orh + (r->lbr0 ? rdbh : 0);
    total = olens + seqk_cl_rnn_round_floats(B);
    if (total < olens ||
        !seqk_cl_rnn_mul_ok(total, sizeof(float), &bytes) ||
        bytes > SIZE_MAX)
        return seqk__error(r->ctx, SEQK_ERR_OVERFLOW,
                           "OpenCL RNN: scratch of %llu floats overflows",
                           (unsigned long long)total);
    if (bytes > c->sbytes) {
        seqk__cl_free(r->ctx, c->srange);
        c->srange = NULL;
        c->sbytes = 0;
        c->lens_n = 0;
        seqk_status st = seqk__cl_alloc(r->ctx, (size_t)bytes, &c->srange);
        if (st)
            return st;
        c->sbytes = (size_t)bytes;
    }
    float *s = c->srange;
    r->xp = s + oxp;
    r->rg = s + org;
    r->hs = s + ohs;
    r->cs = s + ocs;
    r->z = s + oz;
    r->rh = s + orh;
    r->lens = (int32_t *)(s + olens);
    r->DBH = (int64_t)dbh;
    return SEQK_OK;
}

/* Puts p->seq_lens on the device unless it is there already. */
static seqk_status lens_upload(rnn_run *r)
{
    const seqk_rnn_layer_problem *p = r->p;
    seqk_cl_rnn_cache *c = r->c;
    if (!p->seq_lens)
        return SEQK_OK;
    const size_t bytes = (size_t)p->B * sizeof(int32_t);
    if (c->lens_n == p->B && memcmp(c->lens_host, p->seq_lens, bytes) == 0)
        return SEQK_OK;
    if (c->lens_cap < p->B) {
        int32_t *n = realloc(c->lens_host, bytes);
        if (!n)
            return seqk__error(r->ctx, SEQK_ERR_OUT_OF_MEMORY,
                               "OpenCL RNN: out of memory for the lengths");
        c->lens_host = n;
        c->lens_cap = p->B;
    }
    c->lens_n = 0;
    seqk_status st = seqk__cl_write(r->ctx, r->lens, p->seq_lens, bytes);
    if (st)
        return st;
    memcpy(c->lens_host, p->seq_lens, bytes);
    c->lens_n = p->B;
    return SEQK_OK;
}

static seqk_status gemm(rnn_run *r, const seqk_gemm_problem *g)
{
    r->launches++;
    return seqk__cl_gemm_with(r->ctx, g, seqk__cl_gemm_path_from_env());
}

static seqk_status launch(rnn_run *r, cl_kernel k, const char *name)
{
    const size_t global = seqk_cl_round_up((size_t)r->DBH, r->wg);
    r->launches++;
    return seqk__cl_enqueue(r->ctx, k, name, 1, &global, &r->wg);
}

/* xp[d] = X . W[d]^T + xbias[d] (see the header comment). */
static seqk_status project(rnn_run *r)
{
    const seqk_rnn_layer_problem *p = r->p;
    const int64_t T = p->T, B = p->B, GH = r->GH;
    seqk_status st;
    for (int d = 0; d < r->D; d++) {
        seqk_gemm_problem g;
        memset(&g, 0, sizeof g);
        g.N = GH;
        g.K = p->I;
        g.trans_b = 1;
        g.alpha = 1.0f;
        g.beta = 1.0f;
        g.B = r->c->W + (int64_t)d * GH * p->I;
        g.ldb = p->I;
        g.C = r->c->xbias + (int64_t)d * GH;
        g.c_sm = 0;
        g.c_sn = 1;
        g.ldy = GH;
        g.lda = r->x_ld;
        if (r->proj_rows) {
            g.M = T * B;
            g.A = p->x;
            g.Y = r->xp + d * r->xp_sd;
            if ((st = gemm(r, &g)))
                return st;
            continue;
        }
        for (int64_t t = 0; t < T; t++) {
            g.M = B;
            g.A = p->x + t * p->x_st;
            g.Y = r->xp + d * r->xp_sd + t * r->xp_st;
            if ((st = gemm(r, &g)))
                return st;
        }
    }
    return SEQK_OK;
}

/* rg[d][:, col0 .. col0+N) = A[d] . R[d][row0 .. row0+N)^T for every d. */
static seqk_status recurrent(rnn_run *r, const float *A, int64_t row0,
                             int64_t N)
{
    const seqk_rnn_layer_problem *p = r->p;
    const int64_t B = p->B, H = p->H, GH = r->GH;
    seqk_status st;
    for (int d = 0; d < r->D; d++) {
        seqk_gemm_problem g;
        memset(&g, 0, sizeof g);
        g.M = B;
        g.N = N;
        g.K = H;
        g.trans_b = 1;
        g.alpha = 1.0f;
        g.A = A + (int64_t)d * B * H;
        g.lda = H;
        g.B = r->c->R + ((int64_t)d * GH + row0) * H;
        g.ldb = H;
        g.Y = r->rg + (int64_t)d * B * GH + row0;
        g.ldy = GH;
        if ((st = gemm(r, &g)))
            return st;
    }
    return SEQK_OK;
}

#define ARG(i, v) seqk__cl_arg(ctx, k, name, (i), sizeof(v), &(v))
#define PTR(i, v) seqk__cl_arg_ptr(ctx, k, name, (i), (v))

/* Arguments 0..20 of the step kernels except s (4) and hin (19, 20). */
static seqk_status set_prefix(rnn_run *r, cl_kernel k, const char *name)
{
    seqk_context *ctx = r->ctx;
    const seqk_rnn_layer_problem *p = r->p;
    const cl_int D = r->D, B = (cl_int)p->B, H = (cl_int)p->H,
                 T = (cl_int)p->T, rev = p->reverse,
                 has_lens = p->seq_lens != NULL, fused = r->fused;
    const cl_long sd = r->xp_sd, st_ = r->xp_st, sb = r->xp_sb;
    /* unused buffers are bound to live ones (never read) */
    const void *rt = r->fused == 1   ? (const void *)r->c->RT
                     : r->fused == 2 ? (const void *)r->c->R
                                     : (const void *)r->c->W;
    seqk_status st;
    if ((st = ARG(0, D)) || (st = ARG(1, B)) || (st = ARG(2, H)) ||
        (st = ARG(3, T)) || (st = ARG(5, rev)) || (st = PTR(6, r->lens)) ||
        (st = ARG(8, has_lens)) || (st = PTR(9, r->xp)) ||
        (st = ARG(11, sd)) || (st = ARG(12, st_)) || (st = ARG(13, sb)) ||
        (st = PTR(14, r->rg)) || (st = PTR(16, rt)) || (st = ARG(18, fused)))
        return st;
    return SEQK_OK;
}

/* Arguments 23..31 (y, acts, clip) of the step kernels but gru_zr. */
static seqk_status set_y(rnn_run *r, cl_kernel k, const char *name)
{
    seqk_context *ctx = r->ctx;
    const seqk_rnn_layer_problem *p = r->p;
    const cl_long ysd = p->y_sd, yst = p->y_st, ysb = p->y_sb;
    const cl_int has_y = p->y != NULL;
    const float clip = p->clip;
    seqk_status st;
    if ((st = PTR(23, p->y ? (const void *)p->y : (const void *)r->xp)) ||
        (st = ARG(25, ysd)) || (st = ARG(26, yst)) || (st = ARG(27, ysb)) ||
        (st = ARG(28, has_y)) || (st = PTR(29, r->c->acts)) ||
        (st = ARG(31, clip)))
        return st;
    return SEQK_OK;
}

/* Arguments 21..27 (z, rh, acts, clip) of seqk_f32_rnn_step_gru_zr. */
static seqk_status set_zr(rnn_run *r, cl_kernel k, const char *name)
{
    seqk_context *ctx = r->ctx;
    const float clip = r->p->clip;
    seqk_status st;
    if ((st = PTR(21, r->z)) || (st = PTR(23, r->rh)) ||
        (st = PTR(25, r->c->acts)) || (st = ARG(27, clip)))
        return st;
    return SEQK_OK;
}

/* Step s's changing arguments: s, hin, hout (and cin/cout for LSTM). */
static seqk_status set_step(rnn_run *r, cl_kernel k, const char *name,
                            int s, int with_out, int lstm)
{
    seqk_context *ctx = r->ctx;
    const cl_int sv = s;
    const int64_t cur = (s % 2) * r->DBH, nxt = ((s + 1) % 2) * r->DBH;
    seqk_status st;
    if ((st = ARG(4, sv)) || (st = PTR(19, r->hs + cur)))
        return st;
    if (with_out && (st = PTR(21, r->hs + nxt)))
        return st;
    if (lstm && ((st = PTR(32, r->cs + cur)) || (st = PTR(34, r->cs + nxt))))
        return st;
    return SEQK_OK;
}

static seqk_status run_init(rnn_run *r)
{
    seqk_context *ctx = r->ctx;
    const seqk_rnn_layer_problem *p = r->p;
    static const char name[] = "seqk_f32_rnn_init";
    cl_kernel k;
    const cl_int D = r->D, B = (cl_int)p->B, H = (cl_int)p->H;
    const cl_int has_h0 = p->h0 != NULL, has_c0 = p->c0 != NULL;
    const cl_int lstm = p->cell == SEQK_CELL_LSTM;
    const cl_long sd = p->h0_sd, sb = p->h0_sb;
    const void *h0 = p->h0 ? (const void *)p->h0 : (const void *)r->hs;
    const void *c0 = p->c0 ? (const void *)p->c0 : (const void *)r->hs;
    seqk_status st;
    if ((st = seqk__cl_kernel(ctx, "rnn", NULL, name, &k)) ||
        (st = ARG(0, D)) || (st = ARG(1, B)) || (st = ARG(2, H)) ||
        (st = PTR(3, h0)) || (st = PTR(5, c0)) || (st = ARG(7, sd)) ||
        (st = ARG(8, sb)) || (st = ARG(9, has_h0)) || (st = ARG(10, has_c0)) ||
        (st = ARG(11, lstm)) || (st = PTR(12, r->hs)) ||
        (st = PTR(14, lstm ? r->cs : r->hs)))
        return st;
    return launch(r, k, name);
}

static seqk_status run_final(rnn_run *r)
{
    seqk_context *ctx = r->ctx;
    const seqk_rnn_layer_problem *p = r->p;
    static const char name[] = "seqk_f32_rnn_final";
    cl_kernel k;
    if (!p->yh && !p->yc)
        return SEQK_OK;
    const cl_int D = r->D, B = (cl_int)p->B, H = (cl_int)p->H;
    const cl_int has_yh = p->yh != NULL, has_yc = p->yc != NULL;
    const cl_long sd = p->yh_sd, sb = p->yh_sb;
    const int64_t fin = (p->T % 2) * r->DBH;
    const void *yh = p->yh ? (const void *)p->yh : (const void *)p->yc;
    const void *yc = p->yc ? (const void *)p->yc : (const void *)p->yh;
    seqk_status st;
    if ((st = seqk__cl_kernel(ctx, "rnn", NULL, name, &k)) ||
        (st = ARG(0, D)) || (st = ARG(1, B)) || (st = ARG(2, H)) ||
        (st = PTR(3, r->hs + fin)) ||
        (st = PTR(5, p->cell == SEQK_CELL_LSTM ? r->cs + fin : r->hs)) ||
        (st = PTR(7, yh)) || (st = PTR(9, yc)) || (st = ARG(11, sd)) ||
        (st = ARG(12, sb)) || (st = ARG(13, has_yh)) ||
        (st = ARG(14, has_yc)))
        return st;
    return launch(r, k, name);
}

/* The T steps. */
static seqk_status run_steps(rnn_run *r)
{
    seqk_context *ctx = r->ctx;
    const seqk_rnn_layer_problem *p = r->p;
    const char *name = p->cell == SEQK_CELL_LSTM ? "seqk_f32_rnn_step_lstm"
                     : p->cell == SEQK_CELL_GRU  ? "seqk_f32_rnn_step_gru"
                                                 : "seqk_f32_rnn_step_rnn";
    const int lstm = p->cell == SEQK_CELL_LSTM;
    cl_kernel k, kzr = NULL;
    seqk_status st;
    if ((st = seqk__cl_kernel(ctx, "rnn", NULL, name, &k)) ||
        (st = set_prefix(r, k, name)) || (st = set_y(r, k, name)))
        return st;
    if (lstm) {
        const cl_int has_p = p->P != NULL, inf = p->input_forget;
        if ((st = PTR(36, p->P ? r->c->P : r->c->W)) ||
            (st = ARG(38, has_p)) || (st = ARG(39, inf)))
            return st;
    } else if (p->cell == SEQK_CELL_GRU) {
        const cl_int lbr = !r->lbr0;
        if ((st = ARG(32, lbr)) || (st = PTR(33, r->z)) ||
            (st = PTR(35, r->rh)) || (st = PTR(37, r->c->rbh)))
            return st;
    }
    static const char zr_name[] = "seqk_f32_rnn_step_gru_zr";
    if (r->lbr0 && ((st = seqk__cl_kernel(ctx, "rnn", NULL, zr_name, &kzr)) ||
                    (st = set_prefix(r, kzr, zr_name)) ||
                    (st = set_zr(r, kzr, zr_name))))
        return st;

    const int64_t H = p->H;
    for (int s = 0; s < (int)p->T; s++) {
        const float *h = r->hs + (s % 2) * r->DBH;
        if (r->lbr0) {
            if (!r->fused && (st = recurrent(r, h, 0, 2 * H)))
                return st;
            if ((st = set_step(r, kzr, zr_name, s, 0, 0)) ||
                (st = launch(r, kzr, zr_name)))
                return st;
            if (!r->fused && (st = recurrent(r, r->rh, 2 * H, H)))
                return st;
        } else if (!r->fused && (st = recurrent(r, h, 0, r->GH))) {
            return st;
        }
        if ((st = set_step(r, k, name, s, 1, lstm)) ||
            (st = launch(r, k, name)))
            return st;
    }
    return SEQK_OK;
}

/* The sequence variant: every step in one launch (kernels/rnn.cl, "the
 * sequence variant"); states in hs/cs[0], final ones where run_final
 * reads them. */
static seqk_status run_sequence(rnn_run *r)
{
    seqk_context *ctx = r->ctx;
    const seqk_rnn_layer_problem *p = r->p;
    const char *name = r->seq_name;
    cl_kernel k = r->kseq;
    const cl_int D = r->D, B = (cl_int)p->B, H = (cl_int)p->H,
                 T = (cl_int)p->T, rev = p->reverse,
                 has_lens = p->seq_lens != NULL, has_y = p->y != NULL;
    const cl_long sd = r->xp_sd, st_ = r->xp_st, sb = r->xp_sb;
    const cl_long ysd = p->y_sd, yst = p->y_st, ysb = p->y_sb;
    const float clip = p->clip;
    const int64_t fin = (p->T % 2) * r->DBH;
    const size_t lbytes =
        (size_t)seq_local_floats(p->H, r->lbr0) * sizeof(float);
    seqk_status st;
    if ((st = ARG(0, D)) || (st = ARG(1, B)) || (st = ARG(2, H)) ||
        (st = ARG(3, T)) || (st = ARG(4, rev)) || (st = PTR(5, r->lens)) ||
        (st = ARG(7, has_lens)) || (st = PTR(8, r->xp)) ||
        (st = ARG(10, sd)) || (st = ARG(11, st_)) || (st = ARG(12, sb)) ||
        (st = PTR(13, r->c->R)) || (st = PTR(15, r->hs)) ||
        (st = PTR(17, r->hs + fin)) ||
        (st = PTR(19, p->y ? (const void *)p->y : (const void *)r->xp)) ||
        (st = ARG(21, ysd)) || (st = ARG(22, yst)) || (st = ARG(23, ysb)) ||
        (st = ARG(24, has_y)) || (st = PTR(25, r->c->acts)) ||
        (st = ARG(27, clip)) ||
        (st = seqk__cl_arg(ctx, k, name, 28, lbytes, NULL)))
        return st;
    if (p->cell == SEQK_CELL_LSTM) {
        const cl_int has_p = p->P != NULL, inf = p->input_forget;
        if ((st = PTR(29, r->cs)) || (st = PTR(31, r->cs + fin)) ||
            (st = PTR(33, p->P ? r->c->P : r->c->W)) ||
            (st = ARG(35, has_p)) || (st = ARG(36, inf)))
            return st;
    } else if (p->cell == SEQK_CELL_GRU) {
        const cl_int lbr = !r->lbr0;
        if ((st = ARG(29, lbr)) || (st = PTR(30, r->c->rbh)))
            return st;
    }
    const size_t global = (size_t)r->D * (size_t)p->B * r->swg;
    r->launches++;
    return seqk__cl_enqueue(ctx, k, name, 1, &global, &r->swg);
}

#undef ARG
#undef PTR

static const char *cell_name(seqk_cell cell)
{
    return cell == SEQK_CELL_LSTM ? "LSTM" : cell == SEQK_CELL_GRU ? "GRU"
                                                                   : "RNN";
}

/* The variant to run: the tunable, or the built-in rule for auto;
 * *swg: the sequence kernel's work-group. */
static int pick_variant(seqk_context *ctx, const seqk_rnn_layer_problem *p,
                        int *swg)
{
    const int64_t shape[3] = {p->H, p->B, p->num_dirs};
    int v[S_NUM];
    seqk__tuned(ctx, &seqk__cl_rnn_step_tunable, shape, v);
    *swg = v[S_SWG];
    if (v[S_VARIANT] >= VARIANT_GEMM && v[S_VARIANT] <= VARIANT_SEQUENCE)
        return v[S_VARIANT];
    /* Until the tuner says otherwise: GEMM + gates.  Measured on PoCL
     * (2 cores) the fused kernel loses at every shape tried (LSTM H=128
     * B=1 T=16: 1.3 vs 0.8 ms; H=512 B=16 T=25: 750 vs 38 ms); on GPUs it
     * is a candidate for batch 1, for the tuner to confirm. */
    return VARIANT_GEMM;
}

seqk_status seqk__cl_rnn_layer(seqk_context *ctx,
                              const seqk_rnn_layer_problem *p)
{
    rnn_run r;
    seqk_cl_rnn_cache *owned = NULL;
    seqk_status st;
    memset(&r, 0, sizeof r);
    if (p->B == 0 || p->H == 0)
        return SEQK_OK;

    /* weights: the plan's cache when it holds ours for these weights */
    seqk_backend_cache *cache = p->cache;
    seqk_cl_rnn_cache *c = NULL;
    if (cache && cache->owner == &seqk__backend_opencl && cache->data &&
        seqk__cl_rnn_cache_matches(cache->data, p) &&
        ((seqk_cl_rnn_cache *)cache->data)->ctx == ctx) {
        c = cache->data;
        if (memcmp(c->act, p->act, sizeof c->act) &&
            (st = seqk__cl_rnn_cache_upload_acts(ctx, c, p)))
            return st;
    } else {
        if ((st = seqk__cl_rnn_cache_create(ctx, p, &c)))
            return st;
        if (cache) {
            if (cache->data && cache->free_fn)
                cache->free_fn(cache->data);
            cache->owner = &seqk__backend_opencl;
            cache->data = c;
            cache->free_fn = seqk__cl_rnn_cache_free;
        } else {
            owned = c;
        }
    }

    r.ctx = ctx;
    r.p = p;
    r.c = c;
    r.D = p->num_dirs;
    r.G = seqk_cl_rnn_gates(p->cell);
    r.GH = r.G * p->H;
    r.lbr0 = p->cell == SEQK_CELL_GRU && !p->linear_before_reset;
    int swg;
    int variant = pick_variant(ctx, p, &swg);
    r.fused = variant == VARIANT_FUSED        ? 1
            : variant == VARIANT_FUSED_ROWS ? 2
                                            : 0;
    if ((st = scratch_for(&r)) || (st = lens_upload(&r)) ||
        (r.fused == 1 && (st = seqk__cl_rnn_cache_rt(ctx, c))))
        goto cleanup;

    /* X as one [rows, I] matrix when its strides allow */
    const int64_t T = p->T, B = p->B;
    r.xp_sd = T * B * r.GH;
    if (p->x_st == B * p->x_sb || T == 1) {
        r.proj_rows = 1;
        r.x_ld = p->x_sb;
        r.xp_st = B * r.GH;
        r.xp_sb = r.GH;
    } else if (p->x_sb == T * p->x_st || B == 1) {
        r.proj_rows = 1;
        r.x_ld = p->x_st;
        r.xp_st = r.GH;
        r.xp_sb = T * r.GH;
    } else {
        r.proj_rows = 0;
        r.x_ld = p->x_sb;
        r.xp_st = B * r.GH;
        r.xp_sb = r.GH;
    }

    const int64_t wshape[2] = {p->H, p->B};
    int wg = 64;
    seqk__tuned(ctx, &seqk__cl_rnn_gates_tunable, wshape, &wg);
    cl_kernel k;
    if ((st = seqk__cl_kernel(ctx, "rnn", NULL, "seqk_f32_rnn_step_rnn", &k)))
        goto cleanup;
    const size_t kmax = seqk__cl_kernel_max_wg(ctx, k);
    r.wg = (size_t)wg;
    while (r.wg > 1 && r.wg > kmax)
        r.wg /= 2;
    if (variant == VARIANT_SEQUENCE && T > 0) {
        const uint64_t lbytes = (uint64_t)seq_local_floats(p->H, r.lbr0) * 4;
        r.seq_name = p->cell == SEQK_CELL_LSTM ? "seqk_f32_rnn_seq_lstm"
                   : p->cell == SEQK_CELL_GRU  ? "seqk_f32_rnn_seq_gru"
                                               : "seqk_f32_rnn_seq_rnn";
        if ((st = seqk__cl_kernel(ctx, "rnn", NULL, r.seq_name, &r.kseq)))
            goto cleanup;
        r.swg = (size_t)swg;
        while (r.swg > 1 && r.swg > seqk__cl_kernel_max_wg(ctx, r.kseq))
            r.swg /= 2;
        r.sequence = lbytes <= (uint64_t)seqk__cl_local_mem(ctx);
        if (!r.sequence)
            seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
                      "opencl: %s layer H=%lld: the sequence variant needs "
                      "%llu bytes of local memory, the device has %llu; "
                      "GEMM + gates instead", cell_name(p->cell),
                      (long long)p->H, (unsigned long long)lbytes,
                      (unsigned long long)seqk__cl_local_mem(ctx));
    }

    if ((st = run_init(&r)) || (T > 0 && (st = project(&r))))
        goto cleanup;
    const unsigned long waits0 = seqk__cl_host_waits();
    const int launches0 = r.launches;
    if ((st = r.sequence ? run_sequence(&r) : run_steps(&r)))
        goto cleanup;
    const unsigned long waits = seqk__cl_host_waits() - waits0;
    const int step_launches = r.launches - launches0;
    if ((st = run_final(&r)))
        goto cleanup;
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
              "opencl: %s layer T=%lld B=%lld H=%lld D=%d (%s, wg %zu): "
              "enqueued %d kernels (%d in the steps), %lu host waits "
              "between steps", cell_name(p->cell), (long long)T,
              (long long)B, (long long)p->H, r.D,
              r.sequence     ? "sequence kernel"
              : r.fused == 1 ? "fused step, R transposed"
              : r.fused == 2 ? "fused step, R rows" : "GEMM + gates",
              r.sequence ? r.swg : r.wg, r.launches, step_launches, waits);
cleanup:
    seqk__cl_rnn_cache_free(owned);
    return st;
}
