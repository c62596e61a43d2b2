/*
 * npy.c — the .npy reader and writer described in npy.h.
 *
 * Reading goes: prefix (magic, version, header length) -> header text ->
 * dict literal parser -> dtype and shape checks -> size check against the
 * real file size -> one allocation -> data.  Every failure fills err with
 * "<path>: <what is wrong>" and returns a status; nothing is allocated
 * from header numbers until they have been checked against the file.
 */
#include "npy.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char npy_magic[6] = { '\x93', 'N', 'U', 'M', 'P', 'Y' };

/* Headers this large are not written by numpy (its reader refuses more
 * than 10000 bytes by default); refuse them before reading them. */
#define NPY_MAX_HEADER (1u << 20)

/* numpy aligns the data to this many bytes. */
#define NPY_ALIGN 64

static npy_status npy_fail(char *err, size_t err_len, npy_status st,
                           const char *path, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static npy_status npy_fail(char *err, size_t err_len, npy_status st,
                           const char *path, const char *fmt, ...)
{
    if (err && err_len) {
        int n = snprintf(err, err_len, "%s: ", path ? path : "(null)");
        if (n < 0)
            n = 0;
        if ((size_t)n < err_len) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err + n, err_len - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return st;
}

const char *npy_dtype_name(npy_dtype dtype)
{
    switch (dtype) {
    case NPY_F32: return "float32";
    case NPY_I32: return "int32";
    case NPY_I64: return "int64";
    case NPY_BOOL: return "bool";
    }
    return "unknown";
}

size_t npy_dtype_size(npy_dtype dtype)
{
    switch (dtype) {
    case NPY_F32: return 4;
    case NPY_I32: return 4;
    case NPY_I64: return 8;
    case NPY_BOOL: return 1;
    }
    return 0;
}

static const char *npy_descr(npy_dtype dtype)
{
    switch (dtype) {
    case NPY_F32: return "<f4";
    case NPY_I32: return "<i4";
    case NPY_I64: return "<i8";
    case NPY_BOOL: return "|b1";
    }
    return NULL;
}

static int host_is_little_endian(void)
{
    const uint16_t one = 1;
    unsigned char b;
    memcpy(&b, &one, 1);
    return b == 1;
}

/* Reverses the bytes of each item: .npy data is little-endian. */
static void swap_items(void *data, size_t count, size_t size)
{
    unsigned char *p = data;
    for (size_t i = 0; i < count; i++, p += size)
        for (size_t a = 0, b = size - 1; a < b; a++, b--) {
            unsigned char t = p[a];
            p[a] = p[b];
            p[b] = t;
        }
}

/* numel and bytes of a shape, 1 on overflow (past INT64_MAX or SIZE_MAX). */
static int shape_size(int ndim, const int64_t *dims, size_t itemsize,
                      int64_t *numel, size_t *bytes)
{
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (dims[i] < 0)
            return 1;
        if (dims[i] != 0 && n > INT64_MAX / dims[i])
            return 1;
        n *= dims[i];
    }
    if ((uint64_t)n > SIZE_MAX / itemsize)
        return 1;
    *numel = n;
    *bytes = (size_t)n * itemsize;
    return 0;
}

/* ------------------------------------------------------ header parsing */

/* What the dict literal says, before dtype interpretation. */
typedef struct npy_header {
    char descr[32];
    int fortran;
    int ndim;                  /* may exceed NPY_MAX_DIMS; dims then cut */
    int64_t dims[NPY_MAX_DIMS];
    int have_descr, have_fortran, have_shape;
} npy_header;

typedef struct npy_parser {
    const char *p, *end;
    char *err;
    size_t err_len;
    const char *path;
    npy_status st; /* set by the first failure */
} npy_parser;

static int parse_fail(npy_parser *ps, npy_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int parse_fail(npy_parser *ps, npy_status st, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    ps->st = npy_fail(ps->err, ps->err_len, st, ps->path, "%s", msg);
    return -1;
}

static int malformed(npy_parser *ps, const char *what)
{
    return parse_fail(ps, NPY_ERR_FORMAT, "malformed header: %s", what);
}

static void skip_ws(npy_parser *ps)
{
    while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' ||
                               *ps->p == '\n' || *ps->p == '\r'))
        ps->p++;
}

/* Accepts c (after whitespace); 1 if it was there. */
static int accept(npy_parser *ps, char c)
{
    skip_ws(ps);
    if (ps->p < ps->end && *ps->p == c) {
        ps->p++;
        return 1;
    }
    return 0;
}

