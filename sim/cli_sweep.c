/*
 * cli_sweep.c - `ltsim sweep` (DESIGN.md §4): for each family and budget, the widest width on
 * the grid whose MACs fit, run with its grid neighbours and the paper's named configs as
 * reference points, predicted on the requested profiles and stored with the sweep.
 *
 * Resumable: a point already stored for this sweep is skipped, and a run with the same
 * content hash is linked instead of run again; every point is stored with its run in one
 * transaction. --jobs N runs points in N processes (each with its own connection);
 * --shard I/N runs the points whose index is I modulo N.
 */
#include "cli_sweep.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hw.h"
#include "paths.h"
#include "report.h"
#include "runner.h"
#include "store.h"
#include "sweep.h"

#define MAX_POINTS 4096
#define MAX_HW 64

typedef struct {
    SweepFamily family;
    uint64_t budget;
    int64_t width;
    const char *role;    /* chosen | neighbour | reference | vary */
    char label[96];      /* reference: config name; vary: KEY=VALUE */
    char model[512];     /* reference: the config path */
    SweepOverride ov[1]; /* vary: one override */
    char ov_key[64], ov_val[32];
    int nov;
} Point;

typedef struct {
    SweepFamily fam[SWEEP_FAMILY_COUNT];
    int nfam;
    uint64_t budget[32];
    char budget_txt[32][24];
    int nbudget;
    const char *hw[MAX_HW];
    int nhw;
    int generate, count_only, json, jobs, shard_i, shard_n, warmup, repeats, beam;
    int64_t src_len, tgt_len, width;
    const char *db;
    char vary_key[64];
    int64_t vary_lo, vary_hi, vary_step;
    int has_vary;
    Conventions conv;
    int conv_set;
} SweepOpts;

