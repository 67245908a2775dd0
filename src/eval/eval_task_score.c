/* eval_task_score.c — scoring task items, OLMES normalisations, metrics with standard errors, table and JSON
 * (see eval_tasks.h). */
#include "eval/eval_tasks.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const eval_norm_names[EVAL_N_NORMS] = {"acc_raw", "acc_per_token", "acc_per_char", "acc_per_byte",
                                                   "acc_uncond"};

/* Characters (UTF-8 code points) and bytes of a continuation without its leading space: OLMo's len_norm and
 * bpb count the answer's own text (spec §6c). */
static void cont_len(const char *s, int *chars, int *bytes) {
    if (*s == ' ') s++;
    int c = 0, b = 0;
    for (; *s; s++, b++)
        if (((unsigned char)*s & 0xC0) != 0x80) c++;
    *chars = c;
    *bytes = b;
}

static int encode(const struct olmo_tokenizer *tok, const char *s, int32_t **ids, int *n) {
    size_t nn = 0;
    *ids = NULL;
    if (tok_encode(tok, s, strlen(s), 0, ids, &nn) != 0) return -1;
    *n = (int)nn;
    return 0;
}

static int score_one(struct eval_scorer *sc, const struct olmo_tokenizer *tok, const char *ctx, const char *cont,
                     struct eval_loglik *ll) {
    int32_t *a = NULL, *b = NULL;
    int na = 0, nb = 0, rc = -1;
    if (encode(tok, ctx, &a, &na) == 0 && encode(tok, cont, &b, &nb) == 0) {
        if (na == 0) olmo_err("the context encodes to no tokens");
        else if (nb == 0) olmo_err("the continuation encodes to no tokens");
        else rc = eval_score(sc, a, na, b, nb, ll);
    }
    free(a);
    free(b);
    return rc;
}

static int argmax_norm(const struct eval_item *it, enum eval_norm k) {
    int best = -1;
    double bv = -INFINITY;
    for (int c = 0; c < it->n; c++) {
        double v;
        switch (k) {
        case EVAL_RAW: v = it->ll[c]; break;
        case EVAL_PER_TOKEN: v = it->ll[c] / it->ntok[c]; break;
        case EVAL_PER_CHAR: v = it->ll[c] / (it->nchars[c] ? it->nchars[c] : 1); break;
        case EVAL_PER_BYTE: v = it->ll[c] / (it->nbytes[c] ? it->nbytes[c] : 1); break;
        case EVAL_UNCOND:
            if (!it->ll_uncond) return -1;
            v = it->ll[c] - it->ll_uncond[c];   /* PMI: log p(cont|ctx) − log p(cont|"Answer:") */
            break;
        default: return -1;
        }
        if (best < 0 || v > bv) { best = c; bv = v; }   /* first maximum, as numpy's argmax */
    }
    return best;
}

void eval_item_predict(struct eval_item *it) {
    for (int k = 0; k < EVAL_N_NORMS; k++) it->pred[k] = argmax_norm(it, (enum eval_norm)k);
}

static int alloc_results(struct eval_item *it) {
    size_t n = (size_t)it->n;
    it->ll = olmo_calloc(n, sizeof *it->ll);
    it->ntok = olmo_calloc(n, sizeof *it->ntok);
    it->nchars = olmo_calloc(n, sizeof *it->nchars);
    it->nbytes = olmo_calloc(n, sizeof *it->nbytes);
    it->greedy = olmo_calloc(n, sizeof *it->greedy);
    if (it->uctx) it->ll_uncond = olmo_calloc(n, sizeof *it->ll_uncond);
    return it->ll && it->ntok && it->nchars && it->nbytes && it->greedy && (!it->uctx || it->ll_uncond) ? 0 : -1;
}

