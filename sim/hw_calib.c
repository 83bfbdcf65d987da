/*
 * hw_calib.c - CSV measurements, calibration (CSV and host) and validation (see hw_calib.h).
 *
 * Host measurements run ltsim's own kernels through runner_execute (per-operator times in
 * the ledger) and op_exec (an sgemm for the peak); the memory sweep reads buffers of growing
 * size with 16-byte vector loads.
 */
#include "hw_calib.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arena.h"
#include "ops.h"
#include "paths.h"
#include "report.h"

static void note(const HwCalibOptions *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void note(const HwCalibOptions *o, const char *fmt, ...) {
    if (o == NULL || o->note == NULL) return;
    char msg[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    o->note(o->note_ctx, msg);
}

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of sorted v (linear interpolation). */
static double quantile_sorted(const double *v, int n, double q) {
    if (n <= 0) return 0.0;
    double pos = q * (n - 1);
    int i = (int)floor(pos);
    if (i >= n - 1) return v[n - 1];
    double f = pos - i;
    return v[i] * (1 - f) + v[i + 1] * f;
}

/* ---- paths ---- */

static int readable(const char *p) { return access(p, R_OK) == 0; }

/* out = a b c d when it fits (0), else -1. */
static int join4(char *out, size_t n, const char *a, const char *b, const char *c, const char *d) {
    const char *parts[4] = {a, b, c, d};
    size_t k = 0;
    for (int i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]);
        if (k + l + 1 > n) {
            out[0] = '\0';
            return -1;
        }
        memcpy(out + k, parts[i], l);
        k += l;
    }
    out[k] = '\0';
    return 0;
}

static int try_path(char *out, size_t n, const char *a, const char *b, const char *c,
                    const char *d) {
    return join4(out, n, a, b, c, d) == 0 && readable(out);
}

/* A model path relative to the CSV's folder, or to models/ ($LTSIM_HOME, the binary's
 * folder, the current directory); a bare NAME is models/NAME.yml. 0 found. */
static int resolve_config(const char *csvdir, const char *name, char *out, size_t n) {
    size_t len = strlen(name);
    const char *ext = len > 4 && (strcmp(name + len - 4, ".yml") == 0 ||
                                  (len > 5 && strcmp(name + len - 5, ".yaml") == 0))
                          ? ""
                          : ".yml";
    if (name[0] == '/') return try_path(out, n, name, "", "", "") ? 0 : -1;
    if (try_path(out, n, csvdir, "/", name, "")) return 0;
    if (try_path(out, n, csvdir, "/", name, ext)) return 0;
    char roots[3][600];
    int nr = 0;
    const char *home = getenv("LTSIM_HOME");
    if (home && *home && strlen(home) < sizeof roots[0]) join4(roots[nr++], sizeof roots[0], home, "", "", "");
    char ed[512];
    paths_exe_dir(ed, sizeof ed);
    join4(roots[nr++], sizeof roots[0], ed, "", "", "");
    join4(roots[nr++], sizeof roots[0], ".", "", "", "");
    for (int i = 0; i < nr; i++) {
        if (try_path(out, n, roots[i], "/models/", name, ext)) return 0;
        if (strncmp(name, "models/", 7) == 0 && try_path(out, n, roots[i], "/", name, ext)) return 0;
    }
    join4(out, n, name, "", "", "");
    return -1;
}

/* ---- CSV ---- */

enum { COL_CONFIG = 0, COL_MODE, COL_SRC, COL_TGT, COL_BEAM, COL_LAT, COL_VOCAB, NCOLS };
static const char *const col_names[NCOLS] = {"config", "mode", "src_len", "tgt_len", "beam",
                                             "latency_ms", "vocab_size"};
#define REQUIRED_COLS 6
#define CSV_HEADER "config,mode,src_len,tgt_len,beam,latency_ms"
#define MAX_FIELDS 32

typedef struct {
    char text[1024];
    int col; /* 1-based character column of the field's start */
} Field;

/* Splits one line (without its newline) into fields; returns the count, or -1 with *badcol
 * set for an unterminated quote. */
static int split_fields(const char *line, Field *f, int max, int *badcol) {
    int n = 0;
    const char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t') p++;
        if (n == max) return n + 1;
        Field *cur = &f[n++];
        cur->col = (int)(p - line) + 1;
        size_t k = 0;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') {
                    *badcol = cur->col;
                    return -1;
                }
                if (*p == '"') {
                    if (p[1] == '"') {
                        if (k + 1 < sizeof cur->text) cur->text[k++] = '"';
                        p += 2;
                        continue;
                    }
                    p++;
                    break;
                }
                if (k + 1 < sizeof cur->text) cur->text[k++] = *p;
                p++;
            }
            while (*p == ' ' || *p == '\t') p++;
        } else {
            while (*p && *p != ',') {
                if (k + 1 < sizeof cur->text) cur->text[k++] = *p;
                p++;
            }
            while (k > 0 && (cur->text[k - 1] == ' ' || cur->text[k - 1] == '\t')) k--;
        }
        cur->text[k] = '\0';
        if (*p == ',') {
            p++;
            continue;
        }
        if (*p != '\0') { /* text after a closing quote */
            *badcol = (int)(p - line) + 1;
            return -1;
        }
        return n;
    }
}

static int parse_int(const char *s, int64_t lo, int64_t hi, int64_t *out) {
    if (*s == '\0') return -1;
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < lo || v > hi) return -1;
    *out = (int64_t)v;
    return 0;
}

SimStatus hw_csv_read(const char *path, HwCsvRow **rows, int *n, SimError *err) {
    *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL) return sim_errorf(err, SIM_EINVAL, "%s: cannot open: %s", path, strerror(errno));
    char csvdir[1024];
    snprintf(csvdir, sizeof csvdir, "%s", path);
    char *slash = strrchr(csvdir, '/');
    if (slash) *slash = '\0';
    else snprintf(csvdir, sizeof csvdir, ".");

    int colidx[NCOLS];
    for (int c = 0; c < NCOLS; c++) colidx[c] = -1;
    int nhdr = 0, header_line = 0, lineno = 0, cap = 0;
    HwCsvRow *out = NULL;
    char line[4096];
    Field *fl = malloc(MAX_FIELDS * sizeof *fl);
    SimStatus rc = SIM_OK;
    if (fl == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    while (fgets(line, sizeof line, f) != NULL) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n' && !feof(f)) {
            rc = sim_errorf(err, SIM_EINVAL, "%s:%d:1: line longer than %zu characters", path,
                            lineno, sizeof line - 2);
            goto out;
        }
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        const char *q = line;
        while (*q == ' ' || *q == '\t') q++;
        if (*q == '\0' || *q == '#') continue;
        if (lineno == 1 && (unsigned char)line[0] == 0xEF && (unsigned char)line[1] == 0xBB &&
            (unsigned char)line[2] == 0xBF)
            memmove(line, line + 3, len - 2); /* a UTF-8 byte-order mark */
        int badcol = 0;
        int nf = split_fields(line, fl, MAX_FIELDS, &badcol);
        if (nf < 0) {
            rc = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: unterminated or misplaced quote", path,
                            lineno, badcol);
            goto out;
        }
        if (nf > MAX_FIELDS) {
            rc = sim_errorf(err, SIM_EINVAL, "%s:%d:1: more than %d fields", path, lineno,
                            MAX_FIELDS);
            goto out;
        }
        if (!header_line) {
            header_line = lineno;
            nhdr = nf;
            for (int i = 0; i < nf; i++) {
                int c;
                for (c = 0; c < NCOLS; c++)
                    if (strcmp(fl[i].text, col_names[c]) == 0) break;
                if (c == NCOLS) {
                    rc = sim_errorf(err, SIM_EINVAL,
                                    "%s:%d:%d: header: unknown column '%.60s' (expected %s[,vocab_size])",
                                    path, lineno, fl[i].col, fl[i].text, CSV_HEADER);
                    goto out;
                }
                if (colidx[c] >= 0) {
                    rc = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: header: column '%s' appears twice",
                                    path, lineno, fl[i].col, col_names[c]);
                    goto out;
                }
                colidx[c] = i;
            }
            for (int c = 0; c < REQUIRED_COLS; c++)
                if (colidx[c] < 0) {
                    rc = sim_errorf(err, SIM_EINVAL,
                                    "%s:%d:%d: header: missing column '%s' (expected %s)", path,
                                    lineno, (int)strlen(line) + 1, col_names[c], CSV_HEADER);
                    goto out;
                }
            continue;
        }
        if (nf != nhdr) {
            int col = nf > nhdr ? fl[nhdr].col : (int)strlen(line) + 1;
            rc = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: row has %d fields, the header has %d (%s)",
                            path, lineno, col, nf, nhdr, nf > nhdr ? "extra field" : "missing field");
            goto out;
        }
        if (*n == cap) {
            int ncap = cap ? cap * 2 : 32;
            HwCsvRow *nr = realloc(out, (size_t)ncap * sizeof *nr);
            if (nr == NULL) {
                rc = sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", path);
                goto out;
            }
            out = nr;
            cap = ncap;
        }
        HwCsvRow *r = &out[*n];
        memset(r, 0, sizeof *r);
        r->line = lineno;
        const Field *fc = &fl[colidx[COL_CONFIG]], *fm = &fl[colidx[COL_MODE]];
        const Field *fs = &fl[colidx[COL_SRC]], *ft = &fl[colidx[COL_TGT]];
        const Field *fb = &fl[colidx[COL_BEAM]], *flat = &fl[colidx[COL_LAT]];
        r->config_col = fc->col;
        r->mode_col = fm->col;
        if (fc->text[0] == '\0' || strlen(fc->text) >= sizeof r->config) {
            rc = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: config: %s", path, lineno, fc->col,
                            fc->text[0] ? "path too long" : "empty (a model YAML path)");
            goto out;
        }
        snprintf(r->config, sizeof r->config, "%s", fc->text);
        if (strcmp(fm->text, "forward") != 0 && strcmp(fm->text, "generate") != 0) {
            rc = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: mode: expected forward or generate, got '%.40s'",
                            path, lineno, fm->col, fm->text);
            goto out;
        }
        snprintf(r->mode, sizeof r->mode, "%s", strcmp(fm->text, "forward") == 0 ? "forward" : "generate");
        if (parse_int(fs->text, 1, 100000, &r->src_len) != 0) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s:%d:%d: src_len: expected a whole number from 1 to 100000, got '%.40s'",
                            path, lineno, fs->col, fs->text);
            goto out;
        }
        if (parse_int(ft->text, 1, 100000, &r->tgt_len) != 0) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s:%d:%d: tgt_len: expected a whole number from 1 to 100000, got '%.40s'",
                            path, lineno, ft->col, ft->text);
            goto out;
        }
        int64_t beam = 0;
        if (parse_int(fb->text, 1, 1024, &beam) != 0) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s:%d:%d: beam: expected a whole number from 1 to 1024, got '%.40s'",
                            path, lineno, fb->col, fb->text);
            goto out;
        }
        if (strcmp(r->mode, "forward") == 0 && beam != 1) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s:%d:%d: beam: a forward pass has no beam search (expected 1, got %lld)",
                            path, lineno, fb->col, (long long)beam);
            goto out;
        }
        r->beam = (int)beam;
        char *end = NULL;
        errno = 0;
        double lat = strtod(flat->text, &end);
        if (flat->text[0] == '\0' || end == flat->text || *end != '\0' || errno == ERANGE ||
            !isfinite(lat) || lat <= 0) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s:%d:%d: latency_ms: expected a positive number of milliseconds, got '%.40s'",
                            path, lineno, flat->col, flat->text);
            goto out;
        }
        r->latency_ms = lat;
        if (colidx[COL_VOCAB] >= 0) {
            const Field *fv = &fl[colidx[COL_VOCAB]];
            if (fv->text[0] != '\0' && parse_int(fv->text, 1, (int64_t)1 << 26, &r->vocab_size) != 0) {
                rc = sim_errorf(err, SIM_EINVAL,
                                "%s:%d:%d: vocab_size: expected a whole number from 1 to 67108864 or "
                                "nothing, got '%.40s'",
                                path, lineno, fv->col, fv->text);
                goto out;
            }
        }
        if (resolve_config(csvdir, r->config, r->path, sizeof r->path) != 0) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "%s:%d:%d: config: no model file '%s' (looked in %s/ and models/)", path,
                            lineno, fc->col, r->config, csvdir);
            goto out;
        }
        (*n)++;
    }
    if (ferror(f)) {
        rc = sim_errorf(err, SIM_EINVAL, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    if (!header_line) {
        rc = sim_errorf(err, SIM_EINVAL, "%s:1:1: header: missing (expected %s)", path, CSV_HEADER);
        goto out;
    }
    if (*n == 0)
        rc = sim_errorf(err, SIM_EINVAL, "%s:%d:1: no measurements after the header", path,
                        lineno > 0 ? lineno : 1);
out:
    free(fl);
    fclose(f);
    if (rc != SIM_OK) {
        free(out);
        out = NULL;
        *n = 0;
    }
    *rows = out;
    return rc;
}

/* ---- ledgers of one row ---- */

SimStatus hw_row_ledgers(const ModelConfig *cfg, const char *mode, int64_t src_len,
                         int64_t tgt_len, int beam, RunResult *res, SimError *err) {
    memset(res, 0, sizeof *res);
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = src_len;
    spec.tgt_len = tgt_len;
    spec.seed = 1;
    spec.threads = 1;
    spec.count_only = 1;
    if (strcmp(mode, "generate") == 0) {
        spec.mode = MODE_GENERATE;
        spec.beam = beam > 0 ? beam : 1;
        spec.max_steps = tgt_len;
        spec.no_early_stop = 1; /* a measured row generated tgt_len tokens */
    } else if (strcmp(mode, "forward") != 0) {
        return sim_errorf(err, SIM_EINVAL, "mode '%s': expected forward or generate", mode);
    }
    return runner_execute(cfg, &spec, res, err);
}

const CostLedger **hw_run_ledgers(const RunResult *res, int *n) {
    *n = 0;
    if (res->once != NULL && res->steps != NULL) {
        const CostLedger **l = calloc((size_t)res->nsteps + 1, sizeof(const CostLedger *));
        if (l == NULL) return NULL;
        l[(*n)++] = res->once;
        for (int64_t t = 0; t < res->nsteps; t++) l[(*n)++] = res->steps[t];
        return l;
    }
    const CostLedger **l = calloc(1, sizeof(const CostLedger *));
    if (l == NULL) return NULL;
    l[(*n)++] = res->ledger;
    return l;
}

/* Loaded rows: configs and count-only ledgers. */
typedef struct {
    HwCsvRow *rows;
    int n;
    RunResult *res;
    const CostLedger ***lp; /* the ledgers of each row (hw_run_ledgers) */
    int *nl;
} CsvSet;

static void csv_set_free(CsvSet *s) {
    for (int i = 0; s->res && i < s->n; i++) runner_result_free(&s->res[i]);
    for (int i = 0; s->lp && i < s->n; i++) free(s->lp[i]);
    free(s->res);
    free(s->lp);
    free(s->nl);
    free(s->rows);
    memset(s, 0, sizeof *s);
}

static SimStatus csv_set_load(const char *csv, CsvSet *s, SimError *err) {
    memset(s, 0, sizeof *s);
    SimStatus rc = hw_csv_read(csv, &s->rows, &s->n, err);
    if (rc != SIM_OK) return rc;
    s->res = calloc((size_t)s->n, sizeof *s->res);
    s->lp = calloc((size_t)s->n, sizeof *s->lp);
    s->nl = calloc((size_t)s->n, sizeof *s->nl);
    if (s->res == NULL || s->lp == NULL || s->nl == NULL) {
        csv_set_free(s);
        return sim_errorf(err, SIM_ENOMEM, "out of memory loading %s", csv);
    }
    for (int i = 0; i < s->n; i++) {
        HwCsvRow *r = &s->rows[i];
        ModelConfig cfg;
        ConfigOverrides ov = {r->vocab_size};
        SimError e2;
        sim_error_init(&e2);
        if (config_load(r->path, &ov, &cfg, &e2) != SIM_OK ||
            hw_row_ledgers(&cfg, r->mode, r->src_len, r->tgt_len, r->beam, &s->res[i], &e2) !=
                SIM_OK) {
            rc = sim_errorf(err, e2.code, "%s:%d:%d: config: %s", csv, r->line, r->config_col, e2.msg);
            csv_set_free(s);
            return rc;
        }
        s->lp[i] = hw_run_ledgers(&s->res[i], &s->nl[i]);
        if (s->lp[i] == NULL) {
            csv_set_free(s);
            return sim_errorf(err, SIM_ENOMEM, "out of memory loading %s", csv);
        }
    }
    return SIM_OK;
}

static void utc_date(char *buf, size_t n) {
    time_t t = time(NULL);
    struct tm tmv;
    gmtime_r(&t, &tmv);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tmv);
}

