/*
 * hw.h - hardware profiles (hwprofiles/NAME.yml) and the latency / energy model over ledgers.
 *
 * A profile is a plain struct loaded from YAML and validated on load: every number present,
 * positive and traced to an entry of its `sources:` list. hw_predict is a pure function of a
 * profile and one or more ledgers (DESIGN.md §6); hw_fit fits a profile's model parameters to
 * measured latencies. Measuring (host calibration, CSV files, validation) is in hw_calib.h.
 *
 * The model, per ledger entry (one operator at one scope, `calls` calls):
 *   compute = 2*MACs / (peak * efficiency(class, shape))        GEMM, attention, conv
 *             (+ DRAM rows * dram_row_ns for a blocked GEMM: packing its weight rows)
 *           = other FLOPs / (peak * elementwise_efficiency)     everything else (a copy has
 *             none: its time is memory and overhead), except
 *           = other FLOPs / (peak * transcendental_efficiency)  the exponential-type operators
 *             (softmax, log-softmax, GLU, Swish, GELU: hw_op_transcendental)
 *   memory  = DRAM bytes / (dram_gbs * dram_efficiency) + cache bytes / cache_gbs
 *           + DRAM rows * dram_row_ns                  (matrix-vector products: the weight
 *             rows read from DRAM, each a new stream)
 * where a matrix-vector product whose weight rows are shorter than a page (HW_STREAM_PAGE
 * bytes: several rows share a page, the prefetcher sees interleaved streams) reads its DRAM
 * weights at dram_gbs * dram_short_efficiency and pays dram_short_row_ns per row instead,
 * where a profile with a measured stream curve (dram_stream, host calibration) costs a
 * matrix-vector product's DRAM weights rows * hw_stream_row_ns(row bytes) * stream_scale
 * instead of both,
 * where a matrix-vector product's resident weights stream at llc_gbs instead of cache_gbs.
 * A product of 2..OPS_GEMV_ROWS rows runs as one matrix-vector product per row over blocks of
 * weight rows: its memory term is a one-row product's plus the other rows' re-reads of each
 * block from the core's cache: the second row's re-read of the weights streamed from DRAM at
 * gemv_reuse_dram_gbs, every other re-read ((M - 1) * weight bytes less that one) at
 * gemv_reuse_gbs.
 *   time    = max(compute, memory) + overhead
 *           = memory + overhead                     matrix-vector products (M <= OPS_GEMV_ROWS:
 *                                                   at most 2 FLOPs per weight byte, always
 *                                                   streaming)
 *   overhead = calls * dispatch_us                  every operator (dispatch, bookkeeping)
 *            + calls * overhead_us                  BLAS-backed products (GEMM, attention)
 *            = calls * loop_overhead_us             plain loops (elementwise, convolutions)
 *            + calls * heads * head_overhead_us     attention: one small product per head
 * GEMM efficiency depends on the shape (M x K) * (K x N) (Hockney's half-performance lengths;
 * the extra terms are the cost of packing the weights, N*K, and of the output, M*N):
 *   efficiency = gemm_efficiency / (1 + (m_half + rem) / M + gemm_k_half / K)  M > OPS_GEMV_ROWS
 *              = gemm_efficiency                          for M <= OPS_GEMV_ROWS (matrix-vector
 *                                                           products stream their weights
 *                                                           unpacked),
 * where m_half = gemm_m_half for the resident share of the weights and gemm_m_half_dram for
 * the rest (the packing cost per weight depends on where the weights come from), and
 * rem = gemm_remainder_rows * popcount(M mod gemm_tile_rows): a blocked kernel does
 * M in passes of gemm_tile_rows rows and the rest in passes of halving size (OpenBLAS: 4, then
 * 2, then 1 row), each pass re-reading the packed weights, so M = 7 costs more than M = 8.
 * Cache bytes are the bytes an operator reads or writes that do not come from DRAM (resident
 * weights, activations within the LLC): a one-token step reading resident weights is bound
 * by the cache bandwidth, not by arithmetic.
 * A generate run also pays the search per decoder step (log-softmax and top-k over the
 * beam x vocabulary logits, outside the ledger): search_ns per logit, the logits being the
 * rows x columns of the step's last matrix product (the output projection).
 * DRAM bytes: weights come from DRAM unless they stay resident in the last-level cache
 * between uses (ledger k >= 2 of a sequence, or every ledger with HwPredictOptions.warm: the
 * resident share is 1 when the ledger's weights W fit C = llc_share * LLC (llc_share_gemm *
 * LLC for blocked matrix products), else
 * C / W * max(0, 1 - (W - C) / (llc_retention * C)): what an ideal cache keeps, falling to
 * nothing at W = C * (1 + llc_retention), as cyclic reuse under LRU-like replacement does);
 * activations come from DRAM
 * only for the part of an operator's working set (bytes read + written) beyond the LLC.
 * Energy = MACs * pJ/MAC (fp32) + DRAM bytes * pJ/B + SRAM bytes * pJ/B + idle_w * time,
 * where SRAM bytes are every byte the operator reads or writes (all pass through the cache).
 */
