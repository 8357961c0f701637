/* BERT BasicTokenizer + WordPiece (see tokenizer.h for the exact rules). */
#include "encoder/tokenizer.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

/* ---- vocabulary: pieces in one buffer, open-addressing hash ------------- */

struct kge_vocab {
    char     *buf;      /* pieces, NUL-terminated, in id order */
    uint32_t *off;      /* off[id]: start of piece id in buf */
    uint32_t *len;      /* byte length of piece id */
    size_t    n;
    int32_t  *slot;     /* hash slots holding ids, -1 empty */
    size_t    mask;
    kge_special sp;
};

static uint64_t fnv1a(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (uint8_t)s[i]) * 1099511628211ull;
    return h;
}

size_t kge_vocab_size(const kge_vocab *v) { return v->n; }
const kge_special *kge_vocab_special(const kge_vocab *v) { return &v->sp; }

const char *kge_vocab_piece(const kge_vocab *v, int32_t id)
{
    return id >= 0 && (size_t)id < v->n ? v->buf + v->off[id] : NULL;
}

int32_t kge_vocab_id(const kge_vocab *v, const char *piece, size_t len)
{
    for (size_t i = fnv1a(piece, len) & v->mask;; i = (i + 1) & v->mask) {
        int32_t id = v->slot[i];
        if (id < 0) return -1;
        if (v->len[id] == len && memcmp(v->buf + v->off[id], piece, len) == 0) return id;
    }
}

void kge_vocab_free(kge_vocab *v)
{
    if (!v) return;
    free(v->buf);
    free(v->off);
    free(v->len);
    free(v->slot);
    free(v);
}

int kge_vocab_from_buffer(const char *data, size_t size, kge_vocab **out, kge_err *err)
{
    *out = NULL;
    size_t lines = 0;
    for (size_t i = 0; i < size; i++) lines += data[i] == '\n';
    if (size && data[size - 1] != '\n') lines++;
    if (lines == 0) return kge_fail(err, KGE_EINPUT, "empty vocabulary");
    if (lines > INT32_MAX / 4) return kge_fail(err, KGE_EINPUT, "vocabulary too large");
    kge_vocab *v = calloc(1, sizeof *v);
    if (!v) return kge_fail(err, KGE_ENOMEM, "out of memory");
    size_t cap = 16;
    while (cap < 2 * lines) cap <<= 1;
    v->buf = malloc(size + lines + 1);
    v->off = malloc(lines * sizeof *v->off);
    v->len = malloc(lines * sizeof *v->len);
    v->slot = malloc(cap * sizeof *v->slot);
    if (!v->buf || !v->off || !v->len || !v->slot) {
        kge_vocab_free(v);
        return kge_fail(err, KGE_ENOMEM, "out of memory");
    }
    memset(v->slot, 0xff, cap * sizeof *v->slot);
    v->mask = cap - 1;
    size_t o = 0, p = 0;
    while (p < size) {
        const char *nl = memchr(data + p, '\n', size - p);
        size_t e = nl ? (size_t)(nl - data) : size, l = e - p;
        if (l && data[p + l - 1] == '\r') l--;
        int32_t id = (int32_t)v->n++;
        memcpy(v->buf + o, data + p, l);
        v->buf[o + l] = 0;
        v->off[id] = (uint32_t)o;
        v->len[id] = (uint32_t)l;
        /* Insert, or repoint an existing duplicate to the later id (HF). */
        size_t i = fnv1a(data + p, l) & v->mask;
        for (;; i = (i + 1) & v->mask) {
            int32_t q = v->slot[i];
            if (q < 0) { v->slot[i] = id; break; }
            if (v->len[q] == l && memcmp(v->buf + v->off[q], data + p, l) == 0) {
                v->slot[i] = id;
                break;
            }
        }
        o += l + 1;
        p = e + 1;
    }
    v->sp.pad = kge_vocab_id(v, "[PAD]", 5);
    v->sp.unk = kge_vocab_id(v, "[UNK]", 5);
    v->sp.cls = kge_vocab_id(v, "[CLS]", 5);
    v->sp.sep = kge_vocab_id(v, "[SEP]", 5);
    v->sp.mask = kge_vocab_id(v, "[MASK]", 6);
    const char *missing = v->sp.unk < 0 ? "[UNK]" : v->sp.cls < 0 ? "[CLS]" : v->sp.sep < 0 ? "[SEP]" : NULL;
    if (missing) {
        kge_vocab_free(v);
        return kge_fail(err, KGE_EINPUT, "vocabulary has no %s token", missing);
    }
    *out = v;
    return KGE_OK;
}

