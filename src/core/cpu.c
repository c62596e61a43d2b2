/*
 * cpu.c — what this CPU offers: the ISA features the OS has enabled, the
 * cache sizes and the core counts that blocking and threading start from.
 *
 * Detection goes through cpuinfo (libcpuinfo), initialized once:
 *   x86      CPUID features checked against the OS-enabled register state
 *            (XCR0 via XGETBV): AVX and AVX-512 count only when the OS saves
 *            their registers on a context switch;
 *   aarch64  HWCAP bits for fp16 arithmetic and dot product; NEON (ASIMD)
 *            is part of the aarch64 Linux baseline and cpuinfo reports it
 *            unconditionally;
 *   caches   per level, with the processors sharing one instance (x86: the
 *            CPUID cache leaves; ARM: cpuinfo's table of known cores);
 *   cores    physical cores from the sysfs topology.
 * When cpuinfo cannot initialize (it parses /proc/cpuinfo and sysfs, which
 * sandboxes do not always provide), the same answers come from what
 * cpuinfo would have used underneath: GCC's __builtin_cpu_supports (which
 * also checks XGETBV), getauxval(AT_HWCAP) and sysfs.  A cache level
 * cpuinfo leaves at 0 is read from sysfs too (under qemu-user cpuinfo does
 * initialize, from HWCAP, but knows no L2/L3 of the emulated core).  A
 * build without libcpuinfo (-Dcpuinfo=disabled) always takes the fallback.
 *
 * SEQK_DISABLE_CPU_FEATURES=avx512,avx2,... masks features so the tests
 * can cover every fallback on one machine; it is read on every call, so a
 * process may change it between contexts.
 */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "core/registry.h"
#include "seqk_config.h"

#if SEQK_HAVE_CPUINFO
#include <cpuinfo.h>
#endif

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1 << 9)
#endif
#ifndef HWCAP_ASIMDHP
#define HWCAP_ASIMDHP (1 << 10)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

/* Used when neither cpuinfo nor sysfs knows: typical current cores. */
#define DEFAULT_L1D (32u << 10)
#define DEFAULT_L2 (512u << 10)

static const struct {
    unsigned bit;
    const char *name;
} flag_names[] = {
    {SEQK_CPU_SSE2, "sse2"},         {SEQK_CPU_AVX, "avx"},
    {SEQK_CPU_AVX2, "avx2"},         {SEQK_CPU_FMA, "fma"},
    {SEQK_CPU_AVX512F, "avx512f"},   {SEQK_CPU_AVX512BW, "avx512bw"},
    {SEQK_CPU_AVX512DQ, "avx512dq"}, {SEQK_CPU_AVX512VL, "avx512vl"},
    {SEQK_CPU_NEON, "neon"},         {SEQK_CPU_FP16, "fp16"},
    {SEQK_CPU_DOTPROD, "dotprod"},
};

/* Everything detected, filled once by detect(). */
static struct {
    unsigned features;
    seqk_cpu_caches caches;
    int physical_cores;
    char name[64];
    char source[96];
} cpu;
static pthread_once_t cpu_once = PTHREAD_ONCE_INIT;

/* ------------------------------------------------------------- cpuinfo */

#if SEQK_HAVE_CPUINFO
static unsigned features_from_cpuinfo(void)
{
    unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
    if (cpuinfo_has_x86_sse2()) f |= SEQK_CPU_SSE2;
    if (cpuinfo_has_x86_avx()) f |= SEQK_CPU_AVX;
    if (cpuinfo_has_x86_avx2()) f |= SEQK_CPU_AVX2;
    if (cpuinfo_has_x86_fma3()) f |= SEQK_CPU_FMA;
    if (cpuinfo_has_x86_avx512f()) f |= SEQK_CPU_AVX512F;
    if (cpuinfo_has_x86_avx512bw()) f |= SEQK_CPU_AVX512BW;
    if (cpuinfo_has_x86_avx512dq()) f |= SEQK_CPU_AVX512DQ;
    if (cpuinfo_has_x86_avx512vl()) f |= SEQK_CPU_AVX512VL;
#elif defined(__aarch64__)
    if (cpuinfo_has_arm_neon()) f |= SEQK_CPU_NEON;
    if (cpuinfo_has_arm_neon_fp16_arith()) f |= SEQK_CPU_FP16;
    if (cpuinfo_has_arm_neon_dot()) f |= SEQK_CPU_DOTPROD;
#endif
    return f;
}

