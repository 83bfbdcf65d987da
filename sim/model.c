/*
 * model.c - parameter registry, weight initialisation and loading, and the forward
 * passes of the fairseq families (transformer, transformer_multibranch_v2).
 *
 * Dimension letters: S source tokens, T target tokens, d width, V vocabulary, c branch
 * width, H heads, F FFN width, KW kernel width.
 */
#include "model.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "compress.h"
#include "evolved.h"
#include "model_int.h"
#include "safetensors.h"

#define PADDING_IDX 1 /* fairseq Dictionary: bos 0, pad 1, eos 2, unk 3 */

/* ---- registry ---- */

void model_reg_add(Reg *g, ParamKind kind, Tensor *dst, int64_t rows, int64_t cols,
                    const char *fmt, ...) {
    if (g->err->code != SIM_OK) return;
    Model *m = g->m;
    if (m->nparams == g->cap) {
        int cap = g->cap ? g->cap * 2 : 256;
        ParamEntry *p = realloc(m->params, (size_t)cap * sizeof *p);
        if (p == NULL) {
            sim_errorf(g->err, SIM_ENOMEM, "out of memory building the parameter registry");
            return;
        }
        m->params = p;
        g->cap = cap;
    }
    ParamEntry *e = &m->params[m->nparams++];
    memset(e, 0, sizeof *e);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->name, sizeof e->name, fmt, ap);
    va_end(ap);
    e->kind = kind;
    e->dst = dst;
    e->rows = rows;
    e->cols = cols;
    *dst = tensor_make(NULL, rows, cols);
}

void model_reg_linear(Reg *g, Linear *l, int64_t out, int64_t in, int bias, const char *prefix) {
    model_reg_add(g, PARAM_WEIGHT, &l->w, out, in, "%s.weight", prefix);
    if (bias)
        model_reg_add(g, PARAM_BIAS, &l->b, 1, out, "%s.bias", prefix);
    else
        l->b = tensor_make(NULL, 0, 0);
}

void model_reg_norm(Reg *g, Norm *n, int64_t d, const char *prefix) {
    model_reg_add(g, PARAM_NORM_GAIN, &n->g, 1, d, "%s.weight", prefix);
    model_reg_add(g, PARAM_NORM_SHIFT, &n->b, 1, d, "%s.bias", prefix);
    n->eps = 1e-5f; /* fairseq's LayerNorm */
}

static void reg_attention(Reg *g, Attention *a, int64_t w, int64_t d_q, int64_t d_kv,
                          int64_t heads, const char *prefix) {
    char p[200];
    a->dim = w;
    a->heads = heads;
    snprintf(p, sizeof p, "%s.k_proj", prefix);
    model_reg_linear(g, &a->k, w, d_kv, 1, p);
    snprintf(p, sizeof p, "%s.v_proj", prefix);
    model_reg_linear(g, &a->v, w, d_kv, 1, p);
    snprintf(p, sizeof p, "%s.q_proj", prefix);
    model_reg_linear(g, &a->q, w, d_q, 1, p);
    snprintf(p, sizeof p, "%s.out_proj", prefix);
    model_reg_linear(g, &a->out, w, w, 1, p);
}

