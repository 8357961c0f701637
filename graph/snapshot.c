/* The read snapshot: one LMDB read transaction turned into compact arrays
 * (see graph/snapshot.h). Strings point into LMDB's memory map, which stays
 * valid while the snapshot's read transaction is open, so building copies
 * no text. Cost: O(V log V + E). */
#include "graph/snapshot.h"
#include "graph/store.h"
#include "graph/igraph_bridge.h"

#include <stdlib.h>
#include <string.h>

typedef struct snap_impl {
    kgg_store *st;
    MDB_txn *txn;
    kg_arena *a;
    const uint8_t **rec;        /* [n] concept record */
    size_t *reclen;             /* [n] */
    uint32_t *sorted;           /* [n] dense ids sorted by key */
} snap_impl;

#define A_ALLOC(a, n, T) ((T *)kg_arena_calloc((a), ((size_t)(n) ? (size_t)(n) : 1) * sizeof(T)))

static kgg_rd rd_of(const MDB_val *v) { return (kgg_rd){v->mv_data, (const uint8_t *)v->mv_data + v->mv_size, 0}; }



static int key_cmp_r(const void *a, const void *b, void *ud)
{
    const kgg_snap *s = ud;
    return strcmp(s->key[*(const uint32_t *)a], s->key[*(const uint32_t *)b]);
}

void kgg_snap_close(kgg_snap *s)
{
    if (!s) return;
    snap_impl *im = s->impl;
    if (im) {
        if (im->txn) kgg_store_snap_end(im->st, im->txn);
        kg_arena_free(im->a);
        kg_free(im);
    }
    kg_free(s);
}