/* Physical cores among the logical processors sharing cache c. */
static int cores_sharing(const struct cpuinfo_cache *c)
{
    const struct cpuinfo_core *cores = cpuinfo_get_cores();
    uint32_t ncores = cpuinfo_get_cores_count();
    unsigned char seen[1024] = {0};
    int n = 0;
    if (!c || !cores || ncores == 0 || ncores > sizeof seen)
        return c && c->processor_count ? (int)c->processor_count : 1;
    for (uint32_t p = c->processor_start;
         p < c->processor_start + c->processor_count; p++) {
        const struct cpuinfo_processor *proc = cpuinfo_get_processor(p);
        if (!proc || !proc->core)
            continue;
        size_t k = (size_t)(proc->core - cores);
        if (k < ncores && !seen[k]) {
            seen[k] = 1;
            n++;
        }
    }
    return n > 0 ? n : 1;
}

/* The caches of processor 0 (on a hybrid CPU, that core's kind). */
static void caches_from_cpuinfo(seqk_cpu_caches *c)
{
    const struct cpuinfo_processor *p = cpuinfo_get_processor(0);
    if (!p)
        return;
    if (p->cache.l1d)
        c->l1d = p->cache.l1d->size;
    if (p->cache.l2) {
        c->l2 = p->cache.l2->size;
        c->l2_shared_by = cores_sharing(p->cache.l2);
    }
    if (p->cache.l3) {
        c->l3 = p->cache.l3->size;
        c->l3_shared_by = cores_sharing(p->cache.l3);
    }
}

/* 1 and cpu filled in if cpuinfo works here. */
static int detect_with_cpuinfo(void)
{
    if (!cpuinfo_initialize())
        return 0;
    cpu.features = features_from_cpuinfo();
    caches_from_cpuinfo(&cpu.caches);
    cpu.physical_cores = (int)cpuinfo_get_cores_count();
    const struct cpuinfo_package *pkg = cpuinfo_get_package(0);
    if (pkg && strcmp(pkg->name, "Unknown") != 0) /* its "don't know" */
        snprintf(cpu.name, sizeof cpu.name, "%s", pkg->name);
    snprintf(cpu.source, sizeof cpu.source, "cpuinfo");
    return 1;
}
#else
static int detect_with_cpuinfo(void)
{
    return 0;
}
#endif

/* ----------------------------------------------------- the fallbacks */

static unsigned features_fallback(void)
{
    unsigned f = 0;
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("sse2")) f |= SEQK_CPU_SSE2;
    if (__builtin_cpu_supports("avx")) f |= SEQK_CPU_AVX;
    if (__builtin_cpu_supports("avx2")) f |= SEQK_CPU_AVX2;
    if (__builtin_cpu_supports("fma")) f |= SEQK_CPU_FMA;
    if (__builtin_cpu_supports("avx512f")) f |= SEQK_CPU_AVX512F;
    if (__builtin_cpu_supports("avx512bw")) f |= SEQK_CPU_AVX512BW;
    if (__builtin_cpu_supports("avx512dq")) f |= SEQK_CPU_AVX512DQ;
    if (__builtin_cpu_supports("avx512vl")) f |= SEQK_CPU_AVX512VL;
