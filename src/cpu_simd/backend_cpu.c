/*
 * backend_cpu.c — the CPU SIMD backends (one per ISA) as dispatch sees
 * them: each is the same set of drivers over a different kernel table
 * (self->impl).
 */
#include <stdio.h>
#include <string.h>

#include "cpu_simd/cpu_simd.h"
#include "cpu_simd/isa.h"

#define ISA(self) ((const seqk_cpu_isa *)(self)->impl)

static seqk_status gemm(seqk_context *c, const seqk_backend *self,
                        const seqk_gemm_problem *p)
{
    return seqk__cpu_gemm(c, ISA(self), p);
}

static seqk_status matmul(seqk_context *c, const seqk_backend *self,
                          const seqk_matmul_problem *p)
{
    return seqk__cpu_matmul(c, ISA(self), p);
}

static seqk_status softmax(seqk_context *c, const seqk_backend *self,
                           const seqk_softmax_problem *p)
{
    return seqk__cpu_softmax(c, ISA(self), p);
}

static seqk_status rnn_layer(seqk_context *c, const seqk_backend *self,
                             const seqk_rnn_layer_problem *p)
{
    return seqk__cpu_rnn_layer(c, ISA(self), p);
}

static seqk_status attention(seqk_context *c, const seqk_backend *self,
                             const seqk_attention_problem *p)
{
    return seqk__cpu_attention(c, ISA(self), p);
}

static seqk_status seq_attention(seqk_context *c, const seqk_backend *self,
                                 const seqk_seq_attention_problem *p)
{
    return seqk__cpu_seq_attention(c, ISA(self), p);
}

static seqk_status elementwise(seqk_context *c, const seqk_backend *self,
                               const seqk_elementwise_problem *p)
{
    return seqk__cpu_elementwise(c, ISA(self), p);
}

static seqk_status argmax(seqk_context *c, const seqk_backend *self,
                          const seqk_argmax_problem *p)
{
    return seqk__cpu_argmax(c, ISA(self), p);
}

static seqk_status conv1d(seqk_context *c, const seqk_backend *self,
                          const seqk_conv1d_problem *p)
{
    return seqk__cpu_conv1d(c, ISA(self), p);
}

static seqk_status layer_norm(seqk_context *c, const seqk_backend *self,
                              const seqk_layer_norm_problem *p)
{
    return seqk__cpu_layer_norm(c, ISA(self), p);
}

static seqk_status layout(seqk_context *c, const seqk_backend *self,
                          const seqk_layout_problem *p)
{
    (void)self;
    return seqk__cpu_layout(c, p);
}

static int supports(const seqk_backend *self, seqk_op op, const void *p,
                    char *why, size_t why_len)
{
    return seqk__cpu_supports(ISA(self), op, p, why, why_len);
}

int seqk__cpu_supports(const seqk_cpu_isa *isa, seqk_op op,
                      const void *problem, char *why, size_t why_len)
{
    const void *table = NULL;
    const char *family = "";
    switch (op) {
    case SEQK_OP_GEMM:
    case SEQK_OP_MATMUL:
    case SEQK_OP_CONV1D: /* im2col + GEMM */
        table = isa->gemm;
        family = "GEMM";
        break;
    case SEQK_OP_RNN_LAYER:
        table = isa->rnn;
        family = "RNN";
        break;
    case SEQK_OP_SOFTMAX:
    case SEQK_OP_ATTENTION:
    case SEQK_OP_SEQ_ATTENTION:
        table = isa->attn;
        family = "attention/softmax";
        break;
    case SEQK_OP_ELEMENTWISE:
    case SEQK_OP_ARGMAX:
    case SEQK_OP_LAYER_NORM:
        table = isa->ew;
        family = "element-wise";
        break;
    case SEQK_OP_GATHER: /* data movement: no entries, ref's memcpy runs */
    case SEQK_OP_TOPK:
    case SEQK_OP_CONCAT:
    case SEQK_OP_LAYOUT: /* plain C rows (layout_driver.c): no table */
        return 1;
    case SEQK_OP_RNN_LAYER_TRAIN: /* no entries yet: ref runs them */
    case SEQK_OP_RNN_LAYER_BACKWARD:
        family = "RNN training";
        break;
    case SEQK_OP_WHERE:
    case SEQK_OP_CAST:
    case SEQK_OP_REDUCE:
    case SEQK_OP_COUNT_:
        break;
    }
    if (!table) {
        snprintf(why, why_len, "no %s %s kernels in this build", isa->spec,
                 family);
        return 0;
    }
    switch (op) {
    case SEQK_OP_GEMM:
    case SEQK_OP_MATMUL:
        return seqk__cpu_gemm_supports(isa, op, problem, why, why_len);
    case SEQK_OP_CONV1D:
        return 1;
    case SEQK_OP_RNN_LAYER:
        return seqk__cpu_rnn_supports(isa, problem, why, why_len);
    case SEQK_OP_ELEMENTWISE:
    case SEQK_OP_ARGMAX:
    case SEQK_OP_LAYER_NORM:
        return seqk__cpu_ew_supports(isa, op, problem, why, why_len);
    default:
        return seqk__cpu_attn_supports(isa, op, problem, why, why_len);
    }
}

