/* kgi_import_path: detects the format of a path and runs its importer.
 *
 * A path is one of:
 *  - a .csv file                                   -> CSV (csv.c)
 *  - an .xml file whose root is kgxml's <course>   -> kgxml (kgxml.c)
 *  - imsmanifest.xml / course.xml / moodle_backup.xml given directly
 *                                                  -> its folder, as below
 *  - a folder, or an archive (.zip, .imscc, .mbz, .tar.gz, .tgz, .tar, or
 *    any file starting with zip or gzip magic) read in place (pkg.c).
 * In a package, every package root is imported: a folder holding
 *   imsmanifest.xml   -> IMS Common Cartridge when the manifest's namespace
 *                        is an imscc one, else SCORM 1.2 / 2004 (by
 *                        schemaversion and namespaces, see scorm.c)
 *   moodle_backup.xml -> Moodle backup
 *   course.xml        -> Open edX OLX (root element <course>)
 * Shallower roots win and nothing inside an imported root is looked at
 * again (a Moodle backup's course/course.xml is not an OLX course). A package
 * with no such root imports its .csv files and kgxml .xml files instead.
 */
#include "importers/importers.h"
#include "importers/kgxml.h"
#include "importers/pkg.h"
#include "importers/xml_safe.h"
#include "importers/html_text.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <libxml/xmlreader.h>

#include "base/alloc.h"

/* Archive endings dropped from a name that becomes an id. */
static void drop_archive_ext(char *s)
{
    static const char *const ext[] = { ".tar.gz", ".tar.bz2", ".tar.xz", ".zip", ".imscc", ".mbz",
                                       ".tgz", ".tar", NULL };
    size_t n = strlen(s);
    for (int i = 0; ext[i]; i++) {
        size_t l = strlen(ext[i]);
        if (n > l && strcasecmp(s + n - l, ext[i]) == 0) { s[n - l] = 0; return; }
    }
}

/* The name of the folder a course came from: the folder holding its top
 * file, or the archive's name (without its ending) for a top file at the
 * archive's root. "x/a.imscc!imsmanifest.xml" -> "a", "p/b/course.xml" -> "b". */
static void source_folder(const char *source, char *out, size_t outlen)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", source ? source : "");
    char *cut = strrchr(tmp, '/'), *bang = strrchr(tmp, '!');
    if (bang && (!cut || bang > cut)) *bang = 0;    /* top file at the archive root */
    else if (cut) *cut = 0;
    kgi_source_base(tmp, out, outlen);
    drop_archive_ext(out);
}

/* A course that failed before naming itself still gets an id and title
 * (from its source path) so that messages and --dry-run can name it. */
static void name_fallback(kgg_course *c)
{
    if (c->id && c->title) return;
    const char *src = c->source ? c->source : "course";
    char tmp[512], id[256];
    snprintf(tmp, sizeof tmp, "%s", src);
    size_t n = strlen(tmp);
    static const char *const tops[] = { "imsmanifest.xml", "course.xml", "moodle_backup.xml", NULL };
    for (int i = 0; tops[i]; i++) {
        size_t l = strlen(tops[i]);
        if (n > l && strcmp(tmp + n - l, tops[i]) == 0 && (tmp[n - l - 1] == '/' || tmp[n - l - 1] == '!')) {
            source_folder(src, tmp, sizeof tmp);
            break;
        }
    }
    char b[512];
    kgi_source_base(tmp, b, sizeof b);
    drop_archive_ext(b);
    if (!c->id) c->id = kgg_course_str(c, kgi_safe_course_id(b, "course", id, sizeof id));
    if (!c->title) {
        char *t = kgi_utf8_repair(b, strlen(b));
        c->title = kgg_course_str(c, t ? t : "course");
        kg_free(t);
    }
}