/* A quoted Python string without escapes, into buf. */
static int parse_string(npy_parser *ps, char *buf, size_t len,
                        const char *what)
{
    skip_ws(ps);
    if (ps->p >= ps->end || (*ps->p != '\'' && *ps->p != '"'))
        return malformed(ps, what);
    char q = *ps->p++;
    size_t n = 0;
    while (ps->p < ps->end && *ps->p != q) {
        if (*ps->p == '\\' || *ps->p == '\n' || n + 1 >= len)
            return malformed(ps, what);
        buf[n++] = *ps->p++;
    }
    if (ps->p >= ps->end)
        return malformed(ps, "unterminated string");
    ps->p++;
    buf[n] = '\0';
    return 0;
}

static int parse_word(npy_parser *ps, const char *word)
{
    size_t n = strlen(word);
    skip_ws(ps);
    if ((size_t)(ps->end - ps->p) < n || memcmp(ps->p, word, n) != 0)
        return 0;
    ps->p += n;
    return 1;
}

/* (d0, d1, ...) with an optional trailing comma; "()" is 0-d. */
static int parse_shape(npy_parser *ps, npy_header *h)
{
    if (!accept(ps, '('))
        return malformed(ps, "'shape' is not a tuple");
    h->ndim = 0;
    for (;;) {
        if (accept(ps, ')'))
            return 0;
        skip_ws(ps);
        if (ps->p < ps->end && *ps->p == '-')
            return parse_fail(ps, NPY_ERR_FORMAT,
                              "negative dimension in 'shape'");
        if (ps->p >= ps->end || *ps->p < '0' || *ps->p > '9')
            return malformed(ps, "'shape' holds something other than "
                                 "integers");
        int64_t v = 0;
        while (ps->p < ps->end && *ps->p >= '0' && *ps->p <= '9') {
            int d = *ps->p++ - '0';
            if (v > (INT64_MAX - d) / 10)
                return parse_fail(ps, NPY_ERR_FORMAT,
                                  "dimension in 'shape' overflows int64");
            v = v * 10 + d;
        }
        if (ps->p < ps->end && (*ps->p == 'L' || *ps->p == 'l'))
            ps->p++; /* Python 2 long suffix */
        if (h->ndim < NPY_MAX_DIMS)
            h->dims[h->ndim] = v;
        if (h->ndim < 1000)
            h->ndim++;
        if (accept(ps, ','))
            continue;
        if (accept(ps, ')'))
            return 0;
        return malformed(ps, "'shape' tuple is not closed");
    }
}

static int parse_dict(npy_parser *ps, npy_header *h)
{
    memset(h, 0, sizeof *h);
    if (!accept(ps, '{'))
        return malformed(ps, "does not start with '{'");
    for (;;) {
        char key[32];
        if (accept(ps, '}'))
            break;
        if (parse_string(ps, key, sizeof key, "expected a quoted key"))
            return -1;
        if (!accept(ps, ':'))
            return malformed(ps, "expected ':' after a key");
        if (strcmp(key, "descr") == 0) {
            if (h->have_descr)
                return malformed(ps, "'descr' given twice");
            skip_ws(ps);
            if (ps->p < ps->end && *ps->p == '[')
                return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                                  "structured dtypes are not supported; "
                                  "save a plain array");
            if (parse_string(ps, h->descr, sizeof h->descr,
                             "'descr' is not a dtype string"))
                return -1;
            h->have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (h->have_fortran)
                return malformed(ps, "'fortran_order' given twice");
            if (parse_word(ps, "True"))
                h->fortran = 1;
            else if (parse_word(ps, "False"))
                h->fortran = 0;
            else
                return malformed(ps, "'fortran_order' is not True or False");
            h->have_fortran = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (h->have_shape)
                return malformed(ps, "'shape' given twice");
            if (parse_shape(ps, h))
                return -1;
            h->have_shape = 1;
        } else {
            char msg[80];
            snprintf(msg, sizeof msg, "unexpected key '%s'", key);
            return malformed(ps, msg);
        }
        if (accept(ps, ','))
            continue;
        if (accept(ps, '}'))
            break;
        return malformed(ps, "expected ',' or '}' after a value");
    }
    skip_ws(ps);
    if (ps->p != ps->end)
        return malformed(ps, "text after the closing '}'");
    if (!h->have_descr)
        return malformed(ps, "no 'descr' key");
    if (!h->have_fortran)
        return malformed(ps, "no 'fortran_order' key");
    if (!h->have_shape)
        return malformed(ps, "no 'shape' key");
    return 0;
}

