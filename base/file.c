/* Files replaced whole: see base/file.h. */
#include "base/file.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int kg_write_all(int fd, const void *p, size_t n)
{
    const uint8_t *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0) {
            if (errno == EINTR) continue;
            return errno;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

int kg_sync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return errno;
    int rc = fsync(fd) ? errno : 0;
    close(fd);
    /* some file systems cannot sync a folder; the rename still happened */
    return rc == EINVAL || rc == EROFS ? 0 : rc;
}

/* A fresh suffix for a temporary name: unique across threads (a counter)
 * and processes (pid, clock). O_EXCL catches the rest. */
static void tmp_suffix(char *out)
{
    static _Atomic unsigned long counter;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    unsigned long long v = (unsigned long long)ts.tv_nsec * 0x9E3779B97F4A7C15ull
                         ^ (unsigned long long)getpid() << 20 ^ (unsigned long long)ts.tv_sec
                         ^ (unsigned long long)(counter++) * 0xBF58476D1CE4E5B9ull;
    static const char digits[] = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (int i = 0; i < 6; i++) { out[i] = digits[v % 62]; v /= 62; }
    out[6] = 0;
}

int kg_atomic_begin(kg_atomic_file *f, const char *path, mode_t mode)
{
    f->fd = -1;
    f->stream = NULL;
    f->tmp[0] = 0;
    size_t n = strlen(path);
    if (n == 0) return ENOENT;
    if (n + sizeof ".tmp-XXXXXX" > sizeof f->tmp) return ENAMETOOLONG;
    memcpy(f->path, path, n + 1);
    memcpy(f->tmp, path, n);
    memcpy(f->tmp + n, ".tmp-", 5);
    /* open(2) with the caller's mode (the umask applies, as for any new
     * file): mkstemp would force 0600 and a later fchmod needs the umask,
     * which cannot be read safely from a threaded server */
    for (int tries = 0; tries < 100; tries++) {
        tmp_suffix(f->tmp + n + 5);
        int fd = open(f->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
        if (fd >= 0) { f->fd = fd; return 0; }
        if (errno != EEXIST) { int e = errno; f->tmp[0] = 0; return e; }
    }
    f->tmp[0] = 0;
    return EEXIST;
}

int kg_atomic_write(kg_atomic_file *f, const void *p, size_t n)
{
    if (f->fd < 0) return EBADF;
    if (f->stream) return fwrite(p, 1, n, f->stream) == n ? 0 : (errno ? errno : EIO);
    return kg_write_all(f->fd, p, n);
}

FILE *kg_atomic_stream(kg_atomic_file *f)
{
    if (!f->stream && f->fd >= 0) f->stream = fdopen(f->fd, "wb");
    return f->stream;
}

/* Closes the temporary file (and its stream); returns the first error. */
static int close_tmp(kg_atomic_file *f, int sync)
{
    int rc = 0;
    if (f->stream) {
        if (fflush(f->stream) != 0) rc = errno ? errno : EIO;
        else if (ferror(f->stream)) rc = EIO;
        if (!rc && sync && fsync(f->fd) != 0) rc = errno;
        if (fclose(f->stream) != 0 && !rc) rc = errno ? errno : EIO;
    } else if (f->fd >= 0) {
        if (sync && fsync(f->fd) != 0) rc = errno;
        if (close(f->fd) != 0 && !rc) rc = errno;
    }
    f->stream = NULL;
    f->fd = -1;
    return rc;
}

int kg_atomic_commit(kg_atomic_file *f)
{
    if (!f->tmp[0]) return EBADF;
    int rc = close_tmp(f, 1);
    if (!rc && rename(f->tmp, f->path) != 0) rc = errno;
    if (rc) {
        unlink(f->tmp);
        f->tmp[0] = 0;
        return rc;
    }
    f->tmp[0] = 0;
    /* The folder, so the rename survives a power cut. Best effort: the new
     * content is in place whatever this says. */
    char dir[PATH_MAX];
    const char *slash = strrchr(f->path, '/');
    size_t n = !slash ? 0 : slash == f->path ? 1 : (size_t)(slash - f->path);
    if (n) memcpy(dir, f->path, n); else dir[n++] = '.';
    dir[n] = 0;
    kg_sync_dir(dir);
    return 0;
}

void kg_atomic_abort(kg_atomic_file *f)
{
    close_tmp(f, 0);
    if (f->tmp[0]) unlink(f->tmp);
    f->tmp[0] = 0;
}

int kg_write_file_atomic(const char *path, const void *p, size_t n, mode_t mode)
{
    kg_atomic_file f;
    int rc = kg_atomic_begin(&f, path, mode);
    if (rc) return rc;
    if ((rc = kg_atomic_write(&f, p, n)) != 0) { kg_atomic_abort(&f); return rc; }
    return kg_atomic_commit(&f);
}
