/*
 * cli_plot.c - `ltsim plot`, `ltsim report`, `ltsim carbon`, `ltsim accuracy` (see
 * cli_plot.h). Charts and the report go to reports/out/ under $LTSIM_HOME, or beside the
 * binary, unless --out says otherwise.
 */
#include "cli_plot.h"
#include "cli_util.h"

#include <cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "carbon.h"
#include "chart.h"
#include "fmt.h"
#include "paths.h"
#include "plot.h"
#include "store.h"
#include "summary.h"

static const char *prog = "ltsim";

static void note_stderr(void *ctx, const char *msg) {
    fprintf(stderr, "%s %s: %s\n", prog, (const char *)ctx, msg);
}

/* The option getopt_long just returned, for messages: "--name" when it matched a long
 * option (li >= 0), else the argument it stopped at. */
static const char *opt_name(const struct option *lo, int li, int argc, char **argv, char *buf,
                            size_t n) {
    if (li >= 0) {
        snprintf(buf, n, "--%s", lo[li].name);
        return buf;
    }
    return optind > 0 && optind <= argc ? argv[optind - 1] : "?";
}

/* A whole-string finite number. */
static int parse_num(const char *s, double *out) {
    if (s == NULL || *s == '\0') return -1;
    char *end = NULL;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !isfinite(v)) return -1;
    *out = v;
    return 0;
}

/* reports/out under $LTSIM_HOME, else beside the binary. */
static void default_out(char *buf, size_t n) {
    const char *home = getenv("LTSIM_HOME");
    char dir[900];
    if (home && *home) snprintf(dir, sizeof dir, "%s", home);
    else paths_exe_dir(dir, sizeof dir);
    snprintf(buf, n, "%s/reports/out", dir);
}

/* A JSON number, or null when v is not finite (unknown). */
static cJSON *json_num(double v) {
    return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *chart_json(const ChartFile *c, const char *dir) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return NULL;
    char path[1200];
    cJSON_AddStringToObject(o, "name", c->name);
    cJSON_AddStringToObject(o, "kind", c->kind);
    if (c->task[0]) cJSON_AddStringToObject(o, "task", c->task);
    cJSON_AddStringToObject(o, "title", c->title);
    cJSON_AddNumberToObject(o, "points", (double)c->npoints);
    static const char *const ext[] = {"png", "svg", "dat", "gp"};
    for (int i = 0; i < 4; i++) {
        if (i < 2 && !c->rendered) continue;
        snprintf(path, sizeof path, "%s/%s.%s", dir, c->name, ext[i]);
        cJSON_AddStringToObject(o, ext[i], path);
    }
    if (strcmp(c->kind, "calibration") == 0 && c->n_pairs > 0) {
        cJSON_AddNumberToObject(o, "n", c->n_pairs);
        cJSON_AddNumberToObject(o, "within_10", (double)c->n_within / c->n_pairs);
        cJSON_AddNumberToObject(o, "within_20", (double)c->n_within20 / c->n_pairs);
        cJSON_AddItemToObject(o, "median_abs_err", json_num(c->median_abs_err));
    }
    return o;
}

/* ---- ltsim plot KIND ---- */

static void plot_help(void) {
    printf("usage: ltsim plot KIND [options]\n\n"
           "Draws one chart from the results database with gnuplot: PNG and SVG, with the data\n"
           "file (.dat) and the gnuplot script (.gp) that produced them beside the images:\n"
           "OUT/<kind>[-<task>].{png,svg,dat,gp}.\n\n"
           "KIND:\n"
           "  accuracy     accuracy vs Mult-Adds per family, one chart per task: published\n"
           "               (solid), unconfirmed (hollow), your imported results (squares) and\n"
           "               ESTIMATES for swept widths (diamonds, fit +- 1 s.e.)\n"
           "  latency      predicted latency vs Mult-Adds per device, forward and generate\n"
           "  energy       predicted energy per sentence (mJ) per device\n"
           "  breakdown    stacked MACs by operator class, each family at each budget\n"
           "  seqlen       MACs vs sentence length 10-500 (Transformer vs Lite)\n"
           "  carbon       design cost in CO2e (log scale) with everyday equivalents\n"
           "  calibration  measured vs predicted host latency with the +-10 %% band\n"
           "  all          every one of them\n\n"
           "options:\n"
           "  --db PATH              the database (default db/ltsim.db)\n"
           "  --out DIR              where the files go (default reports/out)\n"
           "  --task T               accuracy: wmt-en-de, wmt-en-fr, iwslt-de-en, cnndm or\n"
           "                         wikitext-103 (default: every task with data)\n"
           "  --family LIST          only these families (lite, lite-light, transformer,\n"
           "                         evolved, lite-lm, transformer-lm, other)\n"
           "  --hw LIST              latency, energy: only these profiles\n"
           "  --models LIST          seqlen: the configs (default transformer-wmt-320,\n"
           "                         lite-wmt-496)\n"
           "  --use-unconfirmed      accuracy: fit recalled (R) points when fewer than two\n"
           "                         measured ones exist (the estimates say so)\n"
           "  --no-calibrate         calibration: never time this host for a host profile\n"
           "  --data-only            write the .dat and .gp files only (no gnuplot needed)\n"
           "  --json                 print the files written as JSON\n"
           "  -h, --help             this help\n\n"
           "Needs gnuplot (Debian package %s); every other ltsim command works without it.\n"
           "exit codes: 0 ok, 2 bad usage, 1 runtime failure (gnuplot missing, no data, disk)\n",
           PLOT_PACKAGE);
}

static void report_help(void) {
    printf("usage: ltsim report [options]\n\n"
           "Draws every chart (see 'ltsim plot --help') and writes one self-contained HTML\n"
           "page, OUT/index.html (the images as files beside it), and the same as Markdown,\n"
           "OUT/report.md: the charts, the sweep tables, the accuracy data with the estimates\n"
           "and their fit error, the counting conventions, the calibration quality, the design\n"
           "cost presets with their sources, and the provenance of the data.\n\n"
           "options:\n"
           "  --db PATH              the database (default db/ltsim.db)\n"
           "  --out DIR              where the files go (default reports/out)\n"
           "  --family LIST, --hw LIST, --use-unconfirmed, --no-calibrate   as for 'plot'\n"
           "  --json                 print the files written as JSON\n"
           "  -h, --help             this help\n\n"
           "Needs gnuplot (Debian package %s).\n"
           "exit codes: 0 ok, 2 bad usage, 1 runtime failure (gnuplot missing, disk)\n",
           PLOT_PACKAGE);
}

typedef struct {
    const char *db, *out, *task, *families, *hw, *models;
    int json, use_unconfirmed, no_calibrate, data_only;
    const char *kind;
} PlotOpts;

enum {
    P_DB = 1000, P_OUT, P_TASK, P_FAMILY, P_HW, P_MODELS, P_JSON, P_UNC, P_NOCAL, P_DATA
};

