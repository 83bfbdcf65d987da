/*
 * summary.h - `ltsim report`: every chart of chart.h plus the tables behind them, as one
 * self-contained HTML page (index.html, the images as files beside it) and the same as
 * Markdown (report.md): the sweeps, accuracy (published, imported, estimates with their fit
 * error), the counting conventions, calibration quality, design cost, and the provenance of
 * every number. Nothing here prints; notes go through the chart options' callback.
 */
#ifndef LTSIM_SUMMARY_H
#define LTSIM_SUMMARY_H

#include "chart.h"
#include "status.h"
#include "store.h"

#define SUMMARY_MAX_CHARTS 24

typedef struct {
    ChartOptions chart;    /* out_dir, filters, note; every kind is drawn */
    const char *db_path;   /* shown in the provenance */
} SummaryOptions;

typedef struct {
    ChartFile charts[SUMMARY_MAX_CHARTS];
    int ncharts;
    char html[1100], markdown[1100]; /* the files written */
} SummaryResult;

/* Draws every chart into o->chart.out_dir (which is created when missing) and writes
 * index.html and report.md there (atomically: a temporary file renamed). Errors as
 * chart_make's, and SIM_EIO naming a file that cannot be written. */
SimStatus summary_write(Store *s, const SummaryOptions *o, SummaryResult *r, SimError *err);

#endif
