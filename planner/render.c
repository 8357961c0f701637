/* Plan renderers: text for people, JSON for tools ("kgpath_plan": 1), DOT of
 * the plan's subgraph. HTML is in render_html.c. JSON is written directly
 * (no DOM) so the batch engine can emit millions of plans cheaply. */
#include <stdlib.h>
#include <string.h>

#include "planner/plan_internal.h"
#include "planner/render_internal.h"

void kgn_buf_json(kgn_buf *b, const char *s)
{
    if (!s) { kgn_buf_puts(b, "null"); return; }
    kgn_buf_put(b, "\"", 1);
    const unsigned char *p = (const unsigned char *)s, *run = p;
    for (; *p; p++) {
        if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
        kgn_buf_put(b, (const char *)run, (size_t)(p - run));
        if (*p == '"') kgn_buf_puts(b, "\\\"");
        else if (*p == '\\') kgn_buf_puts(b, "\\\\");
        else if (*p == '\n') kgn_buf_puts(b, "\\n");
        else if (*p == '\t') kgn_buf_puts(b, "\\t");
        else if (*p == '\r') kgn_buf_puts(b, "\\r");
        else kgn_buf_printf(b, "\\u%04x", *p);
        run = p + 1;
    }
    kgn_buf_put(b, (const char *)run, (size_t)(p - run));
    kgn_buf_put(b, "\"", 1);
}

static void json_day(kgn_buf *b, int32_t day)
{
    if (day == KGN_NO_DAY) { kgn_buf_puts(b, "null"); return; }
    char d[16];
    kgn_date_format(day, d);
    kgn_buf_printf(b, "\"%s\"", d);
}

/* The "why" lines of step i: goals served, then the chain to a goal. */
void kgn__why_lines(const kgn_plan *p, uint32_t i, void (*emit)(void *, const char *), void *ud)
{
    const kgg_snap *s = p->snap;
    const kgn_step *st = &p->steps[i];
    kgn_buf b = {0};
    if (st->kind == KGN_REVIEW) {
        kgn_buf_printf(&b, "review: %s", st->note ? st->note : "known");
        if (st->via != KGG_NONE) kgn_buf_printf(&b, ", needed for '%s'", s->key[st->via]);
        else kgn_buf_puts(&b, "; goal already mastered");
        emit(ud, b.data);
        b.len = 0;
    } else if (st->kind == KGN_SPACED) {
        kgn_buf_printf(&b, "spaced review: %s", st->note ? st->note : "due");
        emit(ud, b.data);
        b.len = 0;
    }
    if (st->is_goal) {
        emit(ud, "goal");
    } else if (st->ngoals) {
        kgn_buf_puts(&b, st->ngoals > 1 ? "serves goals " : "serves goal ");
        for (uint32_t g = 0; g < st->ngoals; g++)
            kgn_buf_printf(&b, "%s'%s'", g ? ", " : "", s->key[st->goals[g]]);
        emit(ud, b.data ? b.data : "");
        b.len = 0;
    }
    if (st->kind == KGN_LEARN && st->recommended) {
        kgn_buf_printf(&b, "recommended before '%s'", st->via != KGG_NONE ? s->key[st->via] : "?");
        if (st->via_reason) kgn_buf_printf(&b, ": %s", st->via_reason);
        emit(ud, b.data);
        b.len = 0;
    }
    /* Chain: this -> via -> via's via ... -> a goal. */
    uint32_t cur = i, hops = 0;
    while (st->kind == KGN_LEARN && p->steps[cur].via_step != KGG_NONE && hops < 32) {
        const kgn_step *a = &p->steps[cur];
        const kgn_step *nx = &p->steps[a->via_step];
        if (a->recommended && cur == i) { cur = a->via_step; hops++; continue; }
        kgn_buf_printf(&b, "'%s' is %s '%s'%s", s->key[a->concept],
                       a->recommended ? "recommended before" : "a prerequisite of",
                       s->key[nx->concept], nx->is_goal ? " (goal)" : "");
        if (a->via_reason) kgn_buf_printf(&b, ": %s", a->via_reason);
        emit(ud, b.data);
        b.len = 0;
        cur = a->via_step;
        hops++;
    }
    if (st->kind == KGN_LEARN && st->minutes_default)
        emit(ud, "minutes unknown: default used");
    kgn_buf_free(&b);
}

static void emit_json(void *ud, const char *line)
{
    kgn_buf *b = ud;
    if (b->len && b->data[b->len - 1] != '[') kgn_buf_put(b, ",", 1);
    kgn_buf_json(b, line);
}

