/*
 * generate.c - incremental decoding: greedy and beam search over key/value caches and conv
 * windows (see generate.h). B hypotheses run as the rows of one batch.
 *
 * Dimension letters: B hypotheses (beam), S source tokens, T steps (max_steps), d width,
 * w attention width, c conv branch width, K kernel, V target vocabulary.
 */
#include "generate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

/* ---- state ---- */

/* Allocates every layer's caches for B hypotheses and T steps (planned: nothing grows) and
 * computes the cross-attention keys and values from enc_out once. */
static void state_open(const Model *m, Run *r, int64_t B, int64_t T, Tensor enc_out,
                       LayerState *st, uint64_t *bytes) {
    const Stack *dec = &m->dec;
    *bytes = 0;
    for (int i = 0; i < dec->nlayers; i++) {
        const Layer *ly = &dec->layers[i];
        LayerState *s = &st[i];
        memset(s, 0, sizeof *s);
        if (ly->nbranches == 0) {
            int64_t w = ly->self_attn.dim;
            s->kv[0].k = run_tensor(r, B * T, w).data;
            s->kv[0].v = run_tensor(r, B * T, w).data;
            s->kv[0].max_t = T;
            *bytes += 2u * (uint64_t)(B * T * w) * 4u;
        }
        for (int j = 0; j < ly->nbranches; j++) {
            const Branch *b = &ly->br[j];
            if (b->type == BRANCH_ATTN) {
                s->kv[j].k = run_tensor(r, B * T, b->dim).data;
                s->kv[j].v = run_tensor(r, B * T, b->dim).data;
                s->kv[j].max_t = T;
                *bytes += 2u * (uint64_t)(B * T * b->dim) * 4u;
            } else {
                s->conv[j].win = run_tensor(r, B * b->kw, b->dim).data;
                *bytes += (uint64_t)(B * b->kw * b->dim) * 4u;
            }
        }
        if (m->cfg.family == FAMILY_LM) continue; /* no encoder to attend to */
        /* cross-attention keys and values of the encoder output: once per sentence */
        int64_t d = ly->enc_attn.dim, S = enc_out.rows;
        s->kx = run_tensor(r, S, d);
        s->vx = run_tensor(r, S, d);
        *bytes += 2u * (uint64_t)(S * d) * 4u;
        OpClass saved = r->cls;
        r->cls = CLASS_ATTENTION;
        size_t s0 = run_push(r, "decoder.layers.%d.encoder_attn", i);
        layer_linear(r, "k_proj", &ly->enc_attn.k, enc_out, s->kx);
        layer_linear(r, "v_proj", &ly->enc_attn.v, enc_out, s->vx);
        run_pop(r, s0);
        r->cls = saved;
    }
}

/* Bytes step t reads from the state: every hypothesis' t cached keys and values, its conv
 * window of min(t, K) inputs, and the cross-attention keys and values. */
static uint64_t step_cache_bytes(const Model *m, int64_t B, int64_t t, int64_t S) {
    uint64_t n = 0;
    for (int i = 0; i < m->dec.nlayers; i++) {
        const Layer *ly = &m->dec.layers[i];
        if (ly->nbranches == 0) n += 2u * (uint64_t)(B * t * ly->self_attn.dim);
        for (int j = 0; j < ly->nbranches; j++) {
            const Branch *b = &ly->br[j];
            if (b->type == BRANCH_ATTN) n += 2u * (uint64_t)(B * t * b->dim);
            else n += (uint64_t)(B * (t < b->kw ? t : b->kw) * b->dim);
        }
        n += 2u * (uint64_t)(S * ly->enc_attn.dim);
    }
    return n * 4u;
}

/* Beam reordering: hypothesis b continues hypothesis parent[b]; rows [0, t) of every cache
 * (and the conv windows) move through a scratch copy. */
static float *at(float *base, int64_t off) { return base ? base + off : NULL; }

static void reorder_rows(Run *r, float *base, int64_t B, int64_t rows_per_hyp, int64_t rows,
                         int64_t w, const int *parent, Tensor scratch) {
    for (int64_t b = 0; b < B; b++) {
        OpArgs a = {0};
        a.x = (Tensor){at(base, b * rows_per_hyp * w), rows, w, w};
        a.y = (Tensor){at(scratch.data, b * rows * w), rows, w, w};
        op_exec(r, OP_COPY, &a);
    }
    for (int64_t b = 0; b < B; b++) {
        OpArgs a = {0};
        a.x = (Tensor){at(scratch.data, parent[b] * rows * w), rows, w, w};
        a.y = (Tensor){at(base, b * rows_per_hyp * w), rows, w, w};
        op_exec(r, OP_COPY, &a);
    }
}

