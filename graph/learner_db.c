/* Learner events in LMDB: append, replay, summaries and fitted parameters
 * (see graph/learner_store.h). */
#include "graph/learner_store.h"
#include "base/alloc.h"
#include "graph/snapshot.h"

#include <string.h>

static int has_sep(const char *s)
{
    return strpbrk(s, "\t\n\r") != NULL;
}

static void put_be64(unsigned char *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

/* ---- storage ------------------------------------------------------------- */

#define FIT_DB "learner_fit"
#define FSRS_DB "learner_fsrs"
#define MODEL_DB "learner_model"
#define FSRS_POP "\t"        /* the population's key: no learner id has a tab */

static void put_i64be(unsigned char *b, int64_t v)
{
    put_be64(b, (uint64_t)v ^ 0x8000000000000000ULL);
}

static uint64_t get_be64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | b[i];
    return v;
}

static int64_t get_i64be(const unsigned char *b)
{
    return (int64_t)(get_be64(b) ^ 0x8000000000000000ULL);
}

static kgp_status mdb_fail(kgg_err *e, int *mdb_rc, int rc, const char *what)
{
    if (mdb_rc)
        *mdb_rc = rc;
    return kgg_errf(e, kgg_mdb_status(rc), "learner store: %s: %s", what, mdb_strerror(rc));
}

static const char *event_invalid(const kgg_event *ev)
{
    if (!ev->learner || !*ev->learner || strlen(ev->learner) > KGG_LEARNER_MAX)
        return "learner id empty or too long";
    if (!ev->concept || !*ev->concept || strlen(ev->concept) > KGG_CONCEPT_MAX)
        return "concept empty or too long";
    if (has_sep(ev->learner) || has_sep(ev->concept))
        return "ids may not contain tabs or newlines";
    if (ev->kind < 1 || ev->kind > 3)
        return "bad kind";
    if (ev->grade < 0 || ev->grade > 4)
        return "bad grade";
    if (ev->score > 1)
        return "score above 1";
    return NULL;
}

typedef struct append_ctx {
    const kgg_event *ev;
    size_t n, added, dups;
    MDB_dbi dev, dln;       /* "events", "learners" */
} append_ctx;

static kgp_status append_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    append_ctx *c = ud;
    MDB_dbi dev = c->dev, dln = c->dln;
    c->added = c->dups = 0;     /* fn may run again after the map grows */
    char small[1024];
    for (size_t i = 0; i < c->n; i++) {
        const kgg_event *ev = &c->ev[i];
        unsigned char key[KGG_LEARNER_MAX + 17];
        int kl = kgg_event_key(ev, key, sizeof key);
        int vl = kgg_event_encode(ev, small, sizeof small);
        if (kl < 0 || vl < 0)
            return kgg_errf(e, KGP_EINPUT, "event %zu: cannot encode", i + 1);
        char *val = small;
        if ((size_t)vl >= sizeof small) {
            if (!(val = kg_malloc((size_t)vl + 1)))
                return kgg_errf(e, KGP_ENOMEM, "out of memory");
            kgg_event_encode(ev, val, (size_t)vl + 1);
        }
        MDB_val k = { (size_t)kl, key }, v = { (size_t)vl, val };
        int rc = mdb_put(txn, dev, &k, &v, MDB_NOOVERWRITE);
        if (val != small)
            kg_free(val);
        if (rc == MDB_KEYEXIST) {
            c->dups++;      /* same canonical event (or a 64-bit collision) */
            continue;
        }
        if (rc)
            return mdb_fail(e, mdb_rc, rc, "cannot store event");
        c->added++;
        /* learner summary */
        size_t ln = strlen(ev->learner);
        MDB_val lk = { ln, (void *)ev->learner }, lv;
        unsigned char rec[24];
        uint64_t cnt = 0;
        int64_t first = ev->at, last = ev->at;
        rc = mdb_get(txn, dln, &lk, &lv);
        if (rc == 0 && lv.mv_size == 24) {
            const unsigned char *b = lv.mv_data;
            cnt = get_be64(b);
            int64_t f = get_i64be(b + 8), l = get_i64be(b + 16);
            if (f < first) first = f;
            if (l > last) last = l;
        } else if (rc && rc != MDB_NOTFOUND) {
            return mdb_fail(e, mdb_rc, rc, "cannot read learner");
        }
        put_be64(rec, cnt + 1);
        put_i64be(rec + 8, first);
        put_i64be(rec + 16, last);
        lv.mv_size = 24;
        lv.mv_data = rec;
        if ((rc = mdb_put(txn, dln, &lk, &lv, 0)))
            return mdb_fail(e, mdb_rc, rc, "cannot store learner");
    }
    return KGP_OK;
}