/* One encoder or decoder layer in fairseq's registration order. */
static void reg_layer(Reg *g, const ModelConfig *cfg, const StackConfig *sc, int decoder, int i,
                      Layer *ly) {
    char p[200], q[240];
    const char *side = decoder ? "decoder" : "encoder";
    int64_t d = sc->embed_dim;
    snprintf(p, sizeof p, "%s.layers.%d", side, i);
    ly->nbranches = sc->nbranches;
    if (sc->nbranches == 0) {
        snprintf(q, sizeof q, "%s.self_attn", p);
        reg_attention(g, &ly->self_attn, d, d, d, sc->heads[i], q);
    }
    int64_t off = 0;
    for (int b = 0; b < sc->nbranches; b++) {
        const BranchSpec *bs = &sc->branches[b];
        Branch *br = &ly->br[b];
        br->type = bs->type;
        br->off = off;
        br->dim = bs->dim;
        br->heads = bs->heads;
        off += bs->dim;
        snprintf(q, sizeof q, "%s.self_attn.branches.%d", p, b);
        if (bs->type == BRANCH_ATTN) {
            reg_attention(g, &br->attn, bs->dim, bs->dim, bs->dim, bs->heads, q);
            continue;
        }
        int64_t kw = bs->kernel > 0 ? bs->kernel : sc->kernel_size[i];
        br->kw = kw;
        /* encoder: centred ((K-1)/2 on the left, = K//2 for odd K); decoder: causal */
        br->pad = decoder ? kw - 1 : (kw - 1) / 2;
        br->with_linear = cfg->conv_linear;
        br->weight_softmax = cfg->weight_softmax;
        br->glu = bs->type == BRANCH_DYNAMIC && sc->glu && cfg->conv_linear;
        char n[260];
        if (bs->type == BRANCH_DYNAMIC) {
            snprintf(n, sizeof n, "%s.weight_linear", q);
            model_reg_linear(g, &br->weight_linear, bs->heads * kw, bs->dim, 0, n);
        } else {
            model_reg_add(g, PARAM_CONV_KERNEL, &br->kernel, bs->heads, kw, "%s.weight", q);
        }
        if (cfg->conv_linear) {
            snprintf(n, sizeof n, "%s.linear1", q);
            model_reg_linear(g, &br->linear1, br->glu ? 2 * bs->dim : bs->dim, bs->dim, 1, n);
            snprintf(n, sizeof n, "%s.linear2", q);
            model_reg_linear(g, &br->linear2, bs->dim, bs->dim, 1, n);
        }
    }
    snprintf(q, sizeof q, "%s.self_attn_layer_norm", p);
    model_reg_norm(g, &ly->self_attn_ln, d, q);
    if (decoder && cfg->family != FAMILY_LM) {
        snprintf(q, sizeof q, "%s.encoder_attn", p);
        reg_attention(g, &ly->enc_attn, d, d, cfg->enc.embed_dim, sc->heads[i], q);
        snprintf(q, sizeof q, "%s.encoder_attn_layer_norm", p);
        model_reg_norm(g, &ly->enc_attn_ln, d, q);
    }
    snprintf(q, sizeof q, "%s.fc1", p);
    model_reg_linear(g, &ly->fc1, sc->ffn_dim[i], d, 1, q);
    snprintf(q, sizeof q, "%s.fc2", p);
    model_reg_linear(g, &ly->fc2, d, sc->ffn_dim[i], 1, q);
    snprintf(q, sizeof q, "%s.final_layer_norm", p);
    model_reg_norm(g, &ly->final_ln, d, q);
}

static void reg_stack(Reg *g, Model *m, int decoder) {
    const ModelConfig *cfg = &m->cfg;
    const StackConfig *sc = decoder ? &cfg->dec : &cfg->enc;
    Stack *s = decoder ? &m->dec : &m->enc;
    const char *side = decoder ? "decoder" : "encoder";
    s->dim = sc->embed_dim;
    s->nlayers = sc->layers;
    s->normalize_before = sc->normalize_before;
    s->layers = calloc((size_t)sc->layers, sizeof *s->layers);
    if (s->layers == NULL) {
        sim_errorf(g->err, SIM_ENOMEM, "out of memory building %s layers", side);
        return;
    }
    int adaptive_in = decoder && cfg->adaptive_input.n > 0;
    if ((!decoder || !cfg->share_all_embeddings) && !adaptive_in)
        model_reg_add(g, PARAM_EMBEDDING, &s->embed, decoder ? cfg->tgt_vocab : cfg->src_vocab,
                sc->embed_dim, "%s.embed_tokens.weight", side);
    if (adaptive_in) lm_register(g, m);
    for (int i = 0; i < sc->layers; i++) reg_layer(g, cfg, sc, decoder, i, &s->layers[i]);
    s->final_norm = sc->normalize_before && !(decoder && cfg->no_final_norm);
    if (s->final_norm) {
        char p[64];
        snprintf(p, sizeof p, "%s.layer_norm", side);
        model_reg_norm(g, &s->final_ln, sc->embed_dim, p);
    }
    if (decoder && !cfg->share_all_embeddings && !cfg->share_decoder_input_output_embed &&
        !m->lm.softmax)
        model_reg_add(g, PARAM_OUTPUT, &m->out_proj, cfg->tgt_vocab, sc->embed_dim, "decoder.embed_out");
}

/* ---- initialisation ---- */

typedef struct {
    uint64_t s;
} Rng;

static uint64_t rng_u64(Rng *r) { /* xorshift64* */
    r->s ^= r->s >> 12;
    r->s ^= r->s << 25;
    r->s ^= r->s >> 27;
    return r->s * 2685821657736338717ull;
}

static float rng_uniform(Rng *r) { /* [0, 1) */
    return (float)((rng_u64(r) >> 40) * (1.0 / 16777216.0));
}

static float rng_normal(Rng *r) { /* Box-Muller */
    float u1 = rng_uniform(r), u2 = rng_uniform(r);
    if (u1 < 1e-7f) u1 = 1e-7f;
    return sqrtf(-2.0f * logf(u1)) * cosf(6.2831853f * u2);
}

