/*
 * gemm.cl — single-precision GEMM for the OpenCL backend.
 *
 *   Y[m,n] = alpha * sum_k opA[m,k] * opB[k,n] + beta * C[m*c_sm + n*c_sn]
 *
 * Every operand is addressed through an element offset and two element
 * strides, so one kernel covers all transposes and C broadcasts:
 *   opA[m,k] = A[a_off + m*a_sm + k*a_sk]   (trans_a: a_sm = 1, a_sk = lda)
 *   opB[k,n] = B[b_off + k*b_sk + n*b_sn]   (trans_b: b_sk = 1, b_sn = ldb)
 *   C        = C[c_off + m*c_sm + n*c_sn]   (strides may be 0: broadcast)
 *   Y        = Y[y_off + m*ldy + n]
 * has_c == 0 or beta == 0: C is never read.
 *
 * Three kernels (parameters: the tunables in src/opencl/cl_gemm.c):
 *
 * seqk_f32_gemm_tiled — one work-group computes an MWG x NWG tile of Y,
 * walking K in KWG steps through local memory:
 *
 *        K ->                       NWG
 *      +------+                 +-----------+
 *  MWG | Alm  |  KWG x MWG  x   | Blm  KWG  |  -> Y tile MWG x NWG
 *      +------+  (k-major)      +-----------+
 *
 * The group is NDIMC x MDIMC work-items (dimension 0 runs along N, so
 * neighbouring work-items touch neighbouring columns: coalesced on GPUs,
 * vectorisable on CPUs).  Each work-item keeps an MWI x NWI block of Y in
 * registers (MWI = MWG/MDIMC, NWI = NWG/NDIMC): its columns come in
 * vectors of VWN contiguous columns, the vectors NDIMC*VWN apart; its rows
 * come in groups of VWM contiguous rows, the groups MDIMC*VWM apart.  The
 * inner K loop is unrolled KWI times.  Tile loads are guarded (zero
 * filled) and stores are guarded, so M, N, K need not divide the tiles.
 * Local memory: (MWG + NWG) * KWG * 4 bytes; the host checks it and the
 * work-group size against the device limits.
 *
 * seqk_f32_gemm_direct — no local memory, one work-item per DWM x DWN block
 * of Y straight from global memory; for small and skinny shapes (the
 * recurrent step: M = batch, N = 4*hidden, or its transpose).  When both
 * opA and opB are contiguous along K (the usual A * B^T), K is read in
 * vectors of DVK floats (DWM + DWN vector loads feed DWM*DWN vector FMAs).
 * Out-of-range rows/columns are clamped to the last valid one for loads
 * (so no branch in the K loop and no out-of-bounds read) and skipped on
 * store.
 *
 * seqk_f32_gemm_rows — no local memory, one work-item per RWM x RWN block
 * of Y, for opB contiguous along N (b_sn == 1, the plain A * B): each k
 * broadcasts RWM values of opA against one RWN-wide row segment of opB
 * (an outer-product step, the CPU-GEMM microkernel shape); RWN up to 64
 * columns, as RWN/16 float16 vectors.  A block that crosses N takes a
 * scalar path with clamped loads.
 *
 * The register-block loops of the direct and rows kernels carry
 * "#pragma unroll": PoCL does not unroll them on its own, and a rolled
 * loop keeps the accumulators in stack memory (a load and a store per
 * FMA; 2-5x slower, bench/OPENCL.md).
 */

#ifndef MWG
#define MWG 64
#endif
#ifndef NWG
#define NWG 64
#endif
#ifndef KWG
#define KWG 16
#endif
#ifndef MDIMC
#define MDIMC 8
#endif
#ifndef NDIMC
#define NDIMC 8
#endif
#ifndef VWM
#define VWM 1
#endif
#ifndef VWN
#define VWN 8
#endif
#ifndef KWI
#define KWI 4
#endif
#ifndef DWM
#define DWM 8
#endif
#ifndef DWN
#define DWN 1
#endif
#ifndef DVK
#define DVK 8
#endif
#ifndef RWM
#define RWM 8
#endif
#ifndef RWN
#define RWN 16
#endif

#define MWI (MWG / MDIMC)
#define NWI (NWG / NDIMC)
#define NVN (NWI / VWN)

#if (MWG % (MDIMC * VWM)) != 0 || (NWG % (NDIMC * VWN)) != 0 || (KWG % KWI) != 0
#error "gemm.cl: MWG must be a multiple of MDIMC*VWM, NWG of NDIMC*VWN, KWG of KWI"
#endif