SimStatus hw_calibrate_csv(HwProfile *p, const char *csv, const HwCalibOptions *o,
                           HwFitReport *rep, SimError *err) {
    memset(rep, 0, sizeof *rep);
    CsvSet s;
    SimStatus rc = csv_set_load(csv, &s, err);
    if (rc != SIM_OK) return rc;
    HwSample *smp = calloc((size_t)s.n, sizeof *smp);
    if (smp == NULL) {
        csv_set_free(&s);
        return sim_errorf(err, SIM_ENOMEM, "out of memory calibrating");
    }
    for (int i = 0; i < s.n; i++) {
        smp[i].ledgers = s.lp[i];
        smp[i].nledgers = s.nl[i];
        smp[i].entry = -1;
        smp[i].measured_ms = s.rows[i].latency_ms;
        smp[i].weight = 1.0;
    }
    note(o, "fitting %s to %d measured latencies of %s", p->name, s.n, csv);
    HwFitOptions fo = {0};
    fo.warm = !(o && o->cold);
    fo.identify_se = 0.05;
    rc = hw_fit(p, smp, s.n, &fo, rep, err);
    if (rc == SIM_OK) {
        char date[40];
        utc_date(date, sizeof date);
        for (int k = 0; k < HW_PARAM_COUNT; k++) {
            double a = hw_param_get(&rep->before, (HwParam)k), b = hw_param_get(&rep->after, (HwParam)k);
            if (k == HW_P_TRANS_EFF || k == HW_P_DRAM_SHORT_EFF) {
                if (fabs(b - a) > 1e-3 * fabs(a))
                    hw_profile_set_source(p, hw_param_key((HwParam)k), HW_SRC_FITTED,
                                          "ltsim calibrate: scaled with %s fitted to %d measured "
                                          "latencies in %s (%s), keeping the profile's ratio "
                                          "(whole-run latencies cannot separate the two)",
                                          hw_param_key(k == HW_P_TRANS_EFF ? HW_P_ELEM_EFF
                                                                           : HW_P_DRAM_EFF),
                                          s.n, csv, date);
                continue;
            }
            if (rep->identified[k] || fabs(b - a) > 1e-3 * fabs(a))
                hw_profile_set_source(p, hw_param_key((HwParam)k), HW_SRC_FITTED,
                                      "ltsim calibrate: fitted to %d measured latencies in %s (%s); "
                                      "relative standard error %.2g%%%s",
                                      s.n, csv, date, 100.0 * rep->rel_se[k],
                                      rep->identified[k] ? "" : " (weakly determined)");
        }
        p->has_provenance = 1;
        snprintf(p->prov.date, sizeof p->prov.date, "%s", date);
        snprintf(p->prov.method, sizeof p->prov.method,
                 "model parameters fitted to %d measured latencies in %s", s.n, csv);
        snprintf(p->prov.version, sizeof p->prov.version, "%s", LTSIM_VERSION);
        p->prov.fit_rows = s.n;
        p->prov.fit_rms_rel_err = rep->rms_rel_err_after;
    }
    free(smp);
    csv_set_free(&s);
    return rc;
}

/* ---- statistics ---- */

/* The statistics of the rows of v whose mode is `mode` (every row when NULL) and, with
 * max_spread > 0, whose spread is at most max_spread. */
static void summarise(const HwValidation *v, const char *mode, double max_spread,
                      HwValidationSummary *out) {
    memset(out, 0, sizeof *out);
    double *e = malloc((size_t)(v->n > 0 ? v->n : 1) * sizeof *e);
    double sq = 0.0;
    int w10 = 0, w20 = 0, n = 0;
    for (int i = 0; i < v->n; i++) {
        const HwValidateRow *r = &v->rows[i];
        if (mode && strcmp(r->mode, mode) != 0) continue;
        if (max_spread > 0 && !(r->spread <= max_spread)) continue;
        double d = r->predicted_ms - r->measured_ms;
        double a = r->measured_ms > 0 ? fabs(d) / r->measured_ms : INFINITY;
        if (e) e[n] = a;
        n++;
        sq += d * d;
        if (a <= 0.10) w10++;
        if (a <= 0.20) w20++;
    }
    out->n = n;
    if (n > 0) {
        out->within_10 = (double)w10 / n;
        out->within_20 = (double)w20 / n;
        out->rmse_ms = sqrt(sq / n);
        if (e) {
            qsort(e, (size_t)n, sizeof *e, cmp_double);
            out->median_abs_err = quantile_sorted(e, n, 0.5);
            out->p90_abs_err = quantile_sorted(e, n, 0.9);
        }
    }
    free(e);
}

void hw_validation_stats(HwValidation *v) {
    HwValidationSummary all;
    summarise(v, NULL, 0.0, &all);
    v->within_10 = all.within_10;
    v->within_20 = all.within_20;
    v->median_abs_err = all.median_abs_err;
    v->p90_abs_err = all.p90_abs_err;
    v->rmse_ms = all.rmse_ms;
    summarise(v, "forward", 0.0, &v->forward);
    summarise(v, "generate", 0.0, &v->generate);
    v->timed = 0;
    for (int i = 0; i < v->n; i++) v->timed |= v->rows[i].spread > 0;
    if (v->timed) {
        summarise(v, "forward", HW_STEADY_SPREAD, &v->steady_forward);
        summarise(v, "generate", HW_STEADY_SPREAD, &v->steady_generate);
    }
}

void hw_validation_free(HwValidation *v) {
    if (v == NULL) return;
    free(v->rows);
    memset(v, 0, sizeof *v);
}

SimStatus hw_validate_csv(const HwProfile *p, const char *csv, const HwCalibOptions *o,
                          HwValidation *v, SimError *err) {
    memset(v, 0, sizeof *v);
    CsvSet s;
    SimStatus rc = csv_set_load(csv, &s, err);
    if (rc != SIM_OK) return rc;
    v->rows = calloc((size_t)(s.n > 0 ? s.n : 1), sizeof *v->rows);
    if (v->rows == NULL) {
        csv_set_free(&s);
        return sim_errorf(err, SIM_ENOMEM, "out of memory validating");
    }
    HwPredictOptions po = {!(o && o->cold)};
    for (int i = 0; i < s.n; i++) {
        HwValidateRow *r = &v->rows[i];
        snprintf(r->config, sizeof r->config, "%s", s.rows[i].config);
        snprintf(r->mode, sizeof r->mode, "%s", s.rows[i].mode);
        r->src_len = s.rows[i].src_len;
        r->tgt_len = s.rows[i].tgt_len;
        r->beam = s.rows[i].beam;
        r->measured_ms = s.rows[i].latency_ms;
        r->predicted_ms = hw_predict_ms(p, s.lp[i], s.nl[i], &po);
    }
    v->n = s.n;
    hw_validation_stats(v);
    csv_set_free(&s);
    return SIM_OK;
}

/* ---- host: memory sweep ---- */

typedef uint64_t HwVec __attribute__((vector_size(16)));

/* Sums n vectors with four independent accumulators (the loads are the work). */
static uint64_t read_pass(const HwVec *a, size_t n) {
    HwVec s0 = {0, 0}, s1 = {0, 0}, s2 = {0, 0}, s3 = {0, 0};
    for (size_t i = 0; i + 4 <= n; i += 4) {
        s0 += a[i];
        s1 += a[i + 1];
        s2 += a[i + 2];
        s3 += a[i + 3];
    }
    HwVec s = s0 + s1 + s2 + s3;
    uint64_t lanes[2];
    memcpy(lanes, &s, sizeof lanes);
    return lanes[0] + lanes[1];
}

static volatile uint64_t sink;

/* Best read bandwidth (GB/s) over trials of passes over the first bytes of buf. */
static double read_bw(const HwVec *buf, size_t bytes, double min_bytes, int trials) {
    size_t n = bytes / sizeof(HwVec);
    int passes = (int)ceil(min_bytes / (double)bytes);
    if (passes < 2) passes = 2;
    double best = 0.0;
    for (int t = 0; t < trials; t++) {
        read_pass(buf, n); /* warm the cache at this size */
        double t0 = now_ms();
        uint64_t acc = 0;
        for (int p = 0; p < passes; p++) acc += read_pass(buf, n);
        double dt = now_ms() - t0;
        sink += acc;
        double gbs = dt > 0 ? (double)bytes * passes / (dt * 1e6) : 0.0;
        if (gbs > best) best = gbs;
    }
    return best;
}

double hw_llc_kib(const double *kib, const double *gbs, int n, double dram_gbs) {
    if (n < 1) return 0.0;
    /* the largest working set still clearly faster than DRAM and followed by a drop (a
     * cache's edge: 30 % over the next two steps, or 15 % in the sweep's last step), else the
     * largest one clearly faster. DRAM's own bandwidth may fall by a third from 64 to 256 MiB
     * (on an AMD EPYC VM, 41 to 31.5 GB/s, and 31 to 24.6 in another sweep), so its first
     * points can be 1.25x those of the largest sets and fall by 15 % in one step */
    int j = -1, faster = -1;
    for (int i = n - 1; i >= 0 && j < 0; i--) {
        if (!(gbs[i] >= 1.25 * dram_gbs)) continue;
        if (faster < 0) faster = i;
        if (i + 2 < n ? gbs[i] >= 1.3 * gbs[i + 2] : i + 1 < n && gbs[i] >= 1.15 * gbs[i + 1])
            j = i;
    }
    if (j < 0) j = faster;
    if (j < 0 || j == n - 1) return kib[j < 0 ? 0 : j];
    /* up the edge to where the last cache level's plateau begins */
    int p = j;
    while (p > 0 && gbs[p - 1] > 1.1 * gbs[p]) p--;
    /* half-way from that plateau to DRAM, at or below the step after the edge (not on the
     * DRAM's own slope further on) */
    double thr = 0.5 * (gbs[p] + dram_gbs);
    for (int i = j + 1 < n - 1 ? j + 1 : n - 2; i >= 0; i--) {
        if (gbs[i] >= thr) {
            double b0 = gbs[i], b1 = gbs[i + 1];
            double f = b0 > b1 ? (b0 - thr) / (b0 - b1) : 0.0;
            if (f > 1) f = 1;
            return exp(log(kib[i]) + f * (log(kib[i + 1]) - log(kib[i])));
        }
    }
    return kib[0];
}

SimStatus hw_measure_memory(HwHostMeasure *m, int quick, SimError *err) {
    size_t maxb = (size_t)256 << 20;
    /* in an arena, laid out as the model's weights are (2 MiB pages where the kernel gives
     * them) */
    Arena *a = arena_open(maxb, 0, err);
    HwVec *buf = a != NULL ? arena_alloc(a, maxb, 64, err) : NULL;
    if (buf == NULL) {
        arena_close(a);
        return sim_errorf(err, SIM_ENOMEM, "out of memory for the bandwidth sweep (256 MiB)");
    }
    memset(buf, 1, maxb); /* touch every page */
    m->nsweep = 0;
    double min_bytes = quick ? 64.0 * (1 << 20) : 256.0 * (1 << 20);
    int trials = quick ? 2 : 3;
    /* 64 KiB .. 256 MiB in steps of sqrt(2) */
    for (double kib = 64; kib <= 256.0 * 1024 + 1 && m->nsweep < HW_SWEEP_MAX; kib *= sqrt(2.0)) {
        size_t bytes = ((size_t)(kib * 1024) / 256) * 256;
        m->sweep_kib[m->nsweep] = (double)bytes / 1024.0;
        m->sweep_gbs[m->nsweep] = read_bw(buf, bytes, min_bytes, trials);
        m->nsweep++;
    }
    arena_close(a);
    int n = m->nsweep;
    m->dram_gbs = n >= 2 ? 0.5 * (m->sweep_gbs[n - 1] + m->sweep_gbs[n - 2]) : m->sweep_gbs[0];
    m->llc_kib = hw_llc_kib(m->sweep_kib, m->sweep_gbs, n, m->dram_gbs);
    return SIM_OK;
}

