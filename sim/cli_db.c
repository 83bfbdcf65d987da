/*
 * cli_db.c - `ltsim db`: list, show, diff, export and merge stored runs (see cli_db.h).
 *
 * Every subcommand takes --db PATH (default: db/ltsim.db under $LTSIM_HOME or beside the
 * binary) and --help; the ones that print numbers take --json (one JSON document on stdout,
 * nothing else). Reading and writing go through the store module only.
 */
#include "cli_db.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fmt.h"
#include "store.h"

static int db_usage_error(const char *sub, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int db_usage_error(const char *sub, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "ltsim db%s%s: %s (see 'ltsim db%s%s --help')\n", sub ? " " : "",
            sub ? sub : "", msg, sub ? " " : "", sub ? sub : "");
    return 2;
}

static int db_fail(const char *sub, const SimError *err) {
    fprintf(stderr, "ltsim db %s: %s\n", sub, err->msg[0] ? err->msg : sim_status_str(err->code));
    return sim_exit_code(err->code);
}

static void print_db_help(FILE *f) {
    fprintf(f,
            "usage: ltsim db COMMAND [options]\n\n"
            "The results database: every run, sweep point, calibration fit and the published\n"
            "results, with their provenance (default db/ltsim.db under $LTSIM_HOME or beside\n"
            "the ltsim binary).\n\n"
            "commands:\n"
            "  list                 stored runs, newest first\n"
            "  show RUN             one run: options, provenance, totals, resolved config,\n"
            "                       measurements, predictions and its ledger\n"
            "  diff RUN_A RUN_B     changed config keys and options, totals and MACs per scope\n"
            "  export               sweep points (default) or one table, as CSV or JSON\n"
            "  merge OTHER.db       copy the runs, sweeps and calibrations of another ltsim\n"
            "                       database that are not here yet\n\n"
            "RUN is a run id, 'latest', or a prefix (4+ hex digits) of the run's uuid.\n"
            "options of every command: --db PATH, -h/--help ('ltsim db COMMAND --help').\n\n"
            "exit codes: 0 ok, 2 bad usage or input (no such run or file), 1 runtime failure\n"
            "(database locked past the 10 s busy timeout, not writable, disk full)\n");
}

static void print_sub_help(FILE *f, const char *sub) {
    if (strcmp(sub, "list") == 0)
        fprintf(f, "usage: ltsim db list [--limit N] [--json] [--db PATH]\n\n"
                   "Lists stored runs, newest first: id, time, command, model, lengths,\n"
                   "conventions, parameters, MACs, measured median and predictions.\n\n"
                   "  --limit N    at most N runs (default 50; 0 = all)\n");
    else if (strcmp(sub, "show") == 0)
        fprintf(f, "usage: ltsim db show RUN [--json] [--db PATH]\n\n"
                   "Prints one run: its options and provenance (ltsim version, git hash, host,\n"
                   "CPU, BLAS, threads, seed, conventions), totals, resolved config, host\n"
                   "measurements, predictions, generate steps, its ledger and the config text.\n"
                   "RUN is an id, 'latest', or a uuid prefix.\n");
    else if (strcmp(sub, "diff") == 0)
        fprintf(f, "usage: ltsim db diff RUN_A RUN_B [--all] [--json] [--db PATH]\n\n"
                   "Shows the config keys and options that differ between two runs, the change\n"
                   "of every total, and per scope (fairseq module) the MACs of both and the\n"
                   "change in MACs and parameters.\n\n"
                   "  --all        list every scope, not only the changed ones\n");
    else if (strcmp(sub, "export") == 0) {
        fprintf(f, "usage: ltsim db export [--format csv|json] [--table T] [--db PATH]\n\n"
                   "Writes the sweep points (default: each {sweep, family, budget_macs, width,\n"
                   "macs, params, measured_ms, predictions, published, ...}; CSV: one line per\n"
                   "point and prediction) or a whole table to stdout.\n\n"
                   "  --format F   csv or json (default json)\n"
                   "  --table T    one of:");
        for (const char *const *t = store_export_tables(); *t; t++) fprintf(f, " %s", *t);
        fprintf(f, "\n");
    } else if (strcmp(sub, "merge") == 0)
        fprintf(f, "usage: ltsim db merge OTHER.db [--json] [--db PATH]\n\n"
                   "Copies from OTHER.db (opened read-only) every run not already here (by run\n"
                   "uuid) with its rows, sweeps (by specification), their points, and\n"
                   "calibrations, in one transaction: merging twice adds nothing. Use it to\n"
                   "combine the shards of a sweep run with --shard I/N.\n");
    fprintf(f, "\n  --json       one JSON document on stdout%s\n"
               "  --db PATH    the database (default db/ltsim.db under $LTSIM_HOME or beside\n"
               "               the binary)\n"
               "  -h, --help   this help\n",
            strcmp(sub, "export") == 0 ? " (same as --format json)" : "");
}

