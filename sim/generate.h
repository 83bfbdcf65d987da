/*
 * generate.h - autoregressive decoding with incremental state: the encoder once, the
 * cross-attention keys/values once, then one decoder step per token over key/value caches
 * and conv windows, greedy or beam search (architectures.md §5).
 *
 * Each step's operators are recorded in a ledger of their own, so the cost of every step
 * (and of the one-time part) is known; count-only runs cost max_steps steps of B rows.
 */
#ifndef LTSIM_GENERATE_H
#define LTSIM_GENERATE_H

#include <stdint.h>

#include "cost.h"
#include "model.h"
#include "ops.h"

#define GEN_EOS 2 /* fairseq: decoding starts from EOS and stops at EOS */
#define GEN_PAD 1 /* fairseq's padding id, never generated */

typedef struct {
    int beam;              /* hypotheses kept (1 = greedy) */
    int64_t max_steps;     /* at most this many decoder steps */
    int early_stop;        /* stop a hypothesis at EOS (fairseq's default) */
    const int64_t *forced; /* teacher forcing through the incremental path: the decoder
                              inputs (EOS first), one per step; NULL for search */
    int64_t nforced;
    int keep_logits;       /* keep each step's logits of the reported hypothesis */
} GenOptions;

typedef struct {
    int64_t steps;          /* decoder steps run */
    int64_t *tokens;        /* (steps + 1) the reported hypothesis, start token first */
    float *step_logits;     /* (steps, V) its logits per step (keep_logits), else NULL */
    double score;           /* its log-probability normalised by length */
    int finished;           /* it ended with EOS */
    uint64_t state_bytes;   /* key/value caches, cross K/V and conv windows (planned) */
} GenResult;

/* What a step read from its caches. */
typedef struct {
    uint64_t cache_bytes; /* key/value cache rows, cross K/V and conv windows read */
    double ms;            /* wall time of the step (executed runs) */
    double search_ms;     /* of which the search: log-softmax and top-k over the logits, the
                             hypotheses' bookkeeping (executed runs, not in the ledger) */
} GenStepInfo;

/* Runs generation. once: the ledger of the encoder and cross K/V; steps[t-1]: the ledger of
 * step t (max_steps ledgers, opened by the caller); info[t-1] per-step figures.
 * r->ledger is switched between them. Outputs are malloc'd into res (gen_result_free). */
SimStatus gen_run(const Model *m, Run *r, const int64_t *src, int64_t S, const GenOptions *o,
                  CostLedger *once, CostLedger **steps, GenStepInfo *info, GenResult *res);

void gen_result_free(GenResult *res);

#endif
