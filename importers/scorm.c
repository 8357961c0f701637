/* SCORM 1.2 and SCORM 2004 packages (imsmanifest.xml).
 *
 * Concepts, text and time come from the manifest (manifest.c). Then:
 *  - SCORM 1.2: <adlcp:prerequisites type="aicc_script"> of an item is
 *    parsed (aicc_expr.c) into k-of-n groups over item identifiers; an
 *    aggregation's identifier names the aggregation concept, which itself
 *    requires all its items. What the expression says that kgpath cannot
 *    express is reported as a warning naming the item; a syntax error is an
 *    error (file:line).
 *  - SCORM 2004: imsss:preConditionRule conditions "not satisfied" /
 *    "not completed" / "not objectiveStatusKnown" / "not
 *    activityProgressKnown" on a local objective name the activities that
 *    write the global objective(s) that local objective reads (imsss:mapInfo
 *    writeSatisfiedStatus, adlseq:mapInfo writeCompletionStatus; several
 *    writers of one global are alternatives). As ADL's sequencer evaluates
 *    them (ILIAS SeqConditionSet.js): an unknown status is unknown, "not"
 *    keeps it unknown, "all" is the first non-true value, "any" is true if
 *    any is true, and a rule fires only on true. So a "disabled" rule gates
 *    an activity whose prerequisites were never attempted only when it
 *    fires on unknown status: under "any", when one of its conditions is a
 *    "not ...Known" test (the prerequisites are then all required: AND, one
 *    group per condition); under "all", when every condition is one (any
 *    one of them unlocks it: "one of"). A rule that fires only after a
 *    failed attempt ("not satisfied" alone), and skip / hiddenFromChoice
 *    (which only skip in flow or hide from the menu), give recommended
 *    edges.
 *    Rules and objectives may come from <imsss:sequencingCollection> through
 *    IDRef (the item's own elements win). Other rules are reported.
 * The format is "scorm2004" when the manifest's schemaversion says 2004 /
 * CAM 1.3 or the package uses the imsss namespace, else "scorm12".
 */
#include "importers/pkg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "base/alloc.h"
#include "importers/aicc_expr.h"
#include "importers/html_text.h"
#include "importers/manifest.h"
#include "importers/xml_safe.h"

#define ADLCP12 "http://www.adlnet.org/xsd/adlcp_rootv1p2"
#define IMSSS   "http://www.imsglobal.org/xsd/imsss"
#define ADLSEQ  "http://www.adlnet.org/xsd/adlseq_v1p3"

/* ---- SCORM 1.2 ------------------------------------------------------------ */

typedef struct warn_ctx { kgg_course *c; const char *file; uint32_t line; const char *item; } warn_ctx;

static void expr_warn(void *ud, const char *msg)
{
    warn_ctx *w = ud;
    kgg_course_diag(w->c, KGG_WARNING, w->file, w->line, 0, "item %s: prerequisites: %s", w->item, msg);
}

