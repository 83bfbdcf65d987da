/*
 * test_lm.c - language models (architectures.md §8): the WIKITEXT-103 Lite LM's count
 * against the closed form, the forward pass against token-by-token generation, the
 * adaptive softmax's normalisation, a one-layer pre-norm LM against a hand computation, and
 * count-only against executed.
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

#include "runner.h"
#include "testutil.h"

static uint64_t headline(const RunResult *res) {
    return tu_macs(res->ledger, -1, NULL, -1) - tu_macs(res->ledger, CLASS_EMBED_OUTPUT, NULL, -1);
}

/* 12 T (3.75 d^2) + T sum(K) c H + T sum(K) c + 12 * 2 P_T c (architectures.md §8) */
static void test_lm_wiki103_closed_form(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("models/lite-lm-wiki103-896.yml", 0, &cfg);
    const uint64_t d = 896, c = 448, sumk = 15 * 2 + 31 * 4 + 63 * 6;
    const uint64_t Ts[3] = {30, 10, 64};
    for (int i = 0; i < 3; i++) {
        for (int full = 0; full < 2; full++) {
            RunSpec spec = tu_spec(1);
            spec.tgt_len = (int64_t)Ts[i];
            spec.conv.attn_macs = full ? ATTN_MACS_FULL : ATTN_MACS_CAUSAL;
            SimError err;
            sim_error_init(&err);
            RunResult res;
            assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
            uint64_t T = Ts[i], PT = full ? T * T : T * (T + 1) / 2;
            uint64_t want = 12 * T * (15 * d * d / 4) + T * sumk * c * 4 + T * sumk * c + 12 * 2 * PT * c;
            assert_int_equal(headline(&res), want);
            if (T == 30) assert_int_equal(want, full ? 1129228800ull : 1124551680ull);
            assert_int_equal(res.model->params_headline, 37182208);
            /* the adaptive softmax: head 20000 words + 2 clusters, tails 224 and 56 wide */
            uint64_t soft = T * (d * 20002 + d * 224 + 224 * 40000 + d * 56 + 56 * 207744);
            assert_int_equal(tu_macs(res.ledger, -1, "decoder.adaptive_softmax", -1), soft);
            runner_result_free(&res);
        }
    }
}

/* Forward log-probabilities equal the same tokens fed one at a time through the caches. */
static void test_lm_forward_equals_generation(void **state) {
    (void)state;
    const char *cfgs[2] = {"tests/fixtures/lm_tiny.yml", "tests/fixtures/lm_plain.yml"};
    for (int k = 0; k < 2; k++) {
        ModelConfig cfg;
        tu_load_config(cfgs[k], 0, &cfg);
        int64_t tgt[9] = {2, 5, 45, 130, 7, 299, 41, 119, 120};
        int64_t n = 9;
        if (k == 1) {
            for (int i = 1; i < 9; i++) tgt[i] = tgt[i] % 12;
        }
        RunSpec f = tu_spec(0), g;
        f.tgt = tgt;
        f.ntgt = n;
        f.seed = 3;
        g = f;
        g.mode = MODE_GENERATE;
        g.keep_logits = 1;
        SimError err;
        sim_error_init(&err);
        RunResult rf, rg;
        assert_int_equal(runner_execute(&cfg, &f, &rf, &err), SIM_OK);
        if (runner_execute(&cfg, &g, &rg, &err) != SIM_OK) fail_msg("%s", err.msg);
        assert_int_equal(rg.gen.steps, n);
        double e = tu_rel_err(rg.gen.step_logits, rf.out.logits.data, n * cfg.tgt_vocab);
        if (!(e <= 1e-5)) fail_msg("%s: rel_err %.3g", cfgs[k], e);
        runner_result_free(&rf);
        runner_result_free(&rg);
    }
}

