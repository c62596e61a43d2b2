/*
 * rnn.h — the RNN layer of the CPU SIMD backend: the per-ISA kernels (the
 * fused step: recurrent GEMM + gate math; the input projection) and what
 * the driver (rnn_driver.c) hands them.
 *
 * One layer call (rnn_driver.c):
 *
 *   XW[t,b][d] = x[t,b] . W[d]^T + bias      for a chunk of steps, one
 *                                            GEMM (the project kernel)
 *   for each step: for each direction d:
 *       pre[b][g][u] = XW[t_b,b][d](g, u) + sum_k h[b][k] * R[d][g*H+u][k]
 *       gates, cell update -> h'[b][u], c[b][u], y[t_b][d][b][u]
 *
 * XW is grouped by tiles of V units, every projected gate of those units
 * side by side, so that a step reads each row sequentially:
 *
 *   XW row of direction d:  [Hp/V][ng][V]    ng projected gates:
 *       LSTM i,o,f,c (i,o,c with input_forget), GRU z,r,h, RNN one
 *   (g, u) at ((u / V) * ng + g) * V + u % V
 *
 * R is prepacked once per plan (seqk_backend_cache) into panels, one per
 * tile of U hidden units, holding the rows of every gate of those units so
 * that one register tile covers all gates of the same units:
 *
 *   panel[tile][k][v][lane]      k < H (the reduction), v < nvec, lane < V
 *   vector v: gate stage_gate(v / vpg), units tile*U + (v % vpg)*V + lane
 *   U = vpg * V hidden units per tile; units >= H are zero
 *
 * W is packed into the same kind of panels (I rows, gate order
 * stage_wgate).  With batches large enough for a step to be compute-bound,
 * the projection is fused into the steps instead: a step accumulates
 * x_t . W^T and h_{t-1} . R^T into the same registers and no XW is
 * materialized (the gate math adds the bias, laid out as one XW row).
 *
 * The state buffers are [B][Hp] with Hp = H rounded up to 2V, so kernels
 * always load and store whole vectors of them; only the user's y rows need
 * tail handling (the kernels mask those stores).
 */
#ifndef SEQK_CPU_SIMD_RNN_H
#define SEQK_CPU_SIMD_RNN_H

#include <stdint.h>

#include "seqk.h"

/* What one pass of the step kernel computes.  GRU with
 * linear_before_reset = 0 takes two passes per step, because the candidate
 * gate multiplies R_h by r (.) h, which needs r of every unit first. */
typedef enum seqk_rnn_stage {
    SEQK_RNN_STAGE_RNN = 0, /* h = f(a)                        1 gate, vpg 2 */
    SEQK_RNN_STAGE_LSTM,    /* i,o,f,c (i,o,c with input_forget)      vpg 1 */
    SEQK_RNN_STAGE_GRU,     /* lbr=1: z,r,h                           vpg 1 */
    SEQK_RNN_STAGE_GRU_ZR,  /* lbr=0 pass 1: z -> zbuf, r.h -> rh     vpg 1 */
    SEQK_RNN_STAGE_GRU_H    /* lbr=0 pass 2: h gate over rh   1 gate, vpg 2 */
} seqk_rnn_stage;

/* Vectors per gate in a tile: single-gate stages take two vectors of
 * units so that the register tile has enough independent accumulators. */
static inline int seqk_rnn_stage_vpg(seqk_rnn_stage s)
{
    return s == SEQK_RNN_STAGE_RNN || s == SEQK_RNN_STAGE_GRU_H ? 2 : 1;
}

/* Gates packed in a panel of the stage. */
static inline int seqk_rnn_stage_gates(seqk_rnn_stage s, int input_forget)
{
    switch (s) {
    case SEQK_RNN_STAGE_LSTM:
        return input_forget ? 3 : 4; /* f = 1 - i needs no weights */
    case SEQK_RNN_STAGE_GRU:
        return 3;
    case SEQK_RNN_STAGE_GRU_ZR:
        return 2;
    default:
        return 1;
    }
}

/* Vectors of one panel row (the register tile's width). */
static inline int seqk_rnn_stage_nvec(seqk_rnn_stage s, int input_forget)
{
    return seqk_rnn_stage_gates(s, input_forget) * seqk_rnn_stage_vpg(s);
}

/* The ONNX gate (row block of R and XW) of panel gate slot i. */
static inline int seqk_rnn_stage_gate(seqk_rnn_stage s, int input_forget,
                                      int i)
{
    static const int lstm_if[3] = {0, 1, 3}; /* i, o, c */
    if (s == SEQK_RNN_STAGE_LSTM && input_forget)
        return lstm_if[i];
    if (s == SEQK_RNN_STAGE_GRU_H)
        return 2;
    return i;
}

/* The ONNX gate of slot i of the stage's W panel (fused input projection,
 * below).  The same as R's but for GRU lbr=1, whose x . W_h must stay
 * apart from h . R_h: its W panel is h, z, r and accumulates into acc
 * vectors 0..2, R's z, r, h into 1..3. */
static inline int seqk_rnn_stage_wgate(seqk_rnn_stage s, int input_forget,
                                       int i)
{
    static const int gru[3] = {2, 0, 1};
    if (s == SEQK_RNN_STAGE_GRU)
        return gru[i];
    return seqk_rnn_stage_gate(s, input_forget, i);
}

