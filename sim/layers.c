/*
 * layers.c - linear, attention, Lite conv branches, FFN and norms over op_exec.
 *
 * Dimension letters: L tokens, Tq queries, Tk keys, d width, c branch width, H heads,
 * R = c/H channels per head, F FFN width, KW kernel width.
 */
#include "layers.h"

#include <math.h>

void layer_linear(Run *r, const char *name, const Linear *l, Tensor x, Tensor y) {
    size_t s = run_push(r, "%s", name);
    OpArgs a = {0};
    a.x = x;
    a.w = l->w;
    a.b = l->b;
    a.y = y;
    a.wq = l->q;
    a.wqs = l->qscale;
    a.wtile = l->qtile;
    a.w_storage = l->storage;
    op_exec(r, OP_LINEAR, &a);
    run_pop(r, s);
}

/* o (Tq, W) = softmax(scale * q k^T [+ causal mask]) v per head, q (Tq, W), k/v (Tk, W). */
static void attention_core(Run *r, int64_t H, Tensor q, Tensor k, Tensor v, int causal, int64_t q0,
                           const uint8_t *keep, Tensor o) {
    int64_t Tq = q.rows, Tk = k.rows, W = q.cols;
    size_t mark = arena_mark(r->act);
    Tensor p = run_tensor(r, H * Tq, Tk); /* (H*Tq, Tk) scores, then probabilities */
    OpArgs a = {0};
    a.x = q;
    a.x2 = k;
    a.y = p;
    a.heads = H;
    a.causal = causal;
    a.q0 = q0;
    int64_t head_dim = W / H;
    a.scale = (float)(1.0 / sqrt((double)head_dim)); /* q * head_dim^-0.5, after the bias */
    op_exec(r, OP_ATTN_SCORES, &a);

    OpArgs s = {0};
    s.x = p;
    s.y = p;
    s.heads = H;
    s.causal = causal;
    s.q0 = q0;
    s.keep = keep;
    op_exec(r, OP_SOFTMAX, &s);

    OpArgs w = {0};
    w.x = p;
    w.x2 = v;
    w.y = o;
    w.heads = H;
    w.causal = causal;
    w.q0 = q0;
    op_exec(r, OP_ATTN_WEIGHTED, &w);
    arena_rewind(r->act, mark);
}

void layer_attention(Run *r, const Attention *at, Tensor xq, Tensor xkv, int causal, int64_t q0,
                     const uint8_t *keep, Tensor out) {
    int64_t Tq = xq.rows, Tk = xkv.rows, W = at->dim;
    size_t mark = arena_mark(r->act);
    Tensor q = run_tensor(r, Tq, W); /* (Tq, W) */
    Tensor k = run_tensor(r, Tk, W); /* (Tk, W) */
    Tensor v = run_tensor(r, Tk, W); /* (Tk, W) */
    Tensor o = run_tensor(r, Tq, W); /* (Tq, W) heads concatenated */
    layer_linear(r, "q_proj", &at->q, xq, q);
    layer_linear(r, "k_proj", &at->k, xkv, k);
    layer_linear(r, "v_proj", &at->v, xkv, v);
    attention_core(r, at->heads, q, k, v, causal, q0, keep, o);
    layer_linear(r, "out_proj", &at->out, o, out);
    arena_rewind(r->act, mark);
}

void layer_attention_kv(Run *r, const Attention *at, Tensor xq, Tensor k, Tensor v,
                        const uint8_t *keep, Tensor out) {
    size_t mark = arena_mark(r->act);
    Tensor q = run_tensor(r, xq.rows, at->dim); /* (Tq, W) */
    Tensor o = run_tensor(r, xq.rows, at->dim); /* (Tq, W) */
    layer_linear(r, "q_proj", &at->q, xq, q);
    attention_core(r, at->heads, q, k, v, 0, 0, keep, o);
    layer_linear(r, "out_proj", &at->out, o, out);
    arena_rewind(r->act, mark);
}

/* A view of rows of a cache laid out (B, maxT, W): `rows` rows of hypothesis b from row t0
 * (stride W), or, with b < 0, row t0 of every hypothesis (stride maxT*W). NULL data stays
 * NULL (count-only runs). */