int kgg_snap_open(kgg_store *st, kgg_snap **out, kgg_err *e)
{

    *out = NULL;
    kgg_snap *s = kg_calloc(1, sizeof *s);
    snap_impl *im = kg_calloc(1, sizeof *im);
    if (!s || !im) { kg_free(s); kg_free(im); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    s->impl = im;
    im->st = st;
    im->a = kg_arena_new();
    if (!im->a) { kgg_snap_close(s); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    kgp_status rs = kgg_store_snap_begin(st, &im->txn, e);
    if (rs) { im->txn = NULL; kgg_snap_close(s); return rs; }
    kg_arena *a = im->a;
    MDB_txn *txn = im->txn;
    MDB_dbi meta, courses, concepts, requires, recommends;
    kgg_store_dbi(st, "meta", &meta); kgg_store_dbi(st, "courses", &courses);
    kgg_store_dbi(st, "concepts", &concepts); kgg_store_dbi(st, "requires", &requires);
    kgg_store_dbi(st, "recommends", &recommends);
    int rc;
    uint32_t *dense = NULL, *last = NULL;
    const uint8_t **reqrec = NULL, **recrec = NULL;
    size_t *reqlen = NULL, *reclen2 = NULL;
    MDB_cursor *cur = NULL;
#define FAIL_DB(what) do { rs = kgg_errf(e, kgg_mdb_status(rc), "%s: %s: %s", kgg_store_path(st), what, mdb_strerror(rc)); goto fail; } while (0)
#define FAIL_OOM() do { rs = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto fail; } while (0)
#define FAIL_BAD(what) do { rs = kgg_errf(e, KGP_EDB, "%s: damaged %s record", kgg_store_path(st), what); goto fail; } while (0)

    /* next_id bounds the store ids */
    MDB_val k = {7, "next_id"}, v;
    uint32_t nids = 0;
    rc = mdb_get(txn, meta, &k, &v);
    if (rc == 0 && v.mv_size == 4) nids = kgg_be32(v.mv_data);
    else if (rc && rc != MDB_NOTFOUND) FAIL_DB("reading meta");
    dense = kg_malloc(((size_t)nids ? nids : 1) * sizeof *dense);
    if (!dense) FAIL_OOM();
    for (uint32_t i = 0; i < nids; i++) dense[i] = KGG_NONE;

    /* Courses: two passes (count, then fill). */
    MDB_stat ms;
    if ((rc = mdb_stat(txn, courses, &ms))) FAIL_DB("courses");
    uint32_t nc = (uint32_t)ms.ms_entries;
    s->course_id = A_ALLOC(a, nc, const char *);
    s->course_title = A_ALLOC(a, nc, const char *);
    s->course_language = A_ALLOC(a, nc, const char *);
    s->course_version = A_ALLOC(a, nc, const char *);
    s->course_source = A_ALLOC(a, nc, const char *);
    s->course_format = A_ALLOC(a, nc, const char *);
    s->course_identity = A_ALLOC(a, nc, const char *);
    s->course_time = A_ALLOC(a, nc, uint64_t);
    s->course_order = A_ALLOC(a, nc + 1, uint8_t);
    s->course_first = A_ALLOC(a, nc + 1, uint32_t);
    s->unit_off = A_ALLOC(a, nc + 1, uint32_t);
    if (!s->course_id || !s->course_title || !s->course_language || !s->course_version ||
        !s->course_source || !s->course_format || !s->course_identity || !s->course_time || !s->course_first ||
        !s->unit_off || !s->course_order)
        FAIL_OOM();
    if ((rc = mdb_cursor_open(txn, courses, &cur))) FAIL_DB("courses");
    uint32_t ci = 0, n = 0, nunits = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ci < nc;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), ci++) {
        s->course_id[ci] = kg_arena_strndup(a, k.mv_data, k.mv_size);
        if (!s->course_id[ci]) FAIL_OOM();
        kgg_rd r = rd_of(&v);
        s->course_title[ci] = kgg_rd_str(&r);
        s->course_language[ci] = kgg_rd_str(&r);
        s->course_version[ci] = kgg_rd_str(&r);
        s->course_source[ci] = kgg_rd_str(&r);
        s->course_format[ci] = kgg_rd_str(&r);
        kgg_rd_str(&r);                                  /* hash */
        s->course_time[ci] = kgg_rd_varint(&r);
        uint64_t nu = kgg_rd_varint(&r);
        for (uint64_t u = 0; u < nu && !r.bad; u++) { kgg_rd_str(&r); kgg_rd_str(&r); }
        uint64_t ncc = kgg_rd_varint(&r);
        if (r.bad || ncc > v.mv_size || nu > v.mv_size) FAIL_BAD("course");
        s->course_first[ci] = n;
        s->unit_off[ci] = nunits;
        for (uint64_t j = 0; j < ncc; j++) {
            uint64_t id = kgg_rd_varint(&r);
            if (r.bad || id >= nids || dense[id] != KGG_NONE) FAIL_BAD("course");
            dense[id] = n++;
        }
        /* the source identity, then flags, follow; older records end earlier */
        s->course_identity[ci] = r.p < r.end ? kgg_rd_str(&r) : NULL;
        s->course_order[ci] = r.p < r.end ? (uint8_t)(kgg_rd_varint(&r) & 1) : 0;
        nunits += (uint32_t)nu;
    }
    if (rc && rc != MDB_NOTFOUND) FAIL_DB("courses");
    s->ncourses = nc = ci;
    s->course_first[nc] = n;
    s->unit_off[nc] = nunits;
    s->unit_id = A_ALLOC(a, nunits, const char *);
    s->unit_title = A_ALLOC(a, nunits, const char *);
    if (!s->unit_id || !s->unit_title) FAIL_OOM();
    ci = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && ci < nc;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT), ci++) {
        kgg_rd r = rd_of(&v);
        for (int f = 0; f < 6; f++) kgg_rd_str(&r);
        kgg_rd_varint(&r);
        uint64_t nu = kgg_rd_varint(&r);
        for (uint64_t u = 0; u < nu && !r.bad; u++) {
            s->unit_id[s->unit_off[ci] + u] = kgg_rd_str(&r);
            s->unit_title[s->unit_off[ci] + u] = kgg_rd_str(&r);
        }
    }
    mdb_cursor_close(cur);
    cur = NULL;

    /* Concepts. */
    s->n = n;
    s->store_id = A_ALLOC(a, n, uint32_t);
    s->key = A_ALLOC(a, n, const char *);
    s->title = A_ALLOC(a, n, const char *);
    s->course = A_ALLOC(a, n, uint32_t);
    s->unit = A_ALLOC(a, n, int32_t);
    s->seq = A_ALLOC(a, n, uint32_t);
    s->minutes = A_ALLOC(a, n, float);
    s->difficulty = A_ALLOC(a, n, float);
    im->rec = A_ALLOC(a, n, const uint8_t *);
    im->reclen = A_ALLOC(a, n, size_t);
    if (!s->store_id || !s->key || !s->title || !s->course || !s->unit || !s->seq ||
        !s->minutes || !s->difficulty || !im->rec || !im->reclen) FAIL_OOM();
    for (uint32_t c = 0; c < nc; c++)
        for (uint32_t d = s->course_first[c]; d < s->course_first[c + 1]; d++) s->course[d] = c;
    if ((rc = mdb_cursor_open(txn, concepts, &cur))) FAIL_DB("concepts");
    uint32_t seen = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 4) continue;
        uint32_t id = kgg_be32(k.mv_data);
        if (id >= nids || dense[id] == KGG_NONE) continue;   /* not in any course */
        uint32_t d = dense[id];
        kgg_rd r = rd_of(&v);
        s->store_id[d] = id;
        s->key[d] = kgg_rd_str(&r);
        s->title[d] = kgg_rd_str(&r);
        kgg_rd_str(&r); kgg_rd_str(&r);                  /* summary, description */
        kgg_rd_f64(&r);                                  /* own minutes */
        s->minutes[d] = (float)kgg_rd_f64(&r);
        s->difficulty[d] = (float)kgg_rd_f64(&r);
        s->unit[d] = (int32_t)kgg_rd_varint(&r) - 1;
        s->seq[d] = (uint32_t)kgg_rd_varint(&r);
        if (r.bad || !s->key) FAIL_BAD("concept");
        if (!s->title[d]) s->title[d] = s->key[d];
        im->rec[d] = v.mv_data;
        im->reclen[d] = v.mv_size;
        seen++;
    }
    if (rc != MDB_NOTFOUND) FAIL_DB("concepts");
    mdb_cursor_close(cur);
    cur = NULL;
    if (seen != n) { rs = kgg_errf(e, KGP_EDB, "%s: %u concepts listed by courses have no record",
                                   kgg_store_path(st), n - seen); goto fail; }

    /* Requirement and recommendation records, by dense id. */
    reqrec = kg_calloc((size_t)n + 1, sizeof *reqrec);
    reqlen = kg_calloc((size_t)n + 1, sizeof *reqlen);
    recrec = kg_calloc((size_t)n + 1, sizeof *recrec);
    reclen2 = kg_calloc((size_t)n + 1, sizeof *reclen2);
    if (!reqrec || !reqlen || !recrec || !reclen2) FAIL_OOM();
    for (int pass = 0; pass < 2; pass++) {
        if ((rc = mdb_cursor_open(txn, pass ? recommends : requires, &cur))) FAIL_DB("edges");
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 4) continue;
            uint32_t id = kgg_be32(k.mv_data);
            if (id >= nids || dense[id] == KGG_NONE) continue;
            (pass ? recrec : reqrec)[dense[id]] = v.mv_data;
            (pass ? reclen2 : reqlen)[dense[id]] = v.mv_size;
        }
        if (rc != MDB_NOTFOUND) FAIL_DB("edges");
        mdb_cursor_close(cur);
        cur = NULL;
    }
    /* count */
    size_t ngroups = 0, nmem = 0, nrec = 0, nunres = 0;
    for (uint32_t d = 0; d < n; d++) {
        if (reqrec[d]) {
            kgg_rd r = {reqrec[d], reqrec[d] + reqlen[d], 0};
            uint64_t ng = kgg_rd_varint(&r);
            for (uint64_t g = 0; g < ng && !r.bad; g++) {
                kgg_rd_varint(&r); kgg_rd_str(&r);
                uint64_t nm = kgg_rd_varint(&r);
                for (uint64_t j = 0; j < nm && !r.bad; j++) {
                    int un = kgg_rd_u8(&r);
                    if (un) kgg_rd_str(&r); else kgg_rd_varint(&r);
                    kgg_rd_str(&r);
                    if (un) nunres++; else nmem++;
                }
            }
            if (r.bad || ng > reqlen[d]) FAIL_BAD("requires");
            ngroups += ng;
        }
        if (recrec[d]) {
            kgg_rd r = {recrec[d], recrec[d] + reclen2[d], 0};
            uint64_t nm = kgg_rd_varint(&r);
            for (uint64_t j = 0; j < nm && !r.bad; j++) {
                int un = kgg_rd_u8(&r);
                if (un) kgg_rd_str(&r); else kgg_rd_varint(&r);
                kgg_rd_str(&r);
                if (un) nunres++; else nrec++;
            }
            if (r.bad) FAIL_BAD("recommends");
        }
    }
    if (ngroups >= UINT32_MAX || nmem >= UINT32_MAX || nrec >= UINT32_MAX) FAIL_BAD("too large");
    s->ngroups = (uint32_t)ngroups;
    s->grp_off = A_ALLOC(a, n + 1, uint32_t);
    s->grp_k = A_ALLOC(a, ngroups, uint32_t);
    s->grp_n = A_ALLOC(a, ngroups, uint32_t);
    s->grp_reason = A_ALLOC(a, ngroups, const char *);
    s->mem_off = A_ALLOC(a, ngroups + 1, uint32_t);
    s->mem = A_ALLOC(a, nmem, uint32_t);
    s->mem_reason = A_ALLOC(a, nmem, const char *);
    s->rec_off = A_ALLOC(a, n + 1, uint32_t);
    s->rec = A_ALLOC(a, nrec, uint32_t);
    s->rec_reason = A_ALLOC(a, nrec, const char *);
    s->unresolved = A_ALLOC(a, nunres, kgg_unresolved);
    if (!s->grp_off || !s->grp_k || !s->grp_n || !s->grp_reason || !s->mem_off || !s->mem ||
        !s->mem_reason || !s->rec_off || !s->rec || !s->rec_reason || !s->unresolved) FAIL_OOM();
    /* fill */
    uint32_t gi = 0, mi = 0, ri = 0;
    for (uint32_t d = 0; d < n; d++) {
        s->grp_off[d] = gi;
        s->rec_off[d] = ri;
        if (reqrec[d]) {
            kgg_rd r = {reqrec[d], reqrec[d] + reqlen[d], 0};
            uint64_t ng = kgg_rd_varint(&r);
            for (uint64_t g = 0; g < ng; g++, gi++) {
                s->grp_k[gi] = (uint32_t)kgg_rd_varint(&r);
                s->grp_reason[gi] = kgg_rd_str(&r);
                uint64_t nm = kgg_rd_varint(&r);
                s->grp_n[gi] = (uint32_t)nm;
                s->mem_off[gi] = mi;
                for (uint64_t j = 0; j < nm; j++) {
                    int un = kgg_rd_u8(&r);
                    if (un) {
                        kgg_unresolved *u = &s->unresolved[s->nunresolved++];
                        u->concept = d; u->target = kgg_rd_str(&r); u->recommended = 0; u->group = gi;
                        kgg_rd_str(&r);
                        continue;
                    }
                    uint64_t id = kgg_rd_varint(&r);
                    const char *reason = kgg_rd_str(&r);
                    if (id >= nids || dense[id] == KGG_NONE) FAIL_BAD("requires");
                    s->mem[mi] = dense[id];
                    s->mem_reason[mi++] = reason;
                }
            }
        }
        if (recrec[d]) {
            kgg_rd r = {recrec[d], recrec[d] + reclen2[d], 0};
            uint64_t nm = kgg_rd_varint(&r);
            for (uint64_t j = 0; j < nm; j++) {
                int un = kgg_rd_u8(&r);
                if (un) {
                    kgg_unresolved *u = &s->unresolved[s->nunresolved++];
                    u->concept = d; u->target = kgg_rd_str(&r); u->recommended = 1; u->group = KGG_NONE;
                    kgg_rd_str(&r);
                    continue;
                }
                uint64_t id = kgg_rd_varint(&r);
                const char *reason = kgg_rd_str(&r);
                if (id >= nids || dense[id] == KGG_NONE) FAIL_BAD("recommends");
                s->rec[ri] = dense[id];
                s->rec_reason[ri++] = reason;
            }
        }
    }
    s->grp_off[n] = gi;
    s->mem_off[gi] = mi;
    s->rec_off[n] = ri;

    /* Dependents: reverse of the requirement members, once per pair. */
    last = kg_malloc(((size_t)n ? n : 1) * sizeof *last);
    s->dep_off = A_ALLOC(a, n + 1, uint32_t);
    if (!last || !s->dep_off) FAIL_OOM();
    for (uint32_t d = 0; d < n; d++) last[d] = KGG_NONE;
    size_t ndep = 0;
    for (uint32_t d = 0; d < n; d++)
        for (uint32_t j = s->mem_off[s->grp_off[d]]; j < s->mem_off[s->grp_off[d + 1]]; j++)
            if (last[s->mem[j]] != d) { last[s->mem[j]] = d; s->dep_off[s->mem[j] + 1]++; ndep++; }
    for (uint32_t d = 0; d < n; d++) s->dep_off[d + 1] += s->dep_off[d];
    s->dep = A_ALLOC(a, ndep, uint32_t);
    if (!s->dep) FAIL_OOM();
    uint32_t *pos = last;   /* reuse: fill positions */
    for (uint32_t d = 0; d < n; d++) pos[d] = s->dep_off[d];
    uint32_t *mark = kg_malloc(((size_t)n ? n : 1) * sizeof *mark);
    if (!mark) FAIL_OOM();
    for (uint32_t d = 0; d < n; d++) mark[d] = KGG_NONE;
    for (uint32_t d = 0; d < n; d++)
        for (uint32_t j = s->mem_off[s->grp_off[d]]; j < s->mem_off[s->grp_off[d + 1]]; j++)
            if (mark[s->mem[j]] != d) { mark[s->mem[j]] = d; s->dep[pos[s->mem[j]]++] = d; }
    /* Reverse of the recommended edges, the same way. */
    s->recby_off = A_ALLOC(a, n + 1, uint32_t);
    if (!s->recby_off) { kg_free(mark); FAIL_OOM(); }
    for (uint32_t d = 0; d < n; d++) mark[d] = KGG_NONE;
    size_t nrb = 0;
    for (uint32_t d = 0; d < n; d++)
        for (uint32_t j = s->rec_off[d]; j < s->rec_off[d + 1]; j++)
            if (mark[s->rec[j]] != d) { mark[s->rec[j]] = d; s->recby_off[s->rec[j] + 1]++; nrb++; }
    for (uint32_t d = 0; d < n; d++) s->recby_off[d + 1] += s->recby_off[d];
    s->recby = A_ALLOC(a, nrb, uint32_t);
    if (!s->recby) { kg_free(mark); FAIL_OOM(); }
    for (uint32_t d = 0; d < n; d++) { pos[d] = s->recby_off[d]; mark[d] = KGG_NONE; }
    for (uint32_t d = 0; d < n; d++)
        for (uint32_t j = s->rec_off[d]; j < s->rec_off[d + 1]; j++)
            if (mark[s->rec[j]] != d) { mark[s->rec[j]] = d; s->recby[pos[s->rec[j]]++] = d; }
    kg_free(mark);

    /* Sorted key index. */
    im->sorted = A_ALLOC(a, n, uint32_t);
    if (!im->sorted) FAIL_OOM();
    for (uint32_t d = 0; d < n; d++) im->sorted[d] = d;
    qsort_r(im->sorted, n, sizeof *im->sorted, key_cmp_r, s);

    /* Topological ranks, once. */
    s->topo_rank = A_ALLOC(a, n, uint32_t);
    if (!s->topo_rank) FAIL_OOM();
    if ((rs = kgg_topo_ranks(s, s->topo_rank, &s->has_cycle, e))) goto fail;

    kg_free(dense); kg_free(last);
    kg_free(reqrec); kg_free(reqlen); kg_free(recrec); kg_free(reclen2);
    *out = s;
    return KGP_OK;
