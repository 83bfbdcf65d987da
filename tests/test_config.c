/*
 * test_config.c - CMocka tests of the model config loader (sim/config.c).
 *
 * Runs from the repository root: reference configs are read from tests/reference-configs
 * and bad inputs from tests/fixtures/bad/. Every error test checks that the one-line message
 * names the file, the line (when there is one), the key and the bad value.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "paths.h"
#include "testutil.h"

#define REF "tests/reference-configs/"
#define BAD "tests/fixtures/bad/"
#define MEM "mem.yml"

static const int lite_kernels[6] = {3, 7, 15, 31, 31, 31};

/* ---- helpers ------------------------------------------------------------------------- */

/* Loads a YAML string named MEM with an optional vocabulary override (0 = none). */
static SimStatus load_str(const char *yaml, int64_t vocab, ModelConfig *cfg, SimError *err) {
    ConfigOverrides ov = {vocab};
    sim_error_init(err);
    return config_load_buffer(yaml, strlen(yaml), MEM, vocab > 0 ? &ov : NULL, cfg, err);
}

static SimStatus load_file(const char *path, int64_t vocab, ModelConfig *cfg, SimError *err) {
    ConfigOverrides ov = {vocab};
    sim_error_init(err);
    return config_load(path, vocab > 0 ? &ov : NULL, cfg, err);
}

/* Fails unless msg contains every one of the NULL-terminated strings. */
static void assert_msg_has(const SimError *err, ...) {
    const char *missing = NULL;
    va_list ap;
    va_start(ap, err);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *)) {
        if (strstr(err->msg, s) == NULL) {
            missing = s;
            break;
        }
    }
    va_end(ap);
    if (missing != NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", err->msg, missing);
        fail();
    }
    assert_null(strchr(err->msg, '\n'));
}

/* Loads yaml (no override unless vocab > 0), expects SIM_EINVAL and every string. */
#define EXPECT_ERR(yaml, vocab, ...)                                                     \
    do {                                                                                 \
        ModelConfig c_;                                                                  \
        SimError e_;                                                                     \
        assert_int_equal(load_str((yaml), (vocab), &c_, &e_), SIM_EINVAL);              \
        assert_int_equal(e_.code, SIM_EINVAL);                                           \
        assert_msg_has(&e_, __VA_ARGS__, (const char *)NULL);                            \
    } while (0)

#define EXPECT_FILE_ERR(path, vocab, ...)                                                \
    do {                                                                                 \
        ModelConfig c_;                                                                  \
        SimError e_;                                                                     \
        assert_int_equal(load_file((path), (vocab), &c_, &e_), SIM_EINVAL);             \
        assert_msg_has(&e_, (path), __VA_ARGS__, (const char *)NULL);                    \
    } while (0)

static void assert_stack_uniform(const StackConfig *st, int64_t d, int layers, int64_t ffn,
                                 int heads) {
    assert_int_equal(st->embed_dim, d);
    assert_int_equal(st->layers, layers);
    for (int i = 0; i < layers; i++) {
        assert_int_equal(st->ffn_dim[i], ffn);
        assert_int_equal(st->heads[i], heads);
    }
}

static void assert_branch(const BranchSpec *b, BranchType type, int kernel, int64_t dim,
                          int heads) {
    assert_int_equal(b->type, type);
    assert_int_equal(b->kernel, kernel);
    assert_int_equal(b->dim, dim);
    assert_int_equal(b->heads, heads);
}

static void assert_lite_kernels(const StackConfig *st) {
    for (int i = 0; i < 6; i++) assert_int_equal(st->kernel_size[i], lite_kernels[i]);
}

/* ---- the Lite Transformer repository's configs ---------------------------------------- */

static void check_reference(const char *file, int64_t d, BranchType conv, int glu, int share) {
    char path[256];
    snprintf(path, sizeof path, REF "%s", file);
    ModelConfig c;
    SimError e;
    if (load_file(path, 32768, &c, &e) != SIM_OK) {
        print_error("%s\n", e.msg);
        fail();
    }
    assert_string_equal(c.path, path);
    assert_int_equal(c.family, FAMILY_LITE);
    int cross_heads = share ? 8 : 4; /* wmt_en_de arch: 8; iwslt arch: 4 */
    const StackConfig *sides[2] = {&c.enc, &c.dec};
    for (int s = 0; s < 2; s++) {
        const StackConfig *st = sides[s];
        assert_stack_uniform(st, d, 6, d, cross_heads);
        assert_int_equal(st->normalize_before, 0);
        assert_int_equal(st->nbranches, 2);
        assert_branch(&st->branches[0], BRANCH_ATTN, 1, d / 2, 4);
        assert_branch(&st->branches[1], conv, 0, d / 2, 4);
        assert_lite_kernels(st);
        assert_int_equal(st->glu, glu);
    }
    assert_int_equal(c.share_all_embeddings, share);
    assert_int_equal(c.share_decoder_input_output_embed, share);
    assert_int_equal(c.conv_linear, 1);
    assert_int_equal(c.weight_softmax, 1);
    assert_int_equal(c.activation, ACT_RELU);
    assert_int_equal(c.no_token_positional_embeddings, 0);
    assert_int_equal(c.src_vocab, 32768);
    assert_int_equal(c.tgt_vocab, 32768);
}

static void test_config_reference_wmt_loads(void **state) {
    (void)state;
    static const char *const sets[] = {"wmt14.en-fr", "wmt16.en-de"};
    static const int64_t dims[] = {200, 408, 496};
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < 3; i++) {
            char file[64];
            snprintf(file, sizeof file, "%s_embed%d.yml", sets[s], (int)dims[i]);
            check_reference(file, dims[i], BRANCH_DYNAMIC, 1, 1);
        }
    }
}

static void test_config_reference_cnndm_loads(void **state) {
    (void)state;
    check_reference("cnndm_embed496.yml", 496, BRANCH_DYNAMIC, 1, 1);
}

static void test_config_reference_iwslt_loads(void **state) {
    (void)state;
    check_reference("iwslt14.de-en_embed160.yml", 160, BRANCH_LIGHTWEIGHT, 0, 0);
    check_reference("iwslt14.de-en_embed240.yml", 240, BRANCH_LIGHTWEIGHT, 0, 0);
    check_reference("iwslt14.de-en_embed320.yml", 320, BRANCH_LIGHTWEIGHT, 0, 0);
}

