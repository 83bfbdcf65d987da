/*
 * cli.c - ltsim's subcommands and options (DESIGN.md §4). Only this file and main.c print
 * to the user: results on stdout, errors (one line each) and warnings on stderr.
 */
#include "cli.h"
#include "cli_util.h"
#include "cli_compress.h"
#include "cli_db.h"
#include "cli_hw.h"
#include "cli_plot.h"
#include "cli_sweep.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "ops.h"
#include "paths.h"
#include "report.h"
#include "runner.h"
#include "safetensors.h"
#include "store.h"

typedef struct {
    const char *model;
    int64_t src_len, tgt_len;
    int64_t batch;
    const char *mode;
    const char *weights;
    int64_t vocab_size;
    uint64_t seed;
    int threads;
    Conventions conv;
    int json;
    const char *src, *tgt;
    const char *save_outputs;
    const char *save_weights;
    const char *hw[64];  /* --hw NAME (repeatable; "all") */
    int nhw;
    const char *db;      /* --db PATH */
    int no_db;
    int allow_extra;
    int warmup, repeats;
    int beam;
    int64_t max_steps;
    int no_early_stop;
    int conv_set; /* --conv-macs given (otherwise: taps forward, valid generate) */
    int src_len_set, tgt_len_set; /* given on the command line (else the config's default) */
    CompressOptions compress;
    const char *size_baseline;
    int size_report;
} CliOptions;

static const char *prog = "ltsim";

/* Strict integer parsing: the whole string, within [lo, hi]. */
static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (s == NULL || *s == '\0') return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = (int64_t)v;
    return 0;
}

/* "1 2 3" or "1,2,3" -> ids (malloc'd). Returns count, or -1 on a bad id / no memory. */
static int64_t parse_ids(const char *s, int64_t **out, char *bad, size_t badlen) {
    size_t n = 0, cap = 16;
    int64_t *v = malloc(cap * sizeof *v);
    if (v == NULL) return -1;
    const char *p = s;
    while (*p) {
        while (*p == ' ' || *p == ',' || *p == '\t' || *p == '\n') p++;
        if (!*p) break;
        const char *q = p;
        while (*q && *q != ' ' && *q != ',' && *q != '\t' && *q != '\n') q++;
        char tok[32];
        int64_t x;
        if ((size_t)(q - p) >= sizeof tok) {
            snprintf(bad, badlen, "%.*s", (int)(q - p > 20 ? 20 : q - p), p);
            free(v);
            return -1;
        }
        memcpy(tok, p, (size_t)(q - p));
        tok[q - p] = '\0';
        if (parse_i64(tok, 0, INT64_MAX, &x) != 0) {
            snprintf(bad, badlen, "%s", tok);
            free(v);
            return -1;
        }
        if (n == cap) {
            cap *= 2;
            int64_t *nv = realloc(v, cap * sizeof *nv);
            if (nv == NULL) {
                free(v);
                return -1;
            }
            v = nv;
        }
        v[n++] = x;
        p = q;
    }
    *out = v;
    return (int64_t)n;
}

