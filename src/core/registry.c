/*
 * registry.c — the device registry and device-spec resolution.
 *
 * The CPU table below expands the ISA list (src/cpu_simd/isa.def), in
 * ascending ISA order.  An ISA of another architecture has a NULL backend
 * and is listed with the reason it is missing.
 *
 * Device backends (device.h) come from seqk_devices.def, which
 * src/meson.build generates: SEQK_DEVICE(name, title) for each one built,
 * SEQK_DEVICE_NOT_BUILT(name, title) for each one left out (so that a
 * spec naming it says why).  Their specs are "<name>" (the first device)
 * and "<name>:P.D" (platform P, device D).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu_simd/isa.h"
#include "core/registry.h"
#include "seqk_config.h"

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
     SEQK_ISA_BUILT(arch_, .backend = &seqk__backend_##name_, )              \
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

#define SEQK_DEVICE(name, title) \
    extern const seqk_device_iface seqk__device_##name;
#define SEQK_DEVICE_NOT_BUILT(name, title)
#include "seqk_devices.def"
#undef SEQK_DEVICE
#undef SEQK_DEVICE_NOT_BUILT

typedef struct device_entry {
    const char *name;
    const char *title;
    const seqk_device_iface *iface; /* NULL: not in this build */
} device_entry;

static const device_entry device_table[] = {
#define SEQK_DEVICE(name, title) {#name, title, &seqk__device_##name},
#define SEQK_DEVICE_NOT_BUILT(name, title) {#name, title, NULL},
#include "seqk_devices.def"
#undef SEQK_DEVICE
#undef SEQK_DEVICE_NOT_BUILT
};
enum { NUM_DEV = sizeof device_table / sizeof device_table[0] };

const seqk_device_iface *seqk__device_backend(int i)
{
    int n = 0;
    for (int k = 0; k < NUM_DEV; k++)
        if (device_table[k].iface && n++ == i)
            return device_table[k].iface;
    return NULL;
}

const seqk_device_iface *seqk__device_backend_find(const char *name)
{
    for (int k = 0; k < NUM_DEV; k++)
        if (device_table[k].iface && !strcmp(device_table[k].name, name))
            return device_table[k].iface;
    return NULL;
}

void seqk__device_titles(char *buf, size_t len)
{
    buf[0] = '\0';
    for (int k = 0; k < NUM_DEV; k++) {
        size_t used = strlen(buf);
        snprintf(buf + used, len - used, "%s%s", k ? " or " : "",
                 device_table[k].title);
    }
}

/* The devices of each device backend, probed once per process. */
typedef struct device_probe {
    seqk_device_desc devs[SEQK_MAX_DEVICES];
    int count;
    char why[256];
} device_probe;
static device_probe probes[NUM_DEV];
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;

static void probe_all(void)
{
    for (int k = 0; k < NUM_DEV; k++) {
        const device_entry *e = &device_table[k];
        device_probe *p = &probes[k];
        if (e->iface)
            p->count = e->iface->probe(p->devs, SEQK_MAX_DEVICES, p->why,
                                       sizeof p->why);
        else
            snprintf(p->why, sizeof p->why,
                     "seqk was built without %s (-D%s=disabled)", e->title,
                     e->name);
    }
}

seqk_status seqk_device_count(int *count)
{
    if (!count)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_device_count: count is NULL");
    pthread_once(&probe_once, probe_all);
    int n = 1; /* ref */
    for (int i = 0; i < NUM_CPU; i++)
        if (strcmp(cpu_table[i].arch, SEQK_ARCH) == 0)
            n++;
    for (int k = 0; k < NUM_DEV; k++)
        n += probes[k].count;
    *count = n;
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
        snprintf(info->name, sizeof info->name, "%s", seqk__backend_ref.name);
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
    for (int k = 0; k < NUM_DEV; k++) {
        if (index >= probes[k].count) {
            index -= probes[k].count;
            continue;
        }
        /* Only backends in this build find devices. */
        const seqk_device_desc *d = &probes[k].devs[index];
        snprintf(info->spec, sizeof info->spec, "%s:%d.%d",
                 device_table[k].name, d->platform, d->device);
        snprintf(info->name, sizeof info->name, "%.80s (%.40s)", d->name,
                 d->platform_name);
        info->kind = device_table[k].iface->kind;
        info->available = 1;
        return SEQK_OK;
    }
    return seqk__error(NULL, SEQK_ERR_INTERNAL,
                       "seqk_device_info_get: device %d not found", index);
}

