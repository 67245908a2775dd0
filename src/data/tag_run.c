/* tag_run.c — the tagging runtime (see tag_run.h): resolve taggers, expand globs into (glob, file) pairs,
 * hand files to worker threads through an atomic counter, and for each document run every tagger on one
 * shared tag_text (the text is split once) and write one attribute line per experiment. */
#include "data/tag_run.h"

#include "base/error.h"
#include "base/log.h"
#include "base/mem.h"

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int tag_resolve(const char *const *names, size_t n, const struct tagger **out) {
    for (size_t i = 0; i < n; i++) {
        out[i] = tagger_find(names[i]);
        if (!out[i]) {
            char known[2048] = "";
            for (const struct tagger *t = tagger_table; t->name; t++) {
                if (strlen(known) + strlen(t->name) + 3 >= sizeof known) break;
                strcat(known, known[0] ? ", " : "");
                strcat(known, t->name);
            }
            return olmo_err("--taggers: unknown tagger '%s' (known: %s)", names[i], known);
        }
        if (out[i]->setup && out[i]->setup() != 0) return olmo_err_prefix("setting up tagger %s: ", names[i]);
    }
    return 0;
}

char *tag_variable_name(const char *name) {
    if (name[0] >= '0' && name[0] <= '9')
        return olmo_err("name '%s': expected a name not starting with a digit (Dolma makes it a variable name)", name),
               NULL;
    char *s = olmo_strdup(name);
    if (!s) return NULL;
    for (char *p = s; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_')) *p = '_';
    return s;
}

/* Writes a type name made a variable name (types are ours and nearly always clean: one put then). */
static int put_type(struct docs_buf *b, const char *type) {
    size_t n = 0;
    for (const char *p = type; *p; p++, n++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) break;
    }
    if (!type[n]) return docs_buf_put(b, type, n);
    for (const char *p = type; *p; p++) {
        char c = *p;
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) c = '_';
        if (docs_buf_put(b, &c, 1)) return -1;
    }
    return 0;
}

static int put_uint(struct docs_buf *b, size_t v) {
    char s[24];
    int n = 24;
    do s[--n] = (char)('0' + v % 10); while ((v /= 10));
    return docs_buf_put(b, s + n, (size_t)(24 - n));
}

/* A score as Dolma writes it: round(float(score), 5), then Python's float repr. Whole numbers (counts) print
 * as "N.0"; values in [1e-4, 1e9) through %.5f with the zeros trimmed, which is the rounded value's shortest
 * round-trip form there (glibc rounds the exact binary value, as CPython's round() does); the rest through
 * docs_round5 + docs_buf_py_float. */
static int put_score(struct docs_buf *b, double x) {
    double ax = x < 0 ? -x : x;
    if (ax < 1e15 && x == (double)(long long)x && !(x == 0 && signbit(x))) {
        if (x < 0 && docs_buf_put(b, "-", 1)) return -1;
        return put_uint(b, (size_t)(long long)ax) || docs_buf_put(b, ".0", 2);
    }
    if (ax >= 1e-4 && ax < 1e9) {
        char s[48];
        int n = snprintf(s, sizeof s, "%.5f", x);
        while (n > 2 && s[n - 1] == '0' && s[n - 2] != '.') n--;
        return docs_buf_put(b, s, (size_t)n);
    }
    return docs_buf_py_float(b, docs_round5(x));
}

int tag_format_line(struct docs_buf *b, const struct docs_doc *d, struct tag_text *t, const char *const *prefix,
                    const struct tag_result *results, size_t n) {
    int rc = docs_buf_puts(b, "{\"id\":");
    rc |= docs_buf_json_string(b, d ? d->id : "", d ? strlen(d->id) : 0);
    rc |= docs_buf_puts(b, ",\"attributes\":{");
    int first_key = 1;
    for (size_t k = 0; k < n; k++) {
        const struct tag_result *r = &results[k];
        /* group by type in order of first appearance (Dolma's dict.setdefault) */
        for (size_t i = 0; i < r->n; i++) {
            const char *type = r->v[i].type;
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++) seen = r->v[j].type == type || !strcmp(r->v[j].type, type);
            if (seen) continue;
            rc |= docs_buf_puts(b, first_key ? "\"" : ",\"");
            first_key = 0;
            rc |= docs_buf_puts(b, prefix[k]);
            rc |= put_type(b, type);
            rc |= docs_buf_puts(b, "\":[");
            int first_span = 1;
            for (size_t j = i; j < r->n; j++) {
                if (r->v[j].type != type && strcmp(r->v[j].type, type)) continue;
                rc |= docs_buf_puts(b, first_span ? "[" : ",[");
                first_span = 0;
                rc |= put_uint(b, tag_text_cp(t, r->v[j].start));
                rc |= docs_buf_put(b, ",", 1);
                rc |= put_uint(b, tag_text_cp(t, r->v[j].end));
                rc |= docs_buf_put(b, ",", 1);
                rc |= put_score(b, r->v[j].score);
                rc |= docs_buf_put(b, "]", 1);
            }
            rc |= docs_buf_put(b, "]", 1);
        }
    }
    rc |= docs_buf_puts(b, "},\"source\":");
    const char *src = d && d->source ? d->source : "";
    rc |= docs_buf_json_string(b, src, strlen(src));
    rc |= docs_buf_put(b, "}", 1);
    return rc ? -1 : 0;
}

