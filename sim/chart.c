/*
 * chart.c - the chart kinds of chart.h: queries of the results database, count-only runs
 * where the database has nothing yet, and one Plot per chart handed to plot.c.
 *
 * Axes: Mult-Adds in millions (headline MACs: without embeddings and the output projection,
 * DESIGN.md §3), counted by ltsim at the config's default lengths (30 tokens; 45 for
 * CNN-DailyMail) under the default conventions (--attn-macs causal, --conv-macs taps).
 * Swept points are the forward runs of the database at 30 tokens under those conventions.
 */
#include "chart.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "accuracy.h"
#include "hw.h"
#include "hw_calib.h"
#include "paths.h"
#include "plot.h"
#include "report.h"
#include "runner.h"
#include "sweep.h"

static const char *const kind_names[CHART_KIND_COUNT] = {
    [CHART_ACCURACY] = "accuracy",   [CHART_LATENCY] = "latency", [CHART_ENERGY] = "energy",
    [CHART_BREAKDOWN] = "breakdown", [CHART_SEQLEN] = "seqlen",   [CHART_CARBON] = "carbon",
    [CHART_CALIBRATION] = "calibration",
};
_Static_assert(sizeof kind_names / sizeof kind_names[0] == CHART_KIND_COUNT,
               "kind_names out of sync with ChartKind");

const char *chart_kind_name(ChartKind k) {
    return (unsigned)k < CHART_KIND_COUNT ? kind_names[k] : "?";
}

int chart_kind_parse(const char *s, ChartKind *k) {
    for (int i = 0; s && i < CHART_KIND_COUNT; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *k = (ChartKind)i;
            return 0;
        }
    return -1;
}

/* ---- helpers ---- */

#define SWEPT_RUNS                                                                                \
    "r.mode = 'forward' AND r.tgt_len = 30 AND r.src_len IN (0, 30) AND r.attn_macs = "         \
    "'causal' AND r.conv_macs = 'taps'"

static void note(const ChartOptions *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(const ChartOptions *o, const char *fmt, ...) {
    if (o->note == NULL) return;
    char m[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m, sizeof m, fmt, ap);
    va_end(ap);
    o->note(o->note_ctx, m);
}

/* 1 when name is in the comma-separated list (a NULL or empty list allows everything). */
static int in_list(const char *list, const char *name) {
    if (list == NULL || *list == '\0') return 1;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0) return 1;
        if (e == NULL) break;
        p = e + 1;
    }
    return 0;
}

static unsigned family_color(const char *f) {
    static const struct {
        const char *name;
        unsigned color;
    } c[] = {{"lite", 0x1f77b4},        {"lite-light", 0x9467bd}, {"lite-lm", 0x17becf},
             {"transformer", 0xd62728}, {"transformer-lm", 0xff7f0e},
             {"evolved", 0x2ca02c},     {"other", 0x7f7f7f}};
    for (size_t i = 0; i < sizeof c / sizeof c[0]; i++)
        if (strcmp(c[i].name, f) == 0) return c[i].color;
    return 0x8c564b;
}

static unsigned device_color(int i) {
    static const unsigned pal[] = {0x1f77b4, 0xd62728, 0x2ca02c, 0xff7f0e, 0x9467bd, 0x8c564b,
                                   0xe377c2, 0x7f7f7f, 0xbcbd22, 0x17becf, 0x393b79, 0xad494a,
                                   0x637939, 0x8c6d31, 0x7b4173, 0x3182bd};
    return pal[(unsigned)i % (sizeof pal / sizeof pal[0])];
}

static void budget_str(double b, char *buf, size_t n) {
    if (!(b > 0)) snprintf(buf, n, "-");
    else if (fmod(b, 1e9) == 0) snprintf(buf, n, "%.0fG", b / 1e9);
    else if (fmod(b, 1e6) == 0) snprintf(buf, n, "%.0fM", b / 1e6);
    else snprintf(buf, n, "%.0f", b);
}

static void file_init(ChartFile *f, const char *name, const char *kind, const char *task) {
    memset(f, 0, sizeof *f);
    snprintf(f->name, sizeof f->name, "%s", name);
    snprintf(f->kind, sizeof f->kind, "%s", kind);
    snprintf(f->task, sizeof f->task, "%s", task ? task : "");
    f->median_abs_err = NAN;
}

/* Writes (and unless no_render draws) p. Returns SIM_OK with f->npoints = 0 when p is empty
 * (nothing written). */
static SimStatus finish(Plot *p, const ChartOptions *o, ChartFile *f, SimError *err) {
    f->npoints = plot_npoints(p);
    if (f->npoints == 0) {
        note(o, "%s: no data, chart skipped", f->name);
        return SIM_OK;
    }
    SimStatus rc = o->no_render ? plot_write_files(p, o->out_dir, err)
                                : plot_render(p, o->out_dir, err);
    if (rc == SIM_OK) f->rendered = !o->no_render;
    return rc;
}

/* A count-only run of cfg at S = T = len (or the given lengths) in forward or generate
 * mode; res is freed by the caller with runner_result_free. */
static SimStatus count_run(const ModelConfig *cfg, int64_t src, int64_t tgt, int generate,
                           RunSpec *spec, RunResult *res, SimError *err) {
    memset(spec, 0, sizeof *spec);
    spec->src_len = src;
    spec->tgt_len = tgt;
    spec->seed = 1;
    spec->threads = 1;
    spec->count_only = 1;
    if (generate) {
        spec->mode = MODE_GENERATE;
        spec->beam = 1;
        spec->max_steps = tgt;
        spec->no_early_stop = 1;
        spec->conv.conv_macs = CONV_MACS_VALID; /* what decoding executes */
    }
    return runner_execute(cfg, spec, res, err);
}

/* ---- accuracy ---- */

static const char *const family_order[] = {"lite",           "lite-light", "lite-lm",
                                           "transformer",    "transformer-lm",
                                           "evolved",        "other"};
#define NFAMILY_ORDER ((int)(sizeof family_order / sizeof family_order[0]))

/* The paper's WMT budget classes: (Lite config, Transformer config) pairs. */
static const char *const wmt_pairs[][2] = {{"lite-wmt-200", "transformer-wmt-128"},
                                           {"lite-wmt-408", "transformer-wmt-256"},
                                           {"lite-wmt-496", "transformer-wmt-320"}};

