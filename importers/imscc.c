/* IMS Common Cartridge 1.0–1.3 (and Thin CC) packages.
 *
 * Concepts, webcontent text, LOM time and the aggregation/course-order
 * edges come from the manifest (manifest.c). Then:
 *  - weblinks (imswl): the link becomes a resource of the item (kind
 *    "link") and its title joins the text; discussion topics (imsdt): the
 *    topic text joins the item's text;
 *  - LOM <relation> with kind "requires" (item requires the related item)
 *    or "isrequiredby" (the reverse), in item or resource metadata; the
 *    related identifier names an item, or a resource used by an item;
 *  - Canvas course_settings/module_meta.xml: module prerequisites, completion
 *    requirements and sequential progress, applied as Canvas does (see
 *    canvas_modules below);
 *  - Canvas course_settings/learning_outcomes.xml: each outcome ("title:
 *    description") becomes a learning goal of every top-level module
 *    (outcomes belong to the whole course; modules are its top level).
 * Elements are matched by namespace URI; the CC version only changes the
 * URIs, so the manifest's own namespace is used for its elements.
 */
#include "importers/pkg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "importers/html_text.h"
#include "importers/manifest.h"
#include "importers/xml_safe.h"

#define CANVAS "http://canvas.instructure.com/xsd/cccv1p0"

static xmlDocPtr read_xml(kgi_manifest *m, kgg_course *c, const char *rel, uint32_t line, int warn_missing,
                          char *shown, size_t shown_len)
{
    char *buf; size_t len; char err[1200];
    kgi_pkg_display(m->pkg, rel, shown, shown_len);
    int rc = warn_missing ? kgi_manifest_read(m, c, rel, line, &buf, &len)
                          : kgi_pkg_read(m->pkg, rel, &buf, &len, err, sizeof err);
    if (rc != 0) return NULL;
    xmlDocPtr d = kgi_xml_parse(buf, len, shown, NULL, err, sizeof err);
    if (!d) kgg_course_diag(c, KGG_WARNING, shown, 0, 0, "not well-formed XML (%s); ignored", err);
    kg_free(buf);
    return d;
}

static const char *res_type(xmlNode *r, char *buf, size_t n)
{
    char *t = kgi_xml_attr(r, "type");
    snprintf(buf, n, "%s", t ? t : "");
    kg_free(t);
    return buf;
}

/* Weblinks and discussions: their XML file holds the text. */
static void typed_resources(kgi_manifest *m, kgg_course *c)
{
    for (size_t i = 0; i < m->nitems; i++) {
        xmlNode *r = m->items[i].resource;
        if (!r || m->items[i].concept == KGI_NO_CONCEPT) continue;
        char type[128];
        res_type(r, type, sizeof type);
        int wl = strncmp(type, "imswl", 5) == 0, dt = strncmp(type, "imsdt", 5) == 0;
        if (!wl && !dt) continue;
        xmlNode *f = kgi_xml_child(r, m->cp_ns, "file");
        char *href = f ? kgi_xml_attr(f, "href") : NULL;
        if (!href) continue;
        char rel[1024], err[512], shown[1300];
        int rc = kgi_pkg_resolve(m->base, href, rel, sizeof rel, err, sizeof err);
        if (rc < 0) kgg_course_diag(c, KGG_ERROR, m->file, (uint32_t)xmlGetLineNo(f), 0, "%s", err);
        kg_free(href);
        if (rc != 0) continue;
        xmlDocPtr d = read_xml(m, c, rel, (uint32_t)xmlGetLineNo(f), 1, shown, sizeof shown);
        if (!d) continue;
        xmlNode *root = xmlDocGetRootElement(d);
        const char *ns = root && root->ns ? (const char *)root->ns->href : NULL;
        xmlNode *t = kgi_xml_child(root, ns, "title");
        char *title = t ? kgi_xml_text(t) : NULL;
        if (wl) {
            xmlNode *u = kgi_xml_child(root, ns, "url");
            char *url = u ? kgi_xml_attr(u, "href") : NULL;
            if (url) {
                kgg_resource *res = kgg_concept_add_resource(c, &c->concepts[m->items[i].concept]);
                if (res) {
                    res->title = kgg_course_str(c, title && *title ? title : url);
                    res->url = kgg_course_str(c, url);
                    res->kind = kgg_course_str(c, "link");
                }
            }
            kgi_concept_text(c, m->items[i].concept, title, 1);
            kg_free(url);
        } else {
            kgi_concept_text(c, m->items[i].concept, title, 1);
            xmlNode *tx = kgi_xml_child(root, ns, "text");
            if (tx) {
                char *raw = kgi_xml_text(tx);
                char *plain = raw ? kgi_html_to_text(raw, strlen(raw)) : NULL;
                kgi_concept_text(c, m->items[i].concept, plain, 1);
                kg_free(plain);
                kg_free(raw);
            }
        }
        kg_free(title);
        xmlFreeDoc(d);
    }
}

