/*
 * test_tune_db.c — the tuning database: the file round trip, the lookup's
 * fallback order (device, bucket, legality, speedup), rejection of every
 * kind of bad file (with a fuzz loop), concurrent updates from several
 * processes, and seqk__tuned() on contexts with good and bad databases.
 *
 * Not an OpenCL suite: per-test fork is fine.  With SEQK_TEST_DEVICES
 * naming an OpenCL device (then run with CK_FORK=no) the fingerprint of
 * that device is checked too.
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>


#include "seqk_config.h"
#include "testutil.h"
#include "tune_db_test.h"
#include "tune/db.h"
#include "tune/db_internal.h"
#if SEQK_HAVE_OPENCL
#include "opencl/cl_backend.h"
#endif

/* ------------------------------------------------------------ helpers */

static char dir_[64];

const char *tmpdir(void)
{
    snprintf(dir_, sizeof dir_, "/tmp/seqk-tunedb-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir_));
    return dir_;
}

void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    if (!d)
        return;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            rm_tree(p);
        else
            unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

void write_text(const char *path, const char *text, size_t len)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(text, 1, len, f), len);
    fclose(f);
}

char *read_text(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* The tunable the lookup tests use: TILE must divide M. */
static int fake_legal(const int *v, const seqk_tune_limits *lim,
                      const int64_t *shape)
{
    (void)lim;
    return !shape || shape[0] % v[0] == 0;
}

const seqk_tunable fake = {
    .id = "test.fake.kernel",
    .source = NULL,
    .backend = "cpu",
    .num_shape = 2,
    .shape_names = {"M", "N"},
    .num_params = 2,
    .params = {{"TILE", 4, {1, 2, 4, 8}, 1}, {"VEC", 3, {1, 2, 4}, 1}},
    .legal = fake_legal,
};

seqk_tune_fp gpu_fp(void)
{
    seqk_tune_fp f;
    memset(&f, 0, sizeof f);
    snprintf(f.backend, sizeof f.backend, "opencl");
    snprintf(f.vendor, sizeof f.vendor, "NVIDIA Corporation");
    snprintf(f.device, sizeof f.device, "GeForce X 1000");
    snprintf(f.driver, sizeof f.driver, "535.104");
    snprintf(f.platform, sizeof f.platform, "OpenCL 3.0 CUDA 12.2");
    f.compute_units = 40;
    f.local_mem = 49152;
    return f;
}

seqk_tune_entry make_entry(const seqk_tune_fp *fp, const char *hash,
                                  int b0, int b1, int tile, int vec,
                                  double speedup)
{
    seqk_tune_entry e;
    memset(&e, 0, sizeof e);
    e.fp = *fp;
    snprintf(e.kernel, sizeof e.kernel, "%s", fake.id);
    snprintf(e.source_hash, sizeof e.source_hash, "%s", hash);
    snprintf(e.dtype, sizeof e.dtype, "f32");
    e.num_shape = 2;
    e.bucket[0] = b0;
    e.bucket[1] = b1;
    e.num_params = 2;
    snprintf(e.names[0], sizeof e.names[0], "TILE");
    snprintf(e.names[1], sizeof e.names[1], "VEC");
    e.values[0] = tile;
    e.values[1] = vec;
    e.median_ms = 2.0;
    e.min_ms = 1.75;
    e.default_ms = 2.0 * speedup;
    snprintf(e.tuner_version, sizeof e.tuner_version, "%s",
             SEQK_TUNER_VERSION);
    snprintf(e.date, sizeof e.date, "2024-05-01T12:00:00Z");
    return e;
}

static seqk_tune_limits no_limits(void)
{
    seqk_tune_limits l;
    memset(&l, 0, sizeof l);
    return l;
}

void assert_same_db(const seqk_tune_db *a, const seqk_tune_db *b)
{
    ck_assert_int_eq(seqk__tune_db_count(a), seqk__tune_db_count(b));
    for (int i = 0; i < seqk__tune_db_count(a); i++)
        ck_assert_msg(!memcmp(seqk__tune_db_get(a, i), seqk__tune_db_get(b, i),
                              sizeof(seqk_tune_entry)),
                      "entry %d differs after the round trip", i);
}

/* Three entries with every field set, written to dir/db.json; returns the
 * database (caller frees). */
seqk_tune_db *sample_db(const char *path)
{
    char h[17], msg[512];
    seqk__tunable_hash(&fake, h);
    seqk_tune_fp f = gpu_fp();
    seqk_tune_db *db = seqk__tune_db_new();
    seqk_tune_entry e = make_entry(&f, h, 6, 6, 8, 2, 1.5);
    e.fp.cpu_family = 6;
    e.fp.cpu_model = 85;
    snprintf(e.fp.isa, sizeof e.fp.isa, "sse2,avx,avx2,fma");
    e.fp.l1d = 32768;
    e.fp.l2 = 1 << 20;
    e.fp.l3 = 35651584;
    e.median_ms = 0.1234567890123;
    e.min_ms = 1e-7;
    e.default_ms = 12345.678;
    e.num_verified = 2;
    snprintf(e.verified[0].driver, 64, "530.1");
    snprintf(e.verified[0].platform, 128, "OpenCL 3.0 \"quoted\" \\ \xc3\xa9");
    snprintf(e.verified[1].driver, 64, "%s", "");
    ck_assert_int_eq(seqk__tune_db_put(db, &e), SEQK_OK);
    e = make_entry(&f, h, 7, 6, 4, 1, 3.0);
    ck_assert_int_eq(seqk__tune_db_put(db, &e), SEQK_OK);
    e = make_entry(&f, "0123456789abcdef", 0, 62, 2, 4, 0.5);
    e.num_params = 1;
    e.values[1] = 0;
    memset(e.names[1], 0, sizeof e.names[1]);
    ck_assert_int_eq(seqk__tune_db_put(db, &e), SEQK_OK);
    if (path)
        ck_assert_msg(seqk__tune_db_write(db, path, msg, sizeof msg) ==
                      SEQK_OK, "%s", msg);
    return db;
}

char *sample_text(size_t *len)
{
    char path[256], dir[64];
    snprintf(dir, sizeof dir, "/tmp/seqk-tunedb-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/db.json", dir);
    seqk__tune_db_free(sample_db(path));
    char *t = read_text(path, len);
    rm_tree(dir);
    return t;
}

/* ------------------------------------------------------ file round trip */

START_TEST(round_trip)
{
    char path[256], msg[512];
    const char *dir = tmpdir();
    snprintf(path, sizeof path, "%s/a/b/tuning.json", dir); /* mkdir -p */
    seqk_tune_db *db = sample_db(path), *back = NULL;
    ck_assert_int_eq(seqk__tune_db_read(path, &back, msg, sizeof msg),
                     SEQK_OK);
    assert_same_db(db, back);
    /* The speedup is written as well (for people reading the file). */
    size_t len;
    char *text = read_text(path, &len);
    ck_assert_ptr_nonnull(strstr(text, "\"speedup\":\t3"));
    ck_assert_ptr_nonnull(strstr(text, "\"format\":\t\"seqk-tuning\""));
    free(text);
    /* No temporary file is left behind. */
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    DIR *d = opendir(sub);
    struct dirent *de;
    int files = 0;
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' || strncmp(de->d_name, ".tuning-", 8) == 0)
            files++;
    closedir(d);
    ck_assert_int_eq(files, 1);
    /* Putting an entry with an equal key replaces it. */
    seqk_tune_entry e = *seqk__tune_db_get(db, 1);
    e.values[0] = 2;
    ck_assert_int_eq(seqk__tune_db_put(db, &e), SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_count(db), 3);
    ck_assert_int_eq(seqk__tune_db_get(db, 1)->values[0], 2);
    /* An entry that could not be read back is refused. */
    e.kernel[0] = '\0';
    ck_assert_int_eq(seqk__tune_db_put(db, &e), SEQK_ERR_INVALID_ARG);
    seqk_tune_fp f = gpu_fp();
    ck_assert_int_eq(seqk__tune_db_remove_device(db, &f), 2);
    ck_assert_int_eq(seqk__tune_db_count(db), 1);
    /* A missing file is an empty database. */
    seqk__tune_db_free(back);
    snprintf(path, sizeof path, "%s/none.json", dir);
    ck_assert_int_eq(seqk__tune_db_read(path, &back, msg, sizeof msg),
                     SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_count(back), 0);
    seqk__tune_db_free(back);
    seqk__tune_db_free(db);
    rm_tree(dir);
}
END_TEST

START_TEST(db_path)
{
    char buf[512];
    seqk_options o;
    seqk_context *ctx = NULL;
    setenv("XDG_CACHE_HOME", "/x/cache", 1);
    unsetenv("SEQK_TUNING_DB");
    seqk__tune_db_path(NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "/x/cache/seqk/tuning.json");
    setenv("SEQK_TUNING_DB", "/y/t.json", 1);
    seqk__tune_db_path(NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "/y/t.json");
    seqk_options_init(&o);
    o.device = "ref";
    o.tuning_db = "/z/opt.json";
    ck_assert_int_eq(seqk_context_create(&o, &ctx), SEQK_OK);
    seqk__tune_db_path(ctx, buf, sizeof buf);
    ck_assert_str_eq(buf, "/z/opt.json");
    seqk_context_destroy(ctx);
    unsetenv("SEQK_TUNING_DB");
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/h", 1);
    seqk__tune_db_path(NULL, buf, sizeof buf);
    ck_assert_str_eq(buf, "/h/.cache/seqk/tuning.json");
}
END_TEST

/* -------------------------------------------------------- the lookup */

START_TEST(fp_levels)
{
    seqk_tune_fp a = gpu_fp(), b = a;
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a), SEQK_TUNE_MATCH_EXACT);
    snprintf(b.driver, sizeof b.driver, "530.0");
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a),
                     SEQK_TUNE_MATCH_OTHER_DRIVER);
    b = a;
    snprintf(b.platform, sizeof b.platform, "OpenCL 3.0 CUDA 12.4");
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a),
                     SEQK_TUNE_MATCH_OTHER_DRIVER);
    b = a;
    b.compute_units = 20;
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a), SEQK_TUNE_MATCH_NAME);
    b = a;
    snprintf(b.device, sizeof b.device, "GeForce Y 2000");
    snprintf(b.vendor, sizeof b.vendor, "NVIDIA");
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a), SEQK_TUNE_MATCH_VENDOR);
    snprintf(b.vendor, sizeof b.vendor, "Advanced Micro Devices, Inc.");
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a), SEQK_TUNE_MATCH_NONE);
    b = a;
    snprintf(b.backend, sizeof b.backend, "avx2");
    ck_assert_int_eq(seqk__tune_fp_match(&b, &a), SEQK_TUNE_MATCH_NONE);
}
END_TEST