static const AccObs *find_obs(const AccObs *obs, int n, const char *config) {
    for (int i = 0; i < n; i++)
        if (obs[i].kind == ACC_PUBLISHED && strcmp(obs[i].config, config) == 0) return &obs[i];
    return NULL;
}

static SimStatus accuracy_task(Store *s, const AccTask *t, const ChartOptions *o, ChartFile *f,
                               SimError *err) {
    char name[64];
    snprintf(name, sizeof name, "accuracy-%s", t->name);
    file_init(f, name, "accuracy", t->name);
    AccObs *obs = NULL;
    int nobs = 0;
    StoreRows *est = NULL;
    Plot *p = NULL;
    SimStatus code = acc_observations(s, t, &obs, &nobs, err);
    if (code != SIM_OK) return code;
    const char *params[2] = {t->name, t->metric};
    if ((code = store_select(s,
                             "SELECT family, width, macs, value, std_error, basis, fit_n, "
                             "fit_rmse FROM accuracy_estimates WHERE task = ?1 AND metric = ?2 "
                             "ORDER BY family, macs",
                             params, 2, &est, err)) != SIM_OK)
        goto out;
    if ((p = plot_new(PLOT_XY, name, err)) == NULL) {
        code = err->code;
        goto out;
    }
    snprintf(f->title, sizeof f->title, "Accuracy vs Mult-Adds: %s (%s)", t->title, t->unit);
    plot_set_title(p, f->title);
    plot_set_axes(p, "Mult-Adds (M), as ltsim counts the config", t->unit, 1, 0);
    plot_set_key(p, t->higher_is_better ? PLOT_KEY_TOP_LEFT : PLOT_KEY_TOP_RIGHT);
    plot_set_size(p, 1000, 680);
    plot_note(p, "task %s, metric %s; published results: db/published.csv (../shared/spec/"
                 "published.md), imported: table accuracy_results, estimates: table "
                 "accuracy_estimates",
              t->name, t->metric);
    plot_note(p, "x: headline MACs (no embeddings / output projection), default lengths of "
                 "each config (S = T = 30; 45 for CNN-DailyMail), --attn-macs causal "
                 "--conv-macs taps");
    plot_note(p, "ESTIMATES are not measurements: %s = a + b ln(MACs) fitted per family over "
                 "measured points; e = 1 standard error of the fit (0: two points, unknown)",
              t->metric);
    int nest_drawn = 0, nfits = 0;
    for (int fi = 0; fi < NFAMILY_ORDER; fi++) {
        const char *fam = family_order[fi];
        if (!in_list(o->families, fam)) continue;
        int any = 0;
        for (int i = 0; i < nobs; i++) any |= strcmp(obs[i].family, fam) == 0;
        for (size_t i = 0; i < est->nrows; i++)
            any |= strcmp(store_rows_text(est, i, "family"), fam) == 0;
        if (!any) continue;
        unsigned col = family_color(fam);
        const char *ft = acc_family_title(fam);
        char title[200];
        snprintf(title, sizeof title, "%s: published", ft);
        int s_pub = plot_series(p, title, PLOT_POINTS, col, 7);
        snprintf(title, sizeof title, "%s: published, unconfirmed (hollow)", ft);
        int s_unc = plot_series(p, title, PLOT_HOLLOW, col, 6);
        snprintf(title, sizeof title, "%s: your measurements (imported)", ft);
        int s_imp = plot_series(p, title, PLOT_POINTS, col, 5);
        for (int i = 0; i < nobs; i++) {
            if (strcmp(obs[i].family, fam) != 0) continue;
            int si = obs[i].kind == ACC_PUBLISHED ? s_pub
                     : obs[i].kind == ACC_UNCONFIRMED ? s_unc : s_imp;
            plot_point(p, si, obs[i].macs / 1e6, obs[i].value, 0,
                       obs[i].config[0] ? obs[i].config : obs[i].model);
        }
        AccFit fit;
        acc_fit_family(obs, nobs, fam, o->use_unconfirmed, &fit);
        double lo = fit.n ? fit.min_macs : INFINITY, hi = fit.n ? fit.max_macs : 0;
        int e_n = 0;
        for (size_t i = 0; i < est->nrows; i++) {
            if (strcmp(store_rows_text(est, i, "family"), fam) != 0) continue;
            double m = store_rows_num(est, i, "macs");
            if (m < lo) lo = m;
            if (m > hi) hi = m;
            e_n++;
        }
        if (fit.n) {
            snprintf(title, sizeof title, "%s: fit a + b ln(MACs) over %d %s points", ft, fit.n,
                     strcmp(fit.basis, "unconfirmed") == 0 ? "points incl. unconfirmed"
                                                           : "measured");
            if (strcmp(fit.basis, "unconfirmed") == 0)
                snprintf(title, sizeof title, "%s: fit over %d points INCLUDING UNCONFIRMED ones",
                         ft, fit.n);
            int s_fit = plot_series(p, title, PLOT_DASHED, col, 0);
            for (int k = 0; k <= 24; k++) {
                double m = exp(log(lo / 1.1) + (log(hi * 1.1) - log(lo / 1.1)) * k / 24.0), y;
                acc_fit_eval(&fit, m, &y, NULL);
                plot_point(p, s_fit, m / 1e6, y, 0, NULL);
            }
            nfits++;
        }
        if (e_n > 0) {
            const char *basis = "confirmed";
            for (size_t i = 0; i < est->nrows; i++)
                if (strcmp(store_rows_text(est, i, "family"), fam) == 0 &&
                    strcmp(store_rows_text(est, i, "basis"), "unconfirmed") == 0)
                    basis = "unconfirmed";
            snprintf(title, sizeof title, "%s: ESTIMATE for swept widths (fit +- 1 s.e.%s)", ft,
                     strcmp(basis, "unconfirmed") == 0 ? ", from UNCONFIRMED points" : "");
            int s_est = plot_series(p, title, PLOT_ERRORBARS, col, 12);
            for (size_t i = 0; i < est->nrows; i++) {
                if (strcmp(store_rows_text(est, i, "family"), fam) != 0) continue;
                char lab[48];
                snprintf(lab, sizeof lab, "d=%.0f (estimate)", store_rows_num(est, i, "width"));
                double se = store_rows_num(est, i, "std_error");
                plot_point(p, s_est, store_rows_num(est, i, "macs") / 1e6, store_rows_num(est, i, "value"),
                           isnan(se) ? 0 : se, lab);
                nest_drawn++;
            }
        }
    }
    /* the paper's margins: Lite above the Transformer at each WMT budget class */
    char margins[160] = "";
    if (strncmp(t->name, "wmt-", 4) == 0 && in_list(o->families, "lite") &&
        in_list(o->families, "transformer")) {
        int s_lab = plot_series(p, NULL, PLOT_LABELS, 0x202020, 0);
        for (int k = 0; k < 3; k++) {
            const AccObs *a = find_obs(obs, nobs, wmt_pairs[k][0]);
            const AccObs *b = find_obs(obs, nobs, wmt_pairs[k][1]);
            if (a == NULL || b == NULL) continue;
            char lab[64];
            snprintf(lab, sizeof lab, "Lite %+.1f", a->value - b->value);
            plot_point(p, s_lab, a->macs / 1e6, a->value, 0, lab);
            snprintf(margins + strlen(margins), sizeof margins - strlen(margins), "%s%+.1f",
                     margins[0] ? " / " : "", a->value - b->value);
        }
    }
    snprintf(f->caption, sizeof f->caption,
             "%s of each family against its Mult-Adds. Solid markers: published results (tag V "
             "or D); hollow: unconfirmed (recalled) published values; squares: scores you "
             "imported with `ltsim accuracy import`; diamonds with error bars: ESTIMATES for "
             "the swept widths from a per-family fit of the score against ln(MACs) over "
             "measured points (%d fit%s, %d estimate%s), never measurements. Points with a "
             "config sit at the MACs ltsim counts for it.%s%s%s",
             t->unit, nfits, nfits == 1 ? "" : "s", nest_drawn, nest_drawn == 1 ? "" : "s",
             margins[0] ? " Lite over Transformer at the paper's three budgets: " : "", margins,
             margins[0] ? " (labels)." : "");
    code = finish(p, o, f, err);
out:
    plot_free(p);
    store_rows_free(est);
    free(obs);
    return code;
}

