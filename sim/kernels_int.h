/*
 * kernels_int.h - the raw math of ltsim (private: only ops.c calls these).
 *
 * Dimension letters: M rows (tokens), N output columns, K inner dimension, L sequence
 * length, C channels, H heads, R channels per head (C = H*R), KW conv kernel width.
 * Matrices are row-major with explicit leading dimensions (ld*) in floats.
 * Matrix products go through OpenBLAS (cblas_sgemm; cblas_sgemv for up to OPS_GEMV_ROWS
 * rows); the rest are plain loops.
 */
#ifndef LTSIM_KERNELS_INT_H
#define LTSIM_KERNELS_INT_H

#include <stdint.h>

#include "ops.h" /* OPS_GEMV_ROWS */

/* Sets the BLAS thread count (>= 1). */
void kern_set_threads(int n);
/* Products of 2..rows rows run as matrix-vector products (OPS_GEMV_ROWS by default; 1: sgemm
 * from 2 rows on). */
void kern_set_gemv_rows(int rows);
/* "OpenBLAS 0.3.21 ..." config string of the linked BLAS. */
const char *kern_blas_name(void);

/* y (M,N) = x (M,K) · w (N,K)^T [+ b (N)]: PyTorch's Linear with w stored [out, in]
 * (cblas_sgemv when M = 1, per row over blocks of weight rows when M <= OPS_GEMV_ROWS). */
void kern_linear(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const float *w,
                 const float *b, float *y, int64_t ldy);

/* y (M,N) = x (M,K) · w^T [+ b] for int8 weights q (N,K) with per-row scales s (N): tiles of
 * `tile` rows are dequantised into scratch (tile, K) and multiplied in fp32. */
void kern_linear_q8(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const int8_t *q,
                    const float *s, const float *b, float *y, int64_t ldy, float *scratch,
                    int64_t tile);

/* y (M,N) = x (M,K) · w (K,N): a weight held (in, out), as a tied projection read transposed. */
void kern_linear_t(int64_t M, int64_t N, int64_t K, const float *x, int64_t ldx, const float *w,
                   int64_t ldw, float *y, int64_t ldy);

/* Row log-softmax of x (M,N) in place. */
void kern_log_softmax_rows(float *x, int64_t M, int64_t N, int64_t ldx);

/* y (M,N) += c[i] for every column of row i; c has row stride ldc. */
void kern_add_col(float *y, int64_t ldy, int64_t M, int64_t N, const float *c, int64_t ldc);

/* c (M,N) = alpha · a (M,K) · b (N,K)^T. */
void kern_matmul_nt(int64_t M, int64_t N, int64_t K, float alpha, const float *a, int64_t lda,
                    const float *b, int64_t ldb, float *c, int64_t ldc);

/* c (M,N) = a (M,K) · b (K,N). */
void kern_matmul_nn(int64_t M, int64_t N, int64_t K, const float *a, int64_t lda, const float *b,
                    int64_t ldb, float *c, int64_t ldc);

/* Row softmax of x (M,N) in place. With causal != 0, row i may see columns
 * 0..q0+i only (the rest become 0): q0 is the absolute position of row 0. With keep != NULL
 * (N flags), columns whose flag is 0 (padding keys) get probability 0 too. */
void kern_softmax_rows(float *x, int64_t M, int64_t N, int64_t ldx, int causal, int64_t q0,
                       const uint8_t *keep);

/* y (M,N) = x with the rows whose keep flag is 0 set to zero (y may equal x). */
void kern_mask_rows(const float *x, int64_t ldx, int64_t M, int64_t N, const uint8_t *keep,
                    float *y, int64_t ldy);

/* y (M,N) = LayerNorm(x) · g + b over each row, biased variance, eps. y may equal x. */
void kern_layernorm(const float *x, int64_t ldx, int64_t M, int64_t N, const float *g,
                    const float *b, float eps, float *y, int64_t ldy);

