/*
 * tunables.c — the list of every tunable the library declares; each
 * declaration lives beside the code that uses it.  The device backends'
 * come through their tables (core/device.h), so the list is put together
 * once, on first use.
 */
#include <pthread.h>
#include <stddef.h>

#include "core/registry.h"
#include "tune/tune.h"

/* CPU (src/cpu_simd/) */
extern const seqk_tunable seqk__cpu_gemm_avx512_tunable;
extern const seqk_tunable seqk__cpu_gemm_avx2_tunable;
extern const seqk_tunable seqk__cpu_gemm_neon_tunable;
extern const seqk_tunable seqk__cpu_rnn_step_tunable;
extern const seqk_tunable seqk__cpu_attention_tunable;

static const seqk_tunable *const cpu_tunables[] = {
    &seqk__cpu_gemm_avx512_tunable,
    &seqk__cpu_gemm_avx2_tunable,
    &seqk__cpu_gemm_neon_tunable,
    &seqk__cpu_rnn_step_tunable,
    &seqk__cpu_attention_tunable,
    NULL
};

#define MAX_TUNABLES 64
static const seqk_tunable *all[MAX_TUNABLES + 1];
static pthread_once_t all_once = PTHREAD_ONCE_INIT;

static void add(int *n, const seqk_tunable *const *list)
{
    for (int i = 0; list[i] && *n < MAX_TUNABLES; i++)
        all[(*n)++] = list[i];
}

/* In this order: the auto offload's (core/offload.c, only with a device
 * backend to offload to), each device backend's, the CPU's. */
static void build_list(void)
{
    int n = 0;
    if (seqk__device_backend(0))
        add(&n, seqk__offload_tunables);
    for (int i = 0; seqk__device_backend(i); i++)
        add(&n, seqk__device_backend(i)->tunables);
    add(&n, cpu_tunables);
    all[n] = NULL;
}

const seqk_tunable *const *seqk__tunable_list(void)
{
    pthread_once(&all_once, build_list);
    return all;
}
