/* Never lose a course silently (issue 12): course identity and conflicts
 * (exit 5, --as, --replace), Unicode course ids, re-import under another
 * spelling of the path, no file left by a failed import into a new
 * database, and encodings (no invalid UTF-8 ever reaches the database).
 * Runs $KGPATH_BIN on small exports written here; the writer's own UTF-8
 * check is tested on a course model directly. */
#include <check.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "graph/store.h"
#include "importers/html_text.h"
#include "importers/importers.h"
#include "tests/testutil.h"

static char *g_dir, *g_db;
static const char *g_bin;

static void setup(void)
{
    g_bin = getenv("KGPATH_BIN");
    ck_assert_msg(g_bin && *g_bin, "KGPATH_BIN is not set");
    g_dir = tu_mkdtemp();
    g_db = tu_path(g_dir, "k.db");
}

static void teardown(void)
{
    tu_rmrf(g_dir);
    free(g_db);
    free(g_dir);
}

/* Runs "cd DIR && kgpath --db DB ARGS" (stderr to DIR/err); returns the
 * exit status and stdout in *out (may be NULL). */
static int kg(char **out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int kg(char **out, const char *fmt, ...)
{
    char args[2048], cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "cd '%s' && env -u KGPATH_DB '%s' --db '%s' %s 2>'%s/err'", g_dir, g_bin,
             g_db, args, g_dir);
    return tu_run(cmd, out);
}

static char *err_text(void)
{
    char *p = tu_path(g_dir, "err");
    char *t = tu_read(p, NULL);
    free(p);
    return t ? t : strdup("");
}

/* Writes DIR/name with len bytes (len -1: a string). */
static void put(const char *name, const char *data, size_t len)
{
    char *p = tu_path(g_dir, name), cmd[4200];
    snprintf(cmd, sizeof cmd, "mkdir -p \"$(dirname '%s')\"", p);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    tu_write(p, data, len);
    free(p);
}

/* An IMS CC cartridge in folder dir with the manifest identifier, title
 * and one item, as template-made cartridges are. */
static void cartridge(const char *dir, const char *ident, const char *title, const char *item)
{
    char name[256], xml[2048];
    snprintf(name, sizeof name, "%s/imsmanifest.xml", dir);
    snprintf(xml, sizeof xml,
             "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             "<manifest identifier=\"%s\" xmlns=\"http://www.imsglobal.org/xsd/imsccv1p1/imscp_v1p1\"\n"
             "  xmlns:lomm=\"http://ltsc.ieee.org/xsd/imsccv1p1/LOM/manifest\">\n"
             "  <metadata><schema>IMS Common Cartridge</schema><schemaversion>1.1.0</schemaversion>\n"
             "    <lomm:lom><lomm:general><lomm:title><lomm:string>%s</lomm:string></lomm:title>"
             "</lomm:general></lomm:lom></metadata>\n"
             "  <organizations><organization identifier=\"org_1\" structure=\"rooted-hierarchy\">"
             "<item identifier=\"root\">\n"
             "    <item identifier=\"i1\" identifierref=\"r1\"><title>%s</title></item>\n"
             "  </item></organization></organizations>\n"
             "  <resources><resource identifier=\"r1\" type=\"webcontent\" href=\"page.html\">"
             "<file href=\"page.html\"/></resource></resources>\n</manifest>\n",
             ident, title, item);
    put(name, xml, (size_t)-1);
    snprintf(name, sizeof name, "%s/page.html", dir);
    snprintf(xml, sizeof xml, "<html><body><p>About %s.</p></body></html>\n", item);
    put(name, xml, (size_t)-1);
}

/* Copies the database to DIR/before for a later same_db(). */
static void keep_db(void)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s/before'", g_db, g_dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
}

static int same_db(void)
{
    char *b = tu_path(g_dir, "before");
    int r = tu_file_cmp(g_db, b) == 0;
    free(b);
    return r;
}

static int has(const char *hay, const char *needle) { return hay && strstr(hay, needle) != NULL; }

