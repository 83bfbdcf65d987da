/*
 * store.c - the results database (see store.h). The only file that includes <sqlite3.h>.
 *
 * Every sqlite3_* return code is checked; failures become one-line SimError messages that
 * name the database file and carry sqlite3_errmsg(). Writes run inside BEGIN IMMEDIATE ...
 * COMMIT (the write lock is taken up front, so the busy handler applies and two writers
 * queue instead of deadlocking); any failure rolls the transaction back.
 */
#include "store.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "ops.h"
#include "paths.h"
#include "store_int.h"

struct Store {
    sqlite3 *db;
    char path[1024];
    int busy_ms;
    int busy_hit;       /* the last failure was SQLITE_BUSY / SQLITE_LOCKED */
    StoreRowHook hook;
    void *hook_ctx;
};

/* ---- SHA-256 (FIPS 180-4), for content hashes and the published-results check ---- */

typedef struct {
    uint32_t h[8];
    uint64_t len;    /* bytes hashed so far */
    uint8_t buf[64]; /* pending block */
    size_t nbuf;
} Sha256;

static const uint32_t sha_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
    0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
    0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
    0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
    0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
    0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
    0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
    0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
    0xc67178f2};

static uint32_t rotr(uint32_t x, int n) { return (x >> n) | (x << (32 - n)); }