static void scorm12_prereqs(kgi_manifest *m, kgg_course *c)
{
    for (size_t i = 0; i < m->nitems; i++) {
        kgi_mitem *it = &m->items[i];
        if (it->concept == KGI_NO_CONCEPT) continue;
        const char *cid = c->concepts[it->concept].id;
        for (xmlNode *x = kgi_xml_child(it->node, ADLCP12, "prerequisites"); x;
             x = kgi_xml_next(x, ADLCP12, "prerequisites")) {
            uint32_t line = (uint32_t)xmlGetLineNo(x);
            char *type = kgi_xml_attr(x, "type");
            char *t = type;
            while (t && (*t == ' ' || *t == '\t')) t++;
            if (t) { size_t n = strlen(t); while (n && (t[n - 1] == ' ' || t[n - 1] == '\t')) t[--n] = 0; }
            if (t && strcmp(t, "aicc_script") != 0) {
                kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                "item %s: prerequisites of type \"%s\" are not supported (only aicc_script); ignored",
                                cid, t);
                kg_free(type);
                continue;
            }
            kg_free(type);
            char *expr = kgi_xml_text(x);
            if (!expr || !*expr) { kg_free(expr); continue; }
            kgi_cnf cnf;
            char err[512];
            size_t pos = 0;
            warn_ctx w = { c, m->file, line, cid };
            if (kgi_aicc_parse(expr, &cnf, expr_warn, &w, err, sizeof err, &pos) != 0) {
                kgg_course_diag(c, KGG_ERROR, m->file, line, 0,
                                "item %s: bad aicc_script prerequisites \"%s\": %s (at character %zu)",
                                cid, expr, err, pos);
                kgi_cnf_free(&cnf);
                kg_free(expr);
                continue;
            }
            char reason[600];
            snprintf(reason, sizeof reason, "SCORM prerequisites: %.500s", expr);
            for (size_t g = 0; g < cnf.n; g++) {
                kgi_clause *cl = &cnf.c[g];
                const char *members[256];
                size_t nm = 0;
                for (size_t j = 0; j < cl->n; j++) {
                    long ti = kgi_manifest_item(m, cl->ids[j]);
                    if (ti < 0) {
                        kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                        "item %s: prerequisite names unknown item \"%s\"; ignored", cid, cl->ids[j]);
                        continue;
                    }
                    if (m->items[ti].concept == KGI_NO_CONCEPT) {
                        kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                        "item %s: prerequisite names \"%s\", a heading without content; ignored",
                                        cid, cl->ids[j]);
                        continue;
                    }
                    if ((size_t)ti == i) {
                        kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                        "item %s: prerequisite names the item itself; ignored", cid);
                        continue;
                    }
                    if (nm < 256) members[nm++] = c->concepts[m->items[ti].concept].id;
                }
                if (nm == 0) continue;
                uint32_t k = cl->k;
                if (k > nm) {
                    kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                    "item %s: \"%u of\" set lost members; now all %zu of them", cid, k, nm);
                    k = (uint32_t)nm;
                }
                kgg_group *grp = kgg_concept_add_group(c, &c->concepts[it->concept], k);
                if (!grp) break;
                grp->reason = kgg_course_str(c, reason);
                for (size_t j = 0; j < nm; j++) {
                    kgg_ref *r = kgg_group_add_member(c, grp, members[j], reason);
                    if (r) r->line = line;
                }
            }
            kgi_cnf_free(&cnf);
            kg_free(expr);
        }
    }
}

/* ---- SCORM 2004 ------------------------------------------------------------- */

/* Effective sequencing element of an item for a child element name: the
 * item's own, else the one in the referenced sequencingCollection entry. */
static xmlNode *seq_part(kgi_manifest *m, xmlNode *seq, const char *ns, const char *name)
{
    if (!seq) return NULL;
    xmlNode *own = kgi_xml_child(seq, ns, name);
    if (own) return own;
    char *ref = kgi_xml_attr(seq, "IDRef");
    if (!ref) return NULL;
    xmlNode *coll = kgi_xml_child(m->manifest, IMSSS, "sequencingCollection");
    xmlNode *hit = NULL;
    for (xmlNode *s = kgi_xml_child(coll, IMSSS, "sequencing"); s; s = kgi_xml_next(s, IMSSS, "sequencing")) {
        char *id = kgi_xml_attr(s, "ID");
        int same = id && strcmp(id, ref) == 0;
        kg_free(id);
        if (same) { hit = kgi_xml_child(s, ns, name); break; }
    }
    kg_free(ref);
    return hit;
}

static int attr_bool(xmlNode *n, const char *name, int def)
{
    char *v = kgi_xml_attr(n, name);
    if (!v) return def;
    int r = strcmp(v, "true") == 0 || strcmp(v, "1") == 0;
    kg_free(v);
    return r;
}

/* Calls fn for every (local objective id, target id, read, write) mapping of
 * an item. */
typedef void (*map_fn)(void *ud, const char *obj, const char *target, int read, int write);

