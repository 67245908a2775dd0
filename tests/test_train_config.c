/* test_train_config.c — OLMo's training YAMLs mapped to olmo_config + train_config: the six official configs in
 * ../shared/data/olmo-configs load as they are (their values checked against the spec's §0 / §2g tables), the
 * presets in configs/ load, overrides apply, ignored keys are listed once, and unsupported values or unknown keys
 * are refused naming key and line. */
#include "harness.h"
#include "train/train_config.h"
#include "formats/yaml_config.h"
#include "base/error.h"
#include "base/file.h"

#include <stdlib.h>
#include <string.h>

static int load_official(struct train_config *tc, const char *name, char *buf, size_t cap) {
    char rel[256];
    snprintf(rel, sizeof rel, "olmo-configs/%s", name);
    const char *p = th_shared(rel, buf, cap);
    if (!p) return 1;
    char *ov[] = {"--data.paths=[/tmp/none-a.npy,/tmp/none-b.npy]"};
    unsetenv("SLURM_JOB_ID");
    unsetenv("SCRATCH_DIR");
    return train_config_load(tc, p, 1, ov, 1) < 0 ? -1 : 0;
}

TEST(official_olmo2_1b_stage1_loads_with_its_values) {
    struct train_config tc;
    char buf[1024];
    int r = load_official(&tc, "OLMo2-1B-stage1.yaml", buf, sizeof buf);
    if (r == 1) SKIP("../shared/data/olmo-configs not found");
    CHECK_MSG(r == 0, "%s", olmo_errmsg());
    const struct olmo_config *m = &tc.model;
    CHECK(m->arch == ARCH_OLMO2 && m->norm_type == NORM_RMSNORM && m->norm_after && m->qk_norm);
    CHECK(m->d_model == 2048 && m->n_heads == 16 && m->n_kv_heads == 16 && m->n_layers == 16 && m->head_dim == 128);
    CHECK(m->d_ff == 8192 && m->vocab_size == 100352 && tc.tokenizer_vocab_size == 100278);
    CHECK(m->max_seq_len == 4096 && m->rope_theta == 500000.0f && m->norm_eps == 1e-6f && !m->tie_embeddings);
    CHECK(m->eos_token_id == 100257 && m->pad_token_id == 100277 && m->clip_qkv == 0);
    CHECK(tc.init_fn == TRAIN_INIT_NORMAL && tc.init_std == 0.02 && tc.init_cutoff_factor == 3);
    CHECK(tc.lr == 4e-4 && tc.beta1 == 0.9 && tc.beta2 == 0.95 && tc.eps == 1e-8 && tc.weight_decay == 0.1);
    CHECK(tc.decay_norm_and_bias == 1 && tc.decay_embeddings == 0);
    CHECK(tc.sched == TRAIN_SCHED_COSINE && tc.units == TRAIN_UNITS_TOKENS && tc.t_warmup == 8388608000.0);
    CHECK(tc.t_max == 5e12 && tc.alpha_f == 0.1 && tc.warmup_min_lr == 0 && tc.warmup_min_lr_set);
    CHECK(tc.softmax_auxiliary_loss && tc.auxiliary_loss_multiplier == 1e-5);
    CHECK(tc.duration_unit == TRAIN_DUR_TOKENS && tc.max_duration == 4000000000000LL);
    CHECK(tc.global_train_batch_size == 512 && tc.device_train_microbatch_size == 4 && tc.max_grad_norm == 1.0);
    CHECK(tc.seed == 6198 && tc.data_seed == 6198 && tc.drop_last && tc.memmap_dtype_bytes == 4);
    CHECK(tc.instance_filter && tc.rep_min_period == 1 && tc.rep_max_period == 13 && tc.rep_max_count == 32);
    CHECK(tc.n_data_paths == 2 && !strcmp(tc.data_paths[1], "/tmp/none-b.npy"));
    CHECK(!strcmp(tc.tokenizer_identifier, "tokenizers/allenai_dolma2.json"));
    CHECK(!strcmp(tc.save_folder, "http://olmo-data.org/checkpoints/OLMo-small/OLMo2-1B-stage1"));
    CHECK(tc.save_interval == 1000 && tc.eval_interval == 1000 && tc.load_path == NULL);
    CHECK(!strcmp(tc.precision, "amp_bf16"));
    /* 4e12 tokens at 512 x 4096 tokens per step: OLMo's ceil */
    CHECK(train_config_tokens_per_step(&tc) == 2097152);
    CHECK(train_config_max_steps(&tc, 0) == 1907349);
    CHECK(train_config_t_max(&tc, 0) == 5e12);
    /* ignored keys: listed, each once */
    CHECK(strstr(tc.ignored, "fsdp") && strstr(tc.ignored, "wandb") && strstr(tc.ignored, "compile"));
    CHECK(strstr(tc.ignored, "model.flash_attention") && strstr(tc.ignored, "data.num_workers"));
    const char *f = strstr(tc.ignored, "fsdp");
    CHECK(!strstr(f + 1, "fsdp"));
    train_config_free(&tc);
}

