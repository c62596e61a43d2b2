/*
 * cl_gemm.c — GEMM and MatMul on OpenCL.
 *
 * Two paths on the same queue and buffers:
 *   own      kernels/gemm.cl: seqk_f32_gemm_tiled, _direct, _rows
 *   clblast  CLBlastSgemm (when the build found CLBlast: SEQK_HAVE_CLBLAST)
 * chosen per call by SEQK_OPENCL_GEMM=own|clblast|auto (default auto).
 *
 * Tunables (src/tune/tune.h), declared below, values per call from
 * seqk__tuned() and passed to the kernel build as -D options:
 *   opencl.gemm.tiled   MWG NWG KWG MDIMC NDIMC VWM VWN KWI  shape M,N,K
 *   opencl.gemm.direct  DWM DWN DVK                          shape M,N,K
 *   opencl.gemm.rows    RWM RWN                              shape M,N,K
 *   opencl.gemm.path    PATH: 0 rule, 1 tiled, 2 direct, 3 rows,
 *                       4 CLBlast        shape M,N,K,1+trans_a,1+trans_b
 * DWM/DWN/RWM larger than the problem are shrunk to the smallest power of
 * two covering it (M = 1 computes one row, not DWM copies of it); RWN
 * to the largest candidate not above N.
 *
 * Auto: the path tunable decides once the tuner has an entry for the
 * shape and device (PATH 4: CLBlast; 1-3: that own kernel).  Until then
 * (PATH 0, the default) the rule:
 *   - CLBlast only on GPUs (CLBlast ships tuned parameters for many GPUs,
 *     none for PoCL: measured here, the own kernels are 3x+ faster on
 *     PoCL, bench/OPENCL.md) and only when M, N, K >= 256 and CLBlast
 *     can express the call;
 *   - else own, kernel by the rule below.
 * SEQK_OPENCL_GEMM=own never runs CLBlast (a tuned PATH 4 falls back to
 * the rule); =clblast runs CLBlast whenever it can express the call.
 * CLBlast computes C = alpha*AB + beta*C in place, so seqk's separate C is
 * copied into Y first (clEnqueueCopyBufferRect, C must have Y's layout:
 * c_sn == 1, c_sm == ldy); C broadcasts (a stride 0) and beta == 0 with
 * non-dense Y rows go to the own kernels.
 *
 * Own kernel rule (all three cover every transpose and size; the choice
 * is speed only):
 *   - opA and opB both contiguous along K (A * B^T, the recurrent step):
 *     seqk_f32_gemm_direct (dot products read in DVK-float vectors);
 *   - on CPU devices, opB contiguous along N and N >= 16:
 *     seqk_f32_gemm_rows (RWM rows x RWN columns per work-item);
 *   - otherwise the tiled kernel when the problem fills at least one
 *     32x32 block (M >= 32 and N >= 32) and the compiled kernel takes
 *     its work-group; else seqk_f32_gemm_direct.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_gemm.h"
#include "seqk_config.h"
#include "tune/tune.h"

#if SEQK_HAVE_CLBLAST
#include <clblast_c.h>
#endif

/* ------------------------------------------------------------ tunables */

/* seqk_f32_gemm_tiled (kernels/gemm.cl: MWG ... KWI). */
enum { T_MWG, T_NWG, T_KWG, T_MDIMC, T_NDIMC, T_VWM, T_VWN, T_KWI, T_NUM };
/* seqk_f32_gemm_direct and seqk_f32_gemm_rows. */
enum { D_DWM, D_DWN, D_DVK, D_LWM, D_LWN, D_NUM };
enum { R_RWM, R_RWN, R_LWM, R_LWN, R_NUM };
/* The path: 0 the rule below, else one kernel or CLBlast. */
enum { PATH_RULE, PATH_TILED, PATH_DIRECT, PATH_ROWS, PATH_CLBLAST };

/* Register tile caps (floats of accumulators per work-item): beyond
 * these the kernels spill on every device class. */
#define TILED_MAX_REGS 256
#define DIRECT_MAX_REGS 256
#define ROWS_MAX_REGS 256

