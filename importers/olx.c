/* Open edX OLX courses (course.xml and its folders).
 *
 * Mapping:
 *  - course id: "<org>.<course>" from course.xml (made safe); title: the
 *    course's display_name.
 *  - every chapter is a unit and a concept, every sequential a concept; ids
 *    are their url_name (made safe; inline blocks without one get
 *    "<tag>-<n>"; a clash gets "-2", "-3", …). Titles: display_name.
 *  - a chapter requires all its sequentials (it is done when they are) and
 *    takes no study time of its own (0 minutes);
 *    each sequential recommends (soft edge) the one before it in course order.
 *  - text of a sequential: the display names of its verticals and blocks,
 *    HTML bodies (html/<filename>.html, parsed as HTML), problem text
 *    (labels, choices, solutions; no scripts), video transcripts (.srt in
 *    static/, or the .srt.sjson of the "sub" attribute).
 *  - <conditional sources="a; b"> makes the sequential holding the
 *    conditional require the sequentials holding each source (AND).
 *    Sources are url_names or i4x:// / block-v1: locations.
 *  - subsection gating (edx-platform openedx/core/lib/gating): the links
 *    live in edx-milestones and are not exported today; when an export
 *    carries them as <prerequisite url_name="…" min_score="…"
 *    min_completion="…"/> inside a <sequential> (openedx-platform PR
 *    #37475), the sequential requires the one named, unless the course sets
 *    enable_subsection_gating="false".
 *  - entrance exam (course attributes entrance_exam_enabled,
 *    entrance_exam_id; the exam chapter has is_entrance_exam="true"): the
 *    LMS locks the rest of the course until the exam is passed, so every
 *    other chapter and sequential requires the exam chapter.
 *  - an XBlock written inline with only url_name and display_name /
 *    xblock-family (<done url_name="…" xblock-family="xblock.v1"/>: every
 *    field at its default) has no file of its own: not a missing file.
 *  - about/effort.html ("HH:MM" or a duration) is spread evenly over the
 *    sequentials when no finer estimate exists.
 *  - drafts/ (unpublished blocks) are ignored with one warning, or with
 *    include_drafts imported: a draft block replaces the published one of
 *    the same url_name, and a draft vertical joins the sequential named by
 *    its parent_url.
 * A block element is a pointer to <tag>/<url_name>.xml when it has a
 * url_name and no children and no attributes other than url_name,
 * display_name and xblock-family. Missing files are warnings naming the file.
 */
#include "importers/pkg.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "base/alloc.h"
#include "importers/html_text.h"
#include "importers/xml_safe.h"

#define MAX_TEXT (64 * 1024)
#define MAX_DEPTH 48

typedef struct draft { char *parent; char *file; } draft;
typedef struct cond { long seq; char *sources; char *file; uint32_t line; } cond;
typedef struct gate { long seq; char *target; char *file; uint32_t line; char *min_score, *min_completion; } gate;

typedef struct olx {
    kgi_pkg *p;
    const char *root;
    const kgi_options *opt;
    kgg_course *c;
    kgi_map ids;            /* concept ids in use */
    kgi_map block_seq;      /* block url_name -> sequential concept index */
    kgi_map warned;         /* missing files already reported */
    long cur_seq;           /* concept index of the sequential being read */
    long cur_chapter;
    kg_buf text;           /* text of the current sequential */
    long *seqs; size_t nseqs, capseqs;
    draft *drafts; size_t ndrafts, capdrafts;
    cond *conds; size_t nconds, capconds;
    gate *gates; size_t ngates, capgates;
    long *chapters; int *chapter_exam; size_t nchapters, capchapters, capexam;
    size_t counter;
} olx;

static void rel_path(olx *o, const char *a, char *out, size_t n)
{
    snprintf(out, n, "%.500s%s%.500s", o->root, *o->root ? "/" : "", a);
}

static void show(olx *o, const char *rel, char *out, size_t n) { kgi_pkg_display(o->p, rel, out, n); }

/* Reads root-relative file `name`. 0 ok; 1 missing (warned once when
 * warn); -1 other problem (warned). */
