/* Moodle course backups (.mbz or an extracted folder; Moodle 2.x – 4.x).
 *
 * Mapping:
 *  - course id: the course shortname (course/course.xml, else
 *    moodle_backup.xml original_course_shortname), made safe; title: the
 *    fullname.
 *  - each section is a unit and a concept "section-<sectionid>" (title: its
 *    name, else "General" for section 0, else "Section N"); each activity is
 *    a concept "<modname>-<cmid>" (title from moodle_backup.xml), in course
 *    order. A section requires its activities (it is done when they are)
 *    and takes 0 minutes of its own;
 *    each activity recommends the one before it (course order).
 *  - text: section summaries and the activity's own texts (intro, content,
 *    page/book/label bodies …) as plain text: entity-escaped HTML decoded,
 *    $@NULL@$ and $@…@$ / @@PLUGINFILE@@ placeholders removed.
 *  - restrictions (Moodle ≥ 2.7): the JSON tree in <availability>
 *    (module.xml) and <availabilityjson> (section.xml), parsed with jansson.
 *    "&" is AND, "|" is OR (groups "one of", distributed when nested);
 *    "completion" conditions (e = 1 complete or 2 passed) and "grade"
 *    conditions with a minimum name the activity (grade items are mapped to
 *    their activity through activities/<dir>/grades.xml). Negations ("!&",
 *    "!|", e = 0 or 3) and other condition types (date, group, grouping,
 *    profile, …) cannot be expressed and are reported as ignored. A
 *    section's restrictions also apply to each of its activities.
 *  - Moodle 2.6: <availability_info> rows (sourcecmid + requiredcompletion,
 *    gradeitemid + grademin), all required (AND); <availability_field>
 *    (profile) rows are reported as ignored.
 */
#include "importers/pkg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/alloc.h"
#include "importers/aicc_expr.h"
#include "importers/html_text.h"
#include "importers/xml_safe.h"

#define MAX_TEXT (64 * 1024)

typedef struct mact {
    long cmid;
    char *modname, *dir, *title;
    long sectionid;
    size_t concept;
    long completion;        /* module.xml <completion>: 0 none, 1 manual, 2 automatic */
    long pos;               /* position in course order, -1 not placed */
} mact;

typedef struct msec { long id; char *dir; size_t concept; int has_concept; long first_pos; } msec;

typedef struct moodle {
    kgi_pkg *p;
    const char *root;
    kgg_course *c;
    mact *acts; size_t nacts, capacts;
    msec *secs; size_t nsecs, capsecs;
    kgi_map cm_concept;     /* "cmid" -> concept index */
    kgi_map grade_cm;       /* "gradeitemid" -> cmid */
    long *order; size_t norder, caporder;   /* activity indexes in course order */
} moodle;

/* Labels are text on the course page (FEATURE_NO_VIEW_LINK, mod/label/lib.php):
 * nothing to open or study, so not concepts. */
static int is_label(const mact *a) { return a->modname && strcmp(a->modname, "label") == 0; }

static void rel_of(moodle *m, const char *a, char *out, size_t n)
{
    snprintf(out, n, "%.500s%s%.500s", m->root, *m->root ? "/" : "", a);
}

/* Parses a package file; NULL when missing (warned when warn) or broken. */
static xmlDocPtr load(moodle *m, const char *name, int warn, char *shown, size_t slen)
{
    char rel[1100], err[1200];
    rel_of(m, name, rel, sizeof rel);
    kgi_pkg_display(m->p, rel, shown, slen);
    char *buf; size_t len;
    int rc = kgi_pkg_read(m->p, rel, &buf, &len, err, sizeof err);
    if (rc != 0) {
        if (warn || rc < 0) kgg_course_diag(m->c, KGG_WARNING, shown, 0, 0,
                                            rc == 1 ? "referenced file is missing: %s" : "%s", err);
        return NULL;
    }
    xmlDocPtr d = kgi_xml_parse(buf, len, shown, m->c, NULL, 0);
    kg_free(buf);
    return d;
}

