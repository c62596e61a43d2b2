/*
 * test_npy.c — the .npy reader and writer (tools/npy.c).
 *
 * Round trips through the writer; hand-built files (the bytes are written
 * here, not by the writer) of every supported dtype, in format versions
 * 1.0, 2.0 and 3.0; and every malformed-file case, each of which must fail
 * with its own message, never crash, and never allocate what a lying
 * header asks for.  npy works on host memory only, so there is no device
 * loop here.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "npy.h"
#include "testutil.h"

static char tmpdir[256];

static void setup(void)
{
    const char *base = getenv("TMPDIR");
    snprintf(tmpdir, sizeof tmpdir, "%s/seqk_npy_XXXXXX",
             base && *base ? base : "/tmp");
    ck_assert_msg(mkdtemp(tmpdir) != NULL, "mkdtemp: %s", strerror(errno));
}

static void remove_tree(const char *path)
{
    struct stat sb;
    if (lstat(path, &sb) != 0)
        return;
    if (S_ISDIR(sb.st_mode)) {
        DIR *d = opendir(path);
        struct dirent *e;
        while (d && (e = readdir(d)) != NULL) {
            char sub[512];
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
                continue;
            snprintf(sub, sizeof sub, "%s/%s", path, e->d_name);
            remove_tree(sub);
        }
        if (d)
            closedir(d);
        rmdir(path);
    } else {
        unlink(path);
    }
}

static void teardown(void)
{
    remove_tree(tmpdir);
}

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int next;
    char *p = buf[next++ % 4];
    snprintf(p, 512, "%s/%s", tmpdir, name);
    return p;
}

static void put_bytes(const char *path, const void *bytes, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "fopen %s: %s", path, strerror(errno));
    ck_assert(n == 0 || fwrite(bytes, 1, n, f) == n);
    ck_assert(fclose(f) == 0);
}

/* A .npy file made by hand: magic, version, little-endian header length
 * (2 bytes for 1.x, else 4), header text, then n data bytes. */
static void put_npy(const char *path, int major, int minor,
                    const char *header, const void *data, size_t n)
{
    size_t hl = strlen(header), len_bytes = major == 1 ? 2 : 4;
    size_t total = 8 + len_bytes + hl + n;
    unsigned char *b = malloc(total);
    ck_assert(b != NULL);
    memcpy(b, "\x93NUMPY", 6);
    b[6] = (unsigned char)major;
    b[7] = (unsigned char)minor;
    for (size_t i = 0; i < len_bytes; i++)
        b[8 + i] = (unsigned char)(hl >> (8 * i));
    memcpy(b + 8 + len_bytes, header, hl);
    if (n)
        memcpy(b + 8 + len_bytes + hl, data, n);
    put_bytes(path, b, total);
    free(b);
}

static long file_size(const char *path)
{
    struct stat sb;
    ck_assert(stat(path, &sb) == 0);
    return (long)sb.st_size;
}

static unsigned char *slurp(const char *path, long *n)
{
    *n = file_size(path);
    unsigned char *b = malloc((size_t)*n + 1);
    FILE *f = fopen(path, "rb");
    ck_assert(b && f);
    ck_assert(fread(b, 1, (size_t)*n, f) == (size_t)*n);
    fclose(f);
    return b;
}

/* Little-endian bytes of v, n bytes wide. */
static void le(unsigned char *dst, uint64_t v, int n)
{
    for (int i = 0; i < n; i++)
        dst[i] = (unsigned char)(v >> (8 * i));
}

/* ------------------------------------------------------------ round trip */

