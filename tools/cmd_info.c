/*
 * cmd_info.c — `seqk info`: the devices seqk knows of and whether each is
 * usable, the CPU features seen, and for each usable device the kernel
 * dispatch picks per op (read from the backend tables).
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "core/internal.h"
#include "core/registry.h"
#include "seqk.h"

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

    char detected[160], masked[160];
    seqk__cpu_flag_names(seqk__cpu_detected(), detected, sizeof detected);
    seqk__cpu_flag_names(seqk__cpu_masked() & seqk__cpu_detected(), masked,
                         sizeof masked);
    printf("seqk %s\n", seqk_version_string());
    printf("CPU features: %s\n", detected[0] ? detected : "(none detected)");
    if (masked[0])
        printf("masked by SEQK_DISABLE_CPU_FEATURES: %s\n", masked);

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
