/* The LMDB store: writer transactions, re-import, unresolved references,
 * growth, concurrent readers, schema version, cycles, bad input; the
 * snapshot arrays; export shapes. Courses are built in C. */
#include <check.h>
#include <jansson.h>
#include <libxml/parser.h>
#include <lmdb.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "graph/course_model.h"
#include "graph/export.h"
#include "graph/igraph_bridge.h"
#include "graph/snapshot.h"
#include "graph/store.h"
#include "tests/testutil.h"

/* Each test gets a fresh tu_db_dir / tu_db_path (tu_db_setup). */

/* A course "id" with concepts c0..c{n-1}, each requiring the previous. */
static kgg_course *chain(const char *id, int n)
{
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, id);
    c->title = kgg_course_str(c, id);
    c->source = kgg_course_str(c, id);
    c->format = kgg_course_str(c, "test");
    for (int i = 0; i < n; i++) {
        char cid[32], title[64];
        snprintf(cid, sizeof cid, "c%d", i);
        snprintf(title, sizeof title, "%s concept %d", id, i);
        kgg_concept *k = kgg_course_add_concept(c, cid, title);
        k->minutes = 10;
        k->line = (uint32_t)(i + 1);
        if (i > 0) {
            char prev[32];
            snprintf(prev, sizeof prev, "c%d", i - 1);
            kgg_concept_add_require(c, k, prev, "builds on it");
        }
    }
    return c;
}

static kgg_store *open_store(size_t map)
{
    kgg_store *st;
    kgg_err e;
    kgp_status s = kgg_store_open(tu_db_path, 0, map, &st, &e);
    ck_assert_msg(s == KGP_OK, "open: %s", e.msg);
    return st;
}

static kgp_status write1(kgg_store *st, kgg_course **cs, size_t n, kgg_write_result *r, kgg_err *e)
{
    kgg_write_result_init(r);
    return kgg_store_write(st, cs, n, 0, r, e);
}

/* Writes chain(id, n) alone into a fresh store handle, which it closes;
 * returns the course (the caller frees it). */
static kgg_course *stored_chain(const char *id, int n)
{
    kgg_store *st = open_store(0);
    kgg_course *c = chain(id, n);
    kgg_write_result r;
    kgg_err e;
    ck_assert_msg(write1(st, &c, 1, &r, &e) == KGP_OK, "write %s: %s", id, e.msg);
    kgg_write_result_free(&r);
    kgg_store_close(st);
    return c;
}

static kgg_snap *snap_of(kgg_store *st)
{
    kgg_snap *s;
    kgg_err e;
    ck_assert_msg(kgg_snap_open(st, &s, &e) == KGP_OK, "snap: %s", e.msg);
    return s;
}

static int has_msg(const kgg_write_result *r, const char *needle)
{
    for (size_t i = 0; i < r->nmsgs; i++)
        if (strstr(r->msgs[i].message, needle)) return 1;
    return 0;
}

static char *copy_file(const char *src)
{
    char *dst = tu_path(tu_db_dir, "before.db");
    tu_copy(src, dst);
    return dst;
}

