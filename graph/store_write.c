/* The writer: commits course models into the store in one transaction.
 * See graph/store.h for the schema, the contract and the rejection rules. */
#include "graph/store.h"
#include "graph/igraph_bridge.h"
#include "base/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* ---- record encoding ---- */

/* Record fields beyond base/buf.h's varint and length-prefixed string: a byte,
 * and a double as its 8 IEEE-754 bytes, little-endian (portable records). */
static void b_u8(kg_buf *b, uint8_t v) { kg_buf_put(b, &v, 1); }
static void b_f64(kg_buf *b, double d)
{
    uint64_t u; memcpy(&u, &d, 8);
    uint8_t t[8];
    for (int i = 0; i < 8; i++) t[i] = (uint8_t)(u >> (8 * i));
    kg_buf_put(b, t, 8);
}

/* ---- per-write state ---- */

/* Longest "course:concept" key: LMDB keys are at most 511 bytes. */
#define KGG_MAX_KEY 400

enum { TGT_LOCAL, TGT_BATCH, TGT_OTHER };

/* A reference of the batch, normalised once before the transaction. */
typedef struct nref {
    char *key;              /* fully qualified "course:concept" */
    int local;              /* target in the same course */
} nref;

typedef struct wcourse {
    kgg_course *c;
    char hash[17];
    size_t content_bytes;   /* size of the canonical encoding */
    nref **grp_refs;        /* [nconcepts][sum of group members] flattened per concept */
    nref **rec_refs;        /* [nconcepts][nrecommends] */
    char **keys;            /* [nconcepts] "course:concept" */
    uint32_t *ids;          /* [nconcepts] store ids (per run) */
    int unchanged;          /* per run */
} wcourse;

typedef struct wctx {
    kgg_store *st;
    kgg_write_result *res;
    kg_arena *a;            /* scratch for the whole write */
    wcourse *wc;
    size_t n;
    int dry_run;
    int changed;            /* per run: something to commit */
    int dry_done;
    size_t base_msgs, base_errors;  /* messages from validation */
    uint32_t *heads;        /* per run: holders of cross-course requirement edges made now */
    size_t nheads, cap_heads;
    MDB_dbi meta, courses, names, concepts, requires, recommends, dependents,
            recommenders, unresolved;
} wctx;

#define PUSH_R(r, arr, n, cap) \
    (kg_grow(&(arr), &(cap), (n) + 1, sizeof *(arr)) ? NULL : \
     (memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++]))

void kgg_write_result_init(kgg_write_result *r)
{
    memset(r, 0, sizeof *r);
    r->arena = kg_arena_new();
}

void kgg_write_result_free(kgg_write_result *r)
{
    if (!r) return;
    kg_arena_free(r->arena);
    kg_free(r->courses);
    kg_free(r->unresolved);
    kg_free(r->orphaned);
    kg_free(r->msgs);
    memset(r, 0, sizeof *r);
}

static int add_msg(kgg_write_result *r, int sev, const char *file, uint32_t line,
                   uint32_t col, const char *fmt, ...) __attribute__((format(printf, 6, 7)));
static int add_msg(kgg_write_result *r, int sev, const char *file, uint32_t line,
                   uint32_t col, const char *fmt, ...)
{
    kgg_write_msg *m = PUSH_R(r, r->msgs, r->nmsgs, r->cap_msgs);
    if (!m) return -1;
    char tmp[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    m->severity = sev;
    m->file = kg_arena_strdup(r->arena, file);
    m->line = line;
    m->column = col;
    m->message = kg_arena_strdup(r->arena, tmp);
    if (sev == KGG_ERROR) r->nerrors++;
    return m->message ? 0 : -1;
}

/* "file:line[:column]: message" for e, from the first error of the result. */
static kgp_status first_error(kgg_write_result *r, kgg_err *e, kgp_status st)
{
    for (size_t i = 0; i < r->nmsgs; i++) {
        kgg_write_msg *m = &r->msgs[i];
        if (m->severity != KGG_ERROR) continue;
        if (m->file && m->line && m->column)
            return kgg_errf(e, st, "%s:%u:%u: %s%s", m->file, m->line, m->column, m->message,
                            r->nerrors > 1 ? " (and more errors)" : "");
        if (m->file && m->line)   /* column 0: not known (a CSV row, say) */
            return kgg_errf(e, st, "%s:%u: %s%s", m->file, m->line, m->message,
                            r->nerrors > 1 ? " (and more errors)" : "");
        if (m->file)
            return kgg_errf(e, st, "%s: %s%s", m->file, m->message, r->nerrors > 1 ? " (and more errors)" : "");
        return kgg_errf(e, st, "%s%s", m->message, r->nerrors > 1 ? " (and more errors)" : "");
    }
    return kgg_errf(e, st, "invalid input");
}

/* ---- validation (before any transaction) ---- */

static int valid_course_id(const char *s)
{
    if (!s || !*s || strlen(s) > 200) return 0;
    for (; *s; s++)
        if (*s == ':' || (unsigned char)*s <= ' ') return 0;
    return 1;
}

/* Normalises a reference of course c; NULL on out of memory. */
static nref *norm_ref(wctx *w, const kgg_course *c, const char *target)
{
    nref *r = kg_arena_calloc(w->a, sizeof *r);
    if (!r) return NULL;
    const char *colon = target ? strchr(target, ':') : NULL;
    if (!colon) {
        r->local = 1;
        r->key = kg_arena_printf(w->a, "%s:%s", c->id, target ? target : "");
    } else {
        r->local = (size_t)(colon - target) == strlen(c->id) && !strncmp(target, c->id, strlen(c->id));
        r->key = kg_arena_strdup(w->a, target);
    }
    return r->key ? r : NULL;
}

static const char *concept_label(const kgg_concept *k)
{
    return k->title && *k->title ? k->title : k->id;
}

/* Concept ids of a course sorted for O(log n) lookup (kgg_course_find is
 * linear, which would make validation quadratic). */
typedef struct id_index { const kgg_course *c; uint32_t *ord; size_t n; } id_index;
static int ord_cmp_r(const void *a, const void *b, void *ud)
{
    const kgg_course *c = ud;
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int r = strcmp(c->concepts[x].id, c->concepts[y].id);
    return r ? r : (x > y) - (x < y);
}

static int idx_build(id_index *ix, const kgg_course *c, kg_arena *a)
{
    ix->c = c;
    ix->n = 0;
    ix->ord = kg_arena_alloc(a, (c->nconcepts ? c->nconcepts : 1) * sizeof *ix->ord);
    if (!ix->ord) return -1;
    for (size_t i = 0; i < c->nconcepts; i++)
        if (c->concepts[i].id) ix->ord[ix->n++] = (uint32_t)i;
    qsort_r(ix->ord, ix->n, sizeof *ix->ord, ord_cmp_r, (void *)c);
    return 0;
}

/* Index of the first concept (in authored order) with this id, or -1. */
static long idx_find(const id_index *ix, const char *id)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->c->concepts[ix->ord[mid]].id, id) < 0) lo = mid + 1; else hi = mid;
    }
    if (lo < ix->n && !strcmp(ix->c->concepts[ix->ord[lo]].id, id)) return ix->ord[lo];
    return -1;
}

