/*
 * compress.c - pruning, int8 quantization and the size ledger (see compress.h).
 */
#include "compress.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ops.h"

static int compressible(const ParamEntry *e) {
    return e->kind == PARAM_WEIGHT || e->kind == PARAM_TF_KERNEL;
}

static int embedding_like(const ParamEntry *e) {
    return e->kind == PARAM_EMBEDDING || e->kind == PARAM_OUTPUT || e->kind == PARAM_EMBED_PROJ;
}

uint64_t compress_matrix_bytes(int64_t rows, int64_t cols, uint64_t nnz, int bits, int *format) {
    uint64_t n = (uint64_t)(rows * cols), vb = (uint64_t)(bits ? bits : 32) / 8u;
    uint64_t scales = bits == 8 ? (uint64_t)rows * 4u : 0;
    uint64_t dense = n * vb;
    uint64_t csr = nnz * (vb + (cols < 65536 ? 2u : 4u)) + ((uint64_t)rows + 1) * 4u;
    uint64_t bitmask = nnz * vb + (n + 7) / 8;
    uint64_t best = dense;
    int f = 0;
    if (csr < best) best = csr, f = 1;
    if (bitmask < best) best = bitmask, f = 2;
    if (format) *format = f;
    return best + scales;
}

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

/* The magnitude below which a fraction p of v (n values) lies (n > 0). */
static float threshold(const float *v, size_t n, double p, float *tmp) {
    for (size_t i = 0; i < n; i++) tmp[i] = fabsf(v[i]);
    qsort(tmp, n, sizeof *tmp, cmp_float);
    size_t k = (size_t)(p * (double)n);
    if (k == 0) return -1.0f; /* nothing pruned */
    if (k >= n) k = n;
    return tmp[k - 1];
}

