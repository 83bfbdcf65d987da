/*
 * accuracy.c - tasks, imported scores, observations and the log-linear fits of accuracy.h.
 *
 * The fit: score = a + b * ln(MACs), ordinary least squares over n points (x = ln MACs):
 *   b = Sxy / Sxx, a = mean(y) - b * mean(x), s^2 = SSR / (n - 2),
 *   standard error of the fitted value at x0: s * sqrt(1/n + (x0 - mean(x))^2 / Sxx).
 * With two points the line passes through both and s is unknown (NAN): such estimates are
 * stored and drawn without an error bar and say so.
 */
#include "accuracy.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "paths.h"
#include "report.h"
#include "runner.h"
#include "sweep.h"

/* ---- tasks ---- */

static const AccTask tasks[] = {
    {"wmt-en-de", "WMT'14 En-De", "bleu", "BLEU", 1, {"lite", "transformer", "evolved"}},
    {"wmt-en-fr", "WMT'14 En-Fr", "bleu", "BLEU", 1, {"lite", "transformer", "evolved"}},
    {"iwslt-de-en", "IWSLT'14 De-En", "bleu", "BLEU", 1, {"lite-light", NULL, NULL}},
    {"cnndm", "CNN-DailyMail", "rouge-l", "ROUGE-L", 1, {NULL, NULL, NULL}},
    {"wikitext-103", "WIKITEXT-103", "ppl", "test perplexity", 0,
     {"lite-lm", "transformer-lm", NULL}},
};

#define NTASKS ((int)(sizeof tasks / sizeof tasks[0]))

const AccTask *acc_tasks(int *n) {
    *n = NTASKS;
    return tasks;
}

const AccTask *acc_task_find(const char *name) {
    for (int i = 0; name && i < NTASKS; i++)
        if (strcmp(tasks[i].name, name) == 0) return &tasks[i];
    return NULL;
}

int acc_metric_valid(const char *m) {
    static const char *const metrics[] = {"bleu", "rouge-1", "rouge-2", "rouge-l", "ppl"};
    for (size_t i = 0; m && i < sizeof metrics / sizeof metrics[0]; i++)
        if (strcmp(m, metrics[i]) == 0) return 1;
    return 0;
}

const char *acc_family_title(const char *family) {
    static const char *const names[][2] = {
        {"lite", "Lite Transformer"},
        {"lite-light", "Lite Transformer (lightweight conv)"},
        {"transformer", "Transformer"},
        {"evolved", "Evolved Transformer"},
        {"lite-lm", "Lite Transformer LM"},
        {"transformer-lm", "Transformer LM"},
        {"other", "other published models"},
    };
    for (size_t i = 0; family && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i][0], family) == 0) return names[i][1];
    return family ? family : "?";
}

const char *acc_config_family(const ModelConfig *cfg) {
    switch (cfg->family) {
    case FAMILY_LITE: {
        for (int b = 0; b < cfg->enc.nbranches; b++)
            if (cfg->enc.branches[b].type == BRANCH_LIGHTWEIGHT) return "lite-light";
        for (int b = 0; b < cfg->dec.nbranches; b++)
            if (cfg->dec.branches[b].type == BRANCH_LIGHTWEIGHT) return "lite-light";
        return "lite";
    }
    case FAMILY_EVOLVED: return "evolved";
    case FAMILY_LM: return cfg->lm_branches ? "lite-lm" : "transformer-lm";
    default: return "transformer";
    }
}

/* ---- configs ---- */

/* Counts cfg (count-only, default conventions, the config's default lengths or 30). */
static SimStatus count_config(const ModelConfig *cfg, const char *path, AccConfig *out,
                              SimError *err) {
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = cfg->src_len > 0 ? cfg->src_len : 30;
    spec.tgt_len = cfg->tgt_len > 0 ? cfg->tgt_len : 30;
    spec.seed = 1;
    spec.threads = 1;
    spec.count_only = 1;
    RunResult res;
    if (runner_execute(cfg, &spec, &res, err) != SIM_OK) return err->code;
    ReportInput in = {.command = "count", .model_path = path, .cfg = cfg,
                      .spec = &spec, .res = &res};
    ReportTotals t;
    report_totals(&in, &t);
    out->macs = t.macs;
    out->params = t.params;
    out->src_len = spec.src_len;
    out->tgt_len = spec.tgt_len;
    runner_result_free(&res);
    return SIM_OK;
}

