/* LMS gating as each platform applies it, non-study items, and authored
 * order (issue 12). Every test writes a small export built from the
 * format's own documented semantics (../shared/notes/round2.md §3 cites the
 * platform sources), imports it, and asserts the graph and, through the
 * kgpath binary, that a plan for a gated item includes what the platform
 * requires first. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "importers/importers.h"
#include "tests/testutil.h"

static char *dir, *db;
static const char *bin;

static void setup(void)
{
    bin = getenv("KGPATH_BIN");
    ck_assert_msg(bin != NULL, "KGPATH_BIN not set");
    dir = tu_mkdtemp();
    db = tu_path(dir, "k.db");
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(db);
}

/* Writes dir/rel (making its folders). */
static void put(const char *rel, const char *text)
{
    char *p = tu_path(dir, rel);
    for (char *s = p + strlen(dir) + 1; *s; s++)
        if (*s == '/') { *s = 0; mkdir(p, 0755); *s = '/'; }
    tu_write(p, text, (size_t)-1);
    free(p);
}

/* Runs `kgpath --db DB ARGS` in dir; exit code; stdout in *out (or NULL). */
static int kg(char **out, const char *args)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "cd '%s' && '%s' --db '%s' %s 2>'%s/stderr'", dir, bin, db, args, dir);
    return tu_run(cmd, out);
}

static kgg_course *import_dir(const char *sub, kgi_result *r)
{
    char *p = tu_path(dir, sub);
    kgi_options opt = { .validate_schema = 1 };
    int rc = kgi_import_path(p, &opt, r);
    for (size_t i = 0; rc != 0 && i < r->ncourses; i++)
        for (size_t d = 0; d < r->courses[i]->ndiags; d++)
            fprintf(stderr, "  %s:%u: %s\n", r->courses[i]->diags[d].file ? r->courses[i]->diags[d].file : "-",
                    r->courses[i]->diags[d].line, r->courses[i]->diags[d].message);
    ck_assert_msg(rc == 0, "import of %s failed: %s", sub, r->error);
    ck_assert_uint_eq(r->ncourses, 1);
    free(p);
    return r->courses[0];
}

static const kgg_concept *concept(const kgg_course *c, const char *id)
{
    long i = kgg_course_find(c, id);
    ck_assert_msg(i >= 0, "no concept %s", id);
    return &c->concepts[i];
}

/* Some group of concept id has target as a member (k = kk of n members). */
static int in_group(const kgg_course *c, const char *id, const char *target, uint32_t kk, size_t n)
{
    const kgg_concept *k = concept(c, id);
    for (size_t g = 0; g < k->ngroups; g++)
        for (size_t m = 0; m < k->groups[g].nmembers; m++)
            if (strcmp(k->groups[g].members[m].target, target) == 0 && k->groups[g].k == kk &&
                k->groups[g].nmembers == n)
                return 1;
    return 0;
}

static int requires(const kgg_course *c, const char *id, const char *target)
{
    return in_group(c, id, target, 1, 1);
}

static int recommends(const kgg_course *c, const char *id, const char *target)
{
    const kgg_concept *k = concept(c, id);
    for (size_t i = 0; i < k->nrecommends; i++) if (strcmp(k->recommends[i].target, target) == 0) return 1;
    return 0;
}

static int has_diag(const kgg_course *c, const char *needle)
{
    for (size_t i = 0; i < c->ndiags; i++) if (strstr(c->diags[i].message, needle)) return 1;
    return 0;
}

/* The plan's JSON for `plan ARGS` (exit 0 asserted). */
static char *plan_json(const char *args)
{
    char a[4096], *out = NULL;
    snprintf(a, sizeof a, "plan --format json %s", args);
    int rc = kg(&out, a);
    if (rc != 0) {
        char *p = tu_path(dir, "stderr");
        char *e = tu_read(p, NULL);
        fprintf(stderr, "plan %s: exit %d: %s\n", args, rc, e ? e : "");
        free(e); free(p);
    }
    ck_assert_int_eq(rc, 0);
    return out;
}

/* The plan JSON has a step for concept key (course:id). */
static int has_step(const char *json, const char *key)
{
    char pat[512];
    snprintf(pat, sizeof pat, "{\"concept\": \"%s\"", key);
    if (strstr(json, pat)) return 1;
    snprintf(pat, sizeof pat, "{\"concept\":\"%s\"", key);
    return strstr(json, pat) != NULL;
}

/* Position of key's step in the JSON (for order), or -1. */
static long step_pos(const char *json, const char *key)
{
    char pat[512];
    snprintf(pat, sizeof pat, "\"concept\": \"%s\"", key);
    const char *s = strstr(json, pat);
    if (!s) { snprintf(pat, sizeof pat, "\"concept\":\"%s\"", key); s = strstr(json, pat); }
    return s ? (long)(s - json) : -1;
}

/* ---- Canvas (IMS CC + course_settings/module_meta.xml) ------------------- */

#define CC_NS "http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1"

