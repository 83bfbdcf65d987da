/*
 * bench_forward.c - `make bench`: for each model, the forward time at S = T = 30, batch 1,
 * one thread (median of the timed passes after warm-up), the time spent inside matrix
 * products in the same passes, their ratio, the peak RSS of the process that ran it and
 * the planned arena bytes. Each model runs in its own child process so that its peak RSS
 * is its own.
 *
 * usage: bench_forward [--repeats N] [--warmup N] [MODEL...]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "generate.h"
#include "report.h"
#include "runner.h"

static int bench_one(const char *path, int warmup, int repeats) {
    ModelConfig cfg;
    SimError err;
    sim_error_init(&err);
    if (config_load(path, NULL, &cfg, &err) != SIM_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 2;
    }
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = spec.tgt_len = 30;
    spec.seed = 1;
    spec.threads = 1;
    spec.warmup = warmup;
    spec.repeats = repeats;
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) {
        fprintf(stderr, "bench: %s: %s\n", path, err.msg);
        return 1;
    }
    /* the output projection's share, to show the ratio with and without it */
    double proj_ms = 0.0;
    for (size_t i = 0; i < cost_ledger_count(res.ledger); i++) {
        const LedgerEntry *e = cost_ledger_get(res.ledger, i);
        if (e->cls == CLASS_EMBED_OUTPUT && e->op == OP_LINEAR) proj_ms += (double)e->time_ns * 1e-6;
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double body = res.median_ms - proj_ms, gemm_body = res.gemm_median_ms - proj_ms;
    printf("%-22s forward %8.3f ms (min %.3f, max %.3f, %d passes)  GEMM %8.3f ms  "
           "forward/GEMM %.2f  [without output projection: %.3f / %.3f ms = %.2f]\n",
           cfg.path, res.median_ms, res.min_ms, res.max_ms, res.repeats, res.gemm_median_ms,
           res.ratio_median, body, gemm_body, gemm_body > 0 ? body / gemm_body : 0.0);
    printf("%-22s peak RSS %.1f MiB  weights %.1f MiB  activation arena (planned) %zu bytes\n", "",
           (double)ru.ru_maxrss / 1024.0, (double)res.model->weight_bytes / 1048576.0,
           res.planned_bytes);
    int over = res.ratio_median > 1.6;
    runner_result_free(&res);
    return over ? 3 : 0;
}

/* Loads path and fills spec for decoding 30 steps at beam, no early stop, one thread:
 * 0, or 2 (a message on stderr) when the config does not load. */
static int generate_spec(const char *path, int beam, int warmup, int repeats, ModelConfig *cfg,
                         RunSpec *spec) {
    SimError err;
    sim_error_init(&err);
    if (config_load(path, NULL, cfg, &err) != SIM_OK) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 2;
    }
    memset(spec, 0, sizeof *spec);
    spec->src_len = spec->tgt_len = 30;
    spec->seed = 1;
    spec->threads = 1;
    spec->warmup = warmup;
    spec->repeats = repeats;
    spec->mode = MODE_GENERATE;
    spec->beam = beam;
    spec->no_early_stop = 1;
    spec->conv.conv_macs = CONV_MACS_VALID;
    return 0;
}

/* Generate mode: the per-token decode time at t = 1 and t = 30 (median over the timed
 * generations), greedy and beam 4, 30 steps without early stop, with the bytes each step
 * moves (weights it reads and cache rows). */
static int bench_generate(const char *path, int beam, int warmup, int repeats) {
    ModelConfig cfg;
    RunSpec spec;
    SimError err;
    sim_error_init(&err);
    if (generate_spec(path, beam, warmup, repeats, &cfg, &spec) != 0) return 2;
    RunResult res;
    if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) {
        fprintf(stderr, "bench: %s: %s\n", path, err.msg);
        return 1;
    }
    StepFigures f1, f30;
    step_figures(&res, 0, &f1);
    step_figures(&res, res.nsteps - 1, &f30);
    printf("%-22s generate beam %d: %.3f ms total (median of %d); step t=1 %.3f ms "
           "(%.1f MB weights + %.2f MB cache), t=%lld %.3f ms (%.1f MB + %.2f MB); "
           "state %.2f MB\n",
           cfg.path, beam, res.median_ms, res.repeats, res.step_info[0].ms,
           (double)f1.weight_bytes / 1e6, (double)res.step_info[0].cache_bytes / 1e6,
           (long long)res.nsteps, res.step_info[res.nsteps - 1].ms, (double)f30.weight_bytes / 1e6,
           (double)res.step_info[res.nsteps - 1].cache_bytes / 1e6,
           (double)res.gen.state_bytes / 1e6);
    runner_result_free(&res);
    return 0;
}

/* Beam decoding with products of 2..OPS_GEMV_ROWS rows as matrix-vector products (the
 * engine's path) against sgemm for every product, alternating, the same tokens. */