SimStatus acc_config_resolve(const char *config, const char *base_dir, AccConfig *out,
                             SimError *err) {
    memset(out, 0, sizeof *out);
    ModelConfig cfg;
    const char *colon = config ? strchr(config, ':') : NULL;
    if (colon != NULL && strchr(config, '/') == NULL) { /* FAMILY:WIDTH */
        char fam[32];
        size_t k = (size_t)(colon - config);
        SweepFamily f;
        char *end = NULL;
        errno = 0;
        long long w = strtoll(colon + 1, &end, 10);
        if (k >= sizeof fam) k = sizeof fam - 1;
        memcpy(fam, config, k);
        fam[k] = '\0';
        if (sweep_family_parse(fam, &f) != 0 || errno || end == colon + 1 || *end != '\0' ||
            w <= 0)
            goto unknown;
        SimError e2;
        sim_error_init(&e2);
        if (sweep_config(f, (int64_t)w, NULL, 0, &cfg, &e2) != SIM_OK)
            return sim_errorf(err, SIM_EINVAL, "config '%s': %s width %lld is not on the grid "
                                               "(%s)",
                              config, fam, w, e2.msg);
        snprintf(out->model_name, sizeof out->model_name, "%s:%lld", sweep_family_name(f), w);
        snprintf(out->family, sizeof out->family, "%s", sweep_family_name(f));
        out->width = (int64_t)w;
        return count_config(&cfg, config, out, err);
    }
    if (paths_model(config, base_dir, out->path, sizeof out->path) != 0) goto unknown;
    if (config_load(out->path, NULL, &cfg, err) != SIM_OK) return err->code;
    const char *base = strrchr(out->path, '/');
    base = base ? base + 1 : out->path;
    snprintf(out->model_name, sizeof out->model_name, "%.127s", base);
    size_t len = strlen(out->model_name);
    if (len > 4 && strcmp(out->model_name + len - 4, ".yml") == 0) out->model_name[len - 4] = '\0';
    else if (len > 5 && strcmp(out->model_name + len - 5, ".yaml") == 0)
        out->model_name[len - 5] = '\0';
    snprintf(out->family, sizeof out->family, "%s", acc_config_family(&cfg));
    out->width = cfg.enc.layers > 0 ? cfg.enc.embed_dim : cfg.dec.embed_dim;
    return count_config(&cfg, out->path, out, err);
unknown:
    return sim_errorf(err, SIM_EINVAL,
                      "unknown config '%s' (expected a models/NAME.yml name, a YAML path, or "
                      "FAMILY:WIDTH with FAMILY lite, lite-light, transformer, evolved, lite-lm "
                      "or transformer-lm)",
                      config ? config : "");
}

/* ---- the CSV of measured scores ---- */

enum { COL_CONFIG = 0, COL_TASK, COL_METRIC, COL_VALUE, COL_NOTE, NCOLS };
static const char *const col_names[NCOLS] = {"config", "task", "metric", "value", "note"};

#define CSV_FIELDS 16

typedef struct {
    char buf[4096];
    char *field[CSV_FIELDS];
    int col[CSV_FIELDS]; /* 1-based character column where each field starts */
    int n;
} CsvLine;

