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
    /* a module is done when its items are: no study time of its own */
    ck_assert_double_eq(concept(c, "m_week2")->minutes, 0);
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

/* ---- Moodle ---------------------------------------------------------------- */

static void moodle_act(const char *dir, const char *mod, int id, int section, int completion,
                       const char *avail, const char *body)
{
    char rel[256], text[2048];
    snprintf(rel, sizeof rel, "mb/activities/%s/module.xml", dir);
    snprintf(text, sizeof text,
             "<?xml version='1.0' encoding='UTF-8'?>\n<module id='%d' version='1'><modulename>%s</modulename>"
             "<sectionid>%d</sectionid><completion>%d</completion><availability>%s</availability></module>\n",
             id, mod, section, completion, avail ? avail : "$@NULL@$");
    put(rel, text);
    snprintf(rel, sizeof rel, "mb/activities/%s/%s.xml", dir, mod);
    snprintf(text, sizeof text, "<?xml version='1.0' encoding='UTF-8'?>\n<activity id='%d'><%s><intro>%s</intro></%s></activity>\n",
             id, mod, body, mod);
    put(rel, text);
}

static void write_moodle(void)
{
    put("mb/moodle_backup.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n<moodle_backup><information>\n"
        "<original_course_fullname>Gated Moodle</original_course_fullname>\n"
        "<original_course_shortname>gate-moodle</original_course_shortname>\n"
        "<contents><activities>\n"
        "<activity><moduleid>10</moduleid><sectionid>1</sectionid><modulename>page</modulename><title>Welcome page</title><directory>activities/page_10</directory></activity>\n"
        "<activity><moduleid>11</moduleid><sectionid>1</sectionid><modulename>quiz</modulename><title>Entry quiz</title><directory>activities/quiz_11</directory></activity>\n"
        "<activity><moduleid>12</moduleid><sectionid>1</sectionid><modulename>label</modulename><title>Bring a calculator</title><directory>activities/label_12</directory></activity>\n"
        "<activity><moduleid>20</moduleid><sectionid>2</sectionid><modulename>label</modulename><title>Read this first</title><directory>activities/label_20</directory></activity>\n"
        "<activity><moduleid>21</moduleid><sectionid>2</sectionid><modulename>page</modulename><title>Lesson two</title><directory>activities/page_21</directory></activity>\n"
        "<activity><moduleid>22</moduleid><sectionid>2</sectionid><modulename>assign</modulename><title>Assignment two</title><directory>activities/assign_22</directory></activity>\n"
        "<activity><moduleid>23</moduleid><sectionid>2</sectionid><modulename>url</modulename><title>Further link</title><directory>activities/url_23</directory></activity>\n"
        "</activities><sections>\n"
        "<section><sectionid>1</sectionid><title>0</title><directory>sections/section_1</directory></section>\n"
        "<section><sectionid>2</sectionid><title>1</title><directory>sections/section_2</directory></section>\n"
        "</sections></contents></information></moodle_backup>\n");
    put("mb/sections/section_1/section.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n<section id='1'><number>0</number><name>Start</name><summary></summary></section>\n");
    /* Section restriction: the entry quiz complete; it ANDs onto every
     * activity of the section. */
    put("mb/sections/section_2/section.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n<section id='2'><number>1</number><name>Week two</name><summary></summary>"
        "<availabilityjson>{\"op\":\"&amp;\",\"c\":[{\"type\":\"completion\",\"cm\":11,\"e\":1}],\"showc\":[true]}</availabilityjson></section>\n");
    moodle_act("page_10", "page", 10, 1, 1, NULL, "Welcome text");
    moodle_act("quiz_11", "quiz", 11, 1, 2, NULL, "Entry quiz text");
    put("mb/activities/quiz_11/grades.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n<activity_gradebook><grade_items><grade_item id='500'>"
        "<itemtype>mod</itemtype><itemmodule>quiz</itemmodule><iteminstance>3</iteminstance></grade_item></grade_items></activity_gradebook>\n");
    moodle_act("label_12", "label", 12, 1, 0, NULL, "&lt;p&gt;Bring a calculator to every class&lt;/p&gt;");
    moodle_act("label_20", "label", 20, 2, 0, NULL, "&lt;p&gt;Read this first: chapter two&lt;/p&gt;");
    moodle_act("page_21", "page", 21, 2, 1, NULL, "Lesson two text");
    /* cm -1: the nearest earlier activity with completion tracking (page 21). */
    moodle_act("assign_22", "assign", 22, 2, 0,
               "{\"op\":\"&amp;\",\"c\":[{\"type\":\"completion\",\"cm\":-1,\"e\":1}],\"showc\":[true]}", "Hand in");
    /* grade condition on grade item 500 (the quiz's), not a cm id */
    moodle_act("url_23", "url", 23, 2, 0,
               "{\"op\":\"&amp;\",\"c\":[{\"type\":\"grade\",\"id\":500,\"min\":50}],\"showc\":[true]}", "A link");
}

