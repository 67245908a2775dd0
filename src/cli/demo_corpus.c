/* demo_corpus.c — gathers the main job's corpus from Debian packages (see demo_corpus.h). Each reader below turns
 * one package's own file format into documents — a Bible chapter, a dictionary entry, a fortune, a manual page, a
 * license — and hands them to a sink that writes the Dolma JSONL.gz files and sets the held-out documents aside. */
#include "cli/demo_corpus.h"
#include "base/error.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/mem.h"
#include "data/docs.h"

#include <dirent.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

/* ---- the sink: documents of one source -> documents/<source>/0000.jsonl.gz and heldout/<source>.jsonl.gz ---- */

struct doc_sink {
    struct demo_source_stats *st;
    const struct demo_corpus_opts *o;
    struct docs_writer *train, *held;   /* atomic: renamed into place on commit */
    char added[32];
    char *buf;              /* the text made valid UTF-8 */
    size_t buf_cap;
};

static int sink_open(struct doc_sink *s, struct demo_source_stats *st, const struct demo_corpus_opts *o) {
    memset(s, 0, sizeof *s);
    s->st = st;
    s->o = o;
    /* `added` is when the corpus was gathered; fixed here so that the same packages give the same bytes */
    snprintf(s->added, sizeof s->added, "2026-01-01T00:00:00.000Z");
    char sub[160];
    snprintf(sub, sizeof sub, "documents/%s/0000.jsonl.gz", st->name);
    char *train = olmo_path_join(o->out_dir, sub);
    snprintf(sub, sizeof sub, "heldout/%s.jsonl.gz", st->name);
    char *held = olmo_path_join(o->out_dir, sub);
    if (train && held) {
        s->train = docs_writer_open(train);
        if (s->train) s->held = docs_writer_open(held);
    }
    free(train);
    free(held);
    return s->train && s->held ? 0 : -1;
}

/* Finishes both files: renamed into place when ok, removed otherwise. */
static int sink_close(struct doc_sink *s, int ok) {
    int rc = ok ? 0 : -1;
    if (rc == 0 && s->train) rc = docs_writer_commit(s->train);
    else if (s->train) docs_writer_abort(s->train);
    if (rc == 0 && s->held) rc = docs_writer_commit(s->held);
    else if (s->held) docs_writer_abort(s->held);
    free(s->buf);
    return rc;
}

/* Copies text as valid UTF-8: a byte that does not start a well-formed sequence is read as Latin-1 (older
 * fortune files are Latin-1), NUL and other C0 controls except tab/newline become spaces. */
static const char *sink_utf8(struct doc_sink *s, const char *t, size_t n, size_t *out_n) {
    if (s->buf_cap < 2 * n + 1) {
        char *b = olmo_realloc(s->buf, 2 * n + 1);
        if (!b) return NULL;
        s->buf = b;
        s->buf_cap = 2 * n + 1;
    }
    const unsigned char *p = (const unsigned char *)t;
    size_t j = 0;
    for (size_t i = 0; i < n;) {
        unsigned c = p[i];
        size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        int ok = len > 0 && i + len <= n;
        for (size_t k = 1; ok && k < len; k++) ok = (p[i + k] & 0xC0) == 0x80;
        if (ok && len == 2) ok = c >= 0xC2;
        if (ok && len == 3) ok = !(c == 0xE0 && p[i + 1] < 0xA0) && !(c == 0xED && p[i + 1] >= 0xA0);
        if (ok && len == 4) ok = c <= 0xF4 && !(c == 0xF0 && p[i + 1] < 0x90) && !(c == 0xF4 && p[i + 1] >= 0x90);
        if (!ok) {                       /* Latin-1 */
            s->buf[j++] = (char)(0xC0 | (c >> 6));
            s->buf[j++] = (char)(0x80 | (c & 0x3F));
            i++;
        } else if (len == 1 && c < 0x20 && c != '\n' && c != '\t') {
            s->buf[j++] = ' ';
            i++;
        } else {
            memcpy(s->buf + j, p + i, len);
            j += len;
            i += len;
        }
    }
    *out_n = j;
    return s->buf;
}

/* Writes one document. Returns 1 when the source has reached its byte budget (the reader stops), 0 to go on,
 * -1 on error. Empty documents (whitespace only) are not written. */
