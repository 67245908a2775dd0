/* docs_io.c — byte streams under the documents layer: a line reader that decompresses gzip / zstd / plain
 * and an atomic compressing writer (see docs.h). Decompression is done by hand with zlib's inflate and zstd's
 * streaming API rather than gzread, so a truncated, empty or non-gzip ".gz" is an error, not silently read as
 * plain text. */
#include "data/docs.h"

#include "base/error.h"
#include "base/file.h"
#include "base/mem.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
#include <zstd.h>

#define IO_CHUNK (1 << 20)   /* Dolma's 1 MiB buffers */

enum docs_codec docs_codec_of(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    if (n > 4 && !strcmp(base + n - 4, ".tmp")) n -= 4;
    const char *dot = NULL;
    for (size_t i = 0; i < n; i++)
        if (base[i] == '.') dot = base + i;
    if (!dot) return DOCS_PLAIN;
    size_t elen = (size_t)(base + n - dot - 1);
    if (elen == 2 && !strncmp(dot + 1, "gz", 2)) return DOCS_GZIP;
    if ((elen == 3 && !strncmp(dot + 1, "zst", 3)) || (elen == 4 && !strncmp(dot + 1, "zstd", 4))) return DOCS_ZSTD;
    return DOCS_PLAIN;
}

/* ---------------------------------------------------------------- reading */

struct docs_lines {
    char *path;
    FILE *fp;
    enum docs_codec codec;
    unsigned char *in;       /* compressed input chunk */
    size_t in_len, in_pos;
    int in_eof;
    z_stream z;
    int z_live, z_members;   /* inflate initialised; gzip members completed */
    ZSTD_DCtx *zs;
    size_t zs_pending;       /* last ZSTD_decompressStream hint: 0 when a frame just ended */
    long zs_bytes;           /* compressed bytes fed */
    char *buf;               /* decompressed bytes */
    size_t buf_len, buf_pos, buf_cap;
    int eof;                 /* no more decompressed bytes will come */
    long line_no;
};

static int lines_fill_input(struct docs_lines *l) {
    if (l->in_pos < l->in_len || l->in_eof) return 0;
    l->in_len = fread(l->in, 1, IO_CHUNK, l->fp);
    l->in_pos = 0;
    if (l->in_len == 0) {
        if (ferror(l->fp)) return olmo_err_errno("%s: read error", l->path);
        l->in_eof = 1;
    }
    return 0;
}

/* Appends up to `room` decompressed bytes at l->buf + l->buf_len; sets l->eof at the clean end. */
static int lines_decode(struct docs_lines *l, size_t room) {
    unsigned char *out = (unsigned char *)l->buf + l->buf_len;
    if (lines_fill_input(l) != 0) return -1;
    if (l->codec == DOCS_PLAIN) {
        size_t n = l->in_len - l->in_pos < room ? l->in_len - l->in_pos : room;
        memcpy(out, l->in + l->in_pos, n);
        l->in_pos += n;
        l->buf_len += n;
        if (l->in_eof) l->eof = 1;
        return 0;
    }
    if (l->codec == DOCS_GZIP) {
        if (l->in_eof) {
            if (!l->z_members) return olmo_err("%s: expected gzip data, found %s", l->path, "an empty or truncated file");
            if (l->z_live) return olmo_err("%s: truncated gzip stream (ends inside a member)", l->path);
            l->eof = 1;
            return 0;
        }
        if (!l->z_live) {
            /* a new member; stray zero padding after the last member is tolerated as gzip(1) does */
            while (l->in_pos < l->in_len && l->in[l->in_pos] == 0 && l->z_members) l->in_pos++;
            if (l->in_pos == l->in_len) return 0;
            if (inflateReset2(&l->z, 16 + MAX_WBITS) != Z_OK) return olmo_err("%s: zlib reset failed", l->path);
            l->z_live = 1;
        }
        l->z.next_in = l->in + l->in_pos;
        l->z.avail_in = (uInt)(l->in_len - l->in_pos);
        l->z.next_out = out;
        l->z.avail_out = (uInt)room;
        int rc = inflate(&l->z, Z_NO_FLUSH);
        l->in_pos = l->in_len - l->z.avail_in;
        l->buf_len += room - l->z.avail_out;
        if (rc == Z_STREAM_END) {
            l->z_live = 0;
            l->z_members++;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return olmo_err("%s: bad gzip data near compressed byte %ld: %s", l->path,
                            (long)l->z.total_in, l->z.msg ? l->z.msg : "inflate failed");
        }
        return 0;
    }
    /* zstd */
    if (l->in_eof) {
        if (l->zs_bytes == 0) return olmo_err("%s: expected zstd data, found an empty file", l->path);
        if (l->zs_pending != 0) return olmo_err("%s: truncated zstd stream (ends inside a frame)", l->path);
        l->eof = 1;
        return 0;
    }
    ZSTD_inBuffer ib = {l->in, l->in_len, l->in_pos};
    ZSTD_outBuffer ob = {out, room, 0};
    size_t rc = ZSTD_decompressStream(l->zs, &ob, &ib);
    if (ZSTD_isError(rc))
        return olmo_err("%s: bad zstd data near compressed byte %ld: %s", l->path, l->zs_bytes + (long)ib.pos,
                        ZSTD_getErrorName(rc));
    l->zs_bytes += (long)(ib.pos - l->in_pos);
    l->in_pos = ib.pos;
    l->buf_len += ob.pos;
    l->zs_pending = rc;
    return 0;
}

