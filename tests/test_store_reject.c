/* graph/store_reject.h: rejected suggestions recorded, listed and removed;
 * a store without the table reads as "none" and reading never creates it;
 * refusals (unknown, self, existing requirement or recommended edge,
 * repeated, keys too long, not rejected, read-only store) write nothing;
 * an already rejected pair keeps its record; course writes keep them; the
 * map grows under a large write. */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/store.h"
#include "graph/store_reject.h"
#include "tests/testutil.h"

/* Each test gets a fresh tu_db_dir / tu_db_path (tu_db_setup). */

/* Course "a": x, y requires x, z recommends y first, w alone; with
 * long_ids, two more concepts whose keys are 300 bytes each. */
static void write_course(kgg_store *st, int with_w, int long_ids)
{
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, "a");
    c->title = kgg_course_str(c, "A");
    c->source = kgg_course_str(c, "a.xml");
    c->format = kgg_course_str(c, "test");
    kgg_course_add_concept(c, "x", "X");
    kgg_concept_add_require(c, kgg_course_add_concept(c, "y", "Y"), "x", NULL);
    kgg_concept_add_recommend(c, kgg_course_add_concept(c, "z", "Z"), "y", "first");
    if (with_w) kgg_course_add_concept(c, "w", "W");
    for (int i = 0; long_ids && i < 2; i++) {
        char id[301];
        memset(id, 'a' + i, 298);
        id[298] = 0;
        kgg_course_add_concept(c, id, id);
    }
    kgg_write_result r;
    kgg_err e;
    kgg_write_result_init(&r);
    ck_assert_msg(kgg_store_write(st, &c, 1, 0, &r, &e) == KGP_OK, "%s", e.msg);
    kgg_write_result_free(&r);
    kgg_course_free(c);
}

static kgg_store *open_with(int with_w, int long_ids)
{
    kgg_store *st;
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(tu_db_path, 0, 0, &st, &e), KGP_OK);
    write_course(st, with_w, long_ids);
    return st;
}

/* The stored rejections as "prereq>concept|time|model|score|reason;". */
typedef struct listing { char text[4096]; size_t o, n; } listing;

static int list_one(void *ud, const kgg_reject *r)
{
    listing *l = ud;
    ck_assert_int_eq(r->outcome, 0);
    ck_assert_uint_lt(l->o, sizeof l->text - 600);
    l->o += (size_t)snprintf(l->text + l->o, sizeof l->text - l->o, "%s>%s|%lld|%s|%.2f|%s;", r->prereq, r->concept,
                             (long long)r->time, r->model ? r->model : "-", r->score, r->reason ? r->reason : "-");
    l->n++;
    return 0;
}

static const char *list(kgg_store *st, listing *l)
{
    kgg_err e;
    memset(l, 0, sizeof *l);
    ck_assert_msg(kgg_reject_each(st, list_one, l, &e) == KGP_OK, "%s", e.msg);
    return l->text;
}

static int stop_at_first(void *ud, const kgg_reject *r)
{
    (void)r;
    ++*(int *)ud;
    return KGP_ECONFLICT;
}

static int count_one(void *ud, const kgg_reject *r)
{
    ck_assert(r->reason && strlen(r->reason) == 1999 && r->score == 0.5);
    ++*(size_t *)ud;
    return 0;
}