/* Floats of the largest cache of one layer over B hypotheses and T steps: the size of the
 * reordering scratch, planned once. */
static int64_t reorder_scratch_floats(const Model *m, int64_t B, int64_t T) {
    int64_t mx = 0;
    for (int i = 0; i < m->dec.nlayers; i++) {
        const Layer *ly = &m->dec.layers[i];
        if (ly->nbranches == 0 && B * T * ly->self_attn.dim > mx) mx = B * T * ly->self_attn.dim;
        for (int j = 0; j < ly->nbranches; j++) {
            const Branch *b = &ly->br[j];
            int64_t n = b->type == BRANCH_ATTN ? B * T * b->dim : B * b->kw * b->dim;
            if (n > mx) mx = n;
        }
    }
    return mx;
}

/* Every cache follows its hypothesis: fairseq reorders all incremental state after each
 * beam step (index_select), and so does this (also when the order did not change, so that
 * counting and executing agree). */
static void state_reorder(const Model *m, Run *r, LayerState *st, int64_t B, int64_t t,
                          const int *parent, float *scratch) {
    for (int i = 0; i < m->dec.nlayers; i++) {
        const Layer *ly = &m->dec.layers[i];
        size_t s0 = run_push(r, "decoder.layers.%d.self_attn", i);
        if (ly->nbranches == 0) {
            Tensor sc = {scratch, B * t, ly->self_attn.dim, ly->self_attn.dim};
            reorder_rows(r, st[i].kv[0].k, B, st[i].kv[0].max_t, t, ly->self_attn.dim, parent, sc);
            reorder_rows(r, st[i].kv[0].v, B, st[i].kv[0].max_t, t, ly->self_attn.dim, parent, sc);
        }
        for (int j = 0; j < ly->nbranches; j++) {
            const Branch *b = &ly->br[j];
            size_t s1 = run_push(r, "branches.%d", j);
            if (b->type == BRANCH_ATTN) {
                Tensor sc = {scratch, B * t, b->dim, b->dim};
                reorder_rows(r, st[i].kv[j].k, B, st[i].kv[j].max_t, t, b->dim, parent, sc);
                reorder_rows(r, st[i].kv[j].v, B, st[i].kv[j].max_t, t, b->dim, parent, sc);
            } else {
                Tensor sc = {scratch, B * b->kw, b->dim, b->dim};
                reorder_rows(r, st[i].conv[j].win, B, b->kw, b->kw, b->dim, parent, sc);
            }
            run_pop(r, s1);
        }
        run_pop(r, s0);
    }
}

/* ---- search ---- */

typedef struct {
    double score;   /* normalised log-probability */
    int64_t t;      /* steps it took (its last token is at step t) */
    int slot;       /* its hypothesis row at step t */
    int64_t *toks;  /* (t + 1) start token first */
} Final;

typedef struct {
    int64_t b;
    int64_t tok;
    double score; /* cumulative log-probability */
} Cand;

static int cand_cmp(const void *p, const void *q) {
    const Cand *a = p, *b = q;
    if (a->score != b->score) return a->score > b->score ? -1 : 1;
    if (a->b != b->b) return a->b < b->b ? -1 : 1;
    return a->tok < b->tok ? -1 : (a->tok > b->tok);
}

/* The best `want` (hypothesis, token) continuations: per row the top `want` tokens by
 * log-probability, then the best `want` overall. lp: (B, V) log-probabilities. */
static int top_candidates(const double *lp, const double *score, int64_t rows, int64_t V,
                          int want, Cand *out, Cand *tmp) {
    int n = 0;
    for (int64_t b = 0; b < rows; b++) {
        int k = 0;
        for (int64_t v = 0; v < V; v++) {
            double s = score[b] + lp[b * V + v];
            if (k < want || s > tmp[k - 1].score) {
                int j = k < want ? k++ : want - 1;
                while (j > 0 && tmp[j - 1].score < s) {
                    tmp[j] = tmp[j - 1];
                    j--;
                }
                tmp[j] = (Cand){b, v, s};
            }
        }
        for (int j = 0; j < k; j++) out[n++] = tmp[j];
    }
    /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): set unless count_only */
    qsort(out, (size_t)n, sizeof *out, cand_cmp);
    return n < want ? n : want;
}