int eval_task_score(struct eval_task *t, struct eval_scorer *sc, const struct olmo_tokenizer *tok, int skip_bad,
                    int progress) {
    double t0 = olmo_now();
    int64_t pos0 = sc->n_positions, trunc0 = sc->n_truncated;
    /* Two passes: every item's own requests, then every unconditional one. Consecutive queries then share the
     * longest prefixes — the choices of an item share its context, 5-shot items share the few-shot prefix, and the
     * unconditional requests share "Answer:" — where interleaving would evict the few-shot prefix at every item. */
    for (int pass = 0; pass < 2; pass++) {
        for (int i = 0; i < t->n; i++) {
            struct eval_item *it = &t->items[i];
            if (it->skipped || (pass == 1 && !it->uctx)) continue;
            if (pass == 0 && alloc_results(it) < 0) return -1;
            int bad = 0;
            for (int c = 0; c < it->n && !bad; c++) {
                struct eval_loglik ll;
                if (score_one(sc, tok, pass ? it->uctx[c] : it->ctx[c], it->cont[c], &ll) < 0) { bad = 1; break; }
                if (pass) {
                    it->ll_uncond[c] = ll.sum;
                    continue;
                }
                it->ll[c] = ll.sum;
                it->ntok[c] = ll.n_tokens;
                it->greedy[c] = ll.greedy;
                cont_len(it->cont[c], &it->nchars[c], &it->nbytes[c]);
            }
            if (bad) {
                olmo_err_prefix("%s: item %s: ", it->where, it->doc_id);
                if (!skip_bad) return -1;
                olmo_log_warn("skipped: %s", olmo_errmsg());
                it->skipped = 1;
                t->n_skipped++;
                continue;
            }
            if (progress && (i % 16 == 15 || i + 1 == t->n))
                fprintf(stderr, "\r[eval %s] %s %d/%d items, %.1f s", t->name, pass ? "unconditional" : "scored", i + 1,
                        t->n, olmo_now() - t0);
        }
    }
    for (int i = 0; i < t->n; i++)
        if (!t->items[i].skipped) eval_item_predict(&t->items[i]);
    if (progress) fputc('\n', stderr);
    t->seconds = olmo_now() - t0;
    t->positions = sc->n_positions - pos0;
    t->n_truncated = (int)(sc->n_truncated - trunc0);
    if (t->n_truncated)
        olmo_log_warn("task %s: %d queries were longer than the %d-token context and were left-truncated (as OLMo "
                      "does)", t->name, t->n_truncated, sc->max_len);
    return 0;
}

/* Mean and standard error (sample std / sqrt(n)) of per-item values v[i] over scored items. */
static int mean_se(const struct eval_task *t, double (*f)(const struct eval_item *, void *), void *arg, double *m,
                   double *se) {
    double s = 0, s2 = 0;
    int n = 0;
    for (int i = 0; i < t->n; i++) {
        if (t->items[i].skipped) continue;
        double v = f(&t->items[i], arg);
        if (isnan(v)) return -1;
        s += v;
        s2 += v * v;
        n++;
    }
    if (n == 0) return -1;
    *m = s / n;
    double var = n > 1 ? (s2 - s * s / n) / (n - 1) : 0;
    *se = sqrt(var > 0 ? var / n : 0);
    return 0;
}

static double f_acc(const struct eval_item *it, void *arg) {
    int k = *(int *)arg;
    return it->pred[k] < 0 ? NAN : it->pred[k] == it->label;
}
static double f_greedy(const struct eval_item *it, void *arg) { return it->greedy[it->label]; }
static double f_bpb(const struct eval_item *it, void *arg) {
    /* OLMo's bpb: −Σ log p(gold) / bytes of the gold answer · log2(e), averaged over items */
    return -it->ll[it->label] / (it->nbytes[it->label] ? it->nbytes[it->label] : 1) / log(2.0);
}
static double f_nll_tok(const struct eval_item *it, void *arg) { return -it->ll[it->label] / it->ntok[it->label]; }

/* Mean over groups of the per-group accuracy of normalisation k (OLMES's MMLU average over subjects). */
static int macro_acc(const struct eval_task *t, int k, double *value) {
    double sum = 0;
    int groups = 0;
    for (int i = 0; i < t->n; i++) {
        const struct eval_item *it = &t->items[i];
        if (it->skipped || !it->group) continue;
        int first = 1;   /* count each group once, at its first item */
        for (int j = 0; j < i && first; j++)
            if (!t->items[j].skipped && t->items[j].group && !strcmp(t->items[j].group, it->group)) first = 0;
        if (!first) continue;
        int n = 0, right = 0;
        for (int j = i; j < t->n; j++) {
            const struct eval_item *o = &t->items[j];
            if (o->skipped || !o->group || strcmp(o->group, it->group)) continue;
            if (o->pred[k] < 0) return -1;
            n++;
            right += o->pred[k] == o->label;
        }
        sum += (double)right / n;
        groups++;
    }
    if (!groups) return -1;
    *value = sum / groups;
    return 0;
}

