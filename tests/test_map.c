/* Curriculum map (kgp_map_svg, `kgpath export --format svg`): the SVG is
 * well-formed XML (libxml2), has one element per concept/edge/group with
 * the documented stable ids and classes, selections by course/unit/tag,
 * externals, check findings (redundant edges, bottlenecks), and every bad
 * input gives a clear error and writes nothing. */
#include <check.h>
#include <dlfcn.h>
#include <gvc.h>
#include <libgen.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <libxml/xpathInternals.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "kgpath.h"

#include "tests/testutil.h"

static char *dir, *db;
static const char *bin;
static int have_samples;

/* A small course with a redundant edge (a -> c besides a -> b -> c), a
 * 1-of-2 group, a unit and tags, plus Chinese titles. */
static const char *SMALL =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"s\" xml:lang=\"zh\" version=\"1\">\n"
    "<title>小课程</title>\n"
    "<unit id=\"u1\"><title>第一单元</title>\n"
    "<concept id=\"a\" minutes=\"10\"><title>变量与赋值</title><tag>base</tag></concept>\n"
    "<concept id=\"b\" minutes=\"10\"><title>B \\N b\\s &amp; &lt;t&gt;</title>"
    "<prerequisites><require ref=\"a\">b uses a</require></prerequisites></concept>\n"
    "</unit>\n"
    "<concept id=\"c\" minutes=\"10\"><title>C</title><tag>base</tag><prerequisites>"
    "<require ref=\"b\"/><require ref=\"a\">said twice</require></prerequisites></concept>\n"
    "<concept id=\"d\" minutes=\"10\"><title>D</title><prerequisites>"
    "<any-of><option ref=\"b\"/><option ref=\"c\"/></any-of></prerequisites></concept>\n"
    "</course>\n";

static void setup(void)
{
    bin = getenv("KGPATH_BIN");
    ck_assert_msg(bin != NULL, "KGPATH_BIN not set");
    dir = tu_mkdtemp();
    db = tu_path(dir, "db");
    char *small = tu_path(dir, "small.xml");
    tu_write(small, SMALL, (size_t)-1);
    char *samples = tu_path(tu_source_root(), "data/samples/ml-intro.xml");
    struct stat st;
    have_samples = stat(samples, &st) == 0;
    free(samples);
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' import '%s' %s%s >/dev/null 2>&1", bin, db, small,
             have_samples ? tu_source_root() : "", have_samples ? "/data/samples/*.xml" : "");
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    free(small);
}

static void teardown(void)
{
    tu_rmrf(dir);
    free(dir);
    free(db);
}

/* Parsed SVG and an XPath context with the svg prefix. */
typedef struct svgdoc { xmlDocPtr doc; xmlXPathContextPtr x; } svgdoc;

static svgdoc parse(const char *svg, size_t len)
{
    svgdoc d;
    d.doc = xmlReadMemory(svg, (int)len, "map.svg", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    ck_assert_msg(d.doc != NULL, "the map is not well-formed XML");
    d.x = xmlXPathNewContext(d.doc);
    xmlXPathRegisterNs(d.x, BAD_CAST "s", BAD_CAST "http://www.w3.org/2000/svg");
    xmlXPathRegisterNs(d.x, BAD_CAST "xlink", BAD_CAST "http://www.w3.org/1999/xlink");
    return d;
}

static void parse_free(svgdoc d)
{
    xmlXPathFreeContext(d.x);
    xmlFreeDoc(d.doc);
}

static int count(svgdoc d, const char *xpath)
{
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST xpath, d.x);
    ck_assert_ptr_nonnull(o);
    int n = o->nodesetval ? o->nodesetval->nodeNr : 0;
    xmlXPathFreeObject(o);
    return n;
}

/* Concept element with id "c:KEY" and a class containing cls. */
static int has(svgdoc d, const char *id, const char *cls)
{
    char q[1024];
    snprintf(q, sizeof q, "//s:g[@id='%s' and contains(concat(' ', @class, ' '), ' %s ')]", id, cls);
    return count(d, q);
}