TEST(official_olmo1_1b_loads_with_its_values) {
    struct train_config tc;
    char buf[1024];
    int r = load_official(&tc, "OLMo-1B.yaml", buf, sizeof buf);
    if (r == 1) SKIP("../shared/data/olmo-configs not found");
    CHECK_MSG(r == 0, "%s", olmo_errmsg());
    const struct olmo_config *m = &tc.model;
    CHECK(m->arch == ARCH_OLMO1 && m->norm_type == NORM_LAYERNORM_NOAFFINE && !m->norm_after && !m->qk_norm);
    CHECK(m->tie_embeddings && m->d_ff == 8192 && m->vocab_size == 50304 && m->eos_token_id == 50279);
    CHECK(m->norm_eps == 1e-5f && m->rope_theta == 10000.0f && m->max_seq_len == 2048);
    CHECK(tc.init_fn == TRAIN_INIT_MITCHELL);
    CHECK(tc.eps == 1e-5 && tc.decay_norm_and_bias == 0 && tc.decay_embeddings == 0);   /* OLMo's defaults */
    /* warmup_min_lr unset: OLMo-1 warms up from 10 % of the peak */
    CHECK(!tc.warmup_min_lr_set && tc.warmup_min_lr == 0.1 * 4e-4);
    CHECK(tc.units == TRAIN_UNITS_STEPS && tc.t_warmup == 2000 && tc.t_max == 0);
    CHECK(tc.duration_unit == TRAIN_DUR_STEPS && tc.max_duration == 739328);   /* 739_328 */
    CHECK(train_config_t_max(&tc, 0) == 739328);
    CHECK(!tc.softmax_auxiliary_loss && tc.memmap_dtype_bytes == 2 && !tc.instance_filter);
    /* ${path.choose:${oc.env:SCRATCH_DIR,no_exist}/checkpoints,/results}/${oc.env:SLURM_JOB_ID,${run_name}} */
    CHECK(tc.save_folder && strstr(tc.save_folder, "/OLMo-1B"));
    CHECK(tc.eval_interval == 1000);   /* ${save_interval} */
    train_config_free(&tc);
}

TEST(official_olmo1_7b_0724_olmo2_7b_and_tiny_load) {
    struct train_config tc;
    char buf[1024];
    int r = load_official(&tc, "OLMo-7B-0724.yaml", buf, sizeof buf);
    if (r == 1) SKIP("../shared/data/olmo-configs not found");
    CHECK_MSG(r == 0, "%s", olmo_errmsg());
    CHECK(tc.model.arch == ARCH_OLMO1 && tc.model.clip_qkv == 8.0f && tc.model.d_ff == 11008);
    CHECK(tc.duration_unit == TRAIN_DUR_EPOCHS && tc.max_duration == 2);
    CHECK(tc.grad_clip_warmup_steps == 2097152000.0 && tc.grad_clip_warmup_factor == 5);
    CHECK(train_config_max_steps(&tc, 1000) == 2000);
    CHECK(train_config_t_max(&tc, 1000) == 3e12);
    train_config_free(&tc);

    r = load_official(&tc, "OLMo2-7B-stage1.yaml", buf, sizeof buf);
    CHECK_MSG(r == 0, "%s", olmo_errmsg());
    CHECK(tc.model.arch == ARCH_OLMO2 && tc.model.d_model == 4096 && tc.model.d_ff == 11008 && tc.model.n_layers == 32);
    CHECK(tc.duration_unit == TRAIN_DUR_EPOCHS && tc.max_duration == 1 && tc.global_train_batch_size == 1024);
    CHECK(tc.save_folder && !strcmp(tc.save_folder, "./"));   /* absent: OLMo's default */
    train_config_free(&tc);

    for (int i = 0; i < 2; i++) {
        r = load_official(&tc, i ? "OLMo-60M.yaml" : "OLMo-20M.yaml", buf, sizeof buf);
        CHECK_MSG(r == 0, "%s", olmo_errmsg());
        CHECK(tc.model.arch == ARCH_LLAMA && tc.model.norm_type == NORM_RMSNORM && !tc.model.norm_after);
        CHECK(tc.stop_at == 406934 && tc.duration_unit == TRAIN_DUR_EPOCHS);
        CHECK(train_config_max_steps(&tc, 1000000) == 406934);
        CHECK(strstr(tc.ignored, "ddp") && strstr(tc.ignored, "distributed_strategy"));
        train_config_free(&tc);
    }
}