START_TEST(test_unicode_csv_names_kept_apart)
{
    put("数学.csv", "id,title\nadd,Addition\nfrac,Fractions\n", (size_t)-1);
    put("物理.csv", "id,title\nmech,Mechanics\n", (size_t)-1);
    char *out;
    ck_assert_int_eq(kg(&out, "import 数学.csv"), 0);
    free(out);
    ck_assert_int_eq(kg(&out, "import 物理.csv"), 0);
    ck_assert_msg(has(out, "imported 物理 \"物理\""), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "export"), 0);
    ck_assert_msg(has(out, "\"id\":\"数学\"") && has(out, "\"id\":\"物理\""), "%s", out);
    ck_assert_msg(has(out, "\"数学:frac\"") && has(out, "\"物理:mech\""), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "show 数学:add"), 0);
    ck_assert_msg(has(out, "Addition"), "%s", out);
    free(out);
    /* the ids themselves: NFC, marks and letters kept, punctuation not */
    char id[256];
    ck_assert_str_eq(kgi_safe_course_id("Matema\xcc\x81ticas b\xc3\xa1sicas", "course", id, sizeof id),
                     "Matem\xc3\xa1ticas_b\xc3\xa1sicas");
    ck_assert_str_eq(kgi_safe_course_id("«数学»", "course", id, sizeof id), "数学");
    ck_assert_str_eq(kgi_safe_course_id("\xff\xfe!", "course", id, sizeof id), "course");
    ck_assert_ptr_null(kgi_safe_course_id("…", NULL, id, sizeof id));
}
END_TEST

START_TEST(test_cartridges_sharing_a_template_id)
{
    cartridge("stats", "cctd0015", "Statistics", "The mean");
    cartridge("poetry", "cctd0015", "Poetry", "Sonnets");
    char *out, *e;
    ck_assert_int_eq(kg(&out, "import stats"), 0);
    free(out);
    keep_db();
    /* another course with the same id: refused, naming both, nothing written */
    ck_assert_int_eq(kg(&out, "import poetry"), KGP_ECONFLICT);
    e = err_text();
    ck_assert_msg(has(e, "course 'cctd0015' is already in the database as \"Statistics\"") &&
                  has(e, "\"Poetry\"") && has(e, "stats/imsmanifest.xml") &&
                  has(e, "poetry/imsmanifest.xml") && has(e, "--as ID") && has(e, "--replace"), "%s", e);
    free(e); free(out);
    ck_assert_msg(same_db(), "a refused import changed the database");
    ck_assert_int_eq(kg(&out, "import --dry-run poetry"), KGP_ECONFLICT);
    free(out);
    ck_assert_msg(same_db(), "a refused dry run changed the database");
    /* the same course again: unchanged, byte for byte */
    ck_assert_int_eq(kg(&out, "import stats"), 0);
    ck_assert_msg(has(out, "kept cctd0015: unchanged"), "%s", out);
    free(out);
    ck_assert_msg(same_db(), "re-importing the same course changed the database");
    /* --as keeps both; the identity still names the course as its format does */
    ck_assert_int_eq(kg(&out, "--json import --as poetry poetry"), 0);
    ck_assert_msg(has(out, "\"id\": \"poetry\"") && has(out, "\"identity\": \"imscc:cctd0015@"), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "export"), 0);
    char *a = strstr(out, "\"identity\":\"imscc:cctd0015@"), *b = a ? strstr(a + 1, "\"identity\":\"imscc:cctd0015@") : NULL;
    ck_assert_msg(a && b && strncmp(a, b, 48) != 0, "two identities expected: %s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "show cctd0015:i1"), 0);
    ck_assert_msg(has(out, "The mean"), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "show poetry:i1"), 0);
    ck_assert_msg(has(out, "Sonnets"), "%s", out);
    free(out);
    /* an edited course with its title kept is the same course: replaced */
    cartridge("stats", "cctd0015", "Statistics", "The median");
    ck_assert_int_eq(kg(&out, "import stats"), 0);
    ck_assert_msg(has(out, "replaced cctd0015"), "%s", out);
    free(out);
    /* a renamed course with its content kept is the same course too */
    cartridge("stats", "cctd0015", "Statistics I", "The median");
    ck_assert_int_eq(kg(&out, "import stats"), 0);
    ck_assert_msg(has(out, "replaced cctd0015 \"Statistics I\""), "%s", out);
    free(out);
    /* --replace says the other one replaces it */
    ck_assert_int_eq(kg(&out, "import --replace poetry"), 0);
    ck_assert_msg(has(out, "replaced cctd0015 \"Poetry\""), "%s", out);
    free(out);
    ck_assert_int_eq(kg(&out, "show cctd0015:i1"), 0);
    ck_assert_msg(has(out, "Sonnets"), "%s", out);
    free(out);
    /* --as with several courses, or with --replace: usage errors */
    ck_assert_int_eq(kg(&out, "import --as x stats poetry"), KGP_EUSAGE);
    free(out);
    ck_assert_int_eq(kg(&out, "import --as x --replace stats"), KGP_EUSAGE);
    free(out);
}
END_TEST