START_TEST(test_write_and_snapshot)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("alg", 4);
    /* a 2-of-3 group and a recommendation on c3 */
    kgg_concept *k = &a->concepts[3];
    kgg_group *g = kgg_concept_add_group(a, k, 2);
    g->reason = kgg_course_str(a, "two of these");
    kgg_group_add_member(a, &k->groups[1], "c0", "r0");
    kgg_group_add_member(a, &k->groups[1], "c1", NULL);
    kgg_group_add_member(a, &k->groups[1], "c2", NULL);
    kgg_concept_add_recommend(a, &a->concepts[2], "c0", "warm-up");
    kgg_concept_add_goal(a, &a->concepts[0], "goal one");
    kgg_concept_add_tag(a, &a->concepts[0], "tag");
    kgg_resource *res = kgg_concept_add_resource(a, &a->concepts[0]);
    res->title = kgg_course_str(a, "video");
    res->minutes = 5;
    a->concepts[0].summary = kgg_course_str(a, "the start");
    kgg_write_result r;
    kgg_err e;
    ck_assert_msg(write1(st, &a, 1, &r, &e) == KGP_OK, "%s", e.msg);
    ck_assert(r.committed);
    ck_assert_uint_eq(r.ncourses, 1);
    ck_assert_uint_eq(r.courses[0].concepts, 4);
    ck_assert_uint_eq(r.courses[0].groups, 4);
    ck_assert_uint_eq(r.courses[0].edges, 6);
    ck_assert_uint_eq(r.courses[0].recommends, 1);
    kgg_write_result_free(&r);

    kgg_snap *s = snap_of(st);
    ck_assert_uint_eq(s->n, 4);
    ck_assert_uint_eq(s->ncourses, 1);
    ck_assert_uint_eq(s->ngroups, 4);
    ck_assert_str_eq(s->key[0], "alg:c0");
    ck_assert_str_eq(s->title[2], "alg concept 2");
    ck_assert_float_eq_tol(s->minutes[0], 15, 1e-6);   /* own 10 + video 5 */
    uint32_t c3 = kgg_snap_find_key(s, "alg:c3");
    ck_assert_uint_eq(c3, 3);
    ck_assert_uint_eq(kgg_snap_find_key(s, "alg:nope"), KGG_NONE);
    ck_assert_uint_eq(s->grp_off[c3 + 1] - s->grp_off[c3], 2);
    uint32_t g2 = s->grp_off[c3] + 1;
    ck_assert_uint_eq(s->grp_k[g2], 2);
    ck_assert_uint_eq(s->grp_n[g2], 3);
    ck_assert_str_eq(s->grp_reason[g2], "two of these");
    ck_assert_uint_eq(s->mem_off[g2 + 1] - s->mem_off[g2], 3);
    ck_assert_str_eq(s->mem_reason[s->mem_off[g2]], "r0");
    /* dependents of c0: c1 and c3, once each, ascending */
    ck_assert_uint_eq(s->dep_off[1] - s->dep_off[0], 2);
    ck_assert_uint_eq(s->dep[s->dep_off[0]], 1);
    ck_assert_uint_eq(s->dep[s->dep_off[0] + 1], 3);
    /* recommendation c0 -> c2 and its reverse */
    ck_assert_uint_eq(s->rec_off[3] - s->rec_off[2], 1);
    ck_assert_uint_eq(s->rec[s->rec_off[2]], 0);
    ck_assert_uint_eq(s->recby_off[1] - s->recby_off[0], 1);
    /* ranks: a chain */
    ck_assert(!s->has_cycle);
    for (uint32_t i = 0; i + 1 < s->n; i++) ck_assert_uint_lt(s->topo_rank[i], s->topo_rank[i + 1]);
    /* text */
    kg_arena *ar = kg_arena_new();
    kgg_text t;
    ck_assert_int_eq(kgg_snap_concept_text(s, 0, ar, &t), 0);
    ck_assert_str_eq(t.summary, "the start");
    ck_assert_uint_eq(t.ngoals, 1);
    ck_assert_str_eq(t.goals[0], "goal one");
    ck_assert_uint_eq(t.nresources, 1);
    ck_assert_str_eq(t.resources[0].title, "video");
    ck_assert_int_eq(kgg_snap_concept_text(s, 99, ar, &t), -1);
    kg_arena_free(ar);
    kgg_snap_close(s);
    kgg_course_free(a);
    kgg_store_close(st);
}
END_TEST

START_TEST(test_failing_course_changes_nothing)
{
    kgg_course *a = stored_chain("a", 3);
    char *before = copy_file(tu_db_path);

    kgg_store *st = open_store(0);
    kgg_write_result r;
    kgg_err e;
    kgg_course *b = chain("b", 3), *bad = chain("bad", 3), *a2 = chain("a", 1);
    kgg_course_diag(bad, KGG_ERROR, "bad.xml", 7, 3, "broken element");
    kgg_course *batch[] = {a2, b, bad};
    ck_assert_int_eq(write1(st, batch, 3, &r, &e), KGP_EINPUT);
    ck_assert(!r.committed);
    ck_assert_msg(strstr(e.msg, "bad.xml:7:3: broken element") != NULL, "%s", e.msg);
    kgg_write_result_free(&r);
    kgg_store_close(st);
    ck_assert_msg(tu_file_cmp(before, tu_db_path) == 0, "database changed by a failed import");
    free(before);
    kgg_course_free(a); kgg_course_free(b); kgg_course_free(bad); kgg_course_free(a2);
}
END_TEST

