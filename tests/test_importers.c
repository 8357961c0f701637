/* Importers other than kgxml: the dispatcher, packages (folders and
 * archives read in place, path safety, archive limits), CSV, the
 * aicc_script expression parser, SCORM 1.2 / 2004, Open edX OLX, IMS Common
 * Cartridge and Moodle, on the handwritten fixtures in
 * tests/fixtures-import/ and on bad input written by the tests. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include "importers/aicc_expr.h"
#include "importers/html_text.h"
#include "importers/importers.h"
#include "importers/pkg.h"
#include "tests/testutil.h"

/* ---- helpers ------------------------------------------------------------- */

static char *fixture(const char *rel)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s/tests/fixtures-import/%s", tu_source_root(), rel);
    return strdup(buf);
}

static void dump(const kgi_result *r)
{
    if (r->error[0]) fprintf(stderr, "error: %s\n", r->error);
    for (size_t i = 0; i < r->ncourses; i++)
        for (size_t d = 0; d < r->courses[i]->ndiags; d++) {
            const kgg_diag *g = &r->courses[i]->diags[d];
            fprintf(stderr, "  %s:%u:%u: %s%s\n", g->file ? g->file : "-", g->line, g->column,
                    g->severity == KGG_ERROR ? "error: " : "warning: ", g->message);
        }
}

static int import(const char *path, int drafts, kgi_result *r)
{
    kgi_options opt = { .include_drafts = drafts, .validate_schema = 1 };
    return kgi_import_path(path, &opt, r);
}

