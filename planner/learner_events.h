/* Parsing learner events: kgpath JSON lines and xAPI statements.
 *
 * kgpath form, one JSON object per line:
 *   {"learner":"u42","concept":"ml:gradient-descent","kind":"read|quiz|review",
 *    "at":"2026-11-28T10:15:00Z","dwell_seconds":540,"score":0.8,"grade":3}
 * learner, concept, kind and at are required; a quiz needs a score or a
 * grade, a review needs a grade (1 again, 2 hard, 3 good, 4 easy); score is
 * 0..1; dwell_seconds >= 0. Unknown members are ignored.
 *
 * xAPI form (a statement per line, or a whole document that is an array of
 * statements or an LRS response {"statements":[...]}):
 *   learner  actor.account.name, else actor.mbox (without "mailto:"), else
 *            actor.mbox_sha1sum, else actor.openid
 *   kind     by the last segment of verb.id: experienced, completed → read
 *            (completed with a result score → quiz); passed, failed,
 *            answered, scored, attempted → quiz
 *   concept  object.id: "urn:kgpath:" + key, else the text after the last
 *            '/' or '#', percent-decoded
 *   score    result.score.scaled (negative → 0), else raw/max, else
 *            result.success (1/0), else passed 1 / failed 0
 *   dwell    result.duration (ISO 8601 duration, e.g. PT9M30S)
 *   at       timestamp (else stored)
 *
 * Timestamps are ISO 8601 with a date, a time and a zone (Z, ±hh:mm, ±hhmm
 * or ±hh); fractions of a second are dropped after conversion to UTC.
 * A timestamp without a zone is an error (its instant is ambiguous).
 *
 * Errors: each malformed line is reported as "name:line:column: message"
 * and skipped; the good lines are kept (callers decide whether an error
 * voids the batch: `observe --strict`).
 */
#ifndef KGN_LEARNER_EVENTS_H
#define KGN_LEARNER_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "base/alloc.h"
#include "graph/learner_store.h"

#define KGN_EVENTS_MAX_ERRORS 100   /* messages kept; all are counted */

typedef struct kgn_events {
    kgg_event *ev;          /* parsed events in input order */
    size_t n, cap;
    char **err;             /* first KGN_EVENTS_MAX_ERRORS messages */
    size_t nerr_kept, nerr; /* kept, counted */
    size_t lines;           /* non-blank lines (or statements) seen */
    kg_arena *arena;        /* strings of ev and err */
} kgn_events;

/* Empty set. Returns 0, or -1 when out of memory. */
int  kgn_events_init(kgn_events *ev);
void kgn_events_free(kgn_events *ev);

/* Parses a buffer of len bytes named `name` (for messages) and appends its
 * events and errors to ev. Returns 0 (even with input errors: see
 * ev->nerr), or -1 when out of memory. O(len). */
int kgn_events_parse(kgn_events *ev, const char *name, const char *buf,
                     size_t len);

/* ISO 8601 timestamp → unix seconds (UTC). Returns 0, or -1 with a reason
 * in err. */
int kgn_parse_timestamp(const char *s, int64_t *out, char *err, size_t errlen);
/* ISO 8601 duration (PnW, PnDTnHnMnS with a fractional last component) →
 * seconds. Years and months are rejected (their length is ambiguous).
 * Returns 0, or -1. */
int kgn_parse_duration(const char *s, double *out);
/* Formats unix seconds as "YYYY-MM-DDThh:mm:ssZ" (buf >= 21 bytes). */
void kgn_format_timestamp(int64_t t, char *buf, size_t cap);

#endif
