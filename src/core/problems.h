/*
 * problems.h — validated, backend-neutral descriptions of one op call.
 *
 * The front end (src/core/op_*.c) checks the user's tensors, resolves ONNX
 * broadcasting and layouts into strides, and hands a backend one of these.
 * Backends never re-validate shapes; they may refuse a problem through
 * their supports() hook (see backend.h).  All pointers are host pointers
 * for host backends (ref, cpu_simd).  All strides are in elements.
 */
#ifndef SEQK_CORE_PROBLEMS_H
#define SEQK_CORE_PROBLEMS_H

#include <stdint.h>

#include "seqk.h"

typedef enum seqk_op {
    SEQK_OP_GEMM = 0,
    SEQK_OP_MATMUL,
    SEQK_OP_SOFTMAX,
    SEQK_OP_RNN_LAYER,
    SEQK_OP_ATTENTION,
    SEQK_OP_SEQ_ATTENTION,
    SEQK_OP_GATHER,
    SEQK_OP_ARGMAX,
    SEQK_OP_TOPK,
    SEQK_OP_ELEMENTWISE,
    SEQK_OP_CONCAT,
    SEQK_OP_WHERE,
    SEQK_OP_CAST,
    SEQK_OP_LAYOUT,
    SEQK_OP_REDUCE,
    SEQK_OP_LAYER_NORM,
    SEQK_OP_CONV1D,
    SEQK_OP_RNN_LAYER_TRAIN,    /* training forward of a layer (op_rnn_train.c) */
    SEQK_OP_RNN_LAYER_BACKWARD, /* its backward */
    SEQK_OP_COUNT_
} seqk_op;

const char *seqk__op_name(seqk_op op);

/* Y[m,n] = alpha * sum_k opA[m,k] * opB[k,n] + beta * C[m*c_sm + n*c_sn]
 *   opA[m,k] = trans_a ? A[k*lda + m] : A[m*lda + k]
 *   opB[k,n] = trans_b ? B[n*ldb + k] : B[k*ldb + n]
 * C may be NULL (then beta is ignored); its strides may be 0 (broadcast).
 * Y is [M,N] with row stride ldy.  Y never aliases A, B or C.
 * b_cache (a linear plan's, NULL otherwise): B, N, K, trans_b and ldb are
 * the same on every call with this slot, so a backend may pack op(B) once
 * and keep it there (see seqk_backend_cache below). */
typedef struct seqk_gemm_problem {
    int64_t M, N, K;
    int trans_a, trans_b;
    float alpha, beta;
    const float *A; int64_t lda;
    const float *B; int64_t ldb;
    const float *C; int64_t c_sm, c_sn;
    float *Y; int64_t ldy;
    struct seqk_backend_cache *b_cache;
    /* B's values are bf16 already (a bf16 linear plan, core/bf16.h): a
     * backend may keep its packed copy (b_cache) as bf16, same results */
    int b_bf16;
} seqk_gemm_problem;

/* Batched matmul after numpy broadcasting: for every batch index (a
 * row-major walk over batch_dims), Y_b = A_b * B_b with A_b [M,K] row-major
 * (row stride K), B_b [K,N] (row stride N), Y_b [M,N] (row stride N).
 * a_bstride/b_bstride are element strides per batch dim (0: broadcast);
 * Y batches are dense. */
#define SEQK_MATMUL_MAX_BATCH_DIMS (SEQK_MAX_DIMS - 2)
typedef struct seqk_matmul_problem {
    int64_t M, N, K;
    int nbatch;
    int64_t batch_dims[SEQK_MATMUL_MAX_BATCH_DIMS];
    int64_t a_bstride[SEQK_MATMUL_MAX_BATCH_DIMS];
    int64_t b_bstride[SEQK_MATMUL_MAX_BATCH_DIMS];
    const float *A, *B;
    float *Y;
} seqk_matmul_problem;

