/* kgpath command-line tool: dispatch to the command families. */
#include <stdio.h>
#include <string.h>

#include "kgpath.h"

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("kgpath %s\n", kgp_version(NULL, NULL, NULL));
        return 0;
    }
    fprintf(stderr, "usage: kgpath [--db PATH] COMMAND [ARGS…]\n");
    return KGP_EUSAGE;
}
