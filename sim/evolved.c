/*
 * evolved.c - tensor2tensor's Evolved Transformer over op_exec: its parameters with their
 * variable scopes turned into dotted names, and the forward pass of its cells
 * (architectures.md §3).
 *
 * Dimension letters: S source tokens, T target tokens, d width. Every block is pre-norm,
 * h = h + f(LN(h)), with LayerNorm eps 1e-6; attention has no biases; both stacks end with a
 * layer norm; the embedding is shared with the softmax.
 */
#include "evolved.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "arena.h"
#include "model_int.h"

#define ET_EPS 1e-6f /* tensor2tensor's norm_epsilon */

int et_capped_double_heads(int heads) {
    int h = 2 * heads < 16 ? 2 * heads : 16;
    return h > heads ? h : heads;
}

/* ---- parameters ---- */

/* common_layers.layer_norm under scope: layer_norm_scale, layer_norm_bias. */
static void reg_ln(Reg *g, Norm *n, int64_t d, const char *scope) {
    model_reg_add(g, PARAM_NORM_GAIN, &n->g, 1, d, "%s.layer_norm.layer_norm_scale", scope);
    model_reg_add(g, PARAM_NORM_SHIFT, &n->b, 1, d, "%s.layer_norm.layer_norm_bias", scope);
    n->eps = ET_EPS;
}

/* Keras Dense: kernel (in, out) [+ bias (out)]. */
static void reg_dense(Reg *g, Linear *l, int64_t out, int64_t in, int bias, const char *scope) {
    model_reg_add(g, PARAM_TF_KERNEL, &l->w, out, in, "%s.kernel", scope);
    if (bias) model_reg_add(g, PARAM_BIAS, &l->b, 1, out, "%s.bias", scope);
    else l->b = tensor_make(NULL, 0, 0);
}

/* SeparableConv1D: depthwise_kernel (K, Cin, 1), pointwise_kernel (1, Cin, Cout), bias. */
static void reg_sepconv(Reg *g, Tensor *dw, Linear *pw, int64_t K, int64_t cin, int64_t cout,
                        const char *scope) {
    model_reg_add(g, PARAM_TF_DEPTHWISE, dw, K, cin, "%s.depthwise_kernel", scope);
    model_reg_add(g, PARAM_TF_KERNEL, &pw->w, cout, cin, "%s.pointwise_kernel", scope);
    g->m->params[g->m->nparams - 1].aux = 1; /* stored (1, in, out) */
    model_reg_add(g, PARAM_BIAS, &pw->b, 1, cout, "%s.bias", scope);
}

/* common_attention.multihead_attention: q, k, v, output_transform (d, d), no biases. */
static void reg_mha(Reg *g, Attention *a, int64_t d, int heads, const char *scope) {
    char p[240];
    a->dim = d;
    a->heads = heads;
    snprintf(p, sizeof p, "%s.multihead_attention.q", scope);
    reg_dense(g, &a->q, d, d, 0, p);
    snprintf(p, sizeof p, "%s.multihead_attention.k", scope);
    reg_dense(g, &a->k, d, d, 0, p);
    snprintf(p, sizeof p, "%s.multihead_attention.v", scope);
    reg_dense(g, &a->v, d, d, 0, p);
    snprintf(p, sizeof p, "%s.multihead_attention.output_transform", scope);
    reg_dense(g, &a->out, d, d, 0, p);
}

#define SCOPE(buf, ...) snprintf(buf, sizeof buf, __VA_ARGS__)