static kgp_status open_dbis(kgg_store *st, MDB_dbi *dev, MDB_dbi *dln, kgg_err *e)
{
    if (kgg_store_dbi(st, "events", dev) || kgg_store_dbi(st, "learners", dln))
        return kgg_errf(e, KGP_EINTERNAL, "store has no events/learners databases");
    return KGP_OK;
}

/* The tables and a read transaction (end it with kgg_store_read_end); on
 * failure nothing is left open. */
static kgp_status read_dbis(kgg_store *st, MDB_dbi *dev, MDB_dbi *dln, MDB_txn **txn,
                            kgg_err *e)
{
    kgp_status s = open_dbis(st, dev, dln, e);
    return s ? s : kgg_store_read_begin(st, txn, e);
}

/* Begins a read transaction with a cursor on dbi; on failure nothing is
 * left open. End the scan with scan_end. */
static kgp_status scan_begin(kgg_store *st, MDB_dbi dbi, MDB_txn **txn,
                             MDB_cursor **cur, kgg_err *e)
{
    kgp_status s = kgg_store_read_begin(st, txn, e);
    if (s)
        return s;
    int rc = mdb_cursor_open(*txn, dbi, cur);
    if (rc) {
        kgg_store_read_end(*txn);
        return mdb_fail(e, NULL, rc, "cannot open cursor");
    }
    return KGP_OK;
}

/* scan_begin on the events database, or on the learners one when learners
 * is nonzero. */
static kgp_status scan_learner_db(kgg_store *st, int learners, MDB_txn **txn,
                                  MDB_cursor **cur, kgg_err *e)
{
    MDB_dbi dev, dln;
    kgp_status s = open_dbis(st, &dev, &dln, e);
    if (s)
        return s;
    return scan_begin(st, learners ? dln : dev, txn, cur, e);
}

/* Closes cur and txn; returns s, or when s is KGP_OK and rc (the last
 * cursor result) is an LMDB error other than the normal end of data
 * (MDB_NOTFOUND), the "what" error for rc. */
static kgp_status scan_end(MDB_txn *txn, MDB_cursor *cur, int rc, kgp_status s,
                           const char *what, kgg_err *e)
{
    if (rc && rc != MDB_NOTFOUND && s == KGP_OK)
        s = mdb_fail(e, NULL, rc, what);
    mdb_cursor_close(cur);
    kgg_store_read_end(txn);
    return s;
}
kgp_status kgg_learner_append(kgg_store *st, const kgg_event *ev, size_t n,
                              size_t *added, size_t *dups, kgg_err *e)
{
    append_ctx c = { .ev = ev, .n = n };
    if (added) *added = 0;
    if (dups) *dups = 0;
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "%s: the database is open read-only",
                        kgg_store_path(st));
    for (size_t i = 0; i < n; i++) {
        const char *why = event_invalid(&ev[i]);
        if (why)
            return kgg_errf(e, KGP_EINPUT, "event %zu: %s", i + 1, why);
    }
    kgp_status s = open_dbis(st, &c.dev, &c.dln, e);
    if (s)
        return s;
    if (n == 0)
        return KGP_OK;
    s = kgg_store_update(st, append_txn, &c, e);
    if (s == KGP_OK) {
        if (added) *added = c.added;
        if (dups) *dups = c.dups;
    }
    return s;
}

