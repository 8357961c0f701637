/* Self-contained HTML page of a plan: the plan's graph drawn with a layered
 * (Sugiyama-style) layout in inline SVG, and the day-by-day schedule.
 * No scripts, no external resources.
 *
 * Layout: a step's layer is 1 + the deepest layer among its prerequisites
 * in the plan (steps come in topological order, so one pass). An edge that
 * spans more than one layer gets a dummy node in every layer it passes
 * (the classic Sugiyama device): the dummy takes a thin slot of its own in
 * that layer's column, so the edge runs through free space there and is
 * never drawn across a box it does not connect. Within a layer, nodes and
 * dummies start in plan order and are reordered by barycentre sweeps (down
 * by prerequisites, up by dependents) to reduce crossings. Between two
 * columns an edge is a cubic curve that stays inside the gap between them
 * (no boxes there); inside a column it is a straight run through its dummy
 * slot. O((P + D) log (P + D) + E) for P steps, E plan edges and D dummies
 * (D <= E x layers). */
#include <stdlib.h>
#include <string.h>

#include "planner/render_internal.h"

#define COL_W 250
#define ROW_H 66
#define BOX_W 200
#define BOX_H 48
#define MARGIN 30
#define DUMMY_H 14              /* slot of an edge passing through a column */

typedef struct hnode { uint32_t concept, step, layer; double key; uint32_t pos; int dummy; int y; } hnode;
typedef struct hedge { uint32_t from, to; int rec; const char *reason; } hedge;
typedef struct cpair { uint32_t concept, node; } cpair;

static int cmp_pair(const void *a, const void *b)
{
    uint32_t x = ((const cpair *)a)->concept, y = ((const cpair *)b)->concept;
    return x < y ? -1 : x > y;
}

static long find_node(const cpair *v, uint32_t n, uint32_t c)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v[mid].concept == c) return v[mid].node;
        if (v[mid].concept < c) lo = mid + 1; else hi = mid;
    }
    return -1;
}

typedef struct srec { uint32_t layer; double key; uint32_t step, idx; } srec;

