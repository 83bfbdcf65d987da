/*
 * ops.h - the operator table and the single dispatcher through which every kernel runs.
 *
 * op_exec(r, kind, args): validates shapes, computes the operator's cost from the same
 * arguments the kernel runs with, runs the kernel unless the run is count-only, and adds
 * the cost to the run's ledger under the current scope (a fairseq module name). Counting
 * therefore cannot drift from computing.
 *
 * Other-FLOP rates per element (not MACs): softmax 4 (max, subtract+exp, sum, divide),
 * layer norm 8, residual add 1, bias add 1, ReLU 1, GELU 8, GLU 5 (sigmoid 4, product 1),
 * Swish 5, embedding scale 1, position add 1, attention q scaling 1.
 *
 * --conv-macs applies to every convolution, with two rules for tensor2tensor's (ET's)
 * standard and depthwise convolutions: `band` counts their taps (their CPU path is not a
 * band product), and `none` counts them too (a tracing counter sees them).
 */
#ifndef LTSIM_OPS_H
#define LTSIM_OPS_H

#include <stdint.h>

#include "arena.h"
#include "cost.h"
#include "status.h"
#include "tensor.h"

typedef enum {
    OP_LINEAR = 0,    /* y (M,N) = x (M,K) w(N,K)^T [+ b]                         */
    OP_ATTN_SCORES,   /* y (H*Tq, Tk) = scale * q_h k_h^T per head; x = q (Tq,W), x2 = k (Tk,W) */
    OP_ATTN_WEIGHTED, /* y (Tq, W) = p_h v_h per head; x = p (H*Tq, Tk), x2 = v (Tk, W)       */
    OP_SOFTMAX,       /* x (M,N) in place, rows; heads blocks with a causal mask if causal    */
    OP_LAYERNORM,     /* y = LN(x) * w + b over rows                                          */
    OP_ADD,           /* y = x + x2                                                           */
    OP_RELU,          /* x in place                                                           */
    OP_GELU,          /* x in place                                                           */
    OP_GLU,           /* y (M,C) = x[:, :C] * sigmoid(x[:, C:]), x (M, 2C)                   */
    OP_CONV_DYNAMIC,  /* y (n,C) = per-position filters w (n, H*KW) over the window x (L,C);
                         outputs for positions q0 .. q0+n-1 (a forward pass: q0 = 0, n = L)   */
    OP_CONV_LIGHT,    /* the same with one softmaxed filter w (H, KW)                         */
    OP_EMBED,         /* y (M,D) = scale * w[tokens] for the table w (V,D)                    */
    OP_POSITIONS,     /* y (M,D) += rows [q0, q0+M) of the position table w                   */
    OP_COPY,          /* y (M,N) = x (M,N): cache appends, window shifts, beam reordering      */
    OP_CONV_DEPTHWISE,/* y (n,C) = per-channel filters w (K, C) over the window x (L,C)        */
    OP_CONV1D,        /* y (n,Cout) = b + standard conv, w (K*Cin, Cout), over x (L,Cin)      */
    OP_SWISH,         /* x in place: x * sigmoid(x)                                           */
    OP_MASK_ROWS,     /* y (M,N) = x with the padding rows (keep[i] == 0) zeroed              */
    OP_LOG_SOFTMAX,   /* x (M,N) in place: row log-softmax (adaptive softmax)                 */
    OP_ADD_COL,       /* y (M,N) += x2 (M,1) broadcast over the columns                       */
    OP_COUNT
} OpKind;