START_TEST(write_read_f32_round_trip)
{
    static const struct { int ndim; int64_t dims[8]; } shapes[] = {
        { 0, { 0 } }, { 1, { 3 } }, { 2, { 2, 3 } }, { 1, { 0 } },
        { 3, { 2, 0, 3 } }, { 8, { 1, 2, 1, 2, 1, 2, 1, 3 } },
    };
    tu_rng r;
    tu_rng_init(&r, 1);
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int64_t n = 1;
        for (int i = 0; i < shapes[s].ndim; i++)
            n *= shapes[s].dims[i];
        float *x = tu_rand(&r, (size_t)n + 1, -3, 3);
        char err[256];
        const char *path = tmp_path("rt.npy");
        ck_assert_int_eq(npy_write_f32(path, shapes[s].ndim, shapes[s].dims,
                                       x, err, sizeof err), NPY_OK);
        npy_array a;
        ck_assert_msg(npy_read(path, &a, err, sizeof err) == NPY_OK, "%s",
                      err);
        ck_assert_int_eq(a.dtype, NPY_F32);
        ck_assert_int_eq(a.ndim, shapes[s].ndim);
        for (int i = 0; i < a.ndim; i++)
            ck_assert_int_eq(a.dims[i], shapes[s].dims[i]);
        ck_assert_int_eq(a.numel, n);
        ck_assert_uint_eq(a.bytes, (size_t)n * 4);
        ck_assert(a.data != NULL);
        ck_assert(n == 0 || memcmp(a.data, x, (size_t)n * 4) == 0);
        npy_free(&a);
        ck_assert(a.data == NULL);
        free(x);
        /* No temporary left behind. */
        ck_assert(access(tmp_path("rt.npy.tmp"), F_OK) != 0);
    }
}
END_TEST

/* The writer's bytes are numpy's: version 1.0, the dict as numpy spells
 * it, spaces, '\n', and the data on a 64-byte boundary. */
START_TEST(write_layout_is_numpys)
{
    const int64_t dims[2] = { 2, 3 };
    const float x[6] = { 1, 2, 3, 4, 5, 6 };
    const char *path = tmp_path("layout.npy");
    char err[256];
    ck_assert_int_eq(npy_write_f32(path, 2, dims, x, err, sizeof err),
                     NPY_OK);
    long n;
    unsigned char *b = slurp(path, &n);
    ck_assert(memcmp(b, "\x93NUMPY\x01\x00", 8) == 0);
    size_t hl = b[8] | (size_t)b[9] << 8;
    ck_assert_uint_eq((10 + hl) % 64, 0);
    ck_assert_int_eq(n, (long)(10 + hl + sizeof x));
    const char *want = "{'descr': '<f4', 'fortran_order': False, "
                       "'shape': (2, 3), }";
    ck_assert(memcmp(b + 10, want, strlen(want)) == 0);
    for (size_t i = 10 + strlen(want); i < 9 + hl; i++)
        ck_assert_int_eq(b[i], ' ');
    ck_assert_int_eq(b[9 + hl], '\n');
    /* 1-D shapes keep Python's trailing comma; 0-D is "()". */
    const int64_t d1 = 3;
    ck_assert_int_eq(npy_write_f32(path, 1, &d1, x, err, sizeof err), 0);
    free(b);
    b = slurp(path, &n);
    b[n] = 0;
    ck_assert(strstr((char *)b + 10, "'shape': (3,), }") != NULL);
    ck_assert_int_eq(npy_write_f32(path, 0, NULL, x, err, sizeof err), 0);
    free(b);
    b = slurp(path, &n);
    b[n] = 0;
    ck_assert(strstr((char *)b + 10, "'shape': (), }") != NULL);
    free(b);
}
END_TEST

START_TEST(write_read_other_dtypes)
{
    const int64_t dims[2] = { 2, 2 };
    const int32_t i32[4] = { -7, 0, 2147483647, -2147483647 - 1 };
    const int64_t i64[4] = { -1, 1LL << 40, INT64_MAX, INT64_MIN };
    const uint8_t b1[4] = { 1, 0, 0, 1 };
    const struct { npy_dtype dt; const void *data; size_t bytes; } c[] = {
        { NPY_I32, i32, sizeof i32 }, { NPY_I64, i64, sizeof i64 },
        { NPY_BOOL, b1, sizeof b1 },
    };
    for (size_t k = 0; k < 3; k++) {
        char err[256];
        npy_array a;
        const char *path = tmp_path("dt.npy");
        ck_assert_int_eq(npy_write(path, c[k].dt, 2, dims, c[k].data, err,
                                   sizeof err), NPY_OK);
        ck_assert_msg(npy_read(path, &a, err, sizeof err) == NPY_OK, "%s",
                      err);
        ck_assert_int_eq(a.dtype, c[k].dt);
        ck_assert_uint_eq(a.bytes, c[k].bytes);
        ck_assert(memcmp(a.data, c[k].data, c[k].bytes) == 0);
        npy_free(&a);
    }
    ck_assert_str_eq(npy_dtype_name(NPY_I64), "int64");
    ck_assert_uint_eq(npy_dtype_size(NPY_BOOL), 1);
}
END_TEST

