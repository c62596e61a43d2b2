/*
 * fingerprint.c — what identifies a device in the tuning database (its
 * fingerprint and how two fingerprints match), the source hash of a
 * tunable and the database path.
 *
 * Device backends (core/device.h facts): vendor, device name, driver
 * version, platform version, compute units, local memory.  CPU: the
 * context's best backend ("avx512", ...), CPU vendor (CPUID vendor string
 * / ARM implementer), name, family/model (CPUID / ARM part number),
 * usable ISA flags, caches, physical cores.
 */
#define _GNU_SOURCE /* strcasestr */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/registry.h"
#include "tune/db_internal.h"
#include "seqk_config.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

uint64_t seqk__tune_fnv(uint64_t h, const void *data, size_t len)
{
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

/* src into dst[len] without surrounding blanks; bytes outside printable
 * ASCII become '?' so the fingerprint always passes the file's checks. */
static void clean_copy(char *dst, size_t len, const char *src)
{
    size_t n = 0;
    if (!src)
        src = "";
    while (*src && isspace((unsigned char)*src))
        src++;
    for (; *src && n + 1 < len; src++) {
        unsigned char c = (unsigned char)*src;
        dst[n++] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
    }
    while (n > 0 && isspace((unsigned char)dst[n - 1]))
        n--;
    dst[n] = '\0';
}

/* ------------------------------------------------------------ matching */

/* Vendors spell themselves several ways ("NVIDIA Corporation",
 * "AuthenticAMD", "Advanced Micro Devices, Inc."): one short name each. */
static void vendor_key(const char *v, char *out, size_t len)
{
    static const struct { const char *needle, *key; } known[] = {
        {"nvidia", "nvidia"},         {"advanced micro", "amd"},
        {"authenticamd", "amd"},      {"amd", "amd"},
        {"genuineintel", "intel"},    {"intel", "intel"},
        {"apple", "apple"},           {"qualcomm", "qualcomm"},
        {"imagination", "imagination"}, {"portable computing", "pocl"},
        {"pocl", "pocl"},             {"arm", "arm"},
    };
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (strcasestr(v, known[i].needle)) {
            snprintf(out, len, "%s", known[i].key);
            return;
        }
    size_t n = 0;
    for (; *v && n + 1 < len; v++)
        if (!isspace((unsigned char)*v))
            out[n++] = (char)tolower((unsigned char)*v);
    out[n] = '\0';
}

/* Device names compared without case and blanks. */
static int same_name(const char *a, const char *b)
{
    for (;;) {
        while (*a && isspace((unsigned char)*a))
            a++;
        while (*b && isspace((unsigned char)*b))
            b++;
        if (!*a || !*b)
            return *a == *b;
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return 0;
        a++;
        b++;
    }
}

seqk_tune_match seqk__tune_fp_match(const seqk_tune_fp *e,
                                   const seqk_tune_fp *fp)
{
    char ka[128], kb[128];
    if (strcmp(e->backend, fp->backend) != 0)
        return SEQK_TUNE_MATCH_NONE;
    vendor_key(e->vendor, ka, sizeof ka);
    vendor_key(fp->vendor, kb, sizeof kb);
    if (strcmp(ka, kb) != 0)
        return SEQK_TUNE_MATCH_NONE;
    if (!same_name(e->device, fp->device))
        return SEQK_TUNE_MATCH_VENDOR;
    if (strcmp(e->vendor, fp->vendor) || strcmp(e->device, fp->device) ||
        e->compute_units != fp->compute_units ||
        e->local_mem != fp->local_mem || e->cpu_family != fp->cpu_family ||
        e->cpu_model != fp->cpu_model || strcmp(e->isa, fp->isa) ||
        e->l1d != fp->l1d || e->l2 != fp->l2 || e->l3 != fp->l3)
        return SEQK_TUNE_MATCH_NAME;
    if (strcmp(e->driver, fp->driver) || strcmp(e->platform, fp->platform))
        return SEQK_TUNE_MATCH_OTHER_DRIVER;
    return SEQK_TUNE_MATCH_EXACT;
}

const char *seqk__tune_match_name(seqk_tune_match m)
{
    switch (m) {
    case SEQK_TUNE_MATCH_EXACT: return "exact device";
    case SEQK_TUNE_MATCH_OTHER_DRIVER: return "same device, other driver";
    case SEQK_TUNE_MATCH_NAME: return "same device name";
    case SEQK_TUNE_MATCH_VENDOR: return "same vendor";
    default: return "no match";
    }
}

int seqk__tune_entry_verified(const seqk_tune_entry *e,
                             const seqk_tune_fp *fp)
{
    if (!strcmp(e->fp.driver, fp->driver) &&
        !strcmp(e->fp.platform, fp->platform))
        return 1;
    for (int i = 0; i < e->num_verified && i < SEQK_TUNE_MAX_VERIFIED; i++)
        if (!strcmp(e->verified[i].driver, fp->driver) &&
            !strcmp(e->verified[i].platform, fp->platform))
            return 1;
    return 0;
}

void seqk__tune_entry_mark_verified(seqk_tune_entry *e,
                                   const seqk_tune_fp *fp)
{
    if (seqk__tune_entry_verified(e, fp))
        return;
    if (e->num_verified < 0)
        e->num_verified = 0;
    if (e->num_verified >= SEQK_TUNE_MAX_VERIFIED) {
        memmove(&e->verified[0], &e->verified[1],
                (SEQK_TUNE_MAX_VERIFIED - 1) * sizeof e->verified[0]);
        e->num_verified = SEQK_TUNE_MAX_VERIFIED - 1;
    }
    seqk_tune_verified *v = &e->verified[e->num_verified++];
    snprintf(v->driver, sizeof v->driver, "%s", fp->driver);
    snprintf(v->platform, sizeof v->platform, "%s", fp->platform);
}

/* --------------------------------------------------------- fingerprint */

#if defined(__x86_64__) || defined(__i386__)
static void cpu_ids(seqk_tune_fp *fp)
{
    unsigned a, b, c, d;
    char vendor[13];
    if (!__get_cpuid(0, &a, &b, &c, &d))
        return;
    memcpy(vendor, &b, 4);
    memcpy(vendor + 4, &d, 4);
    memcpy(vendor + 8, &c, 4);
    vendor[12] = '\0';
    clean_copy(fp->vendor, sizeof fp->vendor, vendor);
    if (!__get_cpuid(1, &a, &b, &c, &d))
        return;
    int family = (int)((a >> 8) & 0xf), model = (int)((a >> 4) & 0xf);
    if (family == 0xf)
        family += (int)((a >> 20) & 0xff);
    if (family == 0x6 || family >= 0xf)
        model += (int)((a >> 16) & 0xf) << 4;
    fp->cpu_family = family;
    fp->cpu_model = model;
    if (!fp->device[0] && __get_cpuid(0x80000000, &a, &b, &c, &d) &&
        a >= 0x80000004) {
        unsigned brand[13] = {0};
        for (unsigned i = 0; i < 3; i++)
            __get_cpuid(0x80000002 + i, &brand[4 * i], &brand[4 * i + 1],
                        &brand[4 * i + 2], &brand[4 * i + 3]);
        clean_copy(fp->device, sizeof fp->device, (const char *)brand);
    }
}
#else
/* ARM: implementer and part number from /proc/cpuinfo. */
static void cpu_ids(seqk_tune_fp *fp)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[256];
    unsigned impl = 0, part = 0;
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (!strncmp(line, "CPU implementer", 15) && strchr(line, ':'))
            impl = (unsigned)strtoul(strchr(line, ':') + 1, NULL, 0);
        else if (!strncmp(line, "CPU part", 8) && strchr(line, ':'))
            part = (unsigned)strtoul(strchr(line, ':') + 1, NULL, 0);
        if (impl && part)
            break;
    }
    fclose(f);
    if (impl)
        snprintf(fp->vendor, sizeof fp->vendor, "arm-implementer-0x%02x",
                 impl & 0xffu);
    fp->cpu_family = (int)(impl & 0xffu);
    fp->cpu_model = (int)(part & 0xfffu);
}
#endif