static void reg_enc_cell(Reg *g, EtEncCell *c, int64_t d, int heads, int i) {
    char s[200];
    SCOPE(s, "body.encoder.layer_%d.gated_linear_unit.layer_prepostprocess", i);
    reg_ln(g, &c->ln_glu, d, s);
    SCOPE(s, "body.encoder.layer_%d.gated_linear_unit.dense", i);
    reg_dense(g, &c->glu_value, d, d, 1, s);
    SCOPE(s, "body.encoder.layer_%d.gated_linear_unit.dense_1", i);
    reg_dense(g, &c->glu_gate, d, d, 1, s);
    SCOPE(s, "body.encoder.layer_%d.conv_branches.layer_prepostprocess", i);
    reg_ln(g, &c->ln_conv, d, s);
    SCOPE(s, "body.encoder.layer_%d.conv_branches.dense", i);
    reg_dense(g, &c->left, 4 * d, d, 1, s);
    model_reg_add(g, PARAM_TF_CONV1D, &c->conv3_w, 3 * d, d / 2,
                  "body.encoder.layer_%d.conv_branches.standard_conv_3x1.kernel", i);
    g->m->params[g->m->nparams - 1].aux = 3;
    model_reg_add(g, PARAM_BIAS, &c->conv3_b, 1, d / 2,
                  "body.encoder.layer_%d.conv_branches.standard_conv_3x1.bias", i);
    SCOPE(s, "body.encoder.layer_%d.conv_branches.layer_prepostprocess_1", i);
    reg_ln(g, &c->ln_conv4d, 4 * d, s);
    SCOPE(s, "body.encoder.layer_%d.conv_branches.separable_conv_9x1", i);
    reg_sepconv(g, &c->sep9_dw, &c->sep9_pw, 9, 4 * d, d / 2, s);
    SCOPE(s, "body.encoder.layer_%d.self_attention.layer_prepostprocess", i);
    reg_ln(g, &c->ln_attn, d, s);
    SCOPE(s, "body.encoder.layer_%d.self_attention", i);
    reg_mha(g, &c->attn, d, heads, s);
    SCOPE(s, "body.encoder.layer_%d.dense_layers.layer_prepostprocess", i);
    reg_ln(g, &c->ln_ffn, d, s);
    SCOPE(s, "body.encoder.layer_%d.dense_layers.dense", i);
    reg_dense(g, &c->ffn1, 4 * d, d, 1, s);
    SCOPE(s, "body.encoder.layer_%d.dense_layers.dense_1", i);
    reg_dense(g, &c->ffn2, d, 4 * d, 1, s);
}

static void reg_dec_cell(Reg *g, EtDecCell *c, int64_t d, int heads, int i) {
    char s[200];
    SCOPE(s, "body.decoder.layer_%d.sixteen_head_attention.layer_prepostprocess", i);
    reg_ln(g, &c->ln_att16, d, s);
    SCOPE(s, "body.decoder.layer_%d.sixteen_head_attention", i);
    reg_mha(g, &c->att16, d, et_capped_double_heads(heads), s);
    SCOPE(s, "body.decoder.layer_%d.first_attend_to_encoder", i);
    reg_mha(g, &c->enc1, d, heads, s);
    SCOPE(s, "body.decoder.layer_%d.conv_branches.layer_prepostprocess", i);
    reg_ln(g, &c->ln_conv, d, s);
    SCOPE(s, "body.decoder.layer_%d.conv_branches.separable_conv11x1", i);
    reg_sepconv(g, &c->sep11_dw, &c->sep11_pw, 11, d, 2 * d, s);
    SCOPE(s, "body.decoder.layer_%d.conv_branches.separable_conv_7x1_1", i);
    reg_sepconv(g, &c->sep7a_dw, &c->sep7a_pw, 7, d, d / 2, s);
    SCOPE(s, "body.decoder.layer_%d.conv_branches.layer_prepostprocess_1", i);
    reg_ln(g, &c->ln_conv2d, 2 * d, s);
    SCOPE(s, "body.decoder.layer_%d.conv_branches.separable_conv_7x1_2", i);
    reg_sepconv(g, &c->sep7b_dw, &c->sep7b_pw, 7, 2 * d, d, s);
    SCOPE(s, "body.decoder.layer_%d.self_attention.layer_prepostprocess", i);
    reg_ln(g, &c->ln_attn, d, s);
    SCOPE(s, "body.decoder.layer_%d.self_attention", i);
    reg_mha(g, &c->attn, d, heads, s);
    SCOPE(s, "body.decoder.layer_%d.second_attend_to_encoder.layer_prepostprocess", i);
    reg_ln(g, &c->ln_enc2, d, s);
    SCOPE(s, "body.decoder.layer_%d.second_attend_to_encoder", i);
    reg_mha(g, &c->enc2, d, heads, s);
    SCOPE(s, "body.decoder.layer_%d.dense_layers.layer_prepostprocess", i);
    reg_ln(g, &c->ln_ffn, d, s);
    SCOPE(s, "body.decoder.layer_%d.dense_layers.dense", i);
    reg_dense(g, &c->ffn1, 4 * d, d, 1, s);
    SCOPE(s, "body.decoder.layer_%d.dense_layers", i);
    reg_ln(g, &c->ln_ffn4d, 4 * d, s);
    SCOPE(s, "body.decoder.layer_%d.dense_layers.dense_1", i);
    reg_dense(g, &c->ffn2, d, 4 * d, 1, s);
}

