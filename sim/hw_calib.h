/*
 * hw_calib.h - measuring for the latency model: CSV files of device latencies, calibration
 * of a profile from them, calibration of this host (ltsim's own kernels over a grid of
 * shapes, a read-bandwidth sweep for the usable last-level cache), and validation of
 * predicted against measured latencies (DESIGN.md §6).
 *
 * Nothing here prints: progress and warnings go through HwCalibOptions.note.
 */
#ifndef LTSIM_HW_CALIB_H
#define LTSIM_HW_CALIB_H

#include <stdint.h>

#include "config.h"
#include "hw.h"
#include "runner.h"

/* ---- CSV of measured latencies ----
 * A header line naming the columns (any order): config, mode, src_len, tgt_len, beam,
 * latency_ms, and optionally vocab_size. mode is forward (one teacher-forced pass) or generate
 * (tgt_len decoder steps at the given beam). Blank lines and lines starting with '#' are
 * skipped; fields may be double-quoted. config is a model YAML path relative to the CSV's
 * folder, or to models/ (a bare NAME means models/NAME.yml). */
typedef struct {
    char config[256];  /* as written */
    char path[1024];   /* resolved file */
    char mode[16];     /* "forward" | "generate" */
    int64_t src_len, tgt_len;
    int beam;
    int64_t vocab_size; /* 0: the config's */
    double latency_ms;
    int line;          /* line in the CSV */
    int config_col;    /* column (1-based, in characters) of the config field */
    int mode_col;
} HwCsvRow;

/* Reads and checks a CSV. On failure SIM_EINVAL with one line naming the file, line and
 * column: "<file>:<line>:<col>: <column>: <what is wrong>". *rows is malloc'd (free()). */
SimStatus hw_csv_read(const char *path, HwCsvRow **rows, int *n, SimError *err);

/* ---- options and results ---- */



/* What the host calibration measured besides the kernel timings. */
#define HW_SWEEP_MAX 40
/* The blocked GEMMs the calibration times to find the kernel's tile rows: M up to this. */
#define HW_GEMM_ROWS_MAX 36

typedef struct {
    int nsweep;
    double sweep_kib[HW_SWEEP_MAX];  /* working-set sizes of the read sweep */
    double sweep_gbs[HW_SWEEP_MAX];  /* read bandwidth at each */
    double llc_kib;                  /* usable LLC: where the bandwidth falls to 2x DRAM's */
    double dram_gbs;                 /* read bandwidth of the largest working sets */
    double sgemm_gflops;             /* best sgemm rate through op_exec (512^3) */
    double gemm_rows_ns[HW_GEMM_ROWS_MAX + 1]; /* [M], M = OPS_GEMV_ROWS + 1 .. HW_GEMM_ROWS_MAX:
                                        ns per weight of an M x 512 x 512 product through
                                        op_exec (the fastest of 6 rounds) */
    int gemm_tile;                   /* the tile rows whose remainder passes fit them best */
    int nstream;                     /* points of the stream curve (0: not measured) */
    double stream_row_bytes[HW_STREAM_POINTS]; /* matrix-vector products over a matrix 4x the
                                        LLC, by weight row length: */
    double stream_row_ns[HW_STREAM_POINTS];    /* ns per row (the quietest round's median,
                                        made non-decreasing) */
    int runs;                        /* configs timed */
    int noisy;                       /* configs whose quietest rounds never agreed within 2 % */
} HwHostMeasure;

/* The tile rows of a GEMM kernel from the time per weight ns[m] of M x K x N products,
 * m = mmin..mmax: for each tile u in 1, 2, 4, 8, 16 a least-squares fit
 * t(M) = a + b M + c popcount(M mod u) (a kernel pass for each set bit of the remainder);
 * the tile with the smallest residual, 1 unless a remainder pattern (c > 0) cuts the
 * residual of the straight line by a quarter. */
int hw_gemm_tile_pick(const double *ns, int mmin, int mmax);

/* The usable last-level cache (KiB) from a read-bandwidth sweep (working sets kib[0..n)
 * ascending, bandwidths gbs, dram_gbs that of the largest sets): the last cache level's
 * plateau is where the bandwidth, walking down from the largest set still 1.25x DRAM's
 * that a drop follows (15 % in one step or 30 % in two; without one, the largest set still
 * 1.25x DRAM's), stops rising by more than 10 % per step; the usable size is where the bandwidth falls
 * half-way from that plateau to DRAM's (log-linear between points). kib[0] when no set is
 * faster than DRAM. */
double hw_llc_kib(const double *kib, const double *gbs, int n, double dram_gbs);

/* The at-th config (0 <= at < n) timed in a round of two sets, configs [0, nfirst) and
 * [nfirst, n): merged by their relative positions in their sets ((i + 0.5) / size), so that
 * each stretch of a round holds both sets in proportion. nfirst <= 0 or >= n: at. */
int hw_round_order(int at, int n, int nfirst);

/* dispatch_us and outside_factor from n runs: each run's time outside its operators'
 * kernels and the search (outside_ms), fitted as dispatch_us per operator call (calls) plus
 * (outside_factor - 1) times the kernels' own time (kern_ms), least squares relative to each
 * run's time (run_ms), both terms >= 0 (the better single term when the pair would need a
 * negative one). The second term is time between operators that grows with the run rather
 * than with the calls: on an Intel Xeon VM 2.0-2.5 % of the kernels' time, in forward and
 * generate runs alike, besides 0.55-0.66 us per call. Returns the runs used; 0 (fewer than 3
 * runs, or no positive dispatch) leaves both values unchanged. */