static int cmp_layer_key(const void *a, const void *b)
{
    const srec *x = a, *y = b;
    if (x->layer != y->layer) return x->layer < y->layer ? -1 : 1;
    if (x->key != y->key) return x->key < y->key ? -1 : 1;
    if (x->step != y->step) return x->step < y->step ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Text cut to at most max bytes on a UTF-8 boundary, with an ellipsis. */
static void put_cut(kg_buf *b, const char *s, size_t max)
{
    size_t n = strlen(s);
    if (n <= max) { kg_buf_xml(b, s); return; }
    while (max > 0 && ((unsigned char)s[max] & 0xC0) == 0x80) max--;
    char *t = kg_strndup(s, max);
    if (!t) { b->oom = 1; return; }
    kg_buf_xml(b, t);
    kg_buf_puts(b, "\xe2\x80\xa6");
    kg_free(t);
}

static const char *wday_name(int32_t day)
{
    static const char *names[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    return names[kgn_date_weekday(day) - 1];
}

/* Orders nodes within layers (sets pos and y) along the layer-to-layer
 * segments ed; *maxrow receives the height used by the tallest column.
 * Returns 0 or -1 (out of memory). */
static int layout(hnode *nd, uint32_t nn, const hedge *ed, uint32_t ne, uint32_t *maxrow)
{
    srec *ord = kg_malloc(((size_t)nn + 1) * sizeof *ord);
    double *sum = kg_calloc((size_t)nn + 1, sizeof *sum);
    uint32_t *cnt = kg_calloc((size_t)nn + 1, sizeof *cnt);
    if (!ord || !sum || !cnt) { kg_free(ord); kg_free(sum); kg_free(cnt); return -1; }
    for (uint32_t i = 0; i < nn; i++) nd[i].key = i;
    for (int sweep = 0; sweep < 4; sweep++) {
        for (uint32_t i = 0; i < nn; i++) ord[i] = (srec){nd[i].layer, nd[i].key, nd[i].step, i};
        qsort(ord, nn, sizeof *ord, cmp_layer_key);
        for (uint32_t i = 0, row = 0; i < nn; i++) {
            if (i > 0 && ord[i].layer != ord[i - 1].layer) row = 0;
            nd[ord[i].idx].pos = row++;
        }
        if (sweep == 3) break;
        memset(sum, 0, nn * sizeof *sum);
        memset(cnt, 0, nn * sizeof *cnt);
        int down = sweep % 2 == 0;
        for (uint32_t e = 0; e < ne; e++) {
            uint32_t a = down ? ed[e].to : ed[e].from, o = down ? ed[e].from : ed[e].to;
            sum[a] += nd[o].pos;
            cnt[a]++;
        }
        for (uint32_t i = 0; i < nn; i++)
            nd[i].key = cnt[i] ? sum[i] / cnt[i] : nd[i].pos;
    }
    /* ord is sorted by layer, then position: stack the slots. */
    *maxrow = 0;
    for (uint32_t i = 0, y = 0; i < nn; i++) {
        if (i > 0 && ord[i].layer != ord[i - 1].layer) y = 0;
        hnode *v = &nd[ord[i].idx];
        v->y = MARGIN + (int)y;
        y += v->dummy ? DUMMY_H : ROW_H;
        uint32_t bottom = v->dummy ? y : y - (ROW_H - BOX_H);
        if (bottom > *maxrow) *maxrow = bottom;
    }
    kg_free(ord);
    kg_free(sum);
    kg_free(cnt);
    return 0;
}

static void emit_li(void *ud, const char *line)
{
    kg_buf *b = ud;
    kg_buf_puts(b, "<li>");
    kg_buf_xml(b, line);
    kg_buf_puts(b, "</li>");
}

static void schedule_item(const kgn_plan *p, kg_buf *b, uint32_t i, uint32_t minutes,
                          uint32_t part, uint32_t parts)
{
    const kgg_snap *s = p->snap;
    const kgn_step *st = &p->steps[i];
    kg_buf_puts(b, "<li class=\"step ");
    kg_buf_puts(b, st->kind == KGN_LEARN ? "learn" : "review");
    if (st->is_goal) kg_buf_puts(b, " goal");
    kg_buf_puts(b, "\" data-concept=\"");
    kg_buf_xml(b, s->key[st->concept]);
    kg_buf_printf(b, "\"><span class=\"n\">%u.</span> ", i + 1);
    if (st->kind == KGN_REVIEW) kg_buf_puts(b, "<em>Review:</em> ");
    else if (st->kind == KGN_SPACED) kg_buf_puts(b, "<em>Spaced review:</em> ");
    kg_buf_puts(b, "<b>");
    kg_buf_xml(b, s->title[st->concept]);
    kg_buf_puts(b, "</b> <code>");
    kg_buf_xml(b, s->key[st->concept]);
    kg_buf_printf(b, "</code> <span class=\"min\">%u min", minutes);
    if (parts > 1) kg_buf_printf(b, " (part %u of %u)", part, parts);
    kg_buf_puts(b, "</span>");
    if (st->is_goal) kg_buf_puts(b, " <span class=\"tag\">goal</span>");
    if (part == 1) {
        kg_buf_puts(b, "<details><summary>why</summary><ul class=\"why\">");
        if (kgn__why_lines(p, i, emit_li, b)) b->oom = 1;
        kg_buf_puts(b, "</ul></details>");
    }
    kg_buf_puts(b, "</li>\n");
}

void kgn__render_html(const kgn_plan *p, kg_buf *b)
{
    const kgg_snap *s = p->snap;
    char d[16], e[16];
    /* Graph nodes: learn steps. */
    uint32_t nn = 0, ne = 0, nall = 0, nseg = 0;
    size_t cap_e = 0, cap_n = (size_t)p->nsteps + 1, cap_s = 0;
    hnode *nd = kg_calloc(cap_n, sizeof *nd);
    cpair *map = kg_malloc(((size_t)p->nsteps + 1) * sizeof *map);
    hedge *ed = NULL, *seg = NULL;
    uint32_t *chain_off = NULL;     /* edge q's dummies: chain_off[q] .. chain_off[q+1] in nd[] */
    if (!nd || !map) { kg_free(nd); kg_free(map); b->oom = 1; return; }
    for (uint32_t i = 0; i < p->nsteps; i++)
        if (p->steps[i].kind == KGN_LEARN) {
            nd[nn].concept = p->steps[i].concept;
            nd[nn].step = i;
            map[nn].concept = p->steps[i].concept;
            map[nn].node = nn;
            nn++;
        }
    qsort(map, nn, sizeof *map, cmp_pair);
    for (uint32_t v = 0; v < nn; v++) {
        uint32_t c = nd[v].concept;
        for (uint32_t g = s->grp_off[c]; g < s->grp_off[c + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                long u = find_node(map, nn, s->mem[j]);
                if (u < 0 || (uint32_t)u == v || nd[u].step > nd[v].step) continue;
                if (kg_grow(&ed, &cap_e, ne + 1, sizeof *ed)) { b->oom = 1; goto done; }
                const char *r = s->mem_reason && s->mem_reason[j] ? s->mem_reason[j]
                              : s->grp_reason ? s->grp_reason[g] : NULL;
                ed[ne++] = (hedge){(uint32_t)u, v, 0, r};
            }
        if (s->rec_off)
            for (uint32_t j = s->rec_off[c]; j < s->rec_off[c + 1]; j++) {
                long u = find_node(map, nn, s->rec[j]);
                if (u < 0 || nd[u].step > nd[v].step) continue;
                if (kg_grow(&ed, &cap_e, ne + 1, sizeof *ed)) { b->oom = 1; goto done; }
                ed[ne++] = (hedge){(uint32_t)u, v, 1, s->rec_reason ? s->rec_reason[j] : NULL};
            }
    }
    /* Layers: nodes are in plan (topological) order, edges point forward. */
    uint32_t nlayers = 0;
    /* One pass over edges grouped by target (edges were emitted per target
     * in node order, so each target's in-edges precede later targets). */
    for (uint32_t q = 0; q < ne; q++) {
        uint32_t lay = nd[ed[q].from].layer + 1;
        if (lay > nd[ed[q].to].layer) nd[ed[q].to].layer = lay;
    }
    for (uint32_t v = 0; v < nn; v++) if (nd[v].layer + 1 > nlayers) nlayers = nd[v].layer + 1;
    /* Dummies for edges spanning layers; seg holds layer-to-layer pieces.
     * Dummies of edge q are nd[chain_off[q] .. chain_off[q+1]), in order. */
    chain_off = kg_malloc(((size_t)ne + 1) * sizeof *chain_off);
    if (!chain_off) { b->oom = 1; goto done; }
    nall = nn;
    for (uint32_t q = 0; q < ne; q++) {
        chain_off[q] = nall;
        uint32_t prev = ed[q].from;
        for (uint32_t l = nd[ed[q].from].layer + 1; l <= nd[ed[q].to].layer; l++) {
            uint32_t next = ed[q].to;
            if (l < nd[ed[q].to].layer) {
                if (kg_grow(&nd, &cap_n, nall + 1, sizeof *nd)) { b->oom = 1; goto done; }
                nd[nall] = (hnode){.concept = nd[ed[q].to].concept, .step = nd[ed[q].to].step,
                                   .layer = l, .dummy = 1};
                next = nall++;
            }
            if (kg_grow(&seg, &cap_s, nseg + 1, sizeof *seg)) { b->oom = 1; goto done; }
            seg[nseg++] = (hedge){prev, next, 0, NULL};
            prev = next;
        }
    }
    chain_off[ne] = nall;
    uint32_t maxrow = 0;
    if (layout(nd, nall, seg, nseg, &maxrow) != 0) { b->oom = 1; goto done; }

    /* lang: the language of the (first) goal's course, so a browser picks
     * fonts for the script (Chinese text in a Chinese font, not Japanese). */
    const char *lang = p->ngoals && s->course_language ? s->course_language[s->course[p->goals[0]]] : NULL;
    kg_buf_puts(b, "<!DOCTYPE html>\n<html lang=\"");
    kg_buf_xml(b, lang && *lang ? lang : "en");
    kg_buf_puts(b, "\">\n<head>\n<meta charset=\"utf-8\">\n"
                    "<title>kgpath study plan</title>\n<style>\n"
                    "body{font-family:system-ui,sans-serif;margin:24px;color:#222}\n"
                    "h1{font-size:1.4em}h2{font-size:1.15em;margin-top:1.6em}\n"
                    ".summary td{padding:2px 12px 2px 0}\n"
                    ".graph{overflow:auto;border:1px solid #ddd;background:#fafafa}\n"
                    ".node rect{fill:#fff;stroke:#4a6fa5;stroke-width:1.5}\n"
                    ".node.goal rect{fill:#eef5ff;stroke:#1d3f73;stroke-width:3}\n"
                    ".node text{font-size:12px}.node .sub{fill:#666;font-size:11px}\n"
                    ".edge{fill:none;stroke:#8a9bb5;stroke-width:1.3}\n"
                    ".edge.rec{stroke-dasharray:4 3}\n"
                    ".day{border-left:4px solid #4a6fa5;padding:2px 12px;margin:10px 0}\n"
                    ".day h3{margin:4px 0;font-size:1em}\n"
                    "ol{margin:4px 0 4px 0;padding-left:0;list-style:none}\n"
                    "li.step{margin:3px 0}li.review{color:#7a4b00}\n"
                    ".min{color:#555}.tag{background:#1d3f73;color:#fff;border-radius:3px;padding:0 4px;font-size:.8em}\n"
                    "code{font-size:.85em;color:#555}\n"
                    "details{display:inline;margin-left:8px;color:#555;font-size:.9em}\n"
                    "ul.why{margin:2px 0 6px 18px;padding:0}\n"
                    "</style>\n</head>\n<body>\n<h1>Study plan</h1>\n<table class=\"summary\">\n");
    kg_buf_puts(b, "<tr><td>Goals</td><td>");
    for (uint32_t i = 0; i < p->ngoals; i++) {
        if (i) kg_buf_puts(b, ", ");
        kg_buf_xml(b, s->title[p->goals[i]]);
        kg_buf_puts(b, " <code>");
        kg_buf_xml(b, s->key[p->goals[i]]);
        kg_buf_puts(b, "</code>");
    }
    kg_buf_printf(b, "</td></tr>\n<tr><td>Steps</td><td id=\"nsteps\">%u</td></tr>\n"
                      "<tr><td>Total</td><td id=\"total\">%llu min</td></tr>\n",
                   p->nsteps, (unsigned long long)p->total_minutes);
    if (p->nskipped) {
        kg_buf_puts(b, "<tr><td>Skipped (known)</td><td>");
        for (uint32_t i = 0; i < p->nskipped; i++) {
            if (i) kg_buf_puts(b, ", ");
            kg_buf_xml(b, s->title[p->skipped[i]]);
        }
        kg_buf_puts(b, "</td></tr>\n");
    }
    if (p->calendar) {
        kgn_date_format(p->start_day, d);
        kgn_date_format(p->end_day, e);
        kg_buf_printf(b, "<tr><td>Calendar</td><td>%u min/day, %u days/week, %s to %s (%u study days)</td></tr>\n",
                       p->minutes_per_day, p->days_per_week, d, e, p->study_days);
        if (p->deadline_day != KGN_NO_DAY) {
            kgn_date_format(p->deadline_day, d);
            if (p->fits) kg_buf_printf(b, "<tr><td>Deadline</td><td>%s: fits</td></tr>\n", d);
            else kg_buf_printf(b, "<tr><td>Deadline</td><td>%s: overruns by %d days (%llu min)</td></tr>\n",
                                d, p->overrun_days, (unsigned long long)p->overrun_minutes);
        }
    }
    kg_buf_puts(b, "</table>\n<h2>Graph</h2>\n<div class=\"graph\">\n");
    unsigned W = MARGIN * 2 + (nlayers ? nlayers - 1 : 0) * COL_W + BOX_W;
    unsigned H = maxrow + MARGIN;
    kg_buf_printf(b, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%u\" height=\"%u\" viewBox=\"0 0 %u %u\" role=\"img\" aria-label=\"plan graph\">\n"
                      "<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0 L10,5 L0,10 z\" fill=\"#8a9bb5\"/></marker></defs>\n",
                   W, H, W, H);
    for (uint32_t q = 0; q < ne; q++) {
        const hnode *a = &nd[ed[q].from], *c = &nd[ed[q].to];
        kg_buf_printf(b, "<path class=\"edge%s\" data-from=\"", ed[q].rec ? " rec" : "");
        kg_buf_xml(b, s->key[a->concept]);
        kg_buf_puts(b, "\" data-to=\"");
        kg_buf_xml(b, s->key[c->concept]);
        /* Out of a's right side, through each dummy slot, into c's left. */
        int x1 = MARGIN + (int)a->layer * COL_W + BOX_W, y1 = a->y + BOX_H / 2;
        kg_buf_printf(b, "\" d=\"M%d,%d", x1, y1);
        for (uint32_t k = chain_off[q]; k <= chain_off[q + 1]; k++) {
            const hnode *t = k < chain_off[q + 1] ? &nd[k] : c;
            int x2 = MARGIN + (int)t->layer * COL_W, y2 = t->dummy ? t->y + DUMMY_H / 2 : t->y + BOX_H / 2;
            int mx = (x1 + x2) / 2;
            kg_buf_printf(b, " C%d,%d %d,%d %d,%d", mx, y1, mx, y2, x2, y2);
            if (t->dummy) { x1 = x2 + BOX_W; y1 = y2; kg_buf_printf(b, " L%d,%d", x1, y1); }
        }
        kg_buf_puts(b, "\" marker-end=\"url(#arrow)\">");
        if (ed[q].reason) { kg_buf_puts(b, "<title>"); kg_buf_xml(b, ed[q].reason); kg_buf_puts(b, "</title>"); }
        kg_buf_puts(b, "</path>\n");
    }
    for (uint32_t v = 0; v < nn; v++) {
        const kgn_step *st = &p->steps[nd[v].step];
        int x = MARGIN + (int)nd[v].layer * COL_W, y = nd[v].y;
        kg_buf_printf(b, "<g class=\"node%s\" data-concept=\"", st->is_goal ? " goal" : "");
        kg_buf_xml(b, s->key[st->concept]);
        kg_buf_printf(b, "\"><title>");
        kg_buf_xml(b, s->key[st->concept]);
        kg_buf_printf(b, "</title><rect x=\"%d\" y=\"%d\" width=\"%d\" height=\"%d\" rx=\"6\"/>"
                          "<text x=\"%d\" y=\"%d\">", x, y, BOX_W, BOX_H, x + 8, y + 19);
        put_cut(b, s->title[st->concept], 30);
        kg_buf_printf(b, "</text><text class=\"sub\" x=\"%d\" y=\"%d\">step %u \xc2\xb7 %u min</text></g>\n",
                       x + 8, y + 37, nd[v].step + 1, st->minutes);
    }
    kg_buf_puts(b, "</svg>\n</div>\n<h2>Schedule</h2>\n");
    if (!p->calendar) {
        kg_buf_puts(b, "<section class=\"day\" data-day=\"none\"><h3>All steps (no calendar)</h3><ol>\n");
        for (uint32_t i = 0; i < p->nsteps; i++) schedule_item(p, b, i, p->steps[i].minutes, 1, 1);
        kg_buf_puts(b, "</ol></section>\n");
    } else {
        int32_t cur = KGN_NO_DAY;
        for (uint32_t i = 0; i < p->nsteps; i++) {
            const kgn_step *st = &p->steps[i];
            for (uint32_t q = 0; q < st->nsessions; q++) {
                if (st->sessions[q].day != cur) {
                    if (cur != KGN_NO_DAY) kg_buf_puts(b, "</ol></section>\n");
                    cur = st->sessions[q].day;
                    /* Minutes of this day. */
                    uint32_t tot = 0;
                    for (uint32_t i2 = i; i2 < p->nsteps; i2++)
                        for (uint32_t q2 = 0; q2 < p->steps[i2].nsessions; q2++)
                            if (p->steps[i2].sessions[q2].day == cur) tot += p->steps[i2].sessions[q2].minutes;
                    kgn_date_format(cur, d);
                    kg_buf_printf(b, "<section class=\"day\" data-day=\"%s\"><h3>%s %s \xc2\xb7 %u min</h3><ol>\n",
                                   d, wday_name(cur), d, tot);
                }
                schedule_item(p, b, i, st->sessions[q].minutes, q + 1, st->nsessions);
            }
        }
        if (cur != KGN_NO_DAY) kg_buf_puts(b, "</ol></section>\n");
    }
    kg_buf_puts(b, "<p><small>Made by kgpath.</small></p>\n</body>\n</html>\n");
done:
    kg_free(nd);
    kg_free(map);
    kg_free(ed);
    kg_free(seg);
    kg_free(chain_off);
}
