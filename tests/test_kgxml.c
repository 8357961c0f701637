/* kgxml importer: the three sample courses (counts, features, sensible
 * prerequisites), every field of the format, and every class of bad input
 * (the fixtures in tests/kgxml/) with its file:line:column, with and without the RELAX
 * NG schema. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "importers/importers.h"
#include "importers/kgxml.h"
#include "importers/xml_safe.h"
#include "tests/testutil.h"

static char *src_path(const char *rel)
{
    return tu_path(tu_source_root(), rel);
}

static kgg_course *parse_buf(const char *buf, size_t len, const char *name, int validate)
{
    kgi_options opt = { .validate_schema = validate };
    kgg_course *c = kgi_kgxml_parse(buf, len, name, &opt);
    ck_assert_ptr_nonnull(c);
    return c;
}

/* Parses a file of the source tree; the diagnostics name its base name. */
static kgg_course *parse_file(const char *rel, int validate)
{
    char *path = src_path(rel);
    size_t len = 0;
    char *buf = tu_read(path, &len);
    ck_assert_msg(buf != NULL, "cannot read %s", path);
    const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
    kgg_course *c = parse_buf(buf, len, base, validate);
    free(buf);
    free(path);
    return c;
}

static void dump_diags(const kgg_course *c)
{
    for (size_t i = 0; i < c->ndiags; i++)
        fprintf(stderr, "  %s:%u:%u: %s%s\n", c->diags[i].file ? c->diags[i].file : "-",
                c->diags[i].line, c->diags[i].column,
                c->diags[i].severity == KGG_ERROR ? "" : "warning: ", c->diags[i].message);
}

static void assert_clean(const kgg_course *c, const char *what)
{
    if (c->ndiags) dump_diags(c);
    ck_assert_msg(c->ndiags == 0, "%s: %zu unexpected diagnostics", what, c->ndiags);
}

/* An error at line:col (col 0 = do not check) whose message has `needle`. */
static void assert_error(const kgg_course *c, const char *file, uint32_t line, uint32_t col,
                         const char *needle)
{
    for (size_t i = 0; i < c->ndiags; i++) {
        const kgg_diag *d = &c->diags[i];
        if (d->severity == KGG_ERROR && d->line == line && (!col || d->column == col) &&
            strstr(d->message, needle) && d->file && strcmp(d->file, file) == 0)
            return;
    }
    dump_diags(c);
    ck_abort_msg("%s: expected an error at %u:%u containing \"%s\"", file, line, col, needle);
}

/* ---- samples ------------------------------------------------------------ */

typedef struct features {
    int any_of_1_of_n, two_of_three, group_reason, edge_reason, edge_without_reason;
    int recommend, recommend_reason, cross_course, paragraphs, goals, tags, units;
    int summary, description, difficulty;
    int kinds[12];
    int resource_minutes, resource_url;
} features;

static const char *const kinds[] = { "book", "reading", "article", "paper", "video", "lecture",
    "exercise", "quiz", "project", "interactive", "software", "other" };

static int is_local(const kgg_course *c, const char *ref, const char **local)
{
    const char *colon = strchr(ref, ':');
    if (!colon) { *local = ref; return 1; }
    size_t n = (size_t)(colon - ref);
    if (strlen(c->id) == n && memcmp(c->id, ref, n) == 0) { *local = colon + 1; return 1; }
    return 0;
}

static void note_ref(features *f, const kgg_ref *r)
{
    if (r->reason) f->edge_reason = 1; else f->edge_without_reason = 1;
    if (strchr(r->target, ':')) f->cross_course = 1;
    ck_assert_uint_gt(r->line, 0);
}

/* DFS colouring over same-course requirement and recommendation edges. */
static int has_cycle_from(const kgg_course *c, size_t i, char *state)
{
    if (state[i] == 1) return 1;
    if (state[i] == 2) return 0;
    state[i] = 1;
    const kgg_concept *k = &c->concepts[i];
    for (size_t g = 0; g < k->ngroups; g++)
        for (size_t m = 0; m < k->groups[g].nmembers; m++) {
            const char *local;
            if (!is_local(c, k->groups[g].members[m].target, &local)) continue;
            if (has_cycle_from(c, (size_t)kgg_course_find(c, local), state)) return 1;
        }
    for (size_t r = 0; r < k->nrecommends; r++) {
        const char *local;
        if (!is_local(c, k->recommends[r].target, &local)) continue;
        if (has_cycle_from(c, (size_t)kgg_course_find(c, local), state)) return 1;
    }
    state[i] = 2;
    return 0;
}

