/* kgg_store_add_recommends (graph/store_edges.h): recommended edges added
 * to stored concepts in one transaction, as the snapshot then shows them;
 * refusals (unknown, self, existing, repeated, cycle through requirement
 * and recommended edges) that write nothing; skip mode; dry run; map
 * growth; a re-import of an identical course keeps the edges. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/snapshot.h"
#include "graph/store.h"
#include "graph/store_edges.h"
#include "tests/testutil.h"

/* Each test gets a fresh tu_db_dir / tu_db_path (tu_db_setup). */

/* Course "id": c0 <- c1 <- ... (each requires the previous), plus c{n}
 * standing alone. */
static kgg_course *chain(const char *id, int n)
{
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, id);
    c->title = kgg_course_str(c, id);
    c->source = kgg_course_str(c, id);
    c->format = kgg_course_str(c, "test");
    for (int i = 0; i <= n; i++) {
        char cid[32];
        snprintf(cid, sizeof cid, "c%d", i);
        kgg_concept *k = kgg_course_add_concept(c, cid, cid);
        if (i > 0 && i < n) {
            char prev[32];
            snprintf(prev, sizeof prev, "c%d", i - 1);
            kgg_concept_add_require(c, k, prev, "builds on it");
        }
    }
    return c;
}

static kgg_store *fresh(int n, size_t map)
{
    kgg_store *st;
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(tu_db_path, 0, map, &st, &e), KGP_OK);
    kgg_course *c = chain("a", n);
    kgg_write_result r;
    kgg_write_result_init(&r);
    ck_assert_msg(kgg_store_write(st, &c, 1, 0, &r, &e) == KGP_OK, "%s", e.msg);
    kgg_write_result_free(&r);
    kgg_course_free(c);
    return st;
}

/* Recommended edges of key in the snapshot, as "prereq|reason;..." */
static void recs(kgg_store *st, const char *key, char *out, size_t len)
{
    kgg_snap *s;
    kgg_err e;
    ck_assert_int_eq(kgg_snap_open(st, &s, &e), 0);
    uint32_t i = kgg_snap_find_key(s, key);
    ck_assert(i != KGG_NONE);
    size_t o = 0;
    out[0] = 0;
    for (uint32_t j = s->rec_off[i]; j < s->rec_off[i + 1] && o < len; j++)
        o += (size_t)snprintf(out + o, len - o, "%s|%s;", s->key[s->rec[j]], s->rec_reason[j] ? s->rec_reason[j] : "");
    kgg_snap_close(s);
}

