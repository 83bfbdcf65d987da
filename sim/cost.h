/*
 * cost.h - operator costs, counting conventions and the ledger of per-(scope, op) costs.
 *
 * Units: 1 MAC = one multiply + one add. FLOPs are reported as 2*MACs + other FLOPs;
 * "other FLOPs" are the elementwise work that the paper's Mult-Adds leave out (softmax,
 * layer norm, GLU gating, activations, biases, residual adds, scaling, positions).
 * Bytes are at fp32 storage width: weight bytes read, activation bytes read, bytes written.
 */
#ifndef LTSIM_COST_H
#define LTSIM_COST_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

/* Operator classes for breakdowns (DESIGN.md §3). */
typedef enum {
    CLASS_ATTENTION = 0, /* q/k/v/out projections, scores, weighted sum (self and cross) */
    CLASS_CONVOLUTION,   /* the whole conv branch: linear1/GLU, weight generator, taps, linear2 */
    CLASS_FFN,           /* fc1 / fc2 */
    CLASS_NORM_OTHER,    /* layer norms, softmax, activations, residual adds, positions */
    CLASS_EMBED_OUTPUT,  /* token embeddings and the output projection (outside the headline) */
    CLASS_COUNT
} OpClass;

/* --attn-macs: causal self-attention counts the T(T+1)/2 used (query, key) pairs, or all T². */
typedef enum { ATTN_MACS_CAUSAL = 0, ATTN_MACS_FULL } AttnMacs;

/* --conv-macs: which convolution taps are MACs (DESIGN.md §3). */
typedef enum {
    CONV_MACS_TAPS = 0, /* all K taps for every output position, padding included */
    CONV_MACS_VALID,    /* only taps that fall inside the sequence */
    CONV_MACS_BAND,     /* the T x T band-matrix product of PyTorch's CPU path: L*L*c */
    CONV_MACS_NONE      /* taps not counted (a tracer that cannot see the custom kernel) */
} ConvMacs;

typedef struct {
    AttnMacs attn_macs;
    ConvMacs conv_macs;
} Conventions;

typedef struct {
    uint64_t macs;          /* multiply-accumulates */
    uint64_t other_flops;   /* non-MAC floating-point operations */
    uint64_t weight_bytes;  /* parameter bytes read */
    uint64_t act_bytes_read;/* activation bytes read */
    uint64_t bytes_written; /* activation bytes written */
    uint64_t params;        /* parameters (elements) this operator reads */
} OpCost;

typedef struct {
    char scope[160];  /* fairseq module name, e.g. encoder.layers.2.self_attn.branches.1.linear1 */
    int op;           /* OpKind (ops.h) */
    OpClass cls;
    OpCost cost;      /* summed over calls */
    uint64_t calls;
    uint64_t time_ns; /* measured kernel time, summed over calls (0 when not timed) */
    int64_t dims[3];  /* shape of the last call: matrix products (M, N, K) per head-free
                         product (attention: Tq, Tk, width); elementwise ops (rows, cols, 0) */
} LedgerEntry;

typedef struct CostLedger CostLedger;

/* Opens an empty ledger; NULL (and SIM_ENOMEM in err) on allocation failure. */
CostLedger *cost_ledger_open(SimError *err);
void cost_ledger_close(CostLedger *l);
void cost_ledger_clear(CostLedger *l);

/* Adds one call's cost to the entry (scope, op), creating it in first-seen order. */
SimStatus cost_ledger_add(CostLedger *l, const char *scope, int op, OpClass cls,
                          const OpCost *c, uint64_t time_ns, SimError *err);

/* Records the shape of the last call of entry (scope, op) (see LedgerEntry.dims). */
void cost_ledger_set_dims(CostLedger *l, const char *scope, int op, const int64_t dims[3]);

size_t cost_ledger_count(const CostLedger *l);

/* Overwrites the measured time of entry i (used to store a mean over timed passes). */
void cost_ledger_set_time(CostLedger *l, size_t i, uint64_t time_ns);
const LedgerEntry *cost_ledger_get(const CostLedger *l, size_t i);

/* Adds every entry of src into dst (same (scope, op) entries merge; calls and times add). */
SimStatus cost_ledger_merge(CostLedger *dst, const CostLedger *src, SimError *err);

/* Sum of every entry, and the sum per class (by_class may be NULL). */
OpCost cost_ledger_total(const CostLedger *l, OpCost by_class[CLASS_COUNT]);

/* 1 if a and b hold the same entries (scope, op, class, cost) in the same order. When they
 * differ, writes the first difference into why (may be NULL). */
int cost_ledger_equal(const CostLedger *a, const CostLedger *b, char *why, size_t whylen);

void op_cost_add(OpCost *acc, const OpCost *c);

const char *cost_class_name(OpClass c);        /* "attention", ..., "embedding+output" */
const char *cost_attn_macs_name(AttnMacs a);   /* "causal" | "full" */
const char *cost_conv_macs_name(ConvMacs c);   /* "taps" | "valid" | "band" | "none" */
int cost_attn_macs_parse(const char *s, AttnMacs *out); /* 0 ok, -1 unknown */
int cost_conv_macs_parse(const char *s, ConvMacs *out);

#endif