/* ---------------------------------------------------------------- the run */

struct tag_group {               /* one experiment: an output file per input file */
    char *name;                  /* directory name under attributes/ */
    size_t first, count;         /* taggers [first, first + count) of the resolved list */
};

struct tag_shared {
    const struct tag_opts *o;
    const struct tagger *taggers[TAG_MAX_TAGGERS];
    char *prefix[TAG_MAX_TAGGERS];
    struct tag_group groups[TAG_MAX_TAGGERS];
    size_t ngroups;
    char **files, **file_globs;  /* my share */
    size_t nfiles;
    atomic_size_t next;
    atomic_int failed;
    pthread_mutex_t lock;
    char error[OLMO_ERR_MSG_MAX];
    struct tag_stats total;
};

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int tag_file(struct tag_shared *sh, size_t fi, struct tag_text *t, struct tag_result *res, struct docs_buf *b,
                    struct tag_stats *st) {
    const struct tag_opts *o = sh->o;
    const char *file = sh->files[fi];
    struct docs_writer *w[TAG_MAX_TAGGERS] = {0};
    struct docs_reader *r = NULL;
    struct docs_doc d = {0};
    int rc = -1;
    for (size_t g = 0; g < sh->ngroups; g++) {
        char *out = docs_attributes_path(sh->file_globs[fi], file, sh->groups[g].name, o->destination);
        if (!out) goto done;
        if (!strcmp(out, file)) {
            olmo_err("%s: the attributes path equals the documents path", file);
            free(out);
            goto done;
        }
        w[g] = docs_writer_open_fast(out);
        free(out);
        if (!w[g]) goto done;
    }
    r = docs_reader_open(file);
    if (!r) goto done;
    docs_reader_set_skip(r, o->skip_bad);
    int got;
    while ((got = docs_reader_next(r, &d)) > 0) {
        if (tag_text_reset(t, d.text, d.text_len) != 0) {
            olmo_err_prefix("%s:%ld: ", file, d.line);
            goto done;
        }
        t->doc = &d;
        for (size_t k = 0; k < sh->o->ntaggers; k++) {
            tag_result_clear(&res[k]);
            double t0 = now_s();
            if (sh->taggers[k]->predict(sh->taggers[k], t, &res[k]) != 0) {
                olmo_err_prefix("%s:%ld: tagger %s: ", file, d.line, sh->taggers[k]->name);
                goto done;
            }
            st->seconds[k] += now_s() - t0;
        }
        for (size_t g = 0; g < sh->ngroups; g++) {
            b->len = 0;
            const struct tag_group *gr = &sh->groups[g];
            if (tag_format_line(b, &d, t, (const char *const *)sh->prefix + gr->first, res + gr->first, gr->count) ||
                docs_writer_line(w[g], b->data, b->len))
                goto done;
        }
        st->docs++;
        st->text_bytes += (double)d.text_len;
    }
    if (got < 0) goto done;
    st->skipped += r->skipped;
    if (r->skipped) olmo_log_warn("%s: skipped %ld bad lines", file, r->skipped);
    for (size_t g = 0; g < sh->ngroups; g++) {
        int c = docs_writer_commit(w[g]);
        w[g] = NULL;
        if (c) goto done;
    }
    st->files++;
    rc = 0;
done:
    for (size_t g = 0; g < sh->ngroups; g++) docs_writer_abort(w[g]);
    docs_doc_clear(&d);
    docs_reader_close(r);
    return rc;
}