/* ---- host: sgemm peak through op_exec ---- */

/* A Run for timing single kernels through op_exec: an arena of `bytes`, a ledger, timing on,
 * the scope `scope`. SIM_OK or the failure (nothing left open). Close with kernel_run_close. */
static SimStatus kernel_run_open(Run *r, size_t bytes, const char *scope, SimError *err) {
    memset(r, 0, sizeof *r);
    Arena *a = arena_open(bytes, 0, err);
    if (a == NULL) return err->code;
    CostLedger *l = cost_ledger_open(err);
    if (l == NULL) {
        arena_close(a);
        return err->code;
    }
    r->act = a;
    r->ledger = l;
    r->err = err;
    r->cls = CLASS_FFN;
    r->timing = 1;
    snprintf(r->scope, sizeof r->scope, "%s", scope);
    r->scope_len = strlen(r->scope);
    return SIM_OK;
}

static void kernel_run_close(Run *r) {
    cost_ledger_close(r->ledger);
    arena_close(r->act);
}

static SimStatus measure_sgemm(int64_t M, int64_t N, int64_t K, double *gflops, SimError *err) {
    *gflops = 0.0;
    size_t bytes = (size_t)(M * K + N * K + M * N) * sizeof(float) + 4096;
    Run r;
    if (kernel_run_open(&r, bytes, "calibrate.sgemm", err) != SIM_OK) return err->code;
    OpArgs args;
    memset(&args, 0, sizeof args);
    args.x = run_tensor(&r, M, K);
    args.w = run_tensor(&r, N, K);
    args.y = run_tensor(&r, M, N);
    if (err->code == SIM_OK) {
        for (int64_t i = 0; i < M * K; i++) args.x.data[i] = 0.001f * (float)(i % 13);
        for (int64_t i = 0; i < N * K; i++) args.w.data[i] = 0.002f * (float)(i % 7);
        double best = 1e30;
        for (int t = 0; t < 6 && err->code == SIM_OK; t++) {
            double t0 = now_ms();
            op_exec(&r, OP_LINEAR, &args);
            double dt = now_ms() - t0;
            if (t > 0 && dt < best) best = dt;
        }
        if (err->code == SIM_OK && best > 0 && best < 1e30)
            *gflops = 2.0 * (double)M * (double)N * (double)K / (best * 1e6);
    }
    kernel_run_close(&r);
    return err->code;
}

/* The tile rows of a GEMM kernel from ns[m], m = mmin..mmax (see hw_calib.h). */
int hw_gemm_tile_pick(const double *ns, int mmin, int mmax) {
    int tile = 1;
    double best_rss = INFINITY, rss1 = INFINITY;
    for (int u = 1; u <= 16; u *= 2) {
        /* normal equations of t = a + b M + c r (c absent for u = 1) */
        double A[3][3] = {{0}}, bv[3] = {0};
        int np = u == 1 ? 2 : 3;
        for (int m = mmin; m <= mmax; m++) {
            double f[3] = {1.0, (double)m, (double)__builtin_popcount((unsigned)(m % u))};
            for (int i = 0; i < np; i++) {
                bv[i] += f[i] * ns[m];
                for (int j = 0; j < np; j++) A[i][j] += f[i] * f[j];
            }
        }
        double c[3] = {0};
        /* Gaussian elimination (3 x 3 at most) */
        for (int col = 0; col < np; col++) {
            int piv = col;
            for (int i = col + 1; i < np; i++)
                if (fabs(A[i][col]) > fabs(A[piv][col])) piv = i;
            if (fabs(A[piv][col]) < 1e-300) goto next;
            for (int j = 0; j < np; j++) {
                double t = A[col][j];
                A[col][j] = A[piv][j];
                A[piv][j] = t;
            }
            double t = bv[col];
            bv[col] = bv[piv];
            bv[piv] = t;
            for (int i = col + 1; i < np; i++) {
                double fct = A[i][col] / A[col][col];
                for (int j = col; j < np; j++) A[i][j] -= fct * A[col][j];
                bv[i] -= fct * bv[col];
            }
        }
        for (int i = np - 1; i >= 0; i--) {
            double s = bv[i];
            for (int j = i + 1; j < np; j++) s -= A[i][j] * c[j];
            c[i] = s / A[i][i];
        }
        {
            double rss = 0.0;
            for (int m = mmin; m <= mmax; m++) {
                double e = c[0] + c[1] * m + (np == 3 ? c[2] * __builtin_popcount((unsigned)(m % u)) : 0.0) - ns[m];
                rss += e * e;
            }
            if (u == 1) rss1 = rss;
            if (rss < best_rss && (u == 1 || (c[2] > 0 && rss < 0.75 * rss1))) {
                best_rss = rss;
                tile = u;
            }
        }
    next:;
    }
    return tile;
}

/* Times M x 512 x 512 products for M = 5..HW_GEMM_ROWS_MAX (the blocked GEMMs: fewer rows run
 * as matrix-vector products, OPS_GEMV_ROWS) through op_exec (ns per weight element; the
 * weights rotate over 8 copies, 8 MiB, so that they come from the last-level cache as in a
 * model). Seven rounds visit every M in turn, so that a busy spell of the machine falls on
 * one round of many M rather than on all the rounds of one; each M keeps its fastest round
 * after the first (a warm-up). Then picks the kernel's tile rows (hw_gemm_tile_pick). */
static SimStatus measure_gemm_tile(double ns[HW_GEMM_ROWS_MAX + 1], int *tile, SimError *err) {
    enum { K = 512, N = 512, NW = 8, MMIN = OPS_GEMV_ROWS + 1, MMAX = HW_GEMM_ROWS_MAX, ROUNDS = 7 };
    *tile = 1;
    for (int m = 0; m <= MMAX; m++) ns[m] = INFINITY;
    size_t bytes = (size_t)(MMAX * K + NW * N * K + MMAX * N) * sizeof(float) + 16384;
    Run r;
    if (kernel_run_open(&r, bytes, "calibrate.gemm_rows", err) != SIM_OK) return err->code;
    Tensor x = run_tensor(&r, MMAX, K), y = run_tensor(&r, MMAX, N), w[NW];
    for (int i = 0; i < NW; i++) w[i] = run_tensor(&r, N, K);
    if (err->code == SIM_OK) {
        for (int64_t i = 0; i < (int64_t)MMAX * K; i++) x.data[i] = 0.001f * (float)(i % 13);
        for (int j = 0; j < NW; j++)
            for (int64_t i = 0; i < (int64_t)N * K; i++) w[j].data[i] = 0.002f * (float)((i + j) % 7);
        for (int t = 0; t < ROUNDS && err->code == SIM_OK; t++)
            for (int m = MMIN; m <= MMAX && err->code == SIM_OK; m++) {
                OpArgs args;
                memset(&args, 0, sizeof args);
                args.x = x;
                args.x.rows = m;
                args.y = y;
                args.y.rows = m;
                double t0 = now_ms();
                for (int q = 0; q < NW; q++) {
                    args.w = w[q];
                    op_exec(&r, OP_LINEAR, &args);
                }
                double v = (now_ms() - t0) / NW * 1e6 / ((double)N * K);
                if (t > 0 && v < ns[m]) ns[m] = v;
            }
    }
    kernel_run_close(&r);
    if (err->code != SIM_OK) return err->code;
    *tile = hw_gemm_tile_pick(ns, MMIN, MMAX);
    return SIM_OK;
}

/* ---- host: matrix-vector products from DRAM, by row length ---- */

/* Row lengths (floats) of the stream curve: every 32 up to 1024 (the model widths), then
 * longer rows up to 4096; quick: every 64. */
static int stream_points(int quick, int k[HW_STREAM_POINTS]) {
    int n = 0;
    for (int K = quick ? 64 : 32; K <= 1024 && n < HW_STREAM_POINTS; K += quick ? 64 : 32) k[n++] = K;
    static const int longer[] = {1280, 1536, 2048, 3072, 4096};
    for (size_t i = 0; i < sizeof longer / sizeof longer[0] && n < HW_STREAM_POINTS; i++)
        k[n++] = longer[i];
    return n;
}

#define STREAM_ROUNDS_MAX 8

/* One matrix of 4x the usable LLC (at least 64 MiB) read as N x K weights for each K of the
 * curve, through op_exec as a one-row product (the engine's matrix-vector path); a round
 * times every K as a config's round is timed (products for budget_ms, at least 3, their
 * median), its points spread between the configs of a round, so that the curve sees the
 * machine as they do. */
typedef struct {
    Run r;
    Tensor w, x, y;
    int64_t floats;
    int n, k[HW_STREAM_POINTS];
    double budget_ms;
    int rounds;
    double ns[HW_STREAM_POINTS][STREAM_ROUNDS_MAX]; /* ns per row, per round */
} StreamBench;

static SimStatus stream_open(StreamBench *b, double llc_kib, int quick, SimError *err) {
    memset(b, 0, sizeof *b);
    b->budget_ms = quick ? 60.0 : 150.0; /* as time_set's rounds */
    int64_t bytes = (int64_t)(4.0 * llc_kib * 1024.0);
    if (bytes < ((int64_t)64 << 20)) bytes = (int64_t)64 << 20;
    if (bytes > ((int64_t)512 << 20)) bytes = (int64_t)512 << 20;
    b->floats = bytes / (int64_t)sizeof(float) / 4096 * 4096;
    b->n = stream_points(quick, b->k);
    int64_t ymax = b->floats / b->k[0];
    size_t need = (size_t)(b->floats + 4096 + ymax) * sizeof(float) + 16384;
    if (kernel_run_open(&b->r, need, "calibrate.stream", err) != SIM_OK) return err->code;
    b->w = run_tensor(&b->r, b->floats / 4096, 4096);
    b->x = run_tensor(&b->r, 1, 4096);
    b->y = run_tensor(&b->r, 1, ymax);
    if (err->code != SIM_OK) {
        kernel_run_close(&b->r);
        return err->code;
    }
    for (int64_t i = 0; i < b->floats; i++) b->w.data[i] = 0.002f * (float)(i % 7);
    for (int64_t i = 0; i < 4096; i++) b->x.data[i] = 0.001f * (float)(i % 13);
    return SIM_OK;
}

static void stream_close(StreamBench *b) { kernel_run_close(&b->r); }

/* Points [from, to) of the current round; the round ends with stream_round_end. */
static SimStatus stream_points_time(StreamBench *b, int from, int to, SimError *err) {
    if (b->rounds >= STREAM_ROUNDS_MAX) return SIM_OK;
    for (int i = from; i < to && i < b->n; i++) {
        int64_t K = b->k[i], N = b->floats / K;
        OpArgs a;
        memset(&a, 0, sizeof a);
        a.x = tensor_make(b->x.data, 1, K);
        a.w = tensor_make(b->w.data, N, K);
        a.y = tensor_make(b->y.data, 1, N);
        enum { CALLS_MAX = 64 };
        double t[CALLS_MAX], start = now_ms();
        int nc = 0;
        while (nc < CALLS_MAX && (nc < 3 || now_ms() - start < b->budget_ms)) {
            double t0 = now_ms();
            if (op_exec(&b->r, OP_LINEAR, &a) != SIM_OK) return err->code;
            t[nc++] = now_ms() - t0;
        }
        qsort(t, (size_t)nc, sizeof t[0], cmp_double);
        b->ns[i][b->rounds] = quantile_sorted(t, nc, 0.5) * 1e6 / (double)N;
    }
    return SIM_OK;
}

static void stream_round_end(StreamBench *b) {
    if (b->rounds < STREAM_ROUNDS_MAX) b->rounds++;
}

/* Least-squares non-decreasing fit of v[0..n) in place (pool adjacent violators). */
void hw_isotonic(double *v, int n) {
    if (n < 2) return;
    double *sum = malloc((size_t)n * sizeof *sum);
    int *cnt = malloc((size_t)n * sizeof *cnt);
    if (sum == NULL || cnt == NULL) {
        /* without memory, the running maximum: also non-decreasing */
        for (int i = 1; i < n; i++)
            if (v[i] < v[i - 1]) v[i] = v[i - 1];
        free(sum);
        free(cnt);
        return;
    }
    int nb = 0;
    for (int i = 0; i < n; i++) {
        sum[nb] = v[i];
        cnt[nb++] = 1;
        while (nb > 1 && sum[nb - 2] * cnt[nb - 1] > sum[nb - 1] * cnt[nb - 2]) {
            sum[nb - 2] += sum[nb - 1];
            cnt[nb - 2] += cnt[nb - 1];
            nb--;
        }
    }
    for (int b = 0, i = 0; b < nb; b++)
        for (int j = 0; j < cnt[b]; j++) v[i++] = sum[b] / cnt[b];
    free(sum);
    free(cnt);
}

/* The curve: per row length the quietest round (other tenants only slow a stream down),
 * then the least-squares non-decreasing fit through them (hw_isotonic): a longer row never
 * costs less. Not a running maximum: rows of a whole page stream faster than rows just
 * short of it (on an AMD EPYC 4 KiB rows cost 194 ns, 3.75-3.875 KiB rows 219), and a running
 * maximum would charge the page-long rows, a common width (d = 1024, FFN of 256), 13 %
 * more than measured; the fit shares the step between them (205-211 ns). */
