/* HTML/subtitle to text, ids and durations (see html_text.h). */
#include "importers/html_text.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <libxml/HTMLparser.h>
#include <utf8proc.h>

#include "base/alloc.h"
#include "importers/xml_safe.h"


char *kgi_collapse_ws(char *s)
{
    if (!s) return s;
    size_t o = 0;
    int space = 0;
    for (size_t i = 0; s[i]; i++) {
        unsigned char ch = (unsigned char)s[i];
        /* U+00A0 (no-break space, from &nbsp;) counts as space. */
        if (ch == 0xC2 && (unsigned char)s[i + 1] == 0xA0) { space = 1; i++; continue; }
        if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v') {
            space = 1; continue;
        }
        if (space && o) s[o++] = ' ';
        space = 0;
        s[o++] = (char)ch;
    }
    s[o] = 0;
    return s;
}

void kgi_concept_text(kgg_course *c, size_t ki, const char *t, int append)
{
    if (!t || !*t) return;
    kgg_concept *k = &c->concepts[ki];
    kg_buf b = {0};
    if (append) { kg_buf_puts(&b, k->description); kg_buf_join(&b, "\n", t); }
    else { kg_buf_puts(&b, t); kg_buf_join(&b, "\n", k->description); }
    char *s = kg_buf_take(&b);
    if (s) k->description = kgi_clip(c, s, 64 * 1024);
    kg_free(s);
}

char *kgi_clip(kgg_course *c, const char *s, size_t max)
{
    if (!s) return NULL;
    size_t n = strlen(s);
    if (n <= max) return kgg_course_str(c, s);
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    char *r = kg_arena_alloc(c->arena, max + 4);
    if (!r) return NULL;
    memcpy(r, s, max);
    memcpy(r + max, "\xE2\x80\xA6", 4);
    return r;
}

/* ---- HTML ------------------------------------------------------------------ */

static int is_block(const char *name)
{
    static const char *const blocks[] = { "p", "div", "br", "li", "ul", "ol", "h1", "h2", "h3",
        "h4", "h5", "h6", "tr", "td", "th", "table", "section", "article", "blockquote", "pre",
        "hr", "dt", "dd", "figcaption", "header", "footer", "title", NULL };
    for (int i = 0; blocks[i]; i++) if (strcasecmp(name, blocks[i]) == 0) return 1;
    return 0;
}

static void html_walk(xmlNode *n, kg_buf *b, int depth)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            kg_buf_puts(b, (const char *)n->content);
        } else if (n->type == XML_ELEMENT_NODE) {
            const char *name = (const char *)n->name;
            if (strcasecmp(name, "script") == 0 || strcasecmp(name, "style") == 0 ||
                strcasecmp(name, "noscript") == 0) continue;
            int blk = is_block(name);
            if (blk) kg_buf_puts(b, "\n");
            if (depth < 256) html_walk(n->children, b, depth + 1);
            if (blk) kg_buf_puts(b, "\n");
        }
    }
}

char *kgi_html_to_text(const char *html, size_t len)
{
    if (!html || len == 0) return kg_strdup("");
    /* Skip leading whitespace: libxml2 rejects an empty-looking document. */
    size_t i = 0;
    while (i < len && isspace((unsigned char)html[i])) i++;
    if (i == len) return kg_strdup("");
    xmlDocPtr doc = kgi_html_parse(html + i, len - i, "html");
    kg_buf b = {0};
    if (doc) {
        html_walk(doc->children, &b, 0);
        xmlFreeDoc(doc);
    } else {
        kg_buf_put(&b, html + i, len - i);
    }
    char *s = kg_buf_take(&b);
    return kgi_collapse_ws(s);
}

/* ---- subtitles -------------------------------------------------------------- */