static void sha_block(Sha256 *c, const uint8_t *p) {
    uint32_t w[64];
    for (size_t i = 0; i < 16; i++)
        w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
               (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = rotr(w[i - 15], 7) ^ rotr(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = rotr(w[i - 2], 17) ^ rotr(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = c->h[0], b = c->h[1], cc = c->h[2], d = c->h[3];
    uint32_t e = c->h[4], f = c->h[5], g = c->h[6], h = c->h[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (rotr(e, 6) ^ rotr(e, 11) ^ rotr(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha_k[i] + w[i];
        uint32_t t2 = (rotr(a, 2) ^ rotr(a, 13) ^ rotr(a, 22)) + ((a & b) ^ (a & cc) ^ (b & cc));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = cc;
        cc = b;
        b = a;
        a = t1 + t2;
    }
    c->h[0] += a;
    c->h[1] += b;
    c->h[2] += cc;
    c->h[3] += d;
    c->h[4] += e;
    c->h[5] += f;
    c->h[6] += g;
    c->h[7] += h;
}

static void sha_init(Sha256 *c) {
    static const uint32_t h0[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(c->h, h0, sizeof h0);
    c->len = 0;
    c->nbuf = 0;
}

static void sha_update(Sha256 *c, const void *data, size_t n) {
    const uint8_t *p = data;
    c->len += n;
    while (n > 0) {
        size_t k = 64 - c->nbuf < n ? 64 - c->nbuf : n;
        memcpy(c->buf + c->nbuf, p, k);
        c->nbuf += k;
        p += k;
        n -= k;
        if (c->nbuf == 64) {
            sha_block(c, c->buf);
            c->nbuf = 0;
        }
    }
}

static void sha_final_hex(Sha256 *c, char out[STORE_HASH_LEN + 1]) {
    uint64_t bits = c->len * 8;
    uint8_t pad = 0x80, zero = 0, lenbe[8];
    sha_update(c, &pad, 1);
    while (c->nbuf != 56) sha_update(c, &zero, 1);
    for (int i = 0; i < 8; i++) lenbe[i] = (uint8_t)(bits >> (56 - 8 * i));
    sha_update(c, lenbe, 8);
    for (size_t i = 0; i < 8; i++) snprintf(out + 8 * i, 9, "%08x", c->h[i]);
    out[STORE_HASH_LEN] = '\0';
}

/* Hashes one printf-formatted line (longer lines are hashed truncated, which cannot happen
 * for the keys and numbers hashed here). */
static void sha_printf(Sha256 *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sha_printf(Sha256 *c, const char *fmt, ...) {
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    sha_update(c, line, (size_t)k < sizeof line ? (size_t)k : sizeof line - 1);
}

void store_sha256_hex(const void *data, size_t n, char out[STORE_HASH_LEN + 1]) {
    Sha256 c;
    sha_init(&c);
    sha_update(&c, data, n);
    sha_final_hex(&c, out);
}

/* ---- small helpers ---- */

/* A growable NUL-terminated string; oom is set (and further appends ignored) when memory
 * runs out. */
typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} Buf;

static void buf_add(Buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *p = realloc(b->p, cap);
        if (p == NULL) {
            b->oom = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(Buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void buf_printf(Buf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (k < 0) return;
    if ((size_t)k < sizeof tmp) {
        buf_add(b, tmp, (size_t)k);
        return;
    }
    char *big = malloc((size_t)k + 1);
    if (big == NULL) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)k + 1, fmt, ap);
    va_end(ap);
    buf_add(b, big, (size_t)k);
    free(big);
}

static char *join_lines(const char *const *lines) {
    Buf b = {0};
    buf_add(&b, "", 0);
    for (size_t i = 0; lines[i] != NULL; i++) {
        buf_str(&b, lines[i]);
        buf_add(&b, "\n", 1);
    }
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

char *store_schema_sql(void) { return join_lines(store_schema_lines); }
char *store_published_csv(void) { return join_lines(store_published_lines); }

static char *dup_str(const char *s) {
    if (s == NULL) return NULL;
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static void now_iso(char out[32]) {
    struct timespec ts;
    struct tm tm;
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    char date[24];
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out, 32, "%s.%03dZ", date, (int)(ts.tv_nsec / 1000000));
}

/* 32 hex digits from the kernel's random source (time, pid and a counter hashed when it
 * is unavailable). */
static void new_uuid(char out[STORE_UUID_LEN + 1]) {
    uint8_t r[16];
    size_t got = 0;
    while (got < sizeof r) {
        ssize_t k = getrandom(r + got, sizeof r - got, 0);
        if (k <= 0) break;
        got += (size_t)k;
    }
    if (got < sizeof r) {
        static unsigned counter;
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        char hex[STORE_HASH_LEN + 1], seed[96];
        int k = snprintf(seed, sizeof seed, "%lld.%ld.%d.%u", (long long)ts.tv_sec, ts.tv_nsec,
                         (int)getpid(), counter++);
        store_sha256_hex(seed, (size_t)k, hex);
        memcpy(out, hex, STORE_UUID_LEN);
        out[STORE_UUID_LEN] = '\0';
        return;
    }
    for (size_t i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", r[i]);
}

/* Reads a whole small text file (at most max bytes); NULL when unreadable or too large. */
static char *read_text(const char *path, size_t max) {
    FILE *f = fopen(path, "rb");
    if (f == NULL) return NULL;
    Buf b = {0};
    buf_add(&b, "", 0);
    char chunk[4096];
    size_t k;
    while ((k = fread(chunk, 1, sizeof chunk, f)) > 0) {
        buf_add(&b, chunk, k);
        if (b.len > max) b.oom = 1;
        if (b.oom) break;
    }
    int bad = ferror(f) || b.oom;
    fclose(f);
    if (bad) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

static void cpu_model(char *out, size_t n) {
    out[0] = '\0';
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f == NULL) return;
    char line[512];
    static const char *const keys[] = {"model name", "Hardware", "Processor", "cpu model"};
    char found[4][256] = {"", "", "", ""};
    while (fgets(line, sizeof line, f)) {
        for (int i = 0; i < 4; i++) {
            size_t kl = strlen(keys[i]);
            if (found[i][0] == '\0' && strncmp(line, keys[i], kl) == 0 &&
                (line[kl] == '\t' || line[kl] == ' ' || line[kl] == ':')) {
                const char *v = strchr(line, ':');
                if (v == NULL) continue;
                v++;
                while (*v == ' ' || *v == '\t') v++;
                snprintf(found[i], sizeof found[i], "%s", v);
                found[i][strcspn(found[i], "\r\n")] = '\0';
            }
        }
    }
    fclose(f);
    for (int i = 0; i < 4; i++)
        if (found[i][0]) {
            snprintf(out, n, "%s", found[i]);
            return;
        }
}

/* ---- errors ---- */

/* Records a failure of an sqlite3 call (rc) while doing `what`, with sqlite3_errmsg. */
static SimStatus db_fail(Store *s, int rc, const char *what, SimError *err) {
    const char *path = s ? s->path : "(database)";
    const char *msg = (s && s->db) ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc);
    if (s && ((rc & 0xff) == SQLITE_BUSY || (rc & 0xff) == SQLITE_LOCKED)) s->busy_hit = 1;
    switch (rc & 0xff) {
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return sim_errorf(err, SIM_EDB,
                          "%s: database is locked: another process held it longer than the "
                          "%.1f s busy timeout while %s",
                          path, s ? s->busy_ms / 1000.0 : 0.0, what);
    case SQLITE_FULL:
        return sim_errorf(err, SIM_EIO, "%s: database or disk is full while %s", path, what);
    case SQLITE_IOERR:
        return sim_errorf(err, SIM_EIO, "%s: %s while %s (disk full or file size limit?)", path,
                          msg, what);
    case SQLITE_NOMEM:
        return sim_errorf(err, SIM_ENOMEM, "%s: out of memory while %s", path, what);
    case SQLITE_READONLY:
    case SQLITE_CANTOPEN:
    case SQLITE_PERM:
    case SQLITE_AUTH:
        return sim_errorf(err, SIM_EDB,
                          "%s: %s while %s: the database file and its directory must be writable",
                          path, msg, what);
    case SQLITE_NOTADB:
    case SQLITE_CORRUPT:
        return sim_errorf(err, SIM_EDB, "%s: not an ltsim database or damaged: %s", path, msg);
    default:
        return sim_errorf(err, SIM_EDB, "%s: %s while %s", path, msg, what);
    }
}

/* Appends "; nothing was stored" to a failed save's message (when it fits), so the user
 * knows the transaction was rolled back. */
static void note_nothing_stored(SimError *err) {
    static const char note[] = "; nothing was stored";
    if (err == NULL) return;
    size_t n = strlen(err->msg);
    if (err->code != SIM_OK && n + sizeof note <= sizeof err->msg) memcpy(err->msg + n, note, sizeof note);
}

/* Rolls back the open transaction, if any (after a failure: its error is already kept). */
static void rollback(Store *s) {
    if (s->db && !sqlite3_get_autocommit(s->db)) sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static SimStatus exec_sql(Store *s, const char *sql, const char *what, SimError *err) {
    int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK) return db_fail(s, rc, what, err);
    return SIM_OK;
}

static SimStatus prepare(Store *s, const char *sql, sqlite3_stmt **st, SimError *err) {
    *st = NULL;
    int rc = sqlite3_prepare_v2(s->db, sql, -1, st, NULL);
    if (rc != SQLITE_OK) {
        *st = NULL;
        return db_fail(s, rc, "preparing a statement", err);
    }
    return SIM_OK;
}

/* Named-parameter binding with the first failure kept (checked once before stepping). */
typedef struct {
    sqlite3_stmt *st;
    int rc;
    const char *bad; /* the parameter that failed */
} Binder;

static int bind_index(Binder *b, const char *name) {
    int i = sqlite3_bind_parameter_index(b->st, name);
    if (i == 0 && b->rc == SQLITE_OK) {
        b->rc = SQLITE_RANGE;
        b->bad = name;
    }
    return i;
}

static void bind_check(Binder *b, int rc, const char *name) {
    if (rc != SQLITE_OK && b->rc == SQLITE_OK) {
        b->rc = rc;
        b->bad = name;
    }
}

static void bind_i64(Binder *b, const char *name, int64_t v) {
    int i = bind_index(b, name);
    if (i > 0) bind_check(b, sqlite3_bind_int64(b->st, i, v), name);
}

static void bind_u64(Binder *b, const char *name, uint64_t v) {
    if (v > (uint64_t)INT64_MAX) {
        if (b->rc == SQLITE_OK) {
            b->rc = SQLITE_TOOBIG;
            b->bad = name;
        }
        return;
    }
    bind_i64(b, name, (int64_t)v);
}

static void bind_real(Binder *b, const char *name, double v) {
    int i = bind_index(b, name);
    if (i <= 0) return;
    if (isnan(v)) bind_check(b, sqlite3_bind_null(b->st, i), name);
    else bind_check(b, sqlite3_bind_double(b->st, i, v), name);
}

static void bind_text(Binder *b, const char *name, const char *v) {
    int i = bind_index(b, name);
    if (i <= 0) return;
    if (v == NULL) bind_check(b, sqlite3_bind_null(b->st, i), name);
    else bind_check(b, sqlite3_bind_text(b->st, i, v, -1, SQLITE_TRANSIENT), name);
}

static SimStatus bind_status(Store *s, const Binder *b, SimError *err) {
    if (b->rc == SQLITE_OK) return SIM_OK;
    if (b->rc == SQLITE_TOOBIG)
        return sim_errorf(err, SIM_EDB, "%s: value of %s exceeds 2^63 - 1 and cannot be stored",
                          s->path, b->bad + 1);
    if (b->rc == SQLITE_RANGE)
        return sim_errorf(err, SIM_EDB, "%s: internal error: no SQL parameter %s", s->path,
                          b->bad);
    return db_fail(s, b->rc, "binding a value", err);
}

/* Steps a statement that returns no rows, then resets it for the next use. */
static SimStatus step_done(Store *s, sqlite3_stmt *st, const char *what, SimError *err) {
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        SimStatus code = db_fail(s, rc == SQLITE_ROW ? SQLITE_MISUSE : rc, what, err);
        sqlite3_reset(st);
        return code;
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    return SIM_OK;
}

/* Binds (checked) and steps. */
static SimStatus bind_step(Store *s, Binder *b, const char *what, SimError *err) {
    if (bind_status(s, b, err) != SIM_OK) {
        sqlite3_reset(b->st);
        sqlite3_clear_bindings(b->st);
        b->rc = SQLITE_OK;
        return err ? err->code : SIM_EDB;
    }
    return step_done(s, b->st, what, err);
}

/* Calls the test hook after an inserted row; non-zero when it asks to abort. */
static SimStatus row_done(Store *s, int64_t *rows, SimError *err) {
    ++*rows;
    if (s->hook && s->hook(s->hook_ctx, *rows) != 0)
        return sim_errorf(err, SIM_EDB, "%s: aborted by the row hook after %lld rows", s->path,
                          (long long)*rows);
    return SIM_OK;
}

SimStatus store_exec(Store *s, const char *sql, SimError *err) {
    return exec_sql(s, sql, "executing SQL", err);
}

SimStatus store_query_int(Store *s, const char *sql, int64_t *out, SimError *err) {
    sqlite3_stmt *st = NULL;
    if (prepare(s, sql, &st, err) != SIM_OK) return err ? err->code : SIM_EDB;
    SimStatus code = SIM_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *out = sqlite3_column_int64(st, 0);
    else if (rc == SQLITE_DONE)
        code = sim_errorf(err, SIM_EDB, "%s: query returned no row: %s", s->path, sql);
    else code = db_fail(s, rc, "running a query", err);
    sqlite3_finalize(st);
    return code;
}

SimStatus store_query_text(Store *s, const char *sql, char *buf, size_t n, SimError *err) {
    sqlite3_stmt *st = NULL;
    if (prepare(s, sql, &st, err) != SIM_OK) return err ? err->code : SIM_EDB;
    SimStatus code = SIM_OK;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(buf, n, "%s", t ? (const char *)t : "");
    } else if (rc == SQLITE_DONE) {
        code = sim_errorf(err, SIM_EDB, "%s: query returned no row: %s", s->path, sql);
    } else {
        code = db_fail(s, rc, "running a query", err);
    }
    sqlite3_finalize(st);
    return code;
}

void store_set_row_hook(Store *s, StoreRowHook hook, void *ctx) {
    s->hook = hook;
    s->hook_ctx = ctx;
}

void store_set_busy_timeout(Store *s, int ms) {
    s->busy_ms = ms > 0 ? ms : 0;
    sqlite3_busy_timeout(s->db, s->busy_ms);
}

const char *store_path(const Store *s) { return s->path; }

int store_schema_version(Store *s, SimError *err) {
    int64_t v = 0;
    if (store_query_int(s, "PRAGMA user_version", &v, err) != SIM_OK) return -1;
    return (int)v;
}

/* ---- migrations ---- */

/* The SQL of migration step `step` (1-based) of the compiled-in schema, malloc'd; NULL with
 * err set when the step is missing or memory runs out. */
static char *migration_sql(int step, SimError *err) {
    Buf b = {0};
    buf_add(&b, "", 0);
    int cur = 0;
    for (size_t i = 0; store_schema_lines[i] != NULL; i++) {
        const char *l = store_schema_lines[i];
        if (strncmp(l, "-- migration ", 13) == 0) {
            cur = atoi(l + 13);
            continue;
        }
        if (cur == step) {
            buf_str(&b, l);
            buf_add(&b, "\n", 1);
        }
    }
    if (b.oom) {
        free(b.p);
        sim_errorf(err, SIM_ENOMEM, "out of memory reading the schema");
        return NULL;
    }
    if (b.len == 0) {
        free(b.p);
        sim_errorf(err, SIM_EDB, "internal error: the schema has no migration step %d", step);
        return NULL;
    }
    return b.p;
}

static SimStatus migrate(Store *s, int max_version, SimError *err) {
    int v = store_schema_version(s, err);
    if (v < 0) return err->code;
    if (v > STORE_SCHEMA_VERSION)
        return sim_errorf(err, SIM_EDB,
                          "%s: database schema version %d is newer than this ltsim's (%d); use a "
                          "newer ltsim",
                          s->path, v, STORE_SCHEMA_VERSION);
    if (v >= 1) {
        int64_t has_runs = 0;
        if (store_query_int(s, "SELECT count(*) FROM sqlite_schema WHERE name = 'runs'",
                            &has_runs, err) != SIM_OK)
            return err->code;
        if (!has_runs)
            return sim_errorf(err, SIM_EDB,
                              "%s: not an ltsim database (schema version %d but no runs table)",
                              s->path, v);
    }
    int target = max_version < STORE_SCHEMA_VERSION ? max_version : STORE_SCHEMA_VERSION;
    for (int step = v + 1; step <= target; step++) {
        char what[64];
        snprintf(what, sizeof what, "applying schema migration %d", step);
        if (exec_sql(s, "BEGIN IMMEDIATE", what, err) != SIM_OK) return err->code;
        /* another process may have migrated while we waited for the lock */
        int now = store_schema_version(s, err);
        if (now < 0) goto fail;
        if (now >= step) {
            if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
            continue;
        }
        if (now == 0) {
            int64_t ntab = 0;
            if (store_query_int(s, "SELECT count(*) FROM sqlite_schema", &ntab, err) != SIM_OK)
                goto fail;
            if (ntab > 0) {
                sim_errorf(err, SIM_EDB,
                           "%s: not an ltsim database (it has tables but no ltsim schema "
                           "version)",
                           s->path);
                goto fail;
            }
        }
        char *sql = migration_sql(step, err);
        if (sql == NULL) goto fail;
        SimStatus rc = exec_sql(s, sql, what, err);
        free(sql);
        if (rc != SIM_OK) goto fail;
        char pragma[64];
        snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", step);
        if (exec_sql(s, pragma, what, err) != SIM_OK) goto fail;
        if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
    }
    return SIM_OK;
fail:
    rollback(s);
    return err->code;
}

/* ---- opening ---- */

SimStatus store_default_path(char *buf, size_t n, SimError *err) {
    const char *home = getenv("LTSIM_HOME");
    char dir[1024];
    if (home && *home) snprintf(dir, sizeof dir, "%s", home);
    else paths_exe_dir(dir, sizeof dir);
    int k = snprintf(buf, n, "%s/db/ltsim.db", dir);
    if (k < 0 || (size_t)k >= n)
        return sim_errorf(err, SIM_EIO, "the default database path under %s is too long", dir);
    return SIM_OK;
}

/* Checks that the directory of a database file exists and is writable, so that the common
 * failures get a clear message before SQLite reports "unable to open database file". */
static SimStatus check_dir(const char *path, int create_dir, SimError *err) {
    char dir[1024];
    snprintf(dir, sizeof dir, "%s", path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) snprintf(dir, sizeof dir, ".");
    else if (slash == dir) dir[1] = '\0';
    else *slash = '\0';
    struct stat sb;
    if (stat(dir, &sb) != 0) {
        if (errno == ENOENT && create_dir && mkdir(dir, 0755) == 0) return SIM_OK;
        if (errno == ENOENT)
            return sim_errorf(err, SIM_EINVAL, "%s: the directory %s does not exist", path, dir);
        return sim_errorf(err, SIM_EDB, "%s: cannot use the directory %s: %s", path, dir,
                          strerror(errno));
    }
    if (!S_ISDIR(sb.st_mode))
        return sim_errorf(err, SIM_EINVAL, "%s: %s is not a directory", path, dir);
    if (access(dir, W_OK) != 0)
        return sim_errorf(err, SIM_EDB,
                          "%s: the directory %s is not writable (%s): ltsim creates the "
                          "database and its -wal and -shm files there",
                          path, dir, strerror(errno));
    if (access(path, F_OK) == 0 && access(path, W_OK) != 0)
        return sim_errorf(err, SIM_EDB, "%s: the database file is not writable (%s)", path,
                          strerror(errno));
    return SIM_OK;
}

static SimStatus ensure_published(Store *s, SimError *err);

/* The steps of opening after the connection: WAL, synchronous, migrations, the published
 * table. */
static SimStatus open_setup(Store *s, int max_version, SimError *err) {
    char mode[32];
    if (store_query_text(s, "PRAGMA journal_mode = WAL", mode, sizeof mode, err) != SIM_OK)
        return err->code;
    if (strcmp(mode, "wal") != 0 && strcmp(mode, "memory") != 0)
        return sim_errorf(err, SIM_EDB,
                          "%s: cannot switch the database to WAL mode (journal_mode is %s); is "
                          "its directory writable?",
                          s->path, mode);
    if (exec_sql(s, "PRAGMA synchronous = NORMAL", "setting synchronous", err) != SIM_OK)
        return err->code;
    if (migrate(s, max_version, err) != SIM_OK) return err->code;
    return ensure_published(s, err);
}

Store *store_open_at(const char *path, int max_version, SimError *err) {
    Store *s = calloc(1, sizeof *s);
    if (s == NULL) {
        sim_errorf(err, SIM_ENOMEM, "out of memory opening the database");
        return NULL;
    }
    s->busy_ms = STORE_BUSY_TIMEOUT_MS;
    int is_default = path == NULL;
    if (is_default) {
        if (store_default_path(s->path, sizeof s->path, err) != SIM_OK) goto fail;
    } else {
        if (strlen(path) >= sizeof s->path) {
            sim_errorf(err, SIM_EINVAL, "database path too long: %.100s...", path);
            goto fail;
        }
        snprintf(s->path, sizeof s->path, "%s", path);
    }
    int memory = strcmp(s->path, ":memory:") == 0;
    int uri = strncmp(s->path, "file:", 5) == 0;
    if (!memory && !uri && check_dir(s->path, is_default, err) != SIM_OK) goto fail;

    int rc = sqlite3_open_v2(s->path, &s->db,
                             SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL);
    if (rc != SQLITE_OK) {
        db_fail(s, rc, "opening the database", err);
        goto fail;
    }
    sqlite3_extended_result_codes(s->db, 1);
    rc = sqlite3_busy_timeout(s->db, s->busy_ms);
    if (rc != SQLITE_OK) {
        db_fail(s, rc, "setting the busy timeout", err);
        goto fail;
    }
    if (exec_sql(s, "PRAGMA foreign_keys = ON", "enabling foreign keys", err) != SIM_OK)
        goto fail;
    int64_t fk = 0;
    if (store_query_int(s, "PRAGMA foreign_keys", &fk, err) != SIM_OK) goto fail;
    if (fk != 1) {
        sim_errorf(err, SIM_EDB, "%s: this SQLite cannot enforce foreign keys", s->path);
        goto fail;
    }
    /* Switching to WAL and migrating can meet SQLITE_BUSY without SQLite's busy handler
     * being called (processes creating the same new database at once): those steps are
     * retried until the busy timeout has passed. */
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        s->busy_hit = 0;
        if (open_setup(s, max_version, err) == SIM_OK) return s;
        struct timespec t1;
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double waited_ms = (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-6;
        if (!s->busy_hit || waited_ms >= s->busy_ms) goto fail;
        rollback(s);
        sim_error_init(err);
        struct timespec ts = {0, 20000000L};
        nanosleep(&ts, NULL);
    }
fail:
    store_close(s);
    return NULL;
}

Store *store_open(const char *path, SimError *err) {
    return store_open_at(path, STORE_SCHEMA_VERSION, err);
}

void store_close(Store *s) {
    if (s == NULL) return;
    if (s->db) {
        rollback(s);
        sqlite3_close_v2(s->db);
    }
    free(s);
}

/* ---- published results ---- */

enum {
    PUB_TASK, PUB_MODEL, PUB_CONFIG, PUB_PARAMS, PUB_MULT_ADDS, PUB_METRIC, PUB_VALUE, PUB_UNIT,
    PUB_SOURCE, PUB_TAG, PUB_UNCONFIRMED, PUB_NOTE, PUB_NCOLS
};
static const char *const pub_cols[PUB_NCOLS] = {
    "task", "model", "config", "params", "mult_adds", "metric", "value", "unit",
    "source", "tag", "unconfirmed", "note"};

#define CSV_MAX_FIELDS 32
#define CSV_MAX_RECORD 8192

typedef struct {
    const char *p, *end;
    int line;       /* line of the next character */
    int rec_line;   /* line where the last record started */
    char buf[CSV_MAX_RECORD];
    char *field[CSV_MAX_FIELDS];
    int nfield;
} CsvReader;

/* Reads the next record (skipping empty lines and lines starting with '#'): 1 on a
 * record, 0 at the end, -1 on a malformed one (why in msg). */
static int csv_next(CsvReader *r, char *msg, size_t msglen) {
    for (;;) {
        if (r->p >= r->end) return 0;
        if (*r->p == '\n' || *r->p == '\r') {
            if (*r->p == '\n') r->line++;
            r->p++;
            continue;
        }
        if (*r->p == '#') {
            while (r->p < r->end && *r->p != '\n') r->p++;
            continue;
        }
        break;
    }
    r->rec_line = r->line;
    size_t k = 0;
    r->nfield = 0;
    r->field[r->nfield++] = r->buf;
    int quoted = 0, was_quoted = 0;
    while (r->p < r->end) {
        char c = *r->p++;
        if (quoted) {
            if (c == '"') {
                if (r->p < r->end && *r->p == '"') {
                    r->p++;
                } else {
                    quoted = 0;
                    continue;
                }
            }
            if (c == '\n') r->line++;
        } else if (c == '"') {
            if (was_quoted || r->buf + k != r->field[r->nfield - 1]) {
                snprintf(msg, msglen, "a quote inside an unquoted field");
                return -1;
            }
            quoted = was_quoted = 1;
            continue;
        } else if (c == ',') {
            if (k + 1 >= sizeof r->buf || r->nfield == CSV_MAX_FIELDS) {
                snprintf(msg, msglen, "too many fields or too long a line");
                return -1;
            }
            r->buf[k++] = '\0';
            r->field[r->nfield++] = r->buf + k;
            was_quoted = 0;
            continue;
        } else if (c == '\r') {
            continue;
        } else if (c == '\n') {
            r->line++;
            break;
        } else if (was_quoted) {
            snprintf(msg, msglen, "text after a closing quote");
            return -1;
        }
        if (k + 1 >= sizeof r->buf) {
            snprintf(msg, msglen, "line longer than %d bytes", CSV_MAX_RECORD);
            return -1;
        }
        r->buf[k++] = c;
    }
    if (quoted) {
        snprintf(msg, msglen, "unterminated quoted field");
        return -1;
    }
    r->buf[k] = '\0';
    return 1;
}

static int parse_count(const char *s, int64_t *out) {
    if (*s == '\0') return 0; /* empty: NULL */
    char *end = NULL;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno != 0 || *end != '\0' || v < 0 || !(*s >= '0' && *s <= '9')) return -1;
    *out = v;
    return 1;
}

static SimStatus published_insert(Store *s, const char *csv, size_t len, const char *name,
                                  SimError *err) {
    CsvReader *r = calloc(1, sizeof *r);
    sqlite3_stmt *st = NULL;
    SimStatus code = SIM_OK;
    if (r == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", name);
    r->p = csv;
    r->end = csv + len;
    r->line = 1;
    char msg[160];
    int col[PUB_NCOLS];
    int rc = csv_next(r, msg, sizeof msg);
    if (rc <= 0) {
        code = sim_errorf(err, SIM_EINVAL, "%s:%d: %s", name, r->line,
                          rc < 0 ? msg : "no header line");
        goto out;
    }
    int nhead = r->nfield;
    for (int c = 0; c < PUB_NCOLS; c++) col[c] = -1;
    for (int f = 0; f < nhead; f++) {
        int c = 0;
        while (c < PUB_NCOLS && strcmp(pub_cols[c], r->field[f]) != 0) c++;
        if (c == PUB_NCOLS || col[c] >= 0) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d: %s column '%s'", name, r->rec_line,
                              c == PUB_NCOLS ? "unknown" : "duplicate", r->field[f]);
            goto out;
        }
        col[c] = f;
    }
    for (int c = 0; c < PUB_NCOLS; c++)
        if (col[c] < 0) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d: missing column '%s'", name, r->rec_line,
                              pub_cols[c]);
            goto out;
        }
    if (prepare(s,
                "INSERT INTO published (task, model, config, params, mult_adds, metric, value, "
                "unit, source, tag, unconfirmed, note, line) VALUES (:task, :model, :config, "
                ":params, :mult_adds, :metric, :value, :unit, :source, :tag, :unconfirmed, "
                ":note, :line)",
                &st, err) != SIM_OK) {
        code = err->code;
        goto out;
    }
    while ((rc = csv_next(r, msg, sizeof msg)) > 0) {
        const int ln = r->rec_line;
        if (r->nfield != nhead) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d: %d fields, the header has %d", name, ln,
                              r->nfield, nhead);
            goto out;
        }
        const char *v[PUB_NCOLS];
        for (int c = 0; c < PUB_NCOLS; c++) v[c] = r->field[col[c]];
        static const int required[] = {PUB_TASK, PUB_MODEL, PUB_METRIC, PUB_VALUE, PUB_SOURCE,
                                       PUB_TAG, PUB_UNCONFIRMED};
        for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
            if (v[required[i]][0] == '\0') {
                code = sim_errorf(err, SIM_EINVAL, "%s:%d: %s: empty", name, ln,
                                  pub_cols[required[i]]);
                goto out;
            }
        int64_t params = 0, macs = 0;
        int hp = parse_count(v[PUB_PARAMS], &params), hm = parse_count(v[PUB_MULT_ADDS], &macs);
        if (hp < 0 || hm < 0) {
            int c = hp < 0 ? PUB_PARAMS : PUB_MULT_ADDS;
            code = sim_errorf(err, SIM_EINVAL, "%s:%d: %s: expected a whole count, got '%s'",
                              name, ln, pub_cols[c], v[c]);
            goto out;
        }
        char *end = NULL;
        double value = strtod(v[PUB_VALUE], &end);
        if (*end != '\0' || !isfinite(value)) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d: value: expected a number, got '%s'", name,
                              ln, v[PUB_VALUE]);
            goto out;
        }
        const char *tag = v[PUB_TAG];
        if (strcmp(tag, "V") != 0 && strcmp(tag, "D") != 0 && strcmp(tag, "R") != 0) {
            code = sim_errorf(err, SIM_EINVAL, "%s:%d: tag: expected V, D or R, got '%s'", name,
                              ln, tag);
            goto out;
        }
        const char *unc = v[PUB_UNCONFIRMED];
        int want = strcmp(tag, "R") == 0;
        if (strcmp(unc, want ? "1" : "0") != 0) {
            code = sim_errorf(err, SIM_EINVAL,
                              "%s:%d: unconfirmed: must be %d for tag %s (R values only as "
                              "unconfirmed), got '%s'",
                              name, ln, want, tag, unc);
            goto out;
        }
        Binder b = {st, SQLITE_OK, NULL};
        bind_text(&b, ":task", v[PUB_TASK]);
        bind_text(&b, ":model", v[PUB_MODEL]);
        bind_text(&b, ":config", v[PUB_CONFIG]);
        if (hp) bind_i64(&b, ":params", params);
        if (hm) bind_i64(&b, ":mult_adds", macs);
        bind_text(&b, ":metric", v[PUB_METRIC]);
        bind_real(&b, ":value", value);
        bind_text(&b, ":unit", v[PUB_UNIT]);
        bind_text(&b, ":source", v[PUB_SOURCE]);
        bind_text(&b, ":tag", tag);
        bind_i64(&b, ":unconfirmed", want);
        bind_text(&b, ":note", v[PUB_NOTE]);
        bind_i64(&b, ":line", ln);
        if (bind_step(s, &b, "loading published results", err) != SIM_OK) {
            code = err->code;
            goto out;
        }
    }
    if (rc < 0) code = sim_errorf(err, SIM_EINVAL, "%s:%d: %s", name, r->rec_line, msg);
