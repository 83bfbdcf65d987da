/*
 * report.c - readable and JSON reports of a run (see report.h).
 */
#include "report.h"

#include <cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "fmt.h"
#include "ops.h"

void report_totals(const ReportInput *in, ReportTotals *t) {
    memset(t, 0, sizeof *t);
    const Model *m = in->res->model;
    t->params = m->params_headline;
    t->params_output_projection = m->params_output_projection;
    t->params_total = m->params_total;
    t->bytes_weights = m->weight_bytes;
    OpCost by[CLASS_COUNT];
    OpCost all = cost_ledger_total(in->res->ledger, by);
    for (int c = 0; c < CLASS_COUNT; c++) t->class_macs[c] = by[c].macs;
    t->macs_output_projection = by[CLASS_EMBED_OUTPUT].macs;
    t->macs = all.macs - t->macs_output_projection;
    t->other_flops = all.other_flops;
    t->flops = 2u * all.macs + all.other_flops;
    t->bytes_activations = all.act_bytes_read + all.bytes_written;
    if (m->lm.nbands > 0) {
        t->adaptive = 1;
        for (size_t i = 0; i < cost_ledger_count(in->res->ledger); i++) {
            const LedgerEntry *e = cost_ledger_get(in->res->ledger, i);
            if (strncmp(e->scope, "decoder.embed_tokens", 20) == 0)
                t->macs_adaptive_input += e->cost.macs;
            else if (strncmp(e->scope, "decoder.adaptive_softmax", 24) == 0)
                t->macs_adaptive_softmax += e->cost.macs;
        }
        for (int i = 0; i < m->nparams; i++) {
            const ParamEntry *p = &m->params[i];
            uint64_t n = (uint64_t)(p->rows * p->cols);
            if (strncmp(p->name, "decoder.embed_tokens.", 21) == 0) t->params_adaptive_input += n;
            else if (strncmp(p->name, "decoder.adaptive_softmax.", 25) == 0)
                t->params_adaptive_softmax += n;
        }
    }
}

void report_conventions_line(const Conventions *cv, char *buf, size_t n) {
    const char *conv = "all K taps per position";
    switch (cv->conv_macs) {
    case CONV_MACS_TAPS: break;
    case CONV_MACS_VALID: conv = "only taps inside the sequence"; break;
    case CONV_MACS_BAND: conv = "T x T band product per conv"; break;
    case CONV_MACS_NONE: conv = "taps not counted"; break;
    }
    snprintf(buf, n,
             "conventions: 1 MAC = 1 multiply + 1 add; --attn-macs %s (%s); --conv-macs %s (%s); "
             "embeddings and output projection outside the headline",
             cost_attn_macs_name(cv->attn_macs),
             cv->attn_macs == ATTN_MACS_FULL ? "decoder self-attention counts all T^2 pairs"
                                             : "decoder self-attention counts T(T+1)/2 pairs",
             cost_conv_macs_name(cv->conv_macs), conv);
}

void report_host_line(const RunSpec *spec, char *buf, size_t n) {
    const char *ct = getenv("OPENBLAS_CORETYPE"), *l2 = getenv("OPENBLAS_L2_SIZE");
    snprintf(buf, n, "host: %s; OPENBLAS_CORETYPE=%s OPENBLAS_L2_SIZE=%s; threads %d",
             ops_blas_name(), ct ? ct : "(unset)", l2 ? l2 : "(unset)",
             spec->threads > 0 ? spec->threads : 1);
}

static const char *scaled(double v, const char *unit, char *buf, size_t n) {
    const char *p = "";
    if (v >= 1e9) {
        v /= 1e9;
        p = "G";
    } else if (v >= 1e6) {
        v /= 1e6;
        p = "M";
    } else if (v >= 1e3) {
        v /= 1e3;
        p = "k";
    }
    snprintf(buf, n, "%.3f %s%s", v, p, unit);
    return buf;
}

/* Group key of a scope for the per-layer table: "encoder.layers.3" (fairseq) or
 * "encoder.layer_3" (tensor2tensor), or the module itself. */
static void group_of(const char *scope, char *buf, size_t n) {
    const char *marks[2] = {".layers.", ".layer_"};
    for (int i = 0; i < 2; i++) {
        const char *p = strstr(scope, marks[i]);
        if (p == NULL) continue;
        p += strlen(marks[i]);
        if (*p < '0' || *p > '9') continue;
        while (*p >= '0' && *p <= '9') p++;
        snprintf(buf, n, "%.*s", (int)(p - scope), scope);
        return;
    }
    snprintf(buf, n, "%s", scope);
}

