/*
 * runner.c - plan, execute and time one run (see runner.h).
 */
#include "runner.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "arena.h"

static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec * 1e-6;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double runner_median(const double *v, int n) {
    if (n <= 0) return 0.0;
    double *c = malloc((size_t)n * sizeof *c);
    if (c == NULL) return v[0];
    memcpy(c, v, (size_t)n * sizeof *c);
    qsort(c, (size_t)n, sizeof *c, cmp_double);
    double m = n % 2 ? c[n / 2] : 0.5 * (c[n / 2 - 1] + c[n / 2]);
    free(c);
    return m;
}

/* Median of v[0..n), sorting v. */
static double median_in_place(double *v, int n) {
    if (n <= 0) return 0.0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

/* The ledgers a timed pass fills: the forward ledger, or generate's merged ledger, its once
 * ledger and the step ledgers. */
static SimStatus timed_ledgers(const RunResult *res, const CostLedger ***out, int *n,
                               SimError *err) {
    int gen = res->once != NULL;
    int64_t nl = gen ? 2 + res->nsteps : 1;
    const CostLedger **l = calloc((size_t)nl, sizeof(const CostLedger *));
    if (l == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory for the step ledgers");
    l[0] = res->ledger;
    if (gen) {
        l[1] = res->once;
        for (int64_t t = 0; t < res->nsteps; t++) l[2 + t] = res->steps[t];
    }
    *out = l;
    *n = (int)nl;
    return SIM_OK;
}

/* Random ids in [4, V): ordinary words, no bos/pad/eos/unk. */
static uint64_t splitmix(uint64_t *s) {
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static void random_tokens(int64_t *t, int64_t n, int64_t V, uint64_t *s) {
    int64_t lo = V > 4 ? 4 : 0;
    for (int64_t i = 0; i < n; i++) t[i] = lo + (int64_t)(splitmix(s) % (uint64_t)(V - lo));
}

/* One pass of the run's mode into res->ledger (generate: the merge of once + steps). */
static SimStatus pass_once(Model *m, Run *r, RunResult *res, const RunSpec *spec) {
    cost_ledger_clear(res->ledger);
    arena_rewind(r->act, 0);
    r->src_keep = res->src_keep;
    if (spec->mode != MODE_GENERATE) {
        r->ledger = res->ledger;
        return model_forward(m, r, res->src, res->S, res->tgt, res->T, &res->out);
    }
    GenOptions o = {0};
    o.beam = spec->beam > 0 ? spec->beam : 1;
    o.max_steps = res->max_steps;
    o.early_stop = !spec->no_early_stop;
    o.forced = spec->tgt ? res->tgt : NULL;
    o.nforced = spec->tgt ? res->T : 0;
    o.keep_logits = spec->keep_logits;
    gen_result_free(&res->gen);
    cost_ledger_clear(res->once);
    SimStatus rc = gen_run(m, r, res->src, res->S, &o, res->once, res->steps, res->step_info,
                           &res->gen);
    r->ledger = res->ledger;
    if (rc != SIM_OK) return rc;
    res->nsteps = res->gen.steps;
    if (r->count_only) res->nsteps = res->max_steps;
    rc = cost_ledger_merge(res->ledger, res->once, r->err);
    for (int64_t t = 0; rc == SIM_OK && t < res->nsteps; t++)
        rc = cost_ledger_merge(res->ledger, res->steps[t], r->err);
    return rc;
}

SimStatus runner_execute(const ModelConfig *cfg, const RunSpec *spec, RunResult *res,
                         SimError *err) {
    memset(res, 0, sizeof *res);
    Arena *plan = NULL;
    SimStatus rc = SIM_OK;
    int lm = cfg->family == FAMILY_LM; /* decoder only: no source */
    res->S = lm ? 0 : (spec->src ? spec->nsrc : spec->src_len);
    res->T = spec->tgt ? spec->ntgt : spec->tgt_len;
    if ((!lm && res->S < 1) || res->T < 1) {
        rc = sim_errorf(err, SIM_EINVAL, "lengths must be >= 1 (source %lld, target %lld)",
                        (long long)res->S, (long long)res->T);
        goto fail;
    }
    res->src = malloc((size_t)(res->S > 0 ? res->S : 1) * sizeof(int64_t));
    res->tgt = malloc((size_t)res->T * sizeof(int64_t));
    if (res->src == NULL || res->tgt == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory for the token ids");
        goto fail;
    }
    uint64_t ts = spec->seed ^ 0x5851F42D4C957F2Dull;
    if (spec->src && res->S > 0) memcpy(res->src, spec->src, (size_t)res->S * sizeof(int64_t));
    else random_tokens(res->src, res->S, cfg->src_vocab, &ts);
    if (spec->tgt) {
        memcpy(res->tgt, spec->tgt, (size_t)res->T * sizeof(int64_t));
    } else {
        res->tgt[0] = RUNNER_EOS;
        random_tokens(res->tgt + 1, res->T - 1, cfg->tgt_vocab, &ts);
    }
    for (int64_t i = 0; i < res->S; i++)
        if (res->src[i] < 0 || res->src[i] >= cfg->src_vocab) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "--src: token id %lld at position %lld is outside the source "
                            "vocabulary of %lld",
                            (long long)res->src[i], (long long)i, (long long)cfg->src_vocab);
            goto fail;
        }
    for (int64_t i = 0; i < res->T; i++)
        if (res->tgt[i] < 0 || res->tgt[i] >= cfg->tgt_vocab) {
            rc = sim_errorf(err, SIM_EINVAL,
                            "--tgt: token id %lld at position %lld is outside the target "
                            "vocabulary of %lld",
                            (long long)res->tgt[i], (long long)i, (long long)cfg->tgt_vocab);
            goto fail;
        }

    /* source padding (fairseq's id 1, tensor2tensor's 0): masked keys, zeroed conv inputs */
    int64_t pad = cfg->family == FAMILY_EVOLVED ? 0 : 1, npad = 0;
    for (int64_t i = 0; i < res->S; i++) npad += res->src[i] == pad;
    if (npad > 0) {
        res->src_keep = malloc((size_t)res->S);
        if (res->src_keep == NULL) {
            rc = sim_errorf(err, SIM_ENOMEM, "out of memory for the padding mask");
            goto fail;
        }
        for (int64_t i = 0; i < res->S; i++) res->src_keep[i] = res->src[i] != pad;
    }
    int gen = spec->mode == MODE_GENERATE;
    res->max_steps = spec->tgt ? res->T : (spec->max_steps > 0 ? spec->max_steps : res->T);
    if (gen && spec->tgt && spec->beam > 1) {
        rc = sim_errorf(err, SIM_EINVAL, "--tgt in generate mode feeds the given tokens: use beam 1");
        goto fail;
    }
    ModelOptions mo = {0};
    mo.count_only = spec->count_only;
    mo.seed = spec->seed;
    mo.weights = spec->weights;
    mo.allow_extra_tensors = spec->allow_extra_tensors;
    mo.max_positions = res->S > res->T ? res->S : res->T;
    if (spec->compress.bits || spec->compress.prune > 0.0) mo.compress = &spec->compress;
    if (gen && res->max_steps > mo.max_positions) mo.max_positions = res->max_steps;
    rc = model_open(cfg, &mo, &res->model, err);
    if (rc != SIM_OK) goto fail;
    res->ledger = cost_ledger_open(err);
    if (res->ledger == NULL) goto fail;
    if (gen) {
        res->once = cost_ledger_open(err);
        res->steps = calloc((size_t)res->max_steps, sizeof(CostLedger *));
        res->step_info = calloc((size_t)res->max_steps, sizeof *res->step_info);
        if (res->once == NULL || res->steps == NULL || res->step_info == NULL) {
            rc = sim_errorf(err, SIM_ENOMEM, "out of memory for %lld step ledgers",
                            (long long)res->max_steps);
            goto fail;
        }
        for (int64_t t = 0; t < res->max_steps; t++)
            if ((res->steps[t] = cost_ledger_open(err)) == NULL) goto fail;
    }

    /* plan: the same graph, count-only, against a measuring arena */
    plan = arena_open(0, 1, err);
    if (plan == NULL) goto fail;
    Run r = {0};
    r.count_only = 1;
    r.act = plan;
    r.ledger = res->ledger;
    r.err = err;
    r.conv = spec->conv;
    rc = pass_once(res->model, &r, res, spec);
    if (rc != SIM_OK) goto fail;
    res->planned_bytes = arena_peak(plan);
    if (spec->count_only) goto done;

    if (spec->save_weights != NULL) {
        rc = model_save_weights(res->model, spec->save_weights, err);
        if (rc != SIM_OK) goto fail;
    }
    ops_set_threads(spec->threads > 0 ? spec->threads : 1);
    res->act = arena_open(res->planned_bytes, 0, err);
    if (res->act == NULL) goto fail;
    r.count_only = 0;
    r.act = res->act;
    for (int i = 0; i < spec->warmup; i++) {
        rc = pass_once(res->model, &r, res, spec);
        if (rc != SIM_OK) goto fail;
    }
    int reps = spec->repeats > 0 ? spec->repeats : 1;
    res->ms = calloc((size_t)reps, sizeof *res->ms);
    res->gemm_ms = calloc((size_t)reps, sizeof *res->gemm_ms);
    if (res->ms == NULL || res->gemm_ms == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory for timings");
        goto fail;
    }
    double *ratio = calloc((size_t)reps, sizeof *ratio);
    if (ratio == NULL) {
        rc = sim_errorf(err, SIM_ENOMEM, "out of memory for timings");
        goto fail;
    }
    /* every timed pass runs the same graph (generation is deterministic), so entry j of a
     * ledger is the same operator each time: per-operator times are medians over the passes,
     * like the run's time, and so are the steps' times and search times */
    const CostLedger **tl = NULL;
    int ntl = 0;
    size_t nent = 0, ncol = 0;
    double *col = NULL;
    int64_t nsteps0 = 0;
    r.timing = 1;
    for (int i = 0; i < reps; i++) {
        r.gemm_ns = 0;
        double t0 = now_ms();
        rc = pass_once(res->model, &r, res, spec);
        double t1 = now_ms();
        if (rc != SIM_OK) {
            free(ratio);
            free(col);
            free(tl);
            goto fail;
        }
        if (i == 0) { /* the ledgers' layout, known once a pass has run */
            rc = timed_ledgers(res, &tl, &ntl, err);
            for (int k = 0; k < ntl; k++) nent += cost_ledger_count(tl[k]);
            nsteps0 = res->nsteps;
            ncol = nent + (gen ? 2 * (size_t)nsteps0 : 0);
            if (rc == SIM_OK && (col = calloc((ncol ? ncol : 1) * (size_t)reps, sizeof *col)) == NULL)
                rc = sim_errorf(err, SIM_ENOMEM, "out of memory for %d passes of %zu timings",
                                reps, ncol);
        }
        size_t c = 0;
        for (int k = 0; rc == SIM_OK && k < ntl; k++)
            c += cost_ledger_count(tl[k]);
        if (rc == SIM_OK && col == NULL)
            rc = sim_errorf(err, SIM_ENOMEM, "out of memory for the timings");
        if (rc == SIM_OK && (c != nent || (gen && res->nsteps != nsteps0)))
            rc = sim_errorf(err, SIM_EIO, "the graph changed between timed passes");
        if (rc != SIM_OK) {
            free(ratio);
            free(col);
            free(tl);
            goto fail;
        }
        c = 0;
        for (int k = 0; col != NULL && k < ntl; k++)
            for (size_t j = 0; j < cost_ledger_count(tl[k]); j++, c++)
                col[c * (size_t)reps + (size_t)i] = (double)cost_ledger_get(tl[k], j)->time_ns;
        for (int64_t t = 0; gen && col != NULL && t < res->nsteps; t++) {
            col[(nent + 2 * (size_t)t) * (size_t)reps + (size_t)i] = res->step_info[t].ms;
            col[(nent + 2 * (size_t)t + 1) * (size_t)reps + (size_t)i] = res->step_info[t].search_ms;
        }
        res->ms[i] = t1 - t0;
        res->gemm_ms[i] = (double)r.gemm_ns * 1e-6;
        ratio[i] = res->gemm_ms[i] > 0 ? res->ms[i] / res->gemm_ms[i] : 0.0;
    }
    res->repeats = reps;
    res->median_ms = runner_median(res->ms, reps);
    res->gemm_median_ms = runner_median(res->gemm_ms, reps);
    res->ratio_median = runner_median(ratio, reps);
    res->min_ms = res->max_ms = res->ms[0];
    for (int i = 1; i < reps; i++) {
        if (res->ms[i] < res->min_ms) res->min_ms = res->ms[i];
        if (res->ms[i] > res->max_ms) res->max_ms = res->ms[i];
    }
    size_t c = 0;
    for (int k = 0; col != NULL && k < ntl; k++)
        for (size_t j = 0; j < cost_ledger_count(tl[k]); j++, c++)
            cost_ledger_set_time((CostLedger *)tl[k], j,
                                 (uint64_t)llround(median_in_place(col + c * (size_t)reps, reps)));
    for (int64_t t = 0; gen && col != NULL && t < res->nsteps; t++) {
        res->step_info[t].ms = median_in_place(col + (nent + 2 * (size_t)t) * (size_t)reps, reps);
        res->step_info[t].search_ms =
            median_in_place(col + (nent + 2 * (size_t)t + 1) * (size_t)reps, reps);
    }
    free(ratio);
    free(col);
    free(tl);
    res->peak_bytes = arena_peak(res->act);
done:
    arena_close(plan);
    return SIM_OK;
fail:
    arena_close(plan);
    runner_result_free(res);
    return err->code != SIM_OK ? err->code : rc;
}

void runner_result_free(RunResult *res) {
    model_close(res->model);
    cost_ledger_close(res->ledger);
    cost_ledger_close(res->once);
    for (int64_t t = 0; res->steps && t < res->max_steps; t++) cost_ledger_close(res->steps[t]);
    free(res->steps);
    free(res->step_info);
    gen_result_free(&res->gen);
    arena_close(res->act);
    free(res->src);
    free(res->tgt);
    free(res->src_keep);
    free(res->ms);
    free(res->gemm_ms);
    memset(res, 0, sizeof *res);
}

void runner_result_drop_model(RunResult *res) {
    model_close(res->model);
    res->model = NULL;
    arena_close(res->act);
    res->act = NULL;
    memset(&res->out, 0, sizeof res->out);
}

SimStatus runner_predict(const RunResult *res, const HwProfile *p, HwPrediction *out,
                         SimError *err) {
    if (res->steps == NULL) {
        const CostLedger *one[1] = {res->ledger};
        return hw_predict(p, one, 1, NULL, out, err);
    }
    int n = (int)res->nsteps + 1;
    const CostLedger **v = malloc((size_t)n * sizeof(const CostLedger *));
    if (v == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory predicting %s", p->name);
    v[0] = res->once;
    for (int64_t t = 0; t < res->nsteps; t++) v[t + 1] = res->steps[t];
    SimStatus rc = hw_predict(p, v, n, NULL, out, err);
    free(v);
    return rc;
}
