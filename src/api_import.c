/* Public API: kgp_import — importers (kgi_import_path) into the store's
 * writer (kgg_store_write), with a caller-owned report. */
#include "kgpath.h"
#include "api_internal.h"
#include "base/alloc.h"
#include "graph/store.h"
#include "importers/importers.h"

#include <errno.h>
#include <iconv.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

typedef struct report_box { kgp_report pub; kg_arena *a; } report_box;

void kgp_report_free(kgp_report *r)
{
    if (!r) return;
    report_box *b = (report_box *)r;
    kg_free(r->courses);
    kg_free(r->diags);
    kg_free(r->unresolved);
    kg_free(r->orphaned);
    kg_arena_free(b->a);
    kg_free(b);
}

static int add_diag(report_box *b, size_t *cap, int sev, const char *file, uint32_t line,
                    uint32_t col, const char *msg)
{
    kgp_report *r = &b->pub;
    if (kg_grow(&r->diags, cap, r->ndiags + 1, sizeof *r->diags)) return -1;
    kgp_diag *d = &r->diags[r->ndiags++];
    d->severity = sev;
    d->file = kg_arena_strdup(b->a, file);
    d->line = line;
    d->column = col;
    d->message = kg_arena_strdup(b->a, msg ? msg : "");
    if (sev == KGG_ERROR) r->nerrors++;
    return d->message ? 0 : -1;
}

static void db_clear_error(kgp_db *db) { kgp__db_error(db, KGP_OK, "%s", ""); }

static int copy_refs(report_box *b, const kgg_write_ref *src, size_t n, kgp_unref **dst, size_t *nd)
{
    *dst = kg_calloc(n ? n : 1, sizeof **dst);
    if (!*dst) return -1;
    for (size_t i = 0; i < n; i++) {
        (*dst)[i].from = kg_arena_strdup(b->a, src[i].from);
        (*dst)[i].target = kg_arena_strdup(b->a, src[i].target);
        (*dst)[i].recommended = src[i].recommended;
    }
    *nd = n;
    return 0;
}

/* Moves the write result into the public report. */
static int fill_report(report_box *b, size_t *capd, const kgg_write_result *w)
{
    kgp_report *r = &b->pub;
    r->committed = w->committed;
    for (size_t i = 0; i < w->nmsgs; i++)
        if (add_diag(b, capd, w->msgs[i].severity, w->msgs[i].file, w->msgs[i].line,
                     w->msgs[i].column, w->msgs[i].message)) return -1;
    r->courses = kg_calloc(w->ncourses ? w->ncourses : 1, sizeof *r->courses);
    if (!r->courses) return -1;
    for (size_t i = 0; i < w->ncourses; i++) {
        const kgg_write_course *c = &w->courses[i];
        kgp_report_course *o = &r->courses[i];
        o->id = kg_arena_strdup(b->a, c->id);
        o->title = kg_arena_strdup(b->a, c->title);
        o->source = kg_arena_strdup(b->a, c->source);
        o->format = kg_arena_strdup(b->a, c->format);
        o->identity = kg_arena_strdup(b->a, c->identity);
        o->concepts = c->concepts; o->groups = c->groups; o->edges = c->edges;
        o->recommends = c->recommends; o->unresolved = c->unresolved; o->removed = c->removed;
        o->replaced = c->replaced; o->unchanged = c->unchanged;
    }
    r->ncourses = w->ncourses;
    r->resolved = w->resolved;
    if (copy_refs(b, w->unresolved, w->nunresolved, &r->unresolved, &r->nunresolved)) return -1;
    if (copy_refs(b, w->orphaned, w->norphaned, &r->orphaned, &r->norphaned)) return -1;
    return 0;
}