static int parse_plot(const char *cmd, int argc, char **argv, PlotOpts *o, int want_kind) {
    static const struct option lo[] = {
        {"db", required_argument, 0, P_DB},         {"out", required_argument, 0, P_OUT},
        {"task", required_argument, 0, P_TASK},     {"family", required_argument, 0, P_FAMILY},
        {"hw", required_argument, 0, P_HW},         {"models", required_argument, 0, P_MODELS},
        {"json", no_argument, 0, P_JSON},           {"use-unconfirmed", no_argument, 0, P_UNC},
        {"no-calibrate", no_argument, 0, P_NOCAL},  {"data-only", no_argument, 0, P_DATA},
        {"help", no_argument, 0, 'h'},              {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, li = -1;
    char namebuf[64];
    while ((c = getopt_long(argc, argv, ":h", lo, &li)) != -1) {
        const char *name = opt_name(lo, li, argc, argv, namebuf, sizeof namebuf);
        li = -1;
        switch (c) {
        case 'h':
            if (want_kind) plot_help();
            else report_help();
            return -1;
        case P_DB: o->db = optarg; break;
        case P_OUT: o->out = optarg; break;
        case P_TASK:
            if (!want_kind) return cli_usage_error(cmd, "--task: only 'plot accuracy' takes a task");
            if (acc_task_find(optarg) == NULL)
                return cli_usage_error(cmd, "--task: unknown task '%s' (wmt-en-de, wmt-en-fr, "
                                        "iwslt-de-en, cnndm, wikitext-103)",
                                   optarg);
            o->task = optarg;
            break;
        case P_FAMILY: o->families = optarg; break;
        case P_HW: o->hw = optarg; break;
        case P_MODELS: o->models = optarg; break;
        case P_JSON: o->json = 1; break;
        case P_UNC: o->use_unconfirmed = 1; break;
        case P_NOCAL: o->no_calibrate = 1; break;
        case P_DATA: o->data_only = 1; break;
        case ':': return cli_usage_error(cmd, "%s needs a value", name);
        default: return cli_usage_error(cmd, "unknown option '%s'", name);
        }
    }
    if (want_kind) {
        if (optind >= argc) return cli_usage_error(cmd, "missing KIND (accuracy, latency, energy, "
                                                    "breakdown, seqlen, carbon, calibration, all)");
        o->kind = argv[optind++];
        ChartKind k;
        if (strcmp(o->kind, "all") != 0 && chart_kind_parse(o->kind, &k) != 0)
            return cli_usage_error(cmd, "unknown KIND '%s' (accuracy, latency, energy, breakdown, "
                                    "seqlen, carbon, calibration, all)",
                               o->kind);
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (o->families) {
        char list[512];
        snprintf(list, sizeof list, "%s", o->families);
        static const char *const known[] = {"lite",           "lite-light", "transformer",
                                            "evolved",        "lite-lm",    "transformer-lm",
                                            "other"};
        for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
            size_t i = 0;
            while (i < sizeof known / sizeof known[0] && strcmp(known[i], t) != 0) i++;
            if (i == sizeof known / sizeof known[0])
                return cli_usage_error(cmd, "--family: unknown family '%s' (lite, lite-light, "
                                        "transformer, evolved, lite-lm, transformer-lm, other)",
                                   t);
        }
    }
    return 0;
}

static int cmd_plot(const char *cmd, int argc, char **argv) {
    PlotOpts o;
    memset(&o, 0, sizeof o);
    int rc = parse_plot(cmd, argc, argv, &o, 1);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.kind == NULL) return cli_usage_error(cmd, "missing KIND");
    SimError err;
    sim_error_init(&err);
    char gp[1024], out[1024];
    if (!o.data_only && plot_gnuplot_find(gp, sizeof gp, &err) != SIM_OK)
        return cli_fail_with(cmd, &err);
    if (o.out) snprintf(out, sizeof out, "%s", o.out);
    else default_out(out, sizeof out);
    if (plot_mkdirs(out, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    ChartKind kinds[CHART_KIND_COUNT];
    int nk = 0;
    int need_db = 0;
    if (strcmp(o.kind, "all") == 0) {
        for (int i = 0; i < CHART_KIND_COUNT; i++) kinds[nk++] = (ChartKind)i;
    } else {
        chart_kind_parse(o.kind, &kinds[nk++]);
    }
    for (int i = 0; i < nk; i++) need_db |= kinds[i] != CHART_SEQLEN && kinds[i] != CHART_CARBON;
    Store *st = NULL;
    if (need_db && (st = store_open(o.db, &err)) == NULL) return cli_fail_with(cmd, &err);
    ChartOptions co;
    memset(&co, 0, sizeof co);
    co.out_dir = out;
    co.task = o.task;
    co.families = o.families;
    co.hw = o.hw;
    co.models = o.models;
    co.use_unconfirmed = o.use_unconfirmed;
    co.no_render = o.data_only;
    co.no_calibrate = o.no_calibrate;
    co.note = note_stderr;
    co.note_ctx = (void *)cmd;
    ChartFile files[SUMMARY_MAX_CHARTS];
    int nf = 0, code = 0;
    for (int i = 0; i < nk && nf < SUMMARY_MAX_CHARTS; i++) {
        int n = 0;
        if (chart_make(st, kinds[i], &co, files + nf, SUMMARY_MAX_CHARTS - nf, &n, &err) !=
            SIM_OK) {
            code = cli_fail_with(cmd, &err);
            goto out;
        }
        nf += n;
    }
    if (nf == 0) {
        fprintf(stderr, "%s %s: no data for %s%s%s: nothing drawn (see the notes above)\n", prog,
                cmd, o.kind, o.task ? " --task " : "", o.task ? o.task : "");
        code = 1;
        goto out;
    }
    if (o.json) {
        cJSON *doc = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(doc, "charts");
        for (int i = 0; i < nf && arr; i++) cJSON_AddItemToArray(arr, chart_json(&files[i], out));
        code = cli_print_json(cmd, doc, 1, 1);
    } else {
        for (int i = 0; i < nf; i++)
            printf("%s/%s.%s: %s (%zu points; %s.dat and %s.gp beside it%s)\n", out,
                   files[i].name, files[i].rendered ? "png" : "dat", files[i].title,
                   files[i].npoints, files[i].name, files[i].name,
                   files[i].rendered ? ", and the SVG" : "");
        code = cli_flush_stdout(cmd);
    }
out:
    store_close(st);
    return code;
}

/* ---- ltsim report ---- */

static int cmd_report(const char *cmd, int argc, char **argv) {
    PlotOpts o;
    memset(&o, 0, sizeof o);
    int rc = parse_plot(cmd, argc, argv, &o, 0);
    if (rc) return rc < 0 ? 0 : rc;
    SimError err;
    sim_error_init(&err);
    char gp[1024], out[1024], dbpath[1024];
    if (!o.data_only && plot_gnuplot_find(gp, sizeof gp, &err) != SIM_OK)
        return cli_fail_with(cmd, &err);
    if (o.out) snprintf(out, sizeof out, "%s", o.out);
    else default_out(out, sizeof out);
    if (o.db) snprintf(dbpath, sizeof dbpath, "%s", o.db);
    else if (store_default_path(dbpath, sizeof dbpath, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    Store *st = store_open(o.db, &err);
    if (st == NULL) return cli_fail_with(cmd, &err);
    SummaryOptions so;
    memset(&so, 0, sizeof so);
    so.chart.out_dir = out;
    so.chart.families = o.families;
    so.chart.hw = o.hw;
    so.chart.models = o.models;
    so.chart.use_unconfirmed = o.use_unconfirmed;
    so.chart.no_render = o.data_only;
    so.chart.no_calibrate = o.no_calibrate;
    so.chart.note = note_stderr;
    so.chart.note_ctx = (void *)cmd;
    so.db_path = dbpath;
    SummaryResult *res = calloc(1, sizeof *res);
    int code = 0;
    if (res == NULL) {
        fprintf(stderr, "%s %s: out of memory\n", prog, cmd);
        store_close(st);
        return 1;
    }
    if (summary_write(st, &so, res, &err) != SIM_OK) {
        code = cli_fail_with(cmd, &err);
        goto out;
    }
    if (o.json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "html", res->html);
        cJSON_AddStringToObject(doc, "markdown", res->markdown);
        cJSON *arr = cJSON_AddArrayToObject(doc, "charts");
        for (int i = 0; i < res->ncharts && arr; i++)
            cJSON_AddItemToArray(arr, chart_json(&res->charts[i], out));
        code = cli_print_json(cmd, doc, 1, 1);
    } else {
        printf("%s: %d charts, the sweep tables, accuracy, conventions, calibration quality,\n"
               "design cost and provenance (the same as Markdown: %s)\n",
               res->html, res->ncharts, res->markdown);
        code = cli_flush_stdout(cmd);
    }
out:
    free(res);
    store_close(st);
    return code;
}

/* ---- ltsim carbon ---- */

static void carbon_help(void) {
    printf("usage: ltsim carbon [--preset NAME | inputs] [--inference MODEL --hw NAME ...]\n"
           "       ltsim carbon --compare A,B,...\n"
           "       ltsim carbon --list\n\n"
           "Energy (kWh), emissions (CO2e in kg, lbs and t) and cloud cost of a design search or\n"
           "a training run, by the published methods (../shared/spec/carbon.md):\n"
           "  energy = PUE x hours x watts / 1000   (watts: the whole setup's average power)\n"
           "  CO2e   = energy x grid intensity      (Strubell's 0.954 lbs/kWh = 0.4327 kg/kWh)\n\n"
           "presets:\n");
    int n = 0;
    const CarbonPresetInfo *p = carbon_presets(&n);
    for (int i = 0; i < n; i++) printf("  %-26s %s\n", p[i].name, p[i].description);
    printf("\ninputs (instead of a preset, or to change one):\n"
           "  --hardware NAME        an accelerator of the table (--list), power per unit\n"
           "  --watts W              power per unit incl. its share of the host (W)\n"
           "  --host-watts W         CPU + DRAM power added once (Strubell's p_c + p_r)\n"
           "  --count N              units (default 1)\n"
           "  --hours H | --gpu-hours H | --gpu-years Y   wall-clock hours, or unit-hours, or\n"
           "                         unit-years of 8760 h\n"
           "  --pue P                datacenter PUE (default 1.58, Strubell's 2018 average)\n"
           "  --grid KG|REGION       kg CO2e per kWh, or a region of the table (default\n"
           "                         us-average)\n"
           "  --price LOW[:HIGH]     cloud price per unit-hour (USD)\n\n"
           "inference over a model's lifetime (added to the ledger):\n"
           "  --inference MODEL      a config (models/NAME.yml or a path)\n"
           "  --hw NAME              the hardware profile that predicts its energy\n"
           "  --sentences-per-day N, --days N\n"
           "  --mode forward|generate, --src-len N, --tgt-len N   (default generate, 30/30)\n\n"
           "other options:\n"
           "  --compare A,B,...      presets (or 'custom': the inputs given) side by side, with\n"
           "                         the ratio a / b of CO2e for each pair; stored in the\n"
           "                         database and drawn to OUT/carbon-compare.png\n"
           "  --list                 the presets, accelerators, regions and equivalents with\n"
           "                         their sources\n"
           "  --db PATH, --no-db     where --compare is stored (default db/ltsim.db), or not\n"
           "  --out DIR, --no-plot   where --compare's chart goes (default reports/out), or none\n"
           "  --json                 one JSON document: {preset, method, hardware, count, hours,\n"
           "                         watts, pue, grid_kg_per_kwh, energy_kwh, co2e_kg, co2e_lbs,\n"
           "                         cost_usd: [low, high]}; --compare: {items, ratios: [{a, b,\n"
           "                         ratio}]}\n"
           "  -h, --help             this help\n\n"
           "exit codes: 0 ok, 2 bad input (unknown preset, region or accelerator, a negative\n"
           "number), 1 runtime failure (database, gnuplot for --compare's chart)\n");
}

typedef struct {
    const char *preset, *compare, *db, *out;
    int list, json, no_db, no_plot;
    CarbonInput in;
    int has_inputs;
    const char *inference, *hw, *mode;
    double spd, days;
    int64_t src_len, tgt_len;
} CarbonOpts;

static cJSON *item_json(const CarbonItem *it) {
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return NULL;
    if (it->preset[0]) cJSON_AddStringToObject(o, "preset", it->preset);
    else cJSON_AddNullToObject(o, "preset");
    cJSON_AddStringToObject(o, "method", it->method);
    cJSON_AddStringToObject(o, "hardware", it->hardware);
    cJSON_AddItemToObject(o, "count", json_num(it->count));
    cJSON_AddItemToObject(o, "hours", json_num(it->hours));
    cJSON_AddItemToObject(o, "watts", json_num(it->watts));
    cJSON_AddItemToObject(o, "pue", json_num(it->pue));
    cJSON_AddItemToObject(o, "grid_kg_per_kwh", json_num(it->grid_kg_per_kwh));
    cJSON_AddItemToObject(o, "energy_kwh", json_num(it->energy_kwh));
    cJSON_AddItemToObject(o, "co2e_kg", json_num(it->co2e_kg));
    cJSON_AddItemToObject(o, "co2e_lbs", json_num(it->co2e_lbs));
    cJSON *cost = cJSON_AddArrayToObject(o, "cost_usd");
    if (cost) {
        cJSON_AddItemToArray(cost, json_num(it->cost_low));
        cJSON_AddItemToArray(cost, json_num(it->cost_high));
    }
    cJSON_AddStringToObject(o, "grid", it->grid);
    cJSON_AddItemToObject(o, "watts_per_unit", json_num(it->watts_per_unit));
    if (it->published[0]) cJSON_AddStringToObject(o, "published", it->published);
    cJSON_AddStringToObject(o, "source", it->source);
    return o;
}

/* "32 lbs (31.98)" style: whole pounds first, the exact value after when it differs. */
static void lbs_text(double lbs, char *buf, size_t n) {
    char a[48];
    fmt_count(lbs, a, sizeof a);
    if (lbs < 1000) snprintf(buf, n, "%s lbs (%.2f)", a, lbs);
    else snprintf(buf, n, "%s lbs", a);
}

static void print_item(const CarbonItem *it, const char *description) {
    char a[64], b[64], c[64];
    printf("%s%s%s\n", it->preset[0] ? it->preset : "custom", description ? ": " : "",
           description ? description : "");
    printf("  method      %s\n", it->method);
    printf("  hardware    %s; count %g\n", it->hardware, it->count);
    fmt_count(it->hours, a, sizeof a);
    if (it->hours < 1000) snprintf(a, sizeof a, "%.4g", it->hours);
    fmt_count(it->hours * it->count, b, sizeof b);
    if (it->hours * it->count < 1000) snprintf(b, sizeof b, "%.4g", it->hours * it->count);
    printf("  hours       %s (%s unit-hours = %.3g unit-years)\n", a, b,
           it->hours * it->count / CARBON_HOURS_PER_YEAR);
    fmt_count(it->watts, a, sizeof a);
    if (it->watts < 10000) snprintf(a, sizeof a, "%.2f", it->watts);
    printf("  power       %s W (%.2f W per unit)\n", a, it->watts_per_unit);
    printf("  PUE         %.2f\n", it->pue);
    printf("  grid        %s: %.4f kg CO2e/kWh (%.3f lbs/kWh)\n", it->grid, it->grid_kg_per_kwh,
           it->grid_kg_per_kwh / CARBON_KG_PER_LB);
    fmt_count(it->energy_kwh, a, sizeof a);
    if (it->energy_kwh < 1000) snprintf(a, sizeof a, "%.2f", it->energy_kwh);
    if (it->energy_kwh >= 1000)
        printf("  energy      %s kWh (%.1f MWh)\n", a, it->energy_kwh / 1000);
    else printf("  energy      %s kWh\n", a);
    lbs_text(it->co2e_lbs, b, sizeof b);
    fmt_count(it->co2e_kg, c, sizeof c);
    if (it->co2e_kg < 1000) snprintf(c, sizeof c, "%.2f", it->co2e_kg);
    if (it->co2e_kg >= 100)
        printf("  CO2e        %s = %s kg = %.1f t\n", b, c, it->co2e_kg / 1000);
    else printf("  CO2e        %s = %s kg\n", b, c);
    if (!isnan(it->cost_low)) {
        fmt_count(it->cost_low, a, sizeof a);
        fmt_count(it->cost_high, b, sizeof b);
        printf("  cloud cost  $%s - $%s\n", a, b);
    } else {
        printf("  cloud cost  unknown (no price given: --price LOW[:HIGH] per unit-hour)\n");
    }
    if (it->published[0]) printf("  published   %s\n", it->published);
    printf("  source      %s\n", it->source);
    int ne = 0;
    const CarbonRow *eq = carbon_equivalents(&ne);
    printf("  equals      ");
    for (int i = 0; i < ne; i++)
        printf("%s%.3g x %s", i ? ", " : "", it->co2e_lbs / eq[i].value, eq[i].name);
    printf("\n");
}

static void print_table(const char *title, const CarbonRow *rows, int n, const char *unit) {
    printf("%s\n", title);
    for (int i = 0; i < n; i++)
        printf("  %-20s %10.6g %-8s %s [%s] %s\n", rows[i].name, rows[i].value, unit,
               rows[i].description, rows[i].tag, rows[i].source);
}

static int carbon_list(int json) {
    int na = 0, nr = 0, ne = 0, np = 0;
    const CarbonRow *acc = carbon_accelerators(&na), *reg = carbon_regions(&nr),
                    *eq = carbon_equivalents(&ne);
    const CarbonPresetInfo *pi = carbon_presets(&np);
    if (json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON *pr = cJSON_AddArrayToObject(doc, "presets");
        for (int i = 0; i < np && pr; i++) {
            CarbonItem it;
            SimError e;
            sim_error_init(&e);
            if (carbon_preset(pi[i].name, &it, &e) == SIM_OK)
                cJSON_AddItemToArray(pr, item_json(&it));
        }
        const CarbonRow *tabs[3] = {acc, reg, eq};
        const int ns[3] = {na, nr, ne};
        static const char *const names[3] = {"accelerators", "regions", "equivalents"};
        static const char *const units[3] = {"watts", "kg_per_kwh", "lbs"};
        for (int k = 0; k < 3; k++) {
            cJSON *arr = cJSON_AddArrayToObject(doc, names[k]);
            for (int i = 0; i < ns[k] && arr; i++) {
                cJSON *r = cJSON_CreateObject();
                cJSON_AddStringToObject(r, "name", tabs[k][i].name);
                cJSON_AddStringToObject(r, "description", tabs[k][i].description);
                cJSON_AddNumberToObject(r, units[k], tabs[k][i].value);
                cJSON_AddStringToObject(r, "tag", tabs[k][i].tag);
                cJSON_AddStringToObject(r, "source", tabs[k][i].source);
                cJSON_AddItemToArray(arr, r);
            }
        }
        return cli_print_json("carbon", doc, 1, 1);
    }
    printf("presets\n");
    for (int i = 0; i < np; i++) {
        CarbonItem it;
        SimError e;
        sim_error_init(&e);
        if (carbon_preset(pi[i].name, &it, &e) != SIM_OK) continue;
        char kwh[48], lbs[64];
        fmt_count(it.energy_kwh, kwh, sizeof kwh);
        if (it.energy_kwh < 1000) snprintf(kwh, sizeof kwh, "%.2f", it.energy_kwh);
        lbs_text(it.co2e_lbs, lbs, sizeof lbs);
        printf("  %-26s %12s kWh  %-22s %s\n", it.preset, kwh, lbs, pi[i].description);
    }
    print_table("accelerators (power per unit; tag V seen, D derived, R recalled: confirm)", acc,
                na, "W");
    print_table("grid intensity by region", reg, nr, "kg/kWh");
    print_table("everyday equivalents (Strubell et al. 2019)", eq, ne, "lbs");
    return cli_flush_stdout("carbon");
}

enum {
    C_PRESET = 1000, C_COMPARE, C_LIST, C_JSON, C_DB, C_NODB, C_OUT, C_NOPLOT, C_HARDWARE,
    C_WATTS, C_HOSTW, C_COUNT, C_HOURS, C_GPUH, C_GPUY, C_PUE, C_GRID, C_PRICE, C_INF, C_HW,
    C_SPD, C_DAYS, C_MODE, C_SRC, C_TGT
};

static int parse_carbon(int argc, char **argv, CarbonOpts *o) {
    const char *cmd = "carbon";
    static const struct option lo[] = {
        {"preset", required_argument, 0, C_PRESET},
        {"compare", required_argument, 0, C_COMPARE},
        {"list", no_argument, 0, C_LIST},
        {"json", no_argument, 0, C_JSON},
        {"db", required_argument, 0, C_DB},
        {"no-db", no_argument, 0, C_NODB},
        {"out", required_argument, 0, C_OUT},
        {"no-plot", no_argument, 0, C_NOPLOT},
        {"hardware", required_argument, 0, C_HARDWARE},
        {"watts", required_argument, 0, C_WATTS},
        {"host-watts", required_argument, 0, C_HOSTW},
        {"count", required_argument, 0, C_COUNT},
        {"hours", required_argument, 0, C_HOURS},
        {"gpu-hours", required_argument, 0, C_GPUH},
        {"gpu-years", required_argument, 0, C_GPUY},
        {"pue", required_argument, 0, C_PUE},
        {"grid", required_argument, 0, C_GRID},
        {"price", required_argument, 0, C_PRICE},
        {"inference", required_argument, 0, C_INF},
        {"hw", required_argument, 0, C_HW},
        {"sentences-per-day", required_argument, 0, C_SPD},
        {"days", required_argument, 0, C_DAYS},
        {"mode", required_argument, 0, C_MODE},
        {"src-len", required_argument, 0, C_SRC},
        {"tgt-len", required_argument, 0, C_TGT},
        {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0},
    };
    optind = 1;
    opterr = 0;
    int c, li = -1;
    double v;
    char namebuf[64];
    while ((c = getopt_long(argc, argv, ":h", lo, &li)) != -1) {
        const char *name = opt_name(lo, li, argc, argv, namebuf, sizeof namebuf);
        li = -1;
        double *num = NULL;
        switch (c) {
        case 'h': carbon_help(); return -1;
        case C_PRESET: o->preset = optarg; break;
        case C_COMPARE: o->compare = optarg; break;
        case C_LIST: o->list = 1; break;
        case C_JSON: o->json = 1; break;
        case C_DB: o->db = optarg; break;
        case C_NODB: o->no_db = 1; break;
        case C_OUT: o->out = optarg; break;
        case C_NOPLOT: o->no_plot = 1; break;
        case C_HARDWARE:
            o->in.hardware = optarg;
            o->has_inputs = 1;
            break;
        case C_GRID:
            o->in.grid = optarg;
            break;
        case C_PRICE: {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", optarg);
            char *colon = strchr(buf, ':');
            if (colon) *colon = '\0';
            if (parse_num(buf, &o->in.price_low) != 0 ||
                (colon && parse_num(colon + 1, &o->in.price_high) != 0))
                return cli_usage_error(cmd, "--price: expected LOW or LOW:HIGH in USD per unit-hour, "
                                        "got '%s'",
                                   optarg);
            if (o->in.price_low < 0 || (colon && o->in.price_high < o->in.price_low))
                return cli_usage_error(cmd, "--price: expected 0 <= LOW <= HIGH, got '%s'", optarg);
            break;
        }
        case C_WATTS: num = &o->in.watts; break;
        case C_HOSTW: num = &o->in.host_watts; break;
        case C_COUNT: num = &o->in.count; break;
        case C_HOURS: num = &o->in.hours; break;
        case C_GPUH: num = &o->in.gpu_hours; break;
        case C_GPUY: num = &o->in.gpu_years; break;
        case C_PUE: num = &o->in.pue; break;
        case C_SPD: num = &o->spd; break;
        case C_DAYS: num = &o->days; break;
        case C_INF: o->inference = optarg; break;
        case C_HW: o->hw = optarg; break;
        case C_MODE:
            if (strcmp(optarg, "forward") != 0 && strcmp(optarg, "generate") != 0)
                return cli_usage_error(cmd, "--mode: expected forward or generate, got '%s'", optarg);
            o->mode = optarg;
            break;
        case C_SRC:
        case C_TGT:
            if (parse_num(optarg, &v) != 0 || v < 1 || v > 100000 || v != floor(v))
                return cli_usage_error(cmd, "%s: expected a length from 1 to 100000, got '%s'", name,
                                   optarg);
            if (c == C_SRC) o->src_len = (int64_t)v;
            else o->tgt_len = (int64_t)v;
            break;
        case ':': return cli_usage_error(cmd, "%s needs a value", name);
        default: return cli_usage_error(cmd, "unknown option '%s'", name);
        }
        if (num != NULL) {
            if (parse_num(optarg, num) != 0)
                return cli_usage_error(cmd, "%s: expected a number, got '%s'", name, optarg);
            if (*num < 0)
                return cli_usage_error(cmd, "%s: expected a non-negative number, got '%s'", name,
                                   optarg);
            if (num != &o->spd && num != &o->days && num != &o->in.pue) o->has_inputs = 1;
        }
    }
    if (optind < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    if (o->preset && o->compare)
        return cli_usage_error(cmd, "--preset and --compare: give one of them");
    if (o->inference && o->hw == NULL)
        return cli_usage_error(cmd, "--inference needs --hw NAME (the profile that predicts its "
                                "energy)");
    if (!o->inference && (o->hw || !isnan(o->spd) || !isnan(o->days) || o->mode))
        return cli_usage_error(cmd, "--hw, --sentences-per-day, --days and --mode need --inference "
                                "MODEL");
    return 0;
}

/* The item of a preset, with the given inputs changing it; or the free inputs alone. */
static int build_item(const char *cmd, const CarbonOpts *o, const char *preset, CarbonItem *it,
                      SimError *err) {
    if (preset == NULL || strcmp(preset, "custom") == 0) {
        if (carbon_compute(&o->in, it, err) != SIM_OK) return cli_fail_with(cmd, err);
        return 0;
    }
    if (carbon_preset(preset, it, err) != SIM_OK) return cli_fail_with(cmd, err);
    int changed = 0;
    if (!isnan(o->in.hours)) it->hours = o->in.hours, changed = 1;
    if (!isnan(o->in.gpu_hours)) it->hours = o->in.gpu_hours / it->count, changed = 1;
    if (!isnan(o->in.gpu_years))
        it->hours = o->in.gpu_years * CARBON_HOURS_PER_YEAR / it->count, changed = 1;
    if (!isnan(o->in.pue)) {
        if (o->in.pue < 1)
            return cli_usage_error(cmd, "--pue: expected a number >= 1, got %g", o->in.pue);
        it->pue = o->in.pue;
        changed = 1;
    }
    if (o->in.grid) {
        if (carbon_grid_parse(o->in.grid, &it->grid_kg_per_kwh, it->grid, sizeof it->grid,
                              err) != SIM_OK)
            return cli_fail_with(cmd, err);
        changed = 1;
    }
    if (o->in.hardware || !isnan(o->in.watts) || !isnan(o->in.count) || !isnan(o->in.host_watts))
        return cli_usage_error(cmd, "--hardware, --watts, --host-watts and --count describe a setup "
                                "of your own: use them without --preset");
    if (changed) { /* the cost scales with the hours at the preset's prices */
        CarbonItem base;
        SimError e2;
        sim_error_init(&e2);
        carbon_preset(preset, &base, &e2);
        double f = base.hours > 0 ? it->hours / base.hours : 1;
        carbon_item_update(it);
        it->cost_low = base.cost_low * f;
        it->cost_high = base.cost_high * f;
        it->published[0] = '\0';
        snprintf(it->preset + strlen(it->preset), sizeof it->preset - strlen(it->preset),
                 " (changed)");
    }
    return 0;
}

static int carbon_compare(const CarbonOpts *o) {
    const char *cmd = "carbon";
    SimError err;
    sim_error_init(&err);
    char list[512];
    snprintf(list, sizeof list, "%s", o->compare);
    CarbonItem items[16];
    int n = 0;
    for (char *t = strtok(list, ","); t; t = strtok(NULL, ",")) {
        if (n == 16) return cli_usage_error(cmd, "--compare: at most 16 items");
        int rc = build_item(cmd, o, t, &items[n], &err);
        if (rc) return rc;
        n++;
    }
    if (n < 2)
        return cli_usage_error(cmd, "--compare: expected at least two items, got '%s'", o->compare);
    cJSON *items_j = cJSON_CreateArray(), *ratios_j = cJSON_CreateArray();
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(items_j, item_json(&items[i]));
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++) {
            cJSON *r = cJSON_CreateObject();
            cJSON_AddStringToObject(r, "a", items[i].preset[0] ? items[i].preset : "custom");
            cJSON_AddStringToObject(r, "b", items[j].preset[0] ? items[j].preset : "custom");
            cJSON_AddItemToObject(r, "ratio", json_num(carbon_ratio(&items[i], &items[j])));
            cJSON_AddItemToObject(r, "ratio_published_rounding",
                                  json_num(carbon_ratio_rounded(&items[i], &items[j])));
            cJSON_AddItemToArray(ratios_j, r);
        }
    int code = 0;
    int64_t id = 0;
    char dbpath[1024] = "";
    if (!o->no_db) {
        char *it_text = cJSON_PrintUnformatted(items_j);
        char *ra_text = cJSON_PrintUnformatted(ratios_j);
        Store *st = store_open(o->db, &err);
        if (st == NULL || it_text == NULL || ra_text == NULL ||
            store_carbon_save(st, o->compare, it_text, ra_text, &id, &err) != SIM_OK) {
            if (err.code == SIM_OK) sim_errorf(&err, SIM_ENOMEM, "out of memory");
            code = cli_fail_with(cmd, &err);
        } else {
            snprintf(dbpath, sizeof dbpath, "%s", store_path(st));
        }
        store_close(st);
        cJSON_free(it_text);
        cJSON_free(ra_text);
    }
    char out[1024], chart[1200] = "";
    int plot_code = 0;
    SimError perr;
    sim_error_init(&perr);
    if (code == 0 && !o->no_plot) {
        if (o->out) snprintf(out, sizeof out, "%s", o->out);
        else default_out(out, sizeof out);
        ChartOptions co;
        memset(&co, 0, sizeof co);
        co.out_dir = out;
        co.note = note_stderr;
        co.note_ctx = (void *)cmd;
        ChartFile f;
        if (plot_mkdirs(out, &perr) != SIM_OK ||
            chart_carbon_items(items, n, "carbon-compare", &co, &f, &perr) != SIM_OK)
            plot_code = sim_exit_code(perr.code);
        else snprintf(chart, sizeof chart, "%s/carbon-compare.png", out);
    }
    if (o->json) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddItemToObject(doc, "items", items_j);
        cJSON_AddItemToObject(doc, "ratios", ratios_j);
        if (id > 0) cJSON_AddNumberToObject(doc, "id", (double)id);
        if (chart[0]) cJSON_AddStringToObject(doc, "chart", chart);
        int rc = cli_print_json(cmd, doc, 1, 1);
        if (code == 0) code = rc;
    } else {
        printf("%-28s %-10s %16s %22s %14s %s\n", "item", "method", "energy (kWh)", "CO2e (lbs)",
               "CO2e (kg)", "cost (USD)");
        for (int i = 0; i < n; i++) {
            char kwh[48], lbs[64], kg[48], cost[80] = "-";
            fmt_count(items[i].energy_kwh, kwh, sizeof kwh);
            if (items[i].energy_kwh < 1000) snprintf(kwh, sizeof kwh, "%.2f", items[i].energy_kwh);
            lbs_text(items[i].co2e_lbs, lbs, sizeof lbs);
            fmt_count(items[i].co2e_kg, kg, sizeof kg);
            if (items[i].co2e_kg < 1000) snprintf(kg, sizeof kg, "%.2f", items[i].co2e_kg);
            if (!isnan(items[i].cost_low)) {
                char a[32], b[32];
                fmt_count(items[i].cost_low, a, sizeof a);
                fmt_count(items[i].cost_high, b, sizeof b);
                snprintf(cost, sizeof cost, "%s-%s", a, b);
            }
            printf("%-28s %-10s %16s %22s %14s %s\n",
                   items[i].preset[0] ? items[i].preset : "custom", items[i].method, kwh, lbs, kg,
                   cost);
        }
        printf("ratios (a / b of CO2e):\n");
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++) {
                double r = carbon_ratio(&items[i], &items[j]);
                double rr = carbon_ratio_rounded(&items[i], &items[j]);
                char a[48], b[48], ra[32], rb[32];
                fmt_count(r, a, sizeof a);
                fmt_count(rr, b, sizeof b);
                fmt_count(items[i].co2e_lbs, ra, sizeof ra);
                fmt_count(items[j].co2e_lbs, rb, sizeof rb);
                printf("  %s / %s = %sx (%.2f); %sx with the published rounding (%s lbs / %s "
                       "lbs)\n",
                       items[i].preset[0] ? items[i].preset : "custom",
                       items[j].preset[0] ? items[j].preset : "custom", a, r, b, ra, rb);
            }
        if (id > 0) printf("stored as comparison %lld in %s\n", (long long)id, dbpath);
        if (chart[0]) printf("chart: %s (and .svg, .dat, .gp)\n", chart);
        int rc = cli_flush_stdout(cmd);
        if (code == 0) code = rc;
        cJSON_Delete(items_j);
        cJSON_Delete(ratios_j);
    }
    if (plot_code != 0) {
        fprintf(stderr, "%s %s: the comparison was %s, but its chart was not drawn: %s "
                        "(--no-plot skips it)\n",
                prog, cmd, o->no_db ? "printed" : "printed and stored", perr.msg);
        if (code == 0) code = plot_code;
    }
    return code;
}

static int cmd_carbon(int argc, char **argv) {
    const char *cmd = "carbon";
    CarbonOpts o;
    memset(&o, 0, sizeof o);
    o.in.watts = o.in.host_watts = o.in.count = o.in.hours = o.in.gpu_hours = o.in.gpu_years =
        o.in.pue = o.in.price_low = o.in.price_high = NAN;
    o.spd = o.days = NAN;
    int rc = parse_carbon(argc, argv, &o);
    if (rc) return rc < 0 ? 0 : rc;
    if (o.list) return carbon_list(o.json);
    if (o.compare) return carbon_compare(&o);
    SimError err;
    sim_error_init(&err);
    CarbonItem it;
    int have_item = o.preset != NULL || o.has_inputs;
    if (!have_item && !o.inference) return carbon_list(o.json);
    const char *description = NULL;
    if (have_item) {
        if ((rc = build_item(cmd, &o, o.preset, &it, &err)) != 0) return rc;
        int np = 0;
        const CarbonPresetInfo *pi = carbon_presets(&np);
        for (int i = 0; o.preset && i < np; i++)
            if (strcmp(pi[i].name, o.preset) == 0) description = pi[i].description;
    }
    CarbonInference inf;
    memset(&inf, 0, sizeof inf);
    if (o.inference) {
        char path[1024];
        if (paths_model(o.inference, NULL, path, sizeof path) != 0) {
            fprintf(stderr, "%s %s: --inference: %s: no such model file, and no models/%s.yml\n",
                    prog, cmd, o.inference, o.inference);
            return 2;
        }
        int generate = o.mode == NULL || strcmp(o.mode, "generate") == 0;
        if (carbon_inference(path, o.hw, generate, o.src_len ? o.src_len : 30,
                             o.tgt_len ? o.tgt_len : 30, o.spd, o.days,
                             o.in.grid ? o.in.grid : (have_item ? it.grid : NULL), &inf,
                             &err) != SIM_OK)
            return cli_fail_with(cmd, &err);
    }
    if (o.json) {
        cJSON *doc;
        if (have_item) {
            doc = item_json(&it);
        } else {
            CarbonItem z;
            memset(&z, 0, sizeof z);
            snprintf(z.method, sizeof z.method, "inference");
            snprintf(z.hardware, sizeof z.hardware, "%s", inf.hw);
            z.count = z.hours = z.watts = z.pue = z.watts_per_unit = NAN;
            z.grid_kg_per_kwh = inf.grid_kg_per_kwh;
            snprintf(z.grid, sizeof z.grid, "%s", inf.grid);
            z.energy_kwh = inf.energy_kwh;
            z.co2e_kg = inf.co2e_kg;
            z.co2e_lbs = inf.co2e_lbs;
            z.cost_low = z.cost_high = NAN;
            snprintf(z.source, sizeof z.source, "hardware profile %s (DESIGN.md section 6)",
                     inf.hw);
            doc = item_json(&z);
        }
        if (o.inference && doc) {
            cJSON *j = cJSON_AddObjectToObject(doc, "inference");
            cJSON_AddStringToObject(j, "model", inf.model);
            cJSON_AddStringToObject(j, "hw", inf.hw);
            cJSON_AddStringToObject(j, "mode", inf.mode);
            cJSON_AddNumberToObject(j, "src_len", (double)inf.src_len);
            cJSON_AddNumberToObject(j, "tgt_len", (double)inf.tgt_len);
            cJSON_AddNumberToObject(j, "macs_per_sentence", (double)inf.macs);
            cJSON_AddItemToObject(j, "latency_ms", json_num(inf.latency_ms));
            cJSON_AddItemToObject(j, "energy_mj_per_sentence", json_num(inf.energy_mj));
            cJSON_AddNumberToObject(j, "sentences_per_day", inf.sentences_per_day);
            cJSON_AddNumberToObject(j, "days", inf.days);
            cJSON_AddItemToObject(j, "grid_kg_per_kwh", json_num(inf.grid_kg_per_kwh));
            cJSON_AddItemToObject(j, "energy_kwh", json_num(inf.energy_kwh));
            cJSON_AddItemToObject(j, "co2e_kg", json_num(inf.co2e_kg));
            cJSON_AddItemToObject(j, "co2e_lbs", json_num(inf.co2e_lbs));
            if (have_item) {
                cJSON *t = cJSON_AddObjectToObject(doc, "total");
                cJSON_AddItemToObject(t, "energy_kwh", json_num(it.energy_kwh + inf.energy_kwh));
                cJSON_AddItemToObject(t, "co2e_kg", json_num(it.co2e_kg + inf.co2e_kg));
                cJSON_AddItemToObject(t, "co2e_lbs", json_num(it.co2e_lbs + inf.co2e_lbs));
            }
        }
        return cli_print_json(cmd, doc, 1, 1);
    }
    if (have_item) print_item(&it, description);
    if (o.inference) {
        char a[48], b[64], c2[48];
        printf("inference: %s on %s (%s, S = %lld, T = %lld)\n", inf.model, inf.hw, inf.mode,
               (long long)inf.src_len, (long long)inf.tgt_len);
        fmt_count((double)inf.macs, a, sizeof a);
        printf("  per sentence  %s MACs, %.3f ms, %.4g mJ (predicted)\n", a, inf.latency_ms,
               inf.energy_mj);
        fmt_count(inf.sentences_per_day, a, sizeof a);
        printf("  lifetime      %s sentences/day x %g days\n", a, inf.days);
        printf("  energy        %.4g kWh\n", inf.energy_kwh);
        lbs_text(inf.co2e_lbs, b, sizeof b);
        snprintf(c2, sizeof c2, "%.4g", inf.co2e_kg);
        printf("  CO2e          %s = %s kg (grid %s, %.4f kg/kWh)\n", b, c2, inf.grid,
               inf.grid_kg_per_kwh);
        if (have_item) {
            lbs_text(it.co2e_lbs + inf.co2e_lbs, b, sizeof b);
            printf("total (design + inference): %.4g kWh, %s\n", it.energy_kwh + inf.energy_kwh,
                   b);
        }
    }
    return cli_flush_stdout(cmd);
}

/* ---- ltsim accuracy ---- */

static void accuracy_help(void) {
    printf("usage: ltsim accuracy import FILE.csv [--db PATH] [--json]\n"
           "       ltsim accuracy list [--task T] [--db PATH] [--json]\n"
           "       ltsim accuracy fit [--task T] [--use-unconfirmed] [--db PATH] [--json]\n\n"
           "import  stores your own measured scores (BLEU, ROUGE, perplexity) by config.\n"
           "        FILE.csv has a header naming the columns config, task, value (any order)\n"
           "        and optionally metric (default: the task's: bleu, rouge-l for cnndm, ppl for\n"
           "        wikitext-103) and note. config is a models/NAME.yml name, a YAML path\n"
           "        (relative to the CSV's folder), or FAMILY:WIDTH for a sweep family's template\n"
           "        (lite:368). task is wmt-en-de, wmt-en-fr, iwslt-de-en, cnndm or wikitext-103.\n"
           "        Each config is counted (count-only) so the score sits at its MACs; importing\n"
           "        the same (task, config, metric) again replaces it. Then the estimates are\n"
           "        refitted.\n"
           "list    the measured points of each task (published, unconfirmed, imported) and the\n"
           "        stored estimates\n"
           "fit     refits every family and task (score = a + b ln(MACs) over measured points)\n"
           "        and stores the estimates of the swept widths, with their standard error;\n"
           "        fewer than two measured points: no estimate unless --use-unconfirmed\n"
           "        (recalled points, and the estimates say so)\n\n"
           "exit codes: 0 ok, 2 bad input (file:line:column: unknown config, task or metric,\n"
           "a score that is not a number), 1 runtime failure (database)\n");
}

static void print_estimates_text(Store *st, const char *task) {
    SimError e;
    sim_error_init(&e);
    StoreRows *r = NULL;
    const char *params[1] = {task ? task : ""};
    if (store_select(st,
                     "SELECT task, family, width, macs, metric, value, std_error, basis, fit_n "
                     "FROM accuracy_estimates WHERE ?1 = '' OR task = ?1 ORDER BY task, family, "
                     "macs",
                     params, 1, &r, &e) != SIM_OK)
        return;
    printf("estimates (NOT measurements: the family's fit at each swept width, +- 1 s.e.):\n");
    if (r->nrows == 0) printf("  none\n");
    for (size_t i = 0; i < r->nrows; i++) {
        const StoreField *se = store_rows_get(r, i, "std_error");
        char sebuf[32] = "s.e. unknown (2-point fit)";
        if (se && se->type != STORE_NULL) snprintf(sebuf, sizeof sebuf, "+- %.2f", se->r);
        char macs[48];
        fmt_count(store_rows_get(r, i, "macs")->r, macs, sizeof macs);
        printf("  %-12s %-14s d=%-5lld %14s MACs  %s %.2f %s (fit over %lld %s points)\n",
               store_rows_get(r, i, "task")->text, store_rows_get(r, i, "family")->text,
               (long long)store_rows_get(r, i, "width")->i, macs,
               store_rows_get(r, i, "metric")->text, store_rows_get(r, i, "value")->r, sebuf,
               (long long)store_rows_get(r, i, "fit_n")->i, store_rows_get(r, i, "basis")->text);
    }
    store_rows_free(r);
}

static cJSON *estimates_json(Store *st, const char *task) {
    SimError e;
    sim_error_init(&e);
    StoreRows *r = NULL;
    const char *params[1] = {task ? task : ""};
    cJSON *arr = cJSON_CreateArray();
    if (arr == NULL ||
        store_select(st,
                     "SELECT task, family, width, macs, metric, value, std_error, fit_rmse, "
                     "fit_n, fit_slope, fit_intercept, basis, run_id FROM accuracy_estimates "
                     "WHERE ?1 = '' OR task = ?1 ORDER BY task, family, macs",
                     params, 1, &r, &e) != SIM_OK)
        return arr;
    for (size_t i = 0; i < r->nrows; i++) {
        cJSON *o = cJSON_CreateObject();
        for (size_t c = 0; c < r->ncols; c++) {
            const StoreField *f = &r->cells[i * r->ncols + c];
            if (f->type == STORE_TEXT) cJSON_AddStringToObject(o, f->name, f->text);
            else if (f->type == STORE_NULL) cJSON_AddNullToObject(o, f->name);
            else cJSON_AddNumberToObject(o, f->name, f->type == STORE_INT ? (double)f->i : f->r);
        }
        cJSON_AddItemToArray(arr, o);
    }
    store_rows_free(r);
    return arr;
}

static int cmd_accuracy(int argc, char **argv) {
    const char *cmd = "accuracy";
    if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        if (argc < 2) {
            accuracy_help();
            return cli_usage_error(cmd, "missing subcommand (import, list, fit)");
        }
        accuracy_help();
        return 0;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "import") != 0 && strcmp(sub, "list") != 0 && strcmp(sub, "fit") != 0)
        return cli_usage_error(cmd, "unknown subcommand '%s' (import, list, fit)", sub);
    enum { A_DB = 1000, A_JSON, A_TASK, A_UNC };
    static const struct option lo[] = {
        {"db", required_argument, 0, A_DB},     {"json", no_argument, 0, A_JSON},
        {"task", required_argument, 0, A_TASK}, {"use-unconfirmed", no_argument, 0, A_UNC},
        {"help", no_argument, 0, 'h'},          {0, 0, 0, 0},
    };
    const char *db = NULL, *task = NULL;
    int json = 0, unc = 0;
    optind = 1;
    opterr = 0;
    int c, li = -1;
    char namebuf[64];
    while ((c = getopt_long(argc - 1, argv + 1, ":h", lo, &li)) != -1) {
        const char *name = opt_name(lo, li, argc - 1, argv + 1, namebuf, sizeof namebuf);
        li = -1;
        switch (c) {
        case 'h': accuracy_help(); return 0;
        case A_DB: db = optarg; break;
        case A_JSON: json = 1; break;
        case A_TASK:
            if (acc_task_find(optarg) == NULL)
                return cli_usage_error(cmd, "--task: unknown task '%s' (wmt-en-de, wmt-en-fr, "
                                        "iwslt-de-en, cnndm, wikitext-103)",
                                   optarg);
            task = optarg;
            break;
        case A_UNC: unc = 1; break;
        case ':': return cli_usage_error(cmd, "%s needs a value", name);
        default: return cli_usage_error(cmd, "unknown option '%s'", name);
        }
    }
    const char *file = NULL;
    int rest = optind + 1; /* index into argv */
    if (strcmp(sub, "import") == 0) {
        if (rest >= argc) return cli_usage_error(cmd, "import: missing FILE.csv");
        file = argv[rest++];
    }
    if (rest < argc) return cli_usage_error(cmd, "unexpected argument '%s'", argv[rest]);
    SimError err;
    sim_error_init(&err);
    AccRow *rows = NULL;
    int nrows = 0;
    if (file && acc_csv_read(file, &rows, &nrows, &err) != SIM_OK) return cli_fail_with(cmd, &err);
    Store *st = store_open(db, &err);
    int code = 0;
    if (st == NULL) {
        free(rows);
        return cli_fail_with(cmd, &err);
    }
    cJSON *doc = json ? cJSON_CreateObject() : NULL;
    if (file) {
        int64_t added = 0, replaced = 0;
        if (acc_import(st, file, rows, nrows, &added, &replaced, &err) != SIM_OK) {
            code = cli_fail_with(cmd, &err);
            goto out;
        }
        if (json) {
            cJSON_AddStringToObject(doc, "file", file);
            cJSON_AddNumberToObject(doc, "added", (double)added);
            cJSON_AddNumberToObject(doc, "replaced", (double)replaced);
            cJSON *arr = cJSON_AddArrayToObject(doc, "results");
            for (int i = 0; i < nrows && arr; i++) {
                cJSON *o = cJSON_CreateObject();
                cJSON_AddStringToObject(o, "config", rows[i].config);
                cJSON_AddStringToObject(o, "model", rows[i].cfg.model_name);
                cJSON_AddStringToObject(o, "family", rows[i].cfg.family);
                cJSON_AddStringToObject(o, "task", rows[i].task);
                cJSON_AddStringToObject(o, "metric", rows[i].metric);
                cJSON_AddNumberToObject(o, "value", rows[i].value);
                cJSON_AddNumberToObject(o, "macs", (double)rows[i].cfg.macs);
                cJSON_AddNumberToObject(o, "params", (double)rows[i].cfg.params);
                cJSON_AddNumberToObject(o, "line", rows[i].line);
                cJSON_AddItemToArray(arr, o);
            }
        } else {
            printf("imported %d score%s from %s (%lld new, %lld replaced)\n", nrows,
                   nrows == 1 ? "" : "s", file, (long long)added, (long long)replaced);
            for (int i = 0; i < nrows; i++) {
                char macs[48];
                fmt_count((double)rows[i].cfg.macs, macs, sizeof macs);
                printf("  %-12s %-24s %-14s %s %.2f at %s MACs (line %d)\n", rows[i].task,
                       rows[i].cfg.model_name, rows[i].cfg.family, rows[i].metric,
                       rows[i].value, macs, rows[i].line);
            }
        }
    }
    if (file || strcmp(sub, "fit") == 0) {
        int nest = 0;
        if (acc_estimates_update(st, unc, note_stderr, (void *)cmd, &nest, &err) != SIM_OK) {
            code = cli_fail_with(cmd, &err);
            goto out;
        }
        if (json && strcmp(sub, "fit") == 0) {
            cJSON *fits = cJSON_AddArrayToObject(doc, "fits");
            int nt = 0;
            const AccTask *tk = acc_tasks(&nt);
            for (int t = 0; t < nt; t++) {
                if (task && strcmp(task, tk[t].name) != 0) continue;
                AccObs *obs = NULL;
                int no = 0;
                if (acc_observations(st, &tk[t], &obs, &no, &err) != SIM_OK) {
                    code = cli_fail_with(cmd, &err);
                    goto out;
                }
                for (int f = 0; f < 3 && tk[t].families[f]; f++) {
                    AccFit fit;
                    acc_fit_family(obs, no, tk[t].families[f], unc, &fit);
                    if (fit.n == 0) continue;
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddStringToObject(o, "task", tk[t].name);
                    cJSON_AddStringToObject(o, "family", tk[t].families[f]);
                    cJSON_AddStringToObject(o, "metric", tk[t].metric);
                    cJSON_AddNumberToObject(o, "n", fit.n);
                    cJSON_AddStringToObject(o, "basis", fit.basis);
                    cJSON_AddNumberToObject(o, "intercept", fit.intercept);
                    cJSON_AddNumberToObject(o, "slope", fit.slope);
                    cJSON_AddItemToObject(o, "rmse", json_num(fit.rmse));
                    cJSON_AddItemToArray(fits, o);
                }
                free(obs);
            }
        }
    }
    if (strcmp(sub, "list") == 0) {
        int nt = 0;
        const AccTask *tk = acc_tasks(&nt);
        static const char *const kinds[ACC_KIND_COUNT] = {"published", "unconfirmed", "imported"};
        cJSON *arr = json ? cJSON_AddArrayToObject(doc, "points") : NULL;
        for (int t = 0; t < nt; t++) {
            if (task && strcmp(task, tk[t].name) != 0) continue;
            AccObs *obs = NULL;
            int no = 0;
            if (acc_observations(st, &tk[t], &obs, &no, &err) != SIM_OK) {
                code = cli_fail_with(cmd, &err);
                goto out;
            }
            if (!json) printf("%s (%s):\n", tk[t].title, tk[t].unit);
            for (int i = 0; i < no; i++) {
                if (json) {
                    cJSON *o = cJSON_CreateObject();
                    cJSON_AddStringToObject(o, "task", tk[t].name);
                    cJSON_AddStringToObject(o, "family", obs[i].family);
                    cJSON_AddStringToObject(o, "kind", kinds[obs[i].kind]);
                    cJSON_AddStringToObject(o, "model", obs[i].model);
                    cJSON_AddStringToObject(o, "config", obs[i].config);
                    cJSON_AddNumberToObject(o, "macs", obs[i].macs);
                    cJSON_AddBoolToObject(o, "macs_counted", obs[i].counted);
                    cJSON_AddStringToObject(o, "metric", tk[t].metric);
                    cJSON_AddNumberToObject(o, "value", obs[i].value);
                    cJSON_AddStringToObject(o, "source", obs[i].source);
                    cJSON_AddItemToArray(arr, o);
                } else {
                    char macs[48];
                    fmt_count(obs[i].macs, macs, sizeof macs);
                    printf("  %-14s %-11s %-28s %15s MACs (%s)  %.2f\n", obs[i].family,
                           kinds[obs[i].kind], obs[i].config[0] ? obs[i].config : obs[i].model,
                           macs, obs[i].counted ? "counted" : "published", obs[i].value);
                }
            }
            free(obs);
        }
    }
    if (json) {
        cJSON_AddItemToObject(doc, "estimates", estimates_json(st, task));
        code = cli_print_json(cmd, doc, 1, 1);
        doc = NULL;
    } else if (strcmp(sub, "import") != 0) {
        print_estimates_text(st, task);
        code = cli_flush_stdout(cmd);
    } else {
        code = cli_flush_stdout(cmd);
    }
out:
    cJSON_Delete(doc);
    store_close(st);
    free(rows);
    return code;
}

/* ---- dispatch ---- */

int cli_plot_main(const char *cmd, int argc, char **argv) {
    if (strcmp(cmd, "plot") == 0) return cmd_plot(cmd, argc, argv);
    if (strcmp(cmd, "report") == 0) return cmd_report(cmd, argc, argv);
    if (strcmp(cmd, "carbon") == 0) return cmd_carbon(argc, argv);
    if (strcmp(cmd, "accuracy") == 0) return cmd_accuracy(argc, argv);
    fprintf(stderr, "%s: unknown command '%s'\n", prog, cmd);
    return 2;
}
