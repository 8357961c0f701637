#include "graph/course_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <utf8proc.h>

/* Course arrays live in the arena; growing one copies it (old space is
 * simply left in the arena — courses are built once and freed whole). */
static int arena_grow(kg_arena *a, void *pa, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap * 2 : 4;
    while (nc < need) nc *= 2;
    void *np = kg_arena_alloc(a, nc * elt);
    if (!np) return -1;
    if (*cap) memcpy(np, *(void **)pa, *cap * elt);
    *(void **)pa = np;
    *cap = nc;
    return 0;
}

#define PUSH(c, arr, n, cap) \
    (arena_grow((c)->arena, &(arr), &(cap), (n) + 1, sizeof *(arr)) ? ((c)->oom = 1, NULL) : \
     (memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++]))

/* A copy that must exist when s does (NULL in, NULL out); marks c->oom. */
static char *need_str(kgg_course *c, const char *s)
{
    char *r = kgg_course_str(c, s);
    if (s && !r) c->oom = 1;
    return r;
}

kgg_course *kgg_course_new(void)
{
    kg_arena *a = kg_arena_new();
    if (!a) return NULL;
    kgg_course *c = kg_arena_calloc(a, sizeof *c);
    if (!c) { kg_arena_free(a); return NULL; }
    c->arena = a;
    return c;
}

void kgg_course_free(kgg_course *c)
{
    if (c) kg_arena_free(c->arena);
}

char *kgg_course_str(kgg_course *c, const char *s) { return kg_arena_strdup(c->arena, s); }
char *kgg_course_strn(kgg_course *c, const char *s, size_t n) { return kg_arena_strndup(c->arena, s, n); }

kgg_concept *kgg_course_add_concept(kgg_course *c, const char *id, const char *title)
{
    kgg_concept *k = PUSH(c, c->concepts, c->nconcepts, c->cap_concepts);
    if (!k) return NULL;
    k->id = need_str(c, id);
    k->title = need_str(c, title);
    if (c->oom) { c->nconcepts--; return NULL; }   /* never a concept without its id */
    k->minutes = -1;
    k->difficulty = -1;
    k->unit = -1;
    return k;
}

kgg_unit *kgg_course_add_unit(kgg_course *c, const char *id, const char *title)
{
    kgg_unit *u = PUSH(c, c->units, c->nunits, c->cap_units);
    if (!u) return NULL;
    u->id = need_str(c, id);
    u->title = need_str(c, title);
    return u;
}

kgg_resource *kgg_concept_add_resource(kgg_course *c, kgg_concept *k)
{
    kgg_resource *r = PUSH(c, k->resources, k->nresources, k->cap_resources);
    if (r) r->minutes = -1;
    return r;
}

kgg_group *kgg_concept_add_group(kgg_course *c, kgg_concept *k, uint32_t kk)
{
    kgg_group *g = PUSH(c, k->groups, k->ngroups, k->cap_groups);
    if (g) g->k = kk;
    return g;
}

kgg_ref *kgg_group_add_member(kgg_course *c, kgg_group *g, const char *target, const char *reason)
{
    kgg_ref *r = PUSH(c, g->members, g->nmembers, g->cap_members);
    if (!r) return NULL;
    r->target = need_str(c, target);
    r->reason = need_str(c, reason);
    return r;
}

kgg_ref *kgg_concept_add_recommend(kgg_course *c, kgg_concept *k, const char *target, const char *reason)
{
    kgg_ref *r = PUSH(c, k->recommends, k->nrecommends, k->cap_recommends);
    if (!r) return NULL;
    r->target = need_str(c, target);
    r->reason = need_str(c, reason);
    return r;
}

kgg_ref *kgg_concept_add_require(kgg_course *c, kgg_concept *k, const char *target, const char *reason)
{
    kgg_group *g = kgg_concept_add_group(c, k, 1);
    return g ? kgg_group_add_member(c, g, target, reason) : NULL;
}

int kgg_concept_add_goal(kgg_course *c, kgg_concept *k, const char *goal)
{
    char **s = PUSH(c, k->goals, k->ngoals, k->cap_goals);
    return s && (*s = need_str(c, goal)) ? 0 : -1;
}

int kgg_concept_add_tag(kgg_course *c, kgg_concept *k, const char *tag)
{
    char **s = PUSH(c, k->tags, k->ntags, k->cap_tags);
    return s && (*s = need_str(c, tag)) ? 0 : -1;
}

