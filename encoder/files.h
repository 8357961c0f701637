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

#endif
