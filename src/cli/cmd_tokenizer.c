/* cmd_tokenizer.c — `olmo tokenizer encode | decode | train`.
 *
 * encode prints one JSON array of ids per input line (the newline, and a trailing \r, not encoded), exactly the
 * output of ../shared/tools/tok_ref.js, so the two can be diffed; lines are encoded in parallel batches.
 * decode reads such arrays (one per line) and prints the text of each on its own line (or, with --json, as a
 * JSON string like tok_ref.js --decode). train is cmd_tokenizer_train (another file). */
#include "cli/commands.h"
#include "base/error.h"
#include "base/file.h"
#include "tokenizer/tokenizer.h"

#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static void usage(FILE *out) {
    fprintf(out,
            "usage: olmo tokenizer encode -t TOKENIZER.json [--special] [--whole] [--threads N] [FILE]\n"
            "       olmo tokenizer decode -t TOKENIZER.json [--skip-special] [--json] [FILE]\n"
            "       olmo tokenizer train --help\n\n"
            "Hugging Face tokenizer.json (byte-level BPE) encoding and decoding, id for id like `tokenizers`.\n\n"
            "encode   one JSON array of ids per input line (FILE or stdin); the line's \\n (and a trailing \\r)\n"
            "         is not encoded. Same output as ../shared/tools/tok_ref.js.\n"
            "  --special       add the post-processor's special tokens (HF add_special_tokens=True)\n"
            "  --whole         encode the whole input as one text (one array)\n"
            "  --threads N     encoding threads (default: OpenMP's, OMP_NUM_THREADS)\n"
            "decode   reads one JSON array of ids per line, prints the decoded text of each on its own line\n"
            "  --skip-special  drop special tokens (HF skip_special_tokens=True)\n"
            "  --json          print each text as a JSON string (like tok_ref.js --decode)\n"
            "train    learn a new byte-level BPE tokenizer (see `olmo tokenizer train --help`)\n");
}

/* stdin or a pipe, read whole (a regular file is memory-mapped instead, so big corpora need no copy) */
static char *read_stream(FILE *in, const char *name, size_t *len) {
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    if (!buf) { olmo_err("out of memory reading %s", name); return NULL; }
    for (;;) {
        if (n + 1 >= cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) { free(buf); olmo_err("out of memory reading %s", name); return NULL; }
            buf = nb;
        }
        size_t k = fread(buf + n, 1, cap - n - 1, in);
        if (k == 0) break;
        n += k;
    }
    if (ferror(in)) { free(buf); olmo_err_errno("reading %s", name); return NULL; }
    buf[n] = 0;
    *len = n;
    return buf;
}

static void print_ids(FILE *out, const int32_t *ids, size_t n) {
    fputc('[', out);
    for (size_t i = 0; i < n; i++) fprintf(out, i ? ",%d" : "%d", ids[i]);
    fputs("]\n", out);
}

/* A JSON string the way JavaScript's JSON.stringify writes it. */
static void print_json_string(FILE *out, const char *s, size_t n) {
    fputc('"', out);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        default:
            if (c < 0x20) fprintf(out, "\\u%04x", c);
            else fputc(c, out);
        }
    }
    fputs("\"\n", out);
}

struct opts { const char *tok, *file; int special, whole, threads, skip_special, json; };

static int parse(int argc, char **argv, struct opts *o, const char *cmd) {
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if ((!strcmp(a, "-t") || !strcmp(a, "--tokenizer")) && i + 1 < argc) o->tok = argv[++i];
        else if (!strcmp(a, "--special")) o->special = 1;
        else if (!strcmp(a, "--whole")) o->whole = 1;
        else if (!strcmp(a, "--skip-special")) o->skip_special = 1;
        else if (!strcmp(a, "--json")) o->json = 1;
        else if (!strcmp(a, "--threads") && i + 1 < argc) o->threads = atoi(argv[++i]);
        else if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(stdout); return 1; }
        else if (a[0] == '-' && a[1]) { fprintf(stderr, "olmo tokenizer %s: unknown option %s\n\n", cmd, a); usage(stderr); return 2; }
        else if (!o->file) o->file = a;
        else { fprintf(stderr, "olmo tokenizer %s: more than one input file\n", cmd); return 2; }
    }
    if (!o->tok) { fprintf(stderr, "olmo tokenizer %s: -t TOKENIZER.json is required\n\n", cmd); usage(stderr); return 2; }
    return 0;
}

#define BATCH_LINES 8192