/* ---- numbers ---- */

/* "+1,234", "-1,234" or "0" */
static const char *signed_grouped(int64_t v, char *buf, size_t n) {
    char g[40];
    uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1u : (uint64_t)v;
    snprintf(buf, n, "%s%s", v > 0 ? "+" : v < 0 ? "-" : "", fmt_grouped(mag, g, sizeof g));
    return buf;
}

static int64_t delta(uint64_t a, uint64_t b) { return (int64_t)b - (int64_t)a; }

static void add_int(cJSON *o, const char *k, int64_t v) {
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)v);
    cJSON_AddRawToObject(o, k, num);
}

static void add_real(cJSON *o, const char *k, double v) {
    if (isnan(v)) cJSON_AddNullToObject(o, k);
    else cJSON_AddNumberToObject(o, k, v);
}


/* A field's value as a JSON item (integers exact). */
static cJSON *field_json(const StoreField *f) {
    char num[32];
    switch (f->type) {
    case STORE_INT:
        snprintf(num, sizeof num, "%lld", (long long)f->i);
        return cJSON_CreateRaw(num);
    case STORE_REAL: return isnan(f->r) ? cJSON_CreateNull() : cJSON_CreateNumber(f->r);
    case STORE_TEXT: return cJSON_CreateString(f->text);
    default: return cJSON_CreateNull();
    }
}

static void add_field(cJSON *o, const StoreField *f) {
    cJSON_AddItemToObject(o, f->name, field_json(f));
}

static void field_text(const StoreField *f, char *buf, size_t n) {
    switch (f->type) {
    case STORE_INT: snprintf(buf, n, "%lld", (long long)f->i); break;
    case STORE_REAL: snprintf(buf, n, "%.6g", f->r); break;
    case STORE_TEXT: snprintf(buf, n, "%s", f->text); break;
    default: snprintf(buf, n, "-");
    }
}

static int field_equal(const StoreField *a, const StoreField *b) {
    if (a->type != b->type) return 0;
    switch (a->type) {
    case STORE_INT: return a->i == b->i;
    case STORE_REAL: return a->r == b->r;
    case STORE_TEXT: return strcmp(a->text, b->text) == 0;
    default: return 1;
    }
}

/* Columns of runs reported as totals (numbers with deltas in diff). */
static const char *const total_names[] = {
    "params", "params_output_projection", "params_total", "macs", "macs_output_projection",
    "other_flops", "flops", "bytes_weights", "bytes_activations", "planned_bytes", "peak_bytes",
    "macs_attention", "macs_convolution", "macs_ffn", "macs_norm_other",
    "macs_embedding_output", "once_macs", "once_bytes_weights", NULL};

static int is_total(const char *name) {
    for (int i = 0; total_names[i]; i++)
        if (strcmp(total_names[i], name) == 0) return 1;
    return 0;
}

/* Columns not shown as options or provenance (identity, or shown elsewhere). */
static int is_identity(const char *name) {
    return strcmp(name, "id") == 0 || strcmp(name, "uuid") == 0 ||
           strcmp(name, "content_hash") == 0 || strcmp(name, "created_at") == 0 ||
           strcmp(name, "config_text") == 0;
}

static const char *run_text(const StoreRun *r, const char *name) {
    const StoreField *f = store_field(r->fields, r->nfields, name);
    return f && f->type == STORE_TEXT ? f->text : "";
}

/* Prints cJSON to stdout; 1 on failure (out of memory). */
static int print_json(cJSON *o) {
    char *s = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (s == NULL) {
        fprintf(stderr, "ltsim db: out of memory building the JSON document\n");
        return 1;
    }
    printf("%s\n", s);
    free(s);
    return 0;
}

/* ---- option parsing ---- */

typedef struct {
    const char *db;
    int json, all;
    int64_t limit;
    const char *format, *table;
    const char *pos[2];
    int npos;
} DbOptions;

enum { OPT_DB = 2000, OPT_JSON, OPT_ALL, OPT_LIMIT, OPT_FORMAT, OPT_TABLE };