static int sink_add(struct doc_sink *s, const char *id, const char *text, size_t n, const char *meta_key,
                    const char *meta_val) {
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\r')) n--;
    while (n > 0 && (*text == '\n' || *text == ' ' || *text == '\r')) text++, n--;
    if (n == 0) return 0;
    size_t un = 0;
    const char *u = sink_utf8(s, text, n, &un);
    if (!u) return -1;
    int held = s->o->held_out_every > 0 && olmo_fnv1a64(id, strlen(id)) % s->o->held_out_every == 0;
    json_t *doc = json_object();
    json_object_set_new(doc, "id", json_string(id));
    json_object_set_new(doc, "text", json_stringn(u, un));
    json_object_set_new(doc, "source", json_string(s->st->name));
    json_object_set_new(doc, "added", json_string(s->added));
    if (held) {
        json_object_set_new(doc, "subdomain", json_string(s->st->package));
    } else {
        json_t *meta = json_object();
        json_object_set_new(meta, "package", json_string(s->st->package));
        if (meta_key) json_object_set_new(meta, meta_key, json_string(meta_val ? meta_val : ""));
        json_object_set_new(doc, "metadata", meta);
    }
    char *line = json_dumps(doc, JSON_COMPACT);
    json_decref(doc);
    if (!line) return olmo_err("%s: cannot serialise document %s", s->st->origin, id);
    size_t ln = strlen(line);
    int rc = docs_writer_line(held ? s->held : s->train, line, ln);
    free(line);
    if (rc != 0) return -1;
    if (held) {
        s->st->held_docs++;
        s->st->held_bytes += un;
    } else {
        s->st->docs++;
        s->st->bytes += un;
    }
    return s->st->bytes + s->st->held_bytes >= s->o->max_bytes_per_source ? 1 : 0;
}

/* ---- readers, one per package format ---- */

/* bible-kjv: `bible -f` prints every verse as "Ge1:1 In the beginning ..." — one document per chapter. */
static int read_bible(struct doc_sink *s) {
    FILE *p = popen("bible -f 'Genesis 1:1-Revelation 22:21' 2>/dev/null", "r");
    if (!p) return olmo_err("bible: cannot run (%s)", strerror(errno));
    char *line = NULL, chapter[32] = "", id[64];
    size_t cap = 0, dn = 0, dcap = 0;
    char *doc = NULL;
    ssize_t len;
    int rc = 0;
    while (rc == 0 && (len = getline(&line, &cap, p)) >= 0) {
        char *colon = strchr(line, ':'), *sp = strchr(line, ' ');
        if (!colon || !sp || colon > sp || colon - line >= (ptrdiff_t)sizeof chapter) continue;
        char ch[32];
        memcpy(ch, line, (size_t)(colon - line));
        ch[colon - line] = 0;   /* "Ge1": book and chapter */
        if (strcmp(ch, chapter) != 0) {
            if (dn) {
                snprintf(id, sizeof id, "kjv-%s", chapter);
                rc = sink_add(s, id, doc, dn, "chapter", chapter);
            }
            snprintf(chapter, sizeof chapter, "%s", ch);
            dn = 0;
        }
        size_t vn = (size_t)len - (size_t)(sp + 1 - line);
        if (dn + vn + 1 > dcap) {
            dcap = 2 * (dn + vn + 1);
            char *d = olmo_realloc(doc, dcap);
            if (!d) { rc = -1; break; }
            doc = d;
        }
        memcpy(doc + dn, sp + 1, vn);
        dn += vn;
    }
    if (rc == 0 && dn) {
        snprintf(id, sizeof id, "kjv-%s", chapter);
        rc = sink_add(s, id, doc, dn, "chapter", chapter);
    }
    int st = pclose(p);
    free(line);
    free(doc);
    if (rc == 0 && st != 0 && s->st->docs == 0) return olmo_err("bible: exited with status %d and no text", st);
    return rc < 0 ? -1 : 0;
}

