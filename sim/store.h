/*
 * store.h - the results database (DESIGN.md §5): one SQLite file holding every run with its
 * provenance, ledger, measurements and predictions, the sweeps and their points, calibration
 * fits, and the published results. store.c is the only file that includes <sqlite3.h>.
 *
 * The schema is db/schema.sql, compiled into the binary as a list of migration steps; a
 * database records the last step applied in PRAGMA user_version and store_open applies the
 * missing ones. Every write is one transaction: a run is stored whole or not at all, also
 * when the process is killed. Two processes writing the same file wait for each other up to
 * the busy timeout (10 s), then fail with "database is locked". Databases are in WAL mode
 * with synchronous=NORMAL: a crash or kill -9 never leaves partial rows; a power loss may
 * lose the last transactions, never consistency.
 *
 * A Store is one connection: use it from one thread, and open a new one in a child process
 * after fork() (never use a parent's Store in the child). Every SimError *err argument must
 * be non-NULL.
 */
#ifndef LTSIM_STORE_H
#define LTSIM_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "report.h"
#include "status.h"

#define STORE_SCHEMA_VERSION 3     /* the last migration step of db/schema.sql */
#define STORE_BUSY_TIMEOUT_MS 10000
#define STORE_HASH_LEN 64          /* hex SHA-256, without the NUL */
#define STORE_UUID_LEN 32          /* hex 128-bit random id, without the NUL */

typedef struct Store Store;

/* ---- opening ---- */

/* The default database: $LTSIM_HOME/db/ltsim.db when LTSIM_HOME is set, else db/ltsim.db
 * beside the running binary (/proc/self/exe). Writes it into buf (n bytes). Returns SIM_EIO
 * when the binary's path cannot be read or the result does not fit. */
SimStatus store_default_path(char *buf, size_t n, SimError *err);

/* Opens (creating it when missing) the database at path (":memory:" for a private in-memory
 * database; NULL for store_default_path(), whose db/ directory is created if missing). Sets
 * WAL mode, foreign keys and the busy timeout, applies the missing migration steps, and
 * loads the published results when they are missing or changed. Returns NULL with err set:
 * SIM_EDB (not an ltsim database, schema newer than this ltsim, locked past the busy
 * timeout, a directory or file that is not writable, ...), SIM_EIO (disk full, I/O error),
 * SIM_ENOMEM. The message is one line naming the file. Close with store_close. */
Store *store_open(const char *path, SimError *err);

/* Same, but applies migration steps only up to max_version (0: none) and loads the
 * published results only when the schema has table published. For tests of the migrations
 * and for inspecting old databases. */
Store *store_open_at(const char *path, int max_version, SimError *err);

/* Closes the connection (NULL allowed). */
void store_close(Store *s);

/* The path the Store was opened with (never NULL). */
const char *store_path(const Store *s);

/* Busy timeout in milliseconds for this connection (default STORE_BUSY_TIMEOUT_MS). */
void store_set_busy_timeout(Store *s, int ms);

/* Schema version (PRAGMA user_version) of the open database; -1 with err set on failure. */
int store_schema_version(Store *s, SimError *err);

/* ---- runs ---- */

/* A hardware-profile prediction of a run (the hw module fills these; DESIGN.md §6). */
typedef struct {
    const char *hw;           /* profile name, not empty */
    double latency_ms;        /* >= 0 */
    double energy_mj;         /* >= 0, or NAN when the profile has no energy model */
    const char *bound;        /* "compute" | "memory" | NULL */
    const char *top_ops_json; /* JSON array text [{"scope":..,"latency_ms":..}], NULL = "[]" */
    const char *profile_text; /* the profile file's text, or NULL */
} StorePrediction;

/* One generate step (t = 1..T), as `--json` prints "steps" (read back by store_run_load). */
typedef struct {
    int64_t step;                    /* t >= 1 */
    uint64_t macs, macs_output_projection, bytes_weights, bytes_cache;
    double host_ms;                  /* median measured step time, or NAN when not timed */
} StoreStep;

