/*
 * db_json.c — the tuning database file: JSON text -> entries (cJSON); the
 * tuner writes it (tune/db_write.c).
 *
 *   {"format": "seqk-tuning", "version": 1, "entries": [
 *     {"backend": "opencl",
 *      "device": {"vendor", "name", "driver", "platform", "compute_units",
 *                 "local_mem", "cpu_family", "cpu_model", "isa",
 *                 "l1d", "l2", "l3"},
 *      "kernel": "opencl.gemm.direct", "source_hash": "<16 hex>",
 *      "dtype": "f32", "bucket": [8, 8, 7], "params": {"DWM": 8, ...},
 *      "median_ms", "min_ms", "default_ms", "speedup",
 *      "tuner_version", "date", "verified": [{"driver", "platform"}]}]}
 *
 * The reader trusts nothing: every field is type-, range- and
 * length-checked, and one bad entry rejects the whole file (a file that is
 * partly wrong is not believed).  Unknown keys are ignored (a later
 * version-1 writer may add some); a key given twice is an error.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "tune/db_internal.h"

/* Integers stored as JSON numbers (doubles) are exact up to 2^53. */
#define MAX_EXACT_INT 9007199254740992.0
/* Times above ~11 days are not measurements. */
#define MAX_MS 1e9
/* Objects with more keys than this are not ours. */
#define MAX_KEYS 64

typedef struct perr {
    char *msg;
    size_t len;
    int entry;  /* -1 outside the entries */
} perr;

__attribute__((format(printf, 2, 3)))
static seqk_status fail(perr *p, const char *fmt, ...)
{
    char what[384];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    if (p->msg && p->len) {
        if (p->entry >= 0)
            snprintf(p->msg, p->len, "entry %d: %s", p->entry, what);
        else
            snprintf(p->msg, p->len, "%s", what);
    }
    return SEQK_ERR_TUNING_DB;
}

/* ------------------------------------------------- entry validation */

static int str_ok(const char *s, size_t size, int allow_empty)
{
    size_t n = strnlen(s, size);
    if (n == size || (!allow_empty && n == 0))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            return 0;
    return 1;
}

static int ident_ok(const char *s, size_t size)
{
    size_t n = strnlen(s, size);
    if (n == 0 || n == size)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '.')
            return 0;
    return 1;
}

static int ms_ok(double v)
{
    return isfinite(v) && v >= 0 && v <= MAX_MS;
}

static int size_ok(int64_t v)
{
    return v >= 0 && (double)v <= MAX_EXACT_INT;
}

/* The checks a struct must pass to be stored or written (the reader also
 * runs them on what it parsed). */