int eval_task_metric(const struct eval_task *t, const char *metric, double *value, double *se) {
    size_t ml = strlen(metric);
    if (ml > 6 && !strcmp(metric + ml - 6, "_macro")) {
        for (int k = 0; k < EVAL_N_NORMS; k++)
            if (strlen(eval_norm_names[k]) == ml - 6 && !strncmp(metric, eval_norm_names[k], ml - 6)) {
                *se = NAN;
                return macro_acc(t, k, value);
            }
        return -1;
    }
    if (t->kind == EVAL_TASK_GREEDY) {
        if (!strcmp(metric, "acc")) return mean_se(t, f_greedy, NULL, value, se);
        if (!strcmp(metric, "ppl")) {
            /* exp of the mean per-item NLL of the target (lm-eval's LAMBADA perplexity) */
            double nsum = 0;
            int n = 0;
            for (int i = 0; i < t->n; i++)
                if (!t->items[i].skipped) { nsum += -t->items[i].ll[0]; n++; }
            if (!n) return -1;
            *value = exp(nsum / n);
            *se = NAN;
            return 0;
        }
        if (!strcmp(metric, "bits_per_byte")) return mean_se(t, f_bpb, NULL, value, se);
        return -1;
    }
    for (int k = 0; k < EVAL_N_NORMS; k++)
        if (!strcmp(metric, eval_norm_names[k])) return mean_se(t, f_acc, &k, value, se);
    if (!strcmp(metric, "bits_per_byte")) return mean_se(t, f_bpb, NULL, value, se);
    if (!strcmp(metric, "nll_per_token")) return mean_se(t, f_nll_tok, NULL, value, se);
    return -1;
}

static const char *const mc_metrics[] = {"acc_raw", "acc_per_token", "acc_per_char", "acc_per_byte", "acc_uncond",
                                         "bits_per_byte", "acc_raw_macro", "acc_per_char_macro", "acc_uncond_macro",
                                         NULL};
static const char *const greedy_metrics[] = {"acc", "ppl", "bits_per_byte", NULL};

static const char *const *metrics_of(const struct eval_task *t) {
    return t->kind == EVAL_TASK_GREEDY ? greedy_metrics : mc_metrics;
}

static int scored_items(const struct eval_task *t) {
    int n = 0;
    for (int i = 0; i < t->n; i++) n += !t->items[i].skipped;
    return n;
}

void eval_tasks_print(const struct eval_task *t, int n, FILE *out) {
    fprintf(out, "%-28s %-15s %6s %8s %8s\n", "task", "metric", "n", "score", "stderr");
    for (int i = 0; i < n; i++) {
        const char *const *ms = metrics_of(&t[i]);
        double v, se;
        /* the primary first, marked with '*' */
        if (eval_task_metric(&t[i], t[i].primary, &v, &se) == 0)
            fprintf(out, "%-28s %-15s %6d %8.4f %8.4f *\n", t[i].name, t[i].primary, scored_items(&t[i]), v, se);
        for (int k = 0; ms[k]; k++) {
            if (!strcmp(ms[k], t[i].primary) || eval_task_metric(&t[i], ms[k], &v, &se) != 0) continue;
            if (isnan(se)) fprintf(out, "%-28s %-15s %6d %8.4f %8s\n", "", ms[k], scored_items(&t[i]), v, "-");
            else fprintf(out, "%-28s %-15s %6d %8.4f %8.4f\n", "", ms[k], scored_items(&t[i]), v, se);
        }
        if (t[i].n_skipped) fprintf(out, "%-28s skipped as bad input (--skip-bad): %d\n", "", t[i].n_skipped);
    }
    fprintf(out, "* = the task's primary metric (OLMES config.json, or OLMo's in-loop choice)\n");
}

static json_t *jnum(double x) { return isfinite(x) ? json_real(x) : json_null(); }