static void stream_curve(const StreamBench *b, HwHostMeasure *m) {
    m->nstream = 0;
    if (b->rounds < 1) return;
    for (int i = 0; i < b->n; i++) {
        double best = INFINITY;
        for (int r = 0; r < b->rounds; r++)
            if (b->ns[i][r] < best) best = b->ns[i][r];
        m->stream_row_bytes[i] = 4.0 * b->k[i];
        m->stream_row_ns[i] = best;
    }
    hw_isotonic(m->stream_row_ns, b->n);
    m->nstream = b->n;
}

/* With a stream curve, dram_short_efficiency and dram_short_row_ns become the least-squares
 * line through its points of rows shorter than a page (ns = row_ns + bytes / (dram_gbs *
 * efficiency)), so that the profile still reads right where the curve is not used. */
static void stream_short_line(HwProfile *p) {
    double n = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    for (int i = 0; i < p->nstream; i++) {
        double x = p->stream_row_bytes[i], y = p->stream_row_ns[i];
        if (x >= HW_STREAM_PAGE) continue;
        n++;
        sx += x;
        sy += y;
        sxx += x * x;
        sxy += x * y;
    }
    double det = n * sxx - sx * sx;
    if (n < 2 || !(det > 0)) return;
    double b = (n * sxy - sx * sy) / det, a = (sy - b * sx) / n;
    if (!(b > 0)) return;
    double eff = 1.0 / (b * p->dram_gbs); /* b ns per byte: 1/b GB/s */
    p->model.dram_short_efficiency = eff < 1.0 ? eff : 1.0;
    p->model.dram_short_row_ns = a > 1e-4 ? a : 1e-4;
    const char *why = "the least-squares line through dram_stream's rows shorter than 4 KiB "
                      "(ns per row = dram_short_row_ns + bytes / (dram_gbs * "
                      "dram_short_efficiency)); predictions use the curve itself";
    hw_profile_set_source(p, "model.dram_short_efficiency", HW_SRC_MEASURED, "%s", why);
    hw_profile_set_source(p, "model.dram_short_row_ns", HW_SRC_MEASURED, "%s", why);
}

/* ---- built-in configs ---- */

typedef struct {
    char fam;   /* 'T' transformer, 'D' Lite dynamic conv + GLU, 'L' Lite lightweight conv,
                   'E' Evolved Transformer (3 + 4 cells) */
    short d;
    short layers;
    short S, T; /* generate: T steps */
    int vocab;
    unsigned char gen; /* generate mode */
    unsigned char beam;
} GridPoint;

/* Calibration grid: configs that the validation set does not hold (each differs from every
 * validation config in its depth, lengths or vocabulary). Its widths mix odd multiples of 32
 * with multiples of 64 and powers of two, as real models do: BLAS kernels run measurably
 * slower on power-of-two leading dimensions (cache-set conflicts), so a grid without them
 * biases the fit. Its lengths cover every residue mod 4 about equally (products of M rows
 * run in passes of the kernel's tile rows plus remainder passes, gemm_remainder_rows). Its
 * beams cover 2, 3 and 4 rows per decoder step (products of up to OPS_GEMV_ROWS rows run as
 * matrix-vector products, re-reading each block of weights: gemv_reuse_gbs), two of them at
 * beam 2 with most of every step's weights from DRAM (Evolved d = 544 and Transformer
 * d = 896 at 188 and 119 MB a step: gemv_reuse_dram_gbs, which the first alone left at a
 * relative standard error of 25-55 %). Its
 * generate configs span decoder steps of a few MB of weights (resident in the LLC: llc_gbs)
 * to over 100 MB (streamed from DRAM: dram_efficiency, dram_row_ns), with short and long
 * weight rows, and none of 20-30 MB (the LLC of the shared server the grid was tuned on),
 * where whether a step's weights stay resident depends on what else the machine runs. Its
 * forward widths reach down to 128 (products with inner dimensions of 64-128, which a grid
 * from 160 up predicted from wider ones: the width-128 configs came out 43-62 % too slow)
 * and it has few-row passes of wide layers. */
static const GridPoint calib_grid[] = {
    {'T', 160, 6, 15, 15, 8192, 0, 1},   {'T', 256, 4, 40, 40, 8192, 0, 1},
    {'T', 288, 6, 9, 9, 32768, 0, 1},    {'T', 384, 4, 66, 66, 8192, 0, 1},
    {'T', 416, 4, 97, 97, 32768, 0, 1},  {'T', 512, 3, 24, 24, 32768, 0, 1},
    {'T', 544, 4, 13, 13, 32768, 0, 1},  {'T', 640, 2, 62, 62, 8192, 0, 1},
    {'T', 768, 2, 16, 16, 32768, 0, 1},  {'T', 896, 2, 94, 94, 8192, 0, 1},
    {'T', 1024, 1, 43, 43, 8192, 0, 1},  {'D', 160, 6, 42, 42, 8192, 0, 1},
    {'D', 256, 4, 120, 120, 8192, 0, 1}, {'D', 288, 6, 14, 14, 32768, 0, 1},
    {'D', 384, 4, 67, 67, 8192, 0, 1},   {'D', 480, 4, 8, 8, 8192, 0, 1},
    {'D', 512, 3, 93, 93, 8192, 0, 1},   {'D', 640, 3, 25, 25, 32768, 0, 1},
    {'D', 800, 3, 64, 64, 8192, 0, 1},   {'D', 1024, 2, 39, 39, 32768, 0, 1},
    {'L', 160, 6, 7, 7, 8192, 0, 1},     {'L', 256, 4, 26, 26, 32768, 0, 1},
    {'L', 352, 6, 96, 96, 8192, 0, 1},   {'L', 512, 3, 37, 37, 8192, 0, 1},
    {'L', 608, 4, 121, 121, 8192, 0, 1}, {'L', 768, 2, 19, 19, 32768, 0, 1},
    {'L', 1024, 1, 64, 64, 8192, 0, 1},  {'T', 160, 6, 23, 17, 8192, 1, 1},
    {'T', 256, 4, 15, 38, 32768, 1, 1},  {'T', 512, 3, 41, 25, 8192, 1, 2},
    {'T', 896, 2, 15, 17, 8192, 1, 2},   {'D', 224, 6, 41, 25, 8192, 1, 1},
    {'D', 512, 3, 15, 38, 32768, 1, 3},  {'D', 1024, 2, 23, 17, 8192, 1, 1},
    {'L', 384, 4, 63, 25, 32768, 1, 1},   {'L', 640, 3, 23, 38, 8192, 1, 4},
    {'L', 288, 4, 9, 66, 32768, 1, 1},
    {'E', 160, 0, 22, 22, 8192, 0, 1},   {'E', 288, 0, 41, 41, 32768, 0, 1},
    {'E', 448, 0, 13, 13, 8192, 0, 1},   {'E', 640, 0, 64, 64, 8192, 0, 1},
    {'E', 896, 0, 30, 30, 8192, 0, 1},   {'E', 224, 0, 25, 17, 8192, 1, 1},
    {'E', 544, 0, 15, 23, 32768, 1, 2},  {'T', 128, 3, 27, 19, 8192, 1, 1},
    {'D', 160, 4, 13, 33, 8192, 1, 1},   {'L', 192, 3, 22, 27, 8192, 1, 1},
    {'T', 320, 4, 19, 22, 32768, 1, 1},  {'E', 160, 0, 17, 21, 8192, 1, 1},
    {'T', 128, 4, 13, 13, 8192, 0, 1},   {'L', 128, 3, 18, 18, 8192, 0, 1},
    {'D', 1024, 1, 9, 9, 8192, 0, 1},
};
#define CALIB_N ((int)(sizeof calib_grid / sizeof calib_grid[0]))

/* Validation set: the three families (Transformer; Lite Transformer with dynamic and with
 * lightweight convolutions; Evolved Transformer), widths 128-1024, lengths 10-100 (some
 * S != T), forward and generate (greedy and beam), none in the calibration grid. */
static const GridPoint valid_set[] = {
    {'T', 128, 6, 10, 10, 8192, 0, 1},    {'T', 128, 6, 100, 100, 32768, 0, 1},
    {'T', 192, 6, 30, 30, 8192, 0, 1},    {'T', 256, 6, 20, 20, 32768, 0, 1},
    {'T', 256, 6, 75, 75, 8192, 0, 1},    {'T', 320, 6, 45, 45, 8192, 0, 1},
    {'T', 384, 6, 30, 50, 32768, 0, 1},   {'T', 448, 4, 60, 60, 8192, 0, 1},
    {'T', 512, 4, 10, 10, 8192, 0, 1},    {'T', 512, 4, 90, 90, 32768, 0, 1},
    {'T', 640, 3, 30, 30, 8192, 0, 1},    {'T', 768, 3, 50, 50, 8192, 0, 1},
    {'T', 1024, 2, 20, 20, 32768, 0, 1},  {'T', 1024, 2, 60, 60, 8192, 0, 1},
    {'D', 128, 6, 30, 30, 32768, 0, 1},   {'D', 192, 6, 100, 100, 8192, 0, 1},
    {'D', 256, 6, 10, 10, 8192, 0, 1},    {'D', 320, 6, 60, 60, 32768, 0, 1},
    {'D', 384, 6, 20, 20, 8192, 0, 1},    {'D', 448, 6, 75, 75, 8192, 0, 1},
    {'D', 512, 4, 30, 30, 32768, 0, 1},   {'D', 576, 4, 90, 90, 8192, 0, 1},
    {'D', 640, 4, 45, 30, 8192, 0, 1},    {'D', 768, 3, 100, 100, 32768, 0, 1},
    {'D', 1024, 3, 30, 30, 8192, 0, 1},   {'L', 128, 6, 20, 20, 8192, 0, 1},
    {'L', 192, 6, 45, 45, 32768, 0, 1},   {'L', 256, 6, 90, 90, 8192, 0, 1},
    {'L', 320, 6, 10, 10, 8192, 0, 1},    {'L', 384, 6, 60, 60, 32768, 0, 1},
    {'L', 512, 4, 75, 75, 8192, 0, 1},    {'L', 640, 4, 20, 20, 8192, 0, 1},
    {'L', 768, 3, 30, 45, 32768, 0, 1},   {'L', 1024, 2, 100, 100, 8192, 0, 1},
    {'T', 128, 6, 30, 30, 8192, 1, 1},    {'T', 256, 6, 20, 50, 32768, 1, 1},
    {'T', 512, 4, 30, 30, 8192, 1, 4},    {'T', 768, 3, 10, 20, 8192, 1, 1},
    {'T', 1024, 2, 50, 30, 8192, 1, 1},   {'D', 192, 6, 30, 45, 8192, 1, 1},
    {'D', 384, 6, 60, 30, 32768, 1, 1},   {'D', 640, 4, 30, 20, 8192, 1, 4},
    {'D', 1024, 3, 20, 10, 8192, 1, 1},   {'L', 256, 6, 45, 30, 8192, 1, 1},
    {'L', 512, 4, 10, 60, 32768, 1, 1},   {'L', 768, 3, 100, 20, 8192, 1, 2},
    {'E', 128, 0, 30, 30, 32768, 0, 1},   {'E', 256, 0, 60, 60, 8192, 0, 1},
    {'E', 384, 0, 20, 20, 8192, 0, 1},    {'E', 512, 0, 45, 45, 32768, 0, 1},
    {'E', 768, 0, 90, 90, 8192, 0, 1},    {'E', 1024, 0, 10, 10, 8192, 0, 1},
    {'E', 192, 0, 30, 30, 8192, 1, 1},    {'E', 512, 0, 20, 20, 8192, 1, 1},
    {'E', 768, 0, 45, 20, 8192, 1, 2},
};
#define VALID_N ((int)(sizeof valid_set / sizeof valid_set[0]))

/* YAML text and a name for a grid point. */
static void grid_yaml(const GridPoint *g, char *yaml, size_t n, char *name, size_t nn) {
    int d = g->d, L = g->layers, V = g->vocab;
    if (g->fam == 'E') { /* Evolved Transformer: 3 encoder and 4 decoder cells (layers unused) */
        int h = d < 256 ? 4 : 8;
        snprintf(name, nn, "evolved-d%d-V%d", d, V);
        snprintf(yaml, n,
                 "arch: evolved_transformer\nvocab-size: %d\nencoder-embed-dim: %d\n"
                 "encoder-attention-heads: %d\ndecoder-attention-heads: %d\n",
                 V, d, h, h);
        return;
    }
    if (g->fam == 'T') {
        int h = d < 256 ? 4 : 8;
        snprintf(name, nn, "transformer-d%d-L%d-V%d", d, L, V);
        snprintf(yaml, n,
                 "arch: transformer\n"
                 "encoder-embed-dim: %d\nencoder-ffn-embed-dim: %d\nencoder-layers: %d\n"
                 "encoder-attention-heads: %d\n"
                 "decoder-embed-dim: %d\ndecoder-ffn-embed-dim: %d\ndecoder-layers: %d\n"
                 "decoder-attention-heads: %d\n"
                 "share-all-embeddings: true\nvocab-size: %d\n",
                 d, 4 * d, L, h, d, 4 * d, L, h, V);
    } else {
        int dyn = g->fam == 'D', h = d < 512 ? 4 : 8, c = d / 2;
        snprintf(name, nn, "lite-%s-d%d-L%d-V%d", dyn ? "dynamic" : "lightweight", d, L, V);
        snprintf(yaml, n,
                 "arch: transformer_multibranch_v2\n"
                 "encoder-embed-dim: %d\nencoder-ffn-embed-dim: %d\nencoder-layers: %d\n"
                 "decoder-embed-dim: %d\ndecoder-ffn-embed-dim: %d\ndecoder-layers: %d\n"
                 "encoder-attention-heads: %d\ndecoder-attention-heads: %d\n"
                 "encoder-branch-type: [attn:1:%d:%d, %s:default:%d:%d]\n"
                 "decoder-branch-type: [attn:1:%d:%d, %s:default:%d:%d]\n"
                 "encoder-glu: %d\ndecoder-glu: %d\nconv-linear: true\n"
                 "share-all-embeddings: true\nvocab-size: %d\n",
                 d, d, L, d, d, L, h, h, c, h, dyn ? "dynamic" : "lightweight", c, h, c, h,
                 dyn ? "dynamic" : "lightweight", c, h, dyn, dyn, V);
    }
}