static void open_all(kgp_db **d, kgp_snap **s)
{
    ck_assert_int_eq(kgp_db_open(db, KGP_RDONLY, d), KGP_OK);
    ck_assert_int_eq(kgp_snap_open(*d, s), KGP_OK);
}

START_TEST(test_map_small_course)
{
    kgp_db *d; kgp_snap *s;
    open_all(&d, &s);
    kgp_planner *pl; kgp_check *ck;
    ck_assert_int_eq(kgp_planner_open(s, &pl), KGP_OK);
    ck_assert_int_eq(kgp_check_make(pl, &ck), KGP_OK);
    kgp_map_options o = {.course = "s", .check = ck};
    char *svg; size_t len;
    ck_assert_int_eq(kgp_map_svg(s, &o, &svg, &len), KGP_OK);
    ck_assert_uint_eq(strlen(svg), len);
    svgdoc x = parse(svg, len);
    ck_assert_int_eq(count(x, "//s:g[contains(concat(' ', @class, ' '), ' concept ')]"), 4);
    ck_assert_int_eq(has(x, "c:s:a", "concept"), 1);
    ck_assert_int_eq(has(x, "c:s:d", "concept"), 1);
    /* the any-of group is a junction labelled "1 of 2" with two members in, one edge out */
    ck_assert_int_eq(has(x, "g:s:d#0", "group"), 1);
    ck_assert_int_eq(count(x, "//s:g[@id='g:s:d#0']//s:text[.='1 of 2']"), 1);
    ck_assert_int_eq(has(x, "e:s:b>g:s:d#0", "edge"), 1);
    ck_assert_int_eq(has(x, "e:s:c>g:s:d#0", "edge"), 1);
    ck_assert_int_eq(has(x, "e:g:s:d#0>s:d", "edge"), 1);
    /* check's finding: a -> c is implied by a -> b -> c */
    ck_assert_int_eq(has(x, "e:s:a>s:c", "redundant"), 1);
    ck_assert_int_eq(has(x, "e:s:b>s:c", "redundant"), 0);
    ck_assert_int_eq(has(x, "e:s:a>s:b", "req"), 1);
    /* the reason is the edge's tooltip */
    ck_assert_int_eq(count(x, "//s:g[@id='e:s:a>s:b']//s:a[@xlink:title='b uses a']"), 1);
    /* one unit frame, the Chinese title intact, markup and backslashes as text */
    ck_assert_int_eq(has(x, "unit:s/u1", "unit"), 1);
    ck_assert_ptr_nonnull(strstr(svg, "变量与赋值"));
    ck_assert_int_eq(count(x, "//s:g[@id='c:s:b']//s:text[.='B \\N b\\s & <t>']"), 1);
    ck_assert_ptr_nonnull(strstr(svg, "sans-serif"));
    parse_free(x);
    kgp_map_free(svg);

    /* unit and tag selections; prerequisites outside are "external" */
    kgp_map_options ou = {.course = "s", .unit = "u1"};
    ck_assert_int_eq(kgp_map_svg(s, &ou, &svg, &len), KGP_OK);
    x = parse(svg, len);
    ck_assert_int_eq(count(x, "//s:g[contains(concat(' ', @class, ' '), ' concept ')]"), 2);
    parse_free(x);
    kgp_map_free(svg);
    kgp_map_options ot = {.tag = "base"};
    ck_assert_int_eq(kgp_map_svg(s, &ot, &svg, &len), KGP_OK);
    x = parse(svg, len);
    ck_assert_int_eq(has(x, "c:s:a", "concept"), 1);
    ck_assert_int_eq(has(x, "c:s:c", "concept"), 1);
    ck_assert_int_eq(has(x, "c:s:b", "external"), 1);    /* c requires b */
    ck_assert_int_eq(has(x, "c:s:a", "external"), 0);
    ck_assert_int_eq(count(x, "//s:g[contains(concat(' ', @class, ' '), ' concept ')]"), 3);
    parse_free(x);
    kgp_map_free(svg);
    /* the course's language and units, as pages read them */
    uint32_t sc = KGP_NONE;
    for (uint32_t c = 0; c < kgp_snap_course_count(s); c++)
        if (!strcmp(kgp_snap_course_id(s, c), "s")) sc = c;
    ck_assert_uint_ne(sc, KGP_NONE);
    ck_assert_str_eq(kgp_snap_course_language(s, sc), "zh");
    ck_assert_ptr_null(kgp_snap_course_language(s, 9999));
    ck_assert_uint_eq(kgp_snap_unit_count(s, sc), 1);
    const char *uid = NULL, *utitle = NULL;
    ck_assert_int_eq(kgp_snap_unit(s, sc, 0, &uid, &utitle), KGP_OK);
    ck_assert_str_eq(uid, "u1");
    ck_assert_str_eq(utitle, "第一单元");
    ck_assert_int_eq(kgp_snap_unit(s, sc, 1, &uid, &utitle), KGP_ENOTFOUND);
    ck_assert_int_eq(kgp_snap_unit(s, 9999, 0, &uid, &utitle), KGP_ENOTFOUND);
    kgp_check_free(ck);
    kgp_planner_close(pl);
    kgp_snap_close(s);
    kgp_db_close(d);
}
END_TEST

