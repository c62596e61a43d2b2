/*
 * cl_checks.c — checks a kernel makes on the device, reported at the next
 * synchronization instead of by a host wait after every launch.
 *
 * Gather is the one user: a bad id writes zeros and records its first
 * position in a flag slot, one slot per Gather call since the last check:
 *
 *   check_flags  int[SEQK_CL_CHECK_SLOTS]   INT_MAX = no bad id; else the
 *                                          smallest bad position j
 *   checks[k]    the call's problem (dims for the message) and its ids
 *                buffer, retained so that the bad id can be read back
 *
 * seqk__cl_checks_drain() runs where the host waits anyway — every read
 * and clFinish (seqk_tensor_read, seqk_context_synchronize) — and when
 * the slots run out.  A decode loop on the device thus waits only for
 * what it reads.  The error then comes from that synchronizing call, with
 * the same message a host context gives at the Gather itself.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "opencl/cl_internal.h"

struct seqk_cl_check {
    seqk_gather_problem p; /* dims and flags only; its pointers are stale */
    cl_mem ids;            /* retained until drained */
    size_t ids_off;        /* byte offset of p.ids in ids */
};

static seqk_status make_flags(seqk_context *ctx, seqk_cl_state *s)
{
    cl_int init[SEQK_CL_CHECK_SLOTS], err = CL_SUCCESS;
    for (int i = 0; i < SEQK_CL_CHECK_SLOTS; i++)
        init[i] = INT_MAX;
    s->checks = calloc(SEQK_CL_CHECK_SLOTS, sizeof *s->checks);
    if (!s->checks)
        return seqk__error(ctx, SEQK_ERR_OUT_OF_MEMORY,
                           "OpenCL: out of memory");
    s->check_flags = clCreateBuffer(s->context,
                                    CL_MEM_READ_WRITE | CL_MEM_COPY_HOST_PTR,
                                    sizeof init, init, &err);
    return seqk__cl_check(ctx, err, "clCreateBuffer(check flags)");
}

seqk_status seqk__cl_check_slot(seqk_context *ctx,
                                const seqk_gather_problem *p,
                                cl_mem *flags, cl_long *slot)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    seqk_status st;
    if (!s->check_flags && (st = make_flags(ctx, s)))
        return st;
    if (s->num_checks == SEQK_CL_CHECK_SLOTS &&
        (st = seqk__cl_checks_drain(ctx)))
        return st;
    seqk_cl_check *c = &s->checks[s->num_checks];
    size_t off = 0;
    if ((st = seqk__cl_translate(ctx, p->ids, 1, &c->ids, &off)))
        return st;
    if ((st = seqk__cl_check(ctx, clRetainMemObject(c->ids),
                             "clRetainMemObject")))
        return st;
    c->p = *p;
    c->ids_off = off;
    *flags = s->check_flags;
    *slot = s->num_checks++;
    return SEQK_OK;
}

static void release_checks(seqk_cl_state *s)
{
    for (int i = 0; i < s->num_checks; i++)
        clReleaseMemObject(s->checks[i].ids);
    s->num_checks = 0;
}

seqk_status seqk__cl_checks_drain(seqk_context *ctx)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    const int n = s->num_checks;
    if (n == 0)
        return SEQK_OK;
    cl_int got[SEQK_CL_CHECK_SLOTS];
    seqk_status st = seqk__cl_check(
        ctx, clEnqueueReadBuffer(s->queue, s->check_flags, CL_TRUE, 0,
                                 (size_t)n * sizeof got[0], got, 0, NULL,
                                 NULL),
        "clEnqueueReadBuffer(check flags)");
    int bad = -1;
    for (int i = 0; st == SEQK_OK && i < n && bad < 0; i++)
        if (got[i] != INT_MAX)
            bad = i;
    if (bad >= 0) {
        /* Slots back to INT_MAX; then the bad id itself, for the message. */
        cl_int clean[SEQK_CL_CHECK_SLOTS];
        for (int i = 0; i < n; i++)
            clean[i] = INT_MAX;
        const seqk_cl_check *c = &s->checks[bad];
        const size_t isz = c->p.idx64 ? 8 : 4;
        int64_t id = 0;
        int32_t id32 = 0;
        st = seqk__cl_check(
            ctx, clEnqueueWriteBuffer(s->queue, s->check_flags, CL_TRUE, 0,
                                      (size_t)n * sizeof clean[0], clean, 0,
                                      NULL, NULL),
            "clEnqueueWriteBuffer(check flags)");
        if (st == SEQK_OK)
            st = seqk__cl_check(
                ctx, clEnqueueReadBuffer(s->queue, c->ids, CL_TRUE,
                                         c->ids_off + (size_t)got[bad] * isz,
                                         isz, c->p.idx64 ? (void *)&id
                                                         : (void *)&id32,
                                         0, NULL, NULL),
                "clEnqueueReadBuffer(Gather id)");
        if (st == SEQK_OK)
            st = seqk__gather_bad_id(ctx, &c->p, got[bad],
                                     c->p.idx64 ? id : id32);
    }
    release_checks(s);
    return st;
}

void seqk__cl_checks_release(seqk_cl_state *s)
{
    release_checks(s);
    if (s->check_flags)
        clReleaseMemObject(s->check_flags);
    s->check_flags = NULL;
    free(s->checks);
    s->checks = NULL;
}