/* Parses argv (argv[0] = the subcommand). Returns 0, -1 after --help, or 2. */
static int parse_db_options(const char *sub, int argc, char **argv, int npos_want,
                            DbOptions *o) {
    static const struct option longopts[] = {
        {"db", required_argument, 0, OPT_DB},       {"json", no_argument, 0, OPT_JSON},
        {"all", no_argument, 0, OPT_ALL},           {"limit", required_argument, 0, OPT_LIMIT},
        {"format", required_argument, 0, OPT_FORMAT}, {"table", required_argument, 0, OPT_TABLE},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0},
    };
    int is_list = strcmp(sub, "list") == 0, is_export = strcmp(sub, "export") == 0;
    int is_diff = strcmp(sub, "diff") == 0;
    optind = 0; /* glibc: full re-initialisation for a new argv */
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        const char *name = optind > 0 && optind <= argc ? argv[optind - 1] : "?";
        switch (c) {
        case 'h': print_sub_help(stdout, sub); return -1;
        case OPT_DB: o->db = optarg; break;
        case OPT_JSON: o->json = 1; break;
        case OPT_ALL:
            if (!is_diff) return db_usage_error(sub, "unknown option '%s'", name);
            o->all = 1;
            break;
        case OPT_LIMIT: {
            if (!is_list) return db_usage_error(sub, "unknown option '%s'", name);
            char *end = NULL;
            errno = 0;
            long long v = strtoll(optarg, &end, 10);
            if (errno || *optarg == '\0' || *end != '\0' || v < 0)
                return db_usage_error(sub, "--limit: expected a count (0 = all), got '%s'", optarg);
            o->limit = v;
            break;
        }
        case OPT_FORMAT:
            if (!is_export) return db_usage_error(sub, "unknown option '%s'", name);
            if (strcmp(optarg, "csv") != 0 && strcmp(optarg, "json") != 0)
                return db_usage_error(sub, "--format: expected csv or json, got '%s'", optarg);
            o->format = optarg;
            break;
        case OPT_TABLE:
            if (!is_export) return db_usage_error(sub, "unknown option '%s'", name);
            o->table = optarg;
            break;
        case ':': return db_usage_error(sub, "%s needs a value", name);
        default: return db_usage_error(sub, "unknown option '%s'", name);
        }
    }
    while (optind < argc) {
        if (o->npos >= npos_want)
            return db_usage_error(sub, "unexpected argument '%s'", argv[optind]);
        o->pos[o->npos++] = argv[optind++];
    }
    if (o->npos < npos_want)
        return db_usage_error(sub, "missing %s",
                              is_diff ? (o->npos == 0 ? "RUN_A and RUN_B" : "RUN_B")
                              : strcmp(sub, "merge") == 0 ? "OTHER.db"
                                                           : "RUN");
    return 0;
}

/* Opens --db (or the default, created on first use). A named database that does not exist
 * is bad input for the commands that only read (a typo creates no file). */
static int open_db(const char *sub, const DbOptions *o, int may_create, Store **s) {
    SimError err;
    sim_error_init(&err);
    if (o->db && !may_create && strcmp(o->db, ":memory:") != 0 &&
        strncmp(o->db, "file:", 5) != 0 && access(o->db, F_OK) != 0) {
        fprintf(stderr, "ltsim db %s: %s: no such database file\n", sub, o->db);
        return 2;
    }
    *s = store_open(o->db, &err);
    if (*s == NULL) return db_fail(sub, &err);
    return 0;
}

static int finish_stdout(const char *sub) {
    if (fflush(stdout) != 0 || ferror(stdout)) {
        fprintf(stderr, "ltsim db %s: writing the output failed: %s\n", sub, strerror(errno));
        return 1;
    }
    return 0;
}

/* ---- list ---- */

static int cmd_list(int argc, char **argv) {
    DbOptions o = {0};
    o.limit = 50;
    int rc = parse_db_options("list", argc, argv, 0, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    Store *s = NULL;
    if ((rc = open_db("list", &o, 0, &s)) != 0) return rc;
    SimError err;
    sim_error_init(&err);
    StoreRunSummary *v = NULL;
    size_t n = 0;
    if (store_run_list(s, o.limit, &v, &n, &err) != SIM_OK) {
        rc = db_fail("list", &err);
        goto out;
    }
    if (o.json) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < n; i++) {
            cJSON *x = cJSON_CreateObject();
            if (x == NULL) break;
            add_int(x, "id", v[i].id);
            cJSON_AddStringToObject(x, "uuid", v[i].uuid);
            cJSON_AddStringToObject(x, "created_at", v[i].created_at);
            cJSON_AddStringToObject(x, "command", v[i].command);
            cJSON_AddStringToObject(x, "mode", v[i].mode);
            cJSON_AddStringToObject(x, "model", v[i].model_name);
            cJSON_AddStringToObject(x, "family", v[i].family);
            add_int(x, "src_len", v[i].src_len);
            add_int(x, "tgt_len", v[i].tgt_len);
            cJSON_AddStringToObject(x, "attn_macs", v[i].attn_macs);
            cJSON_AddStringToObject(x, "conv_macs", v[i].conv_macs);
            add_int(x, "params", (int64_t)v[i].params);
            add_int(x, "macs", (int64_t)v[i].macs);
            add_real(x, "measured_ms", v[i].median_ms);
            add_int(x, "predictions", v[i].npredictions);
            cJSON_AddItemToArray(a, x);
        }
        rc = print_json(a);
    } else if (n == 0) {
        printf("no runs in %s\n", store_path(s));
    } else {
        char a[40], b[40];
        printf("%zu run%s in %s, newest first\n", n, n == 1 ? "" : "s", store_path(s));
        printf("%6s  %-24s  %-7s  %-22s  %-9s  %-11s  %12s  %15s  %10s  %3s\n", "id",
               "created (UTC)", "command", "model", "S/T", "attn/conv", "params", "MACs",
               "median ms", "hw");
        for (size_t i = 0; i < n; i++) {
            char st[32], cv[24], ms[24];
            snprintf(st, sizeof st, "%lld/%lld", (long long)v[i].src_len,
                     (long long)v[i].tgt_len);
            snprintf(cv, sizeof cv, "%s/%s", v[i].attn_macs, v[i].conv_macs);
            if (v[i].has_measurement) snprintf(ms, sizeof ms, "%.3f", v[i].median_ms);
            else snprintf(ms, sizeof ms, "-");
            printf("%6lld  %-24s  %-7s  %-22s  %-9s  %-11s  %12s  %15s  %10s  %3lld\n",
                   (long long)v[i].id, v[i].created_at, v[i].command, v[i].model_name, st, cv,
                   fmt_grouped(v[i].params, a, sizeof a), fmt_grouped(v[i].macs, b, sizeof b), ms,
                   (long long)v[i].npredictions);
        }
    }
    if (rc == 0) rc = finish_stdout("list");