typedef struct {
    char name[160];
    uint64_t macs[CLASS_COUNT];
    uint64_t other;
    double ms;
} Group;

static int collect_groups(const CostLedger *l, Group **out) {
    size_t n = cost_ledger_count(l);
    Group *g = calloc(n ? n : 1, sizeof *g);
    if (g == NULL) return -1;
    int ng = 0;
    for (size_t i = 0; i < n; i++) {
        const LedgerEntry *e = cost_ledger_get(l, i);
        char key[160];
        group_of(e->scope, key, sizeof key);
        int j = 0;
        while (j < ng && strcmp(g[j].name, key) != 0) j++;
        if (j == ng) snprintf(g[ng++].name, sizeof g[0].name, "%s", key);
        g[j].macs[e->cls] += e->cost.macs;
        g[j].other += e->cost.other_flops;
        g[j].ms += (double)e->time_ns * 1e-6;
    }
    *out = g;
    return ng;
}

void step_figures(const RunResult *res, int64_t i, StepFigures *out) {
    OpCost by[CLASS_COUNT];
    OpCost all = cost_ledger_total(res->steps[i], by);
    out->macs_out = by[CLASS_EMBED_OUTPUT].macs;
    out->macs = all.macs - out->macs_out;
    out->weight_bytes = all.weight_bytes;
}

