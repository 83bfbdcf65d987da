/*
 * test_plot.c - charts, the report and the design-cost estimator: gnuplot script and data
 * text (no gnuplot needed), gnuplot missing or failing, the real charts rendered when gnuplot
 * is installed (non-empty data, valid PNG and SVG), the carbon presets and comparisons of
 * carbon.md, accuracy import (good and bad CSVs) and the log-linear fit with its estimates,
 * the paper's WMT'14 En-Fr margins at the MACs ltsim counts, bad inputs (exit 2), and the
 * HTML report opened in headless Chromium (skipped, and said so, without chromium).
 *
 * The databases are filled by a COUNT-ONLY sweep through the ltsim binary ($LTSIM_BIN,
 * default ./ltsim), so the suite runs in seconds; the commands under test are called in a
 * forked child through cli_plot_main.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accuracy.h"
#include "carbon.h"
#include "chart.h"
#include "cli_plot.h"
#include "plot.h"
#include "report.h"
#include "runner.h"
#include "store.h"
#include "testutil.h"

#define END ((const char *)NULL)

/* |a - b| <= eps in double precision (cmocka 1.1.5's assert_float_equal compares floats) */
#define assert_near(a, b, eps)                                                                    \
    do {                                                                                          \
        double a_ = (a), b_ = (b);                                                                \
        if (!(fabs(a_ - b_) <= (eps))) fail_msg("%.17g != %.17g (+- %g)", a_, b_, (double)(eps));  \
    } while (0)

/* ---- helpers ---- */

