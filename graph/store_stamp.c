/* Per-concept change stamps: see store_stamp.h. */
#include "graph/store_stamp.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

typedef struct hasher { uint64_t h; } hasher;

static void h_bytes(hasher *h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++) h->h = (h->h ^ s[i]) * 1099511628211ULL;
}

/* Strings end with a byte that cannot occur in them; NULL differs from "". */
static void h_str(hasher *h, const char *s)
{
    static const unsigned char nul = 0, none = 0xff;
    if (!s) { h_bytes(h, &none, 1); return; }
    h_bytes(h, s, strlen(s));
    h_bytes(h, &nul, 1);
}

static void h_u32(hasher *h, uint32_t v) { h_bytes(h, &v, sizeof v); }

uint64_t kgg_stamp_hash(const kgg_snap *s, uint32_t i)
{
    hasher h = { 1469598103934665603ULL };
    h_str(&h, s->key[i]);
    h_str(&h, s->title[i]);
    float m = s->minutes[i];
    h_bytes(&h, &m, sizeof m);
    for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++) {
        h_u32(&h, s->grp_k[g]);
        h_u32(&h, s->grp_n[g]);
        h_str(&h, s->grp_reason[g]);
        for (uint32_t k = s->mem_off[g]; k < s->mem_off[g + 1]; k++) {
            h_str(&h, s->key[s->mem[k]]);
            h_str(&h, s->mem_reason ? s->mem_reason[k] : NULL);
        }
    }
    h_u32(&h, 0xfffffffeu);
    for (uint32_t k = s->rec_off[i]; k < s->rec_off[i + 1]; k++) {
        h_str(&h, s->key[s->rec[k]]);
        h_str(&h, s->rec_reason ? s->rec_reason[k] : NULL);
    }
    return h.h;
}

static void put_le64(unsigned char *b, uint64_t v)
{
    for (int i = 0; i < 8; i++) b[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get_le64(const unsigned char *b)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++) v |= (uint64_t)b[i] << (8 * i);
    return v;
}

typedef struct refresh_ctx {
    kgg_store *st;
    const kgg_snap *s;
    const uint64_t *hash;
    int64_t now;
    MDB_dbi dbi;
    uint32_t changed;
} refresh_ctx;

static kgp_status refresh_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    refresh_ctx *c = ud;
    const kgg_snap *s = c->s;
    MDB_dbi dbi = c->dbi;
    c->changed = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        MDB_val k = { strlen(s->key[i]), (void *)s->key[i] }, v;
        int r = mdb_get(txn, dbi, &k, &v);
        if (r == 0 && v.mv_size == 16 && get_le64(v.mv_data) == c->hash[i]) continue;
        if (r && r != MDB_NOTFOUND) goto lmdb;
        unsigned char val[16];
        put_le64(val, c->hash[i]);
        put_le64(val + 8, (uint64_t)c->now);
        v.mv_size = sizeof val;
        v.mv_data = val;
        if ((r = mdb_put(txn, dbi, &k, &v, 0))) { *mdb_rc = r; goto lmdb_r; }
        c->changed++;
        continue;
    lmdb:
        *mdb_rc = r;
    lmdb_r:
        return kgg_errf(e, KGP_EDB, "stamps: %s", mdb_strerror(r));
    }
    /* Drop stamps of concepts that are gone. */
    MDB_cursor *cur;
    int r = mdb_cursor_open(txn, dbi, &cur);
    if (r) { *mdb_rc = r; return kgg_errf(e, KGP_EDB, "stamps: %s", mdb_strerror(r)); }
    MDB_val k, v;
    char buf[1024];
    for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int gone = 1;
        if (k.mv_size < sizeof buf) {
            memcpy(buf, k.mv_data, k.mv_size);
            buf[k.mv_size] = 0;
            gone = kgg_snap_find_key(s, buf) == KGG_NONE;
        }
        if (gone && (r = mdb_cursor_del(cur, 0))) break;
    }
    mdb_cursor_close(cur);
    if (r && r != MDB_NOTFOUND) {
        *mdb_rc = r;
        return kgg_errf(e, KGP_EDB, "stamps: %s", mdb_strerror(r));
    }
    return KGP_OK;
}

