/* Curriculum map (kgpath_map.h): a snapshot's graph, or the part selected
 * by course/unit/tag, laid out by Graphviz dot and rendered as SVG.
 *
 * The graph is built with cgraph calls (not dot text) so no name or title
 * needs dot quoting; only escString attributes (label, id) need their
 * backslashes doubled. Graphviz keeps global state and is not thread-safe
 * (man 3 cgraph), so every cgraph/gvc call runs under one mutex (one
 * context, the dot and core plugins only: see gv_context); Graphviz's
 * own error messages are captured there instead of going to stderr (the
 * library never prints).
 *
 * Cost: O(V + E) to select and build, then dot's layout (network simplex
 * ranking and crossing minimisation: super-linear; about 0.5 s for 1,000
 * concepts, see the service notes), then the SVG. */
#include "kgpath.h"
#include "api_internal.h"
#include "base/alloc.h"
#include "base/buf.h"
#include "graph/snapshot.h"
#include "planner/planner.h"

#include <dlfcn.h>
#include <graphviz/cgraph.h>
#include <graphviz/gvc.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAP_MAX_NODES 2000u
#define LABEL_COLS 22          /* wrap titles at about this many characters */

#ifndef KGP_GV_PLUGINDIR
#define KGP_GV_PLUGINDIR "/usr/lib/x86_64-linux-gnu/graphviz"
#endif

static pthread_mutex_t gv_lock = PTHREAD_MUTEX_INITIALIZER;
static char gv_msg[512];       /* Graphviz's last error, under gv_lock */
static GVC_t *gv_ctx;          /* the one context, made on first use (under gv_lock) */

/* A Graphviz context with only the dot layout and the core (SVG) renderer.
 * gvContext() would load every plugin of config6a, the Pango text layout
 * among them: text widths would then depend on the fonts installed (maps
 * differ between machines), and Graphviz 2.42's Pango font cache reads
 * freed memory once a second context is made (AddressSanitizer). Without
 * a text-layout plugin Graphviz estimates widths from its own metrics
 * tables: the same layout everywhere. (It counts bytes, so CJK labels get
 * roomier boxes than they need, never narrower.) One context serves the
 * process: it is reused, never freed. Falls back to gvContext() when the
 * two plugins cannot be loaded from KGP_GV_PLUGINDIR. */
static GVC_t *gv_context(void)
{
    static lt_symlist_t builtins[3];
    if (gv_ctx) return gv_ctx;
    void *dot = dlopen(KGP_GV_PLUGINDIR "/libgvplugin_dot_layout.so.6", RTLD_NOW | RTLD_LOCAL);
    void *core = dlopen(KGP_GV_PLUGINDIR "/libgvplugin_core.so.6", RTLD_NOW | RTLD_LOCAL);
    void *ds = dot ? dlsym(dot, "gvplugin_dot_layout_LTX_library") : NULL;
    void *cs = core ? dlsym(core, "gvplugin_core_LTX_library") : NULL;
    if (ds && cs) {
        builtins[0] = (lt_symlist_t){"gvplugin_dot_layout_LTX_library", ds};
        builtins[1] = (lt_symlist_t){"gvplugin_core_LTX_library", cs};
        builtins[2] = (lt_symlist_t){NULL, NULL};
        gv_ctx = gvContextPlugins(builtins, 0);
    } else {
        gv_ctx = gvContext();
    }
    return gv_ctx;
}

static int gv_error(char *msg)
{
    size_t n = strlen(gv_msg);
    if (n < sizeof gv_msg - 1) snprintf(gv_msg + n, sizeof gv_msg - n, "%s", msg);
    return 0;
}

/* b's text copied into a (b freed); NULL when either ran out of memory. */
static char *in_arena(kg_arena *a, kg_buf *b)
{
    char *o = b->oom ? NULL : kg_arena_strdup(a, b->data ? b->data : "");
    kg_buf_free(b);
    return o;
}