/* Two cartridges of one import share an id (in separate paths, folders or
 * archives): the later gets "-<its folder>", as the README promises. */
START_TEST(test_one_import_renames_the_later)
{
    cartridge("a/stats", "cctd0015", "Statistics", "The mean");
    cartridge("b/poetry", "cctd0015", "Poetry", "Sonnets");
    char *out;
    ck_assert_int_eq(kg(&out, "import a/stats b/poetry"), 0);
    ck_assert_msg(has(out, "imported cctd0015 \"Statistics\"") &&
                  has(out, "imported cctd0015-poetry \"Poetry\""), "%s", out);
    free(out);
    char *e = err_text();
    ck_assert_msg(has(e, "this one is \"cctd0015-poetry\""), "%s", e);
    free(e);
    if (tu_run("command -v zip >/dev/null", NULL) != 0) return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s/b/poetry' && zip -qr ../../poetry.imscc .", g_dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "rm -f '%s'", g_db);
    tu_run(cmd, NULL);
    ck_assert_int_eq(kg(&out, "import a/stats poetry.imscc"), 0);
    ck_assert_msg(has(out, "imported cctd0015-poetry \"Poetry\""), "%s", out);
    free(out);
    /* the same course twice in one import is still an error */
    ck_assert_int_eq(kg(&out, "import a/stats ./a/stats/"), KGP_EINPUT);
    free(out);
}
END_TEST

START_TEST(test_other_spellings_of_the_path_change_nothing)
{
    cartridge("x", "cc-course-9", "Statistics", "The mean");
    put("x/notes.csv", "id,title\nn,Note\n", (size_t)-1);
    char *out;
    ck_assert_int_eq(kg(&out, "import x"), 0);
    free(out);
    keep_db();
    char spell[3][1100];
    snprintf(spell[0], sizeof spell[0], "./x/");
    snprintf(spell[1], sizeof spell[1], "'%s/x'", g_dir);
    snprintf(spell[2], sizeof spell[2], "x/imsmanifest.xml");
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(kg(&out, "import %s", spell[i]), 0);
        ck_assert_msg(has(out, "unchanged"), "%s: %s", spell[i], out);
        free(out);
        ck_assert_msg(same_db(), "importing %s changed the database", spell[i]);
    }
    if (tu_run("command -v zip >/dev/null", NULL) != 0) return;
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cd '%s' && zip -qr x.zip x && cd x && zip -qr ../flat.zip .", g_dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    ck_assert_int_eq(kg(&out, "import x.zip"), 0);
    free(out);
    ck_assert_msg(same_db(), "importing the zip of the folder changed the database");
    ck_assert_int_eq(kg(&out, "import flat.zip"), 0);
    free(out);
    ck_assert_msg(same_db(), "importing the flat zip of the folder changed the database");
    /* a CSV course: the same file by another path */
    put("s/alg.csv", "id,title\na,Algebra\n", (size_t)-1);
    ck_assert_int_eq(kg(&out, "import s/alg.csv"), 0);
    free(out);
    keep_db();
    ck_assert_int_eq(kg(&out, "import ./s//alg.csv"), 0);
    free(out);
    ck_assert_msg(same_db(), "importing the CSV by another path changed the database");
}
END_TEST

/* No database file, lock file or temporary file after an import into a
 * new path fails or is a dry run; the database appears when one commits. */
