/*
 * test_ops.c - every operator against a naive reference loop, and the anti-drift checks:
 * the MACs each cost function reports equal the multiply-adds the kernels perform (a
 * wrapped cblas_sgemm / cblas_sgemv tally M*N*K; reference loops tally their own), and every row of
 * the operator table is complete. Linked with -Wl,--wrap=cblas_sgemm.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "ops.h"
#include "testutil.h"

/* ---- the wrapped sgemm: tallies M*N*K of every call ---- */

static uint64_t gemm_tally;

void __real_cblas_sgemm(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE,
                        const enum CBLAS_TRANSPOSE, const blasint, const blasint, const blasint,
                        const float, const float *, const blasint, const float *, const blasint,
                        const float, float *, const blasint);
void __wrap_cblas_sgemm(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta,
                        const enum CBLAS_TRANSPOSE tb, const blasint M, const blasint N,
                        const blasint K, const float alpha, const float *A, const blasint lda,
                        const float *B, const blasint ldb, const float beta, float *C,
                        const blasint ldc);
void __wrap_cblas_sgemm(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta,
                        const enum CBLAS_TRANSPOSE tb, const blasint M, const blasint N,
                        const blasint K, const float alpha, const float *A, const blasint lda,
                        const float *B, const blasint ldb, const float beta, float *C,
                        const blasint ldc) {
    gemm_tally += (uint64_t)M * (uint64_t)N * (uint64_t)K;
    __real_cblas_sgemm(o, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

void __real_cblas_sgemv(const enum CBLAS_ORDER, const enum CBLAS_TRANSPOSE, const blasint,
                        const blasint, const float, const float *, const blasint, const float *,
                        const blasint, const float, float *, const blasint);
void __wrap_cblas_sgemv(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta, const blasint M,
                        const blasint N, const float alpha, const float *A, const blasint lda,
                        const float *x, const blasint incx, const float beta, float *y,
                        const blasint incy);
void __wrap_cblas_sgemv(const enum CBLAS_ORDER o, const enum CBLAS_TRANSPOSE ta, const blasint M,
                        const blasint N, const float alpha, const float *A, const blasint lda,
                        const float *x, const blasint incx, const float beta, float *y,
                        const blasint incy) {
    gemm_tally += (uint64_t)M * (uint64_t)N; /* one row: an (M x N) matrix times a vector */
    __real_cblas_sgemv(o, ta, M, N, alpha, A, lda, x, incx, beta, y, incy);
}

/* ---- fixtures ---- */

typedef struct {
    Arena *a;
    CostLedger *l;
    SimError err;
    Run r;
    uint64_t rng;
} Fx;

static int fx_setup(void **state) {
    Fx *f = calloc(1, sizeof *f);
    sim_error_init(&f->err);
    f->a = arena_open(64 << 20, 0, &f->err);
    f->l = cost_ledger_open(&f->err);
    f->r.act = f->a;
    f->r.ledger = f->l;
    f->r.err = &f->err;
    f->r.cls = CLASS_ATTENTION;
    f->rng = 12345;
    *state = f;
    return 0;
}

static int fx_teardown(void **state) {
    Fx *f = *state;
    arena_close(f->a);
    cost_ledger_close(f->l);
    free(f);
    return 0;
}

static float frand(Fx *f) {
    f->rng = f->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((f->rng >> 40) * (1.0 / 16777216.0)) * 2.0f - 1.0f;
}

static Tensor rand_tensor(Fx *f, int64_t rows, int64_t cols, int64_t ld) {
    Tensor t = {arena_floats(f->a, (size_t)(rows * ld), &f->err), rows, cols, ld};
    for (int64_t i = 0; i < rows * ld; i++) t.data[i] = frand(f);
    return t;
}

/* Runs one operator on an empty ledger (the ledger merges calls under one scope). */
static SimStatus fx_exec(Fx *f, OpKind k, const OpArgs *a) {
    cost_ledger_clear(f->l);
    return op_exec(&f->r, k, a);
}

static OpCost last_cost(Fx *f) {
    size_t n = cost_ledger_count(f->l);
    assert_true(n > 0);
    return cost_ledger_get(f->l, n - 1)->cost;
}

static void assert_close(float a, float b) {
    if (!(fabsf(a - b) <= 1e-4f * (1.0f + fabsf(b)))) fail_msg("%.7g vs %.7g", a, b);
}

/* ---- operators vs reference loops ---- */

static void test_ops_linear(void **state) {
    Fx *f = *state;
    /* M = 2..4 runs per row over blocks of weight rows: 300 rows of K = 1024 and 70 rows of
     * K = 2500 span several blocks of OPS_GEMV_BLOCK_BYTES; the second pass takes sgemm for
     * every product of 2 rows or more (ops_set_gemv_rows(1), as the benchmark compares) */
    const int64_t shapes[][3] = {{1, 1, 1},      {3, 17, 5},   {30, 31, 29}, {7, 1, 64},
                                 {2, 300, 1024}, {4, 70, 2500}, {5, 40, 8}};
    const size_t nshapes = sizeof shapes / sizeof shapes[0];
    for (size_t s = 0; s < 2 * nshapes; s++) {
        ops_set_gemv_rows(s < nshapes ? OPS_GEMV_ROWS : 1);
        int64_t M = shapes[s % nshapes][0], N = shapes[s % nshapes][1], K = shapes[s % nshapes][2];
        Tensor x = rand_tensor(f, M, K, K + 3); /* a strided view, as a branch slice */
        Tensor w = rand_tensor(f, N, K, K), b = rand_tensor(f, 1, N, N);
        Tensor y = rand_tensor(f, M, N, N + 1);
        OpArgs a = {0};
        a.x = x;
        a.w = w;
        a.b = b;
        a.y = y;
        gemm_tally = 0;
        assert_int_equal(fx_exec(f, OP_LINEAR, &a), SIM_OK);
        uint64_t macs = 0;
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                double acc = b.data[j];
                for (int64_t k = 0; k < K; k++, macs++)
                    acc += (double)x.data[i * x.ld + k] * w.data[j * K + k];
                assert_close(y.data[i * y.ld + j], (float)acc);
            }
        OpCost c = last_cost(f);
        assert_int_equal(c.macs, macs);
        assert_int_equal(c.macs, gemm_tally);
        assert_int_equal(c.params, N * K + N);
    }
    ops_set_gemv_rows(OPS_GEMV_ROWS);
}

static void test_ops_attention(void **state) {
    Fx *f = *state;
    const int64_t cfgs[][5] = {/* Tq, Tk, W, H, causal */
                               {5, 5, 8, 2, 1},
                               {9, 9, 12, 4, 0},
                               {4, 11, 6, 3, 0},
                               {1, 7, 8, 1, 1}};
    for (size_t s = 0; s < 4; s++) {
        int64_t Tq = cfgs[s][0], Tk = cfgs[s][1], W = cfgs[s][2], H = cfgs[s][3];
        int causal = (int)cfgs[s][4];
        int64_t q0 = causal && Tq == 1 ? Tk - 1 : 0; /* a single query at the last position */
        int64_t R = W / H;
        Tensor q = rand_tensor(f, Tq, W, W), k = rand_tensor(f, Tk, W, W + 2);
        Tensor v = rand_tensor(f, Tk, W, W);
        Tensor p = rand_tensor(f, H * Tq, Tk, Tk), o = rand_tensor(f, Tq, W, W);
        OpArgs a = {0};
        a.x = q;
        a.x2 = k;
        a.y = p;
        a.heads = H;
        a.causal = causal;
        a.q0 = q0;
        a.scale = 0.5f;
        gemm_tally = 0;
        assert_int_equal(fx_exec(f, OP_ATTN_SCORES, &a), SIM_OK);
        assert_int_equal(gemm_tally, (uint64_t)(Tq * Tk * W)); /* executed: the full product */
        uint64_t pairs = 0;
        for (int64_t i = 0; i < Tq; i++) pairs += (uint64_t)(causal ? (q0 + i + 1 < Tk ? q0 + i + 1 : Tk) : Tk);
        assert_int_equal(last_cost(f).macs, pairs * (uint64_t)W);
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < Tq; i++)
                for (int64_t j = 0; j < Tk; j++) {
                    double acc = 0;
                    for (int64_t r = 0; r < R; r++)
                        acc += (double)q.data[i * W + h * R + r] * k.data[j * k.ld + h * R + r];
                    assert_close(p.data[(h * Tq + i) * Tk + j], 0.5f * (float)acc);
                }
        /* softmax with the causal mask */
        float *ref = malloc(sizeof(float) * (size_t)(H * Tq * Tk));
        memcpy(ref, p.data, sizeof(float) * (size_t)(H * Tq * Tk));
        OpArgs sm = {0};
        sm.x = p;
        sm.y = p;
        sm.heads = H;
        sm.causal = causal;
        sm.q0 = q0;
        assert_int_equal(fx_exec(f, OP_SOFTMAX, &sm), SIM_OK);
        assert_int_equal(last_cost(f).macs, 0);
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < Tq; i++) {
                int64_t n = causal ? q0 + i + 1 : Tk;
                if (n > Tk) n = Tk;
                double mx = -1e30, sum = 0;
                const float *row = ref + (h * Tq + i) * Tk;
                for (int64_t j = 0; j < n; j++) mx = row[j] > mx ? row[j] : mx;
                for (int64_t j = 0; j < n; j++) sum += exp(row[j] - mx);
                for (int64_t j = 0; j < Tk; j++)
                    assert_close(p.data[(h * Tq + i) * Tk + j],
                                 j < n ? (float)(exp(row[j] - mx) / sum) : 0.0f);
            }
        free(ref);
        OpArgs ws = {0};
        ws.x = p;
        ws.x2 = v;
        ws.y = o;
        ws.heads = H;
        ws.causal = causal;
        ws.q0 = q0;
        gemm_tally = 0;
        assert_int_equal(fx_exec(f, OP_ATTN_WEIGHTED, &ws), SIM_OK);
        assert_int_equal(gemm_tally, (uint64_t)(Tq * Tk * W));
        assert_int_equal(last_cost(f).macs, pairs * (uint64_t)W);
        for (int64_t h = 0; h < H; h++)
            for (int64_t i = 0; i < Tq; i++)
                for (int64_t r = 0; r < R; r++) {
                    double acc = 0;
                    for (int64_t j = 0; j < Tk; j++)
                        acc += (double)p.data[(h * Tq + i) * Tk + j] * v.data[j * W + h * R + r];
                    assert_close(o.data[i * W + h * R + r], (float)acc);
                }
    }
}