/* Checks one course on its own; appends errors to res. Returns -1 on OOM. */
static int validate_course(wctx *w, wcourse *wc)
{
    kgg_course *c = wc->c;
    kgg_write_result *r = w->res;
    const char *file = c->source;
    size_t nerr0 = r->nerrors;
    if (kgg_course_check_utf8(c) < 0) return -1;
    for (size_t i = 0; i < c->ndiags; i++) {
        kgg_diag *d = &c->diags[i];
        if (add_msg(r, d->severity, d->file ? d->file : file, d->line, d->column, "%s",
                    d->message ? d->message : "")) return -1;
    }
    if (c->ndropped && add_msg(r, KGG_ERROR, file, 0, 0, "%zu more error%s not shown (the first %d are "
                               "listed; fix those and import again)", c->ndropped,
                               c->ndropped == 1 ? "" : "s", KGG_MAX_ERRORS)) return -1;
    if (c->ndropped_warnings && add_msg(r, KGG_WARNING, file, 0, 0, "%zu more warning%s not shown",
                                        c->ndropped_warnings, c->ndropped_warnings == 1 ? "" : "s"))
        return -1;
    if (r->nerrors > nerr0) return 0;   /* the importer already rejected it */
    if (!valid_course_id(c->id)) {
        return add_msg(r, KGG_ERROR, file, 0, 0, "course id '%s' is %s", c->id ? c->id : "",
                       c->id && *c->id ? "invalid (at most 200 bytes, no ':' or spaces)" : "missing");
    }
    size_t n = c->nconcepts;
    wc->keys = kg_arena_calloc(w->a, (n ? n : 1) * sizeof *wc->keys);
    wc->ids = kg_arena_calloc(w->a, (n ? n : 1) * sizeof *wc->ids);
    wc->grp_refs = kg_arena_calloc(w->a, (n ? n : 1) * sizeof *wc->grp_refs);
    wc->rec_refs = kg_arena_calloc(w->a, (n ? n : 1) * sizeof *wc->rec_refs);
    if (!wc->keys || !wc->ids || !wc->grp_refs || !wc->rec_refs) return -1;
    if (n == 0 && add_msg(r, KGG_WARNING, file, 0, 0, "course '%s' has no concepts", c->id)) return -1;
    id_index ix;
    if (idx_build(&ix, c, w->a)) return -1;
    /* ids: present, well formed, unique (sort a permutation) */
    for (size_t i = 0; i < n; i++) {
        kgg_concept *k = &c->concepts[i];
        if (!k->id || !*k->id || strchr(k->id, ':')) {
            if (add_msg(r, KGG_ERROR, file, k->line, 0, "concept %zu of course '%s': id '%s' is %s",
                        i + 1, c->id, k->id ? k->id : "", k->id && *k->id ? "invalid (no ':')" : "missing"))
                return -1;
            continue;
        }
        wc->keys[i] = kg_arena_printf(w->a, "%s:%s", c->id, k->id);
        if (!wc->keys[i]) return -1;
        if (strlen(wc->keys[i]) > KGG_MAX_KEY) {
            if (add_msg(r, KGG_ERROR, file, k->line, 0, "concept id '%.40s...' of course '%.40s' is too long "
                        "(course:concept may have at most %d bytes)", k->id, c->id, KGG_MAX_KEY)) return -1;
            continue;
        }
        long first = idx_find(&ix, k->id);
        if (first >= 0 && (size_t)first < i &&
            add_msg(r, KGG_ERROR, file, k->line, 0,
                    "duplicate concept id '%s' in course '%s' (first defined at line %u)",
                    k->id, c->id, c->concepts[first].line)) return -1;
    }
    if (r->nerrors > nerr0) return 0;
    /* references */
    uint32_t *efrom = NULL, *eto = NULL;
    size_t ne = 0, cape = 0, capt = 0;
    int oom = 0;
    for (size_t i = 0; i < n && !oom; i++) {
        kgg_concept *k = &c->concepts[i];
        size_t nm = 0;
        for (size_t g = 0; g < k->ngroups; g++) nm += k->groups[g].nmembers;
        wc->grp_refs[i] = kg_arena_calloc(w->a, (nm ? nm : 1) * sizeof(nref));
        wc->rec_refs[i] = kg_arena_calloc(w->a, (k->nrecommends ? k->nrecommends : 1) * sizeof(nref));
        if (!wc->grp_refs[i] || !wc->rec_refs[i]) return -1;
        size_t mi = 0;
        for (size_t g = 0; g < k->ngroups; g++) {
            kgg_group *gr = &k->groups[g];
            if (gr->k < 1 || gr->k > gr->nmembers)
                if (add_msg(r, KGG_ERROR, file, gr->nmembers ? gr->members[0].line : k->line, 0,
                            "concept '%s': requirement group needs %u of %zu members "
                            "(k must be between 1 and the number of members)",
                            k->id, gr->k, gr->nmembers)) return -1;
            for (size_t m = 0; m < gr->nmembers; m++, mi++) {
                kgg_ref *ref = &gr->members[m];
                nref *nr = norm_ref(w, c, ref->target);
                if (!nr) return -1;
                if (strlen(nr->key) > KGG_MAX_KEY) {
                    if (add_msg(r, KGG_ERROR, file, ref->line ? ref->line : k->line, ref->line ? ref->col : 0,
                                "concept '%s': reference '%.40s...' is too long", k->id, nr->key)) return -1;
                    nr->key = "";
                }
                wc->grp_refs[i][mi] = *nr;
                if (!*nr->key) continue;        /* too long: reported */
                for (size_t m2 = 0; m2 < m; m2++)
                    if (!strcmp(wc->grp_refs[i][mi - m + m2].key, nr->key)) {
                        if (add_msg(r, KGG_ERROR, file, ref->line ? ref->line : k->line, ref->line ? ref->col : 0,
                                    "concept '%s': '%s' is listed twice in one requirement group",
                                    k->id, ref->target)) return -1;
                        break;
                    }
                if (!nr->local) continue;
                const char *tid = strchr(nr->key, ':') + 1;
                long t = idx_find(&ix, tid);
                if (t < 0) {
                    if (add_msg(r, KGG_ERROR, file, ref->line ? ref->line : k->line, ref->line ? ref->col : 0,
                                "concept '%s' requires '%s', which is not a concept of course '%s'",
                                k->id, ref->target ? ref->target : "", c->id)) return -1;
                    continue;
                }
                if (kg_grow(&efrom, &cape, ne + 1, sizeof *efrom) ||
                    kg_grow(&eto, &capt, ne + 1, sizeof *eto)) { oom = 1; break; }
                efrom[ne] = (uint32_t)t; eto[ne] = (uint32_t)i; ne++;
            }
        }
        for (size_t j = 0; j < k->nrecommends; j++) {
            kgg_ref *ref = &k->recommends[j];
            nref *nr = norm_ref(w, c, ref->target);
            if (!nr) { oom = 1; break; }
            if (strlen(nr->key) > KGG_MAX_KEY) {
                if (add_msg(r, KGG_ERROR, file, ref->line ? ref->line : k->line, ref->line ? ref->col : 0,
                            "concept '%s': reference '%.40s...' is too long", k->id, nr->key)) { oom = 1; break; }
                nr->key = "";
                continue;
            }
            wc->rec_refs[i][j] = *nr;
            if (!nr->local) continue;
            long t = idx_find(&ix, strchr(nr->key, ':') + 1);
            if (t < 0 && add_msg(r, KGG_ERROR, file, ref->line ? ref->line : k->line, ref->line ? ref->col : 0,
                                 "concept '%s' recommends '%s', which is not a concept of course '%s'",
                                 k->id, ref->target ? ref->target : "", c->id)) { oom = 1; break; }
            if (t == (long)i && add_msg(r, KGG_ERROR, file, ref->line ? ref->line : k->line, ref->line ? ref->col : 0,
                                        "concept '%s' recommends itself", k->id)) { oom = 1; break; }
        }
    }
    /* cycles inside the course */
    if (!oom && r->nerrors == nerr0 && ne > 0) {
        kgg_cycles cy;
        kgg_err e;
        kgp_status s = kgg_find_cycles_edges((uint32_t)n, efrom, eto, ne, 10, &cy, &e);
        if (s == KGP_ENOMEM) oom = 1;
        else if (s != KGP_OK) {
            if (add_msg(r, KGG_ERROR, file, 0, 0, "%s", e.msg)) oom = 1;
        } else {
            for (size_t ci = 0; ci < cy.n && !oom; ci++) {
                kg_buf t = {0};
                for (size_t j = cy.off[ci]; j < cy.off[ci + 1]; j++) {
                    const char *lbl = concept_label(&c->concepts[cy.v[j]]);
                    kg_buf_put(&t, lbl, strlen(lbl));
                    kg_buf_put(&t, " -> ", 4);
                }
                const char *lbl = concept_label(&c->concepts[cy.v[cy.off[ci]]]);
                kg_buf_put(&t, lbl, strlen(lbl) + 1);
                if (t.oom || add_msg(r, KGG_ERROR, file, c->concepts[cy.v[cy.off[ci]]].line, 0,
                                     "prerequisite cycle in course '%s': %s "
                                     "(each is required by the next)", c->id, (char *)t.data))
                    oom = 1;
                kg_buf_free(&t);
            }
            kgg_cycles_free(&cy);
        }
    }
    kg_free(efrom);
    kg_free(eto);
    if (oom) return -1;
    if (r->nerrors == nerr0) {
        /* The whole content but not the path: the same course read from
         * another spelling of its path is unchanged. */
        uint64_t h = kgg_course_digest(c, KGG_DIGEST_ID | KGG_DIGEST_META, &wc->content_bytes);
        snprintf(wc->hash, sizeof wc->hash, "%016llx", (unsigned long long)h);
        if (kgg_course_set_identity(c)) return -1;
    }
    return 0;
}