out:
    sqlite3_finalize(st);
    free(r);
    return code;
}

SimStatus store_published_load(Store *s, const char *csv, size_t len, const char *name,
                               SimError *err) {
    char hash[STORE_HASH_LEN + 1], have[STORE_HASH_LEN + 1] = "";
    store_sha256_hex(csv, len, hash);
    const char *what = "loading published results";
    if (exec_sql(s, "BEGIN IMMEDIATE", what, err) != SIM_OK) return err->code;
    sqlite3_stmt *st = NULL;
    if (prepare(s, "SELECT value FROM meta WHERE key = 'published_sha256'", &st, err) != SIM_OK)
        goto fail;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        const unsigned char *t = sqlite3_column_text(st, 0);
        snprintf(have, sizeof have, "%s", t ? (const char *)t : "");
    } else if (rc != SQLITE_DONE) {
        db_fail(s, rc, what, err);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (strcmp(have, hash) == 0) { /* loaded already (by another process meanwhile) */
        if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
        return SIM_OK;
    }
    if (exec_sql(s, "DELETE FROM published", what, err) != SIM_OK) goto fail;
    if (published_insert(s, csv, len, name, err) != SIM_OK) goto fail;
    if (prepare(s,
                "INSERT INTO meta (key, value) VALUES ('published_sha256', :h) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                &st, err) != SIM_OK)
        goto fail;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":h", hash);
    if (bind_step(s, &b, what, err) != SIM_OK) goto fail;
    sqlite3_finalize(st);
    st = NULL;
    if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
    return SIM_OK;
fail:
    sqlite3_finalize(st);
    rollback(s);
    return err->code;
}

/* Loads the compiled-in published results when the schema has them and they changed. */
static SimStatus ensure_published(Store *s, SimError *err) {
    int64_t has = 0;
    if (store_query_int(s,
                        "SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND "
                        "name = 'published'",
                        &has, err) != SIM_OK)
        return err->code;
    if (!has) return SIM_OK;
    char *csv = store_published_csv();
    if (csv == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory loading published results");
    char hash[STORE_HASH_LEN + 1], have[STORE_HASH_LEN + 1] = "";
    store_sha256_hex(csv, strlen(csv), hash);
    /* a read first: the common case (already loaded) takes no write lock */
    sqlite3_stmt *st = NULL;
    SimStatus code = prepare(s, "SELECT value FROM meta WHERE key = 'published_sha256'", &st, err);
    if (code == SIM_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *t = sqlite3_column_text(st, 0);
            snprintf(have, sizeof have, "%s", t ? (const char *)t : "");
        } else if (rc != SQLITE_DONE) {
            code = db_fail(s, rc, "reading published results", err);
        }
    }
    sqlite3_finalize(st);
    if (code == SIM_OK && strcmp(have, hash) != 0)
        code = store_published_load(s, csv, strlen(csv), "db/published.csv", err);
    free(csv);
    return code;
}

/* ---- the resolved configuration ---- */

#define CFG_KEYS_MAX 48

typedef struct {
    char key[64];
    char value[1024];
} CfgKey;

static const char *yes(int v) { return v ? "true" : "false"; }

static void list_i64(char *out, size_t n, const int64_t *v, int count) {
    int same = 1;
    for (int i = 1; i < count; i++) same &= v[i] == v[0];
    if (count <= 0) {
        snprintf(out, n, "[]");
        return;
    }
    if (same) {
        snprintf(out, n, "%lld", (long long)v[0]);
        return;
    }
    size_t k = (size_t)snprintf(out, n, "[");
    for (int i = 0; i < count && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%lld", i ? ", " : "", (long long)v[i]);
    if (k < n) snprintf(out + k, n - k, "]");
}

static void list_int(char *out, size_t n, const int *v, int count, int force_list) {
    int64_t w[CFG_MAX_LAYERS];
    for (int i = 0; i < count && i < CFG_MAX_LAYERS; i++) w[i] = v[i];
    if (!force_list || count <= 0) {
        list_i64(out, n, w, count);
        return;
    }
    size_t k = (size_t)snprintf(out, n, "[");
    for (int i = 0; i < count && k < n; i++)
        k += (size_t)snprintf(out + k, n - k, "%s%d", i ? ", " : "", v[i]);
    if (k < n) snprintf(out + k, n - k, "]");
}

/* fairseq-named keys of a resolved config, in a fixed order; returns how many. */
static int cfg_keys(const ModelConfig *c, CfgKey *k) {
    int n = 0;
#define KEY(name, ...)                                                                        \
    do {                                                                                      \
        if (n < CFG_KEYS_MAX) {                                                               \
            snprintf(k[n].key, sizeof k[n].key, "%s", name);                                  \
            snprintf(k[n].value, sizeof k[n].value, __VA_ARGS__);                             \
            n++;                                                                              \
        }                                                                                     \
    } while (0)
    KEY("arch", "%s", c->arch);
    KEY("family", "%s", config_family_name(c->family));
    KEY("src-vocab-size", "%lld", (long long)c->src_vocab);
    KEY("tgt-vocab-size", "%lld", (long long)c->tgt_vocab);
    KEY("share-all-embeddings", "%s", yes(c->share_all_embeddings));
    KEY("share-decoder-input-output-embed", "%s", yes(c->share_decoder_input_output_embed));
    KEY("activation-fn", "%s", c->activation == ACT_GELU ? "gelu" : "relu");
    KEY("no-token-positional-embeddings", "%s", yes(c->no_token_positional_embeddings));
    if (c->enc.nbranches > 0 || c->dec.nbranches > 0) {
        KEY("conv-linear", "%s", yes(c->conv_linear));
        KEY("weight-softmax", "%s", yes(c->weight_softmax));
    }
    for (int side = 0; side < 2; side++) {
        const StackConfig *sc = side ? &c->dec : &c->enc;
        const char *p = side ? "decoder" : "encoder";
        char name[64];
        snprintf(name, sizeof name, "%s-layers", p);
        KEY(name, "%d", sc->layers);
        if (sc->layers <= 0) continue;
        snprintf(name, sizeof name, "%s-embed-dim", p);
        KEY(name, "%lld", (long long)sc->embed_dim);
        if (n < CFG_KEYS_MAX) {
            snprintf(k[n].key, sizeof k[n].key, "%s-ffn-embed-dim", p);
            list_i64(k[n].value, sizeof k[n].value, sc->ffn_dim, sc->layers);
            n++;
        }
        if (n < CFG_KEYS_MAX) {
            snprintf(k[n].key, sizeof k[n].key, "%s-attention-heads", p);
            list_int(k[n].value, sizeof k[n].value, sc->heads, sc->layers, 0);
            n++;
        }
        snprintf(name, sizeof name, "%s-normalize-before", p);
        KEY(name, "%s", yes(sc->normalize_before));
        if (sc->nbranches > 0) {
            char br[512];
            size_t o = (size_t)snprintf(br, sizeof br, "[");
            for (int b = 0; b < sc->nbranches && o < sizeof br; b++) {
                const BranchSpec *bs = &sc->branches[b];
                char kern[16];
                if (bs->kernel == 0) snprintf(kern, sizeof kern, "default");
                else snprintf(kern, sizeof kern, "%d", bs->kernel);
                o += (size_t)snprintf(br + o, sizeof br - o, "%s%s:%s:%lld:%d", b ? ", " : "",
                                      config_branch_type_name(bs->type), kern,
                                      (long long)bs->dim, bs->heads);
            }
            if (o < sizeof br) snprintf(br + o, sizeof br - o, "]");
            snprintf(name, sizeof name, "%s-branch-type", p);
            KEY(name, "%s", br);
            if (n < CFG_KEYS_MAX) {
                snprintf(k[n].key, sizeof k[n].key, "%s-kernel-size-list", p);
                list_int(k[n].value, sizeof k[n].value, sc->kernel_size, sc->layers, 1);
                n++;
            }
            snprintf(name, sizeof name, "%s-glu", p);
            KEY(name, "%s", yes(sc->glu));
        }
    }
#undef KEY
    return n;
}

static void hash_ids(Sha256 *c, const char *name, const int64_t *ids, int64_t n) {
    sha_printf(c, "%s", name);
    if (ids == NULL) {
        sha_printf(c, " -\n");
        return;
    }
    for (int64_t i = 0; i < n; i++) sha_printf(c, " %lld", (long long)ids[i]);
    sha_printf(c, "\n");
}

static const char *run_mode_name(const RunSpec *spec) {
    return spec->mode == MODE_GENERATE ? "generate" : "forward";
}

void store_content_hash(const ModelConfig *cfg, const RunSpec *spec, const char *options_extra,
                        char out[STORE_HASH_LEN + 1]) {
    Sha256 c;
    sha_init(&c);
    int exec = !spec->count_only;
    sha_printf(&c, "ltsim %s\n", LTSIM_VERSION);
    sha_printf(&c, "count_only %d\nmode %s\n", spec->count_only, run_mode_name(spec));
    if (spec->mode == MODE_GENERATE)
        sha_printf(&c, "beam %d\nmax_steps %lld\nearly_stop %d\n", spec->beam > 0 ? spec->beam : 1,
                   (long long)spec->max_steps, !spec->no_early_stop);
    sha_printf(&c, "src_len %lld\ntgt_len %lld\n",
               (long long)(spec->src ? spec->nsrc : spec->src_len),
               (long long)(spec->tgt ? spec->ntgt : spec->tgt_len));
    hash_ids(&c, "src", spec->src, spec->nsrc);
    hash_ids(&c, "tgt", spec->tgt, spec->ntgt);
    sha_printf(&c, "seed %llu\n", (unsigned long long)spec->seed);
    sha_printf(&c, "attn_macs %s\nconv_macs %s\n", cost_attn_macs_name(spec->conv.attn_macs),
               cost_conv_macs_name(spec->conv.conv_macs));
    sha_printf(&c, "weights %s\nextra %s\n", spec->weights ? spec->weights : "-",
               options_extra ? options_extra : "-");
    /* timing options only matter when the run is executed */
    sha_printf(&c, "threads %d\nwarmup %d\nrepeats %d\n",
               exec ? (spec->threads > 0 ? spec->threads : 1) : 0, exec ? spec->warmup : 0,
               exec ? spec->repeats : 0);
    CfgKey keys[CFG_KEYS_MAX];
    int nk = cfg_keys(cfg, keys);
    for (int i = 0; i < nk; i++) sha_printf(&c, "%s=%s\n", keys[i].key, keys[i].value);
    sha_final_hex(&c, out);
}

/* ---- storing a run ---- */

/* Columns of runs written by store_save_run (id is the rowid). */
static const char *const run_cols[] = {
    "uuid", "content_hash", "created_at", "command", "mode", "count_only", "model_path",
    "model_name", "arch", "family", "description", "config_text", "src_vocab", "tgt_vocab",
    "shared_embeddings", "src_len", "tgt_len", "batch", "seed", "threads", "warmup", "repeats",
    "attn_macs", "conv_macs", "src_tokens", "tgt_tokens", "weights_path", "beam", "max_steps",
    "early_stop", "options_extra",
    "note", "ltsim_version", "git_hash", "hostname", "cpu_model", "blas", "openblas_coretype",
    "openblas_l2_size", "params", "params_output_projection", "params_total", "macs",
    "macs_output_projection", "other_flops", "flops", "bytes_weights", "bytes_activations",
    "planned_bytes", "peak_bytes", "macs_attention", "macs_convolution", "macs_ffn",
    "macs_norm_other", "macs_embedding_output", "once_macs", "once_bytes_weights", NULL};

/* "INSERT INTO table (a, b) VALUES (:a, :b)" for a NULL-terminated column list; malloc'd. */
static char *insert_sql(const char *table, const char *const *cols) {
    Buf b = {0};
    buf_printf(&b, "INSERT INTO %s (", table);
    for (size_t i = 0; cols[i]; i++) buf_printf(&b, "%s%s", i ? ", " : "", cols[i]);
    buf_str(&b, ") VALUES (");
    for (size_t i = 0; cols[i]; i++) buf_printf(&b, "%s:%s", i ? ", " : "", cols[i]);
    buf_str(&b, ")");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* "a b c" for token ids (malloc'd), NULL when ids is NULL or memory runs out. */
static char *ids_text(const int64_t *ids, int64_t n) {
    if (ids == NULL) return NULL;
    Buf b = {0};
    buf_add(&b, "", 0);
    for (int64_t i = 0; i < n; i++) buf_printf(&b, "%s%lld", i ? " " : "", (long long)ids[i]);
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* "[1.25, 1.5]" (malloc'd), NULL when v is NULL or memory runs out. */
static char *ms_json(const double *v, int n) {
    if (v == NULL || n <= 0) return NULL;
    Buf b = {0};
    buf_str(&b, "[");
    for (int i = 0; i < n; i++) buf_printf(&b, "%s%.6f", i ? ", " : "", isfinite(v[i]) ? v[i] : 0.0);
    buf_str(&b, "]");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

/* models/lite-wmt-200.yml -> lite-wmt-200 */
static void model_name_of(const char *path, char *out, size_t n) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base);
    if (len >= n) len = n - 1; /* a name longer than the buffer is kept truncated */
    memcpy(out, base, len);
    out[len] = '\0';
    if (len > 4 && strcmp(out + len - 4, ".yml") == 0) out[len - 4] = '\0';
    else if (len > 5 && strcmp(out + len - 5, ".yaml") == 0) out[len - 5] = '\0';
}

static const char *nonempty(const char *s) { return s && *s ? s : NULL; }

static SimStatus insert_run_row(Store *s, const ReportInput *in, const StoreExtra *x,
                                int64_t *run_id, SimError *err) {
    const ModelConfig *cfg = in->cfg;
    const RunSpec *spec = in->spec;
    const RunResult *res = in->res;
    ReportTotals t;
    report_totals(in, &t);
    char uuid[STORE_UUID_LEN + 1], hash[STORE_HASH_LEN + 1], created[32], name[256];
    char host[256] = "", cpu[256] = "";
    new_uuid(uuid);
    store_content_hash(cfg, spec, x->options_extra, hash);
    now_iso(created);
    const char *path = in->model_path ? in->model_path : cfg->path;
    model_name_of(path, name, sizeof name);
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    cpu_model(cpu, sizeof cpu);
    char *config_text = x->config_text ? NULL : read_text(path, 1 << 20);
    char *src = ids_text(spec->src, spec->nsrc), *tgt = ids_text(spec->tgt, spec->ntgt);
    char *sql = insert_sql("runs", run_cols);
    sqlite3_stmt *st = NULL;
    SimStatus code = SIM_OK;
    if (sql == NULL || (spec->src && src == NULL) || (spec->tgt && tgt == NULL)) {
        code = sim_errorf(err, SIM_ENOMEM, "out of memory storing the run");
        goto out;
    }
    if (prepare(s, sql, &st, err) != SIM_OK) {
        code = err->code;
        goto out;
    }
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":uuid", uuid);
    bind_text(&b, ":content_hash", hash);
    bind_text(&b, ":created_at", created);
    bind_text(&b, ":command", in->command ? in->command : (spec->count_only ? "count" : "run"));
    bind_text(&b, ":mode", run_mode_name(spec));
    bind_i64(&b, ":count_only", spec->count_only ? 1 : 0);
    bind_text(&b, ":model_path", path);
    bind_text(&b, ":model_name", name);
    bind_text(&b, ":arch", cfg->arch);
    bind_text(&b, ":family", config_family_name(cfg->family));
    bind_text(&b, ":description", nonempty(cfg->description));
    bind_text(&b, ":config_text", x->config_text ? x->config_text : config_text);
    bind_i64(&b, ":src_vocab", cfg->src_vocab);
    bind_i64(&b, ":tgt_vocab", cfg->tgt_vocab);
    bind_i64(&b, ":shared_embeddings", cfg->share_all_embeddings ? 1 : 0);
    bind_i64(&b, ":src_len", res->S);
    bind_i64(&b, ":tgt_len", res->T);
    bind_i64(&b, ":batch", 1);
    bind_u64(&b, ":seed", spec->seed);
    bind_i64(&b, ":threads", spec->threads > 0 ? spec->threads : 1);
    bind_i64(&b, ":warmup", spec->count_only ? 0 : spec->warmup);
    bind_i64(&b, ":repeats", res->repeats);
    bind_text(&b, ":attn_macs", cost_attn_macs_name(spec->conv.attn_macs));
    bind_text(&b, ":conv_macs", cost_conv_macs_name(spec->conv.conv_macs));
    bind_text(&b, ":src_tokens", src);
    bind_text(&b, ":tgt_tokens", tgt);
    bind_text(&b, ":weights_path", spec->weights);
    if (spec->mode == MODE_GENERATE) {
        bind_i64(&b, ":beam", spec->beam > 0 ? spec->beam : 1);
        bind_i64(&b, ":max_steps", res->max_steps);
        bind_i64(&b, ":early_stop", spec->no_early_stop ? 0 : 1);
    }
    bind_text(&b, ":options_extra", nonempty(x->options_extra));
    bind_text(&b, ":note", nonempty(x->note));
    bind_text(&b, ":ltsim_version", LTSIM_VERSION);
    bind_text(&b, ":git_hash", nonempty(x->git_hash));
    bind_text(&b, ":hostname", nonempty(host));
    bind_text(&b, ":cpu_model", nonempty(cpu));
    bind_text(&b, ":blas", ops_blas_name());
    bind_text(&b, ":openblas_coretype", nonempty(getenv("OPENBLAS_CORETYPE")));
    bind_text(&b, ":openblas_l2_size", nonempty(getenv("OPENBLAS_L2_SIZE")));
    bind_u64(&b, ":params", t.params);
    bind_u64(&b, ":params_output_projection", t.params_output_projection);
    bind_u64(&b, ":params_total", t.params_total);
    bind_u64(&b, ":macs", t.macs);
    bind_u64(&b, ":macs_output_projection", t.macs_output_projection);
    bind_u64(&b, ":other_flops", t.other_flops);
    bind_u64(&b, ":flops", t.flops);
    bind_u64(&b, ":bytes_weights", t.bytes_weights);
    bind_u64(&b, ":bytes_activations", t.bytes_activations);
    bind_u64(&b, ":planned_bytes", res->planned_bytes);
    if (res->repeats > 0) bind_u64(&b, ":peak_bytes", res->peak_bytes);
    bind_u64(&b, ":macs_attention", t.class_macs[CLASS_ATTENTION]);
    bind_u64(&b, ":macs_convolution", t.class_macs[CLASS_CONVOLUTION]);
    bind_u64(&b, ":macs_ffn", t.class_macs[CLASS_FFN]);
    bind_u64(&b, ":macs_norm_other", t.class_macs[CLASS_NORM_OTHER]);
    bind_u64(&b, ":macs_embedding_output", t.class_macs[CLASS_EMBED_OUTPUT]);
    if (res->once != NULL) {
        OpCost once = cost_ledger_total(res->once, NULL);
        bind_u64(&b, ":once_macs", once.macs);
        bind_u64(&b, ":once_bytes_weights", once.weight_bytes);
    }
    if (bind_step(s, &b, "storing the run", err) != SIM_OK) {
        code = err->code;
        goto out;
    }
    *run_id = sqlite3_last_insert_rowid(s->db);
out:
    sqlite3_finalize(st);
    free(sql);
    free(config_text);
    free(src);
    free(tgt);
    return code;
}

static SimStatus insert_config_rows(Store *s, const ModelConfig *cfg, int64_t run_id,
                                    int64_t *rows, SimError *err) {
    CfgKey *keys = malloc(CFG_KEYS_MAX * sizeof *keys);
    if (keys == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory storing the run");
    int nk = cfg_keys(cfg, keys);
    sqlite3_stmt *st = NULL;
    SimStatus code = prepare(s,
                             "INSERT INTO run_config (run_id, seq, key, value) VALUES (:run_id, "
                             ":seq, :key, :value)",
                             &st, err);
    for (int i = 0; code == SIM_OK && i < nk; i++) {
        Binder b = {st, SQLITE_OK, NULL};
        bind_i64(&b, ":run_id", run_id);
        bind_i64(&b, ":seq", i);
        bind_text(&b, ":key", keys[i].key);
        bind_text(&b, ":value", keys[i].value);
        code = bind_step(s, &b, "storing the run's config", err);
        if (code == SIM_OK) code = row_done(s, rows, err);
    }
    sqlite3_finalize(st);
    free(keys);
    return code;
}

static SimStatus insert_ledger_rows(Store *s, const CostLedger *l, int64_t run_id,
                                    int64_t *rows, SimError *err) {
    sqlite3_stmt *st = NULL;
    SimStatus code = prepare(
        s,
        "INSERT INTO ledger (run_id, seq, scope, op, class, macs, other_flops, weight_bytes, "
        "act_bytes_read, bytes_written, params, calls, time_ns, dim0, dim1, dim2) VALUES "
        "(:run_id, :seq, :scope, :op, :class, :macs, :other_flops, :weight_bytes, "
        ":act_bytes_read, :bytes_written, :params, :calls, :time_ns, :dim0, :dim1, :dim2)",
        &st, err);
    size_t n = cost_ledger_count(l);
    for (size_t i = 0; code == SIM_OK && i < n; i++) {
        const LedgerEntry *e = cost_ledger_get(l, i);
        Binder b = {st, SQLITE_OK, NULL};
        bind_i64(&b, ":run_id", run_id);
        bind_i64(&b, ":seq", (int64_t)i);
        bind_text(&b, ":scope", e->scope);
        bind_text(&b, ":op", op_name((OpKind)e->op));
        bind_text(&b, ":class", cost_class_name(e->cls));
        bind_u64(&b, ":macs", e->cost.macs);
        bind_u64(&b, ":other_flops", e->cost.other_flops);
        bind_u64(&b, ":weight_bytes", e->cost.weight_bytes);
        bind_u64(&b, ":act_bytes_read", e->cost.act_bytes_read);
        bind_u64(&b, ":bytes_written", e->cost.bytes_written);
        bind_u64(&b, ":params", e->cost.params);
        bind_u64(&b, ":calls", e->calls);
        bind_u64(&b, ":time_ns", e->time_ns);
        bind_i64(&b, ":dim0", e->dims[0]);
        bind_i64(&b, ":dim1", e->dims[1]);
        bind_i64(&b, ":dim2", e->dims[2]);
        code = bind_step(s, &b, "storing the ledger", err);
        if (code == SIM_OK) code = row_done(s, rows, err);
    }
    sqlite3_finalize(st);
    return code;
}

static SimStatus insert_measurement(Store *s, const ReportInput *in, int64_t run_id,
                                    int64_t *rows, SimError *err) {
    const RunResult *res = in->res;
    char *passes = ms_json(res->ms, res->repeats), *gemm = ms_json(res->gemm_ms, res->repeats);
    sqlite3_stmt *st = NULL;
    SimStatus code = SIM_OK;
    if (passes == NULL && res->ms != NULL) {
        code = sim_errorf(err, SIM_ENOMEM, "out of memory storing the measurements");
        goto out;
    }
    if (prepare(s,
                "INSERT INTO measurements (run_id, median_ms, min_ms, max_ms, repeats, warmup, "
                "gemm_median_ms, forward_over_gemm, passes_ms, passes_gemm_ms) VALUES (:run_id, "
                ":median_ms, :min_ms, :max_ms, :repeats, :warmup, :gemm_median_ms, "
                ":forward_over_gemm, :passes_ms, :passes_gemm_ms)",
                &st, err) != SIM_OK) {
        code = err->code;
        goto out;
    }
    Binder b = {st, SQLITE_OK, NULL};
    bind_i64(&b, ":run_id", run_id);
    bind_real(&b, ":median_ms", res->median_ms);
    bind_real(&b, ":min_ms", res->min_ms);
    bind_real(&b, ":max_ms", res->max_ms);
    bind_i64(&b, ":repeats", res->repeats);
    bind_i64(&b, ":warmup", in->spec->warmup);
    bind_real(&b, ":gemm_median_ms", res->gemm_median_ms);
    bind_real(&b, ":forward_over_gemm", res->ratio_median > 0 ? res->ratio_median : NAN);
    bind_text(&b, ":passes_ms", passes ? passes : "[]");
    bind_text(&b, ":passes_gemm_ms", gemm);
    code = bind_step(s, &b, "storing the measurements", err);
    if (code == SIM_OK) code = row_done(s, rows, err);
out:
    sqlite3_finalize(st);
    free(passes);
    free(gemm);
    return code;
}

static SimStatus insert_predictions(Store *s, const StoreExtra *x, int64_t run_id,
                                    int64_t *rows, SimError *err) {
    if (x->npredictions == 0) return SIM_OK;
    if (x->predictions == NULL)
        return sim_errorf(err, SIM_EINVAL, "%s: %zu predictions given without their array",
                          s->path, x->npredictions);
    sqlite3_stmt *st = NULL;
    SimStatus code = prepare(s,
                             "INSERT INTO predictions (run_id, hw, latency_ms, energy_mj, bound, "
                             "top_ops, profile_text) VALUES (:run_id, :hw, :latency_ms, "
                             ":energy_mj, :bound, :top_ops, :profile_text)",
                             &st, err);
    for (size_t i = 0; code == SIM_OK && i < x->npredictions; i++) {
        const StorePrediction *p = &x->predictions[i];
        Binder b = {st, SQLITE_OK, NULL};
        bind_i64(&b, ":run_id", run_id);
        bind_text(&b, ":hw", p->hw);
        bind_real(&b, ":latency_ms", p->latency_ms);
        bind_real(&b, ":energy_mj", p->energy_mj);
        bind_text(&b, ":bound", p->bound);
        bind_text(&b, ":top_ops", p->top_ops_json ? p->top_ops_json : "[]");
        bind_text(&b, ":profile_text", p->profile_text);
        code = bind_step(s, &b, "storing a prediction", err);
        if (code == SIM_OK) code = row_done(s, rows, err);
    }
    sqlite3_finalize(st);
    return code;
}

/* Generate mode: one row per decoder step of the reported run. */
static SimStatus insert_steps(Store *s, const RunResult *res, int64_t run_id, int64_t *rows,
                              SimError *err) {
    if (res->steps == NULL || res->nsteps <= 0) return SIM_OK;
    if (res->step_info == NULL)
        return sim_errorf(err, SIM_EINVAL, "%s: generate run without its step figures", s->path);
    sqlite3_stmt *st = NULL;
    SimStatus code = prepare(s,
                             "INSERT INTO steps (run_id, step, macs, macs_output_projection, "
                             "bytes_weights, bytes_cache, host_ms) VALUES (:run_id, :step, :macs, "
                             ":macs_output_projection, :bytes_weights, :bytes_cache, :host_ms)",
                             &st, err);
    for (int64_t t = 0; code == SIM_OK && t < res->nsteps; t++) {
        StepFigures sf;
        step_figures(res, t, &sf);
        Binder b = {st, SQLITE_OK, NULL};
        bind_i64(&b, ":run_id", run_id);
        bind_i64(&b, ":step", t + 1);
        bind_u64(&b, ":macs", sf.macs);
        bind_u64(&b, ":macs_output_projection", sf.macs_out);
        bind_u64(&b, ":bytes_weights", sf.weight_bytes);
        bind_u64(&b, ":bytes_cache", res->step_info[t].cache_bytes);
        bind_real(&b, ":host_ms", res->repeats > 0 ? res->step_info[t].ms : NAN);
        code = bind_step(s, &b, "storing a generate step", err);
        if (code == SIM_OK) code = row_done(s, rows, err);
    }
    sqlite3_finalize(st);
    return code;
}

static SimStatus insert_point(Store *s, const StoreSweepPoint *p, int64_t run_id, int64_t *rows,
                              SimError *err) {
    sqlite3_stmt *st = NULL;
    SimStatus code = prepare(s,
                             "INSERT INTO sweep_points (sweep_id, run_id, family, budget_macs, "
                             "width, role, label) VALUES (:sweep_id, :run_id, :family, "
                             ":budget_macs, :width, :role, :label) ON CONFLICT DO NOTHING",
                             &st, err);
    if (code == SIM_OK) {
        Binder b = {st, SQLITE_OK, NULL};
        bind_i64(&b, ":sweep_id", p->sweep_id);
        bind_i64(&b, ":run_id", run_id);
        bind_text(&b, ":family", p->family);
        bind_u64(&b, ":budget_macs", p->budget_macs);
        bind_i64(&b, ":width", p->width);
        bind_text(&b, ":role", p->role);
        bind_text(&b, ":label", p->label ? p->label : "");
        code = bind_step(s, &b, "storing the sweep point", err);
        if (code == SIM_OK && rows) code = row_done(s, rows, err);
    }
    sqlite3_finalize(st);
    return code;
}

SimStatus store_save_run(Store *s, const ReportInput *in, const StoreExtra *x, int64_t *run_id,
                         SimError *err) {
    static const StoreExtra none;
    if (x == NULL) x = &none;
    if (s == NULL || in == NULL || in->cfg == NULL || in->spec == NULL || in->res == NULL ||
        in->res->model == NULL || in->res->ledger == NULL)
        return sim_errorf(err, SIM_EINVAL, "store_save_run: incomplete run (no %s)",
                          s == NULL ? "store" : in == NULL ? "input" : in->res == NULL ? "result"
                                                                                       : "model");
    const char *what = "storing the run";
    int64_t id = 0, rows = 0;
    if (exec_sql(s, "BEGIN IMMEDIATE", what, err) != SIM_OK) goto fail;
    if (insert_run_row(s, in, x, &id, err) != SIM_OK) goto fail;
    if (row_done(s, &rows, err) != SIM_OK) goto fail;
    if (insert_config_rows(s, in->cfg, id, &rows, err) != SIM_OK) goto fail;
    if (!x->skip_ledger && insert_ledger_rows(s, in->res->ledger, id, &rows, err) != SIM_OK)
        goto fail;
    if (in->res->repeats > 0 && insert_measurement(s, in, id, &rows, err) != SIM_OK) goto fail;
    if (insert_predictions(s, x, id, &rows, err) != SIM_OK) goto fail;
    if (insert_steps(s, in->res, id, &rows, err) != SIM_OK) goto fail;
    if (x->point && insert_point(s, x->point, id, &rows, err) != SIM_OK) goto fail;
    if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
    if (run_id) *run_id = id;
    return SIM_OK;
fail:
    rollback(s);
    note_nothing_stored(err);
    return err->code;
}

SimStatus store_save_report(const char *db_path, const ReportInput *in, const StoreExtra *x,
                            int64_t *run_id, SimError *err) {
    Store *s = store_open(db_path, err);
    if (s == NULL) return err->code;
    SimStatus code = store_save_run(s, in, x, run_id, err);
    store_close(s);
    return code;
}

/* ---- finding runs ---- */

SimStatus store_find_by_hash(Store *s, const char *hash, int64_t *run_id, SimError *err) {
    *run_id = 0;
    sqlite3_stmt *st = NULL;
    if (prepare(s, "SELECT max(id) FROM runs WHERE content_hash = :h", &st, err) != SIM_OK)
        return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":h", hash);
    SimStatus code = bind_status(s, &b, err);
    if (code == SIM_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) *run_id = sqlite3_column_int64(st, 0); /* NULL -> 0 */
        else code = db_fail(s, rc, "finding a run by content hash", err);
    }
    sqlite3_finalize(st);
    return code;
}

SimStatus store_run_resolve(Store *s, const char *ref, int64_t *run_id, SimError *err) {
    *run_id = 0;
    if (ref == NULL || *ref == '\0')
        return sim_errorf(err, SIM_EINVAL, "expected a run id, 'latest' or a uuid prefix");
    sqlite3_stmt *st = NULL;
    SimStatus code = SIM_OK;
    int is_num = 1, is_hex = 1;
    for (const char *p = ref; *p; p++) {
        is_num &= *p >= '0' && *p <= '9';
        is_hex &= (*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f');
    }
    if (strcmp(ref, "latest") == 0 || strcmp(ref, "last") == 0) {
        code = store_query_int(s, "SELECT coalesce(max(id), 0) FROM runs", run_id, err);
        if (code == SIM_OK && *run_id == 0)
            code = sim_errorf(err, SIM_EINVAL, "%s: no runs stored yet", s->path);
        return code;
    }
    if (is_num && strlen(ref) < 19) {
        if (prepare(s, "SELECT id FROM runs WHERE id = :id", &st, err) != SIM_OK)
            return err->code;
        Binder b = {st, SQLITE_OK, NULL};
        bind_i64(&b, ":id", strtoll(ref, NULL, 10));
        code = bind_status(s, &b, err);
        int rc = code == SIM_OK ? sqlite3_step(st) : SQLITE_OK;
        if (rc == SQLITE_ROW) *run_id = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE && code == SIM_OK) code = db_fail(s, rc, "finding a run", err);
        sqlite3_finalize(st);
        st = NULL;
        if (code != SIM_OK || *run_id > 0) return code;
    }
    if (is_hex && strlen(ref) >= 4 && strlen(ref) <= STORE_UUID_LEN) {
        if (prepare(s, "SELECT id FROM runs WHERE substr(uuid, 1, length(:p)) = :p LIMIT 2", &st,
                    err) != SIM_OK)
            return err->code;
        Binder b = {st, SQLITE_OK, NULL};
        bind_text(&b, ":p", ref);
        code = bind_status(s, &b, err);
        int n = 0, rc = SQLITE_DONE;
        while (code == SIM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
            *run_id = sqlite3_column_int64(st, 0);
            n++;
        }
        if (code == SIM_OK && rc != SQLITE_DONE) code = db_fail(s, rc, "finding a run", err);
        sqlite3_finalize(st);
        if (code != SIM_OK) return code;
        if (n > 1) {
            *run_id = 0;
            return sim_errorf(err, SIM_EINVAL, "%s: run uuid prefix '%s' is ambiguous", s->path,
                              ref);
        }
        if (n == 1) return SIM_OK;
    }
    return sim_errorf(err, SIM_EINVAL, "%s: no run '%s' (expected an id, 'latest' or a uuid prefix)",
                      s->path, ref);
}

/* ---- sweeps ---- */

SimStatus store_sweep_begin(Store *s, const StoreSweep *sw, int64_t *sweep_id, int *created,
                            SimError *err) {
    *sweep_id = 0;
    if (created) *created = 0;
    if (sw == NULL || sw->spec_json == NULL)
        return sim_errorf(err, SIM_EINVAL, "store_sweep_begin: no sweep specification");
    Sha256 c;
    char hash[STORE_HASH_LEN + 1], now[32];
    sha_init(&c);
    sha_printf(&c, "ltsim %s\n", LTSIM_VERSION);
    sha_update(&c, sw->spec_json, strlen(sw->spec_json));
    sha_final_hex(&c, hash);
    now_iso(now);
    const char *what = "starting the sweep";
    sqlite3_stmt *st = NULL;
    if (exec_sql(s, "BEGIN IMMEDIATE", what, err) != SIM_OK) return err->code;
    if (prepare(s, "SELECT id FROM sweeps WHERE spec_hash = :h", &st, err) != SIM_OK) goto fail;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":h", hash);
    if (bind_status(s, &b, err) != SIM_OK) goto fail;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *sweep_id = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE) {
        db_fail(s, rc, what, err);
        goto fail;
    }
    sqlite3_finalize(st);
    st = NULL;
    if (*sweep_id == 0) {
        if (prepare(s,
                    "INSERT INTO sweeps (spec_hash, name, spec, ltsim_version, git_hash, "
                    "created_at) VALUES (:h, :name, :spec, :v, :git, :now)",
                    &st, err) != SIM_OK)
            goto fail;
        Binder bi = {st, SQLITE_OK, NULL};
        bind_text(&bi, ":h", hash);
        bind_text(&bi, ":name", sw->name ? sw->name : "");
        bind_text(&bi, ":spec", sw->spec_json);
        bind_text(&bi, ":v", LTSIM_VERSION);
        bind_text(&bi, ":git", nonempty(sw->git_hash));
        bind_text(&bi, ":now", now);
        if (bind_step(s, &bi, what, err) != SIM_OK) goto fail;
        *sweep_id = sqlite3_last_insert_rowid(s->db);
        if (created) *created = 1;
        sqlite3_finalize(st);
        st = NULL;
    }
    if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
    return SIM_OK;
fail:
    sqlite3_finalize(st);
    rollback(s);
    *sweep_id = 0;
    if (created) *created = 0;
    return err->code;
}

SimStatus store_sweep_finish(Store *s, int64_t sweep_id, SimError *err) {
    char now[32];
    now_iso(now);
    sqlite3_stmt *st = NULL;
    if (prepare(s, "UPDATE sweeps SET finished_at = :now WHERE id = :id", &st, err) != SIM_OK)
        return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":now", now);
    bind_i64(&b, ":id", sweep_id);
    SimStatus code = bind_step(s, &b, "finishing the sweep", err);
    if (code == SIM_OK && sqlite3_changes(s->db) != 1)
        code = sim_errorf(err, SIM_EINVAL, "%s: no sweep %lld", s->path, (long long)sweep_id);
    sqlite3_finalize(st);
    return code;
}

