/*
 * test_generate.c - generate mode: the golden incremental decodes (tokens exactly, step
 * logits at 1e-4), teacher forcing through the incremental path against the forward logits,
 * per-step MACs against architectures.md §5.2, linear growth per step, count-only against
 * executed, and planned state memory under beam search.
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

#include "ops.h"
#include "report.h"
#include "runner.h"
#include "safetensors.h"
#include "testutil.h"

static const int64_t *io_ids(const SafeTensors *st, const char *name, int64_t *n) {
    const StTensorInfo *t = st_find(st, name);
    assert_non_null(t);
    *n = st_numel(t);
    return st_data(st, t);
}

/* forced = 0: greedy 8 steps, no early stop, against incremental.*;
 * forced = 1: prev_output_tokens fed one at a time, against the forward logits. */
static void golden_generate(const char *name, int forced) {
    char cfgpath[256], wpath[256], iopath[256];
    snprintf(cfgpath, sizeof cfgpath, "tests/fixtures/golden_%s.yml", name);
    snprintf(wpath, sizeof wpath, "tests/golden/%s/model.safetensors", name);
    snprintf(iopath, sizeof iopath, "tests/golden/%s/io.safetensors", name);
    ModelConfig cfg;
    tu_load_config(cfgpath, 0, &cfg);
    SimError err;
    sim_error_init(&err);
    SafeTensors *io = NULL;
    assert_int_equal(st_open(iopath, &io, &err), SIM_OK);
    RunSpec spec = tu_spec(0);
    spec.mode = MODE_GENERATE;
    spec.src = io_ids(io, "src_tokens", &spec.nsrc);
    if (forced) spec.tgt = io_ids(io, "prev_output_tokens", &spec.ntgt);
    spec.weights = wpath;
    spec.max_steps = 8;
    spec.no_early_stop = 1;
    spec.keep_logits = 1;
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s: %s", name, err.msg);
    int64_t V = cfg.tgt_vocab;
    if (!forced) {
        int64_t n;
        const int64_t *tok = io_ids(io, "incremental.tokens", &n);
        assert_int_equal(res.gen.steps, 8);
        for (int64_t i = 0; i < n; i++) assert_int_equal(res.gen.tokens[i], tok[i]);
        const StTensorInfo *g = st_find(io, "incremental.logits");
        double e = tu_rel_err(res.gen.step_logits, st_data(io, g), 8 * V);
        if (!(e <= 1e-4)) fail_msg("%s incremental.logits rel_err %.3g", name, e);
    } else {
        const StTensorInfo *g = st_find(io, "logits");
        assert_int_equal(res.gen.steps, spec.ntgt);
        double e = tu_rel_err(res.gen.step_logits, st_data(io, g), spec.ntgt * V);
        if (!(e <= 1e-4)) fail_msg("%s forced logits rel_err %.3g", name, e);
    }
    runner_result_free(&res);
    st_close(io);
}

static void test_generate_golden_incremental(void **state) {
    (void)state;
    const char *cases[] = {"lite_dyn_glu", "lite_dyn_noglu", "lite_light", "transformer"};
    for (int i = 0; i < 4; i++) golden_generate(cases[i], 0);
}

static void test_generate_forced_equals_forward(void **state) {
    (void)state;
    const char *cases[] = {"lite_dyn_glu", "lite_dyn_noglu", "lite_light", "transformer"};
    for (int i = 0; i < 4; i++) golden_generate(cases[i], 1);
}

/* The Evolved Transformer: the target tokens fed one step at a time (the zero start vector
 * first) reproduce the forward logits of tests/fixtures/et_tiny row by row. */