void et_register(Reg *g, Model *m) {
    const ModelConfig *cfg = &m->cfg;
    int64_t d = cfg->enc.embed_dim;
    EtWeights *et = &m->et;
    m->enc.dim = m->dec.dim = d;
    m->enc.nlayers = cfg->enc.layers;
    m->dec.nlayers = cfg->dec.layers;
    m->enc.normalize_before = m->dec.normalize_before = 1;
    et->enc = calloc((size_t)cfg->enc.layers, sizeof *et->enc);
    et->dec = calloc((size_t)cfg->dec.layers, sizeof *et->dec);
    if (et->enc == NULL || et->dec == NULL) {
        sim_errorf(g->err, SIM_ENOMEM, "out of memory building evolved transformer cells");
        return;
    }
    model_reg_add(g, PARAM_EMBEDDING, &m->enc.embed, cfg->src_vocab, d,
                  "symbol_modality.shared.weights");
    model_reg_add(g, PARAM_EMBEDDING, &et->target_space, 32, d, "body.target_space_embedding.kernel");
    for (int i = 0; i < cfg->enc.layers; i++) reg_enc_cell(g, &et->enc[i], d, cfg->enc.heads[i], i);
    reg_ln(g, &et->enc_ln, d, "body.encoder.layer_prepostprocess");
    for (int i = 0; i < cfg->dec.layers; i++) reg_dec_cell(g, &et->dec[i], d, cfg->dec.heads[i], i);
    reg_ln(g, &et->dec_ln, d, "body.decoder.layer_prepostprocess");
}

/* ---- forward ---- */

/* y (n, C) = depthwise conv of the window x (L, C) with w (K, C), left padding P, outputs for
 * positions q0 .. q0+n-1. */
static void depthwise(Run *r, const char *name, Tensor w, Tensor x, int64_t P, int64_t q0,
                      Tensor y) {
    size_t s = run_push(r, "%s", name);
    OpArgs a = {0};
    a.x = x;
    a.w = w;
    a.y = y;
    a.kw = w.rows;
    a.pad = P;
    a.q0 = q0;
    op_exec(r, OP_CONV_DEPTHWISE, &a);
    run_pop(r, s);
}

static void activation(Run *r, const char *name, OpKind k, Tensor x) {
    size_t s = run_push(r, "%s", name);
    OpArgs a = {0};
    a.x = x;
    a.y = x;
    op_exec(r, k, &a);
    run_pop(r, s);
}

/* h[:, :w.cols] += w: a narrower branch added into the first channels (the zero padding of
 * tensor2tensor's tf.pad adds nothing to the rest). */
static void add_into(Run *r, const char *name, Tensor h, Tensor w) {
    layer_residual(r, name, tensor_cols(h, 0, w.cols), w);
}

static void set_cls(Run *r, OpClass c) { r->cls = c; }