/* Checks one sample and adds the features it uses to f. */
static kgg_course *check_sample(const char *rel, const char *id, const char *lang,
                                size_t min_concepts, size_t nunits, features *f, int validate)
{
    kgg_course *c = parse_file(rel, validate);
    assert_clean(c, rel);
    ck_assert_str_eq(c->id, id);
    ck_assert_str_eq(c->language, lang);
    ck_assert_str_eq(c->format, "kgxml");
    ck_assert_ptr_nonnull(c->title);
    ck_assert_ptr_nonnull(c->version);
    ck_assert_uint_ge(c->nconcepts, min_concepts);
    ck_assert_uint_eq(c->nunits, nunits);
    f->units += c->nunits > 0;
    for (size_t i = 0; i < c->nconcepts; i++) {
        const kgg_concept *k = &c->concepts[i];
        ck_assert_msg(k->minutes >= 10 && k->minutes <= 90, "%s: %s has %g minutes", rel, k->id, k->minutes);
        ck_assert_msg(k->title && k->summary, "%s: %s lacks title or summary", rel, k->id);
        ck_assert_uint_gt(k->line, 0);
        f->summary = 1;
        if (k->description) f->description = 1;
        if (k->description && strstr(k->description, "\n\n")) f->paragraphs = 1;
        if (k->ngoals) f->goals = 1;
        if (k->ntags) f->tags = 1;
        if (k->difficulty >= 0) { f->difficulty = 1; ck_assert(k->difficulty <= 1); }
        if (c->nunits) ck_assert_int_ge(k->unit, 0);
        for (size_t r = 0; r < k->nresources; r++) {
            const kgg_resource *res = &k->resources[r];
            ck_assert_ptr_nonnull(res->title);
            if (res->minutes > 0) f->resource_minutes = 1;
            if (res->url) f->resource_url = 1;
            for (size_t q = 0; q < 12; q++)
                if (res->kind && strcmp(res->kind, kinds[q]) == 0) f->kinds[q] = 1;
        }
        for (size_t g = 0; g < k->ngroups; g++) {
            const kgg_group *grp = &k->groups[g];
            ck_assert(grp->k >= 1 && grp->k <= grp->nmembers);
            if (grp->k == 1 && grp->nmembers > 1) f->any_of_1_of_n = 1;
            if (grp->k == 2 && grp->nmembers == 3) f->two_of_three = 1;
            if (grp->reason) f->group_reason = 1;
            for (size_t m = 0; m < grp->nmembers; m++) {
                const char *local;
                note_ref(f, &grp->members[m]);
                if (is_local(c, grp->members[m].target, &local))
                    ck_assert_msg(kgg_course_find(c, local) >= 0, "%s: dangling %s", rel, local);
            }
        }
        for (size_t r = 0; r < k->nrecommends; r++) {
            note_ref(f, &k->recommends[r]);
            f->recommend = 1;
            if (k->recommends[r].reason) f->recommend_reason = 1;
        }
    }
    char *state = calloc(c->nconcepts, 1);
    for (size_t i = 0; i < c->nconcepts; i++)
        ck_assert_msg(!has_cycle_from(c, i, state), "%s: prerequisite cycle through %s", rel, c->concepts[i].id);
    free(state);
    return c;
}

/* Every cross-course reference of `from` names a concept of one of the
 * given courses or is to a course not in the set. */
