/*
 * cl_attention.c — Attention-23 on OpenCL (kernels/attention.cl).
 *
 * Two kernels, one tunable ("opencl.attention"):
 *   PATH 0  seqk_f32_attention_flash: BQ query rows x TPR work-items per
 *           row per work-group, K/V tiles of BK keys in local memory, online
 *           softmax; each work-item keeps ceil(Dv/TPR) <= MAX_ACC columns
 *           of y in registers.
 *   PATH 1  seqk_f32_attention_row: one work-group of RWG work-items per
 *           query row, no K/V tiles; local memory 2*RWG floats whatever
 *           the head size.
 * The tuned (or default) values are used when legal() accepts them for
 * this device and shape; otherwise the nearest flash configuration that
 * fits (smaller BQ, BK; other TPR), else the row kernel with the largest
 * RWG that fits.  So every head size runs; nothing is refused.
 */
#include <limits.h>
#include <stdio.h>

#include "opencl/cl_attention.h"
#include "tune/tune.h"

enum { P_PATH = 0, P_BQ, P_BK, P_TPR, P_RWG, NUM_P };
#define MAX_ACC 32 /* y columns a flash work-item keeps in registers */

/* Local memory bytes of seqk_f32_attention_flash (see its layout). */
static int64_t flash_local_bytes(int64_t bq, int64_t bk, int64_t dh,
                                 int64_t dv)
{
    return 4 * ((bq + bk) * (dh + 1) + bk * dv + 2 * bq * bk);
}

static int attention_legal(const int *v, const seqk_tune_limits *lim,
                           const int64_t *shape)
{
    /* shape: Sq, Skv, Dh, Dv (NULL: device limits only, head size 1) */
    const int64_t dh = shape ? shape[2] : 1, dv = shape ? shape[3] : 1;
    if (!lim->is_device)
        return 0;
    if (v[P_PATH] == 1) {
        const int64_t wg = v[P_RWG];
        return wg <= lim->max_wg && wg <= lim->max_item[0] &&
               2 * 4 * wg <= lim->local_mem;
    }
    const int64_t wg = (int64_t)v[P_BQ] * v[P_TPR];
    if (wg > lim->max_wg || wg > lim->max_item[0])
        return 0;
    if ((dv + v[P_TPR] - 1) / v[P_TPR] > MAX_ACC)
        return 0;
    if (dh > INT_MAX / 8 || dv > INT_MAX / 8)
        return 0;
    return flash_local_bytes(v[P_BQ], v[P_BK], dh, dv) <= lim->local_mem;
}

const seqk_tunable seqk__cl_attention_tunable = {
    .id = "opencl.attention",
    .source = "attention",
    .backend = "opencl",
    .num_shape = 4,
    .shape_names = {"Sq", "Skv", "Dh", "Dv"},
    .num_params = NUM_P,
    .params = {
        {"PATH", 2, {0, 1}, 0},
        {"BQ", 7, {1, 2, 4, 8, 16, 32, 64}, 16},
        {"BK", 6, {4, 8, 16, 32, 64, 128}, 32},
        {"TPR", 7, {1, 2, 4, 8, 16, 32, 64}, 8},
        {"RWG", 5, {16, 32, 64, 128, 256}, 64},
    },
    .legal = attention_legal,
};

/* Nearest legal values to v (v itself when legal); 0 when none. */
static int pick_values(const seqk_tune_limits *lim, const int64_t *shape,
                       int *v)
{
    const seqk_tunable *t = &seqk__cl_attention_tunable;
    if (seqk__tunable_legal(t, v, lim, shape))
        return 1;
    int w[NUM_P];
    const seqk_tune_param *pq = &t->params[P_BQ], *pk = &t->params[P_BK];
    const seqk_tune_param *pt = &t->params[P_TPR], *pr = &t->params[P_RWG];
    /* flash: BQ and BK no larger than asked, TPR anything */
    for (int a = pq->num_values - 1; a >= 0; a--)
        for (int c = pk->num_values - 1; c >= 0; c--)
            for (int e = 0; e < pt->num_values; e++) {
                if (pq->values[a] > v[P_BQ] || pk->values[c] > v[P_BK])
                    continue;
                w[P_PATH] = 0;
                w[P_BQ] = pq->values[a];
                w[P_BK] = pk->values[c];
                w[P_TPR] = pt->values[e];
                w[P_RWG] = v[P_RWG];
                if (v[P_PATH] == 0 && seqk__tunable_legal(t, w, lim, shape))
                    goto found;
            }
    for (int a = pr->num_values - 1; a >= 0; a--) {
        w[P_PATH] = 1;
        w[P_BQ] = v[P_BQ];
        w[P_BK] = v[P_BK];
        w[P_TPR] = v[P_TPR];
        w[P_RWG] = pr->values[a];
        if (seqk__tunable_legal(t, w, lim, shape))
            goto found;
    }
    return 0;
found:
    for (int i = 0; i < NUM_P; i++)
        v[i] = w[i];
    return 1;
}