static void print_run_help(FILE *f, const char *cmd) {
    int run = strcmp(cmd, "run") == 0;
    fprintf(f,
            "usage: ltsim %s MODEL [options]\n\n"
            "%s\n\n"
            "MODEL is a YAML config (fairseq key names) or a name resolved as models/NAME.yml.\n\n"
            "options:\n"
            "  --src-len N            source length S (default: the config's src-len, else 30)\n"
            "  --tgt-len N            target length T, EOS included (default: the config's\n"
            "                         tgt-len, else 30)\n"
            "  --src \"i j k\"          source token ids (sets S); random ids otherwise\n"
            "  --tgt \"2 a b\"          decoder input ids, starting with EOS (sets T)\n"
            "  --vocab-size N         vocabulary size (overrides the config's)\n"
            "  --attn-macs causal|full           decoder self-attention pairs: T(T+1)/2 (default) "
            "or T^2\n"
            "  --conv-macs taps|valid|band|none  conv taps counted: all K (default), in-sequence "
            "only,\n"
            "                                    the T x T band product, or none\n"
            "  --mode forward|generate  one teacher-forced pass (default), or autoregressive\n"
            "                         decoding: the encoder once, then one decoder step per token\n"
            "                         over key/value caches and conv windows\n"
            "  --beam N               generate: beam size (default 1, greedy)\n"
            "  --max-steps N          generate: at most N steps (default --tgt-len)\n"
            "  --no-early-stop        generate: do not stop at EOS\n"
            "  --batch 1              sentences per pass (this build runs batch 1)\n"
            "  --json                 one JSON document on stdout\n"
            "  --quant int8|none      per-output-channel int8 weights, executed (default none)\n"
            "  --prune P              set the fraction P of the linear weights with the smallest\n"
            "                         magnitude to zero (fine-grained), executed\n"
            "  --prune-scope global|layer  one threshold for the model (default) or per matrix\n"
            "  --size-baseline MODEL  report the model size as a factor against MODEL's fp32 size\n"
            "  --size-embeddings      count token embeddings and output projection in sizes\n"
            "  --hw NAME[,NAME...]    predict latency and energy on these hardware profiles\n"
            "                         (hwprofiles/NAME.yml; repeatable; 'all' for every profile)\n"
            "  --db PATH              store the run in PATH (default db/ltsim.db)\n"
            "  --no-db                do not store the run\n",
            cmd,
            run ? "Builds MODEL, executes it (OpenBLAS), prints the cost ledger per layer and per "
                  "operator class,\nand the measured host time."
                : "Builds MODEL's graph and prints the same ledger as 'run' without executing "
                  "anything\n(no weights or activations are allocated).");
    if (run)
        fprintf(f,
                "  --weights FILE         load a safetensors file with fairseq state_dict names "
                "(default: seeded\n"
                "                         random weights)\n"
                "  --allow-extra-tensors  warn about, instead of rejecting, tensors the config "
                "does not use\n"
                "  --save-outputs FILE    write encoder_out, decoder_features and logits "
                "(safetensors);\n"
                "                         generate: tokens and step_logits\n"
                "  --save-weights FILE    write the model's weights (safetensors, the names and "
                "layout\n"
                "                         --weights loads)\n"
                "  --seed N               RNG seed for weights and random tokens (default 1)\n"
                "  --threads N            BLAS threads (default 1)\n"
                "  --warmup N             untimed passes before timing (default 3)\n"
                "  --repeats N            timed passes; the median is reported (default 20)\n");
    else
        fprintf(f, "  --seed N               RNG seed for random tokens (default 1)\n");
    fprintf(f, "  -h, --help             this help\n\n"
               "exit codes: 0 ok, 2 bad input (message names file, key and value), 1 runtime "
               "failure\n");
}

static void print_main_help(FILE *f) {
    fprintf(f, "usage: ltsim COMMAND [options]\n\n"
               "ltsim executes and costs Transformer and Lite Transformer models: every\n"
               "multiply-accumulate, parameter and byte, from the paper's configs.\n\n"
               "commands:\n"
               "  run MODEL     execute MODEL and print its cost ledger and host time\n"
               "  count MODEL   the same ledger without executing (count-only)\n"
               "  hw list|show NAME   hardware profiles and their sources\n"
               "  calibrate     fit a hardware profile: this host, or a device from a CSV\n"
               "  validate      predicted against measured latency\n"
               "  sweep         families x Mult-Add budgets x profiles: the widest width that\n"
               "                fits each budget, run, predicted and stored\n"
               "  db SUBCMD     list / show / diff / export / merge stored runs\n"
               "  compress-report MODEL   size and fidelity of fp32 -> int8 -> int8 + pruning\n"
               "  plot KIND     charts from the database through gnuplot (PNG/SVG)\n"
               "  report        every chart and table in one HTML/Markdown report\n"
               "  carbon        CO2, energy and cost of designing a model (presets or inputs)\n"
               "  accuracy      import measured accuracy (CSV) and fit estimates\n\n"
               "options:\n"
               "  --version     version and BLAS build\n"
               "  -h, --help    this help\n\n"
               "'ltsim COMMAND --help' lists a command's options.\n");
}