/* The WIKITEXT-103 language model loads unchanged (architectures.md §8). */
static void test_config_reference_wikitext(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    sim_error_init(&e);
    ConfigOverrides ov = {267744};
    assert_int_equal(config_load(REF "wikitext-103_embed896.yml", &ov, &c, &e), SIM_OK);
    assert_int_equal(c.family, FAMILY_LM);
    assert_int_equal(c.enc.layers, 0);
    assert_int_equal(c.dec.layers, 12);
    assert_int_equal(c.dec.embed_dim, 896);
    assert_int_equal(c.dec.ffn_dim[0], 896);
    assert_int_equal(c.dec.nbranches, 2);
    assert_int_equal(c.dec.branches[1].type, BRANCH_DYNAMIC);
    assert_true(c.dec.glu && c.conv_linear && c.dec.normalize_before && c.no_final_norm);
    const int k[12] = {15, 15, 31, 31, 31, 31, 63, 63, 63, 63, 63, 63};
    for (int i = 0; i < 12; i++) assert_int_equal(c.dec.kernel_size[i], k[i]);
    assert_int_equal(c.adaptive_input.n, 2);
    assert_int_equal(c.adaptive_input.cutoff[1], 60000);
    assert_int_equal(c.adaptive_softmax.factor, 4);
    assert_true(c.tie_adaptive_weights && c.tie_adaptive_proj);
    /* a vocabulary below the cutoffs cannot hold the bands */
    EXPECT_FILE_ERR(REF "wikitext-103_embed896.yml", 32768, "adaptive-input-cutoff", "60000");
}

static void test_config_reference_needs_vocab(void **state) {
    (void)state;
    EXPECT_FILE_ERR(REF "wmt16.en-de_embed496.yml", 0, "no vocabulary size", "vocab-size",
                    "--vocab-size");
}

/* ---- arch defaults ---------------------------------------------------------------------- */

typedef struct {
    const char *arch;
    Family family;
    int64_t d, ffn;
    int heads, pre;
} ArchCase;

static const ArchCase arch_cases[] = {
    {"transformer", FAMILY_TRANSFORMER, 512, 2048, 8, 0},
    {"transformer_wmt_en_de", FAMILY_TRANSFORMER, 512, 2048, 8, 0},
    {"transformer_iwslt_de_en", FAMILY_TRANSFORMER, 512, 1024, 4, 0},
    {"transformer_vaswani_wmt_en_de_big", FAMILY_TRANSFORMER, 1024, 4096, 16, 0},
    {"transformer_vaswani_wmt_en_fr_big", FAMILY_TRANSFORMER, 1024, 4096, 16, 0},
    {"transformer_wmt_en_de_big", FAMILY_TRANSFORMER, 1024, 4096, 16, 0},
    {"transformer_wmt_en_de_big_t2t", FAMILY_TRANSFORMER, 1024, 4096, 16, 1},
    {"transformer_multibranch_v2", FAMILY_LITE, 512, 2048, 8, 0},
    {"transformer_multibranch_v2_wmt_en_de", FAMILY_LITE, 512, 2048, 8, 0},
    {"transformer_multibranch_v2_iwslt_de_en", FAMILY_LITE, 512, 1024, 4, 0},
    {"transformer_multibranch_v2_vaswani_wmt_en_de_big", FAMILY_LITE, 1024, 4096, 16, 0},
    {"transformer_multibranch_v2_vaswani_wmt_en_fr_big", FAMILY_LITE, 1024, 4096, 16, 0},
    {"transformer_multibranch_v2_wmt_en_de_big", FAMILY_LITE, 1024, 4096, 16, 0},
    {"transformer_multibranch_v2_wmt_en_de_big_t2t", FAMILY_LITE, 1024, 4096, 16, 1},
};

static void check_arch_case(const ArchCase *a, const ModelConfig *c) {
    assert_string_equal(c->arch, a->arch);
    assert_int_equal(c->family, a->family);
    assert_stack_uniform(&c->enc, a->d, 6, a->ffn, a->heads);
    assert_stack_uniform(&c->dec, a->d, 6, a->ffn, a->heads);
    assert_int_equal(c->enc.normalize_before, a->pre);
    assert_int_equal(c->dec.normalize_before, a->pre);
    assert_int_equal(c->enc.nbranches, 0);
    assert_int_equal(c->dec.nbranches, 0);
    assert_int_equal(c->activation, ACT_RELU);
    assert_int_equal(c->share_all_embeddings, 0);
    assert_int_equal(c->share_decoder_input_output_embed, 0);
    assert_int_equal(c->conv_linear, 0);
    assert_int_equal(c->weight_softmax, 1);
    if (a->family == FAMILY_LITE) {
        assert_int_equal(c->enc.glu, 1);
        assert_int_equal(c->dec.glu, 1);
        assert_lite_kernels(&c->enc);
        assert_lite_kernels(&c->dec);
    }
}

static void test_config_arch_defaults_every_arch(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof arch_cases / sizeof arch_cases[0]; i++) {
        ModelConfig c;
        SimError e;
        sim_error_init(&e);
        assert_int_equal(config_arch_defaults(arch_cases[i].arch, &c, &e), SIM_OK);
        check_arch_case(&arch_cases[i], &c);
        assert_int_equal(c.src_vocab, 0);
        assert_int_equal(c.tgt_vocab, 0);
    }
}

static void test_config_arch_defaults_from_file(void **state) {
    (void)state;
    for (size_t i = 0; i < sizeof arch_cases / sizeof arch_cases[0]; i++) {
        char yaml[256];
        snprintf(yaml, sizeof yaml, "arch: %s\nvocab-size: 1000\n", arch_cases[i].arch);
        ModelConfig c;
        SimError e;
        if (load_str(yaml, 0, &c, &e) != SIM_OK) {
            print_error("%s: %s\n", arch_cases[i].arch, e.msg);
            fail();
        }
        check_arch_case(&arch_cases[i], &c);
        assert_int_equal(c.src_vocab, 1000);
        assert_int_equal(c.tgt_vocab, 1000);
        assert_string_equal(c.path, MEM);
    }
}