static Tensor cache_view(float *base, int64_t b, int64_t maxT, int64_t W, int64_t t0, int64_t rows,
                         int64_t B) {
    Tensor t = {NULL, rows, W, W};
    if (b < 0) {
        t.rows = B;
        t.ld = maxT * W;
        if (base) t.data = base + t0 * W;
    } else if (base) {
        t.data = base + (b * maxT + t0) * W;
    }
    return t;
}

void layer_attention_step(Run *r, const Attention *at, Tensor x, const KvCache *c, int64_t t,
                          Tensor out) {
    int64_t B = x.rows, W = at->dim;
    size_t mark = arena_mark(r->act);
    Tensor q = run_tensor(r, B, W); /* (B, W) one query per hypothesis */
    Tensor o = run_tensor(r, B, W); /* (B, W) */
    layer_linear(r, "q_proj", &at->q, x, q);
    /* the new keys and values are written straight into row t-1 of every hypothesis' cache */
    layer_linear(r, "k_proj", &at->k, x, cache_view(c->k, -1, c->max_t, W, t - 1, 1, B));
    layer_linear(r, "v_proj", &at->v, x, cache_view(c->v, -1, c->max_t, W, t - 1, 1, B));
    for (int64_t b = 0; b < B; b++)
        attention_core(r, at->heads, tensor_rows(q, b, 1), cache_view(c->k, b, c->max_t, W, 0, t, B),
                       cache_view(c->v, b, c->max_t, W, 0, t, B), 1, t - 1, NULL,
                       tensor_rows(o, b, 1));
    layer_linear(r, "out_proj", &at->out, o, out);
    arena_rewind(r->act, mark);
}

void layer_conv_branch(Run *r, const Branch *b, Tensor x, Tensor out) {
    int64_t L = x.rows, c = b->dim, H = b->heads, KW = b->kw;
    size_t mark = arena_mark(r->act);
    Tensor u = x; /* (L, c) conv input */
    if (b->with_linear) {
        if (b->glu && b->type == BRANCH_DYNAMIC) {
            Tensor g = run_tensor(r, L, 2 * c); /* (L, 2c): value half, gate half */
            layer_linear(r, "linear1", &b->linear1, x, g);
            u = run_tensor(r, L, c);
            OpArgs a = {0};
            a.x = g;
            a.y = u;
            op_exec(r, OP_GLU, &a);
        } else {
            u = run_tensor(r, L, c);
            layer_linear(r, "linear1", &b->linear1, x, u);
        }
    }
    Tensor y = b->with_linear ? run_tensor(r, L, c) : out; /* (L, c) conv output */
    OpArgs cv = {0};
    cv.x = u;
    cv.y = y;
    cv.heads = H;
    cv.kw = KW;
    cv.pad = b->pad;
    if (b->type == BRANCH_DYNAMIC) {
        Tensor z = run_tensor(r, L, H * KW); /* (L, H*KW) filter logits, row h*KW + k */
        layer_linear(r, "weight_linear", &b->weight_linear, u, z);
        if (b->weight_softmax) {
            OpArgs s = {0};
            s.x = tensor_make(z.data, L * H, KW); /* softmax over the K taps of each head */
            s.y = s.x;
            op_exec(r, OP_SOFTMAX, &s);
        }
        cv.w = z;
        op_exec(r, OP_CONV_DYNAMIC, &cv);
    } else {
        if (b->weight_softmax) {
            Tensor wk = run_tensor(r, H, KW); /* (H, KW) normalised filter */
            OpArgs s = {0};
            s.x = b->kernel;
            s.y = wk;
            s.x_is_param = 1;
            op_exec(r, OP_SOFTMAX, &s);
            cv.w = wk;
        } else {
            cv.w = b->kernel;
            cv.w_is_param = 1;
        }
        op_exec(r, OP_CONV_LIGHT, &cv);
    }
    if (b->with_linear) layer_linear(r, "linear2", &b->linear2, y, out);
    arena_rewind(r->act, mark);
}

