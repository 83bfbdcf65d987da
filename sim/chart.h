/*
 * chart.h - the charts of DESIGN.md §7, built from the results database (and, where the
 * database has nothing yet, from count-only runs) and drawn through plot.h:
 *
 *   accuracy-<task>  accuracy vs Mult-Adds per family: published (solid), unconfirmed
 *                    (hollow), imported (squares), estimates of swept widths (diamonds with
 *                    error bars, dashed fit)
 *   latency          predicted latency vs Mult-Adds per device, forward and generate
 *   energy           predicted energy per sentence per device, forward and generate
 *   breakdown        stacked MACs by operator class for each family at each budget
 *   seqlen           MACs vs sentence length 10-500, total and attention (Transformer vs Lite)
 *   carbon           design cost in CO2e on a log scale, with everyday equivalents
 *   calibration      measured vs predicted host latency with the +-10 % band
 *
 * Files: <out_dir>/<name>.{dat,gp,png,svg}. Nothing here prints: notes go through a callback.
 */
#ifndef LTSIM_CHART_H
#define LTSIM_CHART_H

#include <stddef.h>

#include "carbon.h"
#include "status.h"
#include "store.h"

typedef enum {
    CHART_ACCURACY = 0,
    CHART_LATENCY,
    CHART_ENERGY,
    CHART_BREAKDOWN,
    CHART_SEQLEN,
    CHART_CARBON,
    CHART_CALIBRATION,
    CHART_KIND_COUNT
} ChartKind;

const char *chart_kind_name(ChartKind k);
int chart_kind_parse(const char *s, ChartKind *k); /* 0 ok, -1 unknown */

typedef void (*ChartNoteFn)(void *ctx, const char *msg);

typedef struct {
    const char *out_dir;   /* existing directory for the files */
    const char *task;      /* accuracy: this task only (NULL: every task with data) */
    const char *families;  /* comma-separated families to draw (NULL: all) */
    const char *hw;        /* comma-separated profiles to draw (NULL: all) */
    const char *models;    /* seqlen: comma-separated configs (NULL: transformer-wmt-320,
                              lite-wmt-496) */
    int use_unconfirmed;   /* accuracy: fit recalled points when measured ones are too few */
    int no_render;         /* write .dat and .gp only (no gnuplot) */
    int no_calibrate;      /* calibration: never time this host to get a host profile */
    ChartNoteFn note;      /* progress and warnings, one line each (may be NULL) */
    void *note_ctx;
} ChartOptions;

/* One chart written. */
typedef struct {
    char name[96];      /* the file stem */
    char kind[16];
    char task[24];      /* accuracy charts: the task */
    char title[200];
    char caption[1600]; /* what is drawn, from which data, under which conventions */
    size_t npoints;
    int rendered;       /* PNG and SVG written */
    int n_within;       /* calibration: points, and within +-10 % / +-20 % */
    int n_pairs, n_within20;
    double median_abs_err;
} ChartFile;

/* Builds the charts of kind k (accuracy: one per task) into o->out_dir; out receives at most
 * max of them, *n how many. A chart without data is skipped with a note, not an error.
 * Accuracy first refreshes the stored estimates (acc_estimates_update). Errors: SIM_EPLOT
 * (gnuplot missing or failing; the .dat and .gp are written first), SIM_EIO, SIM_EDB,
 * SIM_EINVAL (a bad --models config or --task), SIM_ENOMEM. */
SimStatus chart_make(Store *s, ChartKind k, const ChartOptions *o, ChartFile *out, int max,
                     int *n, SimError *err);

/* The carbon chart of given items (a --compare) with the everyday equivalents, as name. */
SimStatus chart_carbon_items(const CarbonItem *items, int n, const char *name,
                             const ChartOptions *o, ChartFile *out, SimError *err);

#endif