static int64_t tiled_local_bytes(const int *v)
{
    return (int64_t)(v[T_MWG] + v[T_NWG]) * v[T_KWG] * 4;
}

static int tiled_legal(const int *v, const seqk_tune_limits *lim,
                       const int64_t *shape)
{
    (void)shape; /* the kernel guards every edge: any shape runs */
    const int64_t wg = (int64_t)v[T_MDIMC] * v[T_NDIMC];
    if (!lim->is_device)
        return 0;
    if (v[T_MWG] % (v[T_MDIMC] * v[T_VWM]) != 0 ||
        v[T_NWG] % (v[T_NDIMC] * v[T_VWN]) != 0 ||
        v[T_KWG] % v[T_KWI] != 0)
        return 0;
    if (wg > lim->max_wg || v[T_NDIMC] > lim->max_item[0] ||
        v[T_MDIMC] > lim->max_item[1])
        return 0;
    if (tiled_local_bytes(v) > lim->local_mem)
        return 0;
    return (v[T_MWG] / v[T_MDIMC]) * (v[T_NWG] / v[T_NDIMC]) <=
           TILED_MAX_REGS;
}

/* Defaults: 64x64 tiles of an 8x8 group, 8x8 per work-item, the
 * configuration CLBlast's own defaults and tuned GPU entries centre on;
 * 8 KiB of local memory and 64 work-items fit every GPU and PoCL.  Only
 * the GPU path (on PoCL the barrier-free kernels win, bench/OPENCL.md). */
const seqk_tunable seqk__cl_gemm_tiled_tunable = {
    .id = "opencl.gemm.tiled",
    .source = "gemm",
    .backend = "opencl",
    .num_shape = 3,
    .shape_names = {"M", "N", "K"},
    .num_params = T_NUM,
    .params = {
        {"MWG", 4, {16, 32, 64, 128}, 64},
        {"NWG", 4, {16, 32, 64, 128}, 64},
        {"KWG", 4, {8, 16, 32, 64}, 16},
        {"MDIMC", 4, {4, 8, 16, 32}, 8},
        {"NDIMC", 4, {4, 8, 16, 32}, 8},
        {"VWM", 4, {1, 2, 4, 8}, 1},
        {"VWN", 5, {1, 2, 4, 8, 16}, 8},
        {"KWI", 5, {1, 2, 4, 8, 16}, 4},
    },
    .legal = tiled_legal,
};

/* A work-group of lwn x lwm work-items fits the device. */
static int group_fits(int64_t lwm, int64_t lwn, const seqk_tune_limits *lim)
{
    return lwm * lwn <= lim->max_wg && lwn <= lim->max_item[0] &&
           lwm <= lim->max_item[1];
}

static int direct_legal(const int *v, const seqk_tune_limits *lim,
                        const int64_t *shape)
{
    (void)shape; /* loads are clamped, stores guarded: any shape runs */
    return lim->is_device && group_fits(v[D_LWM], v[D_LWN], lim) &&
           v[D_DWM] * v[D_DWN] * v[D_DVK] <= DIRECT_MAX_REGS;
}

/* Defaults measured on PoCL (bench/OPENCL.md): 4x4 dot products per
 * work-item over 16-float K vectors (16 AVX-512 accumulators, 8 vector
 * loads per 16 FMAs), 8x8 groups. */
const seqk_tunable seqk__cl_gemm_direct_tunable = {
    .id = "opencl.gemm.direct",
    .source = "gemm",
    .backend = "opencl",
    .num_shape = 3,
    .shape_names = {"M", "N", "K"},
    .num_params = D_NUM,
    .params = {
        {"DWM", 5, {1, 2, 4, 8, 16}, 4},
        {"DWN", 5, {1, 2, 4, 8, 16}, 4},
        {"DVK", 5, {1, 2, 4, 8, 16}, 16},
        {"LWM", 6, {1, 2, 4, 8, 16, 32}, 8},
        {"LWN", 6, {1, 2, 4, 8, 16, 32}, 8},
    },
    .legal = direct_legal,
};

static int rows_legal(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    (void)shape;
    return lim->is_device && group_fits(v[R_LWM], v[R_LWN], lim) &&
           v[R_RWM] * v[R_RWN] <= ROWS_MAX_REGS;
}

