/* Every real export in ../shared/corpora (skipped when absent): each
 * package imports, and concrete facts of each hold. Negative cases give
 * clear errors. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importers/importers.h"
#include "tests/testutil.h"

static char *corpus(const char *rel)
{
    const char *sh = tu_shared_dir();
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/corpora/%s", sh, rel);
    return strdup(buf);
}

static void dump(const kgi_result *r)
{
    if (r->error[0]) fprintf(stderr, "error: %s\n", r->error);
    for (size_t i = 0; i < r->ncourses; i++)
        for (size_t d = 0; d < r->courses[i]->ndiags; d++)
            if (r->courses[i]->diags[d].severity == KGG_ERROR)
                fprintf(stderr, "  %s:%u: %s\n", r->courses[i]->diags[d].file, r->courses[i]->diags[d].line,
                        r->courses[i]->diags[d].message);
}

static kgg_course *load(const char *rel, int drafts, kgi_result *r, int expect_ok)
{
    char *p = corpus(rel);
    kgi_options opt = { .include_drafts = drafts, .validate_schema = 1 };
    int rc = kgi_import_path(p, &opt, r);
    if ((rc == 0) != expect_ok) dump(r);
    ck_assert_msg((rc == 0) == expect_ok, "%s: import %s", rel, rc ? "failed" : "succeeded");
    ck_assert_uint_eq(r->ncourses, 1);
    free(p);
    return r->courses[0];
}

static const kgg_concept *concept(const kgg_course *c, const char *id)
{
    long i = kgg_course_find(c, id);
    ck_assert_msg(i >= 0, "no concept %s in %s", id, c->id);
    return &c->concepts[i];
}

static int requires(const kgg_course *c, const char *id, const char *target)
{
    const kgg_concept *k = concept(c, id);
    for (size_t g = 0; g < k->ngroups; g++)
        for (size_t m = 0; m < k->groups[g].nmembers; m++)
            if (strcmp(k->groups[g].members[m].target, target) == 0) return 1;
    return 0;
}

static const kgg_diag *diag(const kgg_course *c, kgg_severity sev, const char *needle)
{
    for (size_t i = 0; i < c->ndiags; i++)
        if (c->diags[i].severity == sev && strstr(c->diags[i].message, needle)) return &c->diags[i];
    return NULL;
}

static size_t count_prefix(const kgg_course *c, const char *title_prefix)
{
    size_t n = 0;
    for (size_t i = 0; i < c->nconcepts; i++)
        n += strncmp(c->concepts[i].title, title_prefix, strlen(title_prefix)) == 0;
    return n;
}

#define SKIP_WITHOUT_SHARED() do { if (!tu_shared_dir()) { \
    fprintf(stderr, "test_corpora: ../shared absent (set KGPATH_SHARED); skipped\n"); return; } } while (0)

START_TEST(every_package_imports)
{
    SKIP_WITHOUT_SHARED();
    static const char *const kinds[] = { "olx", "scorm", "imscc", "moodle", NULL };
    size_t total = 0, failed = 0;
    for (int k = 0; kinds[k]; k++) {
        char *dir = corpus(kinds[k]);
        kgi_result r;
        kgi_options opt = { .validate_schema = 1 };
        kgi_import_path(dir, &opt, &r);
        ck_assert_msg(r.ncourses > 0, "%s: nothing imported (%s)", kinds[k], r.error);
        for (size_t i = 0; i < r.ncourses; i++) {
            total++;
            const kgg_course *c = r.courses[i];
            ck_assert_ptr_nonnull(c->id);
            if (kgg_course_nerrors(c)) {
                failed++;
                /* Only the deliberate negative cases may fail. */
                ck_assert_msg(strstr(c->source, "synthetic") != NULL, "%s: unexpected errors", c->source);
            } else {
                ck_assert_msg(c->nconcepts > 0, "%s: no concepts", c->source);
            }
            for (size_t j = 0; j < c->nconcepts; j++)
                for (const char *p = c->concepts[j].id; *p; p++)
                    ck_assert_msg(strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-", *p),
                                  "unsafe id %s", c->concepts[j].id);
        }
        kgi_result_free(&r);
        free(dir);
    }
    ck_assert_uint_ge(total, 30);
    ck_assert_uint_eq(failed, 2);
}
END_TEST