START_TEST(records_lists_removes)
{
    kgg_store *st = open_with(1, 0);
    kgg_err e;
    listing l;
    /* no table: nothing listed, and neither reading nor refusals nor a dry run create it */
    char *before = tu_path(tu_db_dir, "before.db");
    tu_copy(tu_db_path, before);
    ck_assert_str_eq(list(st, &l), "");
    kgg_reject r[3] = {{"a:w", "a:x", "ck", 0.75, "too far", 1000, 0}, {"a:x", "a:w", NULL, NAN, NULL, 1001, 0},
                       {"a:w", "a:z", NULL, NAN, NULL, 0, 0}};
    size_t done = 9;
    ck_assert_int_eq(kgg_reject_add(st, r, 2, KGG_REJECT_DRY_RUN, &done, &e), KGP_OK);
    ck_assert_uint_eq(done, 2);
    ck_assert_int_eq(kgg_reject_remove(st, r, 1, 0, &done, &e), KGP_EINPUT);
    ck_assert_int_eq(r[0].outcome, KGG_REJECT_ABSENT);
    ck_assert_int_eq(kgg_reject_add(st, r, 0, 0, &done, &e), KGP_OK);
    ck_assert_uint_eq(done, 0);
    ck_assert_msg(tu_file_cmp(before, tu_db_path) == 0, "reading, a dry run or a refusal changed the file");
    /* recorded, listed in key order with their fields */
    ck_assert_msg(kgg_reject_add(st, r, 2, 0, &done, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(done, 2);
    ck_assert_str_eq(list(st, &l), "a:w>a:x|1000|ck|0.75|too far;a:x>a:w|1001|-|nan|-;");
    /* again, with a new one: the old records stay as they were */
    r[1] = (kgg_reject){"a:w", "a:x", "other", 0.1, "changed", 2000, 0};
    ck_assert_msg(kgg_reject_add(st, r + 1, 2, 0, &done, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(done, 1);
    ck_assert_int_eq(r[1].outcome, KGG_REJECT_ALREADY);
    ck_assert_int_eq(r[2].outcome, KGG_REJECT_DONE);
    const char *t = list(st, &l);
    ck_assert_uint_eq(l.n, 3);
    ck_assert_msg(strncmp(t, "a:w>a:x|1000|ck|0.75|too far;a:w>a:z|", 37) == 0, "%s", t);
    /* time 0: now */
    ck_assert(strstr(t, "a:w>a:z|0|") == NULL);
    /* the walk stops at fn's status */
    int calls = 0;
    ck_assert_int_eq(kgg_reject_each(st, stop_at_first, &calls, &e), KGP_ECONFLICT);
    ck_assert_int_eq(calls, 1);
    /* removed, strictly */
    kgg_reject rm[2] = {{.prereq = "a:w", .concept = "a:z"}, {.prereq = "a:w", .concept = "a:z"}};
    ck_assert_int_eq(kgg_reject_remove(st, rm, 2, 0, &done, &e), KGP_EINPUT);
    ck_assert_int_eq(rm[1].outcome, KGG_REJECT_DUPLICATE);
    ck_assert_msg(strstr(e.msg, "pair 2") != NULL, "%s", e.msg);
    ck_assert_int_eq(kgg_reject_remove(st, rm, 1, KGG_REJECT_DRY_RUN, &done, &e), KGP_OK);
    ck_assert_uint_eq(list(st, &l) ? l.n : 0, 3);
    ck_assert_int_eq(kgg_reject_remove(st, rm, 1, 0, &done, &e), KGP_OK);
    ck_assert_uint_eq(done, 1);
    list(st, &l);
    ck_assert_uint_eq(l.n, 2);
    ck_assert(strstr(l.text, "a:w>a:z") == NULL);
    free(before);
    kgg_store_close(st);
}
END_TEST

START_TEST(refusals_write_nothing)
{
    kgg_store *st = open_with(1, 1);
    kgg_err e;
    listing l;
    char la[301] = "a:", lb[301] = "a:";   /* the two 300-byte keys: 601 bytes together */
    memset(la + 2, 'a', 298);
    memset(lb + 2, 'b', 298);
    la[300] = lb[300] = 0;
    struct { const char *p, *c; int outcome; kgp_status st; const char *msg; } cases[] = {
        {"a:x", "a:nope", KGG_REJECT_UNKNOWN, KGP_ENOTFOUND, "no such concept"},
        {"a:x", "a:x", KGG_REJECT_SELF, KGP_EINPUT, "its own"},
        {"a:x", "a:y", KGG_REJECT_EDGE, KGP_EINPUT, "already an edge"},       /* requirement */
        {"a:y", "a:z", KGG_REJECT_EDGE, KGP_EINPUT, "already an edge"},       /* recommended */
        {"a:w", "a:x", KGG_REJECT_DUPLICATE, KGP_EINPUT, "twice"},
        {la, lb, KGG_REJECT_TOO_LONG, KGP_EINPUT, "too long"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        kgg_reject r[2] = {{"a:w", "a:x", NULL, NAN, NULL, 0, 0}, {cases[i].p, cases[i].c, NULL, NAN, NULL, 0, 0}};
        size_t done = 7;
        kgp_status s = kgg_reject_add(st, r, 2, 0, &done, &e);
        ck_assert_msg(s == cases[i].st, "case %zu: status %d: %s", i, s, e.msg);
        ck_assert_int_eq(r[1].outcome, cases[i].outcome);
        ck_assert_msg(strstr(e.msg, "pair 2") && strstr(e.msg, cases[i].msg), "case %zu: %s", i, e.msg);
        ck_assert_uint_eq(done, 0);
        ck_assert_str_eq(list(st, &l), "");
    }
    /* the reverse of an edge is a pair like any other */
    kgg_reject r = {"a:y", "a:x", NULL, NAN, NULL, 0, 0};
    ck_assert_msg(kgg_reject_add(st, &r, 1, 0, NULL, &e) == KGP_OK, "%s", e.msg);
    kgg_store_close(st);
    /* read-only: listed, never written */
    ck_assert_int_eq(kgg_store_open(tu_db_path, KGG_STORE_RDONLY, 0, &st, &e), KGP_OK);
    ck_assert_msg(strncmp(list(st, &l), "a:y>a:x|", 8) == 0 && l.n == 1, "%s", l.text);
    r = (kgg_reject){"a:w", "a:x", NULL, NAN, NULL, 0, 0};
    ck_assert_int_eq(kgg_reject_add(st, &r, 1, 0, NULL, &e), KGP_EUSAGE);
    ck_assert_int_eq(kgg_reject_remove(st, &r, 1, 0, NULL, &e), KGP_EUSAGE);
    kgg_store_close(st);
}
END_TEST

START_TEST(course_writes_keep_them)
{
    kgg_store *st = open_with(1, 0);
    kgg_err e;
    listing l;
    kgg_reject r[2] = {{"a:w", "a:x", NULL, NAN, NULL, 5, 0}, {"a:x", "a:z", NULL, NAN, NULL, 6, 0}};
    ck_assert_msg(kgg_reject_add(st, r, 2, 0, NULL, &e) == KGP_OK, "%s", e.msg);
    const char *want = "a:w>a:x|5|-|nan|-;a:x>a:z|6|-|nan|-;";
    write_course(st, 1, 0);           /* identical */
    ck_assert_str_eq(list(st, &l), want);
    write_course(st, 0, 0);           /* w removed: kept (ignored by readers), back with w */
    ck_assert_str_eq(list(st, &l), want);
    write_course(st, 1, 0);
    ck_assert_str_eq(list(st, &l), want);
    kgg_store_close(st);
}
END_TEST

/* Many rejections with long reasons on a small map that grows only
 * through MDB_MAP_FULL and redo: all land, counted once. */
START_TEST(grows_the_map)
{
    kgg_store *st;
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(tu_db_path, 0, 256 << 10, &st, &e), KGP_OK);
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, "b");
    c->title = c->source = c->format = kgg_course_str(c, "b");
    enum { N = 40 };
    static char keys[N][16], reason[2000];
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "b:k%d", i);
        kgg_course_add_concept(c, keys[i] + 2, keys[i] + 2);
    }
    kgg_write_result wr;
    kgg_write_result_init(&wr);
    ck_assert_msg(kgg_store_write(st, &c, 1, 0, &wr, &e) == KGP_OK, "%s", e.msg);
    kgg_write_result_free(&wr);
    kgg_course_free(c);
    kgg_store_set_autoreserve(st, 0);
    memset(reason, 'r', sizeof reason - 1);
    static kgg_reject r[N * (N - 1)];
    size_t n = 0, done = 0;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++)
            if (i != j) r[n++] = (kgg_reject){keys[i], keys[j], "ck", 0.5, reason, 0, 0};
    size_t map0 = kgg_store_map_size(st);
    ck_assert_msg(kgg_reject_add(st, r, n, 0, &done, &e) == KGP_OK, "%s", e.msg);
    ck_assert_uint_eq(done, n);
    ck_assert_uint_gt(kgg_store_map_size(st), map0);
    size_t count = 0;
    ck_assert_int_eq(kgg_reject_each(st, count_one, &count, &e), KGP_OK);
    ck_assert_uint_eq(count, n);
    kgg_store_close(st);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("store_reject");
    TCase *tc = tcase_create("reject");
    tcase_add_checked_fixture(tc, tu_db_setup, tu_db_teardown);
    tcase_add_test(tc, records_lists_removes);
    tcase_add_test(tc, refusals_write_nothing);
    tcase_add_test(tc, course_writes_keep_them);
    tcase_add_test(tc, grows_the_map);
    suite_add_tcase(s, tc);
    return s;
}