START_TEST(test_reimport_idempotent_and_replacing)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("a", 4), *b = chain("b", 2);
    kgg_concept_add_require(b, &b->concepts[0], "a:c3", "needs a's end");
    kgg_concept_add_recommend(b, &b->concepts[1], "a:c2", NULL);
    kgg_course *batch[] = {b, a};   /* b first: resolves in any order */
    kgg_write_result r;
    kgg_err e;
    ck_assert_msg(write1(st, batch, 2, &r, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(r.nunresolved, 0);
    kgg_write_result_free(&r);
    kgg_snap *s = snap_of(st);
    uint32_t b0 = kgg_snap_find_key(s, "b:c0"), a3 = kgg_snap_find_key(s, "a:c3");
    uint32_t a3_store = s->store_id[a3];
    uint32_t a0_store = s->store_id[kgg_snap_find_key(s, "a:c0")];
    ck_assert_uint_eq(s->mem[s->mem_off[s->grp_off[b0]]], a3);
    ck_assert_uint_eq(s->nunresolved, 0);
    kgg_snap_close(s);
    kgg_store_close(st);

    /* the same courses again: nothing changes, byte for byte */
    char *before = copy_file(tu_db_path);
    st = open_store(0);
    ck_assert(write1(st, batch, 2, &r, &e) == KGP_OK);
    ck_assert(r.courses[0].unchanged && r.courses[1].unchanged);
    kgg_write_result_free(&r);
    kgg_store_close(st);
    ck_assert_msg(tu_file_cmp(before, tu_db_path) == 0, "identical re-import changed the file");
    free(before);

    /* a shrinks to 2 concepts: c2, c3 vanish; b's references become unresolved */
    st = open_store(0);
    kgg_course *a2 = chain("a", 2);
    ck_assert_msg(write1(st, &a2, 1, &r, &e) == KGP_OK, "%s", e.msg);
    ck_assert(r.courses[0].replaced);
    ck_assert_uint_eq(r.courses[0].removed, 2);
    ck_assert_uint_eq(r.norphaned, 2);
    kgg_write_result_free(&r);
    s = snap_of(st);
    ck_assert_uint_eq(s->n, 4);
    ck_assert_uint_eq(kgg_snap_find_key(s, "a:c3"), KGG_NONE);
    ck_assert_uint_eq(s->nunresolved, 2);
    b0 = kgg_snap_find_key(s, "b:c0");
    ck_assert_uint_eq(s->grp_n[s->grp_off[b0]], 1);
    ck_assert_uint_eq(s->mem_off[s->grp_off[b0] + 1] - s->mem_off[s->grp_off[b0]], 0);
    kgg_snap_close(s);

    /* a grows back: b's references resolve again, and a:c3 gets a new id */
    ck_assert(write1(st, &a, 1, &r, &e) == KGP_OK);
    ck_assert_uint_eq(r.resolved, 2);
    kgg_write_result_free(&r);
    s = snap_of(st);
    ck_assert_uint_eq(s->nunresolved, 0);
    a3 = kgg_snap_find_key(s, "a:c3");
    b0 = kgg_snap_find_key(s, "b:c0");
    ck_assert_uint_ne(s->store_id[a3], a3_store);
    ck_assert_uint_eq(s->mem[s->mem_off[s->grp_off[b0]]], a3);
    ck_assert_uint_eq(s->dep_off[a3 + 1] - s->dep_off[a3], 1);   /* b:c0 */
    /* ids of surviving concepts are stable */
    ck_assert_uint_eq(s->store_id[kgg_snap_find_key(s, "a:c0")], a0_store);
    kgg_snap_close(s);
    kgg_store_close(st);
    kgg_course_free(a); kgg_course_free(b); kgg_course_free(a2);
}
END_TEST

START_TEST(test_unresolved_then_resolved)
{
    kgg_store *st = open_store(0);
    kgg_course *ml = chain("ml", 2);
    kgg_concept_add_require(ml, &ml->concepts[0], "la:vectors", "linear algebra first");
    kgg_group *g = kgg_concept_add_group(ml, &ml->concepts[1], 1);
    kgg_group_add_member(ml, g, "la:matrices", NULL);
    kgg_group_add_member(ml, g, "c0", NULL);
    kgg_write_result r;
    kgg_err e;
    ck_assert_msg(write1(st, &ml, 1, &r, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(r.nunresolved, 2);
    ck_assert_str_eq(r.unresolved[0].from, "ml:c0");
    ck_assert_str_eq(r.unresolved[0].target, "la:vectors");
    kgg_write_result_free(&r);
    kgg_snap *s = snap_of(st);
    ck_assert_uint_eq(s->nunresolved, 2);
    ck_assert_str_eq(s->unresolved[0].target, "la:vectors");
    ck_assert_uint_eq(s->unresolved[1].group, s->grp_off[1] + 1);
    kgg_snap_close(s);

    kgg_course *la = kgg_course_new();
    la->id = kgg_course_str(la, "la");
    kgg_course_add_concept(la, "vectors", "Vectors");
    kgg_course_add_concept(la, "matrices", "Matrices");
    ck_assert_msg(write1(st, &la, 1, &r, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(r.resolved, 2);
    kgg_write_result_free(&r);
    s = snap_of(st);
    ck_assert_uint_eq(s->nunresolved, 0);
    uint32_t v = kgg_snap_find_key(s, "la:vectors"), c0 = kgg_snap_find_key(s, "ml:c0");
    ck_assert_uint_eq(s->mem[s->mem_off[s->grp_off[c0]]], v);
    ck_assert_str_eq(s->mem_reason[s->mem_off[s->grp_off[c0]]], "linear algebra first");
    ck_assert_uint_eq(s->dep_off[v + 1] - s->dep_off[v], 1);
    kgg_snap_close(s);
    kgg_course_free(ml); kgg_course_free(la);
    kgg_store_close(st);
}
END_TEST

START_TEST(test_growth_past_initial_map)
{
    kgg_store *st = open_store(64 * 1024);
    size_t m0 = kgg_store_map_size(st);
    /* _i == 0: only MDB_MAP_FULL -> grow -> redo; _i == 1: reserved up front */
    kgg_store_set_autoreserve(st, _i);
    kgg_course *big = chain("big", 3000);
    for (size_t i = 0; i < big->nconcepts; i++)
        big->concepts[i].description = kgg_course_str(big,
            "A longer description so that records take real space in the map. "
            "A longer description so that records take real space in the map.");
    kgg_write_result r;
    kgg_err e;
    ck_assert_msg(write1(st, &big, 1, &r, &e) == KGP_OK, "%s", e.msg);
    kgg_write_result_free(&r);
    ck_assert_uint_gt(kgg_store_map_size(st), m0);
    kgg_snap *s = snap_of(st);
    ck_assert_uint_eq(s->n, 3000);
    ck_assert_uint_eq(s->topo_rank[2999], 2999);
    /* with a snapshot open the map cannot move: a clear error, no crash */
    kgg_course *more = chain("more", 3000);
    for (size_t i = 0; i < more->nconcepts; i++)
        more->concepts[i].description = big->concepts[0].description;
    kgp_status rc = write1(st, &more, 1, &r, &e);
    if (rc != KGP_OK) {
        ck_assert_int_eq(rc, KGP_EDB);
        ck_assert_msg(strstr(e.msg, "snapshot") != NULL, "%s", e.msg);
    }
    kgg_write_result_free(&r);
    kgg_snap_close(s);
    kgg_course_free(more);
    kgg_course_free(big);
    kgg_store_close(st);
}
END_TEST

typedef struct reader_arg { kgg_store *st; int stop; int checks; int bad; } reader_arg;

static void *reader(void *p)
{
    reader_arg *ra = p;
    while (!__atomic_load_n(&ra->stop, __ATOMIC_ACQUIRE)) {
        kgg_snap *s;
        kgg_err e;
        if (kgg_snap_open(ra->st, &s, &e) != KGP_OK) { ra->bad++; continue; }
        /* every course is whole: its chain has all its links */
        for (uint32_t c = 0; c < s->ncourses; c++) {
            uint32_t n = s->course_first[c + 1] - s->course_first[c];
            if (n != 50) ra->bad++;
        }
        if (s->ngroups != s->n - s->ncourses) ra->bad++;
        ra->checks++;
        kgg_snap_close(s);
    }
    return NULL;
}

START_TEST(test_concurrent_reader)
{
    kgg_store *st = open_store((size_t)64 << 20);
    reader_arg ra = {st, 0, 0, 0};
    pthread_t th;
    pthread_create(&th, NULL, reader, &ra);
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "k%d", i % 7);
        kgg_course *c = chain(id, 50);
        c->version = kgg_course_str(c, i % 2 ? "odd" : "even");   /* forces rewrites */
        kgg_write_result r;
        kgg_err e;
        ck_assert_msg(write1(st, &c, 1, &r, &e) == KGP_OK, "%s", e.msg);
        kgg_write_result_free(&r);
        kgg_course_free(c);
    }
    __atomic_store_n(&ra.stop, 1, __ATOMIC_RELEASE);
    pthread_join(th, NULL);
    ck_assert_int_eq(ra.bad, 0);
    ck_assert_int_gt(ra.checks, 0);
    kgg_store_close(st);
}
END_TEST

START_TEST(test_schema_version_mismatch)
{
    kgg_store *st = open_store(0);
    MDB_dbi meta;
    kgg_store_dbi(st, "meta", &meta);
    MDB_txn *txn;
    ck_assert_int_eq(mdb_txn_begin(kgg_store_env(st), NULL, 0, &txn), 0);
    uint8_t v[4];
    kgg_put_be32(v, 999);
    MDB_val k = {6, "schema"}, val = {4, v};
    ck_assert_int_eq(mdb_put(txn, meta, &k, &val, 0), 0);
    ck_assert_int_eq(mdb_txn_commit(txn), 0);
    kgg_store_close(st);
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(tu_db_path, 0, 0, &st, &e), KGP_EDB);
    ck_assert_msg(strstr(e.msg, "schema version 999") != NULL, "%s", e.msg);
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &st, &e), KGP_EDB);
}
END_TEST

