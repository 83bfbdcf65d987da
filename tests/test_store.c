/*
 * test_store.c - the results database: the compiled-in schema and published results equal
 * db/schema.sql and db/published.csv; migrations from version 0; published results loaded
 * once; a real run stored and read back (totals, ledger, config keys, measurements,
 * predictions, steps); atomicity (a constraint failing mid-run, a fault hook, SIGKILL, a
 * full disk, a read-only directory: no partial rows); a second writer waiting on the busy
 * timeout and failing cleanly past it; sweeps; export; merge; imported accuracy results,
 * estimates and carbon comparisons (migration 3) and store_select; and `ltsim db` (list,
 * show, diff, export, merge) as a command with its exit codes.
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
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli_db.h"
#include "report.h"
#include "runner.h"
#include "store.h"
#include "testutil.h"

/* ---- helpers ---- */

/* A fresh database path in the test's temporary directory (old files removed). */
static const char *db_file(const char *name) {
    static char paths[8][256];
    static int next;
    char *p = paths[next++ % 8];
    snprintf(p, 256, "%s/%s", tu_tmpdir(), name);
    char aux[300];
    unlink(p);
    snprintf(aux, sizeof aux, "%s-wal", p);
    unlink(aux);
    snprintf(aux, sizeof aux, "%s-shm", p);
    unlink(aux);
    return p;
}

static Store *open_ok(const char *path) {
    SimError err;
    sim_error_init(&err);
    Store *s = store_open(path, &err);
    if (s == NULL) fail_msg("store_open(%s): %s", path, err.msg);
    return s;
}

static int64_t q_int(Store *s, const char *sql) {
    SimError err;
    sim_error_init(&err);
    int64_t v = -1;
    if (store_query_int(s, sql, &v, &err) != SIM_OK) fail_msg("%s: %s", sql, err.msg);
    return v;
}

static void q_text(Store *s, const char *sql, char *buf, size_t n) {
    SimError err;
    sim_error_init(&err);
    if (store_query_text(s, sql, buf, n, &err) != SIM_OK) fail_msg("%s: %s", sql, err.msg);
}

/* Rows stored for all runs: 0 after a failed save. */
static int64_t all_rows(Store *s) {
    return q_int(s, "SELECT (SELECT count(*) FROM runs) + (SELECT count(*) FROM ledger) + "
                    "(SELECT count(*) FROM run_config) + (SELECT count(*) FROM measurements) + "
                    "(SELECT count(*) FROM predictions) + (SELECT count(*) FROM steps)");
}

typedef struct {
    ModelConfig cfg;
    RunSpec spec;
    RunResult res;
    char path[256];
    ReportInput in;
} Fixture;

/* Runs a config (count-only or executed with 2 timed passes) into fx. */
static void fx_run(Fixture *fx, const char *path, int count_only) {
    memset(fx, 0, sizeof *fx);
    snprintf(fx->path, sizeof fx->path, "%s", path);
    tu_load_config(path, 0, &fx->cfg);
    fx->spec = tu_spec(count_only);
    if (!count_only) {
        fx->spec.repeats = 2;
        fx->spec.warmup = 1;
    }
    SimError err;
    sim_error_init(&err);
    if (runner_execute(&fx->cfg, &fx->spec, &fx->res, &err) != SIM_OK)
        fail_msg("runner_execute(%s): %s", path, err.msg);
    fx->in.command = count_only ? "count" : "run";
    fx->in.model_path = fx->path;
    fx->in.cfg = &fx->cfg;
    fx->in.spec = &fx->spec;
    fx->in.res = &fx->res;
}

static void fx_free(Fixture *fx) { runner_result_free(&fx->res); }

