/*
 * cl_file.c — regular-file reads and the kernel cache's file format
 * (layout in cl_file.h).  No OpenCL here: the fuzzers build this file
 * alone.
 */
#define _POSIX_C_SOURCE 200809L
#include "opencl/cl_file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CACHE_MAGIC "SEQKCLB1"
typedef struct cache_header {
    char magic[8];
    uint64_t key;
    uint64_t size;
    uint64_t checksum;
} cache_header;
_Static_assert(sizeof(cache_header) == 32, "cache header is 32 bytes");

uint64_t seqk__cl_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* Opens path for reading when it is a regular file, its size in *size.
 * O_NONBLOCK: a FIFO must not block the open (it is refused, EINVAL).
 * -1 with errno set otherwise. */
static int open_regular(const char *path, uint64_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return -1;
    struct stat sb;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) {
        const int e = S_ISREG(sb.st_mode) ? errno : EINVAL;
        close(fd);
        errno = e;
        return -1;
    }
    *size = (uint64_t)sb.st_size;
    return fd;
}

/* n bytes from fd into buf: 0, or -1 on an error or a short file. */
static int read_full(int fd, void *buf, size_t n)
{
    for (size_t got = 0; got < n;) {
        ssize_t k = read(fd, (char *)buf + got, n - got);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;
            return -1;
        }
        got += (size_t)k;
    }
    return 0;
}

static int write_full(int fd, const void *buf, size_t n)
{
    for (size_t put = 0; put < n;) {
        ssize_t k = write(fd, (const char *)buf + put, n - put);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            if (k == 0)
                errno = EIO;
            return -1;
        }
        put += (size_t)k;
    }
    return 0;
}

char *seqk__cl_read_file(const char *path, uint64_t max, size_t *len)
{
    uint64_t n;
    int fd = open_regular(path, &n);
    if (fd < 0)
        return NULL;
    char *buf = NULL;
    if (n > max) {
        errno = EFBIG;
    } else if ((buf = malloc((size_t)n + 1)) != NULL &&
               read_full(fd, buf, (size_t)n) != 0) {
        free(buf);
        buf = NULL;
    }
    const int e = errno;
    close(fd);
    errno = e;
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

int seqk__cl_cache_read(const char *path, uint64_t key, unsigned char **bin,
                        size_t *size, const char **why)
{
    uint64_t len = 0;
    unsigned char *body = NULL;
    cache_header h;
    int rc = -1;
    *bin = NULL;
    *size = 0;
    *why = NULL;

    int fd = open_regular(path, &len);
    if (fd < 0 && errno == ENOENT)
        return 1; /* not cached yet */
    if (fd < 0) {
        *why = "not a readable regular file";
        goto cleanup;
    }
    /* The header first: a file too short, too large or of another key is
     * refused before any of its body is read. */
    if (len < sizeof h) {
        *why = "short file";
        goto cleanup;
    }
    if (len - sizeof h > SEQK__CL_MAX_BINARY_BYTES) {
        *why = "larger than the cache's limit";
        goto cleanup;
    }
    if (read_full(fd, &h, sizeof h) != 0 ||
        memcmp(h.magic, CACHE_MAGIC, 8) != 0 || h.key != key ||
        h.size != len - sizeof h || h.size == 0) {
        *why = "bad header";
        goto cleanup;
    }
    body = malloc((size_t)h.size);
    if (!body) {
        *why = "out of memory";
        goto cleanup;
    }
    if (read_full(fd, body, (size_t)h.size) != 0) {
        *why = "short read";
        goto cleanup;
    }
    if (seqk__cl_fnv(SEQK__CL_FNV_BASIS, body, (size_t)h.size) !=
        h.checksum) {
        *why = "checksum mismatch";
        goto cleanup;
    }
    *bin = body;
    *size = (size_t)h.size;
    body = NULL;
    rc = 0;

cleanup:
    if (fd >= 0)
        close(fd);
    free(body);
    return rc;
}

int seqk__cl_cache_write(const char *path, uint64_t key, const void *bin,
                         size_t size)
{
    char tmp[4096];
    int n = snprintf(tmp, sizeof tmp, "%s.XXXXXX", path);
    if (n < 0 || (size_t)n >= sizeof tmp) {
        errno = ENAMETOOLONG;
        return -1;
    }
    if (size == 0 || (uint64_t)size > SEQK__CL_MAX_BINARY_BYTES) {
        errno = EFBIG; /* a file the reader would refuse */
        return -1;
    }
    int fd = mkstemp(tmp);
    if (fd < 0)
        return -1;
    cache_header h;
    memcpy(h.magic, CACHE_MAGIC, 8);
    h.key = key;
    h.size = size;
    h.checksum = seqk__cl_fnv(SEQK__CL_FNV_BASIS, bin, size);
    int ok = write_full(fd, &h, sizeof h) == 0 &&
             write_full(fd, bin, size) == 0;
    int e = errno;
    /* mkstemp makes the file 0600; a cache is as readable as a source. */
    if (ok && fchmod(fd, 0644) != 0)
        ok = 0, e = errno;
    if (close(fd) != 0 && ok)
        ok = 0, e = errno;
    if (ok && rename(tmp, path) != 0)
        ok = 0, e = errno;
    if (!ok) {
        unlink(tmp);
        errno = e;
        return -1;
    }
    return 0;
}
