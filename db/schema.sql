-- db/schema.sql - the ltsim results database (DESIGN.md §5).
--
-- This file is the documented source of the schema. sim/store_sql.c holds the same text, one
-- C string per line, compiled into the binary (store_schema_sql()); tests/test_store.c checks
-- that the two are identical, so ltsim never reads this file at run time. Edit this file, then
-- regenerate sim/store_sql.c as its header comment says.
--
-- The schema is a list of migration steps. A line "-- migration N: ..." starts step N. A
-- database's PRAGMA user_version is the last step applied to it; store_open applies the
-- missing steps in order, each in one transaction that also sets user_version. Steps are
-- append-only: a released step is never edited, a change is a new step (ALTER TABLE ...).
--
-- Conventions: counts (MACs, FLOPs, bytes, parameters) are exact INTEGERs (< 2^63); times in
-- milliseconds are REAL; timestamps are UTC ISO 8601 text with milliseconds
-- (2025-01-31T12:00:00.000Z); JSON columns hold valid JSON text (checked). Every row that
-- belongs to a run is deleted with it (ON DELETE CASCADE; foreign keys are on).

-- migration 1: runs with their provenance, resolved config, ledger, measurements, predictions and steps

-- Facts about the database itself: published_sha256 = SHA-256 of the published results
-- loaded into table published (they are reloaded when the binary's copy changes).
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- One row per stored `ltsim run` / `ltsim count` (or sweep point): identity, the model, the
-- options, the provenance of the result, and its headline totals (DESIGN.md §3, the same
-- figures as `--json`).
CREATE TABLE runs (
    id                INTEGER PRIMARY KEY,
    uuid              TEXT NOT NULL UNIQUE CHECK (length(uuid) = 32),  -- random; identity across databases (db merge)
    content_hash      TEXT NOT NULL CHECK (length(content_hash) = 64), -- SHA-256 of version + options + resolved config (store_content_hash)
    created_at        TEXT NOT NULL,
    command           TEXT NOT NULL CHECK (command <> ''),             -- run | count | sweep | ...
    mode              TEXT NOT NULL CHECK (mode IN ('forward', 'generate')),
    count_only        INTEGER NOT NULL CHECK (count_only IN (0, 1)),
    -- the model
    model_path        TEXT NOT NULL,            -- the config file as resolved (or a label for configs built in code)
    model_name        TEXT NOT NULL,            -- file name without directory and .yml: joins published.config
    arch              TEXT NOT NULL,
    family            TEXT NOT NULL,            -- transformer | lite | evolved | lm
    description       TEXT,
    config_text       TEXT,                     -- the config file's text, NULL when there was none
    src_vocab         INTEGER NOT NULL,
    tgt_vocab         INTEGER NOT NULL,
    shared_embeddings INTEGER NOT NULL CHECK (shared_embeddings IN (0, 1)),
    -- options
    src_len           INTEGER NOT NULL CHECK (src_len >= 0),
    tgt_len           INTEGER NOT NULL CHECK (tgt_len >= 0),
    batch             INTEGER NOT NULL DEFAULT 1,
    seed              INTEGER NOT NULL,
    threads           INTEGER NOT NULL,
    warmup            INTEGER NOT NULL,
    repeats           INTEGER NOT NULL,         -- timed passes (0 for count-only)
    attn_macs         TEXT NOT NULL CHECK (attn_macs IN ('causal', 'full')),
    conv_macs         TEXT NOT NULL CHECK (conv_macs IN ('taps', 'valid', 'band', 'none')),
    src_tokens        TEXT,                     -- --src ids as given (space-separated), NULL: seeded random ids
    tgt_tokens        TEXT,                     -- --tgt ids as given, NULL: seeded random ids
    weights_path      TEXT,                     -- --weights, NULL: seeded random weights
    beam              INTEGER CHECK (beam >= 1),           -- generate: hypotheses (NULL in forward mode)
    max_steps         INTEGER CHECK (max_steps >= 1),      -- generate: at most this many decoder steps
    early_stop        INTEGER CHECK (early_stop IN (0, 1)), -- generate: stop at EOS
    options_extra     TEXT,                     -- further options that change the result, as the caller words them
    note              TEXT,
    -- provenance
    ltsim_version     TEXT NOT NULL,
    git_hash          TEXT,
    hostname          TEXT,
    cpu_model         TEXT,                     -- /proc/cpuinfo
    blas              TEXT,                     -- the BLAS build (ltsim --version)
    openblas_coretype TEXT,                     -- $OPENBLAS_CORETYPE, NULL when unset
    openblas_l2_size  TEXT,                     -- $OPENBLAS_L2_SIZE, NULL when unset
    -- totals
    params                   INTEGER NOT NULL CHECK (params >= 0),  -- without embeddings and output projection
    params_output_projection INTEGER NOT NULL CHECK (params_output_projection >= 0),
    params_total             INTEGER NOT NULL CHECK (params_total >= 0),
    macs                     INTEGER NOT NULL CHECK (macs >= 0),    -- headline (generate: the whole run)
    macs_output_projection   INTEGER NOT NULL CHECK (macs_output_projection >= 0),
    other_flops              INTEGER NOT NULL CHECK (other_flops >= 0),
    flops                    INTEGER NOT NULL CHECK (flops >= 0),   -- 2 * (macs + macs_output_projection) + other_flops
    bytes_weights            INTEGER NOT NULL CHECK (bytes_weights >= 0),
    bytes_activations        INTEGER NOT NULL CHECK (bytes_activations >= 0),
    planned_bytes            INTEGER NOT NULL CHECK (planned_bytes >= 0), -- the planned activation arena
    peak_bytes               INTEGER,                                    -- its measured high-water mark (executed runs)
    macs_attention           INTEGER NOT NULL CHECK (macs_attention >= 0),
    macs_convolution         INTEGER NOT NULL CHECK (macs_convolution >= 0),
    macs_ffn                 INTEGER NOT NULL CHECK (macs_ffn >= 0),
    macs_norm_other          INTEGER NOT NULL CHECK (macs_norm_other >= 0),
    macs_embedding_output    INTEGER NOT NULL CHECK (macs_embedding_output >= 0),
    once_macs                INTEGER CHECK (once_macs >= 0),             -- generate: encoder and cross K/V
    once_bytes_weights       INTEGER CHECK (once_bytes_weights >= 0)
);
CREATE INDEX runs_content_hash ON runs (content_hash);
CREATE INDEX runs_model_name ON runs (model_name);

-- The resolved configuration of a run, one fairseq key per row (defaults of the arch applied,
-- per-layer lists resolved): what `ltsim db diff` compares. seq keeps the keys' order.
CREATE TABLE run_config (
    run_id INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq    INTEGER NOT NULL,
    key    TEXT NOT NULL CHECK (key <> ''),
    value  TEXT NOT NULL,
    PRIMARY KEY (run_id, key)
) WITHOUT ROWID;

-- The ledger of a run: one row per (scope, operator), in execution order (seq), costs summed
-- over the operator's calls in one pass. time_ns is the mean measured kernel time per timed
-- pass (0 when not timed); dim0..dim2 the shape of the last call (cost.h LedgerEntry.dims).
CREATE TABLE ledger (
    run_id         INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    seq            INTEGER NOT NULL CHECK (seq >= 0),
    scope          TEXT NOT NULL CHECK (scope <> ''),
    op             TEXT NOT NULL CHECK (op <> ''),
    class          TEXT NOT NULL CHECK (class IN ('attention', 'convolution', 'ffn', 'norm+other', 'embedding+output')),
    macs           INTEGER NOT NULL CHECK (macs >= 0),
    other_flops    INTEGER NOT NULL CHECK (other_flops >= 0),
    weight_bytes   INTEGER NOT NULL CHECK (weight_bytes >= 0),
    act_bytes_read INTEGER NOT NULL CHECK (act_bytes_read >= 0),
    bytes_written  INTEGER NOT NULL CHECK (bytes_written >= 0),
    params         INTEGER NOT NULL CHECK (params >= 0),
    calls          INTEGER NOT NULL CHECK (calls >= 0),
    time_ns        INTEGER NOT NULL CHECK (time_ns >= 0),
    dim0           INTEGER NOT NULL DEFAULT 0,
    dim1           INTEGER NOT NULL DEFAULT 0,
    dim2           INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_id, seq)
) WITHOUT ROWID;

