/* Helpers shared by the check suites. */
#ifndef KG_TESTUTIL_H
#define KG_TESTUTIL_H

#include <stddef.h>

/* Creates a fresh temporary directory (under $TMPDIR or /tmp); returns a
 * malloc'ed path. Aborts the test on failure. */
char *tu_mkdtemp(void);
/* rm -rf path (refuses "/" and ""). */
void tu_rmrf(const char *path);
/* Joins a and b with '/'; malloc'ed. */
char *tu_path(const char *a, const char *b);
/* Writes len bytes (len == (size_t)-1: strlen) to path; aborts on failure. */
void tu_write(const char *path, const char *data, size_t len);
/* Reads a whole file; malloc'ed, NUL-terminated; *len set when not NULL.
 * NULL when it cannot be read. */
char *tu_read(const char *path, size_t *len);
/* The shared reference folder ($KGPATH_SHARED, else ../shared beside the
 * source root) when it exists, else NULL. Suites that need it skip with a
 * message when NULL. */
const char *tu_shared_dir(void);
/* The source root ($KGPATH_SOURCE_ROOT, else "."). */
const char *tu_source_root(void);
/* Runs a shell command; returns its exit status and its stdout (malloc'ed)
 * in *out when out is not NULL. */
int tu_run(const char *cmd, char **out);
/* Copies file src to dst (a database saved to compare against after a
 * command that must not change it); fails the test when src cannot be
 * read or dst written. */
void tu_copy(const char *src, const char *dst);
/* Byte-for-byte equality of two files (0 = equal). */
int tu_file_cmp(const char *a, const char *b);
/* A copy of dir/name as dir/saved-N (outside any checkpoint folder, which
 * may hold only its own files), malloc'ed path, to compare with later. */
char *tu_save(const char *dir, const char *name);
/* Fails the test unless dir/name still has the bytes of copy (tu_save). */
void tu_unchanged(const char *dir, const char *name, const char *copy);
/* 1 when dir/name exists (a file or a folder), else 0. */
int tu_exists(const char *dir, const char *name);
/* Fails the test unless dir/name (a command's saved stderr, say) holds
 * the text what. */
void tu_file_has(const char *dir, const char *name, const char *what);

/* n distinct learner events as JSON lines (malloc'ed): one quiz of
 * concept each by learners "<prefix><from>" .. "<prefix><from+n-1>", on
 * days of November 2026, two right in three. For tests that need many
 * events (e.g. to make a fit due). */
char *tu_quiz_events(const char *prefix, const char *concept, int from, int n);

/* A check fixture for suites on one database file: tu_db_setup() makes a
 * fresh temporary folder tu_db_dir and the path tu_db_path ("k.db" in it,
 * not created); tu_db_teardown() removes the folder and frees both. Use as
 * tcase_add_checked_fixture(tc, tu_db_setup, tu_db_teardown). */
extern char *tu_db_dir, *tu_db_path;
void tu_db_setup(void);
void tu_db_teardown(void);

#endif