static SimStatus make_accuracy(Store *s, const ChartOptions *o, ChartFile *out, int max, int *n,
                               SimError *err) {
    int ntask = 0;
    const AccTask *tk = acc_tasks(&ntask);
    if (o->task && acc_task_find(o->task) == NULL)
        return sim_errorf(err, SIM_EINVAL,
                          "--task: unknown task '%s' (wmt-en-de, wmt-en-fr, iwslt-de-en, cnndm, "
                          "wikitext-103)",
                          o->task);
    int nest = 0;
    SimStatus rc = acc_estimates_update(s, o->use_unconfirmed, o->note, o->note_ctx, &nest, err);
    if (rc != SIM_OK) return rc;
    for (int i = 0; i < ntask; i++) {
        if (o->task && strcmp(o->task, tk[i].name) != 0) continue;
        if (*n >= max) break;
        ChartFile f;
        if ((rc = accuracy_task(s, &tk[i], o, &f, err)) != SIM_OK) return rc;
        if (f.npoints) out[(*n)++] = f;
    }
    return SIM_OK;
}

/* ---- latency and energy per device ---- */

typedef struct {
    int64_t run_id;
    double macs;
    char family[24];
    char model[128];
    char *config_text; /* borrowed from the rows */
} DevRun;

static SimStatus make_device(Store *s, int energy, const ChartOptions *o, ChartFile *f,
                             SimError *err) {
    const char *name = energy ? "energy" : "latency";
    file_init(f, name, name, NULL);
    StoreRows *rows = NULL;
    Plot *p = NULL;
    DevRun *runs = NULL;
    char (*hws)[HW_NAME_MAX] = NULL;
    HwProfile *prof = NULL;
    int *prof_ok = NULL;
    double *gen = NULL; /* (nhw x nrun) generate latency or energy */
    SimStatus code = store_select(
        s,
        "SELECT r.id AS run_id, min(p.family) AS family, r.model_name, r.macs, r.config_text, "
        "q.hw, q.latency_ms, q.energy_mj FROM sweep_points p JOIN runs r ON r.id = p.run_id "
        "JOIN predictions q ON q.run_id = r.id WHERE " SWEPT_RUNS
        " GROUP BY r.id, q.hw ORDER BY q.hw, r.macs, r.id",
        NULL, 0, &rows, err);
    if (code != SIM_OK) return code;
    int nrun = 0, nhw = 0;
    runs = calloc(rows->nrows + 1, sizeof *runs);
    hws = calloc(rows->nrows + 1, sizeof *hws);
    if (runs == NULL || hws == NULL) goto oom;
    for (size_t i = 0; i < rows->nrows; i++) {
        const char *fam = store_rows_text(rows, i, "family"), *hw = store_rows_text(rows, i, "hw");
        if (!in_list(o->families, fam) || !in_list(o->hw, hw)) continue;
        int64_t id = (int64_t)store_rows_num(rows, i, "run_id");
        int k = 0;
        while (k < nrun && runs[k].run_id != id) k++;
        if (k == nrun) {
            runs[k].run_id = id;
            runs[k].macs = store_rows_num(rows, i, "macs");
            snprintf(runs[k].family, sizeof runs[k].family, "%s", fam);
            snprintf(runs[k].model, sizeof runs[k].model, "%s", store_rows_text(rows, i, "model_name"));
            const StoreField *ct = store_rows_get(rows, i, "config_text");
            runs[k].config_text = ct && ct->type == STORE_TEXT ? ct->text : NULL;
            nrun++;
        }
        k = 0;
        while (k < nhw && strcmp(hws[k], hw) != 0) k++;
        if (k == nhw) snprintf(hws[nhw++], HW_NAME_MAX, "%s", hw);
    }
    if (nrun == 0) {
        note(o, "%s: no swept points with predictions in the database (run 'ltsim sweep --hw "
                "all'): chart skipped",
             name);
        goto out;
    }
    /* generate: count-only decodes of the same configs, predicted on the same profiles */
    prof = calloc((size_t)nhw, sizeof *prof);
    prof_ok = calloc((size_t)nhw, sizeof *prof_ok);
    gen = malloc((size_t)nhw * (size_t)nrun * sizeof *gen);
    if (prof == NULL || prof_ok == NULL || gen == NULL) goto oom;
    for (int h = 0; h < nhw; h++) {
        SimError e;
        sim_error_init(&e);
        prof_ok[h] = hw_profile_open(hws[h], &prof[h], &e) == SIM_OK;
        if (!prof_ok[h]) note(o, "%s: generate predictions on %s skipped: %s", name, hws[h], e.msg);
    }
    for (size_t i = 0; i < (size_t)nhw * (size_t)nrun; i++) gen[i] = NAN;
    for (int r = 0; r < nrun; r++) {
        if (runs[r].config_text == NULL) continue;
        ModelConfig cfg;
        SimError e;
        sim_error_init(&e);
        if (config_load_buffer(runs[r].config_text, strlen(runs[r].config_text), runs[r].model,
                               NULL, &cfg, &e) != SIM_OK) {
            note(o, "%s: run %lld: stored config does not load: %s", name,
                 (long long)runs[r].run_id, e.msg);
            continue;
        }
        RunSpec spec;
        RunResult res;
        if (count_run(&cfg, 30, 30, 1, &spec, &res, &e) != SIM_OK) {
            note(o, "%s: run %lld: %s", name, (long long)runs[r].run_id, e.msg);
            continue;
        }
        for (int h = 0; h < nhw; h++) {
            if (!prof_ok[h]) continue;
            HwPrediction pr;
            memset(&pr, 0, sizeof pr);
            if (runner_predict(&res, &prof[h], &pr, &e) == SIM_OK)
                gen[(size_t)h * (size_t)nrun + (size_t)r] = energy ? pr.energy_mj : pr.latency_ms;
            hw_prediction_free(&pr);
        }
        runner_result_free(&res);
    }
    if ((p = plot_new(PLOT_XY, name, err)) == NULL) {
        code = err->code;
        goto out;
    }
    snprintf(f->title, sizeof f->title,
             energy ? "Predicted energy per sentence vs Mult-Adds, per device"
                    : "Predicted latency vs Mult-Adds, per device");
    plot_set_title(p, f->title);
    plot_set_axes(p, "Mult-Adds (M) of the model (forward pass, S = T = 30)",
                  energy ? "energy per sentence (mJ, predicted)" : "latency (ms, predicted)", 1,
                  1);
    plot_set_key(p, PLOT_KEY_BELOW);
    plot_set_size(p, 1000, 560 + 16 * ((2 * nhw + 2) / 3));
    plot_note(p, "forward: the stored predictions of the swept runs (table predictions); "
                 "generate: the encoder once and 30 greedy decoder steps (count-only, no early "
                 "stop), predicted now with the same profiles");
    plot_note(p, "hardware model: DESIGN.md section 6 (hwprofiles/*.yml, sources per number)");
    for (int h = 0; h < nhw; h++) {
        char t[160];
        snprintf(t, sizeof t, "%s: forward", hws[h]);
        int sf = plot_series(p, t, PLOT_POINTS, device_color(h), 7);
        snprintf(t, sizeof t, "%s: generate (30 steps)", hws[h]);
        int sg = plot_series(p, t, PLOT_HOLLOW, device_color(h), 6);
        for (size_t i = 0; i < rows->nrows; i++) {
            if (strcmp(store_rows_text(rows, i, "hw"), hws[h]) != 0) continue;
            if (!in_list(o->families, store_rows_text(rows, i, "family"))) continue;
            double y = store_rows_num(rows, i, energy ? "energy_mj" : "latency_ms");
            plot_point(p, sf, store_rows_num(rows, i, "macs") / 1e6, y, 0,
                       store_rows_text(rows, i, "model_name"));
        }
        for (int r = 0; r < nrun; r++)
            plot_point(p, sg, runs[r].macs / 1e6, gen[(size_t)h * (size_t)nrun + (size_t)r], 0,
                       runs[r].model);
    }
    snprintf(f->caption, sizeof f->caption,
             "%s of the swept models (%d configs) on %d hardware profile%s, against their "
             "Mult-Adds. Filled markers: one teacher-forced forward pass of a 30-token sentence "
             "(the predictions stored with each run); hollow: translating it (the encoder "
             "once, then 30 greedy decoder steps with caches, counted and predicted now). "
             "Predictions from the roofline model of DESIGN.md section 6; not measurements.",
             energy ? "Predicted energy per sentence (mJ)" : "Predicted latency (ms)", nrun, nhw,
             nhw == 1 ? "" : "s");
    code = finish(p, o, f, err);
    goto out;
oom:
    code = sim_errorf(err, SIM_ENOMEM, "out of memory building chart %s", name);
out:
    plot_free(p);
    free(gen);
    free(prof_ok);
    free(prof);
    free(hws);
    free(runs);
    store_rows_free(rows);
    return code;
}

