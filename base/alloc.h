/* kgpath allocator hooks and a simple arena.
 *
 * Every layer except the encoder allocates through kg_malloc/kg_realloc/
 * kg_free so that an embedding application can supply its own allocator
 * (kgp_set_allocator in kgpath.h), in the manner of Lua's lua_Alloc.
 *
 * The arena (kg_arena) backs data whose lifetime is one unit of work: a parsed
 * course, a plan. Freed as a whole; individual frees are no-ops.
 */
#ifndef KG_ALLOC_H
#define KG_ALLOC_H

#include <stddef.h>

/* Same contract as lua_Alloc: nsize == 0 frees and returns NULL; otherwise
 * behaves like realloc(ptr, nsize). osize is the old size when known, else 0. */
typedef void *(*kg_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

void  kg_set_allocator(kg_alloc_fn fn, void *ud);
void *kg_malloc(size_t n);
void *kg_calloc(size_t count, size_t size);
void *kg_realloc(void *p, size_t n);
void  kg_free(void *p);
char *kg_strdup(const char *s);
char *kg_strndup(const char *s, size_t n);

/* Grows a dynamic array *pa of *cap elements of size elt so that it holds at
 * least need elements. Returns 0, or -1 when out of memory (*pa unchanged). */
int kg_grow(void *pa, size_t *cap, size_t need, size_t elt);

typedef struct kg_arena kg_arena;

kg_arena *kg_arena_new(void);
void      kg_arena_free(kg_arena *a);
/* Memory aligned for any type; NULL when out of memory. O(1) amortised. */
void     *kg_arena_alloc(kg_arena *a, size_t n);
void     *kg_arena_calloc(kg_arena *a, size_t n);
char     *kg_arena_strdup(kg_arena *a, const char *s);
char     *kg_arena_strndup(kg_arena *a, const char *s, size_t n);
/* printf into the arena. */
char     *kg_arena_printf(kg_arena *a, const char *fmt, ...)
          __attribute__((format(printf, 2, 3)));
/* Bytes handed out so far (for statistics and tests). */
size_t    kg_arena_used(const kg_arena *a);

#endif
