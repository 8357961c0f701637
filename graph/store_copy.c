/* Compact copy of the store: see store_copy.h. */
#include "graph/store_copy.h"

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

    size_t n = strlen(dest) + 5;
    char *tmp = kg_malloc(n);
    if (!tmp) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    snprintf(tmp, n, "%s.tmp", dest);
    kgp_status rc = KGP_OK;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        rc = kgg_errf(e, KGP_EIO, "%s: cannot create: %s", tmp, strerror(errno));
        goto out;
    }
    kgg_store_map_hold(st);
    int mrc = mdb_env_copyfd2(kgg_store_env(st), fd, MDB_CP_COMPACT);
    kgg_store_map_release(st);
    if (mrc) {
        rc = kgg_errf(e, mrc == ENOSPC || mrc == EIO ? KGP_EIO : KGP_EDB,
                      "%s: compact copy failed: %s", dest, mdb_strerror(mrc));
        close(fd);
        unlink(tmp);
        goto out;
    }
    if (fsync(fd) || close(fd)) {
        rc = kgg_errf(e, KGP_EIO, "%s: %s", tmp, strerror(errno));
        unlink(tmp);
        goto out;
    }
    if (rename(tmp, dest)) {
        rc = kgg_errf(e, KGP_EIO, "%s: cannot rename into place: %s", dest, strerror(errno));
        unlink(tmp);
    }
out:
    kg_free(tmp);
    return rc;
}