START_TEST(test_open_errors)
{
    kgg_store *st;
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &st, &e), KGP_ENOTFOUND);
    ck_assert_ptr_null(st);
    ck_assert_int_eq(kgg_store_open(tu_db_dir, 0, 0, &st, &e), KGP_EDB);
    char *junk = tu_path(tu_db_dir, "junk.db");
    tu_write(junk, "this is not an LMDB file at all, just text. ............................", (size_t)-1);
    ck_assert_int_eq(kgg_store_open(junk, 0, 0, &st, &e), KGP_EDB);
    free(junk);
    ck_assert_int_eq(kgg_store_open("", 0, 0, &st, &e), KGP_EUSAGE);
    /* read-only store refuses writes */
    st = open_store(0);
    kgg_store_close(st);
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &st, &e), KGP_OK);
    kgg_course *a = chain("a", 1);
    kgg_write_result r;
    ck_assert_int_eq(write1(st, &a, 1, &r, &e), KGP_EUSAGE);
    kgg_write_result_free(&r);
    kgg_course_free(a);
    kgg_store_close(st);
}
END_TEST

START_TEST(test_same_file_twice_shares)
{
    kgg_store *a = open_store(0), *b = open_store(0), *r, *w;
    ck_assert_ptr_eq(a, b);                     /* one environment per file */
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &r, &e), KGP_OK);
    ck_assert_ptr_eq(r, a);                     /* read-only may share a writable one */
    kgg_store_close(r);
    kgg_store_close(b);
    kgg_course *c = chain("a", 2);
    kgg_write_result res;
    ck_assert(write1(a, &c, 1, &res, &e) == KGP_OK);   /* still open */
    kgg_write_result_free(&res);
    kgg_course_free(c);
    kgg_store_close(a);
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &r, &e), KGP_OK);
    ck_assert_int_eq(kgg_store_open(tu_db_path, 0, 0, &w, &e), KGP_EDB);
    ck_assert_msg(strstr(e.msg, "read-only") != NULL, "%s", e.msg);
    kgg_store_close(r);
    w = open_store(0);                          /* closed: opens anew */
    kgg_store_close(w);
}
END_TEST