static int set_config(const GridPoint *set, int nset, int i, char *yaml, size_t n, char *name,
                      size_t nn, int64_t *src_len, int64_t *tgt_len, const char **mode,
                      int *beam) {
    if (i < 0 || i >= nset) return -1;
    grid_yaml(&set[i], yaml, n, name, nn);
    *src_len = set[i].S;
    *tgt_len = set[i].T;
    if (mode) *mode = set[i].gen ? "generate" : "forward";
    if (beam) *beam = set[i].beam;
    return 0;
}

int hw_validation_set_size(void) { return VALID_N; }
int hw_calibration_set_size(void) { return CALIB_N; }

int hw_validation_config(int i, char *yaml, size_t n, char *name, size_t nn, int64_t *src_len,
                         int64_t *tgt_len, const char **mode, int *beam) {
    return set_config(valid_set, VALID_N, i, yaml, n, name, nn, src_len, tgt_len, mode, beam);
}

int hw_calibration_config(int i, char *yaml, size_t n, char *name, size_t nn, int64_t *src_len,
                          int64_t *tgt_len, const char **mode, int *beam) {
    return set_config(calib_grid, CALIB_N, i, yaml, n, name, nn, src_len, tgt_len, mode, beam);
}

/* ---- host: timing a set of configs ---- */

typedef struct {
    const GridPoint *g;
    char name[96];
    ModelConfig cfg;
    RunResult res;          /* the last round's run; its ledgers get the best round's times */
    const CostLedger **lp;  /* hw_run_ledgers(&res) */
    int nl;
    double *ms;             /* (maxr, reps) every timed pass, round after round */
    double *rmed;           /* (maxr) median of each round */
    double *opr;            /* (nent, maxr) per-operator time of each round, ms */
    double *srch;           /* (maxr) generate: the search's time of each round (per step, the
                               median over the round's passes) */
    size_t nent;
    int rounds;
    int reps;
    int best;               /* the quietest round */
    double median_ms, spread;
    int done;
    CostLedger **own;       /* replayed runs: the ledgers read from the dump (lp's targets) */
} Timed;

static void timed_free(Timed *t, int n) {
    for (int i = 0; t && i < n; i++) {
        for (int k = 0; t[i].own && k < t[i].nl; k++) cost_ledger_close(t[i].own[k]);
        free(t[i].own);
        runner_result_free(&t[i].res);
        free(t[i].lp);
        free(t[i].ms);
        free(t[i].rmed);
        free(t[i].opr);
        free(t[i].srch);
    }
    free(t);
}

static RunSpec timed_spec(const Timed *t, int threads, int warmup, int reps) {
    RunSpec s;
    memset(&s, 0, sizeof s);
    /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): timed_open sets g */
    s.src_len = t->g->S;
    s.tgt_len = t->g->T;
    s.seed = 1;
    s.threads = threads;
    s.warmup = warmup;
    s.repeats = reps;
    if (t->g->gen) {
        s.mode = MODE_GENERATE;
        s.beam = t->g->beam;
        s.max_steps = t->g->T;
        s.no_early_stop = 1;
    }
    return s;
}

static size_t run_entries(const CostLedger *const *l, int n) {
    size_t k = 0;
    for (int i = 0; i < n; i++) k += cost_ledger_count(l[i]);
    return k;
}

/* With LTSIM_HW_DUMP=FILE, appends every timed run and its operators to FILE (tab-separated;
 * for studying the model offline): R name mode S T beam median_ms spread, Q name search_ms
 * (generate), U name and every round's median_ms (timed, not replayed), then
 * O name ledger entry op dims0 dims1 dims2 macs other_flops weight_bytes act_read written calls
 * measured_ms per operator. */
static void dump_set(const Timed *t, int n) {
    const char *path = getenv("LTSIM_HW_DUMP");
    if (path == NULL || *path == '\0') return;
    FILE *f = fopen(path, "a");
    if (f == NULL) return;
    for (int i = 0; i < n; i++) {
        const Timed *x = &t[i];
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): timed_open sets g */
        fprintf(f, "R\t%s\t%s\t%d\t%d\t%d\t%.6f\t%.4f\n", x->name, x->g->gen ? "generate" : "forward",
                x->g->S, x->g->T, x->g->beam, x->median_ms, x->spread);
        if (x->g->gen && x->srch) fprintf(f, "Q\t%s\t%.6f\n", x->name, x->srch[x->best]);
        if (x->rmed != NULL) { /* every round's median, in the order timed */
            fprintf(f, "U\t%s", x->name);
            for (int r = 0; r < x->rounds; r++) fprintf(f, "\t%.4f", x->rmed[r]);
            fputc('\n', f);
        }
        for (int k = 0; k < x->nl; k++)
            for (size_t e = 0; e < cost_ledger_count(x->lp[k]); e++) {
                const LedgerEntry *le = cost_ledger_get(x->lp[k], e);
                fprintf(f,
                        "O\t%s\t%d\t%zu\t%d\t%lld\t%lld\t%lld\t%llu\t%llu\t%llu\t%llu\t%llu\t%llu\t%.6f\t%s\n",
                        x->name, k, e, le->op, (long long)le->dims[0], (long long)le->dims[1],
                        (long long)le->dims[2], (unsigned long long)le->cost.macs,
                        (unsigned long long)le->cost.other_flops,
                        (unsigned long long)le->cost.weight_bytes,
                        (unsigned long long)le->cost.act_bytes_read,
                        (unsigned long long)le->cost.bytes_written,
                        (unsigned long long)le->calls, (double)le->time_ns * 1e-6, le->scope);
            }
    }
    fclose(f);
}

/* Splits line (modified in place) at tabs into at most max fields; returns the count. */
static int split_tabs(char *line, char **f, int max) {
    int n = 0;
    char *c = line;
    while (n < max) {
        f[n++] = c;
        char *t = strchr(c, '\t');
        if (t == NULL) break;
        *t = '\0';
        c = t + 1;
    }
    size_t l = strlen(f[n - 1]);
    while (l > 0 && (f[n - 1][l - 1] == '\n' || f[n - 1][l - 1] == '\r')) f[n - 1][--l] = '\0';
    return n;
}

/* LTSIM_HW_REPLAY=FILE (a file LTSIM_HW_DUMP wrote): instead of timing, every config of t
 * takes its run from FILE (the first R line with its name, mode and lengths, its O lines as
 * its ledgers with their measured times, its Q line as its search time), so that the model
 * and the fit can be studied on a calibration's measurements without timing again. */
static SimStatus replay_set(Timed *t, int n, const char *path, SimError *err) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return sim_errorf(err, SIM_EIO, "%s: %s", path, strerror(errno));
    char line[4096];
    int cur = -1, lineno = 0;
    SimStatus rc = SIM_OK;
    while (rc == SIM_OK && fgets(line, sizeof line, f)) {
        lineno++;
        char *fl[17];
        int nf = split_tabs(line, fl, 17);
        if (fl[0][0] == 'R' && nf >= 8) {
            cur = -1;
            for (int i = 0; i < n; i++) {
                /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): timed_open sets g */
                const GridPoint *g = t[i].g;
                if (t[i].done || strcmp(t[i].name, fl[1]) != 0 ||
                    strcmp(fl[2], g->gen ? "generate" : "forward") != 0 || atoi(fl[3]) != g->S ||
                    atoi(fl[4]) != g->T || atoi(fl[5]) != g->beam)
                    continue;
                cur = i;
                t[i].done = 1;
                t[i].rounds = 1;
                t[i].best = 0;
                t[i].median_ms = strtod(fl[6], NULL);
                t[i].spread = strtod(fl[7], NULL);
                t[i].srch = calloc(1, sizeof *t[i].srch);
                if (t[i].srch == NULL) rc = sim_errorf(err, SIM_ENOMEM, "out of memory replaying");
                break;
            }
        } else if (fl[0][0] == 'Q' && nf >= 3 && cur >= 0 && strcmp(fl[1], t[cur].name) == 0) {
            /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): set with cur */
            t[cur].srch[0] = strtod(fl[2], NULL);
        } else if (fl[0][0] == 'O' && nf >= 16 && cur >= 0 && strcmp(fl[1], t[cur].name) == 0) {
            Timed *x = &t[cur];
            int k = atoi(fl[2]);
            if (k < 0 || k > 100000) {
                rc = sim_errorf(err, SIM_EINVAL, "%s:%d: bad ledger index '%s'", path, lineno, fl[2]);
                break;
            }
            if (k >= x->nl) {
                CostLedger **o = realloc(x->own, (size_t)(k + 1) * sizeof(CostLedger *));
                if (o == NULL) {
                    rc = sim_errorf(err, SIM_ENOMEM, "out of memory replaying");
                    break;
                }
                x->own = o;
                for (int j = x->nl; j <= k; j++) {
                    x->own[j] = cost_ledger_open(err);
                    if (x->own[j] == NULL) {
                        x->nl = j;
                        rc = err->code;
                        break;
                    }
                }
                if (rc != SIM_OK) break;
                x->nl = k + 1;
            }
            OpCost c = {0};
            c.macs = strtoull(fl[8], NULL, 10);
            c.other_flops = strtoull(fl[9], NULL, 10);
            c.weight_bytes = strtoull(fl[10], NULL, 10);
            c.act_bytes_read = strtoull(fl[11], NULL, 10);
            c.bytes_written = strtoull(fl[12], NULL, 10);
            uint64_t calls = strtoull(fl[13], NULL, 10);
            uint64_t ns = (uint64_t)llround(strtod(fl[14], NULL) * 1e6);
            int op = atoi(fl[4]);
            rc = cost_ledger_add(x->own[k], fl[15], op, CLASS_NORM_OTHER, &c, ns, err);
            OpCost z = {0};
            for (uint64_t q = 1; rc == SIM_OK && q < calls; q++)
                rc = cost_ledger_add(x->own[k], fl[15], op, CLASS_NORM_OTHER, &z, 0, err);
            int64_t dims[3] = {strtoll(fl[5], NULL, 10), strtoll(fl[6], NULL, 10),
                               strtoll(fl[7], NULL, 10)};
            if (rc == SIM_OK) cost_ledger_set_dims(x->own[k], fl[15], op, dims);
        }
    }
    fclose(f);
    for (int i = 0; rc == SIM_OK && i < n; i++) {
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): timed_open sets g */
        if (!t[i].done || t[i].nl < 1)
            return sim_errorf(err, SIM_EINVAL, "%s: no run of %s (%s, S=%d, T=%d, beam %d)", path,
                              t[i].name, t[i].g->gen ? "generate" : "forward", t[i].g->S,
                              t[i].g->T, t[i].g->beam);
        t[i].lp = malloc((size_t)t[i].nl * sizeof(const CostLedger *));
        if (t[i].lp == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory replaying");
        for (int k = 0; k < t[i].nl; k++) t[i].lp[k] = t[i].own[k];
    }
    return rc;
}

/* The replay's machine measurements: the M line (llc_kib dram_gbs sgemm_gflops tile) and the
 * C lines (the stream curve: row_bytes ns_per_row), if any (CR lines, each round's value,
 * are for reading). */
static SimStatus replay_measure(const char *path, HwHostMeasure *m, SimError *err) {
    FILE *f = fopen(path, "r");
    if (f == NULL) return sim_errorf(err, SIM_EIO, "%s: %s", path, strerror(errno));
    char line[4096];
    int found = 0;
    m->nstream = 0;
    while (fgets(line, sizeof line, f)) {
        char *fl[6];
        int nf = split_tabs(line, fl, 6);
        if (nf >= 3 && strcmp(fl[0], "C") == 0 && m->nstream < HW_STREAM_POINTS) {
            m->stream_row_bytes[m->nstream] = strtod(fl[1], NULL);
            m->stream_row_ns[m->nstream++] = strtod(fl[2], NULL);
        }
        if (found || line[0] != 'M' || nf < 5) continue;
        m->llc_kib = strtod(fl[1], NULL);
        m->dram_gbs = strtod(fl[2], NULL);
        m->sgemm_gflops = strtod(fl[3], NULL);
        m->gemm_tile = atoi(fl[4]);
        found = 1;
    }
    fclose(f);
    char msg[160];
    if (m->nstream != 0 &&
        hw_stream_check(m->stream_row_bytes, m->stream_row_ns, m->nstream, msg, sizeof msg) != 0)
        return sim_errorf(err, SIM_EINVAL, "%s: C lines (the stream curve): %s", path, msg);
    if (!found || !(m->llc_kib > 0) || !(m->dram_gbs > 0) || !(m->sgemm_gflops > 0) ||
        m->gemm_tile < 1)
        return sim_errorf(err, SIM_EINVAL, "%s: no valid M line (llc_kib dram_gbs sgemm_gflops "
                                           "tile)",
                          path);
    return SIM_OK;
}

/* With LTSIM_HW_DUMP, appends the prediction of every operator of a validated run: P name
 * ledger entry predicted_ms compute_ms memory_ms overhead_ms (after its R and O lines). */
static void dump_prediction(const HwProfile *p, const Timed *x, const HwPredictOptions *po) {
    const char *path = getenv("LTSIM_HW_DUMP");
    if (path == NULL || *path == '\0') return;
    HwPrediction pr;
    SimError err;
    sim_error_init(&err);
    if (hw_predict(p, x->lp, x->nl, po, &pr, &err) != SIM_OK) {
        hw_prediction_free(&pr);
        return;
    }
    FILE *f = fopen(path, "a");
    if (f != NULL) {
        size_t i = 0;
        for (int k = 0; k < x->nl; k++)
            for (size_t e = 0; e < cost_ledger_count(x->lp[k]) && i < pr.nops; e++, i++)
                fprintf(f, "P\t%s\t%d\t%zu\t%.6f\t%.6f\t%.6f\t%.6f\n", x->name, k, e,
                        pr.ops[i].time_ms, pr.ops[i].compute_ms, pr.ops[i].memory_ms,
                        pr.ops[i].overhead_ms);
        fprintf(f, "S\t%s\t%.6f\n", x->name, pr.search_ms);
        fclose(f);
    }
    hw_prediction_free(&pr);
}

