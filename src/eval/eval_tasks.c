/* eval_tasks.c — loading tasks: OLMES request files, OLMo's in-loop prompts over Hugging Face rows, LAMBADA and
 * user JSON lines (see eval_tasks.h). Scoring and reporting are in eval_task_score.c. */
#include "eval/eval_tasks.h"

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/eval_io.h"

#include <ctype.h>
#include <dirent.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------- small helpers */

static char *fmt(const char *f, ...) __attribute__((format(printf, 1, 2)));
static char *fmt(const char *f, ...) {
    va_list ap;
    va_start(ap, f);
    char *s = NULL;
    if (vasprintf(&s, f, ap) < 0) s = NULL;
    va_end(ap);
    if (!s) olmo_err("out of memory");
    return s;
}

static const char *jstr(json_t *o, const char *k) { return json_string_value(json_object_get(o, k)); }

static struct eval_item *new_item(struct eval_task *t, int n, const char *doc_id, const char *where) {
    if (t->n == t->cap) {
        int cap = t->cap ? t->cap * 2 : 256;
        struct eval_item *ni = olmo_realloc(t->items, (size_t)cap * sizeof *ni);
        if (!ni) return NULL;
        t->items = ni;
        t->cap = cap;
    }
    struct eval_item *it = &t->items[t->n++];
    memset(it, 0, sizeof *it);
    it->n = n;
    it->label = -1;
    it->doc_id = olmo_strdup(doc_id);
    it->where = olmo_strdup(where);
    it->ctx = olmo_calloc((size_t)n, sizeof *it->ctx);
    it->cont = olmo_calloc((size_t)n, sizeof *it->cont);
    if (!it->doc_id || !it->where || !it->ctx || !it->cont) return NULL;
    return it;
}

static void free_item(struct eval_item *it) {
    for (int c = 0; c < it->n; c++) {
        if (it->ctx) free(it->ctx[c]);
        if (it->cont) free(it->cont[c]);
        if (it->uctx) free(it->uctx[c]);
    }
    free(it->ctx);
    free(it->cont);
    free(it->uctx);
    free(it->ll);
    free(it->ll_uncond);
    free(it->ntok);
    free(it->nchars);
    free(it->nbytes);
    free(it->greedy);
    free(it->doc_id);
    free(it->where);
    free(it->group);
}

void eval_task_free(struct eval_task *t) {
    for (int i = 0; i < t->n; i++) free_item(&t->items[i]);
    free(t->items);
    free(t->name);
    free(t->path);
    free(t->primary);
    memset(t, 0, sizeof *t);
}

/* Drops the last item (a bad one under skip_bad). */
static void drop_last(struct eval_task *t) {
    free_item(&t->items[--t->n]);
}

/* Checks an item once built: every choice present and non-empty, label in range. 0, or -1 with olmo_err. */
static int check_item(const struct eval_item *it) {
    for (int c = 0; c < it->n; c++) {
        if (!it->ctx[c] || !it->cont[c])
            return olmo_err("%s: item %s: choice %d has no %s", it->where, it->doc_id, c,
                            !it->ctx[c] ? "context" : "continuation");
        const char *s = it->cont[c];
        while (*s == ' ') s++;
        if (!*s) return olmo_err("%s: item %s: choice %d is empty", it->where, it->doc_id, c);
        if (!it->ctx[c][0]) return olmo_err("%s: item %s: choice %d has an empty context", it->where, it->doc_id, c);
    }
    if (it->label < 0 || it->label >= it->n)
        return olmo_err("%s: item %s: label %d is out of range (expected 0..%d)", it->where, it->doc_id, it->label,
                        it->n - 1);
    return 0;
}

/* ------------------------------------------------------------------------------------------- OLMES requests */

struct req_ctx {
    struct eval_task *t;
    const char *path;
    int *slot;               /* doc_id -> item index + 1 (0: none) */
    int nslot;
    int skip_bad;
    int bad;                 /* an error was set */
};

static int set_slot(struct req_ctx *c, int doc, int idx) {
    if (doc >= c->nslot) {
        int n = c->nslot ? c->nslot : 1024;
        while (n <= doc) n *= 2;
        int *ns = olmo_realloc(c->slot, (size_t)n * sizeof *ns);
        if (!ns) return -1;
        memset(ns + c->nslot, 0, (size_t)(n - c->nslot) * sizeof *ns);
        c->slot = ns;
        c->nslot = n;
    }
    c->slot[doc] = idx + 1;
    return 0;
}