static int do_encode(struct olmo_tokenizer *tok, const struct opts *o, const char *text, size_t len) {
    if (o->whole) {
        int32_t *ids;
        size_t n;
        if (tok_encode(tok, text, len, o->special, &ids, &n)) return -1;
        print_ids(stdout, ids, n);
        free(ids);
        return 0;
    }
    /* lines as tok_ref.js splits them: on \n, a final empty line dropped, a trailing \r removed */
    const char **lines = malloc(BATCH_LINES * sizeof *lines);
    size_t *lens = malloc(BATCH_LINES * sizeof *lens), *nids = malloc(BATCH_LINES * sizeof *nids);
    int32_t **ids = malloc(BATCH_LINES * sizeof *ids);
    int rc = (lines && lens && nids && ids) ? 0 : olmo_err("out of memory");
    size_t pos = 0, total = 0;
    while (!rc && pos < len) {
        size_t n = 0;
        while (n < BATCH_LINES && pos < len) {
            const char *nl = memchr(text + pos, '\n', len - pos);
            size_t end = nl ? (size_t)(nl - text) : len;
            size_t l = end - pos;
            if (l && text[pos + l - 1] == '\r') l--;
            lines[n] = text + pos;
            lens[n++] = l;
            pos = nl ? end + 1 : len;
        }
        rc = tok_encode_batch(tok, lines, lens, n, o->special, o->threads, ids, nids);
        for (size_t i = 0; i < n && !rc; i++) { print_ids(stdout, ids[i], nids[i]); free(ids[i]); }
        total += n;
    }
    if (!rc && total == 0) fputc('\n', stdout);   /* tok_ref.js prints one empty line for an empty input */
    free(lines); free(lens); free(nids); free(ids);
    return rc;
}

static int do_decode(struct olmo_tokenizer *tok, const struct opts *o, const char *text, size_t len) {
    size_t pos = 0, line = 0;
    int32_t *ids = NULL;
    size_t cap = 0;
    int rc = 0;
    while (!rc && pos < len) {
        const char *nl = memchr(text + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - text) : len;
        line++;
        json_error_t err;
        size_t l = end - pos;
        while (l && (text[pos + l - 1] == '\r' || text[pos + l - 1] == ' ')) l--;
        /* an empty line (what encode prints for an empty input) decodes to an empty line */
        json_t *arr = l ? json_loadb(text + pos, l, 0, &err) : json_array();
        pos = nl ? end + 1 : len;
        if (!arr || !json_is_array(arr)) {
            json_decref(arr);
            rc = olmo_err("%s line %zu: expected a JSON array of ids", o->file ? o->file : "stdin", line);
            break;
        }
        size_t n = json_array_size(arr);
        if (n > cap) {
            int32_t *nv = realloc(ids, n * sizeof *ids);
            if (!nv) { json_decref(arr); rc = olmo_err("out of memory"); break; }
            ids = nv;
            cap = n;
        }
        for (size_t i = 0; i < n && !rc; i++) {
            json_t *v = json_array_get(arr, i);
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > INT32_MAX)
                rc = olmo_err("%s line %zu: item %zu is not a token id", o->file ? o->file : "stdin", line, i);
            else ids[i] = (int32_t)json_integer_value(v);
        }
        json_decref(arr);
        if (rc) break;
        size_t tl;
        char *s = tok_decode(tok, ids, n, o->skip_special, &tl);
        if (!s) { rc = -1; break; }
        if (o->json) print_json_string(stdout, s, tl);
        else { fwrite(s, 1, tl, stdout); fputc('\n', stdout); }
        free(s);
    }
    free(ids);
    return rc;
}

int cmd_tokenizer(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    const char *sub = argv[1];
    if (!strcmp(sub, "train")) return cmd_tokenizer_train(argc - 1, argv + 1);
    if (strcmp(sub, "encode") && strcmp(sub, "decode")) {
        fprintf(stderr, "olmo tokenizer: unknown subcommand '%s'\n\n", sub);
        usage(stderr);
        return 2;
    }
    struct opts o = {0};
    int p = parse(argc - 1, argv + 1, &o, sub);
    if (p) return p == 1 ? 0 : p;
    struct olmo_tokenizer *tok = tok_load(o.tok);
    if (!tok) return cli_fail(sub[0] == 'e' ? "tokenizer encode" : "tokenizer decode");
    size_t len = 0;
    char *text = NULL;
    struct olmo_mmap map = {0};
    struct stat st;
    int mapped = o.file && strcmp(o.file, "-") && stat(o.file, &st) == 0 && S_ISREG(st.st_mode);
    if (mapped) {
        if (olmo_mmap_open(&map, o.file) == 0) {
            text = map.data ? (char *)map.data : "";
            len = map.size;
        }
    } else if (o.file && strcmp(o.file, "-")) {
        FILE *in = fopen(o.file, "rb");
        if (!in) olmo_err_errno("cannot open %s", o.file);
        else { text = read_stream(in, o.file, &len); fclose(in); }
    } else {
        text = read_stream(stdin, "stdin", &len);
    }
    int rc = -1;
    if (text) rc = sub[0] == 'e' ? do_encode(tok, &o, text, len) : do_decode(tok, &o, text, len);
    if (mapped) olmo_mmap_close(&map);
    else free(text);
    tok_free(tok);
    if (fflush(stdout) != 0 && !rc) rc = olmo_err_errno("writing the output");
    if (rc) return cli_fail(sub[0] == 'e' ? "tokenizer encode" : "tokenizer decode");
    return 0;
}