/* X and Y viewed as [outer, n, inner]; softmax over n.  log: LogSoftmax
 * (x - max - log(sum exp(x - max))). */
typedef struct seqk_softmax_problem {
    int64_t outer, n, inner;
    const float *X;
    float *Y;
    int log;
} seqk_softmax_problem;

/* A slot a plan keeps per layer where a backend may store weights it has
 * prepacked (e.g. R in its GEMM panel layout), so that packing happens
 * once per plan, not once per call.  A backend uses the slot only when
 * owner == itself; otherwise it frees the old data (free_fn) and stores its
 * own.  The plan frees it when the weights change or the plan goes. */
typedef struct seqk_backend_cache {
    const void *owner; /* the seqk_backend that packed data */
    void *data;
    void (*free_fn)(void *data);
} seqk_backend_cache;

/* One RNN layer, all directions, ONNX semantics.  G = gates (1, 3, 4).
 *   x[t*x_st + b*x_sb + i], i < I (features contiguous)
 *   W [D,G*H,I], R [D,G*H,H], bias [D,2*G*H] or NULL, P [D,3*H] or NULL
 *   seq_lens [B] or NULL (all T); values already checked 0..T
 *   h0/c0 [d*h0_sd + b*h0_sb + h] or NULL (zeros); c0 uses the same strides
 *   y  [t*y_st + d*y_sd + b*y_sb + h] or NULL
 *   yh/yc [d*yh_sd + b*yh_sb + h] or NULL; yc uses yh's strides
 * act[d*3 + k]: activation k (f, g, h) of direction d, already expanded
 * to both directions.  Output rules: y is zero for t >= seq_lens[b]; yh/yc
 * are the states after the last valid step of each sequence (initial
 * state, or zero, for length 0).  The reverse direction walks t = len-1..0
 * of each sequence. */
typedef struct seqk_rnn_layer_problem {
    seqk_cell cell;
    int num_dirs;          /* 1 or 2 */
    int reverse;           /* num_dirs == 1 and direction is reverse */
    int64_t T, B, I, H;
    const float *x; int64_t x_st, x_sb;
    const float *W, *R, *bias, *P;
    const int32_t *seq_lens;
    const float *h0, *c0; int64_t h0_sd, h0_sb;
    float *y; int64_t y_st, y_sd, y_sb;
    float *yh, *yc; int64_t yh_sd, yh_sb;
    seqk_activation act[6];
    float clip;            /* 0: none */
    int input_forget;
    int linear_before_reset;
    seqk_backend_cache *cache; /* per plan and layer; may be NULL */
    /* W and R hold bf16 values (a bf16 plan, core/bf16.h): a backend may
     * keep packed copies as bf16, same results */
    int weights_bf16;
} seqk_rnn_layer_problem;

/* Training (op_rnn_train.c).  The training forward is the forward problem
 * plus ws, this layer's part of the workspace: seqk__rnn_ws_layer_floats
 * floats, laid out as src/ref/rnn_backward.c says (every pre-activation
 * and state: the one layout so far; a backend that recomputes would keep
 * less). */
static inline int seqk__rnn_ws_layer_floats(seqk_cell cell, int num_dirs,
                                           int64_t T, int64_t B, int64_t H,
                                           int64_t *floats)
{
    /* per (direction, sequence): T records of G*H pre-activations (+ H for
     * GRU), T+1 states h (and c for LSTM) */
    const int64_t G = cell == SEQK_CELL_LSTM ? 4 : cell == SEQK_CELL_GRU ? 3 : 1;
    const int64_t rec = (G + (cell == SEQK_CELL_GRU)) * H;
    const int64_t states = (cell == SEQK_CELL_LSTM ? 2 : 1) * H;
    const int64_t lim = INT64_MAX / 16;
    if (T < 0 || B < 0 || H < 1 || H > lim / 8 || T >= lim / (rec + states))
        return 1;
    const int64_t per = T * rec + (T + 1) * states;
    if (B > 0 && per > lim / B / num_dirs)
        return 1;
    *floats = per * B * num_dirs;
    return 0;
}
typedef struct seqk_rnn_train_problem {
    seqk_rnn_layer_problem fwd;
    float *ws;
} seqk_rnn_train_problem;

