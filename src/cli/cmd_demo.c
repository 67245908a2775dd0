/* cmd_demo.c — `olmo demo [--out DIR] [--quick]`: the whole pipeline on text every Debian machine has, with no
 * downloads and no ../shared data:
 *   1. corpus     the files in /usr/share/common-licenses and /usr/share/doc/PKG/copyright (deduplicated, capped), or text
 *                 generated here when those are missing
 *   2. tokenizer  a byte-level BPE tokenizer trained on it (`olmo tokenizer train`'s library) -> tokenizer.json
 *   3. data       the corpus encoded, EOS after each document, as a uint16 token file (OLMo's format)
 *   4. training   a tiny OLMo-2 model with `olmo train`'s loop and an OLMo YAML config written here
 *   5. sampling   the final checkpoint loaded by the inference model, a few samples printed
 * Everything lands in DIR (default ./demo-out); the last lines say where. --quick shrinks it to seconds (tests). */
#include "cli/commands.h"
#include "base/error.h"
#include "base/hash.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "model/model.h"
#include "model/sampling.h"
#include "tokenizer/bpe_train.h"
#include "tokenizer/tokenizer.h"
#include "train/optim.h"
#include "train/train_model.h"
#include "train/trainer.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define DEMO_EOS "<|endoftext|>"
#define DEMO_PAD "<|padding|>"

struct corpus {
    char **docs;
    size_t *lens;
    size_t n, cap, bytes;
    uint64_t *hashes;
};

/* Adds one document unless it is a duplicate (many copyright files repeat the same license text). */
static int corpus_add(struct corpus *c, char *text, size_t len) {
    uint64_t h = olmo_fnv1a64(text, len);
    for (size_t i = 0; i < c->n; i++)
        if (c->hashes[i] == h) { free(text); return 0; }
    if (c->n == c->cap) {
        size_t cap = c->cap ? 2 * c->cap : 256;
        char **d = olmo_realloc(c->docs, cap * sizeof *d);
        if (!d) { free(text); return -1; }
        c->docs = d;
        size_t *l = olmo_realloc(c->lens, cap * sizeof *l);
        if (!l) { free(text); return -1; }
        c->lens = l;
        uint64_t *hs = olmo_realloc(c->hashes, cap * sizeof *hs);
        if (!hs) { free(text); return -1; }
        c->hashes = hs;
        c->cap = cap;
    }
    c->docs[c->n] = text;
    c->lens[c->n] = len;
    c->hashes[c->n] = h;
    c->n++;
    c->bytes += len;
    return 0;
}

static void corpus_free(struct corpus *c) {
    for (size_t i = 0; i < c->n; i++) free(c->docs[i]);
    free(c->docs);
    free(c->lens);
    free(c->hashes);
    memset(c, 0, sizeof *c);
}

/* Reads a plain-text file of at most max_len bytes into the corpus (others are skipped silently). */
static int add_file(struct corpus *c, const char *path, size_t max_len) {
    struct stat st;
    if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size < 200 || (size_t)st.st_size > max_len) return 0;
    size_t n = 0;
    char *t = olmo_read_file(path, &n);
    if (!t) { olmo_err_clear(); return 0; }
    if (memchr(t, 0, n)) { free(t); return 0; }   /* not text */
    return corpus_add(c, t, n);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted entries of a folder (a stable corpus from run to run). */
static char **list_dir(const char *dir, size_t *n) {
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) return NULL;
    size_t cap = 64;
    char **v = olmo_malloc(cap * sizeof *v);
    struct dirent *e;
    while (v && (e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        if (*n == cap) {
            char **nv = olmo_realloc(v, 2 * cap * sizeof *v);
            if (!nv) break;
            v = nv;
            cap *= 2;
        }
        v[(*n)++] = olmo_strdup(e->d_name);
    }
    closedir(d);
    if (v) qsort(v, *n, sizeof *v, cmp_str);
    return v;
}

static void free_list(char **v, size_t n) {
    for (size_t i = 0; i < n; i++) free(v[i]);
    free(v);
}