/* The adaptive softmax's log-probabilities sum to one over the whole vocabulary. */
static void test_lm_adaptive_softmax_normalised(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/lm_tiny.yml", 0, &cfg);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        RunSpec spec = tu_spec(0);
        spec.tgt_len = 11;
        spec.seed = seed;
        SimError err;
        sim_error_init(&err);
        RunResult res;
        assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
        const Tensor *lp = &res.out.logits;
        for (int64_t i = 0; i < lp->rows; i++) {
            double sum = 0;
            for (int64_t j = 0; j < lp->cols; j++) {
                assert_true(lp->data[i * lp->ld + j] <= 0.0f);
                sum += exp(lp->data[i * lp->ld + j]);
            }
            if (fabs(sum - 1.0) > 1e-4) fail_msg("row %lld sums to %.6f", (long long)i, sum);
        }
        runner_result_free(&res);
    }
}

/* y = LN(x) with gain g and shift b, eps 1e-5 */
static void ln_ref(const double *x, int n, const float *g, const float *b, double *y) {
    double m = 0, v = 0;
    for (int j = 0; j < n; j++) m += x[j];
    m /= n;
    for (int j = 0; j < n; j++) v += (x[j] - m) * (x[j] - m);
    v /= n;
    for (int j = 0; j < n; j++) y[j] = (x[j] - m) / sqrt(v + 1e-5) * g[j] + b[j];
}

static const float *P(const Model *m, const char *name) {
    const ParamEntry *e = model_param(m, name);
    if (e == NULL) fail_msg("no parameter %s", name);
    return e->dst->data;
}

/* out[o] = b[o] + sum_i W[o][i] x[i] */
static void lin_ref(const float *W, const float *b, const double *x, int in, int out, double *y) {
    for (int o = 0; o < out; o++) {
        double s = b ? b[o] : 0.0;
        for (int i = 0; i < in; i++) s += (double)W[o * in + i] * x[i];
        y[o] = s;
    }
}

/* A one-layer pre-norm LM by hand: x = sqrt(d) E + PE; x += Attn(LN1 x) (causal);
 * x += FFN(LN2 x); logits = LN_final(x) E_out^T. */
static void test_lm_prenorm_by_hand(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/lm_plain.yml", 0, &cfg);
    int64_t tgt[4] = {2, 7, 3, 11};
    RunSpec spec = tu_spec(0);
    spec.tgt = tgt;
    spec.ntgt = 4;
    spec.seed = 9;
    SimError err;
    sim_error_init(&err);
    RunResult res;
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    const Model *m = res.model;
    enum { T = 4, D = 8, F = 16, V = 12, H = 2, R = 4 };
    double x[T][D], h[T][D], q[T][D], k[T][D], v[T][D], o[T][D], a[T][D];
    const float *E = P(m, "decoder.embed_tokens.weight");
    for (int t = 0; t < T; t++)
        for (int j = 0; j < D; j++)
            x[t][j] = sqrt((double)D) * E[tgt[t] * D + j] + m->dec.pe.data[(2 + t) * D + j];
    for (int t = 0; t < T; t++) {
        ln_ref(x[t], D, P(m, "decoder.layers.0.self_attn_layer_norm.weight"),
               P(m, "decoder.layers.0.self_attn_layer_norm.bias"), h[t]);
        lin_ref(P(m, "decoder.layers.0.self_attn.q_proj.weight"),
                P(m, "decoder.layers.0.self_attn.q_proj.bias"), h[t], D, D, q[t]);
        lin_ref(P(m, "decoder.layers.0.self_attn.k_proj.weight"),
                P(m, "decoder.layers.0.self_attn.k_proj.bias"), h[t], D, D, k[t]);
        lin_ref(P(m, "decoder.layers.0.self_attn.v_proj.weight"),
                P(m, "decoder.layers.0.self_attn.v_proj.bias"), h[t], D, D, v[t]);
    }
    for (int t = 0; t < T; t++)
        for (int hh = 0; hh < H; hh++) {
            double s[T], mx = -1e30, z = 0;
            for (int u = 0; u <= t; u++) {
                s[u] = 0;
                for (int r = 0; r < R; r++) s[u] += q[t][hh * R + r] * k[u][hh * R + r];
                s[u] /= sqrt((double)R);
                mx = s[u] > mx ? s[u] : mx;
            }
            for (int u = 0; u <= t; u++) z += (s[u] = exp(s[u] - mx));
            for (int r = 0; r < R; r++) {
                double acc = 0;
                for (int u = 0; u <= t; u++) acc += s[u] / z * v[u][hh * R + r];
                o[t][hh * R + r] = acc;
            }
        }
    for (int t = 0; t < T; t++) {
        lin_ref(P(m, "decoder.layers.0.self_attn.out_proj.weight"),
                P(m, "decoder.layers.0.self_attn.out_proj.bias"), o[t], D, D, a[t]);
        for (int j = 0; j < D; j++) x[t][j] += a[t][j];
        double f[F], y[D];
        ln_ref(x[t], D, P(m, "decoder.layers.0.final_layer_norm.weight"),
               P(m, "decoder.layers.0.final_layer_norm.bias"), h[t]);
        lin_ref(P(m, "decoder.layers.0.fc1.weight"), P(m, "decoder.layers.0.fc1.bias"), h[t], D, F, f);
        for (int j = 0; j < F; j++) f[j] = f[j] > 0 ? f[j] : 0;
        lin_ref(P(m, "decoder.layers.0.fc2.weight"), P(m, "decoder.layers.0.fc2.bias"), f, F, D, y);
        for (int j = 0; j < D; j++) x[t][j] += y[j];
        ln_ref(x[t], D, P(m, "decoder.layer_norm.weight"), P(m, "decoder.layer_norm.bias"), h[t]);
        double lg[V];
        lin_ref(P(m, "decoder.embed_out"), NULL, h[t], D, V, lg);
        for (int j = 0; j < V; j++) {
            double got = res.out.logits.data[t * V + j];
            if (fabs(got - lg[j]) > 1e-4 * (1 + fabs(lg[j])))
                fail_msg("t=%d j=%d: %g vs %g", t, j, got, lg[j]);
        }
    }
    runner_result_free(&res);
}