/* Defaults measured on PoCL (bench/OPENCL.md): 4 rows x 64 columns (16
 * AVX-512 accumulators, 4 row-vector loads and 4 broadcasts per 16
 * FMAs) in 16x4 groups.  The rule runs this kernel on CPU devices only. */
const seqk_tunable seqk__cl_gemm_rows_tunable = {
    .id = "opencl.gemm.rows",
    .source = "gemm",
    .backend = "opencl",
    .num_shape = 3,
    .shape_names = {"M", "N", "K"},
    .num_params = R_NUM,
    .params = {
        {"RWM", 5, {1, 2, 4, 8, 16}, 4},
        {"RWN", 5, {4, 8, 16, 32, 64}, 64},
        {"LWM", 6, {1, 2, 4, 8, 16, 32}, 16},
        {"LWN", 6, {1, 2, 4, 8, 16, 32}, 4},
    },
    .legal = rows_legal,
};

static int path_legal(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    (void)shape;
    if (!lim->is_device)
        return 0;
    if (v[0] == PATH_CLBLAST)
        return SEQK_HAVE_CLBLAST;
    if (v[0] == PATH_TILED) /* the smallest tile: 16x16x8, 4x4 group */
        return lim->max_wg >= 16 && lim->max_item[0] >= 4 &&
               lim->max_item[1] >= 4 && lim->local_mem >= (16 + 16) * 8 * 4;
    return 1;
}

/* Shape: M, N, K, 1 + trans_a, 1 + trans_b (so the transposes fall in
 * buckets 0 and 1).  Default: the rule (see the header comment). */
const seqk_tunable seqk__cl_gemm_path_tunable = {
    .id = "opencl.gemm.path",
    .source = "gemm",
    .backend = "opencl",
    .num_shape = 5,
    .shape_names = {"M", "N", "K", "TA", "TB"},
    .num_params = 1,
    .params = {
        {"PATH", 5, {PATH_RULE, PATH_TILED, PATH_DIRECT, PATH_ROWS,
                     PATH_CLBLAST}, PATH_RULE},
    },
    .legal = path_legal,
};

/* Values of t for p, legal on this device (else the defaults, which the
 * declarations keep legal on GPUs and CPUs alike). */
static void values_for(seqk_context *ctx, const seqk_tunable *t,
                       const int64_t *shape, int *v)
{
    seqk_tune_limits lim;
    seqk__tuned(ctx, t, shape, v);
    seqk__tune_limits(ctx, &lim);
    if (!seqk__tunable_legal(t, v, &lim, shape))
        seqk__tunable_defaults(t, v);
}

/* Smallest candidate >= n (capped at v): a block never exceeds the
 * problem, so M = 1 does not compute DWM copies of one row. */
static int fit_block(int v, int64_t n)
{
    int b = 1;
    while (b < v && b < n)
        b *= 2;
    return b;
}

/* Largest candidate <= n (at least 4, capped at v): narrow problems keep
 * the vector path on the columns they have instead of one block that
 * crosses N (the rows kernel's scalar path). */
static int fit_cols(int v, int64_t n)
{
    int b = v;
    while (b > 4 && b > n)
        b /= 2;
    return b;
}

seqk_cl_gemm_path seqk__cl_gemm_path_from_env(void)
{
    const char *s = getenv("SEQK_OPENCL_GEMM");
    if (s && strcmp(s, "own") == 0)
        return SEQK_CL_GEMM_OWN;
    if (s && strcmp(s, "clblast") == 0)
        return SEQK_CL_GEMM_CLBLAST;
    return SEQK_CL_GEMM_AUTO;
}

/* Element strides of opA / opB (see gemm.cl). */
typedef struct gemm_strides {
    cl_long a_sm, a_sk, b_sk, b_sn;
} gemm_strides;

static gemm_strides strides_of(const seqk_gemm_problem *p)
{
    gemm_strides s;
    s.a_sm = p->trans_a ? 1 : p->lda;
    s.a_sk = p->trans_a ? p->lda : 1;
    s.b_sk = p->trans_b ? 1 : p->ldb;
    s.b_sn = p->trans_b ? p->ldb : 1;
    return s;
}

