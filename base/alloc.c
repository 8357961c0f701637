#include "base/alloc.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud; (void)osize;
    if (nsize == 0) { free(ptr); return NULL; }
    return realloc(ptr, nsize);
}

static kg_alloc_fn g_alloc = default_alloc;
static void *g_ud;

void kg_set_allocator(kg_alloc_fn fn, void *ud)
{
    g_alloc = fn ? fn : default_alloc;
    g_ud = fn ? ud : NULL;
}

void *kg_malloc(size_t n) { return g_alloc(g_ud, NULL, 0, n ? n : 1); }
void *kg_realloc(void *p, size_t n) { return g_alloc(g_ud, p, 0, n ? n : 1); }
void  kg_free(void *p) { if (p) g_alloc(g_ud, p, 0, 0); }

void *kg_calloc(size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size) return NULL;
    void *p = kg_malloc(count * size);
    if (p) memset(p, 0, count * size);
    return p;
}

char *kg_strndup(const char *s, size_t n)
{
    char *d = kg_malloc(n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *kg_strdup(const char *s) { return s ? kg_strndup(s, strlen(s)) : NULL; }

int kg_grow(void *pa, size_t *cap, size_t need, size_t elt)
{
    if (need <= *cap) return 0;
    size_t nc = *cap ? *cap : 8;
    while (nc < need) {
        if (nc > SIZE_MAX / 2 / elt) return -1;
        nc *= 2;
    }
    void *np = kg_realloc(*(void **)pa, nc * elt);
    if (!np) return -1;
    *(void **)pa = np;
    *cap = nc;
    return 0;
}

/* ---- arena ---- */

typedef struct kg_block {
    struct kg_block *next;
    size_t size, used;
    max_align_t data[];
} kg_block;

struct kg_arena {
    kg_block *head;
    size_t total;
};

kg_arena *kg_arena_new(void) { return kg_calloc(1, sizeof(kg_arena)); }

void kg_arena_free(kg_arena *a)
{
    if (!a) return;
    for (kg_block *b = a->head, *n; b; b = n) { n = b->next; kg_free(b); }
    kg_free(a);
}

void *kg_arena_alloc(kg_arena *a, size_t n)
{
    const size_t al = sizeof(max_align_t);
    n = (n + al - 1) / al * al;
    if (n == 0) n = al;
    kg_block *b = a->head;
    if (!b || b->size - b->used < n) {
        size_t sz = 64 * 1024 - sizeof(kg_block);
        if (n > sz / 4) sz = n;           /* big requests get their own block */
        kg_block *nb = kg_malloc(sizeof(kg_block) + sz);
        if (!nb) return NULL;
        nb->size = sz; nb->used = 0;
        if (b && n == sz && b->size - b->used > 256) {
            /* keep the partly used block at the head */
            nb->next = b->next; b->next = nb;
            nb->used = n; a->total += n;
            return (char *)nb->data;
        }
        nb->next = b; a->head = nb; b = nb;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    a->total += n;
    return p;
}

void *kg_arena_calloc(kg_arena *a, size_t n)
{
    void *p = kg_arena_alloc(a, n);
    if (p) memset(p, 0, n);
    return p;
}

char *kg_arena_strndup(kg_arena *a, const char *s, size_t n)
{
    char *d = kg_arena_alloc(a, n + 1);
    if (!d) return NULL;
    memcpy(d, s, n);
    d[n] = 0;
    return d;
}

char *kg_arena_strdup(kg_arena *a, const char *s)
{
    return s ? kg_arena_strndup(a, s, strlen(s)) : NULL;
}

char *kg_arena_printf(kg_arena *a, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return NULL;
    char *d = kg_arena_alloc(a, (size_t)n + 1);
    if (!d) return NULL;
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

size_t kg_arena_used(const kg_arena *a) { return a->total; }
