/*
 * cost.c - the ledger of per-(scope, op) costs (see cost.h).
 */
#include "cost.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct CostLedger {
    LedgerEntry *e;
    size_t n, cap;
    /* open-addressing index over (scope, op): slot holds entry index + 1, 0 = empty */
    uint32_t *slot;
    size_t nslot;
};

static uint64_t key_hash(const char *scope, int op) {
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (const unsigned char *p = (const unsigned char *)scope; *p; p++) {
        h ^= *p;
        h *= 1099511628211ull;
    }
    h ^= (uint64_t)(unsigned)op + 0x9e37u;
    h *= 1099511628211ull;
    return h;
}

CostLedger *cost_ledger_open(SimError *err) {
    CostLedger *l = calloc(1, sizeof *l);
    if (l == NULL) {
        sim_errorf(err, SIM_ENOMEM, "out of memory allocating the cost ledger");
        return NULL;
    }
    return l;
}

void cost_ledger_close(CostLedger *l) {
    if (l == NULL) return;
    free(l->e);
    free(l->slot);
    free(l);
}

void cost_ledger_clear(CostLedger *l) {
    l->n = 0;
    if (l->slot) memset(l->slot, 0, l->nslot * sizeof *l->slot);
}

static int rehash(CostLedger *l, size_t nslot) {
    uint32_t *s = calloc(nslot, sizeof *s);
    if (s == NULL) return -1;
    for (size_t i = 0; i < l->n; i++) {
        size_t j = key_hash(l->e[i].scope, l->e[i].op) & (nslot - 1);
        while (s[j]) j = (j + 1) & (nslot - 1);
        s[j] = (uint32_t)(i + 1);
    }
    free(l->slot);
    l->slot = s;
    l->nslot = nslot;
    return 0;
}

SimStatus cost_ledger_add(CostLedger *l, const char *scope, int op, OpClass cls,
                          const OpCost *c, uint64_t time_ns, SimError *err) {
    if (l->nslot == 0 || (l->n + 1) * 2 > l->nslot) {
        if (rehash(l, l->nslot ? l->nslot * 2 : 256) != 0)
            return sim_errorf(err, SIM_ENOMEM, "out of memory growing the cost ledger");
    }
    size_t j = key_hash(scope, op) & (l->nslot - 1);
    while (l->slot[j]) {
        LedgerEntry *e = &l->e[l->slot[j] - 1];
        if (e->op == op && strcmp(e->scope, scope) == 0) {
            op_cost_add(&e->cost, c);
            e->calls++;
            e->time_ns += time_ns;
            return SIM_OK;
        }
        j = (j + 1) & (l->nslot - 1);
    }
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 128;
        LedgerEntry *ne = realloc(l->e, cap * sizeof *ne);
        if (ne == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory growing the cost ledger");
        l->e = ne;
        l->cap = cap;
    }
    LedgerEntry *e = &l->e[l->n];
    memset(e, 0, sizeof *e);
    snprintf(e->scope, sizeof e->scope, "%s", scope);
    e->op = op;
    e->cls = cls;
    e->cost = *c;
    e->calls = 1;
    e->time_ns = time_ns;
    l->slot[j] = (uint32_t)(++l->n);
    return SIM_OK;
}

void cost_ledger_set_dims(CostLedger *l, const char *scope, int op, const int64_t dims[3]) {
    if (l->nslot == 0) return;
    size_t j = key_hash(scope, op) & (l->nslot - 1);
    while (l->slot[j]) {
        LedgerEntry *e = &l->e[l->slot[j] - 1];
        if (e->op == op && strcmp(e->scope, scope) == 0) {
            memcpy(e->dims, dims, sizeof e->dims);
            return;
        }
        j = (j + 1) & (l->nslot - 1);
    }
}

SimStatus cost_ledger_merge(CostLedger *dst, const CostLedger *src, SimError *err) {
    for (size_t i = 0; i < src->n; i++) {
        const LedgerEntry *e = &src->e[i];
        SimStatus rc = cost_ledger_add(dst, e->scope, e->op, e->cls, &e->cost, e->time_ns, err);
        if (rc != SIM_OK) return rc;
        /* calls: cost_ledger_add counted one; the source may hold several */
        size_t j = key_hash(e->scope, e->op) & (dst->nslot - 1);
        while (dst->slot[j]) {
            LedgerEntry *d = &dst->e[dst->slot[j] - 1];
            if (d->op == e->op && strcmp(d->scope, e->scope) == 0) {
                d->calls += e->calls - 1;
                memcpy(d->dims, e->dims, sizeof d->dims);
                break;
            }
            j = (j + 1) & (dst->nslot - 1);
        }
    }
    return SIM_OK;
}

