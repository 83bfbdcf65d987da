/*
 * summary.c - the report of summary.h: charts, tables and provenance written side by side as
 * HTML (index.html) and Markdown (report.md) through one small document writer.
 *
 * The HTML page is self-contained (inline style, no external resource) except for the chart
 * images, which are files beside it. A short inline script marks <body> with
 * data-images-loaded="k/n" and data-images-ok="yes|no" once the page has loaded, so a browser
 * test can check from the DOM alone that every image decoded.
 */
#include "summary.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "accuracy.h"
#include "carbon.h"
#include "fmt.h"
#include "ops.h"
#include "plot.h"
#include "report.h"

#define MAX_TABLE_ROWS 400

/* ---- the document writer: every call writes HTML and Markdown ---- */

typedef struct {
    FILE *h, *m;
} Doc;

/* HTML text: escapes <, >, &, " and turns `code` spans into <code>. */
static void h_text(FILE *f, const char *s) {
    int code = 0;
    for (const char *c = s ? s : ""; *c; c++) {
        switch (*c) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '`':
            fputs(code ? "</code>" : "<code>", f);
            code = !code;
            break;
        default: fputc(*c, f);
        }
    }
    if (code) fputs("</code>", f);
}

/* Markdown table cell: no pipes or newlines. */
static void m_cell(FILE *f, const char *s) {
    for (const char *c = s ? s : ""; *c; c++) {
        if (*c == '|') fputs("\\|", f);
        else if (*c == '\n' || *c == '\r') fputc(' ', f);
        else fputc(*c, f);
    }
}

static void d_heading(Doc *d, int level, const char *id, const char *title) {
    fprintf(d->h, "<h%d id=\"%s\">", level, id);
    h_text(d->h, title);
    fprintf(d->h, "</h%d>\n", level);
    fprintf(d->m, "\n%.*s %s\n\n", level, "####", title);
}

