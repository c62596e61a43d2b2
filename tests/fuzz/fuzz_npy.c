/*
 * fuzz_npy.c — libFuzzer target: the .npy reader (tools/npy.c) on
 * arbitrary file contents.
 *
 * npy_read takes a path and insists on a regular file, so each input is
 * written to one memfd (a regular file in memory, no disk I/O) that is
 * opened again through /proc/self/fd/N.  An accepted array must be
 * consistent: numel is the product of dims, bytes = numel * itemsize, and
 * every byte of data is readable (ASan checks the read below).
 */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "npy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int memfd = -1;
static char path[64];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (memfd < 0) {
        memfd = memfd_create("fuzz_npy", MFD_CLOEXEC);
        if (memfd < 0) {
            perror("memfd_create");
            abort();
        }
        snprintf(path, sizeof path, "/proc/self/fd/%d", memfd);
    }
    if (ftruncate(memfd, 0) != 0 ||
        (size && pwrite(memfd, data, size, 0) != (ssize_t)size)) {
        perror("memfd write");
        abort();
    }

    npy_array a;
    char err[256];
    npy_status st = npy_read(path, &a, err, sizeof err);
    if (st == NPY_OK) {
        if (a.ndim < 0 || a.ndim > NPY_MAX_DIMS || !a.data)
            abort();
        /* A zero dim makes the rest free: (0, 2^62, 2^62) is legal. */
        int64_t numel = 1;
        int overflow = 0, zero = 0;
        for (int i = 0; i < a.ndim; i++) {
            if (a.dims[i] < 0)
                abort();
            zero |= a.dims[i] == 0;
            overflow |= __builtin_mul_overflow(numel, a.dims[i], &numel);
        }
        if (zero)
            numel = 0;
        if ((overflow && !zero) || numel != a.numel ||
            a.bytes != (size_t)numel * npy_dtype_size(a.dtype) ||
            a.bytes > size)
            abort();
        volatile unsigned char sum = 0;
        const unsigned char *p = a.data;
        for (size_t i = 0; i < a.bytes; i++)
            sum ^= p[i];
        (void)sum;
        if (a.dtype == NPY_BOOL)
            for (size_t i = 0; i < a.bytes; i++)
                if (p[i] > 1)
                    abort(); /* documented: read as 0 or 1 */
    } else if (memchr(err, '\0', sizeof err) == NULL) {
        abort();
    }
    npy_free(&a);
    return 0;
}