static char *child_text(xmlNode *n, const char *name)
{
    xmlNode *x = kgi_xml_child(n, NULL, name);
    if (!x) return NULL;
    char *t = kgi_xml_text(x);
    if (t && strcmp(t, "$@NULL@$") == 0) { kg_free(t); return NULL; }
    return t;
}

static long child_long(xmlNode *n, const char *name, long def)
{
    char *t = child_text(n, name);
    if (!t || !*t) { kg_free(t); return def; }
    char *end;
    long v = strtol(t, &end, 10);
    int ok = *end == 0 || *end == '.';
    kg_free(t);
    return ok ? v : def;
}

/* Moodle rich text to plain text: drops $@…@$ placeholders and
 * @@PLUGINFILE@@ markers, then parses the HTML. */
static char *rich_text(const char *s)
{
    if (!s) return NULL;
    kg_buf b = {0};
    for (const char *p = s; *p;) {
        if (p[0] == '$' && p[1] == '@') {
            const char *e = strstr(p + 2, "@$");
            if (e) { p = e + 2; continue; }
        }
        if (strncmp(p, "@@PLUGINFILE@@", 14) == 0) { p += 14; continue; }
        kg_buf_put(&b, p, 1);
        p++;
    }
    char *h = kg_buf_take(&b);
    char *t = h ? kgi_html_to_text(h, strlen(h)) : NULL;
    kg_free(h);
    return t;
}

/* Text of the elements of an activity file that hold prose. */
static void collect_text(xmlNode *n, kg_buf *b, int depth)
{
    static const char *const names[] = { "intro", "content", "summary", "text", "description",
                                         "message", "activity", "externalurl", NULL };
    for (xmlNode *x = n ? n->children : NULL; x && depth < 16; x = x->next) {
        if (x->type != XML_ELEMENT_NODE) continue;
        int hit = 0;
        for (int i = 0; names[i]; i++) if (strcmp((const char *)x->name, names[i]) == 0) hit = 1;
        if (hit && b->len < MAX_TEXT) {
            xmlChar *raw = xmlNodeGetContent(x);
            char *t = rich_text((const char *)raw);
            kg_buf_join(b, "\n", t);
            kg_free(t);
            xmlFree(raw);
        } else if (!hit && strcmp((const char *)x->name, "question_categories") != 0) {
            collect_text(x, b, depth + 1);
        }
    }
}

/* ---- conditions -------------------------------------------------------- */

typedef struct cctx {
    moodle *m; const char *file; uint32_t line; const char *who;
    long before;            /* course-order position of the restricted item: cm -1 looks before it */
} cctx;

/* cm -1 ("the previous activity with completion"): the nearest activity
 * before position `before` in course order whose completion is tracked
 * (availability/condition/completion: for a section, the last one before
 * it). Returns its cmid, or -1. */
static long previous_cm(moodle *m, long before)
{
    for (long p = (before < 0 || (size_t)before > m->norder ? (long)m->norder : before) - 1; p >= 0; p--) {
        mact *a = &m->acts[m->order[p]];
        if (a->completion > 0) return a->cmid;
    }
    return -1;
}

static void ignored(cctx *x, const char *what)
{
    kgg_course_diag(x->m->c, KGG_WARNING, x->file, x->line, 0,
                    "%s: restriction %s cannot be expressed as a prerequisite; ignored", x->who, what);
}

static const char *cm_id(moodle *m, long cmid)
{
    char key[32];
    snprintf(key, sizeof key, "%ld", cmid);
    long ki = kgi_map_get(&m->cm_concept, key, -1);
    return ki >= 0 ? m->c->concepts[ki].id : NULL;
}

/* Converts a JSON availability node into *out. Returns 1 when it
 * constrains (out holds the CNF), 0 when it is "true" (nothing kgpath can
 * express). */