static void enc_cell(Run *r, const EtEncCell *c, int64_t d, Tensor h) {
    int64_t L = h.rows;
    size_t mark = arena_mark(r->act);
    Tensor u = run_tensor(r, L, d);      /* (L, d) normalised input of a block */
    Tensor y = run_tensor(r, L, d);      /* (L, d) block output */
    Tensor g = run_tensor(r, L, 2 * d);  /* (L, 2d) GLU values | gates */
    Tensor lb = run_tensor(r, L, 4 * d); /* (L, 4d) left branch, then the sum */
    Tensor rb = run_tensor(r, L, d / 2); /* (L, d/2) right branch */
    Tensor v = run_tensor(r, L, 4 * d);  /* (L, 4d) normalised sum */
    Tensor dw = run_tensor(r, L, 4 * d); /* (L, 4d) depthwise output */
    Tensor w = run_tensor(r, L, d / 2);  /* (L, d/2) separable conv output */

    size_t s = run_push(r, "gated_linear_unit");
    set_cls(r, CLASS_FFN);
    layer_norm(r, "layer_prepostprocess", &c->ln_glu, h, u);
    layer_linear(r, "dense", &c->glu_value, u, tensor_cols(g, 0, d));
    layer_linear(r, "dense_1", &c->glu_gate, u, tensor_cols(g, d, d));
    OpArgs gl = {0};
    gl.x = g;
    gl.y = y;
    op_exec(r, OP_GLU, &gl);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    s = run_push(r, "conv_branches");
    layer_norm(r, "layer_prepostprocess", &c->ln_conv, h, u);
    layer_mask_rows(r, "padding", r->src_keep, u, u); /* t2t masks padding before the convs */
    set_cls(r, CLASS_FFN);
    layer_linear(r, "dense", &c->left, u, lb);
    activation(r, "dense", OP_RELU, lb);
    set_cls(r, CLASS_CONVOLUTION);
    size_t s1 = run_push(r, "standard_conv_3x1");
    OpArgs cv = {0};
    cv.x = u;
    cv.w = c->conv3_w;
    cv.b = c->conv3_b;
    cv.y = rb;
    cv.kw = 3;
    cv.pad = 1; /* SAME */
    op_exec(r, OP_CONV1D, &cv);
    run_pop(r, s1);
    activation(r, "standard_conv_3x1", OP_RELU, rb);
    add_into(r, "standard_conv_3x1", lb, rb);
    layer_norm(r, "layer_prepostprocess_1", &c->ln_conv4d, lb, v);
    layer_mask_rows(r, "padding", r->src_keep, v, v);
    depthwise(r, "separable_conv_9x1", c->sep9_dw, v, 4, 0, dw);
    layer_linear(r, "separable_conv_9x1", &c->sep9_pw, dw, w);
    add_into(r, "residual", h, w);
    run_pop(r, s);

    s = run_push(r, "self_attention");
    layer_norm(r, "layer_prepostprocess", &c->ln_attn, h, u);
    set_cls(r, CLASS_ATTENTION);
    s1 = run_push(r, "multihead_attention");
    layer_attention(r, &c->attn, u, u, 0, 0, r->src_keep, y);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    s = run_push(r, "dense_layers");
    layer_norm(r, "layer_prepostprocess", &c->ln_ffn, h, u);
    set_cls(r, CLASS_FFN);
    layer_linear(r, "dense", &c->ffn1, u, lb);
    activation(r, "dense", OP_RELU, lb);
    layer_linear(r, "dense_1", &c->ffn2, lb, y);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);
    arena_rewind(r->act, mark);
}

/* The decoder cell's last block: h += dense_1(LN4d(swish(dense(LN(h))))); u, lb, y scratch. */
static void dec_dense_layers(Run *r, const EtDecCell *c, Tensor h, Tensor u, Tensor lb, Tensor y) {
    size_t s = run_push(r, "dense_layers");
    layer_norm(r, "layer_prepostprocess", &c->ln_ffn, h, u);
    set_cls(r, CLASS_FFN);
    layer_linear(r, "dense", &c->ffn1, u, lb);
    activation(r, "dense", OP_SWISH, lb);
    layer_norm(r, "layer_norm", &c->ln_ffn4d, lb, lb);
    layer_linear(r, "dense_1", &c->ffn2, lb, y);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);
}

