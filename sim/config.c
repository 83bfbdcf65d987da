/*
 * config.c - model configuration files (see config.h).
 *
 * A config is one YAML mapping with fairseq's argument names. It is read in one pass with
 * libyaml's event API: every key is looked up in a fixed table; architecture keys are parsed
 * into a RawConfig (with the line of each key), training-only keys are skipped whatever their
 * value. Then the defaults of the named arch are applied, the keys in the file override them
 * (fairseq's getattr chain), per-layer lists are resolved, the vocabulary is settled, and
 * validate() checks every dimension. Its messages name the line of the key in the file, or
 * say that a value is the arch's default.
 *
 * Nothing here aborts on input: every failure is a SIM_EINVAL (or SIM_ENOMEM) with a
 * one-line message "<path>:<line>: <key>...".
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

/* Upper bounds that keep a tiny file from making later code allocate absurd sizes. */
#define CONFIG_MAX_DIM 65536
#define CONFIG_MAX_FFN (1 << 20)
#define CONFIG_MAX_HEADS 1024
#define CONFIG_MAX_VOCAB (1 << 26)
#define CONFIG_MAX_FILE (1 << 20)   /* bytes of a config file */
#define CONFIG_SHOW 80              /* bytes of a bad value quoted in a message */

/* ---- key table ---------------------------------------------------------------------- */

/* Keys of one side (encoder-* / decoder-*), in the same order for both. */
enum {
    SK_EMBED_DIM,
    SK_FFN,
    SK_LAYERS,
    SK_HEADS,
    SK_NORM_BEFORE,
    SK_LEARNED_POS,
    SK_BRANCH,
    SK_KERNELS,
    SK_GLU,
    SK_COUNT
};

/* Architecture keys: K_ENC + SK_x and K_DEC + SK_x are the two sides of one key. */
enum {
    K_ARCH = 0,
    K_ENC = 1,
    K_DEC = K_ENC + SK_COUNT,
    K_SHARE_ALL = K_DEC + SK_COUNT,
    K_SHARE_DEC_IO,
    K_CONV_LINEAR,
    K_WEIGHT_SOFTMAX,
    K_ACTIVATION,
    K_NO_TOKPOS,
    K_VOCAB,
    K_SRC_VOCAB,
    K_TGT_VOCAB,
    K_DESCRIPTION,
    K_TARGET_SPACE,
    K_ADAPTIVE_INPUT,
    K_AI_FACTOR,
    K_AI_CUTOFF,
    K_AS_CUTOFF,
    K_AS_FACTOR,
    K_TIE_WEIGHTS,
    K_TIE_PROJ,
    K_NO_FINAL_NORM,
    K_NO_SCALE_EMB,
    K_SRC_LEN,
    K_TGT_LEN,
    K_MODEL_COUNT
};

typedef enum { KIND_STR, KIND_BOOL, KIND_INT, KIND_INT_LIST, KIND_BRANCHES } KeyKind;

typedef struct {
    const char *name;
    KeyKind kind;
    int64_t max; /* KIND_INT / KIND_INT_LIST: values must be in 1..max */
} KeyDef;

static const KeyDef model_keys[K_MODEL_COUNT] = {
    [K_ARCH] = {"arch", KIND_STR, 0},
    [K_ENC + SK_EMBED_DIM] = {"encoder-embed-dim", KIND_INT, CONFIG_MAX_DIM},
    [K_ENC + SK_FFN] = {"encoder-ffn-embed-dim", KIND_INT_LIST, CONFIG_MAX_FFN},
    [K_ENC + SK_LAYERS] = {"encoder-layers", KIND_INT, CFG_MAX_LAYERS},
    [K_ENC + SK_HEADS] = {"encoder-attention-heads", KIND_INT_LIST, CONFIG_MAX_HEADS},
    [K_ENC + SK_NORM_BEFORE] = {"encoder-normalize-before", KIND_BOOL, 0},
    [K_ENC + SK_LEARNED_POS] = {"encoder-learned-pos", KIND_BOOL, 0},
    [K_ENC + SK_BRANCH] = {"encoder-branch-type", KIND_BRANCHES, 0},
    [K_ENC + SK_KERNELS] = {"encoder-kernel-size-list", KIND_INT_LIST, CFG_MAX_KERNEL},
    [K_ENC + SK_GLU] = {"encoder-glu", KIND_BOOL, 0},
    [K_DEC + SK_EMBED_DIM] = {"decoder-embed-dim", KIND_INT, CONFIG_MAX_DIM},
    [K_DEC + SK_FFN] = {"decoder-ffn-embed-dim", KIND_INT_LIST, CONFIG_MAX_FFN},
    [K_DEC + SK_LAYERS] = {"decoder-layers", KIND_INT, CFG_MAX_LAYERS},
    [K_DEC + SK_HEADS] = {"decoder-attention-heads", KIND_INT_LIST, CONFIG_MAX_HEADS},
    [K_DEC + SK_NORM_BEFORE] = {"decoder-normalize-before", KIND_BOOL, 0},
    [K_DEC + SK_LEARNED_POS] = {"decoder-learned-pos", KIND_BOOL, 0},
    [K_DEC + SK_BRANCH] = {"decoder-branch-type", KIND_BRANCHES, 0},
    [K_DEC + SK_KERNELS] = {"decoder-kernel-size-list", KIND_INT_LIST, CFG_MAX_KERNEL},
    [K_DEC + SK_GLU] = {"decoder-glu", KIND_BOOL, 0},
    [K_SHARE_ALL] = {"share-all-embeddings", KIND_BOOL, 0},
    [K_SHARE_DEC_IO] = {"share-decoder-input-output-embed", KIND_BOOL, 0},
    [K_CONV_LINEAR] = {"conv-linear", KIND_BOOL, 0},
    [K_WEIGHT_SOFTMAX] = {"weight-softmax", KIND_BOOL, 0},
    [K_ACTIVATION] = {"activation-fn", KIND_STR, 0},
    [K_NO_TOKPOS] = {"no-token-positional-embeddings", KIND_BOOL, 0},
    [K_VOCAB] = {"vocab-size", KIND_INT, CONFIG_MAX_VOCAB},
    [K_SRC_VOCAB] = {"src-vocab-size", KIND_INT, CONFIG_MAX_VOCAB},
    [K_TGT_VOCAB] = {"tgt-vocab-size", KIND_INT, CONFIG_MAX_VOCAB},
    [K_DESCRIPTION] = {"description", KIND_STR, 0},
    [K_TARGET_SPACE] = {"target-space-id", KIND_INT, 31},
    [K_ADAPTIVE_INPUT] = {"adaptive-input", KIND_BOOL, 0},
    [K_AI_FACTOR] = {"adaptive-input-factor", KIND_INT, 64},
    [K_AI_CUTOFF] = {"adaptive-input-cutoff", KIND_INT_LIST, CONFIG_MAX_VOCAB},
    [K_AS_CUTOFF] = {"adaptive-softmax-cutoff", KIND_INT_LIST, CONFIG_MAX_VOCAB},
    [K_AS_FACTOR] = {"adaptive-softmax-factor", KIND_INT, 64},
    [K_TIE_WEIGHTS] = {"tie-adaptive-weights", KIND_BOOL, 0},
    [K_TIE_PROJ] = {"tie-adaptive-proj", KIND_BOOL, 0},
    [K_NO_FINAL_NORM] = {"no-decoder-final-norm", KIND_BOOL, 0},
    [K_NO_SCALE_EMB] = {"no-scale-embedding", KIND_BOOL, 0},
    [K_SRC_LEN] = {"src-len", KIND_INT, 1000000},
    [K_TGT_LEN] = {"tgt-len", KIND_INT, 1000000},
};

/* fairseq keys that do not change the inference model: recognised and ignored, whatever
 * their value. Includes keys fairseq parses but never uses (*-ffn-list,
 * encoder-decoder-branch-type) and pretrained-embedding paths (they change weights, not
 * shapes). */
static const char *const ignored_keys[] = {
    "no-progress-bar", "log-interval", "log-format", "optimizer", "adam-betas", "adam-eps",
    "clip-norm", "weight-decay", "criterion", "label-smoothing", "update-freq",
    "keep-last-epochs", "keep-interval-updates", "save-interval", "save-interval-updates",
    "save-dir", "restore-file", "ddp-backend", "max-tokens", "max-sentences", "batch-size",
    "lr-scheduler", "warmup-init-lr", "warmup-updates", "max-update", "max-epoch", "lr-shrink",
    "max-lr", "lr", "min-lr", "t-mult", "lr-period-updates", "dropout", "attention-dropout",
    "activation-dropout", "relu-dropout", "weight-dropout", "input-dropout", "fp16",
    "memory-efficient-fp16", "fp16-init-scale", "num-workers", "source-lang", "target-lang",
    "task", "seed", "tokens-per-sample", "sample-break-mode",
    "skip-invalid-size-inputs-valid-test", "distributed-world-size", "train-subset",
    "valid-subset", "max-source-positions", "max-target-positions", "encoder-ffn-list",
    "decoder-ffn-list", "encoder-decoder-branch-type", "encoder-embed-path",
    "decoder-embed-path", "adaptive-softmax-dropout", "curriculum", "user-dir",
    "no-epoch-checkpoints", "best-checkpoint-metric", "maximize-best-checkpoint-metric",
    "patience", "tensorboard-logdir", "cpu", "threshold-loss-scale", "fp16-scale-window",
    /* more fairseq training / generation options */
    "sentence-avg", "max-sentences-valid", "max-tokens-valid", "validate-interval",
    "disable-validation", "no-save", "no-last-checkpoints", "no-save-optimizer-state",
    "reset-optimizer", "reset-lr-scheduler", "reset-dataloader", "reset-meters",
    "optimizer-overrides", "required-batch-size-multiple", "find-unused-parameters",
    "fp16-scale-tolerance", "min-loss-scale", "distributed-backend", "distributed-init-method",
    "distributed-port", "distributed-rank", "device-id", "bucket-cap-mb", "left-pad-source",
    "left-pad-target", "upsample-primary", "dataset-impl", "raw-text", "lazy-load",
    "momentum", "force-anneal", "empty-cache-freq", "log-file", "beam", "lenpen",
    "remove-bpe", "tokenizer", "bpe", "quiet", "gen-subset",
};

