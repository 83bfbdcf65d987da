/*
 * lm.c - the language models' adaptive input and tied adaptive softmax (fairseq's
 * AdaptiveInput / AdaptiveSoftmax, architectures.md §8) over op_exec.
 *
 * Dimension letters: T tokens, d width, V vocabulary; band b covers ids [start_b, start_b+1)
 * with width d_b = d / factor^b. The adaptive input maps a token of band b through its
 * band's table (size_b, d_b) and projection (d, d_b) to d. The tied adaptive softmax scores
 * the head (band 0's words with band 0's table, plus one cluster logit per tail band), and
 * each tail band through the transpose of its input projection and its table:
 *   log p(w in band b > 0) = log softmax(head)[cluster b] + log softmax(tail_b)[w].
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "arena.h"
#include "model_int.h"

void lm_register(Reg *g, Model *m) {
    const ModelConfig *cfg = &m->cfg;
    LmWeights *lm = &m->lm;
    const AdaptiveSpec *a = &cfg->adaptive_input;
    int64_t d = cfg->dec.embed_dim, V = cfg->tgt_vocab, w = d;
    lm->nbands = a->n + 1;
    lm->start[0] = 0;
    for (int b = 0; b < lm->nbands; b++) {
        lm->start[b + 1] = b < a->n ? a->cutoff[b] : V;
        lm->dim[b] = w; /* fairseq: int(d // factor ** b) */
        w /= a->factor;
    }
    for (int b = 0; b < lm->nbands; b++) {
        model_reg_add(g, PARAM_EMBEDDING, &lm->emb[b], lm->start[b + 1] - lm->start[b],
                      lm->dim[b], "decoder.embed_tokens.embeddings.%d.0.weight", b);
        model_reg_add(g, PARAM_EMBED_PROJ, &lm->proj[b], d, lm->dim[b],
                      "decoder.embed_tokens.embeddings.%d.1.weight", b);
    }
    if (cfg->adaptive_softmax.n > 0) {
        if (!cfg->tie_adaptive_proj) {
            sim_errorf(g->err, SIM_EINVAL,
                       "%s: an adaptive softmax without tie-adaptive-proj is not supported by "
                       "this build",
                       cfg->path);
            return;
        }
        lm->softmax = 1;
        model_reg_add(g, PARAM_OUTPUT, &lm->class_proj, lm->nbands - 1, d,
                      "decoder.adaptive_softmax.head.class_proj.weight");
    } else if (cfg->share_decoder_input_output_embed) {
        sim_errorf(g->err, SIM_EINVAL,
                   "%s: share-decoder-input-output-embed needs a plain embedding, not the adaptive "
                   "input (use tie-adaptive-weights with an adaptive softmax)",
                   cfg->path);
    }
}

static int band_of(const LmWeights *lm, int64_t tok) {
    int b = 0;
    while (b + 1 < lm->nbands && tok >= lm->start[b + 1]) b++;
    return b;
}

void lm_adaptive_embed(const Model *m, Run *r, const int64_t *tok, Tensor x) {
    const LmWeights *lm = &m->lm;
    OpClass saved = r->cls;
    r->cls = CLASS_EMBED_OUTPUT;
    float scale = m->cfg.no_scale_embedding ? 1.0f : (float)sqrt((double)m->dec.dim);
    size_t s0 = run_push(r, "embed_tokens");
    for (int64_t i = 0; i < x.rows; i++) {
        if (r->err->code != SIM_OK) break;
        /* out-of-vocabulary ids are rejected by the embedding of band 0's table check below */
        int b = tok[i] < 0 ? 0 : band_of(lm, tok[i]);
        int64_t local = tok[i] - lm->start[b];
        size_t mark = arena_mark(r->act);
        Tensor e = run_tensor(r, 1, lm->dim[b]); /* (1, d_b) */
        size_t s1 = run_push(r, "embeddings.%d.0", b);
        OpArgs a = {0};
        a.w = lm->emb[b];
        a.y = e;
        a.tokens = &local;
        a.scale = scale; /* the sqrt(d) scale commutes with the projection */
        op_exec(r, OP_EMBED, &a);
        run_pop(r, s1);
        Linear proj = {.w = lm->proj[b]};
        s1 = run_push(r, "embeddings.%d", b);
        layer_linear(r, "1", &proj, e, tensor_rows(x, i, 1));
        run_pop(r, s1);
        arena_rewind(r->act, mark);
    }
    run_pop(r, s0);
    r->cls = saved;
}

void lm_adaptive_softmax(const Model *m, Run *r, Tensor h, Tensor out) {
    const LmWeights *lm = &m->lm;
    int64_t T = h.rows, c0 = lm->start[1], ncl = lm->nbands - 1;
    OpClass saved = r->cls;
    r->cls = CLASS_EMBED_OUTPUT;
    size_t s0 = run_push(r, "decoder.adaptive_softmax");
    size_t mark = arena_mark(r->act);
    Tensor head = run_tensor(r, T, c0 + ncl); /* (T, c0 + clusters) */
    Linear words = {.w = lm->emb[0]};
    Linear cls = {.w = lm->class_proj};
    layer_linear(r, "head.word_proj", &words, h, tensor_cols(head, 0, c0));
    layer_linear(r, "head.class_proj", &cls, h, tensor_cols(head, c0, ncl));
    size_t s1 = run_push(r, "head");
    OpArgs ls = {0};
    ls.x = head;
    ls.y = head;
    op_exec(r, OP_LOG_SOFTMAX, &ls);
    OpArgs cp = {0};
    cp.x = tensor_cols(head, 0, c0);
    cp.y = tensor_cols(out, 0, c0);
    op_exec(r, OP_COPY, &cp);
    run_pop(r, s1);
    for (int b = 1; b < lm->nbands; b++) {
        int64_t size = lm->start[b + 1] - lm->start[b];
        Tensor p = run_tensor(r, T, lm->dim[b]);                /* (T, d_b) */
        Tensor o = tensor_cols(out, lm->start[b], size);        /* (T, size_b) */
        s1 = run_push(r, "tail.%d", b - 1);
        /* the tied projection: the input projection (d, d_b) read transposed */
        size_t s2 = run_push(r, "0");
        OpArgs pr = {0};
        pr.x = h;
        pr.w = lm->proj[b];
        pr.w_trans = 1;
        pr.y = p;
        op_exec(r, OP_LINEAR, &pr);
        run_pop(r, s2);
        Linear tab = {.w = lm->emb[b]};
        layer_linear(r, "2", &tab, p, o);
        OpArgs tl = {0};
        tl.x = o;
        tl.y = o;
        op_exec(r, OP_LOG_SOFTMAX, &tl);
        OpArgs ac = {0};
        ac.y = o;
        ac.x2 = tensor_cols(head, c0 + b - 1, 1); /* log p(cluster b) */
        op_exec(r, OP_ADD_COL, &ac);
        run_pop(r, s1);
    }
    arena_rewind(r->act, mark);
    run_pop(r, s0);
    r->cls = saved;
}