static seqk_status check_entry(const seqk_tune_entry *e, perr *p)
{
    const seqk_tune_fp *f = &e->fp;
    if (!str_ok(f->backend, sizeof f->backend, 0))
        return fail(p, "\"backend\" must be a non-empty string of at most "
                       "%zu bytes", sizeof f->backend - 1);
    if (!str_ok(f->vendor, sizeof f->vendor, 1) ||
        !str_ok(f->device, sizeof f->device, 1) ||
        !str_ok(f->driver, sizeof f->driver, 1) ||
        !str_ok(f->platform, sizeof f->platform, 1) ||
        !str_ok(f->isa, sizeof f->isa, 1))
        return fail(p, "a device string is too long or has control "
                       "characters");
    if (f->compute_units < 0 || f->cpu_family < 0 || f->cpu_model < 0 ||
        !size_ok(f->local_mem) || !size_ok(f->l1d) || !size_ok(f->l2) ||
        !size_ok(f->l3))
        return fail(p, "a device number is negative or too large");
    if (!ident_ok(e->kernel, sizeof e->kernel))
        return fail(p, "\"kernel\" must be an identifier of at most %zu "
                       "bytes", sizeof e->kernel - 1);
    if (strnlen(e->source_hash, sizeof e->source_hash) != 16)
        return fail(p, "\"source_hash\" must be 16 hex digits");
    for (int i = 0; i < 16; i++)
        if (!isxdigit((unsigned char)e->source_hash[i]))
            return fail(p, "\"source_hash\" must be 16 hex digits");
    if (!ident_ok(e->dtype, sizeof e->dtype))
        return fail(p, "\"dtype\" must be a short identifier");
    if (e->num_shape < 0 || e->num_shape > SEQK_TUNE_MAX_SHAPE)
        return fail(p, "\"bucket\" has %d values; at most %d", e->num_shape,
                    SEQK_TUNE_MAX_SHAPE);
    for (int i = 0; i < e->num_shape; i++)
        if (e->bucket[i] < 0 || e->bucket[i] > 62)
            return fail(p, "bucket value %d is outside 0..62", e->bucket[i]);
    if (e->num_params < 1 || e->num_params > SEQK_TUNE_MAX_PARAMS)
        return fail(p, "\"params\" has %d values; expected 1..%d",
                    e->num_params, SEQK_TUNE_MAX_PARAMS);
    for (int i = 0; i < e->num_params; i++) {
        if (!ident_ok(e->names[i], sizeof e->names[i]))
            return fail(p, "parameter name %d must be an identifier of at "
                           "most %zu bytes", i, sizeof e->names[i] - 1);
        for (int j = 0; j < i; j++)
            if (!strcmp(e->names[i], e->names[j]))
                return fail(p, "parameter \"%s\" given twice", e->names[i]);
    }
    if (!ms_ok(e->median_ms) || !ms_ok(e->min_ms) || !ms_ok(e->default_ms))
        return fail(p, "times must be finite, non-negative milliseconds");
    if (!str_ok(e->tuner_version, sizeof e->tuner_version, 0) ||
        !str_ok(e->date, sizeof e->date, 1))
        return fail(p, "\"tuner_version\" or \"date\" is empty, too long "
                       "or has control characters");
    if (e->num_verified < 0 || e->num_verified > SEQK_TUNE_MAX_VERIFIED)
        return fail(p, "\"verified\" has %d values; at most %d",
                    e->num_verified, SEQK_TUNE_MAX_VERIFIED);
    for (int i = 0; i < e->num_verified; i++)
        if (!str_ok(e->verified[i].driver, sizeof e->verified[i].driver, 1) ||
            !str_ok(e->verified[i].platform,
                    sizeof e->verified[i].platform, 1))
            return fail(p, "a \"verified\" string is too long or has "
                           "control characters");
    return SEQK_OK;
}

seqk_status seqk__tune_entry_check(const seqk_tune_entry *e, char *msg,
                                   size_t msg_len)
{
    perr p = {msg, msg_len, -1};
    return check_entry(e, &p);
}

/* ----------------------------------------------------------- reading */

/* The member `key` of object o (NULL if absent); a key present twice or an
 * object with too many keys fails (*st set). */
static const cJSON *member(const cJSON *o, const char *key, perr *p,
                           seqk_status *st)
{
    const cJSON *found = NULL;
    int n = 0;
    for (const cJSON *c = o->child; c; c = c->next) {
        if (++n > MAX_KEYS) {
            *st = fail(p, "an object has more than %d keys", MAX_KEYS);
            return NULL;
        }
        if (c->string && !strcmp(c->string, key)) {
            if (found) {
                *st = fail(p, "key \"%s\" given twice", key);
                return NULL;
            }
            found = c;
        }
    }
    if (!found)
        *st = fail(p, "\"%s\" is missing", key);
    return found;
}

/* Whether s is well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF).  cJSON passes any bytes through,
 * and a file holding invalid UTF-8 is not JSON to other readers
 * (Python's json module refuses it), so the database never stores it. */
static int utf8_valid(const unsigned char *s)
{
    while (*s) {
        unsigned c = *s++;
        int n;
        unsigned cp, min;
        if (c < 0x80)
            continue;
        if ((c & 0xE0) == 0xC0) {
            n = 1, cp = c & 0x1F, min = 0x80;
        } else if ((c & 0xF0) == 0xE0) {
            n = 2, cp = c & 0x0F, min = 0x800;
        } else if ((c & 0xF8) == 0xF0) {
            n = 3, cp = c & 0x07, min = 0x10000;
        } else {
            return 0;
        }
        for (int k = 0; k < n; k++, s++) {
            if ((*s & 0xC0) != 0x80)
                return 0;
            cp = cp << 6 | (*s & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return 0;
    }
    return 1;
}

static seqk_status get_str(const cJSON *o, const char *key, char *dst,
                           size_t size, perr *p)
{
    seqk_status st = SEQK_OK;
    const cJSON *v = member(o, key, p, &st);
    if (!v)
        return st;
    if (!cJSON_IsString(v) || !v->valuestring ||
        strlen(v->valuestring) >= size)
        return fail(p, "\"%s\" must be a string of at most %zu bytes", key,
                    size - 1);
    for (const char *s = v->valuestring; *s; s++)
        if ((unsigned char)*s < 0x20)
            return fail(p, "\"%s\" has a control character", key);
    if (!utf8_valid((const unsigned char *)v->valuestring))
        return fail(p, "\"%s\" is not valid UTF-8", key);
    memcpy(dst, v->valuestring, strlen(v->valuestring) + 1);
    return SEQK_OK;
}

static seqk_status num_int(const cJSON *v, const char *key, double lo,
                           double hi, int64_t *out, perr *p)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) ||
        v->valuedouble != floor(v->valuedouble) || v->valuedouble < lo ||
        v->valuedouble > hi)
        return fail(p, "\"%s\" must be an integer in %.0f..%.0f", key, lo,
                    hi);
    *out = (int64_t)v->valuedouble;
    return SEQK_OK;
}

