/*
 * test_evolved.c - the Evolved Transformer: outputs against an independent float64
 * reference (tests/fixtures/et_tiny), the ledger against architectures.md §4.2 for several
 * widths, lengths and conventions, the published configs, count-only against executed,
 * and its weights through safetensors.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "model.h"
#include "runner.h"
#include "safetensors.h"
#include "testutil.h"

static void check_out(const SafeTensors *io, const char *name, const Tensor *t) {
    const StTensorInfo *g = st_find(io, name);
    assert_non_null(g);
    assert_int_equal(g->shape[0], t->rows);
    assert_int_equal(g->shape[1], t->cols);
    double e = tu_rel_err(t->data, st_data(io, g), t->rows * t->cols);
    if (!(e <= 1e-4)) fail_msg("%s: rel_err %.3g", name, e);
}

static void test_evolved_reference_outputs(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    SimError err;
    sim_error_init(&err);
    SafeTensors *io = NULL;
    assert_int_equal(st_open("tests/fixtures/et_tiny/io.safetensors", &io, &err), SIM_OK);
    RunSpec spec = tu_spec(0);
    const StTensorInfo *s = st_find(io, "src_tokens"), *t = st_find(io, "tgt_tokens");
    spec.src = st_data(io, s);
    spec.nsrc = st_numel(s);
    spec.tgt = st_data(io, t);
    spec.ntgt = st_numel(t);
    spec.weights = "tests/fixtures/et_tiny/model.safetensors";
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    check_out(io, "encoder_out", &res.out.enc_out);
    check_out(io, "decoder_features", &res.out.features);
    check_out(io, "logits", &res.out.logits);
    runner_result_free(&res);
    st_close(io);
}

/* ---- closed forms ---- */

static uint64_t valid_ref(int64_t L, int64_t K, int64_t P) {
    uint64_t n = 0;
    for (int64_t t = 0; t < L; t++)
        for (int64_t k = 0; k < K; k++)
            if (t + k - P >= 0 && t + k - P < L) n++;
    return n;
}

static void check_closed(uint64_t d, int heads, int ne, int nd, uint64_t S, uint64_t T,
                         Conventions cv) {
    char text[512];
    snprintf(text, sizeof text,
             "arch: evolved_transformer\nvocab-size: 50\nencoder-embed-dim: %llu\n"
             "encoder-attention-heads: %d\ndecoder-attention-heads: %d\nencoder-layers: %d\n"
             "decoder-layers: %d\n",
             (unsigned long long)d, heads, heads, ne, nd);
    ModelConfig cfg;
    SimError err;
    sim_error_init(&err);
    if (config_load_buffer(text, strlen(text), "et.yml", NULL, &cfg, &err) != SIM_OK)
        fail_msg("%s", err.msg);
    RunSpec spec = tu_spec(1);
    spec.src_len = (int64_t)S;
    spec.tgt_len = (int64_t)T;
    spec.conv = cv;
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    uint64_t PT = cv.attn_macs == ATTN_MACS_FULL ? T * T : T * (T + 1) / 2;
    /* taps: encoder 36d (9 x 4d) per token; decoder 32d (11d + 7d + 7 x 2d) per token */
    uint64_t enc_dw = S * 36 * d, dec_dw = T * 32 * d, enc_conv3 = S * 3;
    if (cv.conv_macs == CONV_MACS_VALID) {
        enc_dw = valid_ref((int64_t)S, 9, 4) * 4 * d;
        dec_dw = valid_ref((int64_t)T, 11, 10) * d + valid_ref((int64_t)T, 7, 6) * d +
                 valid_ref((int64_t)T, 7, 6) * 2 * d;
        enc_conv3 = valid_ref((int64_t)S, 3, 1);
    }
    /* per encoder token: GLU 2d^2, dense 4d^2, pw 2d^2, attention 4d^2, FFN 8d^2 (20d^2) plus
     * the 3x1 conv's taps x d x d/2 */
    uint64_t want = (uint64_t)ne * (S * 20 * d * d + enc_conv3 * d * (d / 2) + enc_dw +
                                    2 * S * S * d) +
                    (uint64_t)nd * (T * (49 * d * d / 2) + dec_dw + 4 * S * d * d + 4 * PT * d +
                                    4 * T * S * d);
    uint64_t got = tu_macs(res.ledger, -1, NULL, -1) - tu_macs(res.ledger, CLASS_EMBED_OUTPUT, NULL, -1);
    if (got != want)
        fail_msg("d=%llu %d+%d S=%llu T=%llu conv=%d attn=%d: ledger %llu, closed form %llu",
                 (unsigned long long)d, ne, nd, (unsigned long long)S, (unsigned long long)T,
                 cv.conv_macs, cv.attn_macs, (unsigned long long)got, (unsigned long long)want);
    uint64_t params = (uint64_t)ne * (43 * d * d / 2 + 64 * d) +
                      (uint64_t)nd * (57 * d * d / 2 + 125 * d / 2) + 4 * d;
    assert_int_equal(res.model->params_headline, params);
    assert_int_equal(res.model->params_total, params + 50 * d + 32 * d);
    runner_result_free(&res);
}

