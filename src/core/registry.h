/*
 * registry.h — the device registry: every device seqk knows of (the
 * reference backend, the CPU ISA levels of this architecture, the devices
 * each device backend reports), whether each is usable, and the
 * resolution of a device spec string into a context's backend list.
 */
#ifndef SEQK_CORE_REGISTRY_H
#define SEQK_CORE_REGISTRY_H

#include "core/internal.h"

/* Resolves spec into ctx->backends / ctx->device; on failure writes the
 * message into ctx->error and returns SEQK_ERR_NO_DEVICE or
 * SEQK_ERR_INVALID_ARG. */
seqk_status seqk__registry_resolve(const char *spec, seqk_context *ctx);

/* cpu.c: ISA features of this CPU that the OS has enabled, after
 * SEQK_DISABLE_CPU_FEATURES masking. */
enum {
    SEQK_CPU_SSE2 = 1u << 0,
    SEQK_CPU_AVX = 1u << 1,
    SEQK_CPU_AVX2 = 1u << 2,
    SEQK_CPU_FMA = 1u << 3,
    SEQK_CPU_AVX512F = 1u << 4,
    SEQK_CPU_AVX512BW = 1u << 5,
    SEQK_CPU_AVX512DQ = 1u << 6,
    SEQK_CPU_AVX512VL = 1u << 7,
    SEQK_CPU_NEON = 1u << 8,
    SEQK_CPU_FP16 = 1u << 9,
    SEQK_CPU_DOTPROD = 1u << 10
};
unsigned seqk__cpu_detected(void);  /* what the hardware + OS offer */
unsigned seqk__cpu_masked(void);    /* what SEQK_DISABLE_CPU_FEATURES removes */
unsigned seqk__cpu_usable(void);    /* detected & ~masked */
/* Space-separated names of the bits in flags. */
void seqk__cpu_flag_names(unsigned flags, char *buf, size_t len);

/* Data caches of (the first core of) this CPU, for cache blocking.  Sizes
 * in bytes per instance; l1d and l2 are never 0 (typical values stand in
 * when nothing reports them); l3 is 0 when there is none (or none known).
 * *_shared_by: physical cores sharing one instance (1 = private to a core;
 * l3_shared_by is 0 when l3 is 0). */
typedef struct seqk_cpu_caches {
    size_t l1d, l2, l3;
    int l2_shared_by, l3_shared_by;
} seqk_cpu_caches;
void seqk__cpu_caches(seqk_cpu_caches *out);
int seqk__cpu_physical_cores(void); /* >= 1 */
/* Logical processors this process may run on (its affinity mask). */
int seqk__cpu_logical_cores(void);
/* The default thread count: physical cores, but no more than the
 * processors the affinity mask allows. */
int seqk__cpu_default_threads(void);
/* The CPU's marketing name ("" if unknown), and how detection was done
 * ("cpuinfo", or the fallback used and why) — for `seqk info`. */
const char *seqk__cpu_name(void);
const char *seqk__cpu_source(void);

/* The device backends of this build (device.h), in the order of
 * seqk_devices.def; NULL when i is past the last. */
const seqk_device_iface *seqk__device_backend(int i);
/* The device backend called name ("opencl"), or NULL. */
const seqk_device_iface *seqk__device_backend_find(const char *name);
/* The titles of the device backends seqk knows, built or not, joined by
 * " or " ("OpenCL"), for messages. */
void seqk__device_titles(char *buf, size_t len);

/* offload.c: the first device backend as the top backend of `auto`
 * contexts, for the ops and shapes the tuning data puts there (NULL when
 * this build has no device backend); its tunables (NULL-terminated); and
 * the per-context state's cleanup. */
const seqk_backend *seqk__offload_backend(void);
extern const struct seqk_tunable *const seqk__offload_tunables[];
void seqk__offload_free(seqk_context *ctx);

#endif