static seqk_status get_int(const cJSON *o, const char *key, double lo,
                           double hi, int64_t *out, perr *p)
{
    seqk_status st = SEQK_OK;
    const cJSON *v = member(o, key, p, &st);
    return v ? num_int(v, key, lo, hi, out, p) : st;
}

static seqk_status get_ms(const cJSON *o, const char *key, double *out,
                          perr *p)
{
    seqk_status st = SEQK_OK;
    const cJSON *v = member(o, key, p, &st);
    if (!v)
        return st;
    if (!cJSON_IsNumber(v) || !ms_ok(v->valuedouble))
        return fail(p, "\"%s\" must be a finite, non-negative number of "
                       "milliseconds", key);
    *out = v->valuedouble;
    return SEQK_OK;
}

static seqk_status get_object(const cJSON *o, const char *key,
                              const cJSON **out, perr *p)
{
    seqk_status st = SEQK_OK;
    *out = member(o, key, p, &st);
    if (!*out)
        return st;
    if (!cJSON_IsObject(*out))
        return fail(p, "\"%s\" must be an object", key);
    return SEQK_OK;
}

static seqk_status parse_device(const cJSON *d, seqk_tune_fp *f, perr *p)
{
    seqk_status st;
    int64_t v = 0;
    if ((st = get_str(d, "vendor", f->vendor, sizeof f->vendor, p)) ||
        (st = get_str(d, "name", f->device, sizeof f->device, p)) ||
        (st = get_str(d, "driver", f->driver, sizeof f->driver, p)) ||
        (st = get_str(d, "platform", f->platform, sizeof f->platform, p)) ||
        (st = get_str(d, "isa", f->isa, sizeof f->isa, p)))
        return st;
    if ((st = get_int(d, "compute_units", 0, 2147483647.0, &v, p)))
        return st;
    f->compute_units = (int)v;
    if ((st = get_int(d, "cpu_family", 0, 2147483647.0, &v, p)))
        return st;
    f->cpu_family = (int)v;
    if ((st = get_int(d, "cpu_model", 0, 2147483647.0, &v, p)))
        return st;
    f->cpu_model = (int)v;
    if ((st = get_int(d, "local_mem", 0, MAX_EXACT_INT, &f->local_mem, p)) ||
        (st = get_int(d, "l1d", 0, MAX_EXACT_INT, &f->l1d, p)) ||
        (st = get_int(d, "l2", 0, MAX_EXACT_INT, &f->l2, p)) ||
        (st = get_int(d, "l3", 0, MAX_EXACT_INT, &f->l3, p)))
        return st;
    return SEQK_OK;
}

static seqk_status parse_params(const cJSON *ps, seqk_tune_entry *e,
                                perr *p)
{
    int n = cJSON_GetArraySize(ps);
    if (n < 1 || n > SEQK_TUNE_MAX_PARAMS)
        return fail(p, "\"params\" has %d values; expected 1..%d", n,
                    SEQK_TUNE_MAX_PARAMS);
    int i = 0;
    for (const cJSON *c = ps->child; c; c = c->next, i++) {
        int64_t v = 0;
        seqk_status st;
        if (!c->string || strlen(c->string) >= sizeof e->names[i])
            return fail(p, "parameter name %d is longer than %zu bytes", i,
                        sizeof e->names[i] - 1);
        if ((st = num_int(c, c->string, -2147483648.0, 2147483647.0, &v, p)))
            return st;
        snprintf(e->names[i], sizeof e->names[i], "%s", c->string);
        e->values[i] = (int)v;
    }
    e->num_params = i;
    return SEQK_OK;
}