SimStatus store_sweep_point_add(Store *s, const StoreSweepPoint *p, int64_t run_id,
                                SimError *err) {
    return insert_point(s, p, run_id, NULL, err);
}

SimStatus store_sweep_point_find(Store *s, const StoreSweepPoint *p, int64_t *run_id,
                                 SimError *err) {
    *run_id = 0;
    sqlite3_stmt *st = NULL;
    if (prepare(s,
                "SELECT run_id FROM sweep_points WHERE sweep_id = :sweep_id AND family = :family "
                "AND budget_macs = :budget_macs AND width = :width AND role = :role AND "
                "label = :label",
                &st, err) != SIM_OK)
        return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_i64(&b, ":sweep_id", p->sweep_id);
    bind_text(&b, ":family", p->family);
    bind_u64(&b, ":budget_macs", p->budget_macs);
    bind_i64(&b, ":width", p->width);
    bind_text(&b, ":role", p->role);
    bind_text(&b, ":label", p->label ? p->label : "");
    SimStatus code = bind_status(s, &b, err);
    if (code == SIM_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) *run_id = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE) code = db_fail(s, rc, "finding a sweep point", err);
    }
    sqlite3_finalize(st);
    return code;
}

/* ---- calibrations ---- */

SimStatus store_save_calibration(Store *s, const StoreCalibration *c, int64_t *id,
                                 SimError *err) {
    char uuid[STORE_UUID_LEN + 1], now[32], host[256] = "", cpu[256] = "";
    new_uuid(uuid);
    now_iso(now);
    if (gethostname(host, sizeof host - 1) != 0) host[0] = '\0';
    cpu_model(cpu, sizeof cpu);
    sqlite3_stmt *st = NULL;
    if (prepare(s,
                "INSERT INTO calibrations (uuid, created_at, hw, method, input_name, input_text, "
                "fit, profile_text, n, within_10, within_20, median_abs_err, p90_abs_err, "
                "rmse_ms, ltsim_version, git_hash, hostname, cpu_model, blas) VALUES (:uuid, "
                ":now, :hw, :method, :input_name, :input_text, :fit, :profile_text, :n, "
                ":within_10, :within_20, :median_abs_err, :p90_abs_err, :rmse_ms, :v, :git, "
                ":host, :cpu, :blas)",
                &st, err) != SIM_OK)
        return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":uuid", uuid);
    bind_text(&b, ":now", now);
    bind_text(&b, ":hw", c->hw);
    bind_text(&b, ":method", c->method);
    bind_text(&b, ":input_name", c->input_name);
    bind_text(&b, ":input_text", c->input_text);
    bind_text(&b, ":fit", c->fit_json ? c->fit_json : "{}");
    bind_text(&b, ":profile_text", c->profile_text);
    if (c->n >= 0) bind_i64(&b, ":n", c->n);
    bind_real(&b, ":within_10", c->within_10);
    bind_real(&b, ":within_20", c->within_20);
    bind_real(&b, ":median_abs_err", c->median_abs_err);
    bind_real(&b, ":p90_abs_err", c->p90_abs_err);
    bind_real(&b, ":rmse_ms", c->rmse_ms);
    bind_text(&b, ":v", LTSIM_VERSION);
    bind_text(&b, ":git", nonempty(c->git_hash));
    bind_text(&b, ":host", nonempty(host));
    bind_text(&b, ":cpu", nonempty(cpu));
    bind_text(&b, ":blas", ops_blas_name());
    /* one statement: atomic by itself */
    SimStatus code = bind_step(s, &b, "storing the calibration", err);
    if (code == SIM_OK && id) *id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    return code;
}