static void use_ref_only(seqk_context *ctx)
{
    ctx->backends[0] = &seqk__backend_ref;
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

/* spec is "<name>" or "<name>..." for device backend entry k. */
static seqk_status resolve_device(const char *spec, int k, seqk_context *ctx)
{
    const device_entry *e = &device_table[k];
    const device_probe *pr = &probes[k];
    const char *tail = spec + strlen(e->name);
    int p = 0, d = 0, explicit_index = 0;
    if (*tail == ':') {
        char extra;
        if (sscanf(tail + 1, "%d.%d%c", &p, &d, &extra) != 2 || p < 0 ||
            d < 0)
            return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                               "device '%s': expected %s:P.D with "
                               "platform P and device D numbers, e.g. "
                               "%s:0.0", spec, e->name, e->name);
        explicit_index = 1;
    } else if (*tail != '\0') {
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "unknown device '%s': expected %s or "
                           "%s:P.D", spec, e->name, e->name);
    }
    pthread_once(&probe_once, probe_all);
    if (pr->count == 0)
        return seqk__error(ctx, SEQK_ERR_NO_DEVICE, "device '%s': %s", spec,
                           pr->why);
    for (int i = 0; i < pr->count; i++) {
        const seqk_device_desc *dv = &pr->devs[i];
        if (explicit_index && (dv->platform != p || dv->device != d))
            continue;
        /* Device memory is not host memory, so ref and the CPU backends
         * cannot run on it: the device's backend is the only one, and
         * runs ref on host copies for ops it has no kernel for. */
        seqk_status st = e->iface->open(ctx, dv->platform, dv->device);
        if (st != SEQK_OK)
            return st;
        ctx->dev = e->iface;
        ctx->backends[0] = e->iface->backend;
        ctx->num_backends = 1;
        snprintf(ctx->device, sizeof ctx->device, "%s:%d.%d", e->name,
                 dv->platform, dv->device);
        return SEQK_OK;
    }
    return seqk__error(ctx, SEQK_ERR_NO_DEVICE,
                       "device '%s': no such %s device; found %d, the "
                       "first is %s:%d.%d (%s)", spec, e->title, pr->count,
                       e->name, pr->devs[0].platform, pr->devs[0].device,
                       pr->devs[0].name);
}

/* The ISA specs for messages: ", avx2, avx512, neon" */
static const char isa_names[] =
#define SEQK_ISA(name, arch, needs, cflags, title) ", " #name
#include "cpu_simd/isa.def"
    "";

seqk_status seqk__registry_resolve(const char *spec, seqk_context *ctx)
{
    if (!strcmp(spec, "ref")) {
        use_ref_only(ctx);
        return SEQK_OK;
    }
    if (!strcmp(spec, "cpu") || !strcmp(spec, "auto")) {
        /* auto: the best CPU backend, and the first device backend's first
         * device on top for the ops and shapes where tuning data measured
         * it faster (offload.c; opened on first use). */
        use_cpu(ctx, NULL);
        /* No probe here: the device is initialised only when tuning data
         * sends an op there. */
        const seqk_backend *offload = seqk__offload_backend();
        if (!strcmp(spec, "auto") && offload &&
            ctx->num_backends < SEQK_MAX_BACKENDS)
            ctx->backends[ctx->num_backends++] = offload;
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
    for (int k = 0; k < NUM_DEV; k++)
        if (!strncmp(spec, device_table[k].name,
                     strlen(device_table[k].name)))
            return resolve_device(spec, k, ctx);
    char devices[128] = "";
    for (int k = 0; k < NUM_DEV; k++) {
        size_t used = strlen(devices);
        snprintf(devices + used, sizeof devices - used, ", %s, %s:P.D",
                 device_table[k].name, device_table[k].name);
    }
    return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                       "unknown device '%s': expected ref, cpu%s%s or auto",
                       spec, isa_names, devices);
}