static void test_ops_conv(void **state) {
    Fx *f = *state;
    const int64_t cfgs[][5] = {/* L, C, H, K, P */
                               {9, 8, 2, 3, 1},   {9, 8, 2, 15, 14}, {5, 12, 4, 31, 15},
                               {1, 4, 1, 7, 6},   {6, 6, 3, 4, 1},   {30, 16, 4, 31, 30}};
    for (size_t s = 0; s < 6; s++) {
        int64_t L = cfgs[s][0], C = cfgs[s][1], H = cfgs[s][2], K = cfgs[s][3], P = cfgs[s][4];
        int64_t R = C / H;
        for (int dyn = 0; dyn < 2; dyn++) {
            Tensor u = rand_tensor(f, L, C, C + 5);
            Tensor w = dyn ? rand_tensor(f, L, H * K, H * K) : rand_tensor(f, H, K, K);
            Tensor y = rand_tensor(f, L, C, C);
            OpArgs a = {0};
            a.x = u;
            a.w = w;
            a.y = y;
            a.heads = H;
            a.kw = K;
            a.pad = P;
            a.w_is_param = !dyn;
            uint64_t taps = 0;
            for (ConvMacs cm = CONV_MACS_TAPS; cm <= CONV_MACS_NONE; cm++) {
                f->r.conv.conv_macs = cm;
                assert_int_equal(fx_exec(f, dyn ? OP_CONV_DYNAMIC : OP_CONV_LIGHT, &a), SIM_OK);
                uint64_t got = last_cost(f).macs;
                taps = 0;
                for (int64_t t = 0; t < L; t++)
                    for (int64_t c = 0; c < C; c++) {
                        double acc = 0;
                        for (int64_t k = 0; k < K; k++) {
                            int64_t tau = t + k - P;
                            if (tau < 0 || tau >= L) continue;
                            float wk = dyn ? w.data[t * H * K + (c / R) * K + k] : w.data[(c / R) * K + k];
                            acc += (double)wk * u.data[tau * u.ld + c];
                            taps++; /* the multiply-adds the kernel performs */
                        }
                        assert_close(y.data[t * C + c], (float)acc);
                    }
                uint64_t want = cm == CONV_MACS_TAPS    ? (uint64_t)(L * C * K)
                                : cm == CONV_MACS_VALID ? taps
                                : cm == CONV_MACS_BAND  ? (uint64_t)(L * L * C)
                                                        : 0;
                assert_int_equal(got, want);
            }
            f->r.conv.conv_macs = CONV_MACS_TAPS;
        }
    }
}