static void test_config_arch_defaults_unknown(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    sim_error_init(&e);
    assert_int_equal(config_arch_defaults("transformer_tiny", &c, &e), SIM_EINVAL);
    assert_msg_has(&e, "unknown arch 'transformer_tiny'", "transformer_multibranch_v2",
                   (const char *)NULL);
    sim_error_init(&e);
    assert_int_equal(config_arch_defaults("transformer_lm_gbw", &c, &e), SIM_EINVAL);
    assert_msg_has(&e, "unknown arch 'transformer_lm_gbw'", "transformer_lm_wiki103",
                   (const char *)NULL);
}

/* tensor2tensor's Evolved Transformer: 3 + 4 cells, 4d FFN, shared embeddings, fixed cells. */
static void test_config_evolved(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    sim_error_init(&e);
    const char *ok = "arch: evolved_transformer\nvocab-size: 100\nencoder-embed-dim: 128\n"
                     "encoder-attention-heads: 4\ndecoder-attention-heads: 4\ntarget-space-id: 3\n";
    assert_int_equal(config_load_buffer(ok, strlen(ok), "et.yml", NULL, &c, &e), SIM_OK);
    assert_int_equal(c.family, FAMILY_EVOLVED);
    assert_int_equal(c.enc.layers, 3);
    assert_int_equal(c.dec.layers, 4);
    assert_int_equal(c.dec.embed_dim, 128);
    assert_int_equal(c.enc.ffn_dim[2], 512);
    assert_int_equal(c.target_space_id, 3);
    assert_true(c.share_all_embeddings);
    assert_true(c.enc.normalize_before && c.dec.normalize_before);
    assert_int_equal(config_arch_defaults("evolved_transformer_big", &c, &e), SIM_OK);
    assert_int_equal(c.enc.embed_dim, 1024);
    assert_int_equal(c.enc.heads[0], 16);
    const char *ffn = "arch: evolved_transformer\nvocab-size: 100\nencoder-ffn-embed-dim: 100\n";
    sim_error_init(&e);
    assert_int_equal(config_load_buffer(ffn, strlen(ffn), "et.yml", NULL, &c, &e), SIM_EINVAL);
    assert_msg_has(&e, "et.yml:3", "encoder-ffn-embed-dim", (const char *)NULL);
    const char *ts = "arch: transformer\nvocab-size: 100\ntarget-space-id: 1\n";
    sim_error_init(&e);
    assert_int_equal(config_load_buffer(ts, strlen(ts), "t.yml", NULL, &c, &e), SIM_EINVAL);
    assert_msg_has(&e, "t.yml:3", "target-space-id", (const char *)NULL);
    const char *h = "arch: evolved_transformer\nvocab-size: 100\nencoder-embed-dim: 120\n"
                    "decoder-attention-heads: 8\nencoder-attention-heads: 8\n";
    sim_error_init(&e);
    assert_int_equal(config_load_buffer(h, strlen(h), "h.yml", NULL, &c, &e), SIM_EINVAL);
    assert_msg_has(&e, "h.yml", "16-head", (const char *)NULL);
}

static void test_config_file_overrides_defaults(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer_wmt_en_de_big_t2t\n"
                       "vocab-size: 8000\n"
                       "encoder-normalize-before: false\n"
                       "decoder-layers: 3\n"
                       "decoder-attention-heads: 8\n"
                       "activation-fn: gelu\n"
                       "no-token-positional-embeddings: true\n"
                       "share-decoder-input-output-embed: true\n"
                       "description: big, pre-norm decoder only\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    assert_stack_uniform(&c.enc, 1024, 6, 4096, 16);
    assert_stack_uniform(&c.dec, 1024, 3, 4096, 8);
    assert_int_equal(c.enc.normalize_before, 0);
    assert_int_equal(c.dec.normalize_before, 1);
    assert_int_equal(c.activation, ACT_GELU);
    assert_int_equal(c.no_token_positional_embeddings, 1);
    assert_int_equal(c.share_all_embeddings, 0);
    assert_int_equal(c.share_decoder_input_output_embed, 1);
    assert_string_equal(c.description, "big, pre-norm decoder only");
}

static void test_config_decoder_follows_encoder(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer\nvocab-size: 100\n"
                       "encoder-embed-dim: 256\nencoder-ffn-embed-dim: 1024\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    assert_stack_uniform(&c.enc, 256, 6, 1024, 8);
    assert_stack_uniform(&c.dec, 256, 6, 1024, 8);
    /* an explicit decoder value wins */
    yaml = "arch: transformer\nvocab-size: 100\nencoder-embed-dim: 256\n"
           "decoder-embed-dim: 128\ndecoder-ffn-embed-dim: 512\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    assert_stack_uniform(&c.enc, 256, 6, 2048, 8);
    assert_stack_uniform(&c.dec, 128, 6, 512, 8);
}

static void test_config_iwslt_arch_decoder_heads(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    assert_int_equal(load_str("arch: transformer_multibranch_v2_iwslt_de_en\n", 500, &c, &e),
                     SIM_OK);
    assert_stack_uniform(&c.dec, 512, 6, 1024, 4);
    assert_int_equal(c.share_all_embeddings, 0);
}

/* ---- per-layer and kernel lists ------------------------------------------------------- */

static void test_config_per_layer_lists(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer\nvocab-size: 100\n"
                       "encoder-layers: 4\n"
                       "encoder-ffn-embed-dim: [512, 1024, 2048, 4096]\n"
                       "encoder-attention-heads:\n  - 4\n  - 8\n  - 16\n  - 2\n"
                       "decoder-layers: 2\n"
                       "decoder-ffn-embed-dim: [768]\n"
                       "decoder-attention-heads: 16\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    static const int64_t ffn[4] = {512, 1024, 2048, 4096};
    static const int heads[4] = {4, 8, 16, 2};
    assert_int_equal(c.enc.layers, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(c.enc.ffn_dim[i], ffn[i]);
        assert_int_equal(c.enc.heads[i], heads[i]);
    }
    assert_stack_uniform(&c.dec, 512, 2, 768, 16);
}

