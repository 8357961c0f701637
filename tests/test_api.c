/* The public API (kgpath.h): open, import with reports, lookup, concept
 * details, iterators, stats, export, and every error path. Uses the
 * kgxml fixtures in tests/golden/ and small files written on the fly. */
#include <check.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kgpath.h"
#include "kgpath_train.h"
#include "api_train_internal.h"
#include "tests/testutil.h"

static char *g_dir, *g_db, *g_alg, *g_calc;

static void setup(void)
{
    g_dir = tu_mkdtemp();
    g_db = tu_path(g_dir, "kg.db");
    char *gold = tu_path(tu_source_root(), "tests/golden");
    g_alg = tu_path(gold, "alg.xml");
    g_calc = tu_path(gold, "calc.xml");
    free(gold);
}

static void teardown(void)
{
    tu_rmrf(g_dir);
    free(g_db); free(g_dir); free(g_alg); free(g_calc);
}

static kgp_db *open_db(void)
{
    kgp_db *db;
    kgp_status st = kgp_db_open(g_db, 0, &db);
    ck_assert_msg(st == KGP_OK, "open: %s", kgp_db_errmsg(db));
    return db;
}

static kgp_db *imported(void)
{
    kgp_db *db = open_db();
    const char *paths[] = {g_calc, g_alg};
    kgp_report *r;
    kgp_status st = kgp_import(db, paths, 2, NULL, &r);
    ck_assert_msg(st == KGP_OK, "import: %s", kgp_db_errmsg(db));
    kgp_report_free(r);
    return db;
}

static char *write_tmp(const char *name, const char *text)
{
    char *p = tu_path(g_dir, name);
    tu_write(p, text, (size_t)-1);
    return p;
}

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
    "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"%s\" xml:lang=\"en\" version=\"1\">\n"

START_TEST(test_version_and_strerror)
{
    int ma, mi, pa;
    ck_assert_str_eq(kgp_version(&ma, &mi, &pa), KGPATH_VERSION_STRING);
    ck_assert_int_eq(ma, KGPATH_VERSION_MAJOR);
    ck_assert_str_eq(kgp_strerror(KGP_EAMBIGUOUS), "ambiguous name");
    ck_assert_ptr_nonnull(kgp_strerror((kgp_status)99));
}
END_TEST

START_TEST(test_import_report)
{
    kgp_db *db = open_db();
    ck_assert_str_eq(kgp_db_path(db), g_db);
    const char *paths[] = {g_alg};
    kgp_report *r;
    ck_assert_int_eq(kgp_import(db, paths, 1, NULL, &r), KGP_OK);
    ck_assert(r->committed);
    ck_assert_uint_eq(r->ncourses, 1);
    ck_assert_str_eq(r->courses[0].id, "alg");
    ck_assert_str_eq(r->courses[0].format, "kgxml");
    ck_assert_uint_eq(r->courses[0].concepts, 3);
    ck_assert_uint_eq(r->courses[0].groups, 3);
    ck_assert_uint_eq(r->courses[0].unresolved, 2);
    ck_assert_uint_eq(r->nunresolved, 2);
    ck_assert_str_eq(r->unresolved[0].from, "alg:equations");
    ck_assert_str_eq(r->unresolved[0].target, "calc:limits");
    ck_assert_int_eq(r->unresolved[1].recommended, 1);
    kgp_report_free(r);
    paths[0] = g_calc;
    ck_assert_int_eq(kgp_import(db, paths, 1, NULL, &r), KGP_OK);
    ck_assert_uint_eq(r->resolved, 2);
    kgp_report_free(r);
    /* again: unchanged */
    ck_assert_int_eq(kgp_import(db, paths, 1, NULL, &r), KGP_OK);
    ck_assert(r->courses[0].unchanged);
    kgp_report_free(r);
    kgp_db_close(db);
}
END_TEST

