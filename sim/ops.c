/*
 * ops.c - the operator table, cost functions and op_exec (see ops.h).
 *
 * Each row of op_table names an operator, its class rule, its cost function and its
 * kernel. Cost functions read exactly the OpArgs the kernel is called with.
 */
#include "ops.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "kernels_int.h"

#define CLASS_INHERIT CLASS_COUNT /* MAC operators take the class of their module */

typedef OpCost (*CostFn)(const Run *r, const OpArgs *a);
typedef void (*RunFn)(const OpArgs *a);
typedef const char *(*CheckFn)(const OpArgs *a);

typedef struct {
    const char *name;
    OpClass cls; /* fixed class, or CLASS_INHERIT */
    int gemm;    /* a matrix product (its time is GEMM time) */
    CheckFn check;
    CostFn cost;
    RunFn run;
} OpInfo;

static uint64_t u64(int64_t v) { return v > 0 ? (uint64_t)v : 0u; }
static uint64_t nbytes(Tensor t) { return u64(t.rows) * u64(t.cols) * 4u; }
static int has_bias(const OpArgs *a) { return a->b.cols > 0; }
static int64_t heads_or_1(const OpArgs *a) { return a->heads > 0 ? a->heads : 1; }

/* ---- linear ---- */

/* out-features N and in-features K of the weight */
static int64_t lin_n(const OpArgs *a) { return a->w_trans ? a->w.cols : a->w.rows; }
static int64_t lin_k(const OpArgs *a) { return a->w_trans ? a->w.rows : a->w.cols; }

static const char *linear_check(const OpArgs *a) {
    if (a->x.cols != lin_k(a)) return "input width differs from the weight's in-features";
    if (a->y.rows != a->x.rows || a->y.cols != lin_n(a)) return "output shape differs";
    if (has_bias(a) && (a->b.cols != lin_n(a) || a->w_trans)) return "bias width differs";
    return NULL;
}

