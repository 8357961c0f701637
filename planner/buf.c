/* kgn_buf: the renderers' growable output buffer, and kgn_fail. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "planner/planner.h"

void kgn_buf_free(kgn_buf *b)
{
    kg_free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = 0;
}

void kgn_buf_put(kgn_buf *b, const char *s, size_t n)
{
    if (b->oom) return;
    if (b->len + n >= b->cap && kg_grow(&b->data, &b->cap, b->len + n + 1, 1) != 0) {
        b->oom = 1;
        return;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void kgn_buf_puts(kgn_buf *b, const char *s)
{
    kgn_buf_put(b, s, strlen(s));
}

void kgn_buf_printf(kgn_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if ((size_t)n < sizeof tmp) { kgn_buf_put(b, tmp, (size_t)n); return; }
    if (b->oom || kg_grow(&b->data, &b->cap, b->len + (size_t)n + 1, 1) != 0) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kgn_buf_xml(kgn_buf *b, const char *s)
{
    if (!s) return;
    for (const char *p = s; *p; p++) {
        switch (*p) {
        case '&': kgn_buf_puts(b, "&amp;"); break;
        case '<': kgn_buf_puts(b, "&lt;"); break;
        case '>': kgn_buf_puts(b, "&gt;"); break;
        case '"': kgn_buf_puts(b, "&quot;"); break;
        case '\'': kgn_buf_puts(b, "&#39;"); break;
        default: kgn_buf_put(b, p, 1);
        }
    }
}

void kgn_buf_dot(kgn_buf *b, const char *s)
{
    if (!s) return;
    for (const char *p = s; *p; p++) {
        if (*p == '"' || *p == '\\') { kgn_buf_put(b, "\\", 1); kgn_buf_put(b, p, 1); }
        else if (*p == '\n') kgn_buf_puts(b, "\\n");
        else if (*p == '\r') continue;
        else kgn_buf_put(b, p, 1);
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