static void check_cross_refs(const kgg_course *from, kgg_course **courses, size_t n)
{
    size_t checked = 0;
    for (size_t i = 0; i < from->nconcepts; i++) {
        const kgg_concept *k = &from->concepts[i];
        for (size_t g = 0; g < k->ngroups + k->nrecommends; g++) {
            size_t nm = g < k->ngroups ? k->groups[g].nmembers : 1;
            for (size_t m = 0; m < nm; m++) {
                const char *t = g < k->ngroups ? k->groups[g].members[m].target
                                               : k->recommends[g - k->ngroups].target;
                const char *colon = strchr(t, ':');
                if (!colon) continue;
                for (size_t q = 0; q < n; q++)
                    if (strlen(courses[q]->id) == (size_t)(colon - t) &&
                        memcmp(courses[q]->id, t, (size_t)(colon - t)) == 0) {
                        ck_assert_msg(kgg_course_find(courses[q], colon + 1) >= 0,
                                      "%s: %s names no concept", from->id, t);
                        checked++;
                    }
            }
        }
    }
    ck_assert_uint_gt(checked, 0);
}

static void check_all_samples(int validate)
{
    features f = {0};
    kgg_course *cs[3];
    cs[0] = check_sample("data/samples/linalg.xml", "linalg", "en", 30, 6, &f, validate);
    cs[1] = check_sample("data/samples/ml-intro.xml", "ml-intro", "en", 50, 11, &f, validate);
    cs[2] = check_sample("data/samples/python-zh.xml", "python-zh", "zh-Hans", 20, 5, &f, validate);
    ck_assert_uint_eq(cs[0]->nconcepts, 35);
    ck_assert_uint_eq(cs[1]->nconcepts, 55);
    ck_assert_uint_eq(cs[2]->nconcepts, 24);
    check_cross_refs(cs[1], cs, 3);
    check_cross_refs(cs[2], cs, 3);

    /* Every feature of the format is used somewhere. */
    ck_assert(f.any_of_1_of_n && f.two_of_three && f.group_reason && f.edge_reason);
    ck_assert(f.edge_without_reason && f.recommend && f.recommend_reason && f.cross_course);
    ck_assert(f.paragraphs && f.goals && f.tags && f.units == 3 && f.summary && f.description);
    ck_assert(f.difficulty && f.resource_minutes && f.resource_url);
    int nkinds = 0;
    for (size_t q = 0; q < 12; q++) nkinds += f.kinds[q];
    ck_assert_int_ge(nkinds, 6);

    /* Spot checks: the 2-of-3 group of the SVD, Chinese text, a cross ref. */
    const kgg_concept *svd = &cs[0]->concepts[kgg_course_find(cs[0], "svd")];
    ck_assert_uint_eq(svd->ngroups, 2);
    ck_assert_uint_eq(svd->groups[1].k, 2);
    ck_assert_uint_eq(svd->groups[1].nmembers, 3);
    ck_assert_str_eq(svd->groups[1].members[0].target, "four-subspaces");
    ck_assert_ptr_nonnull(svd->groups[1].reason);
    ck_assert_str_eq(cs[2]->title, "Python 编程入门");
    const kgg_concept *fn = &cs[2]->concepts[kgg_course_find(cs[2], "functions")];
    ck_assert_str_eq(fn->title, "函数");
    ck_assert_str_eq(cs[2]->units[fn->unit].title, "第三单元：函数与数据结构");
    const kgg_concept *nn = &cs[1]->concepts[kgg_course_find(cs[1], "neural-networks")];
    ck_assert_str_eq(nn->groups[1].members[0].target, "linalg:matrix-multiplication");
    for (int i = 0; i < 3; i++) kgg_course_free(cs[i]);
}

START_TEST(samples_parse_and_validate)
{
    check_all_samples(1);
}
END_TEST

START_TEST(samples_parse_without_schema)
{
    check_all_samples(0);
}
END_TEST

/* ---- every field -------------------------------------------------------- */