/* ---- reading runs ---- */

static void fields_free(StoreField *f, size_t n) {
    for (size_t i = 0; f && i < n; i++) {
        free(f[i].name);
        free(f[i].text);
    }
    free(f);
}

/* Copies the current row of st into a new array of fields. */
static int fields_read(sqlite3_stmt *st, StoreField **out, size_t *n) {
    int nc = sqlite3_column_count(st);
    StoreField *f = calloc(nc > 0 ? (size_t)nc : 1, sizeof *f);
    if (f == NULL) return -1;
    for (int i = 0; i < nc; i++) {
        f[i].name = dup_str(sqlite3_column_name(st, i));
        if (f[i].name == NULL) goto oom;
        switch (sqlite3_column_type(st, i)) {
        case SQLITE_INTEGER:
            f[i].type = STORE_INT;
            f[i].i = sqlite3_column_int64(st, i);
            f[i].r = (double)f[i].i;
            break;
        case SQLITE_FLOAT:
            f[i].type = STORE_REAL;
            f[i].r = sqlite3_column_double(st, i);
            break;
        case SQLITE_NULL: f[i].type = STORE_NULL; break;
        default: {
            f[i].type = STORE_TEXT;
            const unsigned char *t = sqlite3_column_text(st, i);
            f[i].text = dup_str(t ? (const char *)t : "");
            if (f[i].text == NULL) goto oom;
        }
        }
    }
    *out = f;
    *n = (size_t)nc;
    return 0;
oom:
    fields_free(f, (size_t)nc);
    return -1;
}