static int64_t save_ok(Store *s, Fixture *fx, const StoreExtra *x) {
    SimError err;
    sim_error_init(&err);
    int64_t id = 0;
    if (store_save_run(s, &fx->in, x, &id, &err) != SIM_OK) fail_msg("store_save_run: %s", err.msg);
    assert_true(id > 0);
    return id;
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int child_status(pid_t pid) {
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    return st;
}

/* ---- `ltsim db` in a child process: stdout/stderr captured ---- */

static char *cli_out, *cli_err;

static int db_main(int argc, char **argv, void *ctx) {
    (void)ctx;
    return cli_db_main(argc, argv);
}

#define END ((const char *)NULL)

/* Runs cli_db_main("db", args...) in a child; returns its exit code. */
static int db_cli(const char *first, ...) {
    char *argv[32];
    int argc = 0;
    argv[argc++] = (char *)"db";
    va_list ap;
    va_start(ap, first);
    for (const char *a = first; a && argc < 31; a = va_arg(ap, const char *)) argv[argc++] = (char *)a;
    va_end(ap);
    argv[argc] = NULL;
    return tu_run_captured(db_main, argc, argv, NULL, &cli_out, &cli_err);
}

static void expect_cli_error(int rc, int want, const char *needle) {
    if (rc != want) fail_msg("exit %d, expected %d; stderr: %s", rc, want, cli_err);
    if (tu_count_lines(cli_err) != 1) fail_msg("expected one stderr line, got: %s", cli_err);
    if (needle && strstr(cli_err, needle) == NULL) fail_msg("'%s' not in: %s", needle, cli_err);
}

/* ---- compiled-in sources ---- */

static void test_store_sources_match_files(void **state) {
    (void)state;
    char *file = tu_slurp("db/schema.sql"), *mem = store_schema_sql();
    assert_non_null(file);
    assert_non_null(mem);
    if (strcmp(file, mem) != 0)
        fail_msg("db/schema.sql differs from sim/store_sql.c: regenerate it (see its header)");
    free(file);
    free(mem);
    file = tu_slurp("db/published.csv");
    mem = store_published_csv();
    assert_non_null(file);
    assert_non_null(mem);
    if (strcmp(file, mem) != 0)
        fail_msg("db/published.csv differs from sim/store_sql.c: regenerate it (see its header)");
    free(file);
    free(mem);
}

static void test_store_sha256(void **state) {
    (void)state;
    char h[STORE_HASH_LEN + 1];
    store_sha256_hex("abc", 3, h);
    assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    store_sha256_hex("", 0, h);
    assert_string_equal(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    const char *m = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    store_sha256_hex(m, strlen(m), h);
    assert_string_equal(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* ---- opening and migrations ---- */

static void test_store_open_memory(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    SimError err;
    sim_error_init(&err);
    assert_int_equal(store_schema_version(s, &err), STORE_SCHEMA_VERSION);
    assert_int_equal(q_int(s, "PRAGMA foreign_keys"), 1);
    static const char *const tables[] = {"meta", "runs", "run_config", "ledger", "steps",
                                         "measurements", "predictions", "sweeps",
                                         "sweep_points", "calibrations", "published",
                                         "accuracy_results", "accuracy_estimates",
                                         "carbon_comparisons"};
    for (size_t i = 0; i < sizeof tables / sizeof tables[0]; i++) {
        char sql[160];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                                  "name = '%s'", tables[i]);
        if (q_int(s, sql) != 1) fail_msg("table %s missing", tables[i]);
    }
    assert_true(q_int(s, "SELECT count(*) FROM published") > 50);
    store_close(s);
}

static void test_store_open_file_wal(void **state) {
    (void)state;
    const char *p = db_file("wal.db");
    Store *s = open_ok(p);
    char mode[16];
    q_text(s, "PRAGMA journal_mode", mode, sizeof mode);
    assert_string_equal(mode, "wal");
    assert_int_equal(q_int(s, "PRAGMA busy_timeout"), STORE_BUSY_TIMEOUT_MS);
    assert_string_equal(store_path(s), p);
    store_close(s);
    /* a second open migrates nothing and keeps everything */
    s = open_ok(p);
    assert_int_equal(q_int(s, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    store_close(s);
}

static void test_store_default_path(void **state) {
    (void)state;
    char home[256], want[300], got[1024];
    snprintf(home, sizeof home, "%s/home", tu_tmpdir());
    mkdir(home, 0755);
    char saved[1024] = "";
    int had = getenv("LTSIM_HOME") != NULL;
    if (had) snprintf(saved, sizeof saved, "%s", getenv("LTSIM_HOME"));
    setenv("LTSIM_HOME", home, 1);
    SimError err;
    sim_error_init(&err);
    assert_int_equal(store_default_path(got, sizeof got, &err), SIM_OK);
    snprintf(want, sizeof want, "%s/db/ltsim.db", home);
    assert_string_equal(got, want);
    Store *s = store_open(NULL, &err); /* creates home/db/ */
    if (s == NULL) fail_msg("%s", err.msg);
    assert_string_equal(store_path(s), want);
    store_close(s);
    assert_int_equal(access(want, F_OK), 0);
    unsetenv("LTSIM_HOME");
    /* without LTSIM_HOME: beside the binary (build/tests/ for this suite) */
    assert_int_equal(store_default_path(got, sizeof got, &err), SIM_OK);
    assert_non_null(strstr(got, "/tests/db/ltsim.db"));
    if (had) setenv("LTSIM_HOME", saved, 1);
}

static void test_store_migrates_from_version_0(void **state) {
    (void)state;
    const char *p = db_file("migrate.db");
    SimError err;
    sim_error_init(&err);
    Store *s = store_open_at(p, 0, &err);
    if (s == NULL) fail_msg("%s", err.msg);
    assert_int_equal(q_int(s, "PRAGMA user_version"), 0);
    assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_schema"), 0);
    store_close(s);

    s = store_open_at(p, 1, &err);
    if (s == NULL) fail_msg("%s", err.msg);
    assert_int_equal(q_int(s, "PRAGMA user_version"), 1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'runs'"), 1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'sweeps'"), 0);
    assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'published'"), 0);
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    int64_t id = save_ok(s, &fx, NULL); /* a version-1 database stores runs */
    store_close(s);

    s = open_ok(p); /* steps 2.. applied, the run kept, published results loaded */
    assert_int_equal(q_int(s, "PRAGMA user_version"), STORE_SCHEMA_VERSION);
    assert_int_equal(q_int(s, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(q_int(s, "SELECT macs FROM runs"), 90138000);
    assert_int_equal(q_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'sweeps'"), 1);
    assert_true(q_int(s, "SELECT count(*) FROM published") > 50);
    assert_int_equal(id, q_int(s, "SELECT id FROM runs"));
    /* a database from a newer ltsim is refused */
    assert_int_equal(store_exec(s, "PRAGMA user_version = 99", &err), SIM_OK);
    store_close(s);
    assert_null(store_open(p, &err));
    assert_int_equal(err.code, SIM_EDB);
    assert_non_null(strstr(err.msg, "newer"));
    assert_non_null(strstr(err.msg, p));

    /* an SQLite file of something else, and a file that is not SQLite */
    const char *q = db_file("other-app.db");
    sim_error_init(&err);
    s = store_open_at(q, 0, &err);
    assert_non_null(s);
    assert_int_equal(store_exec(s, "CREATE TABLE notes (x TEXT)", &err), SIM_OK);
    store_close(s);
    assert_null(store_open(q, &err));
    assert_non_null(strstr(err.msg, "not an ltsim database"));
    const char *t = db_file("text.db");
    FILE *f = fopen(t, "w");
    assert_non_null(f);
    fputs("this is not a database, just some text long enough to have a header\n", f);
    fclose(f);
    sim_error_init(&err);
    assert_null(store_open(t, &err));
    assert_int_equal(err.code, SIM_EDB);
    assert_non_null(strstr(err.msg, "not an ltsim database"));
    fx_free(&fx);
}

/* ---- published results ---- */

/* Data lines of db/published.csv (no field spans lines in it) and how many are tagged R. */
static void csv_counts(int *rows, int *r_rows) {
    char *csv = tu_slurp("db/published.csv");
    assert_non_null(csv);
    *rows = -1; /* the header */
    *r_rows = 0;
    for (char *line = csv; *line;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        if (*line && *line != '#') {
            ++*rows;
            if (strstr(line, ",R,1,")) ++*r_rows;
        }
        if (!nl) break;
        line = nl + 1;
    }
    free(csv);
}

static void test_store_published_loaded(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    int rows, r_rows;
    csv_counts(&rows, &r_rows);
    assert_true(rows > 80);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published"), rows);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published WHERE tag = 'R'"), r_rows);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published WHERE unconfirmed <> (tag = 'R')"), 0);
    assert_true(q_int(s, "SELECT count(*) FROM published WHERE tag = 'V'") > 50);
    assert_true(q_int(s, "SELECT count(*) FROM published WHERE tag = 'D'") >= 15);
    /* the paper's WMT table: 6 models x 2 language pairs, V, joined to model configs */
    assert_int_equal(q_int(s, "SELECT count(*) FROM published WHERE metric = 'bleu' AND tag = "
                              "'V' AND model IN ('Transformer', 'Lite Transformer') AND config "
                              "LIKE '%-wmt-%'"),
                     12);
    char v[64];
    q_text(s, "SELECT value || ' ' || mult_adds || ' ' || params FROM published WHERE config = "
              "'lite-wmt-496' AND task = 'wmt-en-fr' AND metric = 'bleu' AND model = 'Lite "
              "Transformer'",
           v, sizeof v);
    assert_string_equal(v, "39.6 527000000 17300000");
    q_text(s, "SELECT value FROM published WHERE config = 'transformer-wmt-128' AND task = "
              "'wmt-en-de' AND metric = 'bleu'",
           v, sizeof v);
    assert_string_equal(v, "21.3");
    q_text(s, "SELECT value || ' ' || tag FROM published WHERE config = 'lite-cnndm-496' AND "
              "metric = 'rouge-l'",
           v, sizeof v);
    assert_string_equal(v, "38.3 V");
    q_text(s, "SELECT tag || unconfirmed FROM published WHERE config = 'lite-iwslt-160'", v,
           sizeof v);
    assert_string_equal(v, "R1");
    q_text(s, "SELECT tag || ' ' || value FROM published WHERE config = 'transformer-base' AND "
              "metric = 'params'",
           v, sizeof v);
    assert_string_equal(v, "D 44100000.0");
    q_text(s, "SELECT value FROM published WHERE metric = 'co2e' AND model = 'Evolved "
              "Transformer'",
           v, sizeof v);
    assert_string_equal(v, "626155.0");
    /* every config named is a file models/NAME.yml */
    char configs[1024];
    q_text(s, "SELECT group_concat(DISTINCT config) FROM published WHERE config <> ''", configs,
           sizeof configs);
    int nconf = 0;
    for (char *c = strtok(configs, ","); c; c = strtok(NULL, ",")) {
        char path[128];
        snprintf(path, sizeof path, "models/%s.yml", c);
        if (access(path, R_OK) != 0) fail_msg("published config %s: no %s", c, path);
        nconf++;
    }
    assert_true(nconf >= 10);
    store_close(s);
}

static void test_store_published_loaded_once(void **state) {
    (void)state;
    const char *p = db_file("published.db");
    Store *s = open_ok(p);
    int64_t n = q_int(s, "SELECT count(*) FROM published"), top = q_int(s, "SELECT max(id) FROM published");
    char h1[80];
    q_text(s, "SELECT value FROM meta WHERE key = 'published_sha256'", h1, sizeof h1);
    assert_int_equal(strlen(h1), STORE_HASH_LEN);
    SimError err;
    sim_error_init(&err);
    assert_int_equal(store_exec(s, "UPDATE published SET note = 'marker' WHERE id = 1", &err),
                     SIM_OK);
    store_close(s);
    s = open_ok(p); /* nothing reloaded: the marked row is still there */
    assert_int_equal(q_int(s, "SELECT count(*) FROM published"), n);
    assert_int_equal(q_int(s, "SELECT max(id) FROM published"), top);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published WHERE note = 'marker'"), 1);
    /* a database whose published results are stale gets them replaced, once */
    assert_int_equal(store_exec(s, "DELETE FROM published WHERE id < 5; UPDATE meta SET value = "
                                   "'stale' WHERE key = 'published_sha256'",
                                &err),
                     SIM_OK);
    store_close(s);
    s = open_ok(p);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published"), n);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published WHERE id < 5"), 4);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published WHERE note = 'marker'"), 0);
    char h2[80];
    q_text(s, "SELECT value FROM meta WHERE key = 'published_sha256'", h2, sizeof h2);
    assert_string_equal(h1, h2);
    /* malformed CSV: file:line message, table unchanged */
    const char *bad = "task,model,config,params,mult_adds,metric,value,unit,source,tag,"
                      "unconfirmed,note\n"
                      "wmt,X,,,,bleu,1.0,BLEU,somewhere,V,0,\n"
                      "wmt,Y,,,,bleu,2.0,BLEU,somewhere,R,0,\n";
    assert_int_equal(store_published_load(s, bad, strlen(bad), "bad.csv", &err), SIM_EINVAL);
    assert_non_null(strstr(err.msg, "bad.csv:3: unconfirmed"));
    assert_int_equal(q_int(s, "SELECT count(*) FROM published"), n);
    sim_error_init(&err);
    const char *bad2 = "task,model,metric\nwmt,X,bleu\n";
    assert_int_equal(store_published_load(s, bad2, strlen(bad2), "bad2.csv", &err), SIM_EINVAL);
    assert_non_null(strstr(err.msg, "bad2.csv:1: missing column"));
    sim_error_init(&err);
    const char *bad3 = "task,model,config,params,mult_adds,metric,value,unit,source,tag,"
                       "unconfirmed,note\n# comment\n\nwmt,X,,2.5M,,bleu,1.0,BLEU,src,V,0,\n";
    assert_int_equal(store_published_load(s, bad3, strlen(bad3), "bad3.csv", &err), SIM_EINVAL);
    assert_non_null(strstr(err.msg, "bad3.csv:4: params"));
    assert_int_equal(q_int(s, "SELECT count(*) FROM published"), n);
    store_close(s);
}

/* ---- runs ---- */

static void test_store_save_count_run(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    StoreExtra x = {0};
    x.git_hash = "0123456789abcdef0123456789abcdef01234567";
    int64_t id = save_ok(s, &fx, &x);
    assert_int_equal(id, 1);

    SimError err;
    sim_error_init(&err);
    StoreRun *r = NULL;
    assert_int_equal(store_run_load(s, id, &r, &err), SIM_OK);
    const StoreField *f = store_field(r->fields, r->nfields, "macs");
    assert_non_null(f);
    assert_int_equal(f->i, 90138000);
    ReportTotals t;
    report_totals(&fx.in, &t);
    assert_int_equal(store_field(r->fields, r->nfields, "params")->i, (int64_t)t.params);
    assert_int_equal(store_field(r->fields, r->nfields, "flops")->i, (int64_t)t.flops);
    assert_int_equal(store_field(r->fields, r->nfields, "macs_attention")->i,
                     (int64_t)t.class_macs[CLASS_ATTENTION]);
    assert_string_equal(store_field(r->fields, r->nfields, "model_name")->text, "lite-wmt-200");
    assert_string_equal(store_field(r->fields, r->nfields, "command")->text, "count");
    assert_string_equal(store_field(r->fields, r->nfields, "mode")->text, "forward");
    assert_string_equal(store_field(r->fields, r->nfields, "attn_macs")->text, "causal");
    assert_string_equal(store_field(r->fields, r->nfields, "conv_macs")->text, "taps");
    assert_string_equal(store_field(r->fields, r->nfields, "git_hash")->text, x.git_hash);
    assert_string_equal(store_field(r->fields, r->nfields, "ltsim_version")->text, LTSIM_VERSION);
    assert_int_equal(store_field(r->fields, r->nfields, "seed")->i, 1);
    assert_int_equal(store_field(r->fields, r->nfields, "count_only")->i, 1);
    assert_int_equal(store_field(r->fields, r->nfields, "src_len")->i, 30);
    assert_int_equal(store_field(r->fields, r->nfields, "tgt_vocab")->i, 32768);
    assert_int_equal(store_field(r->fields, r->nfields, "blas")->type, STORE_TEXT);
    assert_int_equal(store_field(r->fields, r->nfields, "hostname")->type, STORE_TEXT);
    assert_int_equal(store_field(r->fields, r->nfields, "peak_bytes")->type, STORE_NULL);
    const StoreField *text = store_field(r->fields, r->nfields, "config_text");
    assert_int_equal(text->type, STORE_TEXT);
    assert_non_null(strstr(text->text, "encoder-embed-dim: 200"));
    assert_int_equal(strlen(store_field(r->fields, r->nfields, "uuid")->text), STORE_UUID_LEN);

    /* the ledger, entry by entry, and its sums */
    size_t n = cost_ledger_count(fx.res.ledger);
    assert_int_equal(r->nledger, n);
    for (size_t i = 0; i < n; i++) {
        const LedgerEntry *e = cost_ledger_get(fx.res.ledger, i);
        assert_string_equal(r->ledger[i].scope, e->scope);
        assert_int_equal(r->ledger[i].macs, e->cost.macs);
        assert_int_equal(r->ledger[i].params, e->cost.params);
        assert_int_equal(r->ledger[i].bytes_written, e->cost.bytes_written);
        assert_string_equal(r->ledger[i].cls, cost_class_name(e->cls));
    }
    assert_int_equal(q_int(s, "SELECT sum(macs) FROM ledger WHERE run_id = 1 AND class <> "
                              "'embedding+output'"),
                     90138000);
    assert_int_equal(q_int(s, "SELECT sum(macs) FROM ledger WHERE scope LIKE 'encoder.layers.0.%'"),
                     (int64_t)tu_macs(fx.res.ledger, -1, "encoder.layers.0.", -1));
    /* resolved config keys */
    const StoreField *k = store_field(r->config, r->nconfig, "encoder-embed-dim");
    assert_non_null(k);
    assert_string_equal(k->text, "200");
    assert_string_equal(store_field(r->config, r->nconfig, "decoder-branch-type")->text,
                        "[attn:1:100:4, dynamic:default:100:4]");
    assert_string_equal(store_field(r->config, r->nconfig, "encoder-kernel-size-list")->text,
                        "[3, 7, 15, 31, 31, 31]");
    assert_string_equal(store_field(r->config, r->nconfig, "family")->text, "lite");
    assert_int_equal(r->nmeasurement, 0);
    assert_int_equal(r->npredictions, 0);
    assert_int_equal(r->nsteps, 0);

    /* content hash: stored, found, and sensitive to what changes the result */
    char h[STORE_HASH_LEN + 1], h2[STORE_HASH_LEN + 1];
    store_content_hash(&fx.cfg, &fx.spec, NULL, h);
    assert_string_equal(store_field(r->fields, r->nfields, "content_hash")->text, h);
    int64_t found = 0;
    assert_int_equal(store_find_by_hash(s, h, &found, &err), SIM_OK);
    assert_int_equal(found, id);
    RunSpec other = fx.spec;
    other.seed = 2;
    store_content_hash(&fx.cfg, &other, NULL, h2);
    assert_string_not_equal(h, h2);
    other = fx.spec;
    other.conv.attn_macs = ATTN_MACS_FULL;
    store_content_hash(&fx.cfg, &other, NULL, h2);
    assert_string_not_equal(h, h2);
    store_content_hash(&fx.cfg, &fx.spec, "label=x", h2);
    assert_string_not_equal(h, h2);
    other = fx.spec;
    other.repeats = 7; /* timing options do not change a count */
    store_content_hash(&fx.cfg, &other, NULL, h2);
    assert_string_equal(h, h2);
    assert_int_equal(store_find_by_hash(s, h2, &found, &err), SIM_OK);
    assert_int_equal(found, id);
    store_content_hash(&fx.cfg, &fx.spec, "x", h2);
    assert_int_equal(store_find_by_hash(s, h2, &found, &err), SIM_OK);
    assert_int_equal(found, 0);

    /* run references */
    int64_t rid = 0;
    assert_int_equal(store_run_resolve(s, "1", &rid, &err), SIM_OK);
    assert_int_equal(rid, 1);
    assert_int_equal(store_run_resolve(s, "latest", &rid, &err), SIM_OK);
    assert_int_equal(rid, 1);
    char prefix[8];
    snprintf(prefix, sizeof prefix, "%.6s", store_field(r->fields, r->nfields, "uuid")->text);
    assert_int_equal(store_run_resolve(s, prefix, &rid, &err), SIM_OK);
    assert_int_equal(rid, 1);
    assert_int_equal(store_run_resolve(s, "999", &rid, &err), SIM_EINVAL);
    assert_non_null(strstr(err.msg, "no run '999'"));
    sim_error_init(&err);
    StoreRun *none = NULL;
    assert_int_equal(store_run_load(s, 999, &none, &err), SIM_EINVAL);
    assert_null(none);
    store_run_free(r);
    fx_free(&fx);
    store_close(s);
}

static void test_store_save_executed_run(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    Fixture fx;
    fx_run(&fx, "tests/fixtures/golden_transformer.yml", 0);
    StorePrediction pred[2] = {
        {"test-a76", 12.5, 3.25, "compute", "[{\"scope\": \"decoder.layers.0.fc1\", \"latency_ms\": 1.5}]",
         "name: test-a76\n"},
        {"test-npu", 2.0, NAN, "memory", NULL, NULL},
    };
    StoreExtra x = {0};
    x.predictions = pred;
    x.npredictions = 2;
    x.options_extra = "label=golden";
    x.note = "test note";
    int64_t id = save_ok(s, &fx, &x);
    SimError err;
    sim_error_init(&err);
    StoreRun *r = NULL;
    assert_int_equal(store_run_load(s, id, &r, &err), SIM_OK);
    assert_true(r->nmeasurement > 0);
    const StoreField *med = store_field(r->measurement, r->nmeasurement, "median_ms");
    assert_non_null(med);
    assert_float_equal(med->r, fx.res.median_ms, 1e-9);
    assert_int_equal(store_field(r->measurement, r->nmeasurement, "repeats")->i, 2);
    assert_int_equal(store_field(r->fields, r->nfields, "repeats")->i, 2);
    assert_int_equal(store_field(r->fields, r->nfields, "warmup")->i, 1);
    assert_int_equal(store_field(r->fields, r->nfields, "peak_bytes")->type, STORE_INT);
    assert_int_equal(store_field(r->fields, r->nfields, "once_macs")->type, STORE_NULL);
    assert_int_equal(store_field(r->fields, r->nfields, "beam")->type, STORE_NULL);
    assert_string_equal(store_field(r->fields, r->nfields, "note")->text, "test note");
    assert_string_equal(store_field(r->fields, r->nfields, "options_extra")->text, "label=golden");
    assert_int_equal(q_int(s, "SELECT json_array_length(passes_ms) FROM measurements"), 2);
    assert_int_equal(r->npredictions, 2);
    assert_string_equal(r->predictions[0].hw, "test-a76");
    assert_float_equal(r->predictions[0].energy_mj, 3.25, 1e-12);
    assert_true(isnan(r->predictions[1].energy_mj));
    assert_string_equal(r->predictions[1].top_ops_json, "[]");
    assert_int_equal(r->nsteps, 0);
    /* executed runs record time per ledger entry */
    assert_true(q_int(s, "SELECT sum(time_ns) FROM ledger") > 0);
    store_run_free(r);
    fx_free(&fx);
    store_close(s);
}

/* Generate mode (count-only): mode and options, the once figures and one row per step,
 * consistent with the run's totals. */
static void test_store_save_generate_run(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    Fixture fx;
    memset(&fx, 0, sizeof fx);
    snprintf(fx.path, sizeof fx.path, "models/lite-wmt-200.yml");
    tu_load_config(fx.path, 0, &fx.cfg);
    fx.spec = tu_spec(1);
    fx.spec.mode = MODE_GENERATE;
    fx.spec.beam = 1;
    SimError err;
    sim_error_init(&err);
    if (runner_execute(&fx.cfg, &fx.spec, &fx.res, &err) != SIM_OK) fail_msg("%s", err.msg);
    fx.in.command = "count";
    fx.in.model_path = fx.path;
    fx.in.cfg = &fx.cfg;
    fx.in.spec = &fx.spec;
    fx.in.res = &fx.res;
    assert_true(fx.res.nsteps > 1);
    int64_t id = save_ok(s, &fx, NULL);
    StoreRun *r = NULL;
    assert_int_equal(store_run_load(s, id, &r, &err), SIM_OK);
    assert_string_equal(store_field(r->fields, r->nfields, "mode")->text, "generate");
    assert_int_equal(store_field(r->fields, r->nfields, "beam")->i, 1);
    assert_int_equal(store_field(r->fields, r->nfields, "early_stop")->i, 1);
    assert_int_equal(store_field(r->fields, r->nfields, "max_steps")->i, fx.res.max_steps);
    assert_int_equal((int64_t)r->nsteps, fx.res.nsteps);
    for (int64_t t = 0; t < fx.res.nsteps; t++) {
        StepFigures sf;
        step_figures(&fx.res, t, &sf);
        assert_int_equal(r->steps[t].step, t + 1);
        assert_int_equal(r->steps[t].macs, sf.macs);
        assert_int_equal(r->steps[t].bytes_cache, fx.res.step_info[t].cache_bytes);
        assert_true(isnan(r->steps[t].host_ms));
    }
    /* once + steps = the run's headline and output-projection MACs */
    OpCost once = cost_ledger_total(fx.res.once, NULL);
    assert_int_equal(store_field(r->fields, r->nfields, "once_macs")->i, (int64_t)once.macs);
    assert_int_equal(q_int(s, "SELECT r.once_macs + sum(s.macs) - r.macs FROM runs r JOIN steps "
                              "s ON s.run_id = r.id"),
                     0);
    assert_int_equal(q_int(s, "SELECT sum(s.macs_output_projection) - r.macs_output_projection "
                              "FROM runs r JOIN steps s ON s.run_id = r.id"),
                     0);
    /* generate and forward runs of one config are different computations */
    char hg[STORE_HASH_LEN + 1], hf[STORE_HASH_LEN + 1], hb[STORE_HASH_LEN + 1];
    store_content_hash(&fx.cfg, &fx.spec, NULL, hg);
    assert_string_equal(store_field(r->fields, r->nfields, "content_hash")->text, hg);
    RunSpec fwd = fx.spec;
    fwd.mode = MODE_FORWARD;
    store_content_hash(&fx.cfg, &fwd, NULL, hf);
    assert_string_not_equal(hg, hf);
    RunSpec beam = fx.spec;
    beam.beam = 4;
    store_content_hash(&fx.cfg, &beam, NULL, hb);
    assert_string_not_equal(hg, hb);
    store_run_free(r);
    fx_free(&fx);
    store_close(s);
}

/* ---- atomicity ---- */

static int abort_hook(void *ctx, int64_t rows) { return rows >= *(int64_t *)ctx; }

static void test_store_atomic_on_constraint_failure(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    /* a prediction that violates a CHECK, inserted after the run, config and ledger rows */
    StorePrediction bad[2] = {{"ok-hw", 1.0, 1.0, "compute", NULL, NULL},
                              {"bad-hw", -1.0, 1.0, "compute", NULL, NULL}};
    StoreExtra x = {0};
    x.predictions = bad;
    x.npredictions = 2;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(store_save_run(s, &fx.in, &x, NULL, &err), SIM_EDB);
    assert_non_null(strstr(err.msg, "CHECK constraint failed"));
    assert_non_null(strstr(err.msg, "nothing was stored"));
    assert_int_equal(all_rows(s), 0);
    /* invalid top-ops JSON is refused the same way */
    bad[1].latency_ms = 1.0;
    bad[1].top_ops_json = "[{oops";
    sim_error_init(&err);
    assert_int_equal(store_save_run(s, &fx.in, &x, NULL, &err), SIM_EDB);
    assert_int_equal(all_rows(s), 0);
    /* a fault injected after 100 rows */
    int64_t after = 100;
    store_set_row_hook(s, abort_hook, &after);
    sim_error_init(&err);
    assert_int_equal(store_save_run(s, &fx.in, NULL, NULL, &err), SIM_EDB);
    assert_non_null(strstr(err.msg, "row hook"));
    assert_int_equal(all_rows(s), 0);
    store_set_row_hook(s, NULL, NULL);
    /* and the same store then saves normally */
    save_ok(s, &fx, NULL);
    assert_int_equal(q_int(s, "SELECT count(*) FROM runs"), 1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM ledger"), (int64_t)cost_ledger_count(fx.res.ledger));
    fx_free(&fx);
    store_close(s);
}

static int kill_hook(void *ctx, int64_t rows) {
    (void)ctx;
    if (rows == 150) raise(SIGKILL);
    return 0;
}

static void test_store_killed_mid_run_leaves_nothing(void **state) {
    (void)state;
    const char *p = db_file("kill.db");
    Store *s = open_ok(p);
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    save_ok(s, &fx, NULL);
    int64_t before = all_rows(s);
    store_close(s);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        SimError err;
        sim_error_init(&err);
        Store *c = store_open(p, &err);
        if (c == NULL) _exit(3);
        store_set_row_hook(c, kill_hook, NULL);
        store_save_run(c, &fx.in, NULL, NULL, &err);
        _exit(4); /* not reached: killed at row 150 */
    }
    int st = child_status(pid);
    assert_true(WIFSIGNALED(st));
    assert_int_equal(WTERMSIG(st), SIGKILL);
    s = open_ok(p);
    char ok[32];
    q_text(s, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    assert_int_equal(all_rows(s), before);
    save_ok(s, &fx, NULL);
    assert_int_equal(q_int(s, "SELECT count(*) FROM runs"), 2);
    store_close(s);
    fx_free(&fx);
}

static void test_store_disk_full_leaves_nothing(void **state) {
    (void)state;
    const char *p = db_file("full.db");
    Store *s = open_ok(p);
    store_close(s);
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        signal(SIGXFSZ, SIG_IGN);
        SimError err;
        sim_error_init(&err);
        Store *c = store_open(p, &err);
        if (c == NULL) _exit(3);
        /* files may not grow past 16 KiB from now on: the run's WAL frames cannot be written */
        struct rlimit rl = {16384, 16384};
        if (setrlimit(RLIMIT_FSIZE, &rl) != 0) _exit(5);
        SimStatus code = store_save_run(c, &fx.in, NULL, NULL, &err);
        if (write(pfd[1], err.msg, strlen(err.msg)) < 0) _exit(6);
        store_close(c);
        _exit(code == SIM_OK ? 0 : sim_exit_code(code) == 1 ? 10 : 11);
    }
    close(pfd[1]);
    char msg[1100] = "";
    ssize_t k, got = 0;
    while ((k = read(pfd[0], msg + got, sizeof msg - 1 - (size_t)got)) > 0) got += k;
    msg[got] = '\0';
    close(pfd[0]);
    int st = child_status(pid);
    assert_true(WIFEXITED(st));
    if (WEXITSTATUS(st) != 10) fail_msg("child exit %d: %s", WEXITSTATUS(st), msg);
    if (strstr(msg, "full") == NULL && strstr(msg, "I/O") == NULL)
        fail_msg("message does not say the disk is full: %s", msg);
    assert_non_null(strstr(msg, p));
    s = open_ok(p);
    char ok[32];
    q_text(s, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    assert_int_equal(all_rows(s), 0);
    store_close(s);
    fx_free(&fx);
}

/* In a child (as nobody when we are root): opening a database in a read-only directory, new
 * or existing, fails with a clear message, exit code 1, and leaves the existing one as it
 * was; `ltsim db list` says so in one line and exits 1. */
static void test_store_readonly_directory(void **state) {
    (void)state;
    char dir[] = "/tmp/ltsim-ro-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char existing[64], fresh[64];
    snprintf(existing, sizeof existing, "%s/existing.db", dir);
    snprintf(fresh, sizeof fresh, "%s/new.db", dir);
    Store *s = open_ok(existing);
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    save_ok(s, &fx, NULL);
    int64_t before = all_rows(s);
    store_close(s);
    assert_int_equal(chmod(dir, 0555), 0);
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0)) _exit(77);
        SimError err;
        char line[1200];
        int bad = 0;
        const char *paths[2] = {fresh, existing};
        for (int i = 0; i < 2; i++) {
            sim_error_init(&err);
            Store *c = store_open(paths[i], &err);
            if (c != NULL) {
                /* opened after all: the save must fail and store nothing */
                if (store_save_run(c, &fx.in, NULL, NULL, &err) == SIM_OK) bad = 1;
                store_close(c);
            }
            snprintf(line, sizeof line, "%d %s\n", sim_exit_code(err.code), err.msg);
            if (write(pfd[1], line, strlen(line)) < 0) _exit(6);
        }
        /* the command: one line on stderr, exit 1 */
        int epfd[2];
        if (pipe(epfd) != 0) _exit(7);
        pid_t cp = fork();
        if (cp == 0) {
            dup2(epfd[1], 2);
            int devnull = open("/dev/null", O_WRONLY);
            if (devnull >= 0) dup2(devnull, 1);
            char *argv[] = {(char *)"db", (char *)"list", (char *)"--db", existing, NULL};
            _exit(cli_db_main(4, argv));
        }
        close(epfd[1]);
        char e[1000];
        ssize_t k, got = 0;
        while ((k = read(epfd[0], e + got, sizeof e - 1 - (size_t)got)) > 0) got += k;
        e[got] = '\0';
        int cst = 0;
        waitpid(cp, &cst, 0);
        snprintf(line, sizeof line, "%d %s", WIFEXITED(cst) ? WEXITSTATUS(cst) : -1, e);
        if (write(pfd[1], line, strlen(line)) < 0) _exit(6);
        _exit(bad ? 8 : 0);
    }
    close(pfd[1]);
    char out[4000];
    ssize_t k, got = 0;
    while ((k = read(pfd[0], out + got, sizeof out - 1 - (size_t)got)) > 0) got += k;
    out[got] = '\0';
    close(pfd[0]);
    int st = child_status(pid);
    chmod(dir, 0755);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 77) {
        fx_free(&fx);
        skip();
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("child failed (%d): %s", st, out);
    /* three reports: new db, existing db, the command */
    char *l1 = out, *l2 = strchr(l1, '\n');
    assert_non_null(l2);
    *l2++ = '\0';
    char *l3 = strchr(l2, '\n');
    assert_non_null(l3);
    *l3++ = '\0';
    if (strncmp(l1, "1 ", 2) != 0 || strstr(l1, "not writable") == NULL || !strstr(l1, fresh))
        fail_msg("new database in a read-only directory: %s", l1);
    if (strncmp(l2, "1 ", 2) != 0 || strstr(l2, existing) == NULL)
        fail_msg("existing database in a read-only directory: %s", l2);
    if (strncmp(l3, "1 ", 2) != 0 || tu_count_lines(l3) != 1 || strstr(l3, "ltsim db list") == NULL)
        fail_msg("ltsim db list on a read-only directory: %s", l3);
    assert_int_equal(access(fresh, F_OK), -1);
    s = open_ok(existing);
    assert_int_equal(all_rows(s), before);
    store_close(s);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
    fx_free(&fx);
}

/* ---- concurrency ---- */

/* A child takes the write lock, tells the parent, holds it hold_ms, then commits. */
static pid_t hold_write_lock(const char *path, int hold_ms) {
    int pfd[2];
    assert_int_equal(pipe(pfd), 0);
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(pfd[0]);
        SimError err;
        sim_error_init(&err);
        Store *c = store_open(path, &err);
        if (c == NULL || store_exec(c, "BEGIN IMMEDIATE", &err) != SIM_OK) _exit(3);
        if (write(pfd[1], "x", 1) != 1) _exit(4);
        usleep((useconds_t)hold_ms * 1000);
        if (store_exec(c, "COMMIT", &err) != SIM_OK) _exit(5);
        store_close(c);
        _exit(0);
    }
    close(pfd[1]);
    char c;
    assert_int_equal(read(pfd[0], &c, 1), 1);
    close(pfd[0]);
    return pid;
}

