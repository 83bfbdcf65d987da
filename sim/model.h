/*
 * model.h - a built model: its weights (one arena), its parameter registry with fairseq
 * state_dict names, and the forward passes of the families.
 *
 * model_open plans every parameter from the config, allocates the weight arena once
 * (nothing in count-only mode), and fills it from a seeded RNG or a safetensors file.
 */
#ifndef LTSIM_MODEL_H
#define LTSIM_MODEL_H

#include <stdint.h>

#include "config.h"
#include "evolved.h"
#include "layers.h"
#include "ops.h"

typedef enum {
    PARAM_WEIGHT = 0, /* linear weight (out, in) */
    PARAM_BIAS,       /* linear bias (1, out) */
    PARAM_NORM_GAIN,
    PARAM_NORM_SHIFT,
    PARAM_EMBEDDING,  /* token embedding (V, d) */
    PARAM_OUTPUT,     /* separate output projection decoder.embed_out (V, d) */
    PARAM_CONV_KERNEL,/* lightweight kernel (H, K); files may hold (H, 1, K) */
    PARAM_TF_KERNEL,  /* tensor2tensor Dense / pointwise kernel: held (out, in) like PyTorch,
                         stored (in, out) or (1, in, out) in files (aux = 1) */
    PARAM_TF_CONV1D,  /* tensor2tensor Conv1D kernel (K, Cin, Cout), held (K*Cin, Cout); aux = K */
    PARAM_TF_DEPTHWISE,/* tensor2tensor depthwise kernel (K, C, 1), held (K, C) */
    PARAM_EMBED_PROJ  /* adaptive input: a band's projection (d, d_band), outside the headline */
} ParamKind;

typedef struct {
    char name[160];  /* fairseq state_dict key */
    ParamKind kind;
    Tensor *dst;     /* where the tensor lives in the Model */
    int64_t rows, cols;
    int64_t aux;     /* kind-specific (see ParamKind) */
} ParamEntry;

typedef struct {
    int64_t dim;
    int nlayers;
    Layer *layers;       /* nlayers */
    int normalize_before;
    Norm final_ln;       /* pre-norm only: encoder.layer_norm / decoder.layer_norm */
    Tensor embed;        /* (V, d) token embedding (shared with the encoder's under share-all) */
    Tensor pe;           /* (pos_offset + max_positions, d) sinusoidal table */
    int64_t pos_offset;  /* table row of position 0: padding_idx + 1 (fairseq), 0 (t2t) */
    int final_norm;      /* a layer norm after the stack (pre-norm, unless no-decoder-final-norm) */
} Stack;

/* A language model's adaptive input and (tied) adaptive softmax: band b covers token ids
 * [start[b], start[b+1]) with width dim[b]. */
typedef struct {
    int nbands;                          /* 0: not adaptive */
    int64_t start[CFG_MAX_CUTOFFS + 2];  /* nbands + 1 boundaries, the last = V */
    int64_t dim[CFG_MAX_CUTOFFS + 1];
    Tensor emb[CFG_MAX_CUTOFFS + 1];     /* (size_b, dim_b) band tables */
    Tensor proj[CFG_MAX_CUTOFFS + 1];    /* (d, dim_b) band projections to d */
    int softmax;                         /* the output is the tied adaptive softmax */
    Tensor class_proj;                   /* (nbands - 1, d) cluster logits of the head */
} LmWeights;

typedef struct {
    int count_only;          /* plan shapes and costs only: no weights are allocated */
    uint64_t seed;           /* RNG seed for the random initialisation */
    const char *weights;     /* safetensors file to load, or NULL for random weights */
    int allow_extra_tensors; /* unexpected tensors in the file: warn instead of failing */
    int64_t max_positions;   /* longest sequence the position tables must cover */
    const struct CompressOptions *compress; /* prune / quantize at load time (compress.h), or
                                               NULL */
} ModelOptions;

typedef struct {
    ModelConfig cfg;
    Stack enc, dec;
    Tensor out_proj;          /* (V_tgt, d): the decoder embedding when tied, else embed_out */
    int out_proj_tied;
    EtWeights et;             /* evolved_transformer: cells, final norms, target space */
    LmWeights lm;             /* language models: adaptive input and softmax */
    ParamEntry *params;
    int nparams;
    void *weights;            /* Arena of the weights */
    uint64_t params_headline; /* without embeddings and output projection (the paper's rule) */
    uint64_t params_output_projection; /* separate output projection, 0 when tied */
    uint64_t params_total;    /* everything, each shared matrix once */
    uint64_t weight_bytes;    /* bytes of all parameters at fp32 */
    char warning[512];        /* non-fatal note from loading (extra tensors), or "" */
} Model;