void kgi_unique_course_id(kgg_course *const *others, size_t n, kgg_course *c)
{
    int clash = 0;
    for (size_t i = 0; i < n; i++)
        clash |= others[i] != c && others[i]->id && c->id && strcmp(others[i]->id, c->id) == 0 &&
                 !(others[i]->identity && c->identity && !strcmp(others[i]->identity, c->identity));
    if (!clash || !c->source) return;
    char sfx[256], folder[256], id[600];
    source_folder(c->source, folder, sizeof folder);
    kgi_safe_course_id(folder, "2", sfx, sizeof sfx);
    snprintf(id, sizeof id, "%s-%s", c->id, sfx);
    for (int k = 2; k < 1000; k++) {
        int again = 0;
        for (size_t i = 0; i < n; i++) again |= others[i]->id && strcmp(others[i]->id, id) == 0;
        if (!again) break;
        snprintf(id, sizeof id, "%s-%s-%d", c->id, sfx, k);
    }
    kgg_course_diag(c, KGG_WARNING, c->source, 0, 0,
                    "course id \"%s\" is already used by another course of this import; this one is \"%s\"",
                    c->id, id);
    c->id = kgg_course_str(c, id);
}

static int push_course(kgi_result *r, kgg_course *c)
{
    if (c) {
        if (c->source && kgg_utf8_prefix(c->source, strlen(c->source)) != strlen(c->source)) {
            char *fixed = kgi_utf8_repair(c->source, strlen(c->source));
            if (!fixed) return -1;           /* a file name in another encoding */
            c->source = kgg_course_str(c, fixed);
            kg_free(fixed);
        }
        name_fallback(c);
        /* the identity names the course as its format does, before any renaming */
        if (kgg_course_set_identity(c)) return -1;
        kgi_unique_course_id(r->courses, r->ncourses, c);
    }
    if (kg_grow(&r->courses, &r->cap, r->ncourses + 1, sizeof *r->courses)) return -1;
    r->courses[r->ncourses++] = c;
    return 0;
}

/* Reads a plain input file whole (one allocation of its size: the loop
 * also covers files that grow or lie about their size). A file over the
 * package limit for one file (kgi_pkg_limits.max_file, 256 MiB) is refused
 * before anything is read, as it is inside a package. Returns 0, or -1
 * with r->error set (r->oom when an allocation failed). */
static int read_file(kgi_result *r, const char *path, char **buf, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) { snprintf(r->error, sizeof r->error, "%s: %s", path, strerror(errno)); return -1; }
    kgi_pkg_limits lim;
    kgi_pkg_default_limits(&lim);
    struct stat sb;
    if (fstat(fileno(f), &sb) == 0 && (uint64_t)sb.st_size > lim.max_file) {
        fclose(f);
        snprintf(r->error, sizeof r->error, "%s: file of %llu bytes is over the limit for one input "
                 "file (%llu MiB); split the course", path, (unsigned long long)sb.st_size,
                 (unsigned long long)(lim.max_file >> 20));
        return -1;
    }
    size_t cap = sb.st_size > 0 ? (size_t)sb.st_size + 2 : (size_t)1 << 16, n = 0;
    char *b = kg_malloc(cap);
    while (b) {
        size_t got = fread(b + n, 1, cap - n - 1, f);
        n += got;
        if (got == 0) break;
        if (n > lim.max_file) {
            kg_free(b); fclose(f);
            snprintf(r->error, sizeof r->error, "%s: over the limit for one input file (%llu MiB); "
                     "split the course", path, (unsigned long long)(lim.max_file >> 20));
            return -1;
        }
        if (cap - n - 1 == 0) {
            char *nb = kg_realloc(b, cap * 2);
            if (!nb) { kg_free(b); b = NULL; break; }
            b = nb; cap *= 2;
        }
    }
    int bad = ferror(f);
    fclose(f);
    if (!b) { r->oom = 1; snprintf(r->error, sizeof r->error, "%s: out of memory", path); return -1; }
    if (bad) { kg_free(b); snprintf(r->error, sizeof r->error, "%s: read error", path); return -1; }
    b[n] = 0;
    *buf = b; *len = n;
    return 0;
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* The root element's namespace URI and local name, read with the streaming
 * reader so only the start of the document is parsed. 0 on success. */