int hw_round_order(int at, int n, int nfirst) {
    if (nfirst <= 0 || nfirst >= n) return at;
    int na = nfirst, nb = n - nfirst, a = 0, b = 0, i = 0;
    for (int j = 0; j <= at; j++) {
        int take_a = b >= nb || (a < na && (2 * a + 1) * nb <= (2 * b + 1) * na);
        i = take_a ? a++ : nfirst + b++;
    }
    return i;
}

/* Times every config of t in interleaved rounds: per config and round a warm-up pass and
 * `reps` timed passes (about 150 ms). On a shared machine other tenants only ever slow a run
 * down, and they come and go, so a config's latency is the median of its quietest round;
 * rounds go on until the two quietest rounds agree within 2 % (the median is stable), at
 * least 3 and at most 10 rounds (quick: 2 and 3); on a busy day a third of the configs had
 * not settled after 6. Rounds visit the configs in turn, so that a busy spell falls on
 * several configs rather than on all the rounds of one. The first nfirst configs and the
 * others are two sets (the grid and the validation set) whose configs alternate within a
 * round (hw_round_order), and sb's stream points are spread between them, so that all three
 * see the machine's slow and quiet spells alike: a spell can last half a round, and with one
 * set timed after the other, every generate run of the validation set came out 2-33 % slower
 * than the fit to the grid's predicted. Per-operator times come from the quietest round (the runner's medians over its
 * passes, per operator). */
static SimStatus time_set(Timed *t, int n, int nfirst, const HwCalibOptions *o, StreamBench *sb,
                          SimError *err) {
    const char *replay = getenv("LTSIM_HW_REPLAY");
    if (replay != NULL && *replay != '\0') {
        SimStatus rc = replay_set(t, n, replay, err);
        if (rc != SIM_OK) return rc;
        note(o, "replayed %d runs from %s (LTSIM_HW_REPLAY)", n, replay);
        dump_set(t, n);
        return SIM_OK;
    }
    int quick = o && o->quick;
    int threads = o && o->threads > 0 ? o->threads : 1;
    int maxr = quick ? 3 : 10, minr = quick ? 2 : 3;
    double budget = quick ? 60.0 : 150.0; /* ms of timed passes per config and round */
    SimStatus rc = SIM_OK;
    for (int i = 0; i < n; i++) {
        RunSpec s = timed_spec(&t[i], threads, 1, 1);
        rc = runner_execute(&t[i].cfg, &s, &t[i].res, err);
        if (rc != SIM_OK) return rc;
        double first = t[i].res.median_ms > 0.01 ? t[i].res.median_ms : 0.01;
        runner_result_free(&t[i].res);
        t[i].reps = (int)ceil(budget / first);
        if (t[i].reps < 3) t[i].reps = 3;
        if (t[i].reps > 25) t[i].reps = 25;
        t[i].ms = calloc((size_t)maxr * (size_t)t[i].reps, sizeof *t[i].ms);
        t[i].rmed = calloc((size_t)maxr, sizeof *t[i].rmed);
        t[i].srch = calloc((size_t)maxr, sizeof *t[i].srch);
        if (t[i].ms == NULL || t[i].rmed == NULL || t[i].srch == NULL)
            return sim_errorf(err, SIM_ENOMEM, "out of memory timing");
    }
    for (int round = 0; round < maxr; round++) {
        int active = 0, nactive = 0;
        for (int i = 0; i < n; i++) nactive += !t[i].done;
        for (int at = 0; at < n; at++) {
            Timed *x = &t[hw_round_order(at, n, nfirst)];
            if (x->done) continue;
            /* the stream points of this share of the round */
            if (sb != NULL && (rc = stream_points_time(sb, active * sb->n / nactive,
                                                       (active + 1) * sb->n / nactive, err)) !=
                                  SIM_OK)
                return rc;
            active++;
            runner_result_free(&x->res);
            free(x->lp);
            x->lp = NULL;
            RunSpec s = timed_spec(x, threads, 1, x->reps);
            rc = runner_execute(&x->cfg, &s, &x->res, err);
            if (rc != SIM_OK) return rc;
            x->lp = hw_run_ledgers(&x->res, &x->nl);
            if (x->lp == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory timing");
            size_t ne = run_entries(x->lp, x->nl);
            if (x->opr == NULL) {
                x->nent = ne;
                x->opr = calloc((ne ? ne : 1) * (size_t)maxr, sizeof *x->opr);
                if (x->opr == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory timing");
            }
            if (ne != x->nent) /* generation took another path: cannot happen without EOS */
                return sim_errorf(err, SIM_EIO, "%s: the graph changed between runs", x->name);
            int r = x->rounds++;
            memcpy(x->ms + (size_t)r * x->reps, x->res.ms, (size_t)x->reps * sizeof *x->ms);
            x->rmed[r] = x->res.median_ms;
            for (int64_t st = 0; x->res.step_info && st < x->res.nsteps; st++)
                x->srch[r] += x->res.step_info[st].search_ms;
            /* the rounds keep every config's ledgers, not its weights: 107 models at once
             * held 12.6 GB */
            runner_result_drop_model(&x->res);
            size_t j = 0;
            for (int k = 0; k < x->nl; k++)
                for (size_t e = 0; e < cost_ledger_count(x->lp[k]); e++, j++)
                    x->opr[j * (size_t)maxr + (size_t)r] =
                        (double)cost_ledger_get(x->lp[k], e)->time_ns * 1e-6;
            /* the two quietest rounds */
            double b1 = INFINITY, b2 = INFINITY;
            for (int q = 0; q < x->rounds; q++) {
                if (x->rmed[q] < b1) {
                    b2 = b1;
                    b1 = x->rmed[q];
                    x->best = q;
                } else if (x->rmed[q] < b2) {
                    b2 = x->rmed[q];
                }
            }
            if (x->rounds >= minr && b2 <= 1.02 * b1) x->done = 1;
        }
        if (active == 0) break;
        if (sb != NULL) stream_round_end(sb);
        note(o, "round %d: %d of %d configs timed%s", round + 1, active, n,
             sb != NULL ? " and the stream curve" : "");
    }
    for (int i = 0; i < n; i++) {
        Timed *x = &t[i];
        x->median_ms = x->rmed[x->best];
        double *v = x->ms + (size_t)x->best * x->reps;
        qsort(v, (size_t)x->reps, sizeof *v, cmp_double);
        x->spread = (quantile_sorted(v, x->reps, 0.75) - quantile_sorted(v, x->reps, 0.25)) /
                    x->median_ms;
        if (!x->done)
            note(o, "warning: %s S=%d T=%d: round medians still differ by more than 2%% after "
                    "%d rounds; is the machine busy?",
                 x->name, x->g->S, x->g->T, x->rounds);
        size_t j = 0;
        for (int k = 0; k < x->nl; k++)
            for (size_t e = 0; e < cost_ledger_count(x->lp[k]); e++, j++)
                cost_ledger_set_time((CostLedger *)x->lp[k], e,
                                     (uint64_t)llround(x->opr[j * (size_t)maxr + (size_t)x->best] * 1e6));
    }
    dump_set(t, n);
    return SIM_OK;
}

/* Opens the Timed entries of a set (configs loaded; nothing timed yet). */
static SimStatus timed_open(const GridPoint *set, const int *idx, int n, Timed **out,
                            SimError *err) {
    Timed *t = calloc((size_t)(n ? n : 1), sizeof *t);
    if (t == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory timing");
    for (int i = 0; i < n; i++) {
        t[i].g = &set[idx ? idx[i] : i];
        char yaml[2048];
        grid_yaml(t[i].g, yaml, sizeof yaml, t[i].name, sizeof t[i].name);
        SimStatus rc = config_load_buffer(yaml, strlen(yaml), t[i].name, NULL, &t[i].cfg, err);
        if (rc != SIM_OK) {
            timed_free(t, n);
            return rc;
        }
    }
    *out = t;
    return SIM_OK;
}

/* ---- host profile ---- */

static void cpu_model(char *buf, size_t n) {
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10) == 0 || strncmp(line, "Hardware", 8) == 0 ||
            strncmp(line, "Model", 5) == 0) {
            char *c = strchr(line, ':');
            if (c == NULL) continue;
            c++;
            while (*c == ' ' || *c == '\t') c++;
            size_t l = strlen(c);
            while (l > 0 && (c[l - 1] == '\n' || c[l - 1] == ' ')) c[--l] = '\0';
            snprintf(buf, n, "%s", c);
            break;
        }
    }
    fclose(f);
}

/* Core clock in GHz from /proc/cpuinfo or cpufreq, 0 when neither says. */
static double cpu_ghz(char *how, size_t n) {
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "cpu MHz", 7) == 0) {
                char *c = strchr(line, ':');
                double mhz = c ? strtod(c + 1, NULL) : 0.0;
                if (mhz > 0) {
                    fclose(f);
                    snprintf(how, n, "/proc/cpuinfo 'cpu MHz' at calibration time");
                    return mhz / 1000.0;
                }
            }
        }
        fclose(f);
    }
    f = fopen("/sys/devices/system/cpu/cpu0/cpufreq/cpuinfo_max_freq", "r");
    if (f) {
        double khz = 0.0;
        if (fscanf(f, "%lf", &khz) != 1) khz = 0.0;
        fclose(f);
        if (khz > 0) {
            snprintf(how, n, "cpufreq cpuinfo_max_freq");
            return khz / 1e6;
        }
    }
    return 0.0;
}

/* The host template: every number with a source; measured ones are filled in later. */
static void host_template(HwProfile *p, int threads) {
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "host");
    p->cores = threads;
    hw_profile_set_source(p, "cores", HW_SRC_MEASURED,
                          "threads ltsim ran with during calibration (--threads)");
    char how[128];
    p->clock_ghz = cpu_ghz(how, sizeof how);
    if (p->clock_ghz > 0) {
        hw_profile_set_source(p, "clock_ghz", HW_SRC_MEASURED, "%s", how);
    } else {
        p->clock_ghz = 2.0;
        hw_profile_set_source(p, "clock_ghz", HW_SRC_ESTIMATED,
                              "rule R-HOST-CLOCK (hwprofiles/README.md): the OS reports no clock; "
                              "2 GHz placeholder, not used by the model");
    }
    p->process_nm = 7;
    hw_profile_set_source(p, "process_nm", HW_SRC_ESTIMATED,
                          "rule R-HOST-NODE: a current server core; only the energy estimates "
                          "depend on it");
    long l1 = sysconf(_SC_LEVEL1_DCACHE_SIZE), l2 = sysconf(_SC_LEVEL2_CACHE_SIZE);
    p->l1d_kib = l1 > 0 ? (double)l1 / 1024.0 : 32;
    hw_profile_set_source(p, "l1d_kib", l1 > 0 ? HW_SRC_MEASURED : HW_SRC_ESTIMATED,
                          l1 > 0 ? "reported by sysconf(_SC_LEVEL1_DCACHE_SIZE)"
                                 : "rule R-HOST-CACHE: not reported; 32 KiB placeholder");
    p->l2_kib = l2 > 0 ? (double)l2 / 1024.0 : 512;
    hw_profile_set_source(p, "l2_kib", l2 > 0 ? HW_SRC_MEASURED : HW_SRC_ESTIMATED,
                          l2 > 0 ? "reported by sysconf(_SC_LEVEL2_CACHE_SIZE)"
                                 : "rule R-HOST-CACHE: not reported; 512 KiB placeholder");
    /* energy: Horowitz 45 nm scaled to 7 nm (rules R-E-MAC, R-E-SRAM), DDR (R-E-DRAM) */
    double s = 7.0 / 45.0;
    p->mac_fp32_pj = 4.6 * s;
    p->mac_int8_pj = 0.23 * s;
    p->sram_byte_pj = 2.5 * sqrt(s);
    p->dram_byte_pj = 160;
    hw_profile_set_source(p, "energy.mac_fp32_pj", HW_SRC_ESTIMATED,
                          "rule R-E-MAC: Horowitz ISSCC 2014 45 nm fp32 MAC 4.6 pJ (hardware.md "
                          "2a [E1,E4]) x node/45 at 7 nm");
    hw_profile_set_source(p, "energy.mac_int8_pj", HW_SRC_ESTIMATED,
                          "rule R-E-MAC: Horowitz 45 nm int8 MAC 0.23 pJ (hardware.md 2a [E2,E3]) "
                          "x node/45 at 7 nm");
    hw_profile_set_source(p, "energy.sram_byte_pj", HW_SRC_ESTIMATED,
                          "rule R-E-SRAM: 2.5 pJ/B for a 32 KB array at 45 nm (hardware.md 2a "
                          "[E5]) x sqrt(node/45)");
    hw_profile_set_source(p, "energy.dram_byte_pj", HW_SRC_ESTIMATED,
                          "rule R-E-DRAM: server DDR at 20 pJ/bit, the low end of Horowitz's "
                          "20-40 pJ/bit (hardware.md 2b [E5])");
    p->active_w = 4.0 * threads;
    p->idle_w = 1.0 * threads;
    hw_profile_set_source(p, "power.active_w", HW_SRC_ESTIMATED,
                          "rule R-HOST-POWER: 4 W per busy server core (a 155-500 W socket "
                          "spread over its cores, hardware.md 1b [S24])");
    hw_profile_set_source(p, "power.idle_w", HW_SRC_ESTIMATED,
                          "rule R-IDLE: 25%% of the active power when nothing is published");
    /* priors of the fit */
    p->model.gemm_efficiency = 0.7;
    p->model.gemm_m_half = 16;
    p->model.attention_efficiency = 0.4;
    p->model.conv_efficiency = 0.1;
    p->model.elementwise_efficiency = 0.02;
    p->model.dram_efficiency = 1.0;
    p->model.overhead_us = 1.0;
    p->model.llc_retention = 1.0;
    p->model.gemm_k_half = 64;
    p->model.cache_gbs = 50;
    p->model.loop_overhead_us = 0.1;
    p->model.head_overhead_us = 0.3;
    p->model.search_ns = 10;
    p->model.transcendental_efficiency = 0.008;
    p->model.gemm_tile_rows = 1;
    p->model.gemm_remainder_rows = 4;
    p->model.dram_row_ns = 20;
    p->model.llc_gbs = 50;
    p->model.dispatch_us = 0.2;
    p->model.gemm_m_half_dram = 16;
    p->model.llc_share = 1;
    p->model.llc_share_gemm = 1;
    p->model.dram_short_efficiency = 1.0;
    p->model.dram_short_row_ns = 20;
    p->model.gemv_reuse_gbs = 100;
    p->model.gemv_reuse_dram_gbs = 100;
    p->model.outside_factor = 1;
    p->model.stream_scale = 1;
    hw_profile_set_source(p, "model.llc_retention", HW_SRC_ESTIMATED,
                          "rule R-RETAIN: 1, the weights that fit stay (no grid search yet)");
    hw_profile_set_source(p, "model.outside_factor", HW_SRC_ESTIMATED,
                          "rule R-OUTSIDE: 1, no time between operators beyond dispatch_us "
                          "(not measured yet)");
    for (int k = 0; k < HW_PARAM_COUNT; k++)
        hw_profile_set_source(p, hw_param_key((HwParam)k), HW_SRC_ESTIMATED,
                              "prior of the host calibration (rule R-HOST-PRIOR); the grid did "
                              "not determine it");
}

