#include "graph/course_model.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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
    (arena_grow((c)->arena, &(arr), &(cap), (n) + 1, sizeof *(arr)) ? NULL : \
     (memset(&(arr)[(n)], 0, sizeof *(arr)), &(arr)[(n)++]))

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
    k->id = kgg_course_str(c, id);
    k->title = kgg_course_str(c, title);
    k->minutes = -1;
    k->difficulty = -1;
    k->unit = -1;
    return k;
}

kgg_unit *kgg_course_add_unit(kgg_course *c, const char *id, const char *title)
{
    kgg_unit *u = PUSH(c, c->units, c->nunits, c->cap_units);
    if (!u) return NULL;
    u->id = kgg_course_str(c, id);
    u->title = kgg_course_str(c, title);
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
    r->target = kgg_course_str(c, target);
    r->reason = kgg_course_str(c, reason);
    return r;
}

kgg_ref *kgg_concept_add_recommend(kgg_course *c, kgg_concept *k, const char *target, const char *reason)
{
    kgg_ref *r = PUSH(c, k->recommends, k->nrecommends, k->cap_recommends);
    if (!r) return NULL;
    r->target = kgg_course_str(c, target);
    r->reason = kgg_course_str(c, reason);
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
    return s && (*s = kgg_course_str(c, goal)) ? 0 : -1;
}

int kgg_concept_add_tag(kgg_course *c, kgg_concept *k, const char *tag)
{
    char **s = PUSH(c, k->tags, k->ntags, k->cap_tags);
    return s && (*s = kgg_course_str(c, tag)) ? 0 : -1;
}

int kgg_course_diag(kgg_course *c, kgg_severity sev, const char *file,
                    uint32_t line, uint32_t column, const char *fmt, ...)
{
    kgg_diag *d = PUSH(c, c->diags, c->ndiags, c->cap_diags);
    if (!d) return -1;
    d->severity = sev;
    d->file = kgg_course_str(c, file);
    d->line = line;
    d->column = column;
    va_list ap;
    va_start(ap, fmt);
    char buf[1024];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    d->message = kgg_course_str(c, buf);
    return d->message ? 0 : -1;
}

size_t kgg_course_nerrors(const kgg_course *c)
{
    size_t n = 0;
    for (size_t i = 0; i < c->ndiags; i++) n += c->diags[i].severity == KGG_ERROR;
    return n;
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
