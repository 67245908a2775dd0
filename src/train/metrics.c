/* metrics.c — JSONL metrics, the progress line, the gnuplot loss curve and the FLOP count (see metrics.h). */
#include "train/metrics.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "model/kernels/matmul.h"

#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Keeps the lines of an existing log whose step <= keep_upto (a resumed run rewrites the steps after it). */
static int trim_log(const char *path, int64_t keep_upto) {
    if (keep_upto <= 0 || !olmo_file_exists(path)) return olmo_write_file_atomic(path, "", 0);
    size_t len = 0;
    char *text = olmo_read_file(path, &len);
    if (!text) return -1;
    char *out = olmo_malloc(len + 1);
    if (!out) { free(text); return -1; }
    size_t n = 0;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t err;
        json_t *o = json_loadb(line, ll, 0, &err);
        json_t *st = o ? json_object_get(o, "step") : NULL;
        if (json_is_integer(st) && json_integer_value(st) <= keep_upto) {   /* torn last lines are dropped too */
            memcpy(out + n, line, ll);
            n += ll;
            out[n++] = '\n';
        }
        json_decref(o);
        line += ll + (nl ? 1 : 0);
    }
    int rc = olmo_write_file_atomic(path, out, n);
    free(out);
    free(text);
    return rc;
}

int metrics_open(struct train_metrics *m, const char *folder, int64_t start_step, int64_t total_steps) {
    memset(m, 0, sizeof *m);
    m->start_step = start_step;
    m->total_steps = total_steps;
    m->t_start = olmo_now();
    m->tty = isatty(2);
    int64_t todo = total_steps - start_step;
    m->print_every = todo > 20 ? todo / 20 : 1;
    if (olmo_mkdir_p(folder) != 0) return -1;
    m->jsonl_path = olmo_path_join(folder, "metrics.jsonl");
    if (!m->jsonl_path) return -1;
    if (trim_log(m->jsonl_path, start_step) != 0) goto fail;
    m->jsonl = fopen(m->jsonl_path, "a");
    if (!m->jsonl) {
        olmo_err_errno("cannot open metrics log %s", m->jsonl_path);
        goto fail;
    }
    return 0;
fail:
    free(m->jsonl_path);
    m->jsonl_path = NULL;
    return -1;
}

