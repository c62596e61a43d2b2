/*
 * bench_problems.c — problem descriptors for `seqk bench`: parsing and
 * validation, the named suites, FLOP counts and tolerances.  Running one
 * problem on one context is in bench_instance.c.
 *
 * Descriptor grammar (keys in any order, no spaces):
 *   gemm:m=M,n=N,k=K[,transa=0|1][,transb=0|1]
 *   lstm:hidden=H,batch=B,seq=T[,input=I][,dir=fwd|bi][,layers=L]
 *   gru:  ... as lstm ... [,lbr=0|1]          (default 1)
 *   (the ONNX names of `seqk run` are accepted too: direction=forward|
 *   bidirectional, num_layers=L, linear_before_reset=0|1)
 *   rnn:  ... as lstm ... [,act=tanh|relu]     (default tanh)
 *   attention:batch=B,heads=NH,seq=S,dim=D[,kvseq=S2][,causal=0|1]
 *   seqattn:batch=B,seq=S,dim=D,score=dot|scaled_dot|general|additive|
 *           cosine|location[,keyed=0|1]
 *   linear:m=M,n=N,k=K[,layout=nk|kn][,bias=0|1]   (default nk, bias 1)
 *   (lstm, gru, rnn, linear: [,weights=f32|bf16], the plan's weight_dtype)
 *   softmax:rows=R,n=N[,inner=I]
 *
 * Tensors each problem uses (f32, row-major):
 *   gemm       A [M,K] ([K,M] transa), B [K,N] ([N,K] transb) -> Y [M,N]
 *   rnn family X [T,B,I], per layer W [D,G*H,I_l] R [D,G*H,H] B [D,2*G*H]
 *              (ONNX) -> Y [T,D,B,H], Y_h [L*D,B,H], Y_c [L*D,B,H] (lstm)
 *   attention  Q [B,NH,S,D], K,V [B,NH,S2,D] -> Y [B,NH,S,D]
 *   seqattn    query [B,D], keys/values [B,S,D], W/W1/W2 [D,D], v [D],
 *              Wloc [S,D] -> context [B,D], weights [B,S]; keyed=1: the
 *              keys plan (seqk_seq_attention_keys) is made at setup and
 *              the timed call is one step (seqk_seq_attention_keyed)
 *   linear     X [M,K], W [N,K] (nk) or [K,N] (kn), b [N] -> Y [M,N]
 *              (seqk_linear plan made at setup; the call is a forward)
 *   softmax    X [R,N] (or [R,N,I] with inner) -> Y, Softmax over axis 1
 */
#include "bench_problems.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- suites */

static const char *const quick_suite[] = {
    "gemm:m=128,n=128,k=128",
    "gemm:m=256,n=32,k=512,transb=1",
    "lstm:hidden=128,batch=4,seq=16",
    "gru:hidden=128,batch=4,seq=16,dir=bi",
    "rnn:hidden=256,batch=8,seq=16,act=relu",
    "attention:batch=2,heads=4,seq=64,dim=32,causal=1",
    "attention:batch=1,heads=2,seq=8,kvseq=256,dim=64",
    "seqattn:batch=8,seq=64,dim=128,score=dot",
    "seqattn:batch=8,seq=64,dim=128,score=additive",
    "softmax:rows=768,n=128",
    "softmax:rows=16,n=32000",
    NULL
};

/* DeepBench inference shapes (baidu-research/DeepBench, gemm_problems.h
 * and rnn_problems.h: server and device sets; for RNNs input = hidden),
 * the ones a reference backend finishes in reasonable time, plus
 * transformer attention and encoder-decoder attention shapes, and the
 * softmaxes of sequence models: attention-score rows (12 heads x 128 or
 * 512 queries, as the attention shapes above) and a vocabulary-size
 * output row (32000 tokens, 16 sequences). */