static void init_param(Rng *g, const ParamEntry *e, int zero_padding_row) {
    float *x = e->dst->data;
    int64_t n = e->rows * e->cols;
    switch (e->kind) {
    case PARAM_WEIGHT:
    case PARAM_TF_KERNEL:
    case PARAM_TF_CONV1D:
    case PARAM_TF_DEPTHWISE:
    case PARAM_EMBED_PROJ:
    case PARAM_CONV_KERNEL: {
        /* Xavier uniform: U(-a, a), a = sqrt(6 / (fan_in + fan_out)) */
        float a = sqrtf(6.0f / (float)(e->rows + e->cols));
        for (int64_t i = 0; i < n; i++) x[i] = (2.0f * rng_uniform(g) - 1.0f) * a;
        break;
    }
    case PARAM_BIAS:
    case PARAM_NORM_SHIFT:
        /* non-zero so that every bias path is exercised */
        for (int64_t i = 0; i < n; i++) x[i] = (2.0f * rng_uniform(g) - 1.0f) * 0.1f;
        break;
    case PARAM_NORM_GAIN:
        for (int64_t i = 0; i < n; i++) x[i] = 1.0f + (2.0f * rng_uniform(g) - 1.0f) * 0.1f;
        break;
    case PARAM_EMBEDDING:
    case PARAM_OUTPUT: {
        /* fairseq: N(0, d^-0.5), padding row zero */
        float sd = 1.0f / sqrtf((float)e->cols);
        for (int64_t i = 0; i < n; i++) x[i] = rng_normal(g) * sd;
        if (zero_padding_row && e->kind == PARAM_EMBEDDING && e->rows > PADDING_IDX)
            memset(x + PADDING_IDX * e->cols, 0, (size_t)e->cols * sizeof(float));
        break;
    }
    }
}

/* ---- loading ---- */

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static int ignored_tensor(const char *name) {
    return ends_with(name, ".version") || ends_with(name, ".embed_positions._float_tensor") ||
           ends_with(name, ".embed_positions.weights") || strcmp(name, "version") == 0;
}