/* Grows item it to hold choice idx. */
static int ensure_choice(struct eval_item *it, int idx) {
    if (idx < it->n) return 0;
    int n = idx + 1;
    char **a = olmo_realloc(it->ctx, (size_t)n * sizeof *a), **b = a ? olmo_realloc(it->cont, (size_t)n * sizeof *b) : NULL;
    if (a) it->ctx = a;
    if (b) it->cont = b;
    if (!a || !b) return -1;
    if (it->uctx) {
        char **u = olmo_realloc(it->uctx, (size_t)n * sizeof *u);
        if (!u) return -1;
        it->uctx = u;
        for (int k = it->n; k < n; k++) u[k] = NULL;
    }
    for (int k = it->n; k < n; k++) it->ctx[k] = it->cont[k] = NULL;
    it->n = n;
    return 0;
}

#define UNCOND_BASE 1000000   /* OLMES: doc_id >= 1e6 are the unconditional requests of doc_id − 1e6 */

static int req_line(char *line, size_t n, int lineno, void *arg) {
    struct req_ctx *c = arg;
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    int rc = 0;
    const char *why = NULL;
    char whybuf[300];
    json_t *req = o ? json_object_get(o, "request") : NULL;
    json_t *jdoc = o ? json_object_get(o, "doc_id") : NULL, *jidx = o ? json_object_get(o, "idx") : NULL;
    json_t *jlab = o ? json_object_get(o, "label") : NULL;
    const char *ctx = req ? jstr(req, "context") : NULL, *cont = req ? jstr(req, "continuation") : NULL;
    if (!o || !json_is_object(o)) {
        snprintf(whybuf, sizeof whybuf, "expected a JSON object per line (%s)", o ? "found another value" : je.text);
        why = whybuf;
    } else if (!json_is_object(req)) why = "missing field \"request\"";
    else if (!ctx) why = "missing field \"request.context\"";
    else if (!cont) why = "missing field \"request.continuation\"";
    else if (!json_is_integer(jdoc) || json_integer_value(jdoc) < 0) why = "missing field \"doc_id\" (an integer >= 0)";
    else if (!json_is_integer(jidx) || json_integer_value(jidx) < 0 || json_integer_value(jidx) > 1000)
        why = "missing field \"idx\" (the choice index, 0..1000)";
    else if (!json_is_integer(jlab)) why = "missing field \"label\" (the gold choice index)";
    if (why) {
        json_decref(o);
        if (!c->skip_bad) {
            olmo_err("%s:%d: %s", c->path, lineno, why);
            return 1;
        }
        olmo_log_warn("%s:%d: skipped: %s", c->path, lineno, why);
        c->t->n_skipped++;
        return 0;
    }
    int64_t doc = json_integer_value(jdoc);
    int idx = (int)json_integer_value(jidx), uncond = doc >= UNCOND_BASE;
    if (uncond) doc -= UNCOND_BASE;
    if (doc > 50000000) {
        json_decref(o);
        olmo_err("%s:%d: doc_id %lld is implausibly large", c->path, lineno, (long long)doc);
        return 1;
    }
    char where[600];
    snprintf(where, sizeof where, "%s:%d", c->path, lineno);
    struct eval_item *it = NULL;
    if (doc < c->nslot && c->slot[doc]) it = &c->t->items[c->slot[doc] - 1];
    else if (!uncond) {
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)doc);
        it = new_item(c->t, 0, id, where);
        if (!it || set_slot(c, (int)doc, c->t->n - 1) < 0) rc = 1;
        if (it) it->label = (int)json_integer_value(jlab);
    }
    if (rc == 0 && !it) {
        /* an unconditional request before its document: OLMES writes them after, so this file is not OLMES's */
        olmo_err("%s:%d: unconditional request for doc_id %lld before any request of that document", c->path, lineno,
                 (long long)doc);
        rc = 1;
    }
    if (rc == 0 && ensure_choice(it, idx) < 0) rc = 1;
    if (rc == 0 && uncond) {
        if (!it->uctx && !(it->uctx = olmo_calloc((size_t)it->n, sizeof *it->uctx))) rc = 1;
        else if (it->uctx[idx]) {
            olmo_err("%s:%d: doc_id %lld choice %d has two unconditional requests", c->path, lineno,
                     (long long)doc + UNCOND_BASE, idx);
            rc = 1;
        } else if (!(it->uctx[idx] = olmo_strdup(ctx))) rc = 1;
    } else if (rc == 0) {
        if (it->ctx[idx]) {
            olmo_err("%s:%d: doc_id %lld has two requests for choice %d", c->path, lineno, (long long)doc, idx);
            rc = 1;
        } else if (!(it->ctx[idx] = olmo_strdup(ctx)) || !(it->cont[idx] = olmo_strdup(cont))) rc = 1;
        else if (it->label != (int)json_integer_value(jlab)) {
            olmo_err("%s:%d: doc_id %lld: label %lld differs from the document's first line (%d)", c->path, lineno,
                     (long long)doc, (long long)json_integer_value(jlab), it->label);
            rc = 1;
        }
    }
    json_decref(o);
    return rc;
}