static kgg_course *import_one(const char *rel, int drafts, kgi_result *r)
{
    char *p = fixture(rel);
    int rc = import(p, drafts, r);
    if (rc != 0 || r->ncourses != 1) dump(r);
    ck_assert_msg(rc == 0, "%s: import failed", rel);
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

/* The concept has a group of exactly these members (in any order) with k. */
static int has_group(const kgg_concept *k, uint32_t kk, const char *members)
{
    for (size_t g = 0; g < k->ngroups; g++) {
        const kgg_group *grp = &k->groups[g];
        if (grp->k != kk) continue;
        char tmp[512];
        snprintf(tmp, sizeof tmp, "%s", members);
        size_t n = 0;
        int all = 1;
        for (char *s = strtok(tmp, " "); s; s = strtok(NULL, " ")) {
            n++;
            int hit = 0;
            for (size_t m = 0; m < grp->nmembers; m++) hit |= strcmp(grp->members[m].target, s) == 0;
            all &= hit;
        }
        if (all && n == grp->nmembers) return 1;
    }
    return 0;
}

static int requires(const kgg_course *c, const char *id, const char *target)
{
    return has_group(concept(c, id), 1, target);
}

static int recommends(const kgg_course *c, const char *id, const char *target)
{
    const kgg_concept *k = concept(c, id);
    for (size_t i = 0; i < k->nrecommends; i++) if (strcmp(k->recommends[i].target, target) == 0) return 1;
    return 0;
}

static const kgg_diag *find_diag(const kgg_course *c, kgg_severity sev, const char *needle)
{
    for (size_t i = 0; i < c->ndiags; i++)
        if (c->diags[i].severity == sev && strstr(c->diags[i].message, needle)) return &c->diags[i];
    return NULL;
}

static int text_has(const kgg_concept *k, const char *needle)
{
    return (k->description && strstr(k->description, needle)) || (k->summary && strstr(k->summary, needle));
}

/* Writes an archive (format: "zip" or "tar.gz") of entries name/data;
 * data NULL with link != NULL writes a symlink. */
typedef struct ent { const char *name; const char *data; size_t len; const char *link; } ent;

static void write_archive(const char *path, int zip, const ent *e, size_t n)
{
    struct archive *a = archive_write_new();
    if (zip) archive_write_set_format_zip(a);
    else { archive_write_set_format_pax_restricted(a); archive_write_add_filter_gzip(a); }
    ck_assert_int_eq(archive_write_open_filename(a, path), ARCHIVE_OK);
    for (size_t i = 0; i < n; i++) {
        struct archive_entry *ae = archive_entry_new();
        archive_entry_set_pathname(ae, e[i].name);
        if (e[i].link) {
            archive_entry_set_filetype(ae, AE_IFLNK);
            archive_entry_set_symlink(ae, e[i].link);
            archive_entry_set_perm(ae, 0777);
            archive_write_header(a, ae);
        } else {
            size_t len = e[i].len ? e[i].len : strlen(e[i].data);
            archive_entry_set_filetype(ae, AE_IFREG);
            archive_entry_set_perm(ae, 0644);
            archive_entry_set_size(ae, (la_int64_t)len);
            archive_write_header(a, ae);
            archive_write_data(a, e[i].data, len);
        }
        archive_entry_free(ae);
    }
    archive_write_close(a);
    archive_write_free(a);
}

static const char *CSV_OK = "id,title,minutes\na,Alpha,5\n";

/* ---- paths and packages --------------------------------------------------- */

START_TEST(resolve_paths)
{
    char out[512], err[256];
    ck_assert_int_eq(kgi_pkg_resolve("Course01", "Lesson01\\sco%2002.htm", out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "Course01/Lesson01/sco 02.htm");
    ck_assert_int_eq(kgi_pkg_resolve("a/b/", "./c/../d.html?x=1#top", out, sizeof out, err, sizeof err), 0);
    ck_assert_str_eq(out, "a/b/d.html");
    ck_assert_int_eq(kgi_pkg_resolve("", "https://example.org/x", out, sizeof out, err, sizeof err), 1);
    ck_assert_int_eq(kgi_pkg_resolve("a", "../../etc/passwd", out, sizeof out, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "leaves the package"));
    ck_assert_int_eq(kgi_pkg_resolve("", "%2e%2e/x", out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(kgi_pkg_resolve("", "/etc/passwd", out, sizeof out, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "absolute"));
    ck_assert_int_eq(kgi_pkg_resolve("", "C:\\x\\y.htm", out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(kgi_pkg_resolve("", "%5c%5cserver/x", out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(kgi_pkg_resolve("", "a%00b", out, sizeof out, err, sizeof err), -1);
    ck_assert_int_eq(kgi_pkg_resolve("", "  ", out, sizeof out, err, sizeof err), -1);
}
END_TEST

START_TEST(folder_links_and_missing)
{
    char *dir = tu_mkdtemp();
    char *pkgdir = tu_path(dir, "pkg");
    mkdir(pkgdir, 0755);
    char *f = tu_path(pkgdir, "in.html");
    tu_write(f, "<p>x</p>", (size_t)-1);
    char *secret = tu_path(dir, "secret.txt");
    tu_write(secret, "s", (size_t)-1);
    char *link = tu_path(pkgdir, "out.html");
    ck_assert_int_eq(symlink(secret, link), 0);
    kgi_pkg *p;
    char err[512];
    ck_assert_int_eq(kgi_pkg_open(pkgdir, NULL, &p, err, sizeof err), 0);
    char *buf; size_t len;
    ck_assert_int_eq(kgi_pkg_read(p, "in.html", &buf, &len, err, sizeof err), 0);
    ck_assert_uint_eq(len, 8);
    free(buf);
    ck_assert_int_eq(kgi_pkg_read(p, "out.html", &buf, &len, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "out of the package"));
    ck_assert_int_eq(kgi_pkg_read(p, "nope.html", &buf, &len, err, sizeof err), 1);
    ck_assert_ptr_nonnull(strstr(err, "nope.html"));
    ck_assert_uint_eq(kgi_pkg_count(p), 2);
    ck_assert_str_eq(kgi_pkg_entry(p, 0), "in.html");
    kgi_pkg_close(p);
    kgi_pkg_limits lim;
    kgi_pkg_default_limits(&lim);
    lim.max_entries = 1;
    ck_assert_int_eq(kgi_pkg_open(pkgdir, &lim, &p, err, sizeof err), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 1 files"));
    tu_rmrf(dir);
    free(dir); free(pkgdir); free(f); free(secret); free(link);
}
END_TEST

START_TEST(archive_reads_in_place)
{
    char *dir = tu_mkdtemp();
    char *z = tu_path(dir, "c.zip"), *t = tu_path(dir, "c.tar.gz");
    ent e[] = { { "top/course.csv", CSV_OK, 0, NULL }, { "top/x.bin", "\x01\x02", 2, NULL },
                { "top/alias.csv", NULL, 0, "course.csv" } };
    write_archive(z, 1, e, 2);
    write_archive(t, 0, e, 3);
    for (int i = 0; i < 2; i++) {
        kgi_pkg *p;
        char err[512];
        ck_assert_int_eq(kgi_pkg_open(i ? t : z, NULL, &p, err, sizeof err), 0);
        ck_assert(kgi_pkg_is_archive(p));
        char *buf; size_t len;
        ck_assert_int_eq(kgi_pkg_read(p, "top/course.csv", &buf, &len, err, sizeof err), 0);
        ck_assert_str_eq(buf, CSV_OK);
        free(buf);
        ck_assert_int_eq(kgi_pkg_read(p, "top/x.bin", &buf, &len, err, sizeof err), -1);
        if (i) {
            ck_assert_int_eq(kgi_pkg_read(p, "top/alias.csv", &buf, &len, err, sizeof err), 0);
            free(buf);
        }
        ck_assert_int_eq(kgi_pkg_read(p, "top/none.csv", &buf, &len, err, sizeof err), 1);
        kgi_pkg_close(p);
    }
    /* An archive holding only a CSV imports it. */
    kgi_result r;
    ck_assert_int_eq(import(z, 0, &r), 0);
    ck_assert_uint_eq(r.ncourses, 1);
    ck_assert_ptr_nonnull(strstr(r.courses[0]->source, "c.zip!top/course.csv"));
    kgi_result_free(&r);
    /* Nothing was unpacked next to the archive. */
    char *cmd = NULL;
    char line[600];
    snprintf(line, sizeof line, "ls %s | wc -l", dir);
    tu_run(line, &cmd);
    ck_assert_int_eq(atoi(cmd), 2);
    free(cmd);
    tu_rmrf(dir);
    free(dir); free(z); free(t);
}
END_TEST

static void expect_open_error(const ent *e, size_t n, int zip, const kgi_pkg_limits *lim, const char *needle)
{
    char *dir = tu_mkdtemp();
    char *z = tu_path(dir, zip ? "bad.zip" : "bad.tar.gz");
    write_archive(z, zip, e, n);
    kgi_pkg *p = NULL;
    char err[1024] = "";
    ck_assert_int_eq(kgi_pkg_open(z, lim, &p, err, sizeof err), -1);
    ck_assert_msg(strstr(err, needle) != NULL, "error \"%s\" lacks \"%s\"", err, needle);
    /* Through the dispatcher (default limits): a clear error, no course. */
    if (!lim) {
        kgi_result r;
        ck_assert_int_eq(import(z, 0, &r), -1);
        ck_assert_uint_eq(r.ncourses, 0);
        ck_assert(r.error[0] != 0);
        kgi_result_free(&r);
    }
    tu_rmrf(dir);
    free(dir); free(z);
}

START_TEST(archive_zip_slip)
{
    ent up[] = { { "ok.csv", CSV_OK, 0, NULL }, { "../evil.csv", CSV_OK, 0, NULL } };
    expect_open_error(up, 2, 1, NULL, "zip-slip");
    ent abs[] = { { "/tmp/evil.csv", CSV_OK, 0, NULL } };
    expect_open_error(abs, 1, 0, NULL, "zip-slip");
    ent deep[] = { { "a/b/../../../evil.csv", CSV_OK, 0, NULL } };
    expect_open_error(deep, 1, 1, NULL, "zip-slip");
    ent lnk[] = { { "a/link.csv", NULL, 0, "../../etc/passwd" } };
    expect_open_error(lnk, 1, 0, NULL, "leaves the archive");
    ent lnk2[] = { { "a/link.csv", NULL, 0, "/etc/passwd" } };
    expect_open_error(lnk2, 1, 0, NULL, "leaves the archive");
}
END_TEST

START_TEST(archive_limits)
{
    size_t big = 8u << 20;
    char *zeros = calloc(1, big);
    memset(zeros, 'a', big);
    ent bomb[] = { { "bomb.txt", zeros, big, NULL } };
    expect_open_error(bomb, 1, 1, NULL, "ratio");           /* 8 MiB of 'a' deflates ~1000:1 */
    ent bomb2[] = { { "bomb.bin", zeros, big, NULL } };      /* skipped entry: declared size counts */
    expect_open_error(bomb2, 1, 0, NULL, "ratio");
    kgi_pkg_limits lim;
    kgi_pkg_default_limits(&lim);
    lim.max_entries = 2;
    ent many[] = { { "a.csv", CSV_OK, 0, NULL }, { "b.csv", CSV_OK, 0, NULL }, { "c.csv", CSV_OK, 0, NULL } };
    expect_open_error(many, 3, 1, &lim, "entries");
    /* every header counts, also names that are no file ("./"): the limit
     * bounds the work, not only what is kept */
    ent noname[] = { { "./", "", 0, NULL }, { ".//", "", 0, NULL }, { "./.", "", 0, NULL } };
    expect_open_error(noname, 3, 1, &lim, "more than 2 entries");
    /* two entries of one name: refused, not the last one taken silently */
    ent dup[] = { { "c.csv", CSV_OK, 0, NULL }, { "c.csv", "id,title\nz,Z\n", 0, NULL } };
    expect_open_error(dup, 2, 1, NULL, "entry \"c.csv\" appears twice in the archive");
    expect_open_error(dup, 2, 0, NULL, "appears twice");
    kgi_pkg_default_limits(&lim);
    lim.max_total = 1000;
    lim.max_ratio = 1e9;
    ent total[] = { { "a.txt", zeros, 4000, NULL } };
    expect_open_error(total, 1, 1, &lim, "limit");
    free(zeros);
}
END_TEST

START_TEST(dispatcher_errors)
{
    kgi_result r;
    ck_assert_int_eq(import("/nonexistent/kgpath", 0, &r), -1);
    ck_assert_ptr_nonnull(strstr(r.error, "No such file"));
    kgi_result_free(&r);
    char *dir = tu_mkdtemp();
    char *f = tu_path(dir, "notes.txt");
    tu_write(f, "hello", (size_t)-1);
    ck_assert_int_eq(import(f, 0, &r), -1);
    ck_assert_ptr_nonnull(strstr(r.error, "unknown format"));
    kgi_result_free(&r);
    ck_assert_int_eq(import(dir, 0, &r), -1);
    ck_assert_ptr_nonnull(strstr(r.error, "no course found"));
    kgi_result_free(&r);
    char *x = tu_path(dir, "other.xml");
    tu_write(x, "<root xmlns='urn:x'/>", (size_t)-1);
    ck_assert_int_eq(import(x, 0, &r), -1);
    ck_assert_ptr_nonnull(strstr(r.error, "unknown XML format"));
    kgi_result_free(&r);
    /* a <course> without the kgxml namespace: the message gives the xmlns */
    char *nons = tu_path(dir, "nons.xml");
    tu_write(nons, "<course id='x' xml:lang='en'><title>T</title></course>", (size_t)-1);
    ck_assert_int_eq(import(nons, 0, &r), -1);
    ck_assert_msg(strstr(r.error, "needs xmlns=\"https://kgpath.org/ns/course/1\""), "%s", r.error);
    kgi_result_free(&r);
    free(nons);
    char *fake = tu_path(dir, "fake.zip");
    tu_write(fake, "not a zip at all", (size_t)-1);
    ck_assert_int_eq(import(fake, 0, &r), -1);
    ck_assert_ptr_nonnull(strstr(r.error, "archive"));
    kgi_result_free(&r);
    tu_rmrf(dir);
    free(dir); free(f); free(x); free(fake);
}
END_TEST

/* A kgxml course may be called course.xml (as README's xmllint example
 * names it): given directly, it is that one file, not an Open edX folder
 * whose other .xml and .csv files would all be imported with it. */
START_TEST(kgxml_named_course_xml)
{
    char *dir = tu_mkdtemp();
    char *f = tu_path(dir, "course.xml"), *other = tu_path(dir, "other.xml");
    tu_write(f, "\xEF\xBB\xBF<?xml version='1.0' encoding='UTF-8'?>\n"
                "<course xmlns='https://kgpath.org/ns/course/1' id='mine' xml:lang='en'>"
                "<title>Mine</title><concept id='a'><title>A</title></concept></course>", (size_t)-1);
    tu_write(other, "<course xmlns='https://kgpath.org/ns/course/1' id='other' xml:lang='en'>"
                    "<title>Other</title><concept id='b'><title>B</title></concept></course>", (size_t)-1);
    kgi_result r;
    ck_assert_int_eq(import(f, 0, &r), 0);
    ck_assert_uint_eq(r.ncourses, 1);
    ck_assert_str_eq(r.courses[0]->id, "mine");
    ck_assert_str_eq(r.courses[0]->format, "kgxml");
    kgi_result_free(&r);
    /* an OLX course.xml (no namespace) still means its folder */
    tu_write(f, "<course url_name='run' org='Org' course='C'/>", (size_t)-1);
    import(f, 0, &r);
    for (size_t i = 0; i < r.ncourses; i++) ck_assert_str_ne(r.courses[i]->id, "mine");
    kgi_result_free(&r);
    tu_rmrf(dir);
    free(dir); free(f); free(other);
}
END_TEST

/* ---- CSV -------------------------------------------------------------------- */

START_TEST(csv_fixture)
{
    kgi_result r;
    kgg_course *c = import_one("csv/algebra.csv", 0, &r);
    ck_assert_str_eq(c->format, "csv");
    ck_assert_str_eq(c->id, "algebra");
    ck_assert_uint_eq(c->nconcepts, 5);
    ck_assert_uint_eq(c->ndiags, 0);
    ck_assert_uint_eq(c->nunits, 2);
    ck_assert_str_eq(concept(c, "fractions")->summary, "Parts of a whole, \"p/q\"");
    ck_assert(strstr(concept(c, "ratios")->summary, "\nwith a line break") != NULL);
    ck_assert_double_eq(concept(c, "decimals")->minutes, 40);
    ck_assert_double_eq(concept(c, "ratios")->minutes, 50);
    ck_assert(requires(c, "fractions", "numbers"));
    ck_assert_str_eq(concept(c, "fractions")->groups[0].members[0].reason, "needs numbers");
    ck_assert(has_group(concept(c, "ratios"), 1, "fractions decimals"));
    ck_assert(has_group(concept(c, "percent"), 2, "fractions decimals ratios"));
    ck_assert_uint_eq(concept(c, "numbers")->ngoals, 2);
    kgi_result_free(&r);
}
END_TEST

static kgg_course *csv(const char *text)
{
    kgg_course *c = kgi_csv_parse(text, strlen(text), "t.csv", NULL);
    ck_assert_ptr_nonnull(c);
    return c;
}

static void csv_error(const char *text, uint32_t line, uint32_t col, const char *needle)
{
    kgg_course *c = csv(text);
    const kgg_diag *d = find_diag(c, KGG_ERROR, needle);
    ck_assert_msg(d != NULL, "no error \"%s\"", needle);
    ck_assert_uint_eq(d->line, line);
    if (col) ck_assert_uint_eq(d->column, col);
    kgg_course_free(c);
}

START_TEST(csv_quirks_and_errors)
{
    /* BOM, CRLF, bare CR, blank lines, unknown column warned. */
    kgg_course *c = csv("\xEF\xBB\xBFID,Title,Colour\r\n\r\nx,X one,red\ry,\"Y, two\",blue\r\n");
    ck_assert_uint_eq(c->nconcepts, 2);
    ck_assert_str_eq(c->concepts[1].title, "Y, two");
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "unknown column \"Colour\""));
    ck_assert_uint_eq(kgg_course_nerrors(c), 0);
    kgg_course_free(c);
    csv_error("id,title\na,\"unterminated\n", 2, 3, "unterminated quoted field");
    csv_error("id,title\na,b\"c\n", 2, 4, "quote inside an unquoted field");
    csv_error("title,minutes\nA,3\n", 1, 1, "\"id\" and \"title\"");
    csv_error("id,title\na,A\na,B\n", 3, 1, "duplicate id");
    csv_error("id,title\nbad id,A\n", 2, 1, "bad id");
    csv_error("id,title,minutes\na,A,soon\n", 2, 5, "bad minutes");
    csv_error("id,title,prerequisites\na,A,x y\n", 2, 5, "bad prerequisite id");
    csv_error("id,title,prerequisites\na,A,\"4*{b,c}\"\n", 2, 5, "k = 4 is larger than the number of members (2)");
    csv_error("", 1, 1, "empty CSV");
    /* a control character would make every XML export invalid: refused where it is */
    csv_error("id,title\na,Alpha\x01" "beta\n", 2, 8, "control character U+0001");
    csv_error("id,title,summary\nb,B,\"two\nlines\"\na,A,x\x1fy\n", 4, 6, "control character U+001F");
    c = csv("id,title,summary\na,A\tB,\"one\r\ntwo\"\n");     /* tab and line breaks stay allowed */
    ck_assert_uint_eq(kgg_course_nerrors(c), 0);
    kgg_course_free(c);
    csv_error("id,title\n", 2, 1, "no concepts");
    csv_error("id,title\"\n", 1, 9, "quote inside");
    /* converted from UTF-16 (byte order mark), then refused: the converted
     * copy is freed too (the ASan build's leak check; fuzz_csv found it) */
    static const char u16[] = "\xFF\xFE" "i\0d\0,\0t\0i\0t\0l\0e\0\n\0a\0,\0A\0\x01\0\n\0";
    c = kgi_csv_parse(u16, sizeof u16 - 1, "u16.csv", NULL);
    ck_assert_ptr_nonnull(c);
    const kgg_diag *d = find_diag(c, KGG_ERROR, "control character U+0001");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->line, 2);
    ck_assert_uint_eq(c->nconcepts, 0);
    kgg_course_free(c);
}
END_TEST

/* ---- aicc_script --------------------------------------------------------------- */

typedef struct wl { int n; char last[512]; } wl;
static void on_warn(void *ud, const char *m) { wl *w = ud; w->n++; snprintf(w->last, sizeof w->last, "%s", m); }

static int cnf_has(const kgi_cnf *f, uint32_t k, const char *ids)
{
    for (size_t i = 0; i < f->n; i++) {
        if (f->c[i].k != k) continue;
        char tmp[256];
        snprintf(tmp, sizeof tmp, "%s", ids);
        size_t n = 0; int all = 1;
        for (char *s = strtok(tmp, " "); s; s = strtok(NULL, " ")) {
            n++;
            int hit = 0;
            for (size_t j = 0; j < f->c[i].n; j++) hit |= strcmp(f->c[i].ids[j], s) == 0;
            all &= hit;
        }
        if (all && n == f->c[i].n) return 1;
    }
    return 0;
}

START_TEST(aicc_expressions)
{
    kgi_cnf f; char err[256]; size_t pos; wl w = {0};
    /* & binds tighter than |: a | b & c = (a|b) & (a|c) */
    ck_assert_int_eq(kgi_aicc_parse("a | b & c", &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert_uint_eq(f.n, 2);
    ck_assert(cnf_has(&f, 1, "a b") && cnf_has(&f, 1, "a c"));
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse("(a|b)&c", &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert(f.n == 2 && cnf_has(&f, 1, "a b") && cnf_has(&f, 1, "c"));
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse(" 2*{S1, S2,S3} & S4=passed & S5=c ", &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert(f.n == 3 && cnf_has(&f, 2, "S1 S2 S3") && cnf_has(&f, 1, "S4") && cnf_has(&f, 1, "S5"));
    ck_assert_int_eq(w.n, 0);
    kgi_cnf_free(&f);
    /* Not expressible: warned and dropped (treated as true). */
    ck_assert_int_eq(kgi_aicc_parse("~a & b", &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert(f.n == 1 && cnf_has(&f, 1, "b") && w.n == 1 && strstr(w.last, "NOT"));
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse("a<>completed | b=not attempted & c=incomplete", &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert_uint_eq(f.n, 0);
    kgi_cnf_free(&f);
    w.n = 0;
    ck_assert_int_eq(kgi_aicc_parse("2*{a,b,c} | d", &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert(cnf_has(&f, 1, "a b c d") && w.n == 1 && strstr(w.last, "widened"));
    kgi_cnf_free(&f);
    /* Syntax errors with the position. */
    ck_assert_int_eq(kgi_aicc_parse("module1 AND module2", &f, on_warn, &w, err, sizeof err, &pos), -1);
    ck_assert(strstr(err, "AND") && pos == 9);
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse("(a & b", &f, on_warn, &w, err, sizeof err, &pos), -1);
    ck_assert_ptr_nonnull(strstr(err, "')'"));
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse("a &", &f, on_warn, &w, err, sizeof err, &pos), -1);
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse("3*{a,b}", &f, on_warn, &w, err, sizeof err, &pos), -1);
    ck_assert_ptr_nonnull(strstr(err, "more members"));
    kgi_cnf_free(&f);
    ck_assert_int_eq(kgi_aicc_parse("a=done", &f, on_warn, &w, err, sizeof err, &pos), -1);
    ck_assert_ptr_nonnull(strstr(err, "status"));
    kgi_cnf_free(&f);
    char deep[600];
    memset(deep, '(', 300); deep[300] = 'a'; memset(deep + 301, ')', 298); deep[599] = 0;
    ck_assert_int_eq(kgi_aicc_parse(deep, &f, on_warn, &w, err, sizeof err, &pos), -1);
    ck_assert_ptr_nonnull(strstr(err, "deeply"));
    kgi_cnf_free(&f);
    /* Distribution stays bounded. */
    char wide[4096] = "";
    for (int i = 0; i < 40; i++) {
        char t[64];
        snprintf(t, sizeof t, "%s(x%d & y%d)", i ? " | " : "", i, i);
        strcat(wide, t);
    }
    w.n = 0;
    ck_assert_int_eq(kgi_aicc_parse(wide, &f, on_warn, &w, err, sizeof err, &pos), 0);
    ck_assert(f.n >= 1 && f.n <= 256 && w.n >= 1);
    kgi_cnf_free(&f);
}
END_TEST

/* ---- SCORM -------------------------------------------------------------------------- */

START_TEST(scorm12_fixture)
{
    kgi_result r;
    kgg_course *c = import_one("scorm12", 0, &r);
    ck_assert_str_eq(c->format, "scorm12");
    ck_assert_str_eq(c->id, "KG-Nav_1.2");
    ck_assert_str_eq(c->title, "Navigation Basics");
    ck_assert_uint_eq(c->nconcepts, 5);
    ck_assert_str_eq(concept(c, "AGG1")->title, "Rules & Signals");
    /* aggregation = its items; prerequisites; k-of-n; CDATA and &amp; */
    ck_assert(requires(c, "AGG1", "SCO1") && requires(c, "AGG1", "SCO2"));
    ck_assert(requires(c, "SCO2", "SCO1"));
    ck_assert(requires(c, "SCO3", "AGG1"));
    ck_assert(has_group(concept(c, "SCO3"), 1, "SCO1 SCO2"));
    ck_assert(has_group(concept(c, "SCO4"), 2, "SCO1 SCO2 SCO3"));
    ck_assert(recommends(c, "SCO4", "SCO3"));
    /* the adlcp prefix bound to another namespace is not SCORM */
    ck_assert_ptr_null(find_diag(c, KGG_WARNING, "NOT_REAL_ADLCP"));
    ck_assert_uint_eq(concept(c, "SCO2")->ngroups, 1);
    /* times: maxtimeallowed forms, LOM typicallearningtime via adlcp:location with a backslash */
    ck_assert_double_eq(concept(c, "SCO1")->minutes, 30);
    ck_assert_double_eq_tol(concept(c, "SCO2")->minutes, 5.0 / 60, 1e-9);
    ck_assert_double_eq(concept(c, "SCO4")->minutes, 45);
    ck_assert(text_has(concept(c, "SCO4"), "Final exam"));
    /* text: xml:base without slash, backslash + %20, ?query#fragment; HTML entities */
    ck_assert(text_has(concept(c, "SCO1"), "depth\xC2\xA0soundings") || text_has(concept(c, "SCO1"), "depth soundings"));
    ck_assert(text_has(concept(c, "SCO2"), "Buoys mark channels"));
    ck_assert(text_has(concept(c, "SCO4"), "Nautical charts"));
    /* warnings: the missing file by name, ~ and =failed by item */
    const kgg_diag *d = find_diag(c, KGG_WARNING, "missing.htm");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_gt(d->line, 0);
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "item SCO4: prerequisites: NOT"));
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "SCO1=failed"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(scorm2004_fixture)
{
    kgi_result r;
    kgg_course *c = import_one("scorm2004", 0, &r);
    ck_assert_str_eq(c->format, "scorm2004");
    ck_assert_uint_eq(c->nconcepts, 3);
    /* sequencingCollection rule via IDRef + mapInfo: play writes g.play, rules reads it */
    ck_assert(requires(c, "rules", "play"));
    ck_assert_uint_eq(concept(c, "rules")->ngroups, 1);
    /* hiddenFromChoice under "all" of two not-satisfied conditions only hides
     * the quiz from the menu (and never fires before play/rules are
     * attempted): recommendations, not a lock */
    ck_assert(!has_group(concept(c, "quiz"), 1, "play rules"));
    ck_assert(recommends(c, "quiz", "play") && recommends(c, "quiz", "rules"));
    ck_assert_uint_eq(concept(c, "play")->ngroups, 0);
    ck_assert_double_eq(concept(c, "play")->minutes, 10);
    ck_assert_double_eq_tol(concept(c, "rules")->minutes, 90 + 0.5 / 60, 1e-9);
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "item quiz: precondition rule (skip)"));
    ck_assert(text_has(concept(c, "quiz"), "Answer the questions"));
    kgi_result_free(&r);
    /* every ISO 8601 designator, within the 0-100000 minutes every format
     * accepts; five years is well formed but over the bound (not clamped) */
    ck_assert_double_eq_tol(kgi_parse_duration("P0Y2M4DT12H30M58.55S"),
                            2 * 30 * 1440.0 + 4 * 1440.0 + 12 * 60 + 30 + 58.55 / 60, 1e-6);
    ck_assert_double_eq(kgi_parse_duration("P5Y6M4DT12H30M58.55S"), KGI_DURATION_OVER);
    ck_assert_double_eq(kgi_parse_duration("PT99999999999999H"), KGI_DURATION_OVER);
    ck_assert_double_eq(kgi_parse_duration("1e308"), -1);
    ck_assert_double_eq(kgi_parse_duration("0x10"), -1);
    ck_assert_double_eq(kgi_parse_duration("0000:30:00.00"), 30);
    ck_assert_double_eq(kgi_parse_duration("PT1H"), 60);
    ck_assert(kgi_parse_duration("P1X") < 0 && kgi_parse_duration("soon") < 0 && kgi_parse_duration("P") < 0);
}
END_TEST

static kgi_result manifest_case(const char *manifest, char **dirp)
{
    char *dir = tu_mkdtemp();
    char *m = tu_path(dir, "imsmanifest.xml");
    tu_write(m, manifest, (size_t)-1);
    kgi_result r;
    import(dir, 0, &r);
    free(m);
    *dirp = dir;
    return r;
}

START_TEST(scorm_bad_input)
{
    char *dir;
    /* entity declarations (XXE / billion laughs) are refused */
    kgi_result r = manifest_case("<?xml version='1.0'?>\n<!DOCTYPE m [<!ENTITY x SYSTEM 'file:///etc/passwd'>]>\n"
                                 "<manifest identifier='x'><organizations/></manifest>", &dir);
    ck_assert_uint_eq(r.ncourses, 1);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_ERROR, "entity"));
    kgi_result_free(&r); tu_rmrf(dir); free(dir);
    /* malformed XML: file:line:column */
    r = manifest_case("<manifest identifier='x'>\n  <organizations>\n</manifest>", &dir);
    const kgg_diag *d = find_diag(r.courses[0], KGG_ERROR, "");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->line, 3);
    ck_assert_uint_gt(d->column, 0);
    ck_assert_ptr_nonnull(strstr(d->file, "imsmanifest.xml"));
    kgi_result_free(&r); tu_rmrf(dir); free(dir);
    /* no organizations; bad expression; unsafe href */
    r = manifest_case("<manifest identifier='x'/>", &dir);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_ERROR, "no <organizations>"));
    kgi_result_free(&r); tu_rmrf(dir); free(dir);
    r = manifest_case("<manifest identifier='x' xmlns:adlcp='http://www.adlnet.org/xsd/adlcp_rootv1p2'>"
                      "<organizations default='o'><organization identifier='o'>"
                      "<item identifier='a'><title>A</title></item>"
                      "<item identifier='b' identifierref='r'><title>B</title>\n"
                      "<adlcp:prerequisites type='aicc_script'>a OR zz</adlcp:prerequisites></item>"
                      "</organization></organizations><resources>"
                      "<resource identifier='r' href='../../etc/passwd'/></resources></manifest>", &dir);
    ck_assert_int_eq(kgg_course_nerrors(r.courses[0]) >= 2, 1);
    d = find_diag(r.courses[0], KGG_ERROR, "bad aicc_script prerequisites \"a OR zz\"");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->line, 2);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_ERROR, "leaves the package"));
    kgi_result_free(&r); tu_rmrf(dir); free(dir);
    /* unknown item in an expression is a warning naming it */
    r = manifest_case("<manifest identifier='x' xmlns:adlcp='http://www.adlnet.org/xsd/adlcp_rootv1p2'>"
                      "<organizations><organization identifier='o'>"
                      "<item identifier='a'><title>A</title>"
                      "<adlcp:prerequisites type='aicc_script'>ghost | a</adlcp:prerequisites></item>"
                      "</organization></organizations></manifest>", &dir);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_WARNING, "unknown item \"ghost\""));
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_WARNING, "itself"));
    kgi_result_free(&r); tu_rmrf(dir); free(dir);
    /* a duration over 100000 minutes is named and ignored, never stored */
    r = manifest_case("<manifest identifier='x' xmlns:adlcp='http://www.adlnet.org/xsd/adlcp_rootv1p2'>"
                      "<organizations><organization identifier='o'>\n"
                      "<item identifier='a'><title>A</title>\n"
                      "<adlcp:maxtimeallowed>P5Y</adlcp:maxtimeallowed></item>"
                      "</organization></organizations></manifest>", &dir);
    d = find_diag(r.courses[0], KGG_WARNING, "maxtimeallowed: duration is over 100000 minutes; ignored");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->line, 3);
    ck_assert_double_eq(concept(r.courses[0], "a")->minutes, -1);
    kgi_result_free(&r); tu_rmrf(dir); free(dir);
}
END_TEST

