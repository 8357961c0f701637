/* WordPiece vocabulary training (see train_vocab.h). */
#include "encoder/train_vocab.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- string interning (pieces and words) ------------------------------------ */

typedef struct strtab {
    char   **s;        /* strings by id */
    size_t  *count;    /* word frequency (words table only) */
    size_t   n, cap;
    uint32_t *slot;    /* open addressing: id + 1, 0 empty */
    size_t   nslot;
} strtab;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

static void strtab_free(strtab *t)
{
    for (size_t i = 0; i < t->n; i++) free(t->s[i]);
    free(t->s);
    free(t->count);
    free(t->slot);
    memset(t, 0, sizeof *t);
}

static int strtab_grow(strtab *t)
{
    size_t ns = t->nslot ? 2 * t->nslot : 1024;
    uint32_t *sl = calloc(ns, sizeof *sl);
    if (!sl) return -1;
    for (size_t i = 0; i < t->n; i++) {
        size_t h = hash_str(t->s[i]) & (ns - 1);
        while (sl[h]) h = (h + 1) & (ns - 1);
        sl[h] = (uint32_t)i + 1;
    }
    free(t->slot);
    t->slot = sl;
    t->nslot = ns;
    return 0;
}

/* Id of s, added (copied) when new; -1 out of memory. *added set. */
static long strtab_get(strtab *t, const char *s, int add, int *added)
{
    if (added) *added = 0;
    if (!t->nslot || 2 * (t->n + 1) > t->nslot)
        if (strtab_grow(t)) return -1;
    size_t h = hash_str(s) & (t->nslot - 1);
    while (t->slot[h]) {
        if (!strcmp(t->s[t->slot[h] - 1], s)) return (long)t->slot[h] - 1;
        h = (h + 1) & (t->nslot - 1);
    }
    if (!add) return -2;
    if (t->n == t->cap) {
        size_t nc = t->cap ? 2 * t->cap : 256;
        char **ns = realloc(t->s, nc * sizeof *ns);
        if (!ns) return -1;
        t->s = ns;
        size_t *cnt = realloc(t->count, nc * sizeof *cnt);
        if (!cnt) return -1;
        t->count = cnt;
        t->cap = nc;
    }
    char *c = strdup(s);
    if (!c) return -1;
    t->s[t->n] = c;
    t->count[t->n] = 0;
    t->slot[h] = (uint32_t)++t->n;
    if (added) *added = 1;
    return (long)t->n - 1;
}

/* ---- pre-tokenisation (BERT's BasicTokenizer) ------------------------------- */

static int is_ws(int32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000;
}

static int is_cjk(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
           (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_punct(int32_t c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return 1;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_PC || k == UTF8PROC_CATEGORY_PD || k == UTF8PROC_CATEGORY_PS ||
           k == UTF8PROC_CATEGORY_PE || k == UTF8PROC_CATEGORY_PI || k == UTF8PROC_CATEGORY_PF ||
           k == UTF8PROC_CATEGORY_PO;
}

static int is_control(int32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    utf8proc_category_t k = utf8proc_category(c);
    return k == UTF8PROC_CATEGORY_CC || k == UTF8PROC_CATEGORY_CF || k == UTF8PROC_CATEGORY_CO ||
           k == UTF8PROC_CATEGORY_CS || k == UTF8PROC_CATEGORY_CN;
}

/* Adds the words of text to words (counting them). */
static int count_words(const char *text, size_t ti, int lowercase, strtab *words, kge_err *err)
{
    size_t len = strlen(text), n = 0;
    int32_t *cp = malloc((2 * len + 2) * sizeof *cp);
    char *w = malloc(4 * len + 8);
    utf8proc_int32_t nfd[8];
    int rc = KGE_OK;
    if (!cp || !w) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); goto out; }
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i, (utf8proc_ssize_t)(len - i), &c);
        if (k < 0) { rc = kge_fail(err, KGE_EINPUT, "text %zu: invalid UTF-8 at byte %zu", ti, i); goto out; }
        i += (size_t)k;
        if (c == 0 || c == 0xfffd || is_control(c)) continue;
        if (is_ws(c)) { cp[n++] = ' '; continue; }
        if (is_cjk(c)) { cp[n++] = ' '; cp[n++] = c; cp[n++] = ' '; continue; }
        if (lowercase) {
            /* strip accents (NFD, drop Mn), then lowercase */
            utf8proc_ssize_t m = utf8proc_decompose_char(c, nfd, 8, UTF8PROC_DECOMPOSE, NULL);
            for (utf8proc_ssize_t j = 0; j < m && j < 8; j++)
                if (utf8proc_category(nfd[j]) != UTF8PROC_CATEGORY_MN) {
                    if (n + 1 >= 2 * len + 2) break;
                    cp[n++] = utf8proc_tolower(nfd[j]);
                }
        } else
            cp[n++] = c;
    }
    size_t ws = 0;
    for (size_t i = 0; i <= n && !rc; i++) {
        int32_t c = i < n ? cp[i] : ' ';
        int sp = is_ws(c), pu = !sp && is_punct(c);
        if (!sp && !pu) continue;
        for (int part = 0; part < 2; part++) {
            size_t a = part ? i : ws, b = part ? (pu ? i + 1 : i) : i, o = 0;
            if (b <= a) continue;
            for (size_t j = a; j < b; j++) o += (size_t)utf8proc_encode_char(cp[j], (utf8proc_uint8_t *)w + o);
            w[o] = 0;
            long id = strtab_get(words, w, 1, NULL);
            if (id < 0) { rc = kge_fail(err, KGE_ENOMEM, "out of memory"); break; }
            words->count[id]++;
        }
        ws = i + 1;
    }
out:
    free(cp);
    free(w);
    return rc;
}