static seqk_status device_is_gpu(seqk_context *ctx, int *gpu)
{
    cl_device_type type = 0;
    cl_int err = clGetDeviceInfo(seqk__cl_device(ctx), CL_DEVICE_TYPE,
                                 sizeof type, &type, NULL);
    *gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    return seqk__cl_check(ctx, err, "clGetDeviceInfo(CL_DEVICE_TYPE)");
}

static seqk_status set_args(seqk_context *ctx, cl_kernel k, const char *name,
                            const seqk_gemm_problem *p)
{
    const gemm_strides s = strides_of(p);
    const cl_int M = (cl_int)p->M, N = (cl_int)p->N, K = (cl_int)p->K;
    const cl_int has_c = p->C != NULL;
    const cl_long c_sm = p->c_sm, c_sn = p->c_sn, ldy = p->ldy;
    /* Without C, bind Y in its place (never read): no NULL buffer args. */
    const void *c_ptr = p->C ? (const void *)p->C : (const void *)p->Y;
    seqk_status st;
    if ((st = seqk__cl_arg(ctx, k, name, 0, sizeof M, &M)) ||
        (st = seqk__cl_arg(ctx, k, name, 1, sizeof N, &N)) ||
        (st = seqk__cl_arg(ctx, k, name, 2, sizeof K, &K)) ||
        (st = seqk__cl_arg(ctx, k, name, 3, sizeof p->alpha, &p->alpha)) ||
        (st = seqk__cl_arg(ctx, k, name, 4, sizeof p->beta, &p->beta)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 5, p->A)) ||
        (st = seqk__cl_arg(ctx, k, name, 7, sizeof s.a_sm, &s.a_sm)) ||
        (st = seqk__cl_arg(ctx, k, name, 8, sizeof s.a_sk, &s.a_sk)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 9, p->B)) ||
        (st = seqk__cl_arg(ctx, k, name, 11, sizeof s.b_sk, &s.b_sk)) ||
        (st = seqk__cl_arg(ctx, k, name, 12, sizeof s.b_sn, &s.b_sn)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 13, c_ptr)) ||
        (st = seqk__cl_arg(ctx, k, name, 15, sizeof c_sm, &c_sm)) ||
        (st = seqk__cl_arg(ctx, k, name, 16, sizeof c_sn, &c_sn)) ||
        (st = seqk__cl_arg(ctx, k, name, 17, sizeof has_c, &has_c)) ||
        (st = seqk__cl_arg_ptr(ctx, k, name, 18, p->Y)) ||
        (st = seqk__cl_arg(ctx, k, name, 20, sizeof ldy, &ldy)))
        return st;
    return SEQK_OK;
}

/* Enqueues a barrier-free kernel whose work-items own bm x bn blocks of
 * Y, in groups of lwn x lwm work-items (shrunk to the problem, and to
 * what the compiled kernel allows): a group's blocks share their rows of
 * opA and columns of opB in cache on CPU devices.  Work-items past the
 * edge return at once (the kernels have no barriers). */
static seqk_status enqueue_blocks(seqk_context *ctx, cl_kernel k,
                                  const char *name,
                                  const seqk_gemm_problem *p, int bm, int bn,
                                  int lwm, int lwn)
{
    const size_t wn = (size_t)((p->N + bn - 1) / bn);
    const size_t wm = (size_t)((p->M + bm - 1) / bm);
    size_t ln = (size_t)fit_block(lwn, (int64_t)wn);
    size_t lm = (size_t)fit_block(lwm, (int64_t)wm);
    const size_t max = seqk__cl_kernel_max_wg(ctx, k);
    while (ln * lm > max && (ln > 1 || lm > 1)) {
        if (lm >= ln)
            lm /= 2;
        else
            ln /= 2;
    }
    const size_t local[2] = {ln, lm};
    const size_t global[2] = {(wn + ln - 1) / ln * ln, (wm + lm - 1) / lm * lm};
    return seqk__cl_enqueue(ctx, k, name, 2, global, local);
}

