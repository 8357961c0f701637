/* Text helpers shared by the importers: HTML and subtitles to plain text,
 * safe ids, durations, a growable string.
 */
#ifndef KGI_HTML_TEXT_H
#define KGI_HTML_TEXT_H

#include <stddef.h>

#include "graph/course_model.h"
#include "base/buf.h"

/* HTML (a page or a fragment, any entities: &nbsp; &reg; …) to plain text
 * with libxml2's HTML parser (no network, recover mode): <script>/<style>
 * dropped, block elements separated, whitespace collapsed. kg_malloc'ed,
 * "" for empty input, NULL only when out of memory. O(n). */
char *kgi_html_to_text(const char *html, size_t len);

/* SubRip (.srt) or WebVTT subtitles to plain text: cue numbers, timing lines
 * and tags dropped. kg_malloc'ed. O(n). */
char *kgi_srt_to_text(const char *buf, size_t len);

/* Edx .sjson transcripts ({"text":[…]}) to plain text; NULL when not JSON. */
char *kgi_sjson_to_text(const char *buf, size_t len);

/* Writes a concept or course id made of [A-Za-z0-9_.-] into out: other bytes
 * become '_', runs of '_' collapse, leading/trailing '_' and '.' go; an empty
 * result becomes fallback (or "x"). Returns out. O(n). */
char *kgi_safe_id(const char *s, const char *fallback, char *out, size_t outlen);

/* As kgi_safe_id for a course id, but letters, marks and digits beyond
 * ASCII are kept (after Unicode NFC), so that a course named in Chinese,
 * Arabic or Finnish keeps its own readable id ("数学", "Matemáticas") instead
 * of a shared placeholder; invalid UTF-8 bytes become '_'. With fallback
 * NULL an empty result returns NULL (the caller names the course from its
 * folder or file instead). O(n). */
char *kgi_safe_course_id(const char *s, const char *fallback, char *out, size_t outlen);

/* A copy of s[0..n) with every byte that is not part of valid UTF-8
 * replaced by U+FFFD (names from the file system and subtitle files may be
 * in any encoding). kg_malloc'ed; NULL when out of memory. O(n). */
char *kgi_utf8_repair(const char *s, size_t n);

/* The last component of a source path, where both '/' (folders) and '!'
 * (archive members, "x.zip!a/b.csv") separate components; trailing '/'
 * ignored. Returns out. O(n). */
const char *kgi_source_base(const char *path, char *out, size_t outlen);

/* Parses a duration and returns minutes, -1 when it is not one, or
 * KGI_DURATION_OVER (-2) when it is well formed but above KGI_MINUTES_MAX
 * (callers say so rather than "not a duration"):
 * ISO 8601 ("PT10M", "P5Y6M4DT12H30M58.55S", "P1W"; years 365 days,
 * months 30), or clock forms "HH:MM:SS(.ss)", "HHHH:MM:SS.SS", "HH:MM",
 * or a bare number of minutes. */
double kgi_parse_duration(const char *s);
/* The bound every format applies to minutes (as kgxml: 0 to 100000). A
 * duration or number above it is refused, not clamped. */
#define KGI_MINUTES_MAX 100000.0
#define KGI_DURATION_OVER (-2.0)
/* A plain decimal number "123" or "12.5" (no sign, exponent, hex, inf or
 * nan): its value, with *end after it; -1 when s does not start with one. */
double kgi_decimal(const char *s, const char **end);


/* Collapses whitespace runs to one space and trims, in place; returns s. */
char *kgi_collapse_ws(char *s);

/* Copies at most max bytes of s on a UTF-8 boundary and appends "…" when
 * cut; into the course arena. */
char *kgi_clip(kgg_course *c, const char *s, size_t max);

/* Adds text t to concept ki's description: after it (append) or before it,
 * separated by a newline, clipped to 64 KiB. Text of items that are not
 * concepts (headings, labels) and of files of an item goes through here. */
void kgi_concept_text(kgg_course *c, size_t ki, const char *t, int append);

/* Removes requirement groups that repeat an earlier group of the same
 * concept (same k, same members in the same order) and recommended edges
 * that repeat or duplicate a requirement. O(sum of groups^2) per concept. */
void kgi_dedupe_edges(kgg_course *c);

/* A string -> long map (open addressing, keys copied with kg_malloc).
 * Zero-initialise; kgi_map_put returns 0 or -1 (out of memory) and
 * replaces an existing value; kgi_map_get returns the value or def.
 * O(1) expected per call. */
typedef struct kgi_map { char **keys; long *vals; size_t n, cap; } kgi_map;
int  kgi_map_put(kgi_map *m, const char *key, long val);
long kgi_map_get(const kgi_map *m, const char *key, long def);
void kgi_map_free(kgi_map *m);

/* Gives concept id `want` (already safe) a unique form in the course,
 * tracked by ids: want, else want-2, want-3, … Writes into out. */
void kgi_unique_id(kgi_map *ids, const char *want, char *out, size_t outlen);

#endif