static void test_evolved_closed_forms(void **state) {
    (void)state;
    const uint64_t lens[][2] = {{30, 30}, {1, 1}, {7, 19}, {45, 12}};
    for (size_t j = 0; j < 4; j++)
        for (int attn = 0; attn < 2; attn++)
            for (int conv = 0; conv < 4; conv++) {
                Conventions cv = {(AttnMacs)attn, (ConvMacs)conv};
                check_closed(64, 4, 3, 4, lens[j][0], lens[j][1], cv);
                check_closed(96, 2, 2, 1, lens[j][0], lens[j][1], cv);
            }
}

static void check_model(const char *path, uint64_t params, uint64_t macs) {
    ModelConfig cfg;
    tu_load_config(path, 0, &cfg);
    RunSpec spec = tu_spec(1);
    SimError err;
    sim_error_init(&err);
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_int_equal(res.model->params_headline, params);
    assert_int_equal(tu_macs(res.ledger, -1, NULL, -1) - tu_macs(res.ledger, CLASS_EMBED_OUTPUT, NULL, -1),
                     macs);
    runner_result_free(&res);
}

/* architectures.md §4.3 at S = T = 30 */
static void test_evolved_paper_configs(void **state) {
    (void)state;
    check_model("models/evolved-base.yml", 47021056, 1421352960);
    check_model("models/evolved-wmt-128.yml", 2981632, 92129280);
    check_model("models/evolved-wmt-256.yml", 11812352, 359731200);
    check_model("models/evolved-big.yml", 187627520, 5650268160ull);
}

static void test_evolved_count_equals_executed(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    const int64_t lens[][2] = {{9, 7}, {1, 1}, {12, 30}};
    for (int i = 0; i < 3; i++) {
        RunSpec a = tu_spec(1), b = tu_spec(0);
        a.src_len = b.src_len = lens[i][0];
        a.tgt_len = b.tgt_len = lens[i][1];
        a.conv.conv_macs = b.conv.conv_macs = i == 1 ? CONV_MACS_VALID : CONV_MACS_TAPS;
        SimError err;
        sim_error_init(&err);
        RunResult ra, rb;
        assert_int_equal(runner_execute(&cfg, &a, &ra, &err), SIM_OK);
        assert_int_equal(runner_execute(&cfg, &b, &rb, &err), SIM_OK);
        char why[256];
        if (!cost_ledger_equal(ra.ledger, rb.ledger, why, sizeof why)) fail_msg("%s", why);
        assert_int_equal(rb.peak_bytes, rb.planned_bytes);
        runner_result_free(&ra);
        runner_result_free(&rb);
    }
}

/* Weights written with --save-weights load back to the same outputs; tensor2tensor's
 * layouts are checked (a Dense kernel must be (in, out)). */
