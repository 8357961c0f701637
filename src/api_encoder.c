/* Public encoder API (kgpath_encoder.h) over encoder/bert.h. */
#include "kgpath.h"
#include "kgpath_encoder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "encoder/bert.h"
#include "encoder/kernels.h"

struct kgp_model {
    kge_bert     *bert;
    kge_bert_acts acts;
    char          id[32];
    char          err[600];
};

static kgp_status model_error(kgp_model *m, kgp_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static kgp_status model_error(kgp_model *m, kgp_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->err, sizeof m->err, fmt, ap);
    va_end(ap);
    return st;
}

kgp_status kgp_pooling_parse(const char *name, kgp_pooling *out)
{
    if (!name) return KGP_EUSAGE;
    if (strcmp(name, "mean") == 0) *out = KGP_POOL_MEAN;
    else if (strcmp(name, "cls") == 0) *out = KGP_POOL_CLS;
    else if (strcmp(name, "pooler") == 0) *out = KGP_POOL_POOLER;
    else return KGP_EUSAGE;
    return KGP_OK;
}

/* FNV-1a over the files of the model; 0 on success. */
static int hash_file(const char *dir, const char *name, uint64_t *h)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    unsigned char buf[1 << 16];
    size_t r;
    uint64_t v = *h;
    while ((r = fread(buf, 1, sizeof buf, f)) > 0)
        for (size_t i = 0; i < r; i++) v = (v ^ buf[i]) * 1099511628211ull;
    int bad = ferror(f);
    fclose(f);
    *h = v;
    return bad ? -1 : 0;
}

kgp_status kgp_model_load(const char *dir, kgp_model **out)
{
    kgp_model *m = calloc(1, sizeof *m);
    *out = m;
    if (!m) return KGP_ENOMEM;
    if (!dir || !*dir) dir = getenv("KGPATH_MODEL");
    if (!dir || !*dir)
        return model_error(m, KGP_EUSAGE,
                           "no model given: pass a Hugging Face BERT folder (config.json, vocab.txt, "
                           "model.safetensors), e.g. `git clone https://huggingface.co/sentence-transformers/"
                           "all-MiniLM-L6-v2`, with --model DIR or set KGPATH_MODEL=DIR");
    kge_err e = {0};
    int rc = kge_bert_load(dir, &m->bert, &e);
    if (rc) return model_error(m, (kgp_status)rc, "%s", e.msg);
    uint64_t h = 1469598103934665603ull;
    if (hash_file(dir, "config.json", &h) || hash_file(dir, "vocab.txt", &h) ||
        hash_file(dir, "model.safetensors", &h)) {
        kge_bert_free(m->bert);
        m->bert = NULL;
        return model_error(m, KGP_EIO, "%s: cannot read the model files to identify them", dir);
    }
    snprintf(m->id, sizeof m->id, "bert-%016llx", (unsigned long long)h);
    return KGP_OK;
}

void kgp_model_free(kgp_model *m)
{
    if (!m) return;
    kge_bert_acts_free(&m->acts);
    kge_bert_free(m->bert);
    free(m);
}

const char *kgp_model_errmsg(const kgp_model *m) { return m ? m->err : "out of memory"; }
size_t kgp_model_dim(const kgp_model *m) { return m->bert ? (size_t)m->bert->cfg.hidden : 0; }
size_t kgp_model_max_tokens(const kgp_model *m) { return m->bert ? (size_t)m->bert->max_seq : 0; }
const char *kgp_model_id(const kgp_model *m) { return m->id; }
int kgp_model_has_pooler(const kgp_model *m) { return m->bert && m->bert->has_pooler; }

