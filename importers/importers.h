/* Importer entry points: one function per format, and a dispatcher that
 * detects the format of a path (file, folder or archive).
 *
 * Every importer produces kgg_course models (graph/course_model.h) and never
 * touches LMDB. Input problems are diagnostics on the course (file:line:column);
 * a course with any KGG_ERROR diagnostic must not be written.
 */
#ifndef KGI_IMPORTERS_H
#define KGI_IMPORTERS_H

#include <stddef.h>
#include "graph/course_model.h"

typedef struct kgi_options {
    int include_drafts;     /* OLX: import drafts/ too */
    int validate_schema;    /* kgxml: validate against the RELAX NG schema (default 1) */
    const char *schema_path;/* kgxml: schema file; NULL = built-in copy */
    const char *encoding;   /* CSV: the files' encoding (an iconv name); NULL = UTF-8,
                               or UTF-16 when a byte order mark says so */
} kgi_options;

/* Result of importing one path: one or more courses (an archive or folder may
 * hold several), each with its own diagnostics. */
typedef struct kgi_result {
    kgg_course **courses;
    size_t ncourses, cap;
    /* Errors not tied to one course (unreadable path, unknown format) */
    char error[1024];
    int oom;            /* an allocation failed: the error is "out of memory" */
} kgi_result;

/* Detects the format of path and imports it. Returns 0 when every course
 * parsed without KGG_ERROR diagnostics; -1 otherwise (see result->error and
 * each course's diagnostics). The caller frees with kgi_result_free.
 * path: a .csv or kgxml .xml file, a folder, imsmanifest.xml / course.xml /
 * moodle_backup.xml (their folder is imported), or an archive (.zip, .imscc,
 * .mbz, .tar.gz, .tgz, .tar) read in place; every package root inside a
 * folder or archive becomes a course (importers/import_path.c has the rules,
 * importers/pkg.h the path-safety rules and archive limits). Courses keep
 * their warnings; result->courses may be non-empty even when -1 is returned.
 * Cost: linear in the bytes read (one pass over an archive). Several calls
 * may run on different threads (no global state of its own; libxml2's error
 * hook, which is per thread, is set to a silent handler). */
int  kgi_import_path(const char *path, const kgi_options *opt, kgi_result *result);
void kgi_result_free(kgi_result *result);

/* Gives course c another id when one of the n other courses of the same
 * import already has its id but not its identity (kgg_course.identity):
 * "<id>-<folder>" (the folder or archive it came from), then "-2", "-3", …,
 * with a warning on c. Two courses with one identity keep their id (the
 * writer reports the course given twice). kgi_import_path does this among
 * the courses of one path, kgp_import among those of all paths. O(n). */
void kgi_unique_course_id(kgg_course *const *others, size_t n, kgg_course *c);

/* Per-format importers (importers/<format>.c). Each parses one file (or
 * package root) into a new course. Returns the course (possibly carrying
 * KGG_ERROR diagnostics), or NULL when out of memory. */
kgg_course *kgi_kgxml_parse(const char *buf, size_t len, const char *name,
                            const kgi_options *opt);

/* CSV curriculum (importers/csv.c documents the columns). name is the file
 * name for messages; the course id is its base name without extension. */
kgg_course *kgi_csv_parse(const char *buf, size_t len, const char *name,
                          const kgi_options *opt);

#endif
