/* A tiny program built against an installed libkgpath (pkg-config kgpath):
 * imports course files into a database and prints what a concept needs.
 *
 *   cc kgpath_example.c $(pkg-config --cflags --libs kgpath) -o kgpath_example
 *   ./kgpath_example DB CONCEPT FILE...
 */
#include <stdio.h>
#include <kgpath.h>

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: %s DB CONCEPT [FILE...]\n", argv[0]);
        return KGP_EUSAGE;
    }
    kgp_db *db;
    kgp_status st = kgp_db_open(argv[1], 0, &db);
    if (st != KGP_OK) {
        fprintf(stderr, "open: %s\n", kgp_db_errmsg(db));
        kgp_db_close(db);
        return st;
    }
    if (argc > 3) {
        kgp_report *r;
        st = kgp_import(db, (const char *const *)argv + 3, (size_t)(argc - 3), NULL, &r);
        for (size_t i = 0; r && i < r->ndiags; i++)
            fprintf(stderr, "%s\n", r->diags[i].message);
        kgp_report_free(r);
        if (st != KGP_OK) {
            fprintf(stderr, "import: %s\n", kgp_db_errmsg(db));
            kgp_db_close(db);
            return st;
        }
    }
    kgp_snap *snap;
    uint32_t index;
    kgp_concept *c = NULL;
    if ((st = kgp_snap_open(db, &snap)) != KGP_OK) {
        fprintf(stderr, "snapshot: %s\n", kgp_db_errmsg(db));
        kgp_db_close(db);
        return st;
    }
    if ((st = kgp_snap_lookup(snap, argv[2], &index)) == KGP_OK &&
        (st = kgp_concept_get(snap, index, &c)) == KGP_OK) {
        printf("%s (%s), %.0f min\n", c->title, c->key, c->minutes);
        for (size_t g = 0; g < c->ngroups; g++) {
            printf("  needs %u of:", c->groups[g].k);
            for (uint32_t m = 0; m < c->groups[g].n; m++) printf(" %s", c->groups[g].members[m].key);
            printf("\n");
        }
    } else {
        fprintf(stderr, "%s\n", kgp_snap_errmsg(snap));
    }
    kgp_concept_free(c);
    kgp_snap_close(snap);
    kgp_db_close(db);
    printf("libkgpath %s\n", kgp_version(NULL, NULL, NULL));
    return st;
}