static void cpu_fingerprint(seqk_context *ctx, seqk_tune_fp *fp)
{
    /* The best host backend: an `auto` context has the device offload on
     * top, but its CPU kernels are those of the cpu/avx512 contexts. */
    const seqk_backend *best = NULL;
    for (int i = ctx->num_backends - 1; i >= 0 && !best; i--)
        if (ctx->backends[i]->kind == SEQK_DEVICE_REFERENCE ||
            ctx->backends[i]->kind == SEQK_DEVICE_CPU_SIMD)
            best = ctx->backends[i];
    clean_copy(fp->backend, sizeof fp->backend, best ? best->spec : "ref");
    clean_copy(fp->device, sizeof fp->device, seqk__cpu_name());
    cpu_ids(fp);
    char isa[128];
    seqk__cpu_flag_names(seqk__cpu_usable(), isa, sizeof isa);
    for (char *p = isa; *p; p++)
        if (*p == ' ')
            *p = ',';
    clean_copy(fp->isa, sizeof fp->isa, isa);
    seqk_cpu_caches c;
    seqk__cpu_caches(&c);
    fp->l1d = (int64_t)c.l1d;
    fp->l2 = (int64_t)c.l2;
    fp->l3 = (int64_t)c.l3;
    fp->compute_units = seqk__cpu_physical_cores();
}