#define N_IGNORED ((int)(sizeof ignored_keys / sizeof ignored_keys[0]))
#define N_KEYS (K_MODEL_COUNT + N_IGNORED)

/* Name of key id k (architecture or ignored). */
static const char *key_name(int k) {
    return k < K_MODEL_COUNT ? model_keys[k].name : ignored_keys[k - K_MODEL_COUNT];
}

/* Key id of a name, or -1. */
static int key_lookup(const char *name) {
    for (int k = 0; k < N_KEYS; k++)
        if (strcmp(name, key_name(k)) == 0) return k;
    return -1;
}

/* ---- arch table ----------------------------------------------------------------------- */

typedef struct {
    const char *name;
    Family family;
    int64_t embed_dim;
    int64_t ffn_dim;
    int heads;
    int normalize_before;
    int enc_layers, dec_layers; /* 0: 6 */
    int64_t dec_embed_dim;      /* fixed decoder defaults of some fairseq archs; 0: follow */
    int64_t dec_ffn_dim;        /* the encoder (base_architecture's getattr chain) */
    int lm;                     /* language model: LM_ADAPTIVE | LM_NO_FINAL_NORM | LM_BRANCHES */
} ArchDef;

#define LM_IS 1           /* a decoder-only language model */
#define LM_ADAPTIVE 2     /* adaptive input and softmax (20000, 60000; factor 4; tied) */
#define LM_NO_FINAL_NORM 4
#define LM_BRANCHES 8     /* transformer_lm_multibranch_v2 (kernels 15, 15, 31 x 4, 63 ...) */

static const ArchDef arch_defs[] = {
    {"transformer", FAMILY_TRANSFORMER, 512, 2048, 8, 0, 0, 0, 0, 0, 0},
    {"transformer_wmt_en_de", FAMILY_TRANSFORMER, 512, 2048, 8, 0, 0, 0, 0, 0, 0},
    {"transformer_iwslt_de_en", FAMILY_TRANSFORMER, 512, 1024, 4, 0, 0, 0, 512, 1024, 0},
    {"transformer_vaswani_wmt_en_de_big", FAMILY_TRANSFORMER, 1024, 4096, 16, 0, 0, 0, 1024, 4096, 0},
    {"transformer_vaswani_wmt_en_fr_big", FAMILY_TRANSFORMER, 1024, 4096, 16, 0, 0, 0, 1024, 4096, 0},
    {"transformer_wmt_en_de_big", FAMILY_TRANSFORMER, 1024, 4096, 16, 0, 0, 0, 1024, 4096, 0},
    {"transformer_wmt_en_de_big_t2t", FAMILY_TRANSFORMER, 1024, 4096, 16, 1, 0, 0, 1024, 4096, 0},
    {"transformer_multibranch_v2", FAMILY_LITE, 512, 2048, 8, 0, 0, 0, 0, 0, 0},
    {"transformer_multibranch_v2_wmt_en_de", FAMILY_LITE, 512, 2048, 8, 0, 0, 0, 0, 0, 0},
    {"transformer_multibranch_v2_iwslt_de_en", FAMILY_LITE, 512, 1024, 4, 0, 0, 0, 512, 1024, 0},
    {"transformer_multibranch_v2_vaswani_wmt_en_de_big", FAMILY_LITE, 1024, 4096, 16, 0, 0, 0, 1024,
     4096, 0},
    {"transformer_multibranch_v2_vaswani_wmt_en_fr_big", FAMILY_LITE, 1024, 4096, 16, 0, 0, 0, 1024,
     4096, 0},
    {"transformer_multibranch_v2_wmt_en_de_big", FAMILY_LITE, 1024, 4096, 16, 0, 0, 0, 1024, 4096, 0},
    {"transformer_multibranch_v2_wmt_en_de_big_t2t", FAMILY_LITE, 1024, 4096, 16, 1, 0, 0, 1024,
     4096, 0},
    /* tensor2tensor's Evolved Transformer: 3 encoder and 4 decoder cells, pre-norm, the FFN
     * hard-coded to 4d (filter_size unused), shared embeddings */
    {"evolved_transformer", FAMILY_EVOLVED, 512, 2048, 8, 1, 3, 4, 0, 0, 0},
    {"evolved_transformer_base", FAMILY_EVOLVED, 512, 2048, 8, 1, 3, 4, 0, 0, 0},
    {"evolved_transformer_big", FAMILY_EVOLVED, 1024, 4096, 16, 1, 3, 4, 0, 0, 0},
    {"evolved_transformer_deep", FAMILY_EVOLVED, 640, 2560, 8, 1, 9, 10, 0, 0, 0},
    {"evolved_transformer_tiny", FAMILY_EVOLVED, 128, 512, 4, 1, 3, 4, 0, 0, 0},
    /* fairseq's language models (decoder only, pre-norm forced: "training is not stable
     * without this") and the Lite Transformer fork's multibranch LM */
    {"transformer_lm", FAMILY_LM, 512, 2048, 8, 1, 0, 6, 0, 0, LM_IS},
    {"transformer_lm_big", FAMILY_LM, 1024, 4096, 16, 1, 0, 12, 0, 0, LM_IS},
    {"transformer_lm_wiki103", FAMILY_LM, 1024, 4096, 8, 1, 0, 16, 0, 0,
     LM_IS | LM_ADAPTIVE | LM_NO_FINAL_NORM},
    {"transformer_lm_multibranch_v2", FAMILY_LM, 512, 2048, 8, 1, 0, 6, 0, 0, LM_IS | LM_BRANCHES},
    {"transformer_lm_multibranch_v2_wiki103_small", FAMILY_LM, 512, 2048, 8, 1, 0, 12, 0, 0,
     LM_IS | LM_ADAPTIVE | LM_NO_FINAL_NORM | LM_BRANCHES},
};

/* the multibranch LM's argparse default kernel list: [15]*2 + [31]*4 + [63]*11 */
static const int lm_default_kernels[17] = {15, 15, 31, 31, 31, 31, 63, 63, 63,
                                           63, 63, 63, 63, 63, 63, 63, 63};
#define N_ARCHS ((int)(sizeof arch_defs / sizeof arch_defs[0]))

/* fairseq's argparse default for *-kernel-size-list, truncated to the layer count. */
static const int default_kernels[] = {3, 7, 15, 31, 31, 31, 31};
#define N_DEFAULT_KERNELS ((int)(sizeof default_kernels / sizeof default_kernels[0]))

static const ArchDef *arch_find(const char *name) {
    for (int i = 0; i < N_ARCHS; i++)
        if (strcmp(arch_defs[i].name, name) == 0) return &arch_defs[i];
    return NULL;
}

/* Arch families that exist in fairseq but are not built (none at present). */
static int arch_unsupported(const char *name) {
    (void)name;
    return 0;
}

/* Error for an arch that arch_find does not know; loc is "path:line: " or "path: ". */
static SimStatus arch_error(const char *loc, const char *name, SimError *err) {
    if (arch_unsupported(name))
        return sim_errorf(err, SIM_EINVAL, "%sarch: '%.*s' is not supported by this build", loc,
                          CONFIG_SHOW, name);
    char known[768];
    size_t used = 0;
    known[0] = '\0';
    for (int i = 0; i < N_ARCHS; i++) {
        int n = snprintf(known + used, sizeof known - used, "%s%s", i ? ", " : "",
                         arch_defs[i].name);
        if (n < 0 || (size_t)n >= sizeof known - used) break;
        used += (size_t)n;
    }
    return sim_errorf(err, SIM_EINVAL, "%sarch: unknown arch '%.*s' (known: %s)", loc,
                      CONFIG_SHOW, name, known);
}