static int root_name(const char *buf, size_t len, char *ns, size_t nslen, char *local, size_t llen)
{
    *ns = *local = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) { buf += 3; len -= 3; }
    if (len > (size_t)INT32_MAX) len = INT32_MAX;
    xmlTextReaderPtr rd = xmlReaderForMemory(buf, (int)len, NULL, NULL,
        XML_PARSE_NONET | XML_PARSE_NOWARNING | XML_PARSE_NOERROR);
    if (!rd) return -1;
    int rc = -1;
    while (xmlTextReaderRead(rd) == 1) {
        if (xmlTextReaderNodeType(rd) == XML_READER_TYPE_ELEMENT) {
            const xmlChar *u = xmlTextReaderConstNamespaceUri(rd);
            const xmlChar *l = xmlTextReaderConstLocalName(rd);
            snprintf(ns, nslen, "%s", u ? (const char *)u : "");
            snprintf(local, llen, "%s", l ? (const char *)l : "");
            rc = 0;
            break;
        }
    }
    xmlFreeTextReader(rd);
    return rc;
}

static int is_kgxml_root(const char *ns, const char *local)
{
    return strcmp(local, "course") == 0 &&
           (strcmp(ns, KGI_KGXML_NS) == 0 || strstr(ns, "kgpath") != NULL);
}

static void set_error(kgi_result *r, const char *fmt, const char *a, const char *b)
{
    if (!r->error[0]) snprintf(r->error, sizeof r->error, fmt, a, b ? b : "");
}

/* "NAME: out of memory", marked so that the caller reports KGP_ENOMEM. */
static int set_oom(kgi_result *r, const char *name)
{
    set_error(r, "%s: out of memory%s", name, NULL);
    r->oom = 1;
    return -1;
}

/* Imports one single-file course (CSV or kgxml) held in buf. */
static int import_buffer(kgi_result *r, const char *buf, size_t len, const char *name,
                         const kgi_options *opt, int quiet_unknown)
{
    kgg_course *c = NULL;
    if (ends_with(name, ".csv")) {
        c = kgi_csv_parse(buf, len, name, opt);
    } else {
        char ns[512], local[128];
        int ok = root_name(buf, len, ns, sizeof ns, local, sizeof local) == 0;
        if ((ok && is_kgxml_root(ns, local)) || (!ok && !quiet_unknown)) {
            /* Not well-formed: the kgxml parser reports file:line:column. */
            c = kgi_kgxml_parse(buf, len, name, opt);
        } else {
            if (!quiet_unknown) {
                char msg[900];
                /* A <course> in another namespace or none is most likely a
                 * kgxml file without its xmlns: say what to add. */
                snprintf(msg, sizeof msg, "root element {%s}%s; expected a kgpath <course>%s", ns, local,
                         strcmp(local, "course") == 0
                             ? ", which needs xmlns=\"" KGI_KGXML_NS "\" (an Open edX course is "
                               "imported by its folder or its course.xml)"
                             : "");
                set_error(r, "%s: unknown XML format (%s)", name, msg);
            }
            return 0;
        }
    }
    if (!c || c->oom || push_course(r, c)) {
        kgg_course_free(c);
        return set_oom(r, name);
    }
    return 1;
}

/* ---- packages ------------------------------------------------------------ */

enum { PK_MANIFEST = 1, PK_MOODLE, PK_OLX };

typedef struct cand { const char *file; size_t depth; int kind; } cand;

static size_t depth_of(const char *p)
{
    size_t d = 0;
    for (; *p; p++) d += *p == '/';
    return d;
}

static int cand_cmp(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    if (x->depth != y->depth) return x->depth < y->depth ? -1 : 1;
    if (x->kind != y->kind) return x->kind - y->kind;
    return strcmp(x->file, y->file);
}

/* 1 when path p lies inside folder root (package-relative, "" = root). */
static int inside(const char *p, const char *root)
{
    size_t n = strlen(root);
    return n == 0 || (strncmp(p, root, n) == 0 && p[n] == '/');
}

