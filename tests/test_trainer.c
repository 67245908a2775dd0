/* test_trainer.c — `olmo train` end to end on a tiny byte-level OLMo-2 model (vocab 256, uint8 token file):
 *   resume:  N steps straight == k steps, kill -9 (after a checkpoint, and again in the middle of writing
 *            one), --resume to N; model.safetensors and optim.safetensors equal byte for byte
 *   mpi:     mpirun -np 2 == one process with the same global batch, within a stated tolerance
 *   nan:     a huge learning rate stops the run with a message; the last checkpoint stays complete
 *   layout:  the checkpoint loads in the inference model (model_load) and follows the HF layout
 *   metrics: metrics.jsonl has the fields and the loss falls on a repetitive corpus
 * The binary under test is $OLMO (set by tests/run.sh); without it the tests SKIP. */
#include "harness.h"
#include "base/error.h"
#include "base/file.h"
#include "formats/hf_config.h"
#include "formats/safetensors.h"
#include "model/model.h"
#include "train/checkpoint.h"

#include <jansson.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>

static const char *olmo_bin(void) {
    const char *b = getenv("OLMO");
    return b && *b && olmo_file_exists(b) ? b : NULL;
}

/* A repetitive English corpus as bytes: a byte-level model learns it quickly. */
static int write_data(const char *dir) {
    static const char *lines[] = {
        "The quick brown fox jumps over the lazy dog. ",
        "Permission is hereby granted, free of charge, to any person obtaining a copy. ",
        "OLMo is a fully open language model: data, code, weights and logs. ",
        "Training a transformer means predicting the next token again and again. ",
    };
    char path[700];
    snprintf(path, sizeof path, "%s/data.bin", dir);
    FILE *fp = fopen(path, "wb");
    if (!fp) return -1;
    for (int i = 0; i < 160; i++) fputs(lines[(i * 7 + i / 3) % 4], fp);   /* ~10 KB, ~330 instances of 32 */
    return fclose(fp);
}

/* A tiny OLMo-2 config (RMSNorm after each sublayer, QK-norm, z-loss) in OLMo's own YAML keys. */
static int write_config(const char *dir, const char *name, const char *extra) {
    char path[700];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp) return -1;
    fprintf(fp,
            "run_name: tiny-test\n"
            "seed: 6198\n"
            "model:\n"
            "  d_model: 32\n  n_heads: 4\n  n_layers: 2\n  mlp_hidden_size: 128\n"
            "  max_sequence_length: 32\n  vocab_size: 256\n  embedding_size: 256\n"
            "  layer_norm_type: rms\n  layer_norm_with_affine: true\n  layer_norm_eps: 1.0e-6\n"
            "  attention_layer_norm: true\n  norm_after: true\n  rope: true\n  rope_theta: 500000\n"
            "  weight_tying: false\n  include_bias: false\n  activation_type: swiglu\n"
            "  attention_dropout: 0.0\n  residual_dropout: 0.0\n  embedding_dropout: 0.0\n"
            "  init_fn: normal\n  init_std: 0.02\n  init_cutoff_factor: 3\n"
            "  eos_token_id: 10\n  pad_token_id: 0\n"
            "optimizer:\n  name: adamw\n  learning_rate: 1.0e-2\n  weight_decay: 0.1\n  eps: 1.0e-8\n"
            "  betas: [0.9, 0.95]\n  decay_norm_and_bias: true\n  decay_embeddings: false\n"
            "scheduler:\n  name: cosine_with_warmup\n  t_warmup: 3\n  alpha_f: 0.1\n  warmup_min_lr: 0.0\n"
            "softmax_auxiliary_loss: true\nauxiliary_loss_multiplier: 1.0e-4\n"
            "max_duration: 12\nglobal_train_batch_size: 8\ndevice_train_microbatch_size: 2\n"
            "max_grad_norm: 1.0\nprecision: fp32\n"
            "data:\n  paths: [%s/data.bin]\n  memmap_dtype: uint8\n  seed: 42\n  drop_last: true\n"
            "tokenizer:\n  identifier: none\n"
            "save_folder: %s/run\nsave_interval: 4\n%s",
            dir, dir, extra ? extra : "");
    return fclose(fp);
}