START_TEST(write_is_atomic)
{
    const int64_t d = 2;
    const float x[2] = { 1, 2 }, y[2] = { 3, 4 };
    char err[1024];
    npy_array a;
    const char *path = tmp_path("a.npy");
    ck_assert_int_eq(npy_write_f32(path, 1, &d, x, err, sizeof err), 0);
    /* Overwriting replaces the file. */
    ck_assert_int_eq(npy_write_f32(path, 1, &d, y, err, sizeof err), 0);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), 0);
    ck_assert(memcmp(a.data, y, sizeof y) == 0);
    npy_free(&a);
    /* When the temporary cannot be made the old file stays whole: a
     * 250-byte name exists, its temporary's name is too long. */
    char longname[251];
    memset(longname, 'n', 250);
    longname[250] = '\0';
    memcpy(longname + 246, ".npy", 4);
    const char *lpath = tmp_path(longname);
    ck_assert_int_eq(npy_write_f32(path, 1, &d, y, err, sizeof err), 0);
    ck_assert(rename(path, lpath) == 0);
    ck_assert_int_eq(npy_write_f32(lpath, 1, &d, x, err, sizeof err),
                     NPY_ERR_IO);
    ck_assert_msg(strstr(err, "cannot create") != NULL, "%s", err);
    ck_assert_int_eq(npy_read(lpath, &a, err, sizeof err), 0);
    ck_assert(memcmp(a.data, y, sizeof y) == 0);
    npy_free(&a);
    /* A symlink planted at the old fixed temporary name is not written
     * through: its target stays as it was (issue 14, defect 3). */
    const char *victim = tmp_path("victim");
    put_bytes(victim, "keep", 4);
    ck_assert(symlink(victim, tmp_path("a.npy.tmp")) == 0);
    ck_assert_int_eq(npy_write_f32(path, 1, &d, x, err, sizeof err), 0);
    char kept[8] = "";
    FILE *vf = fopen(victim, "rb");
    ck_assert(vf != NULL);
    ck_assert_uint_eq(fread(kept, 1, sizeof kept, vf), 4);
    fclose(vf);
    ck_assert(memcmp(kept, "keep", 4) == 0);
    /* Only a regular file or a missing path is replaced: a symlink, a
     * FIFO and a directory are refused and left alone (defect 2). */
    const char *link = tmp_path("link.npy");
    ck_assert(symlink(victim, link) == 0);
    ck_assert_int_eq(npy_write_f32(link, 1, &d, x, err, sizeof err),
                     NPY_ERR_IO);
    ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);
    struct stat lsb;
    ck_assert(lstat(link, &lsb) == 0 && S_ISLNK(lsb.st_mode));
    const char *fifo = tmp_path("fifo.npy");
    ck_assert(mkfifo(fifo, 0600) == 0);
    ck_assert_int_eq(npy_write_f32(fifo, 1, &d, x, err, sizeof err),
                     NPY_ERR_IO);
    ck_assert(lstat(fifo, &lsb) == 0 && S_ISFIFO(lsb.st_mode));
    ck_assert_int_eq(npy_write_f32(tmpdir, 1, &d, x, err, sizeof err),
                     NPY_ERR_IO);
    /* Reading a FIFO returns at once (it used to block in open: defect
     * 4), refused as not a regular file. */
    ck_assert_int_eq(npy_read(fifo, &a, err, sizeof err), NPY_ERR_IO);
    ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);
    /* No temporaries are left behind. */
    char cmd[700];
    snprintf(cmd, sizeof cmd, "ls '%s' | grep -q 'XXXX\\|\\.npy\\.[A-Za-z0-9]\\{6\\}$'",
             tmpdir);
    ck_assert_msg(system(cmd) != 0, "a temporary was left in %s", tmpdir);
    /* A missing directory: an error and no file. */
    const char *bad = tmp_path("no/such/dir.npy");
    ck_assert_int_eq(npy_write_f32(bad, 1, &d, x, err, sizeof err),
                     NPY_ERR_IO);
    ck_assert(access(bad, F_OK) != 0);
}
END_TEST

