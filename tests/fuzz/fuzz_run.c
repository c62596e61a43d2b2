/*
 * fuzz_run.c — libFuzzer target: `seqk run`'s argument and input handling
 * (tools/cmd_run.c, tools/run_ops.c, tools/npy.c) end to end, through
 * seqk_cmd_run itself: the command line, the .npy inputs, the library
 * call and the outputs.
 *
 * An input is the command line and the input files:
 *
 *   LSTM\n-i\nX=@0\n-a\nhidden_size=2\n-o\nY=y.npy \0\0 file0 \n%%\n file1 ...
 *
 * Before the first "\0\0", '\n'-separated arguments (after `seqk run`);
 * after it, up to 8 files separated by "\n%%\n", each put in a memfd.  In
 * the arguments "@N" stands for file N's path.  The value after each -o
 * gets this process's scratch folder put in front of its path (the folder
 * is emptied after each run), and any other argument with a '/' in it
 * drops the input: outputs go nowhere else.  (No chdir: libFuzzer reads
 * its corpus and writes crashes relative to the working directory.)
 * Allocations over 32 MB fail, as they would on a small machine.
 * Invariants: the exit code is 0, 1 or 2, and a run that exits 0 wrote
 * every output it was asked for — one file per -o, nothing else.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "commands.h"

#define MAX_FILES 8
#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
const char *__asan_default_options(void);

/* Tiny inputs can ask for huge outputs: MatMul of [N,0] and [0,M] is N*M
 * zeros.  seqk_tensor_create refuses a size that overflows and reports an
 * allocation that fails (SEQK_ERR_OUT_OF_MEMORY, exit 1), as the release
 * build does for a 885 PB output.  Under ASan an allocation over the
 * limit below (32 MB) fails the same way (NULL, not an abort), so these runs
 * test that path instead of exhausting memory. */
const char *__asan_default_options(void)
{
    return "allocator_may_return_null=1:max_allocation_size_mb=32";
}

static int memfd[MAX_FILES];
static char fdpath[MAX_FILES][32];
static char scratch[64];

static void remove_scratch(void)
{
    rmdir(scratch);
}

static void init(void)
{
    snprintf(scratch, sizeof scratch, "/tmp/fuzz_run.XXXXXX");
    if (!mkdtemp(scratch)) {
        perror("fuzz_run: scratch folder");
        abort();
    }
    atexit(remove_scratch);
    for (int i = 0; i < MAX_FILES; i++) {
        memfd[i] = memfd_create("fuzz_run", MFD_CLOEXEC);
        if (memfd[i] < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(fdpath[i], sizeof fdpath[i], "/proc/self/fd/%d", memfd[i]);
    }
    /* One worker: runs are small, and the fuzzer wants determinism. */
    setenv("SEQK_NUM_THREADS", "1", 1);
}

/* Files in the scratch folder; removes them. */
static int empty_scratch(void)
{
    int n = 0;
    DIR *d = opendir(scratch);
    if (!d)
        abort();
    for (struct dirent *e; (e = readdir(d));) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        n++;
        /* only regular files can have been made here */
        if (unlinkat(dirfd(d), e->d_name, 0) != 0)
            abort();
    }
    closedir(d);
    return n;
}

static const uint8_t *find(const uint8_t *p, const uint8_t *end,
                           const char *sep, size_t len)
{
    if ((size_t)(end - p) < len)
        return NULL;
    return memmem(p, (size_t)(end - p), sep, len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        init();
        ready = 1;
    }
    const uint8_t *end = data + size;
    const uint8_t *split = find(data, end, "\0\0", 2);
    const uint8_t *files = split ? split + 2 : end;
    if (!split)
        split = end;

    /* The files. */
    int nfiles = 0;
    for (const uint8_t *p = files; p < end && nfiles < MAX_FILES; nfiles++) {
        const uint8_t *q = find(p, end, "\n%%\n", 4);
        size_t n = (size_t)((q ? q : end) - p);
        if (ftruncate(memfd[nfiles], 0) != 0 ||
            (n && pwrite(memfd[nfiles], p, n, 0) != (ssize_t)n))
            abort();
        p = q ? q + 4 : end;
    }
    for (int i = nfiles; i < MAX_FILES; i++)
        if (ftruncate(memfd[i], 0) != 0)
            abort();

    /* The arguments: argv[0] = "run", as seqk.c passes them. */
    size_t textlen = (size_t)(split - data);
    char *text = malloc(textlen + 1);
    char *argv[MAX_ARGS + 1];
    char *owned[MAX_ARGS];
    int argc = 0, nowned = 0, outputs = 0, skip = 0, after_o = 0;
    if (!text)
        abort();
    memcpy(text, data, textlen);
    text[textlen] = '\0';
    argv[argc++] = "run";
    for (char *tok = text, *nl; tok && argc < MAX_ARGS; tok = nl) {
        nl = strchr(tok, '\n');
        if (nl)
            *nl++ = '\0';
        char *at = strstr(tok, "@");
        char *eq = strchr(tok, '=');
        if (after_o && eq && !strchr(tok, '/')) {
            /* NAME=PATH -> NAME=<scratch>/PATH */
            size_t pre = (size_t)(eq + 1 - tok);
            char *arg = malloc(pre + strlen(scratch) + 1 + strlen(eq + 1) + 1);
            if (!arg)
                abort();
            memcpy(arg, tok, pre);
            sprintf(arg + pre, "%s/%s", scratch, eq + 1);
            owned[nowned++] = arg;
            argv[argc++] = arg;
        } else if (at && at[1] >= '0' && at[1] < '0' + MAX_FILES) {
            /* prefix, the memfd's path, the rest */
            size_t pre = (size_t)(at - tok);
            const char *fp = fdpath[at[1] - '0'];
            char *arg = malloc(pre + strlen(fp) + strlen(at + 2) + 1);
            if (!arg)
                abort();
            memcpy(arg, tok, pre);
            strcpy(arg + pre, fp);
            strcat(arg, at + 2);
            if (strchr(at + 2, '/') || memchr(tok, '/', pre))
                skip = 1;
            owned[nowned++] = arg;
            argv[argc++] = arg;
        } else {
            if (strchr(tok, '/'))
                skip = 1;
            argv[argc++] = tok;
        }
        after_o = !strcmp(tok, "-o") || !strcmp(tok, "--output");
        outputs += after_o;
    }
    argv[argc] = NULL;

    if (!skip) {
        int rc = seqk_cmd_run(argc, argv);
        if (rc < 0 || rc > 2)
            abort();
        int made = empty_scratch();
        /* Success wrote each output once; a failure left nothing. */
        if ((rc == 0 && made > outputs) || (rc != 0 && made != 0)) {
            fprintf(stderr, "fuzz_run: exit %d with %d files for %d -o\n",
                    rc, made, outputs);
            abort();
        }
    }
    for (int i = 0; i < nowned; i++)
        free(owned[i]);
    free(text);
    return 0;
}