char *kgi_srt_to_text(const char *buf, size_t len)
{
    kg_buf b = {0};
    size_t i = 0;
    if (len >= 3 && (unsigned char)buf[0] == 0xEF && (unsigned char)buf[1] == 0xBB &&
        (unsigned char)buf[2] == 0xBF) i = 3;
    while (i < len) {
        size_t j = i;
        while (j < len && buf[j] != '\n' && buf[j] != '\r') j++;
        const char *l = buf + i;
        size_t ll = j - i;
        int digits = ll > 0, timing = 0;
        for (size_t k = 0; k < ll; k++) if (!isdigit((unsigned char)l[k]) && l[k] != ' ') digits = 0;
        for (size_t k = 0; k + 2 < ll; k++) if (l[k] == '-' && l[k + 1] == '-' && l[k + 2] == '>') timing = 1;
        if (ll >= 6 && memcmp(l, "WEBVTT", 6) == 0) timing = 1;
        if (!digits && !timing && ll) {
            /* Drop <i>…</i> style tags. */
            int in_tag = 0;
            for (size_t k = 0; k < ll; k++) {
                if (l[k] == '<') in_tag = 1;
                else if (l[k] == '>' && in_tag) in_tag = 0;
                else if (!in_tag) kg_buf_put(&b, l + k, 1);
            }
            kg_buf_puts(&b, " ");
        }
        i = j;
        while (i < len && (buf[i] == '\n' || buf[i] == '\r')) i++;
    }
    return kgi_collapse_ws(kg_buf_take(&b));
}

char *kgi_sjson_to_text(const char *buf, size_t len)
{
    json_error_t e;
    json_t *j = json_loadb(buf, len, 0, &e);
    if (!j) return NULL;
    json_t *t = json_object_get(j, "text");
    kg_buf b = {0};
    if (json_is_array(t)) {
        size_t i; json_t *v;
        json_array_foreach(t, i, v) if (json_is_string(v)) kg_buf_join(&b, " ", json_string_value(v));
    }
    json_decref(j);
    return kgi_collapse_ws(kg_buf_take(&b));
}

/* ---- ids ---------------------------------------------------------------------- */

/* kgi_safe_id and kgi_safe_course_id: with unicode, letters, marks and
 * digits beyond ASCII are kept (after NFC); everything else becomes '_'. */
static char *safe_id(const char *s, const char *fallback, char *out, size_t outlen, int unicode)
{
    /* an empty result becomes fallback ("x" for ""), or stays empty for NULL */
    size_t o = 0;
    if (outlen == 0) return out;
    utf8proc_uint8_t *nfc = NULL;
    if (unicode && s && utf8proc_map((const utf8proc_uint8_t *)s, 0, &nfc,
                                     UTF8PROC_NULLTERM | UTF8PROC_STABLE | UTF8PROC_COMPOSE) < 0)
        nfc = NULL;                      /* invalid UTF-8: its bytes become '_' below */
    const char *p = nfc ? (const char *)nfc : s;
    for (size_t i = 0; p && p[i] && o + 1 < outlen; ) {
        unsigned char ch = (unsigned char)p[i];
        if (ch >= 0x80 && unicode) {
            utf8proc_int32_t cp;
            utf8proc_ssize_t k = utf8proc_iterate((const utf8proc_uint8_t *)p + i, -1, &cp);
            if (k > 0) {
                utf8proc_category_t cat = utf8proc_category(cp);
                int word = (cat >= UTF8PROC_CATEGORY_LU && cat <= UTF8PROC_CATEGORY_NO);
                if (word && o + (size_t)k < outlen) {
                    memcpy(out + o, p + i, (size_t)k);
                    o += (size_t)k;
                    i += (size_t)k;
                    continue;
                }
                i += (size_t)k - 1;          /* the whole character becomes one '_' */
            }
            ch = '_';
        }
        i++;
        int ok = isalnum(ch) || ch == '_' || ch == '.' || ch == '-';
        if (!ok) ch = '_';
        if (ch == '_' && o > 0 && out[o - 1] == '_') continue;
        if ((ch == '_' || ch == '.') && o == 0) continue;
        out[o++] = (char)ch;
    }
    free(nfc);
    while (o > 0 && (out[o - 1] == '_' || out[o - 1] == '.')) o--;
    out[o] = 0;
    if (o == 0 && fallback) snprintf(out, outlen, "%s", *fallback ? fallback : "x");
    return out;
}

