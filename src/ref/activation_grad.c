/*
 * activation_grad.c — derivatives of the eleven ONNX RNN activations, for
 * the reference backward (rnn_backward.c).  Evaluated in double at the
 * float x the forward passed to seqk__ref_activate.  At a kink the side
 * is the one the forward's comparison picks for x (x >= 0 is the right
 * side of LeakyRelu and Elu, x >= alpha of ThresholdedRelu), except
 * Relu'(0) = 0, which is what PyTorch's autograd gives.
 */
#include <math.h>

#include "ref/ref.h"

double seqk__ref_activate_grad(seqk_activation act, double x)
{
    const double a = act.alpha, b = act.beta;
    switch (act.kind) {
    case SEQK_ACT_RELU:
        return x > 0 ? 1.0 : 0.0;
    case SEQK_ACT_TANH: {
        const double t = tanh(x);
        return 1.0 - t * t;
    }
    case SEQK_ACT_SIGMOID: {
        const double s = x >= 0 ? 1.0 / (1.0 + exp(-x))
                                : exp(x) / (1.0 + exp(x));
        return s * (1.0 - s);
    }
    case SEQK_ACT_AFFINE:
        return a;
    case SEQK_ACT_LEAKY_RELU:
        return x >= 0 ? 1.0 : a;
    case SEQK_ACT_THRESHOLDED_RELU:
        return x >= a ? 1.0 : 0.0;
    case SEQK_ACT_SCALED_TANH: {
        const double t = tanh(b * x);
        return a * b * (1.0 - t * t);
    }
    case SEQK_ACT_HARD_SIGMOID: {
        /* flat where the forward's min/max saturate */
        const double v = a * x + b;
        return v > 0 && v < 1 ? a : 0.0;
    }
    case SEQK_ACT_ELU:
        return x >= 0 ? 1.0 : a * exp(x);
    case SEQK_ACT_SOFTSIGN: {
        const double d = 1.0 + fabs(x);
        return 1.0 / (d * d);
    }
    case SEQK_ACT_SOFTPLUS:
        /* the logistic function, written so that e^(large) never appears */
        return x >= 0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
    default:
        return NAN;
    }
}