START_TEST(test_default_path)
{
    kgg_err e;
    setenv("KGPATH_DB", "/x/y.db", 1);
    char *p = kgg_default_path(0, &e);
    ck_assert_str_eq(p, "/x/y.db");
    kg_free(p);
    unsetenv("KGPATH_DB");
    char *xdg = tu_path(tu_db_dir, "xdg");
    setenv("XDG_DATA_HOME", xdg, 1);
    p = kgg_default_path(1, &e);
    char *want = tu_path(xdg, "kgpath/kgpath.db");
    ck_assert_str_eq(p, want);
    struct stat sb;
    char *dir = tu_path(xdg, "kgpath");
    ck_assert_int_eq(stat(dir, &sb), 0);
    kg_free(p); free(want); free(dir);
    unsetenv("XDG_DATA_HOME");
    setenv("HOME", tu_db_dir, 1);
    p = kgg_default_path(0, &e);
    want = tu_path(tu_db_dir, ".local/share/kgpath/kgpath.db");
    ck_assert_str_eq(p, want);
    kg_free(p); free(want); free(xdg);
}
END_TEST

START_TEST(test_cycle_in_course_lists_titles)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("a", 4);
    kgg_concept_add_require(a, &a->concepts[1], "c3", NULL);   /* c1 -> c2 -> c3 -> c1 */
    kgg_write_result r;
    kgg_err e;
    ck_assert_int_eq(write1(st, &a, 1, &r, &e), KGP_EINPUT);
    ck_assert_msg(has_msg(&r, "prerequisite cycle in course 'a': a concept 1 -> a concept 2 -> "
                          "a concept 3 -> a concept 1"), "%s", e.msg);
    kgg_write_result_free(&r);
    /* a self-requirement is a cycle too */
    kgg_course *b = chain("b", 2);
    kgg_concept_add_require(b, &b->concepts[0], "c0", NULL);
    ck_assert_int_eq(write1(st, &b, 1, &r, &e), KGP_EINPUT);
    ck_assert(has_msg(&r, "b concept 0 -> b concept 0"));
    kgg_write_result_free(&r);
    kgg_snap *s = snap_of(st);
    ck_assert_uint_eq(s->n, 0);
    kgg_snap_close(s);
    kgg_course_free(a); kgg_course_free(b);
    kgg_store_close(st);
}
END_TEST