/* ---- where the MACs go ---- */

static const char *const class_cols[] = {"attention", "convolution", "ffn",
                                          "embedding+output (outside the budget)"};
static const unsigned class_colors[] = {0x1f77b4, 0x2ca02c, 0xff7f0e, 0x9a9a9a};

static SimStatus make_breakdown(Store *s, const ChartOptions *o, ChartFile *f, SimError *err) {
    file_init(f, "breakdown", "breakdown", NULL);
    StoreRows *rows = NULL;
    Plot *p = plot_new(PLOT_STACKED, "breakdown", err);
    if (p == NULL) return err->code;
    SimStatus code = store_select(
        s,
        "SELECT p.family, p.budget_macs, max(p.width) AS width, r.macs, r.macs_attention, "
        "r.macs_convolution, r.macs_ffn, r.macs_embedding_output FROM sweep_points p JOIN runs "
        "r ON r.id = p.run_id WHERE p.role = 'chosen' AND p.budget_macs > 0 AND " SWEPT_RUNS
        " GROUP BY p.family, p.budget_macs ORDER BY p.family, p.budget_macs",
        NULL, 0, &rows, err);
    if (code != SIM_OK) goto out;
    snprintf(f->title, sizeof f->title,
             "Where the Mult-Adds go: each family's widest model under each budget");
    plot_set_title(p, f->title);
    plot_set_axes(p, NULL, "MACs (M), forward pass, S = T = 30", 0, 0);
    plot_columns(p, class_cols, class_colors, 4);
    plot_note(p, "operator classes of DESIGN.md section 3; embedding+output (the output "
                 "projection to the vocabulary) is outside the headline MACs");
    int from_db = 0;
    for (int fi = 0; fi < NFAMILY_ORDER; fi++) {
        for (size_t i = 0; i < rows->nrows; i++) {
            const char *fam = store_rows_text(rows, i, "family");
            if (strcmp(fam, family_order[fi]) != 0 || !in_list(o->families, fam)) continue;
            char cat[96], bud[24];
            budget_str(store_rows_num(rows, i, "budget_macs"), bud, sizeof bud);
            snprintf(cat, sizeof cat, "%s %s (d=%.0f)", fam, bud, store_rows_num(rows, i, "width"));
            double v[4] = {store_rows_num(rows, i, "macs_attention") / 1e6,
                           store_rows_num(rows, i, "macs_convolution") / 1e6,
                           store_rows_num(rows, i, "macs_ffn") / 1e6,
                           store_rows_num(rows, i, "macs_embedding_output") / 1e6};
            plot_bar(p, cat, v, 0, NULL);
            from_db++;
        }
    }
    if (from_db == 0) { /* no sweep yet: the paper's families and budgets, counted now */
        static const SweepFamily fams[] = {SWEEP_LITE, SWEEP_TRANSFORMER, SWEEP_EVOLVED};
        static const uint64_t budgets[] = {100000000, 300000000, 500000000};
        note(o, "breakdown: no swept points in the database; counting lite, transformer and "
                "evolved at 100M / 300M / 500M now");
        plot_note(p, "counted now (count-only): no sweep in the database");
        for (size_t fi = 0; fi < 3; fi++) {
            if (!in_list(o->families, sweep_family_name(fams[fi]))) continue;
            for (size_t b = 0; b < 3; b++) {
                RunSpec spec;
                memset(&spec, 0, sizeof spec);
                spec.src_len = spec.tgt_len = 30;
                int64_t w = 0;
                uint64_t m = 0;
                ModelConfig cfg;
                RunResult res;
                if ((code = sweep_solve(fams[fi], budgets[b], &spec, NULL, 0, &w, &m, err)) !=
                    SIM_OK)
                    goto out;
                if (w == 0) continue;
                if ((code = sweep_config(fams[fi], w, NULL, 0, &cfg, err)) != SIM_OK ||
                    (code = count_run(&cfg, 30, 30, 0, &spec, &res, err)) != SIM_OK)
                    goto out;
                ReportInput in = {.command = "count", .model_path = cfg.path, .cfg = &cfg,
                                  .spec = &spec, .res = &res};
                ReportTotals t;
                report_totals(&in, &t);
                runner_result_free(&res);
                char cat[96], bud[24];
                budget_str((double)budgets[b], bud, sizeof bud);
                snprintf(cat, sizeof cat, "%s %s (d=%lld)", sweep_family_name(fams[fi]), bud,
                         (long long)w);
                double v[4] = {t.class_macs[CLASS_ATTENTION] / 1e6,
                               t.class_macs[CLASS_CONVOLUTION] / 1e6, t.class_macs[CLASS_FFN] / 1e6,
                               (t.class_macs[CLASS_EMBED_OUTPUT] + t.macs_output_projection) / 1e6};
                plot_bar(p, cat, v, 0, NULL);
            }
        }
    }
    snprintf(f->caption, sizeof f->caption,
             "MACs of each family's chosen width (the widest that fits the budget) by operator "
             "class (DESIGN.md section 3): attention (projections, scores, weighted sums, self "
             "and cross), convolution (the whole LSRA conv branch; ET's convolutions), FFN, and "
             "embedding+output (the projection to the vocabulary, outside the headline MACs). "
             "Forward pass, S = T = 30, --attn-macs causal --conv-macs taps%s.",
             from_db ? "; from the chosen points of the sweeps in the database"
                     : "; counted now because the database has no sweep");
    code = finish(p, o, f, err);
out:
    plot_free(p);
    store_rows_free(rows);
    return code;
}