static void device_fingerprint(seqk_context *ctx, seqk_tune_fp *fp)
{
    seqk__device_facts f;
    /* A fact the device could not report stays "" or 0 (logged). */
    (void)ctx->dev->facts(ctx, &f);
    clean_copy(fp->backend, sizeof fp->backend, ctx->dev->name);
    clean_copy(fp->vendor, sizeof fp->vendor, f.vendor);
    clean_copy(fp->device, sizeof fp->device, f.name);
    clean_copy(fp->driver, sizeof fp->driver, f.driver);
    clean_copy(fp->platform, sizeof fp->platform, f.platform);
    fp->compute_units = f.compute_units;
    fp->local_mem = f.local_mem;
}

void seqk__tune_fingerprint(seqk_context *ctx, seqk_tune_fp *fp)
{
    memset(fp, 0, sizeof *fp);
    if (ctx->dev) {
        device_fingerprint(ctx, fp);
        return;
    }
    cpu_fingerprint(ctx, fp);
}

/* ---------------------------------------------------------------- hash */

void seqk__tunable_hash(const seqk_tunable *t, char hash[17])
{
    uint64_t h = SEQK_TUNE_FNV_INIT;
    const char *text = NULL;
    char *owned = NULL;
    if (t->source) {
        /* The kernel source as its device backend would build it. */
        const seqk_device_iface *dev = seqk__device_backend_find(t->backend);
        owned = dev && dev->source_text ? dev->source_text(t->source) : NULL;
        text = owned;
    }
    if (t->source) {
        /* The NUL separates the fields. */
        h = seqk__tune_fnv(h, text ? text : t->source,
                           strlen(text ? text : t->source) + 1);
    } else {
        h = seqk__tune_fnv(h, SEQK_VERSION, strlen(SEQK_VERSION) + 1);
        h = seqk__tune_fnv(h, t->id, strlen(t->id) + 1);
    }
    free(owned);
    for (int i = 0; i < t->num_params; i++)
        h = seqk__tune_fnv(h, t->params[i].name,
                           strlen(t->params[i].name) + 1);
    snprintf(hash, 17, "%016llx", (unsigned long long)h);
}

/* ---------------------------------------------------------------- path */

void seqk__tune_db_path(const seqk_context *ctx, char *buf, size_t len)
{
    const char *db = ctx ? ctx->tuning_db : getenv("SEQK_TUNING_DB");
    const char *xdg = getenv("XDG_CACHE_HOME");
    const char *home = getenv("HOME");
    int n;
    if (len == 0)
        return;
    if (db && *db)
        n = snprintf(buf, len, "%s", db);
    else if (xdg && *xdg)
        n = snprintf(buf, len, "%s/seqk/tuning.json", xdg);
    else if (home && *home)
        n = snprintf(buf, len, "%s/.cache/seqk/tuning.json", home);
    else
        n = -1;
    if (n < 0 || (size_t)n >= len)
        buf[0] = '\0';
}