START_TEST(write_rejects_bad_arguments)
{
    const int64_t nine[9] = { 1, 1, 1, 1, 1, 1, 1, 1, 1 };
    const int64_t neg[2] = { 2, -1 };
    const int64_t two = 2;
    const float x[2] = { 0, 0 };
    char err[256];
    const char *path = tmp_path("bad.npy");
    ck_assert_int_eq(npy_write_f32(path, 9, nine, x, err, sizeof err),
                     NPY_ERR_ARG);
    ck_assert_int_eq(npy_write_f32(path, 2, neg, x, err, sizeof err),
                     NPY_ERR_ARG);
    ck_assert_int_eq(npy_write_f32(path, 1, &two, NULL, err, sizeof err),
                     NPY_ERR_ARG);
    ck_assert_int_eq(npy_write(path, (npy_dtype)42, 1, &two, x, err,
                               sizeof err), NPY_ERR_ARG);
    ck_assert_int_eq(npy_write_f32(NULL, 1, &two, x, err, sizeof err),
                     NPY_ERR_ARG);
    ck_assert(access(path, F_OK) != 0);
    npy_free(NULL);
}
END_TEST

/* ----------------------------------------------------- hand-built files */

/* Every supported dtype, in shapes (), (3,), (2,3), as versions 1.0, 2.0
 * and 3.0, with the values encoded here byte by byte. */
START_TEST(read_hand_built_files)
{
    static const struct { const char *descr; npy_dtype dt; int size; }
    types[] = {
        { "<f4", NPY_F32, 4 }, { "<i4", NPY_I32, 4 }, { "<i8", NPY_I64, 8 },
        { "|b1", NPY_BOOL, 1 },
    };
    static const struct { const char *text; int ndim; int64_t dims[2]; }
    shapes[] = { { "()", 0, { 0 } }, { "(3,)", 1, { 3 } },
                 { "(2, 3)", 2, { 2, 3 } } };
    for (int major = 1; major <= 3; major++)
        for (int t = 0; t < 4; t++)
            for (int s = 0; s < 3; s++) {
                int64_t n = 1;
                for (int i = 0; i < shapes[s].ndim; i++)
                    n *= shapes[s].dims[i];
                unsigned char data[6 * 8];
                float fv[6];
                int64_t iv[6];
                for (int k = 0; k < n; k++) {
                    fv[k] = 1.5f * (float)k - 2.0f;
                    iv[k] = t == 2 ? (int64_t)k * (1LL << 33) - 5
                                   : 3 * (int64_t)k - 7;
                    if (types[t].dt == NPY_F32) {
                        uint32_t bits;
                        memcpy(&bits, &fv[k], 4);
                        le(data + 4 * k, bits, 4);
                    } else if (types[t].dt == NPY_BOOL) {
                        /* numpy treats any nonzero byte as True */
                        data[k] = (unsigned char)(k % 2 ? 2 * k : 0);
                    } else {
                        le(data + types[t].size * k, (uint64_t)iv[k],
                           types[t].size);
                    }
                }
                char header[160];
                snprintf(header, sizeof header,
                         "{'descr': '%s', 'fortran_order': False, "
                         "'shape': %s, }          \n",
                         types[t].descr, shapes[s].text);
                const char *path = tmp_path("hand.npy");
                put_npy(path, major, 0, header, data,
                        (size_t)n * (size_t)types[t].size);
                npy_array a;
                char err[256];
                ck_assert_msg(npy_read(path, &a, err, sizeof err) == NPY_OK,
                              "v%d %s %s: %s", major, types[t].descr,
                              shapes[s].text, err);
                ck_assert_int_eq(a.dtype, types[t].dt);
                ck_assert_int_eq(a.ndim, shapes[s].ndim);
                for (int i = 0; i < a.ndim; i++)
                    ck_assert_int_eq(a.dims[i], shapes[s].dims[i]);
                ck_assert_int_eq(a.numel, n);
                for (int k = 0; k < n; k++) {
                    switch (a.dtype) {
                    case NPY_F32:
                        ck_assert(((float *)a.data)[k] == fv[k]);
                        break;
                    case NPY_I32:
                        ck_assert_int_eq(((int32_t *)a.data)[k], iv[k]);
                        break;
                    case NPY_I64:
                        ck_assert(((int64_t *)a.data)[k] == iv[k]);
                        break;
                    case NPY_BOOL:
                        ck_assert_int_eq(((uint8_t *)a.data)[k], k % 2);
                        break;
                    }
                }
                npy_free(&a);
            }
}
END_TEST

