/* Plan renderers: text for people, JSON for tools ("kgpath_plan": 1), DOT of
 * the plan's subgraph. HTML is in render_html.c. JSON is written directly
 * (no DOM) so the batch engine can emit millions of plans cheaply. */
#include <stdlib.h>
#include <string.h>

#include "planner/plan_internal.h"
#include "planner/render_internal.h"

/* ---- appenders --------------------------------------------------------------
 * The JSON path writes ~20 KB per plan for the batch engine, so it avoids
 * printf and the per-call checks of kg_buf_put: room() reserves, put()
 * copies. They leave the buffer unterminated (room() always keeps one byte
 * spare); term() writes the NUL before a public function returns. */

/* Makes room for n more bytes plus a NUL. 0, or -1 with b->oom set. */
static inline int room(kg_buf *b, size_t n)
{
    if (b->oom) return -1;
    if (b->len + n < b->cap) return 0;
    if (kg_grow(&b->data, &b->cap, b->len + n + 1, 1) != 0) { b->oom = 1; return -1; }
    return 0;
}

static inline void put(kg_buf *b, const char *s, size_t n)
{
    if (room(b, n)) return;
    memcpy(b->data + b->len, s, n);
    b->len += n;
}

#define PUT_LIT(b, lit) put((b), (lit), sizeof(lit) - 1)

static inline void term(kg_buf *b)
{
    if (!b->oom && b->data) b->data[b->len] = 0;
}

static void put_u64(kg_buf *b, uint64_t v)
{
    char t[24];
    size_t k = sizeof t;
    do { t[--k] = (char)('0' + v % 10); v /= 10; } while (v);
    put(b, t + k, sizeof t - k);
}

static void put_i64(kg_buf *b, int64_t v)
{
    if (v < 0) { PUT_LIT(b, "-"); put_u64(b, (uint64_t)0 - (uint64_t)v); }
    else put_u64(b, (uint64_t)v);
}

/* Bytes a JSON string must escape: controls, '"' and '\\'. */
static const unsigned char json_esc[256] = {
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
    ['"'] = 1, ['\\'] = 1,
};

/* Appends the JSON escaping of s[0..n), without quotes: the prefix with
 * nothing to escape is copied whole, the rest escaped in one pass after
 * reserving its worst case (6 bytes per input byte). */
static void put_esc(kg_buf *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *e = p + n;
    while (p < e && !json_esc[*p]) p++;
    if (p == e) { put(b, s, n); return; }       /* the usual case: nothing to escape */
    put(b, s, (size_t)(p - (const unsigned char *)s));
    n = (size_t)(e - p);
    if (n > (SIZE_MAX - 8) / 6 || room(b, 6 * n)) { b->oom = 1; return; }
    char *d = b->data + b->len;
    for (; p < e; p++) {
        unsigned char c = *p;
        if (!json_esc[c]) { *d++ = (char)c; continue; }
        *d++ = '\\';
        switch (c) {
        case '"':  *d++ = '"'; break;
        case '\\': *d++ = '\\'; break;
        case '\n': *d++ = 'n'; break;
        case '\t': *d++ = 't'; break;
        case '\r': *d++ = 'r'; break;
        default:
            *d++ = 'u'; *d++ = '0'; *d++ = '0';
            *d++ = hex[c >> 4]; *d++ = hex[c & 15];
        }
    }
    b->len = (size_t)(d - b->data);
}

/* A JSON string literal (quotes included), null for NULL. */
static void put_json(kg_buf *b, const char *s)
{
    if (!s) { PUT_LIT(b, "null"); return; }
    PUT_LIT(b, "\"");
    put_esc(b, s, strlen(s));
    PUT_LIT(b, "\"");
}

void kg_buf_json(kg_buf *b, const char *s)
{
    put_json(b, s);
    term(b);
}

/* The last day written, as consecutive steps and sessions share days. */
typedef struct day_memo { int32_t day; size_t n; char s[24]; } day_memo;

static void json_day(kg_buf *b, int32_t day, day_memo *m)
{
    if (day == KGN_NO_DAY) { PUT_LIT(b, "null"); return; }
    if (m->day != day || m->n == 0) {
        m->s[0] = '"';
        kgn_date_format(day, m->s + 1);
        m->n = strlen(m->s);
        m->s[m->n++] = '"';
        m->day = day;
    }
    put(b, m->s, m->n);
}

