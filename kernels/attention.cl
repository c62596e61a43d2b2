/*
 * attention.cl — ONNX Attention-23 (src/core/problems.h,
 * seqk_attention_problem): y = softmax(mask(softcap(scale * q k^T))) v per
 * (batch b, query head h), kv head g = h / group (group = Hq / Hkv).
 *
 * Addressing (elements, head dim contiguous; each buffer has an offset):
 *   q[b*q_sb + h*q_sh + i*q_ss + d]   k[b*k_sb + g*k_sh + j*k_ss + d]
 *   v[b*v_sb + g*v_sh + j*v_ss + e]   y[b*y_sb + h*y_sh + i*y_ss + e]
 *   mask[b*m_sb + h*m_sh + i*m_sq + j*m_sk], j < mask_kv_len (keys beyond
 *   are masked); mask_kind 0 none, 1 bool (uchar, nonzero = attend,
 *   mask_b), 2 additive (float, mask_f).  Causal: key j is seen by query
 *   i iff j <= i + causal_off (0 top-left, Skv - Sq bottom-right).
 *
 * seqk_f32_attention_flash — one work-group of BQ*TPR work-items per
 * (block of BQ query rows, h, b); TPR work-items share a row.  Keys go by
 * tiles of BK with an online softmax (running max m and sum l per row):
 *
 *   lmem: Qs [BQ][Dh+1] | Ks [BK][Dh+1] | Vs [BK][Dv] | Ps [BQ][BK] | Es [BQ][BK]
 *   per tile:  load Ks, Vs (zeros past the last key) -- barrier
 *              Ps[r][j] = score, -inf if excluded      -- barrier
 *              row max -> m', Es[r][j] = exp(Ps - m')   -- barrier
 *              l = l*exp(m-m') + sum Es; acc = acc*exp(m-m') + Es Vs
 *   work-item t of row r owns columns t, t+TPR, ... of y (ACC_N at most).
 * The +1 in the Qs/Ks row stride spreads a column over memory banks.  The
 * tile loop bound is the same for the whole group (the block's last
 * causal key, mask_kv_len, Skv), so every work-item reaches every barrier;
 * rows past Sq compute -inf scores and write nothing.
 *
 * seqk_f32_attention_row — the variant without K/V tiles (any head size):
 * one work-group per (i, h, b); work-item t scores key k0+t of each tile of
 * get_local_size(0) keys (lmem: Ps and Es, two floats per work-item) and
 * owns columns t, t+lsz, ... of y, which it accumulates in place.
 *
 * A row with no attendable key gives 0 (l stays 0), not NaN.
 */

#ifndef BQ
#define BQ 16
#endif
#ifndef BK
#define BK 32
#endif
#ifndef TPR
#define TPR 8
#endif
#ifndef ACC_N /* ceil(Dv / TPR) or more */
#define ACC_N 8
#endif

/* Score of key j for query i (q, k rows already multiplied into dot). */
static float finish_score(float dot, float scale, float softcap, long b,
                          long h, long i, long j, int mask_kind,
                          __global const uchar *mask_b,
                          __global const float *mask_f, long m_sb, long m_sh,
                          long m_sq, long m_sk, int is_causal,
                          long causal_off)
{
    float x = scale * dot;
    if (softcap > 0.0f)
        x = softcap * tanh(x / softcap);
    const long mi = b * m_sb + h * m_sh + i * m_sq + j * m_sk;
    if (mask_kind == 1 && !mask_b[mi])
        x = -INFINITY;
    else if (mask_kind == 2)
        x += mask_f[mi];
    if (is_causal && j > i + causal_off)
        x = -INFINITY;
    return x;
}

/* Keys past this bound are excluded for every query row < i_end. */
static long key_end(long i_end, long Skv, int mask_kind, long mask_kv_len,
                    int is_causal, long causal_off)
{
    long kend = Skv;
    if (mask_kind != 0 && mask_kv_len < kend)
        kend = mask_kv_len;
    if (is_causal && i_end + causal_off < kend)
        kend = i_end + causal_off;
    return kend > 0 ? kend : 0;
}

