/*
 * cl_gemm.c — GEMM and MatMul on OpenCL.
 *
 * Two paths on the same queue and buffers:
 *   own      kernels/gemm.cl (built-in default parameters)
 *   clblast  CLBlastSgemm (when the build found CLBlast: SEQK_HAVE_CLBLAST)
 * chosen per call by SEQK_OPENCL_GEMM=own|clblast|auto (default auto).
 *
 * Rule for auto, until the tuner measures per shape and device:
 *   - CLBlast only on GPUs (CLBlast ships tuned parameters for many GPUs,
 *     none for PoCL: measured here, the own kernels are 3x+ faster on
 *     PoCL) and only when M, N, K >= 256 and CLBlast can express the call;
 *   - else own.
 * CLBlast computes C = alpha*AB + beta*C in place, so seqk's separate C is
 * copied into Y first (clEnqueueCopyBufferRect, C must have Y's layout:
 * c_sn == 1, c_sm == ldy); C broadcasts (a stride 0) and beta == 0 with
 * non-dense Y rows go to the own kernels.
 *
 * Own kernel choice (all three cover every transpose and size; the choice
 * is speed only):
 *   - opA and opB both contiguous along K (A * B^T, the recurrent step):
 *     seqk_f32_gemm_direct (dot products read in float8 along K);
 *   - on CPU devices, opB contiguous along N and N >= 16:
 *     seqk_f32_gemm_rows (RWM rows x 16 columns per work-item);
 *   - on any device, the tiled kernel when its work-group (NDIMC x MDIMC)
 *     fits the kernel's limit and its tiles fit local memory, and the
 *     problem fills at least one tile (M >= 32 and N >= 32); otherwise
 *     seqk_f32_gemm_direct.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "cl_gemm.h"
#include "seqk_config.h"

#if SEQK_HAVE_CLBLAST
#include <clblast_c.h>
#endif

/* Must match the defaults in kernels/gemm.cl (the host adds no -D). */
enum { TILE_MWG = 64, TILE_NWG = 64, TILE_KWG = 16, TILE_MDIMC = 8,
       TILE_NDIMC = 8, DIRECT_DWM = 8, DIRECT_DWN = 1, ROWS_RWM = 8,
       ROWS_RWN = 16 };

seqk_cl_gemm_path seqk_cl_gemm_path_from_env(void)
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
    cl_int err = clGetDeviceInfo(seqk_cl_device(ctx), CL_DEVICE_TYPE,
                                 sizeof type, &type, NULL);
    *gpu = (type & CL_DEVICE_TYPE_GPU) != 0;
    return seqk_cl_check(ctx, err, "clGetDeviceInfo(CL_DEVICE_TYPE)");
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
    if ((st = seqk_cl_arg(ctx, k, name, 0, sizeof M, &M)) ||
        (st = seqk_cl_arg(ctx, k, name, 1, sizeof N, &N)) ||
        (st = seqk_cl_arg(ctx, k, name, 2, sizeof K, &K)) ||
        (st = seqk_cl_arg(ctx, k, name, 3, sizeof p->alpha, &p->alpha)) ||
        (st = seqk_cl_arg(ctx, k, name, 4, sizeof p->beta, &p->beta)) ||
        (st = seqk_cl_arg_ptr(ctx, k, name, 5, p->A)) ||
        (st = seqk_cl_arg(ctx, k, name, 7, sizeof s.a_sm, &s.a_sm)) ||
        (st = seqk_cl_arg(ctx, k, name, 8, sizeof s.a_sk, &s.a_sk)) ||
        (st = seqk_cl_arg_ptr(ctx, k, name, 9, p->B)) ||
        (st = seqk_cl_arg(ctx, k, name, 11, sizeof s.b_sk, &s.b_sk)) ||
        (st = seqk_cl_arg(ctx, k, name, 12, sizeof s.b_sn, &s.b_sn)) ||
        (st = seqk_cl_arg_ptr(ctx, k, name, 13, c_ptr)) ||
        (st = seqk_cl_arg(ctx, k, name, 15, sizeof c_sm, &c_sm)) ||
        (st = seqk_cl_arg(ctx, k, name, 16, sizeof c_sn, &c_sn)) ||
        (st = seqk_cl_arg(ctx, k, name, 17, sizeof has_c, &has_c)) ||
        (st = seqk_cl_arg_ptr(ctx, k, name, 18, p->Y)) ||
        (st = seqk_cl_arg(ctx, k, name, 20, sizeof ldy, &ldy)))
        return st;
    return SEQK_OK;
}

static seqk_status run_direct(seqk_context *ctx, const seqk_gemm_problem *p)
{
    static const char name[] = "seqk_f32_gemm_direct";
    cl_kernel k;
    seqk_status st;
    if ((st = seqk_cl_kernel(ctx, "gemm", NULL, name, &k)) ||
        (st = set_args(ctx, k, name, p)))
        return st;
    const size_t global[2] = {
        (size_t)((p->N + DIRECT_DWN - 1) / DIRECT_DWN),
        (size_t)((p->M + DIRECT_DWM - 1) / DIRECT_DWM)};
    return seqk_cl_enqueue(ctx, k, name, 2, global, NULL);
}

static seqk_status run_rows(seqk_context *ctx, const seqk_gemm_problem *p)
{
    static const char name[] = "seqk_f32_gemm_rows";
    cl_kernel k;
    seqk_status st;
    if ((st = seqk_cl_kernel(ctx, "gemm", NULL, name, &k)) ||
        (st = set_args(ctx, k, name, p)))
        return st;
    const size_t global[2] = {
        (size_t)((p->N + ROWS_RWN - 1) / ROWS_RWN),
        (size_t)((p->M + ROWS_RWM - 1) / ROWS_RWM)};
    return seqk_cl_enqueue(ctx, k, name, 2, global, NULL);
}