/* The backward of one layer.  fwd describes the forward that filled ws
 * (x is the layer's input; y, yh, yc and h0, c0 are unused: the states
 * are in ws).  Gradients (NULL = zero / not wanted):
 *   dy   [t*dy_st + d*dy_sd + b*dy_sb + h]   (like y)
 *   dyh, dyc  [d*dyh_sd + b*dyh_sb + h]       (like yh)
 *   dx   [t*dx_st + b*dx_sb + i]             overwritten
 *   dh0, dc0  [d*dh0_sd + b*dh0_sb + h]       overwritten
 *   dW, dR, dB, dP: the layer's weight gradients in the plan's ONNX
 *   layout (never NULL), added to. */
typedef struct seqk_rnn_backward_problem {
    seqk_rnn_layer_problem fwd;
    const float *ws;
    const float *dy; int64_t dy_st, dy_sd, dy_sb;
    const float *dyh, *dyc; int64_t dyh_sd, dyh_sb;
    float *dx; int64_t dx_st, dx_sb;
    float *dh0, *dc0; int64_t dh0_sd, dh0_sb;
    float *dW, *dR, *dB, *dP;
} seqk_rnn_backward_problem;

typedef enum seqk_mask_kind {
    SEQK_MASK_NONE = 0,
    SEQK_MASK_BOOL, /* uint8_t: nonzero = attend */
    SEQK_MASK_ADD   /* float added to the score */
} seqk_mask_kind;

/* Attention-23 after layout resolution.  Head hq reads kv head
 * hq / (Hq/Hkv).  Element addressing (head dim contiguous):
 *   q[b*q_sb + h*q_sh + s*q_ss + d]       d < Dh
 *   k[b*k_sb + h*k_sh + s*k_ss + d]       d < Dh
 *   v[b*v_sb + h*v_sh + s*v_ss + d]       d < Dv
 *   y[b*y_sb + h*y_sh + s*y_ss + d]       d < Dv
 *   mask[b*m_sb + h*m_sh + i*m_sq + j*m_sk] for j < mask_kv_len; keys
 *        j >= mask_kv_len are masked out (ONNX pads the mask)
 * score(i,j) = softcap? softcap*tanh(scale*q.k/softcap) : scale*q.k,
 * then + additive mask / boolean exclusion / causal exclusion, softmax
 * over j, rows with no attendable key give 0. */
typedef struct seqk_attention_problem {
    int64_t B, Hq, Hkv, Sq, Skv, Dh, Dv;
    float scale, softcap;
    int is_causal;
    seqk_causal_align causal_align;
    const float *q; int64_t q_sb, q_sh, q_ss;
    const float *k; int64_t k_sb, k_sh, k_ss;
    const float *v; int64_t v_sb, v_sh, v_ss;
    float *y; int64_t y_sb, y_sh, y_ss;
    seqk_mask_kind mask_kind;
    const void *mask; int64_t m_sb, m_sh, m_sq, m_sk, mask_kv_len;
} seqk_attention_problem;

/* SeqAttention, dense row-major tensors as documented in seqk.h.
 * values == keys when the user gave none.  key_lens checked 0..S.
 * weights may be NULL (the backend then uses its own scratch). */
typedef struct seqk_seq_attention_problem {
    seqk_score_kind score;
    int64_t B, S, Dq, Dk, Dv, A;
    const float *query, *keys, *values;
    const int32_t *key_lens;
    const float *W, *W1, *W2, *v, *Wloc;
    float *context, *weights;
    /* Set by a keys plan (seqk_seq_attention_keys), NULL otherwise:
     * wk, additive only, = keys W2^T [B*S,A] already computed (W2 is then
     * NULL); cache, a slot where a backend may keep its packed query-side
     * weights (W1, Wloc) across calls, which never change for the slot. */
    const float *wk;
    seqk_backend_cache *cache;
} seqk_seq_attention_problem;