static void shape_str(const StTensorInfo *t, char *buf, size_t n) {
    size_t k = 0;
    k += (size_t)snprintf(buf + k, n - k, "[");
    for (int i = 0; i < t->ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? "," : "", (long long)t->shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
}

static void expected_str(const ParamEntry *e, char *buf, size_t n) {
    long long r = (long long)e->rows, c = (long long)e->cols, k = (long long)e->aux;
    if (e->kind == PARAM_BIAS || e->kind == PARAM_NORM_GAIN || e->kind == PARAM_NORM_SHIFT)
        snprintf(buf, n, "[%lld]", (long long)e->cols);
    else if (e->kind == PARAM_TF_KERNEL) /* (in, out), or (1, in, out) for a pointwise conv */
        snprintf(buf, n, e->aux ? "[1,%lld,%lld]" : "[%lld,%lld]", c, r);
    else if (e->kind == PARAM_TF_CONV1D) /* (K, Cin, Cout) */
        snprintf(buf, n, "[%lld,%lld,%lld]", k, r / (k ? k : 1), c);
    else if (e->kind == PARAM_TF_DEPTHWISE) /* (K, C, 1) */
        snprintf(buf, n, "[%lld,%lld,1]", r, c);
    else if (e->kind == PARAM_CONV_KERNEL)
        snprintf(buf, n, "[%lld,1,%lld] or [%lld,%lld]", (long long)e->rows, (long long)e->cols,
                 (long long)e->rows, (long long)e->cols);
    else
        snprintf(buf, n, "[%lld,%lld]", (long long)e->rows, (long long)e->cols);
}

static int shape_ok(const ParamEntry *e, const StTensorInfo *t) {
    if (e->kind == PARAM_BIAS || e->kind == PARAM_NORM_GAIN || e->kind == PARAM_NORM_SHIFT)
        return t->ndim == 1 && t->shape[0] == e->cols;
    if (e->kind == PARAM_TF_KERNEL)
        return e->aux ? t->ndim == 3 && t->shape[0] == 1 && t->shape[1] == e->cols &&
                            t->shape[2] == e->rows
                      : t->ndim == 2 && t->shape[0] == e->cols && t->shape[1] == e->rows;
    if (e->kind == PARAM_TF_CONV1D)
        return t->ndim == 3 && t->shape[0] == e->aux && t->shape[0] * t->shape[1] == e->rows &&
               t->shape[2] == e->cols;
    if (e->kind == PARAM_TF_DEPTHWISE)
        return t->ndim == 3 && t->shape[0] == e->rows && t->shape[1] == e->cols &&
               t->shape[2] == 1;
    if (e->kind == PARAM_CONV_KERNEL)
        return (t->ndim == 2 && t->shape[0] == e->rows && t->shape[1] == e->cols) ||
               (t->ndim == 3 && t->shape[0] == e->rows && t->shape[1] == 1 &&
                t->shape[2] == e->cols);
    return t->ndim == 2 && t->shape[0] == e->rows && t->shape[1] == e->cols;
}

/* Legacy fairseq attention stores q, k, v stacked in in_proj_weight (3w, d) / in_proj_bias
 * (3w); returns the tensor and the part index (q 0, k 1, v 2), or NULL. */
static const StTensorInfo *find_in_proj(const SafeTensors *st, const ParamEntry *e, int *part) {
    static const char *const parts[3] = {".q_proj.", ".k_proj.", ".v_proj."};
    for (int i = 0; i < 3; i++) {
        const char *at = strstr(e->name, parts[i]);
        if (at == NULL) continue;
        char name[200];
        int plen = (int)(at - e->name);
        snprintf(name, sizeof name, "%.*s.in_proj_%s", plen, e->name,
                 e->kind == PARAM_BIAS ? "bias" : "weight");
        *part = i;
        return st_find(st, name);
    }
    return NULL;
}

static SimStatus load_one(const SafeTensors *st, const ParamEntry *e, char *used,
                          SimError *err) {
    const char *path = st_path(st);
    const StTensorInfo *t = st_find(st, e->name);
    char want[96], got[96];
    expected_str(e, want, sizeof want);
    if (t == NULL) {
        int part = 0;
        const StTensorInfo *ip = find_in_proj(st, e, &part);
        if (ip != NULL) {
            int64_t n = e->rows * e->cols;
            int bias = e->kind == PARAM_BIAS;
            int ok = ip->dtype == ST_F32 &&
                     (bias ? ip->ndim == 1 && ip->shape[0] == 3 * e->cols
                           : ip->ndim == 2 && ip->shape[0] == 3 * e->rows &&
                                 ip->shape[1] == e->cols);
            if (!ok) {
                shape_str(ip, got, sizeof got);
                return sim_errorf(err, SIM_EINVAL,
                                  "%s: tensor %s has shape %s %s; expected 3 x %s F32 for %s",
                                  path, ip->name, got, st_dtype_name(ip->dtype), want, e->name);
            }
            const float *src = st_data(st, ip);
            memcpy(e->dst->data, src + (size_t)part * (size_t)n, (size_t)n * sizeof(float));
            used[ip - st_get(st, 0)] = 1;
            return SIM_OK;
        }
        return sim_errorf(err, SIM_EINVAL, "%s: missing tensor %s (expected %s F32)", path,
                          e->name, want);
    }
    if (t->dtype != ST_F32)
        return sim_errorf(err, SIM_EINVAL, "%s: tensor %s has dtype %s, expected F32", path,
                          e->name, st_dtype_name(t->dtype));
    if (!shape_ok(e, t)) {
        shape_str(t, got, sizeof got);
        return sim_errorf(err, SIM_EINVAL, "%s: tensor %s has shape %s, expected %s", path,
                          e->name, got, want);
    }
    if (e->kind == PARAM_TF_KERNEL) { /* tensor2tensor's (in, out) -> PyTorch's (out, in) */
        const unsigned char *src = st_data(st, t);
        for (int64_t i = 0; i < e->cols; i++)
            for (int64_t o = 0; o < e->rows; o++) {
                float v;
                memcpy(&v, src + ((size_t)(i * e->rows + o)) * sizeof(float), sizeof v);
                e->dst->data[o * e->cols + i] = v;
            }
    } else {
        memcpy(e->dst->data, st_data(st, t), (size_t)(e->rows * e->cols) * sizeof(float));
    }
    used[t - st_get(st, 0)] = 1;
    return SIM_OK;
}

static SimStatus load_weights(Model *m, const ModelOptions *opt, SimError *err) {
    SafeTensors *st = NULL;
    char *used = NULL;
    SimStatus rc = st_open(opt->weights, &st, err);
    if (rc != SIM_OK) return rc;
    int n = st_count(st);
    used = calloc((size_t)n + 1, 1);
    if (used == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory loading %s", opt->weights);
        goto out;
    }
    for (int i = 0; i < m->nparams; i++) {
        rc = load_one(st, &m->params[i], used, err);
        if (rc != SIM_OK) goto out;
    }
    /* share-all: decoder.embed_tokens.weight is the same matrix as the encoder's */
    if (m->cfg.share_all_embeddings) {
        const StTensorInfo *t = st_find(st, "decoder.embed_tokens.weight");
        if (t != NULL) {
            const Tensor *e = &m->enc.embed;
            if (t->dtype != ST_F32 || t->ndim != 2 || t->shape[0] != e->rows ||
                t->shape[1] != e->cols) {
                char got[96];
                shape_str(t, got, sizeof got);
                rc = sim_errorf(err, SIM_EINVAL,
                                "%s: tensor decoder.embed_tokens.weight has shape %s %s, expected "
                                "[%lld,%lld] F32 (tied to encoder.embed_tokens.weight)",
                                opt->weights, got, st_dtype_name(t->dtype), (long long)e->rows,
                                (long long)e->cols);
                goto out;
            }
            if (memcmp(st_data(st, t), e->data, (size_t)(e->rows * e->cols) * sizeof(float)) != 0) {
                rc = sim_errorf(err, SIM_EINVAL,
                                "%s: decoder.embed_tokens.weight differs from "
                                "encoder.embed_tokens.weight, but share-all-embeddings ties them",
                                opt->weights);
                goto out;
            }
            used[t - st_get(st, 0)] = 1;
        }
    }
    int extra = 0;
    char list[400] = "";
    size_t k = 0;
    for (int i = 0; i < n; i++) {
        const StTensorInfo *t = st_get(st, i);
        if (used[i] || ignored_tensor(t->name)) continue;
        if (extra < 4 && k < sizeof list)
            k += (size_t)snprintf(list + k, sizeof list - k, "%s%s", extra ? ", " : "", t->name);
        extra++;
    }
    if (extra > 0) {
        if (!opt->allow_extra_tensors) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s: %d unexpected tensor%s for this config: %s%s (pass "
                            "--allow-extra-tensors to ignore them)",
                            opt->weights, extra, extra > 1 ? "s" : "", list, extra > 4 ? ", ..." : "");
            goto out;
        }
        snprintf(m->warning, sizeof m->warning, "%s: ignored %d unexpected tensor%s: %s%s",
                 opt->weights, extra, extra > 1 ? "s" : "", list, extra > 4 ? ", ..." : "");
    }
out:
    free(used);
    st_close(st);
    return rc;
}