/* ---- transaction helpers ---- */

#define TRY(expr) do { int rc_ = (expr); if (rc_) { *mrc = rc_; return kgg_mdb_fail(e, #expr, rc_); } } while (0)
#define OOM() return kgg_errf(e, KGP_ENOMEM, "out of memory")

static MDB_val id_val(uint8_t b[4], uint32_t id) { kgg_put_be32(b, id); return (MDB_val){4, b}; }
static MDB_val str_val(const char *s) { return (MDB_val){strlen(s), (void *)s}; }

/* Member transform for rewrite_members: returns 1 when it changed *m. */
typedef struct member { int unresolved; uint32_t id; const char *target; const char *reason; } member;
typedef int (*member_fn)(member *m, void *ud);

/* Re-encodes a requires (groups) or recommends record with fn applied to
 * every member. *changed tells whether anything changed. */
static int rewrite_members(const MDB_val *rec, int groups, member_fn fn, void *ud,
                           kg_buf *out, int *changed)
{
    kgg_rd r = {rec->mv_data, (const uint8_t *)rec->mv_data + rec->mv_size, 0};
    *changed = 0;
    uint64_t ng = groups ? kgg_rd_varint(&r) : 1;
    if (groups) kg_buf_varint(out, ng);
    for (uint64_t g = 0; g < ng && !r.bad; g++) {
        if (groups) {
            kg_buf_varint(out, kgg_rd_varint(&r));      /* k */
            kg_buf_lpstr(out, kgg_rd_str(&r));            /* reason */
        }
        uint64_t nm = kgg_rd_varint(&r);
        kg_buf_varint(out, nm);
        for (uint64_t i = 0; i < nm && !r.bad; i++) {
            member m = {0};
            m.unresolved = kgg_rd_u8(&r);
            if (m.unresolved) m.target = kgg_rd_str(&r);
            else m.id = (uint32_t)kgg_rd_varint(&r);
            m.reason = kgg_rd_str(&r);
            if (fn(&m, ud)) *changed = 1;
            b_u8(out, (uint8_t)m.unresolved);
            if (m.unresolved) kg_buf_lpstr(out, m.target); else kg_buf_varint(out, m.id);
            kg_buf_lpstr(out, m.reason);
        }
    }
    return r.bad ? -1 : 0;
}

/* Calls fn for every member of a record, read-only. */
static int each_member(const MDB_val *rec, int groups, member_fn fn, void *ud)
{
    kg_buf tmp = {0};
    int ch;
    int rc = rewrite_members(rec, groups, fn, ud, &tmp, &ch);
    int oom = tmp.oom;
    kg_buf_free(&tmp);
    return rc ? rc : (oom ? -2 : 0);
}

typedef struct edge_del { wctx *w; MDB_txn *txn; uint32_t self; MDB_dbi rev; int rc; } edge_del;

static int del_member_edge(member *m, void *ud)
{
    edge_del *d = ud;
    uint8_t kb[4], vb[4];
    MDB_val v = id_val(vb, d->self);
    int rc;
    if (m->unresolved) {
        MDB_val k = str_val(m->target ? m->target : "");
        rc = mdb_del(d->txn, d->w->unresolved, &k, &v);
    } else {
        MDB_val k = id_val(kb, m->id);
        rc = mdb_del(d->txn, d->rev, &k, &v);
    }
    if (rc && rc != MDB_NOTFOUND && !d->rc) d->rc = rc;
    return 0;
}

/* Removes concept id's forward edges (and their reverse entries) and its
 * records; keeps its name. */
