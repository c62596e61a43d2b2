/*
 * checkkern.c — the harness's driver (see checkkern.h): flags, the ISA
 * loop over src/cpu_simd/isa.def, guarded buffers, comparison, reports
 * and timing.
 *
 *   checkkern [--isa=NAME] [--filter=SUBSTR] [--bench] [--seed=N]
 *
 * Exit status 0 when every check passed, 1 on a failure, 2 on bad flags,
 * 77 (meson's "skipped") when --isa names an ISA this CPU cannot run.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "checkkern.h"
#include "core/registry.h"
#include "cpu_simd/isa.h"

const char *const ck_kind_names[CK_KINDS] = {"exact", "random", "lanes"};

/* ------------------------------------------------------------- state */

static struct {
    uint64_t seed;
    const char *isa_only, *filter;
    int bench;
    const char *isa; /* the ISA being checked */
    char entry[96];  /* its current table entry */
    int entry_on, entry_failed, entry_reports;
    int entries, failures;
} g = {.seed = 0x5eed};

/* isa.def: the CPU features each ISA needs, to skip those this CPU (or
 * SEQK_DISABLE_CPU_FEATURES) rules out. */
static const struct {
    const char *name;
    unsigned needs;
} isa_needs[] = {
#define SEQK_ISA(name, arch, needs, cflags, title) {#name, needs},
#include "cpu_simd/isa.def"
};

static unsigned needs_of(const char *name)
{
    for (size_t i = 0; i < sizeof isa_needs / sizeof isa_needs[0]; i++)
        if (!strcmp(isa_needs[i].name, name))
            return isa_needs[i].needs;
    return ~0u;
}

/* ------------------------------------------------------------- random */

void ck_rng_init(ck_rng *r, uint64_t salt)
{
    r->s = (g.seed ^ (salt * 0x9E3779B97F4A7C15ull)) | 1;
    for (int i = 0; i < 4; i++)
        ck_u32(r);
}

uint32_t ck_u32(ck_rng *r)
{
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return (uint32_t)((r->s * 0x2545F4914F6CDD1Dull) >> 32);
}

int ck_int(ck_rng *r, int lo, int hi)
{
    return lo + (int)(ck_u32(r) % (uint32_t)(hi - lo + 1));
}

float ck_value(ck_rng *r, ck_kind kind)
{
    if (kind == CK_RANDOM)
        return (float)(ck_u32(r) >> 8) * 0x1p-23f - 1.0f;
    return (float)ck_int(r, -8, 8) * 0.125f;
}

void ck_fill(ck_rng *r, float *x, size_t n, ck_kind kind)
{
    for (size_t i = 0; i < n; i++)
        x[i] = ck_value(r, kind);
}

/* ------------------------------------------------------------- buffers */

static const uint32_t SENTINEL_BITS = 0xDEADBEEFu;  /* a float ~ -6.3e18 */
static const uint32_t UNWRITTEN_BITS = 0x7FC0DEADu; /* a quiet NaN */

/* [header: n][guard][data n][guard] */
float *ck_alloc(size_t n)
{
    const size_t total = (2 * CK_GUARD + n + 16) * sizeof(float);
    float *base = seqk__aligned_alloc(total);
    if (!base) {
        fprintf(stderr, "checkkern: out of memory (%zu floats)\n", n);
        exit(1);
    }
    memcpy(base, &n, sizeof n); /* fits in the 16 floats of header */
    float *p = base + 16 + CK_GUARD;
    for (size_t i = 0; i < CK_GUARD; i++) {
        memcpy(p - 1 - i, &SENTINEL_BITS, 4);
        memcpy(p + n + i, &SENTINEL_BITS, 4);
    }
    for (size_t i = 0; i < n; i++)
        memcpy(p + i, &UNWRITTEN_BITS, 4);
    return p;
}

void ck_free(float *p)
{
    if (p)
        seqk__aligned_free(p - CK_GUARD - 16);
}

