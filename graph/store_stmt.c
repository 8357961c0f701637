/* xAPI statement ids (graph/store_stmt.h). */
#include <lmdb.h>
#include <string.h>

#include "graph/store_stmt.h"

#define STMT_DB "statements"

typedef struct stmt_ctx { MDB_dbi dbi; kgg_stmt *s; size_t n; } stmt_ctx;

static kgp_status put_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    stmt_ctx *c = ud;
    for (size_t i = 0; i < c->n; i++) {
        if (c->s[i].outcome != KGG_STMT_NEW) continue;
        uint8_t hb[8];
        for (int b = 0; b < 8; b++) hb[b] = (uint8_t)(c->s[i].hash >> (56 - 8 * b));
        MDB_val k = {16, c->s[i].id}, v = {8, hb};
        int rc = mdb_put(txn, c->dbi, &k, &v, 0);
        if (rc) { *mrc = rc; return kgg_errf(e, kgg_mdb_status(rc), "statements: %s", mdb_strerror(rc)); }
    }
    return KGP_OK;
}

kgp_status kgg_stmt_record(kgg_store *st, kgg_stmt *s, size_t n, int write, kgg_err *e)
{
    if (write && kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    MDB_dbi dbi;
    int have, rc, conflict = 0;
    /* probed under the store's lock (kgg_store_find_dbi), not here: LMDB
     * lets one transaction of a process at a time open handles */
    kgp_status r = kgg_store_find_dbi(st, STMT_DB, &dbi, &have, e);
    if (r) return r;
    MDB_txn *txn;
    if ((r = kgg_store_read_begin(st, &txn, e))) return r;
    size_t fresh = 0;
    for (size_t i = 0; i < n; i++) {
        s[i].outcome = KGG_STMT_NEW;
        MDB_val k = {16, s[i].id}, v;
        rc = have ? mdb_get(txn, dbi, &k, &v) : MDB_NOTFOUND;
        if (rc == 0 && v.mv_size == 8) {
            uint64_t h = 0;
            for (int b = 0; b < 8; b++) h = h << 8 | ((const uint8_t *)v.mv_data)[b];
            s[i].outcome = h == s[i].hash ? KGG_STMT_SAME : KGG_STMT_CONFLICT;
            conflict |= s[i].outcome == KGG_STMT_CONFLICT;
        } else if (rc && rc != MDB_NOTFOUND) {
            kgg_store_read_end(txn);
            return kgg_errf(e, kgg_mdb_status(rc), "statements: %s", mdb_strerror(rc));
        } else {
            fresh++;
        }
    }
    kgg_store_read_end(txn);
    if (conflict) return kgg_errf(e, KGP_ECONFLICT, "a statement id is already stored with other content");
    if (!write || !fresh) return KGP_OK;
    stmt_ctx c = {0, s, n};
    if ((r = kgg_store_open_dbi(st, STMT_DB, MDB_CREATE, &c.dbi, e))) return r;
    return kgg_store_update(st, put_txn, &c, e);
}