static seqk_status parse_verified(const cJSON *o, seqk_tune_entry *e,
                                  perr *p)
{
    const cJSON *vs = NULL;
    int n = 0;
    for (const cJSON *c = o->child; c; c = c->next)
        if (c->string && !strcmp(c->string, "verified")) {
            if (vs)
                return fail(p, "key \"verified\" given twice");
            vs = c;
        }
    if (!vs)
        return SEQK_OK; /* optional */
    if (!cJSON_IsArray(vs) ||
        (n = cJSON_GetArraySize(vs)) > SEQK_TUNE_MAX_VERIFIED)
        return fail(p, "\"verified\" must be an array of at most %d objects",
                    SEQK_TUNE_MAX_VERIFIED);
    int i = 0;
    for (const cJSON *c = vs->child; c; c = c->next, i++) {
        seqk_tune_verified *v = &e->verified[i];
        seqk_status st;
        if (!cJSON_IsObject(c))
            return fail(p, "\"verified\" must be an array of objects");
        if ((st = get_str(c, "driver", v->driver, sizeof v->driver, p)) ||
            (st = get_str(c, "platform", v->platform, sizeof v->platform, p)))
            return st;
    }
    e->num_verified = i;
    return SEQK_OK;
}

static seqk_status parse_entry(const cJSON *o, seqk_tune_entry *e, perr *p)
{
    const cJSON *dev, *ps, *b;
    seqk_status st = SEQK_OK;
    double speedup;
    memset(e, 0, sizeof *e);
    if (!cJSON_IsObject(o))
        return fail(p, "not an object");
    if ((st = get_str(o, "backend", e->fp.backend, sizeof e->fp.backend, p)) ||
        (st = get_object(o, "device", &dev, p)) ||
        (st = parse_device(dev, &e->fp, p)) ||
        (st = get_str(o, "kernel", e->kernel, sizeof e->kernel, p)) ||
        (st = get_str(o, "source_hash", e->source_hash,
                      sizeof e->source_hash, p)) ||
        (st = get_str(o, "dtype", e->dtype, sizeof e->dtype, p)))
        return st;
    b = member(o, "bucket", p, &st);
    if (!b)
        return st;
    if (!cJSON_IsArray(b) ||
        (e->num_shape = cJSON_GetArraySize(b)) > SEQK_TUNE_MAX_SHAPE)
        return fail(p, "\"bucket\" must be an array of at most %d integers",
                    SEQK_TUNE_MAX_SHAPE);
    int i = 0;
    for (const cJSON *c = b->child; c; c = c->next, i++) {
        int64_t v = 0;
        if ((st = num_int(c, "bucket", 0, 62, &v, p)))
            return st;
        e->bucket[i] = (int)v;
    }
    if ((st = get_object(o, "params", &ps, p)) ||
        (st = parse_params(ps, e, p)) ||
        (st = get_ms(o, "median_ms", &e->median_ms, p)) ||
        (st = get_ms(o, "min_ms", &e->min_ms, p)) ||
        (st = get_ms(o, "default_ms", &e->default_ms, p)) ||
        (st = get_ms(o, "speedup", &speedup, p)) ||
        (st = get_str(o, "tuner_version", e->tuner_version,
                      sizeof e->tuner_version, p)) ||
        (st = get_str(o, "date", e->date, sizeof e->date, p)) ||
        (st = parse_verified(o, e, p)))
        return st;
    return check_entry(e, p);
}

/* Before cJSON sees the text: nesting depth (cJSON recurses per level;
 * its own limit, 1000, is deep for a small thread stack) and the number
 * of values (each becomes a ~64-byte node: 16 MiB of "0," would need half
 * a GiB).  Our files nest 5 deep and have ~50 values per entry. */
#define MAX_DEPTH 16
#define MAX_VALUES (1 << 20)
static seqk_status prescan(const char *text, size_t len, perr *p)
{
    int depth = 0, in_string = 0;
    size_t values = 1;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_string) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_string = 0;
            continue;
        }
        if (c == '"') {
            in_string = 1;
        } else if (c == '[' || c == '{') {
            if (++depth > MAX_DEPTH)
                return fail(p, "nested deeper than %d levels", MAX_DEPTH);
        } else if (c == ']' || c == '}') {
            depth--;
        } else if (c == ',' && ++values > MAX_VALUES) {
            return fail(p, "more than %d values", MAX_VALUES);
        }
    }
    return SEQK_OK;
}