START_TEST(test_lookup)
{
    kgp_db *db = imported();
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    ck_assert_uint_eq(kgp_snap_count(s), 6);
    uint32_t i;
    ck_assert_int_eq(kgp_snap_lookup(s, "alg:fractions", &i), KGP_OK);
    ck_assert_str_eq(kgp_snap_key(s, i), "alg:fractions");
    ck_assert_int_eq(kgp_snap_lookup(s, "limits", &i), KGP_OK);          /* bare id, unique */
    ck_assert_str_eq(kgp_snap_key(s, i), "calc:limits");
    ck_assert_int_eq(kgp_snap_lookup(s, "LINEAR equations", &i), KGP_OK); /* title, any case */
    ck_assert_str_eq(kgp_snap_key(s, i), "alg:equations");
    ck_assert_int_eq(kgp_snap_lookup(s, "intro", &i), KGP_EAMBIGUOUS);
    ck_assert_uint_eq(i, KGP_NONE);
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "alg:intro") && strstr(kgp_snap_errmsg(s), "calc:intro"),
                  "%s", kgp_snap_errmsg(s));
    ck_assert_int_eq(kgp_snap_lookup(s, "calc:nothing", &i), KGP_ENOTFOUND);
    ck_assert_int_eq(kgp_snap_lookup(s, "nothing", &i), KGP_ENOTFOUND);
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "nothing") != NULL, "%s", kgp_snap_errmsg(s));
    ck_assert_ptr_null(strstr(kgp_snap_errmsg(s), "did you mean"));
    /* a part of a title (any case) is not a name, but is offered */
    ck_assert_int_eq(kgp_snap_lookup(s, "LINEAR", &i), KGP_ENOTFOUND);
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "did you mean: alg:equations (Linear equations)") != NULL,
                  "%s", kgp_snap_errmsg(s));
    ck_assert_int_eq(kgp_snap_lookup(s, "", &i), KGP_EUSAGE);
    ck_assert_int_eq(kgp_snap_lookup(s, "\xff\xfe", &i), KGP_EUSAGE);
    ck_assert_ptr_null(kgp_snap_key(s, 99));
    ck_assert_ptr_null(kgp_snap_title(s, 99));
    kgp_snap_close(s);
    kgp_db_close(db);
}
END_TEST

START_TEST(test_ambiguous_title)
{
    char *p = write_tmp("t.xml", "<?xml version=\"1.0\"?>\n"
        "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"t\" xml:lang=\"en\" version=\"1\">\n"
        "<title>T</title>\n"
        "<concept id=\"one\"><title>Same</title></concept>\n"
        "<concept id=\"two\"><title>same</title></concept>\n</course>\n");
    kgp_db *db = open_db();
    const char *paths[] = {p};
    ck_assert_int_eq(kgp_import(db, paths, 1, NULL, NULL), KGP_OK);
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    uint32_t i;
    ck_assert_int_eq(kgp_snap_lookup(s, "SAME", &i), KGP_EAMBIGUOUS);
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "t:one") && strstr(kgp_snap_errmsg(s), "t:two"), "%s",
                  kgp_snap_errmsg(s));
    kgp_snap_close(s);
    kgp_db_close(db);
    free(p);
}
END_TEST