char *eval_tasks_json(const struct eval_task *t, int n, const char *model, int with_items) {
    json_t *root = json_object(), *tasks = json_array();
    json_object_set_new(root, "model", json_string(model ? model : ""));
    for (int i = 0; i < n; i++) {
        const struct eval_task *tk = &t[i];
        json_t *o = json_object(), *m = json_object(), *se = json_object();
        json_object_set_new(o, "task", json_string(tk->name));
        json_object_set_new(o, "path", json_string(tk->path ? tk->path : ""));
        json_object_set_new(o, "n", json_integer(scored_items(tk)));
        json_object_set_new(o, "primary", json_string(tk->primary));
        json_object_set_new(o, "kind", json_string(tk->kind == EVAL_TASK_GREEDY ? "greedy" : "multiple_choice"));
        json_object_set_new(o, "shots", json_integer(tk->shots));
        json_object_set_new(o, "skipped", json_integer(tk->n_skipped));
        json_object_set_new(o, "truncated", json_integer(tk->n_truncated));
        json_object_set_new(o, "seconds", jnum(tk->seconds));
        json_object_set_new(o, "positions", json_integer(tk->positions));
        const char *const *ms = metrics_of(tk);
        for (int k = 0; ms[k]; k++) {
            double v, s;
            if (eval_task_metric(tk, ms[k], &v, &s) != 0) continue;
            json_object_set_new(m, ms[k], jnum(v));
            json_object_set_new(se, ms[k], jnum(s));
        }
        json_object_set_new(o, "metrics", m);
        json_object_set_new(o, "stderr", se);
        if (with_items) {
            json_t *items = json_array();
            for (int j = 0; j < tk->n; j++) {
                const struct eval_item *it = &tk->items[j];
                json_t *io = json_object();
                json_object_set_new(io, "doc_id", json_string(it->doc_id));
                json_object_set_new(io, "label", json_integer(it->label));
                if (it->skipped) {
                    json_object_set_new(io, "skipped", json_true());
                    json_array_append_new(items, io);
                    continue;
                }
                int pk = EVAL_RAW;
                for (int k = 0; k < EVAL_N_NORMS; k++)
                    if (!strcmp(tk->primary, eval_norm_names[k])) pk = k;
                json_object_set_new(io, "pred", json_integer(tk->kind == EVAL_TASK_GREEDY ? it->greedy[0] ? 0 : -1
                                                                                           : it->pred[pk]));
                json_t *ll = json_array(), *nt = json_array(), *nc = json_array(), *nb = json_array();
                json_t *lu = it->ll_uncond ? json_array() : NULL, *pr = json_object();
                for (int c = 0; c < it->n; c++) {
                    json_array_append_new(ll, json_real(it->ll[c]));
                    json_array_append_new(nt, json_integer(it->ntok[c]));
                    json_array_append_new(nc, json_integer(it->nchars[c]));
                    json_array_append_new(nb, json_integer(it->nbytes[c]));
                    if (lu) json_array_append_new(lu, json_real(it->ll_uncond[c]));
                }
                for (int k = 0; k < EVAL_N_NORMS && tk->kind == EVAL_TASK_MC; k++)
                    if (it->pred[k] >= 0) json_object_set_new(pr, eval_norm_names[k], json_integer(it->pred[k]));
                json_object_set_new(io, "logliks", ll);
                json_object_set_new(io, "tokens", nt);
                json_object_set_new(io, "chars", nc);
                json_object_set_new(io, "bytes", nb);
                if (lu) json_object_set_new(io, "logliks_uncond", lu);
                if (tk->kind == EVAL_TASK_GREEDY) json_object_set_new(io, "greedy_match", json_boolean(it->greedy[0]));
                json_object_set_new(io, "preds", pr);
                json_array_append_new(items, io);
            }
            json_object_set_new(o, "items", items);
        }
        json_array_append_new(tasks, o);
    }
    json_object_set_new(root, "tasks", tasks);
    char *txt = json_dumps(root, JSON_INDENT(1) | JSON_REAL_PRECISION(12));
    json_decref(root);
    if (!txt) olmo_err("eval tasks: out of memory writing JSON");
    return txt;
}