static int cond_json(cctx *x, json_t *n, kgi_cnf *out, int depth)
{
    memset(out, 0, sizeof *out);
    if (!json_is_object(n) || depth > 32) return 0;
    json_t *op = json_object_get(n, "op");
    if (json_is_string(op)) {
        const char *o = json_string_value(op);
        json_t *cs = json_object_get(n, "c");
        if (!json_is_array(cs) || json_array_size(cs) == 0) return 0;
        if (strcmp(o, "!&") == 0 || strcmp(o, "!|") == 0) {
            char what[64];
            snprintf(what, sizeof what, "\"%s\" (must not)", o);
            ignored(x, what);
            return 0;
        }
        int is_or = strcmp(o, "|") == 0;
        if (!is_or && strcmp(o, "&") != 0) { ignored(x, "with an unknown operator"); return 0; }
        int any = 0, truth_in_or = 0;
        size_t i; json_t *ch;
        json_array_foreach(cs, i, ch) {
            kgi_cnf sub;
            int has = cond_json(x, ch, &sub, depth + 1);
            if (!has) { truth_in_or = 1; continue; }
            if (!any) { *out = sub; any = 1; continue; }
            if (is_or) {
                if (kgi_cnf_or(out, &sub) == 1)
                    kgg_course_diag(x->m->c, KGG_WARNING, x->file, x->line, 0,
                                    "%s: an OR of restriction sets was widened to \"any one of\"", x->who);
            } else {
                kgi_cnf_and(out, &sub);
            }
        }
        if (is_or && truth_in_or && any) {
            /* One alternative is unconstrained: the OR is always met. */
            kgi_cnf_free(out);
            return 0;
        }
        return any;
    }
    json_t *type = json_object_get(n, "type");
    const char *t = json_is_string(type) ? json_string_value(type) : "?";
    if (strcmp(t, "completion") == 0) {
        long cm = (long)json_integer_value(json_object_get(n, "cm"));
        long e = (long)json_integer_value(json_object_get(n, "e"));
        if (e == 0 || e == 3) {
            ignored(x, e == 0 ? "\"activity must not be complete\"" : "\"activity must be failed\"");
            return 0;
        }
        if (cm == -1) {
            cm = previous_cm(x->m, x->before);
            if (cm < 0) return 0;   /* no earlier activity tracks completion: Moodle shows it */
        }
        const char *id = cm_id(x->m, cm);
        if (!id) {
            if (cm < 0) return 0;
            kgg_course_diag(x->m->c, KGG_WARNING, x->file, x->line, 0,
                            "%s: completion condition names activity %ld, which is not in the backup; ignored",
                            x->who, cm);
            return 0;
        }
        kgi_cnf_atom(out, id);
        return 1;
    }
    if (strcmp(t, "grade") == 0) {
        long gi = (long)json_integer_value(json_object_get(n, "id"));
        json_t *min = json_object_get(n, "min");
        char key[32];
        snprintf(key, sizeof key, "%ld", gi);
        long cm = kgi_map_get(&x->m->grade_cm, key, -1);
        const char *id = cm >= 0 ? cm_id(x->m, cm) : NULL;
        if (!id) {
            kgg_course_diag(x->m->c, KGG_WARNING, x->file, x->line, 0,
                            "%s: grade condition on grade item %ld (not an activity of the backup) ignored",
                            x->who, gi);
            return 0;
        }
        if (!min || json_is_null(min)) { ignored(x, "\"grade below a maximum\""); return 0; }
        kgi_cnf_atom(out, id);
        return 1;
    }
    char what[96];
    snprintf(what, sizeof what, "of type \"%.40s\"", t);
    ignored(x, what);
    return 0;
}

