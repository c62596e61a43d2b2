/*
 * cmd_run.c — `seqk run`: runs one ONNX-style operator on .npy files.
 *
 *   seqk run <Op> [--device SPEC] [--threads N] -i NAME=PATH.npy ...
 *                 -a attr=VALUE ... -o NAME=PATH.npy ...
 *
 * Inputs, attributes and outputs go by their ONNX names.  The flow is
 *   parse the command line (usage errors: exit 2)
 *   -> create the context -> load the inputs (.npy -> tensors)
 *   -> the op's runner: output shapes, one library call (exit 1 on error)
 *   -> write the requested outputs as float32 .npy.
 * (Inputs and outputs move through run_io.c.)  Every failure prints
 * exactly one line, "seqk run: ...", on stderr naming
 * the input, attribute or output at fault; problems the library detects
 * are passed through from seqk_last_error.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"
#include "commands.h"
#include "run_ops.h"
#include "run_ops_tensor.h"
#include "seqk.h"

/* ------------------------------------------------------------ the tables */

typedef enum attr_type {
    AT_INT, AT_FLOAT, AT_FLOATS, AT_ACTS, AT_ENUM
} attr_type;

typedef struct attr_def {
    const char *name;
    attr_type type;
    int64_t min, max;    /* AT_INT */
    const char *choices; /* AT_ENUM: '|'-separated */
} attr_def;

static const attr_def attr_defs[] = {
    { "hidden_size", AT_INT, 1, INT64_MAX, NULL },
    /* enum choices are listed in the order of the seqk enums */
    { "direction", AT_ENUM, 0, 0, "forward|reverse|bidirectional" },
    { "layout", AT_INT, 0, 1, NULL },
    { "activations", AT_ACTS, 0, 0, NULL },
    { "activation_alpha", AT_FLOATS, 0, 0, NULL },
    { "activation_beta", AT_FLOATS, 0, 0, NULL },
    { "clip", AT_FLOAT, 0, 0, NULL },
    { "input_forget", AT_INT, 0, 1, NULL },
    { "linear_before_reset", AT_INT, 0, 1, NULL },
    { "alpha", AT_FLOAT, 0, 0, NULL },
    { "beta", AT_FLOAT, 0, 0, NULL },
    { "transA", AT_INT, 0, 1, NULL },
    { "transB", AT_INT, 0, 1, NULL },
    { "axis", AT_INT, INT64_MIN, INT64_MAX, NULL },
    { "q_num_heads", AT_INT, 1, INT64_MAX, NULL },
    { "kv_num_heads", AT_INT, 1, INT64_MAX, NULL },
    { "scale", AT_FLOAT, 0, 0, NULL },
    { "softcap", AT_FLOAT, 0, 0, NULL },
    { "is_causal", AT_INT, 0, 1, NULL },
    { "causal_align", AT_ENUM, 0, 0, "top_left|bottom_right" },
    { "score", AT_ENUM, 0, 0,
      "dot|scaled_dot|general|additive|cosine|location" },
    /* in seqk_weight_format order */
    { "weight_format", AT_ENUM, 0, 0, "onnx|pytorch|cudnn|onednn" },
    { "num_layers", AT_INT, 1, MAX_RNN_LAYERS, NULL },
    { "keepdims", AT_INT, 0, 1, NULL },
    { "select_last_index", AT_INT, 0, 1, NULL },
    { "largest", AT_INT, 0, 1, NULL },
    { "sorted", AT_INT, 0, 1, NULL },
};

/* Other spellings taken for an attribute (those of `seqk bench`), and
 * for enum values; help and messages use the ONNX ones. */
static const struct {
    const char *alias, *name;
} attr_aliases[] = {
    { "dir", "direction" },
    { "lbr", "linear_before_reset" },
    { "layers", "num_layers" },
};
static const struct {
    const char *attr, *alias, *value;
} value_aliases[] = {
    { "direction", "fwd", "forward" },
    { "direction", "bi", "bidirectional" },
};
#define NUM_ATTR_DEFS ((int)(sizeof attr_defs / sizeof attr_defs[0]))
_Static_assert(sizeof attr_defs / sizeof attr_defs[0] <= MAX_ATTR_DEFS,
               "run_state.attrs must hold every attribute");