#ifndef LTSIM_HW_H
#define LTSIM_HW_H

#include <stddef.h>
#include <stdint.h>

#include "cost.h"
#include "status.h"

#define HW_NAME_MAX 64
#define HW_MAX_SOURCES 64
#define HW_TOP_OPS 3

/* Operator classes of the latency model (not the breakdown classes of cost.h). */
typedef enum {
    HW_GEMM = 0,    /* OP_LINEAR, and OP_CONV1D (a blocked product per filter tap):
                       efficiency by the product's rows M */
    HW_ATTENTION,   /* OP_ATTN_SCORES, OP_ATTN_WEIGHTED */
    HW_CONV,        /* OP_CONV_DYNAMIC, OP_CONV_LIGHT, OP_CONV_DEPTHWISE: loops, no BLAS */
    HW_ELEMENTWISE, /* softmax, layer norm, adds, activations, GLU, embedding, positions,
                       copies (caches, beams) */
    HW_CLASS_COUNT
} HwClass;

/* How a number in a profile is known (hardware.md's tags plus the ones ltsim adds). */
typedef enum {
    HW_SRC_VERIFIED = 0, /* seen in the cited source */
    HW_SRC_RECALLED,     /* from memory, unconfirmed */
    HW_SRC_DERIVED,      /* computed from other numbers of the profile (rule named) */
    HW_SRC_MEASURED,     /* measured (host calibration, or a published measurement) */
    HW_SRC_ESTIMATED,    /* a documented estimate rule (hwprofiles/README.md) */
    HW_SRC_FITTED,       /* fitted by ltsim calibrate */
    HW_SRC_COUNT
} HwSourceStatus;

typedef struct {
    char key[48];          /* the profile key, e.g. "peak_gflops_fp32" or "energy.dram_byte_pj" */
    HwSourceStatus status;
    char source[400];      /* citation (hardware.md row and [S..] reference, URL) or rule */
    int line;              /* line in the file (0 when built in code) */
} HwSource;

