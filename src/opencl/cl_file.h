/*
 * cl_file.h — the OpenCL backend's file I/O, kept free of OpenCL so that
 * the fuzzers (tests/fuzz/fuzz_kernel_cache.c) can build it alone:
 * reading regular files with a size cap, and the disk cache's file format.
 *
 * A cache file <key>.bin is
 *
 *   offset 0   "SEQKCLB1"          magic (8 bytes)
 *          8   key                 u64, the hash that named the file
 *         16   size                u64, bytes of binary that follow
 *         24   checksum            u64, FNV-1a of the binary
 *         32   binary[size]        what clGetProgramInfo(BINARIES) gave
 *
 * in host byte order (a cache never leaves its machine).
 */
#ifndef SEQK_CL_FILE_H
#define SEQK_CL_FILE_H

#include <stddef.h>
#include <stdint.h>

/* The largest kernel source and cached program binary read from disk: a
 * corrupt or hostile file is refused from its size, never read whole. */
#define SEQK__CL_MAX_SOURCE_BYTES ((uint64_t)16 << 20)
#define SEQK__CL_MAX_BINARY_BYTES ((uint64_t)256 << 20)

#define SEQK__CL_FNV_BASIS 14695981039346656037ull

/* FNV-1a, 64 bits, continuing from h. */
uint64_t seqk__cl_fnv(uint64_t h, const void *data, size_t len);

/* The regular file at path, NUL-terminated (malloc'd), when it holds at
 * most max bytes; NULL with errno set otherwise (EFBIG: larger, EINVAL:
 * not a regular file — a FIFO is refused without blocking). */
char *seqk__cl_read_file(const char *path, uint64_t max, size_t *len);

/* Reads the cache file at path for key.  0: *bin (malloc'd) holds *size
 * bytes whose checksum matched.  1: no such file.  -1: unusable, *why
 * says why (the caller rebuilds and rewrites it).  The header and the
 * file's size are checked before any of the body is read. */
int seqk__cl_cache_read(const char *path, uint64_t key, unsigned char **bin,
                        size_t *size, const char **why);

/* Writes bin as the cache file at path for key: a fresh temporary beside
 * it (mkstemp, never a predictable name), then rename, so a concurrent
 * reader sees the old file or the whole new one.  0, or -1 (errno set;
 * nothing is left behind). */
int seqk__cl_cache_write(const char *path, uint64_t key, const void *bin,
                         size_t size);

#endif
