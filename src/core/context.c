/*
 * context.c — contexts, status strings, error messages and verbose logging.
 *
 * A context resolves the user's device spec (options, else $SEQK_DEVICE,
 * else "auto") into an ordered list of backends through the registry and
 * keeps the last error message.  Errors raised before a context exists are
 * kept per thread.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/internal.h"
#include "core/registry.h"
#include "seqk_config.h"
#include "tune/tune_state.h"

static _Thread_local char thread_error[SEQK_ERROR_LEN];

const char *seqk_status_string(seqk_status status)
{
    switch (status) {
    case SEQK_OK: return "SEQK_OK";
    case SEQK_ERR_INVALID_ARG: return "SEQK_ERR_INVALID_ARG";
    case SEQK_ERR_SHAPE: return "SEQK_ERR_SHAPE";
    case SEQK_ERR_DTYPE: return "SEQK_ERR_DTYPE";
    case SEQK_ERR_UNSUPPORTED: return "SEQK_ERR_UNSUPPORTED";
    case SEQK_ERR_NO_DEVICE: return "SEQK_ERR_NO_DEVICE";
    case SEQK_ERR_OUT_OF_MEMORY: return "SEQK_ERR_OUT_OF_MEMORY";
    case SEQK_ERR_OVERFLOW: return "SEQK_ERR_OVERFLOW";
    case SEQK_ERR_DEVICE: return "SEQK_ERR_DEVICE";
    case SEQK_ERR_IO: return "SEQK_ERR_IO";
    case SEQK_ERR_FORMAT: return "SEQK_ERR_FORMAT";
    case SEQK_ERR_TUNING_DB: return "SEQK_ERR_TUNING_DB";
    case SEQK_ERR_INTERNAL: return "SEQK_ERR_INTERNAL";
    }
    return "SEQK_ERR_UNKNOWN_STATUS";
}

const char *seqk_version_string(void) { return SEQK_VERSION; }

const char *seqk_last_error(const seqk_context *ctx)
{
    return ctx ? ctx->error : thread_error;
}

seqk_status seqk__error(seqk_context *ctx, seqk_status status,
                        const char *fmt, ...)
{
    char *dst = ctx ? ctx->error : thread_error;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, SEQK_ERROR_LEN, fmt, ap);
    va_end(ap);
    if (ctx)
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH, "error %s: %s",
                  seqk_status_string(status), dst);
    return status;
}

void seqk__clear_error(seqk_context *ctx)
{
    if (ctx)
        ctx->error[0] = '\0';
    else
        thread_error[0] = '\0';
}

void seqk__log(const seqk_context *ctx, unsigned bit, const char *fmt, ...)
{
    if (!ctx || !(ctx->verbose & bit))
        return;
    char line[SEQK_ERROR_LEN + 64];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "seqk: %s\n", line);
}

unsigned seqk__verbose_from_env(void)
{
    const char *env = getenv("SEQK_VERBOSE");
    if (!env || !*env || strcmp(env, "0") == 0)
        return 0;
    unsigned mask = 0;
    char buf[128];
    snprintf(buf, sizeof buf, "%s", env);
    for (char *save = NULL, *tok = strtok_r(buf, ",", &save); tok;
         tok = strtok_r(NULL, ",", &save)) {
        if (!strcasecmp(tok, "dispatch"))
            mask |= SEQK_VERBOSE_DISPATCH;
        else if (!strcasecmp(tok, "alloc"))
            mask |= SEQK_VERBOSE_ALLOC;
        else if (!strcasecmp(tok, "all") || !strcmp(tok, "1"))
            mask |= ~0u;
    }
    return mask;
}

void seqk_options_init(seqk_options *opts)
{
    if (!opts)
        return;
    memset(opts, 0, sizeof *opts);
    opts->struct_size = sizeof *opts;
}

/* Default thread count: one per physical core (SMT siblings share a core's
 * FMA units and caches), no more than the processors this process may run
 * on. */
static int default_threads(void)
{
    int n = seqk__cpu_default_threads();
    return n > 0 && n <= 1024 ? n : 1;
}

static seqk_status parse_threads(const char *text, int *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end != '\0' || v < 1 || v > 1024)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "SEQK_NUM_THREADS='%s' is not a thread count "
                           "(expected an integer 1..1024)", text);
    *out = (int)v;
    return SEQK_OK;
}