static void dec_cell(Run *r, const EtDecCell *c, int64_t d, Tensor h, Tensor enc_out) {
    int64_t T = h.rows;
    size_t mark = arena_mark(r->act);
    Tensor u = run_tensor(r, T, d);       /* (T, d) normalised input of a block */
    Tensor y = run_tensor(r, T, d);       /* (T, d) block output */
    Tensor y2 = run_tensor(r, T, d);      /* (T, d) the parallel attention's output */
    Tensor dw = run_tensor(r, T, 2 * d);  /* (T, 2d) depthwise outputs */
    Tensor lb = run_tensor(r, T, 4 * d);  /* (T, 2d) left branch, then (T, 4d) FFN hidden */
    Tensor rb = run_tensor(r, T, d / 2);  /* (T, d/2) right branch */
    Tensor v = run_tensor(r, T, 2 * d);   /* (T, 2d) normalised sum */

    /* two attentions in parallel on one normalised input */
    size_t s = run_push(r, "sixteen_head_attention");
    layer_norm(r, "layer_prepostprocess", &c->ln_att16, h, u);
    set_cls(r, CLASS_ATTENTION);
    size_t s1 = run_push(r, "multihead_attention");
    layer_attention(r, &c->att16, u, u, 1, 0, NULL, y);
    run_pop(r, s1);
    run_pop(r, s);
    s = run_push(r, "first_attend_to_encoder");
    s1 = run_push(r, "multihead_attention");
    layer_attention(r, &c->enc1, u, enc_out, 0, 0, r->src_keep, y2);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    layer_residual(r, "residual", h, y2);
    run_pop(r, s);

    s = run_push(r, "conv_branches");
    layer_norm(r, "layer_prepostprocess", &c->ln_conv, h, u);
    set_cls(r, CLASS_CONVOLUTION);
    Tensor lb2 = tensor_make(lb.data, T, 2 * d); /* (T, 2d) */
    Tensor dwd = tensor_make(dw.data, T, d);     /* (T, d) */
    depthwise(r, "separable_conv11x1", c->sep11_dw, u, 10, 0, dwd); /* causal: 10 zeros left */
    layer_linear(r, "separable_conv11x1", &c->sep11_pw, dwd, lb2);
    activation(r, "separable_conv11x1", OP_RELU, lb2);
    depthwise(r, "separable_conv_7x1_1", c->sep7a_dw, u, 6, 0, dwd);
    layer_linear(r, "separable_conv_7x1_1", &c->sep7a_pw, dwd, rb);
    add_into(r, "separable_conv_7x1_1", lb2, rb);
    layer_norm(r, "layer_prepostprocess_1", &c->ln_conv2d, lb2, v);
    depthwise(r, "separable_conv_7x1_2", c->sep7b_dw, v, 6, 0, dw);
    layer_linear(r, "separable_conv_7x1_2", &c->sep7b_pw, dw, y);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    s = run_push(r, "self_attention");
    layer_norm(r, "layer_prepostprocess", &c->ln_attn, h, u);
    set_cls(r, CLASS_ATTENTION);
    s1 = run_push(r, "multihead_attention");
    layer_attention(r, &c->attn, u, u, 1, 0, NULL, y);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    s = run_push(r, "second_attend_to_encoder");
    layer_norm(r, "layer_prepostprocess", &c->ln_enc2, h, u);
    s1 = run_push(r, "multihead_attention");
    layer_attention(r, &c->enc2, u, enc_out, 0, 0, r->src_keep, y);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    dec_dense_layers(r, c, h, u, lb, y);
    arena_rewind(r->act, mark);
}

/* x (n, d) += sqrt(d) * E[tok] (token 0, t2t's padding, embeds to zero) */
static void embed_tokens(const Model *m, Run *r, const int64_t *tok, Tensor x) {
    OpClass saved = r->cls;
    size_t s = run_push(r, "embed_tokens");
    OpArgs a = {0};
    a.w = m->enc.embed;
    a.y = x;
    a.tokens = tok;
    a.scale = (float)sqrt((double)m->enc.dim);
    a.zero_pad = 1;
    op_exec(r, OP_EMBED, &a);
    run_pop(r, s);
    r->cls = saved;
}

/* x (L, d) += timing signal of positions pos0 .. pos0+L-1 (from 0) */
static void add_timing(Run *r, const Stack *st, int64_t pos0, Tensor x) {
    size_t s = run_push(r, "embed_positions");
    OpArgs p = {0};
    p.w = st->pe;
    p.x = x;
    p.y = x;
    p.q0 = st->pos_offset + pos0;
    op_exec(r, OP_POSITIONS, &p);
    run_pop(r, s);
}

Tensor et_encode(const Model *m, Run *r, const int64_t *src, int64_t S) {
    int64_t d = m->enc.dim;
    size_t s0 = run_push(r, "encoder");
    r->cls = CLASS_NORM_OTHER;
    Tensor h = run_tensor(r, S, d);
    embed_tokens(m, r, src, h);
    /* the target-space embedding row, added to every position */
    const Tensor *ts = &m->et.target_space;
    Tensor row = {ts->data ? ts->data + m->cfg.target_space_id * d : NULL, S, d, 0};
    layer_residual(r, "target_space_embedding", h, row);
    add_timing(r, &m->enc, 0, h);
    for (int i = 0; i < m->enc.nlayers; i++) {
        size_t s1 = run_push(r, "layer_%d", i);
        enc_cell(r, &m->et.enc[i], d, h);
        run_pop(r, s1);
    }
    r->cls = CLASS_NORM_OTHER;
    layer_norm(r, "layer_prepostprocess", &m->et.enc_ln, h, h);
    run_pop(r, s0);
    return h;
}