/* ---- BPE with "##" ----------------------------------------------------------- */

typedef struct pcount { uint64_t key; size_t count; } pcount;

int kge_vocab_train(const char *const *texts, size_t n, size_t vocab_size, int lowercase, char **out, size_t *len,
                    kge_err *err)
{
    *out = NULL;
    *len = 0;
    if (vocab_size < 6) return kge_fail(err, KGE_EUSAGE, "vocabulary size %zu is too small (at least 6)", vocab_size);
    strtab words = {0}, pieces = {0};
    uint32_t **seq = NULL;     /* symbol ids of each word */
    size_t *slen = NULL;
    pcount *pc = NULL;
    size_t npc = 0;
    int rc = KGE_OK;
    static const char *const specials[5] = {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"};
    for (size_t i = 0; i < n && !rc; i++) rc = count_words(texts[i], i, lowercase, &words, err);
    if (rc) goto out;
    for (int i = 0; i < 5; i++)
        if (strtab_get(&pieces, specials[i], 1, NULL) < 0) goto nomem;
    seq = calloc(words.n + 1, sizeof *seq);
    slen = calloc(words.n + 1, sizeof *slen);
    if (!seq || !slen) goto nomem;
    /* the alphabet: words split into characters, "##" on all but the first */
    for (size_t w = 0; w < words.n; w++) {
        const char *s = words.s[w];
        size_t L = strlen(s), k = 0;
        seq[w] = malloc((L + 1) * sizeof **seq);
        if (!seq[w]) goto nomem;
        for (size_t i = 0; i < L;) {
            utf8proc_int32_t c;
            utf8proc_ssize_t m = utf8proc_iterate((const utf8proc_uint8_t *)s + i, (utf8proc_ssize_t)(L - i), &c);
            if (m <= 0) m = 1;
            char p[16];
            size_t o = 0;
            if (i) { p[0] = '#'; p[1] = '#'; o = 2; }
            memcpy(p + o, s + i, (size_t)m);
            p[o + (size_t)m] = 0;
            long id = strtab_get(&pieces, p, 1, NULL);
            if (id < 0) goto nomem;
            seq[w][k++] = (uint32_t)id;
            i += (size_t)m;
        }
        slen[w] = k;
    }
    /* merges */
    while (pieces.n < vocab_size) {
        /* count adjacent pairs weighted by word frequency (open addressing) */
        size_t need = 16;
        for (size_t w = 0; w < words.n; w++) need += slen[w];
        size_t cap = 16;
        while (cap < 2 * need) cap *= 2;
        if (cap > npc) {
            free(pc);
            pc = malloc(cap * sizeof *pc);
            if (!pc) goto nomem;
            npc = cap;
        }
        memset(pc, 0, cap * sizeof *pc);
        for (size_t w = 0; w < words.n; w++)
            for (size_t i = 0; i + 1 < slen[w]; i++) {
                uint64_t key = ((uint64_t)seq[w][i] << 32 | seq[w][i + 1]) + 1;
                size_t h = (size_t)((key * 0x9E3779B97F4A7C15ull) >> 20) & (cap - 1);
                while (pc[h].key && pc[h].key != key) h = (h + 1) & (cap - 1);
                pc[h].key = key;
                pc[h].count += words.count[w];
            }
        /* the best pair; ties to the merged piece that sorts first */
        size_t best = SIZE_MAX;
        char bestp[512] = "", cand[512];
        for (size_t h = 0; h < cap; h++) {
            if (!pc[h].key) continue;
            uint64_t k = pc[h].key - 1;
            const char *a = pieces.s[k >> 32], *b = pieces.s[k & 0xffffffffu];
            size_t la = strlen(a), lb = strlen(b);
            if (la + lb >= sizeof cand) continue;
            memcpy(cand, a, la);
            memcpy(cand + la, b + 2, lb - 1);   /* b always continues a word: drop its "##" */
            if (best == SIZE_MAX || pc[h].count > pc[best].count ||
                (pc[h].count == pc[best].count && strcmp(cand, bestp) < 0)) {
                best = h;
                memcpy(bestp, cand, la + lb - 1);
            }
        }
        if (best == SIZE_MAX) break;   /* every word is one piece */
        uint64_t k = pc[best].key - 1;
        uint32_t A = (uint32_t)(k >> 32), B = (uint32_t)k;
        int added;
        long id = strtab_get(&pieces, bestp, 1, &added);
        if (id < 0) goto nomem;
        for (size_t w = 0; w < words.n; w++) {
            size_t o = 0;
            for (size_t i = 0; i < slen[w]; i++) {
                if (i + 1 < slen[w] && seq[w][i] == A && seq[w][i + 1] == B) {
                    seq[w][o++] = (uint32_t)id;
                    i++;
                } else
                    seq[w][o++] = seq[w][i];
            }
            slen[w] = o;
        }
        if (!added && pieces.n >= vocab_size) break;
    }
    /* vocab.txt */
    size_t total = 0;
    for (size_t i = 0; i < pieces.n; i++) total += strlen(pieces.s[i]) + 1;
    char *buf = malloc(total + 1), *p = buf;
    if (!buf) goto nomem;
    for (size_t i = 0; i < pieces.n; i++) {
        size_t l = strlen(pieces.s[i]);
        memcpy(p, pieces.s[i], l);
        p += l;
        *p++ = '\n';
    }
    *p = 0;
    *out = buf;
    *len = total;
    goto out;
nomem:
    rc = kge_fail(err, KGE_ENOMEM, "out of memory");
out:
    if (seq)
        for (size_t w = 0; w < words.n; w++) free(seq[w]);
    free(seq);
    free(slen);
    free(pc);
    strtab_free(&words);
    strtab_free(&pieces);
    return rc;
}
