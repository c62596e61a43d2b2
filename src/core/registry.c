/*
 * registry.c — the device registry and device-spec resolution.
 *
 * The CPU table below expands the ISA list (src/cpu_simd/isa.def), in
 * ascending ISA order.  An ISA of another architecture has a NULL backend
 * and is listed with the reason it is missing.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_simd/isa.h"
#include "registry.h"
#include "seqk_config.h"
#if SEQK_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

typedef struct cpu_entry {
    const char *spec;
    const char *name;
    const seqk_backend *backend; /* NULL: not in this build */
    unsigned needs;              /* SEQK_CPU_* bits the CPU must have */
    const char *arch;            /* architecture the ISA belongs to */
} cpu_entry;

#if defined(__x86_64__) || defined(__i386__)
#define SEQK_ARCH "x86_64"
#elif defined(__aarch64__)
#define SEQK_ARCH "aarch64"
#else
#define SEQK_ARCH "other"
#endif

/* isa.def, every architecture's entries (others are listed as such). */
static const cpu_entry cpu_table[] = {
#define SEQK_ISA(name_, arch_, needs_, cflags_, title_)                     \
    {.spec = #name_,                                                        \
     .name = title_,                                                        \
     SEQK_ISA_BUILT(arch_, .backend = &seqk_backend_##name_, )              \
     .needs = needs_,                                                       \
     .arch = #arch_},
#include "cpu_simd/isa.def"
};
enum { NUM_CPU = sizeof cpu_table / sizeof cpu_table[0] };

/* 1 if entry e is usable here; else 0 with the reason. */
static int cpu_entry_available(const cpu_entry *e, char *why, size_t len)
{
    if (strcmp(e->arch, SEQK_ARCH) != 0) {
        snprintf(why, len, "%s is an %s ISA; this build is for %s", e->spec,
                 e->arch, SEQK_ARCH);
        return 0;
    }
    unsigned usable = seqk__cpu_usable();
    if ((usable & e->needs) != e->needs) {
        char missing[96];
        seqk__cpu_flag_names(e->needs & ~usable, missing, sizeof missing);
        int masked = (seqk__cpu_masked() & e->needs) != 0;
        snprintf(why, len, "this CPU/OS lacks %s%s", missing,
                 masked ? " (masked by SEQK_DISABLE_CPU_FEATURES)" : "");
        return 0;
    }
    if (!e->backend) {
        snprintf(why, len, "this build of seqk has no %s kernels",
                 e->spec);
        return 0;
    }
    if (e->backend->is_available && !e->backend->is_available(why, len))
        return 0;
    return 1;
}

/* OpenCL devices, probed once per process. */
static seqk_cl_device_desc cl_devs[SEQK_MAX_CL_DEVICES];
static int cl_count;
static char cl_why[256];
static pthread_once_t cl_once = PTHREAD_ONCE_INIT;

static void cl_probe_once(void)
{
    cl_count = seqk__opencl_probe(cl_devs, SEQK_MAX_CL_DEVICES, cl_why,
                                  sizeof cl_why);
}

#if !SEQK_HAVE_OPENCL
static const char opencl_missing[] =
    "seqk was built without OpenCL (-Dopencl=disabled)";
#endif

seqk_status seqk_device_count(int *count)
{
    if (!count)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_device_count: count is NULL");
    pthread_once(&cl_once, cl_probe_once);
    int n = 1; /* ref */
    for (int i = 0; i < NUM_CPU; i++)
        if (strcmp(cpu_table[i].arch, SEQK_ARCH) == 0)
            n++;
    *count = n + cl_count;
    return SEQK_OK;
}

seqk_status seqk_device_info_get(int index, seqk_device_info *info)
{
    if (!info || info->struct_size < sizeof *info)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_device_info_get: info is NULL or its "
                           "struct_size is not sizeof(seqk_device_info)");
    int count = 0;
    seqk_device_count(&count);
    if (index < 0 || index >= count)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_device_info_get: index %d is outside 0..%d",
                           index, count - 1);
    size_t size = info->struct_size;
    memset(info, 0, sizeof *info);
    info->struct_size = size;
    if (index == 0) {
        snprintf(info->spec, sizeof info->spec, "ref");
        snprintf(info->name, sizeof info->name, "%s", seqk_backend_ref.name);
        info->kind = SEQK_DEVICE_REFERENCE;
        info->available = 1;
        return SEQK_OK;
    }
    index--;
    for (int i = 0; i < NUM_CPU; i++) {
        if (strcmp(cpu_table[i].arch, SEQK_ARCH) != 0)
            continue;
        if (index-- > 0)
            continue;
        snprintf(info->spec, sizeof info->spec, "%s", cpu_table[i].spec);
        snprintf(info->name, sizeof info->name, "%s", cpu_table[i].name);
        info->kind = SEQK_DEVICE_CPU_SIMD;
        info->available = cpu_entry_available(
            &cpu_table[i], info->why_unavailable, sizeof info->why_unavailable);
        return SEQK_OK;
    }
    const seqk_cl_device_desc *d = &cl_devs[index];
    snprintf(info->spec, sizeof info->spec, "opencl:%d.%d", d->platform,
             d->device);
    snprintf(info->name, sizeof info->name, "%.80s (%.40s)", d->name,
             d->platform_name);
    info->kind = SEQK_DEVICE_OPENCL;
#if SEQK_HAVE_OPENCL
    info->available = 1;
#else
    info->available = 0;
    snprintf(info->why_unavailable, sizeof info->why_unavailable, "%s",
             opencl_missing);
#endif
    return SEQK_OK;
}