START_TEST(adds_and_refuses)
{
    kgg_store *st = fresh(4, 0);   /* c0 <- c1 <- c2 <- c3, c4 alone */
    kgg_err e;
    size_t added = 99;
    char buf[1024];
    /* one good edge and a cycle through the requirement chain: nothing written */
    kgg_edge_add bad[] = {{"a:c4", "a:c0", "m, 0.9", 0}, {"a:c3", "a:c0", "m, 0.8", 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, bad, 2, 0, &added, &e), KGP_EINPUT);
    ck_assert_msg(strstr(e.msg, "edge 2") && strstr(e.msg, "'a:c0' -> 'a:c1' -> 'a:c2' -> 'a:c3'"), "%s", e.msg);
    ck_assert_int_eq(bad[1].outcome, KGG_EDGE_CYCLE);
    recs(st, "a:c0", buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    /* each refusal */
    kgg_edge_add u[] = {{"a:c4", "a:nope", NULL, 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, u, 1, 0, NULL, &e), KGP_EINPUT);
    ck_assert_msg(strstr(e.msg, "no concept 'a:nope'"), "%s", e.msg);
    ck_assert_int_eq(u[0].outcome, KGG_EDGE_UNKNOWN);
    kgg_edge_add self[] = {{"a:c4", "a:c4", NULL, 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, self, 1, 0, NULL, &e), KGP_EINPUT);
    ck_assert_int_eq(self[0].outcome, KGG_EDGE_SELF);
    kgg_edge_add ex[] = {{"a:c0", "a:c1", NULL, 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, ex, 1, 0, NULL, &e), KGP_EINPUT);
    ck_assert_int_eq(ex[0].outcome, KGG_EDGE_EXISTS);
    kgg_edge_add dup[] = {{"a:c4", "a:c2", NULL, 0}, {"a:c4", "a:c2", NULL, 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, dup, 2, 0, NULL, &e), KGP_EINPUT);
    ck_assert_int_eq(dup[1].outcome, KGG_EDGE_DUPLICATE);
    /* a dry run checks and writes nothing */
    kgg_edge_add ok[] = {{"a:c4", "a:c2", "suggested by model m, score 0.91", 0}, {"a:c0", "a:c4", NULL, 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, ok, 2, KGG_EDGES_DRY_RUN, &added, &e), KGP_OK);
    ck_assert_uint_eq(added, 2);
    recs(st, "a:c2", buf, sizeof buf);
    ck_assert_str_eq(buf, "");
    /* written: the snapshot shows them with their reasons */
    ck_assert_int_eq(kgg_store_add_recommends(st, ok, 2, 0, &added, &e), KGP_OK);
    ck_assert_uint_eq(added, 2);
    recs(st, "a:c2", buf, sizeof buf);
    ck_assert_str_eq(buf, "a:c4|suggested by model m, score 0.91;");
    recs(st, "a:c4", buf, sizeof buf);
    ck_assert_str_eq(buf, "a:c0|;");
    /* now c4 comes before c2 (recommended): c3 before c4 closes a cycle
     * through a recommended edge; skip mode writes the good ones only */
    kgg_edge_add mix[] = {{"a:c3", "a:c4", NULL, 0}, {"a:c4", "a:c2", NULL, 0}, {"a:c1", "a:c4", "r", 0}};
    ck_assert_int_eq(kgg_store_add_recommends(st, mix, 3, KGG_EDGES_SKIP_BAD, &added, &e), KGP_OK);
    ck_assert_uint_eq(added, 1);
    ck_assert_int_eq(mix[0].outcome, KGG_EDGE_CYCLE);
    ck_assert_int_eq(mix[1].outcome, KGG_EDGE_ALREADY);
    ck_assert_int_eq(mix[2].outcome, KGG_EDGE_ADDED);
    recs(st, "a:c4", buf, sizeof buf);
    ck_assert_str_eq(buf, "a:c0|;a:c1|r;");
    /* the same list again, strict mode: idempotent, OK with nothing written
     * (before: refused as "already exists") */
    ck_assert_int_eq(kgg_store_add_recommends(st, ok, 2, 0, &added, &e), KGP_OK);
    ck_assert_uint_eq(added, 0);
    ck_assert_int_eq(ok[0].outcome, KGG_EDGE_ALREADY);
    ck_assert_int_eq(ok[1].outcome, KGG_EDGE_ALREADY);
    recs(st, "a:c2", buf, sizeof buf);
    ck_assert_str_eq(buf, "a:c4|suggested by model m, score 0.91;");
    /* nothing good at all in skip mode: OK, none written */
    ck_assert_int_eq(kgg_store_add_recommends(st, mix, 2, KGG_EDGES_SKIP_BAD, &added, &e), KGP_OK);
    ck_assert_uint_eq(added, 0);
    /* an identical re-import keeps them */
    kgg_course *c = chain("a", 4);
    kgg_write_result r;
    kgg_write_result_init(&r);
    ck_assert_int_eq(kgg_store_write(st, &c, 1, 0, &r, &e), KGP_OK);
    ck_assert_int_eq(r.courses[0].unchanged, 1);
    kgg_write_result_free(&r);
    kgg_course_free(c);
    recs(st, "a:c4", buf, sizeof buf);
    ck_assert_str_eq(buf, "a:c0|;a:c1|r;");
    kgg_store_close(st);
    /* read-only: refused */
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &st, &e), KGP_OK);
    ck_assert_int_eq(kgg_store_add_recommends(st, ok, 1, 0, NULL, &e), KGP_EUSAGE);
    kgg_store_close(st);
}
END_TEST

START_TEST(grows_the_map)
{
    /* many long reasons into a small map: the write grows it and starts over */
    kgg_store *st = fresh(200, 1 << 18);
    kgg_store_set_autoreserve(st, 0);
    enum { N = 199 };
    static kgg_edge_add ed[N];
    static char reason[4000], keys[N][16];
    memset(reason, 'x', sizeof reason - 1);
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "a:c%d", i);
        ed[i] = (kgg_edge_add){"a:c200", keys[i], reason, 0};
    }
    kgg_err e;
    size_t added = 0;
    ck_assert_msg(kgg_store_add_recommends(st, ed, N, 0, &added, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(added, N);
    kgg_snap *s;
    ck_assert_int_eq(kgg_snap_open(st, &s, &e), 0);
    uint32_t i = kgg_snap_find_key(s, "a:c200");
    ck_assert_uint_eq(s->recby_off[i + 1] - s->recby_off[i], N);
    kgg_snap_close(s);
    kgg_store_close(st);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("store_edges");
    TCase *tc = tcase_create("edges");
    tcase_add_checked_fixture(tc, tu_db_setup, tu_db_teardown);
    tcase_add_test(tc, adds_and_refuses);
    tcase_add_test(tc, grows_the_map);
    suite_add_tcase(s, tc);
    return s;
}