SimStatus et_forward(const Model *m, Run *r, const int64_t *src, int64_t S, const int64_t *tgt,
                     int64_t T, ForwardOut *out) {
    int64_t d = m->dec.dim;
    out->enc_out = et_encode(m, r, src, S);
    size_t s0 = run_push(r, "decoder");
    /* targets shifted right: a zero vector first, then the embeddings of tgt[0 .. T-2] */
    Tensor h = run_tensor(r, T, d);
    if (T > 1) embed_tokens(m, r, tgt, tensor_rows(h, 1, T - 1));
    add_timing(r, &m->dec, 0, h);
    for (int i = 0; i < m->dec.nlayers; i++) {
        size_t s1 = run_push(r, "layer_%d", i);
        dec_cell(r, &m->et.dec[i], d, h, out->enc_out);
        run_pop(r, s1);
    }
    r->cls = CLASS_NORM_OTHER;
    layer_norm(r, "layer_prepostprocess", &m->et.dec_ln, h, h);
    run_pop(r, s0);
    out->features = h;
    out->logits = run_tensor(r, T, m->cfg.tgt_vocab);
    model_output_projection(m, r, out->features, out->logits);
    return r->err->code;
}

/* ---- incremental decoding ---- */

#define ET_WIN_U 11 /* rows of LN(h) the 11x1 (and, its last 7, the 7x1) conv reads */
#define ET_WIN_V 7  /* rows of LN_2d(.) the second 7x1 conv reads */

void et_state_open(const Model *m, Run *r, int64_t B, int64_t T, Tensor enc_out,
                   EtCellState *st, uint64_t *bytes) {
    int64_t d = m->dec.dim, S = enc_out.rows;
    for (int i = 0; i < m->dec.nlayers; i++) {
        const EtDecCell *c = &m->et.dec[i];
        EtCellState *s = &st[i];
        s->kv16.k = run_tensor(r, B * T, d).data;
        s->kv16.v = run_tensor(r, B * T, d).data;
        s->kv16.max_t = T;
        s->kv.k = run_tensor(r, B * T, d).data;
        s->kv.v = run_tensor(r, B * T, d).data;
        s->kv.max_t = T;
        s->win_u = run_tensor(r, B * ET_WIN_U, d).data;
        s->win_v = run_tensor(r, B * ET_WIN_V, 2 * d).data;
        s->kx1 = run_tensor(r, S, d);
        s->vx1 = run_tensor(r, S, d);
        s->kx2 = run_tensor(r, S, d);
        s->vx2 = run_tensor(r, S, d);
        *bytes += 4u * (uint64_t)(4 * B * T * d + B * ET_WIN_U * d + B * ET_WIN_V * 2 * d +
                                  4 * S * d);
        OpClass saved = r->cls;
        r->cls = CLASS_ATTENTION;
        size_t s0 = run_push(r, "decoder.layer_%d.first_attend_to_encoder.multihead_attention", i);
        layer_linear(r, "k_proj", &c->enc1.k, enc_out, s->kx1);
        layer_linear(r, "v_proj", &c->enc1.v, enc_out, s->vx1);
        run_pop(r, s0);
        s0 = run_push(r, "decoder.layer_%d.second_attend_to_encoder.multihead_attention", i);
        layer_linear(r, "k_proj", &c->enc2.k, enc_out, s->kx2);
        layer_linear(r, "v_proj", &c->enc2.v, enc_out, s->vx2);
        run_pop(r, s0);
        r->cls = saved;
    }
}

static float *off(float *base, int64_t n) { return base ? base + n : NULL; }

/* The newest row of every hypothesis' window (B, rows, w): row rows-1, stride rows*w. */
static Tensor win_last(float *win, int64_t B, int64_t rows, int64_t w) {
    Tensor t = {off(win, (rows - 1) * w), B, w, rows * w};
    return t;
}

/* Depthwise conv over the last min(t, K) rows of hypothesis b's window (rows, w), written to
 * row b of y; the filter's taps before the window multiply the zero padding. */
