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
 *  - Canvas course_settings/module_meta.xml: a module's <prerequisites> of
 *    type context_module are AND prerequisites between module concepts;
 *  - Canvas course_settings/learning_outcomes.xml: each outcome ("title:
 *    description") becomes a learning goal of every top-level module
 *    (outcomes belong to the whole course; modules are its top level).
 * Elements are matched by namespace URI; the CC version only changes the
 * URIs, so the manifest's own namespace is used for its elements.
 */
#include "importers/pkg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "graph/alloc.h"
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

static void append_text(kgg_course *c, size_t ki, const char *t)
{
    if (!t || !*t) return;
    kgg_concept *k = &c->concepts[ki];
    kgi_buf b = {0};
    kgi_buf_adds(&b, k->description);
    kgi_buf_join(&b, "\n", t);
    char *s = kgi_buf_take(&b);
    if (s) k->description = kgi_clip(c, s, 64 * 1024);
    kg_free(s);
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
        if (!r) continue;
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
            append_text(c, m->items[i].concept, title);
            kg_free(url);
        } else {
            append_text(c, m->items[i].concept, title);
            xmlNode *tx = kgi_xml_child(root, ns, "text");
            if (tx) {
                char *raw = kgi_xml_text(tx);
                char *plain = raw ? kgi_html_to_text(raw, strlen(raw)) : NULL;
                append_text(c, m->items[i].concept, plain);
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
    if (i >= 0) return i;
    for (size_t j = 0; j < m->nitems; j++) {
        if (!m->items[j].resource) continue;
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
        lom_relations_of(m, c, i, m->items[i].node);
        if (m->items[i].resource) lom_relations_of(m, c, i, m->items[i].resource);
    }
}

static void canvas_modules(kgi_manifest *m, kgg_course *c)
{
    char rel[1200], shown[1300];
    snprintf(rel, sizeof rel, "%s%scourse_settings/module_meta.xml", m->root, *m->root ? "/" : "");
    xmlDocPtr d = read_xml(m, c, rel, 0, 0, shown, sizeof shown);
    if (!d) return;
    xmlNode *root = xmlDocGetRootElement(d);
    for (xmlNode *mod = kgi_xml_child(root, CANVAS, "module"); mod; mod = kgi_xml_next(mod, CANVAS, "module")) {
        char *mid = kgi_xml_attr(mod, "identifier");
        long mi = mid ? kgi_manifest_item(m, mid) : -1;
        xmlNode *pre = kgi_xml_child(mod, CANVAS, "prerequisites");
        for (xmlNode *p = kgi_xml_child(pre, CANVAS, "prerequisite"); p; p = kgi_xml_next(p, CANVAS, "prerequisite")) {
            uint32_t line = (uint32_t)xmlGetLineNo(p);
            char *type = kgi_xml_attr(p, "type");
            xmlNode *ir = kgi_xml_child(p, CANVAS, "identifierref");
            char *ref = ir ? kgi_xml_text(ir) : NULL;
            if (type && strcmp(type, "context_module") != 0) {
                kgg_course_diag(c, KGG_WARNING, shown, line, 0, "module prerequisite of type \"%s\" ignored", type);
            } else if (mi < 0) {
                kgg_course_diag(c, KGG_WARNING, shown, line, 0,
                                "module \"%s\" is not an item of the manifest; its prerequisites are ignored",
                                mid ? mid : "?");
            } else {
                long ti = ref ? kgi_manifest_item(m, ref) : -1;
                if (ti < 0) kgg_course_diag(c, KGG_WARNING, shown, line, 0,
                                            "module prerequisite \"%s\" is not an item of the manifest; ignored",
                                            ref ? ref : "");
                else if (ti != mi)
                    kgg_concept_add_require(c, &c->concepts[m->items[mi].concept],
                                            c->concepts[m->items[ti].concept].id, "Canvas module prerequisite");
            }
            kg_free(type);
            kg_free(ref);
        }
        kg_free(mid);
    }
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
                if (m->items[i].parent < 0 && kgi_xml_child(m->items[i].node, m->cp_ns, "item"))
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
