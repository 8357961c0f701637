/* Small file helpers shared by the encoder's readers and writers. */
#ifndef KGE_FILES_H
#define KGE_FILES_H

#include <stddef.h>

#include "encoder/kge_err.h"

/* "dir/name", malloc'ed; NULL when out of memory. O(length). */
char *kge_path_join(const char *dir, const char *name);

/* One piece of a file's content. */
typedef struct kge_chunk {
    const void *p;
    size_t      n;
} kge_chunk;

/* Writes the n chunks, in order, to path atomically: a temporary file
 * beside path (mode 0644), fsync'ed, then renamed over path, so readers
 * see the old file or the new one, never a part. Errors: KGE_ENOMEM,
 * KGE_EIO (the message names path and the system error); path is then
 * untouched and no temporary file is left. O(total bytes). */
int kge_write_atomic(const char *path, const kge_chunk *c, size_t n, kge_err *err);

/* ---- folders written as a whole (checkpoints, BERT folders) ----
 * A folder of several files is replaced in one step: its new files are
 * written into a staging folder beside it ("DIR.new-XXXXXX"), then the
 * two folders are switched by one rename (renameat2 RENAME_EXCHANGE, or a
 * plain rename when DIR does not exist yet) and the old content removed.
 * A reader, or a process killed at any point, sees the old folder whole or
 * the new one whole, never a mix, and DIR never holds temporary files; a
 * kill leaves at most a staging folder beside DIR, which the next
 * kge_dir_stage for DIR removes. */

/* Checks that dir may be replaced (missing, or a folder holding only
 * names for which allowed returns non-zero: a kgpath folder, never a
 * user's folder of other files), removes stale staging folders of dir
 * left by killed runs, and creates a new staging folder *staging
 * (malloc'ed). Errors: KGE_EUSAGE (dir is not a folder, or holds other
 * files, named), KGE_EIO, KGE_ENOMEM. O(entries of dir and its parent). */
int kge_dir_stage(const char *dir, int (*allowed)(const char *name), char **staging, kge_err *err);

/* Makes staging (complete, every file written) the folder dir: syncs it,
 * switches it with dir in one rename and removes the old content. On
 * failure dir is unchanged and staging removed. Errors: KGE_EIO (naming
 * the folder and the system error). O(files). */
int kge_dir_commit(const char *staging, const char *dir, kge_err *err);

/* Removes a staging folder whose writing failed (best effort). */
void kge_dir_abort(const char *staging);

/* Test hook: the fault-th file write or folder switch from now on fails
 * as an I/O error would (1: the next one; 0: none). Not thread-safe; for
 * tests of atomicity under injected failures only. */
void kge_files_inject_fault(long fault);

#endif
