/*
 * seq_attention.cl — SeqAttention (src/core/problems.h,
 * seqk_seq_attention_problem), dense row-major, each buffer with an
 * element offset:
 *
 *   query [B,Dq]   keys [B,S,Dk]   values [B,S,Dv]   lens [B] (has_lens)
 *   w [B,S]: scores, then weights (the caller's weights or a scratch)
 *   u:  general  [B,Dk] = query W          (host GEMM before the call)
 *       additive [B,A]  = query W1^T
 *   kw: additive [B*S,A] = keys W2^T
 *   par: additive v [A]; location Wloc [S,Dq]
 *
 * Three launches per call, L = lens[b] (S without lens):
 *   seq_attention_scores   work-item (s, b), s < L: w[b,s] = score
 *     kind 0 dot, 1 scaled_dot, 2 general (u . k), 3 additive
 *     (sum_a v[a] tanh(u[b,a] + kw[b,s,a])), 4 cosine, 5 location
 *   seq_attention_softmax  one work-group per b (power-of-two size, local
 *     scratch of that many floats, tree reductions): w[b,s<L] softmax,
 *     w[b,s>=L] = 0
 *   seq_attention_context  work-item (e, b): ctx[b,e] = sum_{s<L} w v
 * L = 0 gives zero weights and context.
 */

static long len_of(__global const int *lens, long l_off, int has_lens,
                   long b, long S)
{
    return has_lens ? (long)lens[l_off + b] : S;
}

__kernel void seqk_f32_seq_attention_scores(
    int kind, long B, long S, int Dq, int Dk, int A,
    __global const float *query, long q_off,
    __global const float *keys, long k_off,
    __global const float *u, long u_off,
    __global const float *kw, long kw_off,
    __global const float *par, long par_off,
    __global const int *lens, long l_off, int has_lens,
    __global float *w, long w_off)
{
    const long s = (long)get_global_id(0), b = (long)get_global_id(1);
    if (s >= S || b >= B || s >= len_of(lens, l_off, has_lens, b, S))
        return;
    __global const float *qr = query + q_off + b * Dq;
    __global const float *kr = keys + k_off + (b * S + s) * Dk;
    float x = 0.0f;
    if (kind == 0 || kind == 1) {
        for (int d = 0; d < Dk; d++)
            x += qr[d] * kr[d];
        if (kind == 1)
            x /= sqrt((float)Dk);
    } else if (kind == 2) {
        __global const float *ur = u + u_off + b * Dk;
        for (int d = 0; d < Dk; d++)
            x += ur[d] * kr[d];
    } else if (kind == 3) {
        __global const float *ur = u + u_off + b * A;
        __global const float *kwr = kw + kw_off + (b * S + s) * A;
        __global const float *vv = par + par_off;
        for (int a = 0; a < A; a++)
            x += vv[a] * tanh(ur[a] + kwr[a]);
    } else if (kind == 4) {
        float qq = 0.0f, kk = 0.0f, qk = 0.0f;
        for (int d = 0; d < Dk; d++) {
            qq += qr[d] * qr[d];
            kk += kr[d] * kr[d];
            qk += qr[d] * kr[d];
        }
        x = qq == 0.0f || kk == 0.0f ? 0.0f : qk / (sqrt(qq) * sqrt(kk));
    } else {
        __global const float *lr = par + par_off + s * Dq;
        for (int d = 0; d < Dq; d++)
            x += lr[d] * qr[d];
    }
    w[w_off + b * S + s] = x;
}

__kernel void seqk_f32_seq_attention_softmax(long S, __global const int *lens,
                                    long l_off, int has_lens,
                                    __global float *w, long w_off,
                                    __local float *scratch)
{
    const int lid = (int)get_local_id(0), lsz = (int)get_local_size(0);
    const long b = (long)get_group_id(0);
    const long L = len_of(lens, l_off, has_lens, b, S);
    __global float *wr = w + w_off + b * S;

    float m = -INFINITY;
    for (long s = lid; s < L; s += lsz)
        m = fmax(m, wr[s]);
    scratch[lid] = m;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = lsz / 2; h > 0; h /= 2) {
        if (lid < h)
            scratch[lid] = fmax(scratch[lid], scratch[lid + h]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float mx = scratch[0];
    /* Everyone has read the max before scratch holds sums. */
    barrier(CLK_LOCAL_MEM_FENCE);

    float sum = 0.0f;
    for (long s = lid; s < L; s += lsz)
        sum += exp(wr[s] - mx);
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int h = lsz / 2; h > 0; h /= 2) {
        if (lid < h)
            scratch[lid] += scratch[lid + h];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    const float inv = L > 0 ? 1.0f / scratch[0] : 0.0f;

    /* Each work-item rewrites only the entries it read. */
    for (long s = lid; s < S; s += lsz)
        wr[s] = s < L ? exp(wr[s] - mx) * inv : 0.0f;
}

__kernel void seqk_f32_seq_attention_context(long B, long S, int Dv,
                                    __global const float *values, long v_off,
                                    __global const int *lens, long l_off,
                                    int has_lens,
                                    __global const float *w, long w_off,
                                    __global float *ctx, long c_off)
{
    const long e = (long)get_global_id(0), b = (long)get_global_id(1);
    if (e >= Dv || b >= B)
        return;
    const long L = len_of(lens, l_off, has_lens, b, S);
    __global const float *wr = w + w_off + b * S;
    __global const float *vb = values + v_off + b * S * Dv + e;
    float acc = 0.0f;
    for (long s = 0; s < L; s++)
        acc += wr[s] * vb[s * Dv];
    ctx[c_off + b * Dv + e] = acc;
}
