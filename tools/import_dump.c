/* import_dump PATH [--drafts] [--brief]: imports PATH with the importers
 * layer (no database) and prints the course model as text. A debugging aid
 * for importer work; `kgpath import --dry-run` is the user-facing command. */
#include <stdio.h>
#include <string.h>

#include "importers/importers.h"

int main(int argc, char **argv)
{
    if (argc < 2) { fprintf(stderr, "usage: import_dump PATH [--drafts] [--brief]\n"); return 1; }
    kgi_options opt = { .validate_schema = 1 };
    int brief = 0;
    for (int i = 2; i < argc; i++) {
        if (strcmp(argv[i], "--drafts") == 0) opt.include_drafts = 1;
        if (strcmp(argv[i], "--brief") == 0) brief = 1;
    }
    kgi_result r;
    int rc = kgi_import_path(argv[1], &opt, &r);
    if (r.error[0]) printf("error: %s\n", r.error);
    for (size_t ci = 0; ci < r.ncourses; ci++) {
        kgg_course *c = r.courses[ci];
        printf("course %s \"%s\" format=%s source=%s concepts=%zu units=%zu diags=%zu\n",
               c->id ? c->id : "?", c->title ? c->title : "", c->format ? c->format : "?",
               c->source ? c->source : "", c->nconcepts, c->nunits, c->ndiags);
        for (size_t i = 0; i < c->nconcepts && !brief; i++) {
            kgg_concept *k = &c->concepts[i];
            printf("  %s \"%s\" min=%.2f unit=%d text=%zu", k->id, k->title ? k->title : "",
                   k->minutes, k->unit, (k->summary ? strlen(k->summary) : 0) +
                   (k->description ? strlen(k->description) : 0));
            for (size_t g = 0; g < k->ngroups; g++) {
                printf(" req[%u of", k->groups[g].k);
                for (size_t m = 0; m < k->groups[g].nmembers; m++) printf(" %s", k->groups[g].members[m].target);
                printf("]");
            }
            for (size_t m = 0; m < k->nrecommends; m++) printf(" rec:%s", k->recommends[m].target);
            for (size_t m = 0; m < k->ngoals; m++) printf(" goal:\"%.40s\"", k->goals[m]);
            printf("\n");
        }
        for (size_t i = 0; i < c->ndiags; i++) {
            kgg_diag *d = &c->diags[i];
            printf("  %s: %s:%u:%u: %s\n", d->severity == KGG_ERROR ? "ERROR" : "warning",
                   d->file ? d->file : "-", d->line, d->column, d->message);
        }
    }
    kgi_result_free(&r);
    return rc ? 2 : 0;
}