static int is_olx_course_file(kgi_pkg *p, const char *file)
{
    char *buf; size_t len; char err[256];
    if (kgi_pkg_read(p, file, &buf, &len, err, sizeof err) != 0) return 0;
    char ns[256], local[64];
    int ok = root_name(buf, len, ns, sizeof ns, local, sizeof local) == 0 &&
             !*ns && strcmp(local, "course") == 0;
    kg_free(buf);
    return ok;
}

static int manifest_is_imscc(kgi_pkg *p, const char *file)
{
    char *buf; size_t len; char err[256];
    if (kgi_pkg_read(p, file, &buf, &len, err, sizeof err) != 0) return 0;
    char ns[512], local[64];
    int ok = root_name(buf, len, ns, sizeof ns, local, sizeof local) == 0 &&
             strstr(ns, "imsglobal.org/xsd/imscc") != NULL;
    /* Thin CC and CC 1.x put "imsccv1pN" in the namespace; the 1.0 URI is
     * .../xsd/imscc/imscp_v1p1. Both contain "xsd/imscc". */
    kg_free(buf);
    return ok;
}

static int import_package(kgi_result *r, const char *path, const kgi_options *opt)
{
    kgi_pkg *p;
    char err[1024];
    if (kgi_pkg_open(path, NULL, &p, err, sizeof err) != 0) {
        snprintf(r->error, sizeof r->error, "%s", err);
        return -1;
    }
    size_t n = kgi_pkg_count(p), nc = 0;
    cand *cs = kg_calloc(n ? n : 1, sizeof *cs);
    if (!cs) { kgi_pkg_close(p); return set_oom(r, path); }
    for (size_t i = 0; i < n; i++) {
        const char *f = kgi_pkg_entry(p, i);
        const char *b = base_name(f);
        int kind = strcasecmp(b, "imsmanifest.xml") == 0 ? PK_MANIFEST :
                   strcmp(b, "moodle_backup.xml") == 0 ? PK_MOODLE :
                   strcmp(b, "course.xml") == 0 ? PK_OLX : 0;
        if (kind) { cs[nc].file = f; cs[nc].depth = depth_of(f); cs[nc].kind = kind; nc++; }
    }
    qsort(cs, nc, sizeof *cs, cand_cmp);
    char **roots = kg_calloc(nc ? nc : 1, sizeof *roots);
    size_t nroots = 0;
    int imported = 0, rc = 0;
    for (size_t i = 0; roots && i < nc; i++) {
        int covered = 0;
        for (size_t j = 0; j < nroots; j++) if (inside(cs[i].file, roots[j])) covered = 1;
        if (covered) continue;
        if (cs[i].kind == PK_OLX && !is_olx_course_file(p, cs[i].file)) continue;
        const char *slash = strrchr(cs[i].file, '/');
        char *root = kg_strndup(cs[i].file, slash ? (size_t)(slash - cs[i].file) : 0);
        if (!root) break;
        roots[nroots++] = root;
        kgg_course *c = NULL;
        switch (cs[i].kind) {
        case PK_MANIFEST:
            c = manifest_is_imscc(p, cs[i].file) ? kgi_imscc_import(p, root, opt)
                                                 : kgi_scorm_import(p, root, opt);
            break;
        case PK_MOODLE: c = kgi_moodle_import(p, root, opt); break;
        case PK_OLX:    c = kgi_olx_import(p, root, opt); break;
        }
        if (!c || push_course(r, c)) {
            kgg_course_free(c);
            rc = set_oom(r, path);
            break;
        }
        imported++;
    }
    if (!roots) rc = set_oom(r, path);
    /* No package root: single-file courses inside the package. */
    if (rc == 0 && imported == 0) {
        for (size_t i = 0; i < n; i++) {
            const char *f = kgi_pkg_entry(p, i);
            if (!ends_with(f, ".csv") && !ends_with(f, ".xml")) continue;
            char *buf; size_t len;
            if (kgi_pkg_read(p, f, &buf, &len, err, sizeof err) != 0) continue;
            char shown[1024];
            kgi_pkg_display(p, f, shown, sizeof shown);
            int got = import_buffer(r, buf, len, shown, opt, 1);
            kg_free(buf);
            if (got < 0) { rc = -1; break; }
            imported += got;
        }
    }
    if (rc == 0 && imported == 0)
        set_error(r, "%s: no course found (expected imsmanifest.xml, moodle_backup.xml, course.xml, "
                     "a .csv or a kgpath .xml file)%s", path, NULL);
    for (size_t j = 0; j < nroots; j++) kg_free(roots[j]);
    kg_free(roots);
    kg_free(cs);
    kgi_pkg_close(p);
    return imported ? 0 : -1;
}

