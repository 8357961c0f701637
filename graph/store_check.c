/* The database file checked against its own LMDB meta pages before it is
 * mapped (graph/store_check.h). LMDB maps the whole file and trusts it:
 * reading a page past the end of a truncated file raises SIGBUS, which no
 * return code can report. The meta pages say how far the data goes
 * (mm_last_pg × page size), so a short file is refused up front.
 *
 * LMDB 0.9 file layout (lmdb/mdb.c, 64-bit builds): pages 0 and 1 are meta
 * pages; each starts with a 16-byte page header (pgno u64, pad u16,
 * flags u16 = P_META 0x08, lower/upper u16), then MDB_meta:
 *   0 mm_magic u32 (0xBEEFC0DE)   4 mm_version u32 (1)
 *   8 mm_address ptr             16 mm_mapsize size_t
 *  24 mm_dbs[FREE_DBI] (48 bytes; its md_pad u32 holds the page size)
 *  72 mm_dbs[MAIN_DBI] (48 bytes)
 * 120 mm_last_pg u64             128 mm_txnid u64
 * Both meta pages are written in turn; the one with the larger txnid is
 * current. Fields are in host byte order (LMDB files are not portable). */
#include "graph/store_check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PAGE_HDR 16
#define META_SIZE 136
#define MDB_MAGIC_V 0xBEEFC0DEu
#define MDB_DATA_VERSION_V 1u

typedef struct meta {
    uint32_t magic, version, psize;
    uint64_t last_pg, txnid;
} meta;

static int read_meta(int fd, off_t off, meta *m)
{
    unsigned char b[PAGE_HDR + META_SIZE];
    ssize_t r = pread(fd, b, sizeof b, off);
    if (r != (ssize_t)sizeof b) return -1;
    const unsigned char *p = b + PAGE_HDR;
    memcpy(&m->magic, p + 0, 4);
    memcpy(&m->version, p + 4, 4);
    memcpy(&m->psize, p + 24, 4);
    memcpy(&m->last_pg, p + 120, 8);
    memcpy(&m->txnid, p + 128, 8);
    return 0;
}

static int meta_ok(const meta *m)
{
    return m->magic == MDB_MAGIC_V && m->version == MDB_DATA_VERSION_V &&
           m->psize >= 512 && m->psize <= 65536 && (m->psize & (m->psize - 1)) == 0;
}

kgp_status kgg_store_check_file(const char *path, int fd, int rdonly, kgg_err *e)
{
    struct stat sb;
    if (fstat(fd, &sb) != 0)
        return kgg_errf(e, KGP_EIO, "%s: %s", path, strerror(errno));
    uint64_t size = (uint64_t)sb.st_size;
    if (size == 0) {
        /* A writer starts a new database in an empty file (mktemp); a
         * reader has nothing to read. */
        if (!rdonly) return KGP_OK;
        return kgg_errf(e, KGP_EDB, "%s: the file is empty (0 bytes): no kgpath database in it "
                        "(truncated? restore a copy, or import into it)", path);
    }
    meta m0, m1;
    if (size < PAGE_HDR + META_SIZE || read_meta(fd, 0, &m0) != 0)
        return kgg_errf(e, KGP_EDB, "%s: damaged: the file has only %llu bytes, too few for "
                        "an LMDB database (truncated?)", path, (unsigned long long)size);
    if (m0.magic != MDB_MAGIC_V)
        return kgg_errf(e, KGP_EDB, "%s: not a kgpath (LMDB) database: no LMDB header", path);
    if (!meta_ok(&m0))
        return kgg_errf(e, KGP_EDB, "%s: damaged: the first LMDB meta page is invalid "
                        "(version %u, page size %u)", path, m0.version, m0.psize);
    uint64_t ps = m0.psize;
    if (size < 2 * ps || read_meta(fd, (off_t)ps, &m1) != 0)
        return kgg_errf(e, KGP_EDB, "%s: damaged: the file has %llu bytes, less than LMDB's two "
                        "meta pages (%llu bytes; truncated — restore a copy)", path,
                        (unsigned long long)size, (unsigned long long)(2 * ps));
    const meta *cur = &m0;
    if (meta_ok(&m1) && m1.psize == m0.psize && m1.txnid > m0.txnid) cur = &m1;
    if (cur->last_pg >= (UINT64_MAX / ps) - 1)
        return kgg_errf(e, KGP_EDB, "%s: damaged: invalid last page number in the LMDB meta page", path);
    uint64_t need = (cur->last_pg + 1) * ps;
    if (size < need)
        return kgg_errf(e, KGP_EDB, "%s: damaged: the file has %llu bytes but its data reaches "
                        "byte %llu (page %llu of %llu bytes): truncated — restore a copy "
                        "(nothing was read or written)", path, (unsigned long long)size,
                        (unsigned long long)need, (unsigned long long)cur->last_pg,
                        (unsigned long long)ps);
    return KGP_OK;
}