/* Legacy Moodle 2.6 rows: all required. */
static int cond_legacy(cctx *x, xmlNode *info, kgi_cnf *out)
{
    memset(out, 0, sizeof *out);
    int any = 0;
    for (xmlNode *r = info ? info->children : NULL; r; r = r->next) {
        if (r->type != XML_ELEMENT_NODE) continue;
        x->line = (uint32_t)xmlGetLineNo(r);
        if (strcmp((const char *)r->name, "availability_field") == 0) { ignored(x, "on a user profile field"); continue; }
        if (strcmp((const char *)r->name, "availability") != 0) continue;
        long src = child_long(r, "sourcecmid", -1), req = child_long(r, "requiredcompletion", -1);
        long gi = child_long(r, "gradeitemid", -1);
        const char *id = NULL;
        if (src >= 0) {
            if (req == 0 || req == 3) { ignored(x, req == 0 ? "\"activity must not be complete\"" : "\"activity must be failed\""); continue; }
            id = cm_id(x->m, src);
            if (!id) {
                kgg_course_diag(x->m->c, KGG_WARNING, x->file, x->line, 0,
                                "%s: completion condition names activity %ld, which is not in the backup; ignored",
                                x->who, src);
                continue;
            }
        } else if (gi >= 0) {
            char key[32];
            snprintf(key, sizeof key, "%ld", gi);
            long cm = kgi_map_get(&x->m->grade_cm, key, -1);
            id = cm >= 0 ? cm_id(x->m, cm) : NULL;
            if (!id) {
                kgg_course_diag(x->m->c, KGG_WARNING, x->file, x->line, 0,
                                "%s: grade condition on grade item %ld (not an activity of the backup) ignored",
                                x->who, gi);
                continue;
            }
            char *mn = child_text(r, "grademin");
            if (!mn) { kg_free(mn); ignored(x, "\"grade below a maximum\""); continue; }
            kg_free(mn);
        } else {
            continue;
        }
        kgi_cnf_atom(out, id);
        any = 1;
    }
    return any;
}

/* Reads the restrictions of a module.xml / section.xml root into *out. */
static int conditions_of(moodle *m, xmlNode *root, const char *file, const char *who, long before,
                         kgi_cnf *out)
{
    cctx x = { m, file, 0, who, before };
    memset(out, 0, sizeof *out);
    xmlNode *a = kgi_xml_child(root, NULL, "availability");
    if (a && kgi_xml_child(a, NULL, "sourcecmid"))
        return cond_legacy(&x, root, out);  /* Moodle 2.6 section.xml: rows directly in <section> */
    if (!a) a = kgi_xml_child(root, NULL, "availabilityjson");
    if (a) {
        x.line = (uint32_t)xmlGetLineNo(a);
        char *js = kgi_xml_text(a);
        int has = 0;
        if (js && *js && strcmp(js, "$@NULL@$") != 0) {
            json_error_t e;
            json_t *j = json_loads(js, 0, &e);
            if (!j) kgg_course_diag(m->c, KGG_ERROR, file, x.line, 0,
                                    "%s: availability is not valid JSON: %s (column %d)", who, e.text, e.column);
            else has = cond_json(&x, j, out, 0);
            json_decref(j);
        }
        kg_free(js);
        if (has) return 1;
    }
    xmlNode *legacy = kgi_xml_child(root, NULL, "availability_info");
    if (legacy) return cond_legacy(&x, legacy, out);
    return 0;
}

static void apply_cnf(moodle *m, size_t ki, const kgi_cnf *f, const char *reason)
{
    for (size_t g = 0; g < f->n; g++) {
        kgg_group *grp = NULL;
        for (size_t j = 0; j < f->c[g].n; j++) {
            if (strcmp(f->c[g].ids[j], m->c->concepts[ki].id) == 0) continue;   /* self */
            if (!grp && !(grp = kgg_concept_add_group(m->c, &m->c->concepts[ki], f->c[g].k))) return;
            kgg_group_add_member(m->c, grp, f->c[g].ids[j], reason);
        }
        if (grp) {
            grp->reason = kgg_course_str(m->c, reason);
            if (grp->k > grp->nmembers) grp->k = (uint32_t)grp->nmembers;
        }
    }
}