static long fsize(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

static const char *tmp_path(const char *name) {
    static char paths[256][300];
    static int next;
    char *p = paths[next++ % 256];
    snprintf(p, sizeof paths[0], "%s/%s", tu_tmpdir(), name);
    return p;
}

static void write_text(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static int have_gnuplot(void) {
    char p[1024];
    SimError e;
    sim_error_init(&e);
    return plot_gnuplot_find(p, sizeof p, &e) == SIM_OK;
}

static char *cli_out, *cli_err;

static int plot_main(int argc, char **argv, void *cmd) {
    return cli_plot_main((const char *)cmd, argc, argv);
}

/* Runs `ltsim CMD args...` through cli_plot_main in a child; stdout and stderr go to
 * cli_out / cli_err. Returns the exit code. */
static int run_cli(const char *cmd, ...) {
    char *argv[48];
    int argc = 0;
    argv[argc++] = (char *)cmd;
    va_list ap;
    va_start(ap, cmd);
    for (const char *a = va_arg(ap, const char *); a && argc < 47; a = va_arg(ap, const char *))
        argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return tu_run_captured(plot_main, argc, argv, (void *)cmd, &cli_out, &cli_err);
}

/* Exit code want, exactly one line on stderr, containing needle. */
static void expect_error(int rc, int want, const char *needle) {
    if (rc != want) fail_msg("exit %d, expected %d; stderr: %s", rc, want, cli_err);
    if (tu_count_lines(cli_err) != 1) fail_msg("expected one stderr line, got: %s", cli_err);
    if (needle && strstr(cli_err, needle) == NULL)
        fail_msg("stderr lacks '%s': %s", needle, cli_err);
}

/* Runs the ltsim binary ($LTSIM_BIN) with args; its output is discarded. */
static int ltsim_bin(const char **args) {
    const char *bin = getenv("LTSIM_BIN");
    if (bin == NULL) bin = "./ltsim";
    const char *argv[48];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args[i] && n < 47; i++) argv[n++] = args[i];
    argv[n] = NULL;
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* A database with a count-only sweep of lite, transformer and evolved under 100M / 300M /
 * 500M, predicted on two profiles (made once per run of the suite). */
static const char *sweep_db(void) {
    static char db[300];
    if (db[0]) return db;
    snprintf(db, sizeof db, "%s/sweep.db", tu_tmpdir());
    const char *args[] = {"sweep", "--count-only", "--family", "lite,transformer,evolved",
                          "--hw", "raspberry-pi-4", "--hw", "snapdragon-855-big", "--db", db,
                          NULL};
    int rc = ltsim_bin(args);
    if (rc != 0) fail_msg("ltsim sweep --count-only exited %d ($LTSIM_BIN)", rc);
    return db;
}

static Store *open_db(const char *path) {
    SimError err;
    sim_error_init(&err);
    Store *s = store_open(path, &err);
    if (s == NULL) fail_msg("%s", err.msg);
    return s;
}

static int64_t q_int(Store *s, const char *sql) {
    SimError err;
    sim_error_init(&err);
    int64_t v = -1;
    if (store_query_int(s, sql, &v, &err) != SIM_OK) fail_msg("%s: %s", sql, err.msg);
    return v;
}

/* A PNG: the signature, an IHDR with a non-zero size, and at least min_bytes. */
static void assert_png(const char *path, long min_bytes) {
    long n = fsize(path);
    if (n < min_bytes) fail_msg("%s: %ld bytes, expected at least %ld", path, n, min_bytes);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    unsigned char h[24];
    assert_int_equal(fread(h, 1, 24, f), 24);
    fclose(f);
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (memcmp(h, sig, 8) != 0 || memcmp(h + 12, "IHDR", 4) != 0)
        fail_msg("%s: not a PNG", path);
    uint32_t w = (uint32_t)h[16] << 24 | (uint32_t)h[17] << 16 | (uint32_t)h[18] << 8 | h[19];
    uint32_t ht = (uint32_t)h[20] << 24 | (uint32_t)h[21] << 16 | (uint32_t)h[22] << 8 | h[23];
    assert_true(w >= 200 && ht >= 150);
}

static void assert_svg(const char *path, long min_bytes) {
    long n = fsize(path);
    if (n < min_bytes) fail_msg("%s: %ld bytes, expected at least %ld", path, n, min_bytes);
    char *t = tu_slurp(path);
    assert_non_null(t);
    if (strstr(t, "<svg") == NULL || strstr(t, "</svg>") == NULL)
        fail_msg("%s: not an SVG document", path);
    free(t);
}

/* The four files of chart name in dir: data and script non-empty; images valid when drawn. */
static void assert_chart_files(const char *dir, const char *name, int rendered) {
    char p[600];
    snprintf(p, sizeof p, "%s/%s.dat", dir, name);
    char *dat = tu_slurp(p);
    if (dat == NULL) {
        fail_msg("%s missing", p);
        return;
    }
    int rows = 0;
    for (char *l = dat; *l;) { /* a data row: a line that is neither blank nor a comment */
        char *nl = strchr(l, '\n');
        if (*l != '#' && *l != '\n') rows++;
        if (!nl) break;
        l = nl + 1;
    }
    free(dat);
    if (rows == 0) fail_msg("%s has no data rows", p);
    snprintf(p, sizeof p, "%s/%s.gp", dir, name);
    assert_true(fsize(p) > 200);
    if (!rendered) return;
    snprintf(p, sizeof p, "%s/%s.png", dir, name);
    assert_png(p, 4000);
    snprintf(p, sizeof p, "%s/%s.svg", dir, name);
    assert_svg(p, 3000);
}

/* Text written by fn into a tmpfile. */
static char *to_text(SimStatus (*fn)(const Plot *, FILE *, SimError *), const Plot *p,
                     SimStatus want) {
    FILE *f = tmpfile();
    assert_non_null(f);
    SimError err;
    sim_error_init(&err);
    SimStatus rc = fn(p, f, &err);
    if (rc != want) fail_msg("status %d, expected %d: %s", rc, want, err.msg);
    long n = ftell(f);
    rewind(f);
    char *buf = calloc(1, (size_t)(n > 0 ? n : 0) + 1);
    assert_non_null(buf);
    if (n > 0) assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

/* Headline MACs of a config file, counted here (count-only, S = T = 30). */
static double counted_macs(const char *path) {
    ModelConfig cfg;
    tu_load_config(path, 0, &cfg);
    RunSpec spec = tu_spec(1);
    RunResult res;
    SimError err;
    sim_error_init(&err);
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) fail_msg("%s", err.msg);
    ReportInput in = {.command = "count", .model_path = path, .cfg = &cfg, .spec = &spec,
                      .res = &res};
    ReportTotals t;
    report_totals(&in, &t);
    runner_result_free(&res);
    return (double)t.macs;
}

/* ---- the gnuplot script and data, without gnuplot ---- */

static void test_plot_script_text(void **state) {
    (void)state;
    SimError err;
    sim_error_init(&err);
    assert_null(plot_new(PLOT_XY, "Bad Name", &err));
    assert_int_equal(err.code, SIM_EINVAL);
    sim_error_init(&err);
    Plot *p = plot_new(PLOT_XY, "accuracy-test", &err);
    assert_non_null(p);
    plot_set_title(p, "Lite's accuracy");
    plot_set_axes(p, "Mult-Adds (M)", "BLEU", 1, 0);
    plot_note(p, "source: %s", "a test");
    /* an empty chart cannot be drawn */
    char *t = to_text(plot_write_script, p, SIM_EINVAL);
    free(t);
    int a = plot_series(p, "Lite: published", PLOT_POINTS, 0x1f77b4, 0);
    int b = plot_series(p, "Lite: unconfirmed", PLOT_HOLLOW, 0x1f77b4, 0);
    int e = plot_series(p, "empty series", PLOT_LINES, 0xff0000, 0);
    int est = plot_series(p, "Lite: ESTIMATE", PLOT_ERRORBARS, 0x1f77b4, 0);
    int lab = plot_series(p, NULL, PLOT_LABELS, 0x202020, 0);
    plot_point(p, a, 90.138, 35.3, 0, "lite-wmt-200");
    plot_point(p, a, 359.55, 39.1, 0, NULL);
    plot_point(p, a, -5, 30, 0, NULL);      /* not drawable on a log axis: dropped */
    plot_point(p, a, NAN, 30, 0, NULL);     /* not a number: dropped */
    plot_point(p, b, 527.45, 39.6, 0, "say \"hi\"");
    plot_point(p, est, 200, 37.1, 0.25, "d=208 (estimate)");
    plot_point(p, lab, 90.138, 35.3, 0, "Lite +1.7");
    (void)e;
    assert_int_equal(plot_npoints(p), 5);
    t = to_text(plot_write_script, p, SIM_OK);
    assert_non_null(strstr(t, "dat = 'accuracy-test.dat'"));
    assert_non_null(strstr(t, "strstrt(GPVAL_TERMINALS, 'pngcairo')"));
    assert_non_null(strstr(t, "set terminal pngcairo size 1000,620"));
    assert_non_null(strstr(t, "set terminal png size"));
    assert_non_null(strstr(t, "set output 'accuracy-test.png'"));
    assert_non_null(strstr(t, "set terminal svg size 1000,620"));
    assert_non_null(strstr(t, "set output 'accuracy-test.svg'"));
    assert_non_null(strstr(t, "replot"));
    assert_non_null(strstr(t, "set title 'Lite''s accuracy'")); /* quotes doubled */
    assert_non_null(strstr(t, "set logscale x"));
    assert_null(strstr(t, "set logscale y"));
    assert_non_null(strstr(t, "# source: a test"));
    assert_non_null(strstr(t, "dat index 0 using 1:2 with points pt 7"));
    assert_non_null(strstr(t, "dat index 1 using 1:2 with points pt 6"));
    /* the empty series has no block: the estimate is block 2 */
    assert_non_null(strstr(t, "dat index 2 using 1:2:3 with yerrorbars pt 12"));
    assert_non_null(strstr(t, "dat index 3 using 1:2:4 with labels"));
    assert_null(strstr(t, "empty series"));
    assert_non_null(strstr(t, "lc rgb '#1f77b4' title 'Lite: published'"));
    free(t);
    t = to_text(plot_write_data, p, SIM_OK);
    assert_non_null(strstr(t, "# index 0: Lite: published\n90.138\t35.3\t0\t\"lite-wmt-200\"\n"));
    assert_non_null(strstr(t, "\"say 'hi'\"")); /* no double quote inside a data string */
    assert_non_null(strstr(t, "\n\n\n# index 1: Lite: unconfirmed\n"));
    assert_non_null(strstr(t, "200\t37.1\t0.25\t\"d=208 (estimate)\""));
    assert_null(strstr(t, "empty series"));
    free(t);
    plot_free(p);

    /* stacked bars and log-scale bars */
    p = plot_new(PLOT_STACKED, "breakdown", &err);
    static const char *const cols[] = {"attention", "convolution", "ffn", "embedding+output"};
    static const unsigned colors[] = {1, 2, 3, 4};
    plot_columns(p, cols, colors, 4);
    double v[4] = {45.5, 20.25, 24, 200};
    plot_bar(p, "lite 100M (d=208)", v, 0, NULL);
    t = to_text(plot_write_script, p, SIM_OK);
    assert_non_null(strstr(t, "set style histogram rowstacked"));
    assert_non_null(strstr(t, "dat index 0 using 2:xtic(1) lc rgb '#000001' title 'attention'"));
    assert_non_null(strstr(t, "dat index 0 using 5 lc rgb '#000004' title 'embedding+output'"));
    free(t);
    t = to_text(plot_write_data, p, SIM_OK);
    assert_non_null(strstr(t, "\"lite 100M (d=208)\"\t45.5\t20.25\t24\t200\n"));
    free(t);
    plot_free(p);
    p = plot_new(PLOT_BARS, "carbon", &err);
    static const char *const groups[] = {"design", "everyday"};
    static const unsigned gc[] = {0xd62728, 0x7f7f7f};
    plot_columns(p, groups, gc, 2);
    plot_set_axes(p, NULL, "CO2e (lbs)", 0, 1);
    double x = 626155, y = 32, z = 0;
    plot_bar(p, "strubell-nas", &x, 0, "626,155 lbs");
    plot_bar(p, "lite-design", &y, 0, "32 lbs");
    plot_bar(p, "nothing", &z, 1, "0"); /* not drawable on a log scale */
    assert_int_equal(plot_npoints(p), 2);
    t = to_text(plot_write_script, p, SIM_OK);
    assert_non_null(strstr(t, "set logscale y"));
    assert_non_null(strstr(t, "with boxes lc rgb variable"));
    assert_non_null(strstr(t, "keyentry with boxes lc rgb '#7f7f7f' title 'everyday'"));
    free(t);
    t = to_text(plot_write_data, p, SIM_OK);
    assert_non_null(
        strstr(t, "0\t626155\t14034728\t\"strubell-nas\"\t\"626,155 lbs\"\t\"design\""));
    free(t);
    plot_free(p);
}

/* ---- gnuplot missing or failing ---- */

static void test_plot_gnuplot_missing(void **state) {
    (void)state;
    const char *dir = tmp_path("nognuplot");
    mkdir(dir, 0755);
    char saved[1024] = "";
    const char *old = getenv("LTSIM_GNUPLOT");
    if (old) snprintf(saved, sizeof saved, "%s", old);
    setenv("LTSIM_GNUPLOT", "/nonexistent/gnuplot", 1);
    SimError err;
    sim_error_init(&err);
    char path[1024];
    assert_int_equal(plot_gnuplot_find(path, sizeof path, &err), SIM_EPLOT);
    assert_non_null(strstr(err.msg, "gnuplot-nox"));
    assert_null(strchr(err.msg, '\n'));
    Plot *p = plot_new(PLOT_XY, "lonely", &err);
    int s = plot_series(p, "a", PLOT_POINTS, 0, 0);
    plot_point(p, s, 1, 2, 0, NULL);
    sim_error_init(&err);
    assert_int_equal(plot_render(p, dir, &err), SIM_EPLOT);
    /* the data and the script are written all the same */
    char f[600];
    snprintf(f, sizeof f, "%s/lonely.dat", dir);
    assert_true(fsize(f) > 0);
    snprintf(f, sizeof f, "%s/lonely.gp", dir);
    assert_true(fsize(f) > 0);
    /* the commands: exit 1, one line naming the package */
    expect_error(run_cli("plot", "carbon", "--out", dir, END), 1, "gnuplot-nox");
    expect_error(run_cli("report", "--out", dir, "--db", tmp_path("nognuplot.db"), END), 1,
                 "gnuplot-nox");
    /* everything else keeps working */
    assert_int_equal(run_cli("carbon", "--preset", "lite-design", END), 0);
    assert_int_equal(run_cli("plot", "seqlen", "--data-only", "--out", dir, END), 0);
    /* a gnuplot that fails: its exit status is checked */
    setenv("LTSIM_GNUPLOT", "/bin/false", 1);
    sim_error_init(&err);
    assert_int_equal(plot_render(p, dir, &err), SIM_EPLOT);
    assert_non_null(strstr(err.msg, "exit 1"));
    plot_free(p);
    if (old) setenv("LTSIM_GNUPLOT", saved, 1);
    else unsetenv("LTSIM_GNUPLOT");
}

/* ---- the real charts ---- */

/* --out relative to the working directory: gnuplot runs inside it, the files land there */
static void test_plot_relative_out(void **state) {
    (void)state;
    if (!have_gnuplot()) {
        printf("test_plot_relative_out: skipped: gnuplot is not installed (Debian: %s)\n",
               PLOT_PACKAGE);
        return;
    }
    char dir[64];
    snprintf(dir, sizeof dir, "build/test-plot-rel-%d/a/b", (int)getpid());
    int rc = run_cli("plot", "seqlen", "--out", dir, END);
    if (rc != 0) fail_msg("plot seqlen --out %s: exit %d: %s", dir, rc, cli_err);
    const char *ext[] = {"png", "svg", "dat", "gp"};
    for (int i = 0; i < 4; i++) {
        char f[128];
        struct stat sb;
        snprintf(f, sizeof f, "%s/seqlen.%s", dir, ext[i]);
        if (stat(f, &sb) != 0 || sb.st_size < 100) fail_msg("%s missing or tiny", f);
        unlink(f);
    }
    char f[128];
    snprintf(f, sizeof f, "%s/.seqlen.gnuplot.log", dir);
    unlink(f);
    for (int up = 0; up < 3; up++) { /* remove b, a and the top directory */
        rmdir(dir);
        char *slash = strrchr(dir, '/');
        if (slash) *slash = '\0';
    }
}

static void test_plot_render_real(void **state) {
    (void)state;
    if (!have_gnuplot()) {
        printf("test_plot_render_real: skipped: gnuplot is not installed (Debian: %s)\n",
               PLOT_PACKAGE);
        return;
    }
    const char *dir = tmp_path("charts");
    mkdir(dir, 0755);
    const char *db = sweep_db();
    int rc = run_cli("plot", "all", "--db", db, "--out", dir, "--json", END);
    if (rc != 0) fail_msg("plot all: exit %d: %s", rc, cli_err);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    cJSON *charts = cJSON_GetObjectItem(j, "charts");
    assert_true(cJSON_IsArray(charts));
    /* five accuracy tasks, latency, energy, breakdown, seqlen, carbon (a count-only database
     * has no measured runs, so no calibration chart) */
    static const char *const want[] = {"accuracy-wmt-en-de", "accuracy-wmt-en-fr",
                                       "accuracy-iwslt-de-en", "accuracy-cnndm",
                                       "accuracy-wikitext-103", "latency", "energy",
                                       "breakdown", "seqlen", "carbon"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        int found = 0;
        cJSON *c;
        cJSON_ArrayForEach(c, charts) {
            if (strcmp(cJSON_GetObjectItem(c, "name")->valuestring, want[k]) == 0) found = 1;
        }
        if (!found) fail_msg("chart %s missing: %s", want[k], cli_out);
        assert_chart_files(dir, want[k], 1);
    }
    cJSON_Delete(j);
    /* the breakdown comes from the sweep's chosen points: 3 families x 3 budgets */
    char p[600];
    snprintf(p, sizeof p, "%s/breakdown.dat", dir);
    char *dat = tu_slurp(p);
    assert_non_null(strstr(dat, "\"lite 100M (d=208)\""));
    assert_non_null(strstr(dat, "\"transformer 500M (d=312)\""));
    assert_non_null(strstr(dat, "\"evolved 300M (d=232)\""));
    free(dat);
    /* latency: forward (stored) and generate (counted now) per device */
    snprintf(p, sizeof p, "%s/latency.dat", dir);
    dat = tu_slurp(p);
    assert_non_null(strstr(dat, "# index 0: raspberry-pi-4: forward"));
    assert_non_null(strstr(dat, "raspberry-pi-4: generate (30 steps)"));
    assert_non_null(strstr(dat, "snapdragon-855-big: generate (30 steps)"));
    free(dat);
    /* one kind, one task */
    assert_int_equal(run_cli("plot", "accuracy", "--task", "wmt-en-fr", "--db", db, "--out", dir,
                             END),
                     0);
    assert_non_null(strstr(cli_out, "accuracy-wmt-en-fr.png"));
    assert_null(strstr(cli_out, "accuracy-wmt-en-de"));
}

/* ---- carbon ---- */

static void test_plot_carbon_presets(void **state) {
    (void)state;
    SimError err;
    sim_error_init(&err);
    CarbonItem nas, big, pat, lite, tr;
    assert_int_equal(carbon_preset("strubell-nas", &nas, &err), SIM_OK);
    assert_int_equal(carbon_preset("strubell-transformer-big", &big, &err), SIM_OK);
    assert_int_equal(carbon_preset("patterson-nas", &pat, &err), SIM_OK);
    assert_int_equal(carbon_preset("lite-design", &lite, &err), SIM_OK);
    assert_int_equal(carbon_preset("transformer-design", &tr, &err), SIM_OK);
    assert_int_equal((long)round(nas.energy_kwh), 656347);
    assert_int_equal((long)round(nas.co2e_lbs), 626155);
    assert_int_equal((long)round(nas.cost_low), 942973);
    assert_int_equal((long)round(nas.cost_high), 3201722);
    assert_int_equal((long)round(big.co2e_lbs), 192);
    assert_int_equal((long)round(big.energy_kwh), 201);
    assert_int_equal((long)round(lite.co2e_lbs), 32);
    assert_int_equal((long)round(tr.co2e_lbs), 26);
    assert_near(round(pat.energy_kwh / 100) / 10, 7.5, 1e-9); /* MWh */
    assert_near(round(pat.co2e_kg / 100) / 10, 3.2, 1e-9);    /* t */
    assert_int_equal((long)round(carbon_ratio(&nas, &lite)), 19580);
    assert_int_equal((long)floor(carbon_ratio_rounded(&nas, &lite)), 19567);
    assert_int_equal((long)round(carbon_ratio(&nas, &pat)), 88);
    /* the per-GPU figure carbon.md quotes: ~189 W, 0.2855 lbs per P100-hour */
    assert_int_equal((long)round(nas.watts_per_unit), 189);
    assert_near(nas.co2e_lbs / (nas.count * nas.hours), 0.2855, 5e-5);

    /* the command: text */
    assert_int_equal(run_cli("carbon", "--preset", "strubell-nas", END), 0);
    assert_non_null(strstr(cli_out, "656,347 kWh"));
    assert_non_null(strstr(cli_out, "626,155 lbs"));
    assert_int_equal(run_cli("carbon", "--preset", "lite-design", END), 0);
    assert_non_null(strstr(cli_out, "32 lbs"));
    assert_int_equal(run_cli("carbon", "--preset", "transformer-design", END), 0);
    assert_non_null(strstr(cli_out, "26 lbs"));
    assert_int_equal(run_cli("carbon", "--preset", "strubell-transformer-big", END), 0);
    assert_non_null(strstr(cli_out, "192 lbs"));
    assert_int_equal(run_cli("carbon", "--preset", "patterson-nas", END), 0);
    assert_non_null(strstr(cli_out, "7.5 MWh"));
    assert_non_null(strstr(cli_out, "3.2 t"));
    /* --json: the keys of carbon.md */
    assert_int_equal(run_cli("carbon", "--preset", "strubell-nas", "--json", END), 0);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    static const char *const keys[] = {"preset", "method", "hardware", "count", "hours",
                                       "watts", "pue", "grid_kg_per_kwh", "energy_kwh",
                                       "co2e_kg", "co2e_lbs", "cost_usd"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++)
        if (cJSON_GetObjectItem(j, keys[k]) == NULL) fail_msg("--json lacks key %s", keys[k]);
    assert_string_equal(cJSON_GetObjectItem(j, "preset")->valuestring, "strubell-nas");
    assert_int_equal((long)round(cJSON_GetObjectItem(j, "energy_kwh")->valuedouble), 656347);
    assert_near(cJSON_GetObjectItem(j, "watts")->valuedouble, 1515.43, 1e-9);
    assert_near(cJSON_GetObjectItem(j, "pue")->valuedouble, 1.58, 1e-12);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "cost_usd")), 2);
    cJSON_Delete(j);
    /* free inputs: Strubell's formula by hand (8 x 250 W P100 for 12 h, PUE 1.58) */
    assert_int_equal(run_cli("carbon", "--hardware", "p100-pcie", "--count", "8", "--hours",
                             "12", "--grid", "0.5", "--price", "1:2", "--json", END),
                     0);
    j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_near(cJSON_GetObjectItem(j, "energy_kwh")->valuedouble, 1.58 * 12 * 2000 / 1000,
                       1e-9);
    assert_near(cJSON_GetObjectItem(j, "co2e_kg")->valuedouble, 1.58 * 24 * 0.5, 1e-9);
    assert_near(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "cost_usd"), 1)->valuedouble,
                       192, 1e-9);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "preset")));
    cJSON_Delete(j);
    /* GPU-years: 250 P100-years of 8760 h on 8 GPUs */
    assert_int_equal(run_cli("carbon", "--hardware", "p100-strubell", "--count", "8",
                             "--gpu-years", "250", "--json", END),
                     0);
    j = cJSON_Parse(cli_out);
    assert_near(cJSON_GetObjectItem(j, "hours")->valuedouble, 250 * 8760.0 / 8, 1e-6);
    cJSON_Delete(j);
    /* inference from a hardware profile: energy per sentence x sentences x days */
    assert_int_equal(run_cli("carbon", "--preset", "lite-design", "--inference", "lite-wmt-496",
                             "--hw", "raspberry-pi-4", "--sentences-per-day", "1000000",
                             "--days", "365", "--json", END),
                     0);
    j = cJSON_Parse(cli_out);
    assert_non_null(j);
    cJSON *inf = cJSON_GetObjectItem(j, "inference");
    assert_non_null(inf);
    double mj = cJSON_GetObjectItem(inf, "energy_mj_per_sentence")->valuedouble;
    assert_true(mj > 0);
    assert_near(cJSON_GetObjectItem(inf, "energy_kwh")->valuedouble, mj * 1e6 * 365 / 3.6e9,
                       1e-9);
    assert_near(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "total"), "co2e_lbs")->valuedouble,
                       cJSON_GetObjectItem(j, "co2e_lbs")->valuedouble +
                           cJSON_GetObjectItem(inf, "co2e_lbs")->valuedouble,
                       1e-9);
    cJSON_Delete(j);
    /* the tables, with a source per row */
    assert_int_equal(run_cli("carbon", "--list", END), 0);
    assert_non_null(strstr(cli_out, "tpu-v2-measured"));
    assert_non_null(strstr(cli_out, "google-georgia-2018"));
    assert_non_null(strstr(cli_out, "Patterson et al. 2021"));
}

