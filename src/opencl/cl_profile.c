/*
 * cl_profile.c — device time of the kernels a context ran, from OpenCL
 * profiling events: on when SEQK_OPENCL_PROFILE=1 (the queue is created
 * with CL_QUEUE_PROFILING_ENABLE), or when a wrapped caller's queue has
 * profiling on.  Every launch through seqk__cl_enqueue keeps its event;
 * seqk_context_device_time() waits, sums END - START and releases them.
 * Off, launches carry no event at all (no cost).  CLBlast's kernels are
 * not counted.
 */
#include <stdlib.h>

#include "opencl/cl_internal.h"

#define PROFILE_MAX_EVENTS (1 << 16)

cl_command_queue_properties seqk__cl_profile_queue_props(void)
{
    const char *e = getenv("SEQK_OPENCL_PROFILE");
    return e && e[0] == '1' ? CL_QUEUE_PROFILING_ENABLE : 0;
}

void seqk__cl_profile_init(seqk_cl_state *s)
{
    cl_command_queue_properties p = 0;
    s->profiling = clGetCommandQueueInfo(s->queue, CL_QUEUE_PROPERTIES,
                                         sizeof p, &p, NULL) == CL_SUCCESS &&
                   (p & CL_QUEUE_PROFILING_ENABLE);
}

/* Sums and releases the collected events (the queue must be finished). */
static void drain(seqk_cl_state *s)
{
    for (size_t i = 0; i < s->num_events; i++) {
        cl_ulong t0 = 0, t1 = 0;
        if (clGetEventProfilingInfo(s->events[i], CL_PROFILING_COMMAND_START,
                                    sizeof t0, &t0, NULL) == CL_SUCCESS &&
            clGetEventProfilingInfo(s->events[i], CL_PROFILING_COMMAND_END,
                                    sizeof t1, &t1, NULL) == CL_SUCCESS &&
            t1 > t0)
            s->profiled_ns += (double)(t1 - t0);
        clReleaseEvent(s->events[i]);
    }
    s->num_events = 0;
}

cl_event *seqk__cl_profile_slot(seqk_context *ctx)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    if (!s->profiling)
        return NULL;
    if (s->num_events == s->cap_events) {
        if (s->cap_events == PROFILE_MAX_EVENTS) {
            /* A long run without reading the time: fold what is done. */
            clFinish(s->queue);
            drain(s);
        } else {
            size_t cap = s->cap_events ? 2 * s->cap_events : 256;
            cl_event *n = realloc(s->events, cap * sizeof *n);
            if (!n)
                return NULL; /* this launch goes unprofiled */
            s->events = n;
            s->cap_events = cap;
        }
    }
    return &s->events[s->num_events];
}

void seqk__cl_profile_commit(seqk_context *ctx)
{
    seqk_cl_st(ctx)->num_events++;
}

void seqk__cl_profile_release(seqk_cl_state *s)
{
    drain(s);
    free(s->events);
    s->events = NULL;
    s->cap_events = 0;
}

seqk_status seqk__cl_device_time(seqk_context *ctx, double *ms)
{
    seqk_cl_state *s = seqk_cl_st(ctx);
    if (!s->profiling)
        return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                           "seqk_context_device_time: profiling is off on "
                           "this queue (set SEQK_OPENCL_PROFILE=1 before "
                           "creating the context)");
    seqk_status st = seqk__cl_finish(ctx);
    if (st != SEQK_OK)
        return st;
    drain(s);
    *ms = s->profiled_ns * 1e-6;
    s->profiled_ns = 0;
    return SEQK_OK;
}