/* 1 when the file at path is a kgxml document (root <course> in the kgxml
 * namespace): a kgxml course may be called course.xml, and is then that
 * one file, not an Open edX folder (whose course.xml has no namespace).
 * Only the start of the file is parsed. */
static int is_kgxml_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    char buf[16384];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char ns[512], local[128];
    /* A cut-off start fails to parse only after the root element is read. */
    return root_name(buf, len, ns, sizeof ns, local, sizeof local) == 0 && is_kgxml_root(ns, local);
}

static int looks_like_archive(const char *path)
{
    static const char *const ext[] = { ".zip", ".imscc", ".mbz", ".tar.gz", ".tgz", ".tar",
                                       ".tar.bz2", ".tar.xz", ".pif", NULL };
    for (int i = 0; ext[i]; i++) if (ends_with(path, ext[i])) return 1;
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char m[4] = {0};
    size_t got = fread(m, 1, 4, f);
    fclose(f);
    return got >= 2 && ((m[0] == 'P' && m[1] == 'K') || (m[0] == 0x1f && m[1] == 0x8b));
}

int kgi_import_path(const char *path, const kgi_options *opt, kgi_result *r)
{
    static const kgi_options defaults = { .validate_schema = 1 };
    if (!opt) opt = &defaults;
    memset(r, 0, sizeof *r);
    if (!path || !*path) { snprintf(r->error, sizeof r->error, "no path given"); return -1; }
    struct stat st;
    if (stat(path, &st) != 0) {
        snprintf(r->error, sizeof r->error, "%s: %s", path, strerror(errno));
        return -1;
    }
    int rc;
    if (S_ISDIR(st.st_mode)) {
        rc = import_package(r, path, opt);
    } else if (!S_ISREG(st.st_mode)) {
        snprintf(r->error, sizeof r->error, "%s: neither a file nor a folder", path);
        return -1;
    } else {
        const char *b = base_name(path);
        if ((strcasecmp(b, "imsmanifest.xml") == 0 || strcmp(b, "moodle_backup.xml") == 0 ||
             strcmp(b, "course.xml") == 0) && !is_kgxml_file(path)) {
            /* The package's top file: import its folder. */
            char *dir = kg_strndup(path, (size_t)(b - path));
            if (!dir) return set_oom(r, path);
            if (!*dir) { kg_free(dir); dir = kg_strdup("."); }
            if (!dir) return set_oom(r, path);
            rc = import_package(r, dir, opt);
            kg_free(dir);
        } else if (ends_with(path, ".csv") || ends_with(path, ".xml")) {
            char *buf; size_t len;
            if (read_file(r, path, &buf, &len)) return -1;
            rc = import_buffer(r, buf, len, path, opt, 0) > 0 ? 0 : -1;
            kg_free(buf);
        } else if (looks_like_archive(path)) {
            rc = import_package(r, path, opt);
        } else {
            snprintf(r->error, sizeof r->error,
                     "%s: unknown format (expected a folder, .zip, .imscc, .mbz, .tar.gz, .csv or "
                     "a kgpath .xml file)", path);
            return -1;
        }
    }
    if (rc) return -1;
    for (size_t i = 0; i < r->ncourses; i++)
        if (kgg_course_nerrors(r->courses[i])) return -1;
    return r->error[0] ? -1 : 0;
}

void kgi_result_free(kgi_result *r)
{
    if (!r) return;
    for (size_t i = 0; i < r->ncourses; i++) kgg_course_free(r->courses[i]);
    kg_free(r->courses);
    r->courses = NULL;
    r->ncourses = r->cap = 0;
}
