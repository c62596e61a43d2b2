/*
 * seqk.c — the `seqk` command: dispatches to the subcommands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
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
            "Every command takes --threads N (0: the library default).\n"
            "\n"
            "exit status (every command): 0 success, 1 runtime failure,\n"
            "  2 usage error (incl. a device spec naming no usable device)\n"
            "\n"
            "environment:\n"
            "  SEQK_DEVICE                default device spec (else auto)\n"
            "  SEQK_NUM_THREADS           threads per context, 1..1024\n"
            "  SEQK_TUNING_DB             tuning database path (else\n"
            "                             $XDG_CACHE_HOME/seqk/tuning.json)\n"
            "  SEQK_DISABLE_CPU_FEATURES  mask ISAs, e.g. avx512 or "
            "avx512,avx2\n"
            "  SEQK_VERBOSE               log to stderr: dispatch, alloc, "
            "all\n"
            "  SEQK_OPENCL_GEMM           OpenCL GEMM path: own, clblast "
            "(else auto)\n"
            "  SEQK_OPENCL_PROFILE        1: profile OpenCL kernels (bench "
            "device_ms)\n"
            "  SEQK_KERNEL_DIR            read kernels/*.cl from this "
            "folder, not the\n"
            "                             embedded copies (kernel "
            "development)\n"
            "  SEQK_TUNE_WORKER           program seqk tune starts as its "
            "worker\n"
            "                             (a wrapper, e.g. under an "
            "emulator)\n");
}

/* `seqk tune` is the tuner library's: its --threads is taken here and
 * handed on as SEQK_NUM_THREADS, which its contexts and worker processes
 * read.  Removes the option from argv; -1 to go on, else an exit code. */
static int tune_threads(int *argc, char **argv)
{
    for (int i = 1; i < *argc; i++) {
        const char *v = NULL;
        int used = 0;
        if (!strcmp(argv[i], "--threads")) {
            v = i + 1 < *argc ? argv[i + 1] : "";
            used = i + 1 < *argc ? 2 : 1;
        } else if (!strncmp(argv[i], "--threads=", 10)) {
            v = argv[i] + 10;
            used = 1;
        } else {
            continue;
        }
        int n = 0;
        if (cli_parse_threads("tune", v, &n))
            return 2;
        if (n > 0) {
            char buf[16];
            snprintf(buf, sizeof buf, "%d", n);
            setenv("SEQK_NUM_THREADS", buf, 1);
        }
        memmove(&argv[i], &argv[i + used],
                (size_t)(*argc - i - used + 1) * sizeof *argv);
        *argc -= used;
        i--;
    }
    return -1;
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
    if (!strcmp(cmd, "tune")) {
        int targc = argc - 1, rc = tune_threads(&targc, argv + 1);
        if (rc >= 0)
            return rc;
        return seqk_tune_command(targc, argv + 1);
    }
    fprintf(stderr, "seqk: unknown command '%s' (try seqk --help)\n", cmd);
    return 2;
}
