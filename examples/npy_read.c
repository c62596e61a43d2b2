/*
 * npy_read.c — see npy_read.h.  The header is a Python dict literal, e.g.
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (2, 1024, 256), }
 * of which we need descr, fortran_order and shape.
 */
#include "npy_read.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(char *err, size_t n, const char *path, const char *why)
{
    snprintf(err, n, "%s: %s", path, why);
    return -1;
}

int npy_read(const char *path, npy_array *a, char *err, size_t err_size)
{
    int rc = -1;
    char *hdr = NULL;
    memset(a, 0, sizeof *a);
    FILE *f = fopen(path, "rb");
    if (!f)
        return fail(err, err_size, path, "cannot open");
    unsigned char pre[12];
    if (fread(pre, 1, 10, f) != 10 || memcmp(pre, "\x93NUMPY", 6) != 0) {
        fail(err, err_size, path, "not a .npy file");
        goto cleanup;
    }
    size_t hlen;
    if (pre[6] == 1) {
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8;
    } else {
        /* versions 2 and 3: a 4-byte header length */
        if (fread(pre + 10, 1, 2, f) != 2) {
            fail(err, err_size, path, "truncated header");
            goto cleanup;
        }
        hlen = (size_t)pre[8] | (size_t)pre[9] << 8 |
               (size_t)pre[10] << 16 | (size_t)pre[11] << 24;
    }
    if (hlen > 1 << 20 || !(hdr = malloc(hlen + 1)) ||
        fread(hdr, 1, hlen, f) != hlen) {
        fail(err, err_size, path, "bad header");
        goto cleanup;
    }
    hdr[hlen] = '\0';
    const char *d = strstr(hdr, "'descr'");
    const char *fo = strstr(hdr, "'fortran_order'");
    const char *sh = strstr(hdr, "'shape'");
    if (!d || !fo || !sh) {
        fail(err, err_size, path, "header lacks descr/fortran_order/shape");
        goto cleanup;
    }
    size_t esize;
    if (strncmp(d + 9, "'<f4'", 5) == 0) {
        a->type = 'f';
        esize = 4;
    } else if (strncmp(d + 9, "'<i4'", 5) == 0) {
        a->type = 'i';
        esize = 4;
    } else if (strncmp(d + 9, "'<i8'", 5) == 0) {
        a->type = 'l';
        esize = 8;
    } else {
        fail(err, err_size, path, "dtype is not <f4, <i4 or <i8");
        goto cleanup;
    }
    if (strncmp(fo + 17, "False", 5) != 0) {
        fail(err, err_size, path, "Fortran order is not supported");
        goto cleanup;
    }
    const char *p = strchr(sh, '(');
    if (!p) {
        fail(err, err_size, path, "bad shape");
        goto cleanup;
    }
    p++;
    a->count = 1;
    while (*p && *p != ')') {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            p++; /* ',' or ' ' */
            continue;
        }
        if (a->ndim == NPY_MAX_DIMS || v < 0 ||
            (v && a->count > SIZE_MAX / esize / (size_t)v)) {
            fail(err, err_size, path, "shape too large");
            goto cleanup;
        }
        a->dims[a->ndim++] = v;
        a->count *= (size_t)v;
        p = end;
    }
    if (!(a->data = malloc(a->count * esize + 1)) ||
        fread(a->data, esize, a->count, f) != a->count) {
        fail(err, err_size, path, "truncated data");
        goto cleanup;
    }
    rc = 0;

cleanup:
    if (rc) {
        free(a->data);
        a->data = NULL;
    }
    free(hdr);
    fclose(f);
    return rc;
}