void layer_conv_step(Run *r, const Branch *b, Tensor x, const ConvState *st, int64_t t,
                     Tensor out) {
    int64_t B = x.rows, c = b->dim, H = b->heads, KW = b->kw;
    int64_t L = t < KW ? t : KW; /* window: the last min(t, K) inputs, the current one last */
    size_t mark = arena_mark(r->act);
    /* the current input lands in the last row of each hypothesis' window (B, KW, c) */
    Tensor cur = {st->win ? st->win + (KW - 1) * c : NULL, B, c, KW * c};
    if (b->with_linear) {
        if (b->glu && b->type == BRANCH_DYNAMIC) {
            Tensor g = run_tensor(r, B, 2 * c); /* (B, 2c) */
            layer_linear(r, "linear1", &b->linear1, x, g);
            OpArgs a = {0};
            a.x = g;
            a.y = cur;
            op_exec(r, OP_GLU, &a);
        } else {
            layer_linear(r, "linear1", &b->linear1, x, cur);
        }
    } else {
        OpArgs cp = {0};
        cp.x = x;
        cp.y = cur;
        op_exec(r, OP_COPY, &cp);
    }
    Tensor y = b->with_linear ? run_tensor(r, B, c) : out; /* (B, c) conv output */
    Tensor filt = {0};
    int w_is_param = 0;
    Tensor z = {0};
    if (b->type == BRANCH_DYNAMIC) {
        z = run_tensor(r, B, H * KW); /* (B, H*KW): logits for all K taps of the current token */
        layer_linear(r, "weight_linear", &b->weight_linear, cur, z);
        if (b->weight_softmax) {
            OpArgs s = {0};
            s.x = tensor_make(z.data, B * H, KW);
            s.y = s.x;
            op_exec(r, OP_SOFTMAX, &s);
        }
    } else if (b->weight_softmax) {
        filt = run_tensor(r, H, KW);
        OpArgs s = {0};
        s.x = b->kernel;
        s.y = filt;
        s.x_is_param = 1;
        op_exec(r, OP_SOFTMAX, &s);
    } else {
        filt = b->kernel;
        w_is_param = 1;
    }
    for (int64_t h = 0; h < B; h++) {
        OpArgs cv = {0};
        /* the window rows [KW - L, KW) of hypothesis h; the output is its last position */
        cv.x = (Tensor){st->win ? st->win + (h * KW + KW - L) * c : NULL, L, c, c};
        cv.y = tensor_rows(y, h, 1);
        cv.heads = H;
        cv.kw = KW;
        cv.pad = KW - 1;
        cv.q0 = L - 1;
        if (b->type == BRANCH_DYNAMIC) {
            cv.w = tensor_rows(z, h, 1);
            op_exec(r, OP_CONV_DYNAMIC, &cv);
        } else {
            cv.w = filt;
            cv.w_is_param = w_is_param;
            op_exec(r, OP_CONV_LIGHT, &cv);
        }
        /* keep the last K-1 inputs: shift the window up by one row */
        if (KW > 1) {
            OpArgs sh = {0};
            sh.x = (Tensor){st->win ? st->win + (h * KW + 1) * c : NULL, KW - 1, c, c};
            sh.y = (Tensor){st->win ? st->win + h * KW * c : NULL, KW - 1, c, c};
            op_exec(r, OP_COPY, &sh);
        }
    }
    if (b->with_linear) layer_linear(r, "linear2", &b->linear2, y, out);
    arena_rewind(r->act, mark);
}

