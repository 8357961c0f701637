/* aicc_script prerequisite expressions (see aicc_expr.h). */
#include "importers/aicc_expr.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/alloc.h"

#define MAX_CLAUSES 256
#define MAX_DEPTH   100

typedef struct P {
    const char *s;
    size_t i;
    int depth;
    kgi_expr_warn_fn warn;
    void *ud;
    char *err; size_t errlen; size_t errpos;
    int failed;
} P;

/* A sub-expression's value: "true" (no constraint) or a CNF. */
typedef struct V { int truth; kgi_cnf cnf; } V;

static void clause_free(kgi_clause *c)
{
    for (size_t i = 0; i < c->n; i++) kg_free(c->ids[i]);
    kg_free(c->ids);
    memset(c, 0, sizeof *c);
}

void kgi_cnf_free(kgi_cnf *cnf)
{
    if (!cnf) return;
    for (size_t i = 0; i < cnf->n; i++) clause_free(&cnf->c[i]);
    kg_free(cnf->c);
    memset(cnf, 0, sizeof *cnf);
}

static int oom(P *p)
{
    if (!p->failed) { snprintf(p->err, p->errlen, "out of memory"); p->errpos = p->i + 1; }
    p->failed = 1;
    return -1;
}

static int clause_add(P *p, kgi_clause *c, const char *id)
{
    for (size_t i = 0; i < c->n; i++) if (strcmp(c->ids[i], id) == 0) return 0;
    if (kg_grow(&c->ids, &c->cap, c->n + 1, sizeof *c->ids)) return oom(p);
    if (!(c->ids[c->n] = kg_strdup(id))) return oom(p);
    c->n++;
    return 0;
}

static kgi_clause *cnf_add(P *p, kgi_cnf *f, uint32_t k)
{
    if (kg_grow(&f->c, &f->cap, f->n + 1, sizeof *f->c)) { oom(p); return NULL; }
    kgi_clause *c = &f->c[f->n++];
    memset(c, 0, sizeof *c);
    c->k = k;
    return c;
}

static void fail(P *p, const char *fmt, const char *a)
{
    if (p->failed) return;
    p->failed = 1;
    snprintf(p->err, p->errlen, fmt, a);
    p->errpos = p->i + 1;
}

static void warnf(P *p, const char *fmt, const char *a)
{
    char m[1024];
    snprintf(m, sizeof m, fmt, a);
    if (p->warn) p->warn(p->ud, m);
}

static void skip_ws(P *p)
{
    while (p->s[p->i] && isspace((unsigned char)p->s[p->i])) p->i++;
}

static int is_id_char(char ch)
{
    return ch && !isspace((unsigned char)ch) && !strchr("&|~(){},*=<>", ch);
}

/* Reads an identifier into buf; returns its length (0 when none). */
static size_t read_id(P *p, char *buf, size_t len)
{
    size_t n = 0;
    while (is_id_char(p->s[p->i])) {
        if (n + 1 < len) buf[n++] = p->s[p->i];
        p->i++;
    }
    buf[n < len ? n : len - 1] = 0;
    return n;
}

static V parse_or(P *p);

static V vtrue(void) { V v; memset(&v, 0, sizeof v); v.truth = 1; return v; }

static V atom(P *p, const char *id)
{
    V v = {0};
    kgi_clause *c = cnf_add(p, &v.cnf, 1);
    if (c) clause_add(p, c, id);
    return v;
}

/* Status words after '=' or "<>". Returns 1 for passed/completed, 0 for the
 * other valid words, -1 when not a status. */
static int read_status(P *p, char *word, size_t wl)
{
    skip_ws(p);
    size_t st = p->i, n = 0;
    while (isalpha((unsigned char)p->s[p->i])) { if (n + 1 < wl) word[n++] = p->s[p->i]; p->i++; }
    word[n] = 0;
    if (strcasecmp(word, "not") == 0) {
        size_t save = p->i;
        skip_ws(p);
        char w2[32]; size_t m = 0;
        while (isalpha((unsigned char)p->s[p->i])) { if (m + 1 < sizeof w2) w2[m++] = p->s[p->i]; p->i++; }
        w2[m] = 0;
        if (strcasecmp(w2, "attempted") == 0) { snprintf(word, wl, "not attempted"); return 0; }
        p->i = save;
    }
    static const char *const good[] = { "passed", "completed", "p", "c", NULL };
    static const char *const other[] = { "failed", "incomplete", "browsed", "f", "i", "b", "n", NULL };
    for (int i = 0; good[i]; i++) if (strcasecmp(word, good[i]) == 0) return 1;
    for (int i = 0; other[i]; i++) if (strcasecmp(word, other[i]) == 0) return 0;
    p->i = st;
    return -1;
}

