/* kgpath serve: replies computed once per graph version (srv_cached), and
 * the reference-counted buffers they are served from.
 *
 * Some answers are slow to make and depend only on the graph (and the
 * model): the curriculum map is a Graphviz layout (seconds for a few
 * thousand concepts), suggestions are an encoder pass and a scan over
 * concept pairs. srv_cached keeps such a reply per (view generation, key):
 * the first request makes it, concurrent requests for the same key wait for
 * that one instead of making it again (single flight), later ones are
 * served the stored bytes without copying them (a shared buffer whose
 * last user frees it). A new generation (the graph changed) never sees an
 * older one's entries; they go at the next insertion. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "serve.h"
#include "serve_internal.h"

#define CACHE_ENTRIES 32                    /* replies kept */
#define CACHE_BYTES   ((size_t)128 << 20)   /* their bytes */

/* ---- shared buffers ---- */

typedef struct blob {
    atomic_int refs;
    size_t len;
    char data[];                /* len bytes + NUL */
} blob;

static blob *blob_of(const char *data) { return (blob *)(void *)(data - offsetof(blob, data)); }

char *srv_blob_new(const void *buf, size_t len)
{
    blob *b = malloc(sizeof *b + len + 1);
    if (!b) return NULL;
    atomic_init(&b->refs, 1);
    b->len = len;
    memcpy(b->data, buf, len);
    b->data[len] = 0;
    return b->data;
}

void srv_blob_ref(const char *data) { atomic_fetch_add(&blob_of(data)->refs, 1); }

void srv_blob_release(void *data)
{
    if (data && atomic_fetch_sub(&blob_of(data)->refs, 1) == 1) free(blob_of(data));
}

/* ---- the cache ---- */

typedef struct centry {
    struct centry *next;
    char *key;
    uint64_t gen;
    int ready;                  /* 0: being made by one request */
    int status;
    const char *type;           /* a string literal (handlers' content types) */
    char *body;                 /* a blob */
    size_t len;
    uint64_t used;              /* LRU clock */
} centry;

struct srv_cache {
    pthread_mutex_t lock;
    pthread_cond_t made;        /* an entry stopped being made */
    centry *head;
    size_t n, bytes;
    uint64_t clock;
    atomic_uint_fast64_t hits, misses;
};

srv_cache *srv_cache_new(void)
{
    srv_cache *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    pthread_mutex_init(&c->lock, NULL);
    pthread_cond_init(&c->made, NULL);
    return c;
}

static void entry_free(centry *e)
{
    srv_blob_release(e->body);
    free(e->key);
    free(e);
}

void srv_cache_free(srv_cache *c)
{
    if (!c) return;
    for (centry *e = c->head, *nx; e; e = nx) { nx = e->next; entry_free(e); }
    pthread_cond_destroy(&c->made);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

void srv_cache_counts(srv_cache *c, uint64_t *hits, uint64_t *misses)
{
    *hits = atomic_load(&c->hits);
    *misses = atomic_load(&c->misses);
}

/* Unlinks and frees ready entries of generations before gen, then the
 * least recently used ready ones while over the limits. Lock held. */
static void evict(srv_cache *c, uint64_t gen)
{
    for (centry **pp = &c->head; *pp; ) {
        centry *e = *pp;
        if (e->ready && e->gen < gen) {
            *pp = e->next;
            c->n--;
            c->bytes -= e->len;
            entry_free(e);
        } else {
            pp = &e->next;
        }
    }
    while (c->n > CACHE_ENTRIES || c->bytes > CACHE_BYTES) {
        centry **victim = NULL;
        for (centry **pp = &c->head; *pp; pp = &(*pp)->next)
            if ((*pp)->ready && (!victim || (*pp)->used < (*victim)->used)) victim = pp;
        if (!victim) break;
        centry *e = *victim;
        *victim = e->next;
        c->n--;
        c->bytes -= e->len;
        entry_free(e);
    }
}

static centry *find(srv_cache *c, const char *key, uint64_t gen)
{
    for (centry *e = c->head; e; e = e->next)
        if (e->gen == gen && !strcmp(e->key, key)) return e;
    return NULL;
}

void srv_cached(srv_req *rq, const char *key, void (*make)(srv_req *rq, void *ud), void *ud)
{
    srv_cache *c = srv_cache_of(rq->srv);
    centry *e;
    uint64_t gen;
    for (;;) {
        const srv_view *v = srv_view_get(rq);
        if (!v) return;
        gen = v->generation;
        pthread_mutex_lock(&c->lock);
        int dropped = 0;
        while ((e = find(c, key, gen)) && !e->ready) {
            /* Another request makes it: wait without the view and the read
             * lock, or an import would wait for this reply and every new
             * request behind the import. (Releasing under c->lock is safe:
             * the read lock is only ever taken without c->lock held.) */
            if (!dropped) { srv_view_drop(rq); dropped = 1; }
            pthread_cond_wait(&c->made, &c->lock);
        }
        if (e || !dropped) break;
        /* Its maker kept nothing (a 5xx, or too large): make it here, on
         * the view as it is now. */
        pthread_mutex_unlock(&c->lock);
    }
    if (e) {
        e->used = ++c->clock;
        srv_blob_ref(e->body);
        srv_reply_blob(rq, e->status, e->type, e->body, e->len);
        pthread_mutex_unlock(&c->lock);
        atomic_fetch_add(&c->hits, 1);
        return;
    }
    atomic_fetch_add(&c->misses, 1);
    e = calloc(1, sizeof *e);
    char *k = e ? strdup(key) : NULL;
    if (!k) {                                        /* no memory to cache: just answer */
        free(e);
        pthread_mutex_unlock(&c->lock);
        make(rq, ud);
        return;
    }
    e->key = k;
    e->gen = gen;
    e->next = c->head;
    c->head = e;
    c->n++;
    pthread_mutex_unlock(&c->lock);

    make(rq, ud);

    /* Keep the reply unless it is a server-side failure (5xx: out of
     * memory, database unavailable), which a later request may not meet. */
    char *body = NULL;
    if (rq->status && rq->status < 500) {
        body = srv_blob_new(rq->out ? rq->out : "", rq->out_len);
        if (body) {
            srv_blob_ref(body);                      /* one for the entry, one for this reply */
            srv_reply_blob(rq, rq->status, rq->out_type, body, rq->out_len);
        }
    }
    pthread_mutex_lock(&c->lock);
    if (body && rq->out_len <= CACHE_BYTES / 4) {
        e->ready = 1;
        e->status = rq->status;
        e->type = rq->out_type;
        e->body = body;
        e->len = rq->out_len;
        e->used = ++c->clock;
        c->bytes += e->len;
        evict(c, gen);
    } else {
        for (centry **pp = &c->head; *pp; pp = &(*pp)->next)
            if (*pp == e) { *pp = e->next; break; }
        c->n--;
        if (body) srv_blob_release(body);
        free(e->key);
        free(e);
    }
    pthread_cond_broadcast(&c->made);                /* waiters look again */
    pthread_mutex_unlock(&c->lock);
}
