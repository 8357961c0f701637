/* IMS Content Packaging manifests shared by SCORM and Common Cartridge
 * (see manifest.h). */
#include "importers/manifest.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "importers/html_text.h"
#include "importers/xml_safe.h"

#define ADLCP12 "http://www.adlnet.org/xsd/adlcp_rootv1p2"
#define ADLCP13 "http://www.adlnet.org/xsd/adlcp_v1p3"
#define IMSSS   "http://www.imsglobal.org/xsd/imsss"
#define MAX_TEXT (64 * 1024)        /* bytes of text kept per concept */
#define MAX_FILES_PER_ITEM 24

char *kgi_xml_base(const xmlNode *n)
{
    xmlChar *v = xmlGetNsProp(n, (const xmlChar *)"base", XML_XML_NAMESPACE);
    if (!v) return NULL;
    char *r = kg_strdup((const char *)v);
    xmlFree(v);
    return r;
}

xmlNode *kgi_xml_find_local(xmlNode *n, const char *name)
{
    for (xmlNode *c = n ? n->children : NULL; c; c = c->next) {
        if (c->type != XML_ELEMENT_NODE) continue;
        if (strcasecmp((const char *)c->name, name) == 0) return c;
        xmlNode *d = kgi_xml_find_local(c, name);
        if (d) return d;
    }
    return NULL;
}

double kgi_lom_minutes(xmlNode *lom)
{
    xmlNode *t = kgi_xml_find_local(lom, "typicalLearningTime");
    if (!t) return -1;
    xmlNode *v = kgi_xml_find_local(t, "duration");
    if (!v) v = kgi_xml_find_local(t, "datetime");
    char *s = kgi_xml_text(v ? v : t);
    double m = kgi_parse_duration(s);
    kg_free(s);
    return m;
}

char *kgi_lom_description(xmlNode *lom)
{
    xmlNode *g = kgi_xml_find_local(lom, "general");
    xmlNode *d = kgi_xml_find_local(g ? g : lom, "description");
    if (!d) return NULL;
    char *s = kgi_xml_text(d);
    if (s && !*s) { kg_free(s); return NULL; }
    return s;
}

static int is_adlcp(const xmlNode *n, const char *name)
{
    return kgi_xml_is(n, ADLCP12, name) || kgi_xml_is(n, ADLCP13, name);
}

long kgi_manifest_item(const kgi_manifest *m, const char *ident)
{
    for (size_t i = 0; i < m->nitems; i++)
        if (m->items[i].ident && strcmp(m->items[i].ident, ident) == 0) return (long)i;
    return -1;
}

int kgi_manifest_read(kgi_manifest *m, kgg_course *c, const char *rel, uint32_t line,
                      char **buf, size_t *len)
{
    char err[1200];
    int rc = kgi_pkg_read(m->pkg, rel, buf, len, err, sizeof err);
    if (rc == 0) return 0;
    for (size_t i = 0; i < m->nwarned; i++) if (strcmp(m->warned[i], rel) == 0) return rc;
    if (!kg_grow(&m->warned, &m->capwarned, m->nwarned + 1, sizeof *m->warned) &&
        (m->warned[m->nwarned] = kg_strdup(rel))) m->nwarned++;
    if (rc == 1) kgg_course_diag(c, KGG_WARNING, m->file, line, 0, "referenced file is missing: %s", err);
    else if (rc < 0) kgg_course_diag(c, KGG_WARNING, m->file, line, 0, "%s", err);
    return rc;
}

/* Resolves ref against base with a diagnostic on failure. 0 ok, 1 external
 * URL, -1 refused (error recorded). */
static int resolve(kgi_manifest *m, kgg_course *c, const char *base, const char *ref,
                   uint32_t line, char *out, size_t outlen)
{
    char err[512];
    int rc = kgi_pkg_resolve(base, ref, out, outlen, err, sizeof err);
    if (rc < 0) kgg_course_diag(c, KGG_ERROR, m->file, line, 0, "%s", err);
    return rc;
}

/* Joins xml:base values: a base is always a folder, with or without a
 * trailing slash (real manifests write xml:base="Course01"). */