static V parse_primary(P *p)
{
    skip_ws(p);
    char ch = p->s[p->i];
    if (ch == '(') {
        p->i++;
        V v = parse_or(p);
        if (p->failed) return v;
        skip_ws(p);
        if (p->s[p->i] != ')') { fail(p, "expected ')'%s", ""); return v; }
        p->i++;
        return v;
    }
    if (!is_id_char(ch)) {
        fail(p, ch ? "expected an identifier, '(' , '~' or N*{…}, found '%.1s'" :
                     "expected an identifier, '(' , '~' or N*{…} at the end%s", ch ? p->s + p->i : "");
        return vtrue();
    }
    char id[512];
    size_t start = p->i;
    read_id(p, id, sizeof id);
    skip_ws(p);
    if (p->s[p->i] == '*') {
        /* n*{a,b,c} */
        char *end;
        long k = strtol(id, &end, 10);
        if (*end || k < 0) { p->i = start; fail(p, "\"%s\" before '*' is not a number", id); return vtrue(); }
        p->i++;
        skip_ws(p);
        if (p->s[p->i] != '{') { fail(p, "expected '{' after '*'%s", ""); return vtrue(); }
        p->i++;
        V v = {0};
        kgi_clause *c = cnf_add(p, &v.cnf, 1);
        if (!c) return v;
        for (;;) {
            skip_ws(p);
            char m[512];
            if (!read_id(p, m, sizeof m)) { fail(p, "expected an identifier in the set%s", ""); return v; }
            if (clause_add(p, c, m)) return v;
            skip_ws(p);
            if (p->s[p->i] == ',') { p->i++; continue; }
            if (p->s[p->i] == '}') { p->i++; break; }
            fail(p, "expected ',' or '}' in the set%s", "");
            return v;
        }
        if ((size_t)k > c->n) {
            p->i = start;
            char msg[64];
            snprintf(msg, sizeof msg, "%ld of %zu", k, c->n);
            fail(p, "set asks for more members than it has (%s)", msg);
            return v;
        }
        if (k == 0) { kgi_cnf_free(&v.cnf); return vtrue(); }
        c->k = (uint32_t)k;
        return v;
    }
    if (p->s[p->i] == '=' || (p->s[p->i] == '<' && p->s[p->i + 1] == '>')) {
        int neq = p->s[p->i] == '<';
        p->i += neq ? 2 : 1;
        char word[32];
        int st = read_status(p, word, sizeof word);
        if (st < 0) {
            fail(p, "expected a status (passed, completed, failed, incomplete, browsed, not attempted "
                    "or p, c, f, i, b, n)%s", "");
            return vtrue();
        }
        char msg[700];
        if (neq) {
            snprintf(msg, sizeof msg, "\"%s<>%s\" (a status that must not hold) cannot be expressed; ignored", id, word);
            warnf(p, "%s", msg);
            return vtrue();
        }
        if (st == 0) {
            snprintf(msg, sizeof msg, "\"%s=%s\" (only passed/completed map to a prerequisite) cannot be "
                     "expressed; ignored", id, word);
            warnf(p, "%s", msg);
            return vtrue();
        }
    }
    return atom(p, id);
}

static V parse_unary(P *p)
{
    skip_ws(p);
    if (p->s[p->i] == '~') {
        p->i++;
        if (++p->depth > MAX_DEPTH) { fail(p, "expression nested too deeply%s", ""); return vtrue(); }
        size_t st = p->i;
        V v = parse_unary(p);
        p->depth--;
        if (p->failed) return v;
        char what[256];
        size_t n = p->i - st;
        while (n && isspace((unsigned char)p->s[st])) { st++; n--; }
        snprintf(what, sizeof what, "~%.*s", (int)(n > 200 ? 200 : n), p->s + st);
        warnf(p, "NOT (\"%s\") cannot be expressed as a prerequisite; ignored", what);
        kgi_cnf_free(&v.cnf);
        return vtrue();
    }
    return parse_primary(p);
}

static void v_and(P *p, V *a, V *b)
{
    if (b->truth) return;
    if (a->truth) { *a = *b; b->truth = 1; memset(&b->cnf, 0, sizeof b->cnf); return; }
    for (size_t i = 0; i < b->cnf.n; i++) {
        if (a->cnf.n >= MAX_CLAUSES * 4) {
            warnf(p, "%s", "expression too large; extra requirements ignored");
            for (size_t j = i; j < b->cnf.n; j++) clause_free(&b->cnf.c[j]);
            break;
        }
        if (kg_grow(&a->cnf.c, &a->cnf.cap, a->cnf.n + 1, sizeof *a->cnf.c)) {
            for (size_t j = i; j < b->cnf.n; j++) clause_free(&b->cnf.c[j]);
            oom(p);
            break;
        }
        a->cnf.c[a->cnf.n++] = b->cnf.c[i];
    }
    kg_free(b->cnf.c);
    memset(&b->cnf, 0, sizeof b->cnf);
}

