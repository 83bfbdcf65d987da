/*
 * evolved.h - the weights of tensor2tensor's Evolved Transformer (architectures.md §3):
 * pre-norm encoder and decoder cells with gated linear units, wide dense and separable
 * convolution branches, attention without biases, final layer norms.
 *
 * Dimension letters: d width, S source and T target tokens. Dense kernels are held as
 * PyTorch-style Linear (out, in); Conv1D kernels (K*Cin, Cout); depthwise (K, C).
 */
#ifndef LTSIM_EVOLVED_H
#define LTSIM_EVOLVED_H

#include "layers.h"

typedef struct {
    Norm ln_glu;          /* gated_linear_unit */
    Linear glu_value;     /* dense   (d, d) */
    Linear glu_gate;      /* dense_1 (d, d), sigmoid */
    Norm ln_conv;         /* conv_branches */
    Linear left;          /* dense (4d, d), ReLU */
    Tensor conv3_w;       /* standard_conv_3x1 (3*d, d/2) */
    Tensor conv3_b;       /* (1, d/2) */
    Norm ln_conv4d;       /* layer_prepostprocess_1 over 4d */
    Tensor sep9_dw;       /* separable_conv_9x1 depthwise (9, 4d) */
    Linear sep9_pw;       /* pointwise (d/2, 4d) + bias */
    Norm ln_attn;         /* self_attention */
    Attention attn;       /* H heads, no biases */
    Norm ln_ffn;          /* dense_layers */
    Linear ffn1, ffn2;    /* (4d, d) ReLU, (d, 4d) */
} EtEncCell;

typedef struct {
    Norm ln_att16;        /* sixteen_head_attention (its LN also feeds first_attend_to_encoder) */
    Attention att16;      /* causal, _capped_double_heads(H) heads */
    Attention enc1;       /* first_attend_to_encoder, H heads */
    Norm ln_conv;         /* conv_branches */
    Tensor sep11_dw;      /* separable_conv11x1 depthwise (11, d), causal */
    Linear sep11_pw;      /* pointwise (2d, d) + bias, ReLU */
    Tensor sep7a_dw;      /* separable_conv_7x1_1 depthwise (7, d), causal */
    Linear sep7a_pw;      /* pointwise (d/2, d) + bias */
    Norm ln_conv2d;       /* layer_prepostprocess_1 over 2d */
    Tensor sep7b_dw;      /* separable_conv_7x1_2 depthwise (7, 2d), causal */
    Linear sep7b_pw;      /* pointwise (d, 2d) + bias */
    Norm ln_attn;         /* self_attention */
    Attention attn;       /* causal, H heads */
    Norm ln_enc2;         /* second_attend_to_encoder */
    Attention enc2;
    Norm ln_ffn;          /* dense_layers */
    Linear ffn1;          /* dense (4d, d), Swish */
    Norm ln_ffn4d;        /* layer_norm over 4d */
    Linear ffn2;          /* dense_1 (d, 4d) */
} EtDecCell;

typedef struct {
    EtEncCell *enc;       /* N_e cells */
    EtDecCell *dec;       /* N_d cells */
    Norm enc_ln, dec_ln;  /* final layer norms */
    Tensor target_space;  /* (32, d) target-space embedding */
} EtWeights;

/* tensor2tensor's _capped_double_heads: max(min(2H, 16), H). */
int et_capped_double_heads(int heads);

/* Incremental state of one decoder cell (architectures.md §5.1). */
typedef struct {
    KvCache kv16;       /* sixteen_head_attention keys/values (B, T, d) */
    KvCache kv;         /* self_attention keys/values (B, T, d) */
    Tensor kx1, vx1;    /* first_attend_to_encoder keys/values (S, d), computed once */
    Tensor kx2, vx2;    /* second_attend_to_encoder keys/values (S, d), computed once */
    float *win_u;       /* (B, 11, d): the last 11 rows of LN(h) for the 11x1 and 7x1 convs */
    float *win_v;       /* (B, 7, 2d): the last 7 rows of LN_2d(.) for the second 7x1 conv */
} EtCellState;

#define ET_EOS 1   /* tensor2tensor's ids: pad 0, eos 1 */
#define ET_PAD 0   /* also the start: the shifted-right zero vector is token 0's embedding */

struct Model;

#endif