/* ---- "why" lines -------------------------------------------------------------
 * One generator (why_gen) writes the explanation of a step for every format,
 * as lines made of pieces, through a writer: either each line is collected
 * and handed to a callback (text, HTML: kgn__why_lines), or the lines go
 * straight into a JSON array (kgn_plan_json_members).
 *
 * The JSON path writes each string once per plan and copies it afterwards
 * from its first occurrence in the output (offsets from `base`, so a
 * realloc does not matter): a chain line ("'a' is a prerequisite of 'b':
 * reason") depends only on the step it starts from; the chain of a step is
 * its own line followed by the chain of the step it leads to, so a chain
 * already written whole is copied in one piece (a 45-step plan repeats
 * ~400 chain lines); and a concept's escaped key is reused in "concept",
 * "via", "serves" and the lines. Same bytes as writing every piece. */
typedef struct why_memo { uint32_t off, len; } why_memo;   /* len 0: not yet */
/* A whole chain from a step to its goal, as written (lines "…","…"). */
typedef struct why_run { uint32_t off, len, nlines; } why_run;

typedef struct why_w {
    kg_buf *b;                 /* JSON: the output; callback: the line */
    int json;
    uint32_t nlines;            /* lines written for this step */
    void (*emit)(void *, const char *);
    void *ud;
    why_memo *memo;             /* JSON: [nsteps] chain line of step j in b,
                                   relative to base; NULL: no memo */
    why_memo *kmemo;            /* JSON: [nsteps] escaped key of step j's
                                   concept (no quotes) in b; NULL: no memo */
    uint32_t *gstep;            /* [ngoals] step of goal q, KGG_NONE; or NULL */
    why_run *run;               /* JSON: [nsteps] chain from step j; or NULL */
    size_t base;
    /* JSON: the last "serves goal…" line and "serves" array members, and
     * the goals they were written for (consecutive steps mostly share). */
    const uint32_t *sv_goals; uint32_t sv_n;
    why_memo sv_line;
    const uint32_t *sa_goals; uint32_t sa_n;
    why_memo sa_arr;
} why_w;

/* Copies a memo's bytes from earlier in the output. */
static void w_copy(why_w *w, why_memo m)
{
    kg_buf *b = w->b;
    if (room(b, m.len)) return;
    memcpy(b->data + b->len, b->data + w->base + m.off, m.len);
    b->len += m.len;
}

/* Records b[start..len) as a memo; 0 when it cannot (out of memory, huge). */
static int w_mark(const why_w *w, size_t start, why_memo *m)
{
    const kg_buf *b = w->b;
    if (b->oom || b->len - w->base > UINT32_MAX || b->len == start) return 0;
    m->off = (uint32_t)(start - w->base);
    m->len = (uint32_t)(b->len - start);
    return 1;
}

static int same_goals(const uint32_t *a, uint32_t na, const uint32_t *b, uint32_t nb)
{
    return a && na == nb && memcmp(a, b, (size_t)na * sizeof *a) == 0;
}

static void w_begin(why_w *w)
{
    if (w->json) {
        if (w->nlines) PUT_LIT(w->b, ",");
    } else {
        w->b->len = 0;
    }
    w->nlines++;
}

/* Opens the line's text (after w_begin). */
static void w_open(why_w *w)
{
    if (w->json) PUT_LIT(w->b, "\"");
}

static void w_end(why_w *w)
{
    if (w->json) { PUT_LIT(w->b, "\""); return; }
    if (room(w->b, 0)) return;          /* out of memory: kgn__why_lines says so */
    w->b->data[w->b->len] = 0;
    w->emit(w->ud, w->b->data);
}

/* A literal piece: plain ASCII with nothing to escape. */
#define W_LIT(w, lit) put((w)->b, (lit), sizeof(lit) - 1)

/* A text piece (escaped in JSON); NULL reads "(null)" as printf wrote it. */
static void w_str(why_w *w, const char *s)
{
    if (!s) s = "(null)";
    size_t n = strlen(s);
    if (w->json) put_esc(w->b, s, n);
    else put(w->b, s, n);
}

/* Key of concept c, the concept of step j (KGG_NONE: unknown): in JSON
 * escaped once per plan, then copied from its first occurrence. */
