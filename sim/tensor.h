/*
 * tensor.h - 2-D float views, row-major with a row stride.
 *
 * Every activation and weight in ltsim is a matrix (rows, cols) with a leading
 * dimension ld >= cols, so a channel slice of a wider matrix (the Lite branches)
 * is a view without a copy. In count-only mode data is NULL: views keep it NULL
 * and no pointer arithmetic is done on it.
 */
#ifndef LTSIM_TENSOR_H
#define LTSIM_TENSOR_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    float *data;  /* (rows, ld) storage; NULL in count-only mode */
    int64_t rows; /* e.g. tokens L */
    int64_t cols; /* e.g. channels C */
    int64_t ld;   /* row stride in floats, >= cols */
} Tensor;

static inline Tensor tensor_make(float *data, int64_t rows, int64_t cols) {
    Tensor t = {data, rows, cols, cols};
    return t;
}

/* Columns [c0, c0+n) of t, all rows. */
static inline Tensor tensor_cols(Tensor t, int64_t c0, int64_t n) {
    Tensor v = {t.data ? t.data + c0 : NULL, t.rows, n, t.ld};
    return v;
}

/* Rows [r0, r0+n) of t. */
static inline Tensor tensor_rows(Tensor t, int64_t r0, int64_t n) {
    Tensor v = {t.data ? t.data + r0 * t.ld : NULL, n, t.cols, t.ld};
    return v;
}

/* Number of elements (not counting the stride padding). */
static inline int64_t tensor_numel(Tensor t) { return t.rows * t.cols; }

/* Bytes of the elements at fp32. */
static inline uint64_t tensor_nbytes(Tensor t) { return (uint64_t)(t.rows * t.cols) * 4u; }

/* Pointer to row r (data must be non-NULL). */
static inline float *tensor_row(Tensor t, int64_t r) { return t.data + r * t.ld; }

#endif