static OpCost linear_cost(const Run *r, const OpArgs *a) {
    (void)r;
    uint64_t M = u64(a->x.rows), N = u64(lin_n(a)), K = u64(lin_k(a));
    OpCost c = {0};
    c.macs = M * N * K; /* exactly the M, N, K handed to the BLAS (sgemm or sgemv) */
    c.other_flops = has_bias(a) ? M * N : 0;
    c.params = N * K + (has_bias(a) ? N : 0);
    c.weight_bytes = a->w_storage ? a->w_storage + (has_bias(a) ? N * 4u : 0) : c.params * 4u;
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void linear_run(const OpArgs *a) {
    if (a->wq != NULL) {
        kern_linear_q8(a->x.rows, a->w.rows, a->w.cols, a->x.data, a->x.ld, a->wq, a->wqs,
                       has_bias(a) ? a->b.data : NULL, a->y.data, a->y.ld, a->wtile, OPS_QTILE);
        return;
    }
    if (a->w_trans) {
        kern_linear_t(a->x.rows, a->w.cols, a->w.rows, a->x.data, a->x.ld, a->w.data, a->w.ld,
                      a->y.data, a->y.ld);
        return;
    }
    kern_linear(a->x.rows, a->w.rows, a->w.cols, a->x.data, a->x.ld, a->w.data,
                has_bias(a) ? a->b.data : NULL, a->y.data, a->y.ld);
}

/* ---- attention scores and weighted sum ---- */

/* (query, key) pairs that are counted: causal self-attention counts the pairs a query at
 * absolute position q0+i can see (min(q0+i+1, Tk)) unless --attn-macs full. */
static uint64_t attn_pairs(const Run *r, const OpArgs *a, int64_t Tq, int64_t Tk) {
    if (!a->causal || r->conv.attn_macs == ATTN_MACS_FULL) return u64(Tq) * u64(Tk);
    uint64_t p = 0;
    for (int64_t i = 0; i < Tq; i++) {
        int64_t n = a->q0 + i + 1;
        p += u64(n < Tk ? n : Tk);
    }
    return p;
}

static const char *scores_check(const OpArgs *a) {
    int64_t H = heads_or_1(a);
    if (a->x.cols != a->x2.cols) return "query and key widths differ";
    if (a->x.cols % H != 0) return "heads do not divide the width";
    if (a->y.rows != H * a->x.rows || a->y.cols != a->x2.rows) return "score shape differs";
    return NULL;
}

static OpCost scores_cost(const Run *r, const OpArgs *a) {
    OpCost c = {0};
    uint64_t pairs = attn_pairs(r, a, a->x.rows, a->x2.rows);
    c.macs = pairs * u64(a->x.cols); /* H heads x pairs x head width */
    c.other_flops = nbytes(a->x) / 4u; /* q scaling */
    c.act_bytes_read = nbytes(a->x) + nbytes(a->x2);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void scores_run(const OpArgs *a) {
    int64_t H = heads_or_1(a), Tq = a->x.rows, Tk = a->x2.rows, R = a->x.cols / H;
    for (int64_t h = 0; h < H; h++)
        kern_matmul_nt(Tq, Tk, R, a->scale, a->x.data + h * R, a->x.ld, a->x2.data + h * R,
                       a->x2.ld, a->y.data + h * Tq * a->y.ld, a->y.ld);
}

static const char *weighted_check(const OpArgs *a) {
    int64_t H = heads_or_1(a);
    if (a->x.rows != H * a->y.rows) return "probability rows differ from heads x queries";
    if (a->x.cols != a->x2.rows) return "probability columns differ from the value rows";
    if (a->x2.cols != a->y.cols || a->y.cols % H != 0) return "value width differs";
    return NULL;
}

static OpCost weighted_cost(const Run *r, const OpArgs *a) {
    OpCost c = {0};
    uint64_t pairs = attn_pairs(r, a, a->y.rows, a->x2.rows);
    c.macs = pairs * u64(a->y.cols);
    c.act_bytes_read = nbytes(a->x) + nbytes(a->x2);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void weighted_run(const OpArgs *a) {
    int64_t H = heads_or_1(a), Tq = a->y.rows, Tk = a->x2.rows, R = a->y.cols / H;
    for (int64_t h = 0; h < H; h++)
        kern_matmul_nn(Tq, R, Tk, a->x.data + h * Tq * a->x.ld, a->x.ld, a->x2.data + h * R,
                       a->x2.ld, a->y.data + h * R, a->y.ld);
}

/* ---- softmax ---- */

static const char *softmax_check(const OpArgs *a) {
    if (a->x.rows % heads_or_1(a) != 0) return "head blocks do not divide the rows";
    return NULL;
}

static OpCost softmax_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    int64_t H = heads_or_1(a), M = a->x.rows / H, N = a->x.cols;
    uint64_t visible = 0;
    for (int64_t i = 0; i < M; i++) {
        int64_t n = a->causal ? a->q0 + i + 1 : N;
        visible += u64(n < N ? n : N);
    }
    visible *= u64(H);
    c.other_flops = 4u * visible;
    if (a->x_is_param) {
        c.params = u64(a->x.rows) * u64(a->x.cols);
        c.weight_bytes = nbytes(a->x);
    } else {
        c.act_bytes_read = nbytes(a->x);
    }
    c.bytes_written = nbytes(a->y);
    return c;
}

static void softmax_run(const OpArgs *a) {
    int64_t H = heads_or_1(a), M = a->x.rows / H;
    if (a->y.data != a->x.data)
        for (int64_t i = 0; i < a->x.rows; i++)
            memcpy(a->y.data + i * a->y.ld, a->x.data + i * a->x.ld,
                   (size_t)a->x.cols * sizeof(float));
    for (int64_t h = 0; h < H; h++)
        kern_softmax_rows(a->y.data + h * M * a->y.ld, M, a->y.cols, a->y.ld, a->causal, a->q0,
                          a->keep);
}

/* ---- layer norm, add, activations, GLU ---- */

static int same_shape(Tensor p, Tensor q) { return p.rows == q.rows && p.cols == q.cols; }

static const char *layernorm_check(const OpArgs *a) {
    if (!same_shape(a->x, a->y)) return "output shape differs";
    if (a->w.cols != a->x.cols || a->b.cols != a->x.cols) return "gain/shift width differs";
    return NULL;
}

static OpCost layernorm_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.other_flops = 8u * (nbytes(a->x) / 4u);
    c.params = 2u * u64(a->x.cols);
    c.weight_bytes = c.params * 4u;
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void layernorm_run(const OpArgs *a) {
    kern_layernorm(a->x.data, a->x.ld, a->x.rows, a->x.cols, a->w.data, a->b.data,
                   a->eps > 0.0f ? a->eps : 1e-5f, a->y.data, a->y.ld);
}

static const char *add_check(const OpArgs *a) {
    if (!same_shape(a->x, a->x2) || !same_shape(a->x, a->y)) return "operand shapes differ";
    return NULL;
}

static OpCost add_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.other_flops = nbytes(a->x) / 4u;
    c.act_bytes_read = nbytes(a->x) + nbytes(a->x2);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void add_run(const OpArgs *a) {
    kern_add(a->x.data, a->x.ld, a->x2.data, a->x2.ld, a->x.rows, a->x.cols, a->y.data, a->y.ld);
}

static const char *inplace_check(const OpArgs *a) {
    (void)a;
    return NULL;
}

static OpCost act_cost_rate(const OpArgs *a, uint64_t rate) {
    OpCost c = {0};
    c.other_flops = rate * (nbytes(a->x) / 4u);
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->x);
    return c;
}

static OpCost relu_cost(const Run *r, const OpArgs *a) {
    (void)r;
    return act_cost_rate(a, 1);
}

static OpCost gelu_cost(const Run *r, const OpArgs *a) {
    (void)r;
    return act_cost_rate(a, 8);
}

static void relu_run(const OpArgs *a) { kern_relu(a->x.data, a->x.rows, a->x.cols, a->x.ld); }
static void gelu_run(const OpArgs *a) { kern_gelu(a->x.data, a->x.rows, a->x.cols, a->x.ld); }

static const char *glu_check(const OpArgs *a) {
    if (a->x.rows != a->y.rows || a->x.cols != 2 * a->y.cols) return "GLU needs (M,2C) -> (M,C)";
    return NULL;
}

static OpCost glu_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.other_flops = 5u * (nbytes(a->y) / 4u);
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void glu_run(const OpArgs *a) {
    kern_glu(a->x.data, a->x.ld, a->x.rows, a->y.cols, a->y.data, a->y.ld);
}

/* ---- convolutions over head groups (Lite dynamic / lightweight branches) ---- */

static const char *conv_check_common(const OpArgs *a) {
    int64_t H = heads_or_1(a);
    if (a->x.cols != a->y.cols) return "output channels differ from input";
    if (a->q0 < 0 || a->q0 + a->y.rows > a->x.rows) return "output positions outside the window";
    if (a->x.cols % H != 0) return "heads do not divide the channels";
    if (a->kw < 1 || a->pad < 0 || a->pad >= a->kw) return "padding outside [0, K)";
    return NULL;
}

static const char *dynconv_check(const OpArgs *a) {
    const char *m = conv_check_common(a);
    if (m) return m;
    if (a->w.rows != a->y.rows || a->w.cols != heads_or_1(a) * a->kw) return "filters (n, H*K)";
    return NULL;
}

static const char *lightconv_check(const OpArgs *a) {
    const char *m = conv_check_common(a);
    if (m) return m;
    if (a->w.rows != heads_or_1(a) || a->w.cols != a->kw || a->w.ld != a->kw)
        return "filter is not a packed (H, K)";
    return NULL;
}

/* Taps inside [0, L) summed over the output positions t0 .. t0+n-1 (what the kernel runs). */
static uint64_t valid_taps(int64_t L, int64_t KW, int64_t P, int64_t t0, int64_t n) {
    uint64_t v = 0;
    for (int64_t t = t0; t < t0 + n; t++) {
        int64_t k0 = P - t > 0 ? P - t : 0;
        int64_t k1 = L - t + P < KW ? L - t + P : KW;
        if (k1 > k0) v += u64(k1 - k0);
    }
    return v;
}

static uint64_t conv_macs(const Run *r, const OpArgs *a) {
    uint64_t L = u64(a->x.rows), n = u64(a->y.rows), C = u64(a->x.cols), K = u64(a->kw);
    switch (r->conv.conv_macs) {
    case CONV_MACS_TAPS: return n * C * K;
    case CONV_MACS_VALID: return valid_taps(a->x.rows, a->kw, a->pad, a->q0, a->y.rows) * C;
    case CONV_MACS_BAND: return L * n * C; /* a forward pass: the L x L band product */
    case CONV_MACS_NONE: return 0;
    }
    return n * C * K;
}

static OpCost conv_cost(const Run *r, const OpArgs *a) {
    OpCost c = {0};
    c.macs = conv_macs(r, a);
    c.act_bytes_read = nbytes(a->x);
    if (a->w_is_param) {
        c.params = u64(a->w.rows) * u64(a->w.cols);
        c.weight_bytes = nbytes(a->w);
    } else {
        c.act_bytes_read += nbytes(a->w);
    }
    c.bytes_written = nbytes(a->y);
    return c;
}

static void dynconv_run(const OpArgs *a) {
    kern_conv_heads(a->x.data, a->x.ld, a->x.rows, a->x.cols, heads_or_1(a), a->kw, a->pad,
                    a->w.data, a->w.ld, a->y.data, a->y.ld, a->q0, a->y.rows);
}

static void lightconv_run(const OpArgs *a) {
    /* a static (H, K) filter: row stride 0 over positions */
    kern_conv_heads(a->x.data, a->x.ld, a->x.rows, a->x.cols, heads_or_1(a), a->kw, a->pad,
                    a->w.data, 0, a->y.data, a->y.ld, a->q0, a->y.rows);
}

/* ---- tensor2tensor's convolutions (Evolved Transformer) ---- */

static const char *window_check(const OpArgs *a) {
    if (a->q0 < 0 || a->q0 + a->y.rows > a->x.rows) return "output positions outside the window";
    if (a->kw < 1 || a->pad < 0 || a->pad >= a->kw) return "padding outside [0, K)";
    return NULL;
}

static const char *depthwise_check(const OpArgs *a) {
    const char *m = window_check(a);
    if (m) return m;
    if (a->x.cols != a->y.cols) return "output channels differ from input";
    if (a->w.rows != a->kw || a->w.cols != a->x.cols || a->w.ld != a->w.cols)
        return "filter is not a packed (K, C)";
    return NULL;
}

/* Taps counted for ET's convolutions: `valid` counts the in-sequence taps; every other
 * convention counts all K (band and none do not apply to them, see ops.h). */
static uint64_t et_taps(const Run *r, const OpArgs *a) {
    if (r->conv.conv_macs == CONV_MACS_VALID)
        return valid_taps(a->x.rows, a->kw, a->pad, a->q0, a->y.rows);
    return u64(a->y.rows) * u64(a->kw);
}

static OpCost depthwise_cost(const Run *r, const OpArgs *a) {
    OpCost c = {0};
    c.macs = et_taps(r, a) * u64(a->x.cols);
    c.params = u64(a->w.rows) * u64(a->w.cols);
    c.weight_bytes = c.params * 4u;
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void depthwise_run(const OpArgs *a) {
    kern_depthwise(a->x.data, a->x.ld, a->x.rows, a->x.cols, a->kw, a->pad, a->w.data, a->y.data,
                   a->y.ld, a->q0, a->y.rows);
}

static const char *conv1d_check(const OpArgs *a) {
    const char *m = window_check(a);
    if (m) return m;
    if (a->w.rows != a->kw * a->x.cols || a->w.cols != a->y.cols || a->w.ld != a->w.cols)
        return "weight is not a packed (K*Cin, Cout)";
    if (has_bias(a) && a->b.cols != a->y.cols) return "bias width differs from Cout";
    return NULL;
}

static OpCost conv1d_cost(const Run *r, const OpArgs *a) {
    OpCost c = {0};
    c.macs = et_taps(r, a) * u64(a->x.cols) * u64(a->y.cols);
    c.other_flops = has_bias(a) ? nbytes(a->y) / 4u : 0;
    c.params = u64(a->w.rows) * u64(a->w.cols) + (has_bias(a) ? u64(a->b.cols) : 0);
    c.weight_bytes = c.params * 4u;
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void conv1d_run(const OpArgs *a) {
    kern_conv1d(a->x.data, a->x.ld, a->x.rows, a->x.cols, a->y.cols, a->kw, a->pad, a->w.data,
                has_bias(a) ? a->b.data : NULL, a->y.data, a->y.ld, a->q0, a->y.rows);
}

static const char *mask_check(const OpArgs *a) {
    if (!same_shape(a->x, a->y)) return "output shape differs";
    if (a->keep == NULL) return "no row flags";
    return NULL;
}

static OpCost mask_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.act_bytes_read = nbytes(a->x) + u64(a->x.rows);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void mask_run(const OpArgs *a) {
    kern_mask_rows(a->x.data, a->x.ld, a->x.rows, a->x.cols, a->keep, a->y.data, a->y.ld);
}

static OpCost log_softmax_cost(const Run *r, const OpArgs *a) {
    (void)r;
    return act_cost_rate(a, 4);
}

static void log_softmax_run(const OpArgs *a) {
    kern_log_softmax_rows(a->x.data, a->x.rows, a->x.cols, a->x.ld);
}

static const char *add_col_check(const OpArgs *a) {
    if (a->x2.rows != a->y.rows || a->x2.cols != 1) return "the column must be (rows, 1)";
    return NULL;
}

static OpCost add_col_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.other_flops = nbytes(a->y) / 4u;
    c.act_bytes_read = nbytes(a->y) + nbytes(a->x2);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void add_col_run(const OpArgs *a) {
    kern_add_col(a->y.data, a->y.ld, a->y.rows, a->y.cols, a->x2.data, a->x2.ld);
}

static OpCost swish_cost(const Run *r, const OpArgs *a) {
    (void)r;
    return act_cost_rate(a, 5);
}

static void swish_run(const OpArgs *a) { kern_swish(a->x.data, a->x.rows, a->x.cols, a->x.ld); }

/* ---- copies (cache appends, window shifts, beam reordering) ---- */

static const char *copy_check(const OpArgs *a) {
    if (!same_shape(a->x, a->y)) return "copy shapes differ";
    return NULL;
}

static OpCost copy_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.act_bytes_read = nbytes(a->x);
    c.bytes_written = nbytes(a->y);
    return c;
}

static void copy_run(const OpArgs *a) {
    kern_copy(a->x.data, a->x.ld, a->x.rows, a->x.cols, a->y.data, a->y.ld);
}

/* ---- embeddings and positions ---- */

static const char *embed_check(const OpArgs *a) {
    if (a->w.cols != a->y.cols) return "table width differs from the output";
    return NULL;
}

static OpCost embed_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.other_flops = nbytes(a->y) / 4u; /* the sqrt(d) scale */
    c.params = u64(a->w.rows) * u64(a->w.cols);
    c.weight_bytes = nbytes(a->y); /* only the gathered rows are read */
    c.act_bytes_read = u64(a->y.rows) * 8u; /* token ids */
    c.bytes_written = nbytes(a->y);
    return c;
}

static void embed_run(const OpArgs *a) {
    kern_embed(a->tokens, a->y.rows, a->w.data, a->w.cols, a->scale, a->y.data, a->y.ld,
               a->zero_pad);
}

static const char *positions_check(const OpArgs *a) {
    if (a->w.cols != a->y.cols) return "table width differs";
    if (a->q0 < 0 || a->q0 + a->y.rows > a->w.rows) return "positions beyond the table";
    return NULL;
}

static OpCost positions_cost(const Run *r, const OpArgs *a) {
    (void)r;
    OpCost c = {0};
    c.other_flops = nbytes(a->y) / 4u;
    c.act_bytes_read = 2u * nbytes(a->y); /* x and the table rows */
    c.bytes_written = nbytes(a->y);
    return c;
}

static void positions_run(const OpArgs *a) {
    kern_add_rows(a->y.data, a->y.ld, a->y.rows, a->y.cols, a->w.data, a->q0);
}

/* ---- the table ---- */

static const OpInfo op_table[OP_COUNT] = {
    [OP_LINEAR] = {"linear", CLASS_INHERIT, 1, linear_check, linear_cost, linear_run},
    [OP_ATTN_SCORES] = {"attn_scores", CLASS_INHERIT, 1, scores_check, scores_cost, scores_run},
    [OP_ATTN_WEIGHTED] = {"attn_weighted_sum", CLASS_INHERIT, 1, weighted_check, weighted_cost,
                          weighted_run},
    [OP_SOFTMAX] = {"softmax", CLASS_NORM_OTHER, 0, softmax_check, softmax_cost, softmax_run},
    [OP_LAYERNORM] = {"layer_norm", CLASS_NORM_OTHER, 0, layernorm_check, layernorm_cost,
                      layernorm_run},
    [OP_ADD] = {"residual_add", CLASS_NORM_OTHER, 0, add_check, add_cost, add_run},
    [OP_RELU] = {"relu", CLASS_NORM_OTHER, 0, inplace_check, relu_cost, relu_run},
    [OP_GELU] = {"gelu", CLASS_NORM_OTHER, 0, inplace_check, gelu_cost, gelu_run},
    [OP_GLU] = {"glu", CLASS_INHERIT, 0, glu_check, glu_cost, glu_run},
    [OP_CONV_DYNAMIC] = {"dynamic_conv", CLASS_INHERIT, 0, dynconv_check, conv_cost, dynconv_run},
    [OP_CONV_LIGHT] = {"lightweight_conv", CLASS_INHERIT, 0, lightconv_check, conv_cost,
                       lightconv_run},
    [OP_EMBED] = {"embedding", CLASS_EMBED_OUTPUT, 0, embed_check, embed_cost, embed_run},
    [OP_POSITIONS] = {"positions", CLASS_NORM_OTHER, 0, positions_check, positions_cost,
                      positions_run},
    [OP_COPY] = {"copy", CLASS_NORM_OTHER, 0, copy_check, copy_cost, copy_run},
    [OP_CONV_DEPTHWISE] = {"depthwise_conv", CLASS_INHERIT, 0, depthwise_check, depthwise_cost,
                           depthwise_run},
    [OP_CONV1D] = {"conv1d", CLASS_INHERIT, 1, conv1d_check, conv1d_cost, conv1d_run},
    [OP_SWISH] = {"swish", CLASS_NORM_OTHER, 0, inplace_check, swish_cost, swish_run},
    [OP_MASK_ROWS] = {"mask_padding", CLASS_NORM_OTHER, 0, mask_check, mask_cost, mask_run},
    [OP_LOG_SOFTMAX] = {"log_softmax", CLASS_NORM_OTHER, 0, inplace_check, log_softmax_cost,
                        log_softmax_run},
    [OP_ADD_COL] = {"add_cluster", CLASS_NORM_OTHER, 0, add_col_check, add_col_cost, add_col_run},
};
_Static_assert(sizeof op_table / sizeof op_table[0] == OP_COUNT, "op_table out of sync with OpKind");

const char *op_name(OpKind k) { return (unsigned)k < OP_COUNT ? op_table[k].name : "?"; }
int op_is_gemm(OpKind k) { return (unsigned)k < OP_COUNT && op_table[k].gemm; }

OpClass op_class(OpKind k, OpClass module_cls) {
    if ((unsigned)k >= OP_COUNT) return CLASS_NORM_OTHER;
    return op_table[k].cls == CLASS_INHERIT ? module_cls : op_table[k].cls;
}

OpCost op_cost(const Run *r, OpKind k, const OpArgs *a) { return op_table[k].cost(r, a); }

static uint64_t (*test_clock)(void);

void ops_set_clock(uint64_t (*clock_ns)(void)) { test_clock = clock_ns; }

static uint64_t now_ns(void) {
    if (test_clock != NULL) return test_clock();
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int data_ready(const OpArgs *a, OpKind k) {
    if (a->x.data == NULL && k != OP_EMBED && k != OP_ADD_COL) return 0;
    if (a->y.data == NULL && k != OP_RELU && k != OP_GELU && k != OP_SWISH && k != OP_LOG_SOFTMAX)
        return 0;
    switch (k) {
    case OP_LINEAR:
        return (a->wq ? a->wqs != NULL && a->wtile != NULL : a->w.data != NULL) &&
               (a->b.cols == 0 || a->b.data != NULL);
    case OP_ATTN_SCORES:
    case OP_ATTN_WEIGHTED:
    case OP_ADD: return a->x2.data != NULL;
    case OP_LAYERNORM: return a->w.data != NULL && a->b.data != NULL;
    case OP_CONV_DYNAMIC:
    case OP_CONV_LIGHT:
    case OP_CONV_DEPTHWISE:
    case OP_POSITIONS: return a->w.data != NULL;
    case OP_CONV1D: return a->w.data != NULL && (a->b.cols == 0 || a->b.data != NULL);
    case OP_COPY: return 1;
    case OP_ADD_COL: return a->x2.data != NULL;
    case OP_EMBED: return a->w.data != NULL && a->tokens != NULL;
    default: return 1;
    }
}

SimStatus op_exec(Run *r, OpKind k, const OpArgs *a) {
    if (r->err->code != SIM_OK) return r->err->code;
    if ((unsigned)k >= OP_COUNT) return sim_errorf(r->err, SIM_EINVAL, "unknown operator %d", k);
    const OpInfo *info = &op_table[k];
    /* 1. shapes */
    const char *bad = info->check(a);
    if (bad != NULL)
        return sim_errorf(r->err, SIM_ESHAPE, "%s: %s: %s", r->scope, info->name, bad);
    if (k == OP_EMBED && a->tokens != NULL) {
        for (int64_t i = 0; i < a->y.rows; i++)
            if (a->tokens[i] < 0 || a->tokens[i] >= a->w.rows)
                return sim_errorf(r->err, SIM_EINVAL,
                                  "%s: token id %lld at position %lld is outside the vocabulary "
                                  "of %lld",
                                  r->scope, (long long)a->tokens[i], (long long)i,
                                  (long long)a->w.rows);
    }
    /* 2. cost from the same arguments */
    OpCost c = info->cost(r, a);
    /* 3. the kernel, unless count-only */
    uint64_t dt = 0;
    if (!r->count_only) {
        if (!data_ready(a, k))
            return sim_errorf(r->err, SIM_ESHAPE, "%s: %s: operand without data", r->scope,
                              info->name);
        uint64_t t0 = r->timing ? now_ns() : 0;
        info->run(a);
        if (r->timing) {
            dt = now_ns() - t0;
            if (info->gemm) r->gemm_ns += dt;
        }
    }
    /* 4. the ledger, with the shape that the latency model reads */
    SimStatus rc = cost_ledger_add(r->ledger, r->scope, (int)k, op_class(k, r->cls), &c, dt, r->err);
    if (rc == SIM_OK) {
        int64_t dims[3] = {a->y.rows, a->y.cols, 0};
        switch (k) {
        case OP_LINEAR: dims[2] = lin_k(a); break;                    /* M, N, K */
        case OP_ATTN_SCORES: dims[0] = a->x.rows; dims[1] = a->x2.rows; dims[2] = a->x.cols; break;
        case OP_ATTN_WEIGHTED: dims[1] = a->x2.rows; dims[2] = a->y.cols; break;
        case OP_CONV_DYNAMIC:
        case OP_CONV_LIGHT:
        case OP_CONV_DEPTHWISE: dims[2] = a->kw; break;               /* L, C, K */
        case OP_CONV1D: dims[2] = a->kw * a->x.cols; break;           /* n, Cout, K*Cin */
        default: break;
        }
        cost_ledger_set_dims(r->ledger, r->scope, (int)k, dims);
    }
    return rc;
}

size_t run_push(Run *r, const char *fmt, ...) {
    size_t old = r->scope_len;
    size_t room = sizeof r->scope - old;
    int n = 0;
    if (old > 0 && room > 1) {
        r->scope[old] = '.';
        n = 1;
    }
    va_list ap;
    va_start(ap, fmt);
    int m = vsnprintf(r->scope + old + n, room - (size_t)n, fmt, ap);
    va_end(ap);
    size_t len = old + (size_t)n + (m > 0 ? (size_t)m : 0);
    if (len >= sizeof r->scope) len = sizeof r->scope - 1;
    r->scope_len = len;
    return old;
}

void run_pop(Run *r, size_t len) {
    r->scope_len = len;
    r->scope[len] = '\0';
}

Tensor run_tensor(Run *r, int64_t rows, int64_t cols) {
    Tensor t = {NULL, rows, cols, cols};
    if (r->err->code != SIM_OK) return t;
    if (rows < 0 || cols < 0) {
        sim_errorf(r->err, SIM_ESHAPE, "%s: negative tensor shape", r->scope);
        return t;
    }
    t.data = arena_floats(r->act, (size_t)rows * (size_t)cols, r->err);
    return t;
}

void ops_set_threads(int n) { kern_set_threads(n); }

void ops_set_gemv_rows(int rows) { kern_set_gemv_rows(rows); }
const char *ops_blas_name(void) { return kern_blas_name(); }

void ops_fill_positions(Tensor table, int64_t zero_row) {
    if (table.data != NULL) kern_sinusoidal_table(table.data, table.rows, table.cols, zero_row);
}
