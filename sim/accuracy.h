/*
 * accuracy.h - accuracy against compute: the tasks and their metrics, users' own measured
 * scores (a CSV imported into the database), the observations a chart draws (published,
 * unconfirmed, imported), and estimates for swept widths from a per-family, per-task fit of
 * the score against ln(Mult-Adds) over measured points.
 *
 * Every point sits at the MACs ltsim counts for its config (count-only, at the config's
 * default lengths: 30 tokens, 45 for CNN-DailyMail), so published, imported and swept points
 * share one axis; a published point without a config keeps its published Mult-Adds.
 * Estimates are stored apart from measurements (table accuracy_estimates) and always carry
 * the fit's error. Nothing here prints; notes go through a callback.
 */
#ifndef LTSIM_ACCURACY_H
#define LTSIM_ACCURACY_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "status.h"
#include "store.h"

/* A task: its metric (the one charts and fits use) and the sweep families it applies to. */
typedef struct {
    const char *name;        /* wmt-en-de | wmt-en-fr | iwslt-de-en | cnndm | wikitext-103 */
    const char *title;       /* "WMT'14 En-Fr" */
    const char *metric;      /* bleu | rouge-l | ppl */
    const char *unit;        /* "BLEU", "ROUGE-L", "test perplexity" */
    int higher_is_better;
    const char *families[3]; /* sweep families estimated for this task, NULL-terminated */
} AccTask;

const AccTask *acc_tasks(int *n);
const AccTask *acc_task_find(const char *name); /* NULL when unknown */

/* 1 when m is a metric that can be imported: bleu, rouge-1, rouge-2, rouge-l, ppl. */
int acc_metric_valid(const char *m);

/* Display name of a family ("lite" -> "Lite Transformer"; unknown: the name itself). */
const char *acc_family_title(const char *family);

/* The chart family of a config: lite | lite-light (lightweight-conv branches) | transformer |
 * evolved | lite-lm | transformer-lm. */
const char *acc_config_family(const ModelConfig *cfg);

/* A config as accuracy data names it: a models/ name, a YAML path, or FAMILY:WIDTH (a sweep
 * family's template at width d). Loads it and counts it (count-only, default conventions,
 * the config's default lengths or 30). */
typedef struct {
    char model_name[128];    /* NAME, or FAMILY:WIDTH */
    char family[24];
    int64_t width;           /* encoder (or decoder) d */
    uint64_t macs, params;   /* headline */
    int64_t src_len, tgt_len;
    char path[1024];         /* the file ("" for a template) */
} AccConfig;

/* SIM_EINVAL when config names nothing (message: "unknown config '...'" and what is
 * accepted) or the config does not load (the loader's message). */
SimStatus acc_config_resolve(const char *config, const char *base_dir, AccConfig *out,
                             SimError *err);

/* ---- importing measured scores ---- */

/* A row of an accuracy CSV, resolved. */
typedef struct {
    char config[256];
    char task[32];
    char metric[16];
    double value;
    char note[256];
    int line;
    AccConfig cfg;
} AccRow;

/* Reads and checks FILE: a header naming the columns config, task, metric, value (any order;
 * optional note); '#' lines and blank lines skipped; fields may be double-quoted. metric
 * defaults to the task's when the column is absent. Every config is resolved and counted.
 * SIM_EINVAL with one line "<file>:<line>:<col>: <column>: <what is wrong> ('<value>')" for
 * an unknown config, task or metric, a non-numeric or non-finite score, a missing column.
 * *rows is malloc'd (free()); *n its length. */
SimStatus acc_csv_read(const char *path, AccRow **rows, int *n, SimError *err);

/* Stores rows (from acc_csv_read of file) in one transaction (store_accuracy_import). */
SimStatus acc_import(Store *s, const char *file, const AccRow *rows, int n, int64_t *added,
                     int64_t *replaced, SimError *err);

/* ---- observations and fits ---- */

typedef enum {
    ACC_PUBLISHED = 0, /* published, tag V or D */
    ACC_UNCONFIRMED,   /* published, tag R (drawn hollow, fitted only on request) */
    ACC_IMPORTED,      /* measured by the user (accuracy_results) */
    ACC_KIND_COUNT
} AccKind;

typedef struct {
    char family[24];   /* chart family, or "other" */
    char model[96];    /* published model name, or the imported model_name */
    char config[128];  /* models/ name behind it, "" when none */
    double macs;       /* counted by ltsim (config) or published */
    int counted;       /* 1: macs counted by ltsim; 0: the published number */
    double value;
    AccKind kind;
    char source[200];
} AccObs;

/* The observations of a task (its metric): published rows (compression variants and
 * duplicates dropped) and imported results, sorted by family, kind, MACs. *out is malloc'd
 * (free()), *n its length (may be 0). */
SimStatus acc_observations(Store *s, const AccTask *t, AccObs **out, int *n, SimError *err);

/* score = intercept + slope * ln(macs), least squares. */
typedef struct {
    int n;                 /* points used (0: no fit) */
    int n_unconfirmed;     /* of which tag R */
    double slope, intercept;
    double rmse;           /* residual standard deviation, sqrt(SSR / (n - 2)); NAN for n = 2 */
    double mean_lx, sxx;   /* mean of ln(macs) and sum of squared deviations */
    double min_macs, max_macs;
    char basis[16];        /* "confirmed" | "unconfirmed" */
} AccFit;

/* Fits family's points among obs: the measured ones (published V/D and imported) when there
 * are at least two at distinct MACs; else, with use_unconfirmed, those plus the recalled ones
 * (basis "unconfirmed"); else no fit (fit->n = 0). */
void acc_fit_family(const AccObs *obs, int n, const char *family, int use_unconfirmed,
                    AccFit *fit);

/* The fitted score at macs and its standard error (NAN when the fit has two points). */
void acc_fit_eval(const AccFit *fit, double macs, double *value, double *std_error);

typedef void (*AccNoteFn)(void *ctx, const char *msg);

/* Recomputes every estimate: for each task and each of its sweep families with a fit, the
 * swept points of that family in the database (roles chosen, neighbour and width variations;
 * forward runs at 30 tokens under the default conventions) get the fitted score, stored
 * with store_estimates_replace (the previous estimates are replaced). *nest (may be NULL)
 * receives the number stored. note (may be NULL) hears one line per fit. */
SimStatus acc_estimates_update(Store *s, int use_unconfirmed, AccNoteFn note, void *ctx,
                               int *nest, SimError *err);

#endif