/* Looks up fake for shape (m, n) on fp; returns TILE (0: no entry). */
static int tile_for(const seqk_tune_db *db, const seqk_tune_fp *fp,
                    int64_t m, int64_t n, seqk_tune_match *match)
{
    int64_t shape[2] = {m, n};
    seqk_tune_limits lim = no_limits();
    const seqk_tune_entry *e =
        seqk__tune_db_find(db, fp, &fake, NULL, shape, &lim, match);
    return e ? e->values[0] : 0;
}

START_TEST(device_fallback)
{
    char h[17];
    seqk__tunable_hash(&fake, h);
    seqk_tune_fp cur = gpu_fp(), f;
    seqk_tune_db *db = seqk__tune_db_new();
    seqk_tune_match m;
    /* One entry per level, same bucket, told apart by TILE/VEC. */
    f = cur;
    snprintf(f.vendor, sizeof f.vendor, "AMD");
    seqk_tune_entry foreign = make_entry(&f, h, 6, 6, 8, 4, 2.0);
    f = cur;
    snprintf(f.device, sizeof f.device, "GeForce Y");
    seqk_tune_entry vendor = make_entry(&f, h, 6, 6, 1, 1, 1.1);
    f = cur;
    f.compute_units = 20;
    seqk_tune_entry name = make_entry(&f, h, 6, 6, 2, 1, 1.2);
    f = cur;
    snprintf(f.driver, sizeof f.driver, "530.0");
    seqk_tune_entry other = make_entry(&f, h, 6, 6, 4, 1, 1.3);
    seqk_tune_entry exact = make_entry(&cur, h, 6, 6, 8, 1, 1.4);
    seqk_tune_entry all[] = {foreign, vendor, name, other, exact};
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(seqk__tune_db_put(db, &all[i]), SEQK_OK);
    ck_assert_int_eq(tile_for(db, &cur, 64, 64, &m), 8);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_EXACT);
    /* Without the exact entry: the other driver's is not verified. */
    ck_assert_int_eq(seqk__tune_db_remove_device(db, &cur), 1);
    ck_assert_int_eq(tile_for(db, &cur, 64, 64, &m), 2);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_NAME);
    int64_t shape[2] = {64, 64};
    seqk_tune_limits lim = no_limits();
    const seqk_tune_entry *e = seqk__tune_db_find_ex(
        db, &cur, &fake, h, shape, &lim, SEQK_TUNE_FIND_UNVERIFIED, &m);
    ck_assert_ptr_nonnull(e);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_OTHER_DRIVER);
    /* Once verified on this driver it is used. */
    seqk_tune_entry v = *e;
    seqk__tune_entry_mark_verified(&v, &cur);
    ck_assert_int_eq(v.num_verified, 1);
    ck_assert_int_eq(seqk__tune_db_put(db, &v), SEQK_OK);
    ck_assert_int_eq(tile_for(db, &cur, 64, 64, &m), 4);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_OTHER_DRIVER);
    seqk__tune_db_free(db);
    /* Name, then vendor, then nothing (the other vendor's never). */
    seqk_tune_entry rest[] = {foreign, vendor, name};
    for (int k = 3; k >= 1; k--) {
        db = seqk__tune_db_new();
        for (int i = 0; i < k; i++)
            ck_assert_int_eq(seqk__tune_db_put(db, &rest[i]), SEQK_OK);
        int want[] = {0, 1, 2};
        seqk_tune_match wm[] = {SEQK_TUNE_MATCH_NONE, SEQK_TUNE_MATCH_VENDOR,
                                SEQK_TUNE_MATCH_NAME};
        ck_assert_int_eq(tile_for(db, &cur, 64, 64, &m), want[k - 1]);
        ck_assert_int_eq(m, wm[k - 1]);
        seqk__tune_db_free(db);
    }
}
END_TEST