int kgg_course_diag(kgg_course *c, kgg_severity sev, const char *file,
                    uint32_t line, uint32_t column, const char *fmt, ...)
{
    /* Bounded output and memory: the first KGG_MAX_ERRORS errors (and ten
     * times as many warnings) are kept, later ones only counted, so the
     * report can say how many more there were. */
    if (sev == KGG_ERROR ? c->nkept_errors >= KGG_MAX_ERRORS : c->ndiags >= 10 * KGG_MAX_ERRORS) {
        if (sev == KGG_ERROR) { c->too_many = 1; c->ndropped++; }
        else c->ndropped_warnings++;
        return 0;
    }
    c->nkept_errors += sev == KGG_ERROR;
    kgg_diag *d = PUSH(c, c->diags, c->ndiags, c->cap_diags);
    if (!d) return -1;
    d->severity = sev;
    d->file = need_str(c, file);
    d->line = line;
    d->column = column;
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    d->message = need_str(c, buf);
    return d->message ? 0 : -1;
}

size_t kgg_course_nerrors(const kgg_course *c)
{
    return c->nkept_errors + c->ndropped;
}

long kgg_course_find(const kgg_course *c, const char *id)
{
    for (size_t i = 0; i < c->nconcepts; i++)
        if (c->concepts[i].id && strcmp(c->concepts[i].id, id) == 0) return (long)i;
    return -1;
}

double kgg_concept_total_minutes(const kgg_concept *k)
{
    double t = 0;
    int known = k->minutes >= 0;
    if (known) t += k->minutes;
    for (size_t i = 0; i < k->nresources; i++)
        if (k->resources[i].minutes >= 0) { t += k->resources[i].minutes; known = 1; }
    return known ? t : -1;
}

/* ---- identity and text checks ---- */

size_t kgg_utf8_prefix(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        if ((unsigned char)s[i] < 0x80) { i++; continue; }
        utf8proc_int32_t cp;
        size_t rest = n - i;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)s + i,
                                              rest > 4 ? 4 : (utf8proc_ssize_t)rest, &cp);
        if (k <= 0) return i;
        i += (size_t)k;
    }
    return n;
}

/* FNV-1a over length-prefixed fields, so that field boundaries count. */
typedef struct digest { uint64_t h; size_t n; } digest;

static void d_bytes(digest *d, const void *p, size_t n)
{
    const unsigned char *b = p;
    d->n += n;
    for (size_t i = 0; i < n; i++) { d->h ^= b[i]; d->h *= 1099511628211ull; }
}
static void d_u64(digest *d, uint64_t v)
{
    unsigned char t[8];
    for (int i = 0; i < 8; i++) t[i] = (unsigned char)(v >> (8 * i));
    d_bytes(d, t, 8);
}
static void d_str(digest *d, const char *s)
{
    if (!s) { d_u64(d, 0); return; }
    size_t n = strlen(s);
    d_u64(d, n + 1);
    d_bytes(d, s, n);
}
static void d_f64(digest *d, double v)
{
    uint64_t u;
    memcpy(&u, &v, 8);
    d_u64(d, u);
}
/* A reference, with "<own course>:" taken off. */
static void d_ref(digest *d, const kgg_course *c, const kgg_ref *r)
{
    const char *t = r->target;
    size_t n = c->id ? strlen(c->id) : 0;
    if (t && n && !strncmp(t, c->id, n) && t[n] == ':') t += n + 1;
    d_str(d, t);
    d_str(d, r->reason);
}

uint64_t kgg_course_digest(const kgg_course *c, unsigned what, size_t *bytes)
{
    digest d = {1469598103934665603ull, 0};
    if (what & KGG_DIGEST_ID) d_str(&d, c->id);
    if (what & KGG_DIGEST_META) {
        d_str(&d, c->title); d_str(&d, c->language); d_str(&d, c->version); d_str(&d, c->format);
        /* only when set, so the hashes of courses stored before it stay valid */
        if (c->course_order) d_str(&d, "course_order=required");
    }
    d_u64(&d, c->nunits);
    for (size_t u = 0; u < c->nunits; u++) { d_str(&d, c->units[u].id); d_str(&d, c->units[u].title); }
    d_u64(&d, c->nconcepts);
    for (size_t i = 0; i < c->nconcepts; i++) {
        const kgg_concept *k = &c->concepts[i];
        d_str(&d, k->id); d_str(&d, k->title); d_str(&d, k->summary); d_str(&d, k->description);
        d_f64(&d, k->minutes); d_f64(&d, k->difficulty); d_u64(&d, (uint64_t)(k->unit + 1));
        d_u64(&d, k->line);
        d_u64(&d, k->ngoals);
        for (size_t j = 0; j < k->ngoals; j++) d_str(&d, k->goals[j]);
        d_u64(&d, k->ntags);
        for (size_t j = 0; j < k->ntags; j++) d_str(&d, k->tags[j]);
        d_u64(&d, k->nresources);
        for (size_t j = 0; j < k->nresources; j++) {
            const kgg_resource *r = &k->resources[j];
            d_str(&d, r->title); d_str(&d, r->url); d_str(&d, r->kind); d_f64(&d, r->minutes);
        }
        d_u64(&d, k->ngroups);
        for (size_t g = 0; g < k->ngroups; g++) {
            const kgg_group *gr = &k->groups[g];
            d_u64(&d, gr->k); d_str(&d, gr->reason); d_u64(&d, gr->nmembers);
            for (size_t m = 0; m < gr->nmembers; m++) d_ref(&d, c, &gr->members[m]);
        }
        d_u64(&d, k->nrecommends);
        for (size_t j = 0; j < k->nrecommends; j++) d_ref(&d, c, &k->recommends[j]);
    }
    if (bytes) *bytes = d.n;
    return d.h;
}