static kgp_status remove_concept(wctx *w, MDB_txn *txn, uint32_t id, int *mrc, kgg_err *e)
{
    uint8_t kb[4];
    MDB_val k = id_val(kb, id), v;
    for (int pass = 0; pass < 2; pass++) {
        MDB_dbi fwd = pass ? w->recommends : w->requires;
        int rc = mdb_get(txn, fwd, &k, &v);
        if (rc == MDB_NOTFOUND) continue;
        TRY(rc);
        /* copy: deleting reverse entries may move pages */
        kg_buf cp = {0};
        kg_buf_put(&cp, v.mv_data, v.mv_size);
        if (cp.oom) OOM();
        MDB_val cv = {cp.len, cp.data};
        edge_del d = {w, txn, id, pass ? w->recommenders : w->dependents, 0};
        int r = each_member(&cv, !pass, del_member_edge, &d);
        kg_buf_free(&cp);
        if (r == -2) OOM();
        if (r) return kgg_errf(e, KGP_EDB, "damaged record of concept %u", id);
        if (d.rc) { *mrc = d.rc; return kgg_errf(e, kgg_mdb_status(d.rc), "cannot delete edge: %s", mdb_strerror(d.rc)); }
        TRY(mdb_del(txn, fwd, &k, NULL));
    }
    int rc = mdb_del(txn, w->concepts, &k, NULL);
    if (rc && rc != MDB_NOTFOUND) TRY(rc);
    return KGP_OK;
}

/* The ids of the values of a DUPSORT key (u32 BE), kg_malloc'ed. */
static kgp_status dup_ids(MDB_txn *txn, MDB_dbi dbi, MDB_val *key, uint32_t **out,
                          size_t *n, int *mrc, kgg_err *e)
{
    *out = NULL; *n = 0;
    size_t cap = 0;
    MDB_cursor *cur;
    TRY(mdb_cursor_open(txn, dbi, &cur));
    MDB_val k = *key, v;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_KEY);
    while (rc == 0) {
        if (v.mv_size == 4) {
            if (kg_grow(out, &cap, *n + 1, sizeof **out)) { mdb_cursor_close(cur); OOM(); }
            (*out)[(*n)++] = kgg_be32(v.mv_data);
        }
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT_DUP);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) { kg_free(*out); *out = NULL; TRY(rc); }
    return KGP_OK;
}

typedef struct swap { uint32_t id; const char *key; int hits; } swap;

static int to_unresolved(member *m, void *ud)
{
    swap *s = ud;
    if (m->unresolved || m->id != s->id) return 0;
    m->unresolved = 1; m->target = s->key; s->hits++;
    return 1;
}

static int to_resolved(member *m, void *ud)
{
    swap *s = ud;
    if (!m->unresolved || !m->target || strcmp(m->target, s->key)) return 0;
    m->unresolved = 0; m->id = s->id; s->hits++;
    return 1;
}

/* Rewrites the requires/recommends records of concept holder with fn;
 * *hit_req / *hit_rec tell which changed. */
static kgp_status rewrite_holder(wctx *w, MDB_txn *txn, uint32_t holder, member_fn fn,
                                 swap *s, int *hit_req, int *hit_rec, int *mrc, kgg_err *e)
{
    uint8_t kb[4];
    MDB_val k = id_val(kb, holder), v;
    *hit_req = *hit_rec = 0;
    for (int pass = 0; pass < 2; pass++) {
        MDB_dbi fwd = pass ? w->recommends : w->requires;
        int rc = mdb_get(txn, fwd, &k, &v);
        if (rc == MDB_NOTFOUND) continue;
        TRY(rc);
        kg_buf out = {0};
        int changed;
        s->hits = 0;
        if (rewrite_members(&v, !pass, fn, s, &out, &changed)) {
            kg_buf_free(&out);
            return kgg_errf(e, KGP_EDB, "damaged record of concept %u", holder);
        }
        if (out.oom) { kg_buf_free(&out); OOM(); }
        if (changed) {
            MDB_val nv = {out.len, out.data};
            rc = mdb_put(txn, fwd, &k, &nv, 0);
            kg_buf_free(&out);
            TRY(rc);
            if (pass) *hit_rec = 1; else *hit_req = 1;
        } else {
            kg_buf_free(&out);
        }
    }
    return KGP_OK;
}

static const char *holder_key(wctx *w, MDB_txn *txn, uint32_t id)
{
    uint8_t kb[4];
    MDB_val k = id_val(kb, id), v;
    if (mdb_get(txn, w->concepts, &k, &v)) return "?";
    kgg_rd r = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
    const char *key = kgg_rd_str(&r);
    return key ? kg_arena_strdup(w->res->arena, key) : "?";
}

/* Concept (id, key) is gone: references to it from the remaining concepts
 * become unresolved again. */
static kgp_status orphan_refs(wctx *w, MDB_txn *txn, uint32_t id, const char *key,
                              int *mrc, kgg_err *e)
{
    uint8_t kb[4];
    MDB_val k = id_val(kb, id);
    for (int pass = 0; pass < 2; pass++) {
        MDB_dbi rev = pass ? w->recommenders : w->dependents;
        uint32_t *hs; size_t nh;
        kgp_status s = dup_ids(txn, rev, &k, &hs, &nh, mrc, e);
        if (s) return s;
        for (size_t i = 0; i < nh; i++) {
            swap sw = {id, key, 0};
            int hreq, hrec;
            s = rewrite_holder(w, txn, hs[i], to_unresolved, &sw, &hreq, &hrec, mrc, e);
            if (s) { kg_free(hs); return s; }
            MDB_val uk = str_val(key), uv;
            uint8_t vb[4];
            uv = id_val(vb, hs[i]);
            int rc = mdb_put(txn, w->unresolved, &uk, &uv, MDB_NODUPDATA);
            if (rc && rc != MDB_KEYEXIST) { kg_free(hs); TRY(rc); }
            kgg_write_ref *o = PUSH_R(w->res, w->res->orphaned, w->res->norphaned, w->res->cap_orphaned);
            if (!o) { kg_free(hs); OOM(); }
            o->from = holder_key(w, txn, hs[i]);
            o->target = kg_arena_strdup(w->res->arena, key);
            o->recommended = pass;
        }
        kg_free(hs);
        int rc = mdb_del(txn, rev, &k, NULL);
        if (rc && rc != MDB_NOTFOUND) TRY(rc);
    }
    return KGP_OK;
}

/* A newly stored concept (id, key) resolves the references waiting for it.
 * *req_edges tells whether a requirement edge was created. */
static kgp_status resolve_waiting(wctx *w, MDB_txn *txn, uint32_t id, const char *key,
                                  int *req_edges, int *mrc, kgg_err *e)
{
    MDB_val uk = str_val(key);
    uint32_t *hs; size_t nh;
    kgp_status s = dup_ids(txn, w->unresolved, &uk, &hs, &nh, mrc, e);
    if (s || nh == 0) { kg_free(hs); return s; }
    for (size_t i = 0; i < nh; i++) {
        swap sw = {id, key, 0};
        int hreq, hrec;
        s = rewrite_holder(w, txn, hs[i], to_resolved, &sw, &hreq, &hrec, mrc, e);
        if (s) { kg_free(hs); return s; }
        uint8_t kb[4], vb[4];
        MDB_val k = id_val(kb, id), v = id_val(vb, hs[i]);
        if (hreq && kg_grow(&w->heads, &w->cap_heads, w->nheads + 1, sizeof *w->heads)) { kg_free(hs); OOM(); }
        if (hreq) w->heads[w->nheads++] = hs[i];
        if (hreq) { *req_edges = 1; int rc = mdb_put(txn, w->dependents, &k, &v, MDB_NODUPDATA);
                    if (rc && rc != MDB_KEYEXIST) { kg_free(hs); TRY(rc); } }
        if (hrec) { int rc = mdb_put(txn, w->recommenders, &k, &v, MDB_NODUPDATA);
                    if (rc && rc != MDB_KEYEXIST) { kg_free(hs); TRY(rc); } }
        w->res->resolved++;
    }
    kg_free(hs);
    int rc = mdb_del(txn, w->unresolved, &uk, NULL);
    if (rc && rc != MDB_NOTFOUND) TRY(rc);
    return KGP_OK;
}