/* The dict literal is parsed, not pattern-matched. */
START_TEST(read_header_variants)
{
    static const char *headers[] = {
        "{'shape': (2,), 'fortran_order': False, 'descr': '<f4'}",
        "{\"descr\": \"<f4\", \"fortran_order\": False, \"shape\": (2,)}\n",
        "  {  'fortran_order' :False,'descr':'<f4','shape':( 2 , ) ,}  \n",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (2L,), }",
        "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 2), }",
    };
    const float x[2] = { 0.25f, -8.0f };
    unsigned char data[8];
    for (int k = 0; k < 2; k++) {
        uint32_t bits;
        memcpy(&bits, &x[k], 4);
        le(data + 4 * k, bits, 4);
    }
    for (size_t h = 0; h < sizeof headers / sizeof headers[0]; h++) {
        const char *path = tmp_path("var.npy");
        npy_array a;
        char err[256];
        put_npy(path, 1, 0, headers[h], data, sizeof data);
        ck_assert_msg(npy_read(path, &a, err, sizeof err) == NPY_OK,
                      "%s: %s", headers[h], err);
        ck_assert_int_eq(a.numel, 2);
        ck_assert(((float *)a.data)[0] == x[0]);
        ck_assert(((float *)a.data)[1] == x[1]);
        npy_free(&a);
    }
}
END_TEST

/* ---------------------------------------------------------- error cases */

typedef struct bad_case {
    int major, minor;
    const char *header;
    size_t data_bytes;
    npy_status status;
    const char *needle;
} bad_case;

#define F4(shape) "{'descr': '<f4', 'fortran_order': False, 'shape': " \
                  shape ", }"

static const bad_case bad_cases[] = {
    { 4, 0, F4("(2,)"), 8, NPY_ERR_UNSUPPORTED,
      "unknown .npy format version 4.0" },
    { 1, 1, F4("(2,)"), 8, NPY_ERR_UNSUPPORTED, "version 1.1" },
    { 1, 0, F4("(2, 3)"), 20, NPY_ERR_FORMAT, "truncated data" },
    { 1, 0, F4("(2, 3)"), 28, NPY_ERR_FORMAT, "does not match" },
    { 1, 0, "hello", 0, NPY_ERR_FORMAT, "malformed header" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': False}", 0, NPY_ERR_FORMAT,
      "no 'shape' key" },
    { 1, 0, "{'descr': '<f4', 'shape': (1,)}", 4, NPY_ERR_FORMAT,
      "no 'fortran_order' key" },
    { 1, 0, "{'fortran_order': False, 'shape': (1,)}", 4, NPY_ERR_FORMAT,
      "no 'descr' key" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': Maybe, 'shape': (1,)}", 4,
      NPY_ERR_FORMAT, "not True or False" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, x)}", 12,
      NPY_ERR_FORMAT, "malformed header" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4}", 48,
      NPY_ERR_FORMAT, "not closed" },
    { 1, 0, "{'descr': '<f4, 'fortran_order': False, 'shape': (3,)}", 12,
      NPY_ERR_FORMAT, "malformed header" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': 3}", 12,
      NPY_ERR_FORMAT, "not a tuple" },
    { 1, 0, F4("(1,)") "x", 4, NPY_ERR_FORMAT, "after the closing" },
    { 1, 0, "{'descr': '<f4', 'descr': '<f4', 'fortran_order': False, "
            "'shape': (1,)}", 4, NPY_ERR_FORMAT, "'descr' given twice" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), "
            "'foo': 1}", 4, NPY_ERR_FORMAT, "unexpected key 'foo'" },
    { 1, 0, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }", 16,
      NPY_ERR_UNSUPPORTED,
      "Fortran-order arrays are not supported; save with "
      "np.ascontiguousarray" },
    { 1, 0, "{'descr': '>f4', 'fortran_order': False, 'shape': (2,), }", 8,
      NPY_ERR_UNSUPPORTED, "big-endian" },
    { 1, 0, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", 16,
      NPY_ERR_UNSUPPORTED, "object arrays" },
    { 1, 0, "{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", 16,
      NPY_ERR_UNSUPPORTED, "'<f8' (float64)" },
    { 1, 0, "{'descr': '|u1', 'fortran_order': False, 'shape': (2,), }", 2,
      NPY_ERR_UNSUPPORTED, "'|u1' (uint8)" },
    { 1, 0, "{'descr': '<U3', 'fortran_order': False, 'shape': (2,), }", 24,
      NPY_ERR_UNSUPPORTED, "unicode string" },
    { 1, 0, "{'descr': [('a', '<f4')], 'fortran_order': False, "
            "'shape': (2,), }", 8, NPY_ERR_UNSUPPORTED, "structured" },
    { 1, 0, F4("(-1, 3)"), 12, NPY_ERR_FORMAT, "negative dimension" },
    /* (1<<40, 1<<40): the element count overflows int64 */
    { 1, 0, F4("(1099511627776, 1099511627776)"), 16, NPY_ERR_FORMAT,
      "too large" },
    { 1, 0, F4("(99999999999999999999,)"), 16, NPY_ERR_FORMAT,
      "overflows int64" },
    /* (1<<40, 4) is representable: refused by the file-size check, so
     * "truncated", not "out of memory" */
    { 1, 0, F4("(1099511627776, 4)"), 16, NPY_ERR_FORMAT, "truncated data" },
    { 2, 0, F4("(1099511627776, 4)"), 16, NPY_ERR_FORMAT, "truncated data" },
    { 1, 0, F4("(1, 1, 1, 1, 1, 1, 1, 1, 1)"), 4, NPY_ERR_UNSUPPORTED,
      "9 dimensions" },
};