START_TEST(test_map_samples)
{
    if (!have_samples) { fprintf(stderr, "skipped: data/samples not present\n"); return; }
    kgp_db *d; kgp_snap *s;
    open_all(&d, &s);
    kgp_planner *pl; kgp_check *ck;
    ck_assert_int_eq(kgp_planner_open(s, &pl), KGP_OK);
    ck_assert_int_eq(kgp_check_make(pl, &ck), KGP_OK);
    kgp_map_options o = {.check = ck};
    char *svg; size_t len;
    ck_assert_int_eq(kgp_map_svg(s, &o, &svg, &len), KGP_OK);
    svgdoc x = parse(svg, len);
    /* every concept once, with its stable id */
    uint32_t n = kgp_snap_count(s);
    ck_assert_int_eq(count(x, "//s:g[contains(concat(' ', @class, ' '), ' concept ')]"), (int)n);
    for (uint32_t i = 0; i < n; i++) {
        char id[512];
        snprintf(id, sizeof id, "c:%s", kgp_snap_key(s, i));
        ck_assert_msg(has(x, id, "concept") == 1, "no element %s", id);
    }
    /* one frame per course, k-of-n junctions, bottlenecks marked */
    ck_assert_int_eq(count(x, "//s:g[contains(@class, 'course')]"), (int)kgp_snap_course_count(s));
    ck_assert_int_ge(count(x, "//s:g[contains(@class, 'group')]"), 3);
    ck_assert_int_ge(count(x, "//s:g[contains(concat(' ', @class, ' '), ' bottleneck ')]"), 1);
    /* edges are splines (curves), not straight lines */
    ck_assert_int_ge(count(x, "//s:g[contains(@class, 'edge')]//s:path[contains(@d, 'C')]"), 50);
    parse_free(x);
    kgp_map_free(svg);
    kgp_check_free(ck);
    kgp_planner_close(pl);
    kgp_snap_close(s);
    kgp_db_close(d);
}
END_TEST

START_TEST(test_map_errors)
{
    kgp_db *d; kgp_snap *s;
    open_all(&d, &s);
    char *svg = (char *)1; size_t len = 7;
    kgp_map_options o = {.course = "nope"};
    ck_assert_int_eq(kgp_map_svg(s, &o, &svg, &len), KGP_ENOTFOUND);
    ck_assert_ptr_null(svg);
    ck_assert_ptr_nonnull(strstr(kgp_snap_errmsg(s), "nope"));
    kgp_map_options r = {.rankdir = "XX"};
    ck_assert_int_eq(kgp_map_svg(s, &r, &svg, &len), KGP_EUSAGE);
    ck_assert_ptr_nonnull(strstr(kgp_snap_errmsg(s), "XX"));
    kgp_map_options m = {.max_nodes = 2};
    ck_assert_int_eq(kgp_map_svg(s, &m, &svg, &len), KGP_EUSAGE);
    ck_assert_ptr_nonnull(strstr(kgp_snap_errmsg(s), "too many"));
    ck_assert_ptr_null(svg);
    kgp_snap_close(s);
    kgp_db_close(d);
}
END_TEST

