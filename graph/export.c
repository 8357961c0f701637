/* Export of a snapshot as JSON (jansson), dot and GraphML (libxml2's
 * xmlTextWriter). See graph/export.h. */
#include "graph/export.h"

#include <jansson.h>
#include <libxml/xmlwriter.h>
#include <string.h>

#include "kgpath_base.h"
#include "base/buf.h"

static json_t *num_or_null(double v)
{
    if (v < 0) return json_null();
    if (v == (double)(long long)v) return json_integer((json_int_t)v);
    return json_real(v);
}

static json_t *str_or_null(const char *s) { return s ? json_string(s) : json_null(); }

/* Appends the unresolved targets of group gi (or of the recommendations
 * when gi == KGG_NONE) of concept i. The unresolved list is sorted by
 * concept, so the caller passes the first index of concept i's entries. */
static int add_unresolved(const kgg_snap *s, size_t from, uint32_t i, uint32_t gi, json_t *arr)
{
    for (size_t u = from; u < s->nunresolved && s->unresolved[u].concept == i; u++) {
        const kgg_unresolved *x = &s->unresolved[u];
        if ((gi == KGG_NONE) != (x->recommended != 0)) continue;
        if (gi != KGG_NONE && x->group != gi) continue;
        if (json_array_append_new(arr, json_string(x->target))) return -1;
    }
    return 0;
}

/* Sets obj[field] to {key of to[j]: why[j]} for the edges j in [from, end)
 * that have a reason (an authored <require>/<recommend> text, or the model
 * and score of an accepted suggestion); no field when none has one. */
static int add_reasons(const kgg_snap *s, const uint32_t *to, const char *const *why, uint32_t from, uint32_t end,
                       json_t *obj, const char *field)
{
    json_t *m = NULL;
    for (uint32_t j = from; j < end; j++) {
        json_t *v = why && why[j] ? json_string(why[j]) : NULL;   /* NULL too for text that is not UTF-8 */
        if (!v) continue;
        if (!m && !(m = json_object())) { json_decref(v); return -1; }
        if (json_object_set_new(m, s->key[to[j]], v)) { json_decref(m); return -1; }
    }
    return m && json_object_set_new(obj, field, m) ? -1 : 0;
}