kgp_status kgp_model_tokenize(kgp_model *m, const char *text, kgp_tokens *out)
{
    memset(out, 0, sizeof *out);
    if (!m->bert) return model_error(m, KGP_EUSAGE, "model not loaded");
    kge_ids ids = {0};
    kge_err e = {0};
    int rc = kge_encode(&m->bert->tok, text, NULL, (size_t)m->bert->max_seq, &ids, NULL, &e);
    if (rc) {
        kge_ids_free(&ids);
        return model_error(m, (kgp_status)rc, "%s", e.msg);
    }
    out->pieces = malloc((ids.n ? ids.n : 1) * sizeof *out->pieces);
    if (!out->pieces) {
        kge_ids_free(&ids);
        return model_error(m, KGP_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < ids.n; i++) out->pieces[i] = kge_vocab_piece(m->bert->vocab, ids.v[i]);
    out->n = ids.n;
    out->ids = ids.v;
    return KGP_OK;
}

void kgp_tokens_free(kgp_tokens *t)
{
    if (!t) return;
    free(t->ids);
    free(t->pieces);
    memset(t, 0, sizeof *t);
}

/* Sequences sorted by length are cut into batches of at most this many
 * padded tokens (and attention scores), which bounds the activation memory
 * and wastes little work on padding. */
#define BATCH_TOKENS 4096
#define BATCH_SCORES (8u << 20)

typedef struct { size_t idx; kge_ids ids; } seq;

static int by_len(const void *a, const void *b)
{
    const seq *x = a, *y = b;
    if (x->ids.n != y->ids.n) return x->ids.n < y->ids.n ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

kgp_status kgp_model_encode(kgp_model *m, const char *const *texts, size_t n, kgp_pooling pooling,
                            int normalize, float *out)
{
    if (!m->bert) return model_error(m, KGP_EUSAGE, "model not loaded");
    const kge_bert *b = m->bert;
    if (pooling == KGP_POOL_POOLER && !b->has_pooler)
        return model_error(m, KGP_EUSAGE, "this checkpoint has no pooler weights: use mean or cls pooling");
    if (pooling != KGP_POOL_MEAN && pooling != KGP_POOL_CLS && pooling != KGP_POOL_POOLER)
        return model_error(m, KGP_EUSAGE, "unknown pooling %d", (int)pooling);
    if (n == 0) return KGP_OK;
    size_t C = (size_t)b->cfg.hidden, NH = (size_t)b->cfg.heads;
    kgp_status st = KGP_OK;
    seq *s = calloc(n, sizeof *s);
    int32_t *ids = NULL;
    uint8_t *mask = NULL;
    float *pool = NULL;
    if (!s) return model_error(m, KGP_ENOMEM, "out of memory");
    kge_err e = {0};
    for (size_t i = 0; i < n; i++) {
        s[i].idx = i;
        int rc = kge_encode(&b->tok, texts[i], NULL, (size_t)b->max_seq, &s[i].ids, NULL, &e);
        if (rc) { st = model_error(m, (kgp_status)rc, "text %zu: %s", i + 1, e.msg); goto out; }
    }
    qsort(s, n, sizeof *s, by_len);
    size_t Tmax = s[n - 1].ids.n, maxB = BATCH_TOKENS / Tmax ? BATCH_TOKENS / Tmax : 1;
    ids = malloc(maxB * Tmax * sizeof *ids);
    mask = malloc(maxB * Tmax);
    pool = malloc(maxB * C * sizeof *pool);
    if (!ids || !mask || !pool) { st = model_error(m, KGP_ENOMEM, "out of memory"); goto out; }
    for (size_t i0 = 0; i0 < n;) {
        /* the batch [i0, i1): padded to the longest, which is the last */
        size_t i1 = i0 + 1;
        while (i1 < n) {
            size_t T = s[i1].ids.n, B = i1 - i0 + 1;
            if (B * T > BATCH_TOKENS || B * NH * T * T > BATCH_SCORES) break;
            i1++;
        }
        size_t B = i1 - i0, T = s[i1 - 1].ids.n;
        for (size_t k = 0; k < B; k++) {
            const kge_ids *q = &s[i0 + k].ids;
            for (size_t t = 0; t < T; t++) {
                ids[k * T + t] = t < q->n ? q->v[t] : (b->tok.vocab ? kge_vocab_special(b->vocab)->pad : 0);
                if (ids[k * T + t] < 0) ids[k * T + t] = 0;
                mask[k * T + t] = t < q->n;
            }
        }
        int rc = kge_bert_forward(b, &m->acts, ids, NULL, mask, (int)B, (int)T, 0, &e);
        if (rc) { st = model_error(m, (kgp_status)rc, "%s", e.msg); goto out; }
        if (pooling == KGP_POOL_MEAN) kge_mean_pool_forward(pool, m->acts.hidden, mask, B, T, C);
        else if (pooling == KGP_POOL_POOLER) kge_bert_pooler_forward(b, pool, m->acts.hidden, (int)B, (int)T);
        else
            for (size_t k = 0; k < B; k++) memcpy(pool + k * C, m->acts.hidden + k * T * C, C * sizeof *pool);
        if (normalize) kge_l2_normalize(pool, B, C);
        for (size_t k = 0; k < B; k++) memcpy(out + s[i0 + k].idx * C, pool + k * C, C * sizeof *out);
        i0 = i1;
    }
out:
    for (size_t i = 0; i < n; i++) kge_ids_free(&s[i].ids);
    free(s);
    free(ids);
    free(mask);
    free(pool);
    return st;
}