/* Text made here when the machine has no license files: simple sentences from a small grammar. */
static int generated_corpus(struct corpus *c, size_t target) {
    static const char *subj[] = {"The model", "A researcher", "The tokenizer", "Every layer", "The optimizer",
                                 "This program", "The data", "A student"};
    static const char *verb[] = {"reads", "writes", "learns", "predicts", "counts", "changes", "checks", "sees"};
    static const char *obj[] = {"the next token", "every weight", "the loss", "a new word", "the gradient",
                                "the training data", "each checkpoint", "the learning rate"};
    uint64_t r = 42;
    while (c->bytes < target) {
        size_t cap = 4096, n = 0;
        char *doc = olmo_malloc(cap);
        if (!doc) return -1;
        for (int s = 0; s < 30; s++) {
            r = r * 6364136223846793005ull + 1442695040888963407ull;
            int len = snprintf(doc + n, cap - n, "%s %s %s. ", subj[(r >> 33) % 8], verb[(r >> 40) % 8],
                               obj[(r >> 50) % 8]);
            if (len < 0 || (size_t)len >= cap - n) break;
            n += (size_t)len;
        }
        doc[n] = 0;
        if (corpus_add(c, doc, n) != 0) return -1;
        if (c->n > 100000) break;
    }
    return 0;
}

static int build_corpus(struct corpus *c, size_t target) {
    size_t n = 0;
    char **names = list_dir("/usr/share/common-licenses", &n);
    for (size_t i = 0; names && i < n && c->bytes < target; i++) {
        char *p = olmo_path_join("/usr/share/common-licenses", names[i]);
        if (p && add_file(c, p, 64 * 1024) != 0) { free(p); free_list(names, n); return -1; }
        free(p);
    }
    free_list(names, n);
    names = list_dir("/usr/share/doc", &n);
    for (size_t i = 0; names && i < n && c->bytes < target; i++) {
        char *pkg = olmo_path_join("/usr/share/doc", names[i]);
        char *p = pkg ? olmo_path_join(pkg, "copyright") : NULL;
        free(pkg);
        if (p && add_file(c, p, 48 * 1024) != 0) { free(p); free_list(names, n); return -1; }
        free(p);
    }
    free_list(names, n);
    if (c->bytes < target / 8) {
        olmo_log_info("few text files found under /usr/share: generating the corpus instead");
        return generated_corpus(c, target);
    }
    return 0;
}

/* Counts the corpus's pre-tokens and learns a byte-level BPE with the dolma2 pipeline (bpe_train.h). */
static int demo_train_tokenizer(const struct corpus *c, int vocab, const char *path) {
    struct bpe_words w;
    if (bpe_words_init(&w) != 0) return -1;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < c->n; i++) rc = bpe_words_add_text(&w, c->docs[i], c->lens[i]);
    struct bpe_train_opts o;
    bpe_train_opts_default(&o);   /* specials <|endoftext|> (id 0) and <|padding|> (id 1) */
    o.vocab_size = (uint32_t)vocab;
    struct bpe_model m;
    if (rc == 0) rc = bpe_learn(&m, &w, &o, NULL);
    bpe_words_free(&w);
    if (rc != 0) return olmo_err_prefix("training the demo tokenizer: ");
    rc = bpe_model_write_json(&m, path);
    bpe_model_free(&m);
    return rc;
}

/* Encodes every document, appends EOS, writes one uint16 token file. Returns the token count or -1. */
static int64_t write_tokens(const struct olmo_tokenizer *tok, const struct corpus *c, int32_t eos, const char *path) {
    int32_t **ids = olmo_calloc(c->n, sizeof *ids);
    size_t *n_ids = olmo_calloc(c->n, sizeof *n_ids);
    if (!ids || !n_ids) { free(ids); free(n_ids); return -1; }
    int64_t total = -1;
    if (tok_encode_batch(tok, (const char *const *)c->docs, c->lens, c->n, 0, 0, ids, n_ids) == 0) {
        struct olmo_atomic_file f;
        if (olmo_atomic_open(&f, path) == 0) {
            total = 0;
            for (size_t i = 0; i < c->n && total >= 0; i++) {
                for (size_t j = 0; j <= n_ids[i]; j++) {
                    int32_t id = j < n_ids[i] ? ids[i][j] : eos;
                    uint16_t v = (uint16_t)id;
                    if (id < 0 || id > 65535 || fwrite(&v, 2, 1, f.fp) != 1) {
                        olmo_err("%s: cannot write token %d", path, id);
                        total = -1;
                        break;
                    }
                    total++;
                }
            }
            if (total >= 0) {
                if (olmo_atomic_commit(&f) != 0) total = -1;
            } else {
                olmo_atomic_abort(&f);
            }
        }
        for (size_t i = 0; i < c->n; i++) free(ids[i]);
    }
    free(ids);
    free(n_ids);
    return total;
}

struct demo_size {
    int vocab, d_model, n_heads, n_layers, seq, batch, micro, steps, warmup;
    size_t corpus_bytes;
    double lr;
};