START_TEST(moodle_gating)
{
    write_moodle();
    kgi_result r;
    kgg_course *c = import_dir("mb", &r);
    ck_assert_int_lt(kgg_course_find(c, "label-12"), 0);         /* labels are not concepts */
    ck_assert_int_lt(kgg_course_find(c, "label-20"), 0);
    ck_assert_ptr_nonnull(strstr(concept(c, "page-21")->description, "Read this first"));
    ck_assert_ptr_nonnull(strstr(concept(c, "section-1")->description, "Bring a calculator"));
    /* the section restriction on every activity of the section */
    const char *sec2[] = { "page-21", "assign-22", "url-23" };
    for (int i = 0; i < 3; i++) ck_assert_msg(requires(c, sec2[i], "quiz-11"), "%s", sec2[i]);
    ck_assert(requires(c, "assign-22", "page-21"));              /* cm -1 */
    ck_assert(!requires(c, "page-21", "page-10") && !requires(c, "url-23", "page-21"));
    ck_assert(requires(c, "section-2", "assign-22") && !requires(c, "section-2", "label-20"));
    ck_assert_double_eq(concept(c, "section-2")->minutes, 0);
    kgi_result_free(&r);
    ck_assert_int_eq(kg(NULL, "import mb"), 0);
    char *j = plan_json("--goal gate-moodle:assign-22");
    ck_assert(has_step(j, "gate-moodle:quiz-11") && has_step(j, "gate-moodle:page-21"));
    ck_assert(!has_step(j, "gate-moodle:page-10") && strstr(j, "label") == NULL);
    ck_assert_int_lt(step_pos(j, "gate-moodle:page-21"), step_pos(j, "gate-moodle:assign-22"));
    free(j);
}
END_TEST

/* ---- Open edX ---------------------------------------------------------------- */

static void write_olx(const char *gating)
{
    char x[4096];
    snprintf(x, sizeof x,
        "<course org='o' course='gate' display_name='Gated' enable_subsection_gating='%s'\n"
        "        entrance_exam_enabled='true' entrance_exam_minimum_score_pct='0.65'\n"
        "        entrance_exam_id='block-v1:o+gate+run+type@chapter+block@exam'>\n"
        " <chapter url_name='exam' display_name='Entrance exam' is_entrance_exam='true'>\n"
        "  <sequential url_name='exam_s' display_name='Exam questions'>\n"
        "   <vertical display_name='Q'><problem display_name='Q1'><p>Two plus two?</p></problem></vertical>\n"
        "  </sequential>\n"
        " </chapter>\n"
        " <chapter url_name='ch1' display_name='Basics'>\n"
        "  <sequential url_name='s1' display_name='Intro'>\n"
        "   <vertical display_name='V1'>\n"
        "    <done url_name='d1' xblock-family='xblock.v1'/>\n"
        "    <edx_sga url_name='sga1' display_name='Staff graded'/>\n"
        "    <html display_name='Notes'>Some notes.</html>\n"
        "   </vertical>\n"
        "  </sequential>\n"
        "  <sequential url_name='s2' display_name='Gated subsection'>\n"
        "   <prerequisite url_name='s1' min_score='80' min_completion='100'/>\n"
        "   <vertical display_name='V2'><html>More.</html></vertical>\n"
        "  </sequential>\n"
        " </chapter>\n"
        "</course>\n", gating);
    put("olx/course.xml", x);
}

