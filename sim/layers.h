/*
 * layers.h - the building blocks of every family, written over op_exec:
 * linear, multi-head attention, the Lite conv branches, FFN, layer norm.
 *
 * Dimension letters: L tokens of the block's input, Tq queries, Tk keys, d model width,
 * c branch width, H heads, F FFN width, KW conv kernel width.
 * Every function reads its weights from the structs below (owned by the Model) and
 * writes into an output view allocated by the caller; temporaries come from the run's
 * arena and are released before returning.
 */
#ifndef LTSIM_LAYERS_H
#define LTSIM_LAYERS_H

#include <stdint.h>

#include "config.h"
#include "ops.h"
#include "tensor.h"

typedef struct {
    Tensor w;              /* (out, in), PyTorch layout (w must stay the first member) */
    Tensor b;              /* (1, out); cols == 0 when the linear has no bias */
    const int8_t *q;       /* (out, in) int8 weights when quantized, else NULL */
    const float *qscale;   /* (out) per-output-channel scales of q */
    float *qtile;          /* dequantisation scratch of the model (COMPRESS_TILE x in) */
    uint64_t storage;      /* bytes of w as stored (int8, sparse); 0: fp32 dense */
} Linear;

typedef struct {
    Tensor g;  /* (1, d) gain */
    Tensor b;  /* (1, d) shift */
    float eps; /* 1e-5 (fairseq), 1e-6 (tensor2tensor) */
} Norm;

typedef struct {
    Linear q, k, v, out; /* q/k/v: (w, d_in), out: (w, w) */
    int64_t heads;
    int64_t dim;         /* w, the attention width */
} Attention;

typedef struct {
    BranchType type;
    int64_t off, dim;    /* channel slice [off, off+dim) of the block input */
    int64_t heads;
    int64_t kw, pad;     /* conv kernel width and left padding */
    int glu;             /* dynamic conv: GLU after linear1 */
    int with_linear;     /* conv-linear: linear1 and linear2 present */
    int weight_softmax;  /* softmax over the taps */
    Attention attn;      /* BRANCH_ATTN */
    Linear linear1;      /* (c or 2c, c) */
    Linear weight_linear;/* dynamic: (H*KW, c), no bias */
    Linear linear2;      /* (c, c) */
    Tensor kernel;       /* lightweight: (H, KW) */
} Branch;

typedef struct {
    int nbranches;       /* 0: plain multi-head self-attention (self_attn) */
    Branch br[CFG_MAX_BRANCHES];
    Attention self_attn;
    Norm self_attn_ln;
    Attention enc_attn;  /* decoder layers only */
    Norm enc_attn_ln;
    Linear fc1, fc2;     /* (F, d), (d, F) */
    Norm final_ln;
} Layer;

/* Incremental-decoding state (architectures.md §5.1), planned once for max_t steps. */
typedef struct {
    float *k, *v;  /* (B, max_t, w) keys and values of every hypothesis; NULL when counting */
    int64_t max_t;
} KvCache;

typedef struct {
    float *win;    /* (B, K, c): the last K-1 conv inputs (after linear1/GLU), then the current */
} ConvState;

/* The incremental state of one decoder layer. */
typedef struct {
    KvCache kv[CFG_MAX_BRANCHES];     /* self-attention caches: branch j, or [0] when plain */
    ConvState conv[CFG_MAX_BRANCHES]; /* conv windows of the conv branches */
    Tensor kx, vx;                    /* (S, d) cross-attention keys and values, computed once */
} LayerState;

/* y (M, out) = x (M, in) · w^T + b, recorded under scope.name. */
void layer_linear(Run *r, const char *name, const Linear *l, Tensor x, Tensor y);

/* out (Tq, w) = MultiheadAttention(q from xq (Tq, d_q), k/v from xkv (Tk, d_kv)).
 * causal: query i (absolute position q0 + i) sees keys 0..q0+i. keep (Tk flags, or NULL):
 * keys whose flag is 0 (padding) are masked. */
void layer_attention(Run *r, const Attention *a, Tensor xq, Tensor xkv, int causal, int64_t q0,
                     const uint8_t *keep, Tensor out);

/* out (Tq, w) = attention of xq (Tq, d) against keys/values already projected, k/v (Tk, w):
 * q_proj, scores, softmax, weighted sum, out_proj (cross-attention with cached K/V). */
void layer_attention_kv(Run *r, const Attention *a, Tensor xq, Tensor k, Tensor v,
                        const uint8_t *keep, Tensor out);

/* One decoder step of causal self-attention for B hypotheses x (B, d) at step t (1-based):
 * appends each hypothesis' new key and value at row t-1 of its cache, attends over rows
 * [0, t), writes out (B, w). */
void layer_attention_step(Run *r, const Attention *a, Tensor x, const KvCache *c, int64_t t,
                          Tensor out);

/* One decoder step of a conv branch for B hypotheses x (B, c) at step t: the new input goes
 * to the window, the output uses the last min(t, K) inputs (taps of the full-K softmax),
 * and the window keeps the last K-1. */
void layer_conv_step(Run *r, const Branch *b, Tensor x, const ConvState *st, int64_t t,
                     Tensor out);

/* out (L, c) = conv branch (dynamic or lightweight) over x (L, c). */
void layer_conv_branch(Run *r, const Branch *b, Tensor x, Tensor out);

/* out (L, d) = the self-attention slot: MultiBranch over channel slices, or plain attention. */
void layer_self_block(Run *r, const Layer *ly, Tensor x, int causal, Tensor out);

/* The self-attention slot for one decoder step (B hypotheses x (B, d)) over st's state. */
void layer_self_block_step(Run *r, const Layer *ly, Tensor x, const LayerState *st, int64_t t,
                           Tensor out);

/* out (L, d) = fc2(act(fc1(x))). */
void layer_ffn(Run *r, const Layer *ly, Activation act, int64_t ffn_dim, Tensor x, Tensor out);

/* x = LN(x + y) (post-norm) under scope name. */
void layer_add_norm(Run *r, const char *name, const Norm *n, Tensor x, Tensor y);

/* y = LN(x) under scope name. */
void layer_norm(Run *r, const char *name, const Norm *n, Tensor x, Tensor y);

/* y = x with the padding rows (keep[i] == 0) zeroed, recorded under scope name; nothing
 * when keep is NULL (then y must be x). */
void layer_mask_rows(Run *r, const char *name, const uint8_t *keep, Tensor x, Tensor y);

/* x = x + y, recorded under scope name. */
void layer_residual(Run *r, const char *name, Tensor x, Tensor y);

#endif
