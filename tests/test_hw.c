/*
 * test_hw.c - CMocka tests of hardware profiles, the latency / energy model and its
 * calibration (sim/hw.c, sim/hw_calib.c, sim/cli_hw.c).
 *
 * Runs from the repository root (hwprofiles/, models/). Every error test checks that the
 * one-line message names the file, the line (and for CSVs the column) and the key. Host
 * calibration and validation take minutes and run only with LTSIM_SLOW=1.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cJSON.h>

#include "cli_hw.h"
#include "config.h"
#include "hw.h"
#include "hw_calib.h"
#include "ops.h"
#include "runner.h"
#include "testutil.h"

static const char *const shipped[] = {
    "raspberry-pi-4",     "raspberry-pi-5", "snapdragon-855-prime", "snapdragon-855-big",
    "snapdragon-8-gen-3", "apple-a13",      "jetson-nano-cpu",      "jetson-orin-nano-cpu",
    "cortex-a55",         "xeon-e5-2640v4",
};
#define NSHIPPED ((int)(sizeof shipped / sizeof shipped[0]))

/* ---- helpers ---- */

static void assert_msg_has(const SimError *err, ...) {
    const char *missing = NULL;
    va_list ap;
    va_start(ap, err);
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        if (strstr(err->msg, s) == NULL) {
            missing = s;
            break;
        }
    va_end(ap);
    if (missing != NULL) {
        print_error("message \"%s\" lacks \"%s\"\n", err->msg, missing);
        fail();
    }
    assert_null(strchr(err->msg, '\n'));
}

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* text with the first occurrence of from replaced by to (malloc'd) */
static char *replace(const char *text, const char *from, const char *to) {
    const char *p = strstr(text, from);
    if (p == NULL) fail_msg("'%s' not in the text", from);
    size_t n = strlen(text) - strlen(from) + strlen(to);
    char *out = malloc(n + 1);
    assert_non_null(out);
    size_t a = (size_t)(p - text);
    memcpy(out, text, a);
    memcpy(out + a, to, strlen(to));
    strcpy(out + a + strlen(to), p + strlen(from));
    return out;
}

static void load_shipped(const char *name, HwProfile *p) {
    SimError err;
    sim_error_init(&err);
    if (hw_profile_open(name, p, &err) != SIM_OK) fail_msg("%s: %s", name, err.msg);
}

/* A config from YAML text (fails the test on error). */
static void cfg_from(const char *yaml, ModelConfig *cfg) {
    SimError err;
    sim_error_init(&err);
    if (config_load_buffer(yaml, strlen(yaml), "mem.yml", NULL, cfg, &err) != SIM_OK)
        fail_msg("%s", err.msg);
}

static void transformer_yaml(char *buf, size_t n, int d, int layers, int vocab) {
    snprintf(buf, n,
             "arch: transformer\nencoder-embed-dim: %d\nencoder-ffn-embed-dim: %d\n"
             "encoder-layers: %d\nencoder-attention-heads: 4\ndecoder-embed-dim: %d\n"
             "decoder-ffn-embed-dim: %d\ndecoder-layers: %d\ndecoder-attention-heads: 4\n"
             "share-all-embeddings: true\nvocab-size: %d\n",
             d, 4 * d, layers, d, 4 * d, layers, vocab);
}

static void lite_yaml(char *buf, size_t n, int d, int layers, int vocab) {
    snprintf(buf, n,
             "arch: transformer_multibranch_v2\nencoder-embed-dim: %d\nencoder-ffn-embed-dim: %d\n"
             "encoder-layers: %d\ndecoder-embed-dim: %d\ndecoder-ffn-embed-dim: %d\n"
             "decoder-layers: %d\nencoder-attention-heads: 4\ndecoder-attention-heads: 4\n"
             "encoder-branch-type: [attn:1:%d:4, dynamic:default:%d:4]\n"
             "decoder-branch-type: [attn:1:%d:4, dynamic:default:%d:4]\n"
             "encoder-glu: 1\ndecoder-glu: 1\nconv-linear: true\nshare-all-embeddings: true\n"
             "vocab-size: %d\n",
             d, d, layers, d, d, layers, d / 2, d / 2, d / 2, d / 2, vocab);
}

/* Count-only run (forward or generate); the caller frees res and the ledger array. */
static const CostLedger **count_run(const ModelConfig *cfg, const char *mode, int S, int T,
                                    int beam, RunResult *res, int *nl) {
    SimError err;
    sim_error_init(&err);
    if (hw_row_ledgers(cfg, mode, S, T, beam, res, &err) != SIM_OK) fail_msg("%s", err.msg);
    const CostLedger **l = hw_run_ledgers(res, nl);
    assert_non_null(l);
    return l;
}

static double predict(const HwProfile *p, const CostLedger **l, int n, int warm) {
    HwPredictOptions o = {warm};
    return hw_predict_ms(p, l, n, &o);
}

/* Silences stdout around CLI calls. */
static int quiet_begin(void) {
    fflush(stdout);
    int saved = dup(1);
    int nul = open("/dev/null", O_WRONLY);
    dup2(nul, 1);
    close(nul);
    return saved;
}

static void quiet_end(int saved) {
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
}

/* ---- profiles ---- */

static void test_hw_shipped_profiles_load(void **state) {
    (void)state;
    HwProfileList l;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_profile_list(&l, &err), SIM_OK);
    for (int i = 0; i < NSHIPPED; i++) {
        int found = 0;
        for (int j = 0; j < l.n; j++) found |= strcmp(l.names[j], shipped[i]) == 0;
        if (!found) fail_msg("hw_profile_list lacks %s", shipped[i]);
        HwProfile p;
        load_shipped(shipped[i], &p);
        assert_string_equal(p.name, shipped[i]);
        assert_int_equal(hw_profile_check(&p, &err), SIM_OK);
        /* every number traces to a source; peak and bandwidth to a fact or a derivation */
        for (int k = 0; k < hw_profile_nkeys(); k++) {
            const char *key = hw_profile_key(k, &p, NULL, NULL);
            const HwSource *s = hw_profile_source(&p, key);
            if (s == NULL || s->source[0] == '\0') fail_msg("%s: %s has no source", p.name, key);
        }
        const HwSource *pk = hw_profile_source(&p, "peak_gflops_fp32");
        const HwSource *bw = hw_profile_source(&p, "dram_gbs");
        assert_true(pk->status != HW_SRC_ESTIMATED && strstr(pk->source, "[S") != NULL);
        assert_true(bw->status != HW_SRC_ESTIMATED && strstr(bw->source, "[S") != NULL);
        /* the peak is cores x clock x FLOP/cycle with a whole FLOP/cycle (R-PEAK) */
        double fpc = p.peak_gflops_fp32 / (p.cores * p.clock_ghz);
        assert_true(fpc >= 7.5 && fpc <= 33.0);
    }
    hw_profile_list_free(&l);
}

static void test_hw_profile_roundtrip(void **state) {
    (void)state;
    HwProfile a, b;
    load_shipped("snapdragon-855-prime", &a);
    a.has_provenance = 1;
    snprintf(a.prov.cpu, sizeof a.prov.cpu, "a \"quoted\" CPU \\ name");
    snprintf(a.prov.date, sizeof a.prov.date, "2026-01-01T00:00:00Z");
    a.prov.threads = 2;
    a.nstream = 3;
    double rb[3] = {512, 1024, 4096}, rn[3] = {40.5, 101.25, 230};
    memcpy(a.stream_row_bytes, rb, sizeof rb);
    memcpy(a.stream_row_ns, rn, sizeof rn);
    a.model.stream_scale = 1.125;
    hw_profile_set_source(&a, "dram_stream", HW_SRC_MEASURED, "a test curve");
    char path[256];
    snprintf(path, sizeof path, "%s/roundtrip.yml", tu_tmpdir());
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_profile_write(&a, path, &err), SIM_OK);
    if (hw_profile_load(path, &b, &err) != SIM_OK) fail_msg("%s", err.msg);
    for (int k = 0; k < hw_profile_nkeys(); k++) {
        double va, vb;
        const char *key = hw_profile_key(k, &a, &va, NULL);
        hw_profile_key(k, &b, &vb, NULL);
        if (fabs(va - vb) > 1e-5 * fabs(va)) fail_msg("%s: %g != %g", key, va, vb);
        assert_int_equal(hw_profile_source(&a, key)->status, hw_profile_source(&b, key)->status);
        assert_string_equal(hw_profile_source(&a, key)->source, hw_profile_source(&b, key)->source);
    }
    assert_string_equal(a.description, b.description);
    assert_int_equal(b.nstream, 3);
    for (int i = 0; i < 3; i++) {
        assert_true(b.stream_row_bytes[i] == rb[i]);
        assert_true(b.stream_row_ns[i] == rn[i]);
    }
    assert_string_equal(hw_profile_source(&b, "dram_stream")->source, "a test curve");
    assert_true(b.model.stream_scale == 1.125);
    assert_string_equal(a.prov.cpu, b.prov.cpu);
    assert_true(b.prov.threads == 2);
    /* no temporary file is left behind */
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s.tmp.%ld", path, (long)getpid());
    assert_int_not_equal(access(tmp, F_OK), 0);
}

/* The first string of the NULL-terminated list ap that msg lacks, or NULL. */
static const char *first_missing(const char *msg, va_list ap) {
    for (const char *s = va_arg(ap, const char *); s != NULL; s = va_arg(ap, const char *))
        if (strstr(msg, s) == NULL) return s;
    return NULL;
}

/* Writes text as NAME in the temp dir, loads it, expects SIM_EINVAL and the strings. */
static void expect_bad_profile(const char *name, const char *text, ...) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
    write_text(path, text);
    HwProfile p;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_profile_load(path, &p, &err), SIM_EINVAL);
    va_list ap;
    va_start(ap, text);
    const char *missing = first_missing(err.msg, ap);
    va_end(ap);
    if (missing) fail_msg("message \"%s\" lacks \"%s\"", err.msg, missing);
    assert_non_null(strstr(err.msg, path));
    assert_null(strchr(err.msg, '\n'));
}

static void test_hw_bad_profiles(void **state) {
    (void)state;
    char *base = read_text("hwprofiles/raspberry-pi-4.yml");
    /* the line of "dram_gbs: 12.8" in the shipped file */
    int line = 1;
    for (const char *q = base; q < strstr(base, "dram_gbs: 12.8"); q++) line += *q == '\n';
    char at[64];
    snprintf(at, sizeof at, ":%d: dram_gbs:", line);

    char *t = replace(base, "dram_gbs: 12.8\n", "");
    expect_bad_profile("missing.yml", t, "dram_gbs: missing", (const char *)NULL);
    free(t);
    t = replace(base, "dram_gbs: 12.8", "dram_gbs: 0");
    expect_bad_profile("zero.yml", t, at, "positive", (const char *)NULL);
    free(t);
    t = replace(base, "dram_gbs: 12.8", "dram_gbs: -3");
    expect_bad_profile("negative.yml", t, at, "positive", (const char *)NULL);
    free(t);
    t = replace(base, "dram_gbs: 12.8", "dram_gbs: fast");
    expect_bad_profile("nan.yml", t, at, "expected a number", "fast", (const char *)NULL);
    free(t);
    t = replace(base, "dram_gbs: 12.8", "dram_gbs: 12.8\ndram_bandwidth: 3");
    snprintf(at, sizeof at, ":%d: dram_bandwidth: unknown key", line + 1);
    expect_bad_profile("unknown.yml", t, at, (const char *)NULL);
    free(t);
    t = replace(base, "  idle_w: 1.6", "  idle_w: 1.6\n  standby_w: 0.1");
    expect_bad_profile("unknown_nested.yml", t, "power.standby_w: unknown key", (const char *)NULL);
    free(t);
    t = replace(base, "  gemm_efficiency: 0.7", "  gemm_efficiency: 1.5");
    expect_bad_profile("above.yml", t, "model.gemm_efficiency: must be at most 1", (const char *)NULL);
    free(t);
    t = replace(base, "dram_gbs: 12.8", "dram_gbs: [12.8");
    expect_bad_profile("syntax.yml", t, "YAML syntax error", (const char *)NULL);
    free(t);
    t = replace(base, "key: dram_gbs,", "key: l1d_kib,");
    expect_bad_profile("nosource.yml", t, "sources", (const char *)NULL);
    free(t);
    t = replace(base, "{key: dram_gbs, status: derived,", "{key: dram_gbs, status: guessed,");
    expect_bad_profile("status.yml", t, "sources", "guessed", (const char *)NULL);
    free(t);
    t = replace(base, "  - {key: dram_gbs,", "  - {key: dram_speed,");
    expect_bad_profile("sourcekey.yml", t, "sources", "dram_speed", (const char *)NULL);
    free(t);
    t = replace(base, "  gemm_tile_rows: 1", "  gemm_tile_rows: 3");
    expect_bad_profile("tile.yml", t, "model.gemm_tile_rows: must be a power of two", (const char *)NULL);
    free(t);
    t = replace(base, "  llc_share: 1", "  llc_share: 1.2");
    expect_bad_profile("share.yml", t, "model.llc_share: must be at most 1", (const char *)NULL);
    free(t);
    t = replace(base, "cores: 4", "cores: 4.5");
    expect_bad_profile("cores.yml", t, "cores: must be a whole number", (const char *)NULL);
    free(t);
    /* the optional stream curve */
    const char *src = "sources:\n  - {key: dram_stream, status: measured, source: \"test\"}\n";
    struct { const char *name, *curve, *want; } bad_curves[] = {
        {"s_dec.yml", "dram_stream:\n  row_bytes: [512, 1024]\n  ns_per_row: [50, 40]\n",
         "dram_stream: ns_per_row must not decrease (point 2: 40 after 50)"},
        {"s_order.yml", "dram_stream:\n  row_bytes: [1024, 512]\n  ns_per_row: [50, 60]\n",
         "row_bytes must increase"},
        {"s_len.yml", "dram_stream:\n  row_bytes: [512, 1024]\n  ns_per_row: [50]\n",
         "2 row_bytes but 1 ns_per_row"},
        {"s_nan.yml", "dram_stream:\n  row_bytes: [512, 1024]\n  ns_per_row: [50, x]\n",
         "dram_stream.ns_per_row: expected a number, got 'x'"},
        {"s_key.yml", "dram_stream:\n  row_bytes: [512, 1024]\n  ns: [50, 60]\n",
         "dram_stream: unknown key 'ns'"},
        {"s_zero.yml", "dram_stream:\n  row_bytes: [0, 1024]\n  ns_per_row: [50, 60]\n",
         "must be positive"},
        {"s_scale.yml", "dram_stream:\n  row_bytes: [512, 1024]\n  ns_per_row: [50, 60]\n"
                        "  scale: 3\n",
         ":4: dram_stream.scale: 3 is not in [0.5, 2]"},
        {"s_scale2.yml", "dram_stream:\n  row_bytes: [512, 1024]\n  ns_per_row: [50, 60]\n"
                         "  scale: fast\n",
         ":4: dram_stream.scale: expected a number, got 'fast'"},
        {"s_scale3.yml", "dram_stream:\n  scale: 1\n  row_bytes: [512, 1024]\n"
                         "  ns_per_row: [50, 60]\n  scale: 1.1\n",
         ":5: dram_stream: duplicate key 'scale'"},
    };
    for (size_t i = 0; i < sizeof bad_curves / sizeof bad_curves[0]; i++) {
        char *c1 = replace(base, "sources:\n", src);
        size_t n = strlen(c1) + strlen(bad_curves[i].curve) + 1;
        char *c2 = malloc(n);
        assert_non_null(c2);
        snprintf(c2, n, "%s%s", bad_curves[i].curve, c1);
        expect_bad_profile(bad_curves[i].name, c2, bad_curves[i].want, (const char *)NULL);
        free(c1);
        free(c2);
    }
    {   /* a curve needs its source */
        const char *curve = "dram_stream:\n  row_bytes: [512, 1024]\n  ns_per_row: [50, 60]\n";
        size_t n = strlen(base) + strlen(curve) + 1;
        char *c2 = malloc(n);
        assert_non_null(c2);
        snprintf(c2, n, "%s%s", curve, base);
        expect_bad_profile("s_src.yml", c2, ":2: dram_stream: no entry in 'sources'", (const char *)NULL);
        free(c2);
    }
    expect_bad_profile("empty.yml", "", "empty", (const char *)NULL);
    expect_bad_profile("list.yml", "- a\n- b\n", "mapping", (const char *)NULL);
    free(base);

    HwProfile p;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_profile_load("hwprofiles/no-such.yml", &p, &err), SIM_EINVAL);
    assert_msg_has(&err, "hwprofiles/no-such.yml", (const char *)NULL);
}

