/* Compact copies of the store (`kgpath snapshot-copy`), for readers that
 * must not open the live file: LMDB must never be used over a network
 * filesystem, so a cluster task copies the database to node-local disk and
 * opens the copy read-only.
 */
#ifndef KGG_STORE_COPY_H
#define KGG_STORE_COPY_H

#include "graph/store.h"

/* Writes a compact copy of the store's last committed state to dest
 * (mdb_env_copyfd2 with MDB_CP_COMPACT: free pages are left out and the
 * B-trees rewritten, so the copy is usually smaller than the file). The copy
 * is written to "dest.tmp", flushed to disk and renamed over dest, so dest is
 * either the old file or the whole new copy, never a torn one. Works on a
 * read-only store and while snapshots are open (it reads in its own read
 * transaction). dest must not be the store's own file.
 * Errors: KGP_EUSAGE (dest is the store itself), KGP_EIO (cannot write
 * dest), KGP_EDB (LMDB error), KGP_ENOMEM.
 * Time O(size of the data); memory O(1) beyond LMDB's copy buffers. */
kgp_status kgg_store_copy_compact(kgg_store *st, const char *dest, kgg_err *e);

#endif
