/* The base layer: kg_buf (base/buf.h) and files replaced whole
 * (base/file.h). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/alloc.h"
#include "base/buf.h"
#include "base/file.h"
#include "testutil.h"

/* Entries of dir other than . and .. */
static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d)))
        if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..")) n++;
    closedir(d);
    return n;
}

START_TEST(buf_text)
{
    kg_buf b = {0};
    kg_buf_puts(&b, "a");
    kg_buf_printf(&b, "%d-%s", 42, "x");
    kg_buf_join(&b, ", ", "y");
    kg_buf_join(&b, ", ", "");              /* nothing */
    kg_buf_puts(&b, NULL);                  /* nothing */
    kg_buf_xml(&b, " <a href=\"x\">&'</a>");
    ck_assert_str_eq(b.data, "a42-x, y &lt;a href=&quot;x&quot;&gt;&amp;&#39;&lt;/a&gt;");
    ck_assert_uint_eq(b.len, strlen(b.data));
    /* XML 1.0 forbids C0 controls but tab/LF/CR: they become U+FFFD, escaped or not */
    kg_buf x = {0};
    kg_buf_xml(&x, "a\x01<\t\n\r\x1f");
    ck_assert_str_eq(x.data, "a\xEF\xBF\xBD&lt;\t\n\r\xEF\xBF\xBD");
    kg_buf_free(&x);
    kg_buf_xml_chars(&x, "<\x02>");
    ck_assert_str_eq(x.data, "<\xEF\xBF\xBD>");
    kg_buf_free(&x);
    ck_assert_int_eq(kg_xml_bad_char("a\tb\n"), 0);
    ck_assert_int_eq(kg_xml_bad_char("a\x7f"), 0);
    ck_assert_int_eq(kg_xml_bad_char("a\x1b[0m"), 1);
    ck_assert_int_eq(kg_xml_bad_char(NULL), 0);
    /* Graphviz strings: a label's backslash doubled, a tooltip's twice over
     * (Graphviz unescapes it twice); quotes, entities, line breaks escaped */
    kg_buf_gv(&x, "a\"\\N&amp;\n\t中", KG_GV_LABEL);
    ck_assert_str_eq(x.data, "a\\\"\\\\N&amp;amp;\\n 中");
    kg_buf_free(&x);
    kg_buf_gv(&x, "\\E", KG_GV_TOOLTIP);
    ck_assert_str_eq(x.data, "\\\\\\\\E");
    kg_buf_free(&x);
    /* an id set through cgraph: only backslashes doubled, controls as spaces */
    kg_buf_gv(&x, "a\"\\N&amp;\n\t中", KG_GV_ID);
    ck_assert_str_eq(x.data, "a\"\\\\N&amp;  中");
    kg_buf_free(&x);
    /* the first n bytes only (a line of a wrapped label); nothing from none */
    kg_buf_gv_n(&x, "ab\\cd", 3, KG_GV_LABEL);
    kg_buf_gv_n(&x, NULL, 5, KG_GV_LABEL);
    kg_buf_gv(&x, "", KG_GV_LABEL);
    ck_assert_str_eq(x.data, "ab\\\\");
    kg_buf_free(&x);
    /* printf longer than its on-stack scratch */
    char big[2000];
    memset(big, 'z', sizeof big - 1);
    big[sizeof big - 1] = 0;
    size_t before = b.len;
    kg_buf_printf(&b, "[%s]", big);
    ck_assert_uint_eq(b.len, before + sizeof big + 1);
    ck_assert_int_eq(b.data[b.len - 1], ']');
    ck_assert_int_eq(b.data[b.len], 0);
    char *s = kg_buf_take(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
    ck_assert_int_eq(s[0], 'a');
    kg_free(s);
    /* an empty buffer takes as "", not NULL */
    s = kg_buf_take(&b);
    ck_assert_str_eq(s, "");
    kg_free(s);
}
END_TEST

/* An allocator that refuses after a budget of calls: appends then stop,
 * stay stopped (sticky), and take gives NULL. */
static int g_budget;
static void *budget_alloc(void *ud, void *p, size_t osize, size_t nsize)
{
    (void)ud; (void)osize;
    if (nsize == 0) { free(p); return NULL; }
    if (g_budget-- <= 0) return NULL;
    return realloc(p, nsize);
}

START_TEST(buf_oom_sticky)
{
    g_budget = 1;
    kg_set_allocator(budget_alloc, NULL);
    kg_buf b = {0};
    kg_buf_puts(&b, "first");
    ck_assert(!b.oom);
    char big[4096];
    memset(big, 'x', sizeof big);
    kg_buf_put(&b, big, sizeof big);        /* needs a second allocation */
    ck_assert(b.oom);
    g_budget = 100;
    kg_buf_puts(&b, "later");               /* sticky: nothing */
    ck_assert_str_eq(b.data, "first");
    ck_assert_ptr_null(kg_buf_take(&b));
    kg_set_allocator(NULL, NULL);
}
END_TEST

START_TEST(buf_binary)
{
    kg_buf b = {0};
    kg_buf_varint(&b, 0);
    kg_buf_varint(&b, 127);
    kg_buf_varint(&b, 300);
    kg_buf_varint(&b, UINT64_MAX);
    kg_buf_lpstr(&b, NULL);
    kg_buf_lpstr(&b, "");
    kg_buf_lpstr(&b, "ab");
    static const unsigned char want[] = {
        0x00, 0x7f, 0xac, 0x02,
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        0x00, 0x01, 0x00, 0x03, 'a', 'b', 0x00};
    ck_assert_uint_eq(b.len, sizeof want);
    ck_assert_int_eq(memcmp(b.data, want, sizeof want), 0);
    kg_buf_free(&b);
}
END_TEST

START_TEST(atomic_replace)
{
    char *dir = tu_mkdtemp();
    char *path = tu_path(dir, "out.txt");
    tu_write(path, "old\n", 4);
    ck_assert_int_eq(kg_write_file_atomic(path, "new content\n", 12, 0640), 0);
    size_t n;
    char *t = tu_read(path, &n);
    ck_assert_str_eq(t, "new content\n");
    free(t);
    struct stat st;
    ck_assert_int_eq(stat(path, &st), 0);
    mode_t um = umask(0);
    umask(um);
    ck_assert_int_eq(st.st_mode & 0777, 0640 & ~um);
    ck_assert_int_eq(count_entries(dir), 1);   /* no temporary file left */

    /* streamed, then abandoned: the old content stays, nothing left */
    kg_atomic_file f;
    ck_assert_int_eq(kg_atomic_begin(&f, path, 0644), 0);
    FILE *s = kg_atomic_stream(&f);
    ck_assert_ptr_nonnull(s);
    fprintf(s, "half a file");
    ck_assert_int_eq(count_entries(dir), 2);
    kg_atomic_abort(&f);
    kg_atomic_abort(&f);                       /* safe twice */
    t = tu_read(path, NULL);
    ck_assert_str_eq(t, "new content\n");
    free(t);
    ck_assert_int_eq(count_entries(dir), 1);

    /* streamed and committed */
    ck_assert_int_eq(kg_atomic_begin(&f, path, 0644), 0);
    s = kg_atomic_stream(&f);
    fprintf(s, "streamed %d\n", 7);
    ck_assert_int_eq(kg_atomic_write(&f, "tail\n", 5), 0);
    ck_assert_int_eq(kg_atomic_commit(&f), 0);
    t = tu_read(path, NULL);
    ck_assert_str_eq(t, "streamed 7\ntail\n");
    free(t);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(kg_atomic_commit(&f), EBADF);   /* finished */
    free(path);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

START_TEST(atomic_errors)
{
    char *dir = tu_mkdtemp();
    /* a missing folder: the error, and nothing created */
    char *path = tu_path(dir, "no/such/folder/out");
    ck_assert_int_eq(kg_write_file_atomic(path, "x", 1, 0644), ENOENT);
    free(path);
    ck_assert_int_eq(kg_write_file_atomic("", "x", 1, 0644), ENOENT);
    /* a name too long for a temporary beside it */
    char longp[PATH_MAX + 8];
    memset(longp, 'a', sizeof longp - 1);
    longp[sizeof longp - 1] = 0;
    ck_assert_int_eq(kg_write_file_atomic(longp, "x", 1, 0644), ENAMETOOLONG);
    /* the destination is a folder: rename fails, the folder is untouched
     * and no temporary file is left */
    char *sub = tu_path(dir, "sub");
    ck_assert_int_eq(mkdir(sub, 0755), 0);
    char *inner = tu_path(sub, "keep");
    tu_write(inner, "k", 1);
    ck_assert_int_ne(kg_write_file_atomic(sub, "x", 1, 0644), 0);
    ck_assert_int_eq(count_entries(dir), 1);
    ck_assert_int_eq(count_entries(sub), 1);
    free(inner);
    free(sub);
    tu_rmrf(dir);
    free(dir);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("base");
    TCase *t = tcase_create("base");
    tcase_add_test(t, buf_text);
    tcase_add_test(t, buf_oom_sticky);
    tcase_add_test(t, buf_binary);
    tcase_add_test(t, atomic_replace);
    tcase_add_test(t, atomic_errors);
    suite_add_tcase(s, t);
    return s;
}