int seqk__cpu_threads(seqk_context *ctx)
{
    return ctx->threads > 0 ? ctx->threads : 1;
}

/* seqk__backend_<isa> for every isa.def entry this build compiled. */
#define CPU_BACKEND(name_, title_)                                          \
    const seqk_backend seqk__backend_##name_ = {                             \
        .spec = #name_,                                                     \
        .name = title_,                                                     \
        .kind = SEQK_DEVICE_CPU_SIMD,                                       \
        .supports = supports,                                               \
        .gemm = gemm,                                                       \
        .matmul = matmul,                                                   \
        .softmax = softmax,                                                 \
        .rnn_layer = rnn_layer,                                             \
        .attention = attention,                                             \
        .seq_attention = seq_attention,                                     \
        .elementwise = elementwise,                                         \
        .argmax = argmax,                                                   \
        .conv1d = conv1d,                                                   \
        .layout = layout,                                                   \
        .layer_norm = layer_norm,                                           \
        .kernel_names = {                                                   \
            [SEQK_OP_GEMM] = "seqk_f32_gemm__" #name_,                      \
            [SEQK_OP_MATMUL] = "seqk_f32_matmul__" #name_,                  \
            [SEQK_OP_SOFTMAX] = "seqk_f32_softmax__" #name_,                \
            [SEQK_OP_RNN_LAYER] = "seqk_f32_rnn_layer__" #name_,            \
            [SEQK_OP_ATTENTION] = "seqk_f32_attention__" #name_,            \
            [SEQK_OP_SEQ_ATTENTION] = "seqk_f32_seq_attention__" #name_,    \
            [SEQK_OP_ELEMENTWISE] = "seqk_f32_elementwise__" #name_,        \
            [SEQK_OP_ARGMAX] = "seqk_f32_argmax__" #name_,                  \
            [SEQK_OP_CONV1D] = "seqk_f32_conv1d__" #name_,                  \
            [SEQK_OP_LAYOUT] = "seqk_layout__cpu",                          \
            [SEQK_OP_LAYER_NORM] = "seqk_f32_layer_norm__" #name_,          \
        },                                                                  \
        .impl = &seqk__cpu_isa_##name_,                                      \
    };

#define SEQK_ISA(name, arch, needs, cflags, title)                          \
    SEQK_ISA_BUILT(arch, CPU_BACKEND(name, title))
#include "cpu_simd/isa.def"

const seqk_cpu_isa *const seqk__cpu_isas[] = {
#define SEQK_ISA(name, arch, needs, cflags, title)                          \
    SEQK_ISA_BUILT(arch, &seqk__cpu_isa_##name, )
#include "cpu_simd/isa.def"
    NULL,
};

const seqk_cpu_isa *seqk__cpu_isa_find(const char *spec)
{
    for (int i = 0; seqk__cpu_isas[i]; i++)
        if (!strcmp(seqk__cpu_isas[i]->spec, spec))
            return seqk__cpu_isas[i];
    return NULL;
}