static void test_store_concurrent_writer_waits(void **state) {
    (void)state;
    const char *p = db_file("busy.db");
    Store *s = open_ok(p);
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    pid_t pid = hold_write_lock(p, 1000);
    double t0 = now_s();
    save_ok(s, &fx, NULL); /* waits for the other writer, then stores */
    double waited = now_s() - t0;
    int st = child_status(pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    if (waited < 0.5) fail_msg("the save did not wait for the lock holder (%.3f s)", waited);
    assert_int_equal(q_int(s, "SELECT count(*) FROM runs"), 1);

    /* past the busy timeout: "database is locked", nothing stored */
    store_set_busy_timeout(s, 200);
    pid = hold_write_lock(p, 1500);
    SimError err;
    sim_error_init(&err);
    t0 = now_s();
    assert_int_equal(store_save_run(s, &fx.in, NULL, NULL, &err), SIM_EDB);
    double took = now_s() - t0;
    assert_non_null(strstr(err.msg, "database is locked"));
    assert_non_null(strstr(err.msg, p));
    assert_int_equal(sim_exit_code(err.code), 1);
    assert_true(took < 1.2);
    st = child_status(pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_int_equal(q_int(s, "SELECT count(*) FROM runs"), 1);
    fx_free(&fx);
    store_close(s);
}

/* Four processes open one fresh database at the same moment (racing on WAL mode, the
 * migrations and the published results) and store five runs each: none fails, nothing is
 * duplicated (what `ltsim sweep --jobs N` relies on). */
static void test_store_parallel_writers(void **state) {
    (void)state;
    const char *p = db_file("parallel.db");
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    enum { NPROC = 4, NRUN = 5 };
    pid_t pids[NPROC];
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < NPROC; i++) {
        pids[i] = fork();
        assert_true(pids[i] >= 0);
        if (pids[i] == 0) {
            SimError err;
            sim_error_init(&err);
            Store *c = store_open(p, &err);
            if (c == NULL) {
                fprintf(stderr, "child %d: %s\n", i, err.msg);
                _exit(3);
            }
            for (int k = 0; k < NRUN; k++)
                if (store_save_run(c, &fx.in, NULL, NULL, &err) != SIM_OK) {
                    fprintf(stderr, "child %d: %s\n", i, err.msg);
                    _exit(4);
                }
            store_close(c);
            _exit(0);
        }
    }
    for (int i = 0; i < NPROC; i++) {
        int st = child_status(pids[i]);
        if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("writer %d failed (status %d)", i, st);
    }
    Store *s = open_ok(p);
    assert_int_equal(q_int(s, "SELECT count(*) FROM runs"), NPROC * NRUN);
    assert_int_equal(q_int(s, "SELECT count(DISTINCT uuid) FROM runs"), NPROC * NRUN);
    assert_int_equal(q_int(s, "SELECT count(DISTINCT content_hash) FROM runs"), 1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM ledger"),
                     NPROC * NRUN * (int64_t)cost_ledger_count(fx.res.ledger));
    int rows, r_rows;
    csv_counts(&rows, &r_rows);
    assert_int_equal(q_int(s, "SELECT count(*) FROM published"), rows);
    char ok[16];
    q_text(s, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    store_close(s);
    fx_free(&fx);
}

/* ---- sweeps, calibrations, export ---- */

static char *export_to_string(Store *s, const char *table, StoreFormat fmt, SimStatus want) {
    FILE *f = tmpfile();
    assert_non_null(f);
    SimError err;
    sim_error_init(&err);
    SimStatus code = store_export(s, table, fmt, f, &err);
    if (code != want) fail_msg("store_export(%s): %d %s", table ? table : "points", code, err.msg);
    long n = ftell(f);
    rewind(f);
    char *buf = calloc((size_t)n + 1, 1);
    assert_non_null(buf);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return buf;
}

static void test_store_sweeps_and_export(void **state) {
    (void)state;
    Store *s = open_ok(":memory:");
    char *out = export_to_string(s, NULL, STORE_JSON, SIM_OK);
    assert_string_equal(out, "[]\n");
    free(out);
    SimError err;
    sim_error_init(&err);
    StoreSweep sw = {"lite x 100M", "{\"family\": [\"lite\"], \"budget\": [100000000]}", NULL};
    int64_t sweep = 0, again = 0;
    int created = 0;
    assert_int_equal(store_sweep_begin(s, &sw, &sweep, &created, &err), SIM_OK);
    assert_true(sweep > 0);
    assert_int_equal(created, 1);
    assert_int_equal(store_sweep_begin(s, &sw, &again, &created, &err), SIM_OK);
    assert_int_equal(again, sweep);
    assert_int_equal(created, 0);

    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    StoreSweepPoint pt = {sweep, "lite", 100000000, 200, "reference", "lite-wmt-200"};
    int64_t rid = -1;
    assert_int_equal(store_sweep_point_find(s, &pt, &rid, &err), SIM_OK);
    assert_int_equal(rid, 0);
    StorePrediction pred = {"test-a76", 12.5, 3.25, "compute", NULL, NULL};
    StoreExtra x = {0};
    x.point = &pt;
    x.predictions = &pred;
    x.npredictions = 1;
    int64_t id = save_ok(s, &fx, &x);
    assert_int_equal(store_sweep_point_find(s, &pt, &rid, &err), SIM_OK);
    assert_int_equal(rid, id);
    assert_int_equal(store_sweep_point_add(s, &pt, id, &err), SIM_OK); /* idempotent */
    assert_int_equal(q_int(s, "SELECT count(*) FROM sweep_points"), 1);
    StoreSweepPoint chosen = {sweep, "lite", 100000000, 200, "chosen", NULL};
    assert_int_equal(store_sweep_point_add(s, &chosen, id, &err), SIM_OK);
    assert_int_equal(q_int(s, "SELECT count(*) FROM sweep_points"), 2);
    StoreSweepPoint bad = {sweep, "lite", 0, 200, "best", NULL};
    assert_int_equal(store_sweep_point_add(s, &bad, id, &err), SIM_EDB);
    assert_non_null(strstr(err.msg, "CHECK"));
    sim_error_init(&err);
    assert_int_equal(store_sweep_finish(s, sweep, &err), SIM_OK);
    assert_int_equal(q_int(s, "SELECT finished_at IS NOT NULL FROM sweeps"), 1);
    assert_int_equal(store_sweep_finish(s, 999, &err), SIM_EINVAL);
    sim_error_init(&err);

    /* default export: the points with predictions and published results */
    out = export_to_string(s, NULL, STORE_JSON, SIM_OK);
    cJSON *a = cJSON_Parse(out);
    if (a == NULL) fail_msg("not JSON: %s", out);
    assert_int_equal(cJSON_GetArraySize(a), 2);
    cJSON *ref = NULL, *e;
    cJSON_ArrayForEach(e, a) {
        static const char *const keys[] = {"sweep", "family", "budget_macs", "width", "macs",
                                           "params", "measured_ms", "predictions"};
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (!cJSON_HasObjectItem(e, keys[i])) fail_msg("point without %s: %s", keys[i], out);
        if (strcmp(cJSON_GetObjectItem(e, "role")->valuestring, "reference") == 0) ref = e;
    }
    assert_non_null(ref);
    assert_string_equal(cJSON_GetObjectItem(ref, "sweep")->valuestring, "lite x 100M");
    assert_int_equal((int64_t)cJSON_GetObjectItem(ref, "macs")->valuedouble, 90138000);
    assert_int_equal((int64_t)cJSON_GetObjectItem(ref, "budget_macs")->valuedouble, 100000000);
    assert_int_equal((int64_t)cJSON_GetObjectItem(ref, "width")->valuedouble, 200);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(ref, "measured_ms")));
    cJSON *pr = cJSON_GetObjectItem(ref, "predictions");
    assert_int_equal(cJSON_GetArraySize(pr), 1);
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(pr, 0), "hw")->valuestring,
                        "test-a76");
    cJSON *pub = cJSON_GetObjectItem(ref, "published");
    int bleu = 0;
    cJSON_ArrayForEach(e, pub) {
        double v = cJSON_GetObjectItem(e, "value")->valuedouble;
        if (strcmp(cJSON_GetObjectItem(e, "metric")->valuestring, "bleu") == 0 &&
            (fabs(v - 22.5) < 1e-9 || fabs(v - 35.3) < 1e-9))
            bleu++;
    }
    assert_int_equal(bleu, 2);
    cJSON_Delete(a);
    free(out);

    out = export_to_string(s, NULL, STORE_CSV, SIM_OK);
    assert_int_equal(strncmp(out, "sweep,sweep_id,family,budget_macs,width,", 40), 0);
    assert_int_equal(tu_count_lines(out), 3);
    assert_non_null(strstr(out, "lite x 100M,1,lite,100000000,200,reference,lite-wmt-200,1,"
                                "lite-wmt-200,90138000,"));
    free(out);
    out = export_to_string(s, "runs", STORE_CSV, SIM_OK);
    assert_int_equal(strncmp(out, "id,uuid,content_hash,created_at,command,", 40), 0);
    assert_int_equal(tu_count_lines(out) >= 2, 1);
    free(out);
    out = export_to_string(s, "ledger", STORE_JSON, SIM_OK);
    a = cJSON_Parse(out);
    assert_non_null(a);
    assert_int_equal(cJSON_GetArraySize(a), (int)cost_ledger_count(fx.res.ledger));
    cJSON_Delete(a);
    free(out);
    out = export_to_string(s, "published", STORE_CSV, SIM_OK);
    assert_non_null(strstr(out, "\"d=512, F=2048, 8 heads; the figure reads ~1336M\""));
    free(out);
    out = export_to_string(s, "nope", STORE_CSV, SIM_EINVAL);
    assert_string_equal(out, "");
    free(out);

    /* calibration fits */
    StoreCalibration cal = {"host", "host", NULL, NULL, "{\"efficiency\": {\"ffn\": 0.6}}",
                            "name: host\n", 12, 0.75, 0.9, 0.05, 0.12, 0.3, NULL};
    int64_t cid = 0;
    assert_int_equal(store_save_calibration(s, &cal, &cid, &err), SIM_OK);
    assert_true(cid > 0);
    cal.fit_json = "not json";
    assert_int_equal(store_save_calibration(s, &cal, &cid, &err), SIM_EDB);
    assert_int_equal(q_int(s, "SELECT count(*) FROM calibrations"), 1);
    fx_free(&fx);
    store_close(s);
}