/* `kgpath export --format svg`: the map on stdout or in a file; errors
 * leave no file and the database byte-identical. */
START_TEST(test_export_svg_cli)
{
    char cmd[4096], *out = NULL;
    char *file = tu_path(dir, "map.svg"), *copy = tu_path(dir, "db.copy");
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", db, copy);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' export --format svg --course s", bin, db);
    ck_assert_int_eq(tu_run(cmd, &out), 0);
    svgdoc x = parse(out, strlen(out));
    ck_assert_int_eq(has(x, "c:s:c", "concept"), 1);
    ck_assert_int_eq(has(x, "e:s:a>s:c", "redundant"), 1);
    parse_free(x);
    free(out);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' export -f svg --rankdir TB -o '%s'", bin, db, file);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    size_t len;
    char *svg = tu_read(file, &len);
    ck_assert_ptr_nonnull(svg);
    x = parse(svg, len);
    ck_assert_int_ge(count(x, "//s:g[contains(@class, 'concept')]"), 4);
    parse_free(x);
    free(svg);
    remove(file);
    static const struct { const char *args; int rc; const char *msg; } bad[] = {
        {"export -f svg --course nope", 4, "nope"},
        {"export -f svg --rankdir XY", 2, "XY"},
        {"export -f json --course s", 2, "svg only"},
        {"export -f png", 2, "unknown format"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        snprintf(cmd, sizeof cmd, "'%s' --db '%s' %s -o '%s' 2>&1 >/dev/null", bin, db, bad[i].args, file);
        int rc = tu_run(cmd, &out);
        ck_assert_msg(rc != 0, "%s: exit 0", bad[i].args);
        ck_assert_msg(strstr(out, bad[i].msg), "%s: '%s' lacks '%s'", bad[i].args, out, bad[i].msg);
        struct stat st;
        ck_assert_msg(stat(file, &st) != 0, "%s left a file", bad[i].args);
        free(out);
    }
    ck_assert_int_eq(tu_file_cmp(db, copy), 0);
    free(file);
    free(copy);
}
END_TEST

/* Graphviz with the dot layout and core (SVG) plugins, loaded from libgvc's
 * own folder as kgp_map_svg does (gvContext() would load Pango too). */
static GVC_t *gv_plugins(void)
{
    static lt_symlist_t builtins[3];
    Dl_info di;
    ck_assert(dladdr((void *)gvContext, &di) && di.dli_fname);
    char *lib = strdup(di.dli_fname), *libdir = dirname(lib), path[4096];
    snprintf(path, sizeof path, "%s/graphviz/libgvplugin_dot_layout.so.6", libdir);
    void *dot = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(dot != NULL, "%s", dlerror());
    snprintf(path, sizeof path, "%s/graphviz/libgvplugin_core.so.6", libdir);
    void *core = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(core != NULL, "%s", dlerror());
    free(lib);
    builtins[0] = (lt_symlist_t){"gvplugin_dot_layout_LTX_library", dlsym(dot, "gvplugin_dot_layout_LTX_library")};
    builtins[1] = (lt_symlist_t){"gvplugin_core_LTX_library", dlsym(core, "gvplugin_core_LTX_library")};
    return gvContextPlugins(builtins, 0);
}

/* The xlink:title of the edge element that pred selects ("s:title='A->B'"
 * in an SVG from dot, "@id='e:A>B'" in a map); NULL when none. */
static char *edge_tip(svgdoc d, const char *pred)
{
    char q[512];
    snprintf(q, sizeof q, "//s:g[contains(@class, 'edge')][%s]//s:a/@xlink:title", pred);
    xmlXPathObjectPtr o = xmlXPathEvalExpression(BAD_CAST q, d.x);
    ck_assert_ptr_nonnull(o);
    char *v = o->nodesetval && o->nodesetval->nodeNr
                  ? (char *)xmlNodeGetContent(o->nodesetval->nodeTab[0]) : NULL;
    xmlXPathFreeObject(o);
    return v;
}

