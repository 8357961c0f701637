/* A course package: a folder, or an archive (.zip, .imscc, .mbz, .tar.gz,
 * .tgz, .tar) read in place with libarchive — never unpacked to disk.
 *
 * Every path an importer takes from a document (href, filename, url_name,
 * adlcp:location, xml:base) goes through kgi_pkg_resolve, which
 * percent-decodes, turns '\' into '/', strips "?query" and "#fragment",
 * resolves "." and ".." segments and refuses absolute paths and any ".."
 * that would climb out of the package. Symbolic links (in a folder or as
 * archive entries) are followed only while they stay inside the package.
 *
 * Archives are indexed once when opened: entry names are checked (zip-slip:
 * absolute names, names or link targets that climb out are a clear error),
 * the entry count, total uncompressed size and compression ratio are bounded
 * (kgi_pkg_limits), and text entries (.xml, .html, .htm, .xhtml, .srt, .sjson,
 * .vtt, .json, .csv, .txt, .qti) are kept in memory; other entries are indexed
 * (name, size) but their bytes are skipped. A folder is listed when opened
 * (same entry-count limit) and files are read on demand.
 */
#ifndef KGI_PKG_H
#define KGI_PKG_H

#include <stddef.h>
#include <stdint.h>

#include "importers/importers.h"

typedef struct kgi_pkg kgi_pkg;

typedef struct kgi_pkg_limits {
    uint64_t max_total;     /* total uncompressed bytes of an archive (default 2 GiB) */
    uint64_t max_entries;   /* entries of an archive or files of a folder (default 200000) */
    double   max_ratio;     /* uncompressed / compressed bytes of an archive (default 200);
                               checked once more than 1 MiB is uncompressed */
    uint64_t max_file;      /* bytes of one file read into memory (default 256 MiB) */
} kgi_pkg_limits;

/* Fills *l with the defaults above. */
void kgi_pkg_default_limits(kgi_pkg_limits *l);

/* Opens a folder or an archive. lim NULL = defaults. Returns 0 and *out, or
 * -1 with a message in err ("PATH: reason"). Cost: O(size of the archive)
 * (one pass of decompression), O(number of files) for a folder. */
int  kgi_pkg_open(const char *path, const kgi_pkg_limits *lim, kgi_pkg **out,
                  char *err, size_t errlen);
void kgi_pkg_close(kgi_pkg *p);

/* 1 when the package is an archive. */
int kgi_pkg_is_archive(const kgi_pkg *p);
/* The path given to kgi_pkg_open. */
const char *kgi_pkg_path(const kgi_pkg *p);

/* Regular files (and links to them) of the package, in archive or sorted
 * order, as package-relative paths ("a/b.xml"). */
size_t kgi_pkg_count(const kgi_pkg *p);
const char *kgi_pkg_entry(const kgi_pkg *p, size_t i);

/* Resolves reference ref (as written in a document) against folder base
 * (package-relative, "" = root; a base is always a folder, with or without
 * a trailing slash) into out. Returns 0; 1 when ref is an external URL
 * (has a scheme such as http:, https:, mailto:; out then holds ref
 * unchanged); -1 with a reason in err when ref is empty, absolute, contains
 * a NUL byte or climbs out of the package. O(length). */
int kgi_pkg_resolve(const char *base, const char *ref, char *out, size_t outlen,
                    char *err, size_t errlen);

/* 1 when the package-relative path names a regular file (after links). */
int kgi_pkg_exists(kgi_pkg *p, const char *rel);

/* Reads a package-relative file into a kg_malloc'ed, NUL-terminated buffer
 * (the caller kg_frees it). Returns 0; 1 when the file does not exist (err
 * says so); -1 on any other problem (a link leaving the package, a file over
 * max_file, an archive entry whose bytes were not kept, I/O), with err. */
int kgi_pkg_read(kgi_pkg *p, const char *rel, char **buf, size_t *len,
                 char *err, size_t errlen);

/* "PATH/rel" for a folder, "PATH!rel" for an archive, into out; returns out. */
const char *kgi_pkg_display(const kgi_pkg *p, const char *rel, char *out, size_t outlen);

/* Package-based importers (one per format). root is the package-relative
 * folder that holds the format's top file ("" or "course/"). Each returns a
 * new course (possibly with KGG_ERROR diagnostics) or NULL when out of memory. */
kgg_course *kgi_olx_import(kgi_pkg *p, const char *root, const kgi_options *opt);
kgg_course *kgi_scorm_import(kgi_pkg *p, const char *root, const kgi_options *opt);
kgg_course *kgi_imscc_import(kgi_pkg *p, const char *root, const kgi_options *opt);
kgg_course *kgi_moodle_import(kgi_pkg *p, const char *root, const kgi_options *opt);

#endif