/* ---- merge ---- */

static void test_store_merge(void **state) {
    (void)state;
    const char *pa = db_file("merge-a.db"), *pb = db_file("merge-b.db");
    Store *a = open_ok(pa), *b = open_ok(pb);
    Fixture f200, f408;
    fx_run(&f200, "models/lite-wmt-200.yml", 1);
    fx_run(&f408, "models/lite-wmt-408.yml", 1);
    save_ok(a, &f200, NULL);
    save_ok(a, &f408, NULL);
    SimError err;
    sim_error_init(&err);
    StoreSweep sw = {"shard", "{\"family\": [\"lite\"]}", NULL};
    int64_t sweep = 0;
    assert_int_equal(store_sweep_begin(b, &sw, &sweep, NULL, &err), SIM_OK);
    StoreSweepPoint pt = {sweep, "lite", 400000000, 408, "chosen", NULL};
    StorePrediction pred = {"test-a76", 40.0, 9.0, "compute", NULL, NULL};
    StoreExtra x = {0};
    x.point = &pt;
    x.predictions = &pred;
    x.npredictions = 1;
    int64_t bid = save_ok(b, &f408, &x);
    StoreCalibration cal = {"host", "host", NULL, NULL, "{}", NULL, -1, NAN, NAN, NAN, NAN, NAN,
                            NULL};
    assert_int_equal(store_save_calibration(b, &cal, NULL, &err), SIM_OK);
    char buuid[40];
    q_text(b, "SELECT uuid FROM runs", buuid, sizeof buuid);
    (void)bid;

    StoreMergeStats st;
    assert_int_equal(store_merge(a, pb, &st, &err), SIM_OK);
    assert_int_equal(st.runs_added, 1);
    assert_int_equal(st.runs_present, 0);
    assert_int_equal(st.sweeps_added, 1);
    assert_int_equal(st.points_added, 1);
    assert_int_equal(st.calibrations_added, 1);
    assert_int_equal(q_int(a, "SELECT count(*) FROM runs"), 3);
    int64_t n408 = (int64_t)cost_ledger_count(f408.res.ledger);
    int64_t n200 = (int64_t)cost_ledger_count(f200.res.ledger);
    assert_int_equal(q_int(a, "SELECT count(*) FROM ledger"), n200 + 2 * n408);
    assert_int_equal(q_int(a, "SELECT count(*) FROM predictions"), 1);
    char sql[200], got[40];
    snprintf(sql, sizeof sql,
             "SELECT r.uuid FROM sweep_points p JOIN runs r ON r.id = p.run_id JOIN predictions "
             "q ON q.run_id = r.id WHERE r.id = 3");
    q_text(a, sql, got, sizeof got);
    assert_string_equal(got, buuid);
    /* merging again adds nothing */
    assert_int_equal(store_merge(a, pb, &st, &err), SIM_OK);
    assert_int_equal(st.runs_added, 0);
    assert_int_equal(st.runs_present, 1);
    assert_int_equal(st.points_added + st.sweeps_added + st.calibrations_added, 0);
    assert_int_equal(q_int(a, "SELECT count(*) FROM runs"), 3);
    /* the other way: B gets A's two own runs */
    assert_int_equal(store_merge(b, pa, &st, &err), SIM_OK);
    assert_int_equal(st.runs_added, 2);
    assert_int_equal(st.runs_present, 1);
    assert_int_equal(q_int(b, "SELECT count(*) FROM runs"), 3);
    char ok[16];
    q_text(a, "PRAGMA integrity_check", ok, sizeof ok);
    assert_string_equal(ok, "ok");
    assert_int_equal(q_int(a, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
    /* refusals */
    assert_int_equal(store_merge(a, pa, &st, &err), SIM_EINVAL);
    assert_non_null(strstr(err.msg, "itself"));
    sim_error_init(&err);
    assert_int_equal(store_merge(a, "/nonexistent/x.db", &st, &err), SIM_EINVAL);
    sim_error_init(&err);
    const char *pv1 = db_file("merge-v1.db");
    Store *v1 = store_open_at(pv1, 1, &err);
    assert_non_null(v1);
    store_close(v1);
    assert_int_equal(store_merge(a, pv1, &st, &err), SIM_EINVAL);
    assert_non_null(strstr(err.msg, "schema version 1"));
    sim_error_init(&err);
    assert_int_equal(store_merge(a, "db/schema.sql", &st, &err), SIM_EDB);
    assert_int_equal(q_int(a, "SELECT count(*) FROM runs"), 3);
    store_close(a);
    store_close(b);

    /* the command */
    assert_int_equal(db_cli("merge", pb, "--db", pa, END), 0);
    assert_non_null(strstr(cli_out, "0 runs added (3 already present)"));
    assert_int_equal(db_cli("merge", pb, "--db", pa, "--json", END), 0);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetObjectItem(j, "runs_present")->valueint, 3);
    assert_int_equal(cJSON_GetObjectItem(j, "runs_added")->valueint, 0);
    cJSON_Delete(j);
    expect_cli_error(db_cli("merge", "/nonexistent/x.db", "--db", pa, END), 2, "no such");
    expect_cli_error(db_cli("merge", "--db", pa, END), 2, "missing OTHER.db");
    fx_free(&f200);
    fx_free(&f408);
}

/* ---- accuracy results, estimates, carbon comparisons (migration 3) ---- */

static void test_store_accuracy_estimates_carbon(void **state) {
    (void)state;
    const char *pa = db_file("acc-a.db"), *pb = db_file("acc-b.db");
    Store *s = open_ok(pa);
    SimError err;
    sim_error_init(&err);
    StoreAccuracy a[2] = {
        {"wmt-en-fr", "lite-wmt-200", "lite-wmt-200", "lite", 200, "bleu", 35.0, 90138000,
         2884400, 30, 30, "causal", "taps", "mine.csv", 2, NULL},
        {"wmt-en-fr", "lite:368", "lite:368", "lite", 368, "bleu", 38.2, 290000000, 9000000, 30,
         30, "causal", "taps", "mine.csv", 3, "my run"},
    };
    int64_t added = -1, replaced = -1;
    assert_int_equal(store_accuracy_import(s, a, 2, &added, &replaced, &err), SIM_OK);
    assert_int_equal(added, 2);
    assert_int_equal(replaced, 0);
    /* the same (task, model, metric) again replaces it */
    a[0].value = 35.5;
    assert_int_equal(store_accuracy_import(s, a, 1, &added, &replaced, &err), SIM_OK);
    assert_int_equal(added, 0);
    assert_int_equal(replaced, 1);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_results"), 2);
    assert_int_equal(q_int(s, "SELECT value * 10 FROM accuracy_results WHERE model_name = "
                              "'lite-wmt-200'"),
                     355);
    /* a bad row (unknown task) stores nothing, not even the good row before it */
    StoreAccuracy bad[2] = {a[1], a[1]};
    bad[0].model_name = "lite:400";
    bad[1].task = "nope";
    assert_int_equal(store_accuracy_import(s, bad, 2, NULL, NULL, &err), SIM_EDB);
    assert_non_null(strstr(err.msg, "nothing was stored"));
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_results"), 2);

    /* estimates: replaced as a whole, NAN stored as NULL, cascade with their run */
    Fixture fx;
    fx_run(&fx, "models/lite-wmt-200.yml", 1);
    int64_t run = save_ok(s, &fx, NULL);
    StoreEstimate e[2] = {
        {run, "lite", 200, 90138000, "wmt-en-fr", "bleu", 35.4, 0.3, 0.6, 4, 2.08, -2.49,
         "confirmed", "[{\"model\": \"lite-wmt-200\", \"macs\": 90138000, \"value\": 35.3}]"},
        {run, "lite", 200, 90138000, "wmt-en-de", "bleu", 22.4, NAN, NAN, 2, 2.2, -18.0,
         "unconfirmed", NULL},
    };
    sim_error_init(&err);
    assert_int_equal(store_estimates_replace(s, e, 2, &err), SIM_OK);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates"), 2);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates WHERE std_error IS NULL"),
                     1);
    assert_int_equal(store_estimates_replace(s, e, 1, &err), SIM_OK);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates"), 1);
    StoreEstimate badj = e[0];
    badj.fit_points_json = "not json";
    assert_int_equal(store_estimates_replace(s, &badj, 1, &err), SIM_EDB);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates"), 1); /* kept */
    sim_error_init(&err);

    /* store_select: typed cells with their names, parameters bound as text */
    StoreRows *r = NULL;
    const char *params[1] = {"lite:368"};
    SimStatus selrc = store_select(s,
                                   "SELECT model_name, width, value, note, NULL AS empty FROM "
                                   "accuracy_results WHERE model_name = ?1",
                                   params, 1, &r, &err);
    if (selrc != SIM_OK) fail_msg("%s", err.msg);
    assert_int_equal(r->nrows, 1);
    assert_int_equal(r->ncols, 5);
    assert_string_equal(store_rows_get(r, 0, "model_name")->text, "lite:368");
    assert_int_equal(store_rows_get(r, 0, "width")->type, STORE_INT);
    assert_int_equal(store_rows_get(r, 0, "width")->i, 368);
    assert_float_equal(store_rows_get(r, 0, "value")->r, 38.2, 1e-12);
    assert_string_equal(store_rows_get(r, 0, "note")->text, "my run");
    assert_int_equal(store_rows_get(r, 0, "empty")->type, STORE_NULL);
    assert_null(store_rows_get(r, 0, "missing"));
    /* the typed readers: text only from text, numbers only from numbers */
    assert_string_equal(store_rows_text(r, 0, "model_name"), "lite:368");
    assert_string_equal(store_rows_text(r, 0, "width"), "");
    assert_string_equal(store_rows_text(r, 0, "missing"), "");
    assert_string_equal(store_rows_text(r, 9, "model_name"), "");
    assert_float_equal(store_rows_num(r, 0, "width"), 368.0, 0.0);
    assert_float_equal(store_rows_num(r, 0, "value"), 38.2, 1e-12);
    assert_true(isnan(store_rows_num(r, 0, "model_name")));
    assert_true(isnan(store_rows_num(r, 0, "empty")));
    assert_true(isnan(store_rows_num(r, 0, "missing")));
    assert_null(store_rows_get(r, 1, "width"));
    store_rows_free(r);
    assert_int_equal(store_select(s, "SELECT * FROM published LIMIT 70", NULL, 0, &r, &err),
                     SIM_OK);
    assert_true(r->nrows > 60); /* grows past the first allocation */
    store_rows_free(r);
    assert_int_equal(store_select(s, "SELECT nope FROM nowhere", NULL, 0, &r, &err), SIM_EDB);
    assert_null(r);
    sim_error_init(&err);

    /* carbon comparisons */
    int64_t cid = 0;
    assert_int_equal(store_carbon_save(s, "strubell-nas,lite-design", "[{\"preset\": \"a\"}]",
                                       "[{\"a\": \"x\", \"b\": \"y\", \"ratio\": 19580}]", &cid,
                                       &err),
                     SIM_OK);
    assert_true(cid > 0);
    assert_int_equal(store_carbon_save(s, "x", "{broken", "[]", NULL, &err), SIM_EDB);
    assert_int_equal(q_int(s, "SELECT count(*) FROM carbon_comparisons"), 1);
    sim_error_init(&err);

    /* exported like any table; merged into another database once */
    char *out = export_to_string(s, "accuracy_results", STORE_CSV, SIM_OK);
    assert_non_null(strstr(out, "lite:368"));
    free(out);
    Store *b = open_ok(pb);
    StoreMergeStats st;
    assert_int_equal(store_merge(b, pa, &st, &err), SIM_OK);
    assert_int_equal(st.accuracy_added, 2);
    assert_int_equal(st.comparisons_added, 1);
    assert_int_equal(store_merge(b, pa, &st, &err), SIM_OK);
    assert_int_equal(st.accuracy_added + st.comparisons_added, 0);
    assert_int_equal(q_int(b, "SELECT count(*) FROM accuracy_results"), 2);
    assert_int_equal(q_int(b, "SELECT count(*) FROM accuracy_estimates"), 0); /* derived */
    store_close(b);
    /* deleting the run deletes its estimates */
    assert_int_equal(store_exec(s, "DELETE FROM runs", &err), SIM_OK);
    assert_int_equal(q_int(s, "SELECT count(*) FROM accuracy_estimates"), 0);
    fx_free(&fx);
    store_close(s);
}