/* The sweep point a run measures (see "sweeps" below). */
typedef struct {
    int64_t sweep_id;     /* from store_sweep_begin */
    const char *family;   /* lite | lite-light | transformer | evolved | ... */
    uint64_t budget_macs; /* the budget this point answers, 0 when not tied to one */
    int64_t width;        /* d, > 0 */
    const char *role;     /* "chosen" | "neighbour" | "reference" | "vary" */
    const char *label;    /* reference: config name; vary: "KEY=VALUE"; NULL = "" */
} StoreSweepPoint;

/* What a run's ReportInput does not carry. Every field may be 0 / NULL. (The mode, the
 * generate options, per-step rows and the once figures come from in->spec and in->res.) */
typedef struct {
    const char *git_hash;       /* commit of the build (store_git_hash can find it), or NULL */
    const char *config_text;    /* config text; NULL: read in->model_path (NULL if unreadable) */
    const char *options_extra;  /* options that change the result and that RunSpec lacks:
                                   stored, and part of the content hash */
    const char *note;           /* free text stored with the run */
    const StorePrediction *predictions;
    size_t npredictions;
    const StoreSweepPoint *point; /* the sweep point this run measures, stored in the same
                                     transaction; NULL when not part of a sweep */
    int skip_ledger;            /* 1: store the totals but no per-scope ledger rows (large
                                   count-only sweeps) */
} StoreExtra;

/* The content hash of a run (64 hex digits + NUL into out): SHA-256 of the ltsim version,
 * count-only or executed, mode (and generate's beam, step bound, early stop), lengths,
 * tokens, seed, conventions, weights path, options_extra, the resolved config (the keys of
 * table run_config) and, for executed runs, threads, warm-up and repeats; equal hashes mean
 * the same computation. A sweep computes it before running a point to skip finished ones
 * (store_find_by_hash). options_extra may be NULL. */
void store_content_hash(const ModelConfig *cfg, const RunSpec *spec, const char *options_extra,
                        char out[STORE_HASH_LEN + 1]);

/* Stores one run in one transaction: its row in runs (provenance: version, git hash, host
 * name, CPU model, BLAS and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE, threads, seed, conventions,
 * config text; totals from report_totals; generate mode: the once figures), its resolved
 * config keys, its ledger (generate: once + steps merged, as in->res->ledger), its
 * measurements when executed (in->res->repeats > 0), its generate steps (in->res->steps),
 * x's predictions and sweep point.
 * in->command, in->model_path, in->cfg, in->spec, in->res (with model and ledger) must be set;
 * x may be NULL. On success *run_id (may be NULL) is the new run's id. On failure nothing is
 * stored, err says why: SIM_EINVAL (missing input), SIM_EDB (a constraint, "database is
 * locked" past the busy timeout, read-only database), SIM_EIO (disk full, I/O error). */
SimStatus store_save_run(Store *s, const ReportInput *in, const StoreExtra *x, int64_t *run_id,
                         SimError *err);

/* For `ltsim run/count`: opens db_path (NULL: the default database), stores the run, closes.
 * Same results as store_open + store_save_run. */
SimStatus store_save_report(const char *db_path, const ReportInput *in, const StoreExtra *x,
                            int64_t *run_id, SimError *err);

/* The newest run whose content hash is hash: *run_id = its id, or 0 when there is none. */
SimStatus store_find_by_hash(Store *s, const char *hash, int64_t *run_id, SimError *err);

/* Resolves a run reference as users type it: an id ("12"), "latest", or a prefix of at
 * least 4 hex digits of a uuid. SIM_EINVAL with a message when there is no such run or the
 * prefix is ambiguous. */
SimStatus store_run_resolve(Store *s, const char *ref, int64_t *run_id, SimError *err);

/* ---- sweeps ---- */

/* A sweep specification. Its identity is SHA-256(version, spec_json): re-running the same
 * sweep, or another shard of it, finds the same row.
 *
 * The intended loop of `ltsim sweep` (each --jobs worker process opens its own Store):
 *   store_sweep_begin(s, &sw, &sweep_id, NULL, err);
 *   for each point of this shard:
 *       store_sweep_point_find(s, &pt, &rid, err);  if (rid) continue;   // done before
 *       store_content_hash(&cfg, &spec, extra, hash);
 *       store_find_by_hash(s, hash, &rid, err);
 *       if (rid) { store_sweep_point_add(s, &pt, rid, err); continue; }  // same run exists
 *       runner_execute(...);  x.point = &pt;  store_save_run(s, &in, &x, &rid, err);
 *   store_sweep_finish(s, sweep_id, err);
 * A point is stored with its run in one transaction, so a sweep killed at any moment and
 * run again finishes with every point exactly once. */
