/* Library-wide calls: status texts, version, allocator. */
#include "kgpath.h"
#include "base/alloc.h"

const char *kgp_strerror(kgp_status st)
{
    switch (st) {
    case KGP_OK:         return "success";
    case KGP_EUSAGE:     return "invalid argument";
    case KGP_EINPUT:     return "invalid input";
    case KGP_ENOTFOUND:  return "not found";
    case KGP_EAMBIGUOUS: return "ambiguous name";
    case KGP_ECONFLICT:  return "cannot be satisfied";
    case KGP_EDB:        return "database error";
    case KGP_ENOMEM:     return "out of memory";
    case KGP_EIO:        return "I/O error";
    case KGP_EINTERNAL:  return "internal error";
    }
    return "unknown status";
}

const char *kgp_version(int *major, int *minor, int *patch)
{
    if (major) *major = KGPATH_VERSION_MAJOR;
    if (minor) *minor = KGPATH_VERSION_MINOR;
    if (patch) *patch = KGPATH_VERSION_PATCH;
    return KGPATH_VERSION_STRING;
}

void kgp_set_allocator(kgp_alloc_fn fn, void *ud)
{
    kg_set_allocator((kg_alloc_fn)fn, ud);
}