static void w_key(why_w *w, const kgn_plan *p, uint32_t c, uint32_t j)
{
    if (!w->json) { w_str(w, p->snap->key[c]); return; }
    why_memo *m = w->kmemo && j != KGG_NONE && p->steps[j].concept == c ? &w->kmemo[j] : NULL;
    if (m && m->len) { w_copy(w, *m); return; }
    size_t start = w->b->len;
    w_str(w, p->snap->key[c]);
    if (m) w_mark(w, start, m);
}

/* The step of goal c (KGG_NONE when not known). */
static uint32_t w_goal_step(const why_w *w, const kgn_plan *p, uint32_t c)
{
    if (!w->gstep) return KGG_NONE;
    for (uint32_t q = 0; q < p->ngoals; q++)
        if (p->goals[q] == c) return w->gstep[q];
    return KGG_NONE;
}

/* The chain line of step cur: "'a' is a prerequisite of 'b' (goal): reason". */
static void w_chain_line(why_w *w, const kgn_plan *p, uint32_t cur)
{
    kg_buf *b = w->b;
    why_memo *m = w->memo ? &w->memo[cur] : NULL;
    if (m && m->len) {
        if (w->nlines) PUT_LIT(b, ",");
        w->nlines++;
        w_copy(w, *m);
        return;
    }
    const kgn_step *a = &p->steps[cur];
    const kgn_step *nx = &p->steps[a->via_step];
    w_begin(w);
    size_t start = b->len;
    w_open(w);
    W_LIT(w, "'");
    w_key(w, p, a->concept, cur);
    if (a->recommended) W_LIT(w, "' is recommended before '");
    else W_LIT(w, "' is a prerequisite of '");
    w_key(w, p, nx->concept, a->via_step);
    if (nx->is_goal) W_LIT(w, "' (goal)");
    else W_LIT(w, "'");
    if (a->via_reason) { W_LIT(w, ": "); w_str(w, a->via_reason); }
    w_end(w);
    if (m) w_mark(w, start, m);
}

/* The "why" lines of step i: review note, goals served, recommendation,
 * the chain to a goal (at most 32 hops), default minutes. */
static void why_gen(const kgn_plan *p, uint32_t i, why_w *w)
{
    const kgg_snap *s = p->snap;
    const kgn_step *st = &p->steps[i];
    if (st->kind == KGN_REVIEW) {
        w_begin(w); w_open(w);
        W_LIT(w, "review: ");
        w_str(w, st->note ? st->note : "known");
        if (st->via != KGG_NONE) {
            W_LIT(w, ", needed for '");
            w_str(w, s->key[st->via]);
            W_LIT(w, "'");
        } else {
            W_LIT(w, "; goal already mastered");
        }
        w_end(w);
    } else if (st->kind == KGN_SPACED) {
        w_begin(w); w_open(w);
        W_LIT(w, "spaced review: ");
        w_str(w, st->note ? st->note : "due");
        w_end(w);
    } else if (st->note) {
        w_begin(w); w_open(w);
        W_LIT(w, "taught again: ");
        w_str(w, st->note);
        w_end(w);
    }
    if (st->is_goal) {
        w_begin(w); w_open(w);
        W_LIT(w, "goal");
        w_end(w);
    } else if (st->ngoals && w->json && same_goals(w->sv_goals, w->sv_n, st->goals, st->ngoals)) {
        if (w->nlines) PUT_LIT(w->b, ",");
        w->nlines++;
        w_copy(w, w->sv_line);
    } else if (st->ngoals) {
        w_begin(w);
        size_t start = w->b->len;
        w_open(w);
        if (st->ngoals > 1) W_LIT(w, "serves goals ");
        else W_LIT(w, "serves goal ");
        for (uint32_t g = 0; g < st->ngoals; g++) {
            if (g) W_LIT(w, ", '");
            else W_LIT(w, "'");
            w_key(w, p, st->goals[g], w_goal_step(w, p, st->goals[g]));
            W_LIT(w, "'");
        }
        w_end(w);
        if (w->json) {
            w->sv_goals = w_mark(w, start, &w->sv_line) ? st->goals : NULL;
            w->sv_n = st->ngoals;
        }
    }
    if (st->kind == KGN_LEARN && st->recommended) {
        w_begin(w); w_open(w);
        W_LIT(w, "recommended before '");
        w_str(w, st->via != KGG_NONE ? s->key[st->via] : "?");
        W_LIT(w, "'");
        if (st->via_reason) { W_LIT(w, ": "); w_str(w, st->via_reason); }
        w_end(w);
    }
    /* Chain: this -> via -> via's via ... -> a goal, at most 32 hops. In
     * JSON the rest of a chain from a step already written whole (as its
     * own chain or the tail of an earlier one) is copied in one piece, and
     * each chain written whole records where its tails are. */
    if (st->kind == KGN_LEARN) {
        kg_buf *b = w->b;
        struct why_tail { uint32_t step, lines; size_t pos; } tail[32];
        uint32_t cur = i, hops = 0, ntail = 0, lines = 0;
        int whole = 1;
        while (p->steps[cur].via_step != KGG_NONE) {
            if (hops >= 32) { whole = 0; break; }
            const kgn_step *a = &p->steps[cur];
            if (a->recommended && cur == i) { cur = a->via_step; hops++; continue; }
            const why_run *r = w->run ? &w->run[cur] : NULL;
            if (r && r->len && r->nlines <= 32 - hops) {
                if (w->nlines) PUT_LIT(b, ",");
                w->nlines += r->nlines;
                lines += r->nlines;
                w_copy(w, (why_memo){r->off, r->len});
                break;
            }
            if (w->run) tail[ntail++] = (struct why_tail){cur, lines, b->len + (w->nlines ? 1 : 0)};
            w_chain_line(w, p, cur);
            lines++;
            cur = a->via_step;
            hops++;
        }
        if (whole && !b->oom && b->len - w->base <= UINT32_MAX)
            for (uint32_t k = 0; k < ntail; k++)
                w->run[tail[k].step] = (why_run){(uint32_t)(tail[k].pos - w->base),
                                                 (uint32_t)(b->len - tail[k].pos),
                                                 lines - tail[k].lines};
    }
    if (st->kind == KGN_LEARN && st->course_order) {
        w_begin(w); w_open(w);
        W_LIT(w, "only because of authored course order (no prerequisite of the goal needs it)");
        w_end(w);
    }
    if (st->kind == KGN_LEARN && st->minutes_default) {
        w_begin(w); w_open(w);
        W_LIT(w, "minutes unknown: default used");
        w_end(w);
    }
}