#if VWN == 1
typedef float floatn;
#define LOADN(p) (*(p))
#elif VWN == 2
typedef float2 floatn;
#define LOADN(p) vload2(0, p)
#elif VWN == 4
typedef float4 floatn;
#define LOADN(p) vload4(0, p)
#elif VWN == 8
typedef float8 floatn;
#define LOADN(p) vload8(0, p)
#elif VWN == 16
typedef float16 floatn;
#define LOADN(p) vload16(0, p)
#else
#error "gemm.cl: VWN must be 1, 2, 4, 8 or 16"
#endif

/* The direct kernel's K vectors (DVK floats) and their horizontal sum. */
#if DVK == 1
typedef float floatk;
#define LOADK(p) (*(p))
#define HSUMK(s) (s)
#elif DVK == 2
typedef float2 floatk;
#define LOADK(p) vload2(0, p)
#define HSUMK(s) ((s).lo + (s).hi)
#elif DVK == 4
typedef float4 floatk;
#define LOADK(p) vload4(0, p)
#define HSUMK(s) (((s).lo + (s).hi).lo + ((s).lo + (s).hi).hi)
#elif DVK == 8
typedef float8 floatk;
#define LOADK(p) vload8(0, p)
#define HSUMK(s) hsum8(s)
#elif DVK == 16
typedef float16 floatk;
#define LOADK(p) vload16(0, p)
#define HSUMK(s) hsum16(s)
#else
#error "gemm.cl: DVK must be 1, 2, 4, 8 or 16"
#endif

/* The rows kernel's row segments: RWN floats as RNV vectors of RVW
 * (RVW = min(RWN, 16), the widest OpenCL vector). */
#if RWN == 4
#define RVW 4
typedef float4 floatr;
#define LOADR(j, p) vload4(j, p)
#define STORER(v, j, p) vstore4(v, j, p)
#elif RWN == 8
#define RVW 8
typedef float8 floatr;
#define LOADR(j, p) vload8(j, p)
#define STORER(v, j, p) vstore8(v, j, p)
#elif RWN == 16 || RWN == 32 || RWN == 64
#define RVW 16
typedef float16 floatr;
#define LOADR(j, p) vload16(j, p)
#define STORER(v, j, p) vstore16(v, j, p)
#else
#error "gemm.cl: RWN must be 4, 8, 16, 32 or 64"
#endif
#define RNV (RWN / RVW)

static inline float hsum8(float8 s)
{
    const float4 s4 = s.lo + s.hi;
    const float2 s2 = s4.lo + s4.hi;
    return s2.lo + s2.hi;
}

/* Through memory: Oclgrind loses the shadow of float16 halves (.lo/.hi),
 * reporting the sum as uninitialised; this form is exact and checkable. */
static inline float hsum16(float16 s)
{
    float t[16];
    vstore16(s, 0, t);
    return hsum8(vload8(0, t) + vload8(1, t));
}

/* Row of the i-th register row of work-item tm inside the tile. */
#define TILE_ROW(i, tm) ((((i) / VWM) * MDIMC + (tm)) * VWM + (i) % VWM)
/* First column of the j-th column vector of work-item tn inside the tile. */
#define TILE_COL(j, tn) (((j) * NDIMC + (tn)) * VWN)

