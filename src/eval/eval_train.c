/* eval_train.c — OLMo's in-loop evaluators over a training checkpoint (see eval_train.h). */
#include "eval/eval_train.h"

#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "eval/eval_model.h"
#include "eval/eval_ppl.h"
#include "eval/eval_tasks.h"
#include "formats/yaml_config.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int add_path(struct eval_train_evaluator *e, const char *path, const char *sub) {
    char **p = olmo_realloc(e->paths, (size_t)(e->n_paths + 1) * sizeof *p);
    if (!p) return -1;
    e->paths = p;
    char **l = olmo_realloc(e->sublabels, (size_t)(e->n_paths + 1) * sizeof *l);
    if (!l) return -1;
    e->sublabels = l;
    p[e->n_paths] = olmo_strdup(path);
    l[e->n_paths] = olmo_strdup(sub);
    e->n_paths++;
    return p[e->n_paths - 1] && l[e->n_paths - 1] ? 0 : -1;
}

static int add_paths(struct eval_train_evaluator *e, const struct ycfg_node *n, const char *key, const char *sub) {
    const char *p;
    if (n->kind == YCFG_LIST) {
        for (size_t i = 0; i < n->n; i++)
            if (ycfg_as_str(n->vals[i], key, &p) < 0 || add_path(e, p, sub) < 0) return -1;
        return 0;
    }
    if (ycfg_as_str(n, key, &p) < 0) return -1;
    return add_path(e, p, sub);
}

static int parse_one(const struct ycfg_node *n, int i, struct eval_train_evaluator *e) {
    char key[96];
    snprintf(key, sizeof key, "evaluators.%d", i);
    if (n->kind != YCFG_MAP) return olmo_err("%s: %s: expected a mapping (label, type, data)", ycfg_where(n), key);
    static const char *const known[] = {"label", "type", "data", "limit", "device_eval_batch_size",
                                        "subset_num_batches", NULL};
    for (size_t k = 0; k < n->n; k++) {
        int ok = 0;
        for (int j = 0; known[j]; j++) ok |= !strcmp(n->keys[k], known[j]);
        if (!ok) return olmo_err("%s: unknown key '%s.%s'", ycfg_where(n->vals[k]), key, n->keys[k]);
    }
    const struct ycfg_node *lab = ycfg_child(n, "label"), *ty = ycfg_child(n, "type"), *data = ycfg_child(n, "data");
    const struct ycfg_node *lim = ycfg_child(n, "limit");
    const char *label, *type = "lm";
    if (!lab) return olmo_err("%s: %s.label is missing", ycfg_where(n), key);
    if (ycfg_as_str(lab, "label", &label) < 0) return -1;
    if (ty && ycfg_as_str(ty, "type", &type) < 0) return -1;
    if (!(e->label = olmo_strdup(label))) return -1;
    if (!strcmp(type, "downstream")) e->downstream = 1;
    else if (strcmp(type, "lm")) return olmo_err("%s: %s.type: '%s' is not lm or downstream", ycfg_where(ty), key, type);
    if (lim) {
        int64_t v;
        if (ycfg_as_int(lim, "limit", &v) < 0) return -1;
        if (v < 0 || v > (1 << 30)) return olmo_err("%s: %s.limit: expected >= 0", ycfg_where(lim), key);
        e->limit = (int)v;
    }
    if (e->downstream) return 0;
    const struct ycfg_node *paths = data ? ycfg_child(data, "paths") : NULL;
    const struct ycfg_node *ds = data ? ycfg_child(data, "datasets") : NULL;
    if (paths && !ycfg_is_null(paths)) {
        if (add_paths(e, paths, "data.paths", label) < 0) return -1;
    }
    if (ds && !ycfg_is_null(ds)) {
        if (ds->kind != YCFG_MAP) return olmo_err("%s: %s.data.datasets: expected label -> paths", ycfg_where(ds), key);
        for (size_t k = 0; k < ds->n; k++)
            if (add_paths(e, ds->vals[k], "data.datasets", ds->keys[k]) < 0) return -1;
    }
    if (!e->n_paths)
        return olmo_err("%s: %s (type lm) names no data.paths or data.datasets", ycfg_where(n), key);
    return 0;
}