-- Generate mode: one row per decoder step t = 1..T (DESIGN.md §4 "steps").
CREATE TABLE steps (
    run_id                 INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    step                   INTEGER NOT NULL CHECK (step >= 1),
    macs                   INTEGER NOT NULL CHECK (macs >= 0),
    macs_output_projection INTEGER NOT NULL CHECK (macs_output_projection >= 0),
    bytes_weights          INTEGER NOT NULL CHECK (bytes_weights >= 0),
    bytes_cache            INTEGER NOT NULL CHECK (bytes_cache >= 0),  -- KV-cache and conv-state bytes
    host_ms                REAL CHECK (host_ms >= 0),                  -- median measured step time, NULL when not timed
    PRIMARY KEY (run_id, step)
) WITHOUT ROWID;

-- Host measurements of an executed run (none for count-only runs).
CREATE TABLE measurements (
    run_id            INTEGER PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
    median_ms         REAL NOT NULL CHECK (median_ms >= 0),
    min_ms            REAL NOT NULL CHECK (min_ms >= 0),
    max_ms            REAL NOT NULL CHECK (max_ms >= 0),
    repeats           INTEGER NOT NULL CHECK (repeats >= 1),
    warmup            INTEGER NOT NULL CHECK (warmup >= 0),
    gemm_median_ms    REAL CHECK (gemm_median_ms >= 0),        -- time inside matrix products
    forward_over_gemm REAL,                                    -- median over passes of total / GEMM time
    passes_ms         TEXT NOT NULL CHECK (json_valid(passes_ms)),       -- [ms per timed pass]
    passes_gemm_ms    TEXT CHECK (passes_gemm_ms IS NULL OR json_valid(passes_gemm_ms)),
    CHECK (min_ms <= median_ms AND median_ms <= max_ms)
);

