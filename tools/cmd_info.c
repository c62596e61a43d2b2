/*
 * cmd_info.c — `seqk info`: the CPU (features detected and masked, caches,
 * cores, default threads), the devices seqk knows of and whether each is
 * usable, and for each usable device the kernel dispatch picks per op (read
 * from the backend tables).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/internal.h"
#include "core/registry.h"
#include "seqk.h"
#include "seqk_config.h"
#if SEQK_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

static void usage(FILE *f)
{
    fprintf(f, "usage: seqk info [--device SPEC]\n"
               "  Lists devices, CPU ISA features and the kernel chosen per\n"
               "  op on each usable device (or only on SPEC).\n");
}

static void print_kernels(const char *spec)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    seqk_context *ctx = NULL;
    if (seqk_context_create(&o, &ctx) != SEQK_OK) {
        printf("    (cannot create a context: %s)\n", seqk_last_error(NULL));
        return;
    }
#if SEQK_HAVE_OPENCL
    const seqk_cl_device_facts *f = seqk_cl_facts(ctx);
    if (f) {
        printf("    name %s, vendor %s\n", f->name, f->vendor);
        printf("    driver %s, %s\n", f->driver_version, f->version);
        printf("    compute units %u, max work-group %zu, local memory %llu "
               "KiB, global memory %llu MiB, fp16 %s\n",
               (unsigned)f->compute_units, f->max_work_group_size,
               (unsigned long long)(f->local_mem_size >> 10),
               (unsigned long long)(f->global_mem_size >> 20),
               f->fp16 ? "yes" : "no");
    }
#endif
    for (int op = 0; op < SEQK_OP_COUNT_; op++) {
        /* The best backend with kernels for the op; supports() may still
         * refuse a particular shape at run time (SEQK_VERBOSE=dispatch
         * shows it). */
        const char *kernel = "(none)", *on = "";
        char skipped[256] = "";
        for (int i = ctx->num_backends - 1; i >= 0; i--) {
            const seqk_backend *b = ctx->backends[i];
            char why[160] = "";
            if (!b->kernel_names[op])
                continue;
            if (b->supports && !b->supports(b, (seqk_op)op, NULL, why,
                                            sizeof why)) {
                size_t used = strlen(skipped);
                snprintf(skipped + used, sizeof skipped - used, "%s%s: %s",
                         used ? "; " : "", b->spec, why);
                continue;
            }
            kernel = b->kernel_names[op];
            on = b->spec;
            break;
        }
        printf("    %-14s %-32s [%s]\n", seqk_op_name((seqk_op)op), kernel,
               on);
        if (skipped[0])
            printf("    %-14s (%s)\n", "", skipped);
    }
    seqk_context_destroy(ctx);
}

static void print_size(const char *label, size_t bytes, int shared_by)
{
    if (!bytes) {
        printf("  %-4s none\n", label);
        return;
    }
    if (bytes >= (1u << 20) && bytes % (1u << 20) == 0)
        printf("  %-4s %zu MiB", label, bytes >> 20);
    else
        printf("  %-4s %zu KiB", label, bytes >> 10);
    if (shared_by > 1)
        printf(", shared by %d cores\n", shared_by);
    else if (shared_by == 1)
        printf(" per core\n");
    else
        printf("\n");
}

/* What was detected, what SEQK_DISABLE_CPU_FEATURES masks, what is used;
 * caches and cores (the starting point of blocking and threading). */
static void print_cpu(void)
{
    unsigned det = seqk__cpu_detected(), msk = seqk__cpu_masked() & det;
    char detected[160], masked[160], used[160];
    seqk__cpu_flag_names(det, detected, sizeof detected);
    seqk__cpu_flag_names(msk, masked, sizeof masked);
    seqk__cpu_flag_names(det & ~msk, used, sizeof used);
    printf("seqk %s\n", seqk_version_string());
    printf("CPU: %s\n", seqk__cpu_name()[0] ? seqk__cpu_name() : "(unnamed)");
    printf("  detection: %s\n", seqk__cpu_source());
    printf("  features detected: %s\n",
           detected[0] ? detected : "(none detected)");
    if (masked[0]) {
        printf("  masked by SEQK_DISABLE_CPU_FEATURES: %s\n", masked);
        printf("  features used: %s\n", used[0] ? used : "(none)");
    }
    seqk_cpu_caches c;
    seqk__cpu_caches(&c);
    print_size("L1d", c.l1d, 1);
    print_size("L2", c.l2, c.l2_shared_by);
    print_size("L3", c.l3, c.l3_shared_by);
    printf("  cores: %d physical, %d logical usable; default threads %d "
           "(SEQK_NUM_THREADS overrides)\n",
           seqk__cpu_physical_cores(), seqk__cpu_logical_cores(),
           seqk__cpu_default_threads());
}

int seqk_cmd_info(int argc, char **argv)
{
    const char *only = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            only = argv[++i];
        } else {
            fprintf(stderr, "seqk info: unknown argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        }
    }

    print_cpu();

    if (only) {
        seqk_options o;
        seqk_options_init(&o);
        o.device = only;
        seqk_context *ctx = NULL;
        if (seqk_context_create(&o, &ctx) != SEQK_OK) {
            fprintf(stderr, "seqk info: %s\n", seqk_last_error(NULL));
            return 1;
        }
        printf("\ndevice %s -> %s\n", only, seqk_context_device(ctx));
        seqk_context_destroy(ctx);
        print_kernels(only);
        return 0;
    }

    int count = 0;
    seqk_device_count(&count);
    printf("\ndevices:\n");
    for (int i = 0; i < count; i++) {
        seqk_device_info info = {.struct_size = sizeof info};
        if (seqk_device_info_get(i, &info) != SEQK_OK)
            continue;
        printf("  %-12s %-44s %s\n", info.spec, info.name,
               info.available ? "available" : "unavailable");
        if (!info.available)
            printf("    %s\n", info.why_unavailable);
        else
            print_kernels(info.spec);
    }
    seqk_options o;
    seqk_options_init(&o);
    seqk_context *ctx = NULL;
    if (seqk_context_create(&o, &ctx) == SEQK_OK) {
        printf("\ndefault device (SEQK_DEVICE or auto): %s, %d thread(s)\n",
               seqk_context_device(ctx), seqk_context_threads(ctx));
        seqk_context_destroy(ctx);
    } else {
        printf("\ndefault device: %s\n", seqk_last_error(NULL));
    }
    return 0;
}