/* Runs the tiled kernel if the device can; *ran = 0 when it cannot (work
 * group or local memory too large), so the caller uses the direct one. */
static seqk_status run_tiled(seqk_context *ctx, const seqk_gemm_problem *p,
                             int *ran)
{
    static const char name[] = "seqk_f32_gemm_tiled";
    cl_kernel k;
    seqk_status st;
    *ran = 0;
    if ((st = seqk_cl_kernel(ctx, "gemm", NULL, name, &k)))
        return st;
    const size_t lmem = (size_t)(TILE_MWG + TILE_NWG) * TILE_KWG *
                        sizeof(float);
    if (seqk_cl_kernel_max_wg(ctx, k) < (size_t)TILE_MDIMC * TILE_NDIMC ||
        seqk_cl_local_mem(ctx) < lmem)
        return SEQK_OK;
    if ((st = set_args(ctx, k, name, p)))
        return st;
    const size_t local[2] = {TILE_NDIMC, TILE_MDIMC};
    const size_t global[2] = {
        (size_t)((p->N + TILE_NWG - 1) / TILE_NWG) * TILE_NDIMC,
        (size_t)((p->M + TILE_MWG - 1) / TILE_MWG) * TILE_MDIMC};
    *ran = 1;
    return seqk_cl_enqueue(ctx, k, name, 2, global, local);
}

static seqk_status run_own(seqk_context *ctx, const seqk_gemm_problem *p)
{
    const gemm_strides s = strides_of(p);
    seqk_status st;
    int gpu, ran = 0;
    if (s.a_sk == 1 && s.b_sk == 1)
        return run_direct(ctx, p);
    if ((st = device_is_gpu(ctx, &gpu)))
        return st;
    if (!gpu && s.b_sn == 1 && p->N >= 16)
        return run_rows(ctx, p);
    if (p->M >= TILE_MWG / 2 && p->N >= TILE_NWG / 2) {
        if ((st = run_tiled(ctx, p, &ran)) || ran)
            return st;
    }
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
    if ((st = seqk_cl_translate(ctx, p->A, sizeof(float), &a, &a_off)) ||
        (st = seqk_cl_translate(ctx, p->B, sizeof(float), &b, &b_off)) ||
        (st = seqk_cl_translate(ctx, p->Y, sizeof(float), &y, &y_off)))
        return st;
    if (p->C && p->beta != 0.0f) {
        /* Y = C first, row by row as one rectangle (same layout). */
        if ((st = seqk_cl_translate(ctx, p->C, sizeof(float), &c, &c_off)))
            return st;
        const size_t src_origin[3] = {c_off * sizeof(float), 0, 0};
        const size_t dst_origin[3] = {y_off * sizeof(float), 0, 0};
        const size_t region[3] = {(size_t)p->N * sizeof(float),
                                  (size_t)p->M, 1};
        const size_t pitch = (size_t)p->ldy * sizeof(float);
        cl_int err = clEnqueueCopyBufferRect(
            seqk_cl_queue(ctx), c, y, src_origin, dst_origin, region, pitch,
            0, pitch, 0, 0, NULL, NULL);
        if ((st = seqk_cl_check(ctx, err, "clEnqueueCopyBufferRect(gemm C)")))
            return st;
        beta = p->beta;
    } else {
        /* CLBlast reads C even for beta == 0 (NaN * 0): zero Y's rows. */
        const float zero = 0.0f;
        for (int64_t m = 0; m < p->M; m++) {
            const size_t row = (p->ldy == p->N) ? (size_t)(p->M * p->N)
                                                : (size_t)p->N;
            cl_int err = clEnqueueFillBuffer(
                seqk_cl_queue(ctx), y, &zero, sizeof zero,
                (y_off + (size_t)(m * p->ldy)) * sizeof(float),
                row * sizeof(float), 0, NULL, NULL);
            if ((st = seqk_cl_check(ctx, err, "clEnqueueFillBuffer(gemm Y)")))
                return st;
            if (p->ldy == p->N)
                break;
        }
    }
    cl_command_queue q = seqk_cl_queue(ctx);
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

seqk_status seqk_cl_gemm_with(seqk_context *ctx, const seqk_gemm_problem *p,
                              seqk_cl_gemm_path path)
{
    if (p->M == 0 || p->N == 0)
        return SEQK_OK;
    if (p->M > INT_MAX || p->N > INT_MAX || p->K > INT_MAX)
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "OpenCL GEMM: M, N, K must be below 2^31 (got "
                           "%lld, %lld, %lld)", (long long)p->M,
                           (long long)p->N, (long long)p->K);
#if SEQK_HAVE_CLBLAST
    if (path == SEQK_CL_GEMM_AUTO && clblast_can(p) && p->M >= 256 &&
        p->N >= 256 && p->K >= 256) {
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
    return run_own(ctx, p);
}

seqk_status seqk_cl_gemm(seqk_context *ctx, const seqk_gemm_problem *p)
{
    return seqk_cl_gemm_with(ctx, p, seqk_cl_gemm_path_from_env());
}

seqk_status seqk_cl_matmul(seqk_context *ctx, const seqk_matmul_problem *p)
{
    int64_t total = 1;
    for (int d = 0; d < p->nbatch; d++)
        total *= p->batch_dims[d];
    const seqk_cl_gemm_path path = seqk_cl_gemm_path_from_env();
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
        seqk_status st = seqk_cl_gemm_with(ctx, &g, path);
        if (st)
            return st;
    }
    return SEQK_OK;
}