static void test_config_per_layer_list_wrong_length(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nvocab-size: 100\nencoder-ffn-embed-dim: [512, 1024, 2048]\n",
               0, MEM ":3: ", "encoder-ffn-embed-dim", "has 3 values for 6 layers");
    EXPECT_ERR("arch: transformer\nvocab-size: 100\ndecoder-layers: 2\n"
               "decoder-attention-heads: [8, 8, 8]\n",
               0, MEM ":4: ", "decoder-attention-heads", "has 3 values for 2 layers");
    /* the decoder inherits the encoder's list (fairseq's getattr chain) */
    EXPECT_ERR("arch: transformer\nvocab-size: 100\n"
               "encoder-ffn-embed-dim: [1, 2, 3, 4, 5, 6]\ndecoder-layers: 3\n",
               0, MEM ":3: ", "decoder-ffn-embed-dim", "(from encoder-ffn-embed-dim)",
               "has 6 values for 3 layers");
}

static void test_config_per_layer_heads_not_dividing(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nvocab-size: 100\nencoder-layers: 3\n"
               "encoder-attention-heads: [8, 7, 8]\n",
               0, MEM ":4: ", "encoder-attention-heads[1]=7", "does not divide",
               "encoder-embed-dim=512 (default of transformer)");
}

static void test_config_kernel_list_truncated(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer_multibranch_v2\nvocab-size: 100\n"
                       "encoder-kernel-size-list: [3, 5, 7, 9, 11, 13, 15, 17]\n"
                       "decoder-layers: 3\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    static const int want[6] = {3, 5, 7, 9, 11, 13};
    for (int i = 0; i < 6; i++) assert_int_equal(c.enc.kernel_size[i], want[i]);
    /* the 7-entry fairseq default truncated to 3 layers */
    assert_int_equal(c.dec.layers, 3);
    assert_int_equal(c.dec.kernel_size[0], 3);
    assert_int_equal(c.dec.kernel_size[1], 7);
    assert_int_equal(c.dec.kernel_size[2], 15);
    /* the default has 7 entries, so 7 layers are fine too */
    assert_int_equal(load_str("arch: transformer_multibranch_v2\nencoder-layers: 7\n", 9, &c,
                              &e),
                     SIM_OK);
    assert_int_equal(c.enc.kernel_size[6], 31);
}

static void test_config_kernel_list_replicated(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer_multibranch_v2\nvocab-size: 100\n"
                       "encoder-kernel-size-list: [5]\n"
                       "decoder-kernel-size-list: 9\n"
                       "decoder-layers: 10\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    for (int i = 0; i < 6; i++) assert_int_equal(c.enc.kernel_size[i], 5);
    for (int i = 0; i < 10; i++) assert_int_equal(c.dec.kernel_size[i], 9);
}

static void test_config_kernel_list_shorter_than_layers(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "kernel_list_short.yml", 0, ":3: ",
                    "encoder-kernel-size-list has 2 values for 6 layers");
    /* the default list (7 entries) does not cover 8 layers: fairseq asserts */
    EXPECT_ERR("arch: transformer_multibranch_v2_wmt_en_de\nvocab-size: 10\n"
               "encoder-layers: 8\n",
               0, MEM ": ", "encoder-kernel-size-list",
               "(default of transformer_multibranch_v2_wmt_en_de)", "has 7 values for 8 layers");
    EXPECT_ERR("arch: transformer_multibranch_v2\nvocab-size: 10\n"
               "decoder-kernel-size-list: []\n",
               0, MEM ":3: ", "decoder-kernel-size-list has 0 values for 6 layers");
}

static void test_config_kernel_size_out_of_range(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer_multibranch_v2\nvocab-size: 10\n"
               "encoder-kernel-size-list: [3, 7, 0]\n",
               0, MEM ":3: ", "encoder-kernel-size-list", "'0'");
    EXPECT_ERR("arch: transformer_multibranch_v2\nvocab-size: 10\n"
               "encoder-kernel-size-list: 1025\n",
               0, MEM ":3: ", "encoder-kernel-size-list", "'1025'");
}

/* ---- values ------------------------------------------------------------------------- */

static void test_config_booleans(void **state) {
    (void)state;
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "1"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "0"};
    for (int i = 0; i < 5; i++) {
        char yaml[256];
        ModelConfig c;
        SimError e;
        snprintf(yaml, sizeof yaml,
                 "arch: transformer_multibranch_v2\nvocab-size: 10\nshare-all-embeddings: %s\n"
                 "conv-linear: %s\nencoder-glu: %s\nweight-softmax: %s\n",
                 yes[i], yes[i], no[i], no[i]);
        assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
        assert_int_equal(c.share_all_embeddings, 1);
        assert_int_equal(c.share_decoder_input_output_embed, 1);
        assert_int_equal(c.conv_linear, 1);
        assert_int_equal(c.enc.glu, 0);
        assert_int_equal(c.dec.glu, 1);
        assert_int_equal(c.weight_softmax, 0);
    }
}

static void test_config_bad_bool(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nshare-all-embeddings: maybe\n", 0,
               MEM ":3: ", "share-all-embeddings", "'maybe'", "boolean");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nconv-linear: [true]\n", 0, MEM ":3: ",
               "conv-linear", "got a list");
}

static void test_config_bad_int(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "bad_int.yml", 0, ":3: ", "encoder-layers", "'1.5'", "integer");
    EXPECT_ERR("arch: transformer\nvocab-size: abc\n", 0, MEM ":2: ", "vocab-size", "'abc'");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-embed-dim:\n", 0, MEM ":3: ",
               "encoder-embed-dim", "''");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-embed-dim: 0x200\n", 0, MEM ":3: ",
               "encoder-embed-dim", "'0x200'");
    EXPECT_ERR("arch: transformer\nvocab-size: 99999999999999999999999\n", 0, MEM ":2: ",
               "vocab-size", "'99999999999999999999999'");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-layers: 65\n", 0, MEM ":3: ",
               "encoder-layers", "1..64", "'65'");
    EXPECT_ERR("arch: transformer\nvocab-size: 67108865\n", 0, MEM ":2: ", "vocab-size",
               "'67108865'");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-embed-dim: 65537\n", 0, MEM ":3: ",
               "encoder-embed-dim", "'65537'");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-attention-heads: 2048\n", 0,
               MEM ":3: ", "encoder-attention-heads", "'2048'");
}

