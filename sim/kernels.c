/*
 * kernels.c - the raw math (see kernels_int.h for the dimension legend).
 *
 * The only file that includes <cblas.h>. Matrix products use cblas_sgemm, or cblas_sgemv
 * for up to OPS_GEMV_ROWS rows; everything else is a plain loop written so that the
 * compiler can vectorise its inner dimension.
 */
#include "kernels_int.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void kern_set_threads(int n) { openblas_set_num_threads(n < 1 ? 1 : n); }

static int gemv_rows = OPS_GEMV_ROWS;

void kern_set_gemv_rows(int rows) { gemv_rows = rows < 1 ? 1 : rows; }

const char *kern_blas_name(void) { return openblas_get_config(); }

void kern_linear(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const float *w,
                 const float *b, float *y, int64_t ldy) {
    float beta = 0.0f;
    if (b != NULL) {
        /* start from the bias rows, then accumulate the product on top */
        for (int64_t i = 0; i < M; i++) memcpy(y + i * ldy, b, (size_t)N * sizeof(float));
        beta = 1.0f;
    }
    if (M == 1) { /* one token (a greedy decoder step): a matrix-vector product */
        cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)N, (blasint)K, 1.0f, w, (blasint)K, x, 1,
                    beta, y, 1);
        return;
    }
    if (M <= gemv_rows) {
        /* a few tokens (a beam's decoder step): one matrix-vector product per row, over
         * blocks of weight rows that stay in the core's cache between the rows */
        int64_t nb = ops_gemv_block_rows(K);
        for (int64_t n0 = 0; n0 < N; n0 += nb) {
            int64_t nt = N - n0 < nb ? N - n0 : nb;
            for (int64_t i = 0; i < M; i++)
                cblas_sgemv(CblasRowMajor, CblasNoTrans, (blasint)nt, (blasint)K, 1.0f, w + n0 * K,
                            (blasint)K, x + i * ldx, 1, beta, y + i * ldy + n0, 1);
        }
        return;
    }
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f,
                x, (blasint)ldx, w, (blasint)K, beta, y, (blasint)ldy);
}

void kern_linear_q8(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const int8_t *q,
                    const float *s, const float *b, float *y, int64_t ldy, float *scratch,
                    int64_t tile) {
    for (int64_t n0 = 0; n0 < N; n0 += tile) {
        int64_t nt = N - n0 < tile ? N - n0 : tile;
        for (int64_t i = 0; i < nt; i++) { /* dequantise rows n0 .. n0+nt-1 */
            const int8_t *qr = q + (n0 + i) * K;
            float *wr = scratch + i * K;
            const float sc = s[n0 + i];
            for (int64_t k = 0; k < K; k++) wr[k] = sc * (float)qr[k];
        }
        kern_linear(M, nt, K, x, ldx, scratch, b ? b + n0 : NULL, y + n0, ldy);
    }
}

void kern_linear_t(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const float *w,
                   int64_t ldw, float *y, int64_t ldy) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, 1.0f,
                x, (blasint)ldx, w, (blasint)ldw, 0.0f, y, (blasint)ldy);
}

void kern_log_softmax_rows(float *x, int64_t M, int64_t N, int64_t ldx) {
    for (int64_t i = 0; i < M; i++) {
        float *row = x + i * ldx;
        float mx = -INFINITY;
        for (int64_t j = 0; j < N; j++) mx = row[j] > mx ? row[j] : mx;
        double sum = 0.0;
        for (int64_t j = 0; j < N; j++) sum += exp((double)(row[j] - mx));
        /* sum >= 1 (the largest element adds exp(0)), or NaN, which propagates */
        /* cppcheck-suppress invalidFunctionArg */
        float lse = mx + (float)log(sum);
        for (int64_t j = 0; j < N; j++) row[j] -= lse;
    }
}

void kern_add_col(float *y, int64_t ldy, int64_t M, int64_t N, const float *c, int64_t ldc) {
    for (int64_t i = 0; i < M; i++) {
        float *r = y + i * ldy;
        const float v = c[i * ldc];
        for (int64_t j = 0; j < N; j++) r[j] += v;
    }
}

void kern_matmul_nt(int64_t M, int64_t N, int64_t K, float alpha, const float *a, int64_t lda,
                    const float *b, int64_t ldb, float *c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (blasint)M, (blasint)N, (blasint)K, alpha,
                a, (blasint)lda, b, (blasint)ldb, 0.0f, c, (blasint)ldc);
}

void kern_matmul_nn(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float *c, int64_t ldc) {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)M, (blasint)N, (blasint)K,
                1.0f, a, (blasint)lda, b, (blasint)ldb, 0.0f, c, (blasint)ldc);
}