/* primary_metric from the config.json next to a request file, or NULL. */
static char *olmes_primary(const char *req_path) {
    const char *sl = strrchr(req_path, '/');
    char *cfg = sl ? fmt("%.*s/config.json", (int)(sl - req_path), req_path) : fmt("config.json");
    if (!cfg) return NULL;
    char *p = NULL;
    if (olmo_file_exists(cfg)) {
        json_error_t je;
        json_t *o = json_load_file(cfg, 0, &je);
        json_t *tc = o ? json_object_get(o, "task_config") : NULL;
        const char *pm = tc ? jstr(tc, "primary_metric") : NULL;
        json_t *ns = tc ? json_object_get(tc, "num_shots") : NULL;
        (void)ns;
        if (pm) p = olmo_strdup(pm);
        json_decref(o);
    }
    free(cfg);
    return p;
}

static int load_requests(struct eval_task *t, const char *path, int skip_bad) {
    size_t len;
    char *buf = eval_read_all(path, &len);
    if (!buf) return -1;
    struct req_ctx c = {t, path, NULL, 0, skip_bad, 0};
    int rc = eval_for_lines(buf, len, req_line, &c) ? -1 : 0;
    free(c.slot);
    free(buf);
    if (rc) return -1;
    /* validate whole items now that every line is in */
    for (int i = 0; i < t->n; i++) {
        struct eval_item *it = &t->items[i];
        int bad = check_item(it) < 0;
        if (!bad && it->uctx)
            for (int k = 0; k < it->n; k++)
                if (!it->uctx[k]) {
                    olmo_err("%s: item %s: choice %d has no unconditional request while others do", it->where,
                             it->doc_id, k);
                    bad = 1;
                }
        if (!bad) continue;
        if (!skip_bad) return -1;
        olmo_log_warn("skipped: %s", olmo_errmsg());
        t->n_skipped++;
        free_item(it);
        memmove(it, it + 1, (size_t)(t->n - i - 1) * sizeof *it);
        t->n--;
        i--;
    }
    char *pm = olmes_primary(path);
    t->primary = pm ? pm : olmo_strdup("acc_raw");
    return t->primary ? 0 : -1;
}

/* ------------------------------------------------------------------------------- OLMo's in-loop prompts (HF rows) */

#define MAXC 16

struct render {
    char *ctx;               /* shared context, or NULL when ctxs[] are per choice */
    char *ctxs[MAXC];
    char *conts[MAXC];
    int n, label;
    const char *uctx;        /* unconditional context for PMI, or NULL */
    const char *id;
    const char *group;       /* MMLU's subject */
};

typedef const char *(*render_fn)(json_t *row, struct render *r);

static const char *add_cont(struct render *r, const char *text, int lower_first) {
    if (!text) return "a choice is missing";
    if (r->n >= MAXC) return "more than 16 choices";
    char *s = fmt(" %s", text);
    if (!s) return "out of memory";
    if (lower_first && s[1]) s[1] = (char)tolower((unsigned char)s[1]);
    r->conts[r->n++] = s;
    return NULL;
}

/* "choices": {"text": [...], "label": [...]} with "answerKey" (ARC, OpenBookQA, CSQA, basic_arithmetic). */
static const char *keyed_choices(json_t *row, struct render *r) {
    json_t *ch = json_object_get(row, "choices");
    json_t *tx = json_object_get(ch, "text"), *lb = json_object_get(ch, "label");
    const char *key = jstr(row, "answerKey");
    if (!json_is_array(tx) || !json_is_array(lb) || json_array_size(tx) != json_array_size(lb))
        return "missing field \"choices\" {\"text\": [...], \"label\": [...]}";
    if (!key) return "missing field \"answerKey\"";
    for (size_t i = 0; i < json_array_size(tx); i++) {
        const char *e = add_cont(r, json_string_value(json_array_get(tx, i)), 0);
        if (e) return e;
        const char *l = json_string_value(json_array_get(lb, i));
        if (l && !strcmp(l, key)) r->label = (int)i;
    }
    if (r->label < 0) return "answerKey is not one of the choice labels";
    return NULL;
}

static const char *r_arc(json_t *row, struct render *r) {
    const char *q = jstr(row, "question");
    if (!q) return "missing field \"question\"";
    r->ctx = fmt("Question: %s\nAnswer:", q);
    r->uctx = "Answer:";
    r->id = jstr(row, "id");
    return keyed_choices(row, r);
}

static const char *r_obqa(json_t *row, struct render *r) {
    const char *q = jstr(row, "question_stem");
    if (!q) return "missing field \"question_stem\"";
    r->ctx = fmt("%s", q);
    r->uctx = "Answer:";
    r->id = jstr(row, "id");
    return keyed_choices(row, r);
}