START_TEST(olx_gating)
{
    write_olx("true");
    kgi_result r;
    kgg_course *c = import_dir("olx", &r);
    ck_assert(!has_diag(c, "missing"));                            /* inline XBlocks have no file */
    ck_assert(requires(c, "s2", "s1"));
    const kgg_concept *k = concept(c, "s2");
    int found = 0;
    for (size_t g = 0; g < k->ngroups; g++)
        if (k->groups[g].members[0].reason && strstr(k->groups[g].members[0].reason, "min score 80")) found = 1;
    ck_assert(found);
    /* entrance exam: the rest of the course waits for it */
    ck_assert(requires(c, "s1", "exam") && requires(c, "ch1", "exam") && requires(c, "s2", "exam"));
    ck_assert(!requires(c, "exam_s", "exam"));
    ck_assert_double_eq(concept(c, "ch1")->minutes, 0);
    kgi_result_free(&r);
    ck_assert_int_eq(kg(NULL, "import olx"), 0);
    char *j = plan_json("--goal o.gate:s2");
    ck_assert(has_step(j, "o.gate:exam_s") && has_step(j, "o.gate:s1"));
    ck_assert_int_lt(step_pos(j, "o.gate:exam_s"), step_pos(j, "o.gate:s1"));
    free(j);
    /* gating switched off in the course: the link is reported, not applied */
    write_olx("false");
    c = import_dir("olx", &r);
    ck_assert(!requires(c, "s2", "s1") && has_diag(c, "enable_subsection_gating"));
    kgi_result_free(&r);
}
END_TEST

/* ---- SCORM 2004 --------------------------------------------------------------- */

#define RULE(comb, action, conds) \
    "<imsss:sequencingRules><imsss:preConditionRule><imsss:ruleConditions conditionCombination='" comb "'>" \
    conds "</imsss:ruleConditions><imsss:ruleAction action='" action "'/></imsss:preConditionRule></imsss:sequencingRules>"
#define COND(obj, cond) "<imsss:ruleCondition referencedObjective='" obj "' operator='not' condition='" cond "'/>"
#define WRITES(g) "<imsss:primaryObjective objectiveID='p-" g "'><imsss:mapInfo targetObjectiveID='" g \
    "' writeSatisfiedStatus='true'/></imsss:primaryObjective>"
#define READS(local, g) "<imsss:objective objectiveID='" local "'><imsss:mapInfo targetObjectiveID='" g \
    "' readSatisfiedStatus='true'/></imsss:objective>"

static void write_scorm(void)
{
    put("sc/imsmanifest.xml",
        "<?xml version='1.0' encoding='UTF-8'?>\n"
        "<manifest identifier='gate-scorm' xmlns='http://www.imsglobal.org/xsd/imscp_v1p1'\n"
        "  xmlns:adlcp='http://www.adlnet.org/xsd/adlcp_v1p3' xmlns:imsss='http://www.imsglobal.org/xsd/imsss'>\n"
        " <metadata><schema>ADL SCORM</schema><schemaversion>2004 4th Edition</schemaversion></metadata>\n"
        " <organizations default='o'><organization identifier='o'><title>Sequenced</title>\n"
        "  <item identifier='A' identifierref='r'><title>A</title><imsss:sequencing><imsss:objectives>"
        WRITES("gA") "</imsss:objectives></imsss:sequencing></item>\n"
        "  <item identifier='B' identifierref='r'><title>B</title><imsss:sequencing>"
        /* the golf "forced sequential" rule: disabled until A is satisfied */
        RULE("any", "disabled", COND("needA", "satisfied") COND("needA", "objectiveStatusKnown"))
        "<imsss:objectives>" WRITES("gB") READS("needA", "gA") "</imsss:objectives></imsss:sequencing></item>\n"
        "  <item identifier='C' identifierref='r'><title>C</title><imsss:sequencing>"
        /* 'not satisfied' alone: unknown while A was never attempted, so it never fires then */
        RULE("any", "disabled", COND("needA", "satisfied"))
        "<imsss:objectives>" READS("needA", "gA") "</imsss:objectives></imsss:sequencing></item>\n"
        "  <item identifier='D' identifierref='r'><title>D</title><imsss:sequencing>"
        /* skip only skips in flow */
        RULE("any", "skip", COND("needA", "objectiveStatusKnown"))
        "<imsss:objectives>" READS("needA", "gA") "</imsss:objectives></imsss:sequencing></item>\n"
        "  <item identifier='E' identifierref='r'><title>E</title><imsss:sequencing>"
        /* all: disabled while both are unknown; either one unlocks it */
        RULE("all", "disabled", COND("needA", "objectiveStatusKnown") COND("needB", "objectiveStatusKnown"))
        "<imsss:objectives>" READS("needA", "gA") READS("needB", "gB") "</imsss:objectives></imsss:sequencing></item>\n"
        " </organization></organizations>\n"
        " <resources><resource identifier='r' type='webcontent' adlcp:scormType='sco' href='sco.html'>"
        "<file href='sco.html'/></resource></resources>\n"
        "</manifest>\n");
    put("sc/sco.html", "<html><body>SCO</body></html>");
}