int kgg_course_set_identity(kgg_course *c)
{
    if (c->identity) return 0;
    char buf[600];
    snprintf(buf, sizeof buf, "%s:%s@%016llx", c->format ? c->format : "",
             c->id ? c->id : "", (unsigned long long)kgg_course_digest(c, 0, NULL));
    c->identity = kgg_course_str(c, buf);
    return c->identity ? 0 : -1;
}

/* One string of the course: reports it when it is not valid UTF-8. what
 * names the field; k the concept (NULL for the course itself). */
static int utf8_field(kgg_course *c, const kgg_concept *k, size_t ki, const char *what,
                      const char *s, long *nbad)
{
    if (!s || *nbad < 0) return 0;
    size_t n = strlen(s), ok = kgg_utf8_prefix(s, n);
    if (ok == n) return 0;
    char who[300];
    if (!k) snprintf(who, sizeof who, "course");
    else if (k->id && kgg_utf8_prefix(k->id, strlen(k->id)) == strlen(k->id))
        snprintf(who, sizeof who, "concept '%.200s'", k->id);
    else snprintf(who, sizeof who, "concept %zu", ki + 1);
    if (kgg_course_diag(c, KGG_ERROR, c->source, k ? k->line : 0, 0,
                        "%s: %s is not valid UTF-8 (byte 0x%02X at byte %zu); nothing invalid is stored "
                        "(give the input's encoding, e.g. --encoding GBK for a CSV)",
                        who, what, (unsigned char)s[ok], ok + 1)) { *nbad = -1; return -1; }
    ++*nbad;
    return 0;
}

long kgg_course_check_utf8(kgg_course *c)
{
    long bad = 0;
    /* The course's own strings; source is a path, repaired by the importer. */
    utf8_field(c, NULL, 0, "the course id", c->id, &bad);
    utf8_field(c, NULL, 0, "the title", c->title, &bad);
    utf8_field(c, NULL, 0, "the language", c->language, &bad);
    utf8_field(c, NULL, 0, "the version", c->version, &bad);
    utf8_field(c, NULL, 0, "the source path", c->source, &bad);
    for (size_t u = 0; u < c->nunits; u++) {
        utf8_field(c, NULL, 0, "a unit id", c->units[u].id, &bad);
        utf8_field(c, NULL, 0, "a unit title", c->units[u].title, &bad);
    }
    for (size_t i = 0; i < c->nconcepts; i++) {
        const kgg_concept *k = &c->concepts[i];
        utf8_field(c, k, i, "the id", k->id, &bad);
        utf8_field(c, k, i, "the title", k->title, &bad);
        utf8_field(c, k, i, "the summary", k->summary, &bad);
        utf8_field(c, k, i, "the description", k->description, &bad);
        for (size_t j = 0; j < k->ngoals; j++) utf8_field(c, k, i, "a goal", k->goals[j], &bad);
        for (size_t j = 0; j < k->ntags; j++) utf8_field(c, k, i, "a tag", k->tags[j], &bad);
        for (size_t j = 0; j < k->nresources; j++) {
            const kgg_resource *r = &k->resources[j];
            utf8_field(c, k, i, "a resource title", r->title, &bad);
            utf8_field(c, k, i, "a resource URL", r->url, &bad);
            utf8_field(c, k, i, "a resource kind", r->kind, &bad);
        }
        for (size_t g = 0; g < k->ngroups; g++) {
            const kgg_group *gr = &k->groups[g];
            utf8_field(c, k, i, "a requirement reason", gr->reason, &bad);
            for (size_t m = 0; m < gr->nmembers; m++) {
                utf8_field(c, k, i, "a prerequisite", gr->members[m].target, &bad);
                utf8_field(c, k, i, "a prerequisite's reason", gr->members[m].reason, &bad);
            }
        }
        for (size_t j = 0; j < k->nrecommends; j++) {
            utf8_field(c, k, i, "a recommendation", k->recommends[j].target, &bad);
            utf8_field(c, k, i, "a recommendation's reason", k->recommends[j].reason, &bad);
        }
    }
    return bad;
}