/* ---- tensor ops (op_tensor.c, op_elementwise.c) ----
 * The data-movement ops work on elements of elem_size bytes (1, 4 or 8),
 * whatever their dtype. */

/* Gather: data viewed as [outer, n, inner], ids [nidx] (i32, or i64 when
 * idx64), out [outer, nidx, inner]:
 *   out[(o*nidx + j)*inner + c] = data[(o*n + id(j))*inner + c]
 * id(j) = ids[j], + n when negative.  On host contexts the front end has
 * checked every id against [-n, n-1]; a device backend checks them itself
 * (never reading out of bounds) and reports the first bad one with
 * idx_ndim/idx_dims (the indices' shape) for the message. */
typedef struct seqk_gather_problem {
    int64_t outer, n, inner, nidx;
    size_t elem_size;
    int64_t axis;
    const void *data;
    const void *ids; int idx64;
    int idx_ndim; int64_t idx_dims[SEQK_MAX_DIMS];
    void *out;
} seqk_gather_problem;

/* ArgMax: X [outer, n, inner] (n >= 1), Y [outer, inner] i64:
 * the first (last when select_last) index of the maximum over n; NaN is
 * larger than every number. */
typedef struct seqk_argmax_problem {
    int64_t outer, n, inner;
    int select_last;
    const float *X;
    int64_t *Y;
} seqk_argmax_problem;

/* TopK: X [outer, n, inner], values/indices [outer, k, inner]: the k
 * best along n in order; "better" is larger (smaller when !largest),
 * NaN beyond every number on the larger side, ties to the lower index. */
typedef struct seqk_topk_problem {
    int64_t outer, n, inner, k;
    int largest;
    const float *X;
    float *values;
    int64_t *indices;
} seqk_topk_problem;

/* Element-wise over Y's shape dims[0..ndim) (row-major, ndim >= 1, no
 * dimension of 1 left and adjacent dimensions merged where every operand
 * allows, so dims[ndim-1] is the longest contiguous run):
 *   Y[y] = op(A[sum_d i_d*a_str[d]], B[sum_d i_d*b_str[d]])
 * Strides are in elements, 0 where the operand broadcasts; B is NULL for
 * unary ops.  Y is dense; it may be A or B itself (same pointer, same
 * dense layout), never partly overlap them. */
typedef struct seqk_elementwise_problem {
    seqk_elementwise_op op;
    float alpha, beta;
    /* A's (and B's) dtype and Y's: f32 and f32 except for the comparisons
     * (f32, i32, i64 or bool in, bool out) and logic (bool, bool). */
    seqk_dtype in_dtype, out_dtype;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    int64_t a_str[SEQK_MAX_DIMS], b_str[SEQK_MAX_DIMS];
    const void *A, *B;
    void *Y;
    int64_t numel;
} seqk_elementwise_problem;

/* Concat: output viewed as [outer, row] elements; input i is [outer,
 * cols[i]] and fills columns off[i] .. off[i] + cols[i] of every row. */
typedef struct seqk_concat_problem {
    int64_t outer, row;
    size_t elem_size;
    int n;
    const void *const *src;
    const int64_t *cols, *off;
    void *out;
} seqk_concat_problem;

/* ---- ONNX ops (op_elementwise.c, op_layout.c, op_reduce.c, op_conv.c) */

/* Where over out's merged dims, as the element-wise problem with three
 * operands: out[o] = cond[c] ? X[x] : Y[y], elements of elem_size bytes
 * (cond bool, one byte). */
typedef struct seqk_where_problem {
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    int64_t c_str[SEQK_MAX_DIMS], x_str[SEQK_MAX_DIMS],
        y_str[SEQK_MAX_DIMS];
    size_t elem_size;
    const uint8_t *cond;
    const void *X, *Y;
    void *out;
    int64_t numel;
} seqk_where_problem;