void metrics_format_duration(double s, char *out, int outlen) {
    if (!(s >= 0) || s > 1e9) { snprintf(out, (size_t)outlen, "?"); return; }
    long t = lround(s);
    if (t >= 3600) snprintf(out, (size_t)outlen, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else if (t >= 60) snprintf(out, (size_t)outlen, "%ldm%02lds", t / 60, t % 60);
    else snprintf(out, (size_t)outlen, "%lds", t);
}

void metrics_newline(struct train_metrics *m) {
    if (m->line_open) fputc('\n', stderr);
    m->line_open = 0;
}

int metrics_log(struct train_metrics *m, const struct metrics_step *s) {
    double loss = s->ce_loss + s->z_loss;
    if (m->jsonl) {
        /* %.9g keeps every float bit of the fp32 values; JSON has no NaN, so non-finite values become null. */
        char buf[128];
#define NUM(x) (isfinite(x) ? (snprintf(buf, sizeof buf, "%.9g", (double)(x)), buf) : "null")
        fprintf(m->jsonl, "{\"step\": %" PRId64 ", \"tokens\": %" PRId64, s->step, s->tokens_seen);
        fprintf(m->jsonl, ", \"loss\": %s", NUM(loss));
        fprintf(m->jsonl, ", \"ce_loss\": %s", NUM(s->ce_loss));
        fprintf(m->jsonl, ", \"z_loss\": %s", NUM(s->z_loss));
        fprintf(m->jsonl, ", \"ppl\": %s", NUM(exp(s->ce_loss)));
        fprintf(m->jsonl, ", \"grad_norm\": %s", NUM(s->grad_norm));
        fprintf(m->jsonl, ", \"lr\": %s", NUM(s->lr));
        fprintf(m->jsonl, ", \"tokens_per_s\": %s", NUM(s->tokens_per_s));
        fprintf(m->jsonl, ", \"mfu\": %s", NUM(s->mfu));
        fprintf(m->jsonl, ", \"step_s\": %s}\n", NUM(s->step_seconds));
#undef NUM
        if (fflush(m->jsonl) != 0) return olmo_err_errno("error writing %s", m->jsonl_path);
    }
    /* The ETA uses a moving average so one slow step (a checkpoint) does not swing it. */
    m->tok_s_ema = m->tok_s_ema > 0 ? 0.8 * m->tok_s_ema + 0.2 * s->tokens_per_s : s->tokens_per_s;
    double step_s = s->tokens_per_s > 0 ? s->step_seconds * s->tokens_per_s / m->tok_s_ema : s->step_seconds;
    char eta[32], el[32];
    metrics_format_duration(step_s * (double)(m->total_steps - s->step), eta, sizeof eta);
    metrics_format_duration(olmo_now() - m->t_start, el, sizeof el);
    int last = s->step == m->total_steps;
    if (olmo_log_level < OLMO_LOG_INFO) return 0;
    if (m->tty) {
        double now = olmo_now();
        if (!last && now - m->last_print < 0.1) return 0;   /* redraw at most 10 times a second */
        m->last_print = now;
        fprintf(stderr, "\rstep %" PRId64 "/%" PRId64 " | loss %.4f | %.0f tok/s | lr %.2e | gnorm %.3f | %s, ETA %s \033[K",
                s->step, m->total_steps, loss, m->tok_s_ema, s->lr, s->grad_norm, el, eta);
        m->line_open = 1;
        if (last) metrics_newline(m);
    } else if (last || (s->step - m->start_step) % m->print_every == 0 || s->step == m->start_step + 1 ||
               olmo_now() - m->last_print > 10) {   /* at least every 10 s when runs stop early (--max-seconds) */
        m->last_print = olmo_now();
        fprintf(stderr, "step %" PRId64 "/%" PRId64 " | loss %.4f | %.0f tok/s | lr %.2e | gnorm %.3f | %s, ETA %s\n",
                s->step, m->total_steps, loss, m->tok_s_ema, s->lr, s->grad_norm, el, eta);
    }
    return 0;
}

void metrics_close(struct train_metrics *m) {
    metrics_newline(m);
    if (m->jsonl) fclose(m->jsonl);
    free(m->jsonl_path);
    memset(m, 0, sizeof *m);
}

int metrics_plot(const char *jsonl_path, const char *png_path, const char *title) {
    /* gnuplot reads plain columns: extract (step, loss) into a temp file first. */
    size_t len = 0;
    char *text = olmo_read_file(jsonl_path, &len);
    if (!text) return -1;
    char *dat = NULL, *tmp_png = NULL, *edat = NULL;
    int rc = 0, points = 0, epoints = 0;
    FILE *efp = NULL;
    size_t n = strlen(png_path) + 32;
    dat = olmo_malloc(n);
    tmp_png = olmo_malloc(n);
    if (!dat || !tmp_png) { rc = -1; goto out; }
    snprintf(dat, n, "%s.dat.%ld", png_path, (long)getpid());
    snprintf(tmp_png, n, "%s.tmp.%ld", png_path, (long)getpid());
    /* evaluation lines (eval/eval_train.h): the mean of their eval/<label>/CrossEntropyLoss, a second curve */
    edat = olmo_malloc(n + 8);
    if (!edat) { rc = -1; goto out; }
    snprintf(edat, n + 8, "%s.eval.%ld", png_path, (long)getpid());
    efp = fopen(edat, "w");
    if (!efp) { rc = olmo_err_errno("cannot create %s", edat); goto out; }
    FILE *fp = fopen(dat, "w");
    if (!fp) { rc = olmo_err_errno("cannot create %s", dat); goto out; }
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        size_t ll = nl ? (size_t)(nl - line) : strlen(line);
        json_error_t err;
        json_t *o = json_loadb(line, ll, 0, &err);
        json_t *st = o ? json_object_get(o, "step") : NULL, *lo = o ? json_object_get(o, "loss") : NULL;
        if (json_is_integer(st) && json_is_number(lo)) {
            fprintf(fp, "%lld %.9g\n", (long long)json_integer_value(st), json_number_value(lo));
            points++;
        } else if (json_is_integer(st)) {
            const char *k;
            json_t *v;
            double sum = 0;
            int cnt = 0;
            json_object_foreach(o, k, v) {
                size_t kl = strlen(k);
                if (!strncmp(k, "eval/", 5) && kl > 17 && !strcmp(k + kl - 17, "/CrossEntropyLoss") && json_is_number(v)) {
                    sum += json_number_value(v);
                    cnt++;
                }
            }
            if (cnt) {
                fprintf(efp, "%lld %.9g\n", (long long)json_integer_value(st), sum / cnt);
                epoints++;
            }
        }
        json_decref(o);
        line += ll + (nl ? 1 : 0);
    }
    fclose(fp);
    fclose(efp);
    efp = NULL;
    if (points == 0) { olmo_log_warn("no loss values in %s: no loss curve drawn", jsonl_path); goto out; }
    FILE *gp = popen("gnuplot 2>/dev/null", "w");
    if (!gp) { olmo_log_warn("gnuplot not available: no loss curve drawn"); goto out; }
    fprintf(gp, "set terminal png size 900,540\nset output '%s'\nset title '%s' noenhanced\n"
                "set xlabel 'step'\nset ylabel 'loss'\nset grid\nset key %s\n"
                "plot '%s' using 1:2 with lines lw 2 title 'train'", tmp_png, title ? title : "training loss",
            epoints ? "top right" : "off", dat);
    if (epoints) fprintf(gp, ", '%s' using 1:2 with linespoints lw 2 pt 7 title 'eval (CE)'", edat);
    fputc('\n', gp);
    int status = pclose(gp);
    if (status != 0 || !olmo_file_exists(tmp_png)) {
        olmo_log_warn("gnuplot failed (status %d, is gnuplot-nox installed?): no loss curve drawn", status);
        unlink(tmp_png);
        goto out;
    }
    if (rename(tmp_png, png_path) != 0) rc = olmo_err_errno("cannot rename %s to %s", tmp_png, png_path);
out:
    if (efp) fclose(efp);
    if (edat) unlink(edat);
    free(edat);
    if (dat) unlink(dat);
    free(dat);
    free(tmp_png);
    free(text);
    return rc;
}

