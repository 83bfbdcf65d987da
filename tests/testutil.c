/*
 * testutil.c - helpers shared by the CMocka suites.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

double tu_rel_err(const float *a, const float *b, int64_t n) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (d > num || isnan(d)) num = isnan(d) ? INFINITY : d;
        if (fabs((double)b[i]) > den) den = fabs((double)b[i]);
    }
    return den > 0 ? num / den : num;
}

void tu_load_config(const char *path, int64_t vocab, ModelConfig *cfg) {
    SimError err;
    sim_error_init(&err);
    ConfigOverrides ov = {vocab};
    SimStatus rc = config_load(path, &ov, cfg, &err);
    if (rc != SIM_OK) fail_msg("%s: %s", path, err.msg);
}

RunSpec tu_spec(int count_only) {
    RunSpec s;
    memset(&s, 0, sizeof s);
    s.src_len = 30;
    s.tgt_len = 30;
    s.seed = 1;
    s.threads = 1;
    s.count_only = count_only;
    s.repeats = 1;
    return s;
}

uint64_t tu_macs(const CostLedger *l, int cls, const char *sub, int op) {
    uint64_t m = 0;
    for (size_t i = 0; i < cost_ledger_count(l); i++) {
        const LedgerEntry *e = cost_ledger_get(l, i);
        if (cls >= 0 && (int)e->cls != cls) continue;
        if (sub != NULL && strstr(e->scope, sub) == NULL) continue;
        if (op >= 0 && e->op != op) continue;
        m += e->cost.macs;
    }
    return m;
}

const char *tu_tmpdir(void) {
    static char dir[64];
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/ltsim-test-XXXXXX");
        if (mkdtemp(dir) == NULL) fail_msg("mkdtemp failed");
    }
    return dir;
}

char *tu_slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    size_t cap = 1 << 16, n = 0, k;
    char *buf = malloc(cap);
    while (buf && (k = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += k;
        if (n + 1 == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (nb == NULL) free(buf);
            buf = nb;
        }
    }
    fclose(f);
    if (buf) buf[n] = '\0';
    return buf;
}

int tu_count_lines(const char *s) {
    int n = 0;
    for (; s && *s; s++) n += *s == '\n';
    return n;
}

int tu_run_captured(TuMain fn, int argc, char **argv, void *ctx, char **out, char **err) {
    char op[256], ep[256];
    snprintf(op, sizeof op, "%s/cli.out", tu_tmpdir());
    snprintf(ep, sizeof ep, "%s/cli.err", tu_tmpdir());
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int o = open(op, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(ep, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0) _exit(127);
        dup2(o, 1);
        dup2(e, 2);
        int rc = fn(argc, argv, ctx);
        fflush(stdout);
        fflush(stderr);
        _exit(rc);
    }
    int st = 0;
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR) {
    }
    free(*out);
    free(*err);
    *out = tu_slurp(op);
    *err = tu_slurp(ep);
    assert_non_null(*out);
    assert_non_null(*err);
    if (WIFSIGNALED(st))
        fail_msg("%s killed by signal %d: %s", argv[0], WTERMSIG(st), *err);
    return WEXITSTATUS(st);
}