static void use_ref_only(seqk_context *ctx)
{
    ctx->backends[0] = &seqk_backend_ref;
    ctx->num_backends = 1;
    snprintf(ctx->device, sizeof ctx->device, "ref");
}

/* ref plus every available CPU backend up to and including `upto`
 * (NULL: all), best last. */
static void use_cpu(seqk_context *ctx, const cpu_entry *upto)
{
    use_ref_only(ctx);
    for (int i = 0; i < NUM_CPU; i++) {
        char why[160];
        if (!cpu_entry_available(&cpu_table[i], why, sizeof why))
            continue;
        if (ctx->num_backends < SEQK_MAX_BACKENDS)
            ctx->backends[ctx->num_backends++] = cpu_table[i].backend;
        snprintf(ctx->device, sizeof ctx->device, "%s", cpu_table[i].spec);
        if (&cpu_table[i] == upto)
            break;
    }
}

static seqk_status resolve_opencl(const char *spec, seqk_context *ctx)
{
    int p = 0, d = 0, explicit_index = 0;
    if (spec[6] == ':') {
        char tail;
        if (sscanf(spec + 7, "%d.%d%c", &p, &d, &tail) != 2 || p < 0 ||
            d < 0)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "device '%s': expected opencl:P.D with "
                               "platform P and device D numbers, e.g. "
                               "opencl:0.0", spec);
        explicit_index = 1;
    } else if (spec[6] != '\0') {
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "unknown device '%s': expected opencl or "
                           "opencl:P.D", spec);
    }
    pthread_once(&cl_once, cl_probe_once);
    if (cl_count == 0)
        return seqk__error(ctx, SEQK_ERR_NO_DEVICE, "device '%s': %s", spec,
                           cl_why);
    for (int i = 0; i < cl_count; i++) {
        if (explicit_index &&
            (cl_devs[i].platform != p || cl_devs[i].device != d))
            continue;
#if SEQK_HAVE_OPENCL
        /* Device memory is not host memory, so ref and the CPU backends
         * cannot run on it: the OpenCL backend is the only one, and runs
         * ref on host copies for ops it has no kernel for. */
        seqk_status st = seqk_cl_open(ctx, cl_devs[i].platform,
                                      cl_devs[i].device);
        if (st != SEQK_OK)
            return st;
        ctx->backends[0] = &seqk_backend_opencl;
        ctx->num_backends = 1;
        snprintf(ctx->device, sizeof ctx->device, "opencl:%d.%d",
                 cl_devs[i].platform, cl_devs[i].device);
        return SEQK_OK;
#else
        return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                           "device '%s': OpenCL device opencl:%d.%d (%s) "
                           "was found, but %s", spec, cl_devs[i].platform,
                           cl_devs[i].device, cl_devs[i].name,
                           opencl_missing);
#endif
    }
    return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                       "device '%s': no such OpenCL device; found %d, the "
                       "first is opencl:%d.%d (%s)", spec, cl_count,
                       cl_devs[0].platform, cl_devs[0].device,
                       cl_devs[0].name);
}

/* The ISA specs for messages: "avx2, avx512, neon, " */
static const char isa_names[] =
#define SEQK_ISA(name, arch, needs, cflags, title) #name ", "
#include "cpu_simd/isa.def"
    "";

seqk_status seqk__registry_resolve(const char *spec, seqk_context *ctx)
{
    if (!strcmp(spec, "ref")) {
        use_ref_only(ctx);
        return SEQK_OK;
    }
    if (!strcmp(spec, "cpu") || !strcmp(spec, "auto")) {
        /* auto: the best CPU backend, and the first OpenCL device on top
         * for the ops and shapes where tuning data measured it faster
         * (cl_offload.c; opened on first use). */
        use_cpu(ctx, NULL);
#if SEQK_HAVE_OPENCL
        /* No probe here: OpenCL is initialised only when tuning data
         * sends an op there. */
        if (!strcmp(spec, "auto") && ctx->num_backends < SEQK_MAX_BACKENDS)
            ctx->backends[ctx->num_backends++] = &seqk_backend_opencl_offload;
#endif
        return SEQK_OK;
    }
    for (int i = 0; i < NUM_CPU; i++) {
        if (strcmp(spec, cpu_table[i].spec) != 0)
            continue;
        char why[160];
        if (!cpu_entry_available(&cpu_table[i], why, sizeof why))
            return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                               "device '%s' is not available: %s", spec, why);
        use_cpu(ctx, &cpu_table[i]);
        return SEQK_OK;
    }
    if (!strncmp(spec, "opencl", 6))
        return resolve_opencl(spec, ctx);
    return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                       "unknown device '%s': expected ref, cpu, %sopencl, "
                       "opencl:P.D or auto", spec, isa_names);
}

int seqk__registry_count(void) { return 1 + NUM_CPU; }

const seqk_backend *seqk__registry_get(int index)
{
    if (index == 0)
        return &seqk_backend_ref;
    if (index > 0 && index <= NUM_CPU)
        return cpu_table[index - 1].backend;
    return NULL;
}
