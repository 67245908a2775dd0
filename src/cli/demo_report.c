/* demo_report.c — OUT/report.md: what each step of the main job did and every figure it produced, read back from
 * the files the steps wrote (metrics.jsonl, the --json outputs), so the report shows what a user would find there. */
#include "cli/demo.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static json_t *load(const char *out, const char *rel) {
    char p[4096];
    snprintf(p, sizeof p, "%s/%s", out, rel);
    json_error_t e;
    json_t *j = json_load_file(p, 0, &e);
    if (!j) olmo_log_warn("%s:%d: %s (left out of the report)", p, e.line, e.text);
    return j;
}

static double num(json_t *o, const char *key) {
    json_t *v = json_object_get(o, key);
    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* Markdown table cells: no '|' or newline inside. */
static void cell(FILE *f, const char *s, size_t max) {
    size_t n = 0;
    for (const char *p = s; *p && n < max; p++, n++) {
        if (*p == '|') fputs("\\|", f);
        else if (*p == '\n' || *p == '\r' || *p == '\t') fputc(' ', f);
        else fputc(*p, f);
    }
    if (s[n]) fputs("…", f);
}

static void section_steps(FILE *f, const struct demo_results *r, double *cpu_total, double *joules_total) {
    fprintf(f, "## Steps\n\nEach step is an `olmo` command (all of them, in order: `commands.sh`).\n\n"
               "| step | command | wall s | CPU s |\n|---|---|---:|---:|\n");
    *cpu_total = 0;
    *joules_total = 0;
    for (int i = 0; i < r->steps.n; i++) {
        const struct demo_step *s = &r->steps.step[i];
        if (!s->done) continue;   /* the report itself, being written */
        fprintf(f, "| %s | ", s->name);
        if (s->cmdline) {
            fputc('`', f);
            cell(f, s->cmdline, 160);
            fputc('`', f);
        } else {
            fputs("(inside `olmo demo`)", f);
        }
        fprintf(f, " | %.1f | %.1f |\n", s->wall_s, s->cpu_s);
        *cpu_total += s->cpu_s;
        *joules_total = (*joules_total >= 0 && s->joules >= 0) ? *joules_total + s->joules : -1;
    }
    fputc('\n', f);
}

static void section_corpus(FILE *f, const struct demo_results *r) {
    fprintf(f, "## 1. Corpus\n\nText that Debian packages ship, one Dolma source per package "
               "(`documents/<source>/0000.jsonl.gz`); one document in %d by a hash of its id is held out "
               "(`heldout/`) and never trained on.\n\n"
               "| source | package | documents | MB | held-out documents |\n|---|---|---:|---:|---:|\n",
            r->opts->quick ? 8 : 40);
    for (size_t i = 0; i < r->n_src; i++) {
        const struct demo_source_stats *s = &r->src[i];
        if (s->present)
            fprintf(f, "| %s | %s | %zu | %.2f | %zu |\n", s->name, s->package, s->docs, (double)s->bytes / 1e6,
                    s->held_docs);
        else
            fprintf(f, "| %s | %s | not installed | | |\n", s->name, s->package);
    }
    fputc('\n', f);
}

/* What curation kept, per source: `olmo data stats --json` before and after. */
static void section_curation(FILE *f, const struct demo_results *r) {
    const char *out = r->opts->out;
    fprintf(f, "## 2-5. Curation (`olmo data tag`, `dedup`, `mix`, `stats`)\n\n"
               "Taggers `gopher_v1, pii_regex_v2, cld2_en_doc_v2, char_length_v1`; duplicate paragraphs found with "
               "one Bloom filter (`configs/dedup.json`) and removed; documents dropped by the filters of "
               "`configs/mix.json` (fewer than 10 words, under half alphabetic words, symbol ratio over 0.1, over "
               "30 %% duplicate lines, not English by cld2); e-mail addresses, phone numbers and IP addresses "
               "replaced by ` |||EMAIL_ADDRESS||| ` etc.\n\n");
    json_t *in = load(out, "curation/stats-in.json"), *mixed = load(out, "curation/stats-out.json");
    json_t *si = json_object_get(in, "sources"), *so = json_object_get(mixed, "sources");
    if (json_is_object(si) && json_is_object(so)) {
        fprintf(f, "| source | documents in | out | removed | characters in | out | removed |\n"
                   "|---|---:|---:|---:|---:|---:|---:|\n");
        const char *name;
        json_t *a;
        json_object_foreach(si, name, a) {
            json_t *b = json_object_get(so, name);
            double di = num(a, "documents"), dout = b ? num(b, "documents") : 0;
            double ci = num(a, "characters"), cout = b ? num(b, "characters") : 0;
            fprintf(f, "| %s | %.0f | %.0f | %.1f %% | %.0f | %.0f | %.1f %% |\n", name, di, dout,
                    di > 0 ? 100 * (1 - dout / di) : 0, ci, cout, ci > 0 ? 100 * (1 - cout / ci) : 0);
        }
        fputc('\n', f);
    } else {
        fprintf(f, "(curation/stats-*.json: no per-source table found)\n\n");
    }
    json_decref(in);
    json_decref(mixed);
}

/* Training figures from the run's metrics.jsonl: first and last loss, tokens, speed, in-loop evaluations. */
static void section_training(FILE *f, const struct demo_results *r) {
    const struct demo_size *z = &r->size;
    fprintf(f, "## 6-8. Tokenizer, tokens, training\n\n"
               "- Tokenizer: byte-level BPE, %d ids, trained on the curated text (`tokenizer.json`).\n"
               "- Model: OLMo-2, d_model %d, %d layers, %d heads, context %d; batch %d x %d tokens, %s; "
               "config `configs/train.yaml` (OLMo's keys).\n",
            z->vocab, z->d_model, z->n_layers, z->n_heads, z->seq, z->batch, z->seq, z->precision);
    char p[4096];
    snprintf(p, sizeof p, "%s/run/metrics.jsonl", r->opts->out);
    FILE *m = fopen(p, "r");
    if (!m) {
        fprintf(f, "- (no metrics.jsonl)\n\n");
        return;
    }
    char *line = NULL;
    size_t cap = 0;
    double first = NAN, last = NAN, tps = 0, eval_first = NAN, eval_last = NAN;
    char eval_key[256] = "";   /* the first in-loop bits-per-byte key seen: one source followed through the run */
    long long steps = 0, tokens = 0, n_tps = 0;
    while (getline(&line, &cap, m) > 0) {
        json_t *j = json_loads(line, 0, NULL);
        if (!j) continue;
        double loss = num(j, "loss");
        if (!isnan(loss)) {
            if (isnan(first)) first = loss;
            last = loss;
            steps = (long long)num(j, "step");
            tokens = (long long)num(j, "tokens");
            if (!isnan(num(j, "tokens_per_s"))) { tps += num(j, "tokens_per_s"); n_tps++; }
        }
        /* in-loop evaluation records carry the evaluator's label in their keys */
        const char *k;
        json_t *v;
        json_object_foreach(j, k, v) {
            if (strstr(k, "eval/") == k && strstr(k, "/bits_per_byte") && json_is_number(v)) {
                if (!eval_key[0]) snprintf(eval_key, sizeof eval_key, "%s", k);
                if (strcmp(k, eval_key)) continue;
                if (isnan(eval_first)) eval_first = json_number_value(v);
                eval_last = json_number_value(v);
            }
        }
        json_decref(j);
    }
    free(line);
    fclose(m);
    fprintf(f, "- %lld steps, %lld tokens, %.0f tokens/s on average; training loss %.3f -> %.3f.\n", steps, tokens,
            n_tps ? tps / (double)n_tps : 0, first, last);
    if (!isnan(eval_first))
        fprintf(f, "- Held-out bits per byte during training (`%s`, in-loop): %.3f -> %.3f; every evaluation is a "
                   "line of `run/metrics.jsonl`; the eval curve of `run/loss.png` is the mean loss over the "
                   "held-out sources.\n", eval_key, eval_first, eval_last);
    fprintf(f, "- Checkpoint (Hugging Face layout): `%s`\n\n![loss](run/loss.png)\n\n", r->checkpoint);
}

static void section_eval(FILE *f, const struct demo_results *r) {
    fprintf(f, "## 9. Evaluation (`olmo eval ppl`, `olmo eval tasks`)\n\n");
    json_t *ppl = load(r->opts->out, "eval/ppl.json");
    json_t *srcs = json_object_get(ppl, "sources");
    if (json_is_array(srcs)) {
        fprintf(f, "Bits per byte on the held-out documents, per source (lower is better):\n\n"
                   "| source | documents | tokens | bytes | bits per byte | perplexity |\n|---|---:|---:|---:|---:|---:|\n");
        size_t i;
        json_t *s;
        json_array_foreach(srcs, i, s) {
            const char *name = json_string_value(json_object_get(s, "source"));
            fprintf(f, "| %s | %.0f | %.0f | %.0f | %.4f | %.2f |\n", name ? name : "?", num(s, "documents"),
                    num(s, "tokens"), num(s, "bytes"), num(s, "bits_per_byte"), num(s, "ppl_token"));
        }
        fprintf(f, "\nMacro average over sources %.4f bits per byte, micro average over all bytes %.4f.\n",
                num(ppl, "macro_bits_per_byte"), num(ppl, "bits_per_byte"));
        fputc('\n', f);
    } else {
        fprintf(f, "(eval/ppl.json: no per-source figures)\n\n");
    }
    json_decref(ppl);
    json_t *tasks = load(r->opts->out, "eval/tasks.json");
    json_t *tl = json_object_get(tasks, "tasks");
    if (json_is_array(tl)) {
        fprintf(f, "Multiple choice: `eval/debian_cloze.jsonl`, the start of a held-out document and four "
                   "continuations, one its own and three from other sources (chance: 25 %%).\n\n"
                   "| task | items | metric | score ± stderr |\n|---|---:|---|---:|\n");
        size_t i;
        json_t *t;
        json_array_foreach(tl, i, t) {
            const char *name = json_string_value(json_object_get(t, "task"));
            if (name && strrchr(name, '/')) name = strrchr(name, '/') + 1;   /* a task file: its name */
            const char *metric = json_string_value(json_object_get(t, "primary"));
            json_t *metrics = json_object_get(t, "metrics");
            json_t *stderrs = json_object_get(t, "stderr");
            fprintf(f, "| %s | %.0f | %s | %.3f ± %.3f |\n", name ? name : "?", num(t, "n"), metric ? metric : "?",
                    metric ? num(metrics, metric) : NAN, metric ? num(stderrs, metric) : NAN);
        }
        fputc('\n', f);
    }
    json_decref(tasks);
}

static void section_samples(FILE *f, const struct demo_results *r) {
    fprintf(f, "## 10. Samples (`olmo generate`, temperature 0.8, top-k 40)\n\n");
    for (int i = 0; i < 3; i++) {
        char rel[64];
        snprintf(rel, sizeof rel, "samples/sample-%d.json", i);
        json_t *j = load(r->opts->out, rel);
        const char *t = json_string_value(json_object_get(j, "text"));
        fprintf(f, "> **%s**", r->prompts[i] ? r->prompts[i] : "");
        if (t) cell(f, t, 600);
        fprintf(f, "\n\n");
        json_decref(j);
    }
}

static void section_trace(FILE *f, const struct demo_results *r) {
    fprintf(f, "## 11. Where did that come from? (`olmo data index`, `olmo trace`)\n\n"
               "The training tokens are indexed (`index/`, a suffix array); the first sample is traced back: the "
               "longest spans of it that occur verbatim in the training data, and the documents they come from.\n\n");
    json_t *t = load(r->opts->out, "eval/trace.json");
    json_t *spans = json_object_get(t, "spans");
    if (json_is_array(spans)) {
        fprintf(f, "| span | occurrences | first document |\n|---|---:|---|\n");
        size_t i;
        json_t *s;
        json_array_foreach(spans, i, s) {
            if (i >= 10) break;
            const char *text = json_string_value(json_object_get(s, "text"));
            json_t *docs = json_object_get(s, "docs");
            json_t *d0 = json_is_array(docs) ? json_array_get(docs, 0) : NULL;
            const char *id = json_string_value(json_object_get(d0, "id"));
            fputs("| ", f);
            cell(f, text ? text : "", 120);
            fprintf(f, " | %.0f | %s |\n", num(s, "count"), id ? id : "");
        }
        fputc('\n', f);
    } else {
        fprintf(f, "(eval/trace.json: no spans)\n\n");
    }
    json_decref(t);
}

static void section_energy(FILE *f, const struct demo_results *r, double cpu_s, double joules) {
    const struct demo_opts *o = r->opts;
    double kwh;
    fprintf(f, "## Energy and carbon\n\n");
    if (joules >= 0) {
        kwh = joules / 3.6e6;
        fprintf(f, "Measured with the CPU package's RAPL energy counters over every step: %.0f J.\n", joules);
    } else {
        kwh = cpu_s * o->watts_per_core / 3.6e6;
        fprintf(f, "Estimated (this machine exposes no RAPL counters): %.0f CPU-seconds used by all steps x %.1f W "
                   "per busy core (`--watts-per-core`) = %.0f J.\n", cpu_s, o->watts_per_core, cpu_s * o->watts_per_core);
    }
    fprintf(f, "That is %.6f kWh; at %.3f kg CO2e per kWh (`--grid-intensity`) %.3f g CO2e. For scale, OLMo-7B's "
               "training used 104 MWh on A100s (its model card).\n\n", kwh, o->grid_kg_per_kwh,
            kwh * o->grid_kg_per_kwh * 1000);
}

int demo_write_report(struct demo_results *r) {
    char path[4096];
    snprintf(path, sizeof path, "%s/report.md", r->opts->out);
    struct olmo_atomic_file af;
    if (olmo_atomic_open(&af, path) != 0) return -1;
    FILE *f = af.fp;
    double cpu = 0, joules = 0;
    fprintf(f, "# olmo demo: the open chain on Debian's text\n\n"
               "Curate -> tokenize -> pretrain -> evaluate -> generate -> trace back, on %s, %.0f s in all. "
               "Everything below is in this folder.\n\n", r->opts->quick ? "a small sample (--quick)" : "the corpus",
            olmo_now() - r->steps.t0);
    section_corpus(f, r);
    section_curation(f, r);
    section_training(f, r);
    section_eval(f, r);
    section_samples(f, r);
    section_trace(f, r);
    section_steps(f, r, &cpu, &joules);
    section_energy(f, r, cpu, joules);
    fprintf(f, "## Files\n\n`documents/`, `attributes/` (Dolma), `mixed/` (curated), `configs/` (dedup, mix, train), "
               "`curation/` (stats), `tokenizer.json`, `tokens/` (+ `.csv.gz` document index), `heldout/`, "
               "`run/` (checkpoints, `metrics.jsonl`, `loss.png`), `eval/` (JSON results, the "
               "task file, the trace), `samples/`, `index/`, `commands.sh`.\n");
    if (ferror(f)) {
        olmo_atomic_abort(&af);
        return olmo_err("%s: write failed", path);
    }
    return olmo_atomic_commit(&af);
}
