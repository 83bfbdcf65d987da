/*
 * testutil.c - helpers shared by the CMocka suites.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
