/*
 * test_engine.c - the engine end to end: the golden cases of tests/golden against the
 * original PyTorch outputs, count-only against executed ledgers, the ledger against the
 * closed forms of architectures.md §4.2, and the paper's configs' totals.
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

/* ---- golden cases ---- */

static const int64_t *io_ids(const SafeTensors *st, const char *name, int64_t *n) {
    const StTensorInfo *t = st_find(st, name);
    assert_non_null(t);
    assert_int_equal(t->dtype, ST_I64);
    *n = st_numel(t);
    return st_data(st, t);
}

static void check_output(const SafeTensors *io, const char *name, const Tensor *out) {
    const StTensorInfo *t = st_find(io, name);
    assert_non_null(t);
    assert_int_equal(t->ndim, 2);
    assert_int_equal(t->shape[0], out->rows);
    assert_int_equal(t->shape[1], out->cols);
    assert_int_equal(out->ld, out->cols);
    double e = tu_rel_err(out->data, st_data(io, t), out->rows * out->cols);
    if (!(e <= 1e-4)) fail_msg("%s: rel_err %.3g > 1e-4", name, e);
}

static void run_golden_weights(const char *name, const char *weights) {
    char cfgpath[256], wpath[256], iopath[256];
    snprintf(cfgpath, sizeof cfgpath, "tests/fixtures/golden_%s.yml", name);
    if (weights) snprintf(wpath, sizeof wpath, "%s", weights);
    else snprintf(wpath, sizeof wpath, "tests/golden/%s/model.safetensors", name);
    snprintf(iopath, sizeof iopath, "tests/golden/%s/io.safetensors", name);
    ModelConfig cfg;
    tu_load_config(cfgpath, 0, &cfg);
    SimError err;
    sim_error_init(&err);
    SafeTensors *io = NULL;
    assert_int_equal(st_open(iopath, &io, &err), SIM_OK);
    RunSpec spec = tu_spec(0);
    spec.src = io_ids(io, "src_tokens", &spec.nsrc);
    spec.tgt = io_ids(io, "prev_output_tokens", &spec.ntgt);
    spec.weights = wpath;
    RunResult res;
    SimStatus rc = runner_execute(&cfg, &spec, &res, &err);
    if (rc != SIM_OK) fail_msg("%s: %s", name, err.msg);
    check_output(io, "encoder_out", &res.out.enc_out);
    check_output(io, "decoder_features", &res.out.features);
    check_output(io, "logits", &res.out.logits);
    runner_result_free(&res);
    st_close(io);
}

static void run_golden(const char *name) { run_golden_weights(name, NULL); }

static void test_engine_golden_lite_dyn_glu(void **state) {
    (void)state;
    run_golden("lite_dyn_glu");
}
static void test_engine_golden_lite_dyn_noglu(void **state) {
    (void)state;
    run_golden("lite_dyn_noglu");
}
static void test_engine_golden_lite_light(void **state) {
    (void)state;
    run_golden("lite_light");
}
static void test_engine_golden_transformer(void **state) {
    (void)state;
    run_golden("transformer");
}

/* The golden weights rewritten in another accepted layout must give the same outputs:
 * lightweight kernels as [H,K] (the CUDA module's shape) instead of [H,1,K], and fairseq's
 * legacy in_proj_weight / in_proj_bias instead of separate q/k/v projections. */