fail:
    if (cur) mdb_cursor_close(cur);
    kg_free(dense); kg_free(last);
    kg_free(reqrec); kg_free(reqlen); kg_free(recrec); kg_free(reclen2);
    kgg_snap_close(s);
    return rs;
#undef FAIL_DB
#undef FAIL_OOM
#undef FAIL_BAD
}

/* One string moved out of the map: re-pointed into the concept record's
 * copy when it lies in the record, else copied. */
static int move_str(kg_arena *a, const char **p, const uint8_t *old, size_t len, const uint8_t *neu)
{
    if (!*p) return 0;
    const uint8_t *q = (const uint8_t *)*p;
    if (old && q >= old && q < old + len) { *p = (const char *)neu + (q - old); return 0; }
    char *c = kg_arena_strdup(a, *p);
    if (!c) return -1;
    *p = c;
    return 0;
}

int kgg_snap_detach(kgg_snap *s, kgg_err *e)
{
    snap_impl *im = s->impl;
    if (!im->txn) return KGP_OK;
    kg_arena *a = im->a;
    int bad = 0;
    for (uint32_t i = 0; i < s->n && !bad; i++) {
        uint8_t *c = kg_arena_alloc(a, im->reclen[i] ? im->reclen[i] : 1);
        if (!c) { bad = 1; break; }
        memcpy(c, im->rec[i], im->reclen[i]);
        int same = s->title[i] == s->key[i];
        bad |= move_str(a, &s->key[i], im->rec[i], im->reclen[i], c);
        if (same) s->title[i] = s->key[i];
        else bad |= move_str(a, &s->title[i], im->rec[i], im->reclen[i], c);
        im->rec[i] = c;
    }
    for (uint32_t c = 0; c < s->ncourses && !bad; c++) {
        const char **f[] = { &s->course_title[c], &s->course_language[c], &s->course_version[c],
                             &s->course_source[c], &s->course_format[c] };
        for (size_t j = 0; j < sizeof f / sizeof *f; j++) bad |= move_str(a, f[j], NULL, 0, NULL);
    }
    uint32_t nunits = s->ncourses ? s->unit_off[s->ncourses] : 0;
    for (uint32_t u = 0; u < nunits && !bad; u++)
        bad |= move_str(a, &s->unit_id[u], NULL, 0, NULL) | move_str(a, &s->unit_title[u], NULL, 0, NULL);
    for (uint32_t g = 0; g < s->ngroups && !bad; g++) bad |= move_str(a, &s->grp_reason[g], NULL, 0, NULL);
    uint32_t nmem = s->ngroups ? s->mem_off[s->ngroups] : 0;
    for (uint32_t j = 0; j < nmem && !bad; j++) bad |= move_str(a, &s->mem_reason[j], NULL, 0, NULL);
    uint32_t nrec = s->n ? s->rec_off[s->n] : 0;
    for (uint32_t j = 0; j < nrec && !bad; j++) bad |= move_str(a, &s->rec_reason[j], NULL, 0, NULL);
    for (size_t j = 0; j < s->nunresolved && !bad; j++)
        bad |= move_str(a, &s->unresolved[j].target, NULL, 0, NULL);
    if (bad) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    kgg_store_snap_end(im->st, im->txn);
    im->txn = NULL;
    return KGP_OK;
}

