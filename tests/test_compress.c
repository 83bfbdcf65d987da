/*
 * test_compress.c - compression: the paper's size ledger for lite-wmt-496 (69.1 MB fp32,
 * ~17.3 MB int8, ~9.7 MB int8 + pruning, ~18x against Transformer base), int8 executed on the
 * golden cases within 2 % of fp32, pruning ratios, storage formats, the ledger's weight bytes,
 * and compress-report.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compress.h"
#include "runner.h"
#include "safetensors.h"
#include "testutil.h"

static CompressSize size_of(const char *path, int bits, double prune) {
    ModelConfig cfg;
    tu_load_config(path, 0, &cfg);
    SimError err;
    sim_error_init(&err);
    CompressOptions co = {0};
    co.bits = bits;
    co.prune = prune;
    ModelOptions mo = {0};
    mo.count_only = 1;
    mo.max_positions = 1;
    mo.compress = &co;
    Model *m = NULL;
    assert_int_equal(model_open(&cfg, &mo, &m, &err), SIM_OK);
    CompressSize z;
    compress_size(m, &co, &z);
    model_close(m);
    return z;
}

static void test_compress_paper_size_ledger(void **state) {
    (void)state;
    CompressSize fp = size_of("models/lite-wmt-496.yml", 0, 0);
    assert_int_equal(fp.bytes_fp32, 17283616ull * 4);
    assert_int_equal(fp.bytes, fp.bytes_fp32);
    CompressSize q = size_of("models/lite-wmt-496.yml", 8, 0);
    assert_true(q.bytes > 17200000 && q.bytes < 17600000); /* the paper's 17.3 MB */
    CompressSize qp = size_of("models/lite-wmt-496.yml", 8, 0.58);
    assert_true(qp.bytes > 9500000 && qp.bytes < 9900000); /* 9.7 MB */
    assert_true(qp.tensors_bitmask > 0);
    CompressSize base = size_of("models/transformer-base.yml", 0, 0);
    assert_int_equal(base.bytes_fp32, 44138496ull * 4); /* 176.6 MB */
    double factor = (double)base.bytes_fp32 / (double)qp.bytes;
    assert_true(factor > 17.5 && factor < 19.0); /* the paper's 18.2x */
}

static void test_compress_matrix_formats(void **state) {
    (void)state;
    int f;
    assert_int_equal(compress_matrix_bytes(100, 200, 20000, 0, &f), 80000);
    assert_int_equal(f, 0);
    /* half zero at int8: bitmask 10,000 nonzero bytes + 2,500 mask bytes + 400 scale bytes */
    assert_int_equal(compress_matrix_bytes(100, 200, 10000, 8, &f), 10000 + 2500 + 400);
    assert_int_equal(f, 2);
    /* 1 % nonzero: CSR (200 x (1 + 2) + 101 x 4) wins */
    assert_int_equal(compress_matrix_bytes(100, 200, 200, 8, &f), 200 * 3 + 101 * 4 + 400);
    assert_int_equal(f, 1);
}

static void golden_int8(const char *name) {
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
    const StTensorInfo *s = st_find(io, "src_tokens"), *t = st_find(io, "prev_output_tokens");
    spec.src = st_data(io, s);
    spec.nsrc = st_numel(s);
    spec.tgt = st_data(io, t);
    spec.ntgt = st_numel(t);
    spec.weights = wpath;
    spec.compress.bits = 8;
    RunResult res;
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    const StTensorInfo *g = st_find(io, "logits");
    double e = tu_rel_err(res.out.logits.data, st_data(io, g), st_numel(g));
    if (!(e <= 0.02)) fail_msg("%s: int8 logits rel_err %.4f > 2%%", name, e);
    assert_true(e > 1e-5); /* it really ran with int8 weights */
    /* the ledger's weight bytes of the linears are the int8 sizes */
    uint64_t wb = 0, params = 0;
    for (size_t i = 0; i < cost_ledger_count(res.ledger); i++) {
        const LedgerEntry *le = cost_ledger_get(res.ledger, i);
        if (le->op == OP_LINEAR && le->cls != CLASS_EMBED_OUTPUT) {
            wb += le->cost.weight_bytes;
            params += le->cost.params;
        }
    }
    assert_true(wb < params * 2); /* ~1 B per weight (+ scales and fp32 biases) vs 4 */
    runner_result_free(&res);
    st_close(io);
}