START_TEST(bucket_fallback)
{
    char h[17];
    seqk__tunable_hash(&fake, h);
    seqk_tune_fp cur = gpu_fp();
    seqk_tune_db *db = seqk__tune_db_new();
    seqk_tune_match m;
    seqk_tune_entry es[] = {
        make_entry(&cur, h, 6, 6, 8, 1, 1.5),
        make_entry(&cur, h, 7, 6, 4, 1, 1.5),
        make_entry(&cur, h, 4, 4, 2, 1, 1.5),
        /* never: no gain, or values that are no candidates */
        make_entry(&cur, h, 5, 6, 1, 2, 1.0),
        make_entry(&cur, h, 5, 5, 1, 4, 0.8),
        make_entry(&cur, h, 3, 3, 3, 1, 9.0),
    };
    for (size_t i = 0; i < sizeof es / sizeof es[0]; i++)
        ck_assert_int_eq(seqk__tune_db_put(db, &es[i]), SEQK_OK);
    ck_assert_int_eq(tile_for(db, &cur, 64, 64, &m), 8);  /* exact [6,6] */
    ck_assert_int_eq(tile_for(db, &cur, 96, 40, &m), 4);  /* exact [7,6] */
    /* [7,6] with TILE 4 is illegal for M=98; [6,6] (TILE 8) too; [4,4]
     * (TILE 2) is legal but 3 buckets (8x) away in M: defaults. */
    ck_assert_int_eq(tile_for(db, &cur, 98, 64, &m), 0);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_NONE);
    /* Far from every entry: defaults, never a distant bucket's values. */
    ck_assert_int_eq(tile_for(db, &cur, 1024, 1024, &m), 0);
    /* Bucket [5,6]: its own entries do not beat the defaults; the nearest
     * are [6,6] (distance 1) and [4,4] (3). */
    ck_assert_int_eq(tile_for(db, &cur, 32, 64, &m), 8);
    /* [5,5]: [4,4] (TILE 2, distance 2) beats [7,6] (TILE 4, 3). */
    ck_assert_int_eq(tile_for(db, &cur, 20, 20, &m), 2);
    /* M=5 is odd: only TILE 1 is legal and no gaining entry has it. */
    ck_assert_int_eq(tile_for(db, &cur, 5, 5, &m), 0);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_NONE);
    /* The defaults recorded as a bucket's best (speedup 1, the default
     * values) keep a neighbour's winner out of that bucket only. */
    seqk_tune_entry kept = make_entry(&cur, h, 6, 7, 1, 1, 1.0);
    ck_assert_int_eq(tile_for(db, &cur, 64, 128, &m), 8); /* [6,6] stands in */
    ck_assert_int_eq(seqk__tune_db_put(db, &kept), SEQK_OK);
    ck_assert_int_eq(tile_for(db, &cur, 64, 128, &m), 1);
    ck_assert_int_eq(m, SEQK_TUNE_MATCH_EXACT);
    ck_assert_int_eq(tile_for(db, &cur, 64, 64, &m), 8);
    /* Another source hash, other parameter names: not used. */
    int64_t sq[2] = {64, 64};
    seqk_tune_limits lim = no_limits();
    ck_assert_ptr_null(seqk__tune_db_find(db, &cur, &fake, "00000000deadbeef",
                                         sq, &lim, &m));
    seqk_tunable renamed = fake;
    renamed.params[1].name = "WIDTH";
    ck_assert_ptr_null(seqk__tune_db_find(db, &cur, &renamed, h, sq, &lim,
                                         &m));
    seqk__tune_db_free(db);
}
END_TEST