/* Decodes a stored event and calls fn; returns fn's result, or -1 with e
 * set when the record is corrupt or memory runs out. */
static int visit(const MDB_val *v, kgg_event_fn fn, void *ud, kgg_err *e,
                 kgp_status *st)
{
    char small[1024];
    char *sb = v->mv_size < sizeof small ? small : kg_malloc(v->mv_size + 1);
    if (!sb) {
        *st = kgg_errf(e, KGP_ENOMEM, "out of memory");
        return -1;
    }
    kgg_event ev;
    int r;
    if (kgg_event_decode(v->mv_data, v->mv_size, sb, &ev)) {
        *st = kgg_errf(e, KGP_EDB, "learner store: corrupt event record");
        r = -1;
    } else {
        r = fn(ud, &ev) ? 1 : 0;
    }
    if (sb != small)
        kg_free(sb);
    return r;
}

kgp_status kgg_learner_events(kgg_store *st, const char *learner,
                              kgg_event_fn fn, void *ud, kgg_err *e)
{
    MDB_dbi dev, dln;
    kgp_status s = open_dbis(st, &dev, &dln, e);
    if (s)
        return s;
    size_t ln = strlen(learner);
    if (ln == 0 || ln > KGG_LEARNER_MAX)
        return kgg_errf(e, KGP_ENOTFOUND, "no learner \"%.80s\"", learner);
    MDB_txn *txn;
    MDB_cursor *cur;
    if ((s = scan_begin(st, dev, &txn, &cur, e)))
        return s;
    int rc;
    unsigned char prefix[KGG_LEARNER_MAX + 1];
    memcpy(prefix, learner, ln);
    prefix[ln] = '\0';
    MDB_val k = { ln + 1, prefix }, v;
    size_t seen = 0;
    rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == ln + 17 && memcmp(k.mv_data, prefix, ln + 1) == 0) {
        seen++;
        int r = visit(&v, fn, ud, e, &s);
        if (r)
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    s = scan_end(txn, cur, rc, s, "cannot read events", e);
    if (s == KGP_OK && seen == 0)
        s = kgg_errf(e, KGP_ENOTFOUND, "no events for learner \"%.80s\"", learner);
    return s;
}

kgp_status kgg_events_all(kgg_store *st, kgg_event_fn fn, void *ud, kgg_err *e)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    kgp_status s = scan_learner_db(st, 0, &txn, &cur, e);
    if (s)
        return s;
    int rc;
    MDB_val k, v;
    rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    while (rc == 0) {
        if (visit(&v, fn, ud, e, &s))
            break;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    s = scan_end(txn, cur, rc, s, "cannot read events", e);
    return s;
}

static void decode_info(const MDB_val *v, kgg_learner_info *out)
{
    const unsigned char *b = v->mv_data;
    out->nevents = get_be64(b);
    out->first = get_i64be(b + 8);
    out->last = get_i64be(b + 16);
}

kgp_status kgg_learner_info_get(kgg_store *st, const char *learner,
                                kgg_learner_info *out, kgg_err *e)
{
    MDB_dbi dev, dln;
    MDB_txn *txn;
    kgp_status s = read_dbis(st, &dev, &dln, &txn, e);
    if (s)
        return s;
    MDB_val k = { strlen(learner), (void *)learner }, v;
    int rc = k.mv_size ? mdb_get(txn, dln, &k, &v) : MDB_NOTFOUND;
    if (rc == 0 && v.mv_size == 24)
        decode_info(&v, out);
    else if (rc == 0)
        s = kgg_errf(e, KGP_EDB, "learner store: corrupt learner record");
    else if (rc == MDB_NOTFOUND)
        s = kgg_errf(e, KGP_ENOTFOUND, "no learner \"%.80s\"", learner);
    else
        s = mdb_fail(e, NULL, rc, "cannot read learner");
    kgg_store_read_end(txn);
    return s;
}

