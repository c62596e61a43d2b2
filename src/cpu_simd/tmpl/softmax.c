/*
 * tmpl/softmax.c — Softmax and the online-softmax row of Attention,
 * written once against the vector API (simd/<isa>.h).
 *
 * COMPILED ONCE PER ISA: not a translation unit of its own.  Each ISA's
 * attention_<isa>.c includes its simd/<isa>.h, defines its knobs (see
 * tmpl/attention_rows.c, which includes this file) and then the template,
 * inside that ISA's static library and with its flags.
 *
 * Tails: with ATTN_MASKED_TAILS the last partial vector goes through
 * masked loads and stores (x86); without it (NEON) the last n % SIMD_V
 * elements run one by one in scalar C (expf, tanhf), as they always have.
 *
 *   contiguous softmax (inner == 1)     x[0 .. n)          one row
 *   strided softmax                     x[i*inner + c]     i < n, c0 <= c < c1
 *     one vector of SIMD_V columns at a time, each lane its own softmax
 */

/* Pass 1 of the online softmax on one vector at s (the first `left`
 * lanes when tail): the final scores (stored back unless plain) folded
 * into the running max. */
SIMD_INLINE simd_f32 softmax_max_step(simd_f32 vmax, const int tail,
                                      int64_t left, float *s, int plain,
                                      simd_f32 vscale, float softcap,
                                      const float *bias)
{
    simd_f32 x = tail ? simd_load_tail(s, left) : simd_loadu(s);
    if (!plain) {
        x = simd_mul(x, vscale);
        if (softcap > 0.0f) {
            const simd_f32 vcap = simd_set1(softcap);
            x = simd_mul(vcap, simd_tanh_u10(simd_div(x, vcap)));
        }
        if (bias)
            x = simd_add(x, tail ? simd_load_tail(bias, left)
                                 : simd_loadu(bias));
        if (tail)
            simd_store_tail(s, x, left);
        else
            simd_storeu(s, x);
    }
    return tail ? simd_max_tail(vmax, x, left) : simd_max(vmax, x);
}