static void test_config_zero_and_negative_dims(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "zero_dim.yml", 0, ":3: ", "decoder-embed-dim", "'0'");
    EXPECT_FILE_ERR(BAD "negative_dim.yml", 0, ":3: ", "encoder-ffn-embed-dim", "'-2048'");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-layers: 0\n", 0, MEM ":3: ",
               "encoder-layers", "'0'");
    EXPECT_ERR("arch: transformer\nvocab-size: -5\n", 0, MEM ":2: ", "vocab-size", "'-5'");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\ndecoder-attention-heads: [8, 0]\n"
               "decoder-layers: 2\n",
               0, MEM ":3: ", "decoder-attention-heads", "'0'");
}

static void test_config_training_keys_ignored(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer\n"
                       "vocab-size: 10\n"
                       "adam-betas: (0.9, 0.98)\n"
                       "lr: [0.1, 0.2]\n"
                       "optimizer: {name: adam, eps: 1e-8}\n"
                       "dropout:\n"
                       "max-tokens: &m 4096\n"
                       "max-sentences: *m\n"
                       "encoder-ffn-list: [True, False]\n"
                       "encoder-decoder-branch-type: [attn:1:4:4]\n"
                       "curriculum:\n  - [1, 2]\n  - {a: [b, {c: d}]}\n"
                       "fp16: true\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    assert_stack_uniform(&c.enc, 512, 6, 2048, 8);
}

static void test_config_description_truncated(void **state) {
    (void)state;
    char yaml[1024];
    int n = snprintf(yaml, sizeof yaml, "arch: transformer\nvocab-size: 10\ndescription: ");
    for (int i = 0; i < 400; i++) yaml[n++] = (char)('a' + i % 26);
    yaml[n++] = '\n';
    yaml[n] = '\0';
    ModelConfig c;
    SimError e;
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    assert_int_equal(strlen(c.description), sizeof c.description - 1);
    assert_int_equal(c.description[0], 'a');
}

static void test_config_long_name_truncated(void **state) {
    (void)state;
    char name[700];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = '\0';
    const char *yaml = "arch: transformer\nvocab-size: 10\n";
    ModelConfig c;
    SimError e;
    sim_error_init(&e);
    assert_int_equal(config_load_buffer(yaml, strlen(yaml), name, NULL, &c, &e), SIM_OK);
    assert_int_equal(strlen(c.path), sizeof c.path - 1);
}

static void test_config_activation(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nactivation-fn: tanh\n", 0, MEM ":3: ",
               "activation-fn", "'tanh'");
}

/* ---- structural errors ------------------------------------------------------------- */

static void test_config_missing_file(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "does_not_exist.yml", 0, "cannot open");
    EXPECT_FILE_ERR("tests/fixtures/bad", 0, "cannot read");
}

static void test_config_file_too_large(void **state) {
    (void)state;
    char path[] = "/tmp/ltsim_test_config_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "w");
    assert_non_null(f);
    fputs("arch: transformer\nvocab-size: 10\n", f);
    for (long n = 0; n <= 1L << 20; n += 30) fputs("# padding padding padding pad\n", f);
    assert_int_equal(fclose(f), 0);
    EXPECT_FILE_ERR(path, 0, "larger than 1048576 bytes");
    assert_int_equal(remove(path), 0);
}

static void test_config_yaml_syntax_error(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "syntax_error.yml", 0, ":5: ", "YAML syntax error", "line 4");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-layers: 6\n  decoder-layers: 6\n", 0,
               MEM ":4: YAML syntax error");
    EXPECT_ERR("arch: transformer\nvocab-size: \"10\nencoder-layers: 6\n", 0,
               MEM ":4: YAML syntax error", "quoted scalar at line 2");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\n\xff\n", 0, MEM ":3: YAML syntax error",
               "0xFF");
}

static void test_config_unknown_key(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "unknown_key.yml", 0, ":4: ", "unknown key 'encoder-embd-dim'",
                    "did you mean 'encoder-embed-dim'?");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\ndecoder_ffn_embed_dim: 512\n", 0,
               MEM ":3: ", "unknown key 'decoder_ffn_embed_dim'",
               "did you mean 'decoder-ffn-embed-dim'?");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\ncompletely-unrelated: 1\n", 0, MEM ":3: ",
               "unknown key 'completely-unrelated'");
    ModelConfig c;
    SimError e;
    assert_int_equal(load_str("arch: transformer\nvocab-size: 10\nfoo: 1\n", 0, &c, &e),
                     SIM_EINVAL);
    assert_null(strstr(e.msg, "did you mean"));
}

static void test_config_duplicate_key(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "duplicate_key.yml", 0, ":5: ", "duplicate key 'encoder-embed-dim'",
                    "line 3");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nlr: 1\nlr: 2\n", 0, MEM ":4: ",
               "duplicate key 'lr'", "line 3");
}

static void test_config_not_a_mapping(void **state) {
    (void)state;
    EXPECT_ERR("", 0, MEM ":1: ", "empty");
    EXPECT_ERR("# only a comment\n", 0, MEM ":1: ", "empty");
    EXPECT_ERR("---\n", 0, MEM, "empty document");
    EXPECT_ERR("- arch\n- transformer\n", 0, MEM ":1: ", "not a mapping");
    EXPECT_ERR("transformer\n", 0, MEM ":1: ", "not a mapping");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\n---\narch: transformer\n", 0, MEM ":3: ",
               "more than one YAML document");
    EXPECT_ERR("arch: transformer\n? [a, b]\n: 1\n", 0, MEM ":2: ", "keys must be");
}

static void test_config_nested_values_rejected(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-embed-dim: {a: 1}\n", 0, MEM ":3: ",
               "encoder-embed-dim", "mapping");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-attention-heads: [[8]]\n", 0,
               MEM ":3: ", "encoder-attention-heads", "list items");
    EXPECT_ERR("arch: [transformer]\nvocab-size: 10\n", 0, MEM ":1: ", "arch", "list");
    EXPECT_ERR("x: &a 512\narch: transformer\nvocab-size: 10\nencoder-embed-dim: *a\n", 0,
               MEM ":1: ", "unknown key 'x'");
    EXPECT_ERR("lr: &a 512\narch: transformer\nvocab-size: 10\nencoder-embed-dim: *a\n", 0,
               MEM ":4: ", "encoder-embed-dim", "alias");
    EXPECT_ERR("arch: \"transformer\\0x\"\nvocab-size: 10\n", 0, MEM ":1: ", "arch", "NUL");
}