int seqk__cl_attention_pick(const seqk_tune_limits *lim, const int64_t *shape,
                           int *v)
{
    return pick_values(lim, shape, v);
}

/* Binds a mask buffer argument pair (buffer, offset in elements of size
 * esize) from ptr, or from fallback (never read) when ptr is NULL. */
static seqk_status arg_mask(seqk_context *ctx, cl_kernel k, const char *name,
                            cl_uint i, const void *ptr, size_t esize,
                            const void *fallback)
{
    cl_mem mem;
    size_t off = 0;
    seqk_status st;
    if (ptr)
        st = seqk__cl_translate(ctx, ptr, esize, &mem, &off);
    else
        st = seqk__cl_translate(ctx, fallback, sizeof(float), &mem, &off);
    if (st)
        return st;
    cl_long off_arg = ptr ? (cl_long)off : 0;
    if ((st = seqk__cl_arg(ctx, k, name, i, sizeof mem, &mem)))
        return st;
    return seqk__cl_arg(ctx, k, name, i + 1, sizeof off_arg, &off_arg);
}

static seqk_status set_args(seqk_context *ctx, cl_kernel k, const char *name,
                            const seqk_attention_problem *p, size_t lbytes)
{
    const cl_int group = (cl_int)(p->Hq / p->Hkv);
    const cl_long Sq = p->Sq, Skv = p->Skv;
    const cl_int Dh = (cl_int)p->Dh, Dv = (cl_int)p->Dv;
    const cl_long s[] = {p->q_sb, p->q_sh, p->q_ss, p->k_sb, p->k_sh,
                         p->k_ss, p->v_sb, p->v_sh, p->v_ss, p->y_sb,
                         p->y_sh, p->y_ss};
    const cl_int mask_kind = p->mask ? (cl_int)p->mask_kind : 0;
    const cl_long m[] = {p->m_sb, p->m_sh, p->m_sq, p->m_sk, p->mask_kv_len};
    const cl_int causal = p->is_causal != 0;
    const cl_long causal_off =
        p->causal_align == SEQK_CAUSAL_BOTTOM_RIGHT ? p->Skv - p->Sq : 0;
    const float scale = p->scale, softcap = p->softcap;
    const int is_bool = mask_kind == SEQK_MASK_BOOL;
    const int is_add = mask_kind == SEQK_MASK_ADD;
    seqk_status st;
    if ((st = seqk__cl_arg_ptr(ctx, k, name, 0, p->q)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 2, p->k)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 4, p->v)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 6, p->y)) ||
        (st = arg_mask(ctx, k, name, 8, is_bool ? p->mask : NULL, 1, p->y)) ||
        (st = arg_mask(ctx, k, name, 10, is_add ? p->mask : NULL, 4, p->y)) ||
        (st = seqk__cl_arg(ctx, k, name, 12, sizeof group, &group)) ||
        (st = seqk__cl_arg(ctx, k, name, 13, sizeof Sq, &Sq)) ||
        (st = seqk__cl_arg(ctx, k, name, 14, sizeof Skv, &Skv)) ||
        (st = seqk__cl_arg(ctx, k, name, 15, sizeof Dh, &Dh)) ||
        (st = seqk__cl_arg(ctx, k, name, 16, sizeof Dv, &Dv)))
        return st;
    for (cl_uint i = 0; i < 12; i++)
        if ((st = seqk__cl_arg(ctx, k, name, 17 + i, sizeof s[i], &s[i])))
            return st;
    if ((st = seqk__cl_arg(ctx, k, name, 29, sizeof mask_kind, &mask_kind)))
        return st;
    for (cl_uint i = 0; i < 5; i++)
        if ((st = seqk__cl_arg(ctx, k, name, 30 + i, sizeof m[i], &m[i])))
            return st;
    if ((st = seqk__cl_arg(ctx, k, name, 35, sizeof causal, &causal)) ||
        (st = seqk__cl_arg(ctx, k, name, 36, sizeof causal_off,
                          &causal_off)) ||
        (st = seqk__cl_arg(ctx, k, name, 37, sizeof scale, &scale)) ||
        (st = seqk__cl_arg(ctx, k, name, 38, sizeof softcap, &softcap)) ||
        (st = seqk__cl_arg(ctx, k, name, 39, lbytes, NULL)))
        return st;
    return SEQK_OK;
}