static void write_canvas(void)
{
    put("cc/imsmanifest.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<manifest identifier='canvas-gate' xmlns='" CC_NS "'>\n"
        " <metadata><schema>IMS Common Cartridge</schema><schemaversion>1.1.0</schemaversion></metadata>\n"
        " <organizations><organization identifier='org' structure='rooted-hierarchy'>\n"
        "  <item identifier='LearningModules'>\n"
        "   <item identifier='m_welcome'><title>Welcome</title>\n"
        "     <item identifier='syllabus' identifierref='r_syl'><title>Syllabus</title></item>\n"
        "     <item identifier='hdr_read'><title>READ: Assigned chapters</title></item>\n"
        "     <item identifier='intro_quiz' identifierref='r_quiz'><title>Intro quiz</title></item>\n"
        "     <item identifier='optional' identifierref='r_opt'><title>Optional extras</title></item>\n"
        "   </item>\n"
        "   <item identifier='m_week1'><title>Week 1</title>\n"
        "     <item identifier='w1_page' identifierref='r_w1'><title>Week 1 notes</title></item>\n"
        "   </item>\n"
        "   <item identifier='m_week2'><title>Week 2</title>\n"
        "     <item identifier='w2_a' identifierref='r_a'><title>Lecture A</title></item>\n"
        "     <item identifier='hdr_watch'><title>WATCH</title></item>\n"
        "     <item identifier='w2_b' identifierref='r_b'><title>Video B</title></item>\n"
        "     <item identifier='w2_c' identifierref='r_c'><title>Assignment C</title></item>\n"
        "     <item identifier='w2_d' identifierref='r_d'><title>Page D</title></item>\n"
        "   </item>\n"
        "   <item identifier='m_empty'><title>Empty module</title>\n"
        "     <item identifier='hdr_only'><title>COMPLETE</title></item>\n"
        "   </item>\n"
        "  </item>\n"
        " </organization></organizations>\n"
        " <resources>\n"
        "  <resource identifier='r_syl' type='webcontent' href='p/syl.html'><file href='p/syl.html'/></resource>\n"
        "  <resource identifier='r_quiz' type='webcontent' href='p/quiz.html'><file href='p/quiz.html'/></resource>\n"
        "  <resource identifier='r_opt' type='webcontent' href='p/opt.html'><file href='p/opt.html'/></resource>\n"
        "  <resource identifier='r_w1' type='webcontent' href='p/w1.html'><file href='p/w1.html'/></resource>\n"
        "  <resource identifier='r_a' type='webcontent' href='p/a.html'><file href='p/a.html'/></resource>\n"
        "  <resource identifier='r_b' type='webcontent' href='p/b.html'><file href='p/b.html'/></resource>\n"
        "  <resource identifier='r_c' type='webcontent' href='p/c.html'><file href='p/c.html'/></resource>\n"
        "  <resource identifier='r_d' type='webcontent' href='p/d.html'><file href='p/d.html'/></resource>\n"
        " </resources>\n"
        "</manifest>\n");
    const char *pages[] = { "syl", "quiz", "opt", "w1", "a", "b", "c", "d" };
    for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
        char rel[64], body[128];
        snprintf(rel, sizeof rel, "cc/p/%s.html", pages[i]);
        snprintf(body, sizeof body, "<html><body><p>Body of %s.</p></body></html>", pages[i]);
        put(rel, body);
    }
    /* Welcome: two requirements (the optional page has none). Week 1: no
     * requirements, so it completes when it unlocks. Week 2: locked until
     * Week 1 is complete, i.e. until Welcome is; sequential progress. */
    put("cc/course_settings/module_meta.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<modules xmlns='http://canvas.instructure.com/xsd/cccv1p0'>\n"
        " <module identifier='m_welcome'><title>Welcome</title><position>1</position>\n"
        "  <items>\n"
        "   <item identifier='syllabus'><content_type>WikiPage</content_type><title>Syllabus</title><identifierref>r_syl</identifierref></item>\n"
        "   <item identifier='hdr_read'><content_type>ContextModuleSubHeader</content_type><title>READ: Assigned chapters</title></item>\n"
        "   <item identifier='intro_quiz'><content_type>Quizzes::Quiz</content_type><title>Intro quiz</title><identifierref>r_quiz</identifierref></item>\n"
        "   <item identifier='optional'><content_type>WikiPage</content_type><title>Optional extras</title><identifierref>r_opt</identifierref></item>\n"
        "  </items>\n"
        "  <completionRequirements>\n"
        "   <completionRequirement type='must_view'><identifierref>syllabus</identifierref></completionRequirement>\n"
        "   <completionRequirement type='min_score'><min_score>8</min_score><identifierref>intro_quiz</identifierref></completionRequirement>\n"
        "  </completionRequirements>\n"
        " </module>\n"
        " <module identifier='m_week1'><title>Week 1</title><position>2</position>\n"
        "  <prerequisites><prerequisite type='context_module'><title>Welcome</title><identifierref>m_welcome</identifierref></prerequisite></prerequisites>\n"
        "  <items><item identifier='w1_page'><content_type>WikiPage</content_type><title>Week 1 notes</title></item></items>\n"
        " </module>\n"
        " <module identifier='m_week2'><title>Week 2</title><position>3</position>\n"
        "  <require_sequential_progress>true</require_sequential_progress>\n"
        "  <prerequisites><prerequisite type='context_module'><title>Week 1</title><identifierref>m_week1</identifierref></prerequisite>\n"
        "   <prerequisite type='context_module'><title>Later</title><identifierref>m_empty</identifierref></prerequisite></prerequisites>\n"
        "  <items>\n"
        "   <item identifier='w2_a'><content_type>WikiPage</content_type><title>Lecture A</title></item>\n"
        "   <item identifier='hdr_watch'><content_type>ContextModuleSubHeader</content_type><title>WATCH</title></item>\n"
        "   <item identifier='w2_b'><content_type>WikiPage</content_type><title>Video B</title></item>\n"
        "   <item identifier='w2_c'><content_type>Assignment</content_type><title>Assignment C</title></item>\n"
        "   <item identifier='w2_d'><content_type>WikiPage</content_type><title>Page D</title></item>\n"
        "  </items>\n"
        "  <completionRequirements>\n"
        "   <completionRequirement type='must_view'><identifierref>w2_a</identifierref></completionRequirement>\n"
        "   <completionRequirement type='must_submit'><identifierref>w2_c</identifierref></completionRequirement>\n"
        "  </completionRequirements>\n"
        " </module>\n"
        " <module identifier='m_empty'><title>Empty module</title><position>4</position></module>\n"
        "</modules>\n");
}