__kernel void seqk_f32_attention_flash(
    __global const float *q, long q_off, __global const float *k, long k_off,
    __global const float *v, long v_off, __global float *y, long y_off,
    __global const uchar *mask_b, long mb_off,
    __global const float *mask_f, long mf_off,
    int group, long Sq, long Skv, int Dh, int Dv,
    long q_sb, long q_sh, long q_ss, long k_sb, long k_sh, long k_ss,
    long v_sb, long v_sh, long v_ss, long y_sb, long y_sh, long y_ss,
    int mask_kind, long m_sb, long m_sh, long m_sq, long m_sk,
    long mask_kv_len, int is_causal, long causal_off, float scale,
    float softcap, __local float *lmem)
{
    const int lid = (int)get_local_id(0);
    const int r = lid / TPR, t = lid % TPR;
    const long i0 = (long)get_group_id(0) * BQ;
    const long h = (long)get_global_id(1), b = (long)get_global_id(2);
    const long g = h / group;
    const long i = i0 + r;
    const int row_ok = i < Sq;
    const int ldq = Dh + 1;

    __local float *Qs = lmem;
    __local float *Ks = Qs + BQ * ldq;
    __local float *Vs = Ks + BK * ldq;
    __local float *Ps = Vs + BK * Dv;
    __local float *Es = Ps + BQ * BK;

    __global const float *qb = q + q_off + b * q_sb + h * q_sh;
    __global const float *kb = k + k_off + b * k_sb + g * k_sh;
    __global const float *vb = v + v_off + b * v_sb + g * v_sh;
    __global const uchar *mb = mask_b + mb_off;
    __global const float *mf = mask_f + mf_off;

    for (int idx = lid; idx < BQ * Dh; idx += BQ * TPR) {
        const int rr = idx / Dh, d = idx - rr * Dh;
        Qs[rr * ldq + d] = i0 + rr < Sq ? qb[(i0 + rr) * q_ss + d] : 0.0f;
    }

    const long i_end = i0 + BQ < Sq ? i0 + BQ : Sq;
    const long kend = key_end(i_end, Skv, mask_kind, mask_kv_len, is_causal,
                              causal_off);
    float m = -INFINITY, l = 0.0f;
    float acc[ACC_N];
    for (int c = 0; c < ACC_N; c++)
        acc[c] = 0.0f;

    for (long k0 = 0; k0 < kend; k0 += BK) {
        /* The previous tile's readers (and the Qs writers) are done. */
        barrier(CLK_LOCAL_MEM_FENCE);
        for (int idx = lid; idx < BK * Dh; idx += BQ * TPR) {
            const int j = idx / Dh, d = idx - j * Dh;
            Ks[j * ldq + d] = k0 + j < kend ? kb[(k0 + j) * k_ss + d] : 0.0f;
        }
        for (int idx = lid; idx < BK * Dv; idx += BQ * TPR) {
            const int j = idx / Dv, e = idx - j * Dv;
            Vs[idx] = k0 + j < kend ? vb[(k0 + j) * v_ss + e] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        /* (a fixed trip count: PoCL 3.1 mis-compiled `j = t; j < BK;
         * j += TPR` when BK < TPR) */
        for (int u = 0; u < (BK + TPR - 1) / TPR; u++) {
            const int j = t + u * TPR;
            float x = -INFINITY;
            if (j >= BK)
                break;
            if (row_ok && k0 + j < kend) {
                float dot = 0.0f;
                for (int d = 0; d < Dh; d++)
                    dot += Qs[r * ldq + d] * Ks[j * ldq + d];
                x = finish_score(dot, scale, softcap, b, h, i, k0 + j,
                                 mask_kind, mb, mf, m_sb, m_sh, m_sq, m_sk,
                                 is_causal, causal_off);
            }
            Ps[r * BK + j] = x;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        float mt = -INFINITY;
        for (int j = 0; j < BK; j++)
            mt = fmax(mt, Ps[r * BK + j]);
        const float mn = fmax(m, mt);
        for (int u = 0; u < (BK + TPR - 1) / TPR; u++) {
            const int j = t + u * TPR;
            if (j >= BK)
                break;
            const float x = Ps[r * BK + j];
            Es[r * BK + j] = x == -INFINITY ? 0.0f : exp(x - mn);
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        /* m == -inf: nothing accumulated yet (acc and l are 0) */
        const float alpha = m == -INFINITY ? 0.0f : exp(m - mn);
        float ps = 0.0f;
        for (int j = 0; j < BK; j++)
            ps += Es[r * BK + j];
        l = l * alpha + ps;
        for (int c = 0; c < ACC_N; c++) {
            const int e = t + c * TPR;
            if (e < Dv) {
                float a = acc[c] * alpha;
                for (int j = 0; j < BK; j++)
                    a += Es[r * BK + j] * Vs[j * Dv + e];
                acc[c] = a;
            }
        }
        m = mn;
    }

    if (!row_ok)
        return;
    __global float *yr = y + y_off + b * y_sb + h * y_sh + i * y_ss;
    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int c = 0; c < ACC_N; c++) {
        const int e = t + c * TPR;
        if (e < Dv)
            yr[e] = acc[c] * inv;
    }
}

__kernel void seqk_f32_attention_row(
    __global const float *q, long q_off, __global const float *k, long k_off,
    __global const float *v, long v_off, __global float *y, long y_off,
    __global const uchar *mask_b, long mb_off,
    __global const float *mask_f, long mf_off,
    int group, long Sq, long Skv, int Dh, int Dv,
    long q_sb, long q_sh, long q_ss, long k_sb, long k_sh, long k_ss,
    long v_sb, long v_sh, long v_ss, long y_sb, long y_sh, long y_ss,
    int mask_kind, long m_sb, long m_sh, long m_sq, long m_sk,
    long mask_kv_len, int is_causal, long causal_off, float scale,
    float softcap, __local float *lmem)
{
    const int lid = (int)get_local_id(0);
    const int lsz = (int)get_local_size(0);
    const long i = (long)get_group_id(0);
    const long h = (long)get_global_id(1), b = (long)get_global_id(2);
    const long g = h / group;
    __local float *Ps = lmem;
    __local float *Es = lmem + lsz;

    __global const float *qr = q + q_off + b * q_sb + h * q_sh + i * q_ss;
    __global const float *kb = k + k_off + b * k_sb + g * k_sh;
    __global const float *vb = v + v_off + b * v_sb + g * v_sh;
    __global float *yr = y + y_off + b * y_sb + h * y_sh + i * y_ss;
    __global const uchar *mb = mask_b + mb_off;
    __global const float *mf = mask_f + mf_off;

    /* (i < Sq always: one group per row) */
    const long kend = key_end(i + 1, Skv, mask_kind, mask_kv_len, is_causal,
                              causal_off);
    for (int e = lid; e < Dv; e += lsz)
        yr[e] = 0.0f;
    float m = -INFINITY, l = 0.0f;

    for (long k0 = 0; k0 < kend; k0 += lsz) {
        const long j = k0 + lid;
        float x = -INFINITY;
        if (j < kend) {
            __global const float *kr = kb + j * k_ss;
            float dot = 0.0f;
            for (int d = 0; d < Dh; d++)
                dot += qr[d] * kr[d];
            x = finish_score(dot, scale, softcap, b, h, i, j, mask_kind, mb,
                             mf, m_sb, m_sh, m_sq, m_sk, is_causal,
                             causal_off);
        }
        Ps[lid] = x;
        barrier(CLK_LOCAL_MEM_FENCE);
        float mt = -INFINITY;
        for (int jj = 0; jj < lsz; jj++)
            mt = fmax(mt, Ps[jj]);
        const float mn = fmax(m, mt);
        Es[lid] = x == -INFINITY ? 0.0f : exp(x - mn);
        barrier(CLK_LOCAL_MEM_FENCE);

        const float alpha = m == -INFINITY ? 0.0f : exp(m - mn);
        const int n = kend - k0 < lsz ? (int)(kend - k0) : lsz;
        float ps = 0.0f;
        for (int jj = 0; jj < n; jj++)
            ps += Es[jj];
        l = l * alpha + ps;
        for (int e = lid; e < Dv; e += lsz) {
            float a = yr[e] * alpha;
            for (int jj = 0; jj < n; jj++)
                a += Es[jj] * vb[(k0 + jj) * v_ss + e];
            yr[e] = a;
        }
        m = mn;
        /* Ps and Es are rewritten by the next tile. */
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const float inv = l > 0.0f ? 1.0f / l : 0.0f;
    for (int e = lid; e < Dv; e += lsz)
        yr[e] *= inv;
}