static const char *const deepbench_suite[] = {
    "gemm:m=5124,n=700,k=2048",
    "gemm:m=35,n=700,k=2048",
    "gemm:m=1024,n=700,k=512",
    "gemm:m=3072,n=1,k=1024",
    "gemm:m=7680,n=4,k=2560",
    "gemm:m=64,n=1,k=1216",
    "gemm:m=128,n=1500,k=1280",
    "gemm:m=3072,n=1500,k=128",
    "gemm:m=4224,n=1,k=128",
    "lstm:hidden=256,batch=1,seq=150",
    "lstm:hidden=256,batch=4,seq=150",
    "lstm:hidden=512,batch=4,seq=25",
    "lstm:hidden=1024,batch=1,seq=25",
    "lstm:hidden=1536,batch=1,seq=50",
    "gru:hidden=512,batch=4,seq=1",
    "gru:hidden=1024,batch=1,seq=187",
    "rnn:hidden=32,batch=1,seq=672",
    "rnn:hidden=64,batch=1,seq=96",
    "attention:batch=1,heads=12,seq=128,dim=64",
    "attention:batch=1,heads=12,seq=512,dim=64,causal=1",
    "attention:batch=4,heads=12,seq=1,kvseq=1024,dim=64",
    "seqattn:batch=64,seq=50,dim=512,score=general",
    "seqattn:batch=16,seq=50,dim=512,score=additive",
    "softmax:rows=1536,n=128",
    "softmax:rows=6144,n=512",
    "softmax:rows=16,n=32000",
    NULL
};

/* Decoder-step work (issue 11 item 3): per-call against keyed
 * SeqAttention, the GEMM against the linear plan at batch 1, weights in
 * L3 and in L2 (bench/decode.sh prints the ratios). */
static const char *const decode_suite[] = {
    "seqattn:batch=8,seq=20,dim=512,score=additive",
    "seqattn:batch=8,seq=20,dim=512,score=additive,keyed=1",
    "seqattn:batch=8,seq=20,dim=512,score=general",
    "seqattn:batch=8,seq=20,dim=512,score=general,keyed=1",
    "gemm:m=1,n=1000,k=768,transb=1",
    "linear:m=1,n=1000,k=768",
    "linear:m=4,n=1000,k=768",
    "linear:m=1,n=256,k=512",
    "linear:m=64,n=1000,k=768",
    NULL
};

const char *const *bench_suite(const char *name)
{
    if (!name)
        return NULL;
    if (!strcmp(name, "quick"))
        return quick_suite;
    if (!strcmp(name, "deepbench"))
        return deepbench_suite;
    if (!strcmp(name, "decode"))
        return decode_suite;
    return NULL;
}

const char *bench_suite_names(void)
{
    return "quick, deepbench, decode";
}

/* ------------------------------------------------------------- parsing */

typedef enum key_type { KEY_SIZE, KEY_FLAG, KEY_CHOICE } key_type;

typedef struct key_spec {
    const char *name;
    key_type type;
    int required;
    size_t offset;              /* of an int64_t field of bench_problem */
    const char *const *choices; /* KEY_CHOICE: NULL-terminated */
    /* The ONNX spelling `seqk run` uses, accepted too (NULL: none) and
     * its choices, index for index (NULL: only `choices`). */
    const char *alias;
    const char *const *alias_choices;
} key_spec;

static const char *const dir_choices[] = {"fwd", "bi", NULL};
static const char *const dir_onnx[] = {"forward", "bidirectional", NULL};
static const char *const act_choices[] = {"tanh", "relu", NULL};
/* In seqk_score_kind order. */
static const char *const score_choices[] = {
    "dot", "scaled_dot", "general", "additive", "cosine", "location", NULL
};

static const char *const weights_choices[] = {"f32", "bf16", NULL};

#define FIELD(f) offsetof(bench_problem, f)
#define RNN_KEYS                                                      \
    {"hidden", KEY_SIZE, 1, FIELD(hidden), NULL, NULL, NULL},         \
    {"batch", KEY_SIZE, 1, FIELD(batch), NULL, NULL, NULL},           \
    {"seq", KEY_SIZE, 1, FIELD(seq), NULL, NULL, NULL},               \
    {"input", KEY_SIZE, 0, FIELD(input), NULL, NULL, NULL},           \
    {"dir", KEY_CHOICE, 0, FIELD(bidir), dir_choices, "direction",    \
     dir_onnx},                                                       \
    {"layers", KEY_SIZE, 0, FIELD(layers), NULL, "num_layers", NULL}, \
    {"weights", KEY_CHOICE, 0, FIELD(wbf16), weights_choices, NULL, NULL}

