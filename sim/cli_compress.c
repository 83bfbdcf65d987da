/*
 * cli_compress.c - `ltsim compress-report MODEL` (issue: compression). For fp32, int8 and
 * int8 with pruning at each ratio: the model size as stored (and its factor against fp32 and
 * against a baseline's fp32 size), the relative error of the logits against fp32 on the same
 * input (max |a - b| / max |b|), the share of greedy tokens identical to fp32's over a
 * generate run, and the measured forward time.
 */
#include "cli_compress.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "compress.h"
#include "config.h"
#include "paths.h"
#include "runner.h"

static double rel_err(const Tensor *a, const Tensor *b) {
    double num = 0, den = 0;
    for (int64_t i = 0; i < a->rows; i++)
        for (int64_t j = 0; j < a->cols; j++) {
            double x = a->data[i * a->ld + j], y = b->data[i * b->ld + j];
            if (fabs(x - y) > num) num = fabs(x - y);
            if (fabs(y) > den) den = fabs(y);
        }
    return den > 0 ? num / den : num;
}

static int usage(const char *m, const char *v) {
    fprintf(stderr, "ltsim compress-report: %s '%s' (see 'ltsim compress-report --help')\n", m, v);
    return 2;
}

static void help(void) {
    printf("usage: ltsim compress-report MODEL [options]\n\n"
           "The size and fidelity ledger of fp32 -> int8 -> int8 + pruning: for each step the\n"
           "model size as stored (MB, the smaller of dense / CSR / bitmask per matrix), its\n"
           "factor against fp32 and against a baseline, the relative error of the logits\n"
           "against fp32 on the same input, the share of greedy tokens equal to fp32's over a\n"
           "generate run, and the forward time on this host.\n\n"
           "options:\n"
           "  --ratios LIST          pruning ratios (default 0.3,0.5,0.58,0.7)\n"
           "  --prune-scope global|layer\n"
           "  --size-baseline MODEL  baseline of the factor (default transformer-base)\n"
           "  --size-embeddings      count embeddings and output projection\n"
           "  --steps N              generate steps compared (default 30)\n"
           "  --weights FILE, --vocab-size N, --seed N, --src-len N, --tgt-len N\n"
           "  --json                 one JSON document\n");
}