/* ---- MACs against sentence length ---- */

static SimStatus make_seqlen(const ChartOptions *o, ChartFile *f, SimError *err) {
    static const int64_t lens[] = {10, 20, 30, 50, 75, 100, 150, 200, 250, 300, 400, 500};
    const char *models = o->models && *o->models ? o->models : "transformer-wmt-320,lite-wmt-496";
    file_init(f, "seqlen", "seqlen", NULL);
    Plot *p = plot_new(PLOT_XY, "seqlen", err);
    if (p == NULL) return err->code;
    SimStatus code = SIM_OK;
    snprintf(f->title, sizeof f->title,
             "Mult-Adds vs sentence length: attention grows quadratically, LSRA's convolution "
             "linearly");
    plot_set_title(p, f->title);
    plot_set_axes(p, "sentence length S = T (tokens)", "MACs (M), forward pass", 0, 0);
    plot_set_key(p, PLOT_KEY_TOP_LEFT);
    plot_note(p, "count-only runs of each config at S = T = 10 ... 500, --attn-macs causal "
                 "--conv-macs taps; total = headline MACs, attention = its attention class");
    char list[512];
    snprintf(list, sizeof list, "%s", models);
    int k = 0;
    unsigned used[16];
    char names[400] = "";
    for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ","), k++) {
        char path[1024];
        ModelConfig cfg;
        if (paths_model(tok, NULL, path, sizeof path) != 0) {
            code = sim_errorf(err, SIM_EINVAL, "--models: %s: no such model file, and no "
                                               "models/%s.yml",
                              tok, tok);
            goto out;
        }
        if ((code = config_load(path, NULL, &cfg, err)) != SIM_OK) goto out;
        /* the family's colour, unless an earlier model took it */
        unsigned col = family_color(acc_config_family(&cfg));
        for (int u = 0; u < k; u++)
            if (used[u] == col) col = device_color(k + 3);
        if (k < (int)(sizeof used / sizeof used[0])) used[k] = col;
        char t[200];
        snprintf(t, sizeof t, "%s: total", tok);
        int st = plot_series(p, t, PLOT_LINESPOINTS, col, 7);
        snprintf(t, sizeof t, "%s: attention", tok);
        int sa = plot_series(p, t, PLOT_DASHEDPOINTS, col, 6);
        snprintf(t, sizeof t, "%s: convolution", tok);
        int sc = plot_series(p, t, PLOT_DASHED, col, 0);
        for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
            RunSpec spec;
            RunResult res;
            if ((code = count_run(&cfg, lens[i], lens[i], 0, &spec, &res, err)) != SIM_OK) goto out;
            ReportInput in = {.command = "count", .model_path = path, .cfg = &cfg,
                              .spec = &spec, .res = &res};
            ReportTotals tt;
            report_totals(&in, &tt);
            runner_result_free(&res);
            char lab[48];
            snprintf(lab, sizeof lab, "%llu", (unsigned long long)tt.macs);
            plot_point(p, st, (double)lens[i], tt.macs / 1e6, 0, lab);
            plot_point(p, sa, (double)lens[i], tt.class_macs[CLASS_ATTENTION] / 1e6, 0, NULL);
            if (tt.class_macs[CLASS_CONVOLUTION] > 0)
                plot_point(p, sc, (double)lens[i], tt.class_macs[CLASS_CONVOLUTION] / 1e6, 0,
                           NULL);
        }
        snprintf(names + strlen(names), sizeof names - strlen(names), "%s%s", k ? " vs " : "",
                 tok);
    }
    snprintf(f->caption, sizeof f->caption,
             "Headline MACs of %s (count-only) as the sentence grows from 10 to 500 tokens "
             "(S = T), with the attention and convolution classes: self-attention's score and "
             "weighted-sum products grow with the square of the length, LSRA's convolution "
             "branch linearly. --attn-macs causal --conv-macs taps.",
             names);
    code = finish(p, o, f, err);
