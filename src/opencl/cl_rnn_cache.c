/*
 * cl_rnn_cache.c — the weights of an OpenCL RNN layer on the device
 * (cl_rnn_cache.h): uploaded once per plan into one range (W, R, the
 * biases folded for the input projection, peepholes, activations), R
 * transposed on demand for the fused step variant.  cl_rnn.c runs the
 * layer from it.
 */
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_rnn_cache.h"

void seqk__cl_rnn_cache_free(void *data)
{
    seqk_cl_rnn_cache *c = data;
    if (!c)
        return;
    seqk__cl_free(c->ctx, c->wrange);
    seqk__cl_free(c->ctx, c->rtrange);
    seqk__cl_free(c->ctx, c->srange);
    free(c->lens_host);
    free(c);
}

int seqk__cl_rnn_cache_matches(const seqk_cl_rnn_cache *c,
                               const seqk_rnn_layer_problem *p)
{
    return c->ctx && c->cell == p->cell && c->D == p->num_dirs &&
           c->H == p->H && c->I == p->I &&
           c->lbr == (p->cell == SEQK_CELL_GRU && p->linear_before_reset) &&
           c->src_W == p->W && c->src_R == p->R && c->src_bias == p->bias &&
           c->src_P == p->P;
}

/* Writes acts [D][3][kind, alpha, beta] from p->act to the device. */
seqk_status seqk__cl_rnn_cache_upload_acts(seqk_context *ctx,
                                           seqk_cl_rnn_cache *c,
                                           const seqk_rnn_layer_problem *p)
{
    float a[18];
    for (int i = 0; i < 2 * 3; i++) {
        a[i * 3] = (float)p->act[i].kind;
        a[i * 3 + 1] = p->act[i].alpha;
        a[i * 3 + 2] = p->act[i].beta;
    }
    memcpy(c->act, p->act, sizeof c->act);
    return seqk__cl_write(ctx, c->acts, a, (size_t)c->D * 9 * sizeof(float));
}

/* A new cache with p's weights on the device. */
seqk_status seqk__cl_rnn_cache_create(seqk_context *ctx,
                                      const seqk_rnn_layer_problem *p,
                                      seqk_cl_rnn_cache **out)
{
    const int D = p->num_dirs, G = seqk_cl_rnn_gates(p->cell);
    const int64_t H = p->H, I = p->I;
    const int lbr = p->cell == SEQK_CELL_GRU && p->linear_before_reset;
    uint64_t GH, nw, nr, nxb, nrb, np, total = 0, bytes;
    float *host = NULL;
    seqk_status st = SEQK_OK;
    *out = NULL;

    if (!seqk_cl_rnn_mul_ok((uint64_t)G, (uint64_t)H, &GH) ||
        !seqk_cl_rnn_mul_ok(GH * D, (uint64_t)I, &nw) ||
        !seqk_cl_rnn_mul_ok(GH * D, (uint64_t)H, &nr))
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "OpenCL RNN: weights of %d x %lld x %lld overflow",
                           D * G, (long long)H, (long long)I);
    nw = seqk_cl_rnn_round_floats(nw);
    nr = seqk_cl_rnn_round_floats(nr);
    nxb = seqk_cl_rnn_round_floats(D * GH);
    nrb = seqk_cl_rnn_round_floats((uint64_t)D * H);
    np = seqk_cl_rnn_round_floats((uint64_t)D * 3 * H);
    total = nw + nr + nxb + nrb + np + seqk_cl_rnn_round_floats(18);
    if (!seqk_cl_rnn_mul_ok(total, sizeof(float), &bytes) || bytes > SIZE_MAX)
        return seqk__error(ctx, SEQK_ERR_OVERFLOW,
                           "OpenCL RNN: weights of %llu floats overflow",
                           (unsigned long long)total);

    seqk_cl_rnn_cache *c = calloc(1, sizeof *c);
    host = calloc((size_t)total, sizeof(float));
    if (!c || !host) {
        st = seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                         "OpenCL RNN: out of memory staging %llu floats of "
                         "weights", (unsigned long long)total);
        goto cleanup;
    }
    c->ctx = ctx;
    c->cell = p->cell;
    c->D = D;
    c->H = H;
    c->I = I;
    c->lbr = lbr;
    c->src_W = p->W;
    c->src_R = p->R;
    c->src_bias = p->bias;
    c->src_P = p->P;
    c->has_bias = p->bias != NULL;
    c->has_p = p->P != NULL;

    /* host image of the range */
    float *hW = host, *hR = hW + nw, *hxb = hR + nr, *hrb = hxb + nxb;
    float *hP = hrb + nrb;
    memcpy(hW, p->W, (size_t)(D * GH * I) * sizeof(float));
    memcpy(hR, p->R, (size_t)(D * GH * H) * sizeof(float));
    if (p->bias) {
        for (int d = 0; d < D; d++) {
            const float *wb = p->bias + (uint64_t)d * 2 * GH, *rb = wb + GH;
            for (uint64_t g = 0; g < GH; g++) {
                /* GRU lbr=1: r multiplies Rbh, so it stays out of xp */
                const int keep_out = lbr && g >= 2 * (uint64_t)H;
                hxb[d * GH + g] = keep_out ? wb[g] : wb[g] + rb[g];
                if (keep_out)
                    hrb[d * H + (int64_t)(g - 2 * H)] = rb[g];
            }
        }
    }
    if (p->P)
        memcpy(hP, p->P, (size_t)(D * 3 * H) * sizeof(float));

    if ((st = seqk__cl_alloc(ctx, (size_t)bytes, &c->wrange)))
        goto cleanup;
    c->W = c->wrange;
    c->R = c->W + nw;
    c->xbias = c->R + nr;
    c->rbh = c->xbias + nxb;
    c->P = c->rbh + nrb;
    c->acts = c->P + np;
    if ((st = seqk__cl_write(ctx, c->wrange, host, (size_t)bytes)) ||
        (st = seqk__cl_rnn_cache_upload_acts(ctx, c, p)))
        goto cleanup;
    *out = c;
    c = NULL;
cleanup:
    free(host);
    seqk__cl_rnn_cache_free(c);
    return st;
}

/* R transposed, for the fused variant (made once per plan). */
seqk_status seqk__cl_rnn_cache_rt(seqk_context *ctx, seqk_cl_rnn_cache *c)
{
    if (c->RT)
        return SEQK_OK;
    const int D = c->D;
    const int64_t H = c->H, GH = seqk_cl_rnn_gates(c->cell) * H;
    const size_t n = (size_t)D * (size_t)GH * (size_t)H; /* checked above */
    float *host = malloc(n * sizeof(float));
    seqk_status st;
    if (!host)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL RNN: out of memory transposing R");
    for (int d = 0; d < D; d++)
        for (int64_t g = 0; g < GH; g++)
            for (int64_t k = 0; k < H; k++)
                host[(d * H + k) * GH + g] = c->src_R[(d * GH + g) * H + k];
    st = seqk__cl_alloc(ctx, n * sizeof(float), &c->rtrange);
    if (!st)
        st = seqk__cl_write(ctx, c->rtrange, host, n * sizeof(float));
    free(host);
    if (st) {
        seqk__cl_free(ctx, c->rtrange);
        c->rtrange = NULL;
        return st;
    }
    c->RT = c->rtrange;
    return SEQK_OK;
}