/* ---- OLX ------------------------------------------------------------------------------ */

START_TEST(olx_fixture)
{
    kgi_result r;
    kgg_course *c = import_one("olx", 0, &r);
    ck_assert_str_eq(c->format, "olx");
    ck_assert_str_eq(c->id, "KgOrg.ALG101");
    ck_assert_str_eq(c->title, "Algebra Basics");
    ck_assert_uint_eq(c->nconcepts, 4);
    ck_assert_uint_eq(c->nunits, 2);
    const kgg_concept *s = concept(c, "seq_count");
    ck_assert_str_eq(s->title, "Counting");
    ck_assert(text_has(s, "Counting\xC2\xA0starts at one\xC2\xAE") || text_has(s, "Counting starts at one\xC2\xAE"));
    ck_assert(!text_has(s, "hidden") && !text_has(s, "secret"));   /* no scripts */
    ck_assert(text_has(s, "How many apples"));
    ck_assert(text_has(s, "Count them one by one"));
    ck_assert(text_has(s, "Welcome to counting. One, two, three."));
    ck_assert(!text_has(s, "-->") && !text_has(s, "zebra"));
    ck_assert(requires(c, "ch_numbers", "seq_count"));
    /* conditional: sources by i4x:// and block-v1: in another sequential */
    ck_assert(requires(c, "seq_inline", "seq_count"));
    ck_assert(text_has(concept(c, "seq_inline"), "Fractions use numerators"));
    /* effort 03:00 spread over two sequentials */
    ck_assert_double_eq(concept(c, "seq_inline")->minutes, 90);
    ck_assert_double_eq(concept(c, "ch_numbers")->minutes, 0);     /* a chapter: no time of its own */
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "sequential/seq_missing.xml"));
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "2 unpublished draft block"));
    kgi_result_free(&r);
    /* with drafts: the draft vertical joins seq_count */
    c = import_one("olx", 1, &r);
    ck_assert(text_has(concept(c, "seq_count"), "Unpublished zebra text"));
    ck_assert_ptr_null(find_diag(c, KGG_WARNING, "draft"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(olx_bad_input)
{
    char *dir = tu_mkdtemp();
    char *cx = tu_path(dir, "course.xml");
    char *chd = tu_path(dir, "chapter");
    mkdir(chd, 0755);
    tu_write(cx, "<course org='o' course='c'><chapter url_name='../../x'/><chapter url_name='ok'/></course>", (size_t)-1);
    char *ch = tu_path(chd, "ok.xml");
    tu_write(ch, "<chapter display_name='OK'><sequential display_name='S'>\n<html>unclosed</chapter>", (size_t)-1);
    kgi_result r;
    ck_assert_int_eq(import(dir, 0, &r), -1);
    ck_assert_uint_eq(r.ncourses, 1);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_ERROR, "leaves the package"));
    const kgg_diag *d = NULL;
    for (size_t i = 0; i < r.courses[0]->ndiags; i++)
        if (r.courses[0]->diags[i].severity == KGG_ERROR && strstr(r.courses[0]->diags[i].file, "ok.xml"))
            d = &r.courses[0]->diags[i];
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->line, 2);
    kgi_result_free(&r);
    tu_write(cx, "<course org='o' course='c'/>", (size_t)-1);
    ck_assert_int_eq(import(cx, 0, &r), -1);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_ERROR, "no chapters"));
    kgi_result_free(&r);
    tu_rmrf(dir);
    free(dir); free(cx); free(chd); free(ch);
}
END_TEST

