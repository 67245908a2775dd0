/* cmd_data_from_text.c — `olmo data from-text`: plain text (also .gz/.zst) into Dolma documents, so any corpus
 * can enter the tag / dedup / mix / tokens chain. One documents file per input file,
 * DESTINATION/<name>.jsonl.gz, written atomically; a unit of text that is not valid UTF-8 is an error naming
 * the file and line (or, with --skip_bad, skipped and counted). Empty units are not documents (counted). */
#include "cli/commands.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"
#include "data/docs.h"
#include "data/docs_args.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo data from-text --files FILE... --destination DIR [--source NAME]\n"
            "                           [--split file|blank-lines|lines] [--extension .jsonl.gz] [--skip_bad]\n"
            "       (FILE... may also come first, without --files)\n\n"
            "Writes Dolma documents (one JSON object per line: id, text, source, added, created, metadata) from\n"
            "plain UTF-8 text files (.gz / .zst are decompressed), one documents file per input:\n"
            "DIR/<input name without extension><extension>.\n\n"
            "  --split file           the whole file is one document (default)\n"
            "  --split blank-lines    documents are separated by one or more blank lines\n"
            "  --split lines          every non-empty line is a document\n"
            "  --source NAME          the documents' source (default: the input file name without extension)\n"
            "  --extension EXT        output extension: .jsonl.gz (default), .jsonl.zst or .jsonl\n"
            "  --skip_bad             skip units that are not valid UTF-8 (counted) instead of failing\n"
            "ids are <source>-<n> (n counts from 0 in each file); metadata holds the input path and first line.\n");
}

enum split_mode { SPLIT_FILE, SPLIT_BLANK, SPLIT_LINES };

struct ft_state {
    struct docs_writer *w;
    struct docs_buf text, line;
    const char *path, *source;
    char added[64], created[64];
    long n_docs, n_empty, n_bad, first_line;
    int skip_bad;
};