static void v_or(P *p, V *a, V *b)
{
    if (a->truth || b->truth) {
        kgi_cnf_free(&a->cnf);
        kgi_cnf_free(&b->cnf);
        a->truth = 1;
        return;
    }
    int widened = 0;
    for (size_t i = 0; i < a->cnf.n; i++) if (a->cnf.c[i].k > 1) widened = 1;
    for (size_t i = 0; i < b->cnf.n; i++) if (b->cnf.c[i].k > 1) widened = 1;
    if (widened) warnf(p, "%s", "an \"at least N of\" set under '|' cannot be expressed exactly; "
                             "widened to \"any one of\"");
    V r = {0};
    if (a->cnf.n * b->cnf.n > MAX_CLAUSES) {
        warnf(p, "%s", "OR of large AND terms is too large to distribute; widened to \"any one of\" all "
                      "identifiers");
        kgi_clause *c = cnf_add(p, &r.cnf, 1);
        for (size_t i = 0; c && i < a->cnf.n; i++)
            for (size_t j = 0; j < a->cnf.c[i].n; j++) clause_add(p, c, a->cnf.c[i].ids[j]);
        for (size_t i = 0; c && i < b->cnf.n; i++)
            for (size_t j = 0; j < b->cnf.c[i].n; j++) clause_add(p, c, b->cnf.c[i].ids[j]);
    } else {
        /* (A1 & A2) | (B1 & B2) = (A1|B1) & (A1|B2) & (A2|B1) & (A2|B2) */
        for (size_t i = 0; i < a->cnf.n && !p->failed; i++)
            for (size_t j = 0; j < b->cnf.n && !p->failed; j++) {
                kgi_clause *c = cnf_add(p, &r.cnf, 1);
                if (!c) break;
                for (size_t x = 0; x < a->cnf.c[i].n; x++) clause_add(p, c, a->cnf.c[i].ids[x]);
                for (size_t x = 0; x < b->cnf.c[j].n; x++) clause_add(p, c, b->cnf.c[j].ids[x]);
            }
    }
    kgi_cnf_free(&a->cnf);
    kgi_cnf_free(&b->cnf);
    *a = r;
}

static V parse_and(P *p)
{
    V v = parse_unary(p);
    while (!p->failed) {
        skip_ws(p);
        if (p->s[p->i] != '&') break;
        p->i++;
        V w = parse_unary(p);
        v_and(p, &v, &w);
        kgi_cnf_free(&w.cnf);
    }
    return v;
}

static V parse_or(P *p)
{
    if (++p->depth > MAX_DEPTH) { fail(p, "expression nested too deeply%s", ""); return vtrue(); }
    V v = parse_and(p);
    while (!p->failed) {
        skip_ws(p);
        if (p->s[p->i] != '|') break;
        p->i++;
        V w = parse_and(p);
        v_or(p, &v, &w);
    }
    p->depth--;
    return v;
}

int kgi_aicc_parse(const char *expr, kgi_cnf *out, kgi_expr_warn_fn warn, void *ud,
                   char *err, size_t errlen, size_t *errpos)
{
    memset(out, 0, sizeof *out);
    P p = { expr ? expr : "", 0, 0, warn, ud, err, errlen, 0, 0 };
    skip_ws(&p);
    if (!p.s[p.i]) { snprintf(err, errlen, "empty expression"); *errpos = 1; return -1; }
    V v = parse_or(&p);
    if (!p.failed) {
        skip_ws(&p);
        if (p.s[p.i]) {
            char tok[64];
            size_t n = 0;
            while (p.s[p.i + n] && !isspace((unsigned char)p.s[p.i + n]) && n < 40) n++;
            snprintf(tok, sizeof tok, "%.*s", (int)n, p.s + p.i);
            fail(&p, "unexpected \"%s\" (operators are & | ~ and parentheses; words such as AND/OR "
                     "are not aicc_script)", tok);
        }
    }
    if (p.failed) {
        kgi_cnf_free(&v.cnf);
        *errpos = p.errpos;
        return -1;
    }
    *out = v.cnf;
    return 0;
}

/* ---- building blocks ------------------------------------------------------- */

int kgi_cnf_atom(kgi_cnf *f, const char *id)
{
    char e[64];
    P p = { "", 0, 0, NULL, NULL, e, sizeof e, 0, 0 };
    kgi_clause *c = cnf_add(&p, f, 1);
    if (c) clause_add(&p, c, id);
    return p.failed ? -1 : 0;
}

int kgi_cnf_and(kgi_cnf *a, kgi_cnf *b)
{
    char e[64];
    P p = { "", 0, 0, NULL, NULL, e, sizeof e, 0, 0 };
    V va = { 0, *a }, vb = { 0, *b };
    v_and(&p, &va, &vb);
    *a = va.cnf;
    kgi_cnf_free(&vb.cnf);
    memset(b, 0, sizeof *b);
    return p.failed ? -1 : 0;
}

static void note_widen(void *ud, const char *msg) { (void)msg; *(int *)ud = 1; }

int kgi_cnf_or(kgi_cnf *a, kgi_cnf *b)
{
    char e[64];
    int widened = 0;
    P p = { "", 0, 0, note_widen, &widened, e, sizeof e, 0, 0 };
    V va = { 0, *a }, vb = { 0, *b };
    v_or(&p, &va, &vb);
    *a = va.cnf;
    memset(b, 0, sizeof *b);
    return p.failed ? -1 : widened;
}