/* ---- IMS CC and Moodle ---------------------------------------------------------------------- */

START_TEST(imscc_fixture)
{
    kgi_result r;
    kgg_course *c = import_one("imscc", 0, &r);
    ck_assert_str_eq(c->format, "imscc");
    ck_assert_str_eq(c->id, "cc-kg-1");
    ck_assert_str_eq(c->title, "Statistics 101");    /* from LOM: the organization has no title */
    ck_assert_uint_eq(c->nconcepts, 5);                /* the untitled root item is skipped */
    ck_assert(requires(c, "mod_b", "it_mean"));        /* Canvas: mod_a is complete once it_mean is viewed */
    ck_assert(!requires(c, "mod_b", "mod_a"));
    ck_assert(requires(c, "it_test", "it_mean"));      /* LOM relation requires (resource id) */
    ck_assert_double_eq(concept(c, "it_mean")->minutes, 20);
    ck_assert(text_has(concept(c, "it_mean"), "arithmetic mean & its uses"));
    const kgg_concept *l = concept(c, "it_link");
    ck_assert_uint_eq(l->nresources, 1);
    ck_assert_str_eq(l->resources[0].url, "https://seeing-theory.brown.edu/");
    ck_assert_uint_eq(concept(c, "mod_a")->ngoals, 1);
    ck_assert_str_eq(concept(c, "mod_a")->goals[0], "Summarise data: Use the mean");
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "mod_zzz"));
    kgi_result_free(&r);
}
END_TEST