enum {
    OPT_SRC_LEN = 1000, OPT_TGT_LEN, OPT_BATCH, OPT_MODE, OPT_WEIGHTS, OPT_VOCAB, OPT_SEED,
    OPT_THREADS, OPT_ATTN, OPT_CONV, OPT_JSON, OPT_SRC, OPT_TGT, OPT_SAVE, OPT_EXTRA,
    OPT_WARMUP, OPT_REPEATS, OPT_BEAM, OPT_MAX_STEPS, OPT_NO_EARLY_STOP, OPT_SAVE_WEIGHTS,
    OPT_HW, OPT_DB, OPT_NO_DB, OPT_QUANT, OPT_PRUNE, OPT_PRUNE_SCOPE, OPT_SIZE_BASELINE,
    OPT_SIZE_EMB
};

static int parse_run_options(const char *cmd, int argc, char **argv, CliOptions *o) {
    static const struct option longopts[] = {
        {"src-len", required_argument, 0, OPT_SRC_LEN},
        {"tgt-len", required_argument, 0, OPT_TGT_LEN},
        {"batch", required_argument, 0, OPT_BATCH},
        {"mode", required_argument, 0, OPT_MODE},
        {"weights", required_argument, 0, OPT_WEIGHTS},
        {"vocab-size", required_argument, 0, OPT_VOCAB},
        {"seed", required_argument, 0, OPT_SEED},
        {"threads", required_argument, 0, OPT_THREADS},
        {"attn-macs", required_argument, 0, OPT_ATTN},
        {"conv-macs", required_argument, 0, OPT_CONV},
        {"json", no_argument, 0, OPT_JSON},
        {"src", required_argument, 0, OPT_SRC},
        {"tgt", required_argument, 0, OPT_TGT},
        {"save-outputs", required_argument, 0, OPT_SAVE},
        {"save-weights", required_argument, 0, OPT_SAVE_WEIGHTS},
        {"hw", required_argument, 0, OPT_HW},
        {"db", required_argument, 0, OPT_DB},
        {"no-db", no_argument, 0, OPT_NO_DB},
        {"quant", required_argument, 0, OPT_QUANT},
        {"prune", required_argument, 0, OPT_PRUNE},
        {"prune-scope", required_argument, 0, OPT_PRUNE_SCOPE},
        {"size-baseline", required_argument, 0, OPT_SIZE_BASELINE},
        {"size-embeddings", no_argument, 0, OPT_SIZE_EMB},
        {"allow-extra-tensors", no_argument, 0, OPT_EXTRA},
        {"warmup", required_argument, 0, OPT_WARMUP},
        {"repeats", required_argument, 0, OPT_REPEATS},
        {"beam", required_argument, 0, OPT_BEAM},
        {"max-steps", required_argument, 0, OPT_MAX_STEPS},
        {"no-early-stop", no_argument, 0, OPT_NO_EARLY_STOP},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    int run = strcmp(cmd, "run") == 0;
    optind = 1;
    opterr = 0;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case 'h': print_run_help(stdout, cmd); return -1;
        case OPT_SRC_LEN:
        case OPT_TGT_LEN:
            if (parse_i64(optarg, 1, 1000000, &v) != 0)
                return cli_usage_error(cmd, "%s: expected a length from 1 to 1000000, got '%s'",
                                   c == OPT_SRC_LEN ? "--src-len" : "--tgt-len", optarg);
            if (c == OPT_SRC_LEN) {
                o->src_len = v;
                o->src_len_set = 1;
            } else {
                o->tgt_len = v;
                o->tgt_len_set = 1;
            }
            break;
        case OPT_BATCH:
            if (parse_i64(optarg, 1, 1000000, &v) != 0)
                return cli_usage_error(cmd, "%s: expected a positive integer, got '%s'", "--batch",
                                   optarg);
            if (v != 1)
                return cli_usage_error(cmd, "--batch %s: this build runs batch 1 only", optarg);
            o->batch = v;
            break;
        case OPT_MODE:
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): getopt sets optarg */
            if (strcmp(optarg, "forward") != 0 && strcmp(optarg, "generate") != 0)
                return cli_usage_error(cmd, "--mode: expected forward or generate, got '%s'", optarg);
            o->mode = optarg;
            break;
        case OPT_BEAM:
            if (parse_i64(optarg, 1, 64, &v) != 0)
                return cli_usage_error(cmd, "--beam: expected an integer from 1 to 64, got '%s'",
                                   optarg);
            o->beam = (int)v;
            break;
        case OPT_MAX_STEPS:
            if (parse_i64(optarg, 1, 100000, &v) != 0)
                return cli_usage_error(cmd, "--max-steps: expected an integer from 1 to 100000, got '%s'",
                                   optarg);
            o->max_steps = v;
            break;
        case OPT_NO_EARLY_STOP: o->no_early_stop = 1; break;
        case OPT_WEIGHTS:
            if (!run) return cli_usage_error(cmd, "--weights: only 'run' loads weights");
            o->weights = optarg;
            break;
        case OPT_VOCAB:
            if (parse_i64(optarg, 1, 1 << 26, &v) != 0)
                return cli_usage_error(cmd, "%s: expected an integer from 1 to 67108864, got '%s'",
                                   "--vocab-size", optarg);
            o->vocab_size = v;
            break;
        case OPT_SEED:
            if (parse_i64(optarg, 0, INT64_MAX, &v) != 0)
                return cli_usage_error(cmd, "%s: expected a non-negative integer, got '%s'", "--seed",
                                   optarg);
            o->seed = (uint64_t)v;
            break;
        case OPT_THREADS:
            if (parse_i64(optarg, 1, 256, &v) != 0)
                return cli_usage_error(cmd, "%s: expected an integer from 1 to 256, got '%s'",
                                   "--threads", optarg);
            o->threads = (int)v;
            break;
        case OPT_ATTN:
            if (cost_attn_macs_parse(optarg, &o->conv.attn_macs) != 0)
                return cli_usage_error(cmd, "%s: expected causal or full, got '%s'", "--attn-macs",
                                   optarg);
            break;
        case OPT_CONV:
            if (cost_conv_macs_parse(optarg, &o->conv.conv_macs) != 0)
                return cli_usage_error(cmd, "%s: expected taps, valid, band or none, got '%s'",
                                   "--conv-macs", optarg);
            o->conv_set = 1;
            break;
        case OPT_JSON: o->json = 1; break;
        case OPT_SRC: o->src = optarg; break;
        case OPT_TGT: o->tgt = optarg; break;
        case OPT_SAVE:
            if (!run)
                return cli_usage_error(cmd, "--save-outputs: only 'run' has outputs to save");
            o->save_outputs = optarg;
            break;
        case OPT_SAVE_WEIGHTS:
            if (!run) return cli_usage_error(cmd, "--save-weights: only 'run' has weights to save");
            o->save_weights = optarg;
            break;
        case OPT_EXTRA: o->allow_extra = 1; break;
        case OPT_HW: /* NAME, a comma-separated list, or all; repeatable */
            for (char *rest = optarg, *tok; (tok = strsep(&rest, ",")) != NULL;) {
                if (*tok == '\0') return cli_usage_error(cmd, "--hw: an empty profile name in the list");
                if (o->nhw == (int)(sizeof o->hw / sizeof o->hw[0]))
                    return cli_usage_error(cmd, "--hw: at most %d profiles", o->nhw);
                o->hw[o->nhw++] = tok;
            }
            break;
        case OPT_DB: o->db = optarg; break;
        case OPT_NO_DB: o->no_db = 1; break;
        case OPT_QUANT:
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): getopt sets optarg */
            if (strcmp(optarg, "int8") == 0) o->compress.bits = 8;
            else if (strcmp(optarg, "none") == 0 || strcmp(optarg, "fp32") == 0) o->compress.bits = 0;
            else return cli_usage_error(cmd, "--quant: expected int8 or none, got '%s'", optarg);
            o->size_report = 1;
            break;
        case OPT_PRUNE: {
            char *end = NULL;
            errno = 0;
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): getopt sets optarg */
            double p = strtod(optarg, &end);
            if (errno || end == optarg || *end || !(p >= 0.0 && p < 1.0))
                return cli_usage_error(cmd, "--prune: expected a fraction in [0, 1), got '%s'", optarg);
            o->compress.prune = p;
            o->size_report = 1;
            break;
        }
        case OPT_PRUNE_SCOPE:
            /* NOLINTNEXTLINE(clang-analyzer-core.NonNullParamChecker): getopt sets optarg */
            if (strcmp(optarg, "global") == 0) o->compress.prune_per_layer = 0;
            else if (strcmp(optarg, "layer") == 0) o->compress.prune_per_layer = 1;
            else return cli_usage_error(cmd, "--prune-scope: expected global or layer, got '%s'", optarg);
            break;
        case OPT_SIZE_BASELINE:
            o->size_baseline = optarg;
            o->size_report = 1;
            break;
        case OPT_SIZE_EMB:
            o->compress.include_embeddings = 1;
            o->size_report = 1;
            break;
        case OPT_WARMUP:
        case OPT_REPEATS:
            if (!run)
                return cli_usage_error(cmd, "%s: only 'run' is timed", name);
            if (parse_i64(optarg, c == OPT_WARMUP ? 0 : 1, 100000, &v) != 0)
                return cli_usage_error(cmd, "%s: expected a count, got '%s'",
                                   c == OPT_WARMUP ? "--warmup" : "--repeats", optarg);
            if (c == OPT_WARMUP) o->warmup = (int)v;
            else o->repeats = (int)v;
            break;
        case ':': return cli_usage_error(cmd, "%s needs a value", name);
        default: return cli_usage_error(cmd, "unknown option '%s'", name);
        }
    }
    int gen = o->mode != NULL && strcmp(o->mode, "generate") == 0;
    if (!gen && (o->beam || o->max_steps || o->no_early_stop))
        return cli_usage_error(cmd, "--beam, --max-steps and --no-early-stop need --mode generate");
    if (gen && !o->conv_set) o->conv.conv_macs = CONV_MACS_VALID; /* what decoding executes */
    if (optind >= argc) return cli_usage_error(cmd, "missing MODEL");
    if (optind + 1 < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind + 1]);
    o->model = argv[optind];
    return 0;
}