int kgn__why_lines(const kgn_plan *p, uint32_t i, void (*emit)(void *, const char *), void *ud)
{
    kg_buf line = {0};
    why_w w = {0};
    w.b = &line;
    w.emit = emit;
    w.ud = ud;
    why_gen(p, i, &w);
    int rc = line.oom ? -1 : 0;
    kg_buf_free(&line);
    return rc;
}

void kgn_plan_json_members(const kgn_plan *p, kg_buf *b)
{
    const kgg_snap *s = p->snap;
    day_memo dm = {0};
    why_w w = {0};
    w.b = b;
    w.json = 1;
    w.base = b->len;
    /* Memos (chain lines, keys, goals' steps); without them (out of memory)
     * the strings are just escaped again. Goals' steps only for few goals:
     * looking one up is a scan of the goals. */
    void *blk = p->nsteps ? kg_calloc(1, (size_t)p->nsteps * (2 * sizeof(why_memo) + sizeof(why_run))
                                         + ((size_t)p->ngoals + 1) * sizeof(uint32_t)) : NULL;
    if (blk) {
        w.run = blk;
        w.memo = (why_memo *)(void *)(w.run + p->nsteps);
        w.kmemo = w.memo + p->nsteps;
        if (p->ngoals <= 32) {
            w.gstep = (uint32_t *)(void *)(w.kmemo + p->nsteps);
            for (uint32_t q = 0; q < p->ngoals; q++) w.gstep[q] = KGG_NONE;
            for (uint32_t i = 0; i < p->nsteps; i++)
                if (p->steps[i].kind == KGN_LEARN && p->steps[i].is_goal)
                    for (uint32_t q = 0; q < p->ngoals; q++)
                        if (p->goals[q] == p->steps[i].concept && w.gstep[q] == KGG_NONE)
                            w.gstep[q] = i;
        }
    }
    PUT_LIT(b, "\"kgpath_plan\":1,\"goals\":[");
    for (uint32_t i = 0; i < p->ngoals; i++) {
        if (i) PUT_LIT(b, ",");
        put_json(b, s->key[p->goals[i]]);
    }
    PUT_LIT(b, "],\"known\":[");
    for (uint32_t i = 0; i < p->nknown; i++) {
        if (i) PUT_LIT(b, ",");
        put_json(b, s->key[p->known[i]]);
    }
    PUT_LIT(b, "],\"steps\":[");
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        if (i) PUT_LIT(b, ",");
        PUT_LIT(b, "{\"concept\":\"");
        w_key(&w, p, st->concept, i);
        PUT_LIT(b, "\",\"title\":");
        put_json(b, s->title[st->concept]);
        if (st->kind == KGN_LEARN) PUT_LIT(b, ",\"kind\":\"learn\",\"minutes\":");
        else PUT_LIT(b, ",\"kind\":\"review\",\"minutes\":");
        put_u64(b, st->minutes);
        PUT_LIT(b, ",\"day\":");
        json_day(b, st->day, &dm);
        PUT_LIT(b, ",\"why\":[");
        w.nlines = 0;
        why_gen(p, i, &w);
        if (st->is_goal) PUT_LIT(b, "],\"goal\":true");
        else PUT_LIT(b, "],\"goal\":false");
        if (st->recommended) PUT_LIT(b, ",\"recommended\":true");
        else PUT_LIT(b, ",\"recommended\":false");
        if (st->course_order) PUT_LIT(b, ",\"course_order\":true");
        else PUT_LIT(b, ",\"course_order\":false");
        if (st->minutes_default) PUT_LIT(b, ",\"minutes_default\":true,\"via\":");
        else PUT_LIT(b, ",\"minutes_default\":false,\"via\":");
        if (st->via != KGG_NONE) {
            PUT_LIT(b, "\"");
            w_key(&w, p, st->via, st->via_step);
            PUT_LIT(b, "\"");
        } else {
            PUT_LIT(b, "null");
        }
        PUT_LIT(b, ",\"reason\":");
        put_json(b, st->via_reason);
        PUT_LIT(b, ",\"serves\":[");
        if (same_goals(w.sa_goals, w.sa_n, st->goals, st->ngoals)) {
            w_copy(&w, w.sa_arr);
        } else {
            size_t start = b->len;
            for (uint32_t g = 0; g < st->ngoals; g++) {
                if (g) PUT_LIT(b, ",\"");
                else PUT_LIT(b, "\"");
                w_key(&w, p, st->goals[g], w_goal_step(&w, p, st->goals[g]));
                PUT_LIT(b, "\"");
            }
            w.sa_goals = w_mark(&w, start, &w.sa_arr) ? st->goals : NULL;
            w.sa_n = st->ngoals;
        }
        PUT_LIT(b, "]");
        if (st->kind != KGN_LEARN) {
            if (st->kind == KGN_SPACED) PUT_LIT(b, ",\"spaced\":true");
            else PUT_LIT(b, ",\"spaced\":false");
        }
        if (st->note) { PUT_LIT(b, ",\"note\":"); put_json(b, st->note); }
        if (st->nsessions) {
            PUT_LIT(b, ",\"sessions\":[");
            for (uint32_t q = 0; q < st->nsessions; q++) {
                if (q) PUT_LIT(b, ",{\"day\":");
                else PUT_LIT(b, "{\"day\":");
                json_day(b, st->sessions[q].day, &dm);
                PUT_LIT(b, ",\"minutes\":");
                put_u64(b, st->sessions[q].minutes);
                PUT_LIT(b, "}");
            }
            PUT_LIT(b, "]");
        }
        PUT_LIT(b, "}");
    }
    kg_free(blk);
    PUT_LIT(b, "],\"total_minutes\":");
    put_u64(b, p->total_minutes);
    PUT_LIT(b, ",");
    if (p->has_pessimistic) {
        PUT_LIT(b, "\"pessimistic_minutes\":");
        put_u64(b, p->pessimistic_minutes);
        PUT_LIT(b, ",");
    }
    if (p->nmastered) {
        PUT_LIT(b, "\"mastered_goals\":[");
        for (uint32_t i = 0; i < p->nmastered; i++) {
            if (i) PUT_LIT(b, ",");
            put_json(b, s->key[p->mastered[i]]);
        }
        PUT_LIT(b, "],");
    }
    PUT_LIT(b, "\"skipped_known\":[");
    for (uint32_t i = 0; i < p->nskipped; i++) {
        if (i) PUT_LIT(b, ",");
        put_json(b, s->key[p->skipped[i]]);
    }
    if (p->exact) PUT_LIT(b, "],\"exact\":true,\"choices\":");
    else PUT_LIT(b, "],\"exact\":false,\"choices\":");
    put_u64(b, p->nchoices);
    PUT_LIT(b, ",\"budget_minutes\":");
    if (p->budget_minutes > 0) kg_buf_printf(b, "%.0f", p->budget_minutes);
    else PUT_LIT(b, "null");
    PUT_LIT(b, ",\"dropped_goals\":[");
    for (uint32_t i = 0; i < p->ndropped; i++) {
        if (i) PUT_LIT(b, ",{\"concept\":");
        else PUT_LIT(b, "{\"concept\":");
        put_json(b, s->key[p->dropped[i]]);
        PUT_LIT(b, ",\"minutes\":");
        put_u64(b, p->dropped_minutes[i]);
        PUT_LIT(b, "}");
    }
    PUT_LIT(b, "],\"calendar\":");
    if (!p->calendar) { PUT_LIT(b, "null"); term(b); return; }
    PUT_LIT(b, "{\"start\":");
    json_day(b, p->start_day, &dm);
    PUT_LIT(b, ",\"end\":");
    json_day(b, p->end_day, &dm);
    PUT_LIT(b, ",\"minutes_per_day\":");
    put_u64(b, p->minutes_per_day);
    PUT_LIT(b, ",\"days_per_week\":");
    put_u64(b, p->days_per_week);
    PUT_LIT(b, ",\"study_days\":");
    put_u64(b, p->study_days);
    PUT_LIT(b, ",\"deadline\":");
    json_day(b, p->deadline_day, &dm);
    if (p->deadline_day != KGN_NO_DAY) {
        if (p->fits) PUT_LIT(b, ",\"fits\":true,\"overrun_days\":");
        else PUT_LIT(b, ",\"fits\":false,\"overrun_days\":");
        put_i64(b, p->overrun_days);
        PUT_LIT(b, ",\"overrun_minutes\":");
        put_u64(b, p->overrun_minutes);
    }
    PUT_LIT(b, ",\"days\":[");
    /* Sessions are in day order (the calendar fills days in step order). */
    int32_t cur = KGN_NO_DAY;
    int first_day = 1, first_item = 1;
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        for (uint32_t q = 0; q < st->nsessions; q++) {
            if (st->sessions[q].day != cur) {
                if (!first_day) PUT_LIT(b, "]}");
                if (first_day) PUT_LIT(b, "{\"day\":");
                else PUT_LIT(b, ",{\"day\":");
                json_day(b, st->sessions[q].day, &dm);
                PUT_LIT(b, ",\"items\":[");
                cur = st->sessions[q].day;
                first_day = 0;
                first_item = 1;
            }
            if (first_item) PUT_LIT(b, "{\"concept\":");
            else PUT_LIT(b, ",{\"concept\":");
            put_json(b, s->key[st->concept]);
            if (st->kind == KGN_LEARN) PUT_LIT(b, ",\"kind\":\"learn\",\"minutes\":");
            else PUT_LIT(b, ",\"kind\":\"review\",\"minutes\":");
            put_u64(b, st->sessions[q].minutes);
            PUT_LIT(b, ",\"part\":");
            put_u64(b, q + 1);
            PUT_LIT(b, ",\"parts\":");
            put_u64(b, st->nsessions);
            PUT_LIT(b, "}");
            first_item = 0;
        }
    }
    if (!first_day) PUT_LIT(b, "]}");
    PUT_LIT(b, "]}");
    term(b);
}