void kgn_plan_json_members(const kgn_plan *p, kgn_buf *b)
{
    const kgg_snap *s = p->snap;
    kgn_buf_puts(b, "\"kgpath_plan\":1,\"goals\":[");
    for (uint32_t i = 0; i < p->ngoals; i++) {
        if (i) kgn_buf_put(b, ",", 1);
        kgn_buf_json(b, s->key[p->goals[i]]);
    }
    kgn_buf_puts(b, "],\"known\":[");
    for (uint32_t i = 0; i < p->nknown; i++) {
        if (i) kgn_buf_put(b, ",", 1);
        kgn_buf_json(b, s->key[p->known[i]]);
    }
    kgn_buf_puts(b, "],\"steps\":[");
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        if (i) kgn_buf_put(b, ",", 1);
        kgn_buf_puts(b, "{\"concept\":");
        kgn_buf_json(b, s->key[st->concept]);
        kgn_buf_puts(b, ",\"title\":");
        kgn_buf_json(b, s->title[st->concept]);
        kgn_buf_printf(b, ",\"kind\":\"%s\",\"minutes\":%u,\"day\":",
                       st->kind == KGN_LEARN ? "learn" : "review", st->minutes);
        json_day(b, st->day);
        kgn_buf_puts(b, ",\"why\":[");
        kgn__why_lines(p, i, emit_json, b);
        kgn_buf_printf(b, "],\"goal\":%s,\"recommended\":%s,\"minutes_default\":%s,\"via\":",
                       st->is_goal ? "true" : "false", st->recommended ? "true" : "false",
                       st->minutes_default ? "true" : "false");
        kgn_buf_json(b, st->via != KGG_NONE ? s->key[st->via] : NULL);
        kgn_buf_puts(b, ",\"reason\":");
        kgn_buf_json(b, st->via_reason);
        kgn_buf_puts(b, ",\"serves\":[");
        for (uint32_t g = 0; g < st->ngoals; g++) {
            if (g) kgn_buf_put(b, ",", 1);
            kgn_buf_json(b, s->key[st->goals[g]]);
        }
        kgn_buf_put(b, "]", 1);
        if (st->kind != KGN_LEARN)
            kgn_buf_puts(b, st->kind == KGN_SPACED ? ",\"spaced\":true" : ",\"spaced\":false");
        if (st->note) { kgn_buf_puts(b, ",\"note\":"); kgn_buf_json(b, st->note); }
        if (st->nsessions) {
            kgn_buf_puts(b, ",\"sessions\":[");
            for (uint32_t q = 0; q < st->nsessions; q++) {
                kgn_buf_puts(b, q ? ",{\"day\":" : "{\"day\":");
                json_day(b, st->sessions[q].day);
                kgn_buf_printf(b, ",\"minutes\":%u}", st->sessions[q].minutes);
            }
            kgn_buf_put(b, "]", 1);
        }
        kgn_buf_put(b, "}", 1);
    }
    kgn_buf_printf(b, "],\"total_minutes\":%llu,", (unsigned long long)p->total_minutes);
    if (p->nmastered) {
        kgn_buf_puts(b, "\"mastered_goals\":[");
        for (uint32_t i = 0; i < p->nmastered; i++) {
            if (i) kgn_buf_put(b, ",", 1);
            kgn_buf_json(b, s->key[p->mastered[i]]);
        }
        kgn_buf_puts(b, "],");
    }
    kgn_buf_puts(b, "\"skipped_known\":[");
    for (uint32_t i = 0; i < p->nskipped; i++) {
        if (i) kgn_buf_put(b, ",", 1);
        kgn_buf_json(b, s->key[p->skipped[i]]);
    }
    kgn_buf_printf(b, "],\"exact\":%s,\"choices\":%u,\"budget_minutes\":",
                   p->exact ? "true" : "false", p->nchoices);
    if (p->budget_minutes > 0) kgn_buf_printf(b, "%.0f", p->budget_minutes);
    else kgn_buf_puts(b, "null");
    kgn_buf_puts(b, ",\"dropped_goals\":[");
    for (uint32_t i = 0; i < p->ndropped; i++) {
        kgn_buf_puts(b, i ? ",{\"concept\":" : "{\"concept\":");
        kgn_buf_json(b, s->key[p->dropped[i]]);
        kgn_buf_printf(b, ",\"minutes\":%llu}", (unsigned long long)p->dropped_minutes[i]);
    }
    kgn_buf_puts(b, "],\"calendar\":");
    if (!p->calendar) { kgn_buf_puts(b, "null"); return; }
    kgn_buf_puts(b, "{\"start\":");
    json_day(b, p->start_day);
    kgn_buf_puts(b, ",\"end\":");
    json_day(b, p->end_day);
    kgn_buf_printf(b, ",\"minutes_per_day\":%u,\"days_per_week\":%u,\"study_days\":%u,\"deadline\":",
                   p->minutes_per_day, p->days_per_week, p->study_days);
    json_day(b, p->deadline_day);
    if (p->deadline_day != KGN_NO_DAY)
        kgn_buf_printf(b, ",\"fits\":%s,\"overrun_days\":%d,\"overrun_minutes\":%llu",
                       p->fits ? "true" : "false", p->overrun_days,
                       (unsigned long long)p->overrun_minutes);
    kgn_buf_puts(b, ",\"days\":[");
    /* Sessions are in day order (the calendar fills days in step order). */
    int32_t cur = KGN_NO_DAY;
    int first_day = 1, first_item = 1;
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        for (uint32_t q = 0; q < st->nsessions; q++) {
            if (st->sessions[q].day != cur) {
                if (!first_day) kgn_buf_puts(b, "]}");
                kgn_buf_puts(b, first_day ? "{\"day\":" : ",{\"day\":");
                json_day(b, st->sessions[q].day);
                kgn_buf_puts(b, ",\"items\":[");
                cur = st->sessions[q].day;
                first_day = 0;
                first_item = 1;
            }
            kgn_buf_puts(b, first_item ? "{\"concept\":" : ",{\"concept\":");
            kgn_buf_json(b, s->key[st->concept]);
            kgn_buf_printf(b, ",\"kind\":\"%s\",\"minutes\":%u,\"part\":%u,\"parts\":%u}",
                           st->kind == KGN_LEARN ? "learn" : "review",
                           st->sessions[q].minutes, q + 1, st->nsessions);
            first_item = 0;
        }
    }
    if (!first_day) kgn_buf_puts(b, "]}");
    kgn_buf_puts(b, "]}");
}