/* y (M,N) = a + b (elementwise). y may alias a or b. */
void kern_add(const float *a, int64_t lda, const float *b, int64_t ldb, int64_t M, int64_t N,
              float *y, int64_t ldy);

/* In-place activations on x (M,N). */
void kern_relu(float *x, int64_t M, int64_t N, int64_t ldx);
void kern_gelu(float *x, int64_t M, int64_t N, int64_t ldx);

/* y (M,C) = g[:, :C] * sigmoid(g[:, C:2C]) for g (M,2C): the value half times the gated half. */
void kern_glu(const float *g, int64_t ldg, int64_t M, int64_t C, float *y, int64_t ldy);

/* Depthwise convolution with per-head filters, the core of the Lite conv branches, for the
 * output positions t = t0 .. t0+n-1 of an input window u of L rows:
 *   y[i, h*R + r] = sum_k w[i, h, k] * u[t + k - P, h*R + r],  t = t0 + i,  u = 0 outside [0, L).
 * u (L,C), y (n,C), w (n, H*KW) with row stride ldw (ldw = 0: one static filter for every
 * position, as the lightweight conv). A forward pass has t0 = 0, n = L; an incremental
 * decoder step has the last min(t, K) inputs as the window and t0 = L-1, n = 1. */
void kern_conv_heads(const float *u, int64_t ldu, int64_t L, int64_t C, int64_t H, int64_t KW,
                     int64_t P, const float *w, int64_t ldw, float *y, int64_t ldy, int64_t t0,
                     int64_t n);

/* Depthwise convolution, one filter per channel (tensor2tensor's separable convs):
 *   y[i, c] = sum_k w[k, c] * u[t + k - P, c],  t = t0 + i,  u = 0 outside [0, L).
 * u (L,C), w (KW,C), y (n,C). */
void kern_depthwise(const float *u, int64_t ldu, int64_t L, int64_t C, int64_t KW, int64_t P,
                    const float *w, float *y, int64_t ldy, int64_t t0, int64_t n);

/* Standard 1-D convolution (tensor2tensor's Conv1D), as KW shifted matrix products:
 *   y[i, :] = b + sum_k u[t + k - P, :] · w_k,  t = t0 + i,  w_k (Cin, Cout) = rows
 *   [k*Cin, (k+1)*Cin) of w (KW*Cin, Cout). u (L,Cin), y (n,Cout). */
void kern_conv1d(const float *u, int64_t ldu, int64_t L, int64_t Cin, int64_t Cout, int64_t KW,
                 int64_t P, const float *w, const float *b, float *y, int64_t ldy, int64_t t0,
                 int64_t n);

/* x (M,N) = x * sigmoid(x) in place (Swish). */
void kern_swish(float *x, int64_t M, int64_t N, int64_t ldx);

/* y (M,N) = x (M,N); the rows may overlap (memmove). */
void kern_copy(const float *x, int64_t ldx, int64_t M, int64_t N, float *y, int64_t ldy);

/* y (M,D) = scale * E[tok[i]] for E (V,D); with zero_pad, token 0 embeds to zeros
 * (tensor2tensor's padding id). */
void kern_embed(const int64_t *tok, int64_t M, const float *E, int64_t D, float scale, float *y,
                int64_t ldy, int zero_pad);

/* x (M,D) += pe rows [p0, p0+M) of the table (rows, D). */
void kern_add_rows(float *x, int64_t ldx, int64_t M, int64_t D, const float *table, int64_t p0);

/* Fills table (rows, D) with fairseq's sinusoidal positions: [sin half | cos half] with
 * frequencies exp(-i ln(1e4)/(D/2 - 1)), computed in float32 like the reference; row
 * zero_row (the padding index, or -1 for none) is zero; odd D gets a zero last column. */
void kern_sinusoidal_table(float *table, int64_t rows, int64_t D, int64_t zero_row);

#endif