char *kgi_safe_id(const char *s, const char *fallback, char *out, size_t outlen)
{
    return safe_id(s, fallback ? fallback : "", out, outlen, 0);
}

char *kgi_safe_course_id(const char *s, const char *fallback, char *out, size_t outlen)
{
    safe_id(s, fallback, out, outlen, 1);
    return *out ? out : NULL;
}

char *kgi_utf8_repair(const char *s, size_t n)
{
    kg_buf b = {0};
    kg_buf_put(&b, "", 0);
    while (n > 0) {
        size_t ok = kgg_utf8_prefix(s, n);
        kg_buf_put(&b, s, ok);
        if (ok == n) break;
        kg_buf_put(&b, "\xEF\xBF\xBD", 3);          /* U+FFFD for the bad byte */
        s += ok + 1;
        n -= ok + 1;
    }
    return kg_buf_take(&b);
}

const char *kgi_source_base(const char *path, char *out, size_t outlen)
{
    char tmp[1024];
    snprintf(tmp, sizeof tmp, "%s", path ? path : "");
    size_t n = strlen(tmp);
    while (n > 1 && tmp[n - 1] == '/') tmp[--n] = 0;
    char *b = tmp;
    for (char *q = tmp; *q; q++) if ((*q == '/' || *q == '!') && q[1]) b = q + 1;
    snprintf(out, outlen, "%s", b);
    return out;
}

/* ---- durations ------------------------------------------------------------------ */

double kgi_decimal(const char *s, const char **end)
{
    const char *p = s;
    double v = 0;
    if (!isdigit((unsigned char)*p)) { *end = s; return -1; }
    while (isdigit((unsigned char)*p)) { v = v * 10 + (*p - '0'); p++; }
    if (*p == '.' && isdigit((unsigned char)p[1])) {
        double f = 0.1;
        for (p++; isdigit((unsigned char)*p); p++, f /= 10) v += (*p - '0') * f;
    }
    *end = p;
    return isfinite(v) ? v : -1;
}

static double iso8601_minutes(const char *s)
{
    if (*s != 'P' && *s != 'p') return -1;
    s++;
    double total = 0;
    int time = 0, any = 0;
    while (*s) {
        if (*s == 'T' || *s == 't') { time = 1; s++; continue; }
        const char *end;
        double v = kgi_decimal(s, &end);
        if (end == s || v < 0 || !isfinite(v)) return -1;
        char u = (char)toupper((unsigned char)*end);
        double mult;
        if (!time) {
            if (u == 'Y') mult = 365 * 1440.0;
            else if (u == 'M') mult = 30 * 1440.0;
            else if (u == 'W') mult = 7 * 1440.0;
            else if (u == 'D') mult = 1440.0;
            else return -1;
        } else {
            if (u == 'H') mult = 60;
            else if (u == 'M') mult = 1;
            else if (u == 'S') mult = 1.0 / 60;
            else return -1;
        }
        total += v * mult;
        any = 1;
        s = end + 1;
    }
    return any ? total : -1;
}

double kgi_parse_duration(const char *s)
{
    if (!s) return -1;
    while (isspace((unsigned char)*s)) s++;
    if (*s == 'P' || *s == 'p') {
        double m = iso8601_minutes(s);
        return m < 0 ? -1 : m <= KGI_MINUTES_MAX ? m : KGI_DURATION_OVER;
    }
    double parts[3];
    int np = 0;
    const char *p = s;
    while (np < 3) {
        const char *end;
        double v = kgi_decimal(p, &end);
        if (v < 0) return -1;
        parts[np++] = v;
        p = end;
        if (*p == ':') { p++; continue; }
        break;
    }
    while (isspace((unsigned char)*p)) p++;
    if (*p) return -1;
    double m = np == 1 ? parts[0] : np == 2 ? parts[0] * 60 + parts[1]
                                            : parts[0] * 60 + parts[1] + parts[2] / 60;
    return m <= KGI_MINUTES_MAX ? m : KGI_DURATION_OVER;
}