out:
    free(v);
    store_close(s);
    return rc;
}

/* ---- show ---- */

static cJSON *run_json(const StoreRun *r) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return NULL;
    for (size_t i = 0; i < r->nfields; i++) add_field(o, &r->fields[i]);
    cJSON *cfg = cJSON_AddObjectToObject(o, "config");
    for (size_t i = 0; cfg && i < r->nconfig; i++)
        cJSON_AddStringToObject(cfg, r->config[i].name, r->config[i].text);
    if (r->nmeasurement > 0) {
        cJSON *m = cJSON_AddObjectToObject(o, "measured_ms");
        for (size_t i = 0; m && i < r->nmeasurement; i++) add_field(m, &r->measurement[i]);
    } else {
        cJSON_AddNullToObject(o, "measured_ms");
    }
    cJSON *p = cJSON_AddArrayToObject(o, "predictions");
    for (size_t i = 0; p && i < r->npredictions; i++) {
        const StorePredictionRow *e = &r->predictions[i];
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        cJSON_AddStringToObject(x, "hw", e->hw);
        add_real(x, "latency_ms", e->latency_ms);
        add_real(x, "energy_mj", e->energy_mj);
        if (e->bound) cJSON_AddStringToObject(x, "bound", e->bound);
        else cJSON_AddNullToObject(x, "bound");
        cJSON *top = cJSON_Parse(e->top_ops_json);
        if (top) cJSON_AddItemToObject(x, "top_ops", top);
        else cJSON_AddArrayToObject(x, "top_ops");
        cJSON_AddItemToArray(p, x);
    }
    cJSON *st = cJSON_AddArrayToObject(o, "steps");
    for (size_t i = 0; st && i < r->nsteps; i++) {
        const StoreStep *e = &r->steps[i];
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        add_int(x, "t", e->step);
        add_int(x, "macs", (int64_t)e->macs);
        add_int(x, "macs_output_projection", (int64_t)e->macs_output_projection);
        add_int(x, "bytes_weights", (int64_t)e->bytes_weights);
        add_int(x, "bytes_cache", (int64_t)e->bytes_cache);
        add_real(x, "host_ms", e->host_ms);
        cJSON_AddItemToArray(st, x);
    }
    cJSON *ly = cJSON_AddArrayToObject(o, "layers");
    for (size_t i = 0; ly && i < r->nledger; i++) {
        const StoreLedgerRow *e = &r->ledger[i];
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        cJSON_AddStringToObject(x, "scope", e->scope);
        cJSON_AddStringToObject(x, "op", e->op);
        cJSON_AddStringToObject(x, "class", e->cls);
        add_int(x, "macs", (int64_t)e->macs);
        add_int(x, "other_flops", (int64_t)e->other_flops);
        add_int(x, "params", (int64_t)e->params);
        add_int(x, "bytes_weights", (int64_t)e->weight_bytes);
        add_int(x, "bytes_read", (int64_t)(e->weight_bytes + e->act_bytes_read));
        add_int(x, "bytes_written", (int64_t)e->bytes_written);
        add_int(x, "calls", (int64_t)e->calls);
        add_int(x, "time_ns", (int64_t)e->time_ns);
        cJSON_AddItemToArray(ly, x);
    }
    return o;
}