/* tensor2tensor's depthwise and standard 1-D convolutions against reference loops; the
 * standard conv's multiply-adds go through the wrapped sgemm (the in-sequence taps). */
static void test_ops_t2t_convs(void **state) {
    Fx *f = *state;
    const int64_t cfgs[][6] = {/* L, Cin, Cout, K, P, q0 */
                               {9, 8, 4, 3, 1, 0}, {7, 6, 5, 11, 10, 0}, {5, 4, 3, 7, 6, 4},
                               {1, 3, 2, 9, 4, 0}};
    for (size_t s = 0; s < 4; s++) {
        int64_t L = cfgs[s][0], Ci = cfgs[s][1], Co = cfgs[s][2], K = cfgs[s][3], P = cfgs[s][4];
        int64_t q0 = cfgs[s][5], n = L - q0;
        Tensor u = rand_tensor(f, L, Ci, Ci + 1);
        Tensor dw = rand_tensor(f, K, Ci, Ci), y = rand_tensor(f, n, Ci, Ci);
        OpArgs a = {0};
        a.x = u;
        a.w = dw;
        a.y = y;
        a.kw = K;
        a.pad = P;
        a.q0 = q0;
        f->r.conv.conv_macs = CONV_MACS_VALID;
        assert_int_equal(fx_exec(f, OP_CONV_DEPTHWISE, &a), SIM_OK);
        uint64_t taps = 0;
        for (int64_t i = 0; i < n; i++)
            for (int64_t c = 0; c < Ci; c++) {
                double acc = 0;
                for (int64_t k = 0; k < K; k++) {
                    int64_t tau = q0 + i + k - P;
                    if (tau < 0 || tau >= L) continue;
                    acc += (double)dw.data[k * Ci + c] * u.data[tau * u.ld + c];
                    if (c == 0) taps++;
                }
                assert_close(y.data[i * Ci + c], (float)acc);
            }
        assert_int_equal(last_cost(f).macs, taps * (uint64_t)Ci);
        /* the standard conv */
        Tensor w = rand_tensor(f, K * Ci, Co, Co), b = rand_tensor(f, 1, Co, Co);
        Tensor z = rand_tensor(f, n, Co, Co);
        OpArgs c = {0};
        c.x = u;
        c.w = w;
        c.b = b;
        c.y = z;
        c.kw = K;
        c.pad = P;
        c.q0 = q0;
        gemm_tally = 0;
        assert_int_equal(fx_exec(f, OP_CONV1D, &c), SIM_OK);
        assert_int_equal(last_cost(f).macs, taps * (uint64_t)(Ci * Co));
        assert_int_equal(gemm_tally, taps * (uint64_t)(Ci * Co));
        for (int64_t i = 0; i < n; i++)
            for (int64_t o = 0; o < Co; o++) {
                double acc = b.data[o];
                for (int64_t k = 0; k < K; k++) {
                    int64_t tau = q0 + i + k - P;
                    if (tau < 0 || tau >= L) continue;
                    for (int64_t ci = 0; ci < Ci; ci++)
                        acc += (double)u.data[tau * u.ld + ci] * w.data[(k * Ci + ci) * Co + o];
                }
                assert_close(z.data[i * Co + o], (float)acc);
            }
        /* a separable conv is the depthwise conv then the pointwise product: compare the
         * composition through the dispatcher with the direct double sum */
        Tensor pw = rand_tensor(f, Co, Ci, Ci), pb = rand_tensor(f, 1, Co, Co);
        Tensor sep = rand_tensor(f, n, Co, Co);
        OpArgs lin = {0};
        lin.x = y;
        lin.w = pw;
        lin.b = pb;
        lin.y = sep;
        assert_int_equal(fx_exec(f, OP_LINEAR, &lin), SIM_OK);
        for (int64_t i = 0; i < n; i++)
            for (int64_t o = 0; o < Co; o++) {
                double acc = pb.data[o];
                for (int64_t ci = 0; ci < Ci; ci++)
                    for (int64_t k = 0; k < K; k++) {
                        int64_t tau = q0 + i + k - P;
                        if (tau >= 0 && tau < L)
                            acc += (double)pw.data[o * Ci + ci] * dw.data[k * Ci + ci] *
                                   u.data[tau * u.ld + ci];
                    }
                assert_close(sep.data[i * Co + o], (float)acc);
            }
        /* taps: all K per output, also under band and none (ET's convs are not custom kernels) */
        f->r.conv.conv_macs = CONV_MACS_NONE;
        assert_int_equal(fx_exec(f, OP_CONV1D, &c), SIM_OK);
        assert_int_equal(last_cost(f).macs, (uint64_t)(n * K * Ci * Co));
        f->r.conv.conv_macs = CONV_MACS_TAPS;
    }
}

