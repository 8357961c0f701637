/* Course packages: folders and archives read in place (see pkg.h). */
#include "importers/pkg.h"

#include <errno.h>
#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <archive.h>
#include <archive_entry.h>

#include "base/alloc.h"
#include "importers/html_text.h"

typedef struct pkg_entry {
    char *name;             /* normalised package-relative path */
    char *link;             /* symlink target (normalised, package-relative) or NULL */
    char *data;             /* kept bytes (archives, text entries) or NULL */
    size_t size;
    int kept;
} pkg_entry;

struct kgi_pkg {
    char *path;
    char *real;             /* folder: realpath of the root */
    int archive;
    pkg_entry *e;
    size_t n, cap;
    char **files;           /* names of regular entries, for kgi_pkg_entry */
    size_t nfiles, capfiles;
    kgi_map index;          /* name -> index in e (the last entry of that name) */
    int indexed;
    int has_links;          /* folder: a symbolic link was seen when listing */
    kgi_pkg_limits lim;
};

void kgi_pkg_default_limits(kgi_pkg_limits *l)
{
    l->max_total = (uint64_t)2 << 30;
    l->max_entries = 200000;
    l->max_ratio = 200;
    l->max_file = (uint64_t)256 << 20;
}

int kgi_pkg_is_archive(const kgi_pkg *p) { return p->archive; }
const char *kgi_pkg_path(const kgi_pkg *p) { return p->path; }
size_t kgi_pkg_count(const kgi_pkg *p) { return p->nfiles; }
const char *kgi_pkg_entry(const kgi_pkg *p, size_t i) { return i < p->nfiles ? p->files[i] : NULL; }

const char *kgi_pkg_display(const kgi_pkg *p, const char *rel, char *out, size_t outlen)
{
    snprintf(out, outlen, "%s%s%s", p->path, p->archive ? "!" : "/", rel ? rel : "");
    return out;
}

/* ---- path resolution ---------------------------------------------------- */