static void show_text(const StoreRun *r) {
    char a[40], line[1024];
    printf("run %lld  %s %s  (uuid %s, %s)\n", (long long)r->id, run_text(r, "command"),
           run_text(r, "model_path"), run_text(r, "uuid"), run_text(r, "created_at"));
    printf("\noptions and provenance:\n");
    for (size_t i = 0; i < r->nfields; i++) {
        const StoreField *f = &r->fields[i];
        if (is_total(f->name) || strcmp(f->name, "config_text") == 0 ||
            strcmp(f->name, "id") == 0)
            continue;
        field_text(f, line, sizeof line);
        printf("  %-26s %s\n", f->name, line);
    }
    printf("\ntotals:\n");
    for (int i = 0; total_names[i]; i++) {
        const StoreField *f = store_field(r->fields, r->nfields, total_names[i]);
        if (f == NULL || f->type != STORE_INT) continue;
        printf("  %-26s %18s\n", f->name, fmt_grouped((uint64_t)f->i, a, sizeof a));
    }
    printf("\nconfig (resolved):\n");
    for (size_t i = 0; i < r->nconfig; i++)
        printf("  %-34s %s\n", r->config[i].name, r->config[i].text);
    if (r->nmeasurement > 0) {
        printf("\nmeasured on the host:\n");
        for (size_t i = 0; i < r->nmeasurement; i++) {
            field_text(&r->measurement[i], line, sizeof line);
            printf("  %-26s %s\n", r->measurement[i].name, line);
        }
    }
    if (r->npredictions > 0) {
        printf("\npredictions:\n  %-20s %12s %12s  %s\n", "hw", "latency ms", "energy mJ",
               "bound");
        for (size_t i = 0; i < r->npredictions; i++) {
            const StorePredictionRow *p = &r->predictions[i];
            char e[32];
            if (isnan(p->energy_mj)) snprintf(e, sizeof e, "-");
            else snprintf(e, sizeof e, "%.4f", p->energy_mj);
            printf("  %-20s %12.4f %12s  %s\n", p->hw, p->latency_ms, e, p->bound ? p->bound : "-");
        }
    }
    if (r->nsteps > 0) {
        printf("\ngenerate steps:\n  %4s %15s %15s %15s %15s\n", "t", "MACs", "MACs out proj",
               "bytes weights", "bytes cache");
        for (size_t i = 0; i < r->nsteps; i++) {
            char b[40], c[40], d[40];
            const StoreStep *p = &r->steps[i];
            printf("  %4lld %15s %15s %15s %15s\n", (long long)p->step,
                   fmt_grouped(p->macs, a, sizeof a), fmt_grouped(p->macs_output_projection, b, sizeof b),
                   fmt_grouped(p->bytes_weights, c, sizeof c), fmt_grouped(p->bytes_cache, d, sizeof d));
        }
    }
    if (r->nledger > 0) {
        printf("\nledger (%zu entries):\n  %-52s %-14s %-16s %14s %12s %12s\n", r->nledger,
               "scope", "op", "class", "MACs", "params", "other FLOPs");
        for (size_t i = 0; i < r->nledger; i++) {
            const StoreLedgerRow *e = &r->ledger[i];
            char b[40], c[40];
            printf("  %-52s %-14s %-16s %14s %12s %12s\n", e->scope, e->op, e->cls,
                   fmt_grouped(e->macs, a, sizeof a), fmt_grouped(e->params, b, sizeof b),
                   fmt_grouped(e->other_flops, c, sizeof c));
        }
    }
    const StoreField *text = store_field(r->fields, r->nfields, "config_text");
    if (text && text->type == STORE_TEXT) {
        printf("\nconfig file (%s):\n", run_text(r, "model_path"));
        const char *p = text->text;
        while (*p) {
            size_t k = strcspn(p, "\n");
            printf("  | %.*s\n", (int)k, p);
            p += k;
            if (*p) p++;
        }
    }
}

static int load_ref(Store *s, const char *sub, const char *ref, StoreRun **r) {
    SimError err;
    sim_error_init(&err);
    int64_t id = 0;
    if (store_run_resolve(s, ref, &id, &err) != SIM_OK || store_run_load(s, id, r, &err) != SIM_OK) {
        int code = db_fail(sub, &err);
        return code != 0 ? code : 1;
    }
    return *r != NULL ? 0 : 1;
}