#define RNN_INPUTS { "X", IN_F32, 1 }, { "W", IN_F32, 1 }, \
                   { "R", IN_F32, 1 }, { "B", IN_F32, 0 }, \
                   { "sequence_lens", IN_LENS, 0 }, { "initial_h", IN_F32, 0 }
#define RNN_ATTRS "hidden_size", "direction", "layout", "activations", \
                  "activation_alpha", "activation_beta", "clip", \
                  "weight_format", "num_layers"

static const op_spec op_specs[] = {
    { "LSTM",
      { RNN_INPUTS, { "initial_c", IN_F32, 0 }, { "P", IN_F32, 0 } },
      { RNN_ATTRS, "input_forget" },
      { "Y", "Y_h", "Y_c" }, run_op_rnn },
    { "GRU", { RNN_INPUTS }, { RNN_ATTRS, "linear_before_reset" },
      { "Y", "Y_h" }, run_op_rnn },
    { "RNN", { RNN_INPUTS }, { RNN_ATTRS }, { "Y", "Y_h" }, run_op_rnn },
    { "Gemm",
      { { "A", IN_F32, 1 }, { "B", IN_F32, 1 }, { "C", IN_F32, 0 } },
      { "alpha", "beta", "transA", "transB" }, { "Y" }, run_op_gemm },
    { "MatMul", { { "A", IN_F32, 1 }, { "B", IN_F32, 1 } }, { NULL },
      { "Y" }, run_op_matmul },
    { "Softmax", { { "input", IN_F32, 1 } }, { "axis" }, { "output" },
      run_op_softmax },
    { "Attention",
      { { "Q", IN_F32, 1 }, { "K", IN_F32, 1 }, { "V", IN_F32, 1 },
        { "attn_mask", IN_MASK, 0 } },
      { "q_num_heads", "kv_num_heads", "scale", "is_causal", "softcap",
        "causal_align" },
      { "Y" }, run_op_attention },
    { "SeqAttention",
      { { "query", IN_F32, 1 }, { "keys", IN_F32, 1 },
        { "values", IN_F32, 0 }, { "key_lens", IN_LENS, 0 },
        { "W", IN_F32, 0 }, { "W1", IN_F32, 0 }, { "W2", IN_F32, 0 },
        { "v", IN_F32, 0 }, { "Wloc", IN_F32, 0 } },
      { "score" }, { "context", "weights" }, run_op_seq_attention },
    { "Gather", { { "data", IN_F32, 1 }, { "indices", IN_LENS, 1 } },
      { "axis" }, { "output" }, run_op_gather },
    { "ArgMax", { { "data", IN_F32, 1 } },
      { "axis", "keepdims", "select_last_index" }, { "reduced" },
      run_op_argmax },
    { "TopK", { { "X", IN_F32, 1 }, { "K", IN_LENS, 1 } },
      { "axis", "largest", "sorted" }, { "Values", "Indices" }, run_op_topk },
    { "Concat",
      { { "inputs0", IN_F32, 1 }, { "inputs1", IN_F32, 0 },
        { "inputs2", IN_F32, 0 }, { "inputs3", IN_F32, 0 },
        { "inputs4", IN_F32, 0 }, { "inputs5", IN_F32, 0 },
        { "inputs6", IN_F32, 0 }, { "inputs7", IN_F32, 0 } },
      { "axis" }, { "concat_result" }, run_op_concat },
    { "Add", { { "A", IN_F32, 1 }, { "B", IN_F32, 1 } }, { NULL }, { "C" },
      run_op_elementwise },
    { "Sub", { { "A", IN_F32, 1 }, { "B", IN_F32, 1 } }, { NULL }, { "C" },
      run_op_elementwise },
    { "Mul", { { "A", IN_F32, 1 }, { "B", IN_F32, 1 } }, { NULL }, { "C" },
      run_op_elementwise },
    { "Div", { { "A", IN_F32, 1 }, { "B", IN_F32, 1 } }, { NULL }, { "C" },
      run_op_elementwise },
    { "Tanh", { { "input", IN_F32, 1 } }, { NULL }, { "output" },
      run_op_elementwise },
    { "Sigmoid", { { "X", IN_F32, 1 } }, { NULL }, { "Y" },
      run_op_elementwise },
    { "Relu", { { "X", IN_F32, 1 } }, { NULL }, { "Y" }, run_op_elementwise },
    { "Exp", { { "input", IN_F32, 1 } }, { NULL }, { "output" },
      run_op_elementwise },
    { "Neg", { { "X", IN_F32, 1 } }, { NULL }, { "Y" }, run_op_elementwise },
};
#define NUM_OPS ((int)(sizeof op_specs / sizeof op_specs[0]))