seqk_status seqk_context_create(const seqk_options *opts, seqk_context **out)
{
    seqk_status st = SEQK_OK;
    seqk_context *ctx = NULL;
    seqk_options o;

    seqk__clear_error(NULL);
    if (!out)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_context_create: ctx (the output) is NULL");
    *out = NULL;
    seqk_options_init(&o);
    if (opts) {
        if (opts->struct_size < sizeof(size_t) + sizeof(const char *))
            return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                               "seqk_context_create: options.struct_size is "
                               "%zu; set it with seqk_options_init()",
                               opts->struct_size);
        /* Copy the fields the caller's version of the struct has. */
        memcpy(&o, opts, opts->struct_size < sizeof o ? opts->struct_size
                                                      : sizeof o);
        o.struct_size = sizeof o;
    }

    ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_OUT_OF_MEMORY,
                           "seqk_context_create: out of memory");
    atomic_init(&ctx->refs, 1);
    ctx->verbose = seqk__verbose_from_env();

    const char *device = o.device;
    if (!device || !*device)
        device = getenv("SEQK_DEVICE");
    if (!device || !*device)
        device = "auto";

    if (o.threads < 0) {
        st = seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                         "options.threads is %d; expected 0 (default) or a "
                         "positive count", o.threads);
        goto cleanup;
    }
    ctx->threads = o.threads;
    if (ctx->threads == 0) {
        const char *env = getenv("SEQK_NUM_THREADS");
        if (env && *env) {
            st = parse_threads(env, &ctx->threads);
            if (st != SEQK_OK)
                goto cleanup;
        } else {
            ctx->threads = default_threads();
        }
    }

    const char *db = o.tuning_db ? o.tuning_db : getenv("SEQK_TUNING_DB");
    snprintf(ctx->tuning_db, sizeof ctx->tuning_db, "%s", db ? db : "");

    st = seqk__registry_resolve(device, ctx);
    if (st != SEQK_OK) {
        /* The registry wrote its message into ctx; keep it per thread. */
        snprintf(thread_error, sizeof thread_error, "%s", ctx->error);
        goto cleanup;
    }
    seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
              "context: device '%s' -> %s, %d thread(s)", device,
              ctx->device, ctx->threads);
    *out = ctx;
    ctx = NULL;

cleanup:
    if (ctx && ctx->dev)
        ctx->dev->close(ctx);
    free(ctx);
    return st;
}

static void context_free(seqk_context *ctx)
{
    seqk__pool_destroy(ctx->pool);
    seqk__tune_state_free(ctx);
    seqk__offload_free(ctx);
    if (ctx->dev)
        ctx->dev->close(ctx);
    free(ctx);
}

void seqk__context_retain(seqk_context *ctx)
{
    atomic_fetch_add(&ctx->refs, 1);
}

void seqk__context_release(seqk_context *ctx)
{
    if (ctx && atomic_fetch_sub(&ctx->refs, 1) == 1)
        context_free(ctx);
}

seqk_status seqk_context_destroy(seqk_context *ctx)
{
    /* Tensors and plans still alive keep the context (and its device
     * memory) until they are destroyed. */
    seqk__context_release(ctx);
    return SEQK_OK;
}

seqk_status seqk_context_synchronize(seqk_context *ctx)
{
    if (!ctx)
        return seqk__error(NULL, SEQK_ERR_INVALID_ARG,
                           "seqk_context_synchronize: ctx is NULL");
    if (ctx->dev)
        return ctx->dev->synchronize(ctx);
    return SEQK_OK;
}

seqk_status seqk_context_device_time(seqk_context *ctx, double *ms)
{
    if (!ctx || !ms)
        return seqk__error(ctx, SEQK_ERR_INVALID_ARG,
                           "seqk_context_device_time: NULL argument");
    if (ctx->dev)
        return ctx->dev->device_time(ctx, ms);
    char titles[64];
    seqk__device_titles(titles, sizeof titles);
    return seqk__error(ctx, SEQK_ERR_UNSUPPORTED,
                       "seqk_context_device_time: device '%s' is not an "
                       "%s device", ctx->device, titles);
}

seqk_threadpool *seqk__pool(seqk_context *ctx)
{
    if (!ctx->pool && ctx->threads > 1 &&
        seqk__pool_create(ctx->threads, &ctx->pool) != SEQK_OK) {
        seqk__log(ctx, SEQK_VERBOSE_DISPATCH,
                  "cannot start %d threads; running on one", ctx->threads);
        ctx->pool = NULL;
    }
    return ctx->pool;
}

const char *seqk_context_device(const seqk_context *ctx)
{
    return ctx ? ctx->device : "";
}

int seqk_context_threads(const seqk_context *ctx)
{
    return ctx ? ctx->threads : 0;
}