static void emit_text(void *ud, const char *line)
{
    kg_buf *b = ud;
    kg_buf_printf(b, "       - %s\n", line);
}

static void text_minutes(kg_buf *b, uint64_t m)
{
    if (m >= 60) kg_buf_printf(b, "%llu h %02llu min", (unsigned long long)(m / 60), (unsigned long long)(m % 60));
    else kg_buf_printf(b, "%llu min", (unsigned long long)m);
}

static void render_text(const kgn_plan *p, kg_buf *b)
{
    const kgg_snap *s = p->snap;
    char d[16];
    kg_buf_printf(b, "Study plan: %u goal%s, %u step%s, ", p->ngoals, p->ngoals == 1 ? "" : "s",
                   p->nsteps, p->nsteps == 1 ? "" : "s");
    text_minutes(b, p->total_minutes);
    kg_buf_puts(b, "\n");
    for (uint32_t i = 0; i < p->ngoals; i++)
        kg_buf_printf(b, "  goal: %s  %s\n", s->key[p->goals[i]], s->title[p->goals[i]]);
    for (uint32_t i = 0; i < p->nmastered; i++)
        kg_buf_printf(b, "  goal already mastered: %s  %s\n", s->key[p->mastered[i]], s->title[p->mastered[i]]);
    if (p->nskipped) {
        kg_buf_puts(b, "Skipped (known):");
        for (uint32_t i = 0; i < p->nskipped; i++)
            kg_buf_printf(b, "%s %s", i ? "," : "", s->key[p->skipped[i]]);
        kg_buf_puts(b, "\n");
    }
    if (p->nchoices)
        kg_buf_printf(b, "Alternatives: %u k-of-n group%s decided, %s\n", p->nchoices,
                       p->nchoices == 1 ? "" : "s",
                       p->exact ? "least total time (exact)" : "best found within the search limit (greedy + partial search)");
    if (p->budget_minutes > 0) {
        kg_buf_printf(b, "Budget %.0f min: %u goal%s fit", p->budget_minutes, p->ngoals, p->ngoals == 1 ? "" : "s");
        for (uint32_t i = 0; i < p->ndropped; i++)
            kg_buf_printf(b, "%s %s (needs %llu min)", i ? "," : "; left out:", s->key[p->dropped[i]],
                           (unsigned long long)p->dropped_minutes[i]);
        kg_buf_puts(b, "\n");
    }
    kg_buf_puts(b, "\n");
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        kg_buf_printf(b, "%3u. ", i + 1);
        if (p->calendar) {
            kgn_date_format(st->day, d);
            kg_buf_printf(b, "%s  ", d);
        }
        kg_buf_printf(b, "%4u min  %s %s  %s%s\n", st->minutes,
                       st->kind == KGN_LEARN ? "learn " : "review", s->key[st->concept],
                       s->title[st->concept], st->is_goal ? "  [goal]" : "");
        if (st->nsessions > 1) {
            kg_buf_puts(b, "       - split:");
            for (uint32_t q = 0; q < st->nsessions; q++) {
                kgn_date_format(st->sessions[q].day, d);
                kg_buf_printf(b, "%s %s %u min", q ? "," : "", d, st->sessions[q].minutes);
            }
            kg_buf_puts(b, "\n");
        }
        if (kgn__why_lines(p, i, emit_text, b)) b->oom = 1;
    }
    kg_buf_puts(b, "\nTotal: ");
    text_minutes(b, p->total_minutes);
    kg_buf_printf(b, " (%llu minutes)\n", (unsigned long long)p->total_minutes);
    if (p->has_pessimistic && p->pessimistic_minutes > p->total_minutes)
        kg_buf_printf(b, "Pessimistic: %llu minutes (if every review's recall fails "
                       "and it is relearned)\n", (unsigned long long)p->pessimistic_minutes);
    if (p->calendar) {
        char e[16];
        kgn_date_format(p->start_day, d);
        kgn_date_format(p->end_day, e);
        kg_buf_printf(b, "Calendar: %u min/day, %u day%s/week, %s to %s, %u study day%s\n",
                       p->minutes_per_day, p->days_per_week, p->days_per_week == 1 ? "" : "s",
                       d, e, p->study_days, p->study_days == 1 ? "" : "s");
        if (p->deadline_day != KGN_NO_DAY) {
            kgn_date_format(p->deadline_day, d);
            if (p->fits) kg_buf_printf(b, "Deadline %s: fits (%d day%s to spare)\n", d,
                                        p->deadline_day - p->end_day,
                                        p->deadline_day - p->end_day == 1 ? "" : "s");
            else kg_buf_printf(b, "Deadline %s: overruns by %d day%s (%llu min after the deadline)\n",
                                d, p->overrun_days, p->overrun_days == 1 ? "" : "s",
                                (unsigned long long)p->overrun_minutes);
        }
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

/* Sorted concept ids of the plan's learn steps (for edge lookups). */
uint32_t *kgn__plan_members(const kgn_plan *p, uint32_t *n)
{
    uint32_t *v = kg_malloc(((size_t)p->nsteps + 1) * sizeof *v);
    if (!v) return NULL;
    uint32_t k = 0;
    for (uint32_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].kind == KGN_LEARN) v[k++] = p->steps[i].concept;
    qsort(v, k, sizeof *v, cmp_u32);
    *n = k;
    return v;
}