/* Accumulator vectors per row of the stage's register tile, and the first
 * one R's panel accumulates into. */
/* The XW slot (projected gate, rnn.h above) of slot i of the W panel. */
static inline int seqk_rnn_stage_wslot(seqk_rnn_stage s, int i)
{
    static const int gru[3] = {2, 0, 1};
    if (s == SEQK_RNN_STAGE_GRU)
        return gru[i];
    return s == SEQK_RNN_STAGE_GRU_H ? 2 : i;
}

static inline int seqk_rnn_stage_nacc(seqk_rnn_stage s, int input_forget)
{
    return s == SEQK_RNN_STAGE_GRU ? 4 : seqk_rnn_stage_nvec(s, input_forget);
}

static inline int seqk_rnn_stage_racc(seqk_rnn_stage s)
{
    return s == SEQK_RNN_STAGE_GRU ? 1 : 0;
}

/* One pass of one direction over a range of tiles, for the active rows
 * (sequences still running at this step).  Row i of the pass is batch
 * row rows[i]; state buffers are indexed by the batch row.
 *
 * Per row and tile, the kernel accumulates
 *   acc[racc + v] += in[row][k] * panel[k][v]        k < H
 * and, when the input projection is fused into the step (K > 0),
 *   acc[v] += x[row][k] * wpanel[k][v]               k < K
 * then adds xw (XW, or with a fused projection just the bias, laid out as
 * an XW row) in the gate math.  Accumulators per row: nvec + racc; GRU
 * lbr=1: hx, z, r, hr (hx = x . W_h, 0 when not fused). */
typedef struct seqk_rnn_step_args {
    seqk_rnn_stage stage;
    int input_forget;
    int64_t H, Hp;            /* hidden units; row stride of the buffers */
    const float *panel;       /* packed R of this stage and direction */
    int64_t K;                /* input size for project and for a step with
                                 the projection fused in, else 0 */
    const float *wpanel;      /* packed W of this stage and direction */
    const float *const *x;    /* [nrows] input rows (when K > 0) */
    int64_t nrows;
    const int32_t *rows;      /* [nrows] batch rows */
    int xw_gates;             /* ng: projected gates per V-tile of XW */
    const float *const *xw;   /* [nrows] XW rows of the direction (above) */
    float *const *xw_out;     /* project: [nrows] XW rows to write */
    const float *bias;        /* project: the bias, laid out as an XW row */
    float *const *y;          /* [nrows] y rows at unit 0, or NULL: no y */
    const float *in;          /* [B][Hp] GEMM input: h_{t-1}, or r.h_{t-1} */
    const float *hprev;       /* [B][Hp] h_{t-1} */
    float *hnew;              /* [B][Hp] h_t */
    float *c;                 /* [B][Hp] LSTM cell (updated in place);
                                 GRU lbr=0: z of this step */
    float *rh;                /* [B][Hp] GRU_ZR output r (.) h_{t-1} */
    const float *peep;        /* [3][Hp] LSTM peepholes i, o, f, or NULL */
    const float *rbh;         /* [Hp] GRU lbr=1: Rb of the h gate */
    seqk_activation act[3];   /* f, g, h of this direction */
    float clip;               /* > 0: clamp pre-activations */
    /* A bf16 plan (seqk_rnn_layer_problem.weights_bf16): panel and wpanel
     * again as bf16, same element offsets, each row's nv vectors in the
     * pairwise layout of core/bf16.h seqk__bf16_pack_rows, which a kernel
     * may read instead for one row (batch 1: the weights are the
     * traffic).  NULL: f32 only. */
    const uint16_t *panel16, *wpanel16;
} seqk_rnn_step_args;

typedef void (*seqk_rnn_step_fn)(const seqk_rnn_step_args *a,
                                 int64_t tile_begin, int64_t tile_end);

typedef struct seqk_rnn_kernels {
    const char *name;     /* e.g. "seqk_f32_rnn_step__avx512" */
    int vlen;             /* V: floats per vector */
    /* One pass of a step over tiles [tile_begin, tile_end). */
    seqk_rnn_step_fn step;
    /* The input projection of the stage's gates for those tiles:
     *   xw_out[i](g, u) = bias(g, u) + x[i] . W[g*H + u]      (K = I)
     * for every row i (the same register tiles as step, no gates). */
    seqk_rnn_step_fn project;
} seqk_rnn_kernels;

/* The driver projects the input a chunk of steps at a time, XW of a chunk
 * at most this many bytes (4 MiB: it stays in the caches from the
 * projection that writes it to the steps that read it).  A knob for tests
 * and the tuner; set it only while no RNN layer runs. */
extern int64_t seqk__cpu_rnn_xw_chunk_bytes;

/* How the driver splits a layer between threads: 0 its rule (rows when
 * the weights fit in L2, rnn_driver.c), 1 always by hidden units (with
 * barriers between steps), 2 always by batch rows when it has two.  A
 * knob for tests; set it only while no RNN layer runs. */
extern int seqk__cpu_rnn_split;

extern const seqk_rnn_kernels seqk__rnn_kernels__avx2;
extern const seqk_rnn_kernels seqk__rnn_kernels__avx512;
extern const seqk_rnn_kernels seqk__rnn_kernels__neon;

#endif /* SEQK_CPU_SIMD_RNN_H */