-- Predicted latency and energy of a run on a hardware profile (`--hw`).
CREATE TABLE predictions (
    run_id       INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    hw           TEXT NOT NULL CHECK (hw <> ''),             -- profile name
    latency_ms   REAL NOT NULL CHECK (latency_ms >= 0),
    energy_mj    REAL CHECK (energy_mj >= 0),                -- NULL when the profile has no energy model
    bound        TEXT CHECK (bound IN ('compute', 'memory')),
    top_ops      TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(top_ops)),  -- [{scope, latency_ms}]
    profile_text TEXT,                                       -- the profile file's text
    PRIMARY KEY (run_id, hw)
) WITHOUT ROWID;

-- migration 2: sweeps and their points, calibration fits, published results

-- One row per sweep specification. spec_hash (SHA-256 of the ltsim version and spec) is its
-- identity: re-running the same sweep, or running another shard of it (--shard I/N, possibly
-- into another database combined later with `ltsim db merge`), finds the same row.
CREATE TABLE sweeps (
    id            INTEGER PRIMARY KEY,
    spec_hash     TEXT NOT NULL UNIQUE CHECK (length(spec_hash) = 64),
    name          TEXT NOT NULL,
    spec          TEXT NOT NULL CHECK (json_valid(spec)),  -- the options (without --jobs and --shard) as JSON
    ltsim_version TEXT NOT NULL,
    git_hash      TEXT,
    created_at    TEXT NOT NULL,
    finished_at   TEXT                                     -- set when a run of the sweep completed every point
);

-- The points of a sweep, each with the run that measured it. A point is identified within its
-- sweep by (family, budget_macs, width, role, label); the same run may serve several points.
CREATE TABLE sweep_points (
    id          INTEGER PRIMARY KEY,
    sweep_id    INTEGER NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
    run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    family      TEXT NOT NULL CHECK (family <> ''),                    -- lite | lite-light | transformer | evolved | ...
    budget_macs INTEGER NOT NULL DEFAULT 0 CHECK (budget_macs >= 0),  -- 0: not tied to a budget
    width       INTEGER NOT NULL CHECK (width > 0),                   -- d
    role        TEXT NOT NULL CHECK (role IN ('chosen', 'neighbour', 'reference', 'vary')),
    label       TEXT NOT NULL DEFAULT '',                              -- reference: the config name; vary: KEY=VALUE
    UNIQUE (sweep_id, family, budget_macs, width, role, label)
);
CREATE INDEX sweep_points_run ON sweep_points (run_id);