/* ---- structure ------------------------------------------------------------- */

static void read_backup_index(moodle *m, xmlNode *root, char **shortname, char **fullname)
{
    xmlNode *info = kgi_xml_child(root, NULL, "information");
    *shortname = child_text(info, "original_course_shortname");
    *fullname = child_text(info, "original_course_fullname");
    xmlNode *contents = kgi_xml_child(kgi_xml_child(info, NULL, "contents"), NULL, "activities");
    for (xmlNode *a = kgi_xml_child(contents, NULL, "activity"); a; a = kgi_xml_next(a, NULL, "activity")) {
        if (kg_grow(&m->acts, &m->capacts, m->nacts + 1, sizeof *m->acts)) return;
        mact *x = &m->acts[m->nacts];
        memset(x, 0, sizeof *x);
        x->cmid = child_long(a, "moduleid", -1);
        x->sectionid = child_long(a, "sectionid", -1);
        x->modname = child_text(a, "modulename");
        x->title = child_text(a, "title");
        x->dir = child_text(a, "directory");
        x->pos = -1;
        if (x->cmid < 0 || !x->modname) {
            kg_free(x->modname); kg_free(x->title); kg_free(x->dir);
            continue;
        }
        m->nacts++;
    }
    xmlNode *secs = kgi_xml_child(kgi_xml_child(info, NULL, "contents"), NULL, "sections");
    for (xmlNode *s = kgi_xml_child(secs, NULL, "section"); s; s = kgi_xml_next(s, NULL, "section")) {
        if (kg_grow(&m->secs, &m->capsecs, m->nsecs + 1, sizeof *m->secs)) return;
        msec *x = &m->secs[m->nsecs];
        memset(x, 0, sizeof *x);
        x->id = child_long(s, "sectionid", -1);
        x->dir = child_text(s, "directory");
        if (x->id < 0 || !x->dir) { kg_free(x->dir); continue; }
        m->nsecs++;
    }
}

/* Grade items of each activity (activities/<dir>/grades.xml). */
static void map_grade_items(moodle *m)
{
    for (size_t i = 0; i < m->nacts; i++) {
        if (!m->acts[i].dir) continue;
        char name[1100], shown[1300];
        snprintf(name, sizeof name, "%.1000s/grades.xml", m->acts[i].dir);
        char rel[1200];
        rel_of(m, name, rel, sizeof rel);
        if (!kgi_pkg_exists(m->p, rel)) continue;
        xmlDocPtr d = load(m, name, 0, shown, sizeof shown);
        if (!d) continue;
        xmlNode *items = kgi_xml_child(xmlDocGetRootElement(d), NULL, "grade_items");
        for (xmlNode *g = kgi_xml_child(items, NULL, "grade_item"); g; g = kgi_xml_next(g, NULL, "grade_item")) {
            char *id = kgi_xml_attr(g, "id");
            if (id) kgi_map_put(&m->grade_cm, id, m->acts[i].cmid);
            kg_free(id);
        }
        xmlFreeDoc(d);
    }
}

/* Completion tracking of each placed activity (module.xml <completion>),
 * for "cm": -1 conditions. Missing files are reported later, when the
 * restrictions are read. */
static void read_completion(moodle *m)
{
    for (size_t a = 0; a < m->nacts; a++) {
        if (!m->acts[a].dir || m->acts[a].pos < 0) continue;
        char name[1100], shown[1300], rel[1200];
        snprintf(name, sizeof name, "%.1000s/module.xml", m->acts[a].dir);
        rel_of(m, name, rel, sizeof rel);
        if (!kgi_pkg_exists(m->p, rel) && !is_label(&m->acts[a])) continue;
        xmlDocPtr d = load(m, name, is_label(&m->acts[a]), shown, sizeof shown);
        if (!d) continue;
        m->acts[a].completion = child_long(xmlDocGetRootElement(d), "completion", 0);
        xmlFreeDoc(d);
    }
}