static const char *r_boolq(json_t *row, struct render *r) {
    const char *p = jstr(row, "passage"), *q = jstr(row, "question");
    json_t *a = json_object_get(row, "answer");
    if (!p || !q || !json_is_boolean(a)) return "missing field \"passage\", \"question\" or \"answer\" (boolean)";
    r->ctx = fmt("%s\nQuestion: %s?\nAnswer:", p, q);
    r->uctx = "Answer:";
    r->label = json_is_true(a) ? 0 : 1;
    const char *e = add_cont(r, "yes", 0);
    return e ? e : add_cont(r, "no", 0);
}

static const char *r_piqa(json_t *row, struct render *r) {
    const char *g = jstr(row, "goal");
    json_t *l = json_object_get(row, "label");
    if (!g || !json_is_integer(l)) return "missing field \"goal\" or \"label\"";
    r->ctx = fmt("Question: %s\nAnswer:", g);
    r->uctx = "Answer:";
    r->label = (int)json_integer_value(l);
    const char *e = add_cont(r, jstr(row, "sol1"), 0);
    return e ? e : add_cont(r, jstr(row, "sol2"), 0);
}

static const char *r_sciq(json_t *row, struct render *r) {
    const char *s = jstr(row, "support"), *q = jstr(row, "question");
    if (!s || !q) return "missing field \"support\" or \"question\"";
    /* OLMo strips the support passage but keeps the newline even when it is empty */
    while (*s && isspace((unsigned char)*s)) s++;
    size_t sl = strlen(s);
    while (sl && isspace((unsigned char)s[sl - 1])) sl--;
    r->ctx = fmt("%.*s\nQuestion: %s\nAnswer:", (int)sl, s, q);
    r->uctx = "Answer:";
    const char *keys[] = {"distractor1", "distractor2", "distractor3", "correct_answer"};
    for (int k = 0; k < 4; k++) {
        const char *e = add_cont(r, jstr(row, keys[k]), 0);
        if (e) return e;
    }
    r->label = 3;
    return NULL;
}

static const char *r_copa(json_t *row, struct render *r) {
    const char *p = jstr(row, "premise"), *q = jstr(row, "question");
    json_t *l = json_object_get(row, "label");
    if (!p || !q || !json_is_integer(l)) return "missing field \"premise\", \"question\" or \"label\"";
    const char *conn = !strcmp(q, "cause") ? "because" : "therefore";
    size_t pl = strlen(p);
    if (pl && p[pl - 1] == '.') pl--;
    r->ctx = fmt("%.*s %s", (int)pl, p, conn);
    r->uctx = conn;
    r->label = (int)json_integer_value(l);
    const char *e = add_cont(r, jstr(row, "choice1"), 1);
    return e ? e : add_cont(r, jstr(row, "choice2"), 1);
}

static const char *r_winogrande(json_t *row, struct render *r) {
    const char *s = jstr(row, "sentence"), *a = jstr(row, "answer");
    const char *o1 = jstr(row, "option1"), *o2 = jstr(row, "option2");
    if (!s || !a || !o1 || !o2) return "missing field \"sentence\", \"option1\", \"option2\" or \"answer\"";
    const char *us = strchr(s, '_');
    if (!us) return "\"sentence\" has no '_' blank";
    /* partial scoring: one context per option (the sentence up to the blank, filled), one shared continuation */
    const char *rest = us + 1;
    while (*rest == ' ') rest++;
    size_t rl = strlen(rest);
    while (rl && isspace((unsigned char)rest[rl - 1])) rl--;
    const char *opts[2] = {o1, o2};
    for (int k = 0; k < 2; k++) {
        r->ctxs[k] = fmt("%.*s%s", (int)(us - s), s, opts[k]);
        r->conts[k] = fmt(" %.*s", (int)rl, rest);
    }
    r->n = 2;
    r->label = atoi(a) - 1;
    return NULL;
}

static const char *r_siqa(json_t *row, struct render *r) {
    const char *c = jstr(row, "context"), *q = jstr(row, "question"), *l = jstr(row, "label");
    if (!c || !q || !l) return "missing field \"context\", \"question\" or \"label\"";
    r->ctx = fmt("Question: %s %s\nAnswer:", c, q);
    r->uctx = "Answer:";
    r->label = atoi(l) - 1;
    const char *keys[] = {"answerA", "answerB", "answerC"};
    for (int k = 0; k < 3; k++) {
        const char *e = add_cont(r, jstr(row, keys[k]), 0);
        if (e) return e;
    }
    return NULL;
}

static const char *r_csqa(json_t *row, struct render *r) { return r_arc(row, r); }

static const char *r_mmlu(json_t *row, struct render *r) {
    const char *q = jstr(row, "question");
    json_t *ch = json_object_get(row, "choices"), *a = json_object_get(row, "answer");
    if (!q || !json_is_array(ch) || !json_is_integer(a)) return "missing field \"question\", \"choices\" or \"answer\"";
    r->ctx = fmt("Question: %s\nAnswer:", q);
    r->uctx = "Answer:";
    r->group = jstr(row, "subject");
    r->label = (int)json_integer_value(a);
    for (size_t i = 0; i < json_array_size(ch); i++) {
        const char *e = add_cont(r, json_string_value(json_array_get(ch, i)), 0);
        if (e) return e;
    }
    return NULL;
}