-- Fits of a hardware profile's efficiency and overhead parameters (`ltsim calibrate`), with
-- their quality over the points used (fractions for within_10 / within_20 and errors).
CREATE TABLE calibrations (
    id             INTEGER PRIMARY KEY,
    uuid           TEXT NOT NULL UNIQUE CHECK (length(uuid) = 32),
    created_at     TEXT NOT NULL,
    hw             TEXT NOT NULL CHECK (hw <> ''),
    method         TEXT NOT NULL CHECK (method IN ('host', 'csv')),  -- timing ltsim's kernels, or a CSV of measured latencies
    input_name     TEXT,                                             -- the CSV file
    input_text     TEXT,                                             -- its text
    fit            TEXT NOT NULL CHECK (json_valid(fit)),            -- the fitted parameters
    profile_text   TEXT,                                             -- the profile written
    n              INTEGER CHECK (n >= 0),
    within_10      REAL,
    within_20      REAL,
    median_abs_err REAL,
    p90_abs_err    REAL,
    rmse_ms        REAL,
    ltsim_version  TEXT NOT NULL,
    git_hash       TEXT,
    hostname       TEXT,
    cpu_model      TEXT,
    blas           TEXT
);

-- Published results (db/published.csv, loaded by store_open): one number per row (value, in
-- unit, of metric) with its model, the models/*.yml name behind it when one exists (config),
-- the model's published size and Mult-Adds as context, the source, and the tag of
-- ../shared/spec/published.md: V seen in the source, D derived from verified configs, R
-- recalled and unconfirmed (unconfirmed = 1 exactly for R; charts draw those hollow).
CREATE TABLE published (
    id          INTEGER PRIMARY KEY,
    task        TEXT NOT NULL CHECK (task <> ''),
    model       TEXT NOT NULL CHECK (model <> ''),
    config      TEXT NOT NULL DEFAULT '',
    params      INTEGER CHECK (params >= 0),
    mult_adds   INTEGER CHECK (mult_adds >= 0),
    metric      TEXT NOT NULL CHECK (metric <> ''),
    value       REAL NOT NULL,
    unit        TEXT NOT NULL DEFAULT '',
    source      TEXT NOT NULL CHECK (source <> ''),
    tag         TEXT NOT NULL CHECK (tag IN ('V', 'D', 'R')),
    unconfirmed INTEGER NOT NULL CHECK (unconfirmed = (tag = 'R')),
    note        TEXT NOT NULL DEFAULT '',
    line        INTEGER NOT NULL                              -- line in db/published.csv
);
CREATE INDEX published_config ON published (config);

-- Sweep points with their run's figures (what `ltsim db export` prints, without the nested
-- predictions and published results).
CREATE VIEW sweep_point_results AS
SELECT p.id AS point_id, s.name AS sweep, p.sweep_id, p.family, p.budget_macs, p.width, p.role,
       p.label, r.id AS run_id, r.model_name, r.macs, r.params, m.median_ms AS measured_ms
FROM sweep_points p
JOIN sweeps s ON s.id = p.sweep_id
JOIN runs r ON r.id = p.run_id
LEFT JOIN measurements m ON m.run_id = r.id;

-- migration 3: accuracy measured by users, accuracy estimates of swept widths, carbon comparisons

-- Accuracy that users measured themselves (`ltsim accuracy import FILE.csv`): one score per
-- (task, model, metric); importing the same triple again replaces it. model_name is the
-- models/*.yml name or FAMILY:WIDTH (a sweep family's template); macs and params are what
-- ltsim counted for that config under the stated lengths and conventions, so the score sits
-- on the same axis as every other point. Measurements only: estimates live in
-- accuracy_estimates and published numbers in published.
CREATE TABLE accuracy_results (
    id          INTEGER PRIMARY KEY,
    uuid        TEXT NOT NULL UNIQUE CHECK (length(uuid) = 32),
    created_at  TEXT NOT NULL,
    task        TEXT NOT NULL CHECK (task IN ('wmt-en-de', 'wmt-en-fr', 'iwslt-de-en', 'cnndm', 'wikitext-103')),
    config      TEXT NOT NULL CHECK (config <> ''),            -- as written in the CSV
    model_name  TEXT NOT NULL CHECK (model_name <> ''),        -- models/NAME.yml name, or FAMILY:WIDTH
    family      TEXT NOT NULL CHECK (family <> ''),            -- lite | lite-light | transformer | evolved | lm
    width       INTEGER NOT NULL CHECK (width > 0),            -- d
    metric      TEXT NOT NULL CHECK (metric IN ('bleu', 'rouge-1', 'rouge-2', 'rouge-l', 'ppl')),
    value       REAL NOT NULL,
    macs        INTEGER NOT NULL CHECK (macs >= 0),            -- headline MACs counted by ltsim
    params      INTEGER NOT NULL CHECK (params >= 0),
    src_len     INTEGER NOT NULL CHECK (src_len >= 1),
    tgt_len     INTEGER NOT NULL CHECK (tgt_len >= 1),
    attn_macs   TEXT NOT NULL CHECK (attn_macs IN ('causal', 'full')),
    conv_macs   TEXT NOT NULL CHECK (conv_macs IN ('taps', 'valid', 'band', 'none')),
    source_file TEXT NOT NULL,                                 -- the CSV imported
    line        INTEGER NOT NULL CHECK (line >= 1),            -- its line
    note        TEXT NOT NULL DEFAULT '',
    UNIQUE (task, model_name, metric)
);

-- Estimated accuracy of swept widths: a per-family, per-task least-squares fit of the score
-- against ln(MACs) over measured points (published with tag V or D, and accuracy_results),
-- evaluated at the MACs of a sweep point's run. basis 'unconfirmed' marks fits that needed
-- recalled (tag R) points (--use-unconfirmed). std_error is the standard error of the fitted
-- value at this point (NULL when the fit has only two points and no residual to estimate it);
-- fit_rmse the fit's residual standard deviation. Replaced as a whole at each fit.
CREATE TABLE accuracy_estimates (
    id            INTEGER PRIMARY KEY,
    created_at    TEXT NOT NULL,
    run_id        INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
    family        TEXT NOT NULL CHECK (family <> ''),
    width         INTEGER NOT NULL CHECK (width > 0),
    macs          INTEGER NOT NULL CHECK (macs > 0),
    task          TEXT NOT NULL CHECK (task <> ''),
    metric        TEXT NOT NULL CHECK (metric <> ''),
    value         REAL NOT NULL,
    std_error     REAL CHECK (std_error >= 0),
    fit_rmse      REAL CHECK (fit_rmse >= 0),
    fit_n         INTEGER NOT NULL CHECK (fit_n >= 2),
    fit_slope     REAL NOT NULL,                               -- score per unit of ln(MACs)
    fit_intercept REAL NOT NULL,
    basis         TEXT NOT NULL CHECK (basis IN ('confirmed', 'unconfirmed')),
    fit_points    TEXT NOT NULL CHECK (json_valid(fit_points)), -- [{model, macs, value, source}]
    UNIQUE (run_id, task, metric)
);
CREATE INDEX accuracy_estimates_run ON accuracy_estimates (run_id);

-- `ltsim carbon --compare A,B,...`: the items compared (the --json objects of each) and the
-- ratios a / b of their CO2e.
CREATE TABLE carbon_comparisons (
    id            INTEGER PRIMARY KEY,
    uuid          TEXT NOT NULL UNIQUE CHECK (length(uuid) = 32),
    created_at    TEXT NOT NULL,
    name          TEXT NOT NULL CHECK (name <> ''),           -- the --compare list
    items         TEXT NOT NULL CHECK (json_valid(items)),
    ratios        TEXT NOT NULL CHECK (json_valid(ratios)),
    ltsim_version TEXT NOT NULL
);