static float SIMD_SUFFIX(seqk_f32_attn_online_softmax_row)(
    int64_t n, int64_t n_pad, float scale, float softcap, const float *bias,
    float *s, float *max, float *sum)
{
    enum { U = ATTN_SOFTMAX_UNROLL, UV = ATTN_SOFTMAX_UNROLL * SIMD_V };
    const simd_f32 vscale = simd_set1(scale);
    /* plain scaled scores: scale folds into the exp's argument and pass 1
     * only reads (max(scale*s) = scale*max(s) for scale > 0) */
    const int plain = softcap == 0.0f && !bias && scale > 0.0f;
    simd_f32 vmax[U];
    float bmax = -INFINITY;
    int64_t j = 0;

    /* pass 1: the max (and, unless plain, the final scores in place); U
     * accumulators keep U vectors in flight */
    SEQK_UNROLL_FULL
    for (int u = 0; u < U; u++)
        vmax[u] = simd_set1(-INFINITY);
    for (; j + UV <= n; j += UV) {
        SEQK_UNROLL_FULL
        for (int u = 0; u < U; u++)
            vmax[u] = softmax_max_step(vmax[u], 0, 0, s + j + u * SIMD_V,
                                       plain, vscale, softcap,
                                       bias ? bias + j + u * SIMD_V : NULL);
    }
    for (; j + SIMD_V <= n; j += SIMD_V)
        vmax[0] = softmax_max_step(vmax[0], 0, 0, s + j, plain, vscale,
                                   softcap, bias ? bias + j : NULL);
    if (ATTN_MASKED_TAILS) {
        if (j < n)
            vmax[0] = softmax_max_step(vmax[0], 1, n - j, s + j, plain,
                                       vscale, softcap,
                                       bias ? bias + j : NULL);
    } else {
        for (; j < n; j++) {
            float x = s[j];
            if (!plain) {
                x *= scale;
                if (softcap > 0.0f)
                    x = softcap * tanhf(x / softcap);
                if (bias)
                    x += bias[j];
                s[j] = x;
            }
            bmax = x > bmax ? x : bmax;
        }
    }
    SEQK_UNROLL_FULL
    for (int u = 1; u < U; u++)
        vmax[0] = simd_max(vmax[0], vmax[u]);
    const float vm = simd_reduce_max(vmax[0]);
    if (ATTN_MASKED_TAILS)
        bmax = vm;
    else
        bmax = vm > bmax ? vm : bmax;
    if (plain)
        bmax *= scale;
    const float m_old = *max;
    const float m_new = bmax > m_old ? bmax : m_old;
    if (m_new == -INFINITY) {
        if (ATTN_MASKED_TAILS)
            for (j = 0; j < n_pad; j += SIMD_V)
                simd_store_tail(s + j, simd_zero(), n_pad - j);
        else
            for (j = 0; j < n_pad; j++)
                s[j] = 0.0f;
        return 1.0f;
    }

    /* pass 2: exp and their sum; excluded keys (-inf) give 0 */
    const float fs = plain ? scale : 1.0f;
    const simd_f32 vs = plain ? vscale : simd_set1(1.0f);
    const simd_f32 vnm = simd_set1(-m_new);
    simd_f32 vsum[U];
    float tail = 0.0f;
    SEQK_UNROLL_FULL
    for (int u = 0; u < U; u++)
        vsum[u] = simd_zero();
    for (j = 0; j + UV <= n; j += UV) {
        simd_f32 e[U];
        SEQK_UNROLL_FULL
        for (int u = 0; u < U; u++)
            e[u] = simd_exp_softmax(
                simd_fma(simd_loadu(s + j + u * SIMD_V), vs, vnm));
        SEQK_UNROLL_FULL
        for (int u = 0; u < U; u++)
            simd_storeu(s + j + u * SIMD_V, e[u]);
        SEQK_UNROLL_FULL
        for (int u = 0; u < U; u++)
            vsum[u] = simd_add(vsum[u], e[u]);
    }
    for (; j + SIMD_V <= n; j += SIMD_V) {
        const simd_f32 e =
            simd_exp_softmax(simd_fma(simd_loadu(s + j), vs, vnm));
        simd_storeu(s + j, e);
        vsum[0] = simd_add(vsum[0], e);
    }
    if (ATTN_MASKED_TAILS) {
        if (j < n) {
            const simd_f32 e = simd_exp_softmax(
                simd_fma(simd_load_tail(s + j, n - j), vs, vnm));
            simd_store_tail(s + j, e, n - j);
            vsum[0] = simd_add_tail(vsum[0], e, n - j);
            j = n;
        }
    } else {
        for (; j < n; j++) {
            s[j] = expf(s[j] * fs - m_new);
            tail += s[j];
        }
    }
    for (; j < n_pad; j++)
        s[j] = 0.0f;

    SEQK_UNROLL_FULL
    for (int u = 1; u < U; u++)
        vsum[0] = simd_add(vsum[0], vsum[u]);
    const float corr = expf(m_old - m_new);
    float total = *sum * corr + simd_reduce_add(vsum[0]);
    if (!ATTN_MASKED_TAILS)
        total += tail;
    *sum = total;
    *max = m_new;
    return corr;
}

static void softmax_contiguous(int64_t n, const float *x, float *y)
{
    simd_f32 vmax = simd_set1(-INFINITY);
    float mx = -INFINITY;
    int64_t i = 0;
    for (; i + SIMD_V <= n; i += SIMD_V)
        vmax = simd_max(vmax, simd_loadu(x + i));
    if (ATTN_MASKED_TAILS) {
        if (i < n)
            vmax = simd_max_tail(vmax, simd_load_tail(x + i, n - i), n - i);
        mx = simd_reduce_max(vmax);
    } else {
        for (; i < n; i++)
            mx = x[i] > mx ? x[i] : mx;
        const float vm = simd_reduce_max(vmax);
        mx = vm > mx ? vm : mx;
    }

    const simd_f32 vmx = simd_set1(mx);
    simd_f32 vsum = simd_zero();
    float sum = 0.0f;
    for (i = 0; i + SIMD_V <= n; i += SIMD_V) {
        const simd_f32 e = simd_exp_softmax(simd_sub(simd_loadu(x + i), vmx));
        simd_storeu(y + i, e);
        vsum = simd_add(vsum, e);
    }
    if (ATTN_MASKED_TAILS) {
        if (i < n) {
            const simd_f32 e = simd_exp_softmax(
                simd_sub(simd_load_tail(x + i, n - i), vmx));
            simd_store_tail(y + i, e, n - i);
            vsum = simd_add_tail(vsum, e, n - i);
        }
    } else {
        for (; i < n; i++) {
            y[i] = expf(x[i] - mx);
            sum += y[i];
        }
    }
    const float inv = ATTN_MASKED_TAILS
                          ? 1.0f / simd_reduce_add(vsum)
                          : 1.0f / (simd_reduce_add(vsum) + sum);
    const simd_f32 vinv = simd_set1(inv);
    for (i = 0; i + SIMD_V <= n; i += SIMD_V)
        simd_storeu(y + i, simd_mul(simd_loadu(y + i), vinv));
    if (ATTN_MASKED_TAILS) {
        if (i < n)
            simd_store_tail(y + i, simd_mul(simd_load_tail(y + i, n - i), vinv),
                            n - i);
    } else {
        for (; i < n; i++)
            y[i] *= inv;
    }
}