static seqk_status run_direct(seqk_context *ctx, const seqk_gemm_problem *p)
{
    static const char name[] = "seqk_f32_gemm_direct";
    const int64_t shape[3] = {p->M, p->N, p->K};
    int v[D_NUM];
    char opts[64];
    cl_kernel k;
    seqk_status st;
    values_for(ctx, &seqk__cl_gemm_direct_tunable, shape, v);
    v[D_DWM] = fit_block(v[D_DWM], p->M);
    v[D_DWN] = fit_block(v[D_DWN], p->N);
    snprintf(opts, sizeof opts, "-D DWM=%d -D DWN=%d -D DVK=%d", v[D_DWM],
             v[D_DWN], v[D_DVK]);
    if ((st = seqk__cl_kernel(ctx, "gemm", opts, name, &k)) ||
        (st = set_args(ctx, k, name, p)))
        return st;
    return enqueue_blocks(ctx, k, name, p, v[D_DWM], v[D_DWN], v[D_LWM],
                          v[D_LWN]);
}

static seqk_status run_rows(seqk_context *ctx, const seqk_gemm_problem *p)
{
    static const char name[] = "seqk_f32_gemm_rows";
    const int64_t shape[3] = {p->M, p->N, p->K};
    int v[R_NUM];
    char opts[64];
    cl_kernel k;
    seqk_status st;
    values_for(ctx, &seqk__cl_gemm_rows_tunable, shape, v);
    v[R_RWM] = fit_block(v[R_RWM], p->M);
    v[R_RWN] = fit_cols(v[R_RWN], p->N);
    snprintf(opts, sizeof opts, "-D RWM=%d -D RWN=%d", v[R_RWM], v[R_RWN]);
    if ((st = seqk__cl_kernel(ctx, "gemm", opts, name, &k)) ||
        (st = set_args(ctx, k, name, p)))
        return st;
    return enqueue_blocks(ctx, k, name, p, v[R_RWM], v[R_RWN], v[R_LWM],
                          v[R_LWN]);
}

/* Runs the tiled kernel if the device can; *ran = 0 when the compiled
 * kernel allows fewer work-items than the group (registers), so the
 * caller uses the direct one.  legal() has checked the device limits. */
static seqk_status run_tiled(seqk_context *ctx, const seqk_gemm_problem *p,
                             int *ran)
{
    static const char name[] = "seqk_f32_gemm_tiled";
    const int64_t shape[3] = {p->M, p->N, p->K};
    int v[T_NUM];
    char opts[160];
    cl_kernel k;
    seqk_status st;
    *ran = 0;
    values_for(ctx, &seqk__cl_gemm_tiled_tunable, shape, v);
    snprintf(opts, sizeof opts,
             "-D MWG=%d -D NWG=%d -D KWG=%d -D MDIMC=%d -D NDIMC=%d "
             "-D VWM=%d -D VWN=%d -D KWI=%d", v[T_MWG], v[T_NWG], v[T_KWG],
             v[T_MDIMC], v[T_NDIMC], v[T_VWM], v[T_VWN], v[T_KWI]);
    if ((st = seqk__cl_kernel(ctx, "gemm", opts, name, &k)))
        return st;
    const size_t mdimc = (size_t)v[T_MDIMC], ndimc = (size_t)v[T_NDIMC];
    if (seqk__cl_kernel_max_wg(ctx, k) < mdimc * ndimc ||
        seqk__cl_local_mem(ctx) < (size_t)tiled_local_bytes(v))
        return SEQK_OK;
    if ((st = set_args(ctx, k, name, p)))
        return st;
    const size_t local[2] = {ndimc, mdimc};
    const size_t global[2] = {
        (size_t)((p->N + v[T_NWG] - 1) / v[T_NWG]) * ndimc,
        (size_t)((p->M + v[T_MWG] - 1) / v[T_MWG]) * mdimc};
    *ran = 1;
    return seqk__cl_enqueue(ctx, k, name, 2, global, local);
}