out:
    plot_free(p);
    return code;
}

/* ---- design cost in CO2e ---- */

static void lbs_str(double v, char *buf, size_t n) {
    char digits[64];
    snprintf(digits, sizeof digits, "%.0f", v);
    if (v < 10) snprintf(digits, sizeof digits, "%.2g", v);
    size_t len = strlen(digits), k = 0;
    const char *dot = strchr(digits, '.');
    size_t intlen = dot ? (size_t)(dot - digits) : len;
    for (size_t i = 0; i < len && k + 2 < n; i++) {
        buf[k++] = digits[i];
        if (i + 1 < intlen && (intlen - i - 1) % 3 == 0) buf[k++] = ',';
    }
    buf[k] = '\0';
}

SimStatus chart_carbon_items(const CarbonItem *items, int n, const char *name,
                             const ChartOptions *o, ChartFile *f, SimError *err) {
    file_init(f, name, "carbon", NULL);
    Plot *p = plot_new(PLOT_BARS, name, err);
    if (p == NULL) return err->code;
    static const char *const groups[] = {"design search / training", "everyday equivalent"};
    static const unsigned gcol[] = {0xd62728, 0x7f7f7f};
    plot_columns(p, groups, gcol, 2);
    snprintf(f->title, sizeof f->title,
             "Design cost in CO2e (lbs, log scale) with everyday equivalents");
    plot_set_title(p, f->title);
    plot_set_axes(p, NULL, "CO2e (lbs)", 0, 1);
    plot_set_size(p, 1000, 660);
    plot_note(p, "energy = PUE x hours x watts / 1000; CO2e = energy x grid intensity "
                 "(../shared/spec/carbon.md); equivalents: Strubell et al. 2019, Table 1");
    char lab[64], cat[96];
    for (int i = 0; i < n; i++) {
        lbs_str(items[i].co2e_lbs, lab, sizeof lab);
        snprintf(lab + strlen(lab), sizeof lab - strlen(lab), " lbs");
        snprintf(cat, sizeof cat, "%s", items[i].preset[0] ? items[i].preset : items[i].hardware);
        plot_bar(p, cat, &items[i].co2e_lbs, 0, lab);
    }
    int ne = 0;
    const CarbonRow *eq = carbon_equivalents(&ne);
    for (int i = 0; i < ne; i++) {
        lbs_str(eq[i].value, lab, sizeof lab);
        snprintf(lab + strlen(lab), sizeof lab - strlen(lab), " lbs");
        plot_bar(p, eq[i].name, &eq[i].value, 1, lab);
    }
    snprintf(f->caption, sizeof f->caption,
             "CO2e of design searches and training runs (red; `ltsim carbon` presets and "
             "inputs, carbon.md) beside everyday equivalents (grey; Strubell et al. 2019): "
             "air travel New York <-> San Francisco for one passenger, a human life and an "
             "American life for one year, a US car over its lifetime. Log scale: each grid "
             "line is ten times the one below.");
    SimStatus code = finish(p, o, f, err);
    plot_free(p);
    return code;
}

static SimStatus make_carbon(const ChartOptions *o, ChartFile *f, SimError *err) {
    static const char *const order[] = {"strubell-nas",       "patterson-nas",
                                        "patterson-nas-cfe",  "strubell-transformer-big",
                                        "lite-design",        "transformer-design"};
    CarbonItem items[6];
    for (int i = 0; i < 6; i++)
        if (carbon_preset(order[i], &items[i], err) != SIM_OK) return err->code;
    return chart_carbon_items(items, 6, "carbon", o, f, err);
}

/* ---- calibration quality ---- */

typedef struct {
    double measured, predicted;
    char model[128];
} CalPair;

static int dbl_cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Predicts the measured runs of rows on profile host (warm: medians of repeated passes). */
static int predict_measured(const StoreRows *rows, const HwProfile *host, CalPair *pairs,
                            const ChartOptions *o) {
    int np = 0;
    for (size_t i = 0; i < rows->nrows; i++) {
        const StoreField *ct = store_rows_get(rows, i, "config_text");
        if (ct == NULL || ct->type != STORE_TEXT) continue;
        ModelConfig cfg;
        SimError e;
        sim_error_init(&e);
        if (config_load_buffer(ct->text, strlen(ct->text), store_rows_text(rows, i, "model_name"), NULL,
                               &cfg, &e) != SIM_OK)
            continue;
        RunSpec spec;
        RunResult res;
        memset(&spec, 0, sizeof spec);
        int64_t src = (int64_t)store_rows_num(rows, i, "src_len");
        int64_t tgt = (int64_t)store_rows_num(rows, i, "tgt_len");
        if (count_run(&cfg, src, tgt, 0, &spec, &res, &e) != SIM_OK) {
            note(o, "calibration: run %.0f: %s", store_rows_num(rows, i, "run_id"), e.msg);
            continue;
        }
        const CostLedger *one[1] = {res.ledger};
        HwPredictOptions po = {1};
        double ms = hw_predict_ms(host, one, 1, &po);
        runner_result_free(&res);
        if (!(ms > 0)) continue;
        pairs[np].measured = store_rows_num(rows, i, "median_ms");
        pairs[np].predicted = ms;
        snprintf(pairs[np].model, sizeof pairs[np].model, "%s", store_rows_text(rows, i, "model_name"));
        np++;
    }
    return np;
}

static void host_note(void *ctx, const char *msg) {
    const ChartOptions *o = ctx;
    note(o, "calibrate: %s", msg);
}