/* ---- edges ---------------------------------------------------------------------- */

static int same_group(const kgg_group *a, const kgg_group *b)
{
    if (a->k != b->k || a->nmembers != b->nmembers) return 0;
    for (size_t i = 0; i < a->nmembers; i++)
        if (strcmp(a->members[i].target, b->members[i].target) != 0) return 0;
    return 1;
}

void kgi_dedupe_edges(kgg_course *c)
{
    for (size_t i = 0; i < c->nconcepts; i++) {
        kgg_concept *k = &c->concepts[i];
        size_t o = 0;
        for (size_t g = 0; g < k->ngroups; g++) {
            int dup = 0;
            for (size_t h = 0; h < o && !dup; h++) dup = same_group(&k->groups[h], &k->groups[g]);
            if (!dup) k->groups[o++] = k->groups[g];
        }
        k->ngroups = o;
        o = 0;
        for (size_t r = 0; r < k->nrecommends; r++) {
            const char *t = k->recommends[r].target;
            int dup = 0;
            for (size_t h = 0; h < o && !dup; h++) dup = strcmp(k->recommends[h].target, t) == 0;
            for (size_t g = 0; g < k->ngroups && !dup; g++)
                dup = k->groups[g].nmembers == 1 && strcmp(k->groups[g].members[0].target, t) == 0;
            if (!dup) k->recommends[o++] = k->recommends[r];
        }
        k->nrecommends = o;
    }
}

/* ---- map -------------------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;        /* FNV-1a */
    for (; *s; s++) { h ^= (unsigned char)*s; h *= 1099511628211ULL; }
    return h;
}

static int map_grow(kgi_map *m)
{
    size_t nc = m->cap ? m->cap * 2 : 64;
    char **nk = kg_calloc(nc, sizeof *nk);
    long *nv = kg_calloc(nc, sizeof *nv);
    if (!nk || !nv) { kg_free(nk); kg_free(nv); return -1; }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i]) continue;
        size_t j = hash_str(m->keys[i]) & (nc - 1);
        while (nk[j]) j = (j + 1) & (nc - 1);
        nk[j] = m->keys[i];
        nv[j] = m->vals[i];
    }
    kg_free(m->keys);
    kg_free(m->vals);
    m->keys = nk; m->vals = nv; m->cap = nc;
    return 0;
}

int kgi_map_put(kgi_map *m, const char *key, long val)
{
    if ((m->n + 1) * 2 > m->cap && map_grow(m)) return -1;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) { m->vals[j] = val; return 0; }
        j = (j + 1) & (m->cap - 1);
    }
    if (!(m->keys[j] = kg_strdup(key))) return -1;
    m->vals[j] = val;
    m->n++;
    return 0;
}

long kgi_map_get(const kgi_map *m, const char *key, long def)
{
    if (!m->cap) return def;
    size_t j = hash_str(key) & (m->cap - 1);
    while (m->keys[j]) {
        if (strcmp(m->keys[j], key) == 0) return m->vals[j];
        j = (j + 1) & (m->cap - 1);
    }
    return def;
}

void kgi_map_free(kgi_map *m)
{
    for (size_t i = 0; i < m->cap; i++) kg_free(m->keys[i]);
    kg_free(m->keys);
    kg_free(m->vals);
    memset(m, 0, sizeof *m);
}

void kgi_unique_id(kgi_map *ids, const char *want, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s", want);
    for (int n = 2; kgi_map_get(ids, out, -1) >= 0; n++)
        snprintf(out, outlen, "%.200s-%d", want, n);
    kgi_map_put(ids, out, 1);
}
