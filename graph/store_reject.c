/* Rejected suggestions kept in the "rejected" named database (contract in
 * graph/store_reject.h). */
#include "graph/store_reject.h"

#include <string.h>
#include <time.h>

#define REJ_DB "rejected"
#define KEY_CAP 1024           /* above any LMDB build's maximum key size */

typedef struct rctx {
    kgg_reject *r;
    size_t n;
    int remove;
    MDB_dbi names, dependents, recommenders, rej;
    int have_rej;              /* the table exists (rej is valid) */
    size_t maxkey;
    size_t done;
    int64_t now;
} rctx;

/* "prereq\0concept" into buf; 0, or -1 when it does not fit an LMDB key. */
static int pair_key(const rctx *c, const kgg_reject *x, uint8_t buf[KEY_CAP], MDB_val *k)
{
    size_t a = strlen(x->prereq), b = strlen(x->concept);
    if (a + 1 + b > c->maxkey || a + 1 + b > KEY_CAP) return -1;
    memcpy(buf, x->prereq, a + 1);
    memcpy(buf + a + 1, x->concept, b);
    *k = (MDB_val){a + 1 + b, buf};
    return 0;
}

/* Opens the table's handle. Without create an absent table leaves
 * *have 0 and creates nothing (a probe in a read transaction, as
 * kgg_fit_all does). */
static kgp_status rej_handle(kgg_store *st, int create, MDB_dbi *dbi, int *have, kgg_err *e)
{
    *have = 0;
    if (!create) return kgg_store_find_dbi(st, REJ_DB, dbi, have, e);
    kgp_status s = kgg_store_open_dbi(st, REJ_DB, MDB_CREATE, dbi, e);
    if (!s) *have = 1;
    return s;
}

/* Is the reverse-index entry key -> val present (a resolved edge)?
 * 1 yes, 0 no, or an LMDB error (> 1) in *rcp. */
static int has_dup(MDB_txn *txn, MDB_dbi dbi, uint32_t key, uint32_t val, int *rcp)
{
    uint8_t kb[4], vb[4];
    kgg_put_be32(kb, key);
    kgg_put_be32(vb, val);
    MDB_val k = {4, kb}, v = {4, vb};
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (!rc) {
        rc = mdb_cursor_get(cur, &k, &v, MDB_GET_BOTH);
        mdb_cursor_close(cur);
    }
    *rcp = rc && rc != MDB_NOTFOUND ? rc : 0;
    return rc == 0;
}

/* Concept id of key: 0, MDB_NOTFOUND, or an LMDB error. */
static int concept_id(const rctx *c, MDB_txn *txn, const char *key, uint32_t *id)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (k.mv_size == 0 || k.mv_size > c->maxkey) return MDB_NOTFOUND;
    int rc = mdb_get(txn, c->names, &k, &v);
    if (rc == 0 && v.mv_size != 4) rc = MDB_NOTFOUND;
    if (rc == 0) *id = kgg_be32(v.mv_data);
    return rc;
}

/* The outcome of pair i against the store and the pairs before it, or an
 * LMDB error (> 0) in *rcp. */
static int check_pair(rctx *c, MDB_txn *txn, size_t i, const MDB_val *key, int key_ok, int *rcp)
{
    kgg_reject *x = &c->r[i];
    *rcp = 0;
    for (size_t j = 0; j < i; j++)
        if (!strcmp(c->r[j].prereq, x->prereq) && !strcmp(c->r[j].concept, x->concept)) return KGG_REJECT_DUPLICATE;
    if (!c->remove) {
        uint32_t p = 0, q = 0;
        int rc = concept_id(c, txn, x->prereq, &p);
        if (!rc) rc = concept_id(c, txn, x->concept, &q);
        if (rc == MDB_NOTFOUND) return KGG_REJECT_UNKNOWN;
        if (rc) { *rcp = rc; return KGG_REJECT_DONE; }
        if (p == q) return KGG_REJECT_SELF;
        /* dependents: member -> concept requiring it; recommenders: p -> concept p is recommended before */
        if (has_dup(txn, c->dependents, p, q, rcp) || (!*rcp && has_dup(txn, c->recommenders, p, q, rcp)))
            return KGG_REJECT_EDGE;
        if (*rcp) return KGG_REJECT_DONE;
        if (!key_ok) return KGG_REJECT_TOO_LONG;
    } else if (!key_ok) {
        return KGG_REJECT_ABSENT;      /* could never have been stored */
    }
    MDB_val v;
    int rc = c->have_rej ? mdb_get(txn, c->rej, (MDB_val *)key, &v) : MDB_NOTFOUND;
    if (rc && rc != MDB_NOTFOUND) { *rcp = rc; return KGG_REJECT_DONE; }
    if (c->remove) return rc ? KGG_REJECT_ABSENT : KGG_REJECT_DONE;
    return rc ? KGG_REJECT_DONE : KGG_REJECT_ALREADY;
}