int cli_compress_main(int argc, char **argv) {
    enum { O_RATIOS = 1000, O_SCOPE, O_BASE, O_EMB, O_STEPS, O_WEIGHTS, O_VOCAB, O_SEED, O_SRC,
           O_TGT, O_JSON };
    static const struct option lo[] = {
        {"ratios", required_argument, 0, O_RATIOS},   {"prune-scope", required_argument, 0, O_SCOPE},
        {"size-baseline", required_argument, 0, O_BASE}, {"size-embeddings", no_argument, 0, O_EMB},
        {"steps", required_argument, 0, O_STEPS},     {"weights", required_argument, 0, O_WEIGHTS},
        {"vocab-size", required_argument, 0, O_VOCAB}, {"seed", required_argument, 0, O_SEED},
        {"src-len", required_argument, 0, O_SRC},     {"tgt-len", required_argument, 0, O_TGT},
        {"json", no_argument, 0, O_JSON},             {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    char ratios_txt[256] = "0.3,0.5,0.58,0.7";
    const char *baseline = "transformer-base", *weights = NULL;
    int per_layer = 0, emb = 0, json = 0;
    long steps = 30, vocab = 0, seed = 1, S = 0, T = 0;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        char *end = NULL;
        switch (c) {
        case 'h': help(); return 0;
        case O_RATIOS: snprintf(ratios_txt, sizeof ratios_txt, "%s", optarg); break;
        case O_SCOPE:
            if (strcmp(optarg, "global") != 0 && strcmp(optarg, "layer") != 0)
                return usage("--prune-scope: expected global or layer, got", optarg);
            per_layer = strcmp(optarg, "layer") == 0;
            break;
        case O_BASE: baseline = optarg; break;
        case O_EMB: emb = 1; break;
        case O_WEIGHTS: weights = optarg; break;
        case O_JSON: json = 1; break;
        case O_STEPS:
        case O_VOCAB:
        case O_SEED:
        case O_SRC:
        case O_TGT: {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || end == optarg || *end || v < (c == O_SEED ? 0 : 1) || v > 1000000)
                return usage("expected a positive integer, got", optarg);
            if (c == O_STEPS) steps = v;
            else if (c == O_VOCAB) vocab = v;
            else if (c == O_SEED) seed = v;
            else if (c == O_SRC) S = v;
            else T = v;
            break;
        }
        case ':': return usage("a value is missing after", argv[optind - 1]);
        default: return usage("unknown option", argv[optind - 1]);
        }
    }
    if (optind >= argc) return usage("missing MODEL", "");
    double ratios[16];
    int nr = 0;
    char tmp[256];
    snprintf(tmp, sizeof tmp, "%s", ratios_txt);
    for (char *t = strtok(tmp, ","); t && nr < 16; t = strtok(NULL, ",")) {
        char *end = NULL;
        errno = 0;
        double v = strtod(t, &end);
        if (errno || end == t || *end || !(v > 0.0 && v < 1.0))
            return usage("--ratios: expected fractions in (0, 1), got", t);
        ratios[nr++] = v;
    }
    char path[1024], bpath[1024];
    /* a name not found stays as given: config_load names it */
    (void)paths_model(argv[optind], NULL, path, sizeof path);
    (void)paths_model(baseline, NULL, bpath, sizeof bpath);
    SimError err;
    sim_error_init(&err);
    ModelConfig cfg, bcfg;
    ConfigOverrides ov = {vocab};
    if (config_load(path, &ov, &cfg, &err) != SIM_OK || config_load(bpath, &ov, &bcfg, &err) != SIM_OK) {
        fprintf(stderr, "ltsim compress-report: %s\n", err.msg);
        return sim_exit_code(err.code);
    }
    /* the baseline's fp32 size */
    CompressOptions none = {0};
    none.include_embeddings = emb;
    ModelOptions bmo = {0};
    bmo.count_only = 1;
    bmo.max_positions = 1;
    Model *bm = NULL;
    if (model_open(&bcfg, &bmo, &bm, &err) != SIM_OK) {
        fprintf(stderr, "ltsim compress-report: %s\n", err.msg);
        return sim_exit_code(err.code);
    }
    CompressSize bsz;
    compress_size(bm, &none, &bsz);
    model_close(bm);

    RunSpec base;
    memset(&base, 0, sizeof base);
    base.src_len = S ? S : (cfg.src_len ? cfg.src_len : 30);
    base.tgt_len = T ? T : (cfg.tgt_len ? cfg.tgt_len : 30);
    base.seed = (uint64_t)seed;
    base.threads = 1;
    base.warmup = 1;
    base.repeats = 5;
    base.weights = weights;
    int nsteps = 2 + nr;
    cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "steps");
    cJSON_AddStringToObject(doc, "model", path);
    cJSON_AddStringToObject(doc, "baseline", baseline);
    cJSON_AddNumberToObject(doc, "baseline_bytes_fp32", (double)bsz.bytes_fp32);
    RunResult ref, refgen;
    memset(&ref, 0, sizeof ref);
    memset(&refgen, 0, sizeof refgen);
    int code = 0;
    if (!json)
        printf("ltsim compress-report %s (%s embeddings; baseline %s fp32 %.2f MB)\n"
               "  %-18s %10s %8s %8s %12s %10s %10s\n",
               path, emb ? "with" : "without", baseline, (double)bsz.bytes_fp32 / 1e6, "step",
               "MB", "x fp32", "x base", "logits err", "greedy =", "ms");
    for (int k = 0; k < nsteps; k++) {
        RunSpec sp = base;
        sp.compress.include_embeddings = emb;
        sp.compress.prune_per_layer = per_layer;
        char label[48];
        if (k == 0) snprintf(label, sizeof label, "fp32");
        else if (k == 1) {
            sp.compress.bits = 8;
            snprintf(label, sizeof label, "int8");
        } else {
            sp.compress.bits = 8;
            sp.compress.prune = ratios[k - 2];
            snprintf(label, sizeof label, "int8 + prune %.2f", ratios[k - 2]);
        }
        if (k > 0) { /* the same tokens as the fp32 pass */
            sp.src = ref.src;
            sp.nsrc = ref.S;
            sp.tgt = ref.tgt;
            sp.ntgt = ref.T;
        }
        RunResult r, g;
        if (runner_execute(&cfg, &sp, &r, &err) != SIM_OK) {
            code = sim_exit_code(err.code);
            break;
        }
        RunSpec gs = sp;
        gs.mode = MODE_GENERATE;
        gs.tgt = NULL;
        gs.max_steps = steps;
        gs.no_early_stop = 1;
        gs.warmup = 0;
        gs.repeats = 1;
        if (k == 0) gs.src = r.src, gs.nsrc = r.S;
        if (runner_execute(&cfg, &gs, &g, &err) != SIM_OK) {
            runner_result_free(&r);
            code = sim_exit_code(err.code);
            break;
        }
        CompressSize z;
        compress_size(r.model, &sp.compress, &z);
        double e = 0.0, agree = 1.0;
        if (k == 0) {
            ref = r;
            refgen = g;
        } else {
            e = rel_err(&r.out.logits, &ref.out.logits);
            int64_t same = 0, n = g.gen.steps < refgen.gen.steps ? g.gen.steps : refgen.gen.steps;
            for (int64_t i = 1; i <= n; i++) same += g.gen.tokens[i] == refgen.gen.tokens[i];
            agree = n > 0 ? (double)same / (double)n : 1.0;
        }
        double fx = z.bytes ? (double)z.bytes_fp32 / (double)z.bytes : 0;
        double bx = z.bytes ? (double)bsz.bytes_fp32 / (double)z.bytes : 0;
        double ms = r.median_ms;
        if (json) {
            cJSON *x = cJSON_CreateObject();
            cJSON_AddStringToObject(x, "step", label);
            cJSON_AddNumberToObject(x, "prune", sp.compress.prune);
            cJSON_AddNumberToObject(x, "bits", sp.compress.bits ? 8 : 32);
            cJSON_AddNumberToObject(x, "bytes", (double)z.bytes);
            cJSON_AddNumberToObject(x, "factor_vs_fp32", fx);
            cJSON_AddNumberToObject(x, "factor_vs_baseline", bx);
            cJSON_AddNumberToObject(x, "logits_rel_err", e);
            cJSON_AddNumberToObject(x, "greedy_agreement", agree);
            cJSON_AddNumberToObject(x, "forward_ms", ms);
            cJSON_AddItemToArray(arr, x);
        } else {
            printf("  %-18s %10.2f %8.2f %8.1f %12.4g %9.0f%% %10.3f\n", label, (double)z.bytes / 1e6,
                   fx, bx, e, 100.0 * agree, ms);
        }
        if (k > 0) {
            runner_result_free(&r);
            runner_result_free(&g);
        }
    }
    if (code == 0 && json) {
        char *s = cJSON_PrintUnformatted(doc);
        if (s) printf("%s\n", s);
        cJSON_free(s);
    }
    if (code == 0 && !json)
        printf("  (greedy = tokens equal to fp32's over a %ld-step generate run; err = max |dlogit| / "
               "max |logit|)\n", steps);
    if (code) fprintf(stderr, "ltsim compress-report: %s\n", err.msg);
    if (code == 0) {
        errno = 0;
        int e = fflush(stdout) != 0 ? errno : 0;
        if (e || ferror(stdout)) {
            fprintf(stderr, "ltsim compress-report: writing the report failed: %s\n",
                    e ? strerror(e) : "a write to standard output failed");
            code = 1;
        }
    }
    cJSON_Delete(doc);
    runner_result_free(&ref);
    runner_result_free(&refgen);
    return code;
}