START_TEST(test_concept_details)
{
    kgp_db *db = imported();
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    uint32_t i;
    ck_assert_int_eq(kgp_snap_lookup(s, "alg:equations", &i), KGP_OK);
    kgp_concept *c;
    ck_assert_int_eq(kgp_concept_get(s, i, &c), KGP_OK);
    ck_assert_str_eq(c->id, "equations");
    ck_assert_str_eq(c->course_id, "alg");
    ck_assert_str_eq(c->course_title, "Algebra Basics");
    ck_assert_str_eq(c->unit_id, "u2");
    ck_assert_str_eq(c->unit_title, "Equations");
    ck_assert_str_eq(c->description, "Solve ax + b = c for x.");
    ck_assert_ptr_null(c->summary);
    ck_assert_double_eq(c->minutes, 40);
    ck_assert_uint_eq(c->seq, 2);
    ck_assert_uint_eq(c->ngroups, 2);
    ck_assert_uint_eq(c->groups[0].k, 1);
    ck_assert_uint_eq(c->groups[0].n, 1);
    ck_assert_str_eq(c->groups[0].members[0].key, "alg:fractions");
    ck_assert_str_eq(c->groups[0].members[0].reason, "Solutions are often fractions.");
    ck_assert_uint_eq(c->groups[1].k, 2);
    ck_assert_uint_eq(c->groups[1].n, 3);
    ck_assert_str_eq(c->groups[1].reason, "Two kinds of practice are enough.");
    ck_assert_str_eq(c->groups[1].members[2].key, "calc:limits");
    ck_assert_str_eq(c->groups[1].members[2].title, "Limits");
    ck_assert_uint_eq(c->nrecommends, 1);
    ck_assert_str_eq(c->recommends[0].key, "calc:functions");
    ck_assert_uint_eq(c->ndependents, 0);
    kgp_concept_free(c);
    ck_assert_int_eq(kgp_snap_lookup(s, "alg:intro", &i), KGP_OK);
    ck_assert_int_eq(kgp_concept_get(s, i, &c), KGP_OK);
    ck_assert_uint_eq(c->ngoals, 1);
    ck_assert_str_eq(c->goals[0], "Say what a variable is");
    ck_assert_uint_eq(c->ntags, 1);
    ck_assert_uint_eq(c->ndependents, 3);   /* fractions, equations, calc:functions */
    ck_assert_str_eq(c->dependents[2].key, "calc:functions");
    kgp_concept_free(c);
    ck_assert_int_eq(kgp_snap_lookup(s, "fractions", &i), KGP_OK);
    ck_assert_int_eq(kgp_concept_get(s, i, &c), KGP_OK);
    ck_assert_uint_eq(c->nresources, 1);
    ck_assert_str_eq(c->resources[0].kind, "video");
    ck_assert_double_eq(c->minutes, 30);     /* 25 own + 5 video */
    ck_assert_double_eq(c->own_minutes, 25);
    kgp_concept_free(c);
    ck_assert_int_eq(kgp_concept_get(s, 99, &c), KGP_ENOTFOUND);
    ck_assert_ptr_null(c);
    kgp_snap_close(s);
    kgp_db_close(db);
}
END_TEST

START_TEST(test_iterator_and_stats)
{
    kgp_db *db = imported();
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    ck_assert_uint_eq(kgp_snap_course_count(s), 2);
    ck_assert_str_eq(kgp_snap_course_id(s, 0), "alg");
    ck_assert_str_eq(kgp_snap_course_title(s, 1), "Calculus Basics");
    ck_assert_ptr_null(kgp_snap_course_id(s, 2));
    kgp_iter *it;
    ck_assert_int_eq(kgp_iter_open(s, "calc", &it), KGP_OK);
    uint32_t i, n = 0;
    const char *want[] = {"calc:intro", "calc:functions", "calc:limits"};
    while (kgp_iter_next(it, &i)) { ck_assert_str_eq(kgp_snap_key(s, i), want[n]); n++; }
    ck_assert_uint_eq(n, 3);
    kgp_iter_close(it);
    ck_assert_int_eq(kgp_iter_open(s, NULL, &it), KGP_OK);
    n = 0;
    while (kgp_iter_next(it, &i)) n++;
    ck_assert_uint_eq(n, 6);
    kgp_iter_close(it);
    ck_assert_int_eq(kgp_iter_open(s, "nope", &it), KGP_ENOTFOUND);
    kgp_stats st;
    ck_assert_int_eq(kgp_snap_stats(s, &st), KGP_OK);
    ck_assert_uint_eq(st.courses, 2);
    ck_assert_uint_eq(st.concepts, 6);
    ck_assert_uint_eq(st.units, 2);
    ck_assert_uint_eq(st.groups, 6);
    ck_assert_uint_eq(st.plain_groups, 5);
    ck_assert_uint_eq(st.edges, 8);
    ck_assert_uint_eq(st.recommends, 1);
    ck_assert_uint_eq(st.unresolved, 0);
    ck_assert_uint_eq(st.resources, 1);
    ck_assert_uint_eq(st.goals, 1);
    ck_assert_double_eq(st.minutes, 170);
    ck_assert_uint_gt(st.db_bytes, 0);
    ck_assert_uint_eq(kgp_snap_unresolved_count(s), 0);
    ck_assert_int_eq(kgp_snap_unresolved(s, 0, NULL, NULL, NULL), KGP_ENOTFOUND);
    kgp_snap_close(s);
    kgp_db_close(db);
}
END_TEST