/* OLMES-processed documents: {"query", "choices", "gold"} (olmo_oe_docs/) */
static const char *r_oedoc(json_t *row, struct render *r) {
    const char *q = jstr(row, "query");
    json_t *ch = json_object_get(row, "choices"), *g = json_object_get(row, "gold");
    if (!q || !json_is_array(ch) || !json_is_integer(g)) return "missing field \"query\", \"choices\" or \"gold\"";
    r->ctx = fmt("%s", q);
    r->label = (int)json_integer_value(g);
    for (size_t i = 0; i < json_array_size(ch); i++) {
        const char *e = add_cont(r, json_string_value(json_array_get(ch, i)), 0);
        if (e) return e;
    }
    return NULL;
}

static const char *r_glue(json_t *row, struct render *r, const char *tmpl_kind) {
    json_t *l = json_object_get(row, "label");
    if (!json_is_integer(l)) return "missing field \"label\"";
    r->label = (int)json_integer_value(l);
    r->uctx = "Answer:";
    const char *e = NULL;
    if (!strcmp(tmpl_kind, "rte")) {
        const char *a = jstr(row, "sentence1"), *b = jstr(row, "sentence2");
        if (!a || !b) return "missing field \"sentence1\" or \"sentence2\"";
        r->ctx = fmt("%s\nQuestion: %s True or False?\nAnswer:", a, b);
        if (!(e = add_cont(r, "True", 0))) e = add_cont(r, "False", 0);
    } else if (!strcmp(tmpl_kind, "cb")) {
        const char *a = jstr(row, "premise"), *b = jstr(row, "hypothesis");
        if (!a || !b) return "missing field \"premise\" or \"hypothesis\"";
        r->ctx = fmt("%s\nQuestion: %s. True, False or Neither?\nAnswer:", a, b);
        if (!(e = add_cont(r, "True", 0)) && !(e = add_cont(r, "False", 0))) e = add_cont(r, "Neither", 0);
    } else {
        const char *a = jstr(row, "sentence");
        if (!a) return "missing field \"sentence\"";
        r->ctx = fmt("%s\nQuestion: Is this sentence positive or negative?\nAnswer:", a);
        if (!(e = add_cont(r, "negative", 0))) e = add_cont(r, "positive", 0);
    }
    return e;
}
static const char *r_rte(json_t *row, struct render *r) { return r_glue(row, r, "rte"); }
static const char *r_cb(json_t *row, struct render *r) { return r_glue(row, r, "cb"); }
static const char *r_sst2(json_t *row, struct render *r) { return r_glue(row, r, "sst2"); }

/* A user's multiple-choice line: {"context": str, "choices": [str...], "label": int, "id"?: any}. Choices are
 * scored as written (OLMo's prompts start each with a space; so should yours). */
static const char *r_user(json_t *row, struct render *r) {
    const char *c = jstr(row, "context");
    json_t *ch = json_object_get(row, "choices"), *l = json_object_get(row, "label");
    if (!c) return "missing field \"context\"";
    if (!json_is_array(ch) || json_array_size(ch) < 1) return "missing field \"choices\" (a list of strings)";
    if (!json_is_integer(l)) return "missing field \"label\" (the index of the right choice)";
    r->ctx = fmt("%s", c);
    r->label = (int)json_integer_value(l);
    const char *u = jstr(row, "uncond_context");
    r->uctx = u;
    r->id = jstr(row, "id");
    for (size_t i = 0; i < json_array_size(ch); i++) {
        const char *t = json_string_value(json_array_get(ch, i));
        if (!t) return "a choice is not a string";
        if (r->n >= MAXC) return "more than 16 choices";
        r->conts[r->n++] = fmt("%s", t);
    }
    return NULL;
}

/* LAMBADA: {"text"}: the last word (after the last space) is the continuation, greedy-matched. */
static const char *r_lambada(json_t *row, struct render *r) {
    const char *t = jstr(row, "text");
    if (!t) return "missing field \"text\"";
    const char *sp = strrchr(t, ' ');
    if (!sp || sp == t || !sp[1]) return "\"text\" has no final word after a space";
    r->ctx = fmt("%.*s", (int)(sp - t), t);
    r->conts[0] = fmt("%s", sp);
    r->n = 1;
    r->label = 0;
    return NULL;
}

/* A user's greedy line: {"context", "continuation"}. */
static const char *r_user_greedy(json_t *row, struct render *r) {
    const char *c = jstr(row, "context"), *k = jstr(row, "continuation");
    if (!c || !k) return "missing field \"context\" or \"continuation\"";
    r->ctx = fmt("%s", c);
    r->conts[0] = fmt("%s", k);
    r->n = 1;
    r->label = 0;
    r->id = jstr(row, "id");
    return NULL;
}