static void test_evolved_weights_round_trip(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    char path[256];
    snprintf(path, sizeof path, "%s/et.safetensors", tu_tmpdir());
    SimError err;
    sim_error_init(&err);
    RunSpec a = tu_spec(0);
    a.src_len = 6;
    a.tgt_len = 5;
    a.seed = 99;
    a.save_weights = path;
    RunResult ra, rb;
    assert_int_equal(runner_execute(&cfg, &a, &ra, &err), SIM_OK);
    RunSpec b = a;
    b.save_weights = NULL;
    b.weights = path;
    b.seed = 1; /* weights from the file; tokens from the same seed below */
    b.src = ra.src;
    b.nsrc = ra.S;
    b.tgt = ra.tgt;
    b.ntgt = ra.T;
    assert_int_equal(runner_execute(&cfg, &b, &rb, &err), SIM_OK);
    assert_memory_equal(ra.out.logits.data, rb.out.logits.data,
                        (size_t)(ra.out.logits.rows * ra.out.logits.cols) * sizeof(float));
    runner_result_free(&rb);
    /* the file layout: Dense (in, out), Conv1D (K, Cin, Cout), depthwise (K, C, 1) */
    SafeTensors *st = NULL;
    assert_int_equal(st_open(path, &st, &err), SIM_OK);
    const StTensorInfo *k = st_find(st, "body.encoder.layer_0.conv_branches.dense.kernel");
    assert_non_null(k);
    assert_int_equal(k->shape[0], 16);
    assert_int_equal(k->shape[1], 64);
    k = st_find(st, "body.encoder.layer_1.conv_branches.standard_conv_3x1.kernel");
    assert_int_equal(k->ndim, 3);
    assert_int_equal(k->shape[0], 3);
    assert_int_equal(k->shape[2], 8);
    k = st_find(st, "body.decoder.layer_3.conv_branches.separable_conv11x1.depthwise_kernel");
    assert_int_equal(k->shape[0], 11);
    assert_int_equal(k->shape[2], 1);
    k = st_find(st, "body.decoder.layer_0.conv_branches.separable_conv_7x1_2.pointwise_kernel");
    assert_int_equal(k->shape[0], 1);
    assert_int_equal(k->shape[1], 32);
    assert_int_equal(k->shape[2], 16);
    assert_non_null(st_find(st, "symbol_modality.shared.weights"));
    assert_non_null(st_find(st, "body.target_space_embedding.kernel"));
    assert_non_null(st_find(st, "body.decoder.layer_2.dense_layers.layer_norm.layer_norm_scale"));
    st_close(st);
    runner_result_free(&ra);
}

/* The decoder is causal: changing target tokens from position k on leaves the decoder
 * outputs at positions <= k bit-identical (the input is shifted right by one). */
static void test_evolved_decoder_causal(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    SimError err;
    sim_error_init(&err);
    int64_t src[6] = {5, 6, 7, 8, 9, 10}, a[8] = {11, 12, 13, 14, 15, 16, 17, 18};
    int64_t b[8] = {11, 12, 13, 14, 30, 31, 32, 33};
    RunSpec sa = tu_spec(0), sb;
    sa.src = src;
    sa.nsrc = 6;
    sa.tgt = a;
    sa.ntgt = 8;
    sb = sa;
    sb.tgt = b;
    RunResult ra, rb;
    assert_int_equal(runner_execute(&cfg, &sa, &ra, &err), SIM_OK);
    assert_int_equal(runner_execute(&cfg, &sb, &rb, &err), SIM_OK);
    /* tokens differ from index 4: outputs 0..4 see only tokens 0..3 */
    assert_memory_equal(ra.out.features.data, rb.out.features.data, 5 * 16 * sizeof(float));
    assert_memory_not_equal(ra.out.features.data + 5 * 16, rb.out.features.data + 5 * 16,
                            16 * sizeof(float));
    runner_result_free(&ra);
    runner_result_free(&rb);
}

static void zero_param(Model *m, const char *name) {
    const ParamEntry *e = model_param(m, name);
    if (e == NULL) fail_msg("no parameter %s", name);
    memset(e->dst->data, 0, (size_t)(e->rows * e->cols) * sizeof(float));
}

/* With every block's output side zeroed (GLU values, the separable conv's pointwise part,
 * the attention output transforms, the FFN's second dense), each cell is an identity: the
 * encoder output is exactly the final layer norm of the input path
 * sqrt(d) E[tok] + E_ts[id] + timing. */