static void test_hw_find(void **state) {
    (void)state;
    char path[1024];
    SimError err;
    sim_error_init(&err);
    const char *home = getenv("LTSIM_HOME");
    char saved[512] = "";
    if (home) snprintf(saved, sizeof saved, "%s", home);
    unsetenv("LTSIM_HOME");
    assert_int_equal(hw_profile_find("cortex-a55", path, sizeof path, &err), SIM_OK);
    assert_non_null(strstr(path, "hwprofiles/cortex-a55.yml"));
    assert_int_equal(hw_profile_find("no-such-device", path, sizeof path, &err), SIM_EINVAL);
    assert_msg_has(&err, "no-such-device", "hw list", (const char *)NULL);
    /* $LTSIM_HOME first */
    char dir[512], file[600];
    snprintf(dir, sizeof dir, "%s/home", tu_tmpdir());
    mkdir(dir, 0777);
    snprintf(file, sizeof file, "%s/hwprofiles", dir);
    mkdir(file, 0777);
    snprintf(file, sizeof file, "%s/hwprofiles/cortex-a55.yml", dir);
    char *text = read_text("hwprofiles/cortex-a55.yml");
    write_text(file, text);
    free(text);
    setenv("LTSIM_HOME", dir, 1);
    sim_error_init(&err);
    assert_int_equal(hw_profile_find("cortex-a55", path, sizeof path, &err), SIM_OK);
    assert_string_equal(path, file);
    char d2[600];
    hw_profile_dir(d2, sizeof d2);
    assert_non_null(strstr(d2, "/home/hwprofiles"));
    if (saved[0]) setenv("LTSIM_HOME", saved, 1);
    else unsetenv("LTSIM_HOME");
}

/* ---- prediction ---- */

/* The Raspberry Pi 4 profile and the counted ledgers of Lite WMT 496 in mode with S and T
 * (free the ledger array and res). */
static const CostLedger **pi4_lite496(HwProfile *p, const char *mode, int S, int T,
                                      RunResult *res, int *nl) {
    load_shipped("raspberry-pi-4", p);
    ModelConfig cfg;
    tu_load_config("models/lite-wmt-496.yml", 0, &cfg);
    return count_run(&cfg, mode, S, T, 1, res, nl);
}

/* A decoder step whose weights stream from DRAM reads the key/value caches from DRAM too
 * (the weights streamed since the previous step pushed them out); an encoder pass reads its
 * attention inputs from the cache, and so does a step whose weights stay resident. */
static void test_hw_predict_kv_cache_dram(void **state) {
    (void)state;
    HwProfile p;
    RunResult res;
    int nl;
    const CostLedger **l = pi4_lite496(&p, "generate", 30, 8, &res, &nl);
    assert_true(nl >= 4);
    SimError err;
    sim_error_init(&err);
    HwPredictOptions cold = {0};
    HwPrediction pr;
    assert_int_equal(hw_predict(&p, l, nl, &cold, &pr, &err), SIM_OK);
    size_t i = 0;
    int enc = 0, dec = 0;
    for (int k = 0; k < nl; k++)
        for (size_t j = 0; j < cost_ledger_count(l[k]); j++, i++) {
            const LedgerEntry *e = cost_ledger_get(l[k], j);
            if (pr.ops[i].cls != HW_ATTENTION) continue;
            double rd = (double)e->cost.act_bytes_read;
            if (k == 0) { /* the encoder: well inside 1 MB of LLC */
                assert_true(pr.ops[i].dram_bytes < rd);
                enc++;
            } else if (k >= 2) { /* nothing of 60 MB of weights stays in 1 MB */
                assert_true(pr.ops[i].dram_bytes >= rd);
                dec++;
            }
        }
    assert_true(enc > 0 && dec > 0);
    double act = pr.act_dram_bytes, ms = pr.latency_ms;
    hw_prediction_free(&pr);
    /* an LLC that holds every step's weights keeps the caches too */
    HwProfile big = p;
    big.llc_kib = 1e6;
    assert_int_equal(hw_predict(&big, l, nl, &cold, &pr, &err), SIM_OK);
    i = 0;
    for (int k = 0; k < nl; k++)
        for (size_t j = 0; j < cost_ledger_count(l[k]); j++, i++)
            if (k >= 2 && pr.ops[i].cls == HW_ATTENTION) assert_true(pr.ops[i].dram_bytes == 0.0);
    assert_true(pr.act_dram_bytes < act);
    assert_true(pr.latency_ms < ms);
    hw_prediction_free(&pr);
    free(l);
    runner_result_free(&res);
}

static void test_hw_predict_consistent(void **state) {
    (void)state;
    HwProfile p;
    RunResult res;
    int nl;
    const CostLedger **l = pi4_lite496(&p, "forward", 30, 30, &res, &nl);
    HwPrediction pr;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_predict(&p, l, nl, NULL, &pr, &err), SIM_OK);
    assert_true(pr.latency_ms > 0 && pr.energy_mj > 0);
    assert_true(fabs(pr.latency_ms - predict(&p, l, nl, 0)) < 1e-9 * pr.latency_ms);
    assert_int_equal(pr.nops, cost_ledger_count(l[0]));
    assert_int_equal(pr.ntop, 3);
    assert_true(pr.top[0].latency_ms >= pr.top[1].latency_ms);
    assert_true(pr.top[1].latency_ms >= pr.top[2].latency_ms);
    /* the output projection is the largest single operator of this model */
    assert_non_null(strstr(pr.top[0].scope, "output_projection"));
    double sum = 0.0, esum = 0.0;
    for (size_t i = 0; i < pr.nops; i++) {
        sum += pr.ops[i].time_ms;
        esum += pr.ops[i].energy_mj;
        assert_true(pr.ops[i].time_ms >= pr.ops[i].overhead_ms);
    }
    assert_true(fabs(sum - pr.latency_ms) < 1e-9 * sum);
    assert_true(fabs(esum - pr.energy_mj) < 1e-6 * esum);
    assert_true(fabs(pr.step_ms[0] - pr.latency_ms) < 1e-9 * sum);
    double parts = pr.energy_mac_mj + pr.energy_dram_mj + pr.energy_sram_mj + pr.energy_static_mj;
    assert_true(fabs(parts - pr.energy_mj) < 1e-9 * parts);
    /* a cold forward pass reads every weight from DRAM once */
    OpCost tot = cost_ledger_total(l[0], NULL);
    assert_true(fabs(pr.weight_dram_bytes - (double)tot.weight_bytes) < 1.0);
    /* warm: weights far beyond the LLC (70 MB against 1 MB) are re-read in full; with an
     * LLC of 60 % of them part stays resident */
    HwPredictOptions warm = {1};
    HwPrediction pw;
    assert_int_equal(hw_predict(&p, l, nl, &warm, &pw, &err), SIM_OK);
    assert_true(pw.weight_dram_bytes <= pr.weight_dram_bytes);
    assert_true(pw.latency_ms <= pr.latency_ms);
    hw_prediction_free(&pw);
    HwProfile big = p;
    big.llc_kib = 0.6 * (double)tot.weight_bytes / 1024.0;
    assert_int_equal(hw_predict(&big, l, nl, &warm, &pw, &err), SIM_OK);
    assert_true(pw.weight_dram_bytes < 0.9 * pr.weight_dram_bytes);
    assert_true(pw.latency_ms <= pr.latency_ms); /* its GEMMs are compute-bound */
    hw_prediction_free(&pw);
    hw_prediction_free(&pr);
    assert_int_equal(hw_predict(&p, l, 0, NULL, &pr, &err), SIM_EINVAL);
    hw_prediction_free(&pr);
    free(l);
    runner_result_free(&res);
}

/* More MACs or more bytes never predict less time: a sweep of widths and lengths on every
 * profile, and each entry of a ledger doubled in turn. */
static void test_hw_monotone(void **state) {
    (void)state;
    HwProfile prof[NSHIPPED];
    for (int i = 0; i < NSHIPPED; i++) load_shipped(shipped[i], &prof[i]);
    for (int fam = 0; fam < 2; fam++) {
        double last[NSHIPPED][2];
        for (int d = 64; d <= 1024; d += 64) {
            char yaml[2048];
            if (fam == 0) transformer_yaml(yaml, sizeof yaml, d, 3, 8192);
            else lite_yaml(yaml, sizeof yaml, d, 3, 8192);
            ModelConfig cfg;
            cfg_from(yaml, &cfg);
            RunResult res;
            int nl;
            const CostLedger **l = count_run(&cfg, "forward", 30, 30, 1, &res, &nl);
            for (int i = 0; i < NSHIPPED; i++)
                for (int w = 0; w < 2; w++) {
                    double ms = predict(&prof[i], l, nl, w);
                    if (d > 64 && ms < last[i][w])
                        fail_msg("%s %s: d=%d predicts %g ms < %g at d=%d", shipped[i],
                                 fam ? "lite" : "transformer", d, ms, last[i][w], d - 64);
                    last[i][w] = ms;
                }
            free(l);
            runner_result_free(&res);
        }
    }
    /* lengths */
    {
        char yaml[2048];
        transformer_yaml(yaml, sizeof yaml, 256, 2, 8192);
        ModelConfig cfg;
        cfg_from(yaml, &cfg);
        double last[NSHIPPED] = {0};
        for (int T = 2; T <= 100; T += 7) {
            RunResult res;
            int nl;
            const CostLedger **l = count_run(&cfg, "forward", T, T, 1, &res, &nl);
            for (int i = 0; i < NSHIPPED; i++) {
                double ms = predict(&prof[i], l, nl, 0);
                if (T > 2 && ms < last[i]) fail_msg("%s: T=%d predicts less than T-7", shipped[i], T);
                last[i] = ms;
            }
            free(l);
            runner_result_free(&res);
        }
    }
    /* each entry of a ledger with its MACs, then its bytes, doubled */
    ModelConfig cfg;
    tu_load_config("models/lite-iwslt-160.yml", 0, &cfg);
    RunResult res;
    int nl;
    const CostLedger **l = count_run(&cfg, "forward", 20, 20, 1, &res, &nl);
    for (int i = 0; i < NSHIPPED; i++) {
        for (int w = 0; w < 2; w++) {
            double base = predict(&prof[i], l, 1, w);
            size_t n = cost_ledger_count(l[0]);
            for (size_t e = 0; e < n; e += 7) {
                for (int what = 0; what < 3; what++) {
                    SimError err;
                    sim_error_init(&err);
                    CostLedger *c = cost_ledger_open(&err);
                    for (size_t j = 0; j < n; j++) {
                        const LedgerEntry *x = cost_ledger_get(l[0], j);
                        OpCost oc = x->cost;
                        if (j == e) {
                            if (what == 0) oc.macs *= 2, oc.other_flops *= 2;
                            else if (what == 1) oc.act_bytes_read *= 2, oc.bytes_written *= 2;
                            else oc.weight_bytes *= 2;
                        }
                        assert_int_equal(cost_ledger_add(c, x->scope, x->op, x->cls, &oc, 0, &err),
                                         SIM_OK);
                        cost_ledger_set_dims(c, x->scope, x->op, x->dims);
                    }
                    const CostLedger *cl = c;
                    double ms = predict(&prof[i], &cl, 1, w);
                    if (ms < base * (1 - 1e-12))
                        fail_msg("%s: doubling %s of %s predicts less time", shipped[i],
                                 what == 0 ? "MACs" : what == 1 ? "activation bytes" : "weight bytes",
                                 cost_ledger_get(l[0], e)->scope);
                    cost_ledger_close(c);
                }
            }
        }
    }
    free(l);
    runner_result_free(&res);
}

/* A one-token decoder step is memory-bound on a phone core; a 30-token forward pass is not. */
static void test_hw_memory_bound_step(void **state) {
    (void)state;
    HwProfile p;
    load_shipped("snapdragon-855-prime", &p);
    ModelConfig cfg;
    tu_load_config("models/transformer-wmt-256.yml", 0, &cfg);
    RunResult res;
    int nl;
    const CostLedger **l = count_run(&cfg, "generate", 30, 12, 1, &res, &nl);
    assert_int_equal(nl, 13);
    HwPrediction pr;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_predict(&p, l, nl, NULL, &pr, &err), SIM_OK);
    assert_int_equal(pr.nsteps, 13);
    assert_true(pr.memory_bound);
    for (int k = 1; k < nl; k++) {
        double mem = 0, comp = 0;
        for (size_t i = 0; i < pr.nops; i++) {
            if (pr.ops[i].step != k) continue;
            if (pr.ops[i].memory_bound) mem += pr.ops[i].memory_ms;
            else comp += pr.ops[i].compute_ms;
        }
        if (!(mem > comp)) fail_msg("step %d: memory %g ms, compute %g ms", k, mem, comp);
    }
    /* steps after the first re-read what does not fit the LLC: no step is free */
    for (int k = 2; k < nl; k++) assert_true(pr.step_ms[k] > 0.5 * pr.step_ms[1]);
    hw_prediction_free(&pr);
    free(l);
    runner_result_free(&res);

    l = count_run(&cfg, "forward", 30, 30, 1, &res, &nl);
    assert_int_equal(hw_predict(&p, l, nl, NULL, &pr, &err), SIM_OK);
    assert_false(pr.memory_bound);
    hw_prediction_free(&pr);
    free(l);
    runner_result_free(&res);
}