static void test_ops_elementwise(void **state) {
    Fx *f = *state;
    int64_t M = 7, N = 13;
    Tensor x = rand_tensor(f, M, N, N), g = rand_tensor(f, 1, N, N), b = rand_tensor(f, 1, N, N);
    Tensor y = rand_tensor(f, M, N, N);
    OpArgs a = {0};
    a.x = x;
    a.w = g;
    a.b = b;
    a.y = y;
    a.eps = 1e-5f;
    assert_int_equal(fx_exec(f, OP_LAYERNORM, &a), SIM_OK);
    for (int64_t i = 0; i < M; i++) {
        double mean = 0, var = 0;
        for (int64_t j = 0; j < N; j++) mean += x.data[i * N + j];
        mean /= N;
        for (int64_t j = 0; j < N; j++) var += (x.data[i * N + j] - mean) * (x.data[i * N + j] - mean);
        var /= N;
        for (int64_t j = 0; j < N; j++)
            assert_close(y.data[i * N + j],
                         (float)((x.data[i * N + j] - mean) / sqrt(var + 1e-5) * g.data[j] + b.data[j]));
    }
    assert_int_equal(last_cost(f).macs, 0);
    assert_int_equal(last_cost(f).params, 2 * N);
    /* GLU: value half times sigmoid of the gate half */
    Tensor gg = rand_tensor(f, M, 2 * N, 2 * N), out = rand_tensor(f, M, N, N);
    OpArgs gl = {0};
    gl.x = gg;
    gl.y = out;
    assert_int_equal(fx_exec(f, OP_GLU, &gl), SIM_OK);
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++)
            assert_close(out.data[i * N + j], (float)(gg.data[i * 2 * N + j] /
                                                      (1.0 + exp(-gg.data[i * 2 * N + N + j]))));
    /* residual add, ReLU */
    Tensor p = rand_tensor(f, M, N, N), q = rand_tensor(f, M, N, N);
    float p0 = p.data[5], q0 = q.data[5];
    OpArgs ad = {0};
    ad.x = p;
    ad.x2 = q;
    ad.y = p;
    assert_int_equal(fx_exec(f, OP_ADD, &ad), SIM_OK);
    assert_close(p.data[5], p0 + q0);
    OpArgs re = {0};
    re.x = p;
    re.y = p;
    assert_int_equal(fx_exec(f, OP_RELU, &re), SIM_OK);
    for (int64_t i = 0; i < M * N; i++) assert_true(p.data[i] >= 0.0f);
    /* Swish: x * sigmoid(x) */
    Tensor sw = rand_tensor(f, M, N, N);
    float s0 = sw.data[3];
    OpArgs sa = {0};
    sa.x = sw;
    sa.y = sw;
    assert_int_equal(fx_exec(f, OP_SWISH, &sa), SIM_OK);
    assert_close(sw.data[3], (float)(s0 / (1.0 + exp(-s0))));
    assert_int_equal(last_cost(f).other_flops, 5u * (uint64_t)(M * N));
}