static int bench_beam_paths(const char *path, int beam, int warmup, int repeats) {
    ModelConfig cfg;
    RunSpec spec;
    SimError err;
    sim_error_init(&err);
    if (generate_spec(path, beam, warmup, repeats, &cfg, &spec) != 0) return 2;
    double best[2] = {1e30, 1e30};
    for (int round = 0; round < 2; round++)
        for (int p = 0; p < 2; p++) {
            ops_set_gemv_rows(p == 0 ? OPS_GEMV_ROWS : 1);
            RunResult res;
            if (runner_execute(&cfg, &spec, &res, &err) != SIM_OK) {
                fprintf(stderr, "bench: %s: %s\n", path, err.msg);
                ops_set_gemv_rows(OPS_GEMV_ROWS);
                return 1;
            }
            if (res.median_ms < best[p]) best[p] = res.median_ms;
            runner_result_free(&res);
        }
    ops_set_gemv_rows(OPS_GEMV_ROWS);
    printf("%-22s generate beam %d: rows as matrix-vector products %.3f ms, sgemm %.3f ms "
           "(%.2fx)\n",
           cfg.path, beam, best[0], best[1], best[1] / best[0]);
    return 0;
}

/* The executed int8 path against fp32 on the same model and tokens. */
static int bench_int8(const char *path, int unused, int warmup, int repeats) {
    (void)unused;
    ModelConfig cfg;
    SimError err;
    sim_error_init(&err);
    if (config_load(path, NULL, &cfg, &err) != SIM_OK) return 2;
    RunSpec spec;
    memset(&spec, 0, sizeof spec);
    spec.src_len = spec.tgt_len = 30;
    spec.seed = 1;
    spec.threads = 1;
    spec.warmup = warmup;
    spec.repeats = repeats;
    RunResult a, b;
    if (runner_execute(&cfg, &spec, &a, &err) != SIM_OK) return 1;
    spec.compress.bits = 8;
    if (runner_execute(&cfg, &spec, &b, &err) != SIM_OK) return 1;
    printf("%-22s int8 weights: forward %.3f ms (GEMM incl. dequantisation %.3f ms) vs fp32 %.3f "
           "ms: %.2fx\n",
           cfg.path, b.median_ms, b.gemm_median_ms, a.median_ms,
           b.median_ms > 0 ? a.median_ms / b.median_ms : 0.0);
    runner_result_free(&a);
    runner_result_free(&b);
    return 0;
}

static int run_child(int (*fn)(const char *, int, int, int), const char *path, int arg, int warmup,
                     int repeats) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) {
        perror("bench: fork");
        return 1;
    }
    if (pid == 0) {
        int c = fn(path, arg, warmup, repeats);
        fflush(stdout);
        _exit(c);
    }
    int st = 0;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(int argc, char **argv) {
    int warmup = 5, repeats = 30;
    const char *defaults[] = {"models/lite-wmt-496.yml", "models/transformer-base.yml",
                              "models/evolved-wmt-128.yml", "models/evolved-base.yml"};
    const char **models = defaults;
    int nmodels = 4;
    int i = 1;
    for (; i < argc; i++) {
        if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (strcmp(argv[i], "--warmup") == 0 && i + 1 < argc) warmup = atoi(argv[++i]);
        else break;
    }
    if (i < argc) {
        models = (const char **)(argv + i);
        nmodels = argc - i;
    }
    if (repeats < 20) repeats = 20;
    char host[512];
    RunSpec hs;
    memset(&hs, 0, sizeof hs);
    hs.threads = 1;
    report_host_line(&hs, host, sizeof host);
    printf("ltsim bench: S = T = 30, batch 1, %d warm-up + %d timed passes\n%s\n", warmup,
           repeats, host);
    int rc = 0;
    for (int k = 0; k < nmodels; k++) {
        fflush(stdout);
        pid_t pid = fork();
        if (pid < 0) {
            perror("bench: fork");
            return 1;
        }
        if (pid == 0) {
            int c = bench_one(models[k], warmup, repeats);
            fflush(stdout);
            _exit(c);
        }
        int st = 0;
        waitpid(pid, &st, 0);
        int code = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
        if (code == 3) {
            printf("%-22s FLOOR MISSED: the forward takes more than 1.6x its matrix products\n",
                   models[k]);
            rc = 1;
        } else if (code != 0) {
            rc = code;
        }
    }
    int qc = run_child(bench_int8, "models/lite-wmt-496.yml", 0, warmup, repeats);
    if (qc != 0) rc = qc;
    for (int k = 0; k < nmodels && k < 2; k++) /* decoding: the two WMT-size models */
        for (int beam = 1; beam <= 4; beam += 3) {
            int code = run_child(bench_generate, models[k], beam, 1, repeats / 3 > 5 ? repeats / 3 : 5);
            if (code != 0) rc = code;
        }
    for (int k = 0; k < nmodels && k < 2; k++) { /* the beam path against sgemm */
        int code = run_child(bench_beam_paths, models[k], 2, 1, 3);
        if (code != 0) rc = code;
    }
    return rc;
}