static SimStatus save_outputs(const char *path, const RunResult *res, SimError *err) {
    StWriteItem items[3];
    memset(items, 0, sizeof items);
    if (res->steps != NULL) { /* generate: the reported hypothesis */
        int64_t n = res->gen.steps, V = res->model->cfg.tgt_vocab;
        items[0] = (StWriteItem){"tokens", ST_I64, 1, {n + 1}, res->gen.tokens};
        items[1] = (StWriteItem){"step_logits", ST_F32, 2, {n, V}, res->gen.step_logits};
        return st_write(path, items, 2, err);
    }
    const Tensor *t[3] = {&res->out.enc_out, &res->out.features, &res->out.logits};
    const char *names[3] = {"encoder_out", "decoder_features", "logits"};
    for (int i = 0; i < 3; i++) {
        items[i].name = names[i];
        items[i].dtype = ST_F32;
        items[i].ndim = 2;
        items[i].shape[0] = t[i]->rows;
        items[i].shape[1] = t[i]->cols;
        items[i].data = t[i]->data; /* outputs are packed (ld == cols) */
    }
    return st_write(path, items, 3, err);
}

static int64_t stored_id;

static char *read_text(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = NULL;
    size_t n = 0, cap = 0;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            cap = cap ? cap * 2 : 8192;
            char *nb = realloc(buf, cap);
            if (nb == NULL) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, 4096, f);
        n += k;
        if (k < 4096) break;
    }
    fclose(f);
    buf[n] = '\0';
    return buf;
}