static const char *what(int outcome)
{
    switch (outcome) {
    case KGG_REJECT_UNKNOWN: return "no such concept in the database";
    case KGG_REJECT_SELF: return "a concept cannot be its own prerequisite";
    case KGG_REJECT_EDGE: return "this is already an edge (never suggested, nothing to reject)";
    case KGG_REJECT_DUPLICATE: return "this pair is given twice";
    case KGG_REJECT_TOO_LONG: return "the two keys are too long to record together";
    default: return "this pair is not rejected";
    }
}

/* Writes the record of x: time varint, score f64 LE, model, reason
 * (strings as varint len + 1, bytes, NUL; 0 for NULL). Returns the length;
 * out NULL only measures. */
static size_t encode_rec(const kgg_reject *x, int64_t when, uint8_t *out)
{
    size_t o = 0;
    const char *s[2] = {x->model, x->reason};
    uint64_t num[3] = {(uint64_t)(when < 0 ? 0 : when), 0, 0};
    for (int f = 0; f < 3; f++) {
        if (f > 0) num[f] = s[f - 1] ? strlen(s[f - 1]) + 1 : 0;
        uint64_t v = num[f];
        do {
            if (out) out[o] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
            o++;
            v >>= 7;
        } while (v);
        if (f == 0) {
            uint64_t u;
            double d = x->score;
            memcpy(&u, &d, 8);
            for (int b = 0; b < 8; b++, o++)
                if (out) out[o] = (uint8_t)(u >> (8 * b));
        } else if (num[f]) {
            if (out) memcpy(out + o, s[f - 1], (size_t)num[f]);
            o += (size_t)num[f];
        }
    }
    return o;
}

/* Checks every pair and, with write, records or removes it. */
static kgp_status run(rctx *c, MDB_txn *txn, int write, int *mrc, kgg_err *e)
{
    c->done = 0;
    for (size_t i = 0; i < c->n; i++) c->r[i].outcome = KGG_REJECT_DONE;
    for (size_t i = 0; i < c->n; i++) {
        kgg_reject *x = &c->r[i];
        uint8_t kb[KEY_CAP];
        MDB_val k = {0, kb};
        int key_ok = pair_key(c, x, kb, &k) == 0, rc = 0;
        int out = check_pair(c, txn, i, &k, key_ok, &rc);
        if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "rejected suggestions: %s", mdb_strerror(rc)); }
        x->outcome = out;
        if (out == KGG_REJECT_ALREADY) continue;
        if (out != KGG_REJECT_DONE)
            return kgg_errf(e, out == KGG_REJECT_UNKNOWN ? KGP_ENOTFOUND : KGP_EINPUT, "pair %zu ('%s' before '%s'): %s",
                            i + 1, x->prereq, x->concept, what(out));
        c->done++;
        if (!write) continue;
        if (c->remove) {
            rc = mdb_del(txn, c->rej, &k, NULL);
        } else {
            MDB_val v = {encode_rec(x, x->time ? x->time : c->now, NULL), NULL};
            rc = mdb_put(txn, c->rej, &k, &v, MDB_RESERVE);
            if (!rc) encode_rec(x, x->time ? x->time : c->now, v.mv_data);
        }
        if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "rejected suggestions: %s", mdb_strerror(rc)); }
    }
    return KGP_OK;
}

