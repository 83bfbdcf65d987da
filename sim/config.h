/*
 * config.h - model configurations: YAML files with fairseq's argument names.
 *
 * config_load reads one YAML mapping (the Lite Transformer repository's config files
 * load unchanged), applies the defaults of the named fairseq architecture, resolves
 * per-layer lists, and validates every dimension. Training-only keys (optimizer, lr,
 * dropout, ...) are recognised and ignored; any other unknown key is an error naming
 * file, line and key.
 */
#ifndef LTSIM_CONFIG_H
#define LTSIM_CONFIG_H

#include <stdint.h>

#include "status.h"

#define CFG_MAX_LAYERS 64
#define CFG_MAX_BRANCHES 8
#define CFG_MAX_KERNEL 1024

typedef enum {
    FAMILY_TRANSFORMER = 0, /* fairseq transformer (post-norm by default) */
    FAMILY_LITE,            /* transformer_multibranch_v2 (LSRA) */
    FAMILY_EVOLVED,         /* tensor2tensor evolved_transformer */
    FAMILY_LM,              /* decoder-only language models */
    FAMILY_COUNT
} Family;

typedef enum { BRANCH_ATTN = 0, BRANCH_DYNAMIC, BRANCH_LIGHTWEIGHT } BranchType;

typedef enum { ACT_RELU = 0, ACT_GELU } Activation;

/* One entry of encoder-branch-type / decoder-branch-type: "type:kernel:dim:heads". */
typedef struct {
    BranchType type;
    int kernel;  /* fixed kernel size, or 0 for "default" (the per-layer kernel list) */
    int64_t dim; /* channels of this branch's slice */
    int heads;
} BranchSpec;

/* One side (encoder or decoder) after defaults and per-layer lists are resolved. */
typedef struct {
    int64_t embed_dim;                 /* d */
    int layers;                        /* N, 1..CFG_MAX_LAYERS (0 for an absent encoder) */
    int64_t ffn_dim[CFG_MAX_LAYERS];   /* F per layer */
    int heads[CFG_MAX_LAYERS];         /* *-attention-heads per layer: plain self-attention,
                                          and for the decoder also encoder-decoder attention */
    int normalize_before;              /* pre-norm (then a final layer_norm) when 1 */
    int nbranches;                     /* 0 = plain multi-head self-attention */
    BranchSpec branches[CFG_MAX_BRANCHES];
    int kernel_size[CFG_MAX_LAYERS];   /* resolved kernel list, one per layer */
    int glu;                           /* *-glu: GLU after linear1 in dynamic branches */
} StackConfig;

/* fairseq's adaptive input / adaptive softmax: vocabulary bands [0, cutoff[0]),
 * [cutoff[0], cutoff[1]), ..., [cutoff[n-1], V); band i has width d / factor^i. */
#define CFG_MAX_CUTOFFS 8
typedef struct {
    int n;                            /* cutoffs before V; 0 = not adaptive */
    int64_t cutoff[CFG_MAX_CUTOFFS];
    int factor;
} AdaptiveSpec;

typedef struct {
    char path[512];        /* the file as given */
    char arch[96];         /* arch value as written */
    Family family;
    StackConfig enc, dec;
    int share_all_embeddings;             /* encoder, decoder and output share one matrix */
    int share_decoder_input_output_embed; /* decoder input and output share one matrix */
    int conv_linear;                      /* conv branches have linear1/linear2 */
    int weight_softmax;                   /* softmax over the conv taps (default 1) */
    Activation activation;                /* activation-fn of the FFN */
    int no_token_positional_embeddings;
    int64_t src_vocab;                    /* source vocabulary size (> 0 after load) */
    int64_t tgt_vocab;                    /* target vocabulary size (> 0 after load) */
    int target_space_id;                  /* evolved_transformer: row of the 32 x d
                                             target-space embedding added to the input */
    /* language models (FAMILY_LM: decoder only; enc.layers == 0) */
    AdaptiveSpec adaptive_input;          /* adaptive-input(-cutoff, -factor) */
    AdaptiveSpec adaptive_softmax;        /* adaptive-softmax-cutoff (-factor) */
    int tie_adaptive_weights;             /* softmax bands use the input bands' tables */
    int tie_adaptive_proj;                /* tail projections use the input projections */
    int no_final_norm;                    /* no-decoder-final-norm */
    int no_scale_embedding;               /* no sqrt(d) scale of the token embedding */
    int lm_branches;                      /* transformer_lm_multibranch_v2 */
    /* ltsim's default lengths of this config's task (0: the CLI's 30) */
    int64_t src_len, tgt_len;
    char description[256];                /* optional free text (key "description") */
} ModelConfig;

typedef struct {
    int64_t vocab_size; /* > 0: overrides vocab-size / src-vocab-size / tgt-vocab-size */
} ConfigOverrides;

/* Loads and validates a config file. ov may be NULL. On failure returns SIM_EINVAL
 * (file missing or unreadable, YAML syntax error, unknown or duplicate key, bad value,
 * dimension that does not divide, ...) with a one-line message:
 *   "<path>:<line>: <key>: <what is wrong> (<value>)". */
SimStatus config_load(const char *path, const ConfigOverrides *ov, ModelConfig *cfg,
                      SimError *err);

/* Same from a buffer in memory; name is used as the path in messages. */
SimStatus config_load_buffer(const char *buf, size_t len, const char *name,
                             const ConfigOverrides *ov, ModelConfig *cfg, SimError *err);

/* Fills cfg with the defaults of a known arch (used by tests and sweeps before
 * overriding fields); returns SIM_EINVAL for an unknown arch. Vocabulary is left 0. */
SimStatus config_arch_defaults(const char *arch, ModelConfig *cfg, SimError *err);

/* Validates a config built in code (the same checks config_load applies after parsing;
 * messages name cfg->path and the key). */
SimStatus config_validate(const ModelConfig *cfg, SimError *err);

/* "transformer" | "lite" | "evolved" | "lm" */
const char *config_family_name(Family f);
const char *config_branch_type_name(BranchType t);

#endif
