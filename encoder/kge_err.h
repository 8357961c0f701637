/* Encoder error values.
 *
 * The encoder layer knows nothing of the public API, but its status codes
 * have the numeric values of kgp_status (kgpath.h) so the glue in
 * src/api_encoder.c passes them through unchanged. Every fallible encoder
 * call takes a kge_err * (may be NULL) that receives a one-line message.
 */
#ifndef KGE_ERR_H
#define KGE_ERR_H

#include <stddef.h>

enum {
    KGE_OK        = 0,
    KGE_EUSAGE    = 1,  /* invalid argument */
    KGE_EINPUT    = 2,  /* malformed file or text, inconsistent shapes */
    KGE_ENOTFOUND = 3,  /* missing file or tensor */
    KGE_ENOMEM    = 7,
    KGE_EIO       = 8,  /* read/write/mmap failure */
    KGE_EINTERNAL = 9
};

typedef struct kge_err {
    int  code;
    char msg[512];
} kge_err;

/* Records code and a printf-style message in e (when not NULL); returns code. */
int kge_fail(kge_err *e, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefixes the message already in e with printf-style context ("ctx: msg");
 * returns e->code (or KGE_EINTERNAL when e is NULL). */
int kge_fail_ctx(kge_err *e, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