START_TEST(scorm2004_gating)
{
    write_scorm();
    kgi_result r;
    kgg_course *c = import_dir("sc", &r);
    ck_assert_str_eq(c->format, "scorm2004");
    ck_assert(requires(c, "B", "A"));
    ck_assert(!requires(c, "C", "A") && recommends(c, "C", "A"));
    ck_assert(!requires(c, "D", "A") && recommends(c, "D", "A"));
    ck_assert(in_group(c, "E", "A", 1, 2) && in_group(c, "E", "B", 1, 2));
    kgi_result_free(&r);
    ck_assert_int_eq(kg(NULL, "import sc"), 0);
    char *j = plan_json("--goal gate-scorm:B");
    ck_assert(has_step(j, "gate-scorm:A"));
    free(j);
    j = plan_json("--goal gate-scorm:C");
    ck_assert(!has_step(j, "gate-scorm:A"));
    free(j);
}
END_TEST

/* ---- authored order ---------------------------------------------------------- */

static void write_csv(void)
{
    /* d really needs b; the rest is only authored order. */
    put("lin.csv", "id,title,minutes,prerequisites\na,Alpha,10,\nb,Beta,10,\nc,Gamma,10,\nd,Delta,10,b\ne,Epsilon,10,\n");
    put("rec.csv", "id,title,minutes,recommended\nr1,One,5,\nr2,Two,5,r1\nr3,Three,5,r2\nr4,Four,5,r3\n");
}

START_TEST(follow_course_order)
{
    write_csv();
    ck_assert_int_eq(kg(NULL, "import lin.csv rec.csv"), 0);
    char *j = plan_json("--goal lin:e");
    ck_assert(!has_step(j, "lin:a") && has_step(j, "lin:e"));
    free(j);
    j = plan_json("--goal lin:e --follow-course-order");
    const char *order[] = { "lin:a", "lin:b", "lin:c", "lin:d", "lin:e" };
    for (int i = 0; i < 5; i++) ck_assert_msg(has_step(j, order[i]), "%s", order[i]);
    for (int i = 0; i < 4; i++) ck_assert_int_lt(step_pos(j, order[i]), step_pos(j, order[i + 1]));
    ck_assert_ptr_nonnull(strstr(j, "only because of authored course order"));
    free(j);
    /* b is a real prerequisite of d: not "only because of order"; a and c are */
    j = plan_json("--goal lin:d --follow-course-order");
    const char *sb = strstr(j, "\"concept\":\"lin:b\""), *sa = strstr(j, "\"concept\":\"lin:a\"");
    if (!sb) sb = strstr(j, "\"concept\": \"lin:b\"");
    if (!sa) sa = strstr(j, "\"concept\": \"lin:a\"");
    ck_assert_ptr_nonnull(sb);
    ck_assert_ptr_nonnull(sa);
    const char *ob = strstr(sb, "\"course_order\":"), *oa = strstr(sa, "\"course_order\":");
    ck_assert(ob && strncmp(ob, "\"course_order\":false", 20) == 0);
    ck_assert(oa && strncmp(oa, "\"course_order\":true", 19) == 0);
    free(j);
    /* known concepts stop the walk */
    j = plan_json("--goal lin:e --follow-course-order --known lin:b");
    ck_assert(!has_step(j, "lin:a") && !has_step(j, "lin:b"));
    ck_assert(has_step(j, "lin:c") && has_step(j, "lin:d") && has_step(j, "lin:e"));
    free(j);
    /* next: only the first concept of each course is ready */
    char *out = NULL;
    ck_assert_int_eq(kg(&out, "next --json --follow-course-order --goal lin:e"), 0);
    ck_assert(has_step(out, "lin:a") && !has_step(out, "lin:e") && !has_step(out, "lin:b"));
    free(out);
    /* batch records */
    put("learners.jsonl", "{\"learner\":\"x\",\"goals\":[\"lin:e\"],\"follow_course_order\":true}\n"
                          "{\"learner\":\"y\",\"goals\":[\"lin:e\"]}\n");
    ck_assert_int_eq(kg(NULL, "batch --learners learners.jsonl --out plans.jsonl"), 0);
    char *pp = tu_path(dir, "plans.jsonl");
    char *plans = tu_read(pp, NULL);
    ck_assert_ptr_nonnull(plans);
    char *nl = strchr(plans, '\n');
    ck_assert_ptr_nonnull(nl);
    *nl = 0;
    ck_assert(strstr(plans, "\"lin:a\"") && !strstr(nl + 1, "\"lin:a\""));
    free(plans); free(pp);
    /* --include-recommended follows recommendations transitively */
    j = plan_json("--goal rec:r4 --include-recommended");
    ck_assert(has_step(j, "rec:r1") && has_step(j, "rec:r2") && has_step(j, "rec:r3"));
    free(j);
}
END_TEST