size_t cost_ledger_count(const CostLedger *l) { return l->n; }

void cost_ledger_set_time(CostLedger *l, size_t i, uint64_t time_ns) {
    if (i < l->n) l->e[i].time_ns = time_ns;
}

const LedgerEntry *cost_ledger_get(const CostLedger *l, size_t i) {
    return i < l->n ? &l->e[i] : NULL;
}

void op_cost_add(OpCost *acc, const OpCost *c) {
    acc->macs += c->macs;
    acc->other_flops += c->other_flops;
    acc->weight_bytes += c->weight_bytes;
    acc->act_bytes_read += c->act_bytes_read;
    acc->bytes_written += c->bytes_written;
    acc->params += c->params;
}

OpCost cost_ledger_total(const CostLedger *l, OpCost by_class[CLASS_COUNT]) {
    OpCost t = {0};
    if (by_class) memset(by_class, 0, sizeof(OpCost) * CLASS_COUNT);
    for (size_t i = 0; i < l->n; i++) {
        op_cost_add(&t, &l->e[i].cost);
        if (by_class) op_cost_add(&by_class[l->e[i].cls], &l->e[i].cost);
    }
    return t;
}

int cost_ledger_equal(const CostLedger *a, const CostLedger *b, char *why, size_t whylen) {
    char dummy[8];
    if (why == NULL) {
        why = dummy;
        whylen = sizeof dummy;
    }
    if (a->n != b->n) {
        snprintf(why, whylen, "%zu entries vs %zu", a->n, b->n);
        return 0;
    }
    for (size_t i = 0; i < a->n; i++) {
        const LedgerEntry *x = &a->e[i], *y = &b->e[i];
        if (strcmp(x->scope, y->scope) != 0 || x->op != y->op || x->cls != y->cls ||
            x->calls != y->calls || memcmp(&x->cost, &y->cost, sizeof x->cost) != 0) {
            snprintf(why, whylen, "entry %zu: %s/%d macs %llu vs %s/%d macs %llu", i, x->scope,
                     x->op, (unsigned long long)x->cost.macs, y->scope, y->op,
                     (unsigned long long)y->cost.macs);
            return 0;
        }
    }
    return 1;
}

static const char *const class_names[CLASS_COUNT] = {
    [CLASS_ATTENTION] = "attention",
    [CLASS_CONVOLUTION] = "convolution",
    [CLASS_FFN] = "ffn",
    [CLASS_NORM_OTHER] = "norm+other",
    [CLASS_EMBED_OUTPUT] = "embedding+output",
};
_Static_assert(sizeof class_names / sizeof class_names[0] == CLASS_COUNT,
               "class_names out of sync with OpClass");

const char *cost_class_name(OpClass c) {
    return (int)c >= 0 && c < CLASS_COUNT ? class_names[c] : "?";
}

const char *cost_attn_macs_name(AttnMacs a) { return a == ATTN_MACS_FULL ? "full" : "causal"; }

const char *cost_conv_macs_name(ConvMacs c) {
    switch (c) {
    case CONV_MACS_TAPS: return "taps";
    case CONV_MACS_VALID: return "valid";
    case CONV_MACS_BAND: return "band";
    case CONV_MACS_NONE: return "none";
    }
    return "?";
}

int cost_attn_macs_parse(const char *s, AttnMacs *out) {
    if (strcmp(s, "causal") == 0) *out = ATTN_MACS_CAUSAL;
    else if (strcmp(s, "full") == 0) *out = ATTN_MACS_FULL;
    else return -1;
    return 0;
}

int cost_conv_macs_parse(const char *s, ConvMacs *out) {
    if (strcmp(s, "taps") == 0) *out = CONV_MACS_TAPS;
    else if (strcmp(s, "valid") == 0) *out = CONV_MACS_VALID;
    else if (strcmp(s, "band") == 0) *out = CONV_MACS_BAND;
    else if (strcmp(s, "none") == 0) *out = CONV_MACS_NONE;
    else return -1;
    return 0;
}