int ck_guards(const float *p, const char *what)
{
    size_t n;
    memcpy(&n, p - CK_GUARD - 16, sizeof n);
    for (size_t i = 0; i < CK_GUARD; i++) {
        uint32_t lo, hi;
        memcpy(&lo, p - 1 - i, 4);
        memcpy(&hi, p + n + i, 4);
        if (lo != SENTINEL_BITS) {
            ck_fail("%s: wrote %zu floats before the buffer", what, i + 1);
            return 0;
        }
        if (hi != SENTINEL_BITS) {
            ck_fail("%s: wrote past its %zu floats (at +%zu)", what, n, i);
            return 0;
        }
    }
    return 1;
}

/* ------------------------------------------------------------- reports */

int ck_want(const char *entry)
{
    snprintf(g.entry, sizeof g.entry, "%s %s", g.isa, entry);
    g.entry_on = !g.filter || strstr(g.entry, g.filter);
    g.entry_failed = 0;
    g.entry_reports = 0;
    if (g.entry_on)
        g.entries++;
    return g.entry_on;
}

void ck_done(void)
{
    if (!g.entry_on)
        return;
    if (!g.bench || g.entry_failed)
        printf(" - %-36s %s\n", g.entry, g.entry_failed ? "FAILED" : "ok");
    fflush(stdout);
    g.entry_on = 0;
}

void ck_fail(const char *fmt, ...)
{
    if (!g.entry_failed)
        g.failures++;
    g.entry_failed = 1;
    if (g.entry_reports++ >= 5)
        return; /* enough to see the pattern */
    va_list ap;
    va_start(ap, fmt);
    printf("   FAIL %s: ", g.entry);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

int ck_failed(void)
{
    return g.entry_failed;
}

static int same_bits(float a, float b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

int ck_compare(const char *what, const char *shape, const float *got,
               const float *want, const double *tol, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const double t = tol ? tol[i] : 0.0;
        if (t < 0)
            continue; /* scratch: any value */
        const int ok = t == 0.0 ? same_bits(got[i], want[i])
                                : fabs((double)got[i] - want[i]) <= t;
        if (!ok) {
            ck_fail("%s: %s[%zu] = %.9g, want %.9g (diff %.3g, tol %.3g)",
                    shape, what, i, (double)got[i], (double)want[i],
                    fabs((double)got[i] - want[i]), t);
            return 0;
        }
    }
    return 1;
}

int ck_compare1(const char *what, const char *shape, const float *got,
                const float *want, double tol, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const int ok = tol == 0.0 ? same_bits(got[i], want[i])
                                  : fabs((double)got[i] - want[i]) <= tol;
        if (!ok) {
            ck_fail("%s: %s[%zu] = %.9g, want %.9g (diff %.3g, tol %.3g)",
                    shape, what, i, (double)got[i], (double)want[i],
                    fabs((double)got[i] - want[i]), tol);
            return 0;
        }
    }
    return 1;
}

int ck_same(const char *what, const char *shape, const float *got,
            const size_t *idx, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (!same_bits(got[idx[i]], got[idx[0]])) {
            ck_fail("%s: lanes differ: %s[%zu] = %.9g, %s[%zu] = %.9g "
                    "(same inputs)",
                    shape, what, idx[i], (double)got[idx[i]], what, idx[0],
                    (double)got[idx[0]]);
            return 0;
        }
    return 1;
}

/* ------------------------------------------------------------- bench */