/* Splits one line (no newline) into fields; -1 with why on a malformed quote. */
static int csv_split(const char *line, CsvLine *l, char *why, size_t nwhy) {
    size_t k = 0;
    l->n = 0;
    const char *p = line;
    for (;;) {
        if (l->n == CSV_FIELDS) {
            snprintf(why, nwhy, "more than %d fields", CSV_FIELDS);
            return -1;
        }
        l->col[l->n] = (int)(p - line) + 1;
        l->field[l->n++] = l->buf + k;
        while (*p == ' ' || *p == '\t') p++;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0') {
                    snprintf(why, nwhy, "unterminated quoted field");
                    return -1;
                }
                if (*p == '"' && p[1] == '"') {
                    if (k + 1 < sizeof l->buf) l->buf[k++] = '"';
                    p += 2;
                    continue;
                }
                if (*p == '"') {
                    p++;
                    break;
                }
                if (k + 1 < sizeof l->buf) l->buf[k++] = *p;
                p++;
            }
            while (*p == ' ' || *p == '\t') p++;
            if (*p != ',' && *p != '\0') {
                snprintf(why, nwhy, "text after a closing quote");
                return -1;
            }
        } else {
            while (*p && *p != ',') {
                if (k + 1 < sizeof l->buf) l->buf[k++] = *p;
                p++;
            }
            while (k > 0 && (l->buf[k - 1] == ' ' || l->buf[k - 1] == '\t')) k--;
        }
        if (k + 1 < sizeof l->buf) l->buf[k++] = '\0';
        else l->buf[sizeof l->buf - 1] = '\0';
        if (*p == '\0') return 0;
        p++; /* the comma */
    }
}