static void *tag_worker(void *arg) {
    struct tag_shared *sh = arg;
    struct tag_text t = {0};
    struct tag_result res[TAG_MAX_TAGGERS] = {{0}};
    struct docs_buf b = {0};
    struct tag_stats st = {0};
    for (;;) {
        if (atomic_load(&sh->failed)) break;
        size_t fi = atomic_fetch_add(&sh->next, 1);
        if (fi >= sh->nfiles) break;
        if (tag_file(sh, fi, &t, res, &b, &st) != 0) {
            pthread_mutex_lock(&sh->lock);
            if (!atomic_load(&sh->failed)) snprintf(sh->error, sizeof sh->error, "%s", olmo_errmsg());
            atomic_store(&sh->failed, 1);
            pthread_mutex_unlock(&sh->lock);
            break;
        }
    }
    pthread_mutex_lock(&sh->lock);
    sh->total.files += st.files;
    sh->total.docs += st.docs;
    sh->total.skipped += st.skipped;
    sh->total.text_bytes += st.text_bytes;
    for (size_t k = 0; k < TAG_MAX_TAGGERS; k++) sh->total.seconds[k] += st.seconds[k];
    pthread_mutex_unlock(&sh->lock);
    tag_text_free(&t);
    for (size_t k = 0; k < TAG_MAX_TAGGERS; k++) tag_result_free(&res[k]);
    docs_buf_free(&b);
    return NULL;
}

int tag_run(const char *const *globs, size_t nglobs, const struct tag_opts *o, struct tag_stats *st) {
    memset(st, 0, sizeof *st);
    if (o->ntaggers == 0) return olmo_err("--taggers: expected at least one tagger name");
    if (o->ntaggers > TAG_MAX_TAGGERS) return olmo_err("--taggers: at most %d taggers", TAG_MAX_TAGGERS);
    struct tag_shared *sh = olmo_calloc(1, sizeof *sh);
    if (!sh) return -1;
    sh->o = o;
    int rc = -1;
    pthread_mutex_init(&sh->lock, NULL);
    if (tag_resolve(o->taggers, o->ntaggers, sh->taggers) != 0) goto out;
    char *exp_var = NULL;
    if (o->experiment && !(exp_var = tag_variable_name(o->experiment))) goto out;
    for (size_t k = 0; k < o->ntaggers; k++) {
        char *tv = tag_variable_name(o->taggers[k]);
        if (!tv) { free(exp_var); goto out; }
        const char *e = exp_var ? exp_var : tv;
        size_t n = strlen(e) + strlen(tv) + 5;
        sh->prefix[k] = olmo_malloc(n);
        if (!sh->prefix[k]) { free(tv); free(exp_var); goto out; }
        snprintf(sh->prefix[k], n, "%s__%s__", e, tv);
        free(tv);
        if (!o->experiment) sh->groups[sh->ngroups++] = (struct tag_group){olmo_strdup(o->taggers[k]), k, 1};
    }
    free(exp_var);
    if (o->experiment) sh->groups[sh->ngroups++] = (struct tag_group){olmo_strdup(o->experiment), 0, o->ntaggers};
    /* expand the globs, keep my share of the files */
    size_t cap = 0, seen = 0;
    for (size_t g = 0; g < nglobs; g++) {
        size_t n;
        char **v = docs_glob(globs[g], &n);
        if (!v) goto out;
        for (size_t i = 0; i < n; i++, seen++) {
            if ((int)(seen % (size_t)(o->world > 0 ? o->world : 1)) != o->rank) continue;
            if (sh->nfiles + 1 >= cap) {
                cap = cap ? 2 * cap : 64;
                char **nf = olmo_realloc(sh->files, cap * sizeof *nf), **ng = nf ? olmo_realloc(sh->file_globs, cap * sizeof *ng) : NULL;
                if (nf) sh->files = nf;
                if (!nf || !ng) { docs_paths_free(v); goto out; }
                sh->file_globs = ng;
            }
            sh->files[sh->nfiles] = olmo_strdup(v[i]);
            sh->file_globs[sh->nfiles++] = (char *)globs[g];
        }
        docs_paths_free(v);
    }
    int nthreads = o->processes > 0 ? o->processes : 1;
    if ((size_t)nthreads > sh->nfiles) nthreads = sh->nfiles ? (int)sh->nfiles : 1;
    pthread_t th[256];
    if (nthreads > 256) nthreads = 256;
    int started = 0;
    for (int i = 1; i < nthreads; i++, started++)
        if (pthread_create(&th[i], NULL, tag_worker, sh) != 0) break;
    tag_worker(sh);
    for (int i = 1; i <= started; i++) pthread_join(th[i], NULL);
    if (atomic_load(&sh->failed)) {
        olmo_err("%s", sh->error);
        goto out;
    }
    *st = sh->total;
    rc = 0;
out:
    for (size_t i = 0; i < sh->nfiles; i++) free(sh->files[i]);
    free(sh->files);
    free(sh->file_globs);
    for (size_t k = 0; k < TAG_MAX_TAGGERS; k++) free(sh->prefix[k]);
    for (size_t g = 0; g < sh->ngroups; g++) free(sh->groups[g].name);
    pthread_mutex_destroy(&sh->lock);
    free(sh);
    return rc;
}