/* A Graphviz string attribute set through cgraph (kg_buf_gv: mode
 * KG_GV_LABEL, KG_GV_TOOLTIP or KG_GV_ID) that Graphviz shows or writes as
 * s is; NULL when out of memory. */
static char *gv_text(kg_arena *a, const char *s, int mode)
{
    kg_buf b = {0};
    kg_buf_gv(&b, s, mode);
    return in_arena(a, &b);
}

/* Title wrapped into lines of about LABEL_COLS characters (code points),
 * breaking at spaces when there are any (CJK text has none: it breaks
 * anywhere), at most 3 lines, then the minutes. */
static char *label_of(kg_arena *a, const char *title, double minutes)
{
    kg_buf b = {0};
    const unsigned char *p = (const unsigned char *)title;
    int lines = 1;
    while (*p) {
        /* one line: up to LABEL_COLS code points, last space as break */
        const unsigned char *start = p, *brk = NULL, *end = p;
        int cols = 0;
        while (*end && cols < LABEL_COLS) {
            if (*end == ' ') brk = end;
            end++;
            while ((*end & 0xC0) == 0x80) end++;
            cols++;
        }
        if (*end && brk && brk > start && *end != ' ') end = brk;
        /* each line escaped by itself: the breaks between are escapes */
        kg_buf_gv_n(&b, (const char *)start, (size_t)(end - start), KG_GV_LABEL);
        if (lines == 3 && *end) {
            kg_buf_puts(&b, "\xe2\x80\xa6");   /* last line: cut with an ellipsis */
            break;
        }
        p = end;
        while (*p == ' ') p++;
        if (*p) { kg_buf_puts(&b, "\\n"); lines++; }
    }
    if (minutes >= 0) kg_buf_printf(&b, "\\n%.0f min", minutes);
    return in_arena(a, &b);
}

typedef struct pair { uint32_t a, b; } pair;

static int cmp_pair(const void *x, const void *y)
{
    const pair *p = x, *q = y;
    if (p->a != q->a) return p->a < q->a ? -1 : 1;
    return p->b < q->b ? -1 : p->b > q->b;
}

/* What check found, per concept and per edge. */
enum { F_CYCLE = 1, F_BOTTLENECK = 2, F_UNREACHABLE = 4, F_ORPHAN = 8 };

typedef struct mapctx {
    const kgg_snap *g;
    kg_arena *a;
    uint8_t *flag;              /* [n] F_* */
    uint32_t *cycle_id;         /* [n] 1 + index of its cycle, 0 none */
    pair *redundant; size_t nredundant;   /* sorted (from, to) */
    Agraph_t *root;
    Agnode_t **node;            /* [n] NULL when not drawn */
} mapctx;

static int is_redundant(const mapctx *m, uint32_t from, uint32_t to)
{
    pair k = {from, to};
    return m->nredundant && bsearch(&k, m->redundant, m->nredundant, sizeof k, cmp_pair) != NULL;
}

static void set(void *obj, const char *name, const char *value)
{
    agsafeset(obj, (char *)name, (char *)value, "");
}

static Agedge_t *add_edge(mapctx *m, Agnode_t *t, Agnode_t *h, const char *id, const char *cls)
{
    Agedge_t *e = agedge(m->root, t, h, NULL, 1);
    if (!e) return NULL;
    set(e, "id", gv_text(m->a, id, KG_GV_ID));
    set(e, "class", cls);
    return e;
}