kgp_status kgg_stamp_refresh(kgg_store *st, const kgg_snap *s, int64_t now,
                             uint32_t *nchanged, kgg_err *e)
{
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "cannot refresh change stamps: the database is open read-only");
    uint64_t *hash = kg_malloc(((size_t)s->n + 1) * sizeof *hash);
    if (!hash) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < s->n; i++) hash[i] = kgg_stamp_hash(s, i);
    refresh_ctx c = { st, s, hash, now, 0, 0 };
    /* Opened before the write transaction: opening takes a transaction of its own. */
    kgp_status rc = kgg_store_open_dbi(st, "stamps", MDB_CREATE, &c.dbi, e);
    if (rc == KGP_OK) rc = kgg_store_update(st, refresh_txn, &c, e);
    if (rc == KGP_OK && nchanged) *nchanged = c.changed;
    kg_free(hash);
    return rc;
}

kgp_status kgg_stamp_load(kgg_store *st, const kgg_snap *s, int64_t *stamp, kgg_err *e)
{
    for (uint32_t i = 0; i < s->n; i++) stamp[i] = KGG_STAMP_UNKNOWN;
    MDB_dbi dbi;
    kgg_err ignore;
    /* No stamps database yet (never refreshed): everything is unknown. */
    if (kgg_store_open_dbi(st, "stamps", 0, &dbi, &ignore) != KGP_OK) return KGP_OK;
    MDB_txn *txn;
    kgp_status rc = kgg_store_read_begin(st, &txn, e);
    if (rc) return rc;
    for (uint32_t i = 0; i < s->n; i++) {
        MDB_val k = { strlen(s->key[i]), (void *)s->key[i] }, v;
        int r = mdb_get(txn, dbi, &k, &v);
        if (r == MDB_NOTFOUND) continue;
        if (r) {
            mdb_txn_abort(txn);
            return kgg_errf(e, KGP_EDB, "stamps: %s", mdb_strerror(r));
        }
        if (v.mv_size == 16 && get_le64(v.mv_data) == kgg_stamp_hash(s, i))
            stamp[i] = (int64_t)get_le64((const unsigned char *)v.mv_data + 8);
    }
    mdb_txn_abort(txn);
    return KGP_OK;
}

static const kgg_snap *g_sort_snap;     /* qsort has no user pointer */

static int by_rank(const void *a, const void *b)
{
    uint32_t ra = g_sort_snap->topo_rank[*(const uint32_t *)a];
    uint32_t rb = g_sort_snap->topo_rank[*(const uint32_t *)b];
    return ra < rb ? -1 : ra > rb;
}

static int64_t max64(int64_t a, int64_t b) { return a > b ? a : b; }

int kgg_stamp_closure_max(const kgg_snap *s, const int64_t *in, int64_t *out)
{
    const uint32_t *rank = s->topo_rank;
    uint32_t *order = kg_malloc(((size_t)s->n + 1) * sizeof *order);
    if (!order) return -1;
    uint32_t m = 0;
    for (uint32_t i = 0; i < s->n; i++) {
        if (!rank || rank[i] == KGG_NONE) out[i] = KGG_STAMP_UNKNOWN;
        else order[m++] = i;
    }
    /* Sorting by rank needs the snapshot in a static; callers are not
     * expected to run this concurrently, but keep it correct if they do. */
    static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_mutex_lock(&mu);
    g_sort_snap = s;
    qsort(order, m, sizeof *order, by_rank);
    pthread_mutex_unlock(&mu);
    for (uint32_t oi = 0; oi < m; oi++) {
        uint32_t i = order[oi];
        int64_t v = in[i];
        for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++)
            for (uint32_t k = s->mem_off[g]; k < s->mem_off[g + 1]; k++) {
                uint32_t p = s->mem[k];
                v = max64(v, rank[p] != KGG_NONE && rank[p] < rank[i] ? out[p] : KGG_STAMP_UNKNOWN);
            }
        for (uint32_t k = s->rec_off[i]; k < s->rec_off[i + 1]; k++) {
            uint32_t r = s->rec[k];
            v = max64(v, rank[r] != KGG_NONE && rank[r] < rank[i] ? out[r] : in[r]);
        }
        out[i] = v;
    }
    kg_free(order);
    return 0;
}