static void join_base(kgi_manifest *m, kgg_course *c, const char *base, const xmlNode *n,
                      char *out, size_t outlen)
{
    char *b = kgi_xml_base(n);
    snprintf(out, outlen, "%s", base);
    if (!b) return;
    char tmp[1024];
    int rc = resolve(m, c, base, b, (uint32_t)xmlGetLineNo(n), tmp, sizeof tmp);
    if (rc == 0) snprintf(out, outlen, "%s", tmp);
    else if (rc == 1)
        kgg_course_diag(c, KGG_WARNING, m->file, (uint32_t)xmlGetLineNo(n), 0,
                        "xml:base \"%s\" is an external URL; ignored", b);
    kg_free(b);
}

static xmlNode *find_resource(kgi_manifest *m, const char *ident)
{
    xmlNode *res = kgi_xml_child(m->manifest, m->cp_ns, "resources");
    for (xmlNode *r = kgi_xml_child(res, m->cp_ns, "resource"); r; r = kgi_xml_next(r, m->cp_ns, "resource")) {
        xmlChar *id = xmlGetNoNsProp(r, (const xmlChar *)"identifier");
        int same = id && strcmp((const char *)id, ident) == 0;
        xmlFree(id);
        if (same) return r;
    }
    return NULL;
}

/* A duration read from file:line for what: taken into *minutes when
 * nothing set it yet; one above KGI_MINUTES_MAX is reported and ignored
 * (never clamped), like an unreadable one where the caller says so. */
static void take_minutes(kgg_course *c, const char *file, uint32_t line, const char *what,
                         double t, double *minutes)
{
    if (t == KGI_DURATION_OVER)
        kgg_course_diag(c, KGG_WARNING, file, line, 0,
                        "%s: duration is over %.0f minutes; ignored", what, KGI_MINUTES_MAX);
    else if (t >= 0 && *minutes < 0) *minutes = t;
}

/* Metadata of an item or resource: inline LOM, or a file named by
 * adlcp:location. Applies typical learning time and description. */
static void apply_metadata(kgi_manifest *m, kgg_course *c, kgg_concept *k, xmlNode *owner,
                           const char *base, double *minutes)
{
    xmlNode *md = kgi_xml_child(owner, m->cp_ns, "metadata");
    if (!md) return;
    xmlNode *lom = NULL;
    for (xmlNode *x = md->children; x; x = x->next)
        if (x->type == XML_ELEMENT_NODE && strcasecmp((const char *)x->name, "lom") == 0) lom = x;
    if (lom) {
        take_minutes(c, m->file, (uint32_t)xmlGetLineNo(lom), "typicalLearningTime",
                     kgi_lom_minutes(lom), minutes);
        if (!k->summary) {
            char *d = kgi_lom_description(lom);
            if (d) k->summary = kgi_clip(c, d, 2000);
            kg_free(d);
        }
    }
    for (xmlNode *x = md->children; x; x = x->next) {
        if (!is_adlcp(x, "location")) continue;
        char *loc = kgi_xml_text(x);
        char rel[1024];
        uint32_t line = (uint32_t)xmlGetLineNo(x);
        int rrc = loc ? resolve(m, c, base, loc, line, rel, sizeof rel) : -1;
        /* Metadata locations are written relative to the resource's base by
         * some tools and to the package root by others: try both. */
        if (rrc == 0 && !kgi_pkg_exists(m->pkg, rel) && strcmp(base, m->root) != 0) {
            char alt[1024], e2[256];
            if (kgi_pkg_resolve(m->root, loc, alt, sizeof alt, e2, sizeof e2) == 0 && kgi_pkg_exists(m->pkg, alt))
                snprintf(rel, sizeof rel, "%s", alt);
        }
        if (rrc == 0) {
            char *buf; size_t len;
            if (kgi_manifest_read(m, c, rel, line, &buf, &len) == 0) {
                char shown[1200];
                kgi_pkg_display(m->pkg, rel, shown, sizeof shown);
                xmlDocPtr d = kgi_xml_parse(buf, len, shown, NULL, NULL, 0);
                if (!d) {
                    kgg_course_diag(c, KGG_WARNING, shown, 0, 0, "metadata file is not well-formed XML; ignored");
                } else {
                    xmlNode *r = xmlDocGetRootElement(d);
                    take_minutes(c, shown, (uint32_t)xmlGetLineNo(r), "typicalLearningTime",
                                 kgi_lom_minutes(r), minutes);
                    if (!k->summary) {
                        char *ds = kgi_lom_description(r);
                        if (ds) k->summary = kgi_clip(c, ds, 2000);
                        kg_free(ds);
                    }
                    xmlFreeDoc(d);
                }
                kg_free(buf);
            }
        }
        kg_free(loc);
    }
}

