/* Error messages of the shared handles (kgp_db, kgp_snap) are per thread,
 * like errno (kgpath.h, kgp_db_errmsg): two threads fail on one handle in
 * an order forced by a barrier (no sleeps) and each reads its own message;
 * another thread's failure or success leaves it alone; a thread with no
 * failure of its own (main, after joining) reads the handle's last one. */
#include <check.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgpath.h"
#include "kgpath_learner.h"
#include "tests/testutil.h"

static char *g_dir, *g_db;

static void setup(void)
{
    g_dir = tu_mkdtemp();
    g_db = tu_path(g_dir, "kg.db");
}

static void teardown(void)
{
    tu_rmrf(g_dir);
    free(g_db);
    free(g_dir);
}

static kgp_db *imported(void)
{
    kgp_db *db;
    ck_assert_msg(kgp_db_open(g_db, 0, &db) == KGP_OK, "open: %s", kgp_db_errmsg(db));
    char *alg = tu_path(tu_source_root(), "tests/golden/alg.xml");
    const char *paths[] = {alg};
    kgp_report *r = NULL;
    ck_assert_msg(kgp_import(db, paths, 1, NULL, &r) == KGP_OK, "import: %s", kgp_db_errmsg(db));
    kgp_report_free(r);
    free(alg);
    return db;
}

/* A failure on the database handle with a message of its own: A's "no
 * learner id", B's "retention must be in (0, 1) ...". */
static kgp_status fail_db(kgp_db *db, int who)
{
    kgp_learner *l = NULL;
    kgp_learner_options o = {.retention = 2};
    kgp_status st = who == 0 ? kgp_learner_get(db, NULL, "", NULL, &l)
                             : kgp_learner_get(db, NULL, "u", &o, &l);
    kgp_learner_free(l);
    return st;
}

typedef struct arg {
    int who;                    /* 0: A, 1: B */
    kgp_db *db;
    kgp_snap *s;
    pthread_barrier_t *bar;
    kgp_status st_db, st_snap;
    char db1[1024], snap1[1024]; /* read after both failed */
    char kept[1024];            /* the first pointer's text after B failed again */
    char db2[1024], snap2[1024]; /* read after the other thread succeeded */
} arg;

/* A: fail | B: fail | both read | B fails again, A's first pointer kept |
 * B succeeds | A reads again. */
static void *run(void *p)
{
    arg *a = p;
    uint32_t id;
    if (a->who == 1) pthread_barrier_wait(a->bar);              /* 1: A failed */
    a->st_db = fail_db(a->db, a->who);
    a->st_snap = kgp_snap_lookup(a->s, a->who ? "nope-beta" : "nope-alpha", &id);
    if (a->who == 0) pthread_barrier_wait(a->bar);              /* 1 */
    pthread_barrier_wait(a->bar);                               /* 2: B failed */
    const char *m = kgp_db_errmsg(a->db);
    snprintf(a->db1, sizeof a->db1, "%s", m);
    snprintf(a->snap1, sizeof a->snap1, "%s", kgp_snap_errmsg(a->s));
    pthread_barrier_wait(a->bar);                               /* 3: both read */
    if (a->who == 1) {
        fail_db(a->db, 1);
        kgp_snap_lookup(a->s, "nope-gamma", &id);
    }
    pthread_barrier_wait(a->bar);                               /* 4: B failed again */
    if (a->who == 0) snprintf(a->kept, sizeof a->kept, "%s", m);
    pthread_barrier_wait(a->bar);                               /* 5 */
    if (a->who == 1) {                                          /* successes */
        uint64_t txn;
        kgp_db_txn_id(a->db, &txn);
        kgp_snap_lookup(a->s, "alg:intro", &id);
    }
    pthread_barrier_wait(a->bar);                               /* 6: B succeeded */
    snprintf(a->db2, sizeof a->db2, "%s", kgp_db_errmsg(a->db));
    snprintf(a->snap2, sizeof a->snap2, "%s", kgp_snap_errmsg(a->s));
    return NULL;
}

static void *read_db(void *p)
{
    arg *a = p;
    snprintf(a->db1, sizeof a->db1, "%s", kgp_db_errmsg(a->db));
    return NULL;
}