START_TEST(moodle_fixture)
{
    kgi_result r;
    kgg_course *c = import_one("moodle", 0, &r);
    ck_assert_str_eq(c->format, "moodle");
    ck_assert_str_eq(c->id, "KG-MOOD");
    ck_assert_str_eq(c->title, "Kg Moodle Course");
    ck_assert_str_eq(concept(c, "section-10")->title, "General");
    ck_assert(text_has(concept(c, "section-10"), "Welcome \xF0\x9F\x98\x80 to the course"));
    ck_assert(!text_has(concept(c, "section-10"), "$@"));
    ck_assert(text_has(concept(c, "page-101"), "Sets & numbers"));
    ck_assert(!text_has(concept(c, "page-101"), "PLUGINFILE"));
    ck_assert(requires(c, "section-11", "quiz-102"));
    /* section restriction applies to its activities; the date part is reported */
    ck_assert(requires(c, "quiz-102", "page-101"));
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "type \"date\""));
    /* | with an unconstrained branch (group) adds nothing; the group is reported */
    ck_assert_uint_eq(concept(c, "quiz-102")->ngroups, 1);
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "type \"group\""));
    /* grade condition via grades.xml, nested |, negations reported */
    const kgg_concept *p = concept(c, "page-103");
    ck_assert(has_group(p, 1, "quiz-102"));
    ck_assert(has_group(p, 1, "page-101 quiz-102"));
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "must not be complete"));
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "\"!&\""));
    ck_assert_ptr_nonnull(find_diag(c, KGG_WARNING, "label_104/module.xml"));
    ck_assert_int_lt(kgg_course_find(c, "label-104"), 0);      /* a label is not a concept */
    kgi_result_free(&r);
}
END_TEST