/* The own kernel the rule picks (header comment). */
static seqk_status own_rule(seqk_context *ctx, const seqk_gemm_problem *p,
                            int *path)
{
    const gemm_strides s = strides_of(p);
    int gpu;
    seqk_status st;
    *path = PATH_DIRECT;
    if (s.a_sk == 1 && s.b_sk == 1)
        return SEQK_OK;
    if ((st = device_is_gpu(ctx, &gpu)))
        return st;
    if (!gpu && s.b_sn == 1 && p->N >= 16)
        *path = PATH_ROWS;
    else if (p->M >= 32 && p->N >= 32)
        *path = PATH_TILED;
    return SEQK_OK;
}

static seqk_status run_own(seqk_context *ctx, const seqk_gemm_problem *p,
                           int path)
{
    seqk_status st;
    int ran = 0;
    if (path != PATH_TILED && path != PATH_DIRECT && path != PATH_ROWS &&
        (st = own_rule(ctx, p, &path)))
        return st;
    if (path == PATH_ROWS)
        return run_rows(ctx, p);
    if (path == PATH_TILED && ((st = run_tiled(ctx, p, &ran)) || ran))
        return st;
    return run_direct(ctx, p);
}

#if SEQK_HAVE_CLBLAST
/* 1 when CLBlast can compute p on Y in place (see the header comment). */
static int clblast_can(const seqk_gemm_problem *p)
{
    const int reads_c = p->C && p->beta != 0.0f;
    if (p->K == 0)
        return 0;
    if (reads_c)
        return p->c_sn == 1 && p->c_sm == p->ldy;
    return 1;
}

static seqk_status run_clblast(seqk_context *ctx, const seqk_gemm_problem *p)
{
    cl_mem a, b, y, c;
    size_t a_off, b_off, y_off, c_off;
    seqk_status st;
    float beta = 0.0f;
    if ((st = seqk__cl_translate(ctx, p->A, sizeof(float), &a, &a_off)) ||
        (st = seqk__cl_translate(ctx, p->B, sizeof(float), &b, &b_off)) ||
        (st = seqk__cl_translate(ctx, p->Y, sizeof(float), &y, &y_off)))
        return st;
    if (p->C && p->beta != 0.0f) {
        /* Y = C first, row by row as one rectangle (same layout). */
        if ((st = seqk__cl_translate(ctx, p->C, sizeof(float), &c, &c_off)))
            return st;
        const size_t src_origin[3] = {c_off * sizeof(float), 0, 0};
        const size_t dst_origin[3] = {y_off * sizeof(float), 0, 0};
        const size_t region[3] = {(size_t)p->N * sizeof(float),
                                  (size_t)p->M, 1};
        const size_t pitch = (size_t)p->ldy * sizeof(float);
        cl_int err = clEnqueueCopyBufferRect(
            seqk__cl_queue(ctx), c, y, src_origin, dst_origin, region, pitch,
            0, pitch, 0, 0, NULL, NULL);
        if ((st = seqk__cl_check(ctx, err, "clEnqueueCopyBufferRect(gemm C)")))
            return st;
        beta = p->beta;
    } else {
        /* CLBlast reads C even for beta == 0 (NaN * 0): zero Y's rows. */
        const float zero = 0.0f;
        for (int64_t m = 0; m < p->M; m++) {
            const size_t row = (p->ldy == p->N) ? (size_t)(p->M * p->N)
                                                : (size_t)p->N;
            cl_int err = clEnqueueFillBuffer(
                seqk__cl_queue(ctx), y, &zero, sizeof zero,
                (y_off + (size_t)(m * p->ldy)) * sizeof(float),
                row * sizeof(float), 0, NULL, NULL);
            if ((st = seqk__cl_check(ctx, err, "clEnqueueFillBuffer(gemm Y)")))
                return st;
            if (p->ldy == p->N)
                break;
        }
    }
    cl_command_queue q = seqk__cl_queue(ctx);
    CLBlastStatusCode cs = CLBlastSgemm(
        CLBlastLayoutRowMajor,
        p->trans_a ? CLBlastTransposeYes : CLBlastTransposeNo,
        p->trans_b ? CLBlastTransposeYes : CLBlastTransposeNo,
        (size_t)p->M, (size_t)p->N, (size_t)p->K, p->alpha, a, a_off,
        (size_t)p->lda, b, b_off, (size_t)p->ldb, beta, y, y_off,
        (size_t)p->ldy, &q, NULL);
    if (cs != CLBlastSuccess)
        return seqk__error(ctx, cs == CLBlastOpenCLOutOfResources ||
                                        cs == CLBlastInsufficientMemoryTemp
                                    ? SEQK_ERR_OUT_OF_MEMORY
                                    : SEQK_ERR_DEVICE,
                           "CLBlastSgemm (M=%lld N=%lld K=%lld): CLBlast "
                           "status %d", (long long)p->M, (long long)p->N,
                           (long long)p->K, (int)cs);
    return SEQK_OK;
}
#endif