START_TEST(test_cycle_across_courses)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("a", 2), *b = chain("b", 2);
    kgg_concept_add_require(a, &a->concepts[0], "b:c1", NULL);
    kgg_write_result r;
    kgg_err e;
    ck_assert(write1(st, &a, 1, &r, &e) == KGP_OK);   /* b absent: unresolved */
    kgg_write_result_free(&r);
    char *before = copy_file(tu_db_path);
    kgg_concept_add_require(b, &b->concepts[0], "a:c1", NULL);  /* closes a0<-b1<-b0<-a1<-a0 */
    ck_assert_int_eq(write1(st, &b, 1, &r, &e), KGP_EINPUT);
    ck_assert_msg(strstr(e.msg, "cycle across courses") != NULL, "%s", e.msg);
    ck_assert_msg(strstr(e.msg, "a concept 0 (a:c0)") != NULL, "%s", e.msg);
    kgg_write_result_free(&r);
    kgg_store_close(st);
    ck_assert(tu_file_cmp(before, tu_db_path) == 0);
    free(before);
    kgg_course_free(a); kgg_course_free(b);
}
END_TEST

START_TEST(test_bad_input_rejected)
{
    kgg_course *ok = stored_chain("ok", 2);
    char *before = copy_file(tu_db_path);
    kgg_store *st = open_store(0);
    kgg_write_result r;
    kgg_err e;
    struct { const char *what; const char *needle; } cases[] = {
        {"dup", "duplicate concept id 'c1'"},
        {"unknown", "not a concept of course"},
        {"k0", "k must be between 1"},
        {"k4", "needs 4 of 3"},
        {"noid", "course id '' is missing"},
        {"colon", "invalid"},
        {"twice", "is given twice"},
        {"dangling", "that course has no such concept"},
        {"twiceingroup", "listed twice"},
        {"longid", "too long"},
        {"longref", "too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        kgg_course *c = chain("x", 3), *c2 = NULL;
        const char *w = cases[i].what;
        if (!strcmp(w, "dup")) kgg_course_add_concept(c, "c1", "again");
        if (!strcmp(w, "unknown")) kgg_concept_add_require(c, &c->concepts[2], "nope", NULL);
        if (!strcmp(w, "k0") || !strcmp(w, "k4")) {
            kgg_group *g = kgg_concept_add_group(c, &c->concepts[2], w[1] == '0' ? 0 : 4);
            kgg_group_add_member(c, g, "c0", NULL);
            kgg_group_add_member(c, g, "c1", NULL);
            kgg_group_add_member(c, g, "x:c0", NULL);
        }
        if (!strcmp(w, "noid")) c->id = kgg_course_str(c, "");
        if (!strcmp(w, "colon")) c->id = kgg_course_str(c, "a:b");
        if (!strcmp(w, "twice")) c2 = chain("x", 1);
        if (!strcmp(w, "dangling")) kgg_concept_add_require(c, &c->concepts[0], "ok:c9", NULL);
        char longs[600];
        memset(longs, 'x', sizeof longs - 1);
        longs[sizeof longs - 1] = 0;
        if (!strcmp(w, "longid")) c->concepts[1].id = kgg_course_str(c, longs);
        if (!strcmp(w, "longref")) kgg_concept_add_require(c, &c->concepts[2], longs, NULL);
        if (!strcmp(w, "twiceingroup")) {
            kgg_group *g = kgg_concept_add_group(c, &c->concepts[2], 1);
            kgg_group_add_member(c, g, "c0", NULL);
            kgg_group_add_member(c, g, "x:c0", NULL);
        }
        kgg_course *batch[] = {c, c2};
        ck_assert_msg(write1(st, batch, c2 ? 2 : 1, &r, &e) == KGP_EINPUT, "case %s accepted", w);
        ck_assert_msg(has_msg(&r, cases[i].needle), "case %s: %s", w, e.msg);
        ck_assert(!r.committed);
        kgg_write_result_free(&r);
        kgg_course_free(c);
        kgg_course_free(c2);
    }
    kgg_store_close(st);
    ck_assert_msg(tu_file_cmp(before, tu_db_path) == 0, "a rejected import changed the file");
    free(before);
    kgg_course_free(ok);
}
END_TEST

START_TEST(test_dry_run_writes_nothing)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("a", 3);
    kgg_write_result r;
    kgg_err e;
    kgg_write_result_init(&r);
    ck_assert(kgg_store_write(st, &a, 1, 1, &r, &e) == KGP_OK);
    ck_assert(!r.committed);
    ck_assert_uint_eq(r.courses[0].concepts, 3);
    kgg_write_result_free(&r);
    kgg_snap *s = snap_of(st);
    ck_assert_uint_eq(s->n, 0);
    kgg_snap_close(s);
    kgg_course_free(a);
    kgg_store_close(st);
}
END_TEST

