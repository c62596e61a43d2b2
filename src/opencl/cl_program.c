/*
 * cl_program.c — programs from kernels/<name>.cl: source lookup (embedded copy,
 * or $SEQK_KERNEL_DIR/<name>.cl), building with the host's "-D NAME=VALUE"
 * options, and two caches:
 *
 *   in memory  per context (= per device): (source name, options) ->
 *              cl_program and its cl_kernels by name;
 *   on disk    program binaries in $XDG_CACHE_HOME/seqk/kernels/ (else
 *              ~/.cache/seqk/kernels/), file <key>.bin where key is a hash
 *              of source text, options, device name, driver version and
 *              library version.  The file holds a header with the key and a
 *              checksum of the binary; anything that does not check out, or
 *              that the driver refuses, is rebuilt from source and
 *              rewritten — never an error.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "opencl/cl_file.h"
#include "opencl/cl_internal.h"
#include "seqk_config.h"

typedef struct seqk_cl_embedded {
    const char *name;
    const char *source;
} seqk_cl_embedded;
extern const seqk_cl_embedded seqk__cl_embedded_sources[];

static atomic_int stat_disk_hits, stat_builds, stat_disk_rejects;

void seqk__cl_cache_stats(int *disk_hits, int *builds, int *disk_rejects)
{
    if (disk_hits)
        *disk_hits = atomic_load(&stat_disk_hits);
    if (builds)
        *builds = atomic_load(&stat_builds);
    if (disk_rejects)
        *disk_rejects = atomic_load(&stat_disk_rejects);
}

const char *seqk__cl_embedded_source(const char *name)
{
    for (const seqk_cl_embedded *e = seqk__cl_embedded_sources; e->name; e++)
        if (!strcmp(e->name, name))
            return e->source;
    return NULL;
}

/* The source text of kernels/<name>.cl (malloc'd). */
static seqk_status load_source(seqk_context *ctx, const char *name,
                               char **out)
{
    const char *dir = getenv("SEQK_KERNEL_DIR");
    *out = NULL;
    if (dir && *dir) {
        char path[1024];
        snprintf(path, sizeof path, "%s/%s.cl", dir, name);
        *out = seqk__cl_read_file(path, SEQK__CL_MAX_SOURCE_BYTES, NULL);
        if (!*out)
            return seqk__error(ctx, SEQK_ERR_IO,
                               "OpenCL: cannot read kernel source %s "
                               "(SEQK_KERNEL_DIR is set): %s", path,
                               strerror(errno));
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "opencl: kernel source %s",
                  path);
        return SEQK_OK;
    }
    const char *src = seqk__cl_embedded_source(name);
    if (!src)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL: no kernel source named '%s'", name);
    *out = strdup(src);
    if (!*out)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: out of memory");
    return SEQK_OK;
}

char *seqk__cl_source_text(const char *name)
{
    /* As load_source() reads it, but never an error (this feeds the
     * tuning key's hash): an unreadable $SEQK_KERNEL_DIR file gives the
     * embedded text. */
    const char *dir = getenv("SEQK_KERNEL_DIR");
    if (dir && *dir) {
        char path[1024];
        int n = snprintf(path, sizeof path, "%s/%s.cl", dir, name);
        char *text = n > 0 && (size_t)n < sizeof path
                         ? seqk__cl_read_file(path, SEQK__CL_MAX_SOURCE_BYTES, NULL) : NULL;
        if (text)
            return text;
    }
    const char *src = seqk__cl_embedded_source(name);
    return src ? strdup(src) : NULL;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return seqk__cl_fnv(h, s, strlen(s) + 1); /* the NUL separates fields */
}