static kgp_status write_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    return run(ud, txn, 1, mrc, e);
}

/* Add and remove: a checking pass in a read transaction (so that a refused
 * or empty request never creates the table or writes), then the write,
 * which checks again. */
static kgp_status change(kgg_store *st, kgg_reject *r, size_t n, unsigned flags, int remove, size_t *ndone,
                         kgg_err *e)
{
    if (ndone) *ndone = 0;
    if (n && !r) return kgg_errf(e, KGP_EUSAGE, "no pairs");
    if (kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    for (size_t i = 0; i < n; i++)
        if (!r[i].prereq || !r[i].concept) return kgg_errf(e, KGP_EUSAGE, "pair %zu: no concept key", i + 1);
    rctx c = {.r = r, .n = n, .remove = remove, .maxkey = (size_t)mdb_env_get_maxkeysize(kgg_store_env(st)),
              .now = (int64_t)time(NULL)};
    kgg_store_dbi(st, "names", &c.names);
    kgg_store_dbi(st, "dependents", &c.dependents);
    kgg_store_dbi(st, "recommenders", &c.recommenders);
    kgp_status s = rej_handle(st, 0, &c.rej, &c.have_rej, e);
    MDB_txn *txn;
    if (!s) s = kgg_store_read_begin(st, &txn, e);
    if (s) return s;
    int mrc = 0;
    s = run(&c, txn, 0, &mrc, e);
    kgg_store_read_end(txn);
    if (s || (flags & KGG_REJECT_DRY_RUN) || c.done == 0) {
        if (!s && ndone) *ndone = c.done;
        return s;
    }
    if (!c.have_rej && (s = rej_handle(st, 1, &c.rej, &c.have_rej, e))) return s;
    s = kgg_store_update(st, write_txn, &c, e);
    if (!s && ndone) *ndone = c.done;
    return s;
}

kgp_status kgg_reject_add(kgg_store *st, kgg_reject *r, size_t n, unsigned flags, size_t *nadded, kgg_err *e)
{
    return change(st, r, n, flags, 0, nadded, e);
}

kgp_status kgg_reject_remove(kgg_store *st, kgg_reject *r, size_t n, unsigned flags, size_t *nremoved,
                             kgg_err *e)
{
    return change(st, r, n, flags, 1, nremoved, e);
}

kgp_status kgg_reject_each(kgg_store *st, kgg_reject_fn fn, void *ud, kgg_err *e)
{
    MDB_dbi dbi;
    int have;
    kgp_status s = rej_handle(st, 0, &dbi, &have, e);
    if (s || !have) return s;
    MDB_txn *txn;
    if ((s = kgg_store_read_begin(st, &txn, e))) return s;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, dbi, &cur);
    if (rc) {
        kgg_store_read_end(txn);
        return kgg_errf(e, kgg_mdb_status(rc), "rejected suggestions: %s", mdb_strerror(rc));
    }
    MDB_val k, v;
    char kb[KEY_CAP + 1];
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !s && rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *sep = k.mv_size < KEY_CAP ? memchr(k.mv_data, 0, k.mv_size) : NULL;
        kgg_rd rd = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
        kgg_reject x = {0};
        x.time = (int64_t)kgg_rd_varint(&rd);
        x.score = kgg_rd_f64(&rd);
        x.model = kgg_rd_str(&rd);
        x.reason = kgg_rd_str(&rd);
        if (!sep || rd.bad) {
            s = kgg_errf(e, KGP_EDB, "%s: damaged rejected-suggestion record", kgg_store_path(st));
            break;
        }
        memcpy(kb, k.mv_data, k.mv_size);
        kb[k.mv_size] = 0;
        x.prereq = kb;
        x.concept = kb + ((const char *)sep - (const char *)k.mv_data) + 1;
        s = (kgp_status)fn(ud, &x);
    }
    if (!s && rc && rc != MDB_NOTFOUND) s = kgg_errf(e, kgg_mdb_status(rc), "rejected suggestions: %s", mdb_strerror(rc));
    mdb_cursor_close(cur);
    kgg_store_read_end(txn);
    return s;
}