static void test_engine_weight_layouts(void **state) {
    (void)state;
    SimError err;
    sim_error_init(&err);
    /* [H,1,K] -> [H,K] */
    SafeTensors *st = NULL;
    assert_int_equal(st_open("tests/golden/lite_light/model.safetensors", &st, &err), SIM_OK);
    int n = st_count(st), k = 0, reshaped = 0;
    StWriteItem *it = calloc((size_t)n, sizeof *it);
    for (int i = 0; i < n; i++) {
        const StTensorInfo *t = st_get(st, i);
        it[k] = (StWriteItem){t->name, t->dtype, t->ndim, {0}, st_data(st, t)};
        memcpy(it[k].shape, t->shape, sizeof it[k].shape);
        if (t->ndim == 3 && t->shape[1] == 1) {
            it[k].ndim = 2;
            it[k].shape[1] = t->shape[2];
            reshaped++;
        }
        k++;
    }
    assert_int_equal(reshaped, 4); /* 2 encoder + 2 decoder layers */
    char p1[256];
    snprintf(p1, sizeof p1, "%s/light-2d.safetensors", tu_tmpdir());
    assert_int_equal(st_write(p1, it, k, &err), SIM_OK);
    free(it);
    st_close(st);
    run_golden_weights("lite_light", p1);

    /* q/k/v -> in_proj_weight [3w, d], in_proj_bias [3w] */
    assert_int_equal(st_open("tests/golden/transformer/model.safetensors", &st, &err), SIM_OK);
    n = st_count(st);
    it = calloc((size_t)n, sizeof *it);
    float *bufs[64];
    int nb = 0;
    char *names[64];
    k = 0;
    for (int i = 0; i < n; i++) {
        const StTensorInfo *t = st_get(st, i);
        const char *q = strstr(t->name, ".q_proj.");
        if (strstr(t->name, ".k_proj.") || strstr(t->name, ".v_proj.")) continue;
        if (q == NULL) {
            it[k] = (StWriteItem){t->name, t->dtype, t->ndim, {0}, st_data(st, t)};
            memcpy(it[k].shape, t->shape, sizeof it[k].shape);
            k++;
            continue;
        }
        int plen = (int)(q - t->name);
        int bias = strstr(q, "bias") != NULL;
        int64_t per = st_numel(t);
        float *buf = malloc((size_t)(3 * per) * sizeof(float));
        const char *parts[3] = {"q_proj", "k_proj", "v_proj"};
        for (int j = 0; j < 3; j++) {
            char nm[200];
            snprintf(nm, sizeof nm, "%.*s.%s.%s", plen, t->name, parts[j], bias ? "bias" : "weight");
            const StTensorInfo *u = st_find(st, nm);
            assert_non_null(u);
            memcpy(buf + j * per, st_data(st, u), (size_t)per * sizeof(float));
        }
        char *nm = malloc(200);
        snprintf(nm, 200, "%.*s.in_proj_%s", plen, t->name, bias ? "bias" : "weight");
        it[k] = (StWriteItem){nm, ST_F32, t->ndim, {0}, buf};
        memcpy(it[k].shape, t->shape, sizeof it[k].shape);
        it[k].shape[0] *= 3;
        k++;
        bufs[nb] = buf;
        names[nb++] = nm;
    }
    char p2[256];
    snprintf(p2, sizeof p2, "%s/in-proj.safetensors", tu_tmpdir());
    assert_int_equal(st_write(p2, it, k, &err), SIM_OK);
    assert_int_equal(nb, 12); /* 6 attention modules, weight and bias each */
    for (int i = 0; i < nb; i++) {
        free(bufs[i]);
        free(names[i]);
    }
    free(it);
    st_close(st);
    run_golden_weights("transformer", p2);
}

/* ---- count-only equals executed ---- */

static void count_vs_exec(const char *path, int64_t vocab, int64_t S, int64_t T, Conventions cv) {
    ModelConfig cfg;
    tu_load_config(path, vocab, &cfg);
    SimError err;
    sim_error_init(&err);
    RunSpec a = tu_spec(1), b = tu_spec(0);
    a.src_len = b.src_len = S;
    a.tgt_len = b.tgt_len = T;
    a.conv = b.conv = cv;
    RunResult ra, rb;
    if (runner_execute(&cfg, &a, &ra, &err) != SIM_OK) fail_msg("%s: %s", path, err.msg);
    if (runner_execute(&cfg, &b, &rb, &err) != SIM_OK) fail_msg("%s: %s", path, err.msg);
    char why[256];
    if (!cost_ledger_equal(ra.ledger, rb.ledger, why, sizeof why))
        fail_msg("%s S=%lld T=%lld: count-only and executed ledgers differ: %s", path,
                 (long long)S, (long long)T, why);
    assert_true(cost_ledger_count(ra.ledger) > 10);
    /* the plan pass and the executed pass use the same arena bytes */
    assert_int_equal(ra.planned_bytes, rb.planned_bytes);
    assert_int_equal(rb.peak_bytes, rb.planned_bytes);
    runner_result_free(&ra);
    runner_result_free(&rb);
}