static void test_plot_carbon_compare(void **state) {
    (void)state;
    const char *db = tmp_path("carbon.db"), *dir = tmp_path("carbon-out");
    const char *plot = have_gnuplot() ? NULL : "--no-plot";
    assert_int_equal(run_cli("carbon", "--compare", "strubell-nas,lite-design", "--db", db,
                             "--out", dir, plot, END),
                     0);
    assert_non_null(strstr(cli_out, "19,580x"));
    assert_non_null(strstr(cli_out, "19,567x with the published rounding"));
    assert_int_equal(run_cli("carbon", "--compare", "strubell-nas,patterson-nas", "--db", db,
                             "--out", dir, "--json", plot, END),
                     0);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "items")), 2);
    cJSON *r = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "ratios"), 0);
    assert_string_equal(cJSON_GetObjectItem(r, "a")->valuestring, "strubell-nas");
    assert_string_equal(cJSON_GetObjectItem(r, "b")->valuestring, "patterson-nas");
    assert_int_equal((long)round(cJSON_GetObjectItem(r, "ratio")->valuedouble), 88);
    cJSON_Delete(j);
    Store *s = open_db(db);
    assert_int_equal(q_int(s, "SELECT count(*) FROM carbon_comparisons"), 2);
    assert_int_equal(q_int(s, "SELECT count(*) FROM carbon_comparisons WHERE name = "
                              "'strubell-nas,lite-design' AND json_extract(ratios, '$[0].ratio') "
                              "BETWEEN 19579 AND 19581"),
                     1);
    store_close(s);
    if (plot == NULL) assert_chart_files(dir, "carbon-compare", 1);
}