/* Item index for an identifier naming an item or a resource. */
static long item_for(kgi_manifest *m, const char *ident)
{
    long i = kgi_manifest_item(m, ident);
    if (i >= 0) return m->items[i].concept == KGI_NO_CONCEPT ? -1 : i;
    for (size_t j = 0; j < m->nitems; j++) {
        if (!m->items[j].resource || m->items[j].concept == KGI_NO_CONCEPT) continue;
        char *rid = kgi_xml_attr(m->items[j].resource, "identifier");
        int same = rid && strcmp(rid, ident) == 0;
        kg_free(rid);
        if (same) return (long)j;
    }
    return -1;
}

static void lom_relations_of(kgi_manifest *m, kgg_course *c, size_t self, xmlNode *owner)
{
    xmlNode *md = kgi_xml_child(owner, m->cp_ns, "metadata");
    xmlNode *lom = md ? kgi_xml_find_local(md, "lom") : NULL;
    for (xmlNode *r = lom ? lom->children : NULL; r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE || strcasecmp((const char *)r->name, "relation") != 0) continue;
        xmlNode *kind = kgi_xml_find_local(r, "kind");
        xmlNode *val = kind ? kgi_xml_find_local(kind, "value") : NULL;
        char *kv = kgi_xml_text(val ? val : kind);
        xmlNode *res = kgi_xml_find_local(r, "resource");
        xmlNode *ent = res ? kgi_xml_find_local(res, "entry") : NULL;
        if (!ent && res) ent = kgi_xml_find_local(res, "catalogentry");
        char *target = ent ? kgi_xml_text(ent) : NULL;
        uint32_t line = (uint32_t)xmlGetLineNo(r);
        int req = kv && strcasecmp(kv, "requires") == 0, rby = kv && strcasecmp(kv, "isrequiredby") == 0;
        if ((req || rby) && target && *target) {
            long t = item_for(m, target);
            if (t < 0 || (size_t)t == self) {
                kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                "LOM relation %s \"%s\" names no other item of the cartridge; ignored", kv, target);
            } else {
                size_t a = req ? self : (size_t)t, b = req ? (size_t)t : self;
                kgg_concept_add_require(c, &c->concepts[m->items[a].concept],
                                        c->concepts[m->items[b].concept].id, "LOM relation: requires");
            }
        } else if (kv && *kv && !req && !rby) {
            /* Other relation kinds (ispartof, references, …) are not prerequisites. */
        }
        kg_free(kv);
        kg_free(target);
    }
}

static void lom_relations(kgi_manifest *m, kgg_course *c)
{
    for (size_t i = 0; i < m->nitems; i++) {
        if (m->items[i].concept == KGI_NO_CONCEPT) continue;
        lom_relations_of(m, c, i, m->items[i].node);
        if (m->items[i].resource) lom_relations_of(m, c, i, m->items[i].resource);
    }
}

/* ---- Canvas modules (course_settings/module_meta.xml) ----------------------
 *
 * As Canvas applies them (instructure/canvas-lms context_module.rb,
 * context_module_progression.rb):
 *  - a module is locked until each of its prerequisite modules is
 *    *complete*, and every item of a locked module is locked: so each item
 *    (and the module concept) requires what completes each prerequisite;
 *  - a module is complete when its completion requirements are met (all of
 *    them, or one when requirement_count is 1); a module without
 *    requirements completes as soon as it unlocks, so as a prerequisite it
 *    stands for its own prerequisites (gating nothing by itself);
 *  - only prerequisites of type context_module count, and Canvas drops those
 *    not positioned before the gated module (so exports are acyclic);
 *  - require_sequential_progress: an item opens once every earlier item
 *    with a requirement is met, so it requires the nearest earlier one
 *    (items without requirements never block);
 *  - a requirement names the module *item* (its identifier), which is the
 *    manifest item of the same identifier (else, within the module, the one
 *    with the same title); sub-headers (no resource) are not concepts.
 */
#define MAX_MODS 4096