/* The parameters `calibrate` fits (the `model:` section). */
typedef struct {
    double gemm_efficiency;        /* asymptotic fraction of peak of matrix products, (0, 1] */
    double gemm_m_half;            /* rows M at which a product reaches half of that, > 0 */
    double attention_efficiency;   /* fraction of peak of the attention products, (0, 1] */
    double conv_efficiency;        /* fraction of peak of the Lite convolutions, (0, 1] */
    double elementwise_efficiency; /* other FLOPs per second over peak, (0, 1] */
    double dram_efficiency;        /* achieved fraction of dram_gbs, (0, 1] */
    double overhead_us;            /* fixed cost per call of a BLAS-backed product, > 0 */
    double llc_retention;          /* how far beyond the LLC share a step's weights may grow
                                      and still partly stay resident (as a fraction of that
                                      share), (0, 4]; not fitted by hw_fit */
    double gemm_k_half;            /* inner dimension K at which the K term halves the GEMM
                                      rate, > 0 */
    double cache_gbs;              /* bandwidth of bytes served by the caches, GB/s, > 0 */
    double loop_overhead_us;       /* fixed cost per call of a plain loop (elementwise, conv) */
    double head_overhead_us;       /* attention: fixed cost per head and call */
    double search_ns;              /* generate: search cost per logit and decoder step, ns */
    double transcendental_efficiency; /* other FLOPs per second over peak of the exponential-
                                      type operators (softmax, log-softmax, GLU, Swish, GELU:
                                      an exp or tanh per element), (0, 1]; the other
                                      elementwise operators use elementwise_efficiency */
    double gemm_tile_rows;         /* rows the GEMM kernel does per pass (a power of two;
                                      1: no remainder passes); not fitted by hw_fit */
    double gemm_remainder_rows;    /* cost of each remainder pass of a GEMM, in rows: with
                                      M mod gemm_tile_rows = r, popcount(r) passes of 2^j rows
                                      (j < log2 tile) follow the full ones, > 0 */
    double dram_row_ns;            /* cost per weight row read from DRAM (the stream restarts
                                      at each row): a matrix-vector product's memory term, a
                                      blocked product's packing, ns, > 0 */
    double gemm_m_half_dram;       /* gemm_m_half for weights read from DRAM (packing them
                                      costs more than packing resident ones), > 0 */
    double dispatch_us;            /* fixed cost per call of every operator outside its kernel
                                      (the engine's dispatch and bookkeeping), > 0 */
    double llc_gbs;                /* matrix-vector products: rate of streaming resident
                                      weights from the LLC, GB/s, > 0 */
    double llc_share;              /* share of the LLC that holds a step's weights between
                                      steps (other data, other tenants), (0, 1]; not fitted by
                                      hw_fit */
    double llc_share_gemm;         /* the same for the weights of blocked matrix products
                                      (M > OPS_GEMV_ROWS: forward passes, encoders), whose
                                      packing reads them row by row across the matrix rather
                                      than as one stream, (0, 1]; not fitted by hw_fit */
    double dram_short_efficiency;  /* matrix-vector products with weight rows shorter than
                                      HW_STREAM_PAGE bytes: achieved fraction of dram_gbs for
                                      their weights from DRAM, (0, 1] */
    double dram_short_row_ns;      /* their cost per weight row read from DRAM, ns, > 0 */
    double gemv_reuse_gbs;         /* products of 2..OPS_GEMV_ROWS rows (one matrix-vector
                                      product per row over blocks of weight rows): rate at
                                      which rows 2..M re-read a block from the core's cache,
                                      GB/s, > 0; for the weights streamed from DRAM, rows
                                      3..M (the second row's re-read has its own rate) */
    double gemv_reuse_dram_gbs;    /* the second row's re-read of the weights streamed from
                                      DRAM: where the first row's prefetched lines land (the
                                      core's L2 or only the LLC, still arriving) sets it,
                                      GB/s, > 0 */
    double outside_factor;         /* a run's time over its operators' compute and memory
                                      time, besides dispatch_us per call: the time between
                                      operators that grows with the run (timer reads,
                                      interrupts, bookkeeping whose data the operators
                                      evicted), [1, 2]; measured, not fitted */
    double stream_scale;           /* a profile with a measured stream curve (dram_stream):
                                      the factor on its ns per row. The curve is each row
                                      length's quietest moment; the fit scales it to how whole
                                      runs stream (dram_stream.scale; 0 reads as 1) */
} HwModelParams;

/* Rows shorter than this (bytes, a page) stream as short rows (dram_short_*). */
#define HW_STREAM_PAGE 4096.0

/* Most points of a profile's measured stream curve (HwProfile.stream_*). */
#define HW_STREAM_POINTS 64