TEST(official_configs_load_without_overrides_too) {
    static const char *names[] = {"OLMo-1B.yaml", "OLMo-20M.yaml", "OLMo-60M.yaml", "OLMo-7B-0724.yaml",
                                  "OLMo2-1B-stage1.yaml", "OLMo2-7B-stage1.yaml"};
    for (size_t i = 0; i < 6; i++) {
        char rel[256], buf[1024];
        snprintf(rel, sizeof rel, "olmo-configs/%s", names[i]);
        const char *p = th_shared(rel, buf, sizeof buf);
        if (!p) SKIP("../shared/data/olmo-configs not found");
        struct train_config tc;
        CHECK_MSG(train_config_load(&tc, p, 0, NULL, 1) == 0, "%s: %s", names[i], olmo_errmsg());
        CHECK(tc.n_data_paths > 100);   /* the remote file lists are kept as they are */
        train_config_free(&tc);
    }
}

TEST(presets_load) {
    static const char *names[] = {"configs/olmo2-tiny.yaml", "configs/olmo2-20m.yaml", "configs/olmo1-tiny.yaml",
                                  "configs/llama-tiny.yaml"};
    static const enum olmo_arch arch[] = {ARCH_OLMO2, ARCH_OLMO2, ARCH_OLMO1, ARCH_LLAMA};
    for (size_t i = 0; i < 4; i++) {
        struct train_config tc;
        CHECK_MSG(train_config_load(&tc, names[i], 0, NULL, 1) == 0, "%s: %s", names[i], olmo_errmsg());
        CHECK(tc.model.arch == arch[i]);
        CHECK(tc.n_data_paths == 1 && tc.memmap_dtype_bytes == 2 && tc.model.vocab_size == 50304);
        CHECK(tc.ignored[0] == 0);   /* presets carry no GPU-only keys */
        train_config_free(&tc);
    }
    struct train_config tc;
    CHECK(train_config_load(&tc, "configs/llama-tiny.yaml", 0, NULL, 1) == 0);
    CHECK(tc.model.n_kv_heads == 2 && tc.model.d_ff == 192);
    train_config_free(&tc);
    CHECK(train_config_load(&tc, "configs/olmo1-tiny.yaml", 0, NULL, 1) == 0);
    CHECK(tc.eval_interval == 100 && !strcmp(tc.save_folder, "runs/olmo1-tiny"));
    train_config_free(&tc);
}

TEST(overrides_shrink_a_config) {
    struct train_config tc;
    char *ov[] = {"--model.d_model=256", "--model.n_heads=4", "--global_train_batch_size=8",
                  "--device_train_microbatch_size=4", "--max_duration=2e6T", "--data.paths=[a.npy, b.npy, c.npy]",
                  "--optimizer.learning_rate=1e-3", "--run_name=mine"};
    CHECK(train_config_load(&tc, "configs/olmo2-tiny.yaml", 8, ov, 1) == 0);
    CHECK(tc.model.d_model == 256 && tc.model.head_dim == 64 && tc.model.d_ff == 1024);
    CHECK(tc.global_train_batch_size == 8 && tc.device_train_microbatch_size == 4);
    CHECK(tc.duration_unit == TRAIN_DUR_TOKENS && tc.max_duration == 2000000);
    CHECK(train_config_max_steps(&tc, 0) == (2000000 + 8 * 256 - 1) / (8 * 256));
    CHECK(tc.n_data_paths == 3 && tc.lr == 1e-3);
    CHECK(!strcmp(tc.save_folder, "runs/mine"));   /* the override feeds interpolation */
    train_config_free(&tc);
}