static int usage(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage(const char *fmt, ...) {
    char m[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ltsim sweep: %s (see 'ltsim sweep --help')\n", m);
    return 2;
}

static void help(void) {
    printf("usage: ltsim sweep [options]\n\n"
           "For each family and Mult-Add budget, finds the widest width on the grid (multiples\n"
           "of 8, 16..4096, keeping every head and branch width integral) whose MACs fit the\n"
           "budget, runs it and its grid neighbours, and the paper's named configs as reference\n"
           "points; predicts each on the --hw profiles; stores everything with the sweep.\n"
           "Re-running the same sweep skips the points already stored.\n\n"
           "options:\n"
           "  --family LIST          lite, lite-light, transformer, evolved, lite-lm,\n"
           "                         transformer-lm (comma-separated; default\n"
           "                         lite,transformer,evolved)\n"
           "  --budget LIST          Mult-Add budgets with k/M/G suffixes (default 100M,300M,500M)\n"
           "  --vary KEY=LO:HI:STEP  also sweep a config key (fairseq name, or 'width') over\n"
           "                         LO..HI, on the template at --width (default: each chosen\n"
           "                         width; 512 without budgets)\n"
           "  --width N              the template width for --vary\n"
           "  --hw NAME              predict on profile NAME (repeatable; 'all')\n"
           "  --mode forward|generate, --src-len N, --tgt-len N, --beam N\n"
           "  --attn-macs causal|full, --conv-macs taps|valid|band|none\n"
           "  --count-only           count the points without executing them\n"
           "  --warmup N, --repeats N  timing of executed points (default 1 and 5)\n"
           "  --jobs N               run points in N processes (default 1)\n"
           "  --shard I/N            run only the points whose index is I modulo N (0 <= I < N)\n"
           "  --db PATH              the database (default db/ltsim.db)\n"
           "  --json                 print the stored sweep points as JSON at the end\n"
           "  -h, --help             this help\n");
}

static int split_list(char *s, char **out, int max) {
    int n = 0;
    for (char *tok = strtok(s, ","); tok && n < max; tok = strtok(NULL, ",")) out[n++] = tok;
    return n;
}

static int parse_i64(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return -1;
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, SweepOpts *o, char *famlist, char *budlist) {
    enum { O_FAM = 1000, O_BUD, O_VARY, O_WIDTH, O_HW, O_MODE, O_SRC, O_TGT, O_BEAM, O_ATTN,
           O_CONV, O_COUNT, O_WARM, O_REP, O_JOBS, O_SHARD, O_DB, O_JSON };
    static const struct option lo[] = {
        {"family", required_argument, 0, O_FAM}, {"budget", required_argument, 0, O_BUD},
        {"vary", required_argument, 0, O_VARY},  {"width", required_argument, 0, O_WIDTH},
        {"hw", required_argument, 0, O_HW},      {"mode", required_argument, 0, O_MODE},
        {"src-len", required_argument, 0, O_SRC}, {"tgt-len", required_argument, 0, O_TGT},
        {"beam", required_argument, 0, O_BEAM},  {"attn-macs", required_argument, 0, O_ATTN},
        {"conv-macs", required_argument, 0, O_CONV}, {"count-only", no_argument, 0, O_COUNT},
        {"warmup", required_argument, 0, O_WARM}, {"repeats", required_argument, 0, O_REP},
        {"jobs", required_argument, 0, O_JOBS},  {"shard", required_argument, 0, O_SHARD},
        {"db", required_argument, 0, O_DB},      {"json", no_argument, 0, O_JSON},
        {"help", no_argument, 0, 'h'},           {0, 0, 0, 0}};
    optind = 1;
    opterr = 0;
    int c;
    int64_t v;
    while ((c = getopt_long(argc, argv, ":h", lo, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case 'h': help(); return -1;
        case O_FAM: snprintf(famlist, 256, "%s", optarg); break;
        case O_BUD: snprintf(budlist, 512, "%s", optarg); break;
        case O_VARY: {
            const char *eq = strchr(optarg, '=');
            long long a, b, st;
            char tail;
            if (eq == NULL || eq == optarg || (size_t)(eq - optarg) >= sizeof o->vary_key ||
                sscanf(eq + 1, "%lld:%lld:%lld%c", &a, &b, &st, &tail) != 3 || st <= 0 || a > b ||
                a < 1)
                return usage("--vary: expected KEY=LO:HI:STEP with 1 <= LO <= HI and STEP > 0, "
                             "got '%s'", optarg);
            snprintf(o->vary_key, sizeof o->vary_key, "%.*s", (int)(eq - optarg), optarg);
            o->vary_lo = a;
            o->vary_hi = b;
            o->vary_step = st;
            o->has_vary = 1;
            break;
        }
        case O_WIDTH:
            if (parse_i64(optarg, 8, 65536, &o->width))
                return usage("--width: expected 8..65536, got '%s'", optarg);
            break;
        case O_HW:
            if (o->nhw == MAX_HW) return usage("--hw: at most %d profiles", MAX_HW);
            o->hw[o->nhw++] = optarg;
            break;
        case O_MODE:
            if (strcmp(optarg, "forward") != 0 && strcmp(optarg, "generate") != 0)
                return usage("--mode: expected forward or generate, got '%s'", optarg);
            o->generate = strcmp(optarg, "generate") == 0;
            break;
        case O_SRC:
        case O_TGT:
            if (parse_i64(optarg, 1, 100000, &v))
                return usage("%s: expected a length from 1 to 100000, got '%s'", name, optarg);
            if (c == O_SRC) o->src_len = v;
            else o->tgt_len = v;
            break;
        case O_BEAM:
            if (parse_i64(optarg, 1, 64, &v)) return usage("--beam: expected 1..64, got '%s'", optarg);
            o->beam = (int)v;
            break;
        case O_ATTN:
            if (cost_attn_macs_parse(optarg, &o->conv.attn_macs))
                return usage("--attn-macs: expected causal or full, got '%s'", optarg);
            break;
        case O_CONV:
            if (cost_conv_macs_parse(optarg, &o->conv.conv_macs))
                return usage("--conv-macs: expected taps, valid, band or none, got '%s'", optarg);
            o->conv_set = 1;
            break;
        case O_COUNT: o->count_only = 1; break;
        case O_WARM:
        case O_REP:
            if (parse_i64(optarg, c == O_WARM ? 0 : 1, 10000, &v))
                return usage("%s: expected a count, got '%s'", name, optarg);
            if (c == O_WARM) o->warmup = (int)v;
            else o->repeats = (int)v;
            break;
        case O_JOBS:
            if (parse_i64(optarg, 1, 64, &v)) return usage("--jobs: expected 1..64, got '%s'", optarg);
            o->jobs = (int)v;
            break;
        case O_SHARD: {
            long long i, n;
            char tail;
            if (sscanf(optarg, "%lld/%lld%c", &i, &n, &tail) != 2 || n < 1 || i < 0 || i >= n)
                return usage("--shard: expected I/N with 0 <= I < N, got '%s'", optarg);
            o->shard_i = (int)i;
            o->shard_n = (int)n;
            break;
        }
        case O_DB: o->db = optarg; break;
        case O_JSON: o->json = 1; break;
        case ':': return usage("%s needs a value", name);
        default: return usage("unknown option '%s'", name);
        }
    }
    if (optind < argc) return usage("unexpected argument '%s'", argv[optind]);
    return 0;
}

/* A reference model's config; models/NAME.yml when there is none, for config_load's message. */
static void model_path(const char *name, char *out, size_t n) {
    if (paths_model(name, NULL, out, n) != 0) snprintf(out, n, "models/%s.yml", name);
}

/* "100M", "1.5G": a budget for people */
static void budget_str(uint64_t b, char *buf, size_t n) {
    if (b == 0) snprintf(buf, n, "-");
    else if (b % 1000000000ull == 0) snprintf(buf, n, "%lluG", (unsigned long long)(b / 1000000000ull));
    else if (b % 1000000ull == 0) snprintf(buf, n, "%lluM", (unsigned long long)(b / 1000000ull));
    else snprintf(buf, n, "%llu", (unsigned long long)b);
}

static int add_point(Point *pts, int *n, const Point *p) {
    for (int i = 0; i < *n; i++) /* one point per (family, budget, width, variant, model) */
        if (pts[i].family == p->family && pts[i].budget == p->budget &&
            pts[i].width == p->width && strcmp(pts[i].label, p->label) == 0 &&
            strcmp(pts[i].model, p->model) == 0)
            return 0;
    if (*n == MAX_POINTS) return -1;
    pts[(*n)++] = *p;
    return 0;
}

static char *read_file(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    char *buf = malloc(1 << 20);
    size_t k = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
    if (buf) buf[k] = '\0';
    fclose(f);
    return buf;
}

typedef struct {
    const SweepOpts *o;
    HwProfile *profiles;
    int nprof;
    int64_t sweep_id;
    const char *git;
} Ctx;

/* Runs (or finds) point p and stores it. Returns the exit code of this point. */
static int out_errno; /* the errno of the first failed flush of the progress lines */

static int run_point(Store *st, const Ctx *cx, const Point *p, int idx, int total) {
    const SweepOpts *o = cx->o;
    SimError err;
    sim_error_init(&err);
    ModelConfig cfg;
    char text[2048] = "";
    char *ftext = NULL;
    if (p->model[0]) {
        if (config_load(p->model, NULL, &cfg, &err) != SIM_OK) goto fail;
        ftext = read_file(p->model);
    } else {
        if (sweep_config(p->family, p->width, p->ov, p->nov, &cfg, &err) != SIM_OK) goto fail;
        sweep_template_yaml(p->family, p->width, p->ov, p->nov, text, sizeof text);
    }
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = o->src_len;
    spec.tgt_len = o->tgt_len;
    spec.seed = 1;
    spec.threads = 1;
    spec.conv = o->conv;
    spec.count_only = o->count_only;
    spec.warmup = o->warmup;
    spec.repeats = o->repeats;
    spec.mode = o->generate ? MODE_GENERATE : MODE_FORWARD;
    spec.beam = o->beam;
    StoreSweepPoint sp = {cx->sweep_id, sweep_family_name(p->family), p->budget, p->width,
                          p->role, p->label[0] ? p->label : NULL};
    int64_t rid = 0;
    FILE *out = o->json ? stderr : stdout;
    char bud[24];
    budget_str(p->budget, bud, sizeof bud);
    if (store_sweep_point_find(st, &sp, &rid, &err) != SIM_OK) goto fail;
    if (rid > 0) {
        fprintf(out, "[%d/%d] %-11s %-5s %-9s d=%-5lld already stored (run %lld)\n", idx + 1,
                total, sweep_family_name(p->family), bud, p->role, (long long)p->width,
                (long long)rid);
        free(ftext);
        return 0;
    }
    char hash[STORE_HASH_LEN + 1];
    store_content_hash(&cfg, &spec, NULL, hash);
    /* a named config is run under its own name (the published results join on it) */
    if (!p->model[0] && store_find_by_hash(st, hash, &rid, &err) != SIM_OK) goto fail;
    if (rid > 0) { /* the same computation is stored already (another sweep or point) */
        if (store_sweep_point_add(st, &sp, rid, &err) != SIM_OK) goto fail;
        fprintf(out, "[%d/%d] %-11s %-5s %-9s d=%-5lld the same run as run %lld%s%s%s\n", idx + 1,
                total, sweep_family_name(p->family), bud, p->role, (long long)p->width,
                (long long)rid, p->label[0] ? " (" : "", p->label, p->label[0] ? ")" : "");
        if (fflush(out) != 0 && out_errno == 0) out_errno = errno;
        free(ftext);
        return 0;
    }
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) goto fail;
    HwPrediction preds[MAX_HW];
    StorePrediction spred[MAX_HW];
    char *tops[MAX_HW];
    memset(preds, 0, sizeof preds);
    memset(tops, 0, sizeof tops);
    int np = 0, code = 0;
    for (int i = 0; i < cx->nprof; i++) {
        if (runner_predict(&res, &cx->profiles[i], &preds[i], &err) != SIM_OK) {
            code = 1;
            break;
        }
        np = i + 1;
        cJSON *arr = cJSON_CreateArray();
        for (int k = 0; arr && k < preds[i].ntop; k++) {
            cJSON *t = cJSON_CreateObject();
            cJSON_AddStringToObject(t, "scope", preds[i].top[k].scope);
            cJSON_AddNumberToObject(t, "latency_ms", preds[i].top[k].latency_ms);
            cJSON_AddItemToArray(arr, t);
        }
        tops[i] = arr ? cJSON_PrintUnformatted(arr) : NULL;
        cJSON_Delete(arr);
        spred[i] = (StorePrediction){preds[i].hw, preds[i].latency_ms, preds[i].energy_mj,
                                     preds[i].memory_bound ? "memory" : "compute", tops[i], NULL};
    }
    if (code == 0) {
        ReportInput in = {"sweep", p->model[0] ? p->model : cfg.path, &cfg, &spec, &res, preds,
                          np, 0, NULL, NULL};
        StoreExtra x = {0};
        x.git_hash = cx->git;
        x.config_text = p->model[0] ? ftext : text;
        x.predictions = spred;
        x.npredictions = (size_t)np;
        x.point = &sp;
        x.skip_ledger = o->count_only; /* a count-only sweep keeps totals, not every scope */
        if (store_save_run(st, &in, &x, &rid, &err) != SIM_OK) code = 1;
    }
    if (code == 0) {
        ReportTotals t;
        ReportInput in = {"sweep", cfg.path, &cfg, &spec, &res, NULL, 0, 0, NULL, NULL};
        report_totals(&in, &t);
        char line[1024];
        int k = snprintf(line, sizeof line, "[%d/%d] %-11s %-5s %-9s d=%-5lld %14llu MACs %11llu params",
                         idx + 1, total, sweep_family_name(p->family), bud, p->role,
                         (long long)p->width, (unsigned long long)t.macs,
                         (unsigned long long)t.params);
        if (p->label[0] && k > 0 && (size_t)k < sizeof line)
            k += snprintf(line + k, sizeof line - (size_t)k, " (%s)", p->label);
        if (res.repeats > 0 && k > 0 && (size_t)k < sizeof line)
            k += snprintf(line + k, sizeof line - (size_t)k, "  %.3f ms", res.median_ms);
        for (int i = 0; i < np && k > 0 && (size_t)k < sizeof line; i++)
            k += snprintf(line + k, sizeof line - (size_t)k, "  %s %.1f ms", preds[i].hw,
                          preds[i].latency_ms);
        fprintf(out, "%s\n", line);
        if (fflush(out) != 0 && out_errno == 0) out_errno = errno;
    }
    for (int i = 0; i < np; i++) {
        hw_prediction_free(&preds[i]);
        cJSON_free(tops[i]);
    }
    runner_result_free(&res);
    free(ftext);
    if (code) {
        fprintf(stderr, "ltsim sweep: %s\n", err.msg);
        return sim_exit_code(err.code);
    }
    return 0;
fail:
    free(ftext);
    fprintf(stderr, "ltsim sweep: %s\n", err.msg);
    return sim_exit_code(err.code);
}

/* Flushes stdout; on a failed write (a full disk, a closed pipe) says so once: 1. */
static int out_failed(void) {
    errno = 0;
    int e = fflush(stdout) != 0 ? errno : 0;
    if (e == 0 && !ferror(stdout)) return 0;
    if (out_errno) e = out_errno;
    /* an earlier write may have failed: its errno is gone, but a write to stdout failed */
    fprintf(stderr, "ltsim sweep: writing the output failed: %s (the points are stored)\n",
            e ? strerror(e) : "a write to standard output failed");
    return 1;
}

/* One worker: the points i with i % jobs == w of this shard's list. */
static int worker(const Ctx *cx, const Point *pts, const int *mine, int n, int w, int jobs) {
    SimError err;
    sim_error_init(&err);
    Store *st = store_open(cx->o->db, &err);
    if (st == NULL) {
        fprintf(stderr, "ltsim sweep: %s\n", err.msg);
        return sim_exit_code(err.code);
    }
    int code = 0;
    for (int i = w; i < n && code == 0; i += jobs) code = run_point(st, cx, &pts[mine[i]], i, n);
    store_close(st);
    return code;
}

int cli_sweep_main(int argc, char **argv) {
    SweepOpts o;
    memset(&o, 0, sizeof o);
    o.src_len = o.tgt_len = 30;
    o.jobs = 1;
    o.shard_n = 1;
    o.warmup = 1;
    o.repeats = 5;
    char famlist[256] = "lite,transformer,evolved", budlist[512] = "100M,300M,500M";
    int rc = parse_opts(argc, argv, &o, famlist, budlist);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.generate && !o.conv_set) o.conv.conv_macs = CONV_MACS_VALID;
    char *items[32];
    char famcopy[256], budcopy[512]; /* split_list cuts its argument at the commas */
    snprintf(famcopy, sizeof famcopy, "%s", famlist);
    int n = split_list(famcopy, items, 32);
    for (int i = 0; i < n; i++) {
        SweepFamily f;
        if (sweep_family_parse(items[i], &f))
            return usage("--family: unknown family '%s' (lite, lite-light, transformer, evolved, "
                         "lite-lm, transformer-lm)",
                         items[i]);
        o.fam[o.nfam++] = f;
    }
    if (o.nfam == 0) return usage("--family: no family given");
    int explicit_budget = strcmp(budlist, "100M,300M,500M") != 0;
    if (o.has_vary && !explicit_budget && strcmp(o.vary_key, "width") == 0) budlist[0] = '\0';
    snprintf(budcopy, sizeof budcopy, "%s", budlist);
    n = budcopy[0] ? split_list(budcopy, items, 32) : 0;
    for (int i = 0; i < n; i++) {
        if (sweep_parse_macs(items[i], &o.budget[o.nbudget]))
            return usage("--budget: expected a number with an optional k/M/G suffix, got '%s'",
                         items[i]);
        snprintf(o.budget_txt[o.nbudget++], sizeof o.budget_txt[0], "%s", items[i]);
    }

    /* hardware profiles, loaded once */
    SimError err;
    sim_error_init(&err);
    HwProfileList all = {0};
    HwProfile *profiles = calloc(MAX_HW, sizeof *profiles);
    Point *pts = calloc(MAX_POINTS, sizeof *pts);
    int *mine = calloc(MAX_POINTS, sizeof *mine);
    int np = 0, nprof = 0, code = 0;
    Store *st = NULL;
    if (profiles == NULL || pts == NULL || mine == NULL) {
        fprintf(stderr, "ltsim sweep: out of memory\n");
        code = 1;
        goto out;
    }
    for (int i = 0; i < o.nhw; i++) {
        if (strcmp(o.hw[i], "all") == 0) {
            if (all.names == NULL && hw_profile_list(&all, &err) != SIM_OK) goto fail;
            for (int k = 0; k < all.n && nprof < MAX_HW; k++)
                if (hw_profile_open(all.names[k], &profiles[nprof++], &err) != SIM_OK) goto fail;
        } else if (nprof < MAX_HW) {
            if (hw_profile_open(o.hw[i], &profiles[nprof++], &err) != SIM_OK) goto fail;
        }
    }

    /* the points: per family, the chosen width of each budget and its neighbours, the named
     * configs, and the --vary values */
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = o.src_len;
    spec.tgt_len = o.tgt_len;
    spec.conv = o.conv;
    spec.mode = o.generate ? MODE_GENERATE : MODE_FORWARD;
    spec.beam = o.beam;
    for (int fi = 0; fi < o.nfam; fi++) {
        SweepFamily f = o.fam[fi];
        int64_t chosen[32] = {0};
        for (int b = 0; b < o.nbudget; b++) {
            int64_t w = 0;
            uint64_t m = 0;
            if (sweep_solve(f, o.budget[b], &spec, NULL, 0, &w, &m, &err) != SIM_OK) goto fail;
            if (w == 0) {
                fprintf(stderr, "ltsim sweep: %s: no width on the grid fits %s MACs\n",
                        sweep_family_name(f), o.budget_txt[b]);
                continue;
            }
            chosen[b] = w;
            Point p = {0};
            p.family = f;
            p.budget = o.budget[b];
            p.width = w;
            p.role = "chosen";
            int64_t nb[2] = {sweep_grid_step(f, w, -1, NULL, 0), sweep_grid_step(f, w, 1, NULL, 0)};
            if (add_point(pts, &np, &p)) goto full;
            for (int k = 0; k < 2; k++) {
                if (nb[k] == 0) continue;
                Point q = p;
                q.width = nb[k];
                q.role = "neighbour";
                if (add_point(pts, &np, &q)) goto full;
            }
        }
        for (const char *const *r = sweep_references(f); *r; r++) {
            Point p = {0};
            p.family = f;
            p.role = "reference";
            snprintf(p.label, sizeof p.label, "%s", *r);
            model_path(*r, p.model, sizeof p.model);
            ModelConfig rc2;
            if (config_load(p.model, NULL, &rc2, &err) != SIM_OK) goto fail;
            p.width = rc2.enc.embed_dim;
            if (add_point(pts, &np, &p)) goto full;
        }
        if (o.has_vary) {
            int is_width = strcmp(o.vary_key, "width") == 0;
            int nbase = 0;
            int64_t bases[33];
            if (is_width) bases[nbase++] = 0;
            else if (o.width) bases[nbase++] = o.width;
            else {
                for (int b = 0; b < o.nbudget; b++)
                    if (chosen[b]) bases[nbase++] = chosen[b];
                if (nbase == 0) bases[nbase++] = 512;
            }
            for (int bi = 0; bi < nbase; bi++)
                for (int64_t v = o.vary_lo; v <= o.vary_hi; v += o.vary_step) {
                    Point p = {0};
                    p.family = f;
                    p.role = "vary";
                    snprintf(p.label, sizeof p.label, "%s=%lld", o.vary_key, (long long)v);
                    if (is_width) {
                        p.width = v;
                    } else {
                        p.width = bases[bi];
                        snprintf(p.ov_key, sizeof p.ov_key, "%s", o.vary_key);
                        snprintf(p.ov_val, sizeof p.ov_val, "%lld", (long long)v);
                        p.nov = 1;
                    }
                    ModelConfig vc;
                    SimError ve;
                    sim_error_init(&ve);
                    Point tmp = p;
                    tmp.ov[0] = (SweepOverride){tmp.ov_key, tmp.ov_val};
                    if (sweep_config(f, p.width, tmp.ov, p.nov, &vc, &ve) != SIM_OK) {
                        if (!is_width) { /* a bad key or value is the user's input */
                            fprintf(stderr, "ltsim sweep: --vary: %s\n", ve.msg);
                            code = 2;
                            goto out;
                        }
                        continue; /* a width whose heads or branches would not divide */
                    }
                    if (add_point(pts, &np, &p)) goto full;
                }
        }
    }
    /* the override pointers refer to each point's own strings */
    for (int i = 0; i < np; i++) pts[i].ov[0] = (SweepOverride){pts[i].ov_key, pts[i].ov_val};

    /* the sweep row: identity = its options (not --jobs / --shard / --json) */
    char spec_json[2048];
    snprintf(spec_json, sizeof spec_json,
             "{\"family\":\"%s\",\"budget\":\"%s\",\"mode\":\"%s\",\"src_len\":%lld,"
             "\"tgt_len\":%lld,\"beam\":%d,\"count_only\":%d,\"attn_macs\":\"%s\","
             "\"conv_macs\":\"%s\",\"vary\":\"%s=%lld:%lld:%lld\",\"width\":%lld,"
             "\"warmup\":%d,\"repeats\":%d,\"hw\":%d}",
             famlist, budlist, o.generate ? "generate" : "forward", (long long)o.src_len,
             (long long)o.tgt_len, o.beam, o.count_only, cost_attn_macs_name(o.conv.attn_macs),
             cost_conv_macs_name(o.conv.conv_macs), o.has_vary ? o.vary_key : "",
             (long long)o.vary_lo, (long long)o.vary_hi, (long long)o.vary_step,
             (long long)o.width, o.warmup, o.repeats, nprof);
    st = store_open(o.db, &err);
    if (st == NULL) goto fail;
    char name[256];
    snprintf(name, sizeof name, "%s x %s%s", famlist, budlist[0] ? budlist : "-",
             o.count_only ? " (count-only)" : "");
    char dir[512], git[64] = "";
    paths_exe_dir(dir, sizeof dir);
    store_git_hash(dir, git, sizeof git);
    StoreSweep sw = {name, spec_json, git[0] ? git : NULL};
    int64_t sweep_id = 0;
    if (store_sweep_begin(st, &sw, &sweep_id, NULL, &err) != SIM_OK) goto fail;
    store_close(st); /* workers open their own connections */
    st = NULL;

    int nmine = 0;
    for (int i = 0; i < np; i++)
        if (i % o.shard_n == o.shard_i) mine[nmine++] = i;
    Ctx cx = {&o, profiles, nprof, sweep_id, git[0] ? git : NULL};
    time_t t0 = time(NULL);
    fprintf(stderr, "ltsim sweep: %d points%s, %d job%s, sweep %lld\n", nmine,
            o.shard_n > 1 ? " in this shard" : "", o.jobs, o.jobs > 1 ? "s" : "",
            (long long)sweep_id);
    if (o.jobs <= 1) {
        code = worker(&cx, pts, mine, nmine, 0, 1);
    } else {
        pid_t pids[64] = {0}; /* a failed fork leaves the rest unstarted */
        fflush(stdout);
        fflush(stderr);
        for (int w = 0; w < o.jobs; w++) {
            pids[w] = fork();
            if (pids[w] < 0) {
                perror("ltsim sweep: fork");
                code = 1;
                break;
            }
            if (pids[w] == 0) {
                int c = worker(&cx, pts, mine, nmine, w, o.jobs);
                if (out_failed() && c == 0) c = 1;
                _exit(c);
            }
        }
        for (int w = 0; w < o.jobs; w++) {
            int s = 0;
            if (pids[w] > 0 && waitpid(pids[w], &s, 0) > 0) {
                int c = WIFEXITED(s) ? WEXITSTATUS(s) : 1;
                if (c && !code) code = c;
            }
        }
    }
    if (code == 0) {
        st = store_open(o.db, &err);
        if (st == NULL || (o.shard_n == 1 && store_sweep_finish(st, sweep_id, &err) != SIM_OK))
            goto fail;
        fprintf(stderr, "ltsim sweep: done in %lld s; 'ltsim db export --format json' lists the points\n",
                (long long)(time(NULL) - t0));
        if (o.json && store_export(st, "points", STORE_JSON, stdout, &err) != SIM_OK) goto fail;
        if (out_failed()) code = 1;
    }
    goto out;
full:
    fprintf(stderr, "ltsim sweep: more than %d points\n", MAX_POINTS);
    code = 2;
    goto out;
fail:
    fprintf(stderr, "ltsim sweep: %s\n", err.msg);
    code = sim_exit_code(err.code);
out:
    store_close(st);
    hw_profile_list_free(&all);
    free(profiles);
    free(pts);
    free(mine);
    return code;
}