/* An escaped NUL ("\u0000") would silently cut a string short. */
static int has_escaped_nul(const char *text, size_t len)
{
    for (size_t i = 1; i + 5 <= len; i++) {
        if (memcmp(text + i, "u0000", 5) != 0)
            continue;
        size_t bs = 0;
        while (bs < i && text[i - 1 - bs] == '\\')
            bs++;
        if (bs % 2 == 1)
            return 1;
    }
    return 0;
}

static seqk_status parse_root(const cJSON *root, seqk_tune_db *db, perr *p)
{
    seqk_status st = SEQK_OK;
    const cJSON *fmt, *ver, *ents;
    if (!cJSON_IsObject(root))
        return fail(p, "not a seqk tuning database (not a JSON object)");
    fmt = member(root, "format", p, &st);
    if (!fmt || !cJSON_IsString(fmt) ||
        strcmp(fmt->valuestring, "seqk-tuning") != 0)
        return fail(p, "not a seqk tuning database (no \"format\": "
                       "\"seqk-tuning\")");
    ver = member(root, "version", p, &st);
    if (!ver)
        return st;
    if (!cJSON_IsNumber(ver) || !isfinite(ver->valuedouble))
        return fail(p, "\"version\" is not a number");
    if (ver->valuedouble != SEQK_TUNE_DB_VERSION) {
        if (ver->valuedouble == floor(ver->valuedouble) &&
            fabs(ver->valuedouble) < 1e15)
            return fail(p, "version %.0f is not supported (this library "
                           "reads %d)", ver->valuedouble,
                        SEQK_TUNE_DB_VERSION);
        return fail(p, "version %g is not supported (this library reads "
                       "%d)", ver->valuedouble, SEQK_TUNE_DB_VERSION);
    }
    ents = member(root, "entries", p, &st);
    if (!ents)
        return st;
    if (!cJSON_IsArray(ents))
        return fail(p, "\"entries\" is not an array");
    /* Grown entry by entry: a huge array of junk fails at its first. */
    int i = 0;
    for (const cJSON *c = ents->child; c; c = c->next, i++) {
        seqk_tune_entry e;
        p->entry = i;
        if ((st = parse_entry(c, &e, p)))
            return st;
        if (seqk__tune_db_append(db, &e) != SEQK_OK)
            return fail(p, "out of memory");
    }
    p->entry = -1;
    /* Entries with equal keys: the later one in the file wins. */
    seqk__tune_db_dedupe(db);
    return SEQK_OK;
}

seqk_status seqk__tune_db_parse(const char *text, size_t len,
                               seqk_tune_db **out, char *msg, size_t msg_len)
{
    perr p = {msg, msg_len, -1};
    seqk_status st;
    const char *end = NULL;
    cJSON *root = NULL;
    seqk_tune_db *db = NULL;
    if (msg && msg_len)
        msg[0] = '\0';
    *out = NULL;
    if (!text)
        return fail(&p, "no text");
    if (len > SEQK_TUNE_DB_MAX_BYTES)
        return fail(&p, "%zu bytes is larger than the limit of %u", len,
                    (unsigned)SEQK_TUNE_DB_MAX_BYTES);
    const char *nul = memchr(text, '\0', len);
    if (nul)
        return fail(&p, "NUL byte at offset %td", nul - text);
    if (has_escaped_nul(text, len))
        return fail(&p, "a string contains an escaped NUL (\\u0000)");
    if ((st = prescan(text, len, &p)))
        return st;
    root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root) {
        st = fail(&p, "not valid JSON (error at byte %td of %zu)",
                  end ? end - text : (ptrdiff_t)0, len);
        goto cleanup;
    }
    for (const char *q = end; q < text + len; q++)
        if (!isspace((unsigned char)*q)) {
            st = fail(&p, "text after the JSON value at byte %td", q - text);
            goto cleanup;
        }
    db = seqk__tune_db_new();
    if (!db) {
        st = fail(&p, "out of memory");
        goto cleanup;
    }
    st = parse_root(root, db, &p);
    if (st == SEQK_OK) {
        *out = db;
        db = NULL;
    }
cleanup:
    cJSON_Delete(root);
    seqk__tune_db_free(db);
    return st;
}