static void test_plot_carbon_bad_inputs(void **state) {
    (void)state;
    expect_error(run_cli("carbon", "--preset", "nope", END), 2, "unknown preset 'nope'");
    expect_error(run_cli("carbon", "--hardware", "p100-pcie", "--hours", "12", "--grid", "mars",
                         END),
                 2, "unknown region 'mars'");
    expect_error(run_cli("carbon", "--hardware", "p100-pcie", "--hours", "-3", END), 2,
                 "--hours: expected a non-negative number, got '-3'");
    expect_error(run_cli("carbon", "--hardware", "p100-pcie", "--hours", "ten", END), 2,
                 "--hours");
    expect_error(run_cli("carbon", "--hardware", "gtx-9000", "--hours", "1", END), 2,
                 "unknown accelerator 'gtx-9000'");
    expect_error(run_cli("carbon", "--hardware", "p100-pcie", END), 2, "duration");
    expect_error(run_cli("carbon", "--compare", "strubell-nas,nope", "--no-db", "--no-plot", END),
                 2, "unknown preset 'nope'");
    expect_error(run_cli("carbon", "--preset", "lite-design", "--grid", "-1", END), 2, "--grid");
    expect_error(run_cli("carbon", "--inference", "lite-wmt-496", END), 2, "--hw");
    expect_error(run_cli("carbon", "--bogus", END), 2, "unknown option '--bogus'");
    assert_int_equal(run_cli("carbon", "--help", END), 0);
    assert_non_null(strstr(cli_out, "strubell-nas"));
}