void report_text(FILE *f, const ReportInput *in) {
    const RunResult *res = in->res;
    const ModelConfig *cfg = in->cfg;
    ReportTotals t;
    report_totals(in, &t);
    char a[64], b[64], line[512];
    fprintf(f, "ltsim %s %s  (arch %s, family %s)\n", in->command, in->model_path, cfg->arch,
            config_family_name(cfg->family));
    report_conventions_line(&in->spec->conv, line, sizeof line);
    fprintf(f, "%s\n", line);
    int shared = cfg->share_all_embeddings;
    if (cfg->family == FAMILY_LM)
        fprintf(f, "mode %s (language model), T=%lld, vocab %lld\n\n",
                res->steps ? "generate" : "forward", (long long)res->T, (long long)cfg->tgt_vocab);
    else if (res->steps != NULL)
        fprintf(f, "mode generate (%s, beam %d, %lld of at most %lld steps%s), S=%lld, vocab %lld/%lld%s\n\n",
                in->spec->tgt ? "teacher-forced through the incremental path" : "search",
                in->spec->beam > 0 ? in->spec->beam : 1, (long long)res->nsteps,
                (long long)res->max_steps, in->spec->no_early_stop ? ", no early stop" : "",
                (long long)res->S, (long long)cfg->src_vocab, (long long)cfg->tgt_vocab,
                shared ? " (shared)" : "");
    else
        fprintf(f, "mode forward (teacher-forced), S=%lld T=%lld, vocab %lld/%lld%s\n\n",
                (long long)res->S, (long long)res->T, (long long)cfg->src_vocab,
                (long long)cfg->tgt_vocab, shared ? " (shared)" : "");
    fprintf(f, "  params                  %16s   without embeddings and output projection\n",
            fmt_grouped(t.params, a, sizeof a));
    if (t.params_output_projection)
        fprintf(f, "  params_output_projection%16s   %s\n",
                fmt_grouped(t.params_output_projection, a, sizeof a),
                t.adaptive ? "the adaptive softmax's cluster projection (the rest is tied)"
                           : "separate decoder.embed_out");
    fprintf(f, "  params_total            %16s   everything, shared matrices once\n",
            fmt_grouped(t.params_total, a, sizeof a));
    fprintf(f, "  MACs                    %16s   (%s) headline\n", fmt_grouped(t.macs, a, sizeof a),
            scaled((double)t.macs, "MAC", b, sizeof b));
    fprintf(f, "  MACs output projection  %16s   (%s) %s\n",
            fmt_grouped(t.macs_output_projection, a, sizeof a),
            scaled((double)t.macs_output_projection, "MAC", b, sizeof b),
            t.adaptive ? "adaptive input + adaptive softmax" : "T x d x V");
    if (t.adaptive) {
        fprintf(f, "  MACs adaptive input     %16s   (%s) band projections; params %s\n",
                fmt_grouped(t.macs_adaptive_input, a, sizeof a),
                scaled((double)t.macs_adaptive_input, "MAC", b, sizeof b),
                fmt_grouped(t.params_adaptive_input, line, sizeof line));
        fprintf(f, "  MACs adaptive softmax   %16s   (%s) head and tails, tied; new params %s\n",
                fmt_grouped(t.macs_adaptive_softmax, a, sizeof a),
                scaled((double)t.macs_adaptive_softmax, "MAC", b, sizeof b),
                fmt_grouped(t.params_adaptive_softmax, line, sizeof line));
    }
    fprintf(f, "  FLOPs                   %16s   (%s) 2 x all MACs + other FLOPs\n",
            fmt_grouped(t.flops, a, sizeof a), scaled((double)t.flops, "FLOP", b, sizeof b));
    fprintf(f, "  bytes of weights        %16s   (%s) fp32\n", fmt_grouped(t.bytes_weights, a, sizeof a),
            scaled((double)t.bytes_weights, "B", b, sizeof b));
    fprintf(f, "  bytes of activations    %16s   (%s) read + written\n",
            fmt_grouped(t.bytes_activations, a, sizeof a),
            scaled((double)t.bytes_activations, "B", b, sizeof b));
    fprintf(f, "  activation arena        %16s   (%s) planned peak\n",
            fmt_grouped(res->planned_bytes, a, sizeof a),
            scaled((double)res->planned_bytes, "B", b, sizeof b));

    if (in->size != NULL) {
        const CompressSize *z = &in->size->model;
        const CompressOptions *co = &in->spec->compress;
        fprintf(f, "\n  model size (%s embeddings): fp32 %.2f MB -> stored %.2f MB (%.2fx)%s%s\n",
                in->size->include_embeddings ? "with" : "without", (double)z->bytes_fp32 / 1e6,
                (double)z->bytes / 1e6, z->bytes ? (double)z->bytes_fp32 / (double)z->bytes : 0.0,
                co->bits == 8 ? "; int8 weights" : "", co->prune > 0 ? "; pruned" : "");
        fprintf(f, "  compressible weights %s, nonzero %s (%.1f%%); formats: %d dense, %d CSR, "
                   "%d bitmask\n",
                fmt_grouped(z->weights, a, sizeof a), fmt_grouped(z->nonzero, b, sizeof b),
                z->weights ? 100.0 * (double)z->nonzero / (double)z->weights : 0.0,
                z->tensors_dense, z->tensors_csr, z->tensors_bitmask);
        if (in->size->baseline_name)
            fprintf(f, "  against %s (fp32 %.2f MB): %.1fx smaller\n", in->size->baseline_name,
                    (double)in->size->baseline.bytes_fp32 / 1e6,
                    z->bytes ? (double)in->size->baseline.bytes_fp32 / (double)z->bytes : 0.0);
    }
    Group *g = NULL;
    int ng = collect_groups(res->ledger, &g);
    if (ng >= 0) {
        int timed = res->repeats > 0;
        fprintf(f, "\n  %-28s %13s %13s %13s %13s %13s%s\n", "MACs by layer", "attention",
                "convolution", "ffn", "norm+other", "emb+output", timed ? " host ms (med)" : "");
        for (int i = 0; i < ng; i++) {
            fprintf(f, "  %-28s", g[i].name);
            for (int c = 0; c < CLASS_COUNT; c++)
                fprintf(f, " %13s", fmt_grouped(g[i].macs[c], a, sizeof a));
            if (timed) fprintf(f, " %9.3f", g[i].ms);
            fprintf(f, "\n");
        }
        fprintf(f, "  %-28s", "total");
        for (int c = 0; c < CLASS_COUNT; c++)
            fprintf(f, " %13s", fmt_grouped(t.class_macs[c], a, sizeof a));
        fprintf(f, "\n");
        free(g);
    }
    if (t.macs > 0) {
        fprintf(f, "  share of headline MACs:");
        for (int c = 0; c < CLASS_EMBED_OUTPUT; c++)
            fprintf(f, " %s %.1f%%", cost_class_name((OpClass)c),
                    100.0 * (double)t.class_macs[c] / (double)t.macs);
        fprintf(f, "\n");
    }
    if (res->steps != NULL && res->nsteps > 0) {
        StepFigures a0, a1;
        step_figures(res, 0, &a0);
        step_figures(res, res->nsteps - 1, &a1);
        OpCost once = cost_ledger_total(res->once, NULL);
        fprintf(f, "\n  once (encoder, cross-attention K/V): %s MACs, %s weight bytes\n",
                fmt_grouped(once.macs, a, sizeof a), fmt_grouped(once.weight_bytes, b, sizeof b));
        fprintf(f, "  %-6s %14s %16s %16s %14s%s\n", "step", "MACs", "output proj MACs",
                "weight bytes", "cache bytes", res->repeats ? "   host ms" : "");
        const StepFigures *sf[2] = {&a0, &a1};
        int64_t ts[2] = {1, res->nsteps};
        for (int k = 0; k < (res->nsteps > 1 ? 2 : 1); k++) {
            char c1[32], c2[32], c3[32], c4[32];
            fprintf(f, "  t=%-4lld %14s %16s %16s %14s", (long long)ts[k],
                    fmt_grouped(sf[k]->macs, c1, sizeof c1), fmt_grouped(sf[k]->macs_out, c2, sizeof c2),
                    fmt_grouped(sf[k]->weight_bytes, c3, sizeof c3),
                    fmt_grouped(res->step_info[ts[k] - 1].cache_bytes, c4, sizeof c4));
            if (res->repeats) fprintf(f, " %9.3f", res->step_info[ts[k] - 1].ms);
            fprintf(f, "\n");
        }
        fprintf(f, "  state (KV caches, cross K/V, conv windows): %s bytes (%s)\n",
                fmt_grouped(res->gen.state_bytes, a, sizeof a),
                scaled((double)res->gen.state_bytes, "B", b, sizeof b));
        if (res->gen.tokens != NULL) {
            fprintf(f, "  tokens:");
            for (int64_t i = 0; i <= res->gen.steps; i++)
                fprintf(f, " %lld", (long long)res->gen.tokens[i]);
            fprintf(f, "%s\n", res->gen.finished ? " (EOS)" : "");
        }
    }
    for (int i = 0; i < in->npreds; i++) {
        const HwPrediction *p = &in->preds[i];
        if (i == 0) fprintf(f, "\npredicted (latency model of DESIGN.md §6):\n");
        fprintf(f, "  %-22s %10.3f ms %10.3f mJ  %s-bound;", p->hw, p->latency_ms, p->energy_mj,
                p->memory_bound ? "memory" : "compute");
        for (int k = 0; k < p->ntop; k++)
            fprintf(f, "%s %s/%s %.3f ms", k ? "," : " top:", p->top[k].scope,
                    op_name((OpKind)p->top[k].op), p->top[k].latency_ms);
        if (p->search_ms > 0) fprintf(f, "; search %.3f ms", p->search_ms);
        fprintf(f, "\n");
    }
    if (res->repeats > 0) {
        report_host_line(in->spec, line, sizeof line);
        fprintf(f,
                "\nmeasured on this host: median %.3f ms (min %.3f, max %.3f) over %d passes "
                "after %d warm-up; matrix products %.3f ms (forward / GEMM = %.2f)\n%s\n",
                res->median_ms, res->min_ms, res->max_ms, res->repeats, in->spec->warmup,
                res->gemm_median_ms, res->ratio_median, line);
    }
    if (res->model->warning[0]) fprintf(f, "warning: %s\n", res->model->warning);
    if (in->run_id > 0) fprintf(f, "stored as run %lld in %s\n", (long long)in->run_id, in->db_path);
}