START_TEST(test_find_cycles_edges)
{
    /* 0->1->2->0, 3->3, 4->5 */
    uint32_t from[] = {0, 1, 2, 3, 4}, to[] = {1, 2, 0, 3, 5};
    kgg_cycles cy;
    kgg_err e;
    ck_assert(kgg_find_cycles_edges(6, from, to, 5, 0, &cy, &e) == KGP_OK);
    ck_assert_uint_eq(cy.n, 2);
    ck_assert_uint_eq(cy.off[1] - cy.off[0], 3);
    ck_assert_uint_eq(cy.v[0], 0);
    ck_assert_uint_eq(cy.v[1], 1);
    ck_assert_uint_eq(cy.v[2], 2);
    ck_assert_uint_eq(cy.off[2] - cy.off[1], 1);
    ck_assert_uint_eq(cy.v[3], 3);
    kgg_cycles_free(&cy);
    ck_assert(kgg_find_cycles_edges(6, from, to, 5, 1, &cy, &e) == KGP_OK);
    ck_assert_uint_eq(cy.n, 1);
    kgg_cycles_free(&cy);
}
END_TEST

/* A hand-made snapshot with a cycle: 0 -> 1 -> 2 -> 1, 2 -> 3, 4 alone. */
START_TEST(test_topo_ranks_with_cycle)
{
    kgg_snap s;
    memset(&s, 0, sizeof s);
    s.n = 5;
    /* requirement groups: 1 needs {0}, 1 needs {2}, 2 needs {1}, 3 needs {2} */
    uint32_t grp_off[] = {0, 0, 2, 3, 4, 4};
    uint32_t mem_off[] = {0, 1, 2, 3, 4};
    uint32_t mem[] = {0, 2, 1, 2};
    uint32_t dep_off[] = {0, 1, 2, 4, 4, 4};
    uint32_t dep[] = {1, 2, 1, 3};
    s.ngroups = 4;
    s.grp_off = grp_off; s.mem_off = mem_off; s.mem = mem;
    s.dep_off = dep_off; s.dep = dep;
    uint32_t rank[5];
    int cyc = 0;
    kgg_err e;
    ck_assert(kgg_topo_ranks(&s, rank, &cyc, &e) == KGP_OK);
    ck_assert_int_eq(cyc, 1);
    ck_assert_uint_ne(rank[0], KGG_NONE);
    ck_assert_uint_eq(rank[1], KGG_NONE);
    ck_assert_uint_eq(rank[2], KGG_NONE);
    ck_assert_uint_eq(rank[3], KGG_NONE);    /* behind the cycle */
    ck_assert_uint_ne(rank[4], KGG_NONE);
    kgg_cycles cy;
    ck_assert(kgg_find_cycles(&s, 0, &cy, &e) == KGP_OK);
    ck_assert_uint_eq(cy.n, 1);
    ck_assert_uint_eq(cy.off[1], 2);
    ck_assert_uint_eq(cy.v[0], 1);
    ck_assert_uint_eq(cy.v[1], 2);
    kgg_cycles_free(&cy);
    /* and the igraph graph of the snapshot */
    igraph_t g;
    kgg_igraph_lock();
    ck_assert(kgg_snap_to_igraph(&s, &g, &e) == KGP_OK);
    ck_assert_int_eq(igraph_vcount(&g), 5);
    ck_assert_int_eq(igraph_ecount(&g), 4);
    igraph_destroy(&g);
    kgg_igraph_unlock();
}
END_TEST

/* Writes course a into st and opens a snapshot of the result. */
static kgg_snap *write_and_snap(kgg_store *st, kgg_course *a)
{
    kgg_write_result r;
    kgg_err e;
    ck_assert_msg(write1(st, &a, 1, &r, &e) == KGP_OK, "%s", e.msg);
    kgg_write_result_free(&r);
    return snap_of(st);
}

/* Exports s in format fmt into work file name; returns its path (free()). */
static char *export_to(kgg_snap *s, const char *fmt, const char *name)
{
    char *path = tu_path(tu_db_dir, name);
    FILE *f = fopen(path, "w");
    kgg_err e;
    ck_assert(f != NULL);
    ck_assert_msg(kgg_export(s, fmt, f, &e) == KGP_OK, "%s", e.msg);
    fclose(f);
    return path;
}

