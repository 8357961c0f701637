/* Recommended edges added to stored concepts in one write transaction
 * (contract in graph/store_edges.h). */
#include "graph/store_edges.h"
#include "base/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct actx {
    kgg_edge_add *edges;
    size_t n;
    unsigned flags;
    size_t added;
    MDB_dbi meta, names, concepts, requires, recommends, dependents, recommenders;
    uint32_t next_id;
    uint32_t *parent, *gen, *queue, cur_gen;
} actx;

#define TRY(expr) do { int rc_ = (expr); if (rc_) { *mrc = rc_; return kgg_mdb_fail(e, #expr, rc_); } } while (0)

static MDB_val id_val(uint8_t b[4], uint32_t id) { kgg_put_be32(b, id); return (MDB_val){4, b}; }

/* 0 and *id, MDB_NOTFOUND, or an LMDB error. */
static int name_id(actx *a, MDB_txn *txn, const char *key, uint32_t *id)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    if (k.mv_size == 0 || k.mv_size > 500) return MDB_NOTFOUND;
    int rc = mdb_get(txn, a->names, &k, &v);
    if (rc == 0) {
        if (v.mv_size != 4) return MDB_NOTFOUND;
        *id = kgg_be32(v.mv_data);
    }
    return rc;
}

/* Does the requires (groups) or recommends record of holder have the
 * resolved member id? 1 yes, 0 no, -1 damaged record, or an LMDB error
 * (> 1) in *rcp. */
static int has_member(actx *a, MDB_txn *txn, uint32_t holder, uint32_t id, int groups, int *rcp)
{
    uint8_t kb[4];
    MDB_val k = id_val(kb, holder), v;
    int rc = mdb_get(txn, groups ? a->requires : a->recommends, &k, &v);
    *rcp = 0;
    if (rc == MDB_NOTFOUND) return 0;
    if (rc) { *rcp = rc; return 0; }
    kgg_rd r = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
    uint64_t ng = groups ? kgg_rd_varint(&r) : 1;
    for (uint64_t g = 0; g < ng && !r.bad; g++) {
        if (groups) { kgg_rd_varint(&r); kgg_rd_str(&r); }
        uint64_t nm = kgg_rd_varint(&r);
        for (uint64_t i = 0; i < nm && !r.bad; i++) {
            int un = kgg_rd_u8(&r);
            uint64_t m = 0;
            if (un) kgg_rd_str(&r); else m = kgg_rd_varint(&r);
            kgg_rd_str(&r);
            if (!un && !r.bad && m == id) return 1;
        }
    }
    return r.bad ? -1 : 0;
}

static const char *key_of(actx *a, MDB_txn *txn, uint32_t id)
{
    uint8_t kb[4];
    MDB_val k = id_val(kb, id), v;
    if (mdb_get(txn, a->concepts, &k, &v)) return "?";
    kgg_rd r = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
    const char *key = kgg_rd_str(&r);
    return key && !r.bad ? key : "?";
}

/* Breadth-first search from `from` along the "comes before" edges
 * (dependents: concepts requiring x; recommenders: concepts x is
 * recommended before). Returns 1 when `to` is reached (a->parent then
 * holds the path), 0 when not, or an LMDB error (< 0 for out of memory). */
static int reaches(actx *a, MDB_txn *txn, uint32_t from, uint32_t to)
{
    if (++a->cur_gen == 0) { memset(a->gen, 0, (size_t)a->next_id * sizeof *a->gen); a->cur_gen = 1; }
    size_t qh = 0, qt = 0;
    a->queue[qt++] = from;
    a->gen[from] = a->cur_gen;
    a->parent[from] = from;
    MDB_cursor *cur[2] = {NULL, NULL};
    int rc = mdb_cursor_open(txn, a->dependents, &cur[0]);
    if (!rc) rc = mdb_cursor_open(txn, a->recommenders, &cur[1]);
    int found = 0;
    while (!rc && !found && qh < qt) {
        uint32_t x = a->queue[qh++];
        for (int pass = 0; pass < 2 && !rc && !found; pass++) {
            uint8_t kb[4];
            MDB_val k = id_val(kb, x), v;
            int r = mdb_cursor_get(cur[pass], &k, &v, MDB_SET_KEY);
            for (; r == 0; r = mdb_cursor_get(cur[pass], &k, &v, MDB_NEXT_DUP)) {
                if (v.mv_size != 4) continue;
                uint32_t y = kgg_be32(v.mv_data);
                if (y >= a->next_id || a->gen[y] == a->cur_gen) continue;
                a->gen[y] = a->cur_gen;
                a->parent[y] = x;
                a->queue[qt++] = y;
                if (y == to) { found = 1; break; }
            }
            if (r && r != MDB_NOTFOUND) rc = r;
        }
    }
    if (cur[0]) mdb_cursor_close(cur[0]);
    if (cur[1]) mdb_cursor_close(cur[1]);
    return rc ? rc : found;
}