/* ---- saving ---- */

SimStatus model_save_weights(const Model *m, const char *path, SimError *err) {
    int n = m->nparams + 1;
    StWriteItem *items = calloc((size_t)n, sizeof *items);
    float **bufs = calloc((size_t)n, sizeof *bufs);
    SimStatus rc = SIM_OK;
    int k = 0;
    if (items == NULL || bufs == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory saving weights");
        goto out;
    }
    for (int i = 0; i < m->nparams; i++) {
        const ParamEntry *e = &m->params[i];
        StWriteItem *it = &items[k++];
        it->name = e->name;
        it->dtype = ST_F32;
        it->data = e->dst->data;
        it->ndim = 2;
        it->shape[0] = e->rows;
        it->shape[1] = e->cols;
        switch (e->kind) {
        case PARAM_BIAS:
        case PARAM_NORM_GAIN:
        case PARAM_NORM_SHIFT:
            it->ndim = 1;
            it->shape[0] = e->cols;
            break;
        case PARAM_CONV_KERNEL: /* fairseq's CPU module: [H, 1, K] */
            it->ndim = 3;
            it->shape[1] = 1;
            it->shape[2] = e->cols;
            break;
        case PARAM_TF_CONV1D:
            it->ndim = 3;
            it->shape[0] = e->aux;
            it->shape[1] = e->rows / e->aux;
            it->shape[2] = e->cols;
            break;
        case PARAM_TF_DEPTHWISE:
            it->ndim = 3;
            it->shape[2] = 1;
            break;
        case PARAM_TF_KERNEL: { /* held (out, in): write (in, out) */
            float *t = malloc((size_t)(e->rows * e->cols) * sizeof *t);
            if (t == NULL) {
                rc = sim_errorf(err, SIM_ENOMEM, "out of memory saving %s", e->name);
                goto out;
            }
            for (int64_t o = 0; o < e->rows; o++)
                for (int64_t j = 0; j < e->cols; j++) t[j * e->rows + o] = e->dst->data[o * e->cols + j];
            bufs[i] = t;
            it->data = t;
            it->ndim = e->aux ? 3 : 2;
            int64_t sh[3] = {1, e->cols, e->rows};
            for (int d = 0; d < it->ndim; d++) it->shape[d] = sh[3 - it->ndim + d];
            break;
        }
        default: break;
        }
    }
    if (m->cfg.share_all_embeddings && m->cfg.family != FAMILY_EVOLVED) {
        /* fairseq's state_dict holds the tied table under both names */
        StWriteItem *it = &items[k++];
        it->name = "decoder.embed_tokens.weight";
        it->dtype = ST_F32;
        it->ndim = 2;
        it->shape[0] = m->enc.embed.rows;
        it->shape[1] = m->enc.embed.cols;
        it->data = m->enc.embed.data;
    }
    rc = st_write(path, items, k, err);
out:
    for (int i = 0; bufs && i < n; i++) free(bufs[i]);
    free(bufs);
    free(items);
    return rc;
}