kgp_status kgg_events_count(kgg_store *st, uint64_t *n, kgg_err *e)
{
    MDB_dbi dev, dln;
    MDB_txn *txn;
    *n = 0;
    kgp_status s = read_dbis(st, &dev, &dln, &txn, e);
    if (s)
        return s;
    MDB_stat ms;
    int rc = mdb_stat(txn, dev, &ms);
    if (rc)
        s = mdb_fail(e, NULL, rc, "cannot count events");
    else
        *n = ms.ms_entries;
    kgg_store_read_end(txn);
    return s;
}

kgp_status kgg_learners_all(kgg_store *st, kgg_learner_fn fn, void *ud,
                            kgg_err *e)
{
    MDB_txn *txn;
    MDB_cursor *cur;
    kgp_status s = scan_learner_db(st, 1, &txn, &cur, e);
    if (s)
        return s;
    int rc;
    MDB_val k, v;
    char id[KGG_LEARNER_MAX + 1];
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (v.mv_size != 24 || k.mv_size > KGG_LEARNER_MAX) {
            s = kgg_errf(e, KGP_EDB, "learner store: corrupt learner record");
            break;
        }
        kgg_learner_info info;
        decode_info(&v, &info);
        memcpy(id, k.mv_data, k.mv_size);
        id[k.mv_size] = '\0';
        if (fn(ud, id, &info))
            break;
    }
    s = scan_end(txn, cur, rc, s, "cannot read learners", e);
    return s;
}

/* ---- fitted parameters ---------------------------------------------------- */

/* Record: 8 doubles as 8 bytes each (IEEE, big-endian bit pattern):
 * prior learn learn_read guess slip forget minutes, then u64 flags|nobs|ndwell
 * packed as three 8-byte integers. */
#define FIT_LEN (7 * 8 + 3 * 8)     /* records written before review minutes */
#define FIT_LEN2 (FIT_LEN + 2 * 8)  /* + review minutes recalled, failed */

static void put_f64(unsigned char *b, double d)
{
    uint64_t u;
    memcpy(&u, &d, 8);
    put_be64(b, u);
}

static double get_f64(const unsigned char *b)
{
    uint64_t u = get_be64(b);
    double d;
    memcpy(&d, &u, 8);
    return d;
}

typedef struct fit_ctx {
    const kgg_fit_rec *recs;
    size_t n;
    MDB_dbi dbi;
} fit_ctx;

static kgp_status fit_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    fit_ctx *c = ud;
    int rc = mdb_drop(txn, c->dbi, 0);
    if (rc)
        return mdb_fail(e, mdb_rc, rc, "cannot clear fitted parameters");
    for (size_t i = 0; i < c->n; i++) {
        const kgg_fit_rec *r = &c->recs[i];
        unsigned char b[FIT_LEN2];
        const double d[7] = { r->prior, r->learn, r->learn_read, r->guess,
                              r->slip, r->forget, r->minutes };
        for (int j = 0; j < 7; j++)
            put_f64(b + 8 * j, d[j]);
        put_be64(b + 56, (uint64_t)(r->bkt_fitted != 0));
        put_be64(b + 64, r->nobs);
        put_be64(b + 72, r->ndwell);
        put_f64(b + 80, r->review_ok);
        put_f64(b + 88, r->review_fail);
        size_t kl = strlen(r->concept);
        if (kl == 0 || kl > KGG_CONCEPT_MAX)
            return kgg_errf(e, KGP_EINPUT, "fitted record with a bad concept key");
        MDB_val k = { kl, (void *)r->concept }, v = { FIT_LEN2, b };
        if ((rc = mdb_put(txn, c->dbi, &k, &v, 0)))
            return mdb_fail(e, mdb_rc, rc, "cannot store fitted parameters");
    }
    return KGP_OK;
}

/* Opens (creating) the named database into *dbi and runs fn (which clears
 * and refills it) in one write transaction. */