/* Weight of an operator's own time in the host fit, relative to its share of the run: 0, the
 * fit uses whole-run latencies and, per run, the summed times of each operator class (the
 * per-class sums average out the noise of single timed calls and separate the classes'
 * parameters; single operators stay in the ledgers for inspection). */
#ifndef HOST_OP_WEIGHT
#define HOST_OP_WEIGHT 0.0
#endif

/* A typical dispatch cost per operator call on the host (us): it only picks the runs that
 * measure dispatch_us (measure_dispatch). */
int hw_outside_fit(const double *calls, const double *kern_ms, const double *outside_ms,
                   const double *run_ms, int n, double *dispatch_us, double *factor) {
    double saa = 0, sab = 0, sbb = 0, say = 0, sby = 0;
    int nv = 0;
    for (int i = 0; i < n; i++) {
        double ms = run_ms[i];
        if (!(ms > 0) || !isfinite(outside_ms[i])) continue;
        double a = calls[i] * 1e-3 / ms, b = kern_ms[i] / ms, y = outside_ms[i] / ms;
        saa += a * a;
        sab += a * b;
        sbb += b * b;
        say += a * y;
        sby += b * y;
        nv++;
    }
    if (nv < 3 || !(saa > 0) || !(sbb > 0)) return 0;
    double det = saa * sbb - sab * sab, d = 0.0, f = 0.0;
    int both = det > 1e-12 * saa * sbb;
    if (both) {
        d = (say * sbb - sby * sab) / det;
        f = (sby * saa - say * sab) / det;
    }
    if (!both || d < 0 || f < 0) { /* one term alone: the one that explains more */
        double d1 = say > 0 ? say / saa : 0.0, f1 = sby > 0 ? sby / sbb : 0.0;
        if (say * d1 >= sby * f1) {
            d = d1;
            f = 0.0;
        } else {
            d = 0.0;
            f = f1;
        }
    }
    if (!(d > 0)) return 0; /* dispatch_us must stay positive: keep the prior */
    *dispatch_us = d;
    *factor = 1.0 + (f < 1.0 ? f : 1.0);
    return nv;
}

/* dispatch_us and outside_factor from the grid's runs (hw_outside_fit): per run, the time
 * outside the operators' kernels and the search. Returns the runs used (0: none). */
static int measure_outside(const Timed *tm, int n, double *dispatch_us, double *factor) {
    double calls[CALIB_N], kern[CALIB_N], out[CALIB_N], ms[CALIB_N];
    int nv = 0;
    for (int g = 0; g < n && nv < CALIB_N; g++) {
        if (!(tm[g].median_ms > 0)) continue;
        double k = 0.0, c = 0.0;
        for (int l = 0; l < tm[g].nl; l++)
            for (size_t j = 0; j < cost_ledger_count(tm[g].lp[l]); j++) {
                const LedgerEntry *le = cost_ledger_get(tm[g].lp[l], j);
                k += (double)le->time_ns * 1e-6;
                c += le->calls > 0 ? (double)le->calls : 1.0;
            }
        double srch = tm[g].g->gen && tm[g].srch ? tm[g].srch[tm[g].best] : 0.0;
        calls[nv] = c;
        kern[nv] = k;
        ms[nv] = tm[g].median_ms;
        out[nv] = ms[nv] - k - srch;
        nv++;
    }
    return hw_outside_fit(calls, kern, out, ms, nv, dispatch_us, factor);
}

