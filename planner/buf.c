/* kgn_put_dot (DOT string escaping for the renderers) and kgn_fail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "planner/planner.h"

void kgn_put_dot(kg_buf *b, const char *s)
{
    if (!s) return;
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') { kg_buf_put(b, "\\", 1); kg_buf_put(b, p, 1); }
        else if (*p == '\n') kg_buf_puts(b, "\\n");
        else if (*p == '\r') continue;
        else kg_buf_put(b, p, 1);
    }
}

kgp_status kgn_fail(kgn_error *err, kgp_status st, const char *fmt, ...)
{
    if (err) {
        err->status = st;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return st;
}