SimStatus acc_csv_read(const char *path, AccRow **rows, int *n, SimError *err) {
    *rows = NULL;
    *n = 0;
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return sim_errorf(err, SIM_EINVAL, "%s: cannot open: %s", path, strerror(errno));
    char base_dir[1024];
    snprintf(base_dir, sizeof base_dir, "%s", path);
    char *slash = strrchr(base_dir, '/');
    if (slash) *slash = '\0';
    else snprintf(base_dir, sizeof base_dir, ".");
    CsvLine *l = calloc(1, sizeof *l);
    AccRow *v = NULL;
    int nv = 0, cap = 0, lineno = 0, have_header = 0;
    int col[NCOLS];
    for (int c = 0; c < NCOLS; c++) col[c] = -1;
    char line[4096], why[160];
    SimStatus code = SIM_OK;
    if (l == NULL) {
        code = sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", path);
        goto out;
    }
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t len = strlen(line);
        if (len == sizeof line - 1 && line[len - 1] != '\n') {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d:1: line longer than %zu characters", path,
                              lineno, sizeof line - 2);
            goto out;
        }
        while (len && (line[len - 1] == '\n' || line[len - 1] == '\r')) line[--len] = '\0';
        const char *s = line + strspn(line, " \t");
        if (*s == '\0' || *s == '#') continue;
        if (csv_split(line, l, why, sizeof why) != 0) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d:1: %s", path, lineno, why);
            goto out;
        }
        if (!have_header) {
            for (int i = 0; i < l->n; i++) {
                int c = 0;
                while (c < NCOLS && strcmp(col_names[c], l->field[i]) != 0) c++;
                if (c == NCOLS || col[c] >= 0) {
                    code = sim_errorf(err, SIM_EINVAL,
                                      "%s:%d:%d: %s column '%s' (columns: config, task, metric, "
                                      "value, note)",
                                      path, lineno, l->col[i], c == NCOLS ? "unknown" : "duplicate",
                                      l->field[i]);
                    goto out;
                }
                col[c] = i;
            }
            static const int required[] = {COL_CONFIG, COL_TASK, COL_VALUE};
            for (size_t r = 0; r < 3; r++)
                if (col[required[r]] < 0) {
                    code = sim_errorf(err, SIM_EINVAL,
                                      "%s:%d:1: missing column '%s' (the header needs config, "
                                      "task and value; metric and note are optional)",
                                      path, lineno, col_names[required[r]]);
                    goto out;
                }
            have_header = 1;
            continue;
        }
        int need = 0;
        for (int c = 0; c < NCOLS; c++)
            if (col[c] + 1 > need) need = col[c] + 1;
        if (l->n < need) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: %d fields, the header has %d", path,
                              lineno, (int)len + 1, l->n, need);
            goto out;
        }
        if (nv == cap) {
            int nc = cap ? cap * 2 : 16;
            AccRow *nvv = realloc(v, (size_t)nc * sizeof *nvv);
            if (nvv == NULL) {
                code = sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", path);
                goto out;
            }
            v = nvv;
            cap = nc;
        }
        AccRow *r = &v[nv];
        memset(r, 0, sizeof *r);
        r->line = lineno;
        const char *task = l->field[col[COL_TASK]];
        const AccTask *t = acc_task_find(task);
        if (t == NULL) {
            code = sim_errorf(err, SIM_EINVAL,
                              "%s:%d:%d: task: unknown task '%s' (wmt-en-de, wmt-en-fr, "
                              "iwslt-de-en, cnndm, wikitext-103)",
                              path, lineno, l->col[col[COL_TASK]], task);
            goto out;
        }
        snprintf(r->task, sizeof r->task, "%s", t->name);
        const char *metric = col[COL_METRIC] >= 0 ? l->field[col[COL_METRIC]] : "";
        if (*metric == '\0') metric = t->metric;
        if (!acc_metric_valid(metric)) {
            code = sim_errorf(err, SIM_EINVAL,
                              "%s:%d:%d: metric: unknown metric '%s' (bleu, rouge-1, rouge-2, "
                              "rouge-l, ppl)",
                              path, lineno, l->col[col[COL_METRIC]], metric);
            goto out;
        }
        snprintf(r->metric, sizeof r->metric, "%s", metric);
        const char *val = l->field[col[COL_VALUE]];
        char *end = NULL;
        errno = 0;
        double x = *val ? strtod(val, &end) : NAN;
        if (*val == '\0' || end == NULL || *end != '\0' || errno != 0 || !isfinite(x)) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: value: expected a number, got '%s'",
                              path, lineno, l->col[col[COL_VALUE]], val);
            goto out;
        }
        if (x < 0 || (strcmp(metric, "ppl") == 0 && x < 1) ||
            (strcmp(metric, "ppl") != 0 && x > 100)) {
            code = sim_errorf(err, SIM_EINVAL,
                              "%s:%d:%d: value: %s out of range for %s ('%s': %s)", path, lineno,
                              l->col[col[COL_VALUE]], val, metric, val,
                              strcmp(metric, "ppl") == 0 ? "a perplexity is >= 1"
                                                         : "a score is from 0 to 100");
            goto out;
        }
        r->value = x;
        const char *config = l->field[col[COL_CONFIG]];
        snprintf(r->config, sizeof r->config, "%s", config);
        if (col[COL_NOTE] >= 0) snprintf(r->note, sizeof r->note, "%s", l->field[col[COL_NOTE]]);
        SimError e2;
        sim_error_init(&e2);
        if (acc_config_resolve(config, base_dir, &r->cfg, &e2) != SIM_OK) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d:%d: config: %s", path, lineno,
                              l->col[col[COL_CONFIG]], e2.msg);
            goto out;
        }
        nv++;
    }
    if (ferror(f)) {
        code = sim_errorf(err, SIM_EINVAL, "%s: read error: %s", path, strerror(errno));
        goto out;
    }
    if (!have_header) {
        code = sim_errorf(err, SIM_EINVAL, "%s:1:1: no header line (config,task,metric,value)",
                          path);
        goto out;
    }
out:
    fclose(f);
    free(l);
    if (code != SIM_OK) {
        free(v);
        return code;
    }
    *rows = v;
    *n = nv;
    return SIM_OK;
}