/* Fills v with the measured times of the n timed configs t and their predictions on p. */
static SimStatus predict_rows(const HwProfile *p, const Timed *t, int n, HwValidation *v,
                              SimError *err) {
    v->n = 0;
    v->rows = calloc((size_t)(n > 0 ? n : 1), sizeof *v->rows);
    if (v->rows == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory validating");
    HwPredictOptions po = {1};
    for (int i = 0; i < n; i++) {
        const Timed *x = &t[i];
        HwValidateRow *r = &v->rows[v->n++];
        snprintf(r->config, sizeof r->config, "%s", x->name);
        /* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): timed_open sets g */
        snprintf(r->mode, sizeof r->mode, "%s", x->g->gen ? "generate" : "forward");
        r->src_len = x->g->S;
        r->tgt_len = x->g->T;
        r->beam = x->g->beam;
        r->measured_ms = x->median_ms;
        r->spread = x->spread;
        r->predicted_ms = hw_predict_ms(p, x->lp, x->nl, &po);
        dump_prediction(p, x, &po);
    }
    hw_validation_stats(v);
    return SIM_OK;
}

SimStatus hw_calibrate_host(HwProfile *out, const HwCalibOptions *o, HwFitReport *rep,
                            HwHostMeasure *meas, SimError *err) {
    memset(rep, 0, sizeof *rep);
    memset(meas, 0, sizeof *meas);
    int quick = o && o->quick;
    int threads = o && o->threads > 0 ? o->threads : 1;
    HwProfile *p = out;
    host_template(p, threads);
    ops_set_threads(threads);
    double t0 = now_ms();

    const char *replay = getenv("LTSIM_HW_REPLAY");
    replay = replay && *replay ? replay : NULL;
    SimStatus rc;
    if (replay) {
        rc = replay_measure(replay, meas, err);
        if (rc != SIM_OK) return rc;
    } else {
        note(o, "measuring read bandwidth by working-set size (64 KiB .. 256 MiB)");
        rc = hw_measure_memory(meas, quick, err);
        if (rc != SIM_OK) return rc;
    }
    p->llc_kib = meas->llc_kib;
    p->dram_gbs = meas->dram_gbs;
    note(o, "usable last-level cache %.0f KiB, DRAM read bandwidth %.1f GB/s", p->llc_kib,
         p->dram_gbs);
    hw_profile_set_source(p, "llc_kib", HW_SRC_MEASURED,
                          "read-bandwidth sweep: the working set where one thread's read "
                          "bandwidth falls half-way from the last cache level's plateau to "
                          "the DRAM bandwidth (not CPUID)");
    hw_profile_set_source(p, "dram_gbs", HW_SRC_MEASURED,
                          "read-bandwidth sweep: one thread reading 128-256 MiB");

    if (!replay) rc = measure_sgemm(512, 512, 512, &meas->sgemm_gflops, err);
    if (rc != SIM_OK) return rc;
    if (!(meas->sgemm_gflops > 0)) return sim_errorf(err, SIM_EIO, "sgemm timing failed");
    p->peak_gflops_fp32 = meas->sgemm_gflops;
    p->peak_gops_int8 = 4.0 * p->peak_gflops_fp32; /* updated after the fit */
    note(o, "sgemm 512x512x512 through op_exec: %.1f GFLOPS", meas->sgemm_gflops);
    if (!replay) rc = measure_gemm_tile(meas->gemm_rows_ns, &meas->gemm_tile, err);
    if (rc != SIM_OK) return rc;
    {   /* LTSIM_HW_DUMP: the machine measurements (M llc_kib dram_gbs sgemm_gflops tile, then
         * B KiB GB/s of the bandwidth sweep and G M ns_per_weight of the tile
         * sweep) */
        const char *dp = getenv("LTSIM_HW_DUMP");
        FILE *df = dp && *dp ? fopen(dp, "a") : NULL;
        if (df) {
            fprintf(df, "M\t%.3f\t%.4f\t%.3f\t%d\n", meas->llc_kib, meas->dram_gbs,
                    meas->sgemm_gflops, meas->gemm_tile);
            for (int i = 0; i < meas->nsweep && !replay; i++)
                fprintf(df, "B\t%.0f\t%.3f\n", meas->sweep_kib[i], meas->sweep_gbs[i]);
            for (int m = OPS_GEMV_ROWS + 1; m <= HW_GEMM_ROWS_MAX && !replay; m++)
                fprintf(df, "G\t%d\t%.5f\n", m, meas->gemm_rows_ns[m]);
            fclose(df);
        }
    }
    p->model.gemm_tile_rows = meas->gemm_tile;
    hw_profile_set_source(p, "model.gemm_tile_rows", HW_SRC_MEASURED,
                          "M x 512 x 512 products for M = %d..%d through op_exec: the tile "
                          "whose remainder passes (popcount of M mod tile) fit the times best",
                          OPS_GEMV_ROWS + 1, HW_GEMM_ROWS_MAX);
    note(o, "GEMM rows per kernel pass: %d (from M = %d..%d rows)", meas->gemm_tile,
         OPS_GEMV_ROWS + 1, HW_GEMM_ROWS_MAX);

    int idx[CALIB_N], ngrid = 0;
    for (int i = 0; i < CALIB_N; i++)
        if (!quick || i % 3 == 0) idx[ngrid++] = i;
    Timed *tm = NULL;
    HwSample *smp = NULL;
    int nsmp = 0;
    HwValidation *vout = o ? o->validate_into : NULL;
    int nval = vout ? VALID_N : 0, ntot = ngrid;
    if (vout) memset(vout, 0, sizeof *vout);
    rc = timed_open(calib_grid, idx, ngrid, &tm, err);
    if (rc != SIM_OK) return rc;
    if (nval > 0) { /* the validation set joins the grid's rounds: tm[ngrid ..] */
        Timed *tv = NULL, *all = NULL;
        rc = timed_open(valid_set, NULL, nval, &tv, err);
        if (rc == SIM_OK) {
            all = realloc(tm, (size_t)(ngrid + nval) * sizeof *all);
            if (all == NULL) {
                timed_free(tv, nval);
                rc = sim_errorf(err, SIM_ENOMEM, "out of memory timing");
            } else {
                tm = all;
                memcpy(tm + ngrid, tv, (size_t)nval * sizeof *tm);
                free(tv); /* its entries now belong to tm */
                ntot = ngrid + nval;
            }
        }
        if (rc != SIM_OK) goto out;
        note(o, "timing %d configs of the calibration grid and the %d of the validation set in "
                "the same rounds",
             ngrid, nval);
    } else {
        note(o, "timing %d configs of the calibration grid", ngrid);
    }
    if (!replay) {
        StreamBench sb;
        rc = stream_open(&sb, meas->llc_kib, quick, err);
        if (rc != SIM_OK) goto out;
        rc = time_set(tm, ntot, ngrid, o, &sb, err);
        stream_curve(&sb, meas);
        stream_close(&sb);
        const char *dp = getenv("LTSIM_HW_DUMP");
        FILE *df = rc == SIM_OK && dp && *dp ? fopen(dp, "a") : NULL;
        for (int i = 0; df && i < meas->nstream; i++) {
            fprintf(df, "C\t%.0f\t%.4f\n", meas->stream_row_bytes[i], meas->stream_row_ns[i]);
            fprintf(df, "CR\t%.0f", meas->stream_row_bytes[i]); /* every round's median */
            for (int r = 0; r < sb.rounds; r++) fprintf(df, "\t%.4f", sb.ns[i][r]);
            fputc('\n', df);
        }
        if (df) fclose(df);
    } else {
        rc = time_set(tm, ntot, ngrid, o, NULL, err);
    }
    if (rc != SIM_OK) goto out;
    if (meas->nstream >= 2) {
        p->nstream = meas->nstream;
        memcpy(p->stream_row_bytes, meas->stream_row_bytes, sizeof p->stream_row_bytes);
        memcpy(p->stream_row_ns, meas->stream_row_ns, sizeof p->stream_row_ns);
        hw_profile_set_source(p, "dram_stream", HW_SRC_MEASURED,
                              "one-row products through op_exec over a %.0f MiB matrix (4x the "
                              "usable LLC, at least 64) by weight row length, timed in the rounds "
                              "of the grid as its configs are: the quietest round's median per "
                              "length, then the least-squares non-decreasing fit through them",
                              fmax(64.0, 4.0 * meas->llc_kib / 1024.0));
        note(o, "stream curve: %.1f ns per 1 KiB row, %.1f per 4 KiB row (%d lengths)",
             hw_stream_row_ns(p, 1024.0), hw_stream_row_ns(p, 4096.0), p->nstream);
        stream_short_line(p);
    }
    size_t total = 0;
    for (int g = 0; g < ngrid; g++) {
        total += 5 + HW_CLASS_COUNT + run_entries(tm[g].lp, tm[g].nl);
        if (!tm[g].done) meas->noisy++;
        meas->runs++;
    }
    smp = calloc(total, sizeof *smp);
    if (smp == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory calibrating");
        goto out;
    }
    /* samples: every run (weight 1) and every operator of it (weighted by its share) */
    for (int g = 0; g < ngrid; g++) {
        HwSample *s = &smp[nsmp++];
        s->ledgers = tm[g].lp;
        s->nledgers = tm[g].nl;
        s->entry = -1;
        s->measured_ms = tm[g].median_ms;
        s->weight = 1.0;
        /* per class: the summed measured times of its operators (no search); matrix-vector
         * products (one-token steps, another BLAS path) apart from the blocked GEMMs, and the
         * exponential-type elementwise operators (softmax, GLU, ...) apart from the cheap ones */
        enum { C_GEMV = HW_CLASS_COUNT, C_GEMV_LONG, C_TRANS, C_N };
        double cls_ms[C_N] = {0};
        for (int k = 0; k < tm[g].nl; k++)
            for (size_t j = 0; j < cost_ledger_count(tm[g].lp[k]); j++) {
                const LedgerEntry *le = cost_ledger_get(tm[g].lp[k], j);
                int c = hw_op_class(le->op);
                /* matrix-vector products by their row length: rows shorter than a page
                 * (dram_short_*) apart from the long ones (dram_efficiency, dram_row_ns) */
                if (hw_gemv(le)) c = hw_short_rows(le) ? C_GEMV : C_GEMV_LONG;
                if (c == HW_ELEMENTWISE && hw_op_transcendental(le->op)) c = C_TRANS;
                cls_ms[c] += (double)le->time_ns * 1e-6;
            }
        for (int c = 0; c < C_N; c++) {
            if (!(cls_ms[c] > 0)) continue;
            s = &smp[nsmp++];
            s->ledgers = tm[g].lp;
            s->nledgers = tm[g].nl;
            s->entry = -1;
            s->by_class = 1;
            s->cls = c == C_GEMV || c == C_GEMV_LONG ? HW_GEMM
                     : c == C_TRANS                  ? HW_ELEMENTWISE
                                                     : (HwClass)c;
            s->gemm_rows = c == C_GEMV ? 3 : c == C_GEMV_LONG ? 4 : c == HW_GEMM ? 2 : 0;
            s->elem_kind = c == C_TRANS ? 1 : c == HW_ELEMENTWISE ? 2 : 0;
            s->measured_ms = cls_ms[c];
            s->weight = 1.0;
        }
        /* generate: the search after each step, timed on its own (not a ledger entry) */
        if (tm[g].g->gen && tm[g].srch[tm[g].best] > 0) {
            s = &smp[nsmp++];
            s->ledgers = tm[g].lp;
            s->nledgers = tm[g].nl;
            s->entry = -1;
            s->search_only = 1;
            s->measured_ms = tm[g].srch[tm[g].best];
            s->weight = 1.0;
        }
        for (int k = 0; HOST_OP_WEIGHT > 0 && k < tm[g].nl; k++)
            for (size_t j = 0; j < cost_ledger_count(tm[g].lp[k]); j++) {
                double ms = (double)cost_ledger_get(tm[g].lp[k], j)->time_ns * 1e-6;
                if (!(ms > 0)) continue;
                s = &smp[nsmp++];
                s->ledgers = tm[g].lp;
                s->nledgers = tm[g].nl;
                s->step = k;
                s->entry = (long)j;
                s->measured_ms = ms;
                s->weight = HOST_OP_WEIGHT * ms / tm[g].median_ms;
            }
    }
    HwFitOptions fo = {0};
    fo.warm = 1;
    fo.rescale_peak = 1;
    fo.fit_all = 1;
    fo.identify_se = 0.25; /* the priors are guesses: any parameter the grid narrows is better */
    fo.robust = 1;         /* steps at the LLC's edge on a shared cache vary between rounds */
    /* dispatch_us and outside_factor measured rather than fitted: only the whole runs see
     * them, and the fit trades them against the other per-call costs and the efficiencies */
    /* with a stream curve the short-row terms describe it (stream_short_line), unfitted */
    fo.hold[HW_P_DRAM_SHORT_EFF] = fo.hold[HW_P_DRAM_SHORT_ROW] = p->nstream > 0;
    /* the curve's scale means nothing without a curve */
    fo.hold[HW_P_STREAM_SCALE] = p->nstream == 0;
    int ndisp = measure_outside(tm, ngrid, &p->model.dispatch_us, &p->model.outside_factor);
    if (ndisp > 0) {
        fo.hold[HW_P_DISPATCH] = 1;
        note(o, "outside the operators: %.3f us per call and %.1f %% of their time (fitted over "
                "the %d runs of the grid)",
             p->model.dispatch_us, 100.0 * (p->model.outside_factor - 1.0), ndisp);
    }
    note(o, "fitting %d samples (%d runs and their per-class times%s)", nsmp, ngrid,
         HOST_OP_WEIGHT > 0 ? " and operators" : "");
    /* llc_share and llc_retention are not linear in the model: a grid search around the
     * linear fit */
    static const double retention[] = {16.0, 8.0, 4.0, 3.0, 2.0, 1.5, 1.0, 0.5, 0.25};
    static const double share[] = {1.0, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3};
    double best_err = INFINITY, best_ret = 1.0, best_share = 1.0;
    HwProfile prior = *p;
    for (size_t sh = 0; sh < sizeof share / sizeof share[0]; sh++)
        for (size_t r = 0; r < sizeof retention / sizeof retention[0]; r++) {
            HwProfile q = prior;
            HwFitReport qr;
            q.model.llc_retention = retention[r];
            q.model.llc_share = share[sh];
            q.model.llc_share_gemm = share[sh];
            rc = hw_fit(&q, smp, nsmp, &fo, &qr, err);
            if (rc != SIM_OK) goto out;
            /* judged on every sample, the steps near the LLC's edge being the ones that tell
             * the residency apart, less the worst tenth: a run timed while another tenant
             * held the shared cache would otherwise choose the pair (the 27 MB steps of
             * Evolved d = 224 took 36-44 ms in five calibrations and 48-49 ms in two) */
            double crit = qr.trimmed_rms_rel_err;
            if (!(crit >= 0.0)) crit = qr.rms_rel_err_after; /* no memory for the sort */
            if (crit < best_err) {
                best_err = crit;
                best_ret = retention[r];
                best_share = share[sh];
                *p = q;
                *rep = qr;
            }
        }
    /* then the share within which blocked matrix products' weights count as resident, as a
     * fraction of llc_share (their packing reads a matrix row by row across it: on an Intel
     * Xeon VM products of 10 rows ran at 36-39 GFLOPS in models of 15-27 MB and at 25 in
     * models of 134 MB and more, all of them within llc_share) */
    static const double gshare[] = {0.7, 0.5, 0.35, 0.25};
    double best_gshare = best_share;
    for (size_t g = 0; g < sizeof gshare / sizeof gshare[0]; g++) {
        HwProfile q = prior;
        HwFitReport qr;
        q.model.llc_retention = best_ret;
        q.model.llc_share = best_share;
        q.model.llc_share_gemm = gshare[g] * best_share;
        rc = hw_fit(&q, smp, nsmp, &fo, &qr, err);
        if (rc != SIM_OK) goto out;
        double crit = qr.trimmed_rms_rel_err;
        if (!(crit >= 0.0)) crit = qr.rms_rel_err_after;
        if (crit < best_err) {
            best_err = crit;
            best_gshare = q.model.llc_share_gemm;
            *p = q;
            *rep = qr;
        }
    }
    {   /* LTSIM_HW_DUMP: every sample of the fit, measured against the fitted model */
        const char *dp = getenv("LTSIM_HW_DUMP");
        FILE *df = dp && *dp ? fopen(dp, "a") : NULL;
        for (int i = 0; df && i < nsmp; i++) {
            const HwSample *q = &smp[i];
            int g = 0;
            while (g < ngrid && tm[g].lp != q->ledgers) g++;
            fprintf(df, "F\t%s\t%s\t%d\t%d\t%d\t%d\t%d\t%.6f\t%.6f\n",
                    g < ngrid ? tm[g].name : "?", g < ngrid && tm[g].g->gen ? "generate" : "forward",
                    q->by_class, (int)q->cls, q->gemm_rows, q->elem_kind, q->search_only,
                    q->measured_ms, hw_sample_predict_ms(p, q, fo.warm));
        }
        if (df) fclose(df);
    }
    if (ndisp > 0) {
        hw_profile_set_source(p, "model.dispatch_us", HW_SRC_MEASURED,
                              "the %d runs of the grid: their time outside the operators' kernels "
                              "and the search, fitted as this per operator call plus a share of "
                              "the kernels' time (outside_factor)",
                              ndisp);
        hw_profile_set_source(p, "model.outside_factor", HW_SRC_MEASURED,
                              "the %d runs of the grid: 1 + the share of the kernels' time spent "
                              "outside them besides dispatch_us per call (fitted with it)",
                              ndisp);
    }
    hw_profile_set_source(p, "model.llc_retention", HW_SRC_FITTED,
                          "grid search over 16, 8, 4, 3, 2, 1.5, 1, 0.5, 0.25 (with llc_share) around the fit: %g "
                          "gave the lowest RMS error over the best 90 %% of the samples",
                          best_ret);
    hw_profile_set_source(p, "model.llc_share", HW_SRC_FITTED,
                          "grid search over 1, 0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3 (with llc_retention) "
                          "around the fit: %g gave the lowest RMS error over the best 90 %% of the "
                          "samples",
                          best_share);
    hw_profile_set_source(p, "model.llc_share_gemm", HW_SRC_FITTED,
                          "search over 1, 0.7, 0.5, 0.35, 0.25 x llc_share after it: %g x "
                          "llc_share gave the lowest RMS error over the best 90 %% of the samples",
                          best_gshare / best_share);
    if (p->dram_gbs > meas->dram_gbs * 1.0001)
        hw_profile_set_source(p, "dram_gbs", HW_SRC_FITTED,
                              "the matrix-vector products' fitted DRAM streaming rate, above the "
                              "%.1f GB/s of the read sweep's single stream (128-256 MiB)",
                              meas->dram_gbs);

    char date[40];
    utc_date(date, sizeof date);
    if (rep->peak_after > rep->peak_before)
        hw_profile_set_source(p, "peak_gflops_fp32", HW_SRC_MEASURED,
                              "the fastest rate ltsim's kernels reach here: the fitted asymptotic "
                              "GEMM rate (above the %.1f GFLOPS of a 512^3 sgemm)",
                              meas->sgemm_gflops);
    else
        hw_profile_set_source(p, "peak_gflops_fp32", HW_SRC_MEASURED,
                              "sgemm 512x512x512 through op_exec, best of 5 (this build's BLAS)");
    p->peak_gops_int8 = 4.0 * p->peak_gflops_fp32;
    hw_profile_set_source(p, "peak_gops_int8", HW_SRC_ESTIMATED,
                          "rule R-INT8-HOST: 4 x the fp32 peak (int8 dot-product instructions "
                          "do 4 byte MACs per 32-bit lane); ltsim runs no int8 kernels");
    for (int k = 0; k < HW_PARAM_COUNT; k++) {
        double a = hw_param_get(&rep->before, (HwParam)k), b = hw_param_get(&rep->after, (HwParam)k);
        if (fo.hold[k]) continue; /* measured: their sources say how */
        if (rep->identified[k] || fabs(b - a) > 1e-3 * fabs(a))
            hw_profile_set_source(p, hw_param_key((HwParam)k), HW_SRC_FITTED,
                                  "ltsim calibrate on this host (%s): per-operator and whole-run "
                                  "times of %d grid configs; relative standard error %.2g%%%s",
                                  date, ngrid, 100.0 * rep->rel_se[k],
                                  rep->identified[k] ? "" : " (weakly determined)");
    }
    char cpu[128];
    cpu_model(cpu, sizeof cpu);
    snprintf(p->description, sizeof p->description,
             "this machine (%.100s), %d thread%s, as ltsim's own kernels run on it", cpu, threads,
             threads == 1 ? "" : "s");
    p->has_provenance = 1;
    HwProvenance *pv = &p->prov;
    snprintf(pv->cpu, sizeof pv->cpu, "%s", cpu);
    snprintf(pv->blas, sizeof pv->blas, "%s", ops_blas_name());
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    snprintf(pv->coretype, sizeof pv->coretype, "%s", ct && *ct ? ct : "(unset)");
    snprintf(pv->l2_size, sizeof pv->l2_size, "%s", l2 && *l2 ? l2 : "(unset)");
    snprintf(pv->date, sizeof pv->date, "%s", date);
    snprintf(pv->method, sizeof pv->method,
             "read-bandwidth sweep (LLC, DRAM); sgemm 512^3; per-operator times of %d built-in "
             "configs (%s grid, forward and generate), fitted; %.0f s",
             ngrid, quick ? "quick" : "full", (now_ms() - t0) / 1000.0);
    snprintf(pv->version, sizeof pv->version, "%s", LTSIM_VERSION);
    pv->threads = threads;
    pv->fit_rows = nsmp;
    pv->fit_rms_rel_err = rep->rms_rel_err_after;
    rc = hw_profile_check(p, err);
    if (rc == SIM_OK && nval > 0) {
        rc = predict_rows(p, tm + ngrid, nval, vout, err);
        if (rc != SIM_OK) hw_validation_free(vout);
    }
out:
    timed_free(tm, ntot);
    free(smp);
    return rc;
}

SimStatus hw_validate_host(const HwProfile *p, const HwCalibOptions *o, HwValidation *v,
                           SimError *err) {
    memset(v, 0, sizeof *v);
    int threads = o && o->threads > 0 ? o->threads : 1;
    ops_set_threads(threads);
    Timed *tm = NULL;
    SimStatus rc = timed_open(valid_set, NULL, VALID_N, &tm, err);
    if (rc != SIM_OK) return rc;
    note(o, "timing the %d configs of the validation set", VALID_N);
    rc = time_set(tm, VALID_N, VALID_N, o, NULL, err);
    if (rc != SIM_OK) goto out;
    rc = predict_rows(p, tm, VALID_N, v, err);
out:
    timed_free(tm, VALID_N);
    if (rc != SIM_OK) hw_validation_free(v);
    return rc;
}