START_TEST(test_failed_import_leaves_no_file)
{
    put("bad.csv", "id,title\nok,Fine\nbad id,Broken\n", (size_t)-1);
    put("good.csv", "id,title\nok,Fine\n", (size_t)-1);
    put("latin.csv", "id,title\nc,Caf\xe9\n", (size_t)-1);
    char *out, cmd[4096];
    ck_assert_int_eq(kg(&out, "import bad.csv"), KGP_EINPUT);
    free(out);
    ck_assert_int_eq(kg(&out, "import latin.csv"), KGP_EINPUT);
    free(out);
    ck_assert_int_eq(kg(&out, "import missing.csv"), KGP_ENOTFOUND);
    free(out);
    ck_assert_int_eq(kg(&out, "import --dry-run good.csv"), 0);
    free(out);
    ck_assert_int_eq(kg(&out, "import --encoding NO-SUCH-CODE good.csv"), KGP_EUSAGE);
    free(out);
    snprintf(cmd, sizeof cmd, "cd '%s' && ls | grep -c 'k\\.db'", g_dir);
    ck_assert_int_eq(tu_run(cmd, &out), 1);    /* grep found nothing */
    ck_assert_str_eq(out, "0\n");
    free(out);
    ck_assert_int_eq(kg(&out, "import good.csv"), 0);
    free(out);
    snprintf(cmd, sizeof cmd, "cd '%s' && ls | grep 'k\\.db' | tr '\\n' ' '", g_dir);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    ck_assert_str_eq(out, "k.db ");
    free(out);
    ck_assert_int_eq(kg(&out, "stats --json"), 0);
    ck_assert_msg(has(out, "\"concepts\": 1"), "%s", out);
    free(out);
}
END_TEST

/* GraphML export parsed by libxml2: well-formed, and holding `want`. */
static void graphml_has(const char *want)
{
    char *out;
    ck_assert_int_eq(kg(&out, "export -f graphml"), 0);
    xmlDocPtr d = xmlReadMemory(out, (int)strlen(out), "export.graphml", NULL, XML_PARSE_NONET);
    ck_assert_msg(d != NULL, "GraphML export is not well-formed XML");
    xmlFreeDoc(d);
    ck_assert_msg(has(out, want), "%s not in %s", want, out);
    free(out);
}

START_TEST(test_encodings)
{
    /* 数学 in GBK; Café in Latin-1; Ünïcode in UTF-16LE with BOM */
    put("gbk.csv", "id,title\ng,\xca\xfd\xd1\xa7\n", (size_t)-1);
    put("latin.csv", "id,title,summary\nc,Caf\xe9,ok\n", (size_t)-1);
    static const char u16[] = "\xff\xfe" "i\0d\0,\0t\0i\0t\0l\0e\0\n\0u\0,\0\xdc\0n\0\xef\0c\0o\0d\0e\0\n\0";
    put("u16.csv", u16, sizeof u16 - 1);
    put("ok.csv", "id,title\nb,Base\n", (size_t)-1);
    char *out, *e;
    ck_assert_int_eq(kg(&out, "import ok.csv"), 0);
    free(out);
    keep_db();
    /* not UTF-8 and no --encoding: file:line:column, nothing written */
    ck_assert_int_eq(kg(&out, "import gbk.csv"), KGP_EINPUT);
    e = err_text();
    ck_assert_msg(has(e, "gbk.csv:2:3: not valid UTF-8 (byte 0xCA)") && has(e, "--encoding"), "%s", e);
    free(e); free(out);
    ck_assert_int_eq(kg(&out, "import latin.csv ok.csv"), KGP_EINPUT);
    e = err_text();
    ck_assert_msg(has(e, "latin.csv:2:6: not valid UTF-8"), "%s", e);
    free(e); free(out);
    ck_assert_msg(same_db(), "a refused encoding changed the database");
    /* a wrong --encoding that cannot decode the bytes: refused too */
    put("bad8.csv", "id,title\nx,\xff\xff\n", (size_t)-1);
    ck_assert_int_eq(kg(&out, "import --encoding GBK bad8.csv"), KGP_EINPUT);
    e = err_text();
    ck_assert_msg(has(e, "bad8.csv:2:3: not valid GBK (byte 0xFF at byte 12"), "%s", e);
    free(e); free(out);
    ck_assert_msg(same_db(), "a failed conversion changed the database");
    /* named: read correctly */
    ck_assert_int_eq(kg(&out, "import --encoding GBK gbk.csv"), 0);
    free(out);
    ck_assert_int_eq(kg(&out, "show gbk:g --json"), 0);
    ck_assert_msg(has(out, "\"title\": \"数学\""), "%s", out);
    free(out);
    graphml_has("数学");
    ck_assert_int_eq(kg(&out, "import --encoding ISO-8859-1 latin.csv"), 0);
    free(out);
    ck_assert_int_eq(kg(&out, "show latin:c --json"), 0);
    ck_assert_msg(has(out, "\"title\": \"Café\""), "%s", out);
    free(out);
    /* UTF-16 with a byte order mark needs no --encoding */
    ck_assert_int_eq(kg(&out, "import u16.csv"), 0);
    free(out);
    ck_assert_int_eq(kg(&out, "show u16:u --json"), 0);
    ck_assert_msg(has(out, "\"title\": \"Ünïcode\""), "%s", out);
    free(out);
    graphml_has("Ünïcode");
}
END_TEST