typedef struct {
    Tensor x;              /* main input */
    Tensor x2;             /* second input: add's other operand, attention keys or values */
    Tensor w;              /* weight / filter / table / layer-norm gain */
    Tensor b;              /* bias or layer-norm shift; b.data == NULL and b.cols == 0: none */
    Tensor y;              /* output (x itself for the in-place ops) */
    int64_t heads;         /* attention heads; conv heads; softmax head blocks (0 = 1) */
    int64_t kw;            /* conv kernel width */
    int64_t pad;           /* conv left padding P */
    int64_t q0;            /* absolute position of the first query row (causal), of the
                              first position-table row, or of the first conv output */
    int causal;            /* causal mask (scores counting, softmax masking) */
    int w_is_param;        /* conv: the filter is a parameter (lightweight) */
    int x_is_param;        /* softmax over a parameter tensor (the lightweight kernel) */
    float scale;           /* attention q scaling; embedding scale */
    float eps;             /* layer norm epsilon */
    const int64_t *tokens; /* embed: (M) token ids, checked against w.rows */
    int zero_pad;          /* embed: token 0 embeds to zeros (tensor2tensor's padding id) */
    int w_trans;           /* linear: w is held (K, N), in x out (a tied projection read
                              transposed), instead of PyTorch's (N, K) */
    const int8_t *wq;      /* linear: int8 weights (N, K) with per-row scales wqs (N), used
                              instead of w's data (dequantised per tile into wtile) */
    const float *wqs;
    float *wtile;
    uint64_t w_storage;    /* linear: bytes of the weight as stored (0: fp32 dense) */
    const uint8_t *keep;   /* softmax: per key column, mask rows: per row; 0 = padding
                              (NULL: nothing is padding) */
} OpArgs;

typedef struct {
    int count_only;      /* cost everything, run nothing, allocate nothing */
    int timing;          /* measure each kernel's time into the ledger */
    Arena *act;          /* activations of this run (a measuring arena when planning) */
    CostLedger *ledger;
    SimError *err;       /* first error sticks */
    Conventions conv;
    OpClass cls;         /* class of the module being built: inherited by MAC operators */
    char scope[160];     /* current fairseq module name */
    size_t scope_len;
    uint64_t gemm_ns;    /* measured time inside matrix products (timing only) */
    const uint8_t *src_keep; /* (S) 0 at source padding tokens: masked as attention keys and
                                zeroed before convolutions; NULL when the source has none */
} Run;

/* Runs one operator (see the file comment). Returns the run's status: once an error is
 * recorded, every later op_exec returns it at once without doing anything. */
SimStatus op_exec(Run *r, OpKind k, const OpArgs *a);

/* The cost op_exec would record for these arguments (no shape checks, no kernel). */
OpCost op_cost(const Run *r, OpKind k, const OpArgs *a);

const char *op_name(OpKind k);
/* 1 if the operator is a matrix product (its time counts as GEMM time). */
int op_is_gemm(OpKind k);
/* The class an operator is recorded under given the module class. */
OpClass op_class(OpKind k, OpClass module_cls);

/* Appends ".name" (printf-style) to the scope; returns the previous length for run_pop. */
size_t run_push(Run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void run_pop(Run *r, size_t len);

/* Allocates an (rows, cols) activation from the run's arena: data is NULL in count-only
 * runs; on exhaustion records SIM_ENOMEM. */
Tensor run_tensor(Run *r, int64_t rows, int64_t cols);

/* Fills table (rows, d) with fairseq's sinusoidal positions; row zero_row (the padding
 * index) is zero. */
void ops_fill_positions(Tensor table, int64_t zero_row);

/* Rows of a quantized weight dequantised at a time (the scratch is COMPRESS_TILE x K). */
#define OPS_QTILE 64

/* Matrix products of 2..OPS_GEMV_ROWS rows run as one matrix-vector product per row over
 * blocks of OPS_GEMV_BLOCK_BYTES of weight rows: each block is read from memory once and
 * re-read from the core's cache by the other rows (sgemm would pack every weight first,
 * which costs more than the products at this M). One row is a single matrix-vector product. */
#define OPS_GEMV_ROWS 4
#define OPS_GEMV_BLOCK_BYTES ((int64_t)512 * 1024)

/* Weight rows per block of such a product with inner dimension K (fp32). */
static inline int64_t ops_gemv_block_rows(int64_t K) {
    int64_t nb = OPS_GEMV_BLOCK_BYTES / ((K > 0 ? K : 1) * (int64_t)sizeof(float));
    return nb > 0 ? nb : 1;
}

/* Sets the BLAS thread count; the BLAS identification string. */
void ops_set_threads(int n);
/* Products of 2..rows rows run as matrix-vector products (default OPS_GEMV_ROWS, which the
 * latency model assumes; 1: sgemm from 2 rows on, for benchmarks comparing the two). */
void ops_set_gemv_rows(int rows);
/* The clock that times operators, in ns (NULL: CLOCK_MONOTONIC); tests replace it. */
void ops_set_clock(uint64_t (*clock_ns)(void));
const char *ops_blas_name(void);

#endif
