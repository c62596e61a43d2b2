/*
 * rnn_pack.c — packing the RNN layer's weights for the CPU SIMD kernels
 * (layout in rnn.h, contract in rnn_pack.h): once per plan, R and W of
 * every direction and pass into K-row panels of the stage's vectors,
 * zero past unit H; a bf16 plan keeps a bf16 copy of the same values in
 * the kernels' pairwise layout (core/bf16.h).  No ISA flags here.
 */
#include <stdlib.h>

#include "core/bf16.h"
#include "core/registry.h"
#include "cpu_simd/rnn_pack.h"

int seqk__cpu_rnn_cell_stages(const seqk_rnn_layer_problem *p,
                              seqk_rnn_stage *s)
{
    switch (p->cell) {
    case SEQK_CELL_LSTM:
        s[0] = SEQK_RNN_STAGE_LSTM;
        return 1;
    case SEQK_CELL_GRU:
        if (p->linear_before_reset) {
            s[0] = SEQK_RNN_STAGE_GRU;
            return 1;
        }
        s[0] = SEQK_RNN_STAGE_GRU_ZR;
        s[1] = SEQK_RNN_STAGE_GRU_H;
        return 2;
    default:
        s[0] = SEQK_RNN_STAGE_RNN;
        return 1;
    }
}

void seqk__cpu_rnn_pack_free(void *data)
{
    rnn_pack *pk = data;
    if (pk) {
        seqk__aligned_free(pk->block);
        seqk__aligned_free(pk->block16);
        free(pk);
    }
}

/* Floats of the panels of one direction and pass over K rows. */
static int64_t panel_floats(seqk_rnn_stage s, int input_forget, int64_t K,
                            int64_t Hp)
{
    return Hp * K * seqk_rnn_stage_gates(s, input_forget);
}

/* Packs the rows of M (one direction, [G*H][K]: R, K = H, or W, K = I)
 * that stage s uses into the panels described in rnn.h, K rows each, zero
 * beyond unit H; w: W's gate order (seqk_rnn_stage_wgate). */
static void pack_panels(const float *M, int64_t H, int64_t K, int64_t Hp,
                        int V, seqk_rnn_stage s, int input_forget, int w,
                        float *out)
{
    const int vpg = seqk_rnn_stage_vpg(s);
    const int nv = seqk_rnn_stage_nvec(s, input_forget);
    const int64_t U = (int64_t)vpg * V, ntiles = Hp / U, kstride = nv * V;
    for (int64_t j = 0; j < ntiles; j++) {
        float *pj = out + j * K * kstride;
        for (int v = 0; v < nv; v++) {
            const int g = w ? seqk_rnn_stage_wgate(s, input_forget, v / vpg)
                            : seqk_rnn_stage_gate(s, input_forget, v / vpg);
            for (int lane = 0; lane < V; lane++) {
                const int64_t unit = j * U + (v % vpg) * V + lane;
                float *dst = pj + v * V + lane;
                const float *src = M + (g * H + unit) * K;
                for (int64_t k = 0; k < K; k++)
                    dst[k * kstride] = unit < H ? src[k] : 0.0f;
            }
        }
    }
}

static int pack_matches(const rnn_pack *pk, const seqk_rnn_layer_problem *p,
                        int vlen)
{
    return pk->R == p->R && pk->W == p->W && pk->cell == p->cell &&
           pk->num_dirs == p->num_dirs && pk->H == p->H && pk->I == p->I &&
           pk->vlen == vlen && pk->bf16 == (p->weights_bf16 != 0) &&
           pk->lbr == (p->cell == SEQK_CELL_GRU && p->linear_before_reset) &&
           pk->input_forget == (p->cell == SEQK_CELL_LSTM && p->input_forget);
}

seqk_status seqk__cpu_rnn_get_pack(seqk_context *ctx, const seqk_cpu_isa *isa,
                                   const seqk_rnn_layer_problem *p,
                                   int64_t Hp, const rnn_pack **out,
                                   rnn_pack **owned)
{
    const int V = isa->rnn->vlen;
    seqk_backend_cache *cache = p->cache;
    *owned = NULL;
    if (cache && cache->owner == isa && cache->data &&
        pack_matches(cache->data, p, V)) {
        *out = cache->data;
        return SEQK_OK;
    }

    rnn_pack *pk = calloc(1, sizeof *pk);
    seqk_rnn_stage st[2];
    const int ns = seqk__cpu_rnn_cell_stages(p, st);
    const int inf = p->cell == SEQK_CELL_LSTM && p->input_forget;
    int64_t total = 0;
    for (int s = 0; s < ns; s++)
        total += panel_floats(st[s], inf, p->H + p->I, Hp);
    total *= p->num_dirs;
    if (pk)
        pk->block = seqk__aligned_alloc((size_t)total * sizeof(float));
    if (pk && pk->block && p->weights_bf16)
        pk->block16 = seqk__aligned_alloc((size_t)total * sizeof(uint16_t));
    if (!pk || !pk->block || (p->weights_bf16 && !pk->block16)) {
        if (pk)
            seqk__aligned_free(pk->block);
        free(pk);
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "out of memory for the packed RNN weights "
                           "(%lld floats)", (long long)total);
    }
    pk->W = p->W;
    pk->R = p->R;
    pk->cell = p->cell;
    pk->num_dirs = p->num_dirs;
    pk->H = p->H;
    pk->I = p->I;
    pk->vlen = V;
    pk->lbr = p->cell == SEQK_CELL_GRU && p->linear_before_reset;
    pk->input_forget = inf;
    const int64_t G = seqk__rnn_gates(p->cell), H = p->H, I = p->I;
    float *dst = pk->block;
    for (int d = 0; d < p->num_dirs; d++)
        for (int s = 0; s < ns; s++) {
            pk->panel[d][s] = dst;
            pack_panels(p->R + d * G * H * H, H, H, Hp, V, st[s], inf, 0, dst);
            dst += panel_floats(st[s], inf, H, Hp);
            pk->wpanel[d][s] = dst;
            pack_panels(p->W + d * G * H * I, H, I, Hp, V, st[s], inf, 1, dst);
            dst += panel_floats(st[s], inf, I, Hp);
        }
    /* the values are bf16 already (core/bf16.h): the top halves, exact,
     * each panel's rows in the kernels' pairwise layout */
    pk->bf16 = p->weights_bf16 != 0;
    for (int d = 0; pk->bf16 && d < p->num_dirs; d++)
        for (int s = 0; s < ns; s++) {
            const int nv = seqk_rnn_stage_nvec(st[s], inf);
            const int64_t rows[2] = {panel_floats(st[s], inf, H, Hp),
                                     panel_floats(st[s], inf, I, Hp)};
            const float *src[2] = {pk->panel[d][s], pk->wpanel[d][s]};
            for (int m = 0; m < 2; m++)
                seqk__bf16_pack_rows(src[m],
                                     pk->block16 + (src[m] - pk->block),
                                     rows[m] / ((int64_t)nv * V), nv, V);
        }

    if (cache) {
        if (cache->data && cache->free_fn)
            cache->free_fn(cache->data);
        cache->owner = isa;
        cache->data = pk;
        cache->free_fn = seqk__cpu_rnn_pack_free;
    } else {
        *owned = pk;
    }
    *out = pk;
    return SEQK_OK;
}