/* A label's text is read with the activity after it in its section
 * (prepended), else with its section (appended). Later labels first, so
 * that several labels in a row keep their order. */
static void place_labels(moodle *m)
{
    for (size_t p = m->norder; p-- > 0;) {
        mact *l = &m->acts[m->order[p]];
        if (!is_label(l) || !l->dir) continue;
        long target = -1;
        int append = 0;
        for (size_t q = p + 1; q < m->norder && target < 0; q++) {
            mact *n = &m->acts[m->order[q]];
            if (n->sectionid != l->sectionid) break;
            if (!is_label(n)) {
                char key[32];
                snprintf(key, sizeof key, "%ld", n->cmid);
                target = kgi_map_get(&m->cm_concept, key, -1);
            }
        }
        for (size_t s = 0; target < 0 && s < m->nsecs; s++)
            if (m->secs[s].id == l->sectionid && m->secs[s].has_concept) { target = (long)m->secs[s].concept; append = 1; }
        if (target < 0) continue;
        char name[1100], shown[1300], rel[1200];
        snprintf(name, sizeof name, "%.1000s/label.xml", l->dir);
        rel_of(m, name, rel, sizeof rel);
        if (!kgi_pkg_exists(m->p, rel)) continue;
        xmlDocPtr d = load(m, name, 0, shown, sizeof shown);
        if (!d) continue;
        kg_buf b = {0};
        collect_text(xmlDocGetRootElement(d), &b, 0);
        xmlFreeDoc(d);
        char *t = kg_buf_take(&b);
        kgi_concept_text(m->c, (size_t)target, t, append);
        kg_free(t);
    }
}

