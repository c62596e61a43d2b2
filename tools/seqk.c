/*
 * seqk.c — the `seqk` command: dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "seqk.h"
#include "seqk_tune.h"

/* The library ignores a tuning database it cannot use (and says so only
 * under SEQK_VERBOSE); the command tells its user once, on stderr. */
static void warn_unusable_tuning_db(void)
{
    char msg[1024];
    if (seqk_tune_db_check(NULL, msg, sizeof msg) != SEQK_OK)
        fprintf(stderr, "seqk: warning: %s; running on built-in defaults "
                "(check it with `seqk tune --check`)\n", msg);
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: seqk <command> [options]\n"
            "\n"
            "commands:\n"
            "  info    devices, CPU features, the kernel chosen per op\n"
            "  run     run one ONNX-style op on .npy inputs\n"
            "  bench   time problem suites on one or more devices\n"
            "  tune    measure kernel variants, record the best per device\n"
            "\n"
            "  seqk <command> --help   options of a command\n"
            "  seqk --version          the library version\n"
            "\n"
            "environment: SEQK_DEVICE, SEQK_NUM_THREADS, SEQK_TUNING_DB,\n"
            "  SEQK_DISABLE_CPU_FEATURES, SEQK_VERBOSE (dispatch, alloc, all)\n");
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "version")) {
        printf("seqk %s\n", seqk_version_string());
        return 0;
    }
    if (!strcmp(cmd, "info") || !strcmp(cmd, "run") || !strcmp(cmd, "bench"))
        warn_unusable_tuning_db();
    if (!strcmp(cmd, "info"))
        return seqk_cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "run"))
        return seqk_cmd_run(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench"))
        return seqk_cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "tune"))
        return seqk_tune_command(argc - 1, argv + 1);
    fprintf(stderr, "seqk: unknown command '%s' (try seqk --help)\n", cmd);
    return 2;
}