typedef struct {
    const char *name;      /* for people, e.g. "lite,transformer x 100M,300M,500M" */
    const char *spec_json; /* the options as a JSON object, without --jobs and --shard */
    const char *git_hash;  /* or NULL */
} StoreSweep;

/* Finds the sweep with this spec or inserts it. *created (may be NULL) is 1 when inserted. */
SimStatus store_sweep_begin(Store *s, const StoreSweep *sw, int64_t *sweep_id, int *created,
                            SimError *err);

/* Records that a run of the sweep completed every point (finished_at = now). */
SimStatus store_sweep_finish(Store *s, int64_t sweep_id, SimError *err);

/* Links an already stored run to a point (nothing when the point exists). */
SimStatus store_sweep_point_add(Store *s, const StoreSweepPoint *p, int64_t run_id,
                                SimError *err);

/* *run_id = the run of point p, or 0 when the point is not stored yet. */
SimStatus store_sweep_point_find(Store *s, const StoreSweepPoint *p, int64_t *run_id,
                                 SimError *err);

/* ---- calibration fits ---- */

typedef struct {
    const char *hw;           /* profile name */
    const char *method;       /* "host" | "csv" */
    const char *input_name;   /* CSV file or NULL */
    const char *input_text;   /* its text or NULL */
    const char *fit_json;     /* fitted parameters, a JSON object */
    const char *profile_text; /* the profile written, or NULL */
    int64_t n;                /* points used for the quality figures (-1: none) */
    double within_10, within_20, median_abs_err, p90_abs_err, rmse_ms; /* NAN when unknown */
    const char *git_hash;
} StoreCalibration;

SimStatus store_save_calibration(Store *s, const StoreCalibration *c, int64_t *id,
                                 SimError *err);

/* ---- reading runs back (ltsim db) ---- */

typedef enum { STORE_NULL = 0, STORE_INT, STORE_REAL, STORE_TEXT } StoreType;

/* One column of a row: name and typed value (text is NUL-terminated). */
typedef struct {
    char *name;
    StoreType type;
    int64_t i;
    double r;
    char *text;
} StoreField;

typedef struct {
    int64_t seq;
    char *scope, *op, *cls;
    uint64_t macs, other_flops, weight_bytes, act_bytes_read, bytes_written, params, calls;
    uint64_t time_ns;
    int64_t dims[3];
} StoreLedgerRow;

typedef struct {
    char *hw, *bound, *top_ops_json;
    double latency_ms, energy_mj; /* energy NAN when unknown */
} StorePredictionRow;

/* A stored run with everything that belongs to it. */
typedef struct {
    int64_t id;
    StoreField *fields;           /* the runs row: every column in table order */
    size_t nfields;
    StoreField *measurement;      /* the measurements row (nmeasurement = 0: not executed) */
    size_t nmeasurement;
    StoreField *config;           /* resolved config: name = key, text = value, in order */
    size_t nconfig;
    StoreLedgerRow *ledger;       /* in execution order */
    size_t nledger;
    StorePredictionRow *predictions;
    size_t npredictions;
    StoreStep *steps;
    size_t nsteps;
} StoreRun;

/* Loads run id. SIM_EINVAL when there is no such run. Free with store_run_free. */
SimStatus store_run_load(Store *s, int64_t id, StoreRun **out, SimError *err);
void store_run_free(StoreRun *r);

/* The field called name in a loaded row (NULL when absent). */
const StoreField *store_field(const StoreField *f, size_t n, const char *name);