START_TEST(every_field)
{
    kgg_course *c = parse_file("tests/kgxml/valid-small.xml", 1);
    assert_clean(c, "valid-small.xml");
    ck_assert_str_eq(c->id, "demo");
    ck_assert_str_eq(c->title, "Demo course");
    ck_assert_str_eq(c->language, "en-GB");
    ck_assert_str_eq(c->version, "0.3");
    ck_assert_str_eq(c->source, "valid-small.xml");
    ck_assert_uint_eq(c->nunits, 1);
    ck_assert_str_eq(c->units[0].id, "u1");
    ck_assert_str_eq(c->units[0].title, "First unit");
    ck_assert_uint_eq(c->nconcepts, 3);

    const kgg_concept *a = &c->concepts[0];
    ck_assert_str_eq(a->id, "a");
    ck_assert_str_eq(a->title, "Concept A");
    ck_assert_str_eq(a->summary, "Short summary.");
    ck_assert_str_eq(a->description, "First paragraph.\n\nSecond paragraph.");
    ck_assert_double_eq(a->minutes, 12.5);
    ck_assert_double_eq(a->difficulty, 0.0);
    ck_assert_int_eq(a->unit, 0);
    ck_assert_uint_eq(a->line, 7);
    ck_assert_uint_eq(a->ngoals, 2);
    ck_assert_str_eq(a->goals[1], "Goal two");
    ck_assert_uint_eq(a->ntags, 1);
    ck_assert_str_eq(a->tags[0], "alpha");
    ck_assert_uint_eq(a->nresources, 2);
    ck_assert_str_eq(a->resources[0].title, "A video");
    ck_assert_str_eq(a->resources[0].kind, "video");
    ck_assert_str_eq(a->resources[0].url, "https://example.org/a");
    ck_assert_double_eq(a->resources[0].minutes, 7);
    ck_assert_ptr_null(a->resources[1].kind);
    ck_assert_ptr_null(a->resources[1].url);
    ck_assert_double_lt(a->resources[1].minutes, 0);
    ck_assert_uint_eq(a->ngroups + a->nrecommends, 0);
    ck_assert_double_eq(kgg_concept_total_minutes(a), 19.5);

    const kgg_concept *b = &c->concepts[1];
    ck_assert_str_eq(b->id, "b.2_x-y");
    ck_assert_double_lt(b->minutes, 0);
    ck_assert_double_eq(b->difficulty, 0.5);
    ck_assert_ptr_null(b->summary);
    ck_assert_str_eq(b->description, "Plain description.");
    ck_assert_uint_eq(b->ngroups, 1);
    ck_assert_uint_eq(b->groups[0].k, 1);
    ck_assert_uint_eq(b->groups[0].nmembers, 1);
    ck_assert_str_eq(b->groups[0].members[0].target, "a");
    ck_assert_str_eq(b->groups[0].members[0].reason, "B builds on A.");
    ck_assert_uint_eq(b->groups[0].members[0].line, 25);

    const kgg_concept *k = &c->concepts[2];
    ck_assert_str_eq(k->id, "c");
    ck_assert_int_eq(k->unit, -1);
    ck_assert_double_eq(k->minutes, 30);
    ck_assert_double_eq(k->difficulty, 1.0);
    ck_assert_uint_eq(k->ngroups, 3);
    ck_assert_str_eq(k->groups[0].members[0].target, "demo:a");   /* as written */
    ck_assert_ptr_null(k->groups[0].members[0].reason);
    ck_assert_uint_eq(k->groups[1].k, 1);
    ck_assert_uint_eq(k->groups[1].nmembers, 2);
    ck_assert_ptr_null(k->groups[1].reason);
    ck_assert_str_eq(k->groups[1].members[0].reason, "A works.");
    ck_assert_str_eq(k->groups[1].members[1].target, "other:x");
    ck_assert_uint_eq(k->groups[2].k, 2);
    ck_assert_uint_eq(k->groups[2].nmembers, 3);
    ck_assert_str_eq(k->groups[2].reason, "Two of three are needed.");
    ck_assert_str_eq(k->groups[2].members[1].reason, "B works too.");
    ck_assert_str_eq(k->groups[2].members[2].target, "linalg:svd");
    ck_assert_uint_eq(k->nrecommends, 2);
    ck_assert_str_eq(k->recommends[0].target, "b.2_x-y");
    ck_assert_str_eq(k->recommends[0].reason, "Nice to have.");
    ck_assert_str_eq(k->recommends[1].target, "other:y");
    kgg_course_free(c);
}
END_TEST