int run_fail(int code, const char *fmt, ...)
{
    va_list ap;
    fputs("seqk run: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return code;
}

/* A library call failed: pass its message through. */
int run_lib_fail(const run_state *st)
{
    const char *msg = seqk_last_error(st->ctx);
    size_t n = strlen(st->op->name);
    /* Some messages already start with the op's name. */
    if (strncmp(msg, st->op->name, n) == 0 && msg[n] == ':')
        return run_fail(1, "%s", msg);
    return run_fail(1, "%s: %s", st->op->name, msg);
}

static int find_input(const op_spec *op, const char *name)
{
    for (int i = 0; i < MAX_OP_INPUTS && op->inputs[i].name; i++)
        if (strcmp(op->inputs[i].name, name) == 0)
            return i;
    return -1;
}

static int find_output(const op_spec *op, const char *name)
{
    for (int i = 0; i < MAX_OP_OUTPUTS && op->outputs[i]; i++)
        if (strcmp(op->outputs[i], name) == 0)
            return i;
    return -1;
}

static int find_attr_def(const char *name)
{
    for (size_t a = 0; a < sizeof attr_aliases / sizeof attr_aliases[0]; a++)
        if (strcmp(attr_aliases[a].alias, name) == 0)
            name = attr_aliases[a].name;
    for (int i = 0; i < NUM_ATTR_DEFS; i++)
        if (strcmp(attr_defs[i].name, name) == 0)
            return i;
    return -1;
}

static int op_has_attr(const op_spec *op, const char *name)
{
    for (int i = 0; i < MAX_OP_ATTRS && op->attrs[i]; i++)
        if (strcmp(op->attrs[i], name) == 0)
            return 1;
    return 0;
}

/* The tensor given for an input, or NULL when it was not given. */
seqk_tensor *run_input(const run_state *st, const char *name)
{
    int i = find_input(st->op, name);
    return i >= 0 ? st->in[i] : NULL;
}

const attr_val *run_attr(const run_state *st, const char *name)
{
    int i = find_attr_def(name);
    return i >= 0 && st->attrs[i].set ? &st->attrs[i] : NULL;
}

int64_t run_attr_int(const run_state *st, const char *name, int64_t def)
{
    const attr_val *a = run_attr(st, name);
    return a ? a->i : def;
}

float run_attr_float(const run_state *st, const char *name, float def)
{
    const attr_val *a = run_attr(st, name);
    return a ? a->f : def;
}

int run_wants(const run_state *st, const char *output)
{
    int i = find_output(st->op, output);
    return i >= 0 && st->out_path[i] != NULL;
}

const char *run_shape_str(const seqk_tensor *t, char *buf, size_t len)
{
    size_t n = 0;
    int nd = seqk_tensor_ndim(t);
    buf[0] = '\0';
    n += (size_t)snprintf(buf, len, "[");
    for (int i = 0; i < nd && n < len; i++)
        n += (size_t)snprintf(buf + n, len - n, i ? ",%lld" : "%lld",
                              (long long)seqk_tensor_dim(t, i));
    if (n < len)
        snprintf(buf + n, len - n, "]");
    return buf;
}

/* Checks t's rank; names it and what the op needs otherwise. */
int run_need_rank(const run_state *st, const char *name, const seqk_tensor *t,
                  int ndim, const char *layout)
{
    char s[160];
    if (seqk_tensor_ndim(t) == ndim)
        return 0;
    return run_fail(1, "%s: %s has shape %s but must be %d-D %s", st->op->name,
                    name, run_shape_str(t, s, sizeof s), ndim, layout);
}

/* Creates an output tensor of shape dims and records it under its name. */
int run_make_output(run_state *st, const char *name, int ndim,
                    const int64_t *dims, seqk_tensor **t)
{
    int i = find_output(st->op, name);
    if (seqk_tensor_create(st->ctx, ndim, dims, SEQK_F32, &st->out[i]))
        return run_fail(1, "output %s: %s", name, seqk_last_error(st->ctx));
    *t = st->out[i];
    return 0;
}

/* ------------------------------------------------------------ attributes */

static int parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return 1;
    *out = v;
    return 0;
}