START_TEST(olx_demo_course)
{
    SKIP_WITHOUT_SHARED();
    kgi_result r;
    kgg_course *c = load("olx/openedx-demo-course", 0, &r, 1);
    ck_assert_str_eq(c->format, "olx");
    ck_assert_str_eq(c->id, "OpenedX.DemoX");
    ck_assert_str_eq(c->title, "Open edX Demo Course");
    ck_assert_uint_eq(c->nunits, 6);                   /* chapters */
    ck_assert_uint_eq(c->nconcepts, 6 + 17);           /* chapters + sequentials */
    ck_assert_str_eq(concept(c, "30b3fbb840024953b2d4b2e700a53002")->title,
                     "Module 1: Dive into the Open edX\xC2\xAE platform!");
    ck_assert_uint_eq(count_prefix(c, "Module "), 5);
    ck_assert(requires(c, "30b3fbb840024953b2d4b2e700a53002", "4e1de5e13fc3422997fe246b40a43aa1"));
    const kgg_concept *v = concept(c, "0ce96364b5b144db9a94c969fba59f09");
    ck_assert_str_eq(v->title, "Videos");
    ck_assert_ptr_nonnull(v->description);                 /* transcripts */
    ck_assert_uint_gt(strlen(v->description), 10000);
    ck_assert_uint_eq(concept(c, "f5c59ce5928f42f4af485e187a93963e")->nrecommends, 1);
    kgi_result_free(&r);
}
END_TEST