static void window_depthwise(Run *r, const char *name, Tensor filt, float *win, int64_t rows,
                             int64_t w, int64_t b, int64_t t, Tensor y) {
    int64_t K = filt.rows, L = t < K ? t : K;
    Tensor x = {off(win, (b * rows + rows - L) * w), L, w, w};
    depthwise(r, name, filt, x, K - 1, L - 1, tensor_rows(y, b, 1));
}

/* Shifts every hypothesis' window up by one row (the oldest row leaves). */
static void window_shift(Run *r, const char *name, float *win, int64_t B, int64_t rows,
                         int64_t w) {
    size_t s = run_push(r, "%s", name);
    for (int64_t b = 0; b < B; b++) {
        OpArgs a = {0};
        a.x = (Tensor){off(win, (b * rows + 1) * w), rows - 1, w, w};
        a.y = (Tensor){off(win, b * rows * w), rows - 1, w, w};
        op_exec(r, OP_COPY, &a);
    }
    run_pop(r, s);
}

static void dec_cell_step(Run *r, const EtDecCell *c, const EtCellState *st, int64_t d,
                          int64_t t, Tensor h) {
    int64_t B = h.rows;
    size_t mark = arena_mark(r->act);
    Tensor u = run_tensor(r, B, d), y = run_tensor(r, B, d), y2 = run_tensor(r, B, d);
    Tensor dwd = run_tensor(r, B, d), dw2 = run_tensor(r, B, 2 * d);
    Tensor lb = run_tensor(r, B, 4 * d), rb = run_tensor(r, B, d / 2);

    size_t s = run_push(r, "sixteen_head_attention");
    layer_norm(r, "layer_prepostprocess", &c->ln_att16, h, u);
    set_cls(r, CLASS_ATTENTION);
    size_t s1 = run_push(r, "multihead_attention");
    layer_attention_step(r, &c->att16, u, &st->kv16, t, y);
    run_pop(r, s1);
    run_pop(r, s);
    s = run_push(r, "first_attend_to_encoder");
    s1 = run_push(r, "multihead_attention");
    layer_attention_kv(r, &c->enc1, u, st->kx1, st->vx1, r->src_keep, y2);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    layer_residual(r, "residual", h, y2);
    run_pop(r, s);

    s = run_push(r, "conv_branches");
    /* LN(h) goes to the newest row of the 11-row window */
    layer_norm(r, "layer_prepostprocess", &c->ln_conv, h, win_last(st->win_u, B, ET_WIN_U, d));
    set_cls(r, CLASS_CONVOLUTION);
    Tensor lb2 = tensor_make(lb.data, B, 2 * d);
    for (int64_t b = 0; b < B; b++)
        window_depthwise(r, "separable_conv11x1", c->sep11_dw, st->win_u, ET_WIN_U, d, b, t, dwd);
    layer_linear(r, "separable_conv11x1", &c->sep11_pw, dwd, lb2);
    activation(r, "separable_conv11x1", OP_RELU, lb2);
    for (int64_t b = 0; b < B; b++)
        window_depthwise(r, "separable_conv_7x1_1", c->sep7a_dw, st->win_u, ET_WIN_U, d, b, t, dwd);
    layer_linear(r, "separable_conv_7x1_1", &c->sep7a_pw, dwd, rb);
    add_into(r, "separable_conv_7x1_1", lb2, rb);
    layer_norm(r, "layer_prepostprocess_1", &c->ln_conv2d, lb2,
               win_last(st->win_v, B, ET_WIN_V, 2 * d));
    for (int64_t b = 0; b < B; b++)
        window_depthwise(r, "separable_conv_7x1_2", c->sep7b_dw, st->win_v, ET_WIN_V, 2 * d, b, t,
                         dw2);
    layer_linear(r, "separable_conv_7x1_2", &c->sep7b_pw, dw2, y);
    window_shift(r, "separable_conv11x1", st->win_u, B, ET_WIN_U, d);
    window_shift(r, "separable_conv_7x1_2", st->win_v, B, ET_WIN_V, 2 * d);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    s = run_push(r, "self_attention");
    layer_norm(r, "layer_prepostprocess", &c->ln_attn, h, u);
    set_cls(r, CLASS_ATTENTION);
    s1 = run_push(r, "multihead_attention");
    layer_attention_step(r, &c->attn, u, &st->kv, t, y);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    s = run_push(r, "second_attend_to_encoder");
    layer_norm(r, "layer_prepostprocess", &c->ln_enc2, h, u);
    s1 = run_push(r, "multihead_attention");
    layer_attention_kv(r, &c->enc2, u, st->kx2, st->vx2, r->src_keep, y);
    run_pop(r, s1);
    layer_residual(r, "residual", h, y);
    run_pop(r, s);

    dec_dense_layers(r, c, h, u, lb, y);
    arena_rewind(r->act, mark);
}