static int parse_float(const char *s, float *out)
{
    char *end;
    errno = 0;
    float v = strtof(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v))
        return 1;
    *out = v;
    return 0;
}

/* Splits a comma list into items (trimmed, in buf); returns the count or
 * -1 when an item is empty or there are too many. */
static int split_list(const char *text, char *buf, size_t len,
                      char *items[MAX_LIST])
{
    int n = 0;
    if (strlen(text) >= len)
        return -1;
    snprintf(buf, len, "%s", text);
    for (char *p = buf;;) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma = '\0';
        while (*p == ' ')
            p++;
        char *e = p + strlen(p);
        while (e > p && e[-1] == ' ')
            *--e = '\0';
        if (*p == '\0' || n == MAX_LIST)
            return -1;
        items[n++] = p;
        if (!comma)
            return n;
        p = comma + 1;
    }
}

static void list_activations(char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int k = 0; k < SEQK_ACT_COUNT_ && n < len; k++)
        n += (size_t)snprintf(buf + n, len - n, "%s%s", k ? ", " : "",
                              seqk_act_name((seqk_act_kind)k));
}

/* Parses text as attribute def into v; a usage error (exit 2) if bad. */
static int parse_attr(const attr_def *def, const char *text, attr_val *v)
{
    char buf[512], *items[MAX_LIST];
    v->set = 1;
    v->text = text;
    switch (def->type) {
    case AT_INT:
        if (parse_int(text, &v->i))
            return run_fail(2, "attribute %s: expected an integer, got '%s'",
                            def->name, text);
        if (v->i < def->min || v->i > def->max) {
            if (def->min == 0 && def->max == 1)
                return run_fail(2, "attribute %s: expected 0 or 1, got '%s'",
                                def->name, text);
            return run_fail(2,
                            "attribute %s: expected an integer >= %lld, "
                            "got '%s'",
                            def->name, (long long)def->min, text);
        }
        return 0;
    case AT_FLOAT:
        if (parse_float(text, &v->f))
            return run_fail(2, "attribute %s: expected a number, got '%s'",
                            def->name, text);
        return 0;
    case AT_FLOATS:
        v->n = split_list(text, buf, sizeof buf, items);
        if (v->n < 0)
            return run_fail(2,
                            "attribute %s: expected up to %d comma-separated "
                            "numbers, got '%s'",
                            def->name, MAX_LIST, text);
        for (int k = 0; k < v->n; k++)
            if (parse_float(items[k], &v->list[k]))
                return run_fail(2, "attribute %s: '%s' is not a number",
                                def->name, items[k]);
        return 0;
    case AT_ACTS:
        v->n = split_list(text, buf, sizeof buf, items);
        if (v->n < 0 || v->n > SEQK_RNN_MAX_ACTIVATIONS)
            return run_fail(2,
                            "attribute %s: expected 1 to %d comma-separated "
                            "activation names, got '%s'",
                            def->name, SEQK_RNN_MAX_ACTIVATIONS, text);
        for (int k = 0; k < v->n; k++) {
            v->acts[k] = seqk_act_from_name(items[k]);
            if (v->acts[k] < 0) {
                char names[256];
                list_activations(names, sizeof names);
                return run_fail(2,
                                "attribute %s: unknown activation '%s' "
                                "(expected one of %s)",
                                def->name, items[k], names);
            }
        }
        return 0;
    case AT_ENUM: {
        const char *c = def->choices;
        for (size_t a = 0; a < sizeof value_aliases / sizeof value_aliases[0];
             a++)
            if (!strcmp(value_aliases[a].attr, def->name) &&
                !strcmp(value_aliases[a].alias, text))
                text = value_aliases[a].value;
        for (int k = 0; *c; k++) {
            size_t len = strcspn(c, "|");
            if (strlen(text) == len && strncmp(text, c, len) == 0) {
                v->choice = k;
                return 0;
            }
            c += len + (c[len] == '|');
        }
        return run_fail(2, "attribute %s: expected one of %s, got '%s'",
                        def->name, def->choices, text);
    }
    }
    return run_fail(2, "attribute %s: internal error", def->name);
}