void kern_softmax_rows(float *x, int64_t M, int64_t N, int64_t ldx, int causal, int64_t q0,
                       const uint8_t *keep) {
    for (int64_t i = 0; i < M; i++) {
        float *row = x + i * ldx;
        int64_t n = N;
        if (causal) {
            n = q0 + i + 1;
            if (n > N) n = N;
            if (n < 0) n = 0;
        }
        float mx = -INFINITY;
        for (int64_t j = 0; j < n; j++)
            if (!keep || keep[j]) mx = row[j] > mx ? row[j] : mx;
        float sum = 0.0f;
        for (int64_t j = 0; j < n; j++) {
            row[j] = keep && !keep[j] ? 0.0f : expf(row[j] - mx);
            sum += row[j];
        }
        float inv = sum > 0.0f ? 1.0f / sum : 0.0f;
        for (int64_t j = 0; j < n; j++) row[j] *= inv;
        for (int64_t j = n; j < N; j++) row[j] = 0.0f;
    }
}

void kern_mask_rows(const float *x, int64_t ldx, int64_t M, int64_t N, const uint8_t *keep,
                    float *y, int64_t ldy) {
    for (int64_t i = 0; i < M; i++) {
        float *yr = y + i * ldy;
        if (keep[i]) {
            if (yr != x + i * ldx) memcpy(yr, x + i * ldx, (size_t)N * sizeof(float));
        } else {
            memset(yr, 0, (size_t)N * sizeof(float));
        }
    }
}

void kern_layernorm(const float *x, int64_t ldx, int64_t M, int64_t N, const float *g,
                    const float *b, float eps, float *y, int64_t ldy) {
    for (int64_t i = 0; i < M; i++) {
        const float *xr = x + i * ldx;
        float *yr = y + i * ldy;
        /* two-pass mean and biased variance; 8 partial sums keep the loops vectorisable
         * without reassociating a single float accumulator */
        float ps[8] = {0};
        int64_t j = 0;
        for (; j + 8 <= N; j += 8)
            for (int k = 0; k < 8; k++) ps[k] += xr[j + k];
        double sum = 0.0;
        for (int k = 0; k < 8; k++) sum += ps[k];
        for (; j < N; j++) sum += xr[j];
        float m = (float)(sum / (double)N);
        float pv[8] = {0};
        for (j = 0; j + 8 <= N; j += 8)
            for (int k = 0; k < 8; k++) {
                float dlt = xr[j + k] - m;
                pv[k] += dlt * dlt;
            }
        double var = 0.0;
        for (int k = 0; k < 8; k++) var += pv[k];
        for (; j < N; j++) var += (double)(xr[j] - m) * (xr[j] - m);
        var /= (double)N;
        float rstd = (float)(1.0 / sqrt(var + (double)eps));
        for (j = 0; j < N; j++) yr[j] = (xr[j] - m) * rstd * g[j] + b[j];
    }
}

void kern_add(const float *a, int64_t lda, const float *b, int64_t ldb, int64_t M, int64_t N,
              float *y, int64_t ldy) {
    for (int64_t i = 0; i < M; i++) {
        const float *ar = a + i * lda, *br = b + i * ldb;
        float *yr = y + i * ldy;
        for (int64_t j = 0; j < N; j++) yr[j] = ar[j] + br[j];
    }
}

void kern_relu(float *x, int64_t M, int64_t N, int64_t ldx) {
    for (int64_t i = 0; i < M; i++) {
        float *r = x + i * ldx;
        for (int64_t j = 0; j < N; j++) r[j] = r[j] > 0.0f ? r[j] : 0.0f;
    }
}

void kern_gelu(float *x, int64_t M, int64_t N, int64_t ldx) {
    /* exact erf form, as torch.nn.functional.gelu and fairseq's gelu */
    for (int64_t i = 0; i < M; i++) {
        float *r = x + i * ldx;
        for (int64_t j = 0; j < N; j++) r[j] = 0.5f * r[j] * (1.0f + erff(r[j] * 0.70710678f));
    }
}

void kern_glu(const float *g, int64_t ldg, int64_t M, int64_t C, float *y, int64_t ldy) {
    for (int64_t i = 0; i < M; i++) {
        const float *val = g + i * ldg, *gate = val + C;
        float *yr = y + i * ldy;
        for (int64_t j = 0; j < C; j++) yr[j] = val[j] / (1.0f + expf(-gate[j]));
    }
}