static int write_config(const char *path, const char *out, const struct demo_size *z, int vocab, int eos, int pad,
                        const char *precision) {
    struct olmo_atomic_file af;
    if (olmo_atomic_open(&af, path) != 0) return -1;
    FILE *fp = af.fp;
    /* An OLMo-2 style config in OLMo's own keys: `olmo train demo.yaml` runs it again as it is. */
    fprintf(fp,
            "# Written by `olmo demo`: a tiny OLMo-2 (RMSNorm after each sublayer, QK-norm, z-loss).\n"
            "run_name: olmo-demo\nseed: 6198\n"
            "model:\n  d_model: %d\n  n_heads: %d\n  n_layers: %d\n  mlp_ratio: 8\n  max_sequence_length: %d\n"
            "  vocab_size: %d\n  embedding_size: %d\n  layer_norm_type: rms\n  layer_norm_with_affine: true\n"
            "  layer_norm_eps: 1.0e-6\n  attention_layer_norm: true\n  norm_after: true\n  rope: true\n"
            "  rope_theta: 500000\n  weight_tying: false\n  include_bias: false\n  activation_type: swiglu\n"
            "  attention_dropout: 0.0\n  residual_dropout: 0.0\n  embedding_dropout: 0.0\n"
            "  init_fn: normal\n  init_std: 0.02\n  init_cutoff_factor: 3\n  eos_token_id: %d\n  pad_token_id: %d\n"
            "optimizer:\n  name: adamw\n  learning_rate: %g\n  weight_decay: 0.1\n  eps: 1.0e-8\n"
            "  betas: [0.9, 0.95]\n  decay_norm_and_bias: true\n  decay_embeddings: false\n"
            "scheduler:\n  name: cosine_with_warmup\n  t_warmup: %d\n  alpha_f: 0.1\n  warmup_min_lr: 0.0\n"
            "softmax_auxiliary_loss: true\nauxiliary_loss_multiplier: 1.0e-5\n"
            "max_duration: %d\nglobal_train_batch_size: %d\ndevice_train_microbatch_size: %d\n"
            "max_grad_norm: 1.0\nprecision: %s\n"
            "data:\n  paths: [%s/data/train.npy]\n  memmap_dtype: uint16\n  drop_last: true\n"
            "tokenizer:\n  identifier: %s/tokenizer.json\n"
            "save_folder: %s/run\nsave_overwrite: true\nsave_interval: %d\n",
            z->d_model, z->n_heads, z->n_layers, z->seq, vocab, vocab, eos, pad, z->lr, z->warmup, z->steps,
            z->batch, z->micro, precision, out, out, out, z->steps / 2 > 0 ? z->steps / 2 : 1);
    return olmo_atomic_commit(&af);
}

/* Generates n_new tokens after the prompt; returns the decoded continuation (caller frees) or NULL. */
static char *sample(const struct olmo_model *m, const struct olmo_tokenizer *tok, const char *prompt, int n_new,
                    int32_t eos, uint64_t seed) {
    int32_t *ids = NULL;
    size_t n = 0;
    if (tok_encode(tok, prompt, strlen(prompt), 0, &ids, &n) != 0 || n == 0) { free(ids); return NULL; }
    int max = (int)n + n_new;
    if (max > m->cfg.max_seq_len) max = m->cfg.max_seq_len;
    struct olmo_state st;
    struct olmo_sampler sp;
    float *logits = olmo_malloc(sizeof(float) * (size_t)m->cfg.vocab_size);
    int32_t *out = olmo_malloc(sizeof(int32_t) * (size_t)(n_new + 1));
    char *text = NULL;
    int n_out = 0;
    if (logits && out && model_state_init(&st, m, max) == 0) {
        if (sampler_init(&sp, m->cfg.vocab_size, 0.8f, 40, 0.95f, seed) == 0) {
            int rc = model_forward(m, &st, ids, (int)n, 0, logits);
            for (int pos = (int)n; rc == 0 && pos < max; pos++) {
                int32_t next = sampler_sample(&sp, logits);
                if (next == eos) break;
                out[n_out++] = next;
                if (pos + 1 < max) rc = model_forward(m, &st, &next, 1, pos, logits);
            }
            if (rc == 0) text = tok_decode(tok, out, (size_t)n_out, 1, NULL);
            sampler_free(&sp);
        }
        model_state_free(&st);
    }
    free(logits);
    free(out);
    free(ids);
    return text;
}