static void test_generate_evolved_forced_equals_forward(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    SimError err;
    sim_error_init(&err);
    SafeTensors *io = NULL;
    assert_int_equal(st_open("tests/fixtures/et_tiny/io.safetensors", &io, &err), SIM_OK);
    RunSpec spec = tu_spec(0);
    spec.mode = MODE_GENERATE;
    spec.src = io_ids(io, "src_tokens", &spec.nsrc);
    spec.tgt = io_ids(io, "tgt_tokens", &spec.ntgt);
    spec.weights = "tests/fixtures/et_tiny/model.safetensors";
    spec.keep_logits = 1;
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_int_equal(res.gen.steps, spec.ntgt);
    assert_int_equal(res.gen.tokens[0], 0);
    double e = tu_rel_err(res.gen.step_logits, st_data(io, st_find(io, "logits")), spec.ntgt * 40);
    if (!(e <= 1e-4)) fail_msg("evolved forced logits rel_err %.3g", e);
    runner_result_free(&res);
    st_close(io);
}

/* ---- per-step MACs (architectures.md §5.2) ---- */

static void count_generate(const char *path, int64_t S, int64_t steps, int beam, ConvMacs cm,
                           RunResult *res) {
    ModelConfig cfg;
    tu_load_config(path, 0, &cfg);
    RunSpec spec = tu_spec(1);
    spec.mode = MODE_GENERATE;
    spec.src_len = S;
    spec.tgt_len = steps;
    spec.beam = beam;
    spec.no_early_stop = 1;
    spec.conv.conv_macs = cm;
    SimError err;
    sim_error_init(&err);
    if (runner_execute(&cfg, &spec, res, &err) != SIM_OK) fail_msg("%s: %s", path, err.msg);
}

static uint64_t step_macs(const RunResult *res, int64_t t) {
    StepFigures f;
    step_figures(res, t - 1, &f);
    return f.macs;
}

static void test_generate_step_macs_closed_form(void **state) {
    (void)state;
    RunResult res;
    count_generate("models/lite-wmt-496.yml", 30, 30, 1, CONV_MACS_VALID, &res);
    assert_int_equal(step_macs(&res, 1), 8787632);
    assert_int_equal(step_macs(&res, 10), 8825328);
    assert_int_equal(step_macs(&res, 30), 8900968);
    uint64_t sum = 0;
    for (int64_t t = 1; t <= 30; t++) sum += step_macs(&res, t);
    assert_int_equal(sum, 265378848);
    /* + the one-time cross K/V = the teacher-forced decoder with valid taps */
    uint64_t cross = tu_macs(res.once, -1, "encoder_attn", -1);
    assert_int_equal(cross, 88565760);
    assert_int_equal(sum + cross, 353944608);
    /* the output projection is d*V per step */
    StepFigures f;
    step_figures(&res, 0, &f);
    assert_int_equal(f.macs_out, 496ull * 32768);
    /* general form for every step: sum_l [5.75 d^2 + c H K_l + c min(t, K_l) + 2 t c + 2 S d] */
    const uint64_t d = 496, c = 248, S = 30;
    const uint64_t K[6] = {3, 7, 15, 31, 31, 31};
    for (uint64_t t = 1; t <= 30; t++) {
        uint64_t want = 0;
        for (int l = 0; l < 6; l++)
            want += (23 * d * d) / 4 + c * 4 * K[l] + c * (t < K[l] ? t : K[l]) + 2 * t * c +
                    2 * S * d;
        assert_int_equal(step_macs(&res, (int64_t)t), want);
    }
    runner_result_free(&res);

    count_generate("models/transformer-base.yml", 30, 30, 1, CONV_MACS_VALID, &res);
    assert_int_equal(step_macs(&res, 1), 22210560);
    assert_int_equal(step_macs(&res, 30), 22388736);
    runner_result_free(&res);

    /* --conv-macs taps counts the full K window at every step */
    count_generate("models/lite-wmt-496.yml", 30, 30, 1, CONV_MACS_TAPS, &res);
    assert_int_equal(step_macs(&res, 1), 8787632 + 248 * (3 + 7 + 15 + 31 + 31 + 31 - 6));
    runner_result_free(&res);

    /* ET: N_d (24.5 d^2 + 32 d + 4 t d + 4 S d) with full windows; the two attend-to-encoder
     * K/V projections once (N_d 4 S d^2) */
    count_generate("models/evolved-base.yml", 30, 30, 1, CONV_MACS_TAPS, &res);
    assert_int_equal(step_macs(&res, 1), 26009600);
    assert_int_equal(step_macs(&res, 30), 26247168);
    assert_int_equal(tu_macs(res.once, -1, "attend_to_encoder", -1), 4ull * 4 * 30 * 512 * 512);
    runner_result_free(&res);
    /* valid taps: min(t,11) d + min(t,7) d + min(t,7) 2d per cell at step t */
    count_generate("models/evolved-base.yml", 30, 30, 1, CONV_MACS_VALID, &res);
    assert_int_equal(step_macs(&res, 1), 26009600 - 4ull * (32 - 4) * 512);
    assert_int_equal(step_macs(&res, 30), 26247168);
    runner_result_free(&res);
}