static void tip_is(svgdoc d, const char *edge, const char *want)
{
    char pred[256];
    snprintf(pred, sizeof pred, strchr(edge, '>') && !strstr(edge, "->") ? "@id='%s'" : "s:title='%s'", edge);
    char *got = edge_tip(d, pred);
    ck_assert_msg(got && !strcmp(got, want), "%s: tooltip [%s], want [%s]", edge, got ? got : "(none)", want);
    xmlFree(got);
}

/* `export --format dot` read by Graphviz as `dot -Tsvg` reads it, and the
 * map (kgp_map_svg): every edge's reason reaches the SVG as its tooltip
 * and every title as its label, exactly, whatever quotes, backslashes
 * (Graphviz unescapes tooltips twice), escape-like text (\N \n \E),
 * entities, line breaks (CSV keeps them) and non-ASCII text they hold. */
START_TEST(test_export_dot_through_graphviz)
{
    static const char *XML =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<course xmlns=\"https://kgpath.org/ns/course/1\" id=\"x\" xml:lang=\"en\" version=\"1\">\n"
        "<title>Q \"c\" \\N</title>\n"
        "<concept id=\"a\"><title>T \"q\" \\N a\\nb &amp;amp; &lt;i&gt; 中文 C:\\</title></concept>\n"
        "<concept id=\"b\"><title>B</title><prerequisites><require ref=\"a\">He said \"go\" \\ back\\slash"
        " \\\\ two, \\N \\n \\E \\l &amp;amp; &lt;t&gt; &amp; lone 中文 é ✓ 😀 end\\</require></prerequisites></concept>\n"
        "<concept id=\"c\"><title>C</title><prerequisites><any-of k=\"1\"><reason>group \"why\" \\\\ &amp;lt;</reason>"
        "<option ref=\"a\">m\\</option><option ref=\"b\"/></any-of></prerequisites></concept>\n"
        "<concept id=\"d\"><title>D</title><prerequisites><recommend ref=\"a\">rec \\\"x\\\" 'y'</recommend>"
        "</prerequisites></concept>\n"
        "<concept id=\"e\" minutes=\"10\"><title>Say \"hi\" &amp; &lt;b&gt; C:\\ nope \\N \\\\ \"end\" &amp;amp; "
        "more words here to cut off with an ellipsis</title></concept>\n"
        "</course>\n";
    static const char *CSV = "id,title,prerequisites,reason\na,A,,\nb,B,a,\"one\nsaid \"\"hi\"\" \\ x\\\\y end\\\"\n";
    char *xml = tu_path(dir, "x.xml"), *csv = tu_path(dir, "y.csv"), *hdb = tu_path(dir, "h.db"), cmd[4096];
    tu_write(xml, XML, (size_t)-1);
    tu_write(csv, CSV, (size_t)-1);
    snprintf(cmd, sizeof cmd, "'%s' --db '%s' import '%s' '%s' >/dev/null", bin, hdb, xml, csv);
    ck_assert_int_eq(tu_run(cmd, NULL), 0);
    kgp_db *d; kgp_snap *s;
    ck_assert_int_eq(kgp_db_open(hdb, KGP_RDONLY, &d), KGP_OK);
    ck_assert_int_eq(kgp_snap_open(d, &s), KGP_OK);
    char *dot = NULL; size_t dlen = 0;
    FILE *f = open_memstream(&dot, &dlen);
    ck_assert_int_eq(kgp_export(s, "dot", f), KGP_OK);
    fclose(f);
    static const char *R1 = "He said \"go\" \\ back\\slash \\\\ two, \\N \\n \\E \\l &amp; <t> & lone 中文 é ✓ 😀 end\\",
                      *G = "group \"why\" \\\\ &lt;", *R3 = "rec \\\"x\\\" 'y'",
                      *RY = "one\nsaid \"hi\" \\ x\\\\y end\\";
    /* the map: members into a "1 of 2" junction, the group's reason out of it */
    char *map; size_t mlen;
    kgp_map_options mo = {.course = "x"};
    ck_assert_int_eq(kgp_map_svg(s, &mo, &map, &mlen), KGP_OK);
    svgdoc x = parse(map, mlen);
    tip_is(x, "e:x:a>x:b", R1);
    tip_is(x, "e:x:a>g:x:c#0", "m\\");
    tip_is(x, "e:g:x:c#0>x:c", G);
    tip_is(x, "e:x:a>x:d~", R3);
    /* the title as written, wrapped (a literal "&amp;" was shown as '&') */
    ck_assert_int_eq(count(x, "//s:g[@id='c:x:a']//s:text[contains(., 'T \"q\" \\N a\\nb &amp;')]"), 1);
    ck_assert_int_eq(count(x, "//s:g[@id='c:x:a']//s:text[contains(., '<i> 中文 C:\\')]"), 1);
    /* wrapped line by line, each line escaped by itself: a backslash ending
     * a line stays one before the break, quotes and entities as written,
     * the third line cut with an ellipsis */
    static const char *E[] = {"Say \"hi\" & <b> C:\\", "nope \\N \\\\ \"end\" &amp;", "more words here to cut…",
                              "10 min"};
    ck_assert_int_eq(count(x, "//s:g[@id='c:x:e']//s:text"), 4);
    for (int i = 0; i < 4; i++) {
        char xp[256];
        snprintf(xp, sizeof xp, "(//s:g[@id='c:x:e']//s:text)[%d][.='%s']", i + 1, E[i]);
        ck_assert_msg(count(x, xp) == 1, "line %d of the label is not [%s]", i + 1, E[i]);
    }
    parse_free(x);
    kgp_map_free(map);
    kgp_map_options my = {.course = "y"};
    ck_assert_int_eq(kgp_map_svg(s, &my, &map, &mlen), KGP_OK);
    x = parse(map, mlen);
    tip_is(x, "e:y:a>y:b", RY);
    parse_free(x);
    kgp_map_free(map);
    kgp_snap_close(s);
    kgp_db_close(d);

    GVC_t *gvc = gv_plugins();
    Agraph_t *g = agmemread(dot);
    ck_assert_msg(g != NULL, "Graphviz cannot read the export:\n%s", dot);
    ck_assert_int_eq(gvLayout(gvc, g, "dot"), 0);
    char *svg = NULL; unsigned int len = 0;
    ck_assert_int_eq(gvRenderData(gvc, g, "svg", &svg, &len), 0);
    x = parse(svg, len);
    tip_is(x, "x:a->x:b", R1);
    tip_is(x, "x:a->x:c", "m\\\ngroup \"why\" \\\\ &lt;");     /* the edge's reason, then its group's */
    tip_is(x, "x:b->x:c", G);
    tip_is(x, "x:a->x:d", R3);
    tip_is(x, "y:a->y:b", RY);      /* once, though CSV sets both */
    ck_assert_int_eq(count(x, "//s:g[@class='node'][s:title='x:a']/s:text[.='T \"q\" \\N a\\nb &amp; <i> 中文 C:\\']"), 1);
    ck_assert_int_eq(count(x, "//s:g[@class='cluster']/s:text[.='Q \"c\" \\N']"), 1);
    ck_assert_int_eq(count(x, "//s:g[@class='node'][s:title='x:e']/s:text[.='Say \"hi\" & <b> C:\\ nope \\N "
                              "\\\\ \"end\" &amp; more words here to cut off with an ellipsis']"), 1);
    parse_free(x);
    gvFreeRenderData(svg);
    gvFreeLayout(gvc, g);
    agclose(g);
    gvFreeContext(gvc);
    free(dot);
    free(xml);
    free(csv);
    free(hdb);
}
END_TEST

Suite *suite(void)
{
    Suite *s = suite_create("map");
    TCase *t = tcase_create("map");
    tcase_add_checked_fixture(t, setup, teardown);
    tcase_set_timeout(t, 600);
    tcase_add_test(t, test_map_small_course);
    tcase_add_test(t, test_map_samples);
    tcase_add_test(t, test_map_errors);
    tcase_add_test(t, test_export_svg_cli);
    tcase_add_test(t, test_export_dot_through_graphviz);
    suite_add_tcase(s, t);
    return s;
}
