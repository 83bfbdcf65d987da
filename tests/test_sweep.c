/*
 * test_sweep.c - width solving under Mult-Add budgets, the family templates against the
 * paper's configs, and `ltsim sweep` end to end: stored points, resuming after kill -9 with
 * every point exactly once, shards that add up, bad options.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "store.h"
#include "sweep.h"
#include "testutil.h"

static RunSpec spec30(void) {
    RunSpec s;
    memset(&s, 0, sizeof s);
    s.src_len = s.tgt_len = 30;
    return s;
}

static uint64_t macs_at(SweepFamily f, int64_t d) {
    ModelConfig cfg;
    SimError err;
    sim_error_init(&err);
    if (sweep_config(f, d, NULL, 0, &cfg, &err) != SIM_OK) fail_msg("%s", err.msg);
    uint64_t m = 0;
    RunSpec s = spec30();
    assert_int_equal(sweep_count(&cfg, &s, &m, &err), SIM_OK);
    return m;
}

/* The chosen width fits, the next grid width does not. */
static void test_sweep_solve(void **state) {
    (void)state;
    const uint64_t budgets[] = {100000000, 300000000, 500000000, 1000000000};
    for (int f = 0; f < SWEEP_FAMILY_COUNT; f++)
        for (size_t b = 0; b < 4; b++) {
            SimError err;
            sim_error_init(&err);
            int64_t w = 0;
            uint64_t m = 0;
            RunSpec s = spec30();
            assert_int_equal(sweep_solve((SweepFamily)f, budgets[b], &s, NULL, 0, &w, &m, &err), SIM_OK);
            assert_true(w >= SWEEP_GRID_MIN);
            assert_true(m <= budgets[b]);
            assert_int_equal(m, macs_at((SweepFamily)f, w));
            int64_t next = sweep_grid_step((SweepFamily)f, w, 1, NULL, 0);
            assert_true(next > w);
            assert_true(macs_at((SweepFamily)f, next) > budgets[b]);
        }
    /* nothing fits a tiny budget */
    SimError err;
    sim_error_init(&err);
    int64_t w = 1;
    uint64_t m = 1;
    RunSpec s = spec30();
    assert_int_equal(sweep_solve(SWEEP_LITE, 1000, &s, NULL, 0, &w, &m, &err), SIM_OK);
    assert_int_equal(w, 0);
}

/* The templates are the paper's configs at their widths. */
static void test_sweep_templates(void **state) {
    (void)state;
    assert_int_equal(macs_at(SWEEP_LITE, 496), 527451360);
    assert_int_equal(macs_at(SWEEP_LITE, 200), 90138000);
    assert_int_equal(macs_at(SWEEP_LITE_LIGHT, 160), 54292800);
    assert_int_equal(macs_at(SWEEP_TRANSFORMER, 128), 86054400);
    assert_int_equal(macs_at(SWEEP_TRANSFORMER, 512), 1335121920);
    assert_int_equal(macs_at(SWEEP_EVOLVED, 128), 92129280);
    /* overrides replace a template key */
    SweepOverride ov = {"encoder-layers", "3"};
    ModelConfig cfg;
    SimError err;
    sim_error_init(&err);
    assert_int_equal(sweep_config(SWEEP_TRANSFORMER, 256, &ov, 1, &cfg, &err), SIM_OK);
    assert_int_equal(cfg.enc.layers, 3);
    assert_int_equal(cfg.enc.heads[0], 8);
    uint64_t v;
    assert_int_equal(sweep_parse_macs("100M", &v), 0);
    assert_int_equal(v, 100000000);
    assert_int_equal(sweep_parse_macs("1.5G", &v), 0);
    assert_int_equal(v, 1500000000);
    assert_int_equal(sweep_parse_macs("12x", &v), -1);
}

/* ---- the command ---- */

static const char *bg_stdout = "/dev/null"; /* where the child's standard output goes */