#elif defined(__aarch64__) && defined(__linux__)
    unsigned long hw = getauxval(AT_HWCAP);
    if (hw & HWCAP_ASIMD) f |= SEQK_CPU_NEON;
    /* the same rule as cpuinfo: scalar and vector fp16 arithmetic */
    if ((hw & HWCAP_FPHP) && (hw & HWCAP_ASIMDHP)) f |= SEQK_CPU_FP16;
    if (hw & HWCAP_ASIMDDP) f |= SEQK_CPU_DOTPROD;
#endif
    return f;
}

/* First line of a sysfs file into buf; 0 if unreadable. */
static int read_line(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return 0;
    int ok = fgets(buf, (int)len, f) != NULL;
    fclose(f);
    if (ok)
        buf[strcspn(buf, "\n")] = '\0';
    return ok;
}

/* Number of CPUs in a sysfs list such as "0-3,8-11"; 0 if malformed. */
static int cpu_list_count(const char *s)
{
    int n = 0;
    while (*s) {
        char *end;
        long a = strtol(s, &end, 10), b;
        if (end == s)
            return 0;
        s = end;
        b = a;
        if (*s == '-') {
            b = strtol(s + 1, &end, 10);
            if (end == s + 1 || b < a)
                return 0;
            s = end;
        }
        n += (int)(b - a + 1);
        if (*s == ',')
            s++;
        else if (*s)
            return 0;
    }
    return n;
}

/* Logical processors per core, from cpu0's SMT siblings (1 if unknown). */
static int sysfs_threads_per_core(void)
{
    char line[256];
    int n = 0;
    if (read_line("/sys/devices/system/cpu/cpu0/topology/thread_siblings_list",
                  line, sizeof line))
        n = cpu_list_count(line);
    return n > 0 ? n : 1;
}

/* Fills the levels of c that are still 0 from cpu0's sysfs cache entries;
 * *_shared_by counts logical processors here (converted by the caller). */
static void sysfs_caches(seqk_cpu_caches *c)
{
    for (int i = 0; i < 16; i++) {
        char path[96], line[256], type[32];
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/level", i);
        if (!read_line(path, line, sizeof line))
            break;
        int level = atoi(line);
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/type", i);
        if (!read_line(path, type, sizeof type) ||
            !strcmp(type, "Instruction"))
            continue;
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/size", i);
        if (!read_line(path, line, sizeof line))
            continue;
        char *unit;
        size_t size = (size_t)strtoul(line, &unit, 10);
        if (*unit == 'K')
            size <<= 10;
        else if (*unit == 'M')
            size <<= 20;
        snprintf(path, sizeof path,
                 "/sys/devices/system/cpu/cpu0/cache/index%d/shared_cpu_list",
                 i);
        int shared = read_line(path, line, sizeof line) ? cpu_list_count(line)
                                                        : 1;
        if (shared < 1)
            shared = 1;
        if (level == 1 && !c->l1d) {
            c->l1d = size;
        } else if (level == 2 && !c->l2) {
            c->l2 = size;
            c->l2_shared_by = shared;
        } else if (level == 3 && !c->l3) {
            c->l3 = size;
            c->l3_shared_by = shared;
        }
    }
}

/* Processors this process may run on (its affinity mask), or online. */
static int usable_processors(void)
{
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0)
        return CPU_COUNT(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 && n < 4096 ? (int)n : 1;
}