/* Copies src into dst[n] (n > 0), truncating at a UTF-8 character boundary. */
static void config_copy_trunc(char *dst, size_t n, const char *src) {
    size_t len = strlen(src);
    if (len >= n) {
        len = n - 1;
        while (len > 0 && ((unsigned char)src[len] & 0xC0) == 0x80) len--;
    }
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* Fills cfg from an arch definition (6 + 6 layers, lists replicated). */
static void arch_fill(const ArchDef *a, ModelConfig *cfg) {
    memset(cfg, 0, sizeof *cfg);
    config_copy_trunc(cfg->arch, sizeof cfg->arch, a->name);
    cfg->family = a->family;
    StackConfig *sides[2] = {&cfg->enc, &cfg->dec};
    for (int s = 0; s < 2; s++) {
        StackConfig *st = sides[s];
        int n = s == 0 ? a->enc_layers : a->dec_layers;
        st->embed_dim = s == 1 && a->dec_embed_dim ? a->dec_embed_dim : a->embed_dim;
        st->layers = n > 0 ? n : 6;
        for (int i = 0; i < st->layers; i++) {
            st->ffn_dim[i] = s == 1 && a->dec_ffn_dim ? a->dec_ffn_dim : a->ffn_dim;
            st->heads[i] = a->heads;
            st->kernel_size[i] = (a->lm & LM_BRANCHES)
                                     ? (i < 17 ? lm_default_kernels[i] : 0)
                                     : (i < N_DEFAULT_KERNELS ? default_kernels[i] : 0);
        }
        st->normalize_before = a->normalize_before;
        st->nbranches = 0;
        st->glu = a->family == FAMILY_LITE || (a->lm & LM_BRANCHES);
    }
    cfg->share_all_embeddings = a->family == FAMILY_EVOLVED;
    cfg->share_decoder_input_output_embed = a->family == FAMILY_EVOLVED;
    if (a->lm) {
        cfg->enc.layers = 0; /* no encoder */
        cfg->enc.embed_dim = a->embed_dim;
        cfg->lm_branches = (a->lm & LM_BRANCHES) != 0;
        cfg->no_final_norm = (a->lm & LM_NO_FINAL_NORM) != 0;
        if (a->lm & LM_ADAPTIVE) {
            AdaptiveSpec ad = {2, {20000, 60000}, 4};
            cfg->adaptive_input = ad;
            cfg->adaptive_softmax = ad;
            cfg->tie_adaptive_weights = cfg->tie_adaptive_proj = 1;
        }
    }
    cfg->conv_linear = 0;
    cfg->weight_softmax = 1;
    cfg->activation = ACT_RELU;
    cfg->no_token_positional_embeddings = 0;
}

SimStatus config_arch_defaults(const char *arch, ModelConfig *cfg, SimError *err) {
    if (err != NULL && err->code != SIM_OK) return err->code;
    if (arch == NULL || cfg == NULL)
        return sim_errorf(err, SIM_EINVAL, "config_arch_defaults: NULL argument");
    const ArchDef *a = arch_find(arch);
    if (a == NULL) return arch_error("", arch, err);
    arch_fill(a, cfg);
    return SIM_OK;
}

const char *config_family_name(Family f) {
    switch (f) {
    case FAMILY_TRANSFORMER: return "transformer";
    case FAMILY_LITE: return "lite";
    case FAMILY_EVOLVED: return "evolved";
    case FAMILY_LM: return "lm";
    default: return "unknown";
    }
}

const char *config_branch_type_name(BranchType t) {
    switch (t) {
    case BRANCH_ATTN: return "attn";
    case BRANCH_DYNAMIC: return "dynamic";
    case BRANCH_LIGHTWEIGHT: return "lightweight";
    default: return "unknown";
    }
}

/* ---- scalar parsing ------------------------------------------------------------------- */

/* Parses a decimal integer (optional sign, digits only). Returns 0 on success, 1 when s is
 * not an integer, 2 when it overflows int64_t. */
static int parse_int64(const char *s, int64_t *out) {
    const char *p = s;
    int neg = 0;
    if (*p == '+' || *p == '-') neg = *p++ == '-';
    if (*p == '\0') return 1;
    uint64_t v = 0;
    int overflow = 0;
    for (; *p; p++) {
        if (*p < '0' || *p > '9') return 1;
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10) overflow = 1;
        else v = v * 10 + d;
    }
    if (overflow) return 2;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1) return 2;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX) return 2;
        *out = (int64_t)v;
    }
    return 0;
}

/* fairseq's eval_bool accepts True/False/1/0; YAML adds true/false/yes/no. Returns 0 or 1,
 * or -1 when s is not a boolean. */
static int parse_bool(const char *s) {
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "1"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "0"};
    for (size_t i = 0; i < sizeof yes / sizeof yes[0]; i++) {
        if (strcmp(s, yes[i]) == 0) return 1;
        if (strcmp(s, no[i]) == 0) return 0;
    }
    return -1;
}

/* Parses "type:kernel:dim:heads". Returns NULL on success, else what is wrong. Kernel is
 * 0 for "default"; for attn the kernel field is ignored (any integer or default). */
static const char *parse_branch(const char *s, BranchSpec *out) {
    char buf[128];
    size_t len = strlen(s);
    if (len >= sizeof buf) return "too long";
    memcpy(buf, s, len + 1);
    char *field[4];
    int n = 0;
    char *p = buf;
    for (;;) {
        if (n == 4) return "expected 4 fields type:kernel:dim:heads";
        field[n++] = p;
        char *colon = strchr(p, ':');
        if (colon == NULL) break;
        *colon = '\0';
        p = colon + 1;
    }
    if (n != 4) return "expected 4 fields type:kernel:dim:heads";
    if (strcmp(field[0], "attn") == 0) out->type = BRANCH_ATTN;
    else if (strcmp(field[0], "dynamic") == 0) out->type = BRANCH_DYNAMIC;
    else if (strcmp(field[0], "lightweight") == 0) out->type = BRANCH_LIGHTWEIGHT;
    else return "type must be attn, dynamic or lightweight";

    int64_t v = 0;
    if (strcmp(field[1], "default") == 0) {
        out->kernel = 0;
    } else if (out->type == BRANCH_ATTN) {
        int rc = parse_int64(field[1], &v);
        if (rc == 1) return "kernel must be an integer or 'default'";
        out->kernel = rc == 0 && v >= 1 && v <= CFG_MAX_KERNEL ? (int)v : 0; /* ignored */
    } else {
        if (parse_int64(field[1], &v) != 0) return "kernel must be an integer or 'default'";
        if (v < 1 || v > CFG_MAX_KERNEL) return "kernel must be in 1..1024 or 'default'";
        out->kernel = (int)v;
    }
    if (parse_int64(field[2], &v) != 0) return "dim must be an integer";
    if (v < 1 || v > CONFIG_MAX_DIM) return "dim must be in 1..65536";
    out->dim = v;
    if (parse_int64(field[3], &v) != 0) return "heads must be an integer";
    if (v < 1 || v > CONFIG_MAX_HEADS) return "heads must be in 1..1024";
    out->heads = (int)v;
    return NULL;
}

/* ---- raw values as written in the file ------------------------------------------------ */

typedef struct {
    int64_t v[CFG_MAX_LAYERS]; /* the first values */
    int64_t n;                 /* number of values given (may exceed CFG_MAX_LAYERS) */
} IntList;

typedef struct {
    int64_t embed_dim;
    int64_t layers;
    IntList ffn, heads, kernels;
    int normalize_before, learned_pos, glu;
    int nbranches;
    BranchSpec branches[CFG_MAX_BRANCHES];
} RawSide;

typedef struct {
    int line[N_KEYS]; /* line of each key in the file (1-based), 0 when absent */
    char arch[96];
    RawSide side[2];
    int share_all, share_dec_io, conv_linear, weight_softmax, no_tokpos;
    Activation activation;
    int64_t vocab, src_vocab, tgt_vocab;
    int64_t target_space;
    int adaptive_input, tie_weights, tie_proj, no_final_norm, no_scale_emb;
    int64_t ai_factor, as_factor, src_len, tgt_len;
    IntList ai_cutoff, as_cutoff;
    char description[256];
} RawConfig;

static int64_t *raw_int(RawConfig *raw, int k) {
    switch (k) {
    case K_ENC + SK_EMBED_DIM: return &raw->side[0].embed_dim;
    case K_ENC + SK_LAYERS: return &raw->side[0].layers;
    case K_DEC + SK_EMBED_DIM: return &raw->side[1].embed_dim;
    case K_DEC + SK_LAYERS: return &raw->side[1].layers;
    case K_VOCAB: return &raw->vocab;
    case K_SRC_VOCAB: return &raw->src_vocab;
    case K_TGT_VOCAB: return &raw->tgt_vocab;
    case K_TARGET_SPACE: return &raw->target_space;
    case K_AI_FACTOR: return &raw->ai_factor;
    case K_AS_FACTOR: return &raw->as_factor;
    case K_SRC_LEN: return &raw->src_len;
    case K_TGT_LEN: return &raw->tgt_len;
    default: return NULL;
    }
}

static int *raw_bool(RawConfig *raw, int k) {
    switch (k) {
    case K_ENC + SK_NORM_BEFORE: return &raw->side[0].normalize_before;
    case K_ENC + SK_LEARNED_POS: return &raw->side[0].learned_pos;
    case K_ENC + SK_GLU: return &raw->side[0].glu;
    case K_DEC + SK_NORM_BEFORE: return &raw->side[1].normalize_before;
    case K_DEC + SK_LEARNED_POS: return &raw->side[1].learned_pos;
    case K_DEC + SK_GLU: return &raw->side[1].glu;
    case K_SHARE_ALL: return &raw->share_all;
    case K_SHARE_DEC_IO: return &raw->share_dec_io;
    case K_CONV_LINEAR: return &raw->conv_linear;
    case K_WEIGHT_SOFTMAX: return &raw->weight_softmax;
    case K_NO_TOKPOS: return &raw->no_tokpos;
    case K_ADAPTIVE_INPUT: return &raw->adaptive_input;
    case K_TIE_WEIGHTS: return &raw->tie_weights;
    case K_TIE_PROJ: return &raw->tie_proj;
    case K_NO_FINAL_NORM: return &raw->no_final_norm;
    case K_NO_SCALE_EMB: return &raw->no_scale_emb;
    default: return NULL;
    }
}

static IntList *raw_list(RawConfig *raw, int k) {
    switch (k) {
    case K_ENC + SK_FFN: return &raw->side[0].ffn;
    case K_ENC + SK_HEADS: return &raw->side[0].heads;
    case K_ENC + SK_KERNELS: return &raw->side[0].kernels;
    case K_DEC + SK_FFN: return &raw->side[1].ffn;
    case K_DEC + SK_HEADS: return &raw->side[1].heads;
    case K_DEC + SK_KERNELS: return &raw->side[1].kernels;
    case K_AI_CUTOFF: return &raw->ai_cutoff;
    case K_AS_CUTOFF: return &raw->as_cutoff;
    default: return NULL;
    }
}

/* ---- YAML reader ------------------------------------------------------------------------ */