/* Times two training steps of the demo model on random tokens, so the run can be sized to the time budget on
 * this machine (fast or slow, idle or shared). Returns tokens per second, or -1. */
static double calibrate(const struct demo_size *z, int vocab, enum train_precision prec) {
    struct olmo_config c = {.arch = ARCH_OLMO2, .norm_type = NORM_RMSNORM, .norm_after = 1, .qk_norm = 1,
                            .d_model = z->d_model, .n_layers = z->n_layers, .n_heads = z->n_heads,
                            .n_kv_heads = z->n_heads, .head_dim = z->d_model / z->n_heads, .d_ff = 4 * z->d_model,
                            .vocab_size = vocab, .max_seq_len = z->seq, .rope_theta = 500000.0f, .norm_eps = 1e-6f,
                            .bos_token_id = -1, .eos_token_id = 0, .pad_token_id = 1};
    struct train_model *m = train_model_create(&c, z->micro, z->seq, prec);
    int32_t *in = olmo_malloc(sizeof(int32_t) * (size_t)(z->micro * z->seq));
    int32_t *tg = olmo_malloc(sizeof(int32_t) * (size_t)(z->micro * z->seq));
    double best = -1;
    if (m && in && tg && train_model_init(m, TRAIN_INIT_NORMAL, 0.02f, 3.0f, 1) == 0) {
        for (int i = 0; i < z->micro * z->seq; i++) in[i] = tg[i] = (int32_t)((i * 7919u) % (unsigned)vocab);
        struct optim_adamw adam = {0.9f, 0.95f, 1e-8f, 0.1f};
        struct train_loss_opts lo = {1e-5f, (double)z->micro * z->seq};
        for (int rep = 0; rep < 3; rep++) {
            double t = olmo_now();
            train_model_zero_grad(m);
            if (train_model_forward_backward(m, in, tg, z->micro, z->seq, &lo, NULL) != 0) { best = -1; break; }
            optim_adamw_step(m, &adam, 1e-3, rep + 1);
            double tps = (double)(z->micro * z->seq) / (olmo_now() - t);
            if (rep > 0 && tps > best) best = tps;   /* the first one warms up */
        }
    }
    free(in);
    free(tg);
    train_model_free(m);
    return best;
}

static void usage(FILE *fp) {
    fprintf(fp, "usage: olmo demo [--out DIR] [--seconds S] [--quick]\n\n"
                "Builds a corpus from the license texts on this machine, trains a BPE tokenizer and a tiny OLMo-2\n"
                "model on it, saves a Hugging Face checkpoint and prints samples.\n"
                "  --out DIR     where everything goes (default ./demo-out)\n"
                "  --seconds S   training time to aim for (default 100; the step count is sized to this machine,\n"
                "                training stops at 1.5 S in any case)\n"
                "  --quick       a few seconds in all (a smoke test of the whole pipeline)\n");
}

