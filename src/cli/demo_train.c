/* demo_train.c — the main job's training run: how big a model and how many steps fit this machine's time budget
 * (measured, not guessed: machines differ by 10x and a shared one changes by the minute), and the OLMo YAML. */
#include "cli/demo.h"
#include "base/error.h"
#include "base/file.h"
#include "base/log.h"
#include "base/mem.h"
#include "train/optim.h"
#include "train/train_model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Times training steps of z's model on synthetic tokens: tokens per second, or -1. The first step warms up. */
static double calibrate(const struct demo_size *z, enum train_precision prec) {
    struct olmo_config c = {.arch = ARCH_OLMO2, .norm_type = NORM_RMSNORM, .norm_after = 1, .qk_norm = 1,
                            .d_model = z->d_model, .n_layers = z->n_layers, .n_heads = z->n_heads,
                            .n_kv_heads = z->n_heads, .head_dim = z->d_model / z->n_heads, .d_ff = 4 * z->d_model,
                            .vocab_size = z->vocab, .max_seq_len = z->seq, .rope_theta = 500000.0f,
                            .norm_eps = 1e-6f, .bos_token_id = -1, .eos_token_id = 0, .pad_token_id = 1};
    struct train_model *m = train_model_create(&c, z->micro, z->seq, prec);
    int32_t *in = olmo_malloc(sizeof(int32_t) * (size_t)(z->micro * z->seq));
    int32_t *tg = olmo_malloc(sizeof(int32_t) * (size_t)(z->micro * z->seq));
    double best = -1;
    if (m && in && tg && train_model_init(m, TRAIN_INIT_NORMAL, 0.02f, 3.0f, 1) == 0) {
        for (int i = 0; i < z->micro * z->seq; i++) in[i] = tg[i] = (int32_t)((i * 7919u) % (unsigned)z->vocab);
        struct optim_adamw adam = {0.9f, 0.95f, 1e-8f, 0.1f};
        struct train_loss_opts lo = {1e-5f, (double)z->micro * z->seq};
        for (int rep = 0; rep < 3; rep++) {
            double t = olmo_now();
            train_model_zero_grad(m);
            if (train_model_forward_backward(m, in, tg, z->micro, z->seq, &lo, NULL) != 0) { best = -1; break; }
            optim_adamw_step(m, &adam, 1e-3, rep + 1);
            double tps = (double)(z->micro * z->seq) / (olmo_now() - t);
            if (rep > 0 && tps > best) best = tps;
        }
    }
    free(in);
    free(tg);
    train_model_free(m);
    return best;
}

int demo_size_to_budget(struct demo_size *z, double seconds) {
    /* bf16 matrix products (fp32 master weights) are faster where the CPU has bf16 units, slower where oneDNN
     * must emulate them: measure both and keep the faster */
    double tps = calibrate(z, TRAIN_PREC_FP32), tps16 = calibrate(z, TRAIN_PREC_BF16);
    olmo_err_clear();
    snprintf(z->precision, sizeof z->precision, "fp32");
    if (tps16 > 1.1 * tps) {
        tps = tps16;
        snprintf(z->precision, sizeof z->precision, "amp_bf16");
    }
    if (tps <= 0) return olmo_err("the demo model could not run a training step on this machine");
    z->calibrated_tokens_per_s = tps;
    /* the in-loop evaluations take time too: about 5 % of it at one evaluation per tenth of the run */
    double steps = 0.95 * seconds * tps / (double)(z->batch * z->seq);
    z->steps = steps < 40 ? 40 : steps > 20000 ? 20000 : (int)steps;
    z->warmup = z->steps / 20 > 0 ? z->steps / 20 : 1;
    z->eval_interval = z->steps / 8 > 0 ? z->steps / 8 : 1;   /* 8 points on the eval curves, ~10 s each */
    return 0;
}

int demo_write_train_config(const char *path, const char *out, const struct demo_size *z, int eos, int pad,
                            int n_heldout, const char *const *heldout_names, const char *const *heldout_files,
                            const char *task_file) {
    struct olmo_atomic_file af;
    if (olmo_atomic_open(&af, path) != 0) return -1;
    FILE *fp = af.fp;
    int vocab = (z->vocab + 127) / 128 * 128;   /* embedding rows padded to 128, as OLMo's embedding_size */
    fprintf(fp,
            "# Written by `olmo demo`: a small OLMo-2 (RMSNorm after each sublayer, QK-norm, z-loss) on the curated\n"
            "# Debian corpus. `olmo train %s` runs it again as it is.\n"
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
            "data:\n  paths: [%s/tokens/*.npy]\n  memmap_dtype: uint16\n  drop_last: true\n"
            "tokenizer:\n  identifier: %s/tokenizer.json\n"
            "save_folder: %s/run\nsave_overwrite: true\nsave_interval: %d\n",
            path, z->d_model, z->n_heads, z->n_layers, z->seq, vocab, vocab, eos, pad, z->lr, z->warmup, z->steps,
            z->batch, z->micro, z->precision, out, out, out, z->steps / 2 > 0 ? z->steps / 2 : 1);
    if (n_heldout > 0) {
        /* held-out documents of every source, scored as `olmo eval ppl` scores them (bits per byte per source),
         * and the multiple-choice task, during training */
        fprintf(fp, "eval_interval: %d\nevaluators:\n  - label: heldout\n    type: lm\n    data:\n      datasets:\n",
                z->eval_interval);
        for (int i = 0; i < n_heldout; i++) fprintf(fp, "        %s: [%s]\n", heldout_names[i], heldout_files[i]);
        /* a downstream evaluator's label is the task: a name `olmo eval tasks --list` knows, or a task file */
        if (task_file) fprintf(fp, "  - label: %s\n    type: downstream\n    limit: 100\n", task_file);
    }
    return olmo_atomic_commit(&af);
}