typedef struct {
    const char *path;
    const unsigned char *buf;
    size_t len;
    yaml_parser_t yp;
    yaml_event_t ev; /* the current event (deleted before the next is read) */
    SimError *err;
} Reader;

static int clamp_line(size_t line) {
    return line > (size_t)1000000000 ? 1000000000 : (int)line;
}

static int ev_line(const Reader *r) {
    return clamp_line(r->ev.start_mark.line + 1);
}

/* Records libyaml's error as a one-line message. */
static void reader_yaml_error(Reader *r) {
    const yaml_parser_t *p = &r->yp;
    if (p->error == YAML_MEMORY_ERROR) {
        sim_errorf(r->err, SIM_ENOMEM, "%s: out of memory while parsing YAML", r->path);
        return;
    }
    const char *problem = p->problem != NULL ? p->problem : "unknown error";
    if (p->error == YAML_READER_ERROR) {
        size_t line = 1;
        for (size_t i = 0; i < p->problem_offset && i < r->len; i++)
            if (r->buf[i] == '\n') line++;
        if (p->problem_value >= 0)
            sim_errorf(r->err, SIM_EINVAL,
                       "%s:%d: YAML syntax error: %s (byte 0x%02X at offset %zu)", r->path,
                       clamp_line(line), problem, (unsigned)p->problem_value & 0xFFu,
                       p->problem_offset);
        else
            sim_errorf(r->err, SIM_EINVAL, "%s:%d: YAML syntax error: %s", r->path,
                       clamp_line(line), problem);
        return;
    }
    int line = clamp_line(p->problem_mark.line + 1);
    if (p->context != NULL)
        sim_errorf(r->err, SIM_EINVAL, "%s:%d: YAML syntax error: %s (%s at line %d)", r->path,
                   line, problem, p->context, clamp_line(p->context_mark.line + 1));
    else
        sim_errorf(r->err, SIM_EINVAL, "%s:%d: YAML syntax error: %s", r->path, line, problem);
}

/* Reads the next event into r->ev. Returns 0 (error recorded) on failure. */
static int reader_next(Reader *r) {
    yaml_event_delete(&r->ev);
    if (!yaml_parser_parse(&r->yp, &r->ev)) {
        reader_yaml_error(r);
        return 0;
    }
    return 1;
}