/* Runs a shell command; returns the exit status, 128+signal when killed, -1 when it could not run. */
static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int st = system(cmd);
    if (st == -1) return -1;
    if (WIFEXITED(st)) return WEXITSTATUS(st);
    if (WIFSIGNALED(st)) return 128 + WTERMSIG(st);
    return -1;
}

static int files_equal(const char *a, const char *b) {
    size_t na = 0, nb = 0;
    char *x = olmo_read_file(a, &na), *y = olmo_read_file(b, &nb);
    int eq = x && y && na == nb && memcmp(x, y, na) == 0;
    free(x);
    free(y);
    return eq;
}

/* Compares two checkpoints tensor by tensor: the largest relative L2 difference ‖a−b‖/‖a‖ and the largest
 * absolute element difference. 0 if both opened with the same names and sizes, -1 otherwise. */
static int param_diff(const char *dir_a, const char *dir_b, double *rel_l2, double *max_abs) {
    struct st_set a, b;
    *rel_l2 = *max_abs = 0;
    if (st_open_dir(&a, dir_a) != 0) return -1;
    if (st_open_dir(&b, dir_b) != 0) { st_close(&a); return -1; }
    int rc = a.n_tensors == b.n_tensors ? 0 : -1;
    for (int64_t i = 0; rc == 0 && i < a.n_tensors; i++) {
        const struct st_tensor *ta = &a.tensors[i], *tb = st_find(&b, ta->name);
        if (!tb || tb->numel != ta->numel || ta->dtype != ST_F32 || tb->dtype != ST_F32) { rc = -1; break; }
        const float *x = ta->data, *y = tb->data;
        double dd = 0, xx = 0;
        for (int64_t j = 0; j < ta->numel; j++) {
            double d = (double)x[j] - y[j];
            dd += d * d;
            xx += (double)x[j] * x[j];
            if (fabs(d) > *max_abs) *max_abs = fabs(d);
        }
        if (xx > 0 && sqrt(dd / xx) > *rel_l2) *rel_l2 = sqrt(dd / xx);
    }
    st_close(&a);
    st_close(&b);
    return rc;
}

static char *path2(const char *a, const char *b) {
    static char buf[4][800];
    static int k;
    k = (k + 1) % 4;
    if (snprintf(buf[k], sizeof buf[k], "%s/%s", a, b) >= (int)sizeof buf[k]) buf[k][0] = 0;   /* never here */
    return buf[k];
}

