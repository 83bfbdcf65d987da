/*
 * runner.h - one ltsim run: build the model, plan the activation arena with a count-only
 * pass, then execute (warm-up and timed repeats) or stop at the count.
 */
#ifndef LTSIM_RUNNER_H
#define LTSIM_RUNNER_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "cost.h"
#include "compress.h"
#include "generate.h"
#include "hw.h"
#include "model.h"
#include "ops.h"

typedef enum { MODE_FORWARD = 0, MODE_GENERATE } RunMode;

#define RUNNER_EOS 2 /* fairseq: the decoder input starts with EOS */

typedef struct {
    int64_t src_len, tgt_len;   /* S, T (used when src/tgt are NULL) */
    const int64_t *src;         /* (S) token ids or NULL for random */
    int64_t nsrc;
    const int64_t *tgt;         /* (T) decoder input ids or NULL for random (EOS first) */
    int64_t ntgt;
    uint64_t seed;
    int threads;
    Conventions conv;
    int count_only;
    int warmup, repeats;        /* execution: untimed warm-up passes, timed passes */
    const char *weights;        /* safetensors or NULL */
    int allow_extra_tensors;
    RunMode mode;               /* forward (teacher-forced) or generate */
    int beam;                   /* generate: hypotheses (default 1 = greedy) */
    int64_t max_steps;          /* generate: at most this many steps (default tgt_len) */
    int no_early_stop;          /* generate: do not stop at EOS */
    int keep_logits;            /* generate: keep the reported hypothesis' step logits */
    const char *save_weights;   /* write the model's weights here (safetensors) */
    CompressOptions compress;   /* pruning / int8 at load time (all zero: none) */
} RunSpec;

typedef struct {
    Model *model;
    CostLedger *ledger;         /* one forward pass */
    void *act;                  /* Arena holding the outputs of the last pass */
    ForwardOut out;
    int64_t *src, *tgt;         /* the tokens used (owned) */
    uint8_t *src_keep;          /* (S) 0 at source padding tokens, or NULL when there are none */
    int64_t S, T;
    size_t planned_bytes;       /* activation arena size from the plan pass */
    size_t peak_bytes;          /* activation high-water mark of the executed pass */
    int repeats;                /* timed passes (0 for count-only) */
    double *ms;                 /* (repeats) wall time per pass */
    double *gemm_ms;            /* (repeats) time inside matrix products per pass */
    double median_ms, min_ms, max_ms;
    double gemm_median_ms;
    double ratio_median;        /* median over passes of total / GEMM time */
    /* generate mode */
    CostLedger *once;           /* encoder and cross K/V */
    CostLedger **steps;         /* (nsteps) one ledger per decoder step */
    GenStepInfo *step_info;     /* (nsteps) cache bytes and median step time */
    int64_t nsteps;             /* steps of the reported run */
    int64_t max_steps;          /* steps planned */
    GenResult gen;              /* tokens, step logits, score, state bytes */
} RunResult;

/* Runs cfg as spec says. On failure returns the status with err set and res freed. */
SimStatus runner_execute(const ModelConfig *cfg, const RunSpec *spec, RunResult *res,
                         SimError *err);
void runner_result_free(RunResult *res);

/* Frees res's model (its weights) and the activation arena with the last pass's outputs
 * (out), keeping the ledgers, the timings and the generated tokens: for callers that hold
 * many results at once and only read their costs and times. */
void runner_result_drop_model(RunResult *res);

/* Predicts res on profile p (DESIGN.md §6): a forward run is one ledger; a generate run the
 * once ledger followed by one ledger per step. out is freed with hw_prediction_free. */
SimStatus runner_predict(const RunResult *res, const HwProfile *p, HwPrediction *out,
                         SimError *err);

/* Median of n values (copied, not reordered in place). */
double runner_median(const double *v, int n);

#endif
