/* Files replaced whole: the one write-beside-and-rename every kgpath layer
 * uses (exports, checkpoints, batch parts and state, database copies, the
 * server's port file).
 *
 * Contract: after kg_atomic_begin(f, PATH), whatever happens — an error, a
 * crash, kill -9, a full disk — PATH holds either its old content (or is
 * still absent) or the complete new content, never a mix. The new content
 * is written to a unique temporary file in PATH's folder (same file system,
 * so the final rename is atomic), flushed to disk (fsync) before the rename,
 * and the folder is synced after it so the rename itself survives a power
 * cut. A failed or abandoned write leaves no temporary file behind (except
 * after a crash of the process itself: PATH.tmp-XXXXXX, never read by
 * kgpath).
 *
 * Every function returns 0 or an errno value (ENAMETOOLONG, EACCES, ENOSPC,
 * EIO, ...); the caller wraps it into its own layer's error with the path.
 * Nothing allocates except kg_atomic_stream (stdio's buffer), so this works
 * when memory is short and from every layer, the encoder included.
 */
#ifndef KG_FILE_H
#define KG_FILE_H

#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct kg_atomic_file {
    int fd;                 /* the temporary file; -1 when none is open */
    FILE *stream;           /* set by kg_atomic_stream, else NULL */
    char tmp[PATH_MAX];     /* its name: PATH.tmp-XXXXXX */
    char path[PATH_MAX];    /* the file it will replace */
} kg_atomic_file;

/* Creates the temporary file beside path with the given mode (before the
 * umask, as open(2)). Errors: ENAMETOOLONG, or open's (EACCES, ENOENT for a
 * missing folder, ENOSPC, EROFS, ...). On error f holds nothing to free. */
int kg_atomic_begin(kg_atomic_file *f, const char *path, mode_t mode);
/* Writes all n bytes (retrying short writes and EINTR). Errors: write's. */
int kg_atomic_write(kg_atomic_file *f, const void *p, size_t n);
/* A stdio stream on the temporary file, for writers that print; the stream
 * belongs to f (kg_atomic_commit flushes and closes it). NULL with errno set
 * when out of memory. */
FILE *kg_atomic_stream(kg_atomic_file *f);
/* Flushes, syncs and renames the temporary file over path, then syncs the
 * folder (best effort: once renamed, the new content is in place). On error the temporary file is removed and path is untouched.
 * Either way f is finished. Errors: EIO (a stream error), fsync's, close's,
 * rename's. */
int kg_atomic_commit(kg_atomic_file *f);
/* Removes the temporary file; path is untouched. Safe on a finished f. */
void kg_atomic_abort(kg_atomic_file *f);

/* The whole cycle for content already in memory. Errors: as above. */
int kg_write_file_atomic(const char *path, const void *p, size_t n, mode_t mode);

/* write(2) until all n bytes are written, retrying EINTR. Errors: write's. */
int kg_write_all(int fd, const void *p, size_t n);
/* fsync of a folder (after a rename or a file created in it). Errors:
 * open's, fsync's. */
int kg_sync_dir(const char *dir);

#endif
