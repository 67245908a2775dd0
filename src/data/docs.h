/* docs.h — Dolma documents: streaming JSONL readers and writers (plain, .gz, .zst), one parsed document per
 * line, Dolma's attributes path rule, glob expansion and code-point offsets.
 *
 * Every `olmo data` command reads and writes documents through this file, so one place decides what a bad line
 * is and how it is reported ("FILE:LINE: expected ..., found ..."), and one place makes outputs atomic.
 *
 * Reading:
 *     struct docs_reader *r = docs_reader_open("a/documents/x.json.gz");     // NULL + olmo_err on failure
 *     struct docs_doc d;  int rc;
 *     while ((rc = docs_reader_next(r, &d)) > 0) { ... d.text, d.text_len, d.id ... }
 *     // rc == 0: end of file; rc < 0: error (olmo_errmsg() names file and line)
 *     docs_reader_close(r);
 * With docs_reader_set_skip(r, 1) a bad line (bad JSON, missing/ill-typed id or text) is counted in
 * r->skipped, reported once with olmo_log_warn, and reading goes on; by default it is an error. Broken
 * compression (a truncated or empty .gz/.zst, bytes that are not gzip/zstd) is always an error: the rest of
 * the file cannot be trusted.
 *
 * Writing: docs_writer_open(path) writes to "PATH.tmp.<pid>" with the compression of PATH's extension;
 * docs_writer_commit renames it over PATH (docs_writer_abort removes it), so no half-written file is ever
 * left under its final name.
 *
 * Compression follows Dolma (spec §1.1): the extension after the file name's last '.' (a trailing ".tmp"
 * stripped) — "gz" is gzip (multi-member on read, level 6 on write; 1 for attribute files), "zst"/"zstd" is zstd (level 3), any other
 * is plain text. */
#ifndef OLMO_DATA_DOCS_H
#define OLMO_DATA_DOCS_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

enum docs_codec { DOCS_PLAIN = 0, DOCS_GZIP = 1, DOCS_ZSTD = 2 };
enum docs_codec docs_codec_of(const char *path);

/* ---- byte streams: a decompressing line reader and a compressing writer ---- */

struct docs_lines;   /* opaque */
struct docs_lines *docs_lines_open(const char *path);
/* Next line without its '\n' (a final line without '\n' counts too). *line points into an internal buffer
 * valid until the next call; it is NUL-terminated at *len. Returns 1, 0 at end of file, -1 on error. */
int docs_lines_next(struct docs_lines *l, char **line, size_t *len);
long docs_lines_number(const struct docs_lines *l);   /* 1-based number of the line last returned */
void docs_lines_close(struct docs_lines *l);

struct docs_writer;  /* opaque */
struct docs_writer *docs_writer_open(const char *path);   /* creates parent directories */
struct docs_writer *docs_writer_open_fast(const char *path);   /* the same, gzip level 1 (attribute files) */
int docs_writer_write(struct docs_writer *w, const void *data, size_t len);
int docs_writer_line(struct docs_writer *w, const char *line, size_t len);   /* writes line + '\n' */
int docs_writer_commit(struct docs_writer *w);   /* finishes the stream, fsyncs, renames; frees w */
void docs_writer_abort(struct docs_writer *w);   /* removes the temp file; frees w */

/* ---- documents ---- */

/* One document. The fields point into obj (the whole parsed line, kept so a rewrite loses nothing); they are
 * valid until the next docs_reader_next / docs_doc_clear. source/added/created are NULL when absent. */
struct docs_doc {
    json_t *obj;
    const char *id;          /* required string */
    const char *text;        /* required string, valid UTF-8, may contain NUL bytes: use text_len */
    size_t text_len;
    const char *source;
    const char *added;
    const char *created;
    json_t *metadata;        /* object or NULL */
    long line;               /* 1-based line number in its file */
};
void docs_doc_clear(struct docs_doc *d);

/* Parses one JSONL line into d (replacing what it held). where names the place for errors ("FILE:LINE").
 * Returns 0, or -1 with olmo_err ("WHERE: expected ..., found ..."). */
int docs_doc_parse(struct docs_doc *d, const char *line, size_t len, const char *where);

struct docs_reader {
    const char *path;        /* the file being read */
    long skipped;            /* bad lines skipped (skip mode only) */
    long read;               /* documents returned */
    int skip_bad;
    struct docs_lines *lines;
};
struct docs_reader *docs_reader_open(const char *path);
void docs_reader_set_skip(struct docs_reader *r, int skip_bad);
int docs_reader_next(struct docs_reader *r, struct docs_doc *d);   /* 1, 0 at end, -1 on error */
void docs_reader_close(struct docs_reader *r);

/* ---- JSON output helpers ---- */

/* Appends s (len bytes, UTF-8) as a JSON string literal: only '"', '\\' and control characters are escaped,
 * non-ASCII is written raw (as msgspec and serde_json do). */
struct docs_buf {
    char *data;
    size_t len, cap;
};
int docs_buf_put(struct docs_buf *b, const void *s, size_t n);
int docs_buf_puts(struct docs_buf *b, const char *s);
int docs_buf_json_string(struct docs_buf *b, const char *s, size_t len);
/* A float as Python's repr() writes it (shortest round-trip digits: 1.0, 0.5, 1e-05, 1.2345e+16). */
int docs_buf_py_float(struct docs_buf *b, double x);
void docs_buf_free(struct docs_buf *b);
/* Python's round(x, 5) on a double (round half to even on the decimal value, as CPython does). */
double docs_round5(double x);

/* ---- paths ---- */

/* Expands a glob: '*' and '?' and [...] within one path component, "**" across components (zero or more
 * directories). A pattern without wildcards names one file, which must exist. The result is sorted and
 * NULL-terminated; *n gets the count. Returns NULL with olmo_err when nothing matches. Free with
 * docs_paths_free. */
char **docs_glob(const char *pattern, size_t *n);
void docs_paths_free(char **paths);

/* Dolma's tagger attributes path (spec §1.3) for `file`, matched by `glob`: the glob's part before its first
 * wildcard, cut back to a directory, is the base; with destination NULL the first component of the base that
 * is exactly "documents" becomes "attributes/<experiment>" (an error if there is none); with a destination the
 * base becomes "<destination>/<experiment>". The file's path below the base is appended. Caller frees. */
char *docs_attributes_path(const char *glob, const char *file, const char *experiment, const char *destination);

/* ---- code points ---- */

/* Number of code points in valid UTF-8 s[0..len). */
size_t docs_cp_count(const char *s, size_t len);
/* Byte offset -> code-point offset for one text, built once and asked many times (taggers compute spans in
 * bytes; Dolma's spans are in code points). For ASCII text it is the identity and allocates nothing. */
struct docs_cpmap {
    const char *text;
    size_t len;
    uint32_t *cp_at;     /* NULL when text is ASCII; else cp_at[b] for b in 0..len */
};
int docs_cpmap_init(struct docs_cpmap *m, const char *text, size_t len);
static inline size_t docs_cpmap_get(const struct docs_cpmap *m, size_t byte) {
    return m->cp_at ? m->cp_at[byte] : byte;
}
void docs_cpmap_free(struct docs_cpmap *m);

#endif