START_TEST(test_export)
{
    kgp_db *db = imported();
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    char *path = tu_path(g_dir, "x.json");
    FILE *f = fopen(path, "w");
    ck_assert_int_eq(kgp_export(s, "json", f), KGP_OK);
    fclose(f);
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    ck_assert_msg(root != NULL, "%s", je.text);
    ck_assert_int_eq(json_integer_value(json_object_get(root, "kgpath_export")), 1);
    ck_assert_uint_eq(json_array_size(json_object_get(root, "concepts")), 6);
    json_decref(root);
    f = fopen(path, "w");
    ck_assert_int_eq(kgp_export(s, "yaml", f), KGP_EUSAGE);
    ck_assert_msg(strstr(kgp_snap_errmsg(s), "yaml") != NULL, "%s", kgp_snap_errmsg(s));
    ck_assert_int_eq(kgp_export(s, "dot", NULL), KGP_EUSAGE);
    fclose(f);
    free(path);
    kgp_snap_close(s);
    kgp_db_close(db);
}
END_TEST

START_TEST(test_open_errors)
{
    kgp_db *db;
    ck_assert_int_eq(kgp_db_open(g_db, KGP_RDONLY, &db), KGP_ENOTFOUND);
    ck_assert_ptr_nonnull(db);
    ck_assert_msg(strstr(kgp_db_errmsg(db), "kg.db") != NULL, "%s", kgp_db_errmsg(db));
    kgp_db_close(db);
    ck_assert_int_eq(kgp_db_open(g_dir, 0, &db), KGP_EDB);
    kgp_db_close(db);
    ck_assert_int_eq(kgp_db_open(g_db, 0x80, &db), KGP_EUSAGE);
    kgp_db_close(db);
    /* default location from the environment */
    setenv("KGPATH_DB", g_db, 1);
    ck_assert_int_eq(kgp_db_open(NULL, 0, &db), KGP_OK);
    ck_assert_str_eq(kgp_db_path(db), g_db);
    kgp_db_close(db);
    unsetenv("KGPATH_DB");
    /* a read-only handle cannot import */
    ck_assert_int_eq(kgp_db_open(g_db, KGP_RDONLY, &db), KGP_OK);
    const char *paths[] = {g_alg};
    ck_assert_int_eq(kgp_import(db, paths, 1, NULL, NULL), KGP_EUSAGE);
    ck_assert_int_eq(kgp_import(db, NULL, 0, NULL, NULL), KGP_EUSAGE);
    kgp_db_close(db);
    kgp_db_close(NULL);
    kgp_snap_close(NULL);
    kgp_report_free(NULL);
    kgp_concept_free(NULL);
}
END_TEST