START_TEST(moodle_bad_json)
{
    char *dir = tu_mkdtemp();
    char *sec = tu_path(dir, "sections"), *s1 = tu_path(dir, "sections/section_1");
    mkdir(sec, 0755); mkdir(s1, 0755);
    char *mb = tu_path(dir, "moodle_backup.xml"), *sx = tu_path(s1, "section.xml");
    tu_write(mb, "<moodle_backup><information><original_course_shortname>x</original_course_shortname>"
                 "<contents><sections><section><sectionid>1</sectionid><directory>sections/section_1</directory>"
                 "</section></sections></contents></information></moodle_backup>", (size_t)-1);
    tu_write(sx, "<section id='1'><number>1</number><name>S</name>\n<availabilityjson>{\"op\":</availabilityjson></section>",
             (size_t)-1);
    kgi_result r;
    ck_assert_int_eq(import(dir, 0, &r), -1);
    const kgg_diag *d = find_diag(r.courses[0], KGG_ERROR, "not valid JSON");
    ck_assert_ptr_nonnull(d);
    ck_assert_uint_eq(d->line, 2);
    kgi_result_free(&r);
    tu_write(mb, "<not_moodle/>", (size_t)-1);
    ck_assert_int_eq(import(dir, 0, &r), -1);
    ck_assert_ptr_nonnull(find_diag(r.courses[0], KGG_ERROR, "<moodle_backup>"));
    kgi_result_free(&r);
    tu_rmrf(dir);
    free(dir); free(sec); free(s1); free(mb); free(sx);
}
END_TEST