/* Names numpy dtypes we refuse, for the message. */
static const char *numpy_type_name(char kind, unsigned size)
{
    static const struct { char kind; unsigned size; const char *name; }
    names[] = {
        { 'f', 2, "float16" }, { 'f', 4, "float32" }, { 'f', 8, "float64" },
        { 'f', 16, "float128" }, { 'i', 1, "int8" }, { 'i', 2, "int16" },
        { 'i', 4, "int32" }, { 'i', 8, "int64" }, { 'u', 1, "uint8" },
        { 'u', 2, "uint16" }, { 'u', 4, "uint32" }, { 'u', 8, "uint64" },
        { 'c', 8, "complex64" }, { 'c', 16, "complex128" },
        { 'b', 1, "bool" },
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].kind == kind && names[i].size == size)
            return names[i].name;
    switch (kind) {
    case 'U': return "unicode string";
    case 'S': return "byte string";
    case 'V': return "void";
    case 'M': return "datetime64";
    case 'm': return "timedelta64";
    }
    return "unknown";
}

/* '<f4' etc. to a dtype, or a message. */
static int parse_descr(npy_parser *ps, const char *descr, npy_dtype *out)
{
    const char *d = descr;
    char order = 0;
    if (*d == '<' || *d == '>' || *d == '|' || *d == '=')
        order = *d++;
    char kind = *d;
    if (kind == 'O')
        return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                          "object arrays (dtype '%s') are not supported; "
                          "save a numeric array", descr);
    if (kind == '\0')
        return malformed(ps, "empty 'descr'");
    d++;
    unsigned size = 0;
    while (*d >= '0' && *d <= '9' && size < 1000)
        size = size * 10 + (unsigned)(*d++ - '0');
    if (*d != '\0' || size == 0)
        return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                          "unsupported dtype '%s'; seqk reads float32, "
                          "int32, int64 and bool", descr);
    if (size > 1 && order == '>')
        return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                          "big-endian data (dtype '%s') is not supported; "
                          "save with arr.astype('<%c%u')",
                          descr, kind, size);
    npy_dtype dt = 0;
    if (kind == 'f' && size == 4)
        dt = NPY_F32;
    else if (kind == 'i' && size == 4)
        dt = NPY_I32;
    else if (kind == 'i' && size == 8)
        dt = NPY_I64;
    else if (kind == 'b' && size == 1)
        dt = NPY_BOOL;
    /* numpy's default float64 is the common case: say how to convert
     * (seqk computes in float32; converting silently would hide that). */
    if (dt == 0 && kind == 'f')
        return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                          "unsupported dtype '%s' (%s); seqk reads float32, "
                          "int32, int64 and bool: save it with "
                          "np.save(path, x.astype(np.float32))", descr,
                          numpy_type_name(kind, size));
    if (dt == 0)
        return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                          "unsupported dtype '%s' (%s); seqk reads float32, "
                          "int32, int64 and bool", descr,
                          numpy_type_name(kind, size));
    /* Multi-byte items must say little-endian ('=' is native and numpy
     * never writes it, so only trust it on a little-endian host). */
    if (size > 1 && order != '<' &&
        !(order == '=' && host_is_little_endian()))
        return parse_fail(ps, NPY_ERR_UNSUPPORTED,
                          "dtype '%s' has no little-endian byte order; "
                          "save with arr.astype('<%c%u')", descr, kind,
                          size);
    *out = dt;
    return 0;
}

/* ------------------------------------------------------------- reading */

static unsigned read_le(const unsigned char *b, int n)
{
    unsigned v = 0;
    for (int i = n - 1; i >= 0; i--)
        v = (v << 8) | b[i];
    return v;
}