/* The host profile of the newest quick calibration this machine stored (by an earlier
 * report), so that a report calibrates once, not every time. 1 when found. */
static int stored_host(Store *s, HwProfile *host, char *basis, size_t n, const ChartOptions *o) {
    char me[256] = "";
    if (gethostname(me, sizeof me - 1) != 0) return 0;
    const char *params[1] = {me};
    StoreRows *r = NULL;
    SimError e;
    sim_error_init(&e);
    int ok = 0;
    if (store_select(s,
                     "SELECT id, created_at, profile_text FROM calibrations WHERE hw = 'host' "
                     "AND method = 'host' AND profile_text IS NOT NULL AND hostname = ?1 ORDER "
                     "BY id DESC LIMIT 1",
                     params, 1, &r, &e) == SIM_OK &&
        r->nrows == 1) {
        const char *text = store_rows_text(r, 0, "profile_text");
        char name[64];
        snprintf(name, sizeof name, "calibration %.0f", store_rows_num(r, 0, "id"));
        if (hw_profile_load_buffer(text, strlen(text), name, host, &e) == SIM_OK) {
            snprintf(basis, n, "the quick calibration of this machine stored on %s (table "
                               "calibrations, id %.0f), predicting the measured runs (warm)",
                     store_rows_text(r, 0, "created_at"), store_rows_num(r, 0, "id"));
            ok = 1;
        } else {
            note(o, "calibration: the stored %s no longer loads (%s)", name, e.msg);
        }
    }
    store_rows_free(r);
    return ok;
}

/* Stores a quick host calibration made for the chart, with its profile and its quality over
 * the np measured runs. */
static SimStatus save_quick(Store *s, const HwProfile *host, const CalPair *pairs, int np,
                            const ChartOptions *o, SimError *err) {
    char path[1100];
    snprintf(path, sizeof path, "%s/.host-quick.yml", o->out_dir);
    SimError e;
    sim_error_init(&e);
    char *text = NULL;
    if (hw_profile_write(host, path, &e) == SIM_OK) {
        FILE *f = fopen(path, "rb");
        if (f) {
            text = calloc(1, 1 << 16);
            if (text) text[fread(text, 1, (1 << 16) - 1, f)] = '\0';
            fclose(f);
        }
        unlink(path);
    }
    double *rel = calloc((size_t)(np > 0 ? np : 1), sizeof *rel);
    int w10 = 0, w20 = 0;
    double rmse = 0;
    for (int i = 0; rel && i < np; i++) {
        rel[i] = fabs(pairs[i].predicted - pairs[i].measured) / pairs[i].measured;
        w10 += rel[i] <= 0.10;
        w20 += rel[i] <= 0.20;
        rmse += (pairs[i].predicted - pairs[i].measured) * (pairs[i].predicted - pairs[i].measured);
    }
    double med = NAN, p90 = NAN;
    if (rel && np > 0) {
        qsort(rel, (size_t)np, sizeof *rel, dbl_cmp);
        med = np % 2 ? rel[np / 2] : 0.5 * (rel[np / 2 - 1] + rel[np / 2]);
        p90 = rel[(int)ceil(0.9 * np) - 1];
    }
    char fit[600];
    snprintf(fit, sizeof fit,
             "{\"peak_gflops_fp32\": %.6g, \"gemm_efficiency\": %.6g, \"gemm_m_half\": %.6g, "
             "\"attention_efficiency\": %.6g, \"conv_efficiency\": %.6g, "
             "\"elementwise_efficiency\": %.6g, \"dram_efficiency\": %.6g, \"overhead_us\": "
             "%.6g, \"quick\": true, \"made_by\": \"ltsim report / plot calibration\"}",
             host->peak_gflops_fp32, host->model.gemm_efficiency, host->model.gemm_m_half,
             host->model.attention_efficiency, host->model.conv_efficiency,
             host->model.elementwise_efficiency, host->model.dram_efficiency,
             host->model.overhead_us);
    StoreCalibration c;
    memset(&c, 0, sizeof c);
    c.hw = "host";
    c.method = "host";
    c.fit_json = fit;
    c.profile_text = text;
    c.n = np;
    c.within_10 = np ? (double)w10 / np : NAN;
    c.within_20 = np ? (double)w20 / np : NAN;
    c.median_abs_err = med;
    c.p90_abs_err = p90;
    c.rmse_ms = np ? sqrt(rmse / np) : NAN;
    SimStatus rc = store_save_calibration(s, &c, NULL, err);
    free(rel);
    free(text);
    return rc;
}