/* ---- open / close ---- */

const ParamEntry *model_param(const Model *m, const char *name) {
    for (int i = 0; i < m->nparams; i++)
        if (strcmp(m->params[i].name, name) == 0) return &m->params[i];
    return NULL;
}

static size_t aligned_bytes(int64_t n) { return ((size_t)n * sizeof(float) + 63) & ~(size_t)63; }

SimStatus model_open(const ModelConfig *cfg, const ModelOptions *opt, Model **out, SimError *err) {
    *out = NULL;
    SimStatus rc = config_validate(cfg, err);
    if (rc != SIM_OK) return rc;
    if (cfg->family == FAMILY_LM && cfg->adaptive_softmax.n > 0 && !cfg->tie_adaptive_weights)
        return sim_errorf(err, SIM_EINVAL,
                          "%s: an adaptive softmax without tie-adaptive-weights is not supported by "
                          "this build",
                          cfg->path);
    Model *m = calloc(1, sizeof *m);
    if (m == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory allocating a model");
    m->cfg = *cfg;
    Reg g = {m, 0, err};
    int t2t = cfg->family == FAMILY_EVOLVED;
    if (t2t) {
        et_register(&g, m);
    } else {
        if (cfg->enc.layers > 0) reg_stack(&g, m, 0);
        reg_stack(&g, m, 1);
    }
    if (err->code != SIM_OK) goto fail;

    /* positions: fairseq's first token is at row padding_idx + 1 (row padding_idx zero);
     * tensor2tensor's timing signal starts at 0 */
    int64_t pos_off = t2t ? 0 : PADDING_IDX + 1, zero_row = t2t ? -1 : PADDING_IDX;
    m->enc.pos_offset = m->dec.pos_offset = pos_off;
    int64_t pos_rows = (opt->max_positions > 0 ? opt->max_positions : 1) + pos_off;
    size_t bytes = 0;
    for (int i = 0; i < m->nparams; i++) {
        const ParamEntry *e = &m->params[i];
        uint64_t n = (uint64_t)(e->rows * e->cols);
        m->params_total += n;
        if (e->kind == PARAM_OUTPUT) m->params_output_projection += n;
        else if (e->kind != PARAM_EMBEDDING && e->kind != PARAM_EMBED_PROJ) m->params_headline += n;
        bytes += aligned_bytes(e->rows * e->cols);
    }
    m->weight_bytes = m->params_total * 4u;
    bytes += aligned_bytes(pos_rows * cfg->enc.embed_dim) + aligned_bytes(pos_rows * cfg->dec.embed_dim);
    if (opt->compress != NULL) bytes += compress_extra_bytes(m, opt->compress);

    if (!opt->count_only) {
        Arena *a = arena_open(bytes, 0, err);
        if (a == NULL) goto fail;
        m->weights = a;
        for (int i = 0; i < m->nparams; i++) {
            ParamEntry *e = &m->params[i];
            e->dst->data = arena_floats(a, (size_t)(e->rows * e->cols), err);
        }
        m->enc.pe = tensor_make(arena_floats(a, (size_t)(pos_rows * cfg->enc.embed_dim), err),
                                pos_rows, cfg->enc.embed_dim);
        m->dec.pe = tensor_make(arena_floats(a, (size_t)(pos_rows * cfg->dec.embed_dim), err),
                                pos_rows, cfg->dec.embed_dim);
        if (err->code != SIM_OK) goto fail;
        ops_fill_positions(m->enc.pe, zero_row);
        ops_fill_positions(m->dec.pe, zero_row);
    } else {
        m->enc.pe = tensor_make(NULL, pos_rows, cfg->enc.embed_dim);
        m->dec.pe = tensor_make(NULL, pos_rows, cfg->dec.embed_dim);
    }
    /* tied matrices: share-all uses the encoder table everywhere */
    if (cfg->share_all_embeddings) m->dec.embed = m->enc.embed;
    m->out_proj_tied = cfg->share_all_embeddings || cfg->share_decoder_input_output_embed;
    if (m->out_proj_tied) m->out_proj = m->dec.embed;

    if (!opt->count_only) {
        if (opt->weights != NULL) {
            if (load_weights(m, opt, err) != SIM_OK) goto fail;
        } else {
            Rng rng = {opt->seed * 0x9E3779B97F4A7C15ull + 0x2545F4914F6CDD1Dull};
            if (rng.s == 0) rng.s = 1;
            int pad_row = cfg->family != FAMILY_EVOLVED; /* fairseq's padding row is zero */
            for (int i = 0; i < m->nparams; i++) init_param(&rng, &m->params[i], pad_row);
        }
    }
    if (opt->compress != NULL && compress_apply(m, opt->compress, err) != SIM_OK) goto fail;
    *out = m;
    return SIM_OK;
fail:
    model_close(m);
    return err->code != SIM_OK ? err->code : SIM_ENOMEM;
}

void model_close(Model *m) {
    if (m == NULL) return;
    arena_close(m->weights);
    free(m->enc.layers);
    free(m->dec.layers);
    free(m->et.enc);
    free(m->et.dec);
    free(m->params);
    free(m);
}

/* ---- forward ---- */

/* x (L, d) = sqrt(d) * E[tok] + PE[padding_idx + 1 + pos0 + i] */
static void stack_embed_into(const Model *m, Run *r, const Stack *s, const int64_t *tok,
                             int64_t pos0, Tensor x) {
    OpClass saved = r->cls;
    if (s == &m->dec && m->lm.nbands > 0) {
        lm_adaptive_embed(m, r, tok, x);
    } else {
        size_t s0 = run_push(r, "embed_tokens");
        OpArgs a = {0};
        a.w = s->embed;
        a.y = x;
        a.tokens = tok;
        a.scale = m->cfg.no_scale_embedding ? 1.0f : (float)sqrt((double)s->dim);
        op_exec(r, OP_EMBED, &a);
        run_pop(r, s0);
    }
    if (!m->cfg.no_token_positional_embeddings) {
        size_t s0 = run_push(r, "embed_positions");
        OpArgs p = {0};
        p.w = s->pe;
        p.x = x;
        p.y = x;
        p.q0 = s->pos_offset + pos0;
        op_exec(r, OP_POSITIONS, &p);
        run_pop(r, s0);
    }
    r->cls = saved;
}

static Tensor stack_embed(const Model *m, Run *r, const Stack *s, const int64_t *tok, int64_t L,
                          int64_t pos0) {
    Tensor x = run_tensor(r, L, s->dim);
    stack_embed_into(m, r, s, tok, pos0, x);
    return x;
}

/* One layer, in place on x (L, d). enc_out is NULL for encoder layers. With st != NULL this
 * is one incremental decoder step at step t (x holds one row per hypothesis): the same
 * recipe, with the self-attention over st's caches and the cross attention over st's
 * precomputed keys and values. */
static void stack_layer(const Model *m, Run *r, const Stack *s, int i, Tensor x,
                        const Tensor *enc_out, const LayerState *st, int64_t t) {
    const Layer *ly = &s->layers[i];
    int decoder = s == &m->dec;                       /* causal self-attention */
    int cross = decoder && m->cfg.family != FAMILY_LM; /* language models have no encoder */
    const StackConfig *sc = decoder ? &m->cfg.dec : &m->cfg.enc;
    size_t s0 = run_push(r, "layers.%d", i);
    size_t mark = arena_mark(r->act);
    Tensor y = run_tensor(r, x.rows, s->dim); /* (L, d) sublayer output */
    Tensor h = x;                             /* sublayer input */
    if (s->normalize_before) h = run_tensor(r, x.rows, s->dim);

    /* self-attention slot (plain attention or the LSRA branches) */
    if (s->normalize_before) layer_norm(r, "self_attn_layer_norm", &ly->self_attn_ln, x, h);
    if (st != NULL) layer_self_block_step(r, ly, h, st, t, y);
    else layer_self_block(r, ly, h, decoder, y);
    layer_residual(r, "self_attn", x, y);
    if (!s->normalize_before) layer_norm(r, "self_attn_layer_norm", &ly->self_attn_ln, x, x);

    /* encoder-decoder attention (decoder only), full width */
    if (cross) {
        if (s->normalize_before) layer_norm(r, "encoder_attn_layer_norm", &ly->enc_attn_ln, x, h);
        OpClass saved = r->cls;
        r->cls = CLASS_ATTENTION;
        size_t s1 = run_push(r, "encoder_attn");
        if (st != NULL) layer_attention_kv(r, &ly->enc_attn, h, st->kx, st->vx, r->src_keep, y);
        else layer_attention(r, &ly->enc_attn, h, *enc_out, 0, 0, r->src_keep, y);
        run_pop(r, s1);
        r->cls = saved;
        layer_residual(r, "encoder_attn", x, y);
        if (!s->normalize_before)
            layer_norm(r, "encoder_attn_layer_norm", &ly->enc_attn_ln, x, x);
    }

    /* feed-forward */
    if (s->normalize_before) layer_norm(r, "final_layer_norm", &ly->final_ln, x, h);
    layer_ffn(r, ly, m->cfg.activation, sc->ffn_dim[i], h, y);
    layer_residual(r, "fc2", x, y);
    if (!s->normalize_before) layer_norm(r, "final_layer_norm", &ly->final_ln, x, x);

    arena_rewind(r->act, mark);
    run_pop(r, s0);
}

void model_decoder_layer_step(const Model *m, Run *r, int i, Tensor x, const LayerState *st,
                              int64_t t) {
    size_t s0 = run_push(r, "decoder");
    stack_layer(m, r, &m->dec, i, x, NULL, st, t);
    run_pop(r, s0);
}

void model_decoder_final_norm(const Model *m, Run *r, Tensor x) {
    if (!m->dec.final_norm) return;
    size_t s0 = run_push(r, "decoder");
    layer_norm(r, "layer_norm", &m->dec.final_ln, x, x);
    run_pop(r, s0);
}

static Tensor stack_forward(const Model *m, Run *r, int decoder, const int64_t *tok, int64_t L,
                            const Tensor *enc_out) {
    const Stack *s = decoder ? &m->dec : &m->enc;
    size_t s0 = run_push(r, decoder ? "decoder" : "encoder");
    Tensor x = stack_embed(m, r, s, tok, L, 0);
    for (int i = 0; i < s->nlayers; i++)
        stack_layer(m, r, s, i, x, decoder ? enc_out : NULL, NULL, 0);
    if (s->final_norm) layer_norm(r, "layer_norm", &s->final_ln, x, x);
    run_pop(r, s0);
    return x;
}

Tensor model_embed(const Model *m, Run *r, int decoder, const int64_t *tok, int64_t n,
                   int64_t pos0) {
    size_t s0 = run_push(r, decoder ? "decoder" : "encoder");
    Tensor x = stack_embed(m, r, decoder ? &m->dec : &m->enc, tok, n, pos0);
    run_pop(r, s0);
    return x;
}

void model_embed_into(const Model *m, Run *r, int decoder, const int64_t *tok, int64_t n,
                      int64_t pos0, Tensor x) {
    size_t s0 = run_push(r, decoder ? "decoder" : "encoder");
    (void)n; /* x.rows tokens */
    stack_embed_into(m, r, decoder ? &m->dec : &m->enc, tok, pos0, x);
    run_pop(r, s0);
}

int64_t model_max_positions(const Model *m) { return m->enc.pe.rows - m->enc.pos_offset; }

Tensor model_encode(const Model *m, Run *r, const int64_t *src, int64_t S) {
    if (m->cfg.family == FAMILY_EVOLVED) return et_encode(m, r, src, S);
    if (m->cfg.family == FAMILY_LM) return tensor_make(NULL, 0, 0); /* no encoder */
    return stack_forward(m, r, 0, src, S, NULL);
}

void model_output_projection(const Model *m, Run *r, Tensor features, Tensor logits) {
    if (m->lm.softmax) {
        lm_adaptive_softmax(m, r, features, logits);
        return;
    }
    OpClass saved = r->cls;
    r->cls = CLASS_EMBED_OUTPUT;
    Linear proj = {.w = m->out_proj};
    size_t s0 = run_push(r, "decoder");
    layer_linear(r, "output_projection", &proj, features, logits);
    run_pop(r, s0);
    r->cls = saved;
}

SimStatus model_forward(Model *m, Run *r, const int64_t *src, int64_t S, const int64_t *tgt,
                        int64_t T, ForwardOut *out) {
    if (r->err->code != SIM_OK) return r->err->code;
    int64_t maxpos = model_max_positions(m);
    int lm = m->cfg.family == FAMILY_LM;
    if ((!lm && S < 1) || T < 1)
        return sim_errorf(r->err, SIM_EINVAL, "source and target lengths must be >= 1 (got %lld, %lld)",
                          (long long)S, (long long)T);
    if (S > maxpos || T > maxpos)
        return sim_errorf(r->err, SIM_EINVAL,
                          "sequence length %lld exceeds the %lld positions the model was built for",
                          (long long)(S > T ? S : T), (long long)maxpos);
    r->cls = CLASS_NORM_OTHER;
    r->scope_len = 0;
    r->scope[0] = '\0';
    if (m->cfg.family == FAMILY_EVOLVED) return et_forward(m, r, src, S, tgt, T, out);
    if (m->cfg.family == FAMILY_LM) { /* decoder only */
        out->enc_out = tensor_make(NULL, 0, 0);
        out->features = stack_forward(m, r, 1, tgt, T, NULL);
    } else {
        out->enc_out = stack_forward(m, r, 0, src, S, NULL);
        out->features = stack_forward(m, r, 1, tgt, T, &out->enc_out);
    }
    out->logits = run_tensor(r, T, m->cfg.tgt_vocab);
    model_output_projection(m, r, out->features, out->logits);
    return r->err->code;
}