kgp_status kgp_import(kgp_db *db, const char *const *paths, size_t npaths,
                      const kgp_import_options *opt, kgp_report **report)
{
    if (report) *report = NULL;
    if (!db || !kgp__db_store(db)) return kgp__db_error(db, KGP_EUSAGE, "database is not open");
    if (!paths || npaths == 0) return kgp__db_error(db, KGP_EUSAGE, "no files to import");
    kgg_store *st = kgp__db_store(db);
    if (kgp__db_rdonly(db))
        return kgp__db_error(db, KGP_EUSAGE, "%s: opened read-only", kgp_db_path(db));
    static const kgp_import_options defaults;
    if (!opt) opt = &defaults;

    report_box *b = kg_calloc(1, sizeof *b);
    if (!b || !(b->a = kg_arena_new())) { kg_free(b); return kgp__db_error(db, KGP_ENOMEM, "out of memory"); }
    kgp_report *r = &b->pub;
    r->dry_run = opt->dry_run != 0;
    size_t capd = 0;
    kgg_course **courses = NULL;
    size_t ncourses = 0, capc = 0;
    kgp_status st_path = KGP_OK;
    char first_path_err[1024] = "";
    kgi_options io = {.include_drafts = opt->include_drafts, .validate_schema = !opt->no_schema,
                      .schema_path = opt->schema_path, .encoding = opt->encoding};
    kgp_status s = KGP_OK;
    if (opt->encoding && *opt->encoding) {
        iconv_t cd = iconv_open("UTF-8", opt->encoding);
        if (cd == (iconv_t)-1) {
            s = kgp__db_error(db, KGP_EUSAGE, "unknown encoding '%s' (iconv names such as GBK, "
                              "ISO-8859-1, WINDOWS-1252, UTF-16; `iconv -l` lists them)", opt->encoding);
            goto out;
        }
        iconv_close(cd);
    }

    for (size_t i = 0; i < npaths; i++) {
        kgi_result res;
        int rc = kgi_import_path(paths[i], &io, &res);
        if (res.ncourses && kg_grow(&courses, &capc, ncourses + res.ncourses, sizeof *courses)) {
            kgi_result_free(&res);
            s = kgp__db_error(db, KGP_ENOMEM, "out of memory");
            goto out;
        }
        for (size_t j = 0; j < res.ncourses; j++) {
            res.courses[j]->course_order = opt->course_order != 0;
            courses[ncourses++] = res.courses[j];
        }
        res.ncourses = 0;                     /* ownership moved */
        if (rc != 0 && res.error[0]) {
            struct stat sb;
            kgp_status ps = res.oom ? KGP_ENOMEM : stat(paths[i], &sb) != 0
                ? (errno == ENOENT ? KGP_ENOTFOUND : KGP_EIO) : KGP_EINPUT;
            if (st_path == KGP_OK) {
                st_path = ps;
                snprintf(first_path_err, sizeof first_path_err, "%s", res.error);
            }
            /* the importer's message usually starts with the path already */
            if (add_diag(b, &capd, KGG_ERROR, NULL, 0, 0, res.error)) {
                kgi_result_free(&res);
                s = kgp__db_error(db, KGP_ENOMEM, "out of memory");
                goto out;
            }
        }
        kgi_result_free(&res);
        if (opt->progress) opt->progress(opt->progress_ud, i + 1, npaths, paths[i]);
    }
    if (ncourses == 0 && st_path == KGP_OK) {
        s = kgp__db_error(db, KGP_EINPUT, "no course found in the given files");
        add_diag(b, &capd, KGG_ERROR, NULL, 0, 0, "no course found in the given files");
        goto out;
    }
    /* Courses of different paths may share an id (template ids such as
     * IMS CC "cctd0015"): the later gets "-<its folder>", as within a path. */
    for (size_t i = 1; i < ncourses; i++) kgi_unique_course_id(courses, i, courses[i]);
    if (opt->as_id && st_path == KGP_OK) {
        if (ncourses != 1) {
            s = kgp__db_error(db, KGP_EUSAGE, "--as names one course, but the paths hold %zu courses",
                              ncourses);
            goto out;
        }
        courses[0]->id = kgg_course_str(courses[0], opt->as_id);
        if (!courses[0]->id) { s = kgp__db_error(db, KGP_ENOMEM, "out of memory"); goto out; }
    }
    if (opt->replace)
        for (size_t i = 0; i < ncourses; i++) courses[i]->flags |= KGG_COURSE_REPLACE;
    /* The writer checks every course and collects every message; after a
     * path error it only checks (dry run), so nothing is written. */
    kgg_write_result w;
    kgg_write_result_init(&w);
    kgg_err e = {{0}};
    s = kgg_store_write(st, courses, ncourses, opt->dry_run || st_path != KGP_OK, &w, &e);
    if (fill_report(b, &capd, &w)) {
        kgg_write_result_free(&w);
        s = kgp__db_error(db, KGP_ENOMEM, "out of memory");
        goto out;
    }
    kgg_write_result_free(&w);
    if (st_path != KGP_OK) {
        r->committed = 0;
        s = kgp__db_error(db, st_path, "%s", first_path_err);
    } else if (s != KGP_OK) {
        kgp__db_error(db, s, "%s", e.msg);
    } else {
        db_clear_error(db);
    }
out:
    for (size_t i = 0; i < ncourses; i++) kgg_course_free(courses[i]);
    kg_free(courses);
    if (report) *report = r;
    else kgp_report_free(r);
    return s;
}