static int load_text(struct train_config *tc, const char *text) {
    struct ycfg c;
    if (ycfg_load_string(&c, text, "cfg.yaml") < 0) return -1;
    int rc = ycfg_resolve(&c);
    if (rc == 0) rc = train_config_from_tree(tc, &c);
    ycfg_free(&c);
    return rc;
}

#define GOOD_MODEL                                                                                               \
    "model:\n  d_model: 64\n  n_heads: 4\n  n_layers: 2\n  rope: true\n  include_bias: false\n"               \
    "  attention_dropout: 0.0\n  residual_dropout: 0.0\n  embedding_dropout: 0.0\n  layer_norm_type: rms\n"   \
    "  max_sequence_length: 32\n  vocab_size: 100\n  embedding_size: 128\n  eos_token_id: 0\n"
#define GOOD_OPT "optimizer:\n  name: adamw\n"

TEST(minimal_config_and_defaults) {
    struct train_config tc;
    CHECK_MSG(load_text(&tc, GOOD_MODEL GOOD_OPT) == 0, "%s", olmo_errmsg());
    CHECK(tc.model.arch == ARCH_LLAMA && tc.model.d_ff == 128);   /* mlp_ratio 4 -> 256 -> 128 */
    CHECK(tc.lr == 1e-4 && tc.weight_decay == 0.01 && tc.eps == 1e-5);
    CHECK(tc.sched == TRAIN_SCHED_COSINE && tc.t_warmup == 100 && tc.alpha_f == 0.1);
    CHECK(tc.max_duration == 10000 && tc.global_train_batch_size == 512 && tc.device_train_microbatch_size == 16);
    CHECK(tc.seed == 6198 && tc.memmap_dtype_bytes == 2 && !tc.drop_last && tc.auxiliary_loss_multiplier == 1e-4);
    CHECK(tc.save_interval == 1000 && !strcmp(tc.save_folder, "./") && tc.n_data_paths == 0);
    train_config_free(&tc);
}

/* issue 8: every OLMo scheduler name parses; WSD's keys are read; inverse-sqrt without warm-up is refused */
TEST(scheduler_names_and_wsd_keys) {
    struct train_config tc;
    static const char *const names[] = {"constant", "constant_with_warmup", "cosine_with_warmup",
                                        "linear_with_warmup", "inverse_sqrt_with_warmup", "max_scheduler",
                                        "cosine_linear_envelope", "wsd"};
    char buf[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        snprintf(buf, sizeof buf, GOOD_MODEL GOOD_OPT "scheduler:\n  name: %s\n", names[i]);
        CHECK_MSG(load_text(&tc, buf) == 0, "%s: %s", names[i], olmo_errmsg());
        train_config_free(&tc);
    }
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "scheduler:\n  name: wsd\n  decay: 50\n  decay_min_lr: 1.0e-6\n") == 0);
    CHECK(tc.sched == TRAIN_SCHED_WSD && tc.decay == 50 && tc.decay_min_lr == 1e-6 && tc.decay_fraction == 0.1);
    CHECK(tc.warmup_min_lr == 0.0);   /* OLMo-core's default, not the old trainer's 0.1·lr */
    train_config_free(&tc);
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "scheduler:\n  name: inverse_sqrt_with_warmup\n  t_warmup: 0\n") < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "scheduler.t_warmup"), "%s", olmo_errmsg());
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "scheduler:\n  name: cosine\n") < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "constant_with_warmup"), "%s", olmo_errmsg());
}