static kgp_status findings(mapctx *m, const kgn_check *c)
{
    const kgg_snap *g = m->g;
    m->cycle_id = kg_arena_calloc(m->a, (size_t)g->n * sizeof *m->cycle_id + 1);
    if (!m->cycle_id) return KGP_ENOMEM;
    if (!c) return KGP_OK;
    for (uint32_t k = 0; k < c->ncycles; k++)
        for (uint32_t j = c->cycle_off[k]; j < c->cycle_off[k + 1]; j++) {
            m->flag[c->cycles[j]] |= F_CYCLE;
            m->cycle_id[c->cycles[j]] = k + 1;
        }
    for (uint32_t k = 0; k < c->nbottlenecks; k++) m->flag[c->bottlenecks[k]] |= F_BOTTLENECK;
    for (uint32_t k = 0; k < c->nunreachable; k++) m->flag[c->unreachable[k]] |= F_UNREACHABLE;
    for (uint32_t k = 0; k < c->norphans; k++) m->flag[c->orphans[k]] |= F_ORPHAN;
    if (c->nredundant) {
        m->redundant = kg_arena_alloc(m->a, c->nredundant * sizeof *m->redundant);
        if (!m->redundant) return KGP_ENOMEM;
        for (uint32_t k = 0; k < c->nredundant; k++)
            m->redundant[k] = (pair){c->redundant[k].from, c->redundant[k].to};
        m->nredundant = c->nredundant;
        qsort(m->redundant, m->nredundant, sizeof *m->redundant, cmp_pair);
    }
    return KGP_OK;
}

static int has_tag(const kgg_snap *g, uint32_t i, const char *tag, kg_arena *a)
{
    kgg_text t;
    if (kgg_snap_concept_text(g, i, a, &t)) return 0;
    for (size_t k = 0; k < t.ntags; k++) if (!strcmp(t.tags[k], tag)) return 1;
    return 0;
}

static const char *unit_id_of(const kgg_snap *g, uint32_t i)
{
    if (g->unit[i] < 0) return NULL;
    return g->unit_id[g->unit_off[g->course[i]] + (uint32_t)g->unit[i]];
}

/* Graph attributes shared by every map. */
static void style_graph(Agraph_t *root, const char *rankdir)
{
    agattr(root, AGRAPH, "rankdir", (char *)rankdir);
    agattr(root, AGRAPH, "splines", "true");
    agattr(root, AGRAPH, "nodesep", "0.25");
    agattr(root, AGRAPH, "ranksep", "0.45");
    agattr(root, AGRAPH, "fontname", "sans-serif");
    agattr(root, AGRAPH, "fontsize", "12");
    agattr(root, AGRAPH, "bgcolor", "transparent");
    agattr(root, AGRAPH, "label", "");
    agattr(root, AGRAPH, "id", "");
    agattr(root, AGRAPH, "class", "");
    agattr(root, AGRAPH, "style", "rounded");
    agattr(root, AGRAPH, "color", "#c9d3e0");
    agattr(root, AGRAPH, "fontcolor", "#44546a");
    agattr(root, AGNODE, "shape", "box");
    agattr(root, AGNODE, "style", "rounded,filled");
    agattr(root, AGNODE, "fillcolor", "#ffffff");
    agattr(root, AGNODE, "color", "#4a6fa5");
    agattr(root, AGNODE, "fontname", "sans-serif");
    agattr(root, AGNODE, "fontsize", "11");
    agattr(root, AGNODE, "margin", "0.12,0.05");
    agattr(root, AGNODE, "penwidth", "1.2");
    agattr(root, AGNODE, "label", "\\N");
    agattr(root, AGNODE, "id", "");
    agattr(root, AGNODE, "class", "");
    agattr(root, AGNODE, "width", "0.75");
    agattr(root, AGNODE, "height", "0.5");
    agattr(root, AGNODE, "fontcolor", "#222222");
    agattr(root, AGEDGE, "color", "#8a9bb5");
    agattr(root, AGEDGE, "arrowsize", "0.7");
    agattr(root, AGEDGE, "penwidth", "1.1");
    agattr(root, AGEDGE, "style", "solid");
    agattr(root, AGEDGE, "id", "");
    agattr(root, AGEDGE, "class", "");
    agattr(root, AGEDGE, "tooltip", "");
}

