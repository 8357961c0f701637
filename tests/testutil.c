#include "tests/testutil.h"

#include <check.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

char *tu_mkdtemp(void)
{
    const char *t = getenv("TMPDIR");
    char *p = tu_path(t && *t ? t : "/tmp", "kgpath-test-XXXXXX");
    ck_assert_msg(mkdtemp(p) != NULL, "mkdtemp failed");
    return p;
}

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag; (void)ftw;
    return remove(p);
}

void tu_rmrf(const char *path)
{
    if (!path || !*path || strcmp(path, "/") == 0) return;
    nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

char *tu_path(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 2;
    char *p = malloc(n);
    snprintf(p, n, "%s/%s", a, b);
    return p;
}

void tu_write(const char *path, const char *data, size_t len)
{
    if (len == (size_t)-1) len = strlen(data);
    FILE *f = fopen(path, "wb");
    ck_assert_msg(f != NULL, "cannot write %s", path);
    ck_assert(fwrite(data, 1, len, f) == len);
    fclose(f);
}

void tu_copy(const char *src, const char *dst)
{
    size_t len;
    char *b = tu_read(src, &len);
    ck_assert_msg(b != NULL, "cannot read %s", src);
    tu_write(dst, b, len);
    free(b);
}

char *tu_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, f)) > 0) {
        n += r;
        if (cap - n - 1 == 0) { cap *= 2; b = realloc(b, cap); }
    }
    fclose(f);
    b[n] = 0;
    if (len) *len = n;
    return b;
}

const char *tu_shared_dir(void)
{
    static char buf[4096];
    const char *e = getenv("KGPATH_SHARED");
    struct stat st;
    if (e && *e && stat(e, &st) == 0 && S_ISDIR(st.st_mode)) return e;
    snprintf(buf, sizeof buf, "%s/../shared", tu_source_root());
    if (stat(buf, &st) == 0 && S_ISDIR(st.st_mode)) return buf;
    return NULL;
}

const char *tu_source_root(void)
{
    const char *e = getenv("KGPATH_SOURCE_ROOT");
    return e && *e ? e : ".";
}

int tu_run(const char *cmd, char **out)
{
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t cap = 4096, n = 0;
    char *b = malloc(cap);
    size_t r;
    while ((r = fread(b + n, 1, cap - n - 1, p)) > 0) {
        n += r;
        if (cap - n - 1 == 0) { cap *= 2; b = realloc(b, cap); }
    }
    b[n] = 0;
    int st = pclose(p);
    if (out) *out = b; else free(b);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

char *tu_quiz_events(const char *prefix, const char *concept, int from, int n)
{
    size_t cap = (size_t)n * (128 + strlen(prefix) + strlen(concept)) + 1, len = 0;
    char *buf = malloc(cap);
    ck_assert_ptr_nonnull(buf);
    buf[0] = 0;
    for (int i = from; i < from + n; i++)
        len += (size_t)snprintf(buf + len, cap - len,
                                "{\"learner\":\"%s%d\",\"concept\":\"%s\",\"kind\":\"quiz\","
                                "\"at\":\"2026-11-%02dT10:00:00Z\",\"score\":%d}\n",
                                prefix, i, concept, 1 + i % 28, i % 3 != 0);
    return buf;
}

int tu_file_cmp(const char *a, const char *b)
{
    size_t la, lb;
    char *x = tu_read(a, &la), *y = tu_read(b, &lb);
    int r = !x || !y || la != lb || memcmp(x, y, la) != 0;
    free(x); free(y);
    return r;
}

char *tu_db_dir, *tu_db_path;

void tu_db_setup(void)
{
    tu_db_dir = tu_mkdtemp();
    tu_db_path = tu_path(tu_db_dir, "k.db");
}

void tu_db_teardown(void)
{
    tu_rmrf(tu_db_dir);
    free(tu_db_path);
    free(tu_db_dir);
    tu_db_dir = tu_db_path = NULL;
}

char *tu_save(const char *dir, const char *name)
{
    static int nsaved;
    char *p = tu_path(dir, name), *copy = malloc(strlen(dir) + 32);
    ck_assert(copy != NULL);
    sprintf(copy, "%s/saved-%d", dir, ++nsaved);
    tu_copy(p, copy);
    free(p);
    return copy;
}

void tu_unchanged(const char *dir, const char *name, const char *copy)
{
    char *p = tu_path(dir, name);
    ck_assert_msg(tu_file_cmp(p, copy) == 0, "%s changed", name);
    free(p);
}

int tu_exists(const char *dir, const char *name)
{
    char *p = tu_path(dir, name);
    struct stat st;
    int r = stat(p, &st) == 0;
    free(p);
    return r;
}

void tu_file_has(const char *dir, const char *name, const char *what)
{
    char *p = tu_path(dir, name), *t = tu_read(p, NULL);
    ck_assert_msg(t && strstr(t, what) != NULL, "expected '%s' in %s: %s", what, name, t ? t : "(unreadable)");
    free(t);
    free(p);
}