/* Encodes one concept record. */
static void encode_concept(const wcourse *wc, size_t i, kg_buf *b)
{
    const kgg_concept *k = &wc->c->concepts[i];
    kg_buf_lpstr(b, wc->keys[i]); kg_buf_lpstr(b, k->title); kg_buf_lpstr(b, k->summary); kg_buf_lpstr(b, k->description);
    b_f64(b, k->minutes); b_f64(b, kgg_concept_total_minutes(k)); b_f64(b, k->difficulty);
    kg_buf_varint(b, k->unit >= 0 && (size_t)k->unit < wc->c->nunits ? (uint64_t)k->unit + 1 : 0);
    kg_buf_varint(b, i); kg_buf_varint(b, k->line);
    kg_buf_varint(b, k->ngoals);
    for (size_t j = 0; j < k->ngoals; j++) kg_buf_lpstr(b, k->goals[j]);
    kg_buf_varint(b, k->ntags);
    for (size_t j = 0; j < k->ntags; j++) kg_buf_lpstr(b, k->tags[j]);
    kg_buf_varint(b, k->nresources);
    for (size_t j = 0; j < k->nresources; j++) {
        const kgg_resource *r = &k->resources[j];
        kg_buf_lpstr(b, r->title); kg_buf_lpstr(b, r->url); kg_buf_lpstr(b, r->kind); b_f64(b, r->minutes);
    }
}

/* Looks a key up in names: 0 found (*id set), MDB_NOTFOUND, or an error. */
static int name_id(wctx *w, MDB_txn *txn, const char *key, uint32_t *id)
{
    MDB_val k = str_val(key), v;
    int rc = mdb_get(txn, w->names, &k, &v);
    if (rc == 0) *id = v.mv_size == 4 ? kgg_be32(v.mv_data) : UINT32_MAX;
    return rc;
}

/* Writes a member (resolved or not) of concept self into out and the
 * reverse/unresolved indexes. */
static kgp_status put_member(wctx *w, MDB_txn *txn, uint32_t self, const char *self_key,
                             const nref *nr, const char *reason, int recommended,
                             kgg_write_course *wcr, int *cross, kg_buf *out, int *mrc, kgg_err *e)
{
    uint32_t id;
    int rc = name_id(w, txn, nr->key, &id);
    uint8_t kb[4], vb[4];
    MDB_val v = id_val(vb, self);
    if (rc == 0) {
        b_u8(out, 0); kg_buf_varint(out, id);
        MDB_val k = id_val(kb, id);
        rc = mdb_put(txn, recommended ? w->recommenders : w->dependents, &k, &v, MDB_NODUPDATA);
        if (rc && rc != MDB_KEYEXIST) TRY(rc);
        if (recommended) wcr->recommends++; else wcr->edges++;
        if (!nr->local && !recommended) {
            *cross = 1;
            if (kg_grow(&w->heads, &w->cap_heads, w->nheads + 1, sizeof *w->heads)) OOM();
            w->heads[w->nheads++] = self;
        }
    } else if (rc == MDB_NOTFOUND) {
        b_u8(out, 1); kg_buf_lpstr(out, nr->key);
        MDB_val k = str_val(nr->key);
        rc = mdb_put(txn, w->unresolved, &k, &v, MDB_NODUPDATA);
        if (rc && rc != MDB_KEYEXIST) TRY(rc);
        wcr->unresolved++;
        kgg_write_ref *u = PUSH_R(w->res, w->res->unresolved, w->res->nunresolved, w->res->cap_unresolved);
        if (!u) OOM();
        u->from = kg_arena_strdup(w->res->arena, self_key);
        u->target = kg_arena_strdup(w->res->arena, nr->key);
        u->recommended = recommended;
        if (!u->from || !u->target) OOM();
    } else {
        TRY(rc);
    }
    kg_buf_lpstr(out, reason);
    return KGP_OK;
}

/* Is course id in the batch, or stored? (for dangling-reference checks) */
static int course_known(wctx *w, MDB_txn *txn, const char *key)
{
    const char *colon = strchr(key, ':');
    size_t len = colon ? (size_t)(colon - key) : strlen(key);
    for (size_t i = 0; i < w->n; i++)
        if (strlen(w->wc[i].c->id) == len && !strncmp(w->wc[i].c->id, key, len)) return 1;
    MDB_val k = {len, (void *)key}, v;
    return mdb_get(txn, w->courses, &k, &v) == 0;
}

/* Checks for requirement cycles closed by this write. Every such cycle
 * goes through a cross-course edge created now (edges inside one course
 * were checked per course, and all edges a replaced course holds are new),
 * so it lies inside the region forward-reachable (through `dependents`)
 * from the holders of those edges: strongly connected components are
 * computed on that region only. Adds an error per cycle (titles and keys).
 * Cost: O(size of the region), read through the indexes. */
