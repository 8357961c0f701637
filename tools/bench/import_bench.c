/* import_bench PATH [RUNS]: imports PATH with the importers layer (no
 * database) RUNS times (default 3) and prints, for the fastest run, the
 * wall time, the XML bytes under PATH (*.xml files of a folder, or the file
 * itself), MB of XML per second and concepts per second, as one line:
 *   import_bench seconds=S xml_mb=M mb_per_s=R concepts=N concepts_per_s=C
 * Used by tools/bench/import_olx.sh beside xmllint --stream. */
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "importers/importers.h"

static unsigned long long xml_bytes;

static int add(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)ftw;
    size_t n = strlen(p);
    if (flag == FTW_F && n > 4 && strcmp(p + n - 4, ".xml") == 0) xml_bytes += (unsigned long long)sb->st_size;
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: import_bench PATH [RUNS]\n"); return 1; }
    int runs = argc > 2 ? atoi(argv[2]) : 3;
    if (runs < 1) runs = 1;
    nftw(argv[1], add, 64, FTW_PHYS);
    double best = 1e30;
    size_t concepts = 0, diags = 0;
    int rc = 0;
    for (int i = 0; i < runs; i++) {
        kgi_result r;
        double t0 = now();
        rc = kgi_import_path(argv[1], NULL, &r);
        double t = now() - t0;
        if (t < best) best = t;
        concepts = 0; diags = 0;
        for (size_t c = 0; c < r.ncourses; c++) { concepts += r.courses[c]->nconcepts; diags += r.courses[c]->ndiags; }
        if (rc) fprintf(stderr, "import failed: %s\n", r.error);
        kgi_result_free(&r);
    }
    double mb = (double)xml_bytes / 1e6;
    printf("import_bench seconds=%.3f xml_mb=%.1f mb_per_s=%.1f concepts=%zu concepts_per_s=%.0f diags=%zu\n",
           best, mb, mb / best, concepts, (double)concepts / best, diags);
    return rc ? 2 : 0;
}