kgg_course *kgi_moodle_import(kgi_pkg *p, const char *root, const kgi_options *opt)
{
    (void)opt;
    kgg_course *c = kgg_course_new();
    if (!c) return NULL;
    moodle m;
    memset(&m, 0, sizeof m);
    m.p = p; m.root = root; m.c = c;
    char shown[1300];
    c->format = kgg_course_str(c, "moodle");
    xmlDocPtr idx = load(&m, "moodle_backup.xml", 1, shown, sizeof shown);
    c->source = kgg_course_str(c, shown);
    if (!idx) {
        if (kgg_course_nerrors(c) == 0) kgg_course_diag(c, KGG_ERROR, shown, 0, 0, "cannot read moodle_backup.xml");
        return c;
    }
    xmlNode *iroot = xmlDocGetRootElement(idx);
    if (!iroot || strcmp((const char *)iroot->name, "moodle_backup") != 0) {
        kgg_course_diag(c, KGG_ERROR, shown, 1, 0, "root element is not <moodle_backup>");
        xmlFreeDoc(idx);
        return c;
    }
    char *shortname, *fullname;
    read_backup_index(&m, iroot, &shortname, &fullname);
    xmlFreeDoc(idx);
    /* course/course.xml has the current names and the summary. */
    char cshown[1300];
    char rel[1200];
    rel_of(&m, "course/course.xml", rel, sizeof rel);
    xmlDocPtr cd = kgi_pkg_exists(p, rel) ? load(&m, "course/course.xml", 0, cshown, sizeof cshown) : NULL;
    if (cd) {
        xmlNode *cr = xmlDocGetRootElement(cd);
        char *s = child_text(cr, "shortname"), *f = child_text(cr, "fullname");
        if (s && *s) { kg_free(shortname); shortname = s; } else kg_free(s);
        if (f && *f) { kg_free(fullname); fullname = f; } else kg_free(f);
        xmlFreeDoc(cd);
    }
    char idb[256];
    c->id = kgg_course_str(c, kgi_safe_course_id(shortname, NULL, idb, sizeof idb));
    c->title = kgg_course_str(c, fullname && *fullname ? kgi_collapse_ws(fullname) : c->id);
    kg_free(shortname); kg_free(fullname);
    /* Concepts: sections in order, each followed by its activities. */
    kgi_map ids = {0};
    for (size_t s = 0; s < m.nsecs; s++) {
        char name[1100], sshown[1300];
        snprintf(name, sizeof name, "%.1000s/section.xml", m.secs[s].dir);
        xmlDocPtr sd = load(&m, name, 1, sshown, sizeof sshown);
        xmlNode *sr = sd ? xmlDocGetRootElement(sd) : NULL;
        char *sname = sr ? child_text(sr, "name") : NULL;
        long number = sr ? child_long(sr, "number", -1) : -1;
        char title[300], want[64], id[128];
        if (sname && *sname) snprintf(title, sizeof title, "%s", sname);
        else if (number == 0) snprintf(title, sizeof title, "General");
        else snprintf(title, sizeof title, "Section %ld", number >= 0 ? number : (long)s);
        kg_free(sname);
        snprintf(want, sizeof want, "section-%ld", m.secs[s].id);
        kgi_unique_id(&ids, want, id, sizeof id);
        kgg_concept *k = kgg_course_add_concept(c, id, title);
        if (k) {
            size_t ki = c->nconcepts - 1;
            m.secs[s].concept = ki;
            m.secs[s].has_concept = 1;
            if (kgg_course_add_unit(c, id, title)) c->concepts[ki].unit = (int32_t)c->nunits - 1;
            if (sr) {
                c->concepts[ki].line = (uint32_t)xmlGetLineNo(sr);
                char *sum = child_text(sr, "summary");
                char *t = rich_text(sum);
                if (t && *t) c->concepts[ki].summary = kgi_clip(c, t, 2000);
                kg_free(t); kg_free(sum);
            }
        }
        if (sd) xmlFreeDoc(sd);
        m.secs[s].first_pos = (long)m.norder;
        for (size_t a = 0; a < m.nacts; a++) {
            if (m.acts[a].sectionid != m.secs[s].id) continue;
            m.acts[a].pos = (long)m.norder;
            if (!kg_grow(&m.order, &m.caporder, m.norder + 1, sizeof *m.order)) m.order[m.norder++] = (long)a;
            if (is_label(&m.acts[a])) continue;
            char aw[128], aid[160];
            snprintf(aw, sizeof aw, "%.60s-%ld", m.acts[a].modname, m.acts[a].cmid);
            kgi_safe_id(aw, "activity", want, sizeof want);
            kgi_unique_id(&ids, want, aid, sizeof aid);
            kgg_concept *ak = kgg_course_add_concept(c, aid, m.acts[a].title && *m.acts[a].title ? m.acts[a].title : aid);
            if (!ak) continue;
            size_t ki = c->nconcepts - 1;
            m.acts[a].concept = ki;
            ak->unit = k ? c->concepts[m.secs[s].concept].unit : -1;
            char key[32];
            snprintf(key, sizeof key, "%ld", m.acts[a].cmid);
            kgi_map_put(&m.cm_concept, key, (long)ki);
            kgg_concept_add_tag(c, &c->concepts[ki], m.acts[a].modname);
        }
    }
    for (size_t a = 0; a < m.nacts; a++) {
        char key[32];
        snprintf(key, sizeof key, "%ld", m.acts[a].cmid);
        if (kgi_map_get(&m.cm_concept, key, -1) < 0 && m.acts[a].pos < 0)
            kgg_course_diag(c, KGG_WARNING, c->source, 0, 0,
                            "activity %s %ld is in no listed section; ignored", m.acts[a].modname, m.acts[a].cmid);
    }
    kgi_map_free(&ids);
    map_grade_items(&m);
    read_completion(&m);
    /* Text and restrictions of activities. */
    for (size_t a = 0; a < m.nacts; a++) {
        char key[32];
        snprintf(key, sizeof key, "%ld", m.acts[a].cmid);
        long ki = kgi_map_get(&m.cm_concept, key, -1);
        if (ki < 0 || !m.acts[a].dir) continue;
        char name[1100], ashown[1300];
        snprintf(name, sizeof name, "%.900s/%.60s.xml", m.acts[a].dir, m.acts[a].modname);
        xmlDocPtr ad = load(&m, name, 0, ashown, sizeof ashown);
        if (ad) {
            kg_buf b = {0};
            collect_text(xmlDocGetRootElement(ad), &b, 0);
            char *t = kg_buf_take(&b);
            if (t && *t) c->concepts[ki].description = kgi_clip(c, t, MAX_TEXT);
            kg_free(t);
            xmlFreeDoc(ad);
        }
        snprintf(name, sizeof name, "%.1000s/module.xml", m.acts[a].dir);
        xmlDocPtr md = load(&m, name, 1, ashown, sizeof ashown);
        if (md) {
            kgi_cnf f;
            char who[200];
            snprintf(who, sizeof who, "activity %s", c->concepts[ki].id);
            if (conditions_of(&m, xmlDocGetRootElement(md), ashown, who, m.acts[a].pos, &f))
                apply_cnf(&m, (size_t)ki, &f, "Moodle access restriction");
            kgi_cnf_free(&f);
            xmlFreeDoc(md);
        }
    }
    place_labels(&m);
    /* Section restrictions and aggregation edges. */
    for (size_t s = 0; s < m.nsecs; s++) {
        if (!m.secs[s].has_concept) continue;
        size_t ski = m.secs[s].concept;
        char name[1100], sshown[1300];
        snprintf(name, sizeof name, "%.1000s/section.xml", m.secs[s].dir);
        xmlDocPtr sd = load(&m, name, 0, sshown, sizeof sshown);
        kgi_cnf f = {0};
        int has = 0;
        if (sd) {
            char who[200];
            snprintf(who, sizeof who, "section %s", c->concepts[ski].id);
            has = conditions_of(&m, xmlDocGetRootElement(sd), sshown, who, m.secs[s].first_pos, &f);
            xmlFreeDoc(sd);
        }
        int nact = 0;
        for (size_t a = 0; a < m.nacts; a++) {
            if (m.acts[a].sectionid != m.secs[s].id || !m.acts[a].modname) continue;
            char key[32];
            snprintf(key, sizeof key, "%ld", m.acts[a].cmid);
            long ki = kgi_map_get(&m.cm_concept, key, -1);
            if (ki < 0) continue;
            nact++;
            if (has) apply_cnf(&m, (size_t)ki, &f, "Moodle section restriction");
            kgg_concept_add_require(c, &c->concepts[ski], c->concepts[ki].id,
                                    "a section is complete when all its activities are");
        }
        if (has && nact == 0) apply_cnf(&m, ski, &f, "Moodle section restriction");
        /* A section is a heading with a summary, done when its activities
         * are: no study time of its own. */
        if (c->concepts[ski].minutes < 0) c->concepts[ski].minutes = 0;
        kgi_cnf_free(&f);
    }
    /* Course order between activities. */
    long prev = -1;
    for (size_t i = 0; i < c->nconcepts; i++) {
        if (strncmp(c->concepts[i].id, "section-", 8) == 0) continue;
        if (prev >= 0) kgg_concept_add_recommend(c, &c->concepts[i], c->concepts[prev].id, "course order");
        prev = (long)i;
    }
    if (c->nconcepts == 0 && kgg_course_nerrors(c) == 0)
        kgg_course_diag(c, KGG_ERROR, c->source, 0, 0, "the backup lists no sections or activities");
    kgi_dedupe_edges(c);
    for (size_t a = 0; a < m.nacts; a++) { kg_free(m.acts[a].modname); kg_free(m.acts[a].dir); kg_free(m.acts[a].title); }
    for (size_t s = 0; s < m.nsecs; s++) kg_free(m.secs[s].dir);
    kg_free(m.acts); kg_free(m.secs); kg_free(m.order);
    kgi_map_free(&m.cm_concept); kgi_map_free(&m.grade_cm);
    return c;
}