typedef struct cmod {
    char *ident;
    char *title;
    long item;              /* manifest item of the module, -1 none */
    long pos;               /* <position>, else document order */
    int sequential;
    int one_of;             /* requirement_count 1: "complete one of" */
    long *req; size_t nreq, capreq;        /* manifest items with a requirement */
    long *items; size_t nitems, capitems;  /* manifest items in module order (-1: not a concept) */
    int *has_req;                          /* parallel to items */
    char **pre; uint32_t *preline; size_t npre, cappre, cappreline;
} cmod;

static char *child_str(xmlNode *n, const char *name)
{
    xmlNode *x = kgi_xml_child(n, CANVAS, name);
    return x ? kgi_xml_text(x) : NULL;
}

/* Manifest item of a module item: same identifier, else a child of the
 * module's manifest item with the same title. */
static long module_item(kgi_manifest *m, long mod_item, const char *ident, const char *title)
{
    long i = ident ? kgi_manifest_item(m, ident) : -1;
    if (i >= 0) return i;
    for (size_t j = 0; title && mod_item >= 0 && j < m->nitems; j++) {
        if (m->items[j].parent != mod_item) continue;
        xmlNode *tn = kgi_xml_child(m->items[j].node, m->cp_ns, "title");
        char *t = tn ? kgi_xml_text(tn) : NULL;
        int same = t && strcmp(t, title) == 0;
        kg_free(t);
        if (same) return (long)j;
    }
    return -1;
}

static int push_long(long **v, size_t *n, size_t *cap, long x)
{
    if (kg_grow(v, cap, *n + 1, sizeof **v)) return -1;
    (*v)[(*n)++] = x;
    return 0;
}

static long find_mod(cmod *mods, size_t n, const char *ident)
{
    for (size_t i = 0; i < n; i++) if (mods[i].ident && strcmp(mods[i].ident, ident) == 0) return (long)i;
    return -1;
}

/* Adds to concept ki what makes module p complete (see above); depth
 * guards against malformed chains. */
static void require_complete(kgi_manifest *m, kgg_course *c, cmod *mods, size_t nmods, size_t ki,
                             size_t gated, size_t p, int depth)
{
    if (depth > 64) return;
    cmod *P = &mods[p];
    char reason[600];
    snprintf(reason, sizeof reason, "Canvas: module \"%.200s\" is locked until module \"%.200s\" is complete",
             mods[gated].title ? mods[gated].title : "?", P->title ? P->title : "?");
    size_t nreq = 0;
    for (size_t r = 0; r < P->nreq; r++) if (m->items[P->req[r]].concept != ki) nreq++;
    if (P->nreq == 0) {
        /* Completes on unlock: it stands for its own prerequisites. */
        for (size_t q = 0; q < P->npre; q++) {
            long pp = find_mod(mods, nmods, P->pre[q]);
            if (pp >= 0 && mods[pp].pos < P->pos) require_complete(m, c, mods, nmods, ki, gated, (size_t)pp, depth + 1);
        }
        return;
    }
    if (nreq == 0) return;
    if (P->one_of && P->nreq > 1) {
        kgg_group *g = kgg_concept_add_group(c, &c->concepts[ki], 1);
        if (!g) return;
        g->reason = kgg_course_str(c, reason);
        for (size_t r = 0; r < P->nreq; r++)
            if (m->items[P->req[r]].concept != ki)
                kgg_group_add_member(c, g, c->concepts[m->items[P->req[r]].concept].id, reason);
    } else {
        for (size_t r = 0; r < P->nreq; r++)
            if (m->items[P->req[r]].concept != ki)
                kgg_concept_add_require(c, &c->concepts[ki], c->concepts[m->items[P->req[r]].concept].id, reason);
    }
}

static void free_mod(cmod *x)
{
    kg_free(x->ident); kg_free(x->title);
    kg_free(x->req); kg_free(x->items); kg_free(x->has_req);
    for (size_t i = 0; i < x->npre; i++) kg_free(x->pre[i]);
    kg_free(x->pre); kg_free(x->preline);
}