/* ---- accuracy: import, fit, estimates ---- */

static void test_plot_accuracy_import(void **state) {
    (void)state;
    const char *db = tmp_path("import.db");
    const char *csv = tmp_path("scores.csv");
    write_text(csv, "# my own BLEU\n"
                    "config,task,metric,value,note\n"
                    "lite-wmt-200,wmt-en-fr,bleu,35.9,\"rerun, beam 4\"\n"
                    "lite:368,wmt-en-fr,,38.5,\n"
                    "\n"
                    "transformer-wmt-128,wmt-en-de,bleu,21.0,\n");
    int rc = run_cli("accuracy", "import", csv, "--db", db, END);
    if (rc != 0) fail_msg("import: exit %d: %s", rc, cli_err);
    assert_non_null(strstr(cli_out, "imported 3 scores"));
    Store *s = open_db(db);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_results"), 3);
    assert_int_equal(q_int(s, "SELECT macs FROM accuracy_results WHERE model_name = "
                              "'lite-wmt-200'"),
                     90138000);
    assert_int_equal(q_int(s, "SELECT width FROM accuracy_results WHERE model_name = 'lite:368'"),
                     368);
    assert_int_equal(q_int(s, "SELECT line FROM accuracy_results WHERE model_name = "
                              "'transformer-wmt-128'"),
                     6);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_results WHERE metric = 'bleu' AND "
                              "family = 'lite'"),
                     2);
    store_close(s);
    /* importing again replaces, never duplicates */
    assert_int_equal(run_cli("accuracy", "import", csv, "--db", db, "--json", END), 0);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "replaced")->valueint, 3);
    cJSON_Delete(j);
    /* listed as imported, apart from the published points */
    assert_int_equal(run_cli("accuracy", "list", "--task", "wmt-en-fr", "--db", db, "--json", END),
                     0);
    j = cJSON_Parse(cli_out);
    assert_non_null(j);
    int imported = 0;
    cJSON *pt;
    cJSON_ArrayForEach(pt, cJSON_GetObjectItem(j, "points")) {
        if (strcmp(cJSON_GetObjectItem(pt, "kind")->valuestring, "imported") == 0) imported++;
    }
    assert_int_equal(imported, 2);
    cJSON_Delete(j);

    /* bad inputs: exit 2, one line naming file, line and column */
    const char *bad = tmp_path("bad.csv");
    write_text(bad, "config,task,value\nlite-wmt-999,wmt-en-fr,35\n");
    char want[400];
    snprintf(want, sizeof want, "%s:2:1: config: unknown config 'lite-wmt-999'", bad);
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2, want);
    write_text(bad, "config,task,value\nlite-wmt-200,wmt-en-fr,35\nlite-wmt-408,wmt-en-fr,abc\n");
    snprintf(want, sizeof want, "%s:3:24: value: expected a number, got 'abc'", bad);
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2, want);
    write_text(bad, "config,task,value\nlite-wmt-200,wmt-en-xx,35\n");
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2,
                 "unknown task 'wmt-en-xx'");
    write_text(bad, "config,task,metric,value\nlite-wmt-200,wmt-en-fr,meteor,35\n");
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2, "unknown metric 'meteor'");
    write_text(bad, "config,value\nlite-wmt-200,35\n");
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2, "missing column 'task'");
    write_text(bad, "config,task,value\nlite:13,wmt-en-fr,35\n");
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2, ":2:1: config:");
    write_text(bad, "config,task,value\nlite-wmt-200,wmt-en-fr,inf\n");
    expect_error(run_cli("accuracy", "import", bad, "--db", db, END), 2, "expected a number");
    expect_error(run_cli("accuracy", "import", tmp_path("nonexistent.csv"), "--db", db, END), 2,
                 "cannot open");
    expect_error(run_cli("accuracy", "frobnicate", END), 2, "unknown subcommand");
    /* nothing of the bad files was stored */
    s = open_db(db);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_results"), 3);
    store_close(s);
}

