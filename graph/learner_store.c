/* Learner events: canonical encoding and keys (see learner_store.h). */
#include "graph/learner_store.h"
#include "base/alloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const kind_names[] = { "?", "read", "quiz", "review" };

const char *kgg_event_kind_name(int kind)
{
    return kind >= 1 && kind <= 3 ? kind_names[kind] : kind_names[0];
}

int kgg_event_kind_parse(const char *name)
{
    for (int k = 1; k <= 3; k++)
        if (strcmp(name, kind_names[k]) == 0)
            return k;
    return 0;
}

static int has_sep(const char *s)
{
    return strpbrk(s, "\t\n\r") != NULL;
}

static void fmt_num(char *b, size_t cap, double v)
{
    if (v < 0)
        snprintf(b, cap, "-");
    else
        snprintf(b, cap, "%.17g", v);
}

int kgg_event_encode(const kgg_event *e, char *buf, size_t cap)
{
    char dw[32], sc[32];
    if (has_sep(e->learner) || has_sep(e->concept))
        return -1;
    fmt_num(dw, sizeof dw, e->dwell);
    fmt_num(sc, sizeof sc, e->score);
    return snprintf(buf, cap, "1\t%s\t%s\t%s\t%" PRId64 "\t%s\t%s\t%d",
                    e->learner, e->concept, kgg_event_kind_name(e->kind),
                    e->at, dw, sc, e->grade);
}

int kgg_event_decode(const char *val, size_t len, char *sb, kgg_event *e)
{
    char *f[8];
    int nf = 0;
    memcpy(sb, val, len);
    sb[len] = '\0';
    if (memchr(sb, '\0', len))
        return -1;
    char *p = sb;
    f[nf++] = p;
    for (; *p; p++) {
        if (*p == '\t') {
            *p = '\0';
            if (nf == 8)
                return -1;
            f[nf++] = p + 1;
        }
    }
    if (nf != 8 || strcmp(f[0], "1") != 0 || !*f[1] || !*f[2])
        return -1;
    e->learner = f[1];
    e->concept = f[2];
    e->kind = kgg_event_kind_parse(f[3]);
    if (!e->kind)
        return -1;
    char *end;
    e->at = strtoll(f[4], &end, 10);
    if (*end || end == f[4])
        return -1;
    e->dwell = strcmp(f[5], "-") == 0 ? -1 : strtod(f[5], &end);
    if (e->dwell >= 0 && *end)
        return -1;
    e->score = strcmp(f[6], "-") == 0 ? -1 : strtod(f[6], &end);
    if (e->score >= 0 && *end)
        return -1;
    e->grade = (int)strtol(f[7], &end, 10);
    if (*end || e->grade < 0 || e->grade > 4)
        return -1;
    return 0;
}

static uint64_t fnv1a(const void *p, size_t n, uint64_t h)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) {
        h ^= c[i];
        h *= 0x100000001b3ULL;
    }
    return h;
}

uint64_t kgg_event_hash(const kgg_event *e)
{
    char small[1024];
    int n = kgg_event_encode(e, small, sizeof small);
    if (n < 0)
        return 0;
    if ((size_t)n < sizeof small)
        return fnv1a(small, (size_t)n, 0xcbf29ce484222325ULL);
    char *big = kg_malloc((size_t)n + 1);
    if (!big)
        return 0;
    kgg_event_encode(e, big, (size_t)n + 1);
    uint64_t h = fnv1a(big, (size_t)n, 0xcbf29ce484222325ULL);
    kg_free(big);
    return h;
}

static void put_be64(unsigned char *b, uint64_t v)
{
    for (int i = 7; i >= 0; i--) {
        b[i] = (unsigned char)(v & 0xff);
        v >>= 8;
    }
}

int kgg_event_key(const kgg_event *e, unsigned char *buf, size_t cap)
{
    size_t ln = strlen(e->learner);
    if (ln == 0 || ln > KGG_LEARNER_MAX || cap < ln + 17)
        return -1;
    memcpy(buf, e->learner, ln);
    buf[ln] = '\0';
    put_be64(buf + ln + 1, (uint64_t)e->at ^ 0x8000000000000000ULL);
    put_be64(buf + ln + 9, kgg_event_hash(e));
    return (int)(ln + 17);
}