npy_status npy_read(const char *path, npy_array *out, char *err,
                    size_t err_len)
{
    npy_status st = NPY_OK;
    FILE *f = NULL;
    char *header = NULL;
    void *data = NULL;

    if (err && err_len)
        err[0] = '\0';
    if (!out)
        return npy_fail(err, err_len, NPY_ERR_ARG, path, "out is NULL");
    memset(out, 0, sizeof *out);
    if (!path)
        return npy_fail(err, err_len, NPY_ERR_ARG, path, "path is NULL");

    /* O_NONBLOCK: a FIFO must not block the open; it is refused below
     * as not a regular file.  Reads of a regular file never block. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return npy_fail(err, err_len, NPY_ERR_IO, path, "cannot open: %s",
                        strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) != 0) {
        st = npy_fail(err, err_len, NPY_ERR_IO, path, "cannot stat: %s",
                      strerror(errno));
        close(fd);
        return st;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        return npy_fail(err, err_len, NPY_ERR_IO, path, "not a regular file");
    }
    f = fdopen(fd, "rb");
    if (!f) {
        st = npy_fail(err, err_len, NPY_ERR_IO, path, "cannot open: %s",
                      strerror(errno));
        close(fd);
        return st;
    }
    const uint64_t file_size = (uint64_t)sb.st_size;
    if (file_size == 0) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "empty file, not a .npy file");
        goto cleanup;
    }

    /* Prefix: magic (6), version (2), header length (2 or 4). */
    unsigned char pre[12];
    size_t got = fread(pre, 1, 8, f);
    if (got < sizeof npy_magic || memcmp(pre, npy_magic, sizeof npy_magic)) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "not a .npy file (bad magic; expected \\x93NUMPY)");
        goto cleanup;
    }
    if (got < 8) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "truncated header (file ends in the version)");
        goto cleanup;
    }
    const unsigned major = pre[6], minor = pre[7];
    if (minor != 0 || major < 1 || major > 3) {
        st = npy_fail(err, err_len, NPY_ERR_UNSUPPORTED, path,
                      "unknown .npy format version %u.%u (seqk reads 1.0, "
                      "2.0 and 3.0)", major, minor);
        goto cleanup;
    }
    const int len_bytes = major == 1 ? 2 : 4;
    if (fread(pre + 8, 1, (size_t)len_bytes, f) != (size_t)len_bytes) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "truncated header (file ends in the header length)");
        goto cleanup;
    }
    const uint64_t prefix = 8 + (uint64_t)len_bytes;
    const uint64_t header_len = read_le(pre + 8, len_bytes);
    if (file_size < prefix || header_len > file_size - prefix) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "truncated header (header length says %llu bytes, "
                      "the file has %llu after the prefix)",
                      (unsigned long long)header_len,
                      (unsigned long long)(file_size - prefix));
        goto cleanup;
    }
    if (header_len > NPY_MAX_HEADER) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "header of %llu bytes is implausibly large",
                      (unsigned long long)header_len);
        goto cleanup;
    }
    header = malloc((size_t)header_len + 1);
    if (!header) {
        st = npy_fail(err, err_len, NPY_ERR_NOMEM, path,
                      "out of memory for the header");
        goto cleanup;
    }
    if (fread(header, 1, (size_t)header_len, f) != (size_t)header_len) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "truncated header");
        goto cleanup;
    }
    header[header_len] = '\0';
    if (memchr(header, '\0', (size_t)header_len)) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "malformed header: contains a NUL byte");
        goto cleanup;
    }

    npy_parser ps = { header, header + header_len, err, err_len, path,
                      NPY_OK };
    npy_header h;
    npy_dtype dtype = NPY_F32;
    if (parse_dict(&ps, &h) || parse_descr(&ps, h.descr, &dtype)) {
        st = ps.st;
        goto cleanup;
    }
    if (h.fortran) {
        st = npy_fail(err, err_len, NPY_ERR_UNSUPPORTED, path,
                      "Fortran-order arrays are not supported; save with "
                      "np.ascontiguousarray");
        goto cleanup;
    }
    if (h.ndim > NPY_MAX_DIMS) {
        st = npy_fail(err, err_len, NPY_ERR_UNSUPPORTED, path,
                      "array has %d dimensions; at most %d are supported",
                      h.ndim, NPY_MAX_DIMS);
        goto cleanup;
    }
    const size_t itemsize = npy_dtype_size(dtype);
    int64_t numel;
    size_t bytes;
    if (shape_size(h.ndim, h.dims, itemsize, &numel, &bytes)) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "shape is too large (its size overflows)");
        goto cleanup;
    }
    const uint64_t have = file_size - prefix - header_len;
    if ((uint64_t)bytes > have) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "truncated data (shape needs %llu bytes, the file "
                      "has %llu)", (unsigned long long)bytes,
                      (unsigned long long)have);
        goto cleanup;
    }
    if ((uint64_t)bytes < have) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "data size does not match the shape (shape needs "
                      "%llu bytes, the file has %llu)",
                      (unsigned long long)bytes, (unsigned long long)have);
        goto cleanup;
    }
    data = malloc(bytes ? bytes : 1);
    if (!data) {
        st = npy_fail(err, err_len, NPY_ERR_NOMEM, path,
                      "out of memory for %zu bytes of data", bytes);
        goto cleanup;
    }
    if (fread(data, 1, bytes, f) != bytes) {
        st = npy_fail(err, err_len, NPY_ERR_FORMAT, path,
                      "truncated data (read failed: %s)",
                      ferror(f) ? strerror(errno) : "end of file");
        goto cleanup;
    }
    if (dtype == NPY_BOOL) {
        unsigned char *b = data;
        for (size_t i = 0; i < bytes; i++)
            b[i] = b[i] != 0;
    } else if (!host_is_little_endian()) {
        swap_items(data, (size_t)numel, itemsize);
    }

    out->dtype = dtype;
    out->ndim = h.ndim;
    memcpy(out->dims, h.dims, sizeof h.dims);
    out->numel = numel;
    out->bytes = bytes;
    out->data = data;
    data = NULL;