static void test_plot_accuracy_fit(void **state) {
    (void)state;
    /* the fit itself: y = 10 + 2 ln(x) exactly through three points, and two-point fits */
    AccObs o[5];
    memset(o, 0, sizeof o);
    double xs[] = {1e8, 3e8, 5e8};
    for (int i = 0; i < 3; i++) {
        snprintf(o[i].family, sizeof o[i].family, "lite");
        o[i].macs = xs[i];
        o[i].value = 10 + 2 * log(xs[i]);
        o[i].kind = ACC_PUBLISHED;
    }
    snprintf(o[3].family, sizeof o[3].family, "evolved");
    o[3].macs = 9e7;
    o[3].value = 22;
    o[3].kind = ACC_PUBLISHED;
    snprintf(o[4].family, sizeof o[4].family, "evolved");
    o[4].macs = 3.6e8;
    o[4].value = 25.4;
    o[4].kind = ACC_UNCONFIRMED;
    AccFit f;
    acc_fit_family(o, 5, "lite", 0, &f);
    assert_int_equal(f.n, 3);
    assert_near(f.slope, 2, 1e-9);
    assert_near(f.intercept, 10, 1e-7);
    assert_near(f.rmse, 0, 1e-7);
    assert_string_equal(f.basis, "confirmed");
    double y, se;
    acc_fit_eval(&f, 2e8, &y, &se);
    assert_near(y, 10 + 2 * log(2e8), 1e-7);
    assert_near(se, 0, 1e-7);
    /* one measured evolved point: no fit, unless the recalled one may be used */
    acc_fit_family(o, 5, "evolved", 0, &f);
    assert_int_equal(f.n, 0);
    acc_fit_family(o, 5, "evolved", 1, &f);
    assert_int_equal(f.n, 2);
    assert_int_equal(f.n_unconfirmed, 1);
    assert_string_equal(f.basis, "unconfirmed");
    assert_true(isnan(f.rmse));
    acc_fit_eval(&f, 2e8, &y, &se);
    assert_true(isnan(se));
    assert_true(y > 22 && y < 25.4);

    /* estimates of a swept database: stored apart, with the fit error */
    const char *db = tmp_path("fit.db");
    const char *args[] = {"sweep", "--count-only", "--family", "lite,transformer,evolved",
                          "--budget", "100M,500M", "--db", db, NULL};
    assert_int_equal(ltsim_bin(args), 0);
    Store *s = open_db(db);
    SimError err;
    sim_error_init(&err);
    int nest = 0;
    assert_int_equal(acc_estimates_update(s, 0, NULL, NULL, &nest, &err), SIM_OK);
    /* wmt-en-de and wmt-en-fr for lite and transformer: 2 budgets x 3 widths each */
    assert_int_equal(nest, 2 * 2 * 2 * 3);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates WHERE family = 'evolved'"),
                     0);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates WHERE std_error IS NULL "
                              "OR basis <> 'confirmed'"),
                     0);
    assert_int_equal(q_int(s, "SELECT fit_n FROM accuracy_estimates WHERE task = 'wmt-en-fr' AND "
                              "family = 'lite' LIMIT 1"),
                     4);
    /* the estimate is the fit at the point's MACs */
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates WHERE abs(value - "
                              "(fit_intercept + fit_slope * ln(macs))) > 1e-9"),
                     0);
    /* --use-unconfirmed: the Evolved Transformer's En-De estimate, labelled so */
    assert_int_equal(acc_estimates_update(s, 1, NULL, NULL, &nest, &err), SIM_OK);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates WHERE family = 'evolved' "
                              "AND task = 'wmt-en-de' AND basis = 'unconfirmed'"),
                     6);
    store_close(s);
    /* the command */
    assert_int_equal(run_cli("accuracy", "fit", "--db", db, "--json", END), 0);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(j, "fits")) >= 4);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "estimates")), 24);
    cJSON_Delete(j);
}