static const char *what(int outcome)
{
    switch (outcome) {
    case KGG_EDGE_UNKNOWN: return "no such concept";
    case KGG_EDGE_SELF: return "a concept cannot come before itself";
    case KGG_EDGE_EXISTS: return "this edge already exists as a requirement";
    case KGG_EDGE_DUPLICATE: return "this edge is given twice";
    default: return "it would close a cycle";
    }
}

/* Appends member id (resolved) with reason to holder's recommends record. */
static kgp_status append_rec(actx *a, MDB_txn *txn, uint32_t holder, uint32_t id, const char *reason, int *mrc,
                             kgg_err *e)
{
    uint8_t kb[4], vb[4];
    MDB_val k = id_val(kb, holder), v;
    kg_buf b = {0};
    int rc = mdb_get(txn, a->recommends, &k, &v);
    if (rc == MDB_NOTFOUND) {
        kg_buf_varint(&b, 1);
    } else if (rc) {
        TRY(rc);
    } else {
        kgg_rd r = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
        uint64_t nm = kgg_rd_varint(&r);
        if (r.bad) return kgg_errf(e, KGP_EDB, "damaged recommendations of concept %u", holder);
        kg_buf_varint(&b, nm + 1);
        kg_buf_put(&b, r.p, (size_t)(r.end - r.p));
    }
    kg_buf_put(&b, "", 1);                /* tag 0: resolved */
    kg_buf_varint(&b, id);
    kg_buf_lpstr(&b, reason);
    if (b.oom) { kg_buf_free(&b); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    MDB_val nv = {b.len, b.data};
    rc = mdb_put(txn, a->recommends, &k, &nv, 0);
    kg_buf_free(&b);
    TRY(rc);
    MDB_val rk = id_val(kb, id), rv = id_val(vb, holder);
    rc = mdb_put(txn, a->recommenders, &rk, &rv, MDB_NODUPDATA);
    if (rc && rc != MDB_KEYEXIST) TRY(rc);
    return KGP_OK;
}

static kgp_status add_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    actx *a = ud;
    a->added = 0;
    MDB_val mk = {7, "next_id"}, mv;
    int rc = mdb_get(txn, a->meta, &mk, &mv);
    if (rc && rc != MDB_NOTFOUND) TRY(rc);
    uint32_t next = rc == 0 && mv.mv_size == 4 ? kgg_be32(mv.mv_data) : 0;
    if (next > a->next_id) {
        kg_free(a->parent); kg_free(a->gen); kg_free(a->queue);
        a->parent = kg_malloc((size_t)next * sizeof *a->parent);
        a->gen = kg_calloc(next, sizeof *a->gen);
        a->queue = kg_malloc((size_t)next * sizeof *a->queue);
        a->next_id = next;
        a->cur_gen = 0;
        if (!a->parent || !a->gen || !a->queue) { a->next_id = 0; return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    }
    for (size_t i = 0; i < a->n; i++) {
        kgg_edge_add *x = &a->edges[i];
        uint32_t p = 0, c = 0;
        int bad = KGG_EDGE_ADDED, rp = 0;
        const char *unknown = NULL;
        rc = x->prereq ? name_id(a, txn, x->prereq, &p) : MDB_NOTFOUND;
        if (rc && rc != MDB_NOTFOUND) TRY(rc);
        if (rc || p >= next) unknown = x->prereq ? x->prereq : "(null)";
        rc = x->concept ? name_id(a, txn, x->concept, &c) : MDB_NOTFOUND;
        if (rc && rc != MDB_NOTFOUND) TRY(rc);
        if (!unknown && (rc || c >= next)) unknown = x->concept ? x->concept : "(null)";
        if (unknown) bad = KGG_EDGE_UNKNOWN;
        else if (p == c) bad = KGG_EDGE_SELF;
        for (size_t j = 0; !bad && j < i; j++)
            if (a->edges[j].outcome == KGG_EDGE_ADDED && !strcmp(a->edges[j].prereq, x->prereq) &&
                !strcmp(a->edges[j].concept, x->concept))
                bad = KGG_EDGE_DUPLICATE;
        for (int groups = 0; !bad && groups < 2; groups++) {
            int h = has_member(a, txn, c, p, groups, &rp);
            if (rp) TRY(rp);
            if (h < 0) return kgg_errf(e, KGP_EDB, "damaged record of %s", x->concept);
            if (h) bad = groups ? KGG_EDGE_EXISTS : KGG_EDGE_ALREADY;
        }
        if (bad == KGG_EDGE_ALREADY) { x->outcome = bad; continue; }   /* idempotent: not an error */
        if (!bad) {
            int r = reaches(a, txn, c, p);
            if (r < 0 || r > 1) TRY(r);
            if (r == 1) {
                bad = KGG_EDGE_CYCLE;
                /* the path concept -> ... -> prereq, for the message */
                char buf[768];
                uint32_t hop[16];
                size_t o = 0, nh = 0;
                for (uint32_t y = p; nh < 16; y = a->parent[y]) {
                    hop[nh++] = y;
                    if (y == c) break;
                }
                buf[0] = 0;
                if (hop[nh - 1] != c) o += (size_t)snprintf(buf, sizeof buf, "'%s' -> ... -> ", key_of(a, txn, c));
                for (size_t h = nh; h-- > 0 && o < sizeof buf;)
                    o += (size_t)snprintf(buf + o, sizeof buf - o, "'%s'%s", key_of(a, txn, hop[h]), h ? " -> " : "");
                x->outcome = bad;
                if (!(a->flags & KGG_EDGES_SKIP_BAD))
                    return kgg_errf(e, KGP_EINPUT,
                                    "edge %zu ('%s' before '%s'): '%s' already comes before '%s' (%s), so %s", i + 1,
                                    x->prereq, x->concept, x->concept, x->prereq, buf, what(bad));
            }
        }
        x->outcome = bad;
        if (bad) {
            if (a->flags & KGG_EDGES_SKIP_BAD) continue;
            if (bad == KGG_EDGE_UNKNOWN)
                return kgg_errf(e, KGP_EINPUT, "edge %zu: no concept '%s' in the database", i + 1, unknown);
            return kgg_errf(e, KGP_EINPUT, "edge %zu ('%s' before '%s'): %s", i + 1, x->prereq, x->concept, what(bad));
        }
        kgp_status s = append_rec(a, txn, c, p, x->reason, mrc, e);
        if (s) return s;
        a->added++;
    }
    if ((a->flags & KGG_EDGES_DRY_RUN) || a->added == 0) return KGP_EINTERNAL;   /* abort: nothing to keep */
    return KGP_OK;
}

kgp_status kgg_store_add_recommends(kgg_store *st, kgg_edge_add *edges, size_t n, unsigned flags,
                                    size_t *nadded, kgg_err *e)
{
    if (nadded) *nadded = 0;
    if (n && !edges) return kgg_errf(e, KGP_EUSAGE, "no edges");
    if (kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    for (size_t i = 0; i < n; i++) edges[i].outcome = KGG_EDGE_ADDED;
    if (n == 0) return KGP_OK;
    actx a = {.edges = edges, .n = n, .flags = flags};
    kgg_store_dbi(st, "meta", &a.meta);
    kgg_store_dbi(st, "names", &a.names);
    kgg_store_dbi(st, "concepts", &a.concepts);
    kgg_store_dbi(st, "requires", &a.requires);
    kgg_store_dbi(st, "recommends", &a.recommends);
    kgg_store_dbi(st, "dependents", &a.dependents);
    kgg_store_dbi(st, "recommenders", &a.recommenders);
    kgp_status s = kgg_store_update(st, add_txn, &a, e);
    /* add_txn aborts on purpose (KGP_EINTERNAL) for a dry run or when nothing is left to write */
    if (s == KGP_EINTERNAL && ((flags & KGG_EDGES_DRY_RUN) || a.added == 0)) s = KGP_OK;
    if (!s && nadded) *nadded = a.added;
    kg_free(a.parent); kg_free(a.gen); kg_free(a.queue);
    return s;
}