static void for_each_map(kgi_manifest *m, xmlNode *item, map_fn fn, void *ud)
{
    xmlNode *seq = kgi_xml_child(item, IMSSS, "sequencing");
    xmlNode *objs = seq_part(m, seq, IMSSS, "objectives");
    for (xmlNode *o = objs ? objs->children : NULL; o; o = o->next) {
        if (!kgi_xml_is(o, IMSSS, "primaryObjective") && !kgi_xml_is(o, IMSSS, "objective")) continue;
        char *oid = kgi_xml_attr(o, "objectiveID");
        for (xmlNode *mi = kgi_xml_child(o, IMSSS, "mapInfo"); mi; mi = kgi_xml_next(mi, IMSSS, "mapInfo")) {
            char *t = kgi_xml_attr(mi, "targetObjectiveID");
            if (t) fn(ud, oid ? oid : "", t, attr_bool(mi, "readSatisfiedStatus", 1),
                      attr_bool(mi, "writeSatisfiedStatus", 0));
            kg_free(t);
        }
        kg_free(oid);
    }
    xmlNode *aobjs = seq_part(m, seq, ADLSEQ, "objectives");
    for (xmlNode *o = kgi_xml_child(aobjs, ADLSEQ, "objective"); o; o = kgi_xml_next(o, ADLSEQ, "objective")) {
        char *oid = kgi_xml_attr(o, "objectiveID");
        for (xmlNode *mi = kgi_xml_child(o, ADLSEQ, "mapInfo"); mi; mi = kgi_xml_next(mi, ADLSEQ, "mapInfo")) {
            char *t = kgi_xml_attr(mi, "targetObjectiveID");
            if (t) fn(ud, oid ? oid : "", t, attr_bool(mi, "readCompletionStatus", 1),
                      attr_bool(mi, "writeCompletionStatus", 0));
            kg_free(t);
        }
        kg_free(oid);
    }
}

typedef struct writers_ctx {
    const char *target;     /* find items writing this global */
    const char *obj;        /* or: find targets this local objective reads */
    char **targets; size_t ntargets, cap;
    int found;
} writers_ctx;

static void find_writer(void *ud, const char *obj, const char *target, int read, int write)
{
    writers_ctx *w = ud;
    (void)obj; (void)read;
    if (write && strcmp(target, w->target) == 0) w->found = 1;
}

static void find_read_targets(void *ud, const char *obj, const char *target, int read, int write)
{
    writers_ctx *w = ud;
    (void)write;
    if (!read || strcmp(obj, w->obj) != 0) return;
    for (size_t i = 0; i < w->ntargets; i++) if (strcmp(w->targets[i], target) == 0) return;
    if (kg_grow(&w->targets, &w->cap, w->ntargets + 1, sizeof *w->targets)) return;
    if ((w->targets[w->ntargets] = kg_strdup(target))) w->ntargets++;
}

/* Items (other than self) that write a global read by local objective obj
 * of item self. Fills idx; returns the count. */
static size_t objective_writers(kgi_manifest *m, size_t self, const char *obj, size_t *idx, size_t max)
{
    writers_ctx rt = {0};
    rt.obj = obj;
    for_each_map(m, m->items[self].node, find_read_targets, &rt);
    size_t n = 0;
    for (size_t t = 0; t < rt.ntargets; t++) {
        for (size_t j = 0; j < m->nitems && n < max; j++) {
            if (j == self || m->items[j].concept == KGI_NO_CONCEPT) continue;
            writers_ctx w = {0};
            w.target = rt.targets[t];
            for_each_map(m, m->items[j].node, find_writer, &w);
            if (!w.found) continue;
            int dup = 0;
            for (size_t q = 0; q < n; q++) if (idx[q] == j) dup = 1;
            if (!dup) idx[n++] = j;
        }
        kg_free(rt.targets[t]);
    }
    kg_free(rt.targets);
    return n;
}

static int blocking_action(const char *a)
{
    return a && (strcmp(a, "disabled") == 0 || strcmp(a, "skip") == 0 || strcmp(a, "hiddenFromChoice") == 0);
}