/* Must show 4: at each of the paper's budgets the Lite point lies above the Transformer point
 * by the published margins, at the MACs ltsim counts for the two configs. */
static void test_plot_accuracy_wmt_en_fr_margins(void **state) {
    (void)state;
    const char *dir = tmp_path("margins");
    mkdir(dir, 0755);
    Store *s = open_db(sweep_db());
    ChartOptions o;
    memset(&o, 0, sizeof o);
    o.out_dir = dir;
    o.task = "wmt-en-fr";
    o.no_render = 1;
    ChartFile f[4];
    int n = 0;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(chart_make(s, CHART_ACCURACY, &o, f, 4, &n, &err), SIM_OK);
    store_close(s);
    assert_int_equal(n, 1);
    assert_string_equal(f[0].name, "accuracy-wmt-en-fr");
    assert_non_null(strstr(f[0].caption, "+1.7 / +1.5 / +1.2"));
    char path[600];
    snprintf(path, sizeof path, "%s/accuracy-wmt-en-fr.dat", dir);
    char *dat = tu_slurp(path);
    assert_non_null(dat);
    /* the published points of each family, by config label */
    static const char *const lite[] = {"lite-wmt-200", "lite-wmt-408", "lite-wmt-496"};
    static const char *const tr[] = {"transformer-wmt-128", "transformer-wmt-256",
                                     "transformer-wmt-320"};
    static const double margin[] = {1.7, 1.5, 1.2};
    double lx[3] = {0}, ly[3] = {0}, tx[3] = {0}, ty[3] = {0};
    char title[200] = "";
    int estimates = 0;
    for (char *l = dat; *l;) {
        char *nl = strchr(l, '\n');
        if (nl) *nl = '\0';
        if (strncmp(l, "# index ", 8) == 0) {
            const char *c = strchr(l, ':');
            snprintf(title, sizeof title, "%s", c ? c + 2 : "");
        } else if (*l && *l != '#') {
            double x, y, e;
            char lab[128] = "";
            if (sscanf(l, "%lf %lf %lf \"%127[^\"]\"", &x, &y, &e, lab) >= 3) {
                for (int k = 0; k < 3; k++) {
                    if (strcmp(title, "Lite Transformer: published") == 0 &&
                        strcmp(lab, lite[k]) == 0)
                        lx[k] = x, ly[k] = y;
                    if (strcmp(title, "Transformer: published") == 0 && strcmp(lab, tr[k]) == 0)
                        tx[k] = x, ty[k] = y;
                }
                if (strstr(title, "ESTIMATE") != NULL) estimates++;
            }
        }
        if (!nl) break;
        l = nl + 1;
    }
    free(dat);
    for (int k = 0; k < 3; k++) {
        char p1[128], p2[128];
        snprintf(p1, sizeof p1, "models/%s.yml", lite[k]);
        snprintf(p2, sizeof p2, "models/%s.yml", tr[k]);
        double ml = counted_macs(p1), mt = counted_macs(p2);
        if (fabs(lx[k] * 1e6 - ml) > 0.5 || fabs(tx[k] * 1e6 - mt) > 0.5)
            fail_msg("budget %d: points at %.6gM / %.6gM, ltsim counts %.0f / %.0f", k, lx[k],
                     tx[k], ml, mt);
        assert_true(ly[k] > ty[k]);
        assert_near(ly[k] - ty[k], margin[k], 1e-9);
    }
    /* 90,138,000 / 359,550,000 / 527,451,360 MACs for the three Lite models */
    assert_near(lx[0], 90.138, 1e-9);
    assert_near(lx[2], 527.45136, 1e-9);
    /* the swept widths are drawn as estimates, apart from the published points */
    assert_true(estimates >= 18);
}

/* ---- the report in a browser ---- */