static int is_html(const char *p)
{
    size_t n = strlen(p);
    return (n > 4 && strcasecmp(p + n - 4, ".htm") == 0) || (n > 5 && strcasecmp(p + n - 5, ".html") == 0);
}

/* Text of a resource: its launch file and listed HTML files (deduplicated). */
static void apply_resource_text(kgi_manifest *m, kgg_course *c, size_t ki, xmlNode *r)
{
    char base[1024];
    join_base(m, c, m->base, r, base, sizeof base);
    kg_buf text = {0};
    char seen[MAX_FILES_PER_ITEM][1024];
    int nseen = 0;
    xmlNode *f = NULL;
    for (int first = 1;; first = 0) {
        char *href;
        uint32_t line;
        if (first) { href = kgi_xml_attr(r, "href"); line = (uint32_t)xmlGetLineNo(r); }
        else {
            f = f ? kgi_xml_next(f, m->cp_ns, "file") : kgi_xml_child(r, m->cp_ns, "file");
            if (!f) break;
            href = kgi_xml_attr(f, "href");
            line = (uint32_t)xmlGetLineNo(f);
        }
        if (!href) continue;
        char rel[1024];
        int rc = resolve(m, c, base, href, line, rel, sizeof rel);
        kg_free(href);
        if (rc != 0 || !is_html(rel) || nseen >= MAX_FILES_PER_ITEM) continue;
        int dup = 0;
        for (int i = 0; i < nseen; i++) if (strcmp(seen[i], rel) == 0) dup = 1;
        if (dup) continue;
        snprintf(seen[nseen++], sizeof seen[0], "%s", rel);
        char *buf; size_t len;
        if (kgi_manifest_read(m, c, rel, line, &buf, &len) != 0) continue;
        if (text.len < MAX_TEXT) {
            char *t = kgi_html_to_text(buf, len);
            kg_buf_join(&text, "\n", t);
            kg_free(t);
        }
        kg_free(buf);
    }
    char *t = kg_buf_take(&text);
    if (t && *t) c->concepts[ki].description = kgi_clip(c, t, MAX_TEXT);
    kg_free(t);
}