const StoreField *store_field(const StoreField *f, size_t n, const char *name) {
    for (size_t i = 0; i < n; i++)
        if (strcmp(f[i].name, name) == 0) return &f[i];
    return NULL;
}

void store_run_free(StoreRun *r) {
    if (r == NULL) return;
    fields_free(r->fields, r->nfields);
    fields_free(r->measurement, r->nmeasurement);
    fields_free(r->config, r->nconfig);
    for (size_t i = 0; r->ledger && i < r->nledger; i++) {
        free(r->ledger[i].scope);
        free(r->ledger[i].op);
        free(r->ledger[i].cls);
    }
    free(r->ledger);
    for (size_t i = 0; r->predictions && i < r->npredictions; i++) {
        free(r->predictions[i].hw);
        free(r->predictions[i].bound);
        free(r->predictions[i].top_ops_json);
    }
    free(r->predictions);
    free(r->steps);
    free(r);
}

/* Grows *arr (elements of size sz) to hold n + 1; -1 when memory runs out. */
static int grow(void **arr, size_t *cap, size_t n, size_t sz) {
    if (n < *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 16;
    void *p = realloc(*arr, nc * sz);
    if (p == NULL) return -1;
    memset((char *)p + *cap * sz, 0, (nc - *cap) * sz);
    *arr = p;
    *cap = nc;
    return 0;
}

static uint64_t col_u64(sqlite3_stmt *st, int i) {
    int64_t v = sqlite3_column_int64(st, i);
    return v > 0 ? (uint64_t)v : 0;
}

static char *col_dup(sqlite3_stmt *st, int i) {
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? dup_str((const char *)t) : NULL;
}

/* Runs "... WHERE run_id = :id" and calls each(row) per row; the reader allocates. */
typedef int (*RowFn)(StoreRun *r, sqlite3_stmt *st, size_t *cap);

static SimStatus read_rows(Store *s, StoreRun *r, const char *sql, RowFn each, SimError *err) {
    sqlite3_stmt *st = NULL;
    if (prepare(s, sql, &st, err) != SIM_OK) return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_i64(&b, ":id", r->id);
    SimStatus code = bind_status(s, &b, err);
    size_t cap = 0;
    int rc = SQLITE_DONE;
    while (code == SIM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        if (each(r, st, &cap) != 0)
            code = sim_errorf(err, SIM_ENOMEM, "out of memory reading run %lld", (long long)r->id);
    if (code == SIM_OK && rc != SQLITE_DONE) code = db_fail(s, rc, "reading a run", err);
    sqlite3_finalize(st);
    return code;
}

static int row_config(StoreRun *r, sqlite3_stmt *st, size_t *cap) {
    if (grow((void **)&r->config, cap, r->nconfig, sizeof *r->config) != 0) return -1;
    StoreField *f = &r->config[r->nconfig++];
    f->type = STORE_TEXT;
    f->name = col_dup(st, 0);
    f->text = col_dup(st, 1);
    return f->name && f->text ? 0 : -1;
}

static int row_ledger(StoreRun *r, sqlite3_stmt *st, size_t *cap) {
    if (grow((void **)&r->ledger, cap, r->nledger, sizeof *r->ledger) != 0) return -1;
    StoreLedgerRow *e = &r->ledger[r->nledger++];
    e->seq = sqlite3_column_int64(st, 0);
    e->scope = col_dup(st, 1);
    e->op = col_dup(st, 2);
    e->cls = col_dup(st, 3);
    e->macs = col_u64(st, 4);
    e->other_flops = col_u64(st, 5);
    e->weight_bytes = col_u64(st, 6);
    e->act_bytes_read = col_u64(st, 7);
    e->bytes_written = col_u64(st, 8);
    e->params = col_u64(st, 9);
    e->calls = col_u64(st, 10);
    e->time_ns = col_u64(st, 11);
    for (int d = 0; d < 3; d++) e->dims[d] = sqlite3_column_int64(st, 12 + d);
    return e->scope && e->op && e->cls ? 0 : -1;
}

static int row_prediction(StoreRun *r, sqlite3_stmt *st, size_t *cap) {
    if (grow((void **)&r->predictions, cap, r->npredictions, sizeof *r->predictions) != 0)
        return -1;
    StorePredictionRow *p = &r->predictions[r->npredictions++];
    p->hw = col_dup(st, 0);
    p->latency_ms = sqlite3_column_double(st, 1);
    p->energy_mj = sqlite3_column_type(st, 2) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 2);
    p->bound = col_dup(st, 3);
    p->top_ops_json = col_dup(st, 4);
    return p->hw && p->top_ops_json ? 0 : -1;
}

static int row_step(StoreRun *r, sqlite3_stmt *st, size_t *cap) {
    if (grow((void **)&r->steps, cap, r->nsteps, sizeof *r->steps) != 0) return -1;
    StoreStep *p = &r->steps[r->nsteps++];
    p->step = sqlite3_column_int64(st, 0);
    p->macs = col_u64(st, 1);
    p->macs_output_projection = col_u64(st, 2);
    p->bytes_weights = col_u64(st, 3);
    p->bytes_cache = col_u64(st, 4);
    p->host_ms = sqlite3_column_type(st, 5) == SQLITE_NULL ? NAN : sqlite3_column_double(st, 5);
    return 0;
}

/* The single row of "SELECT * FROM table WHERE <key> = :id" into fields (none: n = 0). */
static SimStatus read_one(Store *s, const char *sql, int64_t id, StoreField **f, size_t *n,
                          SimError *err) {
    sqlite3_stmt *st = NULL;
    *f = NULL;
    *n = 0;
    if (prepare(s, sql, &st, err) != SIM_OK) return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_i64(&b, ":id", id);
    SimStatus code = bind_status(s, &b, err);
    if (code == SIM_OK) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            if (fields_read(st, f, n) != 0)
                code = sim_errorf(err, SIM_ENOMEM, "out of memory reading run %lld",
                                  (long long)id);
        } else if (rc != SQLITE_DONE) {
            code = db_fail(s, rc, "reading a run", err);
        }
    }
    sqlite3_finalize(st);
    return code;
}

SimStatus store_run_load(Store *s, int64_t id, StoreRun **out, SimError *err) {
    *out = NULL;
    StoreRun *r = calloc(1, sizeof *r);
    if (r == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory reading run %lld", (long long)id);
    r->id = id;
    if (read_one(s, "SELECT * FROM runs WHERE id = :id", id, &r->fields, &r->nfields, err) !=
        SIM_OK)
        goto fail;
    if (r->nfields == 0) {
        sim_errorf(err, SIM_EINVAL, "%s: no run %lld", s->path, (long long)id);
        goto fail;
    }
    if (read_one(s,
                 "SELECT median_ms, min_ms, max_ms, repeats, warmup, gemm_median_ms, "
                 "forward_over_gemm, passes_ms, passes_gemm_ms FROM measurements WHERE run_id = :id",
                 id, &r->measurement, &r->nmeasurement, err) != SIM_OK)
        goto fail;
    if (read_rows(s, r, "SELECT key, value FROM run_config WHERE run_id = :id ORDER BY seq",
                  row_config, err) != SIM_OK ||
        read_rows(s, r,
                  "SELECT seq, scope, op, class, macs, other_flops, weight_bytes, act_bytes_read, "
                  "bytes_written, params, calls, time_ns, dim0, dim1, dim2 FROM ledger WHERE "
                  "run_id = :id ORDER BY seq",
                  row_ledger, err) != SIM_OK ||
        read_rows(s, r,
                  "SELECT hw, latency_ms, energy_mj, bound, top_ops FROM predictions WHERE "
                  "run_id = :id ORDER BY hw",
                  row_prediction, err) != SIM_OK ||
        read_rows(s, r,
                  "SELECT step, macs, macs_output_projection, bytes_weights, bytes_cache, host_ms "
                  "FROM steps WHERE run_id = :id ORDER BY step",
                  row_step, err) != SIM_OK)
        goto fail;
    *out = r;
    return SIM_OK;
fail:
    store_run_free(r);
    return err->code;
}

SimStatus store_run_list(Store *s, int64_t limit, StoreRunSummary **out, size_t *n,
                         SimError *err) {
    *out = NULL;
    *n = 0;
    sqlite3_stmt *st = NULL;
    if (prepare(s,
                "SELECT r.id, r.uuid, r.created_at, r.command, r.mode, r.model_name, r.family, "
                "r.src_len, r.tgt_len, r.attn_macs, r.conv_macs, r.params, r.macs, m.median_ms, "
                "(SELECT count(*) FROM predictions p WHERE p.run_id = r.id) FROM runs r LEFT "
                "JOIN measurements m ON m.run_id = r.id ORDER BY r.id DESC LIMIT :lim",
                &st, err) != SIM_OK)
        return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_i64(&b, ":lim", limit > 0 ? limit : -1);
    SimStatus code = bind_status(s, &b, err);
    StoreRunSummary *v = NULL;
    size_t cap = 0, k = 0;
    int rc = SQLITE_DONE;
    while (code == SIM_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&v, &cap, k, sizeof *v) != 0) {
            code = sim_errorf(err, SIM_ENOMEM, "out of memory listing runs");
            break;
        }
        StoreRunSummary *e = &v[k++];
#define TXT(dst, col)                                                                         \
    snprintf((dst), sizeof(dst), "%s",                                                        \
             sqlite3_column_text(st, (col)) ? (const char *)sqlite3_column_text(st, (col)) : "")
        e->id = sqlite3_column_int64(st, 0);
        TXT(e->uuid, 1);
        TXT(e->created_at, 2);
        TXT(e->command, 3);
        TXT(e->mode, 4);
        TXT(e->model_name, 5);
        TXT(e->family, 6);
        e->src_len = sqlite3_column_int64(st, 7);
        e->tgt_len = sqlite3_column_int64(st, 8);
        TXT(e->attn_macs, 9);
        TXT(e->conv_macs, 10);
#undef TXT
        e->params = col_u64(st, 11);
        e->macs = col_u64(st, 12);
        e->has_measurement = sqlite3_column_type(st, 13) != SQLITE_NULL;
        e->median_ms = e->has_measurement ? sqlite3_column_double(st, 13) : NAN;
        e->npredictions = sqlite3_column_int64(st, 14);
    }
    if (code == SIM_OK && rc != SQLITE_DONE) code = db_fail(s, rc, "listing runs", err);
    sqlite3_finalize(st);
    if (code != SIM_OK) {
        free(v);
        return code;
    }
    *out = v;
    *n = k;
    return SIM_OK;
}

/* ---- accuracy measured by users, estimates, carbon comparisons ---- */

SimStatus store_accuracy_import(Store *s, const StoreAccuracy *rows, size_t n, int64_t *added,
                                int64_t *replaced, SimError *err) {
    const char *what = "storing accuracy results";
    sqlite3_stmt *find = NULL, *del = NULL, *ins = NULL;
    int64_t nadd = 0, nrep = 0;
    if (exec_sql(s, "BEGIN IMMEDIATE", what, err) != SIM_OK) return err->code;
    if (prepare(s,
                "SELECT count(*) FROM accuracy_results WHERE task = :task AND model_name = "
                ":model AND metric = :metric",
                &find, err) != SIM_OK ||
        prepare(s,
                "DELETE FROM accuracy_results WHERE task = :task AND model_name = :model AND "
                "metric = :metric",
                &del, err) != SIM_OK ||
        prepare(s,
                "INSERT INTO accuracy_results (uuid, created_at, task, config, model_name, "
                "family, width, metric, value, macs, params, src_len, tgt_len, attn_macs, "
                "conv_macs, source_file, line, note) VALUES (:uuid, :now, :task, :config, "
                ":model, :family, :width, :metric, :value, :macs, :params, :src_len, :tgt_len, "
                ":attn, :conv, :file, :line, :note)",
                &ins, err) != SIM_OK)
        goto fail;
    char now[32];
    now_iso(now);
    for (size_t i = 0; i < n; i++) {
        const StoreAccuracy *a = &rows[i];
        if (a->task == NULL || a->config == NULL || a->model_name == NULL || a->family == NULL ||
            a->metric == NULL || a->attn_macs == NULL || a->conv_macs == NULL ||
            a->source_file == NULL) {
            sim_errorf(err, SIM_EINVAL, "%s: internal error: accuracy row %zu incomplete",
                       s->path, i);
            goto fail;
        }
        Binder b = {find, SQLITE_OK, NULL};
        bind_text(&b, ":task", a->task);
        bind_text(&b, ":model", a->model_name);
        bind_text(&b, ":metric", a->metric);
        if (bind_status(s, &b, err) != SIM_OK) goto fail;
        int rc = sqlite3_step(find);
        int64_t have = rc == SQLITE_ROW ? sqlite3_column_int64(find, 0) : 0;
        sqlite3_reset(find);
        if (rc != SQLITE_ROW) {
            db_fail(s, rc, what, err);
            goto fail;
        }
        if (have) {
            Binder d = {del, SQLITE_OK, NULL};
            bind_text(&d, ":task", a->task);
            bind_text(&d, ":model", a->model_name);
            bind_text(&d, ":metric", a->metric);
            if (bind_step(s, &d, what, err) != SIM_OK) goto fail;
            nrep++;
        } else {
            nadd++;
        }
        char uuid[STORE_UUID_LEN + 1];
        new_uuid(uuid);
        Binder w = {ins, SQLITE_OK, NULL};
        bind_text(&w, ":uuid", uuid);
        bind_text(&w, ":now", now);
        bind_text(&w, ":task", a->task);
        bind_text(&w, ":config", a->config);
        bind_text(&w, ":model", a->model_name);
        bind_text(&w, ":family", a->family);
        bind_i64(&w, ":width", a->width);
        bind_text(&w, ":metric", a->metric);
        bind_real(&w, ":value", a->value);
        bind_u64(&w, ":macs", a->macs);
        bind_u64(&w, ":params", a->params);
        bind_i64(&w, ":src_len", a->src_len);
        bind_i64(&w, ":tgt_len", a->tgt_len);
        bind_text(&w, ":attn", a->attn_macs);
        bind_text(&w, ":conv", a->conv_macs);
        bind_text(&w, ":file", a->source_file);
        bind_i64(&w, ":line", a->line);
        bind_text(&w, ":note", a->note ? a->note : "");
        if (bind_step(s, &w, what, err) != SIM_OK) goto fail;
    }
    sqlite3_finalize(find);
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    find = del = ins = NULL;
    if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
    if (added) *added = nadd;
    if (replaced) *replaced = nrep;
    return SIM_OK;
fail:
    sqlite3_finalize(find);
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    rollback(s);
    note_nothing_stored(err);
    return err->code;
}