START_TEST(read_rejects_bad_files)
{
    static unsigned char zeros[64];
    const bad_case *c = &bad_cases[_i];
    const char *path = tmp_path("bad.npy");
    npy_array a;
    char err[256];
    put_npy(path, c->major, c->minor, c->header, zeros, c->data_bytes);
    a.data = (void *)1; /* must be cleared */
    npy_status st = npy_read(path, &a, err, sizeof err);
    ck_assert_msg(st == c->status, "case %d (%s): status %d want %d: %s",
                  _i, c->header, st, c->status, err);
    ck_assert_msg(strstr(err, c->needle) != NULL,
                  "case %d: message \"%s\" lacks \"%s\"", _i, err, c->needle);
    ck_assert_msg(strncmp(err, path, strlen(path)) == 0,
                  "message \"%s\" does not start with the path", err);
    ck_assert(strchr(err, '\n') == NULL);
    ck_assert(a.data == NULL);
}
END_TEST

START_TEST(read_rejects_bad_prefixes)
{
    char err[256];
    npy_array a;
    const char *path = tmp_path("p.npy");

    ck_assert_int_eq(npy_read(tmp_path("missing.npy"), &a, err, sizeof err),
                     NPY_ERR_IO);
    ck_assert_msg(strstr(err, "missing.npy: cannot open") != NULL, "%s", err);

    put_bytes(path, "", 0);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "empty file") != NULL, "%s", err);

    static const char zip[] = "PK\x03\x04 this is a zip";
    put_bytes(path, zip, sizeof zip - 1);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "bad magic") != NULL, "%s", err);

    put_bytes(path, "\x93NUMPY\x01", 7);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "truncated header") != NULL, "%s", err);

    put_bytes(path, "\x93NUMPY\x01\x00\x50", 9);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "truncated header") != NULL, "%s", err);

    /* Header length says 200 bytes, 60 are there. */
    put_npy(path, 1, 0, F4("(2,)"), "", 0);
    long n;
    unsigned char *b = slurp(path, &n);
    b[8] = 200;
    b[9] = 0;
    put_bytes(path, b, (size_t)n);
    free(b);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "truncated header") != NULL, "%s", err);

    /* A 4 GiB header length in a 2.0 file. */
    put_npy(path, 2, 0, F4("(2,)"), "", 0);
    b = slurp(path, &n);
    memset(b + 8, 0xff, 4);
    put_bytes(path, b, (size_t)n);
    free(b);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "truncated header") != NULL, "%s", err);

    /* A NUL inside the header. */
    static const char nul[] = "\x93NUMPY\x01\x00\x11\x00"
                              "{'descr': '<f4'\0}";
    put_bytes(path, nul, sizeof nul - 1);
    ck_assert_int_eq(npy_read(path, &a, err, sizeof err), NPY_ERR_FORMAT);
    ck_assert_msg(strstr(err, "NUL") != NULL, "%s", err);

    ck_assert_int_eq(npy_read(tmpdir, &a, err, sizeof err), NPY_ERR_IO);
    ck_assert_msg(strstr(err, "not a regular file") != NULL, "%s", err);

    ck_assert_int_eq(npy_read(path, NULL, err, sizeof err), NPY_ERR_ARG);
    ck_assert_int_eq(npy_read(NULL, &a, err, sizeof err), NPY_ERR_ARG);
    /* err may be NULL */
    ck_assert_int_eq(npy_read(tmp_path("missing.npy"), &a, NULL, 0),
                     NPY_ERR_IO);
}
END_TEST