static void test_ops_embed_positions(void **state) {
    Fx *f = *state;
    int64_t V = 11, D = 6;
    Tensor E = rand_tensor(f, V, D, D), y = rand_tensor(f, 3, D, D);
    int64_t tok[3] = {4, 0, 10};
    OpArgs a = {0};
    a.w = E;
    a.y = y;
    a.tokens = tok;
    a.scale = 2.0f;
    assert_int_equal(fx_exec(f, OP_EMBED, &a), SIM_OK);
    assert_close(y.data[0], 2.0f * E.data[4 * D]);
    assert_close(y.data[2 * D + 5], 2.0f * E.data[10 * D + 5]);
    /* positions: fairseq's table, [sin half | cos half], row 1 zero */
    Tensor tab = rand_tensor(f, 8, D, D);
    ops_fill_positions(tab, 1);
    for (int64_t j = 0; j < D; j++) assert_close(tab.data[1 * D + j], 0.0f);
    double step = log(10000.0) / 2.0; /* half = 3: denominator half - 1 = 2 */
    assert_close(tab.data[5 * D + 1], (float)sin(5 * exp(-1 * step)));
    assert_close(tab.data[5 * D + 3 + 2], (float)cos(5 * exp(-2 * step)));
    /* out-of-vocabulary ids are bad input */
    int64_t bad[3] = {4, 11, 0};
    a.tokens = bad;
    SimError e2;
    sim_error_init(&e2);
    f->r.err = &e2;
    assert_int_equal(fx_exec(f, OP_EMBED, &a), SIM_EINVAL);
    assert_non_null(strstr(e2.msg, "11"));
    /* the first error sticks: later operators do nothing */
    OpArgs re = {0};
    re.x = y;
    re.y = y;
    cost_ledger_clear(f->l);
    assert_int_equal(op_exec(&f->r, OP_RELU, &re), SIM_EINVAL);
    assert_int_equal(cost_ledger_count(f->l), 0);
    f->r.err = &f->err;
}