/* A negated condition that is true while the status is unknown. */
static int known_test(const char *cond)
{
    return cond && (strcmp(cond, "objectiveStatusKnown") == 0 || strcmp(cond, "activityProgressKnown") == 0 ||
                    strcmp(cond, "objectiveMeasureKnown") == 0);
}

static int status_condition(const char *cond)
{
    static const char *const ok[] = { "satisfied", "objectiveStatusKnown", "completed",
        "activityProgressKnown", "objectiveMeasureKnown", NULL };
    for (int i = 0; cond && ok[i]; i++) if (strcmp(cond, ok[i]) == 0) return 1;
    return 0;
}

static void scorm2004_rules(kgi_manifest *m, kgg_course *c)
{
    for (size_t i = 0; i < m->nitems; i++) {
        if (m->items[i].concept == KGI_NO_CONCEPT) continue;
        xmlNode *seq = kgi_xml_child(m->items[i].node, IMSSS, "sequencing");
        xmlNode *rules = seq_part(m, seq, IMSSS, "sequencingRules");
        if (!rules) continue;
        const char *cid = c->concepts[m->items[i].concept].id;
        for (xmlNode *r = kgi_xml_child(rules, IMSSS, "preConditionRule"); r;
             r = kgi_xml_next(r, IMSSS, "preConditionRule")) {
            uint32_t line = (uint32_t)xmlGetLineNo(r);
            xmlNode *act = kgi_xml_child(r, IMSSS, "ruleAction");
            char *action = act ? kgi_xml_attr(act, "action") : NULL;
            if (!blocking_action(action)) { kg_free(action); continue; }
            xmlNode *conds = kgi_xml_child(r, IMSSS, "ruleConditions");
            char *comb = conds ? kgi_xml_attr(conds, "conditionCombination") : NULL;
            int any = comb && strcmp(comb, "any") == 0;
            kg_free(comb);
            /* Collect one member list per usable condition. */
            size_t groups[16][64], ng[16];
            char objs[16][128];
            size_t nconds = 0;
            int unusable = 0, self_only = 1, nknown = 0, nall = 0;
            for (xmlNode *rc = kgi_xml_child(conds, IMSSS, "ruleCondition"); rc;
                 rc = kgi_xml_next(rc, IMSSS, "ruleCondition")) {
                char *ref = kgi_xml_attr(rc, "referencedObjective");
                char *op = kgi_xml_attr(rc, "operator");
                char *cond = kgi_xml_attr(rc, "condition");
                int negated = op && strcmp(op, "not") == 0;
                nall++;
                if (ref) self_only = 0;
                if (ref && negated && known_test(cond)) nknown++;
                if (!ref) {
                    /* About the activity itself (attempted, …): not a link. */
                } else if (!negated || !status_condition(cond)) {
                    unusable = 1;
                } else if (nconds < 16) {
                    size_t w = objective_writers(m, i, ref, groups[nconds], 64);
                    if (w == 0) {
                        kgg_course_diag(c, KGG_WARNING, m->file, (uint32_t)xmlGetLineNo(rc), 0,
                                        "item %s: precondition on objective \"%s\", which no other activity "
                                        "writes; ignored", cid, ref);
                    } else {
                        int dup = -1;
                        for (size_t q = 0; q < nconds; q++)
                            if (ng[q] == w && memcmp(groups[q], groups[nconds], w * sizeof(size_t)) == 0) dup = (int)q;
                        if (dup < 0) {
                            ng[nconds] = w;
                            snprintf(objs[nconds], sizeof objs[0], "%s", ref);
                            nconds++;
                        }
                    }
                }
                kg_free(ref); kg_free(op); kg_free(cond);
            }
            if (nconds == 0) {
                kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                "item %s: precondition rule (%s) %s; ignored", cid, action,
                                unusable ? "does not wait for another activity's objective (kgpath cannot express it)"
                                : self_only ? "tests only the activity itself"
                                : "names no objective written by another activity");
                kg_free(action);
                continue;
            }
            if (unusable)
                kgg_course_diag(c, KGG_WARNING, m->file, line, 0,
                                "item %s: some conditions of a precondition rule cannot be expressed; ignored", cid);
            char reason[300];
            kgg_concept *k = &c->concepts[m->items[i].concept];
            int gate = strcmp(action, "disabled") == 0 && (any ? nknown > 0 : nknown == nall);
            if (!gate) {
                /* Not a lock on a learner who has not attempted the
                 * prerequisites: the designer's order, a soft edge. */
                snprintf(reason, sizeof reason, "SCORM 2004 precondition: %s%s", action,
                         strcmp(action, "disabled") == 0 ? " after a failed attempt at its prerequisite"
                                                         : " until its prerequisite is met");
                for (size_t q = 0; q < nconds; q++)
                    for (size_t j = 0; j < ng[q]; j++) {
                        kgg_ref *ref = kgg_concept_add_recommend(c, &c->concepts[m->items[i].concept],
                                                                 c->concepts[m->items[groups[q][j]].concept].id, reason);
                        if (ref) ref->line = line;
                    }
            } else if (any || nconds == 1) {
                for (size_t q = 0; q < nconds; q++) {
                    snprintf(reason, sizeof reason, "SCORM 2004 precondition: %s until objective %.120s is met",
                             action, objs[q]);
                    kgg_group *g = kgg_concept_add_group(c, k, 1);
                    if (!g) break;
                    g->reason = kgg_course_str(c, reason);
                    for (size_t j = 0; j < ng[q]; j++) {
                        kgg_ref *ref = kgg_group_add_member(c, g, c->concepts[m->items[groups[q][j]].concept].id, reason);
                        if (ref) ref->line = line;
                        k = &c->concepts[m->items[i].concept];
                    }
                }
            } else {
                snprintf(reason, sizeof reason, "SCORM 2004 precondition: %s until one of %zu objectives is met",
                         action, nconds);
                kgg_group *g = kgg_concept_add_group(c, k, 1);
                for (size_t q = 0; g && q < nconds; q++)
                    for (size_t j = 0; j < ng[q]; j++) {
                        const char *tid = c->concepts[m->items[groups[q][j]].concept].id;
                        int dup = 0;
                        for (size_t x = 0; x < g->nmembers; x++) if (strcmp(g->members[x].target, tid) == 0) dup = 1;
                        if (!dup) { kgg_ref *ref = kgg_group_add_member(c, g, tid, reason); if (ref) ref->line = line; }
                    }
                if (g) g->reason = kgg_course_str(c, reason);
            }
            kg_free(action);
        }
    }
}