int kge_vocab_load(const char *path, kge_vocab **out, kge_err *err)
{
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f) return kge_fail(err, errno == ENOENT ? KGE_ENOTFOUND : KGE_EIO, "%s: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0;
    char *b = malloc(cap);
    size_t r;
    while (b && (r = fread(b + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *nb = realloc(b, cap *= 2);
            if (!nb) { free(b); b = NULL; }
            else b = nb;
        }
    }
    int ioerr = ferror(f);
    fclose(f);
    if (!b) return kge_fail(err, KGE_ENOMEM, "out of memory");
    if (ioerr) { free(b); return kge_fail(err, KGE_EIO, "%s: read error", path); }
    int rc = kge_vocab_from_buffer(b, n, out, err);
    free(b);
    if (rc) kge_fail_ctx(err, "%s", path);
    return rc;
}

/* ---- character classes --------------------------------------------------- */

/* Unicode White_Space (Rust char::is_whitespace, as HF tokenizers uses). */
static int is_ws(int32_t c)
{
    return (c >= 0x09 && c <= 0x0d) || c == 0x20 || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f ||
           c == 0x205f || c == 0x3000;
}

static int is_control(int32_t c)
{
    if (c == '\t' || c == '\n' || c == '\r') return 0;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_CC: case UTF8PROC_CATEGORY_CF: case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CS: case UTF8PROC_CATEGORY_CN:
        return 1;
    default:
        return 0;
    }
}

static int is_cjk(int32_t c)
{
    return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
           (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
           (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

static int is_punct(int32_t c)
{
    if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126))
        return 1;
    switch (utf8proc_category(c)) {
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
        return 1;
    default:
        return 0;
    }
}

/* ---- growable buffers ---------------------------------------------------- */

typedef struct { int32_t *v; size_t n, cap; } cpbuf;

static int cp_push(cpbuf *b, int32_t c)
{
    if (b->n == b->cap) {
        size_t nc = b->cap ? 2 * b->cap : 64;
        int32_t *nv = realloc(b->v, nc * sizeof *nv);
        if (!nv) return -1;
        b->v = nv;
        b->cap = nc;
    }
    b->v[b->n++] = c;
    return 0;
}

void kge_ids_free(kge_ids *ids)
{
    free(ids->v);
    ids->v = NULL;
    ids->n = ids->cap = 0;
}

int kge_ids_push(kge_ids *ids, int32_t id)
{
    if (ids->n == ids->cap) {
        size_t nc = ids->cap ? 2 * ids->cap : 32;
        int32_t *nv = realloc(ids->v, nc * sizeof *nv);
        if (!nv) return -1;
        ids->v = nv;
        ids->cap = nc;
    }
    ids->v[ids->n++] = id;
    return 0;
}

kge_tokenizer kge_tokenizer_default(const kge_vocab *vocab, int lowercase)
{
    kge_tokenizer t = {vocab, lowercase, lowercase, 1, 100};
    return t;
}

/* ---- WordPiece ----------------------------------------------------------- */

/* Emits the pieces of word w[0..n) (code points). scratch holds at least
 * 4n + 3 bytes; boff at least n + 1 offsets. */
static int wordpiece(const kge_tokenizer *tk, const int32_t *w, size_t n, char *scratch,
                     size_t *boff, kge_ids *out)
{
    const kge_vocab *v = tk->vocab;
    if (n > tk->max_word_chars) return kge_ids_push(out, v->sp.unk);
    /* UTF-8 of the word after a "##" prefix; boff[i] = byte offset of char i. */
    char *u = scratch + 2;
    size_t bl = 0;
    for (size_t i = 0; i < n; i++) {
        boff[i] = bl;
        bl += (size_t)utf8proc_encode_char(w[i], (utf8proc_uint8_t *)u + bl);
    }
    boff[n] = bl;
    size_t mark = out->n, start = 0;
    while (start < n) {
        int32_t found = -1;
        size_t end = n;
        for (; end > start; end--) {
            const char *p = u + boff[start];
            size_t l = boff[end] - boff[start];
            if (start > 0) {        /* "##" + piece, written just before it */
                char save0 = p[-2], save1 = p[-1];
                char *q = (char *)p - 2;
                q[0] = '#'; q[1] = '#';
                found = kge_vocab_id(v, q, l + 2);
                q[0] = save0; q[1] = save1;
            } else {
                found = kge_vocab_id(v, p, l);
            }
            if (found >= 0) break;
        }
        if (found < 0) {
            out->n = mark;
            return kge_ids_push(out, v->sp.unk);
        }
        if (kge_ids_push(out, found)) return -1;
        start = end;
    }
    return 0;
}

/* ---- BasicTokenizer ------------------------------------------------------ */

int kge_tokenize(const kge_tokenizer *tk, const char *text, size_t len, kge_ids *out, kge_err *err)
{
    int rc = KGE_OK;
    cpbuf a = {0}, b = {0};
    utf8proc_uint8_t *u8 = NULL;
    utf8proc_int32_t *nfd = NULL;
    char *scratch = NULL;
    size_t *boff = NULL;

    /* 1–2: decode, clean, isolate CJK. */
    for (size_t i = 0; i < len;) {
        utf8proc_int32_t c;
        utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)text + i,
                                              (utf8proc_ssize_t)(len - i), &c);
        if (k < 0) { rc = kge_fail(err, KGE_EINPUT, "invalid UTF-8 at byte %zu", i); goto out; }
        i += (size_t)k;
        if (c == 0 || c == 0xfffd || is_control(c)) continue;
        if (is_ws(c)) c = ' ';
        int cjk = tk->chinese_chars && is_cjk(c);
        if ((cjk && cp_push(&a, ' ')) || cp_push(&a, c) || (cjk && cp_push(&a, ' '))) goto nomem;
    }
    /* 3: NFD and drop Mn (on the whole string, so marks are reordered as
     * NFD does), then lowercase per code point. */
    const int32_t *cps = a.v;
    size_t ncp = a.n;
    if (tk->strip_accents && ncp) {
        u8 = malloc(4 * ncp);
        if (!u8) goto nomem;
        size_t ul = 0;
        for (size_t i = 0; i < ncp; i++) ul += (size_t)utf8proc_encode_char(a.v[i], u8 + ul);
        utf8proc_ssize_t need = utf8proc_decompose(u8, (utf8proc_ssize_t)ul, NULL, 0, UTF8PROC_DECOMPOSE);
        if (need < 0) { rc = kge_fail(err, KGE_EINPUT, "normalisation: %s", utf8proc_errmsg(need)); goto out; }
        nfd = malloc(((size_t)need + 1) * sizeof *nfd);
        if (!nfd) goto nomem;
        need = utf8proc_decompose(u8, (utf8proc_ssize_t)ul, nfd, need, UTF8PROC_DECOMPOSE);
        if (need < 0) { rc = kge_fail(err, KGE_EINPUT, "normalisation: %s", utf8proc_errmsg(need)); goto out; }
        size_t m = 0;
        for (utf8proc_ssize_t i = 0; i < need; i++)
            if (utf8proc_category(nfd[i]) != UTF8PROC_CATEGORY_MN) nfd[m++] = nfd[i];
        cps = nfd;
        ncp = m;
    }
    for (size_t i = 0; i < ncp; i++) {
        int32_t c = cps[i];
        if (tk->lowercase) {
            if (c == 0x130) {        /* the one multi-code-point lowercase */
                if (cp_push(&b, 'i') || cp_push(&b, 0x307)) goto nomem;
                continue;
            }
            c = utf8proc_tolower(c);
        }
        if (cp_push(&b, c)) goto nomem;
    }
    /* 4–5: split on whitespace and punctuation, WordPiece each word. */
    scratch = malloc(4 * b.n + 8);
    boff = malloc((b.n + 1) * sizeof *boff);
    if (!scratch || !boff) goto nomem;
    size_t ws = 0;
    for (size_t i = 0; i <= b.n; i++) {
        int32_t c = i < b.n ? b.v[i] : ' ';
        int sp = is_ws(c), pu = !sp && is_punct(c);
        if (sp || pu) {
            if (i > ws && wordpiece(tk, b.v + ws, i - ws, scratch, boff, out)) goto nomem;
            if (pu && wordpiece(tk, b.v + i, 1, scratch, boff, out)) goto nomem;
            ws = i + 1;
        }
    }
    goto out;