struct hf_task {
    const char *name, *file;   /* file relative to the data directory */
    render_fn fn;
    const char *primary;       /* OLMo's in-loop metric: len_norm = acc_per_char, acc = acc_raw */
    enum eval_task_kind kind;
};

static const struct hf_task hf_tasks[] = {
    {"arc_easy", "olmo_hf/ai2_arc__ARC-Easy__validation.jsonl", r_arc, "acc_raw", EVAL_TASK_MC},
    {"arc_challenge", "olmo_hf/ai2_arc__ARC-Challenge__validation.jsonl", r_arc, "acc_per_char", EVAL_TASK_MC},
    {"basic_arithmetic", "olmo_hf/allenai__basic_arithmetic__validation.jsonl", r_arc, "acc_raw", EVAL_TASK_MC},
    {"boolq", "olmo_hf/boolq__validation.jsonl", r_boolq, "acc_raw", EVAL_TASK_MC},
    {"copa", "olmo_hf/super_glue__copa__validation.jsonl", r_copa, "acc_raw", EVAL_TASK_MC},
    {"hellaswag", "olmo_oe_docs/hellaswag__val1000.jsonl", r_oedoc, "acc_per_char", EVAL_TASK_MC},
    {"openbook_qa", "olmo_hf/openbookqa__main__validation.jsonl", r_obqa, "acc_per_char", EVAL_TASK_MC},
    {"piqa", "olmo_hf/piqa__plain_text__validation.jsonl", r_piqa, "acc_per_char", EVAL_TASK_MC},
    {"sciq", "olmo_hf/sciq__validation.jsonl", r_sciq, "acc_raw", EVAL_TASK_MC},
    {"winogrande", "olmo_hf/winogrande__winogrande_xl__validation.jsonl", r_winogrande, "acc_raw", EVAL_TASK_MC},
    {"social_iqa", "olmo_hf/social_i_qa__validation.jsonl", r_siqa, "acc_per_char", EVAL_TASK_MC},
    {"commonsense_qa", "olmo_hf/tau__commonsense_qa__validation.jsonl", r_csqa, "acc_per_char", EVAL_TASK_MC},
    {"mmlu", "olmo_hf/mmlu__validation.jsonl", r_mmlu, "acc_per_char", EVAL_TASK_MC},
    {"mmlu_test", "olmo_hf/mmlu__test.jsonl.gz", r_mmlu, "acc_per_char", EVAL_TASK_MC},
    {"rte", "olmo_hf/glue__rte__validation.jsonl", r_rte, "acc_per_char", EVAL_TASK_MC},
    {"commitment_bank", "olmo_hf/super_glue__cb__validation.jsonl", r_cb, "acc_raw", EVAL_TASK_MC},
    {"sst2", "olmo_hf/glue__sst2__validation.jsonl", r_sst2, "acc_raw", EVAL_TASK_MC},
    {"lambada", "lambada_test.jsonl", r_lambada, "acc", EVAL_TASK_GREEDY},
};

struct rows_ctx {
    struct eval_task *t;
    const char *path;
    render_fn fn;            /* NULL: decide from the first line (user files) */
    int skip_bad, row;
};

static void render_free(struct render *r) {
    free(r->ctx);
    for (int k = 0; k < MAXC; k++) {
        free(r->ctxs[k]);
        free(r->conts[k]);
    }
}