SimStatus store_estimates_replace(Store *s, const StoreEstimate *e, size_t n, SimError *err) {
    const char *what = "storing accuracy estimates";
    sqlite3_stmt *ins = NULL;
    if (exec_sql(s, "BEGIN IMMEDIATE", what, err) != SIM_OK) return err->code;
    if (exec_sql(s, "DELETE FROM accuracy_estimates", what, err) != SIM_OK) goto fail;
    if (n > 0 &&
        prepare(s,
                "INSERT INTO accuracy_estimates (created_at, run_id, family, width, macs, task, "
                "metric, value, std_error, fit_rmse, fit_n, fit_slope, fit_intercept, basis, "
                "fit_points) VALUES (:now, :run, :family, :width, :macs, :task, :metric, "
                ":value, :se, :rmse, :n, :slope, :icpt, :basis, :points)",
                &ins, err) != SIM_OK)
        goto fail;
    char now[32];
    now_iso(now);
    for (size_t i = 0; i < n; i++) {
        const StoreEstimate *x = &e[i];
        Binder b = {ins, SQLITE_OK, NULL};
        bind_text(&b, ":now", now);
        bind_i64(&b, ":run", x->run_id);
        bind_text(&b, ":family", x->family);
        bind_i64(&b, ":width", x->width);
        bind_u64(&b, ":macs", x->macs);
        bind_text(&b, ":task", x->task);
        bind_text(&b, ":metric", x->metric);
        bind_real(&b, ":value", x->value);
        bind_real(&b, ":se", x->std_error);
        bind_real(&b, ":rmse", x->fit_rmse);
        bind_i64(&b, ":n", x->fit_n);
        bind_real(&b, ":slope", x->fit_slope);
        bind_real(&b, ":icpt", x->fit_intercept);
        bind_text(&b, ":basis", x->basis);
        bind_text(&b, ":points", x->fit_points_json ? x->fit_points_json : "[]");
        if (bind_step(s, &b, what, err) != SIM_OK) goto fail;
    }
    sqlite3_finalize(ins);
    ins = NULL;
    if (exec_sql(s, "COMMIT", what, err) != SIM_OK) goto fail;
    return SIM_OK;
fail:
    sqlite3_finalize(ins);
    rollback(s);
    note_nothing_stored(err);
    return err->code;
}

SimStatus store_carbon_save(Store *s, const char *name, const char *items_json,
                            const char *ratios_json, int64_t *id, SimError *err) {
    char uuid[STORE_UUID_LEN + 1], now[32];
    new_uuid(uuid);
    now_iso(now);
    sqlite3_stmt *st = NULL;
    if (prepare(s,
                "INSERT INTO carbon_comparisons (uuid, created_at, name, items, ratios, "
                "ltsim_version) VALUES (:uuid, :now, :name, :items, :ratios, :v)",
                &st, err) != SIM_OK)
        return err->code;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":uuid", uuid);
    bind_text(&b, ":now", now);
    bind_text(&b, ":name", name);
    bind_text(&b, ":items", items_json ? items_json : "[]");
    bind_text(&b, ":ratios", ratios_json ? ratios_json : "[]");
    bind_text(&b, ":v", LTSIM_VERSION);
    /* one statement: atomic by itself */
    SimStatus code = bind_step(s, &b, "storing the carbon comparison", err);
    if (code == SIM_OK && id) *id = sqlite3_last_insert_rowid(s->db);
    sqlite3_finalize(st);
    return code;
}

/* ---- reading any query ---- */

void store_rows_free(StoreRows *r) {
    if (r == NULL) return;
    fields_free(r->cells, r->nrows * r->ncols);
    free(r);
}

SimStatus store_select(Store *s, const char *sql, const char *const *params, int nparams,
                       StoreRows **out, SimError *err) {
    *out = NULL;
    sqlite3_stmt *st = NULL;
    if (prepare(s, sql, &st, err) != SIM_OK) return err->code;
    SimStatus code = SIM_OK;
    StoreRows *r = calloc(1, sizeof *r);
    size_t cap = 0;
    if (r == NULL) {
        code = sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", s->path);
        goto out;
    }
    r->ncols = (size_t)sqlite3_column_count(st);
    for (int i = 0; i < nparams; i++) {
        int rc = sqlite3_bind_text(st, i + 1, params[i], -1, SQLITE_TRANSIENT);
        if (rc != SQLITE_OK) {
            code = db_fail(s, rc, "binding a query parameter", err);
            goto out;
        }
    }
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        StoreField *f = NULL;
        size_t nf = 0;
        int oom = fields_read(st, &f, &nf) != 0;
        if (!oom && (r->nrows + 1) * r->ncols > cap) {
            size_t nc = cap ? cap * 2 : 64 * (r->ncols ? r->ncols : 1);
            while (nc < (r->nrows + 1) * r->ncols) nc *= 2;
            StoreField *p = realloc(r->cells, nc * sizeof *p);
            if (p == NULL) oom = 1;
            else {
                r->cells = p;
                cap = nc;
            }
        }
        if (oom) {
            fields_free(f, nf);
            code = sim_errorf(err, SIM_ENOMEM, "out of memory reading %s", s->path);
            goto out;
        }
        if (r->ncols > 0) memcpy(r->cells + r->nrows * r->ncols, f, r->ncols * sizeof *f);
        free(f); /* the names and texts now belong to r->cells */
        r->nrows++;
    }
    if (rc != SQLITE_DONE) code = db_fail(s, rc, "running a query", err);
out:
    sqlite3_finalize(st);
    if (code != SIM_OK) {
        store_rows_free(r);
        return code;
    }
    *out = r;
    return SIM_OK;
}

const StoreField *store_rows_get(const StoreRows *r, size_t row, const char *col) {
    if (r == NULL || row >= r->nrows) return NULL;
    return store_field(r->cells + row * r->ncols, r->ncols, col);
}

const char *store_rows_text(const StoreRows *r, size_t row, const char *col) {
    const StoreField *f = store_rows_get(r, row, col);
    return f && f->type == STORE_TEXT ? f->text : "";
}

double store_rows_num(const StoreRows *r, size_t row, const char *col) {
    const StoreField *f = store_rows_get(r, row, col);
    if (f == NULL || f->type == STORE_NULL || f->type == STORE_TEXT) return NAN;
    return f->type == STORE_INT ? (double)f->i : f->r;
}

/* ---- export ---- */

static const char *const export_names[] = {
    "points", "runs", "run_config", "ledger", "steps", "measurements", "predictions",
    "sweeps", "sweep_points", "calibrations", "published", "accuracy_results",
    "accuracy_estimates", "carbon_comparisons", NULL};

/* ORDER BY of each table (same order as export_names, from "runs" on). */
static const char *const export_order[] = {
    "id", "run_id, seq", "run_id, seq", "run_id, step", "run_id", "run_id, hw",
    "id", "id", "id", "id", "id", "id", "id"};

const char *const *store_export_tables(void) { return export_names; }

static void csv_text(FILE *f, const char *t) {
    int quote = strpbrk(t, ",\"\r\n") != NULL || (t[0] == ' ') ||
                (t[0] && t[strlen(t) - 1] == ' ');
    if (!quote) {
        fputs(t, f);
        return;
    }
    fputc('"', f);
    for (const char *p = t; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

static void json_text(FILE *f, const char *t) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)t; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", f); break;
        case '\\': fputs("\\\\", f); break;
        case '\n': fputs("\\n", f); break;
        case '\r': fputs("\\r", f); break;
        case '\t': fputs("\\t", f); break;
        default:
            if (*p < 0x20) fprintf(f, "\\u%04x", *p);
            else fputc(*p, f);
        }
    }
    fputc('"', f);
}

/* Shortest of %.15g / %.17g that reads back as v. */
static void fmt_real(char *buf, size_t n, double v) {
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v) snprintf(buf, n, "%.17g", v);
}

/* Writes column i of the current row: CSV field or JSON value. */
static void put_value(FILE *f, sqlite3_stmt *st, int i, StoreFormat fmt) {
    char num[40];
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_INTEGER: fprintf(f, "%lld", (long long)sqlite3_column_int64(st, i)); break;
    case SQLITE_FLOAT: {
        double v = sqlite3_column_double(st, i);
        if (!isfinite(v)) {
            fputs(fmt == STORE_JSON ? "null" : "", f);
            break;
        }
        fmt_real(num, sizeof num, v);
        fputs(num, f);
        break;
    }
    case SQLITE_NULL:
        if (fmt == STORE_JSON) fputs("null", f);
        break;
    default: {
        const unsigned char *t = sqlite3_column_text(st, i);
        if (fmt == STORE_JSON) json_text(f, t ? (const char *)t : "");
        else csv_text(f, t ? (const char *)t : "");
    }
    }
}

static SimStatus export_table(Store *s, const char *table, const char *order, StoreFormat fmt,
                              FILE *f, SimError *err) {
    char sql[256];
    snprintf(sql, sizeof sql, "SELECT * FROM %s ORDER BY %s", table, order);
    sqlite3_stmt *st = NULL;
    if (prepare(s, sql, &st, err) != SIM_OK) return err->code;
    int nc = sqlite3_column_count(st);
    if (fmt == STORE_CSV) {
        for (int i = 0; i < nc; i++) {
            if (i) fputc(',', f);
            csv_text(f, sqlite3_column_name(st, i));
        }
        fputc('\n', f);
    } else {
        fputc('[', f);
    }
    int rc, nrow = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (fmt == STORE_CSV) {
            for (int i = 0; i < nc; i++) {
                if (i) fputc(',', f);
                put_value(f, st, i, fmt);
            }
            fputc('\n', f);
        } else {
            fputs(nrow ? ",\n{" : "\n{", f);
            for (int i = 0; i < nc; i++) {
                if (i) fputs(", ", f);
                json_text(f, sqlite3_column_name(st, i));
                fputs(": ", f);
                put_value(f, st, i, fmt);
            }
            fputc('}', f);
        }
        nrow++;
    }
    SimStatus code = SIM_OK;
    if (rc != SQLITE_DONE) code = db_fail(s, rc, "exporting", err);
    else if (fmt == STORE_JSON) fputs(nrow ? "\n]\n" : "]\n", f);
    sqlite3_finalize(st);
    return code;
}

/* The sweep points with their run's figures, predictions and published results. */
static SimStatus export_points(Store *s, StoreFormat fmt, FILE *f, SimError *err) {
    sqlite3_stmt *st = NULL, *pr = NULL, *pub = NULL;
    SimStatus code = SIM_OK;
    if (prepare(s,
                "SELECT s.name, p.sweep_id, p.family, p.budget_macs, p.width, p.role, p.label, "
                "r.id, r.model_name, r.macs, r.params, m.median_ms FROM sweep_points p JOIN "
                "sweeps s ON s.id = p.sweep_id JOIN runs r ON r.id = p.run_id LEFT JOIN "
                "measurements m ON m.run_id = r.id ORDER BY p.sweep_id, p.family, "
                "p.budget_macs, p.width, p.role, p.label",
                &st, err) != SIM_OK ||
        prepare(s,
                "SELECT hw, latency_ms, energy_mj, bound FROM predictions WHERE run_id = :id "
                "ORDER BY hw",
                &pr, err) != SIM_OK ||
        prepare(s,
                "SELECT task, metric, value, unit, tag, unconfirmed, source FROM published WHERE "
                "config = :c AND config <> '' AND metric IN ('bleu', 'rouge-1', 'rouge-2', "
                "'rouge-l', 'ppl') ORDER BY id",
                &pub, err) != SIM_OK) {
        code = err->code;
        goto out;
    }
    static const char *const keys[] = {"sweep", "sweep_id", "family", "budget_macs", "width",
                                       "role", "label", "run_id", "model", "macs", "params",
                                       "measured_ms"};
    if (fmt == STORE_CSV)
        fputs("sweep,sweep_id,family,budget_macs,width,role,label,run_id,model,macs,params,"
              "measured_ms,hw,latency_ms,energy_mj,bound\n",
              f);
    else fputc('[', f);
    int rc, npoint = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t run = sqlite3_column_int64(st, 7);
        Binder b = {pr, SQLITE_OK, NULL};
        bind_i64(&b, ":id", run);
        if (bind_status(s, &b, err) != SIM_OK) {
            code = err->code;
            goto out;
        }
        if (fmt == STORE_JSON) {
            fputs(npoint ? ",\n{" : "\n{", f);
            for (int i = 0; i < 12; i++) {
                fprintf(f, "%s\"%s\": ", i ? ", " : "", keys[i]);
                put_value(f, st, i, fmt);
            }
            fputs(", \"predictions\": [", f);
        }
        int np = 0, prc;
        while ((prc = sqlite3_step(pr)) == SQLITE_ROW) {
            if (fmt == STORE_JSON) {
                fputs(np ? ", {\"hw\": " : "{\"hw\": ", f);
                put_value(f, pr, 0, fmt);
                fputs(", \"latency_ms\": ", f);
                put_value(f, pr, 1, fmt);
                fputs(", \"energy_mj\": ", f);
                put_value(f, pr, 2, fmt);
                fputs(", \"bound\": ", f);
                put_value(f, pr, 3, fmt);
                fputc('}', f);
            } else {
                for (int i = 0; i < 12; i++) {
                    put_value(f, st, i, fmt);
                    fputc(',', f);
                }
                for (int i = 0; i < 4; i++) {
                    if (i) fputc(',', f);
                    put_value(f, pr, i, fmt);
                }
                fputc('\n', f);
            }
            np++;
        }
        sqlite3_reset(pr);
        if (prc != SQLITE_DONE) {
            code = db_fail(s, prc, "exporting predictions", err);
            goto out;
        }
        if (fmt == STORE_CSV && np == 0) {
            for (int i = 0; i < 12; i++) {
                put_value(f, st, i, fmt);
                fputc(',', f);
            }
            fputs(",,\n", f);
        }
        if (fmt == STORE_JSON) {
            fputs("], \"published\": [", f);
            Binder bp = {pub, SQLITE_OK, NULL};
            const unsigned char *model = sqlite3_column_text(st, 8);
            bind_text(&bp, ":c", model ? (const char *)model : "");
            if (bind_status(s, &bp, err) != SIM_OK) {
                code = err->code;
                goto out;
            }
            static const char *const pk[] = {"task", "metric", "value", "unit", "tag",
                                             "unconfirmed", "source"};
            int nq = 0;
            while ((prc = sqlite3_step(pub)) == SQLITE_ROW) {
                fputs(nq++ ? ", {" : "{", f);
                for (int i = 0; i < 7; i++) {
                    fprintf(f, "%s\"%s\": ", i ? ", " : "", pk[i]);
                    if (i == 5) fputs(sqlite3_column_int(pub, 5) ? "true" : "false", f);
                    else put_value(f, pub, i, fmt);
                }
                fputc('}', f);
            }
            sqlite3_reset(pub);
            if (prc != SQLITE_DONE) {
                code = db_fail(s, prc, "exporting published results", err);
                goto out;
            }
            fputs("]}", f);
        }
        npoint++;
    }
    if (rc != SQLITE_DONE) code = db_fail(s, rc, "exporting sweep points", err);
    else if (fmt == STORE_JSON) fputs(npoint ? "\n]\n" : "]\n", f);
