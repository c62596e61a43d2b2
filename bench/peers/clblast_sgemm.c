/*
 * clblast_sgemm.c — the CLBlast peer for `seqk bench --device opencl`
 * gemm problems: CLBlastSgemm, row-major, Y[M,N] = A'[M,K] B'[K,N]
 * (alpha 1, beta 0), the same tensors as seqk bench:
 *
 *   A [M,K] (transa=1: [K,M])   B [K,N] (transb=1: [N,K])   Y [M,N]
 *
 * Each timed call is CLBlastSgemm followed by clFinish (peer_common: one
 * untimed warm-up, which also compiles, then median of the timed calls).
 *
 * --tuned DIR: before timing, the Xgemm parameters with the lowest
 * best_time among DIR/clblast_xgemm_*_32.json (what clblast_tuner_xgemm
 * writes) are applied with CLBlastOverrideParameters, so "CLBlast tuned"
 * is the real CLBlast with its own tuner's output.  Without it CLBlast
 * uses its built-in database (for PoCL: its generic defaults).
 */
#include <clblast_c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer_common.h"

static const char usage[] =
    "usage: clblast_sgemm [--platform P] [--device D] [--tuned DIR]\n"
    "                     [--repeat N] [--min-time MS]\n"
    "                     gemm:m=M,n=N,k=K[,transa=0|1][,transb=0|1]...\n"
    "Times CLBlastSgemm (+ clFinish) on OpenCL platform P device D\n"
    "(default 0 0) and prints one JSON line per problem.  --tuned DIR:\n"
    "apply the best Xgemm parameters of DIR/clblast_xgemm_*_32.json.\n";

#define MAX_PARAMS 32

/* Parameters of the best (lowest best_time) Xgemm tuner file in dir. */
typedef struct tuned_set {
    char names[MAX_PARAMS][16];
    size_t values[MAX_PARAMS];
    size_t count;
    double best_ms;
    char file[512];
} tuned_set;

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *s = NULL;
    long n;
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
        fseek(f, 0, SEEK_SET) == 0 && (s = malloc((size_t)n + 1)) != NULL) {
        if (fread(s, 1, (size_t)n, f) != (size_t)n) {
            free(s);
            s = NULL;
        } else {
            s[n] = '\0';
        }
    }
    fclose(f);
    return s;
}

/* The string value of "key": "..." in text (copied into out). */
static int json_string(const char *text, const char *key, char *out,
                       size_t len)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(text, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    const char *e = strchr(p, '"');
    if (!e || (size_t)(e - p) >= len)
        return -1;
    memcpy(out, p, (size_t)(e - p));
    out[e - p] = '\0';
    return 0;
}

/* "GEMMK=0 KREG=1 ..." into t (PRECISION is not a kernel parameter). */
static int parse_params(char *s, tuned_set *t)
{
    t->count = 0;
    for (char *tok = strtok(s, " "); tok; tok = strtok(NULL, " ")) {
        char *eq = strchr(tok, '=');
        if (!eq || eq - tok >= 16 || t->count == MAX_PARAMS)
            return -1;
        *eq = '\0';
        if (!strcmp(tok, "PRECISION"))
            continue;
        strcpy(t->names[t->count], tok);
        t->values[t->count++] = (size_t)strtoul(eq + 1, NULL, 10);
    }
    return t->count ? 0 : -1;
}

/* Fills t from the best clblast_xgemm_{1,2,11,12}_32.json in dir. */
static int load_tuned(const char *dir, tuned_set *t)
{
    static const char *const families[] = {"1", "2", "11", "12"};
    t->count = 0;
    t->best_ms = 0;
    for (size_t i = 0; i < sizeof families / sizeof families[0]; i++) {
        char path[512], kernel[32], best[32], params[1024];
        tuned_set cand;
        snprintf(path, sizeof path, "%s/clblast_xgemm_%s_32.json", dir,
                 families[i]);
        char *text = read_text(path);
        if (!text)
            continue;
        int ok = json_string(text, "best_kernel", kernel, sizeof kernel) == 0
                 && !strcmp(kernel, "Xgemm")
                 && json_string(text, "best_time", best, sizeof best) == 0
                 && json_string(text, "best_parameters", params,
                                sizeof params) == 0
                 && parse_params(params, &cand) == 0;
        free(text);
        if (!ok) {
            fprintf(stderr, "clblast_sgemm: %s: not a tuner result\n", path);
            continue;
        }
        cand.best_ms = strtod(best, NULL);
        snprintf(cand.file, sizeof cand.file, "%s", path);
        if (t->count == 0 || cand.best_ms < t->best_ms)
            *t = cand;
    }
    return t->count ? 0 : -1;
}