int eval_train_parse(const struct ycfg_node *list, struct eval_train_spec *s) {
    memset(s, 0, sizeof *s);
    if (!list || ycfg_is_null(list)) return 0;
    if (list->kind != YCFG_LIST) return olmo_err("%s: evaluators: expected a list", ycfg_where(list));
    s->ev = olmo_calloc(list->n ? list->n : 1, sizeof *s->ev);
    if (!s->ev) return -1;
    for (size_t i = 0; i < list->n; i++) {
        s->n++;
        if (parse_one(list->vals[i], (int)i, &s->ev[i]) < 0) {
            eval_train_spec_free(s);
            return -1;
        }
    }
    return 0;
}

void eval_train_spec_free(struct eval_train_spec *s) {
    for (int i = 0; i < s->n; i++) {
        struct eval_train_evaluator *e = &s->ev[i];
        for (int k = 0; k < e->n_paths; k++) {
            free(e->paths[k]);
            free(e->sublabels[k]);
        }
        free(e->paths);
        free(e->sublabels);
        free(e->label);
    }
    free(s->ev);
    memset(s, 0, sizeof *s);
}

static int is_text(const char *p) {
    static const char *const ext[] = {".txt", ".jsonl", ".jsonl.gz", ".json.gz", ".md"};
    size_t n = strlen(p);
    for (size_t k = 0; k < sizeof ext / sizeof *ext; k++) {
        size_t m = strlen(ext[k]);
        if (n > m && !strcmp(p + n - m, ext[k])) return 1;
    }
    return 0;
}

/* OLMo's in-loop perplexity (spec §6a): the token file cut into seq_len instances (the remainder dropped), the
 * mean over instances of each instance's mean CE over its T − 1 predicted positions. */
static int token_file_ce(struct eval_model *em, const char *path, int T, int width, double *ce, int64_t *ninst) {
    struct olmo_mmap mm;
    if (olmo_mmap_open(&mm, path) != 0) return -1;
    size_t ntok = mm.size / (size_t)width;
    int64_t n = (int64_t)(ntok / (size_t)T);
    int32_t *ids = olmo_malloc((size_t)T * sizeof *ids);
    int rc = 0;
    double sum = 0;
    if (!ids) rc = -1;
    if (rc == 0 && n == 0) rc = olmo_err("%s: %zu tokens: fewer than one instance of %d", path, ntok, T);
    for (int64_t i = 0; i < n && rc == 0; i++) {
        for (int t = 0; t < T; t++) {
            const uint8_t *p = mm.data + ((size_t)i * (size_t)T + (size_t)t) * (size_t)width;
            uint64_t v = 0;
            memcpy(&v, p, (size_t)width);   /* little-endian ids, as OLMo's memmaps */
            if (v >= (uint64_t)em->m.cfg.vocab_size) {
                rc = olmo_err("%s: token %zu is id %llu, outside the model's vocabulary of %d", path,
                              (size_t)i * (size_t)T + (size_t)t, (unsigned long long)v, em->m.cfg.vocab_size);
                break;
            }
            ids[t] = (int32_t)v;
        }
        struct eval_loglik ll;
        if (rc == 0 && eval_score(&em->sc, ids, 1, ids + 1, T - 1, &ll) != 0) rc = olmo_err_prefix("%s: ", path);
        if (rc == 0) sum += -ll.sum / (T - 1);
    }
    free(ids);
    olmo_mmap_close(&mm);
    *ce = n ? sum / (double)n : NAN;
    *ninst = n;
    return rc;
}

static void put(json_t *o, const char *a, const char *b, const char *c, double v) {
    char k[512];
    snprintf(k, sizeof k, "%s%s%s", a, b, c);
    json_object_set_new(o, k, isfinite(v) ? json_real(v) : json_null());
}