static int add_items(kgi_manifest *m, kgg_course *c, xmlNode *parent, long pidx, int depth, int32_t unit)
{
    if (depth > 64) {
        kgg_course_diag(c, KGG_ERROR, m->file, (uint32_t)xmlGetLineNo(parent), 0, "items nested too deeply");
        return -1;
    }
    for (xmlNode *it = kgi_xml_child(parent, m->cp_ns, "item"); it; it = kgi_xml_next(it, m->cp_ns, "item")) {
        uint32_t line = (uint32_t)xmlGetLineNo(it);
        int has_children = kgi_xml_child(it, m->cp_ns, "item") != NULL;
        if (m->headings && !has_children && !xmlHasProp(it, (const xmlChar *)"identifierref")) {
            /* A text heading: structure and text, nothing to study. */
            if (kg_grow(&m->items, &m->cap, m->nitems + 1, sizeof *m->items)) return -1;
            kgi_mitem *hi = &m->items[m->nitems++];
            memset(hi, 0, sizeof *hi);
            xmlChar *hid = xmlGetNoNsProp(it, (const xmlChar *)"identifier");
            xmlNode *htn = kgi_xml_child(it, m->cp_ns, "title");
            char *ht = htn ? kgi_xml_text(htn) : NULL;
            hi->node = it;
            hi->ident = hid ? kgg_course_str(c, (const char *)hid) : NULL;
            hi->concept = KGI_NO_CONCEPT;
            hi->parent = pidx;
            hi->heading = kgg_course_str(c, ht ? ht : "");
            kg_free(ht);
            xmlFree(hid);
            continue;
        }
        xmlChar *ident = xmlGetNoNsProp(it, (const xmlChar *)"identifier");
        char idbuf[256], num[32];
        snprintf(num, sizeof num, "item%zu", m->nitems + 1);
        kgi_safe_id(ident ? (const char *)ident : NULL, num, idbuf, sizeof idbuf);
        if (!ident) kgg_course_diag(c, KGG_WARNING, m->file, line, 0, "item without identifier; named %s", idbuf);
        if (kgg_course_find(c, idbuf) >= 0) {
            char alt[sizeof idbuf];
            for (int n = 2;; n++) {
                snprintf(alt, sizeof alt, "%.200s-%d", idbuf, n);
                if (kgg_course_find(c, alt) < 0) break;
            }
            memcpy(idbuf, alt, sizeof idbuf);
        }
        xmlNode *tn = kgi_xml_child(it, m->cp_ns, "title");
        char *title = tn ? kgi_xml_text(tn) : NULL;
        kgg_concept *k = kgg_course_add_concept(c, idbuf, title && *title ? title : idbuf);
        kg_free(title);
        if (!k) { xmlFree(ident); return -1; }
        k->line = line;
        size_t ki = c->nconcepts - 1;
        if (kg_grow(&m->items, &m->cap, m->nitems + 1, sizeof *m->items)) { xmlFree(ident); return -1; }
        kgi_mitem *mi = &m->items[m->nitems];
        memset(mi, 0, sizeof *mi);
        mi->node = it;
        mi->ident = ident ? kgg_course_str(c, (const char *)ident) : NULL;
        mi->concept = ki;
        mi->parent = pidx;
        xmlFree(ident);
        long self = (long)m->nitems++;
        int32_t u = unit;
        int own_unit = 0;
        if (pidx < 0 && has_children) {
            if (kgg_course_add_unit(c, idbuf, c->concepts[ki].title)) { u = (int32_t)(c->nunits - 1); own_unit = 1; }
        }
        c->concepts[ki].unit = u;
        double minutes = -1;
        char *ref = kgi_xml_attr(it, "identifierref");
        if (ref) {
            xmlNode *r = find_resource(m, ref);
            if (!r) kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                    "item %s refers to resource \"%s\", which the manifest does not define",
                                    idbuf, ref);
            m->items[self].resource = r;
            if (r) {
                char rbase[1024];
                apply_resource_text(m, c, ki, r);
                join_base(m, c, m->base, r, rbase, sizeof rbase);
                apply_metadata(m, c, &c->concepts[ki], r, rbase, &minutes);
            }
            kg_free(ref);
        }
        apply_metadata(m, c, &c->concepts[ki], it, m->root, &minutes);
        for (xmlNode *x = it->children; x && minutes < 0; x = x->next) {
            if (!is_adlcp(x, "maxtimeallowed")) continue;
            char *s = kgi_xml_text(x);
            double t = kgi_parse_duration(s);
            if (t == -1) kgg_course_diag(c, KGG_WARNING, m->file, (uint32_t)xmlGetLineNo(x), 0,
                                         "item %s: maxtimeallowed \"%s\" is not a duration; ignored", idbuf, s);
            else take_minutes(c, m->file, (uint32_t)xmlGetLineNo(x), "maxtimeallowed", t, &minutes);
            kg_free(s);
        }
        if (minutes < 0) {
            xmlNode *seq = kgi_xml_child(it, IMSSS, "sequencing");
            xmlNode *lc = kgi_xml_child(seq, IMSSS, "limitConditions");
            char *d = lc ? kgi_xml_attr(lc, "attemptAbsoluteDurationLimit") : NULL;
            if (d) take_minutes(c, m->file, (uint32_t)xmlGetLineNo(lc), "attemptAbsoluteDurationLimit",
                                kgi_parse_duration(d), &minutes);
            kg_free(d);
        }
        c->concepts[ki].minutes = minutes;
        if (has_children) {
            size_t first = m->nitems;
            if (add_items(m, c, it, self, depth + 1, u)) return -1;
            int nkids = 0;
            for (size_t j = first; j < m->nitems; j++)
                if (m->items[j].parent == self && m->items[j].concept != KGI_NO_CONCEPT) {
                    kgg_concept_add_require(c, &c->concepts[m->items[self].concept],
                                            c->concepts[m->items[j].concept].id,
                                            "an aggregation is complete when all its items are");
                    nkids++;
                }
            /* A container without content of its own is done when its items
             * are: no study time of its own (not the planner's default). */
            if (nkids && !m->items[self].resource && c->concepts[m->items[self].concept].minutes < 0)
                c->concepts[m->items[self].concept].minutes = 0;
            if (m->headings && nkids == 0 && !m->items[self].resource && ki == c->nconcepts - 1) {
                /* An empty container (only headings inside): not a concept. */
                m->items[self].heading = c->concepts[ki].title;
                m->items[self].concept = KGI_NO_CONCEPT;
                c->nconcepts--;
                if (own_unit) c->nunits--;
            }
        }
    }
    return 0;
}

/* Headings' text goes to the next item that is a concept among their
 * siblings (prepended, read before it), else to the nearest enclosing
 * concept (appended). Later headings first, so that several headings in a
 * row keep their order. */