/* -------------------------------------------------------- command line */

/* Prints words after a label, wrapping at 79 columns under the label. */
static void print_words(FILE *f, const char *label, const char *const *words,
                        const char *suffix_if_required, const int *required)
{
    int col = fprintf(f, "    %-12s", label);
    const int indent = col;
    if (!words[0])
        fputs("(none)", f);
    for (int i = 0; words[i]; i++) {
        int len = (int)strlen(words[i]) +
                  (required && required[i] ? (int)strlen(suffix_if_required)
                                           : 0);
        if (i && col + 1 + len > 79) {
            fprintf(f, "\n%*s", indent, "");
            col = indent;
        } else if (i) {
            fputc(' ', f);
            col++;
        }
        fprintf(f, "%s%s", words[i],
                required && required[i] ? suffix_if_required : "");
        col += len;
    }
    fputc('\n', f);
}

static void print_help(FILE *f)
{
    fputs("usage: seqk run <Op> [--device SPEC] [--threads N] "
          "-i NAME=PATH.npy ...\n"
          "                -a attr=VALUE ... -o NAME=PATH.npy ...\n"
          "\n"
          "Runs one ONNX operator on .npy files.  Inputs, attributes and "
          "outputs go by\ntheir ONNX names.  Inputs are float32 C-order "
          ".npy; sequence_lens and key_lens\nmay be int32 or int64; "
          "attn_mask is bool (true = attend) or float32 (added).\n"
          "Attributes: numbers as decimal text, lists comma-separated\n"
          "(-a activations=Sigmoid,Tanh,Tanh).  Only the outputs named "
          "with -o are\nwritten, as float32 .npy (int64 for ArgMax and "
          "TopK indices).\n"
          "\n"
          "float64 .npy (numpy's default) is refused with the fix: "
          "x.astype(np.float32).\n"
          "\n"
          "  --device SPEC   ref, cpu, avx2, avx512, neon, opencl, "
          "opencl:P.D, auto\n"
          "                  (default: $SEQK_DEVICE, else auto)\n"
          "  --threads N     threads (0: the library default; more than "
          "the cores\n"
          "                  is allowed, with a warning)\n"
          "\n"
          "Exit status: 0 success, 1 bad input data or failure, "
          "2 usage error\n(incl. a device spec naming no usable "
          "device).\n"
          "\nOps (* = required input):\n",
          f);
    for (int o = 0; o < NUM_OPS; o++) {
        const op_spec *op = &op_specs[o];
        const char *names[MAX_OP_INPUTS + 1] = { NULL };
        int required[MAX_OP_INPUTS] = { 0 };
        for (int i = 0; i < MAX_OP_INPUTS && op->inputs[i].name; i++) {
            names[i] = op->inputs[i].name;
            required[i] = op->inputs[i].required;
        }
        const char *attrs[MAX_OP_ATTRS + 1] = { NULL };
        memcpy(attrs, op->attrs, sizeof op->attrs);
        const char *outs[MAX_OP_OUTPUTS + 1] = { NULL };
        memcpy(outs, op->outputs, sizeof op->outputs);
        fprintf(f, "  %s\n", op->name);
        print_words(f, "inputs:", names, "*", required);
        print_words(f, "attributes:", attrs, "", NULL);
        print_words(f, "outputs:", outs, "", NULL);
    }
    fputs("\nAttribute values:\n"
          "  direction     forward | reverse | bidirectional\n"
          "  layout        0 ([T,B,I]) | 1 ([B,T,I])\n"
          "  activations   Relu, Tanh, Sigmoid, Affine, LeakyRelu, "
          "ThresholdedRelu,\n"
          "                ScaledTanh, HardSigmoid, Elu, Softsign, "
          "Softplus\n"
          "  activation_alpha, activation_beta\n"
          "                used in order by the activations that read "
          "them\n"
          "  hidden_size   inferred from R when absent\n"
          "  weight_format onnx (default) | pytorch | cudnn | onednn "
          "(seqk extension):\n"
          "                W, R, B in that library's gate order and "
          "layout (README,\n"
          "                \"Weights from other libraries\"); pytorch "
          "and cudnn GRU\n"
          "                weights mean linear_before_reset=1, the "
          "default with them.\n"
          "                ONNX-format GRU weights exported from PyTorch "
          "need\n"
          "                -a linear_before_reset=1 (it cannot be told "
          "from the numbers)\n"
          "  num_layers    stacked layers (seqk extension, default 1, "
          "at most 64): layer\n"
          "                l >= 1 takes -i W_l<l>=, R_l<l>= (required), "
          "B_l<l>=, P_l<l>=\n"
          "                with input size D*H; initial_h/Y_h hold "
          "[L*D,B,H]\n"
          "  also taken:   dir=fwd|bi, lbr=0|1, layers=L (the spellings "
          "of seqk bench)\n"
          "  causal_align  top_left (default) | bottom_right  "
          "(seqk extension)\n"
          "  score         dot (default) | scaled_dot | general (needs W) "
          "|\n"
          "                additive (W1, W2, v) | cosine | location "
          "(Wloc)\n"
          "\nOutput shapes:\n"
          "  LSTM/GRU/RNN  Y [T,D,B,H], Y_h/Y_c [L*D,B,H]; layout=1: "
          "[B,T,D,H],\n"
          "                [B,L*D,H]\n"
          "  Gemm [M,N]; MatMul as numpy.matmul; Softmax as its input\n"
          "  Attention     Y [B,Sq,Hq*Dv] (3-D) or [B,Hq,Sq,Dv] (4-D)\n"
          "  SeqAttention  context [B,Dv], weights [B,S]\n",
          f);
}

