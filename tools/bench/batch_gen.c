/* batch_gen: builds a database and a learners file for `kgpath batch`
 * benchmarks and the Slurm test, without any importer.
 *
 *   batch_gen synth DB NCONCEPTS LEARNERS NLEARNERS OUTPREFIX [SEED]
 *   batch_gen metacademy DB DATASETDIR LEARNERS NLEARNERS OUTPREFIX [SEED]
 *
 * synth: NCONCEPTS concepts in courses of 50 ("c<i>:k<j>"); each concept
 * requires 1–3 of the 8 before it in its course, and (beyond the first 20
 * "foundation" courses) one in ten also one of the first five concepts of
 * a foundation course (AND prerequisites only, so
 * that the networkx peer computes the same plans). Minutes 10–60.
 * metacademy: the concepts and prerequisite edges of ../shared/datasets/
 * metacademy (one course "ml", concept ids = tags, learn time in minutes).
 * Learners: 2–3 goals (synth) or 1–2 (metacademy) and up to 5 / 10 known
 * concepts, seeded. Also writes OUTPREFIX.nodes.tsv (key, minutes) and
 * OUTPREFIX.edges.tsv (prerequisite key, concept key) for the peer script.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "graph/course_model.h"
#include "graph/store.h"

static uint64_t rng;
static uint32_t rnd(uint32_t n)
{
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return (uint32_t)(rng % n);
}

static int die(const char *msg) { fprintf(stderr, "batch_gen: %s\n", msg); return 1; }

static int write_store(const char *db, kgg_course **cs, size_t n)
{
    kgg_store *st;
    kgg_err e;
    remove(db);
    char lock[4096];
    snprintf(lock, sizeof lock, "%s-lock", db);
    remove(lock);
    if (kgg_store_open(db, 0, (size_t)1 << 30, &st, &e)) return die(e.msg);
    kgg_write_result res;
    kgg_write_result_init(&res);
    kgp_status rc = kgg_store_write(st, cs, n, 0, &res, &e);
    kgg_write_result_free(&res);
    kgg_store_close(st);
    return rc ? die(e.msg) : 0;
}

int main(int argc, char **argv)
{
    if (argc < 7) {
        fprintf(stderr, "usage: batch_gen synth DB NCONCEPTS LEARNERS NLEARNERS OUTPREFIX [SEED]\n"
                        "       batch_gen metacademy DB DATASETDIR LEARNERS NLEARNERS OUTPREFIX [SEED]\n");
        return 1;
    }
    int synth = strcmp(argv[1], "synth") == 0;
    const char *db = argv[2], *lpath = argv[4], *prefix = argv[6];
    long nlearners = atol(argv[5]);
    rng = argc > 7 ? strtoull(argv[7], NULL, 10) * 2654435761u + 1 : 88172645463325252ULL;

    char path[4096];
    snprintf(path, sizeof path, "%s.nodes.tsv", prefix);
    FILE *nodes = fopen(path, "w");
    snprintf(path, sizeof path, "%s.edges.tsv", prefix);
    FILE *edges = fopen(path, "w");
    if (!nodes || !edges) return die("cannot write the .tsv files");

    kgg_course **cs = NULL;
    size_t ncs = 0;
    char **keys = NULL;     /* every concept key, for the learners */
    uint32_t *course_of = NULL, *first_of = NULL;
    size_t nkeys = 0;
    if (synth) {
        long n = atol(argv[3]);
        const int S = 50;
        ncs = (size_t)((n + S - 1) / S);
        cs = calloc(ncs, sizeof *cs);
        keys = calloc((size_t)n, sizeof *keys);
        course_of = calloc((size_t)n, sizeof *course_of);
        first_of = calloc(ncs, sizeof *first_of);
        for (size_t c = 0; c < ncs; c++) {
            char cid[32];
            snprintf(cid, sizeof cid, "c%zu", c);
            kgg_course *k = cs[c] = kgg_course_new();
            k->id = kgg_course_str(k, cid);
            k->title = kgg_course_str(k, cid);
            k->format = kgg_course_str(k, "kgxml");
            first_of[c] = (uint32_t)nkeys;
            for (int j = 0; j < S && (long)nkeys < n; j++) {
                char id[32], title[64], ref[64];
                snprintf(id, sizeof id, "k%d", j);
                snprintf(title, sizeof title, "Concept %zu.%d", c, j);
                kgg_concept *x = kgg_course_add_concept(k, id, title);
                x->minutes = 10 + rnd(51);
                snprintf(ref, sizeof ref, "%s:%s", cid, id);
                keys[nkeys] = strdup(ref);
                course_of[nkeys++] = (uint32_t)c;
                fprintf(nodes, "%s\t%g\n", ref, x->minutes);
                int want = j == 0 ? 0 : 1 + (int)rnd(3);
                int picked[3] = {-1, -1, -1};
                for (int r = 0; r < want; r++) {
                    int lo = j > 8 ? j - 8 : 0;
                    int p = lo + (int)rnd((uint32_t)(j - lo));
                    if (p == picked[0] || p == picked[1]) continue;
                    picked[r] = p;
                    char t[32];
                    snprintf(t, sizeof t, "k%d", p);
                    kgg_concept_add_require(k, &k->concepts[k->nconcepts - 1], t, NULL);
                    fprintf(edges, "%s:k%d\t%s\n", cid, p, ref);
                }
                /* Cross-course needs point at the first five concepts of
                 * the twenty foundation courses, so plans stay ~50 steps. */
                if (c >= 20 && rnd(10) == 0) {
                    char t[64];
                    snprintf(t, sizeof t, "c%u:k%u", rnd(20), rnd(5));
                    kgg_concept_add_require(k, &k->concepts[k->nconcepts - 1], t, NULL);
                    fprintf(edges, "%s\t%s\n", t, ref);
                }
            }
        }
    } else {
        snprintf(path, sizeof path, "%s/concepts.jsonl", argv[3]);
        FILE *f = fopen(path, "r");
        if (!f) return die("cannot read concepts.jsonl");
        ncs = 1;
        cs = calloc(1, sizeof *cs);
        kgg_course *k = cs[0] = kgg_course_new();
        k->id = kgg_course_str(k, "ml");
        k->title = kgg_course_str(k, "Metacademy");
        k->format = kgg_course_str(k, "kgxml");
        char *line = NULL;
        size_t cap = 0;
        size_t kcap = 0;
        char **ids = NULL;   /* metacademy id -> tag, parallel to keys */
        while (getline(&line, &cap, f) > 0) {
            json_error_t je;
            json_t *j = json_loads(line, 0, &je);
            if (!j) continue;
            const char *id = json_string_value(json_object_get(j, "id"));
            const char *tag = json_string_value(json_object_get(j, "tag"));
            const char *title = json_string_value(json_object_get(j, "title"));
            double h = json_number_value(json_object_get(j, "learn_time_hours"));
            if (id && tag && kgg_course_find(k, tag) < 0) {
                kgg_concept *x = kgg_course_add_concept(k, tag, title ? title : tag);
                x->minutes = h > 0 ? h * 60 : -1;
                if (nkeys == kcap) {
                    kcap = kcap ? kcap * 2 : 512;
                    keys = realloc(keys, kcap * sizeof *keys);
                    ids = realloc(ids, kcap * sizeof *ids);
                }
                char ref[512];
                snprintf(ref, sizeof ref, "ml:%s", tag);
                keys[nkeys] = strdup(ref);
                ids[nkeys++] = strdup(id);
                fprintf(nodes, "%s\t%g\n", ref, x->minutes < 0 ? 30 : x->minutes);
            }
            json_decref(j);
        }
        fclose(f);
        snprintf(path, sizeof path, "%s/edges.tsv", argv[3]);
        f = fopen(path, "r");
        if (!f) return die("cannot read edges.tsv");
        getline(&line, &cap, f);    /* header */
        while (getline(&line, &cap, f) > 0) {
            char *tok[5] = {0};
            char *save = NULL, *p = line;
            for (int i = 0; i < 5; i++, p = NULL) tok[i] = strtok_r(p, "\t\n", &save);
            if (!tok[2] || !tok[3]) continue;
            long ci = kgg_course_find(k, tok[3]), pi = kgg_course_find(k, tok[2]);
            if (ci < 0 || pi < 0 || ci == pi) continue;
            kgg_concept_add_require(k, &k->concepts[ci], tok[2], tok[4]);
            fprintf(edges, "ml:%s\tml:%s\n", tok[2], tok[3]);
        }
        free(line);
        fclose(f);
        for (size_t i = 0; i < nkeys; i++) free(ids[i]);
        free(ids);
        course_of = calloc(nkeys, sizeof *course_of);
        first_of = calloc(1, sizeof *first_of);
    }
    fclose(nodes);
    fclose(edges);
    if (write_store(db, cs, ncs)) return 1;
    for (size_t c = 0; c < ncs; c++) kgg_course_free(cs[c]);
    free(cs);

    FILE *lf = strcmp(lpath, "-") ? fopen(lpath, "w") : stdout;
    if (!lf) return die("cannot write the learners file");
    for (long u = 0; u < nlearners; u++) {
        fprintf(lf, "{\"learner\":\"u%ld\",\"goals\":[", u);
        int ng = synth ? 2 + (int)rnd(2) : 1 + (int)rnd(2);
        uint32_t g0 = rnd((uint32_t)nkeys), goal_ix[3];
        for (int g = 0; g < ng; g++) {
            /* Goals of one learner come from neighbouring courses. */
            uint32_t gi = g == 0 ? g0 : (synth ? (g0 + rnd(150)) % (uint32_t)nkeys : rnd((uint32_t)nkeys));
            goal_ix[g] = gi;
            fprintf(lf, "%s\"%s\"", g ? "," : "", keys[gi]);
        }
        fprintf(lf, "],\"known\":[");
        int nk = (int)rnd(synth ? 6 : 11), put = 0;
        for (int i = 0; i < nk; i++) {
            uint32_t ki = synth ? first_of[course_of[g0]] + rnd(20) : rnd((uint32_t)nkeys);
            if (ki >= nkeys) ki = (uint32_t)nkeys - 1;
            int isgoal = 0;
            for (int g = 0; g < ng; g++) isgoal |= ki == goal_ix[g];
            if (isgoal) continue;
            fprintf(lf, "%s\"%s\"", put++ ? "," : "", keys[ki]);
        }
        fprintf(lf, "]}\n");
    }
    if (lf != stdout) fclose(lf);
    for (size_t i = 0; i < nkeys; i++) free(keys[i]);
    free(keys);
    free(course_of);
    free(first_of);
    return 0;
}
