/* Compact copy of the store: see store_copy.h. */
#include "graph/store_copy.h"
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

kgp_status kgg_store_copy_compact(kgg_store *st, const char *dest, kgg_err *e)
{
    struct stat a, b;
    const char *src = kgg_store_path(st);
    if (!dest || !*dest)
        return kgg_errf(e, KGP_EUSAGE, "snapshot copy: no destination file");
    if (stat(src, &a) == 0 && stat(dest, &b) == 0 && a.st_dev == b.st_dev
        && a.st_ino == b.st_ino)
        return kgg_errf(e, KGP_EUSAGE, "%s: is the database itself; copy it elsewhere", dest);

    kg_atomic_file f;
    int err = kg_atomic_begin(&f, dest, 0644);
    if (err) return kgg_errf(e, KGP_EIO, "%s: cannot create: %s", dest, strerror(err));
    kgg_store_map_hold(st);
    int mrc = mdb_env_copyfd2(kgg_store_env(st), f.fd, MDB_CP_COMPACT);
    kgg_store_map_release(st);
    if (mrc) {
        kg_atomic_abort(&f);
        return kgg_errf(e, mrc == ENOSPC || mrc == EIO ? KGP_EIO : kgg_mdb_status(mrc),
                        "%s: compact copy failed: %s", dest, mdb_strerror(mrc));
    }
    if ((err = kg_atomic_commit(&f)) != 0)
        return kgg_errf(e, KGP_EIO, "%s: cannot write: %s", dest, strerror(err));
    return KGP_OK;
}