/* Summary of a run for `ltsim db list`. */
typedef struct {
    int64_t id;
    char uuid[STORE_UUID_LEN + 1];
    char created_at[32];
    char command[16];
    char mode[16];
    char model_name[128];
    char family[16];
    int64_t src_len, tgt_len;
    char attn_macs[8], conv_macs[8];
    uint64_t params, macs;
    int has_measurement;
    double median_ms;
    int64_t npredictions;
} StoreRunSummary;

/* The newest runs first, at most limit (0: all). *out is malloc'd (free it), *n its length. */
SimStatus store_run_list(Store *s, int64_t limit, StoreRunSummary **out, size_t *n,
                         SimError *err);

/* ---- export and merge ---- */

typedef enum { STORE_CSV = 0, STORE_JSON } StoreFormat;

/* Names of the tables `ltsim db export --table` accepts, NULL-terminated: "points" (the
 * default: sweep points with their run's figures, predictions and published results joined)
 * and the tables of the schema. */
const char *const *store_export_tables(void);

/* Writes table (NULL = "points") to f as CSV (a header line, RFC 4180 quoting) or JSON (one
 * array of objects, newline-terminated). "points" as JSON: [{sweep, sweep_id, family,
 * budget_macs, width, role, label, run_id, model, macs, params, measured_ms, predictions:
 * [{hw, latency_ms, energy_mj, bound}], published: [{task, metric, value, unit, tag,
 * unconfirmed, source}]}] ([] when there are none); as CSV one line per (point, prediction).
 * SIM_EINVAL for an unknown table, SIM_EIO when writing fails. */
SimStatus store_export(Store *s, const char *table, StoreFormat fmt, FILE *f, SimError *err);

typedef struct {
    int64_t runs_added, runs_present;  /* present: same uuid already here */
    int64_t sweeps_added, points_added, calibrations_added;
    int64_t accuracy_added, comparisons_added; /* accuracy_results by (task, model, metric),
                                                  carbon_comparisons by uuid */
} StoreMergeStats;

/* Copies from the ltsim database at other every run (with its rows) whose uuid is not in s,
 * sweeps by spec hash, their points, calibrations and carbon comparisons by uuid, and the
 * imported accuracy results whose (task, model, metric) is not here (estimates are derived,
 * not copied: the next fit recomputes them); in one transaction, so
 * merging twice adds nothing. other is opened read-only and must have this schema version.
 * SIM_EINVAL: other missing, not an ltsim database, another schema version, or s itself. */
SimStatus store_merge(Store *s, const char *other, StoreMergeStats *st, SimError *err);

/* ---- published results ---- */

/* Loads published results from CSV text (the format of db/published.csv; name is used in
 * messages as "name:line: ..."), replacing the table's rows, in one transaction, unless the
 * text's SHA-256 is the one loaded last (then nothing changes). store_open does this with
 * the copy compiled into the binary. SIM_EINVAL with file:line for a malformed row. */
SimStatus store_published_load(Store *s, const char *csv, size_t len, const char *name,
                               SimError *err);

/* ---- accuracy measured by users, accuracy estimates, carbon comparisons ---- */

/* One score a user measured (`ltsim accuracy import`), with what ltsim counted for the config
 * it belongs to. Strings are borrowed for the call. */
typedef struct {
    const char *task;        /* wmt-en-de | wmt-en-fr | iwslt-de-en | cnndm | wikitext-103 */
    const char *config;      /* as written in the CSV */
    const char *model_name;  /* models/NAME.yml name, or FAMILY:WIDTH */
    const char *family;      /* lite | lite-light | transformer | evolved | lm */
    int64_t width;           /* d > 0 */
    const char *metric;      /* bleu | rouge-1 | rouge-2 | rouge-l | ppl */
    double value;
    uint64_t macs, params;   /* headline MACs and parameters counted by ltsim */
    int64_t src_len, tgt_len;
    const char *attn_macs, *conv_macs; /* the conventions of that count */
    const char *source_file; /* the CSV */
    int64_t line;            /* its line (>= 1) */
    const char *note;        /* NULL = "" */
} StoreAccuracy;

/* Stores n imported scores in one transaction; a (task, model_name, metric) stored before is
 * replaced. *added and *replaced (may be NULL) count them. On failure nothing is stored:
 * SIM_EDB (a constraint: unknown task or metric, ...; locked, read-only), SIM_EIO. */