nomem:
    rc = kge_fail(err, KGE_ENOMEM, "out of memory");
out:
    free(a.v);
    free(b.v);
    free(u8);
    free(nfd);
    free(scratch);
    free(boff);
    return rc;
}

int kge_encode(const kge_tokenizer *tk, const char *a, const char *b, size_t max_len,
               kge_ids *ids, kge_ids *types, kge_err *err)
{
    const kge_special *sp = &tk->vocab->sp;
    size_t nspecial = b ? 3 : 2;
    if (max_len && max_len < nspecial)
        return kge_fail(err, KGE_EUSAGE, "maximum length %zu leaves no room for the special tokens", max_len);
    kge_ids ta = {0}, tb = {0};
    int rc = kge_tokenize(tk, a, strlen(a), &ta, err);
    if (!rc && b) rc = kge_tokenize(tk, b, strlen(b), &tb, err);
    if (rc) goto out;
    size_t n1 = ta.n, n2 = tb.n;
    if (max_len && n1 + n2 + nspecial > max_len) {
        size_t room = max_len - nspecial;
        if (!b) {
            n1 = room;
        } else {
            /* HF tokenizers' longest_first, solved in closed form. */
            int swap = n1 > n2;
            size_t s = swap ? n2 : n1, l = swap ? n1 : n2;
            if (s > room) l = s;
            else l = s > room - s ? s : room - s;
            if (s + l > room) { s = room / 2; l = s + room % 2; }
            n1 = swap ? l : s;
            n2 = swap ? s : l;
        }
    }
    ids->n = 0;
    if (types) types->n = 0;
    int bad = kge_ids_push(ids, sp->cls);
    for (size_t i = 0; i < n1; i++) bad |= kge_ids_push(ids, ta.v[i]);
    bad |= kge_ids_push(ids, sp->sep);
    size_t first = ids->n;
    if (b) {
        for (size_t i = 0; i < n2; i++) bad |= kge_ids_push(ids, tb.v[i]);
        bad |= kge_ids_push(ids, sp->sep);
    }
    for (size_t i = 0; types && i < ids->n; i++) bad |= kge_ids_push(types, i < first ? 0 : 1);
    if (bad) rc = kge_fail(err, KGE_ENOMEM, "out of memory");
out:
    kge_ids_free(&ta);
    kge_ids_free(&tb);
    return rc;
}