seqk_status seqk__cl_gemm_with(seqk_context *ctx, const seqk_gemm_problem *p,
                              seqk_cl_gemm_path path)
{
    if (p->M == 0 || p->N == 0)
        return SEQK_OK;
    if (p->M > INT_MAX || p->N > INT_MAX || p->K > INT_MAX)
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "OpenCL GEMM: M, N, K must be below 2^31 (got "
                           "%lld, %lld, %lld)", (long long)p->M,
                           (long long)p->N, (long long)p->K);
    /* The tuned path (a kernel or CLBlast) decides under auto; own and
     * clblast asked explicitly stay as asked. */
    const int64_t shape[5] = {p->M, p->N, p->K, 1 + (p->trans_a != 0),
                              1 + (p->trans_b != 0)};
    int tuned;
    values_for(ctx, &seqk__cl_gemm_path_tunable, shape, &tuned);
    if (path == SEQK_CL_GEMM_OWN && tuned == PATH_CLBLAST)
        tuned = PATH_RULE;
#if SEQK_HAVE_CLBLAST
    if (path == SEQK_CL_GEMM_AUTO && tuned == PATH_CLBLAST)
        path = SEQK_CL_GEMM_CLBLAST;
    if (path == SEQK_CL_GEMM_AUTO && tuned == PATH_RULE && clblast_can(p) &&
        p->M >= 256 && p->N >= 256 && p->K >= 256) {
        int gpu;
        seqk_status st = device_is_gpu(ctx, &gpu);
        if (st)
            return st;
        if (gpu)
            path = SEQK_CL_GEMM_CLBLAST;
    }
    if (path == SEQK_CL_GEMM_CLBLAST && clblast_can(p))
        return run_clblast(ctx, p);
#else
    (void)path; /* built without CLBlast: always the own kernels */
#endif
    return run_own(ctx, p, tuned);
}

seqk_status seqk__cl_gemm(seqk_context *ctx, const seqk_gemm_problem *p)
{
    return seqk__cl_gemm_with(ctx, p, seqk__cl_gemm_path_from_env());
}

seqk_status seqk__cl_matmul(seqk_context *ctx, const seqk_matmul_problem *p)
{
    int64_t total = 1;
    for (int d = 0; d < p->nbatch; d++)
        total *= p->batch_dims[d];
    const seqk_cl_gemm_path path = seqk__cl_gemm_path_from_env();
    for (int64_t bi = 0; bi < total; bi++) {
        /* Row-major walk over the batch dims: last dim fastest. */
        int64_t rest = bi, a_off = 0, b_off = 0;
        for (int d = p->nbatch - 1; d >= 0; d--) {
            const int64_t idx = rest % p->batch_dims[d];
            rest /= p->batch_dims[d];
            a_off += idx * p->a_bstride[d];
            b_off += idx * p->b_bstride[d];
        }
        seqk_gemm_problem g = {
            .M = p->M, .N = p->N, .K = p->K, .trans_a = 0, .trans_b = 0,
            .alpha = 1.0f, .beta = 0.0f,
            .A = p->A + a_off, .lda = p->K,
            .B = p->B + b_off, .ldb = p->N,
            .C = NULL, .c_sm = 0, .c_sn = 0,
            .Y = p->Y + bi * p->M * p->N, .ldy = p->N};
        seqk_status st = seqk__cl_gemm_with(ctx, &g, path);
        if (st)
            return st;
    }
    return SEQK_OK;
}