SimStatus store_accuracy_import(Store *s, const StoreAccuracy *rows, size_t n, int64_t *added,
                                int64_t *replaced, SimError *err);

/* The estimated accuracy of one swept point (a fit of score against ln(MACs), never a
 * measurement). Strings are borrowed. */
typedef struct {
    int64_t run_id;          /* the sweep point's run */
    const char *family;
    int64_t width;
    uint64_t macs;           /* > 0 */
    const char *task, *metric;
    double value;            /* intercept + slope * ln(macs) */
    double std_error;        /* standard error of the fitted value here; NAN: unknown */
    double fit_rmse;         /* residual standard deviation of the fit; NAN: unknown */
    int fit_n;               /* points of the fit, >= 2 */
    double fit_slope, fit_intercept;
    const char *basis;       /* "confirmed" | "unconfirmed" (recalled points used) */
    const char *fit_points_json; /* [{model, macs, value, source}], NULL = "[]" */
} StoreEstimate;

/* Replaces every stored estimate by these n (0 clears them), in one transaction. */
SimStatus store_estimates_replace(Store *s, const StoreEstimate *e, size_t n, SimError *err);

/* Stores a carbon comparison: name (the --compare list), items and ratios as JSON arrays.
 * *id (may be NULL) is the new row's id. SIM_EDB for invalid JSON or a failed write. */
SimStatus store_carbon_save(Store *s, const char *name, const char *items_json,
                            const char *ratios_json, int64_t *id, SimError *err);

/* ---- reading any query ---- */

/* The rows of a query: nrows x ncols fields, row-major (cells[r * ncols + c]), each with its
 * column name. */
typedef struct {
    size_t nrows, ncols;
    StoreField *cells;
} StoreRows;

/* Runs one SELECT with text parameters ?1..?nparams (params may be NULL when nparams is 0)
 * and returns every row. Free with store_rows_free. SIM_EDB for bad SQL or a failed read,
 * SIM_ENOMEM. */
SimStatus store_select(Store *s, const char *sql, const char *const *params, int nparams,
                       StoreRows **out, SimError *err);
void store_rows_free(StoreRows *r);

/* The field of column col in row (NULL when there is no such column or row). */
const StoreField *store_rows_get(const StoreRows *r, size_t row, const char *col);

/* Column col of row as text ("" when it is missing or not text) and as a number (NaN when it
 * is missing, NULL or text). */
const char *store_rows_text(const StoreRows *r, size_t row, const char *col);
double store_rows_num(const StoreRows *r, size_t row, const char *col);

/* ---- compiled-in sources, helpers, tests ---- */

/* db/schema.sql and db/published.csv as compiled into the binary: malloc'd NUL-terminated
 * text (free it), NULL when out of memory. A test checks they equal the files. */
char *store_schema_sql(void);
char *store_published_csv(void);

/* Hex SHA-256 of n bytes. */
void store_sha256_hex(const void *data, size_t n, char out[STORE_HASH_LEN + 1]);

/* The commit checked out in repo_dir (NULL: $LTSIM_HOME, else the binary's directory), read
 * from .git/HEAD and its ref (loose or packed); "" when unknown. out must hold 41 bytes. */
void store_git_hash(const char *repo_dir, char *out, size_t n);

/* Runs SQL statements that return no rows (e.g. "BEGIN IMMEDIATE", "COMMIT"). */
SimStatus store_exec(Store *s, const char *sql, SimError *err);

/* The first column of the first row of one query: an integer or a text (NUL-terminated into
 * buf). SIM_EDB when the query returns no row. */
SimStatus store_query_int(Store *s, const char *sql, int64_t *out, SimError *err);
SimStatus store_query_text(Store *s, const char *sql, char *buf, size_t n, SimError *err);

/* Fault injection for tests: after each row store_save_run inserts, hook(ctx, rows so far)
 * is called; a non-zero return aborts the save (rolled back, SIM_EDB). NULL removes it. */
typedef int (*StoreRowHook)(void *ctx, int64_t rows);
void store_set_row_hook(Store *s, StoreRowHook hook, void *ctx);

#endif
