/* File helpers (see files.h). */
#include "encoder/files.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *kge_path_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (p) {
        memcpy(p, dir, a);
        p[a] = '/';
        memcpy(p + a + 1, name, b + 1);
    }
    return p;
}

static int write_all(int fd, const void *buf, size_t n)
{
    const uint8_t *p = buf;
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

int kge_write_atomic(const char *path, const kge_chunk *c, size_t n, kge_err *err)
{
    size_t pl = strlen(path);
    char *tmp = malloc(pl + 16);
    if (!tmp) return kge_fail(err, KGE_ENOMEM, "out of memory");
    memcpy(tmp, path, pl);
    memcpy(tmp + pl, ".tmp-XXXXXX", 12);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return kge_fail(err, KGE_EIO, "%s: cannot create a temporary file: %s", path, strerror(e));
    }
    /* mkstemp's 0600 would hide the file from other users */
    int ok = fchmod(fd, 0644) == 0;
    for (size_t i = 0; ok && i < n; i++) ok = write_all(fd, c[i].p, c[i].n) == 0;
    if (ok) ok = fsync(fd) == 0;
    int e = errno;
    if (close(fd) != 0 && ok) { ok = 0; e = errno; }
    if (ok && rename(tmp, path) != 0) { ok = 0; e = errno; }
    if (!ok) unlink(tmp);
    free(tmp);
    return ok ? KGE_OK : kge_fail(err, KGE_EIO, "%s: write failed: %s", path, strerror(e));
}