/* Runs chromium headless with the given arguments, stdout to out (may be NULL). */
static int chromium(const char *out, const char *a1, const char *a2, const char *url) {
    char profile[300];
    snprintf(profile, sizeof profile, "%s/chromium-XXXXXX", tu_tmpdir());
    if (mkdtemp(profile) == NULL) fail_msg("mkdtemp failed");
    char udd[400];
    snprintf(udd, sizeof udd, "--user-data-dir=%s", profile);
    const char *argv[] = {"chromium", "--headless", "--no-sandbox", "--disable-gpu",
                          "--disable-quic", "--no-first-run", "--disable-background-networking",
                          "--disable-component-update", "--disable-sync", udd, a1, a2, url,
                          NULL};
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out ? out : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int nul = open("/dev/null", O_WRONLY);
        if (fd >= 0) dup2(fd, 1);
        if (nul >= 0) dup2(nul, 2);
        alarm(120); /* a hung browser must not hang the suite */
        execvp("chromium", (char *const *)argv);
        _exit(127);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int have_chromium(void) {
    const char *path = getenv("PATH");
    char buf[1024];
    for (const char *d = path ? path : "/usr/bin:/bin"; *d;) {
        const char *e = strchr(d, ':');
        size_t len = e ? (size_t)(e - d) : strlen(d);
        snprintf(buf, sizeof buf, "%.*s/chromium", (int)len, d);
        if (access(buf, X_OK) == 0) return 1;
        if (!e) break;
        d = e + 1;
    }
    return 0;
}

static void test_plot_report(void **state) {
    (void)state;
    const char *dir = tmp_path("report");
    const char *db = sweep_db();
    int gp = have_gnuplot();
    int rc = run_cli("report", "--db", db, "--out", dir, "--json", gp ? NULL : "--data-only",
                     END);
    if (rc != 0) fail_msg("report: exit %d: %s", rc, cli_err);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    int ncharts = cJSON_GetArraySize(cJSON_GetObjectItem(j, "charts"));
    assert_true(ncharts >= 10);
    cJSON *c;
    cJSON_ArrayForEach(c, cJSON_GetObjectItem(j, "charts")) {
        assert_chart_files(dir, cJSON_GetObjectItem(c, "name")->valuestring, gp);
    }
    cJSON_Delete(j);
    char html[600], md[600];
    snprintf(html, sizeof html, "%s/index.html", dir);
    snprintf(md, sizeof md, "%s/report.md", dir);
    char *h = tu_slurp(html), *m = tu_slurp(md);
    assert_non_null(h);
    assert_non_null(m);
    /* every section, in both forms */
    static const char *const sections[] = {"Charts", "Sweep tables", "Accuracy data",
                                           "Counting conventions", "Calibration quality",
                                           "Design cost", "Provenance of the data"};
    for (size_t k = 0; k < sizeof sections / sizeof sections[0]; k++) {
        if (strstr(h, sections[k]) == NULL) fail_msg("index.html lacks '%s'", sections[k]);
        if (strstr(m, sections[k]) == NULL) fail_msg("report.md lacks '%s'", sections[k]);
    }
    assert_non_null(strstr(h, "data-images-ok")); /* the load check the browser test reads */
    assert_non_null(strstr(h, "lite-wmt-496"));   /* the sweep table */
    assert_non_null(
        strstr(m, "![Accuracy vs Mult-Adds: WMT'14 En-Fr (BLEU)](accuracy-wmt-en-fr.png)"));
    assert_null(strstr(h, "http://"));            /* self-contained: nothing fetched */
    assert_null(strstr(h, "https://"));
    /* every image the page shows is a file beside it */
    int imgs = 0;
    for (const char *p = strstr(h, "<img src=\""); p; p = strstr(p + 1, "<img src=\"")) {
        char name[200], f[800];
        sscanf(p + 10, "%199[^\"]", name);
        snprintf(f, sizeof f, "%s/%s", dir, name);
        if (gp) assert_png(f, 4000);
        imgs++;
    }
    assert_int_equal(imgs, ncharts);
    free(h);
    free(m);
    if (!gp) {
        printf("test_plot_report: browser check skipped: gnuplot is not installed\n");
        return;
    }
    if (!have_chromium()) {
        printf("test_plot_report: browser check skipped: chromium is not installed "
               "(.ci/run installs it)\n");
        return;
    }
    /* every image loaded: the page's own script marks <body> once the page has loaded */
    char url[700], dom[600];
    snprintf(url, sizeof url, "file://%s", html);
    snprintf(dom, sizeof dom, "%s/dom.html", tu_tmpdir());
    assert_int_equal(chromium(dom, "--dump-dom", "--window-size=1200,2000", url), 0);
    char *d = tu_slurp(dom);
    assert_non_null(d);
    char want[80];
    snprintf(want, sizeof want, "data-images-loaded=\"%d/%d\"", imgs, imgs);
    if (strstr(d, "data-images-ok=\"yes\"") == NULL || strstr(d, want) == NULL) {
        const char *b = strstr(d, "<body");
        fail_msg("not every image loaded in Chromium: %.200s", b ? b : d);
    }
    free(d);
    /* the screenshot is not blank: much larger than a blank page's at the same size */
    char shot[600], blank[600], bshot[600], burl[700];
    snprintf(shot, sizeof shot, "%s/report.png", tu_tmpdir());
    snprintf(blank, sizeof blank, "%s/blank.html", tu_tmpdir());
    snprintf(bshot, sizeof bshot, "%s/blank.png", tu_tmpdir());
    write_text(blank, "<!DOCTYPE html><html><head><meta charset=\"utf-8\"></head><body></body>"
                      "</html>\n");
    snprintf(burl, sizeof burl, "file://%s", blank);
    char sarg[700], barg[700];
    snprintf(sarg, sizeof sarg, "--screenshot=%s", shot);
    snprintf(barg, sizeof barg, "--screenshot=%s", bshot);
    assert_int_equal(chromium(NULL, sarg, "--window-size=1200,2000", url), 0);
    assert_int_equal(chromium(NULL, barg, "--window-size=1200,2000", burl), 0);
    assert_png(shot, 1000);
    assert_png(bshot, 100);
    if (fsize(shot) < 5 * fsize(bshot))
        fail_msg("the report's screenshot (%ld bytes) looks blank next to an empty page's (%ld)",
                 fsize(shot), fsize(bshot));
    printf("test_plot_report: Chromium loaded %d/%d images; screenshot %ld bytes (blank page: "
           "%ld)\n",
           imgs, imgs, fsize(shot), fsize(bshot));
}

/* ---- bad usage ---- */

static void test_plot_bad_usage(void **state) {
    (void)state;
    const char *dir = tmp_path("usage");
    expect_error(run_cli("plot", END), 2, "missing KIND");
    expect_error(run_cli("plot", "pie", END), 2, "unknown KIND 'pie'");
    expect_error(run_cli("plot", "accuracy", "--task", "wmt-xx", END), 2, "unknown task 'wmt-xx'");
    expect_error(run_cli("plot", "latency", "--family", "lite,nope", END), 2,
                 "unknown family 'nope'");
    expect_error(run_cli("plot", "seqlen", "--models", "no-such-model", "--data-only", "--out",
                         dir, END),
                 2, "no-such-model");
    expect_error(run_cli("report", "--task", "wmt-en-fr", END), 2, "--task");
    expect_error(run_cli("report", "extra", END), 2, "unexpected argument 'extra'");
    assert_int_equal(run_cli("plot", "--help", END), 0);
    assert_non_null(strstr(cli_out, "calibration"));
    assert_int_equal(run_cli("report", "--help", END), 0);
    assert_int_equal(run_cli("accuracy", "--help", END), 0);
    /* no data at all: exit 1, the last line saying so (after the note explaining why) */
    assert_int_equal(run_cli("plot", "latency", "--data-only", "--out", dir, "--db",
                             tmp_path("empty.db"), END),
                     1);
    assert_non_null(strstr(cli_err, "no swept points with predictions"));
    assert_non_null(strstr(cli_err, "no data for latency: nothing drawn"));
}

int main(void) {
    setenv("LTSIM_HOME", tu_tmpdir(), 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plot_script_text),
        cmocka_unit_test(test_plot_gnuplot_missing),
        cmocka_unit_test(test_plot_relative_out),
        cmocka_unit_test(test_plot_render_real),
        cmocka_unit_test(test_plot_carbon_presets),
        cmocka_unit_test(test_plot_carbon_compare),
        cmocka_unit_test(test_plot_carbon_bad_inputs),
        cmocka_unit_test(test_plot_accuracy_import),
        cmocka_unit_test(test_plot_accuracy_fit),
        cmocka_unit_test(test_plot_accuracy_wmt_en_fr_margins),
        cmocka_unit_test(test_plot_report),
        cmocka_unit_test(test_plot_bad_usage),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    free(cli_out);
    free(cli_err);
    return rc;
}
