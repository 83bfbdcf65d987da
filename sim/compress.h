/*
 * compress.h - weight compression, executed and sized: magnitude pruning (fine-grained, a
 * global or per-layer threshold) and per-output-channel symmetric int8 quantization of the
 * matrix weights of every linear layer, applied at load time; and the model-size ledger
 * (bytes per weight by bit width, sparse storage with its index overhead: CSR or bitmask,
 * the smaller one chosen per tensor).
 *
 * What is compressed: the weight matrices of linear layers (attention projections, conv
 * branch linears, FFN, tensor2tensor's Dense and pointwise kernels). Biases, layer norms,
 * depthwise / lightweight / standard conv kernels stay fp32 and count at 4 B. Token
 * embeddings and the output projection count only with include_embeddings (the paper's
 * sizes exclude the shared embedding).
 */
#ifndef LTSIM_COMPRESS_H
#define LTSIM_COMPRESS_H

#include <stdint.h>

#include "model.h"
#include "status.h"

typedef struct CompressOptions {
    int bits;               /* 8: int8 weights; 0: fp32 */
    double prune;           /* fraction of the compressible weights set to zero, 0..1 */
    int prune_per_layer;    /* threshold per weight matrix instead of one global threshold */
    int include_embeddings; /* count token embeddings and output projection in the size */
} CompressOptions;

/* Bytes the weight arena needs on top of the fp32 parameters for o (int8 copies, scales,
 * the dequantisation scratch). */
size_t compress_extra_bytes(const Model *m, const CompressOptions *o);

typedef struct {
    uint64_t weights;       /* compressible weights */
    uint64_t nonzero;       /* of them, not pruned */
    uint64_t other_params;  /* biases, norms, conv kernels (fp32) and, if included, embeddings */
    uint64_t bytes_fp32;    /* everything counted at 4 B */
    uint64_t bytes;         /* as stored: the chosen format per tensor + scales + the rest */
    int tensors_dense, tensors_csr, tensors_bitmask;
} CompressSize;

/* Prunes and quantizes m's compressible weights (executed models: the data is changed and
 * the int8 copies live in the model's weight arena), and sets every linear's stored size.
 * Count-only models only get the sizes (nonzeros estimated as (1 - prune) of each matrix).
 * SIM_EINVAL for a bad option, SIM_ENOMEM. */
SimStatus compress_apply(Model *m, const CompressOptions *o, SimError *err);

/* The size ledger of m under o. */
void compress_size(const Model *m, const CompressOptions *o, CompressSize *out);

/* Bytes of one (rows, cols) matrix with nnz nonzeros stored at `bits` (0 = 32) in the
 * smallest of dense, CSR (1-based row pointers of 4 B, column indices of 2 B below 65,536
 * columns, else 4 B) and bitmask (one bit per element); *format = 0 dense, 1 CSR,
 * 2 bitmask. int8 adds a 4-B scale per row. */
uint64_t compress_matrix_bytes(int64_t rows, int64_t cols, uint64_t nnz, int bits, int *format);

#endif