static kgp_status export_json(const kgg_snap *s, FILE *out, kgg_err *e)
{
    json_t *courses = json_array();
    if (!courses) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    for (uint32_t c = 0; c < s->ncourses; c++) {
        json_t *o = json_object();
        if (!o || json_array_append_new(courses, o)) { json_decref(courses); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
        json_object_set_new(o, "id", json_string(s->course_id[c]));
        json_object_set_new(o, "title", str_or_null(s->course_title[c]));
        json_object_set_new(o, "language", str_or_null(s->course_language[c]));
        json_object_set_new(o, "version", str_or_null(s->course_version[c]));
        json_object_set_new(o, "format", str_or_null(s->course_format[c]));
        if (s->course_identity[c]) json_object_set_new(o, "identity", json_string(s->course_identity[c]));
        json_object_set_new(o, "concepts", json_integer(s->course_first[c + 1] - s->course_first[c]));
    }
    char *cs = json_dumps(courses, JSON_PRESERVE_ORDER | JSON_COMPACT);
    json_decref(courses);
    if (!cs) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    int bad = fprintf(out, "{\"kgpath_export\": 1, \"generator\": \"kgpath %s\",\n\"courses\": %s,\n\"concepts\": [",
                      KGPATH_VERSION_STRING, cs) < 0;
    free(cs);
    size_t u0 = 0;
    for (uint32_t i = 0; i < s->n && !bad; i++) {
        while (u0 < s->nunresolved && s->unresolved[u0].concept < i) u0++;
        json_t *o = json_object();
        json_t *req = json_array(), *rec = json_array();
        if (!o || !req || !rec) { json_decref(o); json_decref(req); json_decref(rec); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
        json_object_set_new(o, "id", json_string(s->key[i]));
        json_object_set_new(o, "title", json_string(s->title[i]));
        json_object_set_new(o, "course", json_string(s->course_id[s->course[i]]));
        json_object_set_new(o, "minutes", num_or_null(s->minutes[i]));
        json_object_set_new(o, "difficulty", num_or_null(s->difficulty[i]));
        for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++) {
            json_t *grp = json_object(), *of = json_array();
            if (!grp || !of) { json_decref(grp); json_decref(of); bad = 2; break; }
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++)
                json_array_append_new(of, json_string(s->key[s->mem[j]]));
            if (add_unresolved(s, u0, i, g, of)) bad = 2;
            json_object_set_new(grp, "k", json_integer(s->grp_k[g]));
            json_object_set_new(grp, "of", of);
            if (s->grp_reason[g]) json_object_set_new(grp, "reason", json_string(s->grp_reason[g]));
            if (add_reasons(s, s->mem, s->mem_reason, s->mem_off[g], s->mem_off[g + 1], grp, "member_reasons"))
                bad = 2;
            json_array_append_new(req, grp);
        }
        for (uint32_t j = s->rec_off[i]; j < s->rec_off[i + 1]; j++)
            json_array_append_new(rec, json_string(s->key[s->rec[j]]));
        if (add_unresolved(s, u0, i, KGG_NONE, rec)) bad = 2;
        json_object_set_new(o, "requires", req);
        json_object_set_new(o, "recommends", rec);
        if (add_reasons(s, s->rec, s->rec_reason, s->rec_off[i], s->rec_off[i + 1], o, "recommend_reasons"))
            bad = 2;
        if (s->topo_rank[i] != KGG_NONE) json_object_set_new(o, "rank", json_integer(s->topo_rank[i]));
        if (bad == 2) { json_decref(o); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
        if (fputs(i ? ",\n" : "\n", out) == EOF ||
            json_dumpf(o, out, JSON_PRESERVE_ORDER | JSON_COMPACT) != 0) bad = 1;
        json_decref(o);
    }
    if (!bad) {
        json_t *un = json_array();
        if (!un) return kgg_errf(e, KGP_ENOMEM, "out of memory");
        for (size_t u = 0; u < s->nunresolved; u++) {
            json_t *o = json_object();
            json_object_set_new(o, "from", json_string(s->key[s->unresolved[u].concept]));
            json_object_set_new(o, "target", json_string(s->unresolved[u].target));
            json_object_set_new(o, "recommended", json_boolean(s->unresolved[u].recommended));
            json_array_append_new(un, o);
        }
        char *us = json_dumps(un, JSON_PRESERVE_ORDER | JSON_COMPACT);
        json_decref(un);
        if (!us) return kgg_errf(e, KGP_ENOMEM, "out of memory");
        bad = fprintf(out, "\n],\n\"unresolved\": %s}\n", us) < 0;
        free(us);
    }
    if (bad || fflush(out) != 0 || ferror(out)) return kgg_errf(e, KGP_EIO, "cannot write the export");
    return KGP_OK;
}

/* What a dot string holds: a node name (keys are [A-Za-z0-9_.:-], so
 * only '"' and '\\' are escaped, that no name ends the string), or a label
 * or tooltip that Graphviz shows as written (kg_buf_gv). */
enum { DOT_ID, DOT_LABEL, DOT_TOOLTIP };

/* Appends s as a dot quoted string to b. */
static void dot_str(kg_buf *b, const char *s, int mode)
{
    kg_buf_put(b, "\"", 1);
    if (mode != DOT_ID) {
        kg_buf_gv(b, s, mode == DOT_TOOLTIP ? KG_GV_TOOLTIP : KG_GV_LABEL);
    } else {
        for (; s && *s; s++) {
            if (*s == '"' || *s == '\\') kg_buf_put(b, "\\", 1);
            kg_buf_put(b, s, 1);
        }
    }
    kg_buf_put(b, "\"", 1);
}

/* ", tooltip=..." (sep first) for an edge's reason a and its group's
 * reason g, either NULL, one per line (g once when CSV gave both the same
 * text); nothing when both are NULL. */
static void dot_tooltip(kg_buf *b, const char *sep, const char *a, const char *g)
{
    if (a && g && !strcmp(a, g)) g = NULL;
    if (!a && !g) return;
    kg_buf b2 = {0};
    kg_buf_puts(&b2, a);
    kg_buf_join(&b2, "\n", g);
    kg_buf_printf(b, "%stooltip=", sep);
    dot_str(b, b2.data, DOT_TOOLTIP);
    if (b2.oom) b->oom = 1;
    kg_buf_free(&b2);
}

/* Edges carry their reasons as tooltips (what `export --format svg` shows
 * on hover, and what dot -Tsvg turns into the edge's xlink:title). Each
 * line is built in a kg_buf, then written. */
static kgp_status export_dot(const kgg_snap *s, FILE *out, kgg_err *e)
{
    kg_buf b = {0};
    int bad = fputs("digraph kgpath {\n  rankdir=LR;\n  node [shape=box, style=rounded];\n", out) == EOF;
#define FLUSH() do {                                                                     \
        if (b.oom) { kg_buf_free(&b); return kgg_errf(e, KGP_ENOMEM, "out of memory"); } \
        if (b.len && fwrite(b.data, 1, b.len, out) != b.len) bad = 1;                    \
        b.len = 0;                                                                       \
    } while (0)
    for (uint32_t c = 0; c < s->ncourses && !bad; c++) {
        kg_buf_printf(&b, "  subgraph \"cluster_%u\" {\n    label=", c);
        dot_str(&b, s->course_title[c] ? s->course_title[c] : s->course_id[c], DOT_LABEL);
        kg_buf_puts(&b, ";\n");
        for (uint32_t i = s->course_first[c]; i < s->course_first[c + 1]; i++) {
            kg_buf_puts(&b, "    ");
            dot_str(&b, s->key[i], DOT_ID);
            kg_buf_puts(&b, " [label=");
            dot_str(&b, s->title[i], DOT_LABEL);
            kg_buf_puts(&b, "];\n");
        }
        kg_buf_puts(&b, "  }\n");
        FLUSH();
    }
    for (uint32_t i = 0; i < s->n && !bad; i++) {
        for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                const char *why = s->mem_reason ? s->mem_reason[j] : NULL;
                int lab = s->grp_k[g] != 1 || s->grp_n[g] != 1;
                kg_buf_puts(&b, "  "); dot_str(&b, s->key[s->mem[j]], DOT_ID);
                kg_buf_puts(&b, " -> "); dot_str(&b, s->key[i], DOT_ID);
                if (lab) kg_buf_printf(&b, " [label=\"%u of %u\"", s->grp_k[g], s->grp_n[g]);
                if (why || s->grp_reason[g]) dot_tooltip(&b, lab ? ", " : " [", why, s->grp_reason[g]);
                kg_buf_puts(&b, lab || why || s->grp_reason[g] ? "];\n" : ";\n");
            }
        for (uint32_t j = s->rec_off[i]; j < s->rec_off[i + 1]; j++) {
            kg_buf_puts(&b, "  "); dot_str(&b, s->key[s->rec[j]], DOT_ID);
            kg_buf_puts(&b, " -> "); dot_str(&b, s->key[i], DOT_ID);
            kg_buf_puts(&b, " [style=dashed");
            dot_tooltip(&b, ", ", s->rec_reason ? s->rec_reason[j] : NULL, NULL);
            kg_buf_puts(&b, "];\n");
        }
        FLUSH();
    }