double metrics_flops_per_token(const struct olmo_config *c, int seq_len) {
    double d = c->d_model, hd = c->head_dim > 0 ? c->head_dim : (double)c->d_model / c->n_heads;
    double q = c->n_heads * hd, kv = c->n_kv_heads * hd;
    double attn = d * (q + 2 * kv) + q * d + (c->qk_norm ? q + kv : 0);
    double ff = 3.0 * d * c->d_ff;
    /* the final norm counts by its parameters: none for OLMo-1's non-affine LayerNorm */
    double head = (double)c->vocab_size * d + (c->norm_type != NORM_LAYERNORM_NOAFFINE ? d : 0);
    double per_layer_attn = 12.0 * c->n_heads * hd * seq_len;
    return 6.0 * (c->n_layers * (attn + ff) + head) + c->n_layers * per_layer_attn;
}

double metrics_measure_peak(void) {
    const int n = 512;
    float *a = olmo_aligned_alloc(sizeof(float) * n * n), *b = olmo_aligned_alloc(sizeof(float) * n * n),
          *c = olmo_aligned_alloc(sizeof(float) * n * n);
    double best = 0;
    if (a && b && c) {
        for (int i = 0; i < n * n; i++) a[i] = b[i] = (float)(i % 7) * 0.1f;
        double t_end = olmo_now() + 0.05;
        for (int rep = 0; rep < 8 && (rep < 3 || olmo_now() < t_end); rep++) {
            double t0 = olmo_now();
            mm_f32(c, a, b, n, n, n, 0, 1, 1.0f, 0.0f);
            double dt = olmo_now() - t0;
            if (dt > 0 && 2.0 * n * n * n / dt > best) best = 2.0 * n * n * n / dt;
        }
    }
    free(a);
    free(b);
    free(c);
    return best;
}