static int row_line(char *line, size_t n, int lineno, void *arg) {
    struct rows_ctx *c = arg;
    json_error_t je;
    json_t *o = json_loadb(line, n, 0, &je);
    struct render r;
    memset(&r, 0, sizeof r);
    r.label = -1;
    char whybuf[300];
    const char *why = NULL;
    if (!o || !json_is_object(o)) {
        snprintf(whybuf, sizeof whybuf, "expected a JSON object per line (%s)", o ? "found another value" : je.text);
        why = whybuf;
    } else {
        if (!c->fn) {
            /* a user file: multiple choice when it has "choices", else greedy match */
            c->fn = json_object_get(o, "choices") ? r_user : r_user_greedy;
            c->t->kind = c->fn == r_user ? EVAL_TASK_MC : EVAL_TASK_GREEDY;
            if (!c->t->primary) c->t->primary = olmo_strdup(c->fn == r_user ? "acc_raw" : "acc");
        }
        why = c->fn(o, &r);
    }
    char where[600], id[64];
    snprintf(where, sizeof where, "%s:%d", c->path, lineno);
    snprintf(id, sizeof id, "%d", c->row);
    int rc = 0;
    if (!why) {
        const char *rid = r.id ? r.id : id;
        struct eval_item *it = new_item(c->t, r.n, rid, where);
        if (!it) rc = 1;
        else {
            it->label = r.label;
            if (r.group && !(it->group = olmo_strdup(r.group))) rc = 1;
            for (int k = 0; k < r.n && !rc; k++) {
                it->ctx[k] = olmo_strdup(r.ctx ? r.ctx : r.ctxs[k] ? r.ctxs[k] : "");
                it->cont[k] = r.conts[k];
                r.conts[k] = NULL;
                if (!it->ctx[k]) rc = 1;
            }
            if (!rc && r.uctx) {
                it->uctx = olmo_calloc((size_t)r.n, sizeof *it->uctx);
                for (int k = 0; it->uctx && k < r.n; k++) it->uctx[k] = olmo_strdup(r.uctx);
            }
            if (!rc && check_item(it) < 0) {
                drop_last(c->t);
                if (!c->skip_bad) rc = 1;
                else {
                    olmo_log_warn("skipped: %s", olmo_errmsg());
                    c->t->n_skipped++;
                }
            }
        }
    } else if (!c->skip_bad) {
        olmo_err("%s: row %d: %s", where, c->row, why);
        rc = 1;
    } else {
        olmo_log_warn("%s: skipped row %d: %s", where, c->row, why);
        c->t->n_skipped++;
    }
    c->row++;
    render_free(&r);
    json_decref(o);
    return rc;
}

static int load_rows(struct eval_task *t, const char *path, render_fn fn, int skip_bad) {
    size_t len;
    char *buf = eval_read_all(path, &len);
    if (!buf) return -1;
    struct rows_ctx c = {t, path, fn, skip_bad, 0};
    int rc = eval_for_lines(buf, len, row_line, &c) ? -1 : 0;
    free(buf);
    return rc;
}

/* ------------------------------------------------------------------------------------------- registry */

static int is_dir(const char *p) {
    DIR *d = opendir(p);
    if (d) closedir(d);
    return d != NULL;
}

/* Calls fn(task_name, request_path) for each OLMES request file under data_dir/olmo_oe_eval_tasks; stops at a
 * non-zero return. */
static int for_olmes(const char *data_dir, int (*fn)(const char *name, const char *path, void *arg), void *arg) {
    char *root = fmt("%s/olmo_oe_eval_tasks", data_dir);
    if (!root) return -1;
    DIR *d = opendir(root);
    int rc = 0;
    if (!d) { free(root); return 0; }
    struct dirent *e;
    char **names = NULL;
    int nn = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char *sub = fmt("%s/%s", root, e->d_name);
        DIR *d2 = sub ? opendir(sub) : NULL;
        struct dirent *e2;
        while (d2 && (e2 = readdir(d2))) {
            if (e2->d_name[0] == '.') continue;
            char *p = fmt("%s/%s/requests.jsonl.gz", sub, e2->d_name);
            if (p && olmo_file_exists(p)) {
                char **nv = realloc(names, (size_t)(nn + 2) * sizeof *nv);
                if (nv) {
                    names = nv;
                    names[nn++] = fmt("%s_%s", e->d_name, e2->d_name);
                    names[nn++] = p;
                    p = NULL;
                }
            }
            free(p);
        }
        if (d2) closedir(d2);
        free(sub);
    }
    closedir(d);
    /* sorted by name, so --list is stable */
    for (int i = 0; i < nn; i += 2)
        for (int j = i + 2; j < nn; j += 2)
            if (names[i] && names[j] && strcmp(names[i], names[j]) > 0) {
                char *a = names[i], *b = names[i + 1];
                names[i] = names[j]; names[i + 1] = names[j + 1];
                names[j] = a; names[j + 1] = b;
            }
    for (int i = 0; i < nn && !rc; i += 2)
        if (names[i]) rc = fn(names[i], names[i + 1], arg);
    for (int i = 0; i < nn; i++) free(names[i]);
    free(names);
    free(root);
    return rc;
}

const char *eval_default_data_dir(void) {
    const char *e = getenv("OLMO_EVAL_DATA");
    return e && *e ? e : "../shared/data/eval";
}

static int list_one(const char *name, const char *path, void *arg) {
    fprintf(arg, "  %-34s OLMES requests  %s\n", name, path);
    return 0;
}

void eval_tasks_list(const char *data_dir, FILE *out) {
    fprintf(out, "tasks in %s (OLMo's in-loop prompts over Hugging Face rows; 0-shot unless --shots):\n", data_dir);
    for (size_t i = 0; i < sizeof hf_tasks / sizeof *hf_tasks; i++) {
        char *p = fmt("%s/%s", data_dir, hf_tasks[i].file);
        if (p && olmo_file_exists(p))
            fprintf(out, "  %-34s %-15s %s\n", hf_tasks[i].name, hf_tasks[i].kind == EVAL_TASK_GREEDY ? "greedy match" :
                    hf_tasks[i].primary, p);
        free(p);
    }
    fprintf(out, "OLMES request files (pre-rendered, shots included; primary metric from config.json):\n");
    for_olmes(data_dir, list_one, out);
    fprintf(out, "A NAME may also be a path: an OLMES requests.jsonl(.gz), or your own JSON lines (docs/eval.md).\n");
}