static void detect(void)
{
    seqk_cpu_caches *c = &cpu.caches;
    int threads_per_core = sysfs_threads_per_core();
    if (!detect_with_cpuinfo()) {
        cpu.features = features_fallback();
        snprintf(cpu.source, sizeof cpu.source, "%s + sysfs (%s)",
#if defined(__x86_64__) || defined(__i386__)
                 "CPUID/XGETBV via GCC builtins",
#else
                 "HWCAP",
#endif
                 SEQK_HAVE_CPUINFO ? "cpuinfo failed to initialize"
                                   : "built without cpuinfo");
    }
    if (!c->l1d || !c->l2 || !c->l3) {
        seqk_cpu_caches s = *c;
        sysfs_caches(&s);
        /* sysfs counts logical processors; the struct counts cores */
        if (!c->l2 && s.l2) {
            c->l2 = s.l2;
            c->l2_shared_by = (s.l2_shared_by + threads_per_core - 1) /
                              threads_per_core;
        }
        if (!c->l3 && s.l3) {
            c->l3 = s.l3;
            c->l3_shared_by = (s.l3_shared_by + threads_per_core - 1) /
                              threads_per_core;
        }
        if (!c->l1d)
            c->l1d = s.l1d;
    }
    if (!c->l1d)
        c->l1d = DEFAULT_L1D;
    if (!c->l2)
        c->l2 = DEFAULT_L2;
    if (c->l2_shared_by < 1)
        c->l2_shared_by = 1;
    if (c->l3 && c->l3_shared_by < 1)
        c->l3_shared_by = 1;
    if (!c->l3)
        c->l3_shared_by = 0;
    if (cpu.physical_cores < 1) {
        long online = sysconf(_SC_NPROCESSORS_ONLN);
        int n = online > 0 && online < 4096 ? (int)online : 1;
        cpu.physical_cores = n / threads_per_core > 0 ? n / threads_per_core
                                                      : 1;
    }
}

static void ensure_detected(void)
{
    pthread_once(&cpu_once, detect);
}

/* ------------------------------------------------------------- the API */

unsigned seqk__cpu_detected(void)
{
    ensure_detected();
    return cpu.features;
}

/* "avx512" masks every AVX-512 subset; the other names mask one bit. */
unsigned seqk__cpu_masked(void)
{
    const char *env = getenv("SEQK_DISABLE_CPU_FEATURES");
    if (!env || !*env)
        return 0;
    unsigned m = 0;
    char buf[256];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *tok = strtok_r(buf, ", ", &save); tok;
         tok = strtok_r(NULL, ", ", &save)) {
        if (!strcasecmp(tok, "avx512"))
            m |= SEQK_CPU_AVX512F | SEQK_CPU_AVX512BW | SEQK_CPU_AVX512DQ |
                 SEQK_CPU_AVX512VL;
        for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++)
            if (!strcasecmp(tok, flag_names[i].name))
                m |= flag_names[i].bit;
    }
    return m;
}

unsigned seqk__cpu_usable(void)
{
    return seqk__cpu_detected() & ~seqk__cpu_masked();
}

void seqk__cpu_caches(seqk_cpu_caches *out)
{
    ensure_detected();
    *out = cpu.caches;
}

int seqk__cpu_physical_cores(void)
{
    ensure_detected();
    return cpu.physical_cores;
}

int seqk__cpu_logical_cores(void)
{
    return usable_processors();
}

int seqk__cpu_default_threads(void)
{
    int phys = seqk__cpu_physical_cores(), usable = usable_processors();
    return phys < usable ? phys : usable;
}

const char *seqk__cpu_name(void)
{
    ensure_detected();
    return cpu.name;
}

const char *seqk__cpu_source(void)
{
    ensure_detected();
    return cpu.source;
}

void seqk__cpu_flag_names(unsigned flags, char *buf, size_t len)
{
    size_t used = 0;
    if (len == 0)
        return;
    buf[0] = '\0';
    for (size_t i = 0; i < sizeof flag_names / sizeof flag_names[0]; i++) {
        if (!(flags & flag_names[i].bit))
            continue;
        int n = snprintf(buf + used, len - used, "%s%s", used ? " " : "",
                         flag_names[i].name);
        if (n < 0 || (size_t)n >= len - used)
            break;
        used += (size_t)n;
    }
}

const char *seqk_cpu_features(void)
{
    static _Thread_local char buf[128];
    seqk__cpu_flag_names(seqk__cpu_usable(), buf, sizeof buf);
    return buf;
}