static void test_compress_int8_golden_within_2_percent(void **state) {
    (void)state;
    golden_int8("lite_dyn_glu");
    golden_int8("lite_dyn_noglu");
    golden_int8("lite_light");
    golden_int8("transformer");
}

static void test_compress_pruning_ratio(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/golden_lite_dyn_noglu.yml", 0, &cfg);
    for (int scope = 0; scope < 2; scope++) {
        RunSpec spec = tu_spec(0);
        spec.src_len = spec.tgt_len = 5;
        spec.compress.prune = 0.4;
        spec.compress.prune_per_layer = scope;
        SimError err;
        sim_error_init(&err);
        RunResult res;
        assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
        uint64_t n = 0, z = 0;
        for (int i = 0; i < res.model->nparams; i++) {
            const ParamEntry *e = &res.model->params[i];
            if (e->kind != PARAM_WEIGHT) continue;
            uint64_t zi = 0, ni = (uint64_t)(e->rows * e->cols);
            for (uint64_t j = 0; j < ni; j++) zi += e->dst->data[j] == 0.0f;
            if (scope) /* per layer: every matrix at the ratio */
                assert_true(zi >= (uint64_t)(0.39 * (double)ni) && zi <= (uint64_t)(0.41 * (double)ni) + 1);
            n += ni;
            z += zi;
        }
        double frac = (double)z / (double)n;
        assert_true(frac > 0.39 && frac < 0.41);
        runner_result_free(&res);
    }
    /* a bad ratio is bad input */
    RunSpec bad = tu_spec(1);
    bad.compress.prune = 1.5;
    SimError err;
    sim_error_init(&err);
    RunResult r;
    assert_int_equal(runner_execute(&cfg, &bad, &r, &err), SIM_EINVAL);
}

static void test_compress_report_command(void **state) {
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof cmd,
             "%s compress-report tests/fixtures/golden_transformer.yml --ratios 0.5 --steps 5 "
             "--size-baseline tests/fixtures/golden_transformer.yml --json > %s/cr.json",
             getenv("LTSIM_BIN") ? getenv("LTSIM_BIN") : "./ltsim", tu_tmpdir());
    assert_int_equal(system(cmd), 0);
    char path[256];
    snprintf(path, sizeof path, "%s/cr.json", tu_tmpdir());
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(buf);
    assert_non_null(j);
    cJSON *steps = cJSON_GetObjectItem(j, "steps");
    assert_int_equal(cJSON_GetArraySize(steps), 3);
    cJSON *fp = cJSON_GetArrayItem(steps, 0), *q = cJSON_GetArrayItem(steps, 1);
    assert_true(cJSON_GetObjectItem(fp, "logits_rel_err")->valuedouble == 0.0);
    assert_true(cJSON_GetObjectItem(q, "logits_rel_err")->valuedouble > 0.0);
    assert_true(cJSON_GetObjectItem(q, "factor_vs_fp32")->valuedouble > 3.0);
    assert_true(cJSON_GetObjectItem(q, "greedy_agreement")->valuedouble >= 0.0);
    cJSON_Delete(j);
}

int main(void) {
    setenv("LTSIM_HOME", tu_tmpdir(), 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_compress_paper_size_ledger),
        cmocka_unit_test(test_compress_matrix_formats),
        cmocka_unit_test(test_compress_int8_golden_within_2_percent),
        cmocka_unit_test(test_compress_pruning_ratio),
        cmocka_unit_test(test_compress_report_command),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