/* LogSoftmax of one contiguous row: (x - max) - log(sum exp(x - max)),
 * computed from x itself (never log of a softmax, which underflows to
 * -inf where the answer is a finite -100).  The tails of the two passes
 * run in scalar C. */
static void SIMD_SUFFIX(seqk_f32_log_softmax_row)(int64_t n, const float *x,
                                                  float *y)
{
    simd_f32 vmax = simd_set1(-INFINITY);
    float mx = -INFINITY;
    int64_t i = 0;
    for (; i + SIMD_V <= n; i += SIMD_V)
        vmax = simd_max(vmax, simd_loadu(x + i));
    for (int64_t j = i; j < n; j++)
        mx = x[j] > mx ? x[j] : mx;
    const float vm = simd_reduce_max(vmax);
    mx = vm > mx ? vm : mx;
    const simd_f32 vmx = simd_set1(mx);
    simd_f32 vsum = simd_zero();
    for (i = 0; i + SIMD_V <= n; i += SIMD_V)
        vsum = simd_add(vsum, simd_exp_softmax(simd_sub(simd_loadu(x + i),
                                                        vmx)));
    float sum = simd_reduce_add(vsum);
    for (int64_t j = i; j < n; j++)
        sum += expf(x[j] - mx);
    /* (x - max) - log(sum): max + log(sum) would round away log(sum)'s
     * digits when max is large (1e4: an ulp of 1e-3) */
    const float ls = logf(sum);
    const simd_f32 vls = simd_set1(ls);
    for (i = 0; i + SIMD_V <= n; i += SIMD_V)
        simd_storeu(y + i, simd_sub(simd_sub(simd_loadu(x + i), vmx), vls));
    for (; i < n; i++)
        y[i] = (x[i] - mx) - ls;
}

/* SIMD_V columns from c (the first `left` when tail) of a strided slab,
 * each lane its own softmax down the n rows. */
SIMD_INLINE void softmax_columns(const int tail, int64_t left, int64_t n,
                                 int64_t inner, int64_t c, const float *x,
                                 float *y)
{
    simd_f32 vmax = simd_set1(-INFINITY);
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * inner + c;
        vmax = simd_max(vmax, tail ? simd_load_tail(xi, left) : simd_loadu(xi));
    }
    simd_f32 vsum = simd_zero();
    for (int64_t i = 0; i < n; i++) {
        const float *xi = x + i * inner + c;
        const simd_f32 e = simd_exp_softmax(simd_sub(
            tail ? simd_load_tail(xi, left) : simd_loadu(xi), vmax));
        if (tail)
            simd_store_tail(y + i * inner + c, e, left);
        else
            simd_storeu(y + i * inner + c, e);
        vsum = simd_add(vsum, e);
    }
    const simd_f32 inv = simd_div(simd_set1(1.0f), vsum);
    for (int64_t i = 0; i < n; i++) {
        float *yi = y + i * inner + c;
        if (tail)
            simd_store_tail(yi, simd_mul(simd_load_tail(yi, left), inv), left);
        else
            simd_storeu(yi, simd_mul(simd_loadu(yi), inv));
    }
}

static void SIMD_SUFFIX(seqk_f32_softmax)(int64_t n, int64_t inner,
                                          int64_t c0, int64_t c1,
                                          const float *x, float *y)
{
    if (inner == 1) {
        softmax_contiguous(n, x, y);
        return;
    }
    int64_t c = c0;
    if (ATTN_MASKED_TAILS) {
        /* every column step through the masks, the last one partial */
        for (; c < c1; c += SIMD_V)
            softmax_columns(1, c1 - c, n, inner, c, x, y);
        return;
    }
    for (; c + SIMD_V <= c1; c += SIMD_V)
        softmax_columns(0, 0, n, inner, c, x, y);
    for (; c < c1; c++) {
        float mx = -INFINITY, sum = 0.0f;
        for (int64_t i = 0; i < n; i++)
            mx = x[i * inner + c] > mx ? x[i * inner + c] : mx;
        for (int64_t i = 0; i < n; i++) {
            y[i * inner + c] = expf(x[i * inner + c] - mx);
            sum += y[i * inner + c];
        }
        const float inv = 1.0f / sum;
        for (int64_t i = 0; i < n; i++)
            y[i * inner + c] *= inv;
    }
}