static int valid_utf8(const char *s, size_t n, size_t *bad_at) {
    const unsigned char *u = (const unsigned char *)s;
    for (size_t i = 0; i < n;) {
        unsigned c = u[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n) { *bad_at = i; return 0; }
        uint32_t cp = k == 1 ? c : k == 2 ? c & 0x1F : k == 3 ? c & 0x0F : c & 0x07;
        for (size_t j = 1; j < k; j++) {
            if ((u[i + j] & 0xC0) != 0x80) { *bad_at = i; return 0; }
            cp = (cp << 6) | (u[i + j] & 0x3F);
        }
        if ((k == 2 && cp < 0x80) || (k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
            (cp >= 0xD800 && cp <= 0xDFFF)) { *bad_at = i; return 0; }
        i += k;
    }
    return 1;
}

/* Writes the accumulated unit as one document (or counts it as empty / bad). */
static int flush_doc(struct ft_state *s) {
    struct docs_buf *t = &s->text;
    size_t n = t->len;
    /* a unit that is only whitespace is not a document */
    size_t k = 0;
    while (k < n && (t->data[k] == ' ' || t->data[k] == '\t' || t->data[k] == '\n' || t->data[k] == '\r')) k++;
    if (k == n) {
        s->n_empty += n > 0;
        t->len = 0;
        return 0;
    }
    size_t bad;
    if (!valid_utf8(t->data, n, &bad)) {
        if (!s->skip_bad) {
            t->len = 0;
            return olmo_err("%s:%ld: expected UTF-8 text, found an invalid byte 0x%02x (byte %zu of the document "
                            "starting on this line); --skip_bad skips such documents",
                            s->path, s->first_line, (unsigned char)t->data[bad], bad);
        }
        s->n_bad++;
        t->len = 0;
        return 0;
    }
    struct docs_buf *b = &s->line;
    b->len = 0;
    char id[64];
    snprintf(id, sizeof id, "-%ld", s->n_docs);
    int rc = docs_buf_puts(b, "{\"id\":");
    rc |= docs_buf_json_string(b, s->source, strlen(s->source));
    b->len--;   /* reopen the quoted id to append -n */
    rc |= docs_buf_puts(b, id);
    rc |= docs_buf_puts(b, "\",\"text\":");
    rc |= docs_buf_json_string(b, t->data, n);
    rc |= docs_buf_puts(b, ",\"source\":");
    rc |= docs_buf_json_string(b, s->source, strlen(s->source));
    rc |= docs_buf_puts(b, ",\"added\":\"");
    rc |= docs_buf_puts(b, s->added);
    rc |= docs_buf_puts(b, "\",\"created\":\"");
    rc |= docs_buf_puts(b, s->created);
    rc |= docs_buf_puts(b, "\",\"metadata\":{\"path\":");
    rc |= docs_buf_json_string(b, s->path, strlen(s->path));
    char ln[48];
    snprintf(ln, sizeof ln, ",\"line\":%ld}}", s->first_line);
    rc |= docs_buf_puts(b, ln);
    t->len = 0;
    if (rc || docs_writer_line(s->w, b->data, b->len)) return -1;
    s->n_docs++;
    return 0;
}

static void iso_time(time_t t, char *out, size_t n) {
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%S.000000+00:00", &tm);
}

/* "dir/name.txt.gz" -> "name" */
static char *stem(const char *path) {
    const char *b = strrchr(path, '/');
    b = b ? b + 1 : path;
    const char *dot = strchr(b[0] == '.' ? b + 1 : b, '.');
    return dot ? olmo_strndup(b, (size_t)(dot - b)) : olmo_strdup(b);
}

static int convert(const char *path, const char *dest, const char *source_opt, const char *ext, enum split_mode mode,
                   int skip_bad, long *docs, long *empty, long *bad) {
    struct ft_state s;
    memset(&s, 0, sizeof s);
    s.path = path;
    s.skip_bad = skip_bad;
    char *name = stem(path);
    if (!name) return -1;
    s.source = source_opt ? source_opt : name;
    iso_time(time(NULL), s.added, sizeof s.added);
    struct stat st;
    iso_time(stat(path, &st) == 0 ? st.st_mtime : time(NULL), s.created, sizeof s.created);
    size_t on = strlen(dest) + strlen(name) + strlen(ext) + 2;
    char *out = olmo_malloc(on);
    struct docs_lines *l = NULL;
    int rc = -1;
    if (!out) goto done;
    snprintf(out, on, "%s/%s%s", dest, name, ext);
    l = docs_lines_open(path);
    if (!l) goto done;
    s.w = docs_writer_open(out);
    if (!s.w) goto done;
    char *line;
    size_t len;
    int got;
    while ((got = docs_lines_next(l, &line, &len)) > 0) {
        long no = docs_lines_number(l);
        int blank = 1;
        for (size_t i = 0; i < len && blank; i++) blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
        if (mode == SPLIT_LINES) {
            s.first_line = no;
            if (docs_buf_put(&s.text, line, len) || flush_doc(&s)) goto done;
            continue;
        }
        if (mode == SPLIT_BLANK && blank) {
            if (s.text.len && flush_doc(&s)) goto done;
            continue;
        }
        if (s.text.len == 0) s.first_line = no;
        else if (docs_buf_put(&s.text, "\n", 1)) goto done;
        if (docs_buf_put(&s.text, line, len)) goto done;
    }
    if (got < 0) goto done;
    if (s.text.len && flush_doc(&s)) goto done;
    if (docs_writer_commit(s.w) != 0) { s.w = NULL; goto done; }
    s.w = NULL;
    *docs += s.n_docs;
    *empty += s.n_empty;
    *bad += s.n_bad;
    olmo_log_info("%s -> %s: %ld documents", path, out, s.n_docs);
    rc = 0;
done:
    if (s.w) docs_writer_abort(s.w);
    docs_lines_close(l);
    docs_buf_free(&s.text);
    docs_buf_free(&s.line);
    free(out);
    free(name);
    return rc;
}

static const char *const k_keys[] = {"files", "destination", "source", "split", "extension", "skip_bad", NULL};
static const char *const k_lists[] = {"files", NULL};
static const char *const k_bools[] = {"skip_bad", NULL};

int cmd_data_from_text(int argc, char **argv) {
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
    /* leading positional FILE... are --files */
    int npos = 1;
    while (npos < argc && strncmp(argv[npos], "--", 2) != 0 && strcmp(argv[npos], "-c")) npos++;
    char **args = olmo_calloc((size_t)argc + 2, sizeof *args);
    if (!args) return cli_fail("data from-text");
    int na = 0;
    args[na++] = argv[0];
    if (npos > 1) {
        args[na++] = "--files";
        for (int i = 1; i < npos; i++) args[na++] = argv[i];
    }
    for (int i = npos; i < argc; i++) args[na++] = argv[i];
    struct ycfg cfg;
    const char **files = NULL, *dest, *source, *split, *ext;
    size_t nfiles = 0;
    int skip_bad = 0, rc = 1;
    if (docs_args_parse(&cfg, na, args, k_keys, k_lists, k_bools) != 0) {
        free(args);
        return cli_fail("data from-text");
    }
    long docs = 0, empty = 0, bad = 0;
    if (docs_args_strings(&cfg, "files", &files, &nfiles) || docs_args_str(&cfg, "destination", NULL, &dest) ||
        docs_args_str(&cfg, "source", NULL, &source) || docs_args_str(&cfg, "split", "file", &split) ||
        docs_args_str(&cfg, "extension", ".jsonl.gz", &ext) || docs_args_bool(&cfg, "skip_bad", 0, &skip_bad))
        goto out;
    if (!nfiles) { olmo_err("expected one or more text files"); goto out; }
    if (!dest) { olmo_err("--destination: expected the documents directory to write"); goto out; }
    enum split_mode mode;
    if (!strcmp(split, "file")) mode = SPLIT_FILE;
    else if (!strcmp(split, "blank-lines")) mode = SPLIT_BLANK;
    else if (!strcmp(split, "lines")) mode = SPLIT_LINES;
    else { olmo_err("--split: expected file, blank-lines or lines, found '%s'", split); goto out; }
    for (size_t i = 0; i < nfiles; i++)
        if (convert(files[i], dest, source, ext, mode, skip_bad, &docs, &empty, &bad) != 0) goto out;
    olmo_log_info("from-text: %zu files -> %ld documents (%ld empty units skipped, %ld invalid UTF-8 skipped)",
                  nfiles, docs, empty, bad);
    rc = 0;
out:
    if (rc) fprintf(stderr, "olmo data from-text: %s\n", olmo_errmsg());
    free(files);
    free(args);
    ycfg_free(&cfg);
    return rc;
}