static void test_ops_shape_checks(void **state) {
    Fx *f = *state;
    SimError e2;
    sim_error_init(&e2);
    f->r.err = &e2;
    Tensor x = rand_tensor(f, 4, 5, 5), w = rand_tensor(f, 3, 6, 6), y = rand_tensor(f, 4, 3, 3);
    OpArgs a = {0};
    a.x = x;
    a.w = w;
    a.y = y;
    assert_int_equal(fx_exec(f, OP_LINEAR, &a), SIM_ESHAPE);
    assert_non_null(strstr(e2.msg, "linear"));
    f->r.err = &f->err;
}

/* Count-only: the same cost and no kernel (outputs untouched, no GEMM). */
static void test_ops_count_only(void **state) {
    Fx *f = *state;
    Tensor x = {NULL, 30, 64, 64}, w = {NULL, 128, 64, 64}, y = {NULL, 30, 128, 128};
    OpArgs a = {0};
    a.x = x;
    a.w = w;
    a.y = y;
    f->r.count_only = 1;
    gemm_tally = 0;
    assert_int_equal(fx_exec(f, OP_LINEAR, &a), SIM_OK);
    assert_int_equal(gemm_tally, 0);
    assert_int_equal(last_cost(f).macs, 30 * 64 * 128);
    f->r.count_only = 0;
}

static void test_ops_table_complete(void **state) {
    (void)state;
    for (int k = 0; k < OP_COUNT; k++) {
        assert_non_null(op_name((OpKind)k));
        assert_string_not_equal(op_name((OpKind)k), "?");
        OpClass c = op_class((OpKind)k, CLASS_FFN);
        assert_true(c < CLASS_COUNT);
    }
    assert_true(op_is_gemm(OP_LINEAR) && op_is_gemm(OP_ATTN_SCORES) && op_is_gemm(OP_ATTN_WEIGHTED));
    assert_false(op_is_gemm(OP_CONV_DYNAMIC));
}

/* A whole forward pass: the wrapped BLAS sees exactly the ledger's GEMM MACs (attention
 * counted in full, because the kernel computes the masked half too); and a whole greedy
 * generation, whose one-row products go through sgemv. */
static void test_ops_forward_gemm_tally(void **state) {
    (void)state;
    const char *cfgs[] = {"tests/fixtures/golden_lite_dyn_glu.yml", "tests/fixtures/golden_lite_light.yml",
                          "tests/fixtures/golden_transformer.yml"};
    for (int i = 0; i < 3; i++) {
        ModelConfig cfg;
        tu_load_config(cfgs[i], 0, &cfg);
        RunSpec spec = tu_spec(0);
        spec.src_len = 13;
        spec.tgt_len = 8;
        spec.conv = (Conventions){ATTN_MACS_FULL, CONV_MACS_NONE};
        SimError err;
        sim_error_init(&err);
        RunResult res;
        gemm_tally = 0;
        assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
        uint64_t ledger = tu_macs(res.ledger, -1, NULL, -1);
        assert_int_equal(gemm_tally, ledger); /* one timed pass; the plan pass runs no kernel */
        runner_result_free(&res);
        spec.mode = MODE_GENERATE;
        spec.no_early_stop = 1;
        spec.max_steps = 6;
        gemm_tally = 0;
        assert_int_equal(runner_execute(&cfg, &spec, &res, &err), SIM_OK);
        assert_int_equal(gemm_tally, tu_macs(res.ledger, -1, NULL, -1));
        runner_result_free(&res);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_ops_linear, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_attention, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_conv, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_t2t_convs, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_elementwise, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_embed_positions, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_shape_checks, fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_ops_count_only, fx_setup, fx_teardown),
        cmocka_unit_test(test_ops_table_complete),
        cmocka_unit_test(test_ops_forward_gemm_tally),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