START_TEST(cjk_course)
{
    kgg_course *c = parse_file("tests/kgxml/cjk.xml", 1);
    assert_clean(c, "cjk.xml");
    ck_assert_str_eq(c->title, "概率论入门");
    ck_assert_str_eq(c->language, "zh-Hans-CN");
    ck_assert_str_eq(c->version, "第一版");
    ck_assert_str_eq(c->concepts[0].summary, "事件是样本空间的子集。");
    ck_assert_str_eq(c->concepts[0].tags[0], "概率");
    ck_assert_str_eq(c->concepts[1].groups[0].members[0].reason, "条件概率建立在事件的概念之上。");
    kgg_course_free(c);
}
END_TEST

/* A UTF-8 BOM, CRLF line ends and no XML declaration are fine; positions
 * still count lines as libxml2 does. */
START_TEST(bom_and_crlf)
{
    const char doc[] =
        "\xEF\xBB\xBF<course xmlns=\"" KGI_KGXML_NS "\" id=\"w\" xml:lang=\"en\">\r\n"
        "  <title>Windows</title>\r\n"
        "  <concept id=\"a\" minutes=\"5\"><title>A</title></concept>\r\n"
        "</course>\r\n";
    kgg_course *c = parse_buf(doc, sizeof doc - 1, "crlf.xml", 1);
    assert_clean(c, "crlf.xml");
    ck_assert_str_eq(c->title, "Windows");
    ck_assert_uint_eq(c->concepts[0].line, 3);
    kgg_course_free(c);

    const char bad[] =
        "\xEF\xBB\xBF<course xmlns=\"" KGI_KGXML_NS "\" id=\"w\" xml:lang=\"en\">\r\n"
        "  <title>Windows</title>\r\n"
        "  <concept id=\"a\" minutes=\"-5\"><title>A</title></concept>\r\n"
        "</course>\r\n";
    for (int v = 0; v < 2; v++) {
        c = parse_buf(bad, sizeof bad - 1, "crlf.xml", v);
        assert_error(c, "crlf.xml", 3, 19, "minutes");
        kgg_course_free(c);
    }
}
END_TEST

START_TEST(builtin_schema_is_the_shipped_file)
{
    char *path = src_path("data/schema/kgxml.rng");
    size_t len = 0, blen = 0;
    char *file = tu_read(path, &len);
    ck_assert_ptr_nonnull(file);
    const char *builtin = kgi_kgxml_schema(&blen);
    ck_assert_uint_eq(blen, len);
    ck_assert(memcmp(builtin, file, len) == 0);
    ck_assert_int_eq(builtin[blen], 0);
    free(file);

    /* The same file given as schema_path validates the samples too. */
    char *sp = src_path("data/samples/linalg.xml");
    char *buf = tu_read(sp, &len);
    kgi_options opt = { .validate_schema = 1, .schema_path = path };
    kgg_course *c = kgi_kgxml_parse(buf, len, "linalg.xml", &opt);
    assert_clean(c, "linalg.xml with schema_path");
    kgg_course_free(c);

    /* A missing or broken schema file is an error, not a crash or a silent
     * pass; a URL is never fetched. */
    char *dir = tu_mkdtemp();
    char *bogus = tu_path(dir, "bogus.rng");
    tu_write(bogus, "<grammar xmlns=\"http://relaxng.org/ns/structure/1.0\"><start>"
             "<element name=\"x\"><bogus/></element></start></grammar>", (size_t)-1);
    const char *bad_paths[] = { "/nonexistent/kgxml.rng", "http://127.0.0.1:9/kgxml.rng", bogus };
    for (size_t i = 0; i < 3; i++) {
        opt.schema_path = bad_paths[i];
        c = kgi_kgxml_parse(buf, len, "linalg.xml", &opt);
        assert_error(c, bad_paths[i], i == 2 ? 1 : 0, 0, "schema file: ");
        ck_assert_uint_eq(c->nconcepts, 0);
        kgg_course_free(c);
    }
    tu_rmrf(dir);
    free(bogus);
    free(dir);
    free(buf);
    free(sp);
    free(path);
}
END_TEST

/* ---- bad input ---------------------------------------------------------- */

typedef struct bad_case {
    const char *file;
    int schema;                 /* 1: with schema; 0: without; 2: both */
    uint32_t line, col;
    const char *needle;
} bad_case;