/* ---- the run ---- */

SimStatus gen_run(const Model *m, Run *r, const int64_t *src, int64_t S, const GenOptions *o,
                  CostLedger *once, CostLedger **steps, GenStepInfo *info, GenResult *res) {
    memset(res, 0, sizeof *res);
    int64_t B = o->forced ? 1 : (o->beam > 0 ? o->beam : 1);
    int64_t T = o->forced ? o->nforced : o->max_steps;
    int64_t V = m->cfg.tgt_vocab, d = m->dec.dim;
    SimStatus rc = SIM_OK;
    int *parent = NULL;
    int64_t *cur = NULL, *hist = NULL, *nhist = NULL;
    double *score = NULL, *nscore = NULL, *lp = NULL;
    Cand *cand = NULL, *tmp = NULL;
    Final *fin = NULL;
    int nfin = 0;
    LayerState *st = NULL;
    EtCellState *est = NULL;
    float *logit_hist = NULL;
    int *parent_hist = NULL;
    int64_t *inputs = NULL;
    int et = m->cfg.family == FAMILY_EVOLVED;
    /* tensor2tensor starts from the zero vector (token 0) and ends at id 1; fairseq starts
     * from EOS (2) and ends there, and never produces its padding id (1) */
    const int64_t start = et ? ET_PAD : GEN_EOS, eos = et ? ET_EOS : GEN_EOS;
    const int64_t pad = et ? ET_PAD : GEN_PAD;

    if (T < 1 || T > model_max_positions(m))
        return sim_errorf(r->err, SIM_EINVAL,
                          "generate: %lld steps: must be from 1 to the %lld positions planned",
                          (long long)T, (long long)model_max_positions(m));
    st = calloc((size_t)m->dec.nlayers, sizeof *st);
    est = calloc((size_t)m->dec.nlayers, sizeof *est);
    if (o->forced) { /* the decoder inputs of each step (t2t: the targets shifted right) */
        inputs = calloc((size_t)T + 1, sizeof *inputs);
        if (inputs != NULL)
            for (int64_t i = 0; i < T; i++)
                inputs[i] = et ? (i == 0 ? start : o->forced[i - 1]) : o->forced[i];
    }
    parent = calloc((size_t)B, sizeof *parent);
    cur = calloc((size_t)B, sizeof *cur);
    hist = calloc((size_t)(B * (T + 1)), sizeof *hist);
    nhist = calloc((size_t)(B * (T + 1)), sizeof *nhist);
    score = calloc((size_t)B, sizeof *score);
    nscore = calloc((size_t)B, sizeof *nscore);
    fin = calloc((size_t)(2 * B + 1), sizeof *fin);
    parent_hist = calloc((size_t)((T + 1) * B), sizeof *parent_hist);
    int want = (int)(2 * B);
    if (!r->count_only) {
        lp = malloc((size_t)(B * V) * sizeof *lp);
        cand = malloc((size_t)(B * want) * sizeof *cand);
        tmp = malloc((size_t)want * sizeof *tmp);
    }
    if (!st || !est || !parent || !cur || !hist || !nhist || !score || !nscore || !fin ||
        !parent_hist || (o->forced && !inputs) || (!r->count_only && (!lp || !cand || !tmp))) {
        rc = sim_errorf(r->err, SIM_ENOMEM, "out of memory for the search state");
        goto out;
    }

    /* once: the encoder, the caches, the cross-attention keys and values */
    r->ledger = once;
    r->cls = CLASS_NORM_OTHER;
    r->scope_len = 0;
    r->scope[0] = '\0';
    Tensor enc_out = model_encode(m, r, src, S);
    res->state_bytes = 0;
    if (et) et_state_open(m, r, B, T, enc_out, est, &res->state_bytes);
    else state_open(m, r, B, T, enc_out, st, &res->state_bytes);
    int64_t nscratch = et ? et_scratch_floats(m, B, T) : reorder_scratch_floats(m, B, T);
    float *scratch = B > 1 ? run_tensor(r, nscratch, 1).data : NULL;
    if (o->keep_logits) logit_hist = run_tensor(r, T * B, V).data;
    if (r->err->code != SIM_OK) goto out;

    for (int64_t b = 0; b < B; b++) {
        cur[b] = o->forced ? inputs[0] : start;
        hist[b * (T + 1)] = cur[b];
    }
    int64_t t = 1;
    int done = 0;
    for (; t <= T && !done; t++) {
        double t0 = now_ms();
        r->ledger = steps[t - 1];
        cost_ledger_clear(r->ledger);
        size_t mark = arena_mark(r->act);
        /* embed the current token of every hypothesis at position t-1, run the cells */
        Tensor x = run_tensor(r, B, d);
        if (et) {
            et_decoder_step(m, r, cur, t, est, x);
        } else {
            for (int64_t b = 0; b < B; b++)
                model_embed_into(m, r, 1, &cur[b], 1, t - 1, tensor_rows(x, b, 1));
            for (int i = 0; i < m->dec.nlayers; i++) model_decoder_layer_step(m, r, i, x, &st[i], t);
            model_decoder_final_norm(m, r, x);
        }
        Tensor logits = run_tensor(r, B, V);
        model_output_projection(m, r, x, logits);
        info[t - 1].cache_bytes =
            et ? et_step_cache_bytes(m, B, t, S) : step_cache_bytes(m, B, t, S);
        if (r->err->code != SIM_OK) goto out;

        if (r->count_only) { /* tokens are unknown: cost all T steps of B rows */
            if (B > 1 && t < T) {
                if (et) et_state_reorder(m, r, est, B, t, parent, scratch);
                else state_reorder(m, r, st, B, t, parent, scratch);
            }
            arena_rewind(r->act, mark);
            continue;
        }
        if (logit_hist)
            memcpy(logit_hist + (t - 1) * B * V, logits.data, (size_t)(B * V) * sizeof(float));

        if (o->forced) { /* teacher forcing: the next input is given */
            int64_t next = t < o->nforced ? inputs[t] : 0;
            if (t == o->nforced) { /* the last step: report the argmax */
                for (int64_t v = 1; v < V; v++)
                    if (logits.data[v] > logits.data[next]) next = v;
            }
            hist[t] = next;
            cur[0] = next;
            parent_hist[t * B] = 0;
            info[t - 1].ms = now_ms() - t0;
            arena_rewind(r->act, mark);
            continue;
        }

        /* log-softmax per hypothesis (beam search is not counted as model work) */
        double ts = now_ms();
        for (int64_t b = 0; b < B; b++) {
            const float *row = logits.data + b * V;
            double mx = row[0], sum = 0.0;
            for (int64_t v = 1; v < V; v++) mx = row[v] > mx ? row[v] : mx;
            for (int64_t v = 0; v < V; v++) sum += exp((double)row[v] - mx);
            /* sum >= 1: the largest logit adds exp(0) */
            /* cppcheck-suppress invalidFunctionArg */
            double lse = mx + log(sum);
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): set unless count_only */
            for (int64_t v = 0; v < V; v++) lp[b * V + v] = (double)row[v] - lse;
            /* fairseq's SequenceGenerator defaults: never the padding token, and no EOS
             * before one real token (min_len 1). Without early stop the search runs over the
             * whole vocabulary, as the reference decodes of ../shared/golden do. */
            if (o->early_stop) {
                if (pad < V) lp[b * V + pad] = -INFINITY;
                if (t == 1 && eos < V) lp[b * V + eos] = -INFINITY;
            }
        }
        /* step 1: every hypothesis is the start token, so only row 0 is expanded */
        int64_t rows = t == 1 ? 1 : B;
        int nc = top_candidates(lp, score, rows, V, want > V * rows ? (int)(V * rows) : want, cand,
                                tmp);
        int64_t nb = 0;
        for (int k = 0; k < nc && nb < B; k++) {
            const Cand *c = &cand[k];
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): set unless count_only */
            if (o->early_stop && c->tok == eos) {
                if (k < B && nfin < B) { /* fairseq: an EOS among the top beam finishes */
                    Final *f = &fin[nfin++];
                    f->score = c->score / (double)t; /* normalised by length */
                    f->t = t;
                    f->slot = (int)c->b;
                    f->toks = malloc((size_t)(t + 1) * sizeof(int64_t));
                    if (f->toks == NULL) {
                        rc = sim_errorf(r->err, SIM_ENOMEM, "out of memory for hypotheses");
                        goto out;
                    }
                    memcpy(f->toks, hist + c->b * (T + 1), (size_t)t * sizeof(int64_t));
                    f->toks[t] = eos;
                }
                continue;
            }
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): set unless count_only */
            parent[nb] = (int)c->b;
            nscore[nb] = c->score;
            memcpy(nhist + nb * (T + 1), hist + c->b * (T + 1), (size_t)t * sizeof(int64_t));
            nhist[nb * (T + 1) + t] = c->tok;
            nb++;
        }
        if (nfin >= B || nb == 0) done = 1;
        info[t - 1].search_ms = now_ms() - ts;
        if (!done) {
            for (int64_t b = nb; b < B; b++) { /* fewer continuations than slots: repeat */
                parent[b] = parent[0];
                nscore[b] = -INFINITY;
                memcpy(nhist + b * (T + 1), nhist, (size_t)(t + 1) * sizeof(int64_t));
            }
            if (B > 1 && t < T) {
                if (et) et_state_reorder(m, r, est, B, t, parent, scratch);
                else state_reorder(m, r, st, B, t, parent, scratch);
            }
            for (int64_t b = 0; b < B; b++) {
                parent_hist[t * B + b] = parent[b];
                cur[b] = nhist[b * (T + 1) + t];
                score[b] = nscore[b];
            }
            int64_t *sw = hist;
            hist = nhist;
            nhist = sw;
        }
        info[t - 1].ms = now_ms() - t0;
        arena_rewind(r->act, mark);
    }
    res->steps = t - 1;
    if (r->count_only || r->err->code != SIM_OK) goto out;

    /* the reported hypothesis: the best finished one, or the best still running */
    int64_t steps_run = res->steps, best_slot = 0, best_t = steps_run;
    const int64_t *best_toks = hist;
    double best = -INFINITY;
    if (o->forced) {
        best = 0.0;
    } else {
        for (int k = 0; k < nfin; k++)
            if (fin[k].score > best) {
                best = fin[k].score;
                best_toks = fin[k].toks;
                best_t = fin[k].t;
                best_slot = fin[k].slot;
                res->finished = 1;
            }
        if (nfin == 0 || (!o->early_stop)) {
            for (int64_t b = 0; b < B; b++) {
                double s = score[b] / (double)steps_run;
                if (s > best) {
                    best = s;
                    best_toks = hist + b * (T + 1);
                    best_t = steps_run;
                    /* its last logits came from its parent's row at the last step */
                    best_slot = parent_hist[steps_run * B + b];
                    res->finished = 0;
                }
            }
        }
    }
    res->score = best;
    res->tokens = malloc((size_t)(best_t + 1) * sizeof(int64_t));
    if (res->tokens == NULL) {
        rc = sim_errorf(r->err, SIM_ENOMEM, "out of memory for the tokens");
        goto out;
    }
    memcpy(res->tokens, best_toks, (size_t)(best_t + 1) * sizeof(int64_t));
    res->steps = best_t;
    if (logit_hist) {
        res->step_logits = malloc((size_t)(best_t * V) * sizeof(float));
        if (res->step_logits == NULL) {
            rc = sim_errorf(r->err, SIM_ENOMEM, "out of memory for the step logits");
            goto out;
        }
        /* walk the hypothesis back through its parents */
        int64_t slot = best_slot;
        for (int64_t s = best_t; s >= 1; s--) {
            memcpy(res->step_logits + (s - 1) * V, logit_hist + ((s - 1) * B + slot) * V,
                   (size_t)V * sizeof(float));
            if (s > 1) slot = parent_hist[(s - 1) * B + slot];
        }
    }
out:
    for (int k = 0; k < nfin; k++) free(fin[k].toks);
    free(fin);
    free(st);
    free(est);
    free(inputs);
    free(parent);
    free(cur);
    free(hist);
    free(nhist);
    free(score);
    free(nscore);
    free(lp);
    free(cand);
    free(tmp);
    free(parent_hist);
    if (r->err->code != SIM_OK) {
        gen_result_free(res);
        return r->err->code;
    }
    return rc;
}

void gen_result_free(GenResult *res) {
    free(res->tokens);
    free(res->step_logits);
    res->tokens = NULL;
    res->step_logits = NULL;
}
