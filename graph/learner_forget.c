/* Erasing a learner (`kgpath learner forget`): every stored event of the
 * learner and its summary, in one write transaction (graph/learner_store.h). */
#include <lmdb.h>
#include <string.h>

#include "graph/learner_store.h"

typedef struct forget_ctx {
    MDB_dbi dev, dln, dfs;
    const char *learner;
    size_t len;
    uint64_t removed;
} forget_ctx;

static kgp_status forget_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    forget_ctx *c = ud;
    c->removed = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, c->dev, &cur);
    if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "events: %s", mdb_strerror(rc)); }
    /* Keys are learner id, NUL, time, hash: the learner's events are the
     * keys starting with the id and its NUL. */
    MDB_val k, v;
    for (;;) {
        k = (MDB_val){c->len + 1, (void *)c->learner};
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
        if (rc || k.mv_size <= c->len || memcmp(k.mv_data, c->learner, c->len + 1)) break;
        if ((rc = mdb_cursor_del(cur, 0))) break;
        c->removed++;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "events: %s", mdb_strerror(rc)); }
    MDB_val lk = {c->len, (void *)c->learner};
    rc = mdb_del(txn, c->dln, &lk, NULL);
    if (rc && rc != MDB_NOTFOUND) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "learners: %s", mdb_strerror(rc)); }
    if (rc == MDB_NOTFOUND && !c->removed)
        return kgg_errf(e, KGP_ENOTFOUND, "no events for learner '%s'", c->learner);
    /* the learner's own fitted memory weights (kgg_fit_store), if any:
     * derived from the events, so they go with them */
    rc = mdb_del(txn, c->dfs, &lk, NULL);
    if (rc && rc != MDB_NOTFOUND) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "learner_fsrs: %s", mdb_strerror(rc)); }
    return KGP_OK;
}

kgp_status kgg_learner_forget(kgg_store *st, const char *learner, uint64_t *removed, kgg_err *e)
{
    if (removed) *removed = 0;
    if (!learner || !*learner) return kgg_errf(e, KGP_EUSAGE, "no learner id");
    if (kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    forget_ctx c = {.learner = learner, .len = strlen(learner)};
    if (kgg_store_dbi(st, "events", &c.dev) || kgg_store_dbi(st, "learners", &c.dln))
        return kgg_errf(e, KGP_EDB, "%s: no learner tables", kgg_store_path(st));
    /* opened before the transaction (kgg_store_open_dbi: handles are
     * opened under the store's lock, one transaction at a time, as LMDB
     * requires); creating the empty table where none is costs nothing */
    kgp_status s = kgg_store_open_dbi(st, "learner_fsrs", MDB_CREATE, &c.dfs, e);
    if (!s) s = kgg_store_update(st, forget_txn, &c, e);
    if (!s && removed) *removed = c.removed;
    return s;
}