START_TEST(test_export_json_shape)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("a", 4);
    kgg_group *g = kgg_concept_add_group(a, &a->concepts[3], 2);
    kgg_group_add_member(a, g, "c0", NULL);
    kgg_group_add_member(a, g, "c1", NULL);
    kgg_group_add_member(a, g, "z:gone", NULL);
    kgg_concept_add_recommend(a, &a->concepts[3], "c1", NULL);
    kgg_snap *s = write_and_snap(st, a);
    char *path = export_to(s, "json", "out.json");
    kgg_err e;
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    ck_assert_msg(root != NULL, "json: %s line %d", je.text, je.line);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "kgpath_export")), 1);
    json_t *cs = json_object_get(root, "concepts");
    ck_assert_uint_eq(json_array_size(cs), 4);
    json_t *c3 = json_array_get(cs, 3);
    ck_assert_str_eq(json_string_value(json_object_get(c3, "id")), "a:c3");
    ck_assert_int_eq(json_integer_value(json_object_get(c3, "minutes")), 10);
    json_t *req = json_object_get(c3, "requires");
    ck_assert_uint_eq(json_array_size(req), 2);
    json_t *g0 = json_array_get(req, 0), *g1 = json_array_get(req, 1);
    ck_assert_int_eq(json_integer_value(json_object_get(g0, "k")), 1);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(g0, "of"), 0)), "a:c2");
    ck_assert_int_eq(json_integer_value(json_object_get(g1, "k")), 2);
    ck_assert_uint_eq(json_array_size(json_object_get(g1, "of")), 3);
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(g1, "of"), 2)), "z:gone");
    ck_assert_str_eq(json_string_value(json_array_get(json_object_get(c3, "recommends"), 0)), "a:c1");
    json_decref(root);
    FILE *f = fopen(path, "w");
    ck_assert(kgg_export(s, "dot", f, &e) == KGP_OK);
    ck_assert(kgg_export(s, "graphml", f, &e) == KGP_OK);
    ck_assert(kgg_export(s, "svg", f, &e) == KGP_EUSAGE);
    fclose(f);
    free(path);
    kgg_snap_close(s);
    kgg_course_free(a);
    kgg_store_close(st);
}
END_TEST

/* A database written before CSV refused control characters can hold them;
 * GraphML of it must still be well-formed XML 1.0 (libxml2 refuses a
 * character reference to U+0001 as strictly as the raw byte). */
START_TEST(test_export_graphml_control_chars)
{
    kgg_store *st = open_store(0);
    kgg_course *a = chain("a", 2);
    a->concepts[0].title = kgg_course_str(a, "Alpha\x01" "beta\x1b");
    kgg_snap *s = write_and_snap(st, a);
    char *path = export_to(s, "graphml", "out.graphml");
    size_t n;
    char *text = tu_read(path, &n);
    ck_assert_ptr_nonnull(strstr(text, "Alpha\xEF\xBF\xBD" "beta\xEF\xBF\xBD<"));
    xmlDocPtr doc = xmlReadMemory(text, (int)n, "out.graphml", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR |
                                  XML_PARSE_NOWARNING);
    ck_assert_msg(doc != NULL, "the GraphML is not well-formed XML");
    xmlFreeDoc(doc);
    free(text);
    free(path);
    kgg_snap_close(s);
    kgg_course_free(a);
    kgg_store_close(st);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("store");
    TCase *t = tcase_create("store");
    tcase_add_checked_fixture(t, tu_db_setup, tu_db_teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_write_and_snapshot);
    tcase_add_test(t, test_failing_course_changes_nothing);
    tcase_add_test(t, test_reimport_idempotent_and_replacing);
    tcase_add_test(t, test_unresolved_then_resolved);
    tcase_add_loop_test(t, test_growth_past_initial_map, 0, 2);
    tcase_add_test(t, test_concurrent_reader);
    tcase_add_test(t, test_schema_version_mismatch);
    tcase_add_test(t, test_open_errors);
    tcase_add_test(t, test_same_file_twice_shares);
    tcase_add_test(t, test_default_path);
    tcase_add_test(t, test_cycle_in_course_lists_titles);
    tcase_add_test(t, test_cycle_across_courses);
    tcase_add_test(t, test_bad_input_rejected);
    tcase_add_test(t, test_dry_run_writes_nothing);
    tcase_add_test(t, test_find_cycles_edges);
    tcase_add_test(t, test_topo_ranks_with_cycle);
    tcase_add_test(t, test_export_json_shape);
    tcase_add_test(t, test_export_graphml_control_chars);
    suite_add_tcase(s, t);
    return s;
}