START_TEST(canvas_gating_graph)
{
    write_canvas();
    kgi_result r;
    kgg_course *c = import_dir("cc", &r);
    /* Week 2's items wait for Welcome's requirements (Week 1 has none, so
     * it stands for its own prerequisite), never for the optional page. */
    const char *w2[] = { "w2_a", "w2_b", "w2_c", "w2_d", "m_week2" };
    for (size_t i = 0; i < 5; i++) {
        ck_assert_msg(requires(c, w2[i], "syllabus"), "%s", w2[i]);
        ck_assert_msg(requires(c, w2[i], "intro_quiz"), "%s", w2[i]);
        ck_assert(!requires(c, w2[i], "optional") && !requires(c, w2[i], "w1_page"));
    }
    ck_assert(requires(c, "w1_page", "syllabus") && requires(c, "w1_page", "intro_quiz"));
    ck_assert(!requires(c, "syllabus", "intro_quiz"));          /* Welcome is not sequential */
    /* Sequential progress: b and c after a (the nearest earlier item with a
     * requirement), d after c; b (no requirement) blocks nothing. */
    ck_assert(requires(c, "w2_b", "w2_a") && requires(c, "w2_c", "w2_a"));
    ck_assert(requires(c, "w2_d", "w2_c") && !requires(c, "w2_d", "w2_b") && !requires(c, "w2_c", "w2_b"));
    /* A prerequisite positioned after the module is dropped, as Canvas does. */
    ck_assert(has_diag(c, "not positioned before"));
    /* Sub-headers and a module holding only one are not concepts; their text
     * goes to the next item. */
    ck_assert_int_lt(kgg_course_find(c, "hdr_read"), 0);
    ck_assert_int_lt(kgg_course_find(c, "hdr_watch"), 0);
    ck_assert_int_lt(kgg_course_find(c, "hdr_only"), 0);
    ck_assert_int_lt(kgg_course_find(c, "m_empty"), 0);
    ck_assert_ptr_nonnull(strstr(concept(c, "w2_b")->description, "WATCH"));
    ck_assert_ptr_nonnull(strstr(concept(c, "intro_quiz")->description, "READ: Assigned chapters"));
    ck_assert(recommends(c, "intro_quiz", "syllabus"));        /* course order skips the heading */
    for (size_t u = 0; u < c->nunits; u++) ck_assert_str_ne(c->units[u].id, "m_empty");
    kgi_result_free(&r);
}
END_TEST

START_TEST(canvas_gating_plan)
{
    write_canvas();
    ck_assert_int_eq(kg(NULL, "import cc"), 0);
    char *j = plan_json("--goal canvas-gate:w2_d");
    ck_assert(has_step(j, "canvas-gate:syllabus") && has_step(j, "canvas-gate:intro_quiz"));
    ck_assert(has_step(j, "canvas-gate:w2_a") && has_step(j, "canvas-gate:w2_c"));
    ck_assert(!has_step(j, "canvas-gate:optional") && !has_step(j, "canvas-gate:w2_b"));
    ck_assert(strstr(j, "WATCH") == NULL);                       /* no step for a heading */
    ck_assert_int_lt(step_pos(j, "canvas-gate:intro_quiz"), step_pos(j, "canvas-gate:w2_a"));
    free(j);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("gating");
    TCase *t = tcase_create("canvas");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, canvas_gating_graph);
    tcase_add_test(t, canvas_gating_plan);
    suite_add_tcase(s, t);
    return s;
}