/* dictd's base64 numbers in .index files (most significant digit first). */
static long b64num(const char *p, size_t n) {
    static const char dig[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    long v = 0;
    for (size_t i = 0; i < n; i++) {
        const char *d = strchr(dig, p[i]);
        if (!d || !p[i]) return -1;
        v = v * 64 + (d - dig);
    }
    return v;
}

struct dict_entry { long off, len; char word[64]; };
static int cmp_entry(const void *a, const void *b) {
    long x = ((const struct dict_entry *)a)->off, y = ((const struct dict_entry *)b)->off;
    return x < y ? -1 : x > y;
}

/* dictd dictionaries (.index + .dict.dz, a gzip-compatible dictzip): one document per entry, in file order. When
 * the dictionary is larger than the source's budget, every k-th entry is taken, so the sample spans A to Z. */
static int read_dictd(struct doc_sink *s, const char *base) {
    char ipath[256], dpath[256];
    snprintf(ipath, sizeof ipath, "/usr/share/dictd/%s.index", base);
    snprintf(dpath, sizeof dpath, "/usr/share/dictd/%s.dict.dz", base);
    size_t in = 0;
    char *index = olmo_read_file(ipath, &in);
    if (!index) return -1;
    size_t ne = 0, cap = 1024;
    struct dict_entry *e = olmo_malloc(cap * sizeof *e);
    long total = 0;
    for (char *line = index, *next; e && line && *line; line = next) {
        next = strchr(line, '\n');
        if (next) *next++ = 0;
        char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
        if (!t2 || !strncmp(line, "00-database", 11) || !strncmp(line, "00database", 10)) continue;
        long off = b64num(t1 + 1, (size_t)(t2 - t1 - 1)), len = b64num(t2 + 1, strlen(t2 + 1));
        if (off < 0 || len <= 0) continue;
        if (ne == cap) {
            struct dict_entry *ee = olmo_realloc(e, 2 * cap * sizeof *e);
            if (!ee) { free(e); e = NULL; break; }
            e = ee;
            cap *= 2;
        }
        e[ne].off = off;
        e[ne].len = len;
        snprintf(e[ne].word, sizeof e[ne].word, "%.*s", (int)(t1 - line), line);
        ne++;
    }
    free(index);
    if (!e) return -1;
    qsort(e, ne, sizeof *e, cmp_entry);
    size_t nu = 0;   /* several headwords may share one definition */
    for (size_t i = 0; i < ne; i++)
        if (nu == 0 || e[i].off != e[nu - 1].off) { e[nu++] = e[i]; total += e[i].len; }
    size_t step = total > (long)s->o->max_bytes_per_source ? (size_t)(total / (long)s->o->max_bytes_per_source) + 1 : 1;

    gzFile g = gzopen(dpath, "rb");
    if (!g) { free(e); return olmo_err("%s: cannot open (%s)", dpath, strerror(errno)); }
    gzbuffer(g, 1 << 17);
    char *text = NULL;
    size_t tcap = 0;
    int rc = 0;
    long pos = 0;
    for (size_t i = 0; rc == 0 && i < nu; i += step) {
        if ((size_t)e[i].len + 1 > tcap) {
            tcap = (size_t)e[i].len + 1;
            char *t = olmo_realloc(text, tcap);
            if (!t) { rc = -1; break; }
            text = t;
        }
        if (e[i].off != pos && gzseek(g, e[i].off, SEEK_SET) != e[i].off) {
            rc = olmo_err("%s: cannot seek to entry '%s' at %ld", dpath, e[i].word, e[i].off);
            break;
        }
        int got = gzread(g, text, (unsigned)e[i].len);
        if (got != e[i].len) { rc = olmo_err("%s: entry '%s' truncated (%d of %ld bytes)", dpath, e[i].word, got, e[i].len); break; }
        pos = e[i].off + e[i].len;
        char id[96];
        snprintf(id, sizeof id, "%s-%zu", s->st->name, i);
        rc = sink_add(s, id, text, (size_t)e[i].len, "headword", e[i].word);
    }
    gzclose(g);
    free(text);
    free(e);
    return rc < 0 ? -1 : 0;
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted regular files of a folder whose names pass the filter. */
static char **list_files(const char *dir, int (*keep)(const char *name), size_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    size_t cap = 64;
    char **v = olmo_malloc(cap * sizeof *v);
    struct dirent *de;
    while (v && (de = readdir(d))) {
        if (de->d_name[0] == '.' || !keep(de->d_name)) continue;
        char *p = olmo_path_join(dir, de->d_name);
        struct stat st;
        if (!p || lstat(p, &st) != 0 || !S_ISREG(st.st_mode)) { free(p); continue; }
        if (*n == cap) {
            char **nv = olmo_realloc(v, 2 * cap * sizeof *v);
            if (!nv) { free(p); break; }
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = p;
    }
    closedir(d);
    if (v) qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

static const char *base_name(const char *p) {
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int keep_fortune(const char *n) { return !strchr(n, '.'); }   /* not the .dat indexes or .u8 links */
static int keep_pod(const char *n) { size_t l = strlen(n); return l > 4 && !strcmp(n + l - 4, ".pod"); }
static int keep_any(const char *n) { (void)n; return 1; }

/* fortunes: "%" on a line of its own ends each fortune. One document per fortune. */
static int read_fortunes(struct doc_sink *s) {
    size_t nf = 0;
    char **files = list_files("/usr/share/games/fortunes", keep_fortune, &nf);
    int rc = files ? 0 : olmo_err("/usr/share/games/fortunes: cannot list");
    for (size_t f = 0; rc == 0 && f < nf; f++) {
        size_t n = 0;
        char *t = olmo_read_file(files[f], &n);
        if (!t) { rc = -1; break; }
        size_t start = 0, k = 0;
        for (size_t i = 0; rc == 0 && i <= n; i++) {
            int end = i == n || ((i == 0 || t[i - 1] == '\n') && t[i] == '%' && (i + 1 == n || t[i + 1] == '\n'));
            if (!end) continue;
            char id[128];
            snprintf(id, sizeof id, "fortunes-%s-%zu", base_name(files[f]), k++);
            rc = sink_add(s, id, t + start, i - start, "file", base_name(files[f]));
            start = i + 2;
        }
        free(t);
    }
    free_list(files, nf);
    return rc < 0 ? -1 : 0;
}

/* One document per file (Perl's manual pages, the license texts). */
static int read_files(struct doc_sink *s, const char *dir, int (*keep)(const char *)) {
    size_t nf = 0;
    char **files = list_files(dir, keep, &nf);
    int rc = files ? 0 : olmo_err("%s: cannot list", dir);
    for (size_t f = 0; rc == 0 && f < nf; f++) {
        size_t n = 0;
        char *t = olmo_read_file(files[f], &n);
        if (!t) { rc = -1; break; }
        char id[160];
        snprintf(id, sizeof id, "%s-%s", s->st->name, base_name(files[f]));
        rc = sink_add(s, id, t, n, "file", files[f]);
        free(t);
    }
    free_list(files, nf);
    return rc < 0 ? -1 : 0;
}

/* ---- the sources ---- */

enum reader_kind { READ_BIBLE, READ_DICTD, READ_FORTUNES, READ_POD, READ_FILES };

static const struct source_def {
    const char *name, *package, *origin;
    enum reader_kind kind;
    const char *arg;
} sources[] = {
    {"kjv_bible", "bible-kjv", "/usr/lib/bible.data", READ_BIBLE, NULL},
    {"gcide", "dict-gcide", "/usr/share/dictd/gcide.dict.dz", READ_DICTD, "gcide"},
    {"jargon", "dict-jargon", "/usr/share/dictd/jargon.dict.dz", READ_DICTD, "jargon"},
    {"foldoc", "dict-foldoc", "/usr/share/dictd/foldoc.dict.dz", READ_DICTD, "foldoc"},
    {"devil", "dict-devil", "/usr/share/dictd/devil.dict.dz", READ_DICTD, "devil"},
    {"fortunes", "fortunes", "/usr/share/games/fortunes", READ_FORTUNES, NULL},
    {"perl_doc", "perl-doc", "/usr/share/perl/5.36.0/pod", READ_POD, NULL},
    {"licenses", "base-files", "/usr/share/common-licenses", READ_FILES, NULL},
};
#define N_SOURCES (sizeof sources / sizeof sources[0])

/* Perl's pod folder carries the Perl version in its path: find whichever is installed. */
static int find_pod_dir(char *out, size_t n) {
    DIR *d = opendir("/usr/share/perl");
    if (!d) return 0;
    struct dirent *de;
    int found = 0;
    while ((de = readdir(d))) {
        if (de->d_name[0] < '0' || de->d_name[0] > '9') continue;
        char p[512];
        snprintf(p, sizeof p, "/usr/share/perl/%s/pod/perlfunc.pod", de->d_name);
        if (olmo_file_exists(p)) {
            snprintf(out, n, "/usr/share/perl/%.64s/pod", de->d_name);
            found = 1;
            break;
        }
    }
    closedir(d);
    return found;
}

int demo_corpus_gather(const struct demo_corpus_opts *o, struct demo_source_stats st[DEMO_MAX_SOURCES], size_t *n) {
    _Static_assert(N_SOURCES <= DEMO_MAX_SOURCES, "DEMO_MAX_SOURCES is too small");
    *n = 0;
    int any = 0;
    for (size_t i = 0; i < N_SOURCES; i++) {
        const struct source_def *d = &sources[i];
        struct demo_source_stats *s = &st[(*n)++];
        memset(s, 0, sizeof *s);
        snprintf(s->name, sizeof s->name, "%s", d->name);
        snprintf(s->package, sizeof s->package, "%s", d->package);
        snprintf(s->origin, sizeof s->origin, "%s", d->origin);
        if (d->kind == READ_POD && !find_pod_dir(s->origin, sizeof s->origin)) continue;
        if (!olmo_file_exists(s->origin)) continue;
        s->present = 1;
        struct doc_sink sink;
        int rc = sink_open(&sink, s, o);
        if (rc == 0) {
            switch (d->kind) {
            case READ_BIBLE: rc = read_bible(&sink); break;
            case READ_DICTD: rc = read_dictd(&sink, d->arg); break;
            case READ_FORTUNES: rc = read_fortunes(&sink); break;
            case READ_POD: rc = read_files(&sink, s->origin, keep_pod); break;
            case READ_FILES: rc = read_files(&sink, s->origin, keep_any); break;
            }
        }
        if (sink_close(&sink, rc == 0) != 0) return olmo_err_prefix("gathering source %s: ", d->name);
        if (s->docs == 0) s->present = 0;
        any |= s->present;
    }
    if (!any) return olmo_err("no corpus source found: install the packages with `bash scripts/install-deps.sh`");
    return 0;
}