static int hexval(int c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int has_scheme(const char *s)
{
    /* RFC 3986 scheme ":" — but a single letter followed by ':' is a
     * Windows drive (absolute path), not a scheme. */
    size_t i = 0;
    if (!((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z'))) return 0;
    while (s[i] && (s[i] == '+' || s[i] == '-' || s[i] == '.' ||
                    (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'z') ||
                    (s[i] >= 'A' && s[i] <= 'Z'))) i++;
    return s[i] == ':' && i > 1;
}

/* Appends normalised segments of src to out (which holds len bytes).
 * Returns the new length or -1 when ".." climbs above the root. */
static long push_segments(char *out, size_t outlen, long len, const char *src, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t j = i;
        while (j < n && src[j] != '/') j++;
        size_t sl = j - i;
        if (sl == 0 || (sl == 1 && src[i] == '.')) {
            /* skip */
        } else if (sl == 2 && src[i] == '.' && src[i + 1] == '.') {
            if (len == 0) return -1;
            long k = len - 1;
            while (k > 0 && out[k - 1] != '/') k--;
            len = k > 0 ? k - 1 : 0;
            out[len] = 0;
        } else {
            if ((size_t)len + sl + 2 > outlen) return -2;
            if (len) out[len++] = '/';
            memcpy(out + len, src + i, sl);
            len += (long)sl;
            out[len] = 0;
        }
        i = j + 1;
    }
    return len;
}

int kgi_pkg_resolve(const char *base, const char *ref, char *out, size_t outlen,
                    char *err, size_t errlen)
{
    if (!ref) ref = "";
    while (*ref == ' ' || *ref == '\t' || *ref == '\n' || *ref == '\r') ref++;
    size_t rl = strlen(ref);
    while (rl && (ref[rl - 1] == ' ' || ref[rl - 1] == '\t' || ref[rl - 1] == '\n' || ref[rl - 1] == '\r')) rl--;
    if (rl == 0) { snprintf(err, errlen, "empty path"); return -1; }
    if (has_scheme(ref)) {
        snprintf(out, outlen, "%.*s", (int)rl, ref);
        return 1;
    }
    /* Cut "?query" and "#fragment", then percent-decode and fix slashes. */
    char *dec = kg_malloc(rl + 1);
    if (!dec) { snprintf(err, errlen, "out of memory"); return -1; }
    size_t d = 0;
    for (size_t i = 0; i < rl; i++) {
        char ch = ref[i];
        if (ch == '?' || ch == '#') break;
        if (ch == '%' && i + 2 < rl && hexval(ref[i + 1]) >= 0 && hexval(ref[i + 2]) >= 0) {
            ch = (char)(hexval(ref[i + 1]) * 16 + hexval(ref[i + 2]));
            i += 2;
            if (ch == 0) {
                kg_free(dec);
                snprintf(err, errlen, "path \"%.*s\" contains a NUL byte", (int)rl, ref);
                return -1;
            }
        }
        dec[d++] = ch == '\\' ? '/' : ch;
    }
    dec[d] = 0;
    if (d == 0) { kg_free(dec); snprintf(err, errlen, "empty path"); return -1; }
    if (dec[0] == '/' || (d >= 2 && dec[1] == ':' &&
                          ((dec[0] >= 'a' && dec[0] <= 'z') || (dec[0] >= 'A' && dec[0] <= 'Z')))) {
        snprintf(err, errlen, "absolute path \"%.*s\" is not allowed in a package", (int)rl, ref);
        kg_free(dec);
        return -1;
    }
    if (outlen == 0) { kg_free(dec); return -1; }
    out[0] = 0;
    long len = push_segments(out, outlen, 0, base ? base : "", base ? strlen(base) : 0);
    if (len >= 0) len = push_segments(out, outlen, len, dec, d);
    kg_free(dec);
    if (len == -2) { snprintf(err, errlen, "path \"%.*s\" is too long", (int)rl, ref); return -1; }
    if (len < 0) {
        snprintf(err, errlen, "path \"%.*s\" leaves the package (\"..\" above the root)", (int)rl, ref);
        return -1;
    }
    if (len == 0) { snprintf(err, errlen, "path \"%.*s\" names the package root", (int)rl, ref); return -1; }
    return 0;
}

/* ---- index ---------------------------------------------------------------- */

static void pkg_free_entries(kgi_pkg *p)
{
    for (size_t i = 0; i < p->n; i++) {
        kg_free(p->e[i].name);
        kg_free(p->e[i].link);
        kg_free(p->e[i].data);
    }
    kg_free(p->e);
    kg_free(p->files);
    kgi_map_free(&p->index);
}

void kgi_pkg_close(kgi_pkg *p)
{
    if (!p) return;
    pkg_free_entries(p);
    kg_free(p->path);
    kg_free(p->real);
    kg_free(p);
}

static pkg_entry *add_entry(kgi_pkg *p, const char *name)
{
    if (kg_grow(&p->e, &p->cap, p->n + 1, sizeof *p->e)) return NULL;
    pkg_entry *e = &p->e[p->n];
    memset(e, 0, sizeof *e);
    if (!(e->name = kg_strdup(name))) return NULL;
    p->n++;
    return e;
}

static pkg_entry *find_entry(const kgi_pkg *p, const char *name)
{
    if (p->indexed) {
        long i = kgi_map_get(&p->index, name, -1);
        return i >= 0 ? &p->e[i] : NULL;
    }
    /* Later entries win, as when an archive is extracted. */
    for (size_t i = p->n; i-- > 0;)
        if (strcmp(p->e[i].name, name) == 0) return &p->e[i];
    return NULL;
}

/* Builds the name index. Returns 0, -1 out of memory, or -2 with *dup
 * naming an entry that appears twice (an archive: which copy is meant is
 * ambiguous, so it is refused rather than the last one taken silently).
 * O(n) expected. */
static int build_index(kgi_pkg *p, const char **dup)
{
    for (size_t i = 0; i < p->n; i++) {
        if (kgi_map_get(&p->index, p->e[i].name, -1) >= 0) { *dup = p->e[i].name; return -2; }
        if (kgi_map_put(&p->index, p->e[i].name, (long)i)) return -1;
    }
    p->indexed = 1;
    return 0;
}

static int text_name(const char *name)
{
    static const char *const ext[] = { ".xml", ".html", ".htm", ".xhtml", ".srt", ".sjson",
        ".vtt", ".json", ".csv", ".txt", ".qti", NULL };
    size_t n = strlen(name);
    for (int i = 0; ext[i]; i++) {
        size_t l = strlen(ext[i]);
        if (n >= l && strcasecmp(name + n - l, ext[i]) == 0) return 1;
    }
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Indexes the entries and lists the files. Returns 0, -1 out of memory,
 * -2 with *dup set (see build_index). */
static int build_file_list(kgi_pkg *p, int sort, const char **dup)
{
    int rc = build_index(p, dup);
    if (rc) return rc;
    for (size_t i = 0; i < p->n; i++) {
        pkg_entry *e = &p->e[i];
        if (kg_grow(&p->files, &p->capfiles, p->nfiles + 1, sizeof *p->files)) return -1;
        p->files[p->nfiles++] = e->name;
    }
    if (sort && p->nfiles) qsort(p->files, p->nfiles, sizeof *p->files, cmp_str);
    return 0;
}

/* ---- archives ------------------------------------------------------------- */

static int open_archive(kgi_pkg *p, uint64_t file_size, char *err, size_t errlen)
{
    struct archive *a = archive_read_new();
    if (!a) { snprintf(err, errlen, "%s: out of memory", p->path); return -1; }
    archive_read_support_filter_all(a);
    archive_read_support_format_zip(a);
    archive_read_support_format_tar(a);
    archive_read_support_format_gnutar(a);
    archive_read_support_format_cpio(a);
    archive_read_support_format_7zip(a);
    int rc = -1;
    if (archive_read_open_filename(a, p->path, 65536) != ARCHIVE_OK) {
        snprintf(err, errlen, "%s: cannot open archive: %s", p->path, archive_error_string(a));
        goto done;
    }
    uint64_t total = 0, nheaders = 0;
    struct archive_entry *ae;
    char name[4096], why[512];
    for (;;) {
        int r = archive_read_next_header(a, &ae);
        if (r == ARCHIVE_EOF) break;
        if (r < ARCHIVE_WARN) {
            snprintf(err, errlen, "%s: damaged archive: %s", p->path, archive_error_string(a));
            goto done;
        }
        /* Every header counts, folders and skipped entries too: the limit
         * bounds the work, not only what is kept. */
        if (++nheaders > p->lim.max_entries) {
            snprintf(err, errlen, "%s: archive has more than %llu entries (limit)",
                     p->path, (unsigned long long)p->lim.max_entries);
            goto done;
        }
        const char *raw = archive_entry_pathname(ae);
        if (!raw || !*raw) continue;
        /* zip-slip: an absolute name or one that climbs out is refused. */
        if (raw[0] == '/' || raw[0] == '\\' ||
            (raw[0] && raw[1] == ':' && ((raw[0] | 32) >= 'a' && (raw[0] | 32) <= 'z'))) {
            snprintf(err, errlen, "%s: entry \"%s\" has an absolute path (refused: zip-slip)", p->path, raw);
            goto done;
        }
        /* Entry names are not percent-encoded: normalise without decoding. */
        {
            size_t rl = strlen(raw);
            char *fixed = kg_strdup(raw);
            if (!fixed) { snprintf(err, errlen, "out of memory"); goto done; }
            for (size_t i = 0; i < rl; i++) if (fixed[i] == '\\') fixed[i] = '/';
            name[0] = 0;
            long len = push_segments(name, sizeof name, 0, fixed, rl);
            kg_free(fixed);
            if (len < 0) {
                snprintf(err, errlen, "%s: entry \"%s\" %s (refused: zip-slip)", p->path, raw,
                         len == -1 ? "leaves the archive" : "has a name too long");
                goto done;
            }
            if (len == 0) continue;
        }
        mode_t type = archive_entry_filetype(ae);
        const char *hard = archive_entry_hardlink(ae);
        if (type == AE_IFDIR) continue;
        if (type != AE_IFREG && type != AE_IFLNK && !hard) continue;
        pkg_entry *e = add_entry(p, name);
        if (!e) { snprintf(err, errlen, "out of memory"); goto done; }
        const char *target = hard ? hard : type == AE_IFLNK ? archive_entry_symlink(ae) : NULL;
        if (target) {
            char dir[4096];
            snprintf(dir, sizeof dir, "%s", name);
            char *slash = strrchr(dir, '/');
            if (slash) *slash = 0; else dir[0] = 0;
            char resolved[4096];
            /* A hard link names a path from the archive root; a symlink is
             * relative to its own folder. Absolute targets are refused. */
            if (target[0] == '/' ||
                kgi_pkg_resolve(hard ? "" : dir, target, resolved, sizeof resolved, why, sizeof why) != 0) {
                snprintf(err, errlen, "%s: link \"%s\" -> \"%s\" leaves the archive (refused: zip-slip)",
                         p->path, name, target);
                goto done;
            }
            if (!(e->link = kg_strdup(resolved))) { snprintf(err, errlen, "out of memory"); goto done; }
            continue;
        }
        int64_t declared = archive_entry_size_is_set(ae) ? archive_entry_size(ae) : 0;
        if (declared < 0) declared = 0;
        e->size = (size_t)declared;
        if (text_name(name) && (uint64_t)declared <= p->lim.max_file) {
            /* The declared size when there is one (an empty entry costs 2
             * bytes, not a page: 200,000 of them are no memory bomb). */
            size_t cap = archive_entry_size_is_set(ae) ? (size_t)declared + 2 : 4096, n = 0;
            char *buf = kg_malloc(cap);
            if (!buf) { snprintf(err, errlen, "out of memory"); goto done; }
            for (;;) {
                if (cap - n < 2) {
                    char *nb = kg_realloc(buf, cap * 2);
                    if (!nb) { kg_free(buf); snprintf(err, errlen, "out of memory"); goto done; }
                    buf = nb; cap *= 2;
                }
                la_ssize_t got = archive_read_data(a, buf + n, cap - n - 1);
                if (got < 0) {
                    kg_free(buf);
                    snprintf(err, errlen, "%s: cannot read entry \"%s\": %s", p->path, name,
                             archive_error_string(a));
                    goto done;
                }
                if (got == 0) break;
                n += (size_t)got;
                if (n > p->lim.max_file || total + n > p->lim.max_total) {
                    kg_free(buf);
                    snprintf(err, errlen, "%s: entry \"%s\" uncompresses beyond the size limit "
                             "(%llu bytes per file, %llu in all)", p->path, name,
                             (unsigned long long)p->lim.max_file, (unsigned long long)p->lim.max_total);
                    goto done;
                }
                if (total + n > ((uint64_t)1 << 20) && file_size > 0 &&
                    (double)(total + n) / (double)file_size > p->lim.max_ratio) {
                    kg_free(buf);
                    snprintf(err, errlen, "%s: compression ratio above %.0f:1 at entry \"%s\" "
                             "(refused: archive bomb)", p->path, p->lim.max_ratio, name);
                    goto done;
                }
            }
            buf[n] = 0;
            e->data = buf;
            e->size = n;
            e->kept = 1;
            total += n;
        } else {
            total += (uint64_t)declared;
            archive_read_data_skip(a);
        }
        /* For compressed tar streams the filter count is what was really
         * decompressed, skipped entries included. */
        uint64_t streamed = (uint64_t)archive_filter_bytes(a, 0);
        uint64_t seen = streamed > total ? streamed : total;
        if (seen > p->lim.max_total) {
            snprintf(err, errlen, "%s: archive uncompresses to more than %llu bytes (limit)",
                     p->path, (unsigned long long)p->lim.max_total);
            goto done;
        }
        if (seen > ((uint64_t)1 << 20) && file_size > 0 &&
            (double)seen / (double)file_size > p->lim.max_ratio) {
            snprintf(err, errlen, "%s: compression ratio above %.0f:1 (refused: archive bomb)",
                     p->path, p->lim.max_ratio);
            goto done;
        }
    }
    const char *dup = NULL;
    int lr = build_file_list(p, 0, &dup);
    if (lr == -2) {
        snprintf(err, errlen, "%s: entry \"%s\" appears twice in the archive (refused: which copy "
                 "is meant is ambiguous)", p->path, dup);
        goto done;
    }
    if (lr) { snprintf(err, errlen, "out of memory"); goto done; }
    rc = 0;
done:
    archive_read_free(a);
    return rc;
}

/* ---- folders -------------------------------------------------------------- */

/* Lists regular files and links below dir (package-relative prefix rel).
 * Returns 0, -1 out of memory, -2 too many entries, -3 a folder cannot be
 * read. Depth is bounded; "." and ".." are skipped; links are listed, not
 * followed (reads check where they lead). */
static int walk(kgi_pkg *p, const char *dir, const char *rel, int depth)
{
    if (depth > 64) return 0;
    DIR *d = opendir(dir);
    if (!d) return -3;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d))) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0) continue;
        size_t dl = strlen(dir), nl = strlen(de->d_name), rl = strlen(rel);
        char *full = kg_malloc(dl + nl + 2), *r = kg_malloc(rl + nl + 2);
        if (!full || !r) { kg_free(full); kg_free(r); rc = -1; break; }
        sprintf(full, "%s/%s", dir, de->d_name);
        sprintf(r, "%s%s%s", rel, rl ? "/" : "", de->d_name);
        struct stat st;
        if (lstat(full, &st) == 0) {
            if (S_ISDIR(st.st_mode)) {
                rc = walk(p, full, r, depth + 1);
                if (rc == -3) rc = 0;       /* an unreadable sub-folder is skipped */
            } else if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) {
                if (S_ISLNK(st.st_mode)) p->has_links = 1;
                if (p->n + 1 > p->lim.max_entries) rc = -2;
                else if (!add_entry(p, r)) rc = -1;
            }
        }
        kg_free(full);
        kg_free(r);
    }
    closedir(d);
    return rc;
}