static void canvas_modules(kgi_manifest *m, kgg_course *c)
{
    char rel[1200], shown[1300];
    snprintf(rel, sizeof rel, "%s%scourse_settings/module_meta.xml", m->root, *m->root ? "/" : "");
    xmlDocPtr d = read_xml(m, c, rel, 0, 0, shown, sizeof shown);
    if (!d) return;
    xmlNode *root = xmlDocGetRootElement(d);
    cmod *mods = NULL;
    size_t nmods = 0, capmods = 0;
    long order = 0;
    for (xmlNode *mod = kgi_xml_child(root, CANVAS, "module"); mod && nmods < MAX_MODS;
         mod = kgi_xml_next(mod, CANVAS, "module")) {
        if (kg_grow(&mods, &capmods, nmods + 1, sizeof *mods)) break;
        cmod *x = &mods[nmods++];
        memset(x, 0, sizeof *x);
        x->ident = kgi_xml_attr(mod, "identifier");
        x->title = child_str(mod, "title");
        x->item = x->ident ? kgi_manifest_item(m, x->ident) : -1;
        if (x->item >= 0 && m->items[x->item].concept == KGI_NO_CONCEPT) x->item = -1;
        char *v = child_str(mod, "position");
        x->pos = v && *v ? strtol(v, NULL, 10) : order;
        order++;
        kg_free(v);
        v = child_str(mod, "require_sequential_progress");
        x->sequential = v && strcmp(v, "true") == 0;
        kg_free(v);
        v = child_str(mod, "requirement_count");
        x->one_of = v && strcmp(v, "1") == 0;
        kg_free(v);
        if (!x->title && x->item >= 0) x->title = kg_strdup(c->concepts[m->items[x->item].concept].title);
        /* Items in module order. */
        xmlNode *items = kgi_xml_child(mod, CANVAS, "items");
        for (xmlNode *it = kgi_xml_child(items, CANVAS, "item"); it; it = kgi_xml_next(it, CANVAS, "item")) {
            char *iid = kgi_xml_attr(it, "identifier"), *ititle = child_str(it, "title");
            char *ws = child_str(it, "workflow_state");
            long mi = ws && strcmp(ws, "unpublished") == 0 ? -1 : module_item(m, x->item, iid, ititle);
            if (mi >= 0 && m->items[mi].concept == KGI_NO_CONCEPT) mi = -1;
            push_long(&x->items, &x->nitems, &x->capitems, mi);
            kg_free(iid); kg_free(ititle); kg_free(ws);
        }
        x->has_req = kg_calloc(x->nitems ? x->nitems : 1, sizeof *x->has_req);
        /* Completion requirements name module items. */
        xmlNode *crs = kgi_xml_child(mod, CANVAS, "completionRequirements");
        for (xmlNode *cr = kgi_xml_child(crs, CANVAS, "completionRequirement"); cr;
             cr = kgi_xml_next(cr, CANVAS, "completionRequirement")) {
            char *ref = child_str(cr, "identifierref");
            long at = -1;
            size_t k = 0;
            for (xmlNode *it = kgi_xml_child(items, CANVAS, "item"); ref && it; it = kgi_xml_next(it, CANVAS, "item"), k++) {
                char *iid = kgi_xml_attr(it, "identifier");
                if (iid && strcmp(iid, ref) == 0 && k < x->nitems) at = (long)k;
                kg_free(iid);
            }
            long mi = at >= 0 ? x->items[at] : (ref ? module_item(m, x->item, ref, NULL) : -1);
            if (mi >= 0 && m->items[mi].concept != KGI_NO_CONCEPT) {
                int dup = 0;
                for (size_t q = 0; q < x->nreq; q++) dup |= x->req[q] == mi;
                if (!dup) push_long(&x->req, &x->nreq, &x->capreq, mi);
                if (at >= 0 && x->has_req) x->has_req[at] = 1;
            } else if (ref && at < 0) {
                kgg_course_diag(c, KGG_WARNING, shown, (uint32_t)xmlGetLineNo(cr), 0,
                                "completion requirement names item \"%s\", which is not an item of the manifest; ignored",
                                ref);
            }
            kg_free(ref);
        }
        /* Prerequisites. */
        xmlNode *pre = kgi_xml_child(mod, CANVAS, "prerequisites");
        for (xmlNode *p = kgi_xml_child(pre, CANVAS, "prerequisite"); p; p = kgi_xml_next(p, CANVAS, "prerequisite")) {
            uint32_t line = (uint32_t)xmlGetLineNo(p);
            char *type = kgi_xml_attr(p, "type");
            char *ref = child_str(p, "identifierref");
            if (type && strcmp(type, "context_module") != 0) {
                kgg_course_diag(c, KGG_WARNING, shown, line, 0, "module prerequisite of type \"%s\" ignored", type);
            } else if (ref && *ref && !kg_grow(&x->pre, &x->cappre, x->npre + 1, sizeof *x->pre) &&
                       !kg_grow(&x->preline, &x->cappreline, x->npre + 1, sizeof *x->preline)) {
                x->preline[x->npre] = line;
                x->pre[x->npre++] = ref;
                ref = NULL;
            }
            kg_free(type);
            kg_free(ref);
        }
    }
    for (size_t i = 0; i < nmods; i++) {
        cmod *x = &mods[i];
        for (size_t q = 0; q < x->npre; q++) {
            long p = find_mod(mods, nmods, x->pre[q]);
            long ti = kgi_manifest_item(m, x->pre[q]);
            if (x->item < 0) {
                kgg_course_diag(c, KGG_WARNING, shown, x->preline[q], 0,
                                "module \"%s\" is not an item of the manifest; its prerequisites are ignored",
                                x->ident ? x->ident : "?");
                break;
            }
            if (p < 0 || ti < 0) {
                kgg_course_diag(c, KGG_WARNING, shown, x->preline[q], 0,
                                "module prerequisite \"%s\" is not a module of the course; ignored", x->pre[q]);
                continue;
            }
            if ((size_t)p == i) continue;
            if (mods[p].pos >= x->pos) {
                kgg_course_diag(c, KGG_WARNING, shown, x->preline[q], 0,
                                "module prerequisite \"%s\" is not positioned before module \"%s\"; "
                                "ignored (as Canvas does)", x->pre[q], x->ident);
                continue;
            }
            /* The module concept and every item of the module. */
            require_complete(m, c, mods, nmods, m->items[x->item].concept, i, (size_t)p, 0);
            for (size_t j = 0; j < m->nitems; j++)
                if (m->items[j].parent == x->item && m->items[j].concept != KGI_NO_CONCEPT)
                    require_complete(m, c, mods, nmods, m->items[j].concept, i, (size_t)p, 0);
        }
        if (x->sequential) {
            long last = -1;
            char reason[400];
            snprintf(reason, sizeof reason, "Canvas: module \"%.300s\" requires sequential progress",
                     x->title ? x->title : "?");
            for (size_t k = 0; k < x->nitems; k++) {
                long mi = x->items[k];
                if (mi < 0) continue;
                if (last >= 0 && last != mi)
                    kgg_concept_add_require(c, &c->concepts[m->items[mi].concept],
                                            c->concepts[m->items[last].concept].id, reason);
                if (x->has_req && x->has_req[k]) last = mi;
            }
        }
    }
    for (size_t i = 0; i < nmods; i++) free_mod(&mods[i]);
    kg_free(mods);
    xmlFreeDoc(d);
}