int hw_outside_fit(const double *calls, const double *kern_ms, const double *outside_ms,
                   const double *run_ms, int n, double *dispatch_us, double *factor);

/* The least-squares non-decreasing fit of v[0..n) in place (pool adjacent violators: each
 * run of points that falls is replaced by its mean). */
void hw_isotonic(double *v, int n);

typedef struct {
    char config[256];    /* the config as written in the CSV, or the built-in config's name */
    char mode[16];
    int64_t src_len, tgt_len;
    int beam;
    double predicted_ms;
    double measured_ms;
    double spread;       /* (p75 - p25) / median of the timed passes (host), 0 for CSV rows */
} HwValidateRow;

/* The statistics of a set of rows. */
typedef struct {
    int n;
    double within_10, within_20;         /* shares (fractions) of rows within +-10 % / 20 % */
    double median_abs_err, p90_abs_err;  /* |predicted - measured| / measured (fractions) */
    double rmse_ms;
} HwValidationSummary;

typedef struct {
    int n;
    double within_10, within_20;         /* shares (fractions) of rows within +-10 % / 20 % */
    double median_abs_err, p90_abs_err;  /* |predicted - measured| / measured (fractions) */
    double rmse_ms;
    HwValidateRow *rows;
    HwValidationSummary forward, generate; /* the same over the rows of each mode */
    int timed;                   /* the rows were timed here (spread known) */
    HwValidationSummary steady_forward, steady_generate; /* timed rows: the same over the rows
                                    whose spread is at most HW_STEADY_SPREAD (their measurement
                                    is steady enough to judge a prediction by) */
} HwValidation;

/* The spread (interquartile range over median of the timed passes) up to which a timed
 * row's measurement counts as steady. */
#define HW_STEADY_SPREAD 0.05

typedef void (*HwNoteFn)(void *ctx, const char *msg);

typedef struct {
    int threads;      /* BLAS threads for host measurements (0 = 1) */
    int quick;        /* host: a smaller grid and fewer repeats (a first look, tests) */
    int cold;         /* CSV: the latencies are single cold runs, not medians of repeats */
    HwNoteFn note;    /* progress and warnings, one line each (NULL: silent) */
    HwValidation *validate_into; /* host calibration: when not NULL, also times the validation
                                    set, in the same interleaved rounds as the grid (the same
                                    machine state), and fills this with its predictions on the
                                    fitted profile (hw_validation_free) */
    void *note_ctx;
} HwCalibOptions;

/* ---- calibration ---- */

/* Fits p's model parameters to the latencies of a CSV (forward and generate rows; each row's
 * ledgers come from a count-only run). Parameters the fit moved get the source status
 * `fitted` (with their standard error); the others keep their values and sources.
 * SIM_EINVAL for a bad CSV or config (file:line:col), SIM_ENOMEM. */
SimStatus hw_calibrate_csv(HwProfile *p, const char *csv, const HwCalibOptions *o,
                           HwFitReport *rep, SimError *err);

/* Calibrates this host: measures read bandwidth by working-set size (usable LLC, DRAM
 * bandwidth), the sgemm peak, and the per-operator times of a grid of built-in configs
 * (disjoint from the validation set) with runner_execute; fits the model; fills out as the
 * profile "host" with its provenance. The caller writes it (hw_profile_write). */
SimStatus hw_calibrate_host(HwProfile *out, const HwCalibOptions *o, HwFitReport *rep,
                            HwHostMeasure *meas, SimError *err);

/* The read-bandwidth sweep alone (part of hw_calibrate_host). */
SimStatus hw_measure_memory(HwHostMeasure *meas, int quick, SimError *err);

/* ---- validation ---- */

/* Host: measures the built-in validation set (at least 30 configs, Transformer, Lite and Evolved,
 * widths 128-1024, lengths 10-100) and predicts each with p (warm: medians of repeats). */
SimStatus hw_validate_host(const HwProfile *p, const HwCalibOptions *o, HwValidation *v,
                           SimError *err);

/* Against a CSV of measurements. */
SimStatus hw_validate_csv(const HwProfile *p, const char *csv, const HwCalibOptions *o,
                          HwValidation *v, SimError *err);

/* Fills the statistics of v from its rows. */
void hw_validation_stats(HwValidation *v);
void hw_validation_free(HwValidation *v);

/* The built-in validation set: its size, and config i (a YAML text for config_load_buffer,
 * a name, the lengths). 0 ok, -1 out of range. */
int hw_validation_set_size(void);
int hw_validation_config(int i, char *yaml, size_t n, char *name, size_t nn, int64_t *src_len,
                         int64_t *tgt_len, const char **mode, int *beam);

/* The host calibration grid, the same way (disjoint from the validation set). */
int hw_calibration_set_size(void);
int hw_calibration_config(int i, char *yaml, size_t n, char *name, size_t nn, int64_t *src_len,
                          int64_t *tgt_len, const char **mode, int *beam);

/* Ledgers of one row: a count-only run of cfg at (S, T); generate: tgt_len decoder steps at
 * this beam, no early stop (res owns the ledgers; runner_result_free). */
SimStatus hw_row_ledgers(const ModelConfig *cfg, const char *mode, int64_t src_len,
                         int64_t tgt_len, int beam, RunResult *res, SimError *err);

/* The ledgers of a run in hw_predict's order: forward {ledger}; generate {once, steps[0..]}.
 * malloc'd array (free()) of *n pointers into res; NULL when out of memory. */
const CostLedger **hw_run_ledgers(const RunResult *res, int *n);

#endif