/* import --course-order required: stored per course, shown, and followed by
 * every plan without the option; a bad value writes nothing. */
START_TEST(course_order_default)
{
    write_csv();
    ck_assert_int_eq(kg(NULL, "import lin.csv rec.csv"), 0);
    char *before = tu_path(dir, "before.db");
    tu_copy(db, before);
    ck_assert_int_eq(kg(NULL, "import --course-order sometimes lin.csv"), 1);
    ck_assert_int_eq(tu_file_cmp(before, db), 0);
    ck_assert_int_eq(kg(NULL, "import --course-order required lin.csv"), 0);
    char *out = NULL;
    ck_assert_int_eq(kg(&out, "stats"), 0);
    ck_assert_ptr_nonnull(strstr(out, "(authored order required)"));
    free(out);
    ck_assert_int_eq(kg(&out, "show lin:e"), 0);
    ck_assert_ptr_nonnull(strstr(out, "authored order required"));
    free(out);
    ck_assert_int_eq(kg(&out, "stats --json"), 0);
    ck_assert_ptr_nonnull(strstr(out, "\"course_order\": \"required\""));
    ck_assert_ptr_nonnull(strstr(out, "\"course_order\": \"recommended\""));   /* rec.csv */
    free(out);
    char *j = plan_json("--goal lin:e");
    ck_assert(has_step(j, "lin:a") && has_step(j, "lin:d"));
    free(j);
    /* the same import again changes nothing */
    tu_copy(db, before);
    ck_assert_int_eq(kg(NULL, "import --course-order required lin.csv"), 0);
    ck_assert_int_eq(tu_file_cmp(before, db), 0);
    /* back to recommended */
    ck_assert_int_eq(kg(NULL, "import --course-order recommended lin.csv"), 0);
    j = plan_json("--goal lin:e");
    ck_assert(!has_step(j, "lin:a"));
    free(j);
    ck_assert_int_eq(kg(&out, "stats"), 0);
    ck_assert_ptr_null(strstr(out, "authored order required"));
    free(out);
    free(before);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("gating");
    TCase *t = tcase_create("canvas");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_add_test(t, canvas_gating_graph);
    tcase_add_test(t, canvas_gating_plan);
    tcase_add_test(t, moodle_gating);
    tcase_add_test(t, olx_gating);
    tcase_add_test(t, scorm2004_gating);
    tcase_add_test(t, follow_course_order);
    tcase_add_test(t, course_order_default);
    suite_add_tcase(s, t);
    return s;
}