/* ---- calibration from a CSV ---- */

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;
static double rng_uniform(void) {
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    z ^= z >> 31;
    return ((double)(z >> 11) + 0.5) / 9007199254740992.0;
}
static double rng_normal(void) {
    double u = rng_uniform(), v = rng_uniform();
    return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

typedef struct {
    const char *config;
    const char *mode;
    int S, T, beam;
} Row;

static const char *const csv_models[] = {"lite-wmt-200", "lite-iwslt-160", "transformer-wmt-128",
                                         "transformer-wmt-256", "lite-wmt-408", "transformer-base"};

/* Measured latencies of rows synthesised from truth (warm, as medians of repeats), with 3 %
 * Gaussian noise, written as a CSV. */
static void write_synthetic_csv(const char *path, const HwProfile *truth, const Row *rows, int n,
                                double noise) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "# synthetic measurements\nconfig,mode,src_len,tgt_len,beam,latency_ms\n");
    for (int i = 0; i < n; i++) {
        char cpath[512];
        if (strstr(rows[i].config, ".yml")) snprintf(cpath, sizeof cpath, "%s/%s", tu_tmpdir(), rows[i].config);
        else snprintf(cpath, sizeof cpath, "models/%s.yml", rows[i].config);
        ModelConfig cfg;
        tu_load_config(cpath, 0, &cfg);
        RunResult res;
        int nl;
        const CostLedger **l = count_run(&cfg, rows[i].mode, rows[i].S, rows[i].T, rows[i].beam,
                                         &res, &nl);
        double ms = predict(truth, l, nl, 1) * (1.0 + noise * rng_normal());
        fprintf(f, "%s,%s,%d,%d,%d,%.6f\n", rows[i].config, rows[i].mode, rows[i].S, rows[i].T,
                rows[i].beam, ms);
        free(l);
        runner_result_free(&res);
    }
    fclose(f);
}