void kern_conv_heads(const float *u, int64_t ldu, int64_t L, int64_t C, int64_t H, int64_t KW,
                     int64_t P, const float *w, int64_t ldw, float *y, int64_t ldy, int64_t t0,
                     int64_t n) {
    int64_t R = C / H;
    for (int64_t i = 0; i < n; i++) {
        int64_t t = t0 + i;
        float *yr = y + i * ldy;
        for (int64_t j = 0; j < C; j++) yr[j] = 0.0f;
        const float *wt = w + i * ldw; /* ldw = 0: the same filter for every position */
        /* only taps inside the window: the others multiply zero padding */
        int64_t k0 = P - t > 0 ? P - t : 0;
        int64_t k1 = L - t + P < KW ? L - t + P : KW;
        for (int64_t h = 0; h < H; h++) {
            const float *wh = wt + h * KW;
            float *yh = yr + h * R;
            for (int64_t k = k0; k < k1; k++) {
                const float wk = wh[k];
                const float *uh = u + (t + k - P) * ldu + h * R;
                for (int64_t r = 0; r < R; r++) yh[r] += wk * uh[r];
            }
        }
    }
}

void kern_copy(const float *x, int64_t ldx, int64_t M, int64_t N, float *y, int64_t ldy) {
    if (x == y) return;
    if (y > x) { /* overlapping rows: copy from the last row backwards */
        for (int64_t i = M - 1; i >= 0; i--)
            memmove(y + i * ldy, x + i * ldx, (size_t)N * sizeof(float));
    } else {
        for (int64_t i = 0; i < M; i++) memmove(y + i * ldy, x + i * ldx, (size_t)N * sizeof(float));
    }
}

void kern_embed(const int64_t *tok, int64_t M, const float *E, int64_t D, float scale, float *y,
                int64_t ldy, int zero_pad) {
    for (int64_t i = 0; i < M; i++) {
        const float *e = E + tok[i] * D;
        float *yr = y + i * ldy;
        float s = zero_pad && tok[i] == 0 ? 0.0f : scale;
        for (int64_t j = 0; j < D; j++) yr[j] = s * e[j];
    }
}

void kern_depthwise(const float *u, int64_t ldu, int64_t L, int64_t C, int64_t KW, int64_t P,
                    const float *w, float *y, int64_t ldy, int64_t t0, int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        int64_t t = t0 + i;
        float *yr = y + i * ldy;
        for (int64_t c = 0; c < C; c++) yr[c] = 0.0f;
        int64_t k0 = P - t > 0 ? P - t : 0;
        int64_t k1 = L - t + P < KW ? L - t + P : KW;
        for (int64_t k = k0; k < k1; k++) {
            const float *wk = w + k * C, *ur = u + (t + k - P) * ldu;
            for (int64_t c = 0; c < C; c++) yr[c] += wk[c] * ur[c];
        }
    }
}

void kern_conv1d(const float *u, int64_t ldu, int64_t L, int64_t Cin, int64_t Cout, int64_t KW,
                 int64_t P, const float *w, const float *b, float *y, int64_t ldy, int64_t t0,
                 int64_t n) {
    for (int64_t i = 0; i < n; i++) {
        float *yr = y + i * ldy;
        if (b) memcpy(yr, b, (size_t)Cout * sizeof(float));
        else memset(yr, 0, (size_t)Cout * sizeof(float));
    }
    for (int64_t k = 0; k < KW; k++) {
        /* outputs i whose input row t0 + i + k - P lies in [0, L) */
        int64_t i0 = P - k - t0 > 0 ? P - k - t0 : 0;
        int64_t i1 = L - t0 - k + P < n ? L - t0 - k + P : n;
        if (i1 <= i0) continue;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (blasint)(i1 - i0), (blasint)Cout,
                    (blasint)Cin, 1.0f, u + (t0 + i0 + k - P) * ldu, (blasint)ldu, w + k * Cin * Cout,
                    (blasint)Cout, 1.0f, y + i0 * ldy, (blasint)ldy);
    }
}

void kern_swish(float *x, int64_t M, int64_t N, int64_t ldx) {
    for (int64_t i = 0; i < M; i++) {
        float *r = x + i * ldx;
        for (int64_t j = 0; j < N; j++) r[j] = r[j] / (1.0f + expf(-r[j]));
    }
}

void kern_add_rows(float *x, int64_t ldx, int64_t M, int64_t D, const float *table, int64_t p0) {
    for (int64_t i = 0; i < M; i++) {
        const float *pr = table + (p0 + i) * D;
        float *xr = x + i * ldx;
        for (int64_t j = 0; j < D; j++) xr[j] += pr[j];
    }
}

void kern_sinusoidal_table(float *table, int64_t rows, int64_t D, int64_t zero_row) {
    int64_t half = D / 2;
    float step = half > 1 ? (float)(log(10000.0) / (double)(half - 1)) : 0.0f;
    for (int64_t p = 0; p < rows; p++) {
        float *r = table + p * D;
        for (int64_t i = 0; i < half; i++) {
            float f = expf((float)i * -step);
            float a = (float)p * f;
            r[i] = sinf(a);
            r[half + i] = cosf(a);
        }
        if (D % 2) r[D - 1] = 0.0f;
        if (p == zero_row)
            for (int64_t j = 0; j < D; j++) r[j] = 0.0f;
    }
}
