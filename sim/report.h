/*
 * report.h - the readable and the JSON form of one run's results (DESIGN.md §4).
 *
 * Both are built from the run's ledger and the model's parameter registry; nothing here
 * computes a cost of its own. The caller (the CLI) owns the output stream.
 */
#ifndef LTSIM_REPORT_H
#define LTSIM_REPORT_H

#include <stdio.h>

#include "runner.h"

#define LTSIM_VERSION "0.1.0"

/* The size ledger of a run (--quant, --prune, --size-baseline). */
typedef struct {
    CompressSize model;         /* this model as stored */
    CompressSize baseline;      /* the baseline's fp32 size (bytes_fp32), when named */
    const char *baseline_name;  /* NULL: none */
    int include_embeddings;
} ReportSize;

typedef struct {
    const char *command;    /* "run" | "count" */
    const char *model_path; /* the config as resolved */
    const ModelConfig *cfg;
    const RunSpec *spec;
    const RunResult *res;
    const HwPrediction *preds; /* (npreds) predictions for --hw profiles, or NULL */
    int npreds;
    int64_t run_id;            /* the stored run, 0 when not stored */
    const char *db_path;       /* where it was stored */
    const ReportSize *size;    /* the size ledger, or NULL */
} ReportInput;

/* Headline figures derived from the ledger and the registry. */
typedef struct {
    uint64_t params, params_output_projection, params_total;
    uint64_t macs;                   /* headline: without embeddings and output projection */
    uint64_t macs_output_projection;
    uint64_t other_flops;
    uint64_t flops;                  /* 2 * (macs + macs_output_projection) + other FLOPs */
    uint64_t bytes_weights;          /* all parameters at fp32 */
    uint64_t bytes_activations;      /* activation bytes read + written over the pass */
    uint64_t class_macs[CLASS_COUNT];
    /* language models with an adaptive input / softmax (inside the embedding+output figures) */
    int adaptive;
    uint64_t macs_adaptive_input, macs_adaptive_softmax;
    uint64_t params_adaptive_input, params_adaptive_softmax;
} ReportTotals;

void report_totals(const ReportInput *in, ReportTotals *t);

/* Figures of generate step i (0-based): headline MACs, output-projection MACs, weight bytes. */
typedef struct {
    uint64_t macs, macs_out, weight_bytes;
} StepFigures;
void step_figures(const RunResult *res, int64_t i, StepFigures *out);

/* One line stating the counting conventions in force. */
void report_conventions_line(const Conventions *cv, char *buf, size_t n);

/* Writes the readable report. */
void report_text(FILE *f, const ReportInput *in);

/* Writes the JSON document (one object, newline-terminated). Returns 0, or -1 when
 * memory runs out while building it. */
int report_json(FILE *f, const ReportInput *in);

/* Environment of the timing: BLAS build, OPENBLAS_CORETYPE, OPENBLAS_L2_SIZE, threads. */
void report_host_line(const RunSpec *spec, char *buf, size_t n);

#endif