static void test_config_heads_not_dividing(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "heads_not_dividing.yml", 0, ":4: ",
                    "encoder-attention-heads=10 does not divide encoder-embed-dim=496");
    EXPECT_ERR("arch: transformer_wmt_en_de\nvocab-size: 10\nencoder-embed-dim: 100\n", 0,
               MEM ": encoder-attention-heads=8 (default of transformer_wmt_en_de) does not "
                   "divide encoder-embed-dim=100");
    /* the decoder's heads drive encoder-decoder attention even with branches */
    EXPECT_ERR("arch: transformer_multibranch_v2_wmt_en_de\nvocab-size: 10\n"
               "encoder-embed-dim: 204\n"
               "encoder-branch-type: [attn:1:102:2, dynamic:default:102:2]\n"
               "decoder-branch-type: [attn:1:102:2, dynamic:default:102:2]\n",
               0, "decoder-attention-heads=8 (default of transformer_multibranch_v2_wmt_en_de)",
               "decoder-embed-dim=204 (from encoder-embed-dim)", "encoder-decoder attention");
}

static void test_config_branches(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    const char *yaml = "arch: transformer_multibranch_v2\nvocab-size: 10\n"
                       "encoder-embed-dim: 300\n"
                       "encoder-branch-type:\n"
                       "  - attn:default:100:4\n"
                       "  - lightweight:7:100:5\n"
                       "  - dynamic:default:100:10\n"
                       "decoder-embed-dim: 512\n"
                       "decoder-branch-type: attn:-3:512:8\n";
    assert_int_equal(load_str(yaml, 0, &c, &e), SIM_OK);
    assert_int_equal(c.enc.nbranches, 3);
    assert_branch(&c.enc.branches[0], BRANCH_ATTN, 0, 100, 4);
    assert_branch(&c.enc.branches[1], BRANCH_LIGHTWEIGHT, 7, 100, 5);
    assert_branch(&c.enc.branches[2], BRANCH_DYNAMIC, 0, 100, 10);
    assert_int_equal(c.dec.nbranches, 1);
    assert_branch(&c.dec.branches[0], BRANCH_ATTN, 0, 512, 8);
    /* the encoder's heads (8) do not divide 300, but branched self-attention ignores them */
    assert_int_equal(c.enc.heads[0], 8);
}

static void test_config_branch_widths_not_summing(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "branch_widths.yml", 0, ":4: ",
                    "encoder-branch-type widths sum to 250, not encoder-embed-dim=248");
    EXPECT_ERR("arch: transformer_multibranch_v2_wmt_en_de\nvocab-size: 10\n"
               "decoder-branch-type: [attn:1:248:4, dynamic:default:248:4]\n",
               0, MEM ":3: ", "decoder-branch-type widths sum to 496",
               "decoder-embed-dim=512 (default of transformer_multibranch_v2_wmt_en_de)");
}

static void test_config_bad_branch_spec(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "bad_branch_spec.yml", 0, ":4: ", "encoder-branch-type",
                    "'attn:1:248'");
    static const char *const bad[] = {"conv:3:248:4",    "dynamic:x:248:4", "dynamic:0:248:4",
                                      "attn:1:248:4:5",  "attn:1::4",       "attn:1:248:0",
                                      "attn:1:248:four", "dynamic::248:4",  "attn:x:248:4",
                                      "attn:1:-248:4"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char yaml[256], quoted[64];
        snprintf(yaml, sizeof yaml,
                 "arch: transformer_multibranch_v2\nvocab-size: 10\n"
                 "decoder-branch-type: [\"%s\", attn:1:264:4]\n",
                 bad[i]);
        snprintf(quoted, sizeof quoted, "'%s'", bad[i]);
        EXPECT_ERR(yaml, 0, MEM ":3: ", "decoder-branch-type", quoted);
    }
    EXPECT_ERR("arch: transformer_multibranch_v2\nvocab-size: 10\n"
               "encoder-branch-type: [attn:1:250:4, dynamic:default:262:4]\n",
               0, MEM ":3: ", "encoder-branch-type[0]=attn:1:250:4",
               "heads=4 does not divide dim=250");
    EXPECT_ERR("arch: transformer_multibranch_v2\nvocab-size: 10\nencoder-branch-type: []\n", 0,
               MEM ":3: ", "encoder-branch-type", "empty");
    EXPECT_ERR("arch: transformer_multibranch_v2\nvocab-size: 10\nencoder-branch-type: "
               "[attn:1:64:4, attn:1:64:4, attn:1:64:4, attn:1:64:4, attn:1:64:4, "
               "attn:1:64:4, attn:1:64:4, attn:1:64:4, attn:1:64:4]\n",
               0, MEM ":3: ", "encoder-branch-type", "more than 8 branches");
    /* branches need the lite family */
    EXPECT_ERR("arch: transformer\nvocab-size: 10\n"
               "encoder-branch-type: [attn:1:256:4, dynamic:default:256:4]\n",
               0, MEM ":3: ", "encoder-branch-type", "transformer_multibranch_v2");
}

static void test_config_missing_arch(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "missing_arch.yml", 0, "missing key 'arch'");
}

static void test_config_unknown_arch(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "unknown_arch.yml", 0, ":1: arch: ", "unknown arch 'transformer_tiny'",
                    "transformer_wmt_en_de", "transformer_multibranch_v2_iwslt_de_en");
    EXPECT_ERR("arch: transformer_lm_gbw\nvocab-size: 10\n", 0, MEM ":1: arch: ",
               "unknown arch 'transformer_lm_gbw'");
    EXPECT_ERR("arch: transformer_lm\nvocab-size: 10\nencoder-layers: 2\n", 0, MEM ":3: ",
               "encoder-layers", "no encoder");
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nadaptive-input: true\n", 0, MEM ":3: ",
               "adaptive-input", "language models only");
}

