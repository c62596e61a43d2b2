/*
 * fuzz_kernel_cache.c — libFuzzer target: the OpenCL kernel cache's file
 * reader (src/opencl/cl_file.c) on arbitrary file contents.
 *
 * cl_file.c has no OpenCL in it, so this target builds it alone (the
 * fuzz build has no OpenCL).  Each input is written to a memfd and read
 * through /proc/self/fd/N as the key FUZZ_KEY, as the backend reads
 * $XDG_CACHE_HOME/seqk/kernels/<key>.bin.  An accepted file must be
 * consistent: its binary is the file minus the 32-byte header, and the
 * checksum matches.  Then the write path: the input itself is cached
 * under a fresh name, read back, and must come back byte for byte.
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "opencl/cl_file.h"

#define FUZZ_KEY 0x5345514b46555a5aull /* "ZZUFKQES" in the file */

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];
static char dir[64];
static char out[128];

static void remove_dir(void)
{
    unlink(out);
    rmdir(dir);
}

static void init(void)
{
    memfd = memfd_create("fuzz_kernel_cache", MFD_CLOEXEC);
    snprintf(dir, sizeof dir, "/tmp/fuzz_kernel_cache.XXXXXX");
    if (memfd < 0 || !mkdtemp(dir)) {
        perror("fuzz_kernel_cache: set-up");
        abort();
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    snprintf(out, sizeof out, "%s/%016llx.bin", dir,
             (unsigned long long)FUZZ_KEY);
    atexit(remove_dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0)
        init();
    if (ftruncate(memfd, 0) != 0 ||
        (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
        perror("memfd write");
        abort();
    }

    unsigned char *bin = NULL;
    size_t n = 0;
    const char *why = NULL;
    int rc = seqk__cl_cache_read(path, FUZZ_KEY, &bin, &n, &why);
    if (rc == 0) {
        if (!bin || n == 0 || n != size - 32 || why ||
            memcmp(bin, data + 32, n) != 0)
            abort();
    } else if (rc != -1 || bin || !why) {
        abort(); /* 1 (missing) cannot happen: the memfd is there */
    }
    free(bin);

    /* Write path: any non-empty bytes make a cache file that reads back. */
    if (size > 0) {
        if (seqk__cl_cache_write(out, FUZZ_KEY, data, size) != 0) {
            perror("seqk__cl_cache_write");
            abort();
        }
        rc = seqk__cl_cache_read(out, FUZZ_KEY, &bin, &n, &why);
        if (rc != 0 || n != size || memcmp(bin, data, size) != 0)
            abort();
        free(bin);
        /* Another key's file is refused. */
        rc = seqk__cl_cache_read(out, FUZZ_KEY + 1, &bin, &n, &why);
        if (rc != -1 || bin)
            abort();
        unlink(out);
    }
    return 0;
}