static const bad_case bad_cases[] = {
    { "malformed.xml", 2, 4, 35, "Opening and ending tag mismatch" },
    { "empty.xml", 2, 1, 1, "empty file" },
    { "blank.xml", 2, 3, 1, "Start tag expected" },
    { "no-namespace.xml", 2, 2, 1, "no namespace" },
    { "wrong-root.xml", 2, 2, 1, "root element is <syllabus>" },
    { "schema-missing-title.xml", 1, 5, 5, "Did not expect element summary" },
    { "schema-missing-title.xml", 1, 5, 5, "<title>, <summary>?" },
    { "schema-missing-title.xml", 0, 4, 3, "concept \"a\" has no title" },
    { "schema-unknown-element.xml", 1, 6, 5, "schema: <colour>" },
    { "duplicate-id.xml", 2, 6, 12, "duplicate concept id \"a\" (first defined at line 4)" },
    { "dangling.xml", 2, 9, 16, "<require ref=\"missing\"> names no concept of course \"d\"" },
    { "dangling.xml", 2, 10, 18, "<recommend ref=\"also-missing\">" },
    { "self-ref.xml", 2, 6, 29, "refers to itself" },
    { "k-too-large.xml", 2, 9, 15, "k=3 of only 2 options" },
    { "k-zero.xml", 1, 8, 15, "Invalid attribute k for element any-of (value \"0\"; expected a positive integer)" },
    { "k-zero.xml", 0, 8, 15, "k=\"0\" is invalid" },
    { "minutes-negative.xml", 1, 4, 19, "Invalid attribute minutes" },
    { "minutes-negative.xml", 0, 4, 19, "minutes must not be negative" },
    { "minutes-nan.xml", 1, 4, 19, "value \"NaN\"" },
    { "minutes-nan.xml", 0, 4, 19, "invalid minutes \"NaN\"" },
    { "minutes-garbage.xml", 2, 4, 19, "about an hour" },
    { "resource-minutes.xml", 2, 6, 28, "1e3" },
    { "difficulty-range.xml", 1, 4, 19, "value \"7\"; expected a number from 1 (introductory) to 5" },
    { "difficulty-range.xml", 0, 4, 19, "difficulty \"7\" is invalid" },
    { "bad-lang.xml", 1, 2, 55, "english language" },
    { "bad-lang.xml", 0, 2, 55, "invalid language tag" },
    { "bad-ref.xml", 1, 7, 29, "ref \"x:y:z\" is not" },
    { "bad-ref.xml", 0, 7, 29, "invalid reference \"x:y:z\"" },
    { "cjk-column.xml", 2, 4, 62, "三十" },
    { "non-utf8.xml", 2, 3, 13, "invalid UTF-8 (byte 0xE9 at offset 120)" },
    { "latin1-declared.xml", 2, 1, 1, "must be UTF-8" },
    { "xxe.xml", 2, 2, 1, "entity declarations are not allowed" },
    { "network-dtd.xml", 2, 2, 1, "external DTDs are not allowed" },
    { "billion-laughs.xml", 2, 0, 0, "" },
};

START_TEST(bad_input)
{
    const bad_case *bc = &bad_cases[_i];
    for (int v = 0; v < 2; v++) {
        if (bc->schema != 2 && bc->schema != v) continue;
        char rel[256];
        snprintf(rel, sizeof rel, "tests/kgxml/%s", bc->file);
        kgg_course *c = parse_file(rel, v);
        ck_assert_msg(kgg_course_nerrors(c) > 0, "%s (schema %d): no error", bc->file, v);
        if (bc->line) assert_error(c, bc->file, bc->line, bc->col, bc->needle);
        kgg_course_free(c);
    }
}
END_TEST

/* Hostile DTDs are refused whatever they hide, and nothing of them lands in
 * the course. */
