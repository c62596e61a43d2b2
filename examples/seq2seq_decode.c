/*
 * seq2seq_decode.c — an encoder-decoder with additive attention, decoded
 * token by token (greedy or beam search) through seqk's public API, on any
 * device: ref, avx2, avx512, neon, opencl:P.D.  Prints the tokens and the
 * time per decode step.  bench/decode_torch.py builds the same model in
 * PyTorch, writes its weights for --weights and compares tokens and times.
 *
 * The model (B sentences, K beams, R = B*K decoder rows, row r = b*K + k):
 *
 *   src ids [B,S] --Gather(E [V,Emb])--> [B,S,Emb]
 *     --bi-LSTM (He per direction, layout 1, src lengths)--> Y [B,S,2,He]
 *   keys = Y viewed [B,S,2He]: the keyed additive-attention plan projects
 *          W2 keys once per sentence
 *   Y_h, Y_c [B,2,He] viewed [1,B,Hd] (Hd = 2He): the decoder's h0, c0
 *   step t (ids = BOS at t = 0):
 *     e      = Gather(E, ids)                    [R,Emb]
 *     x      = Concat(e, ctx)                    [R,Emb+2He]  input feeding
 *     h, c   = LSTM (T = 1) from the last h, c   [1,R,Hd]
 *     ctx    = softmax_s(v . tanh(W1 h + W2 k_s)) . k   [R,2He]
 *              (positions s >= the source length masked)
 *     logits = Linear([h; ctx])                  [R,V]
 *     greedy: ids = ArgMax(logits); the host reads ids (on OpenCL the
 *             step's only read; everything else stays enqueued)
 *     beam:   TopK(Softmax(logits), K) read by the host, which picks the
 *             K best rows per sentence; Gather reorders h, c, ctx
 *
 * Weights: --weights DIR reads the .npy files bench/decode_torch.py
 * writes (PyTorch layouts: LSTM gates i,f,g,o, bias [b_ih, b_hh]; src.npy
 * and src_lens.npy give the source sentences); without it they come from
 * a seed.  The per-step time is the median over every step of --repeats
 * decodes after one warm-up decode.
 *
 * --bf16: the decoder LSTM's W, R and the output layer's weight are kept
 * as bfloat16 (weight_dtype = SEQK_BF16): the result is the f32 model
 * with those weights rounded to bf16, and a batch-1 step on the CPU
 * streams half the bytes (README "bf16 weights").
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "npy_read.h"
#include "seq2seq_model.h"

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* ------------------------------------------------------------ weights */

static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static float *uniform(size_t n, float scale, uint64_t *seed)
{
    float *p = malloc(n * sizeof *p + 1);
    if (!p)
        return NULL;
    for (size_t i = 0; i < n; i++)
        p[i] = scale * ((float)(splitmix(seed) >> 40) / 8388608.0f - 1.0f);
    return p;
}

/* The sizes of issue 11's benchmark, PyTorch-like init scales. */
static int weights_seeded(s2s_weights *w, uint64_t seed, int64_t B, int64_t S)
{
    w->V = 1000, w->E = 256, w->He = 128, w->Hd = 256, w->A = 256;
    w->B = B, w->S = S;
    const int64_t I = w->E + 2 * w->He, O = w->Hd + 2 * w->He;
    const float se = 1.0f / sqrtf((float)w->He), sd = 1.0f / sqrtf((float)w->Hd);
    w->emb = uniform((size_t)(w->V * w->E), 1.0f, &seed);
    w->enc_W = uniform((size_t)(2 * 4 * w->He * w->E), se, &seed);
    w->enc_R = uniform((size_t)(2 * 4 * w->He * w->He), se, &seed);
    w->enc_B = uniform((size_t)(2 * 8 * w->He), se, &seed);
    w->dec_W = uniform((size_t)(4 * w->Hd * I), sd, &seed);
    w->dec_R = uniform((size_t)(4 * w->Hd * w->Hd), sd, &seed);
    w->dec_B = uniform((size_t)(8 * w->Hd), sd, &seed);
    w->W1 = uniform((size_t)(w->A * w->Hd), sd, &seed);
    w->W2 = uniform((size_t)(w->A * 2 * w->He), 1.0f / sqrtf(2.0f * w->He), &seed);
    w->v = uniform((size_t)w->A, 1.0f / sqrtf((float)w->A), &seed);
    w->out_W = uniform((size_t)(w->V * O), 1.0f / sqrtf((float)O), &seed);
    w->out_b = uniform((size_t)w->V, 1.0f / sqrtf((float)O), &seed);
    w->src = malloc((size_t)(B * S) * sizeof *w->src + 1);
    w->lens = malloc((size_t)B * sizeof *w->lens + 1);
    if (!w->emb || !w->enc_W || !w->enc_R || !w->enc_B || !w->dec_W ||
        !w->dec_R || !w->dec_B || !w->W1 || !w->W2 || !w->v || !w->out_W ||
        !w->out_b || !w->src || !w->lens)
        return -1;
    for (int64_t i = 0; i < B * S; i++)
        w->src[i] = 2 + (int64_t)(splitmix(&seed) % (uint64_t)(w->V - 2));
    /* lengths as decode_torch.py sets them: S, S-3, S-6, ... (at least 1) */
    for (int64_t b = 0; b < B; b++) {
        int64_t l = S - (3 * b) % (S > 10 ? 10 : S);
        w->lens[b] = (int32_t)(l < 1 ? 1 : l);
    }
    return 0;
}