#undef FLUSH
    kg_buf_free(&b);
    if (bad || fputs("}\n", out) == EOF || fflush(out) != 0 || ferror(out))
        return kgg_errf(e, KGP_EIO, "cannot write the export");
    return KGP_OK;
}

/* <data key="key">val</data>; returns < 0 on failure. */
static int gml_data(xmlTextWriterPtr w, const char *key, const char *val)
{
    kg_buf clean = {0};
    if (kg_xml_bad_char(val)) {         /* a database imported before CSV refused them */
        kg_buf_xml_chars(&clean, val);
        if (clean.oom) return -1;
        val = clean.data;
    }
    int rc = xmlTextWriterStartElement(w, BAD_CAST "data") < 0 ||
             xmlTextWriterWriteAttribute(w, BAD_CAST "key", BAD_CAST key) < 0 ||
             xmlTextWriterWriteString(w, BAD_CAST(val ? val : "")) < 0 ? -1 : 0;
    kg_buf_free(&clean);
    return rc ? rc : xmlTextWriterEndElement(w);
}

static kgp_status export_graphml(const kgg_snap *s, FILE *out, kgg_err *e)
{
    xmlOutputBufferPtr ob = xmlOutputBufferCreateFile(out, NULL);
    if (!ob) return kgg_errf(e, KGP_ENOMEM, "out of memory");
    xmlTextWriterPtr w = xmlNewTextWriter(ob);
    if (!w) { xmlOutputBufferClose(ob); return kgg_errf(e, KGP_ENOMEM, "out of memory"); }
    xmlTextWriterSetIndent(w, 1);
    int r = 0;
#define X(call) do { if (r >= 0) r = (call); } while (0)
#define S(str) BAD_CAST(str)
    X(xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL));
    X(xmlTextWriterStartElement(w, S("graphml")));
    X(xmlTextWriterWriteAttribute(w, S("xmlns"), S("http://graphml.graphdrawing.org/xmlns")));
    static const char *keys[][4] = {
        {"title", "node", "title", "string"}, {"course", "node", "course", "string"},
        {"minutes", "node", "minutes", "double"}, {"kind", "edge", "kind", "string"},
        {"group", "edge", "group", "int"}, {"k", "edge", "k", "int"}, {"n", "edge", "n", "int"},
        {"reason", "edge", "reason", "string"}, {"group_reason", "edge", "group_reason", "string"},
    };
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        X(xmlTextWriterStartElement(w, S("key")));
        X(xmlTextWriterWriteAttribute(w, S("id"), S(keys[k][0])));
        X(xmlTextWriterWriteAttribute(w, S("for"), S(keys[k][1])));
        X(xmlTextWriterWriteAttribute(w, S("attr.name"), S(keys[k][2])));
        X(xmlTextWriterWriteAttribute(w, S("attr.type"), S(keys[k][3])));
        X(xmlTextWriterEndElement(w));
    }
    X(xmlTextWriterStartElement(w, S("graph")));
    X(xmlTextWriterWriteAttribute(w, S("id"), S("kgpath")));
    X(xmlTextWriterWriteAttribute(w, S("edgedefault"), S("directed")));
    char num[32];
    for (uint32_t i = 0; i < s->n && r >= 0; i++) {
        X(xmlTextWriterStartElement(w, S("node")));
        X(xmlTextWriterWriteAttribute(w, S("id"), S(s->key[i])));
        X(gml_data(w, "title", s->title[i]));
        X(gml_data(w, "course", s->course_id[s->course[i]]));
        if (s->minutes[i] >= 0) {
            snprintf(num, sizeof num, "%g", (double)s->minutes[i]);
            X(gml_data(w, "minutes", num));
        }
        X(xmlTextWriterEndElement(w));
    }
    for (uint32_t i = 0; i < s->n && r >= 0; i++) {
        for (uint32_t g = s->grp_off[i]; g < s->grp_off[i + 1]; g++)
            for (uint32_t j = s->mem_off[g]; j < s->mem_off[g + 1]; j++) {
                X(xmlTextWriterStartElement(w, S("edge")));
                X(xmlTextWriterWriteAttribute(w, S("source"), S(s->key[s->mem[j]])));
                X(xmlTextWriterWriteAttribute(w, S("target"), S(s->key[i])));
                X(gml_data(w, "kind", "requires"));
                snprintf(num, sizeof num, "%u", g - s->grp_off[i]);
                X(gml_data(w, "group", num));
                snprintf(num, sizeof num, "%u", s->grp_k[g]);
                X(gml_data(w, "k", num));
                snprintf(num, sizeof num, "%u", s->grp_n[g]);
                X(gml_data(w, "n", num));
                if (s->mem_reason && s->mem_reason[j]) X(gml_data(w, "reason", s->mem_reason[j]));
                if (s->grp_reason[g]) X(gml_data(w, "group_reason", s->grp_reason[g]));
                X(xmlTextWriterEndElement(w));
            }
        for (uint32_t j = s->rec_off[i]; j < s->rec_off[i + 1]; j++) {
            X(xmlTextWriterStartElement(w, S("edge")));
            X(xmlTextWriterWriteAttribute(w, S("source"), S(s->key[s->rec[j]])));
            X(xmlTextWriterWriteAttribute(w, S("target"), S(s->key[i])));
            X(gml_data(w, "kind", "recommends"));
            if (s->rec_reason && s->rec_reason[j]) X(gml_data(w, "reason", s->rec_reason[j]));
            X(xmlTextWriterEndElement(w));
        }
    }
    X(xmlTextWriterEndDocument(w));
    xmlFreeTextWriter(w);   /* flushes and closes ob (not the FILE) */
#undef X
#undef S
    if (r < 0 || fflush(out) != 0 || ferror(out)) return kgg_errf(e, KGP_EIO, "cannot write the export");
    return KGP_OK;
}

kgp_status kgg_export(const kgg_snap *s, const char *format, FILE *out, kgg_err *e)
{
    if (!strcmp(format, "json")) return export_json(s, out, e);
    if (!strcmp(format, "dot")) return export_dot(s, out, e);
    if (!strcmp(format, "graphml")) return export_graphml(s, out, e);
    return kgg_errf(e, KGP_EUSAGE, "unknown export format '%s' (json, dot or graphml)", format);
}