static void list_names(const op_spec *op, int what, char *buf, size_t len)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; n < len; i++) {
        const char *name = NULL;
        if (what == 0 && i < MAX_OP_INPUTS)
            name = op->inputs[i].name;
        else if (what == 1 && i < MAX_OP_ATTRS)
            name = op->attrs[i];
        else if (what == 2 && i < MAX_OP_OUTPUTS)
            name = op->outputs[i];
        if (!name)
            break;
        n += (size_t)snprintf(buf + n, len - n, "%s%s", i ? ", " : "", name);
    }
    if (!buf[0])
        snprintf(buf, len, "none");
}

static const op_spec *find_op(const char *name)
{
    for (int o = 0; o < NUM_OPS; o++)
        if (strcmp(op_specs[o].name, name) == 0)
            return &op_specs[o];
    return NULL;
}

/* "NAME=VALUE" into name (buf) and value; 1 if malformed. */
static int split_pair(const char *arg, char *name, size_t len,
                      const char **value)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg || eq[1] == '\0' || (size_t)(eq - arg) >= len)
        return 1;
    memcpy(name, arg, (size_t)(eq - arg));
    name[eq - arg] = '\0';
    *value = eq + 1;
    return 0;
}

/* "W_l3" -> which = LW_W, layer = 3; 0 if name is no such name. */
static int parse_layer_name(const char *name, int *which, long *layer)
{
    static const char prefix[LW_COUNT] = { 'W', 'R', 'B', 'P' };
    char *end = NULL;
    if (!name[0] || strncmp(name + 1, "_l", 2) != 0 || name[3] < '0' ||
        name[3] > '9')
        return 0;
    for (int w = 0; w < LW_COUNT; w++)
        if (name[0] == prefix[w]) {
            *which = w;
            *layer = strtol(name + 3, &end, 10);
            return *end == '\0';
        }
    return 0;
}