/* Error about the value of key k at a line: "path:line: key: <fmt>". Returns 0. */
static int value_error(Reader *r, int line, int k, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int value_error(Reader *r, int line, int k, const char *fmt, ...) {
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sim_errorf(r->err, SIM_EINVAL, "%s:%d: %s: %s", r->path, line, key_name(k), msg);
    return 0;
}

/* Current scalar's text, or NULL (error recorded) if it holds a NUL byte. */
static const char *scalar_text(Reader *r, int k) {
    const char *s = (const char *)r->ev.data.scalar.value;
    if (strlen(s) != r->ev.data.scalar.length) {
        value_error(r, ev_line(r), k, "value contains a NUL character");
        return NULL;
    }
    return s;
}

/* Integer value of key k in 1..model_keys[k].max; 0 on failure (error recorded). */
static int take_int(Reader *r, int k, const char *s, int64_t *out) {
    int line = ev_line(r);
    int rc = parse_int64(s, out);
    if (rc == 1)
        return value_error(r, line, k, "expected an integer, got '%.*s'", CONFIG_SHOW, s);
    if (rc == 2 || *out < 1 || *out > model_keys[k].max)
        return value_error(r, line, k, "must be in 1..%" PRId64 ", got '%.*s'",
                           model_keys[k].max, CONFIG_SHOW, s);
    return 1;
}

/* One scalar value (or list item) of an architecture key. Returns 0 on error. */
static int take_scalar(Reader *r, RawConfig *raw, int k) {
    const char *s = scalar_text(r, k);
    if (s == NULL) return 0;
    int line = ev_line(r);
    switch (model_keys[k].kind) {
    case KIND_STR:
        if (k == K_ARCH) {
            if (strlen(s) >= sizeof raw->arch)
                return value_error(r, line, k, "name too long '%.*s...'", CONFIG_SHOW, s);
            memcpy(raw->arch, s, strlen(s) + 1);
        } else if (k == K_ACTIVATION) {
            if (strcmp(s, "relu") == 0) raw->activation = ACT_RELU;
            else if (strcmp(s, "gelu") == 0) raw->activation = ACT_GELU;
            else
                return value_error(r, line, k, "'%.*s' is not supported (relu or gelu)",
                                   CONFIG_SHOW, s);
        } else {
            config_copy_trunc(raw->description, sizeof raw->description, s);
        }
        return 1;
    case KIND_BOOL: {
        int b = parse_bool(s);
        if (b < 0)
            return value_error(r, line, k,
                               "expected a boolean (true/false/yes/no/1/0), got '%.*s'",
                               CONFIG_SHOW, s);
        *raw_bool(raw, k) = b;
        return 1;
    }
    case KIND_INT: return take_int(r, k, s, raw_int(raw, k));
    case KIND_INT_LIST: {
        IntList *l = raw_list(raw, k);
        if (strchr(s, ',') != NULL) { /* fairseq writes cutoffs as "20000,60000" */
            char item[64];
            const char *p = s;
            while (*p) {
                const char *q = strchr(p, ',');
                size_t len = q ? (size_t)(q - p) : strlen(p);
                if (len == 0 || len >= sizeof item)
                    return value_error(r, line, k, "expected comma-separated integers, got '%.*s'",
                                       CONFIG_SHOW, s);
                memcpy(item, p, len);
                item[len] = '\0';
                int64_t v = 0;
                if (!take_int(r, k, item, &v)) return 0;
                if (l->n < CFG_MAX_LAYERS) l->v[l->n] = v;
                l->n++;
                p = q ? q + 1 : p + len;
            }
            return 1;
        }
        int64_t v = 0;
        if (!take_int(r, k, s, &v)) return 0;
        if (l->n < CFG_MAX_LAYERS) l->v[l->n] = v;
        l->n++;
        return 1;
    }
    case KIND_BRANCHES: {
        RawSide *rs = &raw->side[k == K_ENC + SK_BRANCH ? 0 : 1];
        if (rs->nbranches >= CFG_MAX_BRANCHES)
            return value_error(r, line, k, "more than %d branches ('%.*s')", CFG_MAX_BRANCHES,
                               CONFIG_SHOW, s);
        const char *why = parse_branch(s, &rs->branches[rs->nbranches]);
        if (why != NULL)
            return value_error(r, line, k, "bad branch spec '%.*s': %s", CONFIG_SHOW, s, why);
        rs->nbranches++;
        return 1;
    }
    }
    return value_error(r, line, k, "internal error: unknown key kind");
}

/* Skips the value starting at the current event (any shape). */
static int skip_value(Reader *r) {
    if (r->ev.type != YAML_SEQUENCE_START_EVENT && r->ev.type != YAML_MAPPING_START_EVENT)
        return 1;
    size_t depth = 1;
    while (depth > 0) {
        if (!reader_next(r)) return 0;
        switch (r->ev.type) {
        case YAML_SEQUENCE_START_EVENT:
        case YAML_MAPPING_START_EVENT: depth++; break;
        case YAML_SEQUENCE_END_EVENT:
        case YAML_MAPPING_END_EVENT: depth--; break;
        default: break;
        }
    }
    return 1;
}

/* The value of architecture key k, starting at the current event. */
static int take_value(Reader *r, RawConfig *raw, int k) {
    KeyKind kind = model_keys[k].kind;
    int line = ev_line(r);
    switch (r->ev.type) {
    case YAML_SCALAR_EVENT: return take_scalar(r, raw, k);
    case YAML_SEQUENCE_START_EVENT:
        if (kind != KIND_INT_LIST && kind != KIND_BRANCHES)
            return value_error(r, line, k, "expected a single value, got a list");
        for (;;) {
            if (!reader_next(r)) return 0;
            if (r->ev.type == YAML_SEQUENCE_END_EVENT) break;
            if (r->ev.type != YAML_SCALAR_EVENT)
                return value_error(r, ev_line(r), k, "list items must be plain values");
            if (!take_scalar(r, raw, k)) return 0;
        }
        if (kind == KIND_BRANCHES && raw->side[k == K_ENC + SK_BRANCH ? 0 : 1].nbranches == 0)
            return value_error(r, line, k, "empty list");
        return 1;
    case YAML_MAPPING_START_EVENT:
        return value_error(r, line, k, "expected a value or a list, got a mapping");
    case YAML_ALIAS_EVENT: return value_error(r, line, k, "YAML aliases are not supported");
    default: return value_error(r, line, k, "unexpected YAML event");
    }
}

/* Levenshtein distance of two short strings (each < 64 bytes). */
static int edit_distance(const char *a, const char *b) {
    size_t la = strlen(a), lb = strlen(b);
    int row[64];
    for (size_t j = 0; j <= lb; j++) row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* A known key close to an unknown one, or NULL. */
static const char *suggest_key(const char *key) {
    size_t len = strlen(key);
    if (len == 0 || len >= 63) return NULL;
    char norm[64];
    for (size_t i = 0; i <= len; i++) {
        char c = key[i];
        if (c == '_') c = '-';
        if (c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        norm[i] = c;
    }
    int k = key_lookup(norm);
    if (k >= 0) return key_name(k);
    const char *best = NULL;
    int best_d = 3;
    for (k = 0; k < N_KEYS; k++) {
        const char *name = key_name(k);
        int d = edit_distance(norm, name);
        if (d < best_d && (size_t)d * 2 < strlen(name)) {
            best_d = d;
            best = name;
        }
    }
    return best;
}

/* One "key: value" pair; the current event is the key. */
static int take_pair(Reader *r, RawConfig *raw) {
    int line = ev_line(r);
    if (r->ev.type != YAML_SCALAR_EVENT) {
        sim_errorf(r->err, SIM_EINVAL, "%s:%d: keys must be plain scalars", r->path, line);
        return 0;
    }
    const char *key = (const char *)r->ev.data.scalar.value;
    int k = strlen(key) == r->ev.data.scalar.length ? key_lookup(key) : -1;
    if (k < 0) {
        const char *hint = suggest_key(key);
        if (hint != NULL)
            sim_errorf(r->err, SIM_EINVAL, "%s:%d: unknown key '%.*s' (did you mean '%s'?)",
                       r->path, line, CONFIG_SHOW, key, hint);
        else
            sim_errorf(r->err, SIM_EINVAL, "%s:%d: unknown key '%.*s'", r->path, line,
                       CONFIG_SHOW, key);
        return 0;
    }
    if (raw->line[k] != 0) {
        sim_errorf(r->err, SIM_EINVAL, "%s:%d: duplicate key '%s' (first at line %d)", r->path,
                   line, key_name(k), raw->line[k]);
        return 0;
    }
    raw->line[k] = line;
    if (!reader_next(r)) return 0;
    if (k >= K_MODEL_COUNT) return skip_value(r);
    return take_value(r, raw, k);
}

/* Checks the YAML syntax of the whole stream first, so that a syntax error is reported as
 * such rather than as a strange value seen before libyaml notices the error. */
static int reader_check_syntax(Reader *r) {
    for (;;) {
        if (!reader_next(r)) return 0;
        if (r->ev.type == YAML_STREAM_END_EVENT) return 1;
    }
}

/* Parses the whole stream into raw. */
static SimStatus parse_yaml(const char *path, const unsigned char *buf, size_t len,
                            RawConfig *raw, SimError *err) {
    static const unsigned char empty[1] = {0};
    Reader r;
    memset(&r, 0, sizeof r);
    r.path = path;
    r.buf = buf != NULL ? buf : empty;
    r.len = buf != NULL ? len : 0;
    r.err = err;
    SimStatus st = SIM_EINVAL;
    if (!yaml_parser_initialize(&r.yp))
        return sim_errorf(err, SIM_ENOMEM, "%s: out of memory (YAML parser)", path);
    yaml_parser_set_input_string(&r.yp, r.buf, r.len);
    if (!reader_check_syntax(&r)) goto out;
    yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.yp);
    if (!yaml_parser_initialize(&r.yp)) {
        st = sim_errorf(err, SIM_ENOMEM, "%s: out of memory (YAML parser)", path);
        goto out;
    }
    yaml_parser_set_input_string(&r.yp, r.buf, r.len);

    if (!reader_next(&r)) goto out; /* STREAM-START */
    if (!reader_next(&r)) goto out;
    if (r.ev.type == YAML_STREAM_END_EVENT) {
        sim_errorf(err, SIM_EINVAL, "%s:1: empty file (expected a YAML mapping of keys)", path);
        goto out;
    }
    if (!reader_next(&r)) goto out; /* after DOCUMENT-START */
    if (r.ev.type != YAML_MAPPING_START_EVENT) {
        int empty_doc = r.ev.type == YAML_SCALAR_EVENT && r.ev.data.scalar.length == 0 &&
                        r.ev.data.scalar.plain_implicit;
        sim_errorf(err, SIM_EINVAL, "%s:%d: %s (expected a YAML mapping of keys)", path,
                   ev_line(&r), empty_doc ? "empty document" : "document is not a mapping");
        goto out;
    }
    for (;;) {
        if (!reader_next(&r)) goto out;
        if (r.ev.type == YAML_MAPPING_END_EVENT) break;
        if (!take_pair(&r, raw)) goto out;
    }
    if (!reader_next(&r)) goto out; /* DOCUMENT-END */
    if (!reader_next(&r)) goto out;
    if (r.ev.type != YAML_STREAM_END_EVENT) {
        sim_errorf(err, SIM_EINVAL, "%s:%d: more than one YAML document", path, ev_line(&r));
        goto out;
    }
    st = SIM_OK;
out:
    yaml_event_delete(&r.ev);
    yaml_parser_delete(&r.yp);
    if (st != SIM_OK && err != NULL && err->code != SIM_OK) st = err->code;
    return st;
}

/* ---- validation ----------------------------------------------------------------------- */

/* Origin of a value, stored per key in VCtx.origin: > 0 the line in the file; */
#define ORIGIN_DEFAULT 0   /* the arch's default */
#define ORIGIN_ENCODER (-1) /* decoder value copied from the encoder key (fairseq's chain) */
#define ORIGIN_OVERRIDE (-2) /* vocabulary from ConfigOverrides (--vocab-size) */

typedef struct {
    const char *path;
    int pathlen;
    const char *arch;
    int archlen;
    const int *origin; /* per architecture key; NULL for a config built in code */
} VCtx;

/* "path:line: " for key k (the encoder key's line for a value copied from it), or "path: ". */
static void vprefix(const VCtx *v, int k, char *buf, size_t n) {
    int line = 0;
    if (v->origin != NULL) {
        line = v->origin[k];
        if (line == ORIGIN_ENCODER && k >= K_DEC) line = v->origin[k - SK_COUNT];
    }
    if (line > 0) snprintf(buf, n, "%.*s:%d: ", v->pathlen, v->path, line);
    else snprintf(buf, n, "%.*s: ", v->pathlen, v->path);
}

/* " (default of ARCH)" etc. for a value that did not come from the key's own line. */
static const char *vnote(const VCtx *v, int k, char *buf, size_t n) {
    buf[0] = '\0';
    if (v->origin == NULL) return buf;
    switch (v->origin[k]) {
    case ORIGIN_DEFAULT: snprintf(buf, n, " (default of %.*s)", v->archlen, v->arch); break;
    case ORIGIN_ENCODER:
        if (k >= K_DEC) snprintf(buf, n, " (from %s)", model_keys[k - SK_COUNT].name);
        break;
    case ORIGIN_OVERRIDE: snprintf(buf, n, " (from --vocab-size)"); break;
    default: break;
    }
    return buf;
}

static SimStatus verr(const VCtx *v, int k, SimError *err, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records "<prefix of key k><message>". */
static SimStatus verr(const VCtx *v, int k, SimError *err, const char *fmt, ...) {
    char pre[600], msg[768];
    vprefix(v, k, pre, sizeof pre);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return sim_errorf(err, SIM_EINVAL, "%s%s", pre, msg);
}

/* "key" or "key[i]" (the index only when the layers differ). */
static void layer_key(char *buf, size_t n, const char *key, int i, int uniform) {
    if (uniform) snprintf(buf, n, "%s", key);
    else snprintf(buf, n, "%s[%d]", key, i);
}

static int uniform64(const int64_t *v, int n) {
    for (int i = 1; i < n; i++)
        if (v[i] != v[0]) return 0;
    return 1;
}

static int uniform_int(const int *v, int n) {
    for (int i = 1; i < n; i++)
        if (v[i] != v[0]) return 0;
    return 1;
}

static SimStatus check_flag(const VCtx *v, int k, int value, SimError *err) {
    if (value == 0 || value == 1) return SIM_OK;
    return verr(v, k, err, "%s=%d must be 0 or 1", model_keys[k].name, value);
}

/* Checks one side; side 0 = encoder, 1 = decoder. */
static SimStatus check_stack(const ModelConfig *cfg, int side, const VCtx *v, SimError *err) {
    const StackConfig *st = side == 0 ? &cfg->enc : &cfg->dec;
    int base = side == 0 ? K_ENC : K_DEC;
    const char *k_dim = model_keys[base + SK_EMBED_DIM].name;
    const char *k_ffn = model_keys[base + SK_FFN].name;
    const char *k_heads = model_keys[base + SK_HEADS].name;
    const char *k_branch = model_keys[base + SK_BRANCH].name;
    const char *k_kern = model_keys[base + SK_KERNELS].name;
    char n1[64], n2[64], kb[80];

    if (side == 0 && cfg->family == FAMILY_LM && st->layers == 0) return SIM_OK;
    if (st->layers < 1 || st->layers > CFG_MAX_LAYERS)
        return verr(v, base + SK_LAYERS, err, "%s=%d%s must be in 1..%d",
                    model_keys[base + SK_LAYERS].name, st->layers,
                    vnote(v, base + SK_LAYERS, n1, sizeof n1), CFG_MAX_LAYERS);
    if (st->embed_dim < 1 || st->embed_dim > CONFIG_MAX_DIM)
        return verr(v, base + SK_EMBED_DIM, err, "%s=%" PRId64 "%s must be in 1..%d", k_dim,
                    st->embed_dim, vnote(v, base + SK_EMBED_DIM, n1, sizeof n1),
                    CONFIG_MAX_DIM);
    int L = st->layers;
    int ffn_uni = uniform64(st->ffn_dim, L), heads_uni = uniform_int(st->heads, L);
    for (int i = 0; i < L; i++) {
        if (st->ffn_dim[i] < 1 || st->ffn_dim[i] > CONFIG_MAX_FFN) {
            layer_key(kb, sizeof kb, k_ffn, i, ffn_uni);
            return verr(v, base + SK_FFN, err, "%s=%" PRId64 "%s must be in 1..%d", kb,
                        st->ffn_dim[i], vnote(v, base + SK_FFN, n1, sizeof n1),
                        CONFIG_MAX_FFN);
        }
        if (st->heads[i] < 1 || st->heads[i] > CONFIG_MAX_HEADS) {
            layer_key(kb, sizeof kb, k_heads, i, heads_uni);
            return verr(v, base + SK_HEADS, err, "%s=%d%s must be in 1..%d", kb, st->heads[i],
                        vnote(v, base + SK_HEADS, n1, sizeof n1), CONFIG_MAX_HEADS);
        }
    }
    if (check_flag(v, base + SK_NORM_BEFORE, st->normalize_before, err) != SIM_OK ||
        check_flag(v, base + SK_GLU, st->glu, err) != SIM_OK)
        return SIM_EINVAL;

    /* branches */
    if (st->nbranches < 0 || st->nbranches > CFG_MAX_BRANCHES)
        return verr(v, base + SK_BRANCH, err, "%s has %d branches (0..%d allowed)", k_branch,
                    st->nbranches, CFG_MAX_BRANCHES);
    if (st->nbranches > 0 && cfg->family != FAMILY_LITE &&
        !(cfg->family == FAMILY_LM && cfg->lm_branches))
        return verr(v, base + SK_BRANCH, err,
                    "%s needs a transformer_multibranch_v2 arch (family is %s)", k_branch,
                    config_family_name(cfg->family));
    int64_t sum = 0;
    for (int b = 0; b < st->nbranches; b++) {
        const BranchSpec *br = &st->branches[b];
        char spec[96], kern[16];
        if ((unsigned)br->type > (unsigned)BRANCH_LIGHTWEIGHT)
            return verr(v, base + SK_BRANCH, err, "%s[%d]: unknown branch type %d", k_branch, b,
                        (int)br->type);
        if (br->kernel == 0) snprintf(kern, sizeof kern, "default");
        else snprintf(kern, sizeof kern, "%d", br->kernel);
        snprintf(spec, sizeof spec, "%s:%s:%" PRId64 ":%d", config_branch_type_name(br->type),
                 kern, br->dim, br->heads);
        if (br->dim < 1 || br->dim > CONFIG_MAX_DIM)
            return verr(v, base + SK_BRANCH, err, "%s[%d]=%s: dim must be in 1..%d", k_branch,
                        b, spec, CONFIG_MAX_DIM);
        if (br->heads < 1 || br->heads > CONFIG_MAX_HEADS)
            return verr(v, base + SK_BRANCH, err, "%s[%d]=%s: heads must be in 1..%d",
                        k_branch, b, spec, CONFIG_MAX_HEADS);
        if (br->dim % br->heads != 0)
            return verr(v, base + SK_BRANCH, err,
                        "%s[%d]=%s: heads=%d does not divide dim=%" PRId64, k_branch, b, spec,
                        br->heads, br->dim);
        if (br->type != BRANCH_ATTN && (br->kernel < 0 || br->kernel > CFG_MAX_KERNEL))
            return verr(v, base + SK_BRANCH, err, "%s[%d]=%s: kernel must be in 1..%d",
                        k_branch, b, spec, CFG_MAX_KERNEL);
        sum += br->dim;
    }
    if (st->nbranches > 0 && sum != st->embed_dim)
        return verr(v, base + SK_BRANCH, err, "%s widths sum to %" PRId64 ", not %s=%" PRId64 "%s",
                    k_branch, sum, k_dim, st->embed_dim,
                    vnote(v, base + SK_EMBED_DIM, n1, sizeof n1));

    /* plain self-attention, and the decoder's encoder-decoder attention */
    int cross = side == 1 && cfg->enc.layers > 0;
    if (st->nbranches == 0 || cross) {
        for (int i = 0; i < L; i++) {
            if (st->embed_dim % st->heads[i] == 0) continue;
            layer_key(kb, sizeof kb, k_heads, i, heads_uni);
            return verr(v, base + SK_HEADS, err,
                        "%s=%d%s does not divide %s=%" PRId64 "%s%s", kb, st->heads[i],
                        vnote(v, base + SK_HEADS, n1, sizeof n1), k_dim, st->embed_dim,
                        vnote(v, base + SK_EMBED_DIM, n2, sizeof n2),
                        st->nbranches > 0 ? " (encoder-decoder attention)" : "");
        }
    }

    /* kernel list (used by the conv branches of the lite family) */
    if (cfg->family == FAMILY_LITE) {
        for (int i = 0; i < L; i++) {
            if (st->kernel_size[i] >= 1 && st->kernel_size[i] <= CFG_MAX_KERNEL) continue;
            return verr(v, base + SK_KERNELS, err, "%s[%d]=%d%s must be in 1..%d", k_kern, i,
                        st->kernel_size[i], vnote(v, base + SK_KERNELS, n1, sizeof n1),
                        CFG_MAX_KERNEL);
        }
    }
    return SIM_OK;
}

static SimStatus validate(const ModelConfig *cfg, const VCtx *v, SimError *err) {
    char n1[64], n2[64];
    if ((unsigned)cfg->family >= (unsigned)FAMILY_COUNT)
        return verr(v, K_ARCH, err, "arch: unknown family %d", (int)cfg->family);
    for (int side = 0; side < 2; side++)
        if (check_stack(cfg, side, v, err) != SIM_OK) return SIM_EINVAL;
    if (check_flag(v, K_SHARE_ALL, cfg->share_all_embeddings, err) != SIM_OK ||
        check_flag(v, K_SHARE_DEC_IO, cfg->share_decoder_input_output_embed, err) != SIM_OK ||
        check_flag(v, K_CONV_LINEAR, cfg->conv_linear, err) != SIM_OK ||
        check_flag(v, K_WEIGHT_SOFTMAX, cfg->weight_softmax, err) != SIM_OK ||
        check_flag(v, K_NO_TOKPOS, cfg->no_token_positional_embeddings, err) != SIM_OK)
        return SIM_EINVAL;
    if (cfg->activation != ACT_RELU && cfg->activation != ACT_GELU)
        return verr(v, K_ACTIVATION, err, "activation-fn: unknown activation %d",
                    (int)cfg->activation);
    if (cfg->src_vocab < 1 || cfg->src_vocab > CONFIG_MAX_VOCAB)
        return verr(v, K_SRC_VOCAB, err, "src-vocab-size=%" PRId64 "%s must be in 1..%d",
                    cfg->src_vocab, vnote(v, K_SRC_VOCAB, n1, sizeof n1), CONFIG_MAX_VOCAB);
    if (cfg->tgt_vocab < 1 || cfg->tgt_vocab > CONFIG_MAX_VOCAB)
        return verr(v, K_TGT_VOCAB, err, "tgt-vocab-size=%" PRId64 "%s must be in 1..%d",
                    cfg->tgt_vocab, vnote(v, K_TGT_VOCAB, n1, sizeof n1), CONFIG_MAX_VOCAB);
    if (cfg->family == FAMILY_LM) {
        const AdaptiveSpec *sp[2] = {&cfg->adaptive_input, &cfg->adaptive_softmax};
        const int ks[2] = {K_AI_CUTOFF, K_AS_CUTOFF};
        for (int i = 0; i < 2; i++) {
            const AdaptiveSpec *a = sp[i];
            if (a->n == 0) continue;
            if (a->factor < 1)
                return verr(v, ks[i], err, "%s: factor %d must be >= 1", model_keys[ks[i]].name,
                            a->factor);
            int64_t prev = 0, w = cfg->dec.embed_dim;
            for (int j = 0; j < a->n; j++) {
                if (a->cutoff[j] <= prev || a->cutoff[j] >= cfg->tgt_vocab)
                    return verr(v, ks[i], err,
                                "%s: cutoffs must increase and stay below the vocabulary of "
                                "%" PRId64 " (%" PRId64 ")",
                                model_keys[ks[i]].name, cfg->tgt_vocab, a->cutoff[j]);
                prev = a->cutoff[j];
                w /= a->factor;
                if (w < 1)
                    return verr(v, ks[i], err, "%s: band %d would have width 0 (d=%" PRId64
                                ", factor %d)", model_keys[ks[i]].name, j + 1,
                                cfg->dec.embed_dim, a->factor);
            }
        }
        if (cfg->tie_adaptive_weights) {
            const AdaptiveSpec *ai = &cfg->adaptive_input, *as = &cfg->adaptive_softmax;
            int same = ai->n == as->n && ai->factor == as->factor && ai->n > 0;
            for (int j = 0; same && j < ai->n; j++) same = ai->cutoff[j] == as->cutoff[j];
            if (!same)
                return verr(v, K_TIE_WEIGHTS, err,
                            "tie-adaptive-weights needs an adaptive input and an adaptive softmax "
                            "with the same cutoffs and factor");
        }
        if (cfg->tie_adaptive_proj && !cfg->tie_adaptive_weights)
            return verr(v, K_TIE_PROJ, err, "tie-adaptive-proj needs tie-adaptive-weights");
    }
    if (cfg->family == FAMILY_EVOLVED) {
        for (int i = 0; i < cfg->dec.layers; i++) {
            int h = cfg->dec.heads[i], h16 = 2 * h < 16 ? 2 * h : 16;
            if (h16 < h) h16 = h; /* tensor2tensor's _capped_double_heads */
            if (cfg->dec.embed_dim % h16 != 0)
                return verr(v, K_DEC + SK_HEADS, err,
                            "decoder-attention-heads=%d: the %d-head attention does not divide "
                            "decoder-embed-dim=%" PRId64,
                            h, h16, cfg->dec.embed_dim);
        }
        if (cfg->target_space_id < 0 || cfg->target_space_id > 31)
            return verr(v, K_TARGET_SPACE, err, "target-space-id=%d must be in 0..31",
                        cfg->target_space_id);
    }
    if (cfg->share_all_embeddings) {
        if (cfg->src_vocab != cfg->tgt_vocab)
            return verr(v, K_SHARE_ALL, err,
                        "share-all-embeddings needs one vocabulary: src-vocab-size=%" PRId64
                        " != tgt-vocab-size=%" PRId64,
                        cfg->src_vocab, cfg->tgt_vocab);
        if (cfg->enc.embed_dim != cfg->dec.embed_dim)
            return verr(v, K_SHARE_ALL, err,
                        "share-all-embeddings needs encoder-embed-dim=%" PRId64
                        "%s == decoder-embed-dim=%" PRId64 "%s",
                        cfg->enc.embed_dim, vnote(v, K_ENC + SK_EMBED_DIM, n1, sizeof n1),
                        cfg->dec.embed_dim, vnote(v, K_DEC + SK_EMBED_DIM, n2, sizeof n2));
    }
    return SIM_OK;
}

SimStatus config_validate(const ModelConfig *cfg, SimError *err) {
    if (err != NULL && err->code != SIM_OK) return err->code;
    if (cfg == NULL) return sim_errorf(err, SIM_EINVAL, "config_validate: cfg is NULL");
    VCtx v = {cfg->path, (int)strnlen(cfg->path, sizeof cfg->path), cfg->arch,
              (int)strnlen(cfg->arch, sizeof cfg->arch), NULL};
    if (v.pathlen == 0) {
        v.path = "<config>";
        v.pathlen = (int)strlen(v.path);
    }
    return validate(cfg, &v, err);
}

/* ---- building the config ---------------------------------------------------------------- */

/* Per-layer list rule: 1 value -> replicated, `layers` values -> used, else an error. */
static SimStatus resolve_layers(const IntList *l, int layers, const VCtx *v, int k,
                                int64_t *out, SimError *err) {
    char n1[64];
    if (l->n == 1) {
        for (int i = 0; i < layers; i++) out[i] = l->v[0];
        return SIM_OK;
    }
    if (l->n == layers) {
        for (int i = 0; i < layers; i++) out[i] = l->v[i];
        return SIM_OK;
    }
    return verr(v, k, err, "%s%s has %" PRId64 " values for %d layers (give 1 or %d)",
                model_keys[k].name, vnote(v, k, n1, sizeof n1), l->n, layers, layers);
}

/* One side of cfg from the arch defaults (already in cfg) and the raw keys. */
static SimStatus build_side(const RawConfig *raw, const ArchDef *a, int side, const VCtx *v,
                            int *origin, ModelConfig *cfg, SimError *err) {
    const RawSide *rs = &raw->side[side];
    StackConfig *st = side == 0 ? &cfg->enc : &cfg->dec;
    int base = side == 0 ? K_ENC : K_DEC;
    const int *line = raw->line;
    int64_t tmp[CFG_MAX_LAYERS];
    IntList def;

    if (line[base + SK_EMBED_DIM]) {
        st->embed_dim = rs->embed_dim;
    } else if (side == 1 && line[K_ENC + SK_EMBED_DIM] && !a->dec_embed_dim) {
        st->embed_dim = cfg->enc.embed_dim; /* fairseq: decoder_embed_dim = encoder_embed_dim */
        origin[base + SK_EMBED_DIM] = ORIGIN_ENCODER;
    }
    if (line[base + SK_LAYERS]) st->layers = (int)rs->layers;
    if (line[base + SK_NORM_BEFORE]) st->normalize_before = rs->normalize_before;
    if (line[base + SK_GLU]) st->glu = rs->glu;
    if (line[base + SK_LEARNED_POS] && rs->learned_pos)
        return verr(v, base + SK_LEARNED_POS, err,
                    "%s: learned positional embeddings are not supported (true)",
                    model_keys[base + SK_LEARNED_POS].name);
    int L = st->layers;

    /* FFN widths: the key, else (decoder) the encoder's key, else the arch default */
    const IntList *ffn = &def;
    def.n = 1;
    def.v[0] = side == 1 && a->dec_ffn_dim ? a->dec_ffn_dim : a->ffn_dim;
    if (a->family == FAMILY_EVOLVED) def.v[0] = 4 * st->embed_dim; /* ET: 4d, filter_size unused */
    if (line[base + SK_FFN]) {
        ffn = &rs->ffn;
    } else if (side == 1 && line[K_ENC + SK_FFN] && !a->dec_ffn_dim) {
        ffn = &raw->side[0].ffn;
        origin[base + SK_FFN] = ORIGIN_ENCODER;
    }
    if (resolve_layers(ffn, L, v, base + SK_FFN, st->ffn_dim, err) != SIM_OK) return SIM_EINVAL;

    /* heads */
    const IntList *heads = &def;
    def.v[0] = a->heads;
    if (line[base + SK_HEADS]) heads = &rs->heads;
    if (resolve_layers(heads, L, v, base + SK_HEADS, tmp, err) != SIM_OK) return SIM_EINVAL;
    for (int i = 0; i < L; i++) st->heads[i] = (int)tmp[i];

    /* kernel list, fairseq's rule: 1 value replicated, longer truncated, shorter an error */
    const IntList *kern = &def;
    if (a->lm & LM_BRANCHES) { /* the multibranch LM's own argparse default */
        def.n = 17;
        for (int i = 0; i < 17; i++) def.v[i] = lm_default_kernels[i];
    } else {
        def.n = N_DEFAULT_KERNELS;
        for (int i = 0; i < N_DEFAULT_KERNELS; i++) def.v[i] = default_kernels[i];
    }
    if (line[base + SK_KERNELS]) kern = &rs->kernels;
    memset(st->kernel_size, 0, sizeof st->kernel_size);
    if (kern->n == 1) {
        for (int i = 0; i < L; i++) st->kernel_size[i] = (int)kern->v[0];
    } else if (kern->n >= L) {
        for (int i = 0; i < L; i++) st->kernel_size[i] = (int)kern->v[i];
    } else if (kern == &def && cfg->family != FAMILY_LITE && !(a->lm & LM_BRANCHES)) {
        /* the transformer family has no conv branches: the unused list stays partial */
        for (int i = 0; i < (int)kern->n; i++) st->kernel_size[i] = (int)kern->v[i];
    } else {
        char n1[64];
        return verr(v, base + SK_KERNELS, err, "%s%s has %" PRId64 " values for %d layers",
                    model_keys[base + SK_KERNELS].name,
                    vnote(v, base + SK_KERNELS, n1, sizeof n1), kern->n, L);
    }

    st->nbranches = rs->nbranches;
    memcpy(st->branches, rs->branches, sizeof st->branches);
    return SIM_OK;
}

/* Settles src/tgt vocabulary from the override and the vocab keys. */
static SimStatus build_vocab(const RawConfig *raw, const ConfigOverrides *ov, const VCtx *v,
                             int *origin, ModelConfig *cfg, SimError *err) {
    const int *line = raw->line;
    if (line[K_VOCAB] && (line[K_SRC_VOCAB] || line[K_TGT_VOCAB])) {
        int k = line[K_SRC_VOCAB] ? K_SRC_VOCAB : K_TGT_VOCAB;
        return verr(v, k, err, "%s=%" PRId64 " cannot be combined with vocab-size=%" PRId64
                               " (line %d): give vocab-size, or src-vocab-size and tgt-vocab-size",
                    model_keys[k].name, k == K_SRC_VOCAB ? raw->src_vocab : raw->tgt_vocab,
                    raw->vocab, line[K_VOCAB]);
    }
    if (ov != NULL && ov->vocab_size > 0) {
        if (ov->vocab_size > CONFIG_MAX_VOCAB)
            return sim_errorf(err, SIM_EINVAL, "%.*s: --vocab-size=%" PRId64 " must be in 1..%d",
                              v->pathlen, v->path, ov->vocab_size, CONFIG_MAX_VOCAB);
        cfg->src_vocab = cfg->tgt_vocab = ov->vocab_size;
        origin[K_SRC_VOCAB] = origin[K_TGT_VOCAB] = ORIGIN_OVERRIDE;
        return SIM_OK;
    }
    if (line[K_VOCAB]) {
        cfg->src_vocab = cfg->tgt_vocab = raw->vocab;
        origin[K_SRC_VOCAB] = origin[K_TGT_VOCAB] = line[K_VOCAB];
        return SIM_OK;
    }
    if (!line[K_SRC_VOCAB] && !line[K_TGT_VOCAB])
        return sim_errorf(err, SIM_EINVAL,
                          "%.*s: no vocabulary size: set vocab-size (or src-vocab-size and "
                          "tgt-vocab-size) in the file or pass --vocab-size",
                          v->pathlen, v->path);
    if (!line[K_SRC_VOCAB] || !line[K_TGT_VOCAB]) {
        int k = line[K_SRC_VOCAB] ? K_SRC_VOCAB : K_TGT_VOCAB;
        return verr(v, k, err,
                    "%s=%" PRId64 " given without %s: set both, or vocab-size, or pass "
                    "--vocab-size",
                    model_keys[k].name, k == K_SRC_VOCAB ? raw->src_vocab : raw->tgt_vocab,
                    k == K_SRC_VOCAB ? "tgt-vocab-size" : "src-vocab-size");
    }
    cfg->src_vocab = raw->src_vocab;
    cfg->tgt_vocab = raw->tgt_vocab;
    return SIM_OK;
}

/* Applies arch defaults and the raw keys, then validates. */
static SimStatus build(const RawConfig *raw, const char *path, const ConfigOverrides *ov,
                       ModelConfig *cfg, SimError *err) {
    int origin[K_MODEL_COUNT];
    for (int k = 0; k < K_MODEL_COUNT; k++) origin[k] = raw->line[k];
    VCtx v = {path, (int)strlen(path), raw->arch, (int)strlen(raw->arch), origin};

    if (!raw->line[K_ARCH])
        return sim_errorf(err, SIM_EINVAL,
                          "%s: missing key 'arch' (a fairseq architecture such as "
                          "transformer_multibranch_v2_wmt_en_de)",
                          path);
    const ArchDef *a = arch_find(raw->arch);
    if (a == NULL) {
        char loc[600];
        snprintf(loc, sizeof loc, "%s:%d: ", path, raw->line[K_ARCH]);
        return arch_error(loc, raw->arch, err);
    }
    arch_fill(a, cfg);
    config_copy_trunc(cfg->path, sizeof cfg->path, path);
    config_copy_trunc(cfg->arch, sizeof cfg->arch, raw->arch);

    for (int side = 0; side < 2; side++)
        if (build_side(raw, a, side, &v, origin, cfg, err) != SIM_OK) return SIM_EINVAL;

    const int *line = raw->line;
    if (line[K_SHARE_ALL]) cfg->share_all_embeddings = raw->share_all;
    if (line[K_SHARE_DEC_IO]) cfg->share_decoder_input_output_embed = raw->share_dec_io;
    if (cfg->share_all_embeddings) cfg->share_decoder_input_output_embed = 1;
    if (line[K_CONV_LINEAR]) cfg->conv_linear = raw->conv_linear;
    if (line[K_WEIGHT_SOFTMAX]) cfg->weight_softmax = raw->weight_softmax;
    if (line[K_ACTIVATION]) cfg->activation = raw->activation;
    if (line[K_NO_TOKPOS]) cfg->no_token_positional_embeddings = raw->no_tokpos;
    if (line[K_DESCRIPTION])
        config_copy_trunc(cfg->description, sizeof cfg->description, raw->description);

    if (line[K_SRC_LEN]) cfg->src_len = raw->src_len;
    if (line[K_TGT_LEN]) cfg->tgt_len = raw->tgt_len;
    if (line[K_NO_SCALE_EMB]) cfg->no_scale_embedding = raw->no_scale_emb;
    static const int lm_keys[] = {K_ADAPTIVE_INPUT, K_AI_FACTOR, K_AI_CUTOFF, K_AS_CUTOFF,
                                  K_AS_FACTOR, K_TIE_WEIGHTS, K_TIE_PROJ, K_NO_FINAL_NORM};
    if (cfg->family != FAMILY_LM) {
        for (size_t i = 0; i < sizeof lm_keys / sizeof lm_keys[0]; i++)
            if (line[lm_keys[i]])
                return verr(&v, lm_keys[i], err, "%s applies to language models only (arch %s)",
                            model_keys[lm_keys[i]].name, raw->arch);
    } else {
        /* decoder only: an encoder key is a mistake */
        for (int k = K_ENC; k < K_ENC + SK_COUNT; k++)
            if (line[k])
                return verr(&v, k, err, "%s does not apply to a language model (arch %s has no "
                            "encoder)", model_keys[k].name, raw->arch);
        if (line[K_SHARE_ALL])
            return verr(&v, K_SHARE_ALL, err, "share-all-embeddings does not apply to a language "
                        "model (arch %s)", raw->arch);
        cfg->enc.layers = 0;
        cfg->enc.embed_dim = cfg->dec.embed_dim;
        cfg->dec.normalize_before = 1; /* fairseq forces pre-norm for its LMs */
        if (line[K_NO_FINAL_NORM]) cfg->no_final_norm = raw->no_final_norm;
        AdaptiveSpec def = {2, {20000, 60000}, 4};
        if (line[K_ADAPTIVE_INPUT]) {
            if (!raw->adaptive_input) cfg->adaptive_input.n = 0;
            else if (cfg->adaptive_input.n == 0) cfg->adaptive_input = def;
        }
        const IntList *cut[2] = {&raw->ai_cutoff, &raw->as_cutoff};
        AdaptiveSpec *spec[2] = {&cfg->adaptive_input, &cfg->adaptive_softmax};
        int kcut[2] = {K_AI_CUTOFF, K_AS_CUTOFF}, kfac[2] = {K_AI_FACTOR, K_AS_FACTOR};
        int64_t fac[2] = {raw->ai_factor, raw->as_factor};
        for (int i = 0; i < 2; i++) {
            if (line[kcut[i]]) {
                if (cut[i]->n > CFG_MAX_CUTOFFS)
                    return verr(&v, kcut[i], err, "%s has %" PRId64 " values (at most %d)",
                                model_keys[kcut[i]].name, cut[i]->n, CFG_MAX_CUTOFFS);
                if (spec[i]->factor == 0) spec[i]->factor = 4;
                spec[i]->n = (int)cut[i]->n;
                for (int j = 0; j < spec[i]->n; j++) spec[i]->cutoff[j] = cut[i]->v[j];
            }
            if (line[kfac[i]]) spec[i]->factor = (int)fac[i];
        }
        if (line[K_TIE_WEIGHTS]) cfg->tie_adaptive_weights = raw->tie_weights;
        if (line[K_TIE_PROJ]) cfg->tie_adaptive_proj = raw->tie_proj;
        if (!cfg->lm_branches && (line[K_DEC + SK_BRANCH] || line[K_DEC + SK_KERNELS]))
            return verr(&v, line[K_DEC + SK_BRANCH] ? K_DEC + SK_BRANCH : K_DEC + SK_KERNELS, err,
                        "%s needs a transformer_lm_multibranch_v2 arch (arch %s)",
                        model_keys[line[K_DEC + SK_BRANCH] ? K_DEC + SK_BRANCH : K_DEC + SK_KERNELS].name,
                        raw->arch);
    }
    if (line[K_TARGET_SPACE]) {
        if (cfg->family != FAMILY_EVOLVED)
            return verr(&v, K_TARGET_SPACE, err,
                        "target-space-id applies to evolved_transformer only (arch %s)", raw->arch);
        cfg->target_space_id = (int)raw->target_space;
    }
    if (cfg->family == FAMILY_EVOLVED) {
        /* tensor2tensor's cells fix these: a key that would change them is an error */
        static const int fixed[] = {K_ENC + SK_FFN,        K_DEC + SK_FFN,        K_ENC + SK_BRANCH,
                                    K_DEC + SK_BRANCH,     K_ENC + SK_KERNELS,    K_DEC + SK_KERNELS,
                                    K_ENC + SK_GLU,        K_DEC + SK_GLU,        K_ENC + SK_NORM_BEFORE,
                                    K_DEC + SK_NORM_BEFORE, K_CONV_LINEAR,        K_WEIGHT_SOFTMAX,
                                    K_ACTIVATION,          K_SHARE_DEC_IO,        K_NO_TOKPOS};
        for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
            if (line[fixed[i]])
                return verr(&v, fixed[i], err,
                            "%s does not apply to %s (its cells are fixed by tensor2tensor)",
                            model_keys[fixed[i]].name, raw->arch);
        if (!cfg->share_all_embeddings)
            return verr(&v, K_SHARE_ALL, err,
                        "share-all-embeddings: %s shares its embeddings and softmax weights "
                        "(false is not supported)",
                        raw->arch);
        for (int i = 0; i < cfg->dec.layers; i++) cfg->dec.ffn_dim[i] = 4 * cfg->dec.embed_dim;
        for (int i = 0; i < cfg->enc.layers; i++) cfg->enc.ffn_dim[i] = 4 * cfg->enc.embed_dim;
    }
    if (build_vocab(raw, ov, &v, origin, cfg, err) != SIM_OK) return SIM_EINVAL;
    return validate(cfg, &v, err);
}

SimStatus config_load_buffer(const char *buf, size_t len, const char *name,
                             const ConfigOverrides *ov, ModelConfig *cfg, SimError *err) {
    if (err != NULL && err->code != SIM_OK) return err->code;
    if (cfg == NULL) return sim_errorf(err, SIM_EINVAL, "config_load_buffer: cfg is NULL");
    memset(cfg, 0, sizeof *cfg);
    if (name == NULL) name = "<buffer>";
    if (buf == NULL && len > 0)
        return sim_errorf(err, SIM_EINVAL, "%s: config_load_buffer: NULL buffer", name);
    RawConfig raw;
    memset(&raw, 0, sizeof raw);
    SimStatus st = parse_yaml(name, (const unsigned char *)buf, len, &raw, err);
    if (st == SIM_OK) st = build(&raw, name, ov, cfg, err);
    if (st != SIM_OK) memset(cfg, 0, sizeof *cfg);
    return st;
}

SimStatus config_load(const char *path, const ConfigOverrides *ov, ModelConfig *cfg,
                      SimError *err) {
    if (err != NULL && err->code != SIM_OK) return err->code;
    if (cfg == NULL || path == NULL)
        return sim_errorf(err, SIM_EINVAL, "config_load: NULL argument");
    memset(cfg, 0, sizeof *cfg);
    SimStatus st = SIM_EINVAL;
    char *buf = NULL;
    FILE *f = fopen(path, "rb");
    if (f == NULL) {
        st = sim_errorf(err, SIM_EINVAL, "%s: cannot open config: %s", path, strerror(errno));
        goto out;
    }
    buf = malloc((size_t)CONFIG_MAX_FILE + 1);
    if (buf == NULL) {
        st = sim_errorf(err, SIM_ENOMEM, "%s: out of memory reading the config", path);
        goto out;
    }
    size_t n = fread(buf, 1, (size_t)CONFIG_MAX_FILE + 1, f);
    if (ferror(f)) {
        st = sim_errorf(err, SIM_EINVAL, "%s: cannot read config: %s", path, strerror(errno));
        goto out;
    }
    if (n > CONFIG_MAX_FILE) {
        st = sim_errorf(err, SIM_EINVAL, "%s: config file larger than %d bytes", path,
                        CONFIG_MAX_FILE);
        goto out;
    }
    st = config_load_buffer(buf, n, path, ov, cfg, err);
out:
    free(buf);
    if (f != NULL) fclose(f);
    return st;
}