/* Stores the run with its predictions into db (NULL: the default database); the path used
 * goes to dbpath. Returns the exit code (0, or 1 with the message printed). */
static int store_run(const char *cmd, const ReportInput *in, const HwProfile *profiles,
                     const char *db, char *dbpath, size_t n, SimError *err) {
    StorePrediction *sp = NULL;
    char **texts = NULL, **tops = NULL;
    int code = 0;
    if (in->npreds > 0) {
        sp = calloc((size_t)in->npreds, sizeof *sp);
        texts = calloc((size_t)in->npreds, sizeof *texts);
        tops = calloc((size_t)in->npreds, sizeof *tops);
        if (sp == NULL || texts == NULL || tops == NULL) {
            fprintf(stderr, "%s %s: out of memory storing the run\n", prog, cmd);
            code = 1;
            goto out;
        }
    }
    for (int i = 0; i < in->npreds; i++) {
        const HwPrediction *p = &in->preds[i];
        cJSON *arr = cJSON_CreateArray();
        for (int k = 0; arr && k < p->ntop; k++) {
            cJSON *t = cJSON_CreateObject();
            if (t == NULL) break;
            cJSON_AddStringToObject(t, "scope", p->top[k].scope);
            cJSON_AddStringToObject(t, "op", op_name((OpKind)p->top[k].op));
            cJSON_AddNumberToObject(t, "latency_ms", p->top[k].latency_ms);
            cJSON_AddItemToArray(arr, t);
        }
        tops[i] = arr ? cJSON_PrintUnformatted(arr) : NULL;
        cJSON_Delete(arr);
        texts[i] = profiles[i].path[0] ? read_text(profiles[i].path) : NULL;
        sp[i].hw = p->hw;
        sp[i].latency_ms = p->latency_ms;
        sp[i].energy_mj = p->energy_mj;
        sp[i].bound = p->memory_bound ? "memory" : "compute";
        sp[i].top_ops_json = tops[i];
        sp[i].profile_text = texts[i];
    }
    char dir[512], git[64] = "";
    paths_exe_dir(dir, sizeof dir);
    store_git_hash(dir, git, sizeof git);
    StoreExtra x = {0};
    char extra[128] = "";
    if (in->spec->compress.bits || in->spec->compress.prune > 0)
        snprintf(extra, sizeof extra, "quant=%s prune=%g prune-scope=%s",
                 in->spec->compress.bits ? "int8" : "none", in->spec->compress.prune,
                 in->spec->compress.prune_per_layer ? "layer" : "global");
    x.options_extra = extra[0] ? extra : NULL;
    x.git_hash = git[0] ? git : NULL;
    x.predictions = sp;
    x.npredictions = (size_t)in->npreds;
    if (db != NULL) snprintf(dbpath, n, "%s", db);
    else if (store_default_path(dbpath, n, err) != SIM_OK) {
        code = cli_fail_with(cmd, err);
        goto out;
    }
    stored_id = 0;
    /* the default database (db == NULL) has its db/ directory created when missing */
    if (store_save_report(db, in, &x, &stored_id, err) != SIM_OK) code = cli_fail_with(cmd, err);
out:
    for (int i = 0; i < in->npreds && texts; i++) {
        free(texts[i]);
        if (tops) cJSON_free(tops[i]);
    }
    free(texts);
    free(tops);
    free(sp);
    return code;
}