/* A valid file cut at every length fails cleanly; so do files with one
 * byte of the prefix or header changed (those may parse, but must not
 * crash), and random garbage. */
START_TEST(read_survives_truncation_and_garbage)
{
    const int64_t dims[2] = { 2, 3 };
    const float x[6] = { 1, 2, 3, 4, 5, 6 };
    const char *good = tmp_path("good.npy"), *path = tmp_path("cut.npy");
    char err[256];
    npy_array a;
    ck_assert_int_eq(npy_write_f32(good, 2, dims, x, err, sizeof err), 0);
    long n;
    unsigned char *b = slurp(good, &n);
    for (long cut = 0; cut < n; cut++) {
        put_bytes(path, b, (size_t)cut);
        npy_status st = npy_read(path, &a, err, sizeof err);
        ck_assert_msg(st != NPY_OK, "cut at %ld read OK", cut);
        ck_assert(err[0] != '\0');
    }
    tu_rng r;
    tu_rng_init(&r, 7);
    for (long i = 0; i < 64 + 16; i++) {
        unsigned char *m = malloc((size_t)n);
        memcpy(m, b, (size_t)n);
        m[i] = (unsigned char)((unsigned)tu_uniform(&r, 0, 256) & 0xff);
        put_bytes(path, m, (size_t)n);
        if (npy_read(path, &a, err, sizeof err) == NPY_OK) {
            ck_assert(a.bytes <= (size_t)n);
            npy_free(&a);
        } else {
            ck_assert(err[0] != '\0');
        }
        free(m);
    }
    for (int k = 0; k < 50; k++) {
        unsigned char g[300];
        size_t len = (size_t)tu_uniform(&r, 0, sizeof g);
        for (size_t i = 0; i < len; i++)
            g[i] = (unsigned char)((unsigned)tu_uniform(&r, 0, 256) &
                                   0xff);
        if (k % 2) /* garbage behind a valid magic */
            memcpy(g, "\x93NUMPY\x01\x00", len < 8 ? len : 8);
        put_bytes(path, g, len);
        ck_assert_int_ne(npy_read(path, &a, err, sizeof err), NPY_OK);
    }
    free(b);
}
END_TEST

static Suite *npy_suite(void)
{
    Suite *s = suite_create("npy");
    TCase *tc = tcase_create("npy");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, write_read_f32_round_trip);
    tcase_add_test(tc, write_layout_is_numpys);
    tcase_add_test(tc, write_read_other_dtypes);
    tcase_add_test(tc, write_is_atomic);
    tcase_add_test(tc, write_rejects_bad_arguments);
    tcase_add_test(tc, read_hand_built_files);
    tcase_add_test(tc, read_header_variants);
    tcase_add_loop_test(tc, read_rejects_bad_files, 0,
                        (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(tc, read_rejects_bad_prefixes);
    tcase_add_test(tc, read_survives_truncation_and_garbage);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(npy_suite());
}