START_TEST(olx_supported_components)
{
    SKIP_WITHOUT_SHARED();
    kgi_result r;
    kgg_course *c = load("olx/edx-supported-components", 0, &r, 1);
    ck_assert_str_eq(c->id, "edX.TC102");
    ck_assert_uint_eq(c->nunits, 6);
    ck_assert_uint_eq(c->nconcepts, 13);
    ck_assert_ptr_nonnull(diag(c, KGG_WARNING, "6 unpublished draft block"));
    /* about/effort.html "03:00" spread over the 7 sequentials */
    ck_assert_double_eq_tol(concept(c, "03f75b658510406f891d8755e2d655ab")->minutes, 180.0 / 7, 1e-9);
    size_t plain = strlen(concept(c, "2519e471ed3040ebbc72f01b8dd5a23e")->description);
    kgi_result_free(&r);
    c = load("olx/edx-supported-components", 1, &r, 1);
    ck_assert_uint_gt(strlen(concept(c, "2519e471ed3040ebbc72f01b8dd5a23e")->description), plain);
    kgi_result_free(&r);
    c = load("olx/edx-platform-conditional-fixture", 0, &r, 1);
    ck_assert_str_eq(c->id, "edX.cond_test");
    ck_assert_ptr_nonnull(diag(c, KGG_WARNING, "html/secret_page.xml"));
    ck_assert_ptr_nonnull(diag(c, KGG_WARNING, "problem/choiceprob.xml"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(scorm12_adl)
{
    SKIP_WITHOUT_SHARED();
    kgi_result r;
    kgg_course *c = load("scorm/scorm12-adl-scorm-compliant-course", 0, &r, 1);
    ck_assert_str_eq(c->format, "scorm12");
    ck_assert_str_eq(c->title, "Maritime Navigation");
    ck_assert_uint_eq(c->nconcepts, 9);
    ck_assert(requires(c, "S100002", "B110"));            /* aggregation prerequisite */
    ck_assert(requires(c, "B110", "S110001") && requires(c, "B110", "S110003"));
    ck_assert(requires(c, "S110001", "S100001"));
    ck_assert(requires(c, "S100004", "S100003"));
    ck_assert_double_eq(concept(c, "S110001")->minutes, 30);   /* 0000:30:00.00 */
    ck_assert_double_eq(concept(c, "S100004")->minutes, 60);
    ck_assert_str_eq(concept(c, "B110")->title, "Steering & Sailing Rules");
    ck_assert_uint_eq(c->ndiags, 0);
    kgi_result_free(&r);
    c = load("scorm/scorm12-adl-LMSTestCourse01", 0, &r, 1);
    ck_assert_uint_eq(c->nconcepts, 10);
    ck_assert(requires(c, "I_SCO2", "I_SCO1"));
    ck_assert_double_eq(concept(c, "I_SCO2")->minutes, 2);     /* LOM of "sco%2002.xml" */
    ck_assert_ptr_nonnull(diag(c, KGG_WARNING, "sco 02.htm"));
    kgi_result_free(&r);
    c = load("scorm/scorm12-adl-LMSTestCourse02-orig", 0, &r, 1);   /* backslash location */
    ck_assert_double_eq(concept(c, "C2_LESSON1")->minutes, 60);
    ck_assert(requires(c, "I_SCO3", "I_SCO2"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(scorm12_negative)
{
    SKIP_WITHOUT_SHARED();
    kgi_result r;
    kgg_course *c = load("scorm/scorm12-synthetic-PrerequisitesTest", 0, &r, 0);
    const kgg_diag *d = diag(c, KGG_ERROR, "\"module1 AND module2\"");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_gt(d->line, 0);
    ck_assert(requires(c, "module2", "module1"));
    kgi_result_free(&r);
    c = load("scorm/scorm12-synthetic-MalformedXml", 0, &r, 0);
    ck_assert_uint_eq(kgg_course_nerrors(c), 1);
    ck_assert_uint_gt(c->diags[0].line, 0);
    ck_assert_ptr_nonnull(strstr(c->diags[0].file, "imsmanifest.xml"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(scorm2004_golf)
{
    SKIP_WITHOUT_SHARED();
    static const char *const pk[] = { "scorm/scorm2004-rustici-golf/SequencingForcedSequential_SCORM20043rdEdition",
                                      "scorm/scorm2004-rustici-golf/SequencingPostTestRollup4thEd_SCORM20044thEdition" };
    for (int i = 0; i < 2; i++) {
        kgi_result r;
        kgg_course *c = load(pk[i], 0, &r, 1);
        ck_assert_str_eq(c->format, "scorm2004");
        ck_assert(requires(c, "etuqiette_item", "playing_item"));
        ck_assert(requires(c, "handicapping_item", "etuqiette_item"));
        ck_assert(requires(c, "havingfun_item", "handicapping_item"));
        ck_assert_uint_eq(concept(c, "playing_item")->ngroups, 0);
        if (i == 0) {
            ck_assert(requires(c, "assessment_item", "havingfun_item"));
            ck_assert_uint_eq(concept(c, "assessment_item")->ngroups, 1);
        } else {
            /* the 4th-edition quiz is only hidden from choice until the
             * previous SCO is completed or the quiz is launched (the
             * package says so: "instead of disabling the quiz, we hide
             * it"): a recommendation, not a lock */
            const kgg_concept *q = concept(c, "assessment_item");
            ck_assert_uint_eq(q->ngroups, 0);
            ck_assert_uint_eq(q->nrecommends, 1);
            ck_assert_str_eq(q->recommends[0].target, "havingfun_item");
        }
        kgi_result_free(&r);
    }
    kgi_result r;
    kgg_course *c = load("scorm/scorm2004-adl-cts4/invalid-CM-01-broken-default-org", 0, &r, 1);
    ck_assert_ptr_nonnull(diag(c, KGG_WARNING, "NONEXISTENT_ORG"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(imscc_canvas)
{
    SKIP_WITHOUT_SHARED();
    kgi_result r;
    kgg_course *c = load("imscc/test_01", 0, &r, 1);
    ck_assert_str_eq(c->format, "imscc");
    ck_assert_str_eq(c->title, "Loaded Course");
    /* Canvas: "Example, Locked Module" and its item wait for the completion
     * requirements of "Example Course Module" (must_submit, min_score, …). */
    ck_assert(requires(c, "ibbc4f845ea3211abdd01b7d296a1e835", "i9bc94d48f761a24694784d951a7a81e1"));
    ck_assert(requires(c, "i4f02cfa50a522e5ad5a691d1e902b2f6", "i9bc94d48f761a24694784d951a7a81e1"));
    ck_assert(requires(c, "i4f02cfa50a522e5ad5a691d1e902b2f6", "ic8a6338897d38f64caf28ec7d6e2a856"));
    ck_assert(!requires(c, "i4f02cfa50a522e5ad5a691d1e902b2f6", "i1c648c9044a098ef05a1f7cb52cee0c9"));
    /* sequential progress: the quiz opens after the assignment is submitted */
    ck_assert(requires(c, "ic8a6338897d38f64caf28ec7d6e2a856", "i9bc94d48f761a24694784d951a7a81e1"));
    /* the text header is not a concept; its text goes to the next item */
    ck_assert_int_lt(kgg_course_find(c, "id36adec76bc5c20bcd418292e956c889"), 0);
    ck_assert(concept(c, "i1d9b23e412c6e790ef3846b012560642")->description &&
              strstr(concept(c, "i1d9b23e412c6e790ef3846b012560642")->description, "Text Header Example"));
    ck_assert_uint_eq(concept(c, "i224aa0e52b019dbf9aeece014df883c7")->ngoals, 1);
    ck_assert_ptr_nonnull(strstr(concept(c, "i224aa0e52b019dbf9aeece014df883c7")->goals[0], "Example Outcome"));
    kgi_result_free(&r);
    c = load("imscc/py4e_export", 0, &r, 1);
    ck_assert_uint_eq(c->nconcepts, 206);                 /* 207 items less the root wrapper */
    ck_assert_str_eq(concept(c, "T_000001")->title, "Installing Python");
    kgi_result_free(&r);
    c = load("imscc/ThinCC_SU21_IM-UH_1011_AD_001_202242408", 0, &r, 1);   /* BOM + CRLF */
    ck_assert_str_eq(c->title, "Communications Lab, Section 001");
    kgi_result_free(&r);
    c = load("imscc/offline_content_module_live80.v1321", 0, &r, 1);       /* CC 1.0 namespace */
    ck_assert_uint_eq(c->nconcepts, 32);
    kgi_result_free(&r);
}
END_TEST

START_TEST(moodle_backups)
{
    SKIP_WITHOUT_SHARED();
    kgi_result r;
    kgg_course *c = load("moodle/moodle45-innodems-real_numbers", 0, &r, 1);
    ck_assert_str_eq(c->format, "moodle");
    ck_assert_str_eq(c->id, "Real_Numbers");
    static const char *const cms[] = { "forum-22512", "forum-22525", "forum-22526", "forum-22527",
                                       "forum-22528", "forum-22530" };
    const kgg_concept *cert = concept(c, "customcert-22514");
    ck_assert_uint_eq(cert->ngroups, 6);
    for (int i = 0; i < 6; i++) ck_assert(requires(c, "customcert-22514", cms[i]));
    ck_assert_ptr_nonnull(strstr(concept(c, "section-6907")->title, "Classifying whole numbers"));
    kgi_result_free(&r);
    c = load("moodle/moodle39-lincs-oer-open-classroom", 0, &r, 1);
    ck_assert_uint_eq(concept(c, "certificate-9525")->ngroups, 6);
    kgi_result_free(&r);
    c = load("moodle/moodle26-lincs-principles-learning-id", 0, &r, 1);   /* legacy rows */
    ck_assert(requires(c, "certificate-5021", "resource-5016"));
    ck_assert(requires(c, "certificate-5021", "quiz-5032"));              /* grade item 1487 */
    ck_assert(requires(c, "certificate-5021", "book-5019"));
    kgi_result_free(&r);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("corpora");
    TCase *t = tcase_create("corpora");
    tcase_set_timeout(t, 300);
    tcase_add_test(t, every_package_imports);
    tcase_add_test(t, olx_demo_course);
    tcase_add_test(t, olx_supported_components);
    tcase_add_test(t, scorm12_adl);
    tcase_add_test(t, scorm12_negative);
    tcase_add_test(t, scorm2004_golf);
    tcase_add_test(t, imscc_canvas);
    tcase_add_test(t, moodle_backups);
    suite_add_tcase(s, t);
    return s;
}