static void place_headings(kgi_manifest *m, kgg_course *c)
{
    for (size_t i = m->nitems; i-- > 0;) {
        if (!m->items[i].heading || !*m->items[i].heading) continue;
        size_t at = i, target = KGI_NO_CONCEPT;
        int append = 0;
        while (target == KGI_NO_CONCEPT) {
            long par = m->items[at].parent;
            for (size_t j = at + 1; j < m->nitems && target == KGI_NO_CONCEPT; j++)
                if (m->items[j].parent == par && m->items[j].concept != KGI_NO_CONCEPT) target = m->items[j].concept;
            if (target != KGI_NO_CONCEPT || par < 0) break;
            if (m->items[par].concept != KGI_NO_CONCEPT) { target = m->items[par].concept; append = 1; }
            at = (size_t)par;
        }
        if (target != KGI_NO_CONCEPT) kgi_concept_text(c, target, m->items[i].heading, append);
    }
}

/* An organization without items (a Canvas single-page export): every
 * webcontent resource launching an HTML page becomes a concept. */
static void resources_as_items(kgi_manifest *m, kgg_course *c)
{
    xmlNode *res = kgi_xml_child(m->manifest, m->cp_ns, "resources");
    for (xmlNode *r = kgi_xml_child(res, m->cp_ns, "resource"); r; r = kgi_xml_next(r, m->cp_ns, "resource")) {
        char *type = kgi_xml_attr(r, "type"), *href = kgi_xml_attr(r, "href"), *ident = kgi_xml_attr(r, "identifier");
        if (type && strcmp(type, "webcontent") == 0 && href && is_html(href)) {
            char want[256], title[256];
            const char *b = strrchr(href, '/');
            snprintf(title, sizeof title, "%s", b ? b + 1 : href);
            char *dot = strrchr(title, '.');
            if (dot) *dot = 0;
            for (char *q = title; *q; q++) if (*q == '-' || *q == '_') *q = ' ';
            kgi_safe_id(ident, "page", want, sizeof want);
            if (kgg_course_find(c, want) < 0 && kgg_course_add_concept(c, want, title) &&
                !kg_grow(&m->items, &m->cap, m->nitems + 1, sizeof *m->items)) {
                size_t ki = c->nconcepts - 1;
                c->concepts[ki].line = (uint32_t)xmlGetLineNo(r);
                kgi_mitem *mi = &m->items[m->nitems++];
                memset(mi, 0, sizeof *mi);
                mi->node = r;
                mi->ident = kgg_course_str(c, ident);
                mi->concept = ki;
                mi->parent = -1;
                mi->resource = r;
                apply_resource_text(m, c, ki, r);
            }
        }
        kg_free(type); kg_free(href); kg_free(ident);
    }
    if (c->nconcepts)
        kgg_course_diag(c, KGG_WARNING, m->file, (uint32_t)xmlGetLineNo(m->org), 0,
                        "the organization has no items; %zu web page resource(s) imported as concepts",
                        c->nconcepts);
}