static void test_evolved_identity_cells(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    SimError err;
    sim_error_init(&err);
    ModelOptions mo = {0};
    mo.seed = 5;
    mo.max_positions = 8;
    Model *m = NULL;
    assert_int_equal(model_open(&cfg, &mo, &m, &err), SIM_OK);
    char n[200];
    for (int i = 0; i < cfg.enc.layers; i++) {
        const char *z[] = {"gated_linear_unit.dense.kernel", "gated_linear_unit.dense.bias",
                           "conv_branches.separable_conv_9x1.pointwise_kernel",
                           "conv_branches.separable_conv_9x1.bias",
                           "self_attention.multihead_attention.output_transform.kernel",
                           "dense_layers.dense_1.kernel", "dense_layers.dense_1.bias"};
        for (size_t k = 0; k < sizeof z / sizeof z[0]; k++) {
            snprintf(n, sizeof n, "body.encoder.layer_%d.%s", i, z[k]);
            zero_param(m, n);
        }
    }
    Arena *act = arena_open(1 << 20, 0, &err);
    CostLedger *l = cost_ledger_open(&err);
    Run r = {0};
    r.act = act;
    r.ledger = l;
    r.err = &err;
    int64_t src[5] = {7, 0, 9, 39, 2};
    Tensor enc = model_encode(m, &r, src, 5);
    assert_int_equal(err.code, SIM_OK);
    /* the reference: the input path, then the final layer norm (eps 1e-6) */
    const float *E = m->enc.embed.data, *ts = m->et.target_space.data + 5 * 16;
    const float *g = m->et.enc_ln.g.data, *b = m->et.enc_ln.b.data;
    for (int t = 0; t < 5; t++) {
        double x[16], mean = 0, var = 0;
        for (int j = 0; j < 16; j++) {
            double e = src[t] == 0 ? 0.0 : 4.0 * E[src[t] * 16 + j];
            x[j] = e + ts[j] + m->enc.pe.data[t * 16 + j];
            mean += x[j];
        }
        mean /= 16;
        for (int j = 0; j < 16; j++) var += (x[j] - mean) * (x[j] - mean);
        var /= 16;
        for (int j = 0; j < 16; j++) {
            double want = (x[j] - mean) / sqrt(var + 1e-6) * g[j] + b[j];
            if (fabs(enc.data[t * 16 + j] - want) > 1e-5 * (1 + fabs(want)))
                fail_msg("row %d col %d: %g vs %g", t, j, enc.data[t * 16 + j], want);
        }
    }
    cost_ledger_close(l);
    arena_close(act);
    model_close(m);
}

/* Padding rows contribute nothing: source padding (tensor2tensor's id 0) appended to a
 * sentence leaves the decoder outputs and the encoder outputs of the real positions as they
 * were (masked attention keys, zeroed conv inputs); the same for fairseq's id 1 in a plain
 * Transformer. */
static void padding_invariance(const char *cfgpath, int64_t pad) {
    ModelConfig cfg;
    tu_load_config(cfgpath, 0, &cfg);
    SimError err;
    sim_error_init(&err);
    int64_t src[9] = {5, 9, 13, 7, 21, pad, pad, pad, pad};
    int64_t tgt[6] = {2, 12, 13, 14, 16, 17};
    RunSpec a = tu_spec(0), b;
    a.src = src;
    a.nsrc = 5;
    a.tgt = tgt;
    a.ntgt = 6;
    a.seed = 4;
    b = a;
    b.nsrc = 9;
    RunResult ra, rb;
    assert_int_equal(runner_execute(&cfg, &a, &ra, &err), SIM_OK);
    assert_int_equal(runner_execute(&cfg, &b, &rb, &err), SIM_OK);
    assert_non_null(rb.src_keep);
    int64_t d = ra.out.enc_out.cols;
    double e1 = tu_rel_err(rb.out.enc_out.data, ra.out.enc_out.data, 5 * d);
    double e2 = tu_rel_err(rb.out.logits.data, ra.out.logits.data,
                           ra.out.logits.rows * ra.out.logits.cols);
    if (!(e1 < 1e-5 && e2 < 1e-5)) fail_msg("%s: padding changed outputs: %.3g %.3g", cfgpath, e1, e2);
    /* padding is still computed and counted: a padded source costs more */
    assert_true(tu_macs(rb.ledger, -1, NULL, -1) > tu_macs(ra.ledger, -1, NULL, -1));
    runner_result_free(&ra);
    runner_result_free(&rb);
}

static void test_evolved_padding_contributes_nothing(void **state) {
    (void)state;
    padding_invariance("tests/fixtures/et_tiny.yml", 0);
    padding_invariance("tests/fixtures/golden_transformer.yml", 1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_evolved_reference_outputs),
        cmocka_unit_test(test_evolved_closed_forms),
        cmocka_unit_test(test_evolved_paper_configs),
        cmocka_unit_test(test_evolved_count_equals_executed),
        cmocka_unit_test(test_evolved_weights_round_trip),
        cmocka_unit_test(test_evolved_decoder_causal),
        cmocka_unit_test(test_evolved_identity_cells),
        cmocka_unit_test(test_evolved_padding_contributes_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