void et_decoder_step(const Model *m, Run *r, const int64_t *cur, int64_t t,
                     const EtCellState *st, Tensor x) {
    int64_t d = m->dec.dim;
    size_t s0 = run_push(r, "decoder");
    r->cls = CLASS_NORM_OTHER;
    embed_tokens(m, r, cur, x); /* token 0 (the start) embeds to the zero vector */
    for (int64_t b = 0; b < x.rows; b++) add_timing(r, &m->dec, t - 1, tensor_rows(x, b, 1));
    for (int i = 0; i < m->dec.nlayers; i++) {
        size_t s1 = run_push(r, "layer_%d", i);
        dec_cell_step(r, &m->et.dec[i], &st[i], d, t, x);
        run_pop(r, s1);
    }
    r->cls = CLASS_NORM_OTHER;
    layer_norm(r, "layer_prepostprocess", &m->et.dec_ln, x, x);
    run_pop(r, s0);
}

uint64_t et_step_cache_bytes(const Model *m, int64_t B, int64_t t, int64_t S) {
    int64_t d = m->dec.dim;
    int64_t lu = t < ET_WIN_U ? t : ET_WIN_U, lv = t < ET_WIN_V ? t : ET_WIN_V;
    /* two self-attention caches of t rows, the conv windows, two cross K/V */
    uint64_t per = (uint64_t)(4 * B * t * d + B * lu * d + B * lv * 2 * d + 4 * S * d);
    return per * 4u * (uint64_t)m->dec.nlayers;
}

int64_t et_scratch_floats(const Model *m, int64_t B, int64_t T) {
    int64_t d = m->dec.dim, a = B * T * d, w = B * ET_WIN_V * 2 * d, u = B * ET_WIN_U * d;
    int64_t mx = a > w ? a : w;
    return mx > u ? mx : u;
}

/* rows [0, rows) of each hypothesis' block (stride per_hyp rows of w) follow parent[] */
static void reorder_block(Run *r, float *base, int64_t B, int64_t per_hyp, int64_t rows,
                          int64_t w, const int *parent, float *scratch) {
    for (int64_t b = 0; b < B; b++) {
        OpArgs a = {0};
        a.x = (Tensor){off(base, b * per_hyp * w), rows, w, w};
        a.y = (Tensor){off(scratch, b * rows * w), rows, w, w};
        op_exec(r, OP_COPY, &a);
    }
    for (int64_t b = 0; b < B; b++) {
        OpArgs a = {0};
        a.x = (Tensor){off(scratch, parent[b] * rows * w), rows, w, w};
        a.y = (Tensor){off(base, b * per_hyp * w), rows, w, w};
        op_exec(r, OP_COPY, &a);
    }
}

void et_state_reorder(const Model *m, Run *r, const EtCellState *st, int64_t B, int64_t t,
                      const int *parent, float *scratch) {
    int64_t d = m->dec.dim;
    for (int i = 0; i < m->dec.nlayers; i++) {
        const EtCellState *s = &st[i];
        size_t s0 = run_push(r, "decoder.layer_%d.reorder", i);
        reorder_block(r, s->kv16.k, B, s->kv16.max_t, t, d, parent, scratch);
        reorder_block(r, s->kv16.v, B, s->kv16.max_t, t, d, parent, scratch);
        reorder_block(r, s->kv.k, B, s->kv.max_t, t, d, parent, scratch);
        reorder_block(r, s->kv.v, B, s->kv.max_t, t, d, parent, scratch);
        reorder_block(r, s->win_u, B, ET_WIN_U, ET_WIN_U, d, parent, scratch);
        reorder_block(r, s->win_v, B, ET_WIN_V, ET_WIN_V, 2 * d, parent, scratch);
        run_pop(r, s0);
    }
}
