/* File helpers (see files.h). */
#include "encoder/files.h"
#include "base/file.h"

#include <dirent.h>
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


static long g_fault;   /* kge_files_inject_fault: operations left until the injected failure */

void kge_files_inject_fault(long fault) { g_fault = fault > 0 ? fault : 0; }

/* Does the injected fault hit this operation? */
static int fault_now(void)
{
    return g_fault > 0 && --g_fault == 0;
}

int kge_write_atomic(const char *path, const kge_chunk *c, size_t n, kge_err *err)
{
    if (fault_now()) return kge_fail(err, KGE_EIO, "%s: write failed: %s (injected)", path, strerror(EIO));
    kg_atomic_file f;
    int e = kg_atomic_begin(&f, path, 0644);
    if (e) return kge_fail(err, KGE_EIO, "%s: cannot create a temporary file: %s", path, strerror(e));
    for (size_t i = 0; !e && i < n; i++) e = kg_atomic_write(&f, c[i].p, c[i].n);
    if (e) kg_atomic_abort(&f);
    else e = kg_atomic_commit(&f);
    return e ? kge_fail(err, KGE_EIO, "%s: write failed: %s", path, strerror(e)) : KGE_OK;
}

/* ---- folders written as a whole ------------------------------------------------ */

/* Removes the plain files of folder dir, then dir itself (best effort;
 * a kgpath folder holds no subfolders). */
static void remove_flat(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        int fd = dirfd(d);
        for (struct dirent *e; (e = readdir(d));)
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) unlinkat(fd, e->d_name, 0);
        closedir(d);
    }
    rmdir(dir);
}

/* dir's parent folder and base name (malloc'ed; "." for a bare name). */
static int split_path(const char *dir, char **parent, char **base)
{
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/') l--;   /* "ck/" is "ck" */
    size_t b = l;
    while (b > 0 && dir[b - 1] != '/') b--;
    *base = strndup(dir + b, l - b);
    *parent = b == 0 ? strdup(".") : b == 1 ? strdup("/") : strndup(dir, b - 1);
    if (!*base || !*parent) { free(*base); free(*parent); *base = *parent = NULL; return -1; }
    return 0;
}

/* Is name "BASE.new-XXXXXX", a staging folder of BASE? */
static int is_staging_of(const char *name, const char *base)
{
    size_t bl = strlen(base);
    return !strncmp(name, base, bl) && !strncmp(name + bl, ".new-", 5) && strlen(name + bl + 5) == 6;
}

int kge_dir_stage(const char *dir, int (*allowed)(const char *name), char **staging, kge_err *err)
{
    *staging = NULL;
    struct stat st;
    if (stat(dir, &st) == 0) {
        if (!S_ISDIR(st.st_mode)) return kge_fail(err, KGE_EUSAGE, "%s: exists and is not a folder", dir);
        DIR *d = opendir(dir);
        if (!d) return kge_fail(err, KGE_EIO, "%s: %s", dir, strerror(errno));
        int rc = KGE_OK;
        for (struct dirent *e; !rc && (e = readdir(d));) {
            if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
            struct stat es;
            int plain = fstatat(dirfd(d), e->d_name, &es, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(es.st_mode);
            if (!plain || !allowed(e->d_name))
                rc = kge_fail(err, KGE_EUSAGE,
                              "%s: holds '%s', which a kgpath folder does not: refusing to replace it (choose "
                              "another folder)", dir, e->d_name);
        }
        closedir(d);
        if (rc) return rc;
    } else if (errno != ENOENT) {
        return kge_fail(err, KGE_EIO, "%s: %s", dir, strerror(errno));
    }
    char *parent, *base;
    if (split_path(dir, &parent, &base)) return kge_fail(err, KGE_ENOMEM, "out of memory");
    /* staging folders of killed runs */
    DIR *p = opendir(parent);
    if (p) {
        for (struct dirent *e; (e = readdir(p));)
            if (is_staging_of(e->d_name, base)) {
                char *old = kge_path_join(parent, e->d_name);
                if (old) remove_flat(old);
                free(old);
            }
        closedir(p);
    }
    size_t l = strlen(dir);
    while (l > 1 && dir[l - 1] == '/') l--;
    char *tmp = malloc(l + 16);
    int rc = KGE_OK;
    if (!tmp) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
    else {
        memcpy(tmp, dir, l);
        memcpy(tmp + l, ".new-XXXXXX", 12);
        if (!mkdtemp(tmp)) {
            rc = kge_fail(err, KGE_EIO, "%s: cannot create a folder beside it: %s", dir, strerror(errno));
            free(tmp);
            tmp = NULL;
        } else chmod(tmp, 0755);   /* mkdtemp's 0700 would hide it from other users */
    }
    free(parent);
    free(base);
    *staging = tmp;
    return rc;
}


int kge_dir_commit(const char *staging, const char *dir, kge_err *err)
{
    char *parent, *base;
    if (split_path(dir, &parent, &base)) { kge_dir_abort(staging); return kge_fail(err, KGE_ENOMEM, "out of memory"); }
    int rc = KGE_OK, e = 0;
    if ((e = kg_sync_dir(staging)) != 0 || (fault_now() && (e = EIO))) rc = -1;
    else if (rename(staging, dir) == 0) {
        /* dir did not exist (or was an empty folder): staging is dir now */
    } else if (errno == EEXIST || errno == ENOTEMPTY) {
        /* both folders exist: exchange them in one step, then drop the old
         * content (now under the staging name) */
        if (renameat2(AT_FDCWD, staging, AT_FDCWD, dir, RENAME_EXCHANGE) == 0) remove_flat(staging);
        else if (errno == EINVAL || errno == ENOSYS) {
            /* a file system without RENAME_EXCHANGE: the old folder aside
             * first (for a moment dir is missing, never mixed) */
            size_t l = strlen(staging);
            char *old = malloc(l + 8);
            if (!old) { e = ENOMEM; rc = -1; }
            else {
                memcpy(old, staging, l + 1);
                memcpy(old + l - 11, ".old", 4);   /* DIR.new-XXXXXX -> DIR.old-XXXXXX */
                if (rename(dir, old) != 0) { e = errno; rc = -1; }
                else if (rename(staging, dir) != 0) { e = errno; rename(old, dir); rc = -1; }
                else remove_flat(old);
                free(old);
            }
        } else { e = errno; rc = -1; }
    } else { e = errno; rc = -1; }
    if (rc) {
        kge_dir_abort(staging);
        rc = kge_fail(err, KGE_EIO, "%s: cannot put the new folder in place: %s", dir, strerror(e));
    } else kg_sync_dir(parent);
    free(parent);
    free(base);
    return rc;
}

void kge_dir_abort(const char *staging)
{
    if (staging) remove_flat(staging);
}