struct find_ctx { const char *want; char *path; };
static int find_one(const char *name, const char *path, void *arg) {
    struct find_ctx *f = arg;
    if (strcmp(name, f->want)) return 0;
    f->path = olmo_strdup(path);
    return 1;
}

/* The first line of path has a "request" object: an OLMES request file. */
static int looks_like_requests(const char *path) {
    size_t len;
    char *buf = eval_read_all(path, &len);
    if (!buf) return -1;
    char *nl = strchr(buf, '\n');
    if (nl) *nl = 0;
    json_t *o = json_loads(buf, 0, NULL);
    int r = o && json_is_object(json_object_get(o, "request"));
    json_decref(o);
    free(buf);
    return r;
}

/* K solved examples (the task's first K items, gold continuation) before every remaining context. */
static int apply_shots(struct eval_task *t, int shots) {
    if (shots <= 0) return 0;
    if (shots >= t->n) return olmo_err("%s: --shots %d leaves no items (the task has %d)", t->name, shots, t->n);
    size_t cap = 1;
    for (int i = 0; i < shots; i++) {
        const struct eval_item *s = &t->items[i];
        cap += strlen(s->ctx[s->label]) + strlen(s->cont[s->label]) + 2;
    }
    char *prefix = olmo_malloc(cap);
    if (!prefix) return -1;
    prefix[0] = 0;
    for (int i = 0; i < shots; i++) {
        const struct eval_item *s = &t->items[i];
        strcat(prefix, s->ctx[s->label]);
        strcat(prefix, s->cont[s->label]);
        strcat(prefix, "\n\n");
    }
    for (int i = 0; i < shots; i++) free_item(&t->items[i]);
    memmove(t->items, t->items + shots, (size_t)(t->n - shots) * sizeof *t->items);
    t->n -= shots;
    for (int i = 0; i < t->n; i++)
        for (int k = 0; k < t->items[i].n; k++) {
            char *c = fmt("%s%s", prefix, t->items[i].ctx[k]);
            if (!c) { free(prefix); return -1; }
            free(t->items[i].ctx[k]);
            t->items[i].ctx[k] = c;
        }
    free(prefix);
    t->shots = shots;
    return 0;
}

int eval_task_load(struct eval_task *t, const char *name, const char *data_dir, int shots, int limit, int skip_bad) {
    memset(t, 0, sizeof *t);
    t->name = olmo_strdup(name);
    if (!t->name) return -1;
    int rc = -1;
    const struct hf_task *hf = NULL;
    for (size_t i = 0; i < sizeof hf_tasks / sizeof *hf_tasks; i++)
        if (!strcmp(name, hf_tasks[i].name)) hf = &hf_tasks[i];
    struct find_ctx f = {name, NULL};
    if (hf) {
        t->path = fmt("%s/%s", data_dir, hf->file);
        t->kind = hf->kind;
        t->primary = olmo_strdup(hf->primary);
        if (!t->path || !t->primary) goto out;
        if (!olmo_file_exists(t->path)) {
            olmo_err("task %s: %s does not exist (--data DIR names the eval data directory)", name, t->path);
            goto out;
        }
        rc = load_rows(t, t->path, hf->fn, skip_bad);
        if (rc == 0) rc = apply_shots(t, shots);
    } else if (for_olmes(data_dir, find_one, &f) == 1 && f.path) {
        t->path = f.path;
        if (shots > 0) olmo_log_warn("task %s: --shots ignored: OLMES request files carry their own shots", name);
        rc = load_requests(t, t->path, skip_bad);
    } else if (olmo_file_exists(name) && !is_dir(name)) {
        t->path = olmo_strdup(name);
        int req = looks_like_requests(name);
        if (req < 0) goto out;
        if (req) rc = load_requests(t, name, skip_bad);
        else {
            rc = load_rows(t, name, NULL, skip_bad);
            if (rc == 0) rc = apply_shots(t, shots);
        }
    } else {
        olmo_err("unknown task '%s': not a task under %s (olmo eval tasks --list) and not a file", name, data_dir);
        goto out;
    }
    if (rc == 0 && t->n == 0) {
        olmo_err("task %s: %s holds no items%s", name, t->path, t->n_skipped ? " (all skipped as bad)" : "");
        rc = -1;
    }
    if (rc == 0 && limit > 0 && limit < t->n) {
        for (int i = limit; i < t->n; i++) free_item(&t->items[i]);
        t->n = limit;
    }
out:
    if (rc) eval_task_free(t);
    return rc;
}