struct docs_lines *docs_lines_open(const char *path) {
    struct docs_lines *l = olmo_calloc(1, sizeof *l);
    if (!l) return NULL;
    l->path = olmo_strdup(path);
    l->codec = docs_codec_of(path);
    l->fp = fopen(path, "rb");
    if (!l->fp) {
        olmo_err_errno("cannot open %s", path);
        goto fail;
    }
    l->in = olmo_malloc(IO_CHUNK);
    l->buf_cap = 2 * IO_CHUNK;
    l->buf = olmo_malloc(l->buf_cap + 1);
    if (!l->path || !l->in || !l->buf) goto fail;
    if (l->codec == DOCS_GZIP) {
        if (inflateInit2(&l->z, 16 + MAX_WBITS) != Z_OK) {
            olmo_err("%s: zlib init failed", path);
            goto fail;
        }
    } else if (l->codec == DOCS_ZSTD) {
        l->zs = ZSTD_createDCtx();
        if (!l->zs) {
            olmo_err("%s: zstd init failed", path);
            goto fail;
        }
    }
    return l;
fail:
    docs_lines_close(l);
    return NULL;
}

int docs_lines_next(struct docs_lines *l, char **line, size_t *len) {
    size_t scan = l->buf_pos;
    for (;;) {
        char *nl = memchr(l->buf + scan, '\n', l->buf_len - scan);
        if (nl) {
            *line = l->buf + l->buf_pos;
            *len = (size_t)(nl - *line);
            *nl = 0;
            l->buf_pos = (size_t)(nl - l->buf) + 1;
            l->line_no++;
            return 1;
        }
        if (l->eof) {
            if (l->buf_pos == l->buf_len) return 0;
            *line = l->buf + l->buf_pos;
            *len = l->buf_len - l->buf_pos;
            l->buf[l->buf_len] = 0;
            l->buf_pos = l->buf_len;
            l->line_no++;
            return 1;
        }
        /* make room: slide the partial line to the front, grow if a line is longer than the buffer */
        if (l->buf_pos > 0) {
            memmove(l->buf, l->buf + l->buf_pos, l->buf_len - l->buf_pos);
            l->buf_len -= l->buf_pos;
            l->buf_pos = 0;
        }
        scan = l->buf_len;
        if (l->buf_cap - l->buf_len < IO_CHUNK / 4) {
            char *nb = olmo_realloc(l->buf, 2 * l->buf_cap + 1);
            if (!nb) return -1;
            l->buf = nb;
            l->buf_cap *= 2;
        }
        if (lines_decode(l, l->buf_cap - l->buf_len) != 0) return -1;
    }
}

long docs_lines_number(const struct docs_lines *l) { return l->line_no; }

void docs_lines_close(struct docs_lines *l) {
    if (!l) return;
    if (l->fp) fclose(l->fp);
    if (l->codec == DOCS_GZIP && l->in) inflateEnd(&l->z);
    if (l->zs) ZSTD_freeDCtx(l->zs);
    free(l->in);
    free(l->buf);
    free(l->path);
    free(l);
}

/* ---------------------------------------------------------------- writing */

struct docs_writer {
    struct olmo_atomic_file f;
    enum docs_codec codec;
    z_stream z;
    ZSTD_CCtx *zs;
    unsigned char *out;
    int failed;
};

static int writer_emit(struct docs_writer *w, const void *p, size_t n) {
    if (n && fwrite(p, 1, n, w->f.fp) != n) {
        w->failed = 1;
        return olmo_err_errno("error writing %s", w->f.tmp_path);
    }
    return 0;
}

