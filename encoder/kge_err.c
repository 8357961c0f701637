/* Error recording for the encoder layer. */
#include "encoder/kge_err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int kge_fail(kge_err *e, int code, const char *fmt, ...)
{
    if (!e) return code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    e->code = code;
    return code;
}

int kge_fail_ctx(kge_err *e, const char *fmt, ...)
{
    if (!e) return KGE_EINTERNAL;
    char old[sizeof e->msg];
    memcpy(old, e->msg, sizeof old);
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    size_t o = n < 0 ? 0 : (size_t)n < sizeof e->msg ? (size_t)n : sizeof e->msg - 1;
    size_t room = sizeof e->msg - 1 - o, ol = strlen(old);
    if (room >= 2) {
        memcpy(e->msg + o, ": ", 2);
        o += 2;
        room -= 2;
        if (ol > room) ol = room;
        memcpy(e->msg + o, old, ol);
        o += ol;
    }
    e->msg[o] = 0;
    return e->code ? e->code : KGE_EINTERNAL;
}