int ck_bench_on(void)
{
    return g.bench && g.entry_on;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

void ck_bench(const char *shape, void (*fn)(void *), void *arg, double flops,
              double bytes)
{
    enum { SAMPLES = 9 };
    /* calls per sample: enough for ~1 ms */
    int64_t calls = 1;
    for (;;) {
        const double t0 = now_s();
        for (int64_t i = 0; i < calls; i++)
            fn(arg);
        const double dt = now_s() - t0;
        if (dt >= 1e-3 || calls >= (int64_t)1 << 30)
            break;
        calls = dt <= 0 ? calls * 16 : (int64_t)(calls * 1.2e-3 / dt) + 1;
    }
    double t[SAMPLES];
    for (int s = 0; s < SAMPLES; s++) {
        const double t0 = now_s();
        for (int64_t i = 0; i < calls; i++)
            fn(arg);
        t[s] = (now_s() - t0) / (double)calls;
    }
    qsort(t, SAMPLES, sizeof t[0], cmp_double);
    const double med = t[SAMPLES / 2];
    if (flops > 0)
        printf(" bench %-32s %-28s %10.1f ns %8.2f GFLOP/s\n", g.entry, shape,
               med * 1e9, flops / med * 1e-9);
    else
        printf(" bench %-32s %-28s %10.1f ns %8.2f GB/s\n", g.entry, shape,
               med * 1e9, bytes / med * 1e-9);
    fflush(stdout);
}

/* ------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fprintf(f, "usage: checkkern [--isa=NAME] [--filter=SUBSTR] [--bench] "
               "[--seed=N]\n"
               "  every entry of every compiled ISA's kernel tables against "
               "scalar C\n"
               "  --isa=NAME       only this ISA (");
    for (int i = 0; seqk__cpu_isas[i]; i++)
        fprintf(f, "%s%s", i ? ", " : "", seqk__cpu_isas[i]->spec);
    fprintf(f, ")\n"
               "  --filter=SUBSTR  only entries whose \"<isa> <entry>\" "
               "contains SUBSTR\n"
               "  --bench          also time each entry (median, GFLOP/s)\n"
               "  --seed=N         random seed (default 0x5eed)\n"
               "SEQK_DISABLE_CPU_FEATURES masks ISAs as for the library.\n");
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strncmp(a, "--isa=", 6)) {
            g.isa_only = a + 6;
        } else if (!strncmp(a, "--filter=", 9)) {
            g.filter = a + 9;
        } else if (!strcmp(a, "--bench")) {
            g.bench = 1;
        } else if (!strncmp(a, "--seed=", 7)) {
            char *end;
            g.seed = strtoull(a + 7, &end, 0);
            if (*end || end == a + 7) {
                fprintf(stderr, "checkkern: bad seed '%s'\n", a + 7);
                return 2;
            }
        } else if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else {
            fprintf(stderr, "checkkern: unknown argument '%s'\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (g.isa_only && !seqk__cpu_isa_find(g.isa_only)) {
        fprintf(stderr, "checkkern: no ISA '%s' in this build\n", g.isa_only);
        usage(stderr);
        return 2;
    }
    printf("checkkern: seed 0x%llx\n", (unsigned long long)g.seed);
    const unsigned usable = seqk__cpu_usable();
    int ran = 0;
    for (int i = 0; seqk__cpu_isas[i]; i++) {
        const seqk_cpu_isa *isa = seqk__cpu_isas[i];
        if (g.isa_only && strcmp(g.isa_only, isa->spec))
            continue;
        const unsigned needs = needs_of(isa->spec);
        if ((usable & needs) != needs) {
            char missing[96];
            seqk__cpu_flag_names(needs & ~usable, missing, sizeof missing);
            printf("%s: skipped, this CPU lacks %s%s\n", isa->spec, missing,
                   seqk__cpu_masked() & needs
                       ? " (masked by SEQK_DISABLE_CPU_FEATURES)"
                       : "");
            continue;
        }
        printf("%s:\n", isa->spec);
        g.isa = isa->spec;
        if (isa->gemm)
            check_gemm(isa);
        if (isa->rnn)
            check_rnn(isa);
        if (isa->attn)
            check_attention(isa);
        if (isa->ew)
            check_elementwise(isa);
        ran++;
    }
    if (!ran) {
        printf("checkkern: no ISA to check on this CPU\n");
        return g.isa_only ? 77 : 0;
    }
    printf("checkkern: %d entries, %d failed\n", g.entries, g.failures);
    return g.failures ? 1 : 0;
}