TEST(unsupported_values_refused_naming_key_and_line) {
    struct train_config tc;
    CHECK(load_text(&tc, GOOD_MODEL "  alibi: true\n" GOOD_OPT) < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "cfg.yaml:15: model.alibi: true is not supported"), "%s", olmo_errmsg());
    CHECK(load_text(&tc, GOOD_MODEL "  foo: 1\n" GOOD_OPT) < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "cfg.yaml:15: unknown key 'model.foo'"), "%s", olmo_errmsg());
    CHECK(load_text(&tc, GOOD_MODEL "optimizer:\n  name: lionw\n") < 0);
    CHECK_MSG(strstr(olmo_errmsg(), "cfg.yaml:16: optimizer.name: 'lionw' is not supported"), "%s", olmo_errmsg());
    CHECK(load_text(&tc, "model:\n  d_model: 64\n  rope: true\n" GOOD_OPT) < 0);   /* dropout default 0.1 */
    CHECK_MSG(strstr(olmo_errmsg(), "cfg.yaml:1: model.include_bias (absent, so OLMo's default applies)"), "%s",
              olmo_errmsg());
    CHECK(load_text(&tc, GOOD_MODEL "  attention_dropout: 0.1\n" GOOD_OPT) < 0);
    CHECK(strstr(olmo_errmsg(), "duplicate key"));   /* GOOD_MODEL sets it already: YAML-level error */
    CHECK(load_text(&tc, GOOD_MODEL "  activation_type: gelu\n" GOOD_OPT) < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:15: model.activation_type: 'gelu'"));
    CHECK(load_text(&tc, GOOD_MODEL "  norm_after: true\n" GOOD_OPT) < 0);
    CHECK(strstr(olmo_errmsg(), "model.attention_layer_norm"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "max_duration: soon\n") < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:17: max_duration: expected steps"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "data:\n  memmap_dtype: int16\n") < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:18: data.memmap_dtype: 'int16'"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "scheduler:\n  name: polynomial\n") < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:18: scheduler.name"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "max_grad_norm_ratio: 1.0\n") < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:17: max_grad_norm_ratio"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "global_train_batch_size: -4\n") < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:17: global_train_batch_size: must be a positive integer"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "optimizer2: {}\n") < 0);
    CHECK(strstr(olmo_errmsg(), "unknown key 'optimizer2'"));
    CHECK(load_text(&tc, GOOD_MODEL GOOD_OPT "data:\n  generate_doc_lengths: true\n") < 0);
    CHECK(strstr(olmo_errmsg(), "data.generate_doc_lengths"));
    CHECK(load_text(&tc, "model:\n  d_model: 12\n  n_heads: 4\n  n_layers: 2\n  rope: true\n  include_bias: false\n"
                         "  attention_dropout: 0.0\n  residual_dropout: 0.0\n  embedding_dropout: 0.0\n" GOOD_OPT) < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:3: model.n_heads: the head size d_model / n_heads = 3 must be even"));
    CHECK(load_text(&tc, GOOD_MODEL "  n_kv_heads: 3\n" GOOD_OPT) < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:15: model.n_kv_heads: n_heads 4 is not a multiple of n_kv_heads 3"));
}

TEST(data_datasets_sorted_and_globs_expanded) {
    const char *dir = th_tmpdir();
    char text[2048];
    for (int i = 0; i < 3; i++) {
        char name[64];
        snprintf(name, sizeof name, "part-%d.npy", 2 - i);
        char *p = olmo_path_join(dir, name);
        CHECK(olmo_write_file_atomic(p, "ab", 2) == 0);
        free(p);
    }
    snprintf(text, sizeof text, GOOD_MODEL GOOD_OPT
             "data:\n  datasets:\n    zeta: [z1.npy, z2.npy]\n    alpha:\n      - a1.npy\n    mid: %s/part-*.npy\n", dir);
    struct train_config tc;
    CHECK_MSG(load_text(&tc, text) == 0, "%s", olmo_errmsg());
    CHECK(tc.n_data_paths == 6);
    CHECK(!strcmp(tc.data_paths[0], "a1.npy") && strstr(tc.data_paths[1], "part-0.npy") &&
          strstr(tc.data_paths[3], "part-2.npy") && !strcmp(tc.data_paths[5], "z2.npy"));
    train_config_free(&tc);
    snprintf(text, sizeof text, GOOD_MODEL GOOD_OPT "data:\n  paths:\n    - %s/nothing-*.npy\n", dir);
    CHECK(load_text(&tc, text) < 0);
    CHECK(strstr(olmo_errmsg(), "cfg.yaml:19: data.paths.0: the pattern") && strstr(olmo_errmsg(), "matches no file"));
}