/* Where a generated profile came from (host calibration, CSV fits); empty strings if none. */
typedef struct {
    char cpu[128];       /* /proc/cpuinfo model name */
    char blas[192];      /* ops_blas_name() */
    char coretype[48];   /* OPENBLAS_CORETYPE at calibration time, "(unset)" */
    char l2_size[48];    /* OPENBLAS_L2_SIZE at calibration time, "(unset)" */
    char date[40];       /* ISO 8601 UTC */
    char method[256];    /* what was measured / fitted */
    char version[32];    /* ltsim version */
    double threads;      /* 0 when absent */
    double fit_rows;     /* samples of the fit, 0 when absent */
    double fit_rms_rel_err;
} HwProvenance;

typedef struct {
    char name[HW_NAME_MAX];   /* [a-z0-9._-]+, normally the file's base name */
    char description[256];
    char path[512];           /* the file it was loaded from ("" when built in code) */
    double cores;             /* cores the profile's peak assumes (integer >= 1) */
    double clock_ghz;         /* core clock (the fastest core of the set) */
    double process_nm;        /* process node (only the energy estimates depend on it) */
    double peak_gflops_fp32;  /* peak fp32 of those cores, 1e9 FLOP/s (1 MAC = 2 FLOP) */
    double peak_gops_int8;    /* peak int8, 1e9 op/s (1 MAC = 2 op) */
    double dram_gbs;          /* DRAM bandwidth, 1e9 B/s */
    double l1d_kib, l2_kib;   /* per core */
    double llc_kib;           /* usable last-level cache (KiB) */
    double mac_fp32_pj, mac_int8_pj;   /* energy section: pJ per MAC */
    double dram_byte_pj, sram_byte_pj; /* pJ per byte moved */
    double active_w, idle_w;  /* power section: under load, and static (drawn whatever runs) */
    HwModelParams model;
    /* optional (`dram_stream:`, written by host calibration): the cost of a matrix-vector
     * product's weight row read from DRAM, measured by row length. When present, such a
     * product's DRAM weights cost rows * hw_stream_row_ns(row bytes) instead of the
     * dram_efficiency / dram_row_ns and dram_short_* terms. */
    int nstream;
    double stream_row_bytes[HW_STREAM_POINTS]; /* strictly increasing, > 0 */
    double stream_row_ns[HW_STREAM_POINTS];    /* > 0, non-decreasing */
    HwSource sources[HW_MAX_SOURCES];
    int nsources;
    HwProvenance prov;
    int has_provenance;
} HwProfile;

/* ---- profiles ---- */

/* Loads and validates a profile. On failure returns SIM_EINVAL (unreadable file, YAML syntax
 * error, missing / unknown / duplicate key, a number that is not positive or out of range, a
 * number without a `sources:` entry, a bad source status) with one line:
 *   "<path>:<line>: <key>: <what is wrong>". */
SimStatus hw_profile_load(const char *path, HwProfile *p, SimError *err);

/* The same from a buffer; name stands for the path in messages and in p->path. */
SimStatus hw_profile_load_buffer(const char *buf, size_t len, const char *name, HwProfile *p,
                                 SimError *err);

/* Checks a profile built or changed in code (the numeric rules of hw_profile_load). */
SimStatus hw_profile_check(const HwProfile *p, SimError *err);

/* ns per weight row of row_bytes read from DRAM by a matrix-vector product, from the profile's
 * stream curve (linear between its points; beyond them at the rate of the nearest point, so
 * the cost never falls as rows grow). 0 when the profile has no curve. */
double hw_stream_row_ns(const HwProfile *p, double row_bytes);

/* A stream curve's scale (HwModelParams.stream_scale, dram_stream.scale) lies in
 * [HW_STREAM_SCALE_MIN, HW_STREAM_SCALE_MAX]; 0 (unset) reads as 1. */
#define HW_STREAM_SCALE_MIN 0.5
#define HW_STREAM_SCALE_MAX 2.0
static inline double hw_stream_scale(const HwModelParams *m) {
    return m->stream_scale > 0.0 ? m->stream_scale : 1.0;
}

/* Checks a stream curve (n points): 0, or -1 with the reason in msg. */
int hw_stream_check(const double *row_bytes, const double *ns, int n, char *msg, size_t len);