__kernel __attribute__((reqd_work_group_size(NDIMC, MDIMC, 1)))
void seqk_f32_gemm_tiled(const int M, const int N, const int K,
                         const float alpha, const float beta,
                         __global const float *A, const long a_off,
                         const long a_sm, const long a_sk,
                         __global const float *B, const long b_off,
                         const long b_sk, const long b_sn,
                         __global const float *C, const long c_off,
                         const long c_sm, const long c_sn, const int has_c,
                         __global float *Y, const long y_off, const long ldy)
{
    __local float Alm[KWG * MWG]; /* Alm[k*MWG + m] */
    __local float Blm[KWG * NWG]; /* Blm[k*NWG + n] */

    const int tn = get_local_id(0);
    const int tm = get_local_id(1);
    const int tid = tm * NDIMC + tn;
    const int m0 = get_group_id(1) * MWG;
    const int n0 = get_group_id(0) * NWG;

    floatn acc[MWI][NVN];
    for (int i = 0; i < MWI; i++)
        for (int j = 0; j < NVN; j++)
            acc[i][j] = (floatn)(0.0f);

    /* Load order follows the contiguous global direction (uniform branch). */
    const int a_kfast = (a_sk == 1);
    const int b_nfast = (b_sn == 1);

    for (int k0 = 0; k0 < K; k0 += KWG) {
        for (int e = tid; e < KWG * MWG; e += MDIMC * NDIMC) {
            const int kk = a_kfast ? e % KWG : e / MWG;
            const int mm = a_kfast ? e / KWG : e % MWG;
            const int gm = m0 + mm, gk = k0 + kk;
            float v = 0.0f;
            if (gm < M && gk < K)
                v = A[a_off + gm * a_sm + gk * a_sk];
            Alm[kk * MWG + mm] = v;
        }
        for (int e = tid; e < KWG * NWG; e += MDIMC * NDIMC) {
            const int kk = b_nfast ? e / NWG : e % KWG;
            const int nn = b_nfast ? e % NWG : e / KWG;
            const int gn = n0 + nn, gk = k0 + kk;
            float v = 0.0f;
            if (gn < N && gk < K)
                v = B[b_off + gk * b_sk + gn * b_sn];
            Blm[kk * NWG + nn] = v;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int kk = 0; kk < KWG; kk += KWI) {
#pragma unroll
            for (int u = 0; u < KWI; u++) {
                const int k = kk + u;
                floatn b[NVN];
                for (int j = 0; j < NVN; j++)
                    b[j] = LOADN(&Blm[k * NWG + TILE_COL(j, tn)]);
                for (int i = 0; i < MWI; i++) {
                    const floatn a = (floatn)(Alm[k * MWG + TILE_ROW(i, tm)]);
                    for (int j = 0; j < NVN; j++)
                        acc[i][j] = fma(a, b[j], acc[i][j]);
                }
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    const int read_c = has_c && beta != 0.0f;
    for (int i = 0; i < MWI; i++) {
        const int gm = m0 + TILE_ROW(i, tm);
        if (gm >= M)
            continue;
        for (int j = 0; j < NVN; j++) {
            float r[VWN]; /* spill the vector to index its lanes */
#if VWN == 1
            r[0] = acc[i][j];
#elif VWN == 2
            vstore2(acc[i][j], 0, r);
#elif VWN == 4
            vstore4(acc[i][j], 0, r);
#elif VWN == 8
            vstore8(acc[i][j], 0, r);
#else
            vstore16(acc[i][j], 0, r);
#endif
            for (int v = 0; v < VWN; v++) {
                const int gn = n0 + TILE_COL(j, tn) + v;
                if (gn >= N)
                    break;
                float y = alpha * r[v];
                if (read_c)
                    y += beta * C[c_off + gm * c_sm + gn * c_sn];
                Y[y_off + gm * ldy + gn] = y;
            }
        }
    }
}

__kernel void seqk_f32_gemm_direct(const int M, const int N, const int K,
                                   const float alpha, const float beta,
                                   __global const float *A, const long a_off,
                                   const long a_sm, const long a_sk,
                                   __global const float *B, const long b_off,
                                   const long b_sk, const long b_sn,
                                   __global const float *C, const long c_off,
                                   const long c_sm, const long c_sn,
                                   const int has_c,
                                   __global float *Y, const long y_off,
                                   const long ldy)
{
    const int nb = get_global_id(0) * DWN;
    const int mb = get_global_id(1) * DWM;
    if (nb >= N || mb >= M)
        return; /* no barriers in this kernel: early exit is safe */

    long arow[DWM], bcol[DWN];
#pragma unroll
    for (int i = 0; i < DWM; i++)
        arow[i] = a_off + min(mb + i, M - 1) * a_sm;
#pragma unroll
    for (int j = 0; j < DWN; j++)
        bcol[j] = b_off + min(nb + j, N - 1) * b_sn;

    float acc[DWM][DWN];
#pragma unroll
    for (int i = 0; i < DWM; i++)
#pragma unroll
        for (int j = 0; j < DWN; j++)
            acc[i][j] = 0.0f;

    int k = 0;
    if (a_sk == 1 && b_sk == 1) {
        floatk acck[DWM][DWN];
#pragma unroll
        for (int i = 0; i < DWM; i++)
#pragma unroll
            for (int j = 0; j < DWN; j++)
                acck[i][j] = 0.0f;
        for (; k + DVK <= K; k += DVK) {
            floatk bk[DWN];
#pragma unroll
            for (int j = 0; j < DWN; j++)
                bk[j] = LOADK(B + bcol[j] + k);
#pragma unroll
            for (int i = 0; i < DWM; i++) {
                const floatk ak = LOADK(A + arow[i] + k);
#pragma unroll
                for (int j = 0; j < DWN; j++)
                    acck[i][j] = fma(ak, bk[j], acck[i][j]);
            }
        }
#pragma unroll
        for (int i = 0; i < DWM; i++)
#pragma unroll
            for (int j = 0; j < DWN; j++)
                acc[i][j] = HSUMK(acck[i][j]);
    }
    for (; k < K; k++) {
        float b[DWN];
#pragma unroll
        for (int j = 0; j < DWN; j++)
            b[j] = B[bcol[j] + k * b_sk];
#pragma unroll
        for (int i = 0; i < DWM; i++) {
            const float a = A[arow[i] + k * a_sk];
#pragma unroll
            for (int j = 0; j < DWN; j++)
                acc[i][j] = fma(a, b[j], acc[i][j]);
        }
    }

    const int read_c = has_c && beta != 0.0f;
    for (int i = 0; i < DWM; i++) {
        const int gm = mb + i;
        if (gm >= M)
            break;
        for (int j = 0; j < DWN; j++) {
            const int gn = nb + j;
            if (gn >= N)
                break;
            float y = alpha * acc[i][j];
            if (read_c)
                y += beta * C[c_off + gm * c_sm + gn * c_sn];
            Y[y_off + gm * ldy + gn] = y;
        }
    }
}

__kernel void seqk_f32_gemm_rows(const int M, const int N, const int K,
                                 const float alpha, const float beta,
                                 __global const float *A, const long a_off,
                                 const long a_sm, const long a_sk,
                                 __global const float *B, const long b_off,
                                 const long b_sk, const long b_sn,
                                 __global const float *C, const long c_off,
                                 const long c_sm, const long c_sn,
                                 const int has_c,
                                 __global float *Y, const long y_off,
                                 const long ldy)
{
    const int nb = get_global_id(0) * RWN;
    const int mb = get_global_id(1) * RWM;
    if (nb >= N || mb >= M)
        return; /* no barriers in this kernel: early exit is safe */

    long arow[RWM];
#pragma unroll
    for (int i = 0; i < RWM; i++)
        arow[i] = a_off + min(mb + i, M - 1) * a_sm;

    float acc[RWM][RWN];
    if (b_sn == 1 && nb + RWN <= N) {
        floatr accr[RWM][RNV];
#pragma unroll
        for (int i = 0; i < RWM; i++)
#pragma unroll
            for (int j = 0; j < RNV; j++)
                accr[i][j] = (floatr)(0.0f);
        __global const float *bp = B + b_off + nb;
        for (int k = 0; k < K; k++) {
            floatr br[RNV];
#pragma unroll
            for (int j = 0; j < RNV; j++)
                br[j] = LOADR(j, bp + k * b_sk);
#pragma unroll
            for (int i = 0; i < RWM; i++) {
                const floatr a = (floatr)(A[arow[i] + k * a_sk]);
#pragma unroll
                for (int j = 0; j < RNV; j++)
                    accr[i][j] = fma(a, br[j], accr[i][j]);
            }
        }
#pragma unroll
        for (int i = 0; i < RWM; i++)
#pragma unroll
            for (int j = 0; j < RNV; j++)
                STORER(accr[i][j], j, acc[i]);
    } else {
        long bcol[RWN];
        for (int j = 0; j < RWN; j++)
            bcol[j] = b_off + min(nb + j, N - 1) * b_sn;
        for (int i = 0; i < RWM; i++)
            for (int j = 0; j < RWN; j++)
                acc[i][j] = 0.0f;
        for (int k = 0; k < K; k++)
            for (int i = 0; i < RWM; i++) {
                const float a = A[arow[i] + k * a_sk];
                for (int j = 0; j < RWN; j++)
                    acc[i][j] = fma(a, B[bcol[j] + k * b_sk], acc[i][j]);
            }
    }

    const int read_c = has_c && beta != 0.0f;
    for (int i = 0; i < RWM; i++) {
        const int gm = mb + i;
        if (gm >= M)
            break;
        for (int j = 0; j < RWN; j++) {
            const int gn = nb + j;
            if (gn >= N)
                break;
            float y = alpha * acc[i][j];
            if (read_c)
                y += beta * C[c_off + gm * c_sm + gn * c_sn];
            Y[y_off + gm * ldy + gn] = y;
        }
    }
}