static void test_hw_calibrate_csv_recovers(void **state) {
    (void)state;
    HwProfile truth, prior, fit;
    load_shipped("raspberry-pi-4", &prior);
    truth = prior;
    truth.model.gemm_efficiency = 0.55;
    truth.model.gemm_m_half = 6.0;
    /* a CSV fit keeps gemm_m_half_dram at its ratio to gemm_m_half (1 in the profile) */
    truth.model.gemm_m_half_dram = 6.0;
    truth.model.attention_efficiency = 0.25;
    truth.model.conv_efficiency = 0.06;
    truth.model.elementwise_efficiency = 0.011;
    /* a CSV fit keeps the profile's ratio of the exponential-type operators' efficiency */
    truth.model.transcendental_efficiency =
        0.011 * prior.model.transcendental_efficiency / prior.model.elementwise_efficiency;
    truth.model.dram_efficiency = 0.45;
    /* and dram_short_efficiency at its ratio to dram_efficiency */
    truth.model.dram_short_efficiency =
        0.45 * prior.model.dram_short_efficiency / prior.model.dram_efficiency;
    truth.model.overhead_us = 12.0;
    /* fitting rows: forward passes from 2 to 100 tokens (compute-bound products, and at 2-4
     * tokens memory-bound ones) and generate runs (one-token steps: memory-bound) of the
     * shipped models, plus two narrow configs whose time goes to attention and softmax
     * (long sequences) and to convolutions; they sit next to the CSV (relative paths) */
    char dir[256];
    snprintf(dir, sizeof dir, "%s", tu_tmpdir());
    char path[320];
    snprintf(path, sizeof path, "%s/narrow-attn.yml", dir);
    write_text(path, "arch: transformer\nencoder-embed-dim: 64\nencoder-ffn-embed-dim: 64\n"
                     "encoder-layers: 2\nencoder-attention-heads: 16\ndecoder-embed-dim: 64\n"
                     "decoder-ffn-embed-dim: 64\ndecoder-layers: 2\ndecoder-attention-heads: 16\n"
                     "share-all-embeddings: true\nvocab-size: 512\n");
    snprintf(path, sizeof path, "%s/wide-attn.yml", dir);
    write_text(path, "arch: transformer\nencoder-embed-dim: 256\nencoder-ffn-embed-dim: 64\n"
                     "encoder-layers: 2\nencoder-attention-heads: 1\ndecoder-embed-dim: 256\n"
                     "decoder-ffn-embed-dim: 64\ndecoder-layers: 2\ndecoder-attention-heads: 1\n"
                     "share-all-embeddings: true\nvocab-size: 512\n");
    snprintf(path, sizeof path, "%s/conv-heavy.yml", dir);
    write_text(path, "arch: transformer_multibranch_v2\nencoder-embed-dim: 64\n"
                     "encoder-ffn-embed-dim: 16\nencoder-layers: 6\ndecoder-embed-dim: 64\n"
                     "decoder-ffn-embed-dim: 16\ndecoder-layers: 1\n"
                     "encoder-branch-type: [attn:1:16:1, lightweight:127:48:4]\n"
                     "decoder-branch-type: [attn:1:16:1, lightweight:127:48:4]\n"
                     "encoder-glu: 0\ndecoder-glu: 0\nconv-linear: false\n"
                     "share-all-embeddings: true\nvocab-size: 512\n");
    Row rows[256];
    int n = 0;
    static const int lens[] = {2, 3, 5, 9, 16, 28, 50, 100};
    for (size_t m = 0; m < sizeof csv_models / sizeof csv_models[0]; m++) {
        for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++)
            rows[n++] = (Row){csv_models[m], "forward", lens[k], lens[(k + 3) % 8], 1};
        rows[n++] = (Row){csv_models[m], "generate", 20, 6, 1};
        rows[n++] = (Row){csv_models[m], "generate", 12, 4, 3};
    }
    for (int M = 4; M < 16; M++) {
        rows[n++] = (Row){"transformer-base", "forward", M, M, 1};
        rows[n++] = (Row){"transformer-wmt-320", "forward", M, 20 - M, 1};
        rows[n++] = (Row){"transformer-wmt-256", "forward", 19 - M, M, 1};
        rows[n++] = (Row){"conv-heavy.yml", "forward", 8 * M, 6 * M, 1};
    }
    for (int k = 0; k < 8; k++) {
        rows[n++] = (Row){"narrow-attn.yml", "forward", 100 * (k + 1), 100 * (k + 1), 1};
        rows[n++] = (Row){"wide-attn.yml", "forward", 300 + 100 * k, 1000 - 100 * k, 1};
        rows[n++] = (Row){"conv-heavy.yml", "forward", 24 * (k + 1), 24 * (k + 2), 1};
        /* short sequences of a narrow model: the per-call overheads dominate */
        rows[n++] = (Row){"narrow-attn.yml", "forward", 2 + k, 3 + k, 1};
        rows[n++] = (Row){"narrow-attn.yml", "generate", 2 + k, 2 + k % 3, 1};
    }
    char csv[256];
    snprintf(csv, sizeof csv, "%s/synthetic.csv", tu_tmpdir());
    write_synthetic_csv(csv, &truth, rows, n, 0.03);

    fit = prior;
    HwFitReport rep;
    SimError err;
    sim_error_init(&err);
    if (hw_calibrate_csv(&fit, csv, NULL, &rep, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_int_equal(rep.n, n);
    print_message("  %d rows, rms relative error %.2f%% -> %.2f%%\n", n, 100 * rep.rms_rel_err_before,
                  100 * rep.rms_rel_err_after);
    int identified = 0;
    for (int k = 0; k < HW_PARAM_COUNT; k++) {
        double want = hw_param_get(&truth.model, (HwParam)k);
        double got = hw_param_get(&fit.model, (HwParam)k);
        print_message("  %-30s truth %-8.4g fitted %-8.4g prior %-8.4g se %.2f%% %s\n",
                      hw_param_key((HwParam)k), want, got, hw_param_get(&prior.model, (HwParam)k),
                      100 * rep.rel_se[k], rep.identified[k] ? "identified" : "kept");
        if (!rep.identified[k]) continue;
        identified++;
        assert_int_equal(hw_profile_source(&fit, hw_param_key((HwParam)k))->status, HW_SRC_FITTED);
    }
    for (int k = 0; k < HW_PARAM_COUNT; k++) {
        double want = hw_param_get(&truth.model, (HwParam)k);
        double got = hw_param_get(&fit.model, (HwParam)k);
        if (rep.identified[k] && fabs(got - want) > 0.05 * want)
            fail_msg("%s: fitted %g, truth %g", hw_param_key((HwParam)k), got, want);
    }
    /* these rows were chosen to pin every basic parameter down; the others (fitted only with
     * fit_all, from per-class times) keep the profile's values */
    assert_int_equal(identified, HW_P_GEMM_K_HALF);
    for (int k = HW_P_GEMM_K_HALF; k < HW_PARAM_COUNT; k++)
        if (k != HW_P_TRANS_EFF && k != HW_P_GEMM_M_HALF_DRAM && k != HW_P_DRAM_SHORT_EFF)
            assert_true(hw_param_get(&fit.model, (HwParam)k) == hw_param_get(&prior.model, (HwParam)k));
    /* gemm_m_half_dram moves with gemm_m_half: the profile's ratio kept */
    assert_true(fabs(fit.model.gemm_m_half_dram / fit.model.gemm_m_half -
                     prior.model.gemm_m_half_dram / prior.model.gemm_m_half) < 1e-9);
    /* transcendental_efficiency moves with elementwise_efficiency: the profile's ratio kept */
    assert_true(fabs(fit.model.transcendental_efficiency / fit.model.elementwise_efficiency -
                     prior.model.transcendental_efficiency / prior.model.elementwise_efficiency) <
                1e-9);
    assert_int_equal(hw_profile_source(&fit, "model.transcendental_efficiency")->status,
                     HW_SRC_FITTED);
    /* dram_short_efficiency moves with dram_efficiency */
    assert_true(fabs(fit.model.dram_short_efficiency / fit.model.dram_efficiency -
                     prior.model.dram_short_efficiency / prior.model.dram_efficiency) < 1e-9);
    assert_int_equal(hw_profile_source(&fit, "model.dram_short_efficiency")->status,
                     HW_SRC_FITTED);
    assert_true(rep.rms_rel_err_after < 0.04);
    assert_true(rep.rms_rel_err_after < rep.rms_rel_err_before);

    /* held out: other lengths and models, within 5 % of the noise-free truth */
    static const Row held[] = {
        {"lite-wmt-496", "forward", 30, 30, 1},        {"lite-iwslt-320", "forward", 12, 40, 1},
        {"transformer-wmt-320", "forward", 70, 20, 1}, {"lite-cnndm-496", "forward", 7, 7, 1},
        {"lite-iwslt-240", "generate", 25, 8, 1},      {"transformer-wmt-320", "generate", 10, 5, 2},
    };
    for (size_t i = 0; i < sizeof held / sizeof held[0]; i++) {
        char cpath[256];
        snprintf(cpath, sizeof cpath, "models/%s.yml", held[i].config);
        ModelConfig cfg;
        tu_load_config(cpath, 0, &cfg);
        RunResult res;
        int nl;
        const CostLedger **l = count_run(&cfg, held[i].mode, held[i].S, held[i].T, held[i].beam,
                                         &res, &nl);
        double t = predict(&truth, l, nl, 1), f = predict(&fit, l, nl, 1);
        if (fabs(f - t) > 0.05 * t)
            fail_msg("held-out %s %s: fitted %g ms, truth %g ms", held[i].config, held[i].mode, f, t);
        free(l);
        runner_result_free(&res);
    }

    /* validate against the same CSV */
    HwValidation v;
    assert_int_equal(hw_validate_csv(&fit, csv, NULL, &v, &err), SIM_OK);
    assert_int_equal(v.n, n);
    assert_true(v.within_10 >= 0.95);
    assert_true(v.median_abs_err < 0.04);
    hw_validation_free(&v);
}


/* The generate search is charged per logit of each decoder step, and grows with the vocabulary. */
static void test_hw_search_term(void **state) {
    (void)state;
    HwProfile p;
    load_shipped("raspberry-pi-5", &p);
    double last = 0.0;
    for (int V = 4096; V <= 32768; V *= 2) {
        char yaml[2048];
        transformer_yaml(yaml, sizeof yaml, 128, 2, V);
        ModelConfig cfg;
        cfg_from(yaml, &cfg);
        RunResult res;
        int nl;
        const CostLedger **l = count_run(&cfg, "generate", 10, 6, 2, &res, &nl);
        HwPrediction pr;
        SimError err;
        sim_error_init(&err);
        assert_int_equal(hw_predict(&p, l, nl, NULL, &pr, &err), SIM_OK);
        /* 6 steps of beam 2 over V logits (the first step also runs both rows) */
        double want = 6.0 * 2.0 * V * p.model.search_ns * 1e-6;
        assert_true(fabs(pr.search_ms - want) <= 1e-9 * want);
        double sum = 0.0;
        for (size_t i = 0; i < pr.nops; i++) sum += pr.ops[i].time_ms;
        assert_true(fabs(pr.latency_ms - (sum + pr.search_ms)) <= 1e-9 * pr.latency_ms);
        assert_true(fabs(pr.latency_ms - predict(&p, l, nl, 0)) <= 1e-9 * pr.latency_ms);
        assert_true(pr.latency_ms > last);
        last = pr.latency_ms;
        hw_prediction_free(&pr);
        /* a forward pass has no search */
        free(l);
        runner_result_free(&res);
        l = count_run(&cfg, "forward", 10, 6, 1, &res, &nl);
        assert_int_equal(hw_predict(&p, l, nl, NULL, &pr, &err), SIM_OK);
        assert_true(pr.search_ms == 0.0);
        hw_prediction_free(&pr);
        free(l);
        runner_result_free(&res);
    }
}

/* With fit_all (the host's fit), whole-run and per-class samples synthesised from known
 * parameters give back every parameter, the new ones included (gemm_k_half, cache_gbs,
 * loop/head overheads, search, the GEMM remainder passes). */
static void test_hw_fit_all_recovers(void **state) {
    (void)state;
    HwProfile truth, fit;
    load_shipped("raspberry-pi-5", &truth);
    HwModelParams *t = &truth.model;
    t->gemm_efficiency = 0.6;
    t->gemm_m_half = 20;
    t->gemm_m_half_dram = 30;
    t->gemm_k_half = 100;
    t->attention_efficiency = 0.3;
    t->conv_efficiency = 0.08;
    t->elementwise_efficiency = 0.02;
    t->dram_efficiency = 0.5;
    t->cache_gbs = 40;
    t->overhead_us = 1.5;
    t->loop_overhead_us = 0.2;
    t->head_overhead_us = 0.6;
    t->search_ns = 12;
    t->transcendental_efficiency = 0.004;
    t->gemm_tile_rows = 4; /* not fitted: the prior below has the same tile */
    t->gemm_remainder_rows = 5;
    t->dram_row_ns = 40;
    t->llc_gbs = 60;
    t->dispatch_us = 1.0;
    t->dram_short_efficiency = 0.35;
    t->dram_short_row_ns = 25;
    t->gemv_reuse_gbs = 150;
    t->gemv_reuse_dram_gbs = 40;
    truth.llc_kib = 8192; /* the small models' steps stay resident (llc_gbs), the others not */
    enum { NCFG = 28 };
    RunResult res[NCFG];
    const CostLedger **lp[NCFG];
    int nl[NCFG];
    HwSample smp[NCFG * (5 + HW_CLASS_COUNT)];
    int n = 0;
    for (int c = 0; c < NCFG; c++) {
        char yaml[2048];
        /* the last four: generate with narrow rows and a large vocabulary (short rows from
         * DRAM) */
        int d = c < 24 ? 64 + 64 * (c % 8) : 96 + 32 * (c - 24), gen = c >= 12;
        int vocab = c < 24 ? 2048 << (c % 3) : 32768;
        if (c % 2 == 0) transformer_yaml(yaml, sizeof yaml, d, 2, vocab);
        else lite_yaml(yaml, sizeof yaml, d, 2, vocab);
        ModelConfig cfg;
        cfg_from(yaml, &cfg);
        int S = 4 + 9 * (c % 5), T = gen ? 3 + c % 4 : S + 3;
        lp[c] = count_run(&cfg, gen ? "generate" : "forward", S, T, gen ? 1 + c % 3 : 1, &res[c],
                          &nl[c]);
        /* the samples of a host calibration: k = -1 the whole run; the classes' kernel times
         * (without dispatch_us), with the products split into the blocked ones (k = HW_GEMM)
         * and the matrix-vector ones with short (KS) and long (KL) rows, the elementwise
         * operators into the exponential-type ones (KT) and the others; the search (KQ) */
        enum { KS = HW_CLASS_COUNT, KL, KT, KQ };
        HwPrediction pr;
        SimError perr;
        sim_error_init(&perr);
        HwPredictOptions po = {1};
        assert_int_equal(hw_predict(&truth, lp[c], nl[c], &po, &pr, &perr), SIM_OK);
        for (int k = -1; k <= KQ; k++) {
            HwSample *s = &smp[n];
            memset(s, 0, sizeof *s);
            s->ledgers = lp[c];
            s->nledgers = nl[c];
            s->entry = -1;
            s->by_class = k >= 0 && k != KQ;
            s->search_only = k == KQ;
            s->cls = k >= 0 && k < HW_CLASS_COUNT ? (HwClass)k
                     : k == KT                     ? HW_ELEMENTWISE
                                                   : HW_GEMM;
            s->gemm_rows = k == KS ? 3 : k == KL ? 4 : k == HW_GEMM ? 2 : 0;
            s->elem_kind = k == KT ? 1 : k == HW_ELEMENTWISE ? 2 : 0;
            double ms = 0.0;
            if (k < 0) ms = pr.latency_ms;
            else if (k == KQ) ms = pr.search_ms;
            else {
                size_t i = 0; /* pr.ops are the entries, ledger after ledger */
                for (int l = 0; l < nl[c]; l++)
                    for (size_t j = 0; j < cost_ledger_count(lp[c][l]); j++, i++) {
                        const LedgerEntry *e = cost_ledger_get(lp[c][l], j);
                        const HwOpPrediction *op = &pr.ops[i];
                        if (op->cls != s->cls) continue;
                        if (s->elem_kind && (s->elem_kind == 1) != hw_op_transcendental(op->op))
                            continue;
                        if (s->gemm_rows && (s->gemm_rows != 2) != hw_gemv(e)) continue;
                        if (s->gemm_rows >= 3 && (s->gemm_rows == 3) != hw_short_rows(e))
                            continue;
                        ms += op->time_ms - (double)e->calls * t->dispatch_us * 1e-3;
                    }
            }
            if (!(ms > 0)) continue;
            s->measured_ms = ms * (1.0 + 0.003 * rng_normal());
            n++;
        }
        hw_prediction_free(&pr);
    }
    HwProfile prior;
    load_shipped("raspberry-pi-5", &prior);
    prior.model.gemm_tile_rows = 4;
    prior.llc_kib = truth.llc_kib;
    /* the host calibration's priors for what device profiles leave as placeholders */
    prior.model.dram_row_ns = 20;
    prior.model.llc_gbs = 50;
    prior.model.dispatch_us = 0.2;
    prior.model.dram_short_row_ns = 20;
    prior.model.gemv_reuse_gbs = 100;
    prior.model.gemv_reuse_dram_gbs = 100;
    fit = prior;
    HwFitOptions fo = {0};
    fo.warm = 1;
    fo.fit_all = 1;
    fo.identify_se = 0.05;
    HwFitReport rep;
    SimError err;
    sim_error_init(&err);
    if (hw_fit(&fit, smp, n, &fo, &rep, &err) != SIM_OK) fail_msg("%s", err.msg);
    int nid = 0, bad = 0;
    print_message("  %d samples, rms relative error %.2f%% -> %.2f%%\n", n,
                  100 * rep.rms_rel_err_before, 100 * rep.rms_rel_err_after);
    for (int k = 0; k < HW_PARAM_COUNT; k++) {
        double want = hw_param_get(t, (HwParam)k), got = hw_param_get(&fit.model, (HwParam)k);
        print_message("  %-30s truth %-8.4g fitted %-8.4g se %.2f%% %s\n", hw_param_key((HwParam)k),
                      want, got, 100 * rep.rel_se[k], rep.identified[k] ? "identified" : "kept");
        /* within 5 %, or within three of its standard errors when those are wider (the
         * noise of the samples alone moves dram_row_ns, se near 3 %, by about 5 %) */
        if (rep.identified[k] && fabs(got - want) > fmax(0.05, 3.0 * rep.rel_se[k]) * want) {
            print_message("  %s: fitted %g, truth %g\n", hw_param_key((HwParam)k), got, want);
            bad++;
        }
        nid += rep.identified[k];
        /* every new parameter is pinned down by the per-class samples (but the stream
         * curve's scale: this profile has no curve) */
        if (k >= HW_P_GEMM_K_HALF && k != HW_P_STREAM_SCALE && !rep.identified[k]) {
            print_message("  %s: not identified (se %g)\n", hw_param_key((HwParam)k), rep.rel_se[k]);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
    assert_false(rep.identified[HW_P_STREAM_SCALE]);
    assert_true(nid >= HW_PARAM_COUNT - 2);
    assert_true(rep.rms_rel_err_after < 0.02);
    /* a held parameter keeps the profile's value (the host measures dispatch_us instead of
     * fitting it); the others still come back */
    HwProfile held = prior;
    held.model.dispatch_us = t->dispatch_us;
    fo.hold[HW_P_DISPATCH] = 1;
    if (hw_fit(&held, smp, n, &fo, &rep, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_true(held.model.dispatch_us == t->dispatch_us);
    assert_false(rep.identified[HW_P_DISPATCH]);
    assert_true(fabs(held.model.gemm_efficiency - t->gemm_efficiency) < 0.05 * t->gemm_efficiency);
    assert_true(rep.rms_rel_err_after < 0.02);
    for (int c = 0; c < NCFG; c++) {
        free(lp[c]);
        runner_result_free(&res[c]);
    }
}

/* A ledger of one matrix product y (M x N) = x (M x K) w (N x K)^T, `calls` calls. */
static CostLedger *linear_ledger(int64_t M, int64_t N, int64_t K, uint64_t calls) {
    SimError err;
    sim_error_init(&err);
    CostLedger *l = cost_ledger_open(&err);
    assert_non_null(l);
    OpCost c = {0};
    c.macs = (uint64_t)(M * N * K) * calls;
    c.weight_bytes = (uint64_t)(4 * N * K) * calls;
    c.act_bytes_read = (uint64_t)(4 * M * K) * calls;
    c.bytes_written = (uint64_t)(4 * M * N) * calls;
    assert_int_equal(cost_ledger_add(l, "decoder.layers.0.fc1", OP_LINEAR, CLASS_FFN, &c, 0, &err),
                     SIM_OK);
    for (uint64_t i = 1; i < calls; i++) { /* the same entry called again */
        OpCost z = {0};
        assert_int_equal(
            cost_ledger_add(l, "decoder.layers.0.fc1", OP_LINEAR, CLASS_FFN, &z, 0, &err), SIM_OK);
    }
    int64_t dims[3] = {M, N, K};
    cost_ledger_set_dims(l, "decoder.layers.0.fc1", OP_LINEAR, dims);
    return l;
}

static double linear_ms(const HwProfile *p, int64_t M, int64_t N, int64_t K, int warm) {
    CostLedger *l = linear_ledger(M, N, K, 1);
    const CostLedger *lp[1] = {l};
    double ms = predict(p, lp, 1, warm);
    cost_ledger_close(l);
    return ms;
}

/* A blocked GEMM kernel does M in passes of gemm_tile_rows and the remainder in passes of
 * halving size: with tile 4 a product of 11 rows (8 + 2 + 1) costs more than one of 12 and
 * 9 and 10 rows one remainder pass each (up to 4 rows are matrix-vector products); with
 * tile 1 (the device profiles) more rows never cost less. */
static void test_hw_gemm_remainder(void **state) {
    (void)state;
    HwProfile p;
    load_shipped("raspberry-pi-5", &p);
    assert_int_equal((int)p.model.gemm_tile_rows, 1);
    for (int64_t M = 1; M < 40; M++) /* across the matrix-vector products (M <= 4) too */
        if (!(linear_ms(&p, M + 1, 512, 512, 1) >= linear_ms(&p, M, 512, 512, 1)))
            fail_msg("M %d: %g ms < %g ms at M %d", (int)M + 1, linear_ms(&p, M + 1, 512, 512, 1),
                     linear_ms(&p, M, 512, 512, 1), (int)M);
    p.model.gemm_tile_rows = 4;
    p.model.gemm_remainder_rows = 5;
    double t8 = linear_ms(&p, 8, 512, 512, 1), t9 = linear_ms(&p, 9, 512, 512, 1),
           t10 = linear_ms(&p, 10, 512, 512, 1), t11 = linear_ms(&p, 11, 512, 512, 1),
           t12 = linear_ms(&p, 12, 512, 512, 1);
    assert_true(t11 > t12);
    assert_true(t9 > t8 && t10 > t9 && t11 > t10);
    /* the remainder term is gemm_remainder_rows rows of packed-weight work per pass: with
     * row the cost of one more row (its K term included) and unit the cost of one row of
     * packed work, t(11) - t(12) = 2 * 5 units - 1 row and t(9) - t(8) = 1 row + 5 units */
    double row = (t12 - t8) / 4.0; /* no remainder on either side */
    double unit = row / (1.0 + p.model.gemm_k_half / 512.0);
    assert_true(fabs((t11 - t12) - (2 * 5 * unit - row)) < 1e-9 + 1e-6 * t12);
    assert_true(fabs((t9 - t8) - (row + 5 * unit)) < 1e-9 + 1e-6 * t12);
    /* matrix-vector products (M = 1) have no passes */
    p.model.gemm_remainder_rows = 50;
    double g1 = linear_ms(&p, 1, 512, 512, 1);
    p.model.gemm_remainder_rows = 5;
    assert_true(fabs(g1 - linear_ms(&p, 1, 512, 512, 1)) < 1e-12);
}

/* A matrix-vector product reading its weights from DRAM pays dram_row_ns per row; resident
 * weights (they fit llc_share of the LLC) do not. */
static void test_hw_dram_rows(void **state) {
    (void)state;
    HwProfile p;
    load_shipped("raspberry-pi-5", &p);
    int64_t N = 8192, K = 1024; /* 32 MiB of weights: beyond the LLC */
    assert_true(4.0 * N * K > p.llc_kib * 1024.0);
    p.model.llc_retention = 0.05;
    double base = linear_ms(&p, 1, N, K, 1);
    p.model.dram_row_ns = 60.001;
    double with = linear_ms(&p, 1, N, K, 1);
    double cap = p.model.llc_share * p.llc_kib * 1024.0, w = 4.0 * N * K;
    double res = fmax(0.0, 1.0 - (w - cap) / (p.model.llc_retention * cap)) * cap / w;
    assert_true(fabs((with - base) - N * (1.0 - res) * 60.0 * 1e-6) < 1e-6 * with);
    /* small weights within the LLC: resident, no row cost; with llc_share too small to hold
     * them they stream from DRAM again */
    int64_t n2 = 256, k2 = 256;
    double r1 = linear_ms(&p, 1, n2, k2, 1);
    p.model.dram_row_ns = 0.001;
    assert_true(fabs(r1 - linear_ms(&p, 1, n2, k2, 1)) < 1e-12);
    p.model.llc_share = (4.0 * n2 * k2) / (2.0 * p.llc_kib * 1024.0);
    assert_true(linear_ms(&p, 1, n2, k2, 1) > r1);
}

/* The Raspberry Pi 5 profile with a cache that keeps nothing: every product streams its
 * weights from DRAM. */
static void load_dram_only(HwProfile *p) {
    load_shipped("raspberry-pi-5", p);
    p->model.llc_share = 1e-3;
    p->model.llc_retention = 0.05;
}

/* Matrix-vector products whose weight rows are shorter than a page read their DRAM weights
 * at dram_short_efficiency and pay dram_short_row_ns per row; rows of a page or more, and
 * resident weights, do not; blocked products (M > OPS_GEMV_ROWS) keep dram_row_ns. */
static void test_hw_short_rows(void **state) {
    (void)state;
    HwProfile p;
    load_dram_only(&p);
    int64_t N = 4096;
    for (int pass = 0; pass < 2; pass++) {
        int64_t K = pass == 0 ? 512 : 1024; /* 2 KiB rows (short), 4 KiB rows (long) */
        CostLedger *l = linear_ledger(1, N, K, 1);
        assert_int_equal(hw_short_rows(cost_ledger_get(l, 0)), K * 4 < 4096);
        cost_ledger_close(l);
        p.model.dram_short_efficiency = p.model.dram_efficiency;
        p.model.dram_short_row_ns = p.model.dram_row_ns;
        double base = linear_ms(&p, 1, N, K, 1),
               blocked = linear_ms(&p, OPS_GEMV_ROWS + 1, N, K, 1);
        p.model.dram_short_efficiency = p.model.dram_efficiency / 2.0;
        p.model.dram_short_row_ns = p.model.dram_row_ns + 50.0;
        double slow = linear_ms(&p, 1, N, K, 1);
        if (K * 4 < 4096) { /* twice the weight time, 50 ns more per row */
            double wt = 4.0 * N * K / (p.dram_gbs * 1e6 * p.model.dram_efficiency);
            assert_true(fabs((slow - base) - (wt + N * 50.0 * 1e-6)) < 1e-6 * slow);
        } else {
            assert_true(fabs(slow - base) < 1e-12);
        }
        assert_true(fabs(linear_ms(&p, OPS_GEMV_ROWS + 1, N, K, 1) - blocked) < 1e-12);
    }
    /* resident weights: no DRAM terms */
    p.model.llc_share = 1.0;
    double r0 = linear_ms(&p, 1, 256, 256, 1);
    p.model.dram_short_row_ns = 1e5;
    p.model.dram_short_efficiency = 1e-3;
    assert_true(fabs(linear_ms(&p, 1, 256, 256, 1) - r0) < 1e-12);
}

/* With a measured stream curve, a matrix-vector product's DRAM weights cost rows times the
 * curve's ns per row at their row length (linear between points, at the nearest point's rate
 * beyond them), whatever the dram_* terms say; resident weights and blocked products do not
 * use it (blocked products keep the dram_* terms); a curve with a step (1 KiB rows as slow as 1.125 KiB ones) still never predicts less
 * for wider rows. */
static void test_hw_stream_curve(void **state) {
    (void)state;
    HwProfile p;
    {   /* a calibrated profile with its curve loads, and the curve never falls */
        SimError err;
        sim_error_init(&err);
        if (hw_profile_load("tests/fixtures/stream_profile.yml", &p, &err) != SIM_OK)
            fail_msg("%s", err.msg);
        assert_true(p.nstream >= 20);
        for (double b = 64; b < 20000; b += 64)
            assert_true(hw_stream_row_ns(&p, b + 64) >= hw_stream_row_ns(&p, b));
    }
    load_dram_only(&p);
    assert_true(hw_stream_row_ns(&p, 1024) == 0.0);
    int64_t N = 8192;
    double rb[4] = {512, 1024, 1152, 4096}, rn[4] = {40, 100, 100, 250};
    p.nstream = 4;
    memcpy(p.stream_row_bytes, rb, sizeof rb);
    memcpy(p.stream_row_ns, rn, sizeof rn);
    assert_true(fabs(hw_stream_row_ns(&p, 256) - 20.0) < 1e-12);   /* below: 40 ns per 512 B */
    assert_true(fabs(hw_stream_row_ns(&p, 768) - 70.0) < 1e-12);   /* between */
    assert_true(fabs(hw_stream_row_ns(&p, 1024) - 100.0) < 1e-12);
    assert_true(fabs(hw_stream_row_ns(&p, 8192) - 500.0) < 1e-12); /* beyond: 250 per 4 KiB */
    for (int64_t K = 64; K <= 2048; K += 32) {
        CostLedger *l = linear_ledger(1, N, K, 1);
        const CostLedger *lp[1] = {l};
        HwPrediction pr;
        SimError err;
        sim_error_init(&err);
        assert_int_equal(hw_predict(&p, lp, 1, NULL, &pr, &err), SIM_OK);
        double act = 4.0 * (N + K) / (p.model.cache_gbs * 1e6);
        double want = N * hw_stream_row_ns(&p, 4.0 * K) * 1e-6 + act;
        if (fabs(pr.ops[0].memory_ms - want) > 1e-9 * want)
            fail_msg("K %d: memory %.9g ms, want %.9g", (int)K, pr.ops[0].memory_ms, want);
        assert_true(pr.ops[0].memory_bound);
        hw_prediction_free(&pr);
        cost_ledger_close(l);
        if (K > 64)
            assert_true(linear_ms(&p, 1, N, K, 1) >= linear_ms(&p, 1, N, K - 32, 1));
    }
    {   /* the curve's scale multiplies the DRAM weights' part and nothing else */
        double base = linear_ms(&p, 1, N, 512, 1), wpart = N * hw_stream_row_ns(&p, 2048.0) * 1e-6;
        p.model.stream_scale = 1.25;
        double scaled = linear_ms(&p, 1, N, 512, 1);
        if (fabs(scaled - base - 0.25 * wpart * p.model.outside_factor) > 1e-9 * scaled)
            fail_msg("scale 1.25: %.9g ms from %.9g, weights %.9g", scaled, base, wpart);
        p.model.stream_scale = 0.0; /* unset: 1 */
        assert_true(fabs(linear_ms(&p, 1, N, 512, 1) - base) < 1e-12 * base);
    }
    /* the dram_* terms no longer matter for such products; blocked products keep them */
    double c = linear_ms(&p, 1, N, 256, 1);
    p.model.dram_short_efficiency /= 2.0;
    p.model.dram_short_row_ns *= 3.0;
    p.model.dram_row_ns *= 3.0;
    assert_true(fabs(linear_ms(&p, 1, N, 256, 1) - c) < 1e-12);
    double b2 = linear_ms(&p, OPS_GEMV_ROWS + 1, N, 256, 1);
    p.nstream = 0;
    assert_true(fabs(linear_ms(&p, OPS_GEMV_ROWS + 1, N, 256, 1) - b2) < 1e-12);
    assert_true(linear_ms(&p, 1, N, 256, 1) != c);
    p.nstream = 4;
    /* resident weights do not read DRAM */
    p.model.llc_share = 1.0;
    p.model.llc_retention = 1.0;
    double r0 = linear_ms(&p, 1, 256, 256, 1);
    p.stream_row_ns[0] = p.stream_row_ns[1] = p.stream_row_ns[2] = 1e4;
    p.stream_row_ns[3] = 2e4;
    assert_true(fabs(linear_ms(&p, 1, 256, 256, 1) - r0) < 1e-12);
}

/* Products of 2..OPS_GEMV_ROWS rows run as one matrix-vector product per row over blocks of
 * weight rows: their time is a one-row product's plus the re-reads of the other rows (the
 * second row's of weights from DRAM at gemv_reuse_dram_gbs, the rest at gemv_reuse_gbs) and
 * the extra activation bytes, always memory-bound; more rows never predict less time. */
static void test_hw_gemv_rows(void **state) {
    (void)state;
    HwProfile p;
    load_dram_only(&p);
    p.model.gemv_reuse_gbs = 70.0;
    p.model.gemv_reuse_dram_gbs = 50.0;
    const int64_t N = 3000, K = 768; /* 9.2 MB */
    assert_int_equal(ops_gemv_block_rows(K), 512 * 1024 / (4 * K));
    double one = linear_ms(&p, 1, N, K, 1), prev = one;
    for (int64_t M = 2; M <= OPS_GEMV_ROWS; M++) {
        CostLedger *l = linear_ledger(M, N, K, 1);
        assert_true(hw_gemv(cost_ledger_get(l, 0)));
        const CostLedger *lp[1] = {l};
        HwPrediction pr;
        SimError err;
        sim_error_init(&err);
        assert_int_equal(hw_predict(&p, lp, 1, NULL, &pr, &err), SIM_OK);
        assert_true(pr.ops[0].memory_bound && pr.memory_bound);
        double ms = pr.latency_ms;
        hw_prediction_free(&pr);
        cost_ledger_close(l);
        double wb = 4.0 * N * K; /* all from DRAM */
        double want = one + wb / (p.model.gemv_reuse_dram_gbs * 1e6) +
                      (double)(M - 2) * wb / (p.model.gemv_reuse_gbs * 1e6) +
                      (double)(M - 1) * 4.0 * (N + K) / (p.model.cache_gbs * 1e6);
        if (fabs(ms - want) > 1e-9 * want) fail_msg("M %d: %.9g ms, want %.9g", (int)M, ms, want);
        assert_true(ms > prev);
        prev = ms;
    }
    /* a faster re-read, a faster product; one row never re-reads */
    double m2 = linear_ms(&p, 2, N, K, 1), m4 = linear_ms(&p, OPS_GEMV_ROWS, N, K, 1);
    p.model.gemv_reuse_gbs = 500.0; /* rows 3..M of weights from DRAM */
    assert_true(fabs(linear_ms(&p, 2, N, K, 1) - m2) < 1e-12 * m2);
    assert_true(linear_ms(&p, OPS_GEMV_ROWS, N, K, 1) < m4);
    m4 = linear_ms(&p, OPS_GEMV_ROWS, N, K, 1);
    p.model.gemv_reuse_dram_gbs = 500.0; /* the second row's */
    assert_true(linear_ms(&p, 2, N, K, 1) < m2);
    assert_true(linear_ms(&p, OPS_GEMV_ROWS, N, K, 1) < m4);
    {   /* weights resident in the LLC: their re-reads at gemv_reuse_gbs */
        HwProfile q = p;
        q.llc_kib = 1e6;
        q.model.llc_share = 1.0;
        double fast = linear_ms(&q, OPS_GEMV_ROWS, N, K, 1);
        q.model.gemv_reuse_dram_gbs = 5.0;
        assert_true(fabs(linear_ms(&q, OPS_GEMV_ROWS, N, K, 1) - fast) < 1e-12 * fast);
        q.model.gemv_reuse_gbs = 5.0;
        assert_true(linear_ms(&q, OPS_GEMV_ROWS, N, K, 1) > fast);
    }
    assert_true(fabs(linear_ms(&p, 1, N, K, 1) - one) < 1e-12);
    /* more rows are a blocked GEMM (compute term, packing) */
    CostLedger *l = linear_ledger(OPS_GEMV_ROWS + 1, N, K, 1);
    assert_false(hw_gemv(cost_ledger_get(l, 0)));
    cost_ledger_close(l);
}

/* One convolution entry of `rows` output rows, C channels, KW taps: a standard convolution
 * (OP_CONV1D, weights KW*C x C, dims rows x C x KW*C) or a depthwise one (weights KW x C). */
static CostLedger *conv_ledger(int op, int64_t rows, int64_t C, int64_t KW) {
    SimError err;
    sim_error_init(&err);
    CostLedger *l = cost_ledger_open(&err);
    assert_non_null(l);
    OpCost c = {0};
    int64_t k = op == OP_CONV1D ? KW * C : KW;
    c.macs = (uint64_t)(rows * C * k);
    c.weight_bytes = (uint64_t)(4 * C * k);
    c.act_bytes_read = (uint64_t)(4 * (rows + KW - 1) * C);
    c.bytes_written = (uint64_t)(4 * rows * C);
    assert_int_equal(cost_ledger_add(l, "encoder.layer_0.conv", op, CLASS_CONVOLUTION, &c, 0, &err),
                     SIM_OK);
    int64_t dims[3] = {rows, C, op == OP_CONV1D ? k : KW};
    cost_ledger_set_dims(l, "encoder.layer_0.conv", op, dims);
    return l;
}

/* The standard convolution runs as one sgemm per filter tap: a GEMM of the latency model
 * (gemm_efficiency, never the matrix-vector path, even for one row); the depthwise,
 * dynamic and lightweight ones are loops (conv_efficiency). */
static void test_hw_conv_classes(void **state) {
    (void)state;
    assert_int_equal(hw_op_class(OP_CONV1D), HW_GEMM);
    assert_int_equal(hw_op_class(OP_CONV_DEPTHWISE), HW_CONV);
    assert_int_equal(hw_op_class(OP_CONV_DYNAMIC), HW_CONV);
    assert_int_equal(hw_op_class(OP_CONV_LIGHT), HW_CONV);
    HwProfile p;
    load_shipped("raspberry-pi-4", &p);
    for (int64_t rows = 1; rows <= 90; rows += 89) {
        CostLedger *std = conv_ledger(OP_CONV1D, rows, 512, 3);
        CostLedger *dw = conv_ledger(OP_CONV_DEPTHWISE, rows, 512, 9);
        assert_false(hw_gemv(cost_ledger_get(std, 0)));
        const CostLedger *ls[1] = {std}, *ld[1] = {dw};
        double s0 = predict(&p, ls, 1, 1), d0 = predict(&p, ld, 1, 1);
        HwProfile q = p;
        q.model.conv_efficiency *= 0.5; /* loops at half the rate */
        double s1 = predict(&q, ls, 1, 1), d1 = predict(&q, ld, 1, 1);
        if (fabs(s1 - s0) > 1e-12 * s0)
            fail_msg("rows %d: standard conv moved with conv_efficiency", (int)rows);
        if (rows > 1 && !(d1 > d0)) fail_msg("depthwise conv %g ms -> %g ms", d0, d1);
        q = p;
        q.model.gemm_efficiency *= 0.5;
        if (rows > 1 && !(predict(&q, ls, 1, 1) > s0))
            fail_msg("standard conv ignores gemm_efficiency");
        if (fabs(predict(&q, ld, 1, 1) - d0) > 1e-12 * d0)
            fail_msg("depthwise conv moved with gemm_efficiency");
        cost_ledger_close(std);
        cost_ledger_close(dw);
    }
}

/* A sample of the whole of one ledger, weight 1 (nothing measured yet). */
static void whole_sample(HwSample *s, const CostLedger **lp) {
    memset(s, 0, sizeof *s);
    s->ledgers = lp;
    s->nledgers = 1;
    s->entry = -1;
    s->weight = 1.0;
}

/* n samples of one product each, alternating compute-bound blocked products and
 * memory-bound matrix-vector ones (K = k0 + kstep * (i % kmod)), measured as truth predicts
 * them; every tenth from the fourth on `slow` times slower (a step at the LLC's edge). */
static void linear_samples(const HwProfile *truth, int n, int64_t k0, int64_t kstep, int kmod,
                           double slow, CostLedger **l, const CostLedger *(*lp)[1], HwSample *smp) {
    for (int i = 0; i < n; i++) {
        int64_t M = i % 2 ? 1 : 64 + 16 * (i % 5), N = 256 + 128 * (i % 7),
                K = k0 + kstep * (i % kmod);
        l[i] = linear_ledger(M, N, K, 1 + (uint64_t)(i % 4));
        lp[i][0] = l[i];
        whole_sample(&smp[i], lp[i]);
        smp[i].measured_ms = predict(truth, lp[i], 1, 1) * (i % 10 == 3 ? slow : 1.0);
    }
}

/* The robust fit (Huber weights): a few samples far off the model (here 4 of 40, measured
 * 40 % slow, as a step at the LLC's edge can be) barely move the parameters, which least
 * squares pulls by several percent. */
static void test_hw_fit_robust(void **state) {
    (void)state;
    HwProfile truth;
    load_dram_only(&truth);
    truth.model.gemm_efficiency = 0.6;
    truth.model.dram_efficiency = 0.5;
    truth.model.dram_short_efficiency = 0.5; /* the profile's ratio: 1 */
    enum { NS = 40 };
    CostLedger *l[NS];
    const CostLedger *lp[NS][1];
    HwSample smp[NS];
    linear_samples(&truth, NS, 256, 64, 3, 1.4, l, lp, smp);
    double err_ls = 0.0, err_rob = 0.0;
    for (int robust = 0; robust < 2; robust++) {
        HwProfile fit;
        load_shipped("raspberry-pi-5", &fit);
        fit.model.llc_share = truth.model.llc_share;
        fit.model.llc_retention = truth.model.llc_retention;
        HwFitOptions fo = {0};
        fo.warm = 1;
        fo.robust = robust;
        HwFitReport rep;
        SimError err;
        sim_error_init(&err);
        assert_int_equal(hw_fit(&fit, smp, NS, &fo, &rep, &err), SIM_OK);
        double e = fmax(fabs(fit.model.gemm_efficiency / 0.6 - 1.0),
                        fabs(fit.model.dram_efficiency / 0.5 - 1.0));
        print_message("  %s: gemm_efficiency %.4f, dram_efficiency %.4f; trimmed rms %.2f%%\n",
                      robust ? "robust" : "least squares", fit.model.gemm_efficiency,
                      fit.model.dram_efficiency, 100 * rep.trimmed_rms_rel_err);
        if (robust) err_rob = e;
        else err_ls = e;
        /* 90 % of the samples are exact: the trimmed error sees the robust fit's quality */
        if (robust) assert_true(rep.trimmed_rms_rel_err < 0.01);
    }
    assert_true(err_rob < 0.01);
    assert_true(err_ls > 2.0 * err_rob);
    for (int i = 0; i < NS; i++) cost_ledger_close(l[i]);
}

/* With a stream curve, the matrix-vector products' DRAM weights cost the curve times its
 * scale: the fit explains the rest (here gemm_efficiency from blocked products, overhead_us
 * from both) and reproduces every sample; with fit_all it also finds the scale the runs
 * streamed at (the curve is each row length's quietest moment). */
static void test_hw_fit_stream_curve(void **state) {
    (void)state;
    HwProfile truth;
    load_dram_only(&truth);
    double rb[3] = {512, 1024, 4096}, rn[3] = {40, 100, 250};
    truth.nstream = 3;
    memcpy(truth.stream_row_bytes, rb, sizeof rb);
    memcpy(truth.stream_row_ns, rn, sizeof rn);
    truth.model.gemm_efficiency = 0.6;
    truth.model.overhead_us = 3.0;
    enum { NS = 30 };
    CostLedger *l[NS];
    const CostLedger *lp[NS][1];
    HwSample smp[NS];
    linear_samples(&truth, NS, 128, 96, 4, 1.0, l, lp, smp);
    HwProfile fit;
    load_shipped("raspberry-pi-5", &fit);
    fit.model.llc_share = truth.model.llc_share;
    fit.model.llc_retention = truth.model.llc_retention;
    fit.nstream = 3;
    memcpy(fit.stream_row_bytes, rb, sizeof rb);
    memcpy(fit.stream_row_ns, rn, sizeof rn);
    HwFitOptions fo = {0};
    fo.warm = 1;
    HwFitReport rep;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_fit(&fit, smp, NS, &fo, &rep, &err), SIM_OK);
    print_message("  gemm_efficiency %.4f, overhead_us %.4f; rms %.2e\n", fit.model.gemm_efficiency,
                  fit.model.overhead_us, rep.rms_rel_err_after);
    assert_true(fabs(fit.model.gemm_efficiency / 0.6 - 1.0) < 1e-3);
    assert_true(fabs(fit.model.overhead_us / 3.0 - 1.0) < 1e-3);
    assert_true(rep.rms_rel_err_after < 1e-4);
    assert_true(hw_stream_scale(&fit.model) == 1.0); /* not fit_all: kept */
    /* the runs streamed 18 % slower than the curve */
    truth.model.stream_scale = 1.18;
    for (int i = 0; i < NS; i++) smp[i].measured_ms = predict(&truth, lp[i], 1, 1);
    HwProfile all = fit;
    all.model.stream_scale = 1.0;
    fo.fit_all = 1;
    for (int k = 0; k < HW_PARAM_COUNT; k++)
        fo.hold[k] = k != HW_P_STREAM_SCALE && k != HW_P_GEMM_EFF && k != HW_P_OVERHEAD;
    assert_int_equal(hw_fit(&all, smp, NS, &fo, &rep, &err), SIM_OK);
    print_message("  stream scale %.4f (truth 1.18); rms %.2e\n", all.model.stream_scale,
                  rep.rms_rel_err_after);
    assert_true(fabs(all.model.stream_scale / 1.18 - 1.0) < 1e-3);
    assert_true(rep.identified[HW_P_STREAM_SCALE]);
    assert_true(fabs(all.model.gemm_efficiency / 0.6 - 1.0) < 1e-3);
    /* without a curve there is nothing to scale: kept */
    HwProfile none = all;
    none.nstream = 0;
    none.model.stream_scale = 1.0;
    for (int i = 0; i < NS; i++) smp[i].measured_ms = predict(&none, lp[i], 1, 1);
    assert_int_equal(hw_fit(&none, smp, NS, &fo, &rep, &err), SIM_OK);
    assert_true(none.model.stream_scale == 1.0);
    assert_false(rep.identified[HW_P_STREAM_SCALE]);
    for (int i = 0; i < NS; i++) cost_ledger_close(l[i]);
}

/* A ledger of one elementwise entry (op) over n elements with f FLOPs each. */
static CostLedger *one_op_ledger(int op, uint64_t n, uint64_t f) {
    SimError err;
    sim_error_init(&err);
    CostLedger *l = cost_ledger_open(&err);
    assert_non_null(l);
    OpCost c = {0};
    c.other_flops = n * f;
    c.act_bytes_read = 4 * n;
    c.bytes_written = 4 * n;
    assert_int_equal(cost_ledger_add(l, "encoder.layers.0", op, CLASS_NORM_OTHER, &c, 0, &err),
                     SIM_OK);
    int64_t dims[3] = {(int64_t)(n / 64), 64, 0};
    cost_ledger_set_dims(l, "encoder.layers.0", op, dims);
    return l;
}

/* The exponential-type operators (softmax, log-softmax, GLU, Swish, GELU) cost
 * transcendental_efficiency, the others elementwise_efficiency: with equal FLOPs a softmax
 * takes longer than an add on every shipped profile; the time grows with the FLOPs; and the
 * fit recovers transcendental_efficiency from per-class samples of both kinds. */
static void test_hw_transcendental(void **state) {
    (void)state;
    static const int trans_ops[] = {OP_SOFTMAX, OP_LOG_SOFTMAX, OP_GLU, OP_SWISH, OP_GELU};
    static const int cheap_ops[] = {OP_ADD, OP_LAYERNORM, OP_RELU, OP_ADD_COL, OP_POSITIONS};
    for (size_t i = 0; i < sizeof trans_ops / sizeof trans_ops[0]; i++) {
        assert_true(hw_op_transcendental(trans_ops[i]));
        assert_false(hw_op_transcendental(cheap_ops[i]));
    }
    assert_false(hw_op_transcendental(OP_LINEAR));
    assert_false(hw_op_transcendental(OP_CONV_LIGHT)); /* its softmax rides with the conv */
    for (int i = 0; i < NSHIPPED; i++) {
        HwProfile p;
        load_shipped(shipped[i], &p);
        assert_true(p.model.transcendental_efficiency < p.model.elementwise_efficiency);
        const HwSource *src = hw_profile_source(&p, "model.transcendental_efficiency");
        assert_non_null(src);
        assert_int_equal(src->status, HW_SRC_ESTIMATED);
        assert_non_null(strstr(src->source, "R-TRANS"));
        /* 4 M elements, 4 FLOPs each: compute-bound on every profile */
        CostLedger *soft = one_op_ledger(OP_SOFTMAX, 1 << 22, 4);
        CostLedger *add = one_op_ledger(OP_ADD, 1 << 22, 4);
        CostLedger *soft2 = one_op_ledger(OP_SOFTMAX, 1 << 23, 4);
        const CostLedger *ls[1] = {soft}, *la[1] = {add}, *ls2[1] = {soft2};
        double ts = predict(&p, ls, 1, 1), ta = predict(&p, la, 1, 1), ts2 = predict(&p, ls2, 1, 1);
        if (!(ts > ta)) fail_msg("%s: softmax %g ms <= add %g ms", p.name, ts, ta);
        assert_true(ts2 > ts);
        /* the compute term is exactly FLOPs / (peak * transcendental_efficiency) */
        HwPrediction pr;
        SimError err;
        sim_error_init(&err);
        assert_int_equal(hw_predict(&p, ls, 1, NULL, &pr, &err), SIM_OK);
        double want = 4.0 * (1 << 22) / (p.peak_gflops_fp32 * 1e6 * p.model.transcendental_efficiency);
        assert_true(fabs(pr.ops[0].compute_ms - want) <= 1e-9 * want);
        hw_prediction_free(&pr);
        /* equal efficiencies: equal times (nothing else tells the kinds apart) */
        p.model.transcendental_efficiency = p.model.elementwise_efficiency;
        assert_true(fabs(predict(&p, ls, 1, 1) - predict(&p, la, 1, 1)) <= 1e-12 * ta);
        cost_ledger_close(soft);
        cost_ledger_close(add);
        cost_ledger_close(soft2);
    }

    /* the fit: samples of exponential-type and cheap operators of several sizes, per kind */
    HwProfile truth, fit;
    load_shipped("snapdragon-855-prime", &truth);
    truth.model.elementwise_efficiency = 0.05;
    truth.model.transcendental_efficiency = 0.007;
    enum { NS = 12 };
    CostLedger *ls[NS];
    HwSample smp[NS];
    const CostLedger *lp[NS][1];
    for (int i = 0; i < NS; i++) {
        int trans = i % 2;
        int op = trans ? trans_ops[i % 5] : cheap_ops[i % 5];
        ls[i] = one_op_ledger(op, (uint64_t)(100000 * (i + 1)), 2 + (uint64_t)(i % 4));
        lp[i][0] = ls[i];
        whole_sample(&smp[i], lp[i]);
        smp[i].by_class = 1;
        smp[i].cls = HW_ELEMENTWISE;
        smp[i].elem_kind = trans ? 1 : 2;
        smp[i].measured_ms = predict(&truth, lp[i], 1, 1) * (1.0 + 0.005 * rng_normal());
    }
    fit = truth;
    fit.model.elementwise_efficiency = 0.03125;
    fit.model.transcendental_efficiency = 0.00625;
    HwFitOptions fo = {0};
    fo.warm = 1;
    fo.fit_all = 1;
    fo.identify_se = 0.05;
    HwFitReport rep;
    SimError err;
    sim_error_init(&err);
    if (hw_fit(&fit, smp, NS, &fo, &rep, &err) != SIM_OK) fail_msg("%s", err.msg);
    print_message("  transcendental_efficiency: truth %g fitted %g (se %.2f%%); elementwise %g\n",
                  truth.model.transcendental_efficiency, fit.model.transcendental_efficiency,
                  100 * rep.rel_se[HW_P_TRANS_EFF], fit.model.elementwise_efficiency);
    assert_true(rep.identified[HW_P_TRANS_EFF]);
    assert_true(fabs(fit.model.transcendental_efficiency - 0.007) < 0.03 * 0.007);
    assert_true(fabs(fit.model.elementwise_efficiency - 0.05) < 0.03 * 0.05);
    /* without fit_all (a CSV fit) it keeps the profile's ratio to elementwise_efficiency */
    HwProfile keep = truth;
    keep.model.transcendental_efficiency = 0.00625;
    fo.fit_all = 0;
    if (hw_fit(&keep, smp, NS, &fo, &rep, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_true(fabs(keep.model.transcendental_efficiency / keep.model.elementwise_efficiency -
                     0.00625 / 0.05) < 1e-9);
    assert_true(keep.model.elementwise_efficiency != 0.05);
    for (int i = 0; i < NS; i++) cost_ledger_close(ls[i]);
}

static void expect_bad_csv(const char *name, const char *text, ...) {
    char path[256];
    snprintf(path, sizeof path, "%s/%s", tu_tmpdir(), name);
    write_text(path, text);
    HwCsvRow *rows = NULL;
    int n = 0;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_csv_read(path, &rows, &n, &err), SIM_EINVAL);
    assert_null(rows);
    va_list ap;
    va_start(ap, text);
    const char *missing = first_missing(err.msg, ap);
    va_end(ap);
    if (missing) fail_msg("message \"%s\" lacks \"%s\"", err.msg, missing);
    assert_non_null(strstr(err.msg, path));
    assert_null(strchr(err.msg, '\n'));
}

static void test_hw_bad_csv(void **state) {
    (void)state;
    const char *h = "config,mode,src_len,tgt_len,beam,latency_ms\n";
    char buf[1024];
    expect_bad_csv("missing_col.csv", "config,mode,src_len,tgt_len,beam\nlite-wmt-200,forward,30,30,1\n",
                   ".csv:1:", "header: missing column 'latency_ms'", (const char *)NULL);
    snprintf(buf, sizeof buf, "%slite-wmt-200,forward,30,30,1,fast\n", h);
    expect_bad_csv("nonnumeric.csv", buf, ".csv:2:30: latency_ms:", "'fast'", (const char *)NULL);
    snprintf(buf, sizeof buf, "%slite-wmt-200,forward,30,30,1,-4\n", h);
    expect_bad_csv("negative.csv", buf, ".csv:2:30: latency_ms:", (const char *)NULL);
    snprintf(buf, sizeof buf, "%s# a comment\nno-such-model,forward,30,30,1,12.5\n", h);
    expect_bad_csv("unknown_config.csv", buf, ".csv:3:1: config:", "no-such-model", (const char *)NULL);
    snprintf(buf, sizeof buf, "%slite-wmt-200,backward,30,30,1,12.5\n", h);
    expect_bad_csv("mode.csv", buf, ".csv:2:14: mode:", "backward", (const char *)NULL);
    snprintf(buf, sizeof buf, "%slite-wmt-200,forward,30,30,4,12.5\n", h);
    expect_bad_csv("beam.csv", buf, ".csv:2:", "beam:", (const char *)NULL);
    snprintf(buf, sizeof buf, "%slite-wmt-200,forward,x,30,1,12.5\n", h);
    expect_bad_csv("src.csv", buf, ".csv:2:22: src_len:", (const char *)NULL);
    snprintf(buf, sizeof buf, "%slite-wmt-200,forward,30,30,1\n", h);
    expect_bad_csv("short_row.csv", buf, ".csv:2:", "fields", (const char *)NULL);
    expect_bad_csv("unknown_col.csv", "config,mode,src_len,tgt_len,beam,latency_ms,device\n",
                   ".csv:1:", "unknown column 'device'", (const char *)NULL);
    expect_bad_csv("header_only.csv", h, "no measurements", (const char *)NULL);
    snprintf(buf, sizeof buf, "%s\"lite-wmt-200,forward,30,30,1,12.5\n", h);
    expect_bad_csv("quote.csv", buf, ".csv:2:1:", "quote", (const char *)NULL);
    expect_bad_csv("empty.csv", "", "header", (const char *)NULL);

    /* a good file: quoted fields, any column order, generate rows */
    snprintf(buf, sizeof buf,
             "latency_ms,config,mode,src_len,tgt_len,beam\n12.5,\"lite-wmt-200\",forward,30,30,1\n"
             "40,models/transformer-wmt-128.yml,generate,20,10,4\n");
    char path[256];
    snprintf(path, sizeof path, "%s/good.csv", tu_tmpdir());
    write_text(path, buf);
    HwCsvRow *rows;
    int n;
    SimError err;
    sim_error_init(&err);
    if (hw_csv_read(path, &rows, &n, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_int_equal(n, 2);
    assert_string_equal(rows[0].config, "lite-wmt-200");
    assert_true(rows[0].latency_ms == 12.5);
    assert_string_equal(rows[1].mode, "generate");
    assert_int_equal(rows[1].beam, 4);
    assert_int_equal(rows[1].line, 3);
    free(rows);

    /* a config that exists but does not load: the CSV position and the config's own error */
    char bad_cfg[256];
    snprintf(bad_cfg, sizeof bad_cfg, "%s/broken.yml", tu_tmpdir());
    write_text(bad_cfg, "arch: transformer\nencoder-embed-dim: 100\nencoder-attention-heads: 3\n"
                        "vocab-size: 100\n");
    snprintf(buf, sizeof buf, "%sbroken.yml,forward,30,30,1,3\n", h);
    snprintf(path, sizeof path, "%s/broken.csv", tu_tmpdir());
    write_text(path, buf);
    HwProfile p;
    load_shipped("raspberry-pi-4", &p);
    HwFitReport rep;
    sim_error_init(&err);
    assert_int_equal(hw_calibrate_csv(&p, path, NULL, &rep, &err), SIM_EINVAL);
    assert_msg_has(&err, "broken.csv:2:1: config:", "broken.yml", (const char *)NULL);
}

static void test_hw_validation_stats(void **state) {
    (void)state;
    HwValidateRow rows[5];
    memset(rows, 0, sizeof rows);
    double pred[5] = {10.5, 9.0, 12.5, 10.0, 7.0}; /* errors 5 %, 10 %, 25 %, 0 %, 30 % */
    for (int i = 0; i < 5; i++) {
        rows[i].measured_ms = 10.0;
        rows[i].predicted_ms = pred[i];
    }
    for (int i = 0; i < 5; i++) snprintf(rows[i].mode, sizeof rows[i].mode, "%s", i < 3 ? "forward" : "generate");
    HwValidation v;
    memset(&v, 0, sizeof v);
    v.n = 5;
    v.rows = rows;
    hw_validation_stats(&v);
    /* per mode: forward 5 %, 10 %, 25 %; generate 0 %, 30 % */
    assert_int_equal(v.forward.n, 3);
    assert_float_equal(v.forward.within_10, 2.0 / 3.0, 1e-12);
    assert_float_equal(v.forward.median_abs_err, 0.10, 1e-12);
    assert_int_equal(v.generate.n, 2);
    assert_float_equal(v.generate.within_10, 0.5, 1e-12);
    assert_float_equal(v.generate.within_20, 0.5, 1e-12);
    assert_float_equal(v.generate.rmse_ms, sqrt((0 + 9) / 2.0), 1e-12);
    assert_float_equal(v.within_10, 0.6, 1e-12);
    assert_float_equal(v.within_20, 0.6, 1e-12);
    assert_float_equal(v.median_abs_err, 0.10, 1e-12);
    assert_float_equal(v.p90_abs_err, 0.25 + 0.6 * 0.05, 1e-12);
    assert_float_equal(v.rmse_ms, sqrt((0.25 + 1 + 6.25 + 0 + 9) / 5), 1e-12);
    assert_int_equal(v.timed, 0); /* CSV rows: no spread, no steady summaries */
    assert_int_equal(v.steady_forward.n, 0);
    /* timed rows: the steady summaries leave out the rows whose passes spread more than
     * HW_STEADY_SPREAD (here the 25 % and the 30 % misses) */
    double spread[5] = {0.01, 0.02, 0.09, 0.03, HW_STEADY_SPREAD + 1e-3};
    for (int i = 0; i < 5; i++) rows[i].spread = spread[i];
    hw_validation_stats(&v);
    assert_int_equal(v.timed, 1);
    assert_int_equal(v.forward.n, 3); /* the headline keeps every row */
    assert_int_equal(v.steady_forward.n, 2);
    assert_float_equal(v.steady_forward.within_10, 1.0, 1e-12);
    assert_float_equal(v.steady_forward.median_abs_err, 0.075, 1e-12);
    assert_int_equal(v.steady_generate.n, 1);
    assert_float_equal(v.steady_generate.within_10, 1.0, 1e-12);
    assert_true(hw_validation_set_size() >= 30);
}

/* ---- the commands ---- */

static int run_cli(const char *cmd, int argc, const char **args) {
    char *argv[16];
    for (int i = 0; i < argc; i++) argv[i] = (char *)args[i];
    int saved = quiet_begin();
    int rc = cli_hw_main(cmd, argc, argv);
    quiet_end(saved);
    return rc;
}

/* Runs a command with stdout in a file; returns its exit code and the output (malloc'd). */
static int capture_cli(const char *cmd, int argc, const char **args, char **out) {
    char *argv[16];
    for (int i = 0; i < argc; i++) argv[i] = (char *)args[i];
    char path[256];
    snprintf(path, sizeof path, "%s/cli-out.txt", tu_tmpdir());
    fflush(stdout);
    int saved = dup(1);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    assert_true(fd >= 0);
    dup2(fd, 1);
    close(fd);
    int rc = cli_hw_main(cmd, argc, argv);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    *out = calloc((size_t)n + 1, 1);
    assert_non_null(*out);
    assert_int_equal(fread(*out, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return rc;
}

/* hw show --json and hw list --json: one JSON document with every number's unit, status
 * and source. */
static void test_hw_cli_json(void **state) {
    (void)state;
    char *out = NULL;
    const char *show[] = {"hw", "show", "apple-a13", "--json"};
    assert_int_equal(capture_cli("hw", 4, show, &out), 0);
    cJSON *o = cJSON_Parse(out);
    assert_non_null(o);
    assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(o, "name")), "apple-a13");
    cJSON *keys = cJSON_GetObjectItem(o, "keys");
    assert_int_equal(cJSON_GetArraySize(keys), hw_profile_nkeys());
    int seen = 0;
    cJSON *k;
    cJSON_ArrayForEach(k, keys) {
        const char *src = cJSON_GetStringValue(cJSON_GetObjectItem(k, "source"));
        assert_true(src != NULL && strlen(src) > 0);
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(k, "key")), "peak_gflops_fp32") == 0) {
            seen = 1;
            assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(k, "value")) > 0);
            assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(k, "unit")), "GFLOPS");
        }
    }
    assert_true(seen);
    cJSON_Delete(o);
    free(out);
    const char *list[] = {"hw", "list", "--json"};
    int rc = capture_cli("hw", 3, list, &out);
    o = cJSON_Parse(out);
    assert_non_null(o); /* a stale host.yml makes the exit code 2, the document stays valid */
    assert_true(rc == 0 || rc == 2);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(o, "profiles")) >= 10);
    cJSON_Delete(o);
    free(out);
    const char *bad[] = {"hw", "show", "apple-a13", "--jsn"};
    assert_int_equal(capture_cli("hw", 4, bad, &out), 2);
    assert_int_equal(strlen(out), 0);
    free(out);
}