/* Every failing import leaves the file byte-for-byte as it was. */
START_TEST(test_import_errors_write_nothing)
{
    kgp_db *db = imported();
    kgp_db_close(db);
    char *before = tu_path(g_dir, "before.db");
    size_t n;
    char *bytes = tu_read(g_db, &n);
    tu_write(before, bytes, n);
    free(bytes);
    char head[512];
    snprintf(head, sizeof head, HEAD, "bad");
    char buf[4096];
    struct { const char *name, *body; kgp_status want; const char *needle; } cases[] = {
        {"malformed.xml", "<title>B</title><concept id=\"x\"><title>X</concept></course>\n", KGP_EINPUT, "malformed.xml:"},
        {"cycle.xml", "<title>B</title>"
            "<concept id=\"p\"><title>Pee</title><prerequisites><require ref=\"q\"/></prerequisites></concept>"
            "<concept id=\"q\"><title>Queue</title><prerequisites><require ref=\"p\"/></prerequisites></concept>"
            "</course>\n", KGP_EINPUT, "Pee -> Queue -> Pee"},
        {"dangling.xml", "<title>B</title>"
            "<concept id=\"p\"><title>P</title><prerequisites><require ref=\"zzz\"/></prerequisites></concept>"
            "</course>\n", KGP_EINPUT, "zzz"},
        {"dup.xml", "<title>B</title><concept id=\"p\"><title>P</title></concept>"
            "<concept id=\"p\"><title>P2</title></concept></course>\n", KGP_EINPUT, "duplicate"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        snprintf(buf, sizeof buf, "%s%s", head, cases[i].body);
        char *p = write_tmp(cases[i].name, buf);
        db = open_db();
        const char *paths[] = {g_calc, p};   /* a good file first: still nothing lands */
        kgp_report *r;
        kgp_status st = kgp_import(db, paths, 2, NULL, &r);
        ck_assert_msg(st == cases[i].want, "%s: status %d", cases[i].name, st);
        ck_assert(!r->committed);
        ck_assert_uint_gt(r->nerrors, 0);
        int found = strstr(kgp_db_errmsg(db), cases[i].needle) != NULL;
        for (size_t d = 0; d < r->ndiags; d++)
            if (strstr(r->diags[d].message, cases[i].needle) ||
                (r->diags[d].file && strstr(r->diags[d].file, cases[i].needle))) found = 1;
        ck_assert_msg(found, "%s: no '%s' in '%s'", cases[i].name, cases[i].needle, kgp_db_errmsg(db));
        kgp_report_free(r);
        kgp_db_close(db);
        free(p);
        ck_assert_msg(tu_file_cmp(before, g_db) == 0, "%s changed the database", cases[i].name);
    }
    /* a CSV reference error names its cell: "file:line:column: message"
     * (the prerequisites field), never a made-up column 0 (the server's
     * 422 "where" is this prefix) */
    {
        char *csv = write_tmp("dangling.csv", "id,title,minutes,prerequisites\n"
                                              "a,Alpha,10,\nb,Beta,20,zzz\n");
        db = open_db();
        const char *cp1[] = {csv};
        ck_assert_int_eq(kgp_import(db, cp1, 1, NULL, NULL), KGP_EINPUT);
        char want[600];
        snprintf(want, sizeof want, "%s:3:11: ", csv);
        ck_assert_msg(strncmp(kgp_db_errmsg(db), want, strlen(want)) == 0, "'%s' does not start with '%s'",
                      kgp_db_errmsg(db), want);
        kgp_db_close(db);
        free(csv);
        ck_assert(tu_file_cmp(before, g_db) == 0);
    }
    /* a new version of calc (same title: the same course, not a conflict)
     * whose intro needs alg:equations closes
     * alg:equations <- calc:limits <- calc:functions <- calc:intro <- alg:equations */
    char *cyc = write_tmp("calc2.xml", "<?xml version=\"1.0\"?>\n"
        "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"calc\" xml:lang=\"en\" version=\"2\">"
        "<title>Calculus Basics</title>"
        "<concept id=\"intro\"><title>Intro</title><prerequisites><require ref=\"alg:equations\"/></prerequisites></concept>"
        "<concept id=\"functions\"><title>Functions</title><prerequisites><require ref=\"intro\"/></prerequisites></concept>"
        "<concept id=\"limits\"><title>Limits</title><prerequisites><require ref=\"functions\"/></prerequisites></concept>"
        "</course>\n");
    db = open_db();
    const char *cp[] = {cyc};
    ck_assert_int_eq(kgp_import(db, cp, 1, NULL, NULL), KGP_EINPUT);
    ck_assert_msg(strstr(kgp_db_errmsg(db), "cycle across courses") != NULL, "%s", kgp_db_errmsg(db));
    ck_assert_msg(strstr(kgp_db_errmsg(db), "Linear equations (alg:equations)") != NULL, "%s", kgp_db_errmsg(db));
    kgp_db_close(db);
    free(cyc);
    ck_assert(tu_file_cmp(before, g_db) == 0);
    db = open_db();
    /* a missing file */
    char *missing = tu_path(g_dir, "missing.xml");
    const char *paths[] = {g_calc, missing};
    ck_assert_int_eq(kgp_import(db, paths, 2, NULL, NULL), KGP_ENOTFOUND);
    ck_assert_msg(strstr(kgp_db_errmsg(db), "missing.xml") != NULL, "%s", kgp_db_errmsg(db));
    /* the same course twice */
    const char *twice[] = {g_calc, g_calc};
    ck_assert_int_eq(kgp_import(db, twice, 2, NULL, NULL), KGP_EINPUT);
    ck_assert_msg(strstr(kgp_db_errmsg(db), "given twice") != NULL, "%s", kgp_db_errmsg(db));
    /* a dry run checks but writes nothing */
    char *p = write_tmp("new.xml", "<?xml version=\"1.0\"?>\n"
        "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"new\" xml:lang=\"en\" version=\"1\">"
        "<title>N</title><concept id=\"n\"><title>N</title></concept></course>\n");
    const char *one[] = {p};
    kgp_import_options opt = {.dry_run = 1};
    kgp_report *r;
    ck_assert_int_eq(kgp_import(db, one, 1, &opt, &r), KGP_OK);
    ck_assert(r->dry_run && !r->committed);
    ck_assert_uint_eq(r->courses[0].concepts, 1);
    kgp_report_free(r);
    kgp_db_close(db);
    ck_assert(tu_file_cmp(before, g_db) == 0);
    free(p); free(missing); free(before);
}
END_TEST

static void progress(void *ud, size_t done, size_t total, const char *path)
{
    (void)path;
    int *calls = ud;
    ck_assert_uint_le(done, total);
    (*calls)++;
}

START_TEST(test_progress_callback)
{
    kgp_db *db = open_db();
    int calls = 0;
    kgp_import_options opt = {.progress = progress, .progress_ud = &calls};
    const char *paths[] = {g_alg, g_calc};
    ck_assert_int_eq(kgp_import(db, paths, 2, &opt, NULL), KGP_OK);
    ck_assert_int_eq(calls, 2);
    kgp_db_close(db);
}
END_TEST

typedef struct th_arg { kgp_snap *s; int bad; } th_arg;

static void *lookup_many(void *p)
{
    th_arg *a = p;
    for (int k = 0; k < 200; k++) {
        uint32_t i;
        if (kgp_snap_lookup(a->s, "limits", &i) != KGP_OK) a->bad++;
        if (kgp_snap_lookup(a->s, "Linear Equations", &i) != KGP_OK) a->bad++;
        kgp_concept *c;
        if (kgp_concept_get(a->s, i, &c) != KGP_OK || strcmp(c->key, "alg:equations")) a->bad++;
        kgp_concept_free(c);
    }
    return NULL;
}

START_TEST(test_snapshot_many_threads)
{
    kgp_db *db = imported();
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    pthread_t th[4];
    th_arg a[4];
    for (int t = 0; t < 4; t++) { a[t].s = s; a[t].bad = 0; pthread_create(&th[t], NULL, lookup_many, &a[t]); }
    for (int t = 0; t < 4; t++) { pthread_join(th[t], NULL); ck_assert_int_eq(a[t].bad, 0); }
    kgp_snap_close(s);
    kgp_db_close(db);
}
END_TEST

/* The graph's fingerprint (what a checkpoint was trained on) is hashed once
 * per snapshot and database state, however many steps of a scoring call
 * ask for it (the stale-checkpoint check, the check that the checkpoint is
 * of this graph, the stored fit's key), and by threads sharing the
 * snapshot; a write in the same process is still seen on that snapshot
 * (the rejections, read from the database, are part of it). */
typedef struct ckpt_arg { kgp_snap *s; const char *ckpt; int current; } ckpt_arg;

static void *check_ckpt(void *p)
{
    ckpt_arg *a = p;
    kgp_checkpoint_info info;
    a->current = kgp_checkpoint_check(a->s, a->ckpt, &info) == KGP_OK && info.state == KGP_CKPT_CURRENT;
    return NULL;
}

static int ckpt_state(kgp_snap *s, const char *ckpt)
{
    kgp_checkpoint_info info;
    ck_assert_msg(kgp_checkpoint_check(s, ckpt, &info) == KGP_OK, "check: %s", kgp_snap_errmsg(s));
    return info.state;
}

START_TEST(test_graph_fingerprint_once)
{
    kgp_db *db = imported();
    char *ckpt = tu_path(g_dir, "model");
    kgp_train_options o = {.out = ckpt, .steps = 4, .threads = 1};
    ck_assert_msg(kgp_train(db, &o, NULL, NULL, NULL) == KGP_OK, "train: %s", kgp_db_errmsg(db));
    kgp_snap *s;
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    /* `kgpath suggest --pairs`: the stale-checkpoint warning, then scoring */
    size_t runs = kgp__graph_record_runs();
    ck_assert_int_eq(ckpt_state(s, ckpt), KGP_CKPT_CURRENT);
    uint32_t pair[2] = {0, 1};
    float p = -1;
    ck_assert_msg(kgp_score_pairs(s, ckpt, pair, 1, &p) == KGP_OK, "score: %s", kgp_snap_errmsg(s));
    ck_assert(p >= 0 && p <= 1);
    kgp_suggestion *sug = NULL;
    size_t nsug = 0;
    ck_assert_msg(kgp_suggest(s, ckpt, NULL, 0, 0, &sug, &nsug) == KGP_OK, "suggest: %s", kgp_snap_errmsg(s));
    ck_assert_uint_gt(nsug, 0);
    ck_assert_uint_eq(kgp__graph_record_runs() - runs, 1);

    /* a rejection written after the snapshot was opened: its checkpoint is
     * stale on it (hashed again), and current again once it is withdrawn */
    kgp_rejection rj = {.prereq = kgp_snap_key(s, sug[0].prereq), .concept = kgp_snap_key(s, sug[0].concept),
                        .score = NAN};
    ck_assert_msg(kgp_reject_suggestions(db, &rj, 1, 0, NULL) == KGP_OK, "reject: %s", kgp_db_errmsg(db));
    runs = kgp__graph_record_runs();
    ck_assert_int_eq(ckpt_state(s, ckpt), KGP_CKPT_CHANGED);
    ck_assert_int_eq(ckpt_state(s, ckpt), KGP_CKPT_CHANGED);
    ck_assert_uint_eq(kgp__graph_record_runs() - runs, 1);
    ck_assert_int_eq(kgp_unreject_suggestions(db, &rj, 1, 0, NULL), KGP_OK);
    ck_assert_int_eq(ckpt_state(s, ckpt), KGP_CKPT_CURRENT);
    ck_assert_uint_eq(kgp__graph_record_runs() - runs, 2);
    free(sug);
    kgp_snap_close(s);

    /* threads sharing a fresh snapshot (as `kgpath serve` does) hash it once */
    ck_assert_int_eq(kgp_snap_open(db, &s), KGP_OK);
    runs = kgp__graph_record_runs();
    pthread_t th[4];
    ckpt_arg a[4];
    for (int t = 0; t < 4; t++) { a[t] = (ckpt_arg){s, ckpt, 0}; pthread_create(&th[t], NULL, check_ckpt, &a[t]); }
    for (int t = 0; t < 4; t++) { pthread_join(th[t], NULL); ck_assert(a[t].current); }
    ck_assert_uint_eq(kgp__graph_record_runs() - runs, 1);
    kgp_snap_close(s);
    free(ckpt);
    kgp_db_close(db);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("api");
    TCase *t = tcase_create("api");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_version_and_strerror);
    tcase_add_test(t, test_import_report);
    tcase_add_test(t, test_lookup);
    tcase_add_test(t, test_ambiguous_title);
    tcase_add_test(t, test_concept_details);
    tcase_add_test(t, test_iterator_and_stats);
    tcase_add_test(t, test_export);
    tcase_add_test(t, test_open_errors);
    tcase_add_test(t, test_import_errors_write_nothing);
    tcase_add_test(t, test_progress_callback);
    tcase_add_test(t, test_snapshot_many_threads);
    tcase_add_test(t, test_graph_fingerprint_once);
    suite_add_tcase(s, t);
    return s;
}