SimStatus acc_import(Store *s, const char *file, const AccRow *rows, int n, int64_t *added,
                     int64_t *replaced, SimError *err) {
    StoreAccuracy *a = calloc(n > 0 ? (size_t)n : 1, sizeof *a);
    if (a == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory importing %s", file);
    for (int i = 0; i < n; i++) {
        const AccRow *r = &rows[i];
        a[i] = (StoreAccuracy){r->task,        r->config,      r->cfg.model_name, r->cfg.family,
                               r->cfg.width,   r->metric,      r->value,          r->cfg.macs,
                               r->cfg.params,  r->cfg.src_len, r->cfg.tgt_len,    "causal",
                               "taps",         file,           r->line,           r->note};
    }
    SimStatus code = store_accuracy_import(s, a, (size_t)n, added, replaced, err);
    free(a);
    return code;
}

/* ---- observations ---- */

/* The family of a published model without a config, by its name and the task. */
static const char *family_by_name(const char *model, const char *task) {
    int lm = strcmp(task, "wikitext-103") == 0;
    if (strncmp(model, "Lite Transformer", 16) == 0) {
        if (lm) return "lite-lm";
        if (strcmp(task, "iwslt-de-en") == 0) return "lite-light";
        return "lite";
    }
    if (strncmp(model, "Evolved Transformer", 19) == 0) return "evolved";
    if (strcmp(model, "Transformer") == 0 || strcmp(model, "Transformer base") == 0 ||
        strcmp(model, "Transformer big") == 0)
        return lm ? "transformer-lm" : "transformer";
    return "other";
}

static int obs_cmp(const void *a, const void *b) {
    const AccObs *x = a, *y = b;
    int c = strcmp(x->family, y->family);
    if (c) return c;
    if (x->kind != y->kind) return (int)x->kind - (int)y->kind;
    return (x->macs > y->macs) - (x->macs < y->macs);
}

/* A small cache of counted configs (published configs are counted once per process). */
typedef struct {
    char name[128];
    AccConfig cfg;
    int ok;
} CountCache;
static CountCache count_cache[32];
static int ncount_cache;

static const AccConfig *counted(const char *name) {
    for (int i = 0; i < ncount_cache; i++)
        if (strcmp(count_cache[i].name, name) == 0)
            return count_cache[i].ok ? &count_cache[i].cfg : NULL;
    AccConfig c;
    SimError e;
    sim_error_init(&e);
    int ok = acc_config_resolve(name, NULL, &c, &e) == SIM_OK;
    if (ncount_cache < (int)(sizeof count_cache / sizeof count_cache[0])) {
        CountCache *cc = &count_cache[ncount_cache++];
        snprintf(cc->name, sizeof cc->name, "%s", name);
        cc->cfg = c;
        cc->ok = ok;
        return ok ? &cc->cfg : NULL;
    }
    static AccConfig last;
    last = c;
    return ok ? &last : NULL;
}

SimStatus acc_observations(Store *s, const AccTask *t, AccObs **out, int *n, SimError *err) {
    *out = NULL;
    *n = 0;
    const char *params[2] = {t->name, t->metric};
    StoreRows *pub = NULL, *imp = NULL;
    if (store_select(s,
                     "SELECT model, config, mult_adds, value, unconfirmed, source, tag FROM "
                     "published WHERE task = ?1 AND metric = ?2 ORDER BY id",
                     params, 2, &pub, err) != SIM_OK ||
        store_select(s,
                     "SELECT model_name, family, macs, value, source_file, line FROM "
                     "accuracy_results WHERE task = ?1 AND metric = ?2 ORDER BY id",
                     params, 2, &imp, err) != SIM_OK) {
        store_rows_free(pub);
        return err->code;
    }
    size_t cap = pub->nrows + imp->nrows;
    AccObs *v = calloc(cap ? cap : 1, sizeof *v);
    if (v == NULL) {
        store_rows_free(pub);
        store_rows_free(imp);
        return sim_errorf(err, SIM_ENOMEM, "out of memory reading accuracy data");
    }
    int k = 0;
    for (size_t i = 0; i < pub->nrows; i++) {
        const char *model = store_rows_text(pub, i, "model"), *config = store_rows_text(pub, i, "config");
        /* compression variants and baselines repeated from other tables are not new points */
        if (strstr(model, " + ") || strstr(model, "(fp32)") || strstr(model, " vs ")) continue;
        AccObs o;
        memset(&o, 0, sizeof o);
        snprintf(o.model, sizeof o.model, "%s", model);
        snprintf(o.config, sizeof o.config, "%s", config);
        o.value = store_rows_num(pub, i, "value");
        o.kind = store_rows_num(pub, i, "unconfirmed") == 1 ? ACC_UNCONFIRMED : ACC_PUBLISHED;
        snprintf(o.source, sizeof o.source, "%s (tag %s)", store_rows_text(pub, i, "source"),
                 store_rows_text(pub, i, "tag"));
        const AccConfig *c = *config ? counted(config) : NULL;
        if (c != NULL) {
            o.macs = (double)c->macs;
            o.counted = 1;
            snprintf(o.family, sizeof o.family, "%s", c->family);
        } else {
            o.macs = store_rows_num(pub, i, "mult_adds");
            snprintf(o.family, sizeof o.family, "%s", family_by_name(model, t->name));
        }
        if (!(o.macs > 0) || !isfinite(o.value)) continue;
        int dup = 0;
        for (int j = 0; j < k && !dup; j++)
            dup = strcmp(v[j].family, o.family) == 0 && v[j].kind == o.kind &&
                  fabs(v[j].macs - o.macs) <= 1e-9 * o.macs && v[j].value == o.value;
        if (!dup) v[k++] = o;
    }
    for (size_t i = 0; i < imp->nrows; i++) {
        AccObs o;
        memset(&o, 0, sizeof o);
        snprintf(o.family, sizeof o.family, "%s", store_rows_text(imp, i, "family"));
        snprintf(o.model, sizeof o.model, "%s", store_rows_text(imp, i, "model_name"));
        snprintf(o.config, sizeof o.config, "%s", o.model);
        o.macs = store_rows_num(imp, i, "macs");
        o.counted = 1;
        o.value = store_rows_num(imp, i, "value");
        o.kind = ACC_IMPORTED;
        snprintf(o.source, sizeof o.source, "%s:%lld (imported)", store_rows_text(imp, i, "source_file"),
                 (long long)store_rows_num(imp, i, "line"));
        if (o.macs > 0 && isfinite(o.value)) v[k++] = o;
    }
    store_rows_free(pub);
    store_rows_free(imp);
    qsort(v, (size_t)k, sizeof *v, obs_cmp);
    *out = v;
    *n = k;
    return SIM_OK;
}

/* ---- fits ---- */

static int distinct_x(const AccObs *obs, int n, const char *family, int with_r) {
    double xs[256];
    int k = 0;
    for (int i = 0; i < n && k < 256; i++) {
        if (strcmp(obs[i].family, family) != 0) continue;
        if (obs[i].kind == ACC_UNCONFIRMED && !with_r) continue;
        int seen = 0;
        for (int j = 0; j < k; j++) seen |= xs[j] == obs[i].macs;
        if (!seen) xs[k++] = obs[i].macs;
    }
    return k;
}

void acc_fit_family(const AccObs *obs, int n, const char *family, int use_unconfirmed,
                    AccFit *fit) {
    memset(fit, 0, sizeof *fit);
    fit->rmse = NAN;
    int with_r = 0;
    if (distinct_x(obs, n, family, 0) < 2) {
        if (!use_unconfirmed || distinct_x(obs, n, family, 1) < 2) return;
        with_r = 1;
    }
    double sx = 0, sy = 0;
    int m = 0;
    fit->min_macs = INFINITY;
    for (int i = 0; i < n; i++) {
        if (strcmp(obs[i].family, family) != 0) continue;
        if (obs[i].kind == ACC_UNCONFIRMED && !with_r) continue;
        sx += log(obs[i].macs);
        sy += obs[i].value;
        m++;
        if (obs[i].kind == ACC_UNCONFIRMED) fit->n_unconfirmed++;
        if (obs[i].macs < fit->min_macs) fit->min_macs = obs[i].macs;
        if (obs[i].macs > fit->max_macs) fit->max_macs = obs[i].macs;
    }
    double mx = sx / m, my = sy / m, sxx = 0, sxy = 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(obs[i].family, family) != 0) continue;
        if (obs[i].kind == ACC_UNCONFIRMED && !with_r) continue;
        double dx = log(obs[i].macs) - mx;
        sxx += dx * dx;
        sxy += dx * (obs[i].value - my);
    }
    fit->n = m;
    fit->slope = sxy / sxx;
    fit->intercept = my - fit->slope * mx;
    fit->mean_lx = mx;
    fit->sxx = sxx;
    snprintf(fit->basis, sizeof fit->basis, "%s", with_r ? "unconfirmed" : "confirmed");
    if (m > 2) {
        double ssr = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(obs[i].family, family) != 0) continue;
            if (obs[i].kind == ACC_UNCONFIRMED && !with_r) continue;
            double r = obs[i].value - (fit->intercept + fit->slope * log(obs[i].macs));
            ssr += r * r;
        }
        fit->rmse = sqrt(ssr / (m - 2));
    }
}