static int ltsim_bg(const char **args, pid_t *pid_out) {
    const char *bin = getenv("LTSIM_BIN");
    if (bin == NULL) bin = "./ltsim";
    const char *argv[40];
    int n = 0;
    argv[n++] = bin;
    for (int i = 0; args[i] && n < 39; i++) argv[n++] = args[i];
    argv[n] = NULL;
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open("/dev/null", O_WRONLY), fo = open(bg_stdout, O_WRONLY);
        if (fd >= 0) dup2(fd, 2);
        if (fo >= 0) dup2(fo, 1);
        execv(bin, (char *const *)argv);
        _exit(127);
    }
    if (pid_out) {
        *pid_out = pid;
        return 0;
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int64_t q(const char *db, const char *sql) {
    SimError err;
    sim_error_init(&err);
    Store *s = store_open(db, &err);
    if (s == NULL) fail_msg("%s", err.msg);
    int64_t v = -1;
    if (store_query_int(s, sql, &v, &err) != SIM_OK) fail_msg("%s", err.msg);
    store_close(s);
    return v;
}

static void test_sweep_command_resumes_after_kill(void **state) {
    (void)state;
    char db[256];
    snprintf(db, sizeof db, "%s/kill.db", tu_tmpdir());
    const char *args[] = {"sweep", "--count-only", "--family", "lite,transformer", "--budget", "100M",
                          "--vary", "width=16:2400:8", "--db", db, NULL};
    /* the whole sweep, for the expected point count */
    char full[256];
    snprintf(full, sizeof full, "%s/full.db", tu_tmpdir());
    const char *fargs[] = {"sweep", "--count-only", "--family", "lite,transformer", "--budget", "100M",
                           "--vary", "width=16:2400:8", "--db", full, NULL};
    assert_int_equal(ltsim_bg(fargs, NULL), 0);
    int64_t want = q(full, "SELECT count(*) FROM sweep_points");
    assert_true(want > 500);
    /* killed midway */
    pid_t pid;
    ltsim_bg(args, &pid);
    struct timespec ts = {0, 150 * 1000 * 1000};
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st = 0;
    waitpid(pid, &st, 0);
    int64_t part = q(db, "SELECT count(*) FROM sweep_points");
    assert_true(part < want); /* it stopped before the end (or had not started) */
    char ic[32];
    SimError err;
    sim_error_init(&err);
    Store *s = store_open(db, &err);
    assert_non_null(s);
    assert_int_equal(store_query_text(s, "PRAGMA integrity_check", ic, sizeof ic, &err), SIM_OK);
    assert_string_equal(ic, "ok");
    store_close(s);
    /* run again: every point exactly once, the same points as the uninterrupted sweep */
    assert_int_equal(ltsim_bg(args, NULL), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM sweep_points"), want);
    assert_int_equal(q(db, "SELECT count(*) FROM (SELECT 1 FROM sweep_points GROUP BY sweep_id, "
                           "family, budget_macs, width, role, label HAVING count(*) > 1)"),
                     0);
    assert_int_equal(q(db, "SELECT count(*) FROM sweeps WHERE finished_at IS NOT NULL"), 1);
    /* a third run adds nothing */
    int64_t runs = q(db, "SELECT count(*) FROM runs");
    assert_int_equal(ltsim_bg(args, NULL), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM runs"), runs);
}

static void test_sweep_command_shards(void **state) {
    (void)state;
    char db[256];
    snprintf(db, sizeof db, "%s/shards.db", tu_tmpdir());
    const char *a0[] = {"sweep", "--count-only", "--family", "lite,evolved", "--shard", "0/2", "--db", db, NULL};
    const char *a1[] = {"sweep", "--count-only", "--family", "lite,evolved", "--shard", "1/2", "--db", db, NULL};
    const char *all[] = {"sweep", "--count-only", "--family", "lite,evolved", "--jobs", "2", "--db", db, NULL};
    assert_int_equal(ltsim_bg(a0, NULL), 0);
    int64_t n0 = q(db, "SELECT count(*) FROM sweep_points");
    assert_int_equal(ltsim_bg(a1, NULL), 0);
    int64_t n01 = q(db, "SELECT count(*) FROM sweep_points");
    assert_true(n0 > 0 && n01 > n0);
    /* the whole sweep (two processes) finds every point of both shards already stored */
    assert_int_equal(ltsim_bg(all, NULL), 0);
    assert_int_equal(q(db, "SELECT count(*) FROM sweep_points"), n01);
    assert_int_equal(q(db, "SELECT count(DISTINCT sweep_id) FROM sweep_points"), 1);
    /* 2 families x 3 budgets x (chosen + 2 neighbours) + 6 named configs */
    assert_int_equal(n01, 2 * 3 * 3 + 6);
}

/* a full disk under standard output: exit 1, and the points are stored all the same */
static void test_sweep_command_stdout_full(void **state) {
    (void)state;
    if (access("/dev/full", W_OK) != 0) {
        printf("test_sweep_command_stdout_full: skipped: no /dev/full\n");
        return;
    }
    char db[256];
    snprintf(db, sizeof db, "%s/full-stdout.db", tu_tmpdir());
    for (int jobs = 1; jobs <= 2; jobs++) {
        unlink(db);
        const char *a[] = {"sweep", "--count-only", "--family", "lite,transformer", "--budget",
                           "100M", "--jobs", jobs == 1 ? "1" : "2", "--db", db, NULL};
        bg_stdout = "/dev/full";
        int rc = ltsim_bg(a, NULL);
        bg_stdout = "/dev/null";
        assert_int_equal(rc, 1);
        /* 2 families x (chosen + 2 neighbours) + their named configs */
        assert_true(q(db, "SELECT count(*) FROM sweep_points") >= 6);
    }
}

static void test_sweep_command_bad_options(void **state) {
    (void)state;
    const char *a[] = {"sweep", "--family", "lite,nope", NULL};
    assert_int_equal(ltsim_bg(a, NULL), 2);
    const char *b[] = {"sweep", "--budget", "12x", NULL};
    assert_int_equal(ltsim_bg(b, NULL), 2);
    const char *c[] = {"sweep", "--shard", "2/2", NULL};
    assert_int_equal(ltsim_bg(c, NULL), 2);
    const char *d[] = {"sweep", "--vary", "width=10", NULL};
    assert_int_equal(ltsim_bg(d, NULL), 2);
    const char *e[] = {"sweep", "--count-only", "--vary", "encoder-laers=1:2:1", "--family", "lite",
                       "--db", "/tmp/ltsim-unused.db", NULL};
    assert_int_equal(ltsim_bg(e, NULL), 2);
}

int main(void) {
    setenv("LTSIM_HOME", tu_tmpdir(), 1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_solve),
        cmocka_unit_test(test_sweep_templates),
        cmocka_unit_test(test_sweep_command_resumes_after_kill),
        cmocka_unit_test(test_sweep_command_shards),
        cmocka_unit_test(test_sweep_command_stdout_full),
        cmocka_unit_test(test_sweep_command_bad_options),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