static int cmd_run(const char *cmd, int argc, char **argv) {
    CliOptions o = {0};
    o.src_len = 30;
    o.tgt_len = 30;
    o.batch = 1;
    o.seed = 1;
    o.threads = 1;
    o.warmup = 3;
    o.repeats = 20;
    int rc = parse_run_options(cmd, argc, argv, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o.model == NULL) return cli_usage_error(cmd, "missing MODEL");

    int64_t *src = NULL, *tgt = NULL;
    int64_t nsrc = 0, ntgt = 0;
    char bad[64] = "";
    SimError err;
    sim_error_init(&err);
    RunResult res;
    memset(&res, 0, sizeof res);
    ModelConfig cfg;
    char path[1024];
    int code = 0;
    HwProfile *profiles = NULL;
    HwPrediction *preds = NULL;
    int npreds = 0;

    if (o.src && (nsrc = parse_ids(o.src, &src, bad, sizeof bad)) <= 0) {
        code = cli_usage_error(cmd, "--src: expected token ids like \"5 17 9\", got '%s'",
                           nsrc < 0 ? bad : o.src);
        goto out;
    }
    if (o.tgt && (ntgt = parse_ids(o.tgt, &tgt, bad, sizeof bad)) <= 0) {
        code = cli_usage_error(cmd, "--tgt: expected token ids like \"2 5 17\", got '%s'",
                           ntgt < 0 ? bad : o.tgt);
        goto out;
    }
    if (paths_model(o.model, NULL, path, sizeof path) != 0) {
        if (strchr(o.model, '/') != NULL || strstr(o.model, ".yml") != NULL)
            fprintf(stderr, "%s %s: %s: cannot open: %s\n", prog, cmd, o.model, strerror(errno));
        else
            fprintf(stderr, "%s %s: %s: no such model file, and no models/%s.yml\n", prog, cmd,
                    o.model, o.model);
        code = 2;
        goto out;
    }
    ConfigOverrides ov = {o.vocab_size};
    if (config_load(path, &ov, &cfg, &err) != SIM_OK) {
        code = cli_fail_with(cmd, &err);
        goto out;
    }
    /* a config may carry its task's lengths (src-len / tgt-len); the options win */
    if (!o.src_len_set && cfg.src_len > 0) o.src_len = cfg.src_len;
    if (!o.tgt_len_set && cfg.tgt_len > 0) o.tgt_len = cfg.tgt_len;
    RunSpec spec = {0};
    spec.src_len = o.src_len;
    spec.tgt_len = o.tgt_len;
    spec.src = src;
    spec.nsrc = nsrc;
    spec.tgt = tgt;
    spec.ntgt = ntgt;
    spec.seed = o.seed;
    spec.threads = o.threads;
    spec.conv = o.conv;
    spec.count_only = strcmp(cmd, "count") == 0;
    spec.warmup = o.warmup;
    spec.repeats = o.repeats;
    spec.weights = o.weights;
    spec.allow_extra_tensors = o.allow_extra;
    spec.mode = o.mode && strcmp(o.mode, "generate") == 0 ? MODE_GENERATE : MODE_FORWARD;
    spec.beam = o.beam;
    spec.max_steps = o.max_steps;
    spec.no_early_stop = o.no_early_stop;
    spec.keep_logits = o.save_outputs != NULL;
    spec.save_weights = o.save_weights;
    spec.compress = o.compress;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) {
        code = cli_fail_with(cmd, &err);
        goto out;
    }
    if (res.model->warning[0] && o.json) fprintf(stderr, "warning: %s\n", res.model->warning);
    if (o.save_outputs && save_outputs(o.save_outputs, &res, &err) != SIM_OK) {
        code = cli_fail_with(cmd, &err);
        goto out;
    }
    /* predictions on the requested hardware profiles */
    HwProfileList all = {0};
    const char *names[256];
    int nnames = 0;
    for (int i = 0; i < o.nhw; i++) {
        if (strcmp(o.hw[i], "all") == 0) {
            if (all.names == NULL && hw_profile_list(&all, &err) != SIM_OK) {
                code = cli_fail_with(cmd, &err);
                goto out;
            }
            for (int k = 0; k < all.n && nnames < 256; k++) names[nnames++] = all.names[k];
        } else if (nnames < 256) {
            names[nnames++] = o.hw[i];
        }
    }
    if (nnames > 0) {
        profiles = calloc((size_t)nnames, sizeof *profiles);
        preds = calloc((size_t)nnames, sizeof *preds);
        if (profiles == NULL || preds == NULL) {
            fprintf(stderr, "%s %s: out of memory for predictions\n", prog, cmd);
            code = 1;
            goto out;
        }
    }
    for (int i = 0; i < nnames; i++) {
        if (hw_profile_open(names[i], &profiles[i], &err) != SIM_OK ||
            runner_predict(&res, &profiles[i], &preds[i], &err) != SIM_OK) {
            code = cli_fail_with(cmd, &err);
            goto out;
        }
        npreds = i + 1;
    }
    ReportInput in = {cmd, path, &cfg, &spec, &res, preds, npreds, 0, NULL, NULL};
    ReportSize size = {0};
    if (o.size_report) {
        compress_size(res.model, &o.compress, &size.model);
        size.include_embeddings = o.compress.include_embeddings;
        if (o.size_baseline) {
            char bpath[1024];
            ModelConfig bcfg;
            ModelOptions bmo = {0};
            Model *bm = NULL;
            CompressOptions none = {0};
            none.include_embeddings = o.compress.include_embeddings;
            bmo.count_only = 1;
            bmo.max_positions = 1;
            if (paths_model(o.size_baseline, NULL, bpath, sizeof bpath) != 0) {
                code = cli_usage_error(cmd, "--size-baseline: no such model '%s'", o.size_baseline);
                goto out;
            }
            if (config_load(bpath, &ov, &bcfg, &err) != SIM_OK ||
                model_open(&bcfg, &bmo, &bm, &err) != SIM_OK) {
                code = cli_fail_with(cmd, &err);
                goto out;
            }
            compress_size(bm, &none, &size.baseline);
            model_close(bm);
            size.baseline_name = o.size_baseline;
        }
        in.size = &size;
    }
    /* store before printing: a run that cannot be stored is a failure (exit 1) */
    char dbpath[1024] = "";
    if (!o.no_db) {
        code = store_run(cmd, &in, profiles, o.db, dbpath, sizeof dbpath, &err);
        if (code != 0) goto out;
        in.db_path = dbpath;
        in.run_id = stored_id;
    }
    if (o.json) {
        if (report_json(stdout, &in) != 0) {
            fprintf(stderr, "%s %s: out of memory building the JSON document\n", prog, cmd);
            code = 1;
            goto out;
        }
    } else {
        report_text(stdout, &in);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "%s %s: writing the report failed: %s\n", prog, cmd, strerror(errno));
        code = 1;
    }