void acc_fit_eval(const AccFit *fit, double macs, double *value, double *std_error) {
    double lx = log(macs);
    *value = fit->intercept + fit->slope * lx;
    if (std_error == NULL) return;
    if (fit->n <= 2 || isnan(fit->rmse)) *std_error = NAN;
    else
        *std_error = fit->rmse * sqrt(1.0 / fit->n + (lx - fit->mean_lx) * (lx - fit->mean_lx) /
                                                         fit->sxx);
}

/* The points of a fit as JSON: [{model, macs, value, source}]. */
static char *fit_points_json(const AccObs *obs, int n, const char *family, const AccFit *fit) {
    size_t cap = 256 + (size_t)n * 400;
    char *buf = malloc(cap);
    if (buf == NULL) return NULL;
    size_t k = 0;
    buf[k++] = '[';
    int first = 1;
    int with_r = strcmp(fit->basis, "unconfirmed") == 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(obs[i].family, family) != 0) continue;
        if (obs[i].kind == ACC_UNCONFIRMED && !with_r) continue;
        char model[200], src[400];
        size_t a = 0, b = 0;
        for (const char *c = obs[i].model; *c && a + 3 < sizeof model; c++) {
            if (*c == '"' || *c == '\\') model[a++] = '\\';
            model[a++] = (unsigned char)*c < 0x20 ? ' ' : *c;
        }
        model[a] = '\0';
        for (const char *c = obs[i].source; *c && b + 3 < sizeof src; c++) {
            if (*c == '"' || *c == '\\') src[b++] = '\\';
            src[b++] = (unsigned char)*c < 0x20 ? ' ' : *c;
        }
        src[b] = '\0';
        int w = snprintf(buf + k, cap - k, "%s{\"model\": \"%s\", \"macs\": %.0f, \"value\": %.6g, "
                                           "\"source\": \"%s\"}",
                         first ? "" : ", ", model, obs[i].macs, obs[i].value, src);
        if (w < 0 || (size_t)w >= cap - k) break;
        k += (size_t)w;
        first = 0;
    }
    if (k + 2 > cap) k = cap - 2;
    buf[k++] = ']';
    buf[k] = '\0';
    return buf;
}