/* Writes p as YAML to path atomically (a temporary file in the same directory, then rename).
 * SIM_EIO with the path and the reason on failure. Loading the file gives p back. */
SimStatus hw_profile_write(const HwProfile *p, const char *path, SimError *err);

/* Resolves NAME: an existing path (containing '/' or ending in .yml) is used as given; else
 * $LTSIM_HOME/hwprofiles/NAME.yml, then hwprofiles/ next to the binary (the /proc/self/exe
 * directory), then ./hwprofiles/NAME.yml. SIM_EINVAL naming the places tried. */
SimStatus hw_profile_find(const char *name, char *path, size_t n, SimError *err);

/* Finds and loads NAME. */
SimStatus hw_profile_open(const char *name, HwProfile *p, SimError *err);

/* The directory profiles are read from first and host.yml is written to: $LTSIM_HOME/hwprofiles,
 * else the binary's hwprofiles/ if it exists, else ./hwprofiles. */
void hw_profile_dir(char *buf, size_t n);

typedef struct {
    char (*names)[HW_NAME_MAX]; /* sorted, unique */
    int n;
} HwProfileList;

/* Names of the profiles (NAME.yml) in the directories hw_profile_find searches. The caller
 * frees with hw_profile_list_free. SIM_ENOMEM on allocation failure. */
SimStatus hw_profile_list(HwProfileList *out, SimError *err);
void hw_profile_list_free(HwProfileList *l);

/* The sources entry documenting key (NULL if none). */
const HwSource *hw_profile_source(const HwProfile *p, const char *key);