cleanup:
    free(data);
    free(header);
    if (f)
        fclose(f);
    return st;
}

void npy_free(npy_array *a)
{
    if (!a)
        return;
    free(a->data);
    memset(a, 0, sizeof *a);
}

/* ------------------------------------------------------------- writing */

/* The dict literal, unpadded, into buf; its length or 0 if too long. */
static size_t format_header(npy_dtype dtype, int ndim, const int64_t *dims,
                            char *buf, size_t len)
{
    size_t n = 0;
    int k = snprintf(buf, len, "{'descr': '%s', 'fortran_order': False, "
                               "'shape': (", npy_descr(dtype));
    if (k < 0 || (size_t)k >= len)
        return 0;
    n = (size_t)k;
    for (int i = 0; i < ndim; i++) {
        k = snprintf(buf + n, len - n, i ? ", %lld" : "%lld",
                     (long long)dims[i]);
        if (k < 0 || (size_t)k >= len - n)
            return 0;
        n += (size_t)k;
    }
    k = snprintf(buf + n, len - n, "%s), }", ndim == 1 ? "," : "");
    if (k < 0 || (size_t)k >= len - n)
        return 0;
    return n + (size_t)k;
}

npy_status npy_stage(const char *path, npy_dtype dtype, int ndim,
                     const int64_t *dims, const void *data, char **staged,
                     char *err, size_t err_len)
{
    npy_status st = NPY_OK;
    FILE *f = NULL;
    char *tmp = NULL;
    void *swapped = NULL;

    if (err && err_len)
        err[0] = '\0';
    *staged = NULL;
    if (!path)
        return npy_fail(err, err_len, NPY_ERR_ARG, path, "path is NULL");
    if (!npy_descr(dtype))
        return npy_fail(err, err_len, NPY_ERR_ARG, path,
                        "unknown dtype %d", (int)dtype);
    if (ndim < 0 || ndim > NPY_MAX_DIMS || (ndim > 0 && !dims))
        return npy_fail(err, err_len, NPY_ERR_ARG, path,
                        "ndim must be 0..%d with dims given, got %d",
                        NPY_MAX_DIMS, ndim);
    const size_t itemsize = npy_dtype_size(dtype);
    int64_t numel;
    size_t bytes;
    if (shape_size(ndim, dims, itemsize, &numel, &bytes))
        return npy_fail(err, err_len, NPY_ERR_ARG, path,
                        "shape has a negative dimension or overflows");
    if (!data && bytes)
        return npy_fail(err, err_len, NPY_ERR_ARG, path, "data is NULL");

    /* Header: prefix + dict + spaces + '\n', total a multiple of 64. */
    char dict[512];
    size_t dict_len = format_header(dtype, ndim, dims, dict, sizeof dict);
    if (dict_len == 0)
        return npy_fail(err, err_len, NPY_ERR_ARG, path,
                        "header does not fit");
    int major = 1;
    size_t prefix = 10;
    if (dict_len + 1 + NPY_ALIGN > 65535) {
        major = 2;
        prefix = 12;
    }
    size_t total = prefix + dict_len + 1;
    total = (total + NPY_ALIGN - 1) / NPY_ALIGN * NPY_ALIGN;
    const size_t header_len = total - prefix;

    unsigned char pre[12];
    memcpy(pre, npy_magic, sizeof npy_magic);
    pre[6] = (unsigned char)major;
    pre[7] = 0;
    for (size_t i = 0; i < prefix - 8; i++)
        pre[8 + i] = (unsigned char)(header_len >> (8 * i));

    /* Only a regular file or a missing path is replaced: never a device,
     * a FIFO, a directory or a symlink (as root, -o /dev/null would
     * otherwise replace the real one). */
    struct stat sb;
    mode_t mode;
    if (lstat(path, &sb) == 0) {
        if (!S_ISREG(sb.st_mode))
            return npy_fail(err, err_len, NPY_ERR_IO, path,
                            "not a regular file (refusing to replace a "
                            "device, FIFO, directory or symlink)");
        mode = sb.st_mode & 0777;
    } else if (errno == ENOENT) {
        mode = umask(0);
        umask(mode);
        mode = 0666 & ~mode;
    } else {
        return npy_fail(err, err_len, NPY_ERR_IO, path, "cannot stat: %s",
                        strerror(errno));
    }
    const size_t path_len = strlen(path);
    tmp = malloc(path_len + 8);
    if (!tmp)
        return npy_fail(err, err_len, NPY_ERR_NOMEM, path, "out of memory");
    memcpy(tmp, path, path_len);
    memcpy(tmp + path_len, ".XXXXXX", 8);

    const void *payload = data;
    if (itemsize > 1 && bytes && !host_is_little_endian()) {
        swapped = malloc(bytes);
        if (!swapped) {
            st = npy_fail(err, err_len, NPY_ERR_NOMEM, path,
                          "out of memory");
            goto cleanup;
        }
        memcpy(swapped, data, bytes);
        swap_items(swapped, (size_t)numel, itemsize);
        payload = swapped;
    }

    /* A fresh name in the target's folder (O_EXCL): a file or symlink
     * planted at a guessable name is never written through. */
    int fd = mkstemp(tmp);
    if (fd < 0) {
        st = npy_fail(err, err_len, NPY_ERR_IO, path, "cannot create %s: %s",
                      tmp, strerror(errno));
        goto cleanup;
    }
    if (fchmod(fd, mode) != 0 || !(f = fdopen(fd, "wb"))) {
        st = npy_fail(err, err_len, NPY_ERR_IO, path, "cannot create %s: %s",
                      tmp, strerror(errno));
        close(fd);
        remove(tmp);
        goto cleanup;
    }
    int ok = fwrite(pre, 1, prefix, f) == prefix &&
             fwrite(dict, 1, dict_len, f) == dict_len;
    for (size_t i = dict_len; ok && i + 1 < header_len; i++)
        ok = fputc(' ', f) != EOF;
    ok = ok && fputc('\n', f) != EOF;
    ok = ok && (bytes == 0 || fwrite(payload, 1, bytes, f) == bytes);
    ok = ok && fflush(f) == 0;
    int close_failed = fclose(f) != 0;
    f = NULL;
    if (!ok || close_failed) {
        st = npy_fail(err, err_len, NPY_ERR_IO, path, "write failed: %s",
                      strerror(errno));
        remove(tmp);
        goto cleanup;
    }
    *staged = tmp;
    tmp = NULL;

cleanup:
    if (f)
        fclose(f);
    free(swapped);
    free(tmp);
    return st;
}

npy_status npy_commit(char *staged, const char *path, char *err,
                      size_t err_len)
{
    npy_status st = NPY_OK;
    if (rename(staged, path) != 0) {
        st = npy_fail(err, err_len, NPY_ERR_IO, path, "cannot rename %s: %s",
                      staged, strerror(errno));
        remove(staged);
    }
    free(staged);
    return st;
}

void npy_discard(char *staged)
{
    if (staged)
        remove(staged);
    free(staged);
}

npy_status npy_write(const char *path, npy_dtype dtype, int ndim,
                     const int64_t *dims, const void *data, char *err,
                     size_t err_len)
{
    char *staged = NULL;
    npy_status st = npy_stage(path, dtype, ndim, dims, data, &staged, err,
                              err_len);
    return st ? st : npy_commit(staged, path, err, err_len);
}

npy_status npy_write_f32(const char *path, int ndim, const int64_t *dims,
                         const float *data, char *err, size_t err_len)
{
    return npy_write(path, NPY_F32, ndim, dims, data, err, err_len);
}