static kgp_status replace_named(kgg_store *st, const char *name, MDB_dbi *dbi,
                                kgg_txn_fn fn, void *ctx, kgg_err *e)
{
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "%s: the database is open read-only",
                        kgg_store_path(st));
    kgp_status s = kgg_store_open_dbi(st, name, MDB_CREATE, dbi, e);
    return s ? s : kgg_store_update(st, fn, ctx, e);
}

/* Opens the named database for reading without creating it: *present 0
 * when it does not exist (nothing fitted yet: not an error, and a plan on a
 * writable store stays a pure read). */
static kgp_status open_named(kgg_store *st, const char *name, MDB_dbi *dbi, int *present,
                             kgg_err *e)
{
    return kgg_store_find_dbi(st, name, dbi, present, e);
}

kgp_status kgg_fit_replace(kgg_store *st, const kgg_fit_rec *recs, size_t n,
                           kgg_err *e)
{
    fit_ctx c = { recs, n, 0 };
    return replace_named(st, FIT_DB, &c.dbi, fit_txn, &c, e);
}

kgp_status kgg_fit_all(kgg_store *st, kgg_fit_fn fn, void *ud, kgg_err *e)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    int present;
    kgp_status s = open_named(st, FIT_DB, &dbi, &present, e);
    if (s || !present)
        return s;
    MDB_cursor *cur;
    if ((s = scan_begin(st, dbi, &txn, &cur, e)))
        return s;
    int rc;
    MDB_val k, v;
    char key[KGG_CONCEPT_MAX + 1];
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if ((v.mv_size != FIT_LEN && v.mv_size != FIT_LEN2) || k.mv_size > KGG_CONCEPT_MAX) {
            s = kgg_errf(e, KGP_EDB, "learner store: corrupt fitted record");
            break;
        }
        memcpy(key, k.mv_data, k.mv_size);
        key[k.mv_size] = '\0';
        const unsigned char *b = v.mv_data;
        kgg_fit_rec r = {
            .concept = key, .prior = get_f64(b), .learn = get_f64(b + 8),
            .learn_read = get_f64(b + 16), .guess = get_f64(b + 24),
            .slip = get_f64(b + 32), .forget = get_f64(b + 40),
            .minutes = get_f64(b + 48), .bkt_fitted = (int)get_be64(b + 56),
            .nobs = (uint32_t)get_be64(b + 64), .ndwell = (uint32_t)get_be64(b + 72),
            .review_ok = v.mv_size == FIT_LEN2 ? get_f64(b + 80) : -1,
            .review_fail = v.mv_size == FIT_LEN2 ? get_f64(b + 88) : -1,
        };
        if (fn(ud, &r))
            break;
    }
    s = scan_end(txn, cur, rc, s, "cannot read fitted parameters", e);
    return s;
}

typedef struct apply_ctx {
    struct kgg_snap *s;
    uint32_t n;
} apply_ctx;

static int apply_fn(void *ud, const kgg_fit_rec *r)
{
    apply_ctx *a = ud;
    if (r->minutes < 0)
        return 0;
    uint32_t x = kgg_snap_find_key(a->s, r->concept);
    if (x != KGG_NONE) {
        a->s->minutes[x] = (float)r->minutes;
        a->n++;
    }
    return 0;
}

kgp_status kgg_fit_apply_minutes(kgg_store *st, struct kgg_snap *s,
                                 uint32_t *replaced, kgg_err *e)
{
    apply_ctx a = { s, 0 };
    kgp_status rc = kgg_fit_all(st, apply_fn, &a, e);
    if (replaced)
        *replaced = a.n;
    return rc;
}

/* ---- fitted FSRS weights ------------------------------------------------------ */

#define FSRS_LEN (KGG_FSRS_NW * 8)

typedef struct fsrs_ctx {
    const kgg_fsrs_rec *recs;
    size_t n;
    MDB_dbi dbi;
} fsrs_ctx;