/* ------------------------------------------------- the library's lookup */

static seqk_context *db_context(const char *device, const char *db_path)
{
    seqk_options o;
    seqk_context *ctx = NULL;
    seqk_options_init(&o);
    o.device = device;
    o.tuning_db = db_path;
    ck_assert_msg(seqk_context_create(&o, &ctx) == SEQK_OK, "%s",
                  seqk_last_error(NULL));
    return ctx;
}

/* stderr into a file while a test runs (the SEQK_VERBOSE log). */
static int saved_stderr = -1;
static void capture_stderr(const char *path)
{
    fflush(stderr);
    saved_stderr = dup(2);
    int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
    ck_assert_int_ge(fd, 0);
    dup2(fd, 2);
    close(fd);
}

static char *release_stderr(const char *path)
{
    size_t len;
    fflush(stderr);
    dup2(saved_stderr, 2);
    close(saved_stderr);
    return read_text(path, &len);
}

static int count_of(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

static void tuned(seqk_context *ctx, int64_t m, int64_t n, int want_tile,
                  int want_vec)
{
    int64_t shape[2] = {m, n};
    int v[2] = {-1, -1};
    seqk__tuned(ctx, &fake, shape, v);
    ck_assert_msg(v[0] == want_tile && v[1] == want_vec,
                  "M=%lld N=%lld: TILE=%d VEC=%d, want %d %d", (long long)m,
                  (long long)n, v[0], v[1], want_tile, want_vec);
}

START_TEST(runtime_lookup)
{
    char path[256], logp[256], msg[600], h[17];
    const char *dir = tmpdir();
    snprintf(path, sizeof path, "%s/tuning.json", dir);
    snprintf(logp, sizeof logp, "%s/log.txt", dir);
    seqk__tunable_hash(&fake, h);
    setenv("SEQK_VERBOSE", "dispatch", 1);
    capture_stderr(logp);
    /* No file yet: defaults, said once. */
    seqk_context *ctx = db_context("ref", path);
    tuned(ctx, 64, 64, 1, 1);
    tuned(ctx, 64, 64, 1, 1);
    seqk_tune_fp fp;
    seqk__tune_fingerprint(ctx, &fp);
    seqk_context_destroy(ctx);
    /* This device exactly; and another driver of it (not verified). */
    seqk_tune_entry e = make_entry(&fp, h, 6, 6, 8, 4, 2.0);
    seqk_tune_fp other = fp;
    snprintf(other.driver, sizeof other.driver, "another driver");
    seqk_tune_entry o = make_entry(&other, h, 7, 7, 2, 2, 3.0);
    ck_assert_int_eq(seqk__tune_db_update(path, &e, 1, msg, sizeof msg),
                     SEQK_OK);
    ck_assert_int_eq(seqk__tune_db_update(path, &o, 1, msg, sizeof msg),
                     SEQK_OK);
    ctx = db_context("ref", path);
    tuned(ctx, 64, 64, 8, 4);
    tuned(ctx, 64, 64, 8, 4);   /* remembered */
    tuned(ctx, 60, 64, 1, 1);   /* TILE 8 does not divide 60: defaults */
    tuned(ctx, 128, 128, 8, 4); /* nearest bucket; the unverified one not */
    tuned(ctx, 64, 64, 8, 4);
    seqk_context_destroy(ctx);
    /* Verified on this driver: now the other driver's entry is used. */
    seqk__tune_entry_mark_verified(&o, &fp);
    ck_assert_int_eq(seqk__tune_db_update(path, &o, 1, msg, sizeof msg),
                     SEQK_OK);
    ctx = db_context("ref", path);
    tuned(ctx, 128, 128, 8, 4); /* the exact device still comes first */
    tuned(ctx, 60, 64, 2, 2);   /* unless its values are illegal */
    seqk_context_destroy(ctx);
    char *log = release_stderr(logp);
    unsetenv("SEQK_VERBOSE");
    char want[512];
    snprintf(want, sizeof want, "tuning: no database at %s; built-in "
             "defaults", path);
    ck_assert_int_eq(count_of(log, want), 1);
    ck_assert_ptr_nonnull(strstr(log, "tuning: test.fake.kernel M=64 N=64: "
                                      "entry [6,6] (exact device, 2.00x) -> "
                                      "TILE=8 VEC=4"));
    ck_assert_ptr_nonnull(strstr(log, "tuning: test.fake.kernel M=60 N=64: "
                                      "defaults"));
    ck_assert_ptr_nonnull(strstr(log, "entry [6,6] for bucket [7,7]"));
    ck_assert_int_eq(count_of(log, "is not verified on driver"), 1);
    ck_assert_ptr_nonnull(strstr(log, "M=60 N=64: entry [7,7] for bucket "
                                      "[6,6] (same device, other driver, "
                                      "3.00x) -> TILE=2 VEC=2"));
    free(log);
    rm_tree(dir);
}
END_TEST

/* A bad database changes nothing but the log: defaults, and ops work. */
START_TEST(runtime_bad_db)
{
    char path[256], logp[256];
    const char *dir = tmpdir();
    size_t len;
    char *good = sample_text(&len);
    snprintf(path, sizeof path, "%s/tuning.json", dir);
    snprintf(logp, sizeof logp, "%s/log.txt", dir);
    const char *v2 = "{\"format\":\"seqk-tuning\",\"version\":2,\"entries\":[]}";
    for (int kind = 0; kind < 4; kind++) {
        if (kind == 0) {
            write_text(path, good, len / 2);        /* truncated */
        } else if (kind == 1) {
            write_text(path, v2, strlen(v2));       /* foreign */
        } else if (kind == 2) {
            good[10] = '\0';                        /* a NUL byte */
            write_text(path, good, len);
        } else {                                    /* oversized */
            int fd = open(path, O_WRONLY | O_TRUNC);
            ck_assert_int_eq(ftruncate(fd, (off_t)SEQK_TUNE_DB_MAX_BYTES * 2),
                             0);
            close(fd);
        }
        setenv("SEQK_TUNING_DB", path, 1);
        setenv("SEQK_VERBOSE", "dispatch", 1);
        capture_stderr(logp);
        seqk_context *ctx = db_context("ref", NULL);
        for (int i = 0; i < 3; i++)
            tuned(ctx, 64, 64, 1, 1);
        /* An op on the same context. */
        float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {1, 0, -1, 2, 0.5f, 3};
        float y[4], want[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                want[i * 2 + j] = a[i * 3] * b[j] + a[i * 3 + 1] * b[2 + j] +
                                  a[i * 3 + 2] * b[4 + j];
        seqk_tensor *A = tu_f32(ctx, 2, (int64_t[]){2, 3}, a);
        seqk_tensor *B = tu_f32(ctx, 2, (int64_t[]){3, 2}, b);
        seqk_tensor *Y = tu_f32(ctx, 2, (int64_t[]){2, 2}, NULL);
        TU_OK(ctx, seqk_matmul(ctx, A, B, Y));
        TU_OK(ctx, seqk_tensor_read(Y, y, sizeof y));
        TU_ASSERT_CLOSE(y, want, 4, 1e-5f, 1e-5f);
        seqk_tensor_destroy(A);
        seqk_tensor_destroy(B);
        seqk_tensor_destroy(Y);
        seqk_context_destroy(ctx);
        char *log = release_stderr(logp);
        unsetenv("SEQK_TUNING_DB");
        unsetenv("SEQK_VERBOSE");
        static const char *why[] = {"not valid JSON", "version 2 is not "
                                    "supported (this library reads 1); "
                                    "ignored", "NUL byte", "larger than"};
        char head[300];
        snprintf(head, sizeof head, "tuning database %s: ", path);
        ck_assert_msg(count_of(log, head) == 1 && strstr(log, why[kind]) &&
                      count_of(log, "; ignored") == 1,
                      "kind %d: log:\n%s", kind, log);
        free(log);
    }
    free(good);
    rm_tree(dir);
}
END_TEST

/* ------------------------------------------------- fingerprints, hashes */

static void check_fp_storable(const seqk_tune_fp *fp)
{
    char h[17], msg[512];
    seqk__tunable_hash(&fake, h);
    seqk_tune_entry e = make_entry(fp, h, 1, 1, 1, 1, 2);
    ck_assert_msg(seqk__tune_entry_check(&e, msg, sizeof msg) == SEQK_OK,
                  "%s", msg);
}

START_TEST(cpu_fingerprint)
{
    seqk_context *ctx = db_context("ref", NULL);
    seqk_tune_fp fp, again;
    seqk__tune_fingerprint(ctx, &fp);
    ck_assert_str_eq(fp.backend, "ref");
    seqk_context_destroy(ctx);
    ctx = db_context("auto", NULL);
    seqk__tune_fingerprint(ctx, &fp);
    seqk__tune_fingerprint(ctx, &again);
    ck_assert_int_eq(seqk__tune_fp_match(&fp, &again), SEQK_TUNE_MATCH_EXACT);
    if (!ctx->dev) {
        /* The best CPU backend (not the OpenCL offload of auto). */
        seqk_context *cpu = db_context("cpu", NULL);
        ck_assert_str_eq(fp.backend,
                         cpu->backends[cpu->num_backends - 1]->spec);
        seqk_context_destroy(cpu);
        ck_assert_int_ge(fp.compute_units, 1);
        ck_assert_int_gt(fp.l1d, 0);
        ck_assert_int_gt(fp.l2, 0);
        ck_assert_str_ne(fp.isa, "");
#if defined(__x86_64__)
        ck_assert_ptr_nonnull(strstr(fp.isa, "sse2"));
        ck_assert_str_ne(fp.vendor, "");
        ck_assert_int_gt(fp.cpu_family, 0);
#endif
    }
    check_fp_storable(&fp);
    seqk_context_destroy(ctx);
}
END_TEST

START_TEST(source_hashes)
{
    char h1[17], h2[17];
    seqk_tunable t = fake;
    seqk__tunable_hash(&t, h1);
    ck_assert_uint_eq(strspn(h1, "0123456789abcdef"), 16);
    seqk__tunable_hash(&t, h2);
    ck_assert_str_eq(h1, h2);
    t.params[1].name = "WIDTH";
    seqk__tunable_hash(&t, h2);
    ck_assert_str_ne(h1, h2);
    t = fake;
    t.id = "test.fake.other";
    seqk__tunable_hash(&t, h2);
    ck_assert_str_ne(h1, h2);
#if SEQK_HAVE_OPENCL
    /* Kernel tunables hash the source as the build would read it. */
    const char *src = seqk__cl_embedded_source("softmax");
    ck_assert_ptr_nonnull(src);
    t = fake;
    t.source = "softmax";
    t.backend = "opencl"; /* whose device table reads the source */
    seqk__tunable_hash(&t, h1);
    const char *dir = tmpdir();
    char path[256];
    snprintf(path, sizeof path, "%s/softmax.cl", dir);
    write_text(path, src, strlen(src));
    setenv("SEQK_KERNEL_DIR", dir, 1);
    seqk__tunable_hash(&t, h2);
    ck_assert_str_eq(h1, h2);
    write_text(path, "/* changed */", 13);
    seqk__tunable_hash(&t, h2);
    ck_assert_str_ne(h1, h2);
    unsetenv("SEQK_KERNEL_DIR");
    rm_tree(dir);
#endif
}
END_TEST

/* OpenCL devices named by SEQK_TEST_DEVICES (run with CK_FORK=no). */
START_TEST(opencl_fingerprint)
{
    const char *env = getenv("SEQK_TEST_DEVICES");
    int tested = 0;
    if (!env || !strstr(env, "opencl"))
        return;
    for (int i = 0; i < tu_device_count(); i++) {
        if (strncmp(tu_device(i), "opencl", 6) != 0)
            continue;
        seqk_context *ctx = tu_context(i);
        seqk_tune_fp fp;
        seqk__tune_fingerprint(ctx, &fp);
        ck_assert_str_eq(fp.backend, "opencl");
        ck_assert_str_ne(fp.device, "");
        ck_assert_str_ne(fp.vendor, "");
        ck_assert_str_ne(fp.driver, "");
        ck_assert_str_ne(fp.platform, "");
        ck_assert_int_gt(fp.compute_units, 0);
        ck_assert_int_gt(fp.local_mem, 0);
        check_fp_storable(&fp);
        seqk_context_destroy(ctx);
        tested++;
    }
    ck_assert_int_gt(tested, 0);
}
END_TEST

static Suite *tune_db_suite(void)
{
    Suite *s = suite_create("tune_db");
    TCase *tc = tcase_create("db");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, round_trip);
    tcase_add_test(tc, db_path);
    tcase_add_test(tc, fp_levels);
    tcase_add_test(tc, device_fallback);
    tcase_add_test(tc, bucket_fallback);
    tune_db_file_tests(tc); /* test_tune_db_files.c */
    tcase_add_test(tc, runtime_lookup);
    tcase_add_test(tc, runtime_bad_db);
    tcase_add_test(tc, cpu_fingerprint);
    tcase_add_test(tc, source_hashes);
    tcase_add_test(tc, opencl_fingerprint);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_run_suite(tune_db_suite());
}