/* Work per step grows linearly with t: no prefix is recomputed. Beyond the largest kernel
 * the increment is exactly the attention over one more cached token, 2 c N_d per step. */
static void test_generate_linear_growth(void **state) {
    (void)state;
    RunResult res;
    count_generate("models/lite-wmt-200.yml", 20, 80, 1, CONV_MACS_VALID, &res);
    uint64_t inc = 2 * 100 * 6;
    for (int64_t t = 32; t < 80; t++) assert_int_equal(step_macs(&res, t + 1) - step_macs(&res, t), inc);
    for (int64_t t = 1; t < 80; t++) assert_true(step_macs(&res, t + 1) > step_macs(&res, t));
    /* and the cache bytes read grow by the same one-token slice */
    uint64_t cb = res.step_info[60].cache_bytes - res.step_info[59].cache_bytes;
    assert_int_equal(cb, 2u * 100u * 6u * 4u);
    runner_result_free(&res);
    /* a beam of 4 runs 4 hypothesis rows per step */
    RunResult b4;
    count_generate("models/lite-wmt-200.yml", 20, 40, 4, CONV_MACS_VALID, &res);
    count_generate("models/lite-wmt-200.yml", 20, 40, 1, CONV_MACS_VALID, &b4);
    assert_int_equal(step_macs(&res, 40), 4 * step_macs(&b4, 40));
    runner_result_free(&res);
    runner_result_free(&b4);
}

static void test_generate_count_equals_executed(void **state) {
    (void)state;
    const char *cfgs[] = {"tests/fixtures/golden_lite_dyn_glu.yml", "tests/fixtures/golden_lite_light.yml",
                          "tests/fixtures/golden_transformer.yml", "tests/fixtures/prenorm.yml",
                          "tests/fixtures/three_branches.yml", "tests/fixtures/et_tiny.yml"};
    for (int i = 0; i < 6; i++) {
        ModelConfig cfg;
        tu_load_config(cfgs[i], 0, &cfg);
        RunSpec a = tu_spec(1), b = tu_spec(0);
        a.mode = b.mode = MODE_GENERATE;
        a.src_len = b.src_len = 7;
        a.tgt_len = b.tgt_len = 12;
        a.no_early_stop = b.no_early_stop = 1;
        SimError err;
        sim_error_init(&err);
        RunResult ra, rb;
        if (runner_execute(&cfg, &a, &ra, &err) != SIM_OK) fail_msg("%s", err.msg);
        if (runner_execute(&cfg, &b, &rb, &err) != SIM_OK) fail_msg("%s", err.msg);
        char why[256];
        if (!cost_ledger_equal(ra.ledger, rb.ledger, why, sizeof why))
            fail_msg("%s: generate ledgers differ: %s", cfgs[i], why);
        assert_int_equal(ra.nsteps, 12);
        assert_int_equal(rb.nsteps, 12);
        assert_int_equal(rb.peak_bytes, rb.planned_bytes);
        runner_result_free(&ra);
        runner_result_free(&rb);
    }
}

/* A clock for op_exec: the readings numbered slow_from to slow_to - 1 make the operator
 * they time take 1 ms instead of 1 us. */
static uint64_t fake_now, fake_reads, fake_slow_from, fake_slow_to;
static uint64_t fake_clock(void) {
    uint64_t t = fake_now;
    int slow = fake_reads >= fake_slow_from && fake_reads < fake_slow_to;
    fake_now += slow ? 1000000u : 1000u;
    fake_reads++;
    return t;
}