typedef struct gemm_call {
    const peer_problem *p;
    cl_command_queue queue;
    cl_mem a, b, y;
} gemm_call;

static int run_gemm(void *arg, char *err, size_t err_len)
{
    const gemm_call *c = arg;
    const peer_problem *p = c->p;
    cl_command_queue q = c->queue;
    CLBlastStatusCode s = CLBlastSgemm(
        CLBlastLayoutRowMajor,
        p->transa ? CLBlastTransposeYes : CLBlastTransposeNo,
        p->transb ? CLBlastTransposeYes : CLBlastTransposeNo, (size_t)p->m,
        (size_t)p->n, (size_t)p->k, 1.0f, c->a, 0,
        (size_t)(p->transa ? p->m : p->k), c->b, 0,
        (size_t)(p->transb ? p->k : p->n), 0.0f, c->y, 0, (size_t)p->n, &q,
        NULL);
    if (s != CLBlastSuccess) {
        snprintf(err, err_len, "CLBlastSgemm: status %d", (int)s);
        return 1;
    }
    cl_int e = clFinish(q);
    if (e != CL_SUCCESS) {
        snprintf(err, err_len, "clFinish: %d", (int)e);
        return 1;
    }
    return 0;
}

static int bench_one(const char *text, const peer_options *o,
                     cl_context cl, cl_command_queue q, const char *device,
                     const char *backend)
{
    peer_problem p;
    char err[256];
    int rc = 1;
    float *host = NULL;
    cl_mem a = NULL, b = NULL, y = NULL;
    cl_int e = CL_SUCCESS;

    if (peer_parse(text, &p, err, sizeof err) != 0) {
        peer_print_error(text, "?", device, 1, err);
        return 1;
    }
    if (p.kind != PEER_GEMM) {
        peer_print_error(text, peer_kind_name(p.kind), device, 1,
                         "clblast_sgemm runs gemm problems only");
        return 1;
    }
    const size_t na = (size_t)(p.m * p.k), nb = (size_t)(p.k * p.n),
                 ny = (size_t)(p.m * p.n);
    const size_t most = na > nb ? (na > ny ? na : ny) : (nb > ny ? nb : ny);
    host = peer_alloc(most);
    if (!host) {
        peer_print_error(text, "gemm", device, 1, "out of memory");
        goto cleanup;
    }
    const uint64_t seed = peer_seed(text);
    peer_fill(host, na, -1.0f, 1.0f, seed);
    a = clCreateBuffer(cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                       na * sizeof(float), host, &e);
    if (e == CL_SUCCESS) {
        peer_fill(host, nb, -1.0f, 1.0f, seed + 1);
        b = clCreateBuffer(cl, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR,
                           nb * sizeof(float), host, &e);
    }
    if (e == CL_SUCCESS) {
        memset(host, 0, ny * sizeof(float)); /* CLBlast reads C (beta 0) */
        y = clCreateBuffer(cl, CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                           ny * sizeof(float), host, &e);
    }
    if (e != CL_SUCCESS) {
        snprintf(err, sizeof err, "clCreateBuffer: %d", (int)e);
        peer_print_error(text, "gemm", device, 1, err);
        goto cleanup;
    }
    gemm_call call = {&p, q, a, b, y};
    peer_result r;
    if (peer_time(run_gemm, &call, o, &r, err, sizeof err) != 0) {
        peer_print_error(text, "gemm", device, 1, err);
        goto cleanup;
    }
    e = clEnqueueReadBuffer(q, y, CL_TRUE, 0, ny * sizeof(float), host, 0,
                            NULL, NULL);
    if (e != CL_SUCCESS || peer_count_nonfinite(host, ny)) {
        peer_print_error(text, "gemm", device, 1,
                         e != CL_SUCCESS ? "clEnqueueReadBuffer failed"
                                         : "non-finite output");
        goto cleanup;
    }
    peer_print_result(&p, device, backend, 1, &r);
    rc = 0;
cleanup:
    if (a)
        clReleaseMemObject(a);
    if (b)
        clReleaseMemObject(b);
    if (y)
        clReleaseMemObject(y);
    free(host);
    return rc;
}

