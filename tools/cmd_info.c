/*
 * cmd_info.c — `seqk info`: the CPU (features detected and masked, caches,
 * cores, default threads), the devices seqk knows of and whether each is
 * usable, and for each usable device the kernel dispatch picks per op
 * (seqk_context_op_kernel).
 */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "commands.h"
#include "seqk.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: seqk info [--device SPEC] [--threads N]\n"
               "  Lists devices, CPU ISA features and the kernel chosen per\n"
               "  op on each usable device (or only on SPEC).\n"
               "  --threads N   the thread count contexts get (0: the\n"
               "                library default); shown with the default\n"
               "                device\n"
               "exit status: 0 success, 2 usage error (incl. a device spec\n"
               "naming no usable device)\n");
}

static int threads; /* --threads: 0 is the library default */

static void print_kernels(const char *spec)
{
    seqk_options o;
    seqk_options_init(&o);
    o.device = spec;
    o.threads = threads;
    seqk_context *ctx = NULL;
    if (seqk_context_create(&o, &ctx) != SEQK_OK) {
        printf("    (cannot create a context: %s)\n", seqk_last_error(NULL));
        return;
    }
    seqk_device_facts f = {.struct_size = sizeof f};
    if (seqk_context_device_facts(ctx, &f) == SEQK_OK && f.present) {
        printf("    name %s, vendor %s\n", f.name, f.vendor);
        printf("    driver %s, %s\n", f.driver_version, f.version);
        printf("    compute units %u, max work-group %zu, local memory %llu "
               "KiB, global memory %llu MiB, fp16 %s\n",
               f.compute_units, f.max_work_group_size,
               (unsigned long long)(f.local_mem_size >> 10),
               (unsigned long long)(f.global_mem_size >> 20),
               f.fp16 ? "yes" : "no");
    }
    int num_ops = 0;
    seqk_op_count(&num_ops);
    for (int op = 0; op < num_ops; op++) {
        /* The best backend with kernels for the op; supports() may still
         * refuse a particular shape at run time (SEQK_VERBOSE=dispatch
         * shows it). */
        seqk_op_kernel k = {.struct_size = sizeof k};
        if (seqk_context_op_kernel(ctx, op, &k) != SEQK_OK)
            continue;
        printf("    %-14s %-32s [%s]\n", k.op, k.kernel[0] ? k.kernel : "(none)",
               k.backend);
        if (k.refused[0])
            printf("    %-14s (%s)\n", "", k.refused);
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
    seqk_cpu_info c = {.struct_size = sizeof c};
    seqk_cpu_info_get(&c);
    printf("seqk %s\n", seqk_version_string());
    printf("CPU: %s\n", c.name[0] ? c.name : "(unnamed)");
    printf("  detection: %s\n", c.detection);
    printf("  features detected: %s\n",
           c.features_detected[0] ? c.features_detected : "(none detected)");
    if (c.features_masked[0]) {
        printf("  masked by SEQK_DISABLE_CPU_FEATURES: %s\n",
               c.features_masked);
        printf("  features used: %s\n",
               c.features_used[0] ? c.features_used : "(none)");
    }
    print_size("L1d", c.l1d, 1);
    print_size("L2", c.l2, c.l2_shared_by);
    print_size("L3", c.l3, c.l3_shared_by);
    printf("  cores: %d physical, %d logical usable; default threads %d "
           "(SEQK_NUM_THREADS overrides)\n",
           c.physical_cores, c.logical_cores, c.default_threads);
}

int seqk_cmd_info(int argc, char **argv)
{
    const char *only = NULL;
    if (argc >= 2 && seqk_is_model_path(argv[1]))
        return seqk_cmd_model_info(argc, argv);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--device") && i + 1 < argc) {
            only = argv[++i];
        } else if (!strncmp(argv[i], "--device=", 9)) {
            only = argv[i] + 9;
        } else if (!strcmp(argv[i], "--threads") ||
                   !strncmp(argv[i], "--threads=", 10)) {
            const char *v = argv[i][9] == '=' ? argv[i] + 10
                            : i + 1 < argc    ? argv[++i]
                                              : "";
            if (cli_parse_threads("info", v, &threads))
                return 2;
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
        o.threads = threads;
        seqk_context *ctx = NULL;
        seqk_status st = seqk_context_create(&o, &ctx);
        if (st != SEQK_OK) {
            fprintf(stderr, "seqk info: %s\n", seqk_last_error(NULL));
            return cli_device_exit_code(st);
        }
        printf("\ndevice %s -> %s, %d thread(s)\n", only,
               seqk_context_device(ctx), seqk_context_threads(ctx));
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
    o.threads = threads;
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
