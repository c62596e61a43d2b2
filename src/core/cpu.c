/*
 * cpu.c — which ISA features this CPU has and the OS has enabled.
 *
 * x86: GCC's __builtin_cpu_supports, which checks CPUID and, for AVX and
 * AVX-512, the OS-enabled register state (XGETBV) — a CPU feature the OS
 * does not save on context switch is not usable.  aarch64: HWCAP bits.
 * SEQK_DISABLE_CPU_FEATURES=avx512,avx2,... masks features so the tests
 * can cover every fallback on one machine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "registry.h"

#if defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMD
#define HWCAP_ASIMD (1 << 1)
#endif
#ifndef HWCAP_FPHP
#define HWCAP_FPHP (1 << 9)
#endif
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#endif

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

unsigned seqk__cpu_detected(void)
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
    if (hw & HWCAP_FPHP) f |= SEQK_CPU_FP16;
    if (hw & HWCAP_ASIMDDP) f |= SEQK_CPU_DOTPROD;
#endif
    return f;
}

/* "avx512" masks every AVX-512 subset, "avx2" also FMA's use by it. */
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