out:
    sqlite3_finalize(st);
    sqlite3_finalize(pr);
    sqlite3_finalize(pub);
    return code;
}

SimStatus store_export(Store *s, const char *table, StoreFormat fmt, FILE *f, SimError *err) {
    if (table == NULL) table = "points";
    int k = 0;
    while (export_names[k] && strcmp(export_names[k], table) != 0) k++;
    if (export_names[k] == NULL) {
        char list[256] = "";
        for (int i = 0; export_names[i]; i++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", i ? ", " : "",
                     export_names[i]);
        return sim_errorf(err, SIM_EINVAL, "--table: unknown table '%s' (tables: %s)", table, list);
    }
    /* one read transaction: a consistent snapshot while other processes write */
    if (exec_sql(s, "BEGIN", "exporting", err) != SIM_OK) return err->code;
    SimStatus code = k == 0 ? export_points(s, fmt, f, err)
                            : export_table(s, table, export_order[k - 1], fmt, f, err);
    if (code == SIM_OK) code = exec_sql(s, "COMMIT", "exporting", err);
    else rollback(s);
    if (code == SIM_OK && (fflush(f) != 0 || ferror(f)))
        code = sim_errorf(err, SIM_EIO, "writing the export failed: %s", strerror(errno));
    return code;
}

/* ---- merge ---- */

/* Comma-separated columns of main.table, without skip (may be NULL); each prefixed with
 * prefix, except that the column called map_col is written as map_expr. malloc'd. */
static char *column_list(Store *s, const char *table, const char *skip, const char *prefix,
                         const char *map_col[2], const char *map_expr[2], SimError *err) {
    sqlite3_stmt *st = NULL;
    if (prepare(s, "SELECT name FROM pragma_table_info(:t, 'main') ORDER BY cid", &st, err) !=
        SIM_OK)
        return NULL;
    Binder b = {st, SQLITE_OK, NULL};
    bind_text(&b, ":t", table);
    if (bind_status(s, &b, err) != SIM_OK) {
        sqlite3_finalize(st);
        return NULL;
    }
    Buf out = {0};
    buf_add(&out, "", 0);
    int rc, n = 0;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        const char *c = (const char *)sqlite3_column_text(st, 0);
        if (c == NULL || (skip && strcmp(c, skip) == 0)) continue;
        const char *expr = NULL;
        for (int m = 0; m < 2 && map_col; m++)
            if (map_col[m] && strcmp(map_col[m], c) == 0) expr = map_expr[m];
        if (expr) buf_printf(&out, "%s%s", n ? ", " : "", expr);
        else buf_printf(&out, "%s%s\"%s\"", n ? ", " : "", prefix, c);
        n++;
    }
    sqlite3_finalize(st);
    if (rc != SQLITE_DONE) {
        db_fail(s, rc, "reading the schema", err);
        free(out.p);
        return NULL;
    }
    if (out.oom || n == 0) {
        free(out.p);
        sim_errorf(err, out.oom ? SIM_ENOMEM : SIM_EDB, "%s: cannot list the columns of %s",
                   s->path, table);
        return NULL;
    }
    return out.p;
}

/* INSERT INTO main.table (cols) SELECT <cols from x, mapped> FROM <from>; returns changes. */
static SimStatus copy_rows(Store *s, const char *table, const char *skip, const char *map_col[2],
                           const char *map_expr[2], const char *from, int64_t *changes,
                           SimError *err) {
    char *cols = column_list(s, table, skip, "", NULL, NULL, err);
    char *sel = cols ? column_list(s, table, skip, "x.", map_col, map_expr, err) : NULL;
    SimStatus code = SIM_OK;
    if (sel == NULL) {
        code = err->code;
    } else {
        Buf q = {0};
        buf_printf(&q, "INSERT INTO main.%s (%s) SELECT %s FROM %s", table, cols, sel, from);
        if (q.oom) code = sim_errorf(err, SIM_ENOMEM, "out of memory merging");
        else code = exec_sql(s, q.p, "merging", err);
        if (code == SIM_OK && changes) *changes = sqlite3_changes(s->db);
        free(q.p);
    }
    free(cols);
    free(sel);
    return code;
}

/* file:PATH?mode=ro with PATH percent-encoded. */
static char *ro_uri(const char *path) {
    Buf b = {0};
    buf_str(&b, "file:");
    for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
        if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
            strchr("/-._~", *p))
            buf_add(&b, (const char *)p, 1);
        else buf_printf(&b, "%%%02X", *p);
    }
    buf_str(&b, "?mode=ro");
    if (b.oom) {
        free(b.p);
        return NULL;
    }
    return b.p;
}

SimStatus store_merge(Store *s, const char *other, StoreMergeStats *stats, SimError *err) {
    StoreMergeStats zero = {0};
    StoreMergeStats *st = stats ? stats : &zero;
    memset(st, 0, sizeof *st);
    struct stat sb;
    if (other == NULL || stat(other, &sb) != 0)
        return sim_errorf(err, SIM_EINVAL, "%s: no such database file", other ? other : "(null)");
    char a[PATH_MAX], b[PATH_MAX];
    if (realpath(other, a) && realpath(s->path, b) && strcmp(a, b) == 0)
        return sim_errorf(err, SIM_EINVAL, "%s: cannot merge a database into itself", other);
    char *uri = ro_uri(other);
    if (uri == NULL) return sim_errorf(err, SIM_ENOMEM, "out of memory merging");
    sqlite3_stmt *at = NULL;
    SimStatus code = prepare(s, "ATTACH DATABASE :uri AS other", &at, err);
    if (code == SIM_OK) {
        Binder bi = {at, SQLITE_OK, NULL};
        bind_text(&bi, ":uri", uri);
        code = bind_step(s, &bi, "opening the other database", err);
    }
    sqlite3_finalize(at);
    free(uri);
    if (code != SIM_OK) return code;
    int in_tx = 0;
    int64_t v = 0, has_runs = 0;
    if (store_query_int(s, "SELECT count(*) FROM other.sqlite_schema WHERE name = 'runs'",
                        &has_runs, err) != SIM_OK ||
        store_query_int(s, "PRAGMA other.user_version", &v, err) != SIM_OK) {
        code = err->code;
        goto out;
    }
    if (!has_runs || v == 0) {
        code = sim_errorf(err, SIM_EINVAL, "%s: not an ltsim database", other);
        goto out;
    }
    if (v != STORE_SCHEMA_VERSION) {
        code = sim_errorf(err, SIM_EINVAL,
                          "%s: schema version %lld, this ltsim writes %d: %s", other,
                          (long long)v, STORE_SCHEMA_VERSION,
                          v < STORE_SCHEMA_VERSION
                              ? "open it once with this ltsim (ltsim db list --db OTHER) to "
                                "migrate it, then merge"
                              : "use a newer ltsim");
        goto out;
    }
    if ((code = exec_sql(s, "BEGIN IMMEDIATE", "merging", err)) != SIM_OK) goto out;
    in_tx = 1;
    static const char *const setup[] = {
        "DROP TABLE IF EXISTS temp.merge_runs",
        "DROP TABLE IF EXISTS temp.merge_sweeps",
        "CREATE TEMP TABLE merge_runs (old_id INTEGER PRIMARY KEY, new_id INTEGER, "
        "is_new INTEGER NOT NULL)",
        "INSERT INTO temp.merge_runs SELECT o.id, m.id, m.id IS NULL FROM other.runs o "
        "LEFT JOIN main.runs m ON m.uuid = o.uuid",
        NULL};
    for (int i = 0; setup[i]; i++)
        if ((code = exec_sql(s, setup[i], "merging", err)) != SIM_OK) goto out;
    if ((code = copy_rows(s, "runs", "id", NULL, NULL,
                          "other.runs x JOIN temp.merge_runs mr ON mr.old_id = x.id "
                          "WHERE mr.is_new ORDER BY x.id",
                          &st->runs_added, err)) != SIM_OK)
        goto out;
    if ((code = exec_sql(s,
                         "UPDATE temp.merge_runs SET new_id = (SELECT m.id FROM main.runs m "
                         "JOIN other.runs o ON o.uuid = m.uuid WHERE o.id = merge_runs.old_id) "
                         "WHERE is_new",
                         "merging", err)) != SIM_OK)
        goto out;
    if ((code = store_query_int(s, "SELECT count(*) FROM temp.merge_runs WHERE NOT is_new",
                                &st->runs_present, err)) != SIM_OK)
        goto out;
    static const char *const children[] = {"run_config", "ledger", "steps", "measurements",
                                           "predictions", NULL};
    const char *run_col[2] = {"run_id", NULL}, *run_expr[2] = {"mr.new_id", NULL};
    for (int i = 0; children[i]; i++) {
        char from[160];
        snprintf(from, sizeof from,
                 "other.%s x JOIN temp.merge_runs mr ON mr.old_id = x.run_id WHERE mr.is_new",
                 children[i]);
        if ((code = copy_rows(s, children[i], NULL, run_col, run_expr, from, NULL, err)) !=
            SIM_OK)
            goto out;
    }
    if ((code = copy_rows(s, "sweeps", "id", NULL, NULL,
                          "other.sweeps x WHERE x.spec_hash NOT IN (SELECT spec_hash FROM "
                          "main.sweeps) ORDER BY x.id",
                          &st->sweeps_added, err)) != SIM_OK)
        goto out;
    if ((code = exec_sql(s,
                         "CREATE TEMP TABLE merge_sweeps AS SELECT o.id AS old_id, m.id AS "
                         "new_id FROM other.sweeps o JOIN main.sweeps m ON m.spec_hash = "
                         "o.spec_hash",
                         "merging", err)) != SIM_OK)
        goto out;
    const char *pt_col[2] = {"sweep_id", "run_id"}, *pt_expr[2] = {"ms.new_id", "mr.new_id"};
    if ((code = copy_rows(s, "sweep_points", "id", pt_col, pt_expr,
                          "other.sweep_points x JOIN temp.merge_sweeps ms ON ms.old_id = "
                          "x.sweep_id JOIN temp.merge_runs mr ON mr.old_id = x.run_id WHERE NOT "
                          "EXISTS (SELECT 1 FROM main.sweep_points q WHERE q.sweep_id = "
                          "ms.new_id AND q.family = x.family AND q.budget_macs = x.budget_macs "
                          "AND q.width = x.width AND q.role = x.role AND q.label = x.label) "
                          "ORDER BY x.id",
                          &st->points_added, err)) != SIM_OK)
        goto out;
    if ((code = copy_rows(s, "calibrations", "id", NULL, NULL,
                          "other.calibrations x WHERE x.uuid NOT IN (SELECT uuid FROM "
                          "main.calibrations) ORDER BY x.id",
                          &st->calibrations_added, err)) != SIM_OK)
        goto out;
    if ((code = copy_rows(s, "accuracy_results", "id", NULL, NULL,
                          "other.accuracy_results x WHERE NOT EXISTS (SELECT 1 FROM "
                          "main.accuracy_results q WHERE q.task = x.task AND q.model_name = "
                          "x.model_name AND q.metric = x.metric) AND x.uuid NOT IN (SELECT uuid "
                          "FROM main.accuracy_results) ORDER BY x.id",
                          &st->accuracy_added, err)) != SIM_OK)
        goto out;
    if ((code = copy_rows(s, "carbon_comparisons", "id", NULL, NULL,
                          "other.carbon_comparisons x WHERE x.uuid NOT IN (SELECT uuid FROM "
                          "main.carbon_comparisons) ORDER BY x.id",
                          &st->comparisons_added, err)) != SIM_OK)
        goto out;
    code = exec_sql(s, "COMMIT", "merging", err);
    if (code == SIM_OK) {
        in_tx = 0;
        code = exec_sql(s, "DROP TABLE temp.merge_runs; DROP TABLE temp.merge_sweeps",
                        "merging", err);
    }
out:
    if (in_tx) rollback(s);
    if (code != SIM_OK) memset(st, 0, sizeof *st);
    /* the merge is committed (or rolled back) either way: a failed DETACH only leaks the
     * attachment until store_close */
    sqlite3_exec(s->db, "DETACH DATABASE other", NULL, NULL, NULL);
    return code;
}

/* ---- git ---- */

static int is_hex40(const char *s) {
    for (int i = 0; i < 40; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
    return 1;
}

void store_git_hash(const char *repo_dir, char *out, size_t n) {
    if (n > 0) out[0] = '\0';
    if (n < 41) return;
    char dir[1024], path[1200];
    const char *home = getenv("LTSIM_HOME");
    if (repo_dir) snprintf(dir, sizeof dir, "%s", repo_dir);
    else if (home && *home) snprintf(dir, sizeof dir, "%s", home);
    else paths_exe_dir(dir, sizeof dir);
    snprintf(path, sizeof path, "%s/.git/HEAD", dir);
    char *head = read_text(path, 4096);
    if (head == NULL) return;
    head[strcspn(head, "\r\n")] = '\0';
    if (strncmp(head, "ref: ", 5) != 0) {
        if (strlen(head) >= 40 && is_hex40(head)) snprintf(out, n, "%.40s", head);
        free(head);
        return;
    }
    const char *ref = head + 5;
    snprintf(path, sizeof path, "%s/.git/%s", dir, ref);
    char *h = read_text(path, 4096);
    if (h && strlen(h) >= 40 && is_hex40(h)) {
        snprintf(out, n, "%.40s", h);
    } else {
        snprintf(path, sizeof path, "%s/.git/packed-refs", dir);
        char *packed = read_text(path, 1 << 24);
        for (char *line = packed; line && *line;) {
            char *nl = strchr(line, '\n');
            if (nl) *nl = '\0';
            if (strlen(line) > 41 && is_hex40(line) && line[40] == ' ' &&
                strcmp(line + 41, ref) == 0) {
                snprintf(out, n, "%.40s", line);
                break;
            }
            line = nl ? nl + 1 : NULL;
        }
        free(packed);
    }
    free(h);
    free(head);
}