static void check_times(const CostLedger *l, uint64_t per_call) {
    for (size_t i = 0; i < cost_ledger_count(l); i++) {
        const LedgerEntry *e = cost_ledger_get(l, i);
        if (e->calls == 0) continue;
        if (e->time_ns != per_call * e->calls)
            fail_msg("%s: %llu ns over %llu calls, not %llu per call", e->scope,
                     (unsigned long long)e->time_ns, (unsigned long long)e->calls,
                     (unsigned long long)per_call);
    }
}

/* A spec for the lightweight golden config: S = 7, T = 6 decoder inputs or steps, no early
 * stop, forward or generate. */
static RunSpec light_spec(int gen) {
    RunSpec s = tu_spec(0);
    s.mode = gen ? MODE_GENERATE : MODE_FORWARD;
    s.src_len = 7;
    s.tgt_len = 6;
    s.no_early_stop = 1;
    return s;
}

/* runner_result_drop_model frees the weights and activations and keeps the costs, times and
 * tokens, and the result still frees once (the calibration holds a hundred results so). */
static void test_runner_drop_model_keeps_costs(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/golden_lite_light.yml", 0, &cfg);
    for (int gen = 0; gen < 2; gen++) {
        RunSpec s = light_spec(gen);
        s.repeats = 2;
        SimError err;
        sim_error_init(&err);
        RunResult res;
        if (runner_execute(&cfg, &s, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
        assert_non_null(res.model);
        size_t n = cost_ledger_count(res.ledger);
        uint64_t macs = 0;
        for (size_t i = 0; i < n; i++) macs += cost_ledger_get(res.ledger, i)->cost.macs;
        double med = res.median_ms;
        runner_result_drop_model(&res);
        assert_null(res.model);
        assert_null(res.act);
        runner_result_drop_model(&res); /* twice is harmless */
        assert_int_equal(cost_ledger_count(res.ledger), n);
        uint64_t again = 0;
        for (size_t i = 0; i < n; i++) again += cost_ledger_get(res.ledger, i)->cost.macs;
        assert_true(macs > 0 && again == macs);
        assert_true(res.median_ms == med && res.ms != NULL && res.repeats == 2);
        if (gen) {
            assert_int_equal(res.nsteps, 6);
            assert_non_null(res.steps);
            assert_true(cost_ledger_count(res.steps[5]) > 0);
            assert_non_null(res.step_info);
        }
        runner_result_free(&res);
    }
}

/* Per-operator times of a timed run are medians over its passes, for the forward ledger,
 * the once ledger and every step ledger: one slow pass (the last, then the first) does not
 * show in them. */
static void test_runner_op_times_are_medians(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/golden_lite_light.yml", 0, &cfg);
    for (int gen = 0; gen < 2; gen++) {
        RunSpec s = light_spec(gen);
        SimError err;
        sim_error_init(&err);
        RunResult res;
        /* the clock readings of one pass */
        fake_now = fake_reads = 0;
        fake_slow_from = fake_slow_to = 0;
        ops_set_clock(fake_clock);
        if (runner_execute(&cfg, &s, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
        uint64_t per_pass = fake_reads;
        assert_true(per_pass > 0);
        check_times(res.ledger, 1000);
        runner_result_free(&res);
        for (int slow_last = 0; slow_last < 2; slow_last++) {
            s.repeats = 3;
            fake_now = fake_reads = 0;
            fake_slow_from = slow_last ? 2 * per_pass : 0;
            fake_slow_to = fake_slow_from + per_pass;
            if (runner_execute(&cfg, &s, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
            assert_int_equal(fake_reads, 3 * per_pass);
            check_times(res.ledger, 1000);
            if (gen) {
                assert_int_equal(res.nsteps, 6);
                check_times(res.once, 1000);
                for (int64_t t = 0; t < res.nsteps; t++) check_times(res.steps[t], 1000);
            }
            runner_result_free(&res);
        }
    }
    ops_set_clock(NULL);
}

/* Caches are planned up front: a beam of 8 over 100 steps stays within the plan. */
static void test_generate_beam_memory_planned(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/golden_lite_dyn_glu.yml", 0, &cfg);
    RunSpec spec = tu_spec(0);
    spec.mode = MODE_GENERATE;
    spec.src_len = 20;
    spec.beam = 8;
    spec.max_steps = 100;
    spec.no_early_stop = 1;
    SimError err;
    sim_error_init(&err);
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_int_equal(res.nsteps, 100);
    assert_true(res.peak_bytes <= res.planned_bytes);
    assert_true(res.gen.state_bytes > 0);
    /* caches: 2 layers x (attention branch K,V of 8 x 100 x 32 + window 8 x K x 32 + cross
       K/V 20 x 64 x 2) floats */
    uint64_t want = 0;
    const int K[2] = {3, 15};
    for (int l = 0; l < 2; l++) want += (2u * 8 * 100 * 32 + 8u * (uint64_t)K[l] * 32 + 2u * 20 * 64) * 4u;
    assert_int_equal(res.gen.state_bytes, want);
    runner_result_free(&res);
}

/* Beam search: beam 1 is greedy; a wider beam never reports a worse normalised score than
 * greedy when both run to the same length without early stop. */
static void test_generate_beam_search(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/golden_transformer.yml", 0, &cfg);
    SimError err;
    sim_error_init(&err);
    RunSpec spec = tu_spec(0);
    spec.mode = MODE_GENERATE;
    spec.src_len = 9;
    spec.max_steps = 12;
    spec.no_early_stop = 1;
    spec.seed = 7;
    RunResult g, b;
    assert_int_equal(runner_execute(&cfg, &spec, &g, &err), SIM_OK);
    spec.beam = 5;
    assert_int_equal(runner_execute(&cfg, &spec, &b, &err), SIM_OK);
    assert_int_equal(g.gen.tokens[0], 2);
    assert_int_equal(b.gen.tokens[0], 2);
    /* the same model decoded with 1 and 5 rows per GEMM: equal up to summation order */
    assert_true(b.gen.score >= g.gen.score - 1e-5);
    runner_result_free(&g);
    runner_result_free(&b);
    /* with early stop, a run ends at EOS or at max_steps */
    spec.no_early_stop = 0;
    spec.beam = 3;
    assert_int_equal(runner_execute(&cfg, &spec, &b, &err), SIM_OK);
    assert_true(b.gen.steps >= 1 && b.gen.steps <= 12);
    if (b.gen.finished) assert_int_equal(b.gen.tokens[b.gen.steps], 2);
    /* fairseq's min_len: no EOS as the first token; never the padding token */
    assert_true(b.gen.steps >= 2 || !b.gen.finished);
    assert_int_not_equal(b.gen.tokens[1], 2);
    for (int64_t i = 1; i <= b.gen.steps; i++) assert_int_not_equal(b.gen.tokens[i], 1);
    runner_result_free(&b);
    /* beam search over the Evolved Transformer: planned state, hypotheses start from 0 */
    tu_load_config("tests/fixtures/et_tiny.yml", 0, &cfg);
    spec.beam = 4;
    spec.max_steps = 25;
    spec.no_early_stop = 1;
    assert_int_equal(runner_execute(&cfg, &spec, &b, &err), SIM_OK);
    assert_int_equal(b.gen.tokens[0], 0);
    assert_int_equal(b.nsteps, 25);
    assert_true(b.peak_bytes <= b.planned_bytes);
    runner_result_free(&b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_generate_golden_incremental),
        cmocka_unit_test(test_generate_forced_equals_forward),
        cmocka_unit_test(test_generate_evolved_forced_equals_forward),
        cmocka_unit_test(test_generate_step_macs_closed_form),
        cmocka_unit_test(test_generate_linear_growth),
        cmocka_unit_test(test_generate_count_equals_executed),
        cmocka_unit_test(test_generate_beam_memory_planned),
        cmocka_unit_test(test_generate_beam_search),
        cmocka_unit_test(test_runner_op_times_are_medians),
        cmocka_unit_test(test_runner_drop_model_keeps_costs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