static int cache_dir(char *buf, size_t len)
{
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (xdg && *xdg)
        n = snprintf(buf, len, "%s/seqk/kernels", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.cache/seqk/kernels", home);
    else
        return 0;
    if (n < 0 || (size_t)n >= len)
        return 0;
    /* mkdir -p */
    for (char *p = buf + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        mkdir(buf, 0755);
        *p = '/';
    }
    mkdir(buf, 0755);
    struct stat st;
    return stat(buf, &st) == 0 && S_ISDIR(st.st_mode);
}

/* A built program from the disk cache, or NULL (missing, corrupt, stale,
 * refused by the driver). */
static cl_program load_cached(seqk_context *ctx, const char *path,
                              uint64_t key, const char *options)
{
    unsigned char *bin = NULL;
    size_t size = 0;
    const char *why = NULL;
    cl_program prog = NULL;
    int rc = seqk__cl_cache_read(path, key, &bin, &size, &why);
    if (rc == 1)
        return NULL; /* not cached yet */
    if (rc == 0) {
        cl_int err, bin_status = CL_SUCCESS;
        const unsigned char *b = bin;
        seqk_cl_state *s = seqk_cl_st(ctx);
        prog = clCreateProgramWithBinary(s->context, 1, &s->device, &size,
                                         &b, &bin_status, &err);
        if (err != CL_SUCCESS || bin_status != CL_SUCCESS) {
            if (prog)
                clReleaseProgram(prog);
            prog = NULL;
            why = "driver refused the binary";
        } else if (clBuildProgram(prog, 1, &s->device, options, NULL,
                                  NULL) != CL_SUCCESS) {
            clReleaseProgram(prog);
            prog = NULL;
            why = "driver could not build the binary";
        }
    }
    if (why) {
        atomic_fetch_add(&stat_disk_rejects, 1);
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
                  "opencl: disk cache %s unusable (%s); rebuilding", path,
                  why);
    }
    free(bin);
    return prog;
}

static void store_cached(seqk_context *ctx, const char *path, uint64_t key,
                         cl_program prog)
{
    size_t size = 0;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARY_SIZES, sizeof size, &size,
                         NULL) != CL_SUCCESS || size == 0)
        return;
    unsigned char *bin = malloc(size);
    if (!bin)
        return;
    if (clGetProgramInfo(prog, CL_PROGRAM_BINARIES, sizeof bin, &bin,
                         NULL) == CL_SUCCESS &&
        seqk__cl_cache_write(path, key, bin, size) == 0)
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "opencl: cached binary %s",
                  path);
    free(bin);
}

static seqk_status build_from_source(seqk_context *ctx, const char *name,
                                     const char *source, const char *options,
                                     cl_program *out)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    cl_int err;
    seqk_status st;
    *out = NULL;
    cl_program prog = clCreateProgramWithSource(s->context, 1, &source, NULL,
                                                &err);
    if ((st = seqk__cl_check(ctx, err, "clCreateProgramWithSource")))
        return st;
    atomic_fetch_add(&stat_builds, 1);
    err = clBuildProgram(prog, 1, &s->device, options, NULL, NULL);
    if (err != CL_SUCCESS) {
        char log[SEQK_ERROR_LEN];
        log[0] = '\0';
        size_t n = 0;
        if (clGetProgramBuildInfo(prog, s->device, CL_PROGRAM_BUILD_LOG,
                                  sizeof log - 1, log, &n) != CL_SUCCESS) {
            /* Longer than our buffer: take its start. */
            size_t full = 0;
            clGetProgramBuildInfo(prog, s->device, CL_PROGRAM_BUILD_LOG, 0,
                                  NULL, &full);
            char *big = full ? malloc(full) : NULL;
            if (big && clGetProgramBuildInfo(prog, s->device,
                                             CL_PROGRAM_BUILD_LOG, full, big,
                                             NULL) == CL_SUCCESS)
                snprintf(log, sizeof log, "%s", big);
            free(big);
        }
        log[sizeof log - 1] = '\0';
        clReleaseProgram(prog);
        return seqk__error(ctx, SEQK_ERR_DEVICE,
                           "OpenCL: building %s.cl (options \"%s\") failed "
                           "with %s; build log:\n%s", name, options,
                           seqk__cl_error_name(err), log);
    }
    *out = prog;
    return SEQK_OK;
}