START_TEST(hostile_xml_refused)
{
    static const char *const docs[] = {
        /* external parameter entity */
        "<!DOCTYPE course [<!ENTITY % p SYSTEM \"http://127.0.0.1:9/x.dtd\"> %p;]>"
        "<course xmlns=\"" KGI_KGXML_NS "\" id=\"h\" xml:lang=\"en\"><title>T</title>"
        "<concept id=\"a\"><title>A</title></concept></course>",
        /* external general entity in an attribute-free text */
        "<!DOCTYPE course [<!ENTITY x SYSTEM \"/etc/hostname\">]>"
        "<course xmlns=\"" KGI_KGXML_NS "\" id=\"h\" xml:lang=\"en\"><title>&x;</title>"
        "<concept id=\"a\"><title>A</title></concept></course>",
        /* a quadratic blow-up: one big entity used many times */
        "<!DOCTYPE course [<!ENTITY big \"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\">]>"
        "<course xmlns=\"" KGI_KGXML_NS "\" id=\"h\" xml:lang=\"en\"><title>&big;&big;&big;&big;</title>"
        "<concept id=\"a\"><title>A</title></concept></course>",
        /* a public external DTD */
        "<!DOCTYPE course PUBLIC \"-//X//DTD X//EN\" \"http://127.0.0.1:9/x.dtd\">"
        "<course xmlns=\"" KGI_KGXML_NS "\" id=\"h\" xml:lang=\"en\"><title>T</title>"
        "<concept id=\"a\"><title>A</title></concept></course>",
    };
    for (size_t i = 0; i < sizeof docs / sizeof docs[0]; i++) {
        for (int v = 0; v < 2; v++) {
            kgg_course *c = parse_buf(docs[i], strlen(docs[i]), "hostile.xml", v);
            ck_assert_msg(kgg_course_nerrors(c) > 0, "hostile document %zu accepted", i);
            ck_assert_uint_eq(c->nconcepts, 0);
            ck_assert_ptr_null(c->title);
            kgg_course_free(c);
        }
    }
    /* The billion-laughs fixture: refused, nothing expanded. */
    kgg_course *c = parse_file("tests/kgxml/billion-laughs.xml", 1);
    ck_assert_uint_gt(kgg_course_nerrors(c), 0);
    ck_assert_ptr_null(c->title);
    ck_assert_uint_lt(kg_arena_used(c->arena), 64 * 1024);
    kgg_course_free(c);
}
END_TEST

START_TEST(invalid_utf8_sequences)
{
    static const struct { const char *bytes; uint32_t line, col; size_t off; } cases[] = {
        { "<course>\n  <title>\xC0\xAF</title>", 2, 10, 18 },       /* overlong '/' */
        { "<course>\n\n<title>ab\xED\xA0\x80</title>", 3, 10, 19 },  /* surrogate */
        { "<course>\n<title>\xE4\xB8\xAD\xE6</title>", 2, 9, 19 },   /* truncated */
        { "<c>\xF4\x90\x80\x80</c>", 1, 4, 3 },                      /* > U+10FFFF */
        { "\xFF\xFE<\0c\0>\0", 1, 1, 0 },                            /* UTF-16 */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t len = i == 4 ? 8 : strlen(cases[i].bytes);
        kgg_course *c = parse_buf(cases[i].bytes, len, "bytes.xml", 1);
        char needle[64];
        snprintf(needle, sizeof needle, "at offset %zu)", cases[i].off);
        assert_error(c, "bytes.xml", cases[i].line, cases[i].col, needle);
        ck_assert_uint_eq(c->ndiags, 1);
        kgg_course_free(c);
    }
    /* Valid multi-byte text next to the limit of the buffer is fine. */
    size_t bad, n = strlen("中文");
    ck_assert_int_eq(kgi_utf8_check("中文", n, &bad, NULL, NULL), 0);
    ck_assert_int_eq(kgi_utf8_check("中文", n - 1, &bad, NULL, NULL), -1);
    ck_assert_uint_eq(bad, 3);
}
END_TEST

START_TEST(null_and_empty_buffers)
{
    kgg_course *c = kgi_kgxml_parse(NULL, 0, "null.xml", NULL);
    ck_assert_ptr_nonnull(c);
    assert_error(c, "null.xml", 1, 1, "empty file");
    kgg_course_free(c);
    c = kgi_kgxml_parse("\xEF\xBB\xBF", 3, "bom-only.xml", NULL);
    assert_error(c, "bom-only.xml", 1, 1, "empty file");
    kgg_course_free(c);
}
END_TEST