START_TEST(test_two_threads_own_messages)
{
    kgp_db *db = imported();
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    uint32_t id;
    ck_assert_msg(kgp_snap_lookup(s, "alg:intro", &id) == KGP_OK, "%s", kgp_snap_errmsg(s));
    pthread_barrier_t bar;
    pthread_barrier_init(&bar, NULL, 2);
    arg a[2];
    pthread_t th[2];
    for (int i = 0; i < 2; i++) {
        memset(&a[i], 0, sizeof a[i]);
        a[i].who = i;
        a[i].db = db;
        a[i].s = s;
        a[i].bar = &bar;
        ck_assert_int_eq(pthread_create(&th[i], NULL, run, &a[i]), 0);
    }
    for (int i = 0; i < 2; i++) pthread_join(th[i], NULL);
    pthread_barrier_destroy(&bar);

    ck_assert_int_eq(a[0].st_db, KGP_EUSAGE);
    ck_assert_int_eq(a[1].st_db, KGP_EUSAGE);
    ck_assert_int_eq(a[0].st_snap, KGP_ENOTFOUND);
    ck_assert_int_eq(a[1].st_snap, KGP_ENOTFOUND);
    /* each thread its own message, though B failed after A */
    ck_assert_str_eq(a[0].db1, "no learner id");
    ck_assert_msg(strstr(a[0].snap1, "nope-alpha") && !strstr(a[0].snap1, "nope-beta"), "%s", a[0].snap1);
    ck_assert_msg(strstr(a[1].db1, "retention must be in (0, 1)"), "%s", a[1].db1);
    ck_assert_msg(strstr(a[1].snap1, "nope-beta"), "%s", a[1].snap1);
    /* A's pointer still holds A's message after B failed again */
    ck_assert_str_eq(a[0].kept, "no learner id");
    /* another thread's success changes neither; B keeps its last failure */
    ck_assert_str_eq(a[0].db2, "no learner id");
    ck_assert_msg(strstr(a[0].snap2, "nope-alpha"), "%s", a[0].snap2);
    ck_assert_msg(strstr(a[1].db2, "retention must be in (0, 1)"), "%s", a[1].db2);
    ck_assert_msg(strstr(a[1].snap2, "nope-gamma"), "%s", a[1].snap2);
    /* a thread with no message of its own on a handle reads its last
     * failure in any thread (B's): main's lookups on s all succeeded; its
     * import left its own "" on db (kgp_import clears the message), so a
     * fresh thread reads db's */
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "nope-gamma"), "%s", kgp_snap_errmsg(s));
    ck_assert_str_eq(kgp_db_errmsg(db), "");
    arg c = {.db = db};
    ck_assert_int_eq(pthread_create(&th[0], NULL, read_db, &c), 0);
    pthread_join(th[0], NULL);
    ck_assert_msg(strstr(c.db1, "retention must be in (0, 1)"), "%s", c.db1);
    /* main's own failure, then its own message */
    ck_assert_int_eq(kgp_snap_lookup(s, "nope-main", &id), KGP_ENOTFOUND);
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "nope-main"), "%s", kgp_snap_errmsg(s));
    kgp_snap_close(s);
    kgp_db_close(db);
}
END_TEST

/* One thread: the message stays after a success (as errno), two handles'
 * messages are readable at once, and a new handle (perhaps at a closed
 * one's address) starts with none. */
START_TEST(test_one_thread)
{
    kgp_db *db = imported();
    ck_assert_str_eq(kgp_db_errmsg(db), "");
    kgp_snap *s, *s2;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    ck_assert_str_eq(kgp_snap_errmsg(s), "");
    uint32_t id;
    ck_assert_int_eq(kgp_snap_lookup(s, "nope-one", &id), KGP_ENOTFOUND);
    ck_assert_int_eq(fail_db(db, 0), KGP_EUSAGE);
    ck_assert_int_eq(kgp_snap_lookup(s, "alg:intro", &id), KGP_OK);
    const char *ms = kgp_snap_errmsg(s), *md = kgp_db_errmsg(db);
    ck_assert_msg(strstr(ms, "nope-one"), "%s", ms);
    ck_assert_str_eq(md, "no learner id");
    ck_assert_int_eq(fail_db(db, 1), KGP_EUSAGE);
    ck_assert_msg(strstr(kgp_db_errmsg(db), "retention"), "%s", kgp_db_errmsg(db));
    kgp_snap_close(s);
    for (int i = 0; i < 4; i++) {               /* malloc may hand back s's address */
        ck_assert_int_eq(kgp_snap_open(db, &s2), KGP_OK);
        ck_assert_str_eq(kgp_snap_errmsg(s2), "");
        ck_assert_int_eq(kgp_snap_lookup(s2, "nope-two", &id), KGP_ENOTFOUND);
        kgp_snap_close(s2);
    }
    /* more failing handles than a thread remembers: the newest is its own */
    kgp_snap *many[10];
    char name[32];
    for (int i = 0; i < 10; i++) {
        ck_assert_int_eq(kgp_snap_open(db, &many[i]), KGP_OK);
        snprintf(name, sizeof name, "nope-%d", i);
        ck_assert_int_eq(kgp_snap_lookup(many[i], name, &id), KGP_ENOTFOUND);
    }
    for (int i = 0; i < 10; i++) {
        snprintf(name, sizeof name, "nope-%d", i);
        ck_assert_msg(strstr(kgp_snap_errmsg(many[i]), name), "%d: %s", i, kgp_snap_errmsg(many[i]));
    }
    for (int i = 0; i < 10; i++) kgp_snap_close(many[i]);
    kgp_db_close(db);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("errmsg");
    TCase *t = tcase_create("errmsg");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 60);
    tcase_add_test(t, test_two_threads_own_messages);
    tcase_add_test(t, test_one_thread);
    suite_add_tcase(s, t);
    return s;
}