static SimStatus make_calibration(Store *s, const ChartOptions *o, ChartFile *f, SimError *err) {
    file_init(f, "calibration", "calibration", NULL);
    StoreRows *stored = NULL, *measured = NULL;
    CalPair *pairs = NULL;
    HwProfile *host = NULL;
    Plot *p = NULL;
    int np = 0, calibrated = 0;
    char basis[400] = "";
    SimStatus code = store_select(
        s,
        "SELECT r.id AS run_id, r.model_name, m.median_ms, q.latency_ms FROM runs r JOIN "
        "measurements m ON m.run_id = r.id JOIN predictions q ON q.run_id = r.id AND q.hw = "
        "'host' WHERE r.threads = 1 AND r.mode = 'forward' ORDER BY m.median_ms",
        NULL, 0, &stored, err);
    if (code != SIM_OK) return code;
    if ((code = store_select(s,
                             "SELECT r.id AS run_id, r.model_name, r.config_text, r.src_len, "
                             "r.tgt_len, m.median_ms FROM runs r JOIN measurements m ON "
                             "m.run_id = r.id WHERE r.threads = 1 AND r.mode = 'forward' AND "
                             "r.weights_path IS NULL AND r.config_text IS NOT NULL ORDER BY "
                             "m.median_ms",
                             NULL, 0, &measured, err)) != SIM_OK)
        goto out;
    size_t cap = stored->nrows + measured->nrows + 1;
    pairs = calloc(cap, sizeof *pairs);
    host = calloc(1, sizeof *host);
    if (pairs == NULL || host == NULL) {
        code = sim_errorf(err, SIM_ENOMEM, "out of memory building chart calibration");
        goto out;
    }
    for (size_t i = 0; i < stored->nrows; i++) {
        pairs[np].measured = store_rows_num(stored, i, "median_ms");
        pairs[np].predicted = store_rows_num(stored, i, "latency_ms");
        snprintf(pairs[np].model, sizeof pairs[np].model, "%s", store_rows_text(stored, i, "model_name"));
        if (pairs[np].measured > 0 && pairs[np].predicted > 0) np++;
    }
    if (np > 0) {
        snprintf(basis, sizeof basis, "the host predictions stored with the measured runs");
    } else if (measured->nrows > 0) {
        SimError e;
        sim_error_init(&e);
        int have = hw_profile_open("host", host, &e) == SIM_OK;
        if (have) {
            snprintf(basis, sizeof basis, "hwprofiles/host.yml (%s), predicting the measured "
                                          "runs now (warm: medians of repeated passes)",
                     host->prov.date[0] ? host->prov.date : "undated");
        } else if (stored_host(s, host, basis, sizeof basis, o)) {
            have = 1;
        } else if (o->no_calibrate) {
            note(o, "calibration: no usable host profile (%s) and --no-calibrate: chart skipped",
                 e.msg);
        } else {
            note(o, "calibration: no usable host profile (%s); calibrating this machine now "
                    "(quick, about half a minute; 'ltsim calibrate' writes hwprofiles/host.yml "
                    "to keep one)",
                 e.msg);
            HwCalibOptions co;
            memset(&co, 0, sizeof co);
            co.threads = 1;
            co.quick = 1;
            co.note = host_note;
            co.note_ctx = (void *)o;
            HwFitReport rep;
            HwHostMeasure meas;
            memset(&rep, 0, sizeof rep);
            memset(&meas, 0, sizeof meas);
            if ((code = hw_calibrate_host(host, &co, &rep, &meas, err)) != SIM_OK) goto out;
            have = calibrated = 1;
            snprintf(basis, sizeof basis, "a quick calibration of this machine made for this "
                                          "chart (stored in table calibrations, not written to "
                                          "hwprofiles/host.yml), predicting the measured runs "
                                          "(warm)");
        }
        if (have) np = predict_measured(measured, host, pairs, o);
        if (calibrated && (code = save_quick(s, host, pairs, np, o, err)) != SIM_OK) goto out;
    }
    if (np == 0) {
        note(o, "calibration: no measured runs with a host prediction (run an executed sweep "
                "or 'ltsim run', with a host profile from 'ltsim calibrate'): chart skipped");
        goto out;
    }
    if ((p = plot_new(PLOT_XY, "calibration", err)) == NULL) {
        code = err->code;
        goto out;
    }
    double lo = INFINITY, hi = 0;
    double *rel = calloc((size_t)np, sizeof *rel);
    if (rel == NULL) {
        code = sim_errorf(err, SIM_ENOMEM, "out of memory building chart calibration");
        goto out;
    }
    int w10 = 0, w20 = 0;
    for (int i = 0; i < np; i++) {
        double m = pairs[i].measured, q = pairs[i].predicted;
        if (m < lo) lo = m;
        if (q < lo) lo = q;
        if (m > hi) hi = m;
        if (q > hi) hi = q;
        rel[i] = fabs(q - m) / m;
        w10 += rel[i] <= 0.10;
        w20 += rel[i] <= 0.20;
    }
    qsort(rel, (size_t)np, sizeof *rel, dbl_cmp);
    f->median_abs_err = np % 2 ? rel[np / 2] : 0.5 * (rel[np / 2 - 1] + rel[np / 2]);
    free(rel);
    f->n_pairs = np;
    f->n_within = w10;
    f->n_within20 = w20;
    snprintf(f->title, sizeof f->title,
             "Measured vs predicted host latency: %d of %d within +-10 %%", w10, np);
    plot_set_title(p, f->title);
    plot_set_axes(p, "measured latency on this host (ms, median of repeats)",
                  "predicted latency (ms)", 1, 1);
    plot_set_key(p, PLOT_KEY_TOP_LEFT);
    plot_note(p, "predictions: %s", basis);
    int sb = plot_series(p, "+-10 % band", PLOT_BAND, 0x2ca02c, 0);
    int sl = plot_series(p, "predicted = measured", PLOT_LINES, 0x2ca02c, 0);
    int sp = plot_series(p, "runs (forward, 1 thread)", PLOT_POINTS, 0x1f77b4, 7);
    for (int k = 0; k <= 10; k++) {
        double x = exp(log(lo / 1.3) + (log(hi * 1.3) - log(lo / 1.3)) * k / 10.0);
        plot_point(p, sb, x, 0.9 * x, 1.1 * x, NULL);
        plot_point(p, sl, x, x, 0, NULL);
    }
    for (int i = 0; i < np; i++)
        plot_point(p, sp, pairs[i].measured, pairs[i].predicted, 0, pairs[i].model);
    snprintf(f->caption, sizeof f->caption,
             "Predicted against measured latency of %d executed forward runs on this host "
             "(median of the timed passes, 1 thread). %d (%.0f %%) lie within +-10 %% (the "
             "green band) and %d (%.0f %%) within +-20 %%; median absolute error %.1f %%. "
             "Predictions: %s.",
             np, w10, 100.0 * w10 / np, w20, 100.0 * w20 / np, 100.0 * f->median_abs_err, basis);
    code = finish(p, o, f, err);
out:
    plot_free(p);
    free(host);
    free(pairs);
    store_rows_free(stored);
    store_rows_free(measured);
    return code;
}

/* ---- dispatch ---- */

SimStatus chart_make(Store *s, ChartKind k, const ChartOptions *o, ChartFile *out, int max,
                     int *n, SimError *err) {
    *n = 0;
    if (max <= 0) return SIM_OK;
    ChartFile f;
    memset(&f, 0, sizeof f);
    SimStatus rc = SIM_OK;
    switch (k) {
    case CHART_ACCURACY: return make_accuracy(s, o, out, max, n, err);
    case CHART_LATENCY: rc = make_device(s, 0, o, &f, err); break;
    case CHART_ENERGY: rc = make_device(s, 1, o, &f, err); break;
    case CHART_BREAKDOWN: rc = make_breakdown(s, o, &f, err); break;
    case CHART_SEQLEN: rc = make_seqlen(o, &f, err); break;
    case CHART_CARBON: rc = make_carbon(o, &f, err); break;
    case CHART_CALIBRATION: rc = make_calibration(s, o, &f, err); break;
    default: return sim_errorf(err, SIM_EINVAL, "unknown chart kind %d", (int)k);
    }
    if (rc == SIM_OK && f.npoints > 0) out[(*n)++] = f;
    return rc;
}