/* ---- the command ---- */

static void test_store_cli_db(void **state) {
    (void)state;
    const char *p = db_file("cli.db");
    Store *s = open_ok(p);
    Fixture f200, f408;
    fx_run(&f200, "models/lite-wmt-200.yml", 1);
    fx_run(&f408, "models/lite-wmt-408.yml", 1);
    save_ok(s, &f200, NULL);
    save_ok(s, &f408, NULL);
    store_close(s);

    assert_int_equal(db_cli("--help", END), 0);
    assert_non_null(strstr(cli_out, "usage: ltsim db"));
    assert_int_equal(db_cli(END), 2); /* like `ltsim` alone: the help on stderr */
    assert_non_null(strstr(cli_err, "usage: ltsim db"));
    expect_cli_error(db_cli("frob", END), 2, "unknown command 'frob'");
    for (const char *const *sub = (const char *const[]){"list", "show", "diff", "export", "merge",
                                                          NULL};
         *sub; sub++) {
        assert_int_equal(db_cli(*sub, "--help", END), 0);
        assert_non_null(strstr(cli_out, "--db PATH"));
    }

    /* list */
    assert_int_equal(db_cli("list", "--db", p, END), 0);
    assert_non_null(strstr(cli_out, "lite-wmt-200"));
    assert_non_null(strstr(cli_out, "90,138,000"));
    assert_true(strstr(cli_out, "lite-wmt-408") < strstr(cli_out, "lite-wmt-200"));
    assert_int_equal(db_cli("list", "--db", p, "--json", "--limit", "1", END), 0);
    cJSON *j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_int_equal(cJSON_GetArraySize(j), 1);
    assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(j, 0), "id")->valueint, 2);
    cJSON_Delete(j);
    expect_cli_error(db_cli("list", "--db", p, "--limit", "x", END), 2, "--limit");
    expect_cli_error(db_cli("list", "--db", p, "--bogus", END), 2, "unknown option '--bogus'");
    expect_cli_error(db_cli("list", "--db", db_file("typo.db"), END), 2, "no such database file");
    assert_int_equal(access(db_file("typo.db"), F_OK), -1); /* a typo creates no file */

    /* show */
    assert_int_equal(db_cli("show", "1", "--db", p, END), 0);
    assert_non_null(strstr(cli_out, "encoder-embed-dim"));
    assert_non_null(strstr(cli_out, "90,138,000"));
    assert_non_null(strstr(cli_out, "encoder.layers.0.self_attn"));
    assert_non_null(strstr(cli_out, "| encoder-embed-dim: 200"));
    assert_int_equal(db_cli("show", "latest", "--json", "--db", p, END), 0);
    j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_int_equal((int64_t)cJSON_GetObjectItem(j, "macs")->valuedouble, 359550000);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "layers")),
                     (int)cost_ledger_count(f408.res.ledger));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "config"),
                                            "encoder-embed-dim")->valuestring,
                        "408");
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "measured_ms")));
    cJSON_Delete(j);
    expect_cli_error(db_cli("show", "99", "--db", p, END), 2, "no run '99'");
    expect_cli_error(db_cli("show", "--db", p, END), 2, "missing RUN");
    expect_cli_error(db_cli("show", "1", "--db", "/nonexistent/x.db", END), 2, "no such database");

    /* diff */
    assert_int_equal(db_cli("diff", "1", "2", "--db", p, END), 0);
    assert_non_null(strstr(cli_out, "encoder-embed-dim"));
    assert_non_null(strstr(cli_out, "200 -> 408"));
    assert_non_null(strstr(cli_out, "model_path"));
    assert_non_null(strstr(cli_out, "+269,412,000"));
    assert_non_null(strstr(cli_out, "per scope:"));
    assert_non_null(strstr(cli_out, "encoder.layers.0.fc1"));
    assert_int_equal(db_cli("diff", "1", "2", "--json", "--db", p, END), 0);
    j = cJSON_Parse(cli_out);
    if (j == NULL) fail_msg("not JSON: %.200s", cli_out);
    int found = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(j, "config")) {
        if (strcmp(cJSON_GetObjectItem(e, "key")->valuestring, "encoder-embed-dim") == 0) {
            assert_string_equal(cJSON_GetObjectItem(e, "a")->valuestring, "200");
            assert_string_equal(cJSON_GetObjectItem(e, "b")->valuestring, "408");
            found = 1;
        }
    }
    assert_true(found);
    cJSON *macs = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "totals"), "macs");
    assert_int_equal((int64_t)cJSON_GetObjectItem(macs, "delta")->valuedouble, 359550000 - 90138000);
    cJSON *scopes = cJSON_GetObjectItem(j, "scopes");
    assert_true(cJSON_GetArraySize(scopes) > 10);
    int64_t sum = 0;
    cJSON_ArrayForEach(e, scopes) sum += (int64_t)cJSON_GetObjectItem(cJSON_GetObjectItem(e, "delta"),
                                                                       "macs")->valuedouble;
    assert_int_equal(sum, (int64_t)(tu_macs(f408.res.ledger, -1, NULL, -1) -
                                    tu_macs(f200.res.ledger, -1, NULL, -1)));
    cJSON_Delete(j);
    assert_int_equal(db_cli("diff", "1", "1", "--db", p, END), 0);
    assert_non_null(strstr(cli_out, "config keys: identical"));
    assert_non_null(strstr(cli_out, "0 changed"));
    expect_cli_error(db_cli("diff", "1", "--db", p, END), 2, "missing RUN_B");
    expect_cli_error(db_cli("diff", "1", "7", "--db", p, END), 2, "no run '7'");

    /* export */
    assert_int_equal(db_cli("export", "--db", p, END), 0);
    assert_string_equal(cli_out, "[]\n");
    assert_int_equal(db_cli("export", "--format", "json", "--db", p, END), 0);
    assert_string_equal(cli_out, "[]\n");
    assert_int_equal(db_cli("export", "--format", "csv", "--table", "runs", "--db", p, END), 0);
    assert_int_equal(strncmp(cli_out, "id,uuid,", 8), 0);
    /* two records (config_text spans lines inside its quotes) */
    assert_non_null(strstr(cli_out, "\n1,"));
    assert_non_null(strstr(cli_out, "\n2,"));
    assert_null(strstr(cli_out, "\n3,"));
    assert_non_null(strstr(cli_out, ",\"# Lite Transformer, WMT"));
    assert_int_equal(db_cli("export", "--table", "run_config", "--db", p, END), 0);
    j = cJSON_Parse(cli_out);
    assert_non_null(j);
    assert_true(cJSON_GetArraySize(j) > 20);
    cJSON_Delete(j);
    expect_cli_error(db_cli("export", "--table", "nope", "--db", p, END), 2, "unknown table");
    expect_cli_error(db_cli("export", "--format", "xml", "--db", p, END), 2, "csv or json");
    expect_cli_error(db_cli("export", "--json", "--format", "csv", "--db", p, END), 2, NULL);
    fx_free(&f200);
    fx_free(&f408);
}