/* Reads DIR/name.npy, checks its type and rank, returns its data (owned
 * by the caller) and dims. */
static void *load(const char *dir, const char *name, char type, int ndim,
                  int64_t *dims)
{
    char path[4096], err[4200];
    npy_array a;
    snprintf(path, sizeof path, "%s/%s.npy", dir, name);
    if (npy_read(path, &a, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return NULL;
    }
    if (a.type != type || a.ndim != ndim) {
        fprintf(stderr, "%s: expected %s with %d dims\n", path,
                type == 'f' ? "float32" : type == 'l' ? "int64" : "int32",
                ndim);
        free(a.data);
        return NULL;
    }
    memcpy(dims, a.dims, (size_t)ndim * sizeof *dims);
    return a.data;
}

static int weights_load(s2s_weights *w, const char *dir)
{
    int64_t d[3], e[3];
    if (!(w->emb = load(dir, "emb", 'f', 2, d)))
        return -1;
    w->V = d[0], w->E = d[1];
    if (!(w->enc_W = load(dir, "enc_W", 'f', 3, d)) ||
        !(w->enc_R = load(dir, "enc_R", 'f', 3, e)))
        return -1;
    w->He = e[2];
    if (d[0] != 2 || d[1] != 4 * w->He || d[2] != w->E || e[0] != 2 ||
        e[1] != 4 * w->He)
        goto shape;
    if (!(w->enc_B = load(dir, "enc_B", 'f', 2, d)))
        return -1;
    if (d[0] != 2 || d[1] != 8 * w->He)
        goto shape;
    if (!(w->dec_R = load(dir, "dec_R", 'f', 3, e)))
        return -1;
    w->Hd = e[2];
    if (w->Hd != 2 * w->He || e[0] != 1 || e[1] != 4 * w->Hd)
        goto shape; /* the encoder's final states are the decoder's h0 */
    if (!(w->dec_W = load(dir, "dec_W", 'f', 3, d)))
        return -1;
    if (d[0] != 1 || d[1] != 4 * w->Hd || d[2] != w->E + 2 * w->He)
        goto shape;
    if (!(w->dec_B = load(dir, "dec_B", 'f', 2, d)))
        return -1;
    if (d[0] != 1 || d[1] != 8 * w->Hd)
        goto shape;
    if (!(w->W1 = load(dir, "att_W1", 'f', 2, d)))
        return -1;
    w->A = d[0];
    if (d[1] != w->Hd)
        goto shape;
    if (!(w->W2 = load(dir, "att_W2", 'f', 2, d)))
        return -1;
    if (d[0] != w->A || d[1] != 2 * w->He)
        goto shape;
    if (!(w->v = load(dir, "att_v", 'f', 1, d)))
        return -1;
    if (d[0] != w->A)
        goto shape;
    if (!(w->out_W = load(dir, "out_W", 'f', 2, d)))
        return -1;
    if (d[0] != w->V || d[1] != w->Hd + 2 * w->He)
        goto shape;
    if (!(w->out_b = load(dir, "out_b", 'f', 1, d)))
        return -1;
    if (d[0] != w->V)
        goto shape;
    if (!(w->src = load(dir, "src", 'l', 2, d)))
        return -1;
    w->B = d[0], w->S = d[1];
    if (!(w->lens = load(dir, "src_lens", 'i', 1, d)))
        return -1;
    if (d[0] != w->B)
        goto shape;
    for (int64_t i = 0; i < w->B * w->S; i++)
        if (w->src[i] < 0 || w->src[i] >= w->V) {
            fprintf(stderr, "%s/src.npy: id %lld outside [0, %lld)\n", dir,
                    (long long)w->src[i], (long long)w->V);
            return -1;
        }
    return 0;
shape:
    fprintf(stderr, "%s: the weight shapes do not fit one model (see "
            "bench/decode_torch.py)\n", dir);
    return -1;
}

static void weights_free(s2s_weights *w)
{
    void *p[] = {w->emb, w->enc_W, w->enc_R, w->enc_B, w->dec_W, w->dec_R,
                 w->dec_B, w->W1, w->W2, w->v, w->out_W, w->out_b, w->src,
                 w->lens};
    for (size_t i = 0; i < sizeof p / sizeof *p; i++)
        free(p[i]);
}

/* --------------------------------------------------------------- main */

static void usage(FILE *f)
{
    fprintf(f,
        "usage: seq2seq_decode [--device SPEC] [--batch B] [--threads N]\n"
        "                      [--beam K] [--weights DIR] [--steps T]\n"
        "                      [--repeats N] [--seed S] [--src-len S]\n"
        "                      [--profile] [--bf16]\n"
        "  --device   ref, cpu, avx2, avx512, neon, opencl:P.D, auto (default auto)\n"
        "  --batch    sentences decoded together (default 1)\n"
        "  --beam     beam width; 1 is greedy (default 1)\n"
        "  --weights  a directory written by bench/decode_torch.py\n"
        "             (default: random weights from --seed)\n"
        "  --steps    decode steps (default 20)\n"
        "  --repeats  timed decodes after one warm-up (default 10)\n"
        "  --profile  also time each op of a step (waits after every op)\n"
        "  --bf16     bf16 weights in the decoder LSTM and output layer\n");
}

int main(int argc, char **argv)
{
    const char *device = NULL, *dir = NULL;
    long batch = 1, threads = 0, beam = 1, steps = 20, repeats = 10;
    long src_len = 20, profile = 0, bf16 = 0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        long *num = NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--profile")) {
            profile = 1;
            continue;
        } else if (!strcmp(a, "--bf16")) {
            bf16 = 1;
            continue;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--device"))
            device = v;
        else if (!strcmp(a, "--weights"))
            dir = v;
        else if (!strcmp(a, "--seed"))
            seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--batch"))
            num = &batch;
        else if (!strcmp(a, "--threads"))
            num = &threads;
        else if (!strcmp(a, "--beam"))
            num = &beam;
        else if (!strcmp(a, "--steps"))
            num = &steps;
        else if (!strcmp(a, "--repeats"))
            num = &repeats;
        else if (!strcmp(a, "--src-len"))
            num = &src_len;
        else {
            fprintf(stderr, "unknown option %s\n", a);
            usage(stderr);
            return 2;
        }
        if (num) {
            char *end;
            *num = strtol(v, &end, 10);
            if (*end || *num < (num == &threads ? 0 : 1) || *num > 100000) {
                fprintf(stderr, "%s: bad value %s\n", a, v);
                return 2;
            }
        }
        i++;
    }

    int rc = 1;
    s2s_weights w;
    s2s_model m;
    s2s_run r;
    memset(&w, 0, sizeof w);
    memset(&m, 0, sizeof m);
    memset(&r, 0, sizeof r);
    int64_t *tokens = NULL, *again = NULL;
    double *step_ms = NULL, *enc_ms = NULL, *op_ms = NULL;
    if (dir ? weights_load(&w, dir)
            : weights_seeded(&w, seed, batch, src_len)) {
        fprintf(stderr, "cannot get the weights\n");
        goto cleanup;
    }
    if (batch > w.B) {
        fprintf(stderr, "--batch %ld: %s has only %lld source sentences\n",
                batch, dir, (long long)w.B);
        goto cleanup;
    }
    if (beam > w.V) {
        fprintf(stderr, "--beam %ld exceeds the vocabulary (%lld)\n", beam,
                (long long)w.V);
        goto cleanup;
    }

    seqk_options o;
    seqk_options_init(&o);
    o.device = device;
    o.threads = (int)threads;
    if (seqk_context_create(&o, &m.ctx) != SEQK_OK) {
        fprintf(stderr, "context: %s\n", seqk_last_error(NULL));
        goto cleanup;
    }
    m.bf16 = (int)bf16;
    if (s2s_model_create(&m, &w) || s2s_run_create(&m, &r, batch, beam))
        goto cleanup;

    const size_t T = (size_t)steps;
    const size_t nsteps = (size_t)repeats * T;
    tokens = calloc((size_t)batch * T, sizeof *tokens);
    again = calloc((size_t)batch * T, sizeof *again);
    step_ms = calloc(nsteps, sizeof *step_ms);
    enc_ms = calloc((size_t)repeats, sizeof *enc_ms);
    op_ms = calloc(nsteps * S2S_OPS, sizeof *op_ms);
    if (!tokens || !again || !step_ms || !enc_ms || !op_ms)
        goto cleanup;
    /* one warm-up decode (programs, packing) gives the tokens; every
     * timed decode must give the same */
    for (long rep = -1; rep < repeats; rep++) {
        int64_t *got = rep < 0 ? tokens : again;
        double *sm = rep < 0 ? NULL : step_ms + (size_t)rep * T;
        double *om = rep < 0 || !profile ? NULL
                                         : op_ms + (size_t)rep * T * S2S_OPS;
        const double t0 = now_ms();
        if (s2s_encode(&m, &r, &w))
            goto cleanup;
        if (rep >= 0)
            enc_ms[rep] = now_ms() - t0;
        if (s2s_decode(&m, &r, steps, got, sm, om))
            goto cleanup;
        if (rep >= 0 && memcmp(again, tokens, (size_t)batch * T * sizeof *again)) {
            fprintf(stderr, "decode %ld gave other tokens than the first\n",
                    rep);
            goto cleanup;
        }
    }

    printf("device %s, %d threads, batch %ld, beam %ld, %s weights: V=%lld "
           "Emb=%lld He=%lld Hd=%lld A=%lld S=%lld, %ld steps\n",
           seqk_context_device(m.ctx), seqk_context_threads(m.ctx), batch,
           beam, bf16 ? "bf16" : "f32", (long long)w.V, (long long)w.E, (long long)w.He,
           (long long)w.Hd, (long long)w.A, (long long)w.S, steps);
    for (long b = 0; b < batch; b++) {
        printf("tokens[%ld]:", b);
        for (size_t t = 0; t < T; t++)
            printf(" %lld", (long long)tokens[(size_t)b * T + t]);
        printf("\n");
    }
    if (profile) {
        printf("per op (median ms; waits after every op):");
        for (int k = 0; k < S2S_OPS; k++) {
            double *v = malloc(nsteps * sizeof *v + 1);
            if (!v)
                goto cleanup;
            for (size_t i = 0; i < nsteps; i++)
                v[i] = op_ms[i * S2S_OPS + (size_t)k];
            printf(" %s %.4f", s2s_op_names[k], median(v, nsteps));
            free(v);
        }
        printf("\n");
    }
    double enc = median(enc_ms, (size_t)repeats);
    double mn = step_ms[0];
    for (size_t i = 1; i < nsteps; i++)
        mn = step_ms[i] < mn ? step_ms[i] : mn;
    double med = median(step_ms, nsteps);
    printf("encoder %.4f ms (median of %ld); step %.4f ms (median of %zu = "
           "%ld decodes x %ld steps, min %.4f)%s\n",
           enc, repeats, med, nsteps, repeats, steps, mn,
           profile ? " [profiled: waits after every op]" : "");
    printf("RESULT device=%s threads=%d batch=%ld beam=%ld weights=%s "
           "step_ms=%.5f step_min_ms=%.5f encoder_ms=%.5f\n",
           seqk_context_device(m.ctx), seqk_context_threads(m.ctx), batch,
           beam, bf16 ? "bf16" : "f32", med, mn, enc);
    rc = 0;

cleanup:
    s2s_run_destroy(&r);
    s2s_model_destroy(&m);
    weights_free(&w);
    free(tokens);
    free(again);
    free(step_ms);
    free(enc_ms);
    free(op_ms);
    return rc;
}