static int open_folder(kgi_pkg *p, char *err, size_t errlen)
{
    char *real = realpath(p->path, NULL);
    if (!real) { snprintf(err, errlen, "%s: %s", p->path, strerror(errno)); return -1; }
    p->real = kg_strdup(real);
    free(real);
    if (!p->real) { snprintf(err, errlen, "out of memory"); return -1; }
    int rc = walk(p, p->path, "", 0);
    if (rc == -3) { snprintf(err, errlen, "%s: cannot list folder: %s", p->path, strerror(errno)); return -1; }
    if (rc == -2) {
        snprintf(err, errlen, "%s: folder has more than %llu files (limit)", p->path,
                 (unsigned long long)p->lim.max_entries);
        return -1;
    }
    const char *dup;
    if (rc || build_file_list(p, 1, &dup)) { snprintf(err, errlen, "out of memory"); return -1; }
    return 0;
}

int kgi_pkg_open(const char *path, const kgi_pkg_limits *lim, kgi_pkg **out,
                 char *err, size_t errlen)
{
    *out = NULL;
    struct stat st;
    if (stat(path, &st) != 0) { snprintf(err, errlen, "%s: %s", path, strerror(errno)); return -1; }
    kgi_pkg *p = kg_calloc(1, sizeof *p);
    if (!p) { snprintf(err, errlen, "out of memory"); return -1; }
    if (lim) p->lim = *lim; else kgi_pkg_default_limits(&p->lim);
    size_t pl = strlen(path);
    while (pl > 1 && path[pl - 1] == '/') pl--;
    p->path = kg_strndup(path, pl);
    if (!p->path) { kg_free(p); snprintf(err, errlen, "out of memory"); return -1; }
    int rc;
    if (S_ISDIR(st.st_mode)) rc = open_folder(p, err, errlen);
    else if (S_ISREG(st.st_mode)) { p->archive = 1; rc = open_archive(p, (uint64_t)st.st_size, err, errlen); }
    else { snprintf(err, errlen, "%s: neither a folder nor a file", path); rc = -1; }
    if (rc) { kgi_pkg_close(p); return -1; }
    *out = p;
    return 0;
}