int cmd_demo(int argc, char **argv) {
    const char *out = "demo-out";
    int quick = 0;
    double budget = 100;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strncmp(argv[i], "--out=", 6)) out = argv[i] + 6;
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) budget = atof(argv[++i]);
        else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) { usage(stdout); return 0; }
        else { usage(stderr); return 2; }
    }
    struct demo_size z = quick ? (struct demo_size){512, 32, 2, 2, 64, 8, 8, 12, 2, 200 * 1024, 3e-3}
                               : (struct demo_size){2048, 96, 4, 4, 128, 16, 16, 0, 0, 2 * 1024 * 1024, 4e-3};
    if (!(budget > 0)) { usage(stderr); return 2; }
    double t0 = olmo_now();
    struct corpus c = {0};
    struct olmo_tokenizer *tok = NULL;
    struct olmo_model model;
    int have_model = 0, status = 1;
    char *tok_path = olmo_path_join(out, "tokenizer.json"), *data_dir = olmo_path_join(out, "data");
    char *data_path = data_dir ? olmo_path_join(data_dir, "train.npy") : NULL;
    char *cfg_path = olmo_path_join(out, "demo.yaml"), *run_dir = olmo_path_join(out, "run");
    if (!tok_path || !data_path || !cfg_path || !run_dir) goto out;
    if (olmo_mkdir_p(out) != 0 || olmo_mkdir_p(data_dir) != 0) goto out;

    fprintf(stderr, "[1/5] corpus: ");
    if (build_corpus(&c, z.corpus_bytes) != 0) goto out;
    fprintf(stderr, "%zu documents, %.2f MB of text\n", c.n, (double)c.bytes / 1e6);

    fprintf(stderr, "[2/5] tokenizer: training a byte-level BPE with %d tokens\n", z.vocab);
    double t = olmo_now();
    if (demo_train_tokenizer(&c, z.vocab, tok_path) != 0) goto out;
    tok = tok_load(tok_path);
    if (!tok) goto out;
    int32_t eos = tok_token_to_id(tok, DEMO_EOS), pad = tok_token_to_id(tok, DEMO_PAD);
    if (eos < 0) { olmo_err("%s: no %s token", tok_path, DEMO_EOS); goto out; }
    fprintf(stderr, "      %s (%d tokens, %.1f s)\n", tok_path, tok_vocab_size(tok), olmo_now() - t);

    fprintf(stderr, "[3/5] data: ");
    t = olmo_now();
    int64_t n_tok = write_tokens(tok, &c, eos, data_path);
    if (n_tok < 0) goto out;
    fprintf(stderr, "%lld tokens (%.2f bytes per token) -> %s (%.1f s)\n", (long long)n_tok,
            (double)c.bytes / (double)n_tok, data_path, olmo_now() - t);

    int vocab = (tok_vocab_size(tok) + 127) / 128 * 128;   /* padded like OLMo's embedding_size */
    const char *precision = "fp32";
    if (!quick) {
        /* bf16 matrix products (fp32 master weights) are faster where the CPU has bf16 units, slower where
         * oneDNN must emulate them: measure both and keep the faster */
        double tps = calibrate(&z, vocab, TRAIN_PREC_FP32), tps16 = calibrate(&z, vocab, TRAIN_PREC_BF16);
        olmo_err_clear();
        if (tps16 > 1.1 * tps) {
            tps = tps16;
            precision = "amp_bf16";
        }
        if (tps <= 0) { olmo_err("the demo model could not run a training step"); goto out; }
        double steps = budget * tps / (double)(z.batch * z.seq);
        z.steps = steps < 60 ? 60 : steps > 2000 ? 2000 : (int)steps;
        z.warmup = z.steps / 10;
        fprintf(stderr, "      this machine trains the demo model at about %.0f tokens/s (%s): %d steps fit in %.0f s\n",
                tps, precision, z.steps, budget);
    }
    if (write_config(cfg_path, out, &z, vocab, eos, pad < 0 ? eos : pad, precision) != 0) goto out;
    fprintf(stderr, "[4/5] training: a tiny OLMo-2 (d_model %d, %d layers, vocab %d), %d steps of %d x %d tokens; "
                    "config %s\n", z.d_model, z.n_layers, vocab, z.steps, z.batch, z.seq, cfg_path);
    /* the step count was sized for `budget` seconds; a machine that gets busier meanwhile is cut off at 1.5x */
    struct trainer_opts to = {.config_path = cfg_path, .max_seconds = quick ? 0 : 1.5 * budget};
    struct trainer_result tr;
    if (trainer_run(&to, &tr) != 0) goto out;

    fprintf(stderr, "[5/5] samples from %s:\n", tr.last_checkpoint);
    if (model_load(&model, tr.last_checkpoint, NULL) != 0) goto out;
    have_model = 1;
    static const char *prompts[] = {"Permission is hereby granted", "This program is free software",
                                    "THE SOFTWARE IS PROVIDED"};
    for (int i = 0; i < 3; i++) {
        char *s = sample(&model, tok, prompts[i], quick ? 16 : 48, eos, 1000 + (uint64_t)i);
        if (!s) goto out;
        for (char *q = s; *q; q++) if (*q == '\n') *q = ' ';
        printf("  > %s%s\n", prompts[i], s);
        fflush(stdout);
        free(s);
    }
    fprintf(stderr, "\ndone in %.0f s (training %.0f tokens/s). Written:\n"
                    "  tokenizer         %s\n  token file        %s\n  training config   %s\n"
                    "  HF checkpoint     %s/step-%lld/  (olmo generate -m %s/step-%lld -p \"Permission is\")\n"
                    "  metrics           %s/metrics.jsonl, %s/loss.png\n",
            olmo_now() - t0, tr.tokens_per_s, tok_path, data_path, cfg_path, run_dir, (long long)tr.final_step,
            run_dir, (long long)tr.final_step, run_dir, run_dir);
    status = 0;
out:
    if (status != 0) status = cli_fail("demo");
    if (have_model) model_free(&model);
    tok_free(tok);
    corpus_free(&c);
    free(tok_path);
    free(data_dir);
    free(data_path);
    free(cfg_path);
    free(run_dir);
    return status;
}