/* The writer refuses any course model string that is not UTF-8, whichever
 * importer made it, and writes nothing. */
START_TEST(test_writer_refuses_invalid_utf8)
{
    kgg_store *st;
    kgg_err e;
    ck_assert_int_eq(kgg_store_open(g_db, 0, 0, &st, &e), KGP_OK);
    kgg_course *c = kgg_course_new();
    c->id = kgg_course_str(c, "m");
    c->title = kgg_course_str(c, "Model");
    c->format = kgg_course_str(c, "test");
    kgg_concept *k = kgg_course_add_concept(c, "a", "Fine");
    k->description = kgg_course_str(c, "over\xc3(bad)");
    k = kgg_course_add_concept(c, "b", "Also fine");
    kgg_concept_add_tag(c, k, "\xed\xa0\x80");          /* a UTF-16 surrogate */
    kgg_write_result w;
    kgg_write_result_init(&w);
    ck_assert_int_eq(kgg_store_write(st, &c, 1, 0, &w, &e), KGP_EINPUT);
    ck_assert_int_eq(w.nerrors, 2);
    ck_assert_msg(has(e.msg, "concept 'a': the description is not valid UTF-8 (byte 0xC3 at byte 5)"),
                  "%s", e.msg);
    ck_assert_msg(has(w.msgs[1].message, "concept 'b': a tag is not valid UTF-8"), "%s", w.msgs[1].message);
    ck_assert_int_eq(w.committed, 0);
    kgg_write_result_free(&w);
    kgg_course_free(c);
    kgg_store_close(st);
    ck_assert_int_eq(kgg_utf8_prefix("ab\xc3\xa9z", 5), 5);
    ck_assert_int_eq(kgg_utf8_prefix("ab\xc0\xaf", 4), 2);           /* overlong '/' */
    ck_assert_int_eq(kgg_utf8_prefix("\xf4\x90\x80\x80", 4), 0);     /* above U+10FFFF */
}
END_TEST

/* A subtitle file in another encoding does not sink an OLX course, and
 * its invalid bytes never reach the course model's text. */
START_TEST(test_olx_transcript_not_utf8)
{
    char cmd[4200];
    snprintf(cmd, sizeof cmd, "cp -r '%s/tests/fixtures-import/olx' '%s/olx'", tu_source_root(), g_dir);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    put("olx/static/count-en.srt", "1\n00:00:01,000 --> 00:00:03,000\nCaf\xe9 counting.\n", (size_t)-1);
    char *root = tu_path(g_dir, "olx");
    kgi_result r;
    ck_assert_int_eq(kgi_import_path(root, NULL, &r), 0);
    ck_assert_uint_eq(r.ncourses, 1);
    kgg_course *c = r.courses[0];
    int warned = 0, found = 0;
    for (size_t i = 0; i < c->ndiags; i++)
        warned |= has(c->diags[i].message, "transcript \"count-en.srt\" is not UTF-8 (byte 0xE9 at line 3, column 4)");
    for (size_t i = 0; i < c->nconcepts; i++)
        found |= has(c->concepts[i].description, "Caf\xef\xbf\xbd counting.");
    ck_assert_msg(warned && found, "warned %d, text kept %d", warned, found);
    ck_assert_int_eq(kgg_course_check_utf8(c), 0);
    kgi_result_free(&r);
    free(root);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("import_identity");
    TCase *t = tcase_create("identity");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 120);
    tcase_add_test(t, test_unicode_csv_names_kept_apart);
    tcase_add_test(t, test_cartridges_sharing_a_template_id);
    tcase_add_test(t, test_one_import_renames_the_later);
    tcase_add_test(t, test_other_spellings_of_the_path_change_nothing);
    tcase_add_test(t, test_failed_import_leaves_no_file);
    tcase_add_test(t, test_encodings);
    tcase_add_test(t, test_writer_refuses_invalid_utf8);
    tcase_add_test(t, test_olx_transcript_not_utf8);
    suite_add_tcase(s, t);
    return s;
}