void layer_self_block(Run *r, const Layer *ly, Tensor x, int causal, Tensor out) {
    OpClass saved = r->cls;
    size_t s0 = run_push(r, "self_attn");
    if (ly->nbranches == 0) {
        r->cls = CLASS_ATTENTION;
        layer_attention(r, &ly->self_attn, x, x, causal, 0, causal ? NULL : r->src_keep, out);
    }
    for (int i = 0; i < ly->nbranches; i++) {
        const Branch *b = &ly->br[i];
        size_t s1 = run_push(r, "branches.%d", i);
        Tensor xs = tensor_cols(x, b->off, b->dim);   /* (L, c) input slice */
        Tensor os = tensor_cols(out, b->off, b->dim); /* (L, c) output slice */
        if (b->type == BRANCH_ATTN) {
            r->cls = CLASS_ATTENTION;
            layer_attention(r, &b->attn, xs, xs, causal, 0, causal ? NULL : r->src_keep, os);
        } else if (!causal && r->src_keep != NULL) {
            /* fairseq zeroes the padded source positions of the conv branch's input slice */
            r->cls = CLASS_CONVOLUTION;
            size_t mark = arena_mark(r->act);
            Tensor xm = run_tensor(r, xs.rows, xs.cols);
            layer_mask_rows(r, "padding", r->src_keep, xs, xm);
            layer_conv_branch(r, b, xm, os);
            arena_rewind(r->act, mark);
        } else {
            r->cls = CLASS_CONVOLUTION;
            layer_conv_branch(r, b, xs, os);
        }
        run_pop(r, s1);
    }
    run_pop(r, s0);
    r->cls = saved;
}

void layer_self_block_step(Run *r, const Layer *ly, Tensor x, const LayerState *st, int64_t t,
                           Tensor out) {
    OpClass saved = r->cls;
    size_t s0 = run_push(r, "self_attn");
    if (ly->nbranches == 0) {
        r->cls = CLASS_ATTENTION;
        layer_attention_step(r, &ly->self_attn, x, &st->kv[0], t, out);
    }
    for (int i = 0; i < ly->nbranches; i++) {
        const Branch *b = &ly->br[i];
        size_t s1 = run_push(r, "branches.%d", i);
        Tensor xs = tensor_cols(x, b->off, b->dim);   /* (B, c) input slice */
        Tensor os = tensor_cols(out, b->off, b->dim); /* (B, c) output slice */
        if (b->type == BRANCH_ATTN) {
            r->cls = CLASS_ATTENTION;
            layer_attention_step(r, &b->attn, xs, &st->kv[i], t, os);
        } else {
            r->cls = CLASS_CONVOLUTION;
            layer_conv_step(r, b, xs, &st->conv[i], t, os);
        }
        run_pop(r, s1);
    }
    run_pop(r, s0);
    r->cls = saved;
}

void layer_ffn(Run *r, const Layer *ly, Activation act, int64_t ffn_dim, Tensor x, Tensor out) {
    OpClass saved = r->cls;
    r->cls = CLASS_FFN;
    size_t mark = arena_mark(r->act);
    Tensor h = run_tensor(r, x.rows, ffn_dim); /* (L, F) */
    layer_linear(r, "fc1", &ly->fc1, x, h);
    size_t s = run_push(r, "fc1");
    OpArgs a = {0};
    a.x = h;
    a.y = h;
    op_exec(r, act == ACT_GELU ? OP_GELU : OP_RELU, &a);
    run_pop(r, s);
    layer_linear(r, "fc2", &ly->fc2, h, out);
    arena_rewind(r->act, mark);
    r->cls = saved;
}

void layer_mask_rows(Run *r, const char *name, const uint8_t *keep, Tensor x, Tensor y) {
    if (keep == NULL) return;
    size_t s = run_push(r, "%s", name);
    OpArgs a = {0};
    a.x = x;
    a.y = y;
    a.keep = keep;
    op_exec(r, OP_MASK_ROWS, &a);
    run_pop(r, s);
}

void layer_residual(Run *r, const char *name, Tensor x, Tensor y) {
    size_t s = run_push(r, "%s", name);
    OpArgs a = {0};
    a.x = x;
    a.x2 = y;
    a.y = x;
    op_exec(r, OP_ADD, &a);
    run_pop(r, s);
}

void layer_norm(Run *r, const char *name, const Norm *n, Tensor x, Tensor y) {
    size_t s = run_push(r, "%s", name);
    OpArgs a = {0};
    a.x = x;
    a.w = n->g;
    a.b = n->b;
    a.y = y;
    a.eps = n->eps > 0.0f ? n->eps : 1e-5f;
    op_exec(r, OP_LAYERNORM, &a);
    run_pop(r, s);
}

void layer_add_norm(Run *r, const char *name, const Norm *n, Tensor x, Tensor y) {
    layer_residual(r, name, x, y);
    layer_norm(r, name, n, x, x);
}