static void d_para(Doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void d_para(Doc *d, const char *fmt, ...) {
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("<p>", d->h);
    h_text(d->h, buf);
    fputs("</p>\n", d->h);
    fprintf(d->m, "%s\n\n", buf);
}

static void d_item(Doc *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void d_item(Doc *d, const char *fmt, ...) {
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    fputs("<li>", d->h);
    h_text(d->h, buf);
    fputs("</li>\n", d->h);
    fprintf(d->m, "- %s\n", buf);
}

static void d_list_begin(Doc *d) { fputs("<ul>\n", d->h); }
static void d_list_end(Doc *d) {
    fputs("</ul>\n", d->h);
    fputc('\n', d->m);
}

static void d_table_begin(Doc *d, const char *const *head, int n) {
    fputs("<div class=\"scroll\"><table>\n<tr>", d->h);
    fputc('\n', d->m);
    for (int i = 0; i < n; i++) {
        fputs("<th>", d->h);
        h_text(d->h, head[i]);
        fputs("</th>", d->h);
        fputs("| ", d->m);
        m_cell(d->m, head[i]);
        fputc(' ', d->m);
    }
    fputs("</tr>\n", d->h);
    fputs("|\n", d->m);
    for (int i = 0; i < n; i++) fputs("|---", d->m);
    fputs("|\n", d->m);
}

static void d_row(Doc *d, const char *const *cells, int n) {
    fputs("<tr>", d->h);
    for (int i = 0; i < n; i++) {
        fputs("<td>", d->h);
        h_text(d->h, cells[i]);
        fputs("</td>", d->h);
        fputs("| ", d->m);
        m_cell(d->m, cells[i]);
        fputc(' ', d->m);
    }
    fputs("</tr>\n", d->h);
    fputs("|\n", d->m);
}

static void d_table_end(Doc *d) {
    fputs("</table></div>\n", d->h);
    fputc('\n', d->m);
}

static void d_figure(Doc *d, const ChartFile *c) {
    fprintf(d->h, "<figure id=\"%s\">\n<img src=\"%s.png\" alt=\"", c->name, c->name);
    h_text(d->h, c->title);
    fprintf(d->h, "\" width=\"1000\">\n<figcaption><b>");
    h_text(d->h, c->title);
    fputs(".</b> ", d->h);
    h_text(d->h, c->caption);
    fprintf(d->h,
            " <span class=\"files\">Files: <a href=\"%s.svg\">SVG</a>, <a href=\"%s.dat\">data"
            "</a>, <a href=\"%s.gp\">gnuplot script</a> (<code>gnuplot %s.gp</code> redraws "
            "it).</span></figcaption>\n</figure>\n",
            c->name, c->name, c->name, c->name);
    fprintf(d->m, "![%s](%s.png)\n\n**%s.** %s Files: [SVG](%s.svg), [data](%s.dat), [gnuplot "
                  "script](%s.gp).\n\n",
            c->title, c->name, c->title, c->caption, c->name, c->name, c->name);
}

/* ---- formatting ---- */

/* v with decimals digits after the point and a suffix; "-" when not finite. */
static void fmt_num(double v, int decimals, const char *suffix, char *buf, size_t n) {
    if (!isfinite(v)) snprintf(buf, n, "-");
    else snprintf(buf, n, "%.*f%s", decimals, v, suffix);
}

static int64_t q_int(Store *s, const char *sql) {
    int64_t v = 0;
    SimError e;
    sim_error_init(&e);
    if (store_query_int(s, sql, &v, &e) != SIM_OK) return -1;
    return v;
}

/* ---- sections ---- */

static const char style[] =
    "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0 auto;"
    "max-width:1060px;padding:1em 1.5em;color:#222;line-height:1.45}"
    "h1{margin-top:.3em}h2{border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:1.8em}"
    "figure{margin:1.2em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}"
    "figcaption{font-size:.92em;color:#333}.files{color:#666}"
    "table{border-collapse:collapse;font-size:.85em;margin:.6em 0}"
    "th,td{border:1px solid #ddd;padding:.2em .5em;text-align:left;white-space:nowrap}"
    "th{background:#f4f4f4}.scroll{overflow-x:auto}code{background:#f4f4f4;padding:0 .2em}"
    "nav a{margin-right:.8em}";

static const char load_check[] =
    "<script>\n"
    "window.addEventListener('load', function () {\n"
    "  var imgs = document.images, ok = 0;\n"
    "  for (var i = 0; i < imgs.length; i++)\n"
    "    if (imgs[i].complete && imgs[i].naturalWidth > 0) ok++;\n"
    "  document.body.setAttribute('data-images-loaded', ok + '/' + imgs.length);\n"
    "  document.body.setAttribute('data-images-ok', ok === imgs.length ? 'yes' : 'no');\n"
    "});\n"
    "</script>\n";

static void section_provenance(Doc *d, Store *s, const SummaryOptions *o) {
    char now[40], host[256] = "", git[64] = "";
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(now, sizeof now, "%Y-%m-%d %H:%M:%S UTC", &tm);
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    store_git_hash(NULL, git, sizeof git);
    d_heading(d, 2, "provenance", "Provenance of the data");
    d_list_begin(d);
    d_item(d, "Generated %s by ltsim %s (git %s) on %s; BLAS: %s.", now, LTSIM_VERSION,
           git[0] ? git : "unknown", host[0] ? host : "?", ops_blas_name());
    d_item(d, "Database: `%s` (schema version %d).", o->db_path ? o->db_path : store_path(s),
           STORE_SCHEMA_VERSION);
    d_item(d, "Runs: %lld stored (%lld executed and timed, %lld count-only); %lld sweep "
              "points in %lld sweeps.",
           (long long)q_int(s, "SELECT count(*) FROM runs"),
           (long long)q_int(s, "SELECT count(*) FROM runs WHERE count_only = 0"),
           (long long)q_int(s, "SELECT count(*) FROM runs WHERE count_only = 1"),
           (long long)q_int(s, "SELECT count(*) FROM sweep_points"),
           (long long)q_int(s, "SELECT count(*) FROM sweeps"));
    d_item(d, "Published results: %lld numbers from `db/published.csv` (tag V seen in the "
              "source: %lld; D derived: %lld; R recalled, drawn hollow and never fitted unless "
              "asked: %lld), transcribed from ../shared/spec/published.md.",
           (long long)q_int(s, "SELECT count(*) FROM published"),
           (long long)q_int(s, "SELECT count(*) FROM published WHERE tag = 'V'"),
           (long long)q_int(s, "SELECT count(*) FROM published WHERE tag = 'D'"),
           (long long)q_int(s, "SELECT count(*) FROM published WHERE tag = 'R'"));
    d_item(d, "Your measurements: %lld imported scores (`ltsim accuracy import`); estimates: "
              "%lld (table accuracy_estimates); calibrations: %lld; carbon comparisons: %lld.",
           (long long)q_int(s, "SELECT count(*) FROM accuracy_results"),
           (long long)q_int(s, "SELECT count(*) FROM accuracy_estimates"),
           (long long)q_int(s, "SELECT count(*) FROM calibrations"),
           (long long)q_int(s, "SELECT count(*) FROM carbon_comparisons"));
    d_list_end(d);
    SimError e;
    sim_error_init(&e);
    StoreRows *r = NULL;
    if (store_select(s,
                     "SELECT s.id, s.name, s.created_at, s.finished_at, s.git_hash, "
                     "s.ltsim_version, (SELECT count(*) FROM sweep_points p WHERE p.sweep_id = "
                     "s.id) AS points FROM sweeps s ORDER BY s.id",
                     NULL, 0, &r, &e) == SIM_OK &&
        r->nrows > 0) {
        static const char *const head[] = {"sweep", "name", "points", "created", "finished",
                                           "ltsim", "git"};
        d_table_begin(d, head, 7);
        for (size_t i = 0; i < r->nrows; i++) {
            char id[24], pts[24];
            snprintf(id, sizeof id, "%.0f", store_rows_num(r, i, "id"));
            snprintf(pts, sizeof pts, "%.0f", store_rows_num(r, i, "points"));
            const char *cells[] = {id,
                                   store_rows_text(r, i, "name"),
                                   pts,
                                   store_rows_text(r, i, "created_at"),
                                   *store_rows_text(r, i, "finished_at")
                                       ? store_rows_text(r, i, "finished_at")
                                       : "(not finished)",
                                   store_rows_text(r, i, "ltsim_version"),
                                   store_rows_text(r, i, "git_hash")};
            d_row(d, cells, 7);
        }
        d_table_end(d);
    }
    store_rows_free(r);
    r = NULL;
    if (store_select(s,
                     "SELECT hostname, cpu_model, blas, openblas_coretype, count(*) AS n FROM "
                     "runs WHERE count_only = 0 GROUP BY hostname, cpu_model, blas, "
                     "openblas_coretype ORDER BY n DESC",
                     NULL, 0, &r, &e) == SIM_OK &&
        r->nrows > 0) {
        d_para(d, "Where the executed runs were timed:");
        static const char *const head[] = {"host", "CPU", "BLAS", "OPENBLAS_CORETYPE", "runs"};
        d_table_begin(d, head, 5);
        for (size_t i = 0; i < r->nrows; i++) {
            char n[24];
            snprintf(n, sizeof n, "%.0f", store_rows_num(r, i, "n"));
            const char *cells[] = {store_rows_text(r, i, "hostname"),
                                   store_rows_text(r, i, "cpu_model"),
                                   store_rows_text(r, i, "blas"),
                                   store_rows_text(r, i, "openblas_coretype"), n};
            d_row(d, cells, 5);
        }
        d_table_end(d);
    }
    store_rows_free(r);
}

static void section_conventions(Doc *d) {
    d_heading(d, 2, "conventions", "Counting conventions");
    d_list_begin(d);
    d_item(d, "1 MAC = one multiply + one add; FLOPs = 2 x MACs + other FLOPs. Every MAC figure "
              "here is a headline count: without token embeddings and the output projection to "
              "the vocabulary (reported apart as embedding+output).");
    d_item(d, "Counted as MACs: every weight matrix product (including the dynamic-conv weight "
              "generator and the decoder's cross-attention K/V over the S source tokens), the "
              "attention scores and weighted sums, and the convolution taps.");
    d_item(d, "Defaults used by the charts: `--attn-macs causal` (decoder self-attention "
              "counts the T(T+1)/2 used pairs) and `--conv-macs taps` (all K taps, padding "
              "included); forward pass at S = T = 30 tokens (45 for CNN-DailyMail configs).");
    d_item(d, "Not MACs: softmax, layer norm, GLU gating, activations, biases, residual adds, "
              "scaling, positional encodings (other FLOPs).");
    d_item(d, "Parameters exclude token embeddings and the output projection (the paper's "
              "rule).");
    d_item(d, "Latency and energy are predictions of the roofline model of DESIGN.md section 6 "
              "on the hardware profiles in hwprofiles/ (every number with its source), not "
              "measurements; host times are measured medians.");
    d_item(d, "Accuracy ESTIMATES come from a per-family, per-task least-squares fit of the "
              "score against ln(MACs) over measured points (published V/D and your imported "
              "results; recalled R points only with --use-unconfirmed, then labelled so). They "
              "are stored apart from measurements and shown with one standard error of the "
              "fit.");
    d_list_end(d);
}

static void section_sweeps(Doc *d, Store *s) {
    d_heading(d, 2, "sweeps", "Sweep tables");
    SimError e;
    sim_error_init(&e);
    StoreRows *pts = NULL, *pred = NULL, *hws = NULL;
    if (store_select(s,
                     "SELECT p.sweep_id, s.name AS sweep, p.family, p.budget_macs, p.role, "
                     "p.width, p.label, r.id AS run_id, r.model_name, r.mode, r.macs, r.params, "
                     "m.median_ms FROM sweep_points p JOIN sweeps s ON s.id = p.sweep_id JOIN "
                     "runs r ON r.id = p.run_id LEFT JOIN measurements m ON m.run_id = r.id "
                     "ORDER BY p.sweep_id, p.family, p.budget_macs, p.role, p.width, p.label",
                     NULL, 0, &pts, &e) != SIM_OK ||
        store_select(s,
                     "SELECT DISTINCT q.hw FROM predictions q JOIN sweep_points p ON p.run_id = "
                     "q.run_id ORDER BY q.hw",
                     NULL, 0, &hws, &e) != SIM_OK ||
        store_select(s,
                     "SELECT DISTINCT q.run_id, q.hw, q.latency_ms FROM predictions q JOIN "
                     "sweep_points p ON p.run_id = q.run_id ORDER BY q.run_id, q.hw",
                     NULL, 0, &pred, &e) != SIM_OK) {
        d_para(d, "(the sweep points could not be read: %s)", e.msg);
        goto out;
    }
    if (pts->nrows == 0) {
        d_para(d, "No sweep in the database yet: `ltsim sweep --hw all` (or `make demo`) adds "
                  "the paper's families under 100M / 300M / 500M Mult-Adds.");
        goto out;
    }
    d_para(d, "Each sweep's points: for every family and budget the widest width on the grid "
              "that fits (chosen), its grid neighbours, and the paper's named configs "
              "(reference). MACs are headline MACs of the stored run; host ms the measured "
              "median (count-only runs have none); the device columns are predicted latencies "
              "(ms) of one forward pass.");
    int nh = (int)hws->nrows;
    if (nh > 16) nh = 16;
    const char *head[8 + 16];
    static const char *const fixed[] = {"family", "budget", "role", "d", "model", "MACs",
                                        "params", "host ms"};
    for (int i = 0; i < 8; i++) head[i] = fixed[i];
    for (int i = 0; i < nh; i++) head[8 + i] = store_rows_text(hws, (size_t)i, "hw");
    double cur = -1;
    int shown = 0, total = 0;
    for (size_t i = 0; i < pts->nrows; i++) {
        double sw = store_rows_num(pts, i, "sweep_id");
        if (sw != cur) {
            if (cur >= 0) {
                d_table_end(d);
                if (total > shown)
                    d_para(d, "(%d of %d points shown; `ltsim db export` lists every one)",
                           shown, total);
            }
            cur = sw;
            shown = total = 0;
            d_para(d, "Sweep %.0f: %s", sw, store_rows_text(pts, i, "sweep"));
            d_table_begin(d, head, 8 + nh);
        }
        total++;
        if (shown >= MAX_TABLE_ROWS) continue;
        shown++;
        char bud[24], w[24], macs[32], params[32], ms[32], cells_pred[16][24];
        double b = store_rows_num(pts, i, "budget_macs");
        if (b > 0) snprintf(bud, sizeof bud, "%.0fM", b / 1e6);
        else snprintf(bud, sizeof bud, "-");
        snprintf(w, sizeof w, "%.0f", store_rows_num(pts, i, "width"));
        fmt_count(store_rows_num(pts, i, "macs"), macs, sizeof macs);
        fmt_count(store_rows_num(pts, i, "params"), params, sizeof params);
        fmt_num(store_rows_num(pts, i, "median_ms"), 2, "", ms, sizeof ms);
        char model[160];
        const char *label = store_rows_text(pts, i, "label");
        snprintf(model, sizeof model, "%s%s%s%s", store_rows_text(pts, i, "model_name"),
                 strcmp(store_rows_text(pts, i, "mode"), "generate") == 0 ? " (generate)" : "",
                 *label && strcmp(label, store_rows_text(pts, i, "model_name")) != 0 ? " " : "",
                 *label && strcmp(label, store_rows_text(pts, i, "model_name")) != 0 ? label : "");
        const char *cells[8 + 16] = {store_rows_text(pts, i, "family"), bud,
                                     store_rows_text(pts, i, "role"), w, model, macs, params, ms};
        double run = store_rows_num(pts, i, "run_id");
        for (int h = 0; h < nh; h++) {
            snprintf(cells_pred[h], sizeof cells_pred[h], "-");
            for (size_t k = 0; k < pred->nrows; k++)
                if (store_rows_num(pred, k, "run_id") == run &&
                    strcmp(store_rows_text(pred, k, "hw"), head[8 + h]) == 0)
                    fmt_num(store_rows_num(pred, k, "latency_ms"), 1, "", cells_pred[h],
                            sizeof cells_pred[h]);
            cells[8 + h] = cells_pred[h];
        }
        d_row(d, cells, 8 + nh);
    }
    d_table_end(d);
    if (total > shown)
        d_para(d, "(%d of %d points shown; `ltsim db export` lists every one)", shown, total);
out:
    store_rows_free(pts);
    store_rows_free(pred);
    store_rows_free(hws);
}

static void section_accuracy(Doc *d, Store *s) {
    d_heading(d, 2, "accuracy-data", "Accuracy data");
    int ntask = 0;
    const AccTask *tk = acc_tasks(&ntask);
    static const char *const kinds[ACC_KIND_COUNT] = {"published", "published, unconfirmed (R)",
                                                      "imported (yours)"};
    SimError e;
    sim_error_init(&e);
    for (int ti = 0; ti < ntask; ti++) {
        AccObs *obs = NULL;
        int n = 0;
        if (acc_observations(s, &tk[ti], &obs, &n, &e) != SIM_OK || n == 0) {
            free(obs);
            continue;
        }
        d_para(d, "%s (%s): measured points", tk[ti].title, tk[ti].unit);
        const char *h2[8] = {"family", "kind", "model", "config", "MACs", "MACs from",
                             tk[ti].unit, "source"};
        d_table_begin(d, h2, 8);
        for (int i = 0; i < n; i++) {
            char macs[32], val[32];
            fmt_count(obs[i].macs, macs, sizeof macs);
            snprintf(val, sizeof val, "%.2f", obs[i].value);
            const char *cells[] = {obs[i].family,
                                   kinds[obs[i].kind],
                                   obs[i].model,
                                   obs[i].config,
                                   macs,
                                   obs[i].counted ? "counted by ltsim" : "published",
                                   val,
                                   obs[i].source};
            d_row(d, cells, 8);
        }
        d_table_end(d);
        free(obs);
    }
    StoreRows *r = NULL;
    if (store_select(s,
                     "SELECT task, family, width, macs, metric, value, std_error, basis, "
                     "fit_n, fit_rmse, fit_slope, fit_intercept FROM accuracy_estimates ORDER "
                     "BY task, family, macs",
                     NULL, 0, &r, &e) == SIM_OK) {
        if (r->nrows == 0) {
            d_para(d, "No estimates: they need swept points (`ltsim sweep`) of a family with at "
                      "least two measured points for a task.");
        } else {
            d_para(d, "ESTIMATED accuracy of the swept widths (not measurements): the family's "
                      "fit a + b ln(MACs) at each point, +- one standard error of the fitted "
                      "value (\"-\" when the fit has only two points).");
            static const char *const head[] = {"task", "family", "d", "MACs", "metric",
                                               "estimate", "+- s.e.", "basis", "fit points",
                                               "fit rmse", "a", "b"};
            d_table_begin(d, head, 12);
            for (size_t i = 0; i < r->nrows && i < MAX_TABLE_ROWS; i++) {
                char w[24], macs[32], val[32], se[32], n[16], rmse[32], a[32], b[32];
                snprintf(w, sizeof w, "%.0f", store_rows_num(r, i, "width"));
                fmt_count(store_rows_num(r, i, "macs"), macs, sizeof macs);
                fmt_num(store_rows_num(r, i, "value"), 2, "", val, sizeof val);
                fmt_num(store_rows_num(r, i, "std_error"), 2, "", se, sizeof se);
                snprintf(n, sizeof n, "%.0f", store_rows_num(r, i, "fit_n"));
                fmt_num(store_rows_num(r, i, "fit_rmse"), 3, "", rmse, sizeof rmse);
                fmt_num(store_rows_num(r, i, "fit_intercept"), 3, "", a, sizeof a);
                fmt_num(store_rows_num(r, i, "fit_slope"), 3, "", b, sizeof b);
                const char *cells[] = {store_rows_text(r, i, "task"),
                                       store_rows_text(r, i, "family"), w, macs,
                                       store_rows_text(r, i, "metric"), val, se,
                                       store_rows_text(r, i, "basis"), n, rmse, a, b};
                d_row(d, cells, 12);
            }
            d_table_end(d);
        }
    }
    store_rows_free(r);
}

static void section_calibration(Doc *d, Store *s, const SummaryResult *res) {
    d_heading(d, 2, "calibration-quality", "Calibration quality");
    int drawn = 0;
    for (int i = 0; i < res->ncharts; i++) {
        const ChartFile *c = &res->charts[i];
        if (strcmp(c->kind, "calibration") != 0 || c->n_pairs == 0) continue;
        d_para(d, "This report's chart: %d of %d measured runs (%.0f %%) predicted within "
                  "+-10 %%, %d (%.0f %%) within +-20 %%, median absolute error %.1f %% (for "
                  "comparison, nn-Meter reports 99.0 %% within +-10 %% on a Pixel 4 CPU, "
                  "published.md section 5).",
               c->n_within, c->n_pairs, 100.0 * c->n_within / c->n_pairs, c->n_within20,
               100.0 * c->n_within20 / c->n_pairs, 100.0 * c->median_abs_err);
        drawn = 1;
    }
    if (!drawn)
        d_para(d, "No calibration chart: it needs executed runs (an executed sweep or `ltsim "
                  "run`) and a host profile to predict them (hwprofiles/host.yml from `ltsim "
                  "calibrate`, or the quick calibration `ltsim report` makes unless "
                  "--no-calibrate).");
    SimError e;
    sim_error_init(&e);
    StoreRows *r = NULL;
    if (store_select(s,
                     "SELECT created_at, hw, method, input_name, n, within_10, within_20, "
                     "median_abs_err, p90_abs_err, rmse_ms, cpu_model FROM calibrations ORDER "
                     "BY id",
                     NULL, 0, &r, &e) == SIM_OK &&
        r->nrows > 0) {
        d_para(d, "Stored calibration fits (`ltsim calibrate`), with their quality over the "
                  "points used:");
        static const char *const head[] = {"date", "profile", "method", "input", "n",
                                           "within 10 %", "within 20 %", "median err",
                                           "p90 err", "rmse ms", "CPU"};
        d_table_begin(d, head, 11);
        for (size_t i = 0; i < r->nrows && i < MAX_TABLE_ROWS; i++) {
            char n[16], w10[16], w20[16], med[16], p90[16], rmse[24];
            fmt_num(store_rows_num(r, i, "n"), 0, "", n, sizeof n);
            fmt_num(100 * store_rows_num(r, i, "within_10"), 0, " %", w10, sizeof w10);
            fmt_num(100 * store_rows_num(r, i, "within_20"), 0, " %", w20, sizeof w20);
            fmt_num(100 * store_rows_num(r, i, "median_abs_err"), 1, " %", med, sizeof med);
            fmt_num(100 * store_rows_num(r, i, "p90_abs_err"), 1, " %", p90, sizeof p90);
            fmt_num(store_rows_num(r, i, "rmse_ms"), 3, "", rmse, sizeof rmse);
            const char *cells[] = {store_rows_text(r, i, "created_at"), store_rows_text(r, i, "hw"),
                                   store_rows_text(r, i, "method"),     store_rows_text(r, i, "input_name"),
                                   n, w10, w20, med, p90, rmse, store_rows_text(r, i, "cpu_model")};
            d_row(d, cells, 11);
        }
        d_table_end(d);
    }
    store_rows_free(r);
}

static void section_carbon(Doc *d, Store *s) {
    d_heading(d, 2, "carbon-data", "Design cost: the presets and their sources");
    d_para(d, "energy (kWh) = PUE x hours x watts / 1000 (watts: the whole setup's average "
              "power); CO2e = energy x grid intensity; Strubell's 0.954 lbs/kWh is 0.4327 "
              "kg/kWh. `ltsim carbon --preset NAME` prints one, `--compare A,B` the ratios.");
    int np = 0;
    const CarbonPresetInfo *pi = carbon_presets(&np);
    static const char *const head[] = {"preset", "hardware", "hours", "W", "PUE", "kg/kWh",
                                       "kWh", "CO2e (lbs)", "CO2e (t)", "cost (USD)",
                                       "reproduces", "source"};
    d_table_begin(d, head, 12);
    for (int i = 0; i < np; i++) {
        CarbonItem it;
        SimError e;
        sim_error_init(&e);
        if (carbon_preset(pi[i].name, &it, &e) != SIM_OK) continue;
        char hours[32], w[32], pue[16], grid[16], kwh[32], lbs[32], t[32], cost[64];
        fmt_count(it.hours, hours, sizeof hours);
        if (it.hours < 100) snprintf(hours, sizeof hours, "%.1f", it.hours);
        fmt_num(it.watts, 2, "", w, sizeof w);
        fmt_num(it.pue, 2, "", pue, sizeof pue);
        fmt_num(it.grid_kg_per_kwh, 4, "", grid, sizeof grid);
        fmt_count(it.energy_kwh, kwh, sizeof kwh);
        if (it.energy_kwh < 1000) snprintf(kwh, sizeof kwh, "%.2f", it.energy_kwh);
        fmt_count(it.co2e_lbs, lbs, sizeof lbs);
        snprintf(t, sizeof t, "%.3g", it.co2e_kg / 1000);
        if (isnan(it.cost_low)) snprintf(cost, sizeof cost, "-");
        else {
            char a[32], b[32];
            fmt_count(it.cost_low, a, sizeof a);
            fmt_count(it.cost_high, b, sizeof b);
            snprintf(cost, sizeof cost, "%s-%s", a, b);
        }
        const char *cells[] = {it.preset, it.hardware, hours, w, pue, grid, kwh, lbs, t, cost,
                               it.published, it.source};
        d_row(d, cells, 12);
    }
    d_table_end(d);
    int n = 0;
    const CarbonRow *tabs[3];
    int ns[3];
    tabs[0] = carbon_accelerators(&ns[0]);
    tabs[1] = carbon_regions(&ns[1]);
    tabs[2] = carbon_equivalents(&ns[2]);
    static const char *const tnames[] = {"Accelerators (W per unit)",
                                         "Grid intensity (kg CO2e per kWh)",
                                         "Everyday equivalents (lbs CO2e)"};
    for (int k = 0; k < 3; k++) {
        d_para(d, "%s; tag V seen in the source, D derived, R recalled (confirm against the "
                  "source):",
               tnames[k]);
        static const char *const h[] = {"name", "what", "value", "tag", "source"};
        d_table_begin(d, h, 5);
        for (int i = 0; i < ns[k]; i++) {
            char v[32];
            snprintf(v, sizeof v, "%.6g", tabs[k][i].value);
            const char *cells[] = {tabs[k][i].name, tabs[k][i].description, v, tabs[k][i].tag,
                                   tabs[k][i].source};
            d_row(d, cells, 5);
        }
        d_table_end(d);
        n++;
    }
    SimError e;
    sim_error_init(&e);
    StoreRows *r = NULL;
    if (store_select(s, "SELECT created_at, name, ratios FROM carbon_comparisons ORDER BY id",
                     NULL, 0, &r, &e) == SIM_OK &&
        r->nrows > 0) {
        d_para(d, "Stored comparisons (`ltsim carbon --compare`):");
        static const char *const h[] = {"date", "items", "ratios (a / b of CO2e)"};
        d_table_begin(d, h, 3);
        for (size_t i = 0; i < r->nrows && i < MAX_TABLE_ROWS; i++) {
            const char *cells[] = {store_rows_text(r, i, "created_at"), store_rows_text(r, i, "name"),
                                   store_rows_text(r, i, "ratios")};
            d_row(d, cells, 3);
        }
        d_table_end(d);
    }
    store_rows_free(r);
}

/* ---- the report ---- */

static SimStatus open_tmp(const char *dir, const char *name, char *path, size_t n, FILE **f,
                          SimError *err) {
    snprintf(path, n, "%s/.%s.tmp", dir, name);
    *f = fopen(path, "w");
    if (*f == NULL) return sim_errorf(err, SIM_EIO, "%s: cannot write: %s", path, strerror(errno));
    return SIM_OK;
}

static SimStatus close_rename(FILE *f, const char *tmp, const char *dir, const char *name,
                              char *final, size_t n, SimError *err) {
    snprintf(final, n, "%s/%s", dir, name);
    int bad = ferror(f) != 0;
    if (fclose(f) != 0) bad = 1;
    if (bad) {
        unlink(tmp);
        return sim_errorf(err, SIM_EIO, "%s: writing failed (disk full?)", final);
    }
    if (rename(tmp, final) != 0) {
        unlink(tmp);
        return sim_errorf(err, SIM_EIO, "%s: cannot write: %s", final, strerror(errno));
    }
    return SIM_OK;
}

SimStatus summary_write(Store *s, const SummaryOptions *o, SummaryResult *r, SimError *err) {
    memset(r, 0, sizeof *r);
    const char *dir = o->chart.out_dir;
    if (plot_mkdirs(dir, err) != SIM_OK) return err->code;
    /* every chart; accuracy first (it refreshes the stored estimates the tables show) */
    static const ChartKind order[] = {CHART_ACCURACY, CHART_LATENCY,  CHART_ENERGY,
                                      CHART_BREAKDOWN, CHART_SEQLEN,  CHART_CARBON,
                                      CHART_CALIBRATION};
    ChartOptions co = o->chart;
    co.task = NULL;
    for (size_t k = 0; k < sizeof order / sizeof order[0]; k++) {
        int n = 0;
        SimStatus rc = chart_make(s, order[k], &co, r->charts + r->ncharts,
                                  SUMMARY_MAX_CHARTS - r->ncharts, &n, err);
        if (rc != SIM_OK) return rc;
        r->ncharts += n;
    }
    char htmp[1100], mtmp[1100];
    Doc d = {NULL, NULL};
    if (open_tmp(dir, "index.html", htmp, sizeof htmp, &d.h, err) != SIM_OK) return err->code;
    if (open_tmp(dir, "report.md", mtmp, sizeof mtmp, &d.m, err) != SIM_OK) {
        fclose(d.h);
        unlink(htmp);
        return err->code;
    }
    fprintf(d.h, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                 "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                 "<title>ltsim report</title>\n<style>%s</style>\n%s</head>\n<body>\n",
            style, load_check);
    fputs("<h1>ltsim report: Lite Transformer, Transformer and Evolved Transformer under "
          "Mult-Add budgets</h1>\n",
          d.h);
    fputs("# ltsim report: Lite Transformer, Transformer and Evolved Transformer under "
          "Mult-Add budgets\n\n",
          d.m);
    fputs("<nav><a href=\"#charts\">charts</a><a href=\"#sweeps\">sweep tables</a><a "
          "href=\"#accuracy-data\">accuracy</a><a href=\"#conventions\">conventions</a><a "
          "href=\"#calibration-quality\">calibration</a><a href=\"#carbon-data\">design cost</a>"
          "<a href=\"#provenance\">provenance</a></nav>\n",
          d.h);
    d_para(&d, "Everything below comes from the results database and ltsim's own counts; "
               "each chart has its data file and gnuplot script beside it. Predictions and "
               "estimates are labelled as such; only host times and the published and imported "
               "scores are measurements.");
    d_heading(&d, 2, "charts", "Charts");
    if (r->ncharts == 0) d_para(&d, "No chart has data yet.");
    for (int i = 0; i < r->ncharts; i++) d_figure(&d, &r->charts[i]);
    section_sweeps(&d, s);
    section_accuracy(&d, s);
    section_conventions(&d);
    section_calibration(&d, s, r);
    section_carbon(&d, s);
    section_provenance(&d, s, o);
    fputs("</body>\n</html>\n", d.h);
    SimStatus rc = close_rename(d.h, htmp, dir, "index.html", r->html, sizeof r->html, err);
    SimError e2;
    sim_error_init(&e2);
    SimStatus rc2 = close_rename(d.m, mtmp, dir, "report.md", r->markdown, sizeof r->markdown,
                                 rc == SIM_OK ? err : &e2);
    return rc != SIM_OK ? rc : rc2;
}