static kgp_status check_global_cycles(wctx *w, MDB_txn *txn, uint32_t next_id, int *mrc, kgg_err *e)
{
    uint32_t *from = NULL, *to = NULL, *region = NULL, *loc = NULL;
    size_t ne = 0, capf = 0, capt = 0, nr = 0, capr = 0;
    kgp_status s = KGP_OK;
    loc = kg_malloc(((size_t)next_id ? next_id : 1) * sizeof *loc);
    if (!loc) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    for (uint32_t i = 0; i < next_id; i++) loc[i] = UINT32_MAX;
    for (size_t i = 0; i < w->nheads; i++) {
        uint32_t h = w->heads[i];
        if (h >= next_id || loc[h] != UINT32_MAX) continue;
        if (kg_grow(&region, &capr, nr + 1, sizeof *region)) { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
        loc[h] = (uint32_t)nr;
        region[nr++] = h;
    }
    for (size_t qi = 0; qi < nr; qi++) {          /* BFS along dependents */
        uint8_t kb[4];
        MDB_val k = id_val(kb, region[qi]);
        uint32_t *ds; size_t nd;
        if ((s = dup_ids(txn, w->dependents, &k, &ds, &nd, mrc, e))) goto out;
        for (size_t j = 0; j < nd; j++) {
            if (ds[j] >= next_id || loc[ds[j]] != UINT32_MAX) continue;
            if (kg_grow(&region, &capr, nr + 1, sizeof *region)) { kg_free(ds); s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
            loc[ds[j]] = (uint32_t)nr;
            region[nr++] = ds[j];
        }
        kg_free(ds);
    }
    for (size_t qi = 0; qi < nr; qi++) {          /* edges inside the region */
        uint8_t kb[4];
        MDB_val k = id_val(kb, region[qi]), v;
        int rc = mdb_get(txn, w->requires, &k, &v);
        if (rc == MDB_NOTFOUND) continue;
        if (rc) { *mrc = rc; s = kgg_errf(e, kgg_mdb_status(rc), "reading requires: %s", mdb_strerror(rc)); goto out; }
        kgg_rd r = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
        uint64_t ng = kgg_rd_varint(&r);
        for (uint64_t g = 0; g < ng && !r.bad; g++) {
            kgg_rd_varint(&r); kgg_rd_str(&r);
            uint64_t nm = kgg_rd_varint(&r);
            for (uint64_t i = 0; i < nm && !r.bad; i++) {
                int un = kgg_rd_u8(&r);
                uint32_t id = 0;
                if (un) kgg_rd_str(&r); else id = (uint32_t)kgg_rd_varint(&r);
                kgg_rd_str(&r);
                if (un || id >= next_id || loc[id] == UINT32_MAX) continue;
                if (kg_grow(&from, &capf, ne + 1, sizeof *from) ||
                    kg_grow(&to, &capt, ne + 1, sizeof *to)) { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
                from[ne] = loc[id]; to[ne] = (uint32_t)qi; ne++;
            }
        }
    }
    kgg_cycles cy;
    s = kgg_find_cycles_edges((uint32_t)nr, from, to, ne, 10, &cy, e);
    if (s) goto out;
    for (size_t c = 0; c < cy.n; c++) {
        kg_buf t = {0};
        for (size_t j = cy.off[c]; j <= cy.off[c + 1]; j++) {
            uint32_t id = region[cy.v[j == cy.off[c + 1] ? cy.off[c] : j]];
            uint8_t kb[4];
            MDB_val ck = id_val(kb, id), cv;
            const char *title = "?", *key = "?";
            if (mdb_get(txn, w->concepts, &ck, &cv) == 0) {
                kgg_rd r = {cv.mv_data, (const uint8_t *)cv.mv_data + cv.mv_size, 0};
                key = kgg_rd_str(&r); title = kgg_rd_str(&r);
                if (!key) key = "?";
                if (!title) title = key;
            }
            if (j > cy.off[c]) kg_buf_put(&t, " -> ", 4);
            kg_buf_put(&t, title, strlen(title));
            kg_buf_put(&t, " (", 2); kg_buf_put(&t, key, strlen(key)); kg_buf_put(&t, ")", 1);
        }
        b_u8(&t, 0);
        if (t.oom || add_msg(w->res, KGG_ERROR, NULL, 0, 0,
                             "this import would close a prerequisite cycle across courses: %s "
                             "(each is required by the next)", (char *)t.data)) {
            kg_buf_free(&t); kgg_cycles_free(&cy);
            s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out;
        }
        kg_buf_free(&t);
    }
    if (cy.n) s = KGP_EINPUT;
    kgg_cycles_free(&cy);
out:
    kg_free(from); kg_free(to); kg_free(region); kg_free(loc);
    return s;
}

typedef struct old { char *key; uint32_t id; int kept; } old;
static int old_cmp(const void *a, const void *b)
{
    uint32_t x = ((const old *)a)->id, y = ((const old *)b)->id;
    return x < y ? -1 : x > y;
}

/* One run of the write transaction (repeated from scratch after growth). */
/* The fields of a stored course record that decide whether it may be
 * replaced; strings point into the record. */
typedef struct stored_course { const char *title, *source, *format, *identity; } stored_course;

static int read_stored_course(const MDB_val *v, stored_course *sc)
{
    kgg_rd r = {v->mv_data, (const uint8_t *)v->mv_data + v->mv_size, 0};
    memset(sc, 0, sizeof *sc);
    sc->title = kgg_rd_str(&r);
    kgg_rd_str(&r); kgg_rd_str(&r);                 /* language, version */
    sc->source = kgg_rd_str(&r);
    sc->format = kgg_rd_str(&r);
    kgg_rd_str(&r); kgg_rd_varint(&r);              /* hash, import time */
    uint64_t nu = kgg_rd_varint(&r);
    for (uint64_t u = 0; u < nu && !r.bad; u++) { kgg_rd_str(&r); kgg_rd_str(&r); }
    uint64_t nc = kgg_rd_varint(&r);
    if (r.bad || nc > v->mv_size) return -1;
    for (uint64_t j = 0; j < nc && !r.bad; j++) kgg_rd_varint(&r);
    /* identity: appended later; records written before it end here */
    if (!r.bad && r.p < r.end) sc->identity = kgg_rd_str(&r);
    return r.bad ? -1 : 0;
}

static kgp_status write_txn(MDB_txn *txn, void *ud, int *mrc, kgg_err *e)
{
    wctx *w = ud;
    kgg_write_result *res = w->res;
    kgp_status s;
    /* reset per-run outputs (arena strings of an aborted run are kept) */
    res->ncourses = res->nunresolved = res->norphaned = 0;
    res->resolved = 0;
    w->changed = 0;
    res->nmsgs = w->base_msgs;
    w->nheads = 0;
    res->nerrors = w->base_errors;
    size_t nerr0 = res->nerrors;
    for (size_t i = 0; i < w->n; i++) {
        kgg_write_course *wcr = PUSH_R(res, res->courses, res->ncourses, res->cap_courses);
        if (!wcr) OOM();
        kgg_course *c = w->wc[i].c;
        wcr->id = c->id; wcr->title = c->title; wcr->source = c->source; wcr->format = c->format;
        wcr->identity = c->identity;
        w->wc[i].unchanged = 0;
    }
    MDB_val mk = {7, "next_id"}, mv;
    uint32_t next_id = 0;
    int rc = mdb_get(txn, w->meta, &mk, &mv);
    if (rc == 0 && mv.mv_size == 4) next_id = kgg_be32(mv.mv_data);
    else if (rc != MDB_NOTFOUND && rc) TRY(rc);

    /* Phase 0: a stored course of the same id that is clearly another
     * course (other source identity and other title) is not replaced
     * unless the course says so (KGG_COURSE_REPLACE). */
    for (size_t i = 0; i < w->n; i++) {
        kgg_course *c = w->wc[i].c;
        MDB_val ck = str_val(c->id), cv;
        rc = mdb_get(txn, w->courses, &ck, &cv);
        if (rc == MDB_NOTFOUND) continue;
        TRY(rc);
        if (c->flags & KGG_COURSE_REPLACE) continue;
        stored_course sc;
        if (read_stored_course(&cv, &sc))
            return kgg_errf(e, KGP_EDB, "damaged record of course '%s'", c->id);
        if (!sc.identity || !c->identity || !strcmp(sc.identity, c->identity)) continue;
        if (sc.title && c->title && !strcmp(sc.title, c->title)) continue;
        if (add_msg(res, KGG_ERROR, c->source, 0, 0,
                    "course '%s' is already in the database as \"%s\" (%s, from %s), and \"%s\" "
                    "(%s) looks like another course (other content, other title): not replaced; "
                    "import it under another id (--as ID) or replace the stored one (--replace)",
                    c->id, sc.title ? sc.title : "", sc.format ? sc.format : "?",
                    sc.source ? sc.source : "?", c->title ? c->title : "", c->format ? c->format : "?"))
            OOM();
    }
    if (res->nerrors > nerr0) return first_error(res, e, KGP_ECONFLICT);

    /* Phase 1: drop the old edges and records of every replaced course;
     * keep their key -> id map to reuse ids. */
    old **olds = kg_arena_calloc(w->a, (w->n ? w->n : 1) * sizeof *olds);
    size_t *nold = kg_arena_calloc(w->a, (w->n ? w->n : 1) * sizeof *nold);
    if (!olds || !nold) OOM();
    for (size_t i = 0; i < w->n; i++) {
        wcourse *wc = &w->wc[i];
        kgg_write_course *wcr = &res->courses[i];
        MDB_val ck = str_val(wc->c->id), cv;
        rc = mdb_get(txn, w->courses, &ck, &cv);
        if (rc == MDB_NOTFOUND) continue;
        TRY(rc);
        wcr->replaced = 1;
        kgg_rd r = {cv.mv_data, (const uint8_t *)cv.mv_data + cv.mv_size, 0};
        for (int f = 0; f < 5; f++) kgg_rd_str(&r);
        const char *hash = kgg_rd_str(&r);
        kgg_rd_varint(&r);
        uint64_t nu = kgg_rd_varint(&r);
        for (uint64_t u = 0; u < nu && !r.bad; u++) { kgg_rd_str(&r); kgg_rd_str(&r); }
        uint64_t nc = kgg_rd_varint(&r);
        if (r.bad || nc > cv.mv_size) return kgg_errf(e, KGP_EDB, "damaged record of course '%s'", wc->c->id);
        if (hash && !strcmp(hash, wc->hash)) {
            wc->unchanged = wcr->unchanged = 1;
            wcr->concepts = (uint32_t)wc->c->nconcepts;
            continue;
        }
        uint32_t *ids = kg_arena_alloc(w->a, (nc ? nc : 1) * sizeof *ids);
        olds[i] = kg_arena_calloc(w->a, (nc ? nc : 1) * sizeof **olds);
        if (!ids || !olds[i]) OOM();
        for (uint64_t j = 0; j < nc; j++) ids[j] = (uint32_t)kgg_rd_varint(&r);
        if (r.bad) return kgg_errf(e, KGP_EDB, "damaged record of course '%s'", wc->c->id);
        nold[i] = nc;
        for (uint64_t j = 0; j < nc; j++) {
            uint8_t kb[4];
            MDB_val k = id_val(kb, ids[j]), v;
            olds[i][j].id = ids[j];
            rc = mdb_get(txn, w->concepts, &k, &v);
            if (rc == 0) {
                kgg_rd cr = {v.mv_data, (const uint8_t *)v.mv_data + v.mv_size, 0};
                const char *key = kgg_rd_str(&cr);
                olds[i][j].key = key ? kg_arena_strdup(w->a, key) : NULL;
                if (key && !olds[i][j].key) OOM();
            } else if (rc != MDB_NOTFOUND) TRY(rc);
        }
        for (uint64_t j = 0; j < nc; j++)
            if ((s = remove_concept(w, txn, ids[j], mrc, e))) return s;
        qsort(olds[i], nc, sizeof **olds, old_cmp);
        w->changed = 1;
    }
    /* Phase 2: ids and names for every concept of the batch; a key that
     * was stored keeps its id (names still maps it). */
    for (size_t i = 0; i < w->n; i++) {
        wcourse *wc = &w->wc[i];
        if (wc->unchanged) continue;
        w->changed = 1;
        for (size_t j = 0; j < wc->c->nconcepts; j++) {
            uint32_t id = UINT32_MAX;
            rc = name_id(w, txn, wc->keys[j], &id);
            if (rc && rc != MDB_NOTFOUND) TRY(rc);
            old *o = NULL;
            if (rc == 0 && nold[i] > 0) {
                old probe = {.id = id};
                o = bsearch(&probe, olds[i], nold[i], sizeof probe, old_cmp);
            }
            if (o && !o->kept) {
                o->kept = 1;
            } else {
                if (next_id == UINT32_MAX - 1) return kgg_errf(e, KGP_EDB, "concept ids exhausted");
                id = next_id++;
            }
            wc->ids[j] = id;
            uint8_t vb[4];
            MDB_val k = str_val(wc->keys[j]), v = id_val(vb, id);
            TRY(mdb_put(txn, w->names, &k, &v, 0));
        }
    }
    /* Phase 3: removed concepts: drop names, orphan references to them. */
    for (size_t i = 0; i < w->n; i++) {
        for (size_t o = 0; o < nold[i]; o++) {
            if (olds[i][o].kept) continue;
            res->courses[i].removed++;
            if (olds[i][o].key) {
                MDB_val k = str_val(olds[i][o].key);
                rc = mdb_del(txn, w->names, &k, NULL);
                if (rc && rc != MDB_NOTFOUND) TRY(rc);
            }
            if ((s = orphan_refs(w, txn, olds[i][o].id, olds[i][o].key ? olds[i][o].key : "?", mrc, e)))
                return s;
        }
    }
    /* Phase 4: records and edges. */
    int cross = 0;
    time_t now = time(NULL);
    for (size_t i = 0; i < w->n; i++) {
        wcourse *wc = &w->wc[i];
        if (wc->unchanged) continue;
        kgg_course *c = wc->c;
        kgg_write_course *wcr = &res->courses[i];
        kg_buf b = {0};
        for (size_t j = 0; j < c->nconcepts; j++) {
            kgg_concept *k = &c->concepts[j];
            uint8_t kb[4];
            MDB_val key = id_val(kb, wc->ids[j]);
            b.len = 0;
            encode_concept(wc, j, &b);
            if (b.oom) { kg_buf_free(&b); OOM(); }
            MDB_val v = {b.len, b.data};
            if ((rc = mdb_put(txn, w->concepts, &key, &v, 0))) { kg_buf_free(&b); TRY(rc); }
            wcr->concepts++;
            if (k->ngroups) {
                b.len = 0;
                kg_buf_varint(&b, k->ngroups);
                size_t mi = 0;
                for (size_t g = 0; g < k->ngroups; g++) {
                    kgg_group *gr = &k->groups[g];
                    kg_buf_varint(&b, gr->k); kg_buf_lpstr(&b, gr->reason); kg_buf_varint(&b, gr->nmembers);
                    for (size_t m = 0; m < gr->nmembers; m++, mi++) {
                        nref *nr = &wc->grp_refs[j][mi];
                        if (!nr->local && course_known(w, txn, nr->key)) {
                            uint32_t tid;
                            int r2 = name_id(w, txn, nr->key, &tid);
                            if (r2 == MDB_NOTFOUND) {
                                if (add_msg(res, KGG_ERROR, c->source, gr->members[m].line, gr->members[m].col,
                                            "concept '%s' requires '%s', but that course has no such concept",
                                            k->id, nr->key)) { kg_buf_free(&b); OOM(); }
                            } else if (r2) { kg_buf_free(&b); TRY(r2); }
                        }
                        if ((s = put_member(w, txn, wc->ids[j], wc->keys[j], nr, gr->members[m].reason,
                                            0, wcr, &cross, &b, mrc, e))) { kg_buf_free(&b); return s; }
                    }
                    wcr->groups++;
                }
                if (b.oom) { kg_buf_free(&b); OOM(); }
                MDB_val rv = {b.len, b.data};
                if ((rc = mdb_put(txn, w->requires, &key, &rv, 0))) { kg_buf_free(&b); TRY(rc); }
            }
            if (k->nrecommends) {
                b.len = 0;
                kg_buf_varint(&b, k->nrecommends);
                for (size_t m = 0; m < k->nrecommends; m++) {
                    nref *nr = &wc->rec_refs[j][m];
                    if (!nr->local && course_known(w, txn, nr->key)) {
                        uint32_t tid;
                        if (name_id(w, txn, nr->key, &tid) == MDB_NOTFOUND &&
                            add_msg(res, KGG_ERROR, c->source, k->recommends[m].line, k->recommends[m].col,
                                    "concept '%s' recommends '%s', but that course has no such concept",
                                    k->id, nr->key)) { kg_buf_free(&b); OOM(); }
                    }
                    if ((s = put_member(w, txn, wc->ids[j], wc->keys[j], nr, k->recommends[m].reason,
                                        1, wcr, &cross, &b, mrc, e))) { kg_buf_free(&b); return s; }
                }
                if (b.oom) { kg_buf_free(&b); OOM(); }
                MDB_val rv = {b.len, b.data};
                if ((rc = mdb_put(txn, w->recommends, &key, &rv, 0))) { kg_buf_free(&b); TRY(rc); }
            }
        }
        /* course record */
        b.len = 0;
        kg_buf_lpstr(&b, c->title); kg_buf_lpstr(&b, c->language); kg_buf_lpstr(&b, c->version);
        kg_buf_lpstr(&b, c->source); kg_buf_lpstr(&b, c->format); kg_buf_lpstr(&b, wc->hash);
        kg_buf_varint(&b, (uint64_t)(now > 0 ? now : 0));
        kg_buf_varint(&b, c->nunits);
        for (size_t u = 0; u < c->nunits; u++) { kg_buf_lpstr(&b, c->units[u].id); kg_buf_lpstr(&b, c->units[u].title); }
        kg_buf_varint(&b, c->nconcepts);
        for (size_t j = 0; j < c->nconcepts; j++) kg_buf_varint(&b, wc->ids[j]);
        kg_buf_lpstr(&b, c->identity);
        kg_buf_varint(&b, c->course_order ? 1 : 0);      /* flags (absent in older records: 0) */
        if (b.oom) { kg_buf_free(&b); OOM(); }
        MDB_val ck = str_val(c->id), cv = {b.len, b.data};
        rc = mdb_put(txn, w->courses, &ck, &cv, 0);
        kg_buf_free(&b);
        TRY(rc);
    }
    if (res->nerrors > nerr0) return first_error(res, e, KGP_EINPUT);
    /* Phase 5: references that waited for the new concepts. */
    for (size_t i = 0; i < w->n; i++) {
        wcourse *wc = &w->wc[i];
        if (wc->unchanged) continue;
        for (size_t j = 0; j < wc->c->nconcepts; j++)
            if ((s = resolve_waiting(w, txn, wc->ids[j], wc->keys[j], &cross, mrc, e))) return s;
    }
    /* Phase 6: a cross-course edge may have closed a cycle. */
    if (cross && w->changed) {
        s = check_global_cycles(w, txn, next_id, mrc, e);
        if (s == KGP_EINPUT) return first_error(res, e, s);
        if (s) return s;
    }
    uint8_t nb[4];
    MDB_val nv = id_val(nb, next_id);
    if (w->changed) TRY(mdb_put(txn, w->meta, &mk, &nv, 0));
    if (w->dry_run || !w->changed) {
        w->dry_done = 1;
        return KGP_EINTERNAL;   /* abort: nothing to keep */
    }
    return KGP_OK;
}

kgp_status kgg_store_write(kgg_store *st, kgg_course *const *courses, size_t n,
                           int dry_run, kgg_write_result *res, kgg_err *e)
{
    if (!res->arena) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    if (kgg_store_rdonly(st)) return kgg_errf(e, KGP_EUSAGE, "%s: opened read-only", kgg_store_path(st));
    wctx w = {.st = st, .res = res, .n = n, .dry_run = dry_run};
    kgp_status s = KGP_OK;
    w.a = kg_arena_new();
    w.wc = kg_calloc(n ? n : 1, sizeof *w.wc);
    if (!w.a || !w.wc) { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
    kgg_store_dbi(st, "meta", &w.meta); kgg_store_dbi(st, "courses", &w.courses);
    kgg_store_dbi(st, "names", &w.names); kgg_store_dbi(st, "concepts", &w.concepts);
    kgg_store_dbi(st, "requires", &w.requires); kgg_store_dbi(st, "recommends", &w.recommends);
    kgg_store_dbi(st, "dependents", &w.dependents); kgg_store_dbi(st, "recommenders", &w.recommenders);
    kgg_store_dbi(st, "unresolved", &w.unresolved);
    for (size_t i = 0; i < n; i++) {
        w.wc[i].c = courses[i];
        if (validate_course(&w, &w.wc[i])) { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
        for (size_t j = 0; j < i; j++)
            if (courses[i]->id && courses[j]->id && !strcmp(courses[i]->id, courses[j]->id) &&
                add_msg(res, KGG_ERROR, courses[i]->source, 0, 0,
                        "course '%s' is given twice (also in %s)", courses[i]->id,
                        courses[j]->source ? courses[j]->source : "another input"))
                { s = kgg_errf(e, KGP_ENOMEM, "out of memory"); goto out; }
    }
    if (res->nerrors) { s = first_error(res, e, KGP_EINPUT); goto out; }
    /* Room for the records, the indexes and copy-on-write pages, so that a
     * large import rarely runs out of map and starts over. */
    size_t need = 1u << 20;
    for (size_t i = 0; i < n; i++) need += w.wc[i].content_bytes * 6;
    if ((s = kgg_store_reserve(st, need, e)) != KGP_OK) goto out;
    w.base_msgs = res->nmsgs;
    w.base_errors = res->nerrors;
    s = kgg_store_update(st, write_txn, &w, e);
    if (w.dry_done) s = KGP_OK;
    res->committed = s == KGP_OK && !dry_run;
out:
    if (w.wc) kg_free(w.wc);
    kg_free(w.heads);
    kg_arena_free(w.a);
    return s;
}