out:
    for (int i = 0; i < npreds; i++) hw_prediction_free(&preds[i]);
    free(preds);
    free(profiles);
    hw_profile_list_free(&all);
    runner_result_free(&res);
    free(src);
    free(tgt);
    return code;
}

int cli_main(int argc, char **argv) {
    if (argc < 2) {
        print_main_help(stderr);
        return 2;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        print_main_help(stdout);
        return 0;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("ltsim %s (%s)\n", LTSIM_VERSION, ops_blas_name());
        return 0;
    }
    if (strcmp(cmd, "run") == 0 || strcmp(cmd, "count") == 0)
        return cmd_run(cmd, argc - 1, argv + 1);
    if (strcmp(cmd, "hw") == 0 || strcmp(cmd, "calibrate") == 0 || strcmp(cmd, "validate") == 0)
        return cli_hw_main(cmd, argc - 1, argv + 1);
    if (strcmp(cmd, "db") == 0) return cli_db_main(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0) return cli_sweep_main(argc - 1, argv + 1);
    if (strcmp(cmd, "compress-report") == 0) return cli_compress_main(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0 || strcmp(cmd, "report") == 0 || strcmp(cmd, "carbon") == 0 ||
        strcmp(cmd, "accuracy") == 0)
        return cli_plot_main(cmd, argc - 1, argv + 1);
    fprintf(stderr, "%s: unknown command '%s' (see '%s --help')\n", prog, cmd, prog);
    return 2;
}