static int cmd_show(int argc, char **argv) {
    DbOptions o = {0};
    int rc = parse_db_options("show", argc, argv, 1, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    Store *s = NULL;
    if ((rc = open_db("show", &o, 0, &s)) != 0) return rc;
    StoreRun *r = NULL;
    if ((rc = load_ref(s, "show", o.pos[0], &r)) == 0) {
        if (o.json) rc = print_json(run_json(r));
        else show_text(r);
        if (rc == 0) rc = finish_stdout("show");
    }
    store_run_free(r);
    store_close(s);
    return rc;
}

/* ---- diff ---- */

enum { SC_MACS, SC_OTHER, SC_PARAMS, SC_WBYTES, SC_READ, SC_WRITTEN, SC_N };
static const char *const sc_names[SC_N] = {"macs", "other_flops", "params", "bytes_weights",
                                           "bytes_read", "bytes_written"};

typedef struct {
    const char *scope;
    int in[2];
    uint64_t v[2][SC_N];
} ScopeAgg;

/* Sums each run's ledger per scope (over operators), scopes in A's order then B-only ones. */
static ScopeAgg *scope_aggregate(const StoreRun *r[2], size_t *n) {
    size_t cap = r[0]->nledger + r[1]->nledger + 1, k = 0;
    ScopeAgg *g = calloc(cap, sizeof *g);
    if (g == NULL) return NULL;
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < r[side]->nledger; i++) {
            const StoreLedgerRow *e = &r[side]->ledger[i];
            size_t j = 0;
            while (j < k && strcmp(g[j].scope, e->scope) != 0) j++;
            if (j == k) g[k++].scope = e->scope;
            ScopeAgg *a = &g[j];
            a->in[side] = 1;
            a->v[side][SC_MACS] += e->macs;
            a->v[side][SC_OTHER] += e->other_flops;
            a->v[side][SC_PARAMS] += e->params;
            a->v[side][SC_WBYTES] += e->weight_bytes;
            a->v[side][SC_READ] += e->weight_bytes + e->act_bytes_read;
            a->v[side][SC_WRITTEN] += e->bytes_written;
        }
    *n = k;
    return g;
}

static int scope_changed(const ScopeAgg *a) {
    if (a->in[0] != a->in[1]) return 1;
    for (int c = 0; c < SC_N; c++)
        if (a->v[0][c] != a->v[1][c]) return 1;
    return 0;
}

static cJSON *scope_side_json(const ScopeAgg *a, int side) {
    if (!a->in[side]) return cJSON_CreateNull();
    cJSON *x = cJSON_CreateObject();
    for (int c = 0; x && c < SC_N; c++) add_int(x, sc_names[c], (int64_t)a->v[side][c]);
    return x;
}

static int diff_json(const StoreRun *r[2], const ScopeAgg *g, size_t ng, int all) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return print_json(NULL);
    add_int(o, "a", r[0]->id);
    add_int(o, "b", r[1]->id);
    cJSON *cfg = cJSON_AddArrayToObject(o, "config");
    /* keys of A (changed or missing in B), then keys only in B */
    for (int side = 0; cfg && side < 2; side++)
        for (size_t i = 0; i < r[side]->nconfig; i++) {
            const StoreField *k = &r[side]->config[i];
            const StoreField *other = store_field(r[!side]->config, r[!side]->nconfig, k->name);
            if (side == 1 && other) continue;
            if (other && strcmp(other->text, k->text) == 0) continue;
            cJSON *x = cJSON_CreateObject();
            if (x == NULL) break;
            cJSON_AddStringToObject(x, "key", k->name);
            const char *va = side == 0 ? k->text : NULL, *vb = side == 0 ? (other ? other->text : NULL) : k->text;
            if (va) cJSON_AddStringToObject(x, "a", va);
            else cJSON_AddNullToObject(x, "a");
            if (vb) cJSON_AddStringToObject(x, "b", vb);
            else cJSON_AddNullToObject(x, "b");
            cJSON_AddItemToArray(cfg, x);
        }
    cJSON *fl = cJSON_AddArrayToObject(o, "fields");
    for (size_t i = 0; fl && i < r[0]->nfields; i++) {
        const StoreField *fa = &r[0]->fields[i];
        if (is_total(fa->name) || is_identity(fa->name)) continue;
        const StoreField *fb = store_field(r[1]->fields, r[1]->nfields, fa->name);
        if (fb == NULL || field_equal(fa, fb)) continue;
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        cJSON_AddStringToObject(x, "field", fa->name);
        cJSON_AddItemToObject(x, "a", field_json(fa));
        cJSON_AddItemToObject(x, "b", field_json(fb));
        cJSON_AddItemToArray(fl, x);
    }
    cJSON *tot = cJSON_AddObjectToObject(o, "totals");
    for (int i = 0; tot && total_names[i]; i++) {
        const StoreField *fa = store_field(r[0]->fields, r[0]->nfields, total_names[i]);
        const StoreField *fb = store_field(r[1]->fields, r[1]->nfields, total_names[i]);
        if (!fa || !fb || fa->type != STORE_INT || fb->type != STORE_INT) continue;
        cJSON *x = cJSON_AddObjectToObject(tot, total_names[i]);
        if (x == NULL) break;
        add_int(x, "a", fa->i);
        add_int(x, "b", fb->i);
        add_int(x, "delta", fb->i - fa->i);
    }
    size_t changed = 0;
    cJSON *sc = cJSON_AddArrayToObject(o, "scopes");
    for (size_t i = 0; sc && i < ng; i++) {
        int ch = scope_changed(&g[i]);
        changed += (size_t)ch;
        if (!ch && !all) continue;
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        cJSON_AddStringToObject(x, "scope", g[i].scope);
        cJSON_AddItemToObject(x, "a", scope_side_json(&g[i], 0));
        cJSON_AddItemToObject(x, "b", scope_side_json(&g[i], 1));
        cJSON *d = cJSON_AddObjectToObject(x, "delta");
        for (int c = 0; d && c < SC_N; c++) add_int(d, sc_names[c], delta(g[i].v[0][c], g[i].v[1][c]));
        cJSON_AddItemToArray(sc, x);
    }
    add_int(o, "scopes_changed", (int64_t)changed);
    add_int(o, "scopes_unchanged", (int64_t)(ng - changed));
    return print_json(o);
}