/* ---- reading -------------------------------------------------------------- */

static const pkg_entry *follow(const kgi_pkg *p, const char *rel, int *loop)
{
    const pkg_entry *e = find_entry(p, rel);
    int hops = 0;
    while (e && e->link && hops++ < 16) e = find_entry(p, e->link);
    *loop = e && e->link;
    return e;
}

int kgi_pkg_exists(kgi_pkg *p, const char *rel)
{
    if (p->archive) {
        int loop;
        const pkg_entry *e = follow(p, rel, &loop);
        return e && !loop;
    }
    char *full = kg_malloc(strlen(p->path) + strlen(rel) + 2);
    if (!full) return 0;
    sprintf(full, "%s/%s", p->path, rel);
    struct stat st;
    int ok = stat(full, &st) == 0 && S_ISREG(st.st_mode);
    kg_free(full);
    return ok;
}

int kgi_pkg_read(kgi_pkg *p, const char *rel, char **buf, size_t *len,
                 char *err, size_t errlen)
{
    *buf = NULL; *len = 0;
    char shown[1024];
    kgi_pkg_display(p, rel, shown, sizeof shown);
    if (p->archive) {
        int loop;
        const pkg_entry *e = follow(p, rel, &loop);
        if (!e || loop) { snprintf(err, errlen, "%s: no such file in the package", shown); return 1; }
        if (!e->kept) {
            snprintf(err, errlen, "%s: entry not read (not a text file or over %llu bytes)",
                     shown, (unsigned long long)p->lim.max_file);
            return -1;
        }
        char *b = kg_malloc(e->size + 1);
        if (!b) { snprintf(err, errlen, "out of memory"); return -1; }
        memcpy(b, e->data, e->size);
        b[e->size] = 0;
        *buf = b; *len = e->size;
        return 0;
    }
    char *full = kg_malloc(strlen(p->path) + strlen(rel) + 2);
    if (!full) { snprintf(err, errlen, "out of memory"); return -1; }
    sprintf(full, "%s/%s", p->path, rel);
    /* Without links in the folder (seen when it was listed) a normalised
     * relative path cannot leave it: skip the realpath walk. */
    char *real = p->has_links || strstr(rel, "..") ? realpath(full, NULL) : strdup(full);
    kg_free(full);
    if (!real) {
        if (errno == ENOENT || errno == ENOTDIR) {
            snprintf(err, errlen, "%s: no such file in the package", shown);
            return 1;
        }
        snprintf(err, errlen, "%s: %s", shown, strerror(errno));
        return -1;
    }
    size_t rl = strlen(p->real);
    if (p->has_links &&
        (strncmp(real, p->real, rl) != 0 || (real[rl] != '/' && strcmp(p->real, "/") != 0))) {
        free(real);
        snprintf(err, errlen, "%s: a link leads out of the package (refused)", shown);
        return -1;
    }
    FILE *f = fopen(real, "rb");
    int oerr = errno;
    free(real);
    if (!f) {
        if (oerr == ENOENT || oerr == ENOTDIR) {
            snprintf(err, errlen, "%s: no such file in the package", shown);
            return 1;
        }
        snprintf(err, errlen, "%s: %s", shown, strerror(oerr));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        fclose(f);
        snprintf(err, errlen, "%s: not a regular file", shown);
        return 1;
    }
    if ((uint64_t)st.st_size > p->lim.max_file) {
        fclose(f);
        snprintf(err, errlen, "%s: file larger than %llu bytes (limit)", shown,
                 (unsigned long long)p->lim.max_file);
        return -1;
    }
    size_t n = (size_t)st.st_size;
    char *b = kg_malloc(n + 1);
    if (!b) { fclose(f); snprintf(err, errlen, "out of memory"); return -1; }
    size_t got = fread(b, 1, n, f);
    fclose(f);
    if (got != n) { kg_free(b); snprintf(err, errlen, "%s: read error", shown); return -1; }
    b[n] = 0;
    *buf = b; *len = n;
    return 0;
}