/* Builds the cgraph graph of the selection (sel[i] 1 selected, 2 external). */
static kgp_status build(mapctx *m, const uint8_t *sel, int clusters, int by_unit)
{
    const kgg_snap *g = m->g;
    kg_arena *a = m->a;
    /* Frames: one subgraph per course (or per unit of the course). */
    Agraph_t **frame = NULL;
    uint32_t nframes = by_unit ? g->unit_off[g->ncourses] : g->ncourses;
    if (clusters) {
        frame = kg_arena_calloc(a, ((size_t)nframes + 1) * sizeof *frame);
        if (!frame) return KGP_ENOMEM;
    }
    for (uint32_t i = 0; i < g->n; i++) {
        if (!sel[i]) continue;
        Agraph_t *parent = m->root;
        if (clusters && sel[i] == 1) {
            uint32_t f = g->course[i];
            int ok = 1;
            if (by_unit) {
                if (g->unit[i] < 0) ok = 0;
                else f = g->unit_off[g->course[i]] + (uint32_t)g->unit[i];
            }
            if (ok) {
                if (!frame[f]) {
                    char *nm = kg_arena_printf(a, "cluster_%u", f);
                    frame[f] = agsubg(m->root, nm, 1);
                    if (!frame[f]) return KGP_EINTERNAL;
                    const char *id, *title;
                    char *fid;
                    if (by_unit) {
                        id = g->unit_id[f];
                        title = g->unit_title[f] ? g->unit_title[f] : id;
                        fid = kg_arena_printf(a, "unit:%s/%s", g->course_id[g->course[i]], id);
                    } else {
                        id = g->course_id[f];
                        title = g->course_title[f] ? g->course_title[f] : id;
                        fid = kg_arena_printf(a, "course:%s", id);
                    }
                    set(frame[f], "label", gv_text(a, title, KG_GV_LABEL));
                    set(frame[f], "id", gv_text(a, fid, KG_GV_ID));
                    set(frame[f], "class", by_unit ? "unit" : "course");
                }
                parent = frame[f];
            }
        }
        Agnode_t *n = agnode(parent, (char *)g->key[i], 1);
        if (!n) return KGP_EINTERNAL;
        m->node[i] = n;
        char cls[96] = "concept";
        if (sel[i] == 2) strcat(cls, " external");
        if (m->flag[i] & F_CYCLE) strcat(cls, " cycle");
        if (m->flag[i] & F_BOTTLENECK) strcat(cls, " bottleneck");
        if (m->flag[i] & F_UNREACHABLE) strcat(cls, " unreachable");
        if (m->flag[i] & F_ORPHAN) strcat(cls, " orphan");
        set(n, "id", gv_text(a, kg_arena_printf(a, "c:%s", g->key[i]), KG_GV_ID));
        set(n, "class", cls);
        set(n, "label", label_of(a, g->title[i], sel[i] == 2 ? -1 : g->minutes[i]));
        if (sel[i] == 2) { set(n, "style", "rounded,dashed"); set(n, "color", "#98a2b3"); set(n, "fontcolor", "#667085"); }
        if (m->flag[i] & F_UNREACHABLE) set(n, "fillcolor", "#fde8e8");
        if (m->flag[i] & F_BOTTLENECK) { set(n, "fillcolor", "#fff3c4"); set(n, "penwidth", "2.4"); set(n, "color", "#b7791f"); }
        if (m->flag[i] & F_CYCLE) { set(n, "color", "#c53030"); set(n, "penwidth", "2.4"); }
    }
    /* Requirements: all-of groups as plain arrows, k-of-n through a junction. */
    for (uint32_t c = 0; c < g->n; c++) {
        if (sel[c] != 1) continue;
        for (uint32_t q = g->grp_off[c], gi = 0; q < g->grp_off[c + 1]; q++, gi++) {
            uint32_t res = g->mem_off[q + 1] - g->mem_off[q];
            uint32_t n = g->grp_n ? g->grp_n[q] : res;
            if (res == 0) continue;
            int all_of = g->grp_k[q] >= n;
            Agnode_t *into = m->node[c];
            const char *gid = NULL;
            if (!all_of) {
                gid = kg_arena_printf(a, "g:%s#%u", g->key[c], gi);
                Agnode_t *j = agnode(m->root, (char *)gid, 1);
                if (!j) return KGP_EINTERNAL;
                set(j, "id", gv_text(a, gid, KG_GV_ID));
                set(j, "class", "group");
                set(j, "shape", "circle");
                set(j, "style", "filled");
                set(j, "fillcolor", "#eef2f7");
                set(j, "fontsize", "9");
                set(j, "margin", "0.02");
                set(j, "width", "0.3");
                set(j, "height", "0.3");
                set(j, "label", kg_arena_printf(a, "%u of %u", g->grp_k[q], n));
                Agedge_t *e = add_edge(m, j, m->node[c], kg_arena_printf(a, "e:%s>%s", gid, g->key[c]), "req group");
                if (!e) return KGP_EINTERNAL;
                if (g->grp_reason && g->grp_reason[q]) set(e, "tooltip", gv_text(a, g->grp_reason[q], KG_GV_TOOLTIP));
                into = j;
            }
            for (uint32_t k = g->mem_off[q]; k < g->mem_off[q + 1]; k++) {
                uint32_t u = g->mem[k];
                if (!m->node[u]) continue;
                int cyc = m->cycle_id[u] && m->cycle_id[u] == m->cycle_id[c];
                int red = all_of && is_redundant(m, u, c);
                char cls[64] = "req";
                if (cyc) strcat(cls, " cycle");
                if (red) strcat(cls, " redundant");
                const char *id = all_of ? kg_arena_printf(a, "e:%s>%s", g->key[u], g->key[c])
                                        : kg_arena_printf(a, "e:%s>%s", g->key[u], gid);
                Agedge_t *e = add_edge(m, m->node[u], into, id, cls);
                if (!e) return KGP_EINTERNAL;
                const char *why = g->mem_reason && g->mem_reason[k] ? g->mem_reason[k]
                                : all_of && g->grp_reason ? g->grp_reason[q] : NULL;
                if (why) set(e, "tooltip", gv_text(a, why, KG_GV_TOOLTIP));
                if (red) { set(e, "color", "#dd6b20"); set(e, "style", "dashed"); set(e, "penwidth", "1.8"); }
                if (cyc) { set(e, "color", "#c53030"); set(e, "penwidth", "2.2"); }
            }
        }
        if (g->rec_off)
            for (uint32_t k = g->rec_off[c]; k < g->rec_off[c + 1]; k++) {
                uint32_t u = g->rec[k];
                if (!m->node[u]) continue;
                Agedge_t *e = add_edge(m, m->node[u], m->node[c],
                                       kg_arena_printf(a, "e:%s>%s~", g->key[u], g->key[c]), "rec");
                if (!e) return KGP_EINTERNAL;
                set(e, "style", "dashed");
                set(e, "color", "#a0aec0");
                if (g->rec_reason && g->rec_reason[k]) set(e, "tooltip", gv_text(a, g->rec_reason[k], KG_GV_TOOLTIP));
            }
    }
    return KGP_OK;
}