SimStatus compress_apply(Model *m, const CompressOptions *o, SimError *err) {
    if (o->bits != 0 && o->bits != 8)
        return sim_errorf(err, SIM_EINVAL, "quantization: %d-bit weights are not supported (8)",
                          o->bits);
    if (!(o->prune >= 0.0 && o->prune < 1.0))
        return sim_errorf(err, SIM_EINVAL, "--prune: %g must be in [0, 1)", o->prune);
    int executed = m->weights != NULL;
    uint64_t total = 0, maxcols = 0;
    for (int i = 0; i < m->nparams; i++)
        if (compressible(&m->params[i])) {
            total += (uint64_t)(m->params[i].rows * m->params[i].cols);
            if ((uint64_t)m->params[i].cols > maxcols) maxcols = (uint64_t)m->params[i].cols;
        }
    float *tmp = NULL;
    if (executed && o->prune > 0.0) {
        tmp = malloc((size_t)total * sizeof *tmp);
        if (tmp == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory pruning");
        float thr = 0.0f;
        if (!o->prune_per_layer) { /* one global magnitude threshold */
            size_t k = 0;
            for (int i = 0; i < m->nparams; i++) {
                const ParamEntry *e = &m->params[i];
                if (!compressible(e)) continue;
                memcpy(tmp + k, e->dst->data, (size_t)(e->rows * e->cols) * sizeof(float));
                k += (size_t)(e->rows * e->cols);
            }
            float *t2 = malloc((size_t)total * sizeof *t2);
            if (t2 == NULL) {
                free(tmp);
                return sim_errorf(err, SIM_ENOMEM, "out of memory pruning");
            }
            thr = threshold(tmp, k, o->prune, t2);
            free(t2);
        }
        for (int i = 0; i < m->nparams; i++) {
            const ParamEntry *e = &m->params[i];
            if (!compressible(e)) continue;
            size_t n = (size_t)(e->rows * e->cols);
            float t = o->prune_per_layer ? threshold(e->dst->data, n, o->prune, tmp) : thr;
            for (size_t j = 0; j < n; j++)
                if (fabsf(e->dst->data[j]) <= t) e->dst->data[j] = 0.0f;
        }
        free(tmp);
    }
    /* the dequantisation scratch shared by every quantized linear of the model */
    float *tile = NULL;
    if (executed && o->bits == 8) {
        tile = arena_floats((Arena *)m->weights, (size_t)(OPS_QTILE * maxcols), err);
        if (tile == NULL) return err->code ? err->code : SIM_ENOMEM;
    }
    /* the small tensors (biases, norms, conv kernels): one symmetric int8 scale per tensor,
     * applied in place (their values become exactly the int8 grid the size ledger counts) */
    for (int i = 0; executed && o->bits == 8 && i < m->nparams; i++) {
        ParamEntry *e = &m->params[i];
        if (compressible(e) || embedding_like(e)) continue;
        int64_t n = e->rows * e->cols;
        float mx = 0.0f;
        for (int64_t j = 0; j < n; j++) mx = fabsf(e->dst->data[j]) > mx ? fabsf(e->dst->data[j]) : mx;
        float sc = mx > 0.0f ? mx / 127.0f : 1.0f;
        for (int64_t j = 0; j < n; j++) e->dst->data[j] = sc * (float)lroundf(e->dst->data[j] / sc);
    }
    for (int i = 0; i < m->nparams; i++) {
        ParamEntry *e = &m->params[i];
        if (!compressible(e)) continue;
        Linear *l = (Linear *)(void *)e->dst; /* compressible weights are a Linear's first member */
        uint64_t n = (uint64_t)(e->rows * e->cols), nnz;
        if (executed) {
            nnz = 0;
            for (uint64_t j = 0; j < n; j++) nnz += e->dst->data[j] != 0.0f;
        } else {
            nnz = (uint64_t)llround((1.0 - o->prune) * (double)n);
        }
        l->storage = compress_matrix_bytes(e->rows, e->cols, nnz, o->bits, NULL);
        if (!executed || o->bits != 8) continue;
        int8_t *q = arena_alloc((Arena *)m->weights, (size_t)n, 64, err);
        float *s = arena_floats((Arena *)m->weights, (size_t)e->rows, err);
        if (q == NULL || s == NULL) return err->code ? err->code : SIM_ENOMEM;
        for (int64_t r = 0; r < e->rows; r++) { /* symmetric, per output channel */
            const float *w = e->dst->data + r * e->cols;
            float mx = 0.0f;
            for (int64_t c = 0; c < e->cols; c++) mx = fabsf(w[c]) > mx ? fabsf(w[c]) : mx;
            float sc = mx > 0.0f ? mx / 127.0f : 1.0f;
            s[r] = sc;
            for (int64_t c = 0; c < e->cols; c++) {
                long v = lroundf(w[c] / sc);
                q[r * e->cols + c] = (int8_t)(v > 127 ? 127 : (v < -127 ? -127 : v));
            }
        }
        l->q = q;
        l->qscale = s;
        l->qtile = tile;
    }
    return SIM_OK;
}

size_t compress_extra_bytes(const Model *m, const CompressOptions *o) {
    if (o->bits != 8) return 0;
    size_t b = 0, maxcols = 0;
    for (int i = 0; i < m->nparams; i++) {
        const ParamEntry *e = &m->params[i];
        if (!compressible(e)) continue;
        b += (((size_t)(e->rows * e->cols) + 63) & ~(size_t)63) +
             (((size_t)e->rows * 4 + 63) & ~(size_t)63);
        if ((size_t)e->cols > maxcols) maxcols = (size_t)e->cols;
    }
    return b + ((OPS_QTILE * maxcols * 4 + 63) & ~(size_t)63) + 64;
}

void compress_size(const Model *m, const CompressOptions *o, CompressSize *out) {
    memset(out, 0, sizeof *out);
    for (int i = 0; i < m->nparams; i++) {
        const ParamEntry *e = &m->params[i];
        uint64_t n = (uint64_t)(e->rows * e->cols);
        if (embedding_like(e) && !o->include_embeddings) continue;
        out->bytes_fp32 += n * 4u;
        if (!compressible(e)) {
            out->other_params += n;
            /* embeddings stay fp32; the small tensors are int8 with one scale each */
            out->bytes += o->bits == 8 && !embedding_like(e) ? n + 4u : n * 4u;
            continue;
        }
        const Linear *l = (const Linear *)(const void *)e->dst;
        uint64_t nnz;
        if (e->dst->data != NULL) {
            nnz = 0;
            for (uint64_t j = 0; j < n; j++) nnz += e->dst->data[j] != 0.0f;
        } else {
            nnz = (uint64_t)llround((1.0 - o->prune) * (double)n);
        }
        int f = 0;
        uint64_t b = compress_matrix_bytes(e->rows, e->cols, nnz, o->bits, &f);
        (void)l;
        out->weights += n;
        out->nonzero += nnz;
        out->bytes += b;
        if (f == 0) out->tensors_dense++;
        else if (f == 1) out->tensors_csr++;
        else out->tensors_bitmask++;
    }
}
