/* Checks a database file before LMDB maps it (graph/store_check.c). */
#ifndef KGG_STORE_CHECK_H
#define KGG_STORE_CHECK_H

#include "graph/store.h"

/* Checks the open file fd (path names it in messages) against its LMDB
 * meta pages: refuses a file shorter than the pages its current meta page
 * says are in use (a truncated file would raise SIGBUS once mapped), a file
 * too short for the two meta pages, and an empty file when rdonly (a writer
 * may start a new database in an empty file). Reads at most two page
 * headers with pread; maps nothing.
 * Errors: KGP_EDB (the message names the damage), KGP_EIO. O(1). */
kgp_status kgg_store_check_file(const char *path, int fd, int rdonly, kgg_err *e);

#endif