int kgi_manifest_load(kgi_manifest *m, kgi_pkg *p, const char *root, kgg_course *c,
                      const char *format)
{
    memset(m, 0, sizeof *m);
    m->pkg = p;
    m->root = root;
    char rel[1024];
    snprintf(rel, sizeof rel, "%s%simsmanifest.xml", root, *root ? "/" : "");
    kgi_pkg_display(p, rel, m->file, sizeof m->file);
    c->format = kgg_course_str(c, format);
    /* SCORM requires a resource on every leaf item (CAM 1.2 §2.3.5); only
     * Common Cartridge uses resource-less items as text headings. */
    m->headings = strcmp(format, "imscc") == 0;
    c->source = kgg_course_str(c, m->file);
    char *buf; size_t len; char err[1200];
    int rc = kgi_pkg_read(p, rel, &buf, &len, err, sizeof err);
    if (rc) { kgg_course_diag(c, KGG_ERROR, m->file, 0, 0, "%s", err); return -1; }
    m->doc = kgi_xml_parse(buf, len, m->file, c, NULL, 0);
    kg_free(buf);
    if (!m->doc) return -1;
    m->manifest = xmlDocGetRootElement(m->doc);
    if (!m->manifest || strcmp((const char *)m->manifest->name, "manifest") != 0) {
        kgg_course_diag(c, KGG_ERROR, m->file, m->manifest ? (uint32_t)xmlGetLineNo(m->manifest) : 1, 0,
                        "root element is not <manifest>");
        return -1;
    }
    m->cp_ns = m->manifest->ns && m->manifest->ns->href ? (const char *)m->manifest->ns->href : NULL;
    /* Resource base: manifest xml:base, then <resources xml:base>. */
    char b1[1024];
    join_base(m, c, root, m->manifest, b1, sizeof b1);
    xmlNode *res = kgi_xml_child(m->manifest, m->cp_ns, "resources");
    if (res) join_base(m, c, b1, res, m->base, sizeof m->base);
    else snprintf(m->base, sizeof m->base, "%s", b1);
    /* Course id and title. */
    char *ident = kgi_xml_attr(m->manifest, "identifier");
    char idbuf[256];
    c->id = kgg_course_str(c, kgi_safe_course_id(ident, NULL, idbuf, sizeof idbuf));
    kg_free(ident);
    xmlNode *orgs = kgi_xml_child(m->manifest, m->cp_ns, "organizations");
    if (!orgs) {
        kgg_course_diag(c, KGG_ERROR, m->file, (uint32_t)xmlGetLineNo(m->manifest), 0,
                        "manifest has no <organizations>");
        return -1;
    }
    char *def = kgi_xml_attr(orgs, "default");
    xmlNode *org = NULL;
    for (xmlNode *o = kgi_xml_child(orgs, m->cp_ns, "organization"); o; o = kgi_xml_next(o, m->cp_ns, "organization")) {
        char *oid = kgi_xml_attr(o, "identifier");
        if (def && oid && strcmp(def, oid) == 0) org = o;
        kg_free(oid);
        if (org) break;
    }
    if (!org) {
        org = kgi_xml_child(orgs, m->cp_ns, "organization");
        if (def && org)
            kgg_course_diag(c, KGG_WARNING, m->file, (uint32_t)xmlGetLineNo(orgs), 0,
                            "default organization \"%s\" does not exist; using the first one", def);
    }
    kg_free(def);
    if (!org) {
        kgg_course_diag(c, KGG_ERROR, m->file, (uint32_t)xmlGetLineNo(orgs), 0, "manifest has no <organization>");
        return -1;
    }
    m->org = org;
    xmlNode *tn = kgi_xml_child(org, m->cp_ns, "title");
    char *title = tn ? kgi_xml_text(tn) : NULL;
    if (!title || !*title) {
        kg_free(title);
        xmlNode *md = kgi_xml_child(m->manifest, m->cp_ns, "metadata");
        xmlNode *g = kgi_xml_find_local(md, "general");
        xmlNode *t = kgi_xml_find_local(g, "title");
        title = t ? kgi_xml_text(t) : NULL;
    }
    c->title = kgg_course_str(c, title && *title ? title : c->id);
    kg_free(title);
    /* Common Cartridge wraps everything in one untitled root item. */
    xmlNode *top = org;
    xmlNode *first = kgi_xml_child(org, m->cp_ns, "item");
    if (first && !kgi_xml_next(first, m->cp_ns, "item") && !kgi_xml_child(first, m->cp_ns, "title") &&
        !xmlHasProp(first, (const xmlChar *)"identifierref"))
        top = first;
    if (add_items(m, c, top, -1, 0, -1)) return -1;
    place_headings(m, c);
    if (c->nconcepts == 0) resources_as_items(m, c);
    if (c->nconcepts == 0) {
        kgg_course_diag(c, KGG_ERROR, m->file, (uint32_t)xmlGetLineNo(org), 0,
                        "the organization has no items and no resource is a web page");
        return -1;
    }
    /* Course order: a soft edge from each leaf item to the next one. */
    long prev = -1;
    for (size_t i = 0; i < m->nitems; i++) {
        if (kgi_xml_child(m->items[i].node, m->cp_ns, "item") || m->items[i].concept == KGI_NO_CONCEPT) continue;
        if (prev >= 0)
            kgg_concept_add_recommend(c, &c->concepts[m->items[i].concept],
                                      c->concepts[m->items[prev].concept].id, "course order");
        prev = (long)i;
    }
    return 0;
}

void kgi_manifest_done(kgi_manifest *m)
{
    if (m->doc) xmlFreeDoc(m->doc);
    kg_free(m->items);
    for (size_t i = 0; i < m->nwarned; i++) kg_free(m->warned[i]);
    kg_free(m->warned);
    memset(m, 0, sizeof *m);
}