static void add_u64(cJSON *o, const char *k, uint64_t v) { cJSON_AddNumberToObject(o, k, (double)v); }

int report_json(FILE *f, const ReportInput *in) {
    const RunResult *res = in->res;
    const ModelConfig *cfg = in->cfg;
    ReportTotals t;
    report_totals(in, &t);
    cJSON *o = cJSON_CreateObject();
    if (o == NULL) return -1;
    cJSON_AddStringToObject(o, "ltsim_version", LTSIM_VERSION);
    cJSON_AddStringToObject(o, "command", in->command);
    cJSON_AddStringToObject(o, "model", in->model_path);
    cJSON_AddStringToObject(o, "arch", cfg->arch);
    cJSON_AddStringToObject(o, "family", config_family_name(cfg->family));
    cJSON_AddStringToObject(o, "mode", res->steps ? "generate" : "forward");
    cJSON *cv = cJSON_AddObjectToObject(o, "conventions");
    if (cv) {
        cJSON_AddStringToObject(cv, "attn_macs", cost_attn_macs_name(in->spec->conv.attn_macs));
        cJSON_AddStringToObject(cv, "conv_macs", cost_conv_macs_name(in->spec->conv.conv_macs));
        cJSON_AddStringToObject(cv, "unit", "MAC");
    }
    add_u64(o, "src_len", (uint64_t)res->S);
    add_u64(o, "tgt_len", (uint64_t)res->T);
    add_u64(o, "batch", 1);
    cJSON *v = cJSON_AddObjectToObject(o, "vocab");
    if (v) {
        add_u64(v, "src", (uint64_t)cfg->src_vocab);
        add_u64(v, "tgt", (uint64_t)cfg->tgt_vocab);
        cJSON_AddBoolToObject(v, "shared", cfg->share_all_embeddings);
    }
    add_u64(o, "params", t.params);
    add_u64(o, "params_output_projection", t.params_output_projection);
    add_u64(o, "params_total", t.params_total);
    add_u64(o, "macs", t.macs);
    add_u64(o, "macs_output_projection", t.macs_output_projection);
    if (t.adaptive) {
        add_u64(o, "macs_adaptive_input", t.macs_adaptive_input);
        add_u64(o, "macs_adaptive_softmax", t.macs_adaptive_softmax);
        add_u64(o, "params_adaptive_input", t.params_adaptive_input);
        add_u64(o, "params_adaptive_softmax", t.params_adaptive_softmax);
    }
    add_u64(o, "other_flops", t.other_flops);
    add_u64(o, "flops", t.flops);
    add_u64(o, "bytes_weights", t.bytes_weights);
    add_u64(o, "bytes_activations", t.bytes_activations);
    add_u64(o, "peak_bytes", res->planned_bytes);
    add_u64(o, "seed", in->spec->seed);
    add_u64(o, "threads", (uint64_t)(in->spec->threads > 0 ? in->spec->threads : 1));
    cJSON *cl = cJSON_AddObjectToObject(o, "classes");
    if (cl)
        for (int c = 0; c < CLASS_COUNT; c++)
            add_u64(cl, cost_class_name((OpClass)c), t.class_macs[c]);
    cJSON *ly = cJSON_AddArrayToObject(o, "layers");
    size_t n = cost_ledger_count(res->ledger);
    for (size_t i = 0; ly && i < n; i++) {
        const LedgerEntry *e = cost_ledger_get(res->ledger, i);
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        cJSON_AddStringToObject(x, "scope", e->scope);
        cJSON_AddStringToObject(x, "op", op_name((OpKind)e->op));
        cJSON_AddStringToObject(x, "class", cost_class_name(e->cls));
        add_u64(x, "macs", e->cost.macs);
        add_u64(x, "other_flops", e->cost.other_flops);
        add_u64(x, "params", e->cost.params);
        add_u64(x, "bytes_weights", e->cost.weight_bytes);
        add_u64(x, "bytes_read", e->cost.weight_bytes + e->cost.act_bytes_read);
        add_u64(x, "bytes_written", e->cost.bytes_written);
        if (res->repeats > 0)
            cJSON_AddNumberToObject(x, "host_ms", (double)e->time_ns * 1e-6);
        cJSON_AddItemToArray(ly, x);
    }
    if (res->repeats > 0) {
        cJSON *ms = cJSON_AddObjectToObject(o, "measured_ms");
        if (ms) {
            cJSON_AddNumberToObject(ms, "median", res->median_ms);
            cJSON_AddNumberToObject(ms, "min", res->min_ms);
            cJSON_AddNumberToObject(ms, "max", res->max_ms);
            add_u64(ms, "repeats", (uint64_t)res->repeats);
            add_u64(ms, "warmup", (uint64_t)in->spec->warmup);
            cJSON_AddNumberToObject(ms, "gemm_median", res->gemm_median_ms);
            cJSON_AddNumberToObject(ms, "forward_over_gemm", res->ratio_median);
        }
        char host[512];
        report_host_line(in->spec, host, sizeof host);
        cJSON_AddStringToObject(o, "host", host);
    }
    if (res->steps != NULL) {
        OpCost once = cost_ledger_total(res->once, NULL);
        cJSON *on = cJSON_AddObjectToObject(o, "once");
        if (on) {
            add_u64(on, "macs", once.macs);
            add_u64(on, "bytes_weights", once.weight_bytes);
        }
        add_u64(o, "beam", (uint64_t)(in->spec->beam > 0 ? in->spec->beam : 1));
        add_u64(o, "max_steps", (uint64_t)res->max_steps);
        add_u64(o, "state_bytes", res->gen.state_bytes);
        cJSON *sa = cJSON_AddArrayToObject(o, "steps");
        for (int64_t i = 0; sa && i < res->nsteps; i++) {
            StepFigures sf;
            step_figures(res, i, &sf);
            cJSON *x = cJSON_CreateObject();
            if (x == NULL) break;
            add_u64(x, "t", (uint64_t)(i + 1));
            add_u64(x, "macs", sf.macs);
            add_u64(x, "macs_output_projection", sf.macs_out);
            add_u64(x, "bytes_weights", sf.weight_bytes);
            add_u64(x, "bytes_cache", res->step_info[i].cache_bytes);
            if (res->repeats > 0) cJSON_AddNumberToObject(x, "host_ms", res->step_info[i].ms);
            cJSON_AddItemToArray(sa, x);
        }
        if (res->gen.tokens != NULL) {
            cJSON *tk = cJSON_AddArrayToObject(o, "tokens");
            for (int64_t i = 0; tk && i <= res->gen.steps; i++)
                cJSON_AddItemToArray(tk, cJSON_CreateNumber((double)res->gen.tokens[i]));
            cJSON_AddBoolToObject(o, "finished", res->gen.finished);
            cJSON_AddNumberToObject(o, "score", res->gen.score);
        }
    }
    if (in->size != NULL) {
        const CompressSize *z = &in->size->model;
        cJSON *sz = cJSON_AddObjectToObject(o, "size");
        if (sz) {
            cJSON_AddStringToObject(sz, "quant", in->spec->compress.bits == 8 ? "int8" : "none");
            cJSON_AddNumberToObject(sz, "prune", in->spec->compress.prune);
            cJSON_AddBoolToObject(sz, "embeddings", in->size->include_embeddings);
            add_u64(sz, "bytes_fp32", z->bytes_fp32);
            add_u64(sz, "bytes", z->bytes);
            add_u64(sz, "weights", z->weights);
            add_u64(sz, "nonzero", z->nonzero);
            add_u64(sz, "tensors_dense", (uint64_t)z->tensors_dense);
            add_u64(sz, "tensors_csr", (uint64_t)z->tensors_csr);
            add_u64(sz, "tensors_bitmask", (uint64_t)z->tensors_bitmask);
            if (in->size->baseline_name) {
                cJSON_AddStringToObject(sz, "baseline", in->size->baseline_name);
                add_u64(sz, "baseline_bytes_fp32", in->size->baseline.bytes_fp32);
                cJSON_AddNumberToObject(sz, "factor_vs_baseline",
                                        z->bytes ? (double)in->size->baseline.bytes_fp32 / (double)z->bytes : 0.0);
            }
        }
    }
    cJSON *pa = cJSON_AddArrayToObject(o, "predictions");
    for (int i = 0; pa && i < in->npreds; i++) {
        const HwPrediction *p = &in->preds[i];
        cJSON *x = cJSON_CreateObject();
        if (x == NULL) break;
        cJSON_AddStringToObject(x, "hw", p->hw);
        cJSON_AddNumberToObject(x, "latency_ms", p->latency_ms);
        cJSON_AddNumberToObject(x, "energy_mj", p->energy_mj);
        cJSON_AddStringToObject(x, "bound", p->memory_bound ? "memory" : "compute");
        cJSON_AddNumberToObject(x, "search_ms", p->search_ms); /* generate: beam search */
        cJSON *top = cJSON_AddArrayToObject(x, "top_ops");
        for (int k = 0; top && k < p->ntop; k++) {
            cJSON *tj = cJSON_CreateObject();
            if (tj == NULL) break;
            cJSON_AddStringToObject(tj, "scope", p->top[k].scope);
            cJSON_AddStringToObject(tj, "op", op_name((OpKind)p->top[k].op));
            cJSON_AddNumberToObject(tj, "latency_ms", p->top[k].latency_ms);
            cJSON_AddItemToArray(top, tj);
        }
        if (p->nsteps > 1 && p->step_ms) {
            cJSON_AddNumberToObject(x, "once_ms", p->step_ms[0]);
            cJSON *st = cJSON_AddArrayToObject(x, "step_ms");
            for (int k = 1; st && k < p->nsteps; k++)
                cJSON_AddItemToArray(st, cJSON_CreateNumber(p->step_ms[k]));
        }
        cJSON_AddItemToArray(pa, x);
    }
    if (in->run_id > 0) {
        add_u64(o, "run_id", (uint64_t)in->run_id);
        cJSON_AddStringToObject(o, "db", in->db_path);
    }
    if (res->model->warning[0]) cJSON_AddStringToObject(o, "warning", res->model->warning);
    char *s = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    if (s == NULL) return -1;
    fprintf(f, "%s\n", s);
    free(s);
    return 0;
}