/* Sets (adds or replaces) the sources entry of key. */
void hw_profile_set_source(HwProfile *p, const char *key, HwSourceStatus st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

const char *hw_source_status_name(HwSourceStatus s); /* "verified", ... */
const char *hw_class_name(HwClass c);                 /* "gemm", "attention", "conv", ... */
HwClass hw_op_class(int op);                          /* class of an OpKind */
/* 1 if an OpKind is an exponential-type elementwise operator (softmax, log-softmax, GLU,
 * Swish, GELU), costed with transcendental_efficiency instead of elementwise_efficiency. */
int hw_op_transcendental(int op);
/* 1 if a ledger entry is a product the engine runs as matrix-vector products (a linear layer of
 * at most OPS_GEMV_ROWS rows: a stream, memory-bound by nature). */
int hw_gemv(const LedgerEntry *e);
/* 1 if a ledger entry is such a product whose weight rows are shorter than HW_STREAM_PAGE
 * bytes (the calibration samples split the products the same way). */
int hw_short_rows(const LedgerEntry *e);

/* The numeric keys of a profile, in file order: their count, and key i's name, value (NULL
 * when i is out of range) and unit ("GHz", "pJ/B", ...). */
int hw_profile_nkeys(void);
const char *hw_profile_key(int i, const HwProfile *p, double *value, const char **unit);

/* ---- prediction ---- */

typedef struct {
    int warm; /* the run repeats back to back (a benchmark): weights are resident from the
                 first ledger on, as far as they fit the LLC. 0: one cold sentence */
} HwPredictOptions;

typedef struct {
    int step;           /* ledger index */
    char scope[160];
    int op;             /* OpKind */
    HwClass cls;
    double compute_ms, memory_ms, overhead_ms;
    double time_ms;     /* max(compute, memory) + overhead */
    double dram_bytes;  /* weights not resident + activations beyond the LLC */
    double weight_dram_bytes;
    double sram_bytes;  /* every byte read or written */
    double energy_mj;   /* dynamic + static share */
    int memory_bound;   /* memory_ms > compute_ms, or a matrix-vector product (a stream) */
} HwOpPrediction;

typedef struct {
    char scope[160];
    int op;
    double latency_ms;  /* summed over the steps of the run */
} HwTopOp;

typedef struct {
    char hw[HW_NAME_MAX];
    double latency_ms;
    double energy_mj;
    int memory_bound;        /* memory-bound operators take more time than compute-bound ones */
    double compute_bound_ms; /* compute time of the compute-bound operators */
    double memory_bound_ms;  /* memory time of the memory-bound operators */
    double overhead_ms;
    double search_ms;        /* generate: the search over the logits (in latency_ms) */
    double macs, dram_bytes, weight_dram_bytes, act_dram_bytes, sram_bytes;
    double energy_mac_mj, energy_dram_mj, energy_sram_mj, energy_static_mj;
    HwOpPrediction *ops;     /* nops, in ledger order, ledger after ledger */
    size_t nops;
    HwTopOp top[HW_TOP_OPS]; /* the operators (scope, op) with the largest predicted time */
    int ntop;
    double *step_ms;         /* (nsteps) latency per ledger */
    int nsteps;
} HwPrediction;

/* Predicts latency and energy of a run on p. ledgers[0] is a forward pass, or in a generate
 * run the part done once (encoder and cross-attention K/V); ledgers[1..n-1] are decoder steps,
 * each re-reading from DRAM the weights that do not fit the LLC. o may be NULL (cold).
 * out is owned by the caller and freed with hw_prediction_free (also after a failure).
 * SIM_EINVAL for n < 1 or a NULL ledger, SIM_ENOMEM. Pure: reads only its arguments. */
SimStatus hw_predict(const HwProfile *p, const CostLedger *const *ledgers, int n,
                     const HwPredictOptions *o, HwPrediction *out, SimError *err);
void hw_prediction_free(HwPrediction *pr);

/* Latency only (no allocation): the same number as hw_predict's latency_ms. */
double hw_predict_ms(const HwProfile *p, const CostLedger *const *ledgers, int n,
                     const HwPredictOptions *o);

/* ---- fitting ---- */

typedef enum {
    HW_P_GEMM_EFF = 0,
    HW_P_GEMM_M_HALF,
    HW_P_ATTN_EFF,
    HW_P_CONV_EFF,
    HW_P_ELEM_EFF,
    HW_P_DRAM_EFF,
    HW_P_OVERHEAD,
    HW_P_GEMM_K_HALF, /* the parameters below are fitted only with HwFitOptions.fit_all */
    HW_P_CACHE_GBS,
    HW_P_LOOP_OVERHEAD,
    HW_P_HEAD_OVERHEAD,
    HW_P_SEARCH,
    HW_P_TRANS_EFF,   /* transcendental_efficiency (fit_all only) */
    HW_P_GEMM_REM,    /* gemm_remainder_rows (fit_all only) */
    HW_P_DRAM_ROW,    /* dram_row_ns (fit_all only) */
    HW_P_LLC_GBS,     /* llc_gbs (fit_all only) */
    HW_P_DISPATCH,    /* dispatch_us (fit_all only; only whole-run samples see it) */
    HW_P_GEMM_M_HALF_DRAM, /* gemm_m_half_dram (fit_all only; else kept at its ratio to
                              gemm_m_half) */
    HW_P_DRAM_SHORT_EFF,   /* dram_short_efficiency (fit_all only; else kept at its ratio to
                              dram_efficiency) */
    HW_P_DRAM_SHORT_ROW,   /* dram_short_row_ns (fit_all only; else kept at its ratio to
                              dram_row_ns) */
    HW_P_GEMV_REUSE,       /* gemv_reuse_gbs (fit_all only) */
    HW_P_GEMV_REUSE_DRAM,  /* gemv_reuse_dram_gbs (fit_all only) */
    HW_P_STREAM_SCALE,     /* stream_scale (fit_all only; no effect without a stream curve) */
    HW_PARAM_COUNT
} HwParam;

const char *hw_param_key(HwParam k);  /* "model.gemm_efficiency", ... */
double hw_param_get(const HwModelParams *m, HwParam k);
void hw_param_set(HwModelParams *m, HwParam k, double v);

/* One measured latency: a whole run (entry < 0) or one ledger entry of it (its own time). */
typedef struct {
    const CostLedger *const *ledgers; /* the run, as for hw_predict */
    int nledgers;
    int step;           /* with entry >= 0: the ledger holding the entry */
    long entry;         /* -1: the whole run (or with by_class, one class of it) */
    int by_class;       /* with entry < 0: only the entries of class cls, without the search */
    HwClass cls;
    int gemm_rows;      /* with by_class and cls HW_GEMM: 0 every product, 1 only matrix-vector
                           products (hw_gemv), 2 only the others, 3 only matrix-vector products
                           with rows shorter than a page (hw_short_rows), 4 only the longer */
    int elem_kind;      /* with by_class and cls HW_ELEMENTWISE: 0 every operator, 1 only the
                           exponential-type ones (hw_op_transcendental), 2 only the others */
    int search_only;    /* with entry < 0 and a generate run: only the search (search_ns
                           times the logits of the decoder steps), no operator */
    /* per-class, per-operator and search samples are kernel times: they leave out
     * dispatch_us, which only whole runs (entry < 0, not by_class) include */
    double measured_ms; /* > 0 */
    double weight;      /* weight of the relative error (0 = 1) */
} HwSample;

/* The model's prediction for one sample (what hw_fit compares with measured_ms): NAN if the
 * sample cannot be evaluated. */
double hw_sample_predict_ms(const HwProfile *p, const HwSample *s, int warm);

typedef struct {
    int warm;            /* as HwPredictOptions.warm */
    int rescale_peak;    /* host: efficiencies may exceed 1; the peak is raised to keep the GEMM,
                            attention and convolution ones <= 1 (the elementwise ones are
                            clamped to 1: memory-bound operators leave them undetermined), and
                            dram_gbs to keep dram_efficiency <= 1 */
    int fit_all;         /* also fit gemm_k_half, cache_gbs, loop_overhead_us, head_overhead_us,
                            search_ns, transcendental_efficiency, gemm_remainder_rows,
                            dram_row_ns, llc_gbs, dispatch_us, gemm_m_half_dram, the
                            short-row DRAM terms, gemv_reuse_gbs and
                            gemv_reuse_dram_gbs (host:
                            per-class, search and
                            whole-run samples pin them down); 0: they keep the profile's values
                            (a few whole-run latencies of a device cannot separate them from
                            the basic parameters) */
    double identify_se;  /* a parameter is identified when its relative standard error is
                            below this (0 = 0.02) */
    int hold[HW_PARAM_COUNT]; /* 1: keep the profile's value of this parameter (measured
                            elsewhere: the host's dispatch_us) */
    int robust;          /* refit with Huber weights (IRLS): samples far off the model count
                            less than in least squares */
} HwFitOptions;

typedef struct {
    HwModelParams before, after;
    double peak_before, peak_after;
    int identified[HW_PARAM_COUNT]; /* 1: the data pin it down (relative SE below the
                                       threshold); 0: weakly determined or untouched */
    double rel_se[HW_PARAM_COUNT];  /* relative standard error (inf when not determined) */
    int n;                          /* samples */
    int iterations;
    double rms_rel_err_before, rms_rel_err_after; /* over the samples, weights applied */
    double trimmed_rms_rel_err; /* after: RMS relative error over the 90 % of the samples with
                                   the smallest errors, unweighted */
} HwFitReport;

/* Fits p->model (and with rescale_peak p->peak_gflops_fp32) to the samples by weighted
 * relative least squares with a faint ridge toward the prior (the profile's values), so that
 * parameters the data do not touch keep their values; rep says which ones the data pin
 * down (identified). The model is linear in the inverse efficiencies and the overhead
 * once each operator's regime (compute or memory) is fixed: the fit alternates between the
 * regimes and a bounded least-squares solve until the regimes stop changing.
 * SIM_EINVAL for no samples or a non-positive measurement. Pure. */
SimStatus hw_fit(HwProfile *p, const HwSample *s, int n, const HwFitOptions *o, HwFitReport *rep,
                 SimError *err);

#endif