/* -i W_l<k>=PATH for an RNN op: records it; -1 when name is not a layer
 * input (or the op no RNN), else 0 or the exit code of a usage error. */
static int layer_input(run_state *st, const char *name, const char *path)
{
    int w;
    long l;
    if (st->op->run != run_op_rnn || !parse_layer_name(name, &w, &l))
        return -1;
    if (l == 0)
        return run_fail(2, "input %s: layer 0's weights are %c (-i %c=PATH)",
                        name, name[0], name[0]);
    if (l >= MAX_RNN_LAYERS)
        return run_fail(2, "input %s: layer %ld is beyond the %d layers "
                        "seqk run takes", name, l, MAX_RNN_LAYERS);
    if (st->layer_path[l][w])
        return run_fail(2, "input %s given twice", name);
    st->layer_path[l][w] = path;
    return 0;
}

/* Fills st from argv; returns -1 to go on, else the exit code. */
static int parse_args(int argc, char **argv, run_state *st)
{
    const char *op_name = NULL;
    char list[256];

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            print_help(stdout);
            return 0;
        }
    /* The op first, so that every name can be checked against it. */
    if (argc < 2 || argv[1][0] == '-')
        return run_fail(2,
                        "missing op: seqk run <Op> ... (try seqk run --help)");
    op_name = argv[1];
    st->op = find_op(op_name);
    if (!st->op) {
        for (int o = 0; o < NUM_OPS; o++)
            if (strcasecmp(op_specs[o].name, op_name) == 0)
                return run_fail(2, "unknown op '%s' (did you mean %s?)",
                                op_name, op_specs[o].name);
        char names[512] = "";
        for (int o = 0; o < NUM_OPS; o++) {
            size_t n = strlen(names);
            snprintf(names + n, sizeof names - n, "%s%s", o ? ", " : "",
                     op_specs[o].name);
        }
        return run_fail(2, "unknown op '%s' (expected one of: %s)", op_name,
                        names);
    }
    const op_spec *op = st->op;

    for (int i = 2; i < argc; i++) {
        const char *opt = argv[i];
        const char *arg = NULL;
        if (!strncmp(opt, "--device=", 9)) {
            st->device = opt + 9;
            continue;
        }
        if (!strncmp(opt, "--threads=", 10)) {
            if (cli_parse_threads("run", opt + 10, &st->threads))
                return 2;
            continue;
        }
        if (!strcmp(opt, "--threads")) {
            if (cli_parse_threads("run", i + 1 < argc ? argv[++i] : "",
                                  &st->threads))
                return 2;
            continue;
        }
        int is_dev = !strcmp(opt, "--device");
        int is_in = !strcmp(opt, "-i") || !strcmp(opt, "--input");
        int is_attr = !strcmp(opt, "-a") || !strcmp(opt, "--attr");
        int is_out = !strcmp(opt, "-o") || !strcmp(opt, "--output");
        if (!is_dev && !is_in && !is_attr && !is_out) {
            if (opt[0] == '-')
                return run_fail(2, "unknown option '%s' (try seqk run --help)",
                                opt);
            return run_fail(2,
                            "unexpected argument '%s' (inputs go as "
                            "-i NAME=PATH)",
                            opt);
        }
        if (i + 1 >= argc)
            return run_fail(2, "%s needs a value%s", opt,
                            is_dev    ? ""
                            : is_attr ? " (attr=VALUE)"
                                      : " (NAME=PATH.npy)");
        arg = argv[++i];
        if (is_dev) {
            st->device = arg;
            continue;
        }
        char name[64];
        const char *value;
        if (split_pair(arg, name, sizeof name, &value))
            return run_fail(2, "%s expects %s, got '%s'", opt,
                            is_attr ? "attr=VALUE" : "NAME=PATH.npy", arg);
        if (is_in) {
            int k = find_input(op, name);
            int rc = k < 0 ? layer_input(st, name, value) : -1;
            if (rc > 0)
                return rc;
            if (rc == 0)
                continue;
            if (k < 0) {
                list_names(op, 0, list, sizeof list);
                return run_fail(2, "%s has no input '%s' (inputs: %s)",
                                op->name, name, list);
            }
            if (st->in_path[k])
                return run_fail(2, "input %s given twice", name);
            st->in_path[k] = value;
        } else if (is_attr) {
            int k = find_attr_def(name);
            if (k < 0 || !op_has_attr(op, attr_defs[k].name)) {
                list_names(op, 1, list, sizeof list);
                return run_fail(2, "%s has no attribute '%s' (attributes: %s)",
                                op->name, name, list);
            }
            if (st->attrs[k].set)
                return run_fail(2, "attribute %s given twice",
                                attr_defs[k].name);
            int rc = parse_attr(&attr_defs[k], value, &st->attrs[k]);
            if (rc)
                return rc;
        } else {
            int k = find_output(op, name);
            if (k < 0) {
                list_names(op, 2, list, sizeof list);
                return run_fail(2, "%s has no output '%s' (outputs: %s)",
                                op->name, name, list);
            }
            if (st->out_path[k])
                return run_fail(2, "output %s given twice", name);
            st->out_path[k] = value;
        }
    }

    for (int k = 0; k < MAX_OP_INPUTS && op->inputs[k].name; k++)
        if (op->inputs[k].required && !st->in_path[k])
            return run_fail(2, "%s needs input %s (-i %s=PATH.npy)", op->name,
                            op->inputs[k].name, op->inputs[k].name);
    int any_out = 0;
    for (int k = 0; k < MAX_OP_OUTPUTS; k++)
        any_out |= st->out_path[k] != NULL;
    if (!any_out)
        return run_fail(2, "no outputs requested (-o NAME=PATH)");
    return -1;
}

