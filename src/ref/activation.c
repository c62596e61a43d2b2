/*
 * activation.c — the eleven ONNX RNN activation functions, one scalar at a
 * time.  This is the oracle the vectorized gate kernels are checked
 * against, so every function is its textbook formula evaluated in double
 * and rounded once to float.  Only the exponentials are rearranged where
 * the plain formula overflows (sigmoid and softplus of large |x|).
 */
#include <math.h>

#include "ref/ref.h"

static double sigmoid(double x)
{
    /* 1/(1+e^-x), written so that e^(large) never appears */
    if (x >= 0)
        return 1.0 / (1.0 + exp(-x));
    double e = exp(x);
    return e / (1.0 + e);
}

float seqk__ref_activate(seqk_activation act, float xf)
{
    const double x = xf, a = act.alpha, b = act.beta;
    double y;

    switch (act.kind) {
    case SEQK_ACT_RELU:
        y = x < 0 ? 0 : x; /* NaN passes through */
        break;
    case SEQK_ACT_TANH:
        y = tanh(x);
        break;
    case SEQK_ACT_SIGMOID:
        y = sigmoid(x);
        break;
    case SEQK_ACT_AFFINE:
        y = a * x + b;
        break;
    case SEQK_ACT_LEAKY_RELU:
        y = x >= 0 ? x : a * x;
        break;
    case SEQK_ACT_THRESHOLDED_RELU:
        y = x >= a ? x : 0;
        break;
    case SEQK_ACT_SCALED_TANH:
        y = a * tanh(b * x);
        break;
    case SEQK_ACT_HARD_SIGMOID:
        y = fmin(fmax(a * x + b, 0.0), 1.0);
        break;
    case SEQK_ACT_ELU:
        y = x >= 0 ? x : a * expm1(x);
        break;
    case SEQK_ACT_SOFTSIGN:
        y = x / (1.0 + fabs(x));
        break;
    case SEQK_ACT_SOFTPLUS:
        /* log(1+e^x) = max(x,0) + log1p(e^-|x|): exact and never overflows */
        y = fmax(x, 0.0) + log1p(exp(-fabs(x)));
        break;
    default:
        /* the front end validates kinds; NaN makes a bug loud, not silent */
        y = NAN;
        break;
    }
    return (float)y;
}
