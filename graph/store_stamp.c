/* Per-concept change stamps: see store_stamp.h. */
#include "graph/store_stamp.h"

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

/* What a refresh writes: the snapshot's keys and hashes, copied so that the
 * snapshot is closed before the write (the map can only grow while no
 * snapshot of this process is open). */
typedef struct refresh_ctx {
    uint32_t n;
    char **key;             /* [n], in arena */
    uint64_t *hash;         /* [n] */
    char **sorted;          /* [n] the keys in strcmp order, for lookups */
    int64_t now;
    MDB_dbi dbi;
    uint32_t changed;
} refresh_ctx;

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static kgp_status refresh_txn(MDB_txn *txn, void *ud, int *mdb_rc, kgg_err *e)
{
    refresh_ctx *c = ud;
    MDB_dbi dbi = c->dbi;
    c->changed = 0;
    int r = 0;
    for (uint32_t i = 0; i < c->n; i++) {
        MDB_val k = { strlen(c->key[i]), c->key[i] }, v;
        r = mdb_get(txn, dbi, &k, &v);
        if (r == 0 && v.mv_size == 16 && get_le64(v.mv_data) == c->hash[i]) continue;
        if (r && r != MDB_NOTFOUND) goto fail;
        unsigned char val[16];
        put_le64(val, c->hash[i]);
        put_le64(val + 8, (uint64_t)c->now);
        v.mv_size = sizeof val;
        v.mv_data = val;
        if ((r = mdb_put(txn, dbi, &k, &v, 0))) goto fail;
        c->changed++;
    }
    /* Drop stamps of concepts that are gone. */
    MDB_cursor *cur;
    if ((r = mdb_cursor_open(txn, dbi, &cur))) goto fail;
    MDB_val k, v;
    char buf[1024];
    for (r = mdb_cursor_get(cur, &k, &v, MDB_FIRST); r == 0;
         r = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        int gone = 1;
        if (k.mv_size < sizeof buf) {
            memcpy(buf, k.mv_data, k.mv_size);
            buf[k.mv_size] = 0;
            char *key = buf;
            gone = !bsearch(&key, c->sorted, c->n, sizeof *c->sorted, cmp_str);
        }
        if (gone && (r = mdb_cursor_del(cur, 0))) break;
    }
    mdb_cursor_close(cur);
    if (r == MDB_NOTFOUND) return KGP_OK;
fail:
    *mdb_rc = r;
    return kgg_errf(e, kgg_mdb_status(r), "stamps: %s", mdb_strerror(r));
}

kgp_status kgg_stamp_refresh(kgg_store *st, int64_t now, uint32_t *nchanged, kgg_err *e)
{
    if (kgg_store_rdonly(st))
        return kgg_errf(e, KGP_EUSAGE, "cannot refresh change stamps: the database is open read-only");
    kgg_snap *s;
    int sr = kgg_snap_open(st, &s, e);
    if (sr) return (kgp_status)sr;
    refresh_ctx c;
    memset(&c, 0, sizeof c);
    c.n = s->n;
    c.now = now;
    kg_arena *a = kg_arena_new();
    kgp_status rc = KGP_OK;
    if (!a || !(c.key = kg_arena_alloc(a, ((size_t)c.n + 1) * sizeof *c.key))
        || !(c.sorted = kg_arena_alloc(a, ((size_t)c.n + 1) * sizeof *c.sorted))
        || !(c.hash = kg_arena_alloc(a, ((size_t)c.n + 1) * sizeof *c.hash))) {
        kgg_snap_close(s);
        rc = kgg_errf(e, KGP_ENOMEM, "out of memory");
        goto out;
    }
    for (uint32_t i = 0; i < c.n; i++) {
        c.hash[i] = kgg_stamp_hash(s, i);
        if (!(c.key[i] = c.sorted[i] = kg_arena_strdup(a, s->key[i]))) {
            kgg_snap_close(s);
            rc = kgg_errf(e, KGP_ENOMEM, "out of memory");
            goto out;
        }
    }
    kgg_snap_close(s);
    qsort(c.sorted, c.n, sizeof *c.sorted, cmp_str);
    /* Opened before the write transaction: opening takes a transaction of its own. */
    rc = kgg_store_open_dbi(st, "stamps", MDB_CREATE, &c.dbi, e);
    if (rc == KGP_OK) rc = kgg_store_update(st, refresh_txn, &c, e);
    if (rc == KGP_OK && nchanged) *nchanged = c.changed;
out:
    kg_arena_free(a);
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
            kgg_store_read_end(txn);
            return kgg_errf(e, kgg_mdb_status(r), "stamps: %s", mdb_strerror(r));
        }
        if (v.mv_size == 16 && get_le64(v.mv_data) == kgg_stamp_hash(s, i))
            stamp[i] = (int64_t)get_le64((const unsigned char *)v.mv_data + 8);
    }
    kgg_store_read_end(txn);
    return KGP_OK;
}

static int by_rank(const void *a, const void *b, void *rank)
{
    uint32_t ra = ((const uint32_t *)rank)[*(const uint32_t *)a];
    uint32_t rb = ((const uint32_t *)rank)[*(const uint32_t *)b];
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
    qsort_r(order, m, sizeof *order, by_rank, (void *)rank);
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