static kgp_status fsrs_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    fsrs_ctx *c = ud;
    int rc = mdb_drop(txn, c->dbi, 0);
    if (rc)
        return mdb_fail(e, mdb_rc, rc, "cannot clear fitted weights");
    for (size_t i = 0; i < c->n; i++) {
        const kgg_fsrs_rec *r = &c->recs[i];
        const char *key = r->learner ? r->learner : FSRS_POP;
        size_t kl = strlen(key);
        if (kl == 0 || kl > KGG_CONCEPT_MAX || (r->learner && strchr(key, '\t')))
            return kgg_errf(e, KGP_EINPUT, "fitted weights with a bad learner id");
        unsigned char b[FSRS_LEN];
        for (int j = 0; j < KGG_FSRS_NW; j++)
            put_f64(b + 8 * j, r->w[j]);
        MDB_val k = { kl, (void *)key }, v = { FSRS_LEN, b };
        if ((rc = mdb_put(txn, c->dbi, &k, &v, 0)))
            return mdb_fail(e, mdb_rc, rc, "cannot store fitted weights");
    }
    return KGP_OK;
}

/* Reads the doubles stored under `key` in the named database `name` into
 * v (at most max): *nv how many, *found 0 when the database or the key does
 * not exist. A value that is not whole doubles, or longer than max, is
 * corrupt (`what` names it). Shared by the fitted weights and model values. */
static kgp_status get_doubles(kgg_store *st, const char *name, const char *key, double *v,
                              size_t max, size_t *nv, int *found, const char *what, kgg_err *e)
{
    MDB_txn *txn;
    MDB_dbi dbi;
    int present;
    *found = 0;
    *nv = 0;
    kgp_status s = open_named(st, name, &dbi, &present, e);
    if (s || !present)
        return s;               /* never fitted: *found 0 */
    if ((s = kgg_store_read_begin(st, &txn, e)))
        return s;
    MDB_val k = { strlen(key), (void *)key }, val;
    int rc = k.mv_size && k.mv_size <= KGG_CONCEPT_MAX ? mdb_get(txn, dbi, &k, &val) : MDB_NOTFOUND;
    if (rc == 0 && (val.mv_size % 8 || val.mv_size > 8 * max))
        s = kgg_errf(e, KGP_EDB, "learner store: corrupt %s", what);
    else if (rc == 0) {
        const unsigned char *b = val.mv_data;
        *nv = val.mv_size / 8;
        for (size_t j = 0; j < *nv; j++)
            v[j] = get_f64(b + 8 * j);
        *found = 1;
    } else if (rc != MDB_NOTFOUND)
        s = kgg_errf(e, kgg_mdb_status(rc), "cannot read %s: %s", what, mdb_strerror(rc));
    kgg_store_read_end(txn);
    return s;
}

kgp_status kgg_fsrs_get(kgg_store *st, const char *learner, double *w, int *found,
                        kgg_err *e)
{
    double v[KGG_FSRS_NW];
    size_t nv;
    kgp_status s = get_doubles(st, FSRS_DB, learner ? learner : FSRS_POP, v, KGG_FSRS_NW,
                               &nv, found, "fitted weights", e);
    if (s == KGP_OK && *found && nv != KGG_FSRS_NW) {
        *found = 0;
        return kgg_errf(e, KGP_EDB, "learner store: corrupt fitted weights");
    }
    if (s == KGP_OK && *found)
        memcpy(w, v, sizeof v);
    return s;
}

/* ---- fitted model values ------------------------------------------------------- */

typedef struct model_ctx {
    const char *name;
    const double *v;
    size_t n;
    MDB_dbi dbi;
} model_ctx;

/* A model value's name and count as kgg_model_put takes them. */
static kgp_status model_val_check(const char *name, size_t n, kgg_err *e)
{
    if (!name || !*name || strlen(name) > KGG_CONCEPT_MAX || n == 0 || n > KGG_MODEL_MAX)
        return kgg_errf(e, KGP_EUSAGE, "fitted model values: bad name or count");
    return KGP_OK;
}