/* ---------------------------------------------------------------- main */

int seqk_cmd_run(int argc, char **argv)
{
    if (argc >= 2 && seqk_is_model_path(argv[1]))
        return seqk_cmd_model_run(argc, argv);
    run_state st;
    memset(&st, 0, sizeof st);
    int rc = parse_args(argc, argv, &st);
    if (rc >= 0)
        return rc;

    seqk_options opts;
    seqk_options_init(&opts);
    opts.device = st.device;
    opts.threads = st.threads;
    seqk_status s = seqk_context_create(&opts, &st.ctx);
    if (s) {
        /* A device spec that names nothing is the user's to fix. */
        return run_fail(cli_device_exit_code(s), "device %s: %s",
                        st.device ? st.device : "(default)",
                        seqk_last_error(NULL));
    }

    rc = run_load_inputs(&st);
    if (!rc)
        rc = st.op->run(&st);
    if (!rc)
        rc = run_write_outputs(&st);

    for (int k = 0; k < MAX_OP_INPUTS; k++)
        seqk_tensor_destroy(st.in[k]);
    for (int l = 0; l < MAX_RNN_LAYERS; l++)
        for (int w = 0; w < LW_COUNT; w++)
            seqk_tensor_destroy(st.layer_in[l][w]);
    for (int k = 0; k < MAX_OP_OUTPUTS; k++)
        seqk_tensor_destroy(st.out[k]);
    seqk_context_destroy(st.ctx);
    return rc;
}