int main(int argc, char **argv)
{
    peer_options o;
    const char *tuned_dir = NULL;
    unsigned plat = 0, dev = 0;
    char device[64], backend[1024];
    int failed = 0, n = 1;

    /* Our options first; the rest goes to peer_parse_args. */
    for (int i = 1; i < argc; i++) {
        const int ours = !strcmp(argv[i], "--tuned") ||
                         !strcmp(argv[i], "--platform") ||
                         !strcmp(argv[i], "--device");
        if (!ours) {
            argv[n++] = argv[i];
            continue;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "clblast_sgemm: %s needs a value\n%s", argv[i],
                    usage);
            return 2;
        }
        if (!strcmp(argv[i], "--tuned"))
            tuned_dir = argv[i + 1];
        else if (!strcmp(argv[i], "--platform"))
            plat = (unsigned)strtoul(argv[i + 1], NULL, 10);
        else
            dev = (unsigned)strtoul(argv[i + 1], NULL, 10);
        i++;
    }
    argv[n] = NULL;
    peer_parse_args(n, argv, &o, usage);

    cl_platform_id platforms[16];
    cl_device_id devices[16];
    cl_uint np = 0, nd = 0;
    cl_int e = clGetPlatformIDs(16, platforms, &np);
    if (e != CL_SUCCESS || plat >= np ||
        clGetDeviceIDs(platforms[plat], CL_DEVICE_TYPE_ALL, 16, devices,
                       &nd) != CL_SUCCESS || dev >= nd) {
        fprintf(stderr, "clblast_sgemm: no OpenCL device %u.%u\n", plat, dev);
        return 1;
    }
    cl_device_id d = devices[dev];
    cl_context cl = clCreateContext(NULL, 1, &d, NULL, NULL, &e);
    cl_command_queue q = NULL;
    if (e == CL_SUCCESS)
        q = clCreateCommandQueue(cl, d, 0, &e);
    if (e != CL_SUCCESS) {
        fprintf(stderr, "clblast_sgemm: context/queue: %d\n", (int)e);
        return 1;
    }
    snprintf(device, sizeof device, "opencl:%u.%u", plat, dev);
    snprintf(backend, sizeof backend, "clblast untuned");
    if (tuned_dir) {
        tuned_set t;
        const char *names[MAX_PARAMS];
        if (load_tuned(tuned_dir, &t) != 0) {
            fprintf(stderr, "clblast_sgemm: no Xgemm tuner result in %s\n",
                    tuned_dir);
            return 1;
        }
        for (size_t i = 0; i < t.count; i++)
            names[i] = t.names[i];
        CLBlastStatusCode s = CLBlastOverrideParameters(
            d, "Xgemm", CLBlastPrecisionSingle, t.count, names, t.values);
        if (s != CLBlastSuccess) {
            fprintf(stderr, "clblast_sgemm: CLBlastOverrideParameters: %d\n",
                    (int)s);
            return 1;
        }
        size_t used = (size_t)snprintf(backend, sizeof backend,
                                       "clblast tuned (%s:", t.file);
        for (size_t i = 0; i < t.count && used < sizeof backend; i++)
            used += (size_t)snprintf(backend + used, sizeof backend - used,
                                     " %s=%zu", t.names[i], t.values[i]);
        if (used < sizeof backend)
            snprintf(backend + used, sizeof backend - used, ")");
    }
    for (int i = 0; i < o.nproblems; i++)
        failed |= bench_one(o.problems[i], &o, cl, q, device, backend);
    clReleaseCommandQueue(q);
    clReleaseContext(cl);
    return failed;
}