static int read_rel(olx *o, const char *name, int warn, const char *from, uint32_t line,
                    char **buf, size_t *len)
{
    char rel[1024], err[1200];
    rel_path(o, name, rel, sizeof rel);
    int rc = kgi_pkg_read(o->p, rel, buf, len, err, sizeof err);
    if (rc == 0) return 0;
    if ((warn || rc < 0) && kgi_map_get(&o->warned, rel, 0) == 0) {
        kgi_map_put(&o->warned, rel, 1);
        kgg_course_diag(o->c, KGG_WARNING, from, line, 0,
                        rc == 1 ? "referenced file is missing: %s" : "%s", err);
    }
    return rc;
}

static int exists_rel(olx *o, const char *name)
{
    char rel[1024];
    rel_path(o, name, rel, sizeof rel);
    return kgi_pkg_exists(o->p, rel);
}

/* Text of an XML element without <script>/<style>, whitespace collapsed. */
static void xml_text_into(xmlNode *n, kg_buf *b, int depth)
{
    for (; n; n = n->next) {
        if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE) {
            kg_buf_puts(b, (const char *)n->content);
            kg_buf_puts(b, " ");
        } else if (n->type == XML_ELEMENT_NODE && depth < 200) {
            if (strcmp((const char *)n->name, "script") == 0 || strcmp((const char *)n->name, "style") == 0)
                continue;
            xml_text_into(n->children, b, depth + 1);
        }
    }
}

static void add_text(olx *o, const char *s)
{
    if (o->cur_seq < 0 || !s || !*s || o->text.len > MAX_TEXT) return;
    kg_buf_join(&o->text, "\n", s);
}

/* The url_name in a location string: "i4x://org/course/type/name",
 * "block-v1:org+course+run+type@t+block@name", or a bare url_name. */
