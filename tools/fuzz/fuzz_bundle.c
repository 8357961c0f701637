/* libFuzzer targets for the package importers (tools/fuzz/build.sh).
 *
 * An input is a bundle of files: the bytes up to the first line
 * "@@FILE <name>" are the format's top file (TOP_FILE below); each
 * "@@FILE <name>" line starts another file. The files are written into a
 * fresh folder and the folder is imported with kgi_import_path, so the
 * whole path is exercised: package listing, path resolution, XML/HTML/JSON
 * parsing, and the format's mapping. Names are restricted to
 * [A-Za-z0-9_./-] without ".." (the fuzzer should not write outside its
 * folder); everything else about the input is left to the fuzzer.
 *
 * Built once per format with -DTOP_FILE="imsmanifest.xml" (SCORM, IMS CC),
 * "course.xml" (OLX) or "moodle_backup.xml" (Moodle).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <ftw.h>

#include "importers/importers.h"

#ifndef TOP_FILE
#define TOP_FILE "imsmanifest.xml"
#endif

static char root[256];

static int rm_cb(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb; (void)flag;
    if (ftw->level > 0) remove(p);
    return 0;
}

static int safe_name(const char *s, size_t n)
{
    if (n == 0 || n > 120 || s[0] == '/' || s[0] == '.') return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '/' || c == '-')) return 0;
        if (c == '.' && i + 1 < n && s[i + 1] == '.') return 0;
        if (c == '/' && i + 1 < n && s[i + 1] == '.') return 0;
    }
    return s[n - 1] != '/';
}

static void write_file(const char *name, size_t nlen, const uint8_t *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%.*s", root, (int)nlen, name);
    for (char *p = path + strlen(root) + 1; *p; p++)
        if (*p == '/') { *p = 0; mkdir(path, 0755); *p = '/'; }
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fwrite(data, 1, len, f);
    fclose(f);
}

static void cleanup(void)
{
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    rmdir(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!root[0]) {
        snprintf(root, sizeof root, "/tmp/kgpath-fuzz-XXXXXX");
        if (!mkdtemp(root)) abort();
        atexit(cleanup);
    }
    nftw(root, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
    const char *name = TOP_FILE;
    size_t nlen = strlen(TOP_FILE);
    size_t start = 0;
    int files = 0;
    for (size_t i = 0; i <= size && files < 32; i++) {
        int at_marker = i + 7 <= size && (i == 0 || data[i - 1] == '\n') && memcmp(data + i, "@@FILE ", 7) == 0;
        if (i == size || at_marker) {
            size_t end = i > start && i < size ? i - 1 : i;   /* drop the '\n' before the marker */
            if (end < start) end = start;
            if (safe_name(name, nlen)) write_file(name, nlen, data + start, end - start);
            files++;
            if (i == size) break;
            size_t j = i + 7;
            while (j < size && data[j] != '\n') j++;
            name = (const char *)data + i + 7;
            nlen = j - (i + 7);
            start = j < size ? j + 1 : size;
            i = j;
        }
    }
    kgi_result r;
    kgi_options opt = { .include_drafts = size & 1, .validate_schema = 0 };
    kgi_import_path(root, &opt, &r);
    kgi_result_free(&r);
    return 0;
}