static void test_config_learned_pos_rejected(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nvocab-size: 10\nencoder-learned-pos: true\n", 0, MEM ":3: ",
               "encoder-learned-pos", "not supported");
    ModelConfig c;
    SimError e;
    assert_int_equal(load_str("arch: transformer\nvocab-size: 10\ndecoder-learned-pos: False\n",
                              0, &c, &e),
                     SIM_OK);
}

/* ---- vocabulary --------------------------------------------------------------------- */

static void test_config_missing_vocab(void **state) {
    (void)state;
    EXPECT_FILE_ERR(BAD "missing_vocab.yml", 0,
                    ": no vocabulary size: set vocab-size (or src-vocab-size and "
                    "tgt-vocab-size) in the file or pass --vocab-size");
    EXPECT_ERR("arch: transformer\nsrc-vocab-size: 100\n", 0, MEM ":2: ", "src-vocab-size=100",
               "tgt-vocab-size");
}

static void test_config_vocab_sources(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    assert_int_equal(load_str("arch: transformer\nsrc-vocab-size: 100\ntgt-vocab-size: 200\n", 0,
                              &c, &e),
                     SIM_OK);
    assert_int_equal(c.src_vocab, 100);
    assert_int_equal(c.tgt_vocab, 200);
    /* the override wins over the file */
    assert_int_equal(load_str("arch: transformer\nvocab-size: 100\n", 777, &c, &e), SIM_OK);
    assert_int_equal(c.src_vocab, 777);
    assert_int_equal(c.tgt_vocab, 777);
    EXPECT_ERR("arch: transformer\nvocab-size: 100\ntgt-vocab-size: 200\n", 0, MEM ":3: ",
               "tgt-vocab-size=200", "vocab-size=100", "line 2");
    EXPECT_ERR("arch: transformer\n", (int64_t)1 << 30, MEM, "--vocab-size=1073741824");
}

static void test_config_share_all_checks(void **state) {
    (void)state;
    EXPECT_ERR("arch: transformer\nshare-all-embeddings: true\n"
               "src-vocab-size: 100\ntgt-vocab-size: 200\n",
               0, MEM ":2: ", "share-all-embeddings", "src-vocab-size=100",
               "tgt-vocab-size=200");
    EXPECT_ERR("arch: transformer\nshare-all-embeddings: true\nvocab-size: 100\n"
               "decoder-embed-dim: 256\n",
               0, MEM ":2: ", "share-all-embeddings", "encoder-embed-dim=512",
               "decoder-embed-dim=256");
}

/* ---- config_validate on configs built in code ----------------------------------------- */

static void test_config_validate_code_built(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    sim_error_init(&e);
    assert_int_equal(config_arch_defaults("transformer_multibranch_v2_wmt_en_de", &c, &e),
                     SIM_OK);
    snprintf(c.path, sizeof c.path, "sweep-496");
    c.src_vocab = c.tgt_vocab = 32768;
    assert_int_equal(config_validate(&c, &e), SIM_OK);

    c.enc.embed_dim = c.dec.embed_dim = 496;
    for (int i = 0; i < 6; i++) c.enc.ffn_dim[i] = c.dec.ffn_dim[i] = 496;
    assert_int_equal(config_validate(&c, &e), SIM_OK);
    c.enc.heads[2] = 5;
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "sweep-496: ", "encoder-attention-heads[2]=5", "encoder-embed-dim=496",
                   (const char *)NULL);
    assert_null(strstr(e.msg, "default of"));

    c.enc.heads[2] = 8;
    c.enc.nbranches = 2;
    c.enc.branches[0] = (BranchSpec){BRANCH_ATTN, 0, 248, 4};
    c.enc.branches[1] = (BranchSpec){BRANCH_DYNAMIC, 0, 240, 4};
    sim_error_init(&e);
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "sweep-496: encoder-branch-type widths sum to 488, not "
                       "encoder-embed-dim=496",
                   (const char *)NULL);
    c.enc.branches[1].dim = 248;
    sim_error_init(&e);
    assert_int_equal(config_validate(&c, &e), SIM_OK);

    c.dec.kernel_size[5] = 0;
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "decoder-kernel-size-list[5]=0", (const char *)NULL);
    c.dec.kernel_size[5] = 31;

    c.src_vocab = 0;
    sim_error_init(&e);
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "src-vocab-size=0", (const char *)NULL);
    c.src_vocab = 32768;

    c.enc.layers = CFG_MAX_LAYERS + 1;
    sim_error_init(&e);
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "encoder-layers=65", (const char *)NULL);
    c.enc.layers = 6;

    c.family = FAMILY_TRANSFORMER;
    sim_error_init(&e);
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "encoder-branch-type", (const char *)NULL);

    c.path[0] = '\0';
    sim_error_init(&e);
    assert_int_equal(config_validate(&c, &e), SIM_EINVAL);
    assert_msg_has(&e, "<config>: ", (const char *)NULL);
}

static void test_config_error_is_sticky(void **state) {
    (void)state;
    ModelConfig c;
    SimError e;
    sim_error_init(&e);
    sim_errorf(&e, SIM_EIO, "earlier failure");
    const char *yaml = "arch: transformer\nvocab-size: 10\n";
    assert_int_equal(config_load_buffer(yaml, strlen(yaml), MEM, NULL, &c, &e), SIM_EIO);
    assert_string_equal(e.msg, "earlier failure");
    /* a NULL error context is allowed */
    assert_int_equal(config_load_buffer(yaml, strlen(yaml), MEM, NULL, &c, NULL), SIM_OK);
    assert_int_equal(config_load_buffer("foo: 1\n", 7, MEM, NULL, &c, NULL), SIM_EINVAL);
    /* failure leaves cfg zeroed */
    assert_int_equal(c.enc.layers, 0);
    assert_int_equal(config_load_buffer(NULL, 0, NULL, NULL, &c, NULL), SIM_EINVAL);
}