uint32_t kgg_snap_find_key(const kgg_snap *s, const char *key)
{
    const snap_impl *im = s->impl;
    size_t lo = 0, hi = s->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(s->key[im->sorted[mid]], key);
        if (c == 0) return im->sorted[mid];
        if (c < 0) lo = mid + 1; else hi = mid;
    }
    return KGG_NONE;
}

int kgg_snap_concept_text(const kgg_snap *s, uint32_t i, kg_arena *a, kgg_text *out)
{
    memset(out, 0, sizeof *out);
    if (i >= s->n) return -1;
    const snap_impl *im = s->impl;
    kgg_rd r = {im->rec[i], im->rec[i] + im->reclen[i], 0};
    kgg_rd_str(&r); kgg_rd_str(&r);                      /* key, title */
    out->summary = kgg_rd_str(&r);
    out->description = kgg_rd_str(&r);
    out->own_minutes = kgg_rd_f64(&r);
    kgg_rd_f64(&r); kgg_rd_f64(&r);                      /* minutes, difficulty */
    kgg_rd_varint(&r); kgg_rd_varint(&r);                /* unit, seq */
    out->line = (uint32_t)kgg_rd_varint(&r);
    uint64_t ng = kgg_rd_varint(&r);
    if (r.bad || ng > im->reclen[i]) return -1;
    out->goals = A_ALLOC(a, ng, const char *);
    if (!out->goals) return -1;
    for (uint64_t j = 0; j < ng; j++) out->goals[j] = kgg_rd_str(&r);
    out->ngoals = ng;
    uint64_t nt = kgg_rd_varint(&r);
    if (r.bad || nt > im->reclen[i]) return -1;
    out->tags = A_ALLOC(a, nt, const char *);
    if (!out->tags) return -1;
    for (uint64_t j = 0; j < nt; j++) out->tags[j] = kgg_rd_str(&r);
    out->ntags = nt;
    uint64_t nr = kgg_rd_varint(&r);
    if (r.bad || nr > im->reclen[i]) return -1;
    out->resources = A_ALLOC(a, nr, kgg_resource_text);
    if (!out->resources) return -1;
    for (uint64_t j = 0; j < nr; j++) {
        out->resources[j].title = kgg_rd_str(&r);
        out->resources[j].url = kgg_rd_str(&r);
        out->resources[j].kind = kgg_rd_str(&r);
        out->resources[j].minutes = kgg_rd_f64(&r);
    }
    out->nresources = nr;
    return r.bad ? -1 : 0;
}