SimStatus acc_estimates_update(Store *s, int use_unconfirmed, AccNoteFn note, void *ctx,
                               int *nest, SimError *err) {
    int ntask = 0;
    const AccTask *tk = acc_tasks(&ntask);
    StoreEstimate *est = NULL;
    char **jsons = NULL;
    size_t nes = 0, cap = 0;
    int njson = 0;
    SimStatus code = SIM_OK;
    AccObs *obs = NULL;
    StoreRows *pts = NULL;
    jsons = calloc((size_t)ntask * 3 + 1, sizeof *jsons);
    if (jsons == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory fitting accuracy");
    for (int ti = 0; ti < ntask; ti++) {
        const AccTask *t = &tk[ti];
        int nobs = 0;
        free(obs);
        obs = NULL;
        if ((code = acc_observations(s, t, &obs, &nobs, err)) != SIM_OK) goto out;
        for (int fi = 0; fi < 3 && t->families[fi]; fi++) {
            const char *fam = t->families[fi];
            AccFit fit;
            acc_fit_family(obs, nobs, fam, use_unconfirmed, &fit);
            if (fit.n == 0) {
                if (note) {
                    char m[300];
                    snprintf(m, sizeof m,
                             "%s %s: fewer than two measured points: no estimates%s", t->name,
                             fam,
                             use_unconfirmed ? "" : " (--use-unconfirmed adds recalled points)");
                    note(ctx, m);
                }
                continue;
            }
            const char *params[1] = {fam};
            store_rows_free(pts);
            pts = NULL;
            if ((code = store_select(s,
                                     "SELECT r.id AS run_id, max(p.width) AS width, r.macs AS "
                                     "macs FROM sweep_points p JOIN runs r ON r.id = p.run_id "
                                     "WHERE p.family = ?1 AND (p.role IN ('chosen', "
                                     "'neighbour') OR (p.role = 'vary' AND p.label LIKE "
                                     "'width=%')) AND r.mode = 'forward' AND r.tgt_len = 30 "
                                     "AND r.src_len IN (0, 30) AND r.attn_macs = 'causal' AND "
                                     "r.conv_macs = 'taps' AND r.macs > 0 GROUP BY r.id ORDER "
                                     "BY r.macs",
                                     params, 1, &pts, err)) != SIM_OK)
                goto out;
            char *json = fit_points_json(obs, nobs, fam, &fit);
            if (json == NULL) {
                code = sim_errorf(err, SIM_ENOMEM, "out of memory fitting accuracy");
                goto out;
            }
            jsons[njson++] = json;
            for (size_t i = 0; i < pts->nrows; i++) {
                if (nes == cap) {
                    size_t nc = cap ? cap * 2 : 64;
                    StoreEstimate *ne = realloc(est, nc * sizeof *ne);
                    if (ne == NULL) {
                        code = sim_errorf(err, SIM_ENOMEM, "out of memory fitting accuracy");
                        goto out;
                    }
                    est = ne;
                    cap = nc;
                }
                double macs = store_rows_num(pts, i, "macs"), val, se;
                acc_fit_eval(&fit, macs, &val, &se);
                StoreEstimate *e = &est[nes++];
                e->run_id = (int64_t)store_rows_num(pts, i, "run_id");
                e->family = fam;
                e->width = (int64_t)store_rows_num(pts, i, "width");
                e->macs = (uint64_t)macs;
                e->task = t->name;
                e->metric = t->metric;
                e->value = val;
                e->std_error = se;
                e->fit_rmse = fit.rmse;
                e->fit_n = fit.n;
                e->fit_slope = fit.slope;
                e->fit_intercept = fit.intercept;
                e->basis = strcmp(fit.basis, "unconfirmed") == 0 ? "unconfirmed" : "confirmed";
                e->fit_points_json = json;
            }
            if (note) {
                char m[400], r[40];
                if (isnan(fit.rmse)) snprintf(r, sizeof r, "unknown with 2 points");
                else snprintf(r, sizeof r, "%.3f", fit.rmse);
                snprintf(m, sizeof m,
                         "%s %s: %s = %.3f %+.3f ln(MACs) over %d %s points (rmse %s): %zu "
                         "estimate%s",
                         t->name, fam, t->metric, fit.intercept, fit.slope, fit.n, fit.basis, r,
                         pts->nrows, pts->nrows == 1 ? "" : "s");
                note(ctx, m);
            }
        }
    }
    code = store_estimates_replace(s, est, nes, err);
    if (code == SIM_OK && nest) *nest = (int)nes;
out:
    for (int i = 0; i < njson; i++) free(jsons[i]);
    free(jsons);
    free(est);
    free(obs);
    store_rows_free(pts);
    return code;
}