static seqk_status get_program(seqk_context *ctx, const char *name,
                               const char *options, seqk_cl_program **out)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    seqk_status st;
    for (seqk_cl_program *p = s->programs; p; p = p->next)
        if (!strcmp(p->source, name) && !strcmp(p->options, options)) {
            *out = p;
            return SEQK_OK;
        }
    char *source = NULL;
    if ((st = load_source(ctx, name, &source)))
        return st;
    uint64_t key = SEQK__CL_FNV_BASIS;
    key = fnv_str(key, source);
    key = fnv_str(key, options);
    key = fnv_str(key, s->facts.name);
    key = fnv_str(key, s->facts.driver_version);
    key = fnv_str(key, SEQK_VERSION);
    char dir[900], path[1000];
    cl_program prog = NULL;
    int have_dir = cache_dir(dir, sizeof dir);
    if (have_dir) {
        snprintf(path, sizeof path, "%s/%016llx.bin", dir,
                 (unsigned long long)key);
        prog = load_cached(ctx, path, key, options);
        if (prog) {
            atomic_fetch_add(&stat_disk_hits, 1);
            seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
                      "opencl: %s.cl \"%s\" from disk cache %s", name,
                      options, path);
        }
    }
    if (!prog) {
        st = build_from_source(ctx, name, source, options, &prog);
        if (st) {
            free(source);
            return st;
        }
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "opencl: built %s.cl \"%s\"",
                  name, options);
        if (have_dir)
            store_cached(ctx, path, key, prog);
    }
    free(source);
    seqk_cl_program *p = calloc(1, sizeof *p);
    if (p) {
        p->source = strdup(name);
        p->options = strdup(options);
    }
    if (!p || !p->source || !p->options) {
        if (p) {
            free(p->source);
            free(p->options);
        }
        free(p);
        clReleaseProgram(prog);
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: out of memory");
    }
    p->program = prog;
    p->next = s->programs;
    s->programs = p;
    *out = p;
    return SEQK_OK;
}

seqk_status seqk__cl_kernel(seqk_context *ctx, const char *source,
                           const char *options, const char *kernel_name,
                           cl_kernel *out)
{
    seqk_cl_program *p;
    seqk_status st;
    *out = NULL;
    if (!seqk__cl_state_of(ctx))
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL: the context has no OpenCL device");
    if (!options)
        options = "";
    if ((st = get_program(ctx, source, options, &p)))
        return st;
    for (int i = 0; i < p->num_kernels; i++)
        if (!strcmp(p->kernel_names[i], kernel_name)) {
            *out = p->kernels[i];
            return SEQK_OK;
        }
    if (p->num_kernels == SEQK_CL_MAX_KERNELS)
        return seqk__error(ctx, SEQK_ERR_INTERNAL,
                           "OpenCL: %s.cl has more than %d kernels", source,
                           SEQK_CL_MAX_KERNELS);
    cl_int err;
    cl_kernel k = clCreateKernel(p->program, kernel_name, &err);
    char what[160];
    snprintf(what, sizeof what, "clCreateKernel(%s.cl: %s)", source,
             kernel_name);
    if ((st = seqk__cl_check(ctx, err, what)))
        return st;
    char *kname = strdup(kernel_name);
    if (!kname) {
        clReleaseKernel(k);
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: out of memory");
    }
    p->kernel_names[p->num_kernels] = kname;
    p->kernels[p->num_kernels++] = k;
    *out = k;
    return SEQK_OK;
}

void seqk__cl_programs_release(seqk_cl_state *s)
{
    seqk_cl_program *p = s->programs;
    while (p) {
        seqk_cl_program *next = p->next;
        for (int i = 0; i < p->num_kernels; i++) {
            clReleaseKernel(p->kernels[i]);
            free(p->kernel_names[i]);
        }
        clReleaseProgram(p->program);
        free(p->source);
        free(p->options);
        free(p);
        p = next;
    }
    s->programs = NULL;
}
