/*
 * fuzz_bench_desc.c — libFuzzer target: bench problem descriptors
 * ("gemm:m=64,n=64,k=64") through bench_parse, then the functions that
 * use a parsed problem (FLOP count, tolerances), which must not overflow
 * or divide by zero for any accepted descriptor.
 *
 * Input: the descriptor text (NUL-terminated copy of the bytes).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bench_problems.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* Descriptors come from the command line: a few hundred bytes. */
    if (size > 4096)
        return 0;
    char *text = malloc(size + 1);
    if (!text)
        return 0;
    memcpy(text, data, size);
    text[size] = '\0';

    bench_problem p;
    char err[256];
    if (bench_parse(text, &p, err, sizeof err) == 0) {
        double atol, rtol;
        volatile double sink = bench_flops(&p);
        bench_tolerance(&p, &atol, &rtol);
        sink += atol + rtol;
        (void)sink;
        (void)bench_kind_name(p.kind);
        (void)bench_gates_of(p.kind);
    } else if (memchr(err, '\0', sizeof err) == NULL) {
        abort(); /* the reason must be a terminated string */
    }
    free(text);
    return 0;
}