static kgp_status model_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    model_ctx *c = ud;
    unsigned char b[KGG_MODEL_MAX * 8];
    for (size_t j = 0; j < c->n; j++)
        put_f64(b + 8 * j, c->v[j]);
    MDB_val k = { strlen(c->name), (void *)c->name }, v = { 8 * c->n, b };
    int rc = mdb_put(txn, c->dbi, &k, &v, 0);
    return rc ? mdb_fail(e, mdb_rc, rc, "cannot store fitted model values") : KGP_OK;
}

kgp_status kgg_model_put(kgg_store *st, const char *name, const double *v, size_t n,
                         kgg_err *e)
{
    kgp_status s = model_val_check(name, n, e);
    if (s)
        return s;
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "%s: the database is open read-only",
                        kgg_store_path(st));
    model_ctx c = { name, v, n, 0 };
    s = kgg_store_open_dbi(st, MODEL_DB, MDB_CREATE, &c.dbi, e);
    return s ? s : kgg_store_update(st, model_txn, &c, e);
}

kgp_status kgg_model_get(kgg_store *st, const char *name, double *v, size_t n, int *found,
                         kgg_err *e)
{
    double buf[KGG_MODEL_MAX];
    size_t nv;
    kgp_status s = get_doubles(st, MODEL_DB, name, buf, KGG_MODEL_MAX, &nv, found,
                               "fitted model values", e);
    if (s == KGP_OK && *found && nv >= n && n <= KGG_MODEL_MAX)
        memcpy(v, buf, n * sizeof *v);
    else
        *found = 0;
    return s;
}

/* ---- one fit, one transaction ---------------------------------------------------- */

typedef struct fit_all_ctx {
    const kgg_fit_all_in *in;
    fit_ctx fit;
    fsrs_ctx fsrs;
    MDB_dbi model;
} fit_all_ctx;

static kgp_status fit_all_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    fit_all_ctx *c = ud;
    const kgg_fit_all_in *in = c->in;
    if (in->guard) {
        /* compare and store in one transaction: no fit can land between */
        MDB_val k = { strlen(in->guard), (void *)in->guard }, v;
        int rc = mdb_get(txn, c->model, &k, &v);
        if (rc && rc != MDB_NOTFOUND)
            return mdb_fail(e, mdb_rc, rc, "cannot read fitted model values");
        if (rc == 0 && v.mv_size >= 8 && get_f64(v.mv_data) >= in->guard_below)
            return kgg_errf(e, KGP_ECONFLICT, "a fit on %.0f events is stored (this one: %.0f): "
                            "not replaced", get_f64(v.mv_data), in->guard_below);
    }
    kgp_status s = fit_txn(txn, &c->fit, mdb_rc, e);
    if (s == KGP_OK)
        s = fsrs_txn(txn, &c->fsrs, mdb_rc, e);
    for (size_t i = 0; s == KGP_OK && i < in->nmodels; i++) {
        model_ctx m = { in->models[i].name, in->models[i].v, in->models[i].n, c->model };
        s = model_txn(txn, &m, mdb_rc, e);
    }
    return s;
}

kgp_status kgg_fit_store(kgg_store *st, const kgg_fit_all_in *in, kgg_err *e)
{
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "%s: the database is open read-only",
                        kgg_store_path(st));
    kgp_status s = KGP_OK;
    for (size_t i = 0; s == KGP_OK && i < in->nmodels; i++)
        s = model_val_check(in->models[i].name, in->models[i].n, e);
    fit_all_ctx c = { .in = in, .fit = { in->recs, in->nrecs, 0 }, .fsrs = { in->fsrs, in->nfsrs, 0 } };
    if (s == KGP_OK)
        s = kgg_store_open_dbi(st, FIT_DB, MDB_CREATE, &c.fit.dbi, e);
    if (s == KGP_OK)
        s = kgg_store_open_dbi(st, FSRS_DB, MDB_CREATE, &c.fsrs.dbi, e);
    if (s == KGP_OK)
        s = kgg_store_open_dbi(st, MODEL_DB, MDB_CREATE, &c.model, e);
    return s ? s : kgg_store_update(st, fit_all_txn, &c, e);
}