static void test_engine_count_only_equals_executed(void **state) {
    (void)state;
    static const struct {
        const char *path;
        int64_t vocab, S, T;
    } cases[] = {
        {"tests/fixtures/golden_lite_dyn_glu.yml", 0, 11, 9},
        {"tests/fixtures/golden_lite_dyn_noglu.yml", 0, 5, 40},
        {"tests/fixtures/golden_lite_light.yml", 0, 1, 1},
        {"tests/fixtures/golden_transformer.yml", 0, 17, 3},
        {"models/lite-wmt-200.yml", 1000, 30, 30},
        {"models/lite-iwslt-160.yml", 0, 12, 7},
        {"models/transformer-wmt-128.yml", 500, 30, 30},
        {"tests/fixtures/three_branches.yml", 0, 9, 14},
        {"tests/fixtures/heterogeneous.yml", 0, 30, 30},
        {"tests/fixtures/prenorm.yml", 0, 6, 6},
    };
    Conventions cvs[3] = {{ATTN_MACS_CAUSAL, CONV_MACS_TAPS},
                          {ATTN_MACS_FULL, CONV_MACS_VALID},
                          {ATTN_MACS_CAUSAL, CONV_MACS_BAND}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        count_vs_exec(cases[i].path, cases[i].vocab, cases[i].S, cases[i].T, cvs[i % 3]);
}

/* ---- closed forms (architectures.md §4.2), computed here independently ---- */

typedef struct {
    int lite;          /* 0 transformer, 1 lite */
    int light;         /* lite: lightweight (1) or dynamic (0) branch */
    int glu;           /* dynamic: GLU after linear1 */
    uint64_t d, F, Hc; /* width, FFN, conv heads */
    int N;             /* layers per side */
    const int *K;      /* kernel per layer */
} Arch;

static uint64_t valid_taps_ref(int64_t L, int64_t K, int64_t P) {
    uint64_t n = 0;
    for (int64_t t = 0; t < L; t++)
        for (int64_t k = 0; k < K; k++)
            if (t + k - P >= 0 && t + k - P < L) n++;
    return n;
}

static uint64_t conv_taps_ref(ConvMacs cm, uint64_t L, uint64_t c, int64_t K, int64_t P) {
    switch (cm) {
    case CONV_MACS_TAPS: return L * c * (uint64_t)K;
    case CONV_MACS_VALID: return valid_taps_ref((int64_t)L, K, P) * c;
    case CONV_MACS_BAND: return L * L * c;
    case CONV_MACS_NONE: return 0;
    }
    return 0;
}

static uint64_t closed_macs(const Arch *a, uint64_t S, uint64_t T, Conventions cv) {
    uint64_t d = a->d, F = a->F, N = (uint64_t)a->N;
    uint64_t PT = cv.attn_macs == ATTN_MACS_FULL ? T * T : T * (T + 1) / 2;
    if (!a->lite)
        return N * (S * (4 * d * d + 2 * d * F) + 2 * S * S * d) +
               N * (T * (6 * d * d + 2 * d * F) + 2 * S * d * d + 2 * PT * d + 2 * T * S * d);
    uint64_t c = d / 2;
    uint64_t lin1 = a->light ? c * c : (a->glu ? 2 * c * c : c * c);
    uint64_t per_tok = 4 * c * c + lin1 + c * c; /* attention branch, linear1, linear2 */
    uint64_t m = N * S * (per_tok + 2 * d * F) + N * T * (per_tok + 2 * d * d + 2 * d * F) +
                 N * 2 * S * d * d + N * 2 * S * S * c + N * 2 * PT * c + N * 2 * T * S * d;
    for (int l = 0; l < a->N; l++) {
        int64_t K = a->K[l];
        if (!a->light) m += (S + T) * c * a->Hc * (uint64_t)K; /* weight generator */
        m += conv_taps_ref(cv.conv_macs, S, c, K, (K - 1) / 2);
        m += conv_taps_ref(cv.conv_macs, T, c, K, K - 1);
    }
    return m;
}

static uint64_t closed_params(const Arch *a) {
    uint64_t d = a->d, F = a->F, N = (uint64_t)a->N;
    if (!a->lite)
        return N * (4 * d * d + 2 * d * F + F + 9 * d) + N * (8 * d * d + 2 * d * F + F + 15 * d);
    uint64_t c = d / 2, p = 0;
    for (int l = 0; l < a->N; l++) {
        uint64_t K = (uint64_t)a->K[l];
        uint64_t conv = a->light ? (c * c + c) + a->Hc * K + (c * c + c)
                                 : ((a->glu ? 2 * c : c) * c + (a->glu ? 2 * c : c)) +
                                       c * a->Hc * K + (c * c + c);
        uint64_t enc = 4 * c * c + 4 * c + conv + 2 * d * F + F + d + 4 * d;
        p += enc + enc + 4 * d * d + 4 * d + 2 * d;
    }
    return p;
}

static void build_lite(ModelConfig *cfg, const Arch *a, BranchType bt) {
    SimError err;
    sim_error_init(&err);
    assert_int_equal(config_arch_defaults("transformer_multibranch_v2_wmt_en_de", cfg, &err), SIM_OK);
    snprintf(cfg->path, sizeof cfg->path, "closed-form");
    cfg->src_vocab = cfg->tgt_vocab = 64;
    cfg->share_all_embeddings = cfg->share_decoder_input_output_embed = 1;
    cfg->conv_linear = 1;
    StackConfig *sides[2] = {&cfg->enc, &cfg->dec};
    for (int s = 0; s < 2; s++) {
        StackConfig *sc = sides[s];
        sc->embed_dim = (int64_t)a->d;
        sc->layers = a->N;
        sc->glu = a->glu;
        sc->nbranches = 2;
        sc->branches[0] = (BranchSpec){BRANCH_ATTN, 1, (int64_t)a->d / 2, 4};
        sc->branches[1] = (BranchSpec){bt, 0, (int64_t)a->d / 2, (int)a->Hc};
        for (int l = 0; l < a->N; l++) {
            sc->ffn_dim[l] = (int64_t)a->F;
            sc->heads[l] = 4;
            sc->kernel_size[l] = a->K[l];
        }
    }
    assert_int_equal(config_validate(cfg, &err), SIM_OK);
}

static void build_transformer(ModelConfig *cfg, const Arch *a) {
    SimError err;
    sim_error_init(&err);
    assert_int_equal(config_arch_defaults("transformer_wmt_en_de", cfg, &err), SIM_OK);
    snprintf(cfg->path, sizeof cfg->path, "closed-form");
    cfg->src_vocab = cfg->tgt_vocab = 64;
    cfg->share_all_embeddings = cfg->share_decoder_input_output_embed = 1;
    StackConfig *sides[2] = {&cfg->enc, &cfg->dec};
    for (int s = 0; s < 2; s++) {
        sides[s]->embed_dim = (int64_t)a->d;
        sides[s]->layers = a->N;
        for (int l = 0; l < a->N; l++) {
            sides[s]->ffn_dim[l] = (int64_t)a->F;
            sides[s]->heads[l] = 8;
        }
    }
    assert_int_equal(config_validate(cfg, &err), SIM_OK);
}

static void check_closed(const Arch *a, uint64_t S, uint64_t T, Conventions cv) {
    ModelConfig cfg;
    if (a->lite) build_lite(&cfg, a, a->light ? BRANCH_LIGHTWEIGHT : BRANCH_DYNAMIC);
    else build_transformer(&cfg, a);
    RunSpec spec = tu_spec(1);
    spec.src_len = (int64_t)S;
    spec.tgt_len = (int64_t)T;
    spec.conv = cv;
    SimError err;
    sim_error_init(&err);
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    uint64_t got = tu_macs(res.ledger, -1, NULL, -1) - tu_macs(res.ledger, CLASS_EMBED_OUTPUT, NULL, -1);
    uint64_t want = closed_macs(a, S, T, cv);
    if (got != want)
        fail_msg("lite=%d light=%d glu=%d d=%llu S=%llu T=%llu attn=%d conv=%d: ledger %llu, "
                 "closed form %llu",
                 a->lite, a->light, a->glu, (unsigned long long)a->d, (unsigned long long)S,
                 (unsigned long long)T, cv.attn_macs, cv.conv_macs, (unsigned long long)got,
                 (unsigned long long)want);
    assert_int_equal(res.model->params_headline, closed_params(a));
    /* the output projection is T*d*V */
    assert_int_equal(tu_macs(res.ledger, CLASS_EMBED_OUTPUT, NULL, -1), T * a->d * 64);
    runner_result_free(&res);
}

static void test_engine_closed_forms(void **state) {
    (void)state;
    static const int k6[6] = {3, 7, 15, 31, 31, 31};
    static const int k3[3] = {5, 1, 9};
    const Arch arches[] = {
        {1, 0, 1, 200, 200, 4, 6, k6}, {1, 0, 1, 96, 192, 2, 3, k3}, {1, 0, 0, 64, 128, 2, 3, k3},
        {1, 1, 0, 160, 160, 4, 6, k6}, {1, 1, 0, 48, 96, 4, 3, k3},  {0, 0, 0, 128, 512, 0, 6, k6},
        {0, 0, 0, 64, 100, 0, 2, k6},
    };
    const uint64_t lens[][2] = {{30, 30}, {1, 1}, {7, 19}, {45, 45}, {40, 2}};
    for (size_t i = 0; i < sizeof arches / sizeof arches[0]; i++)
        for (size_t j = 0; j < sizeof lens / sizeof lens[0]; j++)
            for (int attn = 0; attn < 2; attn++)
                for (int conv = 0; conv < 4; conv++) {
                    Conventions cv = {(AttnMacs)attn, (ConvMacs)conv};
                    check_closed(&arches[i], lens[j][0], lens[j][1], cv);
                }
}

/* Heterogeneous layers (HAT-style per-layer FFN widths and heads) against the per-layer
 * closed form of the Transformer. */
static void test_engine_heterogeneous_layers(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/heterogeneous.yml", 0, &cfg);
    RunSpec spec = tu_spec(1);
    SimError err;
    sim_error_init(&err);
    RunResult res;
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    const uint64_t d = 96, S = 30, T = 30, PT = 465;
    const uint64_t Fe[3] = {384, 192, 96}, Fd[2] = {96, 384};
    uint64_t macs = 0, params = 0;
    for (int l = 0; l < 3; l++) {
        macs += S * (4 * d * d + 2 * d * Fe[l]) + 2 * S * S * d;
        params += 4 * d * d + 2 * d * Fe[l] + Fe[l] + 9 * d;
    }
    for (int l = 0; l < 2; l++) {
        macs += T * (6 * d * d + 2 * d * Fd[l]) + 2 * S * d * d + 2 * PT * d + 2 * T * S * d;
        params += 8 * d * d + 2 * d * Fd[l] + Fd[l] + 15 * d;
    }
    assert_int_equal(tu_macs(res.ledger, -1, NULL, -1) - tu_macs(res.ledger, CLASS_EMBED_OUTPUT, NULL, -1), macs);
    assert_int_equal(res.model->params_headline, params);
    assert_int_equal(res.model->enc.layers[0].self_attn.heads, 4);
    assert_int_equal(res.model->enc.layers[1].self_attn.heads, 8);
    assert_int_equal(res.model->enc.layers[2].self_attn.heads, 2);
    assert_int_equal(res.model->dec.layers[1].enc_attn.heads, 6);
    runner_result_free(&res);
}

/* Three branches (attention, dynamic, lightweight): each branch's slice and ops are there. */
static void test_engine_three_branches(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/three_branches.yml", 0, &cfg);
    RunSpec spec = tu_spec(0);
    spec.src_len = 9;
    spec.tgt_len = 14;
    SimError err;
    sim_error_init(&err);
    RunResult res;
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    const Branch *b = res.model->dec.layers[1].br;
    assert_int_equal(b[1].off, 32);
    assert_int_equal(b[2].off, 48);
    assert_int_equal(b[2].kw, 5); /* fixed kernel in the spec, not the list */
    assert_int_equal(b[1].kw, 9); /* "default": the per-layer list */
    /* taps of the dynamic (16 channels) and lightweight (16 channels) branches, decoder side */
    assert_int_equal(tu_macs(res.ledger, -1, "decoder.layers.1.self_attn.branches.1", OP_CONV_DYNAMIC),
                     14 * 16 * 9);
    assert_int_equal(tu_macs(res.ledger, -1, "decoder.layers.1.self_attn.branches.2", OP_CONV_LIGHT),
                     14 * 16 * 5);
    for (int64_t i = 0; i < res.out.logits.rows * res.out.logits.cols; i++)
        assert_true(isfinite(res.out.logits.data[i]));
    runner_result_free(&res);
}

/* ---- the paper's configs (architectures.md §4.3, published.md §1) ---- */

static void check_model(const char *path, Conventions cv, uint64_t macs, uint64_t params,
                        uint64_t params_out) {
    ModelConfig cfg;
    tu_load_config(path, 0, &cfg);
    RunSpec spec = tu_spec(1);
    spec.conv = cv;
    SimError err;
    sim_error_init(&err);
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s: %s", path, err.msg);
    uint64_t got = tu_macs(res.ledger, -1, NULL, -1) - tu_macs(res.ledger, CLASS_EMBED_OUTPUT, NULL, -1);
    if (got != macs) fail_msg("%s: macs %llu, expected %llu", path, (unsigned long long)got,
                              (unsigned long long)macs);
    assert_int_equal(res.model->params_headline, params);
    assert_int_equal(res.model->params_output_projection, params_out);
    runner_result_free(&res);
}

static void test_engine_paper_configs(void **state) {
    (void)state;
    Conventions def = {ATTN_MACS_CAUSAL, CONV_MACS_TAPS};
    Conventions full = {ATTN_MACS_FULL, CONV_MACS_TAPS};
    check_model("models/lite-wmt-200.yml", def, 90138000, 2884400, 0);
    check_model("models/lite-wmt-408.yml", def, 359550000, 11739792, 0);
    check_model("models/lite-wmt-496.yml", def, 527451360, 17283616, 0);
    check_model("models/lite-cnndm-496.yml", def, 527451360, 17283616, 0);
    check_model("models/lite-iwslt-160.yml", def, 54292800, 1713584, 160 * 6632);
    check_model("models/lite-iwslt-240.yml", def, 119455200, 3837104, 240 * 6632);
    check_model("models/lite-iwslt-320.yml", def, 209961600, 6805424, 320 * 6632);
    check_model("models/transformer-base.yml", def, 1335121920, 44138496, 0);
    check_model("models/transformer-base.yml", full, 1337794560, 44138496, 0);
    /* full T^2 Lite numbers: 90.66 / 360.61 / 528.75 M (architectures.md §4.4) */
    check_model("models/lite-wmt-496.yml", full, 528745920, 17283616, 0);
    check_model("models/transformer-wmt-128.yml", def, 86054400, 2777088, 0);
    check_model("models/transformer-wmt-256.yml", def, 337259520, 11059200, 0);
    check_model("models/transformer-wmt-320.yml", def, 524793600, 17264640, 0);
}

/* The paper's "where the MACs go" for the 527M Lite model (published.md §1): attention
 * 276.4M, FFN 177.1M, convolution 76.1M with --attn-macs full --conv-macs band. */
static void test_engine_class_breakdown(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("models/lite-wmt-496.yml", 0, &cfg);
    RunSpec spec = tu_spec(1);
    spec.conv = (Conventions){ATTN_MACS_FULL, CONV_MACS_BAND};
    SimError err;
    sim_error_init(&err);
    RunResult res;
    assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
    assert_int_equal(tu_macs(res.ledger, CLASS_ATTENTION, NULL, -1), 276410880);
    assert_int_equal(tu_macs(res.ledger, CLASS_FFN, NULL, -1), 177131520);
    assert_int_equal(tu_macs(res.ledger, CLASS_CONVOLUTION, NULL, -1), 76126080);
    assert_int_equal(tu_macs(res.ledger, CLASS_NORM_OTHER, NULL, -1), 0);
    runner_result_free(&res);
}

/* ---- memory: every arena size below the plan fails cleanly with SIM_ENOMEM ---- */

/* An arena of 2 MiB or more starts on a 2 MiB boundary (huge pages for streamed weights)
 * but hands out exactly the bytes asked for, as a small one does. */
static void test_engine_arena_huge(void **state) {
    (void)state;
    SimError err;
    sim_error_init(&err);
    const size_t sizes[2] = {(size_t)3 << 20, 4096};
    for (int i = 0; i < 2; i++) {
        Arena *a = arena_open(sizes[i], 0, &err);
        assert_non_null(a);
        unsigned char *p = arena_alloc(a, sizes[i], 1, &err);
        assert_non_null(p);
        if (sizes[i] >= ((size_t)2 << 20)) assert_int_equal((uintptr_t)p % ((uintptr_t)2 << 20), 0);
        memset(p, 1, sizes[i]);
        assert_null(arena_alloc(a, 1, 1, &err));
        assert_int_equal(err.code, SIM_ENOMEM);
        sim_error_init(&err);
        arena_close(a);
    }
}

static void test_engine_arena_exhaustion(void **state) {
    (void)state;
    ModelConfig cfg;
    tu_load_config("tests/fixtures/golden_lite_dyn_glu.yml", 0, &cfg);
    SimError err;
    sim_error_init(&err);
    RunSpec spec = tu_spec(1);
    spec.src_len = 6;
    spec.tgt_len = 5;
    RunResult plan;
    assert_int_equal(runner_execute(&cfg, &spec, &plan, &err), SIM_OK);
    size_t need = plan.planned_bytes;
    ModelOptions mo = {0};
    mo.seed = 3;
    mo.max_positions = 6;
    Model *m = NULL;
    assert_int_equal(model_open(&cfg, &mo, &m, &err), SIM_OK);
    CostLedger *l = cost_ledger_open(&err);
    for (size_t cap = 0; cap <= need; cap += (cap < 4096 ? 64 : need / 97 + 1)) {
        SimError e2;
        sim_error_init(&e2);
        Arena *a = arena_open(cap, 0, &e2);
        assert_non_null(a);
        Run r = {0};
        r.act = a;
        r.ledger = l;
        r.err = &e2;
        cost_ledger_clear(l);
        ForwardOut out;
        SimStatus rc = model_forward(m, &r, plan.src, 6, plan.tgt, 5, &out);
        if (cap < need) assert_int_equal(rc, SIM_ENOMEM);
        arena_close(a);
    }
    /* exactly the planned size succeeds */
    Arena *a = arena_open(need, 0, &err);
    Run r = {0};
    r.act = a;
    r.ledger = l;
    r.err = &err;
    cost_ledger_clear(l);
    ForwardOut out;
    assert_int_equal(model_forward(m, &r, plan.src, 6, plan.tgt, 5, &out), SIM_OK);
    arena_close(a);
    cost_ledger_close(l);
    model_close(m);
    runner_result_free(&plan);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_engine_golden_lite_dyn_glu),
        cmocka_unit_test(test_engine_golden_lite_dyn_noglu),
        cmocka_unit_test(test_engine_golden_lite_light),
        cmocka_unit_test(test_engine_golden_transformer),
        cmocka_unit_test(test_engine_weight_layouts),
        cmocka_unit_test(test_engine_count_only_equals_executed),
        cmocka_unit_test(test_engine_heterogeneous_layers),
        cmocka_unit_test(test_engine_three_branches),
        cmocka_unit_test(test_engine_closed_forms),
        cmocka_unit_test(test_engine_paper_configs),
        cmocka_unit_test(test_engine_class_breakdown),
        cmocka_unit_test(test_engine_arena_exhaustion),
        cmocka_unit_test(test_engine_arena_huge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