/* Cast of numel dense elements, rules in seqk.h (seqk_cast). */
typedef struct seqk_cast_problem {
    seqk_dtype from, to;
    int64_t numel;
    const void *X;
    void *Y;
} seqk_cast_problem;

/* Every layout op (Transpose, Slice, Split, Expand, Tile, Pad) as one
 * index map.  Y is dense over dims[0..ndim) (ndim >= 1); for each output
 * index i_d along dim d the source index is
 *   j_d = start[d] + i_d*step[d]
 *   TILE:  j_d mod src_dims[d]
 *   PAD_*: j_d outside [0, src_dims[d]): CONSTANT writes pad (the value's
 *          elem_size bytes, little-endian in the low bytes of pad_bits),
 *          REFLECT mirrors (period 2*(src_dims[d]-1); src_dims 1 gives 0),
 *          EDGE clamps
 * and Y[i] = X[sum_d j_d * src_str[d]] (elements; src_str may be any
 * permutation of X's strides, 0 for a broadcast dim).  COPY and TILE
 * never leave the source range. */
typedef enum seqk_layout_mode {
    SEQK_LAYOUT_COPY = 0,
    SEQK_LAYOUT_TILE,
    SEQK_LAYOUT_PAD_CONSTANT,
    SEQK_LAYOUT_PAD_REFLECT,
    SEQK_LAYOUT_PAD_EDGE
} seqk_layout_mode;
typedef struct seqk_layout_problem {
    seqk_layout_mode mode;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    int64_t src_dims[SEQK_MAX_DIMS], src_str[SEQK_MAX_DIMS];
    int64_t start[SEQK_MAX_DIMS], step[SEQK_MAX_DIMS];
    size_t elem_size;
    uint64_t pad_bits;
    const void *X;
    void *Y;
    int64_t numel;
} seqk_layout_problem;

/* Reduce (f32) over X's merged dims dims[0..ndim) (no dim of 1, adjacent
 * dims of the same kind merged, ndim >= 1): reduce[d] 1 for a reduced
 * dim.  Y is dense over the kept dims in X's order (out_numel entries);
 * count = the product of the reduced dims (>= 1 after merging unless a
 * reduced dim is 0: then count 0 and dims hold that 0).  Each output
 * accumulates its inputs in one fixed order. */
typedef struct seqk_reduce_problem {
    seqk_reduce_op op;
    int ndim;
    int64_t dims[SEQK_MAX_DIMS];
    int reduce[SEQK_MAX_DIMS];
    int64_t out_numel, count;
    const float *X;
    float *Y;
} seqk_reduce_problem;

/* LayerNorm over rows of n: X, Y [rows, n]; scale [n], bias [n] or NULL;
 * mean, inv_std [rows] or NULL.  Variance is the biased mean of squares
 * of (x - mean). */
typedef struct seqk_layer_norm_problem {
    int64_t rows, n;
    float epsilon;
    const float *X, *scale, *bias;
    float *Y, *mean, *inv_std;
} seqk_layer_norm_problem;

/* Conv1d: X [N,C,L] (x_nlc: [N,L,C]), W [M,C/group,K], B [M] or NULL,
 * Y [N,M,Lout] (y_nlc: [N,Lout,M]):
 *   Y[n,m,t] = B[m] + sum_{c<C/group, k<K} W[m,c,k] *
 *              X[n, g*C/group + c, t*stride + k*dilation - pad_begin]
 * with g = m / (M/group) and X zero outside [0, L). */
typedef struct seqk_conv1d_problem {
    int64_t N, C, L, M, K, Lout;
    int64_t stride, dilation, pad_begin, group;
    int x_nlc, y_nlc;
    const float *X, *W, *B;
    float *Y;
} seqk_conv1d_problem;

#endif /* SEQK_CORE_PROBLEMS_H */
