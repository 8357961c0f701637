/* libFuzzer targets for in-memory inputs (tools/fuzz/build.sh):
 *   -DTARGET_CSV      kgi_csv_parse
 *   -DTARGET_AICC     the aicc_script expression parser
 *   -DTARGET_ARCHIVE  an archive (zip, tar.gz, …) written to a file and
 *                     imported: libarchive reading, zip-slip checks, limits
 *   -DTARGET_HTML     HTML / SubRip to text, durations, safe ids
 *   -DTARGET_KGXML    kgi_kgxml_parse with schema validation (native format)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/alloc.h"
#include "importers/aicc_expr.h"
#include "importers/html_text.h"
#include "importers/importers.h"

#if defined(TARGET_AICC)
static void quiet(void *ud, const char *m) { (void)ud; (void)m; }
#endif

#if defined(TARGET_ARCHIVE)
static char path[64];
static void cleanup(void) { unlink(path); }
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
#if defined(TARGET_KGXML)
    kgi_options o = {0};
    o.validate_schema = 1;
    kgg_course *k = kgi_kgxml_parse((const char *)data, size, "fuzz.xml", &o);
    kgg_course_free(k);
#elif defined(TARGET_CSV)
    /* an odd first byte also runs the iconv path (--encoding GBK) */
    kgi_options o = { .encoding = size && (data[0] & 1) ? "GBK" : NULL };
    kgg_course *c = kgi_csv_parse((const char *)data, size, "fuzz.csv", &o);
    kgg_course_free(c);
#elif defined(TARGET_AICC)
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    kgi_cnf f;
    char err[256];
    size_t pos;
    kgi_aicc_parse(s, &f, quiet, NULL, err, sizeof err, &pos);
    kgi_cnf_free(&f);
    free(s);
#elif defined(TARGET_ARCHIVE)
    if (!path[0]) {
        snprintf(path, sizeof path, "/tmp/kgpath-fuzz-%d.zip", (int)getpid());
        atexit(cleanup);
    }
    FILE *fp = fopen(path, "wb");
    if (!fp) return 0;
    fwrite(data, 1, size, fp);
    fclose(fp);
    kgi_result r;
    kgi_import_path(path, NULL, &r);
    kgi_result_free(&r);
#elif defined(TARGET_HTML)
    char *t = kgi_html_to_text((const char *)data, size);
    kg_free(t);
    t = kgi_srt_to_text((const char *)data, size);
    kg_free(t);
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = 0;
    (void)kgi_parse_duration(s);
    char id[64];
    kgi_safe_id(s, "x", id, sizeof id);
    free(s);
#endif
    return 0;
}