static void test_lm_count_equals_executed(void **state) {
    (void)state;
    const char *cfgs[2] = {"tests/fixtures/lm_tiny.yml", "tests/fixtures/lm_plain.yml"};
    for (int k = 0; k < 2; k++)
        for (int gen = 0; gen < 2; gen++) {
            ModelConfig cfg;
            tu_load_config(cfgs[k], 0, &cfg);
            RunSpec a = tu_spec(1), b = tu_spec(0);
            a.tgt_len = b.tgt_len = 13;
            a.mode = b.mode = gen ? MODE_GENERATE : MODE_FORWARD;
            a.no_early_stop = b.no_early_stop = 1;
            SimError err;
            sim_error_init(&err);
            RunResult ra, rb;
            assert_int_equal(runner_execute(&cfg, &a, &ra, &err), SIM_OK);
            assert_int_equal(runner_execute(&cfg, &b, &rb, &err), SIM_OK);
            char why[256];
            if (!cost_ledger_equal(ra.ledger, rb.ledger, why, sizeof why))
                fail_msg("%s %s: %s", cfgs[k], gen ? "generate" : "forward", why);
            assert_int_equal(rb.peak_bytes, rb.planned_bytes);
            runner_result_free(&ra);
            runner_result_free(&rb);
        }
}

/* The summarisation configs carry the task's default lengths (S = T = 45). */
static void test_lm_cnndm_lengths(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("models/lite-cnndm-496.yml", 0, &cfg);
    assert_int_equal(cfg.src_len, 45);
    assert_int_equal(cfg.tgt_len, 45);
    RunSpec spec = tu_spec(1);
    spec.src_len = spec.tgt_len = 45;
    SimError err;
    sim_error_init(&err);
    RunResult res;
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    assert_int_equal(headline(&res), 798207840); /* the paper's 800M */
    runner_result_free(&res);
    tu_load_config("models/transformer-cnndm.yml", 0, &cfg);
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    assert_int_equal(headline(&res), 2013050880); /* 2.0G */
    runner_result_free(&res);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lm_wiki103_closed_form),
        cmocka_unit_test(test_lm_forward_equals_generation),
        cmocka_unit_test(test_lm_adaptive_softmax_normalised),
        cmocka_unit_test(test_lm_prenorm_by_hand),
        cmocka_unit_test(test_lm_count_equals_executed),
        cmocka_unit_test(test_lm_cnndm_lengths),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
