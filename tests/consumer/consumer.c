/*
 * consumer.c — a program outside seqk's build that uses an installed seqk
 * through pkg-config only (scripts/check-install.sh builds it against a
 * DESTDIR install, linked shared and static).  It runs a GEMM and a
 * one-layer LSTM on the default device and checks them against plain
 * loops here.  Exit 0 on success.
 *
 *   A [M,K] row-major, B [K,N], Y = A B            [M,N]
 *   LSTM, ONNX layout 0: X [T,B,I], W [1,4H,I], R [1,4H,H], B [1,8H],
 *   gates i,o,f,c; Y_h [1,B,H] is the last state.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include <seqk.h>

enum { M = 5, K = 7, N = 3, T = 4, NB = 2, I = 3, H = 5 };

static float frand(unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    return (float)((*s >> 8) & 0xffff) / 65536.0f - 0.5f;
}

static float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

static int close_to(const float *got, const float *want, int n, const char *what)
{
    for (int i = 0; i < n; i++) {
        if (fabsf(got[i] - want[i]) > 1e-4f + 1e-4f * fabsf(want[i])) {
            fprintf(stderr, "%s[%d] = %g, expected %g\n", what, i, got[i], want[i]);
            return 0;
        }
    }
    return 1;
}

/* The LSTM of the header, one direction, zero initial state. */
static void lstm_loops(const float *x, const float *w, const float *r,
                       const float *b, float *h_out)
{
    float h[NB][H] = {{0}}, c[NB][H] = {{0}};
    for (int t = 0; t < T; t++) {
        for (int n = 0; n < NB; n++) {
            float g[4 * H], hn[H];
            for (int j = 0; j < 4 * H; j++) {
                float acc = b[j] + b[4 * H + j];
                for (int k = 0; k < I; k++)
                    acc += w[j * I + k] * x[(t * NB + n) * I + k];
                for (int k = 0; k < H; k++)
                    acc += r[j * H + k] * h[n][k];
                g[j] = acc;
            }
            for (int j = 0; j < H; j++) {
                float ig = sigm(g[j]), og = sigm(g[H + j]);
                float fg = sigm(g[2 * H + j]), cc = tanhf(g[3 * H + j]);
                c[n][j] = fg * c[n][j] + ig * cc;
                hn[j] = og * tanhf(c[n][j]);
            }
            for (int j = 0; j < H; j++)
                h[n][j] = hn[j];
        }
    }
    for (int n = 0; n < NB; n++)
        for (int j = 0; j < H; j++)
            h_out[n * H + j] = h[n][j];
}

static seqk_tensor *tensor(seqk_context *ctx, int ndim, const int64_t *dims,
                           const float *host, size_t count)
{
    seqk_tensor *t = NULL;
    if (seqk_tensor_create(ctx, ndim, dims, SEQK_F32, &t) != SEQK_OK)
        return NULL;
    if (host && seqk_tensor_write(t, host, count * sizeof(float)) != SEQK_OK) {
        seqk_tensor_destroy(t);
        return NULL;
    }
    return t;
}

int main(void)
{
    static float a[M * K], bm[K * N], y[M * N], want_y[M * N];
    static float x[T * NB * I], w[4 * H * I], r[4 * H * H], bias[8 * H];
    static float yh[NB * H], want_yh[NB * H];
    unsigned seed = 42;
    int ok = 0;
    seqk_context *ctx = NULL;
    seqk_tensor *A = NULL, *B = NULL, *Y = NULL;
    seqk_tensor *X = NULL, *W = NULL, *R = NULL, *Bt = NULL, *Yh = NULL;
    seqk_rnn *lstm = NULL;

    for (int i = 0; i < M * K; i++) a[i] = frand(&seed);
    for (int i = 0; i < K * N; i++) bm[i] = frand(&seed);
    for (int i = 0; i < T * NB * I; i++) x[i] = frand(&seed);
    for (int i = 0; i < 4 * H * I; i++) w[i] = frand(&seed);
    for (int i = 0; i < 4 * H * H; i++) r[i] = frand(&seed);
    for (int i = 0; i < 8 * H; i++) bias[i] = frand(&seed);

    if (seqk_context_create(NULL, &ctx) != SEQK_OK) {
        fprintf(stderr, "context: %s\n", seqk_last_error(NULL));
        return 1;
    }
    printf("seqk %s on device %s\n", seqk_version_string(),
           seqk_context_device(ctx));

    const int64_t ad[2] = {M, K}, bd[2] = {K, N}, yd[2] = {M, N};
    A = tensor(ctx, 2, ad, a, M * K);
    B = tensor(ctx, 2, bd, bm, K * N);
    Y = tensor(ctx, 2, yd, NULL, 0);
    if (!A || !B || !Y || seqk_matmul(ctx, A, B, Y) != SEQK_OK ||
        seqk_tensor_read(Y, y, sizeof y) != SEQK_OK) {
        fprintf(stderr, "matmul: %s\n", seqk_last_error(ctx));
        goto cleanup;
    }
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float acc = 0;
            for (int k = 0; k < K; k++)
                acc += a[i * K + k] * bm[k * N + j];
            want_y[i * N + j] = acc;
        }
    if (!close_to(y, want_y, M * N, "matmul Y"))
        goto cleanup;

    seqk_rnn_desc d;
    seqk_rnn_desc_init(&d, SEQK_CELL_LSTM, I, H);
    const int64_t xd[3] = {T, NB, I}, wd[3] = {1, 4 * H, I};
    const int64_t rd[3] = {1, 4 * H, H}, bsd[2] = {1, 8 * H};
    const int64_t hd[3] = {1, NB, H};
    X = tensor(ctx, 3, xd, x, T * NB * I);
    W = tensor(ctx, 3, wd, w, 4 * H * I);
    R = tensor(ctx, 3, rd, r, 4 * H * H);
    Bt = tensor(ctx, 2, bsd, bias, 8 * H);
    Yh = tensor(ctx, 3, hd, NULL, 0);
    if (!X || !W || !R || !Bt || !Yh ||
        seqk_rnn_create(ctx, &d, &lstm) != SEQK_OK ||
        seqk_rnn_set_weights(lstm, 0, SEQK_WEIGHTS_ONNX, W, R, Bt, NULL) != SEQK_OK ||
        seqk_rnn_forward(lstm, X, NULL, NULL, NULL, NULL, Yh, NULL) != SEQK_OK ||
        seqk_tensor_read(Yh, yh, sizeof yh) != SEQK_OK) {
        fprintf(stderr, "lstm: %s\n", seqk_last_error(ctx));
        goto cleanup;
    }
    lstm_loops(x, w, r, bias, want_yh);
    if (!close_to(yh, want_yh, NB * H, "lstm Y_h"))
        goto cleanup;
    printf("matmul and LSTM match\n");
    ok = 1;

cleanup:
    seqk_rnn_destroy(lstm);
    seqk_tensor_destroy(A);
    seqk_tensor_destroy(B);
    seqk_tensor_destroy(Y);
    seqk_tensor_destroy(X);
    seqk_tensor_destroy(W);
    seqk_tensor_destroy(R);
    seqk_tensor_destroy(Bt);
    seqk_tensor_destroy(Yh);
    seqk_context_destroy(ctx);
    return ok ? 0 : 1;
}