static void test_store_git_hash(void **state) {
    (void)state;
    char h[64];
    store_git_hash(".", h, sizeof h);
    if (access(".git/HEAD", R_OK) == 0) {
        assert_int_equal(strlen(h), 40);
    } else {
        assert_string_equal(h, "");
    }
    store_git_hash("/nonexistent", h, sizeof h);
    assert_string_equal(h, "");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_sources_match_files),
        cmocka_unit_test(test_store_sha256),
        cmocka_unit_test(test_store_open_memory),
        cmocka_unit_test(test_store_open_file_wal),
        cmocka_unit_test(test_store_default_path),
        cmocka_unit_test(test_store_migrates_from_version_0),
        cmocka_unit_test(test_store_published_loaded),
        cmocka_unit_test(test_store_published_loaded_once),
        cmocka_unit_test(test_store_save_count_run),
        cmocka_unit_test(test_store_save_executed_run),
        cmocka_unit_test(test_store_save_generate_run),
        cmocka_unit_test(test_store_atomic_on_constraint_failure),
        cmocka_unit_test(test_store_killed_mid_run_leaves_nothing),
        cmocka_unit_test(test_store_disk_full_leaves_nothing),
        cmocka_unit_test(test_store_readonly_directory),
        cmocka_unit_test(test_store_concurrent_writer_waits),
        cmocka_unit_test(test_store_parallel_writers),
        cmocka_unit_test(test_store_sweeps_and_export),
        cmocka_unit_test(test_store_merge),
        cmocka_unit_test(test_store_accuracy_estimates_carbon),
        cmocka_unit_test(test_store_cli_db),
        cmocka_unit_test(test_store_git_hash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
