/* demo_tasks.c — the main job's own multiple-choice task and sample files. A model trained for minutes on eight
 * small sources cannot answer ARC, but it can tell which continuation belongs to a passage: a Bible verse goes
 * on as a Bible verse, a Jargon File entry as jargon. Chance is 25 %; the report compares the score with it. */
#include "cli/demo.h"
#include "base/error.h"
#include "base/file.h"
#include "base/hash.h"
#include "base/mem.h"
#include "data/docs.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CLOZE_CONTEXT_WORDS 24
#define CLOZE_ANSWER_WORDS 8
#define CLOZE_CHOICES 4

struct passage {
    char *context, *answer, *source;
};

/* Splits the first CLOZE_CONTEXT_WORDS + CLOZE_ANSWER_WORDS whitespace-separated words of text; 0 when the text is
 * shorter. Words are re-joined with single spaces (newlines in dictionary entries would otherwise give the
 * answer away by layout). */
static int split_passage(const char *text, size_t n, struct passage *ps) {
    const char *w[CLOZE_CONTEXT_WORDS + CLOZE_ANSWER_WORDS];
    size_t wl[CLOZE_CONTEXT_WORDS + CLOZE_ANSWER_WORDS];
    int k = 0;
    for (size_t i = 0; i < n && k < CLOZE_CONTEXT_WORDS + CLOZE_ANSWER_WORDS;) {
        while (i < n && (text[i] == ' ' || text[i] == '\n' || text[i] == '\t' || text[i] == '\r')) i++;
        size_t j = i;
        while (j < n && !(text[j] == ' ' || text[j] == '\n' || text[j] == '\t' || text[j] == '\r')) j++;
        if (j > i) { w[k] = text + i; wl[k] = j - i; k++; }
        i = j;
    }
    if (k < CLOZE_CONTEXT_WORDS + CLOZE_ANSWER_WORDS) return 0;
    size_t cl = 0, al = 0;
    for (int i = 0; i < CLOZE_CONTEXT_WORDS; i++) cl += wl[i] + 1;
    for (int i = CLOZE_CONTEXT_WORDS; i < k; i++) al += wl[i] + 1;
    ps->context = olmo_malloc(cl + 1);
    ps->answer = olmo_malloc(al + 1);
    if (!ps->context || !ps->answer) return -1;
    size_t c = 0, a = 0;
    for (int i = 0; i < CLOZE_CONTEXT_WORDS; i++) {
        if (i) ps->context[c++] = ' ';
        memcpy(ps->context + c, w[i], wl[i]);
        c += wl[i];
    }
    for (int i = CLOZE_CONTEXT_WORDS; i < k; i++) {
        ps->answer[a++] = ' ';   /* a continuation starts with the space that separates it from the context */
        memcpy(ps->answer + a, w[i], wl[i]);
        a += wl[i];
    }
    ps->context[c] = ps->answer[a] = 0;
    return 1;
}

int demo_write_cloze_task(const char *heldout_glob, const char *path, int n_max) {
    size_t nf = 0;
    char **files = docs_glob(heldout_glob, &nf);
    if (!files) return -1;
    struct passage *ps = NULL;
    size_t np = 0, cap = 0;
    int rc = 0;
    for (size_t f = 0; rc == 0 && f < nf; f++) {
        struct docs_reader *rd = docs_reader_open(files[f]);
        if (!rd) { rc = -1; break; }
        struct docs_doc d = {0};
        int got;
        while ((got = docs_reader_next(rd, &d)) > 0) {
            if (np == cap) {
                cap = cap ? 2 * cap : 256;
                struct passage *q = olmo_realloc(ps, cap * sizeof *q);
                if (!q) { got = -1; break; }
                ps = q;
            }
            memset(&ps[np], 0, sizeof ps[np]);
            int ok = split_passage(d.text, d.text_len, &ps[np]);
            if (ok < 0) { got = -1; break; }
            if (ok == 0) { free(ps[np].context); free(ps[np].answer); continue; }
            ps[np].source = olmo_strdup(d.source ? d.source : "");
            np++;
        }
        docs_doc_clear(&d);
        docs_reader_close(rd);
        if (got < 0) rc = -1;
    }
    docs_paths_free(files);
    struct olmo_atomic_file af;
    int items = 0;
    if (rc == 0 && olmo_atomic_open(&af, path) == 0) {
        /* item i takes passage i; distractors are the answers of the next passages (cyclically) from other
         * sources, and the right answer's position cycles through 0..3, so neither position nor source order
         * can be learned from the file */
        for (size_t i = 0; i < np && items < n_max; i++) {
            const char *ch[CLOZE_CHOICES];
            int gold = (int)(olmo_fnv1a64(ps[i].context, strlen(ps[i].context)) % CLOZE_CHOICES), k = 0;
            for (size_t j = 1; j < np && k < CLOZE_CHOICES - 1; j++) {
                const struct passage *q = &ps[(i + j * 7) % np];
                if (strcmp(q->source, ps[i].source) != 0) ch[k++] = q->answer;
            }
            if (k < CLOZE_CHOICES - 1) continue;   /* one source only: no distractors from others */
            json_t *choices = json_array();
            for (int c = 0, o = 0; c < CLOZE_CHOICES; c++)
                json_array_append_new(choices, json_string(c == gold ? ps[i].answer : ch[o++]));
            json_t *item = json_pack("{s:s, s:s, s:o, s:i}", "id", ps[i].source, "context", ps[i].context,
                                     "choices", choices, "label", gold);
            char id[64];
            snprintf(id, sizeof id, "debian_cloze-%d", items);
            json_object_set_new(item, "id", json_string(id));
            json_object_set_new(item, "source", json_string(ps[i].source));
            char *line = json_dumps(item, JSON_COMPACT | JSON_PRESERVE_ORDER);
            json_decref(item);
            if (!line || fprintf(af.fp, "%s\n", line) < 0) { free(line); rc = olmo_err("%s: write failed", path); break; }
            free(line);
            items++;
        }
        if (rc == 0 && items == 0) rc = olmo_err("%s: the held-out documents gave no multiple-choice item", path);
        if (rc == 0) rc = olmo_atomic_commit(&af);
        else olmo_atomic_abort(&af);
    } else if (rc == 0) {
        rc = -1;
    }
    for (size_t i = 0; i < np; i++) { free(ps[i].context); free(ps[i].answer); free(ps[i].source); }
    free(ps);
    return rc;
}

int demo_sample_text(const char *samples_dir, int i, const char *txt_path) {
    char js[4096];
    snprintf(js, sizeof js, "%s/sample-%d.json", samples_dir, i);
    json_error_t e;
    json_t *j = json_load_file(js, 0, &e);
    if (!j) return olmo_err("%s:%d: %s", js, e.line, e.text);
    const char *text = json_string_value(json_object_get(j, "text"));
    const char *prompt = json_string_value(json_object_get(j, "prompt"));
    int rc;
    if (!text) {
        rc = olmo_err("%s: expected a \"text\" string, found none", js);
    } else {
        size_t pn = prompt ? strlen(prompt) : 0, tn = strlen(text);
        char *all = olmo_malloc(pn + tn + 1);
        rc = all ? 0 : -1;
        if (all) {
            memcpy(all, prompt ? prompt : "", pn);
            memcpy(all + pn, text, tn + 1);
            rc = olmo_write_file_atomic(txt_path, all, pn + tn);
            free(all);
        }
    }
    json_decref(j);
    return rc;
}
