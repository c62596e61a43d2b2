/*
 * device.h — what a device backend (a device with its own memory:
 * OpenCL today; Vulkan, Level Zero, CUDA later) is to core/ and tune/: a
 * table of functions the backend fills in, like a BLIS context registered
 * per architecture or oneDNN's engine_t.  core/ and tune/ never call a
 * device API by name; they call this table.
 *
 *   registry.c   probe() lists devices; open() binds one to a context
 *   context.c    close(), synchronize(), device_time()
 *   tensor.c     alloc(), free(), read(), write()
 *   offload.c    alloc(), write(), read(), free() around ops of `auto`
 *                contexts that the tuning data sends to the device
 *   tune/        facts() for limits and fingerprints, tunables, and
 *                source_text() for the hash of a tunable's kernel source
 *
 * A context on a device holds ctx->dev (this table) and ctx->dev_state
 * (the backend's own state, opaque here).  Its tensors' data pointers are
 * device addresses (never dereferenced on the host); alloc() reserves
 * `bytes` of data followed by SEQK_TENSOR_GUARD_BYTES guard bytes, data
 * zeroed and guard filled with SEQK_TENSOR_GUARD_BYTE.
 *
 * Adding a device backend: a folder src/<name>/ that defines
 * `const seqk_device_iface seqk__device_<name>` and adds its name to
 * device_backends in src/meson.build, which generates the registry's list
 * (seqk_devices.def).
 */
#ifndef SEQK_CORE_DEVICE_H
#define SEQK_CORE_DEVICE_H

#include <stddef.h>
#include <stdint.h>

#include "core/backend.h"

struct seqk_tunable; /* tune/tune.h */

/* One device a backend found: spec "<name>:<platform>.<device>". */
typedef struct seqk_device_desc {
    int platform, device;
    char name[96];
    char platform_name[64];
} seqk_device_desc;

/* Facts about a context's device, for tuning limits and fingerprints.
 * Strings are "" when unknown. */
typedef struct seqk__device_facts {
    char name[128], vendor[128], driver[64];
    char version[256];           /* the device's version string */
    char platform[256];          /* platform / runtime version */
    int is_gpu;
    int compute_units;
    int64_t local_mem;           /* bytes of on-chip shared memory */
    int64_t max_wg;              /* largest work-group */
    int64_t max_item[3];         /* largest work-group per dimension */
    int64_t global_mem;          /* bytes of device memory */
    int fp16;                    /* half precision arithmetic */
} seqk__device_facts;

#define SEQK_MAX_DEVICES 16      /* per device backend */

typedef struct seqk_device_iface {
    const char *name;            /* "opencl": the spec prefix and the
                                    tunables' backend */
    const char *title;           /* "OpenCL", for messages */
    seqk_device_kind kind;
    /* The op table of a context on this device (the only backend such a
     * context has: host backends cannot read device memory). */
    const seqk_backend *backend;

    /* The devices present (up to max); 0 with a reason in why when none. */
    int (*probe)(seqk_device_desc *out, int max, char *why, size_t why_len);
    /* Opens device (platform, device) for ctx and sets ctx->dev_state;
     * a message in ctx on failure. */
    seqk_status (*open)(seqk_context *ctx, int platform, int device);
    /* Waits for the device, frees everything of ctx's and sets
     * ctx->dev_state to NULL. */
    void (*close)(seqk_context *ctx);
    seqk_status (*synchronize)(seqk_context *ctx);
    /* Waits, then the device milliseconds of the work since the last
     * call (SEQK_ERR_UNSUPPORTED when the device does not profile). */
    seqk_status (*device_time)(seqk_context *ctx, double *ms);

    /* Memory: see the header comment.  read and write block; copy is
     * device to device, ordered after earlier work. */
    seqk_status (*alloc)(seqk_context *ctx, size_t bytes, void **dev);
    void (*free)(seqk_context *ctx, void *dev);
    seqk_status (*write)(seqk_context *ctx, void *dev, const void *host,
                         size_t bytes);
    seqk_status (*read)(seqk_context *ctx, void *host, const void *dev,
                        size_t bytes);
    seqk_status (*copy)(seqk_context *ctx, void *dst, const void *src,
                        size_t bytes);

    /* Facts of ctx's device; on a failed query the fact stays 0 or "",
     * the failure is logged and its status returned. */
    seqk_status (*facts)(seqk_context *ctx, seqk__device_facts *out);
    /* The backend's tunables, NULL-terminated. */
    const struct seqk_tunable *const *tunables;
    /* The kernel source text a tunable names (malloc'd; NULL if none), as
     * the backend would build it. */
    char *(*source_text)(const char *source);
} seqk_device_iface;

#endif /* SEQK_CORE_DEVICE_H */