static void test_hw_cli(void **state) {
    (void)state;
    /* a stale hwprofiles/host.yml of an older build makes 'hw list' report it (exit 2) */
    int host_ok = 1;
    if (access("hwprofiles/host.yml", F_OK) == 0) {
        HwProfile h;
        SimError e;
        sim_error_init(&e);
        host_ok = hw_profile_load("hwprofiles/host.yml", &h, &e) == SIM_OK;
    }
    const char *list[] = {"hw", "list"};
    assert_int_equal(run_cli("hw", 2, list), host_ok ? 0 : 2);
    const char *show[] = {"hw", "show", "apple-a13"};
    assert_int_equal(run_cli("hw", 3, show), 0);
    const char *help[] = {"hw", "--help"};
    assert_int_equal(run_cli("hw", 2, help), 0);
    const char *unknown[] = {"hw", "show", "no-such-device"};
    assert_int_equal(run_cli("hw", 3, unknown), 2);
    const char *badsub[] = {"hw", "frobnicate"};
    assert_int_equal(run_cli("hw", 2, badsub), 2);
    const char *vnocsv[] = {"validate", "--profile", "raspberry-pi-4"};
    assert_int_equal(run_cli("validate", 3, vnocsv), 2);
    const char *vnoprof[] = {"validate"};
    assert_int_equal(run_cli("validate", 1, vnoprof), 2);
    const char *cnocsv[] = {"calibrate", "--profile", "raspberry-pi-4"};
    assert_int_equal(run_cli("calibrate", 3, cnocsv), 2);
    const char *chelp[] = {"calibrate", "--help"};
    assert_int_equal(run_cli("calibrate", 2, chelp), 0);
    const char *vhelp[] = {"validate", "--help"};
    assert_int_equal(run_cli("validate", 2, vhelp), 0);
    const char *badopt[] = {"validate", "--profile", "raspberry-pi-4", "--bogus"};
    assert_int_equal(run_cli("validate", 4, badopt), 2);

    char csv[256], out[256];
    snprintf(csv, sizeof csv, "%s/cli.csv", tu_tmpdir());
    write_text(csv, "config,mode,src_len,tgt_len,beam,latency_ms\nlite-wmt-200,forward,30,30,1,40\n"
                    "transformer-wmt-128,forward,10,10,1,20\nlite-iwslt-160,forward,50,50,1,55\n");
    const char *val[] = {"validate", "--profile", "raspberry-pi-4", "--measurements", csv, "--json"};
    assert_int_equal(run_cli("validate", 6, val), 0);
    const char *bin = getenv("LTSIM_BIN");
    if (bin != NULL && *bin) { /* the JSON document has the per-mode statistics */
        char cmdline[1024], jpath[256];
        snprintf(jpath, sizeof jpath, "%s/val.json", tu_tmpdir());
        snprintf(cmdline, sizeof cmdline,
                 "%s validate --profile raspberry-pi-4 --measurements %s --json > %s", bin, csv,
                 jpath);
        assert_int_equal(system(cmdline), 0);
        char *json = read_text(jpath);
        assert_non_null(strstr(json, "\"by_mode\":{\"forward\":{\"n\":3,"));
        assert_null(strstr(json, "\"generate\":")); /* no generate rows, no entry */
        free(json);
    }
    snprintf(out, sizeof out, "%s/cal-out.yml", tu_tmpdir());
    const char *cal[] = {"calibrate", "--profile", "raspberry-pi-4", "--measurements", csv,
                         "--out", out};
    assert_int_equal(run_cli("calibrate", 7, cal), 0);
    HwProfile p;
    SimError err;
    sim_error_init(&err);
    if (hw_profile_load(out, &p, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_string_equal(p.name, "raspberry-pi-4-calibrated");
    char badcsv[256];
    snprintf(badcsv, sizeof badcsv, "%s/cli-bad.csv", tu_tmpdir());
    write_text(badcsv, "config,mode\n");
    const char *valbad[] = {"validate", "--profile", "raspberry-pi-4", "--measurements", badcsv};
    assert_int_equal(run_cli("validate", 5, valbad), 2);

    /* --hw helpers */
    const char *names[] = {"all"};
    HwProfile *profs;
    int np;
    sim_error_init(&err);
    if (host_ok) {
        assert_int_equal(cli_hw_load_profiles(names, 1, &profs, &np, &err), SIM_OK);
        assert_true(np >= NSHIPPED);
        free(profs);
    }
    const char *bad[] = {"raspberry-pi-4", "nope"};
    sim_error_init(&err);
    assert_int_equal(cli_hw_load_profiles(bad, 2, &profs, &np, &err), SIM_EINVAL);
    assert_msg_has(&err, "nope", (const char *)NULL);
}

/* ---- host (slow: LTSIM_SLOW=1) ---- */

/* The stream curve's monotone fit: falling runs become their mean, rising points stay. */
static void test_hw_isotonic(void **state) {
    (void)state;
    double v[] = {4.0, 10.4, 91.0, 87.0, 144.8, 141.3, 213.7, 219.5, 218.8, 194.0, 272.3};
    hw_isotonic(v, 11);
    const double want[] = {4.0, 10.4, 89.0, 89.0, 143.05, 143.05, 211.5, 211.5, 211.5, 211.5, 272.3};
    for (int i = 0; i < 11; i++) assert_true(fabs(v[i] - want[i]) < 1e-9);
    for (int i = 1; i < 11; i++) assert_true(v[i] >= v[i - 1]);
    double up[] = {1, 2, 3}, one[] = {5}, down[] = {3, 2, 1};
    hw_isotonic(up, 3);
    assert_true(up[0] == 1 && up[1] == 2 && up[2] == 3);
    hw_isotonic(one, 1);
    assert_true(one[0] == 5);
    hw_isotonic(down, 3);
    for (int i = 0; i < 3; i++) assert_true(fabs(down[i] - 2.0) < 1e-12);
    /* a late dip pools back over a long plateau */
    double dip[] = {1, 5, 5, 5, 1};
    hw_isotonic(dip, 5);
    assert_true(dip[0] == 1);
    for (int i = 1; i < 5; i++) assert_true(fabs(dip[i] - 4.0) < 1e-12);
}

/* llc_share_gemm sets the residency of blocked matrix products' weights (warm), llc_share
 * that of matrix-vector products: a 4 MB matrix within llc_share x an 8 MB LLC but beyond
 * llc_share_gemm reads as DRAM in the blocked product only. */
static void test_hw_llc_share_gemm(void **state) {
    (void)state;
    HwProfile p;
    load_shipped("raspberry-pi-5", &p);
    p.llc_kib = 8192;
    p.model.llc_share = 1.0;
    p.model.llc_share_gemm = 1.0;
    p.model.llc_retention = 0.25;
    p.model.gemm_m_half_dram = 4.0 * p.model.gemm_m_half;
    double blocked = linear_ms(&p, 16, 1024, 1024, 1), gemv = linear_ms(&p, 1, 1024, 1024, 1);
    p.model.llc_share_gemm = 0.25;
    assert_true(linear_ms(&p, 16, 1024, 1024, 1) > 1.05 * blocked);
    assert_true(fabs(linear_ms(&p, 1, 1024, 1024, 1) - gemv) < 1e-12 * gemv);
    /* cold: nothing resident either way */
    double cold = linear_ms(&p, 16, 1024, 1024, 0);
    p.model.llc_share_gemm = 1.0;
    assert_true(fabs(linear_ms(&p, 16, 1024, 1024, 0) - cold) < 1e-12 * cold);
}

/* The time outside the operators: per call and a share of the kernels' time, recovered from
 * runs that mix many small calls with long kernels; one term alone when the data hold no
 * other; nothing from fewer than 3 runs. */
static void test_hw_outside_fit(void **state) {
    (void)state;
    enum { N = 12 };
    double calls[N], kern[N], out[N], ms[N];
    for (int i = 0; i < N; i++) {
        calls[i] = 500.0 + 900.0 * (i % 4);          /* 500 .. 3200 calls */
        kern[i] = 5.0 * (1 + i) * (1 + (i % 3));     /* 5 .. 180 ms */
        double noise = 1.0 + 0.01 * ((i * 7) % 5 - 2); /* +-2 % */
        out[i] = (0.6e-3 * calls[i] + 0.023 * kern[i]) * noise;
        ms[i] = kern[i] + out[i];
    }
    double d = 0, f = 0;
    assert_int_equal(hw_outside_fit(calls, kern, out, ms, N, &d, &f), N);
    assert_true(fabs(d - 0.6) < 0.05 * 0.6);
    assert_true(fabs(f - 1.023) < 0.003);
    /* only per-call time: no share */
    for (int i = 0; i < N; i++) out[i] = 0.6e-3 * calls[i];
    assert_int_equal(hw_outside_fit(calls, kern, out, ms, N, &d, &f), N);
    assert_true(fabs(d - 0.6) < 1e-9 && fabs(f - 1.0) < 1e-9);
    /* a negative per-call time is not a dispatch: the share alone would need none, so the
     * values stay */
    for (int i = 0; i < N; i++) out[i] = 0.03 * kern[i] - 0.2e-3 * calls[i];
    d = 7.0;
    f = 3.0;
    int used = hw_outside_fit(calls, kern, out, ms, N, &d, &f);
    assert_true(used == 0 ? d == 7.0 && f == 3.0 : d > 0 && f >= 1.0);
    d = 7.0;
    assert_int_equal(hw_outside_fit(calls, kern, out, ms, 2, &d, &f), 0);
    assert_true(d == 7.0);
}

/* outside_factor scales an operator's compute and memory time, not its per-call overheads;
 * the fit's whole-run samples include it and its per-class samples (kernel times) do not. */
static void test_hw_outside_factor(void **state) {
    (void)state;
    HwProfile p;
    load_shipped("raspberry-pi-5", &p);
    CostLedger *l = linear_ledger(16, 512, 512, 3);
    const CostLedger *lp[1] = {l};
    HwPrediction a, b;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(hw_predict(&p, lp, 1, NULL, &a, &err), SIM_OK);
    HwSample whole, cls;
    whole_sample(&whole, lp);
    cls = whole;
    cls.by_class = 1;
    cls.cls = HW_GEMM;
    double w1 = hw_sample_predict_ms(&p, &whole, 0), c1 = hw_sample_predict_ms(&p, &cls, 0);
    p.model.outside_factor = 1.25;
    assert_int_equal(hw_predict(&p, lp, 1, NULL, &b, &err), SIM_OK);
    assert_true(b.overhead_ms == a.overhead_ms);
    assert_true(fabs((b.latency_ms - b.overhead_ms) - 1.25 * (a.latency_ms - a.overhead_ms)) <
                1e-9 * a.latency_ms);
    assert_true(fabs(hw_predict_ms(&p, lp, 1, NULL) - b.latency_ms) < 1e-9 * b.latency_ms);
    double w2 = hw_sample_predict_ms(&p, &whole, 0), c2 = hw_sample_predict_ms(&p, &cls, 0);
    assert_true(w2 > w1 && fabs(w2 - b.latency_ms) < 1e-9 * w2);
    assert_true(fabs(c2 - c1) < 1e-12 * c1);
    hw_prediction_free(&a);
    hw_prediction_free(&b);
    cost_ledger_close(l);
}

/* The usable LLC from read-bandwidth sweeps: an Intel Xeon VM whose L3 plateau is 1.8x its
 * DRAM (measured; the L2 edge is not the last level), a cache 3x DRAM's where half-way is
 * twice DRAM, and sweeps with no cache level faster than DRAM. */
/* A calibration round alternates the grid's configs and the validation set's: every config
 * once, each set in its own order, and every stretch of the round holds both in proportion. */
static void test_hw_round_order(void **state) {
    (void)state;
    static const int sets[][2] = {{107, 52}, {10, 3}, {55, 55}, {55, 0}, {2, 1}};
    for (size_t s = 0; s < sizeof sets / sizeof sets[0]; s++) {
        int n = sets[s][0], nf = sets[s][1], seen[128] = {0}, a = 0, b = 0;
        for (int at = 0; at < n; at++) {
            int i = hw_round_order(at, n, nf);
            assert_true(i >= 0 && i < n);
            assert_int_equal(seen[i]++, 0);
            if (nf <= 0 || nf >= n) {
                assert_int_equal(i, at);
                continue;
            }
            if (i < nf) assert_int_equal(i, a++); /* each set keeps its order */
            else assert_int_equal(i, nf + b++);
            /* after at + 1 configs, the first set's share is (at + 1) * nf / n, within 1 */
            double want = (double)(at + 1) * nf / n;
            if (fabs(a - want) > 1.0) fail_msg("n %d nfirst %d: %d of the first set after %d", n, nf, a, at + 1);
        }
    }
}

static void test_hw_llc_kib(void **state) {
    (void)state;
    double kib[25], xeon[] = {90.9, 91.1, 93.5, 94.0, 94.1, 93.7, 93.0, 94.0, 93.0,
                              77.5, 53.0, 34.0, 28.7, 28.6, 28.6, 28.6, 28.7, 28.5,
                              28.9, 27.9, 23.6, 19.1, 15.8, 16.2, 16.2};
    for (int i = 0; i < 25; i++) kib[i] = 64.0 * pow(2.0, 0.5 * i);
    double llc = hw_llc_kib(kib, xeon, 25, 16.2);
    /* half-way from 27.9 to 16.2 is 22.05: between the 64 MiB (23.6) and 90.5 MiB points */
    assert_true(llc > 64.0 * 1024 && llc < 90.6 * 1024);
    double three[25];
    for (int i = 0; i < 25; i++) three[i] = i <= 12 ? 90.0 : i == 13 ? 60.0 : 30.0;
    llc = hw_llc_kib(kib, three, 25, 30.0);
    assert_true(fabs(llc - kib[13]) < 1e-6 * kib[13]); /* exactly where 60 = 2 x 30 */
    /* an AMD EPYC VM (32 MiB of L3, shared) whose DRAM bandwidth fell from 41 to 31.5 GB/s
     * between 90 and 256 MiB: the L3's edge, not the 90 MiB point 1.25x the last two's */
    double epyc[] = {104.3, 105.2, 104.4, 104.1, 102.9, 97.2, 102.0, 102.3, 92.8,
                     88.0,  86.4,  84.9,  83.4,  81.1,  78.6, 76.0,  77.6,  51.8,
                     42.0,  41.3,  39.3,  41.2,  37.3,  34.0, 31.5};
    llc = hw_llc_kib(kib, epyc, 25, 0.5 * (34.0 + 31.5));
    if (!(llc > 16.0 * 1024 && llc < 23.0 * 1024)) fail_msg("EPYC: %.0f KiB", llc);
    /* the same VM on another day: DRAM at 31 GB/s from 64 to 128 MiB and 24.6 at 256 MiB,
     * and a step of 15 % at 45 MiB after the L3's edge (the old rule found 46 MiB, and then
     * took the half-way point on DRAM's slope: 132 MiB) */
    double epyc2[] = {103.4, 102.7, 103.1, 103.4, 105.2, 100.6, 99.6, 102.5, 87.4,
                      87.2,  84.2,  82.9,  81.9,  78.7,  78.5,  76.0, 67.8,  45.6,
                      36.5,  36.6,  31.1,  31.2,  31.7,  27.5,  24.6};
    llc = hw_llc_kib(kib, epyc2, 25, 0.5 * (27.5 + 24.6));
    if (!(llc > 16.0 * 1024 && llc < 23.0 * 1024)) fail_msg("EPYC, day 2: %.0f KiB", llc);
    double flat[25];
    for (int i = 0; i < 25; i++) flat[i] = 20.0;
    assert_true(hw_llc_kib(kib, flat, 25, 20.0) == kib[0]);
    assert_true(hw_llc_kib(kib, flat, 0, 20.0) == 0.0);
}

/* The kernel's tile rows from times per weight of M x 512 x 512 products: a measured
 * series with a pass per set bit of M mod 4, synthetic patterns of 1, 2, 8, and a series of
 * 16 points whose pattern cuts the straight line's residual by less than half. */
static void test_hw_gemm_tile_pick(void **state) {
    (void)state;
    /* M = 5..36, ns per weight, through op_exec on an AMD EPYC (Haswell kernels) */
    static const double measured[] = {
        0.40040, 0.38672, 0.43431, 0.38631, 0.44037, 0.44054, 0.50036, 0.44402,
        0.49761, 0.50153, 0.56085, 0.52049, 0.57827, 0.58544, 0.66972, 0.63748,
        0.67854, 0.67814, 0.74098, 0.70804, 0.73621, 0.72968, 0.81634, 0.77371,
        0.83329, 0.83955, 0.93910, 0.87529, 0.92612, 0.95021, 1.02557, 0.96943};
    double ns[HW_GEMM_ROWS_MAX + 1] = {0};
    for (int m = 5; m <= 36; m++) ns[m] = measured[m - 5];
    assert_int_equal(hw_gemm_tile_pick(ns, 5, 36), 4);
    /* a straight line with a little alternating noise: no tile */
    for (int m = 5; m <= 36; m++) ns[m] = 0.3 + 0.02 * m + (m % 3 == 0 ? 0.004 : -0.002);
    assert_int_equal(hw_gemm_tile_pick(ns, 5, 36), 1);
    /* remainder passes of tiles 2 and 8 */
    for (int u = 2; u <= 8; u *= 4) {
        for (int m = 5; m <= 36; m++)
            ns[m] = 0.3 + 0.02 * m + 0.05 * __builtin_popcount((unsigned)(m % u)) +
                    (m % 3 == 0 ? 0.004 : -0.002);
        assert_int_equal(hw_gemm_tile_pick(ns, 5, 36), u);
    }
    /* cheaper remainders (a negative pattern) are not a tile */
    for (int m = 5; m <= 36; m++)
        ns[m] = 0.3 + 0.02 * m - 0.05 * __builtin_popcount((unsigned)(m % 4));
    assert_int_equal(hw_gemm_tile_pick(ns, 5, 36), 1);
    /* M = 5..20 only, measured on the same machine: the pattern cuts the residual to 0.54 of
     * the line's, which is still a tile of 4 */
    static const double short_run[] = {0.43609, 0.42643, 0.49855, 0.45255, 0.54845, 0.53207,
                                       0.61829, 0.49354, 0.50741, 0.50759, 0.58326, 0.55439,
                                       0.63269, 0.60458, 0.66169, 0.59994};
    for (int m = 5; m <= 20; m++) ns[m] = short_run[m - 5];
    assert_int_equal(hw_gemm_tile_pick(ns, 5, 20), 4);
}

/* LTSIM_HW_REPLAY: a dump without the machine measurements, or without a run of the grid,
 * is an error naming the file (nothing is timed). */
static void test_hw_replay_errors(void **state) {
    (void)state;
    char path[256];
    snprintf(path, sizeof path, "%s/replay.txt", tu_tmpdir());
    HwCalibOptions o = {0};
    o.threads = 1;
    o.quick = 1;
    HwProfile p;
    HwFitReport rep;
    HwHostMeasure meas;
    SimError err;
    write_text(path, "R\tnothing\tforward\t1\t1\t1\t1.0\t0.0\n");
    setenv("LTSIM_HW_REPLAY", path, 1);
    sim_error_init(&err);
    assert_int_not_equal(hw_calibrate_host(&p, &o, &rep, &meas, &err), SIM_OK);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "M line"));
    write_text(path, "M\t16384\t20.5\t100.0\t4\n");
    sim_error_init(&err);
    assert_int_not_equal(hw_calibrate_host(&p, &o, &rep, &meas, &err), SIM_OK);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "no run of"));
    /* a stream curve that falls */
    write_text(path, "M\t16384\t20.5\t100.0\t4\nC\t512\t50.0\nCR\t512\t50.0\t51.0\n"
                     "C\t1024\t40.0\nCR\t1024\t40.0\t40.5\n");
    sim_error_init(&err);
    assert_int_not_equal(hw_calibrate_host(&p, &o, &rep, &meas, &err), SIM_OK);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "C lines (the stream curve): ns_per_row must not decrease"));
    unsetenv("LTSIM_HW_REPLAY");
}