TEST(train_resume_after_kill_is_bit_identical) {
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    char straight[700], killed[700];
    snprintf(straight, sizeof straight, "%s/a", d);
    snprintf(killed, sizeof killed, "%s/b", d);
    CHECK(olmo_mkdir_p(straight) == 0 && olmo_mkdir_p(killed) == 0);
    CHECK(write_data(straight) == 0 && write_data(killed) == 0);
    CHECK(write_config(straight, "c.yaml", NULL) == 0 && write_config(killed, "c.yaml", NULL) == 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q 2>%s/log", olmo, straight, straight), 0);
    /* killed by SIGKILL right after step 6 (checkpoint step-4 exists, step 5-6 progress is lost) */
    CHECK_EQ_INT(run("OLMO_TEST_KILL_AFTER_STEP=6 '%s' train %s/c.yaml -q 2>%s/log1", olmo, killed, killed),
                 128 + 9);
    CHECK(ckpt_is_complete(path2(killed, "run/step-4")));
    CHECK(!olmo_file_exists(path2(killed, "run/step-8")));
    /* resumed, then killed again in the middle of writing step-8: a step-8.tmp stays behind, no step-8 */
    CHECK_EQ_INT(run("OLMO_TEST_KILL_IN_SAVE=8 '%s' train %s/c.yaml -q --resume 2>%s/log2", olmo, killed, killed),
                 128 + 9);
    CHECK(olmo_file_exists(path2(killed, "run/step-8.tmp")));
    CHECK(!olmo_file_exists(path2(killed, "run/step-8")));
    char *latest = ckpt_latest(path2(killed, "run"));
    CHECK(latest && strstr(latest, "step-4"));
    free(latest);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --resume 2>%s/log3", olmo, killed, killed), 0);
    CHECK(!olmo_file_exists(path2(killed, "run/step-8.tmp")));
    CHECK(files_equal(path2(straight, "run/step-12/model.safetensors"), path2(killed, "run/step-12/model.safetensors")));
    CHECK(files_equal(path2(straight, "run/step-12/optim.safetensors"), path2(killed, "run/step-12/optim.safetensors")));
    CHECK(files_equal(path2(straight, "run/step-8/model.safetensors"), path2(killed, "run/step-8/model.safetensors")));
    /* the metrics log of the resumed run has each step once (the lost steps 5-6 were rewritten) */
    char *txt = olmo_read_file(path2(killed, "run/metrics.jsonl"), NULL);
    CHECK(txt);
    int lines = 0;
    for (char *s = txt; *s; s++) lines += *s == '\n';
    free(txt);
    CHECK_EQ_INT(lines, 12);
}

TEST(train_mpi_two_ranks_match_one) {
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    if (run("command -v mpirun >/dev/null 2>&1") != 0) SKIP("mpirun not installed (OpenMPI): MPI run not tested");
    const char *d = th_tmpdir();
    char one[700], two[700];
    snprintf(one, sizeof one, "%s/one", d);
    snprintf(two, sizeof two, "%s/two", d);
    CHECK(olmo_mkdir_p(one) == 0 && olmo_mkdir_p(two) == 0);
    CHECK(write_data(one) == 0 && write_data(two) == 0);
    CHECK(write_config(one, "c.yaml", NULL) == 0 && write_config(two, "c.yaml", NULL) == 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --max_duration=8 2>%s/log", olmo, one, one), 0);
    int rc = run("ASAN_OPTIONS=detect_leaks=0 OMP_NUM_THREADS=1 mpirun -np 2 --oversubscribe --allow-run-as-root "
                 "'%s' train %s/c.yaml -q --max_duration=8 >%s/log 2>&1", olmo, two, two);
    if (rc != 0) {
        char *log = olmo_read_file(path2(two, "log"), NULL);
        int built_without = log && strstr(log, "built without MPI");
        free(log);
        if (built_without) SKIP("olmo built without MPI (make MPI=0)");
    }
    CHECK_EQ_INT(rc, 0);
    /* Same global batch, same data order: only the summation order of the gradient differs (each rank sums
     * its 4 instances, then the two halves are added), i.e. rounding of ~1e-7 relative per gradient element.
     * AdamW divides by sqrt(v), so for the few elements whose gradient is ~0 (lm_head rows of bytes that never
     * occur) a rounding difference can change an update by up to ~lr; elsewhere it stays at rounding level.
     * Measured after 8 steps: relative L2 difference per tensor <= 2.6e-6, largest element difference 8.7e-6.
     * Tolerances: 1e-4 relative L2 per tensor and 1e-3 (a tenth of one lr = 1e-2 step) per element. A run with a
     * different data order (data.seed 43 instead of 42) differs by 0.97 relative L2 and 0.074 per element, so
     * the test tells a wrong slice or a missing all-reduce from rounding. */
    double rel = 0, mx = 0;
    CHECK(param_diff(path2(one, "run/step-8"), path2(two, "run/step-8"), &rel, &mx) == 0);
    fprintf(stderr, "mpirun -np 2 vs 1 process, 8 steps: relative L2 difference %.3g, largest element difference %.3g\n",
            rel, mx);
    CHECK_MSG(rel < 1e-4 && mx < 1e-3, "relative L2 difference %g (tolerance 1e-4), largest %g (tolerance 1e-3)",
              rel, mx);
    /* and the data order really was the same: the losses of step 1 agree closely */
    char *a = olmo_read_file(path2(one, "run/metrics.jsonl"), NULL), *b = olmo_read_file(path2(two, "run/metrics.jsonl"), NULL);
    CHECK(a && b);
    json_error_t err;
    json_t *ja = json_loads(a, JSON_DISABLE_EOF_CHECK, &err), *jb = json_loads(b, JSON_DISABLE_EOF_CHECK, &err);
    free(a);
    free(b);
    CHECK(ja && jb);
    double la = json_real_value(json_object_get(ja, "loss")), lb = json_real_value(json_object_get(jb, "loss"));
    json_decref(ja);
    json_decref(jb);
    CHECK_NEAR(la, lb, 1e-5 * fabs(la));
}

TEST(train_nan_loss_stops_and_keeps_checkpoint) {
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    CHECK(write_data(d) == 0);
    CHECK(write_config(d, "c.yaml", NULL) == 0);
    /* lr 1e30 with a constant schedule: step 1 (finite loss, init weights) is saved, then everything overflows */
    int rc = run("'%s' train %s/c.yaml -q --optimizer.learning_rate=1e30 --scheduler.name=constant "
                 "--scheduler.t_warmup=0 --save_interval=1 2>%s/log", olmo, d, d);
    CHECK_EQ_INT(rc, 1);
    char *log = olmo_read_file(path2(d, "log"), NULL);
    CHECK(log);
    int msg = strstr(log, "the loss is") && strstr(log, "stopped") && strstr(log, "intact");
    free(log);
    CHECK_MSG(msg, "expected the NaN message in the log");
    char *latest = ckpt_latest(path2(d, "run"));
    CHECK(latest);
    struct train_state st;
    CHECK(ckpt_state_read(path2(latest, CKPT_STATE_FILE), &st) == 0);
    CHECK(st.step >= 1 && st.step < 12);
    /* the newest checkpoint is complete and its weights are finite */
    struct st_set s;
    CHECK(st_open_dir(&s, latest) == 0);
    int finite = 1;
    for (int64_t i = 0; i < s.n_tensors; i++)
        for (int64_t j = 0; j < s.tensors[i].numel; j++) finite &= isfinite(((const float *)s.tensors[i].data)[j]);
    st_close(&s);
    free(latest);
    CHECK(finite);
}

TEST(train_checkpoint_loads_for_inference) {
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    CHECK(write_data(d) == 0);
    CHECK(write_config(d, "c.yaml", NULL) == 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --max_duration=4 2>%s/log", olmo, d, d), 0);
    const char *ck = path2(d, "run/step-4");
    struct olmo_model m;
    CHECK_MSG(model_load(&m, ck, NULL) == 0, "model_load: %s", olmo_errmsg());
    CHECK_EQ_INT(m.cfg.arch, ARCH_OLMO2);
    CHECK_EQ_INT(m.cfg.d_model, 32);
    struct olmo_state s;
    CHECK(model_state_init(&s, &m, 32) == 0);
    float *logits = malloc(sizeof(float) * 256);
    int32_t toks[5] = {'T', 'h', 'e', ' ', 'q'};
    int ok = model_forward(&m, &s, toks, 5, 0, logits) == 0;
    int finite = 1;
    for (int i = 0; ok && i < 256; i++) finite &= isfinite(logits[i]);
    free(logits);
    model_state_free(&s);
    model_free(&m);
    CHECK(ok && finite);
    /* The HF layout, checked by an independent script when python3 is there (names, shapes, dtypes,
     * config.json keys transformers reads). */
    const char *py = olmo_file_exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";
    if (run("command -v %s >/dev/null 2>&1", py) != 0) SKIP("python3 absent: HF layout script not run");
    CHECK_EQ_INT(run("%s tests/ref/check_hf_checkpoint.py %s >%s/py.log 2>&1", py, ck, d), 0);
}

/* sliding_window in the YAML trains OLMo-3 blocks (windowed training attention) and exports model_type olmo3 with
 * layer_types; the inference model then agrees with itself whether the prompt comes in one call or token by token
 * (window crossed), and the window changes the logits (it is really applied). */
TEST(train_olmo3_sliding_window_exports_olmo3) {
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    CHECK(write_data(d) == 0);
    CHECK(write_config(d, "c.yaml", "") == 0);
    CHECK_EQ_INT(run("sed -i 's/^  norm_after: true/  norm_after: true\\n  sliding_window: 6/' %s/c.yaml", d), 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --max_duration=4 2>%s/log", olmo, d, d), 0);
    struct olmo_model m;
    CHECK_MSG(model_load(&m, path2(d, "run/step-4"), NULL) == 0, "model_load: %s", olmo_errmsg());
    int arch = m.cfg.arch, win = m.cfg.sliding_window, s0 = m.cfg.layer_sliding[0], s1 = m.cfg.layer_sliding[1];
    struct olmo_state a, b;
    float *l1 = malloc(sizeof(float) * 256), *l2 = malloc(sizeof(float) * 256);
    int32_t toks[20];
    for (int i = 0; i < 20; i++) toks[i] = "The quick brown fox "[i];
    int ok = model_state_init(&a, &m, 32) == 0 && model_state_init(&b, &m, 32) == 0 &&
             model_forward(&m, &a, toks, 20, 0, l1) == 0;
    for (int i = 0; ok && i < 20; i++) ok = model_forward(&m, &b, toks + i, 1, i, l2) == 0;
    double e = 0, moved = 0;
    for (int i = 0; ok && i < 256; i++) e = fmax(e, fabs(l1[i] - l2[i]));
    m.cfg.sliding_window = 0;   /* the same weights without the window */
    model_state_free(&b);
    ok = ok && model_state_init(&b, &m, 32) == 0 && model_forward(&m, &b, toks, 20, 0, l2) == 0;
    for (int i = 0; ok && i < 256; i++) moved = fmax(moved, fabs(l1[i] - l2[i]));
    model_state_free(&a);
    model_state_free(&b);
    model_free(&m);
    free(l1);
    free(l2);
    CHECK(arch == ARCH_OLMO3 && win == 6 && s0 == 1 && s1 == 0);
    CHECK_MSG(ok, "%s", olmo_errmsg());
    CHECK_MSG(e < 1e-4, "one call vs token by token: %.3e", e);
    CHECK_MSG(moved > 1e-4, "the window does not change the logits (%.3e)", moved);
}

TEST(train_metrics_fields_and_falling_loss) {
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    CHECK(write_data(d) == 0);
    CHECK(write_config(d, "c.yaml", NULL) == 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --max_duration=30 --save_interval=0 2>%s/log", olmo, d, d), 0);
    char *txt = olmo_read_file(path2(d, "run/metrics.jsonl"), NULL);
    CHECK(txt);
    double first = 0, last = 0;
    int n = 0, fields = 1;
    for (char *line = txt; *line;) {
        char *nl = strchr(line, '\n');
        json_error_t err;
        json_t *o = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, &err);
        static const char *keys[] = {"step", "tokens", "loss", "ce_loss", "z_loss", "grad_norm", "lr",
                                     "tokens_per_s", "mfu"};
        for (size_t k = 0; k < sizeof keys / sizeof *keys; k++) fields &= json_is_number(json_object_get(o, keys[k]));
        double l = json_number_value(json_object_get(o, "loss"));
        if (n == 0) first = l;
        last = l;
        n++;
        json_decref(o);
        if (!nl) break;
        line = nl + 1;
    }
    free(txt);
    CHECK_EQ_INT(n, 30);
    CHECK(fields);
    /* byte-level start: about ln(256) = 5.55; the repetitive corpus is learnt well below half of that */
    CHECK_MSG(first > 4.5 && last < 0.6 * first, "loss %g -> %g", first, last);
    CHECK(ckpt_is_complete(path2(d, "run/step-30")));   /* the final checkpoint even with save_interval 0 */
    if (run("command -v gnuplot >/dev/null 2>&1") == 0) CHECK(olmo_file_exists(path2(d, "run/loss.png")));
}

/* Every tensor of checkpoint `got` (fp32) equals the same tensor of `want` (any float dtype) converted to fp32. */
static int same_weights(const char *got_dir, const char *want_dir, char *why, size_t why_len) {
    struct st_set g, w;
    if (st_open_dir(&g, got_dir) != 0) { snprintf(why, why_len, "%s", olmo_errmsg()); return 0; }
    if (st_open_dir(&w, want_dir) != 0) { st_close(&g); snprintf(why, why_len, "%s", olmo_errmsg()); return 0; }
    int ok = 1;
    for (int64_t i = 0; ok && i < w.n_tensors; i++) {
        const struct st_tensor *tw = &w.tensors[i], *tg = st_find(&g, tw->name);
        if (!tg || tg->numel != tw->numel || tg->dtype != ST_F32) {
            snprintf(why, why_len, "%s missing or different in %s", tw->name, got_dir);
            ok = 0;
            break;
        }
        for (int64_t j = 0; ok && j < tw->numel; j++) {
            float want;
            if (tw->dtype == ST_F32) want = ((const float *)tw->data)[j];
            else {
                uint16_t h;
                memcpy(&h, (const uint8_t *)tw->data + 2 * j, 2);
                union { uint32_t u; float f; } v = {.u = (uint32_t)h << 16};
                want = v.f;   /* bf16 (the only 16-bit dtype among the fixtures) */
            }
            if (((const float *)tg->data)[j] != want) {
                snprintf(why, why_len, "%s[%lld]: %g, expected %g", tw->name, (long long)j,
                         ((const float *)tg->data)[j], want);
                ok = 0;
            }
        }
    }
    if (ok && g.n_tensors != w.n_tensors) {
        snprintf(why, why_len, "%lld tensors written, %lld in the source", (long long)g.n_tensors, (long long)w.n_tensors);
        ok = 0;
    }
    st_close(&g);
    st_close(&w);
    return ok;
}

TEST(train_init_from_hf_checkpoints) {
    /* The model helper's PyTorch-made HF fixtures (olmo / olmo2 / llama, bf16 and fp32, tied, GQA, sharded):
     * --init-from with learning rate 0 must reproduce their weights exactly (bf16 -> fp32 is exact), and the
     * written checkpoint must say the same architecture. */
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    static const char *fx[] = {"olmo1_bf16_untied", "olmo1_f32_tied_clip", "olmo2_bf16_gqa_sharded", "llama_bf16_tied",
                               "llama_f32_gqa"};
    const char *d = th_tmpdir();
    char path[800];
    snprintf(path, sizeof path, "%s/data.bin", d);
    FILE *fp = fopen(path, "wb");
    CHECK(fp);
    for (int i = 0; i < 4096; i++) fputc((i * 37 + i / 5) % 96, fp);   /* the fixtures' vocabulary is 96 */
    fclose(fp);
    CHECK(write_config(d, "c.yaml", NULL) == 0);
    for (size_t k = 0; k < sizeof fx / sizeof *fx; k++) {
        char src[300], out[800];
        snprintf(src, sizeof src, "tests/fixtures/model/%s", fx[k]);
        if (!olmo_file_exists(src)) SKIP("fixture %s absent", src);
        snprintf(out, sizeof out, "%s/run-%s", d, fx[k]);
        int rc = run("'%s' train %s/c.yaml -q --init-from %s --optimizer.learning_rate=0 --max_duration=1 "
                     "--save_folder=%s 2>%s/log-%s", olmo, d, src, out, d, fx[k]);
        CHECK_MSG(rc == 0, "%s: olmo train --init-from failed (see %s/log-%s)", fx[k], d, fx[k]);
        char why[512] = "";
        CHECK_MSG(same_weights(path2(out, "step-1"), src, why, sizeof why), "%s: %s", fx[k], why);
        struct olmo_config a, b;
        CHECK(hf_config_load(&a, path2(src, "config.json")) == 0);
        CHECK(hf_config_load(&b, path2(out, "step-1/config.json")) == 0);
        CHECK_MSG(a.arch == b.arch && a.tie_embeddings == b.tie_embeddings && a.n_kv_heads == b.n_kv_heads &&
                  a.clip_qkv == b.clip_qkv && a.norm_type == b.norm_type, "%s: config.json differs", fx[k]);
    }
}

/* Field `key` of the JSON line of step `step` in a metrics.jsonl; NAN when absent. */
static double metric_at(const char *jsonl_path, int64_t step, const char *key) {
    char *txt = olmo_read_file(jsonl_path, NULL);
    double v = NAN;
    for (char *line = txt; line && *line;) {
        char *nl = strchr(line, '\n');
        json_error_t err;
        json_t *o = json_loadb(line, nl ? (size_t)(nl - line) : strlen(line), 0, &err);
        if (o && json_integer_value(json_object_get(o, "step")) == step) v = json_number_value(json_object_get(o, key));
        json_decref(o);
        if (!nl) break;
        line = nl + 1;
    }
    free(txt);
    return v;
}

TEST(train_loss_normalisation_and_microbatches) {
    /* OLMo's old-trainer normalisation (spec §2e): Σ CE over the labelled positions / (B·T), T positions per
     * instance of which T−1 have a target. At initialisation (std 0.02: logits ≈ 0) CE ≈ ln 256 per labelled
     * position, so step 1 logs ≈ ln(256)·31/32 = 5.372 — not ln 256 = 5.545 (a per-token mean) and not 4× it
     * (a per-micro-batch denominator). Then: micro-batches of 2 and of 8 instances are the same optimisation
     * (the accumulation is an exact sum up to rounding): same step-1 loss and gradient norm, same parameters. */
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    CHECK(write_data(d) == 0);
    CHECK(write_config(d, "c.yaml", NULL) == 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --max_duration=6 --device_train_microbatch_size=2 --save_folder=%s/m2 "
                     "2>%s/log2", olmo, d, d, d), 0);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --max_duration=6 --device_train_microbatch_size=8 --save_folder=%s/m8 "
                     "2>%s/log8", olmo, d, d, d), 0);
    double ce2 = metric_at(path2(d, "m2/metrics.jsonl"), 1, "ce_loss"), ce8 = metric_at(path2(d, "m8/metrics.jsonl"), 1, "ce_loss");
    CHECK_NEAR(ce2, log(256.0) * 31.0 / 32.0, 0.02);
    CHECK_NEAR(ce2, ce8, 1e-6 * ce2);
    double g2 = metric_at(path2(d, "m2/metrics.jsonl"), 1, "grad_norm"), g8 = metric_at(path2(d, "m8/metrics.jsonl"), 1, "grad_norm");
    CHECK_NEAR(g2, g8, 1e-5 * g2);
    double rel = 0, mx = 0;
    CHECK(param_diff(path2(d, "m2/step-6"), path2(d, "m8/step-6"), &rel, &mx) == 0);
    CHECK_MSG(rel < 1e-4 && mx < 1e-3, "micro-batch 2 vs 8: relative L2 %g, largest %g", rel, mx);
}

TEST(train_resume_bf16_is_bit_identical) {
    /* precision amp_bf16 (the official configs): bf16 matrix products through oneDNN, fp32 master weights. The
     * products are deterministic for fixed shapes and threads, so resume is bit-exact here too. */
    const char *olmo = olmo_bin();
    if (!olmo) SKIP("$OLMO (the olmo binary) not set: run through tests/run.sh");
    const char *d = th_tmpdir();
    CHECK(write_data(d) == 0);
    CHECK(write_config(d, "c.yaml", NULL) == 0);
    if (run("'%s' train %s/c.yaml -q --precision=amp_bf16 --save_folder=%s/a 2>%s/log", olmo, d, d, d) != 0) {
        char *log = olmo_read_file(path2(d, "log"), NULL);
        int no_bf16 = log && (strstr(log, "oneDNN") || strstr(log, "bf16"));
        free(log);
        if (no_bf16) SKIP("no bf16 matrix products on this machine");
        CHECK_MSG(0, "bf16 training failed: see %s/log", d);
    }
    CHECK_EQ_INT(run("OLMO_TEST_KILL_AFTER_STEP=6 '%s' train %s/c.yaml -q --precision=amp_bf16 --save_folder=%s/b 2>>%s/log", olmo, d, d, d),
                 128 + 9);
    CHECK_EQ_INT(run("'%s' train %s/c.yaml -q --precision=amp_bf16 --save_folder=%s/b --resume 2>>%s/log", olmo, d, d, d), 0);
    CHECK(files_equal(path2(d, "a/step-12/model.safetensors"), path2(d, "b/step-12/model.safetensors")));
    CHECK(files_equal(path2(d, "a/step-12/optim.safetensors"), path2(d, "b/step-12/optim.safetensors")));
}