kgp_status kgp_map_svg(kgp_snap *s, const kgp_map_options *opt, char **svg, size_t *len)
{
    static const kgp_map_options none = {0};
    if (!opt) opt = &none;
    *svg = NULL;
    if (len) *len = 0;
    const kgg_snap *g = kgp__snap_graph(s);
    const char *rankdir = opt->rankdir ? opt->rankdir : "LR";
    if (strcmp(rankdir, "LR") && strcmp(rankdir, "TB") && strcmp(rankdir, "RL") && strcmp(rankdir, "BT"))
        return kgp__snap_error(s, KGP_EUSAGE, "unknown map direction '%s' (LR, TB, RL or BT)", rankdir);
    uint32_t course = KGP_NONE;
    if (opt->course) {
        for (uint32_t c = 0; c < g->ncourses; c++) if (!strcmp(g->course_id[c], opt->course)) course = c;
        if (course == KGP_NONE) return kgp__snap_error(s, KGP_ENOTFOUND, "no course '%s'", opt->course);
    }
    mapctx m = {.g = g, .a = kg_arena_new()};
    uint8_t *sel = m.a ? kg_arena_calloc(m.a, (size_t)g->n + 1) : NULL;
    m.flag = m.a ? kg_arena_calloc(m.a, (size_t)g->n + 1) : NULL;
    m.node = m.a ? kg_arena_calloc(m.a, ((size_t)g->n + 1) * sizeof *m.node) : NULL;
    kg_arena *tags = kg_arena_new();
    kgp_status st = KGP_OK;
    if (!sel || !m.flag || !m.node || !tags) { st = KGP_ENOMEM; goto out; }
    uint32_t nsel = 0;
    for (uint32_t i = 0; i < g->n; i++) {
        if (course != KGP_NONE && g->course[i] != course) continue;
        if (opt->unit) { const char *u = unit_id_of(g, i); if (!u || strcmp(u, opt->unit)) continue; }
        if (opt->tag && !has_tag(g, i, opt->tag, tags)) continue;
        sel[i] = 1;
        nsel++;
    }
    uint32_t max = opt->max_nodes ? opt->max_nodes : MAP_MAX_NODES;
    if (nsel > max) {
        st = kgp__snap_error(s, KGP_EUSAGE, "%u concepts are too many for one map (at most %u): "
                             "choose a course, unit or tag", nsel, max);
        goto out;
    }
    /* Prerequisites outside the selection, drawn as external. */
    for (uint32_t c = 0; c < g->n; c++) {
        if (sel[c] != 1) continue;
        for (uint32_t k = g->mem_off[g->grp_off[c]]; k < g->mem_off[g->grp_off[c + 1]]; k++)
            if (!sel[g->mem[k]]) sel[g->mem[k]] = 2;
        if (g->rec_off)
            for (uint32_t k = g->rec_off[c]; k < g->rec_off[c + 1]; k++)
                if (!sel[g->rec[k]]) sel[g->rec[k]] = 2;
    }
    if ((st = findings(&m, opt->check ? kgp__check_result(opt->check) : NULL)) != KGP_OK) goto out;

    pthread_mutex_lock(&gv_lock);
    gv_msg[0] = 0;
    agusererrf old = agseterrf(gv_error);
    agerrlevel_t oldlevel = agseterr(AGERR);
    GVC_t *gvc = gv_context();
    m.root = gvc ? agopen("map", Agdirected, NULL) : NULL;
    char *buf = NULL;
    unsigned int blen = 0;
    if (!m.root) st = KGP_EINTERNAL;
    else {
        style_graph(m.root, rankdir);
        int one_course = course != KGP_NONE || g->ncourses == 1;
        st = build(&m, sel, !opt->no_clusters, one_course);
        if (st == KGP_OK && opt->built) opt->built(opt->built_ud);   /* no more reads of g */
        if (st == KGP_OK && gvLayout(gvc, m.root, "dot") != 0) st = KGP_EINTERNAL;
        else if (st == KGP_OK) {
            if (gvRenderData(gvc, m.root, "svg", &buf, &blen) != 0) st = KGP_EINTERNAL;
            gvFreeLayout(gvc, m.root);
        }
    }
    if (st == KGP_OK) {
        *svg = kg_malloc((size_t)blen + 1);
        if (!*svg) st = KGP_ENOMEM;
        else { memcpy(*svg, buf, blen); (*svg)[blen] = 0; if (len) *len = blen; }
    }
    if (buf) gvFreeRenderData(buf);
    if (m.root) agclose(m.root);
    agseterrf(old);
    agseterr(oldlevel);
    char msg[sizeof gv_msg];
    memcpy(msg, gv_msg, sizeof msg);
    pthread_mutex_unlock(&gv_lock);
    if (st == KGP_EINTERNAL)
        kgp__snap_error(s, st, "Graphviz could not lay out the map%s%s", msg[0] ? ": " : "", msg);
    else if (st == KGP_ENOMEM)
        kgp__snap_error(s, st, "out of memory");
out:
    if (st == KGP_ENOMEM && !*svg) kgp__snap_error(s, st, "out of memory");
    kg_arena_free(m.a);
    kg_arena_free(tags);
    return st;
}

void kgp_map_free(char *svg) { kg_free(svg); }
