/*
 * model_int.h - private to the model: the parameter registry that model.c and evolved.c
 * fill while they describe a family's weights (SQLite's *Int.h idea).
 */
#ifndef LTSIM_MODEL_INT_H
#define LTSIM_MODEL_INT_H

#include "model.h"

typedef struct {
    Model *m;
    int cap;
    SimError *err;
} Reg;

/* Registers one parameter (state_dict name from fmt) of shape (rows, cols) that will live
 * at *dst; records SIM_ENOMEM in g->err when the registry cannot grow. */
void model_reg_add(Reg *g, ParamKind kind, Tensor *dst, int64_t rows, int64_t cols,
                   const char *fmt, ...) __attribute__((format(printf, 6, 7)));

/* fairseq Linear: prefix.weight (out, in) and, with bias, prefix.bias (out). */
void model_reg_linear(Reg *g, Linear *l, int64_t out, int64_t in, int bias, const char *prefix);

/* fairseq LayerNorm: prefix.weight, prefix.bias (d), eps 1e-5. */
void model_reg_norm(Reg *g, Norm *n, int64_t d, const char *prefix);

/* A language model's adaptive input and softmax parameters (lm.c). */
void lm_register(Reg *g, Model *m);

/* x (n, d) = the adaptive input of tok (lm.c), recorded under decoder.embed_tokens. */
void lm_adaptive_embed(const Model *m, Run *r, const int64_t *tok, Tensor x);

/* out (T, V) = log-probabilities of the tied adaptive softmax over features (T, d) (lm.c). */
void lm_adaptive_softmax(const Model *m, Run *r, Tensor features, Tensor out);

/* The Evolved Transformer's parameters (evolved.c). */
void et_register(Reg *g, Model *m);

/* Its forward pass and its encoder (evolved.c). */
SimStatus et_forward(const Model *m, Run *r, const int64_t *src, int64_t S, const int64_t *tgt,
                     int64_t T, ForwardOut *out);
Tensor et_encode(const Model *m, Run *r, const int64_t *src, int64_t S);

#endif