/* Builds the model. On failure returns SIM_EINVAL (bad weights file: missing tensor,
 * wrong shape or dtype, unexpected tensor, ...) or SIM_ENOMEM, with err set; *out is
 * NULL then. Caller closes with model_close. */
SimStatus model_open(const ModelConfig *cfg, const ModelOptions *opt, Model **out, SimError *err);
void model_close(Model *m);

typedef struct {
    Tensor enc_out;  /* (S, d) encoder output */
    Tensor features; /* (T, d) decoder output before the output projection */
    Tensor logits;   /* (T, V_tgt) */
} ForwardOut;

/* One teacher-forced pass: src (S) token ids, tgt (T) decoder input ids (starting with
 * EOS). Outputs live in r->act. Records every operator in r->ledger. */
SimStatus model_forward(Model *m, Run *r, const int64_t *src, int64_t S, const int64_t *tgt,
                        int64_t T, ForwardOut *out);

/* The token embedding and positions of one stack (decoder != 0: the decoder's) for n tokens
 * whose 0-based positions start at pos0: x (n, d) = sqrt(d) E[tok] + PE[padding_idx + 1 + pos].
 * Recorded under <side>.embed_tokens / <side>.embed_positions. */
Tensor model_embed(const Model *m, Run *r, int decoder, const int64_t *tok, int64_t n,
                   int64_t pos0);

/* The same into x (n, d) allocated by the caller. */
void model_embed_into(const Model *m, Run *r, int decoder, const int64_t *tok, int64_t n,
                      int64_t pos0, Tensor x);

/* The longest sequence the position tables were built for. */
int64_t model_max_positions(const Model *m);

/* One incremental step of decoder layer i for B hypotheses x (B, d), in place: the layer's
 * recipe of the forward pass with the self-attention over st's caches and the cross
 * attention over st's precomputed keys/values. Recorded under decoder.layers.i. */
void model_decoder_layer_step(const Model *m, Run *r, int i, Tensor x, const LayerState *st,
                              int64_t t);

/* The decoder's final layer norm (pre-norm models only; a no-op otherwise). */
void model_decoder_final_norm(const Model *m, Run *r, Tensor x);

/* The encoder over src (S): enc_out (S, d) in r->act, recorded under encoder.*. */
Tensor model_encode(const Model *m, Run *r, const int64_t *src, int64_t S);

/* logits (B, V) = features (B, d) E_out^T, recorded under decoder.output_projection. */
void model_output_projection(const Model *m, Run *r, Tensor features, Tensor logits);

/* Writes every parameter to a safetensors file under its state_dict name, in the layout
 * model_open loads (fairseq: PyTorch shapes, lightweight kernels [H,1,K], with share-all
 * also decoder.embed_tokens.weight; tensor2tensor: Dense kernels (in, out), convolution
 * kernels (K, Cin, Cout) / (K, C, 1) / (1, Cin, Cout)). SIM_EIO on a failed write. */
SimStatus model_save_weights(const Model *m, const char *path, SimError *err);

/* ---- Evolved Transformer decoding (evolved.c) ---- */

/* Allocates the caches of every decoder cell for B hypotheses and T steps and computes both
 * attend-to-encoder keys/values from enc_out once; adds the state bytes to *bytes. */
void et_state_open(const Model *m, Run *r, int64_t B, int64_t T, Tensor enc_out,
                   EtCellState *st, uint64_t *bytes);

/* One decoder step t (1-based) for B hypotheses whose current tokens are cur (token 0 is the
 * zero start vector): embedding, every cell over its state, the final norm; x (B, d). */
void et_decoder_step(const Model *m, Run *r, const int64_t *cur, int64_t t,
                     const EtCellState *st, Tensor x);

/* Bytes step t reads from the state of B hypotheses over S source tokens. */
uint64_t et_step_cache_bytes(const Model *m, int64_t B, int64_t t, int64_t S);

/* Every cache follows its hypothesis (parent[b]), through scratch of et_scratch_floats. */
void et_state_reorder(const Model *m, Run *r, const EtCellState *st, int64_t B, int64_t t,
                      const int *parent, float *scratch);
int64_t et_scratch_floats(const Model *m, int64_t B, int64_t T);

/* Finds a parameter by state_dict name (NULL if absent). */
const ParamEntry *model_param(const Model *m, const char *name);

#endif