static void add_outcomes(kgi_manifest *m, kgg_course *c, xmlNode *n, int depth)
{
    for (xmlNode *x = n ? n->children : NULL; x && depth < 32; x = x->next) {
        if (kgi_xml_is(x, CANVAS, "learningOutcome")) {
            xmlNode *t = kgi_xml_child(x, CANVAS, "title");
            xmlNode *d = kgi_xml_child(x, CANVAS, "description");
            char *title = t ? kgi_xml_text(t) : NULL;
            char *raw = d ? kgi_xml_text(d) : NULL;
            char *desc = raw ? kgi_html_to_text(raw, strlen(raw)) : NULL;
            char goal[700];
            snprintf(goal, sizeof goal, "%s%s%.300s%s", title ? title : "", desc && *desc ? ": " : "",
                     desc ? desc : "", desc && strlen(desc) > 300 ? "…" : "");
            for (size_t i = 0; i < m->nitems; i++)
                if (m->items[i].parent < 0 && m->items[i].concept != KGI_NO_CONCEPT &&
                    kgi_xml_child(m->items[i].node, m->cp_ns, "item"))
                    kgg_concept_add_goal(c, &c->concepts[m->items[i].concept], goal);
            kg_free(title); kg_free(raw); kg_free(desc);
        } else if (x->type == XML_ELEMENT_NODE) {
            add_outcomes(m, c, x, depth + 1);
        }
    }
}

static void canvas_outcomes(kgi_manifest *m, kgg_course *c)
{
    char rel[1200], shown[1300];
    snprintf(rel, sizeof rel, "%s%scourse_settings/learning_outcomes.xml", m->root, *m->root ? "/" : "");
    xmlDocPtr d = read_xml(m, c, rel, 0, 0, shown, sizeof shown);
    if (!d) return;
    add_outcomes(m, c, xmlDocGetRootElement(d), 0);
    xmlFreeDoc(d);
}

kgg_course *kgi_imscc_import(kgi_pkg *p, const char *root, const kgi_options *opt)
{
    (void)opt;
    kgg_course *c = kgg_course_new();
    if (!c) return NULL;
    kgi_manifest m;
    if (kgi_manifest_load(&m, p, root, c, "imscc") == 0) {
        typed_resources(&m, c);
        lom_relations(&m, c);
        canvas_modules(&m, c);
        canvas_outcomes(&m, c);
        kgi_dedupe_edges(c);
    }
    kgi_manifest_done(&m);
    return c;
}