static void emit_text(void *ud, const char *line)
{
    kgn_buf *b = ud;
    kgn_buf_printf(b, "       - %s\n", line);
}

static void text_minutes(kgn_buf *b, uint64_t m)
{
    if (m >= 60) kgn_buf_printf(b, "%llu h %02llu min", (unsigned long long)(m / 60), (unsigned long long)(m % 60));
    else kgn_buf_printf(b, "%llu min", (unsigned long long)m);
}

static void render_text(const kgn_plan *p, kgn_buf *b)
{
    const kgg_snap *s = p->snap;
    char d[16];
    kgn_buf_printf(b, "Study plan: %u goal%s, %u step%s, ", p->ngoals, p->ngoals == 1 ? "" : "s",
                   p->nsteps, p->nsteps == 1 ? "" : "s");
    text_minutes(b, p->total_minutes);
    kgn_buf_puts(b, "\n");
    for (uint32_t i = 0; i < p->ngoals; i++)
        kgn_buf_printf(b, "  goal: %s  %s\n", s->key[p->goals[i]], s->title[p->goals[i]]);
    for (uint32_t i = 0; i < p->nmastered; i++)
        kgn_buf_printf(b, "  goal already mastered: %s  %s\n", s->key[p->mastered[i]], s->title[p->mastered[i]]);
    if (p->nskipped) {
        kgn_buf_puts(b, "Skipped (known):");
        for (uint32_t i = 0; i < p->nskipped; i++)
            kgn_buf_printf(b, "%s %s", i ? "," : "", s->key[p->skipped[i]]);
        kgn_buf_puts(b, "\n");
    }
    if (p->nchoices)
        kgn_buf_printf(b, "Alternatives: %u k-of-n group%s decided, %s\n", p->nchoices,
                       p->nchoices == 1 ? "" : "s",
                       p->exact ? "least total time (exact)" : "best found within the search limit (greedy + partial search)");
    if (p->budget_minutes > 0) {
        kgn_buf_printf(b, "Budget %.0f min: %u goal%s fit", p->budget_minutes, p->ngoals, p->ngoals == 1 ? "" : "s");
        for (uint32_t i = 0; i < p->ndropped; i++)
            kgn_buf_printf(b, "%s %s (needs %llu min)", i ? "," : "; left out:", s->key[p->dropped[i]],
                           (unsigned long long)p->dropped_minutes[i]);
        kgn_buf_puts(b, "\n");
    }
    kgn_buf_puts(b, "\n");
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        kgn_buf_printf(b, "%3u. ", i + 1);
        if (p->calendar) {
            kgn_date_format(st->day, d);
            kgn_buf_printf(b, "%s  ", d);
        }
        kgn_buf_printf(b, "%4u min  %s %s  %s%s\n", st->minutes,
                       st->kind == KGN_LEARN ? "learn " : "review", s->key[st->concept],
                       s->title[st->concept], st->is_goal ? "  [goal]" : "");
        if (st->nsessions > 1) {
            kgn_buf_puts(b, "       - split:");
            for (uint32_t q = 0; q < st->nsessions; q++) {
                kgn_date_format(st->sessions[q].day, d);
                kgn_buf_printf(b, "%s %s %u min", q ? "," : "", d, st->sessions[q].minutes);
            }
            kgn_buf_puts(b, "\n");
        }
        kgn__why_lines(p, i, emit_text, b);
    }
    kgn_buf_puts(b, "\nTotal: ");
    text_minutes(b, p->total_minutes);
    kgn_buf_printf(b, " (%llu minutes)\n", (unsigned long long)p->total_minutes);
    if (p->calendar) {
        char e[16];
        kgn_date_format(p->start_day, d);
        kgn_date_format(p->end_day, e);
        kgn_buf_printf(b, "Calendar: %u min/day, %u day%s/week, %s to %s, %u study day%s\n",
                       p->minutes_per_day, p->days_per_week, p->days_per_week == 1 ? "" : "s",
                       d, e, p->study_days, p->study_days == 1 ? "" : "s");
        if (p->deadline_day != KGN_NO_DAY) {
            kgn_date_format(p->deadline_day, d);
            if (p->fits) kgn_buf_printf(b, "Deadline %s: fits (%d day%s to spare)\n", d,
                                        p->deadline_day - p->end_day,
                                        p->deadline_day - p->end_day == 1 ? "" : "s");
            else kgn_buf_printf(b, "Deadline %s: overruns by %d day%s (%llu min after the deadline)\n",
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

static void render_dot(const kgn_plan *p, kgn_buf *b)
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
    kgn_buf_puts(b, "digraph kgpath_plan {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n");
    for (uint32_t i = 0; i < p->nsteps; i++) {
        const kgn_step *st = &p->steps[i];
        if (st->kind != KGN_LEARN) continue;
        kgn_buf_puts(b, "  \"");
        kgn_buf_dot(b, s->key[st->concept]);
        kgn_buf_printf(b, "\" [label=\"%u. ", i + 1);
        kgn_buf_dot(b, s->title[st->concept]);
        kgn_buf_printf(b, "\\n%u min\"%s];\n", st->minutes,
                       st->is_goal ? ", penwidth=2.5, style=\"rounded,bold\"" : "");
    }
    for (uint32_t i = 0; i < p->nskipped; i++) {
        kgn_buf_puts(b, "  \"");
        kgn_buf_dot(b, s->key[p->skipped[i]]);
        kgn_buf_puts(b, "\" [label=\"");
        kgn_buf_dot(b, s->title[p->skipped[i]]);
        kgn_buf_puts(b, "\\nknown\", style=\"rounded,dashed\", color=gray50, fontcolor=gray40];\n");
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
                kgn_buf_puts(b, "  \"");
                kgn_buf_dot(b, s->key[m]);
                kgn_buf_puts(b, "\" -> \"");
                kgn_buf_dot(b, s->key[c]);
                kgn_buf_puts(b, "\"");
                const char *r = s->mem_reason && s->mem_reason[j] ? s->mem_reason[j]
                              : s->grp_reason ? s->grp_reason[g] : NULL;
                int attrs = 0;
                if (r) { kgn_buf_puts(b, " [tooltip=\""); kgn_buf_dot(b, r); kgn_buf_puts(b, "\""); attrs = 1; }
                if (s->grp_k[g] < s->mem_off[g + 1] - s->mem_off[g] || s->grp_n[g] > s->grp_k[g]) {
                    kgn_buf_printf(b, "%slabel=\"%u of %u\"", attrs ? ", " : " [", s->grp_k[g], s->grp_n[g]);
                    attrs = 1;
                }
                if (known) { kgn_buf_puts(b, attrs ? ", style=dashed" : " [style=dashed"); attrs = 1; }
                kgn_buf_puts(b, attrs ? "];\n" : ";\n");
            }
        if (s->rec_off)
            for (uint32_t j = s->rec_off[c]; j < s->rec_off[c + 1]; j++) {
                if (!kgn__has(mem, nm, s->rec[j])) continue;
                kgn_buf_puts(b, "  \"");
                kgn_buf_dot(b, s->key[s->rec[j]]);
                kgn_buf_puts(b, "\" -> \"");
                kgn_buf_dot(b, s->key[c]);
                kgn_buf_puts(b, "\" [style=dotted, label=\"recommended\"];\n");
            }
    }
    kgn_buf_puts(b, "}\n");
    kg_free(mem);
    kg_free(kn);
}

kgp_status kgn_plan_render(const kgn_plan *p, kgn_format fmt, kgn_buf *out)
{
    switch (fmt) {
    case KGN_TEXT: render_text(p, out); break;
    case KGN_JSON:
        kgn_buf_put(out, "{", 1);
        kgn_plan_json_members(p, out);
        kgn_buf_puts(out, "}\n");
        break;
    case KGN_DOT: render_dot(p, out); break;
    case KGN_HTML: kgn__render_html(p, out); break;
    default: return KGP_EUSAGE;
    }
    return out->oom ? KGP_ENOMEM : KGP_OK;
}