int eval_train_run(const struct eval_train_spec *s, const char *ckpt_dir, int64_t step, int64_t tokens,
                   int seq_len, int token_bytes, const char *data_dir, FILE *jsonl) {
    if (!s->n) return 0;
    double t0 = olmo_now();
    struct eval_model em;
    if (eval_model_open(&em, ckpt_dir, 0, seq_len) != 0) return olmo_err_prefix("evaluation at step %lld: ", (long long)step);
    json_t *o = json_object();
    json_object_set_new(o, "step", json_integer(step));
    json_object_set_new(o, "tokens", json_integer(tokens));
    int rc = 0;
    char summary[1024] = "";
    for (int i = 0; i < s->n && rc == 0; i++) {
        const struct eval_train_evaluator *e = &s->ev[i];
        if (e->downstream) {
            struct eval_task t;
            if (eval_task_load(&t, e->label, data_dir, 0, e->limit, 0) != 0 ||
                eval_task_score(&t, &em.sc, em.tok, 0, 0) != 0) {
                rc = -1;
                break;
            }
            static const char *const ms[] = {"acc_raw", "acc_per_token", "acc_per_char", "acc_per_byte", "acc_uncond",
                                             "acc", NULL};
            for (int k = 0; ms[k]; k++) {
                double v, se;
                if (eval_task_metric(&t, ms[k], &v, &se) == 0) {
                    char k2[256];
                    snprintf(k2, sizeof k2, "%s_%s", e->label, ms[k]);
                    put(o, "eval/downstream/", k2, "", v);
                }
            }
            double v, se;
            if (eval_task_metric(&t, t.primary, &v, &se) == 0) {
                size_t L = strlen(summary);
                snprintf(summary + L, sizeof summary - L, " %s %s %.3f", e->label, t.primary, v);
            }
            eval_task_free(&t);
            continue;
        }
        /* lm: each sub-label gets its own figures over its files */
        for (int k = 0; k < e->n_paths && rc == 0; k++) {
            if (k > 0 && !strcmp(e->sublabels[k], e->sublabels[k - 1])) continue;   /* done with the group */
            double nll = 0, ce_sum = 0;
            int64_t ntok = 0, nbytes = 0, ninst = 0;
            int text = 0;
            struct eval_docs docs = {0};
            for (int j = k; j < e->n_paths && !strcmp(e->sublabels[j], e->sublabels[k]) && rc == 0; j++) {
                if (is_text(e->paths[j])) {
                    text = 1;
                    rc = eval_docs_load(&docs, e->paths[j], 0);
                } else {
                    double ce;
                    int64_t n;
                    rc = token_file_ce(&em, e->paths[j], seq_len, token_bytes, &ce, &n);
                    if (rc == 0) { ce_sum += ce * (double)n; ninst += n; }
                }
            }
            if (rc == 0 && docs.n) {
                struct eval_ppl_opts po = {seq_len, 0, em.prefix_token, 0};
                struct eval_ppl_result r;
                if (em.prefix_token < 0) rc = olmo_err("%s: no eos_token_id for the first window", ckpt_dir);
                else if ((rc = eval_ppl_run(&em.sc, em.tok, &docs, &po, &r)) == 0) {
                    nll = r.nll;
                    ntok = r.tokens;
                    nbytes = r.bytes;
                    eval_ppl_result_free(&r);
                }
            }
            eval_docs_free(&docs);
            if (rc) break;
            /* text and token files under one label: the token-weighted mean CE of both kinds */
            double ce = (ntok + ninst) ? (nll + ce_sum) / (double)(ntok + ninst) : NAN;
            if (text && ninst == 0) ce = nll / (double)ntok;
            else if (!text) ce = ce_sum / (double)ninst;
            put(o, "eval/", e->sublabels[k], "/CrossEntropyLoss", ce);
            put(o, "eval/", e->sublabels[k], "/Perplexity", exp(ce));
            if (text) put(o, "eval/", e->sublabels[k], "/bits_per_byte", nll / (log(2.0) * (double)nbytes));
            size_t L = strlen(summary);
            snprintf(summary + L, sizeof summary - L, " %s CE %.4f", e->sublabels[k], ce);
            if (text) {
                L = strlen(summary);
                snprintf(summary + L, sizeof summary - L, " (%.4f bits/byte)", nll / (log(2.0) * (double)nbytes));
            }
        }
    }
    if (rc == 0) {
        json_object_set_new(o, "eval_s", json_real(olmo_now() - t0));
        char *line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(9));
        if (!line || fprintf(jsonl, "%s\n", line) < 0 || fflush(jsonl) != 0) rc = olmo_err("cannot append the evaluation to metrics.jsonl");
        free(line);
        olmo_log_info("eval at step %lld:%s (%.1f s)", (long long)step, summary, olmo_now() - t0);
    } else {
        olmo_err_prefix("evaluation at step %lld: ", (long long)step);
    }
    json_decref(o);
    eval_model_close(&em);
    return rc;
}