static void location_name(const char *loc, char *out, size_t n)
{
    const char *s = loc;
    const char *b = strstr(loc, "block@");
    if (b) s = b + 6;
    else if (strncmp(loc, "i4x://", 6) == 0) { const char *l = strrchr(loc, '/'); s = l ? l + 1 : loc; }
    snprintf(out, n, "%s", s);
    char *end = out + strlen(out);
    while (end > out && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\n')) *--end = 0;
}

static int is_pointer(xmlNode *n)
{
    if (!xmlHasProp(n, (const xmlChar *)"url_name")) return 0;
    for (xmlNode *c = n->children; c; c = c->next)
        if (c->type == XML_ELEMENT_NODE || (c->type == XML_TEXT_NODE && c->content &&
                                            strspn((const char *)c->content, " \t\r\n") != strlen((const char *)c->content)))
            return 0;
    for (xmlAttr *a = n->properties; a; a = a->next)
        if (strcmp((const char *)a->name, "url_name") != 0 && strcmp((const char *)a->name, "display_name") != 0 &&
            strcmp((const char *)a->name, "xblock-family") != 0)
            return 0;
    return 1;
}

/* Tags whose blocks keep their definition in <tag>/<url_name>.xml. */
static int file_backed(const char *tag)
{
    static const char *const t[] = { "course", "chapter", "sequential", "vertical", "html", "problem",
                                     "video", "discussion", "library_content", "split_test", NULL };
    for (int i = 0; t[i]; i++) if (strcmp(tag, t[i]) == 0) return 1;
    return 0;
}

/* An XBlock serialised inline (all fields at their defaults, so no file):
 * a pointer-shaped element of another tag that carries display_name or
 * xblock-family and whose file does not exist. */
static int inline_xblock(olx *o, xmlNode *n, const char *tag, const char *url)
{
    if (file_backed(tag)) return 0;
    if (!xmlHasProp(n, (const xmlChar *)"display_name") && !xmlHasProp(n, (const xmlChar *)"xblock-family")) return 0;
    char name[1200], safe[1024], err[512], dsafe[1100];
    snprintf(name, sizeof name, "%s/%s.xml", tag, url);
    if (kgi_pkg_resolve("", name, safe, sizeof safe, err, sizeof err) < 0) return 0;
    snprintf(dsafe, sizeof dsafe, "drafts/%s", safe);
    return !exists_rel(o, safe) && !(o->opt->include_drafts && exists_rel(o, dsafe));
}

static long new_concept(olx *o, const char *tag, const char *url_name, const char *title, uint32_t line)
{
    char want[256], id[256], fb[64];
    snprintf(fb, sizeof fb, "%s-%zu", tag, ++o->counter);
    kgi_safe_id(url_name, fb, want, sizeof want);
    kgi_unique_id(&o->ids, want, id, sizeof id);
    kgg_concept *k = kgg_course_add_concept(o->c, id, title && *title ? title : id);
    if (!k) return -1;
    k->line = line;
    return (long)o->c->nconcepts - 1;
}

static void process(olx *o, xmlNode *n, const char *file, int depth);

static void process_children(olx *o, xmlNode *n, const char *file, int depth)
{
    for (xmlNode *ch = n->children; ch; ch = ch->next)
        if (ch->type == XML_ELEMENT_NODE) process(o, ch, file, depth + 1);
}

static void video_text(olx *o, xmlNode *n, const char *file)
{
    char *name = NULL;
    uint32_t line = (uint32_t)xmlGetLineNo(n);
    for (xmlNode *t = kgi_xml_child(n, NULL, "transcript"); t; t = kgi_xml_next(t, NULL, "transcript")) {
        char *lang = kgi_xml_attr(t, "language");
        char *src = kgi_xml_attr(t, "src");
        if (src && (!name || (lang && strcmp(lang, "en") == 0))) { kg_free(name); name = src; src = NULL; }
        kg_free(src);
        kg_free(lang);
    }
    if (!name) {
        char *tj = kgi_xml_attr(n, "transcripts");
        if (tj) {
            json_error_t e;
            json_t *j = json_loads(tj, 0, &e);
            json_t *en = json_object_get(j, "en");
            if (json_is_string(en)) name = kg_strdup(json_string_value(en));
            json_decref(j);
            kg_free(tj);
        }
    }
    char path[1200], safe[1024], err[256];
    char *buf; size_t len;
    if (name) {
        snprintf(path, sizeof path, "static/%s", name);
        if (kgi_pkg_resolve("", path, safe, sizeof safe, err, sizeof err) == 0 &&
            read_rel(o, safe, 1, file, line, &buf, &len) == 0) {
            size_t bad;
            uint32_t bl, bc;
            if (!strstr(safe, ".sjson") && kgi_utf8_check(buf, len, &bad, &bl, &bc)) {
                /* a subtitle file in another encoding: its text still
                 * counts, but no invalid UTF-8 may reach the database */
                kgg_course_diag(o->c, KGG_WARNING, file, line, 0, "transcript \"%s\" is not UTF-8 "
                                "(byte 0x%02X at line %u, column %u): bytes that are not are read as U+FFFD",
                                name, (unsigned char)buf[bad], bl, bc);
                char *fixed = kgi_utf8_repair(buf, len);
                if (fixed) { kg_free(buf); buf = fixed; len = strlen(fixed); }
            }
            char *t = strstr(safe, ".sjson") ? kgi_sjson_to_text(buf, len) : kgi_srt_to_text(buf, len);
            add_text(o, t);
            kg_free(t);
            kg_free(buf);
        } else if (strncmp(path, "static/", 7) == 0 && kgi_pkg_resolve("", path, safe, sizeof safe, err, sizeof err) < 0) {
            kgg_course_diag(o->c, KGG_WARNING, file, line, 0, "transcript \"%s\": %s", name, err);
        }
        kg_free(name);
        return;
    }
    char *sub = kgi_xml_attr(n, "sub");
    if (sub && *sub) {
        snprintf(path, sizeof path, "static/subs_%s.srt.sjson", sub);
        if (kgi_pkg_resolve("", path, safe, sizeof safe, err, sizeof err) == 0 &&
            read_rel(o, safe, 0, file, line, &buf, &len) == 0) {
            char *t = kgi_sjson_to_text(buf, len);
            add_text(o, t);
            kg_free(t);
            kg_free(buf);
        }
    }
    kg_free(sub);
}

static void html_text(olx *o, xmlNode *n, const char *file)
{
    char *fname = kgi_xml_attr(n, "filename");
    if (fname) {
        char path[1200], safe[1024], err[512];
        snprintf(path, sizeof path, "html/%s%s", fname,
                 strlen(fname) > 5 && strcasecmp(fname + strlen(fname) - 5, ".html") == 0 ? "" : ".html");
        /* A draft html block keeps its body in drafts/html/. */
        int from_drafts = strstr(file, "drafts/html/") != NULL;
        char draft_path[1300];
        snprintf(draft_path, sizeof draft_path, "drafts/%s", path);
        if (kgi_pkg_resolve("", from_drafts ? draft_path : path, safe, sizeof safe, err, sizeof err) < 0) {
            kgg_course_diag(o->c, KGG_ERROR, file, (uint32_t)xmlGetLineNo(n), 0, "html filename \"%s\": %s", fname, err);
        } else {
            char *buf; size_t len;
            if (read_rel(o, safe, 1, file, (uint32_t)xmlGetLineNo(n), &buf, &len) == 0) {
                char *t = kgi_html_to_text(buf, len);
                add_text(o, t);
                kg_free(t);
                kg_free(buf);
            }
        }
        kg_free(fname);
        return;
    }
    /* Inline HTML body. */
    kg_buf b = {0};
    xml_text_into(n->children, &b, 0);
    char *t = kgi_collapse_ws(kg_buf_take(&b));
    add_text(o, t);
    kg_free(t);
}

static void attach_drafts(olx *o, const char *seq_url, int depth);

static void process(olx *o, xmlNode *n, const char *file, int depth)
{
    if (depth > MAX_DEPTH) {
        kgg_course_diag(o->c, KGG_ERROR, file, (uint32_t)xmlGetLineNo(n), 0, "blocks nested too deeply");
        return;
    }
    const char *tag = (const char *)n->name;
    if (strcmp(tag, "prerequisite") == 0) return;   /* a gating link (resolve_gates), not a block */
    char *url = kgi_xml_attr(n, "url_name");
    xmlDocPtr doc = NULL;
    char shown[1300];
    const char *where = file;
    if (url && o->cur_seq >= 0) kgi_map_put(&o->block_seq, url, o->cur_seq);
    if (url && is_pointer(n) && !inline_xblock(o, n, tag, url)) {
        char name[1200], safe[1024], err[512];
        snprintf(name, sizeof name, "%s/%s.xml", tag, url);
        if (kgi_pkg_resolve("", name, safe, sizeof safe, err, sizeof err) < 0) {
            kgg_course_diag(o->c, KGG_ERROR, file, (uint32_t)xmlGetLineNo(n), 0, "url_name \"%s\": %s", url, err);
            kg_free(url);
            return;
        }
        char dsafe[1100];
        snprintf(dsafe, sizeof dsafe, "drafts/%s", safe);
        const char *use = safe;
        if (o->opt->include_drafts && exists_rel(o, dsafe)) use = dsafe;
        char *buf; size_t len;
        if (read_rel(o, use, 1, file, (uint32_t)xmlGetLineNo(n), &buf, &len) != 0) {
            kg_free(url);
            return;
        }
        char rel[1200];
        rel_path(o, use, rel, sizeof rel);
        show(o, rel, shown, sizeof shown);
        doc = kgi_xml_parse(buf, len, shown, o->c, NULL, 0);
        kg_free(buf);
        if (!doc) { kg_free(url); return; }
        n = xmlDocGetRootElement(doc);
        where = shown;
        if (!n || strcmp((const char *)n->name, tag) != 0)
            kgg_course_diag(o->c, KGG_WARNING, where, 1, 0, "expected a <%s> element", tag);
    }
    if (!n) { kg_free(url); if (doc) xmlFreeDoc(doc); return; }
    char *title = kgi_xml_attr(n, "display_name");
    if (!title) title = kgi_xml_attr(n, "name");
    uint32_t line = (uint32_t)xmlGetLineNo(n);
    if (strcmp(tag, "chapter") == 0) {
        long ki = new_concept(o, "chapter", url, title, line);
        if (ki >= 0) {
            kgg_concept *k = &o->c->concepts[ki];
            if (kgg_course_add_unit(o->c, k->id, k->title)) k->unit = (int32_t)o->c->nunits - 1;
            long saved = o->cur_chapter;
            o->cur_chapter = ki;
            if (!kg_grow(&o->chapters, &o->capchapters, o->nchapters + 1, sizeof *o->chapters) &&
                !kg_grow(&o->chapter_exam, &o->capexam, o->nchapters + 1, sizeof *o->chapter_exam)) {
                char *ee = kgi_xml_attr(n, "is_entrance_exam");
                o->chapter_exam[o->nchapters] = ee && strcmp(ee, "true") == 0;
                o->chapters[o->nchapters++] = ki;
                kg_free(ee);
            }
            size_t first = o->nseqs;
            process_children(o, n, where, depth);
            o->cur_chapter = saved;
            for (size_t s = first; s < o->nseqs; s++)
                kgg_concept_add_require(o->c, &o->c->concepts[ki], o->c->concepts[o->seqs[s]].id,
                                        "a chapter is complete when all its subsections are");
        }
    } else if (strcmp(tag, "sequential") == 0 && o->cur_seq < 0) {
        long ki = new_concept(o, "sequential", url, title, line);
        if (ki >= 0) {
            if (o->cur_chapter >= 0) o->c->concepts[ki].unit = o->c->concepts[o->cur_chapter].unit;
            if (!kg_grow(&o->seqs, &o->capseqs, o->nseqs + 1, sizeof *o->seqs)) o->seqs[o->nseqs++] = ki;
            if (url) kgi_map_put(&o->block_seq, url, ki);
            o->cur_seq = ki;
            for (xmlNode *pr = kgi_xml_child(n, NULL, "prerequisite"); pr; pr = kgi_xml_next(pr, NULL, "prerequisite")) {
                char *t = kgi_xml_attr(pr, "url_name");
                if (!t) t = kgi_xml_attr(pr, "usage_key");
                if (t && !kg_grow(&o->gates, &o->capgates, o->ngates + 1, sizeof *o->gates)) {
                    gate *g = &o->gates[o->ngates++];
                    g->seq = ki;
                    g->target = t;
                    g->file = kg_strdup(where);
                    g->line = (uint32_t)xmlGetLineNo(pr);
                    g->min_score = kgi_xml_attr(pr, "min_score");
                    g->min_completion = kgi_xml_attr(pr, "min_completion");
                    t = NULL;
                }
                kg_free(t);
            }
            process_children(o, n, where, depth);
            if (url) attach_drafts(o, url, depth);
            o->cur_seq = -1;
            char *t = kg_buf_take(&o->text);
            if (t && *t) o->c->concepts[ki].description = kgi_clip(o->c, t, MAX_TEXT);
            kg_free(t);
        }
    } else {
        if (title && strcmp(tag, "course") != 0) add_text(o, title);
        /* Once the sequential's text is full, leaf blocks are still parsed
         * (errors are reported) but their text is not extracted. */
        int full = o->cur_seq < 0 || o->text.len > MAX_TEXT;
        if (full && (strcmp(tag, "html") == 0 || strcmp(tag, "problem") == 0 || strcmp(tag, "video") == 0)) {
            /* nothing */
        } else if (strcmp(tag, "html") == 0) html_text(o, n, where);
        else if (strcmp(tag, "problem") == 0) {
            kg_buf b = {0};
            xml_text_into(n->children, &b, 0);
            char *t = kgi_collapse_ws(kg_buf_take(&b));
            add_text(o, t);
            kg_free(t);
        } else if (strcmp(tag, "video") == 0) video_text(o, n, where);
        else {
            if (strcmp(tag, "conditional") == 0) {
                char *src = kgi_xml_attr(n, "sources");
                if (src && !kg_grow(&o->conds, &o->capconds, o->nconds + 1, sizeof *o->conds)) {
                    cond *cd = &o->conds[o->nconds++];
                    cd->seq = o->cur_seq;
                    cd->sources = src;
                    cd->file = kg_strdup(where);
                    cd->line = line;
                    src = NULL;
                }
                kg_free(src);
            }
            if (strcmp(tag, "show") != 0) process_children(o, n, where, depth);
        }
    }
    kg_free(title);
    kg_free(url);
    if (doc) xmlFreeDoc(doc);
}

/* ---- drafts ---------------------------------------------------------------- */

static void scan_drafts(olx *o)
{
    char prefix[1100];
    rel_path(o, "drafts/", prefix, sizeof prefix);
    size_t pl = strlen(prefix), nblocks = 0;
    for (size_t i = 0; i < kgi_pkg_count(o->p); i++) {
        const char *f = kgi_pkg_entry(o->p, i);
        if (strncmp(f, prefix, pl) != 0) continue;
        size_t fl = strlen(f);
        if (fl < 4 || strcmp(f + fl - 4, ".xml") != 0) continue;
        nblocks++;
        if (!o->opt->include_drafts || strncmp(f + pl, "vertical/", 9) != 0) continue;
        char *buf; size_t len; char err[1200];
        if (kgi_pkg_read(o->p, f, &buf, &len, err, sizeof err) != 0) continue;
        char shown[1300];
        show(o, f, shown, sizeof shown);
        xmlDocPtr d = kgi_xml_parse(buf, len, shown, o->c, NULL, 0);
        kg_free(buf);
        if (!d) continue;
        char *pu = kgi_xml_attr(xmlDocGetRootElement(d), "parent_url");
        xmlFreeDoc(d);
        if (!pu) {
            kgg_course_diag(o->c, KGG_WARNING, shown, 1, 0, "draft vertical without parent_url; ignored");
            continue;
        }
        char parent[512];
        location_name(pu, parent, sizeof parent);
        kg_free(pu);
        if (kg_grow(&o->drafts, &o->capdrafts, o->ndrafts + 1, sizeof *o->drafts)) continue;
        o->drafts[o->ndrafts].parent = kg_strdup(parent);
        o->drafts[o->ndrafts].file = kg_strdup(f);
        o->ndrafts++;
    }
    if (nblocks && !o->opt->include_drafts)
        kgg_course_diag(o->c, KGG_WARNING, kgi_pkg_path(o->p), 0, 0,
                        "%zu unpublished draft block(s) in drafts/ ignored (import with include_drafts / "
                        "--include-drafts to use them)", nblocks);
}

static void attach_drafts(olx *o, const char *seq_url, int depth)
{
    for (size_t i = 0; i < o->ndrafts; i++) {
        if (!o->drafts[i].parent || strcmp(o->drafts[i].parent, seq_url) != 0) continue;
        char *buf; size_t len; char err[1200];
        if (kgi_pkg_read(o->p, o->drafts[i].file, &buf, &len, err, sizeof err) != 0) continue;
        char shown[1300];
        show(o, o->drafts[i].file, shown, sizeof shown);
        xmlDocPtr d = kgi_xml_parse(buf, len, shown, o->c, NULL, 0);
        kg_free(buf);
        if (!d) continue;
        xmlNode *v = xmlDocGetRootElement(d);
        if (v) process(o, v, shown, depth + 1);
        xmlFreeDoc(d);
    }
}

/* ---- course ------------------------------------------------------------------ */

static void resolve_conditionals(olx *o)
{
    for (size_t i = 0; i < o->nconds; i++) {
        cond *cd = &o->conds[i];
        if (cd->seq < 0) {
            kgg_course_diag(o->c, KGG_WARNING, cd->file, cd->line, 0,
                            "conditional outside a sequential; its sources are ignored");
            continue;
        }
        char *save = NULL;
        for (char *s = strtok_r(cd->sources, ";", &save); s; s = strtok_r(NULL, ";", &save)) {
            while (*s == ' ' || *s == '\t' || *s == '\n') s++;
            if (!*s) continue;
            char name[512];
            location_name(s, name, sizeof name);
            long seq = kgi_map_get(&o->block_seq, name, -1);
            const char *cid = o->c->concepts[cd->seq].id;
            if (seq < 0) {
                kgg_course_diag(o->c, KGG_WARNING, cd->file, cd->line, 0,
                                "conditional in %s: source \"%s\" is not a block of this course; ignored", cid, s);
                continue;
            }
            if (seq == cd->seq) continue;  /* same subsection: no edge between concepts */
            char reason[700];
            snprintf(reason, sizeof reason, "conditional block shown after %.600s", name);
            kgg_concept_add_require(o->c, &o->c->concepts[cd->seq], o->c->concepts[seq].id, reason);
        }
    }
}

/* <prerequisite> links of gated subsections (see the top comment). */
static void resolve_gates(olx *o, xmlNode *body)
{
    char *en = kgi_xml_attr(body, "enable_subsection_gating");
    int off = en && strcmp(en, "false") == 0;
    kg_free(en);
    for (size_t i = 0; i < o->ngates; i++) {
        gate *g = &o->gates[i];
        char name[512];
        location_name(g->target, name, sizeof name);
        long seq = kgi_map_get(&o->block_seq, name, -1);
        const char *cid = o->c->concepts[g->seq].id;
        if (off) {
            kgg_course_diag(o->c, KGG_WARNING, g->file, g->line, 0,
                            "%s: prerequisite ignored: the course sets enable_subsection_gating=\"false\"", cid);
            continue;
        }
        if (seq < 0 || seq == g->seq) {
            kgg_course_diag(o->c, KGG_WARNING, g->file, g->line, 0,
                            "%s: prerequisite \"%s\" is not another subsection of this course; ignored", cid, g->target);
            continue;
        }
        char reason[300];
        snprintf(reason, sizeof reason, "Open edX subsection prerequisite (min score %s%%, min completion %s%%)",
                 g->min_score && *g->min_score ? g->min_score : "0",
                 g->min_completion && *g->min_completion ? g->min_completion : "0");
        kgg_concept_add_require(o->c, &o->c->concepts[g->seq], o->c->concepts[seq].id, reason);
    }
}

/* Entrance exam: the rest of the course waits for the exam chapter. */
static void entrance_exam(olx *o, xmlNode *body)
{
    char *en = kgi_xml_attr(body, "entrance_exam_enabled");
    char *id = kgi_xml_attr(body, "entrance_exam_id");
    int on = en && strcmp(en, "true") == 0;
    long exam = -1;
    if (on && id && *id) {
        char name[512], want[256];
        location_name(id, name, sizeof name);
        kgi_safe_id(name, "x", want, sizeof want);
        exam = kgg_course_find(o->c, want);
    }
    for (size_t i = 0; on && exam < 0 && i < o->nchapters; i++)
        if (o->chapter_exam[i]) exam = o->chapters[i];
    kg_free(en); kg_free(id);
    if (exam < 0) return;
    int32_t unit = o->c->concepts[exam].unit;
    const char *eid = o->c->concepts[exam].id;
    for (size_t i = 0; i < o->c->nconcepts; i++) {
        if ((long)i == exam || (unit >= 0 && o->c->concepts[i].unit == unit)) continue;
        kgg_concept_add_require(o->c, &o->c->concepts[i], eid,
                                "Open edX entrance exam: the course opens once it is passed");
    }
}

static void apply_effort(olx *o)
{
    char *buf; size_t len;
    if (read_rel(o, "about/effort.html", 0, "", 0, &buf, &len) != 0) return;
    char *t = kgi_html_to_text(buf, len);
    kg_free(buf);
    double minutes = kgi_parse_duration(t);
    char rel[1100], shown[1300];
    rel_path(o, "about/effort.html", rel, sizeof rel);
    show(o, rel, shown, sizeof shown);
    if (minutes < 0) {
        if (minutes == KGI_DURATION_OVER)
            kgg_course_diag(o->c, KGG_WARNING, shown, 1, 0, "effort \"%.100s\" is over %.0f minutes; ignored",
                            t, KGI_MINUTES_MAX);
        else if (t && *t) kgg_course_diag(o->c, KGG_WARNING, shown, 1, 0,
                                          "effort \"%.100s\" is not a duration (expected HH:MM); ignored", t);
        kg_free(t);
        return;
    }
    kg_free(t);
    for (size_t i = 0; i < o->c->nconcepts; i++) if (o->c->concepts[i].minutes >= 0) return;
    if (o->nseqs == 0) return;
    double each = minutes / (double)o->nseqs;
    for (size_t s = 0; s < o->nseqs; s++) o->c->concepts[o->seqs[s]].minutes = each;
}

kgg_course *kgi_olx_import(kgi_pkg *p, const char *root, const kgi_options *opt)
{
    static const kgi_options defaults = { .validate_schema = 1 };
    kgg_course *c = kgg_course_new();
    if (!c) return NULL;
    olx o;
    memset(&o, 0, sizeof o);
    o.p = p; o.root = root; o.opt = opt ? opt : &defaults; o.c = c;
    o.cur_seq = o.cur_chapter = -1;
    char rel[1100], shown[1300];
    rel_path(&o, "course.xml", rel, sizeof rel);
    show(&o, rel, shown, sizeof shown);
    c->format = kgg_course_str(c, "olx");
    c->source = kgg_course_str(c, shown);
    char *buf; size_t len; char err[1200];
    if (kgi_pkg_read(p, rel, &buf, &len, err, sizeof err) != 0) {
        kgg_course_diag(c, KGG_ERROR, shown, 0, 0, "%s", err);
        return c;
    }
    xmlDocPtr top = kgi_xml_parse(buf, len, shown, c, NULL, 0);
    kg_free(buf);
    if (!top) return c;
    xmlNode *cn = xmlDocGetRootElement(top);
    if (!cn || strcmp((const char *)cn->name, "course") != 0) {
        kgg_course_diag(c, KGG_ERROR, shown, 1, 0, "root element is not <course>");
        xmlFreeDoc(top);
        return c;
    }
    char *org = kgi_xml_attr(cn, "org"), *num = kgi_xml_attr(cn, "course");
    char cid[300], idb[256];
    snprintf(cid, sizeof cid, "%s%s%s", org ? org : "", org && num ? "." : "", num ? num : "");
    c->id = kgg_course_str(c, kgi_safe_course_id(cid, NULL, idb, sizeof idb));
    kg_free(org); kg_free(num);
    scan_drafts(&o);
    /* course.xml points to course/<url_name>.xml, or holds the course inline. */
    xmlDocPtr run = NULL;
    xmlNode *body = cn;
    const char *where = shown;
    char run_shown[1300];
    char *url = kgi_xml_attr(cn, "url_name");
    if (url && !kgi_xml_child(cn, NULL, "chapter")) {
        char name[1200], safe[1024];
        snprintf(name, sizeof name, "course/%s.xml", url);
        if (kgi_pkg_resolve("", name, safe, sizeof safe, err, sizeof err) < 0) {
            kgg_course_diag(c, KGG_ERROR, shown, 1, 0, "course url_name \"%s\": %s", url, err);
        } else if (read_rel(&o, safe, 1, shown, 1, &buf, &len) == 0) {
            char r2[1200];
            rel_path(&o, safe, r2, sizeof r2);
            show(&o, r2, run_shown, sizeof run_shown);
            run = kgi_xml_parse(buf, len, run_shown, c, NULL, 0);
            kg_free(buf);
            if (run && xmlDocGetRootElement(run)) { body = xmlDocGetRootElement(run); where = run_shown; }
        }
    }
    kg_free(url);
    char *title = kgi_xml_attr(body, "display_name");
    if (!title) title = kgi_xml_attr(body, "name");
    c->title = kgg_course_str(c, title && *title ? title : c->id);
    kg_free(title);
    char *lang = kgi_xml_attr(body, "language");
    if (lang) c->language = kgg_course_str(c, lang);
    kg_free(lang);
    process_children(&o, body, where, 0);
    resolve_conditionals(&o);
    resolve_gates(&o, body);
    entrance_exam(&o, body);
    /* Course order: each sequential recommends the one before it. */
    for (size_t s = 1; s < o.nseqs; s++)
        kgg_concept_add_recommend(c, &c->concepts[o.seqs[s]], c->concepts[o.seqs[s - 1]].id, "course order");
    apply_effort(&o);
    /* A chapter is done when its subsections are: no study time of its own
     * (else the planner would count its default minutes). */
    for (size_t i = 0; i < o.nchapters; i++)
        if (c->concepts[o.chapters[i]].minutes < 0) c->concepts[o.chapters[i]].minutes = 0;
    if (c->nconcepts == 0 && kgg_course_nerrors(c) == 0)
        kgg_course_diag(c, KGG_ERROR, where, 1, 0, "the course has no chapters or sequentials");
    kgi_dedupe_edges(c);
    if (run) xmlFreeDoc(run);
    xmlFreeDoc(top);
    for (size_t i = 0; i < o.ndrafts; i++) { kg_free(o.drafts[i].parent); kg_free(o.drafts[i].file); }
    for (size_t i = 0; i < o.nconds; i++) { kg_free(o.conds[i].sources); kg_free(o.conds[i].file); }
    for (size_t i = 0; i < o.ngates; i++) {
        kg_free(o.gates[i].target); kg_free(o.gates[i].file);
        kg_free(o.gates[i].min_score); kg_free(o.gates[i].min_completion);
    }
    kg_free(o.gates); kg_free(o.chapters); kg_free(o.chapter_exam);
    kg_free(o.drafts); kg_free(o.conds); kg_free(o.seqs);
    kg_buf_free(&o.text);
    kgi_map_free(&o.ids); kgi_map_free(&o.block_seq); kgi_map_free(&o.warned);
    return c;
}