static const key_spec gemm_keys[] = {
    {"m", KEY_SIZE, 1, FIELD(m), NULL, NULL, NULL},
    {"n", KEY_SIZE, 1, FIELD(n), NULL, NULL, NULL},
    {"k", KEY_SIZE, 1, FIELD(k), NULL, NULL, NULL},
    {"transa", KEY_FLAG, 0, FIELD(transa), NULL, NULL, NULL},
    {"transb", KEY_FLAG, 0, FIELD(transb), NULL, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const key_spec lstm_keys[] = {
    RNN_KEYS, {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const key_spec gru_keys[] = {
    RNN_KEYS,
    {"lbr", KEY_FLAG, 0, FIELD(lbr), NULL, "linear_before_reset", NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const key_spec rnn_keys[] = {
    RNN_KEYS, {"act", KEY_CHOICE, 0, FIELD(act), act_choices, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const key_spec attention_keys[] = {
    {"batch", KEY_SIZE, 1, FIELD(batch), NULL, NULL, NULL},
    {"heads", KEY_SIZE, 1, FIELD(heads), NULL, NULL, NULL},
    {"seq", KEY_SIZE, 1, FIELD(seq), NULL, NULL, NULL},
    {"dim", KEY_SIZE, 1, FIELD(dim), NULL, NULL, NULL},
    {"kvseq", KEY_SIZE, 0, FIELD(kvseq), NULL, NULL, NULL},
    {"causal", KEY_FLAG, 0, FIELD(causal), NULL, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const key_spec seqattn_keys[] = {
    {"batch", KEY_SIZE, 1, FIELD(batch), NULL, NULL, NULL},
    {"seq", KEY_SIZE, 1, FIELD(seq), NULL, NULL, NULL},
    {"dim", KEY_SIZE, 1, FIELD(dim), NULL, NULL, NULL},
    {"score", KEY_CHOICE, 1, FIELD(score), score_choices, NULL, NULL},
    {"keyed", KEY_FLAG, 0, FIELD(keyed), NULL, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const char *const layout_choices[] = {"nk", "kn", NULL};
static const key_spec linear_keys[] = {
    {"m", KEY_SIZE, 1, FIELD(m), NULL, NULL, NULL},
    {"n", KEY_SIZE, 1, FIELD(n), NULL, NULL, NULL},
    {"k", KEY_SIZE, 1, FIELD(k), NULL, NULL, NULL},
    {"layout", KEY_CHOICE, 0, FIELD(layout), layout_choices, NULL, NULL},
    {"bias", KEY_FLAG, 0, FIELD(bias), NULL, NULL, NULL},
    {"weights", KEY_CHOICE, 0, FIELD(wbf16), weights_choices, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};
static const key_spec softmax_keys[] = {
    {"rows", KEY_SIZE, 1, FIELD(rows), NULL, NULL, NULL},
    {"n", KEY_SIZE, 1, FIELD(n), NULL, NULL, NULL},
    {"inner", KEY_SIZE, 0, FIELD(inner), NULL, NULL, NULL},
    {NULL, 0, 0, 0, NULL, NULL, NULL}
};

static const struct {
    const char *name;
    bench_kind kind;
    const key_spec *keys;
} kinds[] = {
    {"gemm", BENCH_GEMM, gemm_keys},
    {"lstm", BENCH_LSTM, lstm_keys},
    {"gru", BENCH_GRU, gru_keys},
    {"rnn", BENCH_RNN, rnn_keys},
    {"attention", BENCH_ATTENTION, attention_keys},
    {"seqattn", BENCH_SEQATTN, seqattn_keys},
    {"softmax", BENCH_SOFTMAX, softmax_keys},
    {"linear", BENCH_LINEAR, linear_keys},
};
#define NUM_KINDS (sizeof kinds / sizeof kinds[0])

/* Sizes are capped so that every derived count stays far from overflow;
 * no tensor may exceed 2^60 elements. */
#define MAX_VALUE 2147483647
#define MAX_ELEMS ((int64_t)1 << 60)

const char *bench_kind_name(bench_kind kind)
{
    for (size_t i = 0; i < NUM_KINDS; i++)
        if (kinds[i].kind == kind)
            return kinds[i].name;
    return "?";
}

static int64_t *field(bench_problem *p, const key_spec *k)
{
    return (int64_t *)((char *)p + k->offset);
}

/* "a, b or c" from a NULL-terminated list. */
static void join_choices(const char *const *list, char *buf, size_t len)
{
    size_t n = 0, used = 0;
    while (list[n])
        n++;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < len; i++) {
        const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
        int w = snprintf(buf + used, len - used, "%s%s", sep, list[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

static void key_names(const key_spec *keys, char *buf, size_t len)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; keys[i].name && used < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "",
                         keys[i].name);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

/* Parses the value v[0..vlen) of key k into *out; -1 with err on error. */
static int parse_value(const key_spec *k, const char *v, size_t vlen,
                       int64_t *out, char *err, size_t err_len)
{
    if (k->type == KEY_FLAG) {
        if (vlen == 1 && (v[0] == '0' || v[0] == '1')) {
            *out = v[0] - '0';
            return 0;
        }
        snprintf(err, err_len, "%s=%.*s: expected 0 or 1", k->name,
                 (int)vlen, v);
        return -1;
    }
    if (k->type == KEY_CHOICE) {
        for (int64_t i = 0; k->choices[i]; i++) {
            const char *alt = k->alias_choices ? k->alias_choices[i] : NULL;
            if ((strlen(k->choices[i]) == vlen &&
                 !strncmp(k->choices[i], v, vlen)) ||
                (alt && strlen(alt) == vlen && !strncmp(alt, v, vlen))) {
                *out = i;
                return 0;
            }
        }
        char list[128];
        join_choices(k->choices, list, sizeof list);
        if (k->alias_choices) {
            char alt[128];
            join_choices(k->alias_choices, alt, sizeof alt);
            snprintf(err, err_len, "%s=%.*s: expected %s (or %s)", k->name,
                     (int)vlen, v, list, alt);
        } else {
            snprintf(err, err_len, "%s=%.*s: expected %s", k->name,
                     (int)vlen, v, list);
        }
        return -1;
    }
    /* KEY_SIZE: decimal digits only, 1..MAX_VALUE. */
    size_t start = (vlen > 0 && v[0] == '-') ? 1 : 0;
    int64_t value = 0;
    int too_large = 0;
    if (vlen == start)
        goto not_a_number;
    for (size_t i = start; i < vlen; i++) {
        if (v[i] < '0' || v[i] > '9')
            goto not_a_number;
        if (!too_large) {
            value = value * 10 + (v[i] - '0');
            if (value > MAX_VALUE)
                too_large = 1;
        }
    }
    if (start == 1 || value == 0) {
        snprintf(err, err_len, "%s=%.*s: must be a positive integer",
                 k->name, (int)vlen, v);
        return -1;
    }
    if (too_large) {
        snprintf(err, err_len, "%s=%.*s: too large (at most %d)", k->name,
                 (int)vlen, v, MAX_VALUE);
        return -1;
    }
    *out = value;
    return 0;

not_a_number:
    snprintf(err, err_len, "%s=%.*s: not a number", k->name, (int)vlen, v);
    return -1;
}

/* Whether a*b*c*d stays within MAX_ELEMS (every factor >= 1). */
static int fits(int64_t a, int64_t b, int64_t c, int64_t d)
{
    const int64_t f[4] = {a, b, c, d};
    int64_t acc = 1;
    for (int i = 0; i < 4; i++) {
        if (acc > MAX_ELEMS / f[i])
            return 0;
        acc *= f[i];
    }
    return 1;
}

int bench_gates_of(bench_kind kind)
{
    return kind == BENCH_LSTM ? 4 : kind == BENCH_GRU ? 3 : 1;
}

/* Checks that every tensor the problem allocates has a sane size. */
static int check_sizes(const bench_problem *p, char *err, size_t err_len)
{
    int64_t d = p->bidir ? 2 : 1, gh = bench_gates_of(p->kind) * p->hidden;
    int64_t widest = p->input > d * p->hidden ? p->input : d * p->hidden;
    int ok = 1;
    switch (p->kind) {
    case BENCH_GEMM:
    case BENCH_LINEAR:
        ok = fits(p->m, p->k, 1, 1) && fits(p->k, p->n, 1, 1) &&
             fits(p->m, p->n, 1, 1);
        break;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN: /* X, the widest W, Y, Y_h */
        ok = fits(p->seq, p->batch, p->input, 1) && fits(d, gh, widest, 1) &&
             fits(p->seq, d, p->batch, p->hidden) &&
             fits(p->layers, d, p->batch, p->hidden);
        break;
    case BENCH_ATTENTION: /* Q, K/V and the scores a simple kernel holds */
        ok = fits(p->batch, p->heads, p->seq, p->dim) &&
             fits(p->batch, p->heads, p->kvseq, p->dim) &&
             fits(p->batch, p->heads, p->seq, p->kvseq);
        break;
    case BENCH_SEQATTN:
        ok = fits(p->batch, p->seq, p->dim, 1) && fits(p->dim, p->dim, 1, 1);
        break;
    case BENCH_SOFTMAX:
        ok = fits(p->rows, p->n, p->inner ? p->inner : 1, 1);
        break;
    }
    if (!ok) {
        snprintf(err, err_len, "sizes overflow: a %s tensor would hold more "
                 "than 2^60 elements", bench_kind_name(p->kind));
        return -1;
    }
    return 0;
}

int bench_parse(const char *text, bench_problem *p, char *err,
                size_t err_len)
{
    char names[128];
    memset(p, 0, sizeof *p);
    p->text = text;
    p->input = -1;
    p->kvseq = -1;
    p->layers = 1;
    p->lbr = 1;
    p->bias = 1;
    if (!text || !*text) {
        snprintf(err, err_len, "empty problem descriptor");
        return -1;
    }

    size_t klen = strcspn(text, ":");
    const key_spec *keys = NULL;
    for (size_t i = 0; i < NUM_KINDS; i++) {
        if (strlen(kinds[i].name) == klen &&
            !strncmp(kinds[i].name, text, klen)) {
            p->kind = kinds[i].kind;
            keys = kinds[i].keys;
        }
    }
    if (!keys) {
        snprintf(err, err_len, "unknown kind \"%.*s\" (expected gemm, lstm, "
                 "gru, rnn, attention, seqattn, linear or softmax)", (int)klen, text);
        return -1;
    }

    unsigned seen = 0;
    const char *s = text + klen + (text[klen] == ':');
    while (*s) {
        size_t ilen = strcspn(s, ",");
        if (ilen == 0) {
            snprintf(err, err_len, "empty key=value item (a doubled or "
                     "trailing comma?)");
            return -1;
        }
        const char *eq = memchr(s, '=', ilen);
        if (!eq) {
            snprintf(err, err_len, "\"%.*s\" is not key=value", (int)ilen, s);
            return -1;
        }
        size_t nlen = (size_t)(eq - s);
        int ki = -1;
        for (int i = 0; keys[i].name; i++)
            if ((strlen(keys[i].name) == nlen &&
                 !strncmp(keys[i].name, s, nlen)) ||
                (keys[i].alias && strlen(keys[i].alias) == nlen &&
                 !strncmp(keys[i].alias, s, nlen)))
                ki = i;
        if (ki < 0) {
            key_names(keys, names, sizeof names);
            snprintf(err, err_len, "unknown key \"%.*s\" (%s takes %s)",
                     (int)nlen, s, bench_kind_name(p->kind), names);
            return -1;
        }
        if (seen & (1u << ki)) {
            snprintf(err, err_len, "key %s given twice", keys[ki].name);
            return -1;
        }
        seen |= 1u << ki;
        if (parse_value(&keys[ki], eq + 1, ilen - nlen - 1,
                        field(p, &keys[ki]), err, err_len) != 0)
            return -1;
        s += ilen;
        if (*s == ',') {
            s++;
            if (!*s) {
                snprintf(err, err_len, "empty key=value item (a doubled "
                         "or trailing comma?)");
                return -1;
            }
        }
    }
    for (int i = 0; keys[i].name; i++) {
        if (keys[i].required && !(seen & (1u << i))) {
            snprintf(err, err_len, "missing key %s", keys[i].name);
            return -1;
        }
    }
    if (p->input < 0)
        p->input = p->hidden;
    if (p->kvseq < 0)
        p->kvseq = p->seq;
    return check_sizes(p, err, err_len);
}

/* ------------------------------------------------------ flops, tolerance */

double bench_flops(const bench_problem *p)
{
    double b = (double)p->batch, s = (double)p->seq, d = (double)p->dim;
    switch (p->kind) {
    case BENCH_GEMM:
    case BENCH_LINEAR: /* the bias add is not counted */
        return 2.0 * (double)p->m * (double)p->n * (double)p->k;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN: {
        double dirs = p->bidir ? 2.0 : 1.0, h = (double)p->hidden;
        /* layer 0 reads the input, every later one the previous layer's
         * dirs*h outputs: a closed form, not a loop over up to 2^31
         * layers (the fuzzer found that one taking seconds) */
        const double g = bench_gates_of(p->kind);
        const double per = dirs * 2.0 * s * b * g * h;
        return per * ((double)p->input + h) +
               (double)(p->layers - 1) * per * (dirs * h + h);
    }
    case BENCH_ATTENTION: {
        /* Count the (query, key) pairs scored: all S*S2, or with top-left
         * causal masking those with key <= query. */
        double s2 = (double)p->kvseq, pairs = s * s2;
        if (p->causal) {
            if (p->seq <= p->kvseq)
                pairs = s * (s + 1.0) / 2.0;
            else
                pairs = s2 * (s2 + 1.0) / 2.0 + (s - s2) * s2;
        }
        /* QK^T and PV: 2*D each per pair */
        return 4.0 * b * (double)p->heads * d * pairs;
    }
    case BENCH_SEQATTN: {
        /* scores then context (2*S*D); see bench/README.md */
        double per = 2.0 * s * d;
        switch ((seqk_score_kind)p->score) {
        case SEQK_SCORE_DOT:
        case SEQK_SCORE_SCALED_DOT:
        case SEQK_SCORE_LOCATION:
            per += 2.0 * s * d;
            break;
        case SEQK_SCORE_COSINE:
            per += 4.0 * s * d; /* q.k and |k|^2 */
            break;
        case SEQK_SCORE_GENERAL:
            per += 2.0 * d * d + 2.0 * s * d; /* (q^T W) then . k */
            break;
        case SEQK_SCORE_ADDITIVE:
            /* W1 q, W2 k per position, v . tanh(...); keyed: W2 k was
             * computed at setup, a step does W1 q and the rest */
            per += 2.0 * d * d * (p->keyed ? 1.0 : s + 1.0) + 2.0 * s * d;
            break;
        }
        return b * per;
    }
    case BENCH_SOFTMAX:
        /* ~5 per element: max, subtract, exp, sum, scale (exp counted as
         * one; see bench/README.md) */
        return 5.0 * (double)p->rows * (double)p->n *
               (double)(p->inner ? p->inner : 1);
    }
    return 0.0;
}

void bench_tolerance(const bench_problem *p, double *atol, double *rtol)
{
    double red = 1.0;
    *rtol = 1e-3;
    switch (p->kind) {
    case BENCH_GEMM:
    case BENCH_LINEAR:
        red = (double)p->k;
        *rtol = 1e-4;
        break;
    case BENCH_LSTM:
    case BENCH_GRU:
    case BENCH_RNN: {
        double widest = (double)p->input;
        if (p->layers > 1 && (p->bidir ? 2.0 : 1.0) * p->hidden > widest)
            widest = (p->bidir ? 2.0 : 1.0) * (double)p->hidden;
        red = (widest + (double)p->hidden) * (double)p->layers;
        break;
    }
    case BENCH_ATTENTION:
        red = (double)(p->dim + p->kvseq);
        break;
    case BENCH_SEQATTN:
        red = (double)(p->dim + p->seq);
        break;
    case BENCH_SOFTMAX: /* outputs <= 1; the sum runs over n */
        red = (double)p->n;
        break;
    }
    *atol = 1e-4 * sqrt(red) + 1e-5;
}