START_TEST(html_and_ids)
{
    const char *h = "<p>A&nbsp;B &reg; <b>bold</b><script>no()</script></p><p>next";
    char *t = kgi_html_to_text(h, strlen(h));
    ck_assert_str_eq(t, "A B \xC2\xAE bold next");
    free(t);
    const char *srt = "1\n00:00:01,000 --> 00:00:02,000\n<i>Hi</i> there\n\n2\n00:00:02,000 --> 00:00:03,000\nBye\n";
    t = kgi_srt_to_text(srt, strlen(srt));
    ck_assert_str_eq(t, "Hi there Bye");
    free(t);
    char id[64];
    ck_assert_str_eq(kgi_safe_id("  Real Numbers! ", "x", id, sizeof id), "Real_Numbers");
    ck_assert_str_eq(kgi_safe_id("é/é", "fb", id, sizeof id), "fb");
    ck_assert_str_eq(kgi_safe_id("a.b-c_d", "fb", id, sizeof id), "a.b-c_d");
}
END_TEST

START_TEST(whole_archive_of_packages)
{
    /* A zip holding two packages imports both; the Moodle backup's own
     * course/course.xml is not taken for OLX. */
    char *dir = tu_mkdtemp();
    char *z = tu_path(dir, "two.zip");
    ent e[] = {
        { "one/data.csv", CSV_OK, 0, NULL },
        { "m/moodle_backup.xml", "<moodle_backup><information><original_course_shortname>M</original_course_shortname>"
          "<contents><sections><section><sectionid>1</sectionid><directory>sections/section_1</directory></section>"
          "</sections></contents></information></moodle_backup>", 0, NULL },
        { "m/sections/section_1/section.xml", "<section id='1'><number>0</number></section>", 0, NULL },
        { "m/course/course.xml", "<course id='1'><shortname>M</shortname></course>", 0, NULL },
        { "o/course.xml", "<course org='O' course='C'><chapter display_name='Ch'>"
          "<sequential display_name='S'/></chapter></course>", 0, NULL },
    };
    write_archive(z, 1, e, 5);
    kgi_result r;
    int rc = import(z, 0, &r);
    if (rc) dump(&r);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(r.ncourses, 2);
    ck_assert_str_eq(r.courses[0]->format, "moodle");
    ck_assert_str_eq(r.courses[1]->format, "olx");
    kgi_result_free(&r);
    tu_rmrf(dir);
    free(dir); free(z);
}
END_TEST

Suite *suite(void);
Suite *suite(void)
{
    Suite *s = suite_create("importers");
    TCase *t = tcase_create("core");
    tcase_set_timeout(t, 120);
    tcase_add_test(t, resolve_paths);
    tcase_add_test(t, folder_links_and_missing);
    tcase_add_test(t, archive_reads_in_place);
    tcase_add_test(t, archive_zip_slip);
    tcase_add_test(t, archive_limits);
    tcase_add_test(t, dispatcher_errors);
    tcase_add_test(t, kgxml_named_course_xml);
    tcase_add_test(t, csv_fixture);
    tcase_add_test(t, csv_quirks_and_errors);
    tcase_add_test(t, aicc_expressions);
    tcase_add_test(t, scorm12_fixture);
    tcase_add_test(t, scorm2004_fixture);
    tcase_add_test(t, scorm_bad_input);
    tcase_add_test(t, olx_fixture);
    tcase_add_test(t, olx_bad_input);
    tcase_add_test(t, imscc_fixture);
    tcase_add_test(t, moodle_fixture);
    tcase_add_test(t, moodle_bad_json);
    tcase_add_test(t, html_and_ids);
    tcase_add_test(t, whole_archive_of_packages);
    suite_add_tcase(s, t);
    return s;
}
