/* kg_buf: see base/buf.h. */
#include "base/buf.h"
#include "base/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void kg_buf_free(kg_buf *b)
{
    kg_free(b->data);
    memset(b, 0, sizeof *b);
}

char *kg_buf_take(kg_buf *b)
{
    char *s = b->oom ? NULL : b->data ? b->data : kg_strdup("");
    if (b->oom) kg_free(b->data);
    memset(b, 0, sizeof *b);
    return s;
}

void kg_buf_put(kg_buf *b, const void *p, size_t n)
{
    if (b->oom) return;
    if (b->len + n >= b->cap && kg_grow(&b->data, &b->cap, b->len + n + 1, 1) != 0) {
        b->oom = 1;
        return;
    }
    if (n) memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0;
}

void kg_buf_puts(kg_buf *b, const char *s)
{
    if (s) kg_buf_put(b, s, strlen(s));
}

void kg_buf_printf(kg_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) { b->oom = 1; return; }
    if ((size_t)n < sizeof tmp) { kg_buf_put(b, tmp, (size_t)n); return; }
    if (b->oom || kg_grow(&b->data, &b->cap, b->len + (size_t)n + 1, 1) != 0) { b->oom = 1; return; }
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void kg_buf_join(kg_buf *b, const char *sep, const char *s)
{
    if (!s || !*s) return;
    if (b->len) kg_buf_puts(b, sep);
    kg_buf_puts(b, s);
}

/* XML 1.0's Char production excludes the C0 controls but tab, LF and CR. */
static int xml_forbidden(char c)
{
    unsigned char u = (unsigned char)c;
    return u < 0x20 && u != '\t' && u != '\n' && u != '\r';
}

int kg_xml_bad_char(const char *s)
{
    for (; s && *s; s++)
        if (xml_forbidden(*s)) return 1;
    return 0;
}

void kg_buf_xml_chars(kg_buf *b, const char *s)
{
    if (!s) return;
    const char *run = s;
    for (const char *p = s; *p; p++) {
        if (!xml_forbidden(*p)) continue;
        kg_buf_put(b, run, (size_t)(p - run));
        kg_buf_puts(b, "\xEF\xBF\xBD");
        run = p + 1;
    }
    kg_buf_puts(b, run);
}

void kg_buf_gv_n(kg_buf *b, const char *s, size_t n, int mode)
{
    if (!s) return;
    const char *run = s, *end = s + n;   /* run: the bytes not yet appended */
    for (const char *p = s; p < end; p++) {
        unsigned char c = (unsigned char)*p;
        const char *esc;
        if (c == '\\') esc = mode == KG_GV_TOOLTIP ? "\\\\\\\\" : "\\\\";
        else if (c >= ' ' && mode == KG_GV_ID) continue;
        else if (c == '"') esc = "\\\"";
        else if (c == '&') esc = "&amp;";
        else if (c == '\n' && mode != KG_GV_ID) esc = "\\n";
        else if (c < ' ') esc = " ";
        else continue;
        if (p > run) kg_buf_put(b, run, (size_t)(p - run));
        kg_buf_puts(b, esc);
        run = p + 1;
    }
    if (end > run) kg_buf_put(b, run, (size_t)(end - run));
}

void kg_buf_gv(kg_buf *b, const char *s, int mode) { kg_buf_gv_n(b, s, s ? strlen(s) : 0, mode); }

void kg_buf_xml(kg_buf *b, const char *s)
{
    if (!s) return;
    const char *run = s;                /* start of the bytes not yet appended */
    for (const char *p = s; *p; p++) {
        const char *esc;
        switch (*p) {
        case '&': esc = "&amp;"; break;
        case '<': esc = "&lt;"; break;
        case '>': esc = "&gt;"; break;
        case '"': esc = "&quot;"; break;
        case '\'': esc = "&#39;"; break;
        default:
            if (!xml_forbidden(*p)) continue;
            esc = "\xEF\xBF\xBD";
        }
        kg_buf_put(b, run, (size_t)(p - run));
        kg_buf_puts(b, esc);
        run = p + 1;
    }
    kg_buf_puts(b, run);
}

void kg_buf_varint(kg_buf *b, uint64_t v)
{
    uint8_t t[10];
    size_t n = 0;
    do { t[n] = v & 0x7f; v >>= 7; if (v) t[n] |= 0x80; n++; } while (v);
    kg_buf_put(b, t, n);
}

void kg_buf_lpstr(kg_buf *b, const char *s)
{
    if (!s) { kg_buf_varint(b, 0); return; }
    size_t n = strlen(s);
    kg_buf_varint(b, n + 1);
    kg_buf_put(b, s, n + 1);
}