static void diff_text(const StoreRun *r[2], const ScopeAgg *g, size_t ng, int all) {
    char a[48], b[48], c[48], d[48], la[512], lb[512];
    long long ia = (long long)r[0]->id, ib = (long long)r[1]->id;
    printf("ltsim db diff: run %lld (%s %s, %s) -> run %lld (%s %s, %s)\n", ia,
           run_text(r[0], "command"), run_text(r[0], "model_name"), run_text(r[0], "created_at"),
           ib, run_text(r[1], "command"), run_text(r[1], "model_name"),
           run_text(r[1], "created_at"));
    int n = 0;
    for (int side = 0; side < 2; side++)
        for (size_t i = 0; i < r[side]->nconfig; i++) {
            const StoreField *k = &r[side]->config[i];
            const StoreField *other = store_field(r[!side]->config, r[!side]->nconfig, k->name);
            if ((side == 1 && other) || (other && strcmp(other->text, k->text) == 0)) continue;
            if (n++ == 0) printf("\nconfig keys changed:\n");
            printf("  %-34s %s -> %s\n", k->name, side == 0 ? k->text : "(absent)",
                   side == 0 ? (other ? other->text : "(absent)") : k->text);
        }
    if (n == 0) printf("\nconfig keys: identical\n");
    n = 0;
    for (size_t i = 0; i < r[0]->nfields; i++) {
        const StoreField *fa = &r[0]->fields[i];
        if (is_total(fa->name) || is_identity(fa->name)) continue;
        const StoreField *fb = store_field(r[1]->fields, r[1]->nfields, fa->name);
        if (fb == NULL || field_equal(fa, fb)) continue;
        if (n++ == 0) printf("\noptions and provenance changed:\n");
        field_text(fa, la, sizeof la);
        field_text(fb, lb, sizeof lb);
        printf("  %-26s %s -> %s\n", fa->name, la, lb);
    }
    if (n == 0) printf("\noptions and provenance: identical\n");
    printf("\n  %-26s %18s %18s %18s\n", "totals", "run A", "run B", "delta");
    for (int i = 0; total_names[i]; i++) {
        const StoreField *fa = store_field(r[0]->fields, r[0]->nfields, total_names[i]);
        const StoreField *fb = store_field(r[1]->fields, r[1]->nfields, total_names[i]);
        if (!fa || !fb || fa->type != STORE_INT || fb->type != STORE_INT) continue;
        char pct[32] = "";
        if (fa->i > 0 && fb->i != fa->i)
            snprintf(pct, sizeof pct, "  (%+.1f%%)", 100.0 * (double)(fb->i - fa->i) / (double)fa->i);
        printf("  %-26s %18s %18s %18s%s\n", total_names[i], fmt_grouped((uint64_t)fa->i, a, sizeof a),
               fmt_grouped((uint64_t)fb->i, b, sizeof b), signed_grouped(fb->i - fa->i, c, sizeof c),
               pct);
    }
    size_t changed = 0;
    for (size_t i = 0; i < ng; i++) changed += (size_t)scope_changed(&g[i]);
    printf("\nper scope: %zu changed, %zu unchanged%s\n", changed, ng - changed,
           all || changed == ng ? "" : " (--all lists every scope)");
    if (changed == 0 && !all) return;
    printf("  %-52s %15s %15s %15s %12s\n", "scope", "MACs run A", "MACs run B", "delta MACs",
           "delta params");
    for (size_t i = 0; i < ng; i++) {
        if (!all && !scope_changed(&g[i])) continue;
        const ScopeAgg *x = &g[i];
        printf("  %-52s %15s %15s %15s %12s\n", x->scope,
               x->in[0] ? fmt_grouped(x->v[0][SC_MACS], a, sizeof a) : "-",
               x->in[1] ? fmt_grouped(x->v[1][SC_MACS], b, sizeof b) : "-",
               signed_grouped(delta(x->v[0][SC_MACS], x->v[1][SC_MACS]), c, sizeof c),
               signed_grouped(delta(x->v[0][SC_PARAMS], x->v[1][SC_PARAMS]), d, sizeof d));
    }
}