/* Hundreds of errors: schema diagnostics are capped; semantic ones are all
 * reported; nothing crashes. */
START_TEST(many_errors)
{
    size_t cap = 1 << 16, n = 0;
    char *doc = malloc(cap);
    n += (size_t)snprintf(doc + n, cap - n, "<course xmlns=\"" KGI_KGXML_NS "\" id=\"m\" "
                          "xml:lang=\"en\"><title>T</title>\n");
    for (int i = 0; i < 200; i++)
        n += (size_t)snprintf(doc + n, cap - n, "<concept id=\"c%d\" minutes=\"-%d\"><title>C</title>"
                              "<prerequisites><require ref=\"nope%d\"/></prerequisites></concept>\n", i, i + 1, i);
    n += (size_t)snprintf(doc + n, cap - n, "</course>\n");
    kgg_course *c = parse_buf(doc, n, "many.xml", 1);
    ck_assert_uint_ge(c->ndiags, 50);
    ck_assert_uint_le(c->ndiags, 60);
    assert_error(c, "many.xml", 2, 18, "value \"-1\"");
    kgg_course_free(c);
    c = parse_buf(doc, n, "many.xml", 0);
    /* All 400 are counted, the first KGG_MAX_ERRORS kept (the minutes of
     * lines 2-101; unresolved refs come later), the rest only counted for
     * the report's "300 more errors not shown". */
    ck_assert_uint_eq(kgg_course_nerrors(c), 400);
    ck_assert_uint_eq(c->nkept_errors, KGG_MAX_ERRORS);
    ck_assert_uint_eq(c->ndropped, 400 - KGG_MAX_ERRORS);
    assert_error(c, "many.xml", 101, 19, "(got -100)");
    kgg_course_free(c);
    free(doc);
}
END_TEST

/* Every prefix of a valid document and single-byte corruptions of it give
 * either a course or diagnostics, never a crash (ASan checks the rest). */
START_TEST(truncations_and_corruptions)
{
    char *path = src_path("tests/kgxml/valid-small.xml");
    size_t len = 0;
    char *buf = tu_read(path, &len);
    ck_assert_ptr_nonnull(buf);
    for (size_t cut = 0; cut < len; cut += 13) {
        kgg_course *c = parse_buf(buf, cut, "cut.xml", (int)(cut & 1));
        ck_assert_uint_gt(kgg_course_nerrors(c), 0);
        kgg_course_free(c);
    }
    static const char junk[] = { '<', '>', '&', '"', '\0', 'k', '\xff', '-', ':' };
    unsigned seed = 12345;
    for (int i = 0; i < 150; i++) {
        char *m = malloc(len);
        memcpy(m, buf, len);
        seed = seed * 1103515245u + 12345u;
        size_t at = (seed >> 8) % len;
        m[at] = junk[(seed >> 20) % sizeof junk];
        kgg_course *c = parse_buf(m, len, "flip.xml", i & 1);
        if (!kgg_course_nerrors(c)) ck_assert_uint_eq(c->nconcepts, 3);
        kgg_course_free(c);
        free(m);
    }
    free(buf);
    free(path);
}
END_TEST

static Suite *kgxml_suite(void)
{
    Suite *s = suite_create("kgxml");
    TCase *t = tcase_create("samples");
    tcase_add_test(t, samples_parse_and_validate);
    tcase_add_test(t, samples_parse_without_schema);
    suite_add_tcase(s, t);
    t = tcase_create("format");
    tcase_add_test(t, every_field);
    tcase_add_test(t, cjk_course);
    tcase_add_test(t, bom_and_crlf);
    tcase_add_test(t, builtin_schema_is_the_shipped_file);
    suite_add_tcase(s, t);
    t = tcase_create("bad_input");
    tcase_add_loop_test(t, bad_input, 0, (int)(sizeof bad_cases / sizeof bad_cases[0]));
    tcase_add_test(t, hostile_xml_refused);
    tcase_add_test(t, invalid_utf8_sequences);
    tcase_add_test(t, null_and_empty_buffers);
    tcase_add_test(t, many_errors);
    tcase_add_test(t, truncations_and_corruptions);
    suite_add_tcase(s, t);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(kgxml_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