static void test_config_names(void **state) {
    (void)state;
    assert_string_equal(config_family_name(FAMILY_TRANSFORMER), "transformer");
    assert_string_equal(config_family_name(FAMILY_LITE), "lite");
    assert_string_equal(config_family_name(FAMILY_EVOLVED), "evolved");
    assert_string_equal(config_family_name(FAMILY_LM), "lm");
    assert_string_equal(config_branch_type_name(BRANCH_ATTN), "attn");
    assert_string_equal(config_branch_type_name(BRANCH_DYNAMIC), "dynamic");
    assert_string_equal(config_branch_type_name(BRANCH_LIGHTWEIGHT), "lightweight");
}

/* ---- model names (paths.c) ---- */

static void write_file(const char *path) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("arch: transformer\n", f);
    assert_int_equal(fclose(f), 0);
}

static void test_paths_model(void **state) {
    (void)state;
    char home[600], dir[700], file[800], out[1024];
    snprintf(home, sizeof home, "%s/paths_home", tu_tmpdir());
    snprintf(dir, sizeof dir, "%s/models", home);
    assert_true(mkdir(home, 0755) == 0 || errno == EEXIST);
    assert_true(mkdir(dir, 0755) == 0 || errno == EEXIST);
    snprintf(file, sizeof file, "%s/only-here.yml", dir);
    write_file(file);
    /* a path to a file: as given */
    assert_int_equal(paths_model(file, NULL, out, sizeof out), 0);
    assert_string_equal(out, file);
    /* relative to base_dir first */
    assert_int_equal(paths_model("only-here.yml", dir, out, sizeof out), 0);
    assert_string_equal(out, file);
    /* a bare name: models/NAME.yml under $LTSIM_HOME, ".yml" added once */
    setenv("LTSIM_HOME", home, 1);
    assert_int_equal(paths_model("only-here", NULL, out, sizeof out), 0);
    assert_string_equal(out, file);
    assert_int_equal(paths_model("only-here.yml", NULL, out, sizeof out), 0);
    assert_string_equal(out, file);
    unsetenv("LTSIM_HOME");
    /* beside the binary (the repository root for the tests' binaries is not it) or in the
     * current directory: the repository's models/ */
    assert_int_equal(paths_model("transformer-wmt-128", NULL, out, sizeof out), 0);
    assert_non_null(strstr(out, "models/transformer-wmt-128.yml"));
    /* not found: -1 with the name kept for the message */
    assert_int_equal(paths_model("only-here", NULL, out, sizeof out), -1);
    assert_string_equal(out, "only-here");
    assert_int_equal(paths_model("no/such.yml", NULL, out, sizeof out), -1);
    assert_string_equal(out, "no/such.yml");
    assert_int_equal(errno, ENOENT);
    /* a directory is not a model */
    assert_int_equal(paths_model(dir, NULL, out, sizeof out), -1);
    assert_int_equal(errno, EISDIR);
    assert_int_equal(paths_model("", NULL, out, sizeof out), -1);
    assert_int_equal(paths_model(NULL, NULL, out, sizeof out), -1);
    assert_int_equal(paths_model("x", NULL, NULL, 0), -1);
}

static void test_paths_exe_dir(void **state) {
    (void)state;
    char d[1024], self[1100];
    paths_exe_dir(d, sizeof d);
    snprintf(self, sizeof self, "%s/test_config", d); /* this binary */
    assert_int_equal(access(self, X_OK), 0);
    char small[4] = "xyz";
    paths_exe_dir(small, sizeof small); /* does not fit: "." */
    assert_string_equal(small, ".");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_reference_wmt_loads),
        cmocka_unit_test(test_config_reference_cnndm_loads),
        cmocka_unit_test(test_config_reference_iwslt_loads),
        cmocka_unit_test(test_config_reference_wikitext),
        cmocka_unit_test(test_config_reference_needs_vocab),
        cmocka_unit_test(test_config_arch_defaults_every_arch),
        cmocka_unit_test(test_config_arch_defaults_from_file),
        cmocka_unit_test(test_config_arch_defaults_unknown),
        cmocka_unit_test(test_config_file_overrides_defaults),
        cmocka_unit_test(test_config_decoder_follows_encoder),
        cmocka_unit_test(test_config_iwslt_arch_decoder_heads),
        cmocka_unit_test(test_config_per_layer_lists),
        cmocka_unit_test(test_config_per_layer_list_wrong_length),
        cmocka_unit_test(test_config_per_layer_heads_not_dividing),
        cmocka_unit_test(test_config_kernel_list_truncated),
        cmocka_unit_test(test_config_kernel_list_replicated),
        cmocka_unit_test(test_config_kernel_list_shorter_than_layers),
        cmocka_unit_test(test_config_kernel_size_out_of_range),
        cmocka_unit_test(test_config_booleans),
        cmocka_unit_test(test_config_bad_bool),
        cmocka_unit_test(test_config_bad_int),
        cmocka_unit_test(test_config_zero_and_negative_dims),
        cmocka_unit_test(test_config_training_keys_ignored),
        cmocka_unit_test(test_config_description_truncated),
        cmocka_unit_test(test_config_long_name_truncated),
        cmocka_unit_test(test_config_activation),
        cmocka_unit_test(test_config_missing_file),
        cmocka_unit_test(test_config_file_too_large),
        cmocka_unit_test(test_config_yaml_syntax_error),
        cmocka_unit_test(test_config_unknown_key),
        cmocka_unit_test(test_config_duplicate_key),
        cmocka_unit_test(test_config_not_a_mapping),
        cmocka_unit_test(test_config_nested_values_rejected),
        cmocka_unit_test(test_config_heads_not_dividing),
        cmocka_unit_test(test_config_branches),
        cmocka_unit_test(test_config_branch_widths_not_summing),
        cmocka_unit_test(test_config_bad_branch_spec),
        cmocka_unit_test(test_config_missing_arch),
        cmocka_unit_test(test_config_unknown_arch),
        cmocka_unit_test(test_config_evolved),
        cmocka_unit_test(test_config_learned_pos_rejected),
        cmocka_unit_test(test_config_missing_vocab),
        cmocka_unit_test(test_config_vocab_sources),
        cmocka_unit_test(test_config_share_all_checks),
        cmocka_unit_test(test_config_validate_code_built),
        cmocka_unit_test(test_config_error_is_sticky),
        cmocka_unit_test(test_config_names),
        cmocka_unit_test(test_paths_model),
        cmocka_unit_test(test_paths_exe_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
