/*
 * layout_driver.c — the layout ops (Transpose, Slice, Split, Expand, Tile;
 * problems.h seqk_layout_problem) on CPU contexts: plain C shared by every
 * ISA, row by row instead of ref's element-by-element index map.
 *
 *   Y [d0 .. d(n-2) | d(n-1)]   one row per index of the outer dims: its
 *                               source offset is computed once; the row
 *                               itself is a memcpy (unit source stride),
 *                               a strided copy, or for Tile runs of memcpy
 *
 * Pads (constant, edge, reflect) stay on ref, whose index map has the
 * out-of-range cases; the model runner's hot layout ops are Transpose,
 * Slice and Expand.
 */
#include <stdint.h>
#include <string.h>

#include "cpu_simd/cpu_simd.h"
#include "ref/ref.h"

/* The source index of output index i along dim d (COPY and TILE). */
static int64_t src_index(const seqk_layout_problem *p, int d, int64_t i)
{
    int64_t j = p->start[d] + i * p->step[d];
    return p->mode == SEQK_LAYOUT_TILE ? j % p->src_dims[d] : j;
}

static void copy_strided(char *dst, const char *src, int64_t n,
                         int64_t stride, size_t es)
{
    switch (es) {
    case 4: {
        uint32_t *y = (uint32_t *)dst;
        const uint32_t *x = (const uint32_t *)src;
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i * stride];
        break;
    }
    case 8: {
        uint64_t *y = (uint64_t *)dst;
        const uint64_t *x = (const uint64_t *)src;
        for (int64_t i = 0; i < n; i++)
            y[i] = x[i * stride];
        break;
    }
    default:
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * es, src + (size_t)(i * stride) * es, es);
    }
}

/* One output row of the last dim (n elements) from source row base. */
static void copy_row(const seqk_layout_problem *p, char *dst,
                     const char *base, int64_t n)
{
    const int last = p->ndim - 1;
    const size_t es = p->elem_size;
    const int64_t ss = p->src_str[last], sn = p->src_dims[last];
    if (p->mode == SEQK_LAYOUT_TILE && p->step[last] == 1 && ss == 1) {
        int64_t j = p->start[last] % sn, i = 0;
        while (i < n) { /* runs up to the end of the source row */
            int64_t run = sn - j < n - i ? sn - j : n - i;
            memcpy(dst + (size_t)i * es, base + (size_t)j * es,
                   (size_t)run * es);
            i += run;
            j = 0;
        }
    } else if (p->mode == SEQK_LAYOUT_TILE) {
        for (int64_t i = 0; i < n; i++)
            memcpy(dst + (size_t)i * es,
                   base + (size_t)(src_index(p, last, i) * ss) * es, es);
    } else if (p->step[last] * ss == 1) {
        const char *src = base + (size_t)(p->start[last] * ss) * es;
        const size_t bytes = (size_t)n * es;
        switch (bytes) { /* a head's row: inlined, no libc call */
        case 16: memcpy(dst, src, 16); break;
        case 32: memcpy(dst, src, 32); break;
        case 64: memcpy(dst, src, 64); break;
        case 128: memcpy(dst, src, 128); break;
        default: memcpy(dst, src, bytes); break;
        }
    } else {
        copy_strided(dst, base + (ptrdiff_t)(p->start[last] * ss) * (ptrdiff_t)es,
                     n, p->step[last] * ss, es);
    }
}

/* Whether the last two dims of a COPY of 4-byte elements are a plain
 * transpose: whole source dims, the second-to-last one unit-strided in
 * the source (a [.., L, C] -> [.., C, L] Transpose). */
static int inner_transpose(const seqk_layout_problem *p)
{
    const int l = p->ndim - 1;
    return p->mode == SEQK_LAYOUT_COPY && p->elem_size == 4 && l >= 1 &&
           p->step[l] == 1 && p->step[l - 1] == 1 && p->start[l] == 0 &&
           p->start[l - 1] == 0 && p->src_str[l - 1] == 1 &&
           p->src_str[l] != 1;
}

/* y[i*b + j] = x[i + j*S] for i < a, j < b, in 16 x 16 blocks: reads
 * run along i, and a block's 16 written lines stay in L1 (a row-by-row
 * strided gather touches a new line per element). */
static void transpose_2d(int64_t a, int64_t b, int64_t S, const uint32_t *x,
                         uint32_t *y)
{
    enum { BLK = 16 };
    for (int64_t j0 = 0; j0 < b; j0 += BLK)
        for (int64_t i0 = 0; i0 < a; i0 += BLK) {
            const int64_t jn = b - j0 < BLK ? b - j0 : BLK;
            const int64_t in = a - i0 < BLK ? a - i0 : BLK;
            for (int64_t j = j0; j < j0 + jn; j++) {
                const uint32_t *xs = x + j * S + i0;
                uint32_t *yd = y + i0 * b + j;
                for (int64_t i = 0; i < in; i++)
                    yd[i * b] = xs[i];
            }
        }
}

seqk_status seqk__cpu_layout(seqk_context *ctx, const seqk_layout_problem *p)
{
    (void)ctx;
    if ((p->mode != SEQK_LAYOUT_COPY && p->mode != SEQK_LAYOUT_TILE) ||
        p->ndim < 1 || p->numel == 0)
        return seqk__ref_layout(p);
    if (inner_transpose(p)) {
        const int l = p->ndim - 1;
        const int64_t a = p->dims[l - 1], b = p->dims[l];
        const int64_t blocks = p->numel / (a * b);
        int64_t idx[SEQK_MAX_DIMS] = {0};
        for (int64_t r = 0; r < blocks; r++) {
            int64_t off = 0;
            for (int d = 0; d < l - 1; d++)
                off += src_index(p, d, idx[d]) * p->src_str[d];
            transpose_2d(a, b, p->src_str[l], (const uint32_t *)p->X + off,
                         (uint32_t *)p->Y + r * a * b);
            for (int d = l - 2; d >= 0; d--) {
                if (++idx[d] < p->dims[d])
                    break;
                idx[d] = 0;
            }
        }
        return SEQK_OK;
    }
    const int last = p->ndim - 1;
    const int64_t n = p->dims[last], rows = p->numel / n;
    const size_t es = p->elem_size;
    int64_t idx[SEQK_MAX_DIMS] = {0};
    char *y = p->Y;
    for (int64_t r = 0; r < rows; r++) {
        int64_t off = 0;
        for (int d = 0; d < last; d++)
            off += src_index(p, d, idx[d]) * p->src_str[d];
        copy_row(p, y + (size_t)(r * n) * es,
                 (const char *)p->X + (ptrdiff_t)off * (ptrdiff_t)es, n);
        for (int d = last - 1; d >= 0; d--) {
            if (++idx[d] < p->dims[d])
                break;
            idx[d] = 0;
        }
    }
    return SEQK_OK;
}