/* Pushes n bytes (or, with finish, the end of the stream) through the compressor. */
static int writer_push(struct docs_writer *w, const void *data, size_t n, int finish) {
    if (w->failed) return -1;
    if (w->codec == DOCS_PLAIN) return writer_emit(w, data, n);
    if (w->codec == DOCS_GZIP) {
        w->z.next_in = (unsigned char *)data;
        w->z.avail_in = (uInt)n;
        int rc;
        do {
            w->z.next_out = w->out;
            w->z.avail_out = IO_CHUNK;
            rc = deflate(&w->z, finish ? Z_FINISH : Z_NO_FLUSH);
            if (rc == Z_STREAM_ERROR) return olmo_err("%s: deflate failed", w->f.tmp_path);
            if (writer_emit(w, w->out, IO_CHUNK - w->z.avail_out) != 0) return -1;
        } while (w->z.avail_in > 0 || w->z.avail_out == 0 || (finish && rc != Z_STREAM_END));
        return 0;
    }
    ZSTD_inBuffer ib = {data, n, 0};
    for (;;) {
        ZSTD_outBuffer ob = {w->out, IO_CHUNK, 0};
        size_t rem = ZSTD_compressStream2(w->zs, &ob, &ib, finish ? ZSTD_e_end : ZSTD_e_continue);
        if (ZSTD_isError(rem)) return olmo_err("%s: zstd: %s", w->f.tmp_path, ZSTD_getErrorName(rem));
        if (writer_emit(w, w->out, ob.pos) != 0) return -1;
        if (finish ? rem == 0 : ib.pos == ib.size) return 0;
    }
}

static struct docs_writer *writer_open(const char *path, int gzip_level) {
    char *dir = olmo_strdup(path);
    if (!dir) return NULL;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = 0;
        if (olmo_mkdir_p(dir) != 0) {
            free(dir);
            return NULL;
        }
    }
    free(dir);
    struct docs_writer *w = olmo_calloc(1, sizeof *w);
    if (!w) return NULL;
    w->codec = docs_codec_of(path);
    if (olmo_atomic_open(&w->f, path) != 0) {
        free(w);
        return NULL;
    }
    if (w->codec != DOCS_PLAIN) {
        w->out = olmo_malloc(IO_CHUNK);
        if (!w->out) goto fail;
    }
    if (w->codec == DOCS_GZIP && deflateInit2(&w->z, gzip_level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        olmo_err("%s: zlib init failed", path);
        w->codec = DOCS_PLAIN;
        goto fail;
    }
    if (w->codec == DOCS_ZSTD) {
        w->zs = ZSTD_createCCtx();
        if (!w->zs) {
            olmo_err("%s: zstd init failed", path);
            goto fail;
        }
        ZSTD_CCtx_setParameter(w->zs, ZSTD_c_compressionLevel, 3);
    }
    return w;
fail:
    docs_writer_abort(w);
    return NULL;
}

struct docs_writer *docs_writer_open(const char *path) { return writer_open(path, 6); }

/* Attribute files are intermediate: written once by tag/dedup, read once by mix. At level 6 their deflate was
 * ~40 % of a four-tagger run's CPU time (gopher + c4 + pii + cld2 emit ~3.7 bytes of attributes per byte of
 * text); level 1 deflates ~3x faster for ~25 % more bytes. */
struct docs_writer *docs_writer_open_fast(const char *path) { return writer_open(path, 1); }

int docs_writer_write(struct docs_writer *w, const void *data, size_t len) { return writer_push(w, data, len, 0); }

int docs_writer_line(struct docs_writer *w, const char *line, size_t len) {
    if (writer_push(w, line, len, 0) != 0) return -1;
    return writer_push(w, "\n", 1, 0);
}

static void writer_free(struct docs_writer *w) {
    if (w->codec == DOCS_GZIP) deflateEnd(&w->z);
    if (w->zs) ZSTD_freeCCtx(w->zs);
    free(w->out);
    free(w);
}

int docs_writer_commit(struct docs_writer *w) {
    if (writer_push(w, NULL, 0, 1) != 0) {
        docs_writer_abort(w);
        return -1;
    }
    int rc = olmo_atomic_commit(&w->f);
    writer_free(w);
    return rc;
}

void docs_writer_abort(struct docs_writer *w) {
    if (!w) return;
    olmo_atomic_abort(&w->f);
    writer_free(w);
}