static void test_hw_host_calibrate_validate(void **state) {
    (void)state;
    if (getenv("LTSIM_SLOW") == NULL || strcmp(getenv("LTSIM_SLOW"), "1") != 0) {
        print_message("  skipped: set LTSIM_SLOW=1 to calibrate and validate this host\n");
        return;
    }
    HwCalibOptions o = {0};
    o.threads = 1;
    HwProfile p;
    HwFitReport rep;
    HwHostMeasure meas;
    SimError err;
    sim_error_init(&err);
    if (hw_calibrate_host(&p, &o, &rep, &meas, &err) != SIM_OK) fail_msg("%s", err.msg);
    assert_true(meas.llc_kib > 0 && meas.dram_gbs > 0 && meas.sgemm_gflops > 0);
    char path[256];
    snprintf(path, sizeof path, "%s/host.yml", tu_tmpdir());
    assert_int_equal(hw_profile_write(&p, path, &err), SIM_OK);
    HwProfile q;
    if (hw_profile_load(path, &q, &err) != SIM_OK) fail_msg("%s", err.msg);
    HwValidation v;
    if (hw_validate_host(&q, &o, &v, &err) != SIM_OK) fail_msg("%s", err.msg);
    print_message("  host: n %d within10 %.2f within20 %.2f median %.3f p90 %.3f rmse %.2f ms\n", v.n,
                  v.within_10, v.within_20, v.median_abs_err, v.p90_abs_err, v.rmse_ms);
    assert_true(v.n >= 30);
    hw_validation_free(&v);
    /* calibration and validation in the same rounds */
    HwValidation j;
    o.validate_into = &j;
    if (hw_calibrate_host(&p, &o, &rep, &meas, &err) != SIM_OK) fail_msg("%s", err.msg);
    print_message("  joint: n %d within10 %.2f (forward %.2f, generate %.2f) median %.3f\n", j.n,
                  j.within_10, j.forward.within_10, j.generate.within_10, j.median_abs_err);
    assert_int_equal(j.n, hw_validation_set_size());
    for (int i = 0; i < j.n; i++)
        assert_true(j.rows[i].predicted_ms > 0 && j.rows[i].measured_ms > 0);
    hw_validation_free(&j);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hw_shipped_profiles_load),
        cmocka_unit_test(test_hw_profile_roundtrip),
        cmocka_unit_test(test_hw_bad_profiles),
        cmocka_unit_test(test_hw_find),
        cmocka_unit_test(test_hw_predict_consistent),
        cmocka_unit_test(test_hw_predict_kv_cache_dram),
        cmocka_unit_test(test_hw_monotone),
        cmocka_unit_test(test_hw_gemv_rows),
        cmocka_unit_test(test_hw_conv_classes),
        cmocka_unit_test(test_hw_memory_bound_step),
        cmocka_unit_test(test_hw_calibrate_csv_recovers),
        cmocka_unit_test(test_hw_search_term),
        cmocka_unit_test(test_hw_fit_all_recovers),
        cmocka_unit_test(test_hw_transcendental),
        cmocka_unit_test(test_hw_gemm_remainder),
        cmocka_unit_test(test_hw_dram_rows),
        cmocka_unit_test(test_hw_short_rows),
        cmocka_unit_test(test_hw_stream_curve),
        cmocka_unit_test(test_hw_fit_stream_curve),
        cmocka_unit_test(test_hw_fit_robust),
        cmocka_unit_test(test_hw_bad_csv),
        cmocka_unit_test(test_hw_validation_stats),
        cmocka_unit_test(test_hw_cli),
        cmocka_unit_test(test_hw_cli_json),
        cmocka_unit_test(test_hw_gemm_tile_pick),
        cmocka_unit_test(test_hw_isotonic),
        cmocka_unit_test(test_hw_llc_kib),
        cmocka_unit_test(test_hw_round_order),
        cmocka_unit_test(test_hw_llc_share_gemm),
        cmocka_unit_test(test_hw_outside_fit),
        cmocka_unit_test(test_hw_outside_factor),
        cmocka_unit_test(test_hw_replay_errors),
        cmocka_unit_test(test_hw_host_calibrate_validate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