static int cmd_diff(int argc, char **argv) {
    DbOptions o = {0};
    int rc = parse_db_options("diff", argc, argv, 2, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    Store *s = NULL;
    if ((rc = open_db("diff", &o, 0, &s)) != 0) return rc;
    StoreRun *run[2] = {NULL, NULL};
    ScopeAgg *g = NULL;
    size_t ng = 0;
    if ((rc = load_ref(s, "diff", o.pos[0], &run[0])) != 0 ||
        (rc = load_ref(s, "diff", o.pos[1], &run[1])) != 0)
        goto out;
    const StoreRun *r[2] = {run[0], run[1]};
    g = scope_aggregate(r, &ng);
    if (g == NULL) {
        fprintf(stderr, "ltsim db diff: out of memory\n");
        rc = 1;
        goto out;
    }
    if (o.json) rc = diff_json(r, g, ng, o.all);
    else diff_text(r, g, ng, o.all);
    if (rc == 0) rc = finish_stdout("diff");
out:
    free(g);
    store_run_free(run[0]);
    store_run_free(run[1]);
    store_close(s);
    return rc;
}

/* ---- export ---- */

static int cmd_export(int argc, char **argv) {
    DbOptions o = {0};
    int rc = parse_db_options("export", argc, argv, 0, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o.json && o.format && strcmp(o.format, "json") != 0)
        return db_usage_error("export", "--json contradicts --format %s", o.format);
    StoreFormat fmt = o.format && strcmp(o.format, "csv") == 0 ? STORE_CSV : STORE_JSON;
    if (o.table) {
        int k = 0;
        const char *const *t = store_export_tables();
        while (t[k] && strcmp(t[k], o.table) != 0) k++;
        if (t[k] == NULL) return db_usage_error("export", "--table: unknown table '%s'", o.table);
    }
    Store *s = NULL;
    if ((rc = open_db("export", &o, 0, &s)) != 0) return rc;
    SimError err;
    sim_error_init(&err);
    if (store_export(s, o.table, fmt, stdout, &err) != SIM_OK) rc = db_fail("export", &err);
    store_close(s);
    return rc;
}

/* ---- merge ---- */

static int cmd_merge(int argc, char **argv) {
    DbOptions o = {0};
    int rc = parse_db_options("merge", argc, argv, 1, &o);
    if (rc != 0) return rc < 0 ? 0 : rc;
    if (o.pos[0] == NULL) return db_usage_error("merge", "missing OTHER.db");
    if (access(o.pos[0], F_OK) != 0) {
        fprintf(stderr, "ltsim db merge: %s: no such database file\n", o.pos[0]);
        return 2;
    }
    Store *s = NULL;
    if ((rc = open_db("merge", &o, 1, &s)) != 0) return rc;
    SimError err;
    sim_error_init(&err);
    StoreMergeStats st;
    if (store_merge(s, o.pos[0], &st, &err) != SIM_OK) {
        rc = db_fail("merge", &err);
    } else if (o.json) {
        cJSON *x = cJSON_CreateObject();
        if (x) {
            add_int(x, "runs_added", st.runs_added);
            add_int(x, "runs_present", st.runs_present);
            add_int(x, "sweeps_added", st.sweeps_added);
            add_int(x, "points_added", st.points_added);
            add_int(x, "calibrations_added", st.calibrations_added);
        }
        rc = print_json(x);
    } else {
        printf("merged %s into %s: %lld run%s added (%lld already present), %lld sweep%s, "
               "%lld sweep point%s, %lld calibration%s\n",
               o.pos[0], store_path(s), (long long)st.runs_added, st.runs_added == 1 ? "" : "s",
               (long long)st.runs_present, (long long)st.sweeps_added,
               st.sweeps_added == 1 ? "" : "s", (long long)st.points_added,
               st.points_added == 1 ? "" : "s", (long long)st.calibrations_added,
               st.calibrations_added == 1 ? "" : "s");
    }
    if (rc == 0) rc = finish_stdout("merge");
    store_close(s);
    return rc;
}

int cli_db_main(int argc, char **argv) {
    if (argc < 2) {
        print_db_help(stderr);
        return 2;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "-h") == 0 || strcmp(sub, "--help") == 0 || strcmp(sub, "help") == 0) {
        print_db_help(stdout);
        return 0;
    }
    if (strcmp(sub, "list") == 0) return cmd_list(argc - 1, argv + 1);
    if (strcmp(sub, "show") == 0) return cmd_show(argc - 1, argv + 1);
    if (strcmp(sub, "diff") == 0) return cmd_diff(argc - 1, argv + 1);
    if (strcmp(sub, "export") == 0) return cmd_export(argc - 1, argv + 1);
    if (strcmp(sub, "merge") == 0) return cmd_merge(argc - 1, argv + 1);
    return db_usage_error(NULL, "unknown command '%s'", sub);
}