static seqk_status run_row(seqk_context *ctx, const seqk_attention_problem *p,
                           size_t wg)
{
    static const char name[] = "seqk_f32_attention_row";
    cl_kernel k;
    seqk_status st;
    if ((st = seqk__cl_kernel(ctx, "attention", NULL, name, &k)))
        return st;
    const size_t kmax = seqk__cl_kernel_max_wg(ctx, k);
    while (wg > kmax && wg > 1)
        wg /= 2;
    if ((st = set_args(ctx, k, name, p, 2 * wg * sizeof(float))))
        return st;
    const size_t global[3] = {(size_t)p->Sq * wg, (size_t)p->Hq,
                              (size_t)p->B};
    const size_t local[3] = {wg, 1, 1};
    return seqk__cl_enqueue(ctx, k, name, 3, global, local);
}

seqk_status seqk__cl_attention(seqk_context *ctx,
                              const seqk_attention_problem *p)
{
    static const char name[] = "seqk_f32_attention_flash";
    if (p->B == 0 || p->Hq == 0 || p->Sq == 0 || p->Dv == 0)
        return SEQK_OK;
    if (p->Hkv <= 0 || p->Hq % p->Hkv != 0 || p->Hq / p->Hkv > INT_MAX ||
        p->Dh > INT_MAX / 8 || p->Dv > INT_MAX / 8 ||
        (uint64_t)p->Sq > SIZE_MAX / 4096)
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "OpenCL Attention: sizes out of range for the "
                           "kernels (Hq %lld, Hkv %lld, Sq %lld, Dh %lld, "
                           "Dv %lld)", (long long)p->Hq, (long long)p->Hkv,
                           (long long)p->Sq, (long long)p->Dh,
                           (long long)p->Dv);

    const int64_t shape[4] = {p->Sq, p->Skv, p->Dh, p->Dv};
    seqk_tune_limits lim;
    int v[NUM_P];
    seqk__tune_limits(ctx, &lim);
    seqk__tuned(ctx, &seqk__cl_attention_tunable, shape, v);
    if (!pick_values(&lim, shape, v))
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "OpenCL Attention: no work-group size fits this "
                           "device (max work-group %lld, local memory %lld "
                           "bytes)", (long long)lim.max_wg,
                           (long long)lim.local_mem);
    if (v[P_PATH] == 1)
        return run_row(ctx, p, (size_t)v[P_RWG]);

    const int acc = (int)((p->Dv + v[P_TPR] - 1) / v[P_TPR]);
    char opts[128];
    snprintf(opts, sizeof opts, "-D BQ=%d -D BK=%d -D TPR=%d -D ACC_N=%d",
             v[P_BQ], v[P_BK], v[P_TPR], acc);
    cl_kernel k;
    seqk_status st;
    if ((st = seqk__cl_kernel(ctx, "attention", opts, name, &k)))
        return st;
    const size_t wg = (size_t)v[P_BQ] * (size_t)v[P_TPR];
    /* The compiled kernel may allow less than the device (registers). */
    if (wg > seqk__cl_kernel_max_wg(ctx, k))
        return run_row(ctx, p, (size_t)v[P_RWG]);
    const size_t lbytes =
        (size_t)flash_local_bytes(v[P_BQ], v[P_BK], p->Dh, p->Dv);
    if ((st = set_args(ctx, k, name, p, lbytes)))
        return st;
    const size_t blocks = (size_t)((p->Sq + v[P_BQ] - 1) / v[P_BQ]);
    const size_t global[3] = {blocks * wg, (size_t)p->Hq, (size_t)p->B};
    const size_t local[3] = {wg, 1, 1};
    return seqk__cl_enqueue(ctx, k, name, 3, global, local);
}