int kgn__has(const uint32_t *v, uint32_t n, uint32_t x)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v[mid] == x) return 1;
        if (v[mid] < x) lo = mid + 1; else hi = mid;
    }
    return 0;
}

static void render_dot(const kgn_plan *p, kg_buf *b)
{
    const kgg_snap *s = p->snap;
    uint32_t nm = 0, nk = 0;
    uint32_t *mem = kgn__plan_members(p, &nm);
    if (!mem) { b->oom = 1; return; }
    /* Known concepts the plan relies on, sorted likewise. */
    uint32_t *kn = kg_malloc(((size_t)p->nskipped + 1) * sizeof *kn);
    if (!kn) { kg_free(mem); b->oom = 1; return; }
    for (uint32_t i = 0; i < p->nskipped; i++) {
        uint32_t x = p->skipped[i], j = nk++;
        while (j > 0 && kn[j - 1] > x) { kn[j] = kn[j - 1]; j--; }
        kn[j] = x;
    }
    kg_buf_puts(b, "digraph kgpath_plan {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        if (st->kind != KGN_LEARN) continue;
        kg_buf_puts(b, "  \"");
        kgn_put_dot(b, s->key[st->concept]);
        kg_buf_printf(b, "\" [label=\"%u. ", i + 1);
        kgn_put_dot(b, s->title[st->concept]);
        kg_buf_printf(b, "\\n%u min\"%s];\n", st->minutes,
                       st->is_goal ? ", penwidth=2.5, style=\"rounded,bold\"" : "");
    }
    for (uint32_t i = 0; i < p->nskipped; i++) {
        kg_buf_puts(b, "  \"");
        kgn_put_dot(b, s->key[p->skipped[i]]);
        kg_buf_puts(b, "\" [label=\"");
        kgn_put_dot(b, s->title[p->skipped[i]]);
        kg_buf_puts(b, "\\nknown\", style=\"rounded,dashed\", color=gray50, fontcolor=gray40];\n");
    }
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        if (st->kind != KGN_LEARN) continue;
        uint32_t c = st->concept;
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                uint32_t m = s->mem[j];
                int known = kgn__has(kn, nk, m);
                if (!known && !kgn__has(mem, nm, m)) continue;
                kg_buf_puts(b, "  \"");
                kgn_put_dot(b, s->key[m]);
                kg_buf_puts(b, "\" -> \"");
                kgn_put_dot(b, s->key[c]);
                kg_buf_puts(b, "\"");
                const char *r = s->mem_reason && s->mem_reason[j] ? s->mem_reason[j]
                              : s->grp_reason ? s->grp_reason[g] : NULL;
                int attrs = 0;
                if (r) { kg_buf_puts(b, " [tooltip=\""); kgn_put_dot(b, r); kg_buf_puts(b, "\""); attrs = 1; }
                if (s->grp_k[g] < s->mem_off[g + 1] - s->mem_off[g] || s->grp_n[g] > s->grp_k[g]) {
                    kg_buf_printf(b, "%slabel=\"%u of %u\"", attrs ? ", " : " [", s->grp_k[g], s->grp_n[g]);
                    attrs = 1;
                }
                if (known) { kg_buf_puts(b, attrs ? ", style=dashed" : " [style=dashed"); attrs = 1; }
                kg_buf_puts(b, attrs ? "];\n" : ";\n");
            }
        if (s->rec_off)
            for (uint32_t j = s->rec_off[c]; j < s->rec_off[c + 1]; j++) {
                if (!kgn__has(mem, nm, s->rec[j])) continue;
                kg_buf_puts(b, "  \"");
                kgn_put_dot(b, s->key[s->rec[j]]);
                kg_buf_puts(b, "\" -> \"");
                kgn_put_dot(b, s->key[c]);
                kg_buf_puts(b, "\" [style=dotted, label=\"recommended\"];\n");
            }
    }
    kg_buf_puts(b, "}\n");
    kg_free(mem);
    kg_free(kn);
}

kgp_status kgn_plan_render(const kgn_plan *p, kgn_format fmt, kg_buf *out)
{
    switch (fmt) {
    case KGN_TEXT: render_text(p, out); break;
    case KGN_JSON:
        kg_buf_put(out, "{", 1);
        kgn_plan_json_members(p, out);
        kg_buf_puts(out, "}\n");
        break;
    case KGN_DOT: render_dot(p, out); break;
    case KGN_HTML: kgn__render_html(p, out); break;
    default: return KGP_EUSAGE;
    }
    return out->oom ? KGP_ENOMEM : KGP_OK;
}