static int is_2004(kgi_manifest *m)
{
    xmlNode *md = kgi_xml_child(m->manifest, m->cp_ns, "metadata");
    xmlNode *sv = kgi_xml_child(md, m->cp_ns, "schemaversion");
    if (sv) {
        char *v = kgi_xml_text(sv);
        int y = v && (strstr(v, "2004") || strstr(v, "1.3"));
        int old = v && strcmp(v, "1.2") == 0;
        kg_free(v);
        if (y) return 1;
        if (old) return 0;
    }
    for (xmlNs *ns = m->manifest->nsDef; ns; ns = ns->next)
        if (ns->href && (strcmp((const char *)ns->href, IMSSS) == 0 ||
                         strstr((const char *)ns->href, "adlcp_v1p3"))) return 1;
    return 0;
}

kgg_course *kgi_scorm_import(kgi_pkg *p, const char *root, const kgi_options *opt)
{
    (void)opt;
    kgg_course *c = kgg_course_new();
    if (!c) return NULL;
    kgi_manifest m;
    if (kgi_manifest_load(&m, p, root, c, "scorm12") == 0) {
        if (is_2004(&m)) {
            c->format = kgg_course_str(c, "scorm2004");
            scorm2004_rules(&m, c);
        }
        /* 1.2 prerequisites are read in both: some 2004 packages keep them. */
        scorm12_prereqs(&m, c);
        kgi_dedupe_edges(c);
    }
    kgi_manifest_done(&m);
    return c;
}
